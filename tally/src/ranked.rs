//! A ranked contest's published count as people read it: the ballots left out and why, every
//! round of an instant-runoff or STV count (each candidate's votes after the round, who was
//! excluded or whose surplus moved, who was elected), or the pairwise matrix of a Schulze
//! count with its strongest paths. Everything is read from the [`RankedCount`] the ledger
//! fixes (`specs/election.md` §7.3); nothing is recounted here.

use std::collections::BTreeMap;

use serde::Serialize;
use unicode_width::UnicodeWidthStr;
use urna_election::count::{transfer, Action, Candidate, Outcome, RankedCount};
use urna_election::manifest::Contest;

use crate::summary::pad;

/// One ranked contest's count.
#[derive(Debug, Clone, Serialize)]
pub struct RankedResult {
    /// `irv`, `stv` or `schulze`.
    pub method: &'static str,
    pub seats: u16,
    /// Ballots in the decrypted list; of them blank (ranking nobody), invalid, and counted.
    pub ballots: u32,
    pub blank: u32,
    pub counted: u32,
    /// Invalid ballots by the rule they break (`specs/election.md` §5.5).
    pub invalid: BTreeMap<&'static str, u32>,
    /// Candidates in the count's order: the options, then the write-ins ranked.
    pub candidates: Vec<RankedCandidate>,
    /// The value of one vote in `rounds` (1; 100,000 for STV, whose votes are fractional).
    pub unit: u64,
    /// The Droop quota, in units (STV only).
    pub quota: Option<u64>,
    /// IRV and STV: every round.
    pub rounds: Vec<Round>,
    /// Schulze: the pairwise matrix and the strongest paths.
    pub pairwise: Option<Pairwise>,
    /// Those elected, by candidate id, in order.
    pub elected: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankedCandidate {
    /// The option's id, or `write-in:` and the text.
    pub id: String,
    pub name: String,
    pub write_in: bool,
}

/// One round of a count by transfers.
#[derive(Debug, Clone, Serialize)]
pub struct Round {
    /// What the round did, in words: first preferences, `excluded X`, `surplus of X`.
    pub action: String,
    /// Each candidate's votes after the round, in units.
    pub tallies: Vec<u64>,
    /// Value of the ballots with no continuing preference left, in this round.
    pub exhausted: u64,
    /// Elected at the end of this round, by candidate id.
    pub elected: Vec<String>,
}

/// A Schulze count: `d[i][j]` ballots rank `i` above `j`; `p[i][j]` the strongest path.
#[derive(Debug, Clone, Serialize)]
pub struct Pairwise {
    pub d: Vec<Vec<u32>>,
    pub p: Vec<Vec<u32>>,
    /// Every candidate by id, from first to last.
    pub order: Vec<String>,
}

impl RankedResult {
    pub fn new(c: &Contest, count: &RankedCount) -> RankedResult {
        let candidates: Vec<RankedCandidate> = count
            .candidates
            .iter()
            .map(|k| match k {
                Candidate::Option(i) => {
                    let o = c.options.get(usize::from(*i));
                    RankedCandidate {
                        id: o.map_or_else(|| format!("#{i}"), |o| o.id.clone()),
                        name: o.map_or_else(|| format!("#{i}"), |o| o.name.clone()),
                        write_in: false,
                    }
                }
                Candidate::WriteIn(t) => RankedCandidate {
                    id: format!("write-in:{t}"),
                    name: t.clone(),
                    write_in: true,
                },
            })
            .collect();
        let id = |k: &u32| {
            candidates
                .get(*k as usize)
                .map_or_else(|| format!("#{k}"), |c| c.id.clone())
        };
        let name = |k: u32| {
            candidates
                .get(k as usize)
                .map_or_else(|| format!("#{k}"), |c| c.name.clone())
        };
        let mut invalid = BTreeMap::new();
        for r in &count.invalid {
            *invalid.entry(r.reason.code()).or_default() += 1;
        }
        let (unit, quota, rounds, pairwise) = match &count.outcome {
            Outcome::Transfers(t) => {
                let tallies = transfer::tallies(t, candidates.len());
                let rounds = t
                    .stages
                    .iter()
                    .zip(tallies)
                    .map(|(s, tallies)| Round {
                        action: match s.action {
                            Action::First => "first preferences".into(),
                            Action::Exclusion(x) => format!("excluded {}", name(x)),
                            Action::Surplus(x) => format!("surplus of {}", name(x)),
                        },
                        tallies,
                        exhausted: s.exhausted,
                        elected: s.elected.iter().map(id).collect(),
                    })
                    .collect();
                let quota =
                    (count.method == urna_election::manifest::CountMethod::Stv).then_some(t.quota);
                (t.unit, quota, rounds, None)
            }
            Outcome::Schulze(s) => {
                let n = candidates.len();
                let square = |m: &[u32]| m.chunks(n.max(1)).map(<[u32]>::to_vec).collect();
                let pairwise = Pairwise {
                    d: square(&s.d),
                    p: square(&s.p),
                    order: s.order.iter().map(id).collect(),
                };
                (1, None, Vec::new(), Some(pairwise))
            }
        };
        RankedResult {
            method: count.method.name(),
            seats: count.seats,
            ballots: count.rows,
            blank: count.blank,
            counted: count.counted(),
            invalid,
            elected: count.elected.iter().map(id).collect(),
            candidates,
            unit,
            quota,
            rounds,
            pairwise,
        }
    }

