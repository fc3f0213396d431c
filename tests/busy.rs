//! A busy board, every party a separate `urna` process: when the board answers a voter's
//! submission 429 (its credential's budget is spent), `urna vote` says so, waits as long as
//! `Retry-After` asks, tries again and casts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::{ceremony, ok, register_and_open, Roles};
use urna_election::entry::{Entry, EntryKind};

const ORIGIN: &str = "busy.urna.example/2026";
const EXAMPLE: &str = include_str!("../specs/examples/manifest.toml");

#[test]
fn urna_vote_retries_a_429() {
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let roles = Roles::init(tmp.path(), ORIGIN, 2);
    let manifest = roles.manifest(
        ORIGIN,
        "threshold = 2",
        &EXAMPLE[EXAMPLE.find("[[contests]]").unwrap()..],
    );
    let mut board = roles.serve(tmp.path(), ORIGIN, &manifest);
    let url = board.url.clone();
    ceremony(tmp.path(), &url, 2);
    register_and_open(tmp.path(), &url, "voter_id,weight,style\nann,1,resident\n");

    // From now on each credential may submit once every 10 s.
    board.kill();
    board.extra = ["--submit-rate", "0.1", "--submit-burst", "1"]
        .map(String::from)
        .to_vec();
    board.restart();
    // Spend ann's budget with two entries she really signed (which the rules then refuse).
    let cred = urna_voter::credential::Credential::parse(
        &std::fs::read_to_string(d("creds/ann.credential")).unwrap(),
    )
    .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for i in 0..2u8 {
        let junk = Entry::sign(ORIGIN, EntryKind::Ballot, &[i], &cred.key).unwrap();
        let r = agent
            .post(&format!("{url}/entries"))
            .send(junk.bytes())
            .unwrap();
        assert_ne!(r.status(), 429);
    }
    let r = agent
        .post(&format!("{url}/entries"))
        .send(
            Entry::sign(ORIGIN, EntryKind::Ballot, &[2], &cred.key)
                .unwrap()
                .bytes(),
        )
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());

    let out = support::urna(&[
        "vote",
        "--board",
        &url,
        "--credential",
        &d("creds/ann.credential"),
        "--choices",
        "mayor=alice;measure-a=yes",
        "--receipt",
        &d("ann.receipt"),
    ]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("the board is busy (429)")
            && text.contains("too many submissions for this credential")
            && text.contains("trying again in"),
        "{text}"
    );
    assert!(text.contains("receipt verified"), "{text}");
    assert!(ok(&["receipt", "check", &d("ann.receipt"), "--board", &url]).contains("counted"));
}
