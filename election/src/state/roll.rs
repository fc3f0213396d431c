//! The voter roll (`specs/election.md` §6.3): who may vote, with what weight and ballot style.
//! Grown by the registrar's `VoterRoll` batches until voting opens; read by every ballot.

use std::collections::HashSet;
use std::sync::Arc;

use rayon::prelude::*;
use urna_crypto::sign::VerifyingKey;

use super::cow::{buckets, Buckets};
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

#[derive(Clone, Default)]
pub(super) struct Roll {
    pub(super) voters: Voters,
    /// Batches admitted so far: the number the next one must carry.
    pub(super) batches: u32,
    /// The sum of the weights of the credentials of each ballot style.
    pub(super) style_weights: Vec<u64>,
}

impl Roll {
    pub(super) fn get(&self, credential: &VerifyingKey) -> Option<Voter> {
        self.voters.get(credential.as_bytes()).copied()
    }

    pub(super) fn get_mut(&mut self, credential: &[u8; 32]) -> Option<&mut Voter> {
        self.voters.get_mut(credential)
    }

    /// The bytes its credentials take once many (see [`super::Election::size_estimate`]).
    pub(super) fn size_estimate(&self) -> u64 {
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
            if self.voters.get(&k).is_some() || !in_batch.insert(k) {
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
