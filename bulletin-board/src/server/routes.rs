//! The board's HTTP API: what each route answers (the list is in the module above).

use std::sync::{Arc, PoisonError};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::oneshot;
use urna_crypto::codec::Encode;
use urna_crypto::hex;
use urna_election::entry::{Entry, TrackingCode, MAX_ENTRY_SIZE};
use urna_election::rejection::Rejection;
use urna_ledger::merkle::Tree;
use urna_ledger::note::{verifier_key, Receipt};
use urna_ledger::tiles;
use urna_serve::limits::{Limiter, Limits};

pub use super::booth::OPENAPI;
use super::booth::{asset, openapi, BOOTH_CSS, BOOTH_HTML, BOOTH_JS};
use super::limit::{limit, too_many, ClientAddr};
use super::writer::{Job, Submission};
use super::{AppState, Live};
use crate::attest::{self, AttestError};
use crate::board::{SubmitError, View};

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
        .route("/voter/{credential}", get(voter))
        .route("/tally", get(tally))
        .route("/info", get(info))
        .merge(super::test_hook::routes())
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
        SubmitError::Unavailable { reason } => unavailable(reason),
        SubmitError::Relayed { status, body } => (
            StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY),
            [(header::CONTENT_TYPE, "application/json")],
            body.clone(),
        )
            .into_response(),
    }
}

fn attestation_refused(e: &AttestError) -> Response {
    let status = match e {
        AttestError::Malformed => StatusCode::BAD_REQUEST,
        AttestError::BadSignature => StatusCode::FORBIDDEN,
        AttestError::Stale { .. } | AttestError::NotSequencing => StatusCode::CONFLICT,
    };
    (
        status,
        Json(json!({"code": e.code(), "message": e.to_string()})),
    )
        .into_response()
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

pub(super) fn unavailable(why: &str) -> Response {
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
    let st = st.now();
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
    let mut client = addr.map(|axum::Extension(ClientAddr(a))| a);
    let mut verified = false;
    if let Some(h) = headers.get(attest::HEADER) {
        // Forwarded by another process of this board: charged where the client submitted it,
        // not again here; the client's address is the one it attests (`specs/storage.md` §5a).
        let checked = match (&st.attested, h.to_str()) {
            (Some(a), Ok(h)) => a.check(h, &bytes),
            (None, Ok(_)) => Err(AttestError::NotSequencing),
            (_, Err(_)) => Err(AttestError::Malformed),
        };
        match checked {
            Ok(s) => {
                verified = s.verified;
                client = Some(s.client);
            }
            Err(e) => return attestation_refused(&e),
        }
    }
    let entry = Entry::decode(bytes.to_vec()).ok();
    if let (Some(a), None) = (client, headers.get(attest::HEADER)) {
        if let Err(r) = lim.admit_submission(a, entry.as_ref()) {
            return too_many(r);
        }
    }
    let (tx, rx) = oneshot::channel();
    let submission = Submission {
        entry: entry.ok_or_else(|| bytes.to_vec()),
        verified,
        client,
    };
    if st.jobs.try_send(Job::Submit(submission, tx)).is_err() {
        return unavailable("the board is at capacity; retry shortly");
    }
    match rx.await {
        Ok(Ok(receipt)) => text(receipt.to_text()),
        Ok(Err(e)) => submit_error_response(&e),
        Err(_) => unavailable("the board stopped before answering"),
    }
}

impl Live {
    /// The board as published by the writer's last change.
    fn view(&self) -> Arc<View> {
        self.view.load_full()
    }

    /// The tree, read-locked for the moment of a proof (the writer holds it only to add
    /// leaves, never across I/O).
    fn tree(&self) -> std::sync::RwLockReadGuard<'_, Tree> {
        self.tree.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Entries `start..end` of the log, all within the published view.
    fn entries(&self, v: &View, start: u64, end: u64) -> Option<Vec<Vec<u8>>> {
        (end <= v.size).then(|| self.log.read(start, end).ok())?
    }

    /// The receipt of entry `index` under the checkpoint of `size` whose signed note is `note`.
    fn receipt_under(&self, index: u64, size: u64, note: &str) -> Option<Receipt> {
        if index >= size {
            return None;
        }
        let proof = self.tree().inclusion_proof(index, size).ok()?;
        Some(Receipt {
            index,
            proof,
            checkpoint: note.to_string(),
        })
    }
}

const UNREADABLE: &str = "the log could not be read; retry shortly";

async fn cosigned(State(st): State<AppState>) -> Response {
    let st = st.now();
    match &st.view().cosigned {
        Some((note, _)) => text(note.clone()),
        None => not_found("no checkpoint has been cosigned by the witness quorum yet"),
    }
}

async fn checkpoint(State(st): State<AppState>) -> Response {
    let st = st.now();
    text(st.view().checkpoint_with_cosignatures())
}

async fn entry(State(st): State<AppState>, Path(index): Path<u64>) -> Response {
    let st = st.now();
    let v = st.view();
    if index >= v.size {
        return not_found("no entry at that index");
    }
    match st.entries(&v, index, index + 1).and_then(|mut e| e.pop()) {
        Some(bytes) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
        }
        None => unavailable(UNREADABLE),
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
    let st = st.now();
    let Some(code) = TrackingCode::parse(&hash) else {
        return not_found("not a leaf hash or tracking code");
    };
    let v = st.view();
    let found = st.index.get(&code.0).and_then(|i| {
        if q.cosigned.unwrap_or(false) {
            let (note, size) = v.cosigned.as_ref()?;
            st.receipt_under(i, *size, note)
        } else {
            st.receipt_under(i, v.size, &v.checkpoint)
        }
    });
    match found {
        Some(r) => text(r.to_text()),
        None => not_found("no entry with that leaf hash"),
    }
}

async fn consistency(State(st): State<AppState>, Path((old, new)): Path<(u64, u64)>) -> Response {
    let st = st.now();
    let size = st.view().size;
    let proof = if new > size {
        Err(urna_ledger::merkle::ProofError::SizeOutOfRange {
            size: new,
            log: size,
        })
    } else {
        st.tree().consistency_proof(old, new)
    };
    match proof {
        Ok(p) => Json(json!({"old": old, "new": new, "proof": p.iter().map(|h| hex::encode(h)).collect::<Vec<_>>()})).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"code": "bad-range", "message": e.to_string()}))).into_response(),
    }
}

