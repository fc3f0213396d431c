//! The election manifest: what the election authority declares before anything else happens.
//!
//! Authored as TOML ([`Manifest::from_toml`], example in `specs/examples/manifest.toml`),
//! validated, and carried on the ledger in its canonical binary form ([`Manifest`] implements
//! [`Encode`]/[`Decode`]; `specs/election.md` §2). The manifest hash enters the election context
//! that every ballot proof binds.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;
use urna_crypto::codec::{Decode, Encode, Reader, Writer};
use urna_crypto::errors::DecodeError;
use urna_crypto::group::Point;
use urna_crypto::sign::VerifyingKey;

/// Largest number of options in one contest (a selection index fits a `u8`, and a disjunctive
/// contest proof supports totals up to 254).
pub const MAX_OPTIONS: usize = 254;
/// Largest score a score contest may allow per option.
pub const MAX_SCORE: u16 = 1000;
/// Largest number of trustees.
pub const MAX_TRUSTEES: usize = 64;
/// At most this many witnesses may be named.
pub const MAX_WITNESSES: usize = 32;

/// Which ballot counts when a credential votes more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevotePolicy {
    /// The latest ballot counts; earlier ones stay on the ledger, marked superseded (default).
    LatestCounts,
    /// One ballot per credential; a second is rejected.
    Forbidden,
}

impl RevotePolicy {
    fn tag(self) -> u8 {
        match self {
            RevotePolicy::LatestCounts => 1,
            RevotePolicy::Forbidden => 2,
        }
    }
}

/// The rule a contest imposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ContestKind {
    /// Exactly one option (`exactly = true`) or at most one.
    Plurality { exactly: bool },
    /// Between `min` and `max` options.
    Approval { min: u16, max: u16 },
    /// Each option scored `0..=max`; with a budget, the scores sum to at most `budget`
    /// (cumulative voting).
    Score { max: u16, budget: Option<u32> },
    /// Options `yes`, `no` and, if `blank`, `blank`; exactly one.
    Referendum { blank: bool },
}

