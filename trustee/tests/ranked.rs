//! Trustees and mixers after the close of an election with a ranked contest beside a
//! homomorphic one: each mixer mixes in its turn and waits for the ones before it, a mix cut
//! short is made again from row 0, trustees decrypt the mixed list from where they left off,
//! the homomorphic result lands in its contest (not in the ranked one's place), and the count
//! finishes the election.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_election::ballot::{encrypt_ballot_ranked, Choices, Preference, Rankings};
use urna_election::entry::EntryKind;
use urna_election::mixnet;
use urna_election::payload::{ElectionResult, Payload};
use urna_election::ranking::Choice;
use urna_election::state::{Election, Phase};
use urna_sim::kit::{self, apply_all, Config, Kit};
use urna_trustee::mix::{self, MixStep};
use urna_trustee::{ceremony_in_memory, DecryptStep, TrusteeError, TrusteeKey};

/// A ranked contest between two homomorphic ones, so that a result laid out over every
/// contest would put the second one's counts in the ranked contest's place.
const CONTESTS: &str = r#"
[[contests]]
id = "mayor"
title = "Mayor"
kind = "plurality"
options = [{ id = "alice", name = "Alice" }, { id = "bob", name = "Bob" }]

[[contests]]
id = "board"
title = "School board"
kind = "ranked"
method = "irv"
write_ins = 1
write_in_len = 20
options = [{ id = "dan", name = "Dan" }, { id = "eve", name = "Eve" }, { id = "fay", name = "Fay" }]

[[contests]]
id = "measure"
title = "Measure"
kind = "referendum"
blank = false

[[ballot_styles]]
id = "all"
contests = ["mayor", "board", "measure"]
"#;

fn pref(id: &str) -> Preference {
    Preference::Option(id.into())
}

fn post(e: &mut Election, entries: &[urna_election::entry::Entry]) {
    apply_all(e, entries);
}

