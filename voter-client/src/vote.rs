//! Casting: prepare (encrypt and prove) a ballot for the election as the ledger defines it,
//! then either challenge it (Benaloh: reveal and check the nonces, publish, start over) or cast.

use rand_core::{CryptoRng, RngCore};
use thiserror::Error;
use urna_crypto::codec::Encode;
use urna_crypto::elgamal::Ciphertext;
use urna_crypto::embed::embed;
use urna_election::ballot::{
    encrypt_ballot_ranked, ranked_plaintext, Ballot, BallotSecrets, ChoiceError, Choices, Rankings,
};
use urna_election::context::ElectionContext;
use urna_election::entry::{Entry, TrackingCode};
use urna_election::manifest::Manifest;
use urna_election::payload::{ChallengedBallot, Payload};
use urna_election::ranking;
use urna_election::state::{BallotStatus, Election, Phase};

use crate::choices::Answers;
use crate::credential::Credential;

#[derive(Debug, Error)]
pub enum VoteError {
    #[error("voting is not open yet (the election is in phase {0:?})")]
    NotOpenYet(Phase),
    #[error("voting has closed (the election is in phase {0:?})")]
    Closed(Phase),
    #[error("this credential is for election {credential:?}, the board serves {board:?}")]
    OtherElection { credential: String, board: String },
    #[error("this credential is not on the election's voter roll")]
    NotOnRoll,
    #[error("invalid choices: {0}")]
    Choices(#[from] ChoiceError),
    #[error(
        "the challenged ballot does not open to the choices shown: the client is faulty ({0})"
    )]
    OpeningMismatch(String),
    #[error("cannot make the entry: {0}")]
    Entry(String),
}

/// What a ballot is made against: the phase, the manifest, the joint key and the credential's
/// place on the roll — from a full replay ([`Basis::of`]) or from a voter's light view.
#[derive(Clone, Copy)]
pub struct Basis<'a> {
    pub phase: Phase,
    pub manifest: Option<&'a Manifest>,
    pub context: Option<&'a ElectionContext>,
    /// The credential's weight and ballot style, if it is on the roll.
    pub voter: Option<(u32, u16)>,
}

impl<'a> Basis<'a> {
    /// The basis a replayed election gives for `cred`.
    pub fn of(e: &'a Election, cred: &Credential) -> Basis<'a> {
        Basis {
            phase: e.phase(),
            manifest: e.manifest().map(|m| &**m),
            context: e.context(),
            voter: e.voter(&cred.public()),
        }
    }
}

/// A ballot encrypted and proved, not yet cast or challenged. Its secrets are wiped on drop.
pub struct Prepared {
    pub ballot: Ballot,
    pub choices: Choices,
    pub rankings: Rankings,
    pub entry: Entry,
    secrets: BallotSecrets,
    context_hash: [u8; 32],
}

impl Prepared {
    /// The tracking code the voter notes down: the cast entry's leaf hash.
    pub fn tracking_code(&self) -> TrackingCode {
        TrackingCode(self.entry.leaf_hash())
    }

    /// Whether the election is still the one this ballot was prepared for.
    pub fn still_valid_for(&self, e: &Election) -> bool {
        e.context().map(|c| c.hash) == Some(self.context_hash) && e.phase() == Phase::Voting
    }

    /// Benaloh challenge: reveals the nonces, checks here that the ciphertexts encrypt the
    /// choices shown, and returns the `ChallengedBallot` to publish. The ballot can never be
    /// cast afterwards.
    pub fn challenge(self, e: &Election, cred: &Credential) -> Result<Entry, VoteError> {
        self.challenge_in(&Basis::of(e, cred), cred)
    }

