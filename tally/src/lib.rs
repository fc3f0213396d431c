//! What a trustee runs, without I/O: its sealed key material, the next step of the key
//! ceremony given the ledger as replayed by the election state machine, its decryption share of
//! the tally, and the combination of shares into the result that anyone can compute.
//!
//! Everything is decided from the ledger: a trustee that crashes re-reads the board and carries
//! on from what is already there, and never posts anything that conflicts with it.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod result;
pub mod trustee;
