//! Reading a superseded ballot back from the log, so that the state need not keep every
//! counted ballot's ciphertexts for the rare revote (issue 18).
//!
//! Before a batch is applied, the ballots of credentials that already have a counted ballot
//! from an earlier batch are found (a roll lookup each), and those counted ballots are read back
//! through a [`LookBack`] — checked against the leaf hash the state recorded for them, so a
//! store cannot substitute other bytes — and their tallied ciphertexts held for the batch. A
//! ballot superseded within the batch is held since its own admission. So every revote finds
//! what it subtracts, and the verdicts and the state are exactly those of an election that kept
//! everything ([`Election::new`]).

use std::collections::BTreeMap;

use thiserror::Error;

use rayon::prelude::*;

use super::ballot_box::tallied;
use super::batch::Prechecked;
use super::{decode_payload, Admitted, Election};
use crate::entry::{Entry, EntryKind};
use crate::payload::Payload;
use crate::rejection::Rejection;

/// Earlier entries of the log, read again.
pub trait LookBack {
    /// The bytes of entry `index` of the log (one the state admitted).
    fn entry(&self, index: u64) -> Result<Vec<u8>, String>;
}

/// No log to read back from: for an election that keeps what it needs ([`Election::new`]),
/// which never asks.
pub struct NoLog;

impl LookBack for NoLog {
    fn entry(&self, index: u64) -> Result<Vec<u8>, String> {
        Err(format!("entry {index}: no log to read it back from"))
    }
}

/// A ballot that a revote supersedes could not be read back: the batch was not applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("entry {index}, a ballot a revote supersedes, could not be read back: {reason}")]
pub struct LookBackError {
    pub index: u64,
    pub reason: String,
}

impl Election {
    /// [`Election::apply_batch`] (or, with `verified` flags, [`Election::apply_batch_attested`])
    /// for an election reading back from its log ([`Election::reading_back`]): the ballots revotes
    /// in `entries` supersede are read from `back` first. If one cannot be, nothing is applied.
    pub fn apply_batch_reading(
        &mut self,
        entries: &[Entry],
        verified: &[bool],
        back: &dyn LookBack,
    ) -> Result<Vec<Result<Admitted, Rejection>>, LookBackError> {
        let pre = entries.par_iter().map(Prechecked::new).collect();
        self.apply_batch_reading_from(entries, pre, verified, back)
    }

    /// [`Election::apply_batch_reading`] from what was checked ahead ([`Prechecked`]).
    pub(super) fn apply_batch_reading_from(
        &mut self,
        entries: &[Entry],
        pre: Vec<Prechecked>,
        verified: &[bool],
        back: &dyn LookBack,
    ) -> Result<Vec<Result<Admitted, Rejection>>, LookBackError> {
        self.read_back(entries, back)?;
        let out = self.apply_batch_from(entries, pre, verified);
        self.ballot_box.end_batch();
        match self.ballot_box.unread.take() {
            // Not reached: every ballot a revote of the batch supersedes was read back above.
            Some(index) => Err(LookBackError {
                index,
                reason: "not read back before the batch".into(),
            }),
            None => Ok(out),
        }
    }

    /// The plain methods' way in: a reading-back election's look-back failure refuses every
    /// entry of the batch (with the reason), changing nothing.
    pub(super) fn apply_batch_plain(
        &mut self,
        entries: &[Entry],
        verified: &[bool],
    ) -> Vec<Result<Admitted, Rejection>> {
        match self.apply_batch_reading(entries, verified, &NoLog) {
            Ok(v) => v,
            Err(e) => entries
                .iter()
                .map(|_| {
                    Err(Rejection::InvalidBallot {
                        reason: e.to_string(),
                    })
                })
                .collect(),
        }
    }

    pub(super) fn read_back(
        &mut self,
        entries: &[Entry],
        back: &dyn LookBack,
    ) -> Result<(), LookBackError> {
        let mut wanted = BTreeMap::new();
        for e in entries.iter().filter(|e| e.kind() == EntryKind::Ballot) {
            if let Some((record, index, leaf)) = self.ballot_box.wanted(&self.roll, e.author()) {
                wanted.insert(record, (index, leaf));
            }
        }
        for (record, (index, leaf)) in wanted {
            let fail = |reason: String| LookBackError { index, reason };
            let entry = Entry::decode(back.entry(index).map_err(fail)?)
                .map_err(|e| fail(format!("read back, it does not decode: {e}")))?;
            if entry.leaf_hash() != leaf {
                return Err(fail("read back, it is not the entry admitted there".into()));
            }
            match decode_payload(&entry) {
                Ok(Payload::Ballot(b)) => self.ballot_box.hold(record, tallied(&self.layout, &b)),
                _ => return Err(fail("read back, it is not a ballot".into())),
            }
        }
        Ok(())
    }
}
