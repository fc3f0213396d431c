//! Synthetic elections and test fixtures, for tests, vectors, benchmarks and `urna bench`
//! only: never a dependency of anything a party runs in an election.
//!
//! - [`manifest`]: manifests built from typed parts, validated as an authority's are;
//! - [`kit`]: a small deterministic election with every role's keys and honest (or, where
//!   asked, cheating) entries of every kind;
//! - [`ranked`]: ranked contests in the kit: ballots, mixes (honest and cheating), partial
//!   decryptions, counts, and a complete ranked record;
//! - [`synth`]: large, fully valid plurality-10 records for the performance figures.

// Fixtures, not a party's code: one that cannot be built is a bug in the test or benchmark
// using it, and says so by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod kit;
pub mod manifest;
pub mod ranked;
pub mod synth;
