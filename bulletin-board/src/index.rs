//! Derived indexes in sled: leaf hash → log index (the dedup map and receipt lookups), and the
//! voter's light view (`specs/board.md`, light sync): credential → the indices of its roll entry
//! and its own ballots, and the indices of the election's entries a voter needs (manifest,
//! ceremony, opening and closing of the poll). Nothing
//! acknowledged depends on it: it is written after the log is durable, sled flushes it in the
//! background, and at start it is checked against the log and rebuilt from it if it is missing,
//! behind, or damaged. Because it records only entries already durable in the log, the size it
//! records is also a lower bound on the log: an index ahead of the log means the log lost
//! entries it had made durable, which the board refuses rather than "rebuilds" away.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use urna_crypto::codec::Reader;
use urna_election::entry::{Entry, EntryKind};
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
pub struct Index(Kept);

#[derive(Clone)]
enum Kept {
    /// In sled, on disk: a board with a data directory.
    Disk(Disk),
    /// In memory: a board over a shared store, whose index is built at every opening.
    Memory(Arc<RwLock<Memory>>),
}

#[derive(Clone)]
struct Disk {
    db: sled::Db,
    leaves: sled::Tree,
    /// `credential ‖ u64 index` → empty: the roll entry naming the credential and the
    /// credential's ballots (40 bytes per ballot).
    voters: sled::Tree,
    /// `u64 index` → empty: the entries of [`EntryKind::for_every_voter`] kinds.
    election: sled::Tree,
}

/// The index of a board over a shared store: what the opening derives, in sorted vectors
/// built and sorted once (40 bytes a leaf and a voter key: ≈ 120 MB at a million ballots,
/// against tens of seconds of sled inserts at every opening), and what is admitted after it
/// in small maps beside them.
#[derive(Default)]
struct Memory {
    /// Leaf hash and index, sorted by leaf, one per leaf (the last in the log, as sled's
    /// overwrite keeps).
    leaves: Vec<(Hash, u64)>,
    /// Sorted [`voter_key`]s.
    voters: Vec<[u8; 40]>,
    /// While the opening builds it, everything goes to the vectors, sorted at the end;
    /// afterwards to the maps.
    building: bool,
    more_leaves: HashMap<Hash, u64>,
    more_voters: BTreeSet<[u8; 40]>,
    election: BTreeSet<u64>,
    size: Option<u64>,
}

impl Memory {
    fn start(&mut self) {
        *self = Memory {
            building: true,
            ..Memory::default()
        };
    }

    fn finish(&mut self, size: u64) {
        // The two sorts are independent: one on each core (with a million voters on the roll,
        // each is a few hundred milliseconds of the opening).
        let (leaves, voters) = (&mut self.leaves, &mut self.voters);
        std::thread::scope(|s| {
            s.spawn(|| {
                // Last index first among equal leaves, so that the dedup keeps it.
                leaves.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
                leaves.dedup_by(|later, kept| later.0 == kept.0);
                leaves.shrink_to_fit();
            });
            voters.sort_unstable();
            voters.dedup();
            voters.shrink_to_fit();
        });
        self.building = false;
        self.size = Some(size);
    }

