//! [`PgStore`]: the log on PostgreSQL, through two connections to the writable server — the
//! writer's (appends, statements, the lease) and the readers' — so that reads never queue
//! behind a COMMIT waiting for a standby.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use postgres::config::TargetSessionAttrs;
use postgres::error::{Severity, SqlState};
use postgres::{Client, IsolationLevel, NoTls, Transaction};
use sha2::{Digest, Sha256};

use crate::error::{OpenError, StoreError};
use crate::schema::{self, Identity};
use crate::settings::{self, check_commit_settings, Durability, Guarantee};
use urna_ledger::{LogStore, Statement};

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
    writer: postgres::Config,
    reader: postgres::Config,
    identity: Identity,
    opts: Options,
    lease_key: i64,
    /// Warnings the server sent the writer's connection: how many, and the latest.
    warnings: Arc<Mutex<(u64, String)>>,
}

/// The writer's connection.
struct Conn {
    client: Client,
    guarantee: Guarantee,
    /// The lease epoch, while this connection holds the lease.
    epoch: Option<u64>,
}

/// The log of record on PostgreSQL (`specs/storage.md`).
///
/// Both connections go to the server that accepts writes, found among the URL's hosts
/// (`target_session_attrs=read-write` is forced). A connection that breaks is dropped — the
/// writer's with the lease it held — and the next call connects again, to whichever host is
/// writable then, checking the server's settings (writer) and the database's identity anew.
pub struct PgStore {
    ctx: Ctx,
    writer: Mutex<Option<Conn>>,
    reader: Mutex<Option<Client>>,
    /// The length last seen: by an append, a read or [`PgStore::refresh_len`].
    len: AtomicU64,
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
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

/// Replaces the snapshot only with one covering more entries.
const PUT_SNAPSHOT: &str = "
INSERT INTO urna.snapshots (size, snapshot) VALUES ($1, $2)
ON CONFLICT (singleton) DO UPDATE SET size = EXCLUDED.size, snapshot = EXCLUDED.snapshot
WHERE urna.snapshots.size < EXCLUDED.size
RETURNING size";

const NEW_EPOCH: &str = "
INSERT INTO urna.sequencers (epoch, holder, log_len)
SELECT COALESCE(max(epoch), 0) + 1, $1, (SELECT len FROM urna.head) FROM urna.sequencers
RETURNING epoch";

const HOLDS: &str = "
SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
    AND granted AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1)";

fn kind(which: Statement) -> &'static str {
    match which {
        Statement::Checkpoint => "checkpoint",
        Statement::Cosigned => "cosigned",
    }
}

impl Ctx {
    fn warnings(&self) -> (u64, String) {
        lock(&self.warnings).clone()
    }

