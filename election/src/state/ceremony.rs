//! The key ceremony (`specs/election.md` §6.2): a Pedersen DKG on the ledger. Each trustee
//! commits to a polynomial (with proofs of knowledge of its coefficients), deals one encrypted
//! share to every other trustee, and either confirms or complains with a public proof of what
//! it decrypted. Once every trustee still qualified has confirmed, the joint key
//! `K = Σ_{i∈Q} C_{i,0}` and the verification keys `VK_j = Σ_{i∈Q} Σ_k j^k·C_{i,k}` are fixed,
//! and with them the election context every ballot proof binds.
//!
//! The methods here judge an entry whose phase, trustee indices and author have been checked;
//! each checks everything before it changes anything.

use std::collections::{BTreeMap, BTreeSet};

use urna_crypto::elgamal::PublicKey;
use urna_crypto::group::Point;
use urna_crypto::share_enc::{verify_complaint, ComplaintVerdict, EncryptedShare};
use urna_crypto::threshold;

use crate::context::{dkg_ctx, ElectionContext};
use crate::entry::EntryKind;
use crate::manifest::Manifest;
use crate::payload::{DkgCommitment, DkgComplaint, DkgConfirm, DkgShares};
use crate::rejection::Rejection;

/// Where the ceremony stands after a complaint or a confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Progress {
    Continuing,
    /// Every qualified trustee confirmed: the joint key and the context are fixed.
    Complete,
    /// Fewer than `t` trustees remain qualified.
    Failed,
}

#[derive(Clone, Default)]
pub(super) struct Ceremony {
    pub(super) commitments: BTreeMap<u16, Vec<Point>>,
    pub(super) shares: BTreeMap<u16, Vec<(u16, EncryptedShare)>>,
    pub(super) disqualified: BTreeSet<u16>,
    pub(super) confirmed: BTreeSet<u16>,
    /// `Q`, once the ceremony has ended (completed or failed).
    pub(super) qualified: Vec<u16>,
    pub(super) context: Option<ElectionContext>,
}

impl Ceremony {
    pub(super) fn context(&self) -> Option<&ElectionContext> {
        self.context.as_ref()
    }

    pub(super) fn qualified(&self) -> &[u16] {
        &self.qualified
    }

    pub(super) fn commitments(&self, dealer: u16) -> Option<&[Point]> {
        self.commitments.get(&dealer).map(Vec::as_slice)
    }

    pub(super) fn share(&self, dealer: u16, recipient: u16) -> Option<&EncryptedShare> {
        self.shares
            .get(&dealer)?
            .iter()
            .find(|(to, _)| *to == recipient)
            .map(|(_, s)| s)
    }

    /// (trustee, has committed, has dealt, has confirmed, disqualified) for trustees `1..=n`.
    pub(super) fn status(&self, n: u16) -> Vec<(u16, bool, bool, bool, bool)> {
        (1..=n)
            .map(|i| {
                (
                    i,
                    self.commitments.contains_key(&i),
                    self.shares.contains_key(&i),
                    self.confirmed.contains(&i),
                    self.disqualified.contains(&i),
                )
            })
            .collect()
    }

    /// `DkgCommitment`: once per trustee, exactly `t` commitments, then the coefficient proofs
    /// (the one costly check, counted in `proofs`).
    pub(super) fn commit(
        &mut self,
        m: &Manifest,
        manifest_hash: &[u8; 32],
        c: DkgCommitment,
        proofs: &mut u64,
    ) -> Result<(), Rejection> {
        if self.commitments.contains_key(&c.dealer) {
            return Err(Rejection::AlreadyPosted {
                kind: EntryKind::DkgCommitment,
                trustee: c.dealer,
            });
        }
        if c.commitments.len() != usize::from(m.threshold) {
            return Err(Rejection::CommitmentCount {
                expected: m.threshold,
                got: c.commitments.len(),
            });
        }
        *proofs += 1;
        threshold::verify_coefficient_proofs(
            &c.commitments,
            &c.proofs,
            c.dealer,
            &dkg_ctx(manifest_hash),
        )
        .map_err(|_| Rejection::InvalidCoefficientProof { dealer: c.dealer })?;
        self.commitments.insert(c.dealer, c.commitments);
        Ok(())
    }

    /// `DkgShares`: after the dealer's commitments, once, to every other trustee in order.
    pub(super) fn deal(&mut self, m: &Manifest, s: DkgShares) -> Result<(), Rejection> {
        if !self.commitments.contains_key(&s.dealer) {
            return Err(Rejection::SharesBeforeCommitments { dealer: s.dealer });
        }
        if self.shares.contains_key(&s.dealer) {
            return Err(Rejection::AlreadyPosted {
                kind: EntryKind::DkgShares,
                trustee: s.dealer,
            });
        }
        let n = m.trustees.len() as u16;
        let expected = (1..=n).filter(|j| *j != s.dealer);
        if !s.shares.iter().map(|(j, _)| *j).eq(expected) {
            return Err(Rejection::ShareRecipients { dealer: s.dealer });
        }
        self.shares.insert(s.dealer, s.shares);
        Ok(())
    }

