//! The election manifest: what the election authority declares before anything else happens.
//!
//! The types here are the manifest as the rules read it. Around them, one module per job:
//! [`validate`](Manifest::validate) checks every rule of `specs/election.md` §2 (`validate`),
//! `canonical` is the one binary form carried on the ledger and hashed into the election context
//! (§2.3), and `toml` is the authoring form ([`Manifest::from_toml`], example in
//! `specs/examples/manifest.toml`). Keeping them apart keeps the canonical encoding — which every
//! ballot proof binds through the manifest hash — free of authoring conveniences.

use serde::{Deserialize, Serialize};
use urna_crypto::group::Point;
use urna_crypto::sign::VerifyingKey;

mod canonical;
mod language;
mod ranked;
mod toml;
mod validate;

pub use language::{
    canonical_case, check_tag, pick, TagProblem, Translation, Translations, MAX_TAG_LEN,
    MAX_TRANSLATIONS,
};
pub use ranked::{CountMethod, Mixer, RankedRules, EMBED_BYTES, MAX_MIXERS, MAX_RANKED_WIDTH};
pub use validate::ManifestError;

/// Largest number of options in one contest (a selection index fits a `u8`, and a disjunctive
/// contest proof supports totals up to 254).
pub const MAX_OPTIONS: usize = 254;
/// Largest score a score contest may allow per option.
pub const MAX_SCORE: u16 = 1000;
/// Largest number of trustees.
pub const MAX_TRUSTEES: usize = 64;
/// At most this many witnesses may be named.
pub const MAX_WITNESSES: usize = 32;

/// Which ballot counts when a credential votes more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevotePolicy {
    /// The latest ballot counts; earlier ones stay on the ledger, marked superseded (default).
    LatestCounts,
    /// One ballot per credential; a second is rejected.
    Forbidden,
}

impl RevotePolicy {
    fn tag(self) -> u8 {
        match self {
            RevotePolicy::LatestCounts => 1,
            RevotePolicy::Forbidden => 2,
        }
    }
}

/// The rule a contest imposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ContestKind {
    /// Exactly one option (`exactly = true`) or at most one.
    Plurality { exactly: bool },
    /// Between `min` and `max` options.
    Approval { min: u16, max: u16 },
    /// Each option scored `0..=max`; with a budget, the scores sum to at most `budget`
    /// (cumulative voting).
    Score { max: u16, budget: Option<u32> },
    /// Options `yes`, `no` and, if `blank`, `blank`; exactly one.
    Referendum { blank: bool },
    /// Options ranked in order of preference, with write-ins if the rules allow them; counted
    /// by `rules.method` from ballots decrypted after a verifiable mix, never homomorphically.
    Ranked(RankedRules),
}

/// What each option's ciphertext may encrypt and what the contest total must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContestRule {
    /// Each option encrypts a value in `0..=per_option_max`.
    pub per_option_max: u16,
    /// The sum over options lies in `total_min..=total_max`.
    pub total_min: u32,
    pub total_max: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContestOption {
    pub id: String,
    pub name: String,
    /// The name in other languages (§2.4).
    #[serde(default)]
    pub names: Translations,
}

