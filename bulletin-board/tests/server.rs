//! The real server on 127.0.0.1 (random port), spoken to over TCP with plain HTTP/1.1:
//! concurrent submissions are committed in groups and every receipt verifies offline.

#[path = "../../election/tests/common/kit.rs"]
mod kit;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use urna_board::board::Board;
use urna_board::note::{Checkpoint, Receipt};

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
