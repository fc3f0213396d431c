//! A client of the board's HTTP API for every party (trustees, voters, the registrar, the
//! authority, observers). It trusts nothing it is served: checkpoints are opened with the board
//! key the caller names, downloaded entries are re-hashed into the tree and compared with the
//! signed root, and receipts are verified before they are returned.

use std::time::Duration;

pub mod light;

use thiserror::Error;
use urna_crypto::hex;
use urna_crypto::sign::VerifyingKey;

use urna_election::entry::Entry;
use urna_election::manifest::Manifest;
use urna_election::payload::Payload;
use urna_election::state::{Election, Phase};

use std::sync::{Arc, RwLockReadGuard};

use urna_ledger::merkle::{self, Hash, Tree};
use urna_ledger::note::{Checkpoint, NoteError, Receipt};
use urna_ledger::tiles;
pub use urna_ledger::witnessed::{
    named_cosigners, quorum_cover, witness_policy, Covered, WitnessAnswer, WitnessView,
};
use urna_ledger::{LogStore, MemoryLog, Replica, ReplicaError};

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("the board at {url} is unreachable: {why}")]
    Unreachable { url: String, why: String },
    #[error("the board rejected the entry ({code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the board answered {status}: {message}")]
    Status { status: u16, message: String },
    /// `429` or `503`: the board is busy; it may say when to come back.
    #[error("the board is busy ({status}): {message}")]
    Busy {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("the board's answer does not check out: {0}")]
    Misbehaved(String),
    #[error("the board's checkpoint or receipt does not verify: {0}")]
    Note(#[from] NoteError),
    /// A voter's light view ([`light`]) that does not check out.
    #[error("the board's voter view does not check out: {0}")]
    View(light::ViewError),
}

impl ClientError {
    /// Whether trying again later may succeed (the board was down or busy).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } | ClientError::Busy { .. } => true,
            ClientError::Status { status, .. } => matches!(status, 408 | 429 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// How long the board asked the client to wait (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::Busy { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Tells a person that the client is waiting for a busy or unreachable board, and why.
pub type Notice = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// How long reads keep retrying a busy board before giving up.
const READ_RETRY_FOR: Duration = Duration::from_secs(60);

/// The election as a party sees it: the verified log, and the state the election rules derive
/// from it (the same code the board runs).
pub struct Synced {
    pub origin: String,
    pub key: VerifyingKey,
    /// The log under the board's latest checkpoint, replayed to its end.
    pub log: LogCopy,
}

impl Synced {
    /// The rules' state after every entry of the log.
    pub fn election(&self) -> &Election {
        self.log.replica.election()
    }

    /// Entry `index`'s bytes, if the log holds it.
    pub fn entry(&self, index: u64) -> Option<Vec<u8>> {
        self.log.replica.entry(index).ok().flatten()
    }
}

/// A verified copy of the log up to a signed checkpoint: its entries held in memory, hashed
/// into the replica's tree and checked against the checkpoint (replayed only when synced).
pub struct LogCopy {
    pub checkpoint: Checkpoint,
    /// The signed note the checkpoint was read from.
    pub note: String,
    /// Its entries held in memory, or (for an observer's copy) only its tree.
    pub replica: Replica<dyn LogStore>,
}

impl LogCopy {
    /// The tree of the log's entries.
    pub fn tree(&self) -> RwLockReadGuard<'_, Tree> {
        self.replica.tree()
    }
}

/// A log the board served that the rules refuse, or that does not match its checkpoint, as
/// the board's misbehaviour.
fn misbehaved(e: ReplicaError) -> ClientError {
    match e {
        ReplicaError::Refused {
            index,
            kind,
            rejection,
        } => ClientError::Misbehaved(format!(
            "entry {index} ({kind}) on the log is not admissible: {rejection}"
        )),
        ReplicaError::Malformed { index, error } => {
            ClientError::Misbehaved(format!("entry {index} does not decode: {error}"))
        }
        ReplicaError::Short { size, .. } | ReplicaError::RootMismatch { size } => {
            ClientError::Misbehaved(format!(
                "the entries served do not hash to the signed root of size {size}"
            ))
        }
        e => ClientError::Misbehaved(e.to_string()),
    }
}

/// Tile requests in flight at once when downloading a log.
const PARALLEL_FETCHES: usize = 8;

/// Tiles fetched, then hashed into the replica, at a time: what a download holds at once.
const ROUND_TILES: u64 = 32;

#[derive(Clone)]
pub struct BoardClient {
    base: String,
    agent: ureq::Agent,
    notice: Option<Notice>,
}

impl BoardClient {
    /// `url` is the board's base URL, e.g. `http://127.0.0.1:8080`.
    pub fn new(url: &str) -> BoardClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        BoardClient {
            base: url.trim_end_matches('/').to_string(),
            agent,
            notice: None,
        }
    }

