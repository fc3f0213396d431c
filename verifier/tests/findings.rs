//! The verifier as a library: each kind of damage is the finding its code names, at the entry
//! it is in; a board withholding what its witnesses cosigned is caught before anything else.
//! (`tests/tamper.rs` runs the whole catalogue through `urna verify`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_crypto::sign::SigningKey;
use urna_election::entry::EntryKind;
use urna_ledger::merkle::{leaf_hash, Tree};
use urna_ledger::note::Checkpoint;
use urna_ledger::witnessed::{Covered, WitnessAnswer, WitnessView};
use urna_sim::kit;
use urna_verifier::{record, target, verify_record, Check, KeySource, Options, Report};

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

fn verify(note: &str, entries: &[Vec<u8>], opts: &Options) -> Report {
    let mut bytes = Vec::new();
    record::write(&mut bytes, note, entries).unwrap();
    verify_record(&mut std::io::Cursor::new(&bytes), opts, &|_, _| {}).unwrap()
}

fn failure(r: &Report) -> (Check, Option<u64>, Option<&str>) {
    let f = r.failure.as_ref().expect("a failure");
    (f.code, f.entry, f.rule)
}

#[test]
fn each_damage_is_the_finding_its_code_names() {
    let r = kit::record(81);
    let k = &r.kit;
    let entries: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let good = note(k, &entries, &k.board);
    let pinned = Options {
        key: Some(k.board.verifying_key()),
        ..Options::default()
    };

    let ok = verify(&good, &entries, &Options::default());
    assert!(ok.verified, "{:?}", ok.failure);
    assert_eq!(ok.key_source, Some(KeySource::Manifest));
    assert!(ok.includes_result);
    assert!(ok.of(Check::BoardKey).all(|f| f.ok));

    // A ballot whose signature bit is flipped, in a log the board re-signed.
    let ballot = r
        .entries
        .iter()
        .position(|e| e.kind() == EntryKind::Ballot)
        .unwrap();
    let mut flipped = entries.clone();
    let last = flipped[ballot].len() - 3;
    flipped[ballot][last] ^= 1;
    let report = verify(&note(k, &flipped, &k.board), &flipped, &pinned);
    assert_eq!(
        failure(&report),
        (
            Check::EntryRules,
            Some(ballot as u64),
            Some("bad-signature")
        )
    );
    assert_eq!(
        report.failure.as_ref().unwrap().field.as_deref(),
        Some("Ballot")
    );

    // The same log under the original checkpoint: the tree fails first.
    let report = verify(&good, &flipped, &pinned);
    assert_eq!(failure(&report).0, Check::TreeRoot);

    // Signed by someone else than the key pinned.
    let report = verify(
        &note(k, &entries, &SigningKey::from_seed(&[3; 32])),
        &entries,
        &pinned,
    );
    assert_eq!(failure(&report).0, Check::CheckpointSignature);

    // A last entry cut short: not an entry at all.
    let mut cut = entries.clone();
    let n = cut.len() - 1;
    cut[n].truncate(40);
    let report = verify(&note(k, &cut, &k.board), &cut, &pinned);
    assert_eq!(failure(&report), (Check::EntryFormat, Some(n as u64), None));

    // Checkpoints kept earlier of the same history, at sizes on no power of two: prefixes (the
    // streaming tree keeps the roots at their sizes, and no leaf).
    let report = verify(
        &good,
        &entries,
        &Options {
            earlier: vec![
                note(k, &entries[..ballot], &k.board),
                note(k, &entries[..=ballot + 2], &k.board),
                good.clone(),
            ],
            ..Options::default()
        },
    );
    assert!(report.verified, "{:?}", report.failure);
    assert_eq!(
        report.of(Check::EarlierCheckpoint).filter(|f| f.ok).count(),
        3
    );

    // A checkpoint kept earlier from a forked history.
    let mut fork = entries[..=ballot].to_vec();
    fork[ballot] = entries[ballot + 1].clone();
    let report = verify(
        &good,
        &entries,
        &Options {
            earlier: vec![note(k, &fork, &k.board)],
            ..Options::default()
        },
    );
    assert_eq!(failure(&report).0, Check::EarlierCheckpoint);
    assert_eq!(
        report.failure.as_ref().unwrap().field.as_deref(),
        Some("checkpoint 1")
    );

    // A record that stops in the middle of an entry; and --final on a log without the Result.
    let mut bytes = Vec::new();
    record::write(&mut bytes, &good, &entries).unwrap();
    bytes.truncate(bytes.len() - 7);
    let report = verify_record(&mut std::io::Cursor::new(&bytes), &pinned, &|_, _| {}).unwrap();
    assert_eq!(failure(&report).0, Check::RecordFormat);
    let open = &entries[..entries.len() - 1];
    let report = verify(
        &note(k, open, &k.board),
        open,
        &Options {
            require_result: true,
            ..Options::default()
        },
    );
    assert_eq!(failure(&report).0, Check::Final);
}

