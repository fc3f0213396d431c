//! The shuffle's figures: key derivation, re-encryption, proof and verification (from bytes) of
//! lists of `N` rows of width `w`, on all cores. Throughput is in rows per second.
//!
//! `cargo bench -p urna-crypto --bench shuffle` measures N = 1,000 and 10,000 at widths 1 and 3;
//! `URNA_SHUFFLE_ROWS=100000 cargo bench -p urna-crypto --bench shuffle` other sizes. The
//! example `shuffle-bench` measures one mix per run (CPU time, peak memory) at any size.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_crypto::codec::{Decode, Encode};
use urna_crypto::elgamal::{Ciphertext, SecretKey};
use urna_crypto::shuffle::{shuffle, Rows, ShuffleGenerators, ShuffleProof, ShuffleStatement};

const CTX: &[u8] = b"bench election context";
const MIXER: &[u8] = b"bench mixer";

fn sizes() -> Vec<usize> {
    std::env::var("URNA_SHUFFLE_ROWS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000])
}

fn benches(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(23);
    let pk = SecretKey::random(&mut rng).public_key().unwrap();
    for n in sizes() {
        for w in [1usize, 3] {
            let cts: Vec<Ciphertext> = (0..n * w)
                .map(|m| Ciphertext::encrypt_random(&pk, (m % 5) as u64, &mut rng).0)
                .collect();
            let inputs = Rows::new(&cts, w).unwrap();
            let mut group = c.benchmark_group(format!("shuffle, N = {n}, w = {w}"));
            group.sample_size(10);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_function("derive generators", |b| {
                b.iter(|| ShuffleGenerators::derive(b"bench seed", n).unwrap())
            });
            let gens = ShuffleGenerators::derive(b"bench seed", n).unwrap();
            group.bench_function("re-encrypt and permute", |b| {
                b.iter(|| shuffle(&pk, inputs, &mut rng).unwrap())
            });
            let (outs, witness) = shuffle(&pk, inputs, &mut rng).unwrap();
            let st = ShuffleStatement {
                pk: &pk,
                inputs,
                outputs: Rows::new(&outs, w).unwrap(),
            };
            group.bench_function("prove", |b| {
                b.iter(|| {
                    ShuffleProof::prove_vartime(&gens, &st, &witness, MIXER, CTX, &mut rng).unwrap()
                })
            });
            let bytes = ShuffleProof::prove_vartime(&gens, &st, &witness, MIXER, CTX, &mut rng)
                .unwrap()
                .to_bytes();
            group.bench_function("decode and verify", |b| {
                b.iter_batched(
                    || bytes.clone(),
                    |bytes| {
                        ShuffleProof::from_bytes(&bytes)
                            .unwrap()
                            .verify(&gens, &st, MIXER, CTX, &mut rng)
                            .unwrap()
                    },
                    BatchSize::LargeInput,
                )
            });
            group.finish();
        }
    }
}

criterion_group!(shuffle_benches, benches);
criterion_main!(shuffle_benches);