    /// The bytes its vectors and maps hold on the heap (the maps' nodes estimated at their
    /// entries' size).
    fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.leaves.capacity() * size_of::<(Hash, u64)>()
            + self.voters.capacity() * size_of::<[u8; 40]>()
            + self.more_leaves.capacity() * (size_of::<(Hash, u64)>() + 1)
            + self.more_voters.len() * size_of::<[u8; 40]>()
            + self.election.len() * size_of::<u64>()
    }

    fn leaf(&mut self, leaf: &Hash, index: u64) {
        if self.building {
            self.leaves.push((*leaf, index));
        } else {
            self.more_leaves.insert(*leaf, index);
        }
    }

    fn voter(&mut self, key: [u8; 40]) {
        if self.building {
            self.voters.push(key);
        } else {
            self.more_voters.insert(key);
        }
    }

    fn get(&self, leaf: &Hash) -> Option<u64> {
        if let Some(&i) = self.more_leaves.get(leaf) {
            return Some(i);
        }
        self.leaves
            .binary_search_by(|(l, _)| l.cmp(leaf))
            .ok()
            .and_then(|k| self.leaves.get(k))
            .map(|&(_, i)| i)
    }

    fn of_credential(&self, credential: &[u8; 32]) -> Vec<u64> {
        let from = self.voters.partition_point(|k| k[..32] < credential[..]);
        let low = voter_key(credential, &[0; 8]);
        let high = voter_key(credential, &[0xff; 8]);
        let mut all: Vec<u64> = self.voters[from..]
            .iter()
            .take_while(|k| k[..32] == credential[..])
            .chain(self.more_voters.range(low..=high))
            .filter_map(|k| Some(u64::from_be_bytes(k.get(32..40)?.try_into().ok()?)))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
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

fn lock(m: &RwLock<Memory>) -> std::sync::RwLockWriteGuard<'_, Memory> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}

fn read(m: &RwLock<Memory>) -> std::sync::RwLockReadGuard<'_, Memory> {
    m.read().unwrap_or_else(PoisonError::into_inner)
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
        Ok(Index(Kept::Disk(Disk {
            leaves: db.open_tree("leaf")?,
            voters: db.open_tree("voter")?,
            election: db.open_tree("election")?,
            db,
        })))
    }

    /// An index in memory only, for a board whose log is in a shared store: built from the
    /// log at every start.
    pub fn temporary() -> io::Result<Index> {
        Ok(Index(Kept::Memory(Arc::default())))
    }

    /// For an index in memory, the bytes it holds (≈ 40 a leaf and 40 a voter key); `None`
    /// for sled's.
    pub fn heap_bytes(&self) -> Option<usize> {
        match &self.0 {
            Kept::Memory(m) => Some(read(m).heap_bytes()),
            Kept::Disk(_) => None,
        }
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
        let complete = match &self.0 {
            Kept::Disk(d) => matches!(d.db.get(VOTER_INDEX), Ok(Some(_))),
            Kept::Memory(m) => read(m).size.is_some(),
        };
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
        let known = tree.leaves().get(..size as usize).unwrap_or_default();
        let mut voters = match &self.0 {
            Kept::Disk(d) => {
                let mut leaves = Chunked::new(&d.leaves);
                for (i, leaf) in known.iter().enumerate() {
                    leaves.insert(&leaf[..], &(i as u64).to_be_bytes())?;
                }
                leaves.flush()?;
                Some(Chunked::new(&d.voters))
            }
            Kept::Memory(m) => {
                let mut m = lock(m);
                m.start();
                m.leaves = known.iter().copied().zip(0..).collect();
                None
            }
        };
        let mut next = 0;
        for (index, credential) in ballots.take_while(|&(i, _)| i < size) {
            if index < next {
                return Err(io::Error::other(format!(
                    "index: the rules' ballot records are not in log order (entry {index} after {next})"
                )));
            }
            // The entries before this ballot that are not ballots.
            self.add_from(next, index, log)?;
            let key = voter_key(&credential, &index.to_be_bytes());
            match (&mut voters, &self.0) {
                (Some(v), _) => v.insert(&key[..], &[])?,
                (None, Kept::Memory(m)) => lock(m).voter(key),
                (None, Kept::Disk(_)) => {}
            }
            next = index + 1;
        }
        if let Some(v) = &mut voters {
            v.flush()?;
        }
        self.add_from(next, size, log)?;
        self.completed(size)
    }

    /// Records that the index covers the log's first `size` entries, the voters' indexes too.
    fn completed(&self, size: u64) -> io::Result<()> {
        match &self.0 {
            Kept::Disk(d) => {
                d.db.insert(SIZE, &size.to_be_bytes()).map_err(sled_err)?;
                d.db.insert(VOTER_INDEX, &[1]).map_err(sled_err)?;
            }
            Kept::Memory(m) => lock(m).finish(size),
        }
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
        match &self.0 {
            Kept::Disk(d) => {
                let v = d.db.get(SIZE).ok()??;
                Some(u64::from_be_bytes(v.as_ref().try_into().ok()?))
            }
            Kept::Memory(m) => read(m).size,
        }
    }

    /// Spot-checks the first and the last `n` leaves it claims to hold.
    fn agrees(&self, tree: &Tree, n: u64) -> bool {
        let probe = |i: u64| tree.leaf(i).is_some_and(|l| self.get(l) == Some(i));
        n == 0 || (probe(0) && probe(n - 1) && probe(n / 2))
    }

    fn rebuild<L: LogStore + ?Sized>(&self, tree: &Tree, log: &L) -> io::Result<()> {
        match &self.0 {
            Kept::Disk(d) => {
                for t in [&d.leaves, &d.voters, &d.election] {
                    t.clear().map_err(sled_err)?;
                }
                d.db.remove(SIZE).map_err(sled_err)?;
                self.add_from(0, tree.size(), log)?;
                d.db.insert(VOTER_INDEX, &[1]).map_err(sled_err)?;
            }
            Kept::Memory(m) => {
                lock(m).start();
                self.add_from(0, tree.size(), log)?;
                self.completed(tree.size())?;
            }
        }
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
        match &self.0 {
            Kept::Disk(d) => {
                let mut leaves = Chunked::new(&d.leaves);
                let mut voters = Chunked::new(&d.voters);
                let mut election = Chunked::new(&d.election);
                keys(from, entries, |k| match k {
                    Key::Leaf(leaf, index) => leaves.insert(&leaf[..], &index.to_be_bytes()),
                    Key::Voter(key) => voters.insert(&key[..], &[]),
                    Key::Election(index) => election.insert(&index.to_be_bytes(), &[]),
                })?;
                leaves.flush()?;
                voters.flush()?;
                election.flush()?;
                d.db.insert(SIZE, &(from + count as u64).to_be_bytes())
                    .map_err(sled_err)?;
            }
            Kept::Memory(m) => {
                let mut m = lock(m);
                keys(from, entries, |k| {
                    match k {
                        Key::Leaf(leaf, index) => m.leaf(leaf, index),
                        Key::Voter(key) => m.voter(key),
                        Key::Election(index) => {
                            m.election.insert(index);
                        }
                    }
                    Ok(())
                })?;
                if !m.building {
                    m.size = Some(from + count as u64);
                }
            }
        }
        Ok(())
    }

    /// The indices below `size` of the entries naming `credential` (its roll entry, then its
    /// ballots), in log order, at most `limit` of them from the end, and how many earlier ones
    /// were left out.
    pub fn of_credential(&self, credential: &[u8; 32], size: u64, limit: usize) -> (Vec<u64>, u64) {
        let mut all: Vec<u64> = match &self.0 {
            Kept::Disk(d) => d
                .voters
                .scan_prefix(credential)
                .filter_map(|kv| {
                    let (k, _) = kv.ok()?;
                    Some(u64::from_be_bytes(k.get(32..40)?.try_into().ok()?))
                })
                .collect(),
            Kept::Memory(m) => read(m).of_credential(credential),
        };
        all.retain(|&i| i < size);
        let omitted = all.len().saturating_sub(limit);
        if omitted > 0 {
            // The roll entry comes first: it is kept, and the earliest ballots are left out.
            all.drain(1..=omitted.min(all.len() - 1));
        }
        (all, omitted as u64)
    }

    /// The indices below `size` of the entries every voter needs, in log order.
    pub fn for_every_voter(&self, size: u64) -> Vec<u64> {
        match &self.0 {
            Kept::Disk(d) => d
                .election
                .range(..size.to_be_bytes())
                .filter_map(|kv| {
                    let (k, _) = kv.ok()?;
                    Some(u64::from_be_bytes(k.as_ref().try_into().ok()?))
                })
                .collect(),
            Kept::Memory(m) => read(m).election.range(..size).copied().collect(),
        }
    }

    pub fn get(&self, leaf: &Hash) -> Option<u64> {
        match &self.0 {
            Kept::Disk(d) => {
                let v = d.leaves.get(leaf).ok()??;
                Some(u64::from_be_bytes(v.as_ref().try_into().ok()?))
            }
            Kept::Memory(m) => read(m).get(leaf),
        }
    }
}

