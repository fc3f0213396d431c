//! One Chaum–Pedersen proof for many equalities of discrete logarithms with the same witness:
//! `X = x·G` and `Y_k = x·U_k` for `k = 1 … n`. For a trustee's partial decryptions
//! `D_k = s_j·α_k` of a whole list of ciphertexts under its verification key `VK_j`.
//!
//! Transcript: `dom-sep = "dleq-batch-v1"`, `ctx`, `X`, `n`, each `U`, `Y`; 32 bytes `z`
//! expanded to `z_1 … z_n`; `A`, `B`; challenge `c`.
//! Proof: `A = w·G`, `B = w·Σ z_k·U_k`, `s = w + c·x`.
//! Verification: `s·G = A + c·X` and `Σ (s·z_k)·U_k = B + c·Σ z_k·Y_k`.
//!
//! It is the Chaum–Pedersen proof (§5.2) of `log_G X = log_U Y` for the random combinations
//! `U = Σ z_k·U_k`, `Y = Σ z_k·Y_k`, with the `z_k` drawn after every `U_k` and `Y_k` is fixed:
//! if some `Y_k ≠ x·U_k`, then `Y ≠ x·U` except for one value of `z_k` in `ℓ`
//! (`specs/crypto.md` §14). 96 bytes whatever `n`, and 2 multiscalar terms per pair to verify.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::batch::BatchVerifier;
use crate::codec::{Decode, Encode, Reader};
use crate::errors::{DecodeError, ParamError, VerifyError};
use crate::group::{mul_g, serde_scalar, Point};
use crate::secret::SecretScalar;
use crate::transcript::{expand_challenges, proof_transcript, TranscriptProtocol};

const DOMAIN: &[u8] = b"dleq-batch-v1";
/// Domain-separation prefix of the expansion of the combination's coefficients.
const Z_DST: &[u8] = b"urna-v1 dleq-batch z";

/// `A ‖ B ‖ s` (96 bytes), whatever the number of pairs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DleqBatchProof {
    #[serde(rename = "A")]
    pub a: Point,
    #[serde(rename = "B")]
    pub b: Point,
    #[serde(with = "serde_scalar")]
    pub s: Scalar,
}

/// The transcript up to the coefficients; every statement point is checked not to be the
/// identity (as `validate_and_append_point` does for a single Chaum–Pedersen proof).
fn statement(
    x: &Point,
    us: &[Point],
    ys: &[Point],
    ctx: &[u8],
) -> Result<(Transcript, Vec<Scalar>), VerifyError> {
    if us.is_empty() || us.len() != ys.len() {
        return Err(VerifyError::ShapeMismatch("batched equality of logarithms"));
    }
    let mut t = proof_transcript(DOMAIN, ctx);
    t.validate_and_append_point(b"X", x)?;
    t.append_u64(b"n", us.len() as u64);
    for (u, y) in us.iter().zip(ys) {
        t.validate_and_append_point(b"U", u)?;
        t.validate_and_append_point(b"Y", y)?;
    }
    let mut seed = [0u8; 32];
    t.challenge_bytes(b"z", &mut seed);
    let z = expand_challenges(Z_DST, &seed, us.len());
    Ok((t, z))
}

impl DleqBatchProof {
    /// Proves `X = x·G` and `ys[k] = x·us[k]` for every `k` (the caller computed the `ys`).
    pub fn prove<R: RngCore + CryptoRng>(
        x: &SecretScalar,
        big_x: &Point,
        us: &[Point],
        ys: &[Point],
        ctx: &[u8],
        rng: &mut R,
    ) -> Result<Self, ParamError> {
        let (mut t, z) = statement(big_x, us, ys, ctx)
            .map_err(|_| ParamError::ShapeMismatch("a non-empty list of non-identity points"))?;
        let u = RistrettoPoint::vartime_multiscalar_mul(&z, us.iter().map(Point::point));
        let w = SecretScalar::random(rng);
        let a = Point::from_point(mul_g(w.expose()));
        let b = Point::from_point(w.expose() * u);
        t.append_point(b"A", &a);
        t.append_point(b"B", &b);
        let c = t.challenge_scalar(b"c");
        Ok(DleqBatchProof {
            a,
            b,
            s: w.expose() + c * x.expose(),
        })
    }

    fn challenge(
        &self,
        x: &Point,
        us: &[Point],
        ys: &[Point],
        ctx: &[u8],
    ) -> Result<(Scalar, Vec<Scalar>, Transcript), VerifyError> {
        let (mut t, z) = statement(x, us, ys, ctx)?;
        t.validate_and_append_point(b"A", &self.a)?;
        t.validate_and_append_point(b"B", &self.b)?;
        Ok((t.challenge_scalar(b"c"), z, t))
    }

