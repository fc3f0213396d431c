//! The attestation with which a board process that does not sequence forwards a submission to
//! the sequencer (`specs/storage.md` §5a, *Forwarding with verification offloaded*): a signature
//! with the board key — which every process of the board holds, and nobody else — over the
//! entry's leaf hash, the sequencer's lease epoch, whether the forwarder verified the entry's
//! signature and ballot proofs, and the client's address. The sequencer checks it (one Ed25519
//! verification) instead of the proofs (the bulk of admission), and takes the client's address
//! from it rather than from the connection.

use std::net::IpAddr;

use base64::Engine;
use thiserror::Error;
use urna_crypto::sign::{Signature, SigningKey, VerifyingKey};

/// The HTTP header that carries an attestation on `POST /entries`.
pub const HEADER: &str = "urna-attestation";

/// The statement's domain separator (its first bytes).
pub const DOMAIN: &[u8] = b"urna/forwarded-entry/v1\n";

/// What a forwarder states about one submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    /// The lease epoch of the sequencer it forwards to (`urna.sequencers.epoch`).
    pub epoch: u64,
    /// `SHA-256(0x00 ‖ entry)`: the entry's RFC 9162 leaf hash.
    pub leaf: [u8; 32],
    /// Whether it verified the entry's signature and, for a ballot, its proofs.
    pub verified: bool,
    /// The address of the client that submitted it (charged there, `serve`'s limits).
    pub client: IpAddr,
}

/// A statement and the board key's signature on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    pub statement: Statement,
    pub signature: Signature,
}

/// Why an attestation is refused. Nothing of the submission is applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AttestError {
    #[error(
        "the attestation header is not `v1 <epoch> verified|unverified <address> <signature>`"
    )]
    Malformed,
    #[error("the attestation is for the sequencer of lease epoch {got}, not this one ({current})")]
    Stale { got: u64, current: u64 },
    #[error("this board process does not sequence: it takes no attested submissions")]
    NotSequencing,
    #[error("the attestation's signature does not verify with the board key over this entry")]
    BadSignature,
}

impl AttestError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AttestError::Malformed | AttestError::BadSignature => "bad-attestation",
            AttestError::Stale { .. } | AttestError::NotSequencing => "stale-attestation",
        }
    }
}

impl Statement {
    /// The signed bytes: `DOMAIN ‖ u16_be(len origin) ‖ origin ‖ u64_be(epoch) ‖ leaf ‖
    /// verdict ‖ address`, where verdict is 0x01 (verified) or 0x00, and address is
    /// `0x04 ‖ 4 bytes` or `0x06 ‖ 16 bytes` (an IPv4 address written as IPv6 is IPv4).
    pub fn message(&self, origin: &str) -> Vec<u8> {
        let origin = origin.as_bytes();
        let mut m = Vec::with_capacity(DOMAIN.len() + 2 + origin.len() + 8 + 32 + 1 + 17);
        m.extend_from_slice(DOMAIN);
        // Origins are short (a log's origin line); one longer than u16 cannot be stated.
        let len = u16::try_from(origin.len()).unwrap_or(u16::MAX);
        m.extend_from_slice(&len.to_be_bytes());
        m.extend_from_slice(&origin[..usize::from(len)]);
        m.extend_from_slice(&self.epoch.to_be_bytes());
        m.extend_from_slice(&self.leaf);
        m.push(u8::from(self.verified));
        match canonical(self.client) {
            IpAddr::V4(a) => {
                m.push(4);
                m.extend_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                m.push(6);
                m.extend_from_slice(&a.octets());
            }
        }
        m
    }

