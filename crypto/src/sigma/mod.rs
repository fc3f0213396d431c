//! Sigma protocols made non-interactive with Merlin transcripts, in *commitment form*: a proof
//! carries its commitments so that verification is a set of linear equations in group elements,
//! which [`crate::batch::BatchVerifier`] checks many at a time.
//!
//! Every proof's transcript starts with [`crate::transcript::proof_transcript`] (protocol label,
//! versioned domain separator, the caller's context bytes), then the whole statement, then the
//! commitments. A single proof verified on its own is checked as a batch of one whose weights are
//! derived from the transcript after the responses are appended, so nothing about the weights is
//! known to the prover before the proof is fixed.

mod chaum_pedersen;
mod disjunctive;
mod dleq_batch;
mod linear;
mod plaintext_knowledge;
mod schnorr;

pub use chaum_pedersen::{ChaumPedersenProof, DleqStatement};
pub use disjunctive::{Branch, DisjunctiveProof};
pub use dleq_batch::DleqBatchProof;
pub use linear::LinearProof;
pub use plaintext_knowledge::PlaintextKnowledgeProof;
pub use schnorr::SchnorrProof;

use merlin::Transcript;

use crate::batch::BatchVerifier;
use crate::errors::VerifyError;

/// The batch of one used by `verify` methods: weights drawn from the finished transcript.
pub(crate) fn single_batch(t: &mut Transcript) -> BatchVerifier {
    let mut seed = [0u8; 32];
    t.challenge_bytes(b"batch-weights", &mut seed);
    BatchVerifier::from_seed(seed)
}

/// Runs a batch of one, naming the proof on failure.
pub(crate) fn check(batch: BatchVerifier, proof: &'static str) -> Result<(), VerifyError> {
    batch
        .verify_vartime()
        .map_err(|_| VerifyError::ProofInvalid(proof))
}
