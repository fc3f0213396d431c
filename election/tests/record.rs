//! A whole election replays to the tally computed in the clear; replay is deterministic for
//! every prefix; random elections agree with their clear tallies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::kit::{self, record, Config, Kit};
use urna_election::manifest::RevotePolicy;

use proptest::prelude::*;
use urna_election::state::{BallotStatus, Election, Phase};

#[test]
fn small_election_replays_to_its_clear_tally() {
    let r = record(1);
    let e = Election::replay(&r.entries).unwrap();
    assert_eq!(e.phase(), Phase::Finished);
    assert_eq!(e.result().unwrap().counts, r.expected);
    let c = e.counts();
    assert_eq!(
        (c.voters, c.ballots, c.counted, c.superseded, c.challenged),
        (12, 15, 12, 3, 1)
    );
    assert_eq!(c.decryption_shares, 2);
    let statuses: Vec<BallotStatus> = e.ballots().iter().map(|b| b.status).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| matches!(s, BallotStatus::Superseded { .. }))
            .count(),
        3
    );
    assert_eq!(e.ballots()[12].status, BallotStatus::Challenged);
}

#[test]
fn every_prefix_replays_identically() {
    let r = record(2);
    let mut one_by_one = Election::new();
    for (i, entry) in r.entries.iter().enumerate() {
        let admitted = one_by_one.apply(entry).unwrap();
        assert_eq!(admitted.index, i as u64);
        let replayed = Election::replay(&r.entries[..=i]).unwrap();
        assert_eq!(replayed.phase(), one_by_one.phase());
        assert_eq!(replayed.counts(), one_by_one.counts());
        assert_eq!(replayed.encrypted_tally(), one_by_one.encrypted_tally());
        assert_eq!(replayed.ballots(), one_by_one.ballots());
    }
    // Batched application (as the board does) gives the same answers as one at a time.
    let mut batched = Election::new();
    assert!(batched.apply_batch(&r.entries).iter().all(Result::is_ok));
    assert_eq!(batched.result(), one_by_one.result());
}

fn random_election(
    seed: u64,
    voters: usize,
    revotes: usize,
    weights: bool,
) -> (Vec<Vec<u64>>, Election) {
    let cfg = Config {
        voters: (0..voters)
            .map(|i| (if weights { 1 + (i as u32 % 4) } else { 1 }, (i % 2) as u16))
            .collect(),
        ..Config::default()
    };
    let mut kit = Kit::new(seed, cfg);
    let mut e = Election::new();
    let setup = kit.setup();
    kit::apply_all(&mut e, &[setup]);
    let ceremony = kit.ceremony();
    kit::apply_all(&mut e, &ceremony);
    let roll = kit.roll(0, 0..voters);
    kit::apply_all(&mut e, &[roll, kit.open()]);
    let ctx = e.context().unwrap().clone();
    let mut last = vec![None; voters];
    for k in 0..voters + revotes {
        let v = k % voters;
        let c = kit.random_choices(kit.voters[v].style);
        let b = kit.ballot(v, &c, &ctx);
        kit::apply_all(&mut e, &[b]);
        last[v] = Some(c);
    }
    kit::apply_all(&mut e, &[kit.close()]);
    let shares: Vec<_> = [3u16, 1]
        .iter()
        .map(|i| kit.decryption_share(*i, &e))
        .collect();
    kit::apply_all(&mut e, &shares);
    let res = kit.result(&e);
    kit::apply_all(&mut e, &[res]);
    let ballots: Vec<_> = kit
        .voters
        .iter()
        .zip(last)
        .filter_map(|(v, c)| c.map(|c| (v.weight, v.style, c)))
        .collect();
    (kit::clear_tally(&kit.manifest, &ballots), e)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    #[test]
    fn random_elections_tally_in_the_clear(seed in any::<u64>(), voters in 1usize..6, revotes in 0usize..3, weights in any::<bool>()) {
        let (clear, e) = random_election(seed, voters, revotes, weights);
        prop_assert_eq!(e.phase(), Phase::Finished);
        prop_assert_eq!(&e.result().unwrap().counts, &clear);
    }
}

/// A failing entry is reported at its own index in the log, even when later entries of the same
/// batch are admissible.
#[test]
fn replay_names_the_failing_entry_by_its_log_index() {
    let r = kit::record(5);
    let mut entries = r.entries.clone();
    let first_ballot = entries
        .iter()
        .position(|e| e.kind() == urna_election::entry::EntryKind::Ballot)
        .unwrap();
    entries.insert(first_ballot + 1, entries[first_ballot].clone());
    let Err((index, kind, rejection)) = Election::replay(&entries) else {
        panic!("a duplicated entry must not replay")
    };
    assert_eq!(index, first_ballot as u64 + 1);
    assert_eq!(kind, urna_election::entry::EntryKind::Ballot);
    assert_eq!(rejection.code(), "duplicate");
}

