//! Exponential ElGamal on ristretto255: `Enc(m; r) = (α, β) = (r·G, m·G + r·K)`.
//!
//! Additively homomorphic: `Enc(a; r) + Enc(b; s) = Enc(a + b; r + s)`. Decryption yields
//! `m·G`; [`crate::dlog`] recovers `m` for bounded totals.

use std::fmt;
use std::sync::Arc;

use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use rand_core::{CryptoRng, RngCore};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use subtle::{Choice, ConditionallySelectable};

use crate::codec::{Decode, Encode, Reader};
use crate::errors::DecodeError;
use crate::group::{g, mul_g, Point};
use crate::secret::SecretScalar;

/// An ElGamal public key `K` (never the identity) with a fixed-base table for fast encryption.
#[derive(Clone)]
pub struct PublicKey {
    point: Point,
    table: Arc<RistrettoBasepointTable>,
}

impl PublicKey {
    pub fn new(point: Point) -> Result<Self, DecodeError> {
        if point.is_identity() {
            return Err(DecodeError::IdentityPoint("K"));
        }
        let table = Arc::new(RistrettoBasepointTable::create(point.point()));
        Ok(PublicKey { point, table })
    }

    pub fn point(&self) -> &Point {
        &self.point
    }

    /// `s·K` in constant time using the precomputed table.
    pub fn mul(&self, s: &Scalar) -> RistrettoPoint {
        s * &*self.table
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.point == other.point
    }
}
impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({:?})", self.point)
    }
}

impl Encode for PublicKey {
    fn encode(&self, out: &mut Vec<u8>) {
        self.point.encode(out)
    }
}

impl Decode for PublicKey {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        PublicKey::new(Point::from_wire(&r.array()?, "K")?)
    }
}

impl Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.point.serialize(s)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        PublicKey::new(Point::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// An ElGamal secret key `k` with `K = k·G`.
#[derive(Clone, Debug)]
pub struct SecretKey(SecretScalar);

impl SecretKey {
    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        SecretKey(SecretScalar::random(rng))
    }

    pub fn from_scalar(s: SecretScalar) -> Self {
        SecretKey(s)
    }

    pub fn scalar(&self) -> &SecretScalar {
        &self.0
    }

    pub fn public_key(&self) -> Result<PublicKey, DecodeError> {
        PublicKey::new(Point::from_point(mul_g(self.0.expose())))
    }

    /// `β − k·α = m·G`.
    pub fn decrypt_to_point(&self, ct: &Ciphertext) -> RistrettoPoint {
        ct.beta.point() - self.0.expose() * ct.alpha.point()
    }
}

/// `m·G` for a *public* value (a decrypted total, a bound), avoiding a scalar multiplication for
/// the common 0 and 1. Variable time: never use it on a secret vote.
pub fn message_point(m: u64) -> RistrettoPoint {
    match m {
        0 => RistrettoPoint::identity(),
        1 => *g(),
        _ => mul_g(&Scalar::from(m)),
    }
}

/// An ElGamal ciphertext `(α, β)`. Encoded as `α ‖ β` (64 bytes); neither may be the identity
/// on the wire (an honest encryption has `r ≠ 0` with overwhelming probability).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ciphertext {
    pub alpha: Point,
    pub beta: Point,
}

impl Ciphertext {
    /// `Enc(m; r) = (r·G, m·G + r·K)`, in constant time with respect to `m` and `r`.
    pub fn encrypt(pk: &PublicKey, m: u64, r: &SecretScalar) -> Self {
        let alpha = mul_g(r.expose());
        let beta = mul_g(&Scalar::from(m)) + pk.mul(r.expose());
        Ciphertext::from_points(alpha, beta)
    }

    /// Plain (non-exponential) ElGamal of a point: `(r·G, M + r·K)`. For data embedded as
    /// points (`crate::embed`), which decrypt to `M` itself with no discrete logarithm; the
    /// identity is a valid `M` (the all-zero payload).
    pub fn encrypt_point(pk: &PublicKey, m: &RistrettoPoint, r: &SecretScalar) -> Self {
        Ciphertext::from_points(mul_g(r.expose()), m + pk.mul(r.expose()))
    }

