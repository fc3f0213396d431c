//! `urna trustee …`, `urna mixer …` and `urna tally`: thin loops over `urna-trustee`,
//! `urna-tally` and the board client.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use urna_client::BoardClient;
use urna_crypto::hex;
use urna_crypto::sign::{SigningKey, VerifyingKey};
use urna_election::entry::Entry;
use urna_election::payload::{ElectionResult, Payload};
use urna_election::state::{Election, Phase};
use urna_trustee::mix::{self, MixStep};
use urna_trustee::{DecryptStep, Step, TrusteeError, TrusteeKey};

use crate::guide::{self, Act};

use crate::secrets;

pub fn init(path: &Path, passphrase: &[u8]) -> Result<TrusteeKey> {
    let mut rng = rand::rngs::OsRng;
    let key = TrusteeKey::generate(&mut rng);
    let cost = secrets::cost()?;
    secrets::write_secret(path, &key.seal(passphrase, cost, &mut rng)?, true)?;
    secrets::warn_if_test_cost(path, cost);
    Ok(key)
}

pub fn open(path: &Path, passphrase: &[u8]) -> Result<TrusteeKey> {
    let text = secrets::read_secret(path)?;
    secrets::check_cost(path, &text)?;
    TrusteeKey::open(&text, passphrase).map_err(|e| match e {
        TrusteeError::Seal(s) => secrets::seal_error(path, s),
        e => anyhow::Error::new(e).context(format!("opening {}", path.display())),
    })
}

/// Re-seals the key file with the cost it already states (so that no setting in the
/// environment can quietly change how well a key is protected).
fn save(path: &Path, key: &TrusteeKey, passphrase: &[u8]) -> Result<()> {
    let stated = secrets::read_secret(path)
        .ok()
        .and_then(|t| urna_crypto::keyfile::stated_cost(&t).ok());
    let cost = match stated {
        Some(c) => c,
        None => secrets::cost()?,
    };
    let sealed = key.seal(passphrase, cost, &mut rand::rngs::OsRng)?;
    secrets::write_secret(path, &sealed, false)
}

