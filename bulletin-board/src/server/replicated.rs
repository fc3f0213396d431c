//! A board process on the PostgreSQL log of record, one of several sharing it
//! (`specs/storage.md` §5–6).
//!
//! Exactly one process sequences: the one holding the lease. It runs the same group-commit
//! writer as a board on a file, each group one transaction (entries and checkpoint, one
//! synchronous commit). Every other process follows: it reads the log from the database up to
//! the stored checkpoint, checks it against the checkpoint's signature and root and replays it
//! through the rules, serves every read from its own copy, and forwards submissions to the
//! sequencer at the address the sequencer recorded with its lease — relaying the sequencer's
//! answer, or `503` while no sequencer answers. A follower tries for the lease every
//! [`LEASE_POLL`]; the moment the sequencer's session ends (its process or machine died, the
//! primary failed over), one follower gets it, replays the entries no checkpoint covers yet
//! (taking the lease confirmed them on a standby), signs a checkpoint and sequences, without
//! reopening anything.
//!
//! Any storage failure — a lost connection, a commit of unknown outcome, the lease gone —
//! ends the process's copy of the log: it is reopened from the database (whichever server is
//! the primary then), and the process becomes sequencer or follower anew. Nothing in memory
//! survives that, so nothing can be acknowledged that the database does not hold on two
//! machines.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, ArcSwapOption};
use thiserror::Error;
use tokio::sync::mpsc;
use urna_crypto::sign::SigningKey;
use urna_election::entry::Entry;
use urna_election::state::{Preverified, ProofCheck};
use urna_ledger::note::{split_note, Checkpoint, Receipt};
use urna_ledger::{LogStore, Statement, StoreError};
use urna_pgstore::{Durability, Identity, Options, PgStore, StoredSnapshot};

use super::writer::{self, Job, Reply, Submission, MAX_GROUP, QUEUE};
use super::{AppState, Live};
use crate::attest::{self, AttestError, Attestation};
use crate::board::{Board, OpenError, SnapshotSink, SnapshotStore, SnapshotUse, SubmitError, View};
use crate::snapshot::{self, Discarded, Loaded};

/// How often a follower reads the stored checkpoint.
pub const REFRESH: Duration = Duration::from_millis(50);
/// How often a follower tries for the lease, and a sequencer checks it still holds it.
pub const LEASE_POLL: Duration = Duration::from_millis(100);
/// The longest wait between two attempts to reopen the log (they start 50 ms apart and
/// double): a promoted primary, or a standby back, is found within this.
pub const REOPEN_MAX: Duration = Duration::from_millis(500);
/// Submissions a follower forwards at once: enough that the sequencer's group commit sees as
/// many of its clients' submissions together as if they had come to it directly (each waits a
/// synchronous commit; the threads mostly wait).
const FORWARDERS: usize = 64;
/// The longest a forwarded submission may wait for the sequencer's answer.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

/// How to run a board process on the shared log.
#[derive(Clone)]
pub struct Config {
    /// The database: a libpq URL, which may list every server
    /// (`postgresql://urna@db1,db2,db3/election`).
    pub url: String,
    pub origin: String,
    pub key: SigningKey,
    pub durability: Durability,
    /// The address other board processes reach this one at (`http://host:port`), recorded
    /// with the lease when this process sequences.
    pub advertise: String,
    /// Entries between two snapshots of the rules' state the board's processes store in the
    /// database (0: none), from which every process opening the log starts: the followers write
    /// them, the sequencer only if none does (`specs/storage.md` §3a).
    pub snapshot_every: u64,
}

