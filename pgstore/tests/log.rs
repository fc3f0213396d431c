//! The log on a replicated PostgreSQL: appends, reads and statements; fencing, so that two
//! writers that both believe they are the sequencer still make one log; and the sequencer
//! lease.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use common::{create, entries, identity, note, refs, sequencer, unleased, ORIGIN};
use urna_pgcluster::{Cluster, DATABASE};
use urna_pgstore::{PgStore, Statement, StoreError};

fn leaf(e: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::new()
        .chain_update([0])
        .chain_update(e)
        .finalize()
        .into()
}

#[test]
fn entries_and_statements_round_trip() {
    let cluster = Cluster::start(1).expect("cluster");
    let url = cluster.url();
    let s = sequencer(&url);
    assert_eq!(s.len(), 0);
    assert_eq!(s.statement(Statement::Checkpoint).unwrap(), None);
    s.set_statement(Statement::Checkpoint, &note(0)).unwrap();
    let a = entries("a", 0, 5, 3000);
    s.append(0, &refs(&a)).unwrap();
    let b = entries("b", 5, 64, 3000);
    s.append_with_checkpoint(5, &refs(&b), &note(69)).unwrap();
    s.append(69, &[]).unwrap();
    assert_eq!(s.len(), 69);
    let all: Vec<Vec<u8>> = a.iter().chain(&b).cloned().collect();
    assert_eq!(s.read(0, 69).unwrap(), all);
    assert_eq!(s.read(3, 7).unwrap(), all[3..7]);
    assert_eq!(s.read(69, 69).unwrap(), Vec::<Vec<u8>>::new());
    assert_eq!(s.index_of(&leaf(&b[10])).unwrap(), Some(15));
    assert_eq!(s.index_of(&[0u8; 32]).unwrap(), None);
    assert_eq!(
        s.statement(Statement::Checkpoint).unwrap().as_deref(),
        Some(note(69).as_str())
    );
    s.set_statement(Statement::Cosigned, &note(5)).unwrap();
    let e = s.read(60, 70).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::OutOfRange {
                start: 60,
                end: 70,
                len: 69
            }
        ),
        "{e}"
    );
    drop(s);
    // Another process sees the same log.
    let other = PgStore::open(&url, identity(), Default::default()).unwrap();
    assert_eq!(other.len(), 69);
    assert_eq!(other.read(0, 69).unwrap(), all);
    assert_eq!(
        other.statement(Statement::Cosigned).unwrap().as_deref(),
        Some(note(5).as_str())
    );
}

#[test]
fn appends_are_fenced_on_the_length() {
    let cluster = Cluster::start(1).expect("cluster");
    let s = sequencer(&cluster.url());
    s.append(0, &refs(&entries("a", 0, 3, 100))).unwrap();
    for at in [0, 2, 4, 1000] {
        let e = s.append(at, &refs(&entries("x", at, 2, 100))).unwrap_err();
        assert!(
            matches!(e, StoreError::Fenced { len: 3, .. }),
            "at {at}: {e}"
        );
        assert_eq!(e.code(), "pg-fenced");
        assert!(!e.may_have_appended());
    }
    let e = s
        .append(u64::MAX, &refs(&entries("x", 0, 1, 10)))
        .unwrap_err();
    assert_eq!(e.code(), "pg-out-of-range", "{e}");
    assert_eq!(s.refresh_len().unwrap(), 3, "no gap, no overwrite");
    assert_eq!(s.read(0, 3).unwrap(), entries("a", 0, 3, 100));
}

#[test]
fn statements_only_move_forward_and_cover_what_the_log_holds() {
    let cluster = Cluster::start(1).expect("cluster");
    let s = sequencer(&cluster.url());
    s.append(0, &refs(&entries("a", 0, 10, 100))).unwrap();
    s.set_statement(Statement::Checkpoint, &note(8)).unwrap();
    let cases: &[(&str, String, &str)] = &[
        ("an older checkpoint", note(7), "pg-note-regress"),
        ("a checkpoint past the log", note(11), "pg-note-beyond-log"),
        (
            "another log's checkpoint",
            note(9).replace(ORIGIN, "elsewhere"),
            "pg-bad-note",
        ),
        (
            "a size with a leading zero",
            format!("{ORIGIN}\n09\nAAAA\n"),
            "pg-bad-note",
        ),
        ("no size", format!("{ORIGIN}\n"), "pg-bad-note"),
        ("a negative size", format!("{ORIGIN}\n-1\n"), "pg-bad-note"),
    ];
    for (name, text, code) in cases {
        let e = s.set_statement(Statement::Checkpoint, text).unwrap_err();
        assert_eq!(e.code(), *code, "{name}: {e}");
    }
    let e = s
        .append_with_checkpoint(10, &refs(&entries("b", 10, 2, 100)), &note(11))
        .unwrap_err();
    assert_eq!(e.code(), "pg-bad-note", "{e}");
    assert_eq!(
        s.refresh_len().unwrap(),
        10,
        "the append went with its checkpoint"
    );
    // The same size again (a re-signed checkpoint) is accepted.
    s.set_statement(Statement::Checkpoint, &note(8)).unwrap();
    assert_eq!(
        s.statement(Statement::Checkpoint).unwrap().as_deref(),
        Some(note(8).as_str())
    );
}

