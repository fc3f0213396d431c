//! ristretto255: validated group elements, strict scalar decoding, and the fixed generators.
//!
//! [`Point`] is a *validated* element: it can only be made by decompressing canonical bytes or
//! from an arithmetic result, and it keeps both forms so that each point is decompressed (and
//! compressed) at most once — decompression is half the cost of verifying a ballot.

use std::fmt;
use std::sync::LazyLock;

use curve25519_dalek::constants::{RISTRETTO_BASEPOINT_POINT, RISTRETTO_BASEPOINT_TABLE};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha512};

use crate::codec::{Decode, Encode, Reader};
use crate::errors::DecodeError;

/// Domain-separation prefix of every generator derivation (`specs/crypto.md`, "Generators").
const GENERATOR_DST: &[u8] = b"urna-v1 generator ";
/// Domain-separation prefix of every hash-to-scalar (`specs/crypto.md`, "Hash to scalar").
const HASH_TO_SCALAR_DST: &[u8] = b"urna-v1 hash-to-scalar ";

/// A validated ristretto255 element, holding its decompressed and canonical compressed forms.
#[derive(Clone, Copy)]
pub struct Point {
    point: RistrettoPoint,
    compressed: CompressedRistretto,
}

impl Point {
    /// Wraps an arithmetic result (compresses it once).
    pub fn from_point(point: RistrettoPoint) -> Self {
        Point {
            point,
            compressed: point.compress(),
        }
    }

    /// Pairs a point with an encoding computed elsewhere, e.g. by
    /// [`RistrettoPoint::double_and_compress_batch`], which shares one inversion among many
    /// points. The caller guarantees `compressed == point.compress()`.
    pub(crate) fn from_parts(point: RistrettoPoint, compressed: CompressedRistretto) -> Self {
        debug_assert_eq!(point.compress(), compressed);
        Point { point, compressed }
    }

    /// Strict decoding of a field that must not hold the identity (the default for urna fields).
    pub fn from_wire(bytes: &[u8; 32], field: &'static str) -> Result<Self, DecodeError> {
        let p = Self::from_wire_allow_identity(bytes)?;
        if p.is_identity() {
            return Err(DecodeError::IdentityPoint(field));
        }
        Ok(p)
    }

    /// A proof's commitment point: [`Point::from_wire`], except from a reader of proofs
    /// verified before ([`Reader::trusting_proofs`]), where only the encoding is kept — the
    /// element is left as the identity, not decompressed, so that such a proof never verifies.
    /// The identity's encoding is still refused, as by [`Point::from_wire`].
    pub fn decode_commitment(r: &mut Reader<'_>, field: &'static str) -> Result<Self, DecodeError> {
        let bytes = r.array()?;
        if !r.trusts_proofs() {
            return Self::from_wire(&bytes, field);
        }
        let compressed = CompressedRistretto(bytes);
        if compressed == CompressedRistretto::identity() {
            return Err(DecodeError::IdentityPoint(field));
        }
        Ok(Point {
            point: RistrettoPoint::identity(),
            compressed,
        })
    }

    /// Strict decoding of a field where the identity is a legitimate value.
    pub fn from_wire_allow_identity(bytes: &[u8; 32]) -> Result<Self, DecodeError> {
        let compressed = CompressedRistretto(*bytes);
        // `decompress` rejects every non-canonical encoding (RFC 9496 §4.3.1).
        let point = compressed.decompress().ok_or(DecodeError::InvalidPoint)?;
        Ok(Point { point, compressed })
    }

    pub fn identity() -> Self {
        Point {
            point: RistrettoPoint::identity(),
            compressed: CompressedRistretto::identity(),
        }
    }

    pub fn is_identity(&self) -> bool {
        self.compressed == CompressedRistretto::identity()
    }

    pub fn point(&self) -> &RistrettoPoint {
        &self.point
    }

    pub fn compressed(&self) -> &CompressedRistretto {
        &self.compressed
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        self.compressed.as_bytes()
    }

    /// Decodes a point that may be the identity (see the spec's identity table).
    pub fn decode_allow_identity(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::from_wire_allow_identity(&r.array()?)
    }
}

impl From<RistrettoPoint> for Point {
    fn from(p: RistrettoPoint) -> Self {
        Point::from_point(p)
    }
}

/// Canonical encodings are unique, so comparing them compares the points.
impl PartialEq for Point {
    fn eq(&self, other: &Self) -> bool {
        self.compressed == other.compressed
    }
}
impl Eq for Point {}

impl std::hash::Hash for Point {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.compressed.as_bytes().hash(state)
    }
}

impl fmt::Debug for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Point({})", crate::hex::encode(self.as_bytes()))
    }
}

impl Encode for Point {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

/// The default decoding rejects the identity; use [`Point::decode_allow_identity`] where the
/// spec allows it.
impl Decode for Point {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::from_wire(&r.array()?, "point")
    }
}

