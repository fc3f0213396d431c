//! Proof of knowledge of the plaintexts of a list of ElGamal ciphertexts, by knowledge of their
//! nonces: for `(α_k, β_k) = (r_k·G, M_k + r_k·K)`, `k = 1 … n`, the prover knows every `r_k`
//! (and so every `M_k = β_k − r_k·K`). One Schnorr proof of a random linear combination:
//!
//! Transcript: `dom-sep = "plaintext-knowledge-v1"`, `ctx`, `K`, `n`, each `alpha`, `beta`;
//! 32 bytes `z` expanded to `z_1 … z_n`; `A`; challenge `c`.
//! Proof: `A = w·G`, `s = w + c·Σ z_k·r_k`. Verification: `s·G = A + c·Σ z_k·α_k`.
//!
//! The `z_k` are drawn after every ciphertext is fixed, so a prover that does not know some
//! `r_k` cannot make the combination's discrete logarithm known; rewinding over `n` independent
//! `z` (and two `c` each) extracts every `r_k` (`specs/crypto.md` §13). A ciphertext copied
//! from someone else, re-randomised or not, therefore cannot be proven: this is what keeps a
//! ballot that is not proven well formed (a ranked row) from being copied.

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use crate::batch::BatchVerifier;
use crate::codec::{Decode, Encode, Reader};
use crate::elgamal::{Ciphertext, PublicKey};
use crate::errors::{DecodeError, ParamError, VerifyError};
use crate::group::{mul_g, serde_scalar, Point};
use crate::secret::SecretScalar;
use crate::transcript::{expand_challenges, proof_transcript, TranscriptProtocol};

const DOMAIN: &[u8] = b"plaintext-knowledge-v1";
/// Domain-separation prefix of the expansion of the combination's coefficients.
const Z_DST: &[u8] = b"urna-v1 plaintext-knowledge z";

/// `A ‖ s` (64 bytes), whatever the number of ciphertexts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaintextKnowledgeProof {
    #[serde(rename = "A")]
    pub a: Point,
    #[serde(with = "serde_scalar")]
    pub s: Scalar,
}

/// The transcript up to the coefficients `z_1 … z_n`.
fn statement(pk: &PublicKey, cts: &[Ciphertext], ctx: &[u8]) -> (Transcript, Vec<Scalar>) {
    let mut t = proof_transcript(DOMAIN, ctx);
    t.append_point(b"K", pk.point());
    t.append_u64(b"n", cts.len() as u64);
    for ct in cts {
        t.append_point(b"alpha", &ct.alpha);
        t.append_point(b"beta", &ct.beta);
    }
    let mut seed = [0u8; 32];
    t.challenge_bytes(b"z", &mut seed);
    let z = expand_challenges(Z_DST, &seed, cts.len());
    (t, z)
}

impl PlaintextKnowledgeProof {
    /// Proves knowledge of `nonces[k]` with `cts[k].alpha = nonces[k]·G` for every `k`. At
    /// least one ciphertext; the nonces are not re-checked (wrong ones give a proof that fails).
    pub fn prove<R: RngCore + CryptoRng>(
        pk: &PublicKey,
        cts: &[Ciphertext],
        nonces: &[SecretScalar],
        ctx: &[u8],
        rng: &mut R,
    ) -> Result<Self, ParamError> {
        if cts.is_empty() || cts.len() != nonces.len() {
            return Err(ParamError::ShapeMismatch("ciphertexts and nonces"));
        }
        let (mut t, z) = statement(pk, cts, ctx);
        let w = SecretScalar::random(rng);
        let a = Point::from_point(mul_g(w.expose()));
        t.append_point(b"A", &a);
        let c = t.challenge_scalar(b"c");
        let combined = SecretScalar::new(
            z.iter()
                .zip(nonces)
                .map(|(z, r)| z * r.expose())
                .sum::<Scalar>(),
        );
        Ok(PlaintextKnowledgeProof {
            a,
            s: w.expose() + c * combined.expose(),
        })
    }

    fn challenge(
        &self,
        pk: &PublicKey,
        cts: &[Ciphertext],
        ctx: &[u8],
    ) -> Result<(Scalar, Vec<Scalar>, Transcript), VerifyError> {
        if cts.is_empty() {
            return Err(VerifyError::ShapeMismatch(
                "plaintext knowledge: no ciphertext",
            ));
        }
        let (mut t, z) = statement(pk, cts, ctx);
        t.validate_and_append_point(b"A", &self.a)?;
        Ok((t.challenge_scalar(b"c"), z, t))
    }

    fn equations(&self, cts: &[Ciphertext], z: &[Scalar], c: &Scalar, batch: &mut BatchVerifier) {
        batch.reserve(cts.len() + 1);
        // `A + Σ c·zᵢ·αᵢ − s·G = 0`: the commitment's coefficient is the bare 128-bit weight (see
        // `DisjunctiveProof`'s equations).
        let mut eq = batch.equation();
        eq.g(&-self.s).point(&Scalar::ONE, self.a.point());
        for (ct, z) in cts.iter().zip(z) {
            eq.point(&(c * z), ct.alpha.point());
        }
    }

