//! Where each option sits in the flattened tally: the manifest's contests, then their options,
//! one position each (`specs/election.md` §7). Ballots add into it, the encrypted tally, the
//! decryption shares and the result are laid out by it.

use crate::manifest::Manifest;

#[derive(Clone, Default)]
pub(super) struct Layout {
    /// `(contest, option)` of each position ([`Manifest::option_positions`]).
    positions: Vec<(u16, u16)>,
    /// For each ballot style, the positions of its options in the order its ballots list them.
    styles: Vec<Vec<usize>>,
}

impl Layout {
    pub(super) fn new(m: &Manifest) -> Layout {
        // The position of each contest's first option.
        let mut offsets = Vec::with_capacity(m.contests.len());
        let mut total = 0;
        for c in &m.contests {
            offsets.push(total);
            total += c.options.len();
        }
        let styles = m
            .ballot_styles
            .iter()
            .map(|s| {
                s.contests
                    .iter()
                    .filter_map(|&ci| {
                        let c = usize::from(ci);
                        let start = *offsets.get(c)?;
                        Some(start..start + m.contests.get(c)?.options.len())
                    })
                    .flatten()
                    .collect()
            })
            .collect();
        Layout {
            positions: m.option_positions(),
            styles,
        }
    }

    /// How many positions (options of every contest) there are.
    pub(super) fn len(&self) -> usize {
        self.positions.len()
    }

    /// `(contest, option)` at a position.
    pub(super) fn label(&self, pos: usize) -> Option<(u16, u16)> {
        self.positions.get(pos).copied()
    }

    /// The positions of a style's options, in the order its ballots list their ciphertexts.
    pub(super) fn style_positions(&self, style: u16) -> &[usize] {
        self.styles
            .get(usize::from(style))
            .map_or(&[], Vec::as_slice)
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
