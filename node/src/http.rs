//! The node over HTTP (specs/board.md §7.2):
//!
//! - the board's whole read API (`/checkpoint`, `/checkpoint/cosigned`, `/tile/…`,
//!   `/entries…`, `/receipt/…`, `/consistency/…`, `/info`, `/manifest`, the booth), served by
//!   the board's own handlers over the node's copy, as of its latest validated checkpoint;
//! - the witness's (`/checkpoint/<origin>`, `/state`, `/evidence`), and `POST /add-checkpoint`
//!   gated on validation: `422` `inadmissible-entry` (with the entry and the rule), `409`
//!   `fork`, `502` `board-misbehaved`, `503` `unavailable` when the entries could not be
//!   fetched yet — otherwise the tlog-witness answer;
//! - `GET /node` (its status), `GET /node/refusals` (the entry the rules refuse, if any),
//!   `GET /node/evidence` (conflicting board-signed checkpoints);
//! - `POST /entries` forwarded to the board, its answer passed back as it came (bounded).

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use urna_election::entry::MAX_ENTRY_SIZE;
use urna_serve::limits::Limits;

use crate::{Node, SyncError};

/// How long a forwarded submission may take at the board.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);
/// The most of the board's answer to a submission passed back (a receipt is a few KiB).
const FORWARD_ANSWER_LIMIT: u64 = 64 << 10;
/// An `add-checkpoint` body: one note and at most 63 proof lines.
const ADD_CHECKPOINT_LIMIT: usize = 64 << 10;

/// The node's router, with `limits` for the board's read handlers.
pub fn app(node: Arc<Node>, limits: Limits) -> Router {
    let board_api = urna_board::server::app_with(node.read_state(), limits);
    let own = Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route(
            "/node",
            get(|State(n): State<Arc<Node>>| async move { Json(n.status()) }),
        )
        .route(
            "/node/refusals",
            get(|State(n): State<Arc<Node>>| async move {
                Json(n.refusal().into_iter().collect::<Vec<_>>())
            }),
        )
        .route(
            "/node/evidence",
            // Readable from any page, as the witness's checkpoints are: the booth a voter
            // loads from the board asks every node the manifest names for its evidence.
            get(|State(n): State<Arc<Node>>| async move {
                (
                    [(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
                    Json(n.evidence()),
                )
            })
            .post(receive_evidence),
        )
        .layer(DefaultBodyLimit::max(ADD_CHECKPOINT_LIMIT))
        .with_state(Arc::clone(&node));
    board_api
        .merge(urna_witness::read_router(Arc::clone(node.witness())))
        .merge(own)
        .layer(axum::middleware::from_fn_with_state(
            node,
            forward_submissions,
        ))
}

fn sync_error_response(e: &SyncError) -> Response {
    let status = match e {
        SyncError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
        SyncError::Fork { .. } => StatusCode::CONFLICT,
        SyncError::Misbehaved(_) => StatusCode::BAD_GATEWAY,
        SyncError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        SyncError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut body = json!({"code": e.code(), "message": e.to_string()});
    if let SyncError::Refused(r) = e {
        body["refusal"] = json!(r);
    }
    (status, Json(body)).into_response()
}

/// Evidence another node found (JSON, as `GET /node/evidence` lists it).
async fn receive_evidence(State(node): State<Arc<Node>>, body: Bytes) -> Response {
    let Ok(ev) = serde_json::from_slice::<crate::Evidence>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": "malformed", "message": "not a piece of evidence"})),
        )
            .into_response();
    };
    match tokio::task::spawn_blocking(move || node.receive_evidence(&ev)).await {
        Ok(Ok(new)) => Json(json!({"recorded": new})).into_response(),
        Ok(Err(why)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"code": "not-evidence", "message": why})),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn add_checkpoint(State(node): State<Arc<Node>>, body: String) -> Response {
    match tokio::task::spawn_blocking(move || node.add_checkpoint(&body)).await {
        Ok(Ok(outcome)) => urna_witness::answer(outcome),
        Ok(Err(e)) => sync_error_response(&e),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `POST /entries` goes to the board; everything else to the router.
async fn forward_submissions(State(node): State<Arc<Node>>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || req.uri().path() != "/entries" {
        return next.run(req).await;
    }
    let body = match axum::body::to_bytes(req.into_body(), MAX_ENTRY_SIZE).await {
        Ok(b) => b,
        Err(_) => return (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(
                json!({"code": "oversized", "message": "the entry is larger than an entry may be"}),
            ),
        )
            .into_response(),
    };
    let url = format!("{}/entries", node.config().board_url.trim_end_matches('/'));
    let answered = tokio::task::spawn_blocking(move || forward(&url, &body))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
    match answered {
        Ok(r) => r,
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            Json(json!({"code": "unavailable", "message": format!("the board could not be reached through this node: {why}"), "retry_after": 1})),
        )
            .into_response(),
    }
}

fn forward(url: &str, body: &Bytes) -> Result<Response, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(FORWARD_TIMEOUT))
        .build()
        .into();
    let mut resp = agent
        .post(url)
        .header("content-type", "application/octet-stream")
        .send(&body[..])
        .map_err(|e| e.to_string())?;
    let status = StatusCode::from_u16(resp.status().as_u16()).map_err(|e| e.to_string())?;
    let keep = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (content_type, retry_after) = (keep("content-type"), keep("retry-after"));
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(FORWARD_ANSWER_LIMIT)
        .read_to_vec()
        .map_err(|e| e.to_string())?;
    let mut out = Response::builder().status(status);
    if let Some(c) = content_type {
        out = out.header(header::CONTENT_TYPE, c);
    }
    if let Some(r) = retry_after {
        out = out.header(header::RETRY_AFTER, r);
    }
    out.body(Body::from(bytes)).map_err(|e| e.to_string())
}
