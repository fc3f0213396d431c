//! Casting against a board: the voter's side of the ledger from credential to verified receipt.
//!
//! A [`Session`] is the election as this client verified it and the credential's place in it:
//! on the roll, with a weight and a ballot style, while voting is open. By default it is the
//! voter's light view ([`urna_client::light`]: the manifest, the ceremony and the credential's
//! own entries, each proven included in the board's signed checkpoint), whose cost does not
//! grow with the number of ballots; [`Session::open_full`] replays the whole log instead, as an
//! observer does. From it a ballot is [prepared](Session::prepare) (encrypted and
//! proved), then either [challenged](Session::challenge) — Benaloh: the encryption is opened,
//! checked here and published for anyone to audit, and that ballot can never be cast — or
//! [cast](Session::cast). Before casting, the board is asked again whether it is still the
//! board, the election and the open poll the ballot was made for (a voter may take a while to
//! decide). Prompting and printing are the caller's.

use std::sync::Arc;
use std::time::Duration;

use rand_core::{CryptoRng, RngCore};
use thiserror::Error;
use urna_client::light::{ViewError, VoterView};
use urna_client::{BoardClient, ClientError, Synced};
use urna_crypto::sign::VerifyingKey;
use urna_election::ballot::Choices;
use urna_election::manifest::Manifest;
use urna_election::state::{Election, Phase};
use urna_ledger::note::Checkpoint;
use urna_ledger::receipt::BallotReceipt;

use crate::choices::{self, Answers, ChoicesSyntaxError, ContestError};
use crate::credential::Credential;
use crate::vote::{self, Basis, Prepared, VoteError};

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
    /// Whether the receipt's checkpoint extends the log the session verified.
    pub extends: Extends,
}

/// What the RFC 9162 consistency proof from the session's checkpoint to the receipt's said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extends {
    /// Proven: the receipt is under a later state of the same log.
    Proven,
    /// No proof could be had yet (a validating node serving the session is behind the board
    /// that gave the receipt); `urna receipt check` decides later.
    Unknown(String),
    /// The board's receipt is under a log that is not an extension of the one the session
    /// verified: a fork. The receipt is the evidence.
    Contradicted(String),
}

/// How long a cast waits for a consistency proof a node behind the board cannot give yet.
const CONSISTENCY_WAIT: Duration = Duration::from_secs(5);

/// How the session verified the election.
enum Source {
    /// The voter's light view: the election's entries and the credential's own.
    Light(VoterView),
    /// The whole log, replayed through the rules.
    Full(Synced),
}

/// The election as verified from the board, and this credential's place in it.
pub struct Session<'a> {
    client: &'a BoardClient,
    credential: &'a Credential,
    source: Source,
    origin: String,
    key: VerifyingKey,
    manifest: Arc<Manifest>,
    weight: u32,
    style: u16,
}

impl<'a> Session<'a> {
    /// Fetches and checks the voter's light view of the board, and finds the credential on its
    /// roll. Voting need not be open yet: [`Session::prepare`] says so if it is not.
    pub fn open(client: &'a BoardClient, credential: &'a Credential) -> Result<Self, CastError> {
        let view = match client.voter_view(&credential.public(), None, None) {
            Err(ClientError::View(ViewError::NoSetup)) => return Err(CastError::NoElection),
            v => v?,
        };
        let m = Arc::clone(view.manifest().ok_or(CastError::NoElection)?);
        let voter = view.voter();
        let (origin, key) = (view.origin.clone(), view.key);
        Session::new(
            client,
            credential,
            Source::Light(view),
            m,
            voter,
            origin,
            key,
        )
    }

    /// Downloads and replays the board's whole log (an observer's check, which costs time in
    /// proportion to the election), and finds the credential on its roll.
    pub fn open_full(
        client: &'a BoardClient,
        credential: &'a Credential,
    ) -> Result<Self, CastError> {
        let synced = client.sync(None)?;
        let m = Arc::clone(synced.election().manifest().ok_or(CastError::NoElection)?);
        let voter = synced.election().voter(&credential.public());
        let (origin, key) = (synced.origin.clone(), synced.key);
        Session::new(
            client,
            credential,
            Source::Full(synced),
            m,
            voter,
            origin,
            key,
        )
    }

    fn new(
        client: &'a BoardClient,
        credential: &'a Credential,
        source: Source,
        m: Arc<Manifest>,
        voter: Option<(u32, u16)>,
        origin: String,
        key: VerifyingKey,
    ) -> Result<Self, CastError> {
        if credential.election_id != m.election_id {
            return Err(VoteError::OtherElection {
                credential: credential.election_id.clone(),
                board: m.election_id.clone(),
            }
            .into());
        }
        let (weight, style) = voter.ok_or(VoteError::NotOnRoll)?;
        Ok(Session {
            client,
            credential,
            source,
            origin,
            key,
            manifest: m,
            weight,
            style,
        })
    }

