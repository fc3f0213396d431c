//! The board on PostgreSQL with synchronous replication, driven through the built binary: a
//! primary and synchronous standbys on loopback (started by the test), two `urna board serve
//! --store` processes sharing the log, concurrent voters submitting to either. The sequencing
//! board is killed with SIGKILL, and the primary too (a standby is promoted), again and again;
//! afterwards every receipt ever returned is in the log, every checkpoint seen by anyone is
//! consistent with the final one, and the log replays cleanly. Misconfigured databases and
//! servers are refused with their codes; a commit whose connection drops is never
//! acknowledged.
//!
//! Skipped, saying so, where PostgreSQL's server binaries are absent. `URNA_PG_ROUNDS` sets
//! the number of kill rounds (default 6: three of each), `URNA_PG_BALLOTS` the voters (default
//! 400). Run alone: `cargo test -p urna-cli --test pgboard -- --nocapture --test-threads 1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use urna_client::BoardClient;
use urna_crypto::sign::VerifyingKey;
use urna_election::entry::Entry;
use urna_election::state::Election;
use urna_ledger::note::{Checkpoint, Receipt};
use urna_pgcluster::{Cluster, DATABASE};
use urna_sim::kit;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Whether PostgreSQL is here; if not, says why the test is skipped.
fn postgres_present(test: &str) -> bool {
    match urna_pgcluster::binaries() {
        Ok(_) => true,
        Err(e) => {
            eprintln!("SKIPPED {test}: {e}");
            false
        }
    }
}

