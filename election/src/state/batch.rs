//! Applying many entries at once with exactly the verdicts of applying them one by one.
//!
//! What does not depend on the state is done for the whole batch on all cores: leaf hashes, the
//! signatures and the payload decodings the verdicts will need. Ballots are where the cost is, so
//! a run of consecutive ballots in the voting phase has its proofs verified together, in one
//! random-weighted batch across all cores — but only the ballots that pass every cheaper check
//! (§6.5 1–6) against the state they will be judged in. That state depends on which earlier
//! ballots of the run are admitted, which depends on their proofs; so the run is first judged
//! as if every earlier candidate were admitted ([`Pending`]). If one then fails its proofs, a
//! later ballot can reach its proofs after all (say, the revote that its failure makes a first
//! ballot): it is verified alone when its turn comes. Either way each entry's verdict is computed
//! by [`Election::apply_prechecked`] in log order, so it is the one-by-one verdict.

use std::collections::HashSet;

use rayon::prelude::*;
use urna_crypto::batch::verify_all_vartime;
use urna_crypto::errors::VerifyError;

use super::ballot_box::{verify_proofs, Pending};
use super::{batch_seed, decode_payload, Admitted, Election, Phase};
use crate::entry::{Entry, EntryKind};
use crate::payload::Payload;
use crate::rejection::Rejection;

/// Entries a log is replayed in at once (`Election::replay`, and the ledger's replica): one
/// batch of ballot proofs verified together on all cores, small enough to hold decoded.
pub const REPLAY_BATCH: usize = 1024;

/// The state-independent part of judging an entry, as far as it is done ahead.
pub(super) struct Prechecked {
    pub(super) leaf: [u8; 32],
    /// The decoded payload, if decoded ahead (`None`: decoded when the rules reach it).
    pub(super) payload: Option<Result<Payload, Rejection>>,
    /// The signature's verdict, if already computed (`None`: computed when it decides).
    pub(super) signature: Option<bool>,
    /// A ballot's proofs' verdict, if verified ahead with its batch.
    pub(super) proofs: Option<Result<(), Rejection>>,
}

impl Prechecked {
    pub(super) fn new(entry: &Entry) -> Prechecked {
        Prechecked {
            leaf: entry.leaf_hash(),
            payload: None,
            signature: None,
            proofs: None,
        }
    }
}

fn is_ballot(e: &Entry) -> bool {
    matches!(e.kind(), EntryKind::Ballot | EntryKind::ChallengedBallot)
}

impl Election {
    /// Applies entries in order. Each result is what [`Election::apply`] would have returned
    /// for that entry at that position; the work is shared across the batch and all cores.
    pub fn apply_batch(&mut self, entries: &[Entry]) -> Vec<Result<Admitted, Rejection>> {
        self.apply_batch_plain(entries, false)
    }

    /// [`Election::apply_batch`] for entries whose signatures and ballot proofs this party has
    /// verified before, under the rules: every other rule is applied as ever, in the same
    /// order, but an entry's signature and a ballot's proofs are taken as valid. Only for a log
    /// prefix the party itself admitted and made durable, whose bytes a root it signed then
    /// still covers (a board restarting from its own log: `specs/board.md`); never for entries
    /// received from anyone else. The state is the one [`Election::apply_batch`] reaches on
    /// the same entries when they are valid — which is what verifying them before established.
    /// (The few other proofs — the key ceremony's, decryption shares', mixes' — are still
    /// checked: they are a handful of entries.)
    pub fn apply_batch_verified(&mut self, entries: &[Entry]) -> Vec<Result<Admitted, Rejection>> {
        self.apply_batch_plain(entries, true)
    }

    pub(super) fn apply_batch_with(
        &mut self,
        entries: &[Entry],
        verified: bool,
    ) -> Vec<Result<Admitted, Rejection>> {
        let mut pre = self.precheck_all(entries, verified).into_iter();
        let mut out = Vec::with_capacity(entries.len());
        let mut at = 0;
        while at < entries.len() {
            let run = if self.phase == Phase::Voting {
                entries[at..].iter().take_while(|e| is_ballot(e)).count()
            } else {
                0
            };
            let mut group: Vec<Prechecked> = pre.by_ref().take(run.max(1)).collect();
            let end = at + group.len();
            if run > 0 {
                self.verify_ahead(&entries[at..end], &mut group, verified);
            }
            for (e, p) in entries[at..end].iter().zip(group) {
                out.push(self.apply_prechecked(e, p));
            }
            at = end;
        }
        out
    }

