//! Ballots: construction from a voter's choices, verification, and Benaloh openings.
//!
//! For each contest of the voter's ballot style a ballot holds one ElGamal ciphertext per
//! option, a proof per option that it encrypts an allowed value (a 0/1 disjunctive proof, or an
//! aggregated range proof for score contests) and, where the per-option proofs do not already
//! imply it, a proof that the contest total is within its limits. Every proof's context binds
//! the election context hash, the voter's credential, the contest and the slot
//! ([`ElectionContext::ballot_proof_ctx`]), so a ballot cannot be moved to another credential,
//! election or position. `specs/election.md` §5 gives the encoding and the rules.

use std::collections::BTreeMap;

use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use thiserror::Error;
use urna_crypto::batch::BatchVerifier;
use urna_crypto::codec::{Decode, Encode, Reader, Writer};
use urna_crypto::elgamal::{message_point, Ciphertext, PublicKey};
use urna_crypto::embed::embed;
use urna_crypto::errors::{DecodeError, ParamError, VerifyError};
use urna_crypto::group::mul_g;
use urna_crypto::group::Point;
use urna_crypto::range::EncryptedRangeProof;
use urna_crypto::secret::SecretScalar;
use urna_crypto::sigma::{
    ChaumPedersenProof, DisjunctiveProof, DleqStatement, PlaintextKnowledgeProof,
};
use urna_crypto::sign::VerifyingKey;
use urna_crypto::{RistrettoPoint, Scalar};

use crate::context::{ElectionContext, SLOT_CONTEST, SLOT_OPTIONS_RANGE, SLOT_RANKED};
use crate::manifest::{Contest, Manifest, RankedRules};
use crate::ranking::{self, Choice, RankingError};

/// Widest contest-total range `max − min` proven with a disjunctive proof (its size grows
/// linearly); wider ranges use a range proof.
const MAX_DISJUNCTIVE_TOTAL: u32 = 16;

/// Per-option proofs of one contest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionProofs {
    /// One 0/1 disjunctive proof per option (tag 1).
    ZeroOne(Vec<DisjunctiveProof>),
    /// One aggregated range proof `[0, max]` over all options (tag 2).
    Range(EncryptedRangeProof),
    /// A ranked contest's row: one proof of knowledge of every ciphertext's plaintext (tag 3).
    /// The row is not proven well formed; the count's rule reads it after the mix.
    Knowledge(PlaintextKnowledgeProof),
}

/// The proof that a contest's total is within its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContestProof {
    /// Not needed: the per-option proofs imply the limits (tag 0).
    None,
    /// The total equals the fixed value `min` (tag 1).
    Exact(Box<ChaumPedersenProof>),
    /// `total − min ∈ [0, max − min]`, disjunctive (tag 2).
    Bounded(DisjunctiveProof),
    /// `total − min ∈ [0, max − min]` by range proof (tag 3), for ranges too wide for a
    /// disjunction.
    Range(EncryptedRangeProof),
}

/// Which contest proof a rule requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TotalCheck {
    None,
    Exact(u32),
    Bounded { min: u32, max: u32 },
    Range { min: u32, max: u32 },
}

fn total_check(contest: &Contest) -> TotalCheck {
    let rule = contest.rule();
    let n = contest.options.len() as u32;
    let implied_max = u32::from(rule.per_option_max) * n;
    if rule.total_min == 0 && rule.total_max >= implied_max {
        TotalCheck::None
    } else if rule.total_min == rule.total_max {
        TotalCheck::Exact(rule.total_min)
    } else if rule.total_max - rule.total_min <= MAX_DISJUNCTIVE_TOTAL {
        TotalCheck::Bounded {
            min: rule.total_min,
            max: rule.total_max,
        }
    } else {
        TotalCheck::Range {
            min: rule.total_min,
            max: rule.total_max,
        }
    }
}

/// One contest of a ballot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContestBallot {
    pub selections: Vec<Ciphertext>,
    pub option_proofs: OptionProofs,
    pub contest_proof: ContestProof,
}

/// A ballot: the style it was made for and one [`ContestBallot`] per contest of that style, in
/// the style's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    pub style: u16,
    pub contests: Vec<ContestBallot>,
}

/// The voter's choices: for each contest id, one value per option (0/1 for selections, the
/// score for score contests). Contests of the style that are absent count as all zeros.
/// Ranked contests take [`Rankings`] instead.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choices(pub BTreeMap<String, Vec<u16>>);

