//! The election state machine: the one function that decides whether an entry is admissible.
//!
//! [`Election::apply`] takes the next entry of the log and either admits it (updating the state)
//! or rejects it with a typed [`Rejection`] and changes nothing. It is deterministic: no clock, no
//! I/O, no caller randomness. Batch-verification weights are derived from the entries themselves
//! (`SHA-256("urna-v1 batch-weights" ‖ leaf hashes)`), which is sound because an entry's weights
//! are a hash of its own proofs. The board runs it on admission; clients and the verifier replay
//! the log through it.
//!
//! The checks of an entry run in the order of `specs/election.md` §6, which is also the order
//! of their cost: the envelope, the election, duplicates, the signature, the phase and the
//! author's role as the envelope shows it, and only then the payload is decoded (a point
//! decompression per ciphertext) and the kind's rules run — the state's rules first, proofs
//! last. The first failing check is the verdict, so the verdict never depends on how the work
//! is scheduled, and an entry a hash-table lookup can refuse never costs a proof verification.
//!
//! The state is kept in one sub-state per stage of the election, each with the rules that change
//! it: `ceremony` (the key ceremony and the election context), `roll` (who may vote),
//! `ballot_box` (admitted ballots, what counts, the running sums, the ranked rows), `tally` (the
//! encrypted tally, decryption shares, the result) and `mix` (the ranked contests' mixes, their
//! decryption and count); `layout` places each contest of a ballot in the tally or in a list to
//! mix. This module holds what every entry goes through; `batch` applies many entries at once
//! with the same verdicts.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};
use urna_crypto::elgamal::Ciphertext;
use urna_crypto::group::Point;
use urna_crypto::share_enc::EncryptedShare;
use urna_crypto::sign::VerifyingKey;
use urna_crypto::{RistrettoPoint, Scalar};

use crate::ballot::Ballot;
use crate::context::ElectionContext;
use crate::entry::{Entry, EntryKind, TrackingCode};
use crate::manifest::Manifest;
use crate::payload::{ElectionResult, Payload};
pub use crate::phase::Phase;
use crate::rejection::Rejection;
pub use batch::{Checked, Preverified, ProofCheck, REPLAY_BATCH};

mod alphas;
mod ballot_box;
mod batch;
mod ceremony;
mod cow;
mod layout;
mod look_back;
mod mix;
mod paged;
mod roll;
mod snapshot;
mod spill;
mod tally;

pub use cow::Chunked;
pub use look_back::{LookBack, LookBackError, NoLog};
pub use mix::{Decrypted, MixStatus};
pub use paged::PagedTable;
pub use snapshot::{SnapshotError, SNAPSHOT_MAGIC, SNAPSHOT_VERSION};
pub use spill::{CopySpill, FirstCopy};

use ballot_box::{BallotBox, Pending};
use batch::Prechecked;
use ceremony::{Ceremony, Progress};
use layout::Layout;
use mix::Mixing;
use roll::Roll;
use tally::Tally;

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

/// The standing of a ballot on the ledger (`specs/election.md` §9: `"counted"`,
/// `{"superseded": {"by": <entry index>}}`, `"challenged"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BallotStatus {
    Counted,
    /// Replaced by the later ballot at this entry index.
    Superseded {
        by: u64,
    },
    Challenged,
}

/// A credential as the rules' state keeps it: the key's 32-byte encoding, not the decoded key
/// (a sixth of the size; the key was decoded and checked when its entry was).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CredentialId(pub [u8; 32]);

impl CredentialId {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq<VerifyingKey> for CredentialId {
    fn eq(&self, other: &VerifyingKey) -> bool {
        &self.0 == other.as_bytes()
    }
}

impl Serialize for CredentialId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&urna_crypto::hex::encode(&self.0))
    }
}

/// One admitted `Ballot` or `ChallengedBallot`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BallotRecord {
    /// Its entry index in the log.
    pub index: u64,
    pub credential: CredentialId,
    pub tracking_code: TrackingCode,
    pub status: BallotStatus,
}

/// Summary counts, for reports (`specs/election.md` §9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Admitted entries: the log's size.
    pub entries: u64,
    /// Credentials on the roll.
    pub voters: u64,
    /// Admitted `Ballot` entries (challenged ballots are not among them).
    pub ballots: u64,
    /// Credentials whose latest ballot counts.
    pub counted: u64,
    /// Ballots replaced by a later ballot of their credential.
    pub superseded: u64,
    /// Admitted `ChallengedBallot` entries.
    pub challenged: u64,
    /// Admitted `DecryptionShare` entries.
    pub decryption_shares: u64,
}

