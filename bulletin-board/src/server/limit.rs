//! The board's limits on reads: each client address draws on its budget, and at most so many
//! reads are served at once; every request has a deadline. Submissions are limited per
//! credential where they are read ([`super::routes`]), and by the writer's queue.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use urna_serve::limits::{self, Limiter, Refused};

use super::routes::unavailable;

/// The client address a request is counted against (see [`urna_serve::limits`]); present when the
/// server runs with connection info (in-process routers without it are not rate limited).
#[derive(Debug, Clone, Copy)]
pub(super) struct ClientAddr(pub(super) IpAddr);

/// Reads draw on their address's budget and on the bound on reads in flight; submissions on
/// neither (they are limited per credential when submitted, and bounded by the writer's queue),
/// so no flood of reads can starve them.
pub(super) async fn limit(
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
pub(super) fn too_many(r: Refused) -> Response {
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
