//! The ballot box (`specs/election.md` §6.5, §7): every admitted ballot and challenged ballot,
//! which ballot of each credential counts, the ciphertexts no later ballot may copy, and the
//! running weighted sums that become the encrypted tally when the polls close.
//!
//! A ballot is judged in two stages. [`BallotBox::precheck`] makes every check that needs no
//! cryptography — eligibility, style, shape, proof kinds, the revote policy, copied
//! ciphertexts — and only a ballot that passes them reaches [`verify_proofs`], which costs about
//! a millisecond. The board therefore refuses a ballot from a key not on the roll, a repeat, or
//! a forbidden revote for the price of a hash-table lookup (issue 16 §1).
//!
//! What it holds per ballot is kept small, because a national election has millions (issue 18):
//! the `α` by their 16-byte prefixes ([`Alphas`]), one record, and the running sums. A revote
//! subtracts the ciphertexts of the ballot it supersedes from the sums; an election replicating
//! a log reads that ballot back from the log when it needs it ([`super::LookBack`]) rather than
//! keeping every counted ballot's ciphertexts ([`BallotBox::held`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;
use urna_crypto::batch::BatchVerifier;
use urna_crypto::elgamal::Ciphertext;
use urna_crypto::group::g;
use urna_crypto::sign::VerifyingKey;
use urna_crypto::{CompressedRistretto, RistrettoPoint, Scalar};

use super::alphas::{prefix, Alphas};
use super::cow::Chunked;
use super::layout::{Layout, Slot};
use super::paged::Shared;
use super::roll::{Roll, Voter, NONE};
use super::{BallotRecord, BallotStatus, CredentialId};
use crate::ballot::Ballot;
use crate::context::ElectionContext;
use crate::entry::{EntryKind, TrackingCode};
use crate::manifest::{Manifest, RevotePolicy};
use crate::rejection::Rejection;

/// A counted ballot's tallied ciphertexts: each one's tally position and encoding `α ‖ β`
/// (64 bytes rather than ~384 decompressed).
pub(super) type Tallied = Vec<(usize, [u8; 64])>;

/// What ballots admitted earlier in the same batch would add, while their proofs are still
/// unverified: the state [`BallotBox::precheck`] judges later ballots of the batch against when
/// it picks which proofs to verify together. Empty outside that.
#[derive(Default)]
pub(super) struct Pending {
    alphas: HashSet<u128>,
    voted: HashSet<[u8; 32]>,
}

impl Pending {
    /// Records a ballot as if admitted.
    pub(super) fn admit(&mut self, kind: EntryKind, author: &VerifyingKey, ballot: &Ballot) {
        self.alphas
            .extend(ballot.ciphertexts().map(|ct| prefix(ct.alpha.as_bytes())));
        if kind == EntryKind::Ballot {
            self.voted.insert(*author.as_bytes());
        }
    }
}

fn encoding(ct: &Ciphertext) -> [u8; 64] {
    let mut enc = [0u8; 64];
    enc[..32].copy_from_slice(ct.alpha.as_bytes());
    enc[32..].copy_from_slice(ct.beta.as_bytes());
    enc
}

/// The ciphertexts of `ballot` that the tally sums, with their positions.
pub(super) fn tallied(layout: &Layout, ballot: &Ballot) -> Tallied {
    ballot_tally(layout, ballot)
        .map(|(pos, ct)| (pos, encoding(ct)))
        .collect()
}

