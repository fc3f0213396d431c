//! The voter's and the registrar's inputs: the `--choices` syntax and the voters CSV, with
//! each bad input naming what is wrong.

use urna_election::manifest::Manifest;
use urna_voter::choices::{parse, ChoicesSyntaxError};
use urna_voter::credential::Credential;
use urna_voter::registrar::{parse_csv, Registry};

const EXAMPLE: &str = include_str!("../../specs/examples/manifest.toml");

fn manifest() -> Manifest {
    Manifest::from_toml(EXAMPLE).unwrap()
}

#[test]
fn choices_syntax() {
    let m = manifest();
    let c = parse(
        "mayor=alice; council=dan,eve ;budget=park:3,bikes:5;measure-a=yes",
        &m,
    )
    .unwrap();
    assert_eq!(c.0["mayor"], vec![1, 0, 0]);
    assert_eq!(c.0["council"], vec![1, 1, 0, 0]);
    assert_eq!(c.0["budget"], vec![3, 5, 0]);
    let j = parse(
        r#"{"mayor": {"alice": 1}, "budget": {"park": 3, "bikes": 5}}"#,
        &m,
    )
    .unwrap();
    assert_eq!(j.0["budget"], vec![3, 5, 0]);
    assert_eq!(parse("council=", &m).unwrap().0["council"], vec![0; 4]);
    for (text, want) in [
        ("mayor", ChoicesSyntaxError::NoEquals("mayor".into())),
        (
            "sheriff=x",
            ChoicesSyntaxError::UnknownContest("sheriff".into()),
        ),
        (
            "budget=park:lots",
            ChoicesSyntaxError::BadValue {
                contest: "budget".into(),
                item: "park:lots".into(),
            },
        ),
        (
            "mayor=alice;mayor=bob",
            ChoicesSyntaxError::Repeated("mayor".into()),
        ),
        (
            "council=dan,dan",
            ChoicesSyntaxError::RepeatedOption {
                contest: "council".into(),
                option: "dan".into(),
            },
        ),
    ] {
        assert_eq!(parse(text, &m), Err(want), "{text}");
    }
    assert!(
        matches!(parse("mayor=zed", &m), Err(ChoicesSyntaxError::UnknownOption { known, .. }) if known == "alice, bob, carol")
    );
    assert!(matches!(
        parse("{not json", &m),
        Err(ChoicesSyntaxError::Json(_))
    ));
}

#[test]
fn voters_csv_reports_every_bad_line_and_registry_round_trips() {
    let m = manifest();
    let rows = parse_csv(
        "voter_id,weight,style\nann,1,resident\n\n# comment\nbob,,non-resident\ncid,3,\n",
        &m,
    )
    .unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.id.as_str(), r.weight, r.style))
            .collect::<Vec<_>>(),
        vec![("ann", 1, 0), ("bob", 1, 1), ("cid", 3, 0)]
    );
    let errs = parse_csv(
        "voter_id,weight\nann,0\nann,1\n,2\nbob,1,extra\ncid,x\n",
        &m,
    )
    .unwrap_err();
    let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 6]);
    assert!(errs[0].message.contains("weight"));
    assert!(parse_csv("name\nann\n", &m).unwrap_err()[0]
        .message
        .contains("voter_id"));
    assert!(parse_csv("", &m).is_err());
    let mut reg = Registry::default();
    let issued = reg.issue(
        "vote.example.org/2026/council",
        &rows,
        &mut rand::rngs::OsRng,
    );
    assert_eq!(issued.len(), 3);
    assert!(reg
        .issue(
            "vote.example.org/2026/council",
            &rows,
            &mut rand::rngs::OsRng
        )
        .is_empty());
    assert_eq!(Registry::parse(&reg.to_text()).unwrap(), reg);
    // The registry holds public keys only.
    let text = issued[0].1.to_text();
    assert!(!reg
        .to_text()
        .contains(text.lines().nth(2).unwrap().trim_start_matches("key ")));
    let back = Credential::parse(&text).unwrap();
    assert_eq!(back.public(), issued[0].1.public());
    assert!(Credential::parse("urna-credential-v1\nelection x\nkey zz\n").is_err());
}
