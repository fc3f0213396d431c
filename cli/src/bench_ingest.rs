//! `urna bench ingest`: sustained durable ingest of a record's ballots through a real board's
//! HTTP API, from concurrent loopback clients, with the rate, the latency and the memory
//! measured interval by interval.
//!
//! The ballots are the record's, already encrypted, proven and signed (`urna bench record`), so
//! the clients spend no CPU on cryptography and the figures are the board's: it decodes,
//! verifies in batches, appends, `fdatasync`s and signs a checkpoint before each receipt. The
//! board runs in a process of its own (this binary, `urna bench ingest-board`), so that the
//! memory and CPU reported as the board's are its alone, read from `/proc/<pid>`. The record is
//! streamed, a bounded queue ahead of the clients, so a million ballots need no more memory on
//! the client side than a thousand.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use serde_json::{json, Value};
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
    /// The board process's resident memory at the interval's end, and its peak so far.
    board_rss_mb: f64,
    board_peak_mb: f64,
    board_cpu_ms_per_ballot: Option<f64>,
    clients_cpu_ms_per_ballot: Option<f64>,
    load: String,
}

impl Interval {
    fn json(&self) -> Value {
        json!({
            "ballots": self.ballots,
            "per_s": (self.per_s()).round(),
            "p50_ms": round1(self.p50_ms),
            "p99_ms": round1(self.p99_ms),
            "board_rss_mb": round1(self.board_rss_mb),
            "board_peak_rss_mb": round1(self.board_peak_mb),
            "board_cpu_ms_per_ballot": self.board_cpu_ms_per_ballot.map(round3),
            "clients_cpu_ms_per_ballot": self.clients_cpu_ms_per_ballot.map(round3),
            "load_average": self.load,
        })
    }

