//! Every rule of ranked contests (`specs/election.md` §5.5, §6.3, §6.6, §6.7), with an entry it
//! admits and one it rejects for exactly that rule — one case per rejection code — and, where
//! several rules fail at once, the code §6 says wins. A rejected entry changes nothing, and the
//! refusals that need no cryptography verify no proof.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::kit::{apply_all, Config, Kit};
use common::ranked::{self, option, rankings, write_in, RANKED};
use urna_crypto::elgamal::Ciphertext;
use urna_crypto::group::mul_g;
use urna_crypto::secret::SecretScalar;
use urna_crypto::sigma::PlaintextKnowledgeProof;
use urna_election::ballot::{Choices, ContestProof, OptionProofs, Rankings};
use urna_election::context::SLOT_RANKED;
use urna_election::entry::{Entry, EntryKind};
use urna_election::payload::{ChallengedBallot, MixRows, Payload, RankedCountBytes};
use urna_election::rejection::Rejection;
use urna_election::state::{Election, Phase};

/// The IRV contest of the ranked kit.
const CHAIR: u16 = 2;

fn snapshot(e: &Election) -> String {
    let ranked: Vec<String> = e
        .mix_status()
        .iter()
        .map(|s| {
            format!(
                "{s:?} {:?}",
                e.ranked_result(s.contest).map(|d| (&d.rows, &d.bytes))
            )
        })
        .collect();
    format!(
        "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {ranked:?}",
        e.size(),
        e.phase(),
        e.counts(),
        e.roll_batches(),
        e.total_weight(),
        e.ballots(),
        e.encrypted_tally(),
        e.decryption_shares(),
        e.result(),
    )
}

fn rejects(e: &mut Election, entry: &Entry, code: &str) -> Rejection {
    let before = snapshot(e);
    let r = e.apply(entry).expect_err("entry was admitted");
    assert_eq!(r.code(), code, "wrong rejection: {r}");
    assert_eq!(snapshot(e), before, "a rejected entry changed the state");
    r
}

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

fn at_voting(kit: &mut Kit) -> Election {
    let mut e = Election::new();
    apply_all(&mut e, &[kit.setup()]);
    let c = kit.ceremony();
    apply_all(&mut e, &c);
    let n = kit.voters.len();
    apply_all(&mut e, &[kit.roll(0, 0..n), kit.open()]);
    e
}

/// Every voter casts random choices and rankings; the polls close.
fn at_close(kit: &mut Kit) -> Election {
    let mut e = at_voting(kit);
    let ctx = e.context().unwrap().clone();
    for v in 0..kit.voters.len() {
        let style = kit.voters[v].style;
        let choices = kit.random_choices(style);
        let ranked = Rankings::random(&kit.manifest, style, &mut kit.rng);
        let x = ranked::ballot(kit, v, &choices, &ranked, &ctx);
        apply_all(&mut e, &[x]);
    }
    apply_all(&mut e, &[kit.close()]);
    e
}

fn payload(e: &Entry) -> Payload {
    Payload::decode(e.kind(), e.payload()).unwrap()
}

