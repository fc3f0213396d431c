//! The writer: the one thread that owns the board. Submissions queue up for it and are
//! committed in groups — one state-machine batch, one `fdatasync`, one signed checkpoint —
//! and cosignatures the pusher gathers are recorded between groups. After every change it
//! publishes a new [`View`] (before any receipt of the change is sent), so readers never wait
//! for it, and it wakes the pusher.

use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::{mpsc, oneshot};
use urna_ledger::note::Receipt;

use crate::board::{Board, SubmitError, View};

/// Most submissions committed together (one state-machine batch, one fdatasync).
pub const MAX_GROUP: usize = 512;
/// Submissions waiting for the writer before new ones are refused with 503.
pub const QUEUE: usize = 8192;

pub(super) type Reply = oneshot::Sender<Result<Receipt, SubmitError>>;

/// What the writer is asked to do.
pub(super) enum Job {
    /// Admit an entry and answer with its receipt.
    Submit(Vec<u8>, Reply),
    /// Record witnesses' cosignature lines on a checkpoint the board signed.
    Cosignatures { note: String, lines: String },
    /// The test hook's (`super::test_hook`): append without the rules.
    ForceAppend(Vec<u8>, oneshot::Sender<Result<u64, String>>),
}

/// Starts the writer (and the witness pusher it wakes) on `board`; returns its queue and a
/// receiver that yields the storage error it stops on.
pub(super) fn spawn(
    mut board: Board,
    view: Arc<ArcSwap<View>>,
) -> (mpsc::Sender<Job>, oneshot::Receiver<std::io::Error>) {
    let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
    let (fatal_tx, fatal_rx) = oneshot::channel();
    let (wake, woken) = std::sync::mpsc::channel::<()>();
    super::pusher::spawn(
        Arc::clone(&view),
        board.shared_tree(),
        jobs.downgrade(),
        woken,
    );
    // Cosign what is on disk already (after a restart), then every new checkpoint.
    let _ = wake.send(());
    std::thread::spawn(move || {
        while let Some(first) = queue.blocking_recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match queue.try_recv() {
                    Ok(j) => group.push(j),
                    Err(_) => break,
                }
            }
            let mut bodies = Vec::new();
            let mut replies = Vec::new();
            for job in group {
                match job {
                    Job::Submit(body, reply) => {
                        bodies.push(body);
                        replies.push(reply);
                    }
                    Job::Cosignatures { note, lines } => {
                        // Failing to store it durably is not fatal to admission: the pusher
                        // asks again with the next checkpoint.
                        let _ = board.record_cosignatures(&note, &lines);
                    }
                    Job::ForceAppend(raw, reply) => {
                        let r = board.force_append_for_test_hook(&raw);
                        view.store(Arc::new(board.view()));
                        let _ = wake.send(());
                        let _ = reply.send(r.map_err(|e| e.to_string()));
                    }
                }
            }
            if bodies.is_empty() {
                view.store(Arc::new(board.view()));
                continue;
            }
            match board.submit(&bodies) {
                Ok(results) => {
                    view.store(Arc::new(board.view()));
                    let _ = wake.send(());
                    for (reply, r) in replies.into_iter().zip(results) {
                        let _ = reply.send(r);
                    }
                }
                Err(e) => {
                    // The replies are dropped unanswered: their handlers say 503.
                    let _ = fatal_tx.send(e);
                    return;
                }
            }
        }
    });
    (jobs, fatal_rx)
}
