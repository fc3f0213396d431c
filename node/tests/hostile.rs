//! The node against a hostile board (a fake one on loopback serving a real election's entries
//! under its real key, then lying): entries that do not hash to the signed root, short tiles,
//! oversized answers, an entry the rules refuse, and a second history under the same key.
//! Each case names what the node must say, and in none is anything stored past what was
//! proven, or cosigned.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use urna_crypto::sign::SigningKey;
use urna_ledger::merkle::{empty_root, leaf_hash, Tree};
use urna_ledger::note::Checkpoint;
use urna_ledger::tiles;
use urna_node::{Config, Node, SyncError};

/// How the fake board lies.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lie {
    None,
    /// Tiles with two entries swapped (the signed root is over the honest order).
    Swapped,
    /// Tiles holding one entry fewer than asked.
    Short,
    /// A tile of 65 MiB.
    Oversized,
    /// Tiles with two entries swapped past the first few.
    SwappedLater,
}

struct Fake {
    origin: String,
    key: SigningKey,
    /// The log it signs and serves.
    entries: Vec<Vec<u8>>,
    lie: Lie,
}

impl Fake {
    fn tree(&self) -> Tree {
        let mut t = Tree::new();
        for e in &self.entries {
            t.push(leaf_hash(e));
        }
        t
    }
    fn checkpoint(&self) -> (Checkpoint, String) {
        let t = self.tree();
        let cp = Checkpoint {
            origin: self.origin.clone(),
            size: t.size(),
            root: t.root(t.size()).unwrap_or_else(|_| empty_root()),
        };
        let note = cp.sign(&self.key);
        (cp, note)
    }
}

type Shared = Arc<Mutex<Fake>>;

async fn checkpoint(State(f): State<Shared>) -> String {
    f.lock().unwrap().checkpoint().1
}

async fn tile(State(f): State<Shared>, Path(rest): Path<String>) -> Response {
    let f = f.lock().unwrap();
    let Some(t) = tiles::parse_index(&rest) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let start = (t.index * tiles::WIDTH) as usize;
    let width = t.width.unwrap_or(tiles::WIDTH) as usize;
    let mut got: Vec<Vec<u8>> = f.entries[start..start + width].to_vec();
    match f.lie {
        Lie::None => {}
        Lie::Swapped => got.swap(1, 2),
        Lie::SwappedLater => got.swap(12, 13),
        Lie::Short => {
            got.pop();
        }
        Lie::Oversized => return vec![0u8; 65 << 20].into_response(),
    }
    tiles::entry_bundle(got.iter().map(Vec::as_slice)).into_response()
}

async fn consistency(State(f): State<Shared>, Path((a, b)): Path<(u64, u64)>) -> Response {
    let proof = f.lock().unwrap().tree().consistency_proof(a, b).unwrap();
    axum::Json(serde_json::json!({
        "proof": proof.iter().map(|h| urna_crypto::hex::encode(h)).collect::<Vec<_>>()
    }))
    .into_response()
}

/// Serves `fake` on loopback; returns its URL.
fn serve(fake: Shared) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = Router::new()
                .route("/checkpoint", get(checkpoint))
                .route("/tile/entries/{*rest}", get(tile))
                .route("/consistency/{a}/{b}", get(consistency))
                .with_state(fake);
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(l, app).await.unwrap();
        });
    });
    url
}

struct Setup {
    fake: Shared,
    node: Node,
    _dir: tempfile::TempDir,
    entries: Vec<Vec<u8>>,
}

fn setup(lie: Lie) -> Setup {
    let r = urna_sim::kit::record(41);
    let entries: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let origin = r.kit.manifest.election_id.clone();
    let fake = Arc::new(Mutex::new(Fake {
        origin: origin.clone(),
        key: r.kit.board.clone(),
        entries: entries.clone(),
        lie,
    }));
    let url = serve(Arc::clone(&fake));
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(Config {
        dir: dir.path().to_path_buf(),
        origin,
        board_key: r.kit.board.verifying_key(),
        board_url: url,
        name: "n1.example".into(),
        key: SigningKey::from_seed(&[9; 32]),
    })
    .unwrap();
    Setup {
        fake,
        node,
        _dir: dir,
        entries,
    }
}

