//! `urna authority …`: the election authority's verbs, thin over `urna-office`.

use std::path::Path;

use anyhow::Result;
use urna_client::BoardClient;
use urna_crypto::sign::SigningKey;
use urna_election::manifest::Manifest;

pub use urna_office::authority::{close, open, schedule, status, status_text};

use crate::{guide, secrets};

/// Validates the TOML manifest and posts it as the `Setup` entry; returns it and its index.
pub fn setup(client: &BoardClient, manifest: &Path, key: &SigningKey) -> Result<(Manifest, u64)> {
    let m = Manifest::from_toml(&secrets::read_public(manifest)?).map_err(|e| {
        guide::bad_input(format!(
            "{} is not a valid manifest: {e}",
            manifest.display()
        ))
    })?;
    let i = urna_office::authority::setup(client, &m, key)?;
    Ok((m, i))
}
