//! Figures for the board on PostgreSQL (README, `specs/storage.md` §7): a primary and two
//! synchronous standbys on loopback, three `urna board serve --store` processes (one
//! sequencer, two followers).
//!
//! - durable replicated ballots/s, submitted to the sequencer; to one follower (which
//!   verifies the proofs and forwards them attested, `specs/storage.md` §5a); and to both
//!   followers;
//! - each process's CPU per ballot (user + system, from `/proc`) in each of those: the
//!   sequencer's with verification offloaded (clients → followers) against not (clients →
//!   sequencer);
//! - failover time to the first new receipt: `kill -9` of the sequencing board; `kill -9` of
//!   the primary, promotion of the most advanced standby at once (as a failover manager would),
//!   with the CPU the board process reopening the log spent meanwhile (its opening: a figure
//!   that, unlike the time, a loaded machine does not stretch).
//!
//! `cargo build --release -p urna-cli && cargo run --release -p urna-cli --example
//! pg-board-figures [-- BALLOTS]` (default 1,200 ballots; `URNA_WAL_RETRY=5s` for the
//! standbys' default reconnection interval; `URNA_FIGURES_BALLOT=plurality` for the
//! 10-option plurality ballot of `urna bench` instead of the example manifest's, whose score
//! contest's range proof dominates verification; `URNA_FIGURES_LOGS=DIR` to keep the board
//! processes' logs; `URNA_FIGURES_SNAPSHOT_EVERY=N` for the boards' `--snapshot-every`, 0 for
//! no snapshots, to time a primary's failover at a larger log — say `-- 50000` — with and
//! without one, `specs/storage.md` §3a). It runs the `urna` binary beside its own directory
//! (`target/release/urna`), or `URNA_BIN`. Not a test: nothing is asserted.
//!
//! Two more modes (`specs/storage.md` §7):
//!
//! - `URNA_FIGURES_RECORD=FILE` (a record `urna bench record` wrote): reopening at scale. The
//!   record's entries up to its poll's closing (or its first `URNA_FIGURES_ENTRIES`) are loaded into the database through the
//!   store's fenced append, with a checkpoint and a snapshot of the rules' state signed with
//!   the record's board key, as the board's own processes would have left them, the snapshot
//!   `URNA_FIGURES_TAIL` entries (default 5,000) before the log's end; then two board
//!   processes open that log (each one's opening timed), and the failovers above are measured
//!   on it, each new receipt a revote by one of the record's voters. Only the loading is not
//!   the board's own: every opening, takeover and replay measured is.
//!   `URNA_FIGURES_SCHEMA_2=1` leaves the database in schema version 2's layout, for a
//!   `URNA_BIN` of before version 3 (`specs/storage.md` §3).
//! - `URNA_FIGURES_MACHINES=F`: admission with 1, 2 and 3 board processes, each held to `F` of
//!   a core (a cgroup v1 `cpu` quota under `/sys/fs/cgroup/cpu`, and `taskset` onto one CPU,
//!   alternating) as stand-ins for machines of their own, the clients spread over all of
//!   them; the PostgreSQL servers and the clients are not held.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use urna_client::BoardClient;
use urna_crypto::codec::Encode;
use urna_crypto::sign::{SigningKey, VerifyingKey};
use urna_election::entry::Entry;
use urna_election::state::Election;
use urna_pgcluster::Cluster;
use urna_pgstore::{Identity, Options, PgStore, Statement};
use urna_sim::{kit, synth};

const PASSPHRASE: &str = "figures passphrase";

