//! The consoles' JSON API: each handler is one call into `urna-office` (run off the async
//! threads, since the board client blocks), its answer as JSON, its failure as an
//! [`ApiError`] with a stable code the page translates.

use std::path::Path;
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use urna_crypto::hex;
use urna_crypto::sign::SigningKey;
use urna_office::draft::{Draft, Problem};
use urna_office::registrar::IssueError;
use urna_office::{keys, OfficeError};
use zeroize::Zeroizing;

use crate::{AppState, Role};

/// A failure as the page receives it: `{"error": {"code", "message", "field"?, "params"?,
/// "lines"?}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: &str) -> ApiError {
        ApiError {
            status,
            body: json!({ "error": { "code": code, "message": message } }),
        }
    }

    fn problem(p: &Problem) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({ "error": {
                "code": p.code,
                "message": p.message,
                "field": p.field,
                "params": p.params,
            } }),
        }
    }

    fn usage(message: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "usage", &message.to_string())
    }

    fn internal(message: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &message.to_string(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<OfficeError> for ApiError {
    fn from(e: OfficeError) -> Self {
        let message = chain(&e);
        let (status, code) = match &e {
            OfficeError::Usage(_) => (StatusCode::BAD_REQUEST, "usage"),
            OfficeError::Io { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "io"),
            OfficeError::Board(_) => (StatusCode::BAD_GATEWAY, "board"),
            OfficeError::Post { .. } => (StatusCode::BAD_GATEWAY, "post"),
            OfficeError::Phase(r) => (StatusCode::CONFLICT, r.code),
            OfficeError::WrongPassphrase(_) => (StatusCode::FORBIDDEN, "wrong-passphrase"),
            OfficeError::No(_) => (StatusCode::CONFLICT, "no"),
        };
        ApiError::new(status, code, &message)
    }
}

impl From<urna_client::ClientError> for ApiError {
    fn from(e: urna_client::ClientError) -> Self {
        OfficeError::Board(e).into()
    }
}

/// An error and its causes, as one sentence.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

type ApiResult = Result<Json<Value>, ApiError>;

/// Runs `f` on a blocking thread, one act at a time when `exclusive`.
async fn blocking<F>(s: &AppState, exclusive: bool, f: F) -> ApiResult
where
    F: FnOnce(&AppState) -> Result<Value, ApiError> + Send + 'static,
{
    let s = s.clone();
    tokio::task::spawn_blocking(move || {
        let _turn = if exclusive {
            Some(s.acting.lock().map_err(|_| {
                ApiError::internal("an earlier act failed midway; restart the console")
            })?)
        } else {
            None
        };
        f(&s)
    })
    .await
    .map_err(ApiError::internal)?
    .map(Json)
}

/// The body of a request that needs the key: its passphrase, wiped when the request ends.
#[derive(Deserialize)]
struct Pass {
    passphrase: Zeroizing<String>,
}

fn key_path(s: &AppState) -> &Path {
    match &s.role {
        Role::Authority { key } | Role::Registrar { key, .. } | Role::Trustee { key } => key,
    }
}

fn open_key(s: &AppState, pass: &Pass) -> Result<SigningKey, ApiError> {
    Ok(keys::open_sealed_key(
        key_path(s),
        pass.passphrase.as_bytes(),
    )?)
}

pub(crate) fn routes(role: &Role) -> Router<AppState> {
    let common = Router::new()
        .route("/info", get(info))
        .route("/status", get(status));
    match role {
        Role::Authority { .. } => common
            .route("/key", post(signing_key))
            .route("/draft/check", post(draft_check))
            .route("/setup", post(setup))
            .route("/open", post(open))
            .route("/close", post(close))
            .route("/tally", post(tally))
            .route("/result.json", get(result_json))
            .route("/result.csv", get(result_csv))
            .route("/result.txt", get(result_txt)),
        Role::Registrar { .. } => common
            .route("/key", post(signing_key))
            .route("/voters/check", post(voters_check))
            .route("/credentials", post(credentials))
            .route("/roll", get(roll))
            .route("/letters", post(letters))
            .route("/letters/{id}", get(letter)),
        Role::Trustee { .. } => common
            .route("/key", post(trustee_key))
            .route("/ceremony/preview", post(ceremony_preview))
            .route("/ceremony/step", post(ceremony_step))
            .route("/decrypt", post(decrypt))
            .route("/mix", post(mix))
            .route("/result.json", get(result_json)),
    }
}

async fn info(State(s): State<AppState>) -> Json<Value> {
    Json(json!({
        "role": s.role.name(),
        "board": s.board_url,
        "key_file": key_path(&s).display().to_string(),
    }))
}

/// The election as the board's verified log tells it, the board's own key and, once it is
/// on the log, the manifest.
async fn status(State(s): State<AppState>) -> ApiResult {
    blocking(&s, false, |s| {
        let note = s.client.get_checkpoint_note()?;
        if let Ok(cached) = s.status.lock() {
            if let Some((n, v)) = cached.as_ref() {
                if *n == note {
                    return Ok(v.clone());
                }
            }
        }
        let synced = s.client.sync(None)?;
        let e = synced.election();
        let st = urna_office::authority::status_of(&synced);
        let mut v = serde_json::to_value(&st).map_err(ApiError::internal)?;
        v["origin"] = json!(synced.origin);
        v["board_key"] = json!(hex::encode(synced.key.as_bytes()));
        v["manifest"] = match e.manifest() {
            Some(m) => serde_json::to_value(&**m).map_err(ApiError::internal)?,
            None => Value::Null,
        };
        v["preview"] = e
            .manifest()
            .map_or(Value::Null, |m| json!(urna_office::draft::preview(m)));
        v["result"] = summary(e).map_or(Value::Null, |s| s.to_json());
        if let Ok(mut cached) = s.status.lock() {
            *cached = Some((note, v.clone()));
        }
        Ok(v)
    })
    .await
}

/// The result, once the election is finished (ranked contests' counts included).
fn summary(e: &urna_election::state::Election) -> Option<urna_tally::summary::Summary> {
    if e.phase() != urna_election::state::Phase::Finished {
        return None;
    }
    let m = e.manifest()?;
    let r = urna_office::trustee::published(e).ok()?;
    Some(urna_tally::summary::Summary::new(m, &r, e))
}

/// The public key of the sealed key file, for the manifest.
async fn signing_key(State(s): State<AppState>, Json(p): Json<Pass>) -> ApiResult {
    blocking(&s, false, move |s| {
        let k = open_key(s, &p)?;
        Ok(json!({ "public_key": hex::encode(k.verifying_key().as_bytes()) }))
    })
    .await
}

#[derive(Deserialize)]
struct DraftBody {
    draft: Draft,
}

/// The draft checked as the rules will check it: the manifest's TOML and the ballots as
/// voters will see them, or the problem at its field.
async fn draft_check(Json(b): Json<DraftBody>) -> ApiResult {
    let m = b.draft.check().map_err(|p| ApiError::problem(&p))?;
    let toml = b.draft.to_toml().map_err(|p| ApiError::problem(&p))?;
    Ok(Json(json!({
        "toml": toml,
        "manifest_hash": hex::encode(&m.hash()),
        "preview": urna_office::draft::preview(&m),
    })))
}

#[derive(Deserialize)]
struct SetupBody {
    draft: Draft,
    passphrase: Zeroizing<String>,
}

/// Posts the draft as the election's `Setup` entry, if the rules accept it.
async fn setup(State(s): State<AppState>, Json(b): Json<SetupBody>) -> ApiResult {
    let m = b.draft.check().map_err(|p| ApiError::problem(&p))?;
    blocking(&s, true, move |s| {
        let key = open_key(
            s,
            &Pass {
                passphrase: b.passphrase,
            },
        )?;
        if m.authority_key != key.verifying_key() {
            return Err(ApiError::problem(&Problem {
                field: "keys.authority".into(),
                code: "not-this-key",
                params: Default::default(),
                message: format!(
                    "this is not the public key of {} (it is {})",
                    key_path(s).display(),
                    hex::encode(key.verifying_key().as_bytes())
                ),
            }));
        }
        let (_, board_key) = s.client.stated_key()?;
        if m.board_key != board_key {
            return Err(ApiError::problem(&Problem {
                field: "keys.board".into(),
                code: "not-this-board",
                params: Default::default(),
                message: format!(
                    "this is not the key the board signs with (it is {})",
                    hex::encode(board_key.as_bytes())
                ),
            }));
        }
        let index = urna_office::authority::setup(&s.client, &m, &key)?;
        Ok(json!({ "index": index, "election_id": m.election_id }))
    })
    .await
}

/// An act that cannot be undone is confirmed by typing its name.
#[derive(Deserialize)]
struct Confirmed {
    passphrase: Zeroizing<String>,
    confirm: String,
}

fn confirmed(b: &Confirmed, word: &str) -> Result<Pass, ApiError> {
    if b.confirm.trim() != word {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "not-confirmed",
            &format!("type {word:?} to confirm: this cannot be undone"),
        ));
    }
    Ok(Pass {
        passphrase: b.passphrase.clone(),
    })
}

