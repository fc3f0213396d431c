//! Encryption of a key-ceremony share to its recipient, with a publicly checkable decryption.
//!
//! Dealer `i` encrypts share `s` for recipient `j` (ceremony key `E_j = x_j·G`) with a fresh
//! ephemeral key: `R = e·G`, Diffie–Hellman value `S = e·E_j = x_j·R`, and
//!
//! ```text
//! info = "urna-v1 share-enc" ‖ u16(len ctx) ‖ ctx ‖ u16(i) ‖ u16(j) ‖ R ‖ E_j
//! key  = HKDF-SHA-256(salt = empty, ikm = S, info = info), 32 bytes
//! box  = ChaCha20-Poly1305(key, nonce = 12 zero bytes, aad = info, plaintext = s)   // 48 bytes
//! ```
//!
//! A fixed nonce is safe because every key encrypts exactly one message: `R` is fresh per share
//! and bound into `info`.
//!
//! **Complaints.** If the share is bad (undecryptable, non-canonical, or not matching the
//! dealer's Feldman commitments), the recipient *reveals* `S` with a Chaum–Pedersen proof that
//! `log_G E_j = log_R S`. Anyone then derives the key, opens the box and checks the share, so the
//! complaint is decided publicly without trusting either party: a dealer who sent a bad share is
//! exposed, and a recipient who complains about a good share is exposed instead.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use curve25519_dalek::scalar::Scalar;
use hkdf::Hkdf;
use rand_core::{CryptoRng, RngCore};
use sha2::Sha256;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::codec::{Decode, Encode, Reader};
use crate::errors::{DecodeError, VerifyError};
use crate::group::{mul_g, scalar_from_wire, Point};
use crate::secret::SecretScalar;
use crate::sigma::{ChaumPedersenProof, DleqStatement};
use crate::threshold::verify_share;

/// Bytes of an encrypted share: a 32-byte scalar and a 16-byte tag.
pub const BOX_LEN: usize = 48;

/// `R ‖ box` (80 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedShare {
    pub ephemeral: Point,
    pub boxed: [u8; BOX_LEN],
}

/// `S ‖ ChaumPedersenProof` (128 bytes): a recipient's public proof of its Diffie–Hellman value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptionReveal {
    pub dh: Point,
    pub proof: ChaumPedersenProof,
}

/// Why a recipient could not obtain a valid share from its box.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShareError {
    #[error("the encrypted share does not decrypt (authentication failed)")]
    Undecryptable,
    #[error("the decrypted share is not a canonical scalar")]
    NonCanonical,
    #[error("the share does not match the dealer's commitments")]
    Mismatch,
}

/// The public decision on a complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComplaintVerdict {
    /// The share is bad: the dealer is at fault.
    Upheld,
    /// The share is good: the complaint is false.
    ShareValid,
    /// The reveal's proof does not verify: the complaint proves nothing.
    BadReveal(VerifyError),
}

fn info(ctx: &[u8], dealer: u16, recipient: u16, r: &Point, e: &Point) -> Vec<u8> {
    let mut v = Vec::with_capacity(17 + 2 + ctx.len() + 4 + 64);
    v.extend_from_slice(b"urna-v1 share-enc");
    // Contexts are short protocol strings; a longer one is truncated in the length only.
    v.extend_from_slice(&(ctx.len().min(u16::MAX as usize) as u16).to_be_bytes());
    v.extend_from_slice(ctx);
    v.extend_from_slice(&dealer.to_be_bytes());
    v.extend_from_slice(&recipient.to_be_bytes());
    v.extend_from_slice(r.as_bytes());
    v.extend_from_slice(e.as_bytes());
    v
}

fn cipher(dh: &Point, info: &[u8]) -> Option<ChaCha20Poly1305> {
    let hk = Hkdf::<Sha256>::new(None, dh.as_bytes());
    let mut key = Zeroizing::new([0u8; 32]);
    hk.expand(info, key.as_mut()).ok()?;
    ChaCha20Poly1305::new_from_slice(key.as_ref()).ok()
}

const NONCE: [u8; 12] = [0; 12];

