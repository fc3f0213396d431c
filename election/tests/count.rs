//! The counting rules of ranked contests (`specs/election.md` §7.3) against worked examples
//! from the literature, and their properties on random profiles: IRV elects a first-round
//! majority at once, Schulze elects a Condorcet winner, STV conserves every vote's value, and
//! the canonical encoding of a count decodes to the same count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use urna_election::count::transfer::{self, tallies, STV_UNIT};
use urna_election::count::{schulze, Action, Candidate, Outcome, RankedCount};
use urna_election::manifest::{Contest, ContestKind, ContestOption, CountMethod, RankedRules};
use urna_election::ranking::{Choice, Invalid};

/// `copies × ranking`, candidates by letter (`"ACB"` ranks A, then C, then B).
fn profile(groups: &[(usize, &str)]) -> Vec<Vec<u32>> {
    groups
        .iter()
        .flat_map(|(k, r)| {
            let ranking: Vec<u32> = r.bytes().map(|b| u32::from(b - b'A')).collect();
            std::iter::repeat(ranking).take(*k)
        })
        .collect()
}

fn in_order(n: u32) -> Vec<u32> {
    (0..n).collect()
}

/// Wikipedia, "Schulze method", the example with 45 voters and 5 candidates: the pairwise
/// matrix, the strongest paths, and the ranking E > A > C > B > D.
#[test]
fn schulze_wikipedia_example() {
    let ballots = profile(&[
        (5, "ACBED"),
        (5, "ADECB"),
        (8, "BEDAC"),
        (3, "CABED"),
        (7, "CAEBD"),
        (2, "CBADE"),
        (7, "DCEBA"),
        (8, "EBADC"),
    ]);
    let s = schulze::count(&ballots, &in_order(5));
    #[rustfmt::skip]
    let d = [
        0, 20, 26, 30, 22,
        25, 0, 16, 33, 18,
        19, 29, 0, 17, 24,
        15, 12, 28, 0, 14,
        23, 27, 21, 31, 0,
    ];
    #[rustfmt::skip]
    let p = [
        0, 28, 28, 30, 24,
        25, 0, 28, 33, 24,
        25, 29, 0, 29, 24,
        25, 28, 28, 0, 24,
        25, 28, 28, 31, 0,
    ];
    assert_eq!(s.d, d);
    assert_eq!(s.p, p);
    assert_eq!(s.order, [4, 0, 2, 1, 3]);
}

/// The Tennessee capital example (Wikipedia, "Instant-runoff voting"; per hundred voters):
/// Memphis leads the first round, Chattanooga then Nashville are excluded, and Knoxville wins
/// with 58. Schulze elects Nashville, the Condorcet winner.
#[test]
fn irv_and_schulze_on_tennessee() {
    // A Memphis, B Nashville, C Chattanooga, D Knoxville.
    let ballots = profile(&[(42, "ABCD"), (26, "BCDA"), (15, "CDBA"), (17, "DCBA")]);
    let t = transfer::count(CountMethod::Irv, 1, &ballots, &in_order(4));
    assert_eq!(t.unit, 1);
    assert_eq!(t.elected, [3]);
    let actions: Vec<Action> = t.stages.iter().map(|s| s.action).collect();
    assert_eq!(
        actions,
        [Action::First, Action::Exclusion(2), Action::Exclusion(1)]
    );
    let rounds = tallies(&t, 4);
    assert_eq!(rounds[0], [42, 26, 15, 17]);
    assert_eq!(rounds[1], [42, 26, 0, 32]);
    assert_eq!(rounds[2], [42, 0, 0, 58]);
    assert_eq!(t.stages[2].elected, [3]);
    let s = schulze::count(&ballots, &in_order(4));
    assert_eq!(s.order[0], 1);
}

/// Wikipedia, "Single transferable vote", the food example: 20 voters, 3 seats, Droop quota 6.
/// Chocolate's surplus of 6 moves at half value (4 to Strawberries, 2 to Hamburgers), Pears is
/// excluded and Oranges reaches the quota, Hamburgers is excluded and its votes exhaust, and
/// Strawberries is elected as the last continuing candidate.
#[test]
fn stv_wikipedia_food_example() {
    // A Oranges, B Pears, C Chocolate, D Strawberries, E Hamburgers.
    let ballots = profile(&[
        (4, "A"),
        (2, "BA"),
        (8, "CD"),
        (4, "CE"),
        (1, "D"),
        (1, "E"),
    ]);
    let t = transfer::count(CountMethod::Stv, 3, &ballots, &in_order(5));
    let u = STV_UNIT;
    assert_eq!(t.quota, 6 * u);
    assert_eq!(t.elected, [2, 0, 3]);
    let actions: Vec<Action> = t.stages.iter().map(|s| s.action).collect();
    assert_eq!(
        actions,
        [
            Action::First,
            Action::Surplus(2),
            Action::Exclusion(1),
            Action::Exclusion(4)
        ]
    );
    let rounds = tallies(&t, 5);
    assert_eq!(rounds[0], [4 * u, 2 * u, 12 * u, u, u]);
    assert_eq!(rounds[1], [4 * u, 2 * u, 6 * u, 5 * u, 3 * u]);
    assert_eq!(rounds[2], [6 * u, 0, 6 * u, 5 * u, 3 * u]);
    assert_eq!(rounds[3], [6 * u, 0, 6 * u, 5 * u, 0]);
    assert_eq!(t.stages[0].elected, [2]);
    assert_eq!(t.stages[2].elected, [0]);
    assert_eq!(t.stages[3].elected, [3]);
    assert_eq!(t.stages[3].exhausted, 3 * u);
    assert_eq!(t.stages[1].lost, 0);
}

