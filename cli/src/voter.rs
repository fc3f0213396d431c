//! `urna registrar …`, `urna vote`, `urna receipt check`: thin over `urna-voter`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use urna_client::{BoardClient, ClientError};
use urna_crypto::sign::SigningKey;
use urna_election::entry::TrackingCode;
use urna_election::manifest::{Contest, Manifest};
use urna_office::registrar::IssueError;
use urna_voter::cast::{CastError, Session};
use urna_voter::choices::{self, Answers};
use urna_voter::credential::Credential;
use urna_voter::receipt::{BallotReceipt, Judge, ReceiptError, Standing, Verdict};

use crate::guide::{self, Act};
use crate::lang::Lang;
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

/// Reads answers on the terminal, speaking the voter's language.
struct Terminal(Lang);

impl Terminal {
    /// One answer, trimmed. End of input is an error: nothing is cast without an answer.
    fn ask(&self, prompt: &str) -> Result<String> {
        print!("{prompt}");
        std::io::stdout().flush()?;
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line)? == 0 {
            bail!(
                "{}",
                self.0.say(
                    "no answer (end of input); nothing was cast",
                    "没有回答（输入已结束）；没有投出任何选票"
                )
            );
        }
        Ok(line.trim().to_string())
    }

    /// Asks one contest until the answer satisfies its rule, and records it in `answers`.
    fn contest(&self, c: &Contest, n: usize, of: usize, answers: &mut Answers) -> Result<()> {
        let l = self.0;
        println!(
            "\n[{n}/{of}] {} — {}",
            c.title_in(l.tag()),
            l.instructions(c)
        );
        let w = c.options.iter().map(|o| o.id.len()).max().unwrap_or(0);
        for o in &c.options {
            println!("  {:<w$}  {}", o.id, l.option_name(c, o));
        }
        let ranked = c.ranked().is_some();
        println!("({})", l.how_to_answer(c));
        loop {
            let line = self.ask("> ")?;
            let done = if ranked {
                choices::parse_ranking(&line, c).map(|p| {
                    answers.rankings.0.insert(c.id.clone(), p);
                })
            } else {
                choices::parse_answer(&line, c).map(|v| {
                    answers.choices.0.insert(c.id.clone(), v);
                })
            };
            match done {
                Ok(()) => return Ok(()),
                Err(e) => println!(
                    "  {}{}",
                    l.answer_error(&e),
                    l.say(". Please answer again.", "。请重新回答。")
                ),
            }
        }
    }
}

/// Asks every contest of the style, then shows the choices and lets the voter change any of
/// them before anything is encrypted. `kept` (choices already made, e.g. before a challenge)
/// skips straight to the summary.
fn ask_choices(m: &Manifest, style: u16, kept: Option<Answers>, l: Lang) -> Result<Answers> {
    let term = Terminal(l);
    let contests: Vec<&Contest> = m.ballot_styles[usize::from(style)]
        .contests
        .iter()
        .map(|&ci| &m.contests[usize::from(ci)])
        .collect();
    let mut answers = match kept {
        Some(a) => a,
        None => {
            let mut a = Answers::default();
            for (i, contest) in contests.iter().enumerate() {
                term.contest(contest, i + 1, contests.len(), &mut a)?;
            }
            a
        }
    };
    loop {
        println!("\n{}", l.say("Your choices:", "您的选择："));
        for (i, c) in contests.iter().enumerate() {
            println!(
                "  {}. {}: {}",
                i + 1,
                c.title_in(l.tag()),
                l.describe(&answers, c)
            );
        }
        let answer = term.ask(l.say(
            "encrypt these choices? [ok, or change N (the contest's number or id)] ",
            "加密这些选择吗？[ok 确认，或 change N 修改（选举项的序号或代号）] ",
        ))?;
        let answer = answer.to_lowercase();
        if matches!(answer.as_str(), "" | "ok" | "y" | "yes" | "好" | "确认") {
            return Ok(answers);
        }
        let which = answer
            .strip_prefix("change")
            .or_else(|| answer.strip_prefix("修改"))
            .unwrap_or(&answer)
            .trim();
        let which = if which.is_empty() {
            term.ask(l.say(
                "which contest? (its number or id) ",
                "修改哪一项？（序号或代号） ",
            ))?
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
            Some(i) => term.contest(contests[i], i + 1, contests.len(), &mut answers)?,
            None => println!(
                "  {}",
                l.say(
                    format!("`{which}` is none of the contests 1–{}", contests.len()),
                    format!("“{which}”不是 1–{} 中的任何一项", contests.len())
                )
            ),
        }
    }
}

