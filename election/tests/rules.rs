//! Every rule of the state machine, with an entry it admits and one it rejects for exactly
//! that rule — one case per rejection code — and, where several rules fail at once, the code
//! `specs/election.md` §6 says wins. A rejected entry changes nothing: the state before and
//! after is compared. Refusals that need no cryptography are checked to cost no proof
//! verification.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::kit::{apply_all, point_of, Config, Kit};

use urna_crypto::codec::Encode;
use urna_crypto::sign::SigningKey;
use urna_election::ballot::{Ballot, ContestProof};
use urna_election::entry::{Entry, EntryKind};
use urna_election::payload::{
    ChallengedBallot, DecryptionShare, DkgCommitment, DkgComplaint, ElectionResult, Payload,
    RollEntry, VoterRoll,
};
use urna_election::rejection::Rejection;
use urna_election::state::{Election, Phase};

/// Everything the state exposes, to compare before and after a rejected entry.
fn snapshot(e: &Election) -> String {
    format!(
        "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
        e.size(),
        e.phase(),
        e.counts(),
        e.manifest_hash(),
        e.context().map(|c| c.hash),
        e.qualified_trustees(),
        e.ceremony_status(),
        e.roll_batches(),
        e.total_weight(),
        e.ballots(),
        e.encrypted_tally(),
        e.decryption_shares(),
        e.result(),
    )
}

/// Applies `entry`, expects `code`, and checks the state did not change.
fn rejects(e: &mut Election, entry: &Entry, code: &str) -> Rejection {
    let before = snapshot(e);
    let r = e.apply(entry).expect_err("entry was admitted");
    assert_eq!(r.code(), code, "wrong rejection: {r}");
    assert_eq!(snapshot(e), before, "a rejected entry changed the state");
    r
}

