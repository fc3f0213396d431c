//! The registrar's work with its files and the board: credentials issued into a directory
//! (one file per voter, mode 0600, and the private registry `registry.csv`), the public roll
//! posted, the printable letters, and the roll as the board holds it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use urna_client::BoardClient;
use urna_crypto::hex;
use urna_crypto::sign::SigningKey;
use urna_election::manifest::Manifest;
use urna_registrar::{read_csv, resolve_styles, Registry, RowError};
use urna_voter::credential::Credential;
use zeroize::Zeroizing;

use crate::error::{OfficeError, Result};
use crate::keys;
use crate::phase::{self, Act};

/// The private registry's file name in a credentials directory.
pub const REGISTRY: &str = "registry.csv";

/// What [`credentials`] did: the voters issued a credential now, and the roll batches posted.
#[derive(Debug, Clone, Serialize)]
pub struct Issued {
    pub ids: Vec<String>,
    pub posted: usize,
}

/// Bad lines of a voters CSV, all of them: nothing was issued or posted.
#[derive(Debug, thiserror::Error)]
#[error("{file} has bad lines; nothing was issued or posted:\n{}", .errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
pub struct BadRows {
    pub file: String,
    pub errors: Vec<RowError>,
}

/// Checks a voters CSV without the board: every bad line, numbered.
pub fn check_csv(text: &str, file: &str) -> Result<(), BadRows> {
    read_csv(text).map(|_| ()).map_err(|errors| BadRows {
        file: file.to_string(),
        errors,
    })
}

/// Issues credentials for new voters of the CSV `text` (named `file` in errors): files
/// `<out>/<voter id>.credential` (mode 0600), recorded in the private registry
/// `<out>/registry.csv`, then posts every registry entry not yet on the roll. The CSV is
/// checked, every line, before the board is reached.
pub fn credentials(
    client: &BoardClient,
    text: &str,
    file: &str,
    out: &Path,
    key: &SigningKey,
) -> Result<Issued, IssueError> {
    let bad = |errors| BadRows {
        file: file.to_string(),
        errors,
    };
    let rows = read_csv(text).map_err(bad)?;
    let s = client.sync(None).map_err(OfficeError::from)?;
    phase::allow(Act::Roll, s.election()).map_err(OfficeError::from)?;
    let m = s
        .election()
        .manifest()
        .ok_or_else(|| OfficeError::No("the board has no Setup entry yet".into()))?;
    let rows = resolve_styles(rows, m).map_err(bad)?;
    std::fs::create_dir_all(out).map_err(OfficeError::io(format!("creating {}", out.display())))?;
    let reg_path = out.join(REGISTRY);
    let mut registry = read_registry(&reg_path)?;
    let issued = registry.issue(&m.election_id, &rows, &mut rand::rngs::OsRng);
    for (row, cred) in &issued {
        keys::write_secret(
            &out.join(format!("{}.credential", row.id)),
            &cred.to_text(),
            true,
        )?;
    }
    // The registry is durable before anything is posted, so a re-run never issues twice.
    keys::write_secret(&reg_path, &registry.to_text(), false)?;
    let batches = registry
        .pending_roll(s.election(), key)
        .map_err(OfficeError::No)?;
    let mut posted = 0;
    for b in &batches {
        client
            .submit_retrying(b.bytes(), &s.origin, &s.key, Duration::from_secs(60))
            .map_err(|source| OfficeError::Post {
                kind: b.kind().to_string(),
                source,
            })?;
        posted += 1;
    }
    Ok(Issued {
        ids: issued.into_iter().map(|(r, _)| r.id).collect(),
        posted,
    })
}

/// Why credentials were not issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    Rows(#[from] BadRows),
    #[error(transparent)]
    Office(#[from] OfficeError),
}