    /// [`Prepared::challenge`] against a [`Basis`].
    pub fn challenge_in(self, b: &Basis<'_>, cred: &Credential) -> Result<Entry, VoteError> {
        let ctx = b.context.ok_or(VoteError::NotOpenYet(b.phase))?;
        let openings: Vec<Vec<(u16, urna_crypto::Scalar)>> = self
            .secrets
            .openings
            .iter()
            .map(|c| c.iter().map(|(v, r)| (*v, *r.expose())).collect())
            .collect();
        self.ballot
            .check_opening(&ctx.joint_key, &openings)
            .map_err(|err| VoteError::OpeningMismatch(err.to_string()))?;
        let m = b.manifest.ok_or(VoteError::NotOpenYet(b.phase))?;
        let style = m
            .ballot_styles
            .get(usize::from(self.ballot.style))
            .ok_or(VoteError::NotOnRoll)?;
        for (ci, contest) in style.contests.iter().enumerate() {
            let c = &m.contests[usize::from(*contest)];
            if let Some(rules) = c.ranked() {
                // The row must encrypt exactly the ranking shown: re-encrypt its plaintext
                // with the revealed nonces and compare.
                let prefs = self.rankings.0.get(&c.id).map_or(&[][..], Vec::as_slice);
                let bytes = ranked_plaintext(c, rules, prefs)?;
                let row = &self.ballot.contests[ci].selections;
                let nonces = &self.secrets.openings[ci];
                let payloads = ranking::payloads(&bytes);
                let same = payloads.len() == row.len()
                    && payloads.len() == nonces.len()
                    && payloads
                        .iter()
                        .zip(row)
                        .zip(nonces)
                        .all(|((p, ct), (_, r))| {
                            embed(p).is_ok_and(|m| {
                                Ciphertext::encrypt_point(&ctx.joint_key, &m, r) == *ct
                            })
                        });
                if !same {
                    return Err(VoteError::OpeningMismatch(format!("contest {}", c.id)));
                }
                continue;
            }
            let shown = self
                .choices
                .0
                .get(&c.id)
                .cloned()
                .unwrap_or_else(|| vec![0; c.options.len()]);
            let opened: Vec<u16> = openings[ci].iter().map(|(v, _)| *v).collect();
            if shown != opened {
                return Err(VoteError::OpeningMismatch(format!("contest {}", c.id)));
            }
        }
        let p = Payload::ChallengedBallot(Box::new(ChallengedBallot {
            ballot: self.ballot,
            openings,
        }));
        Entry::sign(&m.election_id, p.kind(), &p.to_bytes(), &cred.key)
            .map_err(|e| VoteError::Entry(e.to_string()))
    }
}

/// Encrypts `choices` for this credential under the joint key the ledger's key ceremony fixed
/// (ranked contests left blank: see [`prepare_answers`]).
pub fn prepare<R: RngCore + CryptoRng>(
    e: &Election,
    cred: &Credential,
    choices: &Choices,
    rng: &mut R,
) -> Result<Prepared, VoteError> {
    prepare_answers(e, cred, &Answers::from(choices.clone()), rng)
}

/// Encrypts the answers (values and rankings) for this credential under the joint key.
pub fn prepare_answers<R: RngCore + CryptoRng>(
    e: &Election,
    cred: &Credential,
    answers: &Answers,
    rng: &mut R,
) -> Result<Prepared, VoteError> {
    prepare_in(&Basis::of(e, cred), cred, answers, rng)
}

/// Encrypts the answers for this credential against a [`Basis`].
pub fn prepare_in<R: RngCore + CryptoRng>(
    b: &Basis<'_>,
    cred: &Credential,
    answers: &Answers,
    rng: &mut R,
) -> Result<Prepared, VoteError> {
    match b.phase {
        Phase::Voting => {}
        p @ (Phase::Tallying | Phase::Finished | Phase::CeremonyFailed) => {
            return Err(VoteError::Closed(p))
        }
        p => return Err(VoteError::NotOpenYet(p)),
    }
    let (m, ctx) = match (b.manifest, b.context) {
        (Some(m), Some(c)) => (m, c),
        _ => return Err(VoteError::NotOpenYet(b.phase)),
    };
    if m.election_id != cred.election_id {
        return Err(VoteError::OtherElection {
            credential: cred.election_id.clone(),
            board: m.election_id.clone(),
        });
    }
    let (_, style) = b.voter.ok_or(VoteError::NotOnRoll)?;
    let style_id = &m
        .ballot_styles
        .get(usize::from(style))
        .ok_or(VoteError::NotOnRoll)?
        .id;
    let (ballot, secrets) = encrypt_ballot_ranked(
        m,
        style_id,
        &answers.choices,
        &answers.rankings,
        &cred.public(),
        ctx,
        rng,
    )?;
    let p = Payload::Ballot(Box::new(ballot.clone()));
    let entry = Entry::sign(&m.election_id, p.kind(), &p.to_bytes(), &cred.key)
        .map_err(|e| VoteError::Entry(e.to_string()))?;
    Ok(Prepared {
        ballot,
        choices: answers.choices.clone(),
        rankings: answers.rankings.clone(),
        entry,
        secrets,
        context_hash: ctx.hash,
    })
}

/// The index of this credential's currently counted ballot, if it has one (a new cast
/// supersedes it).
pub fn counted_ballot(e: &Election, cred: &Credential) -> Option<u64> {
    let me = cred.public();
    e.ballots()
        .iter()
        .find(|b| b.credential == me && b.status == BallotStatus::Counted)
        .map(|b| b.index)
}
