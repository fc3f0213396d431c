//! The verifier over a board's log (`verify_board`): one pass over what the board serves, with
//! the root of the part verified and of the board's latest log both compared at the end — a
//! board whose tiles do not hash to its checkpoints is caught wherever the damage is, and the
//! log is read once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use urna_crypto::sign::SigningKey;
use urna_ledger::merkle::{leaf_hash, Tree};
use urna_ledger::note::Checkpoint;
use urna_ledger::witnessed::{Covered, WitnessAnswer, WitnessView};
use urna_sim::kit;
use urna_verifier::{verify_board, BoardError, Check, FromBoard, Options, Report};

fn note(k: &kit::Kit, entries: &[Vec<u8>], key: &SigningKey) -> String {
    let mut t = Tree::new();
    for e in entries {
        t.push(leaf_hash(e));
    }
    Checkpoint {
        origin: k.id().to_string(),
        size: t.size(),
        root: t.root(t.size()).unwrap(),
    }
    .sign(key)
}

/// The ranges of entries a board was asked for.
type Asked = Arc<Mutex<Vec<(u64, u64)>>>;

/// A board whose latest checkpoint is `latest_note` and whose tiles serve `served`, with what
/// the witnesses said; and the ranges it was asked for.
fn board(
    k: &kit::Kit,
    latest_note: String,
    served: Vec<Vec<u8>>,
    witnessed: Option<Result<WitnessView, String>>,
) -> (FromBoard, Asked) {
    let asked: Asked = Arc::default();
    let log = asked.clone();
    let first = served.first().cloned();
    let read = Box::new(move |a: u64, b: u64| {
        log.lock().unwrap().push((a, b));
        let len = served.len() as u64;
        Ok(served[a.min(len) as usize..b.min(len) as usize].to_vec())
    });
    let from = FromBoard {
        origin: k.id().to_string(),
        stated_key: k.board.verifying_key(),
        latest_note,
        first,
        read,
        witnessed,
    };
    (from, asked)
}

/// What witnesses that cosigned the first `covered` entries (and the board's cosigned
/// checkpoint, the same) say.
fn cosigned(k: &kit::Kit, covered: &[Vec<u8>]) -> WitnessView {
    let n = note(k, covered, &k.board);
    let cp = Checkpoint::open(&n, k.id(), &k.board.verifying_key()).unwrap();
    let answer = |name: &str| WitnessAnswer {
        name: name.into(),
        latest: Ok(Some((cp.clone(), n.clone()))),
    };
    WitnessView {
        named: 2,
        quorum: 2,
        answers: vec![answer("w1"), answer("w2")],
        board_cosigned: Some((cp.clone(), n.clone())),
        board_cosigned_beyond: false,
        witnesses_cover: Some(cp.size),
        covered: Some(Covered {
            checkpoint: cp,
            note: n,
            cosigners: vec!["w1".into(), "w2".into()],
            vouchers: vec!["w1".into(), "w2".into()],
        }),
    }
}

fn failure(r: &Report) -> (Check, &str) {
    let f = r.failure.as_ref().expect("a failure");
    (f.code, f.detail.as_str())
}

fn flipped(entries: &[Vec<u8>], at: usize) -> Vec<Vec<u8>> {
    let mut bad = entries.to_vec();
    if let Some(x) = bad[at].last_mut() {
        *x ^= 1;
    }
    bad
}

/// An honest board verifies, its log read once: every entry in exactly one chunk read (the
/// rules read a few single entries back, for revotes), no second pass to build a tree first.
#[test]
fn an_honest_board_verifies_in_one_pass() {
    let r = kit::record(18);
    let k = &r.kit;
    let entries: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let n = entries.len() as u64;
    let (from, asked) = board(k, note(k, &entries, &k.board), entries.clone(), None);
    let report = verify_board(from, &Options::default(), &|_, _| {}).unwrap();
    assert!(report.verified, "{:?}", report.failure);
    assert_eq!((report.size, report.latest_size), (n, Some(n)));
    let chunks: Vec<(u64, u64)> = asked
        .lock()
        .unwrap()
        .iter()
        .copied()
        .filter(|(a, b)| b - a > 1 || *a == 0)
        .collect();
    assert_eq!(chunks, vec![(0, n)], "the log is read once, in order");
}

