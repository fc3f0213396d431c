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

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use rayon::prelude::*;
use urna_crypto::batch::verify_all_vartime;
use urna_crypto::errors::VerifyError;

use super::ballot_box::{verify_proofs, Pending};
use super::{batch_seed, decode_payload, decode_payload_verified, Admitted, Election, Phase};
use crate::ballot::Ballot;
use crate::context::ElectionContext;
use crate::entry::{Entry, EntryKind};
use crate::manifest::Manifest;
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
        self.apply_batch_plain(entries, &vec![false; entries.len()])
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
        self.apply_batch_plain(entries, &vec![true; entries.len()])
    }

    /// [`Election::apply_batch`] where `verified[i]` says whether entry `i`'s signature and (for
    /// a ballot) proofs were verified before by [`ProofCheck::verify`] — by a party the caller
    /// trusts as itself (a board process of the same board that attested it,
    /// `specs/storage.md` §5a) — and are taken as valid; the others are verified here. Every
    /// other rule is applied to every entry, in order, as ever. A missing flag is `false`.
    pub fn apply_batch_attested(
        &mut self,
        entries: &[Entry],
        verified: &[bool],
    ) -> Vec<Result<Admitted, Rejection>> {
        let flags: Vec<bool> = (0..entries.len())
            .map(|i| verified.get(i).copied().unwrap_or(false))
            .collect();
        self.apply_batch_plain(entries, &flags)
    }

    /// Applies entries in order from what was checked ahead of the state ([`Prechecked`]: each
    /// entry's leaf hash, and its payload if decoded ahead — decoding depends on nothing else),
    /// `verified[i]` saying entry `i`'s signature and proofs are taken as valid.
    pub(super) fn apply_batch_from(
        &mut self,
        entries: &[Entry],
        pre: Vec<Prechecked>,
        verified: &[bool],
    ) -> Vec<Result<Admitted, Rejection>> {
        let mut pre = self.precheck_all(entries, pre, verified).into_iter();
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
                // Flags missing for an entry (a short `verified`) mean "not verified".
                let flags = verified.get(at..end.min(verified.len())).unwrap_or(&[]);
                self.verify_ahead(&entries[at..end], &mut group, flags);
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
    fn precheck_all(
        &self,
        entries: &[Entry],
        mut pre: Vec<Prechecked>,
        verified: &[bool],
    ) -> Vec<Prechecked> {
        let mut first = HashSet::with_capacity(pre.len());
        let fresh: Vec<bool> = pre
            .iter()
            .zip(entries)
            .map(|(p, e)| !self.is_duplicate(e, &p.leaf) && first.insert(p.leaf))
            .collect();
        pre.par_iter_mut()
            .zip(entries)
            .zip(fresh)
            .zip(verified)
            .for_each(|(((p, e), fresh), &verified)| {
                if fresh {
                    p.signature = Some(verified || e.verify_signature().is_ok());
                    self.decode_if_reached(e, p, verified);
                }
            });
        pre
    }

    /// Decodes the payload if the entry passes every check before its decoding; an entry whose
    /// proofs are taken as valid (`verified`) without decompressing its proofs' points
    /// ([`Payload::decode_verified`]).
    fn decode_if_reached(&self, e: &Entry, p: &mut Prechecked, verified: bool) {
        if p.payload.is_none()
            && p.signature.is_some()
            && self.envelope(e, &p.leaf, p.signature).is_ok()
            && self.gate(e).is_ok()
        {
            p.payload = Some(match verified {
                true => decode_payload_verified(e),
                false => decode_payload(e),
            });
        }
    }

    /// For a run of ballots in the voting phase: picks those that pass every check before their
    /// proofs — each judged as if the candidates before it were admitted — and verifies their
    /// proofs together, recording each verdict for [`Election::apply_prechecked`].
    /// The proofs of those picked whose `verified` flag is set are taken as valid instead (see
    /// [`Election::apply_batch_attested`]).
    fn verify_ahead(&mut self, run: &[Entry], pre: &mut [Prechecked], verified: &[bool]) {
        {
            let this = &*self;
            pre.par_iter_mut()
                .zip(run)
                .enumerate()
                .for_each(|(k, (p, e))| {
                    this.decode_if_reached(e, p, verified.get(k).copied().unwrap_or(false))
                });
        }
        let (Some(m), Some(ctx)) = (&self.manifest, self.ceremony.context()) else {
            return;
        };
        let mut pending = Pending::default();
        let mut leaves = HashSet::new();
        let mut items = Vec::new();
        let mut taken = Vec::new();
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
            if verified.get(k).copied().unwrap_or(false) {
                taken.push(k);
            } else {
                items.push((k, ballot, e));
            }
        }
        let mut verdicts: Vec<(usize, Result<(), Rejection>)> = Vec::new();
        if !items.is_empty() {
            let seed = batch_seed(items.iter().map(|(k, _, _)| &pre[*k].leaf));
            let failed: HashSet<usize> =
                match verify_all_vartime(&items, seed, |(_, b, e), batch| {
                    b.queue(m, e.author(), ctx, batch)
                        .map_err(|_| VerifyError::BatchFailed)
                }) {
                    Ok(()) => HashSet::new(),
                    Err(f) => f.failures.into_iter().map(|(i, _)| i).collect(),
                };
            // A failing ballot is verified again on its own, as `apply` would, for the same
            // reason.
            verdicts = items
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
        }
        self.proofs_verified += verdicts.len() as u64;
        verdicts.extend(taken.into_iter().map(|k| (k, Ok(()))));
        for (k, v) in verdicts {
            if let Some(p) = pre.get_mut(k) {
                p.proofs = Some(v);
            }
        }
    }
}