fn urna_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("URNA_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("urna")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// User + system CPU seconds of process `pid`.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// Resident and peak resident memory of process `pid` (`VmRSS`, `VmHWM` from `/proc`), in MB.
fn rss(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |field: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    format!(
        "RSS {:.0} MB (peak {:.0} MB)",
        kb("VmRSS:") / 1024.0,
        kb("VmHWM:") / 1024.0
    )
}

/// Where a board process runs: onto one CPU (`taskset`), and into a cgroup v1 `cpu` group that
/// holds it to a share of that CPU.
struct Placement {
    cpu: usize,
    group: PathBuf,
}

fn serve(
    key: &Path,
    pass: &Path,
    origin: &str,
    store: &str,
    log: &Path,
    at: Option<&Placement>,
) -> (Child, String) {
    let port = free_port();
    let mut cmd = match at {
        Some(p) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(p.cpu.to_string()).arg(urna_bin());
            c
        }
        None => Command::new(urna_bin()),
    };
    let child = cmd
        .args(["board", "serve", "--origin", origin, "--store", store])
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--key")
        .arg(key)
        .arg("--passphrase-file")
        .arg(pass)
        .args(["--read-rate", "1000000", "--read-burst", "1000000"])
        .args(["--submit-rate", "1000000", "--submit-burst", "1000000"])
        .args(
            std::env::var("URNA_FIGURES_SNAPSHOT_EVERY")
                .ok()
                .map(|n| vec!["--snapshot-every".to_string(), n])
                .unwrap_or_default(),
        )
        .env("URNA_KDF_COST", "test")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    if let Some(p) = at {
        std::fs::write(p.group.join("cgroup.procs"), child.id().to_string()).unwrap();
    }
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, format!("http://127.0.0.1:{port}"))
}

/// Submits `ballots` from `threads` clients, client `i` to `urls[i % urls.len()]`; returns
/// ballots per second.
fn load(urls: &[&str], ballots: &[Entry], origin: &str, vk: &VerifyingKey, threads: usize) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let next = next.clone();
            let client = BoardClient::new(urls[t % urls.len()]);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(b) = ballots.get(i) else { return };
                client
                    .submit_retrying(b.bytes(), origin, vk, Duration::from_secs(60))
                    .unwrap();
            });
        }
    });
    ballots.len() as f64 / start.elapsed().as_secs_f64()
}

/// Submits a ballot to `url` until it gets a receipt (resubmitting is idempotent); the time
/// from `t0`.
fn first_receipt(
    url: &str,
    ballot: &Entry,
    origin: &str,
    vk: &VerifyingKey,
    t0: Instant,
) -> Duration {
    let client = BoardClient::new(url);
    loop {
        match client.submit(ballot.bytes(), origin, vk) {
            Ok(_) => return t0.elapsed(),
            Err(e) if e.is_transient() => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("{e}"),
        }
    }
}

/// One 10-option plurality contest, the ballot `urna bench` measures.
fn plurality_contest() -> String {
    let options: Vec<String> = (0..10)
        .map(|i| format!("  {{ id = \"o{i}\", name = \"Option {i}\" }},"))
        .collect();
    format!(
        "[[contests]]\nid = \"seat\"\ntitle = \"Seat\"\nkind = \"plurality\"\noptions = [\n{}\n]\n\n\
         [[ballot_styles]]\nid = \"all\"\ncontests = [\"seat\"]\n",
        options.join("\n")
    )
}

