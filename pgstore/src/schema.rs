//! The database's layout (schema version 3, `specs/storage.md` §3) and the check that a
//! database is this election's log in a layout this code reads.

use postgres::Client;

use crate::error::OpenError;

/// The schema version this code writes and reads.
pub const SCHEMA_VERSION: i32 = 3;

/// The PostgreSQL schema (namespace) holding urna's tables.
pub const SCHEMA: &str = "urna";

/// Who a log belongs to: the election (the log's origin) and the board key that signs its
/// checkpoints. A database records them when the log is created and is refused to anyone
/// else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub origin: String,
    pub board_key: [u8; 32],
}

/// Version 3. `entry` and `snapshot` are stored out of line and uncompressed above the tuple
/// target (entries are mostly ciphertexts and proofs, which do not compress), and inline up to
/// it. The primary key carries each entry's leaf hash (`INCLUDE (leaf)`) and autovacuum keeps
/// the table's visibility map at most about 10,000 inserts behind, so that an opening reads the
/// leaf hashes from the index alone rather than from the entries' pages (≈ 3 KB an entry).
const CREATE: &str = "
CREATE SCHEMA urna;
CREATE TABLE urna.meta (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    schema_version integer NOT NULL,
    origin text NOT NULL,
    board_key bytea NOT NULL CHECK (octet_length(board_key) = 32),
    created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE urna.head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    len bigint NOT NULL CHECK (len >= 0)
);
CREATE TABLE urna.entries (
    idx bigint CHECK (idx >= 0),
    entry bytea NOT NULL,
    leaf bytea NOT NULL CHECK (octet_length(leaf) = 32),
    CONSTRAINT entries_pkey PRIMARY KEY (idx) INCLUDE (leaf)
) WITH (toast_tuple_target = 8160, autovacuum_vacuum_insert_threshold = 10000,
        autovacuum_vacuum_insert_scale_factor = 0);
ALTER TABLE urna.entries ALTER COLUMN entry SET STORAGE EXTERNAL;
CREATE INDEX entries_leaf ON urna.entries (leaf);
CREATE TABLE urna.notes (
    kind text PRIMARY KEY CHECK (kind IN ('checkpoint', 'cosigned')),
    size bigint NOT NULL CHECK (size >= 0),
    note text NOT NULL
);
CREATE TABLE urna.sequencers (
    epoch bigint PRIMARY KEY CHECK (epoch > 0),
    holder text NOT NULL,
    log_len bigint NOT NULL,
    started timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE urna.snapshots (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    size bigint NOT NULL CHECK (size >= 0),
    snapshot bytea NOT NULL
);
ALTER TABLE urna.snapshots ALTER COLUMN snapshot SET STORAGE EXTERNAL;
INSERT INTO urna.head (len) VALUES (0);
";

/// The migration from schema version 2 (`specs/storage.md` §3), which a person runs with every
/// board process stopped; urna never runs it. Version 3 only changes how the entries' leaf
/// hashes are indexed: the primary key is rebuilt carrying them, and autovacuum is told to keep
/// the visibility map current. Nothing stored changes. A `VACUUM (ANALYZE) urna.entries`
/// afterwards (outside a transaction) sets the visibility map at once rather than at
/// autovacuum's next pass.
pub const MIGRATE_FROM_2: &str = "
BEGIN;
ALTER TABLE urna.entries DROP CONSTRAINT entries_pkey,
    ADD CONSTRAINT entries_pkey PRIMARY KEY (idx) INCLUDE (leaf);
ALTER TABLE urna.entries SET (autovacuum_vacuum_insert_threshold = 10000,
    autovacuum_vacuum_insert_scale_factor = 0);
UPDATE urna.meta SET schema_version = 3 WHERE schema_version = 2;
COMMIT;
";

/// An advisory lock key serialising creation, so two processes creating the same log at once
/// make one.
const CREATE_LOCK: i64 = 0x7572_6e61_2d69_6e69; // "urna-ini"

/// Creates the log (if `create` and the database has none) and checks that the database holds
/// `identity`'s log in schema version [`SCHEMA_VERSION`], with its head where its entries end.
pub(crate) fn prepare(
    client: &mut Client,
    identity: &Identity,
    create: bool,
) -> Result<(), OpenError> {
    if !exists(client)? {
        if !create {
            return Err(OpenError::NoLog);
        }
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CREATE_LOCK])?;
        let present: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                &[&SCHEMA],
            )?
            .get(0);
        if !present {
            tx.batch_execute(CREATE)?;
            tx.execute(
                "INSERT INTO urna.meta (schema_version, origin, board_key) VALUES ($1, $2, $3)",
                &[&SCHEMA_VERSION, &identity.origin, &&identity.board_key[..]],
            )?;
        }
        tx.commit()?;
    }
    check(client, identity)
}

