//! Range proofs: an ElGamal ciphertext encrypts a value in `[0, max]`.
//!
//! For each ciphertext `ctᵢ = Enc(vᵢ; rᵢ)` the prover commits `Vᵢ = vᵢ·G + γᵢ·H` (Pedersen, with
//! the nothing-up-my-sleeve `H`, never the election key), links `ctᵢ` and `Vᵢ` with a
//! [`LinearProof`], and proves with one aggregated Bulletproof that both `vᵢ` and `maxᵢ − vᵢ` lie
//! in `[0, 2ⁿ)`; the verifier derives `V'ᵢ = maxᵢ·G − Vᵢ` itself. See `specs/crypto.md` §6.
#![doc = include_str!("../../specs/notes-range.md")]

use std::sync::{Arc, Mutex};

use bulletproofs::{BulletproofGens, PedersenGens, RangeProof};
use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};

use crate::batch::BatchVerifier;
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::elgamal::{Ciphertext, PublicKey};
use crate::errors::{DecodeError, ParamError, VerifyError};
use crate::group::{g, h, mul_g, Point};
use crate::secret::SecretScalar;
use crate::sigma::LinearProof;
use crate::transcript::{proof_transcript, TranscriptProtocol};

const DOMAIN: &[u8] = b"range-v1";

/// Most values one aggregated proof may cover (the padded aggregate then has ≤ 512 parties).
pub const MAX_VALUES: usize = 256;

/// The Pedersen generators of the commitments: value base `G`, blinding base `H`.
pub fn pedersen_gens() -> PedersenGens {
    PedersenGens {
        B: *g(),
        B_blinding: *h(),
    }
}

