//! The ballot box (`specs/election.md` §6.5, §7): every admitted ballot and challenged ballot,
//! which ballot of each credential counts, the ciphertexts no later ballot may copy, and the
//! running weighted sums that become the encrypted tally when the polls close.
//!
//! A ballot is judged in two stages. [`BallotBox::precheck`] makes every check that needs no
//! cryptography — eligibility, style, shape, proof kinds, the revote policy, copied
//! ciphertexts — and only a ballot that passes them reaches [`verify_proofs`], which costs about
//! a millisecond. The board therefore refuses a ballot from a key not on the roll, a repeat, or
//! a forbidden revote for the price of a hash-table lookup (issue 16 §1).

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;
use urna_crypto::batch::BatchVerifier;
use urna_crypto::elgamal::Ciphertext;
use urna_crypto::group::g;
use urna_crypto::sign::VerifyingKey;
use urna_crypto::{CompressedRistretto, RistrettoPoint, Scalar};

use super::layout::{Layout, Slot};
use super::roll::{Roll, Voter};
use super::{BallotRecord, BallotStatus};
use crate::ballot::Ballot;
use crate::context::ElectionContext;
use crate::entry::{EntryKind, TrackingCode};
use crate::manifest::{Manifest, RevotePolicy};
use crate::rejection::Rejection;

/// What ballots admitted earlier in the same batch would add, while their proofs are still
/// unverified: the state [`BallotBox::precheck`] judges later ballots of the batch against when
/// it picks which proofs to verify together. Empty outside that.
#[derive(Default)]
pub(super) struct Pending {
    alphas: HashSet<[u8; 32]>,
    voted: HashSet<[u8; 32]>,
}

impl Pending {
    /// Records a ballot as if admitted.
    pub(super) fn admit(&mut self, kind: EntryKind, author: &VerifyingKey, ballot: &Ballot) {
        self.alphas
            .extend(ballot.ciphertexts().map(|ct| *ct.alpha.as_bytes()));
        if kind == EntryKind::Ballot {
            self.voted.insert(*author.as_bytes());
        }
    }
}

/// The counted ballot of a credential: its record; its tallied ciphertexts' encodings `α ‖ β`
/// with their tally positions (64 bytes each rather than ~384 decompressed: one is held per
/// voter until the polls close), kept so that a revote can subtract them from the running sums;
/// and the encodings of its ranked rows, by ranked contest, which become the lists to mix.
#[derive(Clone)]
pub(super) struct Counted {
    pub(super) record: usize,
    pub(super) tallied: Vec<(usize, [u8; 64])>,
    pub(super) ranked: Vec<(usize, Vec<u8>)>,
}

fn encoding(ct: &Ciphertext) -> [u8; 64] {
    let mut enc = [0u8; 64];
    enc[..32].copy_from_slice(ct.alpha.as_bytes());
    enc[32..].copy_from_slice(ct.beta.as_bytes());
    enc
}

#[derive(Clone, Default)]
pub(super) struct BallotBox {
    /// `α` of every ciphertext of every admitted ballot and challenged ballot.
    pub(super) seen_alphas: HashSet<[u8; 32]>,
    pub(super) records: Vec<BallotRecord>,
    pub(super) counted: HashMap<[u8; 32], Counted>,
    /// Per weight class, per tally position: the sum of the counted ballots' ciphertexts.
    pub(super) sums: BTreeMap<u32, Vec<(RistrettoPoint, RistrettoPoint)>>,
    pub(super) ballots: u64,
    pub(super) superseded: u64,
    pub(super) challenged: u64,
}

impl BallotBox {
    pub(super) fn records(&self) -> &[BallotRecord] {
        &self.records
    }

    /// (ballots, counted, superseded, challenged), as in [`super::Counts`].
    pub(super) fn counts(&self) -> (u64, u64, u64, u64) {
        (
            self.ballots,
            self.counted.len() as u64,
            self.superseded,
            self.challenged,
        )
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
        let key = author.as_bytes();
        if kind == EntryKind::Ballot
            && m.revote == RevotePolicy::Forbidden
            && (self.counted.contains_key(key) || pending.voted.contains(key))
        {
            return Err(Rejection::RevoteForbidden);
        }
        let mut own = HashSet::new();
        for ct in ballot.ciphertexts() {
            let a = ct.alpha.as_bytes();
            if self.seen_alphas.contains(a) || pending.alphas.contains(a) || !own.insert(*a) {
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
        author: &VerifyingKey,
        voter: Voter,
        ballot: &Ballot,
        leaf: [u8; 32],
    ) -> Option<u64> {
        self.burn(ballot);
        let sums = self.sums.entry(voter.weight).or_insert_with(|| {
            vec![(RistrettoPoint::default(), RistrettoPoint::default()); layout.len()]
        });
        let mut supersedes = None;
        if let Some(old) = self.counted.remove(author.as_bytes()) {
            // Superseded ciphertexts were validated on admission, so they decompress.
            for (pos, ct) in &old.tallied {
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
            if let Some(r) = self.records.get_mut(old.record) {
                r.status = BallotStatus::Superseded { by: index };
                supersedes = Some(r.index);
            }
            self.superseded += 1;
        }
        let mut tallied = Vec::new();
        let mut ranked = Vec::new();
        for (slot, cb) in layout
            .style_slots(ballot.style)
            .iter()
            .zip(&ballot.contests)
        {
            match *slot {
                Slot::Tally { first, .. } => {
                    for (o, ct) in cb.selections.iter().enumerate() {
                        if let Some(sum) = sums.get_mut(first + o) {
                            sum.0 += ct.alpha.point();
                            sum.1 += ct.beta.point();
                        }
                        tallied.push((first + o, encoding(ct)));
                    }
                }
                Slot::Ranked(k) => {
                    let row = cb.selections.iter().flat_map(encoding).collect();
                    ranked.push((k, row));
                }
            }
        }
        self.counted.insert(
            *author.as_bytes(),
            Counted {
                record: self.records.len(),
                tallied,
                ranked,
            },
        );
        self.records.push(BallotRecord {
            index,
            credential: *author,
            tracking_code: TrackingCode(leaf),
            status: BallotStatus::Counted,
        });
        self.ballots += 1;
        supersedes
    }

    /// Admits a `ChallengedBallot` whose opening matched: never counted, and its ciphertexts
    /// can never be cast.
    pub(super) fn challenge(
        &mut self,
        index: u64,
        author: &VerifyingKey,
        ballot: &Ballot,
        leaf: [u8; 32],
    ) {
        self.burn(ballot);
        self.records.push(BallotRecord {
            index,
            credential: *author,
            tracking_code: TrackingCode(leaf),
            status: BallotStatus::Challenged,
        });
        self.challenged += 1;
    }

    fn burn(&mut self, ballot: &Ballot) {
        self.seen_alphas
            .extend(ballot.ciphertexts().map(|ct| *ct.alpha.as_bytes()));
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
}

impl BallotBox {
    /// The input lists of the mixes (§6.7): for each ranked contest, in manifest order, the
    /// rows of the counted ballots that have it, in log order, each `w` ciphertexts of 64 bytes.
    pub(super) fn ranked_lists(&self, ranked: usize) -> Vec<Vec<u8>> {
        let mut counted: Vec<&Counted> = self.counted.values().collect();
        counted.sort_by_key(|c| self.records.get(c.record).map_or(u64::MAX, |r| r.index));
        let mut lists = vec![Vec::new(); ranked];
        for c in counted {
            for (k, row) in &c.ranked {
                if let Some(list) = lists.get_mut(*k) {
                    list.extend_from_slice(row);
                }
            }
        }
        lists
    }
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
