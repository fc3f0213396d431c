//! Why an entry is not admissible: one variant per rule of `specs/election.md` §6, each with a
//! stable code (used by the board's HTTP errors, the rejection corpus and every client that
//! explains a refusal) and a human message.
//!
//! A variant may carry a `reason` string only where it is one rule failing on different inputs,
//! for the human message: `malformed` (which field did not decode), `invalid-manifest` (which
//! rule of §2, typed as [`ManifestError`](crate::manifest::ManifestError) where the manifest is
//! checked), `ballot-shape` and `invalid-ballot` (where in the ballot), and `mix-out-of-turn`
//! (whose turn it is). A reason never tells two rules apart: the code does.

use serde::Serialize;
use thiserror::Error;

use crate::ballot::{BallotError, OpeningError};
use crate::entry::{EntryKind, EnvelopeError};
use crate::phase::Phase;

#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "rejection", rename_all = "kebab-case")]
pub enum Rejection {
    // ---- every entry (§6 steps 1–5) ----
    #[error("entry is {size} bytes; the maximum is 65,535")]
    Oversized { size: usize },
    #[error("malformed entry: {reason}")]
    Malformed { reason: String },
    #[error("entry is for election {got:?}, this is {expected:?}")]
    WrongElection { expected: String, got: String },
    #[error("{kind} is not admissible in phase {phase}")]
    WrongPhase { kind: EntryKind, phase: Phase },
    #[error(
        "the key ceremony failed: {qualified} trustees remain qualified, {threshold} are needed"
    )]
    CeremonyFailed { qualified: usize, threshold: u16 },
    #[error("{kind} must be signed by {expected}")]
    UnauthorisedAuthor { kind: EntryKind, expected: String },
    #[error("the entry's signature does not verify")]
    BadSignature,
    #[error("this entry is already on the ledger")]
    Duplicate,

    // ---- Setup (§6.1) ----
    #[error("invalid manifest: {reason}")]
    InvalidManifest { reason: String },

    // ---- key ceremony (§6.2) ----
    #[error("{kind} names trustee {index}; the trustees are 1..{trustees}")]
    UnknownTrustee {
        kind: EntryKind,
        index: u16,
        trustees: usize,
    },
    #[error("trustee {trustee} has already posted its {kind}")]
    AlreadyPosted { kind: EntryKind, trustee: u16 },
    #[error("{got} commitments; exactly the threshold, {expected}, are needed")]
    CommitmentCount { expected: u16, got: usize },
    #[error("trustee {dealer}'s proof of knowledge of a coefficient does not verify")]
    InvalidCoefficientProof { dealer: u16 },
    #[error("trustee {dealer} deals shares before posting its commitments")]
    SharesBeforeCommitments { dealer: u16 },
    #[error("trustee {dealer}'s shares must go to every other trustee once, in increasing order")]
    ShareRecipients { dealer: u16 },
    #[error("trustee {trustee} cannot complain about its own shares")]
    SelfComplaint { trustee: u16 },
    #[error("trustee {complainer} has confirmed; it can no longer complain")]
    ComplaintAfterConfirm { complainer: u16 },
    #[error("trustee {dealer} is already disqualified")]
    DealerDisqualified { dealer: u16 },
    #[error("trustee {dealer} has posted no share to trustee {complainer}")]
    NoSharePosted { complainer: u16, dealer: u16 },
    #[error("trustee {complainer}'s complaint against trustee {dealer} proves nothing: its proof of decryption does not verify")]
    InvalidReveal { complainer: u16, dealer: u16 },
    #[error("complaint rejected: trustee {dealer}'s share to trustee {complainer} is valid")]
    FalseComplaint { complainer: u16, dealer: u16 },
    #[error("trustee {trustee} is disqualified; it cannot post a {kind}")]
    TrusteeDisqualified { kind: EntryKind, trustee: u16 },
    #[error("confirmation before every trustee has posted its shares ({dealt} of {trustees})")]
    ConfirmBeforeShares { dealt: usize, trustees: usize },

    // ---- voter roll (§6.3) and opening (§6.4) ----
    #[error("roll batch number {got} out of order; the next is {expected}")]
    RollBatchNumber { expected: u32, got: u32 },
    #[error("a roll batch lists no voter")]
    RollEmptyBatch,
    #[error("credential {credential} has weight 0; every weight is at least 1")]
    RollZeroWeight { credential: String },
    #[error("credential {credential} has ballot style {style}; the manifest has {styles}")]
    RollUnknownStyle {
        credential: String,
        style: u16,
        styles: usize,
    },
    #[error("credential {credential} is already on the roll")]
    RollRepeatedCredential { credential: String },
    #[error("credential {credential} is not of prime order (it has a small-order component)")]
    RollMixedOrderCredential { credential: String },
    #[error("credential {credential} has weight {weight}, but its ballot style has a ranked contest: a weight beside a mixed ballot would mark it, so those voters have weight 1")]
    RollRankedWeight { credential: String, weight: u32 },
    #[error("voting cannot open with an empty roll")]
    EmptyRoll,

    // ---- ballots (§6.5) ----
    #[error("credential is not on the voter roll")]
    NotEligible,
    #[error("ballot is for style {got}, the credential's style is {expected}")]
    StyleMismatch { expected: u16, got: u16 },
    #[error("ballot does not have its style's shape: {reason}")]
    BallotShape { reason: String },
    #[error("contest {contest:?}: a {which} proof of another kind than the contest requires")]
    WrongProofKind {
        contest: String,
        which: &'static str,
    },
    #[error("this election does not allow revoting and the credential has voted")]
    RevoteForbidden,
    #[error("ballot copies a ciphertext already on the ledger")]
    CopiedBallot,
    #[error("invalid ballot: {reason}")]
    InvalidBallot { reason: String },
    #[error("challenged ballot does not open to its claimed choices: contest #{contest}, option #{option}")]
    InvalidOpening { contest: usize, option: usize },

    // ---- tally (§6.6) ----
    #[error("{got} decryption shares for {expected} tally ciphertexts")]
    ShareCount { expected: usize, got: usize },
    #[error("trustee {trustee}'s decryption share for contest #{contest} option #{option} does not verify against its verification key")]
    InvalidDecryptionShare {
        trustee: u16,
        contest: u16,
        option: u16,
    },
    #[error("{have} decryption shares admitted; the result needs {need}")]
    TooFewShares { have: usize, need: u16 },
    #[error(
        "the result does not have the manifest's shape (one count per option of every contest)"
    )]
    ResultShape,
    #[error("contest {contest:?} option {option:?}: {count} is above the bound {bound}")]
    CountOutOfRange {
        contest: String,
        option: String,
        count: u64,
        bound: u64,
    },
    #[error("contest {contest:?} option {option:?}: {count} is not the decrypted total")]
    InconsistentResult {
        contest: String,
        option: String,
        count: u64,
    },
    #[error("no contest of this election is counted homomorphically: there is no tally to decrypt and no result to post")]
    NoTally,

    // ---- mixing and the ranked count (§6.7) ----
    #[error("contest #{contest} is not a ranked contest")]
    MixContest { contest: u16 },
    #[error("contest #{contest}: it is not this mixer's turn ({turn})")]
    MixOutOfTurn { contest: u16, turn: String },
    #[error("contest #{contest}: rows of {got} ciphertexts; its rows have {expected}")]
    MixShape {
        contest: u16,
        expected: usize,
        got: usize,
    },
    #[error("contest #{contest}: {count} rows from row {first} do not continue the mix ({have} of {total} rows posted)")]
    MixRows {
        contest: u16,
        first: u32,
        count: usize,
        have: usize,
        total: usize,
    },
    #[error(
        "contest #{contest}: the mix has {have} of its {total} rows; its proof comes after them"
    )]
    MixIncomplete {
        contest: u16,
        have: usize,
        total: usize,
    },
    #[error("contest #{contest}: the shuffle proof of mix {position} does not verify")]
    InvalidShuffle { contest: u16, position: u16 },
    #[error("contest #{contest}: {done} of {mixers} mixes are done; the list is decrypted after the last")]
    DecryptionBeforeMix {
        contest: u16,
        done: usize,
        mixers: usize,
    },
    #[error("contest #{contest}: the mixed list is already decrypted")]
    DecryptionComplete { contest: u16 },
    #[error("trustee {trustee}, contest #{contest}: {count} shares from ciphertext {first} do not continue its shares ({have} of {total} posted)")]
    MixShareOrder {
        trustee: u16,
        contest: u16,
        first: u32,
        count: usize,
        have: usize,
        total: usize,
    },
    #[error("trustee {trustee}'s decryption shares of contest #{contest} from ciphertext {first} do not verify against its verification key")]
    InvalidMixDecryption {
        trustee: u16,
        contest: u16,
        first: u32,
    },
    #[error("contest #{contest}: the mixed list is not decrypted yet")]
    CountBeforeDecryption { contest: u16 },
    #[error("contest #{contest}: {len} bytes at offset {offset} do not continue the count ({have} of {total} bytes posted)")]
    CountOutOfOrder {
        contest: u16,
        offset: u32,
        len: usize,
        have: usize,
        total: usize,
    },
    #[error(
        "contest #{contest}: the bytes at offset {offset} differ from the count the rules give"
    )]
    InconsistentCount { contest: u16, offset: u32 },
}

