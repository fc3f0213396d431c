//! Chaum–Pedersen proof of equality of discrete logs: `X = x·G` and `Y = x·U` for the same `x`.
//!
//! Used for partial decryptions (`U = α` of the tally, `X` the trustee's verification key,
//! `Y = D` the share) and for publicly proving a Diffie–Hellman value in a complaint.
//!
//! Transcript: `dom-sep = "chaum-pedersen-v1"`, `ctx`, `U`, `X`, `Y`, `A`, `B`; challenge `c`.
//! Proof: `A = w·G`, `B = w·U`, `s = w + c·x`.
//! Verification: `s·G = A + c·X` and `s·U = B + c·Y`.

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::batch::BatchVerifier;
use crate::codec::{Decode, Encode, Reader};
use crate::errors::{DecodeError, VerifyError};
use crate::group::{mul_g, serde_scalar, Point};
use crate::secret::SecretScalar;
use crate::transcript::{proof_transcript, TranscriptProtocol};

const DOMAIN: &[u8] = b"chaum-pedersen-v1";

/// The statement `(U, X, Y)`: `log_G X = log_U Y`.
#[derive(Clone, Copy, Debug)]
pub struct DleqStatement<'a> {
    pub u: &'a Point,
    pub x: &'a Point,
    pub y: &'a Point,
}

/// `(A, B, s)`: 96 bytes on the wire, `A ‖ B ‖ s`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChaumPedersenProof {
    #[serde(rename = "A")]
    pub a: Point,
    #[serde(rename = "B")]
    pub b: Point,
    #[serde(with = "serde_scalar")]
    pub s: Scalar,
}

fn statement_transcript(st: &DleqStatement<'_>, ctx: &[u8]) -> Result<Transcript, VerifyError> {
    let mut t = proof_transcript(DOMAIN, ctx);
    t.validate_and_append_point(b"U", st.u)?;
    t.validate_and_append_point(b"X", st.x)?;
    t.validate_and_append_point(b"Y", st.y)?;
    Ok(t)
}

impl ChaumPedersenProof {
    /// Proves `X = x·G ∧ Y = x·U`. The statement points must not be the identity (the proof
    /// would not verify).
    pub fn prove<R: RngCore + CryptoRng>(
        x: &SecretScalar,
        st: DleqStatement<'_>,
        ctx: &[u8],
        rng: &mut R,
    ) -> Self {
        let w = SecretScalar::random(rng);
        let a = Point::from_point(mul_g(w.expose()));
        let b = Point::from_point(w.expose() * st.u.point());
        let mut t = proof_transcript(DOMAIN, ctx);
        t.append_point(b"U", st.u);
        t.append_point(b"X", st.x);
        t.append_point(b"Y", st.y);
        t.append_point(b"A", &a);
        t.append_point(b"B", &b);
        let c = t.challenge_scalar(b"c");
        ChaumPedersenProof {
            a,
            b,
            s: w.expose() + c * x.expose(),
        }
    }

    fn challenge(
        &self,
        st: &DleqStatement<'_>,
        ctx: &[u8],
    ) -> Result<(Scalar, Transcript), VerifyError> {
        let mut t = statement_transcript(st, ctx)?;
        t.validate_and_append_point(b"A", &self.a)?;
        t.validate_and_append_point(b"B", &self.b)?;
        Ok((t.challenge_scalar(b"c"), t))
    }

    fn equations(&self, st: &DleqStatement<'_>, c: &Scalar, batch: &mut BatchVerifier) {
        // `A + c·X − s·G = 0` and `B + c·Y − s·U = 0`: the commitments' coefficient is the bare
        // 128-bit weight, whose zero upper digits the multiscalar multiplication skips (see
        // `DisjunctiveProof`'s equations).
        let one = Scalar::ONE;
        batch
            .equation()
            .g(&-self.s)
            .point(&one, self.a.point())
            .point(c, st.x.point());
        batch
            .equation()
            .fixed(&-self.s, st.u)
            .point(&one, self.b.point())
            .point(c, st.y.point());
    }

    pub fn queue(
        &self,
        st: DleqStatement<'_>,
        ctx: &[u8],
        batch: &mut BatchVerifier,
    ) -> Result<(), VerifyError> {
        let (c, _) = self.challenge(&st, ctx)?;
        self.equations(&st, &c, batch);
        Ok(())
    }

    pub fn verify(&self, st: DleqStatement<'_>, ctx: &[u8]) -> Result<(), VerifyError> {
        let (c, mut t) = self.challenge(&st, ctx)?;
        t.append_scalar(b"s", &self.s);
        let mut batch = super::single_batch(&mut t);
        self.equations(&st, &c, &mut batch);
        super::check(batch, "Chaum-Pedersen")
    }
}

impl Encode for ChaumPedersenProof {
    fn encode(&self, out: &mut Vec<u8>) {
        self.a.encode(out);
        self.b.encode(out);
        self.s.encode(out);
    }
}

impl Decode for ChaumPedersenProof {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ChaumPedersenProof {
            a: Point::decode_commitment(r, "A")?,
            b: Point::decode_commitment(r, "B")?,
            s: Scalar::decode(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn proves_and_rejects() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let x = SecretScalar::random(&mut rng);
        let u = Point::from_point(mul_g(&Scalar::from(99u64)));
        let big_x = Point::from_point(mul_g(x.expose()));
        let y = Point::from_point(x.expose() * u.point());
        let st = DleqStatement {
            u: &u,
            x: &big_x,
            y: &y,
        };
        let proof = ChaumPedersenProof::prove(&x, st, b"ctx", &mut rng);
        assert_eq!(proof.verify(st, b"ctx"), Ok(()));
        assert!(proof.verify(st, b"ctx2").is_err());
        // A wrong Y (e.g. a partial decryption with a wrong share) fails.
        let bad_y = Point::from_point(y.point() + mul_g(&Scalar::ONE));
        let bad = DleqStatement { y: &bad_y, ..st };
        assert!(proof.verify(bad, b"ctx").is_err());
        assert_eq!(ChaumPedersenProof::from_bytes(&proof.to_bytes()), Ok(proof));
    }
}
