//! The board's core, without HTTP: admission through the election rules, group commit to the
//! durable log, checkpoints and receipts, and recovery at start.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLockReadGuard};

use thiserror::Error;
use urna_crypto::elgamal::Ciphertext;
use urna_crypto::sign::{SigningKey, VerifyingKey};
use urna_election::entry::{Entry, EntryKind, MAX_ENTRY_SIZE};
use urna_election::manifest::{Manifest, Witness};
use urna_election::payload::Payload;
use urna_election::rejection::Rejection;
use urna_election::state::{Counts, Election, Phase};

use crate::index::{Index, IndexState};
use crate::snapshot::{self, Capture, Discarded};
use urna_ledger::merkle::{Hash, Tree};
use urna_ledger::note::{Checkpoint, NoteError, Receipt};
use urna_ledger::replica::SharedTree;
use urna_ledger::store::{self, FileLog, LogStore, Statement, StoreError};
use urna_ledger::{Replica, ReplicaError};

/// A failure of the log's storage, as the I/O error the caller stops serving on.
fn store_io(e: StoreError) -> io::Error {
    match e {
        StoreError::Io(e) => e,
        e => io::Error::other(e.to_string()),
    }
}

/// Why the log could not be read back or replayed at start.
fn replay_error(e: ReplicaError) -> OpenError {
    if let Some((index, rejection)) = e.entry() {
        return OpenError::Replay { index, rejection };
    }
    match e {
        ReplicaError::Store(e) => OpenError::Store(e),
        e => OpenError::Io(io::Error::other(e.to_string())),
    }
}

/// The derived index's directory inside the data directory.
pub const INDEX: &str = "index";

