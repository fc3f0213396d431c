//! The voter roll (`specs/election.md` §6.3): who may vote, with what weight and ballot style.
//! Grown by the registrar's `VoterRoll` batches until voting opens; read by every ballot.

use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::Arc;

use rayon::prelude::*;
use urna_crypto::sign::VerifyingKey;

use super::cow::{buckets, Buckets};
use super::paged::Shared;
use crate::keys::is_prime_order;
use crate::manifest::Manifest;
use crate::payload::VoterRoll;
use crate::rejection::Rejection;

fn hex(key: &VerifyingKey) -> String {
    urna_crypto::hex::encode(key.as_bytes())
}

/// No ballot record (in [`Voter::counted`] and [`Voter::last`]).
pub(super) const NONE: u32 = u32::MAX;

/// One credential on the roll, and where its ballots are among the ballot box's records: 16
/// bytes beside its 32-byte key, so that the ballot box needs no map of its own by credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Voter {
    pub(super) weight: u32,
    pub(super) style: u16,
    /// The record of its counted ballot, or [`NONE`].
    pub(super) counted: u32,
    /// The record of its latest `Ballot` or `ChallengedBallot`, or [`NONE`]; each record links
    /// to the credential's one before, for `duplicate`.
    pub(super) last: u32,
}

/// The credentials, in 65,536 buckets (by their encoding's first two bytes) of vectors sorted
/// by key that grow by an eighth at a time: 48 bytes a voter and ~6 % slack, where a hash map
/// at a million voters spends twice that (its table doubles, and is half empty after).
#[derive(Clone, Default)]
pub(super) struct Voters {
    /// Copy-on-write ([`super::cow`]): a copy of the state shares them.
    pub(super) buckets: Buckets<([u8; 32], Voter)>,
    pub(super) len: usize,
}

impl Voters {
    pub(super) fn bucket(key: &[u8; 32]) -> usize {
        usize::from(u16::from_le_bytes([key[0], key[1]]))
    }

    fn find(&self, key: &[u8; 32]) -> Option<(usize, usize)> {
        let b = Self::bucket(key);
        let at = self
            .buckets
            .get(b)?
            .binary_search_by(|(k, _)| k.cmp(key))
            .ok()?;
        Some((b, at))
    }

    fn get(&self, key: &[u8; 32]) -> Option<&Voter> {
        let (b, at) = self.find(key)?;
        self.buckets.get(b)?.get(at).map(|(_, v)| v)
    }

    pub(super) fn get_mut(&mut self, key: &[u8; 32]) -> Option<&mut Voter> {
        let (b, at) = self.find(key)?;
        Arc::make_mut(self.buckets.get_mut(b)?)
            .get_mut(at)
            .map(|(_, v)| v)
    }

    pub(super) fn insert(&mut self, key: [u8; 32], v: Voter) {
        if self.buckets.is_empty() {
            self.buckets = buckets(1 << 16);
        }
        let Some(b) = self.buckets.get_mut(Self::bucket(&key)) else {
            return;
        };
        let b = Arc::make_mut(b);
        match b.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(at) => {
                if let Some(slot) = b.get_mut(at) {
                    slot.1 = v;
                }
            }
            Err(at) => {
                if b.len() == b.capacity() {
                    b.reserve_exact((b.len() / 8).max(2));
                }
                b.insert(at, (key, v));
                self.len += 1;
            }
        }
    }
}

/// A voter's row on disk: its key (32 bytes), weight (4, little-endian), style (2), counted
/// (4) and last (4).
pub(super) const VOTER_ROW: usize = 46;

/// The slots of the roll's table on disk before its first rebuild: 46 KiB.
const FIRST_SLOTS: u64 = 1 << 10;

/// No credential: an empty slot of the table on disk. No credential is all zeros: that encodes
/// a point of order 4, which a key's decoding refuses (small order), before the rules of §6.3.
const EMPTY: [u8; 32] = [0; 32];

/// The roll on disk, for an election [`super::Election::on_disk`], from its first batch on:
/// an open-addressing table of [`VOTER_ROW`]-byte rows (an all-zero key an empty slot),
/// linear probing, its slots a power of two, rebuilt at twice the size once more than 60 %
/// full — so that nothing of it in memory grows with the voters (but the table's cache). A
/// probe starts at a keyed hash (SipHash, a random key per process) of the credential: the
/// registrar chooses the credentials, and must not be able to choose ones that collide, which
/// would make every lookup a scan. A lookup reads a row or a few through the table's cache; a
/// ballot's `counted` and `last` are written in place.
#[derive(Clone)]
pub(super) struct OnDisk {
    table: Shared,
    hasher: RandomState,
    /// The table's slots: 0 before the first voter, then a power of two.
    slots: u64,
    /// Voters in it.
    len: u64,
}

