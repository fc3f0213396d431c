//! The result as people read it: turnout, per-option counts and shares, and the winners by
//! each contest's rule — as text (aligned by display width, so Chinese names line up), JSON
//! and CSV. Everything here is derived from the decrypted counts and the roll; nothing is
//! decided that the ledger does not already fix.
//!
//! Winners, by contest kind (README "Results"):
//! - plurality, approval, score: the option(s) with the highest count (votes, approvals,
//!   points); several at the same highest count are a tie, all listed; none if every count is 0;
//! - referendum: `yes` if it has more votes than `no`, `no` if fewer, a tie if equal; blank
//!   votes count towards the total but not the decision.
//!
//! A share is an option's count over the sum of the contest's counts (votes, approvals or
//! points). Turnout is ballots counted over credentials on the roll. With weights, every
//! count is weighted and the result says so.

use serde::Serialize;
use unicode_width::UnicodeWidthStr;
use urna_election::manifest::{ContestKind, CountMethod, Manifest};
use urna_election::payload::ElectionResult;
use urna_election::state::Election;

use crate::ranked::RankedResult;

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub election_id: String,
    pub title: String,
    /// `None` when the roll is not known (a result read without its election).
    pub turnout: Option<Turnout>,
    /// Whether some voter's weight is not 1: then every count is weighted.
    pub weighted: bool,
    pub contests: Vec<ContestResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Turnout {
    /// Ballots counted (the latest ballot of each credential that voted).
    pub counted: u64,
    /// Credentials on the roll.
    pub roll: u64,
    pub percent: f64,
    /// The roll's weights summed (equal to `roll` without weights).
    pub roll_weight: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContestResult {
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    /// How the winner is decided, in words.
    pub rule: &'static str,
    /// The sum of the counts: votes, approvals or points.
    pub total: u64,
    pub options: Vec<OptionResult>,
    /// The winning options' ids (several: a tie; none: no votes, or a tied referendum).
    pub winners: Vec<String>,
    pub tie: bool,
    /// A ranked contest's count, once published (decrypted); `None` for the other kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranked: Option<RankedResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OptionResult {
    pub id: String,
    pub name: String,
    pub count: u64,
    /// Share of the contest's total, in percent (0 when the total is 0).
    pub percent: f64,
}

fn kind_and_rule(k: &ContestKind) -> (&'static str, &'static str) {
    match k {
        ContestKind::Plurality { .. } => ("plurality", "most votes wins"),
        ContestKind::Approval { .. } => ("approval", "most approvals wins"),
        ContestKind::Score { .. } => ("score", "highest total of points wins"),
        ContestKind::Referendum { .. } => ("referendum", "adopted if more yes than no"),
        ContestKind::Ranked(r) => (
            "ranked",
            match r.method {
                CountMethod::Irv => {
                    "instant-runoff: the last is excluded each round until one has a majority"
                }
                CountMethod::Stv => {
                    "single transferable vote: Droop quota, surpluses and exclusions transferred"
                }
                CountMethod::Schulze => {
                    "Condorcet (Schulze): strongest paths of the pairwise matrix"
                }
            },
        ),
    }
}

fn percent(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        // Rounded to a tenth so that text, JSON and CSV agree.
        (n as f64 * 1000.0 / total as f64).round() / 10.0
    }
}

impl Summary {
    /// The result of an election, with turnout and weights from its roll.
    pub fn new(m: &Manifest, r: &ElectionResult, e: &Election) -> Summary {
        let c = e.counts();
        let roll_weight = e.total_weight();
        let mut s = Summary::of_counts(m, r);
        s.turnout = Some(Turnout {
            counted: c.counted,
            roll: c.voters,
            percent: percent(c.counted, c.voters),
            roll_weight,
        });
        s.weighted = roll_weight != c.voters;
        s.add_ranked(m, e);
        s
    }

    /// Names the election, its contests and options (the ranked contests' candidates too) as
    /// the manifest has them in `lang` (`specs/election.md` §2.4); `option` names an option
    /// (a client may put a referendum's fixed options in its own words).
    pub fn name_in(
        &mut self,
        m: &Manifest,
        lang: &str,
        option: impl Fn(
            &urna_election::manifest::Contest,
            &urna_election::manifest::ContestOption,
        ) -> String,
    ) {
        self.title = m.title_in(lang).to_string();
        for (cr, c) in self.contests.iter_mut().zip(&m.contests) {
            cr.title = c.title_in(lang).to_string();
            for o in cr.options.iter_mut() {
                if let Some(x) = c.options.iter().find(|x| x.id == o.id) {
                    o.name = option(c, x);
                }
            }
            if let Some(r) = cr.ranked.as_mut() {
                for k in r.candidates.iter_mut().filter(|k| !k.write_in) {
                    if let Some(x) = c.options.iter().find(|x| x.id == k.id) {
                        k.name = option(c, x);
                    }
                }
            }
        }
    }

