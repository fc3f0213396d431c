//! Boards on the shared PostgreSQL log (`specs/storage.md`): two boards that both believe they
//! sequence — no lease, so only the fencing stands between them — still make one log, and the
//! one whose view is stale acknowledges nothing. Skipped, saying so, without PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use urna_board::board::{Board, SnapshotUse};
use urna_board::index::{Index, IndexState};
use urna_board::server::replicated::{self, SharedLog};
use urna_election::entry::EntryKind;
use urna_ledger::{LogStore, Statement, StoreError};
use urna_pgcluster::Cluster;
use urna_pgstore::{Identity, LeasePolicy, Options, PgStore};
use urna_sim::kit;

fn unleased(url: &str, r: &kit::Record, holder: &str) -> Arc<SharedLog> {
    let pg = pg_store(url, r, holder);
    let len = pg.refresh_len().unwrap();
    Arc::new(SharedLog::new(pg, len, true))
}

fn pg_store(url: &str, r: &kit::Record, holder: &str) -> PgStore {
    let identity = Identity {
        origin: r.kit.id().to_string(),
        board_key: *r.kit.board.verifying_key().as_bytes(),
    };
    let opts = Options {
        create: true,
        lease: LeasePolicy::NotRequired,
        holder: holder.into(),
        ..Options::default()
    };
    PgStore::open(url, identity, opts).unwrap()
}

fn open(store: &Arc<SharedLog>, r: &kit::Record) -> Board {
    let s: Arc<dyn LogStore> = store.clone();
    Board::open_shared(s, r.kit.id(), r.kit.board.clone(), true).unwrap()
}

#[test]
fn two_would_be_sequencers_make_one_log() {
    if let Err(e) = urna_pgcluster::binaries() {
        eprintln!("SKIPPED two_would_be_sequencers_make_one_log: {e}");
        return;
    }
    let cluster = Cluster::start(1).unwrap();
    let r = kit::record(21);
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let (sa, sb) = (
        unleased(&cluster.url(), &r, "a"),
        unleased(&cluster.url(), &r, "b"),
    );
    let mut a = open(&sa, &r);
    let mut b = open(&sb, &r);
    // Both at size 0. A appends first; B's view is stale: its append at 0 is fenced, and it
    // answers no submission (its caller must stop and reopen).
    for res in a.submit(&raw[..4]).unwrap() {
        res.unwrap();
    }
    let err = b.submit(&raw[..2]).unwrap_err();
    assert!(err.to_string().contains("log holds 4 entries"), "{err}");
    // Reopened, B sees A's log and continues it; now A is the stale one.
    drop((b, sb));
    let sb = unleased(&cluster.url(), &r, "b");
    let mut b = open(&sb, &r);
    assert_eq!(b.size(), 4);
    for res in b.submit(&raw[4..6]).unwrap() {
        res.unwrap();
    }
    assert!(a.submit(&raw[6..7]).is_err());
    // One log: the entries in submission order, under B's checkpoint.
    let stored = sa.pg().read(0, sa.pg().refresh_len().unwrap()).unwrap();
    assert_eq!(stored, raw[..6].to_vec());
    let note = sa
        .pg()
        .statement(urna_ledger::Statement::Checkpoint)
        .unwrap()
        .unwrap();
    assert_eq!(note, b.checkpoint());
}

/// Entries under a checkpoint signed with the board key are replayed without verifying their
/// signatures and proofs again (a process of this board verified them before signing); the
/// tail no checkpoint covers is verified in full: an entry with a forged signature appended
/// there (as anyone writing to the database without the key could) stops the opening.
#[test]
fn the_tail_no_checkpoint_covers_is_verified_in_full() {
    if let Err(e) = urna_pgcluster::binaries() {
        eprintln!("SKIPPED the_tail_no_checkpoint_covers_is_verified_in_full: {e}");
        return;
    }
    let cluster = Cluster::start(1).unwrap();
    let r = kit::record(22);
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let sa = unleased(&cluster.url(), &r, "a");
    let mut a = open(&sa, &r);
    for res in a.submit(&raw[..4]).unwrap() {
        res.unwrap();
    }
    drop(a);
    // The signed prefix reopens, without its proofs verified again.
    let sb = unleased(&cluster.url(), &r, "b");
    assert_eq!(open(&sb, &r).size(), 4);
    drop(sb);
    // A bit of the signature's R flipped: the envelope still decodes, the signature fails.
    let mut forged = raw[4].clone();
    let k = forged.len() - 50;
    forged[k] ^= 1;
    sa.pg().append(4, &[&forged]).unwrap();
    let sc = unleased(&cluster.url(), &r, "c");
    let s: Arc<dyn LogStore> = sc.clone();
    match Board::open_shared(s, r.kit.id(), r.kit.board.clone(), true) {
        Ok(_) => panic!("a forged entry past the signed checkpoint was replayed"),
        Err(e) => assert!(e.to_string().contains("entry 4"), "{e}"),
    }
}