fn nothing_stored_or_cosigned(s: &Setup) {
    assert_eq!(s.node.validated_size(), 0);
    assert_eq!(s.node.status()["held"], 0);
    assert!(s.node.witness().state_json()["logs"]
        .as_object()
        .unwrap()
        .is_empty());
}

#[test]
fn an_honest_board_is_followed_validated_and_cosigned() {
    let s = setup(Lie::None);
    let n = s.node.follow_once().unwrap();
    assert_eq!(n, s.entries.len() as u64);
    assert_eq!(s.node.validated_size(), n);
    assert_eq!(
        s.node.witness().state_json()["logs"][&s.fake.lock().unwrap().origin]["size"],
        n
    );
}

#[test]
fn entries_that_do_not_hash_to_the_signed_root_are_not_stored() {
    let s = setup(Lie::Swapped);
    let e = s.node.follow_once().unwrap_err();
    assert!(matches!(e, SyncError::Misbehaved(_)), "{e}");
    assert_eq!(e.code(), "board-misbehaved");
    nothing_stored_or_cosigned(&s);
}

#[test]
fn a_tile_short_of_entries_is_refused() {
    let s = setup(Lie::Short);
    let e = s.node.follow_once().unwrap_err();
    assert!(matches!(e, SyncError::Misbehaved(_)), "{e}");
    nothing_stored_or_cosigned(&s);
}

#[test]
fn an_oversized_tile_is_not_read_and_nothing_is_stored() {
    let s = setup(Lie::Oversized);
    assert!(s.node.follow_once().is_err());
    nothing_stored_or_cosigned(&s);
}

#[test]
fn a_signed_entry_the_rules_refuse_stops_cosigning_and_is_published() {
    let s = setup(Lie::None);
    s.node.follow_once().unwrap();
    let good = s.node.validated_size();
    // The board signs a log with a second Setup appended.
    {
        let mut f = s.fake.lock().unwrap();
        let first = f.entries[0].clone();
        f.entries.push(first);
    }
    let e = s.node.follow_once().unwrap_err();
    let SyncError::Refused(r) = &e else {
        panic!("{e}")
    };
    assert_eq!((r.index, r.kind.as_str()), (good, "Setup"));
    assert_eq!(e.code(), "inadmissible-entry");
    assert_eq!(s.node.refusal().as_ref(), Some(r));
    assert_eq!(s.node.validated_size(), good, "nothing past the refusal");
    // Asked to cosign the checkpoint over it: refused with the refusal.
    let (_, note) = s.fake.lock().unwrap().checkpoint();
    let old = format!("old {good}\n");
    let proof = s
        .fake
        .lock()
        .unwrap()
        .tree()
        .consistency_proof(good, good + 1)
        .unwrap();
    use base64::Engine;
    let lines: String = proof
        .iter()
        .map(|h| base64::engine::general_purpose::STANDARD.encode(h) + "\n")
        .collect();
    assert!(matches!(
        s.node.add_checkpoint(&format!("{old}{lines}\n{note}")),
        Err(SyncError::Refused(_))
    ));
}

#[test]
fn a_second_history_under_the_same_key_is_kept_as_evidence_and_not_cosigned() {
    let s = setup(Lie::None);
    s.node.follow_once().unwrap();
    let (honest, honest_note) = s.fake.lock().unwrap().checkpoint();
    {
        let mut f = s.fake.lock().unwrap();
        let n = f.entries.len();
        f.entries.swap(n - 1, n - 2);
    }
    let e = s.node.follow_once().unwrap_err();
    assert!(matches!(e, SyncError::Fork { .. }), "{e}");
    let ev = s.node.evidence();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].validated, honest_note);
    assert_ne!(ev[0].received, honest_note);
    assert_eq!(s.node.validated_size(), honest.size);
    // The evidence survives a restart.
    let cfg = s.node.config().clone();
    drop(s.node);
    let again = Node::open(cfg).unwrap();
    assert_eq!(again.evidence(), ev);
    assert_eq!(again.validated_size(), honest.size);
}

/// Serves the node's router on loopback; returns its URL.
fn serve_node(node: Node) -> String {
    let node = Arc::new(node);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = urna_node::http::app(node, urna_serve::limits::Limits::unlimited());
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(
                l,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap();
        });
    });
    url
}

