//! What the PostgreSQL log's tests share: an election's identity, options, entries that tell
//! apart who wrote them, and waiting for a connection to block on its standby.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use urna_pgcluster::Cluster;
use urna_pgstore::{Identity, LeasePolicy, Options, PgStore};

pub const ORIGIN: &str = "urna.example/election/2031-test";

pub fn identity() -> Identity {
    Identity {
        origin: ORIGIN.to_string(),
        board_key: [7u8; 32],
    }
}

/// Options that create the log if missing.
pub fn create() -> Options {
    Options {
        create: true,
        holder: "test".into(),
        ..Options::default()
    }
}

/// Options without the lease requirement (appends still fenced).
pub fn unleased() -> Options {
    Options {
        lease: LeasePolicy::NotRequired,
        ..create()
    }
}

/// A store on `url` holding the lease.
pub fn sequencer(url: &str) -> PgStore {
    let s = PgStore::open(url, identity(), create()).expect("open");
    assert!(s.try_acquire_lease().expect("lease"), "lease taken");
    s
}

/// `n` distinct entries of about `size` bytes, labelled by `tag` and numbered from `from`.
pub fn entries(tag: &str, from: u64, n: usize, size: usize) -> Vec<Vec<u8>> {
    (0..n as u64)
        .map(|i| {
            let mut e = format!("{tag}:{}:", from + i).into_bytes();
            let mut x = from + i + 1;
            while e.len() < size {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                e.push((x >> 56) as u8);
            }
            e
        })
        .collect()
}

pub fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(Vec::as_slice).collect()
}

/// A checkpoint note's body (the store checks only its origin and size lines).
pub fn note(size: u64) -> String {
    format!("{ORIGIN}\n{size}\nAAAA\n\n— {ORIGIN} c2lnbmF0dXJl\n")
}

/// Waits until a session of `application_name` on node `i` is waiting for a synchronous
/// standby (`wait_event = 'SyncRep'`): its COMMIT is written on the primary and waits.
pub fn wait_for_syncrep(cluster: &Cluster, i: usize) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut su = cluster.superuser(i).expect("superuser");
        let row = su
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'urna' \
                 AND wait_event = 'SyncRep'",
                &[],
            )
            .expect("pg_stat_activity");
        if let Some(row) = row {
            return row.get(0);
        }
        assert!(Instant::now() < deadline, "no commit waiting for a standby");
        std::thread::sleep(Duration::from_millis(20));
    }
}