    /// Votes in units as a number of votes: whole for IRV, five decimals for STV.
    pub fn votes(&self, units: u64) -> String {
        if self.unit == 1 {
            units.to_string()
        } else {
            format!("{}.{:05}", units / self.unit, units % self.unit)
        }
    }

    pub fn name_of(&self, id: &str) -> String {
        self.candidates
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    }

    fn label(&self, k: usize) -> String {
        let c = &self.candidates[k];
        if c.write_in {
            format!("{} (write-in)", c.name)
        } else {
            c.name.clone()
        }
    }

    /// The count as text: the ballots, then a table of rounds (one column per round) or the
    /// pairwise matrix, then who is elected.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "  {} ballots: {} counted, {} blank, {} invalid",
            self.ballots,
            self.counted,
            self.blank,
            self.ballots - self.counted - self.blank
        );
        if !self.invalid.is_empty() {
            let why: Vec<String> = self
                .invalid
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            s.push_str(&format!(" ({})", why.join(", ")));
        }
        s.push('\n');
        if let Some(q) = self.quota {
            s.push_str(&format!(
                "  quota (Droop): {} votes for {} seats\n",
                self.votes(q),
                self.seats
            ));
        }
        let labels: Vec<String> = (0..self.candidates.len()).map(|k| self.label(k)).collect();
        let name_w = labels.iter().map(|l| l.width()).max().unwrap_or(0);
        if !self.rounds.is_empty() {
            let cells: Vec<Vec<String>> = self
                .rounds
                .iter()
                .map(|r| r.tallies.iter().map(|&v| self.votes(v)).collect())
                .collect();
            let w: Vec<usize> = cells
                .iter()
                .enumerate()
                .map(|(i, col)| {
                    col.iter()
                        .map(String::len)
                        .chain([format!("round {}", i + 1).len()])
                        .max()
                        .unwrap_or(1)
                })
                .collect();
            s.push_str(&format!("  {}", pad("", name_w)));
            for (i, w) in w.iter().enumerate() {
                s.push_str(&format!("  {:>w$}", format!("round {}", i + 1)));
            }
            s.push('\n');
            for (k, label) in labels.iter().enumerate() {
                let mark = if self.elected.contains(&self.candidates[k].id) {
                    "  ✓"
                } else {
                    ""
                };
                s.push_str(&format!("  {}", pad(label, name_w)));
                for (col, w) in cells.iter().zip(&w) {
                    s.push_str(&format!("  {:>w$}", col[k]));
                }
                s.push_str(&format!("{mark}\n"));
            }
            s.push_str(&format!("  {}", pad("exhausted", name_w)));
            for (r, w) in self.rounds.iter().zip(&w) {
                s.push_str(&format!("  {:>w$}", self.votes(r.exhausted)));
            }
            s.push('\n');
            for (i, r) in self.rounds.iter().enumerate() {
                s.push_str(&format!("  round {}: {}", i + 1, r.action));
                if !r.elected.is_empty() {
                    let names: Vec<String> = r.elected.iter().map(|e| self.name_of(e)).collect();
                    s.push_str(&format!("; elected: {}", names.join(", ")));
                }
                s.push('\n');
            }
        }
        if let Some(p) = &self.pairwise {
            s.push_str("  pairwise: ballots ranking the row's candidate above the column's\n");
            s.push_str(&matrix(&labels, name_w, &p.d));
            s.push_str("  strongest paths\n");
            s.push_str(&matrix(&labels, name_w, &p.p));
            let order: Vec<String> = p.order.iter().map(|e| self.name_of(e)).collect();
            s.push_str(&format!("  ranking: {}\n", order.join(" > ")));
        }
        s
    }

    /// The outcome in words.
    pub fn outcome(&self) -> String {
        let names: Vec<String> = self.elected.iter().map(|e| self.name_of(e)).collect();
        match names.as_slice() {
            [] => "nobody elected (no ballot ranks a candidate)".into(),
            [one] => format!("elected: {one}"),
            _ => format!("elected: {}", names.join(", ")),
        }
    }

    /// CSV rows `contest,contest_title,candidate,candidate_name,votes,percent,elected,round`:
    /// one per candidate and round (IRV, STV; percent of the round's continuing votes), or per
    /// ordered pair (Schulze: `round` is `over:<other id>`, votes the ballots preferring the
    /// candidate).
    pub fn csv_rows(&self, contest: &str, title: &str, field: fn(&str) -> String) -> String {
        let mut s = String::new();
        for (i, r) in self.rounds.iter().enumerate() {
            let total: u64 = r.tallies.iter().sum();
            for (k, c) in self.candidates.iter().enumerate() {
                let v = r.tallies[k];
                let pct = if total == 0 {
                    0.0
                } else {
                    (v as f64 * 1000.0 / total as f64).round() / 10.0
                };
                s.push_str(&format!(
                    "{},{},{},{},{},{pct:.1},{},{}\n",
                    field(contest),
                    field(title),
                    field(&c.id),
                    field(&c.name),
                    self.votes(v),
                    self.elected.contains(&c.id),
                    i + 1
                ));
            }
        }
        if let Some(p) = &self.pairwise {
            for (i, c) in self.candidates.iter().enumerate() {
                for (j, o) in self.candidates.iter().enumerate() {
                    if i == j {
                        continue;
                    }
                    s.push_str(&format!(
                        "{},{},{},{},{},,{},{}\n",
                        field(contest),
                        field(title),
                        field(&c.id),
                        field(&c.name),
                        p.d[i][j],
                        self.elected.contains(&c.id),
                        field(&format!("over:{}", o.id))
                    ));
                }
            }
        }
        s
    }
}

