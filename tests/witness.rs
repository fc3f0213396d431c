//! Witnesses on loopback, every party a separate `urna` process: three witnesses with a policy
//! of 2 of 3 cosign the board's checkpoints; a witness killed with SIGKILL keeps its state; one
//! witness down does not stop the election; receipts are upgraded to cosigned checkpoints; and
//! a second board with the same key serving a different history (a fork) is refused by the
//! witnesses, which keep the evidence, and caught by `urna verify` and `urna receipt check`.
//! A board that shows clients a stale cosigned checkpoint (through a rewriting proxy) is caught
//! as withholding, because clients ask the witnesses themselves; a ballot the witnesses never
//! confirmed is a warning while voting is open and a failure (exit status 3) after the close.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Child;

use support::{
    ceremony, fails, free_port, ok, register_and_open, spawn, urna, wait_until, Board, Roles,
    StaleProxy,
};

const ORIGIN: &str = "witnessed.urna.example/2026";
const EXAMPLE: &str = include_str!("../specs/examples/manifest.toml");

fn get(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    match agent.get(url).call() {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(_) => (0, String::new()),
    }
}

fn size(url: &str, path: &str) -> Option<u64> {
    let (status, body) = get(&format!("{url}{path}"));
    (status == 200)
        .then(|| body.lines().nth(1).and_then(|l| l.parse().ok()))
        .flatten()
}

struct WitnessProc {
    args: Vec<String>,
    url: String,
    child: Option<Child>,
}

impl WitnessProc {
    fn start(&mut self) {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let mut child = spawn(&args);
        let url = self.url.clone();
        wait_until("a witness to listen", || {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                panic!("the witness exited ({status}): {err}");
            }
            get(&format!("{url}/state")).0 == 200
        });
        self.child = Some(child);
    }
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    fn cosigned_size(&self) -> u64 {
        let v: serde_json::Value =
            serde_json::from_str(&get(&format!("{}/state", self.url)).1).unwrap();
        v["logs"][ORIGIN]["size"].as_u64().unwrap_or(0)
    }
}

impl Drop for WitnessProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Three witnesses (quorum 2), the board, the key ceremony, and an open poll for ann, bob and
/// cid.
fn witnessed_election(dir: &std::path::Path) -> (Vec<WitnessProc>, Board) {
    let d = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let roles = Roles::init(dir, ORIGIN, 2);
    let vkey = roles.vkey.clone();
    let mut witnesses = Vec::new();
    let mut manifest_witnesses = String::new();
    for i in 1..=3 {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let name = format!("w{i}.witness.example");
        let out = ok(&[
            "witness",
            "init",
            "--key",
            &d(&format!("w{i}.key")),
            "--name",
            &name,
            "--url",
            &url,
        ]);
        manifest_witnesses.push_str(&out[out.find("[[witnesses]]").unwrap()..]);
        manifest_witnesses.push('\n');
        let args = vec![
            "witness".into(),
            "serve".into(),
            "--key".into(),
            d(&format!("w{i}.key")),
            "--name".into(),
            name,
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--data".into(),
            d(&format!("w{i}-data")),
            "--log".into(),
            format!("{ORIGIN}={vkey}"),
        ];
        let mut w = WitnessProc {
            args,
            url,
            child: None,
        };
        w.start();
        witnesses.push(w);
    }
    let manifest = roles.manifest(
        ORIGIN,
        "threshold = 2\nwitness_quorum = 2",
        &format!(
            "{manifest_witnesses}\n{}",
            &EXAMPLE[EXAMPLE.find("[[contests]]").unwrap()..]
        ),
    );
    let board = roles.serve(dir, ORIGIN, &manifest);
    ceremony(dir, &board.url, 2);
    register_and_open(
        dir,
        &board.url,
        "voter_id,weight,style\nann,1,resident\nbob,1,resident\ncid,1,resident\n",
    );
    (witnesses, board)
}

