//! `urna authority …`: the election authority's verbs, each one signed entry on the board.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use urna_board::client::BoardClient;
use urna_crypto::codec::Encode;
use urna_crypto::sign::SigningKey;
use urna_election::entry::Entry;
use urna_election::manifest::Manifest;
use urna_election::payload::Payload;

use crate::secrets;

fn post(client: &BoardClient, p: &Payload, key: &SigningKey) -> Result<u64> {
    let (origin, board_key) = client.stated_key()?;
    let e = Entry::sign(&origin, p.kind(), &p.to_bytes(), key)?;
    let r = client
        .submit_retrying(e.bytes(), &origin, &board_key, Duration::from_secs(60))
        .with_context(|| format!("posting {}", p.kind()))?;
    Ok(r.index)
}

/// Validates the TOML manifest and posts it as the `Setup` entry.
pub fn setup(client: &BoardClient, manifest: &Path, key: &SigningKey) -> Result<Manifest> {
    let m = Manifest::from_toml(&secrets::read(manifest)?)
        .with_context(|| format!("{} is not a valid manifest", manifest.display()))?;
    if m.authority_key != key.verifying_key() {
        anyhow::bail!("the manifest's [keys] authority is not this authority key");
    }
    let (_, board_key) = client.stated_key()?;
    if m.board_key != board_key {
        anyhow::bail!("the manifest's [keys] board is not the key this board signs with");
    }
    post(client, &Payload::Setup(Box::new(m.clone())), key)?;
    Ok(m)
}

pub fn open(client: &BoardClient, key: &SigningKey) -> Result<u64> {
    post(client, &Payload::OpenVoting, key)
}

pub fn close(client: &BoardClient, key: &SigningKey) -> Result<u64> {
    post(client, &Payload::CloseVoting, key)
}

/// Phase, counts and who is still missing in the key ceremony or the decryption.
pub fn status(client: &BoardClient) -> Result<String> {
    let s = client.sync(None)?;
    let e = &s.election;
    let mut out = format!(
        "election {}\nlog size {} (checkpoint verified)\nphase {:?}\n",
        s.origin,
        s.log.checkpoint.size,
        e.phase()
    );
    let c = e.counts();
    out.push_str(&format!(
        "voters on the roll {}; ballots cast {} (counted {}, superseded {}, challenged {})\n",
        c.voters, c.ballots, c.counted, c.superseded, c.challenged
    ));
    if let Some(m) = e.manifest() {
        for (i, committed, dealt, confirmed, disq) in e.ceremony_status() {
            let name = &m.trustees[usize::from(i - 1)].name;
            let state = if disq {
                "disqualified".to_string()
            } else {
                let mut missing = Vec::new();
                if !committed {
                    missing.push("commitments");
                }
                if !dealt {
                    missing.push("shares");
                }
                if !confirmed {
                    missing.push("confirmation");
                }
                if missing.is_empty() {
                    "done".into()
                } else {
                    format!("missing {}", missing.join(", "))
                }
            };
            out.push_str(&format!("trustee {i} ({name}): key ceremony {state}\n"));
        }
        if matches!(e.phase(), urna_election::state::Phase::Tallying) {
            out.push_str(&format!(
                "decryption shares: {} of the {} needed\n",
                e.decryption_shares().len(),
                m.threshold
            ));
        }
    }
    Ok(out)
}