/// What an entry puts in the index.
enum Key<'a> {
    Leaf(&'a Hash, u64),
    Voter([u8; 40]),
    Election(u64),
}

/// The keys of entries `from, from + 1, …`: each one's leaf hash; the credentials a ballot or
/// a roll entry concerns; whether every voter needs it.
fn keys<'a>(
    from: u64,
    entries: impl Iterator<Item = (&'a Hash, Option<&'a Entry>)>,
    mut put: impl FnMut(Key<'a>) -> io::Result<()>,
) -> io::Result<()> {
    for (i, (leaf, e)) in entries.enumerate() {
        let at = from + i as u64;
        let index = at.to_be_bytes();
        put(Key::Leaf(leaf, at))?;
        let Some(e) = e else {
            continue;
        };
        let kind = e.kind();
        if kind.for_every_voter() {
            put(Key::Election(at))?;
        }
        match kind {
            EntryKind::Ballot | EntryKind::ChallengedBallot => {
                put(Key::Voter(voter_key(e.author().as_bytes(), &index)))?;
            }
            EntryKind::VoterRoll => {
                for credential in roll_credentials(e.payload()).unwrap_or_default() {
                    put(Key::Voter(voter_key(&credential, &index)))?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The credentials a roll entry's payload names (`batch u32 ‖ n u32 ‖ n × (credential 32 ‖
/// weight u32 ‖ style u16)`), as written: the rules decoded each one when they admitted the
/// entry, and decoding them again — a curve point each, tens of seconds for a roll of a
/// million — would tell the index nothing more. `None` if the payload is not of that shape.
fn roll_credentials(payload: &[u8]) -> Option<Vec<[u8; 32]>> {
    let mut r = Reader::new(payload);
    r.u32().ok()?;
    let n = r.u32().ok()? as usize;
    let mut out = Vec::with_capacity(n.min(r.remaining() / 38));
    for _ in 0..n {
        out.push(r.array::<32>().ok()?);
        r.u32().ok()?;
        r.u16().ok()?;
    }
    r.finish().ok()?;
    Some(out)
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

    /// A roll entry's credentials read as written are those the payload decodes to.
    #[test]
    fn roll_credentials_are_the_decoded_ones() {
        use urna_crypto::codec::Encode;
        use urna_election::payload::{Payload, RollEntry, VoterRoll};
        let voters: Vec<RollEntry> = (1..=3u8)
            .map(|i| RollEntry {
                credential: urna_crypto::sign::SigningKey::from_seed(&[i; 32]).verifying_key(),
                weight: u32::from(i),
                style: 0,
            })
            .collect();
        let roll = Payload::VoterRoll(VoterRoll { batch: 7, voters });
        let mut bytes = Vec::new();
        roll.encode(&mut bytes);
        let Payload::VoterRoll(decoded) = Payload::decode(EntryKind::VoterRoll, &bytes).unwrap()
        else {
            panic!("not a roll");
        };
        let expected: Vec<[u8; 32]> = decoded
            .voters
            .iter()
            .map(|v| *v.credential.as_bytes())
            .collect();
        assert_eq!(roll_credentials(&bytes), Some(expected));
        assert_eq!(roll_credentials(&bytes[..bytes.len() - 1]), None);
        bytes.push(0);
        assert_eq!(roll_credentials(&bytes), None);
    }

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
