//! The payload of each entry kind, canonically encoded (`specs/election.md` §4).
//!
//! Decoding is strict and knows only bytes and types — never the state: a trustee index, a
//! weight or a count decodes whatever its value, and the state machine judges it (§4.1 says
//! field by field where `malformed` ends and a rule's code begins). Points and keys are decoded
//! to their validated types here, which is why the state machine decodes a payload only once
//! the envelope has shown the entry could be admissible.

use serde::Serialize;
use urna_crypto::codec::{Decode, Encode, Reader, Writer};
use urna_crypto::elgamal::Ciphertext;
use urna_crypto::errors::DecodeError;
use urna_crypto::group::Point;
use urna_crypto::share_enc::{DecryptionReveal, EncryptedShare};
use urna_crypto::sigma::{ChaumPedersenProof, DleqBatchProof, SchnorrProof};
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

/// One row of a mixer's output with its share of the shuffle proof: output row `i`, and the
/// proof's `C_i`, `D_i` and `s'_i` (crypto §12.7), for the same `i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixRow {
    pub ciphertexts: Vec<Ciphertext>,
    pub c: Point,
    pub d: Point,
    pub s: Scalar,
}

/// Consecutive rows of a mixer's shuffle of a ranked contest's list, from row `first`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixRows {
    pub contest: u16,
    pub first: u32,
    /// Ciphertexts per row.
    pub width: u16,
    pub rows: Vec<MixRow>,
}

/// The fields of a shuffle proof that are not per row (crypto §12.7): the mixer's closing
/// entry, once all its rows are posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixProof {
    pub contest: u16,
    pub width: u16,
    pub a1: Point,
    pub a2: Point,
    pub a3: Point,
    pub a4: Vec<(Point, Point)>,
    pub b: Point,
    pub s1: Scalar,
    pub s2: Scalar,
    pub s3: Scalar,
    pub s4: Vec<Scalar>,
    pub s_hat: Scalar,
}

/// A trustee's partial decryptions of consecutive ciphertexts of a mixed list (row by row,
/// component by component), from flat index `first`, with one batched proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixDecryption {
    pub trustee: u16,
    pub contest: u16,
    pub first: u32,
    pub shares: Vec<Point>,
    pub proof: DleqBatchProof,
}

/// Consecutive bytes, from `offset`, of a ranked contest's count in its canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedCountBytes {
    pub contest: u16,
    pub offset: u32,
    pub bytes: Vec<u8>,
}

