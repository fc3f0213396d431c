//! The tally (`specs/election.md` §6.6, §7): the encrypted tally fixed when the polls close,
//! the trustees' decryption shares, and the result, admitted only if it is what the first `t`
//! shares decrypt to: `count·G = β − Σ_{j∈S} λ_j·D_j`.

use rayon::prelude::*;
use urna_crypto::batch::verify_all_vartime;
use urna_crypto::elgamal::Ciphertext;
use urna_crypto::group::{mul_g, Point};
use urna_crypto::sigma::DleqStatement;
use urna_crypto::threshold;
use urna_crypto::{RistrettoPoint, Scalar};

use super::layout::Layout;
use crate::context::ElectionContext;
use crate::entry::EntryKind;
use crate::manifest::Manifest;
use crate::payload::{DecryptionShare, ElectionResult};
use crate::rejection::Rejection;

#[derive(Clone, Default)]
pub(super) struct Tally {
    pub(super) encrypted: Option<Vec<Ciphertext>>,
    /// Admitted decryption shares in log order: (trustee, one point per tally ciphertext).
    pub(super) shares: Vec<(u16, Vec<Point>)>,
    pub(super) result: Option<ElectionResult>,
}

impl Tally {
    pub(super) fn close(&mut self, encrypted: Vec<Ciphertext>) {
        self.encrypted = Some(encrypted);
    }

    pub(super) fn encrypted(&self) -> Option<&[Ciphertext]> {
        self.encrypted.as_deref()
    }

    pub(super) fn shares(&self) -> &[(u16, Vec<Point>)] {
        &self.shares
    }

    pub(super) fn result(&self) -> Option<&ElectionResult> {
        self.result.as_ref()
    }

    /// `DecryptionShare` by trustee `j`, once its phase, index and author are right: `j ∈ Q`,
    /// once, one share per tally ciphertext, then every Chaum–Pedersen proof (counted in
    /// `proofs`) with context `E ‖ u16(j) ‖ u16(c) ‖ u16(o)`.
    pub(super) fn decrypt(
        &mut self,
        qualified: &[u16],
        ctx: &ElectionContext,
        layout: &Layout,
        d: DecryptionShare,
        seed: [u8; 32],
        proofs: &mut u64,
    ) -> Result<(), Rejection> {
        if !qualified.contains(&d.trustee) {
            return Err(Rejection::TrusteeDisqualified {
                kind: EntryKind::DecryptionShare,
                trustee: d.trustee,
            });
        }
        if self.shares.iter().any(|(t, _)| *t == d.trustee) {
            return Err(Rejection::AlreadyPosted {
                kind: EntryKind::DecryptionShare,
                trustee: d.trustee,
            });
        }
        let tally = self.encrypted.as_deref().unwrap_or_default();
        if d.shares.len() != tally.len() {
            return Err(Rejection::ShareCount {
                expected: tally.len(),
                got: d.shares.len(),
            });
        }
        // Qualified trustees are among 1..n, and there is a verification key for each.
        let vk = ctx
            .verification_keys
            .get(usize::from(d.trustee).wrapping_sub(1))
            .ok_or(Rejection::TrusteeDisqualified {
                kind: EntryKind::DecryptionShare,
                trustee: d.trustee,
            })?;
        *proofs += 1;
        let items: Vec<usize> = (0..tally.len()).collect();
        verify_all_vartime(&items, seed, |&i, batch| {
            let (point, proof) = &d.shares[i];
            let (c, o) = layout.label(i).unwrap_or_default();
            let st = DleqStatement {
                u: &tally[i].alpha,
                x: vk,
                y: point,
            };
            proof.queue(st, &ctx.decryption_ctx(d.trustee, c, o), batch)
        })
        .map_err(|f| {
            let first = f.failures.first().map_or(0, |(i, _)| *i);
            let (contest, option) = layout.label(first).unwrap_or_default();
            Rejection::InvalidDecryptionShare {
                trustee: d.trustee,
                contest,
                option,
            }
        })?;
        self.shares
            .push((d.trustee, d.shares.into_iter().map(|(p, _)| p).collect()));
        Ok(())
    }

    /// `M = β − Σ λᵢ·Dᵢ` for each tally ciphertext, over the first `t` shares admitted.
    pub(super) fn combine(&self, threshold: u16) -> Result<Vec<RistrettoPoint>, Rejection> {
        let t = usize::from(threshold);
        let too_few = Rejection::TooFewShares {
            have: self.shares.len(),
            need: threshold,
        };
        let (Some(tally), Some(chosen)) = (&self.encrypted, self.shares.get(..t)) else {
            return Err(too_few);
        };
        let indices: Vec<u64> = chosen.iter().map(|(i, _)| u64::from(*i)).collect();
        // Admitted shares come from distinct trustees among 1..n, which is all Lagrange needs.
        let lambdas = threshold::lagrange_at_zero(&indices).map_err(|_| too_few)?;
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

    /// `Result`, once its phase is right: at least `t` shares admitted, the manifest's shape,
    /// every count within its bound (§7), then every count equal to the decryption.
    pub(super) fn decide(
        &mut self,
        m: &Manifest,
        layout: &Layout,
        bounds: &[u64],
        r: ElectionResult,
    ) -> Result<(), Rejection> {
        if self.shares.len() < usize::from(m.threshold) {
            return Err(Rejection::TooFewShares {
                have: self.shares.len(),
                need: m.threshold,
            });
        }
        // One count per option of each tallied contest; none for a ranked contest.
        let options = |c: &crate::manifest::Contest| match c.ranked() {
            Some(_) => 0,
            None => c.options.len(),
        };
        if r.counts.len() != m.contests.len()
            || r.counts
                .iter()
                .zip(&m.contests)
                .any(|(c, contest)| c.len() != options(contest))
        {
            return Err(Rejection::ResultShape);
        }
        let flat: Vec<u64> = r.counts.iter().flatten().copied().collect();
        for (pos, (count, bound)) in flat.iter().zip(bounds).enumerate() {
            if count > bound {
                let (contest, option) = layout.ids(m, pos);
                return Err(Rejection::CountOutOfRange {
                    contest,
                    option,
                    count: *count,
                    bound: *bound,
                });
            }
        }
        let combined = self.combine(m.threshold)?;
        for (pos, (count, point)) in flat.iter().zip(&combined).enumerate() {
            if mul_g(&Scalar::from(*count)) != *point {
                let (contest, option) = layout.ids(m, pos);
                return Err(Rejection::InconsistentResult {
                    contest,
                    option,
                    count: *count,
                });
            }
        }
        self.result = Some(r);
        Ok(())
    }
}
