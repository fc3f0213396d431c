//! The storage trait the ledger's replica reads and writes through, as `urna-ledger` defines it
//! (`ledger/src/store/mod.rs` on the architecture branch): copied here, with this crate's
//! error type, until the ledger crate is merged, so that this crate builds on its own.
//! Integrating is replacing this module with the ledger's trait and mapping this crate's
//! [`StoreError`] onto the ledger's, which then needs variants for what only a database
//! store meets: a commit of unknown outcome, a lost lease, a refused server.

use crate::error::StoreError;

/// A signed statement a store keeps beside its entries, replaced whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statement {
    /// The board's latest signed checkpoint.
    Checkpoint,
    /// The latest checkpoint the witness quorum cosigned, with the cosignatures.
    Cosigned,
}

/// A log's storage: its entries in order, and the signed statements kept beside them.
///
/// Appends are durable before they return: a board acknowledges an entry only after its
/// store's `append` returned. Entries never change once appended.
pub trait LogStore: Send + Sync {
    /// The number of entries held.
    fn len(&self) -> u64;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries `start..end`, in order (`end ≤ len()`).
    fn read(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError>;

    /// Appends `entries` as entries `at, at + 1, …`, durably. Refused (`Fenced`) unless `at`
    /// is the number of entries held.
    fn append(&self, at: u64, entries: &[&[u8]]) -> Result<(), StoreError>;

    /// The statement kept, if any.
    fn statement(&self, which: Statement) -> Result<Option<String>, StoreError>;

    /// Replaces the statement atomically and durably.
    fn set_statement(&self, which: Statement, text: &str) -> Result<(), StoreError>;
}
