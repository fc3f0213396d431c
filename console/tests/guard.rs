//! What stands between a page and the key: every request without the token is refused, a
//! state-changing request needs the token in its header and our origin, the host must be a
//! loopback name, bodies are bounded; and a bad draft is an error at its field, posting
//! nothing (no board is even reached: the one given here does not exist).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use urna_console::{app, Console, Role, BODY_LIMIT, COOKIE, TOKEN_HEADER};

const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn console(role: Role) -> axum::Router {
    app(Console {
        role,
        // Nothing listens there: a test that reached the board would fail.
        board: "http://127.0.0.1:9".into(),
        token: TOKEN.into(),
        tls: false,
        public: false,
    })
}

fn authority() -> axum::Router {
    console(Role::Authority {
        key: "/nonexistent/authority.key".into(),
    })
}

fn get(uri: &str) -> axum::http::request::Builder {
    Request::get(uri).header(header::HOST, "127.0.0.1:4000")
}

fn post(uri: &str) -> axum::http::request::Builder {
    Request::post(uri)
        .header(header::HOST, "127.0.0.1:4000")
        .header(header::CONTENT_TYPE, "application/json")
}

async fn send(app: axum::Router, r: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = app.oneshot(r).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn code(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    v["error"]["code"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn requests_without_the_token_are_refused() {
    for (uri, role) in [
        ("/", "authority"),
        ("/console.js", "authority"),
        ("/api/info", "authority"),
        ("/api/status", "registrar"),
        ("/api/roll", "registrar"),
        ("/api/result.json", "trustee"),
    ] {
        let app = match role {
            "authority" => authority(),
            "registrar" => console(Role::Registrar {
                key: "r.key".into(),
                credentials: "c".into(),
                letters: "l".into(),
                public_url: "http://127.0.0.1:9".into(),
            }),
            _ => console(Role::Trustee {
                key: "t.key".into(),
            }),
        };
        let (s, _, body) = send(app.clone(), get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(code(&body), "token");
        let (s, _, _) = send(
            app.clone(),
            get(uri)
                .header(TOKEN_HEADER, "0".repeat(64))
                .header(header::COOKIE, format!("{COOKIE}4000=wrong"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri} with a wrong token");
        // The token in the address works for the page only, which moves it into a cookie.
        let (s, _, _) = send(
            app,
            get(&format!("{uri}?token={TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        if uri != "/" {
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri}?token=");
        }
    }
    for uri in [
        "/api/setup",
        "/api/open",
        "/api/close",
        "/api/draft/check",
        "/api/key",
    ] {
        let (s, _, body) = send(authority(), post(uri).body(Body::from("{}")).unwrap()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{uri}");
        assert_eq!(code(&body), "csrf");
    }
}

#[tokio::test]
async fn the_token_in_the_address_becomes_a_cookie() {
    let (s, h, _) = send(
        authority(),
        get(&format!("/?token={TOKEN}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h[header::LOCATION], "/");
    let cookie = h[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with(&format!("{COOKIE}4000={TOKEN};")),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let (s, h, body) = send(
        authority(),
        get("/")
            .header(
                header::COOKIE,
                format!("{COOKIE}4001=other; {COOKIE}4000={TOKEN}"),
            )
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains(TOKEN) && body.contains("authority"));
    assert!(h[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(h[header::CACHE_CONTROL], "no-store");
    let (s, _, body) = send(
        authority(),
        get("/api/info")
            .header(TOKEN_HEADER, TOKEN)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["role"],
        "authority"
    );
}

#[tokio::test]
async fn forged_requests_are_refused() {
    // The cookie alone (which a forged form would carry) does not change anything.
    let (s, _, body) = send(
        authority(),
        post("/api/open")
            .header(header::COOKIE, format!("{COOKIE}4000={TOKEN}"))
            .body(Body::from(r#"{"passphrase":"x","confirm":"open"}"#))
            .unwrap(),
    )
    .await;
    assert_eq!((s, code(&body).as_str()), (StatusCode::FORBIDDEN, "csrf"));
    // Nor does a request from another origin, even with the token.
    let (s, _, body) = send(
        authority(),
        post("/api/open")
            .header(TOKEN_HEADER, TOKEN)
            .header(header::ORIGIN, "http://evil.example")
            .body(Body::from(r#"{"passphrase":"x","confirm":"open"}"#))
            .unwrap(),
    )
    .await;
    assert_eq!((s, code(&body).as_str()), (StatusCode::FORBIDDEN, "csrf"));
    // A form post (not JSON) is not accepted either.
    let (s, _, _) = send(
        authority(),
        Request::post("/api/open")
            .header(header::HOST, "127.0.0.1:4000")
            .header(TOKEN_HEADER, TOKEN)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("passphrase=x&confirm=open"))
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A name that resolves to this machine (DNS rebinding) is not this console's.
    let (s, _, body) = send(
        authority(),
        Request::get("/api/info")
            .header(header::HOST, "evil.example:4000")
            .header(TOKEN_HEADER, TOKEN)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, code(&body).as_str()),
        (StatusCode::FORBIDDEN, "bad-host")
    );
    // Bodies are bounded.
    let big = format!(r#"{{"csv":"{}"}}"#, "a".repeat(BODY_LIMIT + 1));
    let registrar = console(Role::Registrar {
        key: "r.key".into(),
        credentials: "c".into(),
        letters: "l".into(),
        public_url: "http://127.0.0.1:9".into(),
    });
    let (s, _, _) = send(
        registrar,
        post("/api/voters/check")
            .header(TOKEN_HEADER, TOKEN)
            .body(Body::from(big))
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    // Opening the polls needs the word typed.
    let (s, _, body) = send(
        authority(),
        post("/api/open")
            .header(TOKEN_HEADER, TOKEN)
            .header(header::ORIGIN, "http://127.0.0.1:4000")
            .body(Body::from(r#"{"passphrase":"x","confirm":"yes"}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "not-confirmed")
    );
}

fn key(i: u8) -> String {
    urna_crypto::hex::encode(
        urna_crypto::sign::SigningKey::from_seed(&[i; 32])
            .verifying_key()
            .as_bytes(),
    )
}

fn ceremony_key(x: u64) -> String {
    urna_crypto::hex::encode(
        urna_crypto::group::Point::from_point(urna_crypto::group::mul_g(
            &urna_crypto::Scalar::from(x),
        ))
        .as_bytes(),
    )
}

fn draft() -> Value {
    json!({
        "election_id": "vote.example.org/console",
        "title": "Console test",
        "titles": { "zh-CN": "控制台测试" },
        "threshold": "2",
        "keys": { "authority": key(1), "registrar": key(2), "board": key(3) },
        "trustees": (0..3u8).map(|i| json!({
            "name": format!("T{i}"),
            "signing_key": key(10 + i),
            "ceremony_key": ceremony_key(u64::from(i) + 5),
        })).collect::<Vec<_>>(),
        "contests": [{
            "id": "mayor", "title": "Mayor", "titles": { "zh-CN": "市长" }, "kind": "plurality",
            "exactly": true,
            "options": [{ "id": "a", "name": "Ada" }, { "id": "b", "name": "Ben" }],
        }],
        "ballot_styles": [{ "id": "all", "title": "All", "contests": ["mayor"] }],
    })
}

/// Each bad draft is an error at its field; and nothing is posted (a setup goes no further
/// than the check: the board given does not exist, and the answer is the field's problem).
#[tokio::test]
async fn bad_drafts_are_errors_at_their_fields_and_post_nothing() {
    let ok = send(
        authority(),
        post("/api/draft/check")
            .header(TOKEN_HEADER, TOKEN)
            .body(Body::from(json!({ "draft": draft() }).to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.2);
    let v: Value = serde_json::from_str(&ok.2).unwrap();
    assert!(v["toml"].as_str().unwrap().contains("[[contests]]"));
    assert_eq!(v["preview"][1]["styles"][0]["contests"][0]["title"], "市长");

    type Change = fn(&mut Value);
    let cases: [(&str, Change, &str, &str); 5] = [
        (
            "empty contest",
            |d| d["contests"][0]["options"] = json!([{ "id": "a", "name": "Ada" }]),
            "contests.0.options",
            "empty-contest",
        ),
        (
            "duplicate option id",
            |d| d["contests"][0]["options"][1]["id"] = json!("a"),
            "contests.0.options.1.id",
            "duplicate-option",
        ),
        (
            "threshold above the trustees",
            |d| d["threshold"] = json!("4"),
            "threshold",
            "bad-threshold",
        ),
        (
            "malformed key",
            |d| d["trustees"][1]["signing_key"] = json!("abc"),
            "trustees.1.signing_key",
            "bad-key",
        ),
        (
            "no contest",
            |d| d["contests"] = json!([]),
            "contests",
            "no-contests",
        ),
    ];
    for (what, change, field, want) in cases {
        let mut d = draft();
        change(&mut d);
        for uri in ["/api/draft/check", "/api/setup"] {
            let (s, _, body) = send(
                authority(),
                post(uri)
                    .header(TOKEN_HEADER, TOKEN)
                    .body(Body::from(
                        json!({ "draft": d, "passphrase": "p" }).to_string(),
                    ))
                    .unwrap(),
            )
            .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{what} {uri}: {body}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                (
                    v["error"]["field"].as_str().unwrap(),
                    v["error"]["code"].as_str().unwrap()
                ),
                (field, want),
                "{what} {uri}: {body}"
            );
        }
    }
}
