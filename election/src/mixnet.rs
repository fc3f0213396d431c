//! What the parties of a ranked contest's tally post (`specs/election.md` §6.7), built from the
//! state the ledger gives them: a mixer's shuffle of the current list with its proof, cut into
//! `MixRows` entries and a closing `MixProof`; a trustee's partial decryptions of the mixed
//! list in `MixDecryption` entries; and the count in `RankedCount` entries. Each function
//! returns the entries in the order to post them, each filled up to the entry size limit; the
//! caller signs with its own key (the mixer's, the trustee's, anyone's for the count).
//!
//! These are the library calls the CLI, a trustee's tool and a mixer's tool make; the state
//! machine checks what they produce like anything else on the ledger.

use rand_core::{CryptoRng, RngCore};
use thiserror::Error;
use urna_crypto::codec::Encode;
use urna_crypto::errors::ParamError;
use urna_crypto::secret::SecretScalar;
use urna_crypto::shuffle::{self, Rows, ShuffleGenerators, ShuffleProof, ShuffleStatement};
use urna_crypto::sign::SigningKey;
use urna_crypto::threshold;

use crate::entry::{max_payload, Entry, EnvelopeError};
use crate::payload::{MixDecryption, MixProof, MixRow, MixRows, Payload, RankedCountBytes};
use crate::phase::Phase;
use crate::state::{Election, MixStatus};

