//! `urna authority …`: the election authority's verbs, each one signed entry on the board.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use serde_json::json;
use urna_client::BoardClient;
use urna_crypto::codec::Encode;
use urna_crypto::sign::SigningKey;
use urna_election::entry::Entry;
use urna_election::manifest::Manifest;
use urna_election::payload::Payload;
use urna_election::state::Phase;

use crate::guide::{self, Act};
use crate::secrets;

fn post(client: &BoardClient, p: &Payload, key: &SigningKey) -> Result<u64> {
    let (origin, board_key) = client.stated_key()?;
    let e = Entry::sign(&origin, p.kind(), &p.to_bytes(), key)?;
    let r = client
        .submit_retrying(e.bytes(), &origin, &board_key, Duration::from_secs(60))
        .with_context(|| format!("posting {}", p.kind()))?;
    Ok(r.index)
}

/// Validates the TOML manifest and posts it as the `Setup` entry; returns it and its index.
pub fn setup(client: &BoardClient, manifest: &Path, key: &SigningKey) -> Result<(Manifest, u64)> {
    let m = Manifest::from_toml(&secrets::read_public(manifest)?).map_err(|e| {
        guide::bad_input(format!(
            "{} is not a valid manifest: {e}",
            manifest.display()
        ))
    })?;
    if m.authority_key != key.verifying_key() {
        bail!("the manifest's [keys] authority is not this authority key");
    }
    let s = client.sync(None)?;
    if s.election().manifest().is_some() && s.election().manifest_hash() == m.hash() {
        bail!(
            "already set up with this manifest (phase {}); `urna authority status` shows what is next",
            s.election().phase()
        );
    }
    guide::allow(Act::Setup, s.election())?;
    if m.board_key != s.key {
        bail!("the manifest's [keys] board is not the key this board signs with");
    }
    let i = post(client, &Payload::Setup(Box::new(m.clone())), key)?;
    Ok((m, i))
}

pub fn open(client: &BoardClient, key: &SigningKey) -> Result<u64> {
    guide::allow(Act::Open, client.sync(None)?.election())?;
    post(client, &Payload::OpenVoting, key)
}

pub fn close(client: &BoardClient, key: &SigningKey) -> Result<u64> {
    guide::allow(Act::Close, client.sync(None)?.election())?;
    post(client, &Payload::CloseVoting, key)
}

/// How often `schedule` looks at the board while it waits (and the longest it sleeps at once).
const POLL: Duration = Duration::from_secs(2);