impl OnDisk {
    pub(super) fn new(table: Shared) -> OnDisk {
        OnDisk {
            table,
            hasher: RandomState::new(),
            slots: 0,
            len: 0,
        }
    }

    fn decode(r: &[u8; VOTER_ROW]) -> ([u8; 32], Voter) {
        let mut key = [0u8; 32];
        key.copy_from_slice(&r[..32]);
        let u32_at = |at: usize| u32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]);
        (
            key,
            Voter {
                weight: u32_at(32),
                style: u16::from_le_bytes([r[36], r[37]]),
                counted: u32_at(38),
                last: u32_at(42),
            },
        )
    }

    fn encode(key: &[u8; 32], v: &Voter) -> [u8; VOTER_ROW] {
        let mut r = [0u8; VOTER_ROW];
        r[..32].copy_from_slice(key);
        r[32..36].copy_from_slice(&v.weight.to_le_bytes());
        r[36..38].copy_from_slice(&v.style.to_le_bytes());
        r[38..42].copy_from_slice(&v.counted.to_le_bytes());
        r[42..46].copy_from_slice(&v.last.to_le_bytes());
        r
    }

    pub(super) fn table(&self) -> &Shared {
        &self.table
    }

    /// Where `key`'s probe starts in a table of `slots` slots (a power of two).
    fn home(&self, key: &[u8; 32], slots: u64) -> u64 {
        self.hasher.hash_one(key) & (slots - 1)
    }

    /// The slot holding `key` in `table` (of `slots`), or the empty one where it would go;
    /// `None` if a row could not be read (the error kept) or the table is full.
    fn probe(&self, table: &Shared, slots: u64, key: &[u8; 32]) -> Option<(u64, Voter, bool)> {
        if slots == 0 {
            return None;
        }
        let mut at = self.home(key, slots);
        let mut r = [0u8; VOTER_ROW];
        for _ in 0..slots {
            if !table.read(at, &mut r) {
                return None;
            }
            let (k, v) = Self::decode(&r);
            if k == EMPTY {
                return Some((at, v, false));
            }
            if &k == key {
                return Some((at, v, true));
            }
            at = (at + 1) & (slots - 1);
        }
        None
    }

    /// The row of `key` and its voter.
    fn find(&self, key: &[u8; 32]) -> Option<(u64, Voter)> {
        if key == &EMPTY {
            return None;
        }
        match self.probe(&self.table, self.slots, key)? {
            (at, v, true) => Some((at, v)),
            _ => None,
        }
    }

    /// Adds (or replaces) `key`'s row, rebuilding the table at twice the size first if it
    /// would be more than 60 % full. A failure is the table's, kept.
    fn insert(&mut self, key: &[u8; 32], v: &Voter) {
        if key == &EMPTY {
            // No credential decodes to it (see [`EMPTY`]); never a row.
            return;
        }
        if (self.len + 1) * 5 > self.slots * 3 && !self.grow() {
            return;
        }
        match self.probe(&self.table, self.slots, key) {
            Some((at, _, found)) => {
                if self.table.write(at, &Self::encode(key, v)) && !found {
                    self.len += 1;
                }
            }
            None => self.full(),
        }
    }

    /// A full table (a rebuild that failed before): the table's failure.
    fn full(&self) {
        self.table.fail(std::io::Error::other(format!(
            "the roll's table of {} slots is full",
            self.slots
        )));
    }

    /// Rebuilds the table at twice its slots (a new file): its rows read in order and placed
    /// anew. A key's new home is its old one or that plus the old size, so the writes advance
    /// through two runs of the new table as the reads advance through the old: a few pages of
    /// cache suffice, and the old table keeps two. `false` if it failed (kept as the table's failure).
    fn grow(&mut self) -> bool {
        if self.table.failure().is_some() {
            return false;
        }
        let slots = (self.slots * 2).max(FIRST_SLOTS);
        // The old table is read once, in order: its cache goes first, so that the two tables
        // never hold more than one cache between them.
        if !self.table.shrink_cache() {
            return false;
        }
        let Some(new) = self.table.empty_like() else {
            return false;
        };
        new.extend_zeroed(slots);
        let mut r = [0u8; VOTER_ROW];
        for i in 0..self.slots {
            if !self.table.read(i, &mut r) {
                return false;
            }
            if r[..32] == EMPTY {
                continue;
            }
            let (k, _) = Self::decode(&r);
            match self.probe(&new, slots, &k) {
                Some((at, _, _)) => {
                    if !new.write(at, &r) {
                        if let Some(e) = new.failure() {
                            self.table.fail(e);
                        }
                        return false;
                    }
                }
                None => {
                    if let Some(e) = new.failure() {
                        self.table.fail(e);
                    }
                    return false;
                }
            }
        }
        self.table = new;
        self.slots = slots;
        true
    }
}