#[test]
fn a_board_behind_its_witnesses_is_withholding_and_that_is_the_failure() {
    let r = kit::record(82);
    let k = &r.kit;
    let entries: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let (old, new) = (&entries[..10], &entries[..]);
    let cp = |e: &[Vec<u8>]| {
        Checkpoint::open(&note(k, e, &k.board), k.id(), &k.board.verifying_key()).unwrap()
    };
    let answer = |name: &str, e: &[Vec<u8>]| WitnessAnswer {
        name: name.into(),
        latest: Ok(Some((cp(e), note(k, e, &k.board)))),
    };
    let view = WitnessView {
        named: 2,
        quorum: 2,
        answers: vec![answer("w1", new), answer("w2", new)],
        board_cosigned: Some((cp(old), note(k, old, &k.board))),
        board_cosigned_beyond: false,
        witnesses_cover: Some(new.len() as u64),
        covered: Some(Covered {
            checkpoint: cp(old),
            note: note(k, old, &k.board),
            cosigners: vec!["w1".into(), "w2".into()],
            vouchers: vec!["w1".into(), "w2".into()],
        }),
    };
    let t = target(&note(k, new, &k.board), new.len() as u64, &Some(Ok(view)));
    let problem = t.problem.expect("withholding");
    assert_eq!(problem.code, Check::WitnessFreshness);
    assert!(problem.detail.contains("withholding"), "{}", problem.detail);
    // What is verified then is the board's own stale cosigned checkpoint.
    assert_eq!(t.size, old.len() as u64);
    // A log that contradicts a witness.
    let t = target(
        &note(k, new, &k.board),
        new.len() as u64,
        &Some(Err("forked".into())),
    );
    assert_eq!(t.problem.unwrap().code, Check::WitnessesAgree);
}

#[test]
fn a_ranked_record_shows_its_counts_and_a_forged_shuffle_proof_fails() {
    use urna_election::payload::Payload;
    let r = urna_sim::ranked::record(7, 14);
    let k = &r.kit;
    let entries: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let ok = verify(&note(k, &entries, &k.board), &entries, &Options::default());
    assert!(ok.verified, "{:?}", ok.failure);
    let counts: Vec<_> = ok.of(Check::RankedCount).collect();
    assert_eq!(counts.len(), 2);
    assert!(counts.iter().all(|f| f.ok), "{counts:?}");
    assert!(
        counts[0].detail.contains("mixed by 3 of 3 mixers")
            && counts[0].detail.contains("the published count equals it"),
        "{}",
        counts[0].detail
    );
    assert_eq!(ok.ranked.len(), 2);
    assert_eq!(ok.ranked[0].method, "stv");
    assert!(!ok.ranked[0].rounds.is_empty());

    // The second mixer's closing proof with one response changed, signed again by that
    // mixer: the entry verifies as an entry, and the shuffle proof does not.
    let at = r
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind() == EntryKind::MixProof)
        .nth(1)
        .unwrap()
        .0;
    let x = &r.entries[at];
    let Payload::MixProof(mut p) = Payload::decode(x.kind(), x.payload()).unwrap() else {
        panic!("not a MixProof")
    };
    p.s1 += urna_crypto::Scalar::ONE;
    let mixer = k
        .trustees
        .iter()
        .find(|t| t.signing.verifying_key() == *x.author())
        .unwrap();
    let forged = k.sign(&mixer.signing, &Payload::MixProof(p));
    let mut bad = entries.clone();
    bad[at] = forged.bytes().to_vec();
    let report = verify(&note(k, &bad, &k.board), &bad, &Options::default());
    assert!(!report.verified);
    assert_eq!(
        failure(&report),
        (Check::EntryRules, Some(at as u64), Some("invalid-shuffle"))
    );
}

/// A record is read as a stream, a chunk at a time; its format is still its first finding, and
/// the only one, wherever the damage is: in the first chunk or far past it, truncated or with
/// bytes after its last entry, and whatever else is wrong with it.
#[test]
fn a_record_damaged_past_its_first_chunk_is_a_format_failure() {
    let r = kit::record(83);
    let k = &r.kit;
    let mut entries: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    // Past the first chunk, entries that are not even envelopes: format comes first.
    entries.extend((0..urna_verifier::CHUNK + 10).map(|i| i.to_be_bytes().to_vec()));
    let good = note(k, &entries, &k.board);
    let pinned = Options {
        key: Some(k.board.verifying_key()),
        ..Options::default()
    };
    let mut bytes = Vec::new();
    record::write(&mut bytes, &good, &entries).unwrap();

    let whole = verify_record(&mut std::io::Cursor::new(&bytes), &pinned, &|_, _| {}).unwrap();
    assert_eq!(
        failure(&whole).0,
        Check::EntryFormat,
        "the record itself reads"
    );
    assert_eq!(whole.of(Check::RecordFormat).count(), 1);

    let mut cut = bytes.clone();
    cut.truncate(bytes.len() - 3);
    let mut longer = bytes.clone();
    longer.push(0);
    for damaged in [cut, longer] {
        let report =
            verify_record(&mut std::io::Cursor::new(&damaged), &pinned, &|_, _| {}).unwrap();
        assert_eq!(failure(&report).0, Check::RecordFormat);
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    }
}
