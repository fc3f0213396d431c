//! A follower on the shared PostgreSQL log, in process, in front of a real sequencer
//! (`specs/storage.md` §5a): it refuses what fails verification itself — typed, nothing
//! forwarded, nothing appended — forwards the rest with an attestation, looks the sequencer up
//! again and forwards once more after a `409`, answers `503` when that fails too, and relays
//! the sequencer's own refusals as they are. A proxy in front of the sequencer counts what
//! reaches it and answers `409` when told to. Skipped, saying so, without PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tower::ServiceExt;
use urna_board::attest;
use urna_board::server::replicated::{self, Config, Role};
use urna_board::server::{app_with, Limits};
use urna_election::entry::{Entry, EntryKind};
use urna_ledger::note::Receipt;
use urna_pgcluster::Cluster;
use urna_pgstore::{Durability, Identity, Options, PgStore};
use urna_sim::kit;

async fn call(router: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn post(bytes: &[u8]) -> Request<Body> {
    let mut req = Request::post("/entries")
        .body(Body::from(bytes.to_vec()))
        .unwrap();
    let ip: IpAddr = "192.0.2.7".parse().unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(ip, 40000)));
    req
}

async fn size(router: &axum::Router) -> u64 {
    let req = Request::get("/info").body(Body::empty()).unwrap();
    let (_, body) = call(router, req).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["size"].as_u64().unwrap()
}

fn code(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    v["code"].as_str().unwrap_or_default().to_string()
}

/// What stands between the follower and the sequencer.
struct Proxy {
    sequencer: axum::Router,
    /// Submissions that reached it.
    hits: AtomicU64,
    /// How many of the next submissions to answer `409` (a lease that moved) without passing
    /// them on.
    conflicts: AtomicU64,
    /// Attestations it passed on.
    attested: AtomicU64,
}

async fn relay(State(p): State<Arc<Proxy>>, req: Request<Body>) -> Response {
    p.hits.fetch_add(1, Ordering::SeqCst);
    if p.conflicts
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        let body = r#"{"code":"stale-attestation","error":"the lease moved"}"#;
        return (StatusCode::CONFLICT, body).into_response();
    }
    if req.headers().contains_key(attest::HEADER) {
        p.attested.fetch_add(1, Ordering::SeqCst);
    }
    let (parts, body) = req.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let mut out = Request::from_parts(parts, Body::from(bytes));
    out.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40001))));
    p.sequencer.clone().oneshot(out).await.unwrap()
}

/// The PostgreSQL client runs its own runtime: the processes are started outside the test's.
#[test]
fn a_follower_verifies_forwards_retries_and_relays() {
    if let Err(e) = urna_pgcluster::binaries() {
        eprintln!("SKIPPED a_follower_verifies_forwards_retries_and_relays: {e}");
        return;
    }
    let cluster = Cluster::start(1).unwrap();
    let r = kit::record(28);
    let origin = r.kit.id().to_string();
    let identity = Identity {
        origin: origin.clone(),
        board_key: *r.kit.board.verifying_key().as_bytes(),
    };
    let created = PgStore::open(
        &cluster.url(),
        identity,
        Options {
            create: true,
            ..Options::default()
        },
    )
    .unwrap();
    drop(created);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let proxy_at = listener.local_addr().unwrap();
    let config = |advertise: String| Config {
        url: cluster.url(),
        origin: origin.clone(),
        key: r.kit.board.clone(),
        durability: Durability::Replicated,
        advertise,
        snapshot_every: 0,
    };
    // The sequencer records the proxy's address with its lease: followers forward there.
    let (sequencer, role) = replicated::start(config(format!("http://{proxy_at}"))).unwrap();
    assert_eq!(role, Role::Sequencer);
    let (follower, role) = replicated::start(config("http://127.0.0.1:9".into())).unwrap();
    assert_eq!(role, Role::Follower);
    let sequencer = app_with(sequencer, Limits::unlimited());
    let follower = app_with(follower, Limits::unlimited());
    let proxy = Arc::new(Proxy {
        sequencer: sequencer.clone(),
        hits: AtomicU64::new(0),
        conflicts: AtomicU64::new(0),
        attested: AtomicU64::new(0),
    });
    let app = axum::Router::new()
        .route("/entries", axum::routing::post(relay))
        .with_state(Arc::clone(&proxy));
    rt.spawn(async move { axum::serve(listener, app).await });
    rt.block_on(exercise(sequencer, follower, proxy, r));
}

