//! The election authority's verbs, each one signed entry on the board, and the election's
//! status as the authority follows it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use urna_client::BoardClient;
use urna_crypto::codec::Encode;
use urna_crypto::sign::SigningKey;
use urna_election::entry::Entry;
use urna_election::manifest::Manifest;
use urna_election::payload::Payload;
use urna_election::state::Phase;

use crate::error::{OfficeError, Result};
use crate::phase::{self, Act};

/// Signs `p` with `key` and posts it; returns its index on the log.
pub fn post(client: &BoardClient, p: &Payload, key: &SigningKey) -> Result<u64> {
    let (origin, board_key) = client.stated_key()?;
    let e = Entry::sign(&origin, p.kind(), &p.to_bytes(), key)
        .map_err(|e| OfficeError::No(format!("signing {}: {e}", p.kind())))?;
    let r = client
        .submit_retrying(e.bytes(), &origin, &board_key, Duration::from_secs(60))
        .map_err(|source| OfficeError::Post {
            kind: p.kind().to_string(),
            source,
        })?;
    Ok(r.index)
}

/// Posts a validated manifest as the `Setup` entry; returns its index. Refused before anything
/// is posted when it is not this authority's, not this board's, or the board holds an
/// election already.
pub fn setup(client: &BoardClient, m: &Manifest, key: &SigningKey) -> Result<u64> {
    if m.authority_key != key.verifying_key() {
        return Err(OfficeError::No(
            "the manifest's [keys] authority is not this authority key".into(),
        ));
    }
    let s = client.sync(None)?;
    if s.election().manifest().is_some() && s.election().manifest_hash() == m.hash() {
        return Err(OfficeError::No(format!(
            "already set up with this manifest (phase {}); `urna authority status` shows what is next",
            s.election().phase()
        )));
    }
    phase::allow(Act::Setup, s.election())?;
    if m.board_key != s.key {
        return Err(OfficeError::No(
            "the manifest's [keys] board is not the key this board signs with".into(),
        ));
    }
    post(client, &Payload::Setup(Box::new(m.clone())), key)
}

/// Opens the polls.
pub fn open(client: &BoardClient, key: &SigningKey) -> Result<u64> {
    phase::allow(Act::Open, client.sync(None)?.election())?;
    post(client, &Payload::OpenVoting, key)
}

