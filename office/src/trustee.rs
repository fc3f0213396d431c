//! A trustee's work with its key file and the board: the sealed key opened and saved again as
//! the ceremony goes, each step of the key ceremony (decided by `urna-trustee` from the log),
//! the decryption share after the close, and the tally anyone may combine and post.
//!
//! Ranked contests: [`mix`] shuffles them in each mixer's turn, and [`decrypt`] decrypts
//! the mixed lists after the tally's share.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use urna_client::{BoardClient, Synced};
use urna_crypto::sign::SigningKey;
use urna_election::entry::{Entry, EntryKind};
use urna_election::payload::{ElectionResult, Payload};
use urna_election::state::{Election, Phase};
use urna_trustee::mix::{self, MixStep};
use urna_trustee::{DecryptStep, Step, TrusteeError, TrusteeKey};

use crate::error::{OfficeError, Result};
use crate::keys;
use crate::phase::{self, Act};

/// Creates a trustee's key file, sealed with `passphrase`; returns the key and, for a
/// test-cost file, the warning to give.
pub fn init(path: &Path, passphrase: &[u8]) -> Result<(TrusteeKey, Option<String>)> {
    let mut rng = rand::rngs::OsRng;
    let key = TrusteeKey::generate(&mut rng);
    let cost = keys::cost()?;
    let sealed = key
        .seal(passphrase, cost, &mut rng)
        .map_err(|e| trustee_error(path, e))?;
    keys::write_secret(path, &sealed, true)?;
    Ok((key, keys::test_cost_warning(path, cost)))
}

/// Opens a trustee's sealed key file.
pub fn open(path: &Path, passphrase: &[u8]) -> Result<TrusteeKey> {
    let text = keys::read_secret(path)?;
    keys::check_cost(path, &text)?;
    TrusteeKey::open(&text, passphrase).map_err(|e| trustee_error(path, e))
}

fn trustee_error(path: &Path, e: TrusteeError) -> OfficeError {
    match e {
        TrusteeError::Seal(s) => keys::seal_error(path, s),
        e => OfficeError::No(format!("opening {}: {e}", path.display())),
    }
}

/// Re-seals the key file with the cost it already states (so that no setting in the
/// environment can quietly change how well a key is protected).
pub fn save(path: &Path, key: &TrusteeKey, passphrase: &[u8]) -> Result<()> {
    let stated = keys::read_secret(path)
        .ok()
        .and_then(|t| urna_crypto::keyfile::stated_cost(&t).ok());
    let cost = match stated {
        Some(c) => c,
        None => keys::cost()?,
    };
    let sealed = key
        .seal(passphrase, cost, &mut rand::rngs::OsRng)
        .map_err(|e| trustee_error(path, e))?;
    keys::write_secret(path, &sealed, false)
}

/// Posts a signed entry, retrying while the board is busy.
pub fn post(client: &BoardClient, s: &Synced, e: &Entry) -> Result<()> {
    client
        .submit_retrying(e.bytes(), &s.origin, &s.key, Duration::from_secs(60))
        .map_err(|source| OfficeError::Post {
            kind: e.kind().to_string(),
            source,
        })?;
    Ok(())
}

/// What the key ceremony asks of this trustee now, as a person is told it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Next {
    /// Post this trustee's commitments (the polynomial is made and sealed first).
    Commitments,
    /// Post the shares encrypted to each other trustee.
    Shares,
    /// Every share received checks out: confirm.
    Confirmation,
    /// The share dealt by trustee `dealer` does not match its commitments: a public complaint
    /// revealing it.
    Complaint { dealer: u16 },
    /// Nothing to post until others act.
    Wait { why: String },
    /// The ceremony is complete (the joint key, hex).
    Complete { joint_key: String },
    /// The ceremony failed for everyone.
    Failed { why: String },
}

fn next_of(step: &Step) -> Next {
    match step {
        Step::Post { entry, what, .. } => match entry.kind() {
            EntryKind::DkgCommitment => Next::Commitments,
            EntryKind::DkgShares => Next::Shares,
            EntryKind::DkgComplaint => Next::Complaint {
                dealer: what
                    .split_whitespace()
                    .find_map(|w| w.trim_end_matches("'s").parse().ok())
                    .unwrap_or(0),
            },
            _ => Next::Confirmation,
        },
        Step::Wait(why) => Next::Wait { why: why.clone() },
        Step::Complete { joint_key, .. } => Next::Complete {
            joint_key: urna_crypto::hex::encode(joint_key.as_bytes()),
        },
        Step::Failed(why) => Next::Failed { why: why.clone() },
    }
}

