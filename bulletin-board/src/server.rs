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
//! - `GET /manifest` → the manifest (JSON), once `Setup` is on the log.
//! - `GET /entries?start=S&end=E&limit=L` → a page of a JSON view of the entries (at most 1,000
//!   and 2 MiB of entries), with the next page's start.
//! - `GET /tile/<L>/<N>[.p/<W>]`, `GET /tile/entries/<N>[.p/<W>]` → C2SP tlog-tiles.
//! - `GET /openapi.json` → the OpenAPI description of all of the above.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use urna_crypto::hex;
use urna_election::entry::{Entry, TrackingCode, MAX_ENTRY_SIZE};
use urna_election::rejection::Rejection;

use crate::board::{Board, SubmitError};
use base64::Engine;
use urna_ledger::note::{verifier_key, Receipt};
use urna_ledger::tiles;
use urna_serve::limits::{self, Limiter, Refused};

/// Most submissions committed together (one state-machine batch, one fdatasync).
pub const MAX_GROUP: usize = 512;
/// Submissions waiting for the writer before new ones are refused with 503.
pub const QUEUE: usize = 8192;

type Reply = oneshot::Sender<Result<Receipt, SubmitError>>;

#[derive(Clone)]
pub struct AppState {
    board: Arc<RwLock<Board>>,
    submit: mpsc::Sender<(Vec<u8>, Reply)>,
}

/// How long the board waits for a witness before going on without it.
const WITNESS_TIMEOUT: Duration = Duration::from_secs(5);
/// While a witness has not cosigned the latest checkpoint, it is asked again after this, doubling
/// up to [`WITNESS_RETRY_MAX`]: a witness that was down catches up without new entries.
const WITNESS_RETRY: Duration = Duration::from_secs(1);
const WITNESS_RETRY_MAX: Duration = Duration::from_secs(8);

/// Submits the latest checkpoint to the manifest's witnesses whenever it changes (C2SP
/// tlog-witness), and again to those that have not cosigned it yet, recording each
/// cosignature as it arrives. Slow or absent witnesses delay only the cosigned checkpoint,
/// never admission.
fn witness_loop(board: Arc<RwLock<Board>>, wake: std::sync::mpsc::Receiver<()>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(WITNESS_TIMEOUT))
        .build()
        .into();
    let last_sizes: Mutex<HashMap<String, u64>> = Mutex::new(HashMap::new());
    let mut retry: Option<Duration> = None;
    loop {
        // Some(true): a new checkpoint; Some(false): time to retry; None: the board stopped.
        let woke = match retry {
            None => wake.recv().ok().map(|()| true),
            Some(after) => match wake.recv_timeout(after) {
                Ok(()) => Some(true),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Some(false),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => None,
            },
        };
        let Some(mut new_checkpoint) = woke else {
            return;
        };
        while wake.try_recv().is_ok() {
            new_checkpoint = true;
        }
        let job = board.read().ok().and_then(|b| {
            b.witness_policy()?;
            Some((b.uncosigned_by(), b.checkpoint().to_string(), b.size()))
        });
        let Some((witnesses, note, size)) = job else {
            retry = None;
            continue;
        };
        if witnesses.is_empty() {
            retry = None;
            continue;
        }
        let collected = Mutex::new(String::new());
        std::thread::scope(|s| {
            for w in &witnesses {
                let (agent, board, note, last_sizes, collected) =
                    (&agent, &board, &note, &last_sizes, &collected);
                s.spawn(move || {
                    let Some(line) = ask_witness(agent, board, w, note, size, last_sizes) else {
                        return;
                    };
                    // Recorded at once, so the cosigned checkpoint never waits for a slow
                    // witness. Failing to store it durably is not fatal to admission; it is
                    // retried with the next checkpoint.
                    if let Ok(mut lines) = collected.lock() {
                        lines.push_str(&line);
                        if let Ok(mut b) = board.write() {
                            let _ = b.record_cosignatures(note, &lines);
                        }
                    }
                });
            }
        });
        let missing = board.read().is_ok_and(|b| !b.uncosigned_by().is_empty());
        retry = match (missing, retry) {
            (false, _) => None,
            (true, Some(after)) if !new_checkpoint => Some((after * 2).min(WITNESS_RETRY_MAX)),
            (true, _) => Some(WITNESS_RETRY),
        };
    }
}

