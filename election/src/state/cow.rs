//! Copy-on-write storage for the large parts of the rules' state, so that a copy of an
//! [`super::Election`] — what a board takes to write a snapshot while it keeps admitting
//! (`specs/board.md` §4.1) — costs a reference count per bucket or chunk rather than a copy of
//! every credential, `α` prefix and ballot record (about 300 MB at a million ballots). After a
//! copy, the first write to a bucket or chunk copies that one alone (`Arc::make_mut`): a few
//! kilobytes, however large the state.

use std::fmt;
use std::ops::Index;
use std::sync::Arc;

/// Buckets of sorted vectors, each shared until written.
pub(super) type Buckets<T> = Vec<Arc<Vec<T>>>;

/// `n` empty buckets. They share one empty vector until each is first written (an empty
/// vector allocates nothing, but a separate `Arc` for each would).
pub(super) fn buckets<T>(n: usize) -> Buckets<T> {
    let empty = Arc::new(Vec::new());
    vec![empty; n]
}

/// Elements per chunk of a [`Chunked`] vector: a write after a copy copies at most this many.
const CHUNK: usize = 4096;

/// A vector kept in chunks of [`CHUNK`] elements, each shared until written: append-only but
/// for writes in place (a ballot record's status).
#[derive(Clone)]
pub struct Chunked<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> Chunked<T> {
    pub(super) fn with_capacity(n: usize) -> Self {
        Chunked {
            chunks: Vec::with_capacity(n.div_ceil(CHUNK)),
            len: 0,
        }
    }

    pub(super) fn push(&mut self, x: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => {
                let c = Arc::make_mut(c);
                // A chunk copied after a snapshot has only the capacity of its length.
                c.reserve_exact(CHUNK - c.len());
                c.push(x);
            }
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(x);
                self.chunks.push(Arc::new(c));
            }
        }
        self.len += 1;
    }

    /// The element at `i`, for writing: its chunk is copied first if a copy of the vector
    /// shares it.
    pub(super) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        Arc::make_mut(self.chunks.get_mut(i / CHUNK)?).get_mut(i % CHUNK)
    }
}

