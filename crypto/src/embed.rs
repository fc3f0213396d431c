//! Bytes as group elements: an invertible embedding of 30-byte strings into ristretto255, for
//! plaintexts that are data rather than small numbers (a ranking, a write-in's text), encrypted
//! with plain ElGamal `(r·G, M + r·K)` instead of exponential ElGamal, whose decryption would
//! need a discrete logarithm (`specs/crypto.md` §15).
//!
//! Try and increment on the encoding: for `j = 0, 1, …, 127` the 32 bytes
//! `2j ‖ payload ‖ 0x00` are tried as a ristretto255 encoding; the first that decodes is the
//! point. Byte 0 carries the counter in its upper seven bits (its lowest bit must be 0 for a
//! non-negative field element), byte 31 is 0 (so the field element is below `2^248 < p`), and
//! bytes 1–30 are the payload, which therefore reads straight off the point's encoding.
//!
//! About a quarter of such strings decode (`ℓ ≈ 2^252` points against `2^254` non-negative
//! field elements), so a payload fails all 128 counters with probability `(3/4)^128 ≈ 2^-53`:
//! [`embed`] reports it, and never returns another payload's point.
//!
//! A point is a *valid embedding* only if it is the point [`embed`] gives for its own payload:
//! byte 31 is 0 and no smaller counter decodes. [`extract`] enforces this, so each payload has
//! exactly one point and a sender cannot mark a plaintext by choosing a later counter.

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};

use crate::errors::ParamError;

/// Payload bytes carried by one point.
pub const EMBED_BYTES: usize = 30;

/// Counters tried before giving up.
pub const EMBED_TRIES: usize = 128;

fn candidate(j: usize, payload: &[u8; EMBED_BYTES]) -> CompressedRistretto {
    let mut enc = [0u8; 32];
    // j < 128, so 2j fits a byte and its lowest bit is 0.
    enc[0] = (2 * j) as u8;
    enc[1..=EMBED_BYTES].copy_from_slice(payload);
    CompressedRistretto(enc)
}

/// The point that carries `payload`: the first counter whose candidate encoding decodes.
/// Fails (`unsupported`) with probability about `2^-53` for a payload no counter embeds.
pub fn embed(payload: &[u8; EMBED_BYTES]) -> Result<RistrettoPoint, ParamError> {
    (0..EMBED_TRIES)
        .find_map(|j| candidate(j, payload).decompress())
        .ok_or(ParamError::Unsupported(
            "no counter embeds these bytes (probability about 2^-53)",
        ))
}

/// The payload of a valid embedding (bytes 1–30 of its encoding), or `None` if `encoding` is
/// not the point [`embed`] gives for those bytes: byte 31 is not 0, or a smaller counter
/// already decodes. The encoding must be a point's canonical encoding (as it is when taken
/// from a decrypted point); other bytes are not checked to decode.
pub fn extract(encoding: &[u8; 32]) -> Option<[u8; EMBED_BYTES]> {
    if encoding[31] != 0 || encoding[0] % 2 != 0 {
        return None;
    }
    let mut payload = [0u8; EMBED_BYTES];
    payload.copy_from_slice(&encoding[1..=EMBED_BYTES]);
    let j = usize::from(encoding[0] / 2);
    if (0..j).any(|earlier| candidate(earlier, &payload).decompress().is_some()) {
        return None;
    }
    Some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::traits::Identity;
    use rand::{RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn payloads_round_trip_and_read_off_the_encoding() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut counters = [0usize; 8];
        for _ in 0..400 {
            let mut payload = [0u8; EMBED_BYTES];
            rng.fill_bytes(&mut payload);
            let p = embed(&payload).unwrap();
            let enc = p.compress().to_bytes();
            assert_eq!(&enc[1..31], &payload);
            assert_eq!(extract(&enc), Some(payload));
            counters[usize::from(enc[0] / 2).min(7)] += 1;
        }
        // About a quarter of candidates decode: the first counter wins about 100 times in 400.
        assert!((60..140).contains(&counters[0]), "{counters:?}");
    }

    #[test]
    fn the_zero_payload_is_the_identity() {
        let p = embed(&[0; EMBED_BYTES]).unwrap();
        assert_eq!(p, RistrettoPoint::identity());
        assert_eq!(extract(&[0; 32]), Some([0; EMBED_BYTES]));
    }

    #[test]
    fn only_the_first_counter_is_a_valid_embedding() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mut later_found = false;
        for _ in 0..50 {
            let mut payload = [0u8; EMBED_BYTES];
            rng.fill_bytes(&mut payload);
            let first = embed(&payload).unwrap().compress().to_bytes();
            let j0 = usize::from(first[0] / 2);
            // Another counter that also decodes carries the same payload but is refused.
            if let Some(later) =
                (j0 + 1..EMBED_TRIES).find_map(|j| candidate(j, &payload).decompress())
            {
                let enc = later.compress().to_bytes();
                assert_eq!(&enc[1..31], &payload);
                assert_eq!(extract(&enc), None);
                later_found = true;
            }
        }
        assert!(later_found);
        // A point that is no embedding at all: byte 31 is not zero.
        let g = curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
        assert_eq!(extract(&g.compress().to_bytes()), None);
    }
}