/// A surplus whose transfer value does not divide evenly loses the remainder to truncation,
/// and the record says how much.
#[test]
fn stv_truncation_is_recorded() {
    // 7 ballots, 1 seat: quota 4; A has 7, surplus 3, each ballot moves at ⌊10⁵·3/7⌋.
    let ballots = profile(&[(7, "AB"), (2, "C")]);
    let t = transfer::count(CountMethod::Stv, 2, &ballots, &in_order(3));
    // 9 ballots, 2 seats: quota ⌊9/3⌋ + 1 = 4.
    assert_eq!(t.quota, 4 * STV_UNIT);
    let s = &t.stages[1];
    assert_eq!(s.action, Action::Surplus(0));
    let each = STV_UNIT * 3 / 7;
    assert_eq!(s.credits, [(1, 7 * each)]);
    assert_eq!(s.lost, 3 * STV_UNIT - 7 * each);
}

/// Ties are broken by the lot: the candidate last in the lot is excluded first.
#[test]
fn ties_go_by_lot() {
    let ballots = profile(&[(3, "A"), (2, "B"), (2, "C")]);
    // The lot puts C before B: B is excluded.
    let t = transfer::count(CountMethod::Irv, 1, &ballots, &[0, 2, 1]);
    assert_eq!(t.stages[1].action, Action::Exclusion(1));
    let t = transfer::count(CountMethod::Irv, 1, &ballots, &[0, 1, 2]);
    assert_eq!(t.stages[1].action, Action::Exclusion(2));
}

fn contest(options: usize, rules: RankedRules) -> Contest {
    Contest {
        id: "c".into(),
        title: "C".into(),
        titles: Default::default(),
        kind: ContestKind::Ranked(rules),
        options: (0..options)
            .map(|i| ContestOption {
                id: format!("o{i}"),
                name: format!("Option {i}"),
                names: Default::default(),
            })
            .collect(),
    }
}

/// The whole count from decrypted rows: invalid and blank rows are set aside, write-ins become
/// candidates after the options (in byte order), and the encoding round-trips.
#[test]
fn counting_rows_with_write_ins_blank_and_invalid() {
    let rules = RankedRules {
        method: CountMethod::Stv,
        seats: 2,
        ranks: 3,
        write_ins: 1,
        write_in_len: 20,
    };
    let c = contest(3, rules);
    let w = |t: &str| Choice::WriteIn(t.into());
    let o = Choice::Option;
    let rows = vec![
        Ok(vec![o(0), w("Zed")]),
        Ok(vec![w("Amy"), o(1)]),
        Err(Invalid::Gap),
        Ok(vec![]),
        Ok(vec![w("Zed"), o(2), o(0)]),
        Ok(vec![o(1)]),
    ];
    let count = urna_election::count::count(4, &c, &rules, &[7; 32], &rows);
    assert_eq!(count.rows, 6);
    assert_eq!(count.blank, 1);
    assert_eq!(count.counted(), 4);
    assert_eq!(count.invalid.len(), 1);
    assert_eq!(
        (count.invalid[0].row, count.invalid[0].reason),
        (2, Invalid::Gap)
    );
    assert_eq!(
        count.candidates,
        [
            Candidate::Option(0),
            Candidate::Option(1),
            Candidate::Option(2),
            Candidate::WriteIn("Amy".into()),
            Candidate::WriteIn("Zed".into()),
        ]
    );
    let mut lot = count.lot.clone();
    lot.sort_unstable();
    assert_eq!(lot, [0, 1, 2, 3, 4]);
    assert_eq!(count.elected.len(), 2);
    let bytes = count.to_bytes();
    assert_eq!(RankedCount::from_bytes(&bytes), Ok(count.clone()));
    // The lot depends on the election: another context, another order (almost surely).
    let other = urna_election::count::count(4, &c, &rules, &[8; 32], &rows);
    assert_ne!(other.lot, count.lot);
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(RankedCount::from_bytes(&trailing).is_err());
}

