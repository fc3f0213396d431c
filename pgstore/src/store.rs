//! [`PgStore`]: the log on PostgreSQL, one connection to the writable server.

use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use postgres::config::TargetSessionAttrs;
use postgres::error::{Severity, SqlState};
use postgres::{Client, NoTls, Transaction};
use sha2::{Digest, Sha256};

use crate::error::{OpenError, StoreError};
use crate::log_store::LogStore;
use crate::schema::{self, Identity};
use crate::settings::{self, check_commit_settings, Durability, Guarantee};

/// Whether appends need the sequencer lease.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LeasePolicy {
    /// Appends and checkpoints fail with [`StoreError::NotLeaseholder`] unless this store holds
    /// the lease on its current connection. The default.
    #[default]
    Required,
    /// Appends need no lease; they are still fenced on the log's length. For a tool that is
    /// the only writer by construction, and for tests that show fencing alone keeps one log.
    NotRequired,
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct Options {
    pub durability: Durability,
    /// Create the log if the database has none. Without it, a database with no urna log is
    /// refused ([`OpenError::NoLog`]), so that a board pointed at the wrong database does not
    /// start a fresh, empty log there.
    pub create: bool,
    pub lease: LeasePolicy,
    /// Who this store is, recorded with each lease it takes (`urna.sequencers.holder`).
    pub holder: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            durability: Durability::Replicated,
            create: false,
            lease: LeasePolicy::Required,
            holder: format!("pid {}", std::process::id()),
        }
    }
}

/// What does not change across reconnections.
struct Ctx {
    config: postgres::Config,
    identity: Identity,
    opts: Options,
    lease_key: i64,
    /// Warnings the server sent, counted, with the latest one.
    warnings: Arc<Mutex<(u64, String)>>,
}

/// One connection to the writable server.
struct Conn {
    client: Client,
    guarantee: Guarantee,
    /// The lease epoch, while this connection holds the lease.
    epoch: Option<u64>,
}

/// The log of record on PostgreSQL (`specs/storage.md`).
///
/// Every method runs on one connection to the server that accepts writes, found among the
/// URL's hosts (`target_session_attrs=read-write` is forced). A connection that breaks is
/// dropped with the lease it held, and the next call connects again — to whichever host is
/// writable then — checking the server's settings and the database's identity anew.
pub struct PgStore {
    ctx: Ctx,
    conn: Option<Conn>,
}

/// The key of the sequencer lease's advisory lock: the first 8 bytes of
/// `SHA-256("urna/sequencer-lease/v1\n" ‖ origin)`, big-endian.
pub fn lease_key(origin: &str) -> i64 {
    let h = Sha256::new()
        .chain_update(b"urna/sequencer-lease/v1\n")
        .chain_update(origin.as_bytes())
        .finalize();
    let mut k = [0u8; 8];
    k.copy_from_slice(&h[..8]);
    i64::from_be_bytes(k)
}

/// RFC 9162 leaf hash: `SHA-256(0x00 ‖ entry)`.
fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update([0u8])
        .chain_update(entry)
        .finalize()
        .into()
}

/// Whether an error leaves the connection unusable (anything but an ordinary `ERROR` the
/// server reported and recovered from).
fn breaks_connection(e: &postgres::Error) -> bool {
    e.as_db_error()
        .is_none_or(|db| db.parsed_severity() != Some(Severity::Error))
}

fn index(x: u64) -> Result<i64, StoreError> {
    i64::try_from(x).map_err(|_| StoreError::OutOfRange {
        start: x,
        end: x,
        len: i64::MAX as u64,
    })
}

const APPEND: &str = "
WITH h AS (
    UPDATE urna.head SET len = len + cardinality($2::bytea[]) WHERE len = $1 RETURNING len
), ins AS (
    INSERT INTO urna.entries (idx, entry, leaf)
    SELECT $1 + t.ord - 1, t.e, t.l
    FROM h, unnest($2::bytea[], $3::bytea[]) WITH ORDINALITY AS t(e, l, ord)
    RETURNING 1
)
SELECT (SELECT count(*) FROM h), (SELECT count(*) FROM ins),
       current_setting('synchronous_commit'), current_setting('synchronous_standby_names')";

