//! The payload of each entry kind, canonically encoded (`specs/election.md` §4).
//!
//! Decoding is strict and knows only bytes and types — never the state: a trustee index, a
//! weight or a count decodes whatever its value, and the state machine judges it (§4.1 says
//! field by field where `malformed` ends and a rule's code begins). Points and keys are decoded
//! to their validated types here, which is why the state machine decodes a payload only once
//! the envelope has shown the entry could be admissible.

use serde::Serialize;
use urna_crypto::codec::{Decode, Encode, Reader, Writer};
use urna_crypto::errors::DecodeError;
use urna_crypto::group::Point;
use urna_crypto::share_enc::{DecryptionReveal, EncryptedShare};
use urna_crypto::sigma::{ChaumPedersenProof, SchnorrProof};
use urna_crypto::sign::VerifyingKey;
use urna_crypto::Scalar;

use crate::ballot::Ballot;
use crate::entry::EntryKind;
use crate::manifest::Manifest;

/// A trustee's Feldman commitments `C_k = a_k·G` (k = 0..t−1) with a Schnorr proof of
/// knowledge of each coefficient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkgCommitment {
    pub dealer: u16,
    pub commitments: Vec<Point>,
    pub proofs: Vec<SchnorrProof>,
}

/// A dealer's shares, each encrypted to its recipient's ceremony key, for every other trustee
/// in increasing index order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkgShares {
    pub dealer: u16,
    pub shares: Vec<(u16, EncryptedShare)>,
}

/// A recipient's complaint against a dealer's share, carrying the public proof of what it
/// decrypted, so that anyone can decide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkgComplaint {
    pub complainer: u16,
    pub dealer: u16,
    pub reveal: DecryptionReveal,
}

/// A trustee's statement that every share it received verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkgConfirm {
    pub trustee: u16,
}

/// One voter on the roll: a credential public key, a weight and a ballot style.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollEntry {
    pub credential: VerifyingKey,
    pub weight: u32,
    pub style: u16,
}

/// A batch of the voter roll, numbered from 0 in ledger order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoterRoll {
    pub batch: u32,
    pub voters: Vec<RollEntry>,
}

/// A Benaloh-challenged ballot: the ballot, and for each contest and option the value it claims
/// and the nonce that opens it. Never counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengedBallot {
    pub ballot: Ballot,
    pub openings: Vec<Vec<(u16, Scalar)>>,
}

/// A trustee's partial decryption of every tally ciphertext, in manifest order (contest, then
/// option), each with a Chaum–Pedersen proof against the trustee's verification key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptionShare {
    pub trustee: u16,
    pub shares: Vec<(Point, ChaumPedersenProof)>,
}

/// The decrypted totals, in manifest order (contest, then option).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElectionResult {
    pub counts: Vec<Vec<u64>>,
}

/// A decoded payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Setup(Box<Manifest>),
    DkgCommitment(DkgCommitment),
    DkgShares(DkgShares),
    DkgComplaint(Box<DkgComplaint>),
    DkgConfirm(DkgConfirm),
    VoterRoll(VoterRoll),
    OpenVoting,
    Ballot(Box<Ballot>),
    ChallengedBallot(Box<ChallengedBallot>),
    CloseVoting,
    DecryptionShare(DecryptionShare),
    Result(ElectionResult),
}

impl Payload {
    pub fn kind(&self) -> EntryKind {
        match self {
            Payload::Setup(_) => EntryKind::Setup,
            Payload::DkgCommitment(_) => EntryKind::DkgCommitment,
            Payload::DkgShares(_) => EntryKind::DkgShares,
            Payload::DkgComplaint(_) => EntryKind::DkgComplaint,
            Payload::DkgConfirm(_) => EntryKind::DkgConfirm,
            Payload::VoterRoll(_) => EntryKind::VoterRoll,
            Payload::OpenVoting => EntryKind::OpenVoting,
            Payload::Ballot(_) => EntryKind::Ballot,
            Payload::ChallengedBallot(_) => EntryKind::ChallengedBallot,
            Payload::CloseVoting => EntryKind::CloseVoting,
            Payload::DecryptionShare(_) => EntryKind::DecryptionShare,
            Payload::Result(_) => EntryKind::Result,
        }
    }