    /// Calls `notice` with a sentence for a person whenever the client waits to try again (the
    /// board answered 429 or 503, or could not be reached).
    pub fn with_notice(mut self, notice: impl Fn(&str) + Send + Sync + 'static) -> BoardClient {
        self.notice = Some(std::sync::Arc::new(notice));
        self
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// A GET, retried with backoff (honouring `Retry-After`) while the board is busy.
    fn get(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        let url = format!("{}{path}", self.base);
        retrying(
            READ_RETRY_FOR,
            self.notice.as_ref(),
            ClientError::is_busy,
            || {
                let (status, body, retry_after) = answer(self.agent.get(&url).call(), &url)?;
                if status != 200 {
                    return Err(status_error(status, &body, retry_after));
                }
                Ok(body)
            },
        )
    }

    fn get_text(&self, path: &str) -> Result<String, ClientError> {
        String::from_utf8(self.get(path)?)
            .map_err(|_| ClientError::Misbehaved(format!("{path} is not UTF-8")))
    }

    pub fn info(&self) -> Result<serde_json::Value, ClientError> {
        serde_json::from_slice(&self.get("/info")?)
            .map_err(|e| ClientError::Misbehaved(format!("/info: {e}")))
    }

    /// The board's phase as the board itself states it (`/info`): a hint for a client that
    /// already verified the log, never a substitute for replaying it.
    pub fn stated_phase(&self) -> Result<Phase, ClientError> {
        serde_json::from_value(self.info()?["phase"].clone())
            .map_err(|e| ClientError::Misbehaved(format!("/info has no valid phase: {e}")))
    }

    /// The board's key as the board itself states it. Trust it only after comparing it with
    /// the key the election's manifest names (or one obtained out of band).
    pub fn stated_key(&self) -> Result<(String, VerifyingKey), ClientError> {
        let info = self.info()?;
        let origin = info["origin"]
            .as_str()
            .ok_or_else(|| ClientError::Misbehaved("/info has no origin".into()))?
            .to_string();
        let key = info["board_key"]
            .as_str()
            .and_then(|k| hex::decode_array::<32>(k).ok())
            .and_then(|k| VerifyingKey::from_wire(&k).ok())
            .ok_or_else(|| ClientError::Misbehaved("/info has no valid board key".into()))?;
        Ok((origin, key))
    }

    /// The latest checkpoint, opened with `key`.
    pub fn checkpoint(
        &self,
        origin: &str,
        key: &VerifyingKey,
    ) -> Result<(Checkpoint, String), ClientError> {
        let note = self.get_text("/checkpoint")?;
        let cp = Checkpoint::open(&note, origin, key)?;
        Ok((cp, note))
    }

    /// The latest checkpoint the witness quorum cosigned (unverified), if there is one yet.
    pub fn cosigned_note(&self) -> Result<Option<String>, ClientError> {
        match self.get_text("/checkpoint/cosigned") {
            Ok(n) => Ok(Some(n)),
            Err(ClientError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The receipt of the entry with this leaf hash under the cosigned checkpoint (unverified).
    pub fn cosigned_receipt(&self, leaf: &Hash) -> Result<Option<Receipt>, ClientError> {
        match self.get_text(&format!("/receipt/{}?cosigned=true", hex::encode(leaf))) {
            Ok(t) => Ok(Some(Receipt::parse(&t)?)),
            Err(ClientError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The latest signed checkpoint note, unverified (for keeping, to check consistency later).
    pub fn get_checkpoint_note(&self) -> Result<String, ClientError> {
        self.get_text("/checkpoint")
    }

    pub fn entry(&self, index: u64) -> Result<Vec<u8>, ClientError> {
        self.get(&format!("/entries/{index}"))
    }

    /// An RFC 9162 consistency proof, checked against the two roots before it is returned.
    pub fn check_consistency(&self, old: &Checkpoint, new: &Checkpoint) -> Result<(), ClientError> {
        if old.size == new.size {
            return if old.root == new.root {
                Ok(())
            } else {
                Err(ClientError::Misbehaved(format!(
                    "two checkpoints of size {} with different roots: the board forked its log",
                    old.size
                )))
            };
        }
        if old.size > new.size {
            return Err(ClientError::Misbehaved(format!(
                "the board's checkpoint went back from size {} to {}",
                old.size, new.size
            )));
        }
        let proof = if old.size == 0 {
            Vec::new()
        } else {
            self.consistency_proof(old.size, new.size)?
        };
        if old.size > 0 {
            merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof).map_err(
                |e| {
                    ClientError::Misbehaved(format!(
                        "checkpoint {} is not an extension of checkpoint {}: {e}",
                        new.size, old.size
                    ))
                },
            )?;
        }
        Ok(())
    }

    /// The board's RFC 9162 consistency proof from size `old` to `new`, unchecked (the caller
    /// checks it against roots it trusts).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ClientError> {
        let v: serde_json::Value =
            serde_json::from_slice(&self.get(&format!("/consistency/{old}/{new}"))?)
                .map_err(|e| ClientError::Misbehaved(format!("consistency proof: {e}")))?;
        let hashes = v["proof"]
            .as_array()
            .ok_or_else(|| ClientError::Misbehaved("consistency proof has no hashes".into()))?;
        // A proof has at most two hashes per level of a 64-level tree.
        if hashes.len() > 128 {
            return Err(ClientError::Misbehaved(
                "consistency proof is too long".into(),
            ));
        }
        hashes
            .iter()
            .map(|h| {
                h.as_str()
                    .and_then(|h| hex::decode_array::<32>(h).ok())
                    .ok_or_else(|| ClientError::Misbehaved("bad hash in consistency proof".into()))
            })
            .collect()
    }

    /// Submits an entry once. A receipt is returned only after it verifies for this entry.
    pub fn submit(
        &self,
        entry: &[u8],
        origin: &str,
        key: &VerifyingKey,
    ) -> Result<Receipt, ClientError> {
        let url = format!("{}/entries", self.base);
        let sent = self
            .agent
            .post(&url)
            .header("content-type", "application/octet-stream")
            .send(entry);
        let (status, body, retry_after) = answer(sent, &url)?;
        if status != 200 {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let code = v["code"].as_str().unwrap_or("").to_string();
            let message = v["message"].as_str().unwrap_or("").to_string();
            if (400..500).contains(&status) && !matches!(status, 408 | 429) {
                return Err(ClientError::Rejected {
                    status,
                    code,
                    message,
                });
            }
            return Err(status_error(status, &body, retry_after));
        }
        let text = String::from_utf8(body)
            .map_err(|_| ClientError::Misbehaved("receipt is not UTF-8".into()))?;
        let receipt = Receipt::parse(&text)?;
        receipt.verify(entry, origin, key)?;
        Ok(receipt)
    }

    /// Submits with retries and exponential backoff while the board is down or busy, waiting
    /// at least as long as a `Retry-After` asks (and giving up at once if that is past
    /// `give_up_after`), and telling the [`BoardClient::with_notice`] callback. Safe:
    /// submission is idempotent, so a retry after a lost answer never adds a second entry.
    pub fn submit_retrying(
        &self,
        entry: &[u8],
        origin: &str,
        key: &VerifyingKey,
        give_up_after: Duration,
    ) -> Result<Receipt, ClientError> {
        retrying(
            give_up_after,
            self.notice.as_ref(),
            ClientError::is_transient,
            || self.submit(entry, origin, key),
        )
    }

    /// Entry tile `n` of a tree of `size` (full, or partial at the right edge), checked for
    /// the number of entries it must hold.
    pub fn entry_tile(&self, n: u64, size: u64) -> Result<Vec<Vec<u8>>, ClientError> {
        let w = tiles::available_width(0, n, size);
        let path = if w == tiles::WIDTH {
            format!("/tile/entries/{}", tiles::encode_index(n))
        } else {
            format!("/tile/entries/{}.p/{w}", tiles::encode_index(n))
        };
        let bundle = self.get(&path)?;
        let got = tiles::parse_bundle(&bundle)
            .ok_or_else(|| ClientError::Misbehaved(format!("{path} is not an entry bundle")))?;
        if got.len() as u64 != w {
            return Err(ClientError::Misbehaved(format!(
                "{path} holds {} entries, not {w}",
                got.len()
            )));
        }
        Ok(got)
    }

    /// Downloads the log up to the latest checkpoint through the entry tiles and checks that
    /// the entries hash to the signed root.
    pub fn fetch_log(&self, origin: &str, key: &VerifyingKey) -> Result<LogCopy, ClientError> {
        let (checkpoint, note) = self.checkpoint(origin, key)?;
        self.fetch_log_under(checkpoint, note)
    }

    /// Downloads the log up to a given (already verified) checkpoint.
    pub fn fetch_log_under(
        &self,
        checkpoint: Checkpoint,
        note: String,
    ) -> Result<LogCopy, ClientError> {
        self.fetch_into(Arc::new(MemoryLog::new()), checkpoint, note)
    }

    /// Fetches the entry tiles a round at a time into `store` through a replica, then checks
    /// that the entries hash to the signed root.
    fn fetch_into(
        &self,
        store: Arc<dyn LogStore>,
        checkpoint: Checkpoint,
        note: String,
    ) -> Result<LogCopy, ClientError> {
        let mut replica = Replica::load(store).map_err(misbehaved)?;
        let tiles_needed = checkpoint.size.div_ceil(tiles::WIDTH);
        let mut n = 0;
        while n < tiles_needed {
            let end = (n + ROUND_TILES).min(tiles_needed);
            let entries = self.entry_tiles(n, end, checkpoint.size)?;
            replica.stage(entries, None).map_err(misbehaved)?;
            n = end;
        }
        if replica.size() != checkpoint.size {
            return Err(ClientError::Misbehaved(
                "the entry tiles do not cover the checkpoint".into(),
            ));
        }
        replica.check(&checkpoint).map_err(misbehaved)?;
        Ok(LogCopy {
            checkpoint,
            note,
            replica,
        })
    }

    /// Entries `start..end` of the log of `size` entries, from its tiles (fetched in
    /// parallel). Unchecked here: the caller checks them against a signed root.
    pub fn read_entries(
        &self,
        start: u64,
        end: u64,
        size: u64,
    ) -> Result<Vec<Vec<u8>>, ClientError> {
        let end = end.min(size);
        if start >= end {
            return Ok(Vec::new());
        }
        let first = start / tiles::WIDTH;
        let got = self.entry_tiles(first, end.div_ceil(tiles::WIDTH), size)?;
        let skip = (start - first * tiles::WIDTH) as usize;
        Ok(got
            .into_iter()
            .skip(skip)
            .take((end - start) as usize)
            .collect())
    }

    /// Entry tiles `from..to` of a tree of `size`, fetched on a few connections at once (tiles
    /// are immutable and independent), their entries in log order.
    fn entry_tiles(&self, from: u64, to: u64, size: u64) -> Result<Vec<Vec<u8>>, ClientError> {
        let next = std::sync::atomic::AtomicU64::new(from);
        let fetched: std::sync::Mutex<Vec<(u64, Vec<Vec<u8>>)>> = Default::default();
        let failed: std::sync::Mutex<Option<ClientError>> = Default::default();
        std::thread::scope(|s| {
            for _ in 0..PARALLEL_FETCHES.min(to.saturating_sub(from) as usize) {
                s.spawn(|| loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= to || failed.lock().map_or(true, |f| f.is_some()) {
                        return;
                    }
                    match self.entry_tile(n, size) {
                        Ok(got) => {
                            if let Ok(mut f) = fetched.lock() {
                                f.push((n, got));
                            }
                        }
                        Err(e) => {
                            if let Ok(mut f) = failed.lock() {
                                f.get_or_insert(e);
                            }
                            return;
                        }
                    }
                });
            }
        });
        if let Some(e) = failed.into_inner().ok().flatten() {
            return Err(e);
        }
        let mut fetched = fetched
            .into_inner()
            .map_err(|_| ClientError::Misbehaved("a fetch thread failed".into()))?;
        fetched.sort_by_key(|(n, _)| *n);
        Ok(fetched.into_iter().flat_map(|(_, got)| got).collect())
    }
}

impl BoardClient {
    /// Downloads and verifies the whole log, and replays it through the election rules. The
    /// board's key is taken from `expected` if given; otherwise the key the board states is
    /// used, and it must be the one the election's manifest names.
    pub fn sync(&self, expected: Option<&VerifyingKey>) -> Result<Synced, ClientError> {
        let (origin, key) = self.board_identity(expected)?;
        let mut log = self.fetch_log(&origin, &key)?;
        log.replica
            .replay(log.checkpoint.size, &|_, _| {})
            .map_err(misbehaved)?;
        synced(origin, key, log)
    }

    /// The origin and the key to open the board's checkpoints with: `expected` if given (the
    /// board must state the same one), else the one it states.
    fn board_identity(
        &self,
        expected: Option<&VerifyingKey>,
    ) -> Result<(String, VerifyingKey), ClientError> {
        let (origin, stated) = self.stated_key()?;
        match expected {
            Some(k) if *k != stated => Err(ClientError::Misbehaved(
                "the board states a different key from the one expected".into(),
            )),
            Some(k) => Ok((origin, *k)),
            None => Ok((origin, stated)),
        }
    }

    /// Like [`BoardClient::sync`], under the witness policy: when the manifest names witnesses,
    /// they are asked what they cosigned (before the log is downloaded, so the log must contain
    /// it all), and the election is also replayed up to the newest checkpoint their quorum
    /// covers — the state every verdict is decided on. A board whose log contradicts what a
    /// witness cosigned is an error; one whose cosigned checkpoint lags the witnesses' is
    /// reported in the view ([`WitnessView::withholding`]).
    pub fn sync_checked(&self, expected: Option<&VerifyingKey>) -> Result<Checked, ClientError> {
        let (origin, key) = self.board_identity(expected)?;
        let (log, view) = self.fetch_witnessed_log(&origin, &key)?;
        let (mut log, view) = (log, view.transpose()?);
        let split = match &view {
            Some(v) => v.covered.as_ref().map_or(0, |c| c.checkpoint.size),
            None => log.checkpoint.size,
        };
        let replica = &mut log.replica;
        replica.replay(split, &|_, _| {}).map_err(misbehaved)?;
        let decided = (view.is_none() || split > 0).then(|| replica.election().clone());
        replica
            .replay(log.checkpoint.size, &|_, _| {})
            .map_err(misbehaved)?;
        Ok(Checked {
            synced: synced(origin, key, log)?,
            witnessed: view,
            decided,
        })
    }

    /// The log under the board's latest checkpoint and, when its manifest names witnesses, what
    /// they say of it: `Err(Misbehaved)` naming the contradiction if the log contradicts a
    /// witness or the board's cosigned checkpoint does not check out (another error if the
    /// board could not be asked). The witnesses are asked first.
    pub fn fetch_witnessed_log(
        &self,
        origin: &str,
        key: &VerifyingKey,
    ) -> Result<(LogCopy, Option<Result<WitnessView, ClientError>>), ClientError> {
        self.fetch_witnessed(origin, key)
    }

    /// What an observer verifying the whole log needs before it streams it: the board's latest
    /// checkpoint (its note), the first entry the witness policy was read from (`None` if the
    /// log is empty), and what the witnesses say of it as [`BoardClient::fetch_witnessed_log`]
    /// does — with each witness's checkpoint and the board's cosigned one shown a prefix of the
    /// latest by an RFC 9162 consistency proof instead of a downloaded tree. Nothing of the log
    /// is downloaded here: the observer hashes the entries once, as it verifies them, and
    /// compares the roots then (the first entry too).
    pub fn observe_witnessed(
        &self,
        origin: &str,
        key: &VerifyingKey,
    ) -> Result<Observed, ClientError> {
        let first = match self.entry(0) {
            Ok(b) => Some(b),
            Err(ClientError::Status { status: 404, .. }) => None,
            Err(e) => return Err(e),
        };
        let manifest = first
            .as_deref()
            .and_then(manifest_of)
            .filter(|m| !m.witnesses.is_empty());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answers = manifest.as_ref().map(|m| ask_witnesses(m, origin, key));
            let (checkpoint, note) = self.checkpoint(origin, key)?;
            let view = match (&manifest, answers) {
                (Some(m), Some(a)) => {
                    let prefix = |cp: &Checkpoint| match self.check_consistency(cp, &checkpoint) {
                        Ok(()) => Ok(true),
                        Err(ClientError::Misbehaved(_)) => Ok(false),
                        Err(e) => Err(e),
                    };
                    let at = Against {
                        size: checkpoint.size,
                        note: &note,
                        prefix: &prefix,
                    };
                    Some(self.witness_view(&at, origin, key, m, a))
                }
                _ => None,
            };
            // The board moved on between its latest checkpoint and its cosigned one: again,
            // so that the newest cosigned checkpoint is within the log (a few times at most).
            let beyond = matches!(&view, Some(Ok(v)) if v.board_cosigned_beyond);
            if !beyond || attempt >= 3 {
                return Ok(Observed {
                    checkpoint,
                    note,
                    first,
                    witnessed: view,
                });
            }
        }
    }

    fn fetch_witnessed(
        &self,
        origin: &str,
        key: &VerifyingKey,
    ) -> Result<(LogCopy, Option<Result<WitnessView, ClientError>>), ClientError> {
        let first = match self.entry(0) {
            Ok(b) => Some(b),
            Err(ClientError::Status { status: 404, .. }) => None,
            Err(e) => return Err(e),
        };
        let manifest = first
            .as_deref()
            .and_then(manifest_of)
            .filter(|m| !m.witnesses.is_empty());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answers = manifest.as_ref().map(|m| ask_witnesses(m, origin, key));
            let (checkpoint, note) = self.checkpoint(origin, key)?;
            let log = self.fetch_log_under(checkpoint, note)?;
            let first_hash = first.as_deref().map(merkle::leaf_hash);
            if first_hash.is_some() && log.tree().leaf(0).copied() != first_hash {
                return Err(ClientError::Misbehaved(
                    "the board served two different first entries".into(),
                ));
            }
            let view = match (&manifest, answers) {
                (Some(m), Some(a)) => {
                    let prefix =
                        |cp: &Checkpoint| Ok(log.tree().root(cp.size).ok() == Some(cp.root));
                    let at = Against {
                        size: log.checkpoint.size,
                        note: &log.note,
                        prefix: &prefix,
                    };
                    Some(self.witness_view(&at, origin, key, m, a))
                }
                _ => None,
            };
            // The board moved on between serving its log and its cosigned checkpoint: again,
            // so that the newest cosigned checkpoint is within the log (a few times at most).
            let beyond = matches!(&view, Some(Ok(v)) if v.board_cosigned_beyond);
            if !beyond || attempt >= 3 {
                return Ok((log, view));
            }
        }
    }

    /// Checks the witnesses' answers against the log, then finds the newest checkpoint the
    /// quorum covers (specs/board.md §6.2), giving the board [`WITHHOLDING_GRACE`] to show a
    /// cosigned checkpoint as new as what the witnesses' quorum covers.
    pub(crate) fn witness_view(
        &self,
        log: &Against<'_>,
        origin: &str,
        key: &VerifyingKey,
        m: &Manifest,
        answers: Vec<WitnessAnswer>,
    ) -> Result<WitnessView, ClientError> {
        let (policy, quorum) = witness_policy(m);
        let size = log.size;
        for a in &answers {
            let Ok(Some((cp, note))) = &a.latest else {
                continue;
            };
            if cp.size > size {
                return Err(ClientError::Misbehaved(format!(
                    "witness {} has cosigned the log up to {} entries, but the board serves only {size}: the board rolled back its log or hides its latest checkpoint",
                    a.name, cp.size
                )));
            }
            if !(log.prefix)(cp)? {
                return Err(ClientError::Misbehaved(format!(
                    "witness {} cosigned a checkpoint of size {} that is not a prefix of the log the board serves: the board forked its log. Evidence, two checkpoints signed by the board that cannot both be true — the one {} cosigned:\n{}\nand the one the board serves:\n{}",
                    a.name, cp.size, a.name, note.trim_end(), log.note.trim_end()
                )));
            }
        }
        let sizes: Vec<u64> = answers
            .iter()
            .filter_map(|a| a.latest.as_ref().ok()?.as_ref().map(|(c, _)| c.size))
            .collect();
        let witnesses_cover = quorum_cover(&sizes, quorum);
        let start = std::time::Instant::now();
        let board = loop {
            let b = self.board_cosigned(log, origin, key, &policy, quorum)?;
            let lags = match (&b, witnesses_cover) {
                (Some(BoardCosigned::Beyond), _) | (_, None) => false,
                (Some(BoardCosigned::Within(c, _)), Some(w)) => c.size < w,
                (None, Some(_)) => true,
            };
            if !lags || start.elapsed() >= WITHHOLDING_GRACE {
                break b;
            }
            std::thread::sleep(Duration::from_millis(250));
        };
        let (board_cosigned, beyond) = match board {
            Some(BoardCosigned::Within(c, n)) => (Some((c, n)), false),
            Some(BoardCosigned::Beyond) => (None, true),
            None => (None, false),
        };
        let names = |at: u64| -> Vec<String> {
            answers
                .iter()
                .filter(|a| matches!(&a.latest, Ok(Some((c, _))) if c.size >= at))
                .map(|a| a.name.clone())
                .collect()
        };
        let from_board = board_cosigned
            .as_ref()
            .filter(|(c, _)| witnesses_cover.map_or(true, |w| c.size >= w));
        let covered = if let Some((cp, note)) = from_board {
            let cosigners = named_cosigners(note, &policy);
            let mut vouchers = names(cp.size);
            for c in &cosigners {
                if !vouchers.contains(c) {
                    vouchers.push(c.clone());
                }
            }
            Some(Covered {
                checkpoint: cp.clone(),
                note: note.clone(),
                cosigners,
                vouchers,
            })
        } else if let Some(w) = witnesses_cover {
            // Gather every witness's line on that very checkpoint into one note.
            let mut note = String::new();
            let mut cp = None;
            for a in &answers {
                if let Ok(Some((c, n))) = &a.latest {
                    if c.size == w {
                        note = if note.is_empty() {
                            n.clone()
                        } else {
                            urna_ledger::note::add_signature_lines(
                                &note,
                                &urna_ledger::note::split_note(n)
                                    .map(|(_, l)| l.join("\n") + "\n")
                                    .unwrap_or_default(),
                            )
                        };
                        cp = Some(c.clone());
                    }
                }
            }
            cp.map(|checkpoint| Covered {
                checkpoint,
                cosigners: named_cosigners(&note, &policy),
                note,
                vouchers: names(w),
            })
        } else {
            None
        };
        Ok(WitnessView {
            named: policy.len(),
            quorum,
            answers,
            board_cosigned,
            board_cosigned_beyond: beyond,
            witnesses_cover,
            covered,
        })
    }

    /// The board's `/checkpoint/cosigned`: it must meet the policy with its own cosignature
    /// lines and be a prefix of `log` (or lie beyond it, the board having moved on since).
    fn board_cosigned(
        &self,
        log: &Against<'_>,
        origin: &str,
        key: &VerifyingKey,
        policy: &[(String, VerifyingKey)],
        quorum: usize,
    ) -> Result<Option<BoardCosigned>, ClientError> {
        let Some(note) = self.cosigned_note()? else {
            return Ok(None);
        };
        let (cp, _) =
            Checkpoint::open_witnessed(&note, origin, key, policy, quorum).map_err(|e| {
                ClientError::Misbehaved(format!(
                    "the board's cosigned checkpoint does not meet the witness policy: {e}"
                ))
            })?;
        if cp.size > log.size {
            return Ok(Some(BoardCosigned::Beyond));
        }
        if !(log.prefix)(&cp)? {
            return Err(ClientError::Misbehaved(format!(
                "the board's cosigned checkpoint (size {}) is not a prefix of the log it serves: the board forked its log",
                cp.size
            )));
        }
        Ok(Some(BoardCosigned::Within(cp, note)))
    }
}

/// What a client holds of the board's log to judge the witnesses' checkpoints against: the
/// size and note of the board's checkpoint it checked, and whether a checkpoint of at most that
/// size is a prefix of that log (from the downloaded tree, or a consistency proof for a light
/// client).
pub(crate) struct Against<'a> {
    pub(crate) size: u64,
    pub(crate) note: &'a str,
    pub(crate) prefix: &'a dyn Fn(&Checkpoint) -> Result<bool, ClientError>,
}

/// The board's cosigned checkpoint, relative to a downloaded log.
enum BoardCosigned {
    Within(Checkpoint, String),
    /// Newer than the log downloaded (the board moved on meanwhile).
    Beyond,
}

/// How long a client waits for one witness's answer.
const WITNESS_ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the board's cosigned checkpoint may trail what the witness quorum has cosigned
/// before the board is reported as withholding. An honest board records each cosignature as it
/// arrives and resubmits its latest checkpoint to witnesses that missed it, so it catches up
/// well within this.
pub const WITHHOLDING_GRACE: Duration = Duration::from_secs(15);

/// What an observer learns of a board before streaming its log
/// ([`BoardClient::observe_witnessed`]).
pub struct Observed {
    /// The board's latest checkpoint, its signature checked.
    pub checkpoint: Checkpoint,
    /// The signed note it was read from.
    pub note: String,
    /// Entry 0 as the board served it alone, which the witness policy was read from: the
    /// stream must begin with the same bytes.
    pub first: Option<Vec<u8>>,
    /// `None` when the manifest names no witnesses; `Err(Misbehaved)` naming the contradiction
    /// when the board's checkpoints contradict what a witness cosigned.
    pub witnessed: Option<Result<WitnessView, ClientError>>,
}

/// The election as a party sees it under the witness policy.
pub struct Checked {
    /// The log under the board's latest checkpoint, replayed to its end.
    pub synced: Synced,
    /// What the witnesses said (`None` when the manifest names none).
    pub witnessed: Option<WitnessView>,
    /// The election as of the newest checkpoint the witness quorum covers (of the board's
    /// latest checkpoint when the manifest names no witnesses); `None` if nothing is covered.
    pub decided: Option<Election>,
}

/// Asks every witness the manifest names, at once, for its latest cosigned checkpoint of this log.
pub fn ask_witnesses(m: &Manifest, origin: &str, key: &VerifyingKey) -> Vec<WitnessAnswer> {
    let (policy, _) = witness_policy(m);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(WITNESS_ANSWER_TIMEOUT))
        .build()
        .into();
    std::thread::scope(|s| {
        let asked: Vec<_> = m
            .witnesses
            .iter()
            .map(|w| {
                let (agent, policy) = (&agent, &policy);
                s.spawn(move || WitnessAnswer {
                    name: w.name.clone(),
                    latest: ask_witness(agent, w, origin, key, policy),
                })
            })
            .collect();
        asked
            .into_iter()
            .zip(&m.witnesses)
            .map(|(h, w)| {
                h.join().unwrap_or_else(|_| WitnessAnswer {
                    name: w.name.clone(),
                    latest: Err("the request failed".into()),
                })
            })
            .collect()
    })
}