/// A log a party verified before is replayed without its signatures and ballot proofs (a board
/// restarting): at every prefix, and across chunk sizes, the state is the one full verification
/// reaches, and no ballot proof is verified again. Only the rules' other checks run: an entry
/// they refuse is still refused.
#[test]
fn replaying_a_verified_log_reaches_the_verified_state() {
    let r = record(3);
    let n = r.entries.len();
    for size in [1, n / 3, n / 2, n - 1, n] {
        let full = Election::replay(&r.entries[..size]).unwrap();
        for chunk in [1, 5, 1024] {
            let mut fast = Election::new();
            for c in r.entries[..size].chunks(chunk) {
                assert!(fast.apply_batch_verified(c).iter().all(Result::is_ok));
            }
            assert_eq!(
                snapshot(&fast),
                snapshot(&full),
                "size {size}, chunk {chunk}"
            );
            assert_eq!(fast.result(), full.result());
            let ballots = full.counts().ballots + full.counts().challenged;
            assert!(fast.proofs_verified() < full.proofs_verified() || ballots == 0);
        }
    }
    // A ballot repeated is still a duplicate; one from a key not on the roll still not eligible.
    let mut fast = Election::new();
    let at = r.challenged_at;
    assert!(fast
        .apply_batch_verified(&r.entries[..at + 1])
        .iter()
        .all(Result::is_ok));
    let again = fast.apply_batch_verified(&r.entries[at..at + 1]);
    assert_eq!(again[0].as_ref().unwrap_err().code(), "duplicate");
}

/// Everything the state exposes that entries change.
fn snapshot(e: &Election) -> String {
    format!(
        "{} {} {:?} {:?} {:?} {:?} {:?} {:?}",
        e.size(),
        e.phase(),
        e.counts(),
        e.roll_batches(),
        e.total_weight(),
        e.ballots(),
        e.encrypted_tally(),
        e.result(),
    )
}

/// A pool of entries that interact: roll batches (one out of order), opening and closing,
/// honest ballots and revotes, a ballot from a key not on the roll, ballots whose proofs fail,
/// a challenged ballot and the same ballot cast, a ballot copying another's ciphertext — for a
/// policy that allows revoting and one that forbids it. Made once: encryption is the slow part.
struct Pool {
    base: Election,
    entries: Vec<urna_election::entry::Entry>,
}

fn pool(revote: RevotePolicy) -> Pool {
    use urna_election::payload::Payload;
    let mut kit = Kit::new(
        if revote == RevotePolicy::Forbidden {
            41
        } else {
            42
        },
        Config {
            revote,
            voters: vec![(1, 0), (2, 1), (1, 0), (3, 0)],
            ..Config::default()
        },
    );
    let mut base = Election::new();
    let setup = kit.setup();
    kit::apply_all(&mut base, &[setup]);
    let ceremony = kit.ceremony();
    kit::apply_all(&mut base, &ceremony);
    let ctx = base.context().unwrap().clone();
    let mut entries = vec![
        kit.roll(0, 0..3),
        kit.roll(1, 3..4),
        kit.roll(7, 0..1),
        kit.open(),
    ];
    for v in [0usize, 1, 2, 3, 0, 1] {
        let c = kit.random_choices(kit.voters[v].style);
        entries.push(kit.ballot(v, &c, &ctx));
    }
    let outsider = urna_crypto::sign::SigningKey::from_seed(&[77; 32]);
    let c = kit.random_choices(0);
    let (b, _) = kit.encrypt(0, &c, &ctx);
    entries.push(kit.sign(&outsider, &Payload::Ballot(Box::new(b.clone()))));
    let mut swapped = b.clone();
    swapped.contests[0].selections.swap(0, 1);
    entries.push(kit.ballot_entry(0, swapped)); // proofs fail
    entries.push(kit.ballot_entry(2, b.clone())); // proofs bind voter 0
    let mut copy = kit.encrypt(2, &c, &ctx).0;
    copy.contests[0].selections[0] = b.contests[0].selections[0];
    entries.push(kit.ballot_entry(2, copy)); // copies the outsider's (never admitted) ciphertext
    entries.push(kit.ballot_entry(0, b)); // valid: voter 0's own
    let c3 = kit.random_choices(0);
    let (challenged, cast) = kit.challenged(3, &c3, &ctx);
    entries.push(challenged);
    entries.push(kit.ballot_entry(3, cast));
    entries.push(kit.close());
    Pool { base, entries }
}

