//! Derived indexes in sled: leaf hash → log index (the dedup map and receipt lookups), and the
//! voter's light view (`specs/board.md`, light sync): credential → the indices of its roll entry
//! and its own ballots, and the indices of the election's entries a voter needs (manifest,
//! ceremony, opening and closing of the poll). Nothing
//! acknowledged depends on it: it is written after the log is durable, sled flushes it in the
//! background, and at start it is checked against the log and rebuilt from it if it is missing,
//! behind, or damaged. Because it records only entries already durable in the log, the size it
//! records is also a lower bound on the log: an index ahead of the log means the log lost
//! entries it had made durable, which the board refuses rather than "rebuilds" away.

use std::io;
use std::path::Path;

use urna_election::entry::{Entry, EntryKind};
use urna_election::payload::Payload;
use urna_ledger::merkle::{leaf_hash, Hash, Tree};
use urna_ledger::LogStore;

const SIZE: &[u8] = b"size";
/// Set once the credential and election indexes cover the log as well as the leaf index: an
/// index written before they existed is rebuilt, not trusted to hold them.
const VOTER_INDEX: &[u8] = b"voter-index-v1";

/// The bytes of index pages sled keeps in memory. Its default (1 GiB) let the index grow to
/// most of the board's resident memory at a million ballots; the index is read only for
/// receipts, resubmissions and a voter's light view, whose recent pages stay cached.
const CACHE: u64 = 32 << 20;

/// Keys written to sled in one batch at most. sled's resident memory grows with the size of
/// the batches it applies, far beyond the cache it is given: a million random 40-byte keys
/// took 1.8 GB in batches of 64,000, 0.6 GB in batches of 1,000 (a roll entry's) and 0.3 GB
/// in batches of 64 (`examples/sled_rss.rs`, at 500,000 keys). Nothing depends on a batch
/// being applied whole: the size recorded last says how far the index goes, and a start
/// catches up what a crash left out.
const SLED_BATCH: usize = 64;

/// Inserts into one tree, applied in batches of at most [`SLED_BATCH`] keys.
struct Chunked<'a> {
    tree: &'a sled::Tree,
    batch: sled::Batch,
    len: usize,
}

impl<'a> Chunked<'a> {
    fn new(tree: &'a sled::Tree) -> Self {
        Chunked {
            tree,
            batch: sled::Batch::default(),
            len: 0,
        }
    }

    fn insert(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.batch.insert(key, value);
        self.len += 1;
        if self.len >= SLED_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.len > 0 {
            self.len = 0;
            self.tree
                .apply_batch(std::mem::take(&mut self.batch))
                .map_err(sled_err)?;
        }
        Ok(())
    }
}

/// Entries read from the log at a time while catching the index up.
const READ_CHUNK: u64 = 4096;

/// A handle on the index: clones share it (sled is safe to use from many threads).
#[derive(Clone)]
pub struct Index {
    db: sled::Db,
    leaves: sled::Tree,
    /// `credential ‖ u64 index` → empty: the roll entry naming the credential and the
    /// credential's ballots (40 bytes per ballot).
    voters: sled::Tree,
    /// `u64 index` → empty: the entries of [`EntryKind::for_every_voter`] kinds.
    election: sled::Tree,
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
    /// Built from the log's leaf hashes and the rules' state, reading only the entries that
    /// are not ballots ([`Index::build_known`]).
    Derived,
}

fn sled_err(e: sled::Error) -> io::Error {
    io::Error::other(format!("index: {e}"))
}

impl Index {
    fn open_db(path: &Path) -> Result<Index, sled::Error> {
        // No periodic flush: the index is caught up from the log at every start, so losing its
        // recent writes in a crash costs a few inserts, and flushing would compete with the
        // log's fdatasync for the disk.
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(CACHE)
            .flush_every_ms(None)
            .open()?;
        Index::of(db)
    }

    fn of(db: sled::Db) -> Result<Index, sled::Error> {
        Ok(Index {
            leaves: db.open_tree("leaf")?,
            voters: db.open_tree("voter")?,
            election: db.open_tree("election")?,
            db,
        })
    }