fn ask_witness(
    agent: &ureq::Agent,
    w: &urna_election::manifest::Witness,
    origin: &str,
    key: &VerifyingKey,
    policy: &[(String, VerifyingKey)],
) -> Result<Option<(Checkpoint, String)>, String> {
    let url = format!(
        "{}{}",
        w.url.trim_end_matches('/'),
        urna_ledger::witnessed::checkpoint_path(origin)
    );
    let sent = agent.get(&url).call();
    let (status, body, _) =
        answer_within(sent, &url, WITNESS_ANSWER_LIMIT).map_err(|e| match e {
            ClientError::Unreachable { why, .. } => format!("{url} is unreachable: {why}"),
            e => e.to_string(),
        })?;
    match status {
        200 => {}
        404 => return Ok(None),
        s => return Err(format!("{url} answered {s}")),
    }
    let note = String::from_utf8(body).map_err(|_| format!("{url}: not UTF-8"))?;
    let cp = Checkpoint::open(&note, origin, key).map_err(|e| format!("{url}: {e}"))?;
    let by = urna_ledger::note::cosigners(&note, policy).map_err(|e| format!("{url}: {e}"))?;
    if !by.iter().any(|(i, _)| policy[*i].0 == w.name) {
        return Err(format!(
            "{url}: the checkpoint does not carry {}'s cosignature",
            w.name
        ));
    }
    Ok(Some((cp, note)))
}

