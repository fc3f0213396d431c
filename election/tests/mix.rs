//! Ranked contests end to end at the library level: a whole election with a ranked contest
//! beside a homomorphic one (ballots with proofs of knowledge, close, three mixers, two
//! trustees' decryptions, the count), replayed to the same state in batches and one by one;
//! and the soundness of every step — a mixer that replaces, drops or duplicates a ciphertext,
//! a proof for another permutation, other generators, another election, list, position or
//! mixer, decryption shares of the wrong list, and a count that is not the rule's, are all
//! refused by the state machine and change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::kit::{apply_all, Kit};
use common::ranked::{self, RANKED};
use urna_crypto::elgamal::Ciphertext;
use urna_crypto::shuffle::Permutation;
use urna_election::ballot::Preference;
use urna_election::count;
use urna_election::entry::{Entry, EntryKind};
use urna_election::mixnet;
use urna_election::payload::{MixDecryption, Payload, RankedCountBytes};
use urna_election::ranking::Choice;
use urna_election::rejection::Rejection;
use urna_election::state::{Election, Phase};

/// Everything the state exposes about the tally, to compare states and check that a rejected
/// entry changed nothing.
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
        "{} {} {:?} {:?} {:?} {:?} {:?} {ranked:?}",
        e.size(),
        e.phase(),
        e.counts(),
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

fn choice(kit: &Kit, contest: u16, p: &Preference) -> Choice {
    let c = &kit.manifest.contests[usize::from(contest)];
    match p {
        Preference::Option(id) => Choice::Option(c.option_index(id).unwrap() as u8),
        Preference::WriteIn(t) => Choice::WriteIn(t.clone()),
    }
}

#[test]
fn a_whole_election_with_ranked_contests() {
    let r = ranked::record(7, 14);
    let kit = &r.kit;
    assert_eq!(r.invalid.len(), 2);
    // Applied one by one, as the record was made.
    let mut one = Election::new();
    apply_all(&mut one, &r.entries);
    assert_eq!(one.phase(), Phase::Finished);
    // Replayed in batches (signatures and decodings ahead, on all cores): the same state.
    let batched = Election::replay(&r.entries).unwrap();
    assert_eq!(snapshot(&batched), snapshot(&one));
    // Every mixer mixed each ranked contest with voters in it; both decrypted; counts posted.
    let kinds = |k: EntryKind| r.entries.iter().filter(|x| x.kind() == k).count();
    assert_eq!(kinds(EntryKind::MixProof), 2 * 3);
    assert_eq!(kinds(EntryKind::MixDecryption), 2 * 2);
    assert_eq!(kinds(EntryKind::RankedCount), 2);
    // The decrypted ballots are the voters' last rankings, in another order, and the count is
    // the rule's count of them (a count does not depend on the order of valid ballots).
    let ctx = one.context().unwrap().clone();
    for (contest, c, rules) in kit.manifest.ranked_contests() {
        let d = one.ranked_result(contest).unwrap();
        let style_has = |v: usize| {
            kit.manifest.ballot_styles[usize::from(kit.voters[v].style)]
                .contests
                .contains(&contest)
        };
        let mut clear: Vec<Result<Vec<Choice>, _>> = (0..kit.voters.len())
            .filter(|&v| style_has(v))
            .map(
                |v| match r.invalid.iter().find(|(w, c, _)| *w == v && *c == contest) {
                    Some((_, _, reason)) => Err(*reason),
                    None => Ok(r.rankings[v]
                        .0
                        .get(&c.id)
                        .map(|prefs| prefs.iter().map(|p| choice(kit, contest, p)).collect())
                        .unwrap_or_default()),
                },
            )
            .collect();
        let mut got = d.rows.clone();
        assert_eq!(got.len(), clear.len());
        // Invalid rows are listed by their place in the shuffled list: compare the rest.
        let expected = count::count(contest, c, rules, &ctx.hash, &clear);
        assert_eq!(d.count.invalid.len(), expected.invalid.len());
        assert_eq!(
            (&d.count.candidates, &d.count.elected, d.count.blank),
            (&expected.candidates, &expected.elected, expected.blank)
        );
        assert_eq!(d.count.outcome, expected.outcome);
        let key = |x: &Result<Vec<Choice>, _>| format!("{x:?}");
        got.sort_by_key(key);
        clear.sort_by_key(key);
        assert_eq!(got, clear);
    }
    // The write-ins were counted as candidates of the STV contest.
    let board = &one.ranked_result(RANKED).unwrap().count;
    assert!(board
        .candidates
        .contains(&count::Candidate::WriteIn("Zoë Ng".into())));
    assert_eq!(board.elected.len(), 2);
    // The homomorphic contest has its result; the ranked ones have no count in it.
    let result = one.result().unwrap();
    assert_eq!(result.counts[1], Vec::<u64>::new());
    assert_eq!(result.counts[0].iter().sum::<u64>(), 11);
}

