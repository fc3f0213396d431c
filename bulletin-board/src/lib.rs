//! The urna bulletin board: the server that keeps the election's public ledger.
//!
//! An entry is appended only if the `urna-election` state machine admits it; the log is an RFC
//! 9162 Merkle tree whose heads are published as C2SP signed-note checkpoints, and every
//! admitted entry is durable before its receipt is returned.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod board;
pub mod index;
pub mod server;