impl Choices {
    /// Uniformly drawn valid choices for a ballot style (for demos, benchmarks and tests): a
    /// random number of selections within each 0/1 contest's limits, random scores within a
    /// score contest's maximum and budget.
    pub fn random<R: rand::Rng>(manifest: &Manifest, style: u16, rng: &mut R) -> Choices {
        let mut choices = Choices::default();
        let Some(style) = manifest.ballot_styles.get(usize::from(style)) else {
            return choices;
        };
        for &ci in &style.contests {
            let Some(c) = manifest.contests.get(usize::from(ci)) else {
                continue;
            };
            if c.ranked().is_some() {
                continue;
            }
            let rule = c.rule();
            let n = c.options.len();
            let mut values = vec![0u16; n];
            if rule.per_option_max == 1 {
                let k = rng.gen_range(rule.total_min..=rule.total_max.min(n as u32)) as usize;
                let mut idx: Vec<usize> = (0..n).collect();
                for s in 0..k {
                    let pick = rng.gen_range(s..n);
                    idx.swap(s, pick);
                    values[idx[s]] = 1;
                }
            } else {
                let mut left = rule.total_max;
                for v in values.iter_mut() {
                    let top = u32::from(rule.per_option_max).min(left);
                    *v = rng.gen_range(0..=top) as u16;
                    left -= u32::from(*v);
                }
            }
            choices.0.insert(c.id.clone(), values);
        }
        choices
    }

    /// Selects options by id in a 0/1 contest.
    pub fn select(
        &mut self,
        manifest: &Manifest,
        contest: &str,
        options: &[&str],
    ) -> Result<(), ChoiceError> {
        let c = manifest
            .contests
            .iter()
            .find(|c| c.id == contest)
            .ok_or_else(|| ChoiceError::UnknownContest(contest.to_string()))?;
        let mut values = vec![0u16; c.options.len()];
        for o in options {
            let i = c
                .option_index(o)
                .ok_or_else(|| ChoiceError::UnknownOption {
                    contest: contest.to_string(),
                    option: o.to_string(),
                })?;
            values[i] = 1;
        }
        self.0.insert(contest.to_string(), values);
        Ok(())
    }
}

/// One preference of a voter's ranking in a ranked contest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preference {
    /// An option, by id.
    Option(String),
    /// A write-in, by its text (UTF-8, not empty, no surrounding white space).
    WriteIn(String),
}

/// The voter's rankings: for each ranked contest id, its preferences from first to last.
/// Ranked contests of the style that are absent are left blank (nobody ranked).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rankings(pub BTreeMap<String, Vec<Preference>>);

impl Rankings {
    /// Uniformly drawn rankings for a ballot style (for demos, benchmarks and tests): for each
    /// ranked contest, a random number of distinct options in random order.
    pub fn random<R: rand::Rng>(manifest: &Manifest, style: u16, rng: &mut R) -> Rankings {
        let mut out = Rankings::default();
        let Some(style) = manifest.ballot_styles.get(usize::from(style)) else {
            return out;
        };
        for &ci in &style.contests {
            let Some((c, r)) = manifest
                .contests
                .get(usize::from(ci))
                .and_then(|c| c.ranked().map(|r| (c, r)))
            else {
                continue;
            };
            let mut ids: Vec<&str> = c.options.iter().map(|o| o.id.as_str()).collect();
            let k = rng.gen_range(0..=usize::from(r.ranks).min(ids.len()));
            for s in 0..k {
                let pick = rng.gen_range(s..ids.len());
                ids.swap(s, pick);
            }
            out.0.insert(
                c.id.clone(),
                ids[..k]
                    .iter()
                    .map(|id| Preference::Option(id.to_string()))
                    .collect(),
            );
        }
        out
    }
}

