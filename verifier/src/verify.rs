//! The checks of specs/verifier.md §3 and §4, in order, over the one verified copy of the log
//! ([`Replica`]): the tree against the board-signed checkpoint, the board key, checkpoints kept
//! earlier, the witness policy, a replay of every entry through the rules the board runs, the
//! voters' receipts, and the result against the combination of the decryption shares.
//!
//! The log is streamed: read a chunk of [`CHUNK`] entries at a time (from a record file, or
//! from a board's tiles), hashed onto the replica's tree, replayed (each batch of ballot proofs
//! verified together on all cores), and dropped. What the verifier holds is the tree's right
//! edge and the roots the later checks compare ([`Tree::frontier`]) and the rules' state, never
//! the entries. The findings are then reported in the order of
//! §3, as if each check had run in turn: a log whose root does not match reports that, not
//! what its replay found.

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};

use urna_crypto::hex;
use urna_crypto::sign::VerifyingKey;
use urna_election::entry::{Entry, TrackingCode};
use urna_election::manifest::Manifest;
use urna_election::payload::Payload;
use urna_election::rejection::Rejection;
use urna_election::state::{BallotStatus, Phase};
use urna_election::state::{Election, LookBack, ProofCheck, REPLAY_BATCH};
use urna_ledger::merkle::Tree;
use urna_ledger::note::Checkpoint;
use urna_ledger::receipt::BallotReceipt;
use urna_ledger::replica::Prepared;
use urna_ledger::witnessed::{witness_policy, WitnessView};
use urna_ledger::{LogStore, Replica, ReplicaError, StreamLog};

use crate::finding::{Check, Finding, KeySource, Report, WitnessAnswer, WitnessReport};
use crate::record::{self, RecordError};

/// What the observer brings besides the log: a key pinned out of band, checkpoints kept
/// earlier, voters' receipts, and whether the Result must be among what is verified.
#[derive(Default)]
pub struct Options {
    /// The board key, if obtained out of band (`--board-key`).
    pub key: Option<VerifyingKey>,
    /// Signed checkpoints kept earlier (`--checkpoint`), as their notes.
    pub earlier: Vec<String>,
    pub receipts: Vec<BallotReceipt>,
    /// `--final`: fail unless the verified log contains the Result.
    pub require_result: bool,
    /// Check `copied-ballot` at the end, the ballots' `α` prefixes spilled to disk
    /// ([`Election::deferring_copies`]), rather than holding them in memory: the same verdict
    /// at the same entry (specs/verifier.md §3 6).
    pub spill: Option<Spill>,
}

/// Where and with how much memory the `α` prefixes are spilled, and the tables that grow with
/// the election kept ([`Options::spill`]; [`Election::on_disk`]): the ballot records, the
/// voter roll, a record file's entry offsets.
#[derive(Debug, Clone)]
pub struct Spill {
    /// The directory of the spill's and tables' files, which have no name (nothing is left
    /// there).
    pub dir: PathBuf,
    /// Bytes of prefixes buffered before a sorted run is written.
    pub budget: usize,
    /// Bytes of the tables' pages cached in memory: the ballot records and the roll each get
    /// half, a record file's offsets an eighth more.
    pub cache: usize,
}

impl Spill {
    /// Buffered prefixes by default: 8 MiB, 262,144 pairs, ~26,000 ballots of ten selections
    /// per run (about what the set in memory holds at 55,000 ballots).
    pub const BUDGET: usize = 8 << 20;
    /// The tables' cache by default: 64 MiB. Most reads are of a voter's row or a revote's
    /// superseded ballot, at random; at a million voters 16 MiB spent 77 s of system time
    /// paging the roll (83 % of `urna bench`'s rate), 64 MiB 48 s (103 %), for 36 MB more RSS.
    pub const CACHE: usize = 64 << 20;
}

/// Reports replay progress: entries replayed, of how many.
pub type Progress<'a> = &'a dyn Fn(u64, u64);

/// Entries read from the source and verified at once: a few batches of the rules' replay, and
/// a few dozen tiles fetched in parallel. What the verifier holds of the log at any time.
pub const CHUNK: u64 = 4096;

/// Entries read from a record file at once: one replay batch, so that what waits to be made
/// ready is at most one batch's bytes (a file needs no round trips to amortize).
const RECORD_CHUNK: u64 = REPLAY_BATCH as u64;

/// The raw bytes of entries made ready for the rules at once, at most (one entry at least):
/// above a batch of [`REPLAY_BATCH`] ballots (~3.2 MB), so that only entries larger than
/// ballots — voter-roll batches — are made ready in smaller batches.
const BATCH_BYTES: usize = 4 << 20;

/// Where the next batch to make ready ends in `raw`: [`REPLAY_BATCH`] entries, or fewer that
/// hold [`BATCH_BYTES`].
fn batch_end(raw: &[Vec<u8>]) -> usize {
    let mut bytes = 0;
    raw.iter()
        .take(REPLAY_BATCH)
        .position(|e| {
            bytes += e.len();
            bytes > BATCH_BYTES
        })
        .map_or(raw.len().min(REPLAY_BATCH), |i| i.max(1))
}

/// Reads entries `start..end` of a board's log (its tiles), or says why it cannot; called
/// from more than one thread (the next chunk is downloaded while one is verified).
pub type ReadEntries = Box<dyn Fn(u64, u64) -> Result<Vec<Vec<u8>>, String> + Send + Sync>;

/// What an observer learned of a board before reading its log (`urna-client` asks): the
/// board's latest checkpoint, a reader of the log under it, and, when the manifest names
/// witnesses, what they said. No tree: the log is hashed once, as it is verified.
pub struct FromBoard {
    pub origin: String,
    /// The key the board states (used unless one is pinned; it must be the manifest's).
    pub stated_key: VerifyingKey,
    /// The board's latest signed checkpoint note: the whole log it covers is streamed, and
    /// its root checked at the end, as well as the root of the part verified.
    pub latest_note: String,
    /// Entry 0 as the board served it on its own, which the witness policy was read from
    /// (`None` if it served none): the log streamed must begin with the same bytes.
    pub first: Option<Vec<u8>>,
    /// Reads the log's entries, a chunk at a time, to verify them: nothing of them is trusted
    /// before they hash to the signed roots.
    pub read: ReadEntries,
    /// `None` when the manifest names no witnesses; `Err` naming the contradiction when the
    /// board's log contradicts what a witness cosigned.
    pub witnessed: Option<Result<WitnessView, String>>,
}

