//! The registrar: one credential per voter, a private registry of who got which credential
//! (never the secret keys), and the public roll posted to the board in signed batches.

use std::collections::{BTreeMap, HashSet};

use rand_core::{CryptoRng, RngCore};
use thiserror::Error;
use urna_crypto::codec::Encode;
use urna_crypto::hex;
use urna_crypto::sign::{SigningKey, VerifyingKey};
use urna_election::entry::Entry;
use urna_election::manifest::Manifest;
use urna_election::payload::{Payload, RollEntry, VoterRoll};
use urna_election::state::Election;

use urna_voter::credential::Credential;

/// Roll entries per `VoterRoll` batch (≈ 38 bytes each, well under the entry size limit).
pub const BATCH: usize = 1000;

/// One row of the voters CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoterRow {
    pub line: usize,
    pub id: String,
    pub weight: u32,
    pub style: u16,
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

/// A row of the voters CSV as written, before the manifest is consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    pub line: usize,
    pub id: String,
    pub weight: u32,
    /// The ballot style's id; `None` for the manifest's first.
    pub style: Option<String>,
}

/// Reads `voter_id[,weight[,style]]` rows after a header line naming those columns, without
/// the manifest: everything about the file itself is checked here, before any board is
/// reached. Weight defaults to 1. Every bad line is reported.
pub fn read_csv(text: &str) -> Result<Vec<CsvRow>, Vec<RowError>> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    let mut errors = Vec::new();
    let (header_line, header): (usize, Vec<String>) = match lines.find(|(_, l)| !l.is_empty()) {
        Some((n, h)) => (n, h.split(',').map(|c| c.trim().to_lowercase()).collect()),
        None => {
            return Err(vec![RowError {
                line: 1,
                message: "empty file: expected a header `voter_id,weight,style`".into(),
            }])
        }
    };
    let col = |name: &str| header.iter().position(|c| c == name);
    let Some(id_col) = col("voter_id") else {
        return Err(vec![RowError {
            line: header_line,
            message: "the header has no `voter_id` column".into(),
        }]);
    };
    if let Some(c) = header
        .iter()
        .find(|c| !matches!(c.as_str(), "voter_id" | "weight" | "style"))
    {
        return Err(vec![RowError {
            line: header_line,
            message: format!("unknown column {c:?}: the columns are voter_id, weight, style"),
        }]);
    }
    let (w_col, s_col) = (col("weight"), col("style"));
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for (line, l) in lines {
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = l.split(',').map(str::trim).collect();
        let mut bad = |message: String| errors.push(RowError { line, message });
        if cells.len() != header.len() {
            bad(format!(
                "{} fields, the header has {}",
                cells.len(),
                header.len()
            ));
            continue;
        }
        let id = cells[id_col].to_string();
        if id.is_empty() {
            bad("empty voter_id".into());
            continue;
        }
        if id.contains(['/', '\\']) || id.starts_with('.') || id.chars().any(char::is_control) {
            bad(format!("voter_id {id:?} cannot name a file"));
            continue;
        }
        if !seen.insert(id.clone()) {
            bad(format!("voter_id {id:?} appears twice"));
            continue;
        }
        let weight = match w_col.map(|c| cells[c]) {
            None | Some("") => 1,
            Some(w) => match w.parse::<u32>() {
                Ok(w) if w >= 1 => w,
                _ => {
                    bad(format!("weight {w:?} is not a whole number ≥ 1"));
                    continue;
                }
            },
        };
        let style = s_col
            .map(|c| cells[c].to_string())
            .filter(|s| !s.is_empty());
        rows.push(CsvRow {
            line,
            id,
            weight,
            style,
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Parses the voters CSV ([`read_csv`]) and resolves each row's ballot style in the manifest
/// (default: its first). Every bad row is reported.
pub fn parse_csv(text: &str, m: &Manifest) -> Result<Vec<VoterRow>, Vec<RowError>> {
    resolve_styles(read_csv(text)?, m)
}

/// The rows with their ballot styles looked up in the manifest.
pub fn resolve_styles(rows: Vec<CsvRow>, m: &Manifest) -> Result<Vec<VoterRow>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let style = match &r.style {
            None => 0,
            Some(s) => match m.style(s) {
                Some((i, _)) => i,
                None => {
                    errors.push(RowError {
                        line: r.line,
                        message: format!(
                            "no ballot style {s:?} in the manifest (its styles: {})",
                            m.ballot_styles
                                .iter()
                                .map(|s| s.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                    continue;
                }
            },
        };
        out.push(VoterRow {
            line: r.line,
            id: r.id,
            weight: r.weight,
            style,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The registrar's private registry: voter id → (credential public key, weight, style).
/// Kept by the registrar only; the board never sees voter ids.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Registry(pub BTreeMap<String, RollEntry>);

impl Registry {
    /// Lines `voter_id,credential hex,weight,style index`.
    pub fn to_text(&self) -> String {
        let mut s = String::from("voter_id,credential,weight,style\n");
        for (id, r) in &self.0 {
            s.push_str(&format!(
                "{id},{},{},{}\n",
                hex::encode(r.credential.as_bytes()),
                r.weight,
                r.style
            ));
        }
        s
    }

    pub fn parse(text: &str) -> Result<Registry, RowError> {
        let mut out = BTreeMap::new();
        for (i, l) in text.lines().enumerate().skip(1) {
            let bad = |m: &str| RowError {
                line: i + 1,
                message: m.to_string(),
            };
            if l.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = l.split(',').collect();
            if f.len() != 4 {
                return Err(bad("expected 4 fields"));
            }
            let credential = hex::decode_array::<32>(f[1])
                .ok()
                .and_then(|k| VerifyingKey::from_wire(&k).ok())
                .ok_or_else(|| bad("bad credential"))?;
            out.insert(
                f[0].to_string(),
                RollEntry {
                    credential,
                    weight: f[2].parse().map_err(|_| bad("bad weight"))?,
                    style: f[3].parse().map_err(|_| bad("bad style"))?,
                },
            );
        }
        Ok(Registry(out))
    }

    /// Issues a credential to every row's voter that has none yet; returns them for delivery
    /// (the caller writes them out and does not keep them).
    pub fn issue<R: RngCore + CryptoRng>(
        &mut self,
        election_id: &str,
        rows: &[VoterRow],
        rng: &mut R,
    ) -> Vec<(VoterRow, Credential)> {
        let mut out = Vec::new();
        for row in rows {
            if self.0.contains_key(&row.id) {
                continue;
            }
            let cred = Credential {
                election_id: election_id.to_string(),
                key: SigningKey::generate(rng),
            };
            self.0.insert(
                row.id.clone(),
                RollEntry {
                    credential: cred.public(),
                    weight: row.weight,
                    style: row.style,
                },
            );
            out.push((row.clone(), cred));
        }
        out
    }

    /// Registry entries not yet on the ledger's roll, as signed `VoterRoll` batches numbered
    /// after the batches already admitted.
    pub fn pending_roll(&self, e: &Election, registrar: &SigningKey) -> Result<Vec<Entry>, String> {
        let m = e.manifest().ok_or("the ledger has no Setup entry yet")?;
        let pending: Vec<RollEntry> = self
            .0
            .values()
            .filter(|r| e.voter(&r.credential).is_none())
            .cloned()
            .collect();
        let mut out = Vec::new();
        for (batch, chunk) in (e.roll_batches()..).zip(pending.chunks(BATCH)) {
            let p = Payload::VoterRoll(VoterRoll {
                batch,
                voters: chunk.to_vec(),
            });
            out.push(
                Entry::sign(&m.election_id, p.kind(), &p.to_bytes(), registrar)
                    .map_err(|e| e.to_string())?,
            );
        }
        Ok(out)
    }
}