/// The encrypted tally (`specs/board.md` §5): once voting has closed, one ciphertext `α ‖ β`
/// per option of each contest counted homomorphically, in manifest order, as the rules summed
/// the counted ballots at `CloseVoting`. It lets a reader check every decryption share's proof
/// and the result against it without every ballot; that it is the sum of the ballots is what a
/// full replay (`urna verify`) checks. Its size is the manifest's options, never the ballots'.
async fn tally(State(st): State<AppState>) -> Response {
    let st = st.now();
    let v = st.view();
    let Some(tally) = &v.tally else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"code": "not-closed", "message": "voting has not closed: there is no encrypted tally yet"})),
        )
            .into_response();
    };
    let tally: Vec<String> = tally
        .iter()
        .map(|c| {
            let mut out = Vec::with_capacity(64);
            c.encode(&mut out);
            hex::encode(&out)
        })
        .collect();
    Json(json!({"size": v.size, "tally": tally})).into_response()
}

/// Most of one credential's entries (its roll entry and its latest ballots) a voter's view
/// carries: a voter casts a few times at most, and the rate limits bound the rest.
pub const MAX_VOTER_ENTRIES: usize = 64;

/// A voter's light view (`specs/board.md` §5.2): against the latest checkpoint, the entries
/// every voter needs and the entries naming one credential, each with its inclusion proof.
async fn voter(State(st): State<AppState>, Path(credential): Path<String>) -> Response {
    let st = st.now();
    let Ok(credential) = hex::decode_array::<32>(&credential) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"code": "bad-credential", "message": "the credential is not 64 hex digits"}),
            ),
        )
            .into_response();
    };
    let v = st.view();
    let (mine, omitted) = st
        .index
        .of_credential(&credential, v.size, MAX_VOTER_ENTRIES);
    let shown = |indices: Vec<u64>| -> Option<Vec<serde_json::Value>> {
        indices
            .into_iter()
            .map(|i| {
                let raw = st.entries(&v, i, i + 1)?.pop()?;
                let proof = st.tree().inclusion_proof(i, v.size).ok()?;
                Some(json!({
                    "index": i,
                    "entry": hex::encode(&raw),
                    "proof": proof.iter().map(|h| hex::encode(h)).collect::<Vec<_>>(),
                }))
            })
            .collect()
    };
    let (Some(election), Some(mine)) = (shown(st.index.for_every_voter(v.size)), shown(mine))
    else {
        return unavailable(UNREADABLE);
    };
    Json(json!({
        "checkpoint": v.checkpoint,
        "size": v.size,
        "election": election,
        "credential": mine,
        "omitted": omitted,
    }))
    .into_response()
}