/// Which checkpoint of a board's log to verify (specs/verifier.md §4): the newest whose note
/// carries the witness quorum's cosignatures by itself — the covered one, or the board's own
/// cosigned one when the board withholds a newer one — or the latest when the manifest names
/// no witnesses; with the failure that decides it, if one does.
pub struct Target {
    pub note: String,
    pub size: u64,
    /// The board's log contradicts a witness ([`Check::WitnessesAgree`]), or it withholds what
    /// the witnesses cosigned ([`Check::WitnessFreshness`]).
    pub problem: Option<Finding>,
}

/// The checkpoint to verify of a board's log, given what the witnesses said.
pub fn target(
    latest_note: &str,
    latest_size: u64,
    witnessed: &Option<Result<WitnessView, String>>,
) -> Target {
    let latest = Target {
        note: latest_note.to_string(),
        size: latest_size,
        problem: None,
    };
    let v = match witnessed {
        None => return latest,
        Some(Err(why)) => {
            return Target {
                problem: Some(Finding::fail(Check::WitnessesAgree, why.clone())),
                ..latest
            }
        }
        Some(Ok(v)) => v,
    };
    let problem = v.withholding().map(|(w, b)| {
        Finding::fail(
            Check::WitnessFreshness,
            format!(
                "the board is withholding: the witnesses have cosigned its log up to {w} entries, but its cosigned checkpoint has {} (it lags the witnesses)",
                b.map_or("not been published".to_string(), |b| format!("only {b}"))
            ),
        )
    });
    let covered = v
        .covered
        .as_ref()
        .filter(|c| c.cosigners.len() >= v.quorum && problem.is_none())
        .map(|c| (c.note.clone(), c.checkpoint.size));
    let board = v.board_cosigned.as_ref().map(|(c, n)| (n.clone(), c.size));
    match covered.or(board) {
        Some((note, size)) => Target {
            note,
            size,
            problem,
        },
        None => Target { problem, ..latest },
    }
}

/// Verifies an exported record (specs/verifier.md §1), streaming it. Only reading it can
/// fail; everything wrong with what it holds, its format included, is a finding.
pub fn verify_record<R: Read + Seek + Send>(
    r: &mut R,
    opts: &Options,
    progress: Progress<'_>,
) -> std::io::Result<Report> {
    let format_failure = |why: String| {
        let mut report = Report::new("");
        report.add(Finding::fail(Check::RecordFormat, why));
        report.conclude()
    };
    let mut reader = match record::Reader::open(r) {
        Ok(reader) => reader,
        Err(RecordError::Io(e)) => return Err(e),
        Err(RecordError::Malformed(why)) => return Ok(format_failure(why)),
    };
    if let Some(sp) = &opts.spill {
        reader.offsets_on_disk(&sp.dir, sp.cache / 8)?;
    }
    // The first chunk is read ahead: its Setup names the board key, unless one is pinned.
    let first = match reader.chunk(RECORD_CHUNK) {
        Ok(c) => c,
        Err(RecordError::Io(e)) => return Err(e),
        Err(RecordError::Malformed(why)) => return Ok(format_failure(why)),
    };
    let note = reader.checkpoint.clone();
    let origin = note.lines().next().unwrap_or_default().to_string();
    let count = reader.count;
    let manifest = first.first().and_then(|e| manifest_of_entry(e));
    let key = match (opts.key, &manifest) {
        (Some(k), _) => Some((k, KeySource::Pinned)),
        (None, Some(m)) => Some((m.board_key, KeySource::Manifest)),
        (None, None) => None,
    };
    let cp = key.and_then(|(k, _)| Checkpoint::open(&note, &origin, &k).ok());
    // Only a log the checkpoint can cover is replayed; any other is still read to the end, so
    // that its format is judged first, as the record's first check.
    let replay_to = cp
        .as_ref()
        .filter(|c| c.size == count)
        .map_or(0, |c| c.size);
    let io_error = Mutex::new(None);
    let ahead = Mutex::new(Some(first));
    let reader = Mutex::new(reader);
    let read = |_start: u64, _end: u64| -> Result<Vec<Vec<u8>>, Finding> {
        if let Some(first) = ahead.lock().unwrap_or_else(PoisonError::into_inner).take() {
            return Ok(first);
        }
        let chunk = reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .chunk(RECORD_CHUNK);
        chunk.map_err(|e| match e {
            RecordError::Io(e) => {
                let why = e.to_string();
                *io_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
                Finding::fail(Check::RecordFormat, why)
            }
            RecordError::Malformed(why) => Finding::fail(Check::RecordFormat, why),
        })
    };
    let back = Reread(|i| {
        reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reread(i)
            .map_err(|e| e.to_string())
    });
    let mut streamed = stream(
        &read,
        &back,
        RECORD_CHUNK,
        count,
        replay_to,
        &[],
        opts,
        progress,
    );
    if let Some(e) = io_error
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
    {
        return Err(e);
    }
    if let Some(e) = streamed.spill_failed.take() {
        return Err(e);
    }
    let reader = reader.into_inner().unwrap_or_else(PoisonError::into_inner);
    let finished = match streamed.stopped.take() {
        Some(f) => Err(f.detail),
        None => match reader.finish() {
            Ok(()) => Ok(()),
            Err(RecordError::Io(e)) => return Err(e),
            Err(RecordError::Malformed(why)) => Err(why),
        },
    };
    if let Err(why) = finished {
        return Ok(format_failure(why));
    }
    let mut report = Report::new(&origin);
    report.size = count;
    report.add(Finding::pass(
        Check::RecordFormat,
        format!("{count} entries under one checkpoint"),
    ));
    let Some((key, source)) = key else {
        report.add(Finding::fail(
            Check::BoardKey,
            "the record has no manifest to take the board key from; pass --board-key",
        ));
        return Ok(report.conclude());
    };
    report.board_key = Some(hex::encode(key.as_bytes()));
    report.key_source = Some(source);
    let mut v = Verification {
        report,
        origin,
        key,
        opts,
    };
    v.run(&note, streamed, None);
    if v.report.witnesses.is_some() {
        v.report.warnings.push(
            "a record file cannot show whether the witnesses have cosigned a newer checkpoint; verify from the board (--board) for that"
                .into(),
        );
    }
    Ok(v.report.conclude())
}

