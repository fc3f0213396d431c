//! Figures for the PostgreSQL log (issue 20), on clusters started on loopback:
//! durable replicated appends per second for the board's group-commit batch sizes, and the
//! time from the primary's death to the first append acknowledged by the promoted standby.
//!
//!     cargo run --release -p urna-pgstore --example pg-figures [-- --seconds 3 --rounds 5 --json]
//!
//! Loopback hides the network's round trip, which a real deployment adds to every commit; the
//! failover time here is the promotion and the reconnection, without the failure detection a
//! failover manager adds (its timeouts) — both are stated beside the figures in
//! `specs/storage.md`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use urna_pgcluster::Cluster;
use urna_pgstore::{Identity, Options, PgStore, Statement};

const ORIGIN: &str = "urna.example/figures";
const ENTRY: usize = 3000;

fn identity() -> Identity {
    Identity {
        origin: ORIGIN.into(),
        board_key: [1; 32],
    }
}

fn batch(seq: u64, n: usize) -> Vec<Vec<u8>> {
    (0..n as u64)
        .map(|i| {
            let mut e = format!("{}:", seq + i).into_bytes();
            let mut x = (seq + i).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            while e.len() < ENTRY {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                e.push(x as u8);
            }
            e
        })
        .collect()
}

fn note(size: u64) -> String {
    format!("{ORIGIN}\n{size}\nAAAA\n\n— {ORIGIN} c2ln\n")
}

fn store(url: &str) -> PgStore {
    let s = PgStore::open(
        url,
        identity(),
        Options {
            create: true,
            ..Options::default()
        },
    )
    .expect("open");
    assert!(s.try_acquire_lease().expect("lease"));
    s
}

struct Throughput {
    standbys: usize,
    batch: usize,
    how: &'static str,
    commits_per_s: f64,
    entries_per_s: f64,
    mb_per_s: f64,
}

/// Appends batches of `n` for `seconds`; `how` is one commit for the entries and the
/// checkpoint (`append_with_checkpoint`) or two (`append`, then the checkpoint).
fn throughput(s: &PgStore, standbys: usize, n: usize, seconds: f64, combined: bool) -> Throughput {
    let mut at = s.len();
    // The batches are made before the clock starts: the figure is the store's.
    let batches: Vec<Vec<Vec<u8>>> = (0..((4096 / n).max(8)))
        .map(|k| batch(k as u64 * n as u64, n))
        .collect();
    let start = Instant::now();
    let mut commits = 0u64;
    let mut k = 0;
    while start.elapsed().as_secs_f64() < seconds {
        let b: Vec<&[u8]> = batches[k % batches.len()]
            .iter()
            .map(Vec::as_slice)
            .collect();
        k += 1;
        let end = at + n as u64;
        if combined {
            s.append_with_checkpoint(at, &b, &note(end))
                .expect("append");
        } else {
            s.append(at, &b).expect("append");
            s.set_statement(Statement::Checkpoint, &note(end))
                .expect("checkpoint");
        }
        at = end;
        commits += 1;
    }
    let t = start.elapsed().as_secs_f64();
    Throughput {
        standbys,
        batch: n,
        how: if combined {
            "append_with_checkpoint"
        } else {
            "append + set_statement"
        },
        commits_per_s: commits as f64 / t,
        entries_per_s: (commits * n as u64) as f64 / t,
        mb_per_s: (commits * (n * ENTRY) as u64) as f64 / t / 1e6,
    }
}

struct Failover {
    promoted_ms: f64,
    first_append_ms: f64,
}

