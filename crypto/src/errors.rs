//! Error types, split by cause: malformed input ([`DecodeError`]) is not the same failure as a
//! well-formed statement whose proof does not verify ([`VerifyError`]).

use thiserror::Error;

/// The bytes are not a canonical encoding of the expected value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("input truncated: needed {needed} bytes, {remaining} remain")]
    Truncated { needed: usize, remaining: usize },
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
    #[error("wrong length: expected {expected} bytes, got {got}")]
    WrongLength { expected: usize, got: usize },
    #[error("length {len} exceeds the maximum {max}")]
    LengthOutOfRange { len: usize, max: usize },
    #[error("scalar is not canonical (not reduced modulo the group order)")]
    NonCanonicalScalar,
    #[error("bytes are not the canonical encoding of a ristretto255 point")]
    InvalidPoint,
    #[error("the identity element is not allowed in field `{0}`")]
    IdentityPoint(&'static str),
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    #[error("unknown {what} tag {tag}")]
    UnknownTag { what: &'static str, tag: u64 },
    #[error("invalid value: {0}")]
    Invalid(&'static str),
}

impl DecodeError {
    /// A stable name for the failure, used by the rejection corpus in `specs/vectors/reject/`.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Truncated { .. } => "truncated",
            DecodeError::TrailingBytes(_) => "trailing-bytes",
            DecodeError::WrongLength { .. } => "wrong-length",
            DecodeError::LengthOutOfRange { .. } => "length-out-of-range",
            DecodeError::NonCanonicalScalar => "non-canonical-scalar",
            DecodeError::InvalidPoint => "invalid-point",
            DecodeError::IdentityPoint(_) => "identity-point",
            DecodeError::InvalidUtf8 => "invalid-utf8",
            DecodeError::UnknownTag { .. } => "unknown-tag",
            DecodeError::Invalid(_) => "invalid",
        }
    }
}

/// A well-formed statement whose proof (or signature) does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    #[error("{0} proof does not verify")]
    ProofInvalid(&'static str),
    #[error("{0}: proof and statement do not match in shape")]
    ShapeMismatch(&'static str),
    #[error("a proof commitment in {0} is the identity")]
    IdentityCommitment(&'static str),
    #[error("signature does not verify")]
    BadSignature,
    #[error("share does not match the dealer's commitments")]
    ShareMismatch,
    #[error("batch verification failed")]
    BatchFailed,
}

impl VerifyError {
    /// A stable name for the failure, used by the rejection corpus in `specs/vectors/reject/`.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::ProofInvalid(_) => "proof-invalid",
            VerifyError::ShapeMismatch(_) => "shape-mismatch",
            VerifyError::IdentityCommitment(_) => "identity-commitment",
            VerifyError::BadSignature => "bad-signature",
            VerifyError::ShareMismatch => "share-mismatch",
            VerifyError::BatchFailed => "batch-failed",
        }
    }
}

/// A request the caller made that the primitive cannot satisfy (a programming or input error
/// detected before any cryptography runs).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParamError {
    #[error("value {value} is outside the allowed range [0, {max}]")]
    OutOfRange { value: u64, max: u64 },
    #[error("threshold {t} is invalid for {n} participants")]
    BadThreshold { t: usize, n: usize },
    #[error("participant index {0} is invalid (indices start at 1)")]
    BadIndex(u64),
    #[error("duplicate participant index {0}")]
    DuplicateIndex(u64),
    #[error("need at least {needed} shares, got {got}")]
    NotEnoughShares { needed: usize, got: usize },
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("{0}: sizes do not match")]
    ShapeMismatch(&'static str),
    #[error("not a permutation of 0..n")]
    BadPermutation,
}

impl ParamError {
    /// A stable name for the failure, in the style of [`DecodeError::code`].
    pub fn code(&self) -> &'static str {
        match self {
            ParamError::OutOfRange { .. } => "out-of-range",
            ParamError::BadThreshold { .. } => "bad-threshold",
            ParamError::BadIndex(_) => "bad-index",
            ParamError::DuplicateIndex(_) => "duplicate-index",
            ParamError::NotEnoughShares { .. } => "not-enough-shares",
            ParamError::Unsupported(_) => "unsupported",
            ParamError::ShapeMismatch(_) => "shape-mismatch",
            ParamError::BadPermutation => "bad-permutation",
        }
    }
}