/// The board key sealed under the figures' passphrase, and the passphrase's file, in `dir`.
fn key_files(dir: &Path, board: &SigningKey) -> (PathBuf, PathBuf) {
    let key = dir.join("board.key");
    let sealed = urna_crypto::keyfile::seal(
        board.seed(),
        PASSPHRASE.as_bytes(),
        urna_crypto::keyfile::Cost::TEST,
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    std::fs::write(&key, sealed).unwrap();
    let pass = dir.join("board.pass");
    std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&pass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    (key, pass)
}

fn board_init(origin: &str, store: &str, key: &Path, pass: &Path) {
    let init = Command::new(urna_bin())
        .args([
            "board", "init", "--origin", origin, "--store", store, "--key",
        ])
        .arg(key)
        .arg("--passphrase-file")
        .arg(pass)
        .env("URNA_KDF_COST", "test")
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
}

/// A primary and two synchronous standbys; a standby pointed at a promoted primary reconnects
/// after `wal_retrieve_retry_interval` (5 s by default): until then the new primary has no
/// synchronous standby and the boards wait. URNA_WAL_RETRY sets it (default 200ms, as a
/// failover deployment would).
fn cluster() -> Cluster {
    let retry = std::env::var("URNA_WAL_RETRY").unwrap_or_else(|_| "200ms".into());
    Cluster::builder()
        .standbys(2)
        .setting("wal_retrieve_retry_interval", &format!("'{retry}'"))
        .start()
        .unwrap()
}

/// The last line of a board process's log that says how it opened the log.
fn opened(log: &Path) -> String {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .rev()
        .find(|l| l.contains("opened the log"))
        .unwrap_or("(no opening logged)")
        .to_string()
}

/// A kit election: its set-up entries, `n + 3` ballots of one voter each (the last three kept
/// for the failovers' new receipts), the kit.
fn kit_election(n: usize) -> (Vec<Entry>, Vec<Entry>, kit::Kit) {
    // The example manifest's ballot (four contests, one of them a score contest whose range
    // proof is verified on its own, not in the batch), or with URNA_FIGURES_BALLOT=plurality
    // the 10-option plurality ballot of `urna bench`.
    let plurality = std::env::var("URNA_FIGURES_BALLOT").is_ok_and(|b| b == "plurality");
    let cfg = kit::Config {
        trustees: 3,
        threshold: 2,
        voters: (0..n + 3).map(|_| (1, 0)).collect(),
        contests: plurality.then(plurality_contest),
        ..kit::Config::default()
    };
    let mut k = kit::Kit::new(5, cfg);
    let mut setup = vec![k.setup()];
    setup.extend(k.ceremony());
    for (b, lo) in (0..n + 3).step_by(1000).enumerate() {
        setup.push(k.roll(b as u32, lo..(lo + 1000).min(n + 3)));
    }
    setup.push(k.open());
    let mut e = Election::new();
    kit::apply_all(&mut e, &setup);
    let ctx = e.context().unwrap().clone();
    eprintln!("making {} ballots…", n + 3);
    let ballots: Vec<Entry> = {
        use rand::SeedableRng;
        use rayon::prelude::*;
        let k = &k;
        (0..n + 3)
            .into_par_iter()
            .map(|v| {
                let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(v as u64);
                let voter = &k.voters[v];
                let style = &k.manifest.ballot_styles[usize::from(voter.style)].id;
                let c = urna_election::ballot::Choices::random(&k.manifest, voter.style, &mut rng);
                let (b, _) = urna_election::ballot::encrypt_ballot(
                    &k.manifest,
                    style,
                    &c,
                    &voter.key.verifying_key(),
                    &ctx,
                    &mut rng,
                )
                .unwrap();
                k.ballot_entry(v, b)
            })
            .collect()
    };
    (setup, ballots, k)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1200);
    if let Some(record) = std::env::var_os("URNA_FIGURES_RECORD") {
        let tail = std::env::var("URNA_FIGURES_TAIL")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(5000);
        let limit = std::env::var("URNA_FIGURES_ENTRIES")
            .ok()
            .and_then(|t| t.parse().ok());
        return reopening(Path::new(&record), limit, tail);
    }
    if let Some(share) = std::env::var("URNA_FIGURES_MACHINES")
        .ok()
        .and_then(|f| f.parse::<f64>().ok())
    {
        return machines(n, share);
    }
    let (setup, ballots, k) = kit_election(n);
    let mut cluster = cluster();
    let dir = tempfile::tempdir().unwrap();
    let (key, pass) = key_files(dir.path(), &k.board);
    let origin = k.id().to_string();
    let store = cluster.url();
    board_init(&origin, &store, &key, &pass);
    let (a, a_url) = serve(
        &key,
        &pass,
        &origin,
        &store,
        &dir.path().join("a.log"),
        None,
    );
    std::thread::sleep(Duration::from_millis(500));
    let (b, b_url) = serve(
        &key,
        &pass,
        &origin,
        &store,
        &dir.path().join("b.log"),
        None,
    );
    let (mut c, c_url) = serve(
        &key,
        &pass,
        &origin,
        &store,
        &dir.path().join("c.log"),
        None,
    );
    let vk = k.board.verifying_key();
    let client = BoardClient::new(&a_url);
    for x in &setup {
        client
            .submit_retrying(x.bytes(), &origin, &vk, Duration::from_secs(30))
            .unwrap();
    }

    // Three runs of a third of the ballots each: clients → the sequencer (it verifies every
    // proof); → one follower (it verifies, the sequencer checks its attestations); → both.
    let third = n / 3;
    let runs: [(&str, Vec<&str>, std::ops::Range<usize>); 3] = [
        ("sequencer", vec![&a_url], 0..third),
        ("follower 1", vec![&b_url], third..2 * third),
        ("followers 1 and 2", vec![&b_url, &c_url], 2 * third..n),
    ];
    let cpu = |a: &Child, b: &Child, c: &Child| {
        [
            cpu_seconds(a.id()),
            cpu_seconds(b.id()),
            cpu_seconds(c.id()),
        ]
    };
    let ms = |s: f64, k: usize| s * 1000.0 / k as f64;
    for (to, urls, range) in runs {
        let count = range.len();
        let before = cpu(&a, &b, &c);
        let rate = load(&urls, &ballots[range], &origin, &vk, 32);
        let after = cpu(&a, &b, &c);
        println!(
            "32 clients → {to}: {rate:.0} durable replicated ballots/s; CPU per ballot: \
             sequencer {:.2} ms, follower 1 {:.2} ms, follower 2 {:.2} ms",
            ms(after[0] - before[0], count),
            ms(after[1] - before[1], count),
            ms(after[2] - before[2], count)
        );
    }
    let _ = c.kill();
    let _ = c.wait();
    let failed_over = Failovers {
        cluster: &mut cluster,
        dir: dir.path(),
        origin: &origin,
        vk: &vk,
        len: (setup.len() + n) as u64,
    };
    failed_over.run(a, b, &b_url, &ballots[n..]);
}

