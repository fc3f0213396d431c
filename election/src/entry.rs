//! The signed entry envelope: one canonical encoding for every act on the ledger.
//!
//! ```text
//! struct {
//!     opaque magic[4] = "URNA";
//!     u8     version = 1;
//!     opaque election_id<1..2^8-1>;
//!     u8     kind;
//!     opaque author[32];            // Ed25519 public key
//!     opaque payload<0..2^16-1>;    // kind-specific, specs/election.md §4
//!     opaque signature[64];         // Ed25519 by `author` over every preceding byte
//! } Entry;                          // at most 65,535 bytes in total
//! ```
//!
//! The leaf hash of an entry is `SHA-256(0x00 ‖ entry)` (RFC 9162); for a ballot it is the
//! voter's tracking code.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use urna_crypto::codec::{Decode, Reader, Writer};
use urna_crypto::errors::DecodeError;
use urna_crypto::sign::{Signature, SigningKey, VerifyingKey};

use crate::payload::Payload;

/// Entries are bundled with 16-bit lengths in tlog-tiles data tiles.
pub const MAX_ENTRY_SIZE: usize = 65_535;

const MAGIC: &[u8; 4] = b"URNA";
const VERSION: u8 = 1;
/// magic + version + id length + kind + author + payload length + signature.
const OVERHEAD: usize = 4 + 1 + 1 + 1 + 32 + 2 + 64;

/// The largest payload an entry of this election can carry: what a chunked post (a mix, a
/// trustee's decryption of a list, a count) fills each entry up to.
pub fn max_payload(election_id: &str) -> usize {
    MAX_ENTRY_SIZE.saturating_sub(OVERHEAD + election_id.len())
}

/// What an entry is; the tag is the `kind` byte of the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    Setup = 1,
    DkgCommitment = 2,
    DkgShares = 3,
    DkgComplaint = 4,
    DkgConfirm = 5,
    VoterRoll = 6,
    OpenVoting = 7,
    Ballot = 8,
    ChallengedBallot = 9,
    CloseVoting = 10,
    DecryptionShare = 11,
    Result = 12,
    MixRows = 13,
    MixProof = 14,
    MixDecryption = 15,
    RankedCount = 16,
}

impl EntryKind {
    pub const ALL: [EntryKind; 16] = [
        EntryKind::Setup,
        EntryKind::DkgCommitment,
        EntryKind::DkgShares,
        EntryKind::DkgComplaint,
        EntryKind::DkgConfirm,
        EntryKind::VoterRoll,
        EntryKind::OpenVoting,
        EntryKind::Ballot,
        EntryKind::ChallengedBallot,
        EntryKind::CloseVoting,
        EntryKind::DecryptionShare,
        EntryKind::Result,
        EntryKind::MixRows,
        EntryKind::MixProof,
        EntryKind::MixDecryption,
        EntryKind::RankedCount,
    ];

    /// Whether every voter's light view carries entries of this kind (`specs/board.md`,
    /// `GET /voter`): what fixes the manifest, the joint key and whether the poll is open.
    /// Their number is bounded by the manifest's trustees, not by the number of voters.
    pub fn for_every_voter(self) -> bool {
        matches!(
            self,
            EntryKind::Setup
                | EntryKind::DkgCommitment
                | EntryKind::DkgShares
                | EntryKind::DkgComplaint
                | EntryKind::DkgConfirm
                | EntryKind::OpenVoting
                | EntryKind::CloseVoting
        )
    }