/// Why a party cannot post (yet).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MixnetError {
    #[error(
        "the election is in phase {0}; ranked contests are mixed and counted after the polls close"
    )]
    Phase(Phase),
    #[error("contest #{0} is not a ranked contest")]
    NotRanked(u16),
    #[error("this key is not a mixer's, or it is not its turn to mix contest #{0}")]
    NotYourTurn(u16),
    #[error("contest #{0}: no counted ballot has it; there is nothing to mix or decrypt")]
    Empty(u16),
    #[error("contest #{0}: the list is not mixed by every mixer yet")]
    NotMixed(u16),
    #[error("contest #{0}: the list is already decrypted")]
    Decrypted(u16),
    #[error("contest #{0}: the list is not decrypted yet")]
    NotDecrypted(u16),
    #[error("trustee {0} is not a qualified trustee of this election")]
    NotTrustee(u16),
    #[error("{0}")]
    Crypto(#[from] ParamError),
    #[error("{0}")]
    Envelope(#[from] EnvelopeError),
}

fn status(e: &Election, contest: u16) -> Result<MixStatus, MixnetError> {
    if e.phase() != Phase::Tallying {
        return Err(MixnetError::Phase(e.phase()));
    }
    e.mix_status()
        .into_iter()
        .find(|s| s.contest == contest)
        .ok_or(MixnetError::NotRanked(contest))
}

fn sign(e: &Election, payload: &Payload, key: &SigningKey) -> Result<Entry, MixnetError> {
    let id = e.manifest().map_or("", |m| m.election_id.as_str());
    Ok(Entry::sign(id, payload.kind(), &payload.to_bytes(), key)?)
}

fn room(e: &Election) -> usize {
    max_payload(e.manifest().map_or("", |m| m.election_id.as_str()))
}

/// The mix of `contest` by the mixer holding `key`, whose turn it must be: its shuffle of the
/// current list (a fresh random permutation, every ciphertext re-encrypted) and the proof, as
/// `MixRows` entries from row 0 and a closing `MixProof`.
///
/// `vartime`: see [`ShuffleProof::prove_vartime`] — run a mixer where no untrusted code
/// shares its CPU.
pub fn mix_vartime<R: RngCore + CryptoRng>(
    e: &Election,
    contest: u16,
    key: &SigningKey,
    rng: &mut R,
) -> Result<Vec<Entry>, MixnetError> {
    let s = status(e, contest)?;
    let (Some(m), Some(ctx)) = (e.manifest(), e.context()) else {
        return Err(MixnetError::Phase(e.phase()));
    };
    let mine = m.mixer_index(&key.verifying_key());
    if s.rows == 0 {
        return Err(MixnetError::Empty(contest));
    }
    if mine != Some(s.mixes as u16 + 1) {
        return Err(MixnetError::NotYourTurn(contest));
    }
    let list = e.mix_list(contest).ok_or(MixnetError::NotRanked(contest))?;
    let (n, w) = (s.rows, s.width);
    let inputs = Rows::new(&list, w)?;
    let gens = ShuffleGenerators::derive(&ctx.mix_seed(contest), n)?;
    let (outputs, witness) = shuffle::shuffle(&ctx.joint_key, inputs, rng)?;
    let st = ShuffleStatement {
        pk: &ctx.joint_key,
        inputs,
        outputs: Rows::new(&outputs, w)?,
    };
    let position = s.mixes as u16 + 1;
    let proof = ShuffleProof::prove_vartime(
        &gens,
        &st,
        &witness,
        key.verifying_key().as_bytes(),
        &ctx.mix_ctx(contest, position),
        rng,
    )?;
    drop(witness);
    let (c, d) = proof.commitments();
    let responses = proof.responses();
    // u16 contest ‖ u32 first ‖ u16 width ‖ u32 count, then rows of 64w + 96 bytes.
    let per_entry = ((room(e) - 12) / (64 * w + 96)).max(1);
    let width = w as u16;
    let mut entries = Vec::with_capacity(n.div_ceil(per_entry) + 1);
    for first in (0..n).step_by(per_entry) {
        let end = (first + per_entry).min(n);
        let rows = (first..end)
            .map(|i| MixRow {
                ciphertexts: outputs[i * w..(i + 1) * w].to_vec(),
                c: c[i],
                d: d[i],
                s: responses[i],
            })
            .collect();
        let p = Payload::MixRows(MixRows {
            contest,
            // n < 2^32 rows.
            first: first as u32,
            width,
            rows,
        });
        entries.push(sign(e, &p, key)?);
    }
    let mut closing = Vec::new();
    proof.encode_closing(&mut closing);
    let p = Payload::MixProof(Box::new(closing_fields(contest, width, &closing)?));
    entries.push(sign(e, &p, key)?);
    Ok(entries)
}

/// The closing fields of a shuffle proof's encoding, as a `MixProof` payload.
fn closing_fields(contest: u16, width: u16, bytes: &[u8]) -> Result<MixProof, MixnetError> {
    use urna_crypto::codec::{Decode, Reader};
    use urna_crypto::group::Point;
    use urna_crypto::Scalar;
    let mut r = Reader::new(bytes);
    let bad = |_| ParamError::Unsupported("a shuffle proof that does not re-encode");
    let pt = |r: &mut Reader<'_>| Point::decode(r).map_err(bad);
    let (a1, a2, a3) = (pt(&mut r)?, pt(&mut r)?, pt(&mut r)?);
    let mut a4 = Vec::with_capacity(usize::from(width));
    for _ in 0..width {
        a4.push((pt(&mut r)?, pt(&mut r)?));
    }
    let b = pt(&mut r)?;
    let sc = |r: &mut Reader<'_>| Scalar::decode(r).map_err(bad);
    let (s1, s2, s3) = (sc(&mut r)?, sc(&mut r)?, sc(&mut r)?);
    let s4 = (0..width)
        .map(|_| sc(&mut r))
        .collect::<Result<Vec<_>, _>>()?;
    let s_hat = sc(&mut r)?;
    Ok(MixProof {
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
    })
}

/// Trustee `trustee`'s partial decryptions of `contest`'s mixed list with its key share, from
/// where it left off, as `MixDecryption` entries (each with one batched proof).
pub fn decrypt<R: RngCore + CryptoRng>(
    e: &Election,
    contest: u16,
    trustee: u16,
    share: &SecretScalar,
    key: &SigningKey,
    rng: &mut R,
) -> Result<Vec<Entry>, MixnetError> {
    let s = status(e, contest)?;
    let ctx = e.context().ok_or(MixnetError::Phase(e.phase()))?;
    if s.rows == 0 {
        return Err(MixnetError::Empty(contest));
    }
    if s.mixes < s.mixers {
        return Err(MixnetError::NotMixed(contest));
    }
    if s.count_len.is_some() {
        return Err(MixnetError::Decrypted(contest));
    }
    let vk = e
        .qualified_trustees()
        .contains(&trustee)
        .then(|| {
            usize::from(trustee)
                .checked_sub(1)
                .and_then(|i| ctx.verification_keys.get(i))
        })
        .flatten()
        .ok_or(MixnetError::NotTrustee(trustee))?;
    let list = e.mix_list(contest).ok_or(MixnetError::NotRanked(contest))?;
    let done = s
        .shares
        .iter()
        .find(|(j, _)| *j == trustee)
        .map_or(0, |(_, k)| *k);
    // u16 trustee ‖ u16 contest ‖ u32 first ‖ u32 count ‖ 32 bytes a share ‖ 96-byte proof.
    let per_entry = ((room(e) - 12 - 96) / 32).max(1);
    let alphas: Vec<_> = list.iter().map(|ct| ct.alpha).collect();
    let mut entries = Vec::new();
    for first in (done..alphas.len()).step_by(per_entry) {
        let end = (first + per_entry).min(alphas.len());
        let ctx_bytes = ctx.mix_decryption_ctx(trustee, contest, first as u32);
        let (shares, proof) =
            threshold::partial_decrypt_list(share, vk, &alphas[first..end], &ctx_bytes, rng)?;
        let p = Payload::MixDecryption(Box::new(MixDecryption {
            trustee,
            contest,
            first: first as u32,
            shares,
            proof,
        }));
        entries.push(sign(e, &p, key)?);
    }
    Ok(entries)
}

/// The count of `contest`, once decrypted, from the first byte not yet posted, as
/// `RankedCount` entries. Anyone may post them.
pub fn count(e: &Election, contest: u16, key: &SigningKey) -> Result<Vec<Entry>, MixnetError> {
    let s = status(e, contest)?;
    let d = e
        .ranked_result(contest)
        .ok_or(MixnetError::NotDecrypted(contest))?;
    // u16 contest ‖ u32 offset ‖ u16 length, then the bytes.
    let per_entry = room(e) - 8;
    let mut entries = Vec::new();
    for offset in (s.count_posted..d.bytes.len()).step_by(per_entry) {
        let end = (offset + per_entry).min(d.bytes.len());
        let p = Payload::RankedCount(RankedCountBytes {
            contest,
            offset: offset as u32,
            bytes: d.bytes[offset..end].to_vec(),
        });
        entries.push(sign(e, &p, key)?);
    }
    Ok(entries)
}
