//! Mixing and counting the ranked contests (`specs/election.md` §6.7): after the polls close,
//! each ranked contest's list — the rows of the counted ballots, in log order — is shuffled by
//! every mixer in the manifest's order, each mix posted as `MixRows` entries and closed by a
//! `MixProof` whose shuffle proof is checked against the previous list; then `t` trustees post
//! partial decryptions of the last list (`MixDecryption`, each entry with a batched proof);
//! once `t` cover the list, the rows are decrypted, read by the rule of §5.5 and counted by the
//! contest's method (§7.3), and the `RankedCount` entries must carry that count byte for byte.
//!
//! The state holds what the next check needs and no more: a list as encodings (64 bytes per
//! ciphertext), the mix in progress (its rows and the per-row parts of its proof, 96 bytes per
//! row), each decrypting trustee's shares (32 bytes per ciphertext) until `t` are complete,
//! then the decrypted rows and the count. Points are decompressed only to verify.

use std::collections::BTreeMap;
use std::sync::Arc;

use curve25519_dalek::traits::VartimeMultiscalarMul;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rayon::prelude::*;
use serde::Serialize;
use urna_crypto::batch::BatchVerifier;
use urna_crypto::codec::{Decode, Encode, Writer};
use urna_crypto::elgamal::Ciphertext;
use urna_crypto::group::Point;
use urna_crypto::shuffle::{Rows, ShuffleGenerators, ShuffleProof, ShuffleStatement};
use urna_crypto::sign::VerifyingKey;
use urna_crypto::threshold;
use urna_crypto::{CompressedRistretto, RistrettoPoint};

use super::batch_seed;
use crate::context::ElectionContext;
use crate::count::{self, RankedCount};
use crate::entry::EntryKind;
use crate::manifest::{Manifest, RankedRules};
use crate::payload::{MixDecryption, MixProof, MixRows, RankedCountBytes};
use crate::ranking::{self, Choice, Invalid};
use crate::rejection::Rejection;

/// The decrypted list of a ranked contest and its count.
#[derive(Debug)]
pub struct Decrypted {
    /// Each row of the final list, as the rule of §5.5 reads it.
    pub rows: Vec<Result<Vec<Choice>, Invalid>>,
    pub count: RankedCount,
    /// The count's canonical bytes, which the `RankedCount` entries must carry.
    pub bytes: Vec<u8>,
}

/// A mix in progress: the rows posted so far and their parts of the proof.
#[derive(Clone, Default)]
pub(super) struct Pending {
    pub(super) rows: usize,
    pub(super) outputs: Vec<u8>,
    pub(super) c: Vec<u8>,
    pub(super) d: Vec<u8>,
    pub(super) s: Vec<u8>,
    /// The leaf hashes of its `MixRows` entries: with the closing entry's, they seed the
    /// verifier's weights, which must depend on every byte of the proof.
    pub(super) leaves: Vec<[u8; 32]>,
}

#[derive(Clone)]
pub(super) struct ContestMix {
    pub(super) contest: u16,
    pub(super) rules: RankedRules,
    pub(super) options: usize,
    /// `N`, the rows of every list of the contest.
    pub(super) rows: usize,
    /// The input of the next mix; after the last, the list that is decrypted.
    pub(super) list: Arc<Vec<u8>>,
    pub(super) mixes: usize,
    pub(super) pending: Arc<Pending>,
    /// Each trustee's partial decryptions so far, 32 bytes each, in list order.
    pub(super) shares: BTreeMap<u16, Arc<Vec<u8>>>,
    /// Trustees whose shares cover the list, in the order they completed.
    pub(super) decrypted_by: Vec<u16>,
    pub(super) decrypted: Option<Arc<Decrypted>>,
    /// Bytes of the count posted so far.
    pub(super) posted: usize,
}

