//! A voter's saved receipt: its format, its offline check, and what became of its ballot in a
//! replayed log (the voter's client judges it against a board; the verifier against a record).
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
use urna_crypto::hex;
use urna_crypto::sign::VerifyingKey;
use urna_election::entry::TrackingCode;
use urna_election::state::{BallotStatus, Election};

use crate::note::{Checkpoint, NoteError, Receipt};

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
        TrackingCode(crate::merkle::leaf_hash(&self.entry))
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
