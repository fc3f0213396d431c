//! The real server on 127.0.0.1 (random port), spoken to over TCP with plain HTTP/1.1:
//! concurrent submissions are committed in groups and every receipt verifies offline; limits
//! are fair to voters sharing an address; slow clients are cut off.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_sim::kit;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use urna_board::board::Board;
use urna_ledger::note::{Checkpoint, Receipt};

async fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: board\r\ncontent-length: {}\r\ncontent-type: application/octet-stream\r\nconnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await.unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status: u16 = std::str::from_utf8(&resp[9..12]).unwrap().parse().unwrap();
    (status, resp[split + 4..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ballots_over_tcp() {
    let r = kit::record(41);
    let dir = tempfile::tempdir().unwrap();
    let board = Board::open(dir.path(), r.kit.id(), r.kit.board.clone()).unwrap();
    let vk = board.public_key();
    let router = urna_board::server::app(urna_board::server::start(board).0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let open_at = r
        .entries
        .iter()
        .position(|e| e.kind() == urna_election::entry::EntryKind::OpenVoting)
        .unwrap();
    let first_ballot = open_at + 1;
    // Everything up to the first ballots in order, then the 12 first ballots all at once.
    for e in &raw[..first_ballot] {
        assert_eq!(http(addr, "POST", "/entries", e).await.0, 200);
    }
    let ballots = &raw[first_ballot..first_ballot + 12];
    let tasks: Vec<_> = ballots
        .iter()
        .cloned()
        .map(|b| tokio::spawn(async move { http(addr, "POST", "/entries", &b).await }))
        .collect();
    let origin = r.kit.id().to_string();
    for (t, b) in tasks.into_iter().zip(ballots) {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        Receipt::parse(std::str::from_utf8(&body).unwrap())
            .unwrap()
            .verify(b, &origin, &vk)
            .unwrap();
    }
    let (status, body) = http(addr, "GET", "/checkpoint", b"").await;
    assert_eq!(status, 200);
    let cp = Checkpoint::open(std::str::from_utf8(&body).unwrap(), &origin, &vk).unwrap();
    assert_eq!(cp.size, (first_ballot + 12) as u64);
    let (status, body) = http(addr, "POST", "/entries", &raw[first_ballot][..50]).await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
}

/// An answer's status, head (lowercased) and body.
async fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await.unwrap();
    let split = resp.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status: u16 = std::str::from_utf8(&resp[9..12]).unwrap().parse().unwrap();
    let head = String::from_utf8_lossy(&resp[..split]).to_lowercase();
    (status, head, resp[split + 4..].to_vec())
}

fn post(body: &[u8], extra: &str) -> Vec<u8> {
    let mut r = format!(
        "POST /entries HTTP/1.1\r\nhost: board\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn get(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nhost: board\r\n{extra}connection: close\r\n\r\n").into_bytes()
}

/// A board on 127.0.0.1 served by `listen::serve` with `limits`, holding the record up to its
/// open polls (written directly, not over HTTP); returns its address and the entries.
async fn serve(
    r: &kit::Record,
    dir: &std::path::Path,
    limits: urna_serve::limits::Limits,
) -> (std::net::SocketAddr, Vec<Vec<u8>>, usize) {
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    let first_ballot = 1 + r
        .entries
        .iter()
        .position(|e| e.kind() == urna_election::entry::EntryKind::OpenVoting)
        .unwrap();
    let mut board = Board::open(dir, r.kit.id(), r.kit.board.clone()).unwrap();
    for res in board.submit(&raw[..first_ballot]).unwrap() {
        res.unwrap();
    }
    let router = urna_board::server::app_with(urna_board::server::start(board).0, limits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        urna_serve::listen::serve(listener, router, &limits, std::future::pending()).await
    });
    (addr, raw, first_ballot)
}

/// Issue 16 §3: one address floods the board with reads, with bytes that are not entries, with
/// forged entries naming an honest voter's key, and with its own credential's ballot over and
/// over. Each of those runs out of its own budget (429 with Retry-After); honest voters at the
/// same address still get their ballots in at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_address_does_not_stop_an_honest_submission() {
    let r = kit::record(42);
    let dir = tempfile::tempdir().unwrap();
    let limits = urna_serve::limits::Limits {
        read_rate: 0.01,
        read_burst: 5.0,
        submit_rate: 0.01,
        submit_burst: 2.0,
        unattributed_rate: 0.01,
        unattributed_burst: 3.0,
        ..Default::default()
    };
    let (addr, raw, first) = serve(&r, dir.path(), limits).await;
    let vk = r.kit.board.verifying_key();
    let mut refused = 0;
    let mut count = |status: u16, head: &str| {
        if status == 429 {
            assert!(head.contains("retry-after:"), "{head}");
            refused += 1;
        }
    };
    for _ in 0..20 {
        let (status, head, _) = exchange(addr, &get("/checkpoint", "")).await;
        count(status, &head);
    }
    for _ in 0..20 {
        let (status, head, _) = exchange(addr, &post(b"not an entry", "")).await;
        count(status, &head);
    }
    // Voter 1's ballot with its signature broken: it names voter 1's key.
    let mut forged = raw[first + 1].clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    for _ in 0..20 {
        let (status, head, _) = exchange(addr, &post(&forged, "")).await;
        assert!(status == 403 || status == 429, "{status}");
        count(status, &head);
    }
    // Voter 0 casts its ballot, then floods with it (each copy answered with its receipt
    // until the credential's budget is spent).
    for _ in 0..20 {
        let (status, head, _) = exchange(addr, &post(&raw[first], "")).await;
        assert!(status == 200 || status == 429, "{status}");
        count(status, &head);
    }
    assert!(
        refused >= 4 * 14,
        "only {refused} of 80 flood requests were refused"
    );
    // Reads are spent for this address, submissions are not: voters 1 and 2, same address.
    assert_eq!(exchange(addr, &get("/checkpoint", "")).await.0, 429);
    for v in [1, 2] {
        let (status, _, body) = exchange(addr, &post(&raw[first + v], "")).await;
        assert_eq!(status, 200, "voter {v}: {}", String::from_utf8_lossy(&body));
        Receipt::parse(std::str::from_utf8(&body).unwrap())
            .unwrap()
            .verify(&raw[first + v], r.kit.id(), &vk)
            .unwrap();
    }
}