/// Why the board refuses to start. Acknowledged history is never "repaired": every signed
/// statement the data directory keeps bounds what was acknowledged, and a log that falls short
/// of any of them, or disagrees with one, is damage for a person to look at.
#[derive(Debug, Error)]
pub enum OpenError {
    #[error("cannot read the data directory: {0}")]
    Io(#[from] io::Error),
    #[error("cannot read the log: {0}")]
    Store(#[from] StoreError),
    #[error("{file}: not a checkpoint this board signed for this election: {error}")]
    BadNote { file: PathBuf, error: NoteError },
    #[error("{file} ({what}) covers {covers} entries, but the log {log} holds only {intact} intact entries (the first {readable} of its {bytes} bytes): acknowledged entries are missing or damaged, so the board will not start")]
    MissingEntries {
        file: PathBuf,
        what: &'static str,
        covers: u64,
        log: PathBuf,
        intact: u64,
        readable: u64,
        bytes: u64,
    },
    #[error("{file} (of size {size}) does not match the log's tree at that size: acknowledged history was rewritten, so the board will not start")]
    RootMismatch { file: PathBuf, size: u64 },
    #[error("the checkpoint file {file} is missing but the log {log} holds {bytes} bytes: nothing bounds what was acknowledged, so the board will not start (restore the checkpoint, or start with --accept-log-without-checkpoint to take the log's intact entries as they are)")]
    NoCheckpoint {
        file: PathBuf,
        log: PathBuf,
        bytes: u64,
    },
    #[error("the log {log} has {garbage} bytes after its last intact frame (at byte {readable}) and no checkpoint says whether they were acknowledged, so the board will not start (if you know they never were, cut them: truncate -s {readable} {log})")]
    UnboundedTail {
        log: PathBuf,
        readable: u64,
        garbage: u64,
    },
    #[error("entry {index} of the log is not admissible on replay: {rejection}")]
    Replay { index: u64, rejection: Rejection },
    /// A shared store's signed statement is not this board's for this election.
    #[error("the stored {what} is not a checkpoint this board signed for this election: {error}")]
    BadStatement {
        what: &'static str,
        error: NoteError,
    },
    /// A shared store's entries do not match a signed statement it keeps.
    #[error("the stored {what} (of size {size}) does not match the log's entries (it covers more than the log holds, or another root): the log of record was rewritten or damaged, so the board will not start")]
    StatementMismatch { what: &'static str, size: u64 },
}

/// How to open a data directory.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenOptions {
    /// Start although the checkpoint file is missing and the log is not empty, taking the log's
    /// intact entries as acknowledged history (the other signed statements still bound it, and
    /// bytes after the last intact frame still refuse). Only for an operator who knows why the
    /// checkpoint is gone.
    pub accept_log_without_checkpoint: bool,
}

/// Why one submission got no receipt: the election rules refused it, or the board itself failed
/// to answer it (a bug, never the client's fault: a `500`, not a `400`), or — a board process
/// that forwards to the sequencer — the sequencer's own answer, or none yet (`503`, retry).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SubmitError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("the board failed to answer this submission: {reason}")]
    Internal { reason: &'static str },
    /// No sequencer answered (a failover under way): nothing was acknowledged; retry.
    #[error("{reason}")]
    Unavailable { reason: String },
    /// The sequencer's refusal, relayed as it answered it (status and JSON body).
    #[error("the sequencer refused the submission ({status})")]
    Relayed { status: u16, body: String },
}

impl SubmitError {
    /// The stable code: the rejection's (`specs/election.md`), or `internal-error`.
    pub fn code(&self) -> &'static str {
        match self {
            SubmitError::Rejected(r) => r.code(),
            SubmitError::Internal { .. } => "internal-error",
            SubmitError::Unavailable { .. } => "unavailable",
            SubmitError::Relayed { .. } => "relayed",
        }
    }
}

/// The board as readers see it between two changes (published whole by the writer; see
/// `server`).
#[derive(Debug, Clone)]
pub struct View {
    pub origin: String,
    pub key: VerifyingKey,
    /// Entries under the latest checkpoint.
    pub size: u64,
    /// The latest signed checkpoint, and the witnesses' lines collected on it so far.
    pub checkpoint: String,
    pub cosignatures: String,
    /// The latest checkpoint the witness quorum cosigned, and its size.
    pub cosigned: Option<(String, u64)>,
    pub phase: Phase,
    pub counts: Counts,
    pub manifest: Option<Arc<Manifest>>,
    pub manifest_hash: Option<[u8; 32]>,
    /// The manifest's witnesses and quorum, and those that have not cosigned the latest
    /// checkpoint.
    pub witnesses: Vec<Witness>,
    pub quorum: usize,
    pub uncosigned: Vec<Witness>,
    /// The encrypted tally once voting has closed (`GET /tally`): what the decryption shares
    /// decrypt, for a reader who checks them without every ballot.
    pub tally: Option<Arc<[Ciphertext]>>,
}

impl View {
    /// The latest checkpoint with whatever cosignatures it has collected so far.
    pub fn checkpoint_with_cosignatures(&self) -> String {
        format!("{}{}", self.checkpoint, self.cosignatures)
    }
}

pub struct Board {
    origin: String,
    key: SigningKey,
    /// The log (on disk, or in a shared store), verified and replayed.
    replica: Replica<dyn LogStore>,
    index: Index,
    checkpoint: String,
    /// Cosignature lines collected for the current checkpoint.
    cosignatures: String,
    /// The latest checkpoint the manifest's witness quorum cosigned, with the cosignatures.
    cosigned: Option<String>,
    /// Whether recovery cut a torn, never-acknowledged tail.
    pub recovered_tail: bool,
    /// How the derived index compared with the log at start.
    pub index_state: IndexState,
    /// Whether the start restored a snapshot of the rules' state, or why it discarded one.
    pub snapshot: SnapshotUse,
    /// Where and how often to write snapshots (a board with a data directory).
    snapshots: Option<Snapshots>,
    /// How long each phase of the opening took, in order (wall time): what `urna bench
    /// restart` reports.
    pub opening: Vec<(&'static str, std::time::Duration)>,
}

/// CPU time the calling thread has used, from the kernel's scheduler accounting
/// (`/proc/thread-self/schedstat`, nanoseconds); `None` where that is not available. What a
/// snapshot costs the board, and what `urna bench` charges a measurement.
pub fn thread_cpu() -> Option<std::time::Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(std::time::Duration::from_nanos(ns))
}

/// Entries between two snapshots of the rules' state, by default: a restart replays at most
/// about this many entries after the one it restores (`specs/board.md` §4.1).
pub const SNAPSHOT_EVERY: u64 = 20_000;

/// What the start did with the data directory's snapshot (`specs/board.md` §4.1.2).
#[derive(Debug)]
pub enum SnapshotUse {
    /// There was none: the log was replayed from zero.
    None,
    /// The state after the log's first `size` entries was restored; only the rest was replayed.
    Restored { size: u64 },
    /// It failed a check, for this reason: the log was replayed from zero.
    Discarded(Discarded),
}

/// Where a board over a shared store puts its snapshots (`specs/storage.md` §3a), which every
/// process of the board may write.
pub trait SnapshotStore: Send + Sync {
    /// The number of entries the snapshot stored now covers (0: none).
    fn stored(&self) -> Result<u64, String>;
    /// Stores a snapshot of the first `size` entries in its stored form
    /// ([`Capture::stored`]); called on the snapshot's own thread.
    fn put(&self, size: u64, bytes: Vec<u8>) -> Result<(), String>;
}

/// A shared store's snapshots, as a board holds them.
pub type SnapshotSink = Arc<dyn SnapshotStore>;

/// Where snapshots go: the data directory's file, or a shared store.
enum Sink {
    Dir(PathBuf),
    Shared(SnapshotSink),
}

/// The board's snapshot writer: one snapshot in flight at a time, on its own thread.
struct Snapshots {
    sink: Sink,
    every: u64,
    last: u64,
    busy: Arc<AtomicBool>,
}

/// The phases of an opening, timed one after the other.
struct Phases {
    at: std::time::Instant,
    done: Vec<(&'static str, std::time::Duration)>,
}

impl Default for Phases {
    fn default() -> Phases {
        Phases {
            at: std::time::Instant::now(),
            done: Vec::new(),
        }
    }
}

impl Phases {
    /// A phase that ran alongside others, ended by the next [`Phases::end`].
    fn beside(&mut self, what: &'static str, took: std::time::Duration) {
        self.done.push((what, took));
    }

    fn end(&mut self, what: &'static str) {
        let now = std::time::Instant::now();
        self.done.push((what, now - self.at));
        self.at = now;
    }
}

impl Board {
    /// Opens the board's data directory, replays the log through the rules and checks it
    /// against every signed statement kept there.
    pub fn open(dir: &Path, origin: &str, key: SigningKey) -> Result<Board, OpenError> {
        Board::open_with(dir, origin, key, OpenOptions::default())
    }

