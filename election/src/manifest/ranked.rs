//! The ranked contest kind and the mixers (`specs/election.md` §2.2, §2.4): their rules, their
//! canonical form, and the shape of a ranked ballot row they imply. Kept apart from the other
//! kinds because a ranked contest is counted by a different path (mix, decrypt, count) and
//! its parameters are about that path.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use urna_crypto::codec::{Decode, Encode, Reader, Writer};
use urna_crypto::errors::DecodeError;
use urna_crypto::sign::VerifyingKey;

use super::{Contest, Manifest, ManifestError};
use crate::keys::is_prime_order;

/// Bytes of plaintext one ciphertext of a ranked row carries (crypto §15).
pub const EMBED_BYTES: usize = urna_crypto::embed::EMBED_BYTES;

/// Widest ranked row, in ciphertexts: a ballot's row and a mix chunk's rows must fit an entry.
pub const MAX_RANKED_WIDTH: usize = 64;

/// Most mixers a manifest may name.
pub const MAX_MIXERS: usize = 16;

/// How a ranked contest is counted (`specs/election.md` §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CountMethod {
    /// Instant-runoff: one seat, the lowest candidate excluded each round until one holds a
    /// majority of the continuing ballots.
    Irv,
    /// Single transferable vote: Droop quota, weighted inclusive Gregory transfers in fixed
    /// point.
    Stv,
    /// Schulze's Condorcet method (winning votes): the pairwise matrix, the strongest paths and
    /// a ranking.
    Schulze,
}

impl CountMethod {
    pub(crate) fn tag(self) -> u8 {
        match self {
            CountMethod::Irv => 1,
            CountMethod::Stv => 2,
            CountMethod::Schulze => 3,
        }
    }

    pub(crate) fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            1 => Some(CountMethod::Irv),
            2 => Some(CountMethod::Stv),
            3 => Some(CountMethod::Schulze),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CountMethod::Irv => "irv",
            CountMethod::Stv => "stv",
            CountMethod::Schulze => "schulze",
        }
    }
}

/// The parameters of a ranked contest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankedRules {
    pub method: CountMethod,
    /// Candidates elected: 1 for IRV; `1 ≤ seats < options` otherwise.
    pub seats: u16,
    /// Preferences a voter may express, `1 ≤ ranks ≤ options + write_ins`.
    pub ranks: u8,
    /// Write-in slots, `options + write_ins ≤ 255`; none for Schulze.
    pub write_ins: u8,
    /// Bytes of UTF-8 each write-in may hold: 1–255 when there are write-ins, else 0.
    pub write_in_len: u8,
}

impl RankedRules {
    /// Bytes of a row's plaintext: one per rank, then each write-in slot (§5.5).
    pub fn plaintext_len(&self) -> usize {
        usize::from(self.ranks) + usize::from(self.write_ins) * usize::from(self.write_in_len)
    }

    /// Ciphertexts in a ranked row: the plaintext in chunks of [`EMBED_BYTES`].
    pub fn width(&self) -> usize {
        self.plaintext_len().div_ceil(EMBED_BYTES)
    }
}

/// A mixer: whoever re-encrypts and permutes the ranked ballots, with a proof, in its turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mixer {
    pub name: String,
    /// Signs its mix entries and identifies it in its shuffle proofs.
    pub key: VerifyingKey,
}

impl Manifest {
    /// Whether some contest is ranked: the canonical form then names the mixers.
    pub fn has_ranked(&self) -> bool {
        self.contests.iter().any(|c| c.ranked().is_some())
    }
}

fn bad(contest: &Contest, reason: &'static str) -> ManifestError {
    ManifestError::BadRanked {
        contest: contest.id.clone(),
        reason,
    }
}

/// The rules of §2.2 for a ranked contest (its options are checked like any contest's).
pub(super) fn validate_ranked(c: &Contest, r: &RankedRules) -> Result<(), ManifestError> {
    let n = c.options.len();
    let candidates = n + usize::from(r.write_ins);
    if candidates > usize::from(u8::MAX) {
        return Err(bad(c, "options and write-ins together must be at most 255"));
    }
    match r.method {
        CountMethod::Irv if r.seats != 1 => return Err(bad(c, "IRV elects exactly one")),
        _ if r.seats == 0 || usize::from(r.seats) >= n => {
            return Err(bad(
                c,
                "seats must be at least 1 and fewer than the options",
            ))
        }
        CountMethod::Schulze if r.write_ins > 0 => {
            return Err(bad(c, "a Schulze contest takes no write-ins"))
        }
        _ => {}
    }
    if r.ranks == 0 || usize::from(r.ranks) > candidates {
        return Err(bad(
            c,
            "ranks must be 1 to the number of options and write-ins",
        ));
    }
    if (r.write_ins == 0) != (r.write_in_len == 0) {
        return Err(bad(c, "write_in_len is 1–255 with write-ins and 0 without"));
    }
    if r.width() > MAX_RANKED_WIDTH {
        return Err(bad(
            c,
            "ranks + write_ins × write_in_len must be at most 1,920 bytes",
        ));
    }
    Ok(())
}

