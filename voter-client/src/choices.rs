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
use urna_election::manifest::Manifest;

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
