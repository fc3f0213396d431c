//! `urna registrar …`, `urna vote`, `urna receipt check`: thin over `urna-voter`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use urna_board::client::{BoardClient, ClientError};
use urna_crypto::sign::SigningKey;
use urna_election::ballot::Choices;
use urna_election::manifest::Manifest;
use urna_voter::credential::Credential;
use urna_voter::receipt::{BallotReceipt, Standing};
use urna_voter::registrar::{parse_csv, Registry};
use urna_voter::vote;

use crate::secrets;

const REGISTRY: &str = "registry.csv";

/// Issues credentials for new voters (files `<out>/<voter id>.credential`, mode 0600), records
/// them in the private registry `<out>/registry.csv`, and posts every registry entry not yet
/// on the roll. Returns (issued now, posted now).
pub fn credentials(
    client: &BoardClient,
    csv: &Path,
    out: &Path,
    key: &SigningKey,
) -> Result<(usize, usize)> {
    let s = client.sync(None)?;
    let m = s
        .election
        .manifest()
        .context("the board has no Setup entry yet")?;
    let rows = parse_csv(&secrets::read(csv)?, m).map_err(|errs| {
        anyhow::anyhow!(
            "{} has bad rows; nothing was issued or posted:\n{}",
            csv.display(),
            errs.iter()
                .map(|e| format!("  {e}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    for r in &rows {
        if r.id.contains(['/', '\\']) || r.id.starts_with('.') {
            bail!("line {}: voter_id {:?} cannot name a file", r.line, r.id);
        }
    }
    std::fs::create_dir_all(out)?;
    let reg_path = out.join(REGISTRY);
    let mut registry = match std::fs::read_to_string(&reg_path) {
        Ok(t) => Registry::parse(&t).map_err(|e| anyhow::anyhow!("{}: {e}", reg_path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Registry::default(),
        Err(e) => return Err(e.into()),
    };
    let issued = registry.issue(&m.election_id, &rows, &mut rand::rngs::OsRng);
    for (row, cred) in &issued {
        secrets::write_secret(
            &out.join(format!("{}.credential", row.id)),
            &cred.to_text(),
            true,
        )?;
    }
    // The registry is durable before anything is posted, so a re-run never issues twice.
    secrets::write_secret(&reg_path, &registry.to_text(), false)?;
    let batches = registry
        .pending_roll(&s.election, key)
        .map_err(anyhow::Error::msg)?;
    let mut posted = 0;
    for b in &batches {
        client.submit_retrying(b.bytes(), &s.origin, &s.key, Duration::from_secs(60))?;
        posted += 1;
    }
    Ok((issued.len(), posted))
}

/// Asks for each contest's choices on the terminal.
fn ask_choices(m: &Manifest, style: u16) -> Result<Choices> {
    let stdin = std::io::stdin();
    let mut text = String::new();
    for &ci in &m.ballot_styles[usize::from(style)].contests {
        let c = &m.contests[usize::from(ci)];
        let rule = c.rule();
        println!("\n{}", c.title);
        for o in &c.options {
            println!("  {:<12} {}", o.id, o.name);
        }
        if rule.per_option_max == 1 {
            println!(
                "choose {}..{} option ids, separated by commas:",
                rule.total_min, rule.total_max
            );
        } else {
            println!(
                "give option:score pairs (each 0..{}, at most {} in all), separated by commas:",
                rule.per_option_max, rule.total_max
            );
        }
        print!("> ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        text.push_str(&format!("{}={};", c.id, line.trim()));
    }
    Ok(urna_voter::choices::parse(&text, m)?)
}

pub struct VoteOptions<'a> {
    pub choices: Option<&'a str>,
    pub challenge: bool,
    pub receipt_out: Option<&'a Path>,
}

/// Prepares, shows the tracking code, then casts or challenges (looping after a challenge on a
/// terminal). Returns the receipt when a ballot was cast.
pub fn vote(
    client: &BoardClient,
    cred: &Credential,
    opts: &VoteOptions<'_>,
    say: &mut dyn FnMut(&str),
) -> Result<Option<BallotReceipt>> {
    let interactive = opts.choices.is_none() && std::io::stdin().is_terminal();
    loop {
        let s = client.sync(None).map_err(explain)?;
        let m = s
            .election
            .manifest()
            .context("the board has no election yet")?;
        let (_, style) = s
            .election
            .voter(&cred.public())
            .ok_or(vote::VoteError::NotOnRoll)?;
        let choices = match opts.choices {
            Some(c) => urna_voter::choices::parse(c, m)?,
            None if interactive => ask_choices(m, style)?,
            None => bail!("no --choices given and not on a terminal"),
        };
        let prepared = vote::prepare(&s.election, cred, &choices, &mut rand::rngs::OsRng)?;
        say(&format!(
            "tracking code: {}",
            prepared.tracking_code().full()
        ));
        let challenge = if interactive {
            print!("cast this ballot, or challenge it to audit the encryption? [cast/challenge] ");
            std::io::stdout().flush()?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim().starts_with("ch")
        } else {
            opts.challenge
        };
        if challenge {
            let entry = prepared.challenge(&s.election, cred)?;
            client
                .submit_retrying(entry.bytes(), &s.origin, &s.key, Duration::from_secs(60))
                .map_err(explain)?;
            say("challenged: the encryption opened to exactly your choices and was published for anyone to audit; this ballot can never be cast");
            if interactive {
                say("preparing a fresh ballot");
                continue;
            }
            return Ok(None);
        }
        // The voter may have taken a while to decide: the ballot was made for this board, this
        // election and an open poll; make sure that is still so before casting it.
        let (origin, key) = client.stated_key().map_err(explain)?;
        let phase = client.info().map_err(explain)?["phase"].clone();
        if origin != s.origin || key != s.key {
            bail!("the board's election or key changed since the ballot was prepared; nothing was cast");
        }
        if phase != "voting" {
            bail!("the election changed since the ballot was prepared (phase now {phase}); nothing was cast");
        }
        if let Some(i) = vote::counted_ballot(&s.election, cred) {
            say(&format!("note: this replaces your earlier ballot (entry {i}), which will be marked superseded"));
        }
        let receipt = client
            .submit_retrying(
                prepared.entry.bytes(),
                &s.origin,
                &s.key,
                Duration::from_secs(120),
            )
            .map_err(explain)?;
        let r = BallotReceipt {
            election_id: s.origin.clone(),
            board_key: s.key,
            entry: prepared.entry.bytes().to_vec(),
            receipt,
        };
        if let Some(path) = opts.receipt_out {
            std::fs::write(path, r.to_text())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        say(&format!(
            "cast: entry {} of the ledger, receipt verified",
            r.receipt.index
        ));
        if !m.witnesses.is_empty() {
            say("the receipt's checkpoint is signed by the board but not yet cosigned by the witnesses; `urna receipt check` upgrades it once they have");
        }
        return Ok(Some(r));
    }
}

fn explain(e: ClientError) -> anyhow::Error {
    match e {
        ClientError::Rejected { code, message, .. } => {
            anyhow::anyhow!("the board refused the ballot ({code}): {message}")
        }
        other => other.into(),
    }
}

/// Checks a receipt: offline only, or against the board's current log.
pub fn check_receipt(path: &Path, board: Option<&str>) -> Result<String> {
    let r = BallotReceipt::parse(&secrets::read(path)?)?;
    let cp = r.verify_offline()?;
    let Some(url) = board else {
        return Ok(format!(
            "offline: ballot {} is entry {} under the board-signed checkpoint of size {}",
            r.tracking_code().short(),
            r.receipt.index,
            cp.size
        ));
    };
    let client = BoardClient::new(url);
    let s = client.sync(Some(&r.board_key))?;
    let standing = r.check(&s, |a, b| {
        client.check_consistency(a, b).map_err(|e| e.to_string())
    })?;
    let phase = format!("{:?}", s.election.phase()).to_lowercase();
    let witnessed = witness_status(&client, &s, &r, cp, path)?;
    let standing = match standing {
        Standing::Counted => format!(
            "ballot {} is on the board (entry {}), the log of size {} extends your receipt's, and it is the ballot counted for your credential (phase {phase})",
            r.tracking_code().short(), r.receipt.index, s.log.checkpoint.size
        ),
        Standing::Superseded { by } => format!(
            "ballot {} is on the board (entry {}), but it was superseded by a later ballot of the same credential at entry {by}",
            r.tracking_code().short(), r.receipt.index
        ),
        Standing::Challenged => format!("ballot {} was challenged (audited), never counted", r.tracking_code().short()),
    };
    Ok(match witnessed {
        Some(w) => format!("{standing}\n{w}"),
        None => standing,
    })
}

/// Under a manifest that names witnesses: checks the board's cosigned checkpoint against the
/// policy and, once it covers the ballot, saves the receipt under it (the upgrade) to a new file
/// beside the voter's, [`upgraded_path`]: the receipt the voter holds is their evidence and is
/// never modified.
fn witness_status(
    client: &BoardClient,
    s: &urna_board::client::Synced,
    r: &BallotReceipt,
    receipt_cp: urna_board::note::Checkpoint,
    path: &Path,
) -> Result<Option<String>> {
    let Some(m) = s.election.manifest().filter(|m| !m.witnesses.is_empty()) else {
        return Ok(None);
    };
    let (policy, quorum) = urna_board::client::witness_policy(m);
    let Some(note) = client.cosigned_note()? else {
        return Ok(Some(format!(
            "not yet cosigned: no checkpoint carries the witness quorum ({quorum} of {}) yet; check again later",
            policy.len()
        )));
    };
    let (cp, who) =
        urna_board::note::Checkpoint::open_witnessed(&note, &s.origin, &s.key, &policy, quorum)
            .context("the board's cosigned checkpoint does not meet the witness policy")?;
    if cp.size < receipt_cp.size {
        client.check_consistency(&cp, &receipt_cp)?;
    } else {
        client.check_consistency(&receipt_cp, &cp)?;
    }
    let names = who
        .iter()
        .map(|i| policy[*i].0.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if r.receipt.index >= cp.size {
        return Ok(Some(format!(
            "not yet cosigned: the witnesses ({names}) have cosigned the log up to size {}, before your ballot; check again later",
            cp.size
        )));
    }
    if r.receipt.checkpoint == note {
        return Ok(Some(format!(
            "your receipt is under a checkpoint cosigned by {names} ({quorum} needed)"
        )));
    }
    let leaf = urna_board::merkle::leaf_hash(&r.entry);
    let upgraded = client
        .cosigned_receipt(&leaf)?
        .context("the board has no receipt under its cosigned checkpoint")?;
    upgraded.verify(&r.entry, &s.origin, &s.key)?;
    if upgraded.checkpoint != note {
        bail!("the board's upgraded receipt is not under its cosigned checkpoint");
    }
    let new = BallotReceipt {
        receipt: upgraded,
        ..BallotReceipt::parse(&r.to_text())?
    };
    let out = upgraded_path(path);
    secrets::write_secret(&out, &new.to_text(), false)?;
    Ok(Some(format!(
        "upgraded: the receipt under the checkpoint of size {} cosigned by {names} ({quorum} of {} needed) is saved to {}; {} is left as it was",
        cp.size,
        policy.len(),
        out.display(),
        path.display()
    )))
}

/// Where `urna receipt check` saves the upgraded receipt: the voter's file name with
/// `.cosigned` appended.
pub fn upgraded_path(receipt: &Path) -> std::path::PathBuf {
    let mut name = receipt.as_os_str().to_owned();
    name.push(".cosigned");
    name.into()
}
