//! `urna registrar …`, `urna vote`, `urna receipt check`: thin over `urna-voter`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use urna_client::{BoardClient, ClientError};
use urna_crypto::sign::SigningKey;
use urna_election::ballot::Choices;
use urna_election::entry::TrackingCode;
use urna_election::manifest::{Contest, Manifest};
use urna_office::registrar::IssueError;
use urna_voter::cast::{CastError, Session};
use urna_voter::choices;
use urna_voter::credential::Credential;
use urna_voter::receipt::{BallotReceipt, Judge, ReceiptError, Standing, Verdict};

use crate::guide::{self, Act};
use crate::secrets;

/// What `credentials` did: the voters issued a credential now, and the roll batches posted.
pub use urna_office::registrar::Issued;

/// Issues credentials for new voters (files `<out>/<voter id>.credential`, mode 0600), records
/// them in the private registry `<out>/registry.csv`, and posts every registry entry not yet
/// on the roll. The CSV is checked before the board is reached.
pub fn credentials(
    client: &BoardClient,
    csv: &Path,
    out: &Path,
    key: &SigningKey,
) -> Result<Issued> {
    let text = secrets::read_public(csv)?;
    urna_office::registrar::credentials(client, &text, &csv.display().to_string(), out, key)
        .map_err(|e| match e {
            IssueError::Rows(rows) => guide::bad_input(rows),
            IssueError::Office(e) => e.into(),
        })
}

/// Writes a printable letter (`<out>/<voter id>.html`, mode 0600) for each voter of the
/// registry in `creds` whose credential file is there (only those in `only`, if given).
/// Returns how many were written.
pub fn letters(
    client: &BoardClient,
    creds: &Path,
    out: &Path,
    public_url: &str,
    only: Option<&[String]>,
) -> Result<usize> {
    let l = urna_office::registrar::letters(client, creds, out, public_url, only)?;
    if !l.missing.is_empty() {
        eprintln!(
            "no credential file (delivered and deleted?), so no letter, for: {}",
            l.missing.join(", ")
        );
    }
    Ok(l.written)
}

/// Reads answers on the terminal.
struct Terminal;

impl Terminal {
    /// One answer, trimmed. End of input is an error: nothing is cast without an answer.
    fn ask(&self, prompt: &str) -> Result<String> {
        print!("{prompt}");
        std::io::stdout().flush()?;
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line)? == 0 {
            bail!("no answer (end of input); nothing was cast");
        }
        Ok(line.trim().to_string())
    }

    /// Asks one contest until the answer satisfies its rule.
    fn contest(&self, c: &Contest, n: usize, of: usize) -> Result<Vec<u16>> {
        println!("\n[{n}/{of}] {} — {}", c.title, choices::instructions(c));
        let w = c.options.iter().map(|o| o.id.len()).max().unwrap_or(0);
        for o in &c.options {
            println!("  {:<w$}  {}", o.id, o.name);
        }
        println!(
            "({})",
            if c.rule().per_option_max == 1 {
                "type the option ids, separated by commas"
            } else {
                "type option:points pairs, separated by commas"
            }
        );
        loop {
            let line = self.ask("> ")?;
            match choices::parse_answer(&line, c) {
                Ok(v) => return Ok(v),
                Err(e) => println!("  {e}. Please answer again."),
            }
        }
    }
}

/// Asks every contest of the style, then shows the choices and lets the voter change any of
/// them before anything is encrypted. `kept` (choices already made, e.g. before a challenge)
/// skips straight to the summary.
fn ask_choices(m: &Manifest, style: u16, kept: Option<Choices>) -> Result<Choices> {
    let term = Terminal;
    let contests: Vec<&Contest> = m.ballot_styles[usize::from(style)]
        .contests
        .iter()
        .map(|&ci| &m.contests[usize::from(ci)])
        .collect();
    let mut choices = match kept {
        Some(c) => c,
        None => {
            let mut c = Choices::default();
            for (i, contest) in contests.iter().enumerate() {
                let v = term.contest(contest, i + 1, contests.len())?;
                c.0.insert(contest.id.clone(), v);
            }
            c
        }
    };
    loop {
        println!("\nYour choices:");
        for (i, c) in contests.iter().enumerate() {
            let values = choices
                .0
                .get(&c.id)
                .cloned()
                .unwrap_or_else(|| vec![0; c.options.len()]);
            println!(
                "  {}. {}: {}",
                i + 1,
                c.title,
                choices::describe_answer(&values, c)
            );
        }
        let answer =
            term.ask("encrypt these choices? [ok, or change N (the contest's number or id)] ")?;
        let answer = answer.to_lowercase();
        if matches!(answer.as_str(), "" | "ok" | "y" | "yes") {
            return Ok(choices);
        }
        let which = answer.strip_prefix("change").unwrap_or(&answer).trim();
        let which = if which.is_empty() {
            term.ask("which contest? (its number or id) ")?
        } else {
            which.to_string()
        };
        let found = which
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .filter(|&i| i < contests.len())
            .or_else(|| contests.iter().position(|c| c.id == which));
        match found {
            Some(i) => {
                let v = term.contest(contests[i], i + 1, contests.len())?;
                choices.0.insert(contests[i].id.clone(), v);
            }
            None => println!("  `{which}` is none of the contests 1–{}", contests.len()),
        }
    }
}

