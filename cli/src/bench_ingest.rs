//! `urna bench ingest`: sustained durable ingest of a record's ballots through a real board's
//! HTTP API, from concurrent loopback clients, with the rate, the latency and the memory
//! measured interval by interval.
//!
//! The ballots are the record's, already encrypted, proven and signed (`urna bench record`), so
//! the clients spend no CPU on cryptography and the figures are the board's: it decodes,
//! verifies in batches, appends, `fdatasync`s and signs a checkpoint before each receipt. The
//! record is streamed, a bounded queue ahead of the clients, so a million ballots need no more
//! memory on the client side than a thousand.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use serde_json::{json, Value};
use urna_client::BoardClient;
use urna_election::entry::{Entry, EntryKind};
use urna_verifier::record::Reader;

/// Entries read ahead of the clients: bounds the queue's memory (≈ 3 KB each).
const QUEUE: usize = 4096;

/// What one interval of `every` ballots measured.
struct Interval {
    ballots: usize,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
    rss_mb: f64,
    cpu_ms_per_ballot: Option<f64>,
    load: String,
}

impl Interval {
    fn json(&self) -> Value {
        json!({
            "ballots": self.ballots,
            "per_s": (self.per_s()).round(),
            "p50_ms": round1(self.p50_ms),
            "p99_ms": round1(self.p99_ms),
            "rss_mb": round1(self.rss_mb),
            "cpu_ms_per_ballot": self.cpu_ms_per_ballot.map(|c| (c * 1000.0).round() / 1000.0),
            "load_average": self.load,
        })
    }

    fn per_s(&self) -> f64 {
        self.ballots as f64 / self.secs.max(1e-9)
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `p`-quantile of sorted latencies.
fn quantile(sorted: &[f32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    f64::from(sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)])
}

/// This process's resident memory (`VmRSS`) and its peak (`VmHWM`), in MB.
fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time this process has used, user and system, threads that have ended included
/// (`/proc/self/stat`, in clock ticks of 1/100 s); `None` where that is not available. The
/// server's runtime starts and ends threads as it likes, so a sum over the live threads
/// would lose theirs.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let mut rest = stat.get(stat.rfind(')')? + 2..)?.split_whitespace();
    let utime: u64 = rest.nth(11)?.parse().ok()?;
    let stime: u64 = rest.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Latencies of the interval under way, and what is needed to close it.
struct Meter {
    latencies: Vec<f32>,
    all: Vec<f32>,
    start: Instant,
    cpu: Option<Duration>,
    intervals: Vec<Interval>,
}

impl Meter {
    fn close(&mut self, say: &dyn Fn(&str), done: usize) {
        let mut l = std::mem::take(&mut self.latencies);
        l.sort_by(|a, b| a.total_cmp(b));
        let cpu = process_cpu();
        let (rss, _) = rss_mb();
        let i = Interval {
            ballots: l.len(),
            secs: self.start.elapsed().as_secs_f64(),
            p50_ms: quantile(&l, 0.5),
            p99_ms: quantile(&l, 0.99),
            rss_mb: rss,
            cpu_ms_per_ballot: match (self.cpu, cpu) {
                (Some(a), Some(b)) if !l.is_empty() => {
                    Some(b.saturating_sub(a).as_secs_f64() * 1e3 / l.len() as f64)
                }
                _ => None,
            },
            load: load_average(),
        };
        say(&format!(
            "{done:>9} ballots  {:>6.0}/s  p50 {:>6.1} ms  p99 {:>6.1} ms  RSS {:>7.1} MB  CPU {} ms/ballot  load {}",
            i.per_s(),
            i.p50_ms,
            i.p99_ms,
            i.rss_mb,
            i.cpu_ms_per_ballot
                .map_or("?".into(), |c| format!("{c:.3}")),
            i.load
        ));
        self.all.extend(l);
        self.intervals.push(i);
        self.start = Instant::now();
        self.cpu = cpu;
    }
}

/// Replays `record`'s set-up into a fresh durable board on loopback, then posts its ballots
/// from `clients` concurrent clients (at most `limit` of them), measuring every `every`.
pub fn ingest(
    record: &Path,
    clients: usize,
    every: usize,
    limit: Option<usize>,
    json: bool,
) -> Result<()> {
    let say = |m: &str| {
        if !json {
            println!("{m}");
        }
    };
    let file = std::fs::File::open(record)
        .with_context(|| format!("opening the record {}", record.display()))?;
    let mut reader = Reader::open(std::io::BufReader::with_capacity(1 << 20, file))?;
    let origin = reader
        .checkpoint
        .lines()
        .next()
        .context("the record's checkpoint has no origin line")?
        .to_string();

    // The set-up: every entry before the first ballot, one at a time, each acknowledged.
    let dir = tempfile::tempdir()?;
    // The set-up's manifest names the board's key: the synthetic election's (seed 1, as
    // `urna bench record` makes it).
    let key = urna_sim::synth::board_key(1);
    let vk = key.verifying_key();
    let board = urna_board::board::Board::open(dir.path(), &origin, key)?;
    let limits = urna_serve::limits::Limits::unlimited();
    let addr = crate::loopback::serve(move || {
        urna_board::server::app_with(urna_board::server::start(board).0, limits)
    })?;
    let url = format!("http://{addr}");
    let client = BoardClient::new(&url);
    let mut pending: Vec<Vec<u8>> = Vec::new();
    let mut setup = 0usize;
    'setup: loop {
        let chunk = reader.chunk(256)?;
        if chunk.is_empty() {
            break;
        }
        let mut it = chunk.into_iter();
        for e in it.by_ref() {
            if Entry::kind_of(&e) == Some(EntryKind::Ballot) {
                pending.push(e);
                pending.extend(it);
                break 'setup;
            }
            client.submit(&e, &origin, &vk)?;
            setup += 1;
        }
    }
    let target = limit.unwrap_or(usize::MAX);
    say(&format!(
        "{setup} set-up entries admitted; posting the ballots among the {} entries that follow (up to --ballots) from {clients} loopback clients…",
        (reader.count as usize).saturating_sub(setup).min(target)
    ));