    /// The coefficients `z_1 … z_n` and the challenge `c`, recomputed from the transcript.
    /// Exposed so that a second implementation can compare its intermediate values
    /// (`specs/vectors/mix.json`).
    pub fn challenges(
        &self,
        pk: &PublicKey,
        cts: &[Ciphertext],
        ctx: &[u8],
    ) -> Result<(Vec<Scalar>, Scalar), VerifyError> {
        let (c, z, _) = self.challenge(pk, cts, ctx)?;
        Ok((z, c))
    }

    /// Adds this proof's equation to `batch`.
    pub fn queue(
        &self,
        pk: &PublicKey,
        cts: &[Ciphertext],
        ctx: &[u8],
        batch: &mut BatchVerifier,
    ) -> Result<(), VerifyError> {
        let (c, z, _) = self.challenge(pk, cts, ctx)?;
        self.equations(cts, &z, &c, batch);
        Ok(())
    }

    pub fn verify(
        &self,
        pk: &PublicKey,
        cts: &[Ciphertext],
        ctx: &[u8],
    ) -> Result<(), VerifyError> {
        let (c, z, mut t) = self.challenge(pk, cts, ctx)?;
        t.append_scalar(b"s", &self.s);
        let mut batch = super::single_batch(&mut t);
        self.equations(cts, &z, &c, &mut batch);
        super::check(batch, "plaintext knowledge")
    }
}

impl Encode for PlaintextKnowledgeProof {
    fn encode(&self, out: &mut Vec<u8>) {
        self.a.encode(out);
        self.s.encode(out);
    }
}

impl Decode for PlaintextKnowledgeProof {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(PlaintextKnowledgeProof {
            a: Point::decode_commitment(r, "A")?,
            s: Scalar::decode(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::SecretKey;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn setup(n: usize) -> (PublicKey, Vec<Ciphertext>, Vec<SecretScalar>, ChaCha20Rng) {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let pk = SecretKey::random(&mut rng).public_key().unwrap();
        let (cts, rs) = (0..n)
            .map(|m| Ciphertext::encrypt_random(&pk, m as u64, &mut rng))
            .unzip();
        (pk, cts, rs, rng)
    }

    #[test]
    fn proves_and_binds_context_and_every_ciphertext() {
        let (pk, cts, rs, mut rng) = setup(4);
        let p = PlaintextKnowledgeProof::prove(&pk, &cts, &rs, b"ctx", &mut rng).unwrap();
        assert_eq!(p.verify(&pk, &cts, b"ctx"), Ok(()));
        assert!(p.verify(&pk, &cts, b"other").is_err());
        assert!(p.verify(&pk, &cts[..3], b"ctx").is_err());
        let mut swapped = cts.clone();
        swapped.swap(0, 1);
        assert!(p.verify(&pk, &swapped, b"ctx").is_err());
        // β is bound too, though the proof is about the nonces.
        let mut shifted = cts.clone();
        shifted[2].beta = Point::from_point(shifted[2].beta.point() + mul_g(&Scalar::ONE));
        assert!(p.verify(&pk, &shifted, b"ctx").is_err());
        assert_eq!(p.to_bytes().len(), 64);
        assert_eq!(PlaintextKnowledgeProof::from_bytes(&p.to_bytes()), Ok(p));
    }

    #[test]
    fn a_copied_ciphertext_cannot_be_proven() {
        // The prover re-randomises someone else's ciphertext: it knows the added nonce only.
        let (pk, cts, rs, mut rng) = setup(3);
        let extra = SecretScalar::random(&mut rng);
        let mut mine = cts.clone();
        mine[1] = Ciphertext::from_points(
            mine[1].alpha.point() + mul_g(extra.expose()),
            mine[1].beta.point() + pk.mul(extra.expose()),
        );
        let guessed = vec![rs[0].clone(), extra, rs[2].clone()];
        let p = PlaintextKnowledgeProof::prove(&pk, &mine, &guessed, b"ctx", &mut rng).unwrap();
        assert!(p.verify(&pk, &mine, b"ctx").is_err());
    }

    #[test]
    fn shapes_are_refused() {
        let (pk, cts, rs, mut rng) = setup(2);
        assert!(PlaintextKnowledgeProof::prove(&pk, &cts, &rs[..1], b"", &mut rng).is_err());
        assert!(PlaintextKnowledgeProof::prove(&pk, &[], &[], b"", &mut rng).is_err());
        let p = PlaintextKnowledgeProof::prove(&pk, &cts, &rs, b"", &mut rng).unwrap();
        assert_eq!(
            p.verify(&pk, &[], b"").map_err(|e| e.code()),
            Err("shape-mismatch")
        );
    }
}
