//! Where an election stands. Its own module because both the state machine, which moves
//! through the phases, and the rejections, which name the phase an entry arrived in, need it:
//! neither has to import the other.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where the election stands. Phases follow log order (`specs/election.md` §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The log is empty; only `Setup` is admissible.
    AwaitingSetup,
    /// Trustees exchange commitments, shares, complaints and confirmations; the registrar may
    /// post the roll.
    KeyCeremony,
    /// The joint key is fixed; the roll may still grow until `OpenVoting`.
    Registration,
    Voting,
    /// Polls closed; the encrypted tally is fixed; trustees post decryption shares.
    Tallying,
    /// The result is on the ledger; nothing more is admissible.
    Finished,
    /// Fewer than `t` trustees remain qualified; nothing more is admissible.
    CeremonyFailed,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::AwaitingSetup => "awaiting-setup",
            Phase::KeyCeremony => "key-ceremony",
            Phase::Registration => "registration",
            Phase::Voting => "voting",
            Phase::Tallying => "tallying",
            Phase::Finished => "finished",
            Phase::CeremonyFailed => "ceremony-failed",
        })
    }
}
