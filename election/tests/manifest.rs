//! Manifest validation: the commented example is valid, round-trips through its canonical form,
//! and each rule has a rejecting case naming its error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_crypto::codec::{Decode, Encode};
use urna_election::manifest::{ContestKind, Manifest, ManifestError, RevotePolicy};

const EXAMPLE: &str = include_str!("../../specs/examples/manifest.toml");

fn example() -> Manifest {
    Manifest::from_toml(EXAMPLE).unwrap()
}

#[test]
fn example_is_valid_and_round_trips() {
    let m = example();
    assert_eq!(m.election_id, "vote.example.org/2026/council");
    assert_eq!(m.trustees.len(), 3);
    assert_eq!(m.threshold, 2);
    assert_eq!(m.revote, RevotePolicy::LatestCounts);
    assert_eq!(m.contests.len(), 4);
    assert_eq!(m.contests[3].options.len(), 3, "referendum with blank");
    assert_eq!(
        m.contests[2].kind,
        ContestKind::Score {
            max: 5,
            budget: Some(8)
        }
    );
    assert_eq!(m.ballot_styles[1].contests, vec![2, 3]);
    let bytes = m.to_bytes();
    assert_eq!(Manifest::from_bytes(&bytes), Ok(m.clone()));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Manifest::from_bytes(&longer).is_err());
    assert_eq!(m.hash(), Manifest::from_bytes(&bytes).unwrap().hash());
}

/// Applies a textual edit to the example and expects exactly `expected`.
fn rejects(from: &str, to: &str, expected: fn(&ManifestError) -> bool) {
    assert!(
        EXAMPLE.contains(from),
        "edit target {from:?} not in example"
    );
    let text = EXAMPLE.replacen(from, to, 1);
    match Manifest::from_toml(&text) {
        Ok(_) => panic!("accepted after replacing {from:?} with {to:?}"),
        Err(e) => assert!(expected(&e), "wrong error {e:?} for {to:?}"),
    }
}

#[test]
fn threshold_above_trustee_count() {
    rejects("threshold = 2", "threshold = 4", |e| {
        matches!(e, ManifestError::BadThreshold { t: 4, n: 3 })
    });
    rejects("threshold = 2", "threshold = 0", |e| {
        matches!(e, ManifestError::BadThreshold { t: 0, .. })
    });
}

#[test]
fn duplicate_ids() {
    rejects(r#"id = "council""#, r#"id = "mayor""#, |e| {
        matches!(e, ManifestError::DuplicateContest(_))
    });
    rejects(r#"{ id = "bob""#, r#"{ id = "alice""#, |e| {
        matches!(e, ManifestError::DuplicateOption { .. })
    });
    rejects(r#"id = "non-resident""#, r#"id = "resident""#, |e| {
        matches!(e, ManifestError::DuplicateStyle(_))
    });
}

#[test]
fn approval_max_below_min() {
    rejects("min = 0\nmax = 2", "min = 2\nmax = 1", |e| {
        matches!(e, ManifestError::MaxBelowMin { .. })
    });
    rejects("min = 0\nmax = 2", "min = 0\nmax = 5", |e| {
        matches!(e, ManifestError::MaxAboveOptions { .. })
    });
}

#[test]
fn empty_contest() {
    let text = EXAMPLE.replacen(
        r#"  { id = "bob", name = "Bob Chen" },
  { id = "carol", name = "Carol Diaz" },
"#,
        "",
        1,
    );
    assert!(matches!(
        Manifest::from_toml(&text),
        Err(ManifestError::EmptyContest(_))
    ));
}

#[test]
fn styles_must_name_known_contests_once() {
    rejects(
        r#"contests = ["budget", "measure-a"]"#,
        r#"contests = ["budget", "nope"]"#,
        |e| matches!(e, ManifestError::UnknownContest { .. }),
    );
    rejects(
        r#"contests = ["budget", "measure-a"]"#,
        r#"contests = ["budget", "budget"]"#,
        |e| matches!(e, ManifestError::RepeatedContest { .. }),
    );
    rejects(
        r#"contests = ["budget", "measure-a"]"#,
        r#"contests = []"#,
        |e| matches!(e, ManifestError::EmptyStyle(_)),
    );
}