/// Kills the primary under a writer appending batches of 64 and measures, from the kill, when
/// the standby is promoted and when the writer's first append on it is acknowledged.
fn failover(cluster: &mut Cluster) -> Failover {
    let url = cluster.url();
    let stop = Arc::new(AtomicBool::new(false));
    // When each append was acknowledged, and under which lease epoch: the first after the
    // kill under a later epoch is the promoted server's.
    let acks: Arc<Mutex<Vec<(Instant, u64)>>> = Arc::default();
    let w = {
        let (stop, acks) = (stop.clone(), acks.clone());
        thread::spawn(move || {
            let s = PgStore::open(&url, identity(), Options::default()).expect("open");
            let mut len = None;
            let mut seq = 0;
            while !stop.load(Ordering::Acquire) {
                let at = match len {
                    Some(at) if s.lease_epoch().is_some() => at,
                    _ => {
                        let ready = s.try_acquire_lease().unwrap_or(false);
                        match s.refresh_len() {
                            Ok(l) if ready => len = Some(l),
                            _ => thread::sleep(Duration::from_millis(5)),
                        }
                        continue;
                    }
                };
                let b = batch(seq, 64);
                seq += 64;
                let refs: Vec<&[u8]> = b.iter().map(Vec::as_slice).collect();
                match s.append(at, &refs) {
                    Ok(()) => {
                        let epoch = s.lease_epoch().unwrap_or(0);
                        acks.lock().expect("acks").push((Instant::now(), epoch));
                        len = Some(at + 64);
                    }
                    Err(_) => len = None,
                }
            }
        })
    };
    while acks.lock().expect("acks").len() < 20 {
        thread::sleep(Duration::from_millis(10));
    }
    let old = cluster.primary();
    let killed = Instant::now();
    cluster.kill(old).expect("kill");
    let before = acks
        .lock()
        .expect("acks")
        .iter()
        .map(|a| a.1)
        .max()
        .unwrap_or(0);
    cluster.failover().expect("failover");
    let promoted = killed.elapsed();
    let first = loop {
        if let Some((t, _)) = acks.lock().expect("acks").iter().find(|a| a.1 > before) {
            break *t - killed;
        }
        thread::sleep(Duration::from_millis(1));
    };
    stop.store(true, Ordering::Release);
    w.join().expect("writer");
    cluster.rebuild(old).expect("rebuild");
    cluster.wait_synchronous(cluster.len() - 1).expect("sync");
    Failover {
        promoted_ms: promoted.as_secs_f64() * 1e3,
        first_append_ms: first.as_secs_f64() * 1e3,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: f64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let seconds = arg("--seconds", 3.0);
    let rounds = arg("--rounds", 5.0) as usize;
    let json = args.iter().any(|a| a == "--json");

    let mut results = Vec::new();
    for standbys in [1, 2] {
        let cluster = Cluster::start(standbys).expect("cluster");
        let s = store(&cluster.url());
        for n in [1, 64, 512] {
            for combined in [true, false] {
                results.push(throughput(&s, standbys, n, seconds, combined));
            }
        }
    }
    let mut cluster = Cluster::start(2).expect("cluster");
    store(&cluster.url());
    let failovers: Vec<Failover> = (0..rounds).map(|_| failover(&mut cluster)).collect();

    if json {
        let rows: Vec<String> = results
            .iter()
            .map(|r| {
                format!(
                    "{{\"standbys\":{},\"batch\":{},\"how\":\"{}\",\"commits_per_s\":{:.1},\"entries_per_s\":{:.1},\"mb_per_s\":{:.2}}}",
                    r.standbys, r.batch, r.how, r.commits_per_s, r.entries_per_s, r.mb_per_s
                )
            })
            .collect();
        let f: Vec<String> = failovers
            .iter()
            .map(|f| {
                format!(
                    "{{\"promoted_ms\":{:.0},\"first_append_ms\":{:.0}}}",
                    f.promoted_ms, f.first_append_ms
                )
            })
            .collect();
        println!(
            "{{\"entry_bytes\":{ENTRY},\"throughput\":[{}],\"failover\":[{}]}}",
            rows.join(","),
            f.join(",")
        );
        return;
    }
    println!("durable replicated appends on loopback, entries of {ENTRY} bytes, {seconds} s each");
    println!(
        "{:>8} {:>6} {:<24} {:>10} {:>11} {:>8}",
        "standbys", "batch", "commits", "commits/s", "entries/s", "MB/s"
    );
    for r in &results {
        println!(
            "{:>8} {:>6} {:<24} {:>10.0} {:>11.0} {:>8.1}",
            r.standbys, r.batch, r.how, r.commits_per_s, r.entries_per_s, r.mb_per_s
        );
    }
    println!("\nfailover (primary + 2 standbys, kill -9 of the primary, promotion of the most advanced standby)");
    for (i, f) in failovers.iter().enumerate() {
        println!(
            "round {}: promoted {:.0} ms, first acknowledged append {:.0} ms after the kill",
            i + 1,
            f.promoted_ms,
            f.first_append_ms
        );
    }
    let mut firsts: Vec<f64> = failovers.iter().map(|f| f.first_append_ms).collect();
    firsts.sort_by(f64::total_cmp);
    if let (Some(min), Some(max)) = (firsts.first(), firsts.last()) {
        println!(
            "first append after the kill: median {:.0} ms, min {min:.0} ms, max {max:.0} ms",
            firsts[firsts.len() / 2]
        );
    }
}
