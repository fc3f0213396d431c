//! A sequencer on the shared PostgreSQL log takes forwarded submissions with an attestation
//! (`specs/storage.md` §5a): one signed with the board key, for its lease epoch and these bytes,
//! is admitted — its proofs taken as verified by the forwarder, its budget as charged there —
//! and a forged or stale one, one for other bytes, or one signed with another key is refused,
//! typed, with nothing changed. Skipped, saying so, without PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use urna_board::attest::{self, Statement};
use urna_board::server::replicated::{self, Config, Role};
use urna_board::server::{app_with, Limits};
use urna_crypto::sign::SigningKey;
use urna_election::entry::EntryKind;
use urna_pgcluster::Cluster;
use urna_pgstore::{Durability, Identity, Options, PgStore};
use urna_sim::kit;

async fn call(router: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A submission from `peer` (as the server's connection info would give it), with an
/// attestation header if given.
fn post(bytes: &[u8], peer: &str, attestation: Option<String>) -> Request<Body> {
    let mut b = Request::post("/entries");
    if let Some(a) = attestation {
        b = b.header(attest::HEADER, a);
    }
    let mut req = b.body(Body::from(bytes.to_vec())).unwrap();
    let ip: IpAddr = peer.parse().unwrap();
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

/// The PostgreSQL client runs its own runtime: the store is opened outside the test's.
#[test]
fn the_sequencer_takes_attested_forwards_and_refuses_bad_attestations() {
    if let Err(e) = urna_pgcluster::binaries() {
        eprintln!(
            "SKIPPED the_sequencer_takes_attested_forwards_and_refuses_bad_attestations: {e}"
        );
        return;
    }
    let cluster = Cluster::start(1).unwrap();
    let r = kit::record(24);
    let origin = r.kit.id().to_string();
    let board = r.kit.board.clone();
    let identity = Identity {
        origin: origin.clone(),
        board_key: *board.verifying_key().as_bytes(),
    };
    let created = PgStore::open(
        &cluster.url(),
        identity.clone(),
        Options {
            create: true,
            ..Options::default()
        },
    )
    .unwrap();
    drop(created);
    let (state, role) = replicated::start(Config {
        url: cluster.url(),
        origin: origin.clone(),
        key: board.clone(),
        durability: Durability::Replicated,
        advertise: "http://127.0.0.1:9".into(),
        snapshot_every: 0,
    })
    .unwrap();
    assert_eq!(role, Role::Sequencer);
    // One token per credential (and one more once its signature verifies), none refilled.
    let limits = Limits {
        submit_rate: 1e-6,
        submit_burst: 1.0,
        ..Limits::unlimited()
    };
    // The election's officials submit many entries each: not under these limits.
    let officials = app_with(state.clone(), Limits::unlimited());
    let router = app_with(state, limits);
    let reader = PgStore::open(
        &cluster.url(),
        identity,
        Options {
            holder: "reader".into(),
            ..Options::default()
        },
    )
    .unwrap();
    let (epoch, _) = reader.sequencer().unwrap().unwrap();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(exercise(officials, router, r, origin, board, epoch));
}

async fn exercise(
    officials: axum::Router,
    router: axum::Router,
    r: kit::Record,
    origin: String,
    board: SigningKey,
    epoch: u64,
) {
    let first_ballot = r
        .entries
        .iter()
        .position(|e| e.kind() == EntryKind::Ballot)
        .unwrap();
    for e in &r.entries[..first_ballot] {
        let (status, body) = call(&officials, post(e.bytes(), "10.0.0.1", None)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let attest = |bytes: &[u8], epoch: u64, verified: bool, key: &SigningKey| {
        Statement {
            epoch,
            leaf: urna_ledger::merkle::leaf_hash(bytes),
            verified,
            client: "192.0.2.44".parse().unwrap(),
        }
        .sign(&origin, key)
        .to_header()
    };
    let ballots: Vec<&[u8]> = r.entries[first_ballot..]
        .iter()
        .filter(|e| e.kind() == EntryKind::Ballot)
        .map(|e| e.bytes())
        .collect();
    let (b0, b1, b2) = (ballots[0], ballots[1], ballots[2]);

    // Verified by the forwarder, attested for this epoch and these bytes: admitted.
    let before = size(&router).await;
    let header = attest(b0, epoch, true, &board);
    let (status, body) = call(&router, post(b0, "10.0.0.2", Some(header.clone()))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(size(&router).await, before + 1);
    // The same attestation and bytes replayed (by the network, or a follower's retry): the
    // entry is not admitted twice; the answer is its receipt again.
    let (status, again) = call(&router, post(b0, "10.0.0.9", Some(header))).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, body);
    assert_eq!(size(&router).await, before + 1);

    // Refused, typed, and nothing changes.
    let mut forged = attest(b1, epoch, true, &board);
    let flip = forged.len() - 5;
    forged.replace_range(
        flip..flip + 1,
        if &forged[flip..flip + 1] == "A" {
            "B"
        } else {
            "A"
        },
    );
    let stranger = SigningKey::from_seed(&[9; 32]);
    let refusals = [
        ("forged", forged, StatusCode::FORBIDDEN, "bad-attestation"),
        (
            "stale",
            attest(b1, epoch - 1, true, &board),
            StatusCode::CONFLICT,
            "stale-attestation",
        ),
        (
            "future",
            attest(b1, epoch + 1, true, &board),
            StatusCode::CONFLICT,
            "stale-attestation",
        ),
        (
            "other bytes",
            attest(b2, epoch, true, &board),
            StatusCode::FORBIDDEN,
            "bad-attestation",
        ),
        (
            "not the board's key",
            attest(b1, epoch, true, &stranger),
            StatusCode::FORBIDDEN,
            "bad-attestation",
        ),
        (
            "malformed",
            "v1 1 verified".to_string(),
            StatusCode::BAD_REQUEST,
            "bad-attestation",
        ),
    ];
    let at = size(&router).await;
    for (what, header, want, code) in refusals {
        let (status, body) = call(&router, post(b1, "10.0.0.2", Some(header))).await;
        assert_eq!(status, want, "{what}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], code, "{what}");
        assert_eq!(size(&router).await, at, "{what}");
    }

    // Unverified by the forwarder (it could not check the proofs): verified here, admitted.
    let (status, body) = call(
        &router,
        post(b1, "10.0.0.2", Some(attest(b1, epoch, false, &board))),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Charged once. Voter 1 (whose first ballot was b1, forwarded) revotes twice. Its budget
    // (one token, and one more once a signature verifies) is spent by direct submissions — the
    // first revote and its resubmission, answered with its receipt — so the second revote is
    // refused when submitted directly, but not when forwarded with an attestation: charged
    // where the client submitted it, not again here.
    let voter = r.entries[first_ballot..]
        .iter()
        .find(|e| e.bytes() == b1)
        .unwrap()
        .author();
    let revotes: Vec<&[u8]> = r.entries[first_ballot..]
        .iter()
        .filter(|e| e.kind() == EntryKind::Ballot && e.author() == voter)
        .map(|e| e.bytes())
        .collect();
    assert_eq!(revotes.len(), 3, "the record's voter 1 revotes twice");
    for _ in 0..2 {
        let (status, body) = call(&router, post(revotes[1], "10.0.0.3", None)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _) = call(&router, post(revotes[2], "10.0.0.3", None)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let forwarded = attest(revotes[2], epoch, true, &board);
    let (status, body) = call(&router, post(revotes[2], "10.0.0.3", Some(forwarded))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
