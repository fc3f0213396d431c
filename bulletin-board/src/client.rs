//! A client of the board's HTTP API for every party (trustees, voters, the registrar, the
//! authority, observers). It trusts nothing it is served: checkpoints are opened with the board
//! key the caller names, downloaded entries are re-hashed into the tree and compared with the
//! signed root, and receipts are verified before they are returned.

use std::time::Duration;

use thiserror::Error;
use urna_crypto::hex;
use urna_crypto::sign::VerifyingKey;

use urna_election::entry::Entry;
use urna_election::state::Election;

use crate::merkle::{self, Hash, Tree};
use crate::note::{Checkpoint, NoteError, Receipt};
use crate::tiles;

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

/// The election as a party sees it: the verified log, its entries, and the state the election
/// rules derive from them (the same code the board runs).
pub struct Synced {
    pub origin: String,
    pub key: VerifyingKey,
    pub log: LogCopy,
    pub entries: Vec<Entry>,
    pub election: Election,
}

/// A verified copy of the log up to a signed checkpoint.
pub struct LogCopy {
    pub checkpoint: Checkpoint,
    /// The signed note the checkpoint was read from.
    pub note: String,
    pub entries: Vec<Vec<u8>>,
    pub tree: Tree,
}

/// Tile requests in flight at once when downloading a log.
const PARALLEL_FETCHES: usize = 8;

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
            let v: serde_json::Value = serde_json::from_slice(
                &self.get(&format!("/consistency/{}/{}", old.size, new.size))?,
            )
            .map_err(|e| ClientError::Misbehaved(format!("consistency proof: {e}")))?;
            v["proof"]
                .as_array()
                .ok_or_else(|| ClientError::Misbehaved("consistency proof has no hashes".into()))?
                .iter()
                .map(|h| {
                    h.as_str()
                        .and_then(|h| hex::decode_array::<32>(h).ok())
                        .ok_or_else(|| {
                            ClientError::Misbehaved("bad hash in consistency proof".into())
                        })
                })
                .collect::<Result<Vec<Hash>, _>>()?
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
    fn entry_tile(&self, n: u64, size: u64) -> Result<Vec<Vec<u8>>, ClientError> {
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
        let tiles_needed = checkpoint.size.div_ceil(tiles::WIDTH);
        // Tiles are immutable and independent: fetch them on a few connections at once.
        let next = std::sync::atomic::AtomicU64::new(0);
        let fetched: std::sync::Mutex<Vec<(u64, Vec<Vec<u8>>)>> = Default::default();
        let failed: std::sync::Mutex<Option<ClientError>> = Default::default();
        std::thread::scope(|s| {
            for _ in 0..PARALLEL_FETCHES.min(tiles_needed as usize) {
                s.spawn(|| loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= tiles_needed || failed.lock().map_or(true, |f| f.is_some()) {
                        return;
                    }
                    match self.entry_tile(n, checkpoint.size) {
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
        let mut entries = Vec::with_capacity(checkpoint.size as usize);
        for (_, got) in fetched {
            entries.extend(got);
        }
        if entries.len() as u64 != checkpoint.size {
            return Err(ClientError::Misbehaved(
                "the entry tiles do not cover the checkpoint".into(),
            ));
        }
        let mut tree = Tree::new();
        for e in &entries {
            tree.push(merkle::leaf_hash(e));
        }
        if tree.root(checkpoint.size).ok() != Some(checkpoint.root) {
            return Err(ClientError::Misbehaved(format!(
                "the entries served do not hash to the signed root of size {}",
                checkpoint.size
            )));
        }
        Ok(LogCopy {
            checkpoint,
            note,
            entries,
            tree,
        })
    }
}

/// The witness policy a manifest sets: (name, key) of each witness, and the quorum.
pub fn witness_policy(
    m: &urna_election::manifest::Manifest,
) -> (Vec<(String, VerifyingKey)>, usize) {
    (
        m.witnesses
            .iter()
            .map(|w| (w.name.clone(), w.key))
            .collect(),
        usize::from(m.witness_quorum),
    )
}

impl BoardClient {
    /// Downloads and verifies the whole log, and replays it through the election rules. The
    /// board's key is taken from `expected` if given; otherwise the key the board states is
    /// used, and it must be the one the election's manifest names.
    pub fn sync(&self, expected: Option<&VerifyingKey>) -> Result<Synced, ClientError> {
        let (origin, stated) = self.stated_key()?;
        let key = match expected {
            Some(k) if *k != stated => {
                return Err(ClientError::Misbehaved(
                    "the board states a different key from the one expected".into(),
                ))
            }
            Some(k) => *k,
            None => stated,
        };
        let log = self.fetch_log(&origin, &key)?;
        let entries = log
            .entries
            .iter()
            .enumerate()
            .map(|(i, b)| {
                Entry::decode(b.clone())
                    .map_err(|e| ClientError::Misbehaved(format!("entry {i} does not decode: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let election = Election::replay(&entries).map_err(|(i, kind, r)| {
            ClientError::Misbehaved(format!(
                "entry {i} ({kind}) on the log is not admissible: {r}"
            ))
        })?;
        if let Some(m) = election.manifest() {
            if m.board_key != key {
                return Err(ClientError::Misbehaved(
                    "the manifest names a different board key".into(),
                ));
            }
        }
        Ok(Synced {
            origin,
            key,
            log,
            entries,
            election,
        })
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

/// The status, body and `Retry-After` (delta-seconds; an HTTP date is ignored) of an answer
/// (at most 64 MiB: a full entry tile is under 17 MiB).
fn answer(
    sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    url: &str,
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
        .limit(64 << 20)
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
