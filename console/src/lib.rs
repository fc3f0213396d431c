//! urna's consoles: a local web page for each role that holds a key — the authority, the
//! registrar, each trustee — served by the person's own `urna`, so the key never leaves their
//! machine. Every act is one call into `urna-office`, the library the CLI's commands call:
//! nothing a console does is beyond the CLI.
//!
//! What stands between the page and the key, in [`guard`]:
//! - the console listens on a loopback address; [`check_listen`] refuses any other unless it
//!   is explicitly allowed and served over TLS ([`tls`]);
//! - a random access token, printed at start in the address to open (as Jupyter does), is
//!   asked of every request: in the address once (it is then kept in a `SameSite=Strict`,
//!   `HttpOnly` cookie and the address is cleaned), or in the `X-Urna-Token` header;
//! - a request that changes anything must carry the token in that header — which a page of
//!   another origin cannot set without a CORS preflight the console never grants — a JSON
//!   body, and, if the browser names one, our own `Origin` (cross-site request forgery);
//! - the `Host` must be a loopback name (DNS rebinding), bodies are bounded, and pages are
//!   sent with a strict content security policy and never cached;
//! - a passphrase travels in the body of the one request that needs the key, opens it, and is
//!   wiped with it when the request ends; nothing keeps it.

mod api;
mod assets;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use subtle::ConstantTimeEq;
use urna_client::BoardClient;

pub use api::ApiError;

/// The largest request body a console reads (a voters CSV of some 200 000 lines).
pub const BODY_LIMIT: usize = 8 << 20;

/// The cookie the token is kept in once the address with `?token=` has been opened, followed
/// by the console's port: cookies do not tell ports apart, and one person may run several
/// consoles on one machine (an authority who is also a trustee).
pub const COOKIE: &str = "urna_console_";
/// The header every state-changing request carries the token in.
pub const TOKEN_HEADER: &str = "x-urna-token";

/// Whose console this is, and the files it works with.
#[derive(Debug, Clone)]
pub enum Role {
    Authority {
        key: PathBuf,
    },
    Registrar {
        key: PathBuf,
        /// The directory for credential files and the private registry.
        credentials: PathBuf,
        /// The directory the letters are written to.
        letters: PathBuf,
        /// The board's public address printed in the letters.
        public_url: String,
    },
    Trustee {
        key: PathBuf,
    },
}

impl Role {
    pub fn name(&self) -> &'static str {
        match self {
            Role::Authority { .. } => "authority",
            Role::Registrar { .. } => "registrar",
            Role::Trustee { .. } => "trustee",
        }
    }
}

/// A console's settings.
pub struct Console {
    pub role: Role,
    /// The board's base URL.
    pub board: String,
    /// The access token (see [`new_token`]).
    pub token: String,
    /// Whether it is served over TLS: the cookie is then `Secure`, and our origin `https`.
    pub tls: bool,
    /// Whether it is served to other machines (over TLS, see [`check_listen`]): the `Host` is
    /// then not required to be a loopback name.
    pub public: bool,
}

pub(crate) struct Shared {
    pub role: Role,
    pub board_url: String,
    pub client: BoardClient,
    token: String,
    tls: bool,
    public: bool,
    /// One act at a time: two clicks must not post twice.
    pub acting: Mutex<()>,
    /// The last status and the checkpoint note it was read under: a page asks every few
    /// seconds, and the log is replayed again only once it has grown.
    pub status: Mutex<Option<(String, serde_json::Value)>>,
}

pub(crate) type AppState = Arc<Shared>;

/// A fresh access token: 32 random bytes, hex.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    urna_crypto::hex::encode(&b)
}

/// Why a console will not listen where it was asked to.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ListenError {
    #[error("{0} is not a loopback address: a console holds a key and listens on 127.0.0.1 (or ::1) only; to serve it to other machines, give --allow-public with --tls-cert and --tls-key (or reach it through an SSH tunnel)")]
    NotLoopback(SocketAddr),
    #[error("{0} is not a loopback address and the console is not served over TLS: the access token and the passphrases would cross the network in clear; give --tls-cert and --tls-key")]
    NoTls(SocketAddr),
}