/// An election at the close with `voters` ballots ranking the STV contest.
fn at_close(seed: u64, voters: usize) -> (Kit, Election) {
    let mut kit = ranked::kit(seed, voters);
    let mut e = Election::new();
    apply_all(&mut e, &[kit.setup()]);
    let c = kit.ceremony();
    apply_all(&mut e, &c);
    apply_all(&mut e, &[kit.roll(0, 0..voters), kit.open()]);
    let ctx = e.context().unwrap().clone();
    for v in 0..voters {
        let style = kit.voters[v].style;
        let choices = kit.random_choices(style);
        let ranked = urna_election::ballot::Rankings::random(&kit.manifest, style, &mut kit.rng);
        let x = ranked::ballot(&mut kit, v, &choices, &ranked, &ctx);
        apply_all(&mut e, &[x]);
    }
    apply_all(&mut e, &[kit.close()]);
    (kit, e)
}

/// Applies every entry but the last, which must be refused with `code`.
fn refused_at_the_close(e: &mut Election, entries: &[Entry], code: &str) {
    let (last, rows) = entries.split_last().unwrap();
    apply_all(e, rows);
    rejects(e, last, code);
}

/// How a cheating mixer changes its outputs (rows of `w` ciphertexts, flattened).
type Tamper = Box<dyn FnOnce(&mut Vec<Ciphertext>, usize)>;

#[test]
fn a_mixer_that_replaces_drops_or_duplicates_a_ciphertext_is_caught() {
    let (mut kit, e) = at_close(11, 8);
    let pk = e.context().unwrap().joint_key.clone();
    let fresh = Ciphertext::encrypt_random(&pk, 0, &mut kit.rng).0;
    let cases: Vec<(&str, Tamper)> = vec![
        ("replaced", Box::new(move |o, _| o[0] = fresh)),
        // Dropping a ballot keeps the list's length only by putting another in its place.
        (
            "dropped and duplicated",
            Box::new(|o, w| {
                let first = o[..w].to_vec();
                o[w..2 * w].copy_from_slice(&first);
            }),
        ),
        (
            "one component duplicated",
            Box::new(|o, w| o[w + w - 1] = o[w - 1]),
        ),
        // Another permutation than the proof's: two rows exchanged.
        (
            "two rows exchanged",
            Box::new(|o, w| {
                for k in 0..w {
                    o.swap(k, w + k);
                }
            }),
        ),
    ];
    for (name, tamper) in cases {
        let mut e = e.clone();
        let entries = ranked::cheating_mix(&mut kit, &e, RANKED, 1, tamper);
        let (last, rows) = entries.split_last().unwrap();
        apply_all(&mut e, rows);
        let r = rejects(&mut e, last, "invalid-shuffle");
        assert!(
            matches!(r, Rejection::InvalidShuffle { position: 1, .. }),
            "{name}"
        );
        // The mixer can start afresh, honestly.
        let honest = ranked::mix(&mut kit, &e, RANKED, 1);
        apply_all(&mut e, &honest);
        assert_eq!(e.mix_status()[0].mixes, 1, "{name}");
    }
    // A row missing: the proof is refused before any verification; a row too many, at once.
    let mut e1 = e.clone();
    let honest = ranked::mix(&mut kit, &e1, RANKED, 1);
    let (mut rows, proof) = ranked::split(&honest);
    rows[0].rows.pop();
    let short = ranked::resign(&kit, 1, rows.clone(), proof.clone());
    refused_at_the_close(&mut e1, &short, "mix-incomplete");
    let mut e2 = e.clone();
    let extra = rows[0].rows[0].clone();
    rows[0].rows.extend([extra.clone(), extra]);
    let long = ranked::resign(&kit, 1, rows, proof);
    rejects(&mut e2, &long[0], "mix-rows");
}

