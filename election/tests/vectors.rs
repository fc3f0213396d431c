//! The frozen election vectors: the generator reproduces them byte for byte; the record,
//! read from its JSON alone, replays to its stated final state; every corpus case is refused
//! for exactly its named reason and changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use serde_json::Value;
use urna_crypto::hex;
use urna_election::entry::Entry;
use urna_election::rejection::Rejection;
use urna_election::state::Election;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors")
}

fn load(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join(name)).unwrap()).unwrap()
}

fn entries(v: &Value) -> Vec<Entry> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| Entry::decode(hex::decode(h.as_str().unwrap()).unwrap()).unwrap())
        .collect()
}

#[test]
fn generator_reproduces_the_committed_files() {
    for (name, value) in common::vectors::all() {
        let committed = std::fs::read_to_string(dir().join(name)).unwrap();
        assert!(
            committed == common::vectors::render(&value),
            "specs/vectors/{name} differs from the generator: run \
             `cargo run -p urna-election --example gen-election-vectors` and review the diff"
        );
    }
}

#[test]
fn record_replays_to_its_final_state() {
    let v = load("election/record.json");
    let e = Election::replay(&entries(&v["entries"])).unwrap();
    let f = &v["final"];
    // Every field of `final` (specs/election.md §9.1), and no other.
    let ctx = e.context().unwrap();
    let ballots: Vec<Value> = e
        .ballots()
        .iter()
        .map(|b| {
            serde_json::json!({
                "index": b.index,
                "credential": hex::encode(b.credential.as_bytes()),
                "tracking_code": b.tracking_code.full(),
                "status": b.status,
            })
        })
        .collect();
    let expected = serde_json::json!({
        "phase": e.phase(),
        "manifest_hash": hex::encode(&e.manifest_hash()),
        "joint_key": hex::encode(ctx.joint_key.point().as_bytes()),
        "verification_keys": ctx.verification_keys.iter().map(|p| hex::encode(p.as_bytes())).collect::<Vec<_>>(),
        "context_hash": hex::encode(&ctx.hash),
        "qualified_trustees": e.qualified_trustees(),
        "counts": e.counts(),
        "ballots": ballots,
        "encrypted_tally": e.encrypted_tally().unwrap().iter().map(|c| hex::encode(&urna_crypto::codec::Encode::to_bytes(c))).collect::<Vec<_>>(),
        "result": e.result().map(|r| r.counts.clone()),
    });
    assert_eq!(f, &expected);
    // The counts and the standings agree as §9.1 says.
    let c = &f["counts"];
    let n = |k: &str| c[k].as_u64().unwrap();
    let standings = f["ballots"].as_array().unwrap();
    assert_eq!(standings.len() as u64, n("ballots") + n("challenged"));
    assert_eq!(n("counted"), n("ballots") - n("superseded"));
    for b in standings {
        match &b["status"] {
            Value::String(s) => assert!(s == "counted" || s == "challenged", "{s}"),
            st => {
                // Superseded by the credential's next ballot, named by its entry index.
                let by = st["superseded"]["by"].as_u64().unwrap();
                let next = standings
                    .iter()
                    .find(|x| x["index"].as_u64() == Some(by))
                    .unwrap();
                assert_eq!(next["credential"], b["credential"]);
                assert!(by > b["index"].as_u64().unwrap());
            }
        }
    }
    // The manifest in the record is the one the TOML describes.
    let m =
        urna_election::manifest::Manifest::from_toml(v["manifest_toml"].as_str().unwrap()).unwrap();
    assert_eq!(hex::encode(&m.hash()), f["manifest_hash"].as_str().unwrap());
}

#[test]
fn rejection_corpus_fails_for_the_named_reason() {
    let main = entries(&load("election/record.json")["entries"]);
    let ranked = entries(&load("election/ranked.json")["entries"]);
    let corpus = load("reject/election.json");
    let mut seen = std::collections::BTreeSet::new();
    for case in corpus["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let record = match case["record"].as_str().unwrap() {
            "main" => main.clone(),
            "ranked" => ranked.clone(),
            other => entries(&corpus["records"][other]),
        };
        let prefix = case["prefix"].as_u64().unwrap() as usize;
        let mut e = Election::replay(&record[..prefix]).unwrap();
        let before = (e.size(), e.phase(), e.counts());
        let mixes = format!("{:?}", e.mix_status());
        let bytes = hex::decode(case["entry"].as_str().unwrap()).unwrap();
        let got = match Entry::decode(bytes) {
            Err(err) => Rejection::from(err),
            Ok(entry) => e.apply(&entry).expect_err(name),
        };
        assert_eq!(
            got.code(),
            case["error"].as_str().unwrap(),
            "case {name:?}: {got}"
        );
        assert_eq!(
            (e.size(), e.phase(), e.counts()),
            before,
            "case {name:?} changed the state"
        );
        assert_eq!(
            format!("{:?}", e.mix_status()),
            mixes,
            "case {name:?} changed the mixes"
        );
        seen.insert(got.code());
    }
    for code in Rejection::CODES {
        assert!(seen.contains(code), "no corpus case produces {code}");
    }
}

#[test]
fn ranked_record_replays_to_its_final_state() {
    let v = load("election/ranked.json");
    let e = Election::replay(&entries(&v["entries"])).unwrap();
    let f = &v["final"];
    let mut expected = common::vectors::final_state(&e);
    expected["ranked"] = common::vectors::ranked_state(&e);
    assert_eq!(f, &expected);
    assert_eq!(f["phase"], "finished");
    // Each count read from its canonical bytes alone is what the state machine counted, and
    // its winners are those the record states.
    for c in f["ranked"].as_array().unwrap() {
        let bytes = hex::decode(c["count"].as_str().unwrap()).unwrap();
        let count = urna_election::count::RankedCount::from_bytes(&bytes).unwrap();
        let contest = c["contest"].as_u64().unwrap() as u16;
        assert_eq!(count, e.ranked_result(contest).unwrap().count);
        assert_eq!(
            serde_json::json!(count.elected),
            c["elected"],
            "contest {contest}"
        );
        assert_eq!(count.rows as usize, c["ballots"].as_array().unwrap().len());
    }
    let m =
        urna_election::manifest::Manifest::from_toml(v["manifest_toml"].as_str().unwrap()).unwrap();
    assert_eq!(hex::encode(&m.hash()), f["manifest_hash"].as_str().unwrap());
}