/// What verifying submissions' signatures and ballot proofs ahead of the rules needs: the
/// manifest and the election context, fixed once the key ceremony is over. A board process
/// that does not sequence holds one (from its copy of the log) and verifies what it forwards
/// (`specs/storage.md` §5a); the sequencer then applies those entries with
/// [`Election::apply_batch_attested`].
#[derive(Clone)]
pub struct ProofCheck {
    manifest: Arc<Manifest>,
    ctx: ElectionContext,
}

/// A ballot whose proofs [`ProofCheck::verify`] is to verify, with its leaf hash.
type ToVerify<'a> = Option<(Cow<'a, Ballot>, [u8; 32])>;

/// One submission as [`ProofCheck::verify`] judged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preverified {
    /// Its signature verifies and, if it is a ballot, its proofs do: the sequencer may take
    /// both as valid.
    Verified,
    /// Its signature verifies, but it is a ballot and no election context is known yet (the
    /// key ceremony is not over): the sequencer verifies it in full.
    Unverified,
    /// Refused whatever the state: its signature or a proof does not verify.
    Refused(Rejection),
}

impl Election {
    /// The manifest and context ballots' proofs are checked against, once both are known.
    pub fn proof_check(&self) -> Option<ProofCheck> {
        Some(ProofCheck {
            manifest: Arc::clone(self.manifest.as_ref()?),
            ctx: self.ceremony.context()?.clone(),
        })
    }
}

/// An entry checked ahead of the rules by [`ProofCheck::prepare`]: what does not depend on
/// the election's state. Applied with [`Election::apply_batch_checked`].
pub struct Checked {
    leaf: [u8; 32],
    payload: Option<Result<Payload, Rejection>>,
    /// Its signature and, for a ballot, its proofs verify.
    verified: bool,
}

