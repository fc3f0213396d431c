//! The election state machine: the one function that decides whether an entry is admissible.
//!
//! [`Election::apply`] takes the next entry of the log and either admits it (updating the state)
//! or rejects it with a typed [`Rejection`] and changes nothing. It is deterministic: no clock, no
//! I/O, no caller randomness. Batch-verification weights are derived from the entries themselves
//! (`SHA-256("urna-v1 batch-weights" ‖ leaf hashes)`), which is sound because an entry's weights
//! are a hash of its own proofs. The board runs it on admission; the verifier replays the log
//! through it. `specs/election.md` §6 lists every rule in the order they are checked.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use urna_crypto::batch::{verify_all_vartime, BatchVerifier};
use urna_crypto::elgamal::{Ciphertext, PublicKey};
use urna_crypto::group::{g, mul_g, Point};
use urna_crypto::share_enc::{verify_complaint, ComplaintVerdict, EncryptedShare};
use urna_crypto::sigma::DleqStatement;
use urna_crypto::sign::VerifyingKey;
use urna_crypto::threshold;
use urna_crypto::{CompressedRistretto, RistrettoPoint, Scalar};

use crate::ballot::Ballot;
use crate::context::ElectionContext;
use crate::entry::{Entry, EntryKind, TrackingCode};
use crate::manifest::{Manifest, RevotePolicy};
use crate::payload::{
    ChallengedBallot, DecryptionShare, DkgCommitment, DkgComplaint, DkgConfirm, DkgShares,
    ElectionResult, Payload, VoterRoll,
};
pub use crate::phase::Phase;
use crate::rejection::Rejection;

/// What admitting an entry did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Admitted {
    pub index: u64,
    pub kind: EntryKind,
    pub leaf_hash: [u8; 32],
    /// For a ballot that replaces an earlier one of the same credential: that ballot's index.
    pub supersedes: Option<u64>,
    pub phase: Phase,
}

/// The status of a ballot on the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BallotStatus {
    Counted,
    /// Replaced by the later ballot at this index.
    Superseded {
        by: u64,
    },
    Challenged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BallotRecord {
    pub index: u64,
    pub credential: VerifyingKey,
    pub tracking_code: TrackingCode,
    pub status: BallotStatus,
}

#[derive(Clone)]
struct Voter {
    weight: u32,
    style: u16,
    /// The counted ballot: its record index and its ciphertexts' encodings `α ‖ β` (64 bytes
    /// each rather than ~384 decompressed: this is held for every voter until the polls close),
    /// kept so a revote can subtract them from the running tally.
    counted: Option<(usize, Vec<[u8; 64]>)>,
}

#[derive(Clone, Default)]
struct Dkg {
    commitments: BTreeMap<u16, Vec<Point>>,
    shares: BTreeMap<u16, Vec<(u16, EncryptedShare)>>,
    disqualified: BTreeSet<u16>,
    confirmed: BTreeSet<u16>,
}

/// Summary counts, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub entries: u64,
    pub voters: u64,
    pub ballots: u64,
    pub counted: u64,
    pub superseded: u64,
    pub challenged: u64,
    pub decryption_shares: u64,
}

/// The state of one election, derived from its log.
#[derive(Clone)]
pub struct Election {
    size: u64,
    phase: Phase,
    manifest: Option<Arc<Manifest>>,
    manifest_hash: [u8; 32],
    dkg: Dkg,
    qualified: Vec<u16>,
    context: Option<ElectionContext>,
    voters: HashMap<[u8; 32], Voter>,
    roll_batches: u32,
    seen_alphas: HashSet<[u8; 32]>,
    leaves: HashSet<[u8; 32]>,
    ballots: Vec<BallotRecord>,
    counts: Counts,
    /// Flattened option offsets: `offsets[c]` is the index of contest `c`'s first option.
    offsets: Vec<usize>,
    /// `(contest, option)` of each flattened position ([`Manifest::option_positions`]).
    positions: Vec<(u16, u16)>,
    /// Running sums of counted ballots per weight class, per flattened option.
    acc: BTreeMap<u32, Vec<(RistrettoPoint, RistrettoPoint)>>,
    tally: Option<Vec<Ciphertext>>,
    shares: Vec<(u16, Vec<Point>)>,
    result: Option<ElectionResult>,
}

impl Default for Election {
    fn default() -> Self {
        Self::new()
    }
}

/// Work that does not depend on the order of entries within a batch: payload decoding, the
/// signature, and a ballot's proofs. Done in parallel by [`Election::apply_batch`].
struct Prechecked {
    payload: Result<Payload, Rejection>,
    signature_ok: bool,
    proofs_ok: Option<Result<(), Rejection>>,
}