#[test]
fn score_and_referendum_rules() {
    rejects("max = 5\nbudget = 8", "max = 0\nbudget = 8", |e| {
        matches!(e, ManifestError::BadScoreMax { .. })
    });
    rejects("max = 5\nbudget = 8", "max = 5\nbudget = 0", |e| {
        matches!(e, ManifestError::BadBudget { .. })
    });
    rejects(
        "kind = \"referendum\"\nblank = true",
        "kind = \"referendum\"\nblank = true\noptions = [{ id = \"x\", name = \"X\" }]",
        |e| matches!(e, ManifestError::ReferendumOptions(_)),
    );
    rejects(r#"kind = "plurality""#, r#"kind = "ranked""#, |e| {
        matches!(e, ManifestError::BadKind(_))
    });
    rejects(
        "exactly = true\noptions",
        "exactly = true\nbudget = 3\noptions",
        |e| {
            matches!(
                e,
                ManifestError::UnusedField {
                    field: "budget",
                    ..
                }
            )
        },
    );
}

#[test]
fn keys_and_ids() {
    rejects(
        r#"election_id = "vote.example.org/2026/council""#,
        r#"election_id = "https://vote.example.org""#,
        |e| matches!(e, ManifestError::BadElectionId(_)),
    );
    let m = example();
    let registrar = urna_crypto::hex::encode(m.registrar_key.as_bytes());
    let authority = urna_crypto::hex::encode(m.authority_key.as_bytes());
    rejects(
        &format!("registrar = \"{registrar}\""),
        &format!("registrar = \"{authority}\""),
        |e| matches!(e, ManifestError::DuplicateKey(_)),
    );
    rejects(
        &format!("registrar = \"{registrar}\""),
        "registrar = \"00\"",
        |e| matches!(e, ManifestError::BadKey { .. }),
    );
    rejects(
        "revote = \"latest-counts\"",
        "revote = \"sometimes\"",
        |e| matches!(e, ManifestError::BadRevote(_)),
    );
    rejects(
        "title = \"Example",
        "colour = \"red\"\ntitle = \"Example",
        |e| matches!(e, ManifestError::Toml(_)),
    );
}

#[test]
fn decoding_revalidates() {
    let mut m = example();
    m.threshold = 9;
    // An invalid manifest can be encoded (by a malicious authority) but never decoded.
    assert!(Manifest::from_bytes(&m.to_bytes()).is_err());
}

#[test]
fn witnesses_and_their_quorum() {
    let m = example();
    assert_eq!(m.witnesses.len(), 3);
    assert_eq!(m.witness_quorum, 2);
    assert_eq!(m.witnesses[0].name, "witness.party-a.example");
    assert_eq!(Manifest::from_bytes(&m.to_bytes()).unwrap(), m);
    // The default quorum is a majority.
    let without = EXAMPLE.replace("witness_quorum = 2\n", "");
    assert_eq!(Manifest::from_toml(&without).unwrap().witness_quorum, 2);
    for (bad, what) in [
        ("witness_quorum = 4\n", "more than the witnesses"),
        ("witness_quorum = 0\n", "zero with witnesses"),
    ] {
        let text = EXAMPLE.replace("witness_quorum = 2\n", bad);
        assert!(
            matches!(
                Manifest::from_toml(&text),
                Err(ManifestError::BadWitnessQuorum { .. })
            ),
            "{what}"
        );
    }
    let dup = EXAMPLE.replace("witness.observers.example", "witness.party-a.example");
    assert!(matches!(
        Manifest::from_toml(&dup),
        Err(ManifestError::DuplicateKey(_))
    ));
    let mut none = m.clone();
    none.witnesses.clear();
    assert!(none.validate().is_err(), "a quorum of 2 with no witnesses");
    none.witness_quorum = 0;
    none.validate().unwrap();
}