#[derive(Clone, Default)]
pub(super) struct Roll {
    pub(super) voters: Voters,
    /// The roll on disk, if the election keeps it there: `voters` is then empty.
    pub(super) disk: Option<OnDisk>,
    /// Batches admitted so far: the number the next one must carry.
    pub(super) batches: u32,
    /// The sum of the weights of the credentials of each ballot style.
    pub(super) style_weights: Vec<u64>,
}

impl Roll {
    pub(super) fn get(&self, credential: &VerifyingKey) -> Option<Voter> {
        self.lookup(credential.as_bytes())
    }

    fn lookup(&self, key: &[u8; 32]) -> Option<Voter> {
        match &self.disk {
            Some(d) => d.find(key).map(|(_, v)| v),
            None => self.voters.get(key).copied(),
        }
    }

    /// Writes back a credential's entry read by [`Roll::get`] (its `counted` and `last`).
    pub(super) fn set(&mut self, credential: &[u8; 32], v: Voter) {
        match &self.disk {
            Some(d) => {
                if let Some((row, _)) = d.find(credential) {
                    d.table.write(row, &OnDisk::encode(credential, &v));
                }
            }
            None => {
                if let Some(x) = self.voters.get_mut(credential) {
                    *x = v;
                }
            }
        }
    }

    /// The bytes its credentials take once many (see [`super::Election::size_estimate`]).
    pub(super) fn size_estimate(&self) -> u64 {
        if self.disk.is_some() {
            return 0;
        }
        (self.voters.len * std::mem::size_of::<([u8; 32], Voter)>() * 17 / 16) as u64
    }