#[test]
fn ranked_ballots() {
    let mut kit = ranked::kit(21, 4);
    let mut e = at_voting(&mut kit);
    let ctx = e.context().unwrap().clone();
    let mut choices = Choices::default();
    choices.select(&kit.manifest, "mayor", &["alice"]).unwrap();
    let ranks = rankings(&[
        (
            "board",
            vec![option("eve"), write_in("Zoë Ng"), option("dan")],
        ),
        ("chair", vec![option("jon")]),
    ]);
    let b0 = ranked::encrypt(&mut kit, 0, &choices, &ranks, &ctx);
    let board = 1; // the board contest's place in style 0's ballots
                   // One ciphertext too many in the row.
    let mut wide = b0.clone();
    let extra = wide.contests[board].selections[0];
    wide.contests[board].selections.push(extra);
    rejects_cheaply(&mut e, &kit.ballot_entry(0, wide), "ballot-shape");
    // 0/1 proofs where the row needs a proof of knowledge; a contest-total proof on a row; a
    // proof of knowledge on the plurality contest.
    let mut zero_one = b0.clone();
    let OptionProofs::ZeroOne(proofs) = &b0.contests[0].option_proofs else {
        unreachable!()
    };
    zero_one.contests[board].option_proofs = OptionProofs::ZeroOne(vec![proofs[0].clone()]);
    rejects_cheaply(&mut e, &kit.ballot_entry(0, zero_one), "wrong-proof-kind");
    let mut total = b0.clone();
    total.contests[board].contest_proof = b0.contests[0].contest_proof.clone();
    assert!(matches!(
        total.contests[board].contest_proof,
        ContestProof::Exact(_)
    ));
    rejects_cheaply(&mut e, &kit.ballot_entry(0, total), "wrong-proof-kind");
    let mut knowledge = b0.clone();
    knowledge.contests[0].option_proofs = b0.contests[board].option_proofs.clone();
    rejects_cheaply(&mut e, &kit.ballot_entry(0, knowledge), "wrong-proof-kind");
    // Voter 1's ballot with voter 0's row and proof (not on the ledger): the proof is bound to
    // voter 0's credential.
    let b1 = ranked::encrypt(&mut kit, 1, &choices, &ranks, &ctx);
    let mut borrowed = b1.clone();
    borrowed.contests[board] = b0.contests[board].clone();
    rejects(&mut e, &kit.ballot_entry(1, borrowed), "invalid-ballot");
    // Voter 0's ballot is admitted.
    apply_all(&mut e, &[kit.ballot_entry(0, b0.clone())]);
    // Its row copied as is into voter 1's ballot.
    let mut copied = b1.clone();
    copied.contests[board] = b0.contests[board].clone();
    rejects_cheaply(&mut e, &kit.ballot_entry(1, copied), "copied-ballot");
    // Its row re-randomised: voter 1 knows only the nonce it added, so cannot prove knowledge.
    let pk = &ctx.joint_key;
    let r = SecretScalar::random(&mut kit.rng);
    let row: Vec<Ciphertext> = b0.contests[board]
        .selections
        .iter()
        .map(|c| {
            Ciphertext::from_points(
                c.alpha.point() + mul_g(r.expose()),
                c.beta.point() + pk.mul(r.expose()),
            )
        })
        .collect();
    let cred1 = kit.voters[1].key.verifying_key();
    let proof = PlaintextKnowledgeProof::prove(
        pk,
        &row,
        &vec![r; row.len()],
        &ctx.ballot_proof_ctx(&cred1, RANKED, SLOT_RANKED),
        &mut kit.rng,
    )
    .unwrap();
    let mut rerandomised = b1.clone();
    rerandomised.contests[board].selections = row;
    rerandomised.contests[board].option_proofs = OptionProofs::Knowledge(proof);
    rejects(&mut e, &kit.ballot_entry(1, rerandomised), "invalid-ballot");
    apply_all(&mut e, &[kit.ballot_entry(1, b1)]);

    // A challenged ranked ballot opens (each ranked ciphertext to its nonce, with value 0).
    let (ch, _) = kit.challenged(2, &choices, &ctx);
    let Payload::ChallengedBallot(cb) = payload(&ch) else {
        unreachable!()
    };
    let mut lying = (*cb).clone();
    lying.openings[board][0].0 = 1;
    let lying = kit.sign(
        &kit.voters[2].key,
        &Payload::ChallengedBallot(Box::new(lying)),
    );
    rejects(&mut e, &lying, "invalid-opening");
    let mut wrong_nonce: ChallengedBallot = (*cb).clone();
    wrong_nonce.openings[board][0].1 += urna_crypto::Scalar::ONE;
    let wrong_nonce = kit.sign(
        &kit.voters[2].key,
        &Payload::ChallengedBallot(Box::new(wrong_nonce)),
    );
    rejects(&mut e, &wrong_nonce, "invalid-opening");
    apply_all(&mut e, &[ch]);
}

#[test]
fn weights_are_refused_where_a_ballot_is_mixed() {
    // (weight, style): style 2 has no ranked contest; styles 0 and 1 do.
    let mut kit = Kit::new(
        22,
        Config {
            voters: vec![(2, 2), (2, 0), (3, 1), (1, 0)],
            contests: Some(ranked::contests()),
            ..Config::default()
        },
    );
    let mut e = Election::new();
    apply_all(&mut e, &[kit.setup()]);
    let c = kit.ceremony();
    apply_all(&mut e, &c);
    let r = rejects_cheaply(&mut e, &kit.roll(0, 0..2), "roll-ranked-weight");
    assert!(matches!(r, Rejection::RollRankedWeight { weight: 2, .. }));
    rejects_cheaply(&mut e, &kit.roll(0, 2..3), "roll-ranked-weight");
    apply_all(&mut e, &[kit.roll(0, 0..1)]);
    apply_all(&mut e, &[kit.roll(1, 3..4)]);
    assert_eq!(e.total_weight(), 3);
}