fn synced(origin: String, key: VerifyingKey, log: LogCopy) -> Result<Synced, ClientError> {
    if let Some(m) = log.replica.election().manifest() {
        if m.board_key != key {
            return Err(ClientError::Misbehaved(
                "the manifest names a different board key".into(),
            ));
        }
    }
    Ok(Synced { origin, key, log })
}

/// The manifest of a `Setup` entry's bytes (not validated: the replay does that).
fn manifest_of(entry: &[u8]) -> Option<Manifest> {
    let e = Entry::decode(entry.to_vec()).ok()?;
    match Payload::decode(e.kind(), e.payload()).ok()? {
        Payload::Setup(m) => Some(*m),
        _ => None,
    }
}

/// Runs `attempt` until it succeeds, fails for good (`retry` says no), or `give_up_after`
/// would pass: waits double from 100 ms to 8 s, never shorter than the board's `Retry-After`,
/// with a little jitter so that clients refused together do not all come back together.
fn retrying<T>(
    give_up_after: Duration,
    notice: Option<&Notice>,
    retry: fn(&ClientError) -> bool,
    mut attempt: impl FnMut() -> Result<T, ClientError>,
) -> Result<T, ClientError> {
    let start = std::time::Instant::now();
    let mut backoff = Duration::from_millis(100);
    loop {
        match attempt() {
            Err(e) if retry(&e) => {
                let wait = e
                    .retry_after()
                    .unwrap_or_default()
                    .max(backoff)
                    .saturating_add(jitter(backoff));
                if start.elapsed().saturating_add(wait) >= give_up_after {
                    return Err(e);
                }
                if let Some(n) = notice {
                    n(&format!("{e}; trying again in {:.1} s", wait.as_secs_f64()));
                }
                std::thread::sleep(wait);
                backoff = (backoff * 2).min(Duration::from_secs(8));
            }
            r => return r,
        }
    }
}