async fn info(State(st): State<AppState>) -> Response {
    let st = st.now();
    let v = st.view();
    Json(json!({
        "origin": v.origin,
        "board_key": hex::encode(v.key.as_bytes()),
        "verifier_key": verifier_key(&v.origin, &v.key),
        "size": v.size,
        "phase": v.phase,
        "counts": v.counts,
        "manifest_hash": v.manifest_hash.map(|h| hex::encode(&h)),
    }))
    .into_response()
}

/// Tiles never change once served (a partial tile of width W is the same W hashes forever).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

async fn tile(State(st): State<AppState>, Path(path): Path<String>) -> Response {
    let st = st.now();
    let v = st.view();
    let bytes = if let Some(rest) = path.strip_prefix("entries/") {
        let Some(t) = tiles::parse_index(rest) else {
            return not_found("not a tile path");
        };
        let want = t.width.unwrap_or(tiles::WIDTH);
        if tiles::available_width(0, t.index, v.size) < want {
            None
        } else {
            let start = t.index * tiles::WIDTH;
            match st.entries(&v, start, start + want) {
                Some(entries) => Some(tiles::entry_bundle(entries.iter().map(Vec::as_slice))),
                None => return unavailable(UNREADABLE),
            }
        }
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
        tiles::hash_tile_within(&st.tree(), v.size, level, t)
    };
    match bytes {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, IMMUTABLE),
            ],
            bytes,
        )
            .into_response(),
        None => not_found("the tree does not hold that tile (yet)"),
    }
}

async fn manifest(State(st): State<AppState>) -> Response {
    let st = st.now();
    match &st.view().manifest {
        Some(m) => Json(json!(m.as_ref())).into_response(),
        None => not_found("no Setup entry on the log yet"),
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
    let st = st.now();
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
    let v = st.view();
    let size = v.size;
    let start = q.start.unwrap_or(0).min(size);
    let end = q.end.unwrap_or(size).min(size).max(start);
    let mut items = Vec::new();
    let mut bytes = 0usize;
    let mut at = start;
    // Read a few at a time: the byte bound usually ends the page long before `limit`.
    'page: while at < end && at - start < limit {
        let upto = end.min(start + limit).min(at + 16);
        let Some(batch) = st.entries(&v, at, upto) else {
            return unavailable(UNREADABLE);
        };
        for raw in batch {
            if !items.is_empty() && bytes + raw.len() > MAX_VIEW_BYTES {
                break 'page;
            }
            bytes += raw.len();
            if let Ok(e) = Entry::decode(raw.clone()) {
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
    }
    let next = (at < end).then_some(at);
    let body = json!({"start": start, "end": at, "size": size, "next": next, "entries": items});
    match next {
        Some(n) => (
            [(
                header::LINK,
                format!("</entries?start={n}&end={end}&limit={limit}>; rel=\"next\""),
            )],
            Json(body),
        )
            .into_response(),
        None => Json(body).into_response(),
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