#[test]
fn nobody_is_elected_without_a_valid_ballot() {
    for method in [CountMethod::Irv, CountMethod::Stv, CountMethod::Schulze] {
        let rules = RankedRules {
            method,
            seats: 1,
            ranks: 2,
            write_ins: 0,
            write_in_len: 0,
        };
        let c = contest(3, rules);
        let rows = vec![Ok(vec![]), Err(Invalid::Padding)];
        let count = urna_election::count::count(0, &c, &rules, &[1; 32], &rows);
        assert!(count.elected.is_empty(), "{method:?}");
        assert_eq!(RankedCount::from_bytes(&count.to_bytes()), Ok(count));
    }
}

/// Random profiles: each ballot a random non-empty ranking of some of `n` candidates.
fn profiles() -> impl Strategy<Value = (u32, Vec<Vec<u32>>)> {
    (2u32..7).prop_flat_map(|n| {
        let ballot = Just((0..n).collect::<Vec<u32>>())
            .prop_shuffle()
            .prop_flat_map(move |perm| (1..=perm.len()).prop_map(move |k| perm[..k].to_vec()));
        (Just(n), prop::collection::vec(ballot, 1..60))
    })
}

fn beats(d: &[u32], n: usize, i: usize, j: usize) -> bool {
    d[i * n + j] > d[j * n + i]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn irv_elects_a_first_round_majority_at_once((n, ballots) in profiles()) {
        let t = transfer::count(CountMethod::Irv, 1, &ballots, &in_order(n));
        prop_assert_eq!(t.elected.len(), 1);
        let mut first = vec![0usize; n as usize];
        ballots.iter().for_each(|b| first[b[0] as usize] += 1);
        if let Some(m) = (0..n as usize).find(|&c| 2 * first[c] > ballots.len()) {
            prop_assert_eq!(t.stages.len(), 1);
            prop_assert_eq!(&t.elected, &vec![m as u32]);
        }
        // The winner holds a majority of the continuing ballots, or stands alone.
        let last = tallies(&t, n as usize).pop().unwrap_or_default();
        let continuing: u64 = last.iter().sum();
        let w = t.elected[0] as usize;
        prop_assert!(2 * last[w] > continuing || last.iter().filter(|&&v| v > 0).count() <= 1);
    }

    #[test]
    fn schulze_elects_a_condorcet_winner((n, ballots) in profiles()) {
        let s = schulze::count(&ballots, &in_order(n));
        let n = n as usize;
        if let Some(cw) = (0..n).find(|&i| (0..n).all(|j| j == i || beats(&s.d, n, i, j))) {
            prop_assert_eq!(s.order[0] as usize, cw);
        }
        // The order never puts a candidate below one it beats by strongest paths.
        for (a, &x) in s.order.iter().enumerate() {
            for &y in &s.order[a + 1..] {
                prop_assert!(!beats(&s.p, n, y as usize, x as usize));
            }
        }
    }

    #[test]
    fn stv_fills_the_seats_and_conserves_every_value((n, ballots) in profiles(), seats in 1u16..4) {
        prop_assume!(u32::from(seats) < n);
        let t = transfer::count(CountMethod::Stv, seats, &ballots, &in_order(n));
        prop_assert_eq!(t.elected.len(), usize::from(seats));
        let total = ballots.len() as u64 * STV_UNIT;
        let (mut exhausted, mut lost) = (0, 0);
        for (s, now) in t.stages.iter().zip(tallies(&t, n as usize)) {
            exhausted += s.exhausted;
            lost += s.lost;
            prop_assert_eq!(now.iter().sum::<u64>() + exhausted + lost, total);
        }
    }

    #[test]
    fn counts_round_trip_through_their_encoding((n, ballots) in profiles(), m in 0usize..3) {
        let method = [CountMethod::Irv, CountMethod::Stv, CountMethod::Schulze][m];
        let rules = RankedRules { method, seats: 1, ranks: n as u8, write_ins: 0, write_in_len: 0 };
        let c = contest(n as usize, rules);
        let rows: Vec<_> = ballots
            .iter()
            .map(|b| Ok(b.iter().map(|&i| Choice::Option(i as u8)).collect()))
            .collect();
        let count = urna_election::count::count(1, &c, &rules, &[3; 32], &rows);
        prop_assert_eq!(RankedCount::from_bytes(&count.to_bytes()), Ok(count.clone()));
        if let Outcome::Schulze(s) = &count.outcome {
            prop_assert_eq!(&count.elected, &vec![s.order[0]]);
        }
    }
}
