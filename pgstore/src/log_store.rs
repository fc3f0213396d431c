//! The storage trait the ledger's replica reads and writes through. This is a copy of the
//! shape the ledger crate is getting (issue 17), kept here until it lands so that this crate
//! builds on its own; integrating is replacing it with the ledger's.

use std::ops::Range;

/// A log's durable storage: its entries in order, the latest signed checkpoint, and the latest
/// checkpoint the witness quorum cosigned.
pub trait LogStore {
    type Error: std::error::Error + Send + Sync + 'static;

    /// The number of entries.
    fn len(&mut self) -> Result<u64, Self::Error>;

    /// Whether the log has no entries.
    fn is_empty(&mut self) -> Result<bool, Self::Error> {
        Ok(self.len()? == 0)
    }

    /// Entries `range`, in order; a range past the end is an error.
    fn read(&mut self, range: Range<u64>) -> Result<Vec<Vec<u8>>, Self::Error>;

    /// Appends `entries` at index `at`, which must be the log's length (fenced: fails if the
    /// log has moved on), durably before returning.
    fn append(&mut self, at: u64, entries: &[&[u8]]) -> Result<(), Self::Error>;

    /// The latest signed checkpoint note.
    fn checkpoint(&mut self) -> Result<Option<String>, Self::Error>;

    /// Replaces the signed checkpoint note, durably.
    fn set_checkpoint(&mut self, note: &str) -> Result<(), Self::Error>;

    /// The latest cosigned checkpoint note, with its cosignatures.
    fn cosigned(&mut self) -> Result<Option<String>, Self::Error>;

    /// Replaces the cosigned checkpoint note, durably.
    fn set_cosigned(&mut self, note: &str) -> Result<(), Self::Error>;
}