/// What streaming a log left: its tree, the rules' state after the part replayed (or why the
/// replay stopped), and what later checks need of individual entries.
struct Streamed {
    replica: Replica<StreamLog>,
    /// The tree, once a refusal spent the replica: hashing goes on without it.
    spent_tree: Option<Tree>,
    /// Entry 0's bytes, for the manifest.
    first: Option<Vec<u8>>,
    /// The entries the voters' receipts point at, by receipt.
    receipted: Vec<Option<Vec<u8>>>,
    kinds: BTreeMap<String, u64>,
    replay: Result<(), ReplicaError>,
    /// The source failed: reading stopped there.
    stopped: Option<Finding>,
    /// The spilled `copied-ballot` check could not run (its disk failed): no verdict.
    spill_failed: Option<std::io::Error>,
}

/// Reads an earlier entry of the source again, for the rules (a ballot a revote supersedes).
struct Reread<F: Fn(u64) -> Result<Vec<u8>, String>>(F);

impl<F: Fn(u64) -> Result<Vec<u8>, String>> LookBack for Reread<F> {
    fn entry(&self, index: u64) -> Result<Vec<u8>, String> {
        (self.0)(index)
    }
}

/// Reads a source's entries `start..end`, or says why it cannot; shared with the thread that
/// reads ahead.
type Source<'a> = &'a (dyn Fn(u64, u64) -> Result<Vec<Vec<u8>>, Finding> + Sync);

/// A chunk read and made ready for the rules ahead of them, with what later checks need of
/// its raw entries.
struct Ahead {
    prepared: Prepared,
    first: Option<Vec<u8>>,
    /// The entries receipts point at in this chunk: (receipt, bytes).
    receipted: Vec<(usize, Vec<u8>)>,
    kinds: BTreeMap<String, u64>,
}

/// Reads `held` entries from `read` a `chunk` at a time, hashing each onto a replica's tree
/// (a frontier keeping the roots at `keep` and at the sizes [`sizes_checked`] names) and
/// replaying the first `replay_to` through the rules; keeps only what later checks need of
/// those (the entries past them are only hashed).
/// A refused entry stops the replay, not the hashing. The replay reads the few earlier entries
/// it needs again (ballots that revotes supersede) from `back`: the replica keeps none.
///
/// Pipelined: a second thread reads chunk k+1, decodes and hashes it and verifies its
/// signatures and ballot proofs in one batch on all cores ([`Prepared`]) while the rules
/// replay chunk k on this one, taking what was verified ahead as valid; the verdicts are
/// those of replaying in order. What is held of the log at a time is bounded: the chunk read,
/// and three replay batches decoded (one replaying, one waiting, one being prepared).
#[allow(clippy::too_many_arguments)]
fn stream(
    read: Source<'_>,
    back: &dyn LookBack,
    chunk: u64,
    held: u64,
    replay_to: u64,
    keep: &[u64],
    opts: &Options,
    progress: Progress<'_>,
) -> Streamed {
    let wanted_roots = sizes_checked(opts).into_iter().chain(keep.iter().copied());
    let tree = Tree::frontier(wanted_roots);
    let mut spill_failed = None;
    let replica = match &opts.spill {
        Some(sp) => match Election::on_disk(&sp.dir, sp.budget, sp.cache) {
            // An empty store and an empty tree: restoring cannot fail.
            Ok(e) => Replica::restore(Arc::new(StreamLog::new()), tree.clone(), e)
                .unwrap_or_else(|_| Replica::streaming_onto(tree)),
            Err(e) => {
                spill_failed = Some(e);
                Replica::streaming_onto(tree)
            }
        },
        None => Replica::streaming_onto(tree),
    };
    let mut s = Streamed {
        replica,
        spent_tree: None,
        first: None,
        receipted: vec![None; opts.receipts.len()],
        kinds: BTreeMap::new(),
        replay: Ok(()),
        stopped: None,
        spill_failed,
    };
    if s.spill_failed.is_some() {
        // No table to keep the state in: nothing is verified (exit 2).
        return s;
    }
    let wanted: Vec<u64> = opts.receipts.iter().map(|r| r.receipt.index).collect();
    // What the reading thread verifies ballots' proofs against: the election's once its key
    // ceremony is over, as the rules know it after the chunks replayed so far. Cleared when the
    // replay stops (the rest is only hashed).
    let check: Mutex<Option<ProofCheck>> = Mutex::new(None);
    let replaying = AtomicBool::new(replay_to > 0);
    let (tx, rx) = mpsc::sync_channel::<Result<Ahead, Finding>>(1);
    std::thread::scope(|scope| {
        let (check, replaying, wanted) = (&check, &replaying, &wanted);
        scope.spawn(move || {
            let mut at = 0;
            while at < held {
                let end = (at + chunk).min(held);
                let mut raw = match read(at, end) {
                    Ok(c) if c.len() as u64 == end - at => c,
                    Ok(c) => {
                        let f = Finding::fail(
                            Check::TreeRoot,
                            format!("entries {at}..{end} were asked for, {} came", c.len()),
                        );
                        let _ = tx.send(Err(f));
                        break;
                    }
                    Err(f) => {
                        let _ = tx.send(Err(f));
                        break;
                    }
                };
                // Made ready a replay batch at a time, and at most BATCH_BYTES of entries:
                // decoded, a ballot is four times its bytes and a voter-roll batch six (1,000
                // credentials of 38 KB become 240 KB of keys), so bytes, not entries, bound
                // the memory in flight — a million-voter roll is 1,000 such entries, which in
                // one batch of 1,024 were the run's peak (274 MB at a million ballots).
                while !raw.is_empty() {
                    let rest = raw.split_off(batch_end(&raw));
                    let c = std::mem::replace(&mut raw, rest);
                    let end = at + c.len() as u64;
                    let mut kinds = BTreeMap::new();
                    let replayed = replay_to.saturating_sub(at).min(c.len() as u64) as usize;
                    for e in &c[..replayed] {
                        if let Some(kind) = Entry::kind_of(e) {
                            *kinds.entry(kind.to_string()).or_default() += 1;
                        }
                    }
                    let receipted = wanted
                        .iter()
                        .enumerate()
                        .filter(|(_, i)| (at..end.min(replay_to)).contains(i))
                        .filter_map(|(k, i)| Some((k, c.get((i - at) as usize)?.clone())))
                        .collect();
                    let first = if at == 0 { c.first().cloned() } else { None };
                    let verify = at < replay_to && replaying.load(Ordering::Relaxed);
                    let pc = check.lock().unwrap_or_else(PoisonError::into_inner).clone();
                    let ahead = Ahead {
                        prepared: Prepared::new(at, c, verify, pc.as_ref()),
                        first,
                        receipted,
                        kinds,
                    };
                    if tx.send(Ok(ahead)).is_err() {
                        return;
                    }
                    at = end;
                }
            }
        });
        for item in rx.iter() {
            let a = match item {
                Ok(a) => a,
                Err(f) => {
                    s.stopped = Some(f);
                    break;
                }
            };
            if a.first.is_some() {
                s.first = a.first;
            }
            for (k, e) in a.receipted {
                if let Some(slot) = s.receipted.get_mut(k) {
                    *slot = Some(e);
                }
            }
            for (kind, n) in a.kinds {
                *s.kinds.entry(kind).or_default() += n;
            }
            let p = a.prepared;
            if let Some(t) = s.spent_tree.as_mut() {
                for l in &p.leaves {
                    t.push(*l);
                }
                continue;
            }
            let at = p.at;
            if let Err(e) = s.replica.stage_prepared(&p) {
                s.stopped = Some(Finding::fail(Check::TreeRoot, e.to_string()));
                break;
            }
            if s.replay.is_ok() && at < replay_to {
                // Progress over the whole replay, not this chunk: the bar's rate and ETA.
                s.replay = s.replica.replay_prepared(
                    p,
                    replay_to,
                    &|done, _| progress(done, replay_to),
                    back,
                );
                if s.replay.is_err() {
                    replaying.store(false, Ordering::Relaxed);
                    s.spent_tree = Some(s.replica.tree().clone());
                } else if check
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_none()
                {
                    *check.lock().unwrap_or_else(PoisonError::into_inner) =
                        s.replica.election().proof_check();
                }
            }
        }
        // Dropping the receiver ends the reading thread at its next chunk.
        drop(rx);
    });
    if let Some(e) = s.replica.election().disk_failure() {
        s.spill_failed = Some(e);
    } else if s.stopped.is_none() && replay_to > 0 {
        deferred_verdict(&mut s);
    }
    s
}

