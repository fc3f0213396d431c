//! The replica over both stores: opening a whole election gives the state a plain replay
//! gives; a follower's entries are checked against their checkpoint before anything changes;
//! the first bad entry in log order is named; a sequencer appends only what the rules admit;
//! and an append that is not at the end of the log is refused by every store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use urna_election::entry::Entry;
use urna_election::state::Election;
use urna_ledger::merkle::{empty_root, leaf_hash, Tree};
use urna_ledger::note::Checkpoint;
use urna_ledger::{FileLog, LogStore, MemoryLog, Replica, ReplicaError, Statement, StoreError};
use urna_sim::kit;

fn raw(entries: &[Entry]) -> Vec<Vec<u8>> {
    entries.iter().map(|e| e.bytes().to_vec()).collect()
}

/// A checkpoint (unsigned: the replica checks roots, signatures are the caller's) over `entries`.
fn checkpoint(entries: &[Vec<u8>]) -> Checkpoint {
    let mut t = Tree::new();
    for e in entries {
        t.push(leaf_hash(e));
    }
    Checkpoint {
        origin: "vote.example.org/2026/council".into(),
        size: t.size(),
        root: t.root(t.size()).unwrap_or_else(|_| empty_root()),
    }
}

#[test]
fn opening_a_whole_election_gives_the_state_a_plain_replay_gives() {
    let r = kit::record(31);
    let entries = raw(&r.entries);
    let cp = checkpoint(&entries);
    let progress = std::sync::Mutex::new(Vec::new());
    let replica = Replica::open(
        Arc::new(MemoryLog::with_entries(entries.clone())),
        &[&cp],
        &|done, total| progress.lock().unwrap().push((done, total)),
    )
    .unwrap();
    let plain = Election::replay(&r.entries).unwrap();
    assert_eq!(replica.size(), entries.len() as u64);
    assert_eq!(replica.replayed(), replica.size());
    assert_eq!(replica.election().result(), plain.result());
    assert_eq!(replica.election().counts(), plain.counts());
    assert_eq!(replica.tree().root(cp.size).unwrap(), cp.root);
    assert_eq!(
        progress.lock().unwrap().last(),
        Some(&(cp.size, cp.size)),
        "progress reaches the end"
    );
    assert_eq!(replica.entry(3).unwrap().unwrap(), entries[3]);
    assert_eq!(replica.entry(cp.size).unwrap(), None);
}

#[test]
fn a_follower_checks_entries_against_their_checkpoint_before_anything_changes() {
    let r = kit::record(32);
    let entries = raw(&r.entries);
    let half = entries.len() / 2;
    let mut replica = Replica::load(Arc::new(MemoryLog::new())).unwrap();
    replica
        .extend(
            entries[..half].to_vec(),
            Some(&checkpoint(&entries[..half])),
            &|_, _| {},
        )
        .unwrap();
    // Entries that do not hash to the checkpoint they come under: nothing changes.
    let mut swapped = entries[half..].to_vec();
    swapped.swap(0, 1);
    let err = replica
        .stage(swapped, Some(&checkpoint(&entries)))
        .unwrap_err();
    assert!(matches!(err, ReplicaError::RootMismatch { .. }), "{err}");
    // Fewer entries than the checkpoint covers.
    let err = replica
        .stage(
            entries[half..half + 1].to_vec(),
            Some(&checkpoint(&entries)),
        )
        .unwrap_err();
    assert!(matches!(err, ReplicaError::Short { .. }), "{err}");
    assert_eq!(replica.size(), half as u64);
    assert_eq!(replica.store().len(), half as u64);
    // The right ones, staged, then replayed in two steps.
    replica
        .stage(entries[half..].to_vec(), Some(&checkpoint(&entries)))
        .unwrap();
    assert_eq!(replica.replayed(), half as u64);
    replica.replay(half as u64 + 2, &|_, _| {}).unwrap();
    assert_eq!(replica.election().size(), half as u64 + 2);
    replica.replay(replica.size(), &|_, _| {}).unwrap();
    assert_eq!(
        replica.election().result(),
        Election::replay(&r.entries).unwrap().result()
    );
}