#[derive(Clone)]
pub(super) struct BallotBox {
    pub(super) alphas: Alphas,
    /// Copy-on-write in chunks ([`super::cow`]), as `prev`: a copy of the state shares them.
    pub(super) records: Chunked<BallotRecord>,
    /// For each record, the record of its credential's previous ballot or challenged ballot
    /// ([`NONE`]): the chain a ballot's `duplicate` check walks, from [`Voter::last`].
    pub(super) prev: Chunked<u32>,
    /// The records and `prev` on disk instead ([`super::Election::on_disk`]: a verifier's),
    /// one row each ([`RECORD_ROW`]); `records` and `prev` then stay empty.
    pub(super) disk: Option<Shared>,
    /// Whether every counted ballot's tallied ciphertexts stay in [`BallotBox::held`] (an
    /// election with no log to read them back from), or only those of the batch being applied
    /// and those read back for it.
    pub(super) keep: bool,
    /// Tallied ciphertexts of counted ballots, by record, that a revote may subtract.
    pub(super) held: HashMap<u32, Tallied>,
    /// The encodings of each counted ballot's ranked rows, by ranked contest, by record (so in
    /// log order): they become the lists to mix.
    pub(super) ranked: BTreeMap<u32, Vec<(usize, Vec<u8>)>>,
    /// Per weight class, per tally position: the sum of the counted ballots' ciphertexts.
    pub(super) sums: BTreeMap<u32, Vec<(RistrettoPoint, RistrettoPoint)>>,
    pub(super) ballots: u64,
    pub(super) counted: u64,
    pub(super) superseded: u64,
    pub(super) challenged: u64,
    /// A revote whose superseded ballot's ciphertexts were not at hand (a reading-back
    /// election applied without its log): that entry's index. The sums are then wrong.
    pub(super) unread: Option<u64>,
}

impl BallotBox {
    pub(super) fn new(keep: bool) -> BallotBox {
        BallotBox {
            alphas: Alphas::default(),
            records: Chunked::default(),
            prev: Chunked::default(),
            disk: None,
            keep,
            held: HashMap::new(),
            ranked: BTreeMap::new(),
            sums: BTreeMap::new(),
            ballots: 0,
            counted: 0,
            superseded: 0,
            challenged: 0,
            unread: None,
        }
    }

    pub(super) fn records(&self) -> &Chunked<BallotRecord> {
        &self.records
    }

    /// (ballots, counted, superseded, challenged), as in [`super::Counts`].
    pub(super) fn counts(&self) -> (u64, u64, u64, u64) {
        (self.ballots, self.counted, self.superseded, self.challenged)
    }

    /// Whether `leaf` is the leaf hash of an admitted ballot or challenged ballot of `author`:
    /// an entry with the same leaf hash has the same bytes, so the same kind and author, and
    /// is on that credential's chain.
    pub(super) fn is_duplicate(&self, roll: &Roll, author: &VerifyingKey, leaf: &[u8; 32]) -> bool {
        let mut at = roll.get(author).map_or(NONE, |v| v.last);
        while let Some((r, prev)) = self.record(at) {
            if &r.tracking_code.0 == leaf {
                return true;
            }
            at = prev;
        }
        false
    }

    /// The counted ballot a `Ballot` of `author` would supersede, if its ciphertexts are not
    /// held: (its record, its entry index, its leaf hash).
    pub(super) fn wanted(
        &self,
        roll: &Roll,
        author: &VerifyingKey,
    ) -> Option<(u32, u64, [u8; 32])> {
        let counted = roll.get(author)?.counted;
        if counted == NONE || self.held.contains_key(&counted) {
            return None;
        }
        let (r, _) = self.record(counted)?;
        Some((counted, r.index, r.tracking_code.0))
    }

    /// Holds a counted ballot's ciphertexts, read back for a revote.
    pub(super) fn hold(&mut self, record: u32, t: Tallied) {
        self.held.insert(record, t);
    }

    /// After a batch: a reading-back election lets go of what it held for it.
    pub(super) fn end_batch(&mut self) {
        if !self.keep {
            self.held = HashMap::new();
        }
    }

