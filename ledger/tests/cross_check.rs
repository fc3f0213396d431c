//! Cross-check against an independent RFC 6962 implementation (`ct-merkle`, a dev-dependency
//! only): roots, inclusion proofs and consistency proofs agree for every size up to 70.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use sha2::Sha256;
use urna_ledger::merkle::{leaf_hash, verify_consistency, verify_inclusion, Tree};

#[test]
fn roots_and_proofs_match_ct_merkle() {
    let mut ours = Tree::new();
    let mut theirs = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    for n in 1u64..=70 {
        let entry = format!("entry {n}").into_bytes();
        ours.push(leaf_hash(&entry));
        theirs.push(entry);
        let root = ours.root(n).unwrap();
        assert_eq!(
            root.as_slice(),
            theirs.root().as_bytes().as_slice(),
            "root at size {n}"
        );
        for i in 0..n {
            let p = theirs.prove_inclusion(i as usize);
            let their_path: Vec<[u8; 32]> = p
                .as_bytes()
                .chunks(32)
                .map(|c| c.try_into().unwrap())
                .collect();
            assert_eq!(
                ours.inclusion_proof(i, n).unwrap(),
                their_path,
                "inclusion {i} of {n}"
            );
            verify_inclusion(ours.leaf(i).unwrap(), i, n, &their_path, &root).unwrap();
        }
        for old in 1..n {
            let p = theirs.prove_consistency((n - old) as usize);
            let their_path: Vec<[u8; 32]> = p
                .as_bytes()
                .chunks(32)
                .map(|c| c.try_into().unwrap())
                .collect();
            assert_eq!(
                ours.consistency_proof(old, n).unwrap(),
                their_path,
                "consistency {old}..{n}"
            );
            verify_consistency(old, n, &ours.root(old).unwrap(), &root, &their_path).unwrap();
        }
    }
}