    /// An index in memory only, for a board whose log is in a shared store: built from the
    /// log at every start.
    pub fn temporary() -> io::Result<Index> {
        let db = sled::Config::new()
            .temporary(true)
            .cache_capacity(CACHE)
            .flush_every_ms(None)
            .open()
            .map_err(sled_err)?;
        Index::of(db).map_err(sled_err)
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

    /// Brings the index in line with `tree` (the log's leaves) and `log` (its entries), which
    /// the caller has checked is at least [`Index::recorded_size`] long.
    pub fn reconcile<L: LogStore + ?Sized>(
        &self,
        tree: &Tree,
        log: &L,
        fresh: bool,
    ) -> io::Result<IndexState> {
        let complete = matches!(self.db.get(VOTER_INDEX), Ok(Some(_)));
        let state = match self.recorded_size() {
            Some(n) if !fresh && complete && n <= tree.size() && self.agrees(tree, n) => {
                if n == tree.size() {
                    IndexState::Current
                } else {
                    self.add_from(n, tree.size(), log)?;
                    IndexState::CaughtUp
                }
            }
            _ => {
                self.rebuild(tree, log)?;
                IndexState::Rebuilt
            }
        };
        Ok(state)
    }

    /// Builds the index of the log's first `tree.size()` entries without reading its ballots,
    /// from what an opening already holds: the leaf hashes (`tree`, from the stored leaf
    /// hashes and the entries replayed) and the rules' state, whose ballot records give each
    /// ballot's and challenged ballot's index and credential (`ballots`, in log order). Only
    /// the other entries — the manifest, the ceremony, the roll, the opening and closing of the
    /// poll: few, however many voters vote — are read from `log` and decoded. What a board over
    /// a shared store does at every opening (`specs/storage.md` §3a), where reading and
    /// decoding every entry again cost as much as the replay the snapshot saves.
    pub fn build_known<L: LogStore + ?Sized>(
        &self,
        tree: &Tree,
        ballots: impl Iterator<Item = (u64, [u8; 32])>,
        log: &L,
    ) -> io::Result<()> {
        let size = tree.size();
        let mut leaves = Chunked::new(&self.leaves);
        for (i, leaf) in tree
            .leaves()
            .get(..size as usize)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            leaves.insert(&leaf[..], &(i as u64).to_be_bytes())?;
        }
        leaves.flush()?;
        let mut voters = Chunked::new(&self.voters);
        let mut next = 0;
        for (index, credential) in ballots.take_while(|&(i, _)| i < size) {
            if index < next {
                return Err(io::Error::other(format!(
                    "index: the rules' ballot records are not in log order (entry {index} after {next})"
                )));
            }
            // The entries before this ballot that are not ballots.
            self.add_from(next, index, log)?;
            voters.insert(&voter_key(&credential, &index.to_be_bytes())[..], &[])?;
            next = index + 1;
        }
        voters.flush()?;
        self.add_from(next, size, log)?;
        self.db
            .insert(SIZE, &size.to_be_bytes())
            .map_err(sled_err)?;
        self.db.insert(VOTER_INDEX, &[1]).map_err(sled_err)?;
        Ok(())
    }