    /// [`Board::open`] with options. The checkpoint and the cosigned checkpoint must be this
    /// board's, and the log must hold at least as many intact entries as each of them and the
    /// index cover, with the same roots, before a torn tail is cut: the checkpoint is written at
    /// every start (size 0 for a new log) and replaced atomically, so a non-empty log without
    /// one has lost it, and losing it must not turn acknowledged entries into a "torn tail".
    pub fn open_with(
        dir: &Path,
        origin: &str,
        key: SigningKey,
        opts: OpenOptions,
    ) -> Result<Board, OpenError> {
        let vk = key.verifying_key();
        let mut phases = Phases::default();
        // The snapshot's signature, body hash and leaves' root are checked before the log is
        // scanned, so that the scan compares the frames with its leaf hashes instead of
        // hashing them (`specs/board.md` §4.1.2).
        let mut snapshot_use = SnapshotUse::None;
        let loaded = match snapshot::load(dir, origin, &vk) {
            None => None,
            Some(Ok(l)) => Some(l),
            Some(Err(e)) => {
                snapshot_use = SnapshotUse::Discarded(e);
                None
            }
        };
        phases.end("snapshot read and checked");
        let known = loaded.as_ref().map_or(&[][..], |l| l.leaves.as_slice());
        // Three independent reads at once: the scan of the log, the index's opening, and the
        // decoding of the snapshot's state — signed, so decoding it early trusts nothing; it
        // is used only if the checks below pass.
        let (scanned, index_opened, decoded) = std::thread::scope(|s| {
            let decoding = loaded.as_ref().map(|l| {
                s.spawn(move || {
                    let t = std::time::Instant::now();
                    (l.election(), t.elapsed())
                })
            });
            let indexing = s.spawn(|| {
                let t = std::time::Instant::now();
                (Index::open(&dir.join(INDEX)), t.elapsed())
            });
            let t = std::time::Instant::now();
            let scanned = (FileLog::open_known(dir, known), t.elapsed());
            (scanned, indexing.join(), decoding.map(|d| d.join()))
        });
        let (scanned, took) = scanned;
        phases.beside("log scanned", took);
        let (index_opened, took) =
            index_opened.map_err(|_| io::Error::other("opening the index failed"))?;
        phases.beside("index opened", took);
        let decoded = decoded.map(|d| match d {
            Ok((e, took)) => {
                phases.beside("snapshot's state decoded", took);
                e
            }
            Err(_) => Err(Discarded::Io(io::Error::other(
                "decoding the snapshot's state failed",
            ))),
        });
        phases.end("log scanned, index opened and snapshot's state decoded, at once");
        let (log, rec, matched) = scanned?;
        let store = Arc::new(log);
        let log = dir.join(store::LOG);
        let signed = |name: &str, note: &Option<String>| match note {
            Some(n) => {
                Checkpoint::open(n, origin, &vk)
                    .map(Some)
                    .map_err(|error| OpenError::BadNote {
                        file: dir.join(name),
                        error,
                    })
            }
            None => Ok(None),
        };
        let head_note = store.statement(Statement::Checkpoint)?;
        let cosigned_note = store.statement(Statement::Cosigned)?;
        let head = signed(store::CHECKPOINT, &head_note)?;
        let cosigned_head = signed(store::COSIGNED, &cosigned_note)?;
        let (index, fresh_index) = index_opened?;
        let recorded = if fresh_index {
            None
        } else {
            index.recorded_size()
        };
        let intact = rec.intact;
        let bytes = rec.valid_len + rec.trailing_garbage;
        let bounds = [
            (
                store::CHECKPOINT,
                "the board's latest signed checkpoint",
                head.as_ref().map(|c| c.size),
            ),
            (
                store::COSIGNED,
                "the latest checkpoint the witness quorum cosigned",
                cosigned_head.as_ref().map(|c| c.size),
            ),
            (
                INDEX,
                "the index of entries already durable in the log",
                recorded,
            ),
        ];
        for (name, what, covers) in bounds {
            if let Some(covers) = covers.filter(|&n| n > intact) {
                return Err(OpenError::MissingEntries {
                    file: dir.join(name),
                    what,
                    covers,
                    log,
                    intact,
                    readable: rec.valid_len,
                    bytes,
                });
            }
        }
        if head.is_none() && bytes > 0 {
            if !opts.accept_log_without_checkpoint {
                return Err(OpenError::NoCheckpoint {
                    file: dir.join(store::CHECKPOINT),
                    log,
                    bytes,
                });
            }
            if rec.trailing_garbage > 0 {
                return Err(OpenError::UnboundedTail {
                    log,
                    readable: rec.valid_len,
                    garbage: rec.trailing_garbage,
                });
            }
        }
        let recovered_tail = rec.trailing_garbage > 0;
        if recovered_tail {
            store.truncate_tail()?;
        }
        let store: Arc<dyn LogStore> = store;
        let signed_size = head.as_ref().map_or(0, |c| c.size);
        let bound = match &head {
            Some(c) => (c.size, "entries its latest signed checkpoint covers"),
            None => (intact, "intact entries of the log"),
        };
        let restored = match loaded {
            Some(l) if !matched => Err(Discarded::Log(l.size)),
            Some(l) if l.size > bound.0 => Err(Discarded::TooLong {
                size: l.size,
                bound: bound.0,
                what: bound.1,
            }),
            Some(l) => match decoded {
                Some(d) => d.map(|e| Some((l, e))),
                None => l.election().map(|e| Some((l, e))),
            },
            None => Ok(None),
        };
        let checks = [
            (store::CHECKPOINT, &head),
            (store::COSIGNED, &cosigned_head),
        ];
        let checked = |replica: &Replica<dyn LogStore>| {
            checks.iter().find_map(|(name, cp)| {
                cp.as_ref()
                    .filter(|c| replica.check(c).is_err())
                    .map(|c| (*name, c.size))
            })
        };
        let from_snapshot = match restored {
            Ok(Some((l, election))) => {
                let size = l.size;
                let r =
                    Replica::restore(Arc::clone(&store), l.tree, election).map_err(replay_error)?;
                match checked(&r) {
                    None => {
                        snapshot_use = SnapshotUse::Restored { size };
                        Some(r)
                    }
                    Some(_) => {
                        snapshot_use = SnapshotUse::Discarded(Discarded::Checkpoint);
                        None
                    }
                }
            }
            Ok(None) => None,
            Err(e) => {
                snapshot_use = SnapshotUse::Discarded(e);
                None
            }
        };
        let mut replica = match from_snapshot {
            Some(r) => r,
            None => Replica::load(store).map_err(replay_error)?,
        };
        phases.end("tree completed and checked");
        if let Some((name, size)) = checked(&replica) {
            return Err(OpenError::RootMismatch {
                file: dir.join(name),
                size,
            });
        }
        // Up to its own signed checkpoint (whose root the log was just checked against), the
        // board admitted every entry — signatures and ballot proofs verified — before making it
        // durable: those are not verified again (specs/board.md, restart). The tail after it
        // is replayed in full. After a restored snapshot, only the entries past it.
        replica
            .replay_verified(signed_size, &|_, _| {})
            .map_err(replay_error)?;
        phases.end("replayed to the signed checkpoint");
        replica
            .replay(replica.size(), &|_, _| {})
            .map_err(replay_error)?;
        phases.end("replayed the rest");
        let index_state = index.reconcile(&replica.tree(), &**replica.store(), fresh_index)?;
        phases.end("index reconciled");
        let mut board = Board {
            origin: origin.to_string(),
            key,
            replica,
            index,
            checkpoint: String::new(),
            cosignatures: String::new(),
            cosigned: cosigned_note,
            recovered_tail,
            index_state,
            snapshot: snapshot_use,
            snapshots: None,
            opening: Vec::new(),
        };
        board.snapshots = Some(Snapshots {
            sink: Sink::Dir(dir.to_path_buf()),
            every: SNAPSHOT_EVERY,
            last: board.replica.size(),
            busy: Arc::new(AtomicBool::new(false)),
        });
        board.publish_checkpoint()?;
        phases.end("checkpoint signed and stored");
        board.opening = phases.done;
        Ok(board)
    }

