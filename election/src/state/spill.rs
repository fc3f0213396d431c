//! The `copied-ballot` rule checked at the end instead of at each ballot, with the `α` prefixes
//! on disk: what a verifier replaying a log of any size holds in a bounded memory (issue 18).
//!
//! A board must refuse a copied `α` when the ballot arrives, so it keeps the set ([`super::
//! alphas`]). A verifier only has to say whether a log is valid and, if not, which entry the
//! rules refuse first. So it admits every ballot as if no `α` were copied, writes each prefix
//! with its entry index here, and at the end finds, by an external sort, the smallest entry
//! index that repeats a prefix an earlier admitted ballot had ([`CopySpill::first_copy`]).
//!
//! Why the verdict and the entry are those of checking each ballot (`specs/verifier.md` §3 6):
//! the two replays differ only in the answer of the `α` set's lookup, which is "no" here. Let
//! `k` be the first entry the deferred check names. Before `k`, no ballot that reached the
//! lookup had a prefix an earlier admitted ballot had, so the lookup said "no" in both replays:
//! every entry before `k` got the same verdict, and the states before `k` are the same. At `k`
//! both replays made every check before the lookup in the same state, and `k` passed them (it
//! reached the lookup: that is when its prefixes are written), so checking each ballot refuses
//! `k` with `copied-ballot` — unless an earlier entry was refused first. Every entry after the
//! first refusal is ignored by both (the replay stops there), so the prefixes are written only
//! up to and including the first refused entry ([`CopySpill::seal`]); that entry's prefixes
//! are written if it reached the lookup (refused later, by its proofs or its opening), because
//! checking each ballot would have refused it as a copy. What a ballot admitted at or after `k`
//! changed — the sums, a revote's superseded ballot, a later `revote-forbidden` — comes after
//! the verdict and changes nothing in it. A ballot repeating one of its own prefixes is refused
//! at once in both replays (that needs no set).
//!
//! What it holds: a buffer of at most `budget` bytes of (prefix, entry) pairs, sorted and
//! written as a run when full; runs are merged [`FAN_IN`] at a time into one of the next level,
//! so that at most `FAN_IN` runs of each level are open (a few dozen files at any size) and
//! each pair is rewritten once per level. The files have no name ([`tempfile::tempfile_in`]):
//! a crash leaves nothing in the spill directory, and dropping the spill frees the disk.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Runs of one level merged into one of the next.
pub const FAN_IN: usize = 16;

/// One pair on disk: the prefix (16 bytes, little-endian), then the tag (8).
const PAIR: usize = 24;

/// Read buffer of each run during a merge.
const READ_BUFFER: usize = 64 << 10;

/// A pair's tag: the entry index in the high bits, then whether the entry is a
/// `ChallengedBallot`, then whether it was refused (reached the lookup but not admitted). Sorting
/// (prefix, tag) sorts by entry within a prefix.
fn tag(index: u64, challenged: bool, refused: bool) -> u64 {
    index << 2 | u64::from(challenged) << 1 | u64::from(refused)
}

/// The first entry that repeats an earlier admitted ballot's `α` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstCopy {
    pub index: u64,
    /// A `ChallengedBallot` (else a `Ballot`).
    pub challenged: bool,
}

/// The deferred `copied-ballot` check's prefixes (see the module's documentation).
pub struct CopySpill {
    dir: PathBuf,
    /// Pairs buffered at most before a run is written.
    budget: usize,
    buffer: Vec<(u128, u64)>,
    /// Sorted runs, with their level; levels never increase along the vector.
    runs: Vec<(u32, File)>,
    /// Set by the first refused entry: what follows it is not written.
    sealed: bool,
    /// The first write that failed: the check cannot conclude.
    failed: Option<io::Error>,
    /// Pairs written (buffered or in runs).
    pairs: u64,
}

impl CopySpill {
    /// A spill writing its runs in `dir` (which must exist), buffering at most `budget` bytes
    /// of pairs in memory (at least 64 pairs: tests spill tiny runs).
    pub fn new(dir: &Path, budget: usize) -> CopySpill {
        CopySpill {
            dir: dir.to_path_buf(),
            budget: (budget / std::mem::size_of::<(u128, u64)>()).max(64),
            buffer: Vec::new(),
            runs: Vec::new(),
            sealed: false,
            failed: None,
            pairs: 0,
        }
    }

    /// Notes the prefixes of the ballot at `index`, which reached the lookup: admitted, or
    /// refused afterwards (by its proofs or its opening).
    pub(super) fn note(
        &mut self,
        index: u64,
        challenged: bool,
        admitted: bool,
        prefixes: impl Iterator<Item = u128>,
    ) {
        if self.sealed || self.failed.is_some() {
            return;
        }
        let t = tag(index, challenged, !admitted);
        for p in prefixes {
            self.buffer.push((p, t));
            self.pairs += 1;
        }
        if self.buffer.len() >= self.budget {
            if let Err(e) = self.write_run() {
                self.failed = Some(e);
            }
        }
    }