impl ContestOption {
    /// The name for a reader of `lang` (§2.4).
    pub fn name_in(&self, lang: &str) -> &str {
        self.names.pick(&self.name, lang)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contest {
    pub id: String,
    pub title: String,
    /// The title in other languages (§2.4).
    #[serde(default)]
    pub titles: Translations,
    #[serde(flatten)]
    pub kind: ContestKind,
    pub options: Vec<ContestOption>,
}

impl Contest {
    pub fn rule(&self) -> ContestRule {
        let n = self.options.len() as u32;
        match self.kind {
            ContestKind::Plurality { exactly } => ContestRule {
                per_option_max: 1,
                total_min: u32::from(exactly),
                total_max: 1,
            },
            ContestKind::Approval { min, max } => ContestRule {
                per_option_max: 1,
                total_min: min.into(),
                total_max: max.into(),
            },
            ContestKind::Score { max, budget } => ContestRule {
                per_option_max: max,
                total_min: 0,
                total_max: budget.unwrap_or(u32::from(max) * n),
            },
            ContestKind::Referendum { .. } => ContestRule {
                per_option_max: 1,
                total_min: 1,
                total_max: 1,
            },
            // Not in the homomorphic tally: no option holds a ciphertext of its own.
            ContestKind::Ranked(_) => ContestRule {
                per_option_max: 0,
                total_min: 0,
                total_max: 0,
            },
        }
    }

    /// The rules of a ranked contest; `None` for a contest in the homomorphic tally.
    pub fn ranked(&self) -> Option<&RankedRules> {
        match &self.kind {
            ContestKind::Ranked(r) => Some(r),
            _ => None,
        }
    }

    pub fn option_index(&self, id: &str) -> Option<usize> {
        self.options.iter().position(|o| o.id == id)
    }

    /// The title for a reader of `lang` (§2.4).
    pub fn title_in(&self, lang: &str) -> &str {
        self.titles.pick(&self.title, lang)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotStyle {
    pub id: String,
    /// The name voters are shown (`None`: the manifest gives none; clients then show the id).
    #[serde(default)]
    pub title: Option<String>,
    /// The title in other languages (§2.4); empty without a title.
    #[serde(default)]
    pub titles: Translations,
    /// Indices into [`Manifest::contests`], strictly increasing.
    pub contests: Vec<u16>,
}

impl BallotStyle {
    /// The style's name for a reader of `lang` (§2.4), or its id when it has no title.
    pub fn title_in(&self, lang: &str) -> &str {
        match &self.title {
            Some(t) => self.titles.pick(t, lang),
            None => &self.id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trustee {
    pub name: String,
    /// Signs the trustee's ledger entries.
    pub signing_key: VerifyingKey,
    /// Receives encrypted key-ceremony shares.
    pub ceremony_key: Point,
}

/// A member of the manifest's cosigning list: an independent cosigner of the board's
/// checkpoints (C2SP tlog-witness), which may also be a validating node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    /// Its key name in cosignature lines (a scheme-less URL-like name).
    pub name: String,
    /// Its Ed25519 cosigning key.
    pub key: VerifyingKey,
    /// Where the board submits checkpoints (`<url>/add-checkpoint`); a node also serves the
    /// board's read API there.
    pub url: String,
    /// What its cosignature attests.
    #[serde(default)]
    pub role: Role,
}

/// What a cosignature by a member of the manifest's list attests (specs/board.md §6, §7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A witness: the checkpoint extends everything it cosigned before.
    #[default]
    Witness,
    /// A validating node: that, and it holds every entry up to the checkpoint, durably, has
    /// replayed each through the election rules and found it admissible, and serves them.
    Node,
}

impl Role {
    /// The byte of the canonical form (§2.3).
    pub fn tag(self) -> u8 {
        match self {
            Role::Witness => 1,
            Role::Node => 2,
        }
    }

    pub fn from_tag(tag: u8) -> Option<Role> {
        match tag {
            1 => Some(Role::Witness),
            2 => Some(Role::Node),
            _ => None,
        }
    }
}

impl Witness {
    /// Whether it is a validating node.
    pub fn is_node(&self) -> bool {
        self.role == Role::Node
    }
}

/// A manifest. Those built by [`Manifest::from_toml`] or decoded from their canonical bytes
/// ([`Decode`](urna_crypto::codec::Decode)) are valid; one assembled field by field is not until
/// [`Manifest::validate`] says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// A scheme-less URL-like origin, e.g. `vote.example.org/2026/council`; also the log name.
    pub election_id: String,
    pub title: String,
    /// The title in other languages (§2.4).
    #[serde(default)]
    pub titles: Translations,
    pub authority_key: VerifyingKey,
    pub registrar_key: VerifyingKey,
    pub board_key: VerifyingKey,
    pub trustees: Vec<Trustee>,
    pub threshold: u16,
    pub revote: RevotePolicy,
    pub contests: Vec<Contest>,
    pub ballot_styles: Vec<BallotStyle>,
    /// Informational only; the rules never read a clock.
    pub opens: Option<String>,
    pub closes: Option<String>,
    /// Witnesses that cosign the board's checkpoints, and how many of them a checkpoint needs
    /// before clients accept it (0 when there are none).
    pub witnesses: Vec<Witness>,
    pub witness_quorum: u16,
    /// Who mixes the ranked contests' ballots, in chain order: named exactly when a contest is
    /// ranked (at least two), empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mixers: Vec<Mixer>,
}

impl Manifest {
    /// The election's title for a reader of `lang` (a BCP 47 tag): the translation for the
    /// tag, else one for its primary language, else the default title (§2.4). Contests,
    /// options and styles have the same: [`Contest::title_in`], [`ContestOption::name_in`],
    /// [`BallotStyle::title_in`]; [`pick`] is the rule itself.
    pub fn title_in(&self, lang: &str) -> &str {
        self.titles.pick(&self.title, lang)
    }

    pub fn style(&self, id: &str) -> Option<(u16, &BallotStyle)> {
        self.ballot_styles
            .iter()
            .enumerate()
            .find(|(_, s)| s.id == id)
            .map(|(i, s)| (i as u16, s))
    }

    /// `(contest index, option index)` of every option of every contest in the homomorphic
    /// tally, in manifest order (contest, then option): the layout of the encrypted tally, of
    /// decryption shares and of the result. Ranked contests have no position.
    pub fn option_positions(&self) -> Vec<(u16, u16)> {
        self.contests
            .iter()
            .enumerate()
            .filter(|(_, contest)| contest.ranked().is_none())
            .flat_map(|(c, contest)| (0..contest.options.len()).map(move |o| (c as u16, o as u16)))
            .collect()
    }

    /// Whether some contest is counted homomorphically (and so there is an encrypted tally to
    /// decrypt and a `Result` to post).
    pub fn has_tally(&self) -> bool {
        self.contests.iter().any(|c| c.ranked().is_none())
    }

    /// The ranked contests: `(manifest index, contest, rules)`, in manifest order.
    pub fn ranked_contests(&self) -> impl Iterator<Item = (u16, &Contest, &RankedRules)> {
        self.contests
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.ranked().map(|r| (i as u16, c, r)))
    }

    /// The 1-based position of a mixer's key in the chain.
    pub fn mixer_index(&self, key: &VerifyingKey) -> Option<u16> {
        self.mixers
            .iter()
            .position(|m| &m.key == key)
            .map(|i| i as u16 + 1)
    }

    pub fn trustee_index(&self, key: &VerifyingKey) -> Option<u16> {
        self.trustees
            .iter()
            .position(|t| &t.signing_key == key)
            .map(|i| i as u16 + 1)
    }
}

/// The fixed options of a referendum.
pub fn referendum_options(blank: bool) -> Vec<ContestOption> {
    let mut v = vec![
        ContestOption {
            id: "yes".into(),
            name: "Yes".into(),
            names: Translations::default(),
        },
        ContestOption {
            id: "no".into(),
            name: "No".into(),
            names: Translations::default(),
        },
    ];
    if blank {
        v.push(ContestOption {
            id: "blank".into(),
            name: "Blank".into(),
            names: Translations::default(),
        });
    }
    v
}
