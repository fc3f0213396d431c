//! `urna bench`: the figures the issues name, measured in this run on this machine.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use urna_client::BoardClient;
use urna_crypto::RistrettoPoint;
use urna_election::entry::Entry;
use urna_election::payload::Payload;
use urna_election::state::Election;
use urna_sim::synth::{self, Synthetic};

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn round(x: f64, places: i32) -> f64 {
    let p = 10f64.powi(places);
    (x * p).round() / p
}

/// CPU time every thread of this process has used so far (the sum of
/// `/proc/self/task/*/schedstat`, nanoseconds); `None` where that is not available. What an
/// all-core measurement costs, whatever share of the machine other processes took meanwhile.
fn process_cpu() -> Option<Duration> {
    let mut ns = 0u64;
    for t in std::fs::read_dir("/proc/self/task").ok()? {
        let text = std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok()?;
        ns += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(ns))
}

/// Runs `f` on the one thread of `pool` and returns what it used there: thread CPU time, or
/// wall time where the kernel does not report the former (on one thread the two agree but for
/// time spent waiting).
fn cpu_on<T: Send>(pool: &rayon::ThreadPool, f: impl FnOnce() -> T + Send) -> (T, Duration) {
    pool.install(|| {
        let (cpu0, wall0) = (urna_board::board::thread_cpu(), Instant::now());
        let out = f();
        let used = match (cpu0, urna_board::board::thread_cpu()) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => wall0.elapsed(),
        };
        (out, used)
    })
}

/// The synthetic ballots re-signed by fresh keys that are not on the roll: each looks like a
/// ballot, and must be refused `not-eligible`.
fn ineligible(ballots: &[Entry]) -> Result<Vec<Entry>> {
    let mut rng = rand::rngs::OsRng;
    ballots
        .iter()
        .map(|b| {
            let key = urna_crypto::sign::SigningKey::generate(&mut rng);
            Ok(Entry::sign(synth::ORIGIN, b.kind(), b.payload(), &key)?)
        })
        .collect()
}

/// Whether every verdict is a `not-eligible` refusal.
fn refused_all<T>(verdicts: &[Result<T, urna_election::rejection::Rejection>]) -> bool {
    verdicts
        .iter()
        .all(|v| v.as_ref().is_err_and(|e| e.code() == "not-eligible"))
}

/// CPU per entry, on one thread, to refuse ballots from keys not on the roll: through the state
/// machine (`Election::apply_batch`) and through the board's whole submission path
/// (`Board::submit`: decoding, hashing, the index, the rules); and, for scale, CPU per honest
/// ballot admitted through the same board path. Batches of 100, as the board's writer takes them.
fn rejection_cpu(
    s: &Synthetic,
    at_open: &Election,
    one: &rayon::ThreadPool,
    count: usize,
) -> Result<(f64, f64, f64, f64, f64)> {
    let honest = &s.entries[s.ballots_at..s.ballots_at + count.min(s.ballots)];
    let outsiders = ineligible(honest)?;
    let mut e = at_open.clone();
    let (ok, used) = cpu_on(one, || {
        outsiders
            .chunks(100)
            .all(|chunk| refused_all(&e.apply_batch(chunk)))
    });
    if !ok {
        return Err(anyhow!(
            "an ineligible ballot was not refused as not-eligible"
        ));
    }
    let machine = ms(used) / outsiders.len() as f64;

    let dir = tempfile::tempdir()?;
    let mut board = urna_board::board::Board::open(dir.path(), synth::ORIGIN, s.board.clone())?;
    for chunk in s.entries[..s.ballots_at].chunks(1024) {
        let raw: Vec<Vec<u8>> = chunk.iter().map(|e| e.bytes().to_vec()).collect();
        if !board.submit(&raw)?.iter().all(Result::is_ok) {
            return Err(anyhow!("the board refused the synthetic election's set-up"));
        }
    }
    let raw = |entries: &[Entry]| -> Vec<Vec<Vec<u8>>> {
        entries
            .chunks(100)
            .map(|c| c.iter().map(|e| e.bytes().to_vec()).collect())
            .collect()
    };
    let (outsider_batches, honest_batches) = (raw(&outsiders), raw(honest));
    let (ok, used) = cpu_on(one, || -> Result<bool> {
        let mut ok = true;
        for b in &outsider_batches {
            ok &= board
                .submit(b)?
                .iter()
                .all(|v| v.as_ref().is_err_and(|e| e.code() == "not-eligible"));
        }
        Ok(ok)
    });
    if !ok? {
        return Err(anyhow!("the board admitted an ineligible ballot"));
    }
    let board_reject = ms(used) / outsiders.len() as f64;
    let (ok, used) = cpu_on(one, || -> Result<bool> {
        let mut ok = true;
        for b in &honest_batches {
            ok &= board.submit(b)?.iter().all(Result::is_ok);
        }
        Ok(ok)
    });
    if !ok? {
        return Err(anyhow!("the board refused a synthetic ballot"));
    }
    let board_admit = ms(used) / honest.len() as f64;
    let entries = board.size();
    drop(board);
    // CPU, all threads: on a machine shared with other load the wall time says little.
    let (t, cpu0) = (Instant::now(), process_cpu());
    let board = urna_board::board::Board::open(dir.path(), synth::ORIGIN, s.board.clone())?;
    let restart = match (cpu0, process_cpu()) {
        (Some(a), Some(b)) => ms(b.saturating_sub(a)),
        _ => ms(t.elapsed()),
    };
    if board.size() != entries {
        return Err(anyhow!(
            "the board reopened with {} of {entries} entries",
            board.size()
        ));
    }
    // The same restart from a snapshot of the rules' state at the board's size.
    let capture = {
        let tree = board.tree();
        urna_board::snapshot::Capture {
            size: entries,
            root: tree.root(entries).map_err(|e| anyhow!("{e}"))?,
            leaves: (0..entries).filter_map(|i| tree.leaf(i).copied()).collect(),
            election: board.election().clone(),
        }
    };
    drop(board);
    capture.write(dir.path(), synth::ORIGIN, &s.board)?;
    let (t, cpu0) = (Instant::now(), process_cpu());
    let board = urna_board::board::Board::open(dir.path(), synth::ORIGIN, s.board.clone())?;
    let from_snapshot = match (cpu0, process_cpu()) {
        (Some(a), Some(b)) => ms(b.saturating_sub(a)),
        _ => ms(t.elapsed()),
    };
    restored(&board.snapshot)?;
    Ok((
        machine,
        board_reject,
        board_admit,
        restart / entries as f64 * 1000.0,
        from_snapshot / entries as f64 * 1000.0,
    ))
}

fn state_at_open(s: &Synthetic) -> Result<Election> {
    Election::replay(&s.entries[..s.ballots_at])
        .map_err(|(i, k, r)| anyhow!("entry {i} ({k}): {r}"))
}