    /// On all cores: hashes every entry; verifies the signature of every entry that is new to
    /// the ledger and the first of its bytes in the batch; and decodes the payload of those that
    /// would get that far (§6 steps 2–6) in the state the batch starts from. An entry the batch
    /// itself lets through (a ballot after an `OpenVoting` of the same batch, say) is decoded
    /// when its turn comes.
    fn precheck_all(&self, entries: &[Entry], verified: bool) -> Vec<Prechecked> {
        let mut pre: Vec<Prechecked> = entries.par_iter().map(Prechecked::new).collect();
        let mut first = HashSet::with_capacity(pre.len());
        let fresh: Vec<bool> = pre
            .iter()
            .zip(entries)
            .map(|(p, e)| !self.is_duplicate(e, &p.leaf) && first.insert(p.leaf))
            .collect();
        pre.par_iter_mut()
            .zip(entries)
            .zip(fresh)
            .for_each(|((p, e), fresh)| {
                if fresh {
                    p.signature = Some(verified || e.verify_signature().is_ok());
                    self.decode_if_reached(e, p);
                }
            });
        pre
    }

    /// Decodes the payload if the entry passes every check before its decoding.
    fn decode_if_reached(&self, e: &Entry, p: &mut Prechecked) {
        if p.payload.is_none()
            && p.signature.is_some()
            && self.envelope(e, &p.leaf, p.signature).is_ok()
            && self.gate(e).is_ok()
        {
            p.payload = Some(decode_payload(e));
        }
    }

    /// For a run of ballots in the voting phase: picks those that pass every check before their
    /// proofs — each judged as if the candidates before it were admitted — and verifies their
    /// proofs together, recording each verdict for [`Election::apply_prechecked`].
    /// With `verified`, the proofs picked are taken as valid instead (see
    /// [`Election::apply_batch_verified`]).
    fn verify_ahead(&mut self, run: &[Entry], pre: &mut [Prechecked], verified: bool) {
        {
            let this = &*self;
            pre.par_iter_mut()
                .zip(run)
                .for_each(|(p, e)| this.decode_if_reached(e, p));
        }
        let (Some(m), Some(ctx)) = (&self.manifest, self.ceremony.context()) else {
            return;
        };
        let mut pending = Pending::default();
        let mut leaves = HashSet::new();
        let mut items = Vec::new();
        for (k, (e, p)) in run.iter().zip(pre.iter()).enumerate() {
            let ballot = match &p.payload {
                Some(Ok(Payload::Ballot(b))) => &**b,
                Some(Ok(Payload::ChallengedBallot(c))) => &c.ballot,
                _ => continue,
            };
            // A later copy of an entry is judged a duplicate if its first copy is admitted.
            if !leaves.insert(p.leaf)
                || p.signature.is_none()
                || self.envelope(e, &p.leaf, p.signature).is_err()
            {
                continue;
            }
            if self
                .ballot_box
                .precheck(m, &self.roll, e.kind(), e.author(), ballot, &pending)
                .is_err()
            {
                continue;
            }
            pending.admit(e.kind(), e.author(), ballot);
            items.push((k, ballot, e));
        }
        if items.is_empty() {
            return;
        }
        if verified {
            let picked: Vec<usize> = items.iter().map(|(k, _, _)| *k).collect();
            for k in picked {
                if let Some(p) = pre.get_mut(k) {
                    p.proofs = Some(Ok(()));
                }
            }
            return;
        }
        let seed = batch_seed(items.iter().map(|(k, _, _)| &pre[*k].leaf));
        let failed: HashSet<usize> = match verify_all_vartime(&items, seed, |(_, b, e), batch| {
            b.queue(m, e.author(), ctx, batch)
                .map_err(|_| VerifyError::BatchFailed)
        }) {
            Ok(()) => HashSet::new(),
            Err(f) => f.failures.into_iter().map(|(i, _)| i).collect(),
        };
        // A failing ballot is verified again on its own, as `apply` would, for the same reason.
        let verdicts: Vec<(usize, Result<(), Rejection>)> = items
            .iter()
            .enumerate()
            .map(|(i, (k, b, e))| {
                if failed.contains(&i) {
                    let alone =
                        verify_proofs(m, ctx, e.author(), b, batch_seed([&pre[*k].leaf])).err();
                    (
                        *k,
                        Err(alone.unwrap_or(Rejection::InvalidBallot {
                            reason: "a proof does not verify".into(),
                        })),
                    )
                } else {
                    (*k, Ok(()))
                }
            })
            .collect();
        self.proofs_verified += verdicts.len() as u64;
        for (k, v) in verdicts {
            if let Some(p) = pre.get_mut(k) {
                p.proofs = Some(v);
            }
        }
    }
}
