//! What voters run. The voter's client trusts no server: it checks the board's signatures,
//! replays the ledger through the election rules to learn the joint key the key ceremony
//! produced, verifies its receipts, and can audit its own encryption (Benaloh).

pub mod cast;
pub mod choices;
pub mod credential;
pub mod receipt;
pub mod vote;