/// Encrypts `share` from `dealer` to `recipient`, whose ceremony key is `recipient_key`.
pub fn encrypt_share<R: RngCore + CryptoRng>(
    share: &SecretScalar,
    recipient_key: &Point,
    dealer: u16,
    recipient: u16,
    ctx: &[u8],
    rng: &mut R,
) -> Result<EncryptedShare, VerifyError> {
    let e = SecretScalar::random(rng);
    let ephemeral = Point::from_point(mul_g(e.expose()));
    let dh = Point::from_point(e.expose() * recipient_key.point());
    let info = info(ctx, dealer, recipient, &ephemeral, recipient_key);
    let c = cipher(&dh, &info).ok_or(VerifyError::ShapeMismatch("share key"))?;
    let ct = c
        .encrypt(
            (&NONCE).into(),
            Payload {
                msg: share.expose().as_bytes(),
                aad: &info,
            },
        )
        .map_err(|_| VerifyError::ShapeMismatch("share encryption"))?;
    let boxed: [u8; BOX_LEN] = ct
        .try_into()
        .map_err(|_| VerifyError::ShapeMismatch("share box length"))?;
    Ok(EncryptedShare { ephemeral, boxed })
}

fn open(enc: &EncryptedShare, dh: &Point, info: &[u8]) -> Result<Scalar, ShareError> {
    let c = cipher(dh, info).ok_or(ShareError::Undecryptable)?;
    let pt = Zeroizing::new(
        c.decrypt(
            (&NONCE).into(),
            Payload {
                msg: &enc.boxed,
                aad: info,
            },
        )
        .map_err(|_| ShareError::Undecryptable)?,
    );
    let bytes: [u8; 32] = pt
        .as_slice()
        .try_into()
        .map_err(|_| ShareError::Undecryptable)?;
    scalar_from_wire(&bytes).map_err(|_| ShareError::NonCanonical)
}

/// The recipient decrypts its share and checks it against the dealer's commitments.
pub fn decrypt_share(
    enc: &EncryptedShare,
    recipient_secret: &SecretScalar,
    recipient_key: &Point,
    dealer_commitments: &[Point],
    dealer: u16,
    recipient: u16,
    ctx: &[u8],
) -> Result<SecretScalar, ShareError> {
    let dh = Point::from_point(recipient_secret.expose() * enc.ephemeral.point());
    let info = info(ctx, dealer, recipient, &enc.ephemeral, recipient_key);
    let s = SecretScalar::new(open(enc, &dh, &info)?);
    verify_share(s.expose(), recipient, dealer_commitments).map_err(|_| ShareError::Mismatch)?;
    Ok(s)
}

/// The recipient's public proof of its Diffie–Hellman value, for a complaint.
pub fn reveal<R: RngCore + CryptoRng>(
    enc: &EncryptedShare,
    recipient_secret: &SecretScalar,
    recipient_key: &Point,
    dealer: u16,
    recipient: u16,
    ctx: &[u8],
    rng: &mut R,
) -> DecryptionReveal {
    let dh = Point::from_point(recipient_secret.expose() * enc.ephemeral.point());
    let st = DleqStatement {
        u: &enc.ephemeral,
        x: recipient_key,
        y: &dh,
    };
    let info = info(ctx, dealer, recipient, &enc.ephemeral, recipient_key);
    let proof = ChaumPedersenProof::prove(recipient_secret, st, &info, rng);
    DecryptionReveal { dh, proof }
}

/// Decides a complaint publicly. The reveal's Chaum–Pedersen proof uses `info` (above) as its
/// context, so a reveal is bound to one share of one dealer to one recipient.
pub fn verify_complaint(
    enc: &EncryptedShare,
    reveal: &DecryptionReveal,
    recipient_key: &Point,
    dealer_commitments: &[Point],
    dealer: u16,
    recipient: u16,
    ctx: &[u8],
) -> ComplaintVerdict {
    let info = info(ctx, dealer, recipient, &enc.ephemeral, recipient_key);
    let st = DleqStatement {
        u: &enc.ephemeral,
        x: recipient_key,
        y: &reveal.dh,
    };
    if let Err(e) = reveal.proof.verify(st, &info) {
        return ComplaintVerdict::BadReveal(e);
    }
    match open(enc, &reveal.dh, &info) {
        Err(_) => ComplaintVerdict::Upheld,
        Ok(s) => match verify_share(&s, recipient, dealer_commitments) {
            Ok(()) => ComplaintVerdict::ShareValid,
            Err(_) => ComplaintVerdict::Upheld,
        },
    }
}

impl Encode for EncryptedShare {
    fn encode(&self, out: &mut Vec<u8>) {
        self.ephemeral.encode(out);
        out.extend_from_slice(&self.boxed);
    }
}