#[test]
fn a_damaged_entry_is_reported_not_returned() {
    let cluster = Cluster::start(1).expect("cluster");
    let s = sequencer(&cluster.url());
    s.append(0, &refs(&entries("a", 0, 4, 100))).unwrap();
    let mut su = cluster.superuser_on(cluster.primary(), DATABASE).unwrap();
    su.batch_execute("UPDATE urna.entries SET entry = entry || '\\x00'::bytea WHERE idx = 2")
        .unwrap();
    let e = s.read(0, 4).unwrap_err();
    assert!(matches!(e, StoreError::Damaged { index: 2, .. }), "{e}");
    su.batch_execute("DELETE FROM urna.entries WHERE idx = 1")
        .unwrap();
    let e = s.read(0, 4).unwrap_err();
    assert!(matches!(e, StoreError::Damaged { index: 1, .. }), "{e}");
}

/// Two writers without the lease (as two sequencers would be if the lease failed) race at the
/// same index, round after round: each round exactly one wins, the other is fenced, and the
/// log is the winners' entries in order.
#[test]
fn two_writers_at_the_same_index_make_one_log() {
    let cluster = Cluster::start(1).expect("cluster");
    let url = cluster.url();
    let rounds = 40u64;
    let batch = 4usize;
    let barrier = Arc::new(Barrier::new(2));
    let writers: Vec<_> = ["left", "right"]
        .into_iter()
        .map(|tag| {
            let url = url.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                let s = PgStore::open(&url, identity(), unleased()).unwrap();
                let mut won = Vec::new();
                // Failures are collected, not raised here: a panic would leave the other
                // writer waiting at the barrier.
                let mut wrong = Vec::new();
                for round in 0..rounds {
                    let at = round * batch as u64;
                    let mine = entries(tag, at, batch, 200);
                    barrier.wait();
                    match s.append(at, &refs(&mine)) {
                        Ok(()) => won.push((at, mine)),
                        Err(StoreError::Fenced { at: a, len })
                            if (a, len) == (at, at + batch as u64) => {}
                        Err(e) => wrong.push(format!("{tag} round {round}: {e}")),
                    }
                    barrier.wait();
                }
                assert_eq!(wrong, Vec::<String>::new());
                won
            })
        })
        .collect();
    let mut won: Vec<(u64, Vec<Vec<u8>>)> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    won.sort();
    assert_eq!(won.len() as u64, rounds, "one winner per round");
    let s = PgStore::open(&url, identity(), unleased()).unwrap();
    let log = s.read(0, rounds * batch as u64).unwrap();
    let expected: Vec<Vec<u8>> = won.into_iter().flat_map(|(_, e)| e).collect();
    assert_eq!(log, expected);
    assert_eq!(s.refresh_len().unwrap(), rounds * batch as u64);
}