fn ceremony_step(s: &Synced, key: &mut TrusteeKey) -> Result<Step> {
    if s.election().phase() == Phase::AwaitingSetup {
        return Err(OfficeError::No("the board holds no election yet; the authority runs `urna authority setup` first, then re-run this".into()));
    }
    key.ceremony_step(s.election(), &mut rand::rngs::OsRng)
        .map_err(|e| OfficeError::No(e.to_string()))
}

/// This trustee's index and what it would do next in the ceremony; nothing is posted or
/// saved.
pub fn ceremony_preview(client: &BoardClient, key: &mut TrusteeKey) -> Result<(u16, Next)> {
    let s = client.sync(None)?;
    let step = ceremony_step(&s, key)?;
    let me = key
        .index(s.election())
        .map_err(|e| OfficeError::No(e.to_string()))?;
    Ok((me, next_of(&step)))
}

/// Takes one step of the key ceremony: seals the key file first when the step needs it, then
/// posts. Returns what was done (a `Wait`, `Complete` or `Failed` posts nothing).
pub fn ceremony_once(
    client: &BoardClient,
    path: &Path,
    key: &mut TrusteeKey,
    passphrase: &[u8],
) -> Result<Next> {
    let s = client.sync(None)?;
    let step = ceremony_step(&s, key)?;
    let next = next_of(&step);
    match step {
        Step::Post {
            entry, save_first, ..
        } => {
            if save_first {
                save(path, key, passphrase)?;
            }
            post(client, &s, &entry)?;
        }
        Step::Complete { save_first, .. } => {
            if save_first {
                save(path, key, passphrase)?;
            }
        }
        Step::Wait(_) | Step::Failed(_) => {}
    }
    Ok(next)
}

/// What a long step tells its caller as it goes: a sentence, or how far a batch of entries
/// has been posted (for a progress bar).
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    Note(&'a str),
    Posted { done: usize, total: usize },
}