pub fn post(client: &BoardClient, origin: &str, vk: &VerifyingKey, e: &Entry) -> Result<()> {
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

/// Posts `entries` in order, drawing a progress bar on a terminal when there are many.
fn post_all(
    client: &BoardClient,
    origin: &str,
    vk: &VerifyingKey,
    entries: &[Entry],
    what: &str,
) -> Result<()> {
    let bar = (entries.len() > 3).then(|| crate::progress_bar(entries.len() as u64, what));
    for e in entries {
        post(client, origin, vk, e)?;
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(())
}

/// How long to wait between looks at the board while others act: each look replays the log.
const POLL: Duration = Duration::from_secs(1);

/// What `trustee decrypt` posted: the share of the homomorphic tally, and partial
/// decryptions of ranked contests' mixed lists (in entries).
#[derive(Debug, Default)]
pub struct Decrypted {
    pub tally_share: bool,
    pub ranked_entries: usize,
}

impl Decrypted {
    pub fn posted(&self) -> bool {
        self.tally_share || self.ranked_entries > 0
    }
}

/// Posts this trustee's decryption share of the homomorphic tally (once; re-running after it
/// is on the ledger posts nothing), then its partial decryptions of every ranked contest's
/// mixed list, waiting up to `timeout` for the mixers (re-run to continue after a stop: it
/// resumes from the shares on the ledger).
pub fn decrypt(
    client: &BoardClient,
    key: &mut TrusteeKey,
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<Decrypted> {
    let start = Instant::now();
    let mut done = Decrypted::default();
    let s = client.sync(None)?;
    guide::allow(Act::Decrypt, s.election())?;
    let me = key.index(s.election())?;
    let has_tally = s.election().manifest().is_some_and(|m| m.has_tally());
    if has_tally
        && !s
            .election()
            .decryption_shares()
            .iter()
            .any(|(i, _)| *i == me)
    {
        let entry = key.decryption_share(s.election(), &mut rand::rngs::OsRng)?;
        post(client, &s.origin, &s.key, &entry)?;
        progress("decryption share of the tally posted");
        done.tally_share = true;
    }
    let mut last = String::new();
    let mut s = s;
    loop {
        match key.ranked_decryption_step(s.election(), None, &mut rand::rngs::OsRng)? {
            DecryptStep::Post { entries, what, .. } => {
                post_all(
                    client,
                    &s.origin,
                    &s.key,
                    &entries,
                    "decryption entries posted",
                )?;
                progress(&format!("posted {what}"));
                done.ranked_entries += entries.len();
            }
            DecryptStep::Wait(why) => {
                if start.elapsed() > timeout {
                    bail!(
                        "gave up waiting after {} s: {why}; re-run `urna trustee decrypt` to continue",
                        timeout.as_secs()
                    );
                }
                if why != last {
                    progress(&format!("waiting for the mixers: {why}"));
                    last = why;
                }
                std::thread::sleep(POLL);
            }
            DecryptStep::Done => return Ok(done),
        }
        s = client.sync(Some(&s.key))?;
    }
}

/// What a mixer's run did: the mixes it posted, as (contest id, entries).
#[derive(Debug, Default)]
pub struct Mixed {
    pub mixes: Vec<(String, usize)>,
}

/// Mixes every ranked contest (or `only`) in this mixer's turn, waiting up to `timeout` for
/// the mixers before it. Resumable: a mix on the ledger is not made again; one cut short is
/// made afresh from row 0.
pub fn mix(
    client: &BoardClient,
    key: &SigningKey,
    only: Option<&str>,
    timeout: Duration,
    progress: &mut dyn FnMut(&str),
) -> Result<Mixed> {
    let start = Instant::now();
    let mut done = Mixed::default();
    let mut last = String::new();
    let mut s = client.sync(None)?;
    guide::allow(Act::Mix, s.election())?;
    loop {
        let step = mix::mix_step(s.election(), key, only, &mut rand::rngs::OsRng)?;
        match step {
            MixStep::Post {
                contest,
                entries,
                what,
            } => {
                progress(&format!("made {what}; posting it"));
                post_all(client, &s.origin, &s.key, &entries, "mix entries posted")?;
                let id = s
                    .election()
                    .manifest()
                    .and_then(|m| m.contests.get(usize::from(contest)))
                    .map_or(String::new(), |c| c.id.clone());
                done.mixes.push((id, entries.len()));
            }
            MixStep::Wait(why) => {
                if start.elapsed() > timeout {
                    bail!(
                        "gave up waiting after {} s: {why}; re-run to continue",
                        timeout.as_secs()
                    );
                }
                if why != last {
                    progress(&why);
                    last = why;
                }
                std::thread::sleep(POLL);
            }
            MixStep::Done => {
                if let Some(m) = s.election().manifest() {
                    for st in mix::ranked_statuses(s.election(), only)? {
                        progress(&mix::describe(m, &st));
                    }
                }
                return Ok(done);
            }
        }
        s = client.sync(Some(&s.key))?;
    }
}

/// Combines the shares on the ledger and posts the result (signed by `signer`, or by a fresh
/// key: the result is checked by the rules, not trusted for its author). Once the result is
/// on the ledger, returns it without posting. The flag says whether it was posted now.
/// Posts what the ledger still lacks of the result — the homomorphic `Result` (from the
/// decryption shares) and each ranked contest's count (`RankedCount`, once its mixed list is
/// decrypted) — and returns the election with the result. Anyone may post either; the rules
/// check them against their own computation. Returns whether anything was posted.
pub fn tally(
    client: &BoardClient,
    signer: Option<urna_crypto::sign::SigningKey>,
) -> Result<(Election, ElectionResult, bool)> {
    let s = client.sync(None)?;
    guide::allow(Act::Tally, s.election())?;
    let e = s.election();
    let m = e.manifest().context("the board holds no election")?;
    if e.phase() == Phase::Finished {
        return Ok((e.clone(), published(e)?, false));
    }
    let undecrypted: Vec<String> = m
        .ranked_contests()
        .filter(|(ci, _, _)| e.ranked_result(*ci).is_none())
        .map(|(ci, _, _)| mix::contest_name(m, ci))
        .collect();
    if !undecrypted.is_empty() {
        let status: Vec<String> = mix::ranked_statuses(e, None)?
            .iter()
            .map(|st| mix::describe(m, st))
            .collect();
        bail!(
            "not every ranked contest is decrypted yet ({}): the mixers run `urna trustee mix` or `urna mixer mix`, then the trustees `urna trustee decrypt`, and then this again\n{}",
            undecrypted.join(", "),
            status.join("\n")
        );
    }
    let signer =
        signer.unwrap_or_else(|| urna_crypto::sign::SigningKey::generate(&mut rand::rngs::OsRng));
    let mut posted = false;
    if m.has_tally() && e.result().is_none() {
        missing_shares(e)?;
        let result = urna_tally::result::compute(e)?;
        let p = Payload::Result(result);
        let entry = Entry::sign(
            &s.origin,
            p.kind(),
            &urna_crypto::codec::Encode::to_bytes(&p),
            &signer,
        )?;
        post(client, &s.origin, &s.key, &entry)?;
        posted = true;
    }
    for (ci, _, _) in m.ranked_contests() {
        for entry in urna_election::mixnet::count(e, ci, &signer)? {
            post(client, &s.origin, &s.key, &entry)?;
            posted = true;
        }
    }
    // The ledger now holds the result: read it back as the rules admitted it.
    let s = client.sync(None)?;
    let e = s.election();
    Ok((e.clone(), published(e)?, posted))
}

/// The homomorphic result on the ledger, laid out over every contest (empty counts for the
/// ranked ones, whose counts the election holds); an election of ranked contests only has none.
fn published(e: &Election) -> Result<ElectionResult> {
    let m = e.manifest().context("the board holds no election")?;
    if !m.has_tally() {
        return ElectionResult::from_tally(m, &[]).context("the result's shape");
    }
    match e.result() {
        Some(r) => Ok(r.clone()),
        None => Ok(urna_tally::result::compute(e)?),
    }
}

/// Fewer than `t` decryption shares: who has posted, and which trustees could still.
fn missing_shares(e: &Election) -> Result<()> {
    let Some(m) = e.manifest() else {
        return Ok(());
    };
    let have: Vec<u16> = e.decryption_shares().iter().map(|(i, _)| *i).collect();
    let t = usize::from(m.threshold);
    if have.len() >= t {
        return Ok(());
    }
    let name = |i: &u16| {
        format!(
            "trustee {i} ({})",
            m.trustees
                .get(usize::from(*i) - 1)
                .map_or("?", |t| t.name.as_str())
        )
    };
    let missing: Vec<String> = e
        .qualified_trustees()
        .iter()
        .filter(|i| !have.contains(i))
        .map(name)
        .collect();
    let posted = if have.is_empty() {
        "none yet".to_string()
    } else {
        format!(
            "from {}",
            have.iter().map(name).collect::<Vec<_>>().join(", ")
        )
    };
    bail!(
        "{} of the {t} decryption shares needed are on the ledger ({posted}); {} more must run `urna trustee decrypt`, from: {}",
        have.len(),
        t - have.len(),
        missing.join(", ")
    )
}

pub fn describe(key: &TrusteeKey) -> String {
    format!(
        "signing_key = \"{}\"\nceremony_key = \"{}\"",
        hex::encode(key.verifying_key().as_bytes()),
        hex::encode(key.ceremony_key().as_bytes())
    )
}