/// What each option's ciphertext may encrypt and what the contest total must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContestRule {
    /// Each option encrypts a value in `0..=per_option_max`.
    pub per_option_max: u16,
    /// The sum over options lies in `total_min..=total_max`.
    pub total_min: u32,
    pub total_max: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContestOption {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contest {
    pub id: String,
    pub title: String,
    #[serde(flatten)]
    pub kind: ContestKind,
    pub options: Vec<ContestOption>,
}

impl Contest {
    pub fn rule(&self) -> ContestRule {
        let n = self.options.len() as u32;
        match self.kind {
            ContestKind::Plurality { exactly } => ContestRule {
                per_option_max: 1,
                total_min: u32::from(exactly),
                total_max: 1,
            },
            ContestKind::Approval { min, max } => ContestRule {
                per_option_max: 1,
                total_min: min.into(),
                total_max: max.into(),
            },
            ContestKind::Score { max, budget } => ContestRule {
                per_option_max: max,
                total_min: 0,
                total_max: budget.unwrap_or(u32::from(max) * n),
            },
            ContestKind::Referendum { .. } => ContestRule {
                per_option_max: 1,
                total_min: 1,
                total_max: 1,
            },
        }
    }

    pub fn option_index(&self, id: &str) -> Option<usize> {
        self.options.iter().position(|o| o.id == id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotStyle {
    pub id: String,
    /// Indices into [`Manifest::contests`], strictly increasing.
    pub contests: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trustee {
    pub name: String,
    /// Signs the trustee's ledger entries.
    pub signing_key: VerifyingKey,
    /// Receives encrypted key-ceremony shares.
    pub ceremony_key: Point,
}

/// A witness: an independent cosigner of the board's checkpoints (C2SP tlog-witness).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    /// Its key name in cosignature lines (a scheme-less URL-like name).
    pub name: String,
    /// Its Ed25519 cosigning key.
    pub key: VerifyingKey,
    /// Where the board submits checkpoints (`<url>/add-checkpoint`).
    pub url: String,
}

/// A validated manifest. Construct with [`Manifest::from_toml`] or decode from its canonical
/// bytes; both validate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// A scheme-less URL-like origin, e.g. `vote.example.org/2026/council`; also the log name.
    pub election_id: String,
    pub title: String,
    pub authority_key: VerifyingKey,
    pub registrar_key: VerifyingKey,
    pub board_key: VerifyingKey,
    pub trustees: Vec<Trustee>,
    pub threshold: u16,
    pub revote: RevotePolicy,
    pub contests: Vec<Contest>,
    pub ballot_styles: Vec<BallotStyle>,
    /// Informational only; the rules never read a clock.
    pub opens: Option<String>,
    pub closes: Option<String>,
    /// Witnesses that cosign the board's checkpoints, and how many of them a checkpoint needs
    /// before clients accept it (0 when there are none).
    pub witnesses: Vec<Witness>,
    pub witness_quorum: u16,
}

/// Why a manifest is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ManifestError {
    #[error("TOML: {0}")]
    Toml(String),
    #[error("election id {0:?} must be 1–255 bytes of lowercase letters, digits and . - _ / : with no scheme")]
    BadElectionId(String),
    #[error("witness quorum {quorum} does not fit {n} witnesses (1 ≤ quorum ≤ n, or 0 with none)")]
    BadWitnessQuorum { quorum: u16, n: usize },
    #[error("{what} {id:?} is empty or longer than {max} bytes")]
    BadText {
        what: &'static str,
        id: String,
        max: usize,
    },
    #[error("duplicate contest id {0:?}")]
    DuplicateContest(String),
    #[error("contest {contest:?}: duplicate option id {option:?}")]
    DuplicateOption { contest: String, option: String },
    #[error("duplicate ballot style id {0:?}")]
    DuplicateStyle(String),
    #[error("ballot style {style:?} names unknown contest {contest:?}")]
    UnknownContest { style: String, contest: String },
    #[error("ballot style {style:?} lists contest {contest:?} twice")]
    RepeatedContest { style: String, contest: String },
    #[error("ballot style {0:?} has no contests")]
    EmptyStyle(String),
    #[error("no ballot styles")]
    NoStyles,
    #[error("no contests")]
    NoContests,
    #[error("contest {0:?} has fewer than two options")]
    EmptyContest(String),
    #[error("contest {contest:?} has {count} options; at most {max} are supported")]
    TooManyOptions {
        contest: String,
        count: usize,
        max: usize,
    },
    #[error("contest {contest:?}: max ({max}) is below min ({min})")]
    MaxBelowMin { contest: String, min: u32, max: u32 },
    #[error("contest {contest:?}: max ({max}) exceeds the number of options ({options})")]
    MaxAboveOptions {
        contest: String,
        max: u32,
        options: usize,
    },
    #[error("contest {contest:?}: score max must be 1–{MAX_SCORE}, got {max}")]
    BadScoreMax { contest: String, max: u16 },
    #[error("contest {contest:?}: budget must be at least 1, got {budget}")]
    BadBudget { contest: String, budget: u32 },
    #[error("referendum {0:?} lists options; they are fixed (yes, no, blank)")]
    ReferendumOptions(String),
    #[error("no trustees")]
    NoTrustees,
    #[error("{n} trustees; at most {MAX_TRUSTEES} are supported")]
    TooManyTrustees { n: usize },
    #[error("threshold {t} is invalid for {n} trustees (need 1 ≤ t ≤ n)")]
    BadThreshold { t: u16, n: usize },
    #[error("key {0} appears twice among the election's keys")]
    DuplicateKey(String),
    #[error("invalid key for {what}: {reason}")]
    BadKey { what: String, reason: String },
    #[error("unknown revote policy {0:?} (expected \"latest-counts\" or \"forbidden\")")]
    BadRevote(String),
    #[error("unknown contest kind {0:?}")]
    BadKind(String),
    #[error("contest {contest:?}: {field} is not used by a {kind} contest")]
    UnusedField {
        contest: String,
        field: &'static str,
        kind: &'static str,
    },
    #[error("contest {contest:?}: {field} is required for a {kind} contest")]
    MissingField {
        contest: String,
        field: &'static str,
        kind: &'static str,
    },
}

fn check_text(what: &'static str, s: &str, max: usize) -> Result<(), ManifestError> {
    if s.is_empty() || s.len() > max {
        return Err(ManifestError::BadText {
            what,
            id: s.chars().take(40).collect(),
            max,
        });
    }
    Ok(())
}

fn check_election_id(id: &str) -> Result<(), ManifestError> {
    let ok = !id.is_empty()
        && id.len() <= 255
        && !id.contains("://")
        && !id.starts_with('/')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-_/:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ManifestError::BadElectionId(id.chars().take(80).collect()))
    }
}

