//! The urna election record and its rules.
//!
//! The ledger *is* the election record. This crate defines what can be on it — the manifest,
//! the signed entry envelope and every entry kind, ballots — and the one deterministic state
//! machine that decides, entry by entry, whether an entry is admissible. The bulletin board runs
//! it on admission; the verifier runs the same code on replay. `specs/election.md` specifies it
//! byte for byte.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod ballot;
pub mod context;
pub mod entry;
pub mod keys;
pub mod manifest;
pub mod payload;
pub mod phase;
pub mod rejection;
pub mod state;
