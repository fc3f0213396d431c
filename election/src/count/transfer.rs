//! Counts by transfer of ballots (`specs/election.md` §7.3): instant-runoff voting and the
//! single transferable vote with the weighted inclusive Gregory method in fixed point.
//!
//! Both run the same loop. Every valid ballot starts on its first preference's pile with the
//! value `unit`. Each stage moves one pile: an elected candidate's surplus (STV) or an
//! excluded candidate's ballots; a moving ballot goes to its next *continuing* preference
//! (neither elected nor excluded) or is exhausted. After each stage the rule decides who is
//! elected. All arithmetic is on integers, so every implementation gets the same stages.
//!
//! Cost: a ballot moves at most once per preference, and the lowest candidate is found in an
//! ordered set, so a count takes `O((C + N·R)·log C)` for `C` candidates and `N` ballots of
//! `R` preferences, and its record (the credits of each stage) is of the same size.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use super::{Action, Stage};
use crate::manifest::CountMethod;

/// Values of an STV ballot are in units of 10⁻⁵ vote.
pub const STV_UNIT: u64 = 100_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Continuing,
    Elected,
    Excluded,
}

/// The outcome of a count by transfers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfers {
    /// The value of a whole vote: 1 for IRV, 100,000 for STV.
    pub unit: u64,
    /// The Droop quota in units (STV); 0 for IRV, whose threshold is a majority of the
    /// continuing ballots.
    pub quota: u64,
    pub stages: Vec<Stage>,
    /// In order of election.
    pub elected: Vec<u32>,
}

struct Count<'a> {
    method: CountMethod,
    seats: usize,
    ballots: &'a [Vec<u32>],
    /// Each candidate's place in the lot (0 first).
    lot: &'a [u32],
    quota: u64,
    value: Vec<u64>,
    at: Vec<usize>,
    pile: Vec<Vec<u32>>,
    tally: Vec<u64>,
    status: Vec<Status>,
    /// Continuing candidates, lowest first: by tally, then the later in the lot first.
    ranked: BTreeSet<(u64, Reverse<u32>, u32)>,
    /// Elected candidates whose surplus is not transferred yet.
    surpluses: Vec<u32>,
    elected: Vec<u32>,
    /// The value on continuing candidates' piles (IRV's majority is of this).
    continuing: u64,
    stages: Vec<Stage>,
}

/// Counts `ballots` (each a list of candidate indices `< lot.len()`, in order of preference,
/// without repeats, not empty) for `seats` seats by IRV (`seats` must be 1) or STV.
/// `lot[c]` is candidate `c`'s place in the lot.
pub fn count(method: CountMethod, seats: u16, ballots: &[Vec<u32>], lot: &[u32]) -> Transfers {
    let candidates = lot.len();
    let unit = if method == CountMethod::Stv {
        STV_UNIT
    } else {
        1
    };
    let votes = ballots.len() as u64;
    let quota = if method == CountMethod::Stv {
        (votes / (u64::from(seats) + 1) + 1) * unit
    } else {
        0
    };
    let mut c = Count {
        method,
        seats: usize::from(seats),
        ballots,
        lot,
        quota,
        value: vec![unit; ballots.len()],
        at: vec![0; ballots.len()],
        pile: vec![Vec::new(); candidates],
        tally: vec![0; candidates],
        status: vec![Status::Continuing; candidates],
        ranked: BTreeSet::new(),
        surpluses: Vec::new(),
        elected: Vec::new(),
        continuing: 0,
        stages: Vec::new(),
    };
    c.run();
    Transfers {
        unit,
        quota,
        stages: c.stages,
        elected: c.elected,
    }
}