/// Writes a synthetic record of `ballots` plurality-10 ballots, in bounded memory: the
/// entries are made and admitted on all cores a chunk at a time, hashed onto the tree and
/// written to a scratch file beside `out` as they come; the record is then the header (the
/// checkpoint, known only at the end) followed by a copy of the scratch file.
pub fn record(ballots: usize, out: &Path, say: &dyn Fn(&str)) -> Result<()> {
    use std::io::Write;
    let t = Instant::now();
    let scratch = out.with_extension("entries.tmp");
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(&scratch)
            .with_context(|| format!("creating {}", scratch.display()))?,
    );
    let mut tree = urna_ledger::merkle::Tree::new();
    let mut failed: Option<std::io::Error> = None;
    let s = synth::plurality10_into(
        ballots,
        1,
        &|n| {
            if n % 20_480 < 4096 {
                eprint!("\r{n} ballots made and admitted");
            }
        },
        &mut |x| {
            let leaves: Vec<_> = x
                .par_iter()
                .map(|e| urna_ledger::merkle::leaf_hash(e.bytes()))
                .collect();
            for (e, l) in x.iter().zip(leaves) {
                tree.push(l);
                if let Err(err) = urna_verifier::record::write_entry(&mut w, e.bytes()) {
                    failed.get_or_insert(err);
                }
            }
            Ok(())
        },
    )
    .map_err(anyhow::Error::msg)?;
    eprintln!();
    if let Some(e) = failed {
        return Err(e.into());
    }
    w.flush()?;
    drop(w);
    let size = tree.size();
    let note = signed_checkpoint(&tree, synth::ORIGIN, &s.board)?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(out)?);
    urna_verifier::record::write_header(&mut f, &note, size)?;
    std::io::copy(&mut std::fs::File::open(&scratch)?, &mut f)?;
    f.flush()?;
    drop(f);
    std::fs::remove_file(&scratch)?;
    let bytes = std::fs::metadata(out)?.len();
    say(&format!(
        "{size} entries, {ballots} ballots, {bytes} bytes ({:.0} bytes per ballot) in {:.1} s; board key {}",
        bytes as f64 / ballots as f64,
        t.elapsed().as_secs_f64(),
        urna_crypto::hex::encode(s.board.verifying_key().as_bytes())
    ));
    Ok(())
}

/// What `urna bench restart` measures on.
pub struct RestartOptions<'a> {
    /// Ballots to generate, when no record is given.
    pub ballots: usize,
    /// Take the entries of this record (written by `urna bench record`, whose board key is
    /// the generator's) instead of generating them: a million ballots in minutes, not hours.
    pub record: Option<&'a Path>,
    /// Entries after the snapshot, which the restart from it replays: at worst a board's
    /// `--snapshot-every`.
    pub tail: u64,
    /// Also restart from zero (no snapshot): a replay of the whole log.
    pub from_zero: bool,
}

/// Writes entries into the bench's board directory as they come — onto the log and the tree —
/// and applies them to a state until the snapshot's size, where it copies the state as the
/// board's writer would.
struct Filler {
    log: urna_ledger::store::FileLog,
    tree: urna_ledger::merkle::Tree,
    state: Option<Election>,
    /// The snapshot's size, once known.
    target: Option<u64>,
    /// Generating: ballots to come, to place the snapshot `tail` entries before the last.
    ballots: u64,
    tail: u64,
    captured: Option<(Election, Vec<urna_ledger::merkle::Hash>)>,
    pause: f64,
    failed: Option<String>,
    /// The board's index of the entries, kept as its writer keeps it (each group added once
    /// durable), so that the timed restart finds it current, as after a `kill -9`, instead of
    /// rebuilding it from the whole log.
    index: urna_board::index::Index,
}

impl Filler {
    fn take(&mut self, x: &[Entry]) {
        if self.failed.is_some() {
            return;
        }
        let raw: Vec<&[u8]> = x.iter().map(|e| e.bytes()).collect();
        let from = self.tree.size();
        for l in raw
            .par_iter()
            .map(|e| urna_ledger::merkle::leaf_hash(e))
            .collect::<Vec<_>>()
        {
            self.tree.push(l);
        }
        if let Err(e) = urna_ledger::store::LogStore::append(&self.log, from, &raw) {
            self.failed = Some(format!("writing the log: {e}"));
            return;
        }
        let leaves = &self.tree.leaves()[from as usize..];
        let added: Vec<_> = leaves.iter().zip(x).collect();
        if let Err(e) = self.index.add_decoded(from, &added) {
            self.failed = Some(format!("writing the index: {e}"));
            return;
        }
        let is_ballot = x
            .first()
            .is_some_and(|e| e.kind() == urna_election::entry::EntryKind::Ballot);
        if self.target.is_none() && is_ballot {
            self.target = Some(from + self.ballots.saturating_sub(self.tail));
        }
        let Some(state) = self.state.as_mut() else {
            return;
        };
        let upto = self.target.map_or(x.len() as u64, |t| {
            t.saturating_sub(from).min(x.len() as u64)
        });
        if state.size() != from || upto == 0 {
            return;
        }
        let part = &x[..upto as usize];
        if let Some(r) = state
            .apply_batch_verified(part)
            .into_iter()
            .find_map(Result::err)
        {
            self.failed = Some(format!("applying the log: {r}"));
            return;
        }
        if Some(state.size()) == self.target {
            // The board's writer: a copy of the state and of the leaf hashes.
            let t = Instant::now();
            let copy = state.clone();
            let leaves = self.tree.leaves()[..state.size() as usize].to_vec();
            self.pause = ms(t.elapsed());
            self.captured = Some((copy, leaves));
            self.state = None;
        }
    }
}

