//! A ranked ballot's plaintext (`specs/election.md` §5.5): the bytes a voter's ranking becomes,
//! how they are cut into the points of a ranked row, and the published rule that reads a
//! decrypted row back — a ranking, a blank ballot, or an invalid ballot with the reason.
//!
//! ```text
//! u8     preference[ranks];              // 0: none; i + 1: option i; options + s + 1: write-in s
//! opaque slot[write_ins][write_in_len];  // UTF-8 text, then zero bytes
//! ```
//!
//! zero-padded to `30·w` bytes and cut into `w` payloads of 30 bytes, each embedded as a point
//! (crypto §15). Ranked ballots are not proven well formed: whatever a voter encrypted is read
//! by [`read`] after the mix, and a row that breaks the rule is shown and left out of the count.

use std::collections::HashSet;

use serde::Serialize;
use thiserror::Error;
use urna_crypto::embed::{extract, EMBED_BYTES};

use crate::manifest::RankedRules;

/// One preference of a decrypted ranking.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Choice {
    /// The option at this index of the contest.
    Option(u8),
    /// A write-in, by its text.
    WriteIn(String),
}

/// Why a decrypted row is not a valid ranking: the first rule of §5.5 it breaks, in the order
/// the rule checks them. The tag is the byte the count records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Error)]
#[serde(rename_all = "kebab-case")]
pub enum Invalid {
    #[error("a point of the row is not the embedding of its bytes")]
    NotEmbedded = 1,
    #[error("bytes after the row's plaintext are not zero")]
    Padding = 2,
    #[error("a preference follows an empty rank")]
    Gap = 3,
    #[error("a preference names no option or write-in slot")]
    OutOfRange = 4,
    #[error("a candidate is ranked twice")]
    Repeated = 5,
    #[error("a write-in is not UTF-8 text followed by zero bytes")]
    WriteInFormat = 6,
    #[error("an empty write-in slot is ranked")]
    WriteInEmpty = 7,
    #[error("a write-in is filled in but not ranked")]
    WriteInUnranked = 8,
}

impl Invalid {
    pub fn tag(self) -> u8 {
        self as u8
    }

    pub fn from_tag(tag: u8) -> Option<Invalid> {
        [
            Invalid::NotEmbedded,
            Invalid::Padding,
            Invalid::Gap,
            Invalid::OutOfRange,
            Invalid::Repeated,
            Invalid::WriteInFormat,
            Invalid::WriteInEmpty,
            Invalid::WriteInUnranked,
        ]
        .into_iter()
        .find(|i| i.tag() == tag)
    }

    pub fn code(self) -> &'static str {
        match self {
            Invalid::NotEmbedded => "not-embedded",
            Invalid::Padding => "padding",
            Invalid::Gap => "gap",
            Invalid::OutOfRange => "out-of-range",
            Invalid::Repeated => "repeated",
            Invalid::WriteInFormat => "write-in-format",
            Invalid::WriteInEmpty => "write-in-empty",
            Invalid::WriteInUnranked => "write-in-unranked",
        }
    }
}

/// Why a ranking cannot be written as a ballot (checked before anything is encrypted).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RankingError {
    #[error("{got} preferences; at most {max} may be ranked")]
    TooManyPreferences { got: usize, max: usize },
    #[error("option #{0} does not exist")]
    UnknownOption(usize),
    #[error("a candidate is ranked twice")]
    Repeated,
    #[error("this contest takes no more than {0} write-ins")]
    TooManyWriteIns(usize),
    #[error("a write-in is empty, starts or ends with white space, or holds a NUL character")]
    WriteInText,
    #[error("a write-in is {len} bytes; at most {max} fit")]
    WriteInTooLong { len: usize, max: usize },
}

