//! Crash test: the board process is killed with SIGKILL at random moments while clients submit
//! ballots concurrently, and restarted each time. Afterwards every receipt ever returned must
//! verify against the final checkpoint, every pair of checkpoints seen must be consistent, and
//! the final log must replay cleanly.
//!
//! `URNA_CRASH_KILLS` sets the number of kills (default 20); `URNA_CRASH_BALLOTS` the number of
//! voters (default 600). Run alone: `cargo test -p urna-cli --test crash -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_sim::kit;
mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use urna_client::BoardClient;
use urna_crypto::sign::VerifyingKey;
use urna_election::entry::Entry;
use urna_election::state::Election;
use urna_ledger::note::{Checkpoint, Receipt};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn receipts_survive_sigkill() {
    let kills = env_usize("URNA_CRASH_KILLS", 20);
    let voters = env_usize("URNA_CRASH_BALLOTS", 600);
    let cfg = kit::Config {
        trustees: 3,
        threshold: 2,
        voters: (0..voters).map(|i| (1, (i % 4 == 3) as u16)).collect(),
        ..kit::Config::default()
    };
    let mut k = kit::Kit::new(7, cfg);
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

    let dir = tempfile::tempdir().unwrap();
    let mut board = support::Board::start(dir.path(), &k.board, k.id());
    let origin = k.id().to_string();
    let vk: VerifyingKey = k.board.verifying_key();
    let client = BoardClient::new(&board.url);
    for x in &setup {
        client
            .submit_retrying(x.bytes(), &origin, &vk, Duration::from_secs(30))
            .unwrap();
    }

    let queue = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let receipts: Arc<Mutex<Vec<(usize, Receipt)>>> = Arc::default();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let ballots = Arc::new(ballots);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (queue, receipts, ballots) = (queue.clone(), receipts.clone(), ballots.clone());
            let client = client.clone();
            let origin = origin.clone();
            std::thread::spawn(move || loop {
                let i = queue.fetch_add(1, Ordering::SeqCst);
                let Some(b) = ballots.get(i) else { return };
                let r = client
                    .submit_retrying(b.bytes(), &origin, &vk, Duration::from_secs(60))
                    .unwrap_or_else(|e| panic!("ballot {i}: {e}"));
                receipts.lock().unwrap().push((i, r));
            })
        })
        .collect();
    let watcher = {
        let (done, seen, client) = (done.clone(), seen.clone(), client.clone());
        let origin = origin.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                if let Ok((_, note)) = client.checkpoint(&origin, &vk) {
                    seen.lock().unwrap().push(note);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(99);
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(rng.gen_range(20..250)));
        board.kill();
        board.restart();
    }
    for w in workers {
        w.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    // One more crash with everything acknowledged: nothing may be lost.
    board.kill();
    board.restart();

    let mut copy = client.fetch_log(&origin, &vk).unwrap();
    let last = copy.checkpoint.clone();
    assert_eq!(last.size as usize, setup.len() + voters);
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
    for pair in seen.windows(2) {
        client.check_consistency(&pair[0], &pair[1]).unwrap();
    }
    for c in &seen {
        client.check_consistency(c, &last).unwrap();
    }
    copy.replica.replay(last.size, &|_, _| {}).unwrap();
    assert_eq!(copy.replica.election().counts().counted as usize, voters);
    eprintln!(
        "crash test: {kills} kills, {} checkpoints seen, {voters} receipts verified against size {}",
        seen.len(),
        last.size
    );
}