/// Waits until the board's snapshot thread has stored a snapshot; returns its size.
fn stored(store: &SharedLog, board: &Board) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if !board.snapshot_in_flight() {
            if let Some((n, _)) = store.pg().snapshot().unwrap() {
                return n;
            }
        }
        assert!(Instant::now() < deadline, "no snapshot stored");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn open_from_store(store: &Arc<SharedLog>, r: &kit::Record, sequence: bool) -> Board {
    let s: Arc<dyn LogStore> = store.clone();
    let snapshot = replicated::stored_snapshot(store, r.kit.id(), &r.kit.board).unwrap();
    Board::open_shared_from(s, r.kit.id(), r.kit.board.clone(), sequence, snapshot).unwrap()
}

/// The sequencer stores a snapshot of the rules' state every few entries, off its commit path
/// (`specs/storage.md` §3a); a process opening the log restores it and replays only the entries
/// after it, to the same state as a replay from zero. A snapshot that fails a check — damaged,
/// not signed by this board, not of this log — is discarded with its reason, and the log is
/// replayed from zero to the same state.
#[test]
fn a_process_opening_the_log_starts_from_the_stored_snapshot() {
    if let Err(e) = urna_pgcluster::binaries() {
        eprintln!("SKIPPED a_process_opening_the_log_starts_from_the_stored_snapshot: {e}");
        return;
    }
    let cluster = Cluster::start(1).unwrap();
    let r = kit::record(25);
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let sa = unleased(&cluster.url(), &r, "a");
    let mut a = open(&sa, &r);
    a.snapshot_to(replicated::snapshot_sink(&sa), 8);
    for res in a.submit(&raw[..10]).unwrap() {
        res.unwrap();
    }
    let n = stored(&sa, &a);
    assert!((8..=10).contains(&n), "a snapshot of {n} entries");
    for res in a.submit(&raw[10..14]).unwrap() {
        res.unwrap();
    }
    // A replay from zero, for comparison.
    let fresh = unleased(&cluster.url(), &r, "zero");
    let zero = {
        let s: Arc<dyn LogStore> = fresh.clone();
        Board::open_shared(s, r.kit.id(), r.kit.board.clone(), false).unwrap()
    };
    assert!(matches!(zero.snapshot, SnapshotUse::None));
    assert_eq!(zero.size(), 14);
    let want = zero.election().snapshot();

    // A follower (not sequencing) restores it and replays only the entries after it.
    let sb = unleased(&cluster.url(), &r, "b");
    let b = open_from_store(&sb, &r, false);
    assert!(
        matches!(b.snapshot, SnapshotUse::Restored { size } if size == n),
        "{:?}",
        b.snapshot
    );
    assert_eq!(b.size(), 14);
    assert_eq!(b.election().snapshot(), want);
    assert_eq!(b.checkpoint(), a.checkpoint());
    drop((b, sb));

    // Damaged or foreign snapshots, written straight into the row as an operator could.
    let mut su = cluster
        .superuser_on(cluster.primary(), urna_pgcluster::DATABASE)
        .unwrap();

    // A process the server allows no more connections (reading the row and the leaf hashes at
    // once takes two more than its own) still restores it, reading them one after the other
    // on its readers' connection, rather than replaying the log from zero.
    let sl = unleased(&cluster.url(), &r, "limited");
    let limit = |n: i32| {
        let role = urna_pgcluster::USER;
        format!("ALTER ROLE {role} CONNECTION LIMIT {n}")
    };
    su.batch_execute(&limit(0)).unwrap();
    let refused = sl.pg().snapshot_with_leaves().map(|_| ());
    let l = open_from_store(&sl, &r, false);
    su.batch_execute(&limit(-1)).unwrap();
    assert!(refused.is_err(), "no connection to read at once with");
    assert!(
        matches!(l.snapshot, SnapshotUse::Restored { size } if size == n),
        "{:?}",
        l.snapshot
    );
    assert_eq!(l.election().snapshot(), want);
    drop((l, sl));
    let (_, good) = sa.pg().snapshot().unwrap().unwrap();
    let other = kit::record(26);
    let foreign = {
        let s = unleased(&cluster.url(), &r, "f");
        let x = open(&s, &r);
        // The state of this log signed by another board's key.
        let leaves = s.pg().leaves(0, x.size()).unwrap();
        let mut tree = urna_ledger::merkle::Tree::new();
        leaves.iter().for_each(|l| tree.push(*l));
        let c = urna_board::snapshot::Capture {
            size: x.size(),
            root: tree.root(x.size()).unwrap(),
            leaves,
            election: x.election().clone(),
        };
        c.stored(other.kit.id(), &other.kit.board)
    };
    let flip = |at: usize| {
        let mut b = good.clone();
        b[at] ^= 1;
        b
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not a snapshot", b"hello".to_vec(), "magic"),
        ("its signature flipped", flip(100), "signature"),
        ("its size changed", flip(29), "signature"),
        ("its state damaged", flip(good.len() - 3), "body-hash"),
        ("cut short", good[..good.len() - 1].to_vec(), "body-hash"),
        ("another board's", foreign, "signature"),
    ];
    for (what, bytes, code) in cases {
        let mut tx = su.transaction().unwrap();
        tx.execute("UPDATE urna.snapshots SET snapshot = $1", &[&bytes])
            .unwrap();
        tx.commit().unwrap();
        let s = unleased(&cluster.url(), &r, what);
        let b = open_from_store(&s, &r, false);
        match &b.snapshot {
            SnapshotUse::Discarded(e) => assert_eq!(e.code(), code, "{what}: {e}"),
            u => panic!("{what}: {u:?}"),
        }
        assert_eq!(b.size(), 14, "{what}");
        assert_eq!(b.election().snapshot(), want, "{what}");
    }
    // A snapshot of another log prefix: the leaf hashes it was signed over are not the log's.
    // The state and signature are good, but the stored leaf of entry 3 is rewritten (as is its
    // entry, so that the entry reads back "intact"): the snapshot is discarded, and the replay
    // from zero then finds the log no longer has the checkpoint's root.
    let mut tx = su.transaction().unwrap();
    tx.execute("UPDATE urna.snapshots SET snapshot = $1", &[&good])
        .unwrap();
    tx.commit().unwrap();
    let s = unleased(&cluster.url(), &r, "c");
    assert!(matches!(
        open_from_store(&s, &r, false).snapshot,
        SnapshotUse::Restored { size } if size == n
    ));
    let swapped = &raw[20];
    su.execute(
        "UPDATE urna.entries SET entry = $1, leaf = $2 WHERE idx = 3",
        &[swapped, &&urna_ledger::merkle::leaf_hash(swapped)[..]],
    )
    .unwrap();
    let s = unleased(&cluster.url(), &r, "d");
    let snapshot = replicated::stored_snapshot(&s, r.kit.id(), &r.kit.board).unwrap();
    match &snapshot {
        Some(Err(e)) => assert_eq!(e.code(), "log", "{e}"),
        _ => panic!("a snapshot of other leaves was taken"),
    }
    let st: Arc<dyn LogStore> = s.clone();
    match Board::open_shared_from(st, r.kit.id(), r.kit.board.clone(), false, snapshot) {
        Ok(_) => panic!("a rewritten log was opened"),
        Err(e) => assert!(e.to_string().contains("rewritten"), "{e}"),
    }
}

