//! urna's log of record on PostgreSQL with synchronous streaming replication
//! (`specs/storage.md`): no single machine's crash loses an acknowledged entry, and no two
//! sequencers can write two different logs.
//!
//! - **Durable on two machines.** An append returns only after COMMIT returned on a server
//!   whose settings make COMMIT wait for a synchronous standby; those settings are checked at
//!   every connection and again inside every append ([`Durability`], [`SettingsError`]).
//!   Running without a standby is a separate, explicit choice ([`Durability::SingleMachine`]).
//! - **Fenced.** An append names the index it writes at; it moves `urna.head` from exactly
//!   that length, under a row lock, and inserts under the entries' primary key, in one
//!   transaction. A deposed or confused sequencer's append fails ([`StoreError::Fenced`]); it
//!   can never leave a gap or a second entry at an index.
//! - **One sequencer.** The lease is a session advisory lock held by the sequencer's
//!   connection ([`PgStore::try_acquire_lease`]); a lost connection is a lost lease, and a
//!   store without the lease does not append ([`LeasePolicy`]).
//! - **Outcomes.** A failed append says whether it may nonetheless be in the log
//!   ([`StoreError::may_have_appended`]): only when COMMIT was sent and no clean answer came
//!   back. The sequencer then re-reads the tail and confirms it on a standby
//!   ([`PgStore::confirm_durable`]) before acknowledging any of it.
//! - **Its own database.** A database records the election and board key it belongs to, and
//!   a schema version; any other is refused ([`OpenError`]).

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod error;
mod schema;
mod settings;
mod store;

pub use error::{OpenError, SettingsError, StandbyState, StoreError};
pub use schema::{Identity, MIGRATE_FROM_2, SCHEMA, SCHEMA_VERSION};
pub use settings::{Durability, Guarantee};
pub use store::{lease_key, LeasePolicy, Options, PgStore, StoredSnapshot};
pub use urna_ledger::{LogStore, Statement};