/// One witness's cosignature line on `note`, learning its last cosigned size on a 409.
fn ask_witness(
    agent: &ureq::Agent,
    board: &RwLock<Board>,
    w: &urna_election::manifest::Witness,
    note: &str,
    size: u64,
    last_sizes: &Mutex<HashMap<String, u64>>,
) -> Option<String> {
    let url = format!("{}/add-checkpoint", w.url.trim_end_matches('/'));
    let mut old = last_sizes
        .lock()
        .ok()?
        .get(&w.name)
        .copied()
        .unwrap_or(0)
        .min(size);
    for _ in 0..2 {
        let proof = if old == 0 || old == size {
            Vec::new()
        } else {
            board
                .read()
                .ok()?
                .tree()
                .consistency_proof(old, size)
                .ok()?
        };
        let mut body = format!("old {old}\n");
        for h in &proof {
            body.push_str(&base64::engine::general_purpose::STANDARD.encode(h));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(note);
        let mut resp = agent.post(&url).send(body.as_bytes()).ok()?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().ok()?;
        match status {
            200 => {
                // Keep the one line that is this witness's valid cosignature on this checkpoint.
                let (body, _) = urna_ledger::note::split_note(note).ok()?;
                let line = text.lines().find(|l| {
                    urna_ledger::note::verify_cosignature(&body, l, &w.name, &w.key).is_some()
                })?;
                last_sizes.lock().ok()?.insert(w.name.clone(), size);
                return Some(format!("{line}\n"));
            }
            409 => {
                let theirs: u64 = text.trim().parse().ok()?;
                if theirs > size || theirs == old {
                    return None;
                }
                old = theirs;
                last_sizes.lock().ok()?.insert(w.name.clone(), theirs);
            }
            _ => return None,
        }
    }
    None
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
    let (wake_tx, wake_rx) = std::sync::mpsc::channel::<()>();
    let witnessed = Arc::clone(&board);
    std::thread::spawn(move || witness_loop(witnessed, wake_rx));
    // Cosign what is on disk already (after a restart), then every new checkpoint.
    let _ = wake_tx.send(());
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
                    let _ = wake_tx.send(());
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

pub use urna_serve::limits::Limits;

/// The client address a request is counted against (see [`urna_serve::limits`]); present when the
/// server runs with connection info (in-process routers without it are not rate limited).
#[derive(Debug, Clone, Copy)]
struct ClientAddr(IpAddr);

/// Reads draw on their address's budget and on the bound on reads in flight; submissions on
/// neither (they are limited per credential in [`submit`], and bounded by the writer's queue),
/// so no flood of reads can starve them.
async fn limit(
    State(lim): State<Arc<Limiter>>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let addr = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| limits::client_addr(c.0.ip(), req.headers(), &lim.limits));
    if let Some(a) = addr {
        req.extensions_mut().insert(ClientAddr(a));
    }
    let submission = req.method() == axum::http::Method::POST && req.uri().path() == "/entries";
    let _permit = if submission {
        None
    } else {
        if let Some(Err(r)) = addr.map(|a| lim.admit_read(a)) {
            return too_many(r);
        }
        match lim.reads_in_flight.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => return unavailable("the board is serving too many requests; retry shortly"),
        }
    };
    match tokio::time::timeout(lim.limits.timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONNECTION, "close")],
            Json(json!({"code": "timeout", "message": "the request took too long"})),
        )
            .into_response(),
    }
}

/// `429` with `Retry-After` (whole seconds, at least 1), also given in the body.
fn too_many(r: Refused) -> Response {
    let secs = r.retry_after.as_secs_f64().ceil().max(1.0) as u64;
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, secs.to_string())],
        Json(json!({
            "code": "rate-limited",
            "message": format!("{}; retry in {secs} s", r.why),
            "retry_after": secs,
        })),
    )
        .into_response()
}

/// The router with the default limits.
pub fn app(state: AppState) -> Router {
    app_with(state, Limits::default())
}

/// The router with `limits`. Serve it with [`urna_serve::listen::serve`] (or with connection
/// info) for the per-address limits, header timeouts and connection limits to apply.
pub fn app_with(state: AppState, limits: Limits) -> Router {
    let limiter = Arc::new(Limiter::new(limits));
    Router::new()
        .route("/entries", post(submit))
        .route("/entries", get(entries_json))
        .route("/entries/{index}", get(entry))
        .route("/manifest", get(manifest))
        .route("/tile/{*path}", get(tile))
        .route("/openapi.json", get(openapi))
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/booth/") }),
        )
        .route(
            "/booth",
            get(|| async { axum::response::Redirect::to("/booth/") }),
        )
        .route(
            "/booth/",
            get(|| async { asset("text/html; charset=utf-8", BOOTH_HTML) }),
        )
        .route(
            "/booth/booth.js",
            get(|| async { asset("text/javascript; charset=utf-8", BOOTH_JS) }),
        )
        .route(
            "/booth/booth.css",
            get(|| async { asset("text/css; charset=utf-8", BOOTH_CSS) }),
        )
        .route("/checkpoint", get(checkpoint))
        .route("/checkpoint/cosigned", get(cosigned))
        .route("/receipt/{hash}", get(receipt))
        .route("/consistency/{old}/{new}", get(consistency))
        .route("/info", get(info))
        .layer(axum::Extension(Arc::clone(&limiter)))
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(limiter, limit))
}

