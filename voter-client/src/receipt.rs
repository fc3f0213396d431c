//! A voter's saved receipt, and the check that the ballot it names was counted.
//!
//! ```text
//! urna-ballot-receipt-v1
//! election <election id>
//! board-key <hex>
//! tracking <tracking code>
//! entry <hex of the cast entry>
//! <empty line>
//! <C2SP tlog-proof (specs/board.md §3)>
//! ```

use thiserror::Error;
use urna_board::client::{Checked, Synced};
use urna_board::merkle::Tree;
use urna_board::note::{Checkpoint, NoteError, Receipt};
use urna_crypto::hex;
use urna_crypto::sign::VerifyingKey;
use urna_election::entry::TrackingCode;
use urna_election::state::{BallotStatus, Election, Phase};

const MAGIC: &str = "urna-ballot-receipt-v1";

#[derive(Debug, Error)]
pub enum ReceiptError {
    #[error("not a ballot receipt: {0}")]
    Malformed(&'static str),
    #[error("the receipt's proof or signature does not verify: {0}")]
    Proof(#[from] NoteError),
    #[error("the board's current log is not an extension of the one in the receipt: {0}")]
    Inconsistent(String),
    #[error("the board's log at index {0} is not this ballot")]
    Missing(u64),
    #[error("the receipt is for board key {0}, the board now uses another")]
    OtherBoard(String),
    /// The witnesses' quorum has cosigned more of the log than the board shows as cosigned.
    #[error("the board is withholding: the witnesses have cosigned its log up to {witnesses} entries, but the board shows {} as cosigned", board.map_or("no checkpoint".to_string(), |b| format!("only {b} entries")))]
    Withholding { witnesses: u64, board: Option<u64> },
}

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

pub struct BallotReceipt {
    pub election_id: String,
    pub board_key: VerifyingKey,
    pub entry: Vec<u8>,
    pub receipt: Receipt,
}

/// What became of the ballot: the status the election rules gave it.
pub type Standing = BallotStatus;

impl BallotReceipt {
    pub fn tracking_code(&self) -> TrackingCode {
        TrackingCode(urna_board::merkle::leaf_hash(&self.entry))
    }

    pub fn to_text(&self) -> String {
        format!(
            "{MAGIC}\nelection {}\nboard-key {}\ntracking {}\nentry {}\n\n{}",
            self.election_id,
            hex::encode(self.board_key.as_bytes()),
            self.tracking_code().full(),
            hex::encode(&self.entry),
            self.receipt.to_text()
        )
    }

    pub fn parse(text: &str) -> Result<BallotReceipt, ReceiptError> {
        let (head, proof) = text
            .split_once("\n\n")
            .ok_or(ReceiptError::Malformed("no blank line before the proof"))?;
        let mut l = head.lines();
        if l.next() != Some(MAGIC) {
            return Err(ReceiptError::Malformed(
                "first line is not urna-ballot-receipt-v1",
            ));
        }
        let mut field = |name: &str| {
            l.next()
                .and_then(|x| x.strip_prefix(name))
                .map(str::to_string)
        };
        let election_id = field("election ").ok_or(ReceiptError::Malformed("no election"))?;
        let board_key = field("board-key ")
            .and_then(|k| hex::decode_array::<32>(&k).ok())
            .and_then(|k| VerifyingKey::from_wire(&k).ok())
            .ok_or(ReceiptError::Malformed("bad board-key"))?;
        let tracking = field("tracking ").ok_or(ReceiptError::Malformed("no tracking code"))?;
        let entry = field("entry ")
            .and_then(|e| hex::decode(&e).ok())
            .ok_or(ReceiptError::Malformed("bad entry"))?;
        let receipt = Receipt::parse(proof)?;
        let r = BallotReceipt {
            election_id,
            board_key,
            entry,
            receipt,
        };
        if TrackingCode::parse(&tracking) != Some(r.tracking_code()) {
            return Err(ReceiptError::Malformed(
                "the tracking code is not the entry's",
            ));
        }
        Ok(r)
    }

    /// Offline: the inclusion proof and the board's signature.
    pub fn verify_offline(&self) -> Result<Checkpoint, ReceiptError> {
        Ok(self
            .receipt
            .verify(&self.entry, &self.election_id, &self.board_key)?)
    }

    /// Against the board's current (verified, replayed) log: the log extends the receipt's
    /// checkpoint, the ballot is at its index, and what became of it.
    pub fn check(
        &self,
        s: &Synced,
        consistency: impl FnOnce(&Checkpoint, &Checkpoint) -> Result<(), String>,
    ) -> Result<Standing, ReceiptError> {
        if s.key != self.board_key {
            return Err(ReceiptError::OtherBoard(hex::encode(s.key.as_bytes())));
        }
        let cp = self.verify_offline()?;
        consistency(&cp, &s.log.checkpoint).map_err(ReceiptError::Inconsistent)?;
        let at = s.log.entries.get(self.receipt.index as usize);
        self.standing(at.map(Vec::as_slice), &s.election)
    }

    /// Against the board's log checked under the witness policy ([`Checked`]): the log extends
    /// the receipt's checkpoint and holds the ballot at its index; the board shows the newest
    /// checkpoint the witnesses cosigned; and what became of the ballot, decided on the newest
    /// checkpoint their quorum covers.
    pub fn judge(&self, c: &Checked) -> Result<Verdict, ReceiptError> {
        let s = &c.synced;
        let latest = self.check(s, |a, b| prefix_of(&s.log.tree, b.size, a))?;
        let Some(view) = &c.witnessed else {
            return Ok(Verdict::Decided {
                standing: latest,
                covered: s.log.checkpoint.size,
                closed: closed(&s.election),
            });
        };
        if let Some((witnesses, board)) = view.withholding() {
            return Err(ReceiptError::Withholding { witnesses, board });
        }
        match &c.decided {
            Some(e) if self.receipt.index < e.size() => {
                let at = s.entries.get(self.receipt.index as usize);
                Ok(Verdict::Decided {
                    standing: self.standing(at.map(|x| x.bytes()), e)?,
                    covered: e.size(),
                    closed: closed(e),
                })
            }
            d => {
                let covered = d.as_ref().map_or(0, |e| e.size());
                Ok(if closed(&s.election) {
                    Verdict::NotCovered { covered }
                } else {
                    Verdict::Pending { covered }
                })
            }
        }
    }

    /// What became of the ballot, given the log's entry at the receipt's index and the state
    /// the election rules derived from that log.
    pub fn standing(
        &self,
        at_index: Option<&[u8]>,
        e: &Election,
    ) -> Result<Standing, ReceiptError> {
        let i = self.receipt.index;
        if at_index != Some(&self.entry[..]) {
            return Err(ReceiptError::Missing(i));
        }
        e.ballots()
            .iter()
            .find(|b| b.index == i)
            .map(|b| b.status)
            .ok_or(ReceiptError::Missing(i))
    }
}
