//! The observer's verification of a whole election record (specs/verifier.md): the Merkle tree
//! against the board-signed checkpoint, consistency with checkpoints kept earlier, what the
//! witnesses vouch for, then a replay of every entry through the same state machine the board
//! runs (every signature, proof and rule), and the result against the combination of the
//! decryption shares.
//!
//! Verification returns a [`Report`] of typed [`Finding`]s, one per check made, each with a
//! stable code ([`Check::code`]); the `urna verify` command only renders it. It reads the log
//! through one [`Replica`](urna_ledger::Replica), from a record file ([`verify_record`]) or
//! from what a client downloaded from a board ([`verify_board`]); it depends on no party's
//! crate (trustee, voter, registrar) and on no HTTP client.

pub mod finding;
pub mod malloc;
pub mod record;
mod verify;

pub use finding::{Check, Finding, KeySource, Report, WitnessAnswer, WitnessReport};
pub use verify::{
    manifest_of, target, verify_board, verify_record, BoardError, FromBoard, Options, ReadEntries,
    Spill, Target, CHUNK,
};

use urna_election::manifest::Manifest;
use urna_election::payload::ElectionResult;
use urna_tally::ranked::RankedResult;

/// The result as a table, one block per contest, options by name (aligned by display width),
/// with shares and the winners by each contest's rule ([`urna_tally::summary`]); the ranked
/// contests (in manifest order, `ranked`) with their rounds or pairwise matrix.
pub fn result_table(m: &Manifest, r: &ElectionResult, ranked: &[RankedResult]) -> String {
    let mut summary = urna_tally::summary::Summary::of_counts(m, r);
    let mut counts = ranked.iter();
    for c in summary.contests.iter_mut().filter(|c| c.kind == "ranked") {
        if let Some(k) = counts.next() {
            c.winners = k.elected.clone();
            c.total = u64::from(k.counted);
            c.ranked = Some(k.clone());
        }
    }
    let text = summary.to_text();
    // The title and election id head the report already.
    text.splitn(3, '\n')
        .nth(2)
        .unwrap_or_default()
        .trim_start()
        .to_string()
}
