//! The count of a ranked contest (`specs/election.md` §7.3): pure, deterministic functions from
//! the decrypted rows to a [`RankedCount`] — the invalid ballots, the candidates, the lot, and
//! every stage (IRV, STV) or the pairwise matrix and strongest paths (Schulze) — and its one
//! canonical encoding, which the `RankedCount` entries carry and the state machine compares
//! with its own count byte for byte.
//!
//! - [`transfer`]: IRV and STV (weighted inclusive Gregory, fixed point);
//! - [`schulze`]: Schulze, winning votes.

pub mod schulze;
pub mod transfer;

use std::collections::BTreeSet;

use serde::Serialize;
use sha2::{Digest, Sha256};
use urna_crypto::codec::{Reader, Writer};
use urna_crypto::errors::DecodeError;

use crate::manifest::{Contest, CountMethod, RankedRules};
use crate::ranking::{Choice, Invalid};

/// A candidate of a ranked count: an option, or a write-in that some valid ballot ranks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Candidate {
    Option(u8),
    WriteIn(String),
}

/// What one stage of a count by transfers does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Stage 0: every ballot to its first preference.
    First,
    /// The surplus of this elected candidate moves on.
    Surplus(u32),
    /// This candidate is excluded; its ballots move on.
    Exclusion(u32),
}

/// One stage: what moved where, and who was elected once it had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub action: Action,
    /// `(candidate, value received)` for every candidate that received a positive value, in
    /// increasing candidate order.
    pub credits: Vec<(u32, u64)>,
    /// Value of the ballots that had no continuing preference left.
    pub exhausted: u64,
    /// Value dropped by truncation in a surplus transfer.
    pub lost: u64,
    /// Elected at the end of this stage, in order of election.
    pub elected: Vec<u32>,
}

/// A row of the decrypted list that the rule of §5.5 refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InvalidRow {
    /// Its index in the final list, from 0.
    pub row: u32,
    pub reason: Invalid,
}

/// How the candidates fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Transfers(transfer::Transfers),
    Schulze(schulze::Schulze),
}

/// The published count of one ranked contest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedCount {
    pub contest: u16,
    pub method: CountMethod,
    pub seats: u16,
    /// Rows in the decrypted list.
    pub rows: u32,
    /// Valid rows that rank nobody.
    pub blank: u32,
    pub invalid: Vec<InvalidRow>,
    /// The options in order, then the write-ins valid ballots rank, in byte order of text.
    pub candidates: Vec<Candidate>,
    /// Every candidate (by index), from first to last in the lot.
    pub lot: Vec<u32>,
    pub outcome: Outcome,
    /// Those elected, in order.
    pub elected: Vec<u32>,
}

impl RankedCount {
    /// Valid ballots that rank at least one candidate: those the count is of.
    pub fn counted(&self) -> u32 {
        self.rows - self.blank - self.invalid.len() as u32
    }
}

/// `SHA-256("urna-v1 lot" ‖ E ‖ u16(contest) ‖ id)`, where `id` is `0x01 ‖` the option's id or
/// `0x02 ‖` the write-in's text: the key by which the lot orders candidates (lowest first).
pub fn lot_key(context: &[u8; 32], contest: u16, c: &Candidate, options: &Contest) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"urna-v1 lot");
    h.update(context);
    h.update(contest.to_be_bytes());
    match c {
        Candidate::Option(i) => {
            h.update([1u8]);
            let id = options
                .options
                .get(usize::from(*i))
                .map(|o| o.id.as_bytes());
            h.update(id.unwrap_or_default());
        }
        Candidate::WriteIn(t) => {
            h.update([2u8]);
            h.update(t.as_bytes());
        }
    }
    h.finalize().into()
}

