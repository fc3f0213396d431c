//! The consoles as separate processes over a real board: an election set up, run and tallied
//! through the authority's, the registrar's and three trustees' consoles (what their pages
//! send), the voters voting in between; bad input in every form answered at its field with
//! nothing posted; requests without the token refused; then `urna verify`. Then the same
//! through the pages in headless Chromium (`web/test/e2e/consoles.mjs`), the voters voting in
//! the booth.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use support::{ok, Board, Roles, PASSPHRASE, URNA};

const ORIGIN: &str = "consoles.urna.example/2026";

/// A console process and the address it printed.
pub struct Console {
    pub url: String,
    pub token: String,
    child: Child,
}

impl Console {
    pub fn start(args: &[&str]) -> Console {
        let mut child = Command::new(URNA)
            .args(args)
            .env("URNA_KDF_COST", "test")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let (url, token) = line.trim().split_once("/?token=").expect(&line);
        Console {
            url: url.to_string(),
            token: token.to_string(),
            child,
        }
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        let mut r = Self::agent()
            .get(&format!("{}{path}", self.url))
            .header("X-Urna-Token", &self.token)
            .call()
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    }

    pub fn get_json(&self, path: &str) -> Value {
        let (s, body) = self.get(path);
        assert_eq!(s, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let mut r = Self::agent()
            .post(&format!("{}{path}", self.url))
            .header("X-Urna-Token", &self.token)
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap();
        let text = r.body_mut().read_to_string().unwrap();
        (
            r.status().as_u16(),
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    pub fn ok(&self, path: &str, body: &Value) -> Value {
        let (s, v) = self.post(path, body);
        assert_eq!(s, 200, "POST {path}: {v}");
        v
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pass() -> Value {
    json!({ "passphrase": PASSPHRASE })
}

fn draft(authority: &str, registrar: &str, board: &str, trustees: &[Value]) -> Value {
    json!({
        "election_id": ORIGIN,
        "title": "Console election",
        "titles": { "zh-CN": "控制台选举" },
        "threshold": "2",
        "keys": { "authority": authority, "registrar": registrar, "board": board },
        "trustees": trustees.iter().enumerate().map(|(i, k)| json!({
            "name": format!("T{}", i + 1),
            "signing_key": k["signing_key"],
            "ceremony_key": k["ceremony_key"],
        })).collect::<Vec<_>>(),
        "contests": [
            {
                "id": "mayor", "title": "Mayor", "titles": { "zh-CN": "市长" }, "kind": "plurality",
                "exactly": true,
                "options": [
                    { "id": "ada", "name": "Ada", "names": { "zh-CN": "艾达" } },
                    { "id": "ben", "name": "Ben", "names": { "zh-CN": "本" } },
                ],
            },
            {
                "id": "council", "title": "Council", "kind": "approval", "min": "0", "max": "2",
                "options": [
                    { "id": "dan", "name": "Dan" }, { "id": "eve", "name": "Eve" }, { "id": "fay", "name": "Fay" },
                ],
            },
            { "id": "measure", "title": "Measure A", "kind": "referendum", "blank": true },
            {
                "id": "board", "title": "Board", "kind": "ranked", "method": "irv",
                "options": [{ "id": "x", "name": "Xia" }, { "id": "y", "name": "Yan" }, { "id": "z", "name": "Zoe" }],
            },
        ],
        "ballot_styles": [
            { "id": "all", "title": "Residents", "titles": { "zh-CN": "居民" }, "contests": ["mayor", "council", "measure"] },
            { "id": "visitors", "title": "Visitors", "contests": ["measure", "board"] },
        ],
    })
}

/// A well-formed key nobody in the election holds.
fn stranger() -> String {
    urna_crypto::hex::encode(
        urna_crypto::sign::SigningKey::from_seed(&[7; 32])
            .verifying_key()
            .as_bytes(),
    )
}

fn log_size(authority: &Console) -> u64 {
    authority.get_json("/api/status")["log_size"]
        .as_u64()
        .unwrap()
}

/// An election office in `dir`: the roles' keys (three trustees), a board, and the authority's,
/// registrar's and trustees' consoles on it.
fn office(dir: &std::path::Path, origin: &str) -> (Board, Console, Console, Vec<Console>) {
    let d = |name: &str| dir.join(name).to_str().unwrap().to_string();
    Roles::init(dir, origin, 3);
    let board = Board::start_with_key_file(dir, &dir.join("board.key"), origin);
    let url = board.url.clone();
    let authority = Console::start(&[
        "authority",
        "console",
        "--key",
        &d("authority.key"),
        "--board",
        &url,
    ]);
    let registrar = Console::start(&[
        "registrar",
        "console",
        "--key",
        &d("registrar.key"),
        "--board",
        &url,
        "--credentials",
        &d("creds"),
        "--letters",
        &d("letters"),
    ]);
    let trustees = (1..=3)
        .map(|i| {
            Console::start(&[
                "trustee",
                "console",
                "--key",
                &d(&format!("t{i}.key")),
                "--board",
                &url,
            ])
        })
        .collect();
    (board, authority, registrar, trustees)
}

#[test]
fn an_election_run_through_the_consoles() {
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let (board, authority, registrar, trustees) = office(tmp.path(), ORIGIN);
    let url = board.url.clone();

    // Without the token: refused, and the page says where to find it.
    let agent = Console::agent();
    for path in ["/", "/api/status", "/api/info"] {
        let r = agent
            .get(&format!("{}{path}", authority.url))
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{path}");
    }
    let r = agent
        .post(&format!("{}/api/open", authority.url))
        .header("Content-Type", "application/json")
        .send(r#"{"passphrase":"test passphrase","confirm":"open"}"#)
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // A console refuses a public address without TLS, flag or no flag.
    for extra in [
        &["--listen", "0.0.0.0:0"][..],
        &["--listen", "0.0.0.0:0", "--allow-public"],
    ] {
        let mut args = vec![
            "authority",
            "console",
            "--key",
            "authority.key",
            "--board",
            &url,
        ];
        args.extend_from_slice(extra);
        let out = support::urna(&args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    }

    // Each official reads their public key in their own console; the authority's form takes them.
    let status = authority.get_json("/api/status");
    assert_eq!(status["phase"], "awaiting-setup");
    let board_key = status["board_key"].as_str().unwrap().to_string();
    let authority_key = authority.ok("/api/key", &pass())["public_key"].clone();
    let registrar_key = registrar.ok("/api/key", &pass())["public_key"].clone();
    let trustee_keys: Vec<Value> = trustees.iter().map(|t| t.ok("/api/key", &pass())).collect();
    let good = draft(
        authority_key.as_str().unwrap(),
        registrar_key.as_str().unwrap(),
        &board_key,
        &trustee_keys,
    );
    let checked = authority.ok("/api/draft/check", &json!({ "draft": good }));
    assert_eq!(checked["preview"][1]["lang"], "zh-CN");
    assert_eq!(
        checked["preview"][1]["styles"][0]["contests"][0]["options"][0][1],
        "艾达"
    );

    // Bad input in the form: an error at the field, and nothing posted.
    let before = log_size(&authority);
    type Change = fn(&mut Value);
    let cases: [(&str, Change, &str, &str); 7] = [
        (
            "empty contest",
            |d| d["contests"][0]["options"] = json!([{ "id": "ada", "name": "Ada" }]),
            "contests.0.options",
            "empty-contest",
        ),
        (
            "duplicate option id",
            |d| d["contests"][1]["options"][2]["id"] = json!("dan"),
            "contests.1.options.2.id",
            "duplicate-option",
        ),
        (
            "threshold above the trustees",
            |d| d["threshold"] = json!("4"),
            "threshold",
            "bad-threshold",
        ),
        (
            "malformed key",
            |d| d["trustees"][2]["ceremony_key"] = json!("not hex"),
            "trustees.2.ceremony_key",
            "bad-key",
        ),
        (
            "another authority's key",
            |d| d["keys"]["authority"] = json!(stranger()),
            "keys.authority",
            "not-this-key",
        ),
        (
            "another board's key",
            |d| d["keys"]["board"] = json!(stranger()),
            "keys.board",
            "not-this-board",
        ),
        (
            "a style naming no contest",
            |d| d["ballot_styles"][1]["contests"] = json!(["nope"]),
            "ballot_styles.1.contests",
            "unknown-contest",
        ),
    ];
    for (what, change, field, code) in cases {
        let mut bad = good.clone();
        change(&mut bad);
        let (s, v) = authority.post(
            "/api/setup",
            &json!({ "draft": bad, "passphrase": PASSPHRASE }),
        );
        assert_eq!(s, 422, "{what}: {v}");
        assert_eq!(
            (
                v["error"]["field"].as_str().unwrap(),
                v["error"]["code"].as_str().unwrap()
            ),
            (field, code),
            "{what}: {v}"
        );
    }
    let (s, v) = authority.post(
        "/api/setup",
        &json!({ "draft": good, "passphrase": "wrong" }),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("wrong-passphrase"))
    );
    assert_eq!(
        log_size(&authority),
        before,
        "a refused setup posted something"
    );

    let set = authority.ok(
        "/api/setup",
        &json!({ "draft": good, "passphrase": PASSPHRASE }),
    );
    assert_eq!(set["election_id"], ORIGIN);
    let (s, v) = authority.post(
        "/api/setup",
        &json!({ "draft": good, "passphrase": PASSPHRASE }),
    );
    assert_eq!(s, 409, "{v}");
    // The manifest posted is the TOML the form showed: `urna authority setup` would post it.
    std::fs::write(d("manifest.toml"), checked["toml"].as_str().unwrap()).unwrap();

    // The key ceremony, step by step in each trustee's console.
    let preview = trustees[0].ok("/api/ceremony/preview", &pass());
    assert_eq!(
        (preview["index"].as_u64(), preview["next"]["step"].as_str()),
        (Some(1), Some("commitments"))
    );
    let mut steps = Vec::new();
    for _round in 0..10 {
        let mut complete = 0;
        for t in &trustees {
            let v = t.ok("/api/ceremony/step", &pass());
            steps.push(v["done"]["step"].as_str().unwrap().to_string());
            if v["next"]["step"] == "complete" {
                complete += 1;
            }
        }
        if complete == trustees.len() {
            break;
        }
    }
    for s in ["commitments", "shares", "confirmation"] {
        assert_eq!(steps.iter().filter(|x| *x == s).count(), 3, "{steps:?}");
    }
    let st = authority.get_json("/api/status");
    assert_eq!(st["phase"], "registration", "{st}");
    assert!(st["trustees"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["ceremony_missing"].as_array().unwrap().is_empty()));

    // Opening before there is a roll is refused with the phase's reason.
    let (s, v) = authority.post(
        "/api/open",
        &json!({ "passphrase": PASSPHRASE, "confirm": "open" }),
    );
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("roll-empty")));

    // The registrar: a CSV with bad lines is named line by line and nothing is issued.
    let bad_csv = "voter_id,weight,style\nann,1,all\nann,1,all\nbob,x,all\ncai,1,nowhere\n";
    let (s, v) = registrar.post("/api/voters/check", &json!({ "csv": bad_csv }));
    assert_eq!(s, 422, "{v}");
    let lines: Vec<u64> = v["error"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert!(lines.contains(&3) && lines.contains(&4), "{v}");
    let (s, _) = registrar.post(
        "/api/credentials",
        &json!({ "csv": bad_csv, "passphrase": PASSPHRASE }),
    );
    assert_eq!(s, 422);
    let (s, v) = registrar.post(
        "/api/voters/check",
        &json!({ "csv": "voter_id,weight,style\ncai,1,nowhere\n" }),
    );
    assert_eq!(
        (s, v["error"]["lines"][0]["line"].as_u64()),
        (422, Some(2)),
        "{v}"
    );
    assert_eq!(registrar.get_json("/api/roll")["voters"], 0);
    let csv = "voter_id,weight,style\nann,1,all\nbob,2,all\ncai,1,visitors\n";
    assert_eq!(
        registrar.ok("/api/voters/check", &json!({ "csv": csv }))["voters"],
        3
    );
    let issued = registrar.ok(
        "/api/credentials",
        &json!({ "csv": csv, "passphrase": PASSPHRASE }),
    );
    assert_eq!(issued["ids"].as_array().unwrap().len(), 3);
    let roll = registrar.get_json("/api/roll");
    assert_eq!(
        (roll["voters"].as_u64(), roll["total_weight"].as_u64()),
        (Some(3), Some(4))
    );
    assert!(roll["registry"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["on_roll"] == true));
    let letters = registrar.ok("/api/letters", &json!({}));
    assert_eq!(letters["written"], 3);
    let (s, letter) = registrar.get("/api/letters/ann");
    assert_eq!(s, 200);
    assert!(letter.contains("Console election"), "{letter}");

    // The polls, with confirmation.
    let (s, v) = authority.post(
        "/api/open",
        &json!({ "passphrase": PASSPHRASE, "confirm": "yes" }),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("not-confirmed"))
    );
    authority.ok(
        "/api/open",
        &json!({ "passphrase": PASSPHRASE, "confirm": "open" }),
    );
    let cred = |v: &str| d(&format!("creds/{v}.credential"));
    ok(&[
        "vote",
        "--board",
        &url,
        "--credential",
        &cred("ann"),
        "--receipt",
        &d("ann.receipt"),
        "--choices",
        "mayor=ada;council=dan,eve;measure=yes",
    ]);
    ok(&[
        "vote",
        "--board",
        &url,
        "--credential",
        &cred("bob"),
        "--receipt",
        &d("bob.receipt"),
        "--choices",
        "mayor=ben;council=eve;measure=no",
    ]);
    ok(&[
        "vote",
        "--board",
        &url,
        "--credential",
        &cred("cai"),
        "--receipt",
        &d("cai.receipt"),
        "--choices",
        "measure=yes;board=y>x",
    ]);
    let st = authority.get_json("/api/status");
    assert_eq!(st["ballots"]["counted"], 3, "live turnout: {st}");
    // Decryption before the close is refused.
    let (s, v) = trustees[0].post("/api/decrypt", &pass());
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("still-open")));
    authority.ok(
        "/api/close",
        &json!({ "passphrase": PASSPHRASE, "confirm": "close" }),
    );

    // The ranked contest is mixed by each trustee in turn (the default mixers), in their
    // consoles; then two of three trustees decrypt the tally and the mixed list; the
    // authority's console follows and posts the result.
    let (s, v) = authority.post("/api/tally", &json!({}));
    assert_eq!(s, 409, "{v}");
    for t in &trustees {
        let v = t.ok("/api/mix", &pass());
        assert_eq!(v["mixed"]["mixes"].as_array().unwrap().len(), 1, "{v}");
    }
    for t in &trustees[..2] {
        let v = t.ok("/api/decrypt", &pass());
        assert_eq!(v["posted"], true, "{v}");
        assert!(
            v["decrypted"]["ranked_entries"].as_u64().unwrap() > 0,
            "{v}"
        );
    }
    assert_eq!(trustees[0].ok("/api/decrypt", &pass())["posted"], false);
    let st = authority.get_json("/api/status");
    let decrypted: Vec<bool> = st["trustees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["decryption_share"] == true)
        .collect();
    assert_eq!(decrypted, [true, true, false]);
    let result = authority.ok("/api/tally", &json!({}));
    assert_eq!(result["posted"], true);
    let (s, csv) = authority.get("/api/result.csv");
    assert_eq!(s, 200);
    assert!(csv.contains("ada") && csv.contains("ben"), "{csv}");
    let (_, text) = authority.get("/api/result.txt");
    assert!(text.contains("Ada") && text.contains("Yan"), "{text}");
    assert!(ok(&["tally", "--board", &url]).contains("Ada"));
    assert!(ok(&["verify", "--board", &url]).contains("VERIFIED"));
}

/// The election created and run entirely through the consoles' pages and the booth, in
/// Chromium; then `urna verify`. Needs Debian's chromium and the booth's npm packages (as
/// `tests/booth.rs`); without chromium it says so and is skipped. Screenshots:
/// `web/test-results/console-*.png`.
#[test]
fn an_election_run_in_the_browser() {
    let web = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
    if !support::browser_ready(&web) {
        return;
    }
    let origin = "browser.urna.example/2026";
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let (board, authority, registrar, trustees) = office(tmp.path(), origin);
    let url = board.url.clone();
    let address = |c: &Console| format!("{}/?token={}", c.url, c.token);
    let out = web.join("test-results");
    let o = Command::new("node")
        .arg(web.join("test/e2e/consoles.mjs"))
        .args([out.to_str().unwrap(), &url, &d("creds"), PASSPHRASE])
        .arg(address(&authority))
        .arg(address(&registrar))
        .args(trustees.iter().map(address))
        .output()
        .expect("node");
    assert!(
        o.status.success(),
        "the browser test failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap();
    for case in [
        "empty contest",
        "duplicate option id",
        "threshold above the trustees",
        "malformed key",
        "voters CSV",
    ] {
        assert!(report["bad_input"][case].is_string(), "{case}: {report}");
    }
    let audited = report["accessibility"].as_object().unwrap();
    assert_eq!(audited.len(), 5, "{report}");
    eprintln!(
        "axe-core, violations below serious: {}",
        report["accessibility"]
    );
    let result = report["result"].as_str().unwrap();
    assert!(result.contains("Ada"), "{result}");
    assert!(report["result_csv"].as_str().unwrap().contains("ada"));
    let table = ok(&["tally", "--board", &url]);
    assert!(table.contains("Ada"), "{table}");
    assert!(ok(&["verify", "--board", &url]).contains("VERIFIED"));
}

/// Another machine may reach a console only when the operator says so and over TLS: without
/// either, refused at start; with both, served over TLS only, and still only with the token.
/// Needs `openssl` (for a certificate) and `curl` (ureq is built without TLS here); without
/// them it says so and is skipped.
#[test]
fn a_public_console_only_over_tls() {
    let have = |tool: &str| {
        Command::new(tool)
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let board = "http://127.0.0.1:9";
    let base = [
        "authority",
        "console",
        "--key",
        "authority.key",
        "--board",
        board,
    ];
    for (extra, says) in [
        (&["--listen", "0.0.0.0:0"][..], "--allow-public"),
        (
            &["--listen", "0.0.0.0:0", "--allow-public"][..],
            "--tls-cert",
        ),
        (&["--tls-cert", "c.pem"][..], "--tls-key"),
    ] {
        let out = support::urna(&[&base[..], extra].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(says), "{extra:?}: {err}");
    }
    if !have("openssl") || !have("curl") {
        eprintln!("skipped the TLS part: needs openssl and curl");
        return;
    }
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-keyout", &d("key.pem"), "-out", &d("cert.pem")])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    // A file that is not a certificate is a usage error, said at start.
    let out = support::urna(
        &[
            &base[..],
            &["--tls-cert", &d("key.pem"), "--tls-key", &d("key.pem")],
        ]
        .concat(),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console = Console::start(
        &[
            &base[..],
            &[
                "--listen",
                "0.0.0.0:0",
                "--allow-public",
                "--tls-cert",
                &d("cert.pem"),
                "--tls-key",
                &d("key.pem"),
            ],
        ]
        .concat(),
    );
    assert!(
        console.url.starts_with("https://0.0.0.0:"),
        "{}",
        console.url
    );
    let url = console.url.replace("0.0.0.0", "127.0.0.1");
    let curl = |args: &[&str]| {
        let o = Command::new("curl")
            .args([
                "-s",
                "--cacert",
                &d("cert.pem"),
                "-o",
                "/dev/stderr",
                "-w",
                "%{http_code}",
            ])
            .args(args)
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let token = format!("X-Urna-Token: {}", console.token);
    let (code, body) = curl(&["-H", &token, &format!("{url}/api/info")]);
    assert_eq!(code, "200", "{body}");
    assert!(body.contains("\"role\":\"authority\""), "{body}");
    assert_eq!(curl(&[&format!("{url}/api/info")]).0, "401");
    // The cookie the address sets is Secure.
    let o = Command::new("curl")
        .args([
            "-s",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "--cacert",
            &d("cert.pem"),
        ])
        .arg(format!("{url}/?token={}", console.token))
        .output()
        .unwrap();
    let headers = String::from_utf8_lossy(&o.stdout).to_lowercase();
    assert!(
        headers.contains("set-cookie") && headers.contains("; secure"),
        "{headers}"
    );
    // In clear, the console does not answer.
    let (code, _) = curl(&[&format!("{}/api/info", url.replace("https://", "http://"))]);
    assert_ne!(code, "200");
}

/// A dealer that sends a trustee a bad share: the trustee's console says, before posting,
/// that its next step is a public complaint against that dealer, posts it, and the ceremony
/// completes without the dealer.
#[test]
fn a_bad_share_draws_a_complaint_from_the_trustee_console() {
    let mut kit = urna_sim::kit::Kit::new(7, urna_sim::kit::Config::default());
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let origin = kit.id().to_string();
    let board = Board::start(tmp.path(), &kit.board, &origin);
    let client = urna_client::BoardClient::new(&board.url);
    let board_key = kit.board.verifying_key();
    let post = |e: urna_election::entry::Entry| {
        client
            .submit_retrying(
                e.bytes(),
                &origin,
                &board_key,
                std::time::Duration::from_secs(30),
            )
            .unwrap();
    };
    post(kit.setup());
    // Trustees 1 and 3 are honest and use their consoles; trustee 2 cheats on trustee 3.
    let consoles: Vec<Console> = [1usize, 3]
        .iter()
        .map(|i| {
            let t = &kit.trustees[i - 1];
            let key = urna_trustee::TrusteeKey::from_parts(t.signing.clone(), t.ceremony.clone());
            let sealed = key
                .seal(
                    PASSPHRASE.as_bytes(),
                    urna_crypto::keyfile::Cost::TEST,
                    &mut rand::rngs::OsRng,
                )
                .unwrap();
            let path = d(&format!("t{i}.key"));
            std::fs::write(&path, sealed).unwrap();
            Console::start(&["trustee", "console", "--key", &path, "--board", &board.url])
        })
        .collect();
    post(kit.commitment(2));
    for c in &consoles {
        assert_eq!(
            c.ok("/api/ceremony/step", &pass())["done"]["step"],
            "commitments"
        );
    }
    post(kit.shares(2, Some(3)));
    for c in &consoles {
        assert_eq!(
            c.ok("/api/ceremony/step", &pass())["done"]["step"],
            "shares"
        );
    }
    let next = consoles[1].ok("/api/ceremony/preview", &pass());
    assert_eq!(
        (
            next["index"].as_u64(),
            next["next"]["step"].as_str(),
            next["next"]["dealer"].as_u64()
        ),
        (Some(3), Some("complaint"), Some(2)),
        "{next}"
    );
    assert_eq!(
        consoles[1].ok("/api/ceremony/step", &pass())["done"]["step"],
        "complaint"
    );
    for _round in 0..5 {
        for c in &consoles {
            c.ok("/api/ceremony/step", &pass());
        }
    }
    let st = consoles[0].get_json("/api/status");
    assert_eq!(st["phase"], "registration", "{st}");
    let disqualified: Vec<bool> = st["trustees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["disqualified"] == true)
        .collect();
    assert_eq!(disqualified, [false, true, false]);
}
