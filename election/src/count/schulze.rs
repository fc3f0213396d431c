//! Schulze's method, winning votes (`specs/election.md` §7.3): the pairwise matrix `d`, the
//! strongest paths `p`, and a ranking of every candidate.
//!
//! `d[i][j]` counts the ballots that rank `i` above `j` (a ranked candidate is above every
//! unranked one; unranked candidates are level). The link `i → j` has strength `d[i][j]` when
//! `d[i][j] > d[j][i]` and 0 otherwise; `p[i][j]` is the strength of the strongest path, the
//! widest path computed as by Floyd–Warshall. `i` beats `j` when `p[i][j] > p[j][i]`, a
//! transitive relation (Schulze 2011, §4.1); candidates are ranked by how many they beat, then
//! by lot — a linear extension of that relation, whose first candidate is a Schulze winner.

use std::cmp::Reverse;
use std::collections::HashMap;

/// The outcome of a Schulze count over `C` candidates; matrices are row-major, `C × C`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schulze {
    pub d: Vec<u32>,
    pub p: Vec<u32>,
    /// Every candidate, from first to last.
    pub order: Vec<u32>,
}

/// Counts `ballots` (candidate indices `< lot.len()`, in order of preference, no repeats).
/// `lot[c]` is candidate `c`'s place in the lot.
pub fn count(ballots: &[Vec<u32>], lot: &[u32]) -> Schulze {
    let n = lot.len();
    // Identical rankings are counted once with their multiplicity: far fewer of them than
    // ballots in any real election.
    let mut groups: HashMap<&[u32], u32> = HashMap::new();
    for b in ballots {
        *groups.entry(b.as_slice()).or_default() += 1;
    }
    let mut d = vec![0u32; n * n];
    let mut above = vec![false; n];
    for (ranking, k) in groups {
        above.iter_mut().for_each(|a| *a = false);
        for &i in ranking {
            above[i as usize] = true;
            // `i` is above every candidate not yet placed: those ranked later and the unranked.
            for (j, placed) in above.iter().enumerate() {
                if !placed {
                    d[i as usize * n + j] += k;
                }
            }
        }
    }
    let mut p = vec![0u32; n * n];
    for i in 0..n {
        for j in 0..n {
            if i != j && d[i * n + j] > d[j * n + i] {
                p[i * n + j] = d[i * n + j];
            }
        }
    }
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let ji = p[j * n + i];
            if ji == 0 {
                continue;
            }
            for k in 0..n {
                if k != i && k != j {
                    let via = ji.min(p[i * n + k]);
                    if via > p[j * n + k] {
                        p[j * n + k] = via;
                    }
                }
            }
        }
    }
    let beats = |i: usize| (0..n).filter(|&j| p[i * n + j] > p[j * n + i]).count();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&c| (Reverse(beats(c as usize)), lot[c as usize]));
    Schulze { d, p, order }
}
