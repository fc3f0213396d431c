//! Range proofs: an ElGamal ciphertext encrypts a value in `[0, max]`.
//!
//! For each ciphertext `ctᵢ = Enc(vᵢ; rᵢ)` the prover commits `Vᵢ = vᵢ·G + γᵢ·H` (Pedersen, with
//! the nothing-up-my-sleeve `H`, never the election key), links `ctᵢ` and `Vᵢ` with a
//! [`LinearProof`], and proves with one aggregated Bulletproof that both `vᵢ` and `maxᵢ − vᵢ` lie
//! in `[0, 2ⁿ)`; the verifier derives `V'ᵢ = maxᵢ·G − Vᵢ` itself. See `specs/crypto.md` §6.
#![doc = include_str!("../../specs/notes-range.md")]

use std::sync::{Arc, Mutex};

use bulletproofs::{BulletproofGens, PedersenGens, RangeProof};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use sha3::digest::{ExtendableOutput, Update, XofReader};

use crate::batch::{BatchVerifier, Table};
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

/// The aggregated vectors `𝐆`, `𝐇` of `n·m` points each (`specs/crypto.md` §6.3), built on first
/// use and shared, so that a batch recognises them and sums their coefficients across proofs.
fn vector_gens(n: usize, m: usize) -> (Table, Table) {
    type Cached = Vec<(usize, usize, Table, Table)>;
    static CACHE: Mutex<Cached> = Mutex::new(Vec::new());
    let mut cache = match CACHE.lock() {
        Ok(c) => c,
        // A panic while holding the lock cannot leave a half-built table in the cache.
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some((_, _, g, h)) = cache.iter().find(|(cn, cm, _, _)| (*cn, *cm) == (n, m)) {
        return (Arc::clone(g), Arc::clone(h));
    }
    let chain = |letter: u8| -> Table {
        Arc::new(
            (0..m as u32)
                .flat_map(|j| {
                    let mut shake = sha3::Shake256::default();
                    shake.update(b"GeneratorsChain");
                    shake.update(&[letter]);
                    shake.update(&j.to_le_bytes());
                    let mut reader = shake.finalize_xof();
                    (0..n).map(move |_| {
                        let mut wide = [0u8; 64];
                        reader.read(&mut wide);
                        RistrettoPoint::from_uniform_bytes(&wide)
                    })
                })
                .collect(),
        )
    };
    let (g, h) = (chain(b'G'), chain(b'H'));
    cache.push((n, m, Arc::clone(&g), Arc::clone(&h)));
    (g, h)
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
    proof: Box<Bulletproof>,
    /// The bulletproof's canonical encoding, kept to compare and re-encode without recomputing.
    proof_bytes: Vec<u8>,
}

/// A bulletproof's fields (`specs/crypto.md` §6.2), decoded once: points decompressed (the
/// identity allowed here; the transcript refuses it), scalars canonical.
#[derive(Clone, Debug)]
struct Bulletproof {
    a: Point,
    s: Point,
    t1: Point,
    t2: Point,
    t_x: Scalar,
    t_x_blinding: Scalar,
    e_blinding: Scalar,
    /// `(L_j, R_j)`, first round first.
    rounds: Vec<(Point, Point)>,
    ipp_a: Scalar,
    ipp_b: Scalar,
}

impl Bulletproof {
    /// Decodes `32·(9 + 2·lg)` bytes; the caller has checked the length.
    fn from_bytes(bp: &[u8]) -> Result<Self, DecodeError> {
        let field = |i: usize| -> Result<[u8; 32], DecodeError> {
            bp.get(32 * i..32 * i + 32)
                .and_then(|c| c.try_into().ok())
                .ok_or(DecodeError::Invalid("bulletproof too short"))
        };
        let point = |i: usize| Point::from_wire_allow_identity(&field(i)?);
        let scalar = |i: usize| crate::group::scalar_from_wire(&field(i)?);
        let fields = bp.len() / 32;
        if fields < 9 || bp.len() % 32 != 0 || (fields - 9) % 2 != 0 {
            return Err(DecodeError::Invalid(
                "bulletproof length does not match the value count",
            ));
        }
        let lg = (fields - 9) / 2;
        let rounds = (0..lg)
            .map(|j| Ok((point(7 + 2 * j)?, point(8 + 2 * j)?)))
            .collect::<Result<_, DecodeError>>()?;
        Ok(Bulletproof {
            a: point(0)?,
            s: point(1)?,
            t1: point(2)?,
            t2: point(3)?,
            t_x: scalar(4)?,
            t_x_blinding: scalar(5)?,
            e_blinding: scalar(6)?,
            rounds,
            ipp_a: scalar(fields - 2)?,
            ipp_b: scalar(fields - 1)?,
        })
    }
}

/// `validate(label, P)` of `specs/crypto.md` §6.4: the identity is refused as the bulletproofs
/// crate refuses it (`proof-invalid`).
fn validate(t: &mut Transcript, label: &'static [u8], p: &Point) -> Result<(), VerifyError> {
    if p.is_identity() {
        return Err(VerifyError::ProofInvalid("range"));
    }
    t.append_message(label, p.as_bytes());
    Ok(())
}

/// `Σ_{i<len} x^i`.
fn sum_of_powers(x: &Scalar, len: usize) -> Scalar {
    let (mut sum, mut p) = (Scalar::ZERO, Scalar::ONE);
    for _ in 0..len {
        sum += p;
        p *= x;
    }
    sum
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
        let proof_bytes = proof.to_bytes();
        let proof = Bulletproof::from_bytes(&proof_bytes)
            .map_err(|_| ParamError::Unsupported("bulletproofs made an undecodable proof"))?;
        Ok(EncryptedRangeProof {
            commitments,
            links,
            proof: Box::new(proof),
            proof_bytes,
        })
    }

    /// Queues the linking proofs and the bulletproof's two equations (E1 and E2 of
    /// `specs/crypto.md` §6.5, each with its own weight) in `batch`. The transcript is the
    /// bulletproofs crate's, operation for operation (§6.4); the vector generators are shared
    /// tables whose coefficients the batch sums, so many range proofs cost one multiplication
    /// of each generator.
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
        let bp = &*self.proof;
        let lg = bp.rounds.len();
        if self.proof_bytes.len() != proof_size(n, m) || n * m != 1 << lg {
            return Err(VerifyError::ShapeMismatch("range"));
        }
        for ((ct, v), link) in cts.iter().zip(&self.commitments).zip(&self.links) {
            link.queue(pk, ct, v, ctx, batch)?;
        }

        // The transcript, rows 1–18 of §6.4.
        let mut t = statement(pk, cts, maxima, &self.commitments, ctx);
        t.append_message(b"dom-sep", b"rangeproof v1");
        t.append_u64(b"n", n as u64);
        t.append_u64(b"m", m as u64);
        for v in aggregate_commitments(&self.commitments, maxima) {
            t.append_message(b"V", v.as_bytes());
        }
        validate(&mut t, b"A", &bp.a)?;
        validate(&mut t, b"S", &bp.s)?;
        let y = t.challenge_scalar(b"y");
        let z = t.challenge_scalar(b"z");
        validate(&mut t, b"T_1", &bp.t1)?;
        validate(&mut t, b"T_2", &bp.t2)?;
        let x = t.challenge_scalar(b"x");
        t.append_scalar(b"t_x", &bp.t_x);
        t.append_scalar(b"t_x_blinding", &bp.t_x_blinding);
        t.append_scalar(b"e_blinding", &bp.e_blinding);
        let w = t.challenge_scalar(b"w");
        t.append_message(b"dom-sep", b"ipp v1");
        t.append_u64(b"n", (n * m) as u64);
        let mut u = Vec::with_capacity(lg);
        for (l, r) in &bp.rounds {
            validate(&mut t, b"L", l)?;
            validate(&mut t, b"R", r)?;
            u.push(t.challenge_scalar(b"u"));
        }

        // The scalars of §6.5 step 4.
        let mut u_inv = u.clone();
        let all_inv = Scalar::batch_invert(&mut u_inv);
        let u_sq: Vec<Scalar> = u.iter().map(|x| x * x).collect();
        let u_inv_sq: Vec<Scalar> = u_inv.iter().map(|x| x * x).collect();
        let nm = n * m;
        let mut s = Vec::with_capacity(nm);
        s.push(all_inv);
        for i in 1..nm {
            let top = (usize::BITS - 1 - i.leading_zeros()) as usize;
            s.push(s[i - (1 << top)] * u_sq[lg - 1 - top]);
        }
        let zz = z * z;
        let delta = (z - zz) * sum_of_powers(&y, nm)
            - zz * z * sum_of_powers(&Scalar::from(2u64), n) * sum_of_powers(&z, m);

        // E1 with weight c1, E2 with weight c2: independent 128-bit weights, so a false E1 or
        // E2 lets the batch pass with probability at most 2⁻¹²⁸ (§7).
        let (c1, c2) = (batch.weight(), batch.weight());
        let (a, b) = (bp.ipp_a, bp.ipp_b);
        // E1's `Ṽ` terms: `Ṽ_{2i} = Vᵢ`, `Ṽ_{2i+1} = maxᵢ·G − Vᵢ`, padding the identity; the
        // `maxᵢ·G` parts join G's coefficient.
        let mut g_coeff = c2 * w * (bp.t_x - a * b) + c1 * (delta - bp.t_x);
        let mut zj = c1 * zz;
        let mut terms = batch.weighted();
        for (v, max) in self.commitments.iter().zip(maxima) {
            let (even, odd) = (zj, zj * z);
            terms.point(even - odd, v.point());
            g_coeff += odd * Scalar::from(*max);
            zj = odd * z;
        }
        terms
            .g(g_coeff)
            .h(-(c2 * bp.e_blinding) - c1 * bp.t_x_blinding)
            .point(c2, bp.a.point())
            .point(c2 * x, bp.s.point())
            .point(c1 * x, bp.t1.point())
            .point(c1 * x * x, bp.t2.point());
        for ((l, r), (usq, uisq)) in bp.rounds.iter().zip(u_sq.iter().zip(&u_inv_sq)) {
            terms.point(c2 * usq, l.point());
            terms.point(c2 * uisq, r.point());
        }
        let (g_table, h_table) = vector_gens(n, m);
        let g_terms = batch.table(&g_table);
        let minus_z = -(c2 * z);
        let c2a = c2 * a;
        for (coeff, s_i) in g_terms.iter_mut().zip(&s) {
            *coeff += minus_z - c2a * s_i;
        }
        let h_terms = batch.table(&h_table);
        let (c2z, c2zz, c2b) = (c2 * z, c2 * zz, c2 * b);
        let y_inv = y.invert();
        let twos: Vec<Scalar> = (0..n).map(|i| Scalar::from(1u64 << i)).collect();
        let mut y_pow = Scalar::ONE;
        let mut zz_zj = c2zz;
        for (party, coeffs) in h_terms.chunks_mut(n).enumerate() {
            for (i, coeff) in coeffs.iter_mut().enumerate() {
                let iota = party * n + i;
                *coeff += c2z + y_pow * (zz_zj * twos[i] - c2b * s[nm - 1 - iota]);
                y_pow *= y_inv;
            }
            zz_zj *= z;
        }
        Ok(())
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
            .map_err(|_| VerifyError::ProofInvalid("range"))
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
            commitments.push(Point::decode_commitment(r, "V")?);
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
        // and every scalar canonical.
        let proof = Bulletproof::from_bytes(bp)?;
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
                proof: Box::new(Bulletproof::from_bytes(&proof.to_bytes()).unwrap()),
                proof_bytes: proof.to_bytes(),
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

    /// The bulletproofs crate's own verdict on the same statement, for comparison.
    fn reference(
        p: &EncryptedRangeProof,
        pk: &PublicKey,
        cts: &[Ciphertext],
        maxima: &[u64],
    ) -> bool {
        let (n, m) = (bit_size(maxima), parties(cts.len()));
        let Ok(proof) = RangeProof::from_bytes(&p.proof_bytes) else {
            return false;
        };
        let mut t = statement(pk, cts, maxima, &p.commitments, b"ctx");
        proof
            .verify_multiple_with_rng(
                &bulletproof_gens(n, m),
                &pedersen_gens(),
                &mut t,
                &aggregate_commitments(&p.commitments, maxima),
                n,
                &mut ChaCha20Rng::seed_from_u64(1),
            )
            .is_ok()
    }

    #[test]
    fn vector_generators_are_the_bulletproofs_crates() {
        let (g, _) = vector_gens(16, 4);
        let theirs = BulletproofGens::new(16, 4);
        let flat: Vec<RistrettoPoint> = (0..4)
            .flat_map(|j| theirs.share(j).G(16).copied())
            .collect();
        assert_eq!(*g, flat);
        // Their H chains are crate-private; honest proofs verifying checks ours (and the
        // vectors of specs/vectors/range.json list their first points).
    }

    /// Every field of the bulletproof, changed to another valid encoding (a point moved by `G`,
    /// a scalar plus one) or a point set to the identity, is refused, in a batch with honest
    /// proofs too, and the bulletproofs crate refuses it as well.
    #[test]
    fn every_tampered_bulletproof_field_is_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(15);
        let values = [0, 7, 3];
        let maxima = [9, 9, 200];
        let (pk, cts, nonces) = setup(&values, &mut rng);
        let p = EncryptedRangeProof::prove(&pk, &cts, &values, &nonces, &maxima, b"ctx", &mut rng)
            .unwrap();
        assert!(reference(&p, &pk, &cts, &maxima));
        assert_eq!(p.verify(&pk, &cts, &maxima, b"ctx", &mut rng), Ok(()));
        let fields = p.proof_bytes.len() / 32;
        let is_point = |i: usize| i < 4 || (7..fields - 2).contains(&i);
        let mut cases = 0;
        for i in 0..fields {
            let mut tampered = Vec::new();
            let chunk: [u8; 32] = p.proof_bytes[32 * i..32 * i + 32].try_into().unwrap();
            if is_point(i) {
                let q = Point::from_wire_allow_identity(&chunk).unwrap();
                tampered.push((q.point() + g()).compress().to_bytes());
                tampered.push([0u8; 32]);
            } else {
                let x = scalar_from_wire_for_test(&chunk);
                tampered.push((x + Scalar::ONE).to_bytes());
            }
            for bytes in tampered {
                let mut bp = p.proof_bytes.clone();
                bp[32 * i..32 * i + 32].copy_from_slice(&bytes);
                let forged = EncryptedRangeProof {
                    commitments: p.commitments.clone(),
                    links: p.links.clone(),
                    proof: Box::new(Bulletproof::from_bytes(&bp).unwrap()),
                    proof_bytes: bp,
                };
                assert!(!reference(&forged, &pk, &cts, &maxima), "field {i}");
                assert_eq!(
                    forged.verify(&pk, &cts, &maxima, b"ctx", &mut rng),
                    Err(VerifyError::ProofInvalid("range")),
                    "field {i}"
                );
                // Among honest proofs of the same shape, which share the generator tables.
                let mut batch = BatchVerifier::new(&mut rng);
                p.queue(&pk, &cts, &maxima, b"ctx", &mut batch).unwrap();
                if forged.queue(&pk, &cts, &maxima, b"ctx", &mut batch).is_ok() {
                    p.queue(&pk, &cts, &maxima, b"ctx", &mut batch).unwrap();
                    assert!(batch.verify_vartime().is_err(), "field {i} in a batch");
                }
                cases += 1;
            }
        }
        assert_eq!(cases, 2 * (4 + (fields - 9)) + 5);
        // The statement's other parts: a commitment, a bound, the context.
        let mut moved = p.clone();
        moved.commitments[1] = Point::from_point(p.commitments[1].point() + g());
        assert!(moved.verify(&pk, &cts, &maxima, b"ctx", &mut rng).is_err());
        assert!(p.verify(&pk, &cts, &[9, 8, 200], b"ctx", &mut rng).is_err());
        assert!(p.verify(&pk, &cts, &maxima, b"ctX", &mut rng).is_err());
    }

    fn scalar_from_wire_for_test(b: &[u8; 32]) -> Scalar {
        crate::group::scalar_from_wire(b).unwrap()
    }

    /// Many range proofs of one shape in one batch: all honest passes; one bad one fails it.
    #[test]
    fn range_proofs_share_one_batch() {
        let mut rng = ChaCha20Rng::seed_from_u64(16);
        let maxima = [5, 5];
        let proofs: Vec<_> = (0..6)
            .map(|i| {
                let values = [i % 6, 5 - i % 6];
                let (pk, cts, nonces) = setup(&values, &mut rng);
                let p = EncryptedRangeProof::prove(
                    &pk, &cts, &values, &nonces, &maxima, b"ctx", &mut rng,
                )
                .unwrap();
                (pk, cts, p)
            })
            .collect();
        let mut batch = BatchVerifier::new(&mut rng);
        for (pk, cts, p) in &proofs {
            p.queue(pk, cts, &maxima, b"ctx", &mut batch).unwrap();
        }
        assert_eq!(batch.verify_vartime(), Ok(()));
        let mut batch = BatchVerifier::new(&mut rng);
        for (i, (pk, cts, p)) in proofs.iter().enumerate() {
            let bound: &[u64] = if i == 3 { &[5, 4] } else { &maxima };
            p.queue(pk, cts, bound, b"ctx", &mut batch).unwrap();
        }
        assert!(batch.verify_vartime().is_err());
    }

    #[test]
    fn bit_sizes() {
        assert_eq!(bit_size(&[255]), 8);
        assert_eq!(bit_size(&[256]), 16);
        assert_eq!(bit_size(&[1 << 40]), 64);
        assert_eq!(bit_size(&[u64::MAX]), 64);
    }
}
