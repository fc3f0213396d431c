//! Telling people what to do: the board's address as they type it, and for each command that
//! depends on the election's phase, what the phase means for it and what comes next.

use urna_election::state::{Election, Phase};

use crate::outcome::Usage;

/// `--board`: the board's base URL. Catches the two slips people make: no scheme, and the
/// booth's address (`<board>/booth/`) in place of the board's.
pub fn board_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(format!(
            "add http:// (or https://): the board's address is a URL, e.g. http://{s}"
        ));
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "the board is reached over http:// or https://, not {scheme}://"
        ));
    }
    if rest.is_empty() || rest.starts_with('/') {
        return Err("the URL has no host".into());
    }
    let base = s
        .split(['?', '#'])
        .next()
        .unwrap_or(s)
        .trim_end_matches('/');
    if let Some(i) = base.find("/booth") {
        let tail = &base[i + "/booth".len()..];
        if tail.is_empty() || tail.starts_with('/') {
            return Err(format!(
                "this is the booth's address; the board is {}",
                &base[..i]
            ));
        }
    }
    Ok(base.to_string())
}

/// A command whose admissibility depends on the phase.
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

/// `Ok` if the election's phase allows `act`; otherwise what the phase means and what to do.
/// A "no" answer (exit 1), except where the board holds no election yet for an act that
/// needs one (still a no: nothing was done).
pub fn allow(act: Act, e: &Election) -> anyhow::Result<()> {
    let phase = e.phase();
    let when = |f: fn(&urna_election::manifest::Manifest) -> &Option<String>| {
        e.manifest()
            .and_then(|m| f(m).clone())
            .map(|t| format!(" (the manifest says {t})"))
            .unwrap_or_default()
    };
    let msg = match (act, phase) {
        (Act::Setup, Phase::AwaitingSetup) => return Ok(()),
        (Act::Setup, _) => {
            let (id, title) = e
                .manifest()
                .map(|m| (m.election_id.clone(), m.title.clone()))
                .unwrap_or_default();
            format!(
                "already set up: this board holds the election {id} (\"{title}\"), now in phase {phase}; a board holds one election — for another, start a board with a new --data directory"
            )
        }
        (_, Phase::AwaitingSetup) => {
            "the board holds no election yet; the authority runs `urna authority setup` first"
                .into()
        }
        (_, Phase::CeremonyFailed) => {
            "the key ceremony failed (too few trustees remain qualified): this election cannot go on; `urna authority status` shows who was disqualified".into()
        }
        (Act::Roll, Phase::KeyCeremony | Phase::Registration) => return Ok(()),
        (Act::Roll, Phase::Voting) => {
            "the polls are open, so the roll is closed: voters can be added only before `urna authority open`".into()
        }
        (Act::Roll, _) => "the polls have closed; the roll can no longer change".into(),
        (Act::Open, Phase::Registration) if e.counts().voters == 0 => {
            "nobody is on the voter roll yet; run `urna registrar credentials` first".into()
        }
        (Act::Open, Phase::Registration) => return Ok(()),
        (Act::Open, Phase::KeyCeremony) => {
            "the key ceremony is not complete yet; `urna authority status` shows which trustees are missing; open the polls after it completes".into()
        }
        (Act::Open, Phase::Voting) => "the polls are already open".into(),
        (Act::Open, _) => "the polls have already closed; they cannot reopen".into(),
        (Act::Close, Phase::Voting) => return Ok(()),
        (Act::Close, Phase::Tallying | Phase::Finished) => "the polls are already closed".into(),
        (Act::Close, _) => {
            "the polls are not open yet; open them with `urna authority open` first".into()
        }
        (Act::Vote, Phase::Voting) => return Ok(()),
        (Act::Vote, Phase::KeyCeremony | Phase::Registration) => format!(
            "the polls are not open yet{}; try again once they are",
            when(|m| &m.opens)
        ),
        (Act::Vote, _) => format!(
            "the polls have closed{}; no ballot can be cast any more (`urna receipt check` still checks an earlier ballot's receipt)",
            when(|m| &m.closes)
        ),
        (Act::Mix, _) if e.manifest().is_some_and(|m| !m.has_ranked()) => {
            "this election has no ranked contest: there is nothing to mix".into()
        }
        (Act::Decrypt | Act::Mix | Act::Tally, Phase::Tallying) => return Ok(()),
        (Act::Mix, Phase::Finished) => {
            "the election is finished: every ranked contest is mixed and counted".into()
        }
        (Act::Tally, Phase::Finished) => return Ok(()),
        (Act::Decrypt, Phase::Finished) => {
            "the result is already on the ledger; nothing is left to decrypt (`urna tally --board URL` prints it)".into()
        }
        (Act::Decrypt | Act::Mix | Act::Tally, Phase::Voting) => {
            "the polls are still open; run this after `urna authority close`".into()
        }
        (Act::Decrypt | Act::Mix | Act::Tally, _) => {
            "the polls have not opened yet; mixing and decryption come after the vote and `urna authority close`".into()
        }
    };
    Err(anyhow::anyhow!(msg))
}

/// An input file that is not what it should be is a usage error.
pub fn bad_input(what: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(Usage(what.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_urls() {
        assert_eq!(
            board_url("http://127.0.0.1:8080/").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        assert!(board_url("127.0.0.1:18080")
            .unwrap_err()
            .starts_with("add http://"));
        assert_eq!(
            board_url("http://vote.example/booth/").unwrap_err(),
            "this is the booth's address; the board is http://vote.example"
        );
        assert!(board_url("http://vote.example/booth/#lang=zh").is_err());
        assert!(board_url("http://vote.example/boothy").is_ok());
        assert!(board_url("ftp://x").is_err());
    }
}
