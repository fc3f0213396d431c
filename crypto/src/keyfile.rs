//! Secrets at rest: a passphrase-sealed container (Argon2id, then ChaCha20-Poly1305).
//!
//! ```text
//! urna-sealed-v1
//! argon2id m=<KiB> t=<passes> p=<lanes>
//! <base64 salt (16 bytes)>
//! <base64 nonce (12 bytes) ‖ ciphertext ‖ tag>
//! ```
//!
//! The key is Argon2id(passphrase, salt) with the stated cost (32 bytes); the AEAD's associated
//! data is the first two lines including their newlines, so the cost cannot be lowered without
//! failing authentication. Base64 is the standard alphabet with padding.
//!
//! A file's cost can be read without the passphrase ([`stated_cost`]); one below
//! [`Cost::MINIMUM`] (such as [`Cost::TEST`], which test suites use to stay fast) is recognisable
//! as not fit for real keys, and the `urna` command refuses it unless told it is running tests.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand_core::{CryptoRng, RngCore};
use thiserror::Error;
use zeroize::Zeroizing;

const MAGIC: &str = "urna-sealed-v1";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SealError {
    #[error("not an urna sealed file: {0}")]
    Malformed(&'static str),
    #[error("wrong passphrase (or the file was altered)")]
    WrongPassphrase,
    #[error("key derivation failed: {0}")]
    Kdf(String),
}

/// Argon2id cost. The default follows RFC 9106's second recommended option (64 MiB, 3 passes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
}

impl Cost {
    /// The cost test suites seal with: fast, and no protection for a stolen file.
    pub const TEST: Cost = Cost {
        memory_kib: 256,
        passes: 1,
        lanes: 1,
    };

    /// The least a real key file may use: OWASP's minimum for Argon2id (19 MiB, 2 passes).
    pub const MINIMUM: Cost = Cost {
        memory_kib: 19 * 1024,
        passes: 2,
        lanes: 1,
    };

    /// Whether this cost is below [`Cost::MINIMUM`] in memory or passes.
    pub fn is_below_minimum(&self) -> bool {
        self.memory_kib < Cost::MINIMUM.memory_kib || self.passes < Cost::MINIMUM.passes
    }
}

impl Default for Cost {
    fn default() -> Self {
        Cost {
            memory_kib: 64 * 1024,
            passes: 3,
            lanes: 1,
        }
    }
}

/// Opening a file may not make us spend more than this (a hostile file could ask for terabytes).
const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;

fn derive(passphrase: &[u8], salt: &[u8], cost: Cost) -> Result<Zeroizing<[u8; 32]>, SealError> {
    let params = Params::new(cost.memory_kib, cost.passes, cost.lanes, Some(32))
        .map_err(|e| SealError::Kdf(e.to_string()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase, salt, key.as_mut())
        .map_err(|e| SealError::Kdf(e.to_string()))?;
    Ok(key)
}

fn header(cost: Cost) -> String {
    format!(
        "{MAGIC}\nargon2id m={} t={} p={}\n",
        cost.memory_kib, cost.passes, cost.lanes
    )
}

/// Seals `secret` under `passphrase`.
pub fn seal<R: RngCore + CryptoRng>(
    secret: &[u8],
    passphrase: &[u8],
    cost: Cost,
    rng: &mut R,
) -> Result<String, SealError> {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let key = derive(passphrase, &salt, cost)?;
    let head = header(cost);
    let ct = ChaCha20Poly1305::new(Key::from_slice(key.as_ref()))
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret,
                aad: head.as_bytes(),
            },
        )
        .map_err(|_| SealError::Kdf("encryption failed".into()))?;
    let mut body = nonce.to_vec();
    body.extend_from_slice(&ct);
    Ok(format!(
        "{head}{}\n{}\n",
        B64.encode(salt),
        B64.encode(body)
    ))
}

