//! The browser booth end to end: a real board (separate process) with a witness, a manifest
//! with Chinese titles, weights and two ballot styles, and voters voting in headless Chromium
//! through the booth the board serves, in English and in Simplified Chinese — a credential read
//! from the QR code of the letter `urna registrar letters` printed (from a photo, and live from
//! a camera filming it), the summary with "change",
//! audit then cast keeping the choices, revote, limits, the ballot-tracking page, the lookup,
//! and no English left in any Chinese view. Then the CLI checks the receipts the browser saved,
//! a front showing a stale cosigned view is reported as withholding by the browser, the election
//! is tallied, the result page is shown and printed in both languages, and `urna verify` accepts
//! every browser-made ballot.
//!
//! The browser test needs Debian's chromium and the booth's npm packages (`.ci/run` installs
//! both); without chromium it says so and is skipped. The JavaScript vector test needs the npm
//! packages and fails without them. Screenshots: `web/test-results/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Command;

use support::{
    browser_ready, ceremony, free_port, ok, register_and_open, spawn, wait_until, Roles, StaleProxy,
};

const ORIGIN: &str = "booth.urna.example/2026";

const CONTESTS: &str = r#"
[[contests]]
id = "seat"
title = "One seat, ten candidates"
titles = { zh-CN = "一个席位，十位候选人" }
kind = "plurality"
exactly = true
options = [
  { id = "a", name = "Ada", names = { zh-CN = "艾达" } },
  { id = "b", name = "Ben", names = { zh-CN = "本" } },
  { id = "c", name = "Cai", names = { zh-CN = "蔡" } },
  { id = "d", name = "Dora", names = { zh-CN = "多拉" } },
  { id = "e", name = "Eli", names = { zh-CN = "伊莱" } },
  { id = "f", name = "Fei", names = { zh-CN = "菲" } },
  { id = "g", name = "Gus", names = { zh-CN = "格斯" } },
  { id = "h", name = "Hana", names = { zh-CN = "花" } },
  { id = "i", name = "Ivo", names = { zh-CN = "伊沃" } },
  { id = "j", name = "Jun", names = { zh-CN = "俊" } },
]

[[contests]]
id = "council"
title = "Council (up to 2)"
titles = { zh-CN = "理事会（最多 2 人）" }
kind = "approval"
min = 0
max = 2
options = [
  { id = "dan", name = "Dan", names = { zh-CN = "丹" } },
  { id = "eve", name = "Eve", names = { zh-CN = "伊芙" } },
  { id = "fay", name = "Fay", names = { zh-CN = "费伊" } },
]

[[contests]]
id = "measure-a"
title = "Measure A: shall the association adopt the new statutes?"
titles = { zh-CN = "A 号议案：协会是否采用新章程？" }
kind = "referendum"
blank = true

[[contests]]
id = "budget"
title = "Budget (0 to 5 points each, 8 in all)"
titles = { zh-CN = "预算（每项 0 至 5 分，总分 8 分）" }
kind = "score"
max = 5
budget = 8
options = [
  { id = "park", name = "Park", names = { zh-CN = "公园" } },
  { id = "bikes", name = "Bikes", names = { zh-CN = "自行车道" } },
  { id = "library", name = "Library", names = { zh-CN = "图书馆" } },
]

[[ballot_styles]]
id = "all"
title = "Residents"
titles = { zh-CN = "居民" }
contests = ["seat", "council", "measure-a", "budget"]

[[ballot_styles]]
id = "student"
title = "Students"
titles = { zh-CN = "学生" }
contests = ["seat", "measure-a"]
"#;

fn run_browser(
    web: &Path,
    url: &str,
    out: &Path,
    mode: &str,
    creds: &[String],
) -> serde_json::Value {
    let o = Command::new("node")
        .arg(web.join("test/e2e/booth.mjs"))
        .args([url, out.to_str().unwrap(), mode])
        .args(creds)
        .output()
        .expect("node");
    assert!(
        o.status.success(),
        "the browser test failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap()
}

/// Waits until the witness quorum has cosigned the board's latest checkpoint.
fn wait_cosigned(url: &str) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let size = |path: &str| -> Option<String> {
        let mut r = agent.get(&format!("{url}{path}")).call().ok()?;
        let text = r.body_mut().read_to_string().ok()?;
        (r.status() == 200).then(|| text.lines().nth(1).unwrap_or_default().to_string())
    };
    wait_until("the witness to cosign the latest checkpoint", || {
        size("/checkpoint/cosigned").is_some()
            && size("/checkpoint/cosigned") == size("/checkpoint")
    });
}

