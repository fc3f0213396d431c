//! Restarting from a snapshot of the rules' state (`specs/board.md` §4.1): the board writes
//! one every few entries, restores the newest at start (replaying only the entries after it)
//! to the state a replay from zero reaches, and keeps accepting; a snapshot that fails any
//! check — damaged, cut short, another election's or another board's, signed over the wrong
//! root, taken from another log, of a state of another size — is discarded with its reason
//! and the log is replayed from zero; a crash in the middle of writing one leaves a usable
//! data directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use urna_board::board::{Board, SnapshotUse};
use urna_board::snapshot::{Capture, SNAPSHOT};
use urna_election::entry::Entry;
use urna_election::state::{Election, LookBack};
use urna_ledger::merkle::{leaf_hash, Tree};
use urna_sim::kit;

/// The log, read back by a replica's state ([`Election::reading_back`]).
struct Log<'a>(&'a [Entry]);

impl LookBack for Log<'_> {
    fn entry(&self, index: u64) -> Result<Vec<u8>, String> {
        self.0
            .get(index as usize)
            .map(|e| e.bytes().to_vec())
            .ok_or_else(|| format!("no entry {index}"))
    }
}

/// The snapshot of a replica's state (as the board keeps it) replaying `entries` from zero.
fn replayed(all: &[Entry], n: usize) -> Vec<u8> {
    let mut e = Election::reading_back();
    for chunk in all[..n].chunks(7) {
        for v in e
            .apply_batch_reading(chunk, &vec![false; chunk.len()], &Log(all))
            .unwrap()
        {
            v.unwrap();
        }
    }
    e.snapshot()
}

fn raw(r: &kit::Record) -> Vec<Vec<u8>> {
    r.entries.iter().map(|e| e.bytes().to_vec()).collect()
}

fn open(r: &kit::Record, dir: &Path) -> Board {
    Board::open(dir, r.kit.id(), r.kit.board.clone()).unwrap()
}

