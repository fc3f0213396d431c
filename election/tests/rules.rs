//! Every rule of the state machine, with an entry it admits and one it rejects for exactly
//! that rule. A rejected entry changes nothing: the state before and after is compared.

mod common;
use common::kit::{apply_all, Config, Kit};

use urna_crypto::codec::Encode;
use urna_election::entry::{Entry, EntryKind};
use urna_election::payload::{DecryptionShare, ElectionResult, Payload, RollEntry, VoterRoll};
use urna_election::rejection::Rejection;
use urna_election::state::{Election, Phase};

/// Applies `entry`, expects `code`, and checks the state did not change.
fn rejects(e: &mut Election, entry: &Entry, code: &str) -> Rejection {
    let (size, phase, counts) = (e.size(), e.phase(), e.counts());
    let tally = e.encrypted_tally().map(<[_]>::to_vec);
    let r = e.apply(entry).expect_err("entry was admitted");
    assert_eq!(r.code(), code, "wrong rejection: {r}");
    assert_eq!((e.size(), e.phase(), e.counts()), (size, phase, counts));
    assert_eq!(e.encrypted_tally().map(<[_]>::to_vec), tally);
    r
}

/// A kit with the default manifest and the given (weight, style) voters.
fn kit_with(seed: u64, voters: Vec<(u32, u16)>) -> Kit {
    Kit::new(
        seed,
        Config {
            voters,
            ..Config::default()
        },
    )
}

fn at_key_ceremony(kit: &Kit) -> Election {
    let mut e = Election::new();
    apply_all(&mut e, &[kit.setup()]);
    e
}

fn at_registration(kit: &mut Kit) -> Election {
    let mut e = at_key_ceremony(kit);
    let c = kit.ceremony();
    apply_all(&mut e, &c);
    assert_eq!(e.phase(), Phase::Registration);
    e
}

fn at_voting(kit: &mut Kit) -> Election {
    let mut e = at_registration(kit);
    let n = kit.voters.len();
    apply_all(&mut e, &[kit.roll(0, 0..n), kit.open()]);
    e
}

fn at_tallying(kit: &mut Kit) -> Election {
    let mut e = at_voting(kit);
    let ctx = e.context().unwrap().clone();
    for v in 0..kit.voters.len() {
        let c = kit.random_choices(kit.voters[v].style);
        let b = kit.ballot(v, &c, &ctx);
        apply_all(&mut e, &[b]);
    }
    apply_all(&mut e, &[kit.close()]);
    e
}

#[test]
fn oversized_and_malformed_envelopes() {
    let kit = Kit::new(1, Config::default());
    let mut big = kit.setup().into_bytes();
    big.resize(65_536, 0);
    assert_eq!(
        Rejection::from(Entry::decode(big).unwrap_err()).code(),
        "oversized"
    );
    let mut bad = kit.setup().into_bytes();
    bad[0] = b'X';
    assert_eq!(
        Rejection::from(Entry::decode(bad).unwrap_err()).code(),
        "malformed"
    );
    // A well-formed envelope whose payload does not decode for its kind.
    let mut e = at_key_ceremony(&kit);
    let junk = Entry::sign(
        kit.id(),
        EntryKind::DkgConfirm,
        &[1, 2, 3],
        &kit.trustees[0].signing,
    )
    .unwrap();
    rejects(&mut e, &junk, "malformed");
}

#[test]
fn setup_rules() {
    let kit = Kit::new(2, Config::default());
    let mut e = Election::new();
    rejects(&mut e, &kit.open(), "wrong-phase");
    let by_registrar = kit.sign(
        &kit.registrar,
        &Payload::Setup(Box::new(kit.manifest.clone())),
    );
    rejects(&mut e, &by_registrar, "unauthorised-author");
    let mut m = kit.manifest.clone();
    m.threshold = 4;
    let invalid = kit.sign(&kit.authority, &Payload::Setup(Box::new(m)));
    rejects(&mut e, &invalid, "invalid-manifest");
    let other = Entry::sign(
        "vote.example.org/other",
        EntryKind::Setup,
        &Payload::Setup(Box::new(kit.manifest.clone())).to_bytes(),
        &kit.authority,
    )
    .unwrap();
    rejects(&mut e, &other, "wrong-election");
    e.apply(&kit.setup()).unwrap();
    assert_eq!(e.phase(), Phase::KeyCeremony);
    rejects(&mut e, &kit.setup(), "duplicate");
}

