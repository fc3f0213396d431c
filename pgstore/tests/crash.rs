//! Crashes during and around a commit. An append acknowledged (returned `Ok`) is on two
//! machines and survives the primary's death and the promotion of a standby; an append whose
//! COMMIT got no clean answer is reported as such, and is then in the log whole or not at all.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{entries, identity, refs, sequencer, wait_for_syncrep};
use urna_pgcluster::Cluster;
use urna_pgstore::{Options, PgStore, StoreError};

fn leaf(e: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::new()
        .chain_update([0])
        .chain_update(e)
        .finalize()
        .into()
}

/// An append running on another thread, and what it returned.
type Blocked = thread::JoinHandle<(PgStore, Result<(), StoreError>)>;

/// Starts an append of `batch` at `at` on another thread once the standby is dead, and
/// returns when its COMMIT is written on the primary and waits for a standby.
fn append_blocked_on_standby(
    cluster: &mut Cluster,
    s: PgStore,
    at: u64,
    batch: Vec<Vec<u8>>,
) -> (Blocked, i32) {
    let standby = cluster.standbys()[0];
    cluster.kill(standby).unwrap();
    let h = thread::spawn(move || {
        let r = s.append(at, &refs(&batch));
        (s, r)
    });
    let pid = wait_for_syncrep(cluster, cluster.primary());
    (h, pid)
}

#[test]
fn a_commit_no_standby_has_is_lost_whole_when_the_primary_dies_and_the_standby_takes_over() {
    let mut cluster = Cluster::start(1).expect("cluster");
    let s = sequencer(&cluster.url());
    s.append(0, &refs(&entries("a", 0, 3, 100))).unwrap();
    let batch = entries("b", 3, 50, 3000);
    let (h, _) = append_blocked_on_standby(&mut cluster, s, 3, batch.clone());
    cluster.kill(0).unwrap();
    let (s, r) = h.join().unwrap();
    let e = r.unwrap_err();
    assert_eq!(e.code(), "pg-commit-unknown", "{e}");
    assert!(e.may_have_appended());
    // The standby never received the commit; it is promoted, and the old primary rejoins as
    // its standby.
    cluster.restart(1).unwrap();
    cluster.promote(1).unwrap();
    cluster.rebuild(0).unwrap();
    cluster.wait_sync().unwrap();
    // The sequencer reconnects to the new primary, takes the lease again and re-reads.
    assert!(s.try_acquire_lease().unwrap());
    assert_eq!(s.refresh_len().unwrap(), 3, "none of the batch");
    assert_eq!(s.index_of(&leaf(&batch[0])).unwrap(), None);
    assert_eq!(s.index_of(&leaf(&batch[49])).unwrap(), None);
    s.append(3, &refs(&entries("c", 3, 2, 100))).unwrap();
}

#[test]
fn a_commit_no_standby_has_is_kept_whole_when_the_primary_restarts() {
    let mut cluster = Cluster::start(1).expect("cluster");
    let s = sequencer(&cluster.url());
    s.append(0, &refs(&entries("a", 0, 3, 100))).unwrap();
    let batch = entries("b", 3, 50, 3000);
    let (h, _) = append_blocked_on_standby(&mut cluster, s, 3, batch.clone());
    cluster.kill(0).unwrap();
    let (s, r) = h.join().unwrap();
    assert_eq!(r.unwrap_err().code(), "pg-commit-unknown");
    cluster.restart(0).unwrap();
    cluster.restart(1).unwrap();
    cluster.wait_sync().unwrap();
    assert!(s.try_acquire_lease().unwrap());
    assert_eq!(s.refresh_len().unwrap(), 53, "all of the batch");
    assert_eq!(s.read(3, 53).unwrap(), batch);
    // Taking the lease confirmed it on the standby; so does confirm_durable.
    assert_eq!(s.confirm_durable().unwrap(), 53);
}

#[test]
fn a_cancelled_wait_for_the_standby_is_not_acknowledged() {
    let mut cluster = Cluster::start(1).expect("cluster");
    let s = sequencer(&cluster.url());
    let batch = entries("b", 0, 8, 3000);
    let (h, pid) = append_blocked_on_standby(&mut cluster, s, 0, batch.clone());
    // PostgreSQL answers a cancelled wait with success and a warning: the commit is on the
    // primary only.
    let mut su = cluster.superuser(0).unwrap();
    su.execute("SELECT pg_cancel_backend($1)", &[&pid]).unwrap();
    let (s, r) = h.join().unwrap();
    let e = r.unwrap_err();
    assert_eq!(e.code(), "pg-commit-unconfirmed", "{e}");
    assert!(e.may_have_appended());
    assert!(e.to_string().contains("synchronous replication"), "{e}");
    assert_eq!(s.refresh_len().unwrap(), 8, "visible on the primary");
    // Confirmed only once a standby has it.
    cluster.restart(1).unwrap();
    cluster.wait_sync().unwrap();
    assert_eq!(s.confirm_durable().unwrap(), 8);

    // A session ended by the server while it waits: no answer at all.
    let batch = entries("c", 8, 8, 3000);
    let (h, pid) = append_blocked_on_standby(&mut cluster, s, 8, batch);
    su.execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    let (_, r) = h.join().unwrap();
    assert_eq!(r.unwrap_err().code(), "pg-commit-unknown");
}