    /// Every check of §6.5 that needs no cryptography, in its order: the author on the roll,
    /// the credential's style, the ballot's shape and proof kinds, the revote policy (`Ballot`
    /// only), and no ciphertext seen before. `pending` holds the ballots earlier in the batch
    /// being prepared, as if admitted. Returns the author's roll entry.
    pub(super) fn precheck(
        &self,
        m: &Manifest,
        roll: &Roll,
        kind: EntryKind,
        author: &VerifyingKey,
        ballot: &Ballot,
        pending: &Pending,
    ) -> Result<Voter, Rejection> {
        let voter = roll.get(author).ok_or(Rejection::NotEligible)?;
        if ballot.style != voter.style {
            return Err(Rejection::StyleMismatch {
                expected: voter.style,
                got: ballot.style,
            });
        }
        ballot.check_shape(m)?;
        if kind == EntryKind::Ballot
            && m.revote == RevotePolicy::Forbidden
            && (voter.counted != NONE || pending.voted.contains(author.as_bytes()))
        {
            return Err(Rejection::RevoteForbidden);
        }
        let mut own = HashSet::new();
        for ct in ballot.ciphertexts() {
            let a = prefix(ct.alpha.as_bytes());
            if self.alphas.contains(a) || pending.alphas.contains(&a) || !own.insert(a) {
                return Err(Rejection::CopiedBallot);
            }
        }
        Ok(voter)
    }

    /// Admits a `Ballot` that passed every check: it counts, and the credential's earlier
    /// counted ballot (if any) is superseded. Returns that ballot's entry index.
    pub(super) fn cast(
        &mut self,
        layout: &Layout,
        index: u64,
        roll: &mut Roll,
        author: &VerifyingKey,
        ballot: &Ballot,
        leaf: [u8; 32],
    ) -> Option<u64> {
        let mut voter = roll.get(author)?;
        self.burn(ballot);
        let record = self.len() as u32;
        let mut supersedes = None;
        let old = self.record(voter.counted).map(|(r, _)| r.index);
        let sums = self.sums.entry(voter.weight).or_insert_with(|| {
            vec![(RistrettoPoint::default(), RistrettoPoint::default()); layout.len()]
        });
        if let Some(old) = old {
            match self.held.remove(&voter.counted) {
                // Superseded ciphertexts were validated on admission, so they decompress.
                Some(t) => {
                    for (pos, ct) in &t {
                        let point = |b: &[u8]| {
                            CompressedRistretto::from_slice(b)
                                .ok()
                                .and_then(|c| c.decompress())
                        };
                        if let (Some(a), Some(b), Some(sum)) =
                            (point(&ct[..32]), point(&ct[32..]), sums.get_mut(*pos))
                        {
                            sum.0 -= a;
                            sum.1 -= b;
                        }
                    }
                }
                None => self.unread = self.unread.or(Some(old)),
            }
            self.ranked.remove(&voter.counted);
            supersedes = Some(old);
            self.superseded += 1;
        } else {
            self.counted += 1;
        }
        let t = tallied(layout, ballot);
        for (pos, ct) in ballot_tally(layout, ballot) {
            if let Some(sum) = sums.get_mut(pos) {
                sum.0 += ct.alpha.point();
                sum.1 += ct.beta.point();
            }
        }
        self.held.insert(record, t);
        if supersedes.is_some() {
            self.set_status(voter.counted, BallotStatus::Superseded { by: index });
        }
        let mut ranked = Vec::new();
        for (slot, cb) in layout
            .style_slots(ballot.style)
            .iter()
            .zip(&ballot.contests)
        {
            if let Slot::Ranked(k) = *slot {
                ranked.push((k, cb.selections.iter().flat_map(encoding).collect()));
            }
        }
        if !ranked.is_empty() {
            self.ranked.insert(record, ranked);
        }
        voter.counted = record;
        self.push(&mut voter, index, author, leaf, BallotStatus::Counted);
        roll.set(author.as_bytes(), voter);
        self.ballots += 1;
        supersedes
    }

    /// Admits a `ChallengedBallot` whose opening matched: never counted, and its ciphertexts
    /// can never be cast.
    pub(super) fn challenge(
        &mut self,
        index: u64,
        roll: &mut Roll,
        author: &VerifyingKey,
        ballot: &Ballot,
        leaf: [u8; 32],
    ) {
        let Some(mut voter) = roll.get(author) else {
            return;
        };
        self.burn(ballot);
        self.push(&mut voter, index, author, leaf, BallotStatus::Challenged);
        roll.set(author.as_bytes(), voter);
        self.challenged += 1;
    }