/// Why a verification from a board ended without a report (specs/verifier.md §4).
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The board stopped serving its log midway: the verification could not run (exit 2),
    /// and says nothing of the election.
    #[error("the board stopped serving its log: {0}")]
    Stopped(String),
    /// The spilled copied-ballot check could not read or write its runs: no verdict (exit 2).
    #[error("the spilled copied-ballot check failed: {0}")]
    Spill(String),
    /// The first entry streamed is not the one the witness policy was read from: the board
    /// answered the same question two ways, which is its misbehaviour (exit 1).
    #[error("the board served two different first entries")]
    TwoFirstEntries,
}

impl BoardError {
    /// The verification could not run, rather than found the board at fault.
    pub fn could_not_run(&self) -> bool {
        matches!(self, BoardError::Stopped(_) | BoardError::Spill(_))
    }
}

/// With the `α` prefixes spilled: the first copied one, if it comes no later than where the
/// replay stopped, is the verdict — the entry checking each ballot refuses first
/// ([`Election::first_copy`]). The copies it finds were all noted before the replay stopped or
/// at the entry it stopped at, so a stop at a later entry (or none) gives way to it.
fn deferred_verdict(s: &mut Streamed) {
    let found = match s.replica.election().first_copy() {
        Ok(f) => f,
        Err(e) => {
            s.spill_failed = Some(e);
            return;
        }
    };
    let Some((index, kind)) = found else {
        return;
    };
    let first = match &s.replay {
        Err(ReplicaError::Refused { index: j, .. }) => index <= *j,
        Err(ReplicaError::Malformed { index: j, .. }) => index < *j,
        _ => true,
    };
    if first {
        if s.spent_tree.is_none() {
            s.spent_tree = Some(s.replica.tree().clone());
        }
        s.replay = Err(ReplicaError::Refused {
            index,
            kind,
            rejection: Rejection::CopiedBallot,
        });
    }
}

