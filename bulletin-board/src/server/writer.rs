//! The writer: the one thread that owns the board. Submissions queue up for it and are
//! committed in groups — one state-machine batch, one `fdatasync`, one signed checkpoint —
//! and cosignatures the pusher gathers are recorded between groups. After every change it
//! publishes a new [`View`] (before any receipt of the change is sent), so readers never wait
//! for it, and it wakes the pusher.

use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use tokio::sync::{mpsc, oneshot};
use urna_election::entry::Entry;
use urna_election::state::{Preverified, ProofCheck};
use urna_ledger::note::Receipt;

use crate::board::{Board, SubmitError, View};

/// Most submissions committed together (one state-machine batch, one fdatasync).
pub const MAX_GROUP: usize = 512;
/// Submissions waiting for the writer before new ones are refused with 503.
pub const QUEUE: usize = 8192;

pub(super) type Reply = oneshot::Sender<Result<Receipt, SubmitError>>;

/// A submission as the writer gets it.
pub(super) struct Submission {
    /// The entry, decoded where it was read; the bytes of one that does not decode.
    pub(super) entry: Result<Entry, Vec<u8>>,
    /// Its signature and ballot proofs were verified by another process of this board, which
    /// attested it (`specs/storage.md` §5a).
    pub(super) verified: bool,
    /// The client's address (the connection's, or the one a valid attestation names), if known.
    pub(super) client: Option<std::net::IpAddr>,
}

impl Submission {
    /// The bytes submitted.
    pub(super) fn bytes(&self) -> &[u8] {
        match &self.entry {
            Ok(e) => e.bytes(),
            Err(raw) => raw,
        }
    }
}

/// What the writer is asked to do. (Nearly every job is a submission, so boxing it to shrink
/// the rare others would only add an allocation to each.)
#[allow(clippy::large_enum_variant)]
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

/// Starts the writer (and the witness pusher it wakes) on `board`, behind a verifying stage;
/// returns the parts to serve and a receiver that yields the storage error it stops on.
///
/// The verifying stage ([`preverify`]) checks each group's signatures and ballot proofs while
/// the writer commits the group before it, so that the `fdatasync`, the rules, the index and
/// the checkpoint's signature no longer leave the cores idle between two batches of proofs.
pub(super) fn spawn_owned(
    mut board: Board,
    view: Arc<ArcSwap<View>>,
) -> (super::Live, oneshot::Receiver<std::io::Error>) {
    let (jobs, queue) = mpsc::channel::<Job>(QUEUE);
    let (fatal_tx, fatal_rx) = oneshot::channel();
    let live = super::Live::of(&board, Arc::clone(&view), jobs.clone());
    let wake = start_pusher(&board, &view, &jobs);
    std::thread::spawn(move || {
        if let Err(e) = sequence_verifying(&mut board, queue, &view, &wake) {
            let _ = fatal_tx.send(e);
        }
    });
    (live, fatal_rx)
}

/// [`sequence_checked`] behind the verifying stage ([`preverify`]), which runs on a thread of its own
/// and owns `queue`: it ends once the writer has stopped and the next job reaches it, or the
/// queue closes. The board on a file and the sequencer of a shared store both sequence so.
pub(super) fn sequence_verifying(
    board: &mut Board,
    mut queue: mpsc::Receiver<Job>,
    view: &ArcSwap<View>,
    wake: &std::sync::mpsc::Sender<()>,
) -> std::io::Result<()> {
    // At most one group verified ahead of the one the writer commits.
    let (checked_tx, mut checked) = mpsc::channel::<Job>(MAX_GROUP);
    let check: Arc<ArcSwapOption<ProofCheck>> = Arc::new(ArcSwapOption::new(
        board.election().proof_check().map(Arc::new),
    ));
    {
        let check = Arc::clone(&check);
        std::thread::spawn(move || preverify(&mut queue, &checked_tx, &check));
    }
    sequence_checked(board, &mut checked, view, wake, &check)
}

/// The next group: the first job queued (waiting for it) and up to [`MAX_GROUP`] in all of
/// those already behind it. `None` once the queue is closed.
fn next_group(queue: &mut mpsc::Receiver<Job>) -> Option<Vec<Job>> {
    let mut group = vec![queue.blocking_recv()?];
    while group.len() < MAX_GROUP {
        match queue.try_recv() {
            Ok(j) => group.push(j),
            Err(_) => break,
        }
    }
    Some(group)
}

/// The verifying stage: takes up to [`MAX_GROUP`] queued jobs at a time, verifies the
/// submissions' signatures and ballots' proofs together ([`ProofCheck::verify`], one batch on
/// all cores) and passes every job on, in order, marking verified the submissions that passed
/// — which the rules then take as valid (`Election::apply_batch_attested`), as they take a
/// forwarding process's of the same board (`specs/storage.md` §5a). A submission that fails,
/// or that could not be checked here, goes on unmarked, so that the rules judge it in full
/// and every verdict is the one they would give without this stage. Returns when either
/// queue closes (the writer stopped: the jobs still queued are dropped, and their handlers
/// answer 503).
fn preverify(
    queue: &mut mpsc::Receiver<Job>,
    out: &mpsc::Sender<Job>,
    check: &ArcSwapOption<ProofCheck>,
) {
    while let Some(mut group) = next_group(queue) {
        let check = check.load_full();
        if let Some(c) = check.as_deref() {
            // The entries to check, taken out of their submissions and put back after.
            let mut at = Vec::new();
            let mut entries = Vec::new();
            for (k, job) in group.iter_mut().enumerate() {
                if let Job::Submit(s, _) = job {
                    if s.verified || s.entry.is_err() {
                        continue;
                    }
                    if let Ok(e) = std::mem::replace(&mut s.entry, Err(Vec::new())) {
                        at.push(k);
                        entries.push(e);
                    }
                }
            }
            let verdicts = ProofCheck::verify_keeping(Some(c), &mut entries);
            for ((k, e), v) in at.into_iter().zip(entries).zip(verdicts) {
                if let Some(Job::Submit(s, _)) = group.get_mut(k) {
                    s.verified = v == Preverified::Verified;
                    s.entry = Ok(e);
                }
            }
        }
        for job in group {
            if out.blocking_send(job).is_err() {
                return;
            }
        }
    }
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
/// batch, one durable write with its checkpoint), publishing the view before any reply, and
/// publishing to `check` what the verifying stage checks ballots against once the board's
/// state has it (the key ceremony is over). Returns when the queue closes, or with the storage
/// error it stops on: the replies of that group are dropped unanswered (their handlers say
/// 503) and `board` must not be used again.
fn sequence_checked(
    board: &mut Board,
    queue: &mut mpsc::Receiver<Job>,
    view: &ArcSwap<View>,
    wake: &std::sync::mpsc::Sender<()>,
    check: &ArcSwapOption<ProofCheck>,
) -> std::io::Result<()> {
    while let Some(group) = next_group(queue) {
        let mut entries = Vec::new();
        let mut verified = Vec::new();
        let mut replies = Vec::new();
        for job in group {
            match job {
                Job::Submit(s, reply) => {
                    entries.push(s.entry);
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
        if entries.is_empty() {
            view.store(Arc::new(board.view()));
            continue;
        }
        let results = board.submit_decoded(entries, &verified)?;
        view.store(Arc::new(board.view()));
        if check.load().is_none() {
            check.store(board.election().proof_check().map(Arc::new));
        }
        let _ = wake.send(());
        for (reply, r) in replies.into_iter().zip(results) {
            let _ = reply.send(r);
        }
    }
    Ok(())
}