#[test]
fn mixers_trustees_and_the_count_after_the_close() {
    let mut rng = ChaCha20Rng::seed_from_u64(23);
    let k = Kit::new(
        5,
        Config {
            voters: vec![(1, 0); 7],
            contests: Some(CONTESTS.into()),
            ..Config::default()
        },
    );
    let mut keys: Vec<TrusteeKey> = k
        .trustees
        .iter()
        .map(|t| TrusteeKey::from_parts(t.signing.clone(), t.ceremony.clone()))
        .collect();
    let mut e = Election::new();
    e.apply(&k.setup()).unwrap();
    ceremony_in_memory(&mut keys, &mut e, &mut rng, |_| {}).unwrap();
    e.apply(&k.roll(0, 0..7)).unwrap();
    e.apply(&k.open()).unwrap();
    // Mixing before the close is the wrong phase.
    assert!(matches!(
        mix::mix_step(&e, keys[0].signing_key(), None, &mut rng),
        Err(TrusteeError::WrongPhase(Phase::Voting))
    ));
    let ctx = e.context().unwrap().clone();
    let rankings = [
        vec![pref("dan"), pref("eve")],
        vec![pref("dan")],
        vec![pref("fay"), pref("eve")],
        vec![pref("eve"), pref("dan")],
        vec![Preference::WriteIn("Zoë Ng".into()), pref("dan")],
        vec![],
        vec![pref("dan"), pref("fay")],
    ];
    let mut cast = Vec::new();
    for (v, r) in rankings.iter().enumerate() {
        let mut choices = Choices::default();
        choices
            .select(
                &k.manifest,
                "mayor",
                &[if v % 3 == 0 { "alice" } else { "bob" }],
            )
            .unwrap();
        choices
            .select(&k.manifest, "measure", &[if v < 5 { "yes" } else { "no" }])
            .unwrap();
        let ranked = Rankings([("board".to_string(), r.clone())].into_iter().collect());
        let cred = k.voters[v].key.verifying_key();
        let (b, _) =
            encrypt_ballot_ranked(&k.manifest, "all", &choices, &ranked, &cred, &ctx, &mut rng)
                .unwrap();
        e.apply(&k.ballot_entry(v, b)).unwrap();
        cast.push((1, 0, choices));
    }
    e.apply(&k.close()).unwrap();

    // Mixer 3 waits for mixers 1 and 2, by name; an outsider is no mixer.
    let MixStep::Wait(why) = mix::mix_step(&e, keys[2].signing_key(), None, &mut rng).unwrap()
    else {
        panic!("mixer 3 mixed out of turn")
    };
    assert!(
        why.contains("mixer 1 (Trustee 1), mixer 2 (Trustee 2)"),
        "{why}"
    );
    assert!(matches!(
        mix::mix_step(&e, &k.authority, None, &mut rng),
        Err(TrusteeError::NotAMixer)
    ));
    assert!(matches!(
        mix::mix_step(&e, keys[0].signing_key(), Some("mayor"), &mut rng),
        Err(TrusteeError::NotRanked(_))
    ));
    // Trustees cannot decrypt a list that is not mixed yet: they are told to wait.
    assert!(matches!(
        keys[0].ranked_decryption_step(&e, None, &mut rng).unwrap(),
        DecryptStep::Wait(_)
    ));
    // Mixer 1 posts only some rows of its mix, then stops; run again, it mixes afresh.
    let MixStep::Post { entries, .. } =
        mix::mix_step(&e, keys[0].signing_key(), None, &mut rng).unwrap()
    else {
        panic!("mixer 1 did not mix")
    };
    assert_eq!(entries.last().unwrap().kind(), EntryKind::MixProof);
    post(&mut e, &entries[..entries.len() - 1]);
    assert!(e.mix_status()[0].pending_rows > 0);
    for (i, key) in keys.iter().enumerate() {
        let MixStep::Post { entries, what, .. } =
            mix::mix_step(&e, key.signing_key(), None, &mut rng).unwrap()
        else {
            panic!("mixer {} did not mix", i + 1)
        };
        assert!(what.contains(&format!("mix {} of 3", i + 1)), "{what}");
        post(&mut e, &entries);
        assert!(matches!(
            mix::mix_step(&e, key.signing_key(), None, &mut rng).unwrap(),
            MixStep::Done
        ));
    }
    let status = e.mix_status();
    assert!(
        mix::describe(&k.manifest, &status[0]).contains("mixed 3 of 3"),
        "{}",
        mix::describe(&k.manifest, &status[0])
    );

    // Trustee 2 decrypts part of the list, then finishes from where it left off; trustee 1
    // completes the decryption; trustee 3 has nothing left to do.
    let DecryptStep::Post { entries, .. } =
        keys[1].ranked_decryption_step(&e, None, &mut rng).unwrap()
    else {
        panic!("trustee 2 did not decrypt")
    };
    post(&mut e, &entries);
    for i in [0usize, 1] {
        if let DecryptStep::Post { entries, .. } =
            keys[i].ranked_decryption_step(&e, None, &mut rng).unwrap()
        {
            post(&mut e, &entries);
        }
    }
    assert!(matches!(
        keys[2].ranked_decryption_step(&e, None, &mut rng).unwrap(),
        DecryptStep::Done
    ));
    let decrypted = e.ranked_result(1).unwrap();
    assert_eq!(decrypted.count.rows, 7);
    assert_eq!(decrypted.count.blank, 1);
    assert!(decrypted.rows.contains(&Ok(vec![
        Choice::WriteIn("Zoë Ng".into()),
        Choice::Option(0)
    ])));

    // The homomorphic result: each contest's counts in its own place, none for the ranked one.
    for i in [0usize, 2] {
        let x = keys[i].decryption_share(&e, &mut rng).unwrap();
        post(&mut e, &[x]);
    }
    let result = urna_tally::result::compute(&e).unwrap();
    let mut expected = kit::clear_tally(&k.manifest, &cast);
    expected[1].clear();
    assert_eq!(result, ElectionResult { counts: expected });
    assert_eq!(result.counts[2], vec![5, 2]);
    let p = Payload::Result(result);
    e.apply(&k.sign(&k.authority, &p)).unwrap();
    assert_eq!(
        e.phase(),
        Phase::Tallying,
        "the count is still to be posted"
    );
    let x = mixnet::count(&e, 1, &k.authority).unwrap();
    post(&mut e, &x);
    assert_eq!(e.phase(), Phase::Finished);
    // Dan: 3 first preferences of 6, then Zoë Ng's second preference: a majority.
    let count = &e.ranked_result(1).unwrap().count;
    assert_eq!(count.elected, vec![0]);
}

/// A manifest whose contests are all ranked has no homomorphic tally to compute.
#[test]
fn no_tally_without_a_homomorphic_contest() {
    let contests = CONTESTS.split("[[contests]]").nth(2).unwrap().to_string();
    let toml = format!(
        "[[contests]]{contests}\n[[ballot_styles]]\nid = \"all\"\ncontests = [\"board\"]\n"
    );
    let k = Kit::new(
        6,
        Config {
            voters: vec![(1, 0); 2],
            contests: Some(toml),
            ..Config::default()
        },
    );
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut keys: Vec<TrusteeKey> = k
        .trustees
        .iter()
        .map(|t| TrusteeKey::from_parts(t.signing.clone(), t.ceremony.clone()))
        .collect();
    let mut e = Election::new();
    e.apply(&k.setup()).unwrap();
    ceremony_in_memory(&mut keys, &mut e, &mut rng, |_| {}).unwrap();
    e.apply(&k.roll(0, 0..2)).unwrap();
    e.apply(&k.open()).unwrap();
    e.apply(&k.close()).unwrap();
    assert!(matches!(
        urna_tally::result::compute(&e),
        Err(urna_tally::result::TallyError::NoTally)
    ));
    // Nobody voted: nothing to mix, and the count of no ballot finishes the election.
    assert!(matches!(
        mix::mix_step(&e, keys[0].signing_key(), None, &mut rng).unwrap(),
        MixStep::Done
    ));
    let x = mixnet::count(&e, 0, &k.authority).unwrap();
    post(&mut e, &x);
    assert_eq!(e.phase(), Phase::Finished);
}