async fn open(State(s): State<AppState>, Json(b): Json<Confirmed>) -> ApiResult {
    let pass = confirmed(&b, "open")?;
    blocking(&s, true, move |s| {
        let k = open_key(s, &pass)?;
        Ok(json!({ "index": urna_office::authority::open(&s.client, &k)? }))
    })
    .await
}

async fn close(State(s): State<AppState>, Json(b): Json<Confirmed>) -> ApiResult {
    let pass = confirmed(&b, "close")?;
    blocking(&s, true, move |s| {
        let k = open_key(s, &pass)?;
        Ok(json!({ "index": urna_office::authority::close(&s.client, &k)? }))
    })
    .await
}

/// Combines the decryption shares and posts the result (as `urna tally` does: anyone may).
async fn tally(State(s): State<AppState>) -> ApiResult {
    blocking(&s, true, |s| {
        let (e, _, posted) = urna_office::trustee::tally(&s.client, None)?;
        let mut v = summary(&e).map_or(Value::Null, |s| s.to_json());
        v["posted"] = json!(posted);
        Ok(v)
    })
    .await
}

/// The result on the ledger, as `urna tally` exports it.
async fn result_of(s: &AppState) -> Result<urna_tally::summary::Summary, ApiError> {
    let s = s.clone();
    tokio::task::spawn_blocking(move || {
        let synced = s.client.sync(None)?;
        summary(synced.election()).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no-result",
                "the result is not on the ledger yet",
            )
        })
    })
    .await
    .map_err(ApiError::internal)?
}

