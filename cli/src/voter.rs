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
use urna_voter::receipt::{BallotReceipt, ReceiptError, Standing, Verdict};
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
            say("independent witnesses confirm new ballots within a few seconds to minutes: run `urna receipt check` later to confirm that your ballot is counted (it also upgrades the receipt to their cosigned checkpoint)");
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

/// The exit status of `urna receipt check` when voting has closed and no checkpoint the
/// witness quorum covers includes the ballot.
pub const NOT_COVERED: u8 = 3;

/// Checks a receipt: offline only, or against the board's log under the witness policy.
/// Returns what to tell the voter and the exit status (0, or [`NOT_COVERED`]); a check that
/// fails is an error (exit status 1, see `main`).
pub fn check_receipt(path: &Path, board: Option<&str>) -> Result<(String, u8)> {
    let r = BallotReceipt::parse(&secrets::read(path)?)?;
    let cp = r.verify_offline()?;
    let code = r.tracking_code().short();
    let Some(url) = board else {
        return Ok((
            format!(
                "offline: ballot {code} is entry {} under the board-signed checkpoint of size {}",
                r.receipt.index, cp.size
            ),
            0,
        ));
    };
    let client = BoardClient::new(url);
    let c = client.sync_checked(Some(&r.board_key))?;
    let i = r.receipt.index;
    let verdict = match r.judge(&c) {
        Err(ReceiptError::Withholding { witnesses, board }) => {
            return Err(anyhow::Error::new(crate::CheckFailed(format!(
                "the board is withholding: the witnesses ({}) have cosigned its log up to {witnesses} entries, but the board shows {} as cosigned. Your ballot's standing is not decided on the board's word. Keep your receipt file and report this to the election authority and the observers.",
                vouchers(&c),
                board.map_or("no checkpoint".to_string(), |b| format!("only {b} entries")),
            ))));
        }
        v => v?,
    };
    let witnessed = c.witnessed.as_ref();
    let quorum = witnessed.map(|v| format!("{} of {}", v.quorum, v.named));
    let mut lines = Vec::new();
    let status = match verdict {
        Verdict::Decided {
            standing,
            covered,
            closed,
        } => {
            let under = match &quorum {
                Some(q) => format!(
                    "the checkpoint of {covered} entries that the witnesses {} vouch for ({q} needed) includes it",
                    vouchers(&c)
                ),
                None => format!("the board's log of {covered} entries extends your receipt's"),
            };
            let when = if closed {
                "voting has closed, so this is final".to_string()
            } else {
                "voting is still open".to_string()
            };
            lines.push(match standing {
                Standing::Counted => format!(
                    "ballot {code} is on the board (entry {i}), {under}, and it is the ballot counted for your credential ({when})"
                ),
                Standing::Superseded { by } => format!(
                    "ballot {code} is on the board (entry {i}), {under}, but it was superseded by a later ballot of the same credential at entry {by} ({when})"
                ),
                Standing::Challenged => format!(
                    "ballot {code} (entry {i}) was challenged (audited), never counted; {under}"
                ),
            });
            if let Some(upgrade) = upgrade(&r, &c, path)? {
                lines.push(upgrade);
            }
            0
        }
        Verdict::Pending { covered } => {
            lines.push(format!(
                "Your ballot is recorded: ballot {code} is entry {i} of the board's log, and the board's signed receipt verifies. Independent witnesses confirm new ballots within a few seconds to minutes (so far they have confirmed the first {covered} entries); run `urna receipt check` again later to confirm that it is counted."
            ));
            0
        }
        Verdict::NotCovered { covered } => {
            lines.push(format!(
                "NOT CONFIRMED: voting has closed, but the witnesses ({} needed) have confirmed the board's log only up to {covered} entries, and your ballot is entry {i}. The board's signed receipt still proves that it accepted your ballot; keep the receipt file and report this to the election authority and the observers: the board may be hiding entries from the witnesses.",
                quorum.as_deref().unwrap_or("a quorum")
            ));
            NOT_COVERED
        }
    };
    if let Some(v) = witnessed {
        for (name, why) in v.unanswered() {
            lines.push(format!("note: witness {name} could not be asked ({why})"));
        }
    }
    Ok((lines.join("\n"), status))
}

/// The witnesses vouching for the covered checkpoint, by name.
fn vouchers(c: &urna_board::client::Checked) -> String {
    c.witnessed
        .as_ref()
        .and_then(|v| v.covered.as_ref())
        .map_or_else(String::new, |cv| cv.vouchers.join(", "))
}

/// Rewrites the receipt under the covered checkpoint once that checkpoint's note carries the
/// quorum's cosignatures itself (so the receipt proves the ballot's inclusion offline).
fn upgrade(
    r: &BallotReceipt,
    c: &urna_board::client::Checked,
    path: &Path,
) -> Result<Option<String>> {
    let Some(v) = &c.witnessed else {
        return Ok(None);
    };
    let Some(cv) = v
        .covered
        .as_ref()
        .filter(|cv| cv.cosigners.len() >= v.quorum)
    else {
        return Ok(None);
    };
    let names = cv.cosigners.join(", ");
    if r.receipt.checkpoint == cv.note {
        return Ok(Some(format!(
            "your receipt is under a checkpoint cosigned by {names} ({} needed)",
            v.quorum
        )));
    }
    let proof = c
        .synced
        .log
        .tree
        .inclusion_proof(r.receipt.index, cv.checkpoint.size)
        .map_err(|e| anyhow::anyhow!("inclusion proof under the cosigned checkpoint: {e}"))?;
    let upgraded = urna_board::note::Receipt {
        index: r.receipt.index,
        proof,
        checkpoint: cv.note.clone(),
    };
    upgraded.verify(&r.entry, &r.election_id, &r.board_key)?;
    let new = BallotReceipt {
        receipt: upgraded,
        ..BallotReceipt::parse(&r.to_text())?
    };
    std::fs::write(path, new.to_text()).with_context(|| format!("writing {}", path.display()))?;
    Ok(Some(format!(
        "upgraded: your receipt is now under the checkpoint of size {} cosigned by {names} ({} of {} needed), saved to {}",
        cv.checkpoint.size,
        v.quorum,
        v.named,
        path.display()
    )))
}
