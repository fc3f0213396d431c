//! For each act that depends on the election's phase: whether the phase allows it, and if not,
//! what the phase means for it and what comes next — as a stable code (consoles translate it)
//! and as the sentence the CLI prints.

use thiserror::Error;
use urna_election::state::{Election, Phase};

/// An act whose admissibility depends on the phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Setup,
    Roll,
    Open,
    Close,
    Vote,
    Decrypt,
    Mix,
    Tally,
}

/// Why the phase does not allow an act: a stable `code` and what to tell the person.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct Refusal {
    /// Stable: `already-set-up`, `no-election`, `ceremony-failed`, `roll-closed`,
    /// `roll-final`, `roll-empty`, `ceremony-incomplete`, `already-open`, `polls-closed`,
    /// `already-closed`, `not-open`, `not-open-yet`, `result-posted`, `still-open`,
    /// `nothing-to-mix`, `finished`.
    pub code: &'static str,
    pub phase: Phase,
    pub message: String,
}

/// `Ok` if the election's phase allows `act`; otherwise why not, and what to do.
pub fn allow(act: Act, e: &Election) -> Result<(), Refusal> {
    allow_at(
        act,
        e.phase(),
        e.manifest().map(|m| &**m),
        e.counts().voters,
    )
}

/// [`allow`] from the phase, the manifest and the number of voters on the roll alone: what a
/// voter's light view knows (it does not count the roll).
pub fn allow_at(
    act: Act,
    phase: Phase,
    manifest: Option<&urna_election::manifest::Manifest>,
    voters: u64,
) -> Result<(), Refusal> {
    let when = |f: fn(&urna_election::manifest::Manifest) -> &Option<String>| {
        manifest
            .and_then(|m| f(m).clone())
            .map(|t| format!(" (the manifest says {t})"))
            .unwrap_or_default()
    };
    let (code, message) = match (act, phase) {
        (Act::Setup, Phase::AwaitingSetup) => return Ok(()),
        (Act::Setup, _) => {
            let (id, title) = manifest
                .map(|m| (m.election_id.clone(), m.title.clone()))
                .unwrap_or_default();
            ("already-set-up", format!(
                "already set up: this board holds the election {id} (\"{title}\"), now in phase {phase}; a board holds one election — for another, start a board with a new --data directory"
            ))
        }
        (_, Phase::AwaitingSetup) => ("no-election",
            "the board holds no election yet; the authority runs `urna authority setup` first"
                .into()),
        (_, Phase::CeremonyFailed) => ("ceremony-failed",
            "the key ceremony failed (too few trustees remain qualified): this election cannot go on; `urna authority status` shows who was disqualified".into()),
        (Act::Roll, Phase::KeyCeremony | Phase::Registration) => return Ok(()),
        (Act::Roll, Phase::Voting) => ("roll-closed",
            "the polls are open, so the roll is closed: voters can be added only before `urna authority open`".into()),
        (Act::Roll, _) => ("roll-final", "the polls have closed; the roll can no longer change".into()),
        (Act::Open, Phase::Registration) if voters == 0 => ("roll-empty",
            "nobody is on the voter roll yet; run `urna registrar credentials` first".into()),
        (Act::Open, Phase::Registration) => return Ok(()),
        (Act::Open, Phase::KeyCeremony) => ("ceremony-incomplete",
            "the key ceremony is not complete yet; `urna authority status` shows which trustees are missing; open the polls after it completes".into()),
        (Act::Open, Phase::Voting) => ("already-open", "the polls are already open".into()),
        (Act::Open, _) => ("polls-closed", "the polls have already closed; they cannot reopen".into()),
        (Act::Close, Phase::Voting) => return Ok(()),
        (Act::Close, Phase::Tallying | Phase::Finished) => ("already-closed", "the polls are already closed".into()),
        (Act::Close, _) => ("not-open",
            "the polls are not open yet; open them with `urna authority open` first".into()),
        (Act::Vote, Phase::Voting) => return Ok(()),
        (Act::Vote, Phase::KeyCeremony | Phase::Registration) => ("not-open-yet", format!(
            "the polls are not open yet{}; try again once they are",
            when(|m| &m.opens)
        )),
        (Act::Vote, _) => ("polls-closed", format!(
            "the polls have closed{}; no ballot can be cast any more (`urna receipt check` still checks an earlier ballot's receipt)",
            when(|m| &m.closes)
        )),
        (Act::Mix, _) if manifest.is_some_and(|m| !m.has_ranked()) => ("nothing-to-mix",
            "this election has no ranked contest: there is nothing to mix".into()),
        (Act::Decrypt | Act::Mix | Act::Tally, Phase::Tallying) => return Ok(()),
        (Act::Mix, Phase::Finished) => ("finished",
            "the election is finished: every ranked contest is mixed and counted".into()),
        (Act::Tally, Phase::Finished) => return Ok(()),
        (Act::Decrypt, Phase::Finished) => ("result-posted",
            "the result is already on the ledger; nothing is left to decrypt (`urna tally --board URL` prints it)".into()),
        (Act::Decrypt | Act::Mix | Act::Tally, Phase::Voting) => ("still-open",
            "the polls are still open; run this after `urna authority close`".into()),
        (Act::Decrypt | Act::Mix | Act::Tally, _) => ("not-open-yet",
            "the polls have not opened yet; mixing and decryption come after the vote and `urna authority close`".into()),
    };
    Err(Refusal {
        code,
        phase,
        message,
    })
}
