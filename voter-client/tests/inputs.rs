//! The voter's input: the `--choices` syntax, with each bad input naming what is wrong.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_election::manifest::Manifest;
use urna_voter::choices::{parse, ChoicesSyntaxError};

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
    assert_eq!(c.choices.0["mayor"], vec![1, 0, 0]);
    assert_eq!(c.choices.0["council"], vec![1, 1, 0, 0]);
    assert_eq!(c.choices.0["budget"], vec![3, 5, 0]);
    let j = parse(
        r#"{"mayor": {"alice": 1}, "budget": {"park": 3, "bikes": 5}}"#,
        &m,
    )
    .unwrap();
    assert_eq!(j.choices.0["budget"], vec![3, 5, 0]);
    assert_eq!(
        parse("council=", &m).unwrap().choices.0["council"],
        vec![0; 4]
    );
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
