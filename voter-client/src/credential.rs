//! A voter's credential file: an Ed25519 key that signs the voter's ballots.
//!
//! ```text
//! urna-credential-v1
//! election <election id>
//! key <hex of the 32-byte secret seed>
//! ```

use thiserror::Error;
use urna_crypto::hex;
use urna_crypto::sign::{SigningKey, VerifyingKey};
use zeroize::Zeroizing;

const MAGIC: &str = "urna-credential-v1";

#[derive(Debug, Error, PartialEq, Eq)]
#[error("not an urna credential file: {0}")]
pub struct CredentialError(&'static str);

pub struct Credential {
    pub election_id: String,
    pub key: SigningKey,
}

impl Credential {
    pub fn public(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{MAGIC}\nelection {}\nkey {}\n",
            self.election_id,
            hex::encode(self.key.seed())
        ))
    }

    pub fn parse(text: &str) -> Result<Credential, CredentialError> {
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err(CredentialError("first line is not urna-credential-v1"));
        }
        let election_id = lines
            .next()
            .and_then(|l| l.strip_prefix("election "))
            .ok_or(CredentialError("no election line"))?
            .to_string();
        let seed = Zeroizing::new(
            lines
                .next()
                .and_then(|l| l.strip_prefix("key "))
                .and_then(|k| hex::decode_array::<32>(k).ok())
                .ok_or(CredentialError("no key line of 64 hex digits"))?,
        );
        if lines.next().is_some() {
            return Err(CredentialError("trailing lines"));
        }
        Ok(Credential {
            election_id,
            key: SigningKey::from_seed(&seed),
        })
    }
}
