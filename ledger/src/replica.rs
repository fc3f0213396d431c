//! The replica: the one verified copy of a log that every party holds — the board, each
//! client, the verifier — and the one place a log is hashed, checked against a signed
//! checkpoint, decoded and replayed through the election rules.
//!
//! A replica holds the Merkle tree of every entry its [`LogStore`] holds and the rules' state
//! after the first [`Replica::replayed`] of them. Opening a log is two steps, kept apart so that
//! what is cheap and decisive comes first: [`Replica::load`] hashes every stored entry into the
//! tree, against which signed checkpoints are then [`check`](Replica::check)ed; and
//! [`Replica::replay`] decodes the entries and feeds them to the state machine, in chunks of
//! [`REPLAY_BATCH`] (one batch of proofs verified together on all cores), reading each chunk
//! from the store and dropping it once applied. [`Replica::open`] does both.
//!
//! Entries then arrive two ways, through the same code:
//! - a **sequencer** (the board) [`admit`](Replica::admit)s candidates: the rules decide each,
//!   and only the admitted are appended to the store, durably, before the tree grows;
//! - a **follower** (a client, the verifier, a node following a board)
//!   [`stage`](Replica::stage)s entries that a signed checkpoint covers — hashed and checked
//!   against it before the store takes them — and replays them; an entry the rules refuse
//!   there is the source's fault, and the replica is spent.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use rayon::prelude::*;
use thiserror::Error;
use urna_election::entry::{Entry, EntryKind, EnvelopeError};
use urna_election::rejection::Rejection;
use urna_election::state::{Checked, Election, LookBack, LookBackError, ProofCheck, REPLAY_BATCH};

use crate::merkle::{leaf_hash, Hash, Tree};
use crate::note::Checkpoint;
use crate::store::{LogStore, StoreError, StreamLog};

/// Why a log cannot be (or stay) replicated, and where.
#[derive(Debug, Error)]
pub enum ReplicaError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The checkpoint covers more entries than the log holds.
    #[error("the checkpoint covers {size} entries, but the log holds only {held}")]
    Short { size: u64, held: u64 },
    /// The log's first `size` entries do not hash to the checkpoint's root.
    #[error("the log's first {size} entries do not hash to the checkpoint's root")]
    RootMismatch { size: u64 },
    #[error("entry {index} is not an entry: {error}")]
    Malformed { index: u64, error: EnvelopeError },
    #[error("entry {index} ({kind}) is not admissible: {rejection}")]
    Refused {
        index: u64,
        kind: EntryKind,
        rejection: Rejection,
    },
    /// Entries are held that are not replayed yet: a sequencer admits only onto a whole state.
    #[error("{replayed} of the log's {size} entries are replayed; replay the rest first")]
    NotReplayed { replayed: u64, size: u64 },
    /// A ballot a revote supersedes could not be read back from the log; nothing was applied.
    #[error(transparent)]
    LookBack(#[from] LookBackError),
    /// The replica refused an entry of its log, or its store failed mid-append: its state may
    /// be ahead of its store. It must be opened again from the store.
    #[error("this copy of the log refused an entry or failed to store one; open it again")]
    Spent,
}

impl ReplicaError {
    /// The entry at fault and why, for errors about one entry: its index, and the rules'
    /// rejection (a malformed entry's as the rules word it).
    pub fn entry(&self) -> Option<(u64, Rejection)> {
        match self {
            ReplicaError::Malformed { index, error } => {
                Some((*index, Rejection::from(error.clone())))
            }
            ReplicaError::Refused {
                index, rejection, ..
            } => Some((*index, rejection.clone())),
            _ => None,
        }
    }
}

/// Each candidate's verdict: its index in the log, or why the rules refused it.
pub type Verdicts = Vec<Result<u64, Rejection>>;

/// Reports replay progress: entries replayed so far, of how many.
pub type Progress<'a> = &'a dyn Fn(u64, u64);

/// A Merkle tree shared with readers (the board's HTTP handlers): the replica's writer holds
/// its lock only to push leaves already durable, never across I/O.
pub type SharedTree = Arc<RwLock<Tree>>;

/// The verified copy of one log. See the module documentation.
pub struct Replica<S: LogStore + ?Sized> {
    store: Arc<S>,
    tree: SharedTree,
    election: Election,
    replayed: u64,
    spent: bool,
}

