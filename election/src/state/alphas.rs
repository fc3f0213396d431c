//! The `α` of every admitted ballot's ciphertexts, for `copied-ballot` (`specs/election.md`
//! §6.5 5), kept by their first 16 bytes: 16 bytes each instead of a 32-byte key in a hash set
//! (about 2.5 times less at a million ballots of ten selections).
//!
//! Comparing 128-bit prefixes is the rule itself, not an approximation of it: every party
//! compares the same prefixes, so every verdict is the same everywhere. It refuses a little more
//! than comparing whole encodings would — a new `α` that shares its prefix with an earlier one —
//! which an honest encryption does with probability about `N/2¹²⁸`, and which costs anyone who
//! tries it on purpose about `2¹²⁸/N` point encodings only to have their own ballot refused.
//!
//! The prefixes sit in 65,536 buckets (by two bytes of the prefix, which the bucket then need
//! not store: 14 bytes each) of sorted vectors that grow by an eighth at a time: no rehash ever
//! copies the whole set, and the slack stays near 6 %.
//!
//! The set has two storages, chosen when the election is made. In memory (the default: a board,
//! a node, a client), it answers each lookup. Deferred ([`super::Election::deferring_copies`]:
//! a verifier), it holds nothing: every lookup says "not seen", each ballot that reached the
//! lookup is written to a [`CopySpill`] on disk, and the spill names afterwards the first entry
//! the lookup would have refused (`super::spill` argues why that is the same entry).

use std::sync::{Arc, Mutex, PoisonError};

use super::cow::{buckets, Buckets};
use super::spill::CopySpill;

/// Buckets: two bytes of the prefix pick one.
pub(super) const BUCKETS: usize = 1 << 16;

/// The 128-bit prefix `α` is compared by.
pub(super) fn prefix(alpha: &[u8; 32]) -> u128 {
    let mut p = [0u8; 16];
    p.copy_from_slice(&alpha[..16]);
    u128::from_le_bytes(p)
}

/// A prefix as its bucket and the 14 bytes the bucket holds. A ristretto255 encoding's first
/// byte is even (its low bit is the sign, always 0), so the bucket is the second and third
/// bytes.
pub(super) fn split(p: u128) -> (usize, [u8; 14]) {
    let b = p.to_le_bytes();
    let mut rest = [0u8; 14];
    rest[0] = b[0];
    rest[1..].copy_from_slice(&b[3..]);
    (usize::from(u16::from_le_bytes([b[1], b[2]])), rest)
}

#[derive(Clone, Default)]
pub(super) struct Alphas {
    /// Copy-on-write ([`super::cow`]): a copy of the state shares them.
    pub(super) buckets: Buckets<[u8; 14]>,
    pub(super) len: u64,
    /// The deferred storage, if chosen: the buckets stay empty. Shared by a copy of the state
    /// (a deferring election is a verifier's, which never copies it).
    pub(super) deferred: Option<Arc<Mutex<CopySpill>>>,
}

impl Alphas {
    pub(super) fn deferring(spill: CopySpill) -> Alphas {
        Alphas {
            deferred: Some(Arc::new(Mutex::new(spill))),
            ..Alphas::default()
        }
    }

    /// Whether an admitted ballot had prefix `p`; always `false` when deferred.
    pub(super) fn contains(&self, p: u128) -> bool {
        if self.deferred.is_some() {
            return false;
        }
        let (b, rest) = split(p);
        self.buckets
            .get(b)
            .is_some_and(|b| b.binary_search(&rest).is_ok())
    }

    /// Adds an admitted ballot's prefix (deferred: [`Alphas::note`] wrote it).
    pub(super) fn insert(&mut self, p: u128) {
        if self.deferred.is_some() {
            return;
        }
        if self.buckets.is_empty() {
            self.buckets = buckets(BUCKETS);
        }
        let (b, p) = split(p);
        let Some(b) = self.buckets.get_mut(b) else {
            return;
        };
        if let Err(at) = b.binary_search(&p) {
            let b = Arc::make_mut(b);
            if b.len() == b.capacity() {
                b.reserve_exact((b.len() / 8).max(4));
            }
            b.insert(at, p);
            self.len += 1;
        }
    }

    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// Deferred: the ballot at `index` reached the lookup and was `admitted` or not (refused
    /// by a later check). In memory: nothing ([`Alphas::insert`] adds an admitted ballot's).
    pub(super) fn note(
        &mut self,
        index: u64,
        challenged: bool,
        admitted: bool,
        prefixes: impl Iterator<Item = u128>,
    ) {
        if let Some(s) = &self.deferred {
            let mut s = s.lock().unwrap_or_else(PoisonError::into_inner);
            let before = s.pairs();
            s.note(index, challenged, admitted, prefixes);
            if admitted {
                self.len += s.pairs() - before;
            }
        }
    }

    /// Deferred: an entry was refused, so nothing after it counts.
    pub(super) fn seal(&self) {
        if let Some(s) = &self.deferred {
            s.lock().unwrap_or_else(PoisonError::into_inner).seal();
        }
    }

    /// The bytes held in memory for the prefixes once many (deferred: the spill's buffer, a
    /// constant).
    pub(super) fn size_estimate(&self) -> u64 {
        match self.deferred {
            Some(_) => 0,
            None => self.len() * 14 * 17 / 16,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn finds_what_it_holds_and_nothing_else() {
        let mut s = Alphas::default();
        let keys: Vec<u128> = (0..5000u128)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835))
            .collect();
        for k in &keys {
            assert!(!s.contains(*k));
            s.insert(*k);
            s.insert(*k);
        }
        assert_eq!(s.len(), 5000);
        assert!(keys.iter().all(|k| s.contains(*k)));
        assert!(!s.contains(1));
    }

    #[test]
    fn compares_the_first_sixteen_bytes() {
        let mut a = [7u8; 32];
        let b = {
            let mut b = a;
            b[31] = 0;
            b
        };
        assert_eq!(prefix(&a), prefix(&b));
        a[15] = 0;
        assert_ne!(prefix(&a), prefix(&b));
    }
}
