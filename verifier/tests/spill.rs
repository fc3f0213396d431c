//! The verifier with the `α` prefixes spilled to disk ([`Options::spill`]) reports what it
//! reports holding them in memory — the same verdict, the same finding at the same entry — on
//! valid logs of several sizes and on logs a cheating board let a copied `α` into.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_crypto::Scalar;
use urna_election::entry::{Entry, EntryKind};
use urna_election::payload::{ChallengedBallot, Payload};
use urna_election::state::Election;
use urna_ledger::merkle::{leaf_hash, Tree};
use urna_ledger::note::Checkpoint;
use urna_sim::kit::{Config, Kit};
use urna_verifier::{record, verify_record, Options, Report, Spill};

fn note(k: &Kit, entries: &[Vec<u8>]) -> String {
    let mut t = Tree::new();
    for e in entries {
        t.push(leaf_hash(e));
    }
    Checkpoint {
        origin: k.id().to_string(),
        size: t.size(),
        root: t.root(t.size()).unwrap(),
    }
    .sign(&k.board)
}

fn verify(k: &Kit, entries: &[Entry], spill: Option<&std::path::Path>) -> Report {
    let raw: Vec<Vec<u8>> = entries.iter().map(|e| e.bytes().to_vec()).collect();
    let mut bytes = Vec::new();
    record::write(&mut bytes, &note(k, &raw), &raw).unwrap();
    let opts = Options {
        // The smallest budget: a run written every 64 prefixes, runs merged over levels.
        spill: spill.map(|dir| Spill {
            dir: dir.to_path_buf(),
            budget: 0,
            // The smallest cache: two pages of each table, evicted at every turn.
            cache: 0,
        }),
        ..Options::default()
    };
    verify_record(&mut std::io::Cursor::new(&bytes), &opts, &|_, _| {}).unwrap()
}