impl ElectionResult {
    /// The result's shape from the decrypted totals in tally order ([`Manifest::option_positions`]):
    /// one count per option of each contest in the homomorphic tally, none for a ranked contest
    /// (`specs/election.md` §6.6). `None` if `totals` is not one per position.
    pub fn from_tally(m: &Manifest, totals: &[u64]) -> Option<ElectionResult> {
        let mut counts = Vec::with_capacity(m.contests.len());
        let mut at = 0;
        for c in &m.contests {
            let n = if c.ranked().is_some() {
                0
            } else {
                c.options.len()
            };
            counts.push(totals.get(at..at + n)?.to_vec());
            at += n;
        }
        (at == totals.len()).then_some(ElectionResult { counts })
    }
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
    MixRows(MixRows),
    MixProof(Box<MixProof>),
    MixDecryption(Box<MixDecryption>),
    RankedCount(RankedCountBytes),
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
            Payload::MixRows(_) => EntryKind::MixRows,
            Payload::MixProof(_) => EntryKind::MixProof,
            Payload::MixDecryption(_) => EntryKind::MixDecryption,
            Payload::RankedCount(_) => EntryKind::RankedCount,
        }
    }

    /// Strictly decodes the payload of an entry of kind `kind`, rejecting trailing bytes.
    pub fn decode(kind: EntryKind, bytes: &[u8]) -> Result<Payload, DecodeError> {
        Payload::decode_from(kind, Reader::new(bytes))
    }

    /// [`Payload::decode`] of an entry whose signature and ballot proofs this party verified
    /// before and takes as valid ([`crate::state::Election::apply_batch_verified`]): a ballot's
    /// (or challenged ballot's) proofs keep their commitment points as encoded, not
    /// decompressed ([`Reader::trusting_proofs`]) — they are never verified — and every other
    /// field, and every other kind, decodes as strictly as ever.
    pub fn decode_verified(kind: EntryKind, bytes: &[u8]) -> Result<Payload, DecodeError> {
        let r = match kind {
            EntryKind::Ballot | EntryKind::ChallengedBallot => Reader::trusting_proofs(bytes),
            _ => Reader::new(bytes),
        };
        Payload::decode_from(kind, r)
    }

    fn decode_from(kind: EntryKind, mut r: Reader<'_>) -> Result<Payload, DecodeError> {
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
            EntryKind::MixRows => {
                let contest = r.u16()?;
                let first = r.u32()?;
                let width = r.u16()?;
                let n = r.u32()? as usize;
                let w = usize::from(width);
                need(&r, n, 64 * w + 96)?;
                let mut rows = Vec::with_capacity(n);
                for _ in 0..n {
                    rows.push(MixRow {
                        ciphertexts: r.vec_of::<Ciphertext>(w)?,
                        c: Point::decode(&mut r)?,
                        d: Point::decode(&mut r)?,
                        s: Scalar::decode(&mut r)?,
                    });
                }
                Payload::MixRows(MixRows {
                    contest,
                    first,
                    width,
                    rows,
                })
            }
            EntryKind::MixProof => {
                let contest = r.u16()?;
                let width = r.u16()?;
                let w = usize::from(width);
                need(&r, 1, 96 * w + 256)?;
                let (a1, a2, a3) = (
                    Point::decode(&mut r)?,
                    Point::decode(&mut r)?,
                    Point::decode(&mut r)?,
                );
                let mut a4 = Vec::with_capacity(w);
                for _ in 0..w {
                    a4.push((Point::decode(&mut r)?, Point::decode(&mut r)?));
                }
                let b = Point::decode(&mut r)?;
                let (s1, s2, s3) = (
                    Scalar::decode(&mut r)?,
                    Scalar::decode(&mut r)?,
                    Scalar::decode(&mut r)?,
                );
                let s4 = r.vec_of::<Scalar>(w)?;
                let s_hat = Scalar::decode(&mut r)?;
                Payload::MixProof(Box::new(MixProof {
                    contest,
                    width,
                    a1,
                    a2,
                    a3,
                    a4,
                    b,
                    s1,
                    s2,
                    s3,
                    s4,
                    s_hat,
                }))
            }
            EntryKind::MixDecryption => {
                let trustee = r.u16()?;
                let contest = r.u16()?;
                let first = r.u32()?;
                let n = r.u32()? as usize;
                need(&r, n, 32)?;
                let shares = r.vec_of::<Point>(n)?;
                let proof = DleqBatchProof::decode(&mut r)?;
                Payload::MixDecryption(Box::new(MixDecryption {
                    trustee,
                    contest,
                    first,
                    shares,
                    proof,
                }))
            }
            EntryKind::RankedCount => Payload::RankedCount(RankedCountBytes {
                contest: r.u16()?,
                offset: r.u32()?,
                bytes: r.bytes_u16()?.to_vec(),
            }),
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
            // Rows, shares and bytes per entry are bounded by the 65,535-byte entry limit.
            Payload::MixRows(m) => {
                out.put_u16(m.contest);
                out.put_u32(m.first);
                out.put_u16(m.width);
                out.put_u32(m.rows.len() as u32);
                for row in &m.rows {
                    row.ciphertexts.iter().for_each(|c| c.encode(out));
                    row.c.encode(out);
                    row.d.encode(out);
                    row.s.encode(out);
                }
            }
            Payload::MixProof(p) => {
                out.put_u16(p.contest);
                out.put_u16(p.width);
                p.closing_fields(out);
            }
            Payload::MixDecryption(d) => {
                out.put_u16(d.trustee);
                out.put_u16(d.contest);
                out.put_u32(d.first);
                out.put_u32(d.shares.len() as u32);
                d.shares.iter().for_each(|p| p.encode(out));
                d.proof.encode(out);
            }
            Payload::RankedCount(c) => {
                out.put_u16(c.contest);
                out.put_u32(c.offset);
                out.put_u16(c.bytes.len() as u16);
                out.extend_from_slice(&c.bytes);
            }
        }
    }
}

impl MixProof {
    /// `A1 ‖ A2 ‖ A3 ‖ (A4α_k ‖ A4β_k)[w] ‖ B ‖ s1 ‖ s2 ‖ s3 ‖ s4[w] ‖ ŝ`: the fields of a
    /// shuffle proof's encoding between `D_N` and `s'_1` (crypto §12.7).
    pub fn closing_fields(&self, out: &mut Vec<u8>) {
        for p in [&self.a1, &self.a2, &self.a3] {
            p.encode(out);
        }
        for (a, b) in &self.a4 {
            a.encode(out);
            b.encode(out);
        }
        self.b.encode(out);
        for s in [&self.s1, &self.s2, &self.s3] {
            s.encode(out);
        }
        self.s4.iter().for_each(|s| s.encode(out));
        self.s_hat.encode(out);
    }
}

/// Refuses, before allocating, a count of elements the remaining input cannot hold.
fn need(r: &Reader<'_>, count: usize, each: usize) -> Result<(), DecodeError> {
    let needed = count.saturating_mul(each);
    if needed > r.remaining() {
        return Err(DecodeError::Truncated {
            needed,
            remaining: r.remaining(),
        });
    }
    Ok(())
}
