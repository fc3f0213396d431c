//! A voter's light view of the board (`specs/board.md` §5.2, `GET /voter/{credential}`): the
//! election's own entries (manifest, ceremony, opening and closing of the poll) and the entries
//! naming one credential (its roll entry, its ballots), each with an RFC 9162 inclusion proof
//! to the board's signed checkpoint. What it costs does not grow with the number of ballots.
//!
//! Everything served is checked here: the checkpoint's signature, every inclusion proof, every
//! entry's signature and author, and the ceremony through the election rules (the joint key is
//! the rules' own). Other voters' ballots are not looked at: only a credential's holder can
//! sign its ballots, so the board can neither forge nor hide from this view a ballot of the
//! credential that the holder did not make; that the log as a whole follows the rules is what
//! the validating nodes and witnesses check before they cosign.

use serde::Deserialize;
use thiserror::Error;
use urna_crypto::hex;
use urna_crypto::sign::VerifyingKey;
use urna_election::context::ElectionContext;
use urna_election::entry::{Entry, EntryKind};
use urna_election::manifest::Manifest;
use urna_election::payload::Payload;
use urna_election::rejection::Rejection;
use urna_election::state::{BallotStatus, Election, Phase};
use urna_ledger::merkle::{self, Hash};
use urna_ledger::note::Checkpoint;

use crate::{BoardClient, ClientError, WitnessView};

/// Why a voter's view the board served does not check out: each names the entry at fault.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ViewError {
    #[error("the view is not the JSON of specs/board.md: {0}")]
    Malformed(String),
    #[error("the view claims {claimed} entries but its checkpoint covers {signed}")]
    WrongSize { claimed: u64, signed: u64 },
    #[error("entry {index} is not below the checkpoint's size {size}")]
    PastCheckpoint { index: u64, size: u64 },
    #[error("entry {index} is out of log order in the view")]
    OutOfOrder { index: u64 },
    #[error("entry {index}'s inclusion proof does not verify against the signed root: {why}")]
    Inclusion { index: u64, why: String },
    #[error("entry {index} does not decode: {why}")]
    Undecodable { index: u64, why: String },
    #[error("entry {index} ({kind}) is not one every voter is given")]
    NotForEveryVoter { index: u64, kind: EntryKind },
    #[error("the view has no Setup entry first")]
    NoSetup,
    #[error("the manifest names another board ({what})")]
    OtherBoard { what: &'static str },
    #[error("entry {index} is for another election")]
    OtherElection { index: u64 },
    #[error("entry {index} ({kind}) is refused by the election rules: {rejection}")]
    Refused {
        index: u64,
        kind: EntryKind,
        rejection: Rejection,
    },
    #[error("entry {index} ({kind}) is not signed by {expected}")]
    Unauthorised {
        index: u64,
        kind: EntryKind,
        expected: &'static str,
    },
    #[error("entry {index} ({kind}) is not in the phase the log is in at that point ({phase})")]
    WrongPhase {
        index: u64,
        kind: EntryKind,
        phase: Phase,
    },
    #[error("entry {index} ({kind}) does not name this credential")]
    OtherCredential { index: u64, kind: EntryKind },
}

impl ViewError {
    /// The stable code (`specs/board.md` §5.2).
    pub fn code(&self) -> &'static str {
        match self {
            ViewError::Malformed(_) => "malformed",
            ViewError::WrongSize { .. } => "wrong-size",
            ViewError::PastCheckpoint { .. } => "past-checkpoint",
            ViewError::OutOfOrder { .. } => "out-of-order",
            ViewError::Inclusion { .. } => "inclusion",
            ViewError::Undecodable { .. } => "undecodable",
            ViewError::NotForEveryVoter { .. } => "not-for-every-voter",
            ViewError::NoSetup => "no-setup",
            ViewError::OtherBoard { .. } => "other-board",
            ViewError::OtherElection { .. } => "other-election",
            ViewError::Refused { .. } => "refused",
            ViewError::Unauthorised { .. } => "unauthorised",
            ViewError::WrongPhase { .. } => "wrong-phase",
            ViewError::OtherCredential { .. } => "other-credential",
        }
    }
}

#[derive(Deserialize)]
struct Wire {
    checkpoint: String,
    size: u64,
    election: Vec<WireEntry>,
    credential: Vec<WireEntry>,
    omitted: u64,
}

#[derive(Deserialize)]
struct WireEntry {
    index: u64,
    entry: String,
    proof: Vec<String>,
}

/// One of the credential's own ballots on the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnBallot {
    pub index: u64,
    pub kind: EntryKind,
    pub entry: Vec<u8>,
}