/// The Argon2id cost a sealed file states (authenticated only when it is opened).
pub fn stated_cost(text: &str) -> Result<Cost, SealError> {
    let mut lines = text.lines();
    if lines.next() != Some(MAGIC) {
        return Err(SealError::Malformed("first line is not urna-sealed-v1"));
    }
    let cost_line = lines.next().ok_or(SealError::Malformed("no cost line"))?;
    let cost = parse_cost(cost_line).ok_or(SealError::Malformed("bad cost line"))?;
    if cost.memory_kib > MAX_MEMORY_KIB {
        return Err(SealError::Malformed(
            "the stated memory cost is unreasonably high",
        ));
    }
    if header(cost) != format!("{MAGIC}\n{cost_line}\n") {
        return Err(SealError::Malformed("cost line is not in canonical form"));
    }
    Ok(cost)
}

/// Opens a sealed file; the secret is wiped when the returned buffer is dropped.
pub fn open(text: &str, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let cost = stated_cost(text)?;
    let mut lines = text.lines().skip(2);
    let salt = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .filter(|s| s.len() == 16)
        .ok_or(SealError::Malformed("bad salt line"))?;
    let body = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .filter(|b| b.len() >= 12 + 16)
        .ok_or(SealError::Malformed("bad ciphertext line"))?;
    if lines.next().is_some() {
        return Err(SealError::Malformed("trailing lines"));
    }
    let key = derive(passphrase, &salt, cost)?;
    let head = header(cost);
    ChaCha20Poly1305::new(Key::from_slice(key.as_ref()))
        .decrypt(
            Nonce::from_slice(&body[..12]),
            Payload {
                msg: &body[12..],
                aad: head.as_bytes(),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| SealError::WrongPassphrase)
}

fn parse_cost(line: &str) -> Option<Cost> {
    let rest = line.strip_prefix("argon2id ")?;
    let mut it = rest.split(' ');
    let mut field = |name: &str| -> Option<u32> { it.next()?.strip_prefix(name)?.parse().ok() };
    let cost = Cost {
        memory_kib: field("m=")?,
        passes: field("t=")?,
        lanes: field("p=")?,
    };
    Some(cost)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;

    const CHEAP: Cost = Cost {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    };

    #[test]
    fn seals_opens_and_refuses() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let text = seal(b"the secret", b"correct horse", CHEAP, &mut rng).unwrap();
        assert!(!text.contains("the secret"));
        assert_eq!(
            open(&text, b"correct horse").unwrap().as_slice(),
            b"the secret"
        );
        assert_eq!(open(&text, b"wrong"), Err(SealError::WrongPassphrase));
        // Lowering the stated cost is detected (it is authenticated).
        let cheaper = text.replace("m=64 t=1", "m=32 t=1");
        assert_eq!(
            open(&cheaper, b"correct horse"),
            Err(SealError::WrongPassphrase)
        );
        let padded = text.replace("m=64", "m=064");
        assert!(matches!(
            open(&padded, b"correct horse"),
            Err(SealError::Malformed(_))
        ));
        let huge = text.replace("m=64", "m=999999999");
        assert!(matches!(
            open(&huge, b"correct horse"),
            Err(SealError::Malformed(_))
        ));
        assert!(matches!(open("hello", b"x"), Err(SealError::Malformed(_))));
        // The cost is readable without the passphrase, and a cheap one is recognisable.
        assert_eq!(stated_cost(&text), Ok(CHEAP));
        assert!(CHEAP.is_below_minimum() && Cost::TEST.is_below_minimum());
        assert!(!Cost::default().is_below_minimum() && !Cost::MINIMUM.is_below_minimum());
        let mut flipped = text.clone().into_bytes();
        let at = flipped.len() - 5;
        flipped[at] = if flipped[at] == b'A' { b'B' } else { b'A' };
        assert!(open(std::str::from_utf8(&flipped).unwrap(), b"correct horse").is_err());
    }
}
