//! Boards on the shared PostgreSQL log (`specs/storage.md`): two boards that both believe they
//! sequence — no lease, so only the fencing stands between them — still make one log, and the
//! one whose view is stale acknowledges nothing. Skipped, saying so, without PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use urna_board::board::Board;
use urna_board::server::replicated::SharedLog;
use urna_ledger::LogStore;
use urna_pgcluster::Cluster;
use urna_pgstore::{Identity, LeasePolicy, Options, PgStore};
use urna_sim::kit;

fn unleased(url: &str, r: &kit::Record, holder: &str) -> Arc<SharedLog> {
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
    let pg = PgStore::open(url, identity, opts).unwrap();
    let len = pg.refresh_len().unwrap();
    Arc::new(SharedLog::new(pg, len, true))
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
