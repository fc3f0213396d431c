//! The `--choices` syntax: `contest=option,option;contest=option:value,…`.
//!
//! - contests are separated by `;`, each `contest-id=items`;
//! - items are separated by `,`: `option-id` means value 1, `option-id:N` means value `N`
//!   (scores); an empty item list (`contest=`) is an explicit blank;
//! - contests of the ballot style not mentioned count as blank.
//!
//! - a ranked contest lists its preferences in order, first choice first: `board=dan,eve`;
//!   (or `board=dan>eve`); a write-in is `write-in:Name` (`board=write-in:Zoë Ng,dan`);
//!   `board=` ranks nobody.
//!
//! Example: `mayor=alice;council=dan,eve;budget=park:3,bikes:5;measure-a=yes`.
//! A JSON object `{"contest": {"option": value, …}, …}` is accepted too (if it starts with `{`);
//! a ranked contest's value is then an array, `["dan", {"write-in": "Zoë Ng"}]`.

use std::collections::BTreeMap;

use thiserror::Error;
use urna_election::ballot::{ranked_plaintext, Choices, Preference, Rankings};
use urna_election::manifest::{Contest, Manifest, RankedRules};
use urna_election::ranking::RankingError;

/// Everything a voter answers: values for the homomorphic contests, rankings for the ranked
/// ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    pub choices: Choices,
    pub rankings: Rankings,
}

impl From<Choices> for Answers {
    fn from(choices: Choices) -> Answers {
        Answers {
            choices,
            rankings: Rankings::default(),
        }
    }
}

/// The prefix of a write-in in a ranking as typed.
pub const WRITE_IN: &str = "write-in:";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ChoicesSyntaxError {
    #[error("`{0}` is not `contest=options`")]
    NoEquals(String),
    #[error("unknown contest `{0}`")]
    UnknownContest(String),
    #[error("contest `{contest}` has no option `{option}` (options: {known})")]
    UnknownOption {
        contest: String,
        option: String,
        known: String,
    },
    #[error("contest `{contest}`: `{item}` is not `option` or `option:number`")]
    BadValue { contest: String, item: String },
    #[error("contest `{0}` is given twice")]
    Repeated(String),
    #[error("option `{option}` of contest `{contest}` is given twice")]
    RepeatedOption { contest: String, option: String },
    #[error("not a JSON object of contests: {0}")]
    Json(String),
    #[error("contest `{contest}`: {error}")]
    Ranking { contest: String, error: AnswerError },
}

/// A contest's answer as given: values per option, or a ranking.
enum Raw {
    Values(Vec<(String, u16)>),
    Ranking(Vec<Preference>),
}

fn is_ranked(m: &Manifest, id: &str) -> bool {
    m.contests
        .iter()
        .any(|c| c.id == id && c.ranked().is_some())
}

/// A JSON contest value: `{"option": value, …}`, or for a ranked contest an array of option
/// ids and `{"write-in": text}` objects.
fn raw_json(m: &Manifest, c: &str, v: serde_json::Value) -> Result<Raw, ChoicesSyntaxError> {
    let json = |e: serde_json::Error| ChoicesSyntaxError::Json(format!("contest `{c}`: {e}"));
    if is_ranked(m, c) {
        let bad = || {
            ChoicesSyntaxError::Json(format!(
                "contest `{c}` is ranked: give an array of option ids and {{\"write-in\": name}} objects"
            ))
        };
        let serde_json::Value::Array(items) = v else {
            return Err(bad());
        };
        let prefs = items
            .into_iter()
            .map(|i| match i {
                serde_json::Value::String(id) => Ok(Preference::Option(id)),
                serde_json::Value::Object(o) if o.len() == 1 => match o.get("write-in") {
                    Some(serde_json::Value::String(t)) => Ok(Preference::WriteIn(t.clone())),
                    _ => Err(bad()),
                },
                _ => Err(bad()),
            })
            .collect::<Result<_, _>>()?;
        return Ok(Raw::Ranking(prefs));
    }
    let opts: BTreeMap<String, u16> = serde_json::from_value(v).map_err(json)?;
    Ok(Raw::Values(opts.into_iter().collect()))
}