/// Where one ranked contest stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MixStatus {
    pub contest: u16,
    /// Rows of its lists (0: no ballot has the contest, nothing to mix).
    pub rows: usize,
    /// Ciphertexts per row.
    pub width: usize,
    /// Mixes admitted, of `mixers`.
    pub mixes: usize,
    pub mixers: usize,
    /// Rows of the mix in progress.
    pub pending_rows: usize,
    /// `(trustee, ciphertexts it has decrypted)`, for trustees that have started.
    pub shares: Vec<(u16, usize)>,
    /// Trustees whose shares decrypted the list, once `t` have.
    pub decrypted_by: Vec<u16>,
    /// Bytes of the count posted, and of the whole count once it is known.
    pub count_posted: usize,
    pub count_len: Option<usize>,
}

#[derive(Clone, Default)]
pub(super) struct Mixing {
    pub(super) contests: Vec<ContestMix>,
}

/// Decodes a list of 64-byte encodings (valid ciphertexts, checked when they were admitted).
fn ciphertexts(bytes: &[u8]) -> Option<Vec<Ciphertext>> {
    bytes
        .par_chunks_exact(64)
        .map(|b| Ciphertext::from_bytes(b).ok())
        .collect()
}

fn point(bytes: &[u8]) -> Option<RistrettoPoint> {
    CompressedRistretto::from_slice(bytes).ok()?.decompress()
}

impl Mixing {
    /// The lists when the polls close: one per ranked contest, in manifest order, from the
    /// counted ballots' rows (`lists[k]` for the `k`-th ranked contest). A contest no ballot
    /// has needs no mix and no decryption; its count, of nobody, is known at once.
    pub(super) fn close(m: &Manifest, ctx: &ElectionContext, lists: Vec<Vec<u8>>) -> Mixing {
        let contests = m
            .ranked_contests()
            .zip(lists)
            .map(|((contest, c, rules), list)| {
                let rows = list.len() / (64 * rules.width()).max(1);
                let decrypted = (rows == 0).then(|| {
                    let count = count::count(contest, c, rules, &ctx.hash, &[]);
                    let bytes = count.to_bytes();
                    Arc::new(Decrypted {
                        rows: Vec::new(),
                        count,
                        bytes,
                    })
                });
                ContestMix {
                    contest,
                    rules: *rules,
                    options: c.options.len(),
                    rows,
                    list: Arc::new(list),
                    mixes: if rows == 0 { m.mixers.len() } else { 0 },
                    pending: Arc::default(),
                    shares: BTreeMap::new(),
                    decrypted_by: Vec::new(),
                    decrypted,
                    posted: 0,
                }
            })
            .collect();
        Mixing { contests }
    }

    fn find(&self, contest: u16) -> Result<usize, Rejection> {
        self.contests
            .iter()
            .position(|c| c.contest == contest)
            .ok_or(Rejection::MixContest { contest })
    }

    /// The contest, when it is `mixer`'s (1-based) turn to mix it.
    fn turn(&self, m: &Manifest, contest: u16, mixer: u16) -> Result<usize, Rejection> {
        let k = self.find(contest)?;
        let cm = &self.contests[k];
        if cm.rows > 0 && cm.mixes < m.mixers.len() && usize::from(mixer) == cm.mixes + 1 {
            return Ok(k);
        }
        let turn = if cm.rows == 0 {
            "no counted ballot has this contest: there is nothing to mix".to_string()
        } else {
            match m.mixers.get(cm.mixes) {
                Some(x) => format!("mixer {} ({}) mixes next", cm.mixes + 1, x.name),
                None => "every mixer has mixed".into(),
            }
        };
        Err(Rejection::MixOutOfTurn { contest, turn })
    }

    fn shape(cm: &ContestMix, width: u16) -> Result<(), Rejection> {
        if usize::from(width) == cm.rules.width() {
            return Ok(());
        }
        Err(Rejection::MixShape {
            contest: cm.contest,
            expected: cm.rules.width(),
            got: width.into(),
        })
    }