/// Issue 16 §2 with the real binary: with the checkpoint and the index deleted and the log cut
/// by a few bytes, the cosigned checkpoint still bounds what was acknowledged, and `urna board
/// serve` refuses to start, naming the file and the sizes, instead of cutting a "torn tail". A
/// missing checkpoint alone refuses too, until the operator passes
/// `--accept-log-without-checkpoint`.
#[test]
fn a_board_missing_acknowledged_entries_refuses_to_start() {
    let r = kit::record(5);
    let dir = tempfile::tempdir().unwrap();
    let mut board = support::Board::start(dir.path(), &r.kit.board, r.kit.id());
    let origin = r.kit.id().to_string();
    let vk = r.kit.board.verifying_key();
    let client = BoardClient::new(&board.url);
    for x in &r.entries[..12] {
        client
            .submit_retrying(x.bytes(), &origin, &vk, Duration::from_secs(30))
            .unwrap();
    }
    board.kill();
    let data = board.data().to_path_buf();
    let log = std::fs::read(data.join("log")).unwrap();
    std::fs::copy(data.join("checkpoint"), data.join("cosigned")).unwrap();
    std::fs::remove_file(data.join("checkpoint")).unwrap();
    std::fs::remove_dir_all(data.join("index")).unwrap();
    std::fs::write(data.join("log"), &log[..log.len() - 3]).unwrap();
    let out = board.refuses_to_start(&[]);
    assert!(
        out.contains(&format!(
            "{} (the latest checkpoint the witness quorum cosigned) covers 12 entries",
            data.join("cosigned").display()
        )) && out.contains("only 11 intact entries")
            && out.contains("will not start"),
        "{out}"
    );
    assert!(!out.contains("torn"), "{out}");
    // The log intact again but still no checkpoint (and no cosigned one): refused until the
    // operator accepts the log as it is.
    std::fs::write(data.join("log"), &log).unwrap();
    std::fs::remove_file(data.join("cosigned")).unwrap();
    let out = board.refuses_to_start(&[]);
    assert!(
        out.contains("checkpoint file") && out.contains("--accept-log-without-checkpoint"),
        "{out}"
    );
    board.extra = vec!["--accept-log-without-checkpoint".into()];
    board.restart();
    let (cp, _) = client.checkpoint(&origin, &vk).unwrap();
    assert_eq!(cp.size, 12);
}

/// `board serve --snapshot-every N` writes a snapshot of the rules' state once N entries were
/// admitted since the last one (the file's header names the size it covers), and
/// `--snapshot-every 0` never writes one; a restart from the snapshot serves the whole log.
#[test]
fn board_serve_writes_snapshots_as_often_as_told() {
    let r = kit::record(5);
    let origin = r.kit.id().to_string();
    let vk = r.kit.board.verifying_key();
    let covered = |data: &std::path::Path| -> Option<u64> {
        let b = std::fs::read(data.join("snapshot")).ok()?;
        // "urna-v1 board-snapshot", then the size it covers (specs/board.md §4.1.2).
        Some(u64::from_be_bytes(b.get(22..30)?.try_into().ok()?))
    };
    for every in [5u64, 0] {
        let dir = tempfile::tempdir().unwrap();
        let mut board = support::Board::start_with(
            dir.path(),
            &r.kit.board,
            r.kit.id(),
            &["--snapshot-every", &every.to_string()],
        );
        let client = BoardClient::new(&board.url);
        for (i, x) in r.entries[..12].iter().enumerate() {
            if i == 4 {
                // Fewer entries than N: none yet.
                std::thread::sleep(Duration::from_millis(200));
                assert_eq!(covered(board.data()), None);
            }
            client
                .submit_retrying(x.bytes(), &origin, &vk, Duration::from_secs(30))
                .unwrap();
        }
        if every == 0 {
            // Past the size a snapshot would have been taken at; nothing may appear.
            std::thread::sleep(Duration::from_millis(500));
            assert_eq!(covered(board.data()), None);
            continue;
        }
        // At 5 entries, then at 10 (or 11 or 12, if the one of 5 was still being written).
        support::wait_until("a snapshot of 10 entries or more", || {
            covered(board.data()).is_some_and(|n| (10..=12).contains(&n))
        });
        board.kill();
        board.restart();
        let (cp, _) = client.checkpoint(&origin, &vk).unwrap();
        assert_eq!(cp.size, 12);
    }
}