/// The election as a voter verified it from the board without replaying other voters' ballots.
#[derive(Clone)]
pub struct VoterView {
    pub origin: String,
    pub key: VerifyingKey,
    pub checkpoint: Checkpoint,
    /// The signed note the checkpoint was read from.
    pub note: String,
    /// The rules' state after the manifest and the ceremony entries only (no roll, no ballot).
    ceremony: Election,
    phase: Phase,
    /// The credential's weight and ballot style, and its roll entry's index.
    voter: Option<(u32, u16, u64)>,
    ballots: Vec<OwnBallot>,
    /// Where the poll opened and closed on the log, if it did.
    opened: Option<u64>,
    closed: Option<u64>,
    /// How many of the credential's earliest ballots the board left out (it serves at most a
    /// bounded number).
    pub omitted: u64,
}

impl VoterView {
    pub fn manifest(&self) -> Option<&std::sync::Arc<Manifest>> {
        self.ceremony.manifest()
    }

    /// The joint key and verification keys the ceremony fixed, once it completed.
    pub fn context(&self) -> Option<&ElectionContext> {
        self.ceremony.context()
    }

    /// The phase the election's entries put the log in at the checkpoint.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The credential's weight and ballot style on the roll.
    pub fn voter(&self) -> Option<(u32, u16)> {
        self.voter.map(|(w, s, _)| (w, s))
    }

    /// The credential's ballots and challenged ballots, in log order.
    pub fn ballots(&self) -> &[OwnBallot] {
        &self.ballots
    }

    /// What the rules made of the credential's entry at `index`: the last `Ballot` is counted,
    /// an earlier one superseded by the next, a `ChallengedBallot` never counted. `None` if the
    /// view holds no ballot of the credential at `index`.
    pub fn standing(&self, index: u64) -> Option<BallotStatus> {
        self.standing_within(index, u64::MAX)
    }

    /// The index of the authority's `CloseVoting` entry, once voting has closed.
    pub fn closed_at(&self) -> Option<u64> {
        self.closed
    }

    /// The index of the authority's `OpenVoting` entry, once voting has opened.
    pub fn opened_at(&self) -> Option<u64> {
        self.opened
    }

    /// What the rules made of the credential's entry at `index` on the log's first `size`
    /// entries (a prefix of the view's, e.g. the one the witness quorum covers): as
    /// [`VoterView::standing`], counting only the ballots below `size`.
    pub fn standing_within(&self, index: u64, size: u64) -> Option<BallotStatus> {
        if index >= size {
            return None;
        }
        let b = self.ballots.iter().find(|b| b.index == index)?;
        if b.kind == EntryKind::ChallengedBallot {
            return Some(BallotStatus::Challenged);
        }
        Some(
            match self
                .ballots
                .iter()
                .find(|l| l.index > index && l.index < size && l.kind == EntryKind::Ballot)
            {
                Some(later) => BallotStatus::Superseded { by: later.index },
                None => BallotStatus::Counted,
            },
        )
    }

    /// The index of the credential's counted ballot, if it has one.
    pub fn counted_ballot(&self) -> Option<u64> {
        self.ballots
            .iter()
            .rev()
            .find(|b| b.kind == EntryKind::Ballot)
            .map(|b| b.index)
    }
}

/// Checks the inclusion proofs of a list and decodes its entries, in strictly increasing order.
fn included(
    list: &[WireEntry],
    cp: &Checkpoint,
    after: &mut Option<u64>,
) -> Result<Vec<(u64, Entry)>, ViewError> {
    list.iter()
        .map(|w| {
            let index = w.index;
            if index >= cp.size {
                return Err(ViewError::PastCheckpoint {
                    index,
                    size: cp.size,
                });
            }
            if after.is_some_and(|a| index <= a) {
                return Err(ViewError::OutOfOrder { index });
            }
            *after = Some(index);
            let raw = hex::decode(&w.entry).map_err(|e| ViewError::Malformed(e.to_string()))?;
            // A proof has at most one hash per level of a 64-level tree.
            if w.proof.len() > 64 {
                return Err(ViewError::Inclusion {
                    index,
                    why: "the proof is too long".into(),
                });
            }
            let proof = w
                .proof
                .iter()
                .map(|h| hex::decode_array::<32>(h))
                .collect::<Result<Vec<Hash>, _>>()
                .map_err(|e| ViewError::Malformed(e.to_string()))?;
            merkle::verify_inclusion(&merkle::leaf_hash(&raw), index, cp.size, &proof, &cp.root)
                .map_err(|e| ViewError::Inclusion {
                    index,
                    why: e.to_string(),
                })?;
            let entry = Entry::decode(raw).map_err(|e| ViewError::Undecodable {
                index,
                why: e.to_string(),
            })?;
            Ok((index, entry))
        })
        .collect()
}