    fn per_s(&self) -> f64 {
        self.ballots as f64 / self.secs.max(1e-9)
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
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

/// A process's resident memory (`VmRSS`) and its peak (`VmHWM`), in MB: `pid` "self" or a
/// number.
fn rss_mb(pid: &str) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
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
fn process_cpu(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
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

/// CPU used between two readings, per ballot, in ms.
fn per_ballot(a: Option<Duration>, b: Option<Duration>, ballots: usize) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if ballots > 0 => {
            Some(b.saturating_sub(a).as_secs_f64() * 1e3 / ballots as f64)
        }
        _ => None,
    }
}

/// Latencies of the interval under way, and what is needed to close it.
struct Meter {
    /// The board process's id, for its `/proc` files.
    board: String,
    latencies: Vec<f32>,
    all: Vec<f32>,
    start: Instant,
    board_cpu: Option<Duration>,
    clients_cpu: Option<Duration>,
    intervals: Vec<Interval>,
}

impl Meter {
    fn close(&mut self, say: &dyn Fn(&str), done: usize) {
        let mut l = std::mem::take(&mut self.latencies);
        l.sort_by(|a, b| a.total_cmp(b));
        let (board_cpu, clients_cpu) = (process_cpu(&self.board), process_cpu("self"));
        let (rss, peak) = rss_mb(&self.board);
        let i = Interval {
            ballots: l.len(),
            secs: self.start.elapsed().as_secs_f64(),
            p50_ms: quantile(&l, 0.5),
            p99_ms: quantile(&l, 0.99),
            board_rss_mb: rss,
            board_peak_mb: peak,
            board_cpu_ms_per_ballot: per_ballot(self.board_cpu, board_cpu, l.len()),
            clients_cpu_ms_per_ballot: per_ballot(self.clients_cpu, clients_cpu, l.len()),
            load: load_average(),
        };
        let cpu = |c: Option<f64>| c.map_or("?".into(), |c| format!("{c:.3}"));
        say(&format!(
            "{done:>9} ballots  {:>6.0}/s  p50 {:>6.1} ms  p99 {:>6.1} ms  board RSS {:>7.1} MB (peak {:>7.1})  CPU ms/ballot board {} clients {}  load {}",
            i.per_s(),
            i.p50_ms,
            i.p99_ms,
            i.board_rss_mb,
            i.board_peak_mb,
            cpu(i.board_cpu_ms_per_ballot),
            cpu(i.clients_cpu_ms_per_ballot),
            i.load
        ));
        self.all.extend(l);
        self.intervals.push(i);
        self.start = Instant::now();
        self.board_cpu = board_cpu;
        self.clients_cpu = clients_cpu;
    }
}

/// Entries as a record holds them, encoded.
type Raw = Vec<Vec<u8>>;

/// Reads `reader` up to its first ballot: the set-up entries, and the chunk's entries from that
/// ballot on.
fn split_setup<R: std::io::Read>(reader: &mut Reader<R>) -> Result<(Raw, Raw)> {
    let mut setup = Vec::new();
    loop {
        let chunk = reader.chunk(256)?;
        if chunk.is_empty() {
            return Ok((setup, Vec::new()));
        }
        let mut it = chunk.into_iter();
        for e in it.by_ref() {
            if Entry::kind_of(&e) == Some(EntryKind::Ballot) {
                let mut rest = vec![e];
                rest.extend(it);
                return Ok((setup, rest));
            }
            setup.push(e);
        }
    }
}

fn open_record(record: &Path) -> Result<(Reader<std::io::BufReader<std::fs::File>>, String)> {
    let file = std::fs::File::open(record)
        .with_context(|| format!("opening the record {}", record.display()))?;
    let reader = Reader::open(std::io::BufReader::with_capacity(1 << 20, file))?;
    let origin = reader
        .checkpoint
        .lines()
        .next()
        .context("the record's checkpoint has no origin line")?
        .to_string();
    Ok((reader, origin))
}

/// Set-up entries a board admits in one group: one, as the registrar posts its roll entries
/// one after the other (larger groups of roll entries, 1,000 credentials each, made the index's
/// sled batches — and sled's memory — far larger than a real board's).
const SETUP_GROUP: usize = 1;

/// The board under test, in a process of its own (`urna bench ingest-board`, hidden) so that
/// its memory and CPU are measured apart from the clients': opens a fresh board in `dir`,
/// admits `record`'s set-up in groups of [`SETUP_GROUP`] (in order, each group durable with
/// its checkpoint, as the writer commits a group), serves on a loopback port, prints
/// `<address> <set-up entries>` on a line, and serves until its standard input closes.
pub fn board_process(dir: &Path, record: &Path, snapshot_every: u64) -> Result<()> {
    use std::io::{Read, Write};
    let (mut reader, origin) = open_record(record)?;
    let (setup, _) = split_setup(&mut reader)?;
    drop(reader);
    // The set-up's manifest names the board's key: the synthetic election's (seed 1, as
    // `urna bench record` makes it).
    let mut board = urna_board::board::Board::open(dir, &origin, urna_sim::synth::board_key(1))?;
    board.set_snapshot_every(snapshot_every);
    for group in setup.chunks(SETUP_GROUP) {
        for r in board.submit(group)? {
            r.map_err(|e| anyhow!("a set-up entry was refused: {e}"))?;
        }
    }
    let limits = urna_serve::limits::Limits::unlimited();
    let addr = crate::loopback::serve(move || {
        urna_board::server::app_with(urna_board::server::start(board).0, limits)
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{addr} {}", setup.len())?;
    out.flush()?;
    drop(setup);
    // Served from the loopback thread until the bench closes our input (or ends).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    Ok(())
}

/// The board process the bench started; ended when dropped.
struct BoardProcess {
    child: std::process::Child,
    pid: String,
    url: String,
    setup: usize,
    setup_secs: f64,
}

impl BoardProcess {
    fn start(record: &Path, dir: &Path, snapshot_every: u64) -> Result<BoardProcess> {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let t = Instant::now();
        let mut child = Command::new(std::env::current_exe()?)
            .args(["bench", "ingest-board", "--dir"])
            .arg(dir)
            .arg("--record")
            .arg(record)
            .arg("--snapshot-every")
            .arg(snapshot_every.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the board process")?;
        let pid = child.id().to_string();
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            std::io::BufReader::new(out).read_line(&mut line)?;
        }
        let mut it = line.split_whitespace();
        let (Some(addr), Some(setup)) = (it.next(), it.next().and_then(|n| n.parse().ok())) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(anyhow!("the board process did not start: {line:?}"));
        };
        Ok(BoardProcess {
            url: format!("http://{addr}"),
            child,
            pid,
            setup,
            setup_secs: t.elapsed().as_secs_f64(),
        })
    }
}

impl Drop for BoardProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The all-core verification rate over the record's first ballots: what the board's verifying
/// stage does to each (`ProofCheck::verify_keeping`: decode, then the signatures and ballot
/// proofs of 1,024 ballots in one batch on all cores), in this process while the board waits —
/// the ceiling of an ingest that verifies every ballot, measured in the same run. The state it
/// checks against is the set-up's manifest and ceremony; the roll, which the rules need but the
/// proofs do not, is left out (its credentials' checks would cost a minute at a million).
fn verify_rate(setup: &[Vec<u8>], ballots: &[Vec<u8>]) -> Result<f64> {
    let decode = |v: &[Vec<u8>]| {
        v.iter()
            .map(|e| Entry::decode(e.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow!("the record holds an entry that does not decode: {e}"))
    };
    let mut state = urna_election::state::Election::new();
    let mut check = None;
    for e in setup {
        if Entry::kind_of(e) == Some(EntryKind::VoterRoll) {
            continue;
        }
        let e = decode(std::slice::from_ref(e))?;
        if !state.apply_batch(&e).iter().all(Result::is_ok) {
            return Err(anyhow!("the record's set-up does not apply"));
        }
        check = state.proof_check();
        if check.is_some() {
            break;
        }
    }
    let check = check.context("the record's set-up has no complete key ceremony")?;
    let raw: Vec<&[u8]> = ballots.iter().map(|b| &b[..]).collect();
    let t = Instant::now();
    for chunk in raw.chunks(1024) {
        let mut entries = chunk
            .iter()
            .map(|e| Entry::decode(e.to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow!("a ballot of the record does not decode: {e}"))?;
        let verdicts = urna_election::state::ProofCheck::verify_keeping(Some(&check), &mut entries);
        if verdicts
            .iter()
            .any(|v| *v != urna_election::state::Preverified::Verified)
        {
            return Err(anyhow!("a ballot of the record did not verify"));
        }
    }
    Ok(ballots.len() as f64 / t.elapsed().as_secs_f64().max(1e-9))
}

/// Options of [`ingest`].
pub struct Options<'a> {
    pub record: &'a Path,
    pub clients: usize,
    pub every: usize,
    pub limit: Option<usize>,
    /// Ballots over which to measure the all-core verification rate first (0: not measured).
    pub verify_sample: usize,
    /// Entries between two of the board's snapshots (0: none).
    pub snapshot_every: u64,
    pub json: bool,
}

/// Starts a fresh board on loopback in its own process, which admits `record`'s set-up, then
/// posts its ballots from `clients` concurrent clients (at most `limit` of them), measuring
/// every `every`.
pub fn ingest(o: Options<'_>) -> Result<()> {
    let Options {
        record,
        clients,
        every,
        limit,
        verify_sample,
        snapshot_every,
        json,
    } = o;
    let say = |m: &str| {
        if !json {
            println!("{m}");
        }
    };
    let (mut reader, _) = open_record(record)?;
    let (setup, mut pending) = split_setup(&mut reader)?;
    let dir = tempfile::tempdir()?;
    let board = BoardProcess::start(record, dir.path(), snapshot_every)?;
    if board.setup != setup.len() {
        return Err(anyhow!(
            "the board admitted {} set-up entries, the record holds {}",
            board.setup,
            setup.len()
        ));
    }
    say(&format!(
        "board process {}: {} set-up entries admitted in {:.1} s; {}",
        board.pid, board.setup, board.setup_secs, board.url
    ));
    let verify_per_s = if verify_sample > 0 {
        // The sample is the first ballots, read ahead: they are posted after.
        while pending.len() < verify_sample {
            let more = reader.chunk(1024)?;
            if more.is_empty() {
                break;
            }
            pending.extend(more);
        }
        let n = pending
            .iter()
            .take(verify_sample)
            .take_while(|e| Entry::kind_of(e) == Some(EntryKind::Ballot))
            .count();
        say(&format!("all-core verification of {n} ballots…"));
        let r = verify_rate(&setup, &pending[..n])?;
        say(&format!("  {r:.0} ballots/s"));
        Some(r)
    } else {
        None
    };
    drop(setup);
    let target = limit.unwrap_or(usize::MAX);
    say(&format!(
        "posting the ballots among the {} entries that follow (up to --ballots) from {clients} loopback clients…",
        (reader.count as usize)
            .saturating_sub(board.setup)
            .min(target)
    ));

    // The reader thread feeds ballots through a bounded queue until the first entry that is
    // not a ballot (the close of the polls, which must wait for every ballot) or the limit.
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(QUEUE);
    let rx = Mutex::new(rx);
    let failed = AtomicBool::new(false);
    let done = AtomicUsize::new(0);
    let (rss0, _) = rss_mb(&board.pid);
    let (board_cpu0, clients_cpu0) = (process_cpu(&board.pid), process_cpu("self"));
    let meter = Mutex::new(Meter {
        board: board.pid.clone(),
        latencies: Vec::new(),
        all: Vec::new(),
        start: Instant::now(),
        board_cpu: board_cpu0,
        clients_cpu: clients_cpu0,
        intervals: Vec::new(),
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = &board.url;
    let t0 = Instant::now();
    let posted = AtomicUsize::new(0);
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
    let mut m = meter.into_inner().map_err(|_| anyhow!("a client failed"))?;
    let n = done.load(Ordering::Relaxed);
    if !m.latencies.is_empty() {
        m.close(&say, n);
    }
    let board_cpu = per_ballot(board_cpu0, process_cpu(&board.pid), n);
    let clients_cpu = per_ballot(clients_cpu0, process_cpu("self"), n);
    let mut all = m.all;
    all.sort_by(|a, b| a.total_cmp(b));
    let (rss, peak) = rss_mb(&board.pid);
    let per_s = n as f64 / secs.max(1e-9);
    let bytes_per_ballot = (rss - rss0) * 1024.0 * 1024.0 / n.max(1) as f64;
    let summary = json!({
        "record": record.display().to_string(),
        "setup_entries": board.setup,
        "setup_s": round1(board.setup_secs),
        "ballots": n,
        "clients": clients,
        "seconds": round1(secs),
        "per_s": per_s.round(),
        "verify_all_cores_per_s": verify_per_s.map(f64::round),
        "ingest_percent_of_verify": verify_per_s.map(|v| round1(100.0 * per_s / v)),
        "p50_ms": round1(quantile(&all, 0.5)),
        "p99_ms": round1(quantile(&all, 0.99)),
        "board_cpu_ms_per_ballot": board_cpu.map(round3),
        "clients_cpu_ms_per_ballot": clients_cpu.map(round3),
        "board_rss_mb_before_ballots": round1(rss0),
        "board_rss_mb": round1(rss),
        "board_peak_rss_mb": round1(peak),
        "board_rss_bytes_per_ballot": bytes_per_ballot.round(),
        "load_average": load_average(),
        "intervals": m.intervals.iter().map(Interval::json).collect::<Vec<_>>(),
        "cpu_note": "board: the board process, all threads; clients: this process (the HTTP clients and the record's reader)",
        "rss_note": "the board process alone (VmRSS, VmHWM); bytes per ballot = (RSS at the end - RSS before the first ballot) / ballots",
    });
    if json {
        println!("{summary}");
    } else {
        let cpu = |c: Option<f64>| c.map_or("?".into(), |c| format!("{c:.3}"));
        println!(
            "{n} ballots in {secs:.1} s: {per_s:.0} ballots/s{}, p50 {:.1} ms, p99 {:.1} ms; CPU ms per ballot: board {}, clients {}; board RSS {rss0:.1} MB before the ballots, {rss:.1} MB after (peak {peak:.1} MB): {bytes_per_ballot:.0} bytes a ballot; load average {}",
            verify_per_s.map_or(String::new(), |v| format!(" ({:.1} % of the {v:.0}/s all-core verification)", 100.0 * per_s / v)),
            quantile(&all, 0.5),
            quantile(&all, 0.99),
            cpu(board_cpu),
            cpu(clients_cpu),
            load_average()
        );
    }
    drop(board);
    if posted.load(Ordering::Relaxed) == 0 {
        return Err(anyhow!("the record holds no ballots to post"));
    }
    Ok(())
}
