//! Validating nodes on loopback, every party a separate `urna` process (specs/board.md §7):
//! one board and three nodes run by different organisations, quorum 2, carry a whole election;
//! voters and observers use any node (reads served from its copy, submissions forwarded);
//! a node killed with SIGKILL catches up, a wiped one re-syncs from another node and validates
//! everything again;
//! the board's machine is lost for good after the close and a new board started from a node's
//! copy (the board key from its sealed file) finishes the election, which verifies. A board
//! that appends an entry the rules refuse gets no cosignature from any node, and every node
//! publishes the entry and the rule's code. A second history signed under the board's key is
//! published by every node and reported as a fork, with both signed checkpoints, by
//! `urna verify`, `urna receipt check` (exit 1, never "counted") and the booth in headless
//! Chromium (in English and Chinese, from either history; skipped without chromium).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use support::{
    ceremony, free_port, ok, passphrase_file, register_and_open, wait_until, Roles, URNA,
};

const ORIGIN: &str = "nodes.urna.example/2026";
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

fn json(url: &str) -> serde_json::Value {
    serde_json::from_str(&get(url).1).unwrap_or_default()
}

/// The size of the checkpoint at `url` (`None` if there is none).
fn size(url: &str) -> Option<u64> {
    let (status, body) = get(url);
    (status == 200)
        .then(|| body.lines().nth(1).and_then(|l| l.parse().ok()))
        .flatten()
}

/// A server process (a board or a node) that can be killed and started again.
struct Proc {
    args: Vec<String>,
    env: Vec<(String, String)>,
    port: u16,
    url: String,
    child: Option<Child>,
}

impl Proc {
    fn new(args: Vec<String>, port: u16) -> Proc {
        Proc {
            args,
            env: Vec::new(),
            port,
            url: format!("http://127.0.0.1:{port}"),
            child: None,
        }
    }

