//! The board over HTTP (axum): submissions go through one writer task that commits them in
//! groups; reads take a shared lock on the board.
//!
//! - `POST /entries` (body: the entry's bytes) → `200` with the receipt (`text/plain`, a C2SP
//!   tlog-proof), or `4xx` with `{"code", "message", "rejection"}`.
//! - `GET /checkpoint` → the latest signed checkpoint (`text/plain`).
//! - `GET /receipt/{hash}` → the receipt of the entry with that leaf hash (64 hex digits or a
//!   tracking code).
//! - `GET /entries/{index}` → the entry's bytes.
//! - `GET /consistency/{old}/{new}` → `{"proof": [hex…]}` (RFC 9162).
//! - `GET /info` → origin, keys, size, phase and counts (JSON).

use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use urna_crypto::hex;
use urna_election::entry::{TrackingCode, MAX_ENTRY_SIZE};
use urna_election::rejection::Rejection;

use crate::board::Board;
use crate::note::{verifier_key, Receipt};

/// Most submissions committed together (one state-machine batch, one fdatasync).
pub const MAX_GROUP: usize = 512;
/// Submissions waiting for the writer before new ones are refused with 503.
pub const QUEUE: usize = 8192;

type Reply = oneshot::Sender<Result<Receipt, Rejection>>;

#[derive(Clone)]
pub struct AppState {
    board: Arc<RwLock<Board>>,
    submit: mpsc::Sender<(Vec<u8>, Reply)>,
}

/// Starts the writer task and returns the state the router serves, and a receiver that yields
/// the error if storage fails. The writer then stops: state in memory may be ahead of the disk,
/// so nothing more is acknowledged (submissions get 503) and the process must restart, which
/// recovers from the log. Whether to exit is the caller's decision.
pub fn start(board: Board) -> (AppState, oneshot::Receiver<std::io::Error>) {
    let board = Arc::new(RwLock::new(board));
    let (tx, mut rx) = mpsc::channel::<(Vec<u8>, Reply)>(QUEUE);
    let (fatal_tx, fatal_rx) = oneshot::channel();
    let writer = Arc::clone(&board);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(s) => group.push(s),
                    Err(_) => break,
                }
            }
            let board = Arc::clone(&writer);
            let (bodies, replies): (Vec<Vec<u8>>, Vec<Reply>) = group.into_iter().unzip();
            let outcome = tokio::task::spawn_blocking(move || match board.write() {
                Ok(mut b) => b.submit(&bodies),
                Err(_) => Err(std::io::Error::other("board lock poisoned")),
            })
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(format!("writer failed: {e}"))));
            match outcome {
                Ok(results) => {
                    for (reply, r) in replies.into_iter().zip(results) {
                        let _ = reply.send(r);
                    }
                }
                Err(e) => {
                    let _ = fatal_tx.send(e);
                    return;
                }
            }
        }
    });
    (AppState { board, submit: tx }, fatal_rx)
}

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/entries", post(submit))
        .route("/entries/{index}", get(entry))
        .route("/checkpoint", get(checkpoint))
        .route("/receipt/{hash}", get(receipt))
        .route("/consistency/{old}/{new}", get(consistency))
        .route("/info", get(info))
        .layer(DefaultBodyLimit::max(MAX_ENTRY_SIZE))
        .with_state(state)
}

fn rejection_response(r: &Rejection) -> Response {
    let status = match r {
        Rejection::Oversized { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Rejection::Malformed { .. } => StatusCode::BAD_REQUEST,
        Rejection::BadSignature | Rejection::UnauthorisedAuthor { .. } | Rejection::NotEligible => {
            StatusCode::FORBIDDEN
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    (
        status,
        Json(json!({"code": r.code(), "message": r.to_string(), "rejection": r})),
    )
        .into_response()
}

fn unavailable(why: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"code": "unavailable", "message": why})),
    )
        .into_response()
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"code": "not-found", "message": what})),
    )
        .into_response()
}

fn text(s: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], s).into_response()
}

async fn submit(State(st): State<AppState>, body: Bytes) -> Response {
    let (tx, rx) = oneshot::channel();
    if st.submit.try_send((body.to_vec(), tx)).is_err() {
        return unavailable("the board is at capacity; retry shortly");
    }
    match rx.await {
        Ok(Ok(receipt)) => text(receipt.to_text()),
        Ok(Err(r)) => rejection_response(&r),
        Err(_) => unavailable("the board stopped before answering"),
    }
}

/// Runs `f` under the read lock; `None` only if a writer panicked while holding it.
fn read<T>(st: &AppState, f: impl FnOnce(&Board) -> T) -> Option<T> {
    st.board.read().ok().map(|b| f(&b))
}

const POISONED: &str = "board state unavailable";

async fn checkpoint(State(st): State<AppState>) -> Response {
    match read(&st, |b| b.checkpoint().to_string()) {
        Some(c) => text(c),
        None => unavailable(POISONED),
    }
}

async fn entry(State(st): State<AppState>, Path(index): Path<u64>) -> Response {
    match read(&st, |b| b.entry(index).map(<[u8]>::to_vec)) {
        Some(Some(bytes)) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
        }
        Some(None) => not_found("no entry at that index"),
        None => unavailable(POISONED),
    }
}

async fn receipt(State(st): State<AppState>, Path(hash): Path<String>) -> Response {
    let Some(code) = TrackingCode::parse(&hash) else {
        return not_found("not a leaf hash or tracking code");
    };
    match read(&st, |b| b.index_of(&code.0).and_then(|i| b.receipt(i))) {
        Some(Some(r)) => text(r.to_text()),
        Some(None) => not_found("no entry with that leaf hash"),
        None => unavailable(POISONED),
    }
}

async fn consistency(State(st): State<AppState>, Path((old, new)): Path<(u64, u64)>) -> Response {
    match read(&st, |b| b.tree().consistency_proof(old, new)) {
        Some(Ok(p)) => Json(json!({"old": old, "new": new, "proof": p.iter().map(|h| hex::encode(h)).collect::<Vec<_>>()})).into_response(),
        Some(Err(e)) => (StatusCode::BAD_REQUEST, Json(json!({"code": "bad-range", "message": e.to_string()}))).into_response(),
        None => unavailable(POISONED),
    }
}

async fn info(State(st): State<AppState>) -> Response {
    let v = read(&st, |b| {
        let e = b.election();
        json!({
            "origin": b.origin(),
            "board_key": hex::encode(b.public_key().as_bytes()),
            "verifier_key": verifier_key(b.origin(), &b.public_key()),
            "size": b.size(),
            "phase": e.phase(),
            "counts": e.counts(),
            "manifest_hash": e.manifest().map(|_| hex::encode(&e.manifest_hash())),
        })
    });
    match v {
        Some(v) => Json(v).into_response(),
        None => unavailable(POISONED),
    }
}
