//! A validating node (specs/board.md §7): run by any organisation, it follows a board through
//! its tiles (C2SP tlog-tiles, as a C2SP tlog-mirror does), keeps a full durable copy of the
//! log in the board's own format (the framed file log of `urna-ledger`, with the board-signed
//! checkpoint it has validated beside it), replays every entry through the same [`Replica`]
//! and rules the board runs, and cosigns a checkpoint (C2SP tlog-witness, `cosignature/v1`)
//! only once every entry up to it is stored and admissible. It serves the board's read API
//! from its copy and forwards submissions to the board.
//!
//! The board and everyone else are hostile: every answer is bounded (the client's limits),
//! every entry is hashed and proven a prefix of a board-signed checkpoint before it is stored,
//! and nothing is cosigned past the first entry the rules refuse — that entry's index and the
//! rule's code are published instead ([`Refusal`]), as are two board-signed checkpoints that
//! cannot both be true ([`Evidence`]).
//!
//! - [`Node`]: the copy, the follower and the gate on cosigning, without HTTP;
//! - [`http`]: the router (the board's read handlers over the node's copy, the witness's
//!   endpoints, the node's own, and the forwarding of submissions).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use urna_board::board::View;
use urna_board::index::Index;
use urna_client::{BoardClient, ClientError};
use urna_crypto::sign::{SigningKey, VerifyingKey};
use urna_election::manifest::Manifest;
use urna_ledger::note::Checkpoint;
use urna_ledger::replica::SharedTree;
use urna_ledger::store::{FileLog, LogStore, Statement, StoreError};
use urna_ledger::tiles;
use urna_ledger::{Replica, ReplicaError};

pub mod http;

/// Most entries fetched and staged in one step (then proven a prefix of the checkpoint and
/// stored): bounds the node's memory whatever the length of the log it catches up on.
pub const STEP_ENTRIES: u64 = 16 * tiles::WIDTH;

/// Most pieces of evidence kept.
pub const MAX_EVIDENCE: usize = 64;

/// The node's own records (refusals, evidence) in its data directory.
const RECORDS: &str = "node-records.json";
/// The witness state (what it last cosigned) inside the data directory.
const WITNESS_DIR: &str = "witness";
/// The leaf-hash index (receipts by tracking code), as the board keeps it.
const INDEX: &str = "index";

/// How a node is set up.
#[derive(Clone)]
pub struct Config {
    /// The data directory: the log, the validated checkpoint, the index, the witness state.
    pub dir: PathBuf,
    /// The log's origin (the election id) and the board's key.
    pub origin: String,
    pub board_key: VerifyingKey,
    /// Where the board is, to follow it and forward submissions to it.
    pub board_url: String,
    /// The node's name and cosigning key, as the manifest names it.
    pub name: String,
    pub key: SigningKey,
}

/// Why a node will not start on its data directory.
#[derive(Debug, Error)]
pub enum OpenError {
    #[error("cannot read the data directory: {0}")]
    Io(#[from] io::Error),
    #[error("cannot read the log: {0}")]
    Store(#[from] StoreError),
    #[error("the validated checkpoint kept in {0} is not the board's: {1}")]
    BadCheckpoint(PathBuf, urna_ledger::note::NoteError),
    #[error("the log in {dir} does not hold the {size} entries its validated checkpoint covers, or they differ: the copy is damaged (move the directory away to re-sync from scratch)")]
    Damaged { dir: PathBuf, size: u64 },
    #[error("{0}: {1}")]
    Records(PathBuf, String),
}

/// Why a checkpoint is not (yet) cosigned, by cause.
#[derive(Debug, Error)]
pub enum SyncError {
    /// An entry up to the checkpoint is not admissible: nothing from there on is cosigned.
    #[error("entry {} ({}) is not admissible: {} ({})", .0.index, .0.kind, .0.message, .0.code)]
    Refused(Refusal),
    /// The board's answers do not check out (wrong hashes, a tile that does not match the
    /// checkpoint, oversized or short answers).
    #[error("the board's answers do not check out: {0}")]
    Misbehaved(String),
    /// The checkpoint contradicts the node's copy: kept as evidence.
    #[error("the checkpoint of size {size} contradicts this node's copy of the log: the board forked its log")]
    Fork { size: u64 },
    /// The board could not be asked; try again later.
    #[error("the board could not be asked: {0}")]
    Unavailable(String),
    #[error("this node's storage failed: {0}")]
    Storage(String),
}

impl SyncError {
    /// The stable code (specs/board.md §7).
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::Refused(_) => "inadmissible-entry",
            SyncError::Misbehaved(_) => "board-misbehaved",
            SyncError::Fork { .. } => "fork",
            SyncError::Unavailable(_) => "unavailable",
            SyncError::Storage(_) => "storage",
        }
    }
}