/// Counts a ranked contest from its decrypted rows, each the outcome of the rule of §5.5.
/// `context` is the election context hash `E`, from which the lot is drawn.
pub fn count(
    contest_index: u16,
    contest: &Contest,
    rules: &RankedRules,
    context: &[u8; 32],
    rows: &[Result<Vec<Choice>, Invalid>],
) -> RankedCount {
    let mut invalid = Vec::new();
    let mut blank = 0u32;
    let mut write_ins = BTreeSet::new();
    for (i, row) in rows.iter().enumerate() {
        match row {
            Err(reason) => invalid.push(InvalidRow {
                row: i as u32,
                reason: *reason,
            }),
            Ok(r) if r.is_empty() => blank += 1,
            Ok(r) => write_ins.extend(r.iter().filter_map(|c| match c {
                Choice::WriteIn(t) => Some(t.as_str()),
                Choice::Option(_) => None,
            })),
        }
    }
    let n = contest.options.len();
    let mut candidates: Vec<Candidate> = (0..n).map(|i| Candidate::Option(i as u8)).collect();
    candidates.extend(write_ins.iter().map(|t| Candidate::WriteIn(t.to_string())));
    let index_of_write_in = |t: &str| write_ins.iter().position(|w| *w == t).map(|p| n + p);
    let ballots: Vec<Vec<u32>> = rows
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter(|r| !r.is_empty())
        .map(|r| {
            r.iter()
                .filter_map(|c| match c {
                    Choice::Option(i) => Some(u32::from(*i)),
                    Choice::WriteIn(t) => index_of_write_in(t).map(|i| i as u32),
                })
                .collect()
        })
        .collect();
    let mut by_lot: Vec<(u32, [u8; 32])> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (i as u32, lot_key(context, contest_index, c, contest)))
        .collect();
    by_lot.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let lot: Vec<u32> = by_lot.iter().map(|(i, _)| *i).collect();
    let mut place = vec![0u32; candidates.len()];
    for (p, &c) in lot.iter().enumerate() {
        place[c as usize] = p as u32;
    }
    let (outcome, elected) = match rules.method {
        CountMethod::Schulze => {
            let s = schulze::count(&ballots, &place);
            let elected = if ballots.is_empty() {
                Vec::new()
            } else {
                s.order
                    .iter()
                    .take(usize::from(rules.seats))
                    .copied()
                    .collect()
            };
            (Outcome::Schulze(s), elected)
        }
        method => {
            let t = transfer::count(method, rules.seats, &ballots, &place);
            let elected = t.elected.clone();
            (Outcome::Transfers(t), elected)
        }
    };
    RankedCount {
        contest: contest_index,
        method: rules.method,
        seats: rules.seats,
        rows: rows.len() as u32,
        blank,
        invalid,
        candidates,
        lot,
        outcome,
        elected,
    }
}

// ---- canonical encoding (§7.3) ----

fn put_list<T>(out: &mut Vec<u8>, items: &[T], mut put: impl FnMut(&mut Vec<u8>, &T)) {
    // Counts of rows, candidates, stages and credits are bounded by the list (< 2^32 rows).
    out.put_u32(items.len() as u32);
    for x in items {
        put(out, x);
    }
}