    /// `DkgComplaint` by `j` against `i`: not against itself, not after confirming, not against
    /// a disqualified dealer, only about a share that was dealt; then the reveal is judged.
    pub(super) fn complain(
        &mut self,
        m: &Manifest,
        manifest_hash: &[u8; 32],
        c: &DkgComplaint,
        proofs: &mut u64,
    ) -> Result<Progress, Rejection> {
        if c.dealer == c.complainer {
            return Err(Rejection::SelfComplaint {
                trustee: c.complainer,
            });
        }
        if self.confirmed.contains(&c.complainer) {
            return Err(Rejection::ComplaintAfterConfirm {
                complainer: c.complainer,
            });
        }
        if self.disqualified.contains(&c.dealer) {
            return Err(Rejection::DealerDisqualified { dealer: c.dealer });
        }
        let no_share = Rejection::NoSharePosted {
            complainer: c.complainer,
            dealer: c.dealer,
        };
        let (Some(commitments), Some(share)) = (
            self.commitments.get(&c.dealer),
            self.share(c.dealer, c.complainer),
        ) else {
            return Err(no_share);
        };
        let recipient_key = m
            .trustees
            .get(usize::from(c.complainer).wrapping_sub(1))
            .map(|t| t.ceremony_key)
            .ok_or(no_share)?;
        *proofs += 1;
        let verdict = verify_complaint(
            share,
            &c.reveal,
            &recipient_key,
            commitments,
            c.dealer,
            c.complainer,
            &dkg_ctx(manifest_hash),
        );
        match verdict {
            ComplaintVerdict::Upheld => {
                self.disqualified.insert(c.dealer);
                self.confirmed.remove(&c.dealer);
                Ok(self.settle(m, manifest_hash))
            }
            ComplaintVerdict::ShareValid => Err(Rejection::FalseComplaint {
                complainer: c.complainer,
                dealer: c.dealer,
            }),
            ComplaintVerdict::BadReveal(_) => Err(Rejection::InvalidReveal {
                complainer: c.complainer,
                dealer: c.dealer,
            }),
        }
    }

    /// `DkgConfirm` by `j`: not disqualified, once, after every trustee has dealt.
    pub(super) fn confirm(
        &mut self,
        m: &Manifest,
        manifest_hash: &[u8; 32],
        c: DkgConfirm,
    ) -> Result<Progress, Rejection> {
        if self.disqualified.contains(&c.trustee) {
            return Err(Rejection::TrusteeDisqualified {
                kind: EntryKind::DkgConfirm,
                trustee: c.trustee,
            });
        }
        if self.confirmed.contains(&c.trustee) {
            return Err(Rejection::AlreadyPosted {
                kind: EntryKind::DkgConfirm,
                trustee: c.trustee,
            });
        }
        if self.shares.len() != m.trustees.len() {
            return Err(Rejection::ConfirmBeforeShares {
                dealt: self.shares.len(),
                trustees: m.trustees.len(),
            });
        }
        self.confirmed.insert(c.trustee);
        Ok(self.settle(m, manifest_hash))
    }

    /// After a complaint or a confirmation: fails below `t` qualified trustees, completes once
    /// every qualified trustee has confirmed.
    fn settle(&mut self, m: &Manifest, manifest_hash: &[u8; 32]) -> Progress {
        let n = m.trustees.len() as u16;
        let qualified: Vec<u16> = (1..=n).filter(|i| !self.disqualified.contains(i)).collect();
        if qualified.len() < usize::from(m.threshold) {
            self.qualified = qualified;
            return Progress::Failed;
        }
        if !qualified.iter().all(|i| self.confirmed.contains(i)) {
            return Progress::Continuing;
        }
        let dealt: Vec<&[Point]> = qualified
            .iter()
            .filter_map(|i| self.commitments.get(i).map(Vec::as_slice))
            .collect();
        let joint = threshold::joint_public_key(&dealt);
        let vks: Vec<Point> = (1..=n)
            .map(|j| threshold::verification_key(&dealt, j))
            .collect();
        let Ok(key) = PublicKey::new(joint) else {
            // The sum of honest random commitments is the identity with negligible probability;
            // if it happens the ceremony cannot produce a key.
            return Progress::Failed;
        };
        self.context = Some(ElectionContext::new(*manifest_hash, key, vks));
        self.qualified = qualified;
        Progress::Complete
    }
}