/// A board whose tiles serve a damaged entry under its honest checkpoint is caught: the
/// entries do not hash to the signed root — in the part the witnesses cosigned, which is
/// replayed, and past it, which is only hashed, against the board's latest checkpoint.
#[test]
fn tiles_that_do_not_match_the_checkpoint_are_caught() {
    let r = kit::record(18);
    let k = &r.kit;
    let entries: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let n = entries.len();
    let split = 10;
    assert!(n > split + 5);
    let latest = note(k, &entries, &k.board);
    // Without witnesses: the whole log is verified.
    let (from, _) = board(k, latest.clone(), flipped(&entries, n - 2), None);
    let report = verify_board(from, &Options::default(), &|_, _| {}).unwrap();
    let (code, detail) = failure(&report);
    assert_eq!(code, Check::TreeRoot);
    assert!(
        detail.contains("do not hash to the signed root"),
        "{detail}"
    );
    // With the witnesses' quorum covering the first entries: damage within them...
    let view = || Some(Ok(cosigned(k, &entries[..split])));
    let (from, _) = board(k, latest.clone(), flipped(&entries, split - 3), view());
    let report = verify_board(from, &Options::default(), &|_, _| {}).unwrap();
    assert_eq!(report.size, split as u64);
    let (code, detail) = failure(&report);
    assert_eq!(code, Check::TreeRoot);
    assert!(
        detail.contains(&format!("signed root of size {split}")),
        "{detail}"
    );
    // ...and past them, where nothing is replayed but everything is hashed.
    let (from, _) = board(k, latest.clone(), flipped(&entries, split + 3), view());
    let report = verify_board(from, &Options::default(), &|_, _| {}).unwrap();
    let (code, detail) = failure(&report);
    assert_eq!(code, Check::TreeRoot);
    assert!(
        detail.contains(&format!("latest signed root of size {n}")),
        "{detail}"
    );
    // A board serving fewer entries than its checkpoint covers.
    let (from, _) = board(k, latest.clone(), entries[..n - 1].to_vec(), view());
    let report = verify_board(from, &Options::default(), &|_, _| {}).unwrap();
    let (code, detail) = failure(&report);
    assert_eq!(code, Check::TreeRoot);
    assert!(detail.contains("were asked for"), "{detail}");
    // The honest log under the same view verifies, replayed up to the covered part.
    let (from, _) = board(k, latest, entries.clone(), view());
    let report = verify_board(from, &Options::default(), &|_, _| {}).unwrap();
    assert!(report.verified, "{:?}", report.failure);
    assert_eq!(
        (report.size, report.latest_size),
        (split as u64, Some(n as u64))
    );
    let replayed: u64 = report.entries_by_kind.values().sum();
    assert_eq!(replayed, split as u64, "only the covered part is counted");
}

/// A checkpoint kept earlier that is past the part verified is judged against the board's
/// latest log, hashed in the same pass: a prefix passes, a fork fails.
#[test]
fn a_kept_checkpoint_past_the_part_verified_is_checked_in_the_same_pass() {
    let r = kit::record(18);
    let k = &r.kit;
    let entries: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let n = entries.len();
    let split = 10;
    let latest = note(k, &entries, &k.board);
    let view = || Some(Ok(cosigned(k, &entries[..split])));
    let kept = |e: &[Vec<u8>]| Options {
        earlier: vec![note(k, e, &k.board)],
        ..Options::default()
    };
    let (from, _) = board(k, latest.clone(), entries.clone(), view());
    let report = verify_board(from, &kept(&entries[..n - 2]), &|_, _| {}).unwrap();
    assert!(report.verified, "{:?}", report.failure);
    let fork = flipped(&entries[..n - 2], split + 1);
    let (from, _) = board(k, latest, entries.clone(), view());
    let report = verify_board(from, &kept(&fork), &|_, _| {}).unwrap();
    let (code, detail) = failure(&report);
    assert_eq!(code, Check::EarlierCheckpoint);
    assert!(detail.contains("forked"), "{detail}");
}

/// The witness policy is read from entry 0 as the board serves it alone: a log that begins
/// with other bytes is the board's misbehaviour, not a verification.
#[test]
fn a_board_serving_two_first_entries_is_an_error() {
    let r = kit::record(18);
    let k = &r.kit;
    let entries: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let (mut from, _) = board(k, note(k, &entries, &k.board), entries.clone(), None);
    from.first = Some(entries[1].clone());
    let err = verify_board(from, &Options::default(), &|_, _| {}).err();
    assert!(matches!(err, Some(BoardError::TwoFirstEntries)), "{err:?}");
    assert!(err.is_some_and(|e| !e.could_not_run()));
}

/// A board that stops serving its tiles gives no verdict on the election: the verification
/// could not run (exit 2), unlike a board caught serving two logs.
#[test]
fn a_board_that_stops_serving_its_log_is_an_error_not_a_verdict() {
    let r = kit::record(18);
    let k = &r.kit;
    let entries: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let (mut from, _) = board(k, note(k, &entries, &k.board), entries.clone(), None);
    from.read = Box::new(|a, _| Err(format!("tile holding entry {a}: connection reset")));
    let err = verify_board(from, &Options::default(), &|_, _| {}).err();
    assert!(
        matches!(&err, Some(BoardError::Stopped(why)) if why.contains("connection reset")),
        "{err:?}"
    );
    assert!(err.is_some_and(|e| e.could_not_run()));
}
