//! Manifest validation: the commented example is valid, round-trips through its canonical form,
//! and each rule has a rejecting case naming its error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_crypto::codec::{Decode, Encode};
use urna_election::manifest::{
    ContestKind, CountMethod, Manifest, ManifestError, RankedRules, RevotePolicy,
};

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
        r#"  { id = "bob", name = "Bob Chen", names = { zh-CN = "陈博" } },
  { id = "carol", name = "Carol Diaz", names = { zh-CN = "卡萝尔·迪亚斯" } },
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
    rejects(r#"kind = "plurality""#, r#"kind = "borda""#, |e| {
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
    let dup = EXAMPLE.replace("node.observers.example", "witness.party-a.example");
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

/// Per-language titles (specs/election.md §2.4): authored as tables, carried in the canonical
/// form, picked by one rule, and every way of writing them wrong refused by name.
#[test]
fn titles_in_other_languages() {
    let m = example();
    assert_eq!(m.title_in("zh-CN"), "2026 年示例市议会选举");
    assert_eq!(m.title_in("zh"), "2026 年示例市议会选举");
    assert_eq!(m.title_in("en-GB"), "Example City Council Election 2026");
    assert_eq!(m.contests[0].title_in("zh-Hans-CN"), "市长");
    assert_eq!(m.contests[0].options[1].name_in("zh-CN"), "陈博");
    assert_eq!(m.contests[0].options[1].name_in("fr"), "Bob Chen");
    assert_eq!(m.ballot_styles[1].title_in("zh-CN"), "非本市居民");
    assert_eq!(m.ballot_styles[1].title_in("en"), "Non-residents");
    // A style without a title is shown by its id.
    let untitled = Manifest::from_toml(&EXAMPLE.replacen(
        "title = \"Residents\"\ntitles = { zh-CN = \"本市居民\" }\n",
        "",
        1,
    ))
    .unwrap();
    assert_eq!(untitled.ballot_styles[0].title, None);
    assert_eq!(untitled.ballot_styles[0].title_in("zh-CN"), "resident");
    // The titles are part of the canonical form, and so of the manifest hash.
    let bytes = m.to_canonical_bytes().unwrap();
    assert_eq!(Manifest::from_bytes(&bytes).unwrap(), m);
    assert_ne!(untitled.hash(), m.hash());
    let mut other = m.clone();
    other.contests[0].titles.0[0].text = "市長".into();
    assert_ne!(other.hash(), m.hash());
    // A table is sorted whatever order it was written in.
    let two = Manifest::from_toml(&EXAMPLE.replacen(
        "titles = { zh-CN = \"市长\" }",
        "titles = { zh-CN = \"市长\", fr = \"Maire\", de = \"Bürgermeister\" }",
        1,
    ))
    .unwrap();
    let tags: Vec<&str> = two.contests[0]
        .titles
        .0
        .iter()
        .map(|t| t.lang.as_str())
        .collect();
    assert_eq!(tags, ["de", "fr", "zh-CN"]);
}

#[test]
fn titles_that_are_refused() {
    let mayor = "titles = { zh-CN = \"市长\" }";
    rejects(
        mayor,
        "titles = { zh-cn = \"市长\" }",
        |e| matches!(e, ManifestError::LanguageTagCase { canonical, .. } if canonical == "zh-CN"),
    );
    rejects(
        mayor,
        "titles = { chinese_simplified = \"市长\" }",
        |e| matches!(e, ManifestError::BadLanguageTag { field, .. } if field == "contest \"mayor\" title"),
    );
    rejects(
        mayor,
        "titles = { zh-CN = \"\" }",
        |e| matches!(e, ManifestError::EmptyText { field } if field == "contest \"mayor\" title in zh-CN"),
    );
    rejects(
        mayor,
        "titles = { zh-CN = \"市长\", zh-CN = \"市長\" }",
        |e| matches!(e, ManifestError::Toml(_)),
    );
    rejects(
        "{ id = \"dan\", name = \"Dan\", names",
        "{ id = \"dan\", name = \"Dan\", nom",
        |e| matches!(e, ManifestError::Toml(_)),
    );
    rejects(
        "title = \"Residents\"\n",
        "",
        |e| matches!(e, ManifestError::TranslationsWithoutTitle(s) if s == "resident"),
    );
    rejects("title = \"Residents\"", "title = \"\"", |e| {
        matches!(e, ManifestError::EmptyText { .. })
    });
    let many: Vec<String> = (0..33).map(|i| format!("x-t{i} = \"t\"")).collect();
    rejects(mayor, &format!("titles = {{ {} }}", many.join(", ")), |e| {
        matches!(
            e,
            ManifestError::TooManyTranslations {
                count: 33,
                max: 32,
                ..
            }
        )
    });
    // What only a hand-made (or hostile) canonical form can hold: unsorted or repeated tags,
    // translations of the fixed referendum options.
    let mut m = example();
    m.contests[0].titles.0.insert(
        0,
        urna_election::manifest::Translation {
            lang: "zh-TW".into(),
            text: "市長".into(),
        },
    );
    assert!(matches!(
        m.validate(),
        Err(ManifestError::UnsortedLanguages { tag, .. }) if tag == "zh-CN"
    ));
    assert!(Manifest::from_bytes(&m.to_canonical_bytes().unwrap()).is_err());
    m.contests[0].titles.0[0].lang = "zh-CN".into();
    assert!(matches!(
        m.validate(),
        Err(ManifestError::UnsortedLanguages { .. })
    ));
    let mut m = example();
    m.contests[3].options[0].names = m.contests[0].titles.clone();
    assert!(matches!(
        m.validate(),
        Err(ManifestError::ReferendumOptions(id)) if id == "measure-a"
    ));
}

/// The example with a ranked contest added to the resident style.
fn with_ranked(fields: &str) -> String {
    let contest = format!(
        "[[contests]]\nid = \"board\"\ntitle = \"Board\"\nkind = \"ranked\"\n{fields}\noptions = [\n  {{ id = \"a\", name = \"A\" }},\n  {{ id = \"b\", name = \"B\" }},\n  {{ id = \"c\", name = \"C\" }},\n]\n\n"
    );
    EXAMPLE
        .replacen("# Ballot styles:", &format!("{contest}# Ballot styles:"), 1)
        .replacen(
            r#"contests = ["mayor", "council", "budget", "measure-a"]"#,
            r#"contests = ["mayor", "council", "budget", "measure-a", "board"]"#,
            1,
        )
}

fn ranked_rejects(fields: &str, expected: fn(&ManifestError) -> bool) {
    match Manifest::from_toml(&with_ranked(fields)) {
        Ok(_) => panic!("accepted {fields:?}"),
        Err(e) => assert!(expected(&e), "wrong error {e:?} for {fields:?}"),
    }
}

#[test]
fn ranked_contests_and_their_mixers() {
    let text = with_ranked("method = \"stv\"\nseats = 2\nwrite_ins = 2\nwrite_in_len = 40");
    let m = Manifest::from_toml(&text).unwrap();
    let (i, c, r) = m.ranked_contests().next().unwrap();
    assert_eq!((i, c.id.as_str()), (4, "board"));
    assert_eq!(
        *r,
        RankedRules {
            method: CountMethod::Stv,
            seats: 2,
            ranks: 5,
            write_ins: 2,
            write_in_len: 40
        }
    );
    // 5 preference bytes and 2 × 40 bytes of write-ins: 85 bytes in 3 points.
    assert_eq!(r.width(), 3);
    // The mixers default to the trustees, in order, with their signing keys.
    assert_eq!(m.mixers.len(), 3);
    assert_eq!(m.mixers[1].key, m.trustees[1].signing_key);
    // The ranked contest has no place in the homomorphic tally.
    assert!(m.option_positions().iter().all(|(c, _)| *c != 4));
    assert!(m.has_tally());
    let bytes = m.to_bytes();
    assert_eq!(Manifest::from_bytes(&bytes), Ok(m.clone()));
    // Without a ranked contest the canonical form names no mixers: it ends at the quorum.
    let plain = example().to_bytes();
    assert_eq!(&plain[plain.len() - 2..], &[0, 2]);
    // An unknown count method in the canonical form is malformed, not a rule.
    let at = bytes.windows(5).position(|w| w == [5, 2, 0, 2, 5]).unwrap();
    let mut unknown = bytes.clone();
    unknown[at + 1] = 9;
    assert!(matches!(
        Manifest::decode_unvalidated(&mut urna_crypto::codec::Reader::new(&unknown)),
        Err(urna_crypto::errors::DecodeError::UnknownTag { .. })
    ));
    // Named mixers replace the default.
    let named = format!(
        "{text}\n[[mixers]]\nname = \"m1\"\nkey = \"{}\"\n\n[[mixers]]\nname = \"m2\"\nkey = \"{}\"\n",
        urna_crypto::hex::encode(m.trustees[2].signing_key.as_bytes()),
        urna_crypto::hex::encode(m.trustees[0].signing_key.as_bytes()),
    );
    let m2 = Manifest::from_toml(&named).unwrap();
    assert_eq!(m2.mixer_index(&m.trustees[2].signing_key), Some(1));
    assert_ne!(m2.hash(), m.hash());
}

#[test]
fn ranked_contest_rules() {
    let bad = |e: &ManifestError| matches!(e, ManifestError::BadRanked { .. });
    ranked_rejects("seats = 1", |e| {
        matches!(
            e,
            ManifestError::MissingField {
                field: "method",
                ..
            }
        )
    });
    ranked_rejects("method = \"borda\"", |e| {
        matches!(e, ManifestError::BadMethod(_))
    });
    ranked_rejects("method = \"irv\"\nseats = 2", bad);
    ranked_rejects("method = \"stv\"\nseats = 3", bad);
    ranked_rejects("method = \"stv\"\nseats = 0", bad);
    ranked_rejects("method = \"schulze\"\nwrite_ins = 1", bad);
    ranked_rejects("method = \"irv\"\nranks = 4", bad);
    ranked_rejects("method = \"irv\"\nranks = 0", bad);
    ranked_rejects("method = \"irv\"\nwrite_in_len = 10", bad);
    ranked_rejects("method = \"irv\"\nwrite_ins = 253", bad);
    // 3 ranks and 8 write-ins of 240 bytes: 1,923 bytes, beyond 64 points.
    ranked_rejects(
        "method = \"irv\"\nranks = 3\nwrite_ins = 8\nwrite_in_len = 240",
        bad,
    );
    ranked_rejects("method = \"irv\"\nexactly = true", |e| {
        matches!(
            e,
            ManifestError::UnusedField {
                field: "exactly",
                ..
            }
        )
    });
    assert!(Manifest::from_toml(&with_ranked("method = \"irv\"\nranks = 3")).is_ok());
}

#[test]
fn mixer_rules() {
    let text = with_ranked("method = \"irv\"");
    let m = Manifest::from_toml(&text).unwrap();
    let key = |k: &urna_crypto::sign::VerifyingKey| urna_crypto::hex::encode(k.as_bytes());
    let mixers = |list: &[(&str, String)]| {
        let mut t = text.clone();
        for (name, k) in list {
            t.push_str(&format!("\n[[mixers]]\nname = \"{name}\"\nkey = \"{k}\"\n"));
        }
        Manifest::from_toml(&t)
    };
    let t1 = key(&m.trustees[0].signing_key);
    let t2 = key(&m.trustees[1].signing_key);
    let mx = |e: Result<Manifest, ManifestError>| matches!(e, Err(ManifestError::Mixers(_)));
    assert!(mx(mixers(&[("one", t1.clone())])));
    assert!(mx(mixers(&[("one", t1.clone()), ("two", t1.clone())])));
    assert!(mx(mixers(&[("one", t1.clone()), ("one", t2.clone())])));
    assert!(mx(mixers(&[
        ("one", t1.clone()),
        ("two", key(&m.board_key))
    ])));
    assert!(mixers(&[("one", t1.clone()), ("two", t2.clone())]).is_ok());
    // Mixers without a ranked contest.
    let plain = format!("{EXAMPLE}\n[[mixers]]\nname = \"one\"\nkey = \"{t1}\"\n\n[[mixers]]\nname = \"two\"\nkey = \"{t2}\"\n");
    assert!(mx(Manifest::from_toml(&plain)));
    // A manifest assembled by hand with mixers but no ranked contest has no canonical form.
    let mut by_hand = example();
    by_hand.mixers = m.mixers.clone();
    assert!(by_hand.to_canonical_bytes().is_err());
}

#[test]
fn witness_roles_are_read_from_toml_and_encoded_as_a_tag() {
    use urna_election::manifest::Role;
    let m = example();
    let roles: Vec<Role> = m.witnesses.iter().map(|w| w.role).collect();
    assert_eq!(roles, [Role::Witness, Role::Node, Role::Node]);
    assert!(m.witnesses[1].is_node() && !m.witnesses[0].is_node());
    let bytes = m.to_bytes();
    // The first member's role byte follows its URL.
    let url = m.witnesses[0].url.as_bytes();
    let at = bytes
        .windows(url.len())
        .position(|w| w == url)
        .expect("the url is in the canonical form")
        + url.len();
    assert_eq!(bytes[at], 1, "witness is tag 1");
    for bad in [0u8, 3, 255] {
        let mut b = bytes.clone();
        b[at] = bad;
        assert!(Manifest::from_bytes(&b).is_err(), "role tag {bad}");
    }
    let mut as_node = bytes.clone();
    as_node[at] = 2;
    assert!(Manifest::from_bytes(&as_node).unwrap().witnesses[0].is_node());
    let unknown = EXAMPLE.replacen("\nrole = \"node\"", "\nrole = \"validator\"", 1);
    assert_ne!(unknown, EXAMPLE);
    assert!(Manifest::from_toml(&unknown).is_err());
}
