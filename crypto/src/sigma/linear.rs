//! Linear-relation proof linking an ElGamal ciphertext to a Pedersen commitment of the same
//! value: knowledge of `(v, r, γ)` with `α = r·G`, `β = v·G + r·K`, `V = v·G + γ·H`.
//!
//! Transcript: `dom-sep = "linear-v1"`, `ctx`, `K`, `alpha`, `beta`, `V`, `A1`, `A2`, `A3`;
//! challenge `c`.
//! Proof: `A1 = w_r·G`, `A2 = w_v·G + w_r·K`, `A3 = w_v·G + w_γ·H`;
//! `s_v = w_v + c·v`, `s_r = w_r + c·r`, `s_γ = w_γ + c·γ`.
//! Verification: `s_r·G = A1 + c·α`, `s_v·G + s_r·K = A2 + c·β`, `s_v·G + s_γ·H = A3 + c·V`.

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::batch::BatchVerifier;
use crate::codec::{Decode, Encode, Reader};
use crate::elgamal::{Ciphertext, PublicKey};
use crate::errors::{DecodeError, VerifyError};
use crate::group::{h_table, mul_g, serde_scalar, Point};
use crate::secret::SecretScalar;
use crate::transcript::{proof_transcript, TranscriptProtocol};

const DOMAIN: &[u8] = b"linear-v1";

/// `A1 ‖ A2 ‖ A3 ‖ s_v ‖ s_r ‖ s_γ` (192 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinearProof {
    #[serde(rename = "A1")]
    pub a1: Point,
    #[serde(rename = "A2")]
    pub a2: Point,
    #[serde(rename = "A3")]
    pub a3: Point,
    #[serde(with = "serde_scalar")]
    pub s_v: Scalar,
    #[serde(with = "serde_scalar")]
    pub s_r: Scalar,
    #[serde(with = "serde_scalar")]
    pub s_gamma: Scalar,
}

fn statement(pk: &PublicKey, ct: &Ciphertext, v: &Point, ctx: &[u8]) -> Transcript {
    let mut t = proof_transcript(DOMAIN, ctx);
    t.append_point(b"K", pk.point());
    t.append_point(b"alpha", &ct.alpha);
    t.append_point(b"beta", &ct.beta);
    t.append_point(b"V", v);
    t
}

impl LinearProof {
    /// Proves that `ct = Enc(v; r)` and `commitment = v·G + γ·H` hold the same `v`.
    #[allow(clippy::too_many_arguments)]
    pub fn prove<R: RngCore + CryptoRng>(
        pk: &PublicKey,
        ct: &Ciphertext,
        commitment: &Point,
        v: &SecretScalar,
        r: &SecretScalar,
        gamma: &SecretScalar,
        ctx: &[u8],
        rng: &mut R,
    ) -> Self {
        let (wv, wr, wg) = (
            SecretScalar::random(rng),
            SecretScalar::random(rng),
            SecretScalar::random(rng),
        );
        let wv_g = mul_g(wv.expose());
        let a1 = Point::from_point(mul_g(wr.expose()));
        let a2 = Point::from_point(wv_g + pk.mul(wr.expose()));
        let a3 = Point::from_point(wv_g + wg.expose() * h_table());
        let mut t = statement(pk, ct, commitment, ctx);
        t.append_point(b"A1", &a1);
        t.append_point(b"A2", &a2);
        t.append_point(b"A3", &a3);
        let c = t.challenge_scalar(b"c");
        LinearProof {
            a1,
            a2,
            a3,
            s_v: wv.expose() + c * v.expose(),
            s_r: wr.expose() + c * r.expose(),
            s_gamma: wg.expose() + c * gamma.expose(),
        }
    }