#[test]
fn the_first_bad_entry_in_log_order_is_named_and_spends_the_replica() {
    let r = kit::record(33);
    let mut entries = raw(&r.entries);
    // Entry 5 repeats entry 4 (refused), entry 9 does not decode: 5 is named.
    entries[5] = entries[4].clone();
    entries[9].truncate(30);
    let mut replica = Replica::load(Arc::new(MemoryLog::with_entries(entries.clone()))).unwrap();
    let err = replica.replay(replica.size(), &|_, _| {}).unwrap_err();
    match &err {
        ReplicaError::Refused {
            index, rejection, ..
        } => assert_eq!((*index, rejection.code()), (5, "duplicate")),
        e => panic!("{e}"),
    }
    assert_eq!(err.entry().map(|(i, _)| i), Some(5));
    assert!(matches!(
        replica.replay(replica.size(), &|_, _| {}),
        Err(ReplicaError::Spent)
    ));
    // Only the malformed entry: it is named with its index.
    let mut entries = raw(&r.entries);
    entries[9].truncate(30);
    let mut replica = Replica::load(Arc::new(MemoryLog::with_entries(entries))).unwrap();
    let err = replica.replay(replica.size(), &|_, _| {}).unwrap_err();
    assert!(
        matches!(err, ReplicaError::Malformed { index: 9, .. }),
        "{err}"
    );
    assert_eq!(
        err.entry().map(|(i, r)| (i, r.code())),
        Some((9, "malformed"))
    );
}

#[test]
fn a_sequencer_appends_only_what_the_rules_admit() {
    let r = kit::record(34);
    let dir = tempfile::tempdir().unwrap();
    let (log, rec) = FileLog::open(dir.path()).unwrap();
    assert_eq!(rec.intact, 0);
    let mut replica = Replica::load(Arc::new(log)).unwrap();
    let setup = &r.entries[..3];
    let verdicts = replica.admit(setup).unwrap();
    assert_eq!(verdicts, vec![Ok(0), Ok(1), Ok(2)]);
    // A repeat and a fresh entry in one batch: the repeat is refused, the other numbered 3.
    let verdicts = replica
        .admit(&[r.entries[1].clone(), r.entries[3].clone()])
        .unwrap();
    assert_eq!(verdicts[0].as_ref().unwrap_err().code(), "duplicate");
    assert_eq!(verdicts[1], Ok(3));
    assert_eq!(replica.size(), 4);
    assert_eq!(replica.store().len(), 4);
    let cp = checkpoint(&raw(&r.entries[..4]));
    replica.check(&cp).unwrap();
    drop(replica);
    // Reopened from the file: the same log, and the notes kept beside it.
    let (log, rec) = FileLog::open(dir.path()).unwrap();
    assert_eq!((rec.intact, rec.trailing_garbage), (4, 0));
    log.set_statement(Statement::Checkpoint, "note\n").unwrap();
    assert_eq!(
        log.statement(Statement::Checkpoint).unwrap().as_deref(),
        Some("note\n")
    );
    assert_eq!(log.statement(Statement::Cosigned).unwrap(), None);
    let replica = Replica::open(Arc::new(log), &[&cp], &|_, _| {}).unwrap();
    assert_eq!(replica.election().size(), 4);
    assert_eq!(replica.entry(2).unwrap().unwrap(), r.entries[2].bytes());
}

#[test]
fn every_store_refuses_an_append_that_is_not_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = FileLog::open(dir.path()).unwrap();
    let stores: Vec<Box<dyn LogStore>> = vec![Box::new(MemoryLog::new()), Box::new(file)];
    for s in &stores {
        s.append(0, &[b"zero", b"one"]).unwrap();
        for at in [0, 1, 3] {
            assert!(
                matches!(s.append(at, &[b"x"]), Err(StoreError::Fenced { at: a, len: 2 }) if a == at),
                "append at {at}"
            );
        }
        s.append(2, &[b"two"]).unwrap();
        assert_eq!(
            s.read(0, 3).unwrap(),
            vec![b"zero".to_vec(), b"one".to_vec(), b"two".to_vec()]
        );
        assert!(matches!(
            s.read(2, 4),
            Err(StoreError::OutOfRange { len: 3, .. })
        ));
    }
}

#[test]
fn a_file_log_reads_its_intact_frames_and_finds_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _) = FileLog::open(dir.path()).unwrap();
        log.append(0, &[b"first", b"second"]).unwrap();
    }
    let path = dir.path().join("log");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0, 0, 0, 9, 1, 2]);
    std::fs::write(&path, &bytes).unwrap();
    let (log, rec) = FileLog::open(dir.path()).unwrap();
    assert_eq!((rec.intact, rec.trailing_garbage), (2, 6));
    log.truncate_tail().unwrap();
    log.append(2, &[b"third"]).unwrap();
    drop(log);
    let (log, rec) = FileLog::open(dir.path()).unwrap();
    assert_eq!((rec.intact, rec.trailing_garbage), (3, 0));
    assert_eq!(log.read(2, 3).unwrap(), vec![b"third".to_vec()]);
    // A flipped byte inside the second frame ends the intact log at the first.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[4 + 5 + 8 + 4 + 2] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let (_, rec) = FileLog::open(dir.path()).unwrap();
    assert_eq!(rec.intact, 1);
}