    /// Entries between two snapshots (0: never write one). A board over a shared store writes
    /// none until it is given a sink ([`Board::snapshot_to`]).
    pub fn set_snapshot_every(&mut self, every: u64) {
        if let Some(s) = &mut self.snapshots {
            s.every = every;
        }
    }

    /// A board over a shared store writes a snapshot into `sink` once its state is `every`
    /// entries (0: never) past the one stored there — by it or by another process of the
    /// board: it asks `sink` first — after a group it admitted (a sequencer) or a checkpoint it
    /// followed (a follower). Replacing an earlier sink keeps the snapshot in flight counted.
    pub fn snapshot_to(&mut self, sink: SnapshotSink, every: u64) {
        let busy = self
            .snapshots
            .as_ref()
            .map_or_else(|| Arc::new(AtomicBool::new(false)), |s| Arc::clone(&s.busy));
        self.snapshots = Some(Snapshots {
            sink: Sink::Shared(sink),
            every,
            // Unknown until the store is asked, at the first size past `every`.
            last: 0,
            busy,
        });
    }

    /// Whether a snapshot is being written now (tests wait for it before they kill the board).
    pub fn snapshot_in_flight(&self) -> bool {
        self.snapshots
            .as_ref()
            .is_some_and(|s| s.busy.load(Ordering::Acquire))
    }

