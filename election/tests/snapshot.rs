//! Snapshots of the rules' state (`specs/board.md` §4.1.1): at every size of two whole elections
//! (a homomorphic one with revotes, a Benaloh challenge, the close, decryption shares and the
//! result; one with ranked contests, three mixes, their decryption and the count) the snapshot
//! of the state built entry by entry equals the snapshot of a replay from zero in batches,
//! decodes to a state that encodes to the same bytes, and carries on to the same final state
//! as the replay of the whole log. Bytes that are not a snapshot are refused with a typed
//! reason and never panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::kit::record;
use common::ranked;
use urna_election::entry::Entry;
use urna_election::state::{Election, SnapshotError, SNAPSHOT_MAGIC};

/// Applies `entries` one by one; at each size in `at`, checks the snapshot against a replay
/// of the prefix and that restoring it and applying the rest ends where the whole log ends.
fn check_every_size(entries: &[Entry], at: &[usize]) {
    let whole = Election::replay(entries).unwrap().snapshot();
    let mut one = Election::new();
    for (i, entry) in entries.iter().enumerate() {
        if at.contains(&i) {
            let bytes = one.snapshot();
            let replayed = Election::replay(&entries[..i]).unwrap();
            assert_eq!(
                replayed.snapshot(),
                bytes,
                "size {i}: replay from zero differs"
            );
            let mut restored = Election::from_snapshot(&bytes).unwrap();
            assert_eq!(restored.snapshot(), bytes, "size {i}: does not re-encode");
            assert_eq!(restored.size(), i as u64);
            assert_eq!(restored.phase(), one.phase());
            assert_eq!(restored.counts(), one.counts());
            assert_eq!(restored.context(), one.context());
            for (j, r) in restored.apply_batch(&entries[i..]).into_iter().enumerate() {
                r.unwrap_or_else(|e| panic!("size {i}: entry {} refused: {e}", i + j));
            }
            assert_eq!(
                restored.snapshot(),
                whole,
                "size {i}: restored state diverged"
            );
        }
        one.apply(entry).unwrap();
    }
    assert_eq!(one.snapshot(), whole);
}

#[test]
fn a_homomorphic_election_at_every_size() {
    let r = record(11);
    let all: Vec<usize> = (0..=r.entries.len()).collect();
    check_every_size(&r.entries, &all);
}

#[test]
fn an_election_with_ranked_contests_at_many_sizes() {
    let r = ranked::record(7, 10);
    // Every size would replay the mixes hundreds of times: every third, and the last ones
    // (decryption and count), suffice to pass through every stage.
    let n = r.entries.len();
    let at: Vec<usize> = (0..=n).filter(|i| i % 3 == 0 || *i + 6 >= n).collect();
    check_every_size(&r.entries, &at);
}

fn refused(bytes: &[u8]) -> SnapshotError {
    match Election::from_snapshot(bytes) {
        Ok(_) => panic!("bytes that are not a snapshot were restored"),
        Err(e) => e,
    }
}

#[test]
fn damaged_snapshots_are_refused_with_their_reason() {
    let r = record(12);
    let bytes = Election::replay(&r.entries[..r.entries.len() - 3])
        .unwrap()
        .snapshot();
    // Cut anywhere (every byte of the header, then every 13th): refused, never a panic, never
    // a smaller state.
    for cut in (0..bytes.len()).filter(|c| *c < 512 || c % 13 == 0) {
        refused(&bytes[..cut]);
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(refused(&longer).code(), "snapshot-malformed");
    let mut magic = bytes.clone();
    magic[0] ^= 1;
    assert_eq!(refused(&magic), SnapshotError::Magic);
    let mut version = bytes.clone();
    version[SNAPSHOT_MAGIC.len() + 1] = 9;
    assert_eq!(refused(&version), SnapshotError::Version(9));
    let phase = SNAPSHOT_MAGIC.len() + 2 + 8;
    let mut bad_phase = bytes.clone();
    bad_phase[phase] = 7;
    assert_eq!(refused(&bad_phase).code(), "snapshot-not-canonical");
    let mut bad_flag = bytes.clone();
    bad_flag[phase + 1] = 2;
    assert_eq!(refused(&bad_flag).code(), "snapshot-not-canonical");
    // A size smaller than the entries the state holds.
    let mut size = bytes.clone();
    size[phase - 8..phase].copy_from_slice(&[0; 8]);
    assert_eq!(refused(&size).code(), "snapshot-inconsistent");
    // Flip every byte in turn: refused, or (a flip inside a hash or a key) a state that
    // encodes to exactly the flipped bytes — decoding never invents or drops anything. The
    // board's file binds the body's hash for that (specs/board.md §4.1.2).
    for i in (0..bytes.len()).step_by(29) {
        let mut b = bytes.clone();
        b[i] ^= 0x40;
        if let Ok(e) = Election::from_snapshot(&b) {
            assert_eq!(e.snapshot(), b, "byte {i}");
        }
    }
}

#[test]
fn leaf_hashes_out_of_order_are_not_canonical() {
    let r = record(13);
    let bytes = Election::replay(&r.entries[..4]).unwrap().snapshot();
    // magic, version, size, phase, flag, manifest (u64 length + bytes), then the leaves.
    let mut at = SNAPSHOT_MAGIC.len() + 2 + 8 + 1 + 1;
    let m = u64::from_be_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    at += 8 + m + 8;
    let mut swapped = bytes.clone();
    let (a, b) = (at..at + 32, at + 32..at + 64);
    let first = bytes[a.clone()].to_vec();
    swapped.copy_within(b.clone(), a.start);
    swapped[b].copy_from_slice(&first);
    assert_eq!(refused(&swapped).code(), "snapshot-not-canonical");
}
