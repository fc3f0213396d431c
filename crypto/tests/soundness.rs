//! Soundness negatives: a cheating prover must be caught. Each test names the attack.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_crypto::batch::{verify_all_vartime, BatchVerifier};
use urna_crypto::codec::{Decode, Encode};
use urna_crypto::elgamal::{Ciphertext, PublicKey, SecretKey};
use urna_crypto::errors::VerifyError;
use urna_crypto::group::{mul_g, Point};
use urna_crypto::secret::SecretScalar;
use urna_crypto::sigma::{ChaumPedersenProof, DisjunctiveProof, DleqStatement, SchnorrProof};
use urna_crypto::Scalar;

fn setup(seed: u64) -> (ChaCha20Rng, PublicKey) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let pk = SecretKey::random(&mut rng).public_key().unwrap();
    (rng, pk)
}

/// The best a prover without a true branch can do: simulate every branch of the 0/1 proof for
/// an encryption of 2 (simulation needs no transcript: the branch challenges are chosen first).
fn forged_zero_one_proof(
    pk: &PublicKey,
    r: &Scalar,
    m: u64,
    rng: &mut ChaCha20Rng,
) -> DisjunctiveProof {
    let mut branches = Vec::new();
    let mut cs = Vec::new();
    for j in 0..=1u64 {
        let cj = Scalar::random(rng);
        let sj = Scalar::random(rng);
        let tj = sj - cj * r;
        let a = Point::from_point(mul_g(&tj));
        let b = Point::from_point(pk.mul(&tj) + mul_g(&(cj * (Scalar::from(j) - Scalar::from(m)))));
        cs.push(cj);
        branches.push(urna_crypto::sigma::Branch { a, b, s: sj });
    }
    // The verifier derives c₁ = c − c₀ from the transcript; it differs from the c₁ used to
    // simulate branch 1 unless the prover predicted the hash.
    DisjunctiveProof {
        branches,
        challenges: vec![cs[0]],
    }
}

#[test]
fn zero_one_proof_for_two_does_not_verify() {
    let (mut rng, pk) = setup(1);
    let r = SecretScalar::random(&mut rng);
    let ct = Ciphertext::encrypt(&pk, 2, &r);
    // The honest prover refuses outright.
    assert!(DisjunctiveProof::prove(&pk, &ct, 2, &r, 1, b"ctx", &mut rng).is_err());
    // A simulating prover is caught.
    let forged = forged_zero_one_proof(&pk, r.expose(), 2, &mut rng);
    assert_eq!(
        forged.verify(&pk, &ct, 1, b"ctx"),
        Err(VerifyError::ProofInvalid("disjunctive Chaum-Pedersen"))
    );
    // A valid proof for Enc(1) does not carry over to Enc(1) + Enc(1) = Enc(2).
    let (one, r1) = Ciphertext::encrypt_random(&pk, 1, &mut rng);
    let p = DisjunctiveProof::prove(&pk, &one, 1, &r1, 1, b"ctx", &mut rng).unwrap();
    assert!(p.verify(&pk, &one.add(&one), 1, b"ctx").is_err());
    // A proof for [0, 2] does not pass as a [0, 1] proof.
    let p2 = DisjunctiveProof::prove(&pk, &ct, 2, &r, 2, b"ctx", &mut rng).unwrap();
    assert_eq!(p2.verify(&pk, &ct, 2, b"ctx"), Ok(()));
    assert_eq!(
        p2.verify(&pk, &ct, 1, b"ctx"),
        Err(VerifyError::ShapeMismatch("disjunctive proof"))
    );
}

#[test]
fn proof_reused_under_another_context_fails() {
    let (mut rng, pk) = setup(2);
    let (ct, r) = Ciphertext::encrypt_random(&pk, 1, &mut rng);
    let ctx_a = b"election A | credential 1";
    let p = DisjunctiveProof::prove(&pk, &ct, 1, &r, 1, ctx_a, &mut rng).unwrap();
    assert_eq!(p.verify(&pk, &ct, 1, ctx_a), Ok(()));
    for other in [
        &b"election B | credential 1"[..],
        b"election A | credential 2",
        b"",
    ] {
        assert!(p.verify(&pk, &ct, 1, other).is_err());
    }
    // Under another election key the statement differs too.
    let (_, pk2) = setup(3);
    assert!(p.verify(&pk2, &ct, 1, ctx_a).is_err());

    let x = SecretScalar::random(&mut rng);
    let big_x = Point::from_point(mul_g(x.expose()));
    let s = SchnorrProof::prove(&x, &big_x, ctx_a, &mut rng);
    assert!(s.verify(&big_x, b"election B | credential 1").is_err());
}