    /// Starts writing a snapshot of the state at the current size — covered by the checkpoint
    /// just signed and stored, or just followed — if enough entries were admitted since the last one and none is
    /// being written. The writer clones the state (the one pause it takes: no I/O, no
    /// encoding); a thread of its own encodes, signs and writes it.
    fn maybe_snapshot(&mut self) {
        let Some(s) = &mut self.snapshots else {
            return;
        };
        let size = self.replica.size();
        if s.every == 0
            || size < s.last.saturating_add(s.every)
            || self.replica.replayed() != size
            || self.replica.election().size() != size
            || s.busy.load(Ordering::Acquire)
        {
            return;
        }
        if let Sink::Shared(store) = &s.sink {
            // Another process of the board may have stored a more recent one meanwhile.
            if let Ok(stored) = store.stored() {
                if stored > s.last {
                    s.last = stored;
                    if size < stored.saturating_add(s.every) {
                        return;
                    }
                }
            }
        }
        let (root, leaves) = {
            let tree = self.replica.tree();
            let Ok(root) = tree.root(size) else {
                return;
            };
            let leaves: Vec<Hash> = tree.leaves().get(..size as usize).unwrap_or(&[]).to_vec();
            (root, leaves)
        };
        let capture = Capture {
            size,
            root,
            leaves,
            election: self.replica.election().clone(),
        };
        s.last = size;
        s.busy.store(true, Ordering::Release);
        let busy = Arc::clone(&s.busy);
        let sink = match &s.sink {
            Sink::Dir(d) => Sink::Dir(d.clone()),
            Sink::Shared(f) => Sink::Shared(Arc::clone(f)),
        };
        let origin = self.origin.clone();
        let key = self.key.clone();
        let spawned = std::thread::Builder::new()
            .name("urna-snapshot".into())
            .spawn(move || {
                let (wall, cpu) = (std::time::Instant::now(), thread_cpu());
                let written = match sink {
                    Sink::Dir(dir) => capture
                        .write(&dir, &origin, &key)
                        .map_err(|e| e.to_string()),
                    Sink::Shared(store) => store.put(size, capture.stored(&origin, &key)),
                };
                match written {
                    // What a snapshot costs grows with the state while their interval does
                    // not: said each time, so that an operator sees it (README, issue 18).
                    Ok(()) => eprintln!(
                        "urna board: a snapshot of {size} entries written in {:.2} s ({} s of this thread's CPU)",
                        wall.elapsed().as_secs_f64(),
                        thread_cpu()
                            .zip(cpu)
                            .map_or("?".into(), |(b, a)| format!("{:.2}", b.saturating_sub(a).as_secs_f64())),
                    ),
                    // Not fatal: the log is the record; the next restart replays more.
                    Err(e) => {
                        eprintln!("urna board: writing a snapshot of {size} entries failed: {e}")
                    }
                }
                busy.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            s.busy.store(false, Ordering::Release);
        }
    }

    /// A board over a store several board processes share (the PostgreSQL log of record,
    /// `specs/storage.md`): the store's signed statements are checked against its entries, and
    /// the log up to the store's length is replayed. A sequencer (`sequence`) then signs a
    /// checkpoint of the whole log (it holds the lease, whose taking confirmed the log durable,
    /// `specs/storage.md` §4); a follower serves the stored checkpoint as it is. The index of
    /// leaf hashes is rebuilt in memory: the store is the only thing on disk.
    pub fn open_shared(
        store: Arc<dyn LogStore>,
        origin: &str,
        key: SigningKey,
        sequence: bool,
    ) -> Result<Board, OpenError> {
        Board::open_shared_from(store, origin, key, sequence, None)
    }

    /// [`Board::open_shared`] from the store's snapshot of the rules' state, if it has one
    /// (`specs/storage.md` §3a): `snapshot` is the caller's check of it
    /// ([`snapshot::check_stored`], against the log's leaf hashes and at most the stored
    /// checkpoint's size). The tree is its leaves followed by the hashes of the entries after
    /// them; the signed statements are checked against that tree; only the entries after it
    /// are replayed. A snapshot that fails any check is discarded, with its reason in
    /// [`Board::snapshot`], and the log replayed from zero.
    pub fn open_shared_from(
        store: Arc<dyn LogStore>,
        origin: &str,
        key: SigningKey,
        sequence: bool,
        snapshot: Option<Result<snapshot::Loaded, Discarded>>,
    ) -> Result<Board, OpenError> {
        let vk = key.verifying_key();
        let mut phases = Phases::default();
        let signed = |what: &'static str, note: &Option<String>| match note {
            Some(n) => Checkpoint::open(n, origin, &vk)
                .map(Some)
                .map_err(|error| OpenError::BadStatement { what, error }),
            None => Ok(None),
        };
        let head_note = store.statement(Statement::Checkpoint)?;
        let cosigned_note = store.statement(Statement::Cosigned)?;
        let head = signed("checkpoint", &head_note)?;
        let cosigned_head = signed("cosigned checkpoint", &cosigned_note)?;
        let statements = [
            ("checkpoint", &head),
            ("cosigned checkpoint", &cosigned_head),
        ];
        let mismatch = |replica: &Replica<dyn LogStore>| {
            statements.iter().find_map(|(what, cp)| {
                cp.as_ref()
                    .filter(|c| replica.check(c).is_err())
                    .map(|c| (*what, c.size))
            })
        };
        let signed_size = head.as_ref().map_or(0, |c| c.size);
        phases.end("statements read and checked");
        let mut snapshot_use = SnapshotUse::None;
        let restored = match snapshot {
            None => None,
            Some(Err(e)) => {
                snapshot_use = SnapshotUse::Discarded(e);
                None
            }
            // The caller bounded it by a checkpoint it read; the one read here may be older
            // only if the store went backwards, which it refuses.
            Some(Ok(l)) if l.size > signed_size => {
                snapshot_use = SnapshotUse::Discarded(Discarded::TooLong {
                    size: l.size,
                    bound: signed_size,
                    what: "entries the stored checkpoint covers",
                });
                None
            }
            Some(Ok(l)) => match l.election() {
                Err(e) => {
                    snapshot_use = SnapshotUse::Discarded(e);
                    None
                }
                Ok(election) => {
                    phases.end("snapshot's state decoded");
                    let size = l.size;
                    let r = Replica::restore(Arc::clone(&store), l.tree, election)
                        .map_err(replay_error)?;
                    if mismatch(&r).is_none() {
                        snapshot_use = SnapshotUse::Restored { size };
                        Some(r)
                    } else {
                        snapshot_use = SnapshotUse::Discarded(Discarded::Checkpoint);
                        None
                    }
                }
            },
        };
        let mut replica = match restored {
            Some(r) => r,
            None => Replica::load(store).map_err(replay_error)?,
        };
        if let Some((what, size)) = mismatch(&replica) {
            return Err(OpenError::StatementMismatch { what, size });
        }
        phases.end("tree completed and checked");
        // Up to the stored checkpoint — signed with this board's key, which only this
        // operator's board processes hold, and each signs only entries it admitted or replayed
        // under the full rules — the proofs were verified: not again (`specs/storage.md` §5).
        // The tail no checkpoint covers is replayed in full. After a restored snapshot, only
        // the entries past it.
        replica
            .replay_verified(signed_size, &|_, _| {})
            .map_err(replay_error)?;
        phases.end("replayed to the signed checkpoint");
        replica
            .replay(replica.size(), &|_, _| {})
            .map_err(replay_error)?;
        phases.end("replayed the rest");
        // The index from the leaf hashes and the state's ballot records: only the entries
        // that are not ballots are read again (`specs/storage.md` §3a).
        let index = Index::temporary()?;
        index.build_known(
            &replica.tree(),
            replica
                .election()
                .ballots()
                .iter()
                .map(|b| (b.index, b.credential.0)),
            &**replica.store(),
        )?;
        phases.end("index built");
        let index_state = IndexState::Derived;
        let mut board = Board {
            origin: origin.to_string(),
            key,
            replica,
            index,
            checkpoint: head_note.unwrap_or_default(),
            cosignatures: String::new(),
            cosigned: cosigned_note,
            recovered_tail: false,
            index_state,
            snapshot: snapshot_use,
            snapshots: None,
            opening: Vec::new(),
        };
        if sequence {
            board.publish_checkpoint()?;
            phases.end("checkpoint signed and stored");
        }
        board.opening = phases.done;
        Ok(board)
    }