/// Up to a quarter of `d`, from the clock (no cryptographic randomness needed).
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.subsec_nanos());
    d / 4 * (nanos % 1000) / 1000
}

impl ClientError {
    fn is_busy(&self) -> bool {
        matches!(self, ClientError::Busy { .. })
    }
}

/// The error for a non-200 answer that is not a rejection.
fn status_error(status: u16, body: &[u8], retry_after: Option<Duration>) -> ClientError {
    let message = error_message(body);
    if matches!(status, 429 | 503) {
        ClientError::Busy {
            status,
            message,
            retry_after,
        }
    } else {
        ClientError::Status { status, message }
    }
}

/// The most a board's answer may hold: a full entry tile is under 17 MiB.
const ANSWER_LIMIT: u64 = 64 << 20;

/// The most a witness's answer may hold: one cosigned checkpoint note, a few hundred bytes per
/// cosignature, so that a hostile witness cannot make every client read 64 MiB.
const WITNESS_ANSWER_LIMIT: u64 = 64 << 10;

/// The status, body and `Retry-After` (delta-seconds; an HTTP date is ignored) of a board's answer.
fn answer(
    sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    url: &str,
) -> Result<(u16, Vec<u8>, Option<Duration>), ClientError> {
    answer_within(sent, url, ANSWER_LIMIT)
}