/// The plaintext bytes of a ranking (§5.5): write-ins take slots in the order they are ranked.
pub fn plaintext(
    rules: &RankedRules,
    options: usize,
    ranking: &[Choice],
) -> Result<Vec<u8>, RankingError> {
    let ranks = usize::from(rules.ranks);
    if ranking.len() > ranks {
        return Err(RankingError::TooManyPreferences {
            got: ranking.len(),
            max: ranks,
        });
    }
    let slot_len = usize::from(rules.write_in_len);
    let mut bytes = vec![0u8; rules.plaintext_len()];
    let mut seen = HashSet::new();
    let mut slot = 0usize;
    for (k, choice) in ranking.iter().enumerate() {
        if !seen.insert(choice) {
            return Err(RankingError::Repeated);
        }
        let code = match choice {
            Choice::Option(i) if usize::from(*i) < options => usize::from(*i) + 1,
            Choice::Option(i) => return Err(RankingError::UnknownOption((*i).into())),
            Choice::WriteIn(text) => {
                if slot >= usize::from(rules.write_ins) {
                    return Err(RankingError::TooManyWriteIns(rules.write_ins.into()));
                }
                if text.is_empty() || text.contains('\0') || text.trim() != text {
                    return Err(RankingError::WriteInText);
                }
                if text.len() > slot_len {
                    return Err(RankingError::WriteInTooLong {
                        len: text.len(),
                        max: slot_len,
                    });
                }
                let at = ranks + slot * slot_len;
                bytes[at..at + text.len()].copy_from_slice(text.as_bytes());
                slot += 1;
                options + slot
            }
        };
        // options + write_ins ≤ 255 (a manifest rule), so every code fits a byte.
        bytes[k] = code as u8;
    }
    Ok(bytes)
}

/// The plaintext zero-padded and cut into the payloads of a row's `w` points.
pub fn payloads(bytes: &[u8]) -> Vec<[u8; EMBED_BYTES]> {
    bytes
        .chunks(EMBED_BYTES)
        .map(|c| {
            let mut p = [0u8; EMBED_BYTES];
            p[..c.len()].copy_from_slice(c);
            p
        })
        .collect()
}