fn submit_error_response(e: &SubmitError) -> Response {
    match e {
        SubmitError::Rejected(r) => rejection_response(r),
        SubmitError::Internal { .. } => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"code": e.code(), "message": e.to_string()})),
        )
            .into_response(),
    }
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
        [(header::RETRY_AFTER, "1")],
        Json(json!({"code": "unavailable", "message": why, "retry_after": 1})),
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

/// Reads the body (within the body timeout), charges the submission to its credential (or,
/// unattributed, to its address), and hands it to the writer.
async fn submit(
    State(st): State<AppState>,
    axum::Extension(lim): axum::Extension<Arc<Limiter>>,
    addr: Option<axum::Extension<ClientAddr>>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Response {
    let read = axum::body::to_bytes(body, MAX_ENTRY_SIZE);
    let bytes = match tokio::time::timeout(lim.limits.body_timeout, read).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) if is_length_limit(&e) => {
            let size = headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(MAX_ENTRY_SIZE + 1);
            return rejection_response(&Rejection::Oversized { size });
        }
        Ok(Err(_)) => {
            return (
                StatusCode::BAD_REQUEST,
                [(header::CONNECTION, "close")],
                Json(json!({"code": "malformed", "message": "the request body could not be read"})),
            )
                .into_response()
        }
        Err(_) => return (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONNECTION, "close")],
            Json(json!({"code": "timeout", "message": "the request body did not arrive in time"})),
        )
            .into_response(),
    };
    let entry = Entry::decode(bytes.to_vec()).ok();
    if let Some(axum::Extension(ClientAddr(a))) = addr {
        if let Err(r) = lim.admit_submission(a, entry.as_ref()) {
            return too_many(r);
        }
    }
    let raw = entry.map_or_else(|| bytes.to_vec(), Entry::into_bytes);
    let (tx, rx) = oneshot::channel();
    if st.submit.try_send((raw, tx)).is_err() {
        return unavailable("the board is at capacity; retry shortly");
    }
    match rx.await {
        Ok(Ok(receipt)) => text(receipt.to_text()),
        Ok(Err(e)) => submit_error_response(&e),
        Err(_) => unavailable("the board stopped before answering"),
    }
}

/// Runs `f` under the read lock; `None` only if a writer panicked while holding it.
fn read<T>(st: &AppState, f: impl FnOnce(&Board) -> T) -> Option<T> {
    st.board.read().ok().map(|b| f(&b))
}

const POISONED: &str = "board state unavailable";

async fn cosigned(State(st): State<AppState>) -> Response {
    match read(&st, |b| b.cosigned().map(str::to_string)) {
        Some(Some(c)) => text(c),
        Some(None) => not_found("no checkpoint has been cosigned by the witness quorum yet"),
        None => unavailable(POISONED),
    }
}

async fn checkpoint(State(st): State<AppState>) -> Response {
    match read(&st, |b| b.checkpoint_with_cosignatures()) {
        Some(c) => text(c),
        None => unavailable(POISONED),
    }
}

async fn entry(State(st): State<AppState>, Path(index): Path<u64>) -> Response {
    match read(&st, |b| b.entry(index)) {
        Some(Some(bytes)) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
        }
        Some(None) => not_found("no entry at that index"),
        None => unavailable(POISONED),
    }
}

#[derive(serde::Deserialize)]
struct ReceiptQuery {
    cosigned: Option<bool>,
}

async fn receipt(
    State(st): State<AppState>,
    Path(hash): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ReceiptQuery>,
) -> Response {
    let Some(code) = TrackingCode::parse(&hash) else {
        return not_found("not a leaf hash or tracking code");
    };
    let cosigned = q.cosigned.unwrap_or(false);
    match read(&st, |b| {
        b.index_of(&code.0).and_then(|i| {
            if cosigned {
                b.cosigned_receipt(i)
            } else {
                b.receipt(i)
            }
        })
    }) {
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

/// Tiles never change once served (a partial tile of width W is the same W hashes forever).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

async fn tile(State(st): State<AppState>, Path(path): Path<String>) -> Response {
    let bytes = if let Some(rest) = path.strip_prefix("entries/") {
        let Some(t) = tiles::parse_index(rest) else {
            return not_found("not a tile path");
        };
        read(&st, |b| {
            let want = t.width.unwrap_or(tiles::WIDTH);
            if tiles::available_width(0, t.index, b.size()) < want {
                return None;
            }
            let start = t.index * tiles::WIDTH;
            let entries = b.entries(start, start + want)?;
            Some(tiles::entry_bundle(entries.iter().map(Vec::as_slice)))
        })
    } else {
        let Some((level, rest)) = path.split_once('/') else {
            return not_found("not a tile path");
        };
        let (Ok(level), Some(t)) = (level.parse::<u32>(), tiles::parse_index(rest)) else {
            return not_found("not a tile path");
        };
        if level > 7 || level.to_string() != path[..path.len() - rest.len() - 1] {
            return not_found("not a tile path");
        }
        read(&st, |b| tiles::hash_tile(&b.tree(), level, t))
    };
    match bytes {
        Some(Some(bytes)) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, IMMUTABLE),
            ],
            bytes,
        )
            .into_response(),
        Some(None) => not_found("the tree does not hold that tile (yet)"),
        None => unavailable(POISONED),
    }
}

