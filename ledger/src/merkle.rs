//! RFC 9162 §2.1 Merkle trees: hashing, an append-only tree that keeps every complete subtree
//! (so proofs and tiles are lookups), inclusion and consistency proofs, and their verifiers.
//!
//! For the entries `D[0:n]` (RFC 9162 §2.1.1):
//!
//! ```text
//! MTH({})     = SHA-256()
//! MTH({d})    = SHA-256(0x00 ‖ d)                                   a leaf
//! MTH(D[0:n]) = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))   n > 1, k the largest power of two < n
//! ```
//!
//! The tree stores, for each level `h`, the roots of the complete subtrees of `2^h` leaves:
//! `levels[h][i] = MTH(D[i·2^h : (i+1)·2^h])`. Every range the recursion above (and the proof
//! recursions of §2.1.3–2.1.4) asks for starts at a multiple of the largest power of two that
//! fits in it, so it is one stored node or a split into two such ranges: a root, an
//! inclusion proof (`PATH(m, D[0:n])`, the sibling roots from leaf `m` up) and a consistency
//! proof (`PROOF(m, D[0:n])`, what a verifier needs to recompute both the old root of size `m`
//! and the new one from the old) each cost O(log n) lookups. The leaf/node prefixes keep a leaf
//! from ever passing for an inner node (second-preimage resistance of the tree).

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};
use thiserror::Error;

pub type Hash = [u8; 32];

/// `SHA-256()`: the root of the empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly below `n` (`n ≥ 2`).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProofError {
    #[error("index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {size} exceeds the log's size {log}")]
    SizeOutOfRange { size: u64, log: u64 },
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
    /// A frontier tree ([`Tree::frontier`]) keeps no node this needs.
    #[error("a frontier tree of size {log} keeps no root of size {size} and no proofs")]
    Pruned { size: u64, log: u64 },
}

/// An append-only Merkle tree. `levels[h][i]` is the hash of the complete subtree of `2^h`
/// leaves starting at leaf `i·2^h`; level 0 holds the leaf hashes.
///
/// A frontier tree ([`Tree::frontier`]) keeps only the right edge — the at most 64 roots of
/// complete subtrees that the next leaves still hash with — and the roots at sizes named in
/// advance: what a streaming observer needs to check a checkpoint and earlier ones, in O(log n)
/// memory instead of 64 bytes a leaf.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
    /// `Some` for a frontier tree.
    pruned: Option<Box<Pruned>>,
}

/// What a frontier tree keeps besides its right edge.
#[derive(Debug, Clone, Default)]
struct Pruned {
    size: u64,
    /// The index, on each level, of the first node `levels` still holds there.
    base: Vec<u64>,
    /// The sizes whose roots are kept when the tree passes them.
    wanted: BTreeSet<u64>,
    roots: BTreeMap<u64, Hash>,
}

impl Tree {
    pub fn new() -> Self {
        Tree {
            levels: vec![Vec::new()],
            pruned: None,
        }
    }

    /// An empty tree that keeps only its right edge, and the root at each size of `wanted`
    /// once it reaches it: [`Tree::root`] answers for its own size and those; leaves, nodes and
    /// proofs are not kept ([`ProofError::Pruned`]).
    pub fn frontier(wanted: impl IntoIterator<Item = u64>) -> Self {
        Tree {
            levels: vec![Vec::new()],
            pruned: Some(Box::new(Pruned {
                base: vec![0],
                wanted: wanted.into_iter().collect(),
                ..Pruned::default()
            })),
        }
    }

    /// Whether this is a frontier tree ([`Tree::frontier`]).
    pub fn is_frontier(&self) -> bool {
        self.pruned.is_some()
    }

