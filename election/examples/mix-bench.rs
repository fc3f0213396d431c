//! What it costs the state machine to admit a ranked contest's tally at scale: `N` ranked
//! ballots (an IRV contest, rows of one ciphertext), three mixes — each as its `MixRows` chunks
//! and closing `MixProof` — two trustees' decryptions and the count, applied as the board and
//! every replica apply them (`Election::apply_batch`: signatures and payload decoding ahead on
//! all cores; the shuffle proof verified on all cores). Prints the wall-clock time of each step,
//! the process's CPU time for it (from `/proc/self/stat`, so that a figure taken on a shared
//! machine can be read per core), and the rows per second.
//!
//! ```text
//! cargo build --release -p urna-election --example mix-bench
//! /usr/bin/time -v target/release/examples/mix-bench 100000
//! RAYON_NUM_THREADS=1 target/release/examples/mix-bench 100000
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::kit::{Config, Kit};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use urna_election::ballot::{encrypt_ballot_ranked, Choices, Rankings};
use urna_election::entry::Entry;
use urna_election::mixnet;
use urna_election::state::Election;

const CONTESTS: &str = r#"[[contests]]
id = "chair"
title = "Chair"
kind = "ranked"
method = "irv"
options = [
  { id = "a", name = "A" },
  { id = "b", name = "B" },
  { id = "c", name = "C" },
  { id = "d", name = "D" },
  { id = "e", name = "E" },
]

[[ballot_styles]]
id = "all"
contests = ["chair"]
"#;

/// The process's CPU time so far (user + system), in seconds; 0 where `/proc` is absent.
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields 14 and 15 (utime, stime) in clock ticks, counted after the command's `)`.
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<f64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    fields.iter().sum::<f64>() / 100.0
}

/// Wall-clock and CPU seconds of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (t, c) = (Instant::now(), cpu());
    let out = f();
    (out, t.elapsed().as_secs_f64(), cpu() - c)
}

fn admit(e: &mut Election, entries: &[Entry]) -> (f64, f64) {
    let ((), wall, cpu) = timed(|| {
        for chunk in entries.chunks(1024) {
            for r in e.apply_batch(chunk) {
                if let Err(rej) = r {
                    eprintln!("refused: {rej}");
                    std::process::exit(1);
                }
            }
        }
    });
    (wall, cpu)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    println!("N = {n} ballots, {} threads", rayon::current_num_threads());
    let t = Instant::now();
    let mut kit = Kit::new(
        2026,
        Config {
            voters: vec![(1, 0); n],
            contests: Some(CONTESTS.into()),
            ..Config::default()
        },
    );
    let mut e = Election::new();
    let mut setup = vec![kit.setup()];
    setup.extend(kit.ceremony());
    for (b, start) in (0..n).step_by(1000).enumerate() {
        setup.push(kit.roll(b as u32, start..(start + 1000).min(n)));
    }
    setup.push(kit.open());
    admit(&mut e, &setup);
    let ctx = e
        .context()
        .cloned()
        .unwrap_or_else(|| std::process::exit(1));
    let ballots: Vec<Entry> = (0..n)
        .into_par_iter()
        .map(|v| {
            let mut rng = ChaCha20Rng::seed_from_u64(v as u64);
            let ranked = Rankings::random(&kit.manifest, 0, &mut rng);
            let cred = kit.voters[v].key.verifying_key();
            let (b, _) = encrypt_ballot_ranked(
                &kit.manifest,
                "all",
                &Choices::default(),
                &ranked,
                &cred,
                &ctx,
                &mut rng,
            )
            .unwrap_or_else(|err| panic!("{err}"));
            kit.ballot_entry(v, b)
        })
        .collect();
    println!(
        "setup and {n} ballots made: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let (s, c) = admit(&mut e, &ballots);
    println!(
        "ballots admitted: {s:.2} s, {c:.2} s CPU ({:.0} ballots/s, {:.0} per CPU-second)",
        n as f64 / s,
        n as f64 / c
    );
    drop(ballots);
    admit(&mut e, &[kit.close()]);

    let contest = 0;
    for m in 1..=3u16 {
        let key = kit.trustees[usize::from(m - 1)].signing.clone();
        let (entries, made, made_cpu) = timed(|| {
            mixnet::mix_vartime(&e, contest, &key, &mut kit.rng)
                .unwrap_or_else(|err| panic!("{err}"))
        });
        let bytes: usize = entries.iter().map(|x| x.bytes().len()).sum();
        let (rows, proof) = entries.split_at(entries.len() - 1);
        let (r, rc) = admit(&mut e, rows);
        let (p, pc) = admit(&mut e, proof);
        println!(
            "mix {m}: made in {made:.2} s ({made_cpu:.2} s CPU); {} entries, {:.1} MB; \
             admitted: rows {r:.2} s ({rc:.2} s CPU), proof {p:.2} s ({pc:.2} s CPU); \
             {:.0} rows/s, {:.0} rows per CPU-second",
            entries.len(),
            bytes as f64 / 1e6,
            n as f64 / (r + p),
            n as f64 / (rc + pc)
        );
    }
    for i in [2u16, 1] {
        let share = kit.key_share(i, e.qualified_trustees());
        let key = kit.trustees[usize::from(i - 1)].signing.clone();
        let (entries, made, made_cpu) = timed(|| {
            mixnet::decrypt(&e, contest, i, &share, &key, &mut kit.rng)
                .unwrap_or_else(|err| panic!("{err}"))
        });
        let (a, ac) = admit(&mut e, &entries);
        println!(
            "trustee {i}'s decryption: made in {made:.2} s ({made_cpu:.2} s CPU); {} entries; \
             admitted {a:.2} s ({ac:.2} s CPU){}",
            entries.len(),
            if e.ranked_result(contest).is_some() {
                ", with the combination, the rule and the count"
            } else {
                ""
            }
        );
    }
    let entries = mixnet::count(&e, contest, &kit.authority).unwrap_or_else(|err| panic!("{err}"));
    let (a, _) = admit(&mut e, &entries);
    let d = e
        .ranked_result(contest)
        .unwrap_or_else(|| std::process::exit(1));
    println!(
        "count: {} entries, {} bytes, admitted {a:.3} s; {} valid, {} blank, {} invalid; elected {:?}; phase {}",
        entries.len(),
        d.bytes.len(),
        d.count.counted(),
        d.count.blank,
        d.count.invalid.len(),
        d.count.elected,
        e.phase()
    );
}