/// Verifies both ways; the reports must be the same. Returns (entry, rule) of the failure.
fn both(k: &Kit, entries: &[Entry]) -> Option<(Option<u64>, Option<String>, Option<String>)> {
    let dir = tempfile::tempdir().unwrap();
    let held = verify(k, entries, None);
    let spilled = verify(k, entries, Some(dir.path()));
    assert_eq!(
        serde_json::to_value(&held).unwrap(),
        serde_json::to_value(&spilled).unwrap()
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    held.failure
        .as_ref()
        .map(|f| (f.entry, f.rule.map(str::to_string), f.field.clone()))
}

/// The polls opened for `n` voters: the kit, the entries so far, and the state after them.
fn opened(seed: u64, n: usize) -> (Kit, Vec<Entry>, Election) {
    let cfg = Config {
        voters: (0..n)
            .map(|i| (1 + u32::from(i % 3 == 0), u16::from(i % 4 == 3)))
            .collect(),
        ..Config::default()
    };
    let mut k = Kit::new(seed, cfg);
    let mut e = Election::new();
    let mut entries = vec![k.setup()];
    entries.extend(k.ceremony());
    entries.push(k.roll(0, 0..n));
    entries.push(k.open());
    for x in &entries {
        e.apply(x).unwrap();
    }
    (k, entries, e)
}

fn push(e: &mut Election, entries: &mut Vec<Entry>, x: Entry) {
    e.apply(&x).unwrap();
    entries.push(x);
}

#[test]
fn a_valid_election_verifies_the_same_at_several_sizes() {
    for (seed, n) in [(1, 12), (2, 60), (3, 150)] {
        let (mut k, mut entries, mut e) = opened(seed, n);
        let ctx = e.context().unwrap().clone();
        for v in 0..n {
            let c = k.random_choices(k.voters[v].style);
            let x = k.ballot(v, &c, &ctx);
            push(&mut e, &mut entries, x);
        }
        let c = k.random_choices(k.voters[4].style);
        let (x, _) = k.challenged(4, &c, &ctx);
        push(&mut e, &mut entries, x);
        for v in (0..n).step_by(7) {
            let c = k.random_choices(k.voters[v].style);
            let x = k.ballot(v, &c, &ctx);
            push(&mut e, &mut entries, x);
        }
        push(&mut e, &mut entries, k.close());
        for i in [2u16, 1] {
            let x = k.decryption_share(i, &e);
            push(&mut e, &mut entries, x);
        }
        let x = k.result(&e);
        push(&mut e, &mut entries, x);
        assert_eq!(both(&k, &entries), None, "{n} voters");
    }
}

/// Voter 1's ballot (or challenged ballot, opened honestly or not) with voter 0's ciphertexts:
/// encrypted again from the randomness voter 0's was, so every `α` repeats and its proofs hold.
enum Copy {
    Ballot,
    Challenged { honest: bool },
}

/// 40 voters' ballots after the polls opened, voter 0's first; the copy after `at` others.
fn with_a_copy(copy: Copy, at: usize) -> (Kit, Vec<Entry>, u64) {
    let n = 40;
    let (mut k, mut entries, e) = opened(7, n);
    let ctx = e.context().unwrap().clone();
    let c0 = k.random_choices(k.voters[0].style);
    let rng = k.rng.clone();
    entries.push(k.ballot(0, &c0, &ctx));
    let after = k.rng.clone();
    let at = entries.len() + at;
    k.rng = rng;
    let (b, secrets) = k.encrypt(1, &c0, &ctx);
    k.rng = after;
    let copied = match copy {
        Copy::Ballot => k.ballot_entry(1, b),
        Copy::Challenged { honest } => {
            let mut openings: Vec<Vec<(u16, Scalar)>> = secrets
                .openings
                .iter()
                .map(|c| c.iter().map(|(v, r)| (*v, *r.expose())).collect())
                .collect();
            if !honest {
                openings[0][0].1 += Scalar::ONE;
            }
            let p = Payload::ChallengedBallot(Box::new(ChallengedBallot {
                ballot: b,
                openings,
            }));
            k.sign(&k.voters[1].key, &p)
        }
    };
    for v in 2..n {
        if entries.len() == at {
            entries.push(copied.clone());
        }
        let c = k.random_choices(k.voters[v].style);
        entries.push(k.ballot(v, &c, &ctx));
    }
    if entries.len() < at {
        entries.push(copied.clone());
    }
    let index = entries
        .iter()
        .position(|x| x.bytes() == copied.bytes())
        .unwrap();
    (k, entries, index as u64)
}

fn copied(index: u64, kind: EntryKind) -> Option<(Option<u64>, Option<String>, Option<String>)> {
    Some((
        Some(index),
        Some("copied-ballot".into()),
        Some(kind.to_string()),
    ))
}

#[test]
fn a_copied_alpha_a_cheating_board_admitted_is_caught_at_the_same_entry() {
    let (k, entries, j) = with_a_copy(Copy::Ballot, 30);
    assert_eq!(both(&k, &entries), copied(j, EntryKind::Ballot));
    // The copy as the last entry, and as the first ballot after voter 0's.
    let (k, entries, j) = with_a_copy(Copy::Ballot, 1000);
    assert_eq!(both(&k, &entries), copied(j, EntryKind::Ballot));
    let (k, entries, j) = with_a_copy(Copy::Ballot, 0);
    assert_eq!(both(&k, &entries), copied(j, EntryKind::Ballot));
    // A challenged ballot may not copy either.
    let (k, entries, j) = with_a_copy(Copy::Challenged { honest: true }, 25);
    assert_eq!(both(&k, &entries), copied(j, EntryKind::ChallengedBallot));
}

#[test]
fn a_copy_refused_by_a_later_check_is_still_a_copy() {
    // Its opening is wrong too, which is checked after the copy: checking each ballot refuses
    // it as a copy; the spilled check admitted nothing, and still names it a copy.
    let (k, entries, j) = with_a_copy(Copy::Challenged { honest: false }, 25);
    assert_eq!(both(&k, &entries), copied(j, EntryKind::ChallengedBallot));
}

#[test]
fn the_first_refusal_wins_whichever_comes_first() {
    let (k, entries, j) = with_a_copy(Copy::Ballot, 20);
    let j = j as usize;
    // A bad signature after the copy: the copy first.
    let flip = |x: &Entry| {
        let mut b = x.bytes().to_vec();
        let last = b.len() - 3;
        b[last] ^= 1;
        Entry::decode(b).unwrap()
    };
    let mut later = entries.clone();
    later[j + 3] = flip(&later[j + 3]);
    assert_eq!(both(&k, &later), copied(j as u64, EntryKind::Ballot));
    // A bad signature before the copy: it first.
    let mut earlier = entries.clone();
    earlier[j - 3] = flip(&earlier[j - 3]);
    let r = both(&k, &earlier).unwrap();
    assert_eq!(
        (r.0, r.1.as_deref()),
        (Some(j as u64 - 3), Some("bad-signature"))
    );
    // A ballot sent twice (the same bytes): a duplicate, not a copy, in both.
    let mut twice = entries[..j].to_vec();
    twice.push(entries[j - 2].clone());
    let r = both(&k, &twice).unwrap();
    assert_eq!((r.0, r.1.as_deref()), (Some(j as u64), Some("duplicate")));
}

#[test]
fn the_sims_records_verify_the_same_with_their_tables_on_disk() {
    // Revotes (a superseded ballot read back from the record, through its offsets on disk),
    // a challenged ballot, the result: the same report.
    for seed in 1..=3 {
        let r = urna_sim::kit::record(seed);
        assert_eq!(both(&r.kit, &r.entries), None, "seed {seed}");
    }
}

#[test]
fn a_spill_directory_that_cannot_hold_a_file_is_an_error_not_a_verdict() {
    let r = urna_sim::kit::record(1);
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let mut bytes = Vec::new();
    record::write(&mut bytes, &note(&r.kit, &raw), &raw).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        spill: Some(Spill {
            dir: dir.path().join("gone"),
            budget: 0,
            cache: 0,
        }),
        ..Options::default()
    };
    let got = verify_record(&mut std::io::Cursor::new(&bytes), &opts, &|_, _| {});
    let Err(e) = got else {
        panic!("a report, not an error");
    };
    assert!(e.to_string().contains("gone"), "{e}");
}
