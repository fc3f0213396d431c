//! `urna demo`: a whole election on this machine, every party talking to a real board over
//! HTTP on 127.0.0.1 exactly as separate parties would, then a full verification.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::json;
use urna_client::BoardClient;
use urna_crypto::hex;
use urna_crypto::sign::SigningKey;
use urna_election::ballot::Choices;
use urna_sim::manifest::{ManifestBuilder, WitnessEntry};
use urna_trustee::TrusteeKey;
use urna_voter::credential::Credential;
use urna_voter::vote;

use crate::{authority, secrets, trustee, voter};

const ORIGIN: &str = "demo.urna.example/2026/council";
const PASS: &str = "demo passphrase";
const TRUSTEES: [&str; 5] = ["Ada", "Grace", "Alan", "Barbara", "Edsger"];

pub struct Options {
    pub voters: usize,
    /// Witnesses cosigning the board's checkpoints (a majority is the quorum); 0 for none.
    pub witnesses: usize,
    pub data: Option<PathBuf>,
    pub json: bool,
}

/// Starts a board on 127.0.0.1 (random port) in a background thread; returns its URL.
fn start_board(dir: &Path, key: SigningKey) -> Result<String> {
    let board = urna_board::board::Board::open(dir, ORIGIN, key)?;
    let addr = crate::loopback::serve(move || {
        urna_board::server::app(urna_board::server::start(board).0)
    })?;
    Ok(format!("http://{addr}"))
}

/// Starts a witness for the demo's log on 127.0.0.1 in a background thread; returns its
/// manifest entry.
fn start_witness(dir: &Path, i: usize, board: &SigningKey) -> Result<WitnessEntry> {
    let name = format!("witness-{i}.demo.urna.example");
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let public = key.verifying_key();
    let logs = [(ORIGIN.to_string(), board.verifying_key())]
        .into_iter()
        .collect();
    let w = std::sync::Arc::new(urna_witness::Witness::open(dir, &name, key, logs)?);
    let addr = crate::loopback::serve(move || urna_witness::router(w))?;
    Ok(WitnessEntry {
        name,
        key: public,
        url: format!("http://{addr}"),
        node: false,
    })
}

/// The manifest the authority writes: the example's contests and styles, the parties' keys.
fn manifest_toml(
    authority: &SigningKey,
    registrar: &SigningKey,
    board: &SigningKey,
    trustees: &[TrusteeKey],
    witnesses: &[WitnessEntry],
) -> Result<String> {
    let mut b = ManifestBuilder::new(
        ORIGIN,
        "urna demo: City Council Election 2026",
        authority.verifying_key(),
        registrar.verifying_key(),
        board.verifying_key(),
    )
    .threshold(3);
    for (name, k) in TRUSTEES.iter().zip(trustees) {
        b = b.trustee(name, k.verifying_key(), k.ceremony_key());
    }
    b.witnesses = witnesses.to_vec();
    Ok(b.to_toml()?)
}

