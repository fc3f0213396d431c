//! The canonical binary form of a manifest (`specs/election.md` §2.3): what a `Setup` entry
//! carries, and what the manifest hash — bound by every proof through the election context —
//! is computed over. Decoding is strict; [`Manifest::decode_unvalidated`] parses without the
//! rules so the state machine can name the rule a manifest breaks.

use sha2::{Digest, Sha256};
use urna_crypto::codec::{Decode, Encode, Reader, Writer};
use urna_crypto::errors::DecodeError;
use urna_crypto::group::Point;
use urna_crypto::sign::VerifyingKey;

use super::{
    BallotStyle, Contest, ContestKind, ContestOption, Manifest, RevotePolicy, Trustee, Witness,
    MAX_TRUSTEES,
};

impl Manifest {
    /// `SHA-256("urna-v1 manifest" ‖ canonical bytes)`.
    pub fn hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"urna-v1 manifest");
        h.update(self.to_bytes());
        h.finalize().into()
    }
}

const MANIFEST_MAGIC: &[u8; 8] = b"urna-m01";

fn put_bool(out: &mut Vec<u8>, b: bool) {
    out.put_u8(u8::from(b));
}

fn get_bool(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::Invalid("boolean must be 0 or 1")),
    }
}

fn put_str8(out: &mut Vec<u8>, s: &str) {
    // Lengths are bounded by validation; an over-long string cannot reach here.
    let b = &s.as_bytes()[..s.len().min(255)];
    out.put_u8(b.len() as u8);
    out.extend_from_slice(b);
}

fn put_str16(out: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    out.put_u16(b.len() as u16);
    out.extend_from_slice(b);
}

fn get_str8(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    String::from_utf8(r.bytes_u8()?.to_vec()).map_err(|_| DecodeError::InvalidUtf8)
}

fn get_opt_str8(r: &mut Reader<'_>) -> Result<Option<String>, DecodeError> {
    let s = get_str8(r)?;
    Ok((!s.is_empty()).then_some(s))
}

impl Encode for Manifest {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(MANIFEST_MAGIC);
        put_str8(out, &self.election_id);
        put_str16(out, &self.title);
        self.authority_key.encode(out);
        self.registrar_key.encode(out);
        self.board_key.encode(out);
        out.put_u16(self.trustees.len() as u16);
        for t in &self.trustees {
            put_str8(out, &t.name);
            t.signing_key.encode(out);
            t.ceremony_key.encode(out);
        }
        out.put_u16(self.threshold);
        out.put_u8(self.revote.tag());
        out.put_u16(self.contests.len() as u16);
        for c in &self.contests {
            put_str8(out, &c.id);
            put_str16(out, &c.title);
            match c.kind {
                ContestKind::Plurality { exactly } => {
                    out.put_u8(1);
                    put_bool(out, exactly);
                }
                ContestKind::Approval { min, max } => {
                    out.put_u8(2);
                    out.put_u16(min);
                    out.put_u16(max);
                }
                ContestKind::Score { max, budget } => {
                    out.put_u8(3);
                    out.put_u16(max);
                    out.put_u32(budget.unwrap_or(0));
                }
                ContestKind::Referendum { blank } => {
                    out.put_u8(4);
                    put_bool(out, blank);
                }
            }
            out.put_u8(c.options.len() as u8);
            for o in &c.options {
                put_str8(out, &o.id);
                put_str16(out, &o.name);
            }
        }
        out.put_u16(self.ballot_styles.len() as u16);
        for s in &self.ballot_styles {
            put_str8(out, &s.id);
            out.put_u16(s.contests.len() as u16);
            s.contests.iter().for_each(|i| out.put_u16(*i));
        }
        put_str8(out, self.opens.as_deref().unwrap_or(""));
        put_str8(out, self.closes.as_deref().unwrap_or(""));
        // Validation bounds the count by MAX_WITNESSES, so it fits a u8.
        out.put_u8(self.witnesses.len() as u8);
        for w in &self.witnesses {
            put_str8(out, &w.name);
            w.key.encode(out);
            put_str8(out, &w.url);
        }
        out.put_u16(self.witness_quorum);
    }
}