    /// `MixRows` by mixer `mixer` (1-based), once its phase and author are right: a ranked
    /// contest, the mixer's turn, the contest's width, then rows that start the mix afresh
    /// (`first = 0`, dropping any rows posted before) or continue it, within the list.
    pub(super) fn rows(
        &mut self,
        m: &Manifest,
        mixer: u16,
        p: MixRows,
        leaf: [u8; 32],
    ) -> Result<(), Rejection> {
        let k = self.turn(m, p.contest, mixer)?;
        let cm = &mut self.contests[k];
        Self::shape(cm, p.width)?;
        let (first, count) = (p.first as usize, p.rows.len());
        let have = cm.pending.rows;
        if count == 0 || (first != 0 && first != have) || first + count > cm.rows {
            return Err(Rejection::MixRows {
                contest: cm.contest,
                first: p.first,
                count,
                have,
                total: cm.rows,
            });
        }
        if first == 0 {
            cm.pending = Arc::default();
        }
        let pending = Arc::make_mut(&mut cm.pending);
        let w = cm.rules.width();
        pending.outputs.reserve(64 * w * count);
        for row in &p.rows {
            row.ciphertexts
                .iter()
                .for_each(|ct| ct.encode(&mut pending.outputs));
            row.c.encode(&mut pending.c);
            row.d.encode(&mut pending.d);
            row.s.encode(&mut pending.s);
        }
        pending.rows += count;
        pending.leaves.push(leaf);
        Ok(())
    }

