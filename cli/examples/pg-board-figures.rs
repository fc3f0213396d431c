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

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use urna_client::BoardClient;
use urna_crypto::sign::VerifyingKey;
use urna_election::entry::Entry;
use urna_election::state::Election;
use urna_pgcluster::Cluster;
use urna_sim::kit;

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

fn serve(key: &Path, pass: &Path, origin: &str, store: &str, log: &Path) -> (Child, String) {
    let port = free_port();
    let child = Command::new(urna_bin())
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

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1200);
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

    // A standby pointed at a promoted primary reconnects after `wal_retrieve_retry_interval`
    // (5 s by default): until then the new primary has no synchronous standby and the boards
    // wait. URNA_WAL_RETRY sets it (default 200ms, as a failover deployment would).
    let retry = std::env::var("URNA_WAL_RETRY").unwrap_or_else(|_| "200ms".into());
    let mut cluster = Cluster::builder()
        .standbys(2)
        .setting("wal_retrieve_retry_interval", &format!("'{retry}'"))
        .start()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("board.key");
    let sealed = urna_crypto::keyfile::seal(
        k.board.seed(),
        PASSPHRASE.as_bytes(),
        urna_crypto::keyfile::Cost::TEST,
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    std::fs::write(&key, sealed).unwrap();
    let pass = dir.path().join("board.pass");
    std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&pass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let origin = k.id().to_string();
    let store = cluster.url();
    let init = Command::new(urna_bin())
        .args([
            "board", "init", "--origin", &origin, "--store", &store, "--key",
        ])
        .arg(&key)
        .arg("--passphrase-file")
        .arg(&pass)
        .env("URNA_KDF_COST", "test")
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let (mut a, a_url) = serve(&key, &pass, &origin, &store, &dir.path().join("a.log"));
    std::thread::sleep(Duration::from_millis(500));
    let (mut b, b_url) = serve(&key, &pass, &origin, &store, &dir.path().join("b.log"));
    let (mut c, c_url) = serve(&key, &pass, &origin, &store, &dir.path().join("c.log"));
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

    // The sequencer's death: the follower takes the lease.
    let t0 = Instant::now();
    let _ = a.kill();
    let _ = a.wait();
    let d = first_receipt(&b_url, &ballots[n], &origin, &vk, t0);
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
    let d = first_receipt(&b_url, &ballots[n + 1], &origin, &vk, t0);
    println!(
        "primary kill -9 → node{new} promoted {} ms → first new receipt {} ms, the board's CPU \
         meanwhile {:.2} s (a log of {} entries; the board reopening it: {})",
        promoted.as_millis(),
        d.as_millis(),
        cpu_seconds(b.id()) - cpu0,
        setup.len() + n + 2,
        std::fs::read_to_string(dir.path().join("b.log"))
            .unwrap_or_default()
            .lines()
            .rev()
            .find(|l| l.contains("snapshot"))
            .unwrap_or("no snapshot")
    );
    // Once more without the snapshot: the old primary rebuilt as a standby, the stored
    // snapshot deleted, the new primary killed (every board process then replays from zero).
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
    let d = first_receipt(&b_url, &ballots[n + 2], &origin, &vk, t0);
    println!(
        "primary kill -9 again, the stored snapshot deleted ({deleted} row) → node{new} \
         promoted {} ms → first new receipt {} ms, the board's CPU meanwhile {:.2} s (a log of \
         {} entries, replayed from zero)",
        promoted.as_millis(),
        d.as_millis(),
        cpu_seconds(b.id()) - cpu0,
        setup.len() + n + 3,
    );
    let _ = b.kill();
    let _ = b.wait();
    if let Some(to) = std::env::var_os("URNA_FIGURES_LOGS") {
        let to = PathBuf::from(to);
        for f in ["a.log", "b.log", "c.log"] {
            let _ = std::fs::copy(dir.path().join(f), to.join(f));
        }
    }
}