    pub fn from_tag(tag: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| *k as u8 == tag)
    }

    pub fn name(self) -> &'static str {
        match self {
            EntryKind::Setup => "Setup",
            EntryKind::DkgCommitment => "DkgCommitment",
            EntryKind::DkgShares => "DkgShares",
            EntryKind::DkgComplaint => "DkgComplaint",
            EntryKind::DkgConfirm => "DkgConfirm",
            EntryKind::VoterRoll => "VoterRoll",
            EntryKind::OpenVoting => "OpenVoting",
            EntryKind::Ballot => "Ballot",
            EntryKind::ChallengedBallot => "ChallengedBallot",
            EntryKind::CloseVoting => "CloseVoting",
            EntryKind::DecryptionShare => "DecryptionShare",
            EntryKind::Result => "Result",
            EntryKind::MixRows => "MixRows",
            EntryKind::MixProof => "MixProof",
            EntryKind::MixDecryption => "MixDecryption",
            EntryKind::RankedCount => "RankedCount",
        }
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A decoded envelope. The payload stays as bytes here; [`crate::payload::Payload::decode`]
/// interprets it per kind. The original bytes are kept, because they — not a re-encoding — are
/// what the signature and the leaf hash cover.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    bytes: Vec<u8>,
    election_id: String,
    kind: EntryKind,
    author: VerifyingKey,
    payload_at: usize,
    payload_len: usize,
    signature: Signature,
    /// The payload, decoded once by [`Entry::keep_payload`] for the rules to use again.
    kept: KeptPayload,
}

/// An entry's payload as [`Entry::keep_payload`] decoded it from the entry's own bytes (never
/// set any other way, so it is always what decoding them gives). It is a cache, not part of
/// the entry: two entries with the same bytes are equal whether or not either keeps it.
#[derive(Clone, Default)]
struct KeptPayload(Option<Arc<Payload>>);

impl PartialEq for KeptPayload {
    fn eq(&self, _: &KeptPayload) -> bool {
        true
    }
}

impl Eq for KeptPayload {}

/// Why bytes are not an entry envelope (before any rule is considered).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("entry is {0} bytes; the maximum is {MAX_ENTRY_SIZE}")]
    Oversized(usize),
    #[error("malformed entry: {0}")]
    Malformed(#[from] DecodeError),
    #[error("not a urna v1 entry (bad magic or version)")]
    BadMagic,
    #[error("unknown entry kind {0}")]
    UnknownKind(u8),
}

impl Entry {
    /// Builds and signs an entry.
    pub fn sign(
        election_id: &str,
        kind: EntryKind,
        payload: &[u8],
        key: &SigningKey,
    ) -> Result<Entry, EnvelopeError> {
        let mut b = Vec::with_capacity(OVERHEAD + election_id.len() + payload.len());
        b.extend_from_slice(MAGIC);
        b.put_u8(VERSION);
        b.put_bytes_u8(election_id.as_bytes())?;
        b.put_u8(kind as u8);
        b.extend_from_slice(key.verifying_key().as_bytes());
        b.put_bytes_u16(payload)?;
        let sig = key.sign(&b);
        b.extend_from_slice(&sig.0);
        if b.len() > MAX_ENTRY_SIZE {
            return Err(EnvelopeError::Oversized(b.len()));
        }
        Entry::decode(b)
    }

    /// The kind an envelope names, read from its first bytes without decoding the rest (for
    /// counting entries by kind cheaply; [`Entry::decode`] is what decides an entry is one).
    pub fn kind_of(bytes: &[u8]) -> Option<EntryKind> {
        let mut r = Reader::new(bytes);
        if &r.array::<4>().ok()? != MAGIC || r.u8().ok()? != VERSION {
            return None;
        }
        r.bytes_u8().ok()?;
        EntryKind::from_tag(r.u8().ok()?)
    }

