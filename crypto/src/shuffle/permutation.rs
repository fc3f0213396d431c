//! Lists of ciphertext rows, permutations, and the re-encrypt-and-permute step of a mixer.

use std::fmt;

use curve25519_dalek::scalar::Scalar;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};
use rayon::prelude::*;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::generators::MAX_ROWS;
use crate::elgamal::{Ciphertext, PublicKey};
use crate::errors::ParamError;
use crate::group::mul_g;
use crate::secret::SecretScalar;

/// The widest row a shuffle takes (the width is a `u16` on the wire).
pub const MAX_WIDTH: usize = u16::MAX as usize;

/// Rows drawn from one generator seed: parallel work stays reproducible from the caller's
/// generator whatever the number of threads.
pub(crate) const RNG_CHUNK: usize = 1024;

/// A list of `N` rows of `w` ciphertexts each (a ballot's ciphertexts are one row), stored
/// row-major in one slice. Every row is moved as a unit by a shuffle.
#[derive(Clone, Copy, Debug)]
pub struct Rows<'a> {
    cts: &'a [Ciphertext],
    width: usize,
}

impl<'a> Rows<'a> {
    /// `cts` holds `cts.len() / width` rows; `1 ≤ width ≤ 65,535` and `width` must divide the
    /// length.
    pub fn new(cts: &'a [Ciphertext], width: usize) -> Result<Self, ParamError> {
        if width == 0 || width > MAX_WIDTH {
            return Err(ParamError::OutOfRange {
                value: width as u64,
                max: MAX_WIDTH as u64,
            });
        }
        if cts.len() % width != 0 {
            return Err(ParamError::ShapeMismatch(
                "rows: length is not a multiple of the width",
            ));
        }
        if cts.len() / width > MAX_ROWS {
            return Err(ParamError::OutOfRange {
                value: (cts.len() / width) as u64,
                max: MAX_ROWS as u64,
            });
        }
        Ok(Rows { cts, width })
    }

    /// `N`, the number of rows.
    pub fn len(&self) -> usize {
        self.cts.len() / self.width
    }

    pub fn is_empty(&self) -> bool {
        self.cts.is_empty()
    }

    /// `w`, the number of ciphertexts in a row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// All ciphertexts, row after row.
    pub fn flat(&self) -> &'a [Ciphertext] {
        self.cts
    }

    pub fn iter(&self) -> std::slice::ChunksExact<'a, Ciphertext> {
        self.cts.chunks_exact(self.width)
    }
}

/// A secret permutation of `0 … N−1`: output row `i` is a re-encryption of input row `π(i)`.
///
/// It is wiped on drop and its `Debug` is redacted.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Permutation(Vec<u32>);

impl Permutation {
    /// Checks that `map` is a bijection of `0 … map.len()−1`.
    pub fn new(map: Vec<u32>) -> Result<Self, ParamError> {
        let mut seen = vec![false; map.len()];
        for &j in &map {
            match seen.get_mut(j as usize) {
                Some(s) if !*s => *s = true,
                _ => return Err(ParamError::BadPermutation),
            }
        }
        Ok(Permutation(map))
    }

    /// A uniformly random permutation (Fisher–Yates with unbiased sampling).
    pub fn random<R: RngCore + CryptoRng>(n: usize, rng: &mut R) -> Result<Self, ParamError> {
        if n > MAX_ROWS {
            return Err(ParamError::OutOfRange {
                value: n as u64,
                max: MAX_ROWS as u64,
            });
        }
        // n ≤ u32::MAX, so every index fits.
        let mut map: Vec<u32> = (0..n as u32).collect();
        for i in (1..n).rev() {
            let j = below(rng, i as u64 + 1) as usize;
            map.swap(i, j);
        }
        Ok(Permutation(map))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `π`, as a slice: entry `i` is the input row that output row `i` comes from.
    pub fn as_slice(&self) -> &[u32] {
        &self.0
    }

    /// `π⁻¹`: entry `j` is the output row that input row `j` goes to.
    pub fn inverse(&self) -> Permutation {
        let mut inv = vec![0u32; self.0.len()];
        for (i, &j) in self.0.iter().enumerate() {
            // A `Permutation` is a bijection of 0..len, so `j < len` and `i < 2^32`.
            inv[j as usize] = i as u32;
        }
        Permutation(inv)
    }
}

impl fmt::Debug for Permutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Permutation(<{} entries, redacted>)", self.0.len())
    }
}