/// Bulletproof generator tables, built on first use and shared. Building the largest
/// (64 bits × 512 parties) takes a noticeable fraction of a second, so each size is built once.
fn bulletproof_gens(n: usize, m: usize) -> Arc<BulletproofGens> {
    static CACHE: Mutex<Vec<Arc<BulletproofGens>>> = Mutex::new(Vec::new());
    let mut cache = match CACHE.lock() {
        Ok(c) => c,
        // A panic while holding the lock cannot leave a half-built table in the cache.
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(found) = cache
        .iter()
        .find(|gens| gens.gens_capacity >= n && gens.party_capacity >= m)
    {
        return Arc::clone(found);
    }
    let gens = Arc::new(BulletproofGens::new(n.max(16), m.next_power_of_two()));
    cache.push(Arc::clone(&gens));
    gens
}

/// The bit size `n ∈ {8, 16, 32, 64}` used for a set of maxima: the least with every `max < 2ⁿ`.
pub fn bit_size(maxima: &[u64]) -> usize {
    let top = maxima.iter().copied().max().unwrap_or(0);
    [8, 16, 32]
        .into_iter()
        .find(|&n| top < (1u64 << n))
        .unwrap_or(64)
}

/// Parties in the aggregate: two per value, padded to a power of two.
fn parties(count: usize) -> usize {
    (2 * count).next_power_of_two()
}

/// The proof that several ciphertexts each encrypt a value within its own bound.
///
/// Wire: `u16 k ‖ V₁..V_k ‖ link₁..link_k ‖ opaque bulletproof<u16>`.
#[derive(Clone, Debug)]
pub struct EncryptedRangeProof {
    /// `Vᵢ`, never the identity.
    pub commitments: Vec<Point>,
    /// Links `ctᵢ` to `Vᵢ`.
    pub links: Vec<LinearProof>,
    proof: Box<RangeProof>,
    /// The bulletproof's canonical encoding, kept to compare and re-encode without recomputing.
    proof_bytes: Vec<u8>,
}

impl PartialEq for EncryptedRangeProof {
    fn eq(&self, other: &Self) -> bool {
        self.commitments == other.commitments
            && self.links == other.links
            && self.proof_bytes == other.proof_bytes
    }
}

impl Eq for EncryptedRangeProof {}

/// The transcript handed to the bulletproof: binds the context, the key, every ciphertext, every
/// bound and every commitment before bulletproofs appends its own `rangeproof v1` statement.
fn statement(
    pk: &PublicKey,
    cts: &[Ciphertext],
    maxima: &[u64],
    commitments: &[Point],
    ctx: &[u8],
) -> Transcript {
    let mut t = proof_transcript(DOMAIN, ctx);
    t.append_point(b"K", pk.point());
    t.append_u64(b"k", cts.len() as u64);
    for ((ct, max), v) in cts.iter().zip(maxima).zip(commitments) {
        t.append_point(b"alpha", &ct.alpha);
        t.append_point(b"beta", &ct.beta);
        t.append_u64(b"max", *max);
        t.append_point(b"V", v);
    }
    t
}

/// `[V₁, max₁·G − V₁, V₂, …]` padded with identities to `parties(k)`.
fn aggregate_commitments(commitments: &[Point], maxima: &[u64]) -> Vec<CompressedRistretto> {
    let mut out = Vec::with_capacity(parties(commitments.len()));
    for (v, max) in commitments.iter().zip(maxima) {
        out.push(*v.compressed());
        out.push((mul_g(&Scalar::from(*max)) - v.point()).compress());
    }
    out.resize(parties(commitments.len()), CompressedRistretto::default());
    out
}

impl EncryptedRangeProof {
    /// Proves `ctsᵢ = Enc(valuesᵢ; noncesᵢ)` with `valuesᵢ ∈ [0, maximaᵢ]`.
    ///
    /// The bulletproofs prover does not check its inputs (an out-of-range value yields a proof
    /// that only fails at verification), so the bounds are checked here first.
    #[allow(clippy::too_many_arguments)]
    pub fn prove<R: RngCore + CryptoRng>(
        pk: &PublicKey,
        cts: &[Ciphertext],
        values: &[u64],
        nonces: &[SecretScalar],
        maxima: &[u64],
        ctx: &[u8],
        rng: &mut R,
    ) -> Result<Self, ParamError> {
        let k = cts.len();
        if k == 0 || k > MAX_VALUES {
            return Err(ParamError::Unsupported(
                "a range proof covers 1 to 256 values",
            ));
        }
        if values.len() != k || nonces.len() != k || maxima.len() != k {
            return Err(ParamError::Unsupported(
                "values, nonces and maxima must match the ciphertexts",
            ));
        }
        for (v, max) in values.iter().zip(maxima) {
            if v > max {
                return Err(ParamError::OutOfRange {
                    value: *v,
                    max: *max,
                });
            }
        }
        let (n, m) = (bit_size(maxima), parties(k));
        let mut commitments = Vec::with_capacity(k);
        let mut links = Vec::with_capacity(k);
        let mut bp_values = Vec::with_capacity(m);
        let mut blindings = Vec::with_capacity(m);
        for (((ct, v), r), max) in cts.iter().zip(values).zip(nonces).zip(maxima) {
            let gamma = SecretScalar::random(rng);
            let vs = SecretScalar::new(Scalar::from(*v));
            let com =
                Point::from_point(mul_g(vs.expose()) + gamma.expose() * crate::group::h_table());
            links.push(LinearProof::prove(pk, ct, &com, &vs, r, &gamma, ctx, rng));
            commitments.push(com);
            bp_values.extend([*v, max - v]);
            blindings.extend([*gamma.expose(), -gamma.expose()]);
        }
        bp_values.resize(m, 0);
        blindings.resize(m, Scalar::ZERO);
        let mut t = statement(pk, cts, maxima, &commitments, ctx);
        let gens = bulletproof_gens(n, m);
        let result = RangeProof::prove_multiple_with_rng(
            &gens,
            &pedersen_gens(),
            &mut t,
            &bp_values,
            &blindings,
            n,
            rng,
        );
        blindings.iter_mut().for_each(zeroize::Zeroize::zeroize);
        let (proof, _) =
            result.map_err(|_| ParamError::Unsupported("bulletproofs rejected the parameters"))?;
        Ok(EncryptedRangeProof {
            commitments,
            links,
            proof_bytes: proof.to_bytes(),
            proof: Box::new(proof),
        })
    }

    /// Queues the linking proofs in `batch` and verifies the bulletproof now (bulletproofs has
    /// no API to merge its check into a foreign batch).
    pub fn queue(
        &self,
        pk: &PublicKey,
        cts: &[Ciphertext],
        maxima: &[u64],
        ctx: &[u8],
        batch: &mut BatchVerifier,
    ) -> Result<(), VerifyError> {
        let k = cts.len();
        if maxima.len() != k || self.commitments.len() != k || self.links.len() != k {
            return Err(VerifyError::ShapeMismatch("range"));
        }
        let (n, m) = (bit_size(maxima), parties(k));
        if self.proof_bytes.len() != proof_size(n, m) {
            return Err(VerifyError::ShapeMismatch("range"));
        }
        for ((ct, v), link) in cts.iter().zip(&self.commitments).zip(&self.links) {
            link.queue(pk, ct, v, ctx, batch)?;
        }
        let mut t = statement(pk, cts, maxima, &self.commitments, ctx);
        let gens = bulletproof_gens(n, m);
        self.proof
            .verify_multiple_with_rng(
                &gens,
                &pedersen_gens(),
                &mut t,
                &aggregate_commitments(&self.commitments, maxima),
                n,
                &mut batch.fork_rng(),
            )
            .map_err(|_| VerifyError::ProofInvalid("range"))
    }

    /// Verifies the whole proof on its own.
    pub fn verify<R: RngCore + CryptoRng>(
        &self,
        pk: &PublicKey,
        cts: &[Ciphertext],
        maxima: &[u64],
        ctx: &[u8],
        rng: &mut R,
    ) -> Result<(), VerifyError> {
        let mut batch = BatchVerifier::new(rng);
        self.queue(pk, cts, maxima, ctx, &mut batch)?;
        batch
            .verify_vartime()
            .map_err(|_| VerifyError::ProofInvalid("linear relation"))
    }
}

/// Encoded size of a bulletproof over `m` parties of `n` bits: `32·(9 + 2·lg(n·m))`.
pub fn proof_size(n: usize, m: usize) -> usize {
    32 * (9 + 2 * (n * m).trailing_zeros() as usize)
}

impl Encode for EncryptedRangeProof {
    fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16(self.commitments.len() as u16);
        for v in &self.commitments {
            v.encode(out);
        }
        for l in &self.links {
            l.encode(out);
        }
        out.put_u16(self.proof_bytes.len() as u16);
        out.extend_from_slice(&self.proof_bytes);
    }
}

