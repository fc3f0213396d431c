//! The urna election record and its rules.
//!
//! The ledger *is* the election record. This crate defines what can be on it — the manifest,
//! the signed entry envelope and every entry kind, ballots — and the one deterministic state
//! machine that decides, entry by entry, whether an entry is admissible. The bulletin board runs
//! it on admission; clients and the verifier run the same code on replay. `specs/election.md`
//! specifies it byte for byte.
//!
//! - [`manifest`]: what the election authority declares, its rules and canonical form (§2);
//! - [`entry`]: the signed envelope every act travels in, and tracking codes (§3, §8);
//! - [`keys`]: which Ed25519 keys the election registers (§3.1);
//! - [`payload`]: the payload of each entry kind (§4); [`ballot`]: ballots, their proofs and
//!   Benaloh openings (§5); [`context`]: the bytes every proof binds;
//! - [`ranking`]: a ranked ballot's plaintext and the rule that reads it; [`count`]: the count
//!   of a ranked contest (IRV, STV, Schulze); [`mixnet`]: the entries its mixers, trustees and
//!   counters post;
//! - [`state`]: the state machine (§6–7), and [`phase`], [`rejection`]: where an election stands
//!   and why an entry is refused.

pub mod ballot;
pub mod context;
pub mod count;
pub mod entry;
pub mod keys;
pub mod manifest;
pub mod mixnet;
pub mod payload;
pub mod phase;
pub mod ranking;
pub mod rejection;
pub mod state;