/// A store as the rules read earlier entries back from it (a superseded ballot).
struct FromStore<'a, S: LogStore + ?Sized>(&'a S);

impl<S: LogStore + ?Sized> LookBack for FromStore<'_, S> {
    fn entry(&self, index: u64) -> Result<Vec<u8>, String> {
        let mut e = self.0.read(index, index + 1).map_err(|e| e.to_string())?;
        e.pop()
            .ok_or_else(|| format!("entry {index}: not in the log"))
    }
}

/// Hashes entries on all cores.
fn leaves(entries: &[Vec<u8>]) -> Vec<Hash> {
    entries.par_iter().map(|e| leaf_hash(e)).collect()
}

/// A chunk of a log made ready for the rules without them ([`Prepared::new`]): what does not
/// depend on the rules' state — the leaf hashes, the envelopes decoded, the signatures and the
/// ballots' proofs verified in one batch on all cores. A streaming follower prepares the next
/// chunk on another thread while the rules replay this one ([`Replica::follow_prepared`]), so
/// that reading, decoding and hashing overlap the replay.
pub struct Prepared {
    /// The index of the chunk's first entry in the log.
    pub at: u64,
    /// Every entry's leaf hash.
    pub leaves: Vec<Hash>,
    /// The entries up to the first that does not decode.
    good: Vec<Entry>,
    /// For each of `good`: its leaf hash, its payload decoded, and whether its signature and,
    /// for a ballot, its proofs verify ([`ProofCheck::prepare`]).
    checked: Vec<Checked>,
    /// Why the entry after `good` does not decode, if one does not.
    malformed: Option<EnvelopeError>,
}

impl Prepared {
    /// Hashes and decodes `raw`, the entries from index `at` on; when `verify`, verifies their
    /// signatures and, given the election's `check` (known once the key ceremony is over),
    /// their ballots' proofs, all in one batch. An entry that fails here is not refused here:
    /// it is left for the rules, which verify it again and word the refusal.
    pub fn new(at: u64, raw: Vec<Vec<u8>>, verify: bool, check: Option<&ProofCheck>) -> Prepared {
        let leaves = leaves(&raw);
        let mut decoded: Vec<Result<Entry, EnvelopeError>> =
            raw.into_par_iter().map(Entry::decode).collect();
        let bad = decoded.iter().position(Result::is_err);
        let good: Vec<Entry> = decoded
            .drain(..bad.unwrap_or(decoded.len()))
            .filter_map(Result::ok)
            .collect();
        let malformed = decoded.into_iter().next().and_then(Result::err);
        let checked = ProofCheck::prepare(check, &good, &leaves[..good.len()], verify);
        Prepared {
            at,
            leaves,
            good,
            checked,
            malformed,
        }
    }

    /// Entries in the chunk.
    pub fn len(&self) -> u64 {
        self.leaves.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }
}

impl Replica<StreamLog> {
    /// A streaming follower's append of a [`Prepared`] chunk, its entries already hashed: the
    /// leaves go onto the tree (the store passes the entries without holding them). Not
    /// replayed: [`Replica::follow_prepared`] does both.
    pub fn stage_prepared(&mut self, chunk: &Prepared) -> Result<(), ReplicaError> {
        if self.spent {
            return Err(ReplicaError::Spent);
        }
        let from = self.size();
        if chunk.at != from {
            return Err(StoreError::Fenced {
                at: chunk.at,
                len: from,
            }
            .into());
        }
        self.store.pass(from, chunk.len())?;
        let mut tree = self.tree.write().unwrap_or_else(PoisonError::into_inner);
        for l in &chunk.leaves {
            tree.push(*l);
        }
        Ok(())
    }