/// The state of one election, derived from its log.
#[derive(Clone)]
pub struct Election {
    size: u64,
    phase: Phase,
    manifest: Option<Arc<Manifest>>,
    manifest_hash: [u8; 32],
    layout: Layout,
    /// Leaf hashes of every admitted entry other than ballots and challenged ballots, for
    /// `duplicate` (a ballot's is found on its credential's chain of ballot records).
    leaves: HashSet<[u8; 32]>,
    ceremony: Ceremony,
    roll: Roll,
    ballot_box: BallotBox,
    tally: Tally,
    mixing: Mixing,
    /// Instrumentation, not election state: entries whose proofs this replica has verified.
    proofs_verified: u64,
}

impl Default for Election {
    fn default() -> Self {
        Self::new()
    }
}

impl Election {
    /// An election that keeps in memory everything its rules may need again: the tallied
    /// ciphertexts of every counted ballot, which a revote subtracts. For a log held in memory
    /// or made on the spot (tests, generators); a replica of a log uses
    /// [`Election::reading_back`].
    pub fn new() -> Self {
        Self::with(true)
    }

    /// An election that reads a superseded ballot back from its log ([`LookBack`]) when a
    /// revote needs it, instead of keeping every counted ballot's ciphertexts: what a replica
    /// of a large log holds. It must be applied through [`Election::apply_batch_reading`];
    /// applied otherwise, a revote of a ballot from an earlier batch cannot be judged
    /// (`apply_batch` then refuses the whole batch, see [`NoLog`]).
    pub fn reading_back() -> Self {
        Self::with(false)
    }

    /// A [`Election::reading_back`] election that checks `copied-ballot` at the end rather than
    /// at each ballot, its `α` prefixes on disk in `spill` (`specs/verifier.md` §3 6): for a
    /// verifier, whose memory then does not grow with the ballots' ciphertexts. Every other rule
    /// is checked as ever; [`Election::first_copy`] then names the first entry that copies an
    /// `α`, which is the entry an election checking at each ballot refuses first if it is
    /// before the first entry this one refused (`state::spill` gives the argument). Its state is
    /// for that verdict only: a copied ballot was admitted, and its snapshot holds no `α` set.
    pub fn deferring_copies(spill: CopySpill) -> Self {
        let mut e = Self::with(false);
        e.ballot_box.alphas = alphas::Alphas::deferring(spill);
        e
    }

    /// A [`Election::deferring_copies`] election (its spill in `dir`, buffering `spill_budget`
    /// bytes) that also keeps its ballot records and its roll on disk (from its first batch), in
    /// `dir` too, through caches of `cache` bytes in all ([`PagedTable`]): a verifier's, whose
    /// memory then does not grow with the ballots and voters (`specs/verifier.md` §1). The rules and verdicts are those of every election;
    /// the records are read with [`Election::for_each_ballot`] and
    /// [`Election::ballot_status`] ([`Election::ballots`] holds none), and a failure of the
    /// disk is [`Election::disk_failure`], after which no verdict stands. Its snapshot holds
    /// neither the `α` set nor the records: it is not for taking one. Fails if `dir` cannot
    /// hold a file.
    pub fn on_disk(dir: &Path, spill_budget: usize, cache: usize) -> std::io::Result<Self> {
        let mut e = Self::deferring_copies(CopySpill::new(dir, spill_budget));
        let records = PagedTable::new(dir, ballot_box::RECORD_ROW, cache / 2)?;
        e.ballot_box.disk = Some(paged::Shared::new(records));
        let voters = PagedTable::new(dir, roll::VOTER_ROW, cache / 2)?;
        e.roll.disk = Some(roll::OnDisk::new(paged::Shared::new(voters)));
        Ok(e)
    }

    /// For an election made by [`Election::on_disk`]: the first error of its tables' disk, if
    /// one failed (rows it could not read or write: the replay's verdicts are then void).
    pub fn disk_failure(&self) -> Option<std::io::Error> {
        let roll = self.roll.disk.as_ref().map(roll::OnDisk::table);
        (self.ballot_box.disk.iter().chain(roll)).find_map(paged::Shared::failure)
    }