fn post(url: &str, body: &[u8]) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    match agent.post(url).send(body) {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(e) => (0, e.to_string()),
    }
}

#[test]
fn the_nodes_api_answers_bad_input_with_typed_errors() {
    let s = setup(Lie::None);
    s.node.follow_once().unwrap();
    let origin = s.fake.lock().unwrap().origin.clone();
    let (_, note) = s.fake.lock().unwrap().checkpoint();
    // The board it forwards to is gone (a port nothing listens on).
    let mut cfg = s.node.config().clone();
    drop(s.node);
    cfg.board_url = format!(
        "http://{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    );
    let url = serve_node(Node::open(cfg).unwrap());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent.get(&format!("{url}/checkpoint")).call().unwrap();
    assert_eq!(
        r.body_mut().read_to_string().unwrap(),
        note,
        "served from its copy"
    );
    let (status, body) = post(&format!("{url}/entries"), b"an entry");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"unavailable\""), "{body}");
    let (status, body) = post(
        &format!("{url}/entries"),
        &vec![0u8; urna_election::entry::MAX_ENTRY_SIZE + 1],
    );
    assert_eq!(status, 413, "{body}");
    let (status, body) = post(&format!("{url}/add-checkpoint"), b"not a request");
    assert_eq!(status, 400, "{body}");
    let (status, _) = post(&format!("{url}/add-checkpoint"), &vec![b'a'; 100 << 10]);
    assert_eq!(status, 413);
    // A checkpoint signed by someone else: 403, as a witness answers.
    let forged = Checkpoint {
        origin: origin.clone(),
        size: 1,
        root: [0; 32],
    }
    .sign(&SigningKey::from_seed(&[3; 32]));
    let (status, body) = post(
        &format!("{url}/add-checkpoint"),
        format!("old 0\n\n{forged}").as_bytes(),
    );
    assert_eq!(status, 403, "{body}");
    let (status, body) = post(&format!("{url}/node/evidence"), b"{}");
    assert_eq!(status, 400, "{body}");
    let mut r = agent.get(&format!("{url}/node")).call().unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(v["origin"], origin);
}

#[test]
fn a_long_log_is_followed_in_small_steps_each_proven_before_it_is_stored() {
    let mut s = setup(Lie::None);
    s.node.set_step_entries(5);
    assert_eq!(s.node.follow_once().unwrap(), s.entries.len() as u64);
    assert_eq!(s.node.validated_size(), s.entries.len() as u64);
    // A board lying in a later step: the steps before it are stored (proven prefixes of the
    // signed log), nothing of the lying step is, and nothing is validated or cosigned.
    let mut s = setup(Lie::SwappedLater);
    s.node.set_step_entries(5);
    let e = s.node.follow_once().unwrap_err();
    assert!(matches!(e, SyncError::Misbehaved(_)), "{e}");
    assert_eq!(s.node.status()["held"], 10);
    assert_eq!(s.node.validated_size(), 0);
    assert!(s.node.witness().state_json()["logs"]
        .as_object()
        .unwrap()
        .is_empty());
}

/// A node serves the voter's light view (`specs/board.md` §5.2, §7.2) from its own copy and
/// index: the election's entries and the credential's, under the board's checkpoint it
/// validated.
#[test]
fn a_node_serves_the_voters_light_view_from_its_copy() {
    let s = setup(Lie::None);
    let n = s.node.follow_once().unwrap();
    let voter = urna_sim::kit::record(41).kit.voters[4].key.verifying_key();
    let url = serve_node(s.node);
    let body = ureq::get(&format!(
        "{url}/voter/{}",
        urna_crypto::hex::encode(voter.as_bytes())
    ))
    .call()
    .unwrap()
    .into_body()
    .read_to_string()
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["size"], n);
    assert!(!v["election"].as_array().unwrap().is_empty());
    let mine = v["credential"].as_array().unwrap();
    assert!(mine.len() >= 2, "{v}");
    let roll = urna_crypto::hex::decode(mine[0]["entry"].as_str().unwrap()).unwrap();
    assert_eq!(
        urna_election::entry::Entry::kind_of(&roll),
        Some(urna_election::entry::EntryKind::VoterRoll)
    );
}