pub fn run(opts: &Options) -> Result<bool> {
    if opts.voters == 0 {
        bail!("--voters must be at least 1");
    }
    let tmp;
    let dir: PathBuf = match &opts.data {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            if std::fs::read_dir(d)?.next().is_some() {
                bail!(
                    "{} is not empty; the demo needs a fresh directory",
                    d.display()
                );
            }
            d.clone()
        }
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let quiet = opts.json;
    let say = |m: &str| {
        if !quiet {
            println!("{m}");
        }
    };
    let mut timings = serde_json::Map::new();
    let mut lap = Instant::now();
    let mut mark = |name: &str, timings: &mut serde_json::Map<String, serde_json::Value>| {
        timings.insert(name.into(), json!(lap.elapsed().as_millis() as u64));
        lap = Instant::now();
    };

    say("1. keys: the board, the authority, the registrar and five trustees each make their own");
    let board_key = secrets::init_sealed_key(&dir.join("board.key"), PASS.as_bytes())?;
    let authority_key = secrets::init_sealed_key(&dir.join("authority.key"), PASS.as_bytes())?;
    let registrar_key = secrets::init_sealed_key(&dir.join("registrar.key"), PASS.as_bytes())?;
    let mut trustee_keys = Vec::new();
    for i in 1..=TRUSTEES.len() {
        trustee_keys.push(trustee::init(
            &dir.join(format!("trustee-{i}.key")),
            PASS.as_bytes(),
        )?);
    }
    let witnesses = (1..=opts.witnesses)
        .map(|i| start_witness(&dir.join(format!("witness-{i}")), i, &board_key))
        .collect::<Result<Vec<_>>>()?;
    if !witnesses.is_empty() {
        say(&format!(
            "   {} witnesses cosign the board's checkpoints (quorum: a majority)",
            witnesses.len()
        ));
    }
    let url = start_board(&dir.join("board-data"), board_key.clone())?;
    say(&format!(
        "   board listening on {url} (log in {})",
        dir.join("board-data").display()
    ));
    let client = BoardClient::new(&url);
    mark("keys_ms", &mut timings);

    say("2. the authority posts the manifest (plurality, approval, score, referendum; two ballot styles)");
    let manifest_path = dir.join("manifest.toml");
    std::fs::write(
        &manifest_path,
        manifest_toml(
            &authority_key,
            &registrar_key,
            &board_key,
            &trustee_keys,
            &witnesses,
        )?,
    )?;
    let (manifest, _) = authority::setup(&client, &manifest_path, &authority_key)?;
    mark("setup_ms", &mut timings);

    say("3. key ceremony: 5 trustees, threshold 3, each on its own thread, only through the board");
    let joint = std::thread::scope(|s| -> Result<Vec<urna_crypto::group::Point>> {
        let handles: Vec<_> = trustee_keys
            .iter_mut()
            .enumerate()
            .map(|(i, k)| {
                let client = client.clone();
                let path = dir.join(format!("trustee-{}.key", i + 1));
                s.spawn(move || {
                    trustee::ceremony(
                        &client,
                        &path,
                        k,
                        PASS.as_bytes(),
                        Duration::from_secs(300),
                        &mut |_| {},
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a trustee thread panicked"))?
            })
            .collect()
    })?;
    if joint.windows(2).any(|w| w[0] != w[1]) {
        bail!("the trustees disagree on the joint key");
    }
    say(&format!(
        "   joint election key {}",
        hex::encode(joint[0].as_bytes())
    ));
    mark("key_ceremony_ms", &mut timings);

    say(&format!("4. the registrar issues {} credentials (every 10th voter has weight 2, every 5th the non-resident ballot) and posts the roll", opts.voters));
    let mut csv = String::from("voter_id,weight,style\n");
    for v in 0..opts.voters {
        let weight = if v % 10 == 9 { 2 } else { 1 };
        let style = if v % 5 == 4 {
            "non-resident"
        } else {
            "resident"
        };
        csv.push_str(&format!("voter-{v:05},{weight},{style}\n"));
    }
    let csv_path = dir.join("voters.csv");
    std::fs::write(&csv_path, csv)?;
    let cred_dir = dir.join("credentials");
    let issued = voter::credentials(&client, &csv_path, &cred_dir, &registrar_key)?;
    say(&format!(
        "   {} credentials issued, {} roll batch(es) posted",
        issued.ids.len(),
        issued.posted
    ));
    authority::open(&client, &authority_key)?;
    say("   the authority opens the polls");
    let earlier_checkpoint = client.get_checkpoint_note()?;
    mark("registration_ms", &mut timings);

    say("5. voters cast encrypted ballots; voter 0 first challenges one (Benaloh audit); some revote");
    let synced = client.sync(None)?;
    let creds: Vec<Credential> = (0..opts.voters)
        .map(|v| {
            Credential::parse(&secrets::read_secret(
                &cred_dir.join(format!("voter-{v:05}.credential")),
            )?)
            .map_err(anyhow::Error::from)
        })
        .collect::<Result<_>>()?;
    let last: Arc<Mutex<Vec<Option<Choices>>>> = Arc::new(Mutex::new(vec![None; opts.voters]));
    let cast = std::sync::atomic::AtomicUsize::new(0);
    let revoters: Vec<usize> = (0..opts.voters).filter(|v| v % 17 == 3).collect();
    let work: Vec<usize> = (0..opts.voters).chain(revoters.iter().copied()).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let e = synced.election();
    let challenged = Mutex::new(None);
    let bar = crate::progress_bar(work.len() as u64, "ballots cast");
    if quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    let mut rng = rand::rngs::OsRng;
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        // Revotes come after every first ballot has been handed out.
                        let Some(&v) = work.get(i) else { return Ok(()) };
                        let cred = &creds[v];
                        let (_, style) =
                            e.voter(&cred.public()).context("voter not on the roll")?;
                        if i == 0 {
                            let c = Choices::random(&manifest, style, &mut rng);
                            let p = vote::prepare(e, cred, &c, &mut rng)?;
                            let entry = p.challenge(e, cred)?;
                            client.submit_retrying(
                                entry.bytes(),
                                &synced.origin,
                                &synced.key,
                                Duration::from_secs(60),
                            )?;
                            *challenged.lock().map_err(|_| anyhow::anyhow!("lock"))? =
                                Some(entry.leaf_hash());
                        }
                        let c = Choices::random(&manifest, style, &mut rng);
                        let p = vote::prepare(e, cred, &c, &mut rng)?;
                        client.submit_retrying(
                            p.entry.bytes(),
                            &synced.origin,
                            &synced.key,
                            Duration::from_secs(60),
                        )?;
                        cast.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        bar.inc(1);
                        last.lock().map_err(|_| anyhow::anyhow!("lock"))?[v] = Some(c);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a voter thread panicked"))??;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    let cast = cast.into_inner();
    say(&format!(
        "   {cast} ballots cast ({} revotes), 1 challenged",
        revoters.len()
    ));
    mark("voting_ms", &mut timings);

    say("6. the authority closes the polls; trustees 1–3 decrypt the tally (4 and 5 are absent)");
    authority::close(&client, &authority_key)?;
    for k in trustee_keys.iter_mut().take(3) {
        trustee::decrypt(&client, k, Duration::from_secs(300), &mut |_| {})?;
    }
    let (e, result, _) = trustee::tally(&client, None)?;
    mark("tally_ms", &mut timings);

    say("7. an observer downloads the board and re-verifies everything");
    if opts.witnesses > 0 {
        // Observers verify the log under the checkpoint the witness quorum cosigned: wait
        // until that is the latest, so that everything is verified.
        let latest = client.checkpoint(&synced.origin, &synced.key)?.0.size;
        let start = Instant::now();
        loop {
            if let Some(note) = client.cosigned_note()? {
                let cp = urna_ledger::note::Checkpoint::open(&note, &synced.origin, &synced.key)?;
                if cp.size == latest {
                    break;
                }
            }
            if start.elapsed() > Duration::from_secs(30) {
                bail!("the witnesses did not cosign the final checkpoint within 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let fetched = crate::observe(&client, &synced.origin, synced.key, &synced.key)?;
    let bar = crate::progress_bar(0, "entries replayed");
    if quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let report = urna_verifier::verify_board(
        fetched,
        &urna_verifier::Options {
            earlier: vec![earlier_checkpoint],
            ..urna_verifier::Options::default()
        },
        &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )?;
    bar.finish_and_clear();
    mark("verify_ms", &mut timings);

    let last = last.lock().map_err(|_| anyhow::anyhow!("lock"))?.clone();
    let mut expected: Vec<Vec<u64>> = manifest
        .contests
        .iter()
        .map(|c| vec![0; c.options.len()])
        .collect();
    for (v, c) in last.iter().enumerate() {
        let Some(c) = c else { continue };
        let weight = if v % 10 == 9 { 2 } else { 1 };
        for (ci, contest) in manifest.contests.iter().enumerate() {
            if let Some(values) = c.0.get(&contest.id) {
                for (o, x) in values.iter().enumerate() {
                    expected[ci][o] += weight * u64::from(*x);
                }
            }
        }
    }
    let matches = result.counts == expected;
    let ok = report.verified && matches;
    let counts = e.counts();
    if opts.json {
        let named = |counts: &Vec<Vec<u64>>| -> serde_json::Value {
            manifest
                .contests
                .iter()
                .zip(counts)
                .map(|(c, n)| {
                    (
                        c.id.clone(),
                        c.options
                            .iter()
                            .zip(n)
                            .map(|(o, x)| (o.id.clone(), json!(x)))
                            .collect::<serde_json::Map<_, _>>()
                            .into(),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        println!(
            "{}",
            json!({
                "verified": report.verified,
                "result_matches_expected": matches,
                "voters": opts.voters,
                "ballots_cast": cast,
                "ballots_counted": counts.counted,
                "ballots_superseded": counts.superseded,
                "ballots_challenged": counts.challenged,
                "result": named(&result.counts),
                "expected": named(&expected),
                "board": url,
                "entries": report.size,
                "timings_ms": timings,
            })
        );
    } else {
        println!();
        print!("{}", crate::report::body(&report));
        println!(
            "{}",
            if matches {
                "the decrypted result equals the tally computed in the clear from the choices the demo made"
            } else {
                "MISMATCH: the decrypted result differs from the tally computed in the clear"
            }
        );
    }
    Ok(ok)
}