/// Why choices cannot be encrypted (checked before any cryptography).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChoiceError {
    #[error("unknown ballot style {0:?}")]
    UnknownStyle(String),
    #[error("unknown contest {0:?}")]
    UnknownContest(String),
    #[error("contest {0:?} is not on this voter's ballot")]
    ContestNotInStyle(String),
    #[error("contest {contest:?} has no option {option:?}")]
    UnknownOption { contest: String, option: String },
    #[error("contest {contest:?} expects {expected} values, got {got}")]
    WrongOptionCount {
        contest: String,
        expected: usize,
        got: usize,
    },
    #[error("contest {contest:?}: option {option:?} has value {value}, above the maximum {max}")]
    AboveMax {
        contest: String,
        option: String,
        value: u16,
        max: u16,
    },
    #[error("contest {contest:?}: {total} chosen, more than the maximum {max}")]
    OverLimit {
        contest: String,
        total: u32,
        max: u32,
    },
    #[error("contest {contest:?}: {total} chosen, fewer than the minimum {min}")]
    UnderLimit {
        contest: String,
        total: u32,
        min: u32,
    },
    #[error("proof construction failed: {0}")]
    Proof(#[from] ParamError),
    #[error("contest {0:?} is ranked: give a ranking, not values per option")]
    RankedContest(String),
    #[error("contest {0:?} is not ranked")]
    NotRanked(String),
    #[error("contest {contest:?}: {error}")]
    Ranking {
        contest: String,
        error: RankingError,
    },
}

/// Why a ballot is not valid for its credential and election.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BallotError {
    #[error("ballot style {0} does not exist")]
    UnknownStyle(u16),
    #[error("ballot style {style} has {expected} contests, the ballot {got}")]
    ContestCount {
        style: u16,
        expected: usize,
        got: usize,
    },
    #[error("contest {contest:?} has {expected} options, the ballot {got}")]
    OptionCount {
        contest: String,
        expected: usize,
        got: usize,
    },
    #[error("contest {contest:?}: wrong kind of {which} proof for this contest")]
    ProofKind {
        contest: String,
        which: &'static str,
    },
    #[error("contest {contest:?}: {which} proof invalid: {error}")]
    Proof {
        contest: String,
        which: String,
        error: VerifyError,
    },
}

/// The secrets of a freshly encrypted ballot, kept by the voter's client for a Benaloh
/// challenge and discarded (zeroized) once the ballot is cast.
#[derive(Debug)]
pub struct BallotSecrets {
    /// Per contest, per option: the value and its encryption nonce.
    pub openings: Vec<Vec<(u16, SecretScalar)>>,
}

/// Encrypts and proves a ballot, after validating the choices against the manifest. Ranked
/// contests of the style are left blank; [`encrypt_ballot_ranked`] takes rankings.
pub fn encrypt_ballot<R: RngCore + CryptoRng>(
    manifest: &Manifest,
    style_id: &str,
    choices: &Choices,
    credential: &VerifyingKey,
    context: &ElectionContext,
    rng: &mut R,
) -> Result<(Ballot, BallotSecrets), ChoiceError> {
    encrypt_ballot_ranked(
        manifest,
        style_id,
        choices,
        &Rankings::default(),
        credential,
        context,
        rng,
    )
}

/// What one contest of the style gets: values per option, or a ranked row's plaintext.
enum Plain {
    Values(Vec<u16>),
    Ranked(Vec<u8>),
}

/// Encrypts and proves a ballot with values for the homomorphic contests and rankings for the
/// ranked ones, after validating both against the manifest.
pub fn encrypt_ballot_ranked<R: RngCore + CryptoRng>(
    manifest: &Manifest,
    style_id: &str,
    choices: &Choices,
    rankings: &Rankings,
    credential: &VerifyingKey,
    context: &ElectionContext,
    rng: &mut R,
) -> Result<(Ballot, BallotSecrets), ChoiceError> {
    let (style_index, style) = manifest
        .style(style_id)
        .ok_or_else(|| ChoiceError::UnknownStyle(style_id.to_string()))?;
    let on_ballot = |id: &String| -> Result<&Contest, ChoiceError> {
        let ci = manifest
            .contests
            .iter()
            .position(|c| &c.id == id)
            .ok_or_else(|| ChoiceError::UnknownContest(id.clone()))?;
        if !style.contests.contains(&(ci as u16)) {
            return Err(ChoiceError::ContestNotInStyle(id.clone()));
        }
        Ok(&manifest.contests[ci])
    };
    for id in choices.0.keys() {
        if on_ballot(id)?.ranked().is_some() {
            return Err(ChoiceError::RankedContest(id.clone()));
        }
    }
    for id in rankings.0.keys() {
        if on_ballot(id)?.ranked().is_none() {
            return Err(ChoiceError::NotRanked(id.clone()));
        }
    }
    // Validate everything before encrypting anything.
    let mut plain = Vec::with_capacity(style.contests.len());
    for &ci in &style.contests {
        let contest = contest_at(manifest, ci)?;
        plain.push(match contest.ranked() {
            Some(rules) => {
                let prefs = rankings.0.get(&contest.id).map_or(&[][..], Vec::as_slice);
                Plain::Ranked(ranked_plaintext(contest, rules, prefs)?)
            }
            None => {
                let values = match choices.0.get(&contest.id) {
                    Some(v) => v.clone(),
                    None => vec![0; contest.options.len()],
                };
                validate_contest_choice(contest, &values)?;
                Plain::Values(values)
            }
        });
    }
    let pk = &context.joint_key;
    let mut contests = Vec::with_capacity(style.contests.len());
    let mut openings = Vec::with_capacity(style.contests.len());
    for (&ci, p) in style.contests.iter().zip(plain) {
        let contest = contest_at(manifest, ci)?;
        let (cb, opening) = match p {
            Plain::Values(values) => {
                encrypt_contest(pk, contest, ci, &values, credential, context, rng)?
            }
            Plain::Ranked(bytes) => encrypt_ranked(pk, ci, &bytes, credential, context, rng)?,
        };
        contests.push(cb);
        openings.push(opening);
    }
    Ok((
        Ballot {
            style: style_index,
            contests,
        },
        BallotSecrets { openings },
    ))
}

