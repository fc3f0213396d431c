//! The in-memory store: what a client or the verifier fills from the tiles or the record it
//! read. Nothing in it is durable; everything in it is checked by the replica it backs.

use std::sync::{Mutex, PoisonError, RwLock};

use super::{check_range, LogStore, Statement, StoreError};

#[derive(Debug, Default)]
pub struct MemoryLog {
    entries: RwLock<Vec<Vec<u8>>>,
    checkpoint: Mutex<Option<String>>,
    cosigned: Mutex<Option<String>>,
}

impl MemoryLog {
    pub fn new() -> MemoryLog {
        MemoryLog::default()
    }

    /// A store already holding `entries` (a record read from a file).
    pub fn with_entries(entries: Vec<Vec<u8>>) -> MemoryLog {
        MemoryLog {
            entries: RwLock::new(entries),
            ..MemoryLog::default()
        }
    }

    fn slot(&self, which: Statement) -> &Mutex<Option<String>> {
        match which {
            Statement::Checkpoint => &self.checkpoint,
            Statement::Cosigned => &self.cosigned,
        }
    }
}

impl LogStore for MemoryLog {
    fn len(&self) -> u64 {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len() as u64
    }

    fn read(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        check_range(start, end, entries.len() as u64)?;
        Ok(entries[start as usize..end as usize].to_vec())
    }

    fn append(&self, at: u64, new: &[&[u8]]) -> Result<(), StoreError> {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let len = entries.len() as u64;
        if at != len {
            return Err(StoreError::Fenced { at, len });
        }
        entries.extend(new.iter().map(|e| e.to_vec()));
        Ok(())
    }

    fn statement(&self, which: Statement) -> Result<Option<String>, StoreError> {
        Ok(self
            .slot(which)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone())
    }

    fn set_statement(&self, which: Statement, text: &str) -> Result<(), StoreError> {
        *self
            .slot(which)
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(text.to_string());
        Ok(())
    }
}