    fn equations(
        &self,
        x: &Point,
        us: &[Point],
        ys: &[Point],
        z: &[Scalar],
        c: &Scalar,
        batch: &mut BatchVerifier,
    ) {
        let minus_one = -Scalar::ONE;
        batch
            .equation()
            .g(&self.s)
            .point(&minus_one, self.a.point())
            .point(&-c, x.point());
        batch.reserve(2 * us.len() + 1);
        let mut eq = batch.equation();
        eq.point(&minus_one, self.b.point());
        for ((u, y), z) in us.iter().zip(ys).zip(z) {
            eq.point(&(self.s * z), u.point());
            eq.point(&-(c * z), y.point());
        }
    }

    /// The coefficients `z_1 … z_n` and the challenge `c`, recomputed from the transcript
    /// (for comparing intermediate values with `specs/vectors/mix.json`).
    pub fn challenges(
        &self,
        x: &Point,
        us: &[Point],
        ys: &[Point],
        ctx: &[u8],
    ) -> Result<(Vec<Scalar>, Scalar), VerifyError> {
        let (c, z, _) = self.challenge(x, us, ys, ctx)?;
        Ok((z, c))
    }

    /// Adds this proof's two equations to `batch`.
    pub fn queue(
        &self,
        x: &Point,
        us: &[Point],
        ys: &[Point],
        ctx: &[u8],
        batch: &mut BatchVerifier,
    ) -> Result<(), VerifyError> {
        let (c, z, _) = self.challenge(x, us, ys, ctx)?;
        self.equations(x, us, ys, &z, &c, batch);
        Ok(())
    }

    pub fn verify(
        &self,
        x: &Point,
        us: &[Point],
        ys: &[Point],
        ctx: &[u8],
    ) -> Result<(), VerifyError> {
        let (c, z, mut t) = self.challenge(x, us, ys, ctx)?;
        t.append_scalar(b"s", &self.s);
        let mut batch = super::single_batch(&mut t);
        self.equations(x, us, ys, &z, &c, &mut batch);
        super::check(batch, "batched Chaum-Pedersen")
    }
}

impl Encode for DleqBatchProof {
    fn encode(&self, out: &mut Vec<u8>) {
        self.a.encode(out);
        self.b.encode(out);
        self.s.encode(out);
    }
}

impl Decode for DleqBatchProof {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DleqBatchProof {
            a: Point::from_wire(&r.array()?, "A")?,
            b: Point::from_wire(&r.array()?, "B")?,
            s: Scalar::decode(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn setup(n: u64) -> (SecretScalar, Point, Vec<Point>, Vec<Point>, ChaCha20Rng) {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let x = SecretScalar::random(&mut rng);
        let big_x = Point::from_point(mul_g(x.expose()));
        let us: Vec<Point> = (0..n)
            .map(|_| Point::from_point(mul_g(&Scalar::random(&mut rng))))
            .collect();
        let ys = us
            .iter()
            .map(|u| Point::from_point(x.expose() * u.point()))
            .collect();
        (x, big_x, us, ys, rng)
    }

    #[test]
    fn proves_and_binds_every_pair() {
        let (x, big_x, us, ys, mut rng) = setup(5);
        let p = DleqBatchProof::prove(&x, &big_x, &us, &ys, b"ctx", &mut rng).unwrap();
        assert_eq!(p.verify(&big_x, &us, &ys, b"ctx"), Ok(()));
        assert!(p.verify(&big_x, &us, &ys, b"other").is_err());
        assert!(p.verify(&big_x, &us[..4], &ys[..4], b"ctx").is_err());
        let mut wrong = ys.clone();
        wrong[3] = Point::from_point(wrong[3].point() + mul_g(&Scalar::ONE));
        assert!(p.verify(&big_x, &us, &wrong, b"ctx").is_err());
        // A prover that lies about one pair cannot make a proof for the list.
        let q = DleqBatchProof::prove(&x, &big_x, &us, &wrong, b"ctx", &mut rng).unwrap();
        assert!(q.verify(&big_x, &us, &wrong, b"ctx").is_err());
        assert_eq!(DleqBatchProof::from_bytes(&p.to_bytes()), Ok(p));
    }

    #[test]
    fn shapes_and_identities_are_refused() {
        let (x, big_x, us, ys, mut rng) = setup(2);
        assert!(DleqBatchProof::prove(&x, &big_x, &us, &ys[..1], b"", &mut rng).is_err());
        assert!(DleqBatchProof::prove(&x, &big_x, &[], &[], b"", &mut rng).is_err());
        let p = DleqBatchProof::prove(&x, &big_x, &us, &ys, b"", &mut rng).unwrap();
        let mut with_identity = ys.clone();
        with_identity[0] = Point::identity();
        assert_eq!(
            p.verify(&big_x, &us, &with_identity, b"")
                .map_err(|e| e.code()),
            Err("identity-commitment")
        );
    }
}
