//! An election keeping its ballot records and roll on disk ([`Election::on_disk`], a
//! verifier's) judges every entry as one holding them in memory, and ends in the same state:
//! revotes, challenged ballots, duplicates, ineligible ballots and bad signatures, through a
//! cache of two pages a table (every other read a miss).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::kit::{self, Config, Kit};

use urna_election::entry::{Entry, EntryKind};
use urna_election::payload::{Payload, RollEntry, VoterRoll};
use urna_election::state::{BallotRecord, Election, LookBack};

/// The admitted entries, read back as the verifier's source does.
struct Log(Vec<Entry>);

impl LookBack for Log {
    fn entry(&self, index: u64) -> Result<Vec<u8>, String> {
        self.0
            .get(index as usize)
            .map(|e| e.bytes().to_vec())
            .ok_or_else(|| format!("no entry {index}"))
    }
}

/// Applies `entries` one at a time to an election in memory and to one on disk (each entry a
/// batch of its own, then all of them in batches of three for the disk one): the same verdict
/// for each, and the same state at the end. Returns how many were refused.
fn same_verdicts(entries: &[Entry]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let mut mem = Election::new();
    let mut disk = Election::on_disk(dir.path(), 0, 0).unwrap();
    let mut log = Log(Vec::new());
    let mut refused = 0;
    for (i, x) in entries.iter().enumerate() {
        let m = mem.apply(x);
        let d = disk
            .apply_batch_reading(std::slice::from_ref(x), &[], &log)
            .unwrap()
            .pop()
            .unwrap();
        assert_eq!(m, d, "entry {i} ({})", x.kind());
        match m {
            Ok(_) => log.0.push(x.clone()),
            Err(_) => refused += 1,
        }
    }
    same_state(&mem, &disk);
    assert!(disk.disk_failure().is_none());
    assert_eq!(disk.first_copy().unwrap(), None);
    // Batched: the admitted entries in threes.
    let mut batched = Election::on_disk(dir.path(), 0, 0).unwrap();
    let all = Log(log.0.clone());
    for c in log.0.chunks(3) {
        let out = batched.apply_batch_reading(c, &[], &all).unwrap();
        assert!(out.iter().all(Result::is_ok));
    }
    same_state(&mem, &batched);
    drop((disk, batched));
    // The tables' files have no name: nothing is left behind, even while they are open.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    refused
}

fn same_state(mem: &Election, disk: &Election) {
    assert_eq!(mem.size(), disk.size());
    assert_eq!(mem.phase(), disk.phase());
    assert_eq!(mem.counts(), disk.counts());
    assert_eq!(mem.encrypted_tally(), disk.encrypted_tally());
    assert_eq!(mem.result(), disk.result());
    let mut records: Vec<BallotRecord> = Vec::new();
    disk.for_each_ballot(|b| records.push(b));
    assert_eq!(mem.ballots(), &records);
    assert!(disk.ballots().is_empty(), "held on disk, not in memory");
    let mut seen = Vec::new();
    mem.for_each_ballot(|b| seen.push(b));
    assert_eq!(mem.ballots(), &seen);
    for b in mem.ballots().iter() {
        assert_eq!(disk.ballot_status(b.index), Some(b.status));
        assert_eq!(mem.ballot_status(b.index), Some(b.status));
    }
    assert_eq!(disk.ballot_status(0), None);
    assert_eq!(disk.ballot_status(mem.size() + 5), None);
}

#[test]
fn the_sims_records_replay_the_same_on_disk() {
    for seed in 1..=3 {
        let r = kit::record(seed);
        assert_eq!(same_verdicts(&r.entries), 0);
    }
}