    /// A follower's refresh: the entries up to the stored checkpoint (read from the shared
    /// store, hashed and checked against it, replayed through the rules) and the stored
    /// cosigned checkpoint. Returns whether anything changed. An error spends the board: open
    /// it again.
    pub fn follow(&mut self) -> Result<bool, OpenError> {
        let vk = self.key.verifying_key();
        let store = Arc::clone(self.replica.store());
        let mut changed = false;
        if let Some(note) = store.statement(Statement::Checkpoint)? {
            if note != self.checkpoint {
                let cp = Checkpoint::open(&note, &self.origin, &vk).map_err(|error| {
                    OpenError::BadStatement {
                        what: "checkpoint",
                        error,
                    }
                })?;
                let from = self.replica.size();
                if cp.size < from {
                    return Err(OpenError::StatementMismatch {
                        what: "checkpoint",
                        size: cp.size,
                    });
                }
                self.extend_to(cp.size, Some(&cp))?;
                debug_assert_eq!(self.replica.size(), cp.size);
                self.checkpoint = note;
                self.cosignatures.clear();
                changed = true;
                // A state the checkpoint just checked covers exactly (`specs/storage.md` §3a).
                self.maybe_snapshot();
            }
        }
        if let Some(note) = store.statement(Statement::Cosigned)? {
            if self.cosigned.as_deref() != Some(note.as_str()) {
                self.cosigned = Some(note);
                changed = true;
            }
        }
        Ok(changed)
    }

    /// A follower that took the lease: replays the rest of the log (entries a sequencer
    /// appended that no checkpoint covers yet: taking the lease confirmed them durable) and
    /// signs a checkpoint of all of it. `len` is the store's length now.
    pub fn take_over(&mut self, len: u64) -> Result<(), OpenError> {
        self.extend_to(len, None)?;
        self.publish_checkpoint()?;
        Ok(())
    }

    fn extend_to(&mut self, to: u64, anchor: Option<&Checkpoint>) -> Result<(), OpenError> {
        let from = self.replica.size();
        if to > from {
            let entries = self.replica.store().read(from, to)?;
            // Kept for the index, rather than read from the database a second time.
            self.replica
                .stage(entries.clone(), anchor)
                .map_err(|e| match e {
                    ReplicaError::RootMismatch { size } | ReplicaError::Short { size, .. } => {
                        OpenError::StatementMismatch {
                            what: "checkpoint",
                            size,
                        }
                    }
                    e => replay_error(e),
                })?;
            // Entries under a checkpoint this board's key signed (the root was just checked)
            // were verified by the board process that signed it: their signatures and ballot
            // proofs are not verified again (`specs/storage.md` §5). Without one (a follower
            // taking over the tail of a dead sequencer), every rule is applied in full.
            match anchor {
                Some(_) => self.replica.replay_verified(to, &|_, _| {}),
                None => self.replica.replay(to, &|_, _| {}),
            }
            .map_err(replay_error)?;
            self.index.add(from, &entries)?;
        }
        Ok(())
    }

    fn publish_checkpoint(&mut self) -> io::Result<()> {
        let size = self.replica.size();
        let root = self
            .replica
            .tree()
            .root(size)
            .unwrap_or_else(|_| urna_ledger::merkle::empty_root());
        let note = Checkpoint {
            origin: self.origin.clone(),
            size,
            root,
        }
        .sign(&self.key);
        self.replica
            .store()
            .set_statement(Statement::Checkpoint, &note)
            .map_err(store_io)?;
        self.checkpoint = note;
        self.cosignatures.clear();
        Ok(())
    }

    /// The witnesses the manifest names and its quorum, if any.
    pub fn witness_policy(&self) -> Option<(Vec<urna_election::manifest::Witness>, usize)> {
        let m = self.replica.election().manifest()?;
        (!m.witnesses.is_empty()).then(|| (m.witnesses.clone(), usize::from(m.witness_quorum)))
    }

    /// The latest checkpoint with whatever cosignatures it has collected so far.
    pub fn checkpoint_with_cosignatures(&self) -> String {
        format!("{}{}", self.checkpoint, self.cosignatures)
    }

    /// The latest checkpoint the witness quorum cosigned.
    pub fn cosigned(&self) -> Option<&str> {
        self.cosigned.as_deref()
    }

    /// Records witnesses' cosignature lines on `note` (a checkpoint this board signed), adding
    /// to those already collected for it. Once valid cosignatures from the manifest's quorum are
    /// among them, the note becomes the published cosigned checkpoint (durably).
    pub fn record_cosignatures(&mut self, note: &str, lines: &str) -> io::Result<()> {
        let Some(m) = self
            .replica
            .election()
            .manifest()
            .filter(|m| !m.witnesses.is_empty())
        else {
            return Ok(());
        };
        let (policy, quorum) = urna_ledger::witnessed::witness_policy(m);
        let mut lines = lines.to_string();
        if note == self.checkpoint {
            let (body, _) = urna_ledger::note::split_note(note).unwrap_or_default();
            for l in lines.lines() {
                // Only valid lines by named witnesses: one bad line would reject the note.
                let valid = policy
                    .iter()
                    .any(|(n, k)| urna_ledger::note::verify_cosignature(&body, l, n, k).is_some());
                if valid && !self.cosignatures.lines().any(|x| x == l) {
                    self.cosignatures.push_str(l);
                    self.cosignatures.push('\n');
                }
            }
            lines = self.cosignatures.clone();
        }
        let Ok(cp) = Checkpoint::open(note, &self.origin, &self.key.verifying_key()) else {
            return Ok(());
        };
        let full = urna_ledger::note::add_signature_lines(note, &lines);
        let cosigned = urna_ledger::note::cosigners(&full, &policy).map_or(0, |c| c.len());
        if cosigned < quorum {
            return Ok(());
        }
        let old = self
            .cosigned
            .as_deref()
            .and_then(|c| Checkpoint::open(c, &self.origin, &self.key.verifying_key()).ok());
        match old {
            Some(old) if old.size >= cp.size => {
                // The same checkpoint with more cosignatures (they arrive one by one): served
                // at once; not stored again, since the stored copy already meets the quorum.
                let more = self.cosigned.as_deref().map_or(0, |c| {
                    urna_ledger::note::cosigners(c, &policy).map_or(0, |x| x.len())
                }) < cosigned;
                if old == cp && more {
                    self.cosigned = Some(full);
                }
            }
            _ => {
                self.replica
                    .store()
                    .set_statement(Statement::Cosigned, &full)
                    .map_err(store_io)?;
                self.cosigned = Some(full);
            }
        }
        Ok(())
    }