/// Opens the polls at the manifest's `opens` time and closes them at its `closes` time, as
/// this machine's clock tells them. Reads the phase first, so a re-run carries on where a
/// stopped one left off; waits out a key ceremony that is still running.
pub fn schedule(client: &BoardClient, key: &SigningKey, say: &mut dyn FnMut(&str)) -> Result<()> {
    let mut last = String::new();
    let mut tell = |m: String, say: &mut dyn FnMut(&str)| {
        if m != last {
            say(&m);
            last = m;
        }
    };
    loop {
        let s = client.sync(None)?;
        let e = s.election();
        let m = e.manifest().context(
            "the board holds no election yet; the authority runs `urna authority setup` first",
        )?;
        let opens = time_of(m.opens.as_deref(), "opens")?;
        let closes = time_of(m.closes.as_deref(), "closes")?;
        let now = unix_now();
        match e.phase() {
            Phase::AwaitingSetup | Phase::KeyCeremony => {
                let at = opens.map(|(t, _)| t).unwrap_or(now);
                tell(
                    if at > now {
                        format!("waiting for the key ceremony to complete, then until {} to open the polls", m.opens.as_deref().unwrap_or_default())
                    } else {
                        "waiting for the key ceremony to complete; the polls open as soon as it has"
                            .to_string()
                    },
                    say,
                );
                std::thread::sleep(POLL);
            }
            Phase::Registration => {
                let Some((at, text)) = opens else {
                    bail!("the manifest sets no `opens` time: open the polls with `urna authority open`");
                };
                if now < at {
                    tell(
                        format!(
                            "waiting until {text} (in {}) to open the polls",
                            span(at - now)
                        ),
                        say,
                    );
                    std::thread::sleep(POLL.min(Duration::from_secs(at - now)));
                    continue;
                }
                if e.counts().voters == 0 {
                    tell(
                        format!("it is past {text}, but nobody is on the voter roll yet; the polls open as soon as the registrar has posted it"),
                        say,
                    );
                    std::thread::sleep(POLL);
                    continue;
                }
                let i = post(client, &Payload::OpenVoting, key)?;
                say(&format!("polls open (entry {i})"));
            }
            Phase::Voting => {
                let Some((at, text)) = closes else {
                    say("the polls are open; the manifest sets no `closes` time: close them with `urna authority close`");
                    return Ok(());
                };
                if now < at {
                    tell(
                        format!(
                            "the polls are open; waiting until {text} (in {}) to close them",
                            span(at - now)
                        ),
                        say,
                    );
                    std::thread::sleep(POLL.min(Duration::from_secs(at - now)));
                    continue;
                }
                let i = post(client, &Payload::CloseVoting, key)?;
                say(&format!("polls closed (entry {i}); the encrypted tally is fixed; the trustees run `urna trustee decrypt` next"));
                return Ok(());
            }
            Phase::Tallying | Phase::Finished => {
                bail!("the polls are already closed; nothing left to schedule")
            }
            Phase::CeremonyFailed => guide::allow(Act::Open, e)?,
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A manifest time field as Unix seconds (and as written), or `None` when it is absent.
fn time_of(field: Option<&str>, name: &str) -> Result<Option<(u64, String)>> {
    let Some(text) = field.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let t = parse_rfc3339(text).with_context(|| {
        format!("the manifest's `{name}` ({text}) is not an RFC 3339 time like 2026-12-01T08:00:00Z, so it cannot be scheduled")
    })?;
    Ok(Some((t, text.to_string())))
}

/// `1 h 2 min`, `5 s`.
fn span(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

/// RFC 3339 `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` as Unix seconds (fractions dropped).
pub fn parse_rfc3339(s: &str) -> Result<u64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<i64> {
        let t = s.get(r).context("too short")?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            bail!("{t:?} is not a number");
        }
        Ok(t.parse()?)
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        bail!("not YYYY-MM-DDTHH:MM:SS followed by Z or an offset");
    }
    let (y, mo, d, h, mi, sec) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60
    {
        bail!("a field is out of range");
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            bail!("no digits after the decimal point");
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let at = s.len() - 6;
            let (oh, om) = (num(at + 1..at + 3)?, num(at + 4..at + 6)?);
            if oh > 23 || om > 59 {
                bail!("the offset is out of range");
            }
            let o = oh * 3600 + om * 60;
            if rest.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => bail!("no time zone: end with Z or an offset like +08:00"),
    };
    let days = days_from_civil(y, mo, d);
    let t = days * 86_400 + h * 3600 + mi * 60 + sec.min(59) - offset;
    u64::try_from(t).context("before 1970")
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Phase, counts and who is still missing in the key ceremony or the decryption.
pub fn status(client: &BoardClient) -> Result<serde_json::Value> {
    let s = client.sync(None)?;
    let e = s.election();
    let c = e.counts();
    let mut v = json!({
        "election_id": s.origin,
        "log_size": s.log.checkpoint.size,
        "phase": e.phase().to_string(),
        "voters_on_roll": c.voters,
        "ballots": {
            "cast": c.ballots,
            "counted": c.counted,
            "superseded": c.superseded,
            "challenged": c.challenged,
        },
    });
    if let Some(m) = e.manifest() {
        v["title"] = json!(m.title);
        v["opens"] = json!(m.opens);
        v["closes"] = json!(m.closes);
        let shares: Vec<u16> = e.decryption_shares().iter().map(|(i, _)| *i).collect();
        let trustees: Vec<serde_json::Value> = e
            .ceremony_status()
            .into_iter()
            .map(|(i, committed, dealt, confirmed, disq)| {
                let mut missing = Vec::new();
                if !committed {
                    missing.push("commitments");
                }
                if !dealt {
                    missing.push("shares");
                }
                if !confirmed {
                    missing.push("confirmation");
                }
                json!({
                    "index": i,
                    "name": m.trustees[usize::from(i - 1)].name,
                    "disqualified": disq,
                    "ceremony_missing": if disq { Vec::new() } else { missing },
                    "decryption_share": shares.contains(&i),
                })
            })
            .collect();
        v["trustees"] = json!(trustees);
        v["threshold"] = json!(m.threshold);
        v["decryption_shares"] = json!(shares.len());
    }
    Ok(v)
}

/// The status for people.
pub fn status_text(v: &serde_json::Value) -> String {
    let mut out = format!(
        "election {}\nlog size {} (checkpoint verified)\nphase {}\n",
        v["election_id"].as_str().unwrap_or_default(),
        v["log_size"],
        v["phase"].as_str().unwrap_or_default()
    );
    for (k, what) in [("opens", "polls open at"), ("closes", "polls close at")] {
        if let Some(t) = v[k].as_str() {
            out.push_str(&format!("{what} {t} (as the manifest says)\n"));
        }
    }
    let b = &v["ballots"];
    out.push_str(&format!(
        "voters on the roll {}; ballots cast {} (counted {}, superseded {}, challenged {})\n",
        v["voters_on_roll"], b["cast"], b["counted"], b["superseded"], b["challenged"]
    ));
    for t in v["trustees"].as_array().into_iter().flatten() {
        let missing: Vec<&str> = t["ceremony_missing"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str())
            .collect();
        let state = if t["disqualified"] == true {
            "disqualified".to_string()
        } else if missing.is_empty() {
            "done".into()
        } else {
            format!("missing {}", missing.join(", "))
        };
        out.push_str(&format!(
            "trustee {} ({}): key ceremony {state}\n",
            t["index"],
            t["name"].as_str().unwrap_or_default()
        ));
    }
    if v["phase"] == "tallying" {
        out.push_str(&format!(
            "decryption shares: {} of the {} needed\n",
            v["decryption_shares"], v["threshold"]
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(
            parse_rfc3339("2026-12-01T08:00:00Z").unwrap(),
            1_796_112_000
        );
        assert_eq!(
            parse_rfc3339("2026-12-01T16:00:00+08:00").unwrap(),
            1_796_112_000
        );
        assert_eq!(
            parse_rfc3339("2026-12-01T07:30:00.250-00:30").unwrap(),
            1_796_112_000
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z").unwrap(),
            1_709_164_800
        );
        for bad in [
            "2026-12-01",
            "2026-12-01T08:00:00",
            "2026-13-01T08:00:00Z",
            "2025-02-29T08:00:00Z",
            "2026-12-01T08:00:00+0800",
            "tomorrow at eight",
            "2026-12-01T08:00:00.Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }
}