/// An entry of the board's log the rules refuse: the node cosigns nothing that covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The entry's index in the log.
    pub index: u64,
    /// Its kind, as the rules name it (`malformed` if it does not decode).
    pub kind: String,
    /// The rule's stable code (specs/election.md), and its message.
    pub code: String,
    pub message: String,
    /// The board-signed checkpoint that covers it.
    pub checkpoint: String,
}

/// Two board-signed checkpoints of one log that cannot both be true.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub reason: String,
    /// The checkpoint the node had validated (its copy hashes to it).
    pub validated: String,
    /// The board-signed checkpoint that contradicts it.
    pub received: String,
}

#[derive(Default, Serialize, Deserialize)]
struct Records {
    refusal: Option<Refusal>,
    evidence: Vec<Evidence>,
}

/// The copy and what the node knows of it, under one lock.
struct Copy {
    replica: Replica<FileLog>,
    /// The latest board-signed checkpoint whose every entry is stored and admissible.
    validated: Option<(Checkpoint, String)>,
    /// The latest checkpoint the manifest's quorum cosigned, as the board showed it.
    cosigned: Option<(Checkpoint, String)>,
}

/// A validating node. See the module documentation.
pub struct Node {
    cfg: Config,
    board: BoardClient,
    copy: Mutex<Copy>,
    view: Arc<ArcSwap<View>>,
    log: Arc<FileLog>,
    tree: SharedTree,
    index: Index,
    witness: Arc<urna_witness::Witness>,
    records: Mutex<Records>,
    /// When the members were last asked for their cosigned checkpoints.
    gathered: Mutex<Option<std::time::Instant>>,
    /// Most entries fetched in one step ([`STEP_ENTRIES`] unless set).
    step: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The rules' refusal of an entry as a [`Refusal`], or the replica's other failure.
fn refusal(e: ReplicaError, checkpoint: &str) -> SyncError {
    match e {
        ReplicaError::Refused {
            index,
            kind,
            rejection,
        } => SyncError::Refused(Refusal {
            index,
            kind: kind.name().to_string(),
            code: rejection.code().to_string(),
            message: rejection.to_string(),
            checkpoint: checkpoint.to_string(),
        }),
        ReplicaError::Malformed { index, error } => {
            let rejection = urna_election::rejection::Rejection::from(error);
            SyncError::Refused(Refusal {
                index,
                kind: "malformed".into(),
                code: rejection.code().to_string(),
                message: rejection.to_string(),
                checkpoint: checkpoint.to_string(),
            })
        }
        ReplicaError::Store(e) => SyncError::Storage(e.to_string()),
        e => SyncError::Misbehaved(e.to_string()),
    }
}

fn client_error(e: ClientError) -> SyncError {
    if e.is_transient() {
        SyncError::Unavailable(e.to_string())
    } else {
        SyncError::Misbehaved(e.to_string())
    }
}

impl Node {
    /// Opens (or creates) the node's copy in `cfg.dir`: the stored entries are hashed, checked
    /// against the validated checkpoint kept beside them and replayed through the rules again.
    pub fn open(cfg: Config) -> Result<Node, OpenError> {
        std::fs::create_dir_all(&cfg.dir)?;
        let (store, recovery) = FileLog::open(&cfg.dir)?;
        // A torn frame was never validated (a checkpoint is stored only after its entries).
        if recovery.trailing_garbage > 0 {
            store.truncate_tail()?;
        }
        let store = Arc::new(store);
        let validated = match store.statement(Statement::Checkpoint)? {
            Some(note) => Some((
                Checkpoint::open(&note, &cfg.origin, &cfg.board_key).map_err(|e| {
                    OpenError::BadCheckpoint(cfg.dir.join(urna_ledger::store::CHECKPOINT), e)
                })?,
                note,
            )),
            None => None,
        };
        let cosigned = store
            .statement(Statement::Cosigned)?
            .and_then(|n| Some((Checkpoint::open(&n, &cfg.origin, &cfg.board_key).ok()?, n)));
        let mut replica = Replica::load(Arc::clone(&store)).map_err(|e| match e {
            ReplicaError::Store(e) => OpenError::Store(e),
            e => OpenError::Io(io::Error::other(e.to_string())),
        })?;
        if let Some((cp, _)) = &validated {
            replica.check(cp).map_err(|_| OpenError::Damaged {
                dir: cfg.dir.clone(),
                size: cp.size,
            })?;
        }
        let records_path = cfg.dir.join(RECORDS);
        let mut records: Records = match std::fs::read(&records_path) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| OpenError::Records(records_path.clone(), e.to_string()))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Records::default(),
            Err(e) => return Err(e.into()),
        };
        // Every stored entry again, through the rules: the copy is trusted for nothing.
        if let Err(e) = replica.replay(replica.size(), &|_, _| {}) {
            let note = validated
                .as_ref()
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            match refusal(e, &note) {
                SyncError::Refused(r) => {
                    if records.refusal.is_none() {
                        records.refusal = Some(r);
                    }
                }
                other => return Err(OpenError::Io(io::Error::other(other.to_string()))),
            }
        }
        let (index, fresh) = Index::open(&cfg.dir.join(INDEX))?;
        index.reconcile(&replica.tree(), &**replica.store(), fresh)?;
        let witness = Arc::new(urna_witness::Witness::open(
            &cfg.dir.join(WITNESS_DIR),
            &cfg.name,
            cfg.key.clone(),
            BTreeMap::from([(cfg.origin.clone(), cfg.board_key)]),
        )?);
        let tree = replica.shared_tree();
        let copy = Copy {
            replica,
            validated,
            cosigned,
        };
        let view = Arc::new(ArcSwap::from_pointee(view_of(&cfg, &copy)));
        let node = Node {
            board: BoardClient::new(&cfg.board_url),
            cfg,
            log: store,
            tree,
            index,
            witness,
            view,
            copy: Mutex::new(copy),
            records: Mutex::new(records),
            gathered: Mutex::new(None),
            step: STEP_ENTRIES,
        };
        node.save_records(&lock(&node.records))?;
        Ok(node)
    }

    /// Fetches at most `n` entries (at least 1) per step: smaller steps bound memory more
    /// tightly at the cost of a consistency proof per step.
    pub fn set_step_entries(&mut self, n: u64) {
        self.step = n.max(1);
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The size of the latest validated checkpoint (0 before the first).
    pub fn validated_size(&self) -> u64 {
        lock(&self.copy)
            .validated
            .as_ref()
            .map_or(0, |(c, _)| c.size)
    }

    /// The first entry the rules refused, if any.
    pub fn refusal(&self) -> Option<Refusal> {
        lock(&self.records).refusal.clone()
    }

    /// Conflicting board-signed checkpoints this node has seen.
    pub fn evidence(&self) -> Vec<Evidence> {
        lock(&self.records).evidence.clone()
    }

    pub fn witness(&self) -> &Arc<urna_witness::Witness> {
        &self.witness
    }

    fn save_records(&self, r: &Records) -> io::Result<()> {
        let path = self.cfg.dir.join(RECORDS);
        let tmp = path.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(r).map_err(io::Error::other)?)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(&self.cfg.dir)?.sync_all()
    }

    fn record_refusal(&self, r: &Refusal) {
        let mut rec = lock(&self.records);
        if rec.refusal.is_none() {
            rec.refusal = Some(r.clone());
            if let Err(e) = self.save_records(&rec) {
                eprintln!("urna node: could not store the refusal: {e}");
            }
        }
    }

    /// Keeps `ev` (durably); whether it was new.
    fn keep_evidence(&self, ev: &Evidence) -> bool {
        let mut rec = lock(&self.records);
        // One piece proves the fork; a board signing endless conflicting checkpoints (or
        // peers relaying them) cannot grow the records without bound.
        if rec.evidence.contains(ev) || rec.evidence.len() >= MAX_EVIDENCE {
            return false;
        }
        rec.evidence.push(ev.clone());
        if let Err(e) = self.save_records(&rec) {
            eprintln!("urna node: could not store the evidence: {e}");
        }
        true
    }

    /// Keeps evidence this node found, and tells the other nodes the manifest names.
    fn record_evidence(&self, copy: &Copy, ev: Evidence) {
        if !self.keep_evidence(&ev) {
            return;
        }
        let peers: Vec<String> = copy
            .replica
            .election()
            .manifest()
            .map(|m| {
                m.witnesses
                    .iter()
                    .filter(|w| w.is_node() && w.name != self.cfg.name)
                    .map(|w| format!("{}/node/evidence", w.url.trim_end_matches('/')))
                    .collect()
            })
            .unwrap_or_default();
        let Ok(body) = serde_json::to_vec(&ev) else {
            return;
        };
        std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(10)))
                .build()
                .into();
            for url in peers {
                let sent = agent
                    .post(&url)
                    .header("content-type", "application/json")
                    .send(&body[..]);
                if let Err(e) = sent {
                    eprintln!("urna node: could not tell {url} of the evidence: {e}");
                }
            }
        });
    }

    /// Evidence another node sent: kept if both checkpoints are the board's and they cannot
    /// both be true — the same size with different roots, or one of them matching this node's
    /// copy and the other not. Returns whether it was new; `Err` says why it is not evidence.
    pub fn receive_evidence(&self, ev: &Evidence) -> Result<bool, String> {
        let open = |n: &str| {
            Checkpoint::open(n, &self.cfg.origin, &self.cfg.board_key)
                .map_err(|e| format!("not a checkpoint signed by the board: {e}"))
        };
        let (a, b) = (open(&ev.validated)?, open(&ev.received)?);
        let conflict = if a.size == b.size {
            a.root != b.root
        } else {
            let copy = lock(&self.copy);
            let held = copy.replica.size();
            a.size <= held
                && b.size <= held
                && (copy.replica.check(&a).is_ok() != copy.replica.check(&b).is_ok())
        };
        if !conflict {
            return Err(
                "the two checkpoints do not conflict (as far as this node's copy shows)".into(),
            );
        }
        Ok(self.keep_evidence(ev))
    }

    /// Brings the copy up to the board-signed checkpoint `cp` (its note `note`): every entry
    /// fetched, proven a prefix of `cp`, stored durably and replayed through the rules, then
    /// `cp` kept as the validated checkpoint. `Ok` means every entry up to `cp` is stored and
    /// admissible. Blocks on the board (call it off the async runtime).
    pub fn sync_to(&self, cp: &Checkpoint, note: &str) -> Result<(), SyncError> {
        if let Some(r) = self.refusal().filter(|r| r.index < cp.size) {
            return Err(SyncError::Refused(r));
        }
        let mut copy = lock(&self.copy);
        let validated = copy.validated.as_ref().map_or(0, |(c, _)| c.size);
        if cp.size <= copy.replica.size() {
            if copy.replica.check(cp).is_err() {
                if cp.size <= validated {
                    if let Some((_, v)) = &copy.validated {
                        self.record_evidence(&copy, Evidence {
                            reason: format!(
                                "the board signed a checkpoint of size {} whose root is not that of the log it signed at size {validated}",
                                cp.size
                            ),
                            validated: v.clone(),
                            received: note.to_string(),
                        });
                    }
                    return Err(SyncError::Fork { size: cp.size });
                }
                return Err(SyncError::Misbehaved(format!(
                    "the checkpoint of size {} does not match the entries the board served before it",
                    cp.size
                )));
            }
        } else {
            if validated > 0 {
                // The new checkpoint must extend the validated one: the entries already held
                // are checked against it below, but a board that rewrote history is told apart.
                let proof = self
                    .board
                    .consistency_proof(validated, cp.size)
                    .map_err(client_error)?;
                if let Some((old, v)) = &copy.validated {
                    if urna_ledger::merkle::verify_consistency(
                        old.size, cp.size, &old.root, &cp.root, &proof,
                    )
                    .is_err()
                    {
                        self.record_evidence(&copy, Evidence {
                            reason: format!(
                                "the board's checkpoint of size {} is not an extension of the one of size {} it signed before",
                                cp.size, old.size
                            ),
                            validated: v.clone(),
                            received: note.to_string(),
                        });
                        return Err(SyncError::Fork { size: cp.size });
                    }
                }
            }
            // Each step is replayed as soon as it is stored: a refused entry stops the download.
            while copy.replica.size() < cp.size {
                self.step(&mut copy.replica, cp)?;
                self.replay(&mut copy.replica, note)?;
            }
        }
        self.replay(&mut copy.replica, note)?;
        if cp.size > validated {
            copy.replica
                .store()
                .set_statement(Statement::Checkpoint, note)
                .map_err(|e| SyncError::Storage(e.to_string()))?;
            // A chunk at a time: a node catching up reads no more of its log at once.
            let mut at = validated;
            while at < cp.size {
                let end = cp.size.min(at + 4096);
                let entries = copy
                    .replica
                    .store()
                    .read(at, end)
                    .map_err(|e| SyncError::Storage(e.to_string()))?;
                self.index
                    .add(at, &entries)
                    .map_err(|e| SyncError::Storage(e.to_string()))?;
                at = end;
            }
            copy.validated = Some((cp.clone(), note.to_string()));
            self.view.store(Arc::new(view_of(&self.cfg, &copy)));
            self.cosign_validated(&copy, cp, note);
        }
        Ok(())
    }

    /// Cosigns a checkpoint it has just validated without waiting for the board to ask, through
    /// the witness code (its consistency check, its durable state), with the consistency proof
    /// from its own tree: a node that restarted or re-synced is counted again at once, and a
    /// board that stops pushing cannot keep a validated checkpoint from being cosigned.
    fn cosign_validated(&self, copy: &Copy, cp: &Checkpoint, note: &str) {
        use base64::Engine;
        let last = self.witness.state_json()["logs"][&self.cfg.origin]["size"]
            .as_u64()
            .unwrap_or(0);
        if last >= cp.size {
            return;
        }
        let proof = if last == 0 {
            Vec::new()
        } else {
            match copy.replica.tree().consistency_proof(last, cp.size) {
                Ok(p) => p,
                Err(_) => return,
            }
        };
        let mut request = format!("old {last}\n");
        for h in &proof {
            request.push_str(&base64::engine::general_purpose::STANDARD.encode(h));
            request.push('\n');
        }
        request.push('\n');
        request.push_str(note);
        if let Err(r) = self.witness.add_checkpoint(&request) {
            eprintln!(
                "urna node: did not cosign the checkpoint of size {}: {r:?}",
                cp.size
            );
        }
    }

    /// Replays every stored entry not replayed yet; a refusal is recorded and published.
    fn replay(&self, replica: &mut Replica<FileLog>, note: &str) -> Result<(), SyncError> {
        if replica.replayed() == replica.size() {
            return Ok(());
        }
        replica.replay(replica.size(), &|_, _| {}).map_err(|e| {
            let e = refusal(e, note);
            if let SyncError::Refused(r) = &e {
                self.record_refusal(r);
            }
            e
        })
    }

    /// Fetches, proves and stores the next step of at most `self.step` entries towards
    /// `cp`, and replays them.
    fn step(&self, replica: &mut Replica<FileLog>, cp: &Checkpoint) -> Result<(), SyncError> {
        let from = replica.size();
        let end = cp.size.min(from + self.step);
        let mut entries: Vec<Vec<u8>> = Vec::new();
        let mut at = from;
        while at < end {
            let n = at / tiles::WIDTH;
            let tile = self.board.entry_tile(n, cp.size).map_err(client_error)?;
            let skip = (at - n * tiles::WIDTH) as usize;
            let take = (end - at) as usize;
            entries.extend(tile.into_iter().skip(skip).take(take));
            at = from + entries.len() as u64;
            if at == n * tiles::WIDTH + skip as u64 {
                return Err(SyncError::Misbehaved(format!(
                    "entry tile {n} holds too few entries"
                )));
            }
        }
        let proof = if end == cp.size {
            Vec::new()
        } else {
            self.board
                .consistency_proof(end, cp.size)
                .map_err(client_error)?
        };
        replica
            .stage_proven(entries, cp, &proof)
            .map_err(|e| match e {
                ReplicaError::Store(e) => SyncError::Storage(e.to_string()),
                e => SyncError::Misbehaved(format!(
                    "entries {from}..{end} are not a prefix of the signed checkpoint of size {}: {e}",
                    cp.size
                )),
            })?;
        Ok(())
    }

    /// One round of following the board: its latest checkpoint, then its cosigned one.
    pub fn follow_once(&self) -> Result<u64, SyncError> {
        let followed = self
            .board
            .checkpoint(&self.cfg.origin, &self.cfg.board_key)
            .map_err(client_error)
            .and_then(|(cp, note)| self.sync_to(&cp, &note).map(|()| cp.size));
        if followed.is_ok() {
            if let Ok(Some(c)) = self.board.cosigned_note() {
                self.take_cosigned(&c);
            }
        }
        self.gather_cosigned();
        followed
    }

    /// When the latest validated checkpoint is not yet known to be quorum-cosigned (the board
    /// has not shown it, or is gone), asks every member of the manifest's list for its latest
    /// cosigned checkpoint and gathers the lines on this very checkpoint into one note: a
    /// node's cosigned view does not depend on the board. At most once a second.
    fn gather_cosigned(&self) {
        {
            let mut last = lock(&self.gathered);
            if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
                return;
            }
            *last = Some(std::time::Instant::now());
        }
        let (manifest, validated) = {
            let copy = lock(&self.copy);
            let Some((cp, note)) = copy.validated.clone() else {
                return;
            };
            if copy
                .cosigned
                .as_ref()
                .is_some_and(|(c, _)| c.size >= cp.size)
            {
                return;
            }
            match copy.replica.election().manifest() {
                Some(m) if !m.witnesses.is_empty() => (Arc::clone(m), (cp, note)),
                _ => return,
            }
        };
        let (cp, mut note) = validated;
        for a in urna_client::ask_witnesses(&manifest, &self.cfg.origin, &self.cfg.board_key) {
            if let Ok(Some((theirs, n))) = a.latest {
                if theirs == cp {
                    let lines = urna_ledger::note::split_note(&n)
                        .map(|(_, l)| l.join("\n") + "\n")
                        .unwrap_or_default();
                    note = urna_ledger::note::add_signature_lines(&note, &lines);
                }
            }
        }
        self.take_cosigned(&note);
    }

    /// Keeps `note` as the latest quorum-cosigned checkpoint if it meets the manifest's policy
    /// and matches this node's validated copy.
    fn take_cosigned(&self, note: &str) {
        let mut copy = lock(&self.copy);
        let Some(m) = copy.replica.election().manifest().cloned() else {
            return;
        };
        let (policy, quorum) = urna_ledger::witnessed::witness_policy(&m);
        let Ok((cp, _)) = Checkpoint::open_witnessed(
            note,
            &self.cfg.origin,
            &self.cfg.board_key,
            &policy,
            quorum,
        ) else {
            return;
        };
        let validated = copy.validated.as_ref().map_or(0, |(c, _)| c.size);
        let newer = copy.cosigned.as_ref().map_or(true, |(c, n)| {
            c.size < cp.size
                || (c.size == cp.size
                    && urna_ledger::witnessed::named_cosigners(n, &policy).len()
                        < urna_ledger::witnessed::named_cosigners(note, &policy).len())
        });
        if cp.size > validated || !newer || copy.replica.check(&cp).is_err() {
            return;
        }
        if copy
            .replica
            .store()
            .set_statement(Statement::Cosigned, note)
            .is_ok()
        {
            copy.cosigned = Some((cp, note.to_string()));
            self.view.store(Arc::new(view_of(&self.cfg, &copy)));
        }
    }

    /// Follows the board until the process ends, every `poll`, telling stderr when the state of
    /// following changes.
    pub fn follow(self: &Arc<Node>, poll: Duration) {
        let node = Arc::clone(self);
        std::thread::spawn(move || {
            let mut last: Option<String> = None;
            loop {
                let now = match node.follow_once() {
                    Ok(_) => None,
                    Err(e) => Some(format!("{} ({})", e, e.code())),
                };
                if now != last {
                    match &now {
                        Some(e) => eprintln!("urna node: {e}"),
                        None => eprintln!(
                            "urna node: following the board, {} entries validated",
                            node.validated_size()
                        ),
                    }
                    last = now;
                }
                std::thread::sleep(poll);
            }
        });
    }

    /// The tlog-witness `add-checkpoint` of a node: the checkpoint is cosigned (by the witness
    /// code, with its consistency checks and durable state) only after [`Node::sync_to`] has
    /// validated every entry up to it. A request that is not a board-signed checkpoint goes
    /// straight to the witness code, which refuses it with the tlog-witness status.
    pub fn add_checkpoint(
        &self,
        request: &str,
    ) -> Result<Result<String, urna_witness::Refusal>, SyncError> {
        let signed = request.split_once("\n\n").and_then(|(_, note)| {
            Checkpoint::open(note, &self.cfg.origin, &self.cfg.board_key)
                .ok()
                .map(|cp| (cp, note))
        });
        if let Some((cp, note)) = signed {
            self.sync_to(&cp, note)?;
        }
        Ok(self.witness.add_checkpoint(request))
    }

    /// What the node publishes about itself (`GET /node`).
    pub fn status(&self) -> serde_json::Value {
        let copy = lock(&self.copy);
        serde_json::json!({
            "name": self.cfg.name,
            "origin": self.cfg.origin,
            "board": self.cfg.board_url,
            "held": copy.replica.size(),
            "validated": copy.validated.as_ref().map_or(0, |(c, _)| c.size),
            "cosigned": copy.cosigned.as_ref().map(|(c, _)| c.size),
            "refusal": self.refusal(),
            "evidence": self.evidence().len(),
        })
    }

    /// The pieces the board's read handlers serve from.
    pub fn read_state(&self) -> urna_board::server::AppState {
        urna_board::server::AppState::reader(
            Arc::clone(&self.view),
            Arc::clone(&self.log),
            Arc::clone(&self.tree),
            self.index.clone(),
        )
    }
}

