//! The commitment key of the shuffle argument, derived from a public seed by hashing to the group.
//!
//! ```text
//! F   = ONE_WAY_MAP(SHA-512("urna-v1 shuffle generators" ‖ u16(len(seed)) ‖ seed ‖ 0x00))
//! F_i = ONE_WAY_MAP(SHA-512("urna-v1 shuffle generators" ‖ u16(len(seed)) ‖ seed ‖ 0x01 ‖ u64(i)))
//! ```
//!
//! `F` blinds every commitment, `F_0` is the base of the commitment chain and `F_1 … F_N` are
//! the message generators. Every one is a hash output, so nobody knows a discrete-log relation
//! between any two of them, whoever picked the seed; that is what makes the commitments binding.
//! (The Swiss Post shuffle was broken in 2019 because its commitment generators were not
//! derived this way.) `F_i` does not depend on `N`, so one key serves every list up to its size.

use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use rayon::prelude::*;
use sha2::{Digest, Sha512};

use crate::errors::ParamError;

/// Domain-separation prefix of the generator derivation (no trailing space, no length byte).
const DST: &[u8] = b"urna-v1 shuffle generators";

/// The longest seed the derivation encodes (its length is a `u16`).
pub const MAX_SEED_LEN: usize = u16::MAX as usize;

/// The longest list a key may serve: list lengths are `u32` on the wire.
pub const MAX_ROWS: usize = u32::MAX as usize;

fn hash_to_group(seed: &[u8], tail: &[u8]) -> RistrettoPoint {
    let mut h = Sha512::new();
    h.update(DST);
    // `seed.len() ≤ MAX_SEED_LEN` is checked by the only caller.
    h.update((seed.len() as u16).to_be_bytes());
    h.update(seed);
    h.update(tail);
    RistrettoPoint::from_uniform_bytes(&h.finalize().into())
}

fn indexed(seed: &[u8], i: u64) -> RistrettoPoint {
    let mut tail = [0u8; 9];
    tail[0] = 1;
    tail[1..].copy_from_slice(&i.to_be_bytes());
    hash_to_group(seed, &tail)
}

/// The seed, `F`, `F_0` (each with a fixed-base table for the prover) and `F_1 … F_n`.
///
/// Deriving costs one SHA-512 and one `ONE_WAY_MAP` per generator, on all cores. Derive the key
/// once per seed and share it: between mixers, and between proving and verifying.
pub struct ShuffleGenerators {
    seed: Vec<u8>,
    blinding: RistrettoPoint,
    chain: RistrettoPoint,
    blinding_table: Box<RistrettoBasepointTable>,
    chain_table: Box<RistrettoBasepointTable>,
    message: Vec<RistrettoPoint>,
}

impl ShuffleGenerators {
    /// Derives the key for lists of up to `n` rows from `seed` (at most 65,535 bytes).
    pub fn derive(seed: &[u8], n: usize) -> Result<Self, ParamError> {
        if seed.len() > MAX_SEED_LEN {
            return Err(ParamError::OutOfRange {
                value: seed.len() as u64,
                max: MAX_SEED_LEN as u64,
            });
        }
        if n > MAX_ROWS {
            return Err(ParamError::OutOfRange {
                value: n as u64,
                max: MAX_ROWS as u64,
            });
        }
        let blinding = hash_to_group(seed, &[0]);
        let chain = indexed(seed, 0);
        let message = (1..=n as u64)
            .into_par_iter()
            .map(|i| indexed(seed, i))
            .collect();
        Ok(ShuffleGenerators {
            seed: seed.to_vec(),
            blinding,
            chain,
            blinding_table: Box::new(RistrettoBasepointTable::create(&blinding)),
            chain_table: Box::new(RistrettoBasepointTable::create(&chain)),
            message,
        })
    }

    pub fn seed(&self) -> &[u8] {
        &self.seed
    }

    /// The longest list this key serves.
    pub fn capacity(&self) -> usize {
        self.message.len()
    }

    /// `F`, the blinding generator.
    pub fn blinding(&self) -> &RistrettoPoint {
        &self.blinding
    }

    /// `F_0`, the base of the commitment chain.
    pub fn chain_base(&self) -> &RistrettoPoint {
        &self.chain
    }

    /// `F_1 … F_n` (index 0 of the slice holds `F_1`).
    pub fn message(&self) -> &[RistrettoPoint] {
        &self.message
    }

    pub(crate) fn blinding_table(&self) -> &RistrettoBasepointTable {
        &self.blinding_table
    }

    pub(crate) fn chain_table(&self) -> &RistrettoBasepointTable {
        &self.chain_table
    }
}

impl std::fmt::Debug for ShuffleGenerators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ShuffleGenerators(seed {}, {} message generators)",
            crate::hex::encode(&self.seed),
            self.message.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_is_prefix_stable_and_seed_bound() {
        let small = ShuffleGenerators::derive(b"seed", 3).unwrap();
        let large = ShuffleGenerators::derive(b"seed", 10).unwrap();
        assert_eq!(small.message(), &large.message()[..3]);
        assert_eq!(small.blinding(), large.blinding());
        let other = ShuffleGenerators::derive(b"seee", 3).unwrap();
        assert_ne!(small.message()[0], other.message()[0]);
        assert_ne!(small.blinding(), other.blinding());
        let mut all = vec![*small.blinding(), *small.chain_base()];
        all.extend_from_slice(small.message());
        for (i, p) in all.iter().enumerate() {
            assert!(all[i + 1..].iter().all(|q| q != p));
        }
    }

    #[test]
    fn oversized_seed_is_refused() {
        assert!(matches!(
            ShuffleGenerators::derive(&vec![0u8; MAX_SEED_LEN + 1], 1),
            Err(ParamError::OutOfRange { .. })
        ));
        assert!(ShuffleGenerators::derive(&vec![0u8; MAX_SEED_LEN], 0).is_ok());
    }
}