const SET_NOTE: &str = "
INSERT INTO urna.notes (kind, size, note) VALUES ($1, $2, $3)
ON CONFLICT (kind) DO UPDATE SET size = EXCLUDED.size, note = EXCLUDED.note
WHERE urna.notes.size <= EXCLUDED.size
RETURNING size";

const NEW_EPOCH: &str = "
INSERT INTO urna.sequencers (epoch, holder, log_len)
SELECT COALESCE(max(epoch), 0) + 1, $1, (SELECT len FROM urna.head) FROM urna.sequencers
RETURNING epoch";

const HOLDS: &str = "
SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
    AND granted AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1)";

#[derive(Debug, Clone, Copy)]
enum NoteKind {
    Checkpoint,
    Cosigned,
}

impl NoteKind {
    fn name(self) -> &'static str {
        match self {
            NoteKind::Checkpoint => "checkpoint",
            NoteKind::Cosigned => "cosigned",
        }
    }
}

impl Ctx {
    fn warnings(&self) -> (u64, String) {
        self.warnings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn connect(&self) -> Result<Conn, OpenError> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(|source| OpenError::Unreachable {
                hosts: hosts(&self.config),
                source,
            })?;
        let guarantee = settings::check(&mut client, self.opts.durability)??;
        schema::prepare(&mut client, &self.identity, self.opts.create)?;
        Ok(Conn {
            client,
            guarantee,
            epoch: None,
        })
    }

    /// Commits `tx`, telling apart "not committed" (the server answered with an error),
    /// "maybe committed" (no answer) and "committed, but the wait for a standby was cancelled"
    /// (a warning came with the answer: PostgreSQL then reports success although no standby
    /// confirmed, so urna must not acknowledge it).
    fn commit(&self, tx: Transaction<'_>) -> Result<(), StoreError> {
        let (before, _) = self.warnings();
        match tx.commit() {
            Ok(()) => {
                let (after, warning) = self.warnings();
                if after == before {
                    Ok(())
                } else {
                    Err(StoreError::CommitUnconfirmed { warning })
                }
            }
            Err(e) if !breaks_connection(&e) => Err(StoreError::Postgres(e)),
            Err(source) => Err(StoreError::CommitUnknown { source }),
        }
    }

    fn need_lease(&self, conn: &Conn) -> Result<(), StoreError> {
        if self.opts.lease == LeasePolicy::Required && conn.epoch.is_none() {
            return Err(StoreError::NotLeaseholder);
        }
        Ok(())
    }

