//! The election context: the bytes every ballot proof binds, so a ballot is valid for exactly
//! one election, one joint key and one set of trustee verification keys.

use sha2::{Digest, Sha256};
use urna_crypto::elgamal::PublicKey;
use urna_crypto::group::Point;
use urna_crypto::sign::VerifyingKey;

/// `SHA-256("urna-v1 election-context" ‖ manifest_hash ‖ K ‖ u16(n) ‖ VK_1 ‖ … ‖ VK_n)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElectionContext {
    pub hash: [u8; 32],
    pub manifest_hash: [u8; 32],
    pub joint_key: PublicKey,
    pub verification_keys: Vec<Point>,
}

impl ElectionContext {
    pub fn new(
        manifest_hash: [u8; 32],
        joint_key: PublicKey,
        verification_keys: Vec<Point>,
    ) -> Self {
        let mut h = Sha256::new();
        h.update(b"urna-v1 election-context");
        h.update(manifest_hash);
        h.update(joint_key.point().as_bytes());
        h.update((verification_keys.len() as u16).to_be_bytes());
        for vk in &verification_keys {
            h.update(vk.as_bytes());
        }
        ElectionContext {
            hash: h.finalize().into(),
            manifest_hash,
            joint_key,
            verification_keys,
        }
    }

    /// The context bytes of one ballot proof:
    /// `context hash ‖ credential ‖ u16(contest index) ‖ u16(slot)` (68 bytes), where `slot` is
    /// the option index for a per-option proof, [`SLOT_OPTIONS_RANGE`] for an aggregated range
    /// proof over all options and [`SLOT_CONTEST`] for the contest-total proof.
    pub fn ballot_proof_ctx(&self, credential: &VerifyingKey, contest: u16, slot: u16) -> [u8; 68] {
        let mut out = [0u8; 68];
        out[..32].copy_from_slice(&self.hash);
        out[32..64].copy_from_slice(credential.as_bytes());
        out[64..66].copy_from_slice(&contest.to_be_bytes());
        out[66..68].copy_from_slice(&slot.to_be_bytes());
        out
    }

    /// The context of a trustee's decryption-share proof for one tally ciphertext:
    /// `context hash ‖ u16(trustee) ‖ u16(contest) ‖ u16(option)`.
    pub fn decryption_ctx(&self, trustee: u16, contest: u16, option: u16) -> [u8; 38] {
        let mut out = [0u8; 38];
        out[..32].copy_from_slice(&self.hash);
        out[32..34].copy_from_slice(&trustee.to_be_bytes());
        out[34..36].copy_from_slice(&contest.to_be_bytes());
        out[36..38].copy_from_slice(&option.to_be_bytes());
        out
    }

    /// The seed of a ranked contest's shuffle generators: `E ‖ u16(contest)`. Fixed before
    /// voting opens and the same for every mixer of the contest.
    pub fn mix_seed(&self, contest: u16) -> [u8; 34] {
        let mut out = [0u8; 34];
        out[..32].copy_from_slice(&self.hash);
        out[32..].copy_from_slice(&contest.to_be_bytes());
        out
    }

    /// The context of the shuffle proof of the `position`-th mix (from 1) of a ranked contest:
    /// `E ‖ u16(contest) ‖ u16(position)`.
    pub fn mix_ctx(&self, contest: u16, position: u16) -> [u8; 36] {
        let mut out = [0u8; 36];
        out[..32].copy_from_slice(&self.hash);
        out[32..34].copy_from_slice(&contest.to_be_bytes());
        out[34..].copy_from_slice(&position.to_be_bytes());
        out
    }

    /// The context of a trustee's batched proof for the partial decryptions of a mixed list
    /// starting at ciphertext `first`: `E ‖ u16(trustee) ‖ u16(contest) ‖ u32(first)`.
    pub fn mix_decryption_ctx(&self, trustee: u16, contest: u16, first: u32) -> [u8; 40] {
        let mut out = [0u8; 40];
        out[..32].copy_from_slice(&self.hash);
        out[32..34].copy_from_slice(&trustee.to_be_bytes());
        out[34..36].copy_from_slice(&contest.to_be_bytes());
        out[36..].copy_from_slice(&first.to_be_bytes());
        out
    }
}

/// Slot of the contest-total proof.
pub const SLOT_CONTEST: u16 = 0xFFFF;
/// Slot of an aggregated range proof over all options of a contest.
pub const SLOT_OPTIONS_RANGE: u16 = 0xFFFE;
/// Slot of the proof of knowledge of a ranked row's plaintexts.
pub const SLOT_RANKED: u16 = 0xFFFD;

/// The context of every key-ceremony proof (coefficient proofs, share encryption, complaint
/// reveals): `"urna-v1 dkg" ‖ manifest hash`. Dealer, recipient and coefficient indices are
/// bound by the crypto layer on top of it.
pub fn dkg_ctx(manifest_hash: &[u8; 32]) -> Vec<u8> {
    let mut c = b"urna-v1 dkg".to_vec();
    c.extend_from_slice(manifest_hash);
    c
}
