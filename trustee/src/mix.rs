//! After the polls close, the ranked contests (`specs/election.md` §6.7): what a mixer does
//! next — shuffle every ranked contest whose turn it is — and where each contest stands, in
//! words naming the mixers and trustees awaited. Decided from the ledger alone, like the key
//! ceremony: a mixer that stops half-way re-reads the board and mixes again from row 0 (the
//! rules drop an unfinished mix), and one whose mix is on the ledger has nothing left to do.
//!
//! Mixers are by default the trustees, with their signing keys; a mixer that is no trustee
//! runs the same step with its own key.

use rand_core::{CryptoRng, RngCore};
use urna_crypto::sign::SigningKey;
use urna_election::entry::Entry;
use urna_election::manifest::Manifest;
use urna_election::mixnet;
use urna_election::state::{Election, MixStatus, Phase};

use crate::TrusteeError;

/// What a mixer does now.
#[derive(Debug)]
pub enum MixStep {
    /// Post these entries, in order: this mixer's shuffle of `contest` (rows, then the proof).
    Post {
        contest: u16,
        entries: Vec<Entry>,
        what: String,
    },
    /// Nothing this mixer can do until others have mixed.
    Wait(String),
    /// Every ranked contest holds this mixer's mix (or has nothing to mix).
    Done,
}

/// A contest as people name it: its title and id.
pub fn contest_name(m: &Manifest, contest: u16) -> String {
    m.contests
        .get(usize::from(contest))
        .map_or(format!("#{contest}"), |c| {
            format!("\"{}\" ({})", c.title, c.id)
        })
}

/// Mixer `i` (1-based) by its name in the manifest.
pub fn mixer_name(m: &Manifest, i: usize) -> String {
    m.mixers
        .get(i.wrapping_sub(1))
        .map_or(format!("mixer {i}"), |x| format!("mixer {i} ({})", x.name))
}

/// The ranked contests to work on: all of them, or the one named by id.
pub fn ranked_statuses(e: &Election, only: Option<&str>) -> Result<Vec<MixStatus>, TrusteeError> {
    let m = e.manifest().ok_or(TrusteeError::NoElection)?;
    let all = e.mix_status();
    match only {
        None => Ok(all),
        Some(id) => {
            let ci = m
                .contests
                .iter()
                .position(|c| c.id == id)
                .ok_or_else(|| TrusteeError::UnknownContest(id.to_string()))?;
            let s: Vec<MixStatus> = all
                .into_iter()
                .filter(|s| usize::from(s.contest) == ci)
                .collect();
            if s.is_empty() {
                return Err(TrusteeError::NotRanked(id.to_string()));
            }
            Ok(s)
        }
    }
}

/// The next step of the mixer holding `key`, over the ranked contests (or the one named
/// `only`). The shuffle is made here (`vartime`: run a mixer where no untrusted code shares
/// its CPU, see [`mixnet::mix_vartime`]).
pub fn mix_step<R: RngCore + CryptoRng>(
    e: &Election,
    key: &SigningKey,
    only: Option<&str>,
    rng: &mut R,
) -> Result<MixStep, TrusteeError> {
    let m = e.manifest().ok_or(TrusteeError::NoElection)?;
    if !m.has_ranked() {
        return Err(TrusteeError::NoRankedContest);
    }
    let me = usize::from(
        m.mixer_index(&key.verifying_key())
            .ok_or(TrusteeError::NotAMixer)?,
    );
    match e.phase() {
        Phase::Tallying => {}
        Phase::Finished => return Ok(MixStep::Done),
        p => return Err(TrusteeError::WrongPhase(p)),
    }
    let mut waiting = Vec::new();
    for s in ranked_statuses(e, only)? {
        if s.rows == 0 || s.mixes >= me {
            continue;
        }
        if s.mixes + 1 == me {
            let entries = mixnet::mix_vartime(e, s.contest, key, rng)
                .map_err(|err| TrusteeError::Mix(err.to_string()))?;
            return Ok(MixStep::Post {
                contest: s.contest,
                what: format!(
                    "mix {me} of {} of {} ({} ballots, {} entries)",
                    s.mixers,
                    contest_name(m, s.contest),
                    s.rows,
                    entries.len()
                ),
                entries,
            });
        }
        waiting.push(format!(
            "{}: waiting for {}",
            contest_name(m, s.contest),
            (s.mixes + 1..me)
                .map(|i| mixer_name(m, i))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if waiting.is_empty() {
        Ok(MixStep::Done)
    } else {
        Ok(MixStep::Wait(waiting.join("; ")))
    }
}

/// Where one ranked contest stands, in one line: mixes, decryption, count.
pub fn describe(m: &Manifest, s: &MixStatus) -> String {
    let name = contest_name(m, s.contest);
    if s.rows == 0 {
        return format!("{name}: no counted ballot has it; nothing to mix, its count is empty");
    }
    let t = usize::from(m.threshold);
    let mut line = format!(
        "{name}: {} ballots ({} ciphertext(s) each); mixed {} of {}",
        s.rows, s.width, s.mixes, s.mixers
    );
    if s.pending_rows > 0 {
        line.push_str(&format!(
            " ({} is posting: {} of {} rows)",
            mixer_name(m, s.mixes + 1),
            s.pending_rows,
            s.rows
        ));
    } else if s.mixes < s.mixers {
        line.push_str(&format!("; next: {}", mixer_name(m, s.mixes + 1)));
    }
    let total = s.rows * s.width;
    if !s.decrypted_by.is_empty() {
        line.push_str(&format!(
            "; decrypted by trustees {}",
            s.decrypted_by
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    } else if s.mixes >= s.mixers {
        let done = s.shares.iter().filter(|(_, k)| *k >= total).count();
        line.push_str(&format!("; decryption: {done} of {t} trustees done"));
        for (j, k) in s.shares.iter().filter(|(_, k)| *k < total) {
            line.push_str(&format!(" (trustee {j}: {k} of {total})"));
        }
    }
    match s.count_len {
        Some(len) if s.count_posted >= len => line.push_str("; count posted"),
        Some(len) => line.push_str(&format!("; count posted {} of {len} bytes", s.count_posted)),
        None => {}
    }
    line
}
