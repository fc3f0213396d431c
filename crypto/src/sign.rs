//! Ed25519 signatures (RFC 8032) for ledger entries and voter credentials, verified strictly.
//!
//! Strict verification (`verify_strict`) rejects small-order public keys and non-canonical
//! `R`/`s` encodings, so a signature has one meaning for every verifier.

use std::fmt;

use ed25519_dalek::{Signer, SigningKey as DalekSigningKey, VerifyingKey as DalekVerifyingKey};
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::ZeroizeOnDrop;

use crate::codec::{Decode, Encode, Reader};
use crate::errors::{DecodeError, VerifyError};

/// An Ed25519 signing key (32-byte seed). Wiped on drop; `Debug` is redacted.
#[derive(Clone, ZeroizeOnDrop)]
pub struct SigningKey(DalekSigningKey);

impl SigningKey {
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        SigningKey(DalekSigningKey::generate(rng))
    }

    pub fn from_seed(seed: &[u8; 32]) -> Self {
        SigningKey(DalekSigningKey::from_bytes(seed))
    }

    /// The secret seed, for storage in an encrypted key file.
    pub fn seed(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.0.verifying_key())
    }

    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.0.sign(msg).to_bytes())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningKey(<redacted>, public {:?})",
            self.verifying_key()
        )
    }
}

/// An Ed25519 public key: 32 bytes, a valid curve point that is not of small order.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerifyingKey(DalekVerifyingKey);

impl VerifyingKey {
    pub fn from_wire(bytes: &[u8; 32]) -> Result<Self, DecodeError> {
        let k = DalekVerifyingKey::from_bytes(bytes).map_err(|_| DecodeError::InvalidPoint)?;
        // Edwards decompression accepts some non-canonical encodings (y ≥ p, or a sign bit on
        // x = 0); one key must have one encoding, because the encoding is hashed and signed.
        if k.to_edwards().compress().as_bytes() != bytes {
            return Err(DecodeError::InvalidPoint);
        }
        if k.is_weak() {
            return Err(DecodeError::Invalid("Ed25519 public key of small order"));
        }
        Ok(VerifyingKey(k))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), VerifyError> {
        let s = ed25519_dalek::Signature::from_bytes(&sig.0);
        self.0
            .verify_strict(msg, &s)
            .map_err(|_| VerifyError::BadSignature)
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({})", crate::hex::encode(self.as_bytes()))
    }
}

impl Encode for VerifyingKey {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl Decode for VerifyingKey {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::from_wire(&r.array()?)
    }
}

impl Serialize for VerifyingKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::hex::encode(self.as_bytes()))
    }
}

impl<'de> Deserialize<'de> for VerifyingKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let b = crate::hex::decode_array::<32>(&s).map_err(serde::de::Error::custom)?;
        VerifyingKey::from_wire(&b).map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 signature `R ‖ s` (64 bytes). Canonicity is checked at verification.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", crate::hex::encode(&self.0))
    }
}

impl Encode for Signature {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Signature {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Signature(r.array()?))
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Signature(
            crate::hex::decode_array::<64>(&s).map_err(serde::de::Error::custom)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn sign_verify_and_tamper() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let sk = SigningKey::generate(&mut rng);
        let vk = sk.verifying_key();
        let sig = sk.sign(b"entry");
        assert_eq!(vk.verify(b"entry", &sig), Ok(()));
        assert_eq!(vk.verify(b"entrY", &sig), Err(VerifyError::BadSignature));
        let vk2 = VerifyingKey::from_bytes(&vk.to_bytes()).unwrap();
        assert_eq!(vk2, vk);
    }

    #[test]
    fn non_canonical_keys_rejected() {
        // y = p + 2 (non-canonical encoding of y = 2 if that were on the curve) and
        // y = 1 with the sign bit set (x = 0 has no negative).
        let mut y_over_p = [0xffu8; 32];
        y_over_p[0] = 0xef;
        y_over_p[31] = 0x7f;
        assert!(VerifyingKey::from_wire(&y_over_p).is_err());
        let mut neg_zero = [0u8; 32];
        neg_zero[0] = 1;
        neg_zero[31] = 0x80;
        assert!(VerifyingKey::from_wire(&neg_zero).is_err());
    }

    #[test]
    fn weak_keys_rejected() {
        // The identity point encoding is of small order.
        let mut id = [0u8; 32];
        id[0] = 1;
        assert!(VerifyingKey::from_wire(&id).is_err());
    }
}