pub struct VoteOptions<'a> {
    pub choices: Option<&'a str>,
    pub challenge: bool,
    pub receipt_out: Option<&'a Path>,
    pub lang: Lang,
    /// Replay the whole log instead of the voter's light view.
    pub full: bool,
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
    let l = opts.lang;
    let mut kept: Option<Answers> = None;
    loop {
        let session = if opts.full {
            Session::open_full(client, cred)
        } else {
            Session::open(client, cred)
        }
        .map_err(cast_error)?;
        let m = session.manifest();
        // The number of voters matters only to opening the poll, not to voting.
        guide::allow_at(Act::Vote, session.phase(), Some(m), 1)?;
        if kept.is_none() {
            if interactive {
                say(&format!(
                    "{} — {}",
                    m.title_in(l.tag()),
                    l.say("your ballot", "您的选票")
                ));
            }
            let weight = session.weight();
            if weight != 1 {
                say(&l.say(
                    format!("your ballot counts {weight} times: the roll gives your credential a weight of {weight}, as this election's rules provide"),
                    format!("您的选票计为 {weight} 票：根据本次选举的规则，选民名册为您的凭证登记了 {weight} 倍的权重"),
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
            None if interactive => ask_choices(m, session.style(), kept.take(), l)?,
            None => crate::outcome::usage!("no --choices given and not on a terminal to ask them"),
        };
        let prepared = session
            .prepare_answers(&choices, &mut rand::rngs::OsRng)
            .map_err(cast_error)?;
        let code = prepared.tracking_code();
        say(&format!(
            "{}: {}",
            l.say("tracking code", "追踪码"),
            code.full()
        ));
        let challenge = if interactive {
            say(&l.say(
                format!(
                    "note at least its first groups ({}): the board will show your ballot under this code",
                    code_prefix(&code)
                ),
                format!(
                    "请至少记下前几组（{}）：公告板将以此追踪码显示您的选票",
                    code_prefix(&code)
                ),
            ));
            loop {
                let a = Terminal(l).ask(l.say(
                    "cast this ballot, or challenge it to audit the encryption? [cast/challenge] ",
                    "投出这张选票，还是审计其加密？[cast 投出/challenge 审计] ",
                ))?;
                match a.to_lowercase().as_str() {
                    "cast" | "投出" => break false,
                    "challenge" | "审计" => break true,
                    _ => println!(
                        "  {}",
                        l.say(
                            "please type cast or challenge",
                            "请输入 cast（投出）或 challenge（审计）"
                        )
                    ),
                }
            }
        } else {
            opts.challenge
        };
        if challenge {
            session.challenge(prepared).map_err(cast_error)?;
            say(l.say(
                "challenged: the encryption opened to exactly your choices and was published for anyone to audit; this ballot can never be cast",
                "已审计：加密打开后正是您的选择，并已公布供任何人审计；这张选票永远不能再投出",
            ));
            if interactive {
                say(l.say(
                    "your choices are kept; they will be encrypted afresh (you may still change them)",
                    "您的选择已保留，将重新加密（您仍可修改）",
                ));
                kept = Some(choices);
                continue;
            }
            return Ok(Outcome::Challenged(code));
        }
        if let Some(i) = session.counted_ballot() {
            say(&l.say(
                format!("note: this replaces your earlier ballot (entry {i}), which will be marked superseded"),
                format!("注意：这张选票将取代您之前的选票（第 {i} 条），之前的选票会被标记为已取代"),
            ));
        }
        let cast = session.cast(&prepared).map_err(cast_error)?;
        let r = cast.receipt;
        if let Some(path) = opts.receipt_out {
            std::fs::write(path, r.to_text())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        match cast.extends {
            urna_voter::cast::Extends::Proven => {}
            urna_voter::cast::Extends::Unknown(why) => say(&l.say(
                format!("note: the server could not yet prove that the receipt's log extends the one checked before casting ({why}); `urna receipt check` will"),
                format!("注意：服务器暂时无法证明回执所在的日志是投票前所核验日志的延续（{why}）；`urna receipt check` 稍后会核验"),
            )),
            urna_voter::cast::Extends::Contradicted(why) => anyhow::bail!(
                "the board's receipt is under a log that is not an extension of the one checked before casting: {why}. The receipt is saved as evidence; report it to the election authority and the observers"
            ),
        }
        say(&l.say(
            format!(
                "cast: entry {} of the ledger, receipt verified",
                r.receipt.index
            ),
            format!("已投出：记录第 {} 条，回执已核验", r.receipt.index),
        ));
        if !m.witnesses.is_empty() {
            say(l.say(
                "this is normal: your receipt is signed by the board, and independent witnesses confirm new ballots within a few seconds to minutes; run `urna receipt check` later to confirm, under their cosignatures, that your ballot is counted",
                "这是正常的：您的回执已由公告板签名，独立见证人会在几秒到几分钟内确认新选票；稍后运行 `urna receipt check`，即可在他们的联署下确认您的选票已被计入",
            ));
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

/// What a receipt was checked against: the whole log (`--full`), or the voter's light view.
enum Against {
    Full(Box<urna_client::Checked>),
    Light {
        client: BoardClient,
        witnessed: Option<Box<urna_client::WitnessView>>,
    },
}

impl Against {
    fn witnessed(&self) -> Option<&urna_client::WitnessView> {
        match self {
            Against::Full(c) => c.witnessed.as_ref(),
            Against::Light { witnessed, .. } => witnessed.as_deref(),
        }
    }
}

/// Checks a receipt: offline only, or against the board under the witness policy — by default
/// from the voter's light view (`GET /voter/<credential>`: the ballot's credential's entries
/// with inclusion proofs, the receipt's checkpoint extended by the board's, the witnesses'
/// checkpoints by consistency proofs; nothing grows with the number of ballots), with `full`
/// from the whole log downloaded and replayed.
/// Returns what to tell the voter, the ballot's standing once decided, and the exit status (0, or [`NOT_COVERED`]); a check that
/// fails is an error (exit status 1, see `main`).
pub fn check_receipt(
    path: &Path,
    board: Option<&str>,
    full: bool,
) -> Result<(String, Option<Standing>, u8)> {
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
    let misbehaved = |why: String| {
        anyhow::Error::new(crate::outcome::CheckFailed(format!(
            "{why}\nYour ballot's standing is not decided on a view that does not check out. Keep your receipt file and report this, with the evidence above, to the election authority and the observers."
        )))
    };
    let (judged, against) = if full {
        let c = match client.sync_checked(Some(&r.board_key)) {
            Err(ClientError::Misbehaved(why)) => return Err(misbehaved(why)),
            c => c?,
        };
        (r.judge(&c), Against::Full(Box::new(c)))
    } else {
        let credential = *urna_election::entry::Entry::decode(r.entry.clone())
            .map_err(|e| {
                guide::bad_input(format!(
                    "{}: the entry does not decode: {e}",
                    path.display()
                ))
            })?
            .author();
        let (view, witnessed) =
            match client.voter_view_witnessed(&credential, Some(&r.board_key), Some(&cp)) {
                Err(ClientError::Misbehaved(why)) => return Err(misbehaved(why)),
                Err(ClientError::View(e)) => {
                    return Err(misbehaved(format!(
                        "the board's view of this ballot's credential does not check out ({}): {e}",
                        e.code()
                    )))
                }
                v => v?,
            };
        (
            urna_voter::receipt::judge_light(&r, &view, witnessed.as_ref()),
            Against::Light {
                client,
                witnessed: witnessed.map(Box::new),
            },
        )
    };
    let i = r.receipt.index;
    let verdict = match judged {
        Err(ReceiptError::Withholding { witnesses, board }) => {
            return Err(anyhow::Error::new(crate::outcome::CheckFailed(format!(
                "the board is withholding: the witnesses ({}) have cosigned its log up to {witnesses} entries, but the board shows {} as cosigned. Your ballot's standing is not decided on the board's word. Keep your receipt file and report this to the election authority and the observers.",
                vouchers(against.witnessed()),
                board.map_or("no checkpoint".to_string(), |b| format!("only {b} entries")),
            ))));
        }
        v => v?,
    };
    let witnessed = against.witnessed();
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
                    vouchers(witnessed)
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
            if let Some(upgrade) = upgrade(&r, &against, path)? {
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
fn vouchers(w: Option<&urna_client::WitnessView>) -> String {
    w.and_then(|v| v.covered.as_ref())
        .map_or_else(String::new, |cv| cv.vouchers.join(", "))
}

/// Once the covered checkpoint's note carries the quorum's cosignatures itself, saves the receipt
/// under it (so it proves the ballot's inclusion offline) to a new file beside the voter's,
/// [`upgraded_path`]: the receipt the voter holds is their evidence and is never modified. The
/// inclusion proof under that checkpoint comes from the downloaded log (`--full`), or from the
/// board's `GET /receipt/<hash>?cosigned=true`, verified (no upgrade if the board's cosigned
/// checkpoint has moved past the covered one meanwhile).
fn upgrade(r: &BallotReceipt, against: &Against, path: &Path) -> Result<Option<String>> {
    let Some(v) = against.witnessed() else {
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
    let proof = match against {
        Against::Full(c) => c
            .synced
            .log
            .tree()
            .inclusion_proof(r.receipt.index, cv.checkpoint.size)
            .map_err(|e| anyhow::anyhow!("inclusion proof under the cosigned checkpoint: {e}"))?,
        Against::Light { client, .. } => {
            let leaf = urna_ledger::merkle::leaf_hash(&r.entry);
            match client.cosigned_receipt(&leaf) {
                Ok(Some(c)) if c.index == r.receipt.index => {
                    let at = urna_ledger::note::Checkpoint::open(
                        &c.checkpoint,
                        &r.election_id,
                        &r.board_key,
                    )?;
                    if at.size != cv.checkpoint.size || at.root != cv.checkpoint.root {
                        return Ok(None);
                    }
                    c.proof
                }
                _ => return Ok(None),
            }
        }
    };
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