    pub fn size(&self) -> u64 {
        if let Some(p) = &self.pruned {
            return p.size;
        }
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// A frontier tree's push: the subtrees the leaf completes replace their halves, and only
    /// the right edge stays.
    fn push_pruned(&mut self, leaf: Hash) {
        let Some(p) = self.pruned.as_mut() else {
            return;
        };
        p.size += 1;
        let size = p.size;
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut h = 0;
        while (size >> h) % 2 == 0 {
            let n = self.levels[h].len();
            let parent = match (self.levels[h].get(n.wrapping_sub(2)), self.levels[h].last()) {
                (Some(l), Some(r)) if n >= 2 => node_hash(l, r),
                _ => break,
            };
            if self.levels.len() == h + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[h + 1].push(parent);
            h += 1;
        }
        // Below `h` every level's count is even: nothing there waits for a sibling.
        p.base.resize(self.levels.len(), 0);
        for k in 0..self.levels.len() {
            let count = size >> k;
            let keep = (count % 2) as usize;
            let l = &mut self.levels[k];
            if l.len() > keep {
                l.drain(..l.len() - keep);
            }
            p.base[k] = count - l.len() as u64;
        }
        if p.wanted.contains(&size) {
            if let Some(root) = self.edge_root() {
                if let Some(p) = self.pruned.as_mut() {
                    p.roots.insert(size, root);
                }
            }
        }
    }

    /// A frontier tree's root at its own size, from its right edge.
    fn edge_root(&self) -> Option<Hash> {
        let p = self.pruned.as_ref()?;
        if p.size == 0 {
            return Some(empty_root());
        }
        let mut acc: Option<Hash> = None;
        for h in 0..64 {
            if (p.size >> h) % 2 == 1 {
                let node = *self.node(h, (p.size >> h) - 1)?;
                acc = Some(match acc {
                    None => node,
                    Some(right) => node_hash(&node, &right),
                });
            }
        }
        acc
    }

    /// Appends a leaf hash and every subtree it completes.
    pub fn push(&mut self, leaf: Hash) {
        if self.pruned.is_some() {
            return self.push_pruned(leaf);
        }
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut h = 0;
        while self.levels[h].len() % 2 == 0 {
            let n = self.levels[h].len();
            let parent = node_hash(&self.levels[h][n - 2], &self.levels[h][n - 1]);
            if self.levels.len() == h + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[h + 1].push(parent);
            h += 1;
        }
    }

    /// Drops every leaf at or after `size` (used when recovery cuts a torn tail). A frontier
    /// tree cut below its size keeps only the roots it was asked for up to `size`: its right
    /// edge at `size` is gone, so it answers no root of its own size and takes no more leaves
    /// that hash to anything (it is not used where logs are cut).
    pub fn truncate(&mut self, size: u64) {
        if let Some(p) = self.pruned.as_mut() {
            if size < p.size {
                p.size = size;
                p.roots.retain(|s, _| *s <= size);
                self.levels.iter_mut().for_each(Vec::clear);
                p.base.iter_mut().for_each(|b| *b = u64::MAX);
            }
            return;
        }
        for (h, level) in self.levels.iter_mut().enumerate() {
            level.truncate((size >> h) as usize);
        }
    }

    pub fn leaf(&self, index: u64) -> Option<&Hash> {
        self.node(0, index)
    }

    /// The leaf hashes, in order (of a frontier tree: the one its right edge may keep).
    pub fn leaves(&self) -> &[Hash] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// The stored hash of a complete subtree, if present: level `h`, index `i`.
    pub fn node(&self, h: usize, i: u64) -> Option<&Hash> {
        let base = match &self.pruned {
            Some(p) => *p.base.get(h)?,
            None => 0,
        };
        self.levels
            .get(h)?
            .get(usize::try_from(i.checked_sub(base)?).ok()?)
    }

    /// `MTH(D[lo:hi])` for a range whose left end is aligned to the largest power of two that
    /// fits (true of every range RFC 9162's recursions ask for).
    fn range_hash(&self, lo: u64, hi: u64) -> Hash {
        let n = hi - lo;
        if n == 0 {
            return empty_root();
        }
        if n.is_power_of_two() && lo % n == 0 {
            let h = n.trailing_zeros() as usize;
            if let Some(x) = self.node(h, lo >> h) {
                return *x;
            }
        }
        if n == 1 {
            return self.leaf(lo).copied().unwrap_or_else(empty_root);
        }
        let k = split(n);
        node_hash(&self.range_hash(lo, lo + k), &self.range_hash(lo + k, hi))
    }

    /// The root of the tree's first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        if let Some(p) = &self.pruned {
            let kept = match (size, p.roots.get(&size)) {
                (0, _) => Some(empty_root()),
                (_, Some(r)) => Some(*r),
                (s, None) if s == p.size => self.edge_root(),
                _ => None,
            };
            return kept.ok_or(ProofError::Pruned { size, log: p.size });
        }
        Ok(self.range_hash(0, size))
    }

    /// A frontier tree keeps no proofs.
    fn check_full(&self, size: u64) -> Result<(), ProofError> {
        match &self.pruned {
            Some(p) => Err(ProofError::Pruned { size, log: p.size }),
            None => self.check_size(size),
        }
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.size() {
            return Err(ProofError::SizeOutOfRange {
                size,
                log: self.size(),
            });
        }
        Ok(())
    }

    /// RFC 9162 §2.1.3.1 `PATH(index, D[0:size])`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_full(size)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let mut out = Vec::new();
        self.path(index, 0, size, &mut out);
        Ok(out)
    }

    fn path(&self, m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) {
        let n = hi - lo;
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            self.path(m, lo, lo + k, out);
            out.push(self.range_hash(lo + k, hi));
        } else {
            self.path(m - k, lo + k, hi, out);
            out.push(self.range_hash(lo, lo + k));
        }
    }

    /// RFC 9162 §2.1.4.1 `PROOF(old, D[0:new])`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_full(new)?;
        if old > new {
            return Err(ProofError::SizeOutOfRange {
                size: old,
                log: new,
            });
        }
        let mut out = Vec::new();
        if old > 0 && old < new {
            self.subproof(old, 0, new, true, &mut out);
        }
        Ok(out)
    }

    fn subproof(&self, m: u64, lo: u64, hi: u64, whole: bool, out: &mut Vec<Hash>) {
        let n = hi - lo;
        if m == n {
            if !whole {
                out.push(self.range_hash(lo, hi));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, lo, lo + k, whole, out);
            out.push(self.range_hash(lo + k, hi));
        } else {
            self.subproof(m - k, lo + k, hi, false, out);
            out.push(self.range_hash(lo, lo + k));
        }
    }
}