    /// `MixProof` by mixer `mixer` (1-based) with key `author`: a ranked contest, its turn, the
    /// width, every row posted; then the shuffle proof assembled from the rows' parts and this
    /// entry (crypto §12.7) must verify against the previous list and the posted rows, with the
    /// contest's generators, the mix's context and the mixer's key. Counted in `proofs`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn proof(
        &mut self,
        m: &Manifest,
        ctx: &ElectionContext,
        mixer: u16,
        author: &VerifyingKey,
        p: MixProof,
        leaf: [u8; 32],
        proofs: &mut u64,
    ) -> Result<(), Rejection> {
        let k = self.turn(m, p.contest, mixer)?;
        let cm = &self.contests[k];
        Self::shape(cm, p.width)?;
        let (n, w) = (cm.rows, cm.rules.width());
        if cm.pending.rows != n {
            return Err(Rejection::MixIncomplete {
                contest: cm.contest,
                have: cm.pending.rows,
                total: n,
            });
        }
        *proofs += 1;
        let position = cm.mixes as u16 + 1;
        let invalid = Rejection::InvalidShuffle {
            contest: cm.contest,
            position,
        };
        let pending = &cm.pending;
        let mut bytes = Vec::with_capacity(ShuffleProof::encoded_len(n, w) as usize);
        // n < 2^32: lists come from the roll's ballots, and the shuffle takes that many rows.
        bytes.put_u32(n as u32);
        bytes.put_u16(p.width);
        bytes.extend_from_slice(&pending.c);
        bytes.extend_from_slice(&pending.d);
        p.closing_fields(&mut bytes);
        bytes.extend_from_slice(&pending.s);
        let proof = ShuffleProof::from_bytes(&bytes).map_err(|_| invalid.clone())?;
        drop(bytes);
        let (Some(inputs), Some(outputs)) = (ciphertexts(&cm.list), ciphertexts(&pending.outputs))
        else {
            return Err(invalid);
        };
        let gens =
            ShuffleGenerators::derive(&ctx.mix_seed(cm.contest), n).map_err(|_| invalid.clone())?;
        let st = ShuffleStatement {
            pk: &ctx.joint_key,
            inputs: Rows::new(&inputs, w).map_err(|_| invalid.clone())?,
            outputs: Rows::new(&outputs, w).map_err(|_| invalid.clone())?,
        };
        let seed = batch_seed(pending.leaves.iter().chain([&leaf]));
        let mut rng = ChaCha20Rng::from_seed(seed);
        proof
            .verify(
                &gens,
                &st,
                author.as_bytes(),
                &ctx.mix_ctx(cm.contest, position),
                &mut rng,
            )
            .map_err(|_| invalid)?;
        drop((inputs, outputs, gens));
        let cm = &mut self.contests[k];
        let pending = std::mem::take(&mut cm.pending);
        cm.list = Arc::new(match Arc::try_unwrap(pending) {
            Ok(p) => p.outputs,
            Err(shared) => shared.outputs.clone(),
        });
        cm.mixes += 1;
        Ok(())
    }

    /// `MixDecryption` by trustee `j`, once its index and author are right: `j ∈ Q`, a ranked
    /// contest, every mix done, the list not yet decrypted, shares that continue `j`'s within
    /// the list, then the batched proof against `VK_j` (counted in `proofs`). When `t` trustees
    /// cover the list, it is decrypted, read and counted.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn decrypt(
        &mut self,
        m: &Manifest,
        ctx: &ElectionContext,
        qualified: &[u16],
        d: MixDecryption,
        leaf: [u8; 32],
        proofs: &mut u64,
    ) -> Result<(), Rejection> {
        let j = d.trustee;
        if !qualified.contains(&j) {
            return Err(Rejection::TrusteeDisqualified {
                kind: EntryKind::MixDecryption,
                trustee: j,
            });
        }
        let k = self.find(d.contest)?;
        let cm = &self.contests[k];
        if cm.mixes < m.mixers.len() {
            return Err(Rejection::DecryptionBeforeMix {
                contest: cm.contest,
                done: cm.mixes,
                mixers: m.mixers.len(),
            });
        }
        if cm.decrypted.is_some() {
            return Err(Rejection::DecryptionComplete {
                contest: cm.contest,
            });
        }
        let w = cm.rules.width();
        let total = cm.rows * w;
        let have = cm.shares.get(&j).map_or(0, |s| s.len() / 32);
        let (first, count) = (d.first as usize, d.shares.len());
        if count == 0 || first != have || first + count > total {
            return Err(Rejection::MixShareOrder {
                trustee: j,
                contest: cm.contest,
                first: d.first,
                count,
                have,
                total,
            });
        }
        *proofs += 1;
        let invalid = Rejection::InvalidMixDecryption {
            trustee: j,
            contest: cm.contest,
            first: d.first,
        };
        let alphas: Option<Vec<Point>> = cm.list[64 * first..64 * (first + count)]
            .par_chunks_exact(64)
            .map(|b| {
                let a: [u8; 32] = b[..32].try_into().ok()?;
                Point::from_wire(&a, "alpha").ok()
            })
            .collect();
        let vk = ctx.verification_keys.get(usize::from(j).wrapping_sub(1));
        let (Some(alphas), Some(vk)) = (alphas, vk) else {
            return Err(invalid);
        };
        let mut batch = BatchVerifier::from_seed(batch_seed([&leaf]));
        d.proof
            .queue(
                vk,
                &alphas,
                &d.shares,
                &ctx.mix_decryption_ctx(j, cm.contest, d.first),
                &mut batch,
            )
            .map_err(|_| invalid.clone())?;
        batch.verify_vartime().map_err(|_| invalid)?;

        let cm = &mut self.contests[k];
        let mine = Arc::make_mut(cm.shares.entry(j).or_default());
        d.shares.iter().for_each(|p| p.encode(mine));
        if mine.len() / 32 == total {
            cm.decrypted_by.push(j);
        }
        if cm.decrypted_by.len() == usize::from(m.threshold) {
            let contest = m.contests.get(usize::from(cm.contest));
            if let Some(c) = contest {
                let rows = cm.combine();
                let count = count::count(cm.contest, c, &cm.rules, &ctx.hash, &rows);
                let bytes = count.to_bytes();
                cm.decrypted = Some(Arc::new(Decrypted { rows, count, bytes }));
            }
            cm.shares.clear();
        }
        Ok(())
    }

    /// `RankedCount`: a ranked contest, decrypted, bytes that continue the count, equal to the
    /// count's canonical bytes at their offset.
    pub(super) fn count(&mut self, c: RankedCountBytes) -> Result<(), Rejection> {
        let k = self.find(c.contest)?;
        let cm = &mut self.contests[k];
        let Some(decrypted) = &cm.decrypted else {
            return Err(Rejection::CountBeforeDecryption { contest: c.contest });
        };
        let (offset, len, total) = (c.offset as usize, c.bytes.len(), decrypted.bytes.len());
        if len == 0 || offset != cm.posted || offset + len > total {
            return Err(Rejection::CountOutOfOrder {
                contest: c.contest,
                offset: c.offset,
                len,
                have: cm.posted,
                total,
            });
        }
        if decrypted.bytes[offset..offset + len] != c.bytes[..] {
            return Err(Rejection::InconsistentCount {
                contest: c.contest,
                offset: c.offset,
            });
        }
        cm.posted += len;
        Ok(())
    }

    /// Whether every ranked contest's count is posted in full.
    pub(super) fn complete(&self) -> bool {
        self.contests.iter().all(|c| {
            c.decrypted
                .as_ref()
                .is_some_and(|d| c.posted == d.bytes.len())
        })
    }

    pub(super) fn status(&self, m: &Manifest) -> Vec<MixStatus> {
        self.contests
            .iter()
            .map(|c| MixStatus {
                contest: c.contest,
                rows: c.rows,
                width: c.rules.width(),
                mixes: c.mixes,
                mixers: m.mixers.len(),
                pending_rows: c.pending.rows,
                shares: c.shares.iter().map(|(j, s)| (*j, s.len() / 32)).collect(),
                decrypted_by: c.decrypted_by.clone(),
                count_posted: c.posted,
                count_len: c.decrypted.as_ref().map(|d| d.bytes.len()),
            })
            .collect()
    }

    /// The current list of a ranked contest (the next mixer's input; after the last mix, the
    /// list that is decrypted), decoded.
    pub(super) fn list(&self, contest: u16) -> Option<Vec<Ciphertext>> {
        let k = self.find(contest).ok()?;
        ciphertexts(&self.contests[k].list)
    }

    pub(super) fn decrypted(&self, contest: u16) -> Option<&Decrypted> {
        let k = self.find(contest).ok()?;
        self.contests[k].decrypted.as_deref()
    }
}

