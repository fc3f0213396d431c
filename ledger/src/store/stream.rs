//! The passing store: what a streaming follower — the verifier reading a record, a client
//! hashing a log's tiles — keeps of a log while its replica hashes and replays it. It holds the
//! entries of its latest append only, so that memory is bounded by one chunk whatever the
//! log's size; the replica's tree keeps every leaf hash, which is all later checks need.
//!
//! The replica's [`extend`](crate::Replica::extend) stages a chunk (one append) and replays it
//! (reads of that very chunk) before the next: exactly what this store serves. Reading an
//! entry before the latest append is [`StoreError::Passed`].

use std::sync::{Mutex, PoisonError, RwLock};

use super::{check_range, LogStore, Statement, StoreError};

#[derive(Debug, Default)]
pub struct StreamLog {
    /// The index of the first entry held, and the entries of the latest append.
    held: RwLock<(u64, Vec<Vec<u8>>)>,
    checkpoint: Mutex<Option<String>>,
    cosigned: Mutex<Option<String>>,
}

impl StreamLog {
    pub fn new() -> StreamLog {
        StreamLog::default()
    }

    /// Passes `n` entries from `at` on without holding them: a follower that keeps their
    /// leaf hashes and replays them from elsewhere ([`crate::replica::Prepared`]).
    pub fn pass(&self, at: u64, n: u64) -> Result<(), StoreError> {
        let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
        let len = held.0 + held.1.len() as u64;
        if at != len {
            return Err(StoreError::Fenced { at, len });
        }
        *held = (at + n, Vec::new());
        Ok(())
    }

    fn slot(&self, which: Statement) -> &Mutex<Option<String>> {
        match which {
            Statement::Checkpoint => &self.checkpoint,
            Statement::Cosigned => &self.cosigned,
        }
    }
}

impl LogStore for StreamLog {
    fn len(&self) -> u64 {
        let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
        held.0 + held.1.len() as u64
    }

    fn read(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
        let (from, entries) = (&held.0, &held.1);
        check_range(start, end, from + entries.len() as u64)?;
        if start < *from {
            return Err(StoreError::Passed {
                index: start,
                from: *from,
            });
        }
        Ok(entries[(start - from) as usize..(end - from) as usize].to_vec())
    }

    fn append(&self, at: u64, new: &[&[u8]]) -> Result<(), StoreError> {
        let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
        let len = held.0 + held.1.len() as u64;
        if at != len {
            return Err(StoreError::Fenced { at, len });
        }
        *held = (at, new.iter().map(|e| e.to_vec()).collect());
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn holds_only_the_latest_append() {
        let s = StreamLog::new();
        s.append(0, &[b"a", b"b"]).unwrap();
        assert_eq!(s.read(0, 2).unwrap(), vec![b"a".to_vec(), b"b".to_vec()]);
        s.append(2, &[b"c"]).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s.read(2, 3).unwrap(), vec![b"c".to_vec()]);
        assert!(matches!(
            s.read(1, 3),
            Err(StoreError::Passed { index: 1, from: 2 })
        ));
        assert!(matches!(s.read(2, 4), Err(StoreError::OutOfRange { .. })));
        assert!(matches!(
            s.append(1, &[b"x"]),
            Err(StoreError::Fenced { at: 1, len: 3 })
        ));
    }
}