    /// The first refused entry: nothing after it is noted.
    pub(super) fn seal(&mut self) {
        self.sealed = true;
    }

    /// Pairs noted so far.
    pub fn pairs(&self) -> u64 {
        self.pairs
    }

    /// Runs on disk now.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// An error of the spill's disk, saying where.
    fn named(&self, e: io::Error) -> io::Error {
        io::Error::new(
            e.kind(),
            format!("spilling α prefixes to {}: {e}", self.dir.display()),
        )
    }

    /// Sorts the buffer into a run on disk, then merges the last [`FAN_IN`] runs while they
    /// are of one level.
    fn write_run(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.buffer.sort_unstable();
        let file = tempfile::tempfile_in(&self.dir)?;
        let mut w = BufWriter::with_capacity(READ_BUFFER, file);
        for (p, t) in &self.buffer {
            w.write_all(&p.to_le_bytes())?;
            w.write_all(&t.to_le_bytes())?;
        }
        let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
        // Freed, not kept: the buffer's capacity is the budget, and it fills again at once.
        self.buffer.clear();
        self.runs.push((0, file));
        while self.runs.len() >= FAN_IN {
            let at = self.runs.len() - FAN_IN;
            let level = self.runs[at].0;
            if self.runs[at..].iter().any(|(l, _)| *l != level) {
                break;
            }
            let group: Vec<File> = self.runs.drain(at..).map(|(_, f)| f).collect();
            let mut merge = Merge::new(group)?;
            let file = tempfile::tempfile_in(&self.dir)?;
            let mut w = BufWriter::with_capacity(READ_BUFFER, file);
            while let Some((p, t)) = merge.next()? {
                w.write_all(&p.to_le_bytes())?;
                w.write_all(&t.to_le_bytes())?;
            }
            let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
            self.runs.push((level + 1, file));
        }
        Ok(())
    }

    /// The smallest entry index that repeats a prefix of an earlier admitted ballot, among the
    /// entries noted: for each prefix, in entry order, every pair after the first is such an
    /// entry when the first was admitted (the first is refused only if it is the last entry
    /// noted, the sealing one). `Err` only when the disk failed.
    pub fn first_copy(&mut self) -> io::Result<Option<FirstCopy>> {
        let found = self.find_first_copy();
        found.map_err(|e| self.named(e))
    }

    fn find_first_copy(&mut self) -> io::Result<Option<FirstCopy>> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let mut group: Vec<File> = Vec::new();
        if self.runs.is_empty() {
            // All in memory: no file.
            self.buffer.sort_unstable();
            return Ok(scan(self.buffer.iter().copied()));
        }
        self.write_run()?;
        for (_, f) in &self.runs {
            group.push(f.try_clone()?);
        }
        let mut merge = Merge::new(group)?;
        let mut err = None;
        let found = scan(std::iter::from_fn(|| match merge.next() {
            Ok(x) => x,
            Err(e) => {
                err = Some(e);
                None
            }
        }));
        match err {
            Some(e) => Err(e),
            None => Ok(found),
        }
    }
}

/// The first copy in a stream of pairs sorted by (prefix, tag).
fn scan(pairs: impl Iterator<Item = (u128, u64)>) -> Option<FirstCopy> {
    let mut best: Option<u64> = None;
    let mut last: Option<(u128, u64)> = None;
    for (p, t) in pairs {
        if let Some((lp, lt)) = last {
            // The first pair of a prefix is `lt` when `lp == p`; it was admitted unless its
            // low bit says refused.
            if lp == p && lt & 1 == 0 && best.map_or(true, |b| t < b) {
                best = Some(t);
            }
            if lp == p {
                continue;
            }
        }
        last = Some((p, t));
    }
    best.map(|t| FirstCopy {
        index: t >> 2,
        challenged: t & 2 != 0,
    })
}

/// A k-way merge of sorted runs.
struct Merge {
    readers: Vec<BufReader<File>>,
    heap: BinaryHeap<Reverse<(u128, u64, usize)>>,
}

impl Merge {
    fn new(files: Vec<File>) -> io::Result<Merge> {
        let mut m = Merge {
            readers: Vec::with_capacity(files.len()),
            heap: BinaryHeap::with_capacity(files.len()),
        };
        for (i, mut f) in files.into_iter().enumerate() {
            f.seek(SeekFrom::Start(0))?;
            let mut r = BufReader::with_capacity(READ_BUFFER, f);
            if let Some((p, t)) = read_pair(&mut r)? {
                m.heap.push(Reverse((p, t, i)));
            }
            m.readers.push(r);
        }
        Ok(m)
    }