/// A uniform integer in `[0, bound)`, `bound ≥ 1`, by rejection: accepting only draws at or
/// above `2⁶⁴ mod bound` leaves a range whose size is a multiple of `bound`.
fn below<R: RngCore>(rng: &mut R, bound: u64) -> u64 {
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let x = rng.next_u64();
        if x >= threshold {
            return x % bound;
        }
    }
}

/// What a mixer must keep secret to prove its shuffle: the permutation and, for output row `i`
/// and component `k`, the nonce `ρ_{i,k}` (at index `i·w + k`) it added:
/// `e'_{i,k} = e_{π(i),k} + (ρ_{i,k}·G, ρ_{i,k}·K)`.
#[derive(Clone, Debug)]
pub struct ShuffleWitness {
    permutation: Permutation,
    randomness: Vec<SecretScalar>,
}

impl ShuffleWitness {
    /// `randomness` holds `N·w` nonces, row-major by output row.
    pub fn new(
        permutation: Permutation,
        randomness: Vec<SecretScalar>,
    ) -> Result<Self, ParamError> {
        if permutation.is_empty() {
            if !randomness.is_empty() {
                return Err(ParamError::ShapeMismatch("shuffle witness"));
            }
        } else if randomness.len() % permutation.len() != 0 {
            return Err(ParamError::ShapeMismatch("shuffle witness"));
        }
        Ok(ShuffleWitness {
            permutation,
            randomness,
        })
    }

    pub fn permutation(&self) -> &Permutation {
        &self.permutation
    }

    pub fn randomness(&self) -> &[SecretScalar] {
        &self.randomness
    }
}

/// One 32-byte seed per chunk of `RNG_CHUNK` rows, drawn in order from `rng`.
pub(crate) fn chunk_seeds<R: RngCore + CryptoRng>(
    rng: &mut R,
    rows: usize,
) -> Zeroizing<Vec<[u8; 32]>> {
    Zeroizing::new(
        (0..rows.div_ceil(RNG_CHUNK))
            .map(|_| {
                let mut s = [0u8; 32];
                rng.fill_bytes(&mut s);
                s
            })
            .collect(),
    )
}

/// Re-encrypts and permutes `inputs` under a fresh uniformly random permutation: the work of
/// one mixer. Returns the output rows (row-major) and the witness for
/// [`super::ShuffleProof::prove_vartime`].
pub fn shuffle<R: RngCore + CryptoRng>(
    pk: &PublicKey,
    inputs: Rows<'_>,
    rng: &mut R,
) -> Result<(Vec<Ciphertext>, ShuffleWitness), ParamError> {
    let permutation = Permutation::random(inputs.len(), rng)?;
    reencrypt_permute(pk, inputs, permutation, rng)
}