/// Verifies what was downloaded from a board (specs/verifier.md §4): what the witnesses say of
/// it first, then the log under the checkpoint [`target`] picks.
pub fn verify_board(
    b: FromBoard,
    opts: &Options,
    progress: Progress<'_>,
) -> Result<Report, BoardError> {
    let (key, source) = match opts.key {
        Some(k) => (k, KeySource::Pinned),
        None => (b.stated_key, KeySource::Board),
    };
    let mut report = Report::new(&b.origin);
    report.board_key = Some(hex::encode(key.as_bytes()));
    report.key_source = Some(source);
    let latest = Checkpoint::open(&b.latest_note, &b.origin, &key).ok();
    report.latest_size = latest.as_ref().map(|c| c.size);
    let latest_size = latest.as_ref().map_or(0, |c| c.size);
    let t = target(&b.latest_note, latest_size, &b.witnessed);
    report.size = t.size;
    let view = b.witnessed.as_ref().and_then(|w| w.as_ref().ok());
    match (&t.problem, view) {
        (Some(p), _) => {
            report.add(p.clone());
        }
        (None, Some(v)) => {
            let sizes = v
                .answers
                .iter()
                .map(|a| match &a.latest {
                    Ok(Some((c, _))) => format!("{} {}", a.name, c.size),
                    Ok(None) => format!("{} none", a.name),
                    Err(_) => format!("{} no answer", a.name),
                })
                .collect::<Vec<_>>()
                .join(", ");
            report.add(Finding::pass(
                Check::WitnessFreshness,
                format!(
                    "checkpoint {} is the newest their quorum covers (their latest: {sizes})",
                    t.size
                ),
            ));
        }
        (None, None) => {}
    }
    // One pass over the latest log, if the checkpoint to verify is signed and within it: the
    // part it covers replayed, the rest only hashed; the roots of both are compared at the end
    // ([`Verification::run`]).
    let replay_to = Checkpoint::open(&t.note, &b.origin, &key)
        .ok()
        .filter(|cp| cp.size <= latest_size)
        .map(|cp| cp.size);
    let held = replay_to.map_or(0, |_| latest_size);
    let replay_to = replay_to.unwrap_or(0);
    let read = &b.read;
    let failed = Mutex::new(None);
    let fail = |why: String| {
        *failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(why.clone());
        why
    };
    let back = Reread(|i| {
        let mut e = read(i, i + 1).map_err(fail)?;
        e.pop().ok_or_else(|| format!("entry {i}: not served"))
    });
    // The next chunk's tiles download while this one is verified: a round trip per chunk would
    // otherwise leave the cores idle. Handed over, not queued: one chunk more in memory (~13 MB
    // of ballots), not two.
    let (tx, rx) = mpsc::sync_channel::<(u64, Result<Vec<Vec<u8>>, String>)>(0);
    let streamed = std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut at = 0;
            while at < held {
                let end = (at + CHUNK).min(held);
                let got = read(at, end);
                let failed = got.is_err();
                if tx.send((at, got)).is_err() || failed {
                    return;
                }
                at = end;
            }
        });
        let ahead = Mutex::new(rx);
        let source = |start: u64, end: u64| {
            let next = ahead.lock().unwrap_or_else(PoisonError::into_inner).recv();
            let got = match next {
                Ok((at, got)) if at == start => got,
                _ => read(start, end),
            };
            got.map_err(|why| Finding::fail(Check::TreeRoot, fail(why)))
        };
        let streamed = stream(
            &source,
            &back,
            CHUNK,
            held,
            replay_to,
            &[replay_to],
            opts,
            progress,
        );
        // Dropping the receiver ends the downloading thread at its next chunk.
        drop(ahead);
        streamed
    });
    if let Some(why) = failed.into_inner().unwrap_or_else(PoisonError::into_inner) {
        return Err(BoardError::Stopped(why));
    }
    if let Some(e) = &streamed.spill_failed {
        return Err(BoardError::Spill(e.to_string()));
    }
    if held > 0 && streamed.first.is_some() && streamed.first != b.first {
        return Err(BoardError::TwoFirstEntries);
    }
    let mut v = Verification {
        report,
        origin: b.origin,
        key,
        opts,
    };
    v.run(&t.note, streamed, latest);
    if let Some(view) = view {
        if let Some(w) = v.report.witnesses.as_mut() {
            w.answers = view
                .answers
                .iter()
                .map(|a| WitnessAnswer {
                    name: a.name.clone(),
                    size: a
                        .latest
                        .as_ref()
                        .ok()
                        .and_then(|l| l.as_ref().map(|(c, _)| c.size)),
                    error: a.latest.as_ref().err().cloned(),
                })
                .collect();
            w.witnesses_cover = view.witnesses_cover;
            w.board_cosigned = view.board_cosigned.as_ref().map(|(c, _)| c.size);
        }
        for (name, why) in view.unanswered() {
            v.report
                .warnings
                .push(format!("witness {name} could not be asked: {why}"));
        }
        if view.witnesses_cover.is_none() {
            v.report.warnings.push(format!(
                "fewer than {} witnesses answered: whether the board shows their newest cosigned checkpoint is unconfirmed",
                view.quorum
            ));
        }
    }
    Ok(v.report.conclude())
}

/// One verification in progress.
struct Verification<'a> {
    report: Report,
    origin: String,
    key: VerifyingKey,
    opts: &'a Options,
}