fn signed_by(
    index: u64,
    e: &Entry,
    key: &VerifyingKey,
    expected: &'static str,
) -> Result<(), ViewError> {
    if e.author() != key || e.verify_signature().is_err() {
        return Err(ViewError::Unauthorised {
            index,
            kind: e.kind(),
            expected,
        });
    }
    Ok(())
}

/// Checks a view of the board of `origin` signed by `key` for `credential`.
fn check(
    wire: Wire,
    origin: &str,
    key: &VerifyingKey,
    credential: &VerifyingKey,
) -> Result<VoterView, ClientError> {
    let cp = Checkpoint::open(&wire.checkpoint, origin, key)?;
    if wire.size != cp.size {
        return Err(ViewError::WrongSize {
            claimed: wire.size,
            signed: cp.size,
        }
        .into());
    }
    let election = included(&wire.election, &cp, &mut None)?;
    let mine = included(&wire.credential, &cp, &mut None)?;
    // The rules check it of the entries they see; the poll's and the credential's entries are
    // judged here, and each signature covers its election id.
    if let Some((index, _)) = election
        .iter()
        .chain(&mine)
        .find(|(_, e)| e.election_id() != origin)
    {
        return Err(ViewError::OtherElection { index: *index }.into());
    }
    // The manifest and the ceremony through the rules themselves: the joint key is theirs.
    let mut ceremony = Election::new();
    let mut phase = Phase::AwaitingSetup;
    // Where the poll opened and closed, to place the credential's entries.
    let (mut opened, mut closed) = (None, None);
    for (index, e) in &election {
        let (index, kind) = (*index, e.kind());
        if !kind.for_every_voter() {
            return Err(ViewError::NotForEveryVoter { index, kind }.into());
        }
        if phase == Phase::AwaitingSetup && kind != EntryKind::Setup {
            return Err(ViewError::NoSetup.into());
        }
        match kind {
            EntryKind::OpenVoting | EntryKind::CloseVoting => {
                let m = ceremony.manifest().ok_or(ViewError::NoSetup)?;
                signed_by(index, e, &m.authority_key, "the election authority")?;
                let (from, to) = match kind {
                    EntryKind::OpenVoting => (Phase::Registration, Phase::Voting),
                    _ => (Phase::Voting, Phase::Tallying),
                };
                if phase != from {
                    return Err(ViewError::WrongPhase { index, kind, phase }.into());
                }
                phase = to;
                match kind {
                    EntryKind::OpenVoting => opened = Some(index),
                    _ => closed = Some(index),
                }
            }
            _ => {
                // The rules refuse a ceremony entry once the ceremony is over; they do not
                // know of the poll's entries, which this view keeps out of them.
                if matches!(phase, Phase::Voting | Phase::Tallying) {
                    return Err(ViewError::WrongPhase { index, kind, phase }.into());
                }
                ceremony.apply(e).map_err(|rejection| ViewError::Refused {
                    index,
                    kind,
                    rejection,
                })?;
                phase = ceremony.phase();
            }
        }
    }
    let m = ceremony.manifest().ok_or(ViewError::NoSetup)?.clone();
    if m.election_id != origin {
        return Err(ViewError::OtherBoard {
            what: "election id",
        }
        .into());
    }
    if m.board_key != *key {
        return Err(ViewError::OtherBoard { what: "board key" }.into());
    }
    let mut voter = None;
    let mut ballots = Vec::new();
    for (index, e) in mine {
        let kind = e.kind();
        match kind {
            EntryKind::VoterRoll if voter.is_none() && ballots.is_empty() => {
                signed_by(index, &e, &m.registrar_key, "the registrar")?;
                if opened.is_some_and(|o| index > o) {
                    return Err(ViewError::WrongPhase { index, kind, phase }.into());
                }
                let Ok(Payload::VoterRoll(r)) = Payload::decode(kind, e.payload()) else {
                    return Err(ViewError::Undecodable {
                        index,
                        why: "not a voter roll".into(),
                    }
                    .into());
                };
                let v = r
                    .voters
                    .iter()
                    .find(|v| v.credential == *credential)
                    .ok_or(ViewError::OtherCredential { index, kind })?;
                voter = Some((v.weight, v.style, index));
            }
            EntryKind::Ballot | EntryKind::ChallengedBallot if voter.is_some() => {
                if e.author() != credential {
                    return Err(ViewError::OtherCredential { index, kind }.into());
                }
                signed_by(index, &e, credential, "this credential")?;
                let in_poll =
                    opened.is_some_and(|o| index > o) && !closed.is_some_and(|c| index > c);
                if !in_poll {
                    return Err(ViewError::WrongPhase { index, kind, phase }.into());
                }
                ballots.push(OwnBallot {
                    index,
                    kind,
                    entry: e.into_bytes(),
                });
            }
            _ => return Err(ViewError::OtherCredential { index, kind }.into()),
        }
    }
    Ok(VoterView {
        origin: origin.to_string(),
        key: *key,
        checkpoint: cp,
        note: wire.checkpoint,
        ceremony,
        phase,
        voter,
        ballots,
        opened,
        closed,
        omitted: wire.omitted,
    })
}