/// The private registry in `path` (empty if there is none yet).
pub fn read_registry(path: &Path) -> Result<Registry> {
    match std::fs::read_to_string(path) {
        Ok(t) => {
            Registry::parse(&t).map_err(|e| OfficeError::Usage(format!("{}: {e}", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Registry::default()),
        Err(e) => Err(OfficeError::io(format!("reading {}", path.display()))(e)),
    }
}

/// The registry of a credentials directory, which must hold one.
fn registry_of(creds: &Path) -> Result<Registry> {
    let reg_path = creds.join(REGISTRY);
    if !reg_path.exists() {
        return Err(OfficeError::Usage(format!(
            "{} has no {REGISTRY}: give the directory `urna registrar credentials --out` wrote",
            creds.display()
        )));
    }
    read_registry(&reg_path)
}

/// One voter's letter (HTML), rendered from their credential file in `creds`; `None` when
/// the file is gone (delivered and deleted).
pub fn letter(
    m: &Manifest,
    registry: &Registry,
    creds: &Path,
    id: &str,
    public_url: &str,
) -> Result<Option<Zeroizing<String>>> {
    let entry = registry
        .0
        .get(id)
        .ok_or_else(|| OfficeError::Usage(format!("no voter {id:?} in the registry")))?;
    let path = creds.join(format!("{id}.credential"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => Zeroizing::new(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(OfficeError::io(format!("reading {}", path.display()))(e)),
    };
    let cred = Credential::parse(&text)
        .map_err(|e| OfficeError::Usage(format!("{}: {e}", path.display())))?;
    if cred.public() != entry.credential || cred.election_id != m.election_id {
        return Err(OfficeError::No(format!(
            "{} is not the credential the registry holds for {id} in this election",
            path.display()
        )));
    }
    let html = urna_registrar::letters::render(&urna_registrar::letters::Letter {
        manifest: m,
        voter_id: id,
        weight: entry.weight,
        style: entry.style,
        credential: &cred,
        board_url: public_url,
    })
    .map_err(|e| OfficeError::No(e.to_string()))?;
    Ok(Some(html))
}

/// What [`letters`] wrote, and for whom there was no credential file.
#[derive(Debug, Clone, Serialize)]
pub struct Letters {
    pub written: usize,
    pub out: PathBuf,
    /// Voters whose credential file is gone (delivered and deleted?), so no letter.
    pub missing: Vec<String>,
}

/// Writes a printable letter (`<out>/<voter id>.html`, mode 0600) for each voter of the
/// registry in `creds` whose credential file is there (only those in `only`, if given).
pub fn letters(
    client: &BoardClient,
    creds: &Path,
    out: &Path,
    public_url: &str,
    only: Option<&[String]>,
) -> Result<Letters> {
    let registry = registry_of(creds)?;
    let s = client.sync(None)?;
    let m = s
        .election()
        .manifest()
        .ok_or_else(|| OfficeError::No("the board holds no election yet".into()))?;
    std::fs::create_dir_all(out).map_err(OfficeError::io(format!("creating {}", out.display())))?;
    let mut written = 0;
    let mut missing = Vec::new();
    for id in registry.0.keys() {
        if only.is_some_and(|o| !o.contains(id)) {
            continue;
        }
        match letter(m, &registry, creds, id, public_url)? {
            Some(html) => {
                keys::write_secret(&out.join(format!("{id}.html")), &html, false)?;
                written += 1;
            }
            None => missing.push(id.clone()),
        }
    }
    Ok(Letters {
        written,
        out: out.to_path_buf(),
        missing,
    })
}

/// One voter of the registry and whether the board's roll holds their credential.
#[derive(Debug, Clone, Serialize)]
pub struct RollRow {
    pub voter_id: String,
    pub credential: String,
    pub weight: u32,
    /// The ballot style's id.
    pub style: String,
    pub on_roll: bool,
    /// Whether the credential file is still in the directory (not yet delivered and deleted).
    pub credential_file: bool,
}

/// The roll as the board holds it, beside the registrar's private registry.
#[derive(Debug, Clone, Serialize)]
pub struct Roll {
    pub phase: String,
    /// Credentials on the board's roll, and their weights summed.
    pub voters: u64,
    pub total_weight: u64,
    pub batches: u32,
    pub registry: Vec<RollRow>,
}

/// The board's roll and the registry of `creds` (which may not exist yet).
pub fn roll(client: &BoardClient, creds: &Path) -> Result<Roll> {
    let registry = read_registry(&creds.join(REGISTRY))?;
    let s = client.sync(None)?;
    let e = s.election();
    let style = |i: u16| {
        e.manifest()
            .and_then(|m| m.ballot_styles.get(usize::from(i)))
            .map_or_else(|| format!("#{i}"), |s| s.id.clone())
    };
    let registry = registry
        .0
        .iter()
        .map(|(id, r)| RollRow {
            voter_id: id.clone(),
            credential: hex::encode(r.credential.as_bytes()),
            weight: r.weight,
            style: style(r.style),
            on_roll: e.voter(&r.credential).is_some(),
            credential_file: creds.join(format!("{id}.credential")).exists(),
        })
        .collect();
    Ok(Roll {
        phase: e.phase().to_string(),
        voters: e.counts().voters,
        total_weight: e.total_weight(),
        batches: e.roll_batches(),
        registry,
    })
}
