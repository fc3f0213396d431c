//! Fiat–Shamir transcripts: one Merlin extension trait, versioned domain separators, labels
//! equal to the math symbols of `specs/crypto.md`.
//!
//! Every urna proof starts from [`proof_transcript`], which binds the protocol name and the
//! caller's context bytes (for a ballot: the election context hash and the credential key)
//! before the statement, so a proof made for one context never verifies in another.

use curve25519_dalek::scalar::Scalar;
use merlin::Transcript;
use rayon::prelude::*;
use sha2::{Digest, Sha512};

use crate::errors::VerifyError;
use crate::group::Point;

/// The Merlin protocol label shared by every urna transcript.
pub const PROTOCOL_LABEL: &[u8] = b"urna-v1";

pub trait TranscriptProtocol {
    /// `dom-sep`: names the proof system and its version, e.g. `b"schnorr-v1"`.
    fn domain_sep(&mut self, proof: &'static [u8]);
    /// `ctx`: the caller's context bytes.
    fn append_context(&mut self, ctx: &[u8]);
    fn append_point(&mut self, label: &'static [u8], p: &Point);
    /// Appends `p` after checking that it is not the identity.
    fn validate_and_append_point(
        &mut self,
        label: &'static [u8],
        p: &Point,
    ) -> Result<(), VerifyError>;
    fn append_scalar(&mut self, label: &'static [u8], s: &Scalar);
    /// 64 challenge bytes reduced modulo ℓ.
    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar;
}

impl TranscriptProtocol for Transcript {
    fn domain_sep(&mut self, proof: &'static [u8]) {
        self.append_message(b"dom-sep", proof);
    }

    fn append_context(&mut self, ctx: &[u8]) {
        self.append_message(b"ctx", ctx);
    }

    fn append_point(&mut self, label: &'static [u8], p: &Point) {
        self.append_message(label, p.as_bytes());
    }

    fn validate_and_append_point(
        &mut self,
        label: &'static [u8],
        p: &Point,
    ) -> Result<(), VerifyError> {
        if p.is_identity() {
            return Err(VerifyError::IdentityCommitment(label_name(label)));
        }
        self.append_point(label, p);
        Ok(())
    }

    fn append_scalar(&mut self, label: &'static [u8], s: &Scalar) {
        self.append_message(label, s.as_bytes());
    }

    fn challenge_scalar(&mut self, label: &'static [u8]) -> Scalar {
        let mut buf = [0u8; 64];
        self.challenge_bytes(label, &mut buf);
        Scalar::from_bytes_mod_order_wide(&buf)
    }
}

fn label_name(label: &'static [u8]) -> &'static str {
    std::str::from_utf8(label).unwrap_or("label")
}

/// `Transcript::new("urna-v1")`, then `dom-sep = proof`, then `ctx = context`.
pub fn proof_transcript(proof: &'static [u8], context: &[u8]) -> Transcript {
    let mut t = Transcript::new(PROTOCOL_LABEL);
    t.domain_sep(proof);
    t.append_context(context);
    t
}

/// `v_k = from_wide(SHA-512(dst ‖ seed ‖ u64(k)))` for `k = 1 … n` (`u64` big-endian): a vector
/// of full-size challenges expanded from 32 bytes a transcript produced, so that a proof about
/// `n` values draws one challenge from the transcript instead of `n`.
pub fn expand_challenges(dst: &[u8], seed: &[u8; 32], n: usize) -> Vec<Scalar> {
    (1..=n as u64)
        .into_par_iter()
        .map(|k| {
            let mut h = Sha512::new();
            h.update(dst);
            h.update(seed);
            h.update(k.to_be_bytes());
            Scalar::from_bytes_mod_order_wide(&h.finalize().into())
        })
        .collect()
}