impl Election {
    pub fn new() -> Self {
        Election {
            size: 0,
            phase: Phase::AwaitingSetup,
            manifest: None,
            manifest_hash: [0; 32],
            dkg: Dkg::default(),
            qualified: Vec::new(),
            context: None,
            voters: HashMap::new(),
            roll_batches: 0,
            seen_alphas: HashSet::new(),
            leaves: HashSet::new(),
            ballots: Vec::new(),
            counts: Counts::default(),
            offsets: Vec::new(),
            positions: Vec::new(),
            acc: BTreeMap::new(),
            tally: None,
            shares: Vec::new(),
            result: None,
        }
    }

    /// Replays a whole log; stops at the first rejected entry, returning its index.
    pub fn replay(entries: &[Entry]) -> Result<Election, (u64, EntryKind, Rejection)> {
        let mut e = Election::new();
        for (c, chunk) in entries.chunks(1024).enumerate() {
            for (i, r) in e.apply_batch(chunk).into_iter().enumerate() {
                if let Err(rej) = r {
                    // The log's index, not the state's size: later entries of the chunk may
                    // have been admitted after the failing one.
                    let index = (c * 1024 + i) as u64;
                    return Err((index, chunk[i].kind(), rej));
                }
            }
        }
        Ok(e)
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn manifest(&self) -> Option<&Arc<Manifest>> {
        self.manifest.as_ref()
    }

    pub fn manifest_hash(&self) -> [u8; 32] {
        self.manifest_hash
    }

    /// The election context, once the key ceremony has completed.
    pub fn context(&self) -> Option<&ElectionContext> {
        self.context.as_ref()
    }

    /// The trustees (1-based indices) whose contributions make up the joint key.
    pub fn qualified_trustees(&self) -> &[u16] {
        &self.qualified
    }

    /// Roll batches admitted so far (the next batch's number).
    pub fn roll_batches(&self) -> u32 {
        self.roll_batches
    }

    /// The sum of the roll's weights: with a contest's per-option maximum, it bounds every
    /// decrypted total (the discrete-log search).
    pub fn total_weight(&self) -> u64 {
        self.voters.values().map(|v| u64::from(v.weight)).sum()
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    pub fn ballots(&self) -> &[BallotRecord] {
        &self.ballots
    }

    /// The encrypted tally, flattened in manifest order, once voting has closed.
    pub fn encrypted_tally(&self) -> Option<&[Ciphertext]> {
        self.tally.as_deref()
    }

    /// Decryption shares admitted so far: (trustee index, one point per tally ciphertext).
    pub fn decryption_shares(&self) -> &[(u16, Vec<Point>)] {
        &self.shares
    }

    pub fn result(&self) -> Option<&ElectionResult> {
        self.result.as_ref()
    }

    /// Key-ceremony progress: (trustee, has committed, has dealt, has confirmed, disqualified).
    pub fn ceremony_status(&self) -> Vec<(u16, bool, bool, bool, bool)> {
        let n = self
            .manifest
            .as_ref()
            .map_or(0, |m| m.trustees.len() as u16);
        (1..=n)
            .map(|i| {
                (
                    i,
                    self.dkg.commitments.contains_key(&i),
                    self.dkg.shares.contains_key(&i),
                    self.dkg.confirmed.contains(&i),
                    self.dkg.disqualified.contains(&i),
                )
            })
            .collect()
    }

    /// A dealer's commitments (for trustees checking the shares they received).
    pub fn dkg_commitments(&self, dealer: u16) -> Option<&[Point]> {
        self.dkg.commitments.get(&dealer).map(Vec::as_slice)
    }

    /// The share a dealer encrypted to a recipient.
    pub fn dkg_share(&self, dealer: u16, recipient: u16) -> Option<&EncryptedShare> {
        self.dkg
            .shares
            .get(&dealer)?
            .iter()
            .find(|(to, _)| *to == recipient)
            .map(|(_, s)| s)
    }

    /// The voter roll entry of a credential: (weight, style).
    pub fn voter(&self, credential: &VerifyingKey) -> Option<(u32, u16)> {
        self.voters
            .get(credential.as_bytes())
            .map(|v| (v.weight, v.style))
    }

    fn dkg_ctx(&self) -> Vec<u8> {
        crate::context::dkg_ctx(&self.manifest_hash)
    }

    /// Applies one entry.
    pub fn apply(&mut self, entry: &Entry) -> Result<Admitted, Rejection> {
        let pre = self.precheck(entry);
        self.apply_prechecked(entry, pre)
    }

    /// Applies entries in order, verifying signatures and ballot proofs of the whole batch in
    /// parallel first. Each result is what [`Election::apply`] would have returned for that
    /// entry at that position.
    pub fn apply_batch(&mut self, entries: &[Entry]) -> Vec<Result<Admitted, Rejection>> {
        let seed = batch_seed(entries);
        let pre: Vec<Prechecked> = {
            let this = &*self;
            entries.par_iter().map(|e| this.precheck(e)).collect()
        };
        // Ballot proofs of the batch in one set of multiscalar multiplications, where possible.
        let pre = self.batch_ballot_proofs(entries, pre, seed);
        entries
            .iter()
            .zip(pre)
            .map(|(e, p)| self.apply_prechecked(e, p))
            .collect()
    }

    fn precheck(&self, entry: &Entry) -> Prechecked {
        let payload =
            Payload::decode(entry.kind(), entry.payload()).map_err(|e| Rejection::Malformed {
                reason: e.to_string(),
            });
        Prechecked {
            payload,
            signature_ok: entry.verify_signature().is_ok(),
            proofs_ok: None,
        }
    }

    /// For ballots that can be checked against the current context, verifies all their proofs
    /// in parallel batches; failing ballots are located by bisection.
    fn batch_ballot_proofs(
        &self,
        entries: &[Entry],
        mut pre: Vec<Prechecked>,
        seed: [u8; 32],
    ) -> Vec<Prechecked> {
        let (Some(manifest), Some(ctx)) = (&self.manifest, &self.context) else {
            return pre;
        };
        let items: Vec<(usize, &Ballot, &VerifyingKey)> = pre
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match &p.payload {
                Ok(Payload::Ballot(b)) if p.signature_ok => Some((i, &**b, entries[i].author())),
                Ok(Payload::ChallengedBallot(c)) if p.signature_ok => {
                    Some((i, &c.ballot, entries[i].author()))
                }
                _ => None,
            })
            .collect();
        if items.is_empty() {
            return pre;
        }
        let failed: HashSet<usize> =
            match verify_all_vartime(&items, seed, |(_, b, cred), batch| {
                b.queue(manifest, cred, ctx, batch)
                    .map_err(|_| urna_crypto::errors::VerifyError::BatchFailed)
            }) {
                Ok(()) => HashSet::new(),
                Err(f) => f.failures.into_iter().map(|(k, _)| k).collect(),
            };
        let verdicts: Vec<(usize, Result<(), Rejection>)> = items
            .iter()
            .enumerate()
            .map(|(k, (i, b, cred))| {
                if !failed.contains(&k) {
                    return (*i, Ok(()));
                }
                // Verify the failing ballot alone, for a precise reason.
                let mut batch = BatchVerifier::from_seed(seed);
                let reason = match b.queue(manifest, cred, ctx, &mut batch) {
                    Err(e) => Rejection::from(e),
                    Ok(()) => Rejection::InvalidBallot {
                        reason: "a proof does not verify".into(),
                    },
                };
                (*i, Err(reason))
            })
            .collect();
        for (i, v) in verdicts {
            pre[i].proofs_ok = Some(v);
        }
        pre
    }

    fn apply_prechecked(&mut self, entry: &Entry, pre: Prechecked) -> Result<Admitted, Rejection> {
        let payload = pre.payload?;
        let kind = entry.kind();
        // 1. The election.
        match &self.manifest {
            None => {
                if kind != EntryKind::Setup {
                    return Err(Rejection::WrongPhase {
                        kind,
                        phase: self.phase,
                    });
                }
            }
            Some(m) => {
                if entry.election_id() != m.election_id {
                    return Err(Rejection::WrongElection {
                        expected: m.election_id.clone(),
                        got: entry.election_id().to_string(),
                    });
                }
            }
        }
        // 2. The signature.
        if !pre.signature_ok {
            return Err(Rejection::BadSignature);
        }
        // 3. No entry twice.
        let leaf = entry.leaf_hash();
        if self.leaves.contains(&leaf) {
            return Err(Rejection::Duplicate);
        }
        // 4. The rules of the kind.
        let mut supersedes = None;
        match payload {
            Payload::Setup(m) => self.setup(entry, *m)?,
            Payload::DkgCommitment(c) => self.dkg_commitment(entry, c)?,
            Payload::DkgShares(s) => self.dkg_shares(entry, s)?,
            Payload::DkgComplaint(c) => self.dkg_complaint(entry, *c)?,
            Payload::DkgConfirm(c) => self.dkg_confirm(entry, c)?,
            Payload::VoterRoll(r) => self.voter_roll(entry, r)?,
            Payload::OpenVoting => {
                self.require(kind, &[Phase::Registration])?;
                self.require_authority(entry)?;
                if self.voters.is_empty() {
                    return Err(Rejection::roll("voting cannot open with an empty roll"));
                }
                self.phase = Phase::Voting;
            }
            Payload::Ballot(b) => supersedes = self.ballot(entry, *b, pre.proofs_ok, leaf)?,
            Payload::ChallengedBallot(c) => self.challenged(entry, *c, pre.proofs_ok, leaf)?,
            Payload::CloseVoting => {
                self.require(kind, &[Phase::Voting])?;
                self.require_authority(entry)?;
                self.close_voting();
            }
            Payload::DecryptionShare(d) => self.decryption_share(entry, d)?,
            Payload::Result(r) => self.result_entry(r)?,
        }
        self.leaves.insert(leaf);
        let index = self.size;
        self.size += 1;
        self.counts.entries = self.size;
        Ok(Admitted {
            index,
            kind,
            leaf_hash: leaf,
            supersedes,
            phase: self.phase,
        })
    }

    fn require(&self, kind: EntryKind, phases: &[Phase]) -> Result<(), Rejection> {
        if phases.contains(&self.phase) {
            Ok(())
        } else if self.phase == Phase::CeremonyFailed {
            Err(Rejection::CeremonyFailed {
                qualified: self.qualified.len(),
                threshold: self.manifest.as_ref().map_or(0, |m| m.threshold),
            })
        } else {
            Err(Rejection::WrongPhase {
                kind,
                phase: self.phase,
            })
        }
    }

    fn manifest_ref(&self) -> Result<Arc<Manifest>, Rejection> {
        self.manifest.clone().ok_or(Rejection::WrongPhase {
            kind: EntryKind::Setup,
            phase: self.phase,
        })
    }

    fn require_authority(&self, entry: &Entry) -> Result<(), Rejection> {
        let m = self.manifest_ref()?;
        if entry.author() != &m.authority_key {
            return Err(Rejection::UnauthorisedAuthor {
                kind: entry.kind(),
                expected: "the election authority".into(),
            });
        }
        Ok(())
    }

    /// The author must be trustee `claimed`.
    fn require_trustee(&self, entry: &Entry, claimed: u16) -> Result<(), Rejection> {
        let m = self.manifest_ref()?;
        if m.trustee_index(entry.author()) != Some(claimed) {
            return Err(Rejection::UnauthorisedAuthor {
                kind: entry.kind(),
                expected: format!("trustee {claimed}"),
            });
        }
        Ok(())
    }

    fn setup(&mut self, entry: &Entry, m: Manifest) -> Result<(), Rejection> {
        self.require(EntryKind::Setup, &[Phase::AwaitingSetup])?;
        m.validate().map_err(|e| Rejection::InvalidManifest {
            reason: e.to_string(),
        })?;
        if entry.election_id() != m.election_id {
            return Err(Rejection::WrongElection {
                expected: m.election_id.clone(),
                got: entry.election_id().to_string(),
            });
        }
        if entry.author() != &m.authority_key {
            return Err(Rejection::UnauthorisedAuthor {
                kind: EntryKind::Setup,
                expected: "the manifest's authority key".into(),
            });
        }
        let mut offsets = Vec::with_capacity(m.contests.len());
        let mut total = 0;
        for c in &m.contests {
            offsets.push(total);
            total += c.options.len();
        }
        self.offsets = offsets;
        self.positions = m.option_positions();
        self.manifest_hash = m.hash();
        self.manifest = Some(Arc::new(m));
        self.phase = Phase::KeyCeremony;
        Ok(())
    }

    fn dkg_commitment(&mut self, entry: &Entry, c: DkgCommitment) -> Result<(), Rejection> {
        self.require(EntryKind::DkgCommitment, &[Phase::KeyCeremony])?;
        self.require_trustee(entry, c.dealer)?;
        let m = self.manifest_ref()?;
        if self.dkg.commitments.contains_key(&c.dealer) {
            return Err(Rejection::dkg(format!(
                "trustee {} has already posted its commitments",
                c.dealer
            )));
        }
        if c.commitments.len() != usize::from(m.threshold) {
            return Err(Rejection::dkg(format!(
                "expected {} commitments (the threshold), got {}",
                m.threshold,
                c.commitments.len()
            )));
        }
        threshold::verify_coefficient_proofs(&c.commitments, &c.proofs, c.dealer, &self.dkg_ctx())
            .map_err(|e| Rejection::dkg(format!("proof of knowledge of a coefficient: {e}")))?;
        self.dkg.commitments.insert(c.dealer, c.commitments);
        Ok(())
    }

    fn dkg_shares(&mut self, entry: &Entry, s: DkgShares) -> Result<(), Rejection> {
        self.require(EntryKind::DkgShares, &[Phase::KeyCeremony])?;
        self.require_trustee(entry, s.dealer)?;
        let m = self.manifest_ref()?;
        if !self.dkg.commitments.contains_key(&s.dealer) {
            return Err(Rejection::dkg("shares before commitments"));
        }
        if self.dkg.shares.contains_key(&s.dealer) {
            return Err(Rejection::dkg(format!(
                "trustee {} has already posted its shares",
                s.dealer
            )));
        }
        let n = m.trustees.len() as u16;
        let expected: Vec<u16> = (1..=n).filter(|j| *j != s.dealer).collect();
        let got: Vec<u16> = s.shares.iter().map(|(j, _)| *j).collect();
        if got != expected {
            return Err(Rejection::dkg(
                "shares must go to every other trustee, in increasing index order",
            ));
        }
        self.dkg.shares.insert(s.dealer, s.shares);
        Ok(())
    }

    fn dkg_complaint(&mut self, entry: &Entry, c: DkgComplaint) -> Result<(), Rejection> {
        self.require(EntryKind::DkgComplaint, &[Phase::KeyCeremony])?;
        self.require_trustee(entry, c.complainer)?;
        let m = self.manifest_ref()?;
        if self.dkg.confirmed.contains(&c.complainer) {
            return Err(Rejection::dkg("a trustee cannot complain after confirming"));
        }
        if self.dkg.disqualified.contains(&c.dealer) {
            return Err(Rejection::dkg(format!(
                "trustee {} is already disqualified",
                c.dealer
            )));
        }
        let (Some(commitments), Some(share)) = (
            self.dkg.commitments.get(&c.dealer),
            self.dkg_share(c.dealer, c.complainer),
        ) else {
            return Err(Rejection::dkg(format!(
                "trustee {} has posted no share to trustee {}",
                c.dealer, c.complainer
            )));
        };
        let recipient_key = m
            .trustees
            .get(usize::from(c.complainer) - 1)
            .map(|t| t.ceremony_key)
            .ok_or_else(|| Rejection::dkg("unknown complainer"))?;
        let verdict = verify_complaint(
            share,
            &c.reveal,
            &recipient_key,
            commitments,
            c.dealer,
            c.complainer,
            &self.dkg_ctx(),
        );
        match verdict {
            ComplaintVerdict::Upheld => {
                self.dkg.disqualified.insert(c.dealer);
                self.dkg.confirmed.remove(&c.dealer);
                self.check_ceremony_complete(&m);
                Ok(())
            }
            ComplaintVerdict::ShareValid => Err(Rejection::FalseComplaint {
                complainer: c.complainer,
                dealer: c.dealer,
            }),
            ComplaintVerdict::BadReveal(e) => Err(Rejection::dkg(format!(
                "the complaint's proof of decryption is invalid: {e}"
            ))),
        }
    }

    fn dkg_confirm(&mut self, entry: &Entry, c: DkgConfirm) -> Result<(), Rejection> {
        self.require(EntryKind::DkgConfirm, &[Phase::KeyCeremony])?;
        self.require_trustee(entry, c.trustee)?;
        let m = self.manifest_ref()?;
        if self.dkg.disqualified.contains(&c.trustee) {
            return Err(Rejection::dkg("a disqualified trustee cannot confirm"));
        }
        if self.dkg.confirmed.contains(&c.trustee) {
            return Err(Rejection::dkg("already confirmed"));
        }
        if self.dkg.shares.len() != m.trustees.len() {
            return Err(Rejection::dkg(
                "confirmation before every trustee has posted its shares",
            ));
        }
        self.dkg.confirmed.insert(c.trustee);
        self.check_ceremony_complete(&m);
        Ok(())
    }

    /// Completes (or fails) the ceremony once every non-disqualified trustee has confirmed.
    fn check_ceremony_complete(&mut self, m: &Manifest) {
        let n = m.trustees.len() as u16;
        let qualified: Vec<u16> = (1..=n)
            .filter(|i| !self.dkg.disqualified.contains(i))
            .collect();
        if qualified.len() < usize::from(m.threshold) {
            self.qualified = qualified;
            self.phase = Phase::CeremonyFailed;
            return;
        }
        if !qualified.iter().all(|i| self.dkg.confirmed.contains(i)) {
            return;
        }
        let dealt: Vec<&[Point]> = qualified
            .iter()
            .filter_map(|i| self.dkg.commitments.get(i).map(Vec::as_slice))
            .collect();
        let joint = threshold::joint_public_key(&dealt);
        let vks: Vec<Point> = (1..=n)
            .map(|j| threshold::verification_key(&dealt, j))
            .collect();
        let Ok(key) = PublicKey::new(joint) else {
            // The sum of honest random commitments is the identity with negligible probability;
            // if it happens the ceremony cannot produce a key.
            self.phase = Phase::CeremonyFailed;
            return;
        };
        self.context = Some(ElectionContext::new(self.manifest_hash, key, vks));
        self.qualified = qualified;
        self.phase = Phase::Registration;
    }

    fn voter_roll(&mut self, entry: &Entry, r: VoterRoll) -> Result<(), Rejection> {
        self.require(
            EntryKind::VoterRoll,
            &[Phase::KeyCeremony, Phase::Registration],
        )?;
        let m = self.manifest_ref()?;
        if entry.author() != &m.registrar_key {
            return Err(Rejection::UnauthorisedAuthor {
                kind: EntryKind::VoterRoll,
                expected: "the registrar".into(),
            });
        }
        if r.batch != self.roll_batches {
            return Err(Rejection::roll(format!(
                "batch number {} out of order; expected {}",
                r.batch, self.roll_batches
            )));
        }
        if r.voters.is_empty() {
            return Err(Rejection::roll("empty batch"));
        }
        let mut in_batch = HashSet::new();
        for v in &r.voters {
            if v.weight == 0 {
                return Err(Rejection::roll("weight must be at least 1"));
            }
            if usize::from(v.style) >= m.ballot_styles.len() {
                return Err(Rejection::roll(format!("unknown ballot style {}", v.style)));
            }
            let k = *v.credential.as_bytes();
            if self.voters.contains_key(&k) || !in_batch.insert(k) {
                return Err(Rejection::roll(format!(
                    "credential {} is already on the roll",
                    urna_crypto::hex::encode(&k)
                )));
            }
        }
        for v in r.voters {
            self.voters.insert(
                *v.credential.as_bytes(),
                Voter {
                    weight: v.weight,
                    style: v.style,
                    counted: None,
                },
            );
        }
        self.roll_batches += 1;
        self.counts.voters = self.voters.len() as u64;
        Ok(())
    }

    /// Eligibility, style, proofs and copies: the checks a ballot and a challenged ballot share.
    fn check_ballot(
        &self,
        entry: &Entry,
        ballot: &Ballot,
        proofs_ok: Option<Result<(), Rejection>>,
    ) -> Result<(), Rejection> {
        self.require(entry.kind(), &[Phase::Voting])?;
        let voter = self
            .voters
            .get(entry.author().as_bytes())
            .ok_or(Rejection::NotEligible)?;
        if ballot.style != voter.style {
            return Err(Rejection::StyleMismatch {
                expected: voter.style,
                got: ballot.style,
            });
        }
        match proofs_ok {
            Some(r) => r?,
            None => {
                let (m, ctx) = match (&self.manifest, &self.context) {
                    (Some(m), Some(c)) => (m, c),
                    _ => {
                        return Err(Rejection::WrongPhase {
                            kind: entry.kind(),
                            phase: self.phase,
                        })
                    }
                };
                let mut batch = BatchVerifier::from_seed(batch_seed(std::slice::from_ref(entry)));
                ballot.queue(m, entry.author(), ctx, &mut batch)?;
                batch
                    .verify_vartime()
                    .map_err(|e| Rejection::InvalidBallot {
                        reason: format!("proof invalid: {e}"),
                    })?;
            }
        }
        let mut own = HashSet::new();
        for ct in ballot.ciphertexts() {
            let a = *ct.alpha.as_bytes();
            if self.seen_alphas.contains(&a) || !own.insert(a) {
                return Err(Rejection::CopiedBallot);
            }
        }
        Ok(())
    }

    fn ballot(
        &mut self,
        entry: &Entry,
        ballot: Ballot,
        proofs_ok: Option<Result<(), Rejection>>,
        leaf: [u8; 32],
    ) -> Result<Option<u64>, Rejection> {
        self.check_ballot(entry, &ballot, proofs_ok)?;
        let m = self.manifest_ref()?;
        let key = *entry.author().as_bytes();
        let (weight, previous) = match self.voters.get(&key) {
            Some(v) => (v.weight, v.counted.as_ref().map(|(i, _)| *i)),
            None => return Err(Rejection::NotEligible),
        };
        if previous.is_some() && m.revote == RevotePolicy::Forbidden {
            return Err(Rejection::RevoteForbidden);
        }
        // Admit: remember the ciphertexts, update the running tally.
        for ct in ballot.ciphertexts() {
            self.seen_alphas.insert(*ct.alpha.as_bytes());
        }
        let positions = self.style_positions(&m, ballot.style);
        let acc = self.acc.entry(weight).or_insert_with(|| {
            vec![(RistrettoPoint::default(), RistrettoPoint::default()); self.positions.len()]
        });
        let index = self.size;
        let mut supersedes = None;
        if let Some(v) = self.voters.get_mut(&key) {
            if let Some((rec, old)) = v.counted.take() {
                // Superseded ciphertexts were validated on admission, so they decompress.
                for (pos, ct) in positions.iter().zip(&old) {
                    let (a, b) = (
                        CompressedRistretto::from_slice(&ct[..32])
                            .ok()
                            .and_then(|c| c.decompress()),
                        CompressedRistretto::from_slice(&ct[32..])
                            .ok()
                            .and_then(|c| c.decompress()),
                    );
                    if let (Some(a), Some(b)) = (a, b) {
                        acc[*pos].0 -= a;
                        acc[*pos].1 -= b;
                    }
                }
                if let Some(r) = self.ballots.get_mut(rec) {
                    r.status = BallotStatus::Superseded { by: index };
                    supersedes = Some(r.index);
                }
                self.counts.superseded += 1;
                self.counts.counted -= 1;
            }
            let mut kept = Vec::with_capacity(positions.len());
            for (pos, ct) in positions.iter().zip(ballot.ciphertexts()) {
                acc[*pos].0 += ct.alpha.point();
                acc[*pos].1 += ct.beta.point();
                let mut enc = [0u8; 64];
                enc[..32].copy_from_slice(ct.alpha.as_bytes());
                enc[32..].copy_from_slice(ct.beta.as_bytes());
                kept.push(enc);
            }
            v.counted = Some((self.ballots.len(), kept));
        }
        self.ballots.push(BallotRecord {
            index,
            credential: *entry.author(),
            tracking_code: TrackingCode(leaf),
            status: BallotStatus::Counted,
        });
        self.counts.ballots += 1;
        self.counts.counted += 1;
        Ok(supersedes)
    }

    /// The flattened tally positions of a style's options, in ballot order.
    fn style_positions(&self, m: &Manifest, style: u16) -> Vec<usize> {
        let mut out = Vec::new();
        if let Some(s) = m.ballot_styles.get(usize::from(style)) {
            for &ci in &s.contests {
                let c = usize::from(ci);
                if let (Some(off), Some(contest)) = (self.offsets.get(c), m.contests.get(c)) {
                    out.extend(*off..*off + contest.options.len());
                }
            }
        }
        out
    }

    fn challenged(
        &mut self,
        entry: &Entry,
        c: ChallengedBallot,
        proofs_ok: Option<Result<(), Rejection>>,
        leaf: [u8; 32],
    ) -> Result<(), Rejection> {
        self.check_ballot(entry, &c.ballot, proofs_ok)?;
        let pk =
            self.context
                .as_ref()
                .map(|c| c.joint_key.clone())
                .ok_or(Rejection::WrongPhase {
                    kind: EntryKind::ChallengedBallot,
                    phase: self.phase,
                })?;
        c.ballot.check_opening(&pk, &c.openings)?;
        // Its ciphertexts are burned: the same encryption can never be cast.
        for ct in c.ballot.ciphertexts() {
            self.seen_alphas.insert(*ct.alpha.as_bytes());
        }
        self.ballots.push(BallotRecord {
            index: self.size,
            credential: *entry.author(),
            tracking_code: TrackingCode(leaf),
            status: BallotStatus::Challenged,
        });
        self.counts.challenged += 1;
        Ok(())
    }

    /// Fixes the encrypted tally: `(G, K) + Σ_w w·Σ(ballots of weight w)` per option. The
    /// public encryption of zero `(G, K)` keeps every tally component non-identity, so each
    /// decryption-share proof has a valid statement even for an option nobody chose.
    fn close_voting(&mut self) {
        let Some(ctx) = &self.context else { return };
        let k = *ctx.joint_key.point().point();
        let weights: Vec<(Scalar, &Vec<(RistrettoPoint, RistrettoPoint)>)> = self
            .acc
            .iter()
            .map(|(w, v)| (Scalar::from(u64::from(*w)), v))
            .collect();
        let tally: Vec<Ciphertext> = (0..self.positions.len())
            .into_par_iter()
            .map(|pos| {
                let mut a = *g();
                let mut b = k;
                for (w, v) in &weights {
                    if let Some((sa, sb)) = v.get(pos) {
                        a += w * sa;
                        b += w * sb;
                    }
                }
                Ciphertext::from_points(a, b)
            })
            .collect();
        self.tally = Some(tally);
        self.phase = Phase::Tallying;
    }

    fn decryption_share(&mut self, entry: &Entry, d: DecryptionShare) -> Result<(), Rejection> {
        self.require(EntryKind::DecryptionShare, &[Phase::Tallying])?;
        self.require_trustee(entry, d.trustee)?;
        let bad = |reason: String| Rejection::InvalidDecryptionShare { reason };
        if !self.qualified.contains(&d.trustee) {
            return Err(bad(format!("trustee {} is not qualified", d.trustee)));
        }
        if self.shares.iter().any(|(t, _)| *t == d.trustee) {
            return Err(bad(format!("trustee {} has already posted", d.trustee)));
        }
        let (Some(ctx), Some(tally)) = (&self.context, &self.tally) else {
            return Err(bad("no tally".into()));
        };
        if d.shares.len() != tally.len() {
            return Err(bad(format!(
                "{} shares for {} tally ciphertexts",
                d.shares.len(),
                tally.len()
            )));
        }
        let vk = ctx
            .verification_keys
            .get(usize::from(d.trustee) - 1)
            .ok_or_else(|| bad("no verification key".into()))?;
        let labels = &self.positions;
        let items: Vec<usize> = (0..tally.len()).collect();
        let seed = batch_seed(std::slice::from_ref(entry));
        verify_all_vartime(&items, seed, |&i, batch| {
            let (point, proof) = &d.shares[i];
            let (c, o) = labels[i];
            let st = DleqStatement {
                u: &tally[i].alpha,
                x: vk,
                y: point,
            };
            proof.queue(st, &ctx.decryption_ctx(d.trustee, c, o), batch)
        })
        .map_err(|f| {
            let first = f.failures.first().map_or(0, |(i, _)| *i);
            let (c, o) = labels.get(first).copied().unwrap_or_default();
            bad(format!(
                "proof for contest #{c} option #{o} does not verify against trustee {}'s verification key",
                d.trustee
            ))
        })?;
        self.shares
            .push((d.trustee, d.shares.into_iter().map(|(p, _)| p).collect()));
        self.counts.decryption_shares = self.shares.len() as u64;
        Ok(())
    }

    /// `M = β − Σ λᵢ·Dᵢ` for each tally ciphertext, over the first `t` shares admitted.
    pub fn combine(&self) -> Result<Vec<RistrettoPoint>, Rejection> {
        let bad = |reason: String| Rejection::InconsistentResult { reason };
        let (Some(m), Some(tally)) = (&self.manifest, &self.tally) else {
            return Err(bad("no tally".into()));
        };
        let t = usize::from(m.threshold);
        if self.shares.len() < t {
            return Err(bad(format!(
                "{} decryption shares, {} needed",
                self.shares.len(),
                t
            )));
        }
        let chosen = &self.shares[..t];
        let indices: Vec<u64> = chosen.iter().map(|(i, _)| u64::from(*i)).collect();
        let lambdas = threshold::lagrange_at_zero(&indices).map_err(|e| bad(e.to_string()))?;
        Ok((0..tally.len())
            .into_par_iter()
            .map(|pos| {
                let mut kalpha = RistrettoPoint::default();
                for (l, (_, pts)) in lambdas.iter().zip(chosen) {
                    if let Some(p) = pts.get(pos) {
                        kalpha += l * p.point();
                    }
                }
                tally[pos].beta.point() - kalpha
            })
            .collect())
    }

    fn result_entry(&mut self, r: ElectionResult) -> Result<(), Rejection> {
        self.require(EntryKind::Result, &[Phase::Tallying])?;
        let m = self.manifest_ref()?;
        let bad = |reason: String| Rejection::InconsistentResult { reason };
        if r.counts.len() != m.contests.len()
            || r.counts
                .iter()
                .zip(&m.contests)
                .any(|(c, contest)| c.len() != contest.options.len())
        {
            return Err(bad("the result does not have the manifest's shape".into()));
        }
        let combined = self.combine()?;
        let flat: Vec<u64> = r.counts.iter().flatten().copied().collect();
        for (pos, (count, point)) in flat.iter().zip(&combined).enumerate() {
            if mul_g(&Scalar::from(*count)) != *point {
                let (c, o) = self.position_label(&m, pos);
                return Err(bad(format!(
                    "contest {c:?} option {o:?}: {count} is not the decrypted total"
                )));
            }
        }
        self.result = Some(r);
        self.phase = Phase::Finished;
        Ok(())
    }

    fn position_label(&self, m: &Manifest, pos: usize) -> (String, String) {
        let Some(&(c, o)) = self.positions.get(pos) else {
            return (String::new(), String::new());
        };
        let contest = m.contests.get(usize::from(c));
        (
            contest.map(|x| x.id.clone()).unwrap_or_default(),
            contest
                .and_then(|x| x.options.get(usize::from(o)))
                .map(|x| x.id.clone())
                .unwrap_or_default(),
        )
    }
}

/// `SHA-256("urna-v1 batch-weights" ‖ leaf hashes)`: batch weights that are a hash of the
/// entries they check.
fn batch_seed(entries: &[Entry]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"urna-v1 batch-weights");
    for e in entries {
        h.update(e.leaf_hash());
    }
    h.finalize().into()
}