#[test]
fn signatures_and_elections_are_checked_on_every_entry() {
    let mut kit = Kit::new(3, Config::default());
    let mut e = at_key_ceremony(&kit);
    let good = kit.commitment(1);
    let mut bytes = good.clone().into_bytes();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    rejects(&mut e, &Entry::decode(bytes).unwrap(), "bad-signature");
    let p = urna_election::payload::Payload::decode(good.kind(), good.payload()).unwrap();
    let elsewhere = Entry::sign(
        "vote.example.org/other",
        good.kind(),
        &p.to_bytes(),
        &kit.trustees[0].signing,
    )
    .unwrap();
    rejects(&mut e, &elsewhere, "wrong-election");
    e.apply(&good).unwrap();
    rejects(&mut e, &good, "duplicate");
}

#[test]
fn key_ceremony_rules() {
    let mut kit = Kit::new(4, Config::default());
    let mut e = at_key_ceremony(&kit);
    // Trustee 2 posting trustee 1's commitments.
    let c1 = kit.commitment(1);
    let p = Payload::decode(c1.kind(), c1.payload()).unwrap();
    rejects(
        &mut e,
        &kit.sign(&kit.trustees[1].signing, &p),
        "unauthorised-author",
    );
    rejects(&mut e, &kit.shares(1, None), "key-ceremony"); // shares before commitments
                                                           // Commitments with a proof for another dealer index.
    let Payload::DkgCommitment(mut dc) = p.clone() else {
        unreachable!()
    };
    dc.proofs.swap(0, 1);
    rejects(
        &mut e,
        &kit.sign(&kit.trustees[0].signing, &Payload::DkgCommitment(dc)),
        "key-ceremony",
    );
    e.apply(&c1).unwrap();
    rejects(&mut e, &kit.commitment(1), "key-ceremony"); // twice
    for i in 2..=3 {
        let c = kit.commitment(i);
        e.apply(&c).unwrap();
    }
    rejects(&mut e, &kit.confirm(1), "key-ceremony"); // before all shares
    rejects(&mut e, &kit.open(), "wrong-phase");
    for i in 1..=3 {
        let s = kit.shares(i, None);
        e.apply(&s).unwrap();
    }
    rejects(&mut e, &kit.shares(2, None), "key-ceremony"); // twice
                                                           // A false complaint: trustee 1 complains about trustee 2's good share.
    let complaint = kit.complaint(1, 2, &e);
    let r = rejects(&mut e, &complaint, "false-complaint");
    assert_eq!(
        r,
        Rejection::FalseComplaint {
            complainer: 1,
            dealer: 2
        }
    );
    for i in 1..=3 {
        e.apply(&kit.confirm(i)).unwrap();
    }
    assert_eq!(e.phase(), Phase::Registration);
    assert_eq!(e.qualified_trustees(), &[1, 2, 3]);
    rejects(&mut e, &kit.commitment(1), "wrong-phase");
}

#[test]
fn upheld_complaint_disqualifies_and_the_key_follows_the_qualified_set() {
    let mut kit = Kit::new(5, Config::default());
    let mut e = at_key_ceremony(&kit);
    let mut entries: Vec<Entry> = (1..=3).map(|i| kit.commitment(i)).collect();
    entries.push(kit.shares(1, None));
    entries.push(kit.shares(2, Some(3))); // trustee 2 cheats on trustee 3
    entries.push(kit.shares(3, None));
    apply_all(&mut e, &entries);
    let complaint = kit.complaint(3, 2, &e);
    e.apply(&complaint).unwrap();
    rejects(&mut e, &kit.confirm(2), "key-ceremony"); // disqualified cannot confirm
    let again = kit.complaint(1, 2, &e);
    rejects(&mut e, &again, "key-ceremony"); // already disqualified
    apply_all(&mut e, &[kit.confirm(1), kit.confirm(3)]);
    assert_eq!(e.phase(), Phase::Registration);
    assert_eq!(e.qualified_trustees(), &[1, 3]);
    let joint = urna_crypto::threshold::joint_public_key(&[
        &kit.trustees[0].commitments,
        &kit.trustees[2].commitments,
    ]);
    assert_eq!(*e.context().unwrap().joint_key.point(), joint);
}

#[test]
fn ceremony_fails_cleanly_below_threshold() {
    let mut kit = Kit::new(
        6,
        Config {
            trustees: 3,
            threshold: 3,
            ..Config::default()
        },
    );
    let mut e = at_key_ceremony(&kit);
    let mut entries: Vec<Entry> = (1..=3).map(|i| kit.commitment(i)).collect();
    entries.push(kit.shares(1, Some(2)));
    entries.extend((2..=3).map(|i| kit.shares(i, None)).collect::<Vec<_>>());
    apply_all(&mut e, &entries);
    let complaint = kit.complaint(2, 1, &e);
    e.apply(&complaint).unwrap();
    assert_eq!(e.phase(), Phase::CeremonyFailed);
    let r = rejects(&mut e, &kit.confirm(2), "ceremony-failed");
    assert_eq!(
        r,
        Rejection::CeremonyFailed {
            qualified: 2,
            threshold: 3
        }
    );
    rejects(&mut e, &kit.roll(0, 0..2), "ceremony-failed");
}