/// The mixers' rules (§2.4): named exactly when a contest is ranked, 2 to 16 of them, each
/// name 1–255 bytes and unique, each key of prime order, unique, and none of the authority's,
/// registrar's or board's keys.
pub(super) fn validate_mixers(m: &Manifest) -> Result<(), ManifestError> {
    if !m.has_ranked() {
        return match m.mixers.is_empty() {
            true => Ok(()),
            false => Err(ManifestError::Mixers(
                "mixers are named but no contest is ranked",
            )),
        };
    }
    if m.mixers.len() < 2 || m.mixers.len() > MAX_MIXERS {
        return Err(ManifestError::Mixers(
            "a ranked contest needs 2 to 16 mixers (by default the trustees)",
        ));
    }
    let roles = [&m.authority_key, &m.registrar_key, &m.board_key];
    let mut names = HashSet::new();
    let mut keys = HashSet::new();
    for (i, x) in m.mixers.iter().enumerate() {
        if x.name.is_empty() || x.name.len() > usize::from(u8::MAX) {
            return Err(ManifestError::TooLong {
                field: format!("mixer {} name", i + 1),
                len: x.name.len(),
                max: u8::MAX.into(),
            });
        }
        if !is_prime_order(&x.key) {
            return Err(ManifestError::KeyNotPrimeOrder {
                field: format!("mixer {:?} key", x.name),
            });
        }
        if !names.insert(x.name.as_str()) || !keys.insert(*x.key.as_bytes()) {
            return Err(ManifestError::Mixers("two mixers share a name or a key"));
        }
        if roles.contains(&&x.key) {
            return Err(ManifestError::Mixers(
                "a mixer's key is the authority's, the registrar's or the board's",
            ));
        }
    }
    Ok(())
}

// ---- canonical form (§2.3) ----

/// `u8 method ‖ u16 seats ‖ u8 ranks ‖ u8 write_ins ‖ u8 write_in_len`, after the kind tag 5.
pub(super) fn write_rules(out: &mut Vec<u8>, r: &RankedRules) {
    out.put_u8(r.method.tag());
    out.put_u16(r.seats);
    out.put_u8(r.ranks);
    out.put_u8(r.write_ins);
    out.put_u8(r.write_in_len);
}

pub(super) fn read_rules(r: &mut Reader<'_>) -> Result<RankedRules, DecodeError> {
    let tag = r.u8()?;
    let method = CountMethod::from_tag(tag).ok_or(DecodeError::UnknownTag {
        what: "count method",
        tag: tag.into(),
    })?;
    Ok(RankedRules {
        method,
        seats: r.u16()?,
        ranks: r.u8()?,
        write_ins: r.u8()?,
        write_in_len: r.u8()?,
    })
}

/// `Mixer mixers<count u8>`, `Mixer = str8 name ‖ key[32]`: written after `witness_quorum`
/// when, and only when, some contest is ranked, so that a manifest without one keeps the form
/// it had before ranked contests existed.
pub(super) fn write_mixers(out: &mut Vec<u8>, m: &Manifest) -> Result<(), ManifestError> {
    if !m.has_ranked() {
        return match m.mixers.is_empty() {
            true => Ok(()),
            false => Err(ManifestError::Mixers(
                "mixers are named but no contest is ranked",
            )),
        };
    }
    let n = u8::try_from(m.mixers.len()).map_err(|_| ManifestError::TooMany {
        what: "mixers",
        count: m.mixers.len(),
        max: MAX_MIXERS,
    })?;
    out.put_u8(n);
    for (i, x) in m.mixers.iter().enumerate() {
        let len = u8::try_from(x.name.len()).map_err(|_| ManifestError::TooLong {
            field: format!("mixer {} name", i + 1),
            len: x.name.len(),
            max: u8::MAX.into(),
        })?;
        out.put_u8(len);
        out.extend_from_slice(x.name.as_bytes());
        x.key.encode(out);
    }
    Ok(())
}

pub(super) fn read_mixers(r: &mut Reader<'_>) -> Result<Vec<Mixer>, DecodeError> {
    let n = usize::from(r.u8()?);
    let mut mixers = Vec::with_capacity(n);
    for _ in 0..n {
        let name =
            String::from_utf8(r.bytes_u8()?.to_vec()).map_err(|_| DecodeError::InvalidUtf8)?;
        mixers.push(Mixer {
            name,
            key: VerifyingKey::decode(r)?,
        });
    }
    Ok(mixers)
}
