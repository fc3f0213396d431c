//! The tally as anyone computes it from the ledger: the combination of the trustees' decryption
//! shares into the totals ([`result`]), and the result as people read it ([`summary`], with
//! the ranked contests' counts and rounds in [`ranked`]). A pure
//! function of the replayed election, shared by the trustees' `urna tally`, officials and the
//! verifier.

pub mod ranked;
pub mod result;
pub mod summary;