/// A store that records the ranges of entries read from it.
struct Counting {
    inner: Arc<SharedLog>,
    reads: Mutex<Vec<(u64, u64)>>,
}

impl Counting {
    fn take(&self) -> Vec<(u64, u64)> {
        std::mem::take(&mut *self.reads.lock().unwrap())
    }
}

impl LogStore for Counting {
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        if end > start {
            self.reads.lock().unwrap().push((start, end));
        }
        self.inner.read(start, end)
    }
    fn append(&self, at: u64, entries: &[&[u8]]) -> Result<(), StoreError> {
        self.inner.append(at, entries)
    }
    fn statement(&self, which: Statement) -> Result<Option<String>, StoreError> {
        self.inner.statement(which)
    }
    fn set_statement(&self, which: Statement, text: &str) -> Result<(), StoreError> {
        self.inner.set_statement(which, text)
    }
}

/// A follower whose copy is current when it takes the lease reads and replays nothing: it
/// signs a checkpoint of what it holds and sequences. With a tail no checkpoint covers (the
/// dead sequencer's last, unanswered append), it reads that tail and nothing before it.
#[test]
fn a_current_follower_takes_the_lease_without_replaying() {
    if let Err(e) = urna_pgcluster::binaries() {
        eprintln!("SKIPPED a_current_follower_takes_the_lease_without_replaying: {e}");
        return;
    }
    let cluster = Cluster::start(1).unwrap();
    let r = kit::record(27);
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let sa = unleased(&cluster.url(), &r, "a");
    let mut a = open(&sa, &r);
    for res in a.submit(&raw[..6]).unwrap() {
        res.unwrap();
    }
    let sf = Arc::new(SharedLog::new(pg_store(&cluster.url(), &r, "f"), 6, false));
    let counting = Arc::new(Counting {
        inner: sf.clone(),
        reads: Mutex::new(Vec::new()),
    });
    let store: Arc<dyn LogStore> = counting.clone();
    let mut f = Board::open_shared(store, r.kit.id(), r.kit.board.clone(), false).unwrap();
    for res in a.submit(&raw[6..12]).unwrap() {
        res.unwrap();
    }
    assert!(f.follow().unwrap());
    assert_eq!(f.size(), 12);
    drop(a);
    // Current: nothing read, nothing replayed.
    counting.take();
    f.take_over(sf.pg().refresh_len().unwrap()).unwrap();
    assert_eq!(counting.take(), vec![]);
    assert_eq!(f.size(), 12);
    assert!(f.checkpoint().contains("\n12\n"));
    // A tail no checkpoint covers: only it is read.
    sa.pg().append(12, &[&raw[12]]).unwrap();
    let mut g = {
        let store: Arc<dyn LogStore> = counting.clone();
        let mut g = Board::open_shared(store, r.kit.id(), r.kit.board.clone(), false).unwrap();
        g.follow().unwrap();
        g
    };
    counting.take();
    g.take_over(sf.pg().refresh_len().unwrap()).unwrap();
    let reads = counting.take();
    assert!(!reads.is_empty());
    assert!(reads.iter().all(|r| *r == (12, 13)), "{reads:?}");
    assert_eq!(g.size(), 13);
}