    fn push(
        &mut self,
        voter: &mut Voter,
        index: u64,
        author: &VerifyingKey,
        leaf: [u8; 32],
        status: BallotStatus,
    ) {
        let prev = voter.last;
        voter.last = self.len() as u32;
        let r = BallotRecord {
            index,
            credential: CredentialId(*author.as_bytes()),
            tracking_code: TrackingCode(leaf),
            status,
        };
        match &self.disk {
            Some(d) => {
                d.push(&encode_record(&r, prev));
            }
            None => {
                self.prev.push(prev);
                self.records.push(r);
            }
        }
    }

    /// Records admitted.
    pub(super) fn len(&self) -> usize {
        match &self.disk {
            Some(d) => d.len() as usize,
            None => self.records.len(),
        }
    }

    /// Record `i` and the record of its credential's ballot before it ([`NONE`]), if there is
    /// one (`i` may be [`NONE`]). On disk, a row that cannot be read is none (the election
    /// then has no verdict: [`super::Election::disk_failure`]).
    pub(super) fn record(&self, i: u32) -> Option<(BallotRecord, u32)> {
        if i == NONE {
            return None;
        }
        match &self.disk {
            Some(d) => {
                if u64::from(i) >= d.len() {
                    return None;
                }
                let mut row = [0u8; RECORD_ROW];
                d.read(u64::from(i), &mut row)
                    .then(|| decode_record(&row))?
            }
            None => Some((
                self.records.get(i as usize)?.clone(),
                self.prev.get(i as usize).copied().unwrap_or(NONE),
            )),
        }
    }

    fn set_status(&mut self, i: u32, status: BallotStatus) {
        match &self.disk {
            Some(d) => {
                if let Some((mut r, prev)) = self.record(i) {
                    r.status = status;
                    d.write(u64::from(i), &encode_record(&r, prev));
                }
            }
            None => {
                if let Some(r) = self.records.get_mut(i as usize) {
                    r.status = status;
                }
            }
        }
    }

    /// Every record in log order, wherever they are kept.
    pub(super) fn for_each_record(&self, mut f: impl FnMut(BallotRecord)) {
        for i in 0..self.len() as u32 {
            if let Some((r, _)) = self.record(i) {
                f(r);
            }
        }
    }