    /// Applies a staged [`Prepared`] chunk's entries up to index `to` through the rules, in
    /// batches of [`REPLAY_BATCH`], reading the ballots revotes supersede from `back`, with
    /// exactly the verdicts of [`Replica::replay_reading`]: the signatures and proofs verified
    /// ahead are taken as valid ([`Election::apply_batch_checked`]), every other rule applied
    /// in log order, and the first entry that does not decode or that the rules refuse is the
    /// error, and spends the replica. The replay must have reached the chunk's start.
    pub fn replay_prepared(
        &mut self,
        chunk: Prepared,
        to: u64,
        progress: Progress<'_>,
        back: &dyn LookBack,
    ) -> Result<(), ReplicaError> {
        if self.spent {
            return Err(ReplicaError::Spent);
        }
        if self.replayed != chunk.at || chunk.at + chunk.len() > self.size() {
            return Err(ReplicaError::NotReplayed {
                replayed: self.replayed,
                size: self.size(),
            });
        }
        let to = to.min(chunk.at + chunk.len());
        let n = to.saturating_sub(chunk.at) as usize;
        let good = chunk.good.len().min(n);
        let mut start = chunk.at;
        let mut checked = chunk.checked.into_iter();
        for batch in chunk.good[..good].chunks(REPLAY_BATCH) {
            let ahead: Vec<Checked> = checked.by_ref().take(batch.len()).collect();
            let verdicts = self.election.apply_batch_checked(batch, ahead, back)?;
            let refused = verdicts
                .into_iter()
                .zip(batch)
                .enumerate()
                .find_map(|(i, (v, e))| v.err().map(|r| (i, e.kind(), r)));
            if let Some((i, kind, rejection)) = refused {
                self.spent = true;
                return Err(ReplicaError::Refused {
                    index: start + i as u64,
                    kind,
                    rejection,
                });
            }
            start += batch.len() as u64;
            self.replayed = start;
            progress(start, to);
        }
        if good < n {
            self.spent = true;
            return Err(ReplicaError::Malformed {
                index: start,
                error: chunk.malformed.unwrap_or(EnvelopeError::BadMagic),
            });
        }
        Ok(())
    }

    /// [`stage_prepared`](Replica::stage_prepared), then
    /// [`replay_prepared`](Replica::replay_prepared) up to `to`.
    pub fn follow_prepared(
        &mut self,
        chunk: Prepared,
        to: u64,
        progress: Progress<'_>,
        back: &dyn LookBack,
    ) -> Result<(), ReplicaError> {
        self.stage_prepared(&chunk)?;
        if to > chunk.at {
            self.replay_prepared(chunk, to, progress, back)?;
        }
        Ok(())
    }

    /// An empty replica over a passing store: a follower that streams a log through it, a
    /// chunk at a time ([`extend`](Replica::extend)), holding its tree and state but no entries.
    pub fn streaming() -> Replica<StreamLog> {
        Self::streaming_onto(Tree::new())
    }

    /// [`streaming`](Replica::streaming) onto an empty `tree` — a [`Tree::frontier`] for an
    /// observer that checks roots at sizes it knows in advance and keeps no leaf.
    pub fn streaming_onto(tree: Tree) -> Replica<StreamLog> {
        Replica {
            store: Arc::new(StreamLog::new()),
            tree: Arc::new(RwLock::new(tree)),
            election: Election::reading_back(),
            replayed: 0,
            spent: false,
        }
    }
}

impl<S: LogStore + ?Sized> Replica<S> {
    /// A replica of what `store` holds: every entry hashed into the tree, read in chunks;
    /// nothing replayed yet.
    pub fn load(store: Arc<S>) -> Result<Replica<S>, ReplicaError> {
        let mut tree = Tree::new();
        let held = store.len();
        let mut at = 0;
        while at < held {
            let end = (at + REPLAY_BATCH as u64).min(held);
            for l in leaves(&store.read(at, end)?) {
                tree.push(l);
            }
            at = end;
        }
        Ok(Replica {
            store,
            tree: Arc::new(RwLock::new(tree)),
            election: Election::reading_back(),
            replayed: 0,
            spent: false,
        })
    }

    /// A replica restored from a snapshot (`specs/board.md` §4.1): the tree of the log's
    /// first `tree.size()` entries and the rules' state after them, taken as they are — the
    /// caller has checked them against a signature of its own and the log (the sequencer's
    /// restart) — and every entry the store holds after them hashed onto the tree; those are
    /// not replayed yet.
    pub fn restore(
        store: Arc<S>,
        mut tree: Tree,
        election: Election,
    ) -> Result<Replica<S>, ReplicaError> {
        let held = store.len();
        let mut at = tree.size();
        if at > held {
            return Err(ReplicaError::Short { size: at, held });
        }
        let replayed = at;
        while at < held {
            let end = (at + REPLAY_BATCH as u64).min(held);
            for l in self::leaves(&store.read(at, end)?) {
                tree.push(l);
            }
            at = end;
        }
        Ok(Replica {
            store,
            tree: Arc::new(RwLock::new(tree)),
            election,
            replayed,
            spent: false,
        })
    }

