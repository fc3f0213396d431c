//! The board core against a whole election: receipts verify offline, resubmission is
//! idempotent, rejections change nothing, and recovery cuts only a torn tail and refuses to start
//! on damaged acknowledged history, whichever signed statement or index shows it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_sim::kit;

use std::fs::OpenOptions;
use std::io::Write;

use urna_board::board::{Board, OpenError};
use urna_ledger::note::Checkpoint;

fn setup() -> (kit::Record, tempfile::TempDir) {
    (kit::record(77), tempfile::tempdir().unwrap())
}

fn open(r: &kit::Record, dir: &std::path::Path) -> Board {
    Board::open(dir, r.kit.id(), r.kit.board.clone()).unwrap()
}

#[test]
fn a_whole_election_with_receipts_and_idempotence() {
    let (r, dir) = setup();
    let mut b = open(&r, dir.path());
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let mut receipts = Vec::new();
    for chunk in raw.chunks(5) {
        for res in b.submit(chunk).unwrap() {
            receipts.push(res.unwrap());
        }
    }
    assert_eq!(b.size(), raw.len() as u64);
    let vk = b.public_key();
    for (i, (rc, e)) in receipts.iter().zip(&raw).enumerate() {
        assert_eq!(rc.index, i as u64);
        rc.verify(e, r.kit.id(), &vk).unwrap();
    }
    // Re-submitting is idempotent: same index, receipt under the current checkpoint.
    let again = b.submit(&raw[3..4]).unwrap();
    assert_eq!(again[0].as_ref().unwrap().index, 3);
    assert_eq!(b.size(), raw.len() as u64);
    // Every kind of entry, ballots among them (which the board finds through the rules' state
    // before its index), answers with its own index.
    let all = b.submit(&raw).unwrap();
    for (i, res) in all.iter().enumerate() {
        assert_eq!(res.as_ref().unwrap().index, i as u64);
    }
    assert_eq!(b.size(), raw.len() as u64);
    // Bad input gets a typed rejection and leaves the log unchanged.
    let before = b.checkpoint().to_string();
    let mut garbled = raw[5].clone();
    garbled.truncate(20);
    let res = b
        .submit(&[
            garbled,
            vec![0; 70_000],
            raw[0][..raw[0].len() - 1].to_vec(),
        ])
        .unwrap();
    let codes: Vec<&str> = res.iter().map(|x| x.as_ref().unwrap_err().code()).collect();
    assert_eq!(codes, ["malformed", "oversized", "malformed"]);
    assert_eq!(b.checkpoint(), before);
    let cp = Checkpoint::open(b.checkpoint(), r.kit.id(), &vk).unwrap();
    drop(b);
    // Reopening replays to the same state and the same tree.
    let b = open(&r, dir.path());
    assert!(!b.recovered_tail);
    assert_eq!(b.tree().root(cp.size).unwrap(), cp.root);
    assert_eq!(b.election().result(), kit_result(&r).as_ref());
}

fn kit_result(r: &kit::Record) -> Option<urna_election::payload::ElectionResult> {
    urna_election::state::Election::replay(&r.entries)
        .ok()?
        .result()
        .cloned()
}

#[test]
fn a_torn_tail_is_cut_and_damaged_history_refuses_to_start() {
    let (r, dir) = setup();
    let raw: Vec<Vec<u8>> = r
        .entries
        .iter()
        .take(12)
        .map(|e| e.bytes().to_vec())
        .collect();
    {
        let mut b = open(&r, dir.path());
        b.submit(&raw).unwrap();
    }
    let log = dir.path().join("log");
    // A frame written but never acknowledged, cut short by a crash.
    let mut f = OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(&[0, 0, 1, 0, 42, 42, 42]).unwrap();
    drop(f);
    let b = open(&r, dir.path());
    assert!(b.recovered_tail);
    assert_eq!(b.size(), 12);
    drop(b);
    // Damage inside acknowledged history: flip a byte in the third entry.
    let mut bytes = std::fs::read(&log).unwrap();
    let third = 2 * 12 + raw[0].len() + raw[1].len() + 20;
    bytes[third] ^= 1;
    std::fs::write(&log, &bytes).unwrap();
    let err = Board::open(dir.path(), r.kit.id(), r.kit.board.clone())
        .err()
        .unwrap();
    assert!(
        matches!(
            &err,
            OpenError::MissingEntries {
                covers: 12,
                intact: 2,
                file,
                ..
            } if file.ends_with("checkpoint")
        ),
        "{err}"
    );
    assert!(err
        .to_string()
        .contains("acknowledged entries are missing or damaged"));
}

