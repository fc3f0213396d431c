//! The HTTP API over the router: submissions get receipts or typed JSON rejections, reads serve
//! the checkpoint, entries, receipts by tracking code and consistency proofs.

#[path = "../../election/tests/common/kit.rs"]
mod kit;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use urna_board::board::Board;
use urna_board::note::{Checkpoint, Receipt};
use urna_board::server::{app, start};

async fn call(router: &axum::Router, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    (
        status,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

fn post(bytes: Vec<u8>) -> Request<Body> {
    Request::post("/entries").body(Body::from(bytes)).unwrap()
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_read_and_reject_over_http() {
    let r = kit::record(31);
    let dir = tempfile::tempdir().unwrap();
    let board = Board::open(dir.path(), r.kit.id(), r.kit.board.clone()).unwrap();
    let vk = board.public_key();
    let router = app(start(board).0);
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    // Every entry of a whole election, one request each; each receipt verifies offline.
    let (status, body) = call(&router, post(raw[0].clone())).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    for e in &raw[1..] {
        let (status, body) = call(&router, post(e.clone())).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let receipt = Receipt::parse(std::str::from_utf8(&body).unwrap()).unwrap();
        receipt.verify(e, r.kit.id(), &vk).unwrap();
    }
    let (status, body) = call(&router, get("/checkpoint")).await;
    assert_eq!(status, StatusCode::OK);
    let cp = Checkpoint::open(std::str::from_utf8(&body).unwrap(), r.kit.id(), &vk).unwrap();
    assert_eq!(cp.size, raw.len() as u64);
    // A ballot's receipt by its tracking code.
    let code = r.entries[r.challenged_at].leaf_hash();
    let tc = urna_election::entry::TrackingCode(code).full();
    let (status, body) = call(&router, get(&format!("/receipt/{tc}"))).await;
    assert_eq!(status, StatusCode::OK);
    Receipt::parse(std::str::from_utf8(&body).unwrap())
        .unwrap()
        .verify(&raw[r.challenged_at], r.kit.id(), &vk)
        .unwrap();
    let (status, body) = call(&router, get("/entries/3")).await;
    assert_eq!((status, body), (StatusCode::OK, raw[3].clone()));
    let (status, body) = call(&router, get("/consistency/5/20")).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(!v["proof"].as_array().unwrap().is_empty());
    // Rejections are typed JSON and change nothing.
    let (status, body) = call(&router, post(raw[0][..30].to_vec())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "malformed");
    let (status, _) = call(&router, post(vec![0; 70_000])).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) = call(&router, get("/info")).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["size"], raw.len());
    assert_eq!(v["phase"], "finished");
    let (status, _) = call(&router, get("/entries/9999")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