#[test]
fn swapped_ciphertext_components_fail() {
    let (mut rng, pk) = setup(4);
    for m in 0..=1 {
        let (ct, r) = Ciphertext::encrypt_random(&pk, m, &mut rng);
        let p = DisjunctiveProof::prove(&pk, &ct, m, &r, 1, b"ctx", &mut rng).unwrap();
        let swapped = Ciphertext {
            alpha: ct.beta,
            beta: ct.alpha,
        };
        assert!(p.verify(&pk, &swapped, 1, b"ctx").is_err());
    }
}

#[test]
fn every_tampered_field_is_caught() {
    let (mut rng, pk) = setup(5);
    let (ct, r) = Ciphertext::encrypt_random(&pk, 1, &mut rng);
    let p = DisjunctiveProof::prove(&pk, &ct, 1, &r, 1, b"ctx", &mut rng).unwrap();
    let bytes = p.to_bytes();
    // Flip one bit in every byte after the count: each is either undecodable or invalid.
    for i in 1..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        if let Ok(q) = DisjunctiveProof::from_bytes(&b) {
            assert!(
                q.verify(&pk, &ct, 1, b"ctx").is_err(),
                "bit flip at byte {i}"
            );
        }
    }
}

#[test]
fn batch_with_one_bad_proof_fails_and_fallback_finds_it() {
    let (mut rng, pk) = setup(6);
    let mut items: Vec<(Ciphertext, DisjunctiveProof)> = (0..40)
        .map(|i| {
            let m = i % 2;
            let (ct, r) = Ciphertext::encrypt_random(&pk, m, &mut rng);
            let p = DisjunctiveProof::prove(&pk, &ct, m, &r, 1, b"ctx", &mut rng).unwrap();
            (ct, p)
        })
        .collect();
    let queue = |(ct, p): &(Ciphertext, DisjunctiveProof), b: &mut BatchVerifier| {
        p.queue(&pk, ct, 1, b"ctx", b)
    };
    assert_eq!(verify_all_vartime(&items, [7; 32], queue), Ok(()));

    // One ciphertext replaced by an encryption of 2: the single batch fails…
    let (bad, _) = Ciphertext::encrypt_random(&pk, 2, &mut rng);
    items[17].0 = bad;
    let mut batch = BatchVerifier::new(&mut rng);
    for it in &items {
        queue(it, &mut batch).unwrap();
    }
    assert_eq!(batch.verify_vartime(), Err(VerifyError::BatchFailed));
    // …and the fallback names exactly that item.
    let failure = verify_all_vartime(&items, [8; 32], queue).unwrap_err();
    assert_eq!(failure.failures, vec![(17, VerifyError::BatchFailed)]);

    // Two bad items, one of them structurally invalid.
    items[3].1.challenges.clear();
    let failure = verify_all_vartime(&items, [9; 32], queue).unwrap_err();
    let idx: Vec<usize> = failure.failures.iter().map(|(i, _)| *i).collect();
    assert_eq!(idx, vec![3, 17]);
    assert_eq!(
        failure.failures[0].1,
        VerifyError::ShapeMismatch("disjunctive proof")
    );
}

/// Two wrong equations whose errors would cancel under fixed, known weights (here 1 and 1)
/// must not pass a randomly weighted batch.
#[test]
fn cancelling_errors_do_not_pass_a_batch() {
    let (mut rng, _) = setup(7);
    let x = SecretScalar::random(&mut rng);
    let big_x = Point::from_point(mul_g(x.expose()));
    let good = SchnorrProof::prove(&x, &big_x, b"ctx", &mut rng);
    let delta = Scalar::from(5u64);
    let plus = SchnorrProof {
        a: good.a,
        s: good.s + delta,
    };
    let minus = SchnorrProof {
        a: good.a,
        s: good.s - delta,
    };
    let mut batch = BatchVerifier::new(&mut rng);
    plus.queue(&big_x, b"ctx", &mut batch).unwrap();
    minus.queue(&big_x, b"ctx", &mut batch).unwrap();
    assert_eq!(batch.verify_vartime(), Err(VerifyError::BatchFailed));
}

#[test]
fn chaum_pedersen_with_unequal_logs_fails() {
    let (mut rng, _) = setup(8);
    let x = SecretScalar::random(&mut rng);
    let u = Point::from_point(mul_g(&Scalar::from(77u64)));
    let big_x = Point::from_point(mul_g(x.expose()));
    let y_wrong = Point::from_point((x.expose() + Scalar::ONE) * u.point());
    let st = DleqStatement {
        u: &u,
        x: &big_x,
        y: &y_wrong,
    };
    let p = ChaumPedersenProof::prove(&x, st, b"ctx", &mut rng);
    assert_eq!(
        p.verify(st, b"ctx"),
        Err(VerifyError::ProofInvalid("Chaum-Pedersen"))
    );
}
