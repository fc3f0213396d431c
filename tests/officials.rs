//! What election officials and voters are told, each role a separate `urna` process: every
//! message that must not mislead (already done, the wrong phase and what to run next, missing
//! trustees, a mistyped board address, a wrong passphrase) with its exit code; results with
//! turnout, shares and winners, aligned by display width, as JSON and CSV; `--help` and
//! `--json`; credential letters; the interactive vote re-asking a bad answer on a terminal;
//! and the polls opened and closed at the manifest's times.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::{Command, Stdio};

use support::{ok, Roles};
use unicode_width::UnicodeWidthStr;

/// Runs `urna` with the test passphrase; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    run_with(args, "test passphrase")
}

fn run_with(args: &[&str], passphrase: &str) -> (i32, String, String) {
    let out = Command::new(support::URNA)
        .args(args)
        .env("URNA_PASSPHRASE", passphrase)
        .env("URNA_KDF_COST", "test")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `urna`, asserting the exit code and that the error is said once; returns stderr.
fn refused(code: i32, args: &[&str]) -> String {
    let (got, stdout, stderr) = run(args);
    assert_eq!(got, code, "urna {}:\n{stdout}{stderr}", args.join(" "));
    assert_eq!(stderr.matches("error:").count(), 1, "said once: {stderr}");
    assert!(!stderr.contains("Caused by"), "{stderr}");
    stderr
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

const CONTESTS: &str = r#"
[[contests]]
id = "chair"
title = "主席 Chair"
kind = "plurality"
exactly = true
options = [
  { id = "li", name = "李明" },
  { id = "zhang", name = "Zhang Wei" },
]

[[contests]]
id = "council"
title = "Council (up to 2)"
kind = "approval"
min = 0
max = 2
options = [
  { id = "dan", name = "Dan" },
  { id = "eve", name = "Eve" },
  { id = "fay", name = "Fay" },
]

[[contests]]
id = "budget"
title = "Budget (4 points)"
kind = "score"
max = 3
budget = 4
options = [
  { id = "park", name = "Park" },
  { id = "bikes", name = "Bikes" },
]

[[contests]]
id = "charter"
title = "Charter"
kind = "referendum"
blank = true

[[ballot_styles]]
id = "all"
contests = ["chair", "council", "budget", "charter"]
"#;

#[test]
fn officials_and_voters_are_told_what_is_so_and_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let origin = "officials.urna.example/2026";
    let roles = Roles::init(tmp.path(), origin, 3);
    let manifest = roles.manifest(origin, "threshold = 2", CONTESTS);
    let board = roles.serve(tmp.path(), origin, &manifest);
    let url = board.url.clone();
    let port = url.rsplit(':').next().unwrap().to_string();

    // A board address without its scheme, or the booth's address: usage errors (exit 2).
    let e = refused(
        2,
        &[
            "authority",
            "status",
            "--board",
            &format!("127.0.0.1:{port}"),
        ],
    );
    assert!(e.contains("add http://"), "{e}");
    let e = refused(
        2,
        &["authority", "status", "--board", &format!("{url}/booth/")],
    );
    assert!(
        e.contains(&format!("this is the booth's address; the board is {url}")),
        "{e}"
    );

    // Setup again: already set up (exit 1), even with the very same manifest.
    let e = refused(
        1,
        &[
            "authority",
            "setup",
            "--manifest",
            &d("manifest.toml"),
            "--board",
            &url,
            "--key",
            &d("authority.key"),
        ],
    );
    assert!(e.contains("already set up"), "{e}");

    // Opening before the key ceremony is complete says what is missing; decrypting says when.
    let e = refused(
        1,
        &[
            "authority",
            "open",
            "--board",
            &url,
            "--key",
            &d("authority.key"),
        ],
    );
    assert!(e.contains("key ceremony is not complete"), "{e}");
    let e = refused(
        1,
        &["trustee", "decrypt", "--board", &url, "--key", &d("t1.key")],
    );
    assert!(e.contains("the polls have not opened yet"), "{e}");

    // A wrong passphrase is said once, naming the file (exit 1).
    let (code, _, e) = run_with(
        &[
            "authority",
            "open",
            "--board",
            &url,
            "--key",
            &d("authority.key"),
        ],
        "not the passphrase",
    );
    assert_eq!(code, 1, "{e}");
    assert_eq!(e.matches("wrong passphrase").count(), 1, "{e}");
    assert!(e.contains("authority.key"), "{e}");

    support::ceremony(tmp.path(), &url, 3);

    // The voters CSV is checked before any board is reached: every bad line numbered (exit 2).
    std::fs::write(
        d("bad.csv"),
        "voter_id,weight\nann,1\nann,2\nbob,-1\n../x,1\n",
    )
    .unwrap();
    let e = refused(
        2,
        &[
            "registrar",
            "credentials",
            "--voters",
            &d("bad.csv"),
            "--out",
            &d("creds"),
            "--board",
            "http://127.0.0.1:9",
            "--key",
            &d("registrar.key"),
        ],
    );
    assert!(
        e.contains("line 3")
            && e.contains("line 4")
            && e.contains("line 5")
            && !e.contains("line 2"),
        "{e}"
    );
    assert!(!e.contains("unreachable"), "{e}");

    // Credentials with their letters.
    std::fs::write(d("voters.csv"), "voter_id,weight\nann,1\nbob,2\ncid,1\n").unwrap();
    let out = json(&ok(&[
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
        "--letters",
        &d("letters"),
        "--public-url",
        "https://vote.example.org",
        "--json",
    ]));
    assert_eq!(out["issued"], 3);
    assert_eq!(out["letters"], 3);
    for v in ["ann", "bob", "cid"] {
        let letter = std::fs::read_to_string(d(&format!("letters/{v}.html"))).unwrap();
        let cred = std::fs::read_to_string(d(&format!("creds/{v}.credential"))).unwrap();
        assert!(
            letter.contains(cred.trim_end()),
            "{v}'s letter holds the credential"
        );
        assert!(letter.contains("<svg") && letter.contains("https://vote.example.org/booth/"));
        assert_eq!(letter.contains("counts 2 times"), v == "bob");
    }
    let again = ok(&[
        "registrar",
        "letters",
        "--credentials",
        &d("creds"),
        "--out",
        &d("letters2"),
        "--board",
        &url,
    ]);
    assert!(again.contains("3 letter(s) written"), "{again}");

    ok(&[
        "authority",
        "open",
        "--board",
        &url,
        "--key",
        &d("authority.key"),
    ]);
    let e = refused(
        1,
        &[
            "authority",
            "open",
            "--board",
            &url,
            "--key",
            &d("authority.key"),
        ],
    );
    assert!(e.contains("already open"), "{e}");
    let e = refused(
        1,
        &["trustee", "decrypt", "--board", &url, "--key", &d("t1.key")],
    );
    assert!(
        e.contains("the polls are still open; run this after `urna authority close`"),
        "{e}"
    );
    let e = refused(1, &["tally", "--board", &url]);
    assert!(e.contains("the polls are still open"), "{e}");
    let e = refused(
        1,
        &[
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
        ],
    );
    assert!(e.contains("the roll is closed"), "{e}");

    // Bad choices: said once, by contest, a usage error.
    let cred = |v: &str| d(&format!("creds/{v}.credential"));
    let e = refused(
        2,
        &[
            "vote",
            "--board",
            &url,
            "--credential",
            &cred("ann"),
            "--choices",
            "chair=li;council=dan,eve,fay",
        ],
    );
    assert!(
        e.contains("contest `council`") && e.contains("3 chosen; choose at most 2"),
        "{e}"
    );
    let e = refused(
        2,
        &[
            "vote",
            "--board",
            &url,
            "--credential",
            &cred("ann"),
            "--choices",
            "chair=li;budget=park:3,bikes:3",
        ],
    );
    assert!(e.contains("6 points in all; at most 4 may be given"), "{e}");

    // --json: one tracking-code format, in vote and receipt check alike.
    let v = json(&ok(&[
        "vote",
        "--board",
        &url,
        "--credential",
        &cred("ann"),
        "--choices",
        "chair=li;council=dan;budget=park:3;charter=yes",
        "--receipt",
        &d("ann.receipt"),
        "--json",
    ]));
    let code = v["tracking_code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 52 + 12);
    assert!(code.split('-').all(|g| g.len() == 4), "{code}");
    let check = json(&ok(&[
        "receipt",
        "check",
        &d("ann.receipt"),
        "--board",
        &url,
        "--json",
    ]));
    assert_eq!(check["tracking_code"], code.as_str());
    assert_eq!(check["standing"], "counted");
    assert!(ok(&["receipt", "check", &d("ann.receipt")]).contains(&code));

    // On a terminal: a bad answer is asked again at once, the choices summed up and changeable,
    // and after a challenge kept for the fresh encryption. Bob's weight (2) is said.
    let interactive = format!(
        "{} vote --board {url} --credential {} --receipt {}",
        support::URNA,
        cred("bob"),
        d("bob.receipt")
    );
    let answers = "zhang\ndan,eve,fay\ndan,eve\npark:3,bikes:3\nbikes:2\nno\nchange 1\nli\nok\nchallenge\nok\ncast\n";
    if let Some(screen) = support::on_a_terminal(&interactive, answers) {
        for said in [
            "counts 2 times",
            "3 chosen; choose at most 2. Please answer again.",
            "6 points in all; at most 4 may be given. Please answer again.",
            "1. 主席 Chair: 李明",
            "2. Council (up to 2): Dan, Eve",
            "3. Budget (4 points): Bikes: 2",
            "challenged:",
            "your choices are kept",
            "cast: entry",
        ] {
            assert!(screen.contains(said), "{said:?} not shown:\n{screen}");
        }
        assert_eq!(screen.matches("1. 主席 Chair: 李明").count(), 2, "{screen}");
        assert!(!screen.contains("Error"), "{screen}");
    } else {
        ok(&[
            "vote",
            "--board",
            &url,
            "--credential",
            &cred("bob"),
            "--choices",
            "chair=li;council=dan,eve;budget=bikes:2;charter=no",
            "--receipt",
            &d("bob.receipt"),
        ]);
    }

    ok(&[
        "authority",
        "close",
        "--board",
        &url,
        "--key",
        &d("authority.key"),
    ]);
    let e = refused(
        1,
        &[
            "authority",
            "close",
            "--board",
            &url,
            "--key",
            &d("authority.key"),
        ],
    );
    assert!(e.contains("already closed"), "{e}");
    let e = refused(
        1,
        &[
            "vote",
            "--board",
            &url,
            "--credential",
            &cred("cid"),
            "--choices",
            "chair=li",
        ],
    );
    assert!(e.contains("the polls have closed"), "{e}");

    // Too few shares: who has posted and who could.
    ok(&["trustee", "decrypt", "--board", &url, "--key", &d("t1.key")]);
    let e = refused(1, &["tally", "--board", &url]);
    assert!(
        e.contains("1 of the 2 decryption shares needed")
            && e.contains("trustee 1 (T1)")
            && e.contains("trustee 2 (T2), trustee 3 (T3)"),
        "{e}"
    );
    let status = json(&ok(&["authority", "status", "--board", &url, "--json"]));
    assert_eq!(status["phase"], "tallying");
    assert_eq!(status["decryption_shares"], 1);
    ok(&["trustee", "decrypt", "--board", &url, "--key", &d("t3.key")]);

    // The result: turnout, weighted counts, shares, winners; Chinese names aligned.
    let table = ok(&["tally", "--board", &url]);
    assert!(table.contains("turnout: 2 of 3 credentials"), "{table}");
    assert!(table.contains("counts are weighted"), "{table}");
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| l.contains('%') && (l.contains("李明") || l.contains("Zhang Wei")))
        .collect();
    assert_eq!(rows.len(), 2, "{table}");
    let count_end = |l: &str| l[..l.find('%').unwrap()].width();
    assert_eq!(
        count_end(rows[0]),
        count_end(rows[1]),
        "aligned by display width:\n{table}"
    );
    assert!(
        rows[0].contains("李明") && rows[0].contains(" 3 ") && rows[0].ends_with('✓'),
        "{table}"
    );
    assert!(table.contains("winner: 李明"), "{table}");
    // Printed again without posting, as JSON and CSV.
    let again = ok(&["tally", "--board", &url]);
    assert!(again.contains("on the ledger already"), "{again}");
    let r = json(&ok(&["tally", "--board", &url, "--json"]));
    assert_eq!(r["posted"], false);
    assert_eq!(r["turnout"]["counted"], 2);
    assert_eq!(r["turnout"]["roll"], 3);
    assert_eq!(r["weighted"], true);
    assert_eq!(r["contests"][0]["winners"][0], "li");
    assert_eq!(r["contests"][0]["options"][0]["count"], 3);
    assert_eq!(r["contests"][0]["options"][0]["percent"], 100.0);
    assert_eq!(
        r["contests"][3]["outcome"],
        "not adopted (more no than yes)"
    );
    let csv = ok(&["tally", "--board", &url, "--csv"]);
    assert!(
        csv.starts_with("contest,contest_title,option,option_name,count,percent,winner,round\n")
    );
    assert!(
        csv.contains("chair,主席 Chair,li,李明,3,100.0,true,\n"),
        "{csv}"
    );
    let e = refused(
        1,
        &["trustee", "decrypt", "--board", &url, "--key", &d("t2.key")],
    );
    assert!(e.contains("the result is already on the ledger"), "{e}");
}

#[test]
fn every_command_has_help_and_the_init_commands_print_json() {
    let top = ok(&["--help"]);
    assert!(
        top.contains("Exit status: 0") && top.contains("2 error"),
        "{top}"
    );
    for path in [
        &["vote"][..],
        &["tally"],
        &["receipt", "check"],
        &["authority", "schedule"],
        &["registrar", "letters"],
        &["board", "serve"],
    ] {
        let mut args = path.to_vec();
        args.push("--help");
        let help = ok(&args);
        assert!(help.contains("Options:"), "{help}");
    }
    let vote = ok(&["vote", "--help"]);
    assert!(
        vote.contains("--board <URL>") && vote.contains("The board's address"),
        "{vote}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let a = json(&ok(&["authority", "init", "--key", &d("a.key"), "--json"]));
    assert_eq!(a["authority"].as_str().unwrap().len(), 64);
    let t = json(&ok(&["trustee", "init", "--key", &d("t.key"), "--json"]));
    assert_eq!(t["ceremony_key"].as_str().unwrap().len(), 64);
    let w = json(&ok(&[
        "witness",
        "init",
        "--key",
        &d("w.key"),
        "--name",
        "w.example",
        "--json",
    ]));
    assert_eq!(w["name"], "w.example");
    let r = json(&ok(&["registrar", "init", "--key", &d("r.key"), "--json"]));
    assert_eq!(r["registrar"].as_str().unwrap().len(), 64);
}

#[test]
fn board_serve_takes_the_origin_board_init_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let b = json(&ok(&[
        "board",
        "init",
        "--key",
        &d("board.key"),
        "--origin",
        "stored.example/1",
        "--json",
    ]));
    assert!(b["verifier_key"]
        .as_str()
        .unwrap()
        .starts_with("stored.example/1+"));
    // A contradicting --origin is refused before anything is served.
    let e = refused(
        2,
        &[
            "board",
            "serve",
            "--key",
            &d("board.key"),
            "--origin",
            "other.example/1",
            "--data",
            &d("data"),
        ],
    );
    assert!(e.contains("stored.example/1"), "{e}");
    // Without --origin, the stored one.
    let port = support::free_port();
    let mut child = Command::new(support::URNA)
        .args([
            "board",
            "serve",
            "--key",
            &d("board.key"),
            "--data",
            &d("data"),
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .env("URNA_PASSPHRASE", "test passphrase")
        .env("URNA_KDF_COST", "test")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    support::wait_until("the board", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let status = json(&ok(&["authority", "status", "--board", &url, "--json"]));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status["election_id"], "stored.example/1");
    // A key made without an origin needs --origin.
    ok(&["board", "init", "--key", &d("bare.key")]);
    let e = refused(
        2,
        &[
            "board",
            "serve",
            "--key",
            &d("bare.key"),
            "--data",
            &d("data2"),
        ],
    );
    assert!(e.contains("no origin"), "{e}");
}

/// RFC 3339 (UTC) of a Unix time.
fn rfc3339(t: u64) -> String {
    let (days, secs) = ((t / 86_400) as i64, t % 86_400);
    // Civil from days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn schedule_opens_and_closes_the_polls_at_the_manifest_times() {
    assert_eq!(rfc3339(1_796_112_000), "2026-12-01T08:00:00Z");
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let origin = "schedule.urna.example/2026";
    let roles = Roles::init(tmp.path(), origin, 1);
    let (opens, closes) = (now() + 3, now() + 8);
    let head = format!(
        "threshold = 1\nopens = \"{}\"\ncloses = \"{}\"",
        rfc3339(opens),
        rfc3339(closes)
    );
    let board = roles.serve(tmp.path(), origin, &roles.manifest(origin, &head, CONTESTS));
    let url = board.url.clone();
    // Started before the key ceremony and the roll: it waits for both, then for the times.
    let schedule = support::spawn(&[
        "authority",
        "schedule",
        "--board",
        &url,
        "--key",
        &d("authority.key"),
    ]);
    support::ceremony(tmp.path(), &url, 1);
    std::fs::write(d("voters.csv"), "voter_id\nann\n").unwrap();
    ok(&[
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
    ]);
    let out = schedule.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("polls open (entry") && said.contains("polls closed (entry"),
        "{said}"
    );
    assert!(
        said.contains(&format!("waiting until {}", rfc3339(closes))),
        "{said}"
    );
    // The polls were closed no earlier than the manifest says (by this machine's clock).
    assert!(now() >= closes);
    let status = json(&ok(&["authority", "status", "--board", &url, "--json"]));
    assert_eq!(status["phase"], "tallying");
    assert_eq!(status["voters_on_roll"], 1);
    // Resumable: a re-run reads the phase, and there is nothing left to do.
    let e = refused(
        1,
        &[
            "authority",
            "schedule",
            "--board",
            &url,
            "--key",
            &d("authority.key"),
        ],
    );
    assert!(e.contains("already closed"), "{e}");
}