#[test]
fn roll_rules() {
    let mut kit = Kit::new(7, Config::default());
    let mut e = at_registration(&mut kit);
    rejects(&mut e, &kit.open(), "invalid-roll"); // empty roll
    let by_authority = {
        let r = kit.roll(0, 0..2);
        let p = Payload::decode(r.kind(), r.payload()).unwrap();
        kit.sign(&kit.authority, &p)
    };
    rejects(&mut e, &by_authority, "unauthorised-author");
    rejects(&mut e, &kit.roll(1, 0..2), "invalid-roll"); // out of order
    let entry = |w: u32, s: u16, v: usize| RollEntry {
        credential: kit.voters[v].key.verifying_key(),
        weight: w,
        style: s,
    };
    for voters in [
        vec![entry(0, 0, 0)],
        vec![entry(1, 9, 0)],
        vec![entry(1, 0, 0), entry(1, 0, 0)],
        vec![],
    ] {
        let r = kit.sign(
            &kit.registrar,
            &Payload::VoterRoll(VoterRoll { batch: 0, voters }),
        );
        rejects(&mut e, &r, "invalid-roll");
    }
    e.apply(&kit.roll(0, 0..6)).unwrap();
    rejects(&mut e, &kit.roll(1, 5..8), "invalid-roll"); // voter 5 again
    e.apply(&kit.roll(1, 6..12)).unwrap();
    assert_eq!(e.counts().voters, 12);
    rejects(
        &mut e,
        &kit.sign(&kit.registrar, &Payload::OpenVoting),
        "unauthorised-author",
    );
    e.apply(&kit.open()).unwrap();
    rejects(&mut e, &kit.roll(2, 0..1), "wrong-phase");
}

#[test]
fn ballot_rules() {
    let mut kit = kit_with(8, vec![(1, 0), (2, 1), (1, 0)]);
    let mut e = at_registration(&mut kit);
    apply_all(&mut e, &[kit.roll(0, 0..2)]); // voter 2 is not on the roll
    let ctx = e.context().unwrap().clone();
    let c0 = kit.random_choices(0);
    let early = kit.ballot(0, &c0, &ctx);
    rejects(&mut e, &early, "wrong-phase");
    e.apply(&kit.open()).unwrap();
    rejects(&mut e, &kit.ballot(2, &c0, &ctx), "not-eligible");
    // Voter 1 (style 1) casting a style-0 ballot.
    let (b, _) = kit.encrypt(0, &c0, &ctx);
    rejects(&mut e, &kit.ballot_entry(1, b.clone()), "style-mismatch");
    // A tampered proof: flip a byte inside the first disjunctive proof.
    let entry = kit.ballot_entry(0, b.clone());
    let mut payload = entry.payload().to_vec();
    payload[4 + 1 + 64 * 3 + 1 + 1 + 40] ^= 1;
    let tampered = Entry::sign(kit.id(), EntryKind::Ballot, &payload, &kit.voters[0].key).unwrap();
    let code = e.apply(&tampered).unwrap_err().code();
    assert!(code == "invalid-ballot" || code == "malformed", "{code}");
    // Admitted, then a revote supersedes it.
    let first = e.apply(&entry).unwrap();
    assert_eq!(first.supersedes, None);
    let c1 = kit.random_choices(0);
    let second = kit.ballot(0, &c1, &ctx);
    assert_eq!(e.apply(&second).unwrap().supersedes, Some(first.index));
    assert_eq!((e.counts().counted, e.counts().superseded), (1, 1));
    rejects(&mut e, &entry, "duplicate");
    rejects(
        &mut e,
        &kit.sign(&kit.voters[0].key, &Payload::CloseVoting),
        "unauthorised-author",
    );
    e.apply(&kit.close()).unwrap();
    let c1 = kit.random_choices(1);
    let late = kit.ballot(1, &c1, &ctx);
    rejects(&mut e, &late, "wrong-phase");
}

#[test]
fn a_ballot_is_bound_to_its_credential() {
    let mut kit = kit_with(9, vec![(1, 0), (1, 0)]);
    let mut e = at_voting(&mut kit);
    let ctx = e.context().unwrap().clone();
    let c = kit.random_choices(0);
    let (b, _) = kit.encrypt(0, &c, &ctx);
    // Voter 1 submits voter 0's ballot as its own: every proof's context names voter 0.
    let r = rejects(&mut e, &kit.ballot_entry(1, b.clone()), "invalid-ballot");
    assert!(r.to_string().contains("proof"), "{r}");
    e.apply(&kit.ballot_entry(0, b)).unwrap();
}