/// Waits until the follower serves the sequencer's size.
async fn caught_up(sequencer: &axum::Router, follower: &axum::Router) {
    let want = size(sequencer).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while size(follower).await != want {
        assert!(Instant::now() < deadline, "the follower did not catch up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // It takes what it checks ballots' proofs against right after serving the new size.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

async fn exercise(
    sequencer: axum::Router,
    follower: axum::Router,
    proxy: Arc<Proxy>,
    mut r: kit::Record,
) {
    let open_at = r
        .entries
        .iter()
        .position(|e| e.kind() == EntryKind::OpenVoting)
        .unwrap();
    for e in &r.entries[..=open_at] {
        let (status, body) = call(&sequencer, post(e.bytes())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    caught_up(&sequencer, &follower).await;
    let ballots: Vec<Entry> = r.entries[open_at..]
        .iter()
        .filter(|e| e.kind() == EntryKind::Ballot)
        .cloned()
        .collect();
    let ctx = {
        let mut e = urna_election::state::Election::new();
        kit::apply_all(&mut e, &r.entries[..=open_at]);
        e.context().unwrap().clone()
    };

    // Refused by the follower itself, typed: nothing reaches the sequencer, nothing appended.
    let choices = r.kit.random_choices(r.kit.voters[0].style);
    let (foreign, _) = r.kit.encrypt(0, &choices, &ctx);
    // Signed by voter 2, its proofs made for voter 0's credential.
    let misbound = r.kit.ballot_entry(2, foreign);
    let mut flipped = ballots[3].bytes().to_vec();
    let at = flipped.len() - 100;
    flipped[at] ^= 1;
    let at = size(&sequencer).await;
    for (what, bytes, status, want) in [
        (
            "a ballot whose proofs do not verify",
            misbound.bytes().to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-ballot",
        ),
        (
            "a bad signature",
            flipped,
            StatusCode::FORBIDDEN,
            "bad-signature",
        ),
        (
            "bytes that are not an entry",
            b"not an entry".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed",
        ),
    ] {
        let (s, body) = call(&follower, post(&bytes)).await;
        assert_eq!(s, status, "{what}: {body}");
        assert_eq!(code(&body), want, "{what}: {body}");
    }
    assert_eq!(proxy.hits.load(Ordering::SeqCst), 0, "nothing forwarded");
    assert_eq!(size(&sequencer).await, at, "nothing appended");

    // A valid ballot: forwarded once, attested, admitted; the follower returns the receipt.
    let (s, body) = call(&follower, post(ballots[0].bytes())).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    Receipt::parse(&body).unwrap();
    assert_eq!(proxy.hits.load(Ordering::SeqCst), 1);
    assert_eq!(proxy.attested.load(Ordering::SeqCst), 1);
    assert_eq!(size(&sequencer).await, at + 1);

    // One 409 (the lease moved since the follower looked): it looks again, re-attests and
    // forwards once more.
    proxy.conflicts.store(1, Ordering::SeqCst);
    let (s, body) = call(&follower, post(ballots[1].bytes())).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(proxy.hits.load(Ordering::SeqCst), 3);
    assert_eq!(size(&sequencer).await, at + 2);

    // Two: it gives up with 503 (retry), nothing acknowledged; the client's retry succeeds.
    proxy.conflicts.store(2, Ordering::SeqCst);
    let (s, body) = call(&follower, post(ballots[2].bytes())).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(proxy.hits.load(Ordering::SeqCst), 5, "one retry, no more");
    assert_eq!(size(&sequencer).await, at + 2);
    let (s, body) = call(&follower, post(ballots[2].bytes())).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(size(&sequencer).await, at + 3);

    // The sequencer's own refusal of what the follower verified (an order-dependent rule:
    // the polls have closed) is relayed with its status and body.
    let close = r
        .entries
        .iter()
        .find(|e| e.kind() == EntryKind::CloseVoting)
        .unwrap();
    let (s, body) = call(&sequencer, post(close.bytes())).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    caught_up(&sequencer, &follower).await;
    let hits = proxy.hits.load(Ordering::SeqCst);
    let direct = call(&sequencer, post(ballots[4].bytes())).await;
    let (s, body) = call(&follower, post(ballots[4].bytes())).await;
    assert_eq!(proxy.hits.load(Ordering::SeqCst), hits + 1);
    assert_eq!(code(&body), "wrong-phase", "{body}");
    assert_eq!((s, body), direct, "relayed as the sequencer answered");
}