/// What the writer of the failover test saw.
#[derive(Default)]
struct Seen {
    /// Appends that returned `Ok`, at their index.
    acked: Vec<(u64, Vec<Vec<u8>>)>,
    /// Appends that may or may not have been written.
    unknown: Vec<(u64, Vec<Vec<u8>>)>,
    errors: Vec<&'static str>,
}

/// A sequencer appending batches in a loop; after any failure it takes the lease again (which
/// confirms the log on a standby) and re-reads the length, as the board must.
fn writer(url: String, stop: Arc<AtomicBool>, seen: Arc<Mutex<Seen>>) {
    let s = PgStore::open(&url, identity(), Options::default()).unwrap();
    let mut len = None;
    let mut seq = 0u64;
    while !stop.load(Ordering::Acquire) {
        let at = match len {
            Some(at) if s.lease_epoch().is_some() => at,
            _ => {
                let ready = s.try_acquire_lease().unwrap_or(false);
                match s.refresh_len() {
                    Ok(l) if ready => len = Some(l),
                    _ => thread::sleep(Duration::from_millis(20)),
                }
                continue;
            }
        };
        let batch = entries("w", seq, 8, 500);
        seq += 8;
        let r = s.append(at, &refs(&batch));
        let mut seen = seen.lock().unwrap();
        match r {
            Ok(()) => {
                seen.acked.push((at, batch));
                len = Some(at + 8);
            }
            Err(e) => {
                seen.errors.push(e.code());
                if e.may_have_appended() {
                    seen.unknown.push((at, batch));
                }
                len = None;
            }
        }
    }
}

fn acked_count(seen: &Mutex<Seen>) -> usize {
    seen.lock().unwrap().acked.len()
}

fn wait_for_progress(seen: &Mutex<Seen>, beyond: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked_count(seen) < beyond {
        assert!(Instant::now() < deadline, "the writer made no progress");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Checks that every acknowledged append is on the server now primary, at its index.
fn check_acked(cluster: &Cluster, seen: &Mutex<Seen>) -> Vec<Vec<u8>> {
    let acked = seen.lock().unwrap().acked.clone();
    let store = PgStore::open(&cluster.url(), identity(), Options::default()).unwrap();
    let len = store.refresh_len().unwrap();
    let log = store.read(0, len).unwrap();
    for (at, batch) in &acked {
        let at = *at as usize;
        assert!(
            at + batch.len() <= log.len(),
            "acknowledged entries {at}.. lost"
        );
        assert_eq!(
            &log[at..at + batch.len()],
            &batch[..],
            "entries {at}.. differ"
        );
    }
    log
}

/// The primary is killed while a sequencer appends in a loop, the standby with the most WAL
/// is promoted and the other follows it, the dead machine is rebuilt as a standby; several
/// times. Every acknowledged append is then in the log, in order, with no gap.
#[test]
fn every_acknowledged_append_survives_the_primarys_death() {
    const ROUNDS: usize = 3;
    let mut cluster = Cluster::start(2).expect("cluster");
    let url = cluster.url();
    PgStore::open(&url, identity(), common::create()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let w = {
        let (url, stop, seen) = (url.clone(), stop.clone(), seen.clone());
        thread::spawn(move || writer(url, stop, seen))
    };
    for _ in 0..ROUNDS {
        wait_for_progress(&seen, acked_count(&seen) + 5);
        let old = cluster.primary();
        cluster.kill(old).unwrap();
        cluster.failover().unwrap();
        cluster.wait_sync().unwrap();
        check_acked(&cluster, &seen);
        cluster.rebuild(old).unwrap();
        cluster.wait_synchronous(2).unwrap();
    }
    wait_for_progress(&seen, acked_count(&seen) + 5);
    stop.store(true, Ordering::Release);
    w.join().unwrap();
    let log = check_acked(&cluster, &seen);
    let seen = seen.lock().unwrap();
    // Every entry in the log is one the writer tried at that index, and a batch whose outcome
    // was unknown is there whole or not at all.
    let mut tried: Vec<&(u64, Vec<Vec<u8>>)> = seen.acked.iter().chain(&seen.unknown).collect();
    tried.sort();
    let mut at = 0usize;
    while at < log.len() {
        let batch = tried
            .iter()
            .filter(|(i, _)| *i as usize == at)
            .find(|(_, b)| log[at..].starts_with(b))
            .unwrap_or_else(|| panic!("entries from {at} are no batch the writer tried whole"));
        at += batch.1.len();
    }
    assert!(
        seen.errors.iter().all(|c| matches!(
            *c,
            "pg-commit-unknown"
                | "pg-error"
                | "pg-unreachable"
                | "pg-no-synchronous-standby"
                | "pg-not-leaseholder"
        )),
        "{:?}",
        seen.errors
    );
    eprintln!(
        "{} appends acknowledged, {} of unknown outcome ({} of them in the log), errors: {:?}",
        seen.acked.len(),
        seen.unknown.len(),
        seen.unknown
            .iter()
            .filter(|(at, b)| log.get(*at as usize..).is_some_and(|t| t.starts_with(b)))
            .count(),
        seen.errors
    );
}