    // The reader thread feeds ballots through a bounded queue until the first entry that is
    // not a ballot (the close of the polls, which must wait for every ballot) or the limit.
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(QUEUE);
    let rx = Mutex::new(rx);
    let failed = AtomicBool::new(false);
    let done = AtomicUsize::new(0);
    let (_, hwm0) = rss_mb();
    let meter = Mutex::new(Meter {
        latencies: Vec::new(),
        all: Vec::new(),
        start: Instant::now(),
        cpu: process_cpu(),
        intervals: Vec::new(),
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let t0 = Instant::now();
    let (cpu0, posted) = (process_cpu(), AtomicUsize::new(0));
    std::thread::scope(|sc| -> Result<()> {
        let feeder = sc.spawn(|| -> Result<()> {
            // Owned here, so the queue closes when the reader stops and idle clients finish.
            let tx = tx;
            let mut sent = 0usize;
            let mut batch = std::mem::take(&mut pending);
            loop {
                for e in batch {
                    if sent >= target || Entry::kind_of(&e) != Some(EntryKind::Ballot) {
                        return Ok(());
                    }
                    // Not a blocking send: if every client has failed, nobody would take it.
                    let mut e = e;
                    loop {
                        match tx.try_send(e) {
                            Ok(()) => break,
                            Err(mpsc::TrySendError::Full(back)) => {
                                if failed.load(Ordering::Relaxed) {
                                    return Ok(());
                                }
                                e = back;
                                std::thread::sleep(Duration::from_millis(1));
                            }
                            Err(mpsc::TrySendError::Disconnected(_)) => return Ok(()),
                        }
                    }
                    sent += 1;
                }
                batch = reader.chunk(1024)?;
                if batch.is_empty() {
                    return Ok(());
                }
            }
        });
        let posters: Vec<_> = (0..clients)
            .map(|_| {
                sc.spawn(|| -> Result<()> {
                    let url = format!("{url}/entries");
                    let post = || -> Result<()> {
                        loop {
                            let next = match rx.lock() {
                                Ok(r) => r.recv(),
                                Err(_) => return Err(anyhow!("a client failed")),
                            };
                            let Ok(ballot) = next else { return Ok(()) };
                            let t = Instant::now();
                            let sent = agent.post(&url).send(&ballot[..]);
                            let mut r = sent?;
                            let _ = r.body_mut().read_to_vec()?;
                            let took = t.elapsed().as_secs_f64() * 1e3;
                            if r.status() != 200 {
                                return Err(anyhow!("a ballot was refused: {}", r.status()));
                            }
                            posted.fetch_add(1, Ordering::Relaxed);
                            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                            let mut m = meter.lock().map_err(|_| anyhow!("a client failed"))?;
                            m.latencies.push(took as f32);
                            if n % every == 0 {
                                m.close(&say, n);
                            }
                        }
                    };
                    let out = post();
                    if out.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    out
                })
            })
            .collect();
        let fed = feeder.join().map_err(|_| anyhow!("the reader failed"));
        for p in posters {
            p.join().map_err(|_| anyhow!("a client failed"))??;
        }
        fed?
    })?;
    let secs = t0.elapsed().as_secs_f64();
    let cpu = match (cpu0, process_cpu()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a).as_secs_f64() * 1e3),
        _ => None,
    };
    let mut m = meter.into_inner().map_err(|_| anyhow!("a client failed"))?;
    let n = done.load(Ordering::Relaxed);
    if !m.latencies.is_empty() {
        m.close(&say, n);
    }
    let mut all = m.all;
    all.sort_by(|a, b| a.total_cmp(b));
    let (rss, hwm) = rss_mb();
    let per_ballot = cpu.map(|c| c / n.max(1) as f64);
    let summary = json!({
        "record": record.display().to_string(),
        "setup_entries": setup,
        "ballots": n,
        "clients": clients,
        "seconds": round1(secs),
        "per_s": (n as f64 / secs.max(1e-9)).round(),
        "p50_ms": round1(quantile(&all, 0.5)),
        "p99_ms": round1(quantile(&all, 0.99)),
        "cpu_ms_per_ballot": per_ballot.map(|c| (c * 1000.0).round() / 1000.0),
        "rss_mb": round1(rss),
        "peak_rss_mb": round1(hwm),
        "peak_rss_mb_before_ballots": round1(hwm0),
        "load_average": load_average(),
        "intervals": m.intervals.iter().map(Interval::json).collect::<Vec<_>>(),
        "cpu_note": "process CPU (the board and the loopback clients), all threads",
        "rss_note": "the whole process: the board, the clients and a bounded read-ahead queue",
    });
    if json {
        println!("{summary}");
    } else {
        println!(
            "{n} ballots in {secs:.1} s: {:.0} ballots/s, p50 {:.1} ms, p99 {:.1} ms, {} ms CPU per ballot (board and clients), RSS {rss:.1} MB (peak {hwm:.1} MB), load average {}",
            n as f64 / secs.max(1e-9),
            quantile(&all, 0.5),
            quantile(&all, 0.99),
            per_ballot.map_or("?".into(), |c| format!("{c:.3}")),
            load_average()
        );
    }
    if posted.load(Ordering::Relaxed) == 0 {
        return Err(anyhow!("the record holds no ballots to post"));
    }
    Ok(())
}
