//! Disjunctive Chaum–Pedersen proof that an ElGamal ciphertext `(α, β)` under key `K` encrypts
//! some `m ∈ {0, 1, …, L}` (Cramer–Damgård–Schoenmakers OR-composition).
//!
//! For each `j ∈ [0, L]` the statement is "`(α, β − j·G)` is an encryption of zero", i.e.
//! `log_G α = log_K (β − j·G)`. The prover answers the true branch `j = m` honestly and
//! simulates the others; the branch challenges must sum to the transcript challenge.
//!
//! Transcript: `dom-sep = "disjunctive-cp-v1"`, `ctx`, `L` (u64), `K`, `alpha`, `beta`, then for
//! `j = 0..=L`: `A`, `B`; challenge `c`.
//! Proof: `(Aⱼ, Bⱼ)` for all j, `cⱼ` for `j < L` (`c_L = c − Σ_{j<L} cⱼ`), `sⱼ` for all j.
//! Verification for every j: `sⱼ·G = Aⱼ + cⱼ·α` and `sⱼ·K = Bⱼ + cⱼ·(β − j·G)`.
//!
//! `L = 1` is the per-selection 0/1 proof; a small `L` bounds a contest total (shift the
//! ciphertext by `min·G` for a lower bound).

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use crate::batch::BatchVerifier;
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::elgamal::{Ciphertext, PublicKey};
use crate::errors::{DecodeError, ParamError, VerifyError};
use crate::group::{mul_g, serde_scalar, Point};
use crate::secret::SecretScalar;
use crate::transcript::{proof_transcript, TranscriptProtocol};

const DOMAIN: &[u8] = b"disjunctive-cp-v1";

/// The largest `L` this proof supports; larger ranges use a range proof.
pub const MAX_L: u64 = 254;

/// One branch `j`: commitments `(Aⱼ, Bⱼ)` and response `sⱼ`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    #[serde(rename = "A")]
    pub a: Point,
    #[serde(rename = "B")]
    pub b: Point,
    #[serde(with = "serde_scalar")]
    pub s: Scalar,
}

/// Wire form: `u8 n = L + 1`, then `n × (Aⱼ ‖ Bⱼ)`, then `(n − 1) × cⱼ`, then `n × sⱼ`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisjunctiveProof {
    pub branches: Vec<Branch>,
    /// `c₀ … c_{L−1}`; the last branch challenge is implied.
    #[serde(with = "serde_scalars")]
    pub challenges: Vec<Scalar>,
}

mod serde_scalars {
    use super::*;
    use serde::{Deserializer, Serializer};