impl RankedCount {
    /// The canonical bytes the `RankedCount` entries carry (§7.3).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.put_u16(self.contest);
        out.put_u8(self.method.tag());
        out.put_u16(self.seats);
        out.put_u32(self.rows);
        out.put_u32(self.blank);
        put_list(&mut out, &self.invalid, |o, x| {
            o.put_u32(x.row);
            o.put_u8(x.reason.tag());
        });
        put_list(&mut out, &self.candidates, |o, c| match c {
            Candidate::Option(i) => {
                o.put_u8(1);
                o.put_u8(*i);
            }
            Candidate::WriteIn(t) => {
                o.put_u8(2);
                // A write-in's text is at most 255 bytes (write_in_len is a u8).
                o.put_u8(t.len() as u8);
                o.extend_from_slice(t.as_bytes());
            }
        });
        self.lot.iter().for_each(|c| out.put_u32(*c));
        match &self.outcome {
            Outcome::Transfers(t) => {
                out.put_u64(t.unit);
                out.put_u64(t.quota);
                put_list(&mut out, &t.stages, |o, s| {
                    let (tag, x) = match s.action {
                        Action::First => (0, 0),
                        Action::Surplus(x) => (1, x),
                        Action::Exclusion(x) => (2, x),
                    };
                    o.put_u8(tag);
                    o.put_u32(x);
                    put_list(o, &s.credits, |o, (c, v)| {
                        o.put_u32(*c);
                        o.put_u64(*v);
                    });
                    o.put_u64(s.exhausted);
                    o.put_u64(s.lost);
                    o.put_u16(s.elected.len() as u16);
                    s.elected.iter().for_each(|c| o.put_u32(*c));
                });
            }
            Outcome::Schulze(s) => {
                for v in s.d.iter().chain(&s.p).chain(&s.order) {
                    out.put_u32(*v);
                }
            }
        }
        // At most `seats` (a u16) are elected.
        out.put_u16(self.elected.len() as u16);
        self.elected.iter().for_each(|c| out.put_u32(*c));
        out
    }

    /// Decodes the canonical bytes (for readers of the record; the state machine compares
    /// bytes instead). Strict: trailing bytes, unknown tags and out-of-range indices fail.
    pub fn from_bytes(bytes: &[u8]) -> Result<RankedCount, DecodeError> {
        let mut r = Reader::new(bytes);
        let contest = r.u16()?;
        let tag = r.u8()?;
        let method = CountMethod::from_tag(tag).ok_or(DecodeError::UnknownTag {
            what: "count method",
            tag: tag.into(),
        })?;
        let seats = r.u16()?;
        let rows = r.u32()?;
        let blank = r.u32()?;
        let n = bounded(&mut r, 5)?;
        let mut invalid = Vec::with_capacity(n);
        for _ in 0..n {
            let row = r.u32()?;
            let t = r.u8()?;
            let reason = Invalid::from_tag(t).ok_or(DecodeError::UnknownTag {
                what: "invalid ballot reason",
                tag: t.into(),
            })?;
            invalid.push(InvalidRow { row, reason });
        }
        let nc = bounded(&mut r, 2)?;
        let mut candidates = Vec::with_capacity(nc);
        for _ in 0..nc {
            candidates.push(match r.u8()? {
                1 => Candidate::Option(r.u8()?),
                2 => Candidate::WriteIn(
                    String::from_utf8(r.bytes_u8()?.to_vec())
                        .map_err(|_| DecodeError::InvalidUtf8)?,
                ),
                t => {
                    return Err(DecodeError::UnknownTag {
                        what: "candidate",
                        tag: t.into(),
                    })
                }
            });
        }
        let index = |r: &mut Reader<'_>| -> Result<u32, DecodeError> {
            let c = r.u32()?;
            match (c as usize) < nc {
                true => Ok(c),
                false => Err(DecodeError::Invalid("candidate index out of range")),
            }
        };
        let lot = (0..nc)
            .map(|_| index(&mut r))
            .collect::<Result<Vec<_>, _>>()?;
        let outcome = match method {
            CountMethod::Schulze => {
                let cells = nc
                    .checked_mul(nc)
                    .ok_or(DecodeError::Invalid("too many candidates"))?;
                if r.remaining() < 4 * (2 * cells + nc) {
                    return Err(DecodeError::Truncated {
                        needed: 4 * (2 * cells + nc),
                        remaining: r.remaining(),
                    });
                }
                let d = (0..cells).map(|_| r.u32()).collect::<Result<Vec<_>, _>>()?;
                let p = (0..cells).map(|_| r.u32()).collect::<Result<Vec<_>, _>>()?;
                let order = (0..nc)
                    .map(|_| index(&mut r))
                    .collect::<Result<Vec<_>, _>>()?;
                Outcome::Schulze(schulze::Schulze { d, p, order })
            }
            _ => {
                let unit = r.u64()?;
                let quota = r.u64()?;
                let ns = bounded(&mut r, 27)?;
                let mut stages = Vec::with_capacity(ns);
                for _ in 0..ns {
                    let tag = r.u8()?;
                    let x = r.u32()?;
                    let action = match tag {
                        0 if x == 0 => Action::First,
                        1 if (x as usize) < nc => Action::Surplus(x),
                        2 if (x as usize) < nc => Action::Exclusion(x),
                        _ => return Err(DecodeError::Invalid("stage action")),
                    };
                    let k = bounded(&mut r, 12)?;
                    let mut credits = Vec::with_capacity(k);
                    for _ in 0..k {
                        credits.push((index(&mut r)?, r.u64()?));
                    }
                    let exhausted = r.u64()?;
                    let lost = r.u64()?;
                    let e = usize::from(r.u16()?);
                    let elected = (0..e)
                        .map(|_| index(&mut r))
                        .collect::<Result<Vec<_>, _>>()?;
                    stages.push(Stage {
                        action,
                        credits,
                        exhausted,
                        lost,
                        elected,
                    });
                }
                Outcome::Transfers(transfer::Transfers {
                    unit,
                    quota,
                    stages,
                    elected: Vec::new(),
                })
            }
        };
        let e = usize::from(r.u16()?);
        let elected = (0..e)
            .map(|_| index(&mut r))
            .collect::<Result<Vec<_>, _>>()?;
        r.finish()?;
        let outcome = match outcome {
            Outcome::Transfers(mut t) => {
                t.elected = elected.clone();
                Outcome::Transfers(t)
            }
            other => other,
        };
        Ok(RankedCount {
            contest,
            method,
            seats,
            rows,
            blank,
            invalid,
            candidates,
            lot,
            outcome,
            elected,
        })
    }
}

/// A `u32` count of elements of at least `min` bytes each, refused if the input cannot hold
/// them (so that a count never sizes an allocation beyond the input).
fn bounded(r: &mut Reader<'_>, min: usize) -> Result<usize, DecodeError> {
    let n = r.u32()? as usize;
    if n.saturating_mul(min) > r.remaining() {
        return Err(DecodeError::Truncated {
            needed: n.saturating_mul(min),
            remaining: r.remaining(),
        });
    }
    Ok(n)
}
