//! One measured mix at a chosen size, for the figures of `specs/crypto.md` §12 and peak memory:
//!
//! ```text
//! cargo run --release -p urna-crypto --example shuffle-bench -- ROWS [WIDTH [THREADS]]
//! /usr/bin/time -v target/release/examples/shuffle-bench 1000000
//! ```
//!
//! THREADS defaults to every core. Rates are rows per second; "per core" divides the wall-clock
//! rate by the threads, "per CPU-second" uses the process's CPU time (steadier on a busy machine).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_crypto::shuffle::bench::{measure, Timing};

fn line(name: &str, t: &Timing, rows: usize, threads: usize) {
    let per_cpu = t
        .rate_per_cpu(rows)
        .map_or("n/a".into(), |r| format!("{r:.0}"));
    println!(
        "{name:<10} {:>9.3} s wall {:>9.3} s cpu  {:>9.0} rows/s  {:>9.0} rows/s per core  {:>9} rows per CPU-second",
        t.wall.as_secs_f64(),
        t.cpu.map_or(f64::NAN, |c| c.as_secs_f64()),
        t.rate(rows),
        t.rate(rows) / threads as f64,
        per_cpu,
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let rows = args.first().copied().unwrap_or(10_000);
    let width = args.get(1).copied().unwrap_or(1);
    let threads = args
        .get(2)
        .copied()
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let mut rng = ChaCha20Rng::seed_from_u64(rows as u64);
    let f = pool.install(|| measure(rows, width, &mut rng))?;
    println!(
        "shuffle of {} rows × {} ciphertexts on {} threads; proof {} bytes; peak RSS {} MB",
        f.rows,
        f.width,
        f.threads,
        f.proof_bytes,
        f.peak_rss_bytes.map_or(0, |b| b / (1 << 20))
    );
    for (name, t) in [
        ("generators", &f.generators),
        ("shuffle", &f.shuffle),
        ("prove", &f.prove),
        ("encode", &f.encode),
        ("decode", &f.decode),
        ("verify", &f.verify),
    ] {
        line(name, t, f.rows, f.threads);
    }
    Ok(())
}