    /// `Enc(b; r)` for a secret bit `b`, selecting `0` or `G` in constant time: a 0/1 selection
    /// costs two fixed-base multiplications instead of three.
    pub fn encrypt_bit(pk: &PublicKey, bit: Choice, r: &SecretScalar) -> Self {
        let alpha = mul_g(r.expose());
        let m = RistrettoPoint::conditional_select(&RistrettoPoint::identity(), g(), bit);
        Ciphertext::from_points(alpha, m + pk.mul(r.expose()))
    }

    /// Fresh randomness from `rng`; returns the nonce too (for proofs and Benaloh audits).
    pub fn encrypt_random<R: RngCore + CryptoRng>(
        pk: &PublicKey,
        m: u64,
        rng: &mut R,
    ) -> (Self, SecretScalar) {
        let r = SecretScalar::random(rng);
        (Self::encrypt(pk, m, &r), r)
    }

    pub fn from_points(alpha: RistrettoPoint, beta: RistrettoPoint) -> Self {
        Ciphertext {
            alpha: Point::from_point(alpha),
            beta: Point::from_point(beta),
        }
    }

    /// Homomorphic addition.
    pub fn add(&self, other: &Ciphertext) -> Ciphertext {
        Ciphertext::from_points(
            self.alpha.point() + other.alpha.point(),
            self.beta.point() + other.beta.point(),
        )
    }

    /// Homomorphic multiplication by a public weight.
    pub fn scale(&self, k: u64) -> Ciphertext {
        let k = Scalar::from(k);
        Ciphertext::from_points(k * self.alpha.point(), k * self.beta.point())
    }

    /// The sum of many ciphertexts, in parallel, compressing once at the end. The result may be
    /// the encryption of anything, including the identity pair for an empty input.
    pub fn sum(cts: &[Ciphertext]) -> (RistrettoPoint, RistrettoPoint) {
        cts.par_iter()
            .fold(
                || (RistrettoPoint::identity(), RistrettoPoint::identity()),
                |(a, b), ct| (a + ct.alpha.point(), b + ct.beta.point()),
            )
            .reduce(
                || (RistrettoPoint::identity(), RistrettoPoint::identity()),
                |(a1, b1), (a2, b2)| (a1 + a2, b1 + b2),
            )
    }

    /// Strict decoding of a field that may hold the identity in either component (a computed
    /// sum, such as an encrypted tally).
    pub fn decode_allow_identity(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Ciphertext {
            alpha: Point::decode_allow_identity(r)?,
            beta: Point::decode_allow_identity(r)?,
        })
    }
}

impl Encode for Ciphertext {
    fn encode(&self, out: &mut Vec<u8>) {
        self.alpha.encode(out);
        self.beta.encode(out);
    }
}

impl Decode for Ciphertext {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Ciphertext {
            alpha: Point::from_wire(&r.array()?, "alpha")?,
            beta: Point::from_wire(&r.array()?, "beta")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn encrypt_decrypt_add_scale() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sk = SecretKey::random(&mut rng);
        let pk = sk.public_key().unwrap();
        let (a, _) = Ciphertext::encrypt_random(&pk, 3, &mut rng);
        let (b, _) = Ciphertext::encrypt_random(&pk, 4, &mut rng);
        assert_eq!(sk.decrypt_to_point(&a.add(&b)), message_point(7));
        assert_eq!(sk.decrypt_to_point(&a.scale(5)), message_point(15));
        let (sa, sb) = Ciphertext::sum(&[a, b, a]);
        let sum = Ciphertext::from_points(sa, sb);
        assert_eq!(sk.decrypt_to_point(&sum), message_point(10));
        for bit in [0u8, 1] {
            let r = SecretScalar::random(&mut rng);
            let c = Ciphertext::encrypt_bit(&pk, Choice::from(bit), &r);
            assert_eq!(c, Ciphertext::encrypt(&pk, bit.into(), &r));
        }
    }

    #[test]
    fn wire_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let pk = SecretKey::random(&mut rng).public_key().unwrap();
        let (c, _) = Ciphertext::encrypt_random(&pk, 1, &mut rng);
        let bytes = c.to_bytes();
        assert_eq!(bytes.len(), 64);
        assert_eq!(Ciphertext::from_bytes(&bytes), Ok(c));
        let mut zero_alpha = bytes.clone();
        zero_alpha[..32].fill(0);
        assert_eq!(
            Ciphertext::from_bytes(&zero_alpha),
            Err(DecodeError::IdentityPoint("alpha"))
        );
    }
}
