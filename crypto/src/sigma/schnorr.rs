//! Schnorr proof of knowledge of `x` such that `X = x·G`.
//!
//! Transcript: `dom-sep = "schnorr-v1"`, `ctx`, `X`, `A`; challenge `c`.
//! Proof: `A = w·G`, `s = w + c·x`. Verification: `s·G = A + c·X`.

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

const DOMAIN: &[u8] = b"schnorr-v1";

/// `(A, s)`: 64 bytes on the wire, `A ‖ s`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchnorrProof {
    #[serde(rename = "A")]
    pub a: Point,
    #[serde(with = "serde_scalar")]
    pub s: Scalar,
}

impl SchnorrProof {
    pub fn prove<R: RngCore + CryptoRng>(
        x: &SecretScalar,
        big_x: &Point,
        ctx: &[u8],
        rng: &mut R,
    ) -> Self {
        let w = SecretScalar::random(rng);
        let a = Point::from_point(mul_g(w.expose()));
        let mut t = proof_transcript(DOMAIN, ctx);
        t.append_point(b"X", big_x);
        t.append_point(b"A", &a);
        let c = t.challenge_scalar(b"c");
        SchnorrProof {
            a,
            s: w.expose() + c * x.expose(),
        }
    }

    fn challenge(&self, big_x: &Point, ctx: &[u8]) -> Result<(Scalar, Transcript), VerifyError> {
        let mut t = proof_transcript(DOMAIN, ctx);
        t.validate_and_append_point(b"X", big_x)?;
        t.validate_and_append_point(b"A", &self.a)?;
        Ok((t.challenge_scalar(b"c"), t))
    }

    fn equations(&self, big_x: &Point, c: &Scalar, batch: &mut BatchVerifier) {
        batch
            .equation()
            .g(&self.s)
            .point(&-Scalar::ONE, self.a.point())
            .point(&-c, big_x.point());
    }

    /// Adds this proof's equation to `batch`.
    pub fn queue(
        &self,
        big_x: &Point,
        ctx: &[u8],
        batch: &mut BatchVerifier,
    ) -> Result<(), VerifyError> {
        let (c, _) = self.challenge(big_x, ctx)?;
        self.equations(big_x, &c, batch);
        Ok(())
    }

    pub fn verify(&self, big_x: &Point, ctx: &[u8]) -> Result<(), VerifyError> {
        let (c, mut t) = self.challenge(big_x, ctx)?;
        t.append_scalar(b"s", &self.s);
        let mut batch = super::single_batch(&mut t);
        self.equations(big_x, &c, &mut batch);
        super::check(batch, "Schnorr")
    }
}

impl Encode for SchnorrProof {
    fn encode(&self, out: &mut Vec<u8>) {
        self.a.encode(out);
        self.s.encode(out);
    }
}

impl Decode for SchnorrProof {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SchnorrProof {
            a: Point::from_wire(&r.array()?, "A")?,
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
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let x = SecretScalar::random(&mut rng);
        let big_x = Point::from_point(mul_g(x.expose()));
        let proof = SchnorrProof::prove(&x, &big_x, b"ctx", &mut rng);
        assert_eq!(proof.verify(&big_x, b"ctx"), Ok(()));
        assert_eq!(
            proof.verify(&big_x, b"other"),
            Err(VerifyError::ProofInvalid("Schnorr"))
        );
        let other = Point::from_point(mul_g(&Scalar::from(5u64)));
        assert!(proof.verify(&other, b"ctx").is_err());
        let bytes = proof.to_bytes();
        assert_eq!(bytes.len(), 64);
        assert_eq!(SchnorrProof::from_bytes(&bytes), Ok(proof));
    }
}
