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

/// A submission as the writer gets it.
pub(super) struct Submission {
    pub(super) body: Vec<u8>,
    /// Its signature and ballot proofs were verified by another process of this board, which
    /// attested it (`specs/storage.md` §5a).
    pub(super) verified: bool,
    /// The client's address (the connection's, or the one a valid attestation names), if known.
    pub(super) client: Option<std::net::IpAddr>,
}

/// What the writer is asked to do.
pub(super) enum Job {
    /// Admit an entry and answer with its receipt.
    Submit(Submission, Reply),
    /// Record witnesses' cosignature lines on a checkpoint the board signed.
    Cosignatures { note: String, lines: String },
    /// Stop sequencing (a board on a shared store that must reopen its copy of the log).
    Stop,
    /// The test hook's (`super::test_hook`): append without the rules.
    ForceAppend(Vec<u8>, oneshot::Sender<Result<u64, String>>),
}

/// Starts the writer (and the witness pusher it wakes) on `board`; returns the parts to serve
/// and a receiver that yields the storage error it stops on.
pub(super) fn spawn_owned(
    mut board: Board,
    view: Arc<ArcSwap<View>>,
) -> (super::Live, oneshot::Receiver<std::io::Error>) {
    let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
    let (fatal_tx, fatal_rx) = oneshot::channel();
    let live = super::Live::of(&board, Arc::clone(&view), jobs.clone());
    let wake = start_pusher(&board, &view, &jobs);
    std::thread::spawn(move || {
        if let Err(e) = sequence(&mut board, &mut queue, &view, &wake) {
            let _ = fatal_tx.send(e);
        }
    });
    (live, fatal_rx)
}

/// Starts the witness pusher for `board`'s checkpoints; returns what wakes it.
pub(super) fn start_pusher(
    board: &Board,
    view: &Arc<ArcSwap<View>>,
    jobs: &mpsc::Sender<Job>,
) -> std::sync::mpsc::Sender<()> {
    let (wake, woken) = std::sync::mpsc::channel::<()>();
    super::pusher::spawn(
        Arc::clone(view),
        board.shared_tree(),
        jobs.downgrade(),
        woken,
    );
    // Cosign what is stored already (after a restart), then every new checkpoint.
    let _ = wake.send(());
    wake
}

/// Sequences: takes the queued jobs in groups and commits each group (one state-machine
/// batch, one durable write with its checkpoint), publishing the view before any reply.
/// Returns when the queue closes, or with the storage error it stops on: the replies of that
/// group are dropped unanswered (their handlers say 503) and `board` must not be used again.
pub(super) fn sequence(
    board: &mut Board,
    queue: &mut mpsc::Receiver<Job>,
    view: &ArcSwap<View>,
    wake: &std::sync::mpsc::Sender<()>,
) -> std::io::Result<()> {
    while let Some(first) = queue.blocking_recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        let mut bodies = Vec::new();
        let mut verified = Vec::new();
        let mut replies = Vec::new();
        for job in group {
            match job {
                Job::Submit(s, reply) => {
                    bodies.push(s.body);
                    verified.push(s.verified);
                    replies.push(reply);
                }
                Job::Cosignatures { note, lines } => {
                    // Failing to store it durably is not fatal to admission: the pusher
                    // asks again with the next checkpoint.
                    let _ = board.record_cosignatures(&note, &lines);
                }
                Job::Stop => return Ok(()),
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
        let results = board.submit_attested(&bodies, &verified)?;
        view.store(Arc::new(board.view()));
        let _ = wake.send(());
        for (reply, r) in replies.into_iter().zip(results) {
            let _ = reply.send(r);
        }
    }
    Ok(())
}