/// The failovers on a running cluster with a sequencing board process and a following one.
struct Failovers<'a> {
    cluster: &'a mut Cluster,
    dir: &'a Path,
    origin: &'a str,
    vk: &'a VerifyingKey,
    /// The log's length before the first of `fresh` is submitted.
    len: u64,
}

impl Failovers<'_> {
    /// `kill -9` of the sequencing board `a` (the follower `b` takes the lease); `kill -9` of
    /// the primary, with and without the stored snapshot, `b` reopening the log each time;
    /// each timed to `b`'s receipt of one of three `fresh` entries.
    fn run(self, mut a: Child, mut b: Child, b_url: &str, fresh: &[Entry]) {
        let (origin, vk) = (self.origin, self.vk);
        let dir = self.dir;
        let b_log = dir.join("b.log");
        let cluster = self.cluster;
        // The sequencer's death: the follower takes the lease.
        let t0 = Instant::now();
        let _ = a.kill();
        let _ = a.wait();
        let d = first_receipt(b_url, &fresh[0], origin, vk, t0);
        println!(
            "sequencer kill -9 → first new receipt (from the other board): {} ms",
            d.as_millis()
        );

        // The primary's death: promote the most advanced standby at once.
        let old = cluster.primary();
        let cpu0 = cpu_seconds(b.id());
        let t0 = Instant::now();
        cluster.kill(old).unwrap();
        let new = cluster.failover().unwrap();
        let promoted = t0.elapsed();
        let d = first_receipt(b_url, &fresh[1], origin, vk, t0);
        println!(
            "primary kill -9 → node{new} promoted {} ms → first new receipt {} ms, the board's \
             CPU meanwhile {:.2} s, {} (a log of {} entries; the board reopening it: {})",
            promoted.as_millis(),
            d.as_millis(),
            cpu_seconds(b.id()) - cpu0,
            rss(b.id()),
            self.len + 1,
            opened(&b_log)
        );
        if std::env::var_os("URNA_FIGURES_NO_ZERO").is_some() {
            let _ = b.kill();
            let _ = b.wait();
            keep_logs(dir);
            return;
        }
        // Once more without the snapshot: the old primary rebuilt as a standby, the stored
        // snapshot deleted, the new primary killed (every board process then replays from
        // zero).
        cluster.rebuild(old).unwrap();
        cluster.wait_synchronous(2).unwrap();
        let mut su = cluster
            .superuser_on(cluster.primary(), urna_pgcluster::DATABASE)
            .unwrap();
        // Committed on a standby too (the superuser's session commits locally by default), so
        // that the promoted server has no snapshot either.
        su.batch_execute("SET synchronous_commit = on").unwrap();
        let deleted = su.execute("DELETE FROM urna.snapshots", &[]).unwrap();
        drop(su);
        let old = cluster.primary();
        let cpu0 = cpu_seconds(b.id());
        let t0 = Instant::now();
        cluster.kill(old).unwrap();
        let new = cluster.failover().unwrap();
        let promoted = t0.elapsed();
        let d = first_receipt(b_url, &fresh[2], origin, vk, t0);
        println!(
            "primary kill -9 again, the stored snapshot deleted ({deleted} row) → node{new} \
             promoted {} ms → first new receipt {} ms, the board's CPU meanwhile {:.2} s (a log \
             of {} entries, replayed from zero: {})",
            promoted.as_millis(),
            d.as_millis(),
            cpu_seconds(b.id()) - cpu0,
            self.len + 2,
            opened(&b_log)
        );
        let _ = b.kill();
        let _ = b.wait();
        keep_logs(dir);
    }
}