pub struct VoteOptions<'a> {
    pub choices: Option<&'a str>,
    pub challenge: bool,
    pub receipt_out: Option<&'a Path>,
}

/// What `vote` did.
pub enum Outcome {
    Cast(Box<BallotReceipt>),
    /// Challenged (and published) a ballot of this tracking code; nothing was cast.
    Challenged(TrackingCode),
}

/// The first three groups of a tracking code: what a voter compares by eye.
pub fn code_prefix(code: &TrackingCode) -> String {
    code.full().split('-').take(3).collect::<Vec<_>>().join("-")
}

/// Prepares, shows the tracking code, then casts or challenges (`urna_voter::cast` does each
/// step). On a terminal: contest by contest, a summary with "change", and after a challenge
/// the same choices encrypted afresh.
pub fn vote(
    client: &BoardClient,
    cred: &Credential,
    opts: &VoteOptions<'_>,
    say: &mut dyn FnMut(&str),
) -> Result<Outcome> {
    let interactive = opts.choices.is_none() && std::io::stdin().is_terminal();
    let mut kept: Option<Choices> = None;
    loop {
        let session = Session::open(client, cred).map_err(cast_error)?;
        let m = session.manifest();
        guide::allow(Act::Vote, session.election())?;
        if kept.is_none() {
            if interactive {
                say(&format!("{} — your ballot", m.title));
            }
            let weight = session.weight();
            if weight != 1 {
                say(&format!(
                    "your ballot counts {weight} times: the roll gives your credential a weight of {weight}, as this election's rules provide"
                ));
            }
        }
        let choices = match opts.choices {
            Some(c) => session.choices(c).map_err(|e| match e {
                CastError::ChoicesSyntax(_) | CastError::Choices(_) => {
                    guide::bad_input(format!("--choices: {e}"))
                }
                e => cast_error(e),
            })?,
            None if interactive => ask_choices(m, session.style(), kept.take())?,
            None => crate::outcome::usage!("no --choices given and not on a terminal to ask them"),
        };
        let prepared = session
            .prepare(&choices, &mut rand::rngs::OsRng)
            .map_err(cast_error)?;
        let code = prepared.tracking_code();
        say(&format!("tracking code: {}", code.full()));
        let challenge = if interactive {
            say(&format!(
                "note at least its first groups ({}): the board will show your ballot under this code",
                code_prefix(&code)
            ));
            loop {
                let a = Terminal.ask(
                    "cast this ballot, or challenge it to audit the encryption? [cast/challenge] ",
                )?;
                match a.to_lowercase().as_str() {
                    "cast" => break false,
                    "challenge" => break true,
                    _ => println!("  please type cast or challenge"),
                }
            }
        } else {
            opts.challenge
        };
        if challenge {
            session.challenge(prepared).map_err(cast_error)?;
            say("challenged: the encryption opened to exactly your choices and was published for anyone to audit; this ballot can never be cast");
            if interactive {
                say("your choices are kept; they will be encrypted afresh (you may still change them)");
                kept = Some(choices);
                continue;
            }
            return Ok(Outcome::Challenged(code));
        }
        if let Some(i) = urna_voter::vote::counted_ballot(session.election(), cred) {
            say(&format!("note: this replaces your earlier ballot (entry {i}), which will be marked superseded"));
        }
        let cast = session.cast(&prepared).map_err(cast_error)?;
        let r = cast.receipt;
        if let Some(path) = opts.receipt_out {
            std::fs::write(path, r.to_text())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        say(&format!(
            "cast: entry {} of the ledger, receipt verified",
            r.receipt.index
        ));
        if !m.witnesses.is_empty() {
            say("this is normal: your receipt is signed by the board, and independent witnesses confirm new ballots within a few seconds to minutes; run `urna receipt check` later to confirm, under their cosignatures, that your ballot is counted");
        }
        return Ok(Outcome::Cast(Box::new(r)));
    }
}

/// A failed step of casting, said as the voter needs it: a refusal by the board names its code.
fn cast_error(e: CastError) -> anyhow::Error {
    match e {
        CastError::Board(e) => explain(e),
        CastError::NoElection => anyhow::anyhow!("the board holds no election yet"),
        e => anyhow::Error::new(e),
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
/// Returns what to tell the voter, the ballot's standing once decided, and the exit status (0, or [`NOT_COVERED`]); a check that
/// fails is an error (exit status 1, see `main`).
pub fn check_receipt(path: &Path, board: Option<&str>) -> Result<(String, Option<Standing>, u8)> {
    let r = BallotReceipt::parse(&secrets::read_public(path)?)
        .map_err(|e| guide::bad_input(format!("{}: {e}", path.display())))?;
    let cp = r.verify_offline()?;
    let code = r.tracking_code().full();
    let Some(url) = board else {
        return Ok((
            format!(
                "offline: ballot {code} is entry {} under the board-signed checkpoint of size {}",
                r.receipt.index, cp.size
            ),
            None,
            0,
        ));
    };
    let client = BoardClient::new(url);
    let c = client.sync_checked(Some(&r.board_key))?;
    let i = r.receipt.index;
    let verdict = match r.judge(&c) {
        Err(ReceiptError::Withholding { witnesses, board }) => {
            return Err(anyhow::Error::new(crate::outcome::CheckFailed(format!(
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
    let (standing, status) = match verdict {
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
            (Some(standing), 0)
        }
        Verdict::Pending { covered } => {
            lines.push(format!(
                "Your ballot is recorded: ballot {code} is entry {i} of the board's log, and the board's signed receipt verifies. Independent witnesses confirm new ballots within a few seconds to minutes (so far they have confirmed the first {covered} entries); run `urna receipt check` again later to confirm that it is counted."
            ));
            (None, 0)
        }
        Verdict::NotCovered { covered } => {
            lines.push(format!(
                "NOT CONFIRMED: voting has closed, but the witnesses ({} needed) have confirmed the board's log only up to {covered} entries, and your ballot is entry {i}. The board's signed receipt still proves that it accepted your ballot; keep the receipt file and report this to the election authority and the observers: the board may be hiding entries from the witnesses.",
                quorum.as_deref().unwrap_or("a quorum")
            ));
            (None, NOT_COVERED)
        }
    };
    if let Some(v) = witnessed {
        for (name, why) in v.unanswered() {
            lines.push(format!("note: witness {name} could not be asked ({why})"));
        }
    }
    Ok((lines.join("\n"), standing, status))
}

/// The witnesses vouching for the covered checkpoint, by name.
fn vouchers(c: &urna_client::Checked) -> String {
    c.witnessed
        .as_ref()
        .and_then(|v| v.covered.as_ref())
        .map_or_else(String::new, |cv| cv.vouchers.join(", "))
}

/// Once the covered checkpoint's note carries the quorum's cosignatures itself, saves the receipt
/// under it (so it proves the ballot's inclusion offline) to a new file beside the voter's,
/// [`upgraded_path`]: the receipt the voter holds is their evidence and is never modified.
fn upgrade(r: &BallotReceipt, c: &urna_client::Checked, path: &Path) -> Result<Option<String>> {
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
        .tree()
        .inclusion_proof(r.receipt.index, cv.checkpoint.size)
        .map_err(|e| anyhow::anyhow!("inclusion proof under the cosigned checkpoint: {e}"))?;
    let upgraded = urna_ledger::note::Receipt {
        index: r.receipt.index,
        proof,
        checkpoint: cv.note.clone(),
    };
    upgraded.verify(&r.entry, &r.election_id, &r.board_key)?;
    let new = BallotReceipt {
        receipt: upgraded,
        ..BallotReceipt::parse(&r.to_text())?
    };
    let out = upgraded_path(path);
    secrets::write_secret(&out, &new.to_text(), false)?;
    Ok(Some(format!(
        "upgraded: the receipt under the checkpoint of size {} cosigned by {names} ({} of {} needed) is saved to {}; {} is left as it was",
        cv.checkpoint.size,
        v.quorum,
        v.named,
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