fn download(body: String, mime: &'static str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

async fn result_json(State(s): State<AppState>) -> Result<Response, ApiError> {
    let r = result_of(&s).await?;
    let text = serde_json::to_string_pretty(&r.to_json()).map_err(ApiError::internal)?;
    Ok(download(text, "application/json", "result.json"))
}

async fn result_csv(State(s): State<AppState>) -> Result<Response, ApiError> {
    let r = result_of(&s).await?;
    Ok(download(
        r.to_csv(),
        "text/csv; charset=utf-8",
        "result.csv",
    ))
}

async fn result_txt(State(s): State<AppState>) -> Result<Response, ApiError> {
    let r = result_of(&s).await?;
    Ok(download(
        r.to_text(),
        "text/plain; charset=utf-8",
        "result.txt",
    ))
}

// ---- the registrar ----

#[derive(Deserialize)]
struct Csv {
    csv: String,
}

fn registrar_dirs(s: &AppState) -> Result<(&Path, &Path, &str), ApiError> {
    match &s.role {
        Role::Registrar {
            credentials,
            letters,
            public_url,
            ..
        } => Ok((credentials, letters, public_url)),
        _ => Err(ApiError::internal("not a registrar's console")),
    }
}

fn bad_lines(errors: &[urna_registrar::RowError]) -> ApiError {
    ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        body: json!({ "error": {
            "code": "bad-lines",
            "message": format!("{} bad line(s); nothing was issued or posted", errors.len()),
            "field": "csv",
            "lines": errors.iter().map(|e| json!({ "line": e.line, "message": e.message })).collect::<Vec<_>>(),
        } }),
    }
}

/// The voters CSV checked as `registrar credentials` will check it, against the manifest on
/// the board when there is one: every bad line, by number.
async fn voters_check(State(s): State<AppState>, Json(b): Json<Csv>) -> ApiResult {
    let rows = urna_registrar::read_csv(&b.csv).map_err(|e| bad_lines(&e))?;
    blocking(&s, false, move |s| {
        let synced = s.client.sync(None)?;
        let Some(m) = synced.election().manifest() else {
            return Ok(json!({ "voters": rows.len(), "styles_checked": false }));
        };
        let rows = urna_registrar::resolve_styles(rows, m).map_err(|e| bad_lines(&e))?;
        Ok(json!({ "voters": rows.len(), "styles_checked": true }))
    })
    .await
}

#[derive(Deserialize)]
struct CredentialsBody {
    csv: String,
    passphrase: Zeroizing<String>,
}

/// Issues a credential to each new voter of the CSV and posts the roll.
async fn credentials(State(s): State<AppState>, Json(b): Json<CredentialsBody>) -> ApiResult {
    urna_registrar::read_csv(&b.csv).map_err(|e| bad_lines(&e))?;
    blocking(&s, true, move |s| {
        let (creds, _, _) = registrar_dirs(s)?;
        let key = open_key(
            s,
            &Pass {
                passphrase: b.passphrase,
            },
        )?;
        let issued = urna_office::registrar::credentials(&s.client, &b.csv, "the CSV", creds, &key)
            .map_err(|e| match e {
                IssueError::Rows(r) => bad_lines(&r.errors),
                IssueError::Office(o) => o.into(),
            })?;
        serde_json::to_value(&issued).map_err(ApiError::internal)
    })
    .await
}

