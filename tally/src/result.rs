//! The result as anyone computes it from the ledger: combine the first `t` admitted decryption
//! shares (Lagrange at 0), then solve each total's discrete logarithm within its bound.

use rayon::prelude::*;
use thiserror::Error;
use urna_crypto::dlog;
use urna_election::payload::ElectionResult;
use urna_election::rejection::Rejection;
use urna_election::state::{Election, Phase};

#[derive(Debug, Error)]
pub enum TallyError {
    #[error("the election is in phase {0:?}; the result is computed in the tallying phase")]
    WrongPhase(Phase),
    #[error("cannot combine the decryption shares: {0}")]
    Combine(Rejection),
    #[error("contest {contest}, option {option}: the decrypted total is not below its bound {bound} (the shares or the tally are wrong)")]
    OutOfBound {
        contest: usize,
        option: usize,
        bound: u64,
    },
    #[error("every contest is ranked: there is no homomorphic tally, only the ranked counts")]
    NoTally,
    #[error("the decrypted totals do not have the tally's shape")]
    Shape,
}

/// Combines the admitted shares and recovers every total of the homomorphic tally, laid out
/// as the `Result` entry carries them: per contest, one count per option, none for a ranked
/// contest (which is counted from its mixed ballots instead).
pub fn compute(e: &Election) -> Result<ElectionResult, TallyError> {
    if e.phase() != Phase::Tallying && e.phase() != Phase::Finished {
        return Err(TallyError::WrongPhase(e.phase()));
    }
    let m = e.manifest().ok_or(TallyError::WrongPhase(e.phase()))?;
    if !m.has_tally() {
        return Err(TallyError::NoTally);
    }
    let points = e.combine().map_err(TallyError::Combine)?;
    let weight = e.total_weight();
    let positions = m.option_positions();
    let bounds: Vec<u64> = positions
        .iter()
        .map(|(c, _)| {
            let per = u64::from(m.contests[usize::from(*c)].rule().per_option_max);
            weight.saturating_mul(per).saturating_add(1)
        })
        .collect();
    let flat: Vec<u64> = points
        .par_iter()
        .zip(&bounds)
        .zip(&positions)
        .map(|((p, &bound), &(c, o))| {
            dlog::solve_vartime(p, bound).map_err(|_| TallyError::OutOfBound {
                contest: usize::from(c),
                option: usize::from(o),
                bound,
            })
        })
        .collect::<Result<_, _>>()?;
    ElectionResult::from_tally(m, &flat).ok_or(TallyError::Shape)
}