    /// Signs the statement with the board key.
    pub fn sign(self, origin: &str, key: &SigningKey) -> Attestation {
        let mut statement = self;
        statement.client = canonical(statement.client);
        Attestation {
            signature: key.sign(&statement.message(origin)),
            statement,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

impl Attestation {
    /// The header's value: `v1 <epoch> verified|unverified <address> <base64 signature>`. The
    /// leaf hash is not in it: the sequencer computes it from the bytes it received.
    pub fn to_header(&self) -> String {
        let s = &self.statement;
        format!(
            "v1 {} {} {} {}",
            s.epoch,
            if s.verified { "verified" } else { "unverified" },
            s.client,
            B64.encode(self.signature.0)
        )
    }

    /// The sequencer's check of a header that came with the entry `raw`: well formed, for
    /// `epoch` (the lease this process holds, `None` if it does not sequence), and signed with
    /// `key` (the board's) over `raw`'s leaf hash.
    pub fn check(
        header: &str,
        raw: &[u8],
        origin: &str,
        key: &VerifyingKey,
        epoch: Option<u64>,
    ) -> Result<Statement, AttestError> {
        let mut parts = header.split(' ');
        let (Some("v1"), Some(e), Some(v), Some(a), Some(sig), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(AttestError::Malformed);
        };
        let canonical_u64 = e.parse::<u64>().ok().filter(|n| n.to_string() == e);
        let verified = match v {
            "verified" => true,
            "unverified" => false,
            _ => return Err(AttestError::Malformed),
        };
        let (Some(got), Ok(client)) = (canonical_u64, a.parse::<IpAddr>()) else {
            return Err(AttestError::Malformed);
        };
        let signature: [u8; 64] = B64
            .decode(sig)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(AttestError::Malformed)?;
        let current = epoch.ok_or(AttestError::NotSequencing)?;
        if got != current {
            return Err(AttestError::Stale { got, current });
        }
        let statement = Statement {
            epoch: got,
            leaf: urna_ledger::merkle::leaf_hash(raw),
            verified,
            client: canonical(client),
        };
        key.verify(&statement.message(origin), &Signature(signature))
            .map_err(|_| AttestError::BadSignature)?;
        Ok(statement)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    const ORIGIN: &str = "vote.example.org/2026/council";

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_seed(&[seed; 32])
    }

    fn statement(raw: &[u8]) -> Statement {
        Statement {
            epoch: 7,
            leaf: urna_ledger::merkle::leaf_hash(raw),
            verified: true,
            client: "192.0.2.44".parse().unwrap(),
        }
    }

    /// `specs/vectors/attestation.json`: the statement's bytes and signature, byte for byte.
    #[test]
    fn the_vector_holds() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../specs/vectors/attestation.json")).unwrap();
        let hex = |k: &str| urna_crypto::hex::decode(v[k].as_str().unwrap()).unwrap();
        let seed: [u8; 32] = hex("board_key_seed").try_into().unwrap();
        let k = SigningKey::from_seed(&seed);
        assert_eq!(hex("board_key"), k.verifying_key().as_bytes().to_vec());
        let raw = hex("entry");
        let s = Statement {
            epoch: v["epoch"].as_u64().unwrap(),
            leaf: urna_ledger::merkle::leaf_hash(&raw),
            verified: v["verified"].as_bool().unwrap(),
            client: v["client"].as_str().unwrap().parse().unwrap(),
        };
        assert_eq!(hex("leaf"), s.leaf.to_vec());
        let origin = v["origin"].as_str().unwrap();
        assert_eq!(hex("message"), s.message(origin));
        let a = s.sign(origin, &k);
        assert_eq!(hex("signature"), a.signature.0.to_vec());
        assert_eq!(v["header"].as_str().unwrap(), a.to_header());
        let back = Attestation::check(
            &a.to_header(),
            &raw,
            origin,
            &k.verifying_key(),
            Some(s.epoch),
        );
        assert_eq!(back, Ok(s));
    }

    #[test]
    fn forged_stale_other_bytes_and_other_keys_are_refused() {
        let raw = b"an entry's bytes".to_vec();
        let board = key(1);
        let vk = board.verifying_key();
        let good = statement(&raw).sign(ORIGIN, &board).to_header();
        let check = |h: &str, raw: &[u8], epoch| Attestation::check(h, raw, ORIGIN, &vk, epoch);
        assert!(check(&good, &raw, Some(7)).is_ok());
        // Another epoch's sequencer, or a process that does not sequence.
        assert_eq!(
            check(&good, &raw, Some(8)),
            Err(AttestError::Stale { got: 7, current: 8 })
        );
        assert_eq!(check(&good, &raw, None), Err(AttestError::NotSequencing));
        // Other bytes than those attested.
        let mut tampered = raw.clone();
        tampered[0] ^= 1;
        assert_eq!(
            check(&good, &tampered, Some(7)),
            Err(AttestError::BadSignature)
        );
        // A key that is not the board's.
        let other = statement(&raw).sign(ORIGIN, &key(2)).to_header();
        assert_eq!(check(&other, &raw, Some(7)), Err(AttestError::BadSignature));
        // Another election's board (the same key, another origin).
        let elsewhere = statement(&raw).sign("other.example/e", &board).to_header();
        assert_eq!(
            check(&elsewhere, &raw, Some(7)),
            Err(AttestError::BadSignature)
        );
        // A verdict, an address or an epoch changed after signing.
        for (from, to) in [(" verified ", " unverified "), ("192.0.2.44", "192.0.2.45")] {
            let forged = good.replace(from, to);
            assert_eq!(
                check(&forged, &raw, Some(7)),
                Err(AttestError::BadSignature),
                "{forged}"
            );
        }
        let forged = good.replacen(" 7 ", " 8 ", 1);
        assert_eq!(
            check(&forged, &raw, Some(8)),
            Err(AttestError::BadSignature)
        );
        // Not an attestation.
        for bad in [
            "",
            "v2 7 verified 192.0.2.44 AAAA",
            "v1 07 verified 192.0.2.44 AAAA",
            "v1 7 maybe 192.0.2.44 AAAA",
            "v1 7 verified nowhere AAAA",
            "v1 7 verified 192.0.2.44 AAAA",
            "v1 7 verified 192.0.2.44",
        ] {
            assert_eq!(
                check(bad, &raw, Some(7)),
                Err(AttestError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(AttestError::BadSignature.code(), "bad-attestation");
        assert_eq!(
            AttestError::Stale { got: 1, current: 2 }.code(),
            "stale-attestation"
        );
    }

    /// Prints the vector (run with `--ignored --nocapture` to regenerate
    /// `specs/vectors/attestation.json`).
    #[test]
    #[ignore]
    fn print_vector() {
        let k = SigningKey::from_seed(&[0x42; 32]);
        let raw = b"urna attestation vector entry".to_vec();
        let s = Statement {
            epoch: 3,
            leaf: urna_ledger::merkle::leaf_hash(&raw),
            verified: true,
            client: "2001:db8::17".parse().unwrap(),
        };
        let a = s.sign(ORIGIN, &k);
        let h = urna_crypto::hex::encode;
        let v = serde_json::json!({
            "about": "specs/storage.md §5a: a follower's attestation of a forwarded submission",
            "board_key_seed": h(&[0x42u8; 32]),
            "board_key": h(k.verifying_key().as_bytes()),
            "origin": ORIGIN,
            "epoch": s.epoch,
            "entry": h(&raw),
            "leaf": h(&s.leaf),
            "verified": s.verified,
            "client": s.client.to_string(),
            "message": h(&s.message(ORIGIN)),
            "signature": h(&a.signature.0),
            "header": a.to_header(),
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
    }
}