    /// Strictly decodes an envelope (not its payload). Does not verify the signature: that is
    /// a rule ([`crate::state::Election::apply`]), so that a bad signature is a typed rejection.
    pub fn decode(bytes: Vec<u8>) -> Result<Entry, EnvelopeError> {
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(EnvelopeError::Oversized(bytes.len()));
        }
        let mut r = Reader::new(&bytes);
        if &r.array::<4>()? != MAGIC || r.u8()? != VERSION {
            return Err(EnvelopeError::BadMagic);
        }
        let election_id =
            String::from_utf8(r.bytes_u8()?.to_vec()).map_err(|_| DecodeError::InvalidUtf8)?;
        let tag = r.u8()?;
        let kind = EntryKind::from_tag(tag).ok_or(EnvelopeError::UnknownKind(tag))?;
        let author = VerifyingKey::decode(&mut r)?;
        let payload_len = r.u16()? as usize;
        let payload_at = bytes.len() - r.remaining();
        r.take(payload_len)?;
        let signature = Signature::decode(&mut r)?;
        r.finish()?;
        Ok(Entry {
            election_id,
            kind,
            author,
            payload_at,
            payload_len,
            signature,
            bytes,
            kept: KeptPayload::default(),
        })
    }

    /// Decodes the payload and keeps it with the entry, so that the rules, which decode it
    /// again where they reach it, take this copy instead (decoding a ballot's group elements is
    /// a large part of admitting it). Returns whether it decoded; one that does not is kept
    /// nowhere, and the rules decode it (and refuse it) as ever.
    pub fn keep_payload(&mut self) -> bool {
        if self.kept.0.is_some() {
            return true;
        }
        match Payload::decode(self.kind, self.payload()) {
            Ok(p) => {
                self.kept = KeptPayload(Some(Arc::new(p)));
                true
            }
            Err(_) => false,
        }
    }

    /// The payload [`Entry::keep_payload`] kept, if it did.
    pub fn kept_payload(&self) -> Option<&Payload> {
        self.kept.0.as_deref()
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn election_id(&self) -> &str {
        &self.election_id
    }

    pub fn kind(&self) -> EntryKind {
        self.kind
    }

    pub fn author(&self) -> &VerifyingKey {
        &self.author
    }

    pub fn payload(&self) -> &[u8] {
        &self.bytes[self.payload_at..self.payload_at + self.payload_len]
    }

    /// The bytes the signature covers: everything before it.
    pub fn signed_bytes(&self) -> &[u8] {
        &self.bytes[..self.bytes.len() - 64]
    }

    pub fn verify_signature(&self) -> Result<(), urna_crypto::errors::VerifyError> {
        self.author.verify(self.signed_bytes(), &self.signature)
    }

    /// `SHA-256(0x00 ‖ entry)`, the RFC 9162 leaf hash.
    pub fn leaf_hash(&self) -> [u8; 32] {
        leaf_hash(&self.bytes)
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("kind", &self.kind)
            .field("author", &self.author)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// `SHA-256(0x00 ‖ bytes)`.
pub fn leaf_hash(bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(bytes);
    h.finalize().into()
}

/// A ballot's tracking code: its leaf hash, rendered for people.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TrackingCode(pub [u8; 32]);

const BASE32: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

impl TrackingCode {
    /// The full code: Crockford base32 (lowercase) of the 32 bytes, 52 characters in groups of
    /// four separated by `-`.
    pub fn full(&self) -> String {
        let chars = base32(&self.0);
        chars
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// The first 10 characters (50 bits) as `xxxxx-xxxxx`: enough to recognise a ballot by
    /// eye; lookups use the full code.
    pub fn short(&self) -> String {
        let chars = base32(&self.0);
        format!("{}-{}", &chars[..5], &chars[5..10])
    }

    /// Parses a full code, ignoring `-` and case; also accepts 64 hex digits.
    pub fn parse(s: &str) -> Option<Self> {
        let clean: String = s
            .chars()
            .filter(|c| *c != '-')
            .collect::<String>()
            .to_lowercase();
        if clean.len() == 64 {
            return urna_crypto::hex::decode_array::<32>(&clean)
                .ok()
                .map(TrackingCode);
        }
        if clean.len() != 52 {
            return None;
        }
        let mut bits: u32 = 0;
        let mut nbits = 0;
        let mut out = Vec::with_capacity(33);
        for c in clean.bytes() {
            let v = BASE32.iter().position(|&b| b == c)? as u32;
            bits = (bits << 5) | v;
            nbits += 5;
            if nbits >= 8 {
                nbits -= 8;
                out.push((bits >> nbits) as u8);
                bits &= (1 << nbits) - 1;
            }
        }
        // 52 × 5 = 260 bits: the last 4 padding bits must be zero.
        if bits != 0 {
            return None;
        }
        out.try_into().ok().map(TrackingCode)
    }
}

fn base32(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut bits: u32 = 0;
    let mut nbits = 0;
    for &b in bytes {
        bits = (bits << 8) | u32::from(b);
        nbits += 8;
        while nbits >= 5 {
            nbits -= 5;
            s.push(BASE32[((bits >> nbits) & 31) as usize] as char);
        }
        bits &= (1 << nbits) - 1;
    }
    if nbits > 0 {
        s.push(BASE32[((bits << (5 - nbits)) & 31) as usize] as char);
    }
    s
}

impl fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full())
    }
}

