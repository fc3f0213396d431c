//! The rules of a valid manifest (`specs/election.md` §2.1–2.2), each failure its own
//! [`ManifestError`]. The state machine reports any of them as `invalid-manifest`; the TOML
//! reader reports them to the author before anything is signed.

use std::collections::HashSet;

use thiserror::Error;

use urna_crypto::sign::VerifyingKey;

use crate::keys::is_prime_order;

use super::ranked::{validate_mixers, validate_ranked};
use super::{
    canonical_case, check_tag, referendum_options, Contest, ContestKind, Manifest, TagProblem,
    Translations, MAX_OPTIONS, MAX_SCORE, MAX_TAG_LEN, MAX_TRANSLATIONS, MAX_TRUSTEES,
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
    #[error("{field} is empty")]
    EmptyText { field: String },
    /// A text longer than its length prefix in the canonical form allows (255 bytes for a
    /// `str8`, 65,535 for a `str16`). Never truncated: a cut could fall inside a UTF-8 character
    /// and would in any case be another manifest than the one written.
    #[error("{field} is {len} bytes; at most {max} fit")]
    TooLong {
        field: String,
        len: usize,
        max: usize,
    },
    #[error("{count} {what}; at most {max} fit")]
    TooMany {
        what: &'static str,
        count: usize,
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
    /// An Ed25519 key with a torsion component: the election registers only keys of prime
    /// order (`specs/election.md` §3).
    #[error("{field} is not of prime order (it has a small-order component)")]
    KeyNotPrimeOrder { field: String },
    /// Not a BCP 47 tag (RFC 5646 syntax, at most 35 bytes).
    #[error("{field}: {tag:?} is not a BCP 47 language tag (like en, zh-CN, zh-Hans) of at most {MAX_TAG_LEN} bytes")]
    BadLanguageTag { field: String, tag: String },
    /// A tag not in RFC 5646's recommended case: one language has one spelling.
    #[error("{field}: write the language tag {tag:?} as {canonical:?}")]
    LanguageTagCase {
        field: String,
        tag: String,
        canonical: String,
    },
    #[error(
        "{field}: the translations are not sorted by language tag, or one is given twice ({tag:?})"
    )]
    UnsortedLanguages { field: String, tag: String },
    #[error("{field} has {count} translations; at most {max} are allowed")]
    TooManyTranslations {
        field: String,
        count: usize,
        max: usize,
    },
    #[error("ballot style {0:?} has translations of a title it does not have")]
    TranslationsWithoutTitle(String),
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
    #[error("ranked contest {contest:?}: {reason}")]
    BadRanked {
        contest: String,
        reason: &'static str,
    },
    #[error("unknown count method {0:?} (expected \"irv\", \"stv\" or \"schulze\")")]
    BadMethod(String),
    #[error("mixers: {0}")]
    Mixers(&'static str),
}

/// Largest text in a `str8` field.
const STR8: usize = u8::MAX as usize;
/// Largest text in a `str16` field.
const STR16: usize = u16::MAX as usize;

/// A required text: not empty, and not longer than its length prefix allows. `field` names it
/// for the error (built only on failure).
fn text(s: &str, max: usize, field: impl FnOnce() -> String) -> Result<(), ManifestError> {
    if s.is_empty() {
        return Err(ManifestError::EmptyText { field: field() });
    }
    fits(s, max, field)
}

/// A text that may be empty but must fit its length prefix.
fn fits(s: &str, max: usize, field: impl FnOnce() -> String) -> Result<(), ManifestError> {
    if s.len() > max {
        return Err(ManifestError::TooLong {
            field: field(),
            len: s.len(),
            max,
        });
    }
    Ok(())
}

/// A text's translations (§2.4): at most [`MAX_TRANSLATIONS`], each tag a BCP 47 tag in its
/// recommended case, sorted by tag bytes with none twice, each text as its default must be.
fn translations(
    t: &Translations,
    max: usize,
    field: impl Fn() -> String,
) -> Result<(), ManifestError> {
    if t.0.len() > MAX_TRANSLATIONS {
        return Err(ManifestError::TooManyTranslations {
            field: field(),
            count: t.0.len(),
            max: MAX_TRANSLATIONS,
        });
    }
    for (i, tr) in t.0.iter().enumerate() {
        match check_tag(&tr.lang) {
            Ok(()) => {}
            Err(TagProblem::Malformed) => {
                return Err(ManifestError::BadLanguageTag {
                    field: field(),
                    tag: tr.lang.chars().take(40).collect(),
                })
            }
            Err(TagProblem::Case) => {
                return Err(ManifestError::LanguageTagCase {
                    field: field(),
                    tag: tr.lang.clone(),
                    canonical: canonical_case(&tr.lang),
                })
            }
        }
        if i > 0 && t.0[i - 1].lang.as_bytes() >= tr.lang.as_bytes() {
            return Err(ManifestError::UnsortedLanguages {
                field: field(),
                tag: tr.lang.clone(),
            });
        }
        text(&tr.text, max, || format!("{} in {}", field(), tr.lang))?;
    }
    Ok(())
}

fn count(what: &'static str, n: usize, max: usize) -> Result<(), ManifestError> {
    if n > max {
        return Err(ManifestError::TooMany {
            what,
            count: n,
            max,
        });
    }
    Ok(())
}

fn prime_order(key: &VerifyingKey, field: impl FnOnce() -> String) -> Result<(), ManifestError> {
    if is_prime_order(key) {
        Ok(())
    } else {
        Err(ManifestError::KeyNotPrimeOrder { field: field() })
    }
}