/// A board that admitted the first `n` entries, three at a time, writing a snapshot every
/// five; returns once the last snapshot is on disk.
fn board_with_snapshot(r: &kit::Record, dir: &Path, n: usize) {
    let mut b = open(r, dir);
    b.set_snapshot_every(5);
    for chunk in raw(r)[..n].chunks(3) {
        for res in b.submit(chunk).unwrap() {
            res.unwrap();
        }
        while b.snapshot_in_flight() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

/// The board reopened from `dir` has the state of a replay from zero and admits the rest of
/// the election.
fn carries_on(r: &kit::Record, dir: &Path, n: usize) -> Board {
    let mut b = open(r, dir);
    assert_eq!(b.size(), n as u64);
    assert_eq!(b.election().snapshot(), replayed(&r.entries, n));
    for res in b.submit(&raw(r)[n..]).unwrap() {
        res.unwrap();
    }
    assert_eq!(
        b.election().snapshot(),
        replayed(&r.entries, r.entries.len())
    );
    b
}

#[test]
fn a_restart_restores_the_snapshot_and_replays_only_the_rest() {
    let r = kit::record(81);
    let dir = tempfile::tempdir().unwrap();
    let n = r.entries.len() - 4;
    board_with_snapshot(&r, dir.path(), n);
    let b = open(&r, dir.path());
    let SnapshotUse::Restored { size } = b.snapshot else {
        panic!("not restored: {:?}", b.snapshot);
    };
    // Written every five entries, at a checkpoint: the tail is shorter than that.
    assert!(size as usize + 5 > n && size as usize <= n, "size {size}");
    drop(b);
    carries_on(&r, dir.path(), n);
}

fn discarded(r: &kit::Record, dir: &Path, n: usize) -> String {
    let b = open(r, dir);
    let SnapshotUse::Discarded(why) = &b.snapshot else {
        panic!("not discarded: {:?}", b.snapshot);
    };
    let code = why.code().to_string();
    drop(b);
    carries_on(r, dir, n);
    code
}

/// Rewrites the data directory's snapshot file.
fn edit(dir: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let path = dir.join(SNAPSHOT);
    let mut b = std::fs::read(&path).unwrap();
    f(&mut b);
    std::fs::write(&path, b).unwrap();
}

#[test]
fn a_damaged_snapshot_is_discarded_with_its_reason_and_the_log_replayed() {
    let r = kit::record(82);
    let n = r.entries.len() - 4;
    let fresh = || {
        let dir = tempfile::tempdir().unwrap();
        board_with_snapshot(&r, dir.path(), n);
        dir
    };
    // A byte of the state, of a leaf hash, of the signed header.
    let dir = fresh();
    edit(dir.path(), |b| {
        let last = b.len() - 1;
        b[last] ^= 1;
    });
    assert_eq!(discarded(&r, dir.path(), n), "body-hash");
    let dir = fresh();
    edit(dir.path(), |b| b[200] ^= 1);
    assert_eq!(discarded(&r, dir.path(), n), "body-hash");
    let dir = fresh();
    edit(dir.path(), |b| b[25] ^= 1);
    assert_eq!(discarded(&r, dir.path(), n), "signature");
    // Cut short: within the header, within the body.
    let dir = fresh();
    edit(dir.path(), |b| b.truncate(100));
    assert_eq!(discarded(&r, dir.path(), n), "magic");
    let dir = fresh();
    edit(dir.path(), |b| b.truncate(b.len() / 2));
    assert_eq!(discarded(&r, dir.path(), n), "body-hash");
    let dir = fresh();
    edit(dir.path(), |b| b.clear());
    assert_eq!(discarded(&r, dir.path(), n), "magic");
}

#[test]
fn a_snapshot_of_another_election_root_log_or_size_is_discarded() {
    let r = kit::record(83);
    let n = r.entries.len() - 4;
    let other = kit::record(84);
    // Another election's board wrote it (another key, another origin).
    let dir = tempfile::tempdir().unwrap();
    board_with_snapshot(&r, dir.path(), n);
    let elsewhere = tempfile::tempdir().unwrap();
    board_with_snapshot(&other, elsewhere.path(), n);
    std::fs::copy(elsewhere.path().join(SNAPSHOT), dir.path().join(SNAPSHOT)).unwrap();
    assert_eq!(discarded(&r, dir.path(), n), "signature");

    let key = &r.kit.board;
    let tree_of = |entries: &[urna_election::entry::Entry]| {
        let leaves: Vec<_> = entries.iter().map(|e| leaf_hash(e.bytes())).collect();
        let mut t = Tree::new();
        leaves.iter().for_each(|l| t.push(*l));
        (t.root(leaves.len() as u64).unwrap(), leaves)
    };
    // Each case on a fresh board of `n` entries (a discarded snapshot's board carries on).
    let write = |capture: Capture| {
        let dir = tempfile::tempdir().unwrap();
        board_with_snapshot(&r, dir.path(), n);
        capture.write(dir.path(), r.kit.id(), key).unwrap();
        dir
    };
    // Signed by this board over a root its leaves do not give.
    let (root, leaves) = tree_of(&r.entries[..n]);
    let mut wrong = root;
    wrong[0] ^= 1;
    let dir = write(Capture {
        size: n as u64,
        root: wrong,
        leaves: leaves.clone(),
        election: Election::replay(&r.entries[..n]).unwrap(),
    });
    assert_eq!(discarded(&r, dir.path(), n), "root");
    // Of another log (the other election's entries), signed by this board: its frames differ.
    let (other_root, other_leaves) = tree_of(&other.entries[..n]);
    let dir = write(Capture {
        size: n as u64,
        root: other_root,
        leaves: other_leaves,
        election: Election::replay(&other.entries[..n]).unwrap(),
    });
    assert_eq!(discarded(&r, dir.path(), n), "log");
    // Of more entries than the log's checkpoint covers.
    let longer = n + 2;
    let (root, leaves) = tree_of(&r.entries[..longer]);
    let dir = write(Capture {
        size: longer as u64,
        root,
        leaves,
        election: Election::replay(&r.entries[..longer]).unwrap(),
    });
    let code = discarded(&r, dir.path(), n);
    assert!(code == "log" || code == "too-long", "{code}");
    // Its state is of another size than its leaves.
    let (root, leaves) = tree_of(&r.entries[..n]);
    let dir = write(Capture {
        size: n as u64,
        root,
        leaves,
        election: Election::replay(&r.entries[..n - 1]).unwrap(),
    });
    assert_eq!(discarded(&r, dir.path(), n), "state-size");
}

#[test]
fn a_crash_while_writing_a_snapshot_leaves_a_usable_directory() {
    let r = kit::record(85);
    let n = r.entries.len() - 4;
    let dir = tempfile::tempdir().unwrap();
    board_with_snapshot(&r, dir.path(), n);
    let whole = std::fs::read(dir.path().join(SNAPSHOT)).unwrap();
    // The crash came before the rename: whatever prefix of the new file was written sits in
    // the temporary file, which nothing reads; the old snapshot is restored.
    for cut in [0, 10, 150, whole.len() / 2, whole.len()] {
        std::fs::write(dir.path().join("snapshot.tmp"), &whole[..cut]).unwrap();
        let b = open(&r, dir.path());
        assert!(matches!(b.snapshot, SnapshotUse::Restored { .. }));
        assert_eq!(b.election().snapshot(), replayed(&r.entries, n));
    }
    // The first snapshot's crash: no snapshot file at all, only the temporary one.
    std::fs::remove_file(dir.path().join(SNAPSHOT)).unwrap();
    std::fs::write(dir.path().join("snapshot.tmp"), &whole[..whole.len() / 3]).unwrap();
    let b = open(&r, dir.path());
    assert!(matches!(b.snapshot, SnapshotUse::None));
    drop(b);
    carries_on(&r, dir.path(), n);
}