    /// Fills in each ranked contest's count from the election, where it is decrypted.
    pub fn add_ranked(&mut self, m: &Manifest, e: &Election) {
        for (ci, c) in m.contests.iter().enumerate() {
            let Some(d) = e.ranked_result(ci as u16) else {
                continue;
            };
            let r = RankedResult::new(c, &d.count);
            if let Some(cr) = self.contests.get_mut(ci) {
                cr.winners = r.elected.clone();
                cr.total = u64::from(r.counted);
                cr.ranked = Some(r);
            }
        }
    }

    /// The result from the counts alone (no turnout, weights unknown).
    pub fn of_counts(m: &Manifest, r: &ElectionResult) -> Summary {
        let contests = m
            .contests
            .iter()
            .zip(&r.counts)
            .map(|(c, counts)| {
                let total: u64 = counts.iter().sum();
                let options: Vec<OptionResult> = c
                    .options
                    .iter()
                    .zip(counts)
                    .map(|(o, &n)| OptionResult {
                        id: o.id.clone(),
                        name: o.name.clone(),
                        count: n,
                        percent: percent(n, total),
                    })
                    .collect();
                let (kind, rule) = kind_and_rule(&c.kind);
                let winners: Vec<String> = match c.kind {
                    ContestKind::Referendum { .. } => {
                        let of =
                            |id: &str| options.iter().find(|o| o.id == id).map_or(0, |o| o.count);
                        let (yes, no) = (of("yes"), of("no"));
                        match yes.cmp(&no) {
                            std::cmp::Ordering::Greater => vec!["yes".into()],
                            std::cmp::Ordering::Less => vec!["no".into()],
                            std::cmp::Ordering::Equal => Vec::new(),
                        }
                    }
                    _ => {
                        let top = options.iter().map(|o| o.count).max().unwrap_or(0);
                        options
                            .iter()
                            .filter(|o| top > 0 && o.count == top)
                            .map(|o| o.id.clone())
                            .collect()
                    }
                };
                let tie = winners.len() > 1
                    || (matches!(c.kind, ContestKind::Referendum { .. })
                        && winners.is_empty()
                        && total > 0);
                ContestResult {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    kind,
                    rule,
                    total,
                    options,
                    winners,
                    tie,
                    ranked: None,
                }
            })
            .collect();
        Summary {
            election_id: m.election_id.clone(),
            title: m.title.clone(),
            turnout: None,
            weighted: false,
            contests,
        }
    }

