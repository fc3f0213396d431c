//! The CPU of verifying ballots, for an instruction count: `N` plurality-10 ballots (as
//! `urna bench` makes them) verified the two ways a party does — `apply`: applied with
//! `Election::apply_batch` in chunks of 1,024 (decode, signature, proofs in one batch, rules),
//! as a replica replays a log; `forward`: decoded and kept, then signatures and proofs checked
//! with `ProofCheck::verify_keeping`, as a board process does before forwarding; `none`: neither,
//! the run to subtract. The ballots are made once and kept in a file, so that a measured run
//! only reads them (the election it sets up is the same every time: the kit is seeded).
//!
//! ```text
//! cargo build --release -p urna-election --example verify-ballots
//! target/release/examples/verify-ballots none 256 /tmp/b256
//! for m in none apply forward; do RAYON_NUM_THREADS=1 valgrind --tool=callgrind \
//!     target/release/examples/verify-ballots $m 256 /tmp/b256; done
//! ```
//!
//! (per ballot: (`apply` − `none`) / 256 instructions; one thread, since callgrind runs the
//! threads one at a time anyway.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use urna_crypto::codec::Encode;
use urna_election::ballot::{encrypt_ballot, Choices};
use urna_election::entry::{Entry, EntryKind};
use urna_election::payload::Payload;
use urna_election::state::{Election, ProofCheck};
use urna_sim::kit::{Config, Kit};

fn contests() -> String {
    let options: Vec<String> = (0..10)
        .map(|i| format!("{{ id = \"o{i}\", name = \"Option {i}\" }}"))
        .collect();
    format!(
        "[[contests]]\nid = \"seat\"\ntitle = \"One seat\"\nkind = \"plurality\"\nexactly = true\noptions = [{}]\n\n[[ballot_styles]]\nid = \"all\"\ncontests = [\"seat\"]\n",
        options.join(", ")
    )
}

/// Verifies `entries` the way `mode` says; every verdict must be a pass.
#[inline(never)]
fn measured(mode: &str, e: &mut Election, entries: &mut [Entry]) {
    match mode {
        "apply" => {
            for chunk in entries.chunks(1024) {
                assert!(e.apply_batch(chunk).iter().all(Result::is_ok));
            }
        }
        "forward" => {
            let check = e.proof_check();
            for chunk in entries.chunks_mut(1024) {
                let v = ProofCheck::verify_keeping(check.as_ref(), chunk);
                assert!(v
                    .iter()
                    .all(|p| *p == urna_election::state::Preverified::Verified));
            }
        }
        "none" => {}
        _ => panic!("mode: apply, forward or none"),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "apply".into());
    let n: usize = args.next().map_or(256, |s| s.parse().unwrap());
    let cache = args.next();
    let mut kit = Kit::new(
        99,
        Config {
            voters: vec![(1, 0); n],
            contests: Some(contests()),
            ..Config::default()
        },
    );
    let mut e = Election::new();
    e.apply(&kit.setup()).unwrap();
    for x in kit.ceremony() {
        e.apply(&x).unwrap();
    }
    for (b, start) in (0..n).step_by(1000).enumerate() {
        e.apply(&kit.roll(b as u32, start..(start + 1000).min(n)))
            .unwrap();
    }
    e.apply(&kit.open()).unwrap();
    let mut entries = match &cache {
        Some(path) if std::path::Path::new(path).exists() => read(path),
        _ => {
            let made = make(&kit, &e, n);
            if let Some(path) = &cache {
                write(path, &made);
            }
            made
        }
    };
    let t = Instant::now();
    measured(&mode, &mut e, &mut entries);
    println!(
        "{mode}: {n} ballots in {:.3} s wall",
        t.elapsed().as_secs_f64()
    );
}

fn make(kit: &Kit, e: &Election, n: usize) -> Vec<Entry> {
    let ctx = e.context().unwrap().clone();
    (0..n)
        .into_par_iter()
        .map(|v| {
            let mut rng = ChaCha20Rng::seed_from_u64(v as u64);
            let mut c = Choices::default();
            c.0.insert(
                "seat".into(),
                (0..10).map(|i| u16::from(i == v % 10)).collect(),
            );
            let key = &kit.voters[v].key;
            let (b, _) = encrypt_ballot(
                &kit.manifest,
                "all",
                &c,
                &key.verifying_key(),
                &ctx,
                &mut rng,
            )
            .unwrap();
            let payload = Payload::Ballot(Box::new(b)).to_bytes();
            Entry::sign(kit.id(), EntryKind::Ballot, &payload, key).unwrap()
        })
        .collect()
}

/// Entries as `u32 length ‖ bytes`, so that a measured run does not make them.
fn write(path: &str, entries: &[Entry]) {
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&(e.bytes().len() as u32).to_le_bytes());
        out.extend_from_slice(e.bytes());
    }
    std::fs::write(path, out).unwrap();
}

fn read(path: &str) -> Vec<Entry> {
    let bytes = std::fs::read(path).unwrap();
    let mut at = 0;
    let mut out = Vec::new();
    while at < bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        out.push(Entry::decode(bytes[at + 4..at + 4 + len].to_vec()).unwrap());
        at += 4 + len;
    }
    out
}