impl Count<'_> {
    fn run(&mut self) {
        let mut credits = BTreeMap::new();
        for (b, prefs) in self.ballots.iter().enumerate() {
            if let Some(&first) = prefs.first() {
                self.place(b as u32, first, &mut credits);
            }
        }
        for c in 0..self.lot.len() as u32 {
            self.ranked.insert(self.key(c));
        }
        let mut stage = Stage {
            action: Action::First,
            credits: credits.into_iter().collect(),
            exhausted: 0,
            lost: 0,
            elected: Vec::new(),
        };
        // No valid ballot: nobody is elected, whatever the method.
        if self.ballots.is_empty() {
            self.stages.push(stage);
            return;
        }
        loop {
            let done = self.decide(&mut stage);
            self.stages.push(stage);
            if done {
                return;
            }
            stage = match self.next_surplus() {
                Some(x) => self.transfer_surplus(x),
                None => match self.ranked.first().map(|k| k.2) {
                    Some(x) => self.exclude(x),
                    None => return,
                },
            };
        }
    }

    fn key(&self, c: u32) -> (u64, Reverse<u32>, u32) {
        (self.tally[c as usize], Reverse(self.lot[c as usize]), c)
    }

    /// Puts ballot `b` on `c`'s pile at its current value.
    fn place(&mut self, b: u32, c: u32, credits: &mut BTreeMap<u32, u64>) {
        let v = self.value[b as usize];
        let (ci, was) = (c as usize, self.key(c));
        let tracked = self.ranked.remove(&was);
        self.pile[ci].push(b);
        self.tally[ci] += v;
        self.continuing += v;
        if tracked {
            self.ranked.insert(self.key(c));
        }
        if v > 0 {
            *credits.entry(c).or_default() += v;
        }
    }

    /// Moves ballot `b` to its next continuing preference; returns the value exhausted.
    fn advance(&mut self, b: u32, credits: &mut BTreeMap<u32, u64>) -> u64 {
        let prefs = &self.ballots[b as usize];
        let mut at = self.at[b as usize] + 1;
        while at < prefs.len() && self.status[prefs[at] as usize] != Status::Continuing {
            at += 1;
        }
        self.at[b as usize] = at;
        match prefs.get(at) {
            Some(&c) => {
                self.place(b, c, credits);
                0
            }
            None => self.value[b as usize],
        }
    }

    /// Continuing candidates in order of election: highest tally first, then first in the lot.
    fn by_tally(&self, mut cs: Vec<u32>) -> Vec<u32> {
        cs.sort_by_key(|&c| (Reverse(self.tally[c as usize]), self.lot[c as usize]));
        cs
    }

    fn elect(&mut self, c: u32, stage: &mut Stage) {
        self.ranked.remove(&self.key(c));
        self.status[c as usize] = Status::Elected;
        self.continuing -= self.tally[c as usize];
        self.elected.push(c);
        stage.elected.push(c);
        if self.method == CountMethod::Stv {
            self.surpluses.push(c);
        }
    }

    /// The rule at the end of a stage: elects whom it must; returns whether the count is over.
    fn decide(&mut self, stage: &mut Stage) -> bool {
        let open: Vec<u32> = self.ranked.iter().map(|k| k.2).collect();
        match self.method {
            CountMethod::Stv => {
                let reached: Vec<u32> = open
                    .iter()
                    .copied()
                    .filter(|&c| self.tally[c as usize] >= self.quota)
                    .collect();
                for c in self.by_tally(reached) {
                    if self.elected.len() < self.seats {
                        self.elect(c, stage);
                    }
                }
                if self.elected.len() >= self.seats {
                    return true;
                }
                let open: Vec<u32> = self.ranked.iter().map(|k| k.2).collect();
                if open.len() <= self.seats - self.elected.len() {
                    for c in self.by_tally(open) {
                        self.elect(c, stage);
                    }
                    return true;
                }
                false
            }
            // IRV: a majority of the continuing ballots, or the last candidate standing.
            _ => {
                let leader = self.by_tally(open.clone()).first().copied();
                match leader {
                    Some(c)
                        if open.len() == 1
                            || u128::from(self.tally[c as usize]) * 2
                                > u128::from(self.continuing) =>
                    {
                        self.elect(c, stage);
                        true
                    }
                    Some(_) => false,
                    None => true,
                }
            }
        }
    }

    /// The elected candidate whose surplus moves next: the largest, then first in the lot.
    /// Surpluses of zero need no stage and are dropped.
    fn next_surplus(&mut self) -> Option<u32> {
        let quota = self.quota;
        let tally = &self.tally;
        self.surpluses.retain(|&c| tally[c as usize] > quota);
        let lot = self.lot;
        let best = self
            .surpluses
            .iter()
            .copied()
            .min_by_key(|&c| (Reverse(tally[c as usize]), lot[c as usize]))?;
        self.surpluses.retain(|&c| c != best);
        Some(best)
    }

    /// Weighted inclusive Gregory: every ballot on `x`'s pile moves on at
    /// `⌊value · surplus / tally⌋`; what truncation drops is recorded as lost; `x` keeps the
    /// quota.
    fn transfer_surplus(&mut self, x: u32) -> Stage {
        let total = self.tally[x as usize];
        let surplus = total - self.quota;
        let pile = std::mem::take(&mut self.pile[x as usize]);
        let mut credits = BTreeMap::new();
        let (mut moved, mut exhausted) = (0u64, 0u64);
        for b in pile {
            let v = u128::from(self.value[b as usize]) * u128::from(surplus) / u128::from(total);
            // v ≤ value ≤ unit.
            let v = v as u64;
            self.value[b as usize] = v;
            moved += v;
            exhausted += self.advance(b, &mut credits);
        }
        // The surplus left `continuing` when `x` was elected; only what moved came back.
        self.tally[x as usize] = self.quota;
        Stage {
            action: Action::Surplus(x),
            credits: credits.into_iter().collect(),
            exhausted,
            lost: surplus - moved,
            elected: Vec::new(),
        }
    }

    /// Excludes `x`: every ballot on its pile moves on at its value.
    fn exclude(&mut self, x: u32) -> Stage {
        self.ranked.remove(&self.key(x));
        self.status[x as usize] = Status::Excluded;
        let total = self.tally[x as usize];
        self.tally[x as usize] = 0;
        self.continuing -= total;
        let pile = std::mem::take(&mut self.pile[x as usize]);
        let mut credits = BTreeMap::new();
        let mut exhausted = 0u64;
        for b in pile {
            exhausted += self.advance(b, &mut credits);
        }
        Stage {
            action: Action::Exclusion(x),
            credits: credits.into_iter().collect(),
            exhausted,
            lost: 0,
            elected: Vec::new(),
        }
    }
}

/// The tally of every candidate after each stage, from a count's record alone (what a reader
/// of the published count recomputes): stage 0's credits; then the previous tallies plus the
/// stage's credits, with the moved candidate left at the quota (surplus) or 0 (exclusion).
pub fn tallies(t: &Transfers, candidates: usize) -> Vec<Vec<u64>> {
    let mut out: Vec<Vec<u64>> = Vec::with_capacity(t.stages.len());
    let mut now = vec![0u64; candidates];
    for s in &t.stages {
        match s.action {
            Action::First => {}
            Action::Surplus(x) => now[x as usize] = t.quota,
            Action::Exclusion(x) => now[x as usize] = 0,
        }
        for &(c, v) in &s.credits {
            now[c as usize] += v;
        }
        out.push(now.clone());
    }
    out
}
