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
}

/// An append-only Merkle tree. `levels[h][i]` is the hash of the complete subtree of `2^h`
/// leaves starting at leaf `i·2^h`; level 0 holds the leaf hashes.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    pub fn new() -> Self {
        Tree {
            levels: vec![Vec::new()],
        }
    }

    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash and every subtree it completes.
    pub fn push(&mut self, leaf: Hash) {
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

    /// Drops every leaf at or after `size` (used when recovery cuts a torn tail).
    pub fn truncate(&mut self, size: u64) {
        for (h, level) in self.levels.iter_mut().enumerate() {
            level.truncate((size >> h) as usize);
        }
    }

    pub fn leaf(&self, index: u64) -> Option<&Hash> {
        self.levels.first()?.get(index as usize)
    }

    /// The leaf hashes, in order.
    pub fn leaves(&self) -> &[Hash] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// The stored hash of a complete subtree, if present: level `h`, index `i`.
    pub fn node(&self, h: usize, i: u64) -> Option<&Hash> {
        self.levels.get(h)?.get(i as usize)
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
        Ok(self.range_hash(0, size))
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
        self.check_size(size)?;
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
        self.check_size(new)?;
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