impl Manifest {
    /// Checks every rule of `specs/election.md` §2.2.
    pub fn validate(&self) -> Result<(), ManifestError> {
        check_election_id(&self.election_id)?;
        check_text("title", &self.title, u16::MAX as usize)?;
        if self.trustees.is_empty() {
            return Err(ManifestError::NoTrustees);
        }
        if self.trustees.len() > MAX_TRUSTEES {
            return Err(ManifestError::TooManyTrustees {
                n: self.trustees.len(),
            });
        }
        if self.threshold == 0 || usize::from(self.threshold) > self.trustees.len() {
            return Err(ManifestError::BadThreshold {
                t: self.threshold,
                n: self.trustees.len(),
            });
        }
        let mut keys = HashSet::new();
        let role_keys = [&self.authority_key, &self.registrar_key, &self.board_key];
        for k in role_keys
            .into_iter()
            .chain(self.trustees.iter().map(|t| &t.signing_key))
        {
            if !keys.insert(*k.as_bytes()) {
                return Err(ManifestError::DuplicateKey(urna_crypto::hex::encode(
                    k.as_bytes(),
                )));
            }
        }
        let mut ceremony = HashSet::new();
        for t in &self.trustees {
            check_text("trustee name", &t.name, 255)?;
            if !ceremony.insert(*t.ceremony_key.as_bytes()) {
                return Err(ManifestError::DuplicateKey(urna_crypto::hex::encode(
                    t.ceremony_key.as_bytes(),
                )));
            }
        }
        if self.contests.is_empty() {
            return Err(ManifestError::NoContests);
        }
        if self.contests.len() > u16::MAX as usize {
            return Err(ManifestError::BadText {
                what: "contest list",
                id: String::new(),
                max: u16::MAX as usize,
            });
        }
        let mut ids = HashSet::new();
        for c in &self.contests {
            check_text("contest id", &c.id, 255)?;
            check_text("contest title", &c.title, u16::MAX as usize)?;
            if !ids.insert(c.id.as_str()) {
                return Err(ManifestError::DuplicateContest(c.id.clone()));
            }
            validate_contest(c)?;
        }
        if self.ballot_styles.is_empty() {
            return Err(ManifestError::NoStyles);
        }
        let mut style_ids = HashSet::new();
        for s in &self.ballot_styles {
            check_text("ballot style id", &s.id, 255)?;
            if !style_ids.insert(s.id.as_str()) {
                return Err(ManifestError::DuplicateStyle(s.id.clone()));
            }
            if s.contests.is_empty() {
                return Err(ManifestError::EmptyStyle(s.id.clone()));
            }
            for w in s.contests.windows(2) {
                if w[0] >= w[1] {
                    let name = self
                        .contests
                        .get(usize::from(w[1]))
                        .map(|c| c.id.clone())
                        .unwrap_or_default();
                    return Err(ManifestError::RepeatedContest {
                        style: s.id.clone(),
                        contest: name,
                    });
                }
            }
            if let Some(bad) = s
                .contests
                .iter()
                .find(|&&i| usize::from(i) >= self.contests.len())
            {
                return Err(ManifestError::UnknownContest {
                    style: s.id.clone(),
                    contest: format!("#{bad}"),
                });
            }
        }
        for d in [&self.opens, &self.closes].into_iter().flatten() {
            check_text("date", d, 255)?;
        }
        let n = self.witnesses.len();
        let quorum_ok = if n == 0 {
            self.witness_quorum == 0
        } else {
            n <= MAX_WITNESSES && self.witness_quorum >= 1 && usize::from(self.witness_quorum) <= n
        };
        if !quorum_ok {
            return Err(ManifestError::BadWitnessQuorum {
                quorum: self.witness_quorum,
                n,
            });
        }
        let mut names = HashSet::new();
        let mut wkeys = HashSet::new();
        for w in &self.witnesses {
            check_text("witness name", &w.name, 255)?;
            check_text("witness url", &w.url, 255)?;
            if !names.insert(w.name.as_str()) || !wkeys.insert(*w.key.as_bytes()) {
                return Err(ManifestError::DuplicateKey(format!("witness {}", w.name)));
            }
        }
        Ok(())
    }