/// What readers are served: the copy as of the validated checkpoint.
fn view_of(cfg: &Config, copy: &Copy) -> View {
    let e = copy.replica.election();
    let manifest: Option<Arc<Manifest>> = e.manifest().cloned();
    let (witnesses, quorum) = manifest
        .as_ref()
        .map(|m| (m.witnesses.clone(), usize::from(m.witness_quorum)))
        .unwrap_or_default();
    let (size, checkpoint) = match &copy.validated {
        Some((c, n)) => (c.size, n.clone()),
        None => (
            0,
            Checkpoint {
                origin: cfg.origin.clone(),
                size: 0,
                root: urna_ledger::merkle::empty_root(),
            }
            .body(),
        ),
    };
    View {
        origin: cfg.origin.clone(),
        key: cfg.board_key,
        size,
        checkpoint,
        cosignatures: String::new(),
        cosigned: copy.cosigned.as_ref().map(|(c, n)| (n.clone(), c.size)),
        phase: e.phase(),
        counts: e.counts(),
        manifest_hash: manifest.as_ref().map(|_| e.manifest_hash()),
        manifest,
        witnesses,
        quorum,
        uncosigned: Vec::new(),
        tally: e.encrypted_tally().map(Arc::from),
    }
}

/// The data directory's files a new board can start from (specs/board.md §7.3): the log and
/// the board-signed checkpoint, in the board's own format.
pub fn board_files(dir: &Path) -> [PathBuf; 3] {
    [
        dir.join(urna_ledger::store::LOG),
        dir.join(urna_ledger::store::CHECKPOINT),
        dir.join(urna_ledger::store::COSIGNED),
    ]
}
