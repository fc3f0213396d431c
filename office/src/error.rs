//! What went wrong, by cause, so that each caller says it its own way: the CLI as an exit
//! status and a sentence, a console as a code its page translates.

use thiserror::Error;
use urna_client::ClientError;

use crate::phase::Refusal;

#[derive(Debug, Error)]
pub enum OfficeError {
    /// Bad input: an argument or a file that is not what it should be (the CLI's exit 2).
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The board could not be asked, or its answer does not check out.
    #[error("{0}")]
    Board(#[source] ClientError),
    /// An entry was refused by the board or could not be posted.
    #[error("posting {kind}")]
    Post {
        kind: String,
        #[source]
        source: ClientError,
    },
    /// The election's phase does not allow the act.
    #[error("{0}")]
    Phase(#[from] Refusal),
    /// A sealed key file opened with the wrong passphrase (or altered).
    #[error("wrong passphrase for {0} (or the file was altered)")]
    WrongPassphrase(String),
    /// The act ran and the answer is no: it could not be done (the CLI's exit 1).
    #[error("{0}")]
    No(String),
}

impl OfficeError {
    /// Whether the fault is the input's or the machine's (a usage error or I/O), not the
    /// election's answer.
    pub fn is_usage_or_io(&self) -> bool {
        matches!(self, OfficeError::Usage(_) | OfficeError::Io { .. })
    }

    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> OfficeError {
        let what = what.into();
        move |source| OfficeError::Io { what, source }
    }
}

impl From<ClientError> for OfficeError {
    fn from(e: ClientError) -> Self {
        OfficeError::Board(e)
    }
}

pub type Result<T, E = OfficeError> = std::result::Result<T, E>;