    /// Strictly decodes the payload of an entry of kind `kind`, rejecting trailing bytes.
    pub fn decode(kind: EntryKind, bytes: &[u8]) -> Result<Payload, DecodeError> {
        let mut r = Reader::new(bytes);
        let p = match kind {
            EntryKind::Setup => Payload::Setup(Box::new(Manifest::decode_unvalidated(&mut r)?)),
            EntryKind::DkgCommitment => {
                let dealer = r.u16()?;
                let commitments = r.vec_u16::<Point>()?;
                let proofs = r.vec_of::<SchnorrProof>(commitments.len())?;
                Payload::DkgCommitment(DkgCommitment {
                    dealer,
                    commitments,
                    proofs,
                })
            }
            EntryKind::DkgShares => {
                let dealer = r.u16()?;
                let n = r.u16()? as usize;
                let mut shares = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    shares.push((r.u16()?, EncryptedShare::decode(&mut r)?));
                }
                Payload::DkgShares(DkgShares { dealer, shares })
            }
            EntryKind::DkgComplaint => Payload::DkgComplaint(Box::new(DkgComplaint {
                complainer: r.u16()?,
                dealer: r.u16()?,
                reveal: DecryptionReveal::decode(&mut r)?,
            })),
            EntryKind::DkgConfirm => Payload::DkgConfirm(DkgConfirm { trustee: r.u16()? }),
            EntryKind::VoterRoll => {
                let batch = r.u32()?;
                let n = r.u32()? as usize;
                let mut voters = Vec::with_capacity(n.min(r.remaining() / 38));
                for _ in 0..n {
                    voters.push(RollEntry {
                        credential: VerifyingKey::decode(&mut r)?,
                        weight: r.u32()?,
                        style: r.u16()?,
                    });
                }
                Payload::VoterRoll(VoterRoll { batch, voters })
            }
            EntryKind::OpenVoting => Payload::OpenVoting,
            EntryKind::Ballot => Payload::Ballot(Box::new(Ballot::decode(&mut r)?)),
            EntryKind::ChallengedBallot => {
                let ballot = Ballot::decode(&mut r)?;
                let mut openings = Vec::with_capacity(ballot.contests.len());
                for c in &ballot.contests {
                    let mut op = Vec::with_capacity(c.selections.len());
                    for _ in 0..c.selections.len() {
                        op.push((r.u16()?, Scalar::decode(&mut r)?));
                    }
                    openings.push(op);
                }
                Payload::ChallengedBallot(Box::new(ChallengedBallot { ballot, openings }))
            }
            EntryKind::CloseVoting => Payload::CloseVoting,
            EntryKind::DecryptionShare => {
                let trustee = r.u16()?;
                let n = r.u16()? as usize;
                let mut shares = Vec::with_capacity(n.min(r.remaining() / 128));
                for _ in 0..n {
                    shares.push((Point::decode(&mut r)?, ChaumPedersenProof::decode(&mut r)?));
                }
                Payload::DecryptionShare(DecryptionShare { trustee, shares })
            }
            EntryKind::Result => {
                let nc = r.u16()? as usize;
                let mut counts = Vec::with_capacity(nc.min(r.remaining()));
                for _ in 0..nc {
                    let no = r.u8()? as usize;
                    let mut c = Vec::with_capacity(no);
                    for _ in 0..no {
                        c.push(r.u64()?);
                    }
                    counts.push(c);
                }
                Payload::Result(ElectionResult { counts })
            }
        };
        r.finish()?;
        Ok(p)
    }
}

impl Encode for Payload {
    fn encode(&self, out: &mut Vec<u8>) {
        // Counts below are bounded by the manifest limits (≤ 64 trustees, ≤ 254 options,
        // ≤ 65,535 contests) and by the 65,535-byte entry limit, checked when the entry is built.
        match self {
            Payload::Setup(m) => m.encode(out),
            Payload::DkgCommitment(c) => {
                out.put_u16(c.dealer);
                out.put_u16(c.commitments.len() as u16);
                c.commitments.iter().for_each(|p| p.encode(out));
                c.proofs.iter().for_each(|p| p.encode(out));
            }
            Payload::DkgShares(s) => {
                out.put_u16(s.dealer);
                out.put_u16(s.shares.len() as u16);
                for (to, share) in &s.shares {
                    out.put_u16(*to);
                    share.encode(out);
                }
            }
            Payload::DkgComplaint(c) => {
                out.put_u16(c.complainer);
                out.put_u16(c.dealer);
                c.reveal.encode(out);
            }
            Payload::DkgConfirm(c) => out.put_u16(c.trustee),
            Payload::VoterRoll(v) => {
                out.put_u32(v.batch);
                out.put_u32(v.voters.len() as u32);
                for e in &v.voters {
                    e.credential.encode(out);
                    out.put_u32(e.weight);
                    out.put_u16(e.style);
                }
            }
            Payload::OpenVoting | Payload::CloseVoting => {}
            Payload::Ballot(b) => b.encode(out),
            Payload::ChallengedBallot(c) => {
                c.ballot.encode(out);
                for op in &c.openings {
                    for (v, r) in op {
                        out.put_u16(*v);
                        r.encode(out);
                    }
                }
            }
            Payload::DecryptionShare(d) => {
                out.put_u16(d.trustee);
                out.put_u16(d.shares.len() as u16);
                for (p, proof) in &d.shares {
                    p.encode(out);
                    proof.encode(out);
                }
            }
            Payload::Result(res) => {
                out.put_u16(res.counts.len() as u16);
                for c in &res.counts {
                    out.put_u8(c.len() as u8);
                    c.iter().for_each(|v| out.put_u64(*v));
                }
            }
        }
    }
}
