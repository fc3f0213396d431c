//! The cosignature-policy corpus (`specs/vectors/cosignatures.json`): board-signed checkpoints
//! carrying witness cosignature lines, good and bad, each with the verdict specs/board.md §6.1
//! requires. Deterministic (fixed keys, fixed times; Ed25519 signing is deterministic), so the
//! committed file can be compared with it byte for byte. The browser booth reads the same file.
#![allow(dead_code)]

use serde_json::{json, Value};
use urna_crypto::hex;
use urna_crypto::sign::SigningKey;
use urna_ledger::note::{cosign, cosigner_key_id, Checkpoint};

pub const ORIGIN: &str = "vote.example.org/2026/council";
pub const QUORUM: usize = 2;

pub fn board() -> SigningKey {
    SigningKey::from_seed(&[0xb0; 32])
}

pub fn witnesses() -> Vec<(String, SigningKey)> {
    (1..=3u8)
        .map(|i| {
            (
                format!("w{i}.witness.example"),
                SigningKey::from_seed(&[0xc0 + i; 32]),
            )
        })
        .collect()
}

/// Flips the lowest bit of the signature's last byte in a signature line.
fn flip(line: &str) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD;
    let (head, b64) = line.trim_end().rsplit_once(' ').unwrap_or_default();
    let mut blob = b.decode(b64).unwrap_or_default();
    if let Some(x) = blob.last_mut() {
        *x ^= 1;
    }
    format!("{head} {}\n", b.encode(blob))
}

fn accepted(name: &str, note: String, cosigners: &[usize]) -> Value {
    let names: Vec<String> = cosigners
        .iter()
        .map(|i| format!("w{}.witness.example", i + 1))
        .collect();
    json!({"name": name, "note": note, "accepted": true, "cosigners": names})
}

fn rejected(name: &str, note: String, error: &str) -> Value {
    json!({"name": name, "note": note, "accepted": false, "error": error})
}

pub fn corpus() -> Value {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let board = board();
    let ws = witnesses();
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: 1234,
        root: urna_ledger::merkle::empty_root(),
    };
    let note = cp.sign(&board);
    let body = cp.body();
    let time = 1_800_000_000;
    let line = |i: usize| cosign(&body, &ws[i].0, &ws[i].1, time);
    let other_body = Checkpoint {
        size: 1235,
        ..cp.clone()
    }
    .body();
    let stranger = SigningKey::from_seed(&[0xee; 32]);
    let board_line = note.lines().last().unwrap_or_default().to_string();
    let cases = vec![
        accepted(
            "three valid cosignatures",
            format!("{note}{}{}{}", line(0), line(1), line(2)),
            &[0, 1, 2],
        ),
        rejected(
            "one bit flipped in w2's cosignature, the quorum met by w1 and w3",
            format!("{note}{}{}{}", line(0), flip(&line(1)), line(2)),
            "bad-cosignature",
        ),
        rejected(
            "w1 cosigns twice, its second line forged",
            format!("{note}{}{}{}", line(0), line(1), flip(&line(0))),
            "bad-cosignature",
        ),
        rejected(
            "w2's cosignature of another checkpoint",
            format!(
                "{note}{}{}{}",
                line(0),
                line(2),
                cosign(&other_body, &ws[1].0, &ws[1].1, time)
            ),
            "bad-cosignature",
        ),
        rejected(
            "a line with w1's name and key ID but no signature",
            format!(
                "{note}{}{}\u{2014} {} {}\n",
                line(1),
                line(2),
                ws[0].0,
                b64.encode(cosigner_key_id(&ws[0].0, &ws[0].1.verifying_key()))
            ),
            "bad-cosignature",
        ),
        accepted(
            "a failing line by a name the manifest does not list is ignored",
            format!(
                "{note}{}{}{}",
                line(0),
                line(1),
                flip(&cosign(&body, "observer.example", &stranger, time))
            ),
            &[0, 1],
        ),
        accepted(
            "a failing line by w3's name with another key ID is ignored",
            format!(
                "{note}{}{}{}",
                line(0),
                line(1),
                flip(&cosign(&body, &ws[2].0, &stranger, time))
            ),
            &[0, 1],
        ),
        rejected(
            "a second, failing line by the board's key",
            format!(
                "{note}{}\n{}{}",
                flip(&board_line).trim_end(),
                line(0),
                line(1)
            ),
            "bad-signature",
        ),
        rejected(
            "one cosignature, two needed",
            format!("{note}{}", line(2)),
            "no-quorum",
        ),
        rejected("no cosignatures", note.clone(), "no-quorum"),
    ];
    json!({
        "description": "Witness cosignature policy (specs/board.md §6.1): a checkpoint note is accepted only if every signature line by the board's key verifies, every line by a named witness's key (its name and key ID) verifies, and at least `quorum` named witnesses cosign it. Lines by other keys are ignored. `cosigners`: the witnesses counted, in manifest order.",
        "origin": ORIGIN,
        "board_key": hex::encode(board.verifying_key().as_bytes()),
        "witnesses": ws.iter().map(|(n, k)| json!({"name": n, "key": hex::encode(k.verifying_key().as_bytes())})).collect::<Vec<_>>(),
        "quorum": QUORUM,
        "cases": cases,
    })
}

pub fn render(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}
