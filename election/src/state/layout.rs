//! Where each contest of a ballot goes (`specs/election.md` §7): every option of a contest in
//! the homomorphic tally has a position there — the manifest's contests, then their options —
//! and every ranked contest has a list of rows to mix. Ballots add into them; the encrypted
//! tally, the decryption shares and the result are laid out by the positions.

use crate::manifest::Manifest;

/// Where one contest of a ballot style goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    /// Into the tally, its options at positions `first..first + options`.
    Tally { first: usize, options: usize },
    /// Into the list of the `k`-th ranked contest (in manifest order).
    Ranked(usize),
}

#[derive(Clone, Default)]
pub(super) struct Layout {
    /// `(contest, option)` of each position ([`Manifest::option_positions`]).
    positions: Vec<(u16, u16)>,
    /// For each ballot style, a slot per contest in the order its ballots list them.
    styles: Vec<Vec<Slot>>,
    /// The manifest index of each ranked contest.
    ranked: Vec<u16>,
}

impl Layout {
    pub(super) fn new(m: &Manifest) -> Layout {
        let mut slots = Vec::with_capacity(m.contests.len());
        let mut ranked = Vec::new();
        let mut total = 0;
        for (i, c) in m.contests.iter().enumerate() {
            if c.ranked().is_some() {
                slots.push(Slot::Ranked(ranked.len()));
                ranked.push(i as u16);
            } else {
                slots.push(Slot::Tally {
                    first: total,
                    options: c.options.len(),
                });
                total += c.options.len();
            }
        }
        let styles = m
            .ballot_styles
            .iter()
            .map(|s| {
                s.contests
                    .iter()
                    .filter_map(|&ci| slots.get(usize::from(ci)).copied())
                    .collect()
            })
            .collect();
        Layout {
            positions: m.option_positions(),
            styles,
            ranked,
        }
    }

    /// How many positions (options of every tallied contest) there are.
    pub(super) fn len(&self) -> usize {
        self.positions.len()
    }

    /// `(contest, option)` at a position.
    pub(super) fn label(&self, pos: usize) -> Option<(u16, u16)> {
        self.positions.get(pos).copied()
    }

    /// Where each contest of a style's ballots goes, in the order the ballots list them.
    pub(super) fn style_slots(&self, style: u16) -> &[Slot] {
        self.styles
            .get(usize::from(style))
            .map_or(&[], Vec::as_slice)
    }

    /// The manifest index of each ranked contest, in manifest order.
    pub(super) fn ranked(&self) -> &[u16] {
        &self.ranked
    }

    /// The ids of the contest and option at a position, for messages.
    pub(super) fn ids(&self, m: &Manifest, pos: usize) -> (String, String) {
        let Some((c, o)) = self.label(pos) else {
            return (String::new(), String::new());
        };
        let contest = m.contests.get(usize::from(c));
        (
            contest.map(|x| x.id.clone()).unwrap_or_default(),
            contest
                .and_then(|x| x.options.get(usize::from(o)))
                .map(|x| x.id.clone())
                .unwrap_or_default(),
        )
    }
}
