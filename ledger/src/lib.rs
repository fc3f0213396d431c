//! The verified log: what every party holds of the election record, and how it is checked.
//!
//! - [`merkle`]: the RFC 9162 tree, inclusion and consistency proofs;
//! - [`note`]: C2SP signed notes, checkpoints, cosignatures and `tlog-proof` receipts;
//! - [`tiles`]: C2SP tlog-tiles, how the log is served and fetched in bulk;
//! - [`witnessed`]: what the witnesses a manifest names vouch for (specs/board.md §6);
//! - [`receipt`]: the voter's saved receipt and its ballot's standing;
//! - [`store`]: where a log is kept, behind one trait (the board's framed file log, a client's
//!   in-memory copy);
//! - [`replica`]: the one verified copy of a log — hashed, checked against signed checkpoints
//!   and replayed through the rules, once — that the board, every client and the verifier hold.
//!
//! It knows the election rules only as the state machine `urna-election` runs; it knows nothing
//! of HTTP.

pub mod merkle;
pub mod note;
pub mod receipt;
pub mod replica;
pub mod store;
pub mod tiles;
pub mod witnessed;

pub use replica::{Replica, ReplicaError};
pub use store::{FileLog, LogStore, MemoryLog, Statement, StoreError, StreamLog};