/// Why a board process could not open its copy of the shared log.
#[derive(Debug, Error)]
pub enum StartError {
    #[error("{0} [{code}]", code = .0.code())]
    Database(#[from] urna_pgstore::OpenError),
    #[error("{0} [{code}]", code = .0.code())]
    Store(#[from] urna_pgstore::StoreError),
    #[error(transparent)]
    Board(#[from] OpenError),
}

/// The shared log as one process's replica sees it: reads go to the database; appends go to
/// it only while this process sequences. A follower's replica "appends" entries it read from
/// the database (and checked against a signed checkpoint): that only moves its own length,
/// within what the database holds.
pub struct SharedLog {
    pg: PgStore,
    len: AtomicU64,
    sequencing: AtomicBool,
    /// The lease epoch while sequencing (0: not sequencing), read by every submission that
    /// carries an attestation: kept here so that none waits for the writer's connection.
    epoch: AtomicU64,
    /// The statements last confirmed on a standby (checkpoint, cosigned).
    synced: Mutex<[Option<String>; 2]>,
}

impl SharedLog {
    /// `pg` as a replica holding its first `len` entries sees it; appending through to the
    /// database if `sequencing`.
    pub fn new(pg: PgStore, len: u64, sequencing: bool) -> SharedLog {
        let epoch = if sequencing {
            pg.lease_epoch().unwrap_or(0)
        } else {
            0
        };
        SharedLog {
            pg,
            len: AtomicU64::new(len),
            sequencing: AtomicBool::new(sequencing),
            epoch: AtomicU64::new(epoch),
            synced: Mutex::new([None, None]),
        }
    }

    pub fn pg(&self) -> &PgStore {
        &self.pg
    }

    pub fn sequencing(&self) -> bool {
        self.sequencing.load(Ordering::Acquire)
    }

    /// The lease epoch this process sequences under, if it does.
    pub fn epoch(&self) -> Option<u64> {
        Some(self.epoch.load(Ordering::Acquire)).filter(|&e| e > 0 && self.sequencing())
    }

    /// Starts sequencing under the lease `pg` now holds (a follower that took it).
    fn start_sequencing(&self) {
        self.epoch
            .store(self.pg.lease_epoch().unwrap_or(0), Ordering::Release);
        self.sequencing.store(true, Ordering::Release);
    }
}

/// What the sequencer checks a forwarded submission's attestation against: the board key (the
/// forwarder's, as every process of the board holds it), the log's origin and the lease epoch
/// it sequences under (`specs/storage.md` §5a).
pub struct Attested {
    origin: String,
    key: urna_crypto::sign::VerifyingKey,
    shared: Arc<SharedLog>,
}

impl Attested {
    pub(super) fn check(&self, header: &str, raw: &[u8]) -> Result<attest::Statement, AttestError> {
        Attestation::check(header, raw, &self.origin, &self.key, self.shared.epoch())
    }
}

impl LogStore for SharedLog {
    fn len(&self) -> u64 {
        self.len.load(Ordering::Acquire)
    }

    /// HTTP handlers read entries on the server's runtime, where the synchronous PostgreSQL
    /// client (which runs its own) must not block: the read moves off it.
    fn read(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let read = || LogStore::read(&self.pg, start, end);
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Err(_) => read(),
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(read),
            Ok(_) => std::thread::scope(|s| s.spawn(read).join()).unwrap_or_else(|_| {
                Err(StoreError::Io(std::io::Error::other(
                    "the log's reader thread failed",
                )))
            }),
        }
    }

    fn append(&self, at: u64, entries: &[&[u8]]) -> Result<(), StoreError> {
        let len = self.len();
        if at != len {
            return Err(StoreError::Fenced { at, len });
        }
        let end = at + entries.len() as u64;
        if self.sequencing() {
            LogStore::append(&self.pg, at, entries)?;
        } else if end > self.pg.len() {
            return Err(StoreError::OutOfRange {
                start: at,
                end,
                len: self.pg.len(),
            });
        }
        self.len.store(end, Ordering::Release);
        Ok(())
    }

    fn append_with_checkpoint(
        &self,
        at: u64,
        entries: &[&[u8]],
        checkpoint: &str,
    ) -> Result<(), StoreError> {
        if !self.sequencing() {
            return Err(StoreError::NotLeaseholder);
        }
        let len = self.len();
        if at != len {
            return Err(StoreError::Fenced { at, len });
        }
        LogStore::append_with_checkpoint(&self.pg, at, entries, checkpoint)?;
        self.len.store(at + entries.len() as u64, Ordering::Release);
        Ok(())
    }

    /// A follower returns a statement only once it is on a standby (a commit is visible on
    /// the primary before its standby has it, `PgStore::sync_point`): what it serves then
    /// survives the primary's death. The entries a checkpoint covers were committed before it.
    fn statement(&self, which: Statement) -> Result<Option<String>, StoreError> {
        let note = LogStore::statement(&self.pg, which)?;
        if !self.sequencing() && note.is_some() {
            let slot = match which {
                Statement::Checkpoint => 0,
                Statement::Cosigned => 1,
            };
            let mut synced = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
            if synced[slot] != note {
                self.pg.sync_point()?;
                synced[slot].clone_from(&note);
            }
        }
        Ok(note)
    }

    fn set_statement(&self, which: Statement, text: &str) -> Result<(), StoreError> {
        LogStore::set_statement(&self.pg, which, text)
    }
}

/// One opening of the shared log: a board over it, as sequencer or follower.
struct Generation {
    board: Board,
    shared: Arc<SharedLog>,
    view: Arc<ArcSwap<View>>,
    jobs: mpsc::Sender<Job>,
    queue: mpsc::Receiver<Job>,
}

impl Generation {
    fn live(&self) -> Live {
        let mut live = Live::of(&self.board, Arc::clone(&self.view), self.jobs.clone());
        live.attested = Some(Arc::new(Attested {
            origin: self.board.origin().to_string(),
            key: self.board.public_key(),
            shared: Arc::clone(&self.shared),
        }));
        live
    }
}

fn open(cfg: &Config) -> Result<Generation, StartError> {
    let started = Instant::now();
    let identity = Identity {
        origin: cfg.origin.clone(),
        board_key: *cfg.key.verifying_key().as_bytes(),
    };
    let pg = PgStore::open(
        &cfg.url,
        identity,
        Options {
            durability: cfg.durability,
            create: false,
            holder: cfg.advertise.clone(),
            ..Options::default()
        },
    )?;
    let sequencing = pg.try_acquire_lease()?;
    // A sequencer takes the whole log (its lease confirmed it durable); a follower what the
    // stored checkpoint covers.
    let len = if sequencing {
        pg.refresh_len()?
    } else {
        pg.statement(Statement::Checkpoint)?
            .as_deref()
            .and_then(stated_size)
            .unwrap_or(0)
    };
    let shared = Arc::new(SharedLog::new(pg, len, sequencing));
    // A follower read the checkpoint's size, then opens against the checkpoint stored then:
    // the sequencer may have stored a larger one in between. That is not damage: take the
    // entries the new one covers and open again (a few times; a sequencer that keeps outrunning
    // the opening is reported, and the caller tries again later).
    let mut attempts = 0;
    let (mut board, checked) = loop {
        let store: Arc<dyn LogStore> = shared.clone();
        let t = Instant::now();
        let (stored, read) = stored_snapshot_timed(&shared, &cfg.origin, &cfg.key)?;
        let checked = t.elapsed().saturating_sub(read);
        match Board::open_shared_from(store, &cfg.origin, cfg.key.clone(), sequencing, stored) {
            Err(OpenError::StatementMismatch { size, .. })
                if !sequencing && size > shared.len() && attempts < 5 =>
            {
                attempts += 1;
                shared.len.store(size, Ordering::Release);
            }
            r => break (r?, [read, checked]),
        }
    };
    // The phases on the same line, for whoever times openings (`specs/storage.md` §7).
    let phases: Vec<String> = [
        ("stored snapshot and leaf hashes read", checked[0]),
        ("stored snapshot checked", checked[1]),
    ]
    .into_iter()
    .chain(board.opening.iter().copied())
    .map(|(what, took)| format!("{what} {:.2} s", took.as_secs_f64()))
    .collect();
    let index = board
        .index_bytes()
        .map(|b| format!("; index in memory {:.1} MB", b as f64 / 1e6))
        .unwrap_or_default();
    let opened = format!(
        "opened the log's {} entries in {:.2} s [{}{index}]",
        board.size(),
        started.elapsed().as_secs_f64(),
        phases.join(", ")
    );
    match &board.snapshot {
        SnapshotUse::None => say(cfg, &format!("{opened} (no stored snapshot)")),
        SnapshotUse::Restored { size } => say(
            cfg,
            &format!(
                "{opened}: restored the stored snapshot of {size} entries; replayed only the rest"
            ),
        ),
        SnapshotUse::Discarded(e) => say(
            cfg,
            &format!(
                "{opened}: discarded the stored snapshot ({e} [{}]); replayed the log from zero",
                e.code()
            ),
        ),
    }
    board.snapshot_to(snapshot_sink(&shared), snapshot_every(cfg, sequencing));
    let view = Arc::new(ArcSwap::from_pointee(board.view()));
    let (jobs, queue) = mpsc::channel(QUEUE);
    Ok(Generation {
        board,
        shared,
        view,
        jobs,
        queue,
    })
}

/// The database's snapshot of the rules' state, checked against the log's leaf hashes and
/// bounded by the stored checkpoint (`specs/storage.md` §3a); `None` if it has none. A failure
/// to read it is a reason to discard it, not to stop opening (the log is the record); a
/// failure to read the checkpoint is the opening's.
pub fn stored_snapshot(
    shared: &SharedLog,
    origin: &str,
    key: &SigningKey,
) -> Result<Option<Result<Loaded, Discarded>>, StartError> {
    stored_snapshot_timed(shared, origin, key).map(|(s, _)| s)
}

/// [`stored_snapshot`], and how long reading the row and the leaf hashes took (the rest is
/// the check).
fn stored_snapshot_timed(
    shared: &SharedLog,
    origin: &str,
    key: &SigningKey,
) -> Result<(Option<Result<Loaded, Discarded>>, Duration), StartError> {
    let bound = shared
        .pg()
        .statement(Statement::Checkpoint)?
        .as_deref()
        .and_then(stated_size)
        .unwrap_or(0);
    let t = Instant::now();
    // The row and the leaf hashes of the entries it says it covers, read at once; the check
    // takes those leaf hashes only if the signed header covers as many entries (else it reads
    // the ones it names), so that it is the check it was.
    let vk = key.verifying_key();
    let stored = match shared.pg().snapshot_with_leaves() {
        Ok(None) => return Ok((None, t.elapsed())),
        Ok(Some(s)) => s,
        // Reading at once takes two more connections, which the server may refuse (its
        // `max_connections`): then as before, the row on the readers' connection and the leaf
        // hashes after it, rather than a replay from zero.
        Err(_) => {
            let bytes = match shared.pg().snapshot() {
                Ok(None) => return Ok((None, t.elapsed())),
                Ok(Some((_, bytes))) => bytes,
                Err(e) => {
                    let e = Discarded::Io(std::io::Error::other(e.to_string()));
                    return Ok((Some(Err(e)), t.elapsed()));
                }
            };
            let checked = snapshot::check_stored(bytes, origin, &vk, bound, |n| {
                shared.pg().leaves(0, n).map_err(|e| e.to_string())
            });
            return Ok((Some(checked), t.elapsed()));
        }
    };
    let read = t.elapsed();
    let StoredSnapshot {
        size,
        bytes,
        leaves,
    } = stored;
    let checked = snapshot::check_stored(bytes, origin, &vk, bound, |n| {
        if n == size {
            leaves.map_err(|e| e.to_string())
        } else {
            shared.pg().leaves(0, n).map_err(|e| e.to_string())
        }
    });
    Ok((Some(checked), read))
}

/// Where every board process stores its snapshots: the database, on a connection of their own
/// (`specs/storage.md` §3a).
pub fn snapshot_sink(shared: &Arc<SharedLog>) -> SnapshotSink {
    Arc::new(Stored(Arc::clone(shared)))
}

struct Stored(Arc<SharedLog>);

impl SnapshotStore for Stored {
    fn stored(&self) -> Result<u64, String> {
        self.0.pg().snapshot_size().map_err(|e| e.to_string())
    }

    fn put(&self, size: u64, bytes: Vec<u8>) -> Result<(), String> {
        self.0
            .pg()
            .put_snapshot(size, &bytes)
            .map(|_| ())
            .map_err(|e| format!("storing it in the database: {e} [{}]", e.code()))
    }
}

/// The entries between two snapshots a process writes: a follower every `every` entries; the
/// sequencer — whose CPU bounds admission — only once the stored one is twice that far behind,
/// that is when no follower is writing them (`specs/storage.md` §3a).
fn snapshot_every(cfg: &Config, sequencing: bool) -> u64 {
    if sequencing {
        cfg.snapshot_every.saturating_mul(2)
    } else {
        cfg.snapshot_every
    }
}

/// The size a stored checkpoint states (its signature is checked when the board opens).
fn stated_size(note: &str) -> Option<u64> {
    let (body, _) = split_note(note).ok()?;
    Checkpoint::parse_body(&body).ok().map(|c| c.size)
}

/// What a running process is, for its operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Sequencer,
    Follower,
}

/// Opens the shared log (refusing at once a database or server that is not fit: the errors of
/// `specs/storage.md` §2–3) and starts serving it as sequencer or follower; returns the state
/// the router serves and the role taken at start. From then on the process keeps going by
/// itself: see the module documentation.
pub fn start(cfg: Config) -> Result<(AppState, Role), StartError> {
    let gen = open(&cfg)?;
    if let Some(g) = gen.shared.pg().guarantee() {
        say(&cfg, &g.to_string());
    }
    let role = if gen.shared.sequencing() {
        Role::Sequencer
    } else {
        Role::Follower
    };
    let state = AppState::new(gen.live());
    let serving = state.clone();
    std::thread::spawn(move || supervise(cfg, serving, gen));
    Ok((state, role))
}

fn say(cfg: &Config, what: &str) {
    eprintln!("urna board ({}): {what}", cfg.advertise);
}

/// Runs generation after generation: sequencing or following, reopening after any failure.
fn supervise(cfg: Config, state: AppState, mut gen: Generation) {
    loop {
        let ended = if gen.shared.sequencing() {
            say(
                &cfg,
                &format!("sequencing the log from entry {}", gen.board.size()),
            );
            sequence(&mut gen)
        } else {
            say(&cfg, "following the sequencer");
            match follow(&cfg, &mut gen) {
                Ok(()) => continue,
                Err(e) => Err(e),
            }
        };
        match ended {
            Ok(()) => say(&cfg, "gave up the lease; reopening the log"),
            Err(e) => say(&cfg, &format!("{e}; reopening the log")),
        }
        drop(gen);
        let mut wait = Duration::from_millis(50);
        gen = loop {
            match open(&cfg) {
                Ok(g) => break g,
                Err(e) => {
                    say(&cfg, &format!("cannot open the log yet: {e}"));
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(REOPEN_MAX);
                }
            }
        };
        state.replace(gen.live());
    }
}

/// The sequencer: the board's writer, and a watch on the lease that stops it once the lease
/// is gone (so that it reopens, and serves as a follower, before the next submission fails).
fn sequence(gen: &mut Generation) -> Result<(), String> {
    let wake = writer::start_pusher(&gen.board, &gen.view, &gen.jobs);
    let stop = Arc::new(AtomicBool::new(false));
    let watch = {
        let (shared, jobs, stop) = (gen.shared.clone(), gen.jobs.downgrade(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Acquire) {
                std::thread::sleep(LEASE_POLL * 5);
                if !matches!(shared.pg().holds_lease(), Ok(true)) {
                    if let Some(jobs) = jobs.upgrade() {
                        let _ = jobs.blocking_send(Job::Stop);
                    }
                    return;
                }
            }
        })
    };
    // The queue goes to the verifying stage: this generation ends with the sequencing.
    let (_, closed) = mpsc::channel(1);
    let queue = std::mem::replace(&mut gen.queue, closed);
    let r = writer::sequence_verifying(&mut gen.board, queue, &gen.view, &wake)
        .map_err(|e| format!("storage failed: {e}"));
    stop.store(true, Ordering::Release);
    drop(watch);
    r
}

