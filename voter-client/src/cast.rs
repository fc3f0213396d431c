//! Casting against a board: the voter's side of the ledger from credential to verified receipt.
//!
//! A [`Session`] is the election as this client verified it (the board's log replayed through
//! the rules) and the credential's place in it: on the roll, with a weight and a ballot style,
//! while voting is open. From it a ballot is [prepared](Session::prepare) (encrypted and
//! proved), then either [challenged](Session::challenge) — Benaloh: the encryption is opened,
//! checked here and published for anyone to audit, and that ballot can never be cast — or
//! [cast](Session::cast). Before casting, the board is asked again whether it is still the
//! board, the election and the open poll the ballot was made for (a voter may take a while to
//! decide). Prompting and printing are the caller's.

use std::sync::Arc;
use std::time::Duration;

use rand_core::{CryptoRng, RngCore};
use thiserror::Error;
use urna_client::{BoardClient, ClientError, Synced};
use urna_crypto::sign::VerifyingKey;
use urna_election::ballot::Choices;
use urna_election::manifest::Manifest;
use urna_election::state::{Election, Phase};
use urna_ledger::receipt::BallotReceipt;

use crate::choices::{self, Answers, ChoicesSyntaxError, ContestError};
use crate::credential::Credential;
use crate::vote::{self, Prepared, VoteError};

/// How long a submission keeps retrying a busy or unreachable board.
const CAST_RETRY_FOR: Duration = Duration::from_secs(120);
const CHALLENGE_RETRY_FOR: Duration = Duration::from_secs(60);

#[derive(Debug, Error)]
pub enum CastError {
    #[error(transparent)]
    Vote(#[from] VoteError),
    #[error("the board holds no election yet")]
    NoElection,
    #[error("{0}")]
    ChoicesSyntax(ChoicesSyntaxError),
    #[error("contest `{}` ({}): {}", .0.contest, .0.title, .0.error)]
    Choices(ContestError),
    #[error(transparent)]
    Board(#[from] ClientError),
    /// The board's key or election changed between preparing the ballot and casting it.
    #[error("the board's election or key changed since the ballot was prepared; nothing was cast")]
    BoardChanged,
    /// Voting is no longer open on the board: the ballot was not sent.
    #[error(
        "the election changed since the ballot was prepared (phase now {0}); nothing was cast"
    )]
    PhaseChanged(Phase),
}

/// A cast ballot: its receipt (verified against the board's key) and the earlier ballot of the
/// same credential it replaces, if any.
pub struct Cast {
    pub receipt: BallotReceipt,
    pub replaces: Option<u64>,
}

/// The election as verified from the board, and this credential's place in it.
pub struct Session<'a> {
    client: &'a BoardClient,
    credential: &'a Credential,
    synced: Synced,
    manifest: Arc<Manifest>,
    weight: u32,
    style: u16,
}

impl<'a> Session<'a> {
    /// Downloads and replays the board's log, and finds the credential on its roll. Voting need
    /// not be open yet: [`Session::prepare`] says so if it is not.
    pub fn open(client: &'a BoardClient, credential: &'a Credential) -> Result<Self, CastError> {
        let synced = client.sync(None)?;
        let m = Arc::clone(synced.election().manifest().ok_or(CastError::NoElection)?);
        if credential.election_id != m.election_id {
            return Err(VoteError::OtherElection {
                credential: credential.election_id.clone(),
                board: m.election_id.clone(),
            }
            .into());
        }
        let (weight, style) = synced
            .election()
            .voter(&credential.public())
            .ok_or(VoteError::NotOnRoll)?;
        Ok(Session {
            client,
            credential,
            synced,
            manifest: m,
            weight,
            style,
        })
    }

    pub fn election(&self) -> &Election {
        self.synced.election()
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The credential's weight on the roll (its ballot counts this many times).
    pub fn weight(&self) -> u32 {
        self.weight
    }

    /// The credential's ballot style (an index into the manifest's styles).
    pub fn style(&self) -> u16 {
        self.style
    }

    /// Parses choices in the `--choices` syntax and checks them against the credential's style.
    pub fn choices(&self, text: &str) -> Result<Answers, CastError> {
        let m = self.manifest();
        let c = choices::parse(text, m).map_err(CastError::ChoicesSyntax)?;
        choices::check(&c, m, self.style).map_err(CastError::Choices)?;
        Ok(c)
    }

    /// Encrypts and proves `choices` under the joint key, for this credential.
    pub fn prepare<R: RngCore + CryptoRng>(
        &self,
        choices: &Choices,
        rng: &mut R,
    ) -> Result<Prepared, CastError> {
        Ok(vote::prepare(
            self.election(),
            self.credential,
            choices,
            rng,
        )?)
    }

    /// Encrypts and proves the answers (values and rankings) under the joint key.
    pub fn prepare_answers<R: RngCore + CryptoRng>(
        &self,
        answers: &Answers,
        rng: &mut R,
    ) -> Result<Prepared, CastError> {
        Ok(vote::prepare_answers(
            self.election(),
            self.credential,
            answers,
            rng,
        )?)
    }

    /// Benaloh challenge: opens the encryption, checks it encrypts the choices shown, and
    /// publishes it. The ballot can never be cast afterwards.
    pub fn challenge(&self, prepared: Prepared) -> Result<(), CastError> {
        let entry = prepared.challenge(self.election(), self.credential)?;
        self.client.submit_retrying(
            entry.bytes(),
            &self.synced.origin,
            &self.synced.key,
            CHALLENGE_RETRY_FOR,
        )?;
        Ok(())
    }

    /// Casts: checks the board is still the one, in the election and the open poll the ballot
    /// was made for, submits, and returns the receipt once it verifies for this ballot.
    pub fn cast(&self, prepared: &Prepared) -> Result<Cast, CastError> {
        let (origin, key) = self.client.stated_key()?;
        if !self.same_board(&origin, &key) {
            return Err(CastError::BoardChanged);
        }
        match self.client.stated_phase()? {
            Phase::Voting => {}
            p => return Err(CastError::PhaseChanged(p)),
        }
        let replaces = vote::counted_ballot(self.election(), self.credential);
        let receipt = self.client.submit_retrying(
            prepared.entry.bytes(),
            &self.synced.origin,
            &self.synced.key,
            CAST_RETRY_FOR,
        )?;
        Ok(Cast {
            receipt: BallotReceipt {
                election_id: self.synced.origin.clone(),
                board_key: self.synced.key,
                entry: prepared.entry.bytes().to_vec(),
                receipt,
            },
            replaces,
        })
    }

    fn same_board(&self, origin: &str, key: &VerifyingKey) -> bool {
        origin == self.synced.origin && *key == self.synced.key
    }
}