#[test]
fn an_election_of_ranked_contests_alone_has_no_tally() {
    let contests = ranked::contests();
    let only = contests[contests.find("[[contests]]\nid = \"board\"").unwrap()..]
        .replace(
            r#"contests = ["mayor", "board", "chair"]"#,
            r#"contests = ["board", "chair"]"#,
        )
        .replace(
            "\n[[ballot_styles]]\nid = \"mayor-only\"\ncontests = [\"mayor\"]\n",
            "",
        );
    let mut kit = Kit::new(
        23,
        Config {
            voters: vec![(1, 0), (1, 1), (1, 0)],
            contests: Some(only),
            ..Config::default()
        },
    );
    assert!(!kit.manifest.has_tally());
    let mut e = at_close(&mut kit);
    assert!(e.encrypted_tally().unwrap().is_empty());
    let share = kit.decryption_share(1, &e);
    rejects_cheaply(&mut e, &share, "no-tally");
    let result = kit.sign(
        &kit.authority,
        &Payload::Result(urna_election::payload::ElectionResult {
            counts: vec![vec![], vec![]],
        }),
    );
    rejects_cheaply(&mut e, &result, "no-tally");
    let mut rest = Vec::new();
    ranked::tally_ranked(&mut kit, &mut e, &mut rest);
    assert_eq!(e.phase(), Phase::Finished);
    // Nothing is admissible once finished.
    let after = Entry::sign(kit.id(), EntryKind::RankedCount, &[0; 9], &kit.registrar).unwrap();
    rejects_cheaply(&mut e, &after, "wrong-phase");
}

#[test]
fn a_ranked_contest_nobody_has_is_counted_at_the_close() {
    // Every voter has style 2: the ranked contests have empty lists.
    let mut kit = Kit::new(
        24,
        Config {
            voters: vec![(1, 2), (1, 2)],
            contests: Some(ranked::contests()),
            ..Config::default()
        },
    );
    let mut e = at_close(&mut kit);
    for s in e.mix_status() {
        assert_eq!((s.rows, s.mixes), (0, s.mixers));
        assert!(s.count_len.is_some());
    }
    let key = kit.trustees[0].signing.clone();
    let rows = kit.sign(
        &key,
        &Payload::MixRows(MixRows {
            contest: CHAIR,
            first: 0,
            width: 1,
            rows: vec![],
        }),
    );
    let r = rejects_cheaply(&mut e, &rows, "mix-out-of-turn");
    assert!(r.to_string().contains("nothing to mix"), "{r}");
    for i in [2u16, 1] {
        let x = kit.decryption_share(i, &e);
        apply_all(&mut e, &[x]);
    }
    let x = kit.result(&e);
    apply_all(&mut e, &[x]);
    assert_eq!(e.phase(), Phase::Tallying);
    for c in ranked::ranked_contests(&kit) {
        let count = e.ranked_result(c).unwrap();
        assert!(count.count.elected.is_empty());
        let x = ranked::count(&kit, &e, c);
        apply_all(&mut e, &x);
    }
    assert_eq!(e.phase(), Phase::Finished);
}