/// RFC 9162 §2.1.3.2: checks that `leaf` is at `index` in the tree of `size` leaves with `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: checks that the tree of `old` leaves with `old_root` is a prefix of the tree
/// of `new` leaves with `new_root`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::SizeOutOfRange {
            size: old,
            log: new,
        });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if old == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frontier_tree_has_the_full_trees_roots_where_it_keeps_them() {
        let wanted = [1u64, 2, 3, 5, 8, 64, 100, 129];
        let mut full = Tree::new();
        let mut edge = Tree::frontier(wanted);
        assert_eq!(edge.root(0), Ok(empty_root()));
        for i in 0..300u64 {
            let leaf = leaf_hash(&i.to_be_bytes());
            full.push(leaf);
            edge.push(leaf);
            assert_eq!(edge.size(), full.size());
            assert_eq!(
                edge.root(edge.size()),
                full.root(full.size()),
                "size {}",
                i + 1
            );
            // The right edge: one node per set bit of the size.
            assert!(edge.levels.iter().map(Vec::len).sum::<usize>() <= 9);
        }
        for s in wanted {
            assert_eq!(edge.root(s), full.root(s), "wanted size {s}");
        }
        assert_eq!(edge.root(7), Err(ProofError::Pruned { size: 7, log: 300 }));
        assert!(edge.root(301).is_err());
        assert!(edge.inclusion_proof(3, 300).is_err());
        assert!(edge.consistency_proof(3, 300).is_err());
        edge.truncate(100);
        assert_eq!(edge.root(100), full.root(100));
        assert!(edge.root(129).is_err());
    }

    fn h(s: &str) -> Hash {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    /// The RFC 6962 / certificate-transparency reference leaves and roots.
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn reference() -> Tree {
        let mut t = Tree::new();
        for l in LEAVES {
            t.push(leaf_hash(&hex::decode(l).unwrap()));
        }
        t
    }

    #[test]
    fn known_answer_roots() {
        let t = reference();
        for (size, root) in ROOTS.iter().enumerate() {
            assert_eq!(t.root(size as u64).unwrap(), h(root), "size {size}");
        }
    }

    #[test]
    fn known_answer_proofs() {
        let t = reference();
        let incl = [
            (
                0u64,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                vec![
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        for (i, proof) in incl {
            let want: Vec<Hash> = proof.iter().map(|s| h(s)).collect();
            assert_eq!(t.inclusion_proof(i, 8).unwrap(), want);
        }
        let cons = [
            (
                1u64,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                vec![
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        for (old, proof) in cons {
            let want: Vec<Hash> = proof.iter().map(|s| h(s)).collect();
            assert_eq!(t.consistency_proof(old, 8).unwrap(), want, "old {old}");
        }
        let want: Vec<Hash> = [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ]
        .iter()
        .map(|s| h(s))
        .collect();
        assert_eq!(t.consistency_proof(2, 5).unwrap(), want);
    }

    #[test]
    fn every_proof_in_every_size_verifies_and_tampering_fails() {
        let mut t = Tree::new();
        for i in 0..70u32 {
            t.push(leaf_hash(&i.to_be_bytes()));
        }
        for size in 1..=70 {
            let root = t.root(size).unwrap();
            for i in 0..size {
                let p = t.inclusion_proof(i, size).unwrap();
                let leaf = *t.leaf(i).unwrap();
                assert_eq!(verify_inclusion(&leaf, i, size, &p, &root), Ok(()));
                assert!(
                    verify_inclusion(&leaf, (i + 1) % size, size, &p, &root).is_err() || size == 1
                );
                if let Some((first, _)) = p.split_first() {
                    let mut bad = p.clone();
                    bad[0] = node_hash(first, first);
                    assert!(verify_inclusion(&leaf, i, size, &bad, &root).is_err());
                }
            }
            for old in 0..=size {
                let p = t.consistency_proof(old, size).unwrap();
                let old_root = t.root(old).unwrap();
                assert_eq!(
                    verify_consistency(old, size, &old_root, &root, &p),
                    Ok(()),
                    "{old}→{size}"
                );
                if old > 0 && old < size {
                    assert!(verify_consistency(old, size, &root, &root, &p).is_err());
                }
            }
        }
    }

    #[test]
    fn truncate_restores_an_earlier_tree() {
        let mut t = Tree::new();
        for i in 0..37u32 {
            t.push(leaf_hash(&i.to_be_bytes()));
        }
        let r20 = t.root(20).unwrap();
        t.truncate(20);
        assert_eq!(t.size(), 20);
        assert_eq!(t.root(20).unwrap(), r20);
        t.push(leaf_hash(&20u32.to_be_bytes()));
        assert_eq!(t.size(), 21);
    }
}
