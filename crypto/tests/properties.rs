//! Property tests: algebraic identities and codec round trips.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_crypto::codec::{Decode, Encode};
use urna_crypto::elgamal::{message_point, Ciphertext, SecretKey};
use urna_crypto::errors::DecodeError;
use urna_crypto::group::{mul_g, Point};
use urna_crypto::secret::SecretScalar;
use urna_crypto::sigma::{ChaumPedersenProof, DisjunctiveProof, DleqStatement, SchnorrProof};
use urna_crypto::Scalar;

/// Every wire value decodes to itself, and any trailing byte is rejected.
fn round_trips<T: Encode + Decode + PartialEq + std::fmt::Debug>(v: &T) {
    let bytes = v.to_bytes();
    assert_eq!(T::from_bytes(&bytes).as_ref(), Ok(v));
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(T::from_bytes(&longer), Err(DecodeError::TrailingBytes(1)));
    if !bytes.is_empty() {
        assert!(T::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn decrypt_of_encrypt_is_the_message(seed: u64, m in 0u64..1 << 40) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let sk = SecretKey::random(&mut rng);
        let pk = sk.public_key().unwrap();
        let (ct, _) = Ciphertext::encrypt_random(&pk, m, &mut rng);
        prop_assert_eq!(sk.decrypt_to_point(&ct), message_point(m));
    }

    #[test]
    fn homomorphic_sums_and_weights(seed: u64, ms in prop::collection::vec((0u64..1000, 1u64..50), 1..20)) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let sk = SecretKey::random(&mut rng);
        let pk = sk.public_key().unwrap();
        let cts: Vec<Ciphertext> = ms
            .iter()
            .map(|(m, w)| Ciphertext::encrypt_random(&pk, *m, &mut rng).0.scale(*w))
            .collect();
        let (a, b) = Ciphertext::sum(&cts);
        let expected: u64 = ms.iter().map(|(m, w)| m * w).sum();
        prop_assert_eq!(sk.decrypt_to_point(&Ciphertext::from_points(a, b)), message_point(expected));
        let folded = cts[1..].iter().fold(cts[0], |acc, c| acc.add(c));
        prop_assert_eq!(sk.decrypt_to_point(&folded), message_point(expected));
    }

    #[test]
    fn codec_round_trips(seed: u64, m in 0u64..=3) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let sk = SecretKey::random(&mut rng);
        let pk = sk.public_key().unwrap();
        let (ct, r) = Ciphertext::encrypt_random(&pk, m, &mut rng);
        round_trips(&ct);
        round_trips(&ct.alpha);
        round_trips(r.expose());
        round_trips(&DisjunctiveProof::prove(&pk, &ct, m, &r, 3, b"c", &mut rng).unwrap());
        let x = SecretScalar::random(&mut rng);
        let big_x = Point::from_point(mul_g(x.expose()));
        round_trips(&SchnorrProof::prove(&x, &big_x, b"c", &mut rng));
        let y = Point::from_point(x.expose() * ct.alpha.point());
        let st = DleqStatement { u: &ct.alpha, x: &big_x, y: &y };
        round_trips(&ChaumPedersenProof::prove(&x, st, b"c", &mut rng));
        let sig_key = urna_crypto::sign::SigningKey::generate(&mut rng);
        let vk = sig_key.verifying_key();
        round_trips(&vk);
        round_trips(&sig_key.sign(b"m"));
    }

    #[test]
    fn scalar_decoding_is_strict(bytes: [u8; 32]) {
        let canonical = Scalar::from_bytes_mod_order(bytes).to_bytes() == bytes;
        prop_assert_eq!(Scalar::from_bytes(&bytes).is_ok(), canonical);
    }

    #[test]
    fn point_decoding_accepts_only_canonical_encodings(bytes: [u8; 32]) {
        if let Ok(p) = Point::from_bytes(&bytes) {
            prop_assert_eq!(p.as_bytes(), &bytes);
        }
    }
}

/// All `t`-element subsets of `1..=n`.
fn subsets(n: u64, t: usize) -> Vec<Vec<u64>> {
    let mut out = Vec::new();
    for mask in 0u32..(1 << n) {
        if mask.count_ones() as usize == t {
            out.push((1..=n).filter(|i| mask & (1 << (i - 1)) != 0).collect());
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn lagrange_over_every_t_subset_reconstructs(seed: u64, t in 1usize..=5) {
        use urna_crypto::threshold::{reconstruct, Polynomial};
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let p = Polynomial::random(t, &mut rng).unwrap();
        let secret_point = p.commitments()[0];
        let shares: Vec<(u64, Scalar)> = (1..=5u16)
            .map(|j| (u64::from(j), *p.evaluate(j).unwrap().expose()))
            .collect();
        for subset in subsets(5, t) {
            let chosen: Vec<(u64, Scalar)> = subset.iter().map(|&i| shares[(i - 1) as usize]).collect();
            let s = reconstruct(&chosen).unwrap();
            prop_assert_eq!(Point::from_point(mul_g(&s)), secret_point);
        }
        // Fewer than t shares do not determine the secret.
        if t > 1 {
            let s = reconstruct(&shares[..t - 1]).unwrap();
            prop_assert_ne!(Point::from_point(mul_g(&s)), secret_point);
        }
    }

    #[test]
    fn joint_key_matches_every_t_subset_of_a_dkg(seed: u64) {
        use urna_crypto::threshold::{deal_in_memory, lagrange_at_zero};
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let (joint, keys) = deal_in_memory(3, 5, &mut rng).unwrap();
        for subset in subsets(5, 3) {
            let l = lagrange_at_zero(&subset).unwrap();
            let k: Scalar = subset.iter().zip(&l).map(|(i, l)| keys[(*i - 1) as usize].0.expose() * l).sum();
            prop_assert_eq!(Point::from_point(mul_g(&k)), joint);
        }
        for (j, (s, vk)) in keys.iter().enumerate() {
            prop_assert_eq!(Point::from_point(mul_g(s.expose())), *vk, "VK_{}", j + 1);
        }
    }
}
