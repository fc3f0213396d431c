//! **A test hook, fenced off: never enabled on a real board.** With the environment variable
//! [`ENV`] set to `force-append` when the router is built, the board also answers
//! `POST /test-hook/force-append` (body: an entry's bytes) by appending the bytes as the next
//! entry *without asking the election rules* and signing a checkpoint over them — the board
//! misbehaving, so that tests can show validating nodes refuse to cosign it and say why
//! (specs/board.md §7). Without the variable the route does not exist (`404`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use tokio::sync::oneshot;

use super::writer::Job;
use super::AppState;

/// The environment variable that enables the hook, and the value that does.
pub const ENV: &str = "URNA_BOARD_TEST_HOOK";
pub const FORCE_APPEND: &str = "force-append";

/// Whether the hook is enabled in this process.
pub fn enabled() -> bool {
    std::env::var(ENV).is_ok_and(|v| v == FORCE_APPEND)
}

pub(super) fn routes() -> Router<AppState> {
    if !enabled() {
        return Router::new();
    }
    eprintln!("urna board: TEST HOOK {ENV}={FORCE_APPEND} is on: this board appends entries without the rules when told; never run it for a real election");
    Router::new().route("/test-hook/force-append", post(force_append))
}

async fn force_append(State(st): State<AppState>, body: Bytes) -> Response {
    let (tx, rx) = oneshot::channel();
    if st
        .jobs
        .send(Job::ForceAppend(body.to_vec(), tx))
        .await
        .is_err()
    {
        return (StatusCode::SERVICE_UNAVAILABLE, "the writer stopped").into_response();
    }
    match rx.await {
        Ok(Ok(index)) => format!("{index}\n").into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "the writer stopped").into_response(),
    }
}