    /// Parses and validates the TOML authoring form.
    pub fn from_toml(text: &str) -> Result<Self, ManifestError> {
        let raw: toml_form::ManifestToml =
            toml::from_str(text).map_err(|e| ManifestError::Toml(e.to_string()))?;
        let m = raw.into_manifest()?;
        m.validate()?;
        Ok(m)
    }

    /// `SHA-256("urna-v1 manifest" ‖ canonical bytes)`.
    pub fn hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"urna-v1 manifest");
        h.update(self.to_bytes());
        h.finalize().into()
    }

    pub fn style(&self, id: &str) -> Option<(u16, &BallotStyle)> {
        self.ballot_styles
            .iter()
            .enumerate()
            .find(|(_, s)| s.id == id)
            .map(|(i, s)| (i as u16, s))
    }

    /// `(contest index, option index)` of every option in manifest order (contest, then
    /// option): the layout of the encrypted tally, of decryption shares and of the result.
    pub fn option_positions(&self) -> Vec<(u16, u16)> {
        self.contests
            .iter()
            .enumerate()
            .flat_map(|(c, contest)| (0..contest.options.len()).map(move |o| (c as u16, o as u16)))
            .collect()
    }

    pub fn trustee_index(&self, key: &VerifyingKey) -> Option<u16> {
        self.trustees
            .iter()
            .position(|t| &t.signing_key == key)
            .map(|i| i as u16 + 1)
    }
}

fn validate_contest(c: &Contest) -> Result<(), ManifestError> {
    let n = c.options.len();
    if n > MAX_OPTIONS {
        return Err(ManifestError::TooManyOptions {
            contest: c.id.clone(),
            count: n,
            max: MAX_OPTIONS,
        });
    }
    if n < 2 {
        return Err(ManifestError::EmptyContest(c.id.clone()));
    }
    let mut ids = HashSet::new();
    for o in &c.options {
        check_text("option id", &o.id, 255)?;
        check_text("option name", &o.name, u16::MAX as usize)?;
        if !ids.insert(o.id.as_str()) {
            return Err(ManifestError::DuplicateOption {
                contest: c.id.clone(),
                option: o.id.clone(),
            });
        }
    }
    match c.kind {
        ContestKind::Approval { min, max } => {
            if max < min {
                return Err(ManifestError::MaxBelowMin {
                    contest: c.id.clone(),
                    min: min.into(),
                    max: max.into(),
                });
            }
            if usize::from(max) > n || max == 0 {
                return Err(ManifestError::MaxAboveOptions {
                    contest: c.id.clone(),
                    max: max.into(),
                    options: n,
                });
            }
        }
        ContestKind::Score { max, budget } => {
            if max == 0 || max > MAX_SCORE {
                return Err(ManifestError::BadScoreMax {
                    contest: c.id.clone(),
                    max,
                });
            }
            if let Some(b) = budget {
                if b == 0 {
                    return Err(ManifestError::BadBudget {
                        contest: c.id.clone(),
                        budget: b,
                    });
                }
            }
        }
        ContestKind::Referendum { blank } => {
            let expected = referendum_options(blank);
            if c.options
                .iter()
                .map(|o| o.id.as_str())
                .ne(expected.iter().map(|o| o.id.as_str()))
            {
                return Err(ManifestError::ReferendumOptions(c.id.clone()));
            }
        }
        ContestKind::Plurality { .. } => {}
    }
    Ok(())
}

