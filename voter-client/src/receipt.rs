//! What became of a voter's ballot, judged against a board's log as this client synced it:
//! the receipt (its format lives in `urna-ledger`) is checked against the board's current log,
//! and its standing decided only on what the witness quorum covers.

use urna_client::{Checked, Synced};
use urna_crypto::hex;
use urna_election::state::{Election, Phase};
use urna_ledger::merkle::Tree;
use urna_ledger::note::Checkpoint;

pub use urna_ledger::receipt::{BallotReceipt, ReceiptError, Standing};

/// What a receipt check found out about the ballot. When the manifest names witnesses, the
/// standing is decided only on the newest checkpoint their quorum covers, never on the board's
/// own uncosigned one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The ballot's standing in the log's first `covered` entries (all of the board's log when
    /// the manifest names no witnesses). `closed`: voting had closed within them, so the
    /// standing is final.
    Decided {
        standing: Standing,
        covered: u64,
        closed: bool,
    },
    /// The board's log holds the ballot at the receipt's index, but no checkpoint the witness
    /// quorum covers includes it yet, and voting is still open: the normal state of a new ballot.
    Pending { covered: u64 },
    /// Voting has closed (the authority's `CloseVoting` is on the board's log) and still no
    /// checkpoint the witness quorum covers includes the ballot.
    NotCovered { covered: u64 },
}

fn closed(e: &Election) -> bool {
    matches!(e.phase(), Phase::Tallying | Phase::Finished)
}

/// Whether the checkpoint `cp` is a prefix of the log `tree` (of `size` entries) holds.
fn prefix_of(tree: &Tree, size: u64, cp: &Checkpoint) -> Result<(), String> {
    if cp.size > size {
        return Err(format!(
            "the board's log has {size} entries, fewer than the {} of the receipt's checkpoint: it dropped acknowledged entries",
            cp.size
        ));
    }
    if tree.root(cp.size).ok() != Some(cp.root) {
        return Err(format!(
            "the receipt's checkpoint (size {}) is not a prefix of the board's log: the board forked or rewrote its log",
            cp.size
        ));
    }
    Ok(())
}

/// A receipt's checks against a board's log.
pub trait Judge {
    /// Against the board's current (verified, replayed) log: the log extends the receipt's
    /// checkpoint, the ballot is at its index, and what became of it.
    fn check(
        &self,
        s: &Synced,
        consistency: impl FnOnce(&Checkpoint, &Checkpoint) -> Result<(), String>,
    ) -> Result<Standing, ReceiptError>;

    /// Against the board's log checked under the witness policy ([`Checked`]): the log extends
    /// the receipt's checkpoint and holds the ballot at its index; the board shows the newest
    /// checkpoint the witnesses cosigned; and what became of the ballot, decided on the newest
    /// checkpoint their quorum covers.
    fn judge(&self, c: &Checked) -> Result<Verdict, ReceiptError>;
}

impl Judge for BallotReceipt {
    fn check(
        &self,
        s: &Synced,
        consistency: impl FnOnce(&Checkpoint, &Checkpoint) -> Result<(), String>,
    ) -> Result<Standing, ReceiptError> {
        if s.key != self.board_key {
            return Err(ReceiptError::OtherBoard(hex::encode(s.key.as_bytes())));
        }
        let cp = self.verify_offline()?;
        consistency(&cp, &s.log.checkpoint).map_err(ReceiptError::Inconsistent)?;
        let at = s.entry(self.receipt.index);
        self.standing(at.as_deref(), s.election())
    }

    fn judge(&self, c: &Checked) -> Result<Verdict, ReceiptError> {
        let s = &c.synced;
        let latest = self.check(s, |a, b| prefix_of(&s.log.tree(), b.size, a))?;
        let Some(view) = &c.witnessed else {
            return Ok(Verdict::Decided {
                standing: latest,
                covered: s.log.checkpoint.size,
                closed: closed(s.election()),
            });
        };
        if let Some((witnesses, board)) = view.withholding() {
            return Err(ReceiptError::Withholding { witnesses, board });
        }
        match &c.decided {
            Some(e) if self.receipt.index < e.size() => {
                let at = s.entry(self.receipt.index);
                Ok(Verdict::Decided {
                    standing: self.standing(at.as_deref(), e)?,
                    covered: e.size(),
                    closed: closed(e),
                })
            }
            d => {
                let covered = d.as_ref().map_or(0, |e| e.size());
                Ok(if closed(s.election()) {
                    Verdict::NotCovered { covered }
                } else {
                    Verdict::Pending { covered }
                })
            }
        }
    }
}

/// A receipt's check against a voter's light view of the board (`urna_client::light`,
/// `specs/board.md` §5.2) instead of the whole log: the view was read with the receipt's
/// checkpoint as `since`, so its checkpoint extends the receipt's (a consistency proof); the
/// credential's own entries, each proven under that checkpoint, must hold the ballot at the
/// receipt's index; its standing follows from the credential's entries within what the witness
/// quorum covers (`witnessed`; the whole view when the manifest names no witnesses).
pub fn judge_light(
    r: &BallotReceipt,
    view: &urna_client::light::VoterView,
    witnessed: Option<&urna_client::WitnessView>,
) -> Result<Verdict, ReceiptError> {
    if view.key != r.board_key {
        return Err(ReceiptError::OtherBoard(hex::encode(view.key.as_bytes())));
    }
    r.verify_offline()?;
    let i = r.receipt.index;
    let shown = view
        .ballots()
        .iter()
        .any(|b| b.index == i && b.entry == r.entry);
    // The board serves a credential's latest 64 entries: an older ballot is left out, and is
    // superseded by a later one of those shown (its place on the log the receipt's own proof
    // and the consistency proof establish).
    let left_out =
        !shown && view.omitted > 0 && view.ballots().first().is_some_and(|b| b.index > i);
    if !shown && !left_out {
        return Err(ReceiptError::Missing(i));
    }
    let closed_within = |size: u64| view.closed_at().is_some_and(|c| c < size);
    let covered = match witnessed {
        None => view.checkpoint.size,
        Some(w) => {
            if let Some((witnesses, board)) = w.withholding() {
                return Err(ReceiptError::Withholding { witnesses, board });
            }
            w.covered.as_ref().map_or(0, |c| c.checkpoint.size)
        }
    };
    let challenged = urna_election::entry::Entry::decode(r.entry.clone())
        .is_ok_and(|e| e.kind() == urna_election::entry::EntryKind::ChallengedBallot);
    let standing = if left_out && challenged {
        (i < covered).then_some(Standing::Challenged)
    } else if left_out {
        (i < covered)
            .then(|| {
                view.ballots()
                    .iter()
                    .find(|b| {
                        b.index < covered && b.kind == urna_election::entry::EntryKind::Ballot
                    })
                    .map(|b| Standing::Superseded { by: b.index })
            })
            .flatten()
    } else {
        view.standing_within(i, covered)
    };
    match standing {
        Some(standing) => Ok(Verdict::Decided {
            standing,
            covered,
            closed: closed_within(covered),
        }),
        None if view.closed_at().is_some() => Ok(Verdict::NotCovered { covered }),
        None => Ok(Verdict::Pending { covered }),
    }
}