    fn start(&mut self) {
        let mut child = Command::new(URNA)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("URNA_PASSPHRASE", support::PASSPHRASE)
            .env("URNA_KDF_COST", "test")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let port = self.port;
        wait_until("a server to listen", || {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                panic!("urna {} exited ({status}): {err}", self.args.join(" "));
            }
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        self.child = Some(child);
    }

    /// SIGKILL: no chance to flush or clean up.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// A board serving from `<dir>/board-data` on `port`.
fn board(dir: &Path, port: u16) -> Proc {
    let key = dir.join("board.key");
    Proc::new(
        [
            "board",
            "serve",
            "--origin",
            ORIGIN,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--key",
            &s(&key),
            "--passphrase-file",
            &s(&passphrase_file(&key)),
            "--data",
            &s(&dir.join("board-data")),
            "--read-rate",
            "1000000",
            "--read-burst",
            "1000000",
        ]
        .map(str::to_string)
        .to_vec(),
        port,
    )
}

struct Node {
    proc: Proc,
    data: PathBuf,
}

impl Node {
    fn validated(&self) -> u64 {
        json(&format!("{}/node", self.proc.url))["validated"]
            .as_u64()
            .unwrap_or(0)
    }
    fn cosigned(&self) -> u64 {
        json(&format!("{}/state", self.proc.url))["logs"][ORIGIN]["size"]
            .as_u64()
            .unwrap_or(0)
    }
}

/// Roles, three nodes (initialised and serving, following `board_port`), and the manifest
/// naming them with quorum 2.
fn nodes_and_manifest(dir: &Path, board_port: u16) -> (Roles, Vec<Node>, String) {
    let roles = Roles::init(dir, ORIGIN, 2);
    let mut nodes = Vec::new();
    let mut listed = String::new();
    for i in 1..=3 {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let name = format!("n{i}.org{i}.example");
        let key = dir.join(format!("n{i}.key"));
        let out = ok(&[
            "node",
            "init",
            "--key",
            &s(&key),
            "--name",
            &name,
            "--url",
            &url,
        ]);
        assert!(out.contains("role = \"node\""), "{out}");
        listed.push_str(&out[out.find("[[witnesses]]").unwrap()..]);
        listed.push('\n');
        let data = dir.join(format!("n{i}-data"));
        let mut proc = Proc::new(
            [
                "node",
                "serve",
                "--key",
                &s(&key),
                "--name",
                &name,
                "--board",
                &format!("http://127.0.0.1:{board_port}"),
                "--log",
                &roles.vkey,
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data",
                &s(&data),
                "--poll-ms",
                "100",
                "--read-rate",
                "1000000",
                "--read-burst",
                "1000000",
            ]
            .map(str::to_string)
            .to_vec(),
            port,
        );
        proc.start();
        nodes.push(Node { proc, data });
    }
    let manifest = roles.manifest(
        ORIGIN,
        "threshold = 2\nwitness_quorum = 2",
        &format!(
            "{listed}\n{}",
            &EXAMPLE[EXAMPLE.find("[[contests]]").unwrap()..]
        ),
    );
    (roles, nodes, manifest)
}

/// The board's public key, from the key file's verifier key that `board init` printed.
fn b_key(dir: &Path) -> urna_crypto::sign::VerifyingKey {
    let manifest = std::fs::read_to_string(dir.join("manifest.toml")).unwrap();
    let hex = support::field(&manifest, "board =");
    urna_crypto::sign::VerifyingKey::from_wire(&urna_crypto::hex::decode_array::<32>(&hex).unwrap())
        .unwrap()
}

fn setup(dir: &Path, url: &str, manifest: &str) {
    let path = dir.join("manifest.toml");
    std::fs::write(&path, manifest).unwrap();
    ok(&[
        "authority",
        "setup",
        "--manifest",
        &s(&path),
        "--board",
        url,
        "--key",
        &s(&dir.join("authority.key")),
    ]);
}

/// Every node has validated and cosigned the board's latest checkpoint.
fn all_caught_up(board_url: &str, nodes: &[Node]) {
    let latest = size(&format!("{board_url}/checkpoint")).unwrap();
    let start = std::time::Instant::now();
    while !nodes
        .iter()
        .all(|n| n.validated() == latest && n.cosigned() == latest)
    {
        let status: Vec<_> = nodes
            .iter()
            .map(|n| (json(&format!("{}/node", n.proc.url)), n.cosigned()))
            .collect();
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the nodes did not all validate and cosign the checkpoint of size {latest}: {status:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Runs a mode of the booth's browser test (web/test/e2e/booth.mjs) against `url`; skipped
/// where Debian's chromium is not installed (`.ci/run` installs it).
fn in_the_browser(dir: &Path, url: &str, mode: &str, args: &[&str]) {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        web.join("node_modules/playwright-core").exists(),
        "the booth's npm packages are not installed: run `npm ci --prefix web` (.ci/run does)"
    );
    if !Path::new(&chromium).exists() {
        eprintln!("skipped the browser: needs {chromium} (Debian's chromium)");
        return;
    }
    let out = web.join("test-results");
    let o = Command::new("node")
        .arg(web.join("test/e2e/booth.mjs"))
        .args([url, out.to_str().unwrap(), mode])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("node");
    assert!(
        o.status.success(),
        "the browser test failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn three_nodes_carry_an_election_through_crashes_a_wipe_and_the_loss_of_the_board() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let d = |name: &str| s(&dir.join(name));
    let board_port = free_port();
    let (roles, mut nodes, manifest) = nodes_and_manifest(dir, board_port);
    let mut b = board(dir, board_port);
    b.start();
    let url = b.url.clone();
    setup(dir, &url, &manifest);
    ceremony(dir, &url, 2);
    register_and_open(
        dir,
        &url,
        "voter_id,weight,style\nann,1,resident\nbob,1,resident\ncid,1,resident\n",
    );
    let vote = |via: &str, v: &str, c: &str| {
        ok(&[
            "vote",
            "--board",
            via,
            "--credential",
            &d(&format!("creds/{v}.credential")),
            "--choices",
            c,
            "--receipt",
            &d(&format!("{v}.receipt")),
        ])
    };
    // A voter uses a node: its reads come from the node's copy, its ballot is forwarded.
    all_caught_up(&url, &nodes);
    vote(&nodes[0].proc.url, "ann", "mayor=alice;measure-a=yes");
    vote(&url, "bob", "mayor=bob;measure-a=no");
    all_caught_up(&url, &nodes);
    wait_until("the quorum-cosigned checkpoint to reach a node", || {
        size(&format!("{}/checkpoint/cosigned", nodes[1].proc.url))
            == size(&format!("{url}/checkpoint"))
    });
    // Receipts verify against a node's copy; an observer verifies the election from a node.
    let check = ok(&[
        "receipt",
        "check",
        &d("ann.receipt"),
        "--board",
        &nodes[1].proc.url,
    ]);
    assert!(check.contains("cosigned by"), "{check}");
    let report = ok(&["verify", "--board", &nodes[2].proc.url]);
    assert!(report.contains("VERIFIED"), "{report}");
    // The rest of the read API from a node's copy: a receipt by leaf hash, the booth.
    let node = &nodes[0].proc.url;
    let last = size(&format!("{node}/checkpoint")).unwrap() - 1;
    let entry = {
        let mut r = ureq::get(&format!("{node}/entries/{last}")).call().unwrap();
        r.body_mut().read_to_vec().unwrap()
    };
    let leaf = urna_ledger::merkle::leaf_hash(&entry);
    let (status, receipt) = get(&format!(
        "{node}/receipt/{}",
        urna_crypto::hex::encode(&leaf)
    ));
    assert_eq!(status, 200, "{receipt}");
    let receipt = urna_ledger::note::Receipt::parse(&receipt).unwrap();
    receipt
        .verify(&entry, ORIGIN, &b_key(dir))
        .expect("the node's receipt verifies under the board's key");
    assert_eq!(get(&format!("{node}/booth/")).0, 200);

    // A node killed with SIGKILL comes back and catches up with what it missed.
    nodes[1].proc.kill();
    vote(&url, "cid", "mayor=carol;measure-a=yes");
    nodes[1].proc.start();
    all_caught_up(&url, &nodes);

    // A node whose disk was wiped re-syncs — from another node, which serves the same
    // board-signed checkpoints and tiles — and validates everything again before cosigning.
    nodes[2].proc.kill();
    std::fs::remove_dir_all(&nodes[2].data).unwrap();
    let from = nodes[2]
        .proc
        .args
        .iter()
        .position(|a| a == "--board")
        .unwrap()
        + 1;
    nodes[2].proc.args[from] = nodes[0].proc.url.clone();
    nodes[2].proc.start();
    all_caught_up(&url, &nodes);
    assert_eq!(
        std::fs::read(nodes[2].data.join("log")).unwrap(),
        std::fs::read(nodes[0].data.join("log")).unwrap(),
        "the re-synced copy is the log, byte for byte"
    );

    ok(&[
        "authority",
        "close",
        "--board",
        &url,
        "--key",
        &d("authority.key"),
    ]);
    all_caught_up(&url, &nodes);
    let closed = size(&format!("{url}/checkpoint")).unwrap();

    // The board's machine is lost for good: observers still verify the record from any node.
    b.kill();
    std::fs::remove_dir_all(dir.join("board-data")).unwrap();
    // The nodes gather the quorum's cosignatures on the close from each other, whether or not
    // the board had shown them before it was lost.
    wait_until(
        "the nodes to hold the cosigned checkpoint of the close without the board",
        || {
            nodes
                .iter()
                .all(|n| size(&format!("{}/checkpoint/cosigned", n.proc.url)) == Some(closed))
        },
    );
    let report = ok(&["verify", "--board", &nodes[0].proc.url]);
    assert!(report.contains("VERIFIED"), "{report}");

    // A new board from a node's copy (in the board's own format), with the board's key from
    // its sealed file, at the board's address.
    let rebuilt = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("board.key"), rebuilt.path().join("board.key")).unwrap();
    std::fs::create_dir(rebuilt.path().join("board-data")).unwrap();
    for f in urna_node::board_files(&nodes[0].data) {
        if f.exists() {
            std::fs::copy(
                &f,
                rebuilt
                    .path()
                    .join("board-data")
                    .join(f.file_name().unwrap()),
            )
            .unwrap();
        }
    }
    let mut b2 = board(rebuilt.path(), board_port);
    b2.start();
    assert_eq!(size(&format!("{url}/checkpoint")), Some(closed));
    ok(&["trustee", "decrypt", "--board", &url, "--key", &d("t1.key")]);
    ok(&["trustee", "decrypt", "--board", &url, "--key", &d("t2.key")]);
    let table = ok(&["tally", "--board", &url]);
    assert!(table.contains("Alice Martin"), "{table}");
    all_caught_up(&url, &nodes);
    let report = ok(&["verify", "--board", &url]);
    assert!(report.contains("VERIFIED"), "{report}");
    let final_size = size(&format!("{url}/checkpoint"));
    wait_until("a node to hold the cosigned result", || {
        size(&format!("{}/checkpoint/cosigned", nodes[1].proc.url)) == final_size
    });
    let report = ok(&["verify", "--board", &nodes[1].proc.url, "--final"]);
    assert!(report.contains("VERIFIED"), "{report}");
    assert!(ok(&[
        "receipt",
        "check",
        &d("cid.receipt"),
        "--board",
        &nodes[2].proc.url
    ])
    .contains("counted"));
    drop(roles);
}

#[test]
fn an_entry_the_rules_refuse_gets_no_cosignature_and_every_node_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let board_port = free_port();
    let (_roles, nodes, manifest) = nodes_and_manifest(dir, board_port);
    let mut b = board(dir, board_port);
    b.env.push((
        "URNA_BOARD_TEST_HOOK".to_string(),
        "force-append".to_string(),
    ));
    b.start();
    let url = b.url.clone();
    setup(dir, &url, &manifest);
    all_caught_up(&url, &nodes);
    // The board appends a second Setup (its first entry again), which the rules refuse.
    let first = {
        let mut r = ureq::get(&format!("{url}/entries/0")).call().unwrap();
        r.body_mut().read_to_vec().unwrap()
    };
    let mut r = ureq::post(&format!("{url}/test-hook/force-append"))
        .send(&first[..])
        .unwrap();
    assert_eq!(r.body_mut().read_to_string().unwrap().trim(), "1");
    assert_eq!(size(&format!("{url}/checkpoint")), Some(2));
    for n in &nodes {
        wait_until("the node to publish the refusal", || {
            json(&format!("{}/node/refusals", n.proc.url))[0]["index"] == 1
        });
        let refusal = &json(&format!("{}/node/refusals", n.proc.url))[0];
        assert_eq!(refusal["kind"], "Setup", "{refusal}");
        assert!(!refusal["code"].as_str().unwrap().is_empty(), "{refusal}");
        assert_eq!(n.validated(), 1);
        assert_eq!(n.cosigned(), 1, "nothing covering the entry is cosigned");
    }
    // The board keeps asking; no node ever cosigns the checkpoint over the refused entry.
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(size(&format!("{url}/checkpoint/cosigned")), Some(1));
    assert!(nodes.iter().all(|n| n.cosigned() == 1));
}

#[test]
fn a_second_history_under_the_board_key_is_published_by_the_nodes_and_reported_by_clients() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let board_port = free_port();
    let (_roles, nodes, manifest) = nodes_and_manifest(dir, board_port);
    let mut b = board(dir, board_port);
    b.start();
    let url = b.url.clone();
    setup(dir, &url, &manifest);
    ceremony(dir, &url, 2);
    register_and_open(dir, &url, "voter_id,weight,style\nann,1,resident\n");
    let receipt = s(&dir.join("ann.receipt"));
    ok(&[
        "vote",
        "--board",
        &url,
        "--credential",
        &s(&dir.join("creds/ann.credential")),
        "--choices",
        "mayor=alice;measure-a=yes",
        "--receipt",
        &receipt,
    ]);
    all_caught_up(&url, &nodes);
    // The same board key serves a second history (two commitments swapped) from elsewhere; it
    // submits its checkpoints to the nodes the manifest names, as a board does.
    let fork_dir = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("board.key"), fork_dir.path().join("board.key")).unwrap();
    let mut fork = board(fork_dir.path(), free_port());
    fork.start();
    let n = size(&format!("{url}/checkpoint")).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut order: Vec<u64> = (0..n).collect();
    order.swap(1, 2);
    for i in order {
        let entry = {
            let mut r = ureq::get(&format!("{url}/entries/{i}")).call().unwrap();
            r.body_mut().read_to_vec().unwrap()
        };
        let mut r = agent
            .post(&format!("{}/entries", fork.url))
            .send(&entry[..])
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "{}",
            r.body_mut().read_to_string().unwrap()
        );
    }
    let real = get(&format!("{url}/checkpoint")).1;
    for node in &nodes {
        wait_until("the node to publish the fork", || {
            json(&format!("{}/node/evidence", node.proc.url))
                .as_array()
                .is_some_and(|e| !e.is_empty())
        });
        let ev = &json(&format!("{}/node/evidence", node.proc.url))[0];
        let (validated, received) = (
            ev["validated"].as_str().unwrap(),
            ev["received"].as_str().unwrap(),
        );
        assert!(real.starts_with(
            validated
                .lines()
                .take(3)
                .collect::<Vec<_>>()
                .join("\n")
                .as_str()
        ));
        assert!(
            received.starts_with(ORIGIN) && received != validated,
            "{ev}"
        );
        // Nothing of the second history was cosigned.
        assert_eq!(node.cosigned(), n);
    }
    // A client reading the second history asks the nodes and reports the fork, with both
    // checkpoints.
    let out = support::fails(&["verify", "--board", &fork.url]);
    assert!(out.contains("forked"), "{out}");
    let real_root = real.lines().nth(2).unwrap();
    let fork_root = get(&format!("{}/checkpoint", fork.url))
        .1
        .lines()
        .nth(2)
        .unwrap()
        .to_string();
    assert!(out.contains(real_root) && out.contains(&fork_root), "{out}");
    // So does a voter checking their receipt there: the check fails (exit 1), never "counted".
    let checked = support::urna(&["receipt", "check", &receipt, "--board", &fork.url]);
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert_eq!(checked.status.code(), Some(1), "{out}");
    assert!(out.contains("forked") && !out.contains("counted"), "{out}");
    assert!(out.contains(real_root) && out.contains(&fork_root), "{out}");
    assert!(out.contains("Keep your receipt"), "{out}");
    // And the booth, from either history: the fork with both signed checkpoints, no standing.
    in_the_browser(
        dir,
        &fork.url,
        "fork",
        &[real_root, &fork_root, "fork-second"],
    );
    let received: Vec<String> = nodes
        .iter()
        .flat_map(|n| {
            let list = json(&format!("{}/node/evidence", n.proc.url));
            list.as_array()
                .into_iter()
                .flatten()
                .filter_map(|ev| Some(ev["received"].as_str()?.lines().nth(2)?.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    in_the_browser(
        dir,
        &url,
        "fork",
        &[real_root, &received.join(","), "fork-evidence"],
    );
    // A forged piece of evidence (not two board-signed checkpoints) is refused by a node.
    let mut r = agent
        .post(&format!("{}/node/evidence", nodes[0].proc.url))
        .header("content-type", "application/json")
        .send(r#"{"reason":"x","validated":"a","received":"b"}"#)
        .unwrap();
    assert_eq!(
        r.status(),
        422,
        "{}",
        r.body_mut().read_to_string().unwrap()
    );
}