impl Verification<'_> {
    /// §3 over the streamed log under the checkpoint `note`. From a record, the log must be
    /// exactly the checkpoint's; from a board (`latest` given, the board's latest checkpoint),
    /// what was streamed is the latest log, the checkpoint is a prefix of it, and what was
    /// replayed is the part it covers.
    fn run(&mut self, note: &str, streamed: Streamed, latest: Option<Checkpoint>) {
        let r = &mut self.report;
        let cp = match Checkpoint::open(note, &self.origin, &self.key) {
            Ok(cp) => cp,
            Err(e) => {
                r.add(Finding::fail(Check::CheckpointSignature, e.to_string()));
                return;
            }
        };
        r.add(Finding::pass(
            Check::CheckpointSignature,
            format!("size {}", cp.size),
        ));
        r.root = Some(hex::encode(&cp.root));
        r.size = cp.size;
        let Streamed {
            replica,
            spent_tree,
            first,
            receipted,
            kinds,
            replay,
            stopped,
            // Returned as an error before the report is made.
            spill_failed: _,
        } = streamed;
        if let Some(f) = stopped {
            r.add(f);
            return;
        }
        let guard;
        let tree: &Tree = match &spent_tree {
            Some(t) => t,
            None => {
                guard = replica.tree();
                &guard
            }
        };
        let held = tree.size();
        let whole = latest.as_ref().map_or(cp.size, |l| l.size);
        let root = if held != whole || !prefix(tree, &cp) {
            Err(format!(
                "the {held} entries do not hash to the signed root of size {} (an entry was removed, added, altered or reordered)",
                cp.size
            ))
        } else if let Some(l) = latest.as_ref().filter(|l| !prefix(tree, l)) {
            Err(format!(
                "the board's {held} entries do not hash to its latest signed root of size {} (an entry past the {} verified was removed, added, altered or reordered)",
                l.size, cp.size
            ))
        } else {
            Ok(format!("{} entries", cp.size))
        };
        if !r.add(Finding::of(Check::TreeRoot, root)) {
            return;
        }
        let manifest = first.as_deref().and_then(manifest_of_entry);
        if let Some(m) = &manifest {
            let source = r.key_source.map_or("", |s| s.describe());
            r.add(Finding::of(
                Check::BoardKey,
                if m.board_key == self.key {
                    Ok(format!(
                        "the manifest names the key the checkpoint is signed with ({source})"
                    ))
                } else {
                    Err("the manifest names a different board key from the one the checkpoint is signed with".into())
                },
            ));
        }
        self.earlier(tree, &cp, latest.as_ref());
        let r = &mut self.report;
        if let Some(m) = manifest.as_ref().filter(|m| !m.witnesses.is_empty()) {
            let (policy, quorum) = witness_policy(m);
            let cosigners = urna_ledger::note::cosigners(note, &policy);
            r.witnesses = Some(WitnessReport {
                named: policy.len(),
                quorum,
                cosigners: cosigners
                    .iter()
                    .flatten()
                    .map(|(i, _)| policy[*i].0.clone())
                    .collect(),
                ..WitnessReport::default()
            });
            r.add(match cosigners {
                Ok(c) if c.len() >= quorum => Finding::pass(
                    Check::WitnessQuorum,
                    format!(
                        "{} of {} witnesses ({} needed): {}",
                        c.len(),
                        policy.len(),
                        quorum,
                        c.iter()
                            .map(|(i, _)| policy[*i].0.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                Ok(c) => Finding::fail(
                    Check::WitnessQuorum,
                    format!(
                        "only {} valid witness cosignatures, {quorum} needed: this checkpoint may be a view shown to some and not others",
                        c.len()
                    ),
                ),
                Err(e) => {
                    let f = Finding::fail(Check::WitnessQuorum, e.to_string());
                    match e {
                        urna_ledger::note::NoteError::BadCosignature(name) => f.in_field(name),
                        _ => f,
                    }
                }
            });
        }
        r.entries_by_kind = kinds;
        if let Err(e) = replay {
            r.add(match e {
                ReplicaError::Malformed { index, error } => {
                    Finding::fail(Check::EntryFormat, format!("entry {index}: {error}"))
                        .at_entry(index)
                }
                ReplicaError::Refused {
                    index,
                    kind,
                    rejection,
                } => Finding::refused(index, &kind.to_string(), &rejection),
                e => Finding::fail(Check::EntryRules, e.to_string()),
            });
            return;
        }
        r.add(Finding::pass(
            Check::EntryRules,
            "signatures, proofs, eligibility, phases, revoting, key ceremony, decryption shares",
        ));
        let election = replica.election();
        r.title = election.manifest().map(|m| m.title.clone());
        r.manifest = election.manifest().cloned();
        r.phase = Some(election.phase());
        r.counts = Some(election.counts());
        election.for_each_ballot(|b| {
            if b.status == BallotStatus::Challenged {
                let code = TrackingCode::full(&b.tracking_code);
                r.challenged.push(format!("entry {} {code}", b.index));
            }
        });
        if !r.challenged.is_empty() {
            let n = r.challenged.len();
            r.add(Finding::pass(
                Check::ChallengedBallots,
                format!("{n} audited"),
            ));
        }
        for (k, receipt) in self.opts.receipts.iter().enumerate() {
            let at = receipted.get(k).cloned().flatten();
            let f = Finding::of(
                Check::VoterReceipt,
                check_receipt(receipt, &self.key, (tree, cp.size), election, at.as_deref()),
            )
            .in_field(format!("receipt {}", k + 1))
            .at_entry(receipt.receipt.index);
            r.add(f);
        }
        ranked_findings(r, election);
        match election.phase() {
            Phase::Finished if !election.manifest().is_some_and(|m| m.has_tally()) => {
                r.add(Finding::pass(
                    Check::Result,
                    "no homomorphic tally: every contest is ranked, counted above",
                ));
                r.includes_result = true;
                r.result = election
                    .manifest()
                    .and_then(|m| urna_election::payload::ElectionResult::from_tally(m, &[]));
            }
            Phase::Finished => {
                let published = election.result().cloned();
                let recomputed = urna_tally::result::compute(election).map_err(|e| e.to_string());
                r.add(Finding::of(
                    Check::Result,
                    match (&published, recomputed) {
                        (Some(p), Ok(c)) if *p == c => {
                            Ok("equals the combination of the decryption shares".into())
                        }
                        (_, Err(e)) => Err(e),
                        _ => Err("the published result differs from the combination".into()),
                    },
                ));
                r.includes_result = published.is_some();
                r.result = published;
            }
            p => {
                // Observers check an election while it runs, too: everything so far verifies.
                r.add(Finding::pass(
                    Check::Result,
                    format!("not tallied yet (phase {p:?}); the log so far verifies"),
                ));
            }
        }
        if self.opts.require_result {
            r.add(Finding::of(
                Check::Final,
                if r.includes_result {
                    Ok("the election is finished".into())
                } else {
                    Err(format!(
                        "the verified log of {} entries does not contain the Result",
                        r.size
                    ))
                },
            ));
        }
    }

    /// §3.3: each kept checkpoint is a prefix of this log. From a board, one past the part
    /// verified is checked against the board's latest log, which was streamed whole (`tree`
    /// kept its root).
    fn earlier(&mut self, tree: &Tree, cp: &Checkpoint, latest: Option<&Checkpoint>) {
        for (k, n) in self.opts.earlier.iter().enumerate() {
            let which = format!("checkpoint {}", k + 1);
            let res = match Checkpoint::open(n, &self.origin, &self.key) {
                Err(e) => Err(format!("earlier checkpoint {}: {e}", k + 1)),
                Ok(old) => match latest {
                    Some(l) if old.size > cp.size => {
                        if old.size > l.size {
                            Err(format!(
                                "a kept checkpoint has size {}, larger than the board's latest log ({})",
                                old.size, l.size
                            ))
                        } else if !prefix(tree, &old) {
                            Err(format!(
                                "a kept checkpoint (size {}) is not a prefix of the board's log: the board forked its log",
                                old.size
                            ))
                        } else {
                            Ok(format!(
                                "size {} is a prefix of the board's latest log (past the cosigned part verified)",
                                old.size
                            ))
                        }
                    }
                    _ if old.size > cp.size => Err(format!(
                        "earlier checkpoint {} has size {}, larger than the log's {}",
                        k + 1,
                        old.size,
                        cp.size
                    )),
                    _ if !prefix(tree, &old) => Err(format!(
                        "earlier checkpoint {} (size {}) is not a prefix of this log: the board forked its log",
                        k + 1,
                        old.size
                    )),
                    _ => Ok(format!("size {} is a prefix", old.size)),
                },
            };
            self.report
                .add(Finding::of(Check::EarlierCheckpoint, res).in_field(which));
        }
    }
}

/// A voter's receipt against the verified log (the first `verified` entries of `tree`): signed
/// by this board, its checkpoint a prefix of that log, its ballot at its index, and what became
/// of it.
fn check_receipt(
    receipt: &BallotReceipt,
    board_key: &VerifyingKey,
    (tree, verified): (&Tree, u64),
    election: &Election,
    at: Option<&[u8]>,
) -> Result<String, String> {
    if receipt.board_key != *board_key {
        return Err("the receipt is from another board key".into());
    }
    let cp = receipt.verify_offline().map_err(|e| e.to_string())?;
    if cp.size > verified || !prefix(tree, &cp) {
        return Err(format!(
            "the receipt's checkpoint (size {}) is not a prefix of this log: the board forked or rewrote its log",
            cp.size
        ));
    }
    let i = receipt.receipt.index;
    let code = receipt.tracking_code().full();
    // The receipt's ballot is the log's entry at its index, and what the rules made of it
    // (found by its index among the records, wherever the election keeps them).
    let standing = match at == Some(&receipt.entry[..]) {
        true => election.ballot_status(i).ok_or(()),
        false => Err(()),
    };
    match standing {
        Ok(BallotStatus::Counted) => Ok(format!("ballot {code} (entry {i}) is counted")),
        Ok(BallotStatus::Superseded { by }) => Ok(format!(
            "ballot {code} (entry {i}) was superseded by the same credential's ballot at entry {by}"
        )),
        Ok(BallotStatus::Challenged) => Ok(format!(
            "ballot {code} (entry {i}) was challenged, never counted"
        )),
        Err(_) => Err(format!("entry {i} of the log is not the receipt's ballot")),
    }
}

/// The sizes of the log whose roots the checks after the stream compare (besides the log's
/// own): those of the checkpoints kept earlier and of the voters' receipts, read here without
/// verifying them (the checks do). The streaming tree keeps only these roots and its right
/// edge, not 64 bytes an entry.
fn sizes_checked(opts: &Options) -> Vec<u64> {
    let earlier = opts.earlier.iter().filter_map(|n| {
        let (body, _) = urna_ledger::note::split_note(n).ok()?;
        Some(Checkpoint::parse_body(&body).ok()?.size)
    });
    let receipts = opts
        .receipts
        .iter()
        .filter_map(|r| r.verify_offline().ok().map(|cp| cp.size));
    earlier.chain(receipts).collect()
}

/// That `cp` is a view of the log `tree` holds: it covers no more, and the first `cp.size`
/// leaves hash to its root.
fn prefix(tree: &Tree, cp: &Checkpoint) -> bool {
    cp.size <= tree.size() && tree.root(cp.size).ok() == Some(cp.root)
}

/// The manifest of a `Setup` entry's bytes.
fn manifest_of_entry(entry: &[u8]) -> Option<Manifest> {
    let e = Entry::decode(entry.to_vec()).ok()?;
    match Payload::decode(e.kind(), e.payload()).ok()? {
        Payload::Setup(m) => Some(*m),
        _ => None,
    }
}

/// One `ranked-count` finding per ranked contest: who mixed it and decrypted it (each entry
/// was admitted with its proof, so the replay has checked them), and whether its count is
/// published in full; the count itself goes into the report.
fn ranked_findings(r: &mut Report, election: &urna_election::state::Election) {
    let Some(m) = election.manifest().cloned() else {
        return;
    };
    for s in election.mix_status() {
        let Some(c) = m.contests.get(usize::from(s.contest)) else {
            continue;
        };
        let mixers: Vec<&str> = m.mixers[..s.mixes.min(m.mixers.len())]
            .iter()
            .map(|x| x.name.as_str())
            .collect();
        let mut detail = format!(
            "{}: {} ballots; mixed by {} of {} mixers ({}), each shuffle proof verified",
            c.id,
            s.rows,
            s.mixes,
            s.mixers,
            if mixers.is_empty() {
                "none yet".to_string()
            } else {
                mixers.join(", ")
            }
        );
        if !s.decrypted_by.is_empty() {
            let by: Vec<String> = s.decrypted_by.iter().map(u16::to_string).collect();
            detail.push_str(&format!(
                "; decrypted by trustees {} with proofs",
                by.join(", ")
            ));
        }
        if let Some(d) = election.ranked_result(s.contest) {
            let res = urna_tally::ranked::RankedResult::new(c, &d.count);
            let published = s.count_len == Some(s.count_posted);
            detail.push_str(&format!(
                "; {} counted, {} blank, {} invalid; {}{}",
                res.counted,
                res.blank,
                d.count.invalid.len(),
                res.outcome(),
                if published {
                    " (the published count equals it)"
                } else {
                    " (count not published in full yet)"
                }
            ));
            r.ranked.push(res);
        }
        r.add(Finding::pass(Check::RankedCount, detail).in_field(c.id.clone()));
    }
}

/// The manifest of a log's first entry, if it is a `Setup`.
pub fn manifest_of(log: &dyn LogStore) -> Option<Manifest> {
    let first = log.read(0, 1.min(log.len())).ok()?.pop()?;
    manifest_of_entry(&first)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use urna_ledger::merkle::leaf_hash;

    /// Streaming in chunks of any size gives the state of replaying the whole log at once,
    /// and the same tree; a refused entry stops the replay at its index, not the hashing.
    #[test]
    fn streaming_in_any_chunks_is_replaying_at_once() {
        let r = urna_sim::kit::record(18);
        let whole = Election::replay(&r.entries).unwrap();
        let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
        let n = raw.len() as u64;
        for chunk in [1, 7, 64, n + 1] {
            let read = |a: u64, b: u64| -> Result<Vec<Vec<u8>>, Finding> {
                Ok(raw[a as usize..b as usize].to_vec())
            };
            let back = Reread(|i| Ok(raw[i as usize].clone()));
            let s = stream(
                &read,
                &back,
                chunk,
                n,
                n,
                &[],
                &Options::default(),
                &|_, _| {},
            );
            assert!(s.replay.is_ok() && s.stopped.is_none());
            let e = s.replica.election();
            assert_eq!(e.size(), whole.size());
            assert_eq!(e.counts(), whole.counts());
            assert!(
                e.counts().superseded > 0,
                "the record has revotes to read back"
            );
            assert_eq!(e.encrypted_tally(), whole.encrypted_tally());
            assert_eq!(e.result(), whole.result());
            assert_eq!(e.ballots(), whole.ballots());
            assert_eq!(s.replica.size(), n);
            assert!(s.spent_tree.is_none());
            assert_eq!(s.first.as_ref(), raw.first());
        }
        let mut bad = raw.clone();
        let at = r.challenged_at;
        if let Some(x) = bad[at].last_mut() {
            *x ^= 1;
        }
        let read = |a: u64, b: u64| -> Result<Vec<Vec<u8>>, Finding> {
            Ok(bad[a as usize..b as usize].to_vec())
        };
        let back = Reread(|i| Ok(bad[i as usize].clone()));
        let s = stream(&read, &back, 5, n, n, &[], &Options::default(), &|_, _| {});
        let t = s.spent_tree.as_ref().expect("the tree past the refusal");
        assert_eq!(t.size(), n, "hashing goes on past the refusal");
        let mut whole_tree = Tree::new();
        bad.iter().for_each(|e| whole_tree.push(leaf_hash(e)));
        assert_eq!(t.root(n).unwrap(), whole_tree.root(n).unwrap());
        match s.replay {
            Err(ReplicaError::Refused { index, .. })
            | Err(ReplicaError::Malformed { index, .. }) => {
                assert!(index == at as u64 - 1 || index == at as u64, "{index}")
            }
            other => panic!("{:?}", other.err()),
        }
    }

    /// What a board's log leaves in memory once streamed is a frontier tree: its right edge
    /// and the roots at the sizes kept (the part verified), not 64 bytes an entry; the entries
    /// past the part verified are hashed, not counted or replayed.
    #[test]
    fn a_streamed_log_leaves_a_frontier_not_a_tree() {
        let r = urna_sim::kit::record(18);
        let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
        let n = raw.len() as u64;
        let split = n / 2;
        let read = |a: u64, b: u64| -> Result<Vec<Vec<u8>>, Finding> {
            Ok(raw[a as usize..b as usize].to_vec())
        };
        let back = Reread(|i| Ok(raw[i as usize].clone()));
        let s = stream(
            &read,
            &back,
            7,
            n,
            split,
            &[split],
            &Options::default(),
            &|_, _| {},
        );
        assert!(s.replay.is_ok() && s.stopped.is_none());
        let tree = s.replica.tree();
        assert!(tree.is_frontier());
        let mut whole = Tree::new();
        raw.iter().for_each(|e| whole.push(leaf_hash(e)));
        assert_eq!(tree.size(), n);
        assert_eq!(tree.root(n).unwrap(), whole.root(n).unwrap());
        assert_eq!(tree.root(split).unwrap(), whole.root(split).unwrap());
        assert!(tree.root(split - 1).is_err(), "no other size is kept");
        assert_eq!(s.replica.election().size(), split);
        assert_eq!(s.kinds.values().sum::<u64>(), split);
    }

    /// The replay of the whole log at once, entry by entry in batches, without reading ahead:
    /// where it stops and why.
    fn replayed_at_once(raw: &[Vec<u8>]) -> Option<(u64, String)> {
        let mut r = Replica::streaming();
        r.stage(raw.to_vec(), None).unwrap();
        let back = Reread(|i| Ok(raw[i as usize].clone()));
        r.replay_reading(raw.len() as u64, &|_, _| {}, &back)
            .err()
            .map(|e| (e.entry().map(|(i, _)| i).unwrap(), e.to_string()))
    }

    /// A bad entry in a chunk read and verified ahead while the chunk before it replays — a
    /// ballot whose proof or signature fails, an entry that does not decode — is found by the
    /// pipelined stream at the same index and with the same reason as by replaying the whole
    /// log at once, whatever the chunk size; and the tree still covers every entry.
    #[test]
    fn a_bad_entry_read_ahead_is_found_where_replaying_at_once_finds_it() {
        let r = urna_sim::kit::record(18);
        let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
        let n = raw.len() as u64;
        let ballots: Vec<usize> = r
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind() == urna_election::entry::EntryKind::Ballot)
            .map(|(i, _)| i)
            .collect();
        let late = ballots[ballots.len() - 3];
        type Damage = Box<dyn Fn(&mut Vec<u8>)>;
        let damages: [(&str, Damage); 3] = [
            (
                "signature",
                Box::new(|e: &mut Vec<u8>| {
                    if let Some(x) = e.last_mut() {
                        *x ^= 1
                    }
                }),
            ),
            (
                "proof",
                Box::new(|e: &mut Vec<u8>| {
                    let k = e.len() - 64 - 40;
                    e[k] ^= 1;
                }),
            ),
            ("envelope", Box::new(|e: &mut Vec<u8>| e[0] ^= 0xff)),
        ];
        for (what, damage) in &damages {
            let mut bad = raw.clone();
            damage(&mut bad[late]);
            let expected = replayed_at_once(&bad).expect("the damage is found");
            for chunk in [3, 8, 16] {
                assert!(
                    late as u64 >= chunk,
                    "the bad entry is past the first chunk"
                );
                let read = |a: u64, b: u64| -> Result<Vec<Vec<u8>>, Finding> {
                    Ok(bad[a as usize..b as usize].to_vec())
                };
                let back = Reread(|i| Ok(bad[i as usize].clone()));
                let s = stream(
                    &read,
                    &back,
                    chunk,
                    n,
                    n,
                    &[],
                    &Options::default(),
                    &|_, _| {},
                );
                let got = s
                    .replay
                    .err()
                    .map(|e| (e.entry().map(|(i, _)| i).unwrap(), e.to_string()));
                assert_eq!(got.as_ref(), Some(&expected), "{what}, chunks of {chunk}");
                assert_eq!(s.spent_tree.map(|t| t.size()), Some(n), "{what}");
            }
        }
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;

    #[test]
    fn a_batch_is_a_replay_batch_of_entries_or_fewer_that_hold_the_byte_budget() {
        let ballots = vec![vec![0u8; 3_100]; 3_000];
        assert_eq!(batch_end(&ballots), REPLAY_BATCH);
        assert_eq!(batch_end(&ballots[..10]), 10);
        let rolls = vec![vec![0u8; 38_144]; 1_000];
        let n = batch_end(&rolls);
        assert_eq!(n, BATCH_BYTES / 38_144);
        assert!(rolls[..n].iter().map(Vec::len).sum::<usize>() <= BATCH_BYTES);
        // One entry larger than the budget is still a batch of its own.
        assert_eq!(batch_end(&[vec![0u8; BATCH_BYTES + 1], vec![1]]), 1);
        assert_eq!(batch_end(&[]), 0);
    }
}
