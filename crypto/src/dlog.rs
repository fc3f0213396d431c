//! Discrete logarithms of small totals: find `m ∈ [0, bound]` with `m·G = M`.
//!
//! Baby-step giant-step. A table of `T = 2^b` baby steps maps a 64-bit prefix of the encoding of
//! `2·(j·G)` to `j`; giant steps walk `M − i·T·G` and look each up. Doubling before compressing
//! lets dalek compress a whole batch with one field inversion (`double_and_compress_batch`),
//! which is most of the speed. A prefix match is confirmed by recomputing `m·G`, so prefix
//! collisions cost time, never correctness.
//!
//! Table sizes: `b = ⌈log₂(bound + 1) / 2⌉`, capped at [`MAX_TABLE_BITS`] = 20. The largest table
//! has 2²⁰ entries in 2²¹ slots of 12 bytes: 24 MiB, built once per process (about a second on one
//! core) and shared. A 2⁴⁰ bound then needs at most 2²⁰ giant steps, spread over all cores.
//! Everything here is variable time: it runs on public tally values only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use rayon::prelude::*;
use thiserror::Error;

use crate::elgamal::message_point;

/// The largest baby-step table, in bits of its entry count.
pub const MAX_TABLE_BITS: u32 = 20;

/// Giant steps compressed together (one inversion per batch).
const BATCH: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DlogError {
    #[error("the value is not in [0, {bound}]: the total exceeds the bound or the point is not a small multiple of G")]
    OutOfBound { bound: u64 },
}

/// Open-addressing map from 64-bit encoding prefixes to baby-step indices.
pub struct DlogTable {
    bits: u32,
    keys: Vec<u64>,
    values: Vec<u32>,
    mask: usize,
}

const EMPTY: u32 = u32::MAX;

fn prefix(bytes: &[u8; 32]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(b)
}

/// Encodings of `2·(start + k)·G` for `k ∈ [0, len)` as prefixes.
fn doubled_prefixes(start: RistrettoPoint, step: RistrettoPoint, len: usize) -> Vec<u64> {
    let mut points = Vec::with_capacity(len);
    let mut p = start;
    for _ in 0..len {
        points.push(p);
        p += step;
    }
    RistrettoPoint::double_and_compress_batch(&points)
        .iter()
        .map(|c| prefix(c.as_bytes()))
        .collect()
}

impl DlogTable {
    /// Builds the table of `2^bits` baby steps (`bits ≤ MAX_TABLE_BITS`).
    pub fn new(bits: u32) -> Self {
        let bits = bits.min(MAX_TABLE_BITS);
        let size = 1usize << bits;
        let slots = size * 2;
        let g = RISTRETTO_BASEPOINT_POINT;
        let prefixes: Vec<u64> = (0..size.div_ceil(BATCH))
            .into_par_iter()
            .flat_map_iter(|chunk| {
                let start = chunk * BATCH;
                let len = BATCH.min(size - start);
                doubled_prefixes(message_point(start as u64), g, len)
            })
            .collect();
        let mut table = DlogTable {
            bits,
            keys: vec![0; slots],
            values: vec![EMPTY; slots],
            mask: slots - 1,
        };
        for (j, key) in prefixes.into_iter().enumerate() {
            let mut slot = key as usize & table.mask;
            while table.values[slot] != EMPTY {
                slot = (slot + 1) & table.mask;
            }
            table.keys[slot] = key;
            table.values[slot] = j as u32;
        }
        table
    }

    /// The shared table for `bits`, built on first use.
    pub fn shared(bits: u32) -> Arc<DlogTable> {
        static CACHE: Mutex<Option<HashMap<u32, Arc<DlogTable>>>> = Mutex::new(None);
        let bits = bits.min(MAX_TABLE_BITS);
        let mut cache = match CACHE.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let map = cache.get_or_insert_with(HashMap::new);
        Arc::clone(
            map.entry(bits)
                .or_insert_with(|| Arc::new(DlogTable::new(bits))),
        )
    }

    /// Number of baby steps, `T = 2^bits`.
    pub fn baby_steps(&self) -> u64 {
        1 << self.bits
    }

    /// Baby-step indices whose prefix is `key` (almost always zero or one).
    fn candidates(&self, key: u64) -> impl Iterator<Item = u32> + '_ {
        let mut slot = key as usize & self.mask;
        std::iter::from_fn(move || loop {
            let v = self.values[slot];
            if v == EMPTY {
                return None;
            }
            let k = self.keys[slot];
            slot = (slot + 1) & self.mask;
            if k == key {
                return Some(v);
            }
        })
    }

    /// Finds `m ∈ [0, bound]` with `m·G = target`, using every core.
    pub fn solve_vartime(&self, target: &RistrettoPoint, bound: u64) -> Result<u64, DlogError> {
        let t = self.baby_steps();
        let giant = message_point(t);
        let steps = bound / t + 1;
        let batches = steps.div_ceil(BATCH as u64);
        (0..batches)
            .into_par_iter()
            .find_map_any(|b| {
                let first = b * BATCH as u64;
                let len = (BATCH as u64).min(steps - first) as usize;
                // M − first·T·G, walking down by T·G.
                let start = target - giant * Scalar::from(first);
                let keys = doubled_prefixes(start, -giant, len);
                keys.iter().enumerate().find_map(|(k, key)| {
                    self.candidates(*key).find_map(|j| {
                        let m = (first + k as u64)
                            .checked_mul(t)?
                            .checked_add(u64::from(j))?;
                        (m <= bound && message_point(m) == *target).then_some(m)
                    })
                })
            })
            .ok_or(DlogError::OutOfBound { bound })
    }
}

/// Table bits for a bound: `⌈log₂(bound + 1) / 2⌉`, capped.
pub fn table_bits_for(bound: u64) -> u32 {
    let lg = 64 - bound.leading_zeros();
    lg.div_ceil(2).clamp(1, MAX_TABLE_BITS)
}

/// Finds `m ∈ [0, bound]` with `m·G = target` using the shared table sized for `bound`.
pub fn solve_vartime(target: &RistrettoPoint, bound: u64) -> Result<u64, DlogError> {
    if *target == RistrettoPoint::identity() {
        return Ok(0);
    }
    DlogTable::shared(table_bits_for(bound)).solve_vartime(target, bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_small_and_boundary_values() {
        let table = DlogTable::new(6);
        for m in [0u64, 1, 2, 63, 64, 65, 1000, 4095, 4096] {
            assert_eq!(
                table.solve_vartime(&message_point(m), 4096),
                Ok(m),
                "m = {m}"
            );
        }
        assert_eq!(
            table.solve_vartime(&message_point(4097), 4096),
            Err(DlogError::OutOfBound { bound: 4096 })
        );
        // A point that is no small multiple at all.
        let far = message_point(u64::MAX);
        assert_eq!(
            table.solve_vartime(&far, 100_000),
            Err(DlogError::OutOfBound { bound: 100_000 })
        );
    }

    #[test]
    fn default_sizing() {
        assert_eq!(table_bits_for(0), 1);
        assert_eq!(table_bits_for(1_000_000), 10);
        assert_eq!(table_bits_for(1 << 40), 20);
        assert_eq!(table_bits_for(u64::MAX), 20);
        assert_eq!(
            solve_vartime(&message_point(123_456), 1_000_000),
            Ok(123_456)
        );
    }
}