/// As [`rejects`], and the refusal verified no proof.
fn rejects_cheaply(e: &mut Election, entry: &Entry, code: &str) -> Rejection {
    let proofs = e.proofs_verified();
    let r = rejects(e, entry, code);
    assert_eq!(
        e.proofs_verified(),
        proofs,
        "refusing {code} verified a proof"
    );
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

fn payload(e: &Entry) -> Payload {
    Payload::decode(e.kind(), e.payload()).unwrap()
}

/// A canonical Ed25519 key, not of small order, with a torsion component.
fn mixed_order_key(k: &SigningKey) -> urna_crypto::sign::VerifyingKey {
    use curve25519_dalek::{constants::EIGHT_TORSION, edwards::CompressedEdwardsY};
    let a = CompressedEdwardsY(*k.verifying_key().as_bytes())
        .decompress()
        .unwrap();
    urna_crypto::sign::VerifyingKey::from_wire((a + EIGHT_TORSION[4]).compress().as_bytes())
        .unwrap()
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
    // An author that is not an Ed25519 key (crypto §10): the envelope does not decode.
    let mut small_order = kit.setup().into_bytes();
    let at = 4 + 1 + 1 + kit.id().len() + 1;
    small_order[at..at + 32].copy_from_slice(&[0; 32]);
    assert_eq!(
        Rejection::from(Entry::decode(small_order).unwrap_err()).code(),
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
    rejects_cheaply(&mut e, &junk, "malformed");
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
    let invalid = kit.sign(&kit.authority, &Payload::Setup(Box::new(m.clone())));
    rejects(&mut e, &invalid, "invalid-manifest");
    // The author is checked before the manifest's rules.
    let invalid_by_registrar = kit.sign(&kit.registrar, &Payload::Setup(Box::new(m)));
    rejects(&mut e, &invalid_by_registrar, "unauthorised-author");
    let mut mixed = kit.manifest.clone();
    mixed.board_key = mixed_order_key(&kit.board);
    let mixed = kit.sign(&kit.authority, &Payload::Setup(Box::new(mixed)));
    rejects(&mut e, &mixed, "invalid-manifest");
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
    rejects_cheaply(&mut e, &kit.setup(), "duplicate");
}

#[test]
fn signatures_and_elections_are_checked_on_every_entry() {
    let mut kit = Kit::new(3, Config::default());
    let mut e = at_key_ceremony(&kit);
    let good = kit.commitment(1);
    let mut bytes = good.clone().into_bytes();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    rejects_cheaply(&mut e, &Entry::decode(bytes).unwrap(), "bad-signature");
    let elsewhere = Entry::sign(
        "vote.example.org/other",
        good.kind(),
        &payload(&good).to_bytes(),
        &kit.trustees[0].signing,
    )
    .unwrap();
    rejects_cheaply(&mut e, &elsewhere, "wrong-election");
    e.apply(&good).unwrap();
    rejects_cheaply(&mut e, &good, "duplicate");
}

#[test]
fn key_ceremony_rules() {
    let mut kit = Kit::new(4, Config::default());
    let mut e = at_key_ceremony(&kit);
    let t1 = &kit.trustees[0].signing.clone();
    let c1 = kit.commitment(1);
    let Payload::DkgCommitment(dc) = payload(&c1) else {
        unreachable!()
    };
    // Trustee 2 posting trustee 1's commitments.
    rejects(
        &mut e,
        &kit.sign(
            &kit.trustees[1].signing,
            &Payload::DkgCommitment(dc.clone()),
        ),
        "unauthorised-author",
    );
    // A dealer index outside 1..n, whoever signs it.
    for dealer in [0, 4] {
        let p = Payload::DkgCommitment(DkgCommitment {
            dealer,
            ..dc.clone()
        });
        rejects_cheaply(&mut e, &kit.sign(t1, &p), "unknown-trustee");
    }
    rejects(&mut e, &kit.shares(1, None), "shares-before-commitments");
    // A payload that does not decode: refused for its author first if the author is no trustee.
    for (key, code) in [(&kit.registrar, "unauthorised-author"), (t1, "malformed")] {
        let junk = Entry::sign(kit.id(), EntryKind::DkgCommitment, &[0; 9], key).unwrap();
        rejects_cheaply(&mut e, &junk, code);
    }
    // One commitment too few (with its proof).
    let mut short = dc.clone();
    short.commitments.pop();
    short.proofs.pop();
    rejects_cheaply(
        &mut e,
        &kit.sign(t1, &Payload::DkgCommitment(short)),
        "commitment-count",
    );
    // Commitments with a proof for another coefficient.
    let mut swapped = dc.clone();
    swapped.proofs.swap(0, 1);
    let proofs = e.proofs_verified();
    rejects(
        &mut e,
        &kit.sign(t1, &Payload::DkgCommitment(swapped)),
        "invalid-coefficient-proof",
    );
    assert_eq!(e.proofs_verified(), proofs + 1);
    e.apply(&c1).unwrap();
    rejects_cheaply(&mut e, &kit.commitment(1), "already-posted"); // fresh proofs, same dealer
    for i in 2..=3 {
        let c = kit.commitment(i);
        e.apply(&c).unwrap();
    }
    rejects(&mut e, &kit.confirm(1), "confirm-before-shares");
    rejects(&mut e, &kit.open(), "wrong-phase");
    // Shares missing a recipient, out of order, or to a trustee that does not exist.
    let Payload::DkgShares(s1) = payload(&kit.shares(1, None)) else {
        unreachable!()
    };
    let mut missing = s1.clone();
    missing.shares.pop();
    let mut reversed = s1.clone();
    reversed.shares.reverse();
    for bad in [missing, reversed] {
        rejects(
            &mut e,
            &kit.sign(t1, &Payload::DkgShares(bad)),
            "share-recipients",
        );
    }
    let mut stranger = s1.clone();
    stranger.shares[1].0 = 9;
    rejects(
        &mut e,
        &kit.sign(t1, &Payload::DkgShares(stranger)),
        "unknown-trustee",
    );
    for i in 1..=3 {
        let s = kit.shares(i, None);
        e.apply(&s).unwrap();
    }
    rejects(&mut e, &kit.shares(2, None), "already-posted");
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
    let Payload::DkgComplaint(c) = payload(&complaint) else {
        unreachable!()
    };
    // The same reveal with its proof broken proves nothing.
    let mut broken = c.clone();
    broken.reveal.dh = point_of(7);
    rejects(
        &mut e,
        &kit.sign(t1, &Payload::DkgComplaint(broken)),
        "invalid-reveal",
    );
    let against = |dealer: u16| {
        Payload::DkgComplaint(Box::new(DkgComplaint {
            dealer,
            ..(*c).clone()
        }))
    };
    rejects_cheaply(&mut e, &kit.sign(t1, &against(1)), "self-complaint");
    rejects_cheaply(&mut e, &kit.sign(t1, &against(0)), "unknown-trustee");
    rejects_cheaply(&mut e, &kit.sign(t1, &against(4)), "unknown-trustee");
    e.apply(&kit.confirm(1)).unwrap();
    // A confirmation has one encoding and Ed25519 is deterministic: a second is the same entry.
    rejects_cheaply(&mut e, &kit.confirm(1), "duplicate");
    rejects_cheaply(&mut e, &complaint, "complaint-after-confirm");
    for i in 2..=3 {
        e.apply(&kit.confirm(i)).unwrap();
    }
    assert_eq!(e.phase(), Phase::Registration);
    assert_eq!(e.qualified_trustees(), &[1, 2, 3]);
    rejects(&mut e, &kit.commitment(1), "wrong-phase");
}

#[test]
fn complaints_need_a_share_to_complain_about() {
    let mut kit = Kit::new(14, Config::default());
    let mut e = at_key_ceremony(&kit);
    let entries: Vec<Entry> = (1..=3).map(|i| kit.commitment(i)).collect();
    apply_all(&mut e, &entries);
    apply_all(&mut e, &[kit.shares(1, None), kit.shares(2, None)]);
    // Trustee 1's complaint about trustee 2, turned against trustee 3, who has not dealt.
    let Payload::DkgComplaint(c) = payload(&kit.complaint(1, 2, &e)) else {
        unreachable!()
    };
    let p = Payload::DkgComplaint(Box::new(DkgComplaint { dealer: 3, ..*c }));
    rejects_cheaply(
        &mut e,
        &kit.sign(&kit.trustees[0].signing, &p),
        "no-share-posted",
    );
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
    rejects(&mut e, &kit.confirm(2), "trustee-disqualified");
    let again = kit.complaint(1, 2, &e);
    rejects_cheaply(&mut e, &again, "dealer-disqualified");
    apply_all(&mut e, &[kit.confirm(1), kit.confirm(3)]);
    assert_eq!(e.phase(), Phase::Registration);
    assert_eq!(e.qualified_trustees(), &[1, 3]);
    let joint = urna_crypto::threshold::joint_public_key(&[
        &kit.trustees[0].commitments,
        &kit.trustees[2].commitments,
    ]);
    assert_eq!(*e.context().unwrap().joint_key.point(), joint);
    // A disqualified trustee cannot post a decryption share either.
    let n = kit.voters.len();
    apply_all(&mut e, &[kit.roll(0, 0..n), kit.open(), kit.close()]);
    let share = kit.decryption_share(2, &e);
    rejects_cheaply(&mut e, &share, "trustee-disqualified");
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
    rejects(&mut e, &kit.open(), "empty-roll");
    let by_authority = kit.sign(&kit.authority, &payload(&kit.roll(0, 0..2)));
    rejects(&mut e, &by_authority, "unauthorised-author");
    rejects(&mut e, &kit.roll(1, 0..2), "roll-batch-number");
    let entry = |w: u32, s: u16, v: usize| RollEntry {
        credential: kit.voters[v].key.verifying_key(),
        weight: w,
        style: s,
    };
    let roll = |voters| {
        kit.sign(
            &kit.registrar,
            &Payload::VoterRoll(VoterRoll { batch: 0, voters }),
        )
    };
    rejects(&mut e, &roll(vec![]), "roll-empty-batch");
    rejects(&mut e, &roll(vec![entry(0, 0, 0)]), "roll-zero-weight");
    rejects(&mut e, &roll(vec![entry(1, 9, 0)]), "roll-unknown-style");
    rejects(
        &mut e,
        &roll(vec![entry(1, 0, 0), entry(1, 0, 0)]),
        "roll-repeated-credential",
    );
    // The first failing voter decides, in batch order.
    rejects(
        &mut e,
        &roll(vec![entry(1, 9, 0), entry(0, 0, 1)]),
        "roll-unknown-style",
    );
    let mixed = RollEntry {
        credential: mixed_order_key(&kit.voters[1].key),
        weight: 1,
        style: 0,
    };
    rejects(
        &mut e,
        &roll(vec![entry(1, 0, 0), mixed.clone()]),
        "roll-mixed-order-credential",
    );
    // The cheap per-voter rules come before the prime-order check.
    rejects(
        &mut e,
        &roll(vec![mixed, entry(0, 0, 0)]),
        "roll-zero-weight",
    );
    e.apply(&kit.roll(0, 0..6)).unwrap();
    rejects(&mut e, &kit.roll(1, 5..8), "roll-repeated-credential"); // voter 5 again
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

/// Voter 0's ballot, decoded, for editing.
fn ballot_of(kit: &mut Kit, voter: usize, ctx: &urna_election::context::ElectionContext) -> Ballot {
    let c = kit.random_choices(kit.voters[voter].style);
    kit.encrypt(voter, &c, ctx).0
}

/// The ballot with its first contest's first two ciphertexts swapped, signed: it decodes and
/// has its shape, but each 0/1 proof is now for another ciphertext, so it does not verify.
fn bad_proof(kit: &Kit, voter: usize, b: &Ballot) -> Entry {
    let mut b = b.clone();
    b.contests[0].selections.swap(0, 1);
    kit.ballot_entry(voter, b)
}

#[test]
fn ballot_rules() {
    let mut kit = kit_with(8, vec![(1, 0), (2, 1), (1, 0)]);
    let mut e = at_registration(&mut kit);
    apply_all(&mut e, &[kit.roll(0, 0..2)]); // voter 2 is not on the roll
    let ctx = e.context().unwrap().clone();
    let c0 = kit.random_choices(0);
    let early = kit.ballot(0, &c0, &ctx);
    rejects_cheaply(&mut e, &early, "wrong-phase");
    e.apply(&kit.open()).unwrap();
    rejects_cheaply(&mut e, &kit.ballot(2, &c0, &ctx), "not-eligible");
    // Voter 1 (style 1) casting a style-0 ballot.
    let (b, _) = kit.encrypt(0, &c0, &ctx);
    rejects_cheaply(&mut e, &kit.ballot_entry(1, b.clone()), "style-mismatch");
    // A contest missing, or one selection missing.
    let mut fewer = b.clone();
    fewer.contests.pop();
    rejects_cheaply(&mut e, &kit.ballot_entry(0, fewer), "ballot-shape");
    let mut narrower = b.clone();
    narrower.contests[0].selections.pop();
    if let urna_election::ballot::OptionProofs::ZeroOne(p) = &mut narrower.contests[0].option_proofs
    {
        p.pop();
    }
    rejects_cheaply(&mut e, &kit.ballot_entry(0, narrower), "ballot-shape");
    // A known proof kind, but not the one the contest requires (§5.3).
    let mut unproven = b.clone();
    unproven.contests[0].contest_proof = ContestProof::None;
    rejects_cheaply(&mut e, &kit.ballot_entry(0, unproven), "wrong-proof-kind");
    // Proofs that do not verify.
    let tampered = bad_proof(&kit, 0, &b);
    let proofs = e.proofs_verified();
    rejects(&mut e, &tampered, "invalid-ballot");
    assert_eq!(e.proofs_verified(), proofs + 1);
    // Two ciphertexts of one ballot alike.
    let mut twice = b.clone();
    twice.contests[0].selections[1] = twice.contests[0].selections[0];
    rejects_cheaply(&mut e, &kit.ballot_entry(0, twice), "copied-ballot");
    // Admitted, then a revote supersedes it.
    let entry = kit.ballot_entry(0, b.clone());
    let first = e.apply(&entry).unwrap();
    assert_eq!(first.supersedes, None);
    let c1 = kit.random_choices(0);
    let second = kit.ballot(0, &c1, &ctx);
    assert_eq!(e.apply(&second).unwrap().supersedes, Some(first.index));
    assert_eq!((e.counts().counted, e.counts().superseded), (1, 1));
    rejects_cheaply(&mut e, &entry, "duplicate");
    // The superseded ballot's encryptions cannot come back, even reordered.
    let mut reordered = b.clone();
    reordered.contests[0].selections.swap(0, 1);
    rejects_cheaply(&mut e, &kit.ballot_entry(0, reordered), "copied-ballot");
    rejects(
        &mut e,
        &kit.sign(&kit.voters[0].key, &Payload::CloseVoting),
        "unauthorised-author",
    );
    e.apply(&kit.close()).unwrap();
    let c1 = kit.random_choices(1);
    let late = kit.ballot(1, &c1, &ctx);
    rejects_cheaply(&mut e, &late, "wrong-phase");
}

/// When several rules fail at once, the code of the earliest check in §6.5 wins, and a ballot
/// refused before its proofs never has them verified.
#[test]
fn ballot_precedence_follows_the_order_of_the_checks() {
    let mut kit = Kit::new(
        15,
        Config {
            revote: urna_election::manifest::RevotePolicy::Forbidden,
            voters: vec![(1, 0), (1, 1), (1, 0)],
            ..Config::default()
        },
    );
    let mut e = at_registration(&mut kit);
    apply_all(&mut e, &[kit.roll(0, 0..2)]);
    let ctx = e.context().unwrap().clone();
    let b0 = ballot_of(&mut kit, 0, &ctx);
    // Not yet voting, and with a bad proof.
    rejects_cheaply(&mut e, &bad_proof(&kit, 0, &b0), "wrong-phase");
    e.apply(&kit.open()).unwrap();
    // Not on the roll (voter 2), with a bad proof: not-eligible.
    let b2 = ballot_of(&mut kit, 2, &ctx);
    rejects_cheaply(&mut e, &bad_proof(&kit, 2, &b2), "not-eligible");
    // Not on the roll, with a payload that does not even decode: the payload is decoded only
    // once the envelope has shown the author may vote.
    let junk = Entry::sign(kit.id(), EntryKind::Ballot, &[0; 40], &kit.voters[2].key).unwrap();
    rejects_cheaply(&mut e, &junk, "not-eligible");
    let junk = Entry::sign(kit.id(), EntryKind::Ballot, &[0; 40], &kit.voters[0].key).unwrap();
    rejects_cheaply(&mut e, &junk, "malformed");
    // Wrong style and wrong shape: style-mismatch.
    let mut short = b0.clone();
    short.contests.pop();
    rejects_cheaply(&mut e, &kit.ballot_entry(1, short), "style-mismatch");
    e.apply(&kit.ballot_entry(0, b0.clone())).unwrap();
    // A forbidden revote that also copies a ciphertext and has a bad proof: revote-forbidden.
    rejects_cheaply(&mut e, &bad_proof(&kit, 0, &b0), "revote-forbidden");
    // Voter 1's own ballot, copying one of voter 0's ciphertexts: copied-ballot, not its
    // (now failing) proofs.
    let mut b1 = ballot_of(&mut kit, 1, &ctx);
    b1.contests[0].selections[0] = b0.contests[0].selections[0];
    rejects_cheaply(&mut e, &kit.ballot_entry(1, b1), "copied-ballot");
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
            revote: urna_election::manifest::RevotePolicy::Forbidden,
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
    rejects_cheaply(&mut e, &second, "revote-forbidden");
    // A challenge is not a vote: it is admitted after the ballot.
    let (challenged, _) = kit.challenged(0, &c, &ctx);
    e.apply(&challenged).unwrap();
}

#[test]
fn challenged_ballots_open_and_are_never_counted_or_cast() {
    let mut kit = kit_with(11, vec![(1, 0), (1, 0)]);
    let mut e = at_voting(&mut kit);
    let ctx = e.context().unwrap().clone();
    let c = kit.random_choices(0);
    let (challenged, ballot) = kit.challenged(0, &c, &ctx);
    // The same ballot with a wrong claimed value does not open.
    let Payload::ChallengedBallot(mut cb) = payload(&challenged) else {
        unreachable!()
    };
    cb.openings[0][0].0 ^= 1;
    let lying = kit.sign(&kit.voters[0].key, &Payload::ChallengedBallot(cb.clone()));
    rejects(&mut e, &lying, "invalid-opening");
    // A lying opening of a ballot whose proofs fail too: the proofs come first.
    let mut both: ChallengedBallot = (*cb).clone();
    both.ballot.contests[0].selections.swap(0, 1);
    let both = kit.sign(
        &kit.voters[0].key,
        &Payload::ChallengedBallot(Box::new(both)),
    );
    rejects(&mut e, &both, "invalid-ballot");
    e.apply(&challenged).unwrap();
    assert_eq!((e.counts().challenged, e.counts().counted), (1, 0));
    // Casting the challenged ballot afterwards is refused: its encryptions are burned.
    rejects_cheaply(&mut e, &kit.ballot_entry(0, ballot), "copied-ballot");
}

#[test]
fn decryption_share_and_result_rules() {
    let mut kit = kit_with(12, vec![(3, 0), (1, 1), (2, 0)]);
    let mut e = at_tallying(&mut kit);
    let s1 = kit.decryption_share(1, &e);
    let p = payload(&s1);
    // Trustee 2 posting trustee 1's share.
    rejects_cheaply(
        &mut e,
        &kit.sign(&kit.trustees[1].signing, &p),
        "unauthorised-author",
    );
    let Payload::DecryptionShare(DecryptionShare {
        trustee,
        mut shares,
    }) = p
    else {
        unreachable!()
    };
    let t1 = &kit.trustees[0].signing.clone();
    let share = |trustee, shares| {
        kit.sign(
            t1,
            &Payload::DecryptionShare(DecryptionShare { trustee, shares }),
        )
    };
    rejects_cheaply(&mut e, &share(0, shares.clone()), "unknown-trustee");
    // A share with one point off: its proof fails.
    shares[2].0 = point_of(7);
    rejects(
        &mut e,
        &share(trustee, shares.clone()),
        "invalid-decryption-share",
    );
    shares.pop();
    rejects_cheaply(&mut e, &share(trustee, shares), "share-count");
    // A result before t shares.
    let premature = kit.sign(
        &kit.authority,
        &Payload::Result(ElectionResult { counts: vec![] }),
    );
    rejects(&mut e, &premature, "too-few-shares");
    e.apply(&s1).unwrap();
    let twice = kit.decryption_share(1, &e);
    rejects_cheaply(&mut e, &twice, "already-posted");
    let s3 = kit.decryption_share(3, &e);
    e.apply(&s3).unwrap();
    let good = kit.result_counts(&e);
    let mut wrong = good.clone();
    let c = &mut wrong.counts[0][0];
    *c = if *c > 0 { *c - 1 } else { 1 };
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
        "result-shape",
    );
    let mut extra = good.clone();
    extra.counts[1].push(0);
    rejects(
        &mut e,
        &kit.sign(&kit.authority, &Payload::Result(extra)),
        "result-shape",
    );
    // Above the bound: the first contest (mayor) is on style 0 only, weights 3 + 2, one mark
    // each; the third (budget, scores up to 5) on both styles.
    assert_eq!(e.count_bounds()[0], 5);
    let budget_at = kit.manifest.contests[0].options.len() + kit.manifest.contests[1].options.len();
    assert_eq!(e.count_bounds()[budget_at], 30);
    let mut above = good.clone();
    above.counts[0][0] = 6;
    rejects(
        &mut e,
        &kit.sign(&kit.authority, &Payload::Result(above)),
        "count-out-of-range",
    );
    // Anyone may post the result; it is admitted iff it equals the combination.
    let anyone = SigningKey::from_seed(&[9; 32]);
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

/// Issue 16 §1: through `apply_batch`, as the board admits, a batch of ballots from keys not on
/// the roll, duplicates and repeats verifies no proof; the honest ballots in it verify one each.
#[test]
fn a_batch_verifies_only_the_proofs_of_ballots_that_pass_every_cheaper_check() {
    let mut kit = kit_with(16, vec![(1, 0), (1, 0), (1, 0)]);
    let mut e = at_voting(&mut kit);
    let ctx = e.context().unwrap().clone();
    let c = kit.random_choices(0);
    let honest0 = kit.ballot(0, &c, &ctx);
    e.apply(&honest0).unwrap();
    let start = e.proofs_verified();
    let outsider = SigningKey::from_seed(&[3; 32]);
    let mut batch = Vec::new();
    for _ in 0..5 {
        let b = ballot_of(&mut kit, 1, &ctx);
        batch.push(kit.sign(&outsider, &Payload::Ballot(Box::new(b))));
    }
    batch.push(honest0.clone()); // already on the ledger
    let c = kit.random_choices(0);
    let honest1 = kit.ballot(1, &c, &ctx);
    batch.push(honest1.clone());
    batch.push(honest1.clone()); // the same bytes again in the batch
    let honest2 = kit.ballot(2, &c, &ctx);
    batch.push(honest2);
    let verdicts = e.apply_batch(&batch);
    let codes: Vec<&str> = verdicts
        .iter()
        .map(|v| v.as_ref().map_or_else(|r| r.code(), |_| "admitted"))
        .collect();
    assert_eq!(
        codes,
        [
            "not-eligible",
            "not-eligible",
            "not-eligible",
            "not-eligible",
            "not-eligible",
            "duplicate",
            "admitted",
            "duplicate",
            "admitted"
        ]
    );
    assert_eq!(e.proofs_verified(), start + 2);
}