fn check_election_id(id: &str) -> Result<(), ManifestError> {
    fits(id, STR8, || "election_id".into())?;
    let ok = !id.is_empty()
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
    /// Checks every rule of `specs/election.md` §2.1–2.2. A manifest that passes has exactly
    /// one canonical encoding (every text and list fits its length prefix).
    pub fn validate(&self) -> Result<(), ManifestError> {
        check_election_id(&self.election_id)?;
        text(&self.title, STR16, || "title".into())?;
        translations(&self.titles, STR16, || "title".into())?;
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
        let role_keys = [
            ("authority_key", &self.authority_key),
            ("registrar_key", &self.registrar_key),
            ("board_key", &self.board_key),
        ];
        let trustee_keys = self
            .trustees
            .iter()
            .enumerate()
            .map(|(i, t)| (i + 1, &t.signing_key));
        for (name, k) in role_keys {
            prime_order(k, || name.into())?;
        }
        for (i, k) in trustee_keys.clone() {
            prime_order(k, || format!("trustee {i} signing_key"))?;
        }
        for k in role_keys
            .into_iter()
            .map(|(_, k)| k)
            .chain(trustee_keys.map(|(_, k)| k))
        {
            if !keys.insert(*k.as_bytes()) {
                return Err(ManifestError::DuplicateKey(urna_crypto::hex::encode(
                    k.as_bytes(),
                )));
            }
        }
        let mut ceremony = HashSet::new();
        for (i, t) in self.trustees.iter().enumerate() {
            text(&t.name, STR8, || format!("trustee {} name", i + 1))?;
            if !ceremony.insert(*t.ceremony_key.as_bytes()) {
                return Err(ManifestError::DuplicateKey(urna_crypto::hex::encode(
                    t.ceremony_key.as_bytes(),
                )));
            }
        }
        if self.contests.is_empty() {
            return Err(ManifestError::NoContests);
        }
        count("contests", self.contests.len(), STR16)?;
        let mut ids = HashSet::new();
        for (i, c) in self.contests.iter().enumerate() {
            text(&c.id, STR8, || format!("contest {} id", i + 1))?;
            text(&c.title, STR16, || format!("contest {:?} title", c.id))?;
            translations(&c.titles, STR16, || format!("contest {:?} title", c.id))?;
            if !ids.insert(c.id.as_str()) {
                return Err(ManifestError::DuplicateContest(c.id.clone()));
            }
            validate_contest(c)?;
        }
        if self.ballot_styles.is_empty() {
            return Err(ManifestError::NoStyles);
        }
        count("ballot styles", self.ballot_styles.len(), STR16)?;
        let mut style_ids = HashSet::new();
        for (i, s) in self.ballot_styles.iter().enumerate() {
            text(&s.id, STR8, || format!("ballot style {} id", i + 1))?;
            if !style_ids.insert(s.id.as_str()) {
                return Err(ManifestError::DuplicateStyle(s.id.clone()));
            }
            let field = || format!("ballot style {:?} title", s.id);
            match &s.title {
                Some(t) => text(t, STR16, field)?,
                None if !s.titles.is_empty() => {
                    return Err(ManifestError::TranslationsWithoutTitle(s.id.clone()))
                }
                None => {}
            }
            translations(&s.titles, STR16, field)?;
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
        for (name, d) in [("opens", &self.opens), ("closes", &self.closes)] {
            if let Some(d) = d {
                text(d, STR8, || name.into())?;
            }
        }
        let n = self.witnesses.len();
        count("witnesses", n, MAX_WITNESSES)?;
        let quorum_ok = if n == 0 {
            self.witness_quorum == 0
        } else {
            self.witness_quorum >= 1 && usize::from(self.witness_quorum) <= n
        };
        if !quorum_ok {
            return Err(ManifestError::BadWitnessQuorum {
                quorum: self.witness_quorum,
                n,
            });
        }
        let mut names = HashSet::new();
        let mut wkeys = HashSet::new();
        for (i, w) in self.witnesses.iter().enumerate() {
            text(&w.name, STR8, || format!("witness {} name", i + 1))?;
            text(&w.url, STR8, || format!("witness {:?} url", w.name))?;
            prime_order(&w.key, || format!("witness {:?} key", w.name))?;
            if !names.insert(w.name.as_str()) || !wkeys.insert(*w.key.as_bytes()) {
                return Err(ManifestError::DuplicateKey(format!("witness {}", w.name)));
            }
        }
        validate_mixers(self)
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
    for (i, o) in c.options.iter().enumerate() {
        text(&o.id, STR8, || {
            format!("contest {:?} option {} id", c.id, i + 1)
        })?;
        let field = || format!("contest {:?} option {:?} name", c.id, o.id);
        text(&o.name, STR16, field)?;
        translations(&o.names, STR16, field)?;
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
            // Fixed, and shown by clients in the voter's language: no translations here.
            if c.options
                .iter()
                .map(|o| o.id.as_str())
                .ne(expected.iter().map(|o| o.id.as_str()))
                || c.options.iter().any(|o| !o.names.is_empty())
            {
                return Err(ManifestError::ReferendumOptions(c.id.clone()));
            }
        }
        ContestKind::Ranked(r) => validate_ranked(c, &r)?,
        ContestKind::Plurality { .. } => {}
    }
    Ok(())
}