    pub(super) fn len(&self) -> usize {
        match &self.disk {
            Some(d) => d.len as usize,
            None => self.voters.len,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn batches(&self) -> u32 {
        self.batches
    }

    pub(super) fn total_weight(&self) -> u64 {
        self.style_weights.iter().sum()
    }

    /// `W(c)`: the weights of the credentials whose ballot style includes contest `c` (§7).
    pub(super) fn contest_weight(&self, m: &Manifest, contest: u16) -> u64 {
        m.ballot_styles
            .iter()
            .zip(&self.style_weights)
            .filter(|(s, _)| s.contests.contains(&contest))
            .map(|(_, w)| *w)
            .sum()
    }

    /// The rules of a batch once its phase and author are right, in the order of §6.3: the
    /// batch number, a voter at all, then voter by voter its weight, style, weight 1 where the
    /// style has a ranked contest, and novelty, and
    /// last — one scalar multiplication each, on all cores — every credential's prime order.
    pub(super) fn check(&self, m: &Manifest, r: &VoterRoll) -> Result<(), Rejection> {
        if r.batch != self.batches {
            return Err(Rejection::RollBatchNumber {
                expected: self.batches,
                got: r.batch,
            });
        }
        if r.voters.is_empty() {
            return Err(Rejection::RollEmptyBatch);
        }
        let ranked_styles: Vec<bool> = m
            .ballot_styles
            .iter()
            .map(|s| {
                s.contests.iter().any(|&c| {
                    m.contests
                        .get(usize::from(c))
                        .is_some_and(|c| c.ranked().is_some())
                })
            })
            .collect();
        let mut in_batch = HashSet::with_capacity(r.voters.len());
        for v in &r.voters {
            if v.weight == 0 {
                return Err(Rejection::RollZeroWeight {
                    credential: hex(&v.credential),
                });
            }
            if usize::from(v.style) >= m.ballot_styles.len() {
                return Err(Rejection::RollUnknownStyle {
                    credential: hex(&v.credential),
                    style: v.style,
                    styles: m.ballot_styles.len(),
                });
            }
            if v.weight > 1 && ranked_styles.get(usize::from(v.style)) == Some(&true) {
                return Err(Rejection::RollRankedWeight {
                    credential: hex(&v.credential),
                    weight: v.weight,
                });
            }
            let k = *v.credential.as_bytes();
            if self.lookup(&k).is_some() || !in_batch.insert(k) {
                return Err(Rejection::RollRepeatedCredential {
                    credential: hex(&v.credential),
                });
            }
        }
        if let Some(v) = r
            .voters
            .par_iter()
            .find_first(|v| !is_prime_order(&v.credential))
        {
            return Err(Rejection::RollMixedOrderCredential {
                credential: hex(&v.credential),
            });
        }
        Ok(())
    }

    /// Adds a batch that passed [`Roll::check`].
    pub(super) fn admit(&mut self, m: &Manifest, r: VoterRoll) {
        self.style_weights.resize(m.ballot_styles.len(), 0);
        for v in r.voters {
            if let Some(w) = self.style_weights.get_mut(usize::from(v.style)) {
                *w += u64::from(v.weight);
            }
            let voter = Voter {
                weight: v.weight,
                style: v.style,
                counted: NONE,
                last: NONE,
            };
            match &mut self.disk {
                Some(d) => d.insert(v.credential.as_bytes(), &voter),
                None => self.voters.insert(*v.credential.as_bytes(), voter),
            }
        }
        self.batches += 1;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::state::paged::PagedTable;

    /// Thousands of voters, added to a table on disk through a cache of two pages (so that it
    /// is rebuilt several times, and most reads miss), read and written: what the same roll
    /// in memory says.
    #[test]
    fn the_roll_on_disk_is_the_roll_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let table = PagedTable::new(dir.path(), VOTER_ROW, 0).unwrap();
        let mut disk = Roll {
            disk: Some(OnDisk::new(Shared::new(table))),
            ..Roll::default()
        };
        let mut mem = Roll::default();
        let key = |i: u32| {
            let mut k = [0u8; 32];
            k[0] = (i % 4) as u8 * 2;
            k[5..9].copy_from_slice(&(i.wrapping_mul(2_654_435_761)).to_le_bytes());
            k[31] = 7;
            k
        };
        let n = 5000;
        for i in 0..n {
            let v = Voter {
                weight: 1 + i % 5,
                style: (i % 3) as u16,
                counted: NONE,
                last: NONE,
            };
            mem.voters.insert(key(i), v);
            disk.disk.as_mut().unwrap().insert(&key(i), &v);
            // Read back while it grows, across rebuilds.
            if i % 397 == 0 {
                for j in 0..=i {
                    assert_eq!(
                        disk.lookup(&key(j)),
                        mem.lookup(&key(j)),
                        "voter {j} of {i}"
                    );
                }
            }
        }
        let d = disk.disk.as_ref().unwrap();
        assert!(disk.voters.buckets.is_empty(), "nothing in memory");
        assert_eq!(disk.len(), n as usize);
        assert_eq!(
            d.slots, 16_384,
            "rebuilt past 60 %: 1,024 slots, 2,048, …, 16,384"
        );
        assert_eq!(d.table().len(), d.slots);
        assert_eq!(disk.size_estimate(), 0);
        for i in (0..n).step_by(3) {
            let mut v = mem.lookup(&key(i)).unwrap();
            v.counted = i;
            v.last = i + 1;
            mem.set(&key(i), v);
            disk.set(&key(i), v);
        }
        for i in 0..n {
            assert_eq!(disk.lookup(&key(i)), mem.lookup(&key(i)), "voter {i}");
        }
        let mut absent = key(n + 1);
        absent[30] = 1;
        assert_eq!(disk.lookup(&absent), None);
        assert_eq!(disk.lookup(&[9u8; 32]), None);
        assert_eq!(disk.lookup(&EMPTY), None, "an empty slot is no voter");
        assert!(disk.disk.as_ref().unwrap().table().failure().is_none());
    }

    /// The all-zero key marks an empty slot on disk: it encodes a point of order 4, so no
    /// credential is that key — a roll naming it does not even decode.
    #[test]
    fn the_empty_slots_key_is_no_credential() {
        assert!(VerifyingKey::from_wire(&EMPTY).is_err());
    }
}