impl Rejection {
    /// A stable, machine-readable name for the rule that failed.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Oversized { .. } => "oversized",
            Rejection::Malformed { .. } => "malformed",
            Rejection::WrongElection { .. } => "wrong-election",
            Rejection::WrongPhase { .. } => "wrong-phase",
            Rejection::CeremonyFailed { .. } => "ceremony-failed",
            Rejection::UnauthorisedAuthor { .. } => "unauthorised-author",
            Rejection::BadSignature => "bad-signature",
            Rejection::Duplicate => "duplicate",
            Rejection::InvalidManifest { .. } => "invalid-manifest",
            Rejection::UnknownTrustee { .. } => "unknown-trustee",
            Rejection::AlreadyPosted { .. } => "already-posted",
            Rejection::CommitmentCount { .. } => "commitment-count",
            Rejection::InvalidCoefficientProof { .. } => "invalid-coefficient-proof",
            Rejection::SharesBeforeCommitments { .. } => "shares-before-commitments",
            Rejection::ShareRecipients { .. } => "share-recipients",
            Rejection::SelfComplaint { .. } => "self-complaint",
            Rejection::ComplaintAfterConfirm { .. } => "complaint-after-confirm",
            Rejection::DealerDisqualified { .. } => "dealer-disqualified",
            Rejection::NoSharePosted { .. } => "no-share-posted",
            Rejection::InvalidReveal { .. } => "invalid-reveal",
            Rejection::FalseComplaint { .. } => "false-complaint",
            Rejection::TrusteeDisqualified { .. } => "trustee-disqualified",
            Rejection::ConfirmBeforeShares { .. } => "confirm-before-shares",
            Rejection::RollBatchNumber { .. } => "roll-batch-number",
            Rejection::RollEmptyBatch => "roll-empty-batch",
            Rejection::RollZeroWeight { .. } => "roll-zero-weight",
            Rejection::RollUnknownStyle { .. } => "roll-unknown-style",
            Rejection::RollRepeatedCredential { .. } => "roll-repeated-credential",
            Rejection::RollMixedOrderCredential { .. } => "roll-mixed-order-credential",
            Rejection::RollRankedWeight { .. } => "roll-ranked-weight",
            Rejection::EmptyRoll => "empty-roll",
            Rejection::NotEligible => "not-eligible",
            Rejection::StyleMismatch { .. } => "style-mismatch",
            Rejection::BallotShape { .. } => "ballot-shape",
            Rejection::WrongProofKind { .. } => "wrong-proof-kind",
            Rejection::RevoteForbidden => "revote-forbidden",
            Rejection::CopiedBallot => "copied-ballot",
            Rejection::InvalidBallot { .. } => "invalid-ballot",
            Rejection::InvalidOpening { .. } => "invalid-opening",
            Rejection::ShareCount { .. } => "share-count",
            Rejection::InvalidDecryptionShare { .. } => "invalid-decryption-share",
            Rejection::TooFewShares { .. } => "too-few-shares",
            Rejection::ResultShape => "result-shape",
            Rejection::CountOutOfRange { .. } => "count-out-of-range",
            Rejection::InconsistentResult { .. } => "inconsistent-result",
            Rejection::NoTally => "no-tally",
            Rejection::MixContest { .. } => "mix-contest",
            Rejection::MixOutOfTurn { .. } => "mix-out-of-turn",
            Rejection::MixShape { .. } => "mix-shape",
            Rejection::MixRows { .. } => "mix-rows",
            Rejection::MixIncomplete { .. } => "mix-incomplete",
            Rejection::InvalidShuffle { .. } => "invalid-shuffle",
            Rejection::DecryptionBeforeMix { .. } => "decryption-before-mix",
            Rejection::DecryptionComplete { .. } => "decryption-complete",
            Rejection::MixShareOrder { .. } => "mix-share-order",
            Rejection::InvalidMixDecryption { .. } => "invalid-mix-decryption",
            Rejection::CountBeforeDecryption { .. } => "count-before-decryption",
            Rejection::CountOutOfOrder { .. } => "count-out-of-order",
            Rejection::InconsistentCount { .. } => "inconsistent-count",
        }
    }

    /// Every code, in the order of `specs/election.md` §6, for documentation and the corpus
    /// test.
    pub const CODES: [&'static str; 59] = [
        "oversized",
        "malformed",
        "wrong-election",
        "wrong-phase",
        "ceremony-failed",
        "unauthorised-author",
        "bad-signature",
        "duplicate",
        "invalid-manifest",
        "unknown-trustee",
        "already-posted",
        "commitment-count",
        "invalid-coefficient-proof",
        "shares-before-commitments",
        "share-recipients",
        "self-complaint",
        "complaint-after-confirm",
        "dealer-disqualified",
        "no-share-posted",
        "invalid-reveal",
        "false-complaint",
        "trustee-disqualified",
        "confirm-before-shares",
        "roll-batch-number",
        "roll-empty-batch",
        "roll-zero-weight",
        "roll-unknown-style",
        "roll-repeated-credential",
        "roll-mixed-order-credential",
        "roll-ranked-weight",
        "empty-roll",
        "not-eligible",
        "style-mismatch",
        "ballot-shape",
        "wrong-proof-kind",
        "revote-forbidden",
        "copied-ballot",
        "invalid-ballot",
        "invalid-opening",
        "share-count",
        "invalid-decryption-share",
        "too-few-shares",
        "result-shape",
        "count-out-of-range",
        "inconsistent-result",
        "no-tally",
        "mix-contest",
        "mix-out-of-turn",
        "mix-shape",
        "mix-rows",
        "mix-incomplete",
        "invalid-shuffle",
        "decryption-before-mix",
        "decryption-complete",
        "mix-share-order",
        "invalid-mix-decryption",
        "count-before-decryption",
        "count-out-of-order",
        "inconsistent-count",
    ];
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
        match e {
            BallotError::ProofKind { contest, which } => {
                Rejection::WrongProofKind { contest, which }
            }
            BallotError::Proof { .. } => Rejection::InvalidBallot {
                reason: e.to_string(),
            },
            BallotError::UnknownStyle(_)
            | BallotError::ContestCount { .. }
            | BallotError::OptionCount { .. } => Rejection::BallotShape {
                reason: e.to_string(),
            },
        }
    }
}

impl From<OpeningError> for Rejection {
    fn from(e: OpeningError) -> Self {
        match e {
            OpeningError::Mismatch { contest, option } => {
                Rejection::InvalidOpening { contest, option }
            }
            // Decoding gives a challenged ballot one opening per ciphertext, so its shape always
            // matches; a caller that builds one by hand gets the ballot-shape code.
            OpeningError::Shape => Rejection::BallotShape {
                reason: e.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Rejection;

    #[test]
    fn codes_are_unique_and_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Rejection::CODES {
            assert!(seen.insert(c), "{c} twice");
            assert!(
                c.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{c}"
            );
        }
    }
}