impl Decode for EncryptedRangeProof {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let k = r.u16()? as usize;
        if k == 0 || k > MAX_VALUES {
            return Err(DecodeError::LengthOutOfRange {
                len: k,
                max: MAX_VALUES,
            });
        }
        let mut commitments = Vec::with_capacity(k);
        for _ in 0..k {
            commitments.push(Point::from_wire(&r.array()?, "V")?);
        }
        let links = r.vec_of(k)?;
        let bp = r.bytes_u16()?;
        let m = parties(k);
        if ![8usize, 16, 32, 64]
            .iter()
            .any(|&n| bp.len() == proof_size(n, m))
        {
            return Err(DecodeError::Invalid(
                "bulletproof length does not match the value count",
            ));
        }
        // Strict at the edge: every point of the bulletproof must be a canonical, valid encoding
        // (bulletproofs itself only finds out at verification). Scalars are checked by `from_bytes`.
        let chunks: Vec<&[u8]> = bp.chunks(32).collect();
        let point_chunks = chunks[..4].iter().chain(&chunks[7..chunks.len() - 2]);
        for c in point_chunks {
            let mut a = [0u8; 32];
            a.copy_from_slice(c);
            Point::from_wire_allow_identity(&a)?;
        }
        let proof = RangeProof::from_bytes(bp).map_err(|_| DecodeError::NonCanonicalScalar)?;
        Ok(EncryptedRangeProof {
            commitments,
            links,
            proof: Box::new(proof),
            proof_bytes: bp.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::SecretKey;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn setup(
        values: &[u64],
        rng: &mut ChaCha20Rng,
    ) -> (PublicKey, Vec<Ciphertext>, Vec<SecretScalar>) {
        let pk = SecretKey::random(rng).public_key().unwrap();
        let nonces: Vec<SecretScalar> = values.iter().map(|_| SecretScalar::random(rng)).collect();
        let cts = values
            .iter()
            .zip(&nonces)
            .map(|(v, r)| Ciphertext::encrypt(&pk, *v, r))
            .collect();
        (pk, cts, nonces)
    }

    #[test]
    fn proves_and_round_trips() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let values = [0, 3, 10];
        let maxima = [10, 10, 10];
        let (pk, cts, nonces) = setup(&values, &mut rng);
        let p = EncryptedRangeProof::prove(&pk, &cts, &values, &nonces, &maxima, b"ctx", &mut rng)
            .unwrap();
        assert_eq!(p.verify(&pk, &cts, &maxima, b"ctx", &mut rng), Ok(()));
        let bytes = p.to_bytes();
        let q = EncryptedRangeProof::from_bytes(&bytes).unwrap();
        assert_eq!(q, p);
        assert_eq!(q.to_bytes(), bytes);
        assert!(p.verify(&pk, &cts, &maxima, b"other", &mut rng).is_err());
        // A tighter bound than the one proven fails.
        assert!(p.verify(&pk, &cts, &[10, 10, 9], b"ctx", &mut rng).is_err());
    }

    #[test]
    fn out_of_range_is_refused_before_proving() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let (pk, cts, nonces) = setup(&[11], &mut rng);
        assert_eq!(
            EncryptedRangeProof::prove(&pk, &cts, &[11], &nonces, &[10], b"", &mut rng),
            Err(ParamError::OutOfRange { value: 11, max: 10 })
        );
    }