/// Re-encrypts and permutes `inputs` under the given permutation: output row `i` is input row
/// `π(i)` with every component re-randomised by a fresh nonce.
///
/// Fixed-base scalar multiplications are constant time; the permutation itself is applied by
/// indexed memory access (see the side-channel note in the module documentation).
pub fn reencrypt_permute<R: RngCore + CryptoRng>(
    pk: &PublicKey,
    inputs: Rows<'_>,
    permutation: Permutation,
    rng: &mut R,
) -> Result<(Vec<Ciphertext>, ShuffleWitness), ParamError> {
    let (n, w) = (inputs.len(), inputs.width());
    if permutation.len() != n {
        return Err(ParamError::ShapeMismatch("permutation and input rows"));
    }
    let seeds = chunk_seeds(rng, n);
    let pi = permutation.as_slice();
    let flat = inputs.flat();
    // Written in place, chunk by chunk: memory stays one copy of the outputs.
    let mut outputs = flat.to_vec();
    let mut randomness = vec![SecretScalar::new(Scalar::ZERO); n * w];
    outputs
        .par_chunks_mut(RNG_CHUNK * w)
        .zip(randomness.par_chunks_mut(RNG_CHUNK * w))
        .zip(seeds.par_iter())
        .enumerate()
        .for_each(|(ci, ((out, nonces), seed))| {
            let mut chunk_rng = ChaCha20Rng::from_seed(*seed);
            let lo = ci * RNG_CHUNK;
            let sources = pi[lo..lo + out.len() / w]
                .iter()
                .flat_map(|&src| &flat[src as usize * w..(src as usize + 1) * w]);
            let slots = out.iter_mut().zip(nonces.iter_mut());
            for ((slot, nonce), ct) in slots.zip(sources) {
                let rho = SecretScalar::new(Scalar::random(&mut chunk_rng));
                *slot = Ciphertext::from_points(
                    ct.alpha.point() + mul_g(rho.expose()),
                    ct.beta.point() + pk.mul(rho.expose()),
                );
                *nonce = rho;
            }
        });
    Ok((
        outputs,
        ShuffleWitness {
            permutation,
            randomness,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::SecretKey;
    use rand::SeedableRng;

    #[test]
    fn permutations_are_checked_and_invertible() {
        assert!(Permutation::new(vec![1, 0, 2]).is_ok());
        assert_eq!(
            Permutation::new(vec![0, 0, 2]).err(),
            Some(ParamError::BadPermutation)
        );
        assert_eq!(
            Permutation::new(vec![0, 3, 1]).err(),
            Some(ParamError::BadPermutation)
        );
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let p = Permutation::random(50, &mut rng).unwrap();
        let inv = p.inverse();
        for (i, &j) in p.as_slice().iter().enumerate() {
            assert_eq!(inv.as_slice()[j as usize] as usize, i);
        }
        assert!(Permutation::new(p.as_slice().to_vec()).is_ok());
        assert_eq!(format!("{p:?}"), "Permutation(<50 entries, redacted>)");
    }

    #[test]
    fn reencryption_decrypts_to_the_permuted_plaintexts() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let sk = SecretKey::random(&mut rng);
        let pk = sk.public_key().unwrap();
        let w = 2;
        let cts: Vec<Ciphertext> = (0..10u64)
            .map(|m| Ciphertext::encrypt_random(&pk, m, &mut rng).0)
            .collect();
        let rows = Rows::new(&cts, w).unwrap();
        let (out, wit) = shuffle(&pk, rows, &mut rng).unwrap();
        assert_eq!(out.len(), cts.len());
        for (i, &src) in wit.permutation().as_slice().iter().enumerate() {
            for k in 0..w {
                let got = sk.decrypt_to_point(&out[i * w + k]);
                let want = sk.decrypt_to_point(&cts[src as usize * w + k]);
                assert_eq!(got, want);
                assert_ne!(out[i * w + k], cts[src as usize * w + k]);
            }
        }
    }

    #[test]
    fn rows_shape_rules() {
        assert!(Rows::new(&[], 1).is_ok_and(|r| r.is_empty()));
        assert!(Rows::new(&[], 0).is_err());
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let pk = SecretKey::random(&mut rng).public_key().unwrap();
        let cts: Vec<Ciphertext> = (0..3)
            .map(|_| Ciphertext::encrypt_random(&pk, 0, &mut rng).0)
            .collect();
        assert_eq!(
            Rows::new(&cts, 2).err().map(|e| e.code()),
            Some("shape-mismatch")
        );
        assert_eq!(Rows::new(&cts, 3).map(|r| r.len()).ok(), Some(1));
    }

    #[test]
    fn uniform_sampling_stays_in_range() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        for bound in [1u64, 2, 3, 7, 1 << 40, u64::MAX] {
            for _ in 0..100 {
                assert!(below(&mut rng, bound) < bound);
            }
        }
    }
}
