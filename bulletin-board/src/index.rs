//! Derived indexes in sled: leaf hash → log index (the dedup map and receipt lookups). Nothing
//! acknowledged depends on it: it is written after the log is durable, sled flushes it in the
//! background, and at start it is checked against the log and rebuilt from it if it is missing,
//! behind, or damaged. Because it records only entries already durable in the log, the size it
//! records is also a lower bound on the log: an index ahead of the log means the log lost
//! entries it had made durable, which the board refuses rather than "rebuilds" away.

use std::io;
use std::path::Path;

use urna_ledger::merkle::{Hash, Tree};

const SIZE: &[u8] = b"size";

/// A handle on the index: clones share it (sled is safe to use from many threads).
#[derive(Clone)]
pub struct Index {
    db: sled::Db,
    leaves: sled::Tree,
}

/// What opening the index found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexState {
    /// It agreed with the log.
    Current,
    /// It was behind the log (entries admitted since sled last flushed); caught up.
    CaughtUp,
    /// It was missing, inconsistent or unreadable; rebuilt from the log.
    Rebuilt,
}

fn sled_err(e: sled::Error) -> io::Error {
    io::Error::other(format!("index: {e}"))
}

impl Index {
    fn open_db(path: &Path) -> Result<Index, sled::Error> {
        // No periodic flush: the index is caught up from the log at every start, so losing its
        // recent writes in a crash costs a few inserts, and flushing would compete with the
        // log's fdatasync for the disk.
        let db = sled::Config::new().path(path).flush_every_ms(None).open()?;
        let leaves = db.open_tree("leaf")?;
        Ok(Index { db, leaves })
    }

    /// An index in memory only, for a board whose log is in a shared store: built from the
    /// log at every start.
    pub fn temporary() -> io::Result<Index> {
        let db = sled::Config::new()
            .temporary(true)
            .flush_every_ms(None)
            .open()
            .map_err(sled_err)?;
        let leaves = db.open_tree("leaf").map_err(sled_err)?;
        Ok(Index { db, leaves })
    }

    /// Opens the index in `path`; one sled cannot open is removed and started afresh (it is
    /// derived). Returns whether it was started afresh.
    pub fn open(path: &Path) -> io::Result<(Index, bool)> {
        match Index::open_db(path) {
            Ok(i) => Ok((i, false)),
            Err(_) => {
                std::fs::remove_dir_all(path)?;
                Ok((Index::open_db(path).map_err(sled_err)?, true))
            }
        }
    }

    /// Brings the index in line with `tree` (the log's leaves), which the caller has checked
    /// is at least [`Index::recorded_size`] long.
    pub fn reconcile(&self, tree: &Tree, fresh: bool) -> io::Result<IndexState> {
        let state = match self.recorded_size() {
            Some(n) if !fresh && n <= tree.size() && self.agrees(tree, n) => {
                if n == tree.size() {
                    IndexState::Current
                } else {
                    self.add(n, &leaves(tree, n))?;
                    IndexState::CaughtUp
                }
            }
            _ => {
                self.rebuild(tree)?;
                IndexState::Rebuilt
            }
        };
        Ok(state)
    }

    /// The number of log entries the index says it holds (entries that were durable in the
    /// log when it recorded them).
    pub fn recorded_size(&self) -> Option<u64> {
        let v = self.db.get(SIZE).ok()??;
        Some(u64::from_be_bytes(v.as_ref().try_into().ok()?))
    }

    /// Spot-checks the first and the last `n` leaves it claims to hold.
    fn agrees(&self, tree: &Tree, n: u64) -> bool {
        let probe = |i: u64| tree.leaf(i).is_some_and(|l| self.get(l) == Some(i));
        n == 0 || (probe(0) && probe(n - 1) && probe(n / 2))
    }

    fn rebuild(&self, tree: &Tree) -> io::Result<()> {
        self.leaves.clear().map_err(sled_err)?;
        self.db.remove(SIZE).map_err(sled_err)?;
        self.add(0, &leaves(tree, 0))
    }

    /// Records leaves `from, from + 1, …` (after they are durable in the log).
    pub fn add(&self, from: u64, leaves: &[Hash]) -> io::Result<()> {
        let mut batch = sled::Batch::default();
        for (i, l) in leaves.iter().enumerate() {
            batch.insert(&l[..], &(from + i as u64).to_be_bytes());
        }
        self.leaves.apply_batch(batch).map_err(sled_err)?;
        self.db
            .insert(SIZE, &(from + leaves.len() as u64).to_be_bytes())
            .map_err(sled_err)?;
        Ok(())
    }

    pub fn get(&self, leaf: &Hash) -> Option<u64> {
        let v = self.leaves.get(leaf).ok()??;
        Some(u64::from_be_bytes(v.as_ref().try_into().ok()?))
    }
}

fn leaves(tree: &Tree, from: u64) -> Vec<Hash> {
    (from..tree.size())
        .filter_map(|i| tree.leaf(i).copied())
        .collect()
}
