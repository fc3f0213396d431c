//! The rules of a valid manifest (`specs/election.md` §2.1–2.2), each failure its own
//! [`ManifestError`]. The state machine reports any of them as `invalid-manifest`; the TOML
//! reader reports them to the author before anything is signed.

use std::collections::HashSet;

use thiserror::Error;

use super::{
    referendum_options, Contest, ContestKind, Manifest, MAX_OPTIONS, MAX_SCORE, MAX_TRUSTEES,
    MAX_WITNESSES,
};

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