/// `urna bench restart`: a board data directory holding a synthetic election of plurality-10
/// ballots (generated, or taken from a record `urna bench record` wrote; written straight into
/// the log with a checkpoint signed by the board's key, as the board would have), and a
/// snapshot of the rules' state `tail` entries before the log's end; then the timings: the
/// writer's pause to copy the state, the background encoding and writing of the snapshot,
/// restoring the snapshot alone (read, check, decode), and the board's restart from it (the
/// restore, and the replay of the `tail` entries after it) — optionally also the restart from
/// zero. Wall time and CPU (all threads) of each, and the process's peak RSS.
pub fn restart(o: RestartOptions<'_>, dir: &Path, json_out: bool) -> Result<()> {
    use urna_ledger::store::{FileLog, LogStore, Statement};
    if dir.exists() {
        return Err(anyhow!("{} exists: give a new directory", dir.display()));
    }
    let say = |m: &str| {
        if !json_out {
            eprintln!("{m}");
        }
    };
    let t = Instant::now();
    let (log, _) = FileLog::open(dir)?;
    let (index, fresh) = urna_board::index::Index::open(&dir.join(urna_board::board::INDEX))?;
    index.reconcile(&urna_ledger::merkle::Tree::new(), &log, fresh)?;
    let mut w = Filler {
        index,
        log,
        tree: urna_ledger::merkle::Tree::new(),
        state: Some(Election::reading_back()),
        target: None,
        ballots: o.ballots as u64,
        tail: o.tail,
        captured: None,
        pause: 0.0,
        failed: None,
    };
    let board = synth::board_key(1);
    let note = match o.record {
        Some(path) => {
            let f =
                std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
            let mut r =
                urna_verifier::record::Reader::open(std::io::BufReader::with_capacity(1 << 20, f))?;
            w.target = Some(r.count.saturating_sub(o.tail));
            loop {
                let chunk = r.chunk(4096)?;
                if chunk.is_empty() {
                    break;
                }
                let entries = chunk
                    .into_par_iter()
                    .map(Entry::decode)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| anyhow!("{}: {e}", path.display()))?;
                w.take(&entries);
                if !json_out && r.read % 20_480 < 4096 {
                    eprint!("\r{} entries written", r.read);
                }
            }
            let note = r.checkpoint.clone();
            r.finish()?;
            let cp =
                urna_ledger::note::Checkpoint::open(&note, synth::ORIGIN, &board.verifying_key())
                    .map_err(|e| {
                    anyhow!(
                        "{}: not a record of `urna bench record`: {e}",
                        path.display()
                    )
                })?;
            if cp.size != w.tree.size() || w.tree.root(cp.size).ok() != Some(cp.root) {
                return Err(anyhow!(
                    "{}: its checkpoint is not of its entries",
                    path.display()
                ));
            }
            note
        }
        None => {
            let s = synth::plurality10_into(
                o.ballots,
                1,
                &|n| {
                    if !json_out && n % 20_480 < 4096 {
                        eprint!("\r{n} ballots made and admitted");
                    }
                },
                &mut |x| {
                    w.take(&x);
                    Ok(())
                },
            )
            .map_err(anyhow::Error::msg)?;
            signed_checkpoint(&w.tree, synth::ORIGIN, &s.board)?
        }
    };
    if let Some(e) = w.failed.take() {
        return Err(anyhow!(e));
    }
    let size = w.tree.size();
    w.log.set_statement(Statement::Checkpoint, &note)?;
    let (captured, pause, root) = match (w.captured.take(), w.target) {
        (Some(c), Some(at)) => (c, w.pause, w.tree.root(at).map_err(|e| anyhow!("{e}"))?),
        _ => return Err(anyhow!("the log has fewer than {} entries", o.tail)),
    };
    drop(w);
    let bytes = std::fs::metadata(dir.join(urna_ledger::store::LOG))?.len();
    say(&format!(
        "\n{size} entries ({bytes} bytes of log) written in {:.1} s",
        t.elapsed().as_secs_f64()
    ));
    let timed = |what: &str| -> Result<(urna_board::board::Board, f64, f64)> {
        let (t, cpu0) = (Instant::now(), process_cpu());
        let b = urna_board::board::Board::open(dir, synth::ORIGIN, board.clone())?;
        let wall = ms(t.elapsed());
        let cpu = match (cpu0, process_cpu()) {
            (Some(a), Some(b)) => ms(b.saturating_sub(a)),
            _ => wall,
        };
        if b.size() != size {
            return Err(anyhow!(
                "the board reopened with {} of {size} entries",
                b.size()
            ));
        }
        say(&format!(
            "restart {what}: {wall:.0} ms wall, {cpu:.0} ms CPU ({:?})",
            b.snapshot
        ));
        Ok((b, wall, cpu))
    };
    let zero = match o.from_zero {
        true => {
            let (b, wall, cpu) = timed("from zero")?;
            drop(b);
            Some((wall, cpu))
        }
        false => None,
    };
    let (election, leaves) = captured;
    let at = election.size();
    let t = Instant::now();
    urna_board::snapshot::Capture {
        size: at,
        root,
        leaves,
        election,
    }
    .write(dir, synth::ORIGIN, &board)?;
    let write = ms(t.elapsed());
    let snap_bytes = std::fs::metadata(dir.join(urna_board::snapshot::SNAPSHOT))?.len();
    say(&format!(
        "snapshot at {at} entries: writer's pause {pause:.1} ms, encoded and written in {write:.0} ms, {snap_bytes} bytes"
    ));
    // The restore alone: read the file, check its signature, hashes and leaves' root, decode
    // the state.
    let (t, cpu0) = (Instant::now(), process_cpu());
    let restored_state = urna_board::snapshot::load(dir, synth::ORIGIN, &board.verifying_key())
        .ok_or_else(|| anyhow!("no snapshot written"))?
        .map_err(|e| anyhow!("the snapshot was discarded: {e}"))?
        .election()
        .map_err(|e| anyhow!("the snapshot was discarded: {e}"))?;
    let restore_wall = ms(t.elapsed());
    let restore_cpu = match (cpu0, process_cpu()) {
        (Some(a), Some(b)) => ms(b.saturating_sub(a)),
        _ => restore_wall,
    };
    drop(restored_state);
    say(&format!(
        "restore of the snapshot alone: {restore_wall:.0} ms wall, {restore_cpu:.0} ms CPU"
    ));
    let (b, snap_wall, snap_cpu) = timed(&format!(
        "from the snapshot (then {} entries replayed)",
        size - at
    ))?;
    restored(&b.snapshot)?;
    for (what, d) in &b.opening {
        say(&format!("  {what}: {:.1} ms", ms(*d)));
    }
    let phases: Vec<Value> = b
        .opening
        .iter()
        .map(|(what, d)| json!({ "phase": what, "wall_ms": round(ms(*d), 1) }))
        .collect();
    drop(b);
    let mut f = json!({
        "board_restart_entries": size,
        "board_restart_log_bytes": bytes,
        "board_snapshot_entries": at,
        "board_snapshot_pause_ms": round(pause, 1),
        "board_snapshot_write_ms": round(write, 0),
        "board_snapshot_bytes": snap_bytes,
        "board_snapshot_restore_wall_ms": round(restore_wall, 0),
        "board_snapshot_restore_cpu_ms": round(restore_cpu, 0),
        "board_restart_snapshot_wall_ms": round(snap_wall, 0),
        "board_restart_snapshot_cpu_ms": round(snap_cpu, 0),
        "board_restart_tail_entries": size - at,
        "board_restart_snapshot_phases": phases,
        "peak_rss_mb": peak_rss_mb(),
    });
    if let (Some((wall, cpu)), Some(m)) = (zero, f.as_object_mut()) {
        m.insert(
            "board_restart_from_zero_wall_ms".into(),
            json!(round(wall, 0)),
        );
        m.insert(
            "board_restart_from_zero_cpu_ms".into(),
            json!(round(cpu, 0)),
        );
        m.insert(
            "board_restart_from_zero_cpu_ms_per_1000_entries".into(),
            json!(round(cpu / size as f64 * 1000.0, 2)),
        );
    }
    if json_out {
        println!("{f}");
    }
    Ok(())
}

