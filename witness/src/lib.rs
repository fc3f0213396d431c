//! A C2SP `tlog-witness`: it cosigns a log's checkpoint only if it is consistent with the last
//! one it cosigned for that log, persisting its state durably before it answers. A checkpoint
//! that is signed by the log but inconsistent with what it cosigned is kept as evidence of a
//! fork (two signed, conflicting views of one log) and published at `GET /evidence`.
//!
//! - `POST /add-checkpoint`: body `old <size>\n` ‖ proof lines (base64) ‖ `\n` ‖ checkpoint.
//!   `200` with cosignature lines; `400` malformed or old > new; `403` no valid log signature;
//!   `404` unknown origin; `409` old size is not the last cosigned size (body: that size,
//!   `text/x.tlog.size`) or same size with another root; `422` the consistency proof fails.
//! - `GET /checkpoint/<origin>` (origin percent-encoded as a path): the checkpoint last cosigned
//!   for that log, as the log signed it, with this witness's cosignature line; `404` if none.
//!   Clients ask every witness for it instead of taking the log's word for what was cosigned.
//! - `GET /state` (JSON): per log, the last cosigned size and root.
//! - `GET /evidence` (JSON): conflicting checkpoint pairs.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use urna_crypto::sign::{SigningKey, VerifyingKey};

use urna_ledger::merkle::{verify_consistency, Hash};
use urna_ledger::note::{cosign, split_note, Checkpoint};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogState {
    pub size: u64,
    /// Base64 root, as in the checkpoint.
    pub root: String,
    /// The signed checkpoint last cosigned.
    pub note: String,
    /// This witness's cosignature line on it (empty in state written before it was kept).
    #[serde(default)]
    pub cosignature: String,
}

/// Two signed views of one log that cannot both be true.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evidence {
    pub origin: String,
    pub reason: String,
    /// The checkpoint this witness had cosigned.
    pub cosigned: String,
    /// The log-signed checkpoint that conflicts with it, and the proof that came with it.
    pub received: String,
    pub proof: Vec<String>,
}

#[derive(Default, Serialize, Deserialize)]
struct Persisted {
    logs: BTreeMap<String, LogState>,
    evidence: Vec<Evidence>,
}

pub struct Witness {
    name: String,
    key: SigningKey,
    logs: BTreeMap<String, VerifyingKey>,
    path: PathBuf,
    state: Mutex<Persisted>,
}