/// The follower: refreshes from the stored checkpoint, forwards submissions, and tries for the
/// lease. Returns `Ok` once it holds the lease and has taken over (the generation now
/// sequences), or the error that spent its copy of the log.
fn follow(cfg: &Config, gen: &mut Generation) -> Result<(), String> {
    let forward = Forwarder::start(cfg, &gen.shared);
    forward
        .check
        .store(gen.board.election().proof_check().map(Arc::new));
    let mut refreshed = Instant::now()
        .checked_sub(REFRESH)
        .unwrap_or_else(Instant::now);
    let mut tried = Instant::now();
    loop {
        loop {
            match gen.queue.try_recv() {
                // A resubmission of an entry it has is answered here (as the sequencer would).
                Ok(Job::Submit(s, reply)) => match gen.board.receipt_of(s.bytes()) {
                    Some(r) => {
                        let _ = reply.send(Ok(r));
                    }
                    None => forward.send(s, reply),
                },
                // The sequencer records its witnesses' cosignatures; a follower reads them.
                Ok(Job::Cosignatures { .. }) => {}
                Ok(Job::ForceAppend(_, reply)) => {
                    let _ = reply.send(Err("this board process does not sequence".into()));
                }
                Ok(Job::Stop) | Err(mpsc::error::TryRecvError::Disconnected) => {
                    return Err("stopped".into())
                }
                Err(mpsc::error::TryRecvError::Empty) => break,
            }
        }
        if refreshed.elapsed() >= REFRESH {
            refreshed = Instant::now();
            if gen.board.follow().map_err(|e| e.to_string())? {
                gen.view.store(Arc::new(gen.board.view()));
                if forward.check.load().is_none() {
                    forward
                        .check
                        .store(gen.board.election().proof_check().map(Arc::new));
                }
            }
        }
        if tried.elapsed() >= LEASE_POLL {
            tried = Instant::now();
            let pg = gen.shared.pg();
            if pg.try_acquire_lease().map_err(|e| e.to_string())? {
                let len = pg.refresh_len().map_err(|e| e.to_string())?;
                let from = gen.board.size();
                gen.board.take_over(len).map_err(|e| e.to_string())?;
                say(
                    cfg,
                    &format!(
                        "took the lease with {from} entries replayed; replayed {} more",
                        len.saturating_sub(from)
                    ),
                );
                gen.board
                    .snapshot_to(snapshot_sink(&gen.shared), snapshot_every(cfg, true));
                gen.shared.start_sequencing();
                gen.view.store(Arc::new(gen.board.view()));
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Forwards submissions to the sequencer. One thread takes what has queued up and verifies it
/// together — signatures, and ballots' proofs in one batch on all cores — and refuses at once
/// what fails; a few threads forward the rest, each with an attestation signed with the board
/// key (`specs/storage.md` §5a), and relay the sequencer's answers.
struct Forwarder {
    tx: std::sync::mpsc::SyncSender<(Submission, Reply)>,
    /// What ballots' proofs are checked against, once this copy of the log has it.
    check: Arc<ArcSwapOption<ProofCheck>>,
}

impl Forwarder {
    fn start(cfg: &Config, shared: &Arc<SharedLog>) -> Forwarder {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(Submission, Reply)>(QUEUE);
        let (verified_tx, verified_rx) =
            std::sync::mpsc::sync_channel::<(Submission, Reply)>(QUEUE);
        let verified_rx = Arc::new(Mutex::new(verified_rx));
        let check: Arc<ArcSwapOption<ProofCheck>> = Arc::new(ArcSwapOption::empty());
        {
            let check = Arc::clone(&check);
            std::thread::spawn(move || verify(&rx, &verified_tx, &check));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(FORWARD_TIMEOUT))
            .build()
            .into();
        let target = Arc::new(Target {
            shared: shared.clone(),
            me: cfg.advertise.clone(),
            origin: cfg.origin.clone(),
            key: cfg.key.clone(),
            cached: Mutex::new(None),
        });
        for _ in 0..FORWARDERS {
            let (rx, agent, target) = (verified_rx.clone(), agent.clone(), target.clone());
            std::thread::spawn(move || loop {
                let next = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                let Ok((s, reply)) = next else { return };
                let answer = target.forward(&agent, &s);
                let _ = reply.send(answer);
            });
        }
        Forwarder { tx, check }
    }

    /// Queues a submission for the sequencer; beyond [`QUEUE`] waiting, answers `503` at
    /// once, as the sequencer's own queue does.
    fn send(&self, s: Submission, reply: Reply) {
        if let Err(
            std::sync::mpsc::TrySendError::Full((_, reply))
            | std::sync::mpsc::TrySendError::Disconnected((_, reply)),
        ) = self.tx.try_send((s, reply))
        {
            let _ = reply.send(Err(SubmitError::Unavailable {
                reason: "the board is at capacity; retry shortly".into(),
            }));
        }
    }
}

/// The forwarder's verifying thread: takes up to [`MAX_GROUP`] queued submissions at a time,
/// verifies them together, answers those that fail (the rules would refuse them in any state:
/// a bad signature, a ballot whose proofs do not verify, bytes that are not an entry) and
/// passes the others on, marked verified where their proofs were checked.
fn verify(
    rx: &std::sync::mpsc::Receiver<(Submission, Reply)>,
    out: &std::sync::mpsc::SyncSender<(Submission, Reply)>,
    check: &ArcSwapOption<ProofCheck>,
) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        let mut entries = Vec::with_capacity(group.len());
        let mut waiting = Vec::with_capacity(group.len());
        for (s, reply) in group {
            let decoded = match &s.entry {
                Ok(e) => Ok(e.clone()),
                Err(raw) => Entry::decode(raw.clone()),
            };
            match decoded {
                Ok(e) => {
                    entries.push(e);
                    waiting.push((s, reply));
                }
                Err(e) => {
                    let _ = reply.send(Err(SubmitError::Rejected(e.into())));
                }
            }
        }
        let check = check.load_full();
        let verdicts = ProofCheck::verify(check.as_deref(), &entries);
        for ((mut s, reply), v) in waiting.into_iter().zip(verdicts) {
            s.verified = match v {
                Preverified::Verified => true,
                Preverified::Unverified => false,
                Preverified::Refused(r) => {
                    let _ = reply.send(Err(SubmitError::Rejected(r)));
                    continue;
                }
            };
            if let Err(
                std::sync::mpsc::TrySendError::Full((_, reply))
                | std::sync::mpsc::TrySendError::Disconnected((_, reply)),
            ) = out.try_send((s, reply))
            {
                let _ = reply.send(Err(SubmitError::Unavailable {
                    reason: "the board is at capacity; retry shortly".into(),
                }));
            }
        }
    }
}

/// Where the sequencer is, and its lease epoch, as recorded with its lease, looked up again at
/// most every [`LEASE_POLL`] and after a failure; and what attests submissions to it.
struct Target {
    shared: Arc<SharedLog>,
    me: String,
    origin: String,
    key: SigningKey,
    cached: Mutex<Option<(Instant, u64, String)>>,
}

impl Target {
    fn sequencer(&self) -> Result<(u64, String), SubmitError> {
        let mut c = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, epoch, url)) = c.as_ref() {
            if at.elapsed() < LEASE_POLL {
                return Ok((*epoch, url.clone()));
            }
        }
        let unavailable = |reason: &str| SubmitError::Unavailable {
            reason: reason.to_string(),
        };
        let (epoch, holder) = match self.shared.pg().sequencer() {
            Ok(Some(s)) => s,
            Ok(None) => return Err(unavailable("no board process sequences this log yet")),
            Err(_) => return Err(unavailable("the log's database cannot be reached")),
        };
        if holder == self.me {
            // This process's own earlier life: the sequencer is gone, and the lease is
            // about to be taken.
            return Err(unavailable("the sequencer is changing; retry shortly"));
        }
        *c = Some((Instant::now(), epoch, holder.clone()));
        Ok((epoch, holder))
    }

    fn forget(&self) -> SubmitError {
        *self.cached.lock().unwrap_or_else(PoisonError::into_inner) = None;
        SubmitError::Unavailable {
            reason: "the sequencer did not answer (a failover may be under way); retry shortly"
                .into(),
        }
    }

    /// Forwards `s` with its attestation; a sequencer that says the attestation is for
    /// another epoch (it changed since the lookup) is looked up again, once.
    fn forward(&self, agent: &ureq::Agent, s: &Submission) -> Result<Receipt, SubmitError> {
        for attempt in 0..2 {
            let (epoch, url) = self.sequencer()?;
            let statement = attest::Statement {
                epoch,
                leaf: urna_ledger::merkle::leaf_hash(s.bytes()),
                verified: s.verified,
                // An in-process router without connection info knows no address.
                client: s
                    .client
                    .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
            };
            let header = statement.sign(&self.origin, &self.key).to_header();
            let resp = match agent
                .post(&format!("{}/entries", url.trim_end_matches('/')))
                .header("Content-Type", "application/octet-stream")
                .header(attest::HEADER, &header)
                .send(s.bytes())
            {
                Ok(r) => r,
                Err(_) => return Err(self.forget()),
            };
            let status = resp.status().as_u16();
            let text = resp.into_body().read_to_string().unwrap_or_default();
            match status {
                200 => {
                    return Receipt::parse(&text).map_err(|_| SubmitError::Internal {
                        reason: "the sequencer's receipt did not parse",
                    })
                }
                409 if attempt == 0 => {
                    self.forget();
                }
                409 | 503 => return Err(self.forget()),
                _ => return Err(SubmitError::Relayed { status, body: text }),
            }
        }
        Err(self.forget())
    }
}