    /// The status of the record of entry `index`, if it is a ballot or challenged ballot the
    /// box admitted: the records are in log order, so a binary search.
    pub(super) fn status_of(&self, index: u64) -> Option<BallotStatus> {
        let (mut lo, mut hi) = (0u32, self.len() as u32);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (r, _) = self.record(mid)?;
            match r.index.cmp(&index) {
                std::cmp::Ordering::Equal => return Some(r.status),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }

    fn burn(&mut self, ballot: &Ballot) {
        for ct in ballot.ciphertexts() {
            self.alphas.insert(prefix(ct.alpha.as_bytes()));
        }
    }

    /// The encrypted tally: `(G, K) + Σ_w w·Σ(counted ballots of weight w)` per position. The
    /// public encryption of zero `(G, K)` keeps every component non-identity, so each
    /// decryption-share proof has a valid statement even for an option nobody chose.
    pub(super) fn tally(&self, layout: &Layout, ctx: &ElectionContext) -> Vec<Ciphertext> {
        let k = *ctx.joint_key.point().point();
        let weights: Vec<(Scalar, &Vec<(RistrettoPoint, RistrettoPoint)>)> = self
            .sums
            .iter()
            .map(|(w, v)| (Scalar::from(u64::from(*w)), v))
            .collect();
        (0..layout.len())
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
            .collect()
    }

    /// The input lists of the mixes (§6.7): for each ranked contest, in manifest order, the
    /// rows of the counted ballots that have it, in log order, each `w` ciphertexts of 64 bytes.
    pub(super) fn ranked_lists(&self, ranked: usize) -> Vec<Vec<u8>> {
        let mut lists = vec![Vec::new(); ranked];
        for rows in self.ranked.values() {
            for (k, row) in rows {
                if let Some(list) = lists.get_mut(*k) {
                    list.extend_from_slice(row);
                }
            }
        }
        lists
    }

    /// The bytes its `α` prefixes and records take once many (see
    /// [`super::Election::size_estimate`]).
    pub(super) fn size_estimate(&self) -> u64 {
        // On disk, the records are the table's cache: a constant.
        let records = self.records.len() * (std::mem::size_of::<BallotRecord>() + 4);
        self.alphas.size_estimate() + records as u64
    }
}

/// A ballot record's row on disk: its entry index (8 bytes, little-endian), credential (32),
/// tracking code (32), status (1: 0 counted, 1 superseded, 2 challenged), the superseding
/// entry's index (8), and the record of its credential's ballot before it (4).
pub(super) const RECORD_ROW: usize = 85;

fn encode_record(r: &BallotRecord, prev: u32) -> [u8; RECORD_ROW] {
    let mut row = [0u8; RECORD_ROW];
    row[..8].copy_from_slice(&r.index.to_le_bytes());
    row[8..40].copy_from_slice(&r.credential.0);
    row[40..72].copy_from_slice(&r.tracking_code.0);
    let (tag, by) = match r.status {
        BallotStatus::Counted => (0, 0),
        BallotStatus::Superseded { by } => (1, by),
        BallotStatus::Challenged => (2, 0),
    };
    row[72] = tag;
    row[73..81].copy_from_slice(&by.to_le_bytes());
    row[81..].copy_from_slice(&prev.to_le_bytes());
    row
}

fn decode_record(row: &[u8; RECORD_ROW]) -> Option<(BallotRecord, u32)> {
    let u64_at = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(row.get(at..at + 8)?.try_into().ok()?))
    };
    let mut credential = [0u8; 32];
    credential.copy_from_slice(row.get(8..40)?);
    let mut code = [0u8; 32];
    code.copy_from_slice(row.get(40..72)?);
    let status = match row[72] {
        0 => BallotStatus::Counted,
        1 => BallotStatus::Superseded { by: u64_at(73)? },
        2 => BallotStatus::Challenged,
        // Only what this process wrote is read: a zeroed row is a page never written.
        _ => return None,
    };
    let prev = u32::from_le_bytes(row.get(81..85)?.try_into().ok()?);
    Some((
        BallotRecord {
            index: u64_at(0)?,
            credential: CredentialId(credential),
            tracking_code: TrackingCode(code),
            status,
        },
        prev,
    ))
}

/// The ciphertexts of `ballot` the tally sums, decoded, with their positions.
fn ballot_tally<'a>(
    layout: &'a Layout,
    ballot: &'a Ballot,
) -> impl Iterator<Item = (usize, &'a Ciphertext)> + 'a {
    layout
        .style_slots(ballot.style)
        .iter()
        .zip(&ballot.contests)
        .flat_map(|(slot, cb)| {
            let first = match *slot {
                Slot::Tally { first, .. } => Some(first),
                Slot::Ranked(_) => None,
            };
            first.into_iter().flat_map(move |f| {
                cb.selections
                    .iter()
                    .enumerate()
                    .map(move |(o, ct)| (f + o, ct))
            })
        })
}

/// Verifies a ballot's proofs on their own (a batch of one, weighted by a hash of the entry).
pub(super) fn verify_proofs(
    m: &Manifest,
    ctx: &ElectionContext,
    author: &VerifyingKey,
    ballot: &Ballot,
    seed: [u8; 32],
) -> Result<(), Rejection> {
    let mut batch = BatchVerifier::from_seed(seed);
    ballot.queue(m, author, ctx, &mut batch)?;
    batch
        .verify_vartime()
        .map_err(|e| Rejection::InvalidBallot {
            reason: format!("proof invalid: {e}"),
        })
}