static POOLS: std::sync::OnceLock<[Pool; 2]> = std::sync::OnceLock::new();

fn pools() -> &'static [Pool; 2] {
    POOLS.get_or_init(|| {
        [
            pool(RevotePolicy::LatestCounts),
            pool(RevotePolicy::Forbidden),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    /// Issue 16 §1: checks ordered by cost, and proofs verified ahead for a batch's ballots,
    /// must not change a single verdict: any sequence of entries — repeats included — cut into
    /// any batches gives the one-by-one verdicts and the same final state.
    #[test]
    fn batches_give_the_one_by_one_verdicts(
        policy in 0usize..2,
        opened in any::<bool>(),
        picks in prop::collection::vec(0usize..64, 1..30),
        cuts in prop::collection::vec(1usize..8, 1..10),
    ) {
        let p = &pools()[policy];
        // Most sequences should reach the voting phase: start them with a roll and the opening.
        let start: &[usize] = if opened { &[0, 3] } else { &[] };
        let seq: Vec<_> = start
            .iter()
            .chain(&picks)
            .map(|i| p.entries[i % p.entries.len()].clone())
            .collect();
        let mut single = p.base.clone();
        let one_by_one: Vec<_> = seq.iter().map(|x| single.apply(x)).collect();
        let mut batched = p.base.clone();
        let mut verdicts = Vec::new();
        let mut at = 0;
        for cut in cuts.iter().cycle() {
            if at >= seq.len() {
                break;
            }
            let end = (at + cut).min(seq.len());
            verdicts.extend(batched.apply_batch(&seq[at..end]));
            at = end;
        }
        prop_assert_eq!(verdicts, one_by_one);
        prop_assert_eq!(snapshot(&batched), snapshot(&single));
    }
}

/// A follower verifies submissions' signatures and ballot proofs ahead of the rules
/// (`ProofCheck`), and the sequencer takes those verdicts as given (`apply_batch_attested`):
/// the state is the one full verification reaches, whichever entries were attested, and only
/// the others' proofs are verified again. What the check refuses, the rules refuse too.
#[test]
fn attested_entries_reach_the_state_full_verification_does() {
    use urna_election::payload::Payload;
    use urna_election::state::{Preverified, ProofCheck};
    let r = record(4);
    let first_ballot = r
        .entries
        .iter()
        .position(|e| e.kind() == urna_election::entry::EntryKind::Ballot)
        .unwrap();
    let before = Election::replay(&r.entries[..first_ballot]).unwrap();
    // Before the ceremony's context exists, ballots cannot be checked ahead.
    assert!(Election::replay(&r.entries[..1])
        .unwrap()
        .proof_check()
        .is_none());
    let check = before.proof_check().unwrap();
    let rest = &r.entries[first_ballot..];
    let verdicts = ProofCheck::verify(Some(&check), rest);
    assert!(verdicts.iter().all(|v| *v == Preverified::Verified));
    assert!(ProofCheck::verify(None, &rest[..1]) == vec![Preverified::Unverified]);
    let mut counted = Vec::new();
    for pattern in [0usize, 1, 2, 3] {
        let flags: Vec<bool> = (0..rest.len())
            .map(|i| (i + pattern) % 2 == 0 || pattern == 3)
            .collect();
        let mut fast = before.clone();
        assert!(fast
            .apply_batch_attested(rest, &flags)
            .iter()
            .all(Result::is_ok));
        let full = Election::replay(&r.entries).unwrap();
        assert_eq!(snapshot(&fast), snapshot(&full), "pattern {pattern}");
        assert_eq!(fast.result(), full.result());
        counted.push(fast.proofs_verified());
    }
    // Every ballot attested: none of their proofs verified again.
    assert!(counted[3] < counted[0] && counted[0] < full_count(&r));
    // Voter 1's ballot signed by voter 2: its signature verifies, its proofs (bound to the
    // voter's key) do not — refused ahead, with the code the rules give it.
    let Payload::Ballot(b) = Payload::decode(rest[1].kind(), rest[1].payload()).unwrap() else {
        panic!("not a ballot")
    };
    let stolen = r.kit.ballot_entry(2, *b);
    let v = ProofCheck::verify(Some(&check), &[rest[0].clone(), stolen.clone()]);
    assert_eq!(v[0], Preverified::Verified);
    let Preverified::Refused(why) = &v[1] else {
        panic!("{v:?}")
    };
    let mut fresh = before.clone();
    let by_rules = fresh.apply(&stolen).unwrap_err();
    assert_eq!(why.code(), by_rules.code());
}

fn full_count(r: &kit::Record) -> u64 {
    Election::replay(&r.entries).unwrap().proofs_verified()
}