/// A square matrix with the candidates as rows and numbered columns (1 = the first row).
fn matrix(labels: &[String], name_w: usize, m: &[Vec<u32>]) -> String {
    let w = m
        .iter()
        .flatten()
        .map(|v| v.to_string().len())
        .chain([labels.len().to_string().len() + 1])
        .max()
        .unwrap_or(1);
    let mut s = format!("  {}    ", pad("", name_w));
    for j in 0..labels.len() {
        s.push_str(&format!("  {:>w$}", format!("#{}", j + 1)));
    }
    s.push('\n');
    for (i, (label, row)) in labels.iter().zip(m).enumerate() {
        s.push_str(&format!(
            "  {} {:>3}",
            pad(label, name_w),
            format!("#{}", i + 1)
        ));
        for (j, v) in row.iter().enumerate() {
            let cell = if i == j {
                "—".to_string()
            } else {
                v.to_string()
            };
            s.push_str(&format!(
                "  {}{cell}",
                " ".repeat(w.saturating_sub(cell.width()))
            ));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use urna_election::count;
    use urna_election::manifest::Manifest;
    use urna_election::ranking::{Choice, Invalid};

    fn contest(method: &str, seats: u16) -> (Manifest, u16) {
        let text = include_str!("../../specs/examples/manifest.toml").replace(
            "# Contests.",
            &format!(
                r#"[[contests]]
id = "board"
title = "School board"
kind = "ranked"
method = "{method}"
seats = {seats}
write_ins = {}
options = [{{ id = "dan", name = "Dan" }}, {{ id = "eve", name = "李明" }}, {{ id = "fay", name = "Fay" }}]

# Contests."#,
                if method == "schulze" { 0 } else { 1 }
            ),
        );
        let m = Manifest::from_toml(&text).unwrap();
        let ci = m.contests.iter().position(|c| c.id == "board").unwrap() as u16;
        (m, ci)
    }

    fn rows() -> Vec<Result<Vec<Choice>, Invalid>> {
        let o = Choice::Option;
        let mut rows = Vec::new();
        for _ in 0..4 {
            rows.push(Ok(vec![o(0), o(1)]));
        }
        for _ in 0..3 {
            rows.push(Ok(vec![o(1), o(0)]));
        }
        for _ in 0..2 {
            rows.push(Ok(vec![o(2), o(1)]));
        }
        rows.push(Ok(vec![Choice::WriteIn("Zoë Ng".into())]));
        rows.push(Ok(vec![]));
        rows.push(Err(Invalid::Gap));
        rows
    }

    fn result(method: &str, seats: u16) -> RankedResult {
        let (m, ci) = contest(method, seats);
        let c = &m.contests[usize::from(ci)];
        let count = count::count(ci, c, c.ranked().unwrap(), &[7; 32], &rows());
        RankedResult::new(c, &count)
    }

    #[test]
    fn irv_rounds_are_shown_round_by_round() {
        let r = result("irv", 1);
        assert_eq!((r.ballots, r.counted, r.blank), (12, 10, 1));
        assert_eq!(r.invalid.get("gap"), Some(&1));
        assert_eq!(r.candidates[3].id, "write-in:Zoë Ng");
        // First preferences 4, 3, 2, 1: Zoë Ng, then Fay are excluded; Fay's ballots go to
        // 李明, who then leads 5 to 4.
        assert_eq!(r.rounds[0].tallies, vec![4, 3, 2, 1]);
        assert_eq!(r.rounds.last().unwrap().tallies, vec![4, 5, 0, 0]);
        assert_eq!(r.elected, vec!["eve"]);
        let text = r.to_text();
        assert!(text.contains("round 3"), "{text}");
        assert!(text.contains("excluded Fay"), "{text}");
        assert!(text.contains("Zoë Ng (write-in)"), "{text}");
        assert_eq!(r.outcome(), "elected: 李明");
        // Rows of the table line up by display width, the Chinese name included.
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("  李明") || l.starts_with("  Dan "))
            .collect();
        assert_eq!(rows.len(), 2, "{text}");
        assert_eq!(
            rows[0].trim_end_matches("  ✓").width(),
            rows[1].trim_end_matches("  ✓").width(),
            "{text}"
        );
        let csv = r.csv_rows("board", "School board", |s| s.to_string());
        assert!(
            csv.contains("board,School board,eve,李明,5,55.6,true,3\n"),
            "{csv}"
        );
    }

    #[test]
    fn stv_votes_are_fractional_and_the_quota_is_shown() {
        let r = result("stv", 2);
        assert_eq!(r.unit, 100_000);
        // Droop: ⌊10 / 3⌋ + 1 = 4 votes.
        assert_eq!(r.quota, Some(400_000));
        assert_eq!(r.votes(123_456), "1.23456");
        assert!(r
            .to_text()
            .contains("quota (Droop): 4.00000 votes for 2 seats"));
        assert_eq!(r.elected.len(), 2);
    }

    #[test]
    fn schulze_shows_the_pairwise_matrix() {
        let r = result("schulze", 1);
        let p = r.pairwise.as_ref().unwrap();
        // Dan over 李明: 4 ballots; 李明 over Dan: 3 + 2 (Fay's voters rank 李明, not Dan).
        assert_eq!((p.d[0][1], p.d[1][0]), (4, 5));
        assert_eq!(r.elected, vec!["eve"]);
        let text = r.to_text();
        assert!(text.contains("pairwise"), "{text}");
        assert!(text.contains("ranking: 李明 > Dan > Fay"), "{text}");
        let csv = r.csv_rows("board", "School board", |s| s.to_string());
        assert!(
            csv.contains("board,School board,dan,Dan,4,,false,over:eve\n"),
            "{csv}"
        );
    }
}