/// Behind a trusted proxy each client has its own read budget, named by `X-Forwarded-For` or
/// `Forwarded`; from any other peer those headers are ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_names_the_client() {
    let r = kit::record(43);
    let limits = |trusted: &str| urna_serve::limits::Limits {
        read_rate: 0.01,
        read_burst: 2.0,
        trusted_proxies: vec![trusted.parse().unwrap()],
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let (addr, _, _) = serve(&r, dir.path(), limits("127.0.0.0/8")).await;
    let a = "x-forwarded-for: 203.0.113.5, 198.51.100.1\r\n";
    let b = "forwarded: for=198.51.100.2;proto=http\r\n";
    for _ in 0..2 {
        assert_eq!(exchange(addr, &get("/checkpoint", a)).await.0, 200);
    }
    assert_eq!(exchange(addr, &get("/checkpoint", a)).await.0, 429);
    assert_eq!(exchange(addr, &get("/checkpoint", b)).await.0, 200);
    // Not a trusted proxy: the headers are ignored and everyone is 127.0.0.1.
    let dir = tempfile::tempdir().unwrap();
    let (addr, _, _) = serve(&r, dir.path(), limits("10.0.0.0/8")).await;
    for _ in 0..2 {
        assert_eq!(exchange(addr, &get("/checkpoint", a)).await.0, 200);
    }
    assert_eq!(exchange(addr, &get("/checkpoint", b)).await.0, 429);
}

/// Reads until the server closes the connection (EOF or reset); what it sent before.
async fn until_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    // A bound so that a server that never closes fails the test instead of hanging it.
    let read = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.expect("the server kept the connection open");
    got
}

/// Issue 16 §4: a client that never finishes its header, one that never sends anything, and
/// one whose body is shorter than its Content-Length are all cut off (the body one with a 408).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off() {
    let r = kit::record(44);
    let dir = tempfile::tempdir().unwrap();
    let limits = urna_serve::limits::Limits {
        header_timeout: std::time::Duration::from_millis(300),
        body_timeout: std::time::Duration::from_millis(300),
        ..Default::default()
    };
    let (addr, _, _) = serve(&r, dir.path(), limits).await;
    let mut half_sent = Vec::new();
    for _ in 0..50 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /entries HTTP/1.1\r\nhost: board\r\ncontent-le")
            .await
            .unwrap();
        half_sent.push(s);
    }
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let mut short = TcpStream::connect(addr).await.unwrap();
    short
        .write_all(
            b"POST /entries HTTP/1.1\r\nhost: board\r\ncontent-length: 1000\r\n\r\nonly ten b",
        )
        .await
        .unwrap();
    for s in &mut half_sent {
        assert!(until_closed(s).await.is_empty());
    }
    assert!(until_closed(&mut idle).await.is_empty());
    let answer = until_closed(&mut short).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // The board still serves everyone else.
    assert_eq!(exchange(addr, &get("/checkpoint", "")).await.0, 200);
}

/// One address may hold only so many connections; more are answered 429 and closed, and a
/// freed place is taken again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_address_are_limited() {
    let r = kit::record(45);
    let dir = tempfile::tempdir().unwrap();
    let limits = urna_serve::limits::Limits {
        max_connections_per_address: 2,
        ..Default::default()
    };
    let (addr, _, _) = serve(&r, dir.path(), limits).await;
    let held: Vec<TcpStream> = vec![
        TcpStream::connect(addr).await.unwrap(),
        TcpStream::connect(addr).await.unwrap(),
    ];
    let (status, head, _) = exchange(addr, &get("/checkpoint", "")).await;
    assert_eq!(status, 429);
    assert!(head.contains("retry-after: 1"), "{head}");
    drop(held);
    // The server frees the places once it sees the connections close.
    let mut served = false;
    for _ in 0..600 {
        if exchange(addr, &get("/checkpoint", "")).await.0 == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(served);
}