impl Decode for EncryptedShare {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(EncryptedShare {
            ephemeral: Point::from_wire(&r.array()?, "R")?,
            boxed: r.array()?,
        })
    }
}

impl Encode for DecryptionReveal {
    fn encode(&self, out: &mut Vec<u8>) {
        self.dh.encode(out);
        self.proof.encode(out);
    }
}

impl Decode for DecryptionReveal {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DecryptionReveal {
            dh: Point::from_wire(&r.array()?, "S")?,
            proof: ChaumPedersenProof::decode(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threshold::Polynomial;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    struct Setup {
        rng: ChaCha20Rng,
        poly: Polynomial,
        commitments: Vec<Point>,
        x: SecretScalar,
        e: Point,
    }

    fn setup() -> Setup {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let poly = Polynomial::random(2, &mut rng).unwrap();
        let commitments = poly.commitments();
        let x = SecretScalar::random(&mut rng);
        let e = Point::from_point(mul_g(x.expose()));
        Setup {
            rng,
            poly,
            commitments,
            x,
            e,
        }
    }

    #[test]
    fn honest_share_decrypts_and_false_complaint_is_rejected() {
        let mut s = setup();
        let share = s.poly.evaluate(2).unwrap();
        let enc = encrypt_share(&share, &s.e, 1, 2, b"ctx", &mut s.rng).unwrap();
        let got = decrypt_share(&enc, &s.x, &s.e, &s.commitments, 1, 2, b"ctx").unwrap();
        assert_eq!(got.expose(), share.expose());
        let rv = reveal(&enc, &s.x, &s.e, 1, 2, b"ctx", &mut s.rng);
        assert_eq!(
            verify_complaint(&enc, &rv, &s.e, &s.commitments, 1, 2, b"ctx"),
            ComplaintVerdict::ShareValid
        );
        assert_eq!(EncryptedShare::from_bytes(&enc.to_bytes()), Ok(enc));
        assert_eq!(DecryptionReveal::from_bytes(&rv.to_bytes()), Ok(rv));
    }

    #[test]
    fn bad_share_is_upheld() {
        let mut s = setup();
        let wrong = SecretScalar::new(s.poly.evaluate(2).unwrap().expose() + Scalar::ONE);
        let enc = encrypt_share(&wrong, &s.e, 1, 2, b"ctx", &mut s.rng).unwrap();
        assert_eq!(
            decrypt_share(&enc, &s.x, &s.e, &s.commitments, 1, 2, b"ctx").err(),
            Some(ShareError::Mismatch)
        );
        let rv = reveal(&enc, &s.x, &s.e, 1, 2, b"ctx", &mut s.rng);
        assert_eq!(
            verify_complaint(&enc, &rv, &s.e, &s.commitments, 1, 2, b"ctx"),
            ComplaintVerdict::Upheld
        );
        // Garbage in the box: undecryptable, also the dealer's fault.
        let mut garbled = enc.clone();
        garbled.boxed[0] ^= 1;
        let rv = reveal(&garbled, &s.x, &s.e, 1, 2, b"ctx", &mut s.rng);
        assert_eq!(
            verify_complaint(&garbled, &rv, &s.e, &s.commitments, 1, 2, b"ctx"),
            ComplaintVerdict::Upheld
        );
    }

    #[test]
    fn a_forged_reveal_proves_nothing() {
        let mut s = setup();
        let share = s.poly.evaluate(2).unwrap();
        let enc = encrypt_share(&share, &s.e, 1, 2, b"ctx", &mut s.rng).unwrap();
        // A recipient claiming a wrong DH value to make a good share look bad.
        let mut rv = reveal(&enc, &s.x, &s.e, 1, 2, b"ctx", &mut s.rng);
        rv.dh = Point::from_point(rv.dh.point() + mul_g(&Scalar::ONE));
        assert!(matches!(
            verify_complaint(&enc, &rv, &s.e, &s.commitments, 1, 2, b"ctx"),
            ComplaintVerdict::BadReveal(_)
        ));
        // A reveal is bound to its dealer, recipient and context.
        let rv = reveal(&enc, &s.x, &s.e, 1, 2, b"ctx", &mut s.rng);
        assert!(matches!(
            verify_complaint(&enc, &rv, &s.e, &s.commitments, 3, 2, b"ctx"),
            ComplaintVerdict::BadReveal(_)
        ));
    }
}