    /// A cheating prover with `v = max + 1` who bypasses the range check in `prove` and drives
    /// bulletproofs directly, trying each way to represent `max − v = −1` as a u64.
    #[test]
    fn range_proof_for_max_plus_one_fails() {
        let mut rng = ChaCha20Rng::seed_from_u64(13);
        let max = 10u64;
        let v = max + 1;
        let (pk, cts, nonces) = setup(&[v], &mut rng);
        let gamma = SecretScalar::random(&mut rng);
        let vs = SecretScalar::new(Scalar::from(v));
        let com = Point::from_point(mul_g(vs.expose()) + gamma.expose() * h());
        let link = LinearProof::prove(
            &pk, &cts[0], &com, &vs, &nonces[0], &gamma, b"ctx", &mut rng,
        );
        assert_eq!(link.verify(&pk, &cts[0], &com, b"ctx"), Ok(()));
        let n = bit_size(&[max]);
        for wrapped in [u64::MAX, (1u64 << n) - 1, 0] {
            let mut t = statement(&pk, &cts, &[max], &[com], b"ctx");
            let (proof, _) = RangeProof::prove_multiple_with_rng(
                &bulletproof_gens(n, 2),
                &pedersen_gens(),
                &mut t,
                &[v, wrapped],
                &[*gamma.expose(), -gamma.expose()],
                n,
                &mut rng,
            )
            .unwrap();
            let forged = EncryptedRangeProof {
                commitments: vec![com],
                links: vec![link.clone()],
                proof_bytes: proof.to_bytes(),
                proof: Box::new(proof),
            };
            assert_eq!(
                forged.verify(&pk, &cts, &[max], b"ctx", &mut rng),
                Err(VerifyError::ProofInvalid("range"))
            );
        }
        // The honest statement one wider verifies, so the failure above is the bound's doing.
        let honest =
            EncryptedRangeProof::prove(&pk, &cts, &[v], &nonces, &[max + 1], b"ctx", &mut rng)
                .unwrap();
        assert_eq!(
            honest.verify(&pk, &cts, &[max + 1], b"ctx", &mut rng),
            Ok(())
        );
        assert!(honest.verify(&pk, &cts, &[max], b"ctx", &mut rng).is_err());
    }

    #[test]
    fn non_canonical_bulletproof_points_are_decode_errors() {
        let mut rng = ChaCha20Rng::seed_from_u64(14);
        let (pk, cts, nonces) = setup(&[1], &mut rng);
        let p = EncryptedRangeProof::prove(&pk, &cts, &[1], &nonces, &[1], b"", &mut rng).unwrap();
        let mut bytes = p.to_bytes();
        // Header: u16 k, V, link (192), u16 length; then A starts.
        let a = 2 + 32 + 192 + 2;
        bytes[a..a + 32].copy_from_slice(&[0xff; 32]);
        assert_eq!(
            EncryptedRangeProof::from_bytes(&bytes),
            Err(DecodeError::InvalidPoint)
        );
        let mut short = p.to_bytes();
        short.truncate(short.len() - 32);
        assert!(EncryptedRangeProof::from_bytes(&short).is_err());
    }

    #[test]
    fn bit_sizes() {
        assert_eq!(bit_size(&[255]), 8);
        assert_eq!(bit_size(&[256]), 16);
        assert_eq!(bit_size(&[1 << 40]), 64);
        assert_eq!(bit_size(&[u64::MAX]), 64);
    }
}
