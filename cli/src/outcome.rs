//! What a failed command means, as its exit code (ripgrep style), and how it is said.
//!
//! - 0: done (for `verify` and `receipt check`: verified);
//! - 1: no — the command ran and the answer is no or it could not be done: the election's
//!   state does not allow it (already done, the wrong phase), the board refused an entry, a
//!   check or a verification failed, a wrong passphrase;
//! - 2: error — bad usage (arguments, or an input file that is not what it should be) or I/O
//!   (a file cannot be read or written, the board cannot be reached).

use std::fmt;

use urna_client::ClientError;

pub const NO: u8 = 1;
pub const ERROR: u8 = 2;

/// A usage error: a bad argument or input file (exit 2).
#[derive(Debug)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// A check that ran and failed (exit 1): a verification, a receipt check, or a party's answers
/// that do not check out.
#[derive(Debug)]
pub struct CheckFailed(pub String);

impl fmt::Display for CheckFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckFailed {}

/// `bail!` for usage errors.
macro_rules! usage {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::outcome::Usage(format!($($arg)*))))
    };
}
pub(crate) use usage;

/// The exit code an error calls for.
pub fn code(e: &anyhow::Error) -> u8 {
    let io = e.chain().any(|c| {
        c.is::<Usage>()
            || c.is::<std::io::Error>()
            || c.downcast_ref::<urna_verifier::BoardError>()
                .is_some_and(urna_verifier::BoardError::could_not_run)
            || c.downcast_ref::<urna_office::OfficeError>()
                .is_some_and(urna_office::OfficeError::is_usage_or_io)
            || c.downcast_ref::<ClientError>().is_some_and(|c| {
                matches!(c, ClientError::Unreachable { .. })
                    || matches!(c, ClientError::Status { status, .. } if *status >= 500 || *status == 404)
            })
    });
    if io {
        ERROR
    } else {
        NO
    }
}

/// The error as the person reads it: the message, then each cause that says something the
/// text before it does not (errors that wrap their cause already print it).
pub fn describe(e: &anyhow::Error) -> String {
    let mut said = e.to_string();
    let mut out = format!("error: {said}");
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if c.is_empty() || said.contains(&c) {
            continue;
        }
        out.push_str(&format!("\n  because: {c}"));
        said.push('\n');
        said.push_str(&c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn a_cause_already_in_the_message_is_said_once() {
        #[derive(Debug)]
        struct Inner;
        impl fmt::Display for Inner {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("contest \"council\": 3 chosen, more than the maximum 2")
            }
        }
        impl std::error::Error for Inner {}
        #[derive(Debug)]
        struct Outer(Inner);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "invalid choices: {}", self.0)
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = anyhow::Error::new(Outer(Inner));
        assert_eq!(
            describe(&e),
            "error: invalid choices: contest \"council\": 3 chosen, more than the maximum 2"
        );
        assert_eq!(code(&e), NO);
        let e = Err::<(), _>(std::io::Error::other("disk on fire"))
            .context("writing x")
            .unwrap_err();
        assert_eq!(describe(&e), "error: writing x\n  because: disk on fire");
        assert_eq!(code(&e), ERROR);
        let e = anyhow::Error::new(Usage("add http://".into())).context("--board");
        assert_eq!(code(&e), ERROR);
    }

    /// specs/verifier.md §4: a board that stops serving its log leaves the verification
    /// unrun (2); one that serves two first entries is found at fault (1).
    #[test]
    fn a_board_that_stops_is_an_error_and_one_that_equivocates_a_no() {
        use urna_verifier::BoardError;
        let stopped = anyhow::Error::new(BoardError::Stopped("connection reset".into()));
        assert_eq!(code(&stopped), ERROR);
        assert_eq!(code(&anyhow::Error::new(BoardError::TwoFirstEntries)), NO);
    }
}