    fn append(
        &self,
        conn: &mut Conn,
        at: u64,
        entries: &[&[u8]],
        checkpoint: Option<&str>,
    ) -> Result<(), StoreError> {
        self.need_lease(conn)?;
        let end = at + entries.len() as u64;
        let note = match checkpoint {
            Some(n) => {
                let size = self.note_size(n)?;
                if size != end {
                    return Err(StoreError::BadNote {
                        reason: format!("it covers {size} entries, but the append ends at {end}"),
                    });
                }
                Some((n, size))
            }
            None => None,
        };
        let leaves: Vec<Vec<u8>> = entries.iter().map(|e| leaf_hash(e).to_vec()).collect();
        let at_i = index(at)?;
        index(end)?;
        let mut tx = conn.client.transaction()?;
        let row = match tx.query_one(APPEND, &[&at_i, &entries, &leaves]) {
            Ok(row) => row,
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                return Err(StoreError::Corrupt {
                    index: at,
                    reason: "urna.head ends here but entries exist past it".into(),
                })
            }
            Err(e) => return Err(e.into()),
        };
        let moved: i64 = row.get(0);
        let inserted: i64 = row.get(1);
        let synchronous_commit: String = row.get(2);
        let names: String = row.get(3);
        check_commit_settings(self.opts.durability, &synchronous_commit, &names)?;
        if moved != 1 {
            drop(tx);
            let len = head(&mut conn.client)?;
            return Err(StoreError::Fenced { at, len });
        }
        if inserted != entries.len() as i64 {
            return Err(StoreError::Corrupt {
                index: at,
                reason: format!("{inserted} rows inserted for {} entries", entries.len()),
            });
        }
        if let Some((n, size)) = note {
            let size = index(size)?;
            tx.query_one(SET_NOTE, &[&NoteKind::Checkpoint.name(), &size, &n])?;
        }
        self.commit(tx)
    }

    /// The size a checkpoint note states, once its origin line is checked (the signature is
    /// the replica's to check; the store only keeps notes from covering entries it lacks or
    /// from going backwards).
    fn note_size(&self, note: &str) -> Result<u64, StoreError> {
        let mut lines = note.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin != self.identity.origin {
            return Err(StoreError::BadNote {
                reason: format!("its origin is {origin:?}, not {:?}", self.identity.origin),
            });
        }
        let size = lines.next().unwrap_or_default();
        let canonical = !size.is_empty()
            && size.bytes().all(|b| b.is_ascii_digit())
            && (size == "0" || !size.starts_with('0'));
        match size.parse::<u64>() {
            Ok(n) if canonical && n <= i64::MAX as u64 => Ok(n),
            _ => Err(StoreError::BadNote {
                reason: format!("its size line {size:?} is not a size"),
            }),
        }
    }

    fn set_note(&self, conn: &mut Conn, kind: NoteKind, note: &str) -> Result<(), StoreError> {
        if let NoteKind::Checkpoint = kind {
            self.need_lease(conn)?;
        }
        let size = self.note_size(note)?;
        let size_i = index(size)?;
        let mut tx = conn.client.transaction()?;
        let len: i64 = tx.query_one("SELECT len FROM urna.head", &[])?.get(0);
        if size_i > len {
            return Err(StoreError::NoteBeyondLog {
                kind: kind.name(),
                size,
                len: len as u64,
            });
        }
        if tx
            .query_opt(SET_NOTE, &[&kind.name(), &size_i, &note])?
            .is_none()
        {
            let stored: i64 = tx
                .query_one(
                    "SELECT size FROM urna.notes WHERE kind = $1",
                    &[&kind.name()],
                )?
                .get(0);
            return Err(StoreError::NoteRegress {
                kind: kind.name(),
                stored: stored as u64,
                new: size,
            });
        }
        self.commit(tx)
    }

    fn note(&self, conn: &mut Conn, kind: NoteKind) -> Result<Option<String>, StoreError> {
        Ok(conn
            .client
            .query_opt(
                "SELECT note FROM urna.notes WHERE kind = $1",
                &[&kind.name()],
            )?
            .map(|r| r.get(0)))
    }

    fn read(&self, conn: &mut Conn, range: Range<u64>) -> Result<Vec<Vec<u8>>, StoreError> {
        let Range { start, end } = range;
        if start > end {
            return Err(StoreError::OutOfRange {
                start,
                end,
                len: head(&mut conn.client)?,
            });
        }
        let rows = conn.client.query(
            "SELECT idx, entry, leaf FROM urna.entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            &[&index(start)?, &index(end)?],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for (k, row) in rows.into_iter().enumerate() {
            let at = start + k as u64;
            let idx: i64 = row.get(0);
            if idx as u64 != at {
                return Err(StoreError::Corrupt {
                    index: at,
                    reason: "missing".into(),
                });
            }
            let entry: Vec<u8> = row.get(1);
            let leaf: &[u8] = row.get(2);
            if leaf != leaf_hash(&entry) {
                return Err(StoreError::Corrupt {
                    index: at,
                    reason: "its stored leaf hash is not the hash of its bytes".into(),
                });
            }
            out.push(entry);
        }
        let got = start + out.len() as u64;
        if got < end {
            let len = head(&mut conn.client)?;
            if end > len {
                return Err(StoreError::OutOfRange { start, end, len });
            }
            return Err(StoreError::Corrupt {
                index: got,
                reason: "missing".into(),
            });
        }
        Ok(out)
    }

    /// Records a new lease epoch with a synchronous commit, once the advisory lock is held;
    /// gives the lock back if that fails.
    fn take_over(&self, conn: &mut Conn) -> Result<bool, StoreError> {
        let recorded = (|| {
            let mut tx = conn.client.transaction()?;
            let epoch: i64 = tx.query_one(NEW_EPOCH, &[&self.opts.holder])?.get(0);
            self.commit(tx)?;
            Ok::<_, StoreError>(epoch)
        })();
        match recorded {
            Ok(epoch) => {
                conn.epoch = Some(epoch as u64);
                Ok(true)
            }
            Err(e) => {
                let _ = conn
                    .client
                    .execute("SELECT pg_advisory_unlock($1)", &[&self.lease_key]);
                Err(e)
            }
        }
    }
}