fn keep_logs(dir: &Path) {
    if let Some(to) = std::env::var_os("URNA_FIGURES_LOGS") {
        let to = PathBuf::from(to);
        for f in ["a.log", "b.log", "c.log"] {
            let _ = std::fs::copy(dir.join(f), to.join(f));
        }
    }
}

/// Loads the entries of the record at `path` up to its poll's closing, or its first `limit`,
/// into the store at `url`, as the board's processes would have left them: through the store's fenced append
/// (holding the lease), the checkpoint of the whole signed with the record's board key, and a
/// snapshot of the rules' state `tail` entries before the end, signed as a board process
/// signs one (`specs/storage.md` §3a). The state is computed from the entries with their
/// signatures and proofs taken as verified (the record's generator admitted them; `urna
/// verify` checks a record). Returns the log's length and three revotes, by the record's
/// first three voters, for new receipts.
fn load_record(path: &Path, url: &str, limit: Option<u64>, tail: u64) -> (u64, Vec<Entry>) {
    use rayon::prelude::*;
    use urna_election::entry::EntryKind;
    let board = synth::board_key(1);
    let pg = PgStore::open(
        url,
        Identity {
            origin: synth::ORIGIN.to_string(),
            board_key: *board.verifying_key().as_bytes(),
        },
        Options::default(),
    )
    .unwrap();
    assert!(pg.try_acquire_lease().unwrap());
    let f = std::fs::File::open(path).unwrap();
    let mut r =
        urna_verifier::record::Reader::open(std::io::BufReader::with_capacity(1 << 20, f)).unwrap();
    let mut tree = urna_ledger::merkle::Tree::new();
    // The record ends with the poll's closing, the trustees' shares and the result; the
    // log loaded stops before the closing, so that ballots are still taken.
    let end = limit.unwrap_or(u64::MAX).min(r.count.saturating_sub(4));
    let at = end.saturating_sub(tail);
    // The rules' state to the snapshot's size, on a thread of its own while the entries are
    // appended (each is most of a core at times: overlapped, the loading takes about the
    // longer of the two).
    let (to_state, chunks) = std::sync::mpsc::sync_channel::<Vec<Entry>>(4);
    let applying = std::thread::spawn(move || {
        let mut state = Election::reading_back();
        for entries in chunks {
            let upto = at.saturating_sub(state.size()).min(entries.len() as u64) as usize;
            for v in state.apply_batch_verified(&entries[..upto]) {
                v.unwrap();
            }
            if state.size() == at {
                return Some(state);
            }
        }
        None
    });
    let mut to_state = Some(to_state);
    let t = Instant::now();
    while tree.size() < end {
        let chunk = r.chunk(2048.min(end - tree.size())).unwrap();
        if chunk.is_empty() {
            break;
        }
        let entries = chunk
            .into_par_iter()
            .map(Entry::decode)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert!(
            entries.iter().all(|e| e.kind() != EntryKind::CloseVoting),
            "not a record of `urna bench record`"
        );
        let from = tree.size();
        let leaves: Vec<_> = entries
            .par_iter()
            .map(|e| urna_ledger::merkle::leaf_hash(e.bytes()))
            .collect();
        for l in leaves {
            tree.push(l);
        }
        let raw: Vec<&[u8]> = entries.iter().map(|e| e.bytes()).collect();
        pg.append(from, &raw).unwrap();
        drop(raw);
        if from <= at {
            // The state thread stops taking chunks once it has the snapshot's size.
            if let Some(tx) = &to_state {
                if tx.send(entries).is_err() {
                    to_state = None;
                }
            }
        }
        eprint!("\r{} entries loaded", tree.size());
    }
    drop(to_state);
    let captured = applying.join().unwrap();
    let size = tree.size();
    assert_eq!(size, end, "not a record of `urna bench record`");
    let note = urna_ledger::note::Checkpoint {
        origin: synth::ORIGIN.to_string(),
        size,
        root: tree.root(size).unwrap(),
    }
    .sign(&board);
    pg.set_statement(Statement::Checkpoint, &note).unwrap();
    let snap = captured.expect("a record longer than the tail");
    let at = snap.size();
    let manifest = snap.manifest().unwrap().clone();
    let ctx = snap.context().unwrap().clone();
    let stored = urna_board::snapshot::Capture {
        size: at,
        root: tree.root(at).unwrap(),
        leaves: tree.leaves()[..at as usize].to_vec(),
        election: snap,
    }
    .stored(synth::ORIGIN, &board);
    assert!(pg.put_snapshot(at, &stored).unwrap());
    pg.release_lease().unwrap();
    eprintln!(
        "\r{size} entries loaded in {:.1} s, a snapshot of {at} stored ({} bytes)",
        t.elapsed().as_secs_f64(),
        stored.len()
    );
    let revotes = (0..3)
        .map(|v| {
            use rand::SeedableRng;
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(v);
            let k = synth::voter(1, v as usize);
            let mut c = urna_election::ballot::Choices::default();
            c.0.insert("seat".into(), (0..10).map(|i| u16::from(i == 0)).collect());
            let (b, _) = urna_election::ballot::encrypt_ballot(
                &manifest,
                "all",
                &c,
                &k.verifying_key(),
                &ctx,
                &mut rng,
            )
            .unwrap();
            let p = urna_election::payload::Payload::Ballot(Box::new(b));
            Entry::sign(&manifest.election_id, p.kind(), &p.to_bytes(), &k).unwrap()
        })
        .collect();
    (size, revotes)
}