/// `urna bench serve` (hidden): opens a data directory an earlier `urna bench restart` or
/// `urna bench light --record --dir` wrote, as `board serve` would, and serves it on loopback
/// until the process is stopped; the board's URL on standard output first.
pub fn serve_dir(dir: &Path) -> Result<()> {
    use std::io::Write;
    if !dir.join(urna_ledger::store::LOG).exists() {
        return Err(anyhow!("{}: no board log there", dir.display()));
    }
    let t = Instant::now();
    let b = urna_board::board::Board::open(dir, synth::ORIGIN, synth::board_key(1))?;
    eprintln!(
        "{} entries opened in {:.1} s ({:?})",
        b.size(),
        t.elapsed().as_secs_f64(),
        b.snapshot
    );
    let limits = urna_serve::limits::Limits::unlimited();
    let addr = crate::loopback::serve(move || {
        urna_board::server::app_with(urna_board::server::start(b).0, limits)
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "http://{addr}")?;
    out.flush()?;
    drop(out);
    // The loopback thread serves; this one only waits for the signal that ends the process.
    loop {
        std::thread::park();
    }
}

/// `urna bench restart --existing`: reopens a data directory an earlier `urna bench restart`
/// wrote (the synthetic election's origin and board key), as a board restarting after a
/// `kill -9` does, and reports the opening's wall time and CPU, and each phase's wall time.
pub fn reopen(dir: &Path, json_out: bool) -> Result<()> {
    if !dir.join(urna_ledger::store::LOG).exists() {
        return Err(anyhow!("{}: no board log there", dir.display()));
    }
    let board = synth::board_key(1);
    let (t, cpu0) = (Instant::now(), process_cpu());
    let b = urna_board::board::Board::open(dir, synth::ORIGIN, board)?;
    let wall = ms(t.elapsed());
    let cpu = match (cpu0, process_cpu()) {
        (Some(a), Some(b)) => ms(b.saturating_sub(a)),
        _ => wall,
    };
    let restored_at = match b.snapshot {
        urna_board::board::SnapshotUse::Restored { size } => Some(size),
        _ => None,
    };
    let phases: Vec<Value> = b
        .opening
        .iter()
        .map(|(what, d)| json!({ "phase": what, "wall_ms": round(ms(*d), 1) }))
        .collect();
    if json_out {
        println!(
            "{}",
            json!({
                "board_restart_entries": b.size(),
                "board_restart_snapshot_entries": restored_at,
                "board_restart_snapshot": format!("{:?}", b.snapshot),
                "board_restart_index": format!("{:?}", b.index_state),
                "board_restart_wall_ms": round(wall, 0),
                "board_restart_cpu_ms": round(cpu, 0),
                "board_restart_phases": phases,
                "peak_rss_mb": peak_rss_mb(),
            })
        );
    } else {
        eprintln!(
            "reopened {} entries in {wall:.0} ms wall, {cpu:.0} ms CPU (snapshot: {:?}, index: {:?})",
            b.size(),
            b.snapshot,
            b.index_state
        );
        for (what, d) in &b.opening {
            eprintln!("  {what}: {:.1} ms", ms(*d));
        }
    }
    Ok(())
}

/// The process's peak resident set (VmHWM), in MB, where /proc says.
fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// Refuses a restart that did not start from the snapshot the bench wrote.
fn restored(used: &urna_board::board::SnapshotUse) -> Result<()> {
    match used {
        urna_board::board::SnapshotUse::Restored { .. } => Ok(()),
        other => Err(anyhow!("the snapshot was not restored: {other:?}")),
    }
}

/// The board's signed checkpoint of the whole of `tree`, for the logs and records the bench writes.
fn signed_checkpoint(
    tree: &urna_ledger::merkle::Tree,
    origin: &str,
    board: &urna_crypto::sign::SigningKey,
) -> Result<String> {
    let size = tree.size();
    let root = tree.root(size).map_err(|e| anyhow!("{e}"))?;
    Ok(urna_ledger::note::Checkpoint {
        origin: origin.to_string(),
        size,
        root,
    }
    .sign(board))
}

/// A fresh durable board on loopback holding the synthetic election up to its open polls.
fn board_at_open(s: &Synthetic) -> Result<(tempfile::TempDir, String, BoardClient)> {
    let dir = tempfile::tempdir()?;
    let url = serve(s, dir.path())?;
    let client = BoardClient::new(&url);
    let vk = s.board.verifying_key();
    for e in &s.entries[..s.ballots_at] {
        client.submit(e.bytes(), synth::ORIGIN, &vk)?;
    }
    Ok((dir, url, client))
}

/// Serves a fresh durable board for the synthetic election on loopback; returns its URL.
fn serve(s: &Synthetic, dir: &Path) -> Result<String> {
    let board = urna_board::board::Board::open(dir, synth::ORIGIN, s.board.clone())?;
    let limits = urna_serve::limits::Limits::unlimited();
    let addr = crate::loopback::serve(move || {
        urna_board::server::app_with(urna_board::server::start(board).0, limits)
    })?;
    Ok(format!("http://{addr}"))
}

/// Board ingest: `clients` concurrent loopback clients post the prepared ballots; durable.
fn board_load(s: &Synthetic, clients: usize) -> Result<(f64, f64, f64)> {
    let (_dir, url, _) = board_at_open(s)?;
    let ballots = &s.entries[s.ballots_at..s.ballots_at + s.ballots];
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let next = AtomicUsize::new(0);
    let lat = Mutex::new(Vec::with_capacity(ballots.len()));
    let t0 = Instant::now();
    std::thread::scope(|sc| {
        for _ in 0..clients {
            sc.spawn(|| -> Result<()> {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(b) = ballots.get(i) else { break };
                    let t = Instant::now();
                    let mut r = agent.post(&format!("{url}/entries")).send(b.bytes())?;
                    let _ = r.body_mut().read_to_vec()?;
                    mine.push(ms(t.elapsed()));
                    if r.status() != 200 {
                        return Err(anyhow!("ballot {i} refused: {}", r.status()));
                    }
                }
                lat.lock().map_err(|_| anyhow!("lock"))?.extend(mine);
                Ok(())
            });
        }
    });
    let total = t0.elapsed().as_secs_f64();
    let mut l = lat.into_inner().map_err(|_| anyhow!("lock"))?;
    if l.len() != ballots.len() {
        return Err(anyhow!(
            "only {} of {} ballots were admitted",
            l.len(),
            ballots.len()
        ));
    }
    l.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)];
    Ok((ballots.len() as f64 / total, pct(0.5), pct(0.99)))
}