impl<T> Chunked<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    pub fn first(&self) -> Option<&T> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&T> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    /// The elements in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    /// The elements, copied into one vector.
    pub fn to_vec(&self) -> Vec<T>
    where
        T: Clone,
    {
        self.iter().cloned().collect()
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;

    /// Panics out of range, as a slice's indexing does (callers that index know the length).
    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T: PartialEq> PartialEq for Chunked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Eq> Eq for Chunked<T> {}

impl<T: PartialEq> PartialEq<[T]> for Chunked<T> {
    fn eq(&self, other: &[T]) -> bool {
        self.len == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: PartialEq> PartialEq<Vec<T>> for Chunked<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self == other.as_slice()
    }
}

impl<T: fmt::Debug> fmt::Debug for Chunked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T> IntoIterator for &'a Chunked<T> {
    type Item = &'a T;
    type IntoIter = Box<dyn DoubleEndedIterator<Item = &'a T> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_copy_is_unchanged_by_writes_to_the_original() {
        let mut a = Chunked::default();
        for i in 0..(3 * CHUNK + 5) {
            a.push(i);
        }
        let b = a.clone();
        *a.get_mut(7).unwrap() = 0;
        a.push(1);
        assert_eq!(b.len(), 3 * CHUNK + 5);
        assert_eq!(b[7], 7);
        assert_eq!(a[7], 0);
        assert_eq!(a.last(), Some(&1));
        assert_eq!(b.last(), Some(&(3 * CHUNK + 4)));
        assert!(b.iter().copied().eq(0..3 * CHUNK + 5));
        // Only the written chunks were copied.
        assert!(Arc::ptr_eq(&a.chunks[1], &b.chunks[1]));
        assert!(!Arc::ptr_eq(&a.chunks[0], &b.chunks[0]));
        assert!(!Arc::ptr_eq(&a.chunks[3], &b.chunks[3]));
        assert!(a.get(a.len()).is_none());
        assert!(a.get_mut(a.len()).is_none());
    }

    /// The board's pause to copy the state for a snapshot at `URNA_COW_BALLOTS` ballots
    /// (default a million: the roll, ten `α` prefixes a ballot, a record each), the cost to the
    /// writer of the next batch's writes after it (the buckets and chunks they copy), and what
    /// a deep copy of the same costs. A measurement, not a check: run it alone, in release,
    /// `cargo test -p urna-election --release --lib -- --ignored --nocapture pause_to_copy`.
    #[test]
    #[ignore = "a measurement: run it alone, in release"]
    fn pause_to_copy_the_state_at_scale() {
        use super::super::roll::{Voter, NONE};
        use super::super::{BallotRecord, BallotStatus, CredentialId, Election};
        use crate::entry::TrackingCode;
        use std::time::Instant;

        let n: usize = std::env::var("URNA_COW_BALLOTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000);
        // splitmix64: enough spread for bucket keys, no dependency.
        let mut x = 0x1234_5678_u64;
        let mut next = move || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let key = |next: &mut dyn FnMut() -> u64| {
            let mut k = [0u8; 32];
            for c in k.chunks_mut(8) {
                c.copy_from_slice(&next().to_le_bytes());
            }
            k
        };
        let mut e = Election::reading_back();
        let t = Instant::now();
        let keys: Vec<[u8; 32]> = (0..n).map(|_| key(&mut next)).collect();
        for (i, k) in keys.iter().enumerate() {
            e.roll.voters.insert(
                *k,
                Voter {
                    weight: 1,
                    style: 0,
                    counted: i as u32,
                    last: i as u32,
                },
            );
            let bb = &mut e.ballot_box;
            for _ in 0..10 {
                bb.alphas
                    .insert(u128::from(next()) << 64 | u128::from(next() & !1));
            }
            bb.records.push(BallotRecord {
                index: i as u64,
                credential: CredentialId(*k),
                tracking_code: TrackingCode(key(&mut next)),
                status: BallotStatus::Counted,
            });
            bb.prev.push(NONE);
        }
        eprintln!(
            "{n} ballots of state built in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let copy = e.clone();
        let pause = t.elapsed();
        // The next batch (1,024 ballots, each a revote here: a voter, ten prefixes, a record
        // written and one superseded) while the copy is held.
        let t = Instant::now();
        for j in 0..1024usize {
            let k = keys[(j * 977) % n];
            if let Some(v) = e.roll.voters.get_mut(&k) {
                v.counted = (n + j) as u32;
            }
            let bb = &mut e.ballot_box;
            for _ in 0..10 {
                bb.alphas
                    .insert(u128::from(next()) << 64 | u128::from(next() & !1));
            }
            if let Some(r) = bb.records.get_mut((j * 977) % n) {
                r.status = BallotStatus::Superseded { by: (n + j) as u64 };
            }
            bb.records.push(BallotRecord {
                index: (n + j) as u64,
                credential: CredentialId(k),
                tracking_code: TrackingCode(key(&mut next)),
                status: BallotStatus::Counted,
            });
            bb.prev.push(NONE);
        }
        let batch = t.elapsed();
        let t = Instant::now();
        let deep = (
            copy.roll
                .voters
                .buckets
                .iter()
                .map(|b| b.to_vec())
                .collect::<Vec<_>>(),
            copy.ballot_box
                .alphas
                .buckets
                .iter()
                .map(|b| b.to_vec())
                .collect::<Vec<_>>(),
            copy.ballot_box.records.to_vec(),
            copy.ballot_box.prev.to_vec(),
        );
        let deep_copy = t.elapsed();
        eprintln!(
            "copy of the state: {:.2} ms; the next batch's 1,024 ballots' writes after it: {:.2} ms; \
             a deep copy of the same: {:.0} ms ({} voters, {} α prefixes, {} records)",
            pause.as_secs_f64() * 1e3,
            batch.as_secs_f64() * 1e3,
            deep_copy.as_secs_f64() * 1e3,
            deep.0.iter().map(Vec::len).sum::<usize>(),
            deep.1.iter().map(Vec::len).sum::<usize>(),
            deep.2.len(),
        );
    }
}