#[test]
fn mix_rules() {
    let mut kit = ranked::kit(25, 5);
    let mut e = at_voting(&mut kit);
    let m1 = kit.trustees[0].signing.clone();
    let m2 = kit.trustees[1].signing.clone();
    let rows = |kit: &Kit,
                key: &urna_crypto::sign::SigningKey,
                contest: u16,
                first: u32,
                width: u16,
                rows: Vec<urna_election::payload::MixRow>| {
        kit.sign(
            key,
            &Payload::MixRows(MixRows {
                contest,
                first,
                width,
                rows,
            }),
        )
    };
    // Before the close.
    let early = rows(&kit, &m1, RANKED, 0, 1, vec![]);
    rejects_cheaply(&mut e, &early, "wrong-phase");
    let ctx = e.context().unwrap().clone();
    for v in 0..5 {
        let style = kit.voters[v].style;
        let choices = kit.random_choices(style);
        let ranked = Rankings::random(&kit.manifest, style, &mut kit.rng);
        let x = ranked::ballot(&mut kit, v, &choices, &ranked, &ctx);
        apply_all(&mut e, &[x]);
    }
    apply_all(&mut e, &[kit.close()]);
    let honest1 = ranked::mix(&mut kit, &e, RANKED, 1);
    let (chunks, proof) = ranked::split(&honest1);
    let n = chunks[0].rows.len();
    let good_rows = chunks[0].rows.clone();

    // The author: a key that is no mixer's (checked first, on the envelope).
    let stranger = ranked::stranger();
    let by_stranger = rows(&kit, &stranger, 0, 0, 9, vec![]);
    rejects_cheaply(&mut e, &by_stranger, "unauthorised-author");
    // The contest: not ranked, or none at all.
    rejects_cheaply(
        &mut e,
        &rows(&kit, &m1, 0, 0, 1, good_rows.clone()),
        "mix-contest",
    );
    rejects_cheaply(
        &mut e,
        &rows(&kit, &m1, 9, 0, 1, good_rows.clone()),
        "mix-contest",
    );
    // The turn: mixer 2 before mixer 1 (its width wrong too: the turn is checked first).
    let r = rejects_cheaply(
        &mut e,
        &rows(&kit, &m2, RANKED, 0, 2, vec![]),
        "mix-out-of-turn",
    );
    assert!(r.to_string().contains("mixer 1"), "{r}");
    // The width.
    rejects_cheaply(&mut e, &rows(&kit, &m1, RANKED, 0, 2, vec![]), "mix-shape");
    // The rows: none, not from the start, beyond the list.
    rejects_cheaply(&mut e, &rows(&kit, &m1, RANKED, 0, 1, vec![]), "mix-rows");
    rejects_cheaply(
        &mut e,
        &rows(&kit, &m1, RANKED, 1, 1, good_rows[1..].to_vec()),
        "mix-rows",
    );
    let mut too_many = good_rows.clone();
    too_many.push(good_rows[0].clone());
    rejects_cheaply(&mut e, &rows(&kit, &m1, RANKED, 0, 1, too_many), "mix-rows");
    // The proof before every row.
    let closing = kit.sign(&m1, &Payload::MixProof(Box::new(proof.clone())));
    rejects_cheaply(&mut e, &closing, "mix-incomplete");
    // Half the rows, then not the next ones, then the other half.
    let half = n / 2;
    apply_all(
        &mut e,
        &[rows(&kit, &m1, RANKED, 0, 1, good_rows[..half].to_vec())],
    );
    rejects_cheaply(&mut e, &closing, "mix-incomplete");
    let skipping = rows(
        &kit,
        &m1,
        RANKED,
        half as u32 + 1,
        1,
        good_rows[half + 1..].to_vec(),
    );
    rejects_cheaply(&mut e, &skipping, "mix-rows");
    apply_all(
        &mut e,
        &[rows(
            &kit,
            &m1,
            RANKED,
            half as u32,
            1,
            good_rows[half..].to_vec(),
        )],
    );
    // A cheating mix's proof does not verify; the honest mix, restarted, is admitted.
    let cheat = ranked::cheating_mix(&mut kit, &e, RANKED, 1, |o, _| o.swap(0, 1));
    let (last, first_rows) = cheat.split_last().unwrap();
    apply_all(&mut e, first_rows);
    let proofs = e.proofs_verified();
    rejects(&mut e, last, "invalid-shuffle");
    assert_eq!(e.proofs_verified(), proofs + 1);
    apply_all(&mut e, &honest1);
    // Mixer 1 again: out of turn.
    let again = ranked::mix_with(
        &mut kit,
        &e,
        RANKED,
        1,
        &e.mix_list(RANKED).unwrap(),
        None,
        &ctx.mix_seed(RANKED),
        m1.verifying_key().as_bytes(),
        &ctx.mix_ctx(RANKED, 2),
    );
    let r = rejects_cheaply(&mut e, &again[0], "mix-out-of-turn");
    assert!(r.to_string().contains("mixer 2"), "{r}");

    // Decryption: by a trustee index out of range; under another trustee's name; before the
    // last mix.
    let t1 = kit.trustees[0].signing.clone();
    let share = kit.key_share(1, e.qualified_trustees());
    let decrypt_at = |kit: &mut Kit, e: &Election, i: u16| {
        let s = kit.key_share(i, e.qualified_trustees());
        urna_election::mixnet::decrypt(
            e,
            RANKED,
            i,
            &s,
            &kit.trustees[usize::from(i - 1)].signing.clone(),
            &mut kit.rng,
        )
    };
    assert!(decrypt_at(&mut kit, &e, 1).is_err());
    let x = ranked::mix(&mut kit, &e, RANKED, 2);
    apply_all(&mut e, &x);
    // Shares made now, for the list mixer 3 will replace.
    let (alphas, vk) = {
        let list = e.mix_list(RANKED).unwrap();
        (
            list.iter().map(|c| c.alpha).collect::<Vec<_>>(),
            ctx.verification_keys[0],
        )
    };
    let (ds, dproof) = urna_crypto::threshold::partial_decrypt_list(
        &share,
        &vk,
        &alphas,
        &ctx.mix_decryption_ctx(1, RANKED, 0),
        &mut kit.rng,
    )
    .unwrap();
    let premature = kit.sign(
        &t1,
        &Payload::MixDecryption(Box::new(urna_election::payload::MixDecryption {
            trustee: 1,
            contest: RANKED,
            first: 0,
            shares: ds,
            proof: dproof,
        })),
    );
    rejects_cheaply(&mut e, &premature, "decryption-before-mix");
    let x = ranked::mix(&mut kit, &e, RANKED, 3);
    apply_all(&mut e, &x);
    // The same shares now: the list has changed under them.
    rejects(&mut e, &premature, "invalid-mix-decryption");
    let good = decrypt_at(&mut kit, &e, 1).unwrap();
    let Payload::MixDecryption(d) = payload(&good[0]) else {
        unreachable!()
    };
    let as_trustee = |kit: &Kit,
                      key: &urna_crypto::sign::SigningKey,
                      trustee: u16,
                      first: u32,
                      shares: Vec<urna_crypto::group::Point>| {
        kit.sign(
            key,
            &Payload::MixDecryption(Box::new(urna_election::payload::MixDecryption {
                trustee,
                first,
                shares,
                ..(*d).clone()
            })),
        )
    };
    rejects_cheaply(
        &mut e,
        &as_trustee(&kit, &t1, 9, 0, d.shares.clone()),
        "unknown-trustee",
    );
    rejects_cheaply(
        &mut e,
        &as_trustee(&kit, &t1, 2, 0, d.shares.clone()),
        "unauthorised-author",
    );
    rejects_cheaply(
        &mut e,
        &as_trustee(&kit, &t1, 1, 1, d.shares[1..].to_vec()),
        "mix-share-order",
    );
    rejects_cheaply(
        &mut e,
        &as_trustee(&kit, &t1, 1, 0, vec![]),
        "mix-share-order",
    );
    let mut not_contest = (*d).clone();
    not_contest.contest = 0;
    let not_contest = kit.sign(&t1, &Payload::MixDecryption(Box::new(not_contest)));
    rejects_cheaply(&mut e, &not_contest, "mix-contest");
    // The count, before the list is decrypted.
    let count_bytes = |kit: &Kit, offset: u32, bytes: Vec<u8>| {
        kit.sign(
            &kit.authority,
            &Payload::RankedCount(RankedCountBytes {
                contest: RANKED,
                offset,
                bytes,
            }),
        )
    };
    rejects_cheaply(
        &mut e,
        &count_bytes(&kit, 0, vec![0]),
        "count-before-decryption",
    );
    apply_all(&mut e, &good);
    // Trustee 1 again, from where it ended: beyond the list.
    let beyond = as_trustee(&kit, &t1, 1, d.shares.len() as u32, d.shares.clone());
    rejects_cheaply(&mut e, &beyond, "mix-share-order");
    let x = decrypt_at(&mut kit, &e, 3).unwrap();
    apply_all(&mut e, &x);
    // Two trustees have decrypted: a third is refused.
    let late = decrypt_at(&mut kit, &e, 2);
    assert!(late.is_err());
    rejects_cheaply(
        &mut e,
        &as_trustee(
            &kit,
            &kit.trustees[1].signing.clone(),
            2,
            0,
            d.shares.clone(),
        ),
        "decryption-complete",
    );
    // The count: out of order, then not the rule's, then right.
    let expected = e.ranked_result(RANKED).unwrap().bytes.clone();
    rejects_cheaply(
        &mut e,
        &count_bytes(&kit, 1, expected[1..].to_vec()),
        "count-out-of-order",
    );
    rejects_cheaply(&mut e, &count_bytes(&kit, 0, vec![]), "count-out-of-order");
    let mut longer = expected.clone();
    longer.push(0);
    rejects_cheaply(&mut e, &count_bytes(&kit, 0, longer), "count-out-of-order");
    let mut other = expected.clone();
    let last = other.len() - 1;
    other[last] ^= 1;
    rejects_cheaply(&mut e, &count_bytes(&kit, 0, other), "inconsistent-count");
    apply_all(&mut e, &[count_bytes(&kit, 0, expected[..10].to_vec())]);
    apply_all(&mut e, &[count_bytes(&kit, 10, expected[10..].to_vec())]);
    rejects_cheaply(
        &mut e,
        &count_bytes(&kit, 0, expected[..1].to_vec()),
        "count-out-of-order",
    );
    assert_eq!(e.phase(), Phase::Tallying);
}