#[test]
fn refusals_are_the_same_on_disk() {
    let n = 40;
    let cfg = Config {
        voters: (0..n)
            .map(|i| (1 + u32::from(i % 3 == 0), u16::from(i % 4 == 3)))
            .collect(),
        ..Config::default()
    };
    let mut k = Kit::new(11, cfg);
    let mut e = Election::new();
    let mut entries = vec![k.setup()];
    entries.extend(k.ceremony());
    entries.push(k.roll(0, 0..n / 2));
    entries.push(k.roll(1, n / 2..n));
    // A repeated roll batch: refused.
    entries.push(k.roll(1, n / 2..n));
    entries.push(k.open());
    for x in &entries {
        let _ = e.apply(x);
    }
    let ctx = e.context().unwrap().clone();
    for round in 0..3 {
        for v in (0..n).filter(|v| round == 0 || v % (round + 2) == 0) {
            let c = k.random_choices(k.voters[v].style);
            let x = k.ballot(v, &c, &ctx);
            entries.push(x.clone());
            if v % 9 == 0 {
                // The same ballot again: a duplicate.
                entries.push(x);
            }
            if v % 11 == 5 {
                let c = k.random_choices(k.voters[v].style);
                let (x, _) = k.challenged(v, &c, &ctx);
                entries.push(x);
            }
            if v % 13 == 7 {
                // A ballot signed by a key not on the roll: not eligible.
                let (b, _) = k.encrypt(v, &c, &ctx);
                entries.push(k.sign(&k.authority, &Payload::Ballot(Box::new(b))));
                // A bad signature.
                let mut bytes = k.ballot(v, &c, &ctx).bytes().to_vec();
                let last = bytes.len() - 3;
                bytes[last] ^= 1;
                entries.push(Entry::decode(bytes).unwrap());
            }
        }
    }
    entries.push(k.close());
    assert!(entries
        .iter()
        .any(|x| x.kind() == EntryKind::ChallengedBallot));
    // The repeated roll batch, duplicates, ineligible ballots, bad signatures.
    assert!(same_verdicts(&entries) >= 10);
}

/// A roll of thousands in batches, its table on disk rebuilt several times while it is
/// registered (through a cache of two pages): the same verdicts as in memory, its credentials
/// repeated within a batch and across batches refused alike, and its voters' ballots judged
/// alike after.
#[test]
fn a_roll_of_thousands_registers_the_same_on_disk() {
    let n = 3000;
    let cfg = Config {
        voters: (0..n).map(|i| (1, u16::from(i % 2 == 1))).collect(),
        ..Config::default()
    };
    let mut k = Kit::new(12, cfg);
    let batch = |k: &Kit, batch: u32, voters: &[usize]| {
        let voters = voters
            .iter()
            .map(|&v| RollEntry {
                credential: k.voters[v].key.verifying_key(),
                weight: k.voters[v].weight,
                style: k.voters[v].style,
            })
            .collect();
        k.sign(
            &k.registrar,
            &Payload::VoterRoll(VoterRoll { batch, voters }),
        )
    };
    let mut entries = vec![k.setup()];
    entries.extend(k.ceremony());
    entries.push(k.roll(0, 0..1000));
    entries.push(k.roll(1, 1000..2200));
    // A credential of batch 0 again, last: refused.
    let mut across: Vec<usize> = (2200..2300).collect();
    across.push(17);
    entries.push(batch(&k, 2, &across));
    // A credential twice in the batch: refused.
    let mut within: Vec<usize> = (2200..2300).collect();
    within.insert(50, 2260);
    entries.push(batch(&k, 2, &within));
    entries.push(k.roll(2, 2200..n));
    entries.push(k.open());
    let mut e = Election::new();
    for x in &entries {
        let _ = e.apply(x);
    }
    assert_eq!(e.counts().voters, n as u64);
    let ctx = e.context().unwrap().clone();
    for v in (0..n).step_by(271) {
        let c = k.random_choices(k.voters[v].style);
        entries.push(k.ballot(v, &c, &ctx));
    }
    entries.push(k.close());
    assert_eq!(same_verdicts(&entries), 2);
}

#[test]
fn a_directory_that_cannot_hold_a_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(Election::on_disk(&dir.path().join("gone"), 0, 0).is_err());
}