    fn challenge(
        &self,
        pk: &PublicKey,
        ct: &Ciphertext,
        v: &Point,
        ctx: &[u8],
    ) -> Result<(Scalar, Transcript), VerifyError> {
        let mut t = statement(pk, ct, v, ctx);
        t.validate_and_append_point(b"A1", &self.a1)?;
        t.validate_and_append_point(b"A2", &self.a2)?;
        t.validate_and_append_point(b"A3", &self.a3)?;
        Ok((t.challenge_scalar(b"c"), t))
    }

    fn equations(
        &self,
        pk: &PublicKey,
        ct: &Ciphertext,
        v: &Point,
        c: &Scalar,
        b: &mut BatchVerifier,
    ) {
        let m1 = -Scalar::ONE;
        b.equation()
            .g(&self.s_r)
            .point(&m1, self.a1.point())
            .point(&-c, ct.alpha.point());
        b.equation()
            .g(&self.s_v)
            .fixed(&self.s_r, pk.point())
            .point(&m1, self.a2.point())
            .point(&-c, ct.beta.point());
        b.equation()
            .g(&self.s_v)
            .h(&self.s_gamma)
            .point(&m1, self.a3.point())
            .point(&-c, v.point());
    }

    pub fn queue(
        &self,
        pk: &PublicKey,
        ct: &Ciphertext,
        commitment: &Point,
        ctx: &[u8],
        batch: &mut BatchVerifier,
    ) -> Result<(), VerifyError> {
        let (c, _) = self.challenge(pk, ct, commitment, ctx)?;
        self.equations(pk, ct, commitment, &c, batch);
        Ok(())
    }

    pub fn verify(
        &self,
        pk: &PublicKey,
        ct: &Ciphertext,
        commitment: &Point,
        ctx: &[u8],
    ) -> Result<(), VerifyError> {
        let (c, mut t) = self.challenge(pk, ct, commitment, ctx)?;
        t.append_scalar(b"s", &self.s_v);
        t.append_scalar(b"s", &self.s_r);
        t.append_scalar(b"s", &self.s_gamma);
        let mut batch = super::single_batch(&mut t);
        self.equations(pk, ct, commitment, &c, &mut batch);
        super::check(batch, "linear relation")
    }
}

impl Encode for LinearProof {
    fn encode(&self, out: &mut Vec<u8>) {
        self.a1.encode(out);
        self.a2.encode(out);
        self.a3.encode(out);
        self.s_v.encode(out);
        self.s_r.encode(out);
        self.s_gamma.encode(out);
    }
}

impl Decode for LinearProof {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(LinearProof {
            a1: Point::from_wire(&r.array()?, "A1")?,
            a2: Point::from_wire(&r.array()?, "A2")?,
            a3: Point::from_wire(&r.array()?, "A3")?,
            s_v: Scalar::decode(r)?,
            s_r: Scalar::decode(r)?,
            s_gamma: Scalar::decode(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::SecretKey;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn links_and_rejects() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let pk = SecretKey::random(&mut rng).public_key().unwrap();
        let v = SecretScalar::new(Scalar::from(7u64));
        let r = SecretScalar::random(&mut rng);
        let gamma = SecretScalar::random(&mut rng);
        let ct = Ciphertext::encrypt(&pk, 7, &r);
        let com = Point::from_point(mul_g(v.expose()) + gamma.expose() * crate::group::h());
        let p = LinearProof::prove(&pk, &ct, &com, &v, &r, &gamma, b"ctx", &mut rng);
        assert_eq!(p.verify(&pk, &ct, &com, b"ctx"), Ok(()));
        assert!(p.verify(&pk, &ct, &com, b"other").is_err());
        // A commitment to another value does not link.
        let other =
            Point::from_point(mul_g(&Scalar::from(8u64)) + gamma.expose() * crate::group::h());
        let q = LinearProof::prove(&pk, &ct, &other, &v, &r, &gamma, b"ctx", &mut rng);
        assert!(q.verify(&pk, &ct, &other, b"ctx").is_err());
        assert_eq!(LinearProof::from_bytes(&p.to_bytes()), Ok(p));
    }
}
