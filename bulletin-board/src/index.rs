//! Derived indexes in sled: leaf hash → log index (the dedup map and receipt lookups). Nothing
//! acknowledged depends on it: it is written after the log is durable, sled flushes it in the
//! background, and at start it is checked against the log and rebuilt from it if it is missing,
//! behind, or damaged.

use std::io;
use std::path::Path;

use crate::merkle::{Hash, Tree};

const SIZE: &[u8] = b"size";

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
    /// It was missing, ahead of the log, inconsistent or unreadable; rebuilt from the log.
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

    /// Opens the index in `path` and brings it in line with `tree` (the log's leaves).
    pub fn open(path: &Path, tree: &Tree) -> io::Result<(Index, IndexState)> {
        let index = match Index::open_db(path) {
            Ok(i) => i,
            Err(_) => {
                // Damaged beyond sled's own recovery: it is derived, so start afresh.
                std::fs::remove_dir_all(path)?;
                let i = Index::open_db(path).map_err(sled_err)?;
                i.rebuild(tree)?;
                return Ok((i, IndexState::Rebuilt));
            }
        };
        let state = match index.size() {
            Some(n) if n <= tree.size() && index.agrees(tree, n) => {
                if n == tree.size() {
                    IndexState::Current
                } else {
                    index.add(n, &leaves(tree, n))?;
                    IndexState::CaughtUp
                }
            }
            _ => {
                index.rebuild(tree)?;
                IndexState::Rebuilt
            }
        };
        Ok((index, state))
    }

    fn size(&self) -> Option<u64> {
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