/// Every process opening the log builds its index of leaf hashes, credentials and the entries
/// every voter needs without reading its ballots again (`specs/storage.md` §3a): from the leaf
/// hashes and the rules' ballot records, reading only the other entries. It answers as an
/// index rebuilt from every entry does.
#[test]
fn the_index_is_derived_without_reading_the_ballots() {
    if let Err(e) = urna_pgcluster::binaries() {
        eprintln!("SKIPPED the_index_is_derived_without_reading_the_ballots: {e}");
        return;
    }
    let cluster = Cluster::start(1).unwrap();
    let r = kit::record(28);
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let sa = unleased(&cluster.url(), &r, "a");
    let mut a = open(&sa, &r);
    for res in a.submit(&raw).unwrap() {
        res.unwrap();
    }
    let size = raw.len() as u64;
    let sb = unleased(&cluster.url(), &r, "b");
    let b = open(&sb, &r);
    assert_eq!(b.index_state, IndexState::Derived);
    let full = Index::temporary().unwrap();
    let state = full.reconcile(&b.tree(), &*b.log(), true).unwrap();
    assert_eq!(state, IndexState::Rebuilt);
    for (i, x) in raw.iter().enumerate() {
        let leaf = urna_ledger::merkle::leaf_hash(x);
        assert_eq!(b.index_of(&leaf), Some(i as u64), "entry {i}");
        assert_eq!(full.get(&leaf), Some(i as u64), "entry {i}");
    }
    for v in &r.kit.voters {
        let c = *v.key.verifying_key().as_bytes();
        let derived = b.index().of_credential(&c, size, 100);
        assert!(!derived.0.is_empty());
        assert_eq!(derived, full.of_credential(&c, size, 100));
    }
    assert_eq!(b.index().for_every_voter(size), full.for_every_voter(size));
    assert!(!full.for_every_voter(size).is_empty());

    // What it reads: entries that are not ballots, and nothing else.
    let counting = Counting {
        inner: sb.clone(),
        reads: Mutex::new(Vec::new()),
    };
    let index = Index::temporary().unwrap();
    let ballots = b.election().ballots();
    index
        .build_known(
            &b.tree(),
            ballots.iter().map(|x| (x.index, x.credential.0)),
            &counting,
        )
        .unwrap();
    let reads = counting.take();
    let read: Vec<u64> = reads.iter().flat_map(|&(s, e)| s..e).collect();
    assert!(!read.is_empty());
    for i in &read {
        let kind = r.entries[*i as usize].kind();
        assert!(
            !matches!(kind, EntryKind::Ballot | EntryKind::ChallengedBallot),
            "entry {i} ({kind}) was read"
        );
    }
    assert_eq!(read.len() as u64 + ballots.len() as u64, size);
    assert_eq!(index.for_every_voter(size), full.for_every_voter(size));
}