    /// For an election made by [`Election::deferring_copies`]: the first entry among those
    /// applied up to and including the first refused one whose ballot repeats an `α` prefix of
    /// an earlier admitted ballot, with its kind. `Ok(None)` for an election checking at each
    /// ballot. `Err` when the spill's disk failed: no verdict.
    pub fn first_copy(&self) -> std::io::Result<Option<(u64, EntryKind)>> {
        let Some(s) = &self.ballot_box.alphas.deferred else {
            return Ok(None);
        };
        let found = s
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .first_copy()?;
        Ok(found.map(|c| {
            let kind = match c.challenged {
                true => EntryKind::ChallengedBallot,
                false => EntryKind::Ballot,
            };
            (c.index, kind)
        }))
    }

    fn with(keep: bool) -> Self {
        Election {
            size: 0,
            phase: Phase::AwaitingSetup,
            manifest: None,
            manifest_hash: [0; 32],
            layout: Layout::default(),
            leaves: HashSet::new(),
            ceremony: Ceremony::default(),
            roll: Roll::default(),
            ballot_box: BallotBox::new(keep),
            tally: Tally::default(),
            mixing: Mixing::default(),
            proofs_verified: 0,
        }
    }

    /// Replays a whole log; stops at the first rejected entry, returning its index.
    pub fn replay(entries: &[Entry]) -> Result<Election, (u64, EntryKind, Rejection)> {
        let mut e = Election::new();
        for (c, chunk) in entries.chunks(REPLAY_BATCH).enumerate() {
            for (i, r) in e.apply_batch(chunk).into_iter().enumerate() {
                if let Err(rej) = r {
                    // The log's index, not the state's size: later entries of the chunk may
                    // have been admitted after the failing one.
                    let index = (c * REPLAY_BATCH + i) as u64;
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
        self.ceremony.context()
    }

    /// The trustees (1-based indices) whose contributions make up the joint key.
    pub fn qualified_trustees(&self) -> &[u16] {
        self.ceremony.qualified()
    }

    /// Roll batches admitted so far (the next batch's number).
    pub fn roll_batches(&self) -> u32 {
        self.roll.batches()
    }

    /// The sum of the roll's weights.
    pub fn total_weight(&self) -> u64 {
        self.roll.total_weight()
    }

    /// For each tally position (manifest order), the largest total it can decrypt to:
    /// `per_option_max(c) · W(c)`, where `W(c)` is the weight of the roll's credentials whose
    /// style includes the position's contest `c` (`specs/election.md` §7). It bounds the
    /// discrete-log search, and a `Result` above it is refused (`count-out-of-range`).
    pub fn count_bounds(&self) -> Vec<u64> {
        let Some(m) = &self.manifest else {
            return Vec::new();
        };
        m.option_positions()
            .iter()
            .map(|&(c, _)| {
                let w = self.roll.contest_weight(m, c);
                let per = m
                    .contests
                    .get(usize::from(c))
                    .map_or(0, |x| x.rule().per_option_max);
                w.saturating_mul(u64::from(per))
            })
            .collect()
    }

    pub fn counts(&self) -> Counts {
        let (ballots, counted, superseded, challenged) = self.ballot_box.counts();
        Counts {
            entries: self.size,
            voters: self.roll.len() as u64,
            ballots,
            counted,
            superseded,
            challenged,
            decryption_shares: self.tally.shares().len() as u64,
        }
    }

    /// Every admitted ballot and challenged ballot, in log order — held in memory: an
    /// election [`Election::on_disk`] holds none here (see [`Election::for_each_ballot`]).
    pub fn ballots(&self) -> &Chunked<BallotRecord> {
        self.ballot_box.records()
    }

    /// Every admitted ballot and challenged ballot, in log order, wherever they are kept (an
    /// election [`Election::on_disk`] reads them from its table).
    pub fn for_each_ballot(&self, f: impl FnMut(BallotRecord)) {
        self.ballot_box.for_each_record(f)
    }

    /// The standing of the ballot or challenged ballot admitted at entry `index`, if one was.
    pub fn ballot_status(&self, index: u64) -> Option<BallotStatus> {
        self.ballot_box.status_of(index)
    }

    /// The encrypted tally, flattened in manifest order, once voting has closed.
    pub fn encrypted_tally(&self) -> Option<&[Ciphertext]> {
        self.tally.encrypted()
    }

    /// Decryption shares admitted so far: (trustee index, one point per tally ciphertext).
    pub fn decryption_shares(&self) -> &[(u16, Vec<Point>)] {
        self.tally.shares()
    }

    pub fn result(&self) -> Option<&ElectionResult> {
        self.tally.result()
    }

    /// Where each ranked contest stands (mixes, decryption, count), in manifest order, once the
    /// polls have closed.
    pub fn mix_status(&self) -> Vec<MixStatus> {
        match &self.manifest {
            Some(m) => self.mixing.status(m),
            None => Vec::new(),
        }
    }

    /// A ranked contest's current list, decoded: the next mixer's input, or once every mixer
    /// has mixed, the list the trustees decrypt.
    pub fn mix_list(&self, contest: u16) -> Option<Vec<Ciphertext>> {
        self.mixing.list(contest)
    }

    /// A ranked contest's decrypted rows and count, once `t` trustees have decrypted it.
    pub fn ranked_result(&self, contest: u16) -> Option<&Decrypted> {
        self.mixing.decrypted(contest)
    }

    /// Key-ceremony progress: (trustee, has committed, has dealt, has confirmed, disqualified).
    pub fn ceremony_status(&self) -> Vec<(u16, bool, bool, bool, bool)> {
        let n = self
            .manifest
            .as_ref()
            .map_or(0, |m| m.trustees.len() as u16);
        self.ceremony.status(n)
    }

    /// A dealer's commitments (for trustees checking the shares they received).
    pub fn dkg_commitments(&self, dealer: u16) -> Option<&[Point]> {
        self.ceremony.commitments(dealer)
    }

    /// The share a dealer encrypted to a recipient.
    pub fn dkg_share(&self, dealer: u16, recipient: u16) -> Option<&EncryptedShare> {
        self.ceremony.share(dealer, recipient)
    }

    /// The voter roll entry of a credential: (weight, style).
    pub fn voter(&self, credential: &VerifyingKey) -> Option<(u32, u16)> {
        self.roll.get(credential).map(|v| (v.weight, v.style))
    }

    /// How many entries' proofs (ballot proofs, coefficient proofs, complaint reveals,
    /// decryption-share proofs) this replica has verified, admitted or not. Instrumentation for
    /// tests and benchmarks: it shows which refusals cost a verification. Not part of the
    /// election's state, and not reproduced by replay in a different batching.
    pub fn proofs_verified(&self) -> u64 {
        self.proofs_verified
    }

    /// `M = β − Σ λᵢ·Dᵢ` for each tally ciphertext, over the first `t` shares admitted.
    pub fn combine(&self) -> Result<Vec<RistrettoPoint>, Rejection> {
        match (&self.manifest, self.tally.encrypted()) {
            (Some(m), Some(_)) => self.tally.combine(m.threshold),
            _ => Err(Rejection::WrongPhase {
                kind: EntryKind::Result,
                phase: self.phase,
            }),
        }
    }

    /// Applies one entry.
    pub fn apply(&mut self, entry: &Entry) -> Result<Admitted, Rejection> {
        if let Err(e) = self.read_back(std::slice::from_ref(entry), &NoLog) {
            return Err(Rejection::InvalidBallot {
                reason: e.to_string(),
            });
        }
        let r = self.apply_prechecked(entry, Prechecked::new(entry));
        self.ballot_box.end_batch();
        r
    }

    /// Steps 2–4 of §6, after the envelope decoded: the election, no entry twice, the signature
    /// (verified here unless it was already, with others of its batch).
    fn envelope(
        &self,
        entry: &Entry,
        leaf: &[u8; 32],
        signature: Option<bool>,
    ) -> Result<(), Rejection> {
        match &self.manifest {
            None if entry.kind() != EntryKind::Setup => {
                return Err(Rejection::WrongPhase {
                    kind: entry.kind(),
                    phase: self.phase,
                })
            }
            Some(m) if entry.election_id() != m.election_id => {
                return Err(Rejection::WrongElection {
                    expected: m.election_id.clone(),
                    got: entry.election_id().to_string(),
                })
            }
            _ => {}
        }
        if self.is_duplicate(entry, leaf) {
            return Err(Rejection::Duplicate);
        }
        let signed = signature.unwrap_or_else(|| entry.verify_signature().is_ok());
        if !signed {
            return Err(Rejection::BadSignature);
        }
        Ok(())
    }

    /// Whether an entry with this leaf hash was admitted already (step 3 of §6): a board asks
    /// this of its state, in memory, before it looks the entry up in its index on disk.
    pub fn admitted(&self, entry: &Entry, leaf: &[u8; 32]) -> bool {
        self.is_duplicate(entry, leaf)
    }

    /// Step 3 of §6: an admitted entry has the same leaf hash.
    fn is_duplicate(&self, entry: &Entry, leaf: &[u8; 32]) -> bool {
        match entry.kind() {
            EntryKind::Ballot | EntryKind::ChallengedBallot => {
                self.ballot_box
                    .is_duplicate(&self.roll, entry.author(), leaf)
            }
            _ => self.leaves.contains(leaf),
        }
    }

    /// What the parts of the state that grow with the election take, in bytes, once it is
    /// large: the roll's credentials, the `α` prefixes and the ballot records, counted as they
    /// are laid out with the ~6 % slack of their buckets (fixed costs, the few non-ballot
    /// entries' leaf hashes and a batch's transient data aside). An estimate for figures
    /// (`urna bench`), not for decisions; the log's tree (64 bytes an entry) is the replica's.
    pub fn size_estimate(&self) -> u64 {
        self.roll.size_estimate() + self.ballot_box.size_estimate()
    }

    /// Steps 5–6 of §6: what the envelope alone decides, before the payload is decoded — the
    /// phase, and the author's role as far as it does not depend on the payload (for a ballot:
    /// on the roll; for a trustee's entry: one of the trustees).
    fn gate(&self, entry: &Entry) -> Result<(), Rejection> {
        let kind = entry.kind();
        match kind {
            EntryKind::Setup => self.require_phase(kind, &[Phase::AwaitingSetup]),
            EntryKind::DkgCommitment
            | EntryKind::DkgShares
            | EntryKind::DkgComplaint
            | EntryKind::DkgConfirm => {
                self.require_phase(kind, &[Phase::KeyCeremony])?;
                self.require_a_trustee(entry)
            }
            EntryKind::VoterRoll => {
                self.require_phase(kind, &[Phase::KeyCeremony, Phase::Registration])?;
                if self
                    .manifest
                    .as_ref()
                    .is_some_and(|m| entry.author() == &m.registrar_key)
                {
                    return Ok(());
                }
                Err(Rejection::UnauthorisedAuthor {
                    kind,
                    expected: "the registrar".into(),
                })
            }
            EntryKind::OpenVoting => {
                self.require_phase(kind, &[Phase::Registration])?;
                self.require_authority(entry)
            }
            EntryKind::Ballot | EntryKind::ChallengedBallot => {
                self.require_phase(kind, &[Phase::Voting])?;
                match self.roll.get(entry.author()) {
                    Some(_) => Ok(()),
                    None => Err(Rejection::NotEligible),
                }
            }
            EntryKind::CloseVoting => {
                self.require_phase(kind, &[Phase::Voting])?;
                self.require_authority(entry)
            }
            EntryKind::DecryptionShare | EntryKind::MixDecryption => {
                self.require_phase(kind, &[Phase::Tallying])?;
                self.require_a_trustee(entry)
            }
            EntryKind::MixRows | EntryKind::MixProof => {
                self.require_phase(kind, &[Phase::Tallying])?;
                self.require_a_mixer(entry).map(|_| ())
            }
            EntryKind::Result | EntryKind::RankedCount => {
                self.require_phase(kind, &[Phase::Tallying])
            }
        }
    }

    fn apply_prechecked(&mut self, entry: &Entry, pre: Prechecked) -> Result<Admitted, Rejection> {
        let r = self.admit_prechecked(entry, pre);
        if r.is_err() {
            self.ballot_box.alphas.seal();
        }
        r
    }

    fn admit_prechecked(&mut self, entry: &Entry, pre: Prechecked) -> Result<Admitted, Rejection> {
        let Prechecked {
            leaf,
            payload,
            signature,
            proofs,
        } = pre;
        self.envelope(entry, &leaf, signature)?;
        self.gate(entry)?;
        let payload = payload.unwrap_or_else(|| decode_payload(entry))?;
        let index = self.size;
        let supersedes = self.rules(entry, payload, proofs, leaf)?;
        if !matches!(
            entry.kind(),
            EntryKind::Ballot | EntryKind::ChallengedBallot
        ) {
            self.leaves.insert(leaf);
        }
        self.size += 1;
        Ok(Admitted {
            index,
            kind: entry.kind(),
            leaf_hash: leaf,
            supersedes,
            phase: self.phase,
        })
    }

    /// Steps 7–8 of §6, once the payload decoded: the rest of the rules of the entry's kind
    /// (§6.1–6.6), cheapest first.
    fn rules(
        &mut self,
        entry: &Entry,
        payload: Payload,
        proofs: Option<Result<(), Rejection>>,
        leaf: [u8; 32],
    ) -> Result<Option<u64>, Rejection> {
        let kind = entry.kind();
        match payload {
            Payload::Setup(m) => self.setup(entry, *m)?,
            Payload::DkgCommitment(c) => {
                let m = self.ceremony_entry(entry, &[c.dealer], c.dealer)?;
                self.ceremony
                    .commit(&m, &self.manifest_hash, c, &mut self.proofs_verified)?;
            }
            Payload::DkgShares(s) => {
                let mut named: Vec<u16> = s.shares.iter().map(|(j, _)| *j).collect();
                named.insert(0, s.dealer);
                let m = self.ceremony_entry(entry, &named, s.dealer)?;
                self.ceremony.deal(&m, s)?;
            }
            Payload::DkgComplaint(c) => {
                let m = self.ceremony_entry(entry, &[c.complainer, c.dealer], c.complainer)?;
                let progress = self.ceremony.complain(
                    &m,
                    &self.manifest_hash,
                    &c,
                    &mut self.proofs_verified,
                )?;
                self.progress(progress);
            }
            Payload::DkgConfirm(c) => {
                let m = self.ceremony_entry(entry, &[c.trustee], c.trustee)?;
                let progress = self.ceremony.confirm(&m, &self.manifest_hash, c)?;
                self.progress(progress);
            }
            Payload::VoterRoll(r) => {
                let m = self.require(kind, &[Phase::KeyCeremony, Phase::Registration])?;
                self.roll.check(&m, &r)?;
                self.roll.admit(&m, r);
            }
            Payload::OpenVoting => {
                if self.roll.is_empty() {
                    return Err(Rejection::EmptyRoll);
                }
                self.phase = Phase::Voting;
            }
            Payload::Ballot(b) => return self.ballot(entry, &b, None, proofs, leaf),
            Payload::ChallengedBallot(c) => {
                self.ballot(entry, &c.ballot, Some(&c.openings), proofs, leaf)?;
            }
            Payload::CloseVoting => {
                let m = self.require(kind, &[Phase::Voting])?;
                let ctx = self.ceremony.context().ok_or(Rejection::WrongPhase {
                    kind,
                    phase: self.phase,
                })?;
                let encrypted = self.ballot_box.tally(&self.layout, ctx);
                let lists = self.ballot_box.ranked_lists(self.layout.ranked().len());
                self.mixing = Mixing::close(&m, ctx, lists);
                self.tally.close(encrypted);
                self.phase = Phase::Tallying;
            }
            Payload::DecryptionShare(d) => {
                self.require_index(kind, d.trustee)?;
                self.require_trustee(entry, d.trustee)?;
                self.require_tally()?;
                let seed = batch_seed([&leaf]);
                let ctx = self.ceremony.context().ok_or(Rejection::WrongPhase {
                    kind,
                    phase: self.phase,
                })?;
                self.tally.decrypt(
                    self.ceremony.qualified(),
                    ctx,
                    &self.layout,
                    d,
                    seed,
                    &mut self.proofs_verified,
                )?;
            }
            Payload::Result(r) => {
                let m = self.require(kind, &[Phase::Tallying])?;
                self.require_tally()?;
                let bounds = self.count_bounds();
                self.tally.decide(&m, &self.layout, &bounds, r)?;
                self.finish_if_done(&m);
            }
            Payload::MixRows(p) => {
                let m = self.require(kind, &[Phase::Tallying])?;
                let mixer = self.require_a_mixer(entry)?;
                self.mixing.rows(&m, mixer, p, leaf)?;
            }
            Payload::MixProof(p) => {
                let m = self.require(kind, &[Phase::Tallying])?;
                let mixer = self.require_a_mixer(entry)?;
                let ctx = self.ceremony.context().ok_or(Rejection::WrongPhase {
                    kind,
                    phase: self.phase,
                })?;
                self.mixing.proof(
                    &m,
                    ctx,
                    mixer,
                    entry.author(),
                    *p,
                    leaf,
                    &mut self.proofs_verified,
                )?;
            }
            Payload::MixDecryption(d) => {
                let m = self.require(kind, &[Phase::Tallying])?;
                self.require_index(kind, d.trustee)?;
                self.require_trustee(entry, d.trustee)?;
                let ctx = self.ceremony.context().ok_or(Rejection::WrongPhase {
                    kind,
                    phase: self.phase,
                })?;
                self.mixing.decrypt(
                    &m,
                    ctx,
                    self.ceremony.qualified(),
                    *d,
                    leaf,
                    &mut self.proofs_verified,
                )?;
            }
            Payload::RankedCount(c) => {
                let m = self.require(kind, &[Phase::Tallying])?;
                self.mixing.count(c)?;
                self.finish_if_done(&m);
            }
        }
        Ok(None)
    }

    /// The election is finished once the result of the homomorphic tally (if it has one) and
    /// the count of every ranked contest are on the ledger.
    fn finish_if_done(&mut self, m: &Manifest) {
        let tallied = !m.has_tally() || self.tally.result().is_some();
        if tallied && self.mixing.complete() {
            self.phase = Phase::Finished;
        }
    }

    /// `DecryptionShare` and `Result` need a contest in the homomorphic tally (`no-tally`).
    fn require_tally(&self) -> Result<(), Rejection> {
        match self.manifest.as_ref().is_some_and(|m| m.has_tally()) {
            true => Ok(()),
            false => Err(Rejection::NoTally),
        }
    }

    /// The author must be one of the mixers: returns its 1-based place in the chain.
    fn require_a_mixer(&self, entry: &Entry) -> Result<u16, Rejection> {
        self.manifest
            .as_ref()
            .and_then(|m| m.mixer_index(entry.author()))
            .ok_or(Rejection::UnauthorisedAuthor {
                kind: entry.kind(),
                expected: "a mixer".into(),
            })
    }

    /// §6.1, in order: the manifest's election id, its authority key as the author, then
    /// every rule of the manifest.
    fn setup(&mut self, entry: &Entry, m: Manifest) -> Result<(), Rejection> {
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
        m.validate().map_err(|e| Rejection::InvalidManifest {
            reason: e.to_string(),
        })?;
        self.layout = Layout::new(&m);
        self.manifest_hash = m.hash();
        self.manifest = Some(Arc::new(m));
        self.phase = Phase::KeyCeremony;
        Ok(())
    }

    /// A `Ballot` or, with its openings, a `ChallengedBallot` (§6.5): every check that needs
    /// no cryptography, then the proofs (their verdict computed with the batch, if it was),
    /// then a challenged ballot's opening; then it is admitted. Returns the entry index of the
    /// ballot it supersedes, if any.
    fn ballot(
        &mut self,
        entry: &Entry,
        ballot: &Ballot,
        openings: Option<&Vec<Vec<(u16, Scalar)>>>,
        ahead: Option<Result<(), Rejection>>,
        leaf: [u8; 32],
    ) -> Result<Option<u64>, Rejection> {
        let kind = entry.kind();
        let m = self.require(kind, &[Phase::Voting])?;
        let ctx = self.context_in(kind)?;
        self.ballot_box.precheck(
            &m,
            &self.roll,
            kind,
            entry.author(),
            ballot,
            &Pending::default(),
        )?;
        let verified_now = ahead.is_none();
        let proofs = ahead.unwrap_or_else(|| {
            let seed = batch_seed([&leaf]);
            ballot_box::verify_proofs(&m, ctx, entry.author(), ballot, seed)
        });
        let opened: Result<(), Rejection> = match openings {
            Some(o) if proofs.is_ok() => ballot
                .check_opening(&ctx.joint_key, o)
                .map_err(Rejection::from),
            _ => Ok(()),
        };
        self.proofs_verified += u64::from(verified_now);
        let index = self.size;
        self.ballot_box.alphas.note(
            index,
            openings.is_some(),
            proofs.is_ok() && opened.is_ok(),
            ballot
                .ciphertexts()
                .map(|ct| alphas::prefix(ct.alpha.as_bytes())),
        );
        proofs?;
        opened?;
        Ok(match openings {
            Some(_) => {
                self.ballot_box
                    .challenge(index, &mut self.roll, entry.author(), ballot, leaf);
                None
            }
            None => self.ballot_box.cast(
                &self.layout,
                index,
                &mut self.roll,
                entry.author(),
                ballot,
                leaf,
            ),
        })
    }

    /// The phase check every kind starts with: `wrong-phase`, or `ceremony-failed` once the
    /// ceremony has failed.
    fn require_phase(&self, kind: EntryKind, phases: &[Phase]) -> Result<(), Rejection> {
        if phases.contains(&self.phase) {
            Ok(())
        } else if self.phase == Phase::CeremonyFailed {
            Err(Rejection::CeremonyFailed {
                qualified: self.ceremony.qualified().len(),
                threshold: self.manifest.as_ref().map_or(0, |m| m.threshold),
            })
        } else {
            Err(Rejection::WrongPhase {
                kind,
                phase: self.phase,
            })
        }
    }

    /// The phase check, for a kind admissible only after Setup: returns the manifest.
    fn require(&self, kind: EntryKind, phases: &[Phase]) -> Result<Arc<Manifest>, Rejection> {
        self.require_phase(kind, phases)?;
        self.manifest.clone().ok_or(Rejection::WrongPhase {
            kind,
            phase: self.phase,
        })
    }

    /// The election context, which every phase from registration on has.
    fn context_in(&self, kind: EntryKind) -> Result<&ElectionContext, Rejection> {
        self.ceremony.context().ok_or(Rejection::WrongPhase {
            kind,
            phase: self.phase,
        })
    }

    /// The start of every key-ceremony entry's own rules: every trustee index it names, and the
    /// author as the trustee it claims to be.
    fn ceremony_entry(
        &self,
        entry: &Entry,
        indices: &[u16],
        author: u16,
    ) -> Result<Arc<Manifest>, Rejection> {
        let m = self.require(entry.kind(), &[Phase::KeyCeremony])?;
        for &i in indices {
            self.require_index(entry.kind(), i)?;
        }
        self.require_trustee(entry, author)?;
        Ok(m)
    }

    /// A trustee index must be one of `1..=n` (`unknown-trustee`).
    fn require_index(&self, kind: EntryKind, index: u16) -> Result<(), Rejection> {
        let n = self.manifest.as_ref().map_or(0, |m| m.trustees.len());
        if index == 0 || usize::from(index) > n {
            return Err(Rejection::UnknownTrustee {
                kind,
                index,
                trustees: n,
            });
        }
        Ok(())
    }

    fn require_authority(&self, entry: &Entry) -> Result<(), Rejection> {
        if self
            .manifest
            .as_ref()
            .is_some_and(|m| entry.author() == &m.authority_key)
        {
            return Ok(());
        }
        Err(Rejection::UnauthorisedAuthor {
            kind: entry.kind(),
            expected: "the election authority".into(),
        })
    }

    /// The author must be one of the trustees (before the payload says which).
    fn require_a_trustee(&self, entry: &Entry) -> Result<(), Rejection> {
        if self
            .manifest
            .as_ref()
            .and_then(|m| m.trustee_index(entry.author()))
            .is_some()
        {
            return Ok(());
        }
        Err(Rejection::UnauthorisedAuthor {
            kind: entry.kind(),
            expected: "a trustee".into(),
        })
    }

    /// The author must be trustee `claimed`.
    fn require_trustee(&self, entry: &Entry, claimed: u16) -> Result<(), Rejection> {
        if self
            .manifest
            .as_ref()
            .and_then(|m| m.trustee_index(entry.author()))
            == Some(claimed)
        {
            return Ok(());
        }
        Err(Rejection::UnauthorisedAuthor {
            kind: entry.kind(),
            expected: format!("trustee {claimed}"),
        })
    }

    fn progress(&mut self, p: Progress) {
        match p {
            Progress::Continuing => {}
            Progress::Complete => self.phase = Phase::Registration,
            Progress::Failed => self.phase = Phase::CeremonyFailed,
        }
    }
}

/// Step 7 of §6: the payload decodes strictly for its kind.
fn decode_payload(entry: &Entry) -> Result<Payload, Rejection> {
    if let Some(p) = entry.kept_payload() {
        return Ok(p.clone());
    }
    Payload::decode(entry.kind(), entry.payload()).map_err(|e| Rejection::Malformed {
        reason: e.to_string(),
    })
}

/// [`decode_payload`] of an entry whose signature and proofs are taken as valid: its proofs'
/// points are not decompressed ([`Payload::decode_verified`]), since they are not verified.
fn decode_payload_verified(entry: &Entry) -> Result<Payload, Rejection> {
    if let Some(p) = entry.kept_payload() {
        return Ok(p.clone());
    }
    Payload::decode_verified(entry.kind(), entry.payload()).map_err(|e| Rejection::Malformed {
        reason: e.to_string(),
    })
}

/// `SHA-256("urna-v1 batch-weights" ‖ leaf hashes)`: batch weights that are a hash of the
/// entries they check.
fn batch_seed<'a>(leaves: impl IntoIterator<Item = &'a [u8; 32]>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"urna-v1 batch-weights");
    for leaf in leaves {
        h.update(leaf);
    }
    h.finalize().into()
}
