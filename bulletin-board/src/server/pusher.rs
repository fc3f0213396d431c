//! The witness pusher: submits the latest checkpoint to the manifest's witnesses whenever it
//! changes (C2SP tlog-witness), and again to those that have not cosigned it yet, handing each
//! cosignature to the writer as it arrives. Slow or absent witnesses delay only the cosigned
//! checkpoint, never admission.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use base64::Engine;
use tokio::sync::mpsc;
use urna_election::manifest::Witness;
use urna_ledger::note::{split_note, verify_cosignature};
use urna_ledger::replica::SharedTree;

use super::writer::Job;
use crate::board::View;

/// How long the board waits for a witness before going on without it.
const WITNESS_TIMEOUT: Duration = Duration::from_secs(5);
/// While a witness has not cosigned the latest checkpoint, it is asked again after this, doubling
/// up to [`WITNESS_RETRY_MAX`]: a witness that was down catches up without new entries.
const WITNESS_RETRY: Duration = Duration::from_secs(1);
const WITNESS_RETRY_MAX: Duration = Duration::from_secs(8);

/// Starts the pusher thread. It ends once the writer's queue is gone.
pub(super) fn spawn(
    view: Arc<ArcSwap<View>>,
    tree: SharedTree,
    jobs: mpsc::WeakSender<Job>,
    wake: std::sync::mpsc::Receiver<()>,
) {
    std::thread::spawn(move || run(&view, &tree, &jobs, &wake));
}

fn run(
    view: &ArcSwap<View>,
    tree: &SharedTree,
    jobs: &mpsc::WeakSender<Job>,
    wake: &std::sync::mpsc::Receiver<()>,
) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(WITNESS_TIMEOUT))
        .build()
        .into();
    let last_sizes: Mutex<HashMap<String, u64>> = Mutex::new(HashMap::new());
    let mut retry: Option<Duration> = None;
    loop {
        // Some(true): a new checkpoint; Some(false): time to retry; None: the board stopped.
        let woke = match retry {
            None => wake.recv().ok().map(|()| true),
            Some(after) => match wake.recv_timeout(after) {
                Ok(()) => Some(true),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Some(false),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => None,
            },
        };
        let Some(mut new_checkpoint) = woke else {
            return;
        };
        while wake.try_recv().is_ok() {
            new_checkpoint = true;
        }
        let v = view.load_full();
        if v.witnesses.is_empty() || v.uncosigned.is_empty() {
            retry = None;
            continue;
        }
        let collected = Mutex::new((String::new(), 0usize));
        std::thread::scope(|s| {
            for w in &v.uncosigned {
                let (agent, v, tree, last_sizes, collected) =
                    (&agent, &v, tree, &last_sizes, &collected);
                s.spawn(move || {
                    let Some(line) = ask_witness(agent, tree, w, &v.checkpoint, v.size, last_sizes)
                    else {
                        return;
                    };
                    // Handed over at once, so the cosigned checkpoint never waits for a slow
                    // witness.
                    let lines = {
                        let mut c = collected.lock().unwrap_or_else(PoisonError::into_inner);
                        c.0.push_str(&line);
                        c.1 += 1;
                        c.0.clone()
                    };
                    if let Some(jobs) = jobs.upgrade() {
                        let _ = jobs.blocking_send(Job::Cosignatures {
                            note: v.checkpoint.clone(),
                            lines,
                        });
                    }
                });
            }
        });
        let answered = collected
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .1;
        let missing = answered < v.uncosigned.len();
        retry = match (missing, retry) {
            (false, _) => None,
            (true, Some(after)) if !new_checkpoint => Some((after * 2).min(WITNESS_RETRY_MAX)),
            (true, _) => Some(WITNESS_RETRY),
        };
    }
}

/// One witness's cosignature line on `note`, learning its last cosigned size on a 409.
fn ask_witness(
    agent: &ureq::Agent,
    tree: &SharedTree,
    w: &Witness,
    note: &str,
    size: u64,
    last_sizes: &Mutex<HashMap<String, u64>>,
) -> Option<String> {
    let url = format!("{}/add-checkpoint", w.url.trim_end_matches('/'));
    let mut old = last_sizes
        .lock()
        .ok()?
        .get(&w.name)
        .copied()
        .unwrap_or(0)
        .min(size);
    for _ in 0..2 {
        let proof = if old == 0 || old == size {
            Vec::new()
        } else {
            tree.read()
                .unwrap_or_else(PoisonError::into_inner)
                .consistency_proof(old, size)
                .ok()?
        };
        let mut body = format!("old {old}\n");
        for h in &proof {
            body.push_str(&base64::engine::general_purpose::STANDARD.encode(h));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(note);
        let mut resp = agent.post(&url).send(body.as_bytes()).ok()?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().ok()?;
        match status {
            200 => {
                // Keep the one line that is this witness's valid cosignature on this checkpoint.
                let (body, _) = split_note(note).ok()?;
                let line = text
                    .lines()
                    .find(|l| verify_cosignature(&body, l, &w.name, &w.key).is_some())?;
                last_sizes.lock().ok()?.insert(w.name.clone(), size);
                return Some(format!("{line}\n"));
            }
            409 => {
                let theirs: u64 = text.trim().parse().ok()?;
                if theirs > size || theirs == old {
                    return None;
                }
                old = theirs;
                last_sizes.lock().ok()?.insert(w.name.clone(), theirs);
            }
            _ => return None,
        }
    }
    None
}
