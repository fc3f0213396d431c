//! A voter's ranked ballot, from the typed ranking to the ballot the rules admit: a Benaloh
//! challenge opens each ranked row to exactly the ranking shown, and a client that shows
//! another ranking than it encrypted is caught by the voter's own check.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_election::ballot::Preference;
use urna_election::state::Election;
use urna_sim::kit::apply_all;
use urna_sim::ranked;
use urna_voter::choices;
use urna_voter::credential::Credential;
use urna_voter::vote::{self, VoteError};

#[test]
fn a_ranked_ballot_is_cast_and_a_challenge_opens_to_the_ranking_shown() {
    let mut k = ranked::kit(5, 4);
    let mut e = Election::new();
    apply_all(&mut e, &[k.setup()]);
    let c = k.ceremony();
    apply_all(&mut e, &c);
    apply_all(&mut e, &[k.roll(0, 0..4), k.open()]);
    let cred = Credential {
        election_id: k.id().to_string(),
        key: k.voters[0].key.clone(),
    };
    let m = e.manifest().unwrap().clone();
    let answers =
        choices::parse("mayor=bob;board=eve,write-in:Zoë Ng,dan;chair=ivy>hal", &m).unwrap();
    choices::check(&answers, &m, k.voters[0].style).unwrap();

    let prepared = vote::prepare_answers(&e, &cred, &answers, &mut rand::rngs::OsRng).unwrap();
    let challenged = prepared.challenge(&e, &cred).unwrap();
    apply_all(&mut e, &[challenged]);

    // A client showing the voter another ranking than the one it encrypted.
    let mut lying = vote::prepare_answers(&e, &cred, &answers, &mut rand::rngs::OsRng).unwrap();
    lying
        .rankings
        .0
        .insert("chair".into(), vec![Preference::Option("hal".into())]);
    assert!(matches!(
        lying.challenge(&e, &cred),
        Err(VoteError::OpeningMismatch(c)) if c == "contest chair"
    ));

    let cast = vote::prepare_answers(&e, &cred, &answers, &mut rand::rngs::OsRng).unwrap();
    e.apply(&cast.entry).unwrap();
    assert!(vote::counted_ballot(&e, &cred).is_some());
}