/// The fixed options of a referendum.
pub fn referendum_options(blank: bool) -> Vec<ContestOption> {
    let mut v = vec![
        ContestOption {
            id: "yes".into(),
            name: "Yes".into(),
        },
        ContestOption {
            id: "no".into(),
            name: "No".into(),
        },
    ];
    if blank {
        v.push(ContestOption {
            id: "blank".into(),
            name: "Blank".into(),
        });
    }
    v
}

// ---- canonical binary form (specs/election.md §2.3) ----

const MANIFEST_MAGIC: &[u8; 8] = b"urna-m01";

fn put_bool(out: &mut Vec<u8>, b: bool) {
    out.put_u8(u8::from(b));
}

fn get_bool(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::Invalid("boolean must be 0 or 1")),
    }
}

fn put_str8(out: &mut Vec<u8>, s: &str) {
    // Lengths are bounded by validation; an over-long string cannot reach here.
    let b = &s.as_bytes()[..s.len().min(255)];
    out.put_u8(b.len() as u8);
    out.extend_from_slice(b);
}

fn put_str16(out: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    out.put_u16(b.len() as u16);
    out.extend_from_slice(b);
}

fn get_str8(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    String::from_utf8(r.bytes_u8()?.to_vec()).map_err(|_| DecodeError::InvalidUtf8)
}

fn get_opt_str8(r: &mut Reader<'_>) -> Result<Option<String>, DecodeError> {
    let s = get_str8(r)?;
    Ok((!s.is_empty()).then_some(s))
}

impl Encode for Manifest {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(MANIFEST_MAGIC);
        put_str8(out, &self.election_id);
        put_str16(out, &self.title);
        self.authority_key.encode(out);
        self.registrar_key.encode(out);
        self.board_key.encode(out);
        out.put_u16(self.trustees.len() as u16);
        for t in &self.trustees {
            put_str8(out, &t.name);
            t.signing_key.encode(out);
            t.ceremony_key.encode(out);
        }
        out.put_u16(self.threshold);
        out.put_u8(self.revote.tag());
        out.put_u16(self.contests.len() as u16);
        for c in &self.contests {
            put_str8(out, &c.id);
            put_str16(out, &c.title);
            match c.kind {
                ContestKind::Plurality { exactly } => {
                    out.put_u8(1);
                    put_bool(out, exactly);
                }
                ContestKind::Approval { min, max } => {
                    out.put_u8(2);
                    out.put_u16(min);
                    out.put_u16(max);
                }
                ContestKind::Score { max, budget } => {
                    out.put_u8(3);
                    out.put_u16(max);
                    out.put_u32(budget.unwrap_or(0));
                }
                ContestKind::Referendum { blank } => {
                    out.put_u8(4);
                    put_bool(out, blank);
                }
            }
            out.put_u8(c.options.len() as u8);
            for o in &c.options {
                put_str8(out, &o.id);
                put_str16(out, &o.name);
            }
        }
        out.put_u16(self.ballot_styles.len() as u16);
        for s in &self.ballot_styles {
            put_str8(out, &s.id);
            out.put_u16(s.contests.len() as u16);
            s.contests.iter().for_each(|i| out.put_u16(*i));
        }
        put_str8(out, self.opens.as_deref().unwrap_or(""));
        put_str8(out, self.closes.as_deref().unwrap_or(""));
        // Validation bounds the count by MAX_WITNESSES, so it fits a u8.
        out.put_u8(self.witnesses.len() as u8);
        for w in &self.witnesses {
            put_str8(out, &w.name);
            w.key.encode(out);
            put_str8(out, &w.url);
        }
        out.put_u16(self.witness_quorum);
    }
}

