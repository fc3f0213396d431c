//! `urna trustee …` and `urna tally`: thin loops over `urna-tally` and the board client.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use urna_client::BoardClient;
use urna_crypto::hex;
use urna_election::entry::Entry;
use urna_election::state::Phase;
use urna_trustee::{Step, TrusteeKey};

pub fn init(path: &Path, passphrase: &[u8]) -> Result<TrusteeKey> {
    let (key, warning) = urna_office::trustee::init(path, passphrase)?;
    if let Some(w) = warning {
        eprintln!("urna: {w}");
    }
    Ok(key)
}

pub use urna_office::trustee::{decrypt, open, tally};

fn save(path: &Path, key: &TrusteeKey, passphrase: &[u8]) -> Result<()> {
    Ok(urna_office::trustee::save(path, key, passphrase)?)
}

pub fn post(
    client: &BoardClient,
    origin: &str,
    vk: &urna_crypto::sign::VerifyingKey,
    e: &Entry,
) -> Result<()> {
    client
        .submit_retrying(e.bytes(), origin, vk, Duration::from_secs(60))
        .with_context(|| format!("posting {}", e.kind()))?;
    Ok(())
}

/// Takes part in the key ceremony until it completes (or fails, or `timeout` passes), saving
/// the key file whenever it holds something new before anything depending on it is posted.
pub fn ceremony(
    client: &BoardClient,
    path: &Path,
    key: &mut TrusteeKey,
    passphrase: &[u8],
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<urna_crypto::group::Point> {
    let start = Instant::now();
    let mut last = String::new();
    let mut rng = rand::rngs::OsRng;
    loop {
        let s = client.sync(None)?;
        if s.election().phase() == Phase::AwaitingSetup {
            bail!("the board holds no election yet; the authority runs `urna authority setup` first, then re-run this");
        }
        match key.ceremony_step(s.election(), &mut rng)? {
            Step::Post {
                entry,
                what,
                save_first,
            } => {
                if save_first {
                    save(path, key, passphrase)?;
                }
                post(client, &s.origin, &s.key, &entry)?;
                progress(&format!("posted {what}"));
                continue;
            }
            Step::Wait(why) => {
                if why != last {
                    progress(&why);
                    last = why;
                }
            }
            Step::Complete {
                joint_key,
                save_first,
            } => {
                if save_first {
                    save(path, key, passphrase)?;
                }
                return Ok(joint_key);
            }
            Step::Failed(why) => bail!("the key ceremony failed: {why}"),
        }
        if start.elapsed() > timeout {
            bail!(
                "gave up waiting after {} s: {last}; re-run to continue",
                timeout.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn describe(key: &TrusteeKey) -> String {
    format!(
        "signing_key = \"{}\"\nceremony_key = \"{}\"",
        hex::encode(key.verifying_key().as_bytes()),
        hex::encode(key.ceremony_key().as_bytes())
    )
}