#[test]
fn a_checkpoint_that_does_not_match_the_log_refuses_to_start() {
    let (r, dir) = setup();
    let raw: Vec<Vec<u8>> = r
        .entries
        .iter()
        .take(4)
        .map(|e| e.bytes().to_vec())
        .collect();
    {
        let mut b = open(&r, dir.path());
        b.submit(&raw).unwrap();
    }
    let forged = Checkpoint {
        origin: r.kit.id().into(),
        size: 4,
        root: [9; 32],
    }
    .sign(&r.kit.board);
    std::fs::write(dir.path().join("checkpoint"), forged).unwrap();
    let err = Board::open(dir.path(), r.kit.id(), r.kit.board.clone())
        .err()
        .unwrap();
    assert!(
        matches!(&err, OpenError::RootMismatch { size: 4, file } if file.ends_with("checkpoint")),
        "{err}"
    );
}

#[test]
fn the_board_refuses_other_elections_and_manifests_naming_another_board() {
    let (r, dir) = setup();
    let mut b = Board::open(
        dir.path(),
        r.kit.id(),
        urna_crypto::sign::SigningKey::from_seed(&[5; 32]),
    )
    .unwrap();
    let res = b.submit(&[r.entries[0].bytes().to_vec()]).unwrap();
    assert_eq!(res[0].as_ref().unwrap_err().code(), "unauthorised-author");
    let dir2 = tempfile::tempdir().unwrap();
    let mut b2 = Board::open(dir2.path(), "vote.example.org/another", r.kit.board.clone()).unwrap();
    let res = b2.submit(&[r.entries[0].bytes().to_vec()]).unwrap();
    assert_eq!(res[0].as_ref().unwrap_err().code(), "wrong-election");
    assert_eq!(b2.size(), 0);
}

#[test]
fn a_batch_repeating_an_entry_answers_both_copies_with_one_index() {
    let (r, dir) = setup();
    let mut b = open(&r, dir.path());
    let setup_entry = r.entries[0].bytes().to_vec();
    let res = b.submit(&[setup_entry.clone(), setup_entry]).unwrap();
    let indices: Vec<u64> = res.iter().map(|x| x.as_ref().unwrap().index).collect();
    assert_eq!(indices, [0, 0]);
    assert_eq!(b.size(), 1);
}

