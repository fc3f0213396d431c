//! The urna bulletin board: the server that keeps the election's public ledger.
//!
//! An entry is appended only if the `urna-election` state machine admits it; the log is an RFC
//! 9162 Merkle tree whose heads are published as C2SP signed-note checkpoints, and every
//! admitted entry is durable before its receipt is returned.

pub mod attest;
pub mod board;
pub mod index;
pub mod server;
