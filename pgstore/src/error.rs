//! Errors by cause, each with a stable code. Opening refuses a server or a database that cannot
//! keep what urna acknowledges ([`OpenError`], [`SettingsError`]); an operation says whether it
//! may have written anything ([`StoreError::may_have_appended`]).

use thiserror::Error;

/// A standby as `pg_stat_replication` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandbyState {
    pub application_name: String,
    pub state: String,
    pub sync_state: String,
}

impl std::fmt::Display for StandbyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, {})",
            self.application_name, self.state, self.sync_state
        )
    }
}

fn list(standbys: &[StandbyState]) -> String {
    if standbys.is_empty() {
        return "none".into();
    }
    standbys
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The server's settings cannot give the guarantee urna requires (`specs/storage.md` §2).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettingsError {
    #[error("synchronous_commit is {value:?} for this session: a COMMIT would return before {required}; urna requires {accepted}")]
    WeakCommit {
        value: String,
        required: &'static str,
        accepted: &'static str,
    },
    #[error("synchronous_standby_names is empty: a COMMIT would return before any standby has the entries; set it (for example 'ANY 1 (standby1, standby2)'), or run without a standby only if losing this server's disk may lose acknowledged entries")]
    NoStandbyNames,
    #[error("no standby is connected as synchronous (synchronous_standby_names = {names:?}; connected: {}): a COMMIT would wait until one is", list(.connected))]
    NoSyncStandby {
        names: String,
        connected: Vec<StandbyState>,
    },
    #[error("role {user:?} cannot see the standbys' state in pg_stat_replication: GRANT pg_monitor TO {user}")]
    CannotSeeStandbys { user: String },
    #[error("fsync is off: nothing this server writes survives a crash of its machine")]
    FsyncOff,
}

impl SettingsError {
    pub fn code(&self) -> &'static str {
        match self {
            SettingsError::WeakCommit { .. } => "pg-synchronous-commit",
            SettingsError::NoStandbyNames => "pg-no-synchronous-standby-names",
            SettingsError::NoSyncStandby { .. } => "pg-no-synchronous-standby",
            SettingsError::CannotSeeStandbys { .. } => "pg-cannot-see-standbys",
            SettingsError::FsyncOff => "pg-fsync-off",
        }
    }
}

/// Why a store could not be opened (or reopened after a lost connection).
#[derive(Debug, Error)]
pub enum OpenError {
    #[error("not a PostgreSQL connection URL: {0}")]
    Url(#[source] postgres::Error),
    #[error("no writable PostgreSQL server among {hosts}: {source}")]
    Unreachable {
        hosts: String,
        #[source]
        source: postgres::Error,
    },
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("this database has no urna log (create it with the create option, once, when the election's log is created)")]
    NoLog,
    #[error("the database's urna schema is version {found}; this urna reads version {supported}{}", if *.found < *.supported { " (a person upgrades it with the migration of specs/storage.md §3, never urna at start)" } else { "" })]
    SchemaVersion { found: i32, supported: i32 },
    #[error("this database holds the log of election {found:?}, not {expected:?}: each election has its own database")]
    OtherElection { expected: String, found: String },
    #[error(
        "this database holds election {origin:?}'s log under board key {found}, not {expected}"
    )]
    OtherBoardKey {
        origin: String,
        expected: String,
        found: String,
    },
    #[error("the database's urna schema is not an urna log: {reason}")]
    NotUrnaSchema { reason: String },
    #[error("the urna log in this database is damaged: {reason}")]
    Damaged { reason: String },
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
}

impl OpenError {
    pub fn code(&self) -> &'static str {
        match self {
            OpenError::Url(_) => "pg-url",
            OpenError::Unreachable { .. } => "pg-unreachable",
            OpenError::Settings(s) => s.code(),
            OpenError::NoLog => "pg-no-log",
            OpenError::SchemaVersion { .. } => "pg-schema-version",
            OpenError::OtherElection { .. } => "pg-other-election",
            OpenError::OtherBoardKey { .. } => "pg-other-board-key",
            OpenError::NotUrnaSchema { .. } => "pg-not-urna-schema",
            OpenError::Damaged { .. } => "pg-damaged",
            OpenError::Postgres(_) => "pg-error",
        }
    }
}

/// Why an operation failed. For an append, only [`StoreError::CommitUnknown`] and
/// [`StoreError::CommitUnconfirmed`] may have left its entries in the log; every other error
/// guarantees that nothing was written.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the connection was lost and could not be opened again: {0}")]
    Reconnect(#[source] Box<OpenError>),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("the log holds {len} entries, not {at}: another sequencer appended (or this one is behind); re-read the log's tail")]
    Fenced { at: u64, len: u64 },
    #[error("this store does not hold the sequencer lease (or lost it with its connection)")]
    NotLeaseholder,
    #[error("the connection was lost after COMMIT was sent: the entries may or may not be in the log; re-read the log's tail")]
    CommitUnknown {
        #[source]
        source: postgres::Error,
    },
    #[error("the server committed on its own disk but did not confirm a standby has the commit ({warning}): not acknowledged; re-read the log's tail")]
    CommitUnconfirmed { warning: String },
    #[error("the server's settings changed while running: {0}")]
    Settings(#[from] SettingsError),
    #[error("entries {start}..{end} asked, but the log holds {len}")]
    OutOfRange { start: u64, end: u64, len: u64 },
    /// Bytes read back that are not what was appended there, or rows missing.
    #[error("entry {index} read back damaged: {why}")]
    Damaged { index: u64, why: String },
    #[error("not a checkpoint of this log: {reason}")]
    BadNote { reason: String },
    #[error(
        "the {kind} stored covers {stored} entries; refusing to replace it with one covering {new}"
    )]
    NoteRegress {
        kind: &'static str,
        stored: u64,
        new: u64,
    },
    #[error("a {kind} covering {size} entries, but the log holds {len}")]
    NoteBeyondLog {
        kind: &'static str,
        size: u64,
        len: u64,
    },
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Reconnect(e) => e.code(),
            StoreError::Postgres(_) => "pg-error",
            StoreError::Fenced { .. } => "pg-fenced",
            StoreError::NotLeaseholder => "pg-not-leaseholder",
            StoreError::CommitUnknown { .. } => "pg-commit-unknown",
            StoreError::CommitUnconfirmed { .. } => "pg-commit-unconfirmed",
            StoreError::Settings(s) => s.code(),
            StoreError::OutOfRange { .. } => "pg-out-of-range",
            StoreError::Damaged { .. } => "pg-damaged-entry",
            StoreError::BadNote { .. } => "pg-bad-note",
            StoreError::NoteRegress { .. } => "pg-note-regress",
            StoreError::NoteBeyondLog { .. } => "pg-note-beyond-log",
        }
    }

    /// Whether the failed write may nonetheless be in the log. The sequencer must then stop,
    /// re-read the log from the size it knew, and make sure what it finds is on a standby
    /// ([`crate::PgStore::confirm_durable`]) before it acknowledges any of it.
    pub fn may_have_appended(&self) -> bool {
        matches!(
            self,
            StoreError::CommitUnknown { .. } | StoreError::CommitUnconfirmed { .. }
        )
    }
}
