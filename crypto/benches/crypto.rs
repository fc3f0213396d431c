//! Ballot-shaped figures for the primitives: a 10-selection 1-of-10 "ballot" is ten 0/1
//! ciphertexts with disjunctive proofs plus a Chaum–Pedersen proof that their sum encrypts 1.
//! Verification benches start from bytes, so point decompression is included.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_crypto::batch::{verify_all_vartime, BatchVerifier};
use urna_crypto::codec::{Decode, Encode, Reader};
use urna_crypto::elgamal::{Ciphertext, PublicKey, SecretKey};
use urna_crypto::errors::{DecodeError, VerifyError};
use urna_crypto::group::{g, Point};
use urna_crypto::secret::SecretScalar;
use urna_crypto::sigma::{ChaumPedersenProof, DisjunctiveProof, DleqStatement};

const OPTIONS: usize = 10;
const CTX: &[u8] = b"bench election context";

struct Ballot {
    selections: Vec<(Ciphertext, DisjunctiveProof)>,
    total: ChaumPedersenProof,
}

impl Encode for Ballot {
    fn encode(&self, out: &mut Vec<u8>) {
        for (ct, p) in &self.selections {
            ct.encode(out);
            p.encode(out);
        }
        self.total.encode(out);
    }
}

impl Decode for Ballot {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut selections = Vec::with_capacity(OPTIONS);
        for _ in 0..OPTIONS {
            selections.push((Ciphertext::decode(r)?, DisjunctiveProof::decode(r)?));
        }
        Ok(Ballot {
            selections,
            total: ChaumPedersenProof::decode(r)?,
        })
    }
}

fn total_statement(cts: &[Ciphertext]) -> (Point, Point) {
    let (a, b) = Ciphertext::sum(cts);
    (Point::from_point(a), Point::from_point(b - g()))
}

fn encrypt(pk: &PublicKey, choice: usize, rng: &mut ChaCha20Rng) -> Ballot {
    let mut selections = Vec::with_capacity(OPTIONS);
    let mut r_sum = urna_crypto::Scalar::ZERO;
    for i in 0..OPTIONS {
        let m = u64::from(i == choice);
        let r = SecretScalar::random(rng);
        let ct = Ciphertext::encrypt_bit(pk, subtle::Choice::from(m as u8), &r);
        let p = DisjunctiveProof::prove(pk, &ct, m, &r, 1, CTX, rng).unwrap();
        r_sum += r.expose();
        selections.push((ct, p));
    }
    let cts: Vec<_> = selections.iter().map(|(c, _)| *c).collect();
    let (x, y) = total_statement(&cts);
    let st = DleqStatement {
        u: pk.point(),
        x: &x,
        y: &y,
    };
    let total = ChaumPedersenProof::prove(&SecretScalar::new(r_sum), st, CTX, rng);
    Ballot { selections, total }
}

fn queue(pk: &PublicKey, b: &Ballot, batch: &mut BatchVerifier) -> Result<(), VerifyError> {
    for (ct, p) in &b.selections {
        p.queue(pk, ct, 1, CTX, batch)?;
    }
    let cts: Vec<_> = b.selections.iter().map(|(c, _)| *c).collect();
    let (x, y) = total_statement(&cts);
    let st = DleqStatement {
        u: pk.point(),
        x: &x,
        y: &y,
    };
    b.total.queue(st, CTX, batch)
}

fn verify_each(pk: &PublicKey, b: &Ballot) -> Result<(), VerifyError> {
    for (ct, p) in &b.selections {
        p.verify(pk, ct, 1, CTX)?;
    }
    let cts: Vec<_> = b.selections.iter().map(|(c, _)| *c).collect();
    let (x, y) = total_statement(&cts);
    let st = DleqStatement {
        u: pk.point(),
        x: &x,
        y: &y,
    };
    b.total.verify(st, CTX)
}

fn benches(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let pk = SecretKey::random(&mut rng).public_key().unwrap();

    c.bench_function("selection: encrypt + 0/1 proof", |bch| {
        bch.iter(|| {
            let r = SecretScalar::random(&mut rng);
            let ct = Ciphertext::encrypt_bit(&pk, subtle::Choice::from(1), &r);
            DisjunctiveProof::prove(&pk, &ct, 1, &r, 1, CTX, &mut rng).unwrap()
        })
    });
    c.bench_function("ballot10: encrypt + prove", |bch| {
        bch.iter(|| encrypt(&pk, 3, &mut rng))
    });

    let bytes = encrypt(&pk, 3, &mut rng).to_bytes();
    println!("ballot10 encoded size: {} bytes", bytes.len());
    c.bench_function("ballot10: decode + verify one by one", |bch| {
        bch.iter(|| verify_each(&pk, &Ballot::from_bytes(&bytes).unwrap()).unwrap())
    });
    c.bench_function("ballot10: decode + verify as one batch", |bch| {
        bch.iter(|| {
            let b = Ballot::from_bytes(&bytes).unwrap();
            let mut batch = BatchVerifier::new(&mut rand::thread_rng());
            queue(&pk, &b, &mut batch).unwrap();
            batch.verify_vartime().unwrap()
        })
    });

    let many: Vec<Vec<u8>> = (0..100)
        .map(|i| encrypt(&pk, i % OPTIONS, &mut rng).to_bytes())
        .collect();
    let mut group = c.benchmark_group("ballot10 x100");
    group.sample_size(20);
    group.bench_function("decode + verify in one batch, one thread", |bch| {
        bch.iter(|| {
            let mut batch = BatchVerifier::new(&mut rand::thread_rng());
            for b in &many {
                queue(&pk, &Ballot::from_bytes(b).unwrap(), &mut batch).unwrap();
            }
            batch.verify_vartime().unwrap()
        })
    });
    group.bench_function("decode + verify, all cores", |bch| {
        bch.iter_batched(
            rand::random::<[u8; 32]>,
            |seed| {
                verify_all_vartime(&many, seed, |b, batch| {
                    let b = Ballot::from_bytes(b).map_err(|_| VerifyError::BatchFailed)?;
                    queue(&pk, &b, batch)
                })
                .unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(crypto, benches);
criterion_main!(crypto);
