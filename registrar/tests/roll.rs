//! The registrar's input: the voters CSV, with each bad line named, and the registry and
//! credentials it writes read back exactly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_election::manifest::Manifest;
use urna_registrar::{parse_csv, Registry};
use urna_voter::credential::Credential;

const EXAMPLE: &str = include_str!("../../specs/examples/manifest.toml");

fn manifest() -> Manifest {
    Manifest::from_toml(EXAMPLE).unwrap()
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