#[test]
fn witnesses_cosign_survive_crashes_and_catch_a_fork() {
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let (mut witnesses, board) = witnessed_election(tmp.path());
    let url = board.url.clone();
    let vote = |v: &str, c: &str| {
        ok(&[
            "vote",
            "--board",
            &url,
            "--credential",
            &d(&format!("creds/{v}.credential")),
            "--choices",
            c,
            "--receipt",
            &d(&format!("{v}.receipt")),
        ])
    };
    let out = vote("ann", "mayor=alice;measure-a=yes");
    assert!(out.contains("witnesses confirm new ballots"), "{out}");
    let latest = || size(&url, "/checkpoint").unwrap();
    wait_until("the quorum to cosign the latest checkpoint", || {
        size(&url, "/checkpoint/cosigned") == Some(latest())
    });
    let before = std::fs::read(d("ann.receipt")).unwrap();
    let check = ok(&["receipt", "check", &d("ann.receipt"), "--board", &url]);
    assert!(
        check.contains("upgraded") && check.contains("cosigned by"),
        "{check}"
    );
    // The voter's receipt is their evidence: the upgrade is a new file beside it.
    assert_eq!(std::fs::read(d("ann.receipt")).unwrap(), before);
    assert!(check.contains(&d("ann.receipt.cosigned")), "{check}");
    assert!(ok(&[
        "receipt",
        "check",
        &d("ann.receipt.cosigned"),
        "--board",
        &url
    ])
    .contains("is under a checkpoint cosigned by"));

    // A witness killed with SIGKILL comes back with the state it had persisted.
    wait_until("witness 1 to cosign", || {
        witnesses[0].cosigned_size() == latest()
    });
    let before = witnesses[0].cosigned_size();
    witnesses[0].kill();
    witnesses[0].start();
    assert_eq!(witnesses[0].cosigned_size(), before);

    // One witness down: the election goes on and the other two still make the quorum.
    witnesses[1].kill();
    vote("bob", "mayor=bob;measure-a=no");
    wait_until("the quorum without witness 2", || {
        size(&url, "/checkpoint/cosigned") == Some(latest())
    });
    let report = ok(&["verify", "--board", &url]);
    assert!(
        report.contains("✓ checkpoint cosigned by the witness quorum"),
        "{report}"
    );
    witnesses[1].start();

    // A fork: the same board key serves a second history (two commitments swapped).
    let fork_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        tmp.path().join("board.key"),
        fork_dir.path().join("board.key"),
    )
    .unwrap();
    let fork =
        Board::start_with_key_file(fork_dir.path(), &fork_dir.path().join("board.key"), ORIGIN);
    let n = latest();
    let entry = |i: u64| {
        let mut r = ureq::get(&format!("{url}/entries/{i}")).call().unwrap();
        r.body_mut().read_to_vec().unwrap()
    };
    let mut order: Vec<u64> = (0..n).collect();
    order.swap(1, 2);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for i in order {
        let mut r = agent
            .post(&format!("{}/entries", fork.url))
            .send(&entry(i)[..])
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "{}",
            r.body_mut().read_to_string().unwrap()
        );
    }
    assert_eq!(size(&fork.url, "/checkpoint"), Some(n));
    wait_until("a witness to record the fork", || {
        get(&format!("{}/evidence", witnesses[0].url)).1.len() > 10
    });
    let evidence: serde_json::Value =
        serde_json::from_str(&get(&format!("{}/evidence", witnesses[0].url)).1).unwrap();
    assert!(evidence[0]["received"]
        .as_str()
        .unwrap()
        .starts_with(ORIGIN));
    assert_eq!(
        size(&fork.url, "/checkpoint/cosigned"),
        None,
        "the fork must not reach the quorum"
    );
    let err = fails(&["verify", "--board", &fork.url]);
    assert!(
        err.starts_with("NOT VERIFIED")
            && err.contains("✗ the board's log agrees with what the witnesses cosigned")
            && err.contains("forked its log"),
        "{err}"
    );
    let err = fails(&["receipt", "check", &d("ann.receipt"), "--board", &fork.url]);
    assert!(
        err.contains("not an extension") || err.contains("forked") || err.contains("consistency"),
        "{err}"
    );
    // The honest board is still cosigned and verifies.
    assert!(ok(&["verify", "--board", &url]).contains("VERIFIED"));
}

