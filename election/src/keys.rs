//! Which Ed25519 keys the election registers.
//!
//! crypto's [`VerifyingKey`] already refuses, when decoded, an encoding that is not canonical or
//! a key of small order (crypto §10): such bytes are not a key at all, and an entry or manifest
//! carrying them is `malformed`. The election is stricter with the keys it *registers* — the
//! role, trustee and witness keys of the manifest and the credentials of the roll: they must have
//! prime order, with no small-order component. Honest key generation only ever yields such keys;
//! a key with a torsion component can only have been made on purpose, and those are the keys on
//! which Ed25519 implementations disagree (cofactored or cofactorless equations, single or batch
//! verification). Every role then rests on keys all implementations treat alike, for one scalar
//! multiplication per registered key (`specs/election.md` §3).

use curve25519_dalek::edwards::CompressedEdwardsY;
use urna_crypto::sign::VerifyingKey;

/// Whether the key's point lies in the prime-order subgroup: `ℓ·A = 0`.
pub fn is_prime_order(key: &VerifyingKey) -> bool {
    CompressedEdwardsY(*key.as_bytes())
        .decompress()
        .is_some_and(|p| p.is_torsion_free())
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;
    use rand::SeedableRng;
    use urna_crypto::sign::SigningKey;

    #[test]
    fn honest_keys_have_prime_order_and_a_torsion_component_is_caught() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let key = SigningKey::generate(&mut rng).verifying_key();
        assert!(is_prime_order(&key));
        let a = CompressedEdwardsY(*key.as_bytes()).decompress().unwrap();
        let mixed = (a + EIGHT_TORSION[1]).compress().to_bytes();
        // A canonical key that is not of small order, so crypto's decoding accepts it.
        let mixed = VerifyingKey::from_wire(&mixed).unwrap();
        assert!(!is_prime_order(&mixed));
    }
}