impl ContestMix {
    /// `M = β − Σ_{j∈S} λ_j·D_j` for every ciphertext of the list, over the first `t`
    /// trustees to complete, each row read by the rule of §5.5; on all cores.
    fn combine(&self) -> Vec<Result<Vec<Choice>, Invalid>> {
        let w = self.rules.width();
        let indices: Vec<u64> = self.decrypted_by.iter().map(|j| u64::from(*j)).collect();
        let lambdas = threshold::lagrange_at_zero(&indices).unwrap_or_default();
        let shares: Vec<&[u8]> = self
            .decrypted_by
            .iter()
            .filter_map(|j| self.shares.get(j).map(|s| s.as_slice()))
            .collect();
        (0..self.rows)
            .into_par_iter()
            .map(|r| {
                let points: Vec<[u8; 32]> = (r * w..(r + 1) * w)
                    .map(|i| {
                        let beta = point(&self.list[64 * i + 32..64 * i + 64]).unwrap_or_default();
                        let ds = shares
                            .iter()
                            .map(|s| point(&s[32 * i..32 * i + 32]).unwrap_or_default());
                        let k_alpha = RistrettoPoint::vartime_multiscalar_mul(&lambdas, ds);
                        (beta - k_alpha).compress().to_bytes()
                    })
                    .collect();
                ranking::read(&self.rules, self.options, &points)
            })
            .collect()
    }
}
