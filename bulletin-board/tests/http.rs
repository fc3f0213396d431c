//! The HTTP API over the router: submissions get receipts or typed JSON rejections, reads serve
//! the checkpoint, entries, receipts by tracking code and consistency proofs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_sim::kit;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use urna_board::board::Board;
use urna_board::server::{app, start};
use urna_election::entry::Entry;
use urna_election::payload::Payload;
use urna_ledger::note::{Checkpoint, Receipt};

async fn call(router: &axum::Router, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    (
        status,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

fn post(bytes: Vec<u8>) -> Request<Body> {
    Request::post("/entries").body(Body::from(bytes)).unwrap()
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_read_and_reject_over_http() {
    let r = kit::record(31);
    let dir = tempfile::tempdir().unwrap();
    let board = Board::open(dir.path(), r.kit.id(), r.kit.board.clone()).unwrap();
    let vk = board.public_key();
    let router = app(start(board).0);
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    // Every entry of a whole election, one request each; each receipt verifies offline.
    let (status, body) = call(&router, post(raw[0].clone())).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    for e in &raw[1..] {
        let (status, body) = call(&router, post(e.clone())).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let receipt = Receipt::parse(std::str::from_utf8(&body).unwrap()).unwrap();
        receipt.verify(e, r.kit.id(), &vk).unwrap();
    }
    let (status, body) = call(&router, get("/checkpoint")).await;
    assert_eq!(status, StatusCode::OK);
    let cp = Checkpoint::open(std::str::from_utf8(&body).unwrap(), r.kit.id(), &vk).unwrap();
    assert_eq!(cp.size, raw.len() as u64);
    // A ballot's receipt by its tracking code.
    let code = r.entries[r.challenged_at].leaf_hash();
    let tc = urna_election::entry::TrackingCode(code).full();
    let (status, body) = call(&router, get(&format!("/receipt/{tc}"))).await;
    assert_eq!(status, StatusCode::OK);
    Receipt::parse(std::str::from_utf8(&body).unwrap())
        .unwrap()
        .verify(&raw[r.challenged_at], r.kit.id(), &vk)
        .unwrap();
    let (status, body) = call(&router, get("/entries/3")).await;
    assert_eq!((status, body), (StatusCode::OK, raw[3].clone()));
    let (status, body) = call(&router, get("/consistency/5/20")).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(!v["proof"].as_array().unwrap().is_empty());
    // Rejections are typed JSON and change nothing.
    let (status, body) = call(&router, post(raw[0][..30].to_vec())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "malformed");
    let (status, _) = call(&router, post(vec![0; 70_000])).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) = call(&router, get("/info")).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["size"], raw.len());
    assert_eq!(v["phase"], "finished");
    let (status, _) = call(&router, get("/entries/9999")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn rejected(router: &axum::Router, bytes: Vec<u8>) -> (StatusCode, String) {
    let (status, body) = call(router, post(bytes)).await;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    (status, v["code"].as_str().unwrap().to_string())
}

/// Each bad submission gets its typed rejection over HTTP and leaves the log as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_submissions_get_typed_rejections_and_change_nothing() {
    let mut r = kit::record(32);
    let dir = tempfile::tempdir().unwrap();
    let board = Board::open(dir.path(), r.kit.id(), r.kit.board.clone()).unwrap();
    let router = app(start(board).0);
    let open_at = r
        .entries
        .iter()
        .position(|e| e.kind() == urna_election::entry::EntryKind::OpenVoting)
        .unwrap();
    // A ballot before the polls open.
    for e in &r.entries[..open_at] {
        assert_eq!(
            call(&router, post(e.bytes().to_vec())).await.0,
            StatusCode::OK
        );
    }
    let early = r.entries[open_at + 1].bytes().to_vec();
    let mut cases: Vec<(&str, Vec<u8>, StatusCode)> =
        vec![("wrong-phase", early, StatusCode::UNPROCESSABLE_ENTITY)];
    let before = call(&router, get("/checkpoint")).await.1;
    for (code, bytes, status) in cases.drain(..) {
        assert_eq!(rejected(&router, bytes).await, (status, code.to_string()));
    }
    assert_eq!(call(&router, get("/checkpoint")).await.1, before);
    assert_eq!(
        call(&router, post(r.entries[open_at].bytes().to_vec()))
            .await
            .0,
        StatusCode::OK
    );
    let first = r.entries[open_at + 1].clone();
    assert_eq!(
        call(&router, post(first.bytes().to_vec())).await.0,
        StatusCode::OK
    );
    let ctx = {
        let mut e = urna_election::state::Election::new();
        kit::apply_all(&mut e, &r.entries[..=open_at]);
        e.context().unwrap().clone()
    };
    // A bit flipped inside the signed bytes: the signature no longer holds.
    let mut flipped = r.entries[open_at + 2].bytes().to_vec();
    let at = flipped.len() - 100;
    flipped[at] ^= 1;
    // The same ballot under another election's id (re-signed by its voter).
    let Payload::Ballot(b) = Payload::decode(first.kind(), first.payload()).unwrap() else {
        panic!("not a ballot")
    };
    let other = Entry::sign(
        "another.example/2026",
        first.kind(),
        first.payload(),
        &r.kit.voters[0].key,
    )
    .unwrap();
    // A credential that is not on the roll.
    let stranger = urna_crypto::sign::SigningKey::from_seed(&[9; 32]);
    let unknown = Entry::sign(r.kit.id(), first.kind(), first.payload(), &stranger).unwrap();
    // Voter 0's ciphertexts cast under voter 2's credential (same style): the copy is noticed
    // before the proofs, which bind the credential, are verified (specs/election.md §6.5).
    let copied = r.kit.ballot_entry(2, (*b).clone());
    // A Benaloh-challenged ballot's ciphertexts cast afterwards: a replay of known ciphertexts.
    let choices = r.kit.random_choices(r.kit.voters[1].style);
    let (challenge, opened) = r.kit.challenged(1, &choices, &ctx);
    assert_eq!(
        call(&router, post(challenge.bytes().to_vec())).await.0,
        StatusCode::OK
    );
    let replayed = r.kit.ballot_entry(1, opened);
    // A fresh ballot whose proofs were made for another credential.
    let choices = r.kit.random_choices(r.kit.voters[0].style);
    let (foreign, _) = r.kit.encrypt(0, &choices, &ctx);
    let misbound = r.kit.ballot_entry(2, foreign);
    // The election's result before the polls have closed.
    let result = r.entries.last().unwrap().bytes().to_vec();
    let before = call(&router, get("/checkpoint")).await.1;
    for (code, bytes, status) in [
        ("bad-signature", flipped, StatusCode::FORBIDDEN),
        (
            "wrong-election",
            other.bytes().to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "not-eligible",
            unknown.bytes().to_vec(),
            StatusCode::FORBIDDEN,
        ),
        (
            "copied-ballot",
            copied.bytes().to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "copied-ballot",
            replayed.bytes().to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "invalid-ballot",
            misbound.bytes().to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("wrong-phase", result, StatusCode::UNPROCESSABLE_ENTITY),
        (
            "malformed",
            b"not an entry".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "malformed",
            first.bytes()[..first.bytes().len() - 1].to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "malformed",
            [first.bytes(), b"x"].concat(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        assert_eq!(
            rejected(&router, bytes).await,
            (status, code.to_string()),
            "{code}"
        );
    }
    let (status, _) = call(&router, post(vec![0; 65_536])).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(call(&router, get("/checkpoint")).await.1, before);
    // A duplicate submission is answered with the original receipt and adds nothing.
    let (status, body) = call(&router, post(first.bytes().to_vec())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        Receipt::parse(std::str::from_utf8(&body).unwrap())
            .unwrap()
            .index,
        open_at as u64 + 1
    );
    assert_eq!(call(&router, get("/checkpoint")).await.1, before);
}

/// The tlog-tiles read API: entry bundles and hash tiles rebuild the signed tree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_rebuild_the_signed_tree() {
    let r = kit::record(33);
    let dir = tempfile::tempdir().unwrap();
    let board = Board::open(dir.path(), r.kit.id(), r.kit.board.clone()).unwrap();
    let vk = board.public_key();
    let router = app(start(board).0);
    for e in &r.entries {
        assert_eq!(
            call(&router, post(e.bytes().to_vec())).await.0,
            StatusCode::OK
        );
    }
    let n = r.entries.len() as u64;
    assert!(n < 256);
    let (status, bundle) = call(&router, get(&format!("/tile/entries/000.p/{n}"))).await;
    assert_eq!(status, StatusCode::OK);
    let got = urna_ledger::tiles::parse_bundle(&bundle).unwrap();
    assert_eq!(got.len() as u64, n);
    let (status, hashes) = call(&router, get(&format!("/tile/0/000.p/{n}"))).await;
    assert_eq!(status, StatusCode::OK);
    let mut tree = urna_ledger::merkle::Tree::new();
    for (i, e) in got.iter().enumerate() {
        let leaf = urna_ledger::merkle::leaf_hash(e);
        assert_eq!(&hashes[i * 32..i * 32 + 32], &leaf);
        tree.push(leaf);
    }
    let cp = Checkpoint::open(
        std::str::from_utf8(&call(&router, get("/checkpoint")).await.1).unwrap(),
        r.kit.id(),
        &vk,
    )
    .unwrap();
    assert_eq!(tree.root(n).unwrap(), cp.root);
    // A smaller partial tile is still served; a full tile or a wider one is not there yet.
    assert_eq!(
        call(&router, get("/tile/entries/000.p/3")).await.0,
        StatusCode::OK
    );
    for missing in [
        "/tile/entries/000",
        "/tile/0/000",
        "/tile/1/000.p/1",
        "/tile/0/001.p/1",
        "/tile/00/000.p/1",
        "/tile/0/x000/000.p/1",
    ] {
        assert_eq!(
            call(&router, get(missing)).await.0,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
    let (status, body) = call(&router, get("/entries?start=2&end=4")).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["entries"].as_array().unwrap().len(), 2);
    assert_eq!(v["entries"][0]["index"], 2);
    let (status, body) = call(&router, get("/manifest")).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["election_id"], r.kit.id());
    let (status, body) = call(&router, get("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["openapi"], "3.1.0");
}

/// `GET /entries` is paged: each page is capped, says where the next one starts (in the body and
/// a `Link` header), and walking the pages yields every entry once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_entries_view_is_paged() {
    let r = kit::record(34);
    let dir = tempfile::tempdir().unwrap();
    let board = Board::open(dir.path(), r.kit.id(), r.kit.board.clone()).unwrap();
    let router = app(start(board).0);
    for e in &r.entries {
        assert_eq!(
            call(&router, post(e.bytes().to_vec())).await.0,
            StatusCode::OK
        );
    }
    let n = r.entries.len() as u64;
    let mut seen = Vec::new();
    let mut path = "/entries?limit=7".to_string();
    loop {
        let res = router.clone().oneshot(get(&path)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let link = res
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_string());
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let page = v["entries"].as_array().unwrap();
        assert!(!page.is_empty() && page.len() <= 7);
        assert_eq!(v["size"], n);
        seen.extend(page.iter().map(|e| e["index"].as_u64().unwrap()));
        match v["next"].as_u64() {
            Some(next) => {
                assert_eq!(v["end"], next);
                let link = link.expect("a Link header to the next page");
                assert!(
                    link.starts_with(&format!("</entries?start={next}&")),
                    "{link}"
                );
                path = link[1..link.find('>').unwrap()].to_string();
            }
            None => {
                assert!(link.is_none());
                break;
            }
        }
    }
    assert_eq!(seen, (0..n).collect::<Vec<_>>());
    // A page never exceeds the cap, whatever is asked; a reversed range is refused.
    let (status, body) = call(&router, get("/entries?limit=1000000")).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(v["entries"].as_array().unwrap().len() as u64 <= urna_board::server::MAX_VIEW);
    let (status, body) = call(&router, get("/entries?start=5&end=2")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "bad-range");
    let (status, body) = call(&router, get(&format!("/entries?start={}", n + 5))).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(v["entries"].as_array().unwrap().is_empty() && v["next"].is_null());
}

/// The writer publishes what readers see before it answers: once a receipt arrives, the
/// checkpoint served covers it and its entry is served; nothing past the published checkpoint
/// is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_is_answered_only_once_readers_see_it() {
    let r = kit::record(35);
    let dir = tempfile::tempdir().unwrap();
    let board = Board::open(dir.path(), r.kit.id(), r.kit.board.clone()).unwrap();
    let vk = board.public_key();
    let router = app(start(board).0);
    for (i, e) in r.entries.iter().take(8).enumerate() {
        let (status, body) = call(&router, post(e.bytes().to_vec())).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let (_, body) = call(&router, get("/checkpoint")).await;
        let cp = Checkpoint::open(std::str::from_utf8(&body).unwrap(), r.kit.id(), &vk).unwrap();
        assert_eq!(cp.size, i as u64 + 1);
        let (status, body) = call(&router, get(&format!("/entries/{i}"))).await;
        assert_eq!((status, body), (StatusCode::OK, e.bytes().to_vec()));
        let (status, _) = call(&router, get(&format!("/entries/{}", i + 1))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = call(&router, get(&format!("/consistency/1/{}", i + 2))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}

/// What `GET /voter/{credential}` serves (`specs/board.md` §5.2): the election's entries and
/// the credential's, each with a proof to the checkpoint; the same index after a restart (caught
/// up), after the index is lost (rebuilt from the log) and from an index written before it held
/// credentials (rebuilt too); a bad credential is a typed 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_voter_view_survives_restarts_and_index_loss() {
    let r = kit::record(35);
    let dir = tempfile::tempdir().unwrap();
    let voter = r.kit.voters[4].key.verifying_key();
    let open = || Board::open(dir.path(), r.kit.id(), r.kit.board.clone()).unwrap();
    let indexed = |b: &Board| {
        let size = b.size();
        (
            b.index().for_every_voter(size),
            b.index().of_credential(voter.as_bytes(), size, 64),
        )
    };
    let mut board = open();
    let raw: Vec<Vec<u8>> = r.entries.iter().map(|e| e.bytes().to_vec()).collect();
    // Half at once, then the rest one by one (the group commit and the single path).
    let half = raw.len() / 2;
    assert!(board
        .submit(&raw[..half])
        .unwrap()
        .iter()
        .all(Result::is_ok));
    for e in &raw[half..] {
        assert!(board.submit(std::slice::from_ref(e)).unwrap()[0].is_ok());
    }
    let first = indexed(&board);
    // Bounded: the roll entry and the latest ballots are kept, the earliest left out.
    let (all, omitted) = &first.1;
    assert!(all.len() >= 3 && *omitted == 0);
    let (few, left) = board
        .index()
        .of_credential(voter.as_bytes(), board.size(), 2);
    assert_eq!(few, [all[0], all[all.len() - 1]]);
    assert_eq!(left, all.len() as u64 - 2);
    drop(board);
    let board = open();
    assert_eq!(indexed(&board), first);
    drop(board);
    std::fs::remove_dir_all(dir.path().join("index")).unwrap();
    let board = open();
    assert_eq!(board.index_state, urna_board::index::IndexState::Rebuilt);
    assert_eq!(indexed(&board), first);
    drop(board);
    {
        let db = sled::open(dir.path().join("index")).unwrap();
        db.remove(b"voter-index-v1").unwrap();
        db.open_tree("voter").unwrap().clear().unwrap();
        db.flush().unwrap();
    }
    let board = open();
    assert_eq!(board.index_state, urna_board::index::IndexState::Rebuilt);
    assert_eq!(indexed(&board), first);

    let router = app(start(board).0);
    let path = format!("/voter/{}", hex::encode(voter.as_bytes()));
    let (status, body) = call(&router, get(&path)).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let kinds = |list: &serde_json::Value| -> Vec<&'static str> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|x| {
                let raw = hex::decode(x["entry"].as_str().unwrap()).unwrap();
                Entry::decode(raw).unwrap().kind().name()
            })
            .collect()
    };
    let election = kinds(&v["election"]);
    assert_eq!(election[0], "Setup");
    assert!(election.contains(&"OpenVoting") && election.contains(&"CloseVoting"));
    assert!(election
        .iter()
        .all(|k| !["VoterRoll", "Ballot", "DecryptionShare", "Result"].contains(k)));
    let mine = kinds(&v["credential"]);
    assert_eq!(mine[0], "VoterRoll");
    assert!(mine[1..]
        .iter()
        .all(|k| *k == "Ballot" || *k == "ChallengedBallot"));
    assert!(mine.contains(&"ChallengedBallot"));
    assert_eq!(v["size"], r.entries.len() as u64);
    assert_eq!(v["omitted"], 0);
    let (status, body) = call(&router, get("/voter/zz")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "bad-credential");
    // A credential on no roll: an empty list, not an error.
    let (status, body) = call(&router, get(&format!("/voter/{}", "00".repeat(32)))).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(v["credential"].as_array().unwrap().is_empty());
}

/// `GET /tally` (`specs/board.md` §5): `404 not-closed` while voting is open; after the close,
/// the encrypted tally the rules summed, ciphertext by ciphertext, the same as a replay's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_encrypted_tally_is_served_once_voting_closes() {
    let r = kit::record(36);
    let dir = tempfile::tempdir().unwrap();
    let board = Board::open(dir.path(), r.kit.id(), r.kit.board.clone()).unwrap();
    let router = app(start(board).0);
    let close = r
        .entries
        .iter()
        .position(|e| e.kind() == urna_election::entry::EntryKind::CloseVoting)
        .unwrap();
    for e in &r.entries[..close] {
        assert_eq!(
            call(&router, post(e.bytes().to_vec())).await.0,
            StatusCode::OK
        );
    }
    let (status, body) = call(&router, get("/tally")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "not-closed");
    for e in &r.entries[close..] {
        assert_eq!(
            call(&router, post(e.bytes().to_vec())).await.0,
            StatusCode::OK
        );
    }
    let (status, body) = call(&router, get("/tally")).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["size"], r.entries.len() as u64);
    let mut replay = urna_election::state::Election::new();
    kit::apply_all(&mut replay, &r.entries);
    let want: Vec<String> = replay
        .encrypted_tally()
        .unwrap()
        .iter()
        .map(|c| {
            use urna_crypto::codec::Encode;
            let mut out = Vec::new();
            c.encode(&mut out);
            urna_crypto::hex::encode(&out)
        })
        .collect();
    assert!(!want.is_empty());
    let got: Vec<String> = v["tally"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, want);
}
