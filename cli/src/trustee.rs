//! `urna trustee …`, `urna mixer …` and `urna tally`: thin loops over `urna-office`, with the
//! terminal's progress bars.

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

use urna_office::trustee::Progress;
pub use urna_office::trustee::{open, tally, Decrypted, Mixed};

/// Tells `progress` the notes, and draws a bar on a terminal while a batch of more than three
/// entries is posted.
fn reporter<'a>(
    what: &'static str,
    progress: &'a mut dyn FnMut(&str),
) -> impl FnMut(Progress<'_>) + 'a {
    let mut bar: Option<indicatif::ProgressBar> = None;
    move |p| match p {
        Progress::Note(m) => progress(m),
        Progress::Posted { done, total } if total > 3 => {
            let b = bar.get_or_insert_with(|| crate::progress_bar(total as u64, what));
            b.set_position(done as u64);
            if done == total {
                b.finish_and_clear();
                bar = None;
            }
        }
        Progress::Posted { .. } => {}
    }
}

/// Posts this trustee's decryption share of the tally, then its partial decryptions of the
/// ranked contests' mixed lists (see [`urna_office::trustee::decrypt`]).
pub fn decrypt(
    client: &BoardClient,
    key: &mut TrusteeKey,
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<Decrypted> {
    let mut report = reporter("decryption entries posted", progress);
    Ok(urna_office::trustee::decrypt(
        client,
        key,
        timeout,
        &mut report,
    )?)
}

/// Mixes the ranked contests in this mixer's turn (see [`urna_office::trustee::mix`]).
pub fn mix(
    client: &BoardClient,
    key: &urna_crypto::sign::SigningKey,
    only: Option<&str>,
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<Mixed> {
    let mut report = reporter("mix entries posted", progress);
    Ok(urna_office::trustee::mix(
        client,
        key,
        only,
        timeout,
        &mut report,
    )?)
}

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