    #[derive(Serialize, Deserialize)]
    struct S(#[serde(with = "serde_scalar")] Scalar);

    pub fn serialize<Z: Serializer>(v: &[Scalar], s: Z) -> Result<Z::Ok, Z::Error> {
        s.collect_seq(v.iter().map(|x| S(*x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Scalar>, D::Error> {
        Ok(Vec::<S>::deserialize(d)?.into_iter().map(|s| s.0).collect())
    }
}

fn statement_transcript(l: u64, pk: &PublicKey, ct: &Ciphertext, ctx: &[u8]) -> Transcript {
    let mut t = proof_transcript(DOMAIN, ctx);
    t.append_u64(b"L", l);
    t.append_point(b"K", pk.point());
    t.append_point(b"alpha", &ct.alpha);
    t.append_point(b"beta", &ct.beta);
    t
}

impl DisjunctiveProof {
    /// Proves that `ct = Enc(m; r)` under `pk` with `m ≤ l`. The range is checked first: a
    /// proof for an out-of-range value would not verify, so none is made.
    pub fn prove<R: RngCore + CryptoRng>(
        pk: &PublicKey,
        ct: &Ciphertext,
        m: u64,
        r: &SecretScalar,
        l: u64,
        ctx: &[u8],
        rng: &mut R,
    ) -> Result<Self, ParamError> {
        if l > MAX_L {
            return Err(ParamError::Unsupported("disjunctive proof with L > 254"));
        }
        if m > l {
            return Err(ParamError::OutOfRange { value: m, max: l });
        }
        let n = (l + 1) as usize;
        let w = SecretScalar::random(rng);
        let m_s = Scalar::from(m);
        let r = r.expose();
        let mut sim_c = Vec::with_capacity(n);
        let mut sim_s = Vec::with_capacity(n);
        let mut commitments: Vec<(RistrettoPoint, RistrettoPoint)> = Vec::with_capacity(n);
        // Every branch runs the same operations; the true one is chosen with constant-time
        // selects so timing does not reveal m.
        for j in 0..=l {
            let real = j.ct_eq(&m);
            let cj = Scalar::random(rng);
            let sj = Scalar::random(rng);
            // Simulated: Aⱼ = (sⱼ − cⱼr)·G, Bⱼ = (sⱼ − cⱼr)·K + cⱼ(j − m)·G.
            // Real:      Aⱼ = w·G,          Bⱼ = w·K.
            let t = Scalar::conditional_select(&(sj - cj * r), w.expose(), real);
            let u =
                Scalar::conditional_select(&(cj * (Scalar::from(j) - m_s)), &Scalar::ZERO, real);
            commitments.push((mul_g(&t), pk.mul(&t) + mul_g(&u)));
            sim_c.push(cj);
            sim_s.push(sj);
        }
        let mut t = statement_transcript(l, pk, ct, ctx);
        let mut points = Vec::with_capacity(n);
        for (a, b) in commitments {
            let (a, b) = (Point::from_point(a), Point::from_point(b));
            t.append_point(b"A", &a);
            t.append_point(b"B", &b);
            points.push((a, b));
        }
        let c = t.challenge_scalar(b"c");
        // c_m = c − Σ_{j≠m} cⱼ, computed without branching on m.
        let mut sum_sim = Scalar::ZERO;
        for (j, cj) in (0..=l).zip(&sim_c) {
            sum_sim += Scalar::conditional_select(cj, &Scalar::ZERO, j.ct_eq(&m));
        }
        let c_real = c - sum_sim;
        let s_real = w.expose() + c_real * r;
        let mut branches = Vec::with_capacity(n);
        let mut challenges = Vec::with_capacity(n - 1);
        for ((j, (a, b)), (cj, sj)) in (0..=l).zip(points).zip(sim_c.iter().zip(&sim_s)) {
            let real = j.ct_eq(&m);
            let s = Scalar::conditional_select(sj, &s_real, real);
            if j < l {
                challenges.push(Scalar::conditional_select(cj, &c_real, real));
            }
            branches.push(Branch { a, b, s });
        }
        Ok(DisjunctiveProof {
            branches,
            challenges,
        })
    }

    /// `L` as carried by the proof's shape.
    pub fn l(&self) -> u64 {
        self.branches.len().saturating_sub(1) as u64
    }

    fn challenge(
        &self,
        pk: &PublicKey,
        ct: &Ciphertext,
        l: u64,
        ctx: &[u8],
    ) -> Result<(Scalar, Transcript), VerifyError> {
        if self.branches.len() as u64 != l + 1 || self.challenges.len() as u64 != l {
            return Err(VerifyError::ShapeMismatch("disjunctive proof"));
        }
        let mut t = statement_transcript(l, pk, ct, ctx);
        for br in &self.branches {
            t.validate_and_append_point(b"A", &br.a)?;
            t.validate_and_append_point(b"B", &br.b)?;
        }
        let c = t.challenge_scalar(b"c");
        Ok((c - self.challenges.iter().sum::<Scalar>(), t))
    }

    /// The equations, given the last branch's challenge `last` (the others are the proof's).
    fn equations(&self, pk: &PublicKey, ct: &Ciphertext, last: Scalar, batch: &mut BatchVerifier) {
        // For each j, with weights zⱼ, z'ⱼ:
        //   zⱼ(Aⱼ + cⱼ·α − sⱼ·G) + z'ⱼ(Bⱼ + cⱼ·β − cⱼ·j·G − sⱼ·K) = 0.
        // α and β occur in every branch, so their coefficients are summed and each is added once.
        // Each equation is written with its commitment's coefficient +1, so that the commitments
        // — two thirds of the points — carry the bare 128-bit weights, every digit of which
        // above bit 128 is zero and skipped by the multiscalar multiplication; `−z` (mod ℓ),
        // that is `ℓ − z`, also has digits at ℓ's top. (Weighting an equation by `−z` instead of
        // `z` changes nothing about soundness: `z ↦ −z` maps the weights' range one to one onto
        // a set of the same size.)
        batch.reserve(self.branches.len() * 2 + 2);
        let (mut g, mut k, mut alpha, mut beta) =
            (Scalar::ZERO, Scalar::ZERO, Scalar::ZERO, Scalar::ZERO);
        let cs = self.challenges.iter().copied().chain([last]);
        for (j, (br, cj)) in self.branches.iter().zip(cs).enumerate() {
            let z1 = batch.weight();
            let z2 = batch.weight();
            let z2c = z2 * cj;
            g -= z1 * br.s;
            // Branch 0 has no `j·G` term, and branch 1 (the other of a 0/1 proof) a bare one.
            match j {
                0 => {}
                1 => g -= z2c,
                _ => g -= z2c * Scalar::from(j as u64),
            }
            k -= z2 * br.s;
            alpha += z1 * cj;
            beta += z2c;
            batch
                .weighted()
                .point(z1, br.a.point())
                .point(z2, br.b.point());
        }
        batch
            .weighted()
            .g(g)
            .fixed(k, pk.point())
            .point(alpha, ct.alpha.point())
            .point(beta, ct.beta.point());
    }

    /// Adds this proof's `2(L + 1)` equations to `batch`.
    pub fn queue(
        &self,
        pk: &PublicKey,
        ct: &Ciphertext,
        l: u64,
        ctx: &[u8],
        batch: &mut BatchVerifier,
    ) -> Result<(), VerifyError> {
        let (last, _) = self.challenge(pk, ct, l, ctx)?;
        self.equations(pk, ct, last, batch);
        Ok(())
    }

    pub fn verify(
        &self,
        pk: &PublicKey,
        ct: &Ciphertext,
        l: u64,
        ctx: &[u8],
    ) -> Result<(), VerifyError> {
        let (last, mut t) = self.challenge(pk, ct, l, ctx)?;
        for (br, c) in self.branches.iter().zip(&self.challenges) {
            t.append_scalar(b"c", c);
            t.append_scalar(b"s", &br.s);
        }
        if let Some(last) = self.branches.last() {
            t.append_scalar(b"s", &last.s);
        }
        let mut batch = super::single_batch(&mut t);
        self.equations(pk, ct, last, &mut batch);
        super::check(batch, "disjunctive Chaum-Pedersen")
    }
}

impl Encode for DisjunctiveProof {
    fn encode(&self, out: &mut Vec<u8>) {
        // The count fits: proofs are only built with L ≤ MAX_L and decoded with n ≤ 255.
        out.put_u8(self.branches.len() as u8);
        for br in &self.branches {
            br.a.encode(out);
            br.b.encode(out);
        }
        self.challenges.iter().for_each(|c| c.encode(out));
        self.branches.iter().for_each(|br| br.s.encode(out));
    }
}

impl Decode for DisjunctiveProof {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.u8()? as usize;
        if n < 2 {
            return Err(DecodeError::Invalid(
                "disjunctive proof needs at least 2 branches",
            ));
        }
        let mut commitments = Vec::with_capacity(n);
        for _ in 0..n {
            let a = Point::decode_commitment(r, "A")?;
            let b = Point::decode_commitment(r, "B")?;
            commitments.push((a, b));
        }
        let challenges = r.vec_of::<Scalar>(n - 1)?;
        let mut branches = Vec::with_capacity(n);
        for (a, b) in commitments {
            branches.push(Branch {
                a,
                b,
                s: Scalar::decode(r)?,
            });
        }
        Ok(DisjunctiveProof {
            branches,
            challenges,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::SecretKey;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn setup() -> (ChaCha20Rng, PublicKey) {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let pk = SecretKey::random(&mut rng).public_key().unwrap();
        (rng, pk)
    }

    #[test]
    fn every_value_in_range_verifies() {
        let (mut rng, pk) = setup();
        for l in [1u64, 2, 5] {
            for m in 0..=l {
                let (ct, r) = Ciphertext::encrypt_random(&pk, m, &mut rng);
                let p = DisjunctiveProof::prove(&pk, &ct, m, &r, l, b"c", &mut rng).unwrap();
                assert_eq!(p.verify(&pk, &ct, l, b"c"), Ok(()), "l={l} m={m}");
                assert_eq!(DisjunctiveProof::from_bytes(&p.to_bytes()).as_ref(), Ok(&p));
            }
        }
    }

    /// A reader of proofs verified before keeps the commitments' encodings without
    /// decompressing them: the proof re-encodes to the same bytes but no longer verifies (so
    /// that it cannot pass for verified), and the identity's encoding, a truncated proof and
    /// non-canonical scalars are still refused.
    #[test]
    fn trusting_reader_keeps_encodings_and_never_verifies() {
        let (mut rng, pk) = setup();
        let (ct, r) = Ciphertext::encrypt_random(&pk, 1, &mut rng);
        let p = DisjunctiveProof::prove(&pk, &ct, 1, &r, 1, b"c", &mut rng).unwrap();
        let bytes = p.to_bytes();
        let mut reader = Reader::trusting_proofs(&bytes);
        let trusted = DisjunctiveProof::decode(&mut reader).unwrap();
        reader.finish().unwrap();
        assert_eq!(trusted.to_bytes(), bytes);
        assert!(trusted.verify(&pk, &ct, 1, b"c").is_err());
        // Strict decoding of the same bytes verifies as ever.
        assert_eq!(
            DisjunctiveProof::from_bytes(&bytes)
                .unwrap()
                .verify(&pk, &ct, 1, b"c"),
            Ok(())
        );
        // The identity as a commitment (bytes 1..33 hold the first A).
        let mut identity = bytes.clone();
        identity[1..33].fill(0);
        assert_eq!(
            DisjunctiveProof::decode(&mut Reader::trusting_proofs(&identity)).unwrap_err(),
            DecodeError::IdentityPoint("A")
        );
        // A point that does not decompress is refused by the strict reader only.
        let mut bad = bytes.clone();
        bad[1..33].fill(0xff);
        assert!(DisjunctiveProof::from_bytes(&bad).is_err());
        assert!(DisjunctiveProof::decode(&mut Reader::trusting_proofs(&bad)).is_ok());
        // Cut short, or a scalar ≥ ℓ: refused by both.
        assert!(
            DisjunctiveProof::decode(&mut Reader::trusting_proofs(&bytes[..bytes.len() - 1]))
                .is_err()
        );
        let mut scalar = bytes.clone();
        let last = scalar.len() - 32;
        scalar[last..].fill(0xff);
        assert_eq!(
            DisjunctiveProof::decode(&mut Reader::trusting_proofs(&scalar)).unwrap_err(),
            DecodeError::NonCanonicalScalar
        );
        // A ciphertext is decoded strictly whatever the reader.
        let mut ct_bytes = ct.to_bytes();
        ct_bytes[..32].fill(0xff);
        assert!(Ciphertext::decode(&mut Reader::trusting_proofs(&ct_bytes)).is_err());
    }

    #[test]
    fn out_of_range_refused_before_proving() {
        let (mut rng, pk) = setup();
        let (ct, r) = Ciphertext::encrypt_random(&pk, 2, &mut rng);
        assert_eq!(
            DisjunctiveProof::prove(&pk, &ct, 2, &r, 1, b"c", &mut rng),
            Err(ParamError::OutOfRange { value: 2, max: 1 })
        );
    }

    #[test]
    fn wrong_shape_is_a_shape_error() {
        let (mut rng, pk) = setup();
        let (ct, r) = Ciphertext::encrypt_random(&pk, 1, &mut rng);
        let p = DisjunctiveProof::prove(&pk, &ct, 1, &r, 1, b"c", &mut rng).unwrap();
        assert_eq!(
            p.verify(&pk, &ct, 2, b"c"),
            Err(VerifyError::ShapeMismatch("disjunctive proof"))
        );
    }
}
