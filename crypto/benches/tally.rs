//! Figures for the less frequent primitives: an aggregated range proof of 8 values, one
//! trustee's partial decryption with its proof, and discrete logs of tally totals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_crypto::batch::BatchVerifier;
use urna_crypto::dlog::{self, DlogTable};
use urna_crypto::elgamal::{message_point, Ciphertext, PublicKey};
use urna_crypto::group::Point;
use urna_crypto::range::EncryptedRangeProof;
use urna_crypto::secret::SecretScalar;
use urna_crypto::threshold;

const CTX: &[u8] = b"bench election context";

fn range(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let (joint, _) = threshold::deal_in_memory(2, 3, &mut rng).unwrap();
    let pk = PublicKey::new(joint).unwrap();
    let values: Vec<u64> = (0..8).map(|i| i * 100).collect();
    let maxima = vec![1000u64; 8];
    let nonces: Vec<SecretScalar> = values
        .iter()
        .map(|_| SecretScalar::random(&mut rng))
        .collect();
    let cts: Vec<Ciphertext> = values
        .iter()
        .zip(&nonces)
        .map(|(v, r)| Ciphertext::encrypt(&pk, *v, r))
        .collect();
    let mut group = c.benchmark_group("range proof, 8 values in [0, 1000]");
    group.sample_size(20);
    group.bench_function("prove", |b| {
        b.iter(|| {
            EncryptedRangeProof::prove(&pk, &cts, &values, &nonces, &maxima, CTX, &mut rng).unwrap()
        })
    });
    let proof =
        EncryptedRangeProof::prove(&pk, &cts, &values, &nonces, &maxima, CTX, &mut rng).unwrap();
    group.bench_function("verify", |b| {
        b.iter(|| proof.verify(&pk, &cts, &maxima, CTX, &mut rng).unwrap())
    });
    // As a board's batch holds them: the bulletproofs' generator vectors are shared by every
    // proof of the batch, so each is multiplied once (divide by 32 for the cost per proof).
    group.bench_function("verify 32 in one batch", |b| {
        b.iter(|| {
            let mut batch = BatchVerifier::new(&mut rng);
            for _ in 0..32 {
                proof.queue(&pk, &cts, &maxima, CTX, &mut batch).unwrap();
            }
            batch.verify_vartime().unwrap()
        })
    });
    group.finish();
}

fn partial(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let (_, keys) = threshold::deal_in_memory(2, 3, &mut rng).unwrap();
    let (share, vk) = &keys[0];
    let alpha = Point::from_point(message_point(987_654_321));
    c.bench_function("partial decryption: D = s·A + proof", |b| {
        b.iter(|| threshold::partial_decrypt(share, vk, &alpha, CTX, &mut rng))
    });
    let (d, proof) = threshold::partial_decrypt(share, vk, &alpha, CTX, &mut rng);
    c.bench_function("partial decryption: verify", |b| {
        b.iter(|| {
            let mut batch = BatchVerifier::new(&mut rng);
            threshold::queue_partial(vk, &alpha, &d, &proof, CTX, &mut batch).unwrap();
            batch.verify_vartime().unwrap()
        })
    });
}

fn discrete_log(c: &mut Criterion) {
    let mut group = c.benchmark_group("discrete log");
    group.sample_size(10);
    group.bench_function("build 2^20 table (24 MiB), all cores", |b| {
        b.iter(|| DlogTable::new(20))
    });
    let table = DlogTable::shared(20);
    let m20 = message_point((1 << 20) - 3);
    group.bench_function("m < 2^20 (table built)", |b| {
        b.iter(|| dlog::solve_vartime(&m20, 1 << 20).unwrap())
    });
    // The worst case for a 2^40 bound: the value sits at the end of the giant-step walk.
    let m40 = message_point((1 << 40) - 12_345);
    group.bench_function("m < 2^40, worst case (table built), all cores", |b| {
        b.iter(|| table.solve_vartime(&m40, 1 << 40).unwrap())
    });
    group.finish();
}

criterion_group!(tally, range, partial, discrete_log);
criterion_main!(tally);