/// The published rule (§5.5): reads a decrypted row, given as the encodings of its `w` points,
/// into a ranking (empty for a blank ballot) or the first rule it breaks.
pub fn read(
    rules: &RankedRules,
    options: usize,
    points: &[[u8; 32]],
) -> Result<Vec<Choice>, Invalid> {
    let mut bytes = Vec::with_capacity(points.len() * EMBED_BYTES);
    for p in points {
        bytes.extend_from_slice(&extract(p).ok_or(Invalid::NotEmbedded)?);
    }
    let len = rules.plaintext_len();
    if bytes.len() < len || bytes[len..].iter().any(|&b| b != 0) {
        return Err(Invalid::Padding);
    }
    let ranks = usize::from(rules.ranks);
    let write_ins = usize::from(rules.write_ins);
    let mut codes = Vec::with_capacity(ranks);
    let mut ended = false;
    let mut seen = HashSet::new();
    for &code in &bytes[..ranks] {
        let code = usize::from(code);
        if code == 0 {
            ended = true;
        } else if ended {
            return Err(Invalid::Gap);
        } else if code > options + write_ins {
            return Err(Invalid::OutOfRange);
        } else if !seen.insert(code) {
            return Err(Invalid::Repeated);
        } else {
            codes.push(code);
        }
    }
    let slot_len = usize::from(rules.write_in_len);
    let mut texts = Vec::with_capacity(write_ins);
    for s in 0..write_ins {
        let slot = &bytes[ranks + s * slot_len..ranks + (s + 1) * slot_len];
        let end = slot.iter().position(|&b| b == 0).unwrap_or(slot_len);
        if slot[end..].iter().any(|&b| b != 0) {
            return Err(Invalid::WriteInFormat);
        }
        let text = std::str::from_utf8(&slot[..end]).map_err(|_| Invalid::WriteInFormat)?;
        let ranked = seen.contains(&(options + s + 1));
        match (text.is_empty(), ranked) {
            (true, true) => return Err(Invalid::WriteInEmpty),
            (false, false) => return Err(Invalid::WriteInUnranked),
            _ => {}
        }
        texts.push(text);
    }
    let mut ranking = Vec::with_capacity(codes.len());
    let mut written = HashSet::new();
    for code in codes {
        if code <= options {
            // 1 ≤ code ≤ options ≤ 254.
            ranking.push(Choice::Option((code - 1) as u8));
        } else {
            let text = texts.get(code - options - 1).copied().unwrap_or_default();
            if !written.insert(text) {
                return Err(Invalid::Repeated);
            }
            ranking.push(Choice::WriteIn(text.to_string()));
        }
    }
    Ok(ranking)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::CountMethod;
    use urna_crypto::embed::embed;

    fn rules(ranks: u8, write_ins: u8, len: u8) -> RankedRules {
        RankedRules {
            method: CountMethod::Irv,
            seats: 1,
            ranks,
            write_ins,
            write_in_len: len,
        }
    }

    fn points(bytes: &[u8]) -> Vec<[u8; 32]> {
        payloads(bytes)
            .iter()
            .map(|p| embed(p).unwrap().compress().to_bytes())
            .collect()
    }

    fn raw(r: &RankedRules, prefs: &[u8], slots: &[&[u8]]) -> Vec<[u8; 32]> {
        let mut b = vec![0u8; r.plaintext_len()];
        b[..prefs.len()].copy_from_slice(prefs);
        for (s, t) in slots.iter().enumerate() {
            let at = usize::from(r.ranks) + s * usize::from(r.write_in_len);
            b[at..at + t.len()].copy_from_slice(t);
        }
        points(&b)
    }

    #[test]
    fn rankings_round_trip() {
        let r = rules(4, 2, 40);
        let ranking = vec![
            Choice::Option(2),
            Choice::WriteIn("Zoë Ng".into()),
            Choice::Option(0),
        ];
        let bytes = plaintext(&r, 3, &ranking).unwrap();
        assert_eq!(&bytes[..4], &[3, 4, 1, 0]);
        assert_eq!(r.width(), 3);
        assert_eq!(read(&r, 3, &points(&bytes)), Ok(ranking));
        // The blank ballot.
        assert_eq!(
            read(&r, 3, &points(&plaintext(&r, 3, &[]).unwrap())),
            Ok(vec![])
        );
    }

    #[test]
    fn the_published_rule_names_the_first_fault() {
        let r = rules(4, 2, 10);
        let n = 3;
        assert_eq!(read(&r, n, &raw(&r, &[1, 0, 2], &[])), Err(Invalid::Gap));
        assert_eq!(
            read(&r, n, &raw(&r, &[1, 6], &[])),
            Err(Invalid::OutOfRange)
        );
        assert_eq!(
            read(&r, n, &raw(&r, &[2, 1, 2], &[])),
            Err(Invalid::Repeated)
        );
        assert_eq!(read(&r, n, &raw(&r, &[4], &[])), Err(Invalid::WriteInEmpty));
        assert_eq!(
            read(&r, n, &raw(&r, &[1], &[b"x"])),
            Err(Invalid::WriteInUnranked)
        );
        assert_eq!(
            read(&r, n, &raw(&r, &[4], &[b"a\0b"])),
            Err(Invalid::WriteInFormat)
        );
        assert_eq!(
            read(&r, n, &raw(&r, &[4], &[b"\xff"])),
            Err(Invalid::WriteInFormat)
        );
        assert_eq!(
            read(&r, n, &raw(&r, &[4, 5], &[b"Al", b"Al"])),
            Err(Invalid::Repeated)
        );
        // Width 1 carries 24 bytes of plaintext: the last 6 must be zero.
        let mut pad = vec![0u8; 30];
        pad[0] = 1;
        pad[29] = 9;
        assert_eq!(read(&r, n, &points(&pad)), Err(Invalid::Padding));
        // The generator is no embedding.
        let g = curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
        assert_eq!(
            read(&r, n, &[g.compress().to_bytes()]),
            Err(Invalid::NotEmbedded)
        );
        assert_eq!(
            read(&r, n, &raw(&r, &[4, 1], &[b"Al"])),
            Ok(vec![Choice::WriteIn("Al".into()), Choice::Option(0)])
        );
    }

    #[test]
    fn bad_rankings_are_refused_before_encryption() {
        let r = rules(2, 1, 4);
        let o = |i| Choice::Option(i);
        let w = |t: &str| Choice::WriteIn(t.into());
        assert!(plaintext(&r, 3, &[o(0), o(1), o(2)]).is_err());
        assert_eq!(plaintext(&r, 3, &[o(0), o(0)]), Err(RankingError::Repeated));
        assert_eq!(
            plaintext(&r, 3, &[o(3)]),
            Err(RankingError::UnknownOption(3))
        );
        assert_eq!(plaintext(&r, 3, &[w(" x")]), Err(RankingError::WriteInText));
        assert!(matches!(
            plaintext(&r, 3, &[w("toolong")]),
            Err(RankingError::WriteInTooLong { .. })
        ));
        assert_eq!(
            plaintext(&r, 3, &[w("a"), w("b")]),
            Err(RankingError::TooManyWriteIns(1))
        );
    }
}