/// A canonical Ed25519 key that is not of small order but has a torsion component: crypto's
/// decoding accepts it, the election does not register it.
fn mixed_order(key: &urna_crypto::sign::VerifyingKey) -> String {
    use curve25519_dalek::{constants::EIGHT_TORSION, edwards::CompressedEdwardsY};
    let a = CompressedEdwardsY(*key.as_bytes()).decompress().unwrap();
    urna_crypto::hex::encode((a + EIGHT_TORSION[2]).compress().as_bytes())
}

#[test]
fn registered_keys_must_have_prime_order() {
    let m = example();
    let registrar = urna_crypto::hex::encode(m.registrar_key.as_bytes());
    rejects(
        &format!("registrar = \"{registrar}\""),
        &format!("registrar = \"{}\"", mixed_order(&m.registrar_key)),
        |e| matches!(e, ManifestError::KeyNotPrimeOrder { field } if field == "registrar_key"),
    );
    let ada = urna_crypto::hex::encode(m.trustees[0].signing_key.as_bytes());
    rejects(
        &format!("signing_key = \"{ada}\""),
        &format!(
            "signing_key = \"{}\"",
            mixed_order(&m.trustees[0].signing_key)
        ),
        |e| matches!(e, ManifestError::KeyNotPrimeOrder { field } if field == "trustee 1 signing_key"),
    );
    let mut w = m.clone();
    let k = mixed_order(&w.witnesses[1].key);
    w.witnesses[1].key =
        urna_crypto::sign::VerifyingKey::from_wire(&urna_crypto::hex::decode_array(&k).unwrap())
            .unwrap();
    assert!(matches!(
        w.validate(),
        Err(ManifestError::KeyNotPrimeOrder { .. })
    ));
    // Decoding applies the same rule: such a manifest never decodes as valid.
    assert!(Manifest::from_bytes(&w.to_bytes()).is_err());
}

#[test]
fn an_over_long_field_is_refused_never_truncated() {
    // 254 ASCII bytes then a 2-byte character: a cut at 255 bytes would split the character.
    let name = format!("{}é", "a".repeat(254));
    assert_eq!(name.len(), 256);
    rejects(
        "name = \"Ada\"",
        &format!("name = \"{name}\""),
        |e| matches!(e, ManifestError::TooLong { field, len: 256, max: 255 } if field == "trustee 1 name"),
    );
    rejects(
        r#"{ id = "bob""#,
        &format!("{{ id = \"{}\"", "b".repeat(256)),
        |e| {
            matches!(
                e,
                ManifestError::TooLong {
                    len: 256,
                    max: 255,
                    ..
                }
            )
        },
    );
    let mut m = example();
    m.trustees[0].name = name;
    assert!(matches!(m.validate(), Err(ManifestError::TooLong { .. })));
    // The encoder refuses it too, rather than writing a shorter (and here invalid UTF-8) name.
    assert!(matches!(
        m.to_canonical_bytes(),
        Err(ManifestError::TooLong {
            len: 256,
            max: 255,
            ..
        })
    ));
    // `Encode`, which cannot fail, writes bytes no decoder accepts.
    let bytes = m.to_bytes();
    assert!(Manifest::decode_unvalidated(&mut urna_crypto::codec::Reader::new(&bytes)).is_err());
    let mut title = example();
    title.title = "t".repeat(65_536);
    assert!(matches!(
        title.to_canonical_bytes(),
        Err(ManifestError::TooLong { max: 65_535, .. })
    ));
    // A valid manifest's canonical bytes are what `Encode` writes.
    let m = example();
    assert_eq!(m.to_canonical_bytes().unwrap(), m.to_bytes());
}

#[test]
fn too_many_witnesses_and_empty_optional_texts() {
    let mut m = example();
    let w = m.witnesses[0].clone();
    m.witnesses = (0..33)
        .map(|i| urna_election::manifest::Witness {
            name: format!("w{i}"),
            ..w.clone()
        })
        .collect();
    assert!(matches!(
        m.validate(),
        Err(ManifestError::TooMany {
            what: "witnesses",
            count: 33,
            max: 32
        })
    ));
    let mut m = example();
    m.opens = Some(String::new());
    assert!(matches!(m.validate(), Err(ManifestError::EmptyText { .. })));
    assert!(matches!(
        m.to_canonical_bytes(),
        Err(ManifestError::EmptyText { .. })
    ));
}