/// A ranking by option id and write-in text, as the plaintext bytes of §5.5 (what a voter's
/// client compares a Benaloh-opened ranked row with).
pub fn ranked_plaintext(
    contest: &Contest,
    rules: &RankedRules,
    prefs: &[Preference],
) -> Result<Vec<u8>, ChoiceError> {
    let choices = prefs
        .iter()
        .map(|p| match p {
            Preference::Option(id) => contest
                .option_index(id)
                // Options number at most 254.
                .map(|i| Choice::Option(i as u8))
                .ok_or_else(|| ChoiceError::UnknownOption {
                    contest: contest.id.clone(),
                    option: id.clone(),
                }),
            Preference::WriteIn(t) => Ok(Choice::WriteIn(t.clone())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    ranking::plaintext(rules, contest.options.len(), &choices).map_err(|error| {
        ChoiceError::Ranking {
            contest: contest.id.clone(),
            error,
        }
    })
}

/// A ranked row: each 30-byte payload embedded as a point and encrypted with plain ElGamal,
/// then one proof of knowledge of all the plaintexts, bound to the credential and contest.
fn encrypt_ranked<R: RngCore + CryptoRng>(
    pk: &PublicKey,
    ci: u16,
    bytes: &[u8],
    credential: &VerifyingKey,
    context: &ElectionContext,
    rng: &mut R,
) -> Result<(ContestBallot, Vec<(u16, SecretScalar)>), ChoiceError> {
    let mut selections = Vec::new();
    let mut nonces = Vec::new();
    for payload in ranking::payloads(bytes) {
        let m = embed(&payload)?;
        let r = SecretScalar::random(rng);
        selections.push(Ciphertext::encrypt_point(pk, &m, &r));
        nonces.push(r);
    }
    let ctx = context.ballot_proof_ctx(credential, ci, SLOT_RANKED);
    let proof = PlaintextKnowledgeProof::prove(pk, &selections, &nonces, &ctx, rng)?;
    Ok((
        ContestBallot {
            selections,
            option_proofs: OptionProofs::Knowledge(proof),
            contest_proof: ContestProof::None,
        },
        nonces.into_iter().map(|r| (0, r)).collect(),
    ))
}

fn contest_at(manifest: &Manifest, ci: u16) -> Result<&Contest, ChoiceError> {
    manifest
        .contests
        .get(usize::from(ci))
        .ok_or_else(|| ChoiceError::UnknownContest(format!("#{ci}")))
}

fn validate_contest_choice(contest: &Contest, values: &[u16]) -> Result<(), ChoiceError> {
    if values.len() != contest.options.len() {
        return Err(ChoiceError::WrongOptionCount {
            contest: contest.id.clone(),
            expected: contest.options.len(),
            got: values.len(),
        });
    }
    let rule = contest.rule();
    for (v, o) in values.iter().zip(&contest.options) {
        if *v > rule.per_option_max {
            return Err(ChoiceError::AboveMax {
                contest: contest.id.clone(),
                option: o.id.clone(),
                value: *v,
                max: rule.per_option_max,
            });
        }
    }
    let total: u32 = values.iter().map(|v| u32::from(*v)).sum();
    if total > rule.total_max {
        return Err(ChoiceError::OverLimit {
            contest: contest.id.clone(),
            total,
            max: rule.total_max,
        });
    }
    if total < rule.total_min {
        return Err(ChoiceError::UnderLimit {
            contest: contest.id.clone(),
            total,
            min: rule.total_min,
        });
    }
    Ok(())
}

/// `(Σαᵢ, Σβᵢ)` of a contest's selections.
fn contest_sum(selections: &[Ciphertext]) -> Ciphertext {
    let (a, b) = Ciphertext::sum(selections);
    Ciphertext::from_points(a, b)
}

/// [`shifted`]`(`[`contest_sum`]`(selections), min)` as a verifier needs it, for the price of
/// the two compressions the proof's statement needs (the sum's `β` is never compressed
/// unshifted): a ballot's few ciphertexts are added on the calling thread, which is already
/// one of a batch's workers, and each compression costs an inverse square root, about as much
/// as decompressing a point.
fn shifted_sum(selections: &[Ciphertext], min: u32) -> Ciphertext {
    let (a, b) = selections.iter().fold(
        (RistrettoPoint::default(), RistrettoPoint::default()),
        |(a, b), ct| (a + ct.alpha.point(), b + ct.beta.point()),
    );
    Ciphertext::from_points(a, b - message_point(min.into()))
}

/// The sum shifted down by `min·G`, so that a total in `[min, max]` becomes `[0, max − min]`.
fn shifted(sum: &Ciphertext, min: u32) -> Ciphertext {
    Ciphertext {
        alpha: sum.alpha,
        beta: Point::from_point(sum.beta.point() - message_point(min.into())),
    }
}

fn encrypt_contest<R: RngCore + CryptoRng>(
    pk: &PublicKey,
    contest: &Contest,
    ci: u16,
    values: &[u16],
    credential: &VerifyingKey,
    context: &ElectionContext,
    rng: &mut R,
) -> Result<(ContestBallot, Vec<(u16, SecretScalar)>), ChoiceError> {
    let rule = contest.rule();
    let mut selections = Vec::with_capacity(values.len());
    let mut opening = Vec::with_capacity(values.len());
    for v in values {
        let r = SecretScalar::random(rng);
        // The contest kind is public; the value is not, so both paths are constant time in it.
        let ct = if rule.per_option_max == 1 {
            Ciphertext::encrypt_bit(pk, v.ct_eq(&1), &r)
        } else {
            Ciphertext::encrypt(pk, u64::from(*v), &r)
        };
        selections.push(ct);
        opening.push((*v, r));
    }
    let option_proofs = if rule.per_option_max == 1 {
        let mut proofs = Vec::with_capacity(values.len());
        for (j, (ct, (v, r))) in selections.iter().zip(&opening).enumerate() {
            let ctx = context.ballot_proof_ctx(credential, ci, j as u16);
            proofs.push(DisjunctiveProof::prove(
                pk,
                ct,
                u64::from(*v),
                r,
                1,
                &ctx,
                rng,
            )?);
        }
        OptionProofs::ZeroOne(proofs)
    } else {
        let ctx = context.ballot_proof_ctx(credential, ci, SLOT_OPTIONS_RANGE);
        let vals: Vec<u64> = values.iter().map(|v| u64::from(*v)).collect();
        let nonces: Vec<SecretScalar> = opening.iter().map(|(_, r)| r.clone()).collect();
        let maxima = vec![u64::from(rule.per_option_max); values.len()];
        OptionProofs::Range(EncryptedRangeProof::prove(
            pk,
            &selections,
            &vals,
            &nonces,
            &maxima,
            &ctx,
            rng,
        )?)
    };
    let total: u32 = values.iter().map(|v| u32::from(*v)).sum();
    let r_sum = SecretScalar::new(opening.iter().map(|(_, r)| r.expose()).sum::<Scalar>());
    let sum = contest_sum(&selections);
    let ctx = context.ballot_proof_ctx(credential, ci, SLOT_CONTEST);
    let contest_proof = match total_check(contest) {
        TotalCheck::None => ContestProof::None,
        TotalCheck::Exact(min) => {
            let ct = shifted(&sum, min);
            let st = DleqStatement {
                u: pk.point(),
                x: &ct.alpha,
                y: &ct.beta,
            };
            ContestProof::Exact(Box::new(ChaumPedersenProof::prove(&r_sum, st, &ctx, rng)))
        }
        TotalCheck::Bounded { min, max } => ContestProof::Bounded(DisjunctiveProof::prove(
            pk,
            &shifted(&sum, min),
            u64::from(total - min),
            &r_sum,
            u64::from(max - min),
            &ctx,
            rng,
        )?),
        TotalCheck::Range { min, max } => ContestProof::Range(EncryptedRangeProof::prove(
            pk,
            &[shifted(&sum, min)],
            &[u64::from(total - min)],
            &[r_sum],
            &[u64::from(max - min)],
            &ctx,
            rng,
        )?),
    };
    Ok((
        ContestBallot {
            selections,
            option_proofs,
            contest_proof,
        },
        opening,
    ))
}

impl Ballot {
    /// Checks, without any cryptography, that the ballot has its style's shape: the style
    /// exists, one contest ballot per contest of the style, one ciphertext per option, and the
    /// proof kinds the contests require (`specs/election.md` §5.3). Cheap, so the state machine
    /// runs it before the proofs.
    pub fn check_shape(&self, manifest: &Manifest) -> Result<(), BallotError> {
        let style = manifest
            .ballot_styles
            .get(usize::from(self.style))
            .ok_or(BallotError::UnknownStyle(self.style))?;
        if style.contests.len() != self.contests.len() {
            return Err(BallotError::ContestCount {
                style: self.style,
                expected: style.contests.len(),
                got: self.contests.len(),
            });
        }
        for (&ci, cb) in style.contests.iter().zip(&self.contests) {
            let contest = manifest
                .contests
                .get(usize::from(ci))
                .ok_or(BallotError::UnknownStyle(self.style))?;
            check_contest_shape(contest, cb)?;
        }
        Ok(())
    }

    /// Checks the ballot's shape ([`Ballot::check_shape`]) and adds every sigma-proof equation
    /// to `batch`. Range proofs, which cannot be batched, are verified here directly.
    pub fn queue(
        &self,
        manifest: &Manifest,
        credential: &VerifyingKey,
        context: &ElectionContext,
        batch: &mut BatchVerifier,
    ) -> Result<(), BallotError> {
        self.check_shape(manifest)?;
        let pk = &context.joint_key;
        let Some(style) = manifest.ballot_styles.get(usize::from(self.style)) else {
            return Err(BallotError::UnknownStyle(self.style));
        };
        for (&ci, cb) in style.contests.iter().zip(&self.contests) {
            let contest = manifest
                .contests
                .get(usize::from(ci))
                .ok_or(BallotError::UnknownStyle(self.style))?;
            queue_contest(pk, contest, ci, cb, credential, context, batch)?;
        }
        Ok(())
    }

    /// Verifies the ballot on its own (a batch of one).
    pub fn verify<R: RngCore + CryptoRng>(
        &self,
        manifest: &Manifest,
        credential: &VerifyingKey,
        context: &ElectionContext,
        rng: &mut R,
    ) -> Result<(), BallotError> {
        let mut batch = BatchVerifier::new(rng);
        self.queue(manifest, credential, context, &mut batch)?;
        batch.verify_vartime().map_err(|e| BallotError::Proof {
            contest: String::new(),
            which: "ballot".into(),
            error: e,
        })
    }

    /// Every ciphertext of the ballot, for the copy check (weeding).
    pub fn ciphertexts(&self) -> impl Iterator<Item = &Ciphertext> {
        self.contests.iter().flat_map(|c| c.selections.iter())
    }

    /// Checks a Benaloh opening: every ciphertext is `Enc(value; nonce)` under `pk`.
    pub fn check_opening(
        &self,
        pk: &PublicKey,
        openings: &[Vec<(u16, Scalar)>],
    ) -> Result<(), OpeningError> {
        if openings.len() != self.contests.len() {
            return Err(OpeningError::Shape);
        }
        for (ci, (cb, op)) in self.contests.iter().zip(openings).enumerate() {
            if op.len() != cb.selections.len() {
                return Err(OpeningError::Shape);
            }
            let ranked = matches!(cb.option_proofs, OptionProofs::Knowledge(_));
            for (oi, (ct, (v, r))) in cb.selections.iter().zip(op).enumerate() {
                // A ranked row's plaintext is a point, read as `β − r·K` once `α = r·G` shows
                // the nonce is right; its claimed value is 0.
                let opens = if ranked {
                    *v == 0 && Point::from_point(mul_g(r)) == ct.alpha
                } else {
                    Ciphertext::encrypt(pk, u64::from(*v), &SecretScalar::new(*r)) == *ct
                };
                if !opens {
                    return Err(OpeningError::Mismatch {
                        contest: ci,
                        option: oi,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Why a Benaloh opening does not match its ballot.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpeningError {
    #[error("the opening does not have the ballot's shape")]
    Shape,
    #[error("contest #{contest}, option #{option}: the ciphertext does not encrypt the claimed value with the revealed nonce")]
    Mismatch { contest: usize, option: usize },
}

fn proof_error(contest: &Contest, which: impl Into<String>, error: VerifyError) -> BallotError {
    BallotError::Proof {
        contest: contest.id.clone(),
        which: which.into(),
        error,
    }
}

/// One contest ballot's shape: a ciphertext per option, and the proof kinds the contest's rule
/// requires.
fn check_contest_shape(contest: &Contest, cb: &ContestBallot) -> Result<(), BallotError> {
    if let Some(rules) = contest.ranked() {
        return check_ranked_shape(contest, rules, cb);
    }
    let n = contest.options.len();
    if cb.selections.len() != n {
        return Err(BallotError::OptionCount {
            contest: contest.id.clone(),
            expected: n,
            got: cb.selections.len(),
        });
    }
    let per_option_ok = match &cb.option_proofs {
        // Decoding reads one 0/1 proof per ciphertext, so only the kind can be wrong.
        OptionProofs::ZeroOne(proofs) => contest.rule().per_option_max == 1 && proofs.len() == n,
        OptionProofs::Range(_) => contest.rule().per_option_max > 1,
        OptionProofs::Knowledge(_) => false,
    };
    if !per_option_ok {
        return Err(BallotError::ProofKind {
            contest: contest.id.clone(),
            which: "per-option",
        });
    }
    let total_ok = matches!(
        (total_check(contest), &cb.contest_proof),
        (TotalCheck::None, ContestProof::None)
            | (TotalCheck::Exact(_), ContestProof::Exact(_))
            | (TotalCheck::Bounded { .. }, ContestProof::Bounded(_))
            | (TotalCheck::Range { .. }, ContestProof::Range(_))
    );
    if !total_ok {
        return Err(BallotError::ProofKind {
            contest: contest.id.clone(),
            which: "contest-total",
        });
    }
    Ok(())
}

/// A ranked row: its width in ciphertexts, a proof of knowledge, no contest-total proof.
fn check_ranked_shape(
    contest: &Contest,
    rules: &RankedRules,
    cb: &ContestBallot,
) -> Result<(), BallotError> {
    if cb.selections.len() != rules.width() {
        return Err(BallotError::OptionCount {
            contest: contest.id.clone(),
            expected: rules.width(),
            got: cb.selections.len(),
        });
    }
    if !matches!(cb.option_proofs, OptionProofs::Knowledge(_)) {
        return Err(BallotError::ProofKind {
            contest: contest.id.clone(),
            which: "per-option",
        });
    }
    if !matches!(cb.contest_proof, ContestProof::None) {
        return Err(BallotError::ProofKind {
            contest: contest.id.clone(),
            which: "contest-total",
        });
    }
    Ok(())
}

/// Queues one contest's proofs; its shape has been checked ([`check_contest_shape`]), and a
/// mismatch found here anyway is reported as the same shape error.
fn queue_contest(
    pk: &PublicKey,
    contest: &Contest,
    ci: u16,
    cb: &ContestBallot,
    credential: &VerifyingKey,
    context: &ElectionContext,
    batch: &mut BatchVerifier,
) -> Result<(), BallotError> {
    let n = contest.options.len();
    let rule = contest.rule();
    match &cb.option_proofs {
        OptionProofs::ZeroOne(proofs) => {
            for (j, (ct, p)) in cb.selections.iter().zip(proofs).enumerate() {
                let ctx = context.ballot_proof_ctx(credential, ci, j as u16);
                p.queue(pk, ct, 1, &ctx, batch).map_err(|e| {
                    let option = contest.options.get(j).map_or("", |o| o.id.as_str());
                    proof_error(contest, format!("option {option}"), e)
                })?;
            }
        }
        OptionProofs::Range(p) => {
            let ctx = context.ballot_proof_ctx(credential, ci, SLOT_OPTIONS_RANGE);
            let maxima = vec![u64::from(rule.per_option_max); n];
            p.queue(pk, &cb.selections, &maxima, &ctx, batch)
                .map_err(|e| proof_error(contest, "option range", e))?;
        }
        OptionProofs::Knowledge(p) => {
            let ctx = context.ballot_proof_ctx(credential, ci, SLOT_RANKED);
            return p
                .queue(pk, &cb.selections, &ctx, batch)
                .map_err(|e| proof_error(contest, "plaintext knowledge", e));
        }
    }
    let ctx = context.ballot_proof_ctx(credential, ci, SLOT_CONTEST);
    let total = |e| proof_error(contest, "contest total", e);
    match (total_check(contest), &cb.contest_proof) {
        (TotalCheck::None, ContestProof::None) => Ok(()),
        (TotalCheck::Exact(min), ContestProof::Exact(p)) => {
            let ct = shifted_sum(&cb.selections, min);
            let st = DleqStatement {
                u: pk.point(),
                x: &ct.alpha,
                y: &ct.beta,
            };
            p.queue(st, &ctx, batch).map_err(total)
        }
        (TotalCheck::Bounded { min, max }, ContestProof::Bounded(p)) => p
            .queue(
                pk,
                &shifted_sum(&cb.selections, min),
                u64::from(max - min),
                &ctx,
                batch,
            )
            .map_err(total),
        (TotalCheck::Range { min, max }, ContestProof::Range(p)) => p
            .queue(
                pk,
                &[shifted_sum(&cb.selections, min)],
                &[u64::from(max - min)],
                &ctx,
                batch,
            )
            .map_err(total),
        _ => Err(BallotError::ProofKind {
            contest: contest.id.clone(),
            which: "contest-total",
        }),
    }
}

// ---- encoding (specs/election.md §5.1) ----

impl Encode for ContestBallot {
    fn encode(&self, out: &mut Vec<u8>) {
        // Option counts are bounded by the manifest (≤ 254) before a ballot is built or decoded.
        out.put_u8(self.selections.len() as u8);
        self.selections.iter().for_each(|c| c.encode(out));
        match &self.option_proofs {
            OptionProofs::ZeroOne(ps) => {
                out.put_u8(1);
                ps.iter().for_each(|p| p.encode(out));
            }
            OptionProofs::Range(p) => {
                out.put_u8(2);
                p.encode(out);
            }
            OptionProofs::Knowledge(p) => {
                out.put_u8(3);
                p.encode(out);
            }
        }
        match &self.contest_proof {
            ContestProof::None => out.put_u8(0),
            ContestProof::Exact(p) => {
                out.put_u8(1);
                p.encode(out);
            }
            ContestProof::Bounded(p) => {
                out.put_u8(2);
                p.encode(out);
            }
            ContestProof::Range(p) => {
                out.put_u8(3);
                p.encode(out);
            }
        }
    }
}

impl Decode for ContestBallot {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.u8()? as usize;
        let selections = r.vec_of::<Ciphertext>(n)?;
        let option_proofs = match r.u8()? {
            1 => OptionProofs::ZeroOne(r.vec_of::<DisjunctiveProof>(n)?),
            2 => OptionProofs::Range(EncryptedRangeProof::decode(r)?),
            3 => OptionProofs::Knowledge(PlaintextKnowledgeProof::decode(r)?),
            t => {
                return Err(DecodeError::UnknownTag {
                    what: "option proofs",
                    tag: t.into(),
                })
            }
        };
        let contest_proof = match r.u8()? {
            0 => ContestProof::None,
            1 => ContestProof::Exact(Box::new(ChaumPedersenProof::decode(r)?)),
            2 => ContestProof::Bounded(DisjunctiveProof::decode(r)?),
            3 => ContestProof::Range(EncryptedRangeProof::decode(r)?),
            t => {
                return Err(DecodeError::UnknownTag {
                    what: "contest proof",
                    tag: t.into(),
                })
            }
        };
        Ok(ContestBallot {
            selections,
            option_proofs,
            contest_proof,
        })
    }
}

impl Encode for Ballot {
    fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16(self.style);
        out.put_u16(self.contests.len() as u16);
        self.contests.iter().for_each(|c| c.encode(out));
    }
}

impl Decode for Ballot {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let style = r.u16()?;
        let contests = r.vec_u16::<ContestBallot>()?;
        Ok(Ballot { style, contests })
    }
}