    /// The replayed election, when the session replayed the whole log.
    pub fn election(&self) -> Option<&Election> {
        match &self.source {
            Source::Full(s) => Some(s.election()),
            Source::Light(_) => None,
        }
    }

    /// The voter's light view, when the session used one.
    pub fn view(&self) -> Option<&VoterView> {
        match &self.source {
            Source::Light(v) => Some(v),
            Source::Full(_) => None,
        }
    }

    /// The board's signed checkpoint the session verified the election against.
    pub fn checkpoint(&self) -> &Checkpoint {
        match &self.source {
            Source::Light(v) => &v.checkpoint,
            Source::Full(s) => &s.log.checkpoint,
        }
    }

    /// The election's phase at that checkpoint.
    pub fn phase(&self) -> Phase {
        match &self.source {
            Source::Light(v) => v.phase(),
            Source::Full(s) => s.election().phase(),
        }
    }

    /// What a ballot is made against.
    fn basis(&self) -> Basis<'_> {
        match &self.source {
            Source::Light(v) => Basis {
                phase: v.phase(),
                manifest: Some(&self.manifest),
                context: v.context(),
                voter: Some((self.weight, self.style)),
            },
            Source::Full(s) => Basis::of(s.election(), self.credential),
        }
    }

    /// The index of the credential's counted ballot, if it has one (a new cast supersedes it).
    pub fn counted_ballot(&self) -> Option<u64> {
        match &self.source {
            Source::Light(v) => v.counted_ballot(),
            Source::Full(s) => vote::counted_ballot(s.election(), self.credential),
        }
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
        self.prepare_answers(&Answers::from(choices.clone()), rng)
    }

    /// Encrypts and proves the answers (values and rankings) under the joint key.
    pub fn prepare_answers<R: RngCore + CryptoRng>(
        &self,
        answers: &Answers,
        rng: &mut R,
    ) -> Result<Prepared, CastError> {
        Ok(vote::prepare_in(
            &self.basis(),
            self.credential,
            answers,
            rng,
        )?)
    }

    /// Benaloh challenge: opens the encryption, checks it encrypts the choices shown, and
    /// publishes it. The ballot can never be cast afterwards.
    pub fn challenge(&self, prepared: Prepared) -> Result<(), CastError> {
        let entry = prepared.challenge_in(&self.basis(), self.credential)?;
        self.client
            .submit_retrying(entry.bytes(), &self.origin, &self.key, CHALLENGE_RETRY_FOR)?;
        Ok(())
    }

    /// Casts: checks the board is still the one, in the election and the open poll the ballot
    /// was made for, submits, and returns the receipt once it verifies for this ballot and its
    /// checkpoint extends the one the session verified (an RFC 9162 consistency proof).
    pub fn cast(&self, prepared: &Prepared) -> Result<Cast, CastError> {
        let (origin, key) = self.client.stated_key()?;
        if !self.same_board(&origin, &key) {
            return Err(CastError::BoardChanged);
        }
        match self.client.stated_phase()? {
            Phase::Voting => {}
            p => return Err(CastError::PhaseChanged(p)),
        }
        let replaces = self.counted_ballot();
        let receipt = self.client.submit_retrying(
            prepared.entry.bytes(),
            &self.origin,
            &self.key,
            CAST_RETRY_FOR,
        )?;
        let signed = receipt
            .verify(prepared.entry.bytes(), &self.origin, &self.key)
            .map_err(ClientError::Note)?;
        let extends = self.extends(&signed);
        Ok(Cast {
            receipt: BallotReceipt {
                election_id: self.origin.clone(),
                board_key: self.key,
                entry: prepared.entry.bytes().to_vec(),
                receipt,
            },
            replaces,
            extends,
        })
    }

    /// Proves the receipt's checkpoint extends the session's, asking again for a while if the
    /// server does not hold it yet (a node behind the board answers `400`).
    fn extends(&self, signed: &Checkpoint) -> Extends {
        let until = std::time::Instant::now() + CONSISTENCY_WAIT;
        loop {
            match self.client.check_consistency(self.checkpoint(), signed) {
                Ok(()) => return Extends::Proven,
                Err(ClientError::Misbehaved(why)) => return Extends::Contradicted(why),
                Err(e) if std::time::Instant::now() >= until => {
                    return Extends::Unknown(e.to_string())
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    fn same_board(&self, origin: &str, key: &VerifyingKey) -> bool {
        origin == self.origin && *key == self.key
    }
}