impl Decode for Manifest {
    /// Decodes and validates; a manifest that decodes is a valid manifest.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let m = Manifest::decode_unvalidated(r)?;
        m.validate()
            .map_err(|_| DecodeError::Invalid("manifest fails validation"))?;
        Ok(m)
    }
}

impl Manifest {
    /// Decodes the canonical form *without* the semantic checks of [`Manifest::validate`]
    /// (the bytes are still strictly parsed). For the state machine, which reports a
    /// well-formed but invalid manifest with its precise reason; call `validate` next.
    pub fn decode_unvalidated(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if &r.array::<8>()? != MANIFEST_MAGIC {
            return Err(DecodeError::Invalid("not a urna v1 manifest"));
        }
        let election_id = get_str8(r)?;
        let title = r.string_u16()?;
        let authority_key = VerifyingKey::decode(r)?;
        let registrar_key = VerifyingKey::decode(r)?;
        let board_key = VerifyingKey::decode(r)?;
        let n = r.u16()? as usize;
        let mut trustees = Vec::with_capacity(n.min(MAX_TRUSTEES));
        for _ in 0..n {
            trustees.push(Trustee {
                name: get_str8(r)?,
                signing_key: VerifyingKey::decode(r)?,
                ceremony_key: Point::decode(r)?,
            });
        }
        let threshold = r.u16()?;
        let revote = match r.u8()? {
            1 => RevotePolicy::LatestCounts,
            2 => RevotePolicy::Forbidden,
            t => {
                return Err(DecodeError::UnknownTag {
                    what: "revote policy",
                    tag: t.into(),
                })
            }
        };
        let nc = r.u16()? as usize;
        let mut contests = Vec::new();
        for _ in 0..nc {
            let id = get_str8(r)?;
            let title = r.string_u16()?;
            let kind = match r.u8()? {
                1 => ContestKind::Plurality {
                    exactly: get_bool(r)?,
                },
                2 => ContestKind::Approval {
                    min: r.u16()?,
                    max: r.u16()?,
                },
                3 => {
                    let max = r.u16()?;
                    let budget = r.u32()?;
                    ContestKind::Score {
                        max,
                        budget: (budget != 0).then_some(budget),
                    }
                }
                4 => ContestKind::Referendum {
                    blank: get_bool(r)?,
                },
                t => {
                    return Err(DecodeError::UnknownTag {
                        what: "contest kind",
                        tag: t.into(),
                    })
                }
            };
            let no = r.u8()? as usize;
            let mut options = Vec::with_capacity(no);
            for _ in 0..no {
                options.push(ContestOption {
                    id: get_str8(r)?,
                    name: r.string_u16()?,
                });
            }
            contests.push(Contest {
                id,
                title,
                kind,
                options,
            });
        }
        let ns = r.u16()? as usize;
        let mut ballot_styles = Vec::new();
        for _ in 0..ns {
            let id = get_str8(r)?;
            let k = r.u16()? as usize;
            let mut cs = Vec::with_capacity(k.min(r.remaining()));
            for _ in 0..k {
                cs.push(r.u16()?);
            }
            ballot_styles.push(BallotStyle { id, contests: cs });
        }
        let opens = get_opt_str8(r)?;
        let closes = get_opt_str8(r)?;
        let nw = r.u8()? as usize;
        let mut witnesses = Vec::with_capacity(nw);
        for _ in 0..nw {
            witnesses.push(Witness {
                name: get_str8(r)?,
                key: VerifyingKey::decode(r)?,
                url: get_str8(r)?,
            });
        }
        let witness_quorum = r.u16()?;
        Ok(Manifest {
            election_id,
            title,
            authority_key,
            registrar_key,
            board_key,
            trustees,
            threshold,
            revote,
            contests,
            ballot_styles,
            opens,
            closes,
            witnesses,
            witness_quorum,
        })
    }
}