/// Posts `entries` in order, telling how far it has got.
fn post_all(
    client: &BoardClient,
    s: &Synced,
    entries: &[Entry],
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<()> {
    for (i, e) in entries.iter().enumerate() {
        post(client, s, e)?;
        progress(Progress::Posted {
            done: i + 1,
            total: entries.len(),
        });
    }
    Ok(())
}

/// How long to wait between looks at the board while others act: each look replays the log.
const POLL: Duration = Duration::from_secs(1);

/// What a decryption run posted: the share of the homomorphic tally, and partial decryptions
/// of ranked contests' mixed lists (in entries).
#[derive(Debug, Default, Clone, Serialize)]
pub struct Decrypted {
    pub tally_share: bool,
    pub ranked_entries: usize,
}

impl Decrypted {
    pub fn posted(&self) -> bool {
        self.tally_share || self.ranked_entries > 0
    }
}

fn no(e: impl std::fmt::Display) -> OfficeError {
    OfficeError::No(e.to_string())
}

/// Posts this trustee's decryption share of the homomorphic tally (once; re-running after it
/// is on the ledger posts nothing), then its partial decryptions of every ranked contest's
/// mixed list, waiting up to `timeout` for the mixers (re-run to continue after a stop: it
/// resumes from the shares on the ledger).
pub fn decrypt(
    client: &BoardClient,
    key: &mut TrusteeKey,
    timeout: Duration,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Decrypted> {
    let start = Instant::now();
    let mut done = Decrypted::default();
    let mut s = client.sync(None)?;
    phase::allow(Act::Decrypt, s.election())?;
    let me = key.index(s.election()).map_err(no)?;
    let has_tally = s.election().manifest().is_some_and(|m| m.has_tally());
    if has_tally
        && !s
            .election()
            .decryption_shares()
            .iter()
            .any(|(i, _)| *i == me)
    {
        let entry = key
            .decryption_share(s.election(), &mut rand::rngs::OsRng)
            .map_err(no)?;
        post(client, &s, &entry)?;
        progress(Progress::Note("decryption share of the tally posted"));
        done.tally_share = true;
    }
    let mut last = String::new();
    loop {
        match key
            .ranked_decryption_step(s.election(), None, &mut rand::rngs::OsRng)
            .map_err(no)?
        {
            DecryptStep::Post { entries, what, .. } => {
                post_all(client, &s, &entries, progress)?;
                progress(Progress::Note(&format!("posted {what}")));
                done.ranked_entries += entries.len();
            }
            DecryptStep::Wait(why) => {
                if start.elapsed() > timeout {
                    return Err(OfficeError::No(format!(
                        "gave up waiting after {} s: {why}; re-run the decryption to continue",
                        timeout.as_secs()
                    )));
                }
                if why != last {
                    progress(Progress::Note(&format!("waiting for the mixers: {why}")));
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
#[derive(Debug, Default, Clone, Serialize)]
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
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Mixed> {
    let start = Instant::now();
    let mut done = Mixed::default();
    let mut last = String::new();
    let mut s = client.sync(None)?;
    phase::allow(Act::Mix, s.election())?;
    loop {
        match mix::mix_step(s.election(), key, only, &mut rand::rngs::OsRng).map_err(no)? {
            MixStep::Post {
                contest,
                entries,
                what,
            } => {
                progress(Progress::Note(&format!("made {what}; posting it")));
                post_all(client, &s, &entries, progress)?;
                let id = s
                    .election()
                    .manifest()
                    .and_then(|m| m.contests.get(usize::from(contest)))
                    .map_or(String::new(), |c| c.id.clone());
                done.mixes.push((id, entries.len()));
            }
            MixStep::Wait(why) => {
                if start.elapsed() > timeout {
                    return Err(OfficeError::No(format!(
                        "gave up waiting after {} s: {why}; re-run to continue",
                        timeout.as_secs()
                    )));
                }
                if why != last {
                    progress(Progress::Note(&why));
                    last = why;
                }
                std::thread::sleep(POLL);
            }
            MixStep::Done => {
                if let Some(m) = s.election().manifest() {
                    for st in mix::ranked_statuses(s.election(), only).map_err(no)? {
                        progress(Progress::Note(&mix::describe(m, &st)));
                    }
                }
                return Ok(done);
            }
        }
        s = client.sync(Some(&s.key))?;
    }
}

/// Posts what the ledger still lacks of the result — the homomorphic `Result` (from the
/// decryption shares) and each ranked contest's count (`RankedCount`, once its mixed list is
/// decrypted) — and returns the election with the result, signed by `signer` or by a fresh
/// key: anyone may post either, and the rules check them against their own computation. The
/// flag says whether anything was posted now.
pub fn tally(
    client: &BoardClient,
    signer: Option<SigningKey>,
) -> Result<(Election, ElectionResult, bool)> {
    let s = client.sync(None)?;
    phase::allow(Act::Tally, s.election())?;
    let e = s.election();
    let m = e
        .manifest()
        .ok_or_else(|| OfficeError::No("the board holds no election".into()))?;
    if e.phase() == Phase::Finished {
        return Ok((e.clone(), published(e)?, false));
    }
    let undecrypted: Vec<String> = m
        .ranked_contests()
        .filter(|(ci, _, _)| e.ranked_result(*ci).is_none())
        .map(|(ci, _, _)| mix::contest_name(m, ci))
        .collect();
    if !undecrypted.is_empty() {
        let status: Vec<String> = mix::ranked_statuses(e, None)
            .map_err(no)?
            .iter()
            .map(|st| mix::describe(m, st))
            .collect();
        return Err(OfficeError::No(format!(
            "not every ranked contest is decrypted yet ({}): the mixers run `urna trustee mix` or `urna mixer mix`, then the trustees `urna trustee decrypt`, and then this again\n{}",
            undecrypted.join(", "),
            status.join("\n")
        )));
    }
    let signer = signer.unwrap_or_else(|| SigningKey::generate(&mut rand::rngs::OsRng));
    let mut posted = false;
    if m.has_tally() && e.result().is_none() {
        missing_shares(e)?;
        let result = urna_tally::result::compute(e).map_err(no)?;
        let p = Payload::Result(result);
        let entry = Entry::sign(
            &s.origin,
            p.kind(),
            &urna_crypto::codec::Encode::to_bytes(&p),
            &signer,
        )
        .map_err(|e| OfficeError::No(format!("signing the result: {e}")))?;
        post(client, &s, &entry)?;
        posted = true;
    }
    for (ci, _, _) in m.ranked_contests() {
        for entry in urna_election::mixnet::count(e, ci, &signer).map_err(no)? {
            post(client, &s, &entry)?;
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
pub fn published(e: &Election) -> Result<ElectionResult> {
    let m = e
        .manifest()
        .ok_or_else(|| OfficeError::No("the board holds no election".into()))?;
    if !m.has_tally() {
        return ElectionResult::from_tally(m, &[])
            .ok_or_else(|| OfficeError::No("the result's shape does not fit the manifest".into()));
    }
    match e.result() {
        Some(r) => Ok(r.clone()),
        None => urna_tally::result::compute(e).map_err(no),
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
                .get(usize::from(*i).saturating_sub(1))
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
    Err(OfficeError::No(format!(
        "{} of the {t} decryption shares needed are on the ledger ({posted}); {} more must run `urna trustee decrypt`, from: {}",
        have.len(),
        t - have.len(),
        missing.join(", ")
    )))
}