    /// [`load`](Replica::load)s, [`check`](Replica::check)s every anchor, and replays everything.
    pub fn open(
        store: Arc<S>,
        anchors: &[&Checkpoint],
        progress: Progress<'_>,
    ) -> Result<Replica<S>, ReplicaError> {
        let mut r = Replica::load(store)?;
        for a in anchors {
            r.check(a)?;
        }
        r.replay(r.size(), progress)?;
        Ok(r)
    }

    /// That `cp` is a signed view of this log: it covers no more than the log holds, and the
    /// log's first `cp.size` entries hash to its root.
    pub fn check(&self, cp: &Checkpoint) -> Result<(), ReplicaError> {
        let tree = self.tree();
        if cp.size > tree.size() {
            return Err(ReplicaError::Short {
                size: cp.size,
                held: tree.size(),
            });
        }
        if tree.root(cp.size).ok() != Some(cp.root) {
            return Err(ReplicaError::RootMismatch { size: cp.size });
        }
        Ok(())
    }

    /// Decodes and applies the held entries up to `to` (at most [`Replica::size`]), a chunk
    /// at a time. The first entry in log order that does not decode or that the rules refuse
    /// is the error, and spends the replica.
    pub fn replay(&mut self, to: u64, progress: Progress<'_>) -> Result<(), ReplicaError> {
        self.replay_with(to, progress, false, None)
    }

    /// [`Replica::replay`], reading the ballots revotes supersede back from `back` rather than
    /// from the store: for a store that does not keep what it passed ([`StreamLog`]), whose
    /// follower can read its source again (a record file, a board's tiles).
    pub fn replay_reading(
        &mut self,
        to: u64,
        progress: Progress<'_>,
        back: &dyn LookBack,
    ) -> Result<(), ReplicaError> {
        self.replay_with(to, progress, false, Some(back))
    }

    /// [`Replica::replay`] of entries this party verified itself before making them durable
    /// ([`Election::apply_batch_verified`]: every rule but the signatures and ballot proofs):
    /// a sequencer restarting from its own log, up to a size whose root it signed and
    /// [`check`](Replica::check)ed. Never for entries from elsewhere.
    pub fn replay_verified(&mut self, to: u64, progress: Progress<'_>) -> Result<(), ReplicaError> {
        self.replay_with(to, progress, true, None)
    }

    fn replay_with(
        &mut self,
        to: u64,
        progress: Progress<'_>,
        verified: bool,
        back: Option<&dyn LookBack>,
    ) -> Result<(), ReplicaError> {
        if self.spent {
            return Err(ReplicaError::Spent);
        }
        let to = to.min(self.size());
        while self.replayed < to {
            let start = self.replayed;
            let end = (start + REPLAY_BATCH as u64).min(to);
            let raw = self.store.read(start, end)?;
            let mut decoded: Vec<Result<Entry, EnvelopeError>> =
                raw.into_par_iter().map(Entry::decode).collect();
            let bad = decoded.iter().position(Result::is_err);
            let good: Vec<Entry> = decoded
                .drain(..bad.unwrap_or(decoded.len()))
                .filter_map(Result::ok)
                .collect();
            let store = FromStore(&*self.store);
            let verdicts = self.election.apply_batch_reading(
                &good,
                &vec![verified; good.len()],
                back.unwrap_or(&store),
            )?;
            let refused = verdicts
                .into_iter()
                .zip(&good)
                .enumerate()
                .find_map(|(i, (v, e))| v.err().map(|r| (i, e.kind(), r)));
            if let Some((i, kind, rejection)) = refused {
                self.spent = true;
                return Err(ReplicaError::Refused {
                    index: start + i as u64,
                    kind,
                    rejection,
                });
            }
            if let (Some(i), Some(Err(error))) = (bad, decoded.into_iter().next()) {
                self.spent = true;
                return Err(ReplicaError::Malformed {
                    index: start + i as u64,
                    error,
                });
            }
            self.replayed = end;
            progress(end, to);
        }
        Ok(())
    }

