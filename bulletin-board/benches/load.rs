//! Board load benchmark: N concurrent clients on loopback submit 10-selection plurality ballots
//! prepared before the timed run, against the real server with durability on (fdatasync before
//! every receipt). Reports sustained ballots/s and p50/p99 latency. The load clients share the
//! machine's two cores with the board, so they only post and keep the receipts during the timed
//! run; every receipt is verified offline afterwards.
//!
//! `cargo bench -p urna-board --bench load` (env: `URNA_LOAD_BALLOTS`, default 4000;
//! `URNA_LOAD_CLIENTS`, default 64).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_sim::kit;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use urna_board::board::Board;
use urna_board::server::{app_with, start, Limits};
use urna_client::BoardClient;
use urna_election::entry::Entry;
use urna_election::state::Election;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One plurality contest of ten options (a 10-selection ballot), one style.
const CONTESTS: &str = r#"
[[contests]]
id = "mayor"
title = "Mayor"
kind = "plurality"
exactly = true
options = [
  { id = "a", name = "A" }, { id = "b", name = "B" }, { id = "c", name = "C" },
  { id = "d", name = "D" }, { id = "e", name = "E" }, { id = "f", name = "F" },
  { id = "g", name = "G" }, { id = "h", name = "H" }, { id = "i", name = "I" },
  { id = "j", name = "J" },
]

[[ballot_styles]]
id = "all"
contests = ["mayor"]
"#;

fn main() {
    let n = env_usize("URNA_LOAD_BALLOTS", 4000);
    let clients = env_usize("URNA_LOAD_CLIENTS", 64);
    let cfg = kit::Config {
        voters: vec![(1, 0); n],
        contests: Some(CONTESTS.into()),
        ..kit::Config::default()
    };
    let mut k = kit::Kit::new(5, cfg);
    let mut setup = vec![k.setup()];
    setup.extend(k.ceremony());
    for (b, lo) in (0..n).step_by(1000).enumerate() {
        setup.push(k.roll(b as u32, lo..(lo + 1000).min(n)));
    }
    setup.push(k.open());
    let mut e = Election::new();
    kit::apply_all(&mut e, &setup);
    let ctx = e.context().cloned().expect("context");
    eprintln!("preparing {n} ballots…");
    let ballots: Vec<Entry> = (0..n)
        .map(|v| {
            let c = k.random_choices(0);
            k.ballot(v, &c, &ctx)
        })
        .collect();
    eprintln!("ballot entry: {} bytes", ballots[0].bytes().len());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let board = Board::open(dir.path(), k.id(), k.board.clone()).expect("board");
    let limits = Limits::unlimited();
    let addr = rt.block_on(async {
        let router = app_with(start(board).0, limits.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            urna_serve::listen::serve(listener, router, &limits, std::future::pending()).await
        });
        addr
    });
    let client = BoardClient::new(&format!("http://{addr}"));
    let origin = k.id().to_string();
    let vk = k.board.verifying_key();
    for x in &setup {
        client.submit(x.bytes(), &origin, &vk).expect("setup entry");
    }
    let ballots = Arc::new(ballots);
    let next = Arc::new(AtomicUsize::new(0));
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let receipts: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("http://{addr}/entries");
    let t0 = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (ballots, next, latencies) = (ballots.clone(), next.clone(), latencies.clone());
            let (agent, url, receipts) = (agent.clone(), url.clone(), receipts.clone());
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                let mut got = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(b) = ballots.get(i) else { break };
                    let t = Instant::now();
                    let mut resp = agent.post(&url).send(b.bytes()).expect("post");
                    let body = resp.body_mut().read_to_string().expect("body");
                    mine.push(t.elapsed());
                    assert_eq!(resp.status(), 200, "{body}");
                    got.push((i, body));
                }
                latencies.lock().expect("lock").extend(mine);
                receipts.lock().expect("lock").extend(got);
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let total = t0.elapsed();
    for (i, text) in receipts.lock().expect("lock").iter() {
        urna_ledger::note::Receipt::parse(text)
            .expect("receipt")
            .verify(ballots[*i].bytes(), &origin, &vk)
            .expect("receipt verifies");
    }
    let mut l = latencies.lock().expect("lock").clone();
    l.sort();
    let pct = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)];
    println!(
        "board load: {n} ballots, {clients} clients: {:.0} ballots/s, p50 {:.1} ms, p99 {:.1} ms (durable, loopback)",
        n as f64 / total.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
}