#[test]
fn the_lease_is_exclusive_and_lost_with_its_connection() {
    let cluster = Cluster::start(1).expect("cluster");
    let url = cluster.url();
    let a = sequencer(&url);
    assert_eq!(a.lease_epoch(), Some(1));
    assert!(a.holds_lease().unwrap());
    let b = PgStore::open(&url, identity(), create()).unwrap();
    assert!(!b.try_acquire_lease().unwrap());
    assert!(!b.wait_for_lease(Duration::from_millis(50)).unwrap());
    let e = b.append(0, &refs(&entries("b", 0, 1, 10))).unwrap_err();
    assert_eq!(e.code(), "pg-not-leaseholder", "{e}");
    let e = b
        .set_statement(Statement::Checkpoint, &note(0))
        .unwrap_err();
    assert_eq!(e.code(), "pg-not-leaseholder", "{e}");
    a.append(0, &refs(&entries("a", 0, 2, 10))).unwrap();

    // The server ends a's session (as when its machine or its network dies).
    let pid = a.backend_pid().unwrap();
    let mut su = cluster.superuser(cluster.primary()).unwrap();
    su.execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    // b, waiting, gets the lease once a's session is gone.
    assert!(b.wait_for_lease(Duration::from_secs(30)).unwrap());
    assert_eq!(b.lease_epoch(), Some(2));
    assert!(
        !a.holds_lease().unwrap(),
        "a lost the lease with its session"
    );
    // a reconnects by itself, without the lease, and cannot append.
    let e = a.append(2, &refs(&entries("a", 2, 1, 10))).unwrap_err();
    assert_eq!(e.code(), "pg-not-leaseholder", "{e}");
    assert!(!a.try_acquire_lease().unwrap());
    b.append(2, &refs(&entries("b", 2, 1, 10))).unwrap();

    // A follower blocked waiting takes over the moment the holder's process ends.
    let waiting = {
        let url = url.clone();
        thread::spawn(move || {
            let c = PgStore::open(&url, identity(), create()).unwrap();
            let got = c.wait_for_lease(Duration::from_secs(60)).unwrap();
            (got, c.lease_epoch(), c.refresh_len().unwrap())
        })
    };
    thread::sleep(Duration::from_millis(200));
    drop(b);
    assert_eq!(waiting.join().unwrap(), (true, Some(3), 3));

    // Each lease taken is on record, with the length the log had.
    let mut su = cluster.superuser_on(cluster.primary(), DATABASE).unwrap();
    let held: Vec<(i64, i64)> = su
        .query(
            "SELECT epoch, log_len FROM urna.sequencers ORDER BY epoch",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(held, [(1, 0), (2, 2), (3, 3)]);
}

#[test]
fn a_clean_hand_over() {
    let cluster = Cluster::start(1).expect("cluster");
    let url = cluster.url();
    let a = sequencer(&url);
    a.append(0, &refs(&entries("a", 0, 1, 10))).unwrap();
    a.release_lease().unwrap();
    assert!(!a.holds_lease().unwrap());
    let e = a.append(1, &refs(&entries("a", 1, 1, 10))).unwrap_err();
    assert_eq!(e.code(), "pg-not-leaseholder");
    let b = PgStore::open(&url, identity(), create()).unwrap();
    assert!(b.try_acquire_lease().unwrap());
    b.append(1, &refs(&entries("b", 1, 1, 10))).unwrap();
}

/// The snapshot row (`specs/storage.md` §3a): absent until stored, replaced only by one
/// covering more entries, never one covering more than the log holds; and the leaf hashes
/// stored beside the entries, read without the entries, are the entries' own.
#[test]
fn snapshots_only_move_forward_and_leaves_read_back() {
    let cluster = Cluster::start(1).expect("cluster");
    let s = sequencer(&cluster.url());
    let a = entries("a", 0, 10, 100);
    s.append(0, &refs(&a)).unwrap();
    assert_eq!(s.snapshot().unwrap(), None);
    assert!(s.put_snapshot(4, b"four").unwrap());
    assert_eq!(s.snapshot().unwrap(), Some((4, b"four".to_vec())));
    assert!(
        !s.put_snapshot(4, b"again").unwrap(),
        "not the same size twice"
    );
    assert!(!s.put_snapshot(3, b"older").unwrap(), "not backwards");
    let e = s.put_snapshot(11, b"past").unwrap_err();
    assert_eq!(e.code(), "pg-note-beyond-log", "{e}");
    assert!(s.put_snapshot(10, b"ten").unwrap());
    assert_eq!(s.snapshot().unwrap(), Some((10, b"ten".to_vec())));
    let want: Vec<[u8; 32]> = a.iter().map(|e| leaf(e)).collect();
    assert_eq!(s.leaves(0, 10).unwrap(), want);
    assert_eq!(s.leaves(3, 5).unwrap(), want[3..5]);
    assert_eq!(s.leaves(10, 10).unwrap(), Vec::<[u8; 32]>::new());
    let e = s.leaves(8, 12).unwrap_err();
    assert_eq!(e.code(), "pg-out-of-range", "{e}");
    // Another process reads the same row.
    let other = PgStore::open(&cluster.url(), identity(), Default::default()).unwrap();
    assert_eq!(other.snapshot().unwrap(), Some((10, b"ten".to_vec())));
    let mut su = cluster.superuser_on(cluster.primary(), DATABASE).unwrap();
    su.batch_execute("DELETE FROM urna.entries WHERE idx = 6; UPDATE urna.head SET len = len")
        .unwrap();
    let e = other.leaves(0, 10).unwrap_err();
    assert_eq!(e.code(), "pg-damaged-entry", "{e}");
    // Read at once, the row comes back whole beside the error its leaf hashes met.
    let both = other.snapshot_with_leaves().unwrap().expect("a snapshot");
    assert_eq!((both.size, &both.bytes[..]), (10, &b"ten"[..]));
    let e = both.leaves.unwrap_err();
    assert_eq!(e.code(), "pg-damaged-entry", "{e}");
}

/// The row and its leaf hashes read at once (`PgStore::snapshot_with_leaves`): a row of several
/// slices comes back byte for byte, with the leaf hashes of the entries its size covers, and
/// none at all before one is stored.
#[test]
fn a_snapshot_reads_back_whole_with_its_leaves() {
    let cluster = Cluster::start(1).expect("cluster");
    let s = sequencer(&cluster.url());
    assert!(s.snapshot_with_leaves().unwrap().is_none());
    let a = entries("a", 0, 50, 300);
    s.append(0, &refs(&a)).unwrap();
    // Three slices of 16 MiB and a bit, over two connections.
    let big: Vec<u8> = (0..(32usize << 20) + 12_345)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(s.put_snapshot(40, &big).unwrap());
    let got = s.snapshot_with_leaves().unwrap().expect("a snapshot");
    assert_eq!(got.size, 40);
    assert!(got.bytes == big, "the row read back in slices differs");
    let want: Vec<[u8; 32]> = a[..40].iter().map(|e| leaf(e)).collect();
    assert_eq!(got.leaves.unwrap(), want);
}