    /// A follower's append: `entries` extend the log to exactly the checkpoint `anchor` (when
    /// given). They are hashed onto the tree and the root checked before the store takes them;
    /// on a mismatch nothing changes. They are not replayed: [`Replica::replay`] does that.
    pub fn stage(
        &mut self,
        entries: Vec<Vec<u8>>,
        anchor: Option<&Checkpoint>,
    ) -> Result<(), ReplicaError> {
        if self.spent {
            return Err(ReplicaError::Spent);
        }
        let from = self.size();
        let new = leaves(&entries);
        {
            let mut tree = self.tree.write().unwrap_or_else(PoisonError::into_inner);
            for l in new {
                tree.push(l);
            }
        }
        if let Some(cp) = anchor {
            let checked = match self.check(cp) {
                Ok(()) if cp.size != self.size() => Err(ReplicaError::Short {
                    size: cp.size,
                    held: self.size(),
                }),
                other => other,
            };
            if let Err(e) = checked {
                self.tree
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .truncate(from);
                return Err(e);
            }
        }
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        if let Err(e) = self.store.append(from, &refs) {
            self.tree
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .truncate(from);
            return Err(e.into());
        }
        Ok(())
    }

    /// A follower's append in steps, for a log too long to fetch whole before checking it:
    /// `entries` extend the log to some size `m ≤ cp.size`, and `proof` is an RFC 9162
    /// consistency proof from size `m` to the signed checkpoint `cp` (empty when `m = cp.size`).
    /// The proof is checked against the root the replica computes at `m` before the store
    /// takes anything, so only a prefix of the signed log is ever stored; on a mismatch
    /// nothing changes.
    pub fn stage_proven(
        &mut self,
        entries: Vec<Vec<u8>>,
        cp: &Checkpoint,
        proof: &[Hash],
    ) -> Result<(), ReplicaError> {
        if self.spent {
            return Err(ReplicaError::Spent);
        }
        let from = self.size();
        let to = from + entries.len() as u64;
        if to > cp.size {
            return Err(ReplicaError::Short {
                size: cp.size,
                held: to,
            });
        }
        if to == cp.size {
            return self.stage(entries, Some(cp));
        }
        let new = leaves(&entries);
        let root = {
            let mut tree = self.tree.write().unwrap_or_else(PoisonError::into_inner);
            for l in new {
                tree.push(l);
            }
            tree.root(to).ok()
        };
        let proven = root.is_some_and(|r| {
            to == 0 || crate::merkle::verify_consistency(to, cp.size, &r, &cp.root, proof).is_ok()
        });
        let stored = if proven {
            let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
            self.store.append(from, &refs).map_err(ReplicaError::from)
        } else {
            Err(ReplicaError::RootMismatch { size: cp.size })
        };
        if stored.is_err() {
            self.tree
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .truncate(from);
        }
        stored
    }

    /// [`stage`](Replica::stage)s and replays the new entries.
    pub fn extend(
        &mut self,
        entries: Vec<Vec<u8>>,
        anchor: Option<&Checkpoint>,
        progress: Progress<'_>,
    ) -> Result<(), ReplicaError> {
        self.stage(entries, anchor)?;
        self.replay(self.size(), progress)
    }

    /// A sequencer's append: the rules decide every candidate in order (as one batch); the
    /// admitted are appended to the store, durably, and only then added to the tree. Returns
    /// each candidate's verdict: its index in the log, or why it was refused. A store failure
    /// spends the replica (the state is ahead of the store): reopen it from the store.
    pub fn admit(
        &mut self,
        candidates: &[Entry],
    ) -> Result<Vec<Result<u64, Rejection>>, ReplicaError> {
        Ok(self.admit_inner(candidates, &[], None)?.0)
    }

    /// [`admit`](Replica::admit), with the checkpoint of the log after the admitted entries
    /// stored in the same append ([`LogStore::append_with_checkpoint`]: one durable write for
    /// both on a database): `seal(size, root)` signs it. Returns the verdicts and, if anything
    /// was admitted, the signed checkpoint. The new leaves are on the shared tree while the
    /// store writes (readers bound what they serve by a published size, never by the tree's),
    /// and taken off again if it fails.
    pub fn admit_sealed(
        &mut self,
        candidates: &[Entry],
        seal: &dyn Fn(u64, Hash) -> String,
    ) -> Result<(Verdicts, Option<String>), ReplicaError> {
        self.admit_inner(candidates, &[], Some(seal))
    }