/// The sled index is derived: missing, behind, or damaged, it is caught up or rebuilt from the
/// log at start, and lookups (dedup, receipts) keep working.
#[test]
fn the_derived_index_is_rebuilt_from_the_log() {
    use urna_board::index::IndexState;
    let (r, dir) = setup();
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let check_all = |b: &Board| {
        for (i, e) in raw.iter().enumerate() {
            assert_eq!(
                b.index_of(&urna_ledger::merkle::leaf_hash(e)),
                Some(i as u64)
            );
        }
    };
    let mut b = open(&r, dir.path());
    assert_eq!(b.index_state, IndexState::Rebuilt);
    for res in b.submit(&raw).unwrap() {
        res.unwrap();
    }
    drop(b);
    let b = open(&r, dir.path());
    assert_eq!(b.index_state, IndexState::Current);
    check_all(&b);
    drop(b);
    // Behind: the index claims fewer entries than the log holds.
    {
        let db = sled::open(dir.path().join("index")).unwrap();
        db.insert(b"size", &((raw.len() - 4) as u64).to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let b = open(&r, dir.path());
    assert_eq!(b.index_state, IndexState::CaughtUp);
    check_all(&b);
    drop(b);
    // Missing.
    std::fs::remove_dir_all(dir.path().join("index")).unwrap();
    let b = open(&r, dir.path());
    assert_eq!(b.index_state, IndexState::Rebuilt);
    check_all(&b);
    drop(b);
    // Damaged: every file of it overwritten with garbage.
    for f in std::fs::read_dir(dir.path().join("index")).unwrap() {
        let p = f.unwrap().path();
        if p.is_file() {
            std::fs::write(&p, vec![0xA5; 4096]).unwrap();
        }
    }
    let mut b = open(&r, dir.path());
    assert_ne!(b.index_state, IndexState::Current);
    check_all(&b);
    // Idempotence still answers from the index.
    assert_eq!(b.submit(&raw[2..3]).unwrap()[0].as_ref().unwrap().index, 2);
}

/// A data directory holding the first `n` entries of the record, closed; returns the raw
/// entries and the log's length.
fn closed_board(r: &kit::Record, dir: &std::path::Path, n: usize) -> Vec<Vec<u8>> {
    let raw: Vec<Vec<u8>> = r
        .entries
        .iter()
        .take(n)
        .map(|e| e.bytes().to_vec())
        .collect();
    let mut b = open(r, dir);
    for res in b.submit(&raw).unwrap() {
        res.unwrap();
    }
    raw
}

fn cut_log(dir: &std::path::Path, bytes: u64) {
    let log = dir.join("log");
    let len = std::fs::metadata(&log).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(len - bytes)
        .unwrap();
}

fn refusal(
    r: &kit::Record,
    dir: &std::path::Path,
    opts: urna_board::board::OpenOptions,
) -> OpenError {
    Board::open_with(dir, r.kit.id(), r.kit.board.clone(), opts)
        .err()
        .expect("the board must refuse to start")
}

/// The case found in issue 16: the checkpoint and the index deleted, the log cut by a few
/// bytes, the cosigned checkpoint still covering every entry. The board must not call the
/// last acknowledged entry a torn tail.
#[test]
fn the_cosigned_checkpoint_bounds_what_was_acknowledged() {
    let (r, dir) = setup();
    let raw = closed_board(&r, dir.path(), 12);
    let d = dir.path();
    std::fs::copy(d.join("checkpoint"), d.join("cosigned")).unwrap();
    std::fs::remove_file(d.join("checkpoint")).unwrap();
    std::fs::remove_dir_all(d.join("index")).unwrap();
    cut_log(d, 3);
    let err = refusal(&r, d, Default::default());
    assert!(
        matches!(
            &err,
            OpenError::MissingEntries { file, covers: 12, intact: 11, .. } if file.ends_with("cosigned")
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("cosigned") && text.contains("covers 12 entries"),
        "{text}"
    );
    // Nothing was cut: the bytes of the damaged entry are still there for a person to look at.
    let len: usize = raw.iter().map(|e| e.len() + 12).sum();
    assert_eq!(
        std::fs::metadata(d.join("log")).unwrap().len() as usize,
        len - 3
    );
}

/// Without the checkpoint nothing else may say what was acknowledged: a non-empty log then
/// refuses to start unless the operator says so, and even then a tail of unreadable bytes
/// refuses (it cannot be told from a damaged acknowledged entry).
#[test]
fn a_missing_checkpoint_refuses_unless_the_operator_accepts_the_log() {
    let (r, dir) = setup();
    closed_board(&r, dir.path(), 12);
    let d = dir.path();
    std::fs::remove_file(d.join("checkpoint")).unwrap();
    std::fs::remove_dir_all(d.join("index")).unwrap();
    let err = refusal(&r, d, Default::default());
    assert!(matches!(err, OpenError::NoCheckpoint { .. }), "{err}");
    assert!(
        err.to_string().contains("--accept-log-without-checkpoint"),
        "{err}"
    );
    let accept = urna_board::board::OpenOptions {
        accept_log_without_checkpoint: true,
    };
    let b = Board::open_with(d, r.kit.id(), r.kit.board.clone(), accept).unwrap();
    assert_eq!(b.size(), 12);
    assert!(!b.recovered_tail);
    drop(b);
    // It wrote a checkpoint at start: the next start needs no option.
    assert_eq!(open(&r, d).size(), 12);
    // A cut log without a checkpoint: refused with or without the option, never "torn".
    std::fs::remove_file(d.join("checkpoint")).unwrap();
    std::fs::remove_dir_all(d.join("index")).unwrap();
    cut_log(d, 3);
    let err = refusal(&r, d, Default::default());
    assert!(matches!(err, OpenError::NoCheckpoint { .. }), "{err}");
    let err = refusal(&r, d, accept);
    assert!(matches!(err, OpenError::UnboundedTail { .. }), "{err}");
    assert!(err.to_string().contains("truncate -s"), "{err}");
}

/// The index records only entries already durable in the log, so a log shorter than the index
/// lost durable entries: refused, not "rebuilt" away.
#[test]
fn an_index_ahead_of_the_log_refuses_to_start() {
    let (r, dir) = setup();
    closed_board(&r, dir.path(), 12);
    let d = dir.path();
    std::fs::remove_file(d.join("checkpoint")).unwrap();
    cut_log(d, 3);
    let err = refusal(&r, d, Default::default());
    assert!(
        matches!(
            &err,
            OpenError::MissingEntries { file, covers: 12, intact: 11, .. } if file.ends_with("index")
        ),
        "{err}"
    );
}

/// A cosigned checkpoint that is not a prefix of the log, or not the board's, refuses too.
#[test]
fn a_cosigned_checkpoint_that_disagrees_with_the_log_refuses_to_start() {
    let (r, dir) = setup();
    closed_board(&r, dir.path(), 6);
    let d = dir.path();
    let forged = Checkpoint {
        origin: r.kit.id().into(),
        size: 5,
        root: [7; 32],
    }
    .sign(&r.kit.board);
    std::fs::write(d.join("cosigned"), &forged).unwrap();
    let err = refusal(&r, d, Default::default());
    assert!(
        matches!(&err, OpenError::RootMismatch { size: 5, file } if file.ends_with("cosigned")),
        "{err}"
    );
    let other = Checkpoint {
        origin: r.kit.id().into(),
        size: 5,
        root: [7; 32],
    }
    .sign(&urna_crypto::sign::SigningKey::from_seed(&[3; 32]));
    std::fs::write(d.join("cosigned"), other).unwrap();
    let err = refusal(&r, d, Default::default());
    assert!(
        matches!(&err, OpenError::BadNote { file, .. } if file.ends_with("cosigned")),
        "{err}"
    );
}