/// Closes the polls: the encrypted tally is fixed.
pub fn close(client: &BoardClient, key: &SigningKey) -> Result<u64> {
    phase::allow(Act::Close, client.sync(None)?.election())?;
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
        let m = e.manifest().ok_or_else(|| {
            OfficeError::No(
                "the board holds no election yet; the authority runs `urna authority setup` first"
                    .into(),
            )
        })?;
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
                    return Err(OfficeError::No("the manifest sets no `opens` time: open the polls with `urna authority open`".into()));
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
                return Err(OfficeError::No(
                    "the polls are already closed; nothing left to schedule".into(),
                ))
            }
            Phase::CeremonyFailed => phase::allow(Act::Open, e)?,
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
    let t = parse_rfc3339(text).map_err(|why| {
        OfficeError::No(format!("the manifest's `{name}` ({text}) is not an RFC 3339 time like 2026-12-01T08:00:00Z, so it cannot be scheduled: {why}"))
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
pub fn parse_rfc3339(s: &str) -> Result<u64, String> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<i64, String> {
        let t = s.get(r).ok_or("too short")?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return Err(format!("{t:?} is not a number"));
        }
        t.parse().map_err(|e| format!("{t:?}: {e}"))
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err("not YYYY-MM-DDTHH:MM:SS followed by Z or an offset".into());
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
        return Err("a field is out of range".into());
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err("no digits after the decimal point".into());
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && rest.is_ascii()
            && matches!(&rest[..1], "+" | "-")
            && &rest[3..4] == ":" =>
        {
            let at = s.len() - 6;
            let (oh, om) = (num(at + 1..at + 3)?, num(at + 4..at + 6)?);
            if oh > 23 || om > 59 {
                return Err("the offset is out of range".into());
            }
            let o = oh * 3600 + om * 60;
            if rest.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => return Err("no time zone: end with Z or an offset like +08:00".into()),
    };
    let days = days_from_civil(y, mo, d);
    let t = days * 86_400 + h * 3600 + mi * 60 + sec.min(59) - offset;
    u64::try_from(t).map_err(|_| "before 1970".to_string())
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

/// The election as the authority follows it: phase, counts, and who is still missing in the
/// key ceremony or the decryption.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub election_id: String,
    pub log_size: u64,
    pub phase: String,
    pub voters_on_roll: u64,
    pub ballots: Ballots,
    /// Once the board holds an election.
    #[serde(flatten)]
    pub election: Option<ElectionStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ballots {
    pub cast: u64,
    pub counted: u64,
    pub superseded: u64,
    pub challenged: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ElectionStatus {
    pub title: String,
    pub opens: Option<String>,
    pub closes: Option<String>,
    pub trustees: Vec<TrusteeStatus>,
    pub threshold: u16,
    /// Decryption shares on the log.
    pub decryption_shares: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrusteeStatus {
    /// 1-based, in the manifest's order.
    pub index: u16,
    pub name: String,
    pub disqualified: bool,
    /// What the key ceremony still needs from it: `commitments`, `shares`, `confirmation`.
    pub ceremony_missing: Vec<&'static str>,
    /// Whether its decryption share is on the log.
    pub decryption_share: bool,
}

/// The status of the election on the board, from its verified log.
pub fn status(client: &BoardClient) -> Result<Status> {
    Ok(status_of(&client.sync(None)?))
}

/// The status of an election already synced (a console shows more of the same sync).
pub fn status_of(s: &urna_client::Synced) -> Status {
    let e = s.election();
    let c = e.counts();
    let election = e.manifest().map(|m| {
        let shares: Vec<u16> = e.decryption_shares().iter().map(|(i, _)| *i).collect();
        let trustees = e
            .ceremony_status()
            .into_iter()
            .map(|(i, committed, dealt, confirmed, disq)| {
                let mut missing = Vec::new();
                if !disq {
                    for (done, what) in [
                        (committed, "commitments"),
                        (dealt, "shares"),
                        (confirmed, "confirmation"),
                    ] {
                        if !done {
                            missing.push(what);
                        }
                    }
                }
                TrusteeStatus {
                    index: i,
                    name: m
                        .trustees
                        .get(usize::from(i).saturating_sub(1))
                        .map_or_else(String::new, |t| t.name.clone()),
                    disqualified: disq,
                    ceremony_missing: missing,
                    decryption_share: shares.contains(&i),
                }
            })
            .collect();
        ElectionStatus {
            title: m.title.clone(),
            opens: m.opens.clone(),
            closes: m.closes.clone(),
            trustees,
            threshold: m.threshold,
            decryption_shares: shares.len(),
        }
    });
    Status {
        election_id: s.origin.clone(),
        log_size: s.log.checkpoint.size,
        phase: e.phase().to_string(),
        voters_on_roll: c.voters,
        ballots: Ballots {
            cast: c.ballots,
            counted: c.counted,
            superseded: c.superseded,
            challenged: c.challenged,
        },
        election,
    }
}

/// The status for people.
pub fn status_text(s: &Status) -> String {
    let mut out = format!(
        "election {}\nlog size {} (checkpoint verified)\nphase {}\n",
        s.election_id, s.log_size, s.phase
    );
    let Some(e) = &s.election else {
        let b = &s.ballots;
        out.push_str(&format!(
            "voters on the roll {}; ballots cast {} (counted {}, superseded {}, challenged {})\n",
            s.voters_on_roll, b.cast, b.counted, b.superseded, b.challenged
        ));
        return out;
    };
    for (t, what) in [(&e.opens, "polls open at"), (&e.closes, "polls close at")] {
        if let Some(t) = t {
            out.push_str(&format!("{what} {t} (as the manifest says)\n"));
        }
    }
    let b = &s.ballots;
    out.push_str(&format!(
        "voters on the roll {}; ballots cast {} (counted {}, superseded {}, challenged {})\n",
        s.voters_on_roll, b.cast, b.counted, b.superseded, b.challenged
    ));
    for t in &e.trustees {
        let state = if t.disqualified {
            "disqualified".to_string()
        } else if t.ceremony_missing.is_empty() {
            "done".into()
        } else {
            format!("missing {}", t.ceremony_missing.join(", "))
        };
        out.push_str(&format!(
            "trustee {} ({}): key ceremony {state}\n",
            t.index, t.name
        ));
    }
    if s.phase == "tallying" {
        out.push_str(&format!(
            "decryption shares: {} of the {} needed\n",
            e.decryption_shares, e.threshold
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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