/// (name, generator seed, mixer identity, context) of a proof made for something else.
type ProofFor = (&'static str, Vec<u8>, Vec<u8>, Vec<u8>);

#[test]
fn a_shuffle_proof_made_for_anything_else_fails() {
    let (mut kit, e) = at_close(12, 6);
    let ctx = e.context().unwrap().clone();
    let list = e.mix_list(RANKED).unwrap();
    let n = list.len()
        / kit.manifest.contests[usize::from(RANKED)]
            .ranked()
            .unwrap()
            .width();
    let m1 = kit.trustees[0].signing.verifying_key();
    let m2 = kit.trustees[1].signing.verifying_key();
    let seed = ctx.mix_seed(RANKED);
    let good_ctx = ctx.mix_ctx(RANKED, 1);
    // Sanity: with every parameter right, the hand-made mix is admitted.
    let mut ok = e.clone();
    let right = ranked::mix_with(
        &mut kit,
        &ok,
        RANKED,
        1,
        &list,
        None,
        &seed,
        m1.as_bytes(),
        &good_ctx,
    );
    apply_all(&mut ok, &right);
    let reversed = Permutation::new((0..n as u32).rev().collect()).unwrap();
    let other_election = {
        let mut c = good_ctx;
        c[0] ^= 1;
        c
    };
    let another_contest = ctx.mix_ctx(2, 1);
    let cases: Vec<ProofFor> = vec![
        (
            "other generators",
            b"another seed".to_vec(),
            m1.as_bytes().to_vec(),
            good_ctx.to_vec(),
        ),
        (
            "the other contest's generators",
            ctx.mix_seed(2).to_vec(),
            m1.as_bytes().to_vec(),
            good_ctx.to_vec(),
        ),
        (
            "another election",
            seed.to_vec(),
            m1.as_bytes().to_vec(),
            other_election.to_vec(),
        ),
        (
            "another contest's list",
            seed.to_vec(),
            m1.as_bytes().to_vec(),
            another_contest.to_vec(),
        ),
        (
            "another place in the chain",
            seed.to_vec(),
            m1.as_bytes().to_vec(),
            ctx.mix_ctx(RANKED, 2).to_vec(),
        ),
        (
            "another mixer",
            seed.to_vec(),
            m2.as_bytes().to_vec(),
            good_ctx.to_vec(),
        ),
    ];
    for (name, seed, mixer, pctx) in cases {
        let mut e = e.clone();
        let x = ranked::mix_with(
            &mut kit,
            &e,
            RANKED,
            1,
            &list,
            Some(reversed.clone()),
            &seed,
            &mixer,
            &pctx,
        );
        let (last, rows) = x.split_last().unwrap();
        apply_all(&mut e, rows);
        let before = snapshot(&e);
        let r = e.apply(last).expect_err(name);
        assert_eq!(r.code(), "invalid-shuffle", "{name}: {r}");
        assert_eq!(snapshot(&e), before);
    }
    // A proof of a shuffle of another list (mixer 1's input) moved to mixer 2's turn.
    let mut e2 = ok.clone();
    let moved = ranked::mix_with(
        &mut kit,
        &e2,
        RANKED,
        2,
        &list,
        None,
        &seed,
        m2.as_bytes(),
        &ctx.mix_ctx(RANKED, 2),
    );
    refused_at_the_close(&mut e2, &moved, "invalid-shuffle");
    // Mixer 1's valid entries again, for the second place: out of turn (or duplicates).
    let mut e3 = ok.clone();
    rejects(&mut e3, right.last().unwrap(), "duplicate");
}

#[test]
fn decryption_shares_for_the_wrong_list_or_key_fail_and_a_wrong_count_is_refused() {
    let (mut kit, mut e) = at_close(13, 6);
    let before_mix = e.mix_list(RANKED).unwrap();
    // Decryption before the mix.
    let share = kit.key_share(1, e.qualified_trustees());
    let stale = mixnet::decrypt(
        &e,
        RANKED,
        1,
        &share,
        &kit.trustees[0].signing,
        &mut kit.rng,
    );
    assert!(matches!(stale, Err(mixnet::MixnetError::NotMixed(_))));
    for i in 1..=3 {
        let x = ranked::mix(&mut kit, &e, RANKED, i);
        apply_all(&mut e, &x);
    }
    let honest = ranked::decrypt(&mut kit, &e, RANKED, 1);
    let Payload::MixDecryption(good) =
        Payload::decode(EntryKind::MixDecryption, honest[0].payload()).unwrap()
    else {
        unreachable!()
    };
    let good = *good;
    let ctx = e.context().unwrap().clone();
    let vk1 = ctx.verification_keys[0];
    let sign = |kit: &Kit, d: MixDecryption| {
        kit.sign(
            &kit.trustees[0].signing,
            &Payload::MixDecryption(Box::new(d)),
        )
    };
    // Shares of the list before the mix, proven as such: the wrong list.
    let alphas: Vec<_> = before_mix.iter().map(|c| c.alpha).collect();
    let (ds, proof) = urna_crypto::threshold::partial_decrypt_list(
        &share,
        &vk1,
        &alphas[..good.shares.len()],
        &ctx.mix_decryption_ctx(1, RANKED, 0),
        &mut kit.rng,
    )
    .unwrap();
    let x = sign(
        &kit,
        MixDecryption {
            shares: ds,
            proof,
            ..good.clone()
        },
    );
    rejects(&mut e, &x, "invalid-mix-decryption");
    // Another trustee's key share under trustee 1's name.
    let wrong = kit.key_share(2, e.qualified_trustees());
    let final_alphas: Vec<_> = e
        .mix_list(RANKED)
        .unwrap()
        .iter()
        .map(|c| c.alpha)
        .collect();
    let (ds, proof) = urna_crypto::threshold::partial_decrypt_list(
        &wrong,
        &vk1,
        &final_alphas[..good.shares.len()],
        &ctx.mix_decryption_ctx(1, RANKED, 0),
        &mut kit.rng,
    )
    .unwrap();
    let x = sign(
        &kit,
        MixDecryption {
            shares: ds,
            proof,
            ..good.clone()
        },
    );
    rejects(&mut e, &x, "invalid-mix-decryption");
    // One share replaced, the proof unchanged.
    let mut one = good.clone();
    one.shares[0] = one.shares[1];
    rejects(&mut e, &sign(&kit, one), "invalid-mix-decryption");
    // The honest proof under another context (another first index) fails too.
    let mut moved = good.clone();
    moved.first = 1;
    rejects(&mut e, &sign(&kit, moved), "mix-share-order");
    // The count before the list is decrypted.
    let early = kit.sign(
        &kit.authority,
        &Payload::RankedCount(RankedCountBytes {
            contest: RANKED,
            offset: 0,
            bytes: vec![0],
        }),
    );
    rejects(&mut e, &early, "count-before-decryption");
    apply_all(&mut e, &honest);
    let x = ranked::decrypt(&mut kit, &e, RANKED, 3);
    apply_all(&mut e, &x);
    assert!(e.ranked_result(RANKED).is_some());
    // A count that differs from the rule's in one byte, anywhere, is refused.
    let counted = ranked::count(&kit, &e, RANKED);
    let Payload::RankedCount(c) =
        Payload::decode(EntryKind::RankedCount, counted[0].payload()).unwrap()
    else {
        unreachable!()
    };
    for at in [0, c.bytes.len() / 2, c.bytes.len() - 1] {
        let mut bytes = c.bytes.clone();
        bytes[at] ^= 1;
        let x = kit.sign(
            &kit.authority,
            &Payload::RankedCount(RankedCountBytes { bytes, ..c.clone() }),
        );
        rejects(&mut e, &x, "inconsistent-count");
    }
    let skip = kit.sign(
        &kit.authority,
        &Payload::RankedCount(RankedCountBytes {
            offset: 1,
            bytes: c.bytes[1..].to_vec(),
            ..c.clone()
        }),
    );
    rejects(&mut e, &skip, "count-out-of-order");
    apply_all(&mut e, &counted);
    assert_eq!(e.mix_status()[0].count_posted, c.bytes.len());
}

#[test]
fn long_lists_span_many_entries() {
    // 2,100 rows of the IRV contest (width 1) need several `MixRows` and `MixDecryption`
    // entries; the mix is checked when complete, each decryption entry on its own.
    let voters = 2100;
    let mut kit = ranked::kit(14, voters);
    let mut e = Election::new();
    apply_all(&mut e, &[kit.setup()]);
    let c = kit.ceremony();
    apply_all(&mut e, &c);
    for (b, start) in (0..voters).step_by(1000).enumerate() {
        apply_all(
            &mut e,
            &[kit.roll(b as u32, start..(start + 1000).min(voters))],
        );
    }
    apply_all(&mut e, &[kit.open()]);
    let ctx = e.context().unwrap().clone();
    let mut ballots = Vec::with_capacity(voters);
    for v in 0..voters {
        let style = kit.voters[v].style;
        let choices = kit.random_choices(style);
        let ranked = urna_election::ballot::Rankings::random(&kit.manifest, style, &mut kit.rng);
        ballots.push(ranked::ballot(&mut kit, v, &choices, &ranked, &ctx));
    }
    for r in e.apply_batch(&ballots) {
        r.unwrap();
    }
    apply_all(&mut e, &[kit.close()]);
    let chair = 2;
    let x = ranked::mix(&mut kit, &e, chair, 1);
    assert!(x.len() > 3, "{} entries", x.len());
    assert!(x.iter().all(|y| y.bytes().len() <= 65_535));
    for r in e.apply_batch(&x) {
        r.unwrap();
    }
    for i in 2..=3 {
        let x = ranked::mix(&mut kit, &e, chair, i);
        apply_all(&mut e, &x);
    }
    for i in [1u16, 2] {
        let x = ranked::decrypt(&mut kit, &e, chair, i);
        assert!(x.len() > 1);
        apply_all(&mut e, &x);
    }
    let d = e.ranked_result(chair).unwrap();
    assert_eq!(d.rows.len(), voters);
    assert!(d.rows.iter().all(|r| r.is_ok()));
}