    /// One contest's outcome in words.
    fn outcome(c: &ContestResult) -> String {
        if c.kind == "ranked" {
            return c.ranked.as_ref().map_or_else(
                || "not counted yet: the ballots are mixed and decrypted after the close".into(),
                RankedResult::outcome,
            );
        }
        let name = |id: &String| {
            c.options
                .iter()
                .find(|o| &o.id == id)
                .map_or(id.clone(), |o| o.name.clone())
        };
        match (c.kind, c.winners.as_slice()) {
            ("referendum", [w]) if w == "yes" => "adopted (more yes than no)".into(),
            ("referendum", [_]) => "not adopted (more no than yes)".into(),
            ("referendum", _) if c.tie => "tied: as many yes as no".into(),
            (_, []) => "no votes".into(),
            (_, [w]) => format!("winner: {}", name(w)),
            (_, ws) => format!(
                "tie between {}",
                ws.iter().map(name).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// The result for people: one block per contest, names aligned by display width.
    pub fn to_text(&self) -> String {
        let mut s = format!("{}\n{}\n", self.title, self.election_id);
        if let Some(t) = &self.turnout {
            s.push_str(&format!(
                "turnout: {} of {} credentials on the roll cast a counted ballot ({:.1}%)\n",
                t.counted, t.roll, t.percent
            ));
        }
        if self.weighted {
            s.push_str(
                "counts are weighted: each ballot counts as many times as its voter's weight on the roll",
            );
            if let Some(t) = &self.turnout {
                s.push_str(&format!(" (the weights total {})", t.roll_weight));
            }
            s.push('\n');
        }
        for c in &self.contests {
            s.push_str(&format!("\n{}  ({}: {})\n", c.title, c.kind, c.rule));
            if let Some(r) = &c.ranked {
                s.push_str(&r.to_text());
            }
            s.push_str(&contest_rows(c));
            s.push_str(&format!("  → {}\n", Summary::outcome(c)));
        }
        s
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(cs) = v["contests"].as_array_mut() {
            for (j, c) in cs.iter_mut().zip(&self.contests) {
                j["outcome"] = serde_json::json!(Summary::outcome(c));
            }
        }
        v
    }

    /// `contest,contest_title,option,option_name,count,percent,winner,round`, one row per
    /// option (RFC 4180 quoting; `round` empty); a ranked contest has one row per candidate
    /// and round, or per ordered pair of candidates (see [`RankedResult::csv_rows`]).
    pub fn to_csv(&self) -> String {
        let mut s =
            String::from("contest,contest_title,option,option_name,count,percent,winner,round\n");
        for c in &self.contests {
            if let Some(r) = &c.ranked {
                s.push_str(&r.csv_rows(&c.id, &c.title, csv_field));
                continue;
            }
            for o in &c.options {
                s.push_str(&format!(
                    "{},{},{},{},{},{:.1},{},\n",
                    csv_field(&c.id),
                    csv_field(&c.title),
                    csv_field(&o.id),
                    csv_field(&o.name),
                    o.count,
                    o.percent,
                    c.winners.contains(&o.id)
                ));
            }
        }
        s
    }
}

/// The option rows of a contest: name, count and share, the winners marked.
fn contest_rows(c: &ContestResult) -> String {
    let name_w = c.options.iter().map(|o| o.name.width()).max().unwrap_or(0);
    let count_w = c
        .options
        .iter()
        .map(|o| o.count.to_string().len())
        .max()
        .unwrap_or(1);
    let mut s = String::new();
    for o in &c.options {
        let mark = if c.winners.contains(&o.id) {
            "  ✓"
        } else {
            ""
        };
        s.push_str(&format!(
            "  {}  {:>count_w$}  {:>5.1}%{mark}\n",
            pad(&o.name, name_w),
            o.count,
            o.percent
        ));
    }
    s
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Pads `s` on the right to `width` columns of display width.
pub fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(s.width())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        let mut m =
            Manifest::from_toml(include_str!("../../specs/examples/manifest.toml")).unwrap();
        m.contests[0].options[0].name = "李明".into();
        m.contests[0].options[1].name = "Zhang Wei".into();
        m
    }

    #[test]
    fn cjk_names_line_up_and_winners_follow_the_rules() {
        let m = manifest();
        let r = ElectionResult {
            counts: vec![
                vec![0, 2, 2],
                vec![3, 1, 0, 0],
                vec![7, 7, 2],
                vec![4, 4, 1],
            ],
        };
        let s = Summary::of_counts(&m, &r);
        let text = s.to_text();
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.contains('%') && (l.contains("李明") || l.contains("Zhang Wei")))
            .collect();
        assert_eq!(rows.len(), 2, "{text}");
        // The counts end in the same display column.
        let end = |l: &str| l.split('%').next().unwrap().width();
        assert_eq!(end(rows[0]), end(rows[1]), "{text}");
        assert!(rows[0].starts_with("  李明       "), "{text}");
        assert_eq!(s.contests[0].winners, vec!["bob", "carol"]);
        assert!(s.contests[0].tie);
        assert!(text.contains("tie between Zhang Wei, Carol Diaz"), "{text}");
        assert_eq!(s.contests[1].winners, vec!["dan"]);
        assert_eq!(s.contests[1].options[0].percent, 75.0);
        assert!(s.contests[3].tie && s.contests[3].winners.is_empty());
        assert!(text.contains("tied: as many yes as no"), "{text}");
        let csv = s.to_csv();
        assert!(
            csv.contains("\nmayor,Mayor,alice,李明,0,0.0,false,\n"),
            "{csv}"
        );
        assert!(csv.contains("council,City Council (choose up to 2),dan,Dan,3,75.0,true,\n"));
        let json = s.to_json();
        assert_eq!(json["contests"][1]["outcome"], "winner: Dan");
        let none = Summary::of_counts(
            &m,
            &ElectionResult {
                counts: vec![vec![0; 3], vec![0; 4], vec![0; 3], vec![1, 3, 0]],
            },
        );
        assert!(none.contests[0].winners.is_empty() && !none.contests[0].tie);
        assert_eq!(none.contests[3].winners, vec!["no"]);
        assert_eq!(
            Summary::outcome(&none.contests[3]),
            "not adopted (more no than yes)"
        );
    }

    #[test]
    fn padding_by_display_width() {
        assert_eq!(pad("李明", 6), "李明  ");
        assert_eq!(pad("ab", 6), "ab    ");
    }
}
