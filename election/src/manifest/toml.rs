//! The TOML authoring form of a manifest, kept apart from the validated type: contests and
//! styles are named by id here, keys are hex, defaults are filled in, and every field the
//! author wrote must be one the contest's kind uses.

use std::collections::HashSet;

use serde::Deserialize;

use super::{
    referendum_options, BallotStyle, Contest, ContestKind, ContestOption, CountMethod, Manifest,
    ManifestError, Mixer, RankedRules, RevotePolicy, Role, Translations, Trustee, Witness,
};

/// A write-in's length when the author allows write-ins without saying how long.
const DEFAULT_WRITE_IN_LEN: u8 = 60;
use urna_crypto::group::Point;
use urna_crypto::sign::VerifyingKey;

impl Manifest {
    /// Parses and validates the TOML authoring form.
    pub fn from_toml(text: &str) -> Result<Self, ManifestError> {
        let raw: ManifestToml =
            ::toml::from_str(text).map_err(|e| ManifestError::Toml(e.to_string()))?;
        let m = raw.into_manifest()?;
        m.validate()?;
        Ok(m)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestToml {
    election_id: String,
    title: String,
    #[serde(default)]
    titles: Translations,
    #[serde(default)]
    opens: Option<String>,
    #[serde(default)]
    closes: Option<String>,
    #[serde(default)]
    revote: Option<String>,
    threshold: u16,
    keys: KeysToml,
    trustees: Vec<TrusteeToml>,
    contests: Vec<ContestToml>,
    ballot_styles: Vec<StyleToml>,
    #[serde(default)]
    witnesses: Vec<WitnessToml>,
    #[serde(default)]
    witness_quorum: Option<u16>,
    /// Default, when some contest is ranked: every trustee, in order, with its signing key.
    #[serde(default)]
    mixers: Option<Vec<MixerToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MixerToml {
    name: String,
    key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysToml {
    authority: String,
    registrar: String,
    board: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessToml {
    name: String,
    key: String,
    url: String,
    /// `"witness"` (default) or `"node"`.
    #[serde(default)]
    role: Role,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrusteeToml {
    name: String,
    signing_key: String,
    ceremony_key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContestToml {
    id: String,
    title: String,
    #[serde(default)]
    titles: Translations,
    kind: String,
    #[serde(default)]
    exactly: Option<bool>,
    #[serde(default)]
    min: Option<u16>,
    #[serde(default)]
    max: Option<u16>,
    #[serde(default)]
    budget: Option<u32>,
    #[serde(default)]
    blank: Option<bool>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    seats: Option<u16>,
    #[serde(default)]
    ranks: Option<u8>,
    #[serde(default)]
    write_ins: Option<u8>,
    #[serde(default)]
    write_in_len: Option<u8>,
    #[serde(default)]
    options: Vec<OptionToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionToml {
    id: String,
    name: String,
    #[serde(default)]
    names: Translations,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleToml {
    id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    titles: Translations,
    contests: Vec<String>,
}

fn vk(what: &str, hex: &str) -> Result<VerifyingKey, ManifestError> {
    let bad = |reason: String| ManifestError::BadKey {
        what: what.to_string(),
        reason,
    };
    let b = urna_crypto::hex::decode_array::<32>(hex).map_err(|e| bad(e.to_string()))?;
    VerifyingKey::from_wire(&b).map_err(|e| bad(e.to_string()))
}

fn point(what: &str, hex: &str) -> Result<Point, ManifestError> {
    let bad = |reason: String| ManifestError::BadKey {
        what: what.to_string(),
        reason,
    };
    let b = urna_crypto::hex::decode_array::<32>(hex).map_err(|e| bad(e.to_string()))?;
    Point::from_wire(&b, "ceremony key").map_err(|e| bad(e.to_string()))
}

impl ContestToml {
    fn unused(&self, kind: &'static str, allowed: &[&str]) -> Result<(), ManifestError> {
        let fields: [(&'static str, bool); 10] = [
            ("exactly", self.exactly.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("budget", self.budget.is_some()),
            ("blank", self.blank.is_some()),
            ("method", self.method.is_some()),
            ("seats", self.seats.is_some()),
            ("ranks", self.ranks.is_some()),
            ("write_ins", self.write_ins.is_some()),
            ("write_in_len", self.write_in_len.is_some()),
        ];
        for (f, set) in fields {
            if set && !allowed.contains(&f) {
                return Err(ManifestError::UnusedField {
                    contest: self.id.clone(),
                    field: f,
                    kind,
                });
            }
        }
        Ok(())
    }

    fn required<T>(
        &self,
        v: Option<T>,
        field: &'static str,
        kind: &'static str,
    ) -> Result<T, ManifestError> {
        v.ok_or_else(|| ManifestError::MissingField {
            contest: self.id.clone(),
            field,
            kind,
        })
    }

    fn into_contest(self) -> Result<Contest, ManifestError> {
        let kind = match self.kind.as_str() {
            "plurality" => {
                self.unused("plurality", &["exactly"])?;
                ContestKind::Plurality {
                    exactly: self.exactly.unwrap_or(true),
                }
            }
            "approval" => {
                self.unused("approval", &["min", "max"])?;
                ContestKind::Approval {
                    min: self.min.unwrap_or(0),
                    max: self.required(self.max, "max", "approval")?,
                }
            }
            "score" => {
                self.unused("score", &["max", "budget"])?;
                ContestKind::Score {
                    max: self.required(self.max, "max", "score")?,
                    budget: self.budget,
                }
            }
            "referendum" => {
                self.unused("referendum", &["blank"])?;
                if !self.options.is_empty() {
                    return Err(ManifestError::ReferendumOptions(self.id));
                }
                ContestKind::Referendum {
                    blank: self.blank.unwrap_or(false),
                }
            }
            "ranked" => {
                self.unused(
                    "ranked",
                    &["method", "seats", "ranks", "write_ins", "write_in_len"],
                )?;
                let method = match self.method.as_deref() {
                    Some("irv") => CountMethod::Irv,
                    Some("stv") => CountMethod::Stv,
                    Some("schulze") => CountMethod::Schulze,
                    Some(other) => return Err(ManifestError::BadMethod(other.to_string())),
                    None => {
                        return Err(ManifestError::MissingField {
                            contest: self.id.clone(),
                            field: "method",
                            kind: "ranked",
                        })
                    }
                };
                let write_ins = self.write_ins.unwrap_or(0);
                let candidates = self.options.len() + usize::from(write_ins);
                ContestKind::Ranked(RankedRules {
                    method,
                    seats: self.seats.unwrap_or(1),
                    // Every candidate may be ranked unless the author limits it.
                    ranks: self
                        .ranks
                        .unwrap_or(u8::try_from(candidates).unwrap_or(u8::MAX)),
                    write_ins,
                    write_in_len: self.write_in_len.unwrap_or(if write_ins > 0 {
                        DEFAULT_WRITE_IN_LEN
                    } else {
                        0
                    }),
                })
            }
            other => return Err(ManifestError::BadKind(other.to_string())),
        };
        let options = match kind {
            ContestKind::Referendum { blank } => referendum_options(blank),
            _ => self
                .options
                .into_iter()
                .map(|o| ContestOption {
                    id: o.id,
                    name: o.name,
                    names: o.names,
                })
                .collect(),
        };
        Ok(Contest {
            id: self.id,
            title: self.title,
            titles: self.titles,
            kind,
            options,
        })
    }
}

impl ManifestToml {
    fn into_manifest(self) -> Result<Manifest, ManifestError> {
        let revote = match self.revote.as_deref() {
            None | Some("latest-counts") => RevotePolicy::LatestCounts,
            Some("forbidden") => RevotePolicy::Forbidden,
            Some(other) => return Err(ManifestError::BadRevote(other.to_string())),
        };
        let trustees = self
            .trustees
            .into_iter()
            .map(|t| {
                Ok(Trustee {
                    signing_key: vk(&format!("trustee {:?} signing_key", t.name), &t.signing_key)?,
                    ceremony_key: point(
                        &format!("trustee {:?} ceremony_key", t.name),
                        &t.ceremony_key,
                    )?,
                    name: t.name,
                })
            })
            .collect::<Result<Vec<_>, ManifestError>>()?;
        let contests = self
            .contests
            .into_iter()
            .map(ContestToml::into_contest)
            .collect::<Result<Vec<_>, _>>()?;
        // Styles name contests by id, so ids must be unique before they are resolved.
        let mut seen = HashSet::new();
        if let Some(dup) = contests.iter().find(|c| !seen.insert(c.id.as_str())) {
            return Err(ManifestError::DuplicateContest(dup.id.clone()));
        }
        let mut ballot_styles = Vec::new();
        for s in self.ballot_styles {
            let mut idx = Vec::new();
            for cid in &s.contests {
                let i = contests.iter().position(|c| &c.id == cid).ok_or_else(|| {
                    ManifestError::UnknownContest {
                        style: s.id.clone(),
                        contest: cid.clone(),
                    }
                })?;
                if idx.contains(&(i as u16)) {
                    return Err(ManifestError::RepeatedContest {
                        style: s.id.clone(),
                        contest: cid.clone(),
                    });
                }
                idx.push(i as u16);
            }
            // Canonical order: a ballot lists its contests in manifest order.
            idx.sort_unstable();
            ballot_styles.push(BallotStyle {
                id: s.id,
                title: s.title,
                titles: s.titles,
                contests: idx,
            });
        }
        let mixers = match self.mixers {
            Some(list) => list
                .into_iter()
                .map(|x| {
                    Ok(Mixer {
                        key: vk(&format!("mixer {:?} key", x.name), &x.key)?,
                        name: x.name,
                    })
                })
                .collect::<Result<Vec<_>, ManifestError>>()?,
            None if contests.iter().any(|c| c.ranked().is_some()) => trustees
                .iter()
                .map(|t| Mixer {
                    name: t.name.clone(),
                    key: t.signing_key,
                })
                .collect(),
            None => Vec::new(),
        };
        Ok(Manifest {
            election_id: self.election_id,
            title: self.title,
            titles: self.titles,
            authority_key: vk("keys.authority", &self.keys.authority)?,
            registrar_key: vk("keys.registrar", &self.keys.registrar)?,
            board_key: vk("keys.board", &self.keys.board)?,
            trustees,
            threshold: self.threshold,
            revote,
            contests,
            ballot_styles,
            opens: self.opens,
            closes: self.closes,
            // Default: a majority of the named witnesses.
            witness_quorum: self.witness_quorum.unwrap_or(
                (self.witnesses.len() / 2 + usize::from(!self.witnesses.is_empty())) as u16,
            ),
            witnesses: self
                .witnesses
                .into_iter()
                .map(|w| {
                    Ok(Witness {
                        key: vk(&format!("witness {:?} key", w.name), &w.key)?,
                        name: w.name,
                        url: w.url,
                        role: w.role,
                    })
                })
                .collect::<Result<Vec<_>, ManifestError>>()?,
            mixers,
        })
    }
}