fn exists(client: &mut Client) -> Result<bool, postgres::Error> {
    Ok(client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
            &[&SCHEMA],
        )?
        .get(0))
}

fn check(client: &mut Client, identity: &Identity) -> Result<(), OpenError> {
    let tables: Vec<String> = client
        .query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relkind = 'r'",
            &[&SCHEMA],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !tables.iter().any(|t| t == "meta") {
        return Err(OpenError::NotUrnaSchema {
            reason: format!("schema {SCHEMA:?} has no table meta"),
        });
    }
    let rows = client.query(
        "SELECT schema_version, origin, board_key FROM urna.meta",
        &[],
    );
    let rows = rows.map_err(|e| OpenError::NotUrnaSchema {
        reason: format!("urna.meta is not urna's: {e}"),
    })?;
    let [row] = rows.as_slice() else {
        return Err(OpenError::NotUrnaSchema {
            reason: format!("urna.meta has {} rows, not 1", rows.len()),
        });
    };
    let (version, origin, key): (i32, String, Vec<u8>) =
        (|| Ok::<_, postgres::Error>((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))()
            .map_err(|e| OpenError::NotUrnaSchema {
                reason: format!("urna.meta is not urna's: {e}"),
            })?;
    // The version decides how everything else is read, so it is checked first.
    if version != SCHEMA_VERSION {
        return Err(OpenError::SchemaVersion {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    for t in ["head", "entries", "notes", "sequencers", "snapshots"] {
        if !tables.iter().any(|x| x == t) {
            return Err(OpenError::NotUrnaSchema {
                reason: format!("schema version {SCHEMA_VERSION} without table {t}"),
            });
        }
    }
    if origin != identity.origin {
        return Err(OpenError::OtherElection {
            expected: identity.origin.clone(),
            found: origin,
        });
    }
    if key[..] != identity.board_key[..] {
        return Err(OpenError::OtherBoardKey {
            origin,
            expected: hex(&identity.board_key),
            found: hex(&key),
        });
    }
    // The head is where appends are fenced; the entries' primary key ends exactly there.
    let row = client.query_one(
        "SELECT (SELECT len FROM urna.head), (SELECT count(*) FROM urna.head), \
                (SELECT max(idx) + 1 FROM urna.entries), (SELECT min(idx) FROM urna.entries)",
        &[],
    )?;
    let len: Option<i64> = row.get(0);
    let heads: i64 = row.get(1);
    let end: Option<i64> = row.get(2);
    let first: Option<i64> = row.get(3);
    let (Some(len), 1) = (len, heads) else {
        return Err(OpenError::Damaged {
            reason: format!("urna.head has {heads} rows, not 1"),
        });
    };
    if end.unwrap_or(0) != len || first.is_some_and(|f| f != 0) {
        return Err(OpenError::Damaged {
            reason: format!(
                "urna.head says {len} entries, but the entries run from {} to {}",
                first.unwrap_or(0),
                end.unwrap_or(0)
            ),
        });
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