    /// Adds the log's entries `from..to`, a chunk at a time.
    fn add_from<L: LogStore + ?Sized>(&self, from: u64, to: u64, log: &L) -> io::Result<()> {
        let mut at = from;
        while at < to {
            let end = to.min(at + READ_CHUNK);
            let entries = log
                .read(at, end)
                .map_err(|e| io::Error::other(format!("index: reading the log: {e}")))?;
            self.add(at, &entries)?;
            at = end;
        }
        Ok(())
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

    fn rebuild<L: LogStore + ?Sized>(&self, tree: &Tree, log: &L) -> io::Result<()> {
        for t in [&self.leaves, &self.voters, &self.election] {
            t.clear().map_err(sled_err)?;
        }
        self.db.remove(SIZE).map_err(sled_err)?;
        self.add_from(0, tree.size(), log)?;
        self.db.insert(VOTER_INDEX, &[1]).map_err(sled_err)?;
        Ok(())
    }

    /// Records entries `from, from + 1, …` (after they are durable in the log): their leaf
    /// hashes, the credentials they concern, and whether every voter needs them.
    pub fn add<B: AsRef<[u8]>>(&self, from: u64, entries: &[B]) -> io::Result<()> {
        let items: Vec<([u8; 32], Option<Entry>)> = entries
            .iter()
            .map(|raw| {
                let raw = raw.as_ref();
                // Entries on the log were admitted, so they decode; one that does not concerns
                // no voter.
                (leaf_hash(raw), Entry::decode(raw.to_vec()).ok())
            })
            .collect();
        self.record(
            from,
            items.iter().map(|(leaf, e)| (leaf, e.as_ref())),
            items.len(),
        )
    }

    /// [`Index::add`] of entries already decoded, with their leaf hashes: what the board
    /// admitted (neither decoded nor hashed again).
    pub fn add_decoded(&self, from: u64, entries: &[(&Hash, &Entry)]) -> io::Result<()> {
        self.record(
            from,
            entries.iter().map(|&(leaf, e)| (leaf, Some(e))),
            entries.len(),
        )
    }

    fn record<'a>(
        &self,
        from: u64,
        entries: impl Iterator<Item = (&'a Hash, Option<&'a Entry>)>,
        count: usize,
    ) -> io::Result<()> {
        let mut leaves = Chunked::new(&self.leaves);
        let mut voters = Chunked::new(&self.voters);
        let mut election = Chunked::new(&self.election);
        for (i, (leaf, e)) in entries.enumerate() {
            let index = (from + i as u64).to_be_bytes();
            leaves.insert(&leaf[..], &index)?;
            let Some(e) = e else {
                continue;
            };
            let kind = e.kind();
            if kind.for_every_voter() {
                election.insert(&index, &[])?;
            }
            match kind {
                EntryKind::Ballot | EntryKind::ChallengedBallot => {
                    voters.insert(&voter_key(e.author().as_bytes(), &index)[..], &[])?;
                }
                EntryKind::VoterRoll => {
                    if let Ok(Payload::VoterRoll(r)) = Payload::decode(kind, e.payload()) {
                        for v in &r.voters {
                            voters.insert(&voter_key(v.credential.as_bytes(), &index)[..], &[])?;
                        }
                    }
                }
                _ => {}
            }
        }
        leaves.flush()?;
        voters.flush()?;
        election.flush()?;
        self.db
            .insert(SIZE, &(from + count as u64).to_be_bytes())
            .map_err(sled_err)?;
        Ok(())
    }

    /// The indices below `size` of the entries naming `credential` (its roll entry, then its
    /// ballots), in log order, at most `limit` of them from the end, and how many earlier ones
    /// were left out.
    pub fn of_credential(&self, credential: &[u8; 32], size: u64, limit: usize) -> (Vec<u64>, u64) {
        let mut all: Vec<u64> = self
            .voters
            .scan_prefix(credential)
            .filter_map(|kv| {
                let (k, _) = kv.ok()?;
                Some(u64::from_be_bytes(k.get(32..40)?.try_into().ok()?))
            })
            .filter(|&i| i < size)
            .collect();
        let omitted = all.len().saturating_sub(limit);
        if omitted > 0 {
            // The roll entry comes first: it is kept, and the earliest ballots are left out.
            all.drain(1..=omitted.min(all.len() - 1));
        }
        (all, omitted as u64)
    }

    /// The indices below `size` of the entries every voter needs, in log order.
    pub fn for_every_voter(&self, size: u64) -> Vec<u64> {
        self.election
            .range(..size.to_be_bytes())
            .filter_map(|kv| {
                let (k, _) = kv.ok()?;
                Some(u64::from_be_bytes(k.as_ref().try_into().ok()?))
            })
            .collect()
    }

    pub fn get(&self, leaf: &Hash) -> Option<u64> {
        let v = self.leaves.get(leaf).ok()??;
        Some(u64::from_be_bytes(v.as_ref().try_into().ok()?))
    }
}

fn voter_key(credential: &[u8; 32], index: &[u8; 8]) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(credential);
    k[32..].copy_from_slice(index);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inserts spread over several sled batches all land, the last partial batch included, and
    /// none is applied twice.
    #[test]
    fn chunked_inserts_all_land() {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(sled_err)
            .unwrap();
        let tree = db.open_tree("t").unwrap();
        let n = SLED_BATCH * 3 + 5;
        let mut c = Chunked::new(&tree);
        for i in 0..n as u64 {
            c.insert(&voter_key(&[7; 32], &i.to_be_bytes()), &[])
                .unwrap();
            // Whole batches are applied as they fill; the rest waits for the flush.
            assert_eq!(tree.len(), (i as usize + 1) / SLED_BATCH * SLED_BATCH);
        }
        c.flush().unwrap();
        c.flush().unwrap();
        assert_eq!(tree.len(), n);
        assert_eq!(tree.scan_prefix([7u8; 32]).count(), n);
    }
}