/// A validating node (in this process, on its own durable copy) following the board while
/// `clients` concurrent loopback clients post the ballots: the board's ingest rate with the
/// node following, how far the node trails it (entries, sampled every 100 ms: median and
/// worst), and how long after the last ballot it has validated everything.
fn node_lag(s: &Synthetic, clients: usize) -> Result<(f64, f64, u64, f64)> {
    let (_dir, url, client) = board_at_open(s)?;
    let node_dir = tempfile::tempdir()?;
    let node = urna_node::Node::open(urna_node::Config {
        dir: node_dir.path().to_path_buf(),
        origin: synth::ORIGIN.to_string(),
        board_key: s.board.verifying_key(),
        board_url: url.clone(),
        name: "node.bench.example".into(),
        key: urna_crypto::sign::SigningKey::generate(&mut rand::rngs::OsRng),
    })?;
    let ballots = &s.entries[s.ballots_at..s.ballots_at + s.ballots];
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let next = AtomicUsize::new(0);
    let posting = AtomicUsize::new(clients);
    let lags = Mutex::new(Vec::new());
    let board_size = || {
        client
            .get_checkpoint_note()
            .ok()
            .and_then(|n| n.lines().nth(1)?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let t0 = Instant::now();
    let mut ingest_s = 0.0;
    let mut catch_up_s = 0.0;
    std::thread::scope(|sc| -> Result<()> {
        let follower = sc.spawn(|| {
            let target = (s.ballots_at + ballots.len()) as u64;
            while node.validated_size() < target {
                let _ = node.follow_once();
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        sc.spawn(|| {
            while posting.load(Ordering::Relaxed) > 0 {
                let lag = board_size().saturating_sub(node.validated_size());
                if let Ok(mut l) = lags.lock() {
                    l.push(lag);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let posters: Vec<_> = (0..clients)
            .map(|_| {
                sc.spawn(|| -> Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(b) = ballots.get(i) else { break };
                        let mut r = agent.post(&format!("{url}/entries")).send(b.bytes())?;
                        let _ = r.body_mut().read_to_vec()?;
                        if r.status() != 200 {
                            return Err(anyhow!("ballot {i} refused: {}", r.status()));
                        }
                    }
                    posting.fetch_sub(1, Ordering::Relaxed);
                    Ok(())
                })
            })
            .collect();
        for p in posters {
            p.join().map_err(|_| anyhow!("a client failed"))??;
        }
        ingest_s = t0.elapsed().as_secs_f64();
        follower.join().map_err(|_| anyhow!("the node failed"))?;
        catch_up_s = t0.elapsed().as_secs_f64() - ingest_s;
        Ok(())
    })?;
    let mut l = lags.into_inner().map_err(|_| anyhow!("lock"))?;
    l.sort_unstable();
    let worst = l.last().copied().unwrap_or(0);
    let median = l.get(l.len() / 2).copied().unwrap_or(0) as f64;
    Ok((ballots.len() as f64 / ingest_s, median, worst, catch_up_s))
}

/// Start to verified receipt, one voter at a time on loopback, through the light session.
fn vote_to_receipt(s: &Synthetic, voters: usize) -> Result<f64> {
    let (_dir, _, client) = board_at_open(s)?;
    let [whole, ..] = light_votes(
        &client,
        synth::ORIGIN,
        &s.voters[..voters.min(s.voters.len())],
    )?;
    Ok(whole)
}

pub fn run(quick: bool, json: bool) -> Result<()> {
    let n = if quick { 1200 } else { 10_000 };
    let say = |m: &str| {
        if !json {
            eprintln!("{m}");
        }
    };
    let mut f = Map::new();
    say(&format!(
        "making a synthetic election of {n} plurality-10 ballots…"
    ));
    let t = Instant::now();
    let s = synth::plurality10(n, 1, &|_| {}).map_err(anyhow::Error::msg)?;
    f.insert(
        "synthetic_election_s".into(),
        json!(round(t.elapsed().as_secs_f64(), 1)),
    );
    let at_open = state_at_open(&s)?;
    let m = s.manifest.clone();
    let ctx = at_open.context().context("no context")?.clone();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;

    say("encrypting ballots (one thread)…");
    let cred = urna_crypto::sign::SigningKey::generate(&mut rand::rngs::OsRng).verifying_key();
    let mut choices = urna_election::ballot::Choices::default();
    choices
        .0
        .insert("seat".into(), (0..10).map(|i| u16::from(i == 3)).collect());
    let enc: Vec<f64> = one.install(|| {
        (0..if quick { 40 } else { 200 })
            .map(|_| {
                let t = Instant::now();
                let _ = urna_election::ballot::encrypt_ballot(
                    &m,
                    "all",
                    &choices,
                    &cred,
                    &ctx,
                    &mut rand::rngs::OsRng,
                );
                ms(t.elapsed())
            })
            .collect()
    });
    f.insert("encrypt_ballot_ms".into(), json!(round(median(enc), 3)));

    say("verifying ballots in batches of 100 (one thread)…");
    let ballots: Vec<Entry> = s.entries[s.ballots_at..s.ballots_at + s.ballots].to_vec();
    let per: Vec<f64> = one.install(|| {
        ballots
            .chunks(100)
            .take(if quick { 5 } else { 20 })
            .map(|chunk| {
                let mut e = at_open.clone();
                let t = Instant::now();
                let ok = e.apply_batch(chunk).iter().all(Result::is_ok);
                let per = ms(t.elapsed()) / chunk.len() as f64;
                if ok {
                    per
                } else {
                    f64::NAN
                }
            })
            .collect()
    });
    if per.iter().any(|x| x.is_nan()) {
        return Err(anyhow!("a synthetic ballot did not verify"));
    }
    f.insert("verify_ballot_ms".into(), json!(round(median(per), 3)));

    say("refusing ballots from keys not on the roll, and admitting honest ones (one thread, CPU)…");
    let (reject, board_reject, board_admit, restart, from_snapshot) =
        rejection_cpu(&s, &at_open, &one, if quick { 500 } else { 2000 })?;
    // Restart from its own log, no proof verified again up to its signed checkpoint; and
    // from a snapshot of the rules' state at its size (`urna bench restart` for large logs).
    f.insert(
        "board_restart_cpu_ms_per_1000_entries".into(),
        json!(round(restart, 2)),
    );
    f.insert(
        "board_restart_snapshot_cpu_ms_per_1000_entries".into(),
        json!(round(from_snapshot, 2)),
    );
    f.insert("reject_ineligible_ms".into(), json!(round(reject, 4)));
    f.insert(
        "board_reject_ineligible_ms".into(),
        json!(round(board_reject, 4)),
    );
    f.insert(
        "board_admit_ballot_cpu_ms".into(),
        json!(round(board_admit, 3)),
    );
    f.insert(
        "ineligible_cheaper_x".into(),
        json!(round(board_admit / board_reject, 1)),
    );

    say("verifying every ballot on all cores…");
    let mut e = at_open.clone();
    let (t, cpu0) = (Instant::now(), process_cpu());
    for chunk in ballots.chunks(1024) {
        if !e.apply_batch(chunk).iter().all(Result::is_ok) {
            return Err(anyhow!("a synthetic ballot did not verify"));
        }
    }
    f.insert(
        "verify_ballots_per_s".into(),
        json!((ballots.len() as f64 / t.elapsed().as_secs_f64()).round()),
    );
    // On a shared machine the wall rate depends on the others' load; CPU per ballot does not:
    // compare `urna verify`'s (user + system time over its ballots) with this.
    if let (Some(a), Some(b)) = (cpu0, process_cpu()) {
        f.insert(
            "verify_ballot_cpu_ms_all_cores".into(),
            json!(round(ms(b.saturating_sub(a)) / ballots.len() as f64, 3)),
        );
    }
    // What a replica's rules state grows by per ballot (a voter on the roll, its α prefixes, its
    // record), plus the log's tree (64 bytes an entry): compare with `urna verify`'s RSS slope.
    f.insert(
        "state_bytes_per_ballot_estimate".into(),
        json!((e.size_estimate() as f64 / ballots.len() as f64 + 64.0).round()),
    );
    f.insert("cores".into(), json!(rayon::current_num_threads()));

    say("board ingest: 64 concurrent loopback clients, durable…");
    let (per_s, p50, p99) = board_load(&s, 64)?;
    f.insert("board_ingest_per_s".into(), json!(per_s.round()));
    f.insert("board_p50_ms".into(), json!(round(p50, 1)));
    f.insert("board_p99_ms".into(), json!(round(p99, 1)));

    say("a validating node following the board under the same load…");
    let (with_node, lag_median, lag_worst, catch_up) = node_lag(&s, 64)?;
    f.insert(
        "board_ingest_with_node_per_s".into(),
        json!(with_node.round()),
    );
    f.insert("node_lag_median_entries".into(), json!(lag_median));
    f.insert("node_lag_worst_entries".into(), json!(lag_worst));
    f.insert(
        "node_lag_median_s".into(),
        json!(round(lag_median / with_node, 2)),
    );
    f.insert(
        "node_lag_worst_s".into(),
        json!(round(lag_worst as f64 / with_node, 2)),
    );
    f.insert(
        "node_catch_up_after_load_s".into(),
        json!(round(catch_up, 2)),
    );

    say("a voter's start to verified receipt (light session), one voter at a time…");
    f.insert(
        "vote_to_receipt_ms".into(),
        json!(round(vote_to_receipt(&s, if quick { 20 } else { 100 })?, 2)),
    );
    // The same on a board already holding many ballots (its log written directly, as
    // `urna bench light` does): the voter's cost must not grow with them.
    let many = if quick { 2_000 } else { 20_000 };
    say(&format!(
        "a voter's start to verified receipt on a board of {many} ballots…"
    ));
    let l = light(many, None, &|_| {})?;
    f.insert("vote_to_receipt_board_ballots".into(), json!(many));
    f.insert(
        "vote_to_receipt_ms_on_that_board".into(),
        json!(round(l.vote_to_receipt_ms, 2)),
    );

    say("tally of 100,000 ballots: homomorphic sum, threshold decryption, result…");
    let cts: Vec<(RistrettoPoint, RistrettoPoint)> = ballots
        .par_iter()
        .filter_map(|b| match Payload::decode(b.kind(), b.payload()) {
            Ok(Payload::Ballot(bal)) => Some(bal),
            _ => None,
        })
        .flat_map_iter(|bal| {
            bal.ciphertexts()
                .map(|c| (*c.alpha.point(), *c.beta.point()))
                .collect::<Vec<_>>()
        })
        .collect();
    // The homomorphic sum of `ballots` 10-option ballots on all cores, in seconds (the
    // prepared ciphertexts reused in turn: the cost of an addition does not depend on them).
    let sum_secs = |ballots: usize| {
        let t = Instant::now();
        let sum = (0..ballots * 10)
            .into_par_iter()
            .fold(
                || [(RistrettoPoint::default(), RistrettoPoint::default()); 10],
                |mut acc, k| {
                    let (a, b) = cts[k % cts.len()];
                    acc[k % 10].0 += a;
                    acc[k % 10].1 += b;
                    acc
                },
            )
            .reduce(
                || [(RistrettoPoint::default(), RistrettoPoint::default()); 10],
                |mut x, y| {
                    for (p, q) in x.iter_mut().zip(y) {
                        p.0 += q.0;
                        p.1 += q.1;
                    }
                    x
                },
            );
        std::hint::black_box(sum);
        t.elapsed().as_secs_f64()
    };
    let target = 100_000 * 10;
    let sum_s = sum_secs(100_000);
    let mut finished = at_open.clone();
    for chunk in ballots.chunks(1024) {
        finished.apply_batch(chunk);
    }
    let close = &s.entries[s.ballots_at + s.ballots];
    finished.apply(close).map_err(|r| anyhow!("close: {r}"))?;
    let mut keys = s.trustees;
    let t = Instant::now();
    for k in keys.iter_mut().take(2) {
        let x = k.decryption_share(&finished, &mut rand::rngs::OsRng)?;
        finished.apply(&x).map_err(|r| anyhow!("share: {r}"))?;
    }
    let points = finished.combine().map_err(|r| anyhow!("combine: {r}"))?;
    for p in &points {
        urna_crypto::dlog::solve_vartime(p, 100_001).map_err(|e| anyhow!("dlog: {e}"))?;
    }
    let decrypt_s = t.elapsed().as_secs_f64();
    f.insert(
        "tally_sum_additions_per_s".into(),
        json!((2.0 * target as f64 / sum_s).round()),
    );
    f.insert(
        "tally_decrypt_ms_100k".into(),
        json!(round((sum_s + decrypt_s) * 1e3, 1)),
    );

    say("tally of 1,000,000 ballots: homomorphic sum, threshold decryption, result…");
    // The sum grows with the ballots; the decryption shares do not (one per option, whatever
    // the count, so the 10,000-ballot election's time stands); the discrete logs do: each
    // option's total near 100,000, searched up to 1,000,000 as a million ballots require.
    let sum_1m = sum_secs(1_000_000);
    let t = Instant::now();
    for i in 0..10u64 {
        let total = urna_crypto::elgamal::message_point(100_000 + i * 997);
        urna_crypto::dlog::solve_vartime(&total, 1_000_001).map_err(|e| anyhow!("dlog: {e}"))?;
    }
    let result_1m = t.elapsed().as_secs_f64();
    f.insert(
        "tally_decrypt_s_1m".into(),
        json!(round(sum_1m + decrypt_s + result_1m, 2)),
    );

    let record: usize = s.entries.iter().map(|e| e.bytes().len() + 4).sum::<usize>() + 4096;
    f.insert(
        "record_bytes_per_ballot".into(),
        json!((record as f64 / s.ballots as f64).round()),
    );
    f.insert("ballot_entry_bytes".into(), json!(ballots[0].bytes().len()));

    say("key ceremony of 5 trustees (threshold 3), in memory…");
    f.insert(
        "ceremony_5_trustees_ms".into(),
        json!(round(ceremony_ms()?, 1)),
    );

    shuffle_figures(&mut f, if quick { 2_000 } else { 20_000 }, &say)?;

    if json {
        println!("{}", Value::Object(f));
    } else {
        println!(
            "urna bench{} ({} ballots)",
            if quick { " --quick" } else { "" },
            n
        );
        for (k, v) in &f {
            println!("  {k:<28} {v}");
        }
    }
    Ok(())
}

/// One mix of `rows` single-ciphertext rows on all cores (`urna_crypto::shuffle::bench`):
/// ciphertexts per second of wall-clock time, and per CPU-second (the per-core figure, steadier
/// on a shared machine), to re-encrypt and permute, prove, and verify.
fn shuffle_figures(f: &mut Map<String, Value>, rows: usize, say: &dyn Fn(&str)) -> Result<()> {
    say(&format!(
        "verifiable shuffle of {rows} ciphertexts: re-encrypt and permute, prove, verify (all cores)…"
    ));
    let m = urna_crypto::shuffle::bench::measure(rows, 1, &mut rand::rngs::OsRng)
        .map_err(|e| anyhow!("shuffle: {e}"))?;
    let per_cpu = |t: &urna_crypto::shuffle::bench::Timing| {
        t.rate_per_cpu(rows)
            .map_or(Value::Null, |r| json!(r.round()))
    };
    f.insert("shuffle_ciphertexts".into(), json!(rows));
    f.insert("shuffle_per_s".into(), json!(m.shuffle.rate(rows).round()));
    f.insert(
        "shuffle_prove_per_s".into(),
        json!(m.prove.rate(rows).round()),
    );
    f.insert("shuffle_prove_per_cpu_s".into(), per_cpu(&m.prove));
    f.insert(
        "shuffle_verify_per_s".into(),
        json!(m.verify.rate(rows).round()),
    );
    f.insert("shuffle_verify_per_cpu_s".into(), per_cpu(&m.verify));
    f.insert("shuffle_proof_bytes".into(), json!(m.proof_bytes));
    f.insert(
        "shuffle_at_100k".into(),
        json!("cargo run --release -p urna-crypto --example shuffle-bench -- 100000"),
    );
    Ok(())
}

fn ceremony_ms() -> Result<f64> {
    use urna_trustee::{ceremony_in_memory, TrusteeKey};
    let mut rng = rand::rngs::OsRng;
    let keys: Vec<TrusteeKey> = (0..5).map(|_| TrusteeKey::generate(&mut rng)).collect();
    let [a, r, b] = [0; 3].map(|_| urna_crypto::sign::SigningKey::generate(&mut rng));
    let m = synth::manifest(&a, &r, &b, &keys, 3).build()?;
    let setup = Entry::sign(
        &m.election_id,
        urna_election::entry::EntryKind::Setup,
        &urna_crypto::codec::Encode::to_bytes(&Payload::Setup(Box::new(m.clone()))),
        &a,
    )?;
    let mut keys = keys;
    let t = Instant::now();
    let mut e = Election::new();
    e.apply(&setup).map_err(|r| anyhow!("{r}"))?;
    ceremony_in_memory(&mut keys, &mut e, &mut rng, |_| {})?;
    Ok(ms(t.elapsed()))
}

/// One voter's start to verified receipt through the light session (`urna vote`'s path): the
/// voter's view fetched and checked, the ballot encrypted and proved, cast, its receipt
/// verified and its checkpoint proven an extension of the view's. Medians over `voters` of the
/// whole, and of its three parts: the view, the ballot, the cast.
fn light_votes(
    client: &BoardClient,
    origin: &str,
    voters: &[urna_crypto::sign::SigningKey],
) -> Result<[f64; 4]> {
    let mut times: [Vec<f64>; 4] = Default::default();
    for (i, key) in voters.iter().enumerate() {
        let cred = urna_voter::credential::Credential {
            election_id: origin.to_string(),
            key: key.clone(),
        };
        let t = Instant::now();
        let s = urna_voter::cast::Session::open(client, &cred)?;
        let viewed = t.elapsed();
        let mut choices = urna_election::ballot::Choices::default();
        let mut v = vec![0u16; 10];
        v[i % 10] = 1;
        choices.0.insert("seat".into(), v);
        let p = s.prepare(&choices, &mut rand::rngs::OsRng)?;
        let prepared = t.elapsed();
        let cast = s.cast(&p)?;
        if cast.extends != urna_voter::cast::Extends::Proven {
            return Err(anyhow!(
                "the receipt's checkpoint was not proven to extend the view's"
            ));
        }
        let done = t.elapsed();
        for (list, d) in times
            .iter_mut()
            .zip([done, viewed, prepared - viewed, done - prepared])
        {
            list.push(ms(d));
        }
    }
    Ok(times.map(median))
}

/// What `urna bench light` measured.
pub struct Light {
    pub ballots: usize,
    pub entries: u64,
    pub log_bytes: u64,
    pub build_s: f64,
    pub open_s: f64,
    pub vote_to_receipt_ms: f64,
    /// Of which: the view fetched and checked, the ballot made, the cast and its checks.
    pub view_ms: f64,
    pub prepare_ms: f64,
    pub cast_ms: f64,
    pub view_bytes: usize,
    /// The booth in headless Chromium (`--booth`): each voter's start to verified receipt, ms.
    pub booth_ms: Vec<f64>,
    /// Of which, per voter: the booth loaded with the election's view, the voter's view read
    /// and checked, the ballot encrypted and proved, the cast with the receipt's checks (ms).
    pub booth_steps: Value,
    /// The booth's public pages without the log (`--booth`): each cast ballot looked up on a
    /// fresh election page, and the ballot list's newest page; ms and bytes received each.
    pub booth_public: Value,
}

/// Voters on the roll who vote in the booth (headless Chromium) after the measured ones.
const BOOTH_VOTERS: usize = 5;

/// Voters who cast through the light session (`urna vote`'s path), timed.
const MEASURED: usize = 16;

/// Has `BOOTH_VOTERS` voters vote in the booth this board serves, in headless Chromium driven
/// by `web/test/e2e/booth.mjs` (mode `light-timing`), each from loading the booth to the
/// receipt it verified, then each of their ballots looked up and the ballot list read; returns
/// the times the script measured, each step's, and the public pages' times and bytes.
fn booth_votes(
    web: &Path,
    url: &str,
    origin: &str,
    voters: &[urna_crypto::sign::SigningKey],
) -> Result<(Vec<f64>, Value, Value)> {
    let dir = tempfile::tempdir()?;
    let mut creds = Vec::new();
    for (i, k) in voters.iter().enumerate() {
        let path = dir.path().join(format!("v{i}.credential"));
        std::fs::write(
            &path,
            format!(
                "urna-credential-v1\nelection {origin}\nkey {}\n",
                urna_crypto::hex::encode(k.seed())
            ),
        )?;
        creds.push(path);
    }
    let out = std::process::Command::new("node")
        .arg(web.join("test/e2e/booth.mjs"))
        .arg(url)
        .arg(dir.path().join("out"))
        .arg("light-timing")
        .args(&creds)
        .output()
        .context("running node")?;
    if !out.status.success() {
        return Err(anyhow!(
            "the booth run failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or("{}"))?;
    let times = report["light_ms"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .context("the booth run reported no times")?;
    let public = serde_json::json!({
        "lookup_ms": report["lookup_ms"],
        "lookup_bytes": report["lookup_bytes"],
        "ballots_page_ms": report["ballots_page_ms"],
        "ballots_page_bytes": report["ballots_page_bytes"],
        "full_ballots_ms": report["full_ballots_ms"],
        "full_ballots_bytes": report["full_ballots_bytes"],
    });
    Ok((times, report["light_steps_ms"].clone(), public))
}

/// A voter's start to verified receipt on a board holding `ballots` ballots.
///
/// The board's data directory is written directly (it would take hours to make and admit a
/// million valid ballots on two cores): a real manifest, key ceremony, roll of `ballots + 16`
/// credentials in batches of 1,000 and `OpenVoting`, then one ballot per credential, signed by
/// it, whose ciphertexts are fresh encryptions of 0 under the joint key but whose proofs are
/// copied from one valid ballot (so they do not verify), and the board's signed checkpoint over
/// it all. The board opens it as its own log (entries under its own signed checkpoint are not
/// verified again, `specs/board.md` §4), and 16 voters whose credentials have not voted cast
/// real ballots through the light session, which the board verifies in full.
pub fn light(ballots: usize, booth: Option<&Path>, say: &dyn Fn(&str)) -> Result<Light> {
    use rand_chacha::rand_core::SeedableRng;
    use urna_crypto::codec::Encode;
    use urna_crypto::elgamal::Ciphertext;
    use urna_crypto::sign::SigningKey;
    use urna_election::payload::{RollEntry, VoterRoll};
    use urna_ledger::LogStore;

    let t = Instant::now();
    let dir = tempfile::tempdir()?;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(18);
    let authority = SigningKey::generate(&mut rng);
    let registrar = SigningKey::generate(&mut rng);
    let board = SigningKey::generate(&mut rng);
    let mut trustees: Vec<urna_trustee::TrusteeKey> = (0..3)
        .map(|_| urna_trustee::TrusteeKey::generate(&mut rng))
        .collect();
    let manifest = synth::manifest(&authority, &registrar, &board, &trustees, 2)
        .build()
        .map_err(|e| anyhow!("{e}"))?;
    let id = manifest.election_id.clone();
    let sign = |key: &SigningKey, p: &Payload| {
        Entry::sign(&id, p.kind(), &p.to_bytes(), key).map_err(|e| anyhow!("{e}"))
    };
    let mut e = Election::new();
    let setup = sign(&authority, &Payload::Setup(Box::new(manifest.clone())))?;
    e.apply(&setup).map_err(|r| anyhow!("{r}"))?;
    let mut head = vec![setup];
    urna_trustee::ceremony_in_memory(&mut trustees, &mut e, &mut rng, |x| head.push(x))
        .map_err(|e| anyhow!("{e}"))?;
    let ctx = e
        .context()
        .cloned()
        .context("no context after the ceremony")?;
    let voters: Vec<SigningKey> = (0..ballots + MEASURED + BOOTH_VOTERS)
        .into_par_iter()
        .map(|i| {
            let mut seed = [7u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
            SigningKey::from_seed(&seed)
        })
        .collect();
    let roll: Vec<Entry> = voters
        .chunks(1000)
        .enumerate()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|(batch, chunk)| {
            let voters = chunk
                .iter()
                .map(|k| RollEntry {
                    credential: k.verifying_key(),
                    weight: 1,
                    style: 0,
                })
                .collect();
            sign(
                &registrar,
                &Payload::VoterRoll(VoterRoll {
                    batch: batch as u32,
                    voters,
                }),
            )
        })
        .collect::<Result<_>>()?;
    head.extend(roll);
    head.push(sign(&authority, &Payload::OpenVoting)?);
    let mut choices = urna_election::ballot::Choices::default();
    let mut pick = vec![0u16; 10];
    pick[0] = 1;
    choices.0.insert("seat".into(), pick);
    let (template, _) = urna_election::ballot::encrypt_ballot(
        &manifest,
        "all",
        &choices,
        &voters[0].verifying_key(),
        &ctx,
        &mut rng,
    )?;
    let (log, _) = urna_ledger::store::FileLog::open(dir.path())?;
    let mut tree = urna_ledger::merkle::Tree::new();
    let mut append = |entries: &[Entry]| -> Result<()> {
        let at = log.len();
        let raw: Vec<&[u8]> = entries.iter().map(Entry::bytes).collect();
        log.append(at, &raw)?;
        let leaves: Vec<_> = raw
            .par_iter()
            .map(|b| urna_ledger::merkle::leaf_hash(b))
            .collect();
        for l in leaves {
            tree.push(l);
        }
        Ok(())
    };
    append(&head)?;
    for (c, chunk) in voters[..ballots].chunks(8192).enumerate() {
        let made: Vec<Entry> = chunk
            .par_iter()
            .enumerate()
            .map(|(i, k)| {
                let mut rng =
                    rand_chacha::ChaCha20Rng::seed_from_u64((c * 8192 + i) as u64 ^ 0x5eed);
                let mut b = template.clone();
                for contest in &mut b.contests {
                    for s in &mut contest.selections {
                        *s = Ciphertext::encrypt_random(&ctx.joint_key, 0, &mut rng).0;
                    }
                }
                sign(k, &Payload::Ballot(Box::new(b)))
            })
            .collect::<Result<_>>()?;
        append(&made)?;
        if c % 8 == 7 {
            say(&format!("{} ballots written", (c + 1) * 8192));
        }
    }
    let size = tree.size();
    let note = signed_checkpoint(&tree, &id, &board)?;
    log.set_statement(urna_ledger::store::Statement::Checkpoint, &note)?;
    drop(log);
    let log_bytes = std::fs::metadata(dir.path().join(urna_ledger::store::LOG))?.len();
    let build_s = t.elapsed().as_secs_f64();
    say(&format!(
        "{size} entries ({log_bytes} bytes) written in {build_s:.1} s; opening the board…"
    ));
    let m = measure(dir.path(), &id, &board, &voters[ballots..], booth, say)?;
    Ok(Light {
        ballots,
        entries: size,
        log_bytes,
        build_s,
        open_s: m.open_s,
        vote_to_receipt_ms: m.times[0],
        view_ms: m.times[1],
        prepare_ms: m.times[2],
        cast_ms: m.times[3],
        view_bytes: m.view_bytes,
        booth_ms: m.booth_ms,
        booth_steps: m.booth_steps,
        booth_public: m.booth_public,
    })
}

/// What [`measure`] measured on an open board.
struct Measured {
    open_s: f64,
    /// Medians: the whole, the view, the ballot, the cast (ms).
    times: [f64; 4],
    view_bytes: usize,
    booth_ms: Vec<f64>,
    booth_steps: Value,
    booth_public: Value,
}

/// Opens the board of `dir` and serves it on loopback; the first `MEASURED` of `voters` (on
/// the roll, not yet voted) cast through the light session, the next `BOOTH_VOTERS` in the
/// booth if `booth` names the `web/` directory.
fn measure(
    dir: &Path,
    id: &str,
    board: &urna_crypto::sign::SigningKey,
    voters: &[urna_crypto::sign::SigningKey],
    booth: Option<&Path>,
    say: &dyn Fn(&str),
) -> Result<Measured> {
    if voters.len() < MEASURED + BOOTH_VOTERS {
        return Err(anyhow!("too few voters left to measure"));
    }
    let t = Instant::now();
    let opened = urna_board::board::Board::open(dir, id, board.clone())?;
    let open_s = t.elapsed().as_secs_f64();
    say(&format!(
        "board open in {open_s:.1} s ({:?})",
        opened.snapshot
    ));
    let limits = urna_serve::limits::Limits::unlimited();
    let addr = crate::loopback::serve(move || {
        urna_board::server::app_with(urna_board::server::start(opened).0, limits)
    })?;
    let url = format!("http://{addr}");
    let client = BoardClient::new(&url);
    say(&format!(
        "{MEASURED} voters cast through the light session…"
    ));
    let times = light_votes(&client, id, &voters[..MEASURED])?;
    let (booth_ms, booth_steps, booth_public) = match booth {
        Some(web) => {
            say(&format!(
                "{BOOTH_VOTERS} voters vote in the booth (headless Chromium)…"
            ));
            booth_votes(web, &url, id, &voters[MEASURED..MEASURED + BOOTH_VOTERS])?
        }
        None => (Vec::new(), Value::Null, Value::Null),
    };
    let view_bytes = ureq::get(&format!(
        "{url}/voter/{}",
        urna_crypto::hex::encode(voters[0].verifying_key().as_bytes())
    ))
    .call()?
    .into_body()
    .read_to_vec()?
    .len();
    Ok(Measured {
        open_s,
        times,
        view_bytes,
        booth_ms,
        booth_steps,
        booth_public,
    })
}

/// [`light`] on the election of a record `urna bench record` wrote (its board, authority and
/// registrar keys are the generator's): its entries up to the poll's close are written into a
/// board directory (`dir`, which must not exist; a temporary one if `None`) as the board's
/// writer would — log, index, signed checkpoint, and a snapshot of the rules' state at the end,
/// so that the board opens from it as after a restart — with one more roll batch before
/// `OpenVoting` naming the voters who then cast (the record's voters have all voted). A
/// million ballots in minutes instead of the hours of making them.
pub fn light_record(
    record: &Path,
    dir: Option<&Path>,
    booth: Option<&Path>,
    say: &dyn Fn(&str),
) -> Result<Light> {
    use urna_crypto::codec::Encode;
    use urna_election::entry::EntryKind;
    use urna_election::payload::{RollEntry, VoterRoll};
    use urna_ledger::store::{FileLog, LogStore, Statement};
    let t = Instant::now();
    let temp = match dir {
        Some(_) => None,
        None => Some(tempfile::tempdir()?),
    };
    let dir = match (dir, &temp) {
        (Some(d), _) => d.to_path_buf(),
        (None, Some(t)) => t.path().to_path_buf(),
        (None, None) => return Err(anyhow!("no directory")),
    };
    if dir.join(urna_ledger::store::LOG).exists() {
        return Err(anyhow!(
            "{} holds a log already: give a new directory",
            dir.display()
        ));
    }
    let (log, _) = FileLog::open(&dir)?;
    let (index, fresh) = urna_board::index::Index::open(&dir.join(urna_board::board::INDEX))?;
    index.reconcile(&urna_ledger::merkle::Tree::new(), &log, fresh)?;
    let mut w = Filler {
        index,
        log,
        tree: urna_ledger::merkle::Tree::new(),
        state: Some(Election::reading_back()),
        // Never reached: the state is taken whole at the end.
        target: Some(u64::MAX),
        ballots: 0,
        tail: 0,
        captured: None,
        pause: 0.0,
        failed: None,
    };
    let board = synth::board_key(1);
    let registrar = synth::registrar_key(1);
    let f = std::fs::File::open(record).with_context(|| format!("opening {}", record.display()))?;
    let mut r = urna_verifier::record::Reader::open(std::io::BufReader::with_capacity(1 << 20, f))?;
    let (mut batches, mut ballots, mut voters) = (0u32, 0usize, Vec::new());
    'read: loop {
        let chunk = r.chunk(4096)?;
        if chunk.is_empty() {
            break;
        }
        let entries = chunk
            .into_par_iter()
            .map(Entry::decode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow!("{}: {e}", record.display()))?;
        let mut from = 0;
        for (i, e) in entries.iter().enumerate() {
            match e.kind() {
                EntryKind::VoterRoll => batches += 1,
                EntryKind::Ballot => ballots += 1,
                EntryKind::OpenVoting => {
                    // The voters who will cast, on one more roll batch before the poll opens.
                    w.take(&entries[from..i]);
                    from = i;
                    let first = 1usize << 40;
                    voters = (first..first + MEASURED + BOOTH_VOTERS)
                        .map(|n| synth::voter(1, n))
                        .collect();
                    let roll = Payload::VoterRoll(VoterRoll {
                        batch: batches,
                        voters: voters
                            .iter()
                            .map(|k| RollEntry {
                                credential: k.verifying_key(),
                                weight: 1,
                                style: 0,
                            })
                            .collect(),
                    });
                    let entry =
                        Entry::sign(synth::ORIGIN, roll.kind(), &roll.to_bytes(), &registrar)
                            .map_err(|e| anyhow!("{e}"))?;
                    w.take(&[entry]);
                }
                EntryKind::CloseVoting => {
                    w.take(&entries[from..i]);
                    break 'read;
                }
                _ => {}
            }
        }
        w.take(&entries[from..]);
        if r.read % 20_480 < 4096 {
            say(&format!("{} entries written", r.read));
        }
    }
    if let Some(e) = w.failed.take() {
        return Err(anyhow!(e));
    }
    if voters.is_empty() {
        return Err(anyhow!("{}: the poll never opens", record.display()));
    }
    let size = w.tree.size();
    let note = signed_checkpoint(&w.tree, synth::ORIGIN, &board)?;
    w.log.set_statement(Statement::Checkpoint, &note)?;
    let election = w.state.take().context("no state")?;
    if election.size() != size {
        return Err(anyhow!(
            "the rules admitted {} of {size} entries",
            election.size()
        ));
    }
    let leaves = w.tree.leaves()[..size as usize].to_vec();
    let root = w.tree.root(size).map_err(|e| anyhow!("{e}"))?;
    drop(w);
    urna_board::snapshot::Capture {
        size,
        root,
        leaves,
        election,
    }
    .write(&dir, synth::ORIGIN, &board)?;
    let log_bytes = std::fs::metadata(dir.join(urna_ledger::store::LOG))?.len();
    let build_s = t.elapsed().as_secs_f64();
    say(&format!(
        "{size} entries ({log_bytes} bytes) written with a snapshot in {build_s:.1} s; opening the board…"
    ));
    let m = measure(&dir, synth::ORIGIN, &board, &voters, booth, say)?;
    Ok(Light {
        ballots,
        entries: size,
        log_bytes,
        build_s,
        open_s: m.open_s,
        vote_to_receipt_ms: m.times[0],
        view_ms: m.times[1],
        prepare_ms: m.times[2],
        cast_ms: m.times[3],
        view_bytes: m.view_bytes,
        booth_ms: m.booth_ms,
        booth_steps: m.booth_steps,
        booth_public: m.booth_public,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_shuffle_figures_are_reported() {
        let mut f = Map::new();
        shuffle_figures(&mut f, 40, &|_| {}).unwrap();
        for k in [
            "shuffle_prove_per_s",
            "shuffle_verify_per_s",
            "shuffle_proof_bytes",
            "shuffle_at_100k",
        ] {
            assert!(f.contains_key(k), "{k} missing: {f:?}");
        }
        assert_eq!(f["shuffle_ciphertexts"], json!(40));
    }
}