/// The followers store the snapshots (`specs/storage.md` §3a): each once its state is its
/// `every` entries past the stored one. The sequencer, given twice that, writes one only when
/// none is that recent — when no follower writes them — and so still leaves one for a process
/// that opens the log.
#[test]
fn followers_store_snapshots_and_the_sequencer_only_when_none_does() {
    if let Err(e) = urna_pgcluster::binaries() {
        eprintln!("SKIPPED followers_store_snapshots_and_the_sequencer_only_when_none_does: {e}");
        return;
    }
    let cluster = Cluster::start(1).unwrap();
    let r = kit::record(29);
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let sa = unleased(&cluster.url(), &r, "a");
    let mut a = open(&sa, &r);
    a.snapshot_to(replicated::snapshot_sink(&sa), 8);
    let sf = Arc::new(SharedLog::new(pg_store(&cluster.url(), &r, "f"), 0, false));
    let mut f = {
        let s: Arc<dyn LogStore> = sf.clone();
        Board::open_shared(s, r.kit.id(), r.kit.board.clone(), false).unwrap()
    };
    f.snapshot_to(replicated::snapshot_sink(&sf), 4);
    let stored_now = || sa.pg().snapshot_size().unwrap();

    for res in a.submit(&raw[..6]).unwrap() {
        res.unwrap();
    }
    assert!(!a.snapshot_in_flight());
    assert_eq!(stored_now(), 0);
    assert!(f.follow().unwrap());
    assert_eq!(stored(&sf, &f), 6, "the follower stores one");

    // The sequencer, 6 past the follower's: not yet.
    for res in a.submit(&raw[6..12]).unwrap() {
        res.unwrap();
    }
    assert!(!a.snapshot_in_flight());
    assert_eq!(stored_now(), 6);
    // No follower writing: the sequencer does, 8 past the stored one.
    for res in a.submit(&raw[12..15]).unwrap() {
        res.unwrap();
    }
    assert_eq!(stored(&sa, &a), 15, "the sequencer stores one");

    // A process opening the log restores the latest.
    let sb = unleased(&cluster.url(), &r, "b");
    let b = open_from_store(&sb, &r, false);
    assert!(
        matches!(b.snapshot, SnapshotUse::Restored { size: 15 }),
        "{:?}",
        b.snapshot
    );
    assert_eq!(b.size(), 15);
    assert_eq!(b.election().snapshot(), a.election().snapshot());
}