    fn next(&mut self) -> io::Result<Option<(u128, u64)>> {
        let Some(Reverse((p, t, i))) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(r) = self.readers.get_mut(i) {
            if let Some((p, t)) = read_pair(r)? {
                self.heap.push(Reverse((p, t, i)));
            }
        }
        Ok(Some((p, t)))
    }
}

fn read_pair(r: &mut impl Read) -> io::Result<Option<(u128, u64)>> {
    let mut b = [0u8; PAIR];
    match r.read_exact(&mut b) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut p = [0u8; 16];
    p.copy_from_slice(&b[..16]);
    let mut t = [0u8; 8];
    t.copy_from_slice(&b[16..]);
    Ok(Some((u128::from_le_bytes(p), u64::from_le_bytes(t))))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The online rule, for comparison: the first ballot (entry, prefixes, admitted?) that
    /// repeats a prefix of an earlier admitted one.
    fn online(ballots: &[(u64, Vec<u128>, bool)]) -> Option<u64> {
        let mut seen = std::collections::HashSet::new();
        for (i, ps, admitted) in ballots {
            if ps.iter().any(|p| seen.contains(p)) {
                return Some(*i);
            }
            if *admitted {
                seen.extend(ps.iter().copied());
            }
        }
        None
    }

    fn ballots(n: u64, copies: &[(u64, u64)], refused_last: bool) -> Vec<(u64, Vec<u128>, bool)> {
        let mut x: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835;
        let mut out: Vec<(u64, Vec<u128>, bool)> = (0..n)
            .map(|i| {
                let ps = (0..10)
                    .map(|_| {
                        x = x
                            .wrapping_mul(0x2545_f491_4f6c_dd1d)
                            .wrapping_add(1442695040888963407);
                        x
                    })
                    .collect();
                (i, ps, !(refused_last && i == n - 1))
            })
            .collect();
        for &(from, to) in copies {
            let p = out[from as usize].1[3];
            out[to as usize].1[7] = p;
        }
        out
    }

    fn deferred(dir: &Path, budget: usize, b: &[(u64, Vec<u128>, bool)]) -> Option<u64> {
        let mut s = CopySpill::new(dir, budget);
        for (i, ps, admitted) in b {
            s.note(*i, false, *admitted, ps.iter().copied());
        }
        s.first_copy().unwrap().map(|c| c.index)
    }

    #[test]
    fn names_the_entry_checking_each_ballot_refuses_first() {
        let dir = tempfile::tempdir().unwrap();
        // Budgets of one run per 64 pairs (many runs, merged over levels) and of everything
        // in memory.
        for budget in [0, 1 << 30] {
            for (copies, refused_last) in [
                (vec![], false),
                (vec![(5, 9000)], false),
                (vec![(5, 9000), (100, 4000), (3000, 3001)], false),
                (vec![(7000, 9999)], true),
                (vec![(9999, 200)], true),
            ] {
                let b = ballots(10_000, &copies, refused_last);
                assert_eq!(
                    deferred(dir.path(), budget, &b),
                    online(&b),
                    "{copies:?} {refused_last}"
                );
            }
        }
    }

    #[test]
    fn what_follows_the_seal_is_not_noted() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = CopySpill::new(dir.path(), 0);
        s.note(0, true, true, [1u128, 2].into_iter());
        s.seal();
        s.note(1, false, true, [1u128].into_iter());
        assert_eq!(s.first_copy().unwrap(), None);
        let mut s = CopySpill::new(dir.path(), 0);
        s.note(0, false, true, [1u128, 2].into_iter());
        s.note(1, true, false, [2u128].into_iter());
        s.seal();
        assert_eq!(
            s.first_copy().unwrap(),
            Some(FirstCopy {
                index: 1,
                challenged: true
            })
        );
    }

    #[test]
    fn leaves_no_file_in_its_directory_even_while_it_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = CopySpill::new(dir.path(), 0);
        let b = ballots(20_000, &[(1, 19_999)], false);
        for (i, ps, admitted) in &b {
            s.note(*i, false, *admitted, ps.iter().copied());
        }
        // 200,000 pairs in runs of 64: 3,125 runs written, merged down to a few dozen.
        assert!(s.runs() > 1 && s.runs() < 4 * FAN_IN);
        // A process killed now leaves nothing behind: the runs have no name.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert_eq!(s.first_copy().unwrap().map(|c| c.index), Some(19_999));
        drop(s);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_missing_directory_is_an_error_not_a_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let mut s = CopySpill::new(&gone, 0);
        let b = ballots(5000, &[], false);
        for (i, ps, admitted) in &b {
            s.note(*i, false, *admitted, ps.iter().copied());
        }
        assert!(s.first_copy().is_err());
    }
}