/// Why a checkpoint is not cosigned, with its tlog-witness status code.
#[derive(Debug)]
pub enum Refusal {
    Malformed(String),
    UnknownLog(String),
    NotSigned,
    OldTooLarge,
    /// The size this witness last cosigned.
    WrongOldSize(u64),
    SameSizeOtherRoot,
    BadProof,
    Storage(io::Error),
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::Malformed(_) | Refusal::OldTooLarge => StatusCode::BAD_REQUEST,
            Refusal::UnknownLog(_) => StatusCode::NOT_FOUND,
            Refusal::NotSigned => StatusCode::FORBIDDEN,
            Refusal::WrongOldSize(_) | Refusal::SameSizeOtherRoot => StatusCode::CONFLICT,
            Refusal::BadProof => StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Witness {
    /// Opens (or creates) the witness's state in `dir`.
    pub fn open(
        dir: &Path,
        name: &str,
        key: SigningKey,
        logs: BTreeMap<String, VerifyingKey>,
    ) -> io::Result<Witness> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("witness-state.json");
        let state = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Persisted::default(),
            Err(e) => return Err(e),
        };
        Ok(Witness {
            name: name.to_string(),
            key,
            logs,
            path,
            state: Mutex::new(state),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    fn persist(&self, st: &Persisted) -> io::Result<()> {
        let tmp = self.path.with_extension("tmp");
        let bytes = serde_json::to_vec_pretty(st).map_err(io::Error::other)?;
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// The `add-checkpoint` operation: check, persist, then cosign.
    pub fn add_checkpoint(&self, request: &str) -> Result<String, Refusal> {
        let bad = |m: &str| Refusal::Malformed(m.to_string());
        let (head, note) = request
            .split_once("\n\n")
            .ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old_s = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .ok_or_else(|| bad("no old size line"))?;
        if old_s.is_empty() || (old_s.len() > 1 && old_s.starts_with('0')) {
            return Err(bad("old size is not a canonical decimal"));
        }
        let old: u64 = old_s.parse().map_err(|_| bad("old size is not a number"))?;
        let proof_b64: Vec<String> = lines.map(str::to_string).collect();
        if proof_b64.len() > 63 {
            return Err(bad("more than 63 proof lines"));
        }
        let proof: Vec<Hash> = proof_b64
            .iter()
            .map(|l| B64.decode(l).ok().and_then(|v| v.try_into().ok()))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("a proof line is not a base64 hash"))?;
        let (body, _) = split_note(note).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let origin = body.lines().next().unwrap_or_default().to_string();
        let key = self
            .logs
            .get(&origin)
            .ok_or_else(|| Refusal::UnknownLog(origin.clone()))?;
        let cp = Checkpoint::open(note, &origin, key).map_err(|_| Refusal::NotSigned)?;
        if old > cp.size {
            return Err(Refusal::OldTooLarge);
        }
        // Check and persist under one lock, so two requests cannot roll the state back.
        let mut st = self
            .state
            .lock()
            .map_err(|_| Refusal::Storage(io::Error::other("state lock poisoned")))?;
        let known = st.logs.get(&origin).cloned();
        let (last_size, last_root) = match &known {
            Some(s) => (
                s.size,
                B64.decode(&s.root)
                    .ok()
                    .and_then(|v| <Hash>::try_from(v).ok())
                    .unwrap_or_default(),
            ),
            None => (0, Hash::default()),
        };
        if old != last_size {
            return Err(Refusal::WrongOldSize(last_size));
        }
        let conflict = |reason: &str, st: &mut Persisted| -> Result<(), Refusal> {
            if let Some(k) = &known {
                st.evidence.push(Evidence {
                    origin: origin.clone(),
                    reason: reason.to_string(),
                    cosigned: k.note.clone(),
                    received: note.to_string(),
                    proof: proof_b64.clone(),
                });
                self.persist(st).map_err(Refusal::Storage)?;
            }
            Ok(())
        };
        if old == cp.size {
            if old > 0 && cp.root != last_root {
                conflict("same size, different root", &mut st)?;
                return Err(Refusal::SameSizeOtherRoot);
            }
            if old == 0 && !proof.is_empty() {
                return Err(Refusal::BadProof);
            }
        } else if old == 0 {
            if !proof.is_empty() {
                return Err(Refusal::BadProof);
            }
        } else if verify_consistency(old, cp.size, &last_root, &cp.root, &proof).is_err() {
            conflict(
                "the consistency proof from the cosigned checkpoint does not verify",
                &mut st,
            )?;
            return Err(Refusal::BadProof);
        }
        let line = cosign(&body, &self.name, &self.key, now());
        st.logs.insert(
            origin.clone(),
            LogState {
                size: cp.size,
                root: B64.encode(cp.root),
                note: note.to_string(),
                cosignature: line.clone(),
            },
        );
        self.persist(&st).map_err(Refusal::Storage)?;
        Ok(line)
    }

    /// The checkpoint of `origin` this witness last cosigned: its body, the log's valid signature
    /// line(s) and this witness's cosignature line (other lines it was sent are dropped).
    pub fn latest(&self, origin: &str) -> Option<String> {
        let key = self.logs.get(origin)?;
        let known = self.state.lock().ok()?.logs.get(origin).cloned()?;
        let (body, lines) = split_note(&known.note).ok()?;
        let mut out = format!("{body}\n");
        for l in lines {
            if Checkpoint::open(&format!("{body}\n{l}\n"), origin, key).is_ok() {
                out.push_str(l);
                out.push('\n');
            }
        }
        if known.cosignature.is_empty() {
            // State from before the line was kept: this witness cosigned this checkpoint
            // already, so cosigning it again now commits it to nothing new.
            out.push_str(&cosign(&body, &self.name, &self.key, now()));
        } else {
            out.push_str(&known.cosignature);
        }
        Some(out)
    }

    pub fn state_json(&self) -> serde_json::Value {
        match self.state.lock() {
            Ok(st) => serde_json::json!({
                "name": self.name,
                "logs": st.logs.iter().map(|(o, s)| (o.clone(), serde_json::json!({"size": s.size, "root": s.root}))).collect::<serde_json::Map<_, _>>(),
            }),
            Err(_) => serde_json::Value::Null,
        }
    }

    pub fn evidence(&self) -> Vec<Evidence> {
        self.state
            .lock()
            .map(|s| s.evidence.clone())
            .unwrap_or_default()
    }
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: String) -> Response {
    let w2 = Arc::clone(&w);
    match tokio::task::spawn_blocking(move || w2.add_checkpoint(&body)).await {
        Ok(outcome) => answer(outcome),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The tlog-witness answer to an `add-checkpoint`: the cosignature line, or the refusal's
/// status (a `409` for a wrong old size carries the size last cosigned).
pub fn answer(outcome: Result<String, Refusal>) -> Response {
    match outcome {
        Ok(lines) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], lines).into_response(),
        Err(Refusal::WrongOldSize(size)) => (
            StatusCode::CONFLICT,
            [(header::CONTENT_TYPE, "text/x.tlog.size")],
            format!("{size}\n"),
        )
            .into_response(),
        Err(r) => {
            let msg = format!("{r:?}\n");
            (r.status(), msg).into_response()
        }
    }
}

async fn latest(
    State(w): State<Arc<Witness>>,
    axum::extract::Path(origin): axum::extract::Path<String>,
) -> Response {
    // Read by voters' browsers on other origins (the booth), so readable cross-origin.
    let cors = (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    match w.latest(&origin) {
        Some(note) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), cors],
            note,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [cors],
            "no checkpoint of that log has been cosigned\n",
        )
            .into_response(),
    }
}