impl ProofCheck {
    /// [`ProofCheck::verify`] for a party that then applies the entries itself (a follower
    /// streaming a log, which prepares the next chunk while the rules replay this one): with
    /// each entry's leaf hash (`leaves`, computed by the caller) and, when `verify`, its
    /// signature verified, every payload decoded and the ballots' proofs verified in one batch
    /// on all cores, so that the rules decode and hash nothing again. A failure here decides
    /// nothing: the rules verify that entry again and word its refusal.
    pub fn prepare(
        check: Option<&ProofCheck>,
        entries: &[Entry],
        leaves: &[[u8; 32]],
        verify: bool,
    ) -> Vec<Checked> {
        let mut out: Vec<Checked> = entries
            .par_iter()
            .enumerate()
            .map(|(i, e)| {
                let leaf = leaves.get(i).copied().unwrap_or_else(|| e.leaf_hash());
                if !verify {
                    return Checked {
                        leaf,
                        payload: None,
                        verified: false,
                    };
                }
                let signed = e.verify_signature().is_ok();
                Checked {
                    leaf,
                    payload: signed.then(|| decode_payload(e)),
                    verified: signed && !is_ballot(e),
                }
            })
            .collect();
        let Some(c) = check else {
            return out;
        };
        let ballots: Vec<(usize, &Ballot, &Entry)> = out
            .iter()
            .zip(entries)
            .enumerate()
            .filter(|(_, (_, e))| is_ballot(e) && e.election_id() == c.manifest.election_id)
            .filter_map(|(i, (p, e))| match &p.payload {
                Some(Ok(Payload::Ballot(b))) => Some((i, &**b, e)),
                Some(Ok(Payload::ChallengedBallot(x))) => Some((i, &x.ballot, e)),
                _ => None,
            })
            .collect();
        if ballots.is_empty() {
            return out;
        }
        let seed = batch_seed(ballots.iter().map(|(i, _, _)| &out[*i].leaf));
        let passed: Vec<usize> = match verify_all_vartime(&ballots, seed, |(_, b, e), batch| {
            b.queue(&c.manifest, e.author(), &c.ctx, batch)
                .map_err(|_| VerifyError::BatchFailed)
        }) {
            Ok(()) => ballots.iter().map(|(i, _, _)| *i).collect(),
            // Those that failed are left to the rules, which narrow them down as ever.
            Err(f) => {
                let failed: HashSet<usize> = f.failures.into_iter().map(|(k, _)| k).collect();
                ballots
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| !failed.contains(k))
                    .map(|(_, (i, _, _))| *i)
                    .collect()
            }
        };
        for i in passed {
            out[i].verified = true;
        }
        out
    }
}

impl Election {
    /// [`Election::apply_batch_reading`] of entries [`ProofCheck::prepare`]d ahead (one
    /// [`Checked`] each, in order): the leaf hashes and payloads taken from there, and the
    /// signatures and proofs it verified taken as valid; every other rule applied to every
    /// entry, in order, as ever — the verdicts and the state are those of
    /// [`Election::apply_batch_reading`]. Only for what this party verified itself.
    pub fn apply_batch_checked(
        &mut self,
        entries: &[Entry],
        checked: Vec<Checked>,
        back: &dyn super::LookBack,
    ) -> Result<Vec<Result<Admitted, Rejection>>, super::LookBackError> {
        let mut verified = Vec::with_capacity(entries.len());
        let mut pre: Vec<Prechecked> = Vec::with_capacity(entries.len());
        let mut checked = checked.into_iter();
        for e in entries {
            match checked.next() {
                Some(c) => {
                    verified.push(c.verified);
                    pre.push(Prechecked {
                        leaf: c.leaf,
                        payload: c.payload,
                        signature: None,
                        proofs: None,
                    });
                }
                None => {
                    verified.push(false);
                    pre.push(Prechecked::new(e));
                }
            }
        }
        self.apply_batch_reading_from(entries, pre, &verified, back)
    }
}

impl ProofCheck {
    /// Verifies every entry's signature, and every ballot's (or challenged ballot's) proofs,
    /// in one random-weighted batch on all cores; a batch that fails is narrowed down by
    /// verifying its ballots one by one, as [`Election::apply_batch`] does. Nothing here
    /// depends on the order of the log: the rules that do are the sequencer's. `check` is
    /// `None` before the key ceremony is over (ballots are then [`Preverified::Unverified`]).
    pub fn verify(check: Option<&ProofCheck>, entries: &[Entry]) -> Vec<Preverified> {
        Self::verify_all(check, entries)
    }