    /// The manifest's witnesses that have not yet cosigned the latest checkpoint.
    pub fn uncosigned_by(&self) -> Vec<urna_election::manifest::Witness> {
        let Some((witnesses, _)) = self.witness_policy() else {
            return Vec::new();
        };
        let Ok((body, _)) = urna_ledger::note::split_note(&self.checkpoint) else {
            return witnesses;
        };
        witnesses
            .into_iter()
            .filter(|w| {
                !self.cosignatures.lines().any(|l| {
                    urna_ledger::note::verify_cosignature(&body, l, &w.name, &w.key).is_some()
                })
            })
            .collect()
    }

    /// A receipt for the entry at `index` under the cosigned checkpoint, if it covers it.
    pub fn cosigned_receipt(&self, index: u64) -> Option<Receipt> {
        let note = self.cosigned.as_ref()?;
        let cp = Checkpoint::open(note, &self.origin, &self.key.verifying_key()).ok()?;
        self.receipt_under(index, cp.size, note)
    }

    /// The receipt of entry `index` under a checkpoint of `size` whose signed note is `note`.
    fn receipt_under(&self, index: u64, size: u64, note: &str) -> Option<Receipt> {
        let proof = self.replica.tree().inclusion_proof(index, size).ok()?;
        Some(Receipt {
            index,
            proof,
            checkpoint: note.to_string(),
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn election(&self) -> &Election {
        self.replica.election()
    }

    /// The bytes a board over a shared store holds in its in-memory index (`None` for the
    /// file board's sled index).
    pub fn index_bytes(&self) -> Option<usize> {
        self.index.heap_bytes()
    }

    pub fn size(&self) -> u64 {
        self.replica.size()
    }

    pub fn tree(&self) -> RwLockReadGuard<'_, Tree> {
        self.replica.tree()
    }

    /// Entry `index`'s bytes, read from the log (`None` past its end, or if it cannot be read).
    pub fn entry(&self, index: u64) -> Option<Vec<u8>> {
        self.replica.entry(index).ok().flatten()
    }

    /// Entries `start..end`, read from the log (`None` past its end, or if they cannot be read).
    pub fn entries(&self, start: u64, end: u64) -> Option<Vec<Vec<u8>>> {
        self.replica.store().read(start, end).ok()
    }

    /// The latest signed checkpoint note.
    pub fn checkpoint(&self) -> &str {
        &self.checkpoint
    }

    pub fn index_of(&self, leaf: &Hash) -> Option<u64> {
        self.index.get(leaf)
    }

    /// What readers are served until the next change: every small fact about the board at
    /// its latest checkpoint. Entries and tree hashes are read through [`Board::log`] and
    /// [`Board::shared_tree`], bounded by its size.
    pub fn view(&self) -> View {
        let e = self.election();
        let (witnesses, quorum) = self.witness_policy().unwrap_or_default();
        View {
            origin: self.origin.clone(),
            key: self.key.verifying_key(),
            size: self.size(),
            checkpoint: self.checkpoint.clone(),
            cosignatures: self.cosignatures.clone(),
            cosigned: self.cosigned.clone().and_then(|n| {
                let cp = Checkpoint::open(&n, &self.origin, &self.key.verifying_key()).ok()?;
                Some((n, cp.size))
            }),
            phase: e.phase(),
            counts: e.counts(),
            manifest: e.manifest().cloned(),
            manifest_hash: e.manifest().map(|_| e.manifest_hash()),
            uncosigned: self.uncosigned_by(),
            witnesses,
            quorum,
            tally: e.encrypted_tally().map(Arc::from),
        }
    }

    /// The log, for readers.
    pub fn log(&self) -> Arc<dyn LogStore> {
        Arc::clone(self.replica.store())
    }

    /// The tree, for readers: it may run ahead of the latest [`View`], never behind.
    pub fn shared_tree(&self) -> SharedTree {
        self.replica.shared_tree()
    }

    /// The leaf-hash index, for readers: it may hold entries past the latest [`View`].
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The receipt of `raw` if it is already in the log (a resubmission), under the current
    /// checkpoint: what a follower answers without asking the sequencer.
    pub fn receipt_of(&self, raw: &[u8]) -> Option<Receipt> {
        let index = self.index.get(&urna_ledger::merkle::leaf_hash(raw))?;
        self.receipt(index)
    }

    /// A receipt for the entry at `index` under the current checkpoint.
    pub fn receipt(&self, index: u64) -> Option<Receipt> {
        self.receipt_under(index, self.size(), &self.checkpoint)
    }

    /// The index of `entry` if the log holds it already. The rules' state, when it covers the
    /// whole log, knows in memory whether it admitted an entry of that leaf hash (a ballot by
    /// its credential's chain of ballots); only then is the index on disk asked where. Nearly
    /// every submission is new, and at a million entries that lookup in sled was 3 % of the
    /// board's CPU during sustained ingest. A log with entries the rules did not apply (the
    /// test hook's) is always looked up.
    fn already_held(&self, entry: &Entry, leaf: &Hash) -> Option<u64> {
        let size = self.replica.size();
        let election = self.replica.election();
        let covered = self.replica.replayed() == size && election.size() == size;
        if covered && !election.admitted(entry, leaf) {
            return None;
        }
        self.index.get(leaf)
    }

    /// Checks the board's own admission conditions on top of the election rules: the entry is
    /// for this log, and a Setup's manifest names this board.
    fn board_rules(&self, entry: &Entry) -> Result<(), Rejection> {
        if entry.election_id() != self.origin {
            return Err(Rejection::WrongElection {
                expected: self.origin.clone(),
                got: entry.election_id().to_string(),
            });
        }
        if entry.kind() == EntryKind::Setup {
            if let Ok(Payload::Setup(m)) = Payload::decode(EntryKind::Setup, entry.payload()) {
                if m.board_key != self.key.verifying_key() {
                    return Err(Rejection::UnauthorisedAuthor {
                        kind: EntryKind::Setup,
                        expected: "a manifest naming this board's key".into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// **The test hook's (`server::test_hook`), never a real board's:** appends `raw` as the
    /// next entry without the election rules, and signs a checkpoint over it, as a board that
    /// breaks the rules would.
    pub fn force_append_for_test_hook(&mut self, raw: &[u8]) -> io::Result<u64> {
        let index = self
            .replica
            .force_append_for_test_hook(raw)
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.index.add(index, &[raw])?;
        self.publish_checkpoint()?;
        Ok(index)
    }

    /// Admits a group of submissions at once: every admissible entry is appended and made
    /// durable with one `fdatasync`, one checkpoint is signed, and only then are receipts made.
    /// Re-submitting an entry already on the log returns its receipt (idempotent).
    ///
    /// An I/O error is returned as such: the in-memory state may then be ahead of the disk, so
    /// the caller must stop serving and restart (recovery re-derives everything from the log).
    pub fn submit(&mut self, batch: &[Vec<u8>]) -> io::Result<Vec<Result<Receipt, SubmitError>>> {
        self.submit_attested(batch, &[])
    }

    /// [`Board::submit`] where `verified[i]` says that submission `i`'s signature and ballot
    /// proofs were verified by another process of this board, which attested it
    /// (`specs/storage.md` §5a): the rules take those as valid and apply every other rule. A
    /// missing flag is `false`.
    pub fn submit_attested(
        &mut self,
        batch: &[Vec<u8>],
        verified: &[bool],
    ) -> io::Result<Vec<Result<Receipt, SubmitError>>> {
        let decoded = batch
            .iter()
            .map(|raw| Entry::decode(raw.clone()).map_err(|_| raw.clone()))
            .collect();
        self.submit_decoded(decoded, verified)
    }

    /// [`Board::submit_attested`] of submissions already decoded where they are entries
    /// (`Err` holds the bytes of one that is not): the board's server decodes each where it
    /// reads it, and does not again here.
    pub fn submit_decoded(
        &mut self,
        batch: Vec<Result<Entry, Vec<u8>>>,
        verified: &[bool],
    ) -> io::Result<Vec<Result<Receipt, SubmitError>>> {
        let mut out: Vec<Option<Result<u64, Rejection>>> = vec![None; batch.len()];
        // Entries new to the log, in submission order, with the submission each answers.
        let mut fresh: Vec<Entry> = Vec::new();
        let mut fresh_at: Vec<usize> = Vec::new();
        let mut fresh_verified: Vec<bool> = Vec::new();
        let mut fresh_leaves: Vec<Hash> = Vec::new();
        // A submission repeating an earlier one of the same batch shares that one's outcome.
        let mut copies: Vec<(usize, usize)> = Vec::new();
        let mut in_batch: HashMap<Hash, usize> = HashMap::new();
        for (i, submitted) in batch.into_iter().enumerate() {
            let entry = match submitted {
                Ok(e) => e,
                Err(raw) if raw.len() > MAX_ENTRY_SIZE => {
                    out[i] = Some(Err(Rejection::Oversized { size: raw.len() }));
                    continue;
                }
                Err(raw) => match Entry::decode(raw) {
                    Ok(e) => e,
                    Err(e) => {
                        out[i] = Some(Err(Rejection::from(e)));
                        continue;
                    }
                },
            };
            let leaf = entry.leaf_hash();
            if let Some(index) = self.already_held(&entry, &leaf) {
                out[i] = Some(Ok(index));
                continue;
            }
            if let Some(&first) = in_batch.get(&leaf) {
                copies.push((i, first));
                continue;
            }
            if let Err(r) = self.board_rules(&entry) {
                out[i] = Some(Err(r));
                continue;
            }
            in_batch.insert(leaf, i);
            fresh_leaves.push(leaf);
            fresh_verified.push(verified.get(i).copied().unwrap_or(false));
            fresh.push(entry);
            fresh_at.push(i);
        }
        let from = self.replica.size();
        // The admitted entries and the checkpoint covering them are stored together (one
        // durable write where the store can: one synchronous commit on PostgreSQL).
        let (origin, key) = (&self.origin, &self.key);
        let seal = |size, root| {
            Checkpoint {
                origin: origin.clone(),
                size,
                root,
            }
            .sign(key)
        };
        let (verdicts, note) = self
            .replica
            .admit_sealed_attested(&fresh, &fresh_verified, &seal)
            .map_err(|e| match e {
                ReplicaError::Store(e) => store_io(e),
                e => io::Error::other(e.to_string()),
            })?;
        let mut admitted: Vec<(&Hash, &Entry)> = Vec::new();
        for (((i, v), entry), leaf) in fresh_at
            .into_iter()
            .zip(verdicts)
            .zip(&fresh)
            .zip(&fresh_leaves)
        {
            if v.is_ok() {
                admitted.push((leaf, entry));
            }
            out[i] = Some(v);
        }
        if let Some(note) = note {
            // The rules numbered admitted entries consecutively from the log's size.
            self.index.add_decoded(from, &admitted)?;
            self.checkpoint = note;
            self.cosignatures.clear();
            self.maybe_snapshot();
        }
        for (i, first) in copies {
            out[i] = out[first].clone();
        }
        Ok(out
            .into_iter()
            .map(|o| match o {
                Some(Ok(index)) => self.receipt(index).ok_or(SubmitError::Internal {
                    reason: "no inclusion proof for an admitted entry",
                }),
                Some(Err(r)) => Err(SubmitError::Rejected(r)),
                None => Err(SubmitError::Internal {
                    reason: "the submission was left unanswered",
                }),
            })
            .collect())
    }
}