pub fn router(w: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(Arc::clone(&w))
        .merge(read_router(w))
}

/// Everything but `add-checkpoint`: what a validating node serves beside its own gate on
/// cosigning.
pub fn read_router(w: Arc<Witness>) -> Router {
    Router::new()
        .route("/checkpoint/{*origin}", get(latest))
        .route(
            "/state",
            get(|State(w): State<Arc<Witness>>| async move { Json(w.state_json()) }),
        )
        .route(
            "/evidence",
            get(|State(w): State<Arc<Witness>>| async move { Json(w.evidence()) }),
        )
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_latest_cosigned_checkpoint_is_served_with_this_witness_cosignature() {
        use tower::ServiceExt;
        let dir = tempfile::tempdir().unwrap();
        let origin = "vote.example.org/2026/council";
        let board = SigningKey::from_seed(&[1; 32]);
        let witness_key = SigningKey::from_seed(&[2; 32]);
        let w = Arc::new(
            Witness::open(
                dir.path(),
                "w.example",
                witness_key.clone(),
                [(origin.to_string(), board.verifying_key())].into(),
            )
            .unwrap(),
        );
        let get = |path: String| {
            let app = router(Arc::clone(&w));
            async move {
                let r = app
                    .oneshot(
                        axum::http::Request::get(path)
                            .body(axum::body::Body::empty())
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                let cors = r
                    .headers()
                    .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                    .cloned();
                let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
                (String::from_utf8(body.to_vec()).unwrap(), cors)
            }
        };
        assert!(w.latest(origin).is_none());
        let cp = Checkpoint {
            origin: origin.into(),
            size: 3,
            root: [5; 32],
        };
        // Sent with a forged line claiming another witness: not passed on.
        let sent = format!("{}\u{2014} w2.example AAAAAAAA\n", cp.sign(&board));
        let line = w.add_checkpoint(&format!("old 0\n\n{sent}")).unwrap();
        let policy = [("w.example".to_string(), witness_key.verifying_key())];
        for path in [
            urna_ledger::witnessed::checkpoint_path(origin),
            "/checkpoint/vote.example.org%2F2026%2Fcouncil".to_string(),
        ] {
            let (note, cors) = get(path).await;
            assert_eq!(note, format!("{}{line}", cp.sign(&board)));
            assert_eq!(cors.unwrap(), "*");
            let (opened, who) =
                Checkpoint::open_witnessed(&note, origin, &board.verifying_key(), &policy, 1)
                    .unwrap();
            assert_eq!((opened, who), (cp.clone(), vec![0]));
        }
        // The state survives a restart, line and all.
        drop(w);
        let again = Witness::open(
            dir.path(),
            "w.example",
            witness_key,
            [(origin.to_string(), board.verifying_key())].into(),
        )
        .unwrap();
        assert_eq!(
            again.latest(origin).unwrap(),
            format!("{}{line}", cp.sign(&board))
        );
        assert!(again.latest("other.example").is_none());
    }
}
