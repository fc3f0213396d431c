//! The cosignature-policy corpus: the generator reproduces `specs/vectors/cosignatures.json`,
//! and each case, read from the JSON alone, gets exactly its verdict (the browser booth checks
//! the same file in `web/test/witness.test.js`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "common/cosignatures.rs"]
mod cosignatures;

use serde_json::Value;
use urna_crypto::hex;
use urna_crypto::sign::VerifyingKey;
use urna_ledger::note::{Checkpoint, NoteError};

fn key(v: &Value) -> VerifyingKey {
    VerifyingKey::from_wire(&hex::decode_array::<32>(v.as_str().unwrap()).unwrap()).unwrap()
}

#[test]
fn generator_reproduces_the_committed_corpus() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors/cosignatures.json");
    let committed = std::fs::read_to_string(path).unwrap();
    assert!(
        committed == cosignatures::render(&cosignatures::corpus()),
        "specs/vectors/cosignatures.json differs from the generator: run \
         `cargo run -p urna-ledger --example gen-cosignature-vectors` and review the diff"
    );
}

#[test]
fn every_case_gets_its_verdict() {
    let v = cosignatures::corpus();
    let origin = v["origin"].as_str().unwrap();
    let board = key(&v["board_key"]);
    let policy: Vec<(String, VerifyingKey)> = v["witnesses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["name"].as_str().unwrap().to_string(), key(&w["key"])))
        .collect();
    let quorum = v["quorum"].as_u64().unwrap() as usize;
    for c in v["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let got = Checkpoint::open_witnessed(
            c["note"].as_str().unwrap(),
            origin,
            &board,
            &policy,
            quorum,
        );
        if c["accepted"].as_bool().unwrap() {
            let (_, who) = got.unwrap_or_else(|e| panic!("{name}: rejected: {e}"));
            let names: Vec<&str> = who.iter().map(|i| policy[*i].0.as_str()).collect();
            let want: Vec<&str> = c["cosigners"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            assert_eq!(names, want, "{name}");
        } else {
            let code = match got {
                Err(NoteError::BadCosignature(_)) => "bad-cosignature",
                Err(NoteError::BadSignature(_)) => "bad-signature",
                Err(NoteError::NoQuorum { .. }) => "no-quorum",
                Err(e) => panic!("{name}: unexpected {e}"),
                Ok(_) => panic!("{name}: accepted"),
            };
            assert_eq!(code, c["error"].as_str().unwrap(), "{name}");
        }
    }
}