#[test]
fn a_follower_stages_a_long_log_in_steps_each_proven_a_prefix_of_the_checkpoint() {
    let r = kit::record(33);
    let entries = raw(&r.entries);
    let cp = checkpoint(&entries);
    let mut full = Tree::new();
    for e in &entries {
        full.push(leaf_hash(e));
    }
    let mut replica = Replica::load(Arc::new(MemoryLog::new())).unwrap();
    let third = entries.len() / 3;
    // A step whose proof is for another size, or whose entries are not the log's: refused,
    // nothing stored.
    let wrong = full.consistency_proof(third as u64 + 1, cp.size).unwrap();
    let err = replica
        .stage_proven(entries[..third].to_vec(), &cp, &wrong)
        .unwrap_err();
    assert!(matches!(err, ReplicaError::RootMismatch { .. }), "{err}");
    let mut swapped = entries[..third].to_vec();
    swapped.swap(0, 1);
    let proof = full.consistency_proof(third as u64, cp.size).unwrap();
    assert!(replica.stage_proven(swapped, &cp, &proof).is_err());
    assert_eq!((replica.size(), replica.store().len()), (0, 0));
    // More than the checkpoint covers: refused.
    let mut longer = entries.clone();
    longer.push(entries[1].clone());
    assert!(replica.stage_proven(longer, &cp, &[]).is_err());
    // The honest steps.
    replica
        .stage_proven(entries[..third].to_vec(), &cp, &proof)
        .unwrap();
    let two = 2 * third;
    let proof = full.consistency_proof(two as u64, cp.size).unwrap();
    replica
        .stage_proven(entries[third..two].to_vec(), &cp, &proof)
        .unwrap();
    replica
        .stage_proven(entries[two..].to_vec(), &cp, &[])
        .unwrap();
    replica.replay(cp.size, &|_, _| {}).unwrap();
    assert_eq!(replica.store().len(), cp.size);
    replica.check(&cp).unwrap();
}

/// A revote subtracts the ballot it supersedes, which a replica does not keep: it reads it back
/// from its store (a sequencer admitting one entry at a time), or from the source a streaming
/// follower names — checked against the leaf hash the state recorded, so other bytes are an
/// error that applies nothing.
#[test]
fn a_revote_reads_the_superseded_ballot_back_and_checks_it() {
    let r = kit::record(32);
    let entries = raw(&r.entries);
    let plain = Election::replay(&r.entries).unwrap();
    assert!(plain.counts().superseded > 0, "the record has revotes");

    let mut seq = Replica::load(Arc::new(MemoryLog::new())).unwrap();
    for e in &r.entries {
        assert!(seq.admit(std::slice::from_ref(e)).unwrap()[0].is_ok());
    }
    assert_eq!(seq.election().counts(), plain.counts());
    assert_eq!(seq.election().encrypted_tally(), plain.encrypted_tally());
    assert_eq!(seq.election().ballots(), plain.ballots());

    struct From<'a>(&'a [Vec<u8>], bool);
    impl urna_election::state::LookBack for From<'_> {
        fn entry(&self, i: u64) -> Result<Vec<u8>, String> {
            // A lying source serves the entry after the one asked for.
            Ok(self.0[i as usize + usize::from(self.1)].clone())
        }
    }
    let mut honest = Replica::streaming();
    for (i, e) in entries.iter().enumerate() {
        honest.stage(vec![e.clone()], None).unwrap();
        honest
            .replay_reading(i as u64 + 1, &|_, _| {}, &From(&entries, false))
            .unwrap();
    }
    assert_eq!(honest.election().encrypted_tally(), plain.encrypted_tally());

    let mut lied = Replica::streaming();
    let mut refused = None;
    for (i, e) in entries.iter().enumerate() {
        lied.stage(vec![e.clone()], None).unwrap();
        if let Err(err) = lied.replay_reading(i as u64 + 1, &|_, _| {}, &From(&entries, true)) {
            refused = Some((i, err));
            break;
        }
    }
    let (at, err) = refused.expect("a lying source is caught");
    assert!(matches!(err, ReplicaError::LookBack(_)), "{err}");
    assert_eq!(lied.replayed(), at as u64, "nothing of that batch applied");
    assert!(matches!(
        r.entries[at].kind(),
        urna_election::entry::EntryKind::Ballot
    ));
}
