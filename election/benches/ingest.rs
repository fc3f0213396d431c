//! The state machine's figures: a 10-selection plurality ballot's encryption and admission, and
//! the ingest rate of 10,000 ballots applied as the board does (signatures and proofs of each
//! batch verified in parallel, proofs in one random-weighted multiscalar multiplication).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use urna_crypto::codec::Encode;
use urna_crypto::sign::SigningKey;
use urna_election::ballot::{encrypt_ballot, Choices};
use urna_election::context::ElectionContext;
use urna_election::entry::{Entry, EntryKind};
use urna_election::payload::Payload;
use urna_election::state::Election;
use urna_sim::kit::{Config, Kit};

const BALLOTS: usize = 10_000;

fn contests() -> String {
    let options: Vec<String> = (0..10)
        .map(|i| format!("{{ id = \"o{i}\", name = \"Option {i}\" }}"))
        .collect();
    format!(
        "[[contests]]\nid = \"seat\"\ntitle = \"One seat\"\nkind = \"plurality\"\nexactly = true\noptions = [{}]\n\n[[ballot_styles]]\nid = \"all\"\ncontests = [\"seat\"]\n",
        options.join(", ")
    )
}

/// An election in the voting phase with `voters` credentials on the roll.
fn voting(voters: usize) -> (Kit, Election) {
    let mut kit = Kit::new(
        99,
        Config {
            voters: vec![(1, 0); voters],
            contests: Some(contests()),
            ..Config::default()
        },
    );
    let mut e = Election::new();
    e.apply(&kit.setup()).unwrap();
    for x in kit.ceremony() {
        e.apply(&x).unwrap();
    }
    for (b, start) in (0..voters).step_by(1000).enumerate() {
        e.apply(&kit.roll(b as u32, start..(start + 1000).min(voters)))
            .unwrap();
    }
    e.apply(&kit.open()).unwrap();
    (kit, e)
}

fn choices(v: usize) -> Choices {
    let mut c = Choices::default();
    let mut values = vec![0u16; 10];
    values[v % 10] = 1;
    c.0.insert("seat".into(), values);
    c
}

fn signed_ballot(
    kit: &Kit,
    key: &SigningKey,
    choices: &Choices,
    ctx: &ElectionContext,
    rng: &mut ChaCha20Rng,
) -> Entry {
    let (b, _) = encrypt_ballot(
        &kit.manifest,
        "all",
        choices,
        &key.verifying_key(),
        ctx,
        rng,
    )
    .unwrap();
    Entry::sign(
        kit.id(),
        EntryKind::Ballot,
        &Payload::Ballot(Box::new(b)).to_bytes(),
        key,
    )
    .unwrap()
}

fn ballots(kit: &Kit, e: &Election, n: usize) -> Vec<Entry> {
    let ctx = e.context().unwrap().clone();
    (0..n)
        .into_par_iter()
        .map(|v| {
            let mut rng = ChaCha20Rng::seed_from_u64(v as u64);
            signed_ballot(kit, &kit.voters[v].key, &choices(v), &ctx, &mut rng)
        })
        .collect()
}

fn per_ballot(c: &mut Criterion) {
    let (kit, e) = voting(200);
    let ctx = e.context().unwrap().clone();
    let key = kit.voters[0].key.clone();
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mine = choices(3);
    c.bench_function("plurality-10 ballot: encrypt + prove + sign", |b| {
        b.iter(|| signed_ballot(&kit, &key, &mine, &ctx, &mut rng))
    });
    let entries = ballots(&kit, &e, 200);
    println!(
        "plurality-10 ballot entry: {} bytes",
        entries[0].bytes().len()
    );
    let mut i = 0;
    c.bench_function(
        "plurality-10 ballot: apply (decode, signature, proofs, rules)",
        |b| {
            b.iter_batched(
                || {
                    i = (i + 1) % entries.len();
                    (e.clone(), entries[i].clone())
                },
                |(mut e, entry)| e.apply(&entry).unwrap(),
                BatchSize::LargeInput,
            )
        },
    );
}

fn ingest(c: &mut Criterion) {
    let (kit, e) = voting(BALLOTS);
    let entries = ballots(&kit, &e, BALLOTS);
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(criterion::Throughput::Elements(BALLOTS as u64));
    group.bench_function(
        "10,000 plurality-10 ballots, apply_batch in chunks of 1,024, all cores",
        |b| {
            b.iter_batched(
                || e.clone(),
                |mut e| {
                    for chunk in entries.chunks(1024) {
                        assert!(e.apply_batch(chunk).iter().all(Result::is_ok));
                    }
                    e
                },
                BatchSize::LargeInput,
            )
        },
    );
    group.finish();
}

criterion_group!(benches, per_ballot, ingest);
criterion_main!(benches);