    fn connect_writer(&self) -> Result<Conn, OpenError> {
        let mut client = self
            .writer
            .connect(NoTls)
            .map_err(|source| OpenError::Unreachable {
                hosts: hosts(&self.writer),
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

    fn connect_reader(&self) -> Result<Client, OpenError> {
        let mut client = self
            .reader
            .connect(NoTls)
            .map_err(|source| OpenError::Unreachable {
                hosts: hosts(&self.reader),
                source,
            })?;
        schema::prepare(&mut client, &self.identity, false)?;
        Ok(client)
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
    ) -> Result<u64, StoreError> {
        self.need_lease(conn)?;
        let end = at
            .checked_add(entries.len() as u64)
            .ok_or(StoreError::OutOfRange {
                start: at,
                end: u64::MAX,
                len: i64::MAX as u64,
            })?;
        let note = match checkpoint {
            Some(n) => {
                let size = self.note_size(n)?;
                if size != end {
                    return Err(StoreError::BadNote {
                        reason: format!("it covers {size} entries, but the append ends at {end}"),
                    });
                }
                Some((n, index(size)?))
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
                return Err(StoreError::Damaged {
                    index: at,
                    why: "urna.head ends here but entries exist past it".into(),
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
            return Err(StoreError::Damaged {
                index: at,
                why: format!("{inserted} rows inserted for {} entries", entries.len()),
            });
        }
        if let Some((n, size)) = note {
            tx.query_one(SET_NOTE, &[&kind(Statement::Checkpoint), &size, &n])?;
        }
        self.commit(tx)?;
        Ok(end)
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

    fn set_note(&self, conn: &mut Conn, which: Statement, note: &str) -> Result<(), StoreError> {
        if which == Statement::Checkpoint {
            self.need_lease(conn)?;
        }
        let size = self.note_size(note)?;
        let size_i = index(size)?;
        let mut tx = conn.client.transaction()?;
        let len: i64 = tx.query_one("SELECT len FROM urna.head", &[])?.get(0);
        if size_i > len {
            return Err(StoreError::NoteBeyondLog {
                kind: kind(which),
                size,
                len: len as u64,
            });
        }
        if tx
            .query_opt(SET_NOTE, &[&kind(which), &size_i, &note])?
            .is_none()
        {
            let stored: i64 = tx
                .query_one(
                    "SELECT size FROM urna.notes WHERE kind = $1",
                    &[&kind(which)],
                )?
                .get(0);
            return Err(StoreError::NoteRegress {
                kind: kind(which),
                stored: stored as u64,
                new: size,
            });
        }
        self.commit(tx)
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

fn head(client: &mut impl postgres::GenericClient) -> Result<u64, StoreError> {
    let len: i64 = client.query_one("SELECT len FROM urna.head", &[])?.get(0);
    Ok(len as u64)
}

fn read(client: &mut Client, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
    if start > end {
        return Err(StoreError::OutOfRange {
            start,
            end,
            len: head(client)?,
        });
    }
    let rows = client.query(
        "SELECT idx, entry, leaf FROM urna.entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        &[&index(start)?, &index(end)?],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for (k, row) in rows.into_iter().enumerate() {
        let at = start + k as u64;
        let idx: i64 = row.get(0);
        if idx as u64 != at {
            return Err(StoreError::Damaged {
                index: at,
                why: "missing".into(),
            });
        }
        let entry: Vec<u8> = row.get(1);
        let leaf: &[u8] = row.get(2);
        if leaf != leaf_hash(&entry) {
            return Err(StoreError::Damaged {
                index: at,
                why: "its stored leaf hash is not the hash of its bytes".into(),
            });
        }
        out.push(entry);
    }
    let got = start + out.len() as u64;
    if got < end {
        let len = head(client)?;
        if end > len {
            return Err(StoreError::OutOfRange { start, end, len });
        }
        return Err(StoreError::Damaged {
            index: got,
            why: "missing".into(),
        });
    }
    Ok(out)
}

/// The stored snapshot of the rules' state as [`PgStore::snapshot_with_leaves`] reads it: the
/// size its row says it covers, its bytes (which the store does not interpret), and the leaf
/// hashes of the log's first `size` entries, or why they could not be read.
#[derive(Debug)]
pub struct StoredSnapshot {
    pub size: u64,
    pub bytes: Vec<u8>,
    pub leaves: Result<Vec<[u8; 32]>, StoreError>,
}

/// A scoped thread's result; one that panicked is an error, not a panic here.
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, Result<T, StoreError>>) -> Result<T, StoreError> {
    h.join().unwrap_or_else(|_| {
        Err(StoreError::Damaged {
            index: 0,
            why: "a thread reading the stored snapshot failed".into(),
        })
    })
}

/// Leaf hashes as [`copy_leaves`] found them.
enum Leaves {
    All(Vec<[u8; 32]>),
    /// Missing or malformed from entry `at` on.
    Short {
        at: u64,
        why: String,
    },
}

/// The binary COPY format's signature.
const COPY_SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Reads the leaf hashes of entries `start..end` with `COPY … TO STDOUT (FORMAT binary)` of
/// `idx, leaf` in index order — from the primary key alone, which carries them (§3, version
/// 3), where the table's visibility map is current — checking that the indices run on without
/// a gap and that each hash is 32 bytes. Binary COPY sends each row as a few bytes of framing
/// around its values: no aggregate to build on the server, no row objects in the client.
fn copy_leaves(tx: &mut Transaction<'_>, start: u64, end: u64) -> Result<Leaves, StoreError> {
    use std::io::{BufRead, Read};
    let (from, to) = (index(start)?, index(end)?);
    // A range of the primary key in its order: its index is the plan whatever the statistics
    // say (on a table not yet analysed the planner would scan the pages and sort), and one
    // statement is not worth compiling.
    tx.batch_execute(
        "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL jit = off",
    )?;
    // Integers formatted by this code: nothing else goes into the statement.
    let copy = format!(
        "COPY (SELECT idx, leaf FROM urna.entries WHERE idx >= {from} AND idx < {to} \
         ORDER BY idx) TO STDOUT (FORMAT binary)"
    );
    let mut out = Vec::with_capacity(usize::try_from(end - start).unwrap_or(0));
    let mut r = tx.copy_out(&copy)?;
    // Whether `buf` was filled (`false`: the stream ended first).
    let mut fill = |buf: &mut [u8]| match r.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(copy_error(e)),
    };
    let short = |at: u64, why: &str| {
        Ok(Leaves::Short {
            at,
            why: why.to_string(),
        })
    };
    // Signature, flags, the header extension's length (and the extension, if any).
    let mut head = [0u8; 19];
    if !fill(&mut head)? || head[..11] != COPY_SIGNATURE[..] {
        return short(start, "the leaf hashes' COPY has no binary header");
    }
    let ext = u32::from_be_bytes([head[15], head[16], head[17], head[18]]);
    if ext > 1 << 16 || !fill(&mut vec![0u8; ext as usize])? {
        return short(start, "the leaf hashes' COPY has a malformed header");
    }
    // Each row: i16 2 (fields), i32 8, i64 idx, i32 32, the 32 bytes; then the trailer, i16 −1.
    let mut row = [0u8; 2 + 4 + 8 + 4 + 32];
    let mut at = start;
    loop {
        if !fill(&mut row[..2])? {
            return short(at, "the leaf hashes' COPY ended without its trailer");
        }
        if row[..2] == [0xff, 0xff] {
            break;
        }
        if row[..2] != [0, 2] || !fill(&mut row[2..])? {
            return short(at, "leaf hashes missing or malformed");
        }
        if row[2..6] != 8u32.to_be_bytes() || row[14..18] != 32u32.to_be_bytes() {
            return short(at, "leaf hashes missing or malformed");
        }
        let mut idx = [0u8; 8];
        idx.copy_from_slice(&row[6..14]);
        if u64::from_be_bytes(idx) != at {
            return short(at, "missing");
        }
        let mut l = [0u8; 32];
        l.copy_from_slice(&row[18..]);
        out.push(l);
        at += 1;
    }
    if !r.fill_buf().map_err(copy_error)?.is_empty() {
        return short(at, "the leaf hashes' COPY goes on after its trailer");
    }
    if at < end {
        return short(at, "missing");
    }
    Ok(Leaves::All(out))
}

/// An error reading a COPY's stream: the server's or the connection's, as any query's.
fn copy_error(e: std::io::Error) -> StoreError {
    match e.into_inner().map(|b| b.downcast::<postgres::Error>()) {
        Some(Ok(pg)) => StoreError::Postgres(*pg),
        Some(Err(other)) => StoreError::Damaged {
            index: 0,
            why: format!("reading the leaf hashes: {other}"),
        },
        None => StoreError::Damaged {
            index: 0,
            why: "reading the leaf hashes failed".into(),
        },
    }
}

/// Bytes of the snapshot's row read at a time (`substring` of an uncompressed out-of-line
/// value fetches only the chunks it covers).
const SLICE: usize = 16 << 20;

/// Connections reading the snapshot's row at once, beside the one reading the leaf hashes.
const ROW_READERS: usize = 2;

/// Reads the snapshot row's slices `(offset, buffer)` into their buffers.
fn read_slices(
    client: &mut impl postgres::GenericClient,
    slices: Vec<(usize, &mut [u8])>,
) -> Result<(), StoreError> {
    for (at, buf) in slices {
        let (from, n) = (
            i32::try_from(at + 1).unwrap_or(i32::MAX),
            i32::try_from(buf.len()).unwrap_or(i32::MAX),
        );
        let row = client.query_one(
            "SELECT substring(snapshot FROM $1 FOR $2) FROM urna.snapshots",
            &[&from, &n],
        )?;
        let got: &[u8] = row.get(0);
        if got.len() != buf.len() {
            return Err(StoreError::Damaged {
                index: 0,
                why: format!(
                    "the snapshot's row read back {} bytes at {at}, not {}",
                    got.len(),
                    buf.len()
                ),
            });
        }
        buf.copy_from_slice(got);
    }
    Ok(())
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
        if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
            config
                .keepalives(true)
                .keepalives_idle(Duration::from_secs(5))
                .keepalives_interval(Duration::from_secs(2))
                .keepalives_retries(5);
        }
        let mut reader = config.clone();
        reader.notice_callback(|_| {});
        if config.get_application_name().is_none() {
            config.application_name("urna");
            reader.application_name("urna reader");
        }
        let warnings = Arc::new(Mutex::new((0u64, String::new())));
        let sink = warnings.clone();
        config.notice_callback(move |notice| {
            if notice.parsed_severity() == Some(Severity::Warning) {
                let mut w = lock(&sink);
                w.0 += 1;
                w.1 = match notice.detail() {
                    Some(d) => format!("{} {d}", notice.message()),
                    None => notice.message().to_string(),
                };
            }
        });
        let ctx = Ctx {
            lease_key: lease_key(&identity.origin),
            writer: config,
            reader,
            identity,
            opts,
            warnings,
        };
        let mut conn = ctx.connect_writer()?;
        let len = head(&mut conn.client).map_err(|e| match e {
            StoreError::Postgres(e) => OpenError::Postgres(e),
            other => OpenError::Damaged {
                reason: other.to_string(),
            },
        })?;
        Ok(PgStore {
            ctx,
            writer: Mutex::new(Some(conn)),
            reader: Mutex::new(None),
            len: AtomicU64::new(len),
        })
    }

    /// Drops the writer's connection (and the lease with it) and connects again.
    pub fn reconnect(&self) -> Result<(), OpenError> {
        let mut slot = lock(&self.writer);
        *slot = None;
        *slot = Some(self.ctx.connect_writer()?);
        Ok(())
    }

    /// Runs `f` on the writer's connection, connecting first if there is none, and drops the
    /// connection if `f` broke it.
    fn with_writer<T>(
        &self,
        f: impl FnOnce(&Ctx, &mut Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut slot = lock(&self.writer);
        let conn = match slot.take() {
            Some(c) if !c.client.is_closed() => slot.insert(c),
            _ => {
                let c = self
                    .ctx
                    .connect_writer()
                    .map_err(|e| StoreError::Reconnect(Box::new(e)))?;
                slot.insert(c)
            }
        };
        let out = f(&self.ctx, conn);
        let broken = match &out {
            Err(StoreError::Postgres(e)) => breaks_connection(e),
            Err(StoreError::CommitUnknown { .. }) => true,
            _ => conn.client.is_closed(),
        };
        if broken {
            *slot = None;
        }
        out
    }

    /// [`PgStore::with_writer`] for the readers' connection.
    fn with_reader<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut slot = lock(&self.reader);
        let client = match slot.take() {
            Some(c) if !c.is_closed() => slot.insert(c),
            _ => {
                let c = self
                    .ctx
                    .connect_reader()
                    .map_err(|e| StoreError::Reconnect(Box::new(e)))?;
                slot.insert(c)
            }
        };
        let out = f(client);
        let broken = match &out {
            Err(StoreError::Postgres(e)) => breaks_connection(e),
            _ => client.is_closed(),
        };
        if broken {
            *slot = None;
        }
        out
    }

    fn saw_len(&self, len: u64) {
        self.len.fetch_max(len, Ordering::AcqRel);
    }

    /// What the server's settings guaranteed when the writer's connection was made, if it is
    /// connected.
    pub fn guarantee(&self) -> Option<Guarantee> {
        lock(&self.writer).as_ref().map(|c| c.guarantee.clone())
    }

    pub fn identity(&self) -> &Identity {
        &self.ctx.identity
    }

    /// Asks the server how many entries the log holds ([`LogStore::len`] is the length last
    /// seen, which other processes' appends leave behind).
    pub fn refresh_len(&self) -> Result<u64, StoreError> {
        let len = self.with_reader(head)?;
        self.saw_len(len);
        Ok(len)
    }

    /// The latest lease taken: its epoch and holder (`Options::holder`; a board records the
    /// address it serves at, where the other board processes forward submissions). The holder
    /// may since have died: a follower that cannot reach it retries until another takes the
    /// lease.
    pub fn sequencer(&self) -> Result<Option<(u64, String)>, StoreError> {
        self.with_reader(|client| {
            Ok(client
                .query_opt(
                    "SELECT epoch, holder FROM urna.sequencers ORDER BY epoch DESC LIMIT 1",
                    &[],
                )?
                .map(|r| (r.get::<_, i64>(0) as u64, r.get(1))))
        })
    }

    /// The index of the first entry whose leaf hash is `leaf`.
    pub fn index_of(&self, leaf: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        self.with_reader(|client| {
            let row = client.query_one(
                "SELECT min(idx) FROM urna.entries WHERE leaf = $1",
                &[&&leaf[..]],
            )?;
            Ok(row.get::<_, Option<i64>>(0).map(|i| i as u64))
        })
    }

    /// [`LogStore::append`] and the checkpoint ([`Statement::Checkpoint`]) in one
    /// transaction, so one synchronous commit covers both; `checkpoint` must cover exactly the
    /// log after the append.
    pub fn append_with_checkpoint(
        &self,
        at: u64,
        entries: &[&[u8]],
        checkpoint: &str,
    ) -> Result<(), StoreError> {
        let end = self.with_writer(|ctx, conn| ctx.append(conn, at, entries, Some(checkpoint)))?;
        self.saw_len(end);
        Ok(())
    }

    /// Makes sure every entry now in the log is on a standby: a synchronous commit of a write
    /// (a standby replays the WAL in order, so one that has this commit has everything
    /// before it). After an append whose outcome is unknown, the sequencer re-reads the tail
    /// and calls this before acknowledging any entry of it. Returns the length it covers.
    pub fn confirm_durable(&self) -> Result<u64, StoreError> {
        let len = self.with_writer(|ctx, conn| {
            let mut tx = conn.client.transaction()?;
            let len: i64 = tx
                .query_one("UPDATE urna.head SET len = len RETURNING len", &[])?
                .get(0);
            ctx.commit(tx)?;
            Ok(len as u64)
        })?;
        self.saw_len(len);
        Ok(len)
    }

    /// Waits until everything committed on the primary before this call is on a synchronous
    /// standby: a synchronous commit of a transaction that writes nothing but its commit
    /// record (it takes a transaction id), which a standby, replaying WAL in order, confirms
    /// only once it has every earlier commit. A follower calls it after reading a checkpoint
    /// and before serving it: a commit is visible on the primary while its own COMMIT still
    /// waits for the standby, and a checkpoint the primary alone holds may be lost with it.
    /// Unlike [`PgStore::confirm_durable`] it takes no lock the sequencer's appends take.
    pub fn sync_point(&self) -> Result<(), StoreError> {
        self.with_writer(|ctx, conn| {
            let mut tx = conn.client.transaction()?;
            tx.query_one("SELECT txid_current()", &[])?;
            ctx.commit(tx)
        })
    }

    /// Takes the sequencer lease if no other session holds it: a session advisory lock on
    /// [`lease_key`], then a new epoch recorded in `urna.sequencers` with a synchronous commit
    /// (which also confirms, like [`PgStore::confirm_durable`], that the log as it is now is
    /// on a standby). Returns whether this store holds the lease.
    pub fn try_acquire_lease(&self) -> Result<bool, StoreError> {
        self.with_writer(|ctx, conn| {
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
    pub fn wait_for_lease(&self, timeout: Duration) -> Result<bool, StoreError> {
        if self.try_acquire_lease()? {
            return Ok(true);
        }
        self.with_writer(|ctx, conn| {
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

    /// Whether this store holds the lease now: asks the server whether the writer's session
    /// holds the lock. A lost connection is a lost lease (`false`); this never reconnects.
    pub fn holds_lease(&self) -> Result<bool, StoreError> {
        let key = self.ctx.lease_key;
        let mut slot = lock(&self.writer);
        let Some(conn) = slot.as_mut().filter(|c| c.epoch.is_some()) else {
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
                *slot = None;
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The lease epoch this store holds (numbered from 1 in `urna.sequencers`), as far as it
    /// knows without asking the server.
    pub fn lease_epoch(&self) -> Option<u64> {
        lock(&self.writer).as_ref().and_then(|c| c.epoch)
    }

    /// Gives the lease up (a clean hand-over).
    pub fn release_lease(&self) -> Result<(), StoreError> {
        let key = self.ctx.lease_key;
        let mut slot = lock(&self.writer);
        let Some(conn) = slot.as_mut().filter(|c| c.epoch.is_some()) else {
            return Ok(());
        };
        conn.epoch = None;
        match conn
            .client
            .execute("SELECT pg_advisory_unlock($1)", &[&key])
        {
            Ok(_) => Ok(()),
            Err(e) if breaks_connection(&e) => {
                *slot = None;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The stored snapshot of the rules' state (`specs/storage.md` §3a): the size it covers
    /// and its bytes, which the store does not interpret (the board signs and checks them).
    pub fn snapshot(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        self.with_reader(|client| {
            Ok(client
                .query_opt("SELECT size, snapshot FROM urna.snapshots", &[])?
                .map(|r| (r.get::<_, i64>(0) as u64, r.get(1))))
        })
    }

    /// The number of entries the stored snapshot covers (0: none), without reading it: what
    /// a board process asks before it writes one, so that it does not write what another
    /// process of the board just has.
    pub fn snapshot_size(&self) -> Result<u64, StoreError> {
        self.with_reader(|client| {
            Ok(client
                .query_opt("SELECT size FROM urna.snapshots", &[])?
                .map_or(0, |r| r.get::<_, i64>(0) as u64))
        })
    }

    /// Stores a snapshot covering the log's first `size` entries, replacing one that covers
    /// fewer; on a connection of its own, so that neither the sequencer's appends nor the
    /// readers wait behind its (large) write. Refused if the log holds fewer than `size`
    /// entries. Returns whether it was stored (not when the stored one covers as many).
    pub fn put_snapshot(&self, size: u64, bytes: &[u8]) -> Result<bool, StoreError> {
        let size_i = index(size)?;
        let mut client = self
            .ctx
            .connect_reader()
            .map_err(|e| StoreError::Reconnect(Box::new(e)))?;
        let mut tx = client.transaction()?;
        let len = head(&mut tx)?;
        if size > len {
            return Err(StoreError::NoteBeyondLog {
                kind: "snapshot",
                size,
                len,
            });
        }
        let stored = tx.query_opt(PUT_SNAPSHOT, &[&size_i, &bytes])?.is_some();
        tx.commit()?;
        Ok(stored)
    }

    /// The leaf hashes of entries `start..end`, as stored beside them (each read of an entry
    /// checks its own against its bytes): what a snapshot's tree is rebuilt from without
    /// reading the entries. One statement, so one view of the log.
    pub fn leaves(&self, start: u64, end: u64) -> Result<Vec<[u8; 32]>, StoreError> {
        if start > end {
            return Err(StoreError::OutOfRange {
                start,
                end,
                len: self.len(),
            });
        }
        let read = self.with_reader(|client| {
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let read = copy_leaves(&mut tx, start, end)?;
            tx.commit()?;
            Ok(read)
        })?;
        self.leaves_read(start, end, read)
    }

    /// What [`copy_leaves`] read, or why not: an end past the log is out of range (asked
    /// anew), any other shortfall damage.
    fn leaves_read(&self, start: u64, end: u64, read: Leaves) -> Result<Vec<[u8; 32]>, StoreError> {
        match read {
            Leaves::All(v) => Ok(v),
            Leaves::Short { at, why } => {
                let len = self.refresh_len()?;
                if end > len {
                    return Err(StoreError::OutOfRange { start, end, len });
                }
                Err(StoreError::Damaged { index: at, why })
            }
        }
    }

    /// The stored snapshot and the leaf hashes of the entries its row says it covers, read at
    /// once (`specs/storage.md` §3a): the row in slices on [`ROW_READERS`] connections and the
    /// leaf hashes on one more, all in one repeatable-read view of the database (the first
    /// connection's, exported to the others), so that the row and the leaf hashes are of the
    /// same moment, as one statement would read them. What a board process opening the log
    /// waits for; read one after the other, they were most of its wall time at scale. `None`
    /// if the database holds no snapshot. A failure to read the leaf hashes is returned beside
    /// the row, for whoever checks the row's header first.
    pub fn snapshot_with_leaves(&self) -> Result<Option<StoredSnapshot>, StoreError> {
        type Read = (u64, Vec<u8>, Result<Leaves, StoreError>);
        let read: Option<Read> = self.with_reader(|client| {
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let Some(row) = tx.query_opt(
                "SELECT size, octet_length(snapshot), pg_export_snapshot() FROM urna.snapshots",
                &[],
            )?
            else {
                return Ok(None);
            };
            let size = row.get::<_, i64>(0) as u64;
            let len = usize::try_from(row.get::<_, i32>(1)).unwrap_or(0);
            let view: String = row.get(2);
            // The exported view's name is the server's (hex digits and dashes); nothing else
            // goes into a statement.
            if view.is_empty() || !view.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
                return Err(StoreError::Damaged {
                    index: 0,
                    why: format!("the server exported a view named {view:?}"),
                });
            }
            let mut bytes = vec![0u8; len];
            // The slices each connection reads, in turn; the first connection's on this thread.
            let mut shares: Vec<Vec<(usize, &mut [u8])>> =
                (0..ROW_READERS).map(|_| Vec::new()).collect();
            for (k, slice) in bytes.chunks_mut(SLICE).enumerate() {
                if let Some(share) = shares.get_mut(k % ROW_READERS) {
                    share.push((k * SLICE, slice));
                }
            }
            let mut shares = shares.into_iter();
            let mine = shares.next().unwrap_or_default();
            let view = view.as_str();
            let (own, others, leaves) = std::thread::scope(|s| {
                let leaves = s.spawn(move || self.in_view(view, |tx| copy_leaves(tx, 0, size)));
                let others: Vec<_> = shares
                    .map(|share| s.spawn(move || self.in_view(view, |tx| read_slices(tx, share))))
                    .collect();
                let own = read_slices(&mut tx, mine);
                let others: Vec<_> = others.into_iter().map(joined).collect();
                (own, others, joined(leaves))
            });
            own?;
            for r in others {
                r?;
            }
            tx.commit()?;
            Ok(Some((size, bytes, leaves)))
        })?;
        let Some((size, bytes, leaves)) = read else {
            return Ok(None);
        };
        let leaves = leaves.and_then(|l| self.leaves_read(0, size, l));
        Ok(Some(StoredSnapshot {
            size,
            bytes,
            leaves,
        }))
    }

    /// Runs `f` in a read-only transaction of a connection of its own that sees the database
    /// as the view `view` another connection exported (`SET TRANSACTION SNAPSHOT`).
    fn in_view<T>(
        &self,
        view: &str,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self
            .ctx
            .connect_reader()
            .map_err(|e| StoreError::Reconnect(Box::new(e)))?;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        tx.batch_execute(&format!("SET TRANSACTION SNAPSHOT '{view}'"))?;
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// The server process serving the writer's connection (`pg_backend_pid()`), for
    /// operators and tests.
    pub fn backend_pid(&self) -> Result<i32, StoreError> {
        self.with_writer(|_, conn| {
            Ok(conn
                .client
                .query_one("SELECT pg_backend_pid()", &[])?
                .get(0))
        })
    }
}

/// The store's own operations, with its own errors (which say more than the ledger's); the
/// [`LogStore`] implementation below maps them.
impl PgStore {
    /// The length last seen (at open, or by this store's appends and reads, or
    /// [`PgStore::refresh_len`]): exact for the sequencer, the only writer; a lower bound for
    /// any other process, since the log only grows.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u64 {
        self.len.load(Ordering::Acquire)
    }

    /// Reads on the readers' connection, checking each entry against its stored leaf hash.
    pub fn read(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let out = self.with_reader(|client| read(client, start, end))?;
        self.saw_len(end);
        Ok(out)
    }

    /// Inserts `entries` at `at` in one transaction, fenced: `urna.head` moves from `at` to
    /// `at + n` only if it is at `at` (a concurrent appender waits for the row and then finds
    /// it moved), and the entries' primary key refuses a second row at any index. Returns once
    /// COMMIT has returned, which the settings checked at connection make wait for a
    /// synchronous standby. Needs the lease unless [`LeasePolicy::NotRequired`].
    pub fn append(&self, at: u64, entries: &[&[u8]]) -> Result<(), StoreError> {
        let end = self.with_writer(|ctx, conn| ctx.append(conn, at, entries, None))?;
        self.saw_len(end);
        Ok(())
    }

    pub fn statement(&self, which: Statement) -> Result<Option<String>, StoreError> {
        self.with_reader(|client| {
            Ok(client
                .query_opt(
                    "SELECT note FROM urna.notes WHERE kind = $1",
                    &[&kind(which)],
                )?
                .map(|r| r.get(0)))
        })
    }

    /// Stores a statement, refused if its origin line is not the log's, if it covers more
    /// entries than the log holds, or fewer than the one stored. The checkpoint needs the
    /// lease (it is the sequencer's); the cosigned checkpoint does not: any board process may
    /// record a quorum's cosignatures, and the record only moves forward.
    pub fn set_statement(&self, which: Statement, text: &str) -> Result<(), StoreError> {
        self.with_writer(|ctx, conn| ctx.set_note(conn, which, text))
    }
}

impl From<StoreError> for urna_ledger::StoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Fenced { at, len } => urna_ledger::StoreError::Fenced { at, len },
            StoreError::OutOfRange { start, end, len } => {
                urna_ledger::StoreError::OutOfRange { start, end, len }
            }
            StoreError::NotLeaseholder => urna_ledger::StoreError::NotLeaseholder,
            e => urna_ledger::StoreError::Database {
                code: e.code(),
                maybe_written: e.may_have_appended(),
                reason: e.to_string(),
            },
        }
    }
}

/// The ledger's storage trait, over the inherent operations above.
impl LogStore for PgStore {
    fn len(&self) -> u64 {
        PgStore::len(self)
    }

    fn read(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, urna_ledger::StoreError> {
        Ok(PgStore::read(self, start, end)?)
    }

    fn append(&self, at: u64, entries: &[&[u8]]) -> Result<(), urna_ledger::StoreError> {
        Ok(PgStore::append(self, at, entries)?)
    }

    fn statement(&self, which: Statement) -> Result<Option<String>, urna_ledger::StoreError> {
        Ok(PgStore::statement(self, which)?)
    }

    fn set_statement(&self, which: Statement, text: &str) -> Result<(), urna_ledger::StoreError> {
        Ok(PgStore::set_statement(self, which, text)?)
    }

    /// One transaction, one synchronous commit, for the entries and their checkpoint.
    fn append_with_checkpoint(
        &self,
        at: u64,
        entries: &[&[u8]],
        checkpoint: &str,
    ) -> Result<(), urna_ledger::StoreError> {
        Ok(PgStore::append_with_checkpoint(
            self, at, entries, checkpoint,
        )?)
    }
}