/// The board's roll beside the registrar's registry.
async fn roll(State(s): State<AppState>) -> ApiResult {
    blocking(&s, false, |s| {
        let (creds, _, _) = registrar_dirs(s)?;
        let r = urna_office::registrar::roll(&s.client, creds)?;
        serde_json::to_value(&r).map_err(ApiError::internal)
    })
    .await
}

/// Writes every voter's printable letter into the letters directory.
async fn letters(State(s): State<AppState>) -> ApiResult {
    blocking(&s, true, |s| {
        let (creds, out, url) = registrar_dirs(s)?;
        let l = urna_office::registrar::letters(&s.client, creds, out, url, None)?;
        serde_json::to_value(&l).map_err(ApiError::internal)
    })
    .await
}

/// One voter's letter, to print or save.
async fn letter(
    State(s): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let id = id.trim_end_matches(".html").to_string();
    let html = blocking(&s, false, move |s| {
        let (creds, _, url) = registrar_dirs(s)?;
        let registry = urna_office::registrar::read_registry(&creds.join(urna_office::registrar::REGISTRY))?;
        let synced = s.client.sync(None)?;
        let m = synced
            .election()
            .manifest()
            .ok_or_else(|| ApiError::usage("the board holds no election yet"))?;
        let html = urna_office::registrar::letter(m, &registry, creds, &id, url)?.ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no-credential",
                &format!("{id}'s credential file is no longer in the directory (delivered and deleted?)"),
            )
        })?;
        Ok(json!(html.as_str()))
    })
    .await?;
    let html = html.0.as_str().unwrap_or_default().to_string();
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The letter's own stylesheet and QR code, and nothing else: no script at all.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
        ],
        html,
    )
        .into_response())
}

// ---- the trustee ----

/// The trustee's public keys, for the authority's manifest.
async fn trustee_key(State(s): State<AppState>, Json(p): Json<Pass>) -> ApiResult {
    blocking(&s, false, move |s| {
        let k = urna_office::trustee::open(key_path(s), p.passphrase.as_bytes())?;
        Ok(json!({
            "signing_key": hex::encode(k.verifying_key().as_bytes()),
            "ceremony_key": hex::encode(k.ceremony_key().as_bytes()),
        }))
    })
    .await
}

/// What the key ceremony asks of this trustee now; nothing is posted.
async fn ceremony_preview(State(s): State<AppState>, Json(p): Json<Pass>) -> ApiResult {
    blocking(&s, false, move |s| {
        let mut k = urna_office::trustee::open(key_path(s), p.passphrase.as_bytes())?;
        let (index, next) = urna_office::trustee::ceremony_preview(&s.client, &mut k)?;
        Ok(json!({ "index": index, "next": next }))
    })
    .await
}

/// Takes this trustee's next step of the ceremony (the key file is re-sealed first when the
/// step needs it).
async fn ceremony_step(State(s): State<AppState>, Json(p): Json<Pass>) -> ApiResult {
    blocking(&s, true, move |s| {
        let path = key_path(s).to_path_buf();
        let mut k = urna_office::trustee::open(&path, p.passphrase.as_bytes())?;
        let done =
            urna_office::trustee::ceremony_once(&s.client, &path, &mut k, p.passphrase.as_bytes())?;
        let (index, next) = urna_office::trustee::ceremony_preview(&s.client, &mut k)?;
        Ok(json!({ "done": done, "index": index, "next": next }))
    })
    .await
}

/// How long a decryption or a mix waits for others before it answers (the page asks again).
const WAIT: Duration = Duration::from_secs(20);

async fn decrypt(State(s): State<AppState>, Json(p): Json<Pass>) -> ApiResult {
    blocking(&s, true, move |s| {
        let mut k = urna_office::trustee::open(key_path(s), p.passphrase.as_bytes())?;
        let mut notes = Vec::new();
        let d = urna_office::trustee::decrypt(&s.client, &mut k, WAIT, &mut |pr| {
            if let urna_office::trustee::Progress::Note(n) = pr {
                notes.push(n.to_string());
            }
        })?;
        Ok(json!({ "decrypted": d, "posted": d.posted(), "notes": notes }))
    })
    .await
}

async fn mix(State(s): State<AppState>, Json(p): Json<Pass>) -> ApiResult {
    blocking(&s, true, move |s| {
        let k = urna_office::trustee::open(key_path(s), p.passphrase.as_bytes())?;
        let mut notes = Vec::new();
        let m = urna_office::trustee::mix(&s.client, k.signing_key(), None, WAIT, &mut |pr| {
            if let urna_office::trustee::Progress::Note(n) = pr {
                notes.push(n.to_string());
            }
        })?;
        Ok(json!({ "mixed": m, "notes": notes }))
    })
    .await
}