fn head(client: &mut Client) -> Result<u64, StoreError> {
    let len: i64 = client.query_one("SELECT len FROM urna.head", &[])?.get(0);
    Ok(len as u64)
}

/// The hosts of a configuration, for messages (never its password).
fn hosts(config: &postgres::Config) -> String {
    let ports = config.get_ports();
    config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                postgres::config::Host::Tcp(s) => s.clone(),
                postgres::config::Host::Unix(p) => p.display().to_string(),
            };
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            format!("{host}:{port}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl PgStore {
    /// Connects to the writable server among `url`'s hosts, checks that its settings give
    /// `opts.durability`'s guarantee, and that the database holds `identity`'s log (creating
    /// it if `opts.create` and there is none).
    ///
    /// `url` is a libpq-style URL or key/value string; several hosts may be listed
    /// (`postgresql://urna@db1:5432,db2:5432/election`). Unless it says otherwise, connecting
    /// to one host gives up after 5 s and a silent peer is detected by TCP keepalives within
    /// about 15 s.
    pub fn open(url: &str, identity: Identity, opts: Options) -> Result<PgStore, OpenError> {
        let mut config: postgres::Config = url.parse().map_err(OpenError::Url)?;
        config.target_session_attrs(TargetSessionAttrs::ReadWrite);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        if config.get_application_name().is_none() {
            config.application_name("urna");
        }
        if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
            config
                .keepalives(true)
                .keepalives_idle(Duration::from_secs(5))
                .keepalives_interval(Duration::from_secs(2))
                .keepalives_retries(5);
        }
        let warnings = Arc::new(Mutex::new((0u64, String::new())));
        let sink = warnings.clone();
        config.notice_callback(move |notice| {
            if notice.parsed_severity() == Some(Severity::Warning) {
                let mut w = sink.lock().unwrap_or_else(PoisonError::into_inner);
                w.0 += 1;
                w.1 = match notice.detail() {
                    Some(d) => format!("{} {d}", notice.message()),
                    None => notice.message().to_string(),
                };
            }
        });
        let ctx = Ctx {
            lease_key: lease_key(&identity.origin),
            config,
            identity,
            opts,
            warnings,
        };
        let conn = ctx.connect()?;
        Ok(PgStore {
            ctx,
            conn: Some(conn),
        })
    }

    /// Drops the connection (and the lease with it) and connects again.
    pub fn reconnect(&mut self) -> Result<(), OpenError> {
        self.conn = None;
        self.conn = Some(self.ctx.connect()?);
        Ok(())
    }

    /// Runs `f` on the connection, connecting first if there is none, and drops the
    /// connection if `f` broke it.
    fn with<T>(
        &mut self,
        f: impl FnOnce(&Ctx, &mut Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = match self.conn.take() {
            Some(c) if !c.client.is_closed() => self.conn.insert(c),
            _ => {
                let c = self
                    .ctx
                    .connect()
                    .map_err(|e| StoreError::Reconnect(Box::new(e)))?;
                self.conn.insert(c)
            }
        };
        let out = f(&self.ctx, conn);
        let broken = match &out {
            Err(StoreError::Postgres(e)) => breaks_connection(e),
            Err(StoreError::CommitUnknown { .. }) => true,
            _ => conn.client.is_closed(),
        };
        if broken {
            self.conn = None;
        }
        out
    }

    /// What the server's settings guaranteed when this connection was made, if connected.
    pub fn guarantee(&self) -> Option<&Guarantee> {
        self.conn.as_ref().map(|c| &c.guarantee)
    }

    pub fn identity(&self) -> &Identity {
        &self.ctx.identity
    }

    /// The index of the first entry whose leaf hash is `leaf`.
    pub fn index_of(&mut self, leaf: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        self.with(|_, conn| {
            let row = conn.client.query_one(
                "SELECT min(idx) FROM urna.entries WHERE leaf = $1",
                &[&&leaf[..]],
            )?;
            Ok(row.get::<_, Option<i64>>(0).map(|i| i as u64))
        })
    }

    /// [`LogStore::append`] and [`LogStore::set_checkpoint`] in one transaction, so one
    /// synchronous commit covers both; `checkpoint` must cover exactly the log after the
    /// append.
    pub fn append_with_checkpoint(
        &mut self,
        at: u64,
        entries: &[&[u8]],
        checkpoint: &str,
    ) -> Result<(), StoreError> {
        self.with(|ctx, conn| ctx.append(conn, at, entries, Some(checkpoint)))
    }

    /// Makes sure every entry now in the log is on a standby: a synchronous commit of a write
    /// (WAL is replayed in order, so a standby that has it has everything before it). After
    /// an append whose outcome is unknown, the sequencer re-reads the tail and calls this
    /// before acknowledging any entry of it. Returns the length it covers.
    pub fn confirm_durable(&mut self) -> Result<u64, StoreError> {
        self.with(|ctx, conn| {
            let mut tx = conn.client.transaction()?;
            let len: i64 = tx
                .query_one("UPDATE urna.head SET len = len RETURNING len", &[])?
                .get(0);
            ctx.commit(tx)?;
            Ok(len as u64)
        })
    }

    /// Takes the sequencer lease if no other session holds it: a session advisory lock on
    /// [`lease_key`], then a new epoch recorded in `urna.sequencers` with a synchronous commit
    /// (which also confirms that the log as it is now is on a standby). Returns whether this
    /// store holds the lease.
    pub fn try_acquire_lease(&mut self) -> Result<bool, StoreError> {
        self.with(|ctx, conn| {
            if conn.epoch.is_some() {
                return Ok(true);
            }
            let got: bool = conn
                .client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&ctx.lease_key])?
                .get(0);
            if !got {
                return Ok(false);
            }
            ctx.take_over(conn)
        })
    }

    /// Waits up to `timeout` for the lease (a follower waiting to take over: the server grants
    /// it the moment the holder's session ends). Returns whether this store holds it.
    pub fn wait_for_lease(&mut self, timeout: Duration) -> Result<bool, StoreError> {
        if self.try_acquire_lease()? {
            return Ok(true);
        }
        self.with(|ctx, conn| {
            let ms = timeout.as_millis().clamp(1, i32::MAX as u128);
            let mut tx = conn.client.transaction()?;
            tx.batch_execute(&format!("SET LOCAL lock_timeout = {ms}"))?;
            match tx.execute("SELECT pg_advisory_lock($1)", &[&ctx.lease_key]) {
                Ok(_) => {
                    tx.commit()?;
                    ctx.take_over(conn)
                }
                Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
    }

    /// Whether this store holds the lease now: asks the server whether its session holds the
    /// lock. A lost connection is a lost lease (`false`); this never reconnects.
    pub fn holds_lease(&mut self) -> Result<bool, StoreError> {
        let key = self.ctx.lease_key;
        let Some(conn) = self.conn.as_mut().filter(|c| c.epoch.is_some()) else {
            return Ok(false);
        };
        let hi = (key >> 32) & 0xffff_ffff;
        let lo = key & 0xffff_ffff;
        match conn.client.query_one(HOLDS, &[&hi, &lo]) {
            Ok(row) => {
                let held: bool = row.get(0);
                if !held {
                    conn.epoch = None;
                }
                Ok(held)
            }
            Err(e) if breaks_connection(&e) => {
                self.conn = None;
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The lease epoch this store holds (numbered from 1 in `urna.sequencers`), as far as it
    /// knows without asking the server.
    pub fn lease_epoch(&self) -> Option<u64> {
        self.conn.as_ref().and_then(|c| c.epoch)
    }

    /// Gives the lease up (a clean hand-over).
    pub fn release_lease(&mut self) -> Result<(), StoreError> {
        let key = self.ctx.lease_key;
        let Some(conn) = self.conn.as_mut().filter(|c| c.epoch.is_some()) else {
            return Ok(());
        };
        conn.epoch = None;
        conn.client
            .execute("SELECT pg_advisory_unlock($1)", &[&key])
            .map(|_| ())
            .or_else(|e| {
                if breaks_connection(&e) {
                    self.conn = None;
                    Ok(())
                } else {
                    Err(e.into())
                }
            })
    }

    /// The server process serving this store's connection (`pg_backend_pid()`), for
    /// operators and tests.
    pub fn backend_pid(&mut self) -> Result<i32, StoreError> {
        self.with(|_, conn| {
            Ok(conn
                .client
                .query_one("SELECT pg_backend_pid()", &[])?
                .get(0))
        })
    }
}

impl LogStore for PgStore {
    type Error = StoreError;

    fn len(&mut self) -> Result<u64, StoreError> {
        self.with(|_, conn| head(&mut conn.client))
    }

    fn read(&mut self, range: Range<u64>) -> Result<Vec<Vec<u8>>, StoreError> {
        self.with(|ctx, conn| ctx.read(conn, range))
    }

    /// Inserts `entries` at `at` in one transaction, fenced: `urna.head` moves from `at` to
    /// `at + n` only if it is at `at` (a concurrent appender waits for the row and then finds
    /// it moved), and the entries' primary key refuses a second row at any index. Returns once
    /// COMMIT has returned, which the settings checked at connection make wait for a
    /// synchronous standby.
    fn append(&mut self, at: u64, entries: &[&[u8]]) -> Result<(), StoreError> {
        self.with(|ctx, conn| ctx.append(conn, at, entries, None))
    }

    fn checkpoint(&mut self) -> Result<Option<String>, StoreError> {
        self.with(|ctx, conn| ctx.note(conn, NoteKind::Checkpoint))
    }

    /// Stores the signed checkpoint; needs the lease. Refused if its origin is not the log's,
    /// if it covers more entries than the log holds, or fewer than the one stored.
    fn set_checkpoint(&mut self, note: &str) -> Result<(), StoreError> {
        self.with(|ctx, conn| ctx.set_note(conn, NoteKind::Checkpoint, note))
    }

    fn cosigned(&mut self) -> Result<Option<String>, StoreError> {
        self.with(|ctx, conn| ctx.note(conn, NoteKind::Cosigned))
    }

    /// Stores the cosigned checkpoint, with the same checks as the checkpoint but without the
    /// lease: any board process may record a quorum's cosignatures, and the record only moves
    /// forward.
    fn set_cosigned(&mut self, note: &str) -> Result<(), StoreError> {
        self.with(|ctx, conn| ctx.set_note(conn, NoteKind::Cosigned, note))
    }
}