/// The TOML authoring form, kept apart from the validated type.
mod toml_form {
    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ManifestToml {
        election_id: String,
        title: String,
        #[serde(default)]
        opens: Option<String>,
        #[serde(default)]
        closes: Option<String>,
        #[serde(default)]
        revote: Option<String>,
        threshold: u16,
        keys: KeysToml,
        trustees: Vec<TrusteeToml>,
        contests: Vec<ContestToml>,
        ballot_styles: Vec<StyleToml>,
        #[serde(default)]
        witnesses: Vec<WitnessToml>,
        #[serde(default)]
        witness_quorum: Option<u16>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct KeysToml {
        authority: String,
        registrar: String,
        board: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct WitnessToml {
        name: String,
        key: String,
        url: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct TrusteeToml {
        name: String,
        signing_key: String,
        ceremony_key: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ContestToml {
        id: String,
        title: String,
        kind: String,
        #[serde(default)]
        exactly: Option<bool>,
        #[serde(default)]
        min: Option<u16>,
        #[serde(default)]
        max: Option<u16>,
        #[serde(default)]
        budget: Option<u32>,
        #[serde(default)]
        blank: Option<bool>,
        #[serde(default)]
        options: Vec<ContestOption>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct StyleToml {
        id: String,
        contests: Vec<String>,
    }

    fn vk(what: &str, hex: &str) -> Result<VerifyingKey, ManifestError> {
        let bad = |reason: String| ManifestError::BadKey {
            what: what.to_string(),
            reason,
        };
        let b = urna_crypto::hex::decode_array::<32>(hex).map_err(|e| bad(e.to_string()))?;
        VerifyingKey::from_wire(&b).map_err(|e| bad(e.to_string()))
    }

    fn point(what: &str, hex: &str) -> Result<Point, ManifestError> {
        let bad = |reason: String| ManifestError::BadKey {
            what: what.to_string(),
            reason,
        };
        let b = urna_crypto::hex::decode_array::<32>(hex).map_err(|e| bad(e.to_string()))?;
        Point::from_wire(&b, "ceremony key").map_err(|e| bad(e.to_string()))
    }

    impl ContestToml {
        fn unused(&self, kind: &'static str, allowed: &[&str]) -> Result<(), ManifestError> {
            let fields: [(&'static str, bool); 5] = [
                ("exactly", self.exactly.is_some()),
                ("min", self.min.is_some()),
                ("max", self.max.is_some()),
                ("budget", self.budget.is_some()),
                ("blank", self.blank.is_some()),
            ];
            for (f, set) in fields {
                if set && !allowed.contains(&f) {
                    return Err(ManifestError::UnusedField {
                        contest: self.id.clone(),
                        field: f,
                        kind,
                    });
                }
            }
            Ok(())
        }

        fn required<T>(
            &self,
            v: Option<T>,
            field: &'static str,
            kind: &'static str,
        ) -> Result<T, ManifestError> {
            v.ok_or_else(|| ManifestError::MissingField {
                contest: self.id.clone(),
                field,
                kind,
            })
        }

        fn into_contest(self) -> Result<Contest, ManifestError> {
            let kind = match self.kind.as_str() {
                "plurality" => {
                    self.unused("plurality", &["exactly"])?;
                    ContestKind::Plurality {
                        exactly: self.exactly.unwrap_or(true),
                    }
                }
                "approval" => {
                    self.unused("approval", &["min", "max"])?;
                    ContestKind::Approval {
                        min: self.min.unwrap_or(0),
                        max: self.required(self.max, "max", "approval")?,
                    }
                }
                "score" => {
                    self.unused("score", &["max", "budget"])?;
                    ContestKind::Score {
                        max: self.required(self.max, "max", "score")?,
                        budget: self.budget,
                    }
                }
                "referendum" => {
                    self.unused("referendum", &["blank"])?;
                    if !self.options.is_empty() {
                        return Err(ManifestError::ReferendumOptions(self.id));
                    }
                    ContestKind::Referendum {
                        blank: self.blank.unwrap_or(false),
                    }
                }
                other => return Err(ManifestError::BadKind(other.to_string())),
            };
            let options = match kind {
                ContestKind::Referendum { blank } => referendum_options(blank),
                _ => self.options,
            };
            Ok(Contest {
                id: self.id,
                title: self.title,
                kind,
                options,
            })
        }
    }

    impl ManifestToml {
        pub fn into_manifest(self) -> Result<Manifest, ManifestError> {
            let revote = match self.revote.as_deref() {
                None | Some("latest-counts") => RevotePolicy::LatestCounts,
                Some("forbidden") => RevotePolicy::Forbidden,
                Some(other) => return Err(ManifestError::BadRevote(other.to_string())),
            };
            let trustees = self
                .trustees
                .into_iter()
                .map(|t| {
                    Ok(Trustee {
                        signing_key: vk(
                            &format!("trustee {:?} signing_key", t.name),
                            &t.signing_key,
                        )?,
                        ceremony_key: point(
                            &format!("trustee {:?} ceremony_key", t.name),
                            &t.ceremony_key,
                        )?,
                        name: t.name,
                    })
                })
                .collect::<Result<Vec<_>, ManifestError>>()?;
            let contests = self
                .contests
                .into_iter()
                .map(ContestToml::into_contest)
                .collect::<Result<Vec<_>, _>>()?;
            // Styles name contests by id, so ids must be unique before they are resolved.
            let mut seen = HashSet::new();
            if let Some(dup) = contests.iter().find(|c| !seen.insert(c.id.as_str())) {
                return Err(ManifestError::DuplicateContest(dup.id.clone()));
            }
            let mut ballot_styles = Vec::new();
            for s in self.ballot_styles {
                let mut idx = Vec::new();
                for cid in &s.contests {
                    let i = contests.iter().position(|c| &c.id == cid).ok_or_else(|| {
                        ManifestError::UnknownContest {
                            style: s.id.clone(),
                            contest: cid.clone(),
                        }
                    })?;
                    if idx.contains(&(i as u16)) {
                        return Err(ManifestError::RepeatedContest {
                            style: s.id.clone(),
                            contest: cid.clone(),
                        });
                    }
                    idx.push(i as u16);
                }
                // Canonical order: a ballot lists its contests in manifest order.
                idx.sort_unstable();
                ballot_styles.push(BallotStyle {
                    id: s.id,
                    contests: idx,
                });
            }
            Ok(Manifest {
                election_id: self.election_id,
                title: self.title,
                authority_key: vk("keys.authority", &self.keys.authority)?,
                registrar_key: vk("keys.registrar", &self.keys.registrar)?,
                board_key: vk("keys.board", &self.keys.board)?,
                trustees,
                threshold: self.threshold,
                revote,
                contests,
                ballot_styles,
                opens: self.opens,
                closes: self.closes,
                // Default: a majority of the named witnesses.
                witness_quorum: self.witness_quorum.unwrap_or(
                    (self.witnesses.len() / 2 + usize::from(!self.witnesses.is_empty())) as u16,
                ),
                witnesses: self
                    .witnesses
                    .into_iter()
                    .map(|w| {
                        Ok(Witness {
                            key: vk(&format!("witness {:?} key", w.name), &w.key)?,
                            name: w.name,
                            url: w.url,
                        })
                    })
                    .collect::<Result<Vec<_>, ManifestError>>()?,
            })
        }
    }
}
