//! A small election end to end, every party a separate `urna` process on loopback: keys made
//! by each role's `init`, the manifest posted by the authority, a key ceremony in which one
//! trustee process is killed and resumed, credentials from a CSV, votes with a Benaloh
//! challenge and a revote, the board killed and restarted between voting and tally, a
//! decryption with one trustee absent, receipts checked before and after, and `urna verify`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::{fails, field, ok, spawn, wait_until, Roles};

const ORIGIN: &str = "e2e.urna.example/2026";
const EXAMPLE: &str = include_str!("../specs/examples/manifest.toml");

fn info(url: &str) -> serde_json::Value {
    let body = ureq::get(&format!("{url}/info"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

#[test]
fn a_small_election_with_separate_processes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();

    let roles = Roles::init(tmp.path(), ORIGIN, 3);
    // A key file is never overwritten, and a wrong passphrase is a clear error.
    assert!(fails(&["trustee", "init", "--key", &d("t1.key")]).contains("exists already"));
    let manifest = roles.manifest(
        ORIGIN,
        "threshold = 2",
        &EXAMPLE[EXAMPLE.find("[[contests]]").unwrap()..],
    );
    let mut board = roles.serve(tmp.path(), ORIGIN, &manifest);
    let url = board.url.clone();

    // Trustee 1 alone posts its commitments and waits; it is killed there, and resumed later.
    let mut t1 = spawn(&[
        "trustee",
        "ceremony",
        "--board",
        &url,
        "--key",
        &d("t1.key"),
    ]);
    wait_until("trustee 1's commitment", || info(&url)["size"] == 2);
    t1.kill().unwrap();
    t1.wait().unwrap();
    let others: Vec<_> = [2, 3]
        .iter()
        .map(|i| {
            spawn(&[
                "trustee",
                "ceremony",
                "--board",
                &url,
                "--key",
                &d(&format!("t{i}.key")),
            ])
        })
        .collect();
    let t1 = spawn(&[
        "trustee",
        "ceremony",
        "--board",
        &url,
        "--key",
        &d("t1.key"),
    ]);
    let mut keys = Vec::new();
    for c in others.into_iter().chain([t1]) {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        keys.push(field(
            &String::from_utf8(out.stdout).unwrap(),
            "joint election key",
        ));
    }
    assert!(keys.iter().all(|k| *k == keys[0]));
    assert_eq!(info(&url)["phase"], "registration");

    // Credentials: a bad CSV posts nothing and names its lines.
    std::fs::write(
        d("bad.csv"),
        "voter_id,weight,style\nann,1,resident\nbob,zero,resident\ncid,1,martian\n",
    )
    .unwrap();
    let size = info(&url)["size"].clone();
    let err = fails(&[
        "registrar",
        "credentials",
        "--voters",
        &d("bad.csv"),
        "--out",
        &d("creds"),
        "--board",
        &url,
        "--key",
        &d("registrar.key"),
    ]);
    // The file itself is checked before the board is reached; the styles then against the
    // board's manifest.
    assert!(err.contains("line 3") && !err.contains("line 4"), "{err}");
    std::fs::write(
        d("bad.csv"),
        "voter_id,weight,style\nann,1,resident\nbob,2,resident\ncid,1,martian\n",
    )
    .unwrap();
    let err = fails(&[
        "registrar",
        "credentials",
        "--voters",
        &d("bad.csv"),
        "--out",
        &d("creds"),
        "--board",
        &url,
        "--key",
        &d("registrar.key"),
    ]);
    assert!(err.contains("line 4") && err.contains("martian"), "{err}");
    assert_eq!(info(&url)["size"], size);
    std::fs::write(d("voters.csv"), "voter_id,weight,style\nann,1,resident\nbob,2,resident\ncid,1,non-resident\ndee,3,resident\n").unwrap();
    let creds = [
        "registrar",
        "credentials",
        "--voters",
        &d("voters.csv"),
        "--out",
        &d("creds"),
        "--board",
        &url,
        "--key",
        &d("registrar.key"),
    ];
    assert!(ok(&creds).contains("4 credential(s) issued"));
    // Re-running issues nothing new and posts nothing.
    assert!(ok(&creds).contains("0 credential(s) issued into"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d("creds/ann.credential"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let cred = |v: &str| d(&format!("creds/{v}.credential"));
    let rcpt = |v: &str| d(&format!("{v}.receipt"));
    let vote = |v: &str, choices: &str, receipt: &str| {
        ok(&[
            "vote",
            "--board",
            &url,
            "--credential",
            &cred(v),
            "--choices",
            choices,
            "--receipt",
            receipt,
        ])
    };
    // A vote that must be refused; returns what the voter was told.
    let refused = |v: &str, choices: &str| {
        fails(&[
            "vote",
            "--board",
            &url,
            "--credential",
            &cred(v),
            "--choices",
            choices,
        ])
    };

    assert!(refused("ann", "mayor=alice").contains("not open yet"));
    ok(&[
        "authority",
        "open",
        "--board",
        &url,
        "--key",
        &d("authority.key"),
    ]);
    std::fs::write(
        d("early.cp"),
        ureq::get(&format!("{url}/checkpoint"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();

    let all = "mayor=alice;council=dan,eve;budget=park:3,bikes:5;measure-a=yes";
    // Ann audits her client first: the challenged ballot is published and never counted.
    assert!(ok(&[
        "vote",
        "--board",
        &url,
        "--credential",
        &cred("ann"),
        "--choices",
        all,
        "--challenge"
    ])
    .contains("challenged"));
    vote("ann", all, &rcpt("ann"));
    vote(
        "bob",
        "mayor=bob;council=fay;budget=library:5;measure-a=no",
        &rcpt("bob-first"),
    );
    let out = vote(
        "bob",
        "mayor=carol;council=;budget=park:1;measure-a=blank",
        &rcpt("bob"),
    );
    assert!(out.contains("replaces your earlier ballot"), "{out}");
    vote("cid", "budget=bikes:4,park:4;measure-a=yes", &rcpt("cid"));
    // Bad choices are refused before anything is encrypted.
    assert!(refused("dee", "mayor=alice,bob").contains("mayor"));
    assert!(refused("dee", "mayor=zed").contains("no option `zed`"));
    assert!(refused("cid", "mayor=alice").contains("not on this voter's ballot"));
    // Dee votes on a terminal: the contests are asked one by one, the choices summed up, then
    // cast or challenge.
    let interactive = format!(
        "{} vote --board {url} --credential {} --receipt {}",
        support::URNA,
        cred("dee"),
        rcpt("dee")
    );
    match support::on_a_terminal(&interactive, "alice\ngus\npark:2\nno\nok\ncast\n") {
        Some(out) => assert!(
            out.contains("tracking code") && out.contains("cast: entry"),
            "{out}"
        ),
        None => {
            vote(
                "dee",
                "mayor=alice;council=gus;budget=park:2;measure-a=no",
                &rcpt("dee"),
            );
        }
    }

    assert!(
        ok(&["receipt", "check", &rcpt("bob-first"), "--board", &url])
            .contains("superseded by a later ballot")
    );
    assert!(ok(&["receipt", "check", &rcpt("ann"), "--board", &url])
        .contains("the ballot counted for your credential"));
    assert!(ok(&["receipt", "check", &rcpt("ann")]).contains("offline"));
    // The check reads the ballot's credential's entries, not the log; `--full` replays the log
    // and says the same.
    assert!(ok(&[
        "receipt",
        "check",
        &rcpt("bob-first"),
        "--board",
        &url,
        "--full"
    ])
    .contains("superseded by a later ballot"));
    // A forged receipt: Bob's ballot under the proof of Ann's. Refused (exit 1), offline and
    // against the board.
    let entry_of = |who: &str| {
        let text = std::fs::read_to_string(rcpt(who)).unwrap();
        let line = |p: &str| text.lines().find(|l| l.starts_with(p)).unwrap().to_string();
        (text.clone(), line("entry "), line("tracking "))
    };
    let (ann_text, ann_entry, ann_tracking) = entry_of("ann");
    let (_, bob_entry, bob_tracking) = entry_of("bob");
    std::fs::write(
        d("forged.receipt"),
        ann_text
            .replace(&ann_entry, &bob_entry)
            .replace(&ann_tracking, &bob_tracking),
    )
    .unwrap();
    fails(&["receipt", "check", &d("forged.receipt")]);
    fails(&["receipt", "check", &d("forged.receipt"), "--board", &url]);
    let status = ok(&["authority", "status", "--board", &url]);
    assert!(
        status.contains("ballots cast 5 (counted 4, superseded 1, challenged 1)"),
        "{status}"
    );

    // The board is killed between voting and the tally; it recovers from its log.
    board.kill();
    board.restart();

    ok(&[
        "authority",
        "close",
        "--board",
        &url,
        "--key",
        &d("authority.key"),
    ]);
    assert!(refused("dee", "mayor=bob").contains("closed"));
    // Trustee 2 is absent; 1 and 3 suffice.
    assert!(ok(&["trustee", "decrypt", "--board", &url, "--key", &d("t1.key")]).contains("posted"));
    // Nothing done is a "no" (exit 1), said as such.
    assert!(
        fails(&["trustee", "decrypt", "--board", &url, "--key", &d("t1.key")])
            .contains("already on the ledger")
    );
    ok(&["trustee", "decrypt", "--board", &url, "--key", &d("t3.key")]);
    let table = ok(&["tally", "--board", &url]);
    // Weighted: ann 1 (alice), bob 2 (carol), dee 3 (alice).
    assert!(
        table.contains("Alice Martin  4") && table.contains("Carol Diaz    2"),
        "{table}"
    );

    assert!(ok(&["receipt", "check", &rcpt("dee"), "--board", &url]).contains("counted"));
    let report = ok(&[
        "verify",
        "--board",
        &url,
        "--checkpoint",
        &d("early.cp"),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(v["verified"], true);
    // budget: ann park 3 bikes 5; bob park 1 ×2; cid bikes 4 park 4; dee park 2 ×3.
    assert_eq!(
        v["result"]["counts"][2],
        serde_json::json!([3 + 2 + 4 + 6, 5 + 4, 0])
    );
    assert!(ok(&["verify", "--board", &url]).contains("VERIFIED"));
    // An observer handed voters' receipts confirms what became of each ballot, from a record file.
    ok(&[
        "record",
        "export",
        "--board",
        &url,
        "-o",
        &d("election.urna"),
    ]);
    let text = ok(&[
        "verify",
        &d("election.urna"),
        "--board-key",
        &roles.board_pub,
        "--voter-receipt",
        &rcpt("bob-first"),
        "--voter-receipt",
        &rcpt("dee"),
    ]);
    assert!(
        text.contains("superseded by the same credential's ballot") && text.contains("is counted"),
        "{text}"
    );
}