#[test]
fn revoting_can_be_forbidden() {
    let mut kit = Kit::new(
        10,
        Config {
            revote: "forbidden",
            voters: vec![(1, 0)],
            ..Config::default()
        },
    );
    let mut e = at_voting(&mut kit);
    let ctx = e.context().unwrap().clone();
    let c = kit.random_choices(0);
    let first = kit.ballot(0, &c, &ctx);
    e.apply(&first).unwrap();
    let second = kit.ballot(0, &c, &ctx);
    rejects(&mut e, &second, "revote-forbidden");
}

#[test]
fn challenged_ballots_open_and_are_never_counted_or_cast() {
    let mut kit = kit_with(11, vec![(1, 0), (1, 0)]);
    let mut e = at_voting(&mut kit);
    let ctx = e.context().unwrap().clone();
    let c = kit.random_choices(0);
    let (challenged, ballot) = kit.challenged(0, &c, &ctx);
    // The same ballot with a wrong claimed value does not open.
    let p = Payload::decode(challenged.kind(), challenged.payload()).unwrap();
    let Payload::ChallengedBallot(mut cb) = p else {
        unreachable!()
    };
    cb.openings[0][0].0 ^= 1;
    let lying = kit.sign(&kit.voters[0].key, &Payload::ChallengedBallot(cb));
    rejects(&mut e, &lying, "invalid-opening");
    e.apply(&challenged).unwrap();
    assert_eq!((e.counts().challenged, e.counts().counted), (1, 0));
    // Casting the challenged ballot afterwards is refused: its encryptions are burned.
    rejects(&mut e, &kit.ballot_entry(0, ballot), "copied-ballot");
}

#[test]
fn decryption_share_and_result_rules() {
    let mut kit = kit_with(12, vec![(3, 0), (1, 1), (2, 0)]);
    let mut e = at_tallying(&mut kit);
    let s1 = kit.decryption_share(1, &e);
    // Trustee 2 posting trustee 1's share.
    let p = Payload::decode(s1.kind(), s1.payload()).unwrap();
    rejects(
        &mut e,
        &kit.sign(&kit.trustees[1].signing, &p),
        "unauthorised-author",
    );
    // A share with one point off: its proof fails.
    let Payload::DecryptionShare(DecryptionShare {
        trustee,
        mut shares,
    }) = p
    else {
        unreachable!()
    };
    shares[2].0 = common::kit::point_of(7);
    let bad = kit.sign(
        &kit.trustees[0].signing,
        &Payload::DecryptionShare(DecryptionShare {
            trustee,
            shares: shares.clone(),
        }),
    );
    rejects(&mut e, &bad, "invalid-decryption-share");
    shares.pop();
    let short = kit.sign(
        &kit.trustees[0].signing,
        &Payload::DecryptionShare(DecryptionShare { trustee, shares }),
    );
    rejects(&mut e, &short, "invalid-decryption-share");
    // A result before t shares.
    let premature = kit.sign(
        &kit.authority,
        &Payload::Result(ElectionResult { counts: vec![] }),
    );
    rejects(&mut e, &premature, "inconsistent-result");
    e.apply(&s1).unwrap();
    let twice = kit.decryption_share(1, &e);
    rejects(&mut e, &twice, "invalid-decryption-share");
    let s3 = kit.decryption_share(3, &e);
    e.apply(&s3).unwrap();
    let good = kit.result_counts(&e);
    let mut wrong = good.clone();
    wrong.counts[0][0] += 1;
    rejects(
        &mut e,
        &kit.sign(&kit.authority, &Payload::Result(wrong)),
        "inconsistent-result",
    );
    let mut misshapen = good.clone();
    misshapen.counts.pop();
    rejects(
        &mut e,
        &kit.sign(&kit.authority, &Payload::Result(misshapen)),
        "inconsistent-result",
    );
    // Anyone may post the result; it is admitted iff it equals the combination.
    let anyone = urna_crypto::sign::SigningKey::from_seed(&[9; 32]);
    e.apply(&kit.sign(&anyone, &Payload::Result(good.clone())))
        .unwrap();
    assert_eq!(e.phase(), Phase::Finished);
    let late = kit.decryption_share(2, &e);
    rejects(&mut e, &late, "wrong-phase");
}

#[test]
fn any_t_shares_give_the_same_result() {
    let mut kit = kit_with(13, vec![(1, 0), (5, 0), (2, 1)]);
    let base = at_tallying(&mut kit);
    let shares: Vec<Entry> = (1..=3).map(|i| kit.decryption_share(i, &base)).collect();
    let mut results = Vec::new();
    for pair in [[0usize, 1], [0, 2], [1, 2], [2, 0]] {
        let mut e = base.clone();
        apply_all(&mut e, &[shares[pair[0]].clone(), shares[pair[1]].clone()]);
        results.push(kit.result_counts(&e));
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]));
}