/// Reopening at scale: a log loaded from a record (its snapshot `tail` entries from its end),
/// two board processes opening it, then the failovers.
fn reopening(record: &Path, limit: Option<u64>, tail: u64) {
    let mut cluster = cluster();
    let dir = tempfile::tempdir().unwrap();
    let board = synth::board_key(1);
    let (key, pass) = key_files(dir.path(), &board);
    let store = cluster.url();
    board_init(synth::ORIGIN, &store, &key, &pass);
    // For a `URNA_BIN` that reads schema version 2 (before the leaf hashes were in the
    // entries' primary key): loaded in this example's version, then taken back to 2's layout.
    let v2 = std::env::var_os("URNA_FIGURES_SCHEMA_2").is_some();
    let superuser = || {
        cluster
            .superuser_on(cluster.primary(), urna_pgcluster::DATABASE)
            .unwrap()
    };
    if v2 {
        superuser()
            .batch_execute(urna_pgstore::MIGRATE_FROM_2)
            .unwrap();
    }
    let (len, revotes) = load_record(record, &store, limit, tail);
    // A log that grew over an election has had autovacuum's pass every ~10,000 inserts (§3:
    // the leaf hashes read from the primary key alone where the visibility map is current);
    // one loaded in a minute or two has not. Wait for the pass that follows the loading, as
    // a failover would find it at most a minute or so of inserts behind.
    let t = Instant::now();
    let behind = loop {
        let left: i64 = superuser()
            .query_one(
                "SELECT coalesce(n_ins_since_vacuum, 0) FROM pg_stat_user_tables \
                 WHERE relid = 'urna.entries'::regclass",
                &[],
            )
            .map(|r| r.get(0))
            .unwrap_or(-1);
        if (0..10_000).contains(&left) || t.elapsed() > Duration::from_secs(150) {
            break left;
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    println!(
        "autovacuum: {behind} entries inserted since its last pass on urna.entries (waited {:.0} s)",
        t.elapsed().as_secs_f64()
    );
    if v2 {
        let mut su = superuser();
        su.batch_execute("SET synchronous_commit = on").unwrap();
        su.batch_execute(
            "ALTER TABLE urna.entries DROP CONSTRAINT entries_pkey, \
             ADD CONSTRAINT entries_pkey PRIMARY KEY (idx); \
             ALTER TABLE urna.entries RESET (autovacuum_vacuum_insert_threshold, \
             autovacuum_vacuum_insert_scale_factor); \
             UPDATE urna.meta SET schema_version = 2",
        )
        .unwrap();
    }
    let open = |name: &str| {
        let log = dir.path().join(format!("{name}.log"));
        let t0 = Instant::now();
        let (child, url) = serve(&key, &pass, synth::ORIGIN, &store, &log, None);
        println!(
            "board process {name} serving {} ms after its start, {:.2} s CPU, {}: {}",
            t0.elapsed().as_millis(),
            cpu_seconds(child.id()),
            rss(child.id()),
            opened(&log)
        );
        (child, url)
    };
    let (a, _) = open("a");
    let (b, b_url) = open("b");
    let vk = board.verifying_key();
    Failovers {
        cluster: &mut cluster,
        dir: dir.path(),
        origin: synth::ORIGIN,
        vk: &vk,
        len,
    }
    .run(a, b, &b_url, &revotes);
}

const CGROUP_CPU: &str = "/sys/fs/cgroup/cpu";

/// A cgroup v1 `cpu` group holding its processes to `share` of a core (none: not held), and
/// weighted far above the machine's other processes, so that other work on the VM does not
/// take what a stand-in machine would have to itself.
struct Group(PathBuf);

impl Group {
    fn new(name: &str, share: Option<f64>) -> Group {
        let dir = PathBuf::from(CGROUP_CPU).join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cpu.shares"), "65536").unwrap();
        if let Some(share) = share {
            let period = 100_000u64;
            std::fs::write(dir.join("cpu.cfs_period_us"), period.to_string()).unwrap();
            std::fs::write(
                dir.join("cpu.cfs_quota_us"),
                ((period as f64 * share) as u64).to_string(),
            )
            .unwrap();
        }
        Group(dir)
    }

    /// Seconds its processes were held back at the quota, so far.
    fn throttled(&self) -> f64 {
        std::fs::read_to_string(self.0.join("cpu.stat"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("throttled_time "))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1e9
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Admission with 1, 2, … `URNA_FIGURES_PROCESSES` (default 3) board processes held to `share`
/// of a core each (stand-ins for machines), the clients spread over the sequencer alone, over
/// the sequencer and the follower, and from three processes on over the followers (the
/// sequencer then verifies no proof); a fresh cluster and
/// board for each, `n` ballots each. This process (the clients) and the PostgreSQL servers it
/// starts are in a group of their own, weighted as the boards' but not held.
fn machines(n: usize, share: f64) {
    let (setup, ballots, k) = kit_election(n);
    let origin = k.id().to_string();
    let vk = k.board.verifying_key();
    let me = std::process::id().to_string();
    let rest = Group::new(&format!("urna-figures-{me}-rest"), None);
    std::fs::write(rest.0.join("cgroup.procs"), &me).unwrap();
    let most = std::env::var("URNA_FIGURES_PROCESSES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(3usize);
    for count in 1..=most {
        let cluster = cluster();
        let dir = tempfile::tempdir().unwrap();
        let (key, pass) = key_files(dir.path(), &k.board);
        let store = cluster.url();
        board_init(&origin, &store, &key, &pass);
        let groups: Vec<Group> = (0..count)
            .map(|i| Group::new(&format!("urna-figures-{me}-{i}"), Some(share)))
            .collect();
        let mut procs: Vec<(Child, String)> = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            let at = Placement {
                cpu: i % 2,
                group: g.0.clone(),
            };
            let log = dir.path().join(format!("{i}.log"));
            procs.push(serve(&key, &pass, &origin, &store, &log, Some(&at)));
            if i == 0 {
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        let client = BoardClient::new(&procs[0].1);
        for x in &setup {
            client
                .submit_retrying(x.bytes(), &origin, &vk, Duration::from_secs(30))
                .unwrap();
        }
        let to = usize::from(count >= 3);
        let urls: Vec<&str> = procs[to..].iter().map(|p| p.1.as_str()).collect();
        let cpu0: Vec<f64> = procs.iter().map(|p| cpu_seconds(p.0.id())).collect();
        let held0: Vec<f64> = groups.iter().map(Group::throttled).collect();
        let t0 = Instant::now();
        let rate = load(&urls, &ballots[..n], &origin, &vk, 32);
        let wall = t0.elapsed().as_secs_f64();
        let per: Vec<String> = procs
            .iter()
            .zip(&cpu0)
            .zip(groups.iter().zip(&held0))
            .enumerate()
            .map(|(i, ((p, c0), (g, h0)))| {
                let cpu = cpu_seconds(p.0.id()) - c0;
                format!(
                    "{} on CPU {}: {:.2} ms a ballot, {:.0} % of its share used, held back {:.0} % \
                     of the run",
                    if i == 0 { "sequencer" } else { "follower" },
                    i % 2,
                    cpu * 1000.0 / n as f64,
                    cpu / wall / share * 100.0,
                    (g.throttled() - h0) / wall * 100.0
                )
            })
            .collect();
        println!(
            "{count} board process(es) of {share} core each, 32 clients over {}: {rate:.0} \
             durable replicated ballots/s; {}",
            ["the sequencer", "both", "the followers"][count.min(3) - 1],
            per.join("; ")
        );
        for (mut c, _) in procs {
            let _ = c.kill();
            let _ = c.wait();
        }
        drop(groups);
        drop(cluster);
    }
    std::fs::write(Path::new(CGROUP_CPU).join("cgroup.procs"), &me).unwrap();
}