/// Whether a console may listen on `addr`: loopback always; another address only when
/// `allow_public` says so explicitly and the console is served over TLS.
pub fn check_listen(addr: &SocketAddr, allow_public: bool, tls: bool) -> Result<(), ListenError> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    if !allow_public {
        return Err(ListenError::NotLoopback(*addr));
    }
    if !tls {
        return Err(ListenError::NoTls(*addr));
    }
    Ok(())
}

/// The console's routes behind [`guard`], with its limits.
pub fn app(console: Console) -> Router {
    let state: AppState = Arc::new(Shared {
        client: BoardClient::new(&console.board),
        board_url: console.board.trim_end_matches('/').to_string(),
        role: console.role,
        token: console.token,
        tls: console.tls,
        public: console.public,
        acting: Mutex::new(()),
        status: Mutex::new(None),
    });
    Router::new()
        .merge(assets::routes())
        .nest("/api", api::routes(&state.role))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Serves `app` on `listener` (a [`tokio::net::TcpListener`] or a [`tls::TlsListener`])
/// until `shutdown` resolves.
pub async fn serve<L>(
    listener: L,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

fn refuse(status: StatusCode, code: &'static str, message: &str) -> Response {
    let mut r = ApiError::new(status, code, message).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `token=…` in a query string.
fn query_token(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| v)
}

/// Whether `host` (a `Host` header) names this machine.
fn loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

/// Checks the host, the token and, for a request that changes anything, its origin; adds the
/// security headers to every answer.
async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !s.public && !loopback_host(&host) {
        return refuse(
            StatusCode::FORBIDDEN,
            "bad-host",
            "this console answers only to 127.0.0.1, localhost or [::1]",
        );
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    let in_header = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| same(t, &s.token));
    if !safe {
        // A cookie rides along with any request the browser makes, a header only with ours.
        if !in_header {
            return refuse(
                StatusCode::FORBIDDEN,
                "csrf",
                "a request that changes anything must carry the access token in the X-Urna-Token header",
            );
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or_default();
            let scheme = if s.tls { "https" } else { "http" };
            if origin != format!("{scheme}://{host}") {
                return refuse(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "the request comes from a page of another origin",
                );
            }
        }
    }
    let port = host.rsplit_once(':').map_or("", |(_, p)| p);
    let cookie_name = format!("{COOKIE}{port}");
    let in_cookie = cookie(headers, &cookie_name).is_some_and(|t| same(t, &s.token));
    if safe && !in_header && !in_cookie {
        let in_query = query_token(req.uri().query()).is_some_and(|t| same(t, &s.token));
        if in_query && req.uri().path() == "/" {
            // Keep the token in a cookie and take it out of the address bar (and history).
            let secure = if s.tls { "; Secure" } else { "" };
            let set = format!(
                "{cookie_name}={}; Path=/; HttpOnly; SameSite=Strict{secure}",
                s.token
            );
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::SEE_OTHER;
            let h = r.headers_mut();
            h.insert(header::LOCATION, HeaderValue::from_static("/"));
            if let Ok(v) = HeaderValue::from_str(&set) {
                h.insert(header::SET_COOKIE, v);
            }
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return r;
        }
    }
    if !(in_header || in_cookie) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "token",
            "open the address the console printed when it started (it ends with ?token=…)",
        );
    }
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    for (k, v) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        // A handler may set a policy of its own (a letter's inline stylesheet).
        h.entry(k).or_insert(HeaderValue::from_static(v));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_or_explicit_public_with_tls() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap_or_else(|_| unreachable!());
        assert_eq!(check_listen(&a("127.0.0.1:0"), false, false), Ok(()));
        assert_eq!(check_listen(&a("[::1]:8080"), false, false), Ok(()));
        assert!(matches!(
            check_listen(&a("0.0.0.0:8080"), false, true),
            Err(ListenError::NotLoopback(_))
        ));
        assert!(matches!(
            check_listen(&a("192.0.2.1:8080"), true, false),
            Err(ListenError::NoTls(_))
        ));
        assert_eq!(check_listen(&a("192.0.2.1:8080"), true, true), Ok(()));
    }

    #[test]
    fn hosts() {
        for h in ["127.0.0.1:3000", "localhost:1", "[::1]:80", "localhost"] {
            assert!(loopback_host(h), "{h}");
        }
        for h in [
            "evil.example:3000",
            "127.0.0.1.evil.example",
            "",
            "[::2]:80",
        ] {
            assert!(!loopback_host(h), "{h}");
        }
    }

    #[test]
    fn tokens_are_fresh() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