impl Serialize for Point {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::hex::encode(self.as_bytes()))
    }
}

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let b = crate::hex::decode_array::<32>(&s).map_err(serde::de::Error::custom)?;
        Point::from_wire_allow_identity(&b).map_err(serde::de::Error::custom)
    }
}

impl Encode for Scalar {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

/// Scalars are 32 little-endian bytes, canonical (strictly less than ℓ).
impl Decode for Scalar {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        scalar_from_wire(&r.array()?)
    }
}

/// Strict scalar decoding: rejects every encoding of a value ≥ ℓ.
pub fn scalar_from_wire(bytes: &[u8; 32]) -> Result<Scalar, DecodeError> {
    Option::from(Scalar::from_canonical_bytes(*bytes)).ok_or(DecodeError::NonCanonicalScalar)
}

/// Serde helpers for scalars as lowercase hex (used by test vectors and JSON views).
pub mod serde_scalar {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Scalar, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::hex::encode(v.as_bytes()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        let s = String::deserialize(d)?;
        let b = crate::hex::decode_array::<32>(&s).map_err(serde::de::Error::custom)?;
        scalar_from_wire(&b).map_err(serde::de::Error::custom)
    }
}

/// `G`, the ristretto255 basepoint: the message base of ElGamal and the value base of Pedersen
/// commitments.
pub fn g() -> &'static RistrettoPoint {
    &RISTRETTO_BASEPOINT_POINT
}

/// Fixed-base multiplication by `G` (constant time).
pub fn mul_g(s: &Scalar) -> RistrettoPoint {
    s * RISTRETTO_BASEPOINT_TABLE
}

/// A nothing-up-my-sleeve generator: `from_uniform_bytes(SHA-512("urna-v1 generator " ‖ label))`.
/// Nobody knows its discrete log with respect to `G`.
pub fn nums_generator(label: &[u8]) -> RistrettoPoint {
    let mut h = Sha512::new();
    h.update(GENERATOR_DST);
    h.update(label);
    let wide: [u8; 64] = h.finalize().into();
    RistrettoPoint::from_uniform_bytes(&wide)
}

/// `H`, the Pedersen blinding generator: `nums_generator("pedersen-blinding")`.
///
/// Never the election key: a quorum of trustees knows that key's discrete log and could then
/// open commitments to any value, i.e. forge range proofs.
pub fn h() -> &'static RistrettoPoint {
    static H: LazyLock<RistrettoPoint> = LazyLock::new(|| nums_generator(b"pedersen-blinding"));
    &H
}

/// A precomputed table for fixed-base multiplication by `H`.
pub fn h_table() -> &'static RistrettoBasepointTable {
    static T: LazyLock<RistrettoBasepointTable> =
        LazyLock::new(|| RistrettoBasepointTable::create(h()));
    &T
}

/// `SHA-512("urna-v1 hash-to-scalar " ‖ u16(len(label)) ‖ label ‖ data)` reduced mod ℓ.
pub fn hash_to_scalar(label: &[u8], data: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(HASH_TO_SCALAR_DST);
    // Labels are short constants; a longer one would be a programming error caught in tests.
    h.update((label.len() as u16).to_be_bytes());
    h.update(label);
    h.update(data);
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_canonical_scalar_rejected() {
        // ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let l = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        assert!(matches!(
            Scalar::from_bytes(&l),
            Err(DecodeError::NonCanonicalScalar)
        ));
        assert!(matches!(
            Scalar::from_bytes(&[0xff; 32]),
            Err(DecodeError::NonCanonicalScalar)
        ));
        assert!(Scalar::from_bytes(&[0u8; 32]).is_ok());
    }

    #[test]
    fn identity_rules() {
        assert!(matches!(
            Point::from_bytes(&[0u8; 32]),
            Err(DecodeError::IdentityPoint(_))
        ));
        assert!(Point::from_wire_allow_identity(&[0u8; 32]).is_ok_and(|p| p.is_identity()));
        // A non-canonical field element (p itself) is not a point encoding.
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert_eq!(Point::from_bytes(&p), Err(DecodeError::InvalidPoint));
        // Negative (odd) encodings are rejected too.
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(Point::from_bytes(&one), Err(DecodeError::InvalidPoint));
    }

    #[test]
    fn wrong_lengths_rejected() {
        let g = Point::from_point(*g()).to_bytes();
        assert!(matches!(
            Point::from_bytes(&g[..31]),
            Err(DecodeError::Truncated { .. })
        ));
        let mut long = g.clone();
        long.push(0);
        assert_eq!(Point::from_bytes(&long), Err(DecodeError::TrailingBytes(1)));
    }

    #[test]
    fn generators_are_distinct_and_stable() {
        assert_ne!(h(), g());
        assert_eq!(nums_generator(b"pedersen-blinding"), *h());
    }
}
