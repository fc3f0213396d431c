//! The `--choices` syntax: `contest=option,option;contest=option:value,…`.
//!
//! - contests are separated by `;`, each `contest-id=items`;
//! - items are separated by `,`: `option-id` means value 1, `option-id:N` means value `N`
//!   (scores); an empty item list (`contest=`) is an explicit blank;
//! - contests of the ballot style not mentioned count as blank.
//!
//! Example: `mayor=alice;council=dan,eve;budget=park:3,bikes:5;measure-a=yes`.
//! A JSON object `{"contest": {"option": value, …}, …}` is accepted too (if it starts with `{`).

use std::collections::BTreeMap;

use thiserror::Error;
use urna_election::ballot::Choices;
use urna_election::manifest::{Contest, Manifest};

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
}

pub fn parse(text: &str, m: &Manifest) -> Result<Choices, ChoicesSyntaxError> {
    let raw: Vec<(String, Vec<(String, u16)>)> = if text.trim_start().starts_with('{') {
        let v: BTreeMap<String, BTreeMap<String, u16>> =
            serde_json::from_str(text).map_err(|e| ChoicesSyntaxError::Json(e.to_string()))?;
        v.into_iter()
            .map(|(c, opts)| (c, opts.into_iter().collect()))
            .collect()
    } else {
        let mut out = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (c, items) = part
                .split_once('=')
                .ok_or_else(|| ChoicesSyntaxError::NoEquals(part.to_string()))?;
            let c = c.trim().to_string();
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
            out.push((c, opts));
        }
        out
    };
    let mut choices = Choices::default();
    for (c, opts) in raw {
        let contest = m
            .contests
            .iter()
            .find(|x| x.id == c)
            .ok_or_else(|| ChoicesSyntaxError::UnknownContest(c.clone()))?;
        if choices.0.contains_key(&c) {
            return Err(ChoicesSyntaxError::Repeated(c));
        }
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
        choices.0.insert(c, values);
    }
    Ok(choices)
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
pub fn check(choices: &Choices, m: &Manifest, style: u16) -> Result<(), ContestError> {
    let Some(style) = m.ballot_styles.get(usize::from(style)) else {
        return Ok(());
    };
    for id in choices.0.keys() {
        let on_ballot = style
            .contests
            .iter()
            .any(|&ci| m.contests.get(usize::from(ci)).is_some_and(|c| &c.id == id));
        if !on_ballot {
            return Err(ContestError {
                contest: id.clone(),
                title: m
                    .contests
                    .iter()
                    .find(|c| &c.id == id)
                    .map_or(id.clone(), |c| c.title.clone()),
                error: AnswerError::NotOnBallot,
            });
        }
    }
    for &ci in &style.contests {
        let Some(c) = m.contests.get(usize::from(ci)) else {
            continue;
        };
        let values = choices
            .0
            .get(&c.id)
            .cloned()
            .unwrap_or_else(|| vec![0; c.options.len()]);
        check_answer(&values, c).map_err(|error| ContestError {
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
        let e = check(&all, &m, 0).unwrap_err();
        assert_eq!(e.contest, "council");
        assert_eq!(
            e.to_string(),
            "City Council (choose up to 2): 3 chosen; choose at most 2"
        );
    }
}