/// Runs `urna`, returning its exit status and what it printed.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = urna(args);
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn a_stale_cosigned_view_is_withholding_and_an_unconfirmed_ballot_fails_after_the_close() {
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let (mut witnesses, board) = witnessed_election(tmp.path());
    let url = board.url.clone();
    let latest = || size(&url, "/checkpoint").unwrap();
    let all_cosigned = || {
        wait_until("the quorum to cosign the latest checkpoint", || {
            size(&url, "/checkpoint/cosigned") == Some(latest())
        })
    };
    all_cosigned();
    // What the witnesses cosigned before any ballot: the hostile board's stale view.
    let stale = get(&format!("{url}/checkpoint/cosigned")).1;
    let vote = |v: &str, c: &str| {
        ok(&[
            "vote",
            "--board",
            &url,
            "--credential",
            &d(&format!("creds/{v}.credential")),
            "--choices",
            c,
            "--receipt",
            &d(&format!("{v}.receipt")),
        ])
    };
    vote("ann", "mayor=alice;measure-a=yes");
    wait_until("every witness to cosign ann's ballot", || {
        witnesses.iter().all(|w| w.cosigned_size() == latest())
    });
    all_cosigned();

    // The honest board: counted, decided on what the witnesses cosigned.
    let (status, out) = run(&["receipt", "check", &d("ann.receipt"), "--board", &url]);
    assert_eq!(status, Some(0), "{out}");
    assert!(
        out.contains("the ballot counted for your credential")
            && out.contains("vouch for")
            && out.contains("voting is still open"),
        "{out}"
    );
    let (status, out) = run(&["verify", "--board", &url]);
    assert_eq!(status, Some(0), "{out}");
    assert!(
        out.starts_with(&format!(
            "VERIFIED: the log's first {} entries, under a checkpoint cosigned by",
            latest()
        )) && out.contains("the Result is not included (phase voting)")
            && out.contains("✓ the board shows the newest checkpoint the witnesses cosigned"),
        "{out}"
    );

    // Through the hostile front, the stale view is caught by asking the witnesses.
    let proxy = StaleProxy::start(&url, &stale);
    let (status, out) = run(&["receipt", "check", &d("ann.receipt"), "--board", &proxy.url]);
    assert_eq!(status, Some(1), "{out}");
    assert!(
        out.contains("the board is withholding")
            && out.contains(&format!("up to {} entries", latest())),
        "{out}"
    );
    let (status, out) = run(&["verify", "--board", &proxy.url]);
    assert_eq!(status, Some(1), "{out}");
    assert!(
        out.starts_with("NOT VERIFIED")
            && out.contains("failure: the board shows the newest checkpoint the witnesses cosigned: the board is withholding")
            && out.contains("lags the witnesses"),
        "{out}"
    );
    let (status, out) = run(&["verify", "--board", &proxy.url, "--json"]);
    assert_eq!(status, Some(1), "{out}");
    let report: serde_json::Value = serde_json::from_str(&out[..out.rfind('}').unwrap() + 1])
        .unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(report["failure"]["code"], "witness-freshness");
    assert!(report["failure"]["detail"]
        .as_str()
        .unwrap()
        .contains("withholding"));
    assert_eq!(report["witnesses"]["witnesses_cover"], latest());
    assert!(report["witnesses"]["board_cosigned"].as_u64().unwrap() < latest());

    // The witnesses are down: a new ballot is recorded but unconfirmed. While voting is open
    // that is the normal state of a new ballot, not an alarm.
    for w in witnesses.iter_mut() {
        w.kill();
    }
    vote("bob", "mayor=bob;measure-a=no");
    let (status, out) = run(&["receipt", "check", &d("bob.receipt"), "--board", &url]);
    assert_eq!(status, Some(0), "{out}");
    assert!(
        out.contains("Your ballot is recorded")
            && out.contains("Independent witnesses confirm new ballots")
            && out.contains("could not be asked"),
        "{out}"
    );
    let (status, out) = run(&["verify", "--board", &url]);
    assert_eq!(status, Some(0), "{out}");
    assert!(
        out.contains("are not yet cosigned and were not verified"),
        "{out}"
    );
    // After the close, a ballot the witnesses never confirmed is a failure of its own.
    ok(&[
        "authority",
        "close",
        "--board",
        &url,
        "--key",
        &d("authority.key"),
    ]);
    let (status, out) = run(&["receipt", "check", &d("bob.receipt"), "--board", &url]);
    assert_eq!(status, Some(3), "{out}");
    assert!(out.contains("NOT CONFIRMED: voting has closed"), "{out}");
    let (status, out) = run(&["verify", "--board", &url, "--final"]);
    assert_eq!(status, Some(1), "{out}");
    assert!(out.contains("does not contain the Result"), "{out}");

    // The witnesses come back; the board resubmits its latest checkpoint to them unprompted.
    for w in witnesses.iter_mut() {
        w.start();
    }
    all_cosigned();
    let (status, out) = run(&["receipt", "check", &d("bob.receipt"), "--board", &url]);
    assert_eq!(status, Some(0), "{out}");
    assert!(
        out.contains("the ballot counted for your credential")
            && out.contains("voting has closed, so this is final")
            && out.contains("upgraded"),
        "{out}"
    );
    ok(&["trustee", "decrypt", "--board", &url, "--key", &d("t1.key")]);
    ok(&["trustee", "decrypt", "--board", &url, "--key", &d("t2.key")]);
    ok(&["tally", "--board", &url]);
    all_cosigned();
    let out = ok(&["verify", "--board", &url, "--final"]);
    assert!(
        out.contains("the Result is included")
            && out.contains("✓ the verified log contains the Result (--final)"),
        "{out}"
    );
    // The hostile front still shows the view from before any ballot: still caught.
    let (status, out) = run(&["verify", "--board", &proxy.url, "--final"]);
    assert_eq!(status, Some(1), "{out}");
    assert!(out.contains("withholding"), "{out}");
    let (status, out) = run(&["receipt", "check", &d("bob.receipt"), "--board", &proxy.url]);
    assert_eq!(status, Some(1), "{out}");
    assert!(out.contains("the board is withholding"), "{out}");
    drop(proxy);
}
