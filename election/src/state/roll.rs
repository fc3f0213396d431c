//! The voter roll (`specs/election.md` §6.3): who may vote, with what weight and ballot style.
//! Grown by the registrar's `VoterRoll` batches until voting opens; read by every ballot.

use std::collections::HashSet;
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

/// The roll on disk, for an election [`super::Election::on_disk`]: once voting opens the roll
/// is complete, and it is written out in the order its buckets hold it (by bucket, then by
/// key) — a sorted table — with, in memory, where each bucket starts (512 KiB whatever the
/// roll's size). A lookup is a binary search among its bucket's rows (about `n / 65,536`),
/// through the table's cache; a ballot's `counted` and `last` are written in place.
#[derive(Clone)]
pub(super) struct OnDisk {
    table: Shared,
    /// The first row of each bucket, and the rows' count last: empty until voting opens.
    starts: Vec<u64>,
}

impl OnDisk {
    pub(super) fn new(table: Shared) -> OnDisk {
        OnDisk {
            table,
            starts: Vec::new(),
        }
    }

    fn row(&self, i: u64) -> Option<([u8; 32], Voter)> {
        let mut r = [0u8; VOTER_ROW];
        if !self.table.read(i, &mut r) {
            return None;
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&r[..32]);
        let u32_at = |at: usize| u32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]);
        Some((
            key,
            Voter {
                weight: u32_at(32),
                style: u16::from_le_bytes([r[36], r[37]]),
                counted: u32_at(38),
                last: u32_at(42),
            },
        ))
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

    /// The row of `key` and its voter, by a binary search of its bucket's rows.
    fn find(&self, key: &[u8; 32]) -> Option<(u64, Voter)> {
        let b = Voters::bucket(key);
        let (mut lo, mut hi) = (*self.starts.get(b)?, *self.starts.get(b + 1)?);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (k, v) = self.row(mid)?;
            match k.cmp(key) {
                std::cmp::Ordering::Equal => return Some((mid, v)),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }
}

#[derive(Clone, Default)]
pub(super) struct Roll {
    pub(super) voters: Voters,
    /// The roll on disk once voting opened, if the election keeps it there: `voters` is then
    /// empty (but for its count).
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
            Some(d) if !d.starts.is_empty() => d.find(key).map(|(_, v)| v),
            _ => self.voters.get(key).copied(),
        }
    }

    /// Voting opens: an election keeping its roll on disk writes it there, complete, and
    /// lets go of it in memory.
    pub(super) fn close_registration(&mut self) {
        let Some(d) = &mut self.disk else {
            return;
        };
        if !d.starts.is_empty() {
            return;
        }
        let mut starts = Vec::with_capacity(self.voters.buckets.len() + 1);
        let mut at = 0u64;
        for b in &self.voters.buckets {
            starts.push(at);
            for (k, v) in b.iter() {
                // A row not written is the table's failure, kept: no verdict stands then.
                d.table.push(&OnDisk::encode(k, v));
                at += 1;
            }
        }
        starts.push(at);
        d.starts = starts;
        self.voters.buckets = Vec::new();
    }

    /// Writes back a credential's entry read by [`Roll::get`] (its `counted` and `last`).
    pub(super) fn set(&mut self, credential: &[u8; 32], v: Voter) {
        match &self.disk {
            Some(d) if !d.starts.is_empty() => {
                if let Some((row, _)) = d.find(credential) {
                    d.table.write(row, &OnDisk::encode(credential, &v));
                }
            }
            _ => {
                if let Some(x) = self.voters.get_mut(credential) {
                    *x = v;
                }
            }
        }
    }

    /// The bytes its credentials take once many (see [`super::Election::size_estimate`]).
    pub(super) fn size_estimate(&self) -> u64 {
        if self.disk.as_ref().is_some_and(|d| !d.starts.is_empty()) {
            return 0;
        }
        (self.voters.len * std::mem::size_of::<([u8; 32], Voter)>() * 17 / 16) as u64
    }

    pub(super) fn len(&self) -> usize {
        self.voters.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.voters.len == 0
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
            self.voters.insert(
                *v.credential.as_bytes(),
                Voter {
                    weight: v.weight,
                    style: v.style,
                    counted: NONE,
                    last: NONE,
                },
            );
        }
        self.batches += 1;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::state::paged::PagedTable;

    /// Thousands of voters in four buckets (so a bucket is many rows, over many pages), read
    /// and written on disk through a cache of two pages: what the same roll in memory says.
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
            k
        };
        let n = 3000;
        for i in 0..n {
            let v = Voter {
                weight: 1 + i % 5,
                style: (i % 3) as u16,
                counted: NONE,
                last: NONE,
            };
            mem.voters.insert(key(i), v);
            disk.voters.insert(key(i), v);
        }
        disk.close_registration();
        assert!(disk.voters.buckets.is_empty(), "let go of in memory");
        assert_eq!(disk.len(), n as usize);
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
        absent[31] = 1;
        assert_eq!(disk.lookup(&absent), None);
        assert_eq!(disk.lookup(&[9u8; 32]), None);
        assert!(disk.disk.as_ref().unwrap().table().failure().is_none());
    }
}