/// A sealed key file for `kit`'s board key, with its passphrase file beside it.
fn key_file(dir: &Path, key: &urna_crypto::sign::SigningKey) -> PathBuf {
    let path = dir.join("board.key");
    let sealed = urna_crypto::keyfile::seal(
        key.seed(),
        support::PASSPHRASE.as_bytes(),
        urna_crypto::keyfile::Cost::TEST,
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    std::fs::write(&path, sealed).unwrap();
    support::passphrase_file(&path);
    path
}

/// One `urna board serve --store` process.
struct PgBoard {
    url: String,
    port: u16,
    key: PathBuf,
    origin: String,
    store: String,
    log: PathBuf,
    /// More arguments for `urna board serve`.
    extra: Vec<String>,
    child: Option<Child>,
}

impl PgBoard {
    fn start(dir: &Path, key: &Path, origin: &str, store: &str, name: &str) -> PgBoard {
        PgBoard::start_with(dir, key, origin, store, name, &[])
    }

    fn start_with(
        dir: &Path,
        key: &Path,
        origin: &str,
        store: &str,
        name: &str,
        extra: &[&str],
    ) -> PgBoard {
        let port = support::free_port();
        let mut b = PgBoard {
            url: format!("http://127.0.0.1:{port}"),
            port,
            key: key.to_path_buf(),
            origin: origin.to_string(),
            store: store.to_string(),
            // Outside the test's directory, so that it is there to read when the test fails.
            log: std::env::temp_dir().join(format!(
                "urna-pgboard-{}-{}-{name}.log",
                std::process::id(),
                dir.file_name().and_then(|n| n.to_str()).unwrap_or("")
            )),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            child: None,
        };
        b.restart();
        b
    }

    fn command(&self) -> Command {
        let mut c = Command::new(support::URNA);
        c.args([
            "board",
            "serve",
            "--origin",
            &self.origin,
            "--store",
            &self.store,
        ])
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", self.port))
        .arg("--key")
        .arg(&self.key)
        .arg("--passphrase-file")
        .arg(support::passphrase_file(&self.key))
        .env("URNA_KDF_COST", "test")
        .args(["--read-rate", "1000000", "--read-burst", "1000000"])
        .args(&self.extra);
        c
    }

    fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = self
            .command()
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "the board exited at start: {status}\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(start.elapsed() < Duration::from_secs(60), "no start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for PgBoard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The address the sequencer recorded with the latest lease.
fn sequencer(cluster: &Cluster) -> Option<String> {
    let mut su = cluster.superuser_on(cluster.primary(), DATABASE).ok()?;
    su.query_opt(
        "SELECT holder FROM urna.sequencers ORDER BY epoch DESC LIMIT 1",
        &[],
    )
    .ok()?
    .map(|r| r.get(0))
}

/// Submits to any of `boards`, moving on to the next one after each failure, until a receipt
/// or `give_up`.
fn submit_anywhere(
    boards: &[BoardClient],
    first: usize,
    entry: &[u8],
    origin: &str,
    vk: &VerifyingKey,
    give_up: Duration,
) -> Receipt {
    let start = Instant::now();
    let mut at = first;
    loop {
        match boards[at % boards.len()].submit(entry, origin, vk) {
            Ok(r) => return r,
            Err(e) if e.is_transient() && start.elapsed() < give_up => {
                at += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("no receipt after {:?}: {e}", start.elapsed()),
        }
    }
}

#[test]
fn voting_continues_through_sequencer_and_primary_deaths() {
    if !postgres_present("voting_continues_through_sequencer_and_primary_deaths") {
        return;
    }
    let rounds = env_usize("URNA_PG_ROUNDS", 6);
    let voters = env_usize("URNA_PG_BALLOTS", 400);
    let cfg = kit::Config {
        trustees: 3,
        threshold: 2,
        voters: (0..voters).map(|i| (1, (i % 4 == 3) as u16)).collect(),
        ..kit::Config::default()
    };
    let mut k = kit::Kit::new(11, cfg);
    let mut setup = vec![k.setup()];
    setup.extend(k.ceremony());
    for (b, lo) in (0..voters).step_by(1000).enumerate() {
        setup.push(k.roll(b as u32, lo..(lo + 1000).min(voters)));
    }
    setup.push(k.open());
    let mut e = Election::new();
    kit::apply_all(&mut e, &setup);
    let ctx = e.context().unwrap().clone();
    let ballots: Vec<Entry> = (0..voters)
        .map(|v| {
            let c = k.random_choices(k.voters[v].style);
            k.ballot(v, &c, &ctx)
        })
        .collect();

    let mut cluster = Cluster::start(2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &k.board);
    let origin = k.id().to_string();
    let store = cluster.url();
    let key_s = key.display().to_string();
    support::ok(&[
        "board", "init", "--key", &key_s, "--origin", &origin, "--store", &store,
    ]);
    let mut boards = [
        PgBoard::start(dir.path(), &key, &origin, &store, "a"),
        PgBoard::start(dir.path(), &key, &origin, &store, "b"),
    ];
    let vk: VerifyingKey = k.board.verifying_key();
    let clients: Vec<BoardClient> = boards.iter().map(|b| BoardClient::new(&b.url)).collect();
    for (i, x) in setup.iter().enumerate() {
        submit_anywhere(
            &clients,
            i,
            x.bytes(),
            &origin,
            &vk,
            Duration::from_secs(60),
        );
    }

    let queue = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let receipts: Arc<Mutex<Vec<(usize, Receipt)>>> = Arc::default();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let ballots = Arc::new(ballots);
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (queue, receipts, ballots) = (queue.clone(), receipts.clone(), ballots.clone());
            let (clients, origin) = (clients.clone(), origin.clone());
            std::thread::spawn(move || loop {
                let i = queue.fetch_add(1, Ordering::SeqCst);
                let Some(b) = ballots.get(i) else { return };
                // Paced, so that the kills land while voting goes on.
                std::thread::sleep(Duration::from_millis(100));
                let r = submit_anywhere(
                    &clients,
                    w + i,
                    b.bytes(),
                    &origin,
                    &vk,
                    Duration::from_secs(120),
                );
                receipts.lock().unwrap().push((i, r));
            })
        })
        .collect();
    let watcher = {
        let (done, seen, clients) = (done.clone(), seen.clone(), clients.clone());
        let origin = origin.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                for c in &clients {
                    if let Ok((_, note)) = c.checkpoint(&origin, &vk) {
                        seen.lock().unwrap().push(note);
                    }
                }
                std::thread::sleep(Duration::from_millis(30));
            }
        })
    };
    // Every round waits for new receipts (voting goes on), and warns if the kills outlast it.
    let progress = |what: &str| {
        let n = receipts.lock().unwrap().len();
        eprintln!("pgboard: {what} ({n} receipts so far)");
    };
    let wait_for_more = |than: usize| {
        let start = Instant::now();
        loop {
            let n = receipts.lock().unwrap().len();
            if n > than || n == voters || start.elapsed() > Duration::from_secs(60) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    for round in 0..rounds {
        let now = receipts.lock().unwrap().len();
        if now == voters {
            eprintln!("pgboard: round {round}: every ballot has its receipt; the kills go on without voters (raise URNA_PG_BALLOTS)");
        }
        wait_for_more(now + 5);
        if round % 2 == 0 {
            let holder = sequencer(&cluster).unwrap();
            let which = boards.iter().position(|b| b.url == holder).unwrap();
            boards[which].kill();
            progress(&format!("round {round}: killed the sequencer {holder}"));
            let before = receipts.lock().unwrap().len();
            wait_for_more(before);
            boards[which].restart();
        } else {
            let old = cluster.primary();
            cluster.kill(old).unwrap();
            progress(&format!("round {round}: killed the primary node{old}"));
            let new = cluster.failover().unwrap();
            cluster.wait_sync().unwrap();
            progress(&format!("round {round}: promoted node{new}"));
            cluster.rebuild(old).unwrap();
        }
    }
    for w in workers {
        w.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    watcher.join().unwrap();

    let client = &clients[0];
    // Both boards serve the same, final log.
    let deadline = Instant::now() + Duration::from_secs(30);
    let want = (setup.len() + voters) as u64;
    loop {
        let sizes: Vec<u64> = clients
            .iter()
            .map(|c| c.checkpoint(&origin, &vk).map_or(0, |(cp, _)| cp.size))
            .collect();
        if sizes.iter().all(|&s| s == want) {
            break;
        }
        assert!(Instant::now() < deadline, "boards at {sizes:?}, not {want}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut copy = client.fetch_log(&origin, &vk).unwrap();
    let last = copy.checkpoint.clone();
    assert_eq!(last.size, want);
    let receipts = receipts.lock().unwrap();
    assert_eq!(receipts.len(), voters);
    for (i, r) in receipts.iter() {
        let cp = r.verify(ballots[*i].bytes(), &origin, &vk).unwrap();
        client.check_consistency(&cp, &last).unwrap();
        assert_eq!(
            copy.replica.entry(r.index).unwrap().unwrap(),
            ballots[*i].bytes()
        );
    }
    let mut seen: Vec<Checkpoint> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|n| Checkpoint::open(n, &origin, &vk).unwrap())
        .collect();
    seen.sort_by_key(|c| c.size);
    seen.dedup();
    for c in &seen {
        client.check_consistency(c, &last).unwrap();
    }
    copy.replica.replay(last.size, &|_, _| {}).unwrap();
    assert_eq!(copy.replica.election().counts().counted as usize, voters);
    // Resubmitting to either board (the follower answers from its own copy) is idempotent.
    let (i, first) = &receipts[0];
    for c in &clients {
        let again = c.submit(ballots[*i].bytes(), &origin, &vk).unwrap();
        assert_eq!(again.index, first.index);
    }
    eprintln!(
        "pgboard: {rounds} rounds, {} checkpoints seen, {voters} receipts verified against size {}",
        seen.len(),
        last.size
    );
}

/// Runs `urna board serve --store` expecting it to refuse to start (killed, and the test
/// failed, if it still runs after a minute); returns what it printed.
fn serve_refuses(key: &Path, origin: &str, store: &str, extra: &[&str]) -> String {
    let mut child = Command::new(support::URNA)
        .args(["board", "serve", "--origin", origin, "--store", store])
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", support::free_port()))
        .arg("--key")
        .arg(key)
        .arg("--passphrase-file")
        .arg(support::passphrase_file(key))
        .env("URNA_KDF_COST", "test")
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the board started although it should have refused");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A server whose commits would not wait for a standby is refused, by `board init --store`
/// and by `board serve --store`, unless the operator says `--no-standby`; and then the board
/// runs on one machine, saying so.
#[test]
fn a_server_without_synchronous_replication_is_refused() {
    if !postgres_present("a_server_without_synchronous_replication_is_refused") {
        return;
    }
    let cluster = Cluster::builder()
        .standbys(1)
        .synchronous_standby_names("")
        .wait_sync(false)
        .start()
        .unwrap();
    let r = kit::record(3);
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &r.kit.board);
    let (key_s, origin, store) = (key.display().to_string(), r.kit.id(), cluster.url());
    let init = [
        "board", "init", "--key", &key_s, "--origin", origin, "--store", &store,
    ];
    let out = support::fails(&init);
    assert!(
        out.contains("pg-no-synchronous-standby-names")
            && out.contains("synchronous_standby_names is empty"),
        "{out}"
    );
    let mut single = init.to_vec();
    single.push("--no-standby");
    support::ok(&single);
    let out = serve_refuses(&key, origin, &store, &[]);
    assert!(out.contains("pg-no-synchronous-standby-names"), "{out}");
    // Told to run on one machine, it does, and says so.
    let mut board = PgBoard::start_with(
        dir.path(),
        &key,
        origin,
        &store,
        "single",
        &["--no-standby"],
    );
    let client = BoardClient::new(&board.url);
    let vk = r.kit.board.verifying_key();
    client
        .submit_retrying(r.entries[0].bytes(), origin, &vk, Duration::from_secs(30))
        .unwrap();
    board.kill();
    let log = std::fs::read_to_string(&board.log).unwrap();
    assert!(log.contains("SINGLE MACHINE"), "{log}");
}

/// A database that is not this election's log, or not in a layout this urna reads, is
/// refused with its code before anything is served.
#[test]
fn another_elections_or_another_versions_database_is_refused() {
    if !postgres_present("another_elections_or_another_versions_database_is_refused") {
        return;
    }
    let cluster = Cluster::start(1).unwrap();
    let r = kit::record(4);
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &r.kit.board);
    let key_s = key.display().to_string();
    let origin = r.kit.id();
    // No log in the database: refused, not created.
    cluster.create_database("empty").unwrap();
    let out = serve_refuses(&key, origin, &cluster.url_for("empty"), &[]);
    assert!(out.contains("pg-no-log"), "{out}");
    // Another election's database.
    let store = cluster.url();
    support::ok(&[
        "board", "init", "--key", &key_s, "--origin", origin, "--store", &store,
    ]);
    // (The same key in a file `board init` stored no origin beside.)
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let same_key = key_file(&elsewhere, &r.kit.board);
    let out = serve_refuses(&same_key, "vote.example.org/another-election", &store, &[]);
    assert!(
        out.contains("pg-other-election") && out.contains("each election has its own database"),
        "{out}"
    );
    // Another board key for the same election.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let other_key = key_file(&other, &kit::record(5).kit.board);
    let out = serve_refuses(&other_key, origin, &store, &[]);
    assert!(out.contains("pg-other-board-key"), "{out}");
    // A schema version this urna does not read.
    let mut su = cluster.superuser_on(cluster.primary(), DATABASE).unwrap();
    su.batch_execute("UPDATE urna.meta SET schema_version = 4")
        .unwrap();
    let out = serve_refuses(&key, origin, &store, &[]);
    assert!(
        out.contains("pg-schema-version") && out.contains("version 4"),
        "{out}"
    );
}

/// The sequencer's connection is cut while its COMMIT waits for the standby: the submitter
/// gets no receipt. Once the standby is back the board reopens, the entry (committed on the
/// primary alone) is confirmed on the standby, and resubmitting returns its receipt — one
/// entry, at one index.
#[test]
fn a_commit_whose_connection_drops_is_not_acknowledged() {
    if !postgres_present("a_commit_whose_connection_drops_is_not_acknowledged") {
        return;
    }
    let mut cluster = Cluster::start(1).unwrap();
    let r = kit::record(6);
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path(), &r.kit.board);
    let (key_s, origin, store) = (key.display().to_string(), r.kit.id(), cluster.url());
    support::ok(&[
        "board", "init", "--key", &key_s, "--origin", origin, "--store", &store,
    ]);
    let board = PgBoard::start(dir.path(), &key, origin, &store, "cut");
    let client = BoardClient::new(&board.url);
    let vk = r.kit.board.verifying_key();
    let n = r.entries.len() - 1;
    for x in &r.entries[..n] {
        client
            .submit_retrying(x.bytes(), origin, &vk, Duration::from_secs(30))
            .unwrap();
    }
    let last = r.entries[n].bytes().to_vec();
    cluster.kill(1).unwrap();
    let pending = {
        let (client, last, origin) = (client.clone(), last.clone(), origin.to_string());
        std::thread::spawn(move || client.submit(&last, &origin, &vk))
    };
    // The sequencer's COMMIT waits for the (dead) standby; cut its connection.
    let deadline = Instant::now() + Duration::from_secs(60);
    let pid: i32 = loop {
        let mut su = cluster.superuser(0).unwrap();
        let row = su
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'urna' \
                 AND wait_event = 'SyncRep'",
                &[],
            )
            .unwrap();
        if let Some(row) = row {
            break row.get(0);
        }
        assert!(
            Instant::now() < deadline,
            "no commit waiting for the standby"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    cluster
        .superuser(0)
        .unwrap()
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    let answer = pending.join().unwrap();
    assert!(
        answer.is_err(),
        "a receipt for a commit no standby confirmed: {answer:?}"
    );
    cluster.restart(1).unwrap();
    cluster.wait_sync().unwrap();
    let receipt = client
        .submit_retrying(&last, origin, &vk, Duration::from_secs(60))
        .unwrap();
    assert_eq!(receipt.index, n as u64);
    let copy = client.fetch_log(origin, &vk).unwrap();
    assert_eq!(copy.checkpoint.size, n as u64 + 1);
    assert_eq!(copy.replica.entry(n as u64).unwrap().unwrap(), last);
}
