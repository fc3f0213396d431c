//! `encrypt_ballot` validates the voter's choices before any cryptography, with a precise error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::kit::{Config, Kit};

use urna_election::ballot::{encrypt_ballot, ChoiceError, Choices};
use urna_election::state::Election;

fn kit_and_context() -> (Kit, urna_election::context::ElectionContext) {
    let mut kit = Kit::new(21, Config::default());
    let mut e = Election::new();
    e.apply(&kit.setup()).unwrap();
    for x in kit.ceremony() {
        e.apply(&x).unwrap();
    }
    let ctx = e.context().unwrap().clone();
    (kit, ctx)
}

fn attempt(
    kit: &mut Kit,
    ctx: &urna_election::context::ElectionContext,
    style: &str,
    set: &[(&str, Vec<u16>)],
) -> Result<(), ChoiceError> {
    let mut c = Choices::default();
    for (id, v) in set {
        c.0.insert(id.to_string(), v.clone());
    }
    let cred = kit.voters[0].key.verifying_key();
    encrypt_ballot(&kit.manifest, style, &c, &cred, ctx, &mut kit.rng).map(drop)
}

#[test]
fn every_choice_error() {
    let (mut kit, ctx) = kit_and_context();
    let mut c = Choices::default();
    assert!(matches!(
        c.select(&kit.manifest, "mayor", &["zed"]),
        Err(ChoiceError::UnknownOption { .. })
    ));
    assert!(matches!(
        c.select(&kit.manifest, "nope", &["alice"]),
        Err(ChoiceError::UnknownContest(_))
    ));
    type Case = (
        &'static str,
        Vec<(&'static str, Vec<u16>)>,
        fn(&ChoiceError) -> bool,
    );
    let cases: Vec<Case> = vec![
        ("visitor", vec![], |e| {
            matches!(e, ChoiceError::UnknownStyle(_))
        }),
        ("resident", vec![("nope", vec![1])], |e| {
            matches!(e, ChoiceError::UnknownContest(_))
        }),
        ("non-resident", vec![("mayor", vec![1, 0, 0])], |e| {
            matches!(e, ChoiceError::ContestNotInStyle(_))
        }),
        ("resident", vec![("mayor", vec![1, 0])], |e| {
            matches!(e, ChoiceError::WrongOptionCount { .. })
        }),
        ("resident", vec![("mayor", vec![1, 1, 0])], |e| {
            matches!(e, ChoiceError::OverLimit { .. })
        }),
        ("resident", vec![("mayor", vec![0, 0, 0])], |e| {
            matches!(e, ChoiceError::UnderLimit { .. })
        }),
        ("resident", vec![("mayor", vec![2, 0, 0])], |e| {
            matches!(e, ChoiceError::AboveMax { .. })
        }),
        (
            "non-resident",
            vec![("budget", vec![6, 0, 0]), ("measure-a", vec![1, 0, 0])],
            |e| matches!(e, ChoiceError::AboveMax { .. }),
        ),
        (
            "non-resident",
            vec![("budget", vec![5, 4, 0]), ("measure-a", vec![1, 0, 0])],
            |e| matches!(e, ChoiceError::OverLimit { .. }),
        ),
    ];
    for (style, set, expected) in cases {
        let err = attempt(&mut kit, &ctx, style, &set).unwrap_err();
        assert!(expected(&err), "{style} {set:?}: {err}");
    }
    attempt(
        &mut kit,
        &ctx,
        "non-resident",
        &[("budget", vec![5, 3, 0]), ("measure-a", vec![0, 0, 1])],
    )
    .unwrap();
}