    /// [`admit_sealed`](Replica::admit_sealed) where `verified[i]` says that candidate `i`'s
    /// signature and ballot proofs were verified by a party this sequencer trusts as itself
    /// (a board process of the same board that attested it, `specs/storage.md` §5a): the rules
    /// take those as valid ([`Election::apply_batch_attested`]) and apply every other rule.
    pub fn admit_sealed_attested(
        &mut self,
        candidates: &[Entry],
        verified: &[bool],
        seal: &dyn Fn(u64, Hash) -> String,
    ) -> Result<(Verdicts, Option<String>), ReplicaError> {
        self.admit_inner(candidates, verified, Some(seal))
    }

    fn admit_inner(
        &mut self,
        candidates: &[Entry],
        verified: &[bool],
        seal: Option<&dyn Fn(u64, Hash) -> String>,
    ) -> Result<(Verdicts, Option<String>), ReplicaError> {
        if self.spent {
            return Err(ReplicaError::Spent);
        }
        if self.replayed != self.size() {
            return Err(ReplicaError::NotReplayed {
                replayed: self.replayed,
                size: self.size(),
            });
        }
        let flags: Vec<bool> = (0..candidates.len())
            .map(|i| verified.get(i).copied().unwrap_or(false))
            .collect();
        let verdicts =
            self.election
                .apply_batch_reading(candidates, &flags, &FromStore(&*self.store))?;
        let mut admitted: Vec<&[u8]> = Vec::new();
        let mut new: Vec<Hash> = Vec::new();
        for (v, e) in verdicts.iter().zip(candidates) {
            if let Ok(a) = v {
                admitted.push(e.bytes());
                new.push(a.leaf_hash);
            }
        }
        let mut note = None;
        if !admitted.is_empty() {
            let from = self.replayed;
            let stored = match seal {
                None => self.store.append(from, &admitted),
                Some(seal) => {
                    let root = {
                        let mut tree = self.tree.write().unwrap_or_else(PoisonError::into_inner);
                        for l in &new {
                            tree.push(*l);
                        }
                        tree.root(tree.size())
                    };
                    match root {
                        Ok(root) => {
                            let n = seal(from + new.len() as u64, root);
                            let r = self.store.append_with_checkpoint(from, &admitted, &n);
                            note = Some(n);
                            r
                        }
                        Err(_) => Err(StoreError::OutOfRange {
                            start: from,
                            end: from + new.len() as u64,
                            len: from,
                        }),
                    }
                }
            };
            let mut tree = self.tree.write().unwrap_or_else(PoisonError::into_inner);
            if let Err(e) = stored {
                tree.truncate(from);
                self.spent = true;
                return Err(e.into());
            }
            if seal.is_none() {
                for l in new {
                    tree.push(l);
                }
            }
            self.replayed = tree.size();
        }
        Ok((
            verdicts.into_iter().map(|v| v.map(|a| a.index)).collect(),
            note,
        ))
    }

    /// **A test hook's, never a party's:** appends `raw` durably without asking the rules, and
    /// carries on as if it had never been (the rules' state skips it). It exists so that
    /// tests can make a board that breaks the rules, to show that validating nodes catch it;
    /// the board reaches it only when started with its test hook enabled (see
    /// `urna-board`'s `server::test_hook`).
    #[doc(hidden)]
    pub fn force_append_for_test_hook(&mut self, raw: &[u8]) -> Result<u64, ReplicaError> {
        if self.spent {
            return Err(ReplicaError::Spent);
        }
        let at = self.size();
        if self.replayed != at {
            return Err(ReplicaError::NotReplayed {
                replayed: self.replayed,
                size: at,
            });
        }
        self.store.append(at, &[raw])?;
        self.tree
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(leaf_hash(raw));
        self.replayed = at + 1;
        Ok(at)
    }

    /// Entries held (hashed into the tree).
    pub fn size(&self) -> u64 {
        self.tree().size()
    }

    /// Entries replayed through the rules (the first `replayed` of the log).
    pub fn replayed(&self) -> u64 {
        self.replayed
    }

    /// The rules' state after the replayed entries.
    pub fn election(&self) -> &Election {
        &self.election
    }

    /// The tree of every entry held.
    pub fn tree(&self) -> RwLockReadGuard<'_, Tree> {
        self.tree.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The tree, for readers on other threads.
    pub fn shared_tree(&self) -> SharedTree {
        Arc::clone(&self.tree)
    }

    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// Entry `index`'s bytes, read from the store (`None` past the end).
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if index >= self.store.len() {
            return Ok(None);
        }
        Ok(self.store.read(index, index + 1)?.pop())
    }
}
