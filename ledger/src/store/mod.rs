//! Where a log is kept: the storage trait every copy of the log goes through, so that nothing
//! above the [`Replica`](crate::replica::Replica) knows how the log is stored.
//!
//! Three stores today: the framed file log a board keeps on disk ([`FileLog`]), the in-memory
//! log a client fills from what it downloaded ([`MemoryLog`]), and the passing store of a
//! follower that streams a log through its replica, holding one chunk at a time
//! ([`StreamLog`]). The trait is shaped for the stores to come: reads of any range served from
//! the store itself (never from a copy of every entry in memory), appends fenced on the index
//! they expect to write at (so that a writer whose view is stale — a deposed sequencer, a
//! second process — is refused rather than forking the log), and every method taking `&self`,
//! so one store can serve readers while its one writer appends.

use std::io;

use thiserror::Error;

mod file;
mod memory;
mod stream;

pub use file::{FileLog, Recovery, CHECKPOINT, COSIGNED, LOG};
pub use memory::MemoryLog;
pub use stream::StreamLog;

/// A signed statement a store keeps beside its entries, replaced whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statement {
    /// The board's latest signed checkpoint.
    Checkpoint,
    /// The latest checkpoint the witness quorum cosigned, with the cosignatures.
    Cosigned,
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Io(#[from] io::Error),
    /// An append at an index that is not the end of the log: another writer appended first.
    #[error("an append at entry {at} was refused: the log holds {len} entries (another writer appended)")]
    Fenced { at: u64, len: u64 },
    #[error("entries {start}..{end} asked of a log of {len}")]
    OutOfRange { start: u64, end: u64, len: u64 },
    /// Bytes read back that are not what was appended there.
    #[error("entry {index} read back damaged: {why}")]
    Damaged { index: u64, why: &'static str },
    /// A read of an entry a streaming store no longer holds ([`StreamLog`]).
    #[error("entry {index} has passed: this copy of the log holds entries from {from} on")]
    Passed { index: u64, from: u64 },
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

/// `start..end` is within a log of `len` entries.
pub(crate) fn check_range(start: u64, end: u64, len: u64) -> Result<(), StoreError> {
    if start > end || end > len {
        return Err(StoreError::OutOfRange { start, end, len });
    }
    Ok(())
}
