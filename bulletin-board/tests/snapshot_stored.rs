//! The snapshot as a shared store keeps it (`specs/storage.md` §3a): the snapshot file of
//! `specs/board.md` §4.1.2 without its leaf hashes, under the same signature, checked against
//! the leaf hashes the store holds beside the entries. Each failed check has its reason.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_board::snapshot::{check_stored, Capture, SNAPSHOT};
use urna_election::entry::Entry;
use urna_election::state::{Election, LookBack};
use urna_ledger::merkle::{leaf_hash, Hash, Tree};
use urna_sim::kit;

/// Magic, size, root, body hash, signature.
const HEADER: usize = 22 + 8 + 32 + 32 + 64;

struct Log<'a>(&'a [Entry]);

impl LookBack for Log<'_> {
    fn entry(&self, index: u64) -> Result<Vec<u8>, String> {
        self.0
            .get(index as usize)
            .map(|e| e.bytes().to_vec())
            .ok_or_else(|| format!("no entry {index}"))
    }
}

#[test]
fn the_stored_form_is_the_file_without_its_leaves_checked_against_the_logs_leaves() {
    let r = kit::record(31);
    let n = 20usize;
    let mut e = Election::reading_back();
    let prefix = &r.entries[..n];
    for v in e
        .apply_batch_reading(prefix, &vec![false; n], &Log(&r.entries))
        .unwrap()
    {
        v.unwrap();
    }
    let leaves: Vec<Hash> = prefix.iter().map(|x| leaf_hash(x.bytes())).collect();
    let mut tree = Tree::new();
    leaves.iter().for_each(|l| tree.push(*l));
    let root = tree.root(n as u64).unwrap();
    let capture = || Capture {
        size: n as u64,
        root,
        leaves: leaves.clone(),
        election: e.clone(),
    };
    let (origin, key) = (r.kit.id(), &r.kit.board);
    let dir = tempfile::tempdir().unwrap();
    capture().write(dir.path(), origin, key).unwrap();
    let file = std::fs::read(dir.path().join(SNAPSHOT)).unwrap();
    let stored = capture().stored(origin, key);
    assert_eq!(
        file,
        [&stored[..HEADER], &leaves.concat()[..], &stored[HEADER..]].concat(),
        "the file's bytes, leaves left out, under the same signature"
    );

    let vk = key.verifying_key();
    let n = n as u64;
    let restored = check_stored(stored.clone(), origin, &vk, n, |k| {
        assert_eq!(k, n);
        Ok(leaves.clone())
    })
    .unwrap();
    assert_eq!(restored.size, n);
    assert_eq!(restored.election().unwrap().snapshot(), e.snapshot());

    let mut other_leaf = leaves.clone();
    other_leaf[7][0] ^= 1;
    let mut state_flipped = stored.clone();
    let last = state_flipped.len() - 2;
    state_flipped[last] ^= 1;
    let other_board = kit::record(32);
    let foreign = capture().stored(other_board.kit.id(), &other_board.kit.board);
    type Leaves = Box<dyn FnOnce(u64) -> Result<Vec<Hash>, String>>;
    let good = || -> Leaves {
        let l = leaves.clone();
        Box::new(move |_| Ok(l))
    };
    let cases: Vec<(&str, Vec<u8>, u64, Leaves, &str)> = vec![
        ("not a snapshot", b"urna".to_vec(), n, good(), "magic"),
        ("another board's", foreign, n, good(), "signature"),
        (
            "beyond the checkpoint",
            stored.clone(),
            n - 1,
            good(),
            "too-long",
        ),
        (
            "another log's leaves",
            stored.clone(),
            n,
            Box::new(move |_| Ok(other_leaf)),
            "log",
        ),
        (
            "fewer leaves than it covers",
            stored.clone(),
            n,
            Box::new(|k| Ok(vec![[0u8; 32]; k as usize - 1])),
            "leaves",
        ),
        (
            "the leaves cannot be read",
            stored.clone(),
            n,
            Box::new(|_| Err("connection lost".into())),
            "io",
        ),
        ("its state damaged", state_flipped, n, good(), "body-hash"),
    ];
    for (what, bytes, bound, leaves, code) in cases {
        match check_stored(bytes, origin, &vk, bound, leaves) {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => assert_eq!(e.code(), code, "{what}: {e}"),
        }
    }
}