/// A witness for the board `roles` will serve, running in `dir`: its process and its
/// `[[witnesses]]` entry for the manifest.
fn start_witness(dir: &Path, roles: &Roles) -> (std::process::Child, String) {
    let d = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let wport = free_port();
    let wurl = format!("http://127.0.0.1:{wport}");
    let wout = ok(&[
        "witness",
        "init",
        "--key",
        &d("w.key"),
        "--name",
        "w.booth.example",
        "--url",
        &wurl,
    ]);
    let witness = spawn(&[
        "witness",
        "serve",
        "--key",
        &d("w.key"),
        "--name",
        "w.booth.example",
        "--listen",
        &format!("127.0.0.1:{wport}"),
        "--data",
        &d("w-data"),
        "--log",
        &roles.vkey,
    ]);
    let entry = wout[wout.find("[[witnesses]]").unwrap()..].to_string();
    (witness, entry)
}

#[test]
fn voters_vote_in_the_browser() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
    if !browser_ready(&web) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let roles = Roles::init(tmp.path(), ORIGIN, 2);
    let (mut witness, witnesses) = start_witness(tmp.path(), &roles);
    let manifest = roles.manifest(
        ORIGIN,
        "titles = { zh-CN = \"测试选举\" }\nthreshold = 2\nwitness_quorum = 1",
        &format!("{witnesses}\n{CONTESTS}"),
    );
    let board = roles.serve(tmp.path(), ORIGIN, &manifest);
    let url = board.url.clone();
    ceremony(tmp.path(), &url, 2);
    register_and_open(
        tmp.path(),
        &url,
        "voter_id,weight,style\nann,1,all\nbob,2,all\ncai,1,student\ndee,1,all\neve,1,student\n",
    );
    // The letters the registrar prints: the browser reads Ann's QR code from hers.
    ok(&[
        "registrar",
        "letters",
        "--credentials",
        &d("creds"),
        "--out",
        &d("letters"),
        "--board",
        &url,
    ]);
    // What the witness cosigned before any ballot: the view a hostile board would keep showing.
    wait_cosigned(&url);
    let stale = ureq::get(&format!("{url}/checkpoint/cosigned"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();

    let out = web.join("test-results");
    let creds = vec![
        d("creds/ann.credential"),
        d("creds/bob.credential"),
        d("creds/cai.credential"),
        d("letters/ann.html"),
    ];
    let report = run_browser(&web, &url, &out, "vote", &creds);
    let zh = run_browser(&web, &url, &out, "vote-zh", &[d("creds/dee.credential")]);
    assert!(zh["leftovers_checked"].as_array().unwrap().len() >= 10);
    // Eve holds her letter up to the camera: the booth reads it and shows her ballot (her style).
    let camera = run_browser(&web, &url, &out, "camera", &[d("letters/eve.html")]);
    assert!(
        camera["camera_read"].as_str().unwrap().contains("Students"),
        "{camera}"
    );
    eprintln!(
        "in-browser encryption of a ballot (10-candidate seat, approval, referendum, a score contest with range proofs), ms: {}",
        report["encrypt_ms"]
    );
    // The receipts the browser saved are the CLI's format and check out against the board.
    wait_cosigned(&url);
    let receipts: Vec<String> = report["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    assert!(ok(&["receipt", "check", &receipts[0], "--board", &url]).contains("superseded"));
    assert!(ok(&["receipt", "check", &receipts[1], "--board", &url]).contains("counted"));
    // Through a front that shows the stale cosigned view, the browser asks the witness itself
    // and reports the board as withholding instead of showing the ballot counted.
    let proxy = StaleProxy::start(&url, &stale);
    let codes: Vec<String> = report["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    run_browser(&web, &proxy.url, &out, "withholding", &codes[1..2]);
    drop(proxy);

    ok(&[
        "authority",
        "close",
        "--board",
        &url,
        "--key",
        &d("authority.key"),
    ]);
    ok(&["trustee", "decrypt", "--board", &url, "--key", &d("t1.key")]);
    ok(&["trustee", "decrypt", "--board", &url, "--key", &d("t2.key")]);
    let table = ok(&["tally", "--board", &url]);
    // The page shows the result once the witness quorum covers it.
    wait_cosigned(&url);
    // Ann's revote (Hana, No), Bob's (weight 2: Hana, No), Cai's (Ada, Yes), Dee's (Ada,
    // blank): Hana 3 of 5, Ada 2; the measure not adopted, 1 yes to 3 no; 4 of 5 voted.
    assert!(table.contains("Hana  3   60.0%  ✓"), "{table}");
    let page = run_browser(&web, &url, &out, "result", &[]);
    let en = page["result_en-1280-"].as_str().unwrap();
    for words in [
        "Turnout: 4 of 5 voters on the roll cast a counted ballot (80.0%).",
        "Winner: Hana",
        "60.0%",
        "Not adopted (more no than yes)",
        "The counts are weighted",
    ] {
        assert!(en.contains(words), "{words:?} not in {en}");
    }
    let zh = page["result_zh-1280-"].as_str().unwrap();
    for words in [
        "胜出者：花",
        "未通过（反对多于赞成）",
        "投票率",
        "一个席位，十位候选人",
    ] {
        assert!(zh.contains(words), "{words:?} not in {zh}");
    }
    assert!(ok(&["verify", "--board", &url]).contains("VERIFIED"));
    let _ = witness.kill();
    let _ = witness.wait();
}

/// The browser's implementation of the protocol checks the same frozen vectors as the Rust one
/// (`web/test/*.test.js`, run with Node's test runner).
const RANKED: &str = r#"
[[contests]]
id = "mayor"
title = "Mayor"
titles = { zh-CN = "市长" }
kind = "plurality"
options = [
  { id = "ada", name = "Ada", names = { zh-CN = "艾达" } },
  { id = "ben", name = "Ben", names = { zh-CN = "本" } },
]

[[contests]]
id = "board"
title = "School board"
titles = { zh-CN = "校董会" }
kind = "ranked"
method = "irv"
write_ins = 1
write_in_len = 24
options = [
  { id = "dan", name = "Dan", names = { zh-CN = "丹" } },
  { id = "eve", name = "Eve", names = { zh-CN = "伊芙" } },
  { id = "fay", name = "Fay", names = { zh-CN = "费伊" } },
]

[[ballot_styles]]
id = "all"
contests = ["mayor", "board"]
"#;

/// A ranked contest in the browser: ranked by keyboard, with a write-in, audited and cast in
/// English and in Chinese; the ballots the browser made are mixed by the trustees (the default
/// mixers), decrypted and counted by the CLI, and the result page shows the rounds.
#[test]
fn a_ranked_contest_in_the_browser() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
    if !browser_ready(&web) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let roles = Roles::init(tmp.path(), ORIGIN, 2);
    let (mut witness, witnesses) = start_witness(tmp.path(), &roles);
    let manifest = roles.manifest(
        ORIGIN,
        "titles = { zh-CN = \"测试选举\" }\nthreshold = 2\nwitness_quorum = 1",
        &format!("{witnesses}\n{RANKED}"),
    );
    let board = roles.serve(tmp.path(), ORIGIN, &manifest);
    let url = board.url.clone();
    ceremony(tmp.path(), &url, 2);
    register_and_open(
        tmp.path(),
        &url,
        "voter_id,weight,style\nann,1,all\nben,1,all\n",
    );
    wait_cosigned(&url);
    let out = web.join("test-results");
    run_browser(
        &web,
        &url,
        &out,
        "ranked",
        &[d("creds/ann.credential"), d("creds/ben.credential")],
    );
    ok(&[
        "authority",
        "close",
        "--board",
        &url,
        "--key",
        &d("authority.key"),
    ]);
    for t in ["t1.key", "t2.key"] {
        ok(&["trustee", "mix", "--board", &url, "--key", &d(t)]);
    }
    for t in ["t1.key", "t2.key"] {
        ok(&["trustee", "decrypt", "--board", &url, "--key", &d(t)]);
    }
    let table = ok(&["tally", "--board", &url]);
    // The browser's rankings, decrypted after the mix: Dan > Eve > Zoë Ng, and Fay > Dan.
    assert!(
        table.contains("2 ballots: 2 counted, 0 blank, 0 invalid"),
        "{table}"
    );
    assert!(table.contains("Zoë Ng (write-in)"), "{table}");
    wait_cosigned(&url);
    run_browser(&web, &url, &out, "ranked-result", &[]);
    assert!(ok(&["verify", "--board", &url, "--final"]).contains("VERIFIED"));
    let _ = witness.kill();
    let _ = witness.wait();
}

#[test]
fn the_browser_implementation_passes_the_vectors() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
    // Never skipped: a booth whose cryptography was not checked must not pass for checked.
    assert!(
        web.join("node_modules/@noble/curves").exists(),
        "the booth's npm packages are not installed: run `npm ci --prefix web` (.ci/run does)"
    );
    let o = Command::new("npm")
        .args(["test", "--silent"])
        .current_dir(&web)
        .output()
        .expect("npm");
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