    /// [`ProofCheck::verify`], first decoding the ballots' payloads on all cores and keeping
    /// them with their entries ([`Entry::keep_payload`]), so that the rules applying those
    /// entries next do not decode them again.
    pub fn verify_keeping(check: Option<&ProofCheck>, entries: &mut [Entry]) -> Vec<Preverified> {
        if check.is_some() {
            entries
                .par_iter_mut()
                .filter(|e| is_ballot(e))
                .for_each(|e| {
                    e.keep_payload();
                });
        }
        Self::verify_all(check, entries)
    }

    fn verify_all(check: Option<&ProofCheck>, entries: &[Entry]) -> Vec<Preverified> {
        let judged: Vec<(Preverified, ToVerify<'_>)> =
            entries.par_iter().map(|e| Self::judge(check, e)).collect();
        let mut out = Vec::with_capacity(entries.len());
        let mut ballots: Vec<(usize, Cow<'_, Ballot>, &Entry)> = Vec::new();
        let mut leaves: Vec<[u8; 32]> = Vec::new();
        for (i, ((verdict, ballot), e)) in judged.into_iter().zip(entries).enumerate() {
            out.push(verdict);
            if let Some((b, leaf)) = ballot {
                ballots.push((i, b, e));
                leaves.push(leaf);
            }
        }
        let Some(c) = check.filter(|_| !ballots.is_empty()) else {
            return out;
        };
        let failed: HashSet<usize> =
            match verify_all_vartime(&ballots, batch_seed(&leaves), |(_, b, e), batch| {
                b.queue(&c.manifest, e.author(), &c.ctx, batch)
                    .map_err(|_| VerifyError::BatchFailed)
            }) {
                Ok(()) => HashSet::new(),
                Err(f) => f.failures.into_iter().map(|(i, _)| i).collect(),
            };
        for (k, (i, b, e)) in ballots.iter().enumerate() {
            if failed.contains(&k) {
                let alone =
                    verify_proofs(&c.manifest, &c.ctx, e.author(), b, batch_seed([&leaves[k]]));
                out[*i] = Preverified::Refused(alone.err().unwrap_or(Rejection::InvalidBallot {
                    reason: "a proof does not verify".into(),
                }));
            }
        }
        out
    }

    /// One entry's verdict before its proofs, and — for a ballot whose proofs are to be
    /// verified — the ballot (borrowed from the payload the entry kept, if it did, so that
    /// nothing is decoded or copied twice) and its leaf hash, for the batch's weights.
    fn judge<'a>(check: Option<&ProofCheck>, e: &'a Entry) -> (Preverified, ToVerify<'a>) {
        if e.verify_signature().is_err() {
            return (Preverified::Refused(Rejection::BadSignature), None);
        }
        if !is_ballot(e) {
            return (Preverified::Verified, None);
        }
        let Some(c) = check else {
            return (Preverified::Unverified, None);
        };
        let ballot = match e.kept_payload() {
            Some(Payload::Ballot(b)) => Cow::Borrowed(&**b),
            Some(Payload::ChallengedBallot(x)) => Cow::Borrowed(&x.ballot),
            Some(_) => return (Preverified::Verified, None),
            None => match decode_payload(e) {
                Ok(Payload::Ballot(b)) => Cow::Owned(*b),
                Ok(Payload::ChallengedBallot(x)) => Cow::Owned(x.ballot),
                Ok(_) => return (Preverified::Verified, None),
                Err(r) => return (Preverified::Refused(r), None),
            },
        };
        if e.election_id() != c.manifest.election_id {
            // The rules refuse it before its proofs (`wrong-election`).
            return (Preverified::Unverified, None);
        }
        (Preverified::Verified, Some((ballot, e.leaf_hash())))
    }
}
