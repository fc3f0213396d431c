//! Why an entry is not admissible. One variant per rule, each with a stable code (used by the
//! board's HTTP errors and the rejection corpus) and a human message.

use serde::Serialize;
use thiserror::Error;

use crate::ballot::{BallotError, OpeningError};
use crate::entry::{EntryKind, EnvelopeError};
use crate::phase::Phase;

#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "rejection", rename_all = "kebab-case")]
pub enum Rejection {
    #[error("entry is {size} bytes; the maximum is 65,535")]
    Oversized { size: usize },
    #[error("malformed entry: {reason}")]
    Malformed { reason: String },
    #[error("entry is for election {got:?}, this is {expected:?}")]
    WrongElection { expected: String, got: String },
    #[error("{kind} is not admissible in phase {phase}")]
    WrongPhase { kind: EntryKind, phase: Phase },
    #[error("{kind} must be signed by {expected}")]
    UnauthorisedAuthor { kind: EntryKind, expected: String },
    #[error("the entry's signature does not verify")]
    BadSignature,
    #[error("this entry is already on the ledger")]
    Duplicate,
    #[error("invalid manifest: {reason}")]
    InvalidManifest { reason: String },
    #[error("key ceremony: {reason}")]
    KeyCeremony { reason: String },
    #[error("complaint rejected: trustee {dealer}'s share to trustee {complainer} is valid")]
    FalseComplaint { complainer: u16, dealer: u16 },
    #[error(
        "the key ceremony failed: {qualified} trustees remain qualified, {threshold} are needed"
    )]
    CeremonyFailed { qualified: usize, threshold: u16 },
    #[error("voter roll: {reason}")]
    InvalidRoll { reason: String },
    #[error("credential is not on the voter roll")]
    NotEligible,
    #[error("ballot is for style {got}, the credential's style is {expected}")]
    StyleMismatch { expected: u16, got: u16 },
    #[error("invalid ballot: {reason}")]
    InvalidBallot { reason: String },
    #[error("ballot copies a ciphertext already on the ledger")]
    CopiedBallot,
    #[error("this election does not allow revoting and the credential has voted")]
    RevoteForbidden,
    #[error("challenged ballot does not open to its claimed choices: {reason}")]
    InvalidOpening { reason: String },
    #[error("decryption share: {reason}")]
    InvalidDecryptionShare { reason: String },
    #[error("result: {reason}")]
    InconsistentResult { reason: String },
}

impl Rejection {
    /// A stable, machine-readable name for the rule that failed.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Oversized { .. } => "oversized",
            Rejection::Malformed { .. } => "malformed",
            Rejection::WrongElection { .. } => "wrong-election",
            Rejection::WrongPhase { .. } => "wrong-phase",
            Rejection::UnauthorisedAuthor { .. } => "unauthorised-author",
            Rejection::BadSignature => "bad-signature",
            Rejection::Duplicate => "duplicate",
            Rejection::InvalidManifest { .. } => "invalid-manifest",
            Rejection::KeyCeremony { .. } => "key-ceremony",
            Rejection::FalseComplaint { .. } => "false-complaint",
            Rejection::CeremonyFailed { .. } => "ceremony-failed",
            Rejection::InvalidRoll { .. } => "invalid-roll",
            Rejection::NotEligible => "not-eligible",
            Rejection::StyleMismatch { .. } => "style-mismatch",
            Rejection::InvalidBallot { .. } => "invalid-ballot",
            Rejection::CopiedBallot => "copied-ballot",
            Rejection::RevoteForbidden => "revote-forbidden",
            Rejection::InvalidOpening { .. } => "invalid-opening",
            Rejection::InvalidDecryptionShare { .. } => "invalid-decryption-share",
            Rejection::InconsistentResult { .. } => "inconsistent-result",
        }
    }

    /// Every code, for documentation and the corpus test.
    pub const CODES: [&'static str; 20] = [
        "oversized",
        "malformed",
        "wrong-election",
        "wrong-phase",
        "unauthorised-author",
        "bad-signature",
        "duplicate",
        "invalid-manifest",
        "key-ceremony",
        "false-complaint",
        "ceremony-failed",
        "invalid-roll",
        "not-eligible",
        "style-mismatch",
        "invalid-ballot",
        "copied-ballot",
        "revote-forbidden",
        "invalid-opening",
        "invalid-decryption-share",
        "inconsistent-result",
    ];

    pub(crate) fn dkg(reason: impl Into<String>) -> Self {
        Rejection::KeyCeremony {
            reason: reason.into(),
        }
    }

    pub(crate) fn roll(reason: impl Into<String>) -> Self {
        Rejection::InvalidRoll {
            reason: reason.into(),
        }
    }
}

impl From<EnvelopeError> for Rejection {
    fn from(e: EnvelopeError) -> Self {
        match e {
            EnvelopeError::Oversized(size) => Rejection::Oversized { size },
            other => Rejection::Malformed {
                reason: other.to_string(),
            },
        }
    }
}

impl From<BallotError> for Rejection {
    fn from(e: BallotError) -> Self {
        Rejection::InvalidBallot {
            reason: e.to_string(),
        }
    }
}

impl From<OpeningError> for Rejection {
    fn from(e: OpeningError) -> Self {
        Rejection::InvalidOpening {
            reason: e.to_string(),
        }
    }
}