impl fmt::Debug for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TrackingCode({})", self.short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_kept_payload_is_the_decoded_one_and_a_bad_one_is_not_kept() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
        let key = SigningKey::generate(&mut rng);
        let mut e = Entry::sign("vote.example/x", EntryKind::OpenVoting, b"", &key).unwrap();
        let plain = e.clone();
        assert!(e.kept_payload().is_none());
        assert!(e.keep_payload());
        assert_eq!(e.kept_payload(), Some(&Payload::OpenVoting));
        // A cache, not part of the entry.
        assert_eq!(e, plain);
        // A ballot whose payload is not a ballot: nothing kept, the rules decode (and refuse) it.
        let mut bad = Entry::sign("vote.example/x", EntryKind::Ballot, b"\x01", &key).unwrap();
        assert!(!bad.keep_payload());
        assert!(bad.kept_payload().is_none());
    }

    #[test]
    fn envelope_round_trip_and_signature() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let key = SigningKey::generate(&mut rng);
        let e = Entry::sign("vote.example/x", EntryKind::OpenVoting, b"", &key).unwrap();
        assert_eq!(e.kind(), EntryKind::OpenVoting);
        assert_eq!(e.election_id(), "vote.example/x");
        assert!(e.verify_signature().is_ok());
        let again = Entry::decode(e.bytes().to_vec()).unwrap();
        assert_eq!(again, e);
        let mut tampered = e.bytes().to_vec();
        let n = tampered.len();
        tampered[n - 70] ^= 1; // inside the author key / payload length region
        if let Ok(t) = Entry::decode(tampered) {
            assert!(t.verify_signature().is_err());
        }
        let mut trailing = e.bytes().to_vec();
        trailing.push(0);
        assert!(matches!(
            Entry::decode(trailing),
            Err(EnvelopeError::Malformed(DecodeError::TrailingBytes(1)))
        ));
    }

    #[test]
    fn oversized_and_unknown_kind_rejected() {
        assert!(matches!(
            Entry::decode(vec![0; MAX_ENTRY_SIZE + 1]),
            Err(EnvelopeError::Oversized(_))
        ));
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
        let key = SigningKey::generate(&mut rng);
        let e = Entry::sign("e", EntryKind::Setup, b"x", &key).unwrap();
        let mut b = e.into_bytes();
        b[4 + 1 + 1 + 1] = 99;
        assert!(matches!(
            Entry::decode(b),
            Err(EnvelopeError::UnknownKind(99))
        ));
        let big = vec![0u8; MAX_ENTRY_SIZE];
        assert!(matches!(
            Entry::sign("e", EntryKind::Setup, &big, &key),
            Err(EnvelopeError::Malformed(_)) | Err(EnvelopeError::Oversized(_))
        ));
    }

    #[test]
    fn tracking_code_round_trips() {
        let code = TrackingCode(leaf_hash(b"ballot"));
        let full = code.full();
        assert_eq!(full.replace('-', "").len(), 52);
        assert_eq!(TrackingCode::parse(&full), Some(code));
        assert_eq!(TrackingCode::parse(&full.to_uppercase()), Some(code));
        assert_eq!(
            TrackingCode::parse(&urna_crypto::hex::encode(&code.0)),
            Some(code)
        );
        assert_eq!(code.short().len(), 11);
        assert!(TrackingCode::parse("not a code").is_none());
    }
}