/// [`answer`] with a body of at most `limit` bytes (a longer one is refused, not truncated).
fn answer_within(
    sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    url: &str,
    limit: u64,
) -> Result<(u16, Vec<u8>, Option<Duration>), ClientError> {
    let unreachable = |e: ureq::Error| ClientError::Unreachable {
        url: url.to_string(),
        why: e.to_string(),
    };
    let mut resp = sent.map_err(unreachable)?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|secs| Duration::from_secs(secs.min(86_400)));
    let body = resp
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(unreachable)?;
    Ok((status, body, retry_after))
}

fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A witness that answers with `body_len` bytes, whatever it is asked.
    fn hostile_witness(body_len: usize) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut request = [0u8; 4096];
                let _ = s.read(&mut request);
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {body_len}\r\n\r\n");
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(&vec![b'a'; body_len]);
            }
        });
        format!("http://{addr}")
    }

    #[test]
    fn a_witness_answer_longer_than_a_note_is_refused_unread() {
        let key = urna_crypto::sign::SigningKey::generate(&mut rand::rngs::OsRng).verifying_key();
        let w = urna_election::manifest::Witness {
            name: "witness.example/w1".into(),
            key,
            url: hostile_witness(1 << 20),
            role: urna_election::manifest::Role::Witness,
        };
        let agent = ureq::Agent::new_with_defaults();
        let err = ask_witness(&agent, &w, "example.org/board", &key, &[]).unwrap_err();
        assert!(err.contains("unreachable"), "{err}");
    }
}