async fn manifest(State(st): State<AppState>) -> Response {
    match read(&st, |b| b.election().manifest().map(|m| json!(m.as_ref()))) {
        Some(Some(m)) => Json(m).into_response(),
        Some(None) => not_found("no Setup entry on the log yet"),
        None => unavailable(POISONED),
    }
}

/// Most entries one page of the JSON view returns, and most entry bytes (before hex) it carries:
/// the view is a convenience; the tiles are the bulk interface.
pub const MAX_VIEW: u64 = 1000;
pub const MAX_VIEW_BYTES: usize = 2 << 20;

#[derive(serde::Deserialize)]
struct Range {
    start: Option<u64>,
    end: Option<u64>,
    limit: Option<u64>,
}

/// One page of `start..end`: at most `limit` (≤ [`MAX_VIEW`]) entries and [`MAX_VIEW_BYTES`]
/// bytes, always at least one entry when the range holds one. `next` is where the following
/// page starts, or null when this page reaches `end`.
async fn entries_json(
    State(st): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<Range>,
) -> Response {
    if let (Some(start), Some(end)) = (q.start, q.end) {
        if end < start {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"code": "bad-range", "message": "end is before start"})),
            )
                .into_response();
        }
    }
    let limit = q.limit.unwrap_or(MAX_VIEW).clamp(1, MAX_VIEW);
    let v = read(&st, |b| {
        let size = b.size();
        let start = q.start.unwrap_or(0).min(size);
        let end = q.end.unwrap_or(size).min(size).max(start);
        let mut items = Vec::new();
        let mut bytes = 0usize;
        let mut at = start;
        while at < end && (at - start) < limit {
            let Some(raw) = b.entry(at) else { break };
            if !items.is_empty() && bytes + raw.len() > MAX_VIEW_BYTES {
                break;
            }
            bytes += raw.len();
            if let Ok(e) = urna_election::entry::Entry::decode(raw.to_vec()) {
                items.push(json!({
                    "index": at,
                    "kind": e.kind().name(),
                    "author": hex::encode(e.author().as_bytes()),
                    "leaf_hash": hex::encode(&e.leaf_hash()),
                    "size": raw.len(),
                    "entry": hex::encode(&raw),
                }));
            }
            at += 1;
        }
        let next = (at < end).then_some(at);
        let body = json!({"start": start, "end": at, "size": size, "next": next, "entries": items});
        (
            body,
            next.map(|n| format!("</entries?start={n}&end={end}&limit={limit}>; rel=\"next\"")),
        )
    });
    match v {
        Some((v, Some(link))) => ([(header::LINK, link)], Json(v)).into_response(),
        Some((v, None)) => Json(v).into_response(),
        None => unavailable(POISONED),
    }
}

/// Whether reading a body failed because it exceeded the limit given to `to_bytes`.
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

// The browser booth and election page (`web/`), built by build.rs, or a page saying why not.
const BOOTH_HTML: &str = include_str!(concat!(env!("OUT_DIR"), "/booth/index.html"));
const BOOTH_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/booth/booth.js"));
const BOOTH_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/booth/booth.css"));

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The OpenAPI 3.1 description of this API, published from `specs/openapi.json`.
pub const OPENAPI: &str = include_str!("../../specs/openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The board's own failure is a 500 with its own code, never the client's `malformed`.
    #[test]
    fn internal_failures_are_500_not_the_clients_fault() {
        let internal = SubmitError::Internal {
            reason: "the submission was left unanswered",
        };
        assert_eq!(internal.code(), "internal-error");
        assert_eq!(
            submit_error_response(&internal).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let malformed = SubmitError::Rejected(Rejection::Malformed {
            reason: "short".into(),
        });
        assert_eq!(malformed.code(), "malformed");
        assert_eq!(
            submit_error_response(&malformed).status(),
            StatusCode::BAD_REQUEST
        );
    }
}