impl Decode for Manifest {
    /// Decodes and validates; a manifest that decodes is a valid manifest.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let m = Manifest::decode_unvalidated(r)?;
        m.validate()
            .map_err(|_| DecodeError::Invalid("manifest fails validation"))?;
        Ok(m)
    }
}

impl Manifest {
    /// Decodes the canonical form *without* the semantic checks of [`Manifest::validate`]
    /// (the bytes are still strictly parsed). For the state machine, which reports a
    /// well-formed but invalid manifest with its precise reason; call `validate` next.
    pub fn decode_unvalidated(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if &r.array::<8>()? != MANIFEST_MAGIC {
            return Err(DecodeError::Invalid("not a urna v1 manifest"));
        }
        let election_id = get_str8(r)?;
        let title = r.string_u16()?;
        let authority_key = VerifyingKey::decode(r)?;
        let registrar_key = VerifyingKey::decode(r)?;
        let board_key = VerifyingKey::decode(r)?;
        let n = r.u16()? as usize;
        let mut trustees = Vec::with_capacity(n.min(MAX_TRUSTEES));
        for _ in 0..n {
            trustees.push(Trustee {
                name: get_str8(r)?,
                signing_key: VerifyingKey::decode(r)?,
                ceremony_key: Point::decode(r)?,
            });
        }
        let threshold = r.u16()?;
        let revote = match r.u8()? {
            1 => RevotePolicy::LatestCounts,
            2 => RevotePolicy::Forbidden,
            t => {
                return Err(DecodeError::UnknownTag {
                    what: "revote policy",
                    tag: t.into(),
                })
            }
        };
        let nc = r.u16()? as usize;
        let mut contests = Vec::new();
        for _ in 0..nc {
            let id = get_str8(r)?;
            let title = r.string_u16()?;
            let kind = match r.u8()? {
                1 => ContestKind::Plurality {
                    exactly: get_bool(r)?,
                },
                2 => ContestKind::Approval {
                    min: r.u16()?,
                    max: r.u16()?,
                },
                3 => {
                    let max = r.u16()?;
                    let budget = r.u32()?;
                    ContestKind::Score {
                        max,
                        budget: (budget != 0).then_some(budget),
                    }
                }
                4 => ContestKind::Referendum {
                    blank: get_bool(r)?,
                },
                t => {
                    return Err(DecodeError::UnknownTag {
                        what: "contest kind",
                        tag: t.into(),
                    })
                }
            };
            let no = r.u8()? as usize;
            let mut options = Vec::with_capacity(no);
            for _ in 0..no {
                options.push(ContestOption {
                    id: get_str8(r)?,
                    name: r.string_u16()?,
                });
            }
            contests.push(Contest {
                id,
                title,
                kind,
                options,
            });
        }
        let ns = r.u16()? as usize;
        let mut ballot_styles = Vec::new();
        for _ in 0..ns {
            let id = get_str8(r)?;
            let k = r.u16()? as usize;
            let mut cs = Vec::with_capacity(k.min(r.remaining()));
            for _ in 0..k {
                cs.push(r.u16()?);
            }
            ballot_styles.push(BallotStyle { id, contests: cs });
        }
        let opens = get_opt_str8(r)?;
        let closes = get_opt_str8(r)?;
        let nw = r.u8()? as usize;
        let mut witnesses = Vec::with_capacity(nw);
        for _ in 0..nw {
            witnesses.push(Witness {
                name: get_str8(r)?,
                key: VerifyingKey::decode(r)?,
                url: get_str8(r)?,
            });
        }
        let witness_quorum = r.u16()?;
        Ok(Manifest {
            election_id,
            title,
            authority_key,
            registrar_key,
            board_key,
            trustees,
            threshold,
            revote,
            contests,
            ballot_styles,
            opens,
            closes,
            witnesses,
            witness_quorum,
        })
    }
}