pub fn parse(text: &str, m: &Manifest) -> Result<Answers, ChoicesSyntaxError> {
    let raw: Vec<(String, Raw)> = if text.trim_start().starts_with('{') {
        let v: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| ChoicesSyntaxError::Json(e.to_string()))?;
        v.into_iter()
            .map(|(c, v)| raw_json(m, &c, v).map(|r| (c, r)))
            .collect::<Result<_, _>>()?
    } else {
        let mut out = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (c, items) = part
                .split_once('=')
                .ok_or_else(|| ChoicesSyntaxError::NoEquals(part.to_string()))?;
            let c = c.trim().to_string();
            if is_ranked(m, &c) {
                let prefs = items
                    .split([',', '>'])
                    .map(str::trim)
                    .filter(|i| !i.is_empty())
                    .map(preference)
                    .collect();
                out.push((c, Raw::Ranking(prefs)));
                continue;
            }
            let mut opts = Vec::new();
            for item in items.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                let (o, v) = match item.split_once(':') {
                    Some((o, v)) => (
                        o.trim(),
                        v.trim()
                            .parse::<u16>()
                            .map_err(|_| ChoicesSyntaxError::BadValue {
                                contest: c.clone(),
                                item: item.to_string(),
                            })?,
                    ),
                    None => (item, 1),
                };
                opts.push((o.to_string(), v));
            }
            out.push((c, Raw::Values(opts)));
        }
        out
    };
    let mut answers = Answers::default();
    for (c, raw) in raw {
        let contest = m
            .contests
            .iter()
            .find(|x| x.id == c)
            .ok_or_else(|| ChoicesSyntaxError::UnknownContest(c.clone()))?;
        if answers.choices.0.contains_key(&c) || answers.rankings.0.contains_key(&c) {
            return Err(ChoicesSyntaxError::Repeated(c));
        }
        let opts = match raw {
            Raw::Ranking(prefs) => {
                check_ranking(&prefs, contest).map_err(|error| ChoicesSyntaxError::Ranking {
                    contest: c.clone(),
                    error,
                })?;
                answers.rankings.0.insert(c, prefs);
                continue;
            }
            Raw::Values(opts) => opts,
        };
        let mut values = vec![0u16; contest.options.len()];
        let mut given = vec![false; contest.options.len()];
        for (o, v) in opts {
            let i = contest
                .option_index(&o)
                .ok_or_else(|| ChoicesSyntaxError::UnknownOption {
                    contest: c.clone(),
                    option: o.clone(),
                    known: contest
                        .options
                        .iter()
                        .map(|x| x.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            if given[i] {
                return Err(ChoicesSyntaxError::RepeatedOption {
                    contest: c,
                    option: o,
                });
            }
            given[i] = true;
            values[i] = v;
        }
        answers.choices.0.insert(c, values);
    }
    Ok(answers)
}

/// One preference as typed: an option id, or `write-in:Name`.
fn preference(item: &str) -> Preference {
    match item.strip_prefix(WRITE_IN) {
        Some(name) => Preference::WriteIn(name.trim().to_string()),
        None => Preference::Option(item.to_string()),
    }
}

/// Why one contest's answer cannot stand, in the voter's terms: options by name, contests by
/// title, and what the contest allows.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AnswerError {
    #[error("`{given}` is not one of the options ({known})")]
    UnknownOption { given: String, known: String },
    #[error("`{0}` is not `option` or `option:points`")]
    BadValue(String),
    #[error("{0} is given twice")]
    RepeatedOption(String),
    #[error("an option is chosen or not: give `{option_id}` alone, without a number")]
    NotScored { option_id: String },
    #[error("{option}: {value} points, more than the {max} one option may get")]
    AboveMax {
        option: String,
        value: u16,
        max: u16,
    },
    #[error("{total} chosen; choose at most {max}")]
    TooMany { total: u32, max: u32 },
    #[error("{total} points in all; at most {max} may be given")]
    OverBudget { total: u32, max: u32 },
    #[error("{total} chosen; choose at least {min}")]
    TooFew { total: u32, min: u32 },
    #[error("{expected} values expected, {got} given")]
    WrongCount { expected: usize, got: usize },
    #[error("this contest is not on this voter's ballot")]
    NotOnBallot,
    #[error("{0} is ranked twice; rank each candidate once")]
    RankedTwice(String),
    #[error("{got} preferences; rank at most {max}")]
    TooManyRanks { got: usize, max: usize },
    #[error("this contest takes no write-ins")]
    NoWriteIns,
    #[error("at most {0} write-ins")]
    TooManyWriteIns(usize),
    #[error("a write-in needs a name: `write-in:Name`, without a comma or surrounding spaces")]
    WriteInText,
    #[error("the write-in {name:?} is {len} bytes; at most {max} fit")]
    WriteInTooLong {
        name: String,
        len: usize,
        max: usize,
    },
    #[error("give a ranking (option ids in order of preference), not points")]
    NotRanked,
}

/// An answer error of a named contest.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{title}: {error}")]
pub struct ContestError {
    pub contest: String,
    pub title: String,
    pub error: AnswerError,
}

/// What a contest asks of the voter, in words: `choose exactly 1`, `choose up to 2`, `give each
/// option 0 to 5 points, at most 8 in all`.
pub fn instructions(c: &Contest) -> String {
    if let Some(r) = c.ranked() {
        return ranked_instructions(c, r);
    }
    let r = c.rule();
    if r.per_option_max == 1 {
        let top = r.total_max.min(c.options.len() as u32);
        match (r.total_min, top) {
            (a, b) if a == b => format!("choose exactly {a}"),
            (0, b) => format!("choose up to {b} (or none, to leave it blank)"),
            (a, b) => format!("choose {a} to {b}"),
        }
    } else if r.total_max < u32::from(r.per_option_max) * c.options.len() as u32 {
        format!(
            "give each option 0 to {} points, at most {} in all",
            r.per_option_max, r.total_max
        )
    } else {
        format!("give each option 0 to {} points", r.per_option_max)
    }
}

fn ranked_instructions(c: &Contest, r: &RankedRules) -> String {
    let method = match r.method {
        urna_election::manifest::CountMethod::Irv => "instant-runoff".to_string(),
        urna_election::manifest::CountMethod::Stv => {
            format!("single transferable vote, {} seats", r.seats)
        }
        urna_election::manifest::CountMethod::Schulze => "Condorcet (Schulze)".to_string(),
    };
    let ranks = usize::from(r.ranks);
    let mut s = if ranks >= c.options.len() + usize::from(r.write_ins) {
        "rank the candidates in order of preference, first choice first, as many as you like"
            .to_string()
    } else {
        format!("rank up to {ranks} candidates in order of preference, first choice first")
    };
    if r.write_ins > 0 {
        s.push_str(&format!(
            "; up to {} write-in{} ({WRITE_IN}Name)",
            r.write_ins,
            if r.write_ins == 1 { "" } else { "s" }
        ));
    }
    s.push_str(&format!("; counted by {method}"));
    s
}

/// A ranked contest's answer as typed: option ids (or `write-in:Name`) in order of
/// preference, separated by commas or `>`; nothing ranks nobody. Checked before encryption.
pub fn parse_ranking(text: &str, c: &Contest) -> Result<Vec<Preference>, AnswerError> {
    let prefs: Vec<Preference> = text
        .split([',', '>'])
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(preference)
        .collect();
    check_ranking(&prefs, c)?;
    Ok(prefs)
}

/// Whether a ranking can be written as this contest's ballot (§5.5), in the voter's terms.
pub fn check_ranking(prefs: &[Preference], c: &Contest) -> Result<(), AnswerError> {
    let Some(r) = c.ranked() else {
        return Err(AnswerError::NotRanked);
    };
    let known = || {
        c.options
            .iter()
            .map(|x| x.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut writes = 0usize;
    for (k, p) in prefs.iter().enumerate() {
        let name = match p {
            Preference::Option(id) => match c.options.iter().find(|o| &o.id == id) {
                Some(o) => o.name.clone(),
                None => {
                    if id.contains(':') && !id.starts_with(WRITE_IN) {
                        return Err(AnswerError::NotRanked);
                    }
                    return Err(AnswerError::UnknownOption {
                        given: id.clone(),
                        known: known(),
                    });
                }
            },
            Preference::WriteIn(t) => {
                writes += 1;
                t.clone()
            }
        };
        if prefs[..k].contains(p) {
            return Err(AnswerError::RankedTwice(name));
        }
    }
    if writes > 0 && r.write_ins == 0 {
        return Err(AnswerError::NoWriteIns);
    }
    ranked_plaintext(c, r, prefs)
        .map(drop)
        .map_err(|e| match e {
            urna_election::ballot::ChoiceError::Ranking { error, .. } => match error {
                RankingError::TooManyPreferences { got, max } => {
                    AnswerError::TooManyRanks { got, max }
                }
                RankingError::Repeated => AnswerError::RankedTwice("a write-in".into()),
                RankingError::TooManyWriteIns(n) => AnswerError::TooManyWriteIns(n),
                RankingError::WriteInText => AnswerError::WriteInText,
                RankingError::WriteInTooLong { len, max } => AnswerError::WriteInTooLong {
                    name: prefs
                        .iter()
                        .find_map(|p| match p {
                            Preference::WriteIn(t) if t.len() == len => Some(t.clone()),
                            _ => None,
                        })
                        .unwrap_or_default(),
                    len,
                    max,
                },
                RankingError::UnknownOption(i) => AnswerError::UnknownOption {
                    given: format!("#{i}"),
                    known: known(),
                },
            },
            other => AnswerError::UnknownOption {
                given: other.to_string(),
                known: known(),
            },
        })
}

/// A ranking in words: `1. Dan  2. Zoë Ng (write-in)`, or `(nobody ranked)`.
pub fn describe_ranking(prefs: &[Preference], c: &Contest) -> String {
    if prefs.is_empty() {
        return "(nobody ranked)".into();
    }
    prefs
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let name = match p {
                Preference::Option(id) => c
                    .options
                    .iter()
                    .find(|o| &o.id == id)
                    .map_or(id.clone(), |o| o.name.clone()),
                Preference::WriteIn(t) => format!("{t} (write-in)"),
            };
            format!("{}. {name}", k + 1)
        })
        .collect::<Vec<_>>()
        .join("  ")
}

/// One contest's answer as typed: option ids (or `id:points` in a score contest) separated by
/// commas or spaces, nothing for blank. Checked against the contest's rule.
pub fn parse_answer(text: &str, c: &Contest) -> Result<Vec<u16>, AnswerError> {
    let mut values = vec![0u16; c.options.len()];
    let mut given = vec![false; c.options.len()];
    let per_max = c.rule().per_option_max;
    for item in text
        .split([',', ' '])
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        let (o, v) = match item.split_once(':') {
            Some((o, v)) => (
                o.trim(),
                v.trim()
                    .parse::<u16>()
                    .map_err(|_| AnswerError::BadValue(item.to_string()))?,
            ),
            None => (item, 1),
        };
        let i = c
            .option_index(o)
            .ok_or_else(|| AnswerError::UnknownOption {
                given: o.to_string(),
                known: c
                    .options
                    .iter()
                    .map(|x| x.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if given[i] {
            return Err(AnswerError::RepeatedOption(c.options[i].name.clone()));
        }
        if per_max == 1 && item.contains(':') && v != 1 {
            return Err(AnswerError::NotScored {
                option_id: o.to_string(),
            });
        }
        given[i] = true;
        values[i] = v;
    }
    check_answer(&values, c)?;
    Ok(values)
}

/// Whether one contest's values satisfy its rule (the same rule the ballot's proofs enforce).
pub fn check_answer(values: &[u16], c: &Contest) -> Result<(), AnswerError> {
    if values.len() != c.options.len() {
        return Err(AnswerError::WrongCount {
            expected: c.options.len(),
            got: values.len(),
        });
    }
    let r = c.rule();
    for (v, o) in values.iter().zip(&c.options) {
        if *v > r.per_option_max {
            return Err(if r.per_option_max == 1 {
                AnswerError::NotScored {
                    option_id: o.id.clone(),
                }
            } else {
                AnswerError::AboveMax {
                    option: o.name.clone(),
                    value: *v,
                    max: r.per_option_max,
                }
            });
        }
    }
    let total: u32 = values.iter().map(|v| u32::from(*v)).sum();
    if total > r.total_max {
        return Err(if r.per_option_max == 1 {
            AnswerError::TooMany {
                total,
                max: r.total_max,
            }
        } else {
            AnswerError::OverBudget {
                total,
                max: r.total_max,
            }
        });
    }
    if total < r.total_min {
        return Err(AnswerError::TooFew {
            total,
            min: r.total_min,
        });
    }
    Ok(())
}

/// Checks every contest of a ballot style (absent contests are blank), naming the first that
/// breaks its rule by its title.
pub fn check(answers: &Answers, m: &Manifest, style: u16) -> Result<(), ContestError> {
    let Some(style) = m.ballot_styles.get(usize::from(style)) else {
        return Ok(());
    };
    let title = |id: &String| {
        m.contests
            .iter()
            .find(|c| &c.id == id)
            .map_or(id.clone(), |c| c.title.clone())
    };
    for id in answers.choices.0.keys().chain(answers.rankings.0.keys()) {
        let on_ballot = style
            .contests
            .iter()
            .any(|&ci| m.contests.get(usize::from(ci)).is_some_and(|c| &c.id == id));
        if !on_ballot {
            return Err(ContestError {
                contest: id.clone(),
                title: title(id),
                error: AnswerError::NotOnBallot,
            });
        }
    }
    for &ci in &style.contests {
        let Some(c) = m.contests.get(usize::from(ci)) else {
            continue;
        };
        let checked = if c.ranked().is_some() {
            if answers.choices.0.contains_key(&c.id) {
                Err(AnswerError::NotRanked)
            } else {
                let prefs = answers.rankings.0.get(&c.id).map_or(&[][..], Vec::as_slice);
                check_ranking(prefs, c)
            }
        } else {
            let values = answers
                .choices
                .0
                .get(&c.id)
                .cloned()
                .unwrap_or_else(|| vec![0; c.options.len()]);
            check_answer(&values, c)
        };
        checked.map_err(|error| ContestError {
            contest: c.id.clone(),
            title: c.title.clone(),
            error,
        })?;
    }
    Ok(())
}

/// One contest's answer in words: the options chosen by name (with points in a score contest),
/// or `blank`.
pub fn describe_answer(values: &[u16], c: &Contest) -> String {
    let scored = c.rule().per_option_max > 1;
    let chosen: Vec<String> = c
        .options
        .iter()
        .zip(values)
        .filter(|(_, v)| **v > 0)
        .map(|(o, v)| {
            if scored {
                format!("{}: {v}", o.name)
            } else {
                o.name.clone()
            }
        })
        .collect();
    if chosen.is_empty() {
        "(blank)".into()
    } else {
        chosen.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest::from_toml(include_str!("../../specs/examples/manifest.toml")).unwrap()
    }

    #[test]
    fn answers_are_checked_contest_by_contest() {
        let m = manifest();
        let contest = |id: &str| m.contests.iter().find(|c| c.id == id).unwrap();
        let council = contest("council");
        let budget = contest("budget");
        let mayor = contest("mayor");
        assert_eq!(parse_answer("dan, eve", council), Ok(vec![1, 1, 0, 0]));
        assert_eq!(parse_answer("", council), Ok(vec![0; 4]));
        assert_eq!(
            parse_answer("dan,eve,fay", council),
            Err(AnswerError::TooMany { total: 3, max: 2 })
        );
        assert_eq!(
            parse_answer("park:5,bikes:4", budget),
            Err(AnswerError::OverBudget { total: 9, max: 8 })
        );
        assert_eq!(
            parse_answer("park:6", budget),
            Err(AnswerError::AboveMax {
                option: "A new park".into(),
                value: 6,
                max: 5
            })
        );
        assert_eq!(
            parse_answer("", mayor),
            Err(AnswerError::TooFew { total: 0, min: 1 })
        );
        assert!(matches!(
            parse_answer("zed", mayor),
            Err(AnswerError::UnknownOption { .. })
        ));
        assert!(matches!(
            parse_answer("alice:2", mayor),
            Err(AnswerError::NotScored { .. })
        ));
        assert_eq!(instructions(mayor), "choose exactly 1");
        assert_eq!(
            instructions(council),
            "choose up to 2 (or none, to leave it blank)"
        );
        assert_eq!(
            instructions(budget),
            "give each option 0 to 5 points, at most 8 in all"
        );
        assert_eq!(
            describe_answer(&[3, 0, 5], budget),
            "A new park: 3, Library hours: 5"
        );
        let all = parse("mayor=alice;council=dan,eve,fay", &m).unwrap();
        assert!(all.rankings.0.is_empty());
        let e = check(&all, &m, 0).unwrap_err();
        assert_eq!(e.contest, "council");
        assert_eq!(
            e.to_string(),
            "City Council (choose up to 2): 3 chosen; choose at most 2"
        );
    }

    /// The example manifest with a ranked contest (one write-in) on its only style.
    fn ranked_manifest() -> Manifest {
        let text = include_str!("../../specs/examples/manifest.toml").replace(
            "# Contests.",
            r#"[[contests]]
id = "board"
title = "School board"
kind = "ranked"
method = "irv"
ranks = 3
write_ins = 1
write_in_len = 12
options = [{ id = "dan", name = "Dan" }, { id = "eve", name = "Eve" }, { id = "fay", name = "Fay" }]

# Contests."#,
        );
        let mut m = Manifest::from_toml(&text).unwrap();
        let board = m.contests.iter().position(|c| c.id == "board").unwrap() as u16;
        for s in &mut m.ballot_styles {
            s.contests.push(board);
        }
        m
    }

    #[test]
    fn rankings_are_parsed_and_checked_before_encryption() {
        let m = ranked_manifest();
        let board = m.contests.iter().find(|c| c.id == "board").unwrap();
        let o = |id: &str| Preference::Option(id.into());
        let w = |t: &str| Preference::WriteIn(t.into());
        assert_eq!(
            parse_ranking("eve > write-in:Zoë Ng, dan", board),
            Ok(vec![o("eve"), w("Zoë Ng"), o("dan")])
        );
        assert_eq!(parse_ranking("", board), Ok(vec![]));
        assert_eq!(
            parse_ranking("dan,eve,dan", board),
            Err(AnswerError::RankedTwice("Dan".into()))
        );
        assert_eq!(
            parse_ranking("dan,eve,fay,write-in:Al", board),
            Err(AnswerError::TooManyRanks { got: 4, max: 3 })
        );
        assert_eq!(
            parse_ranking("write-in:A,write-in:B", board),
            Err(AnswerError::TooManyWriteIns(1))
        );
        assert_eq!(
            parse_ranking("write-in:", board),
            Err(AnswerError::WriteInText)
        );
        assert!(matches!(
            parse_ranking("write-in:Someone Long Named", board),
            Err(AnswerError::WriteInTooLong {
                len: 18,
                max: 12,
                ..
            })
        ));
        assert!(matches!(
            parse_ranking("zed", board),
            Err(AnswerError::UnknownOption { .. })
        ));
        assert_eq!(parse_ranking("dan:2", board), Err(AnswerError::NotRanked));
        assert_eq!(
            describe_ranking(&[o("eve"), w("Zoë Ng")], board),
            "1. Eve  2. Zoë Ng (write-in)"
        );
        assert!(instructions(board).starts_with("rank up to 3 candidates"));

        let a = parse("mayor=alice;measure-a=yes;board=fay,write-in:Zoë Ng", &m).unwrap();
        assert_eq!(a.rankings.0["board"], vec![o("fay"), w("Zoë Ng")]);
        assert_eq!(a.choices.0["mayor"], vec![1, 0, 0]);
        let j = parse(
            r#"{"mayor": {"alice": 1}, "board": ["eve", {"write-in": "Al"}]}"#,
            &m,
        )
        .unwrap();
        assert_eq!(j.rankings.0["board"], vec![o("eve"), w("Al")]);
        assert!(matches!(
            parse(r#"{"board": {"eve": 1}}"#, &m),
            Err(ChoicesSyntaxError::Json(_))
        ));
        assert!(matches!(
            parse("board=eve,eve", &m),
            Err(ChoicesSyntaxError::Ranking { .. })
        ));
        assert_eq!(check(&a, &m, 0).map_err(|e| e.to_string()), Ok(()));
        // Values for a ranked contest, given through the library, are refused by title.
        let mut wrong = a.clone();
        wrong.rankings.0.clear();
        wrong.choices.0.insert("board".into(), vec![1, 0, 0]);
        assert_eq!(
            check(&wrong, &m, 0).unwrap_err().error,
            AnswerError::NotRanked
        );
    }
}