impl From<ViewError> for ClientError {
    fn from(e: ViewError) -> ClientError {
        ClientError::View(e)
    }
}

impl BoardClient {
    /// The voter's light view of the board for `credential`, checked in full (module doc).
    /// The board's key is `expected` if given, else the key it states, which the manifest must
    /// name. With `since` (a checkpoint this client saw before), the view's checkpoint must
    /// extend it (an RFC 9162 consistency proof).
    pub fn voter_view(
        &self,
        credential: &VerifyingKey,
        expected: Option<&VerifyingKey>,
        since: Option<&Checkpoint>,
    ) -> Result<VoterView, ClientError> {
        let (origin, key) = self.board_identity(expected)?;
        let body = self.get(&format!("/voter/{}", hex::encode(credential.as_bytes())))?;
        let wire: Wire = serde_json::from_slice(&body)
            .map_err(|e| ClientError::View(ViewError::Malformed(e.to_string())))?;
        let view = check(wire, &origin, &key, credential)?;
        if let Some(old) = since {
            self.check_consistency(old, &view.checkpoint)?;
        }
        Ok(view)
    }

    /// [`BoardClient::voter_view`] under the witness policy (`specs/board.md` §6.2) without
    /// the log: when the manifest (entry 0, read first) names witnesses, they are asked what
    /// they cosigned before the view is read; each answer, and the board's quorum-cosigned
    /// checkpoint, must be a prefix of the view's checkpoint, shown by an RFC 9162 consistency
    /// proof instead of the downloaded log's roots. The view's manifest must be the one read
    /// first. The [`WitnessView`] says which prefix the quorum covers (`None` without witnesses).
    pub fn voter_view_witnessed(
        &self,
        credential: &VerifyingKey,
        expected: Option<&VerifyingKey>,
        since: Option<&Checkpoint>,
    ) -> Result<(VoterView, Option<WitnessView>), ClientError> {
        let (origin, key) = self.board_identity(expected)?;
        let first = crate::manifest_of(&self.entry(0)?).ok_or_else(|| {
            ClientError::Misbehaved("entry 0 of the board's log is not a Setup entry".into())
        })?;
        let answers =
            (!first.witnesses.is_empty()).then(|| crate::ask_witnesses(&first, &origin, &key));
        let view = self.voter_view(credential, Some(&key), None)?;
        if view.manifest().map(|m| **m != first).unwrap_or(true) {
            return Err(ClientError::Misbehaved(
                "the board served two different first entries".into(),
            ));
        }
        let prefix = |cp: &Checkpoint| match self.check_consistency(cp, &view.checkpoint) {
            Ok(()) => Ok(true),
            Err(ClientError::Misbehaved(_)) => Ok(false),
            Err(e) => Err(e),
        };
        // The witnesses first: a fork they caught is reported with their evidence.
        let witnessed = match answers {
            Some(answers) => {
                let at = crate::Against {
                    size: view.checkpoint.size,
                    note: &view.note,
                    prefix: &prefix,
                };
                Some(self.witness_view(&at, &origin, &key, &first, answers)?)
            }
            None => None,
        };
        if let Some(old) = since {
            if old.size > view.checkpoint.size {
                return Err(ClientError::Misbehaved(format!(
                    "the board's checkpoint covers {} entries, fewer than the {} of the one checked before: it rolled back its log or hides its latest checkpoint",
                    view.checkpoint.size, old.size
                )));
            }
            if !prefix(old)? {
                return Err(ClientError::Misbehaved(format!(
                    "the checkpoint checked before (size {}) is not a prefix of the log the board serves: the board forked its log. Evidence, two checkpoints signed by the board that cannot both be true — the one checked before:\n{}and the one the board serves:\n{}",
                    old.size,
                    old.body(),
                    view.note.trim_end()
                )));
            }
        }
        Ok((view, witnessed))
    }
}
