//! C2SP formats: `signed-note` (Ed25519), `tlog-checkpoint` and `tlog-proof`.
//!
//! A checkpoint body is `origin\nsize\nbase64(root)\n`; the board signs it as a signed note
//! whose key name is the origin. A receipt is a `tlog-proof`: the entry's index, its inclusion
//! path and the signed checkpoint, verifiable offline with the board's public key.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};
use thiserror::Error;
use urna_crypto::sign::{Signature, SigningKey, VerifyingKey};

use crate::merkle::{verify_inclusion, Hash, ProofError};

const EM_DASH_SPACE: &str = "\u{2014} ";
const ED25519_ALG: u8 = 0x01;
/// C2SP tlog-cosignature: the key-ID algorithm byte of Ed25519 cosignatures (`cosignature/v1`).
const COSIGNATURE_ALG: u8 = 0x04;
const PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NoteError {
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("no signature by {0:?} with the expected key")]
    NoSignature(String),
    #[error("the signature by {0:?} does not verify")]
    BadSignature(String),
    #[error("the checkpoint is for origin {got:?}, expected {expected:?}")]
    WrongOrigin { expected: String, got: String },
    #[error("inclusion proof: {0}")]
    Proof(#[from] ProofError),
    #[error(
        "the checkpoint carries valid cosignatures from {got} of the witnesses, {need} needed"
    )]
    NoQuorum { got: usize, need: usize },
    /// A line by a named witness's key (its name and key ID) that does not verify: the whole
    /// note is rejected, as C2SP signed-note says, even if the quorum is met without it.
    #[error("the cosignature by witness {0:?} does not verify, so the note is rejected")]
    BadCosignature(String),
}

/// The 4-byte key ID of an Ed25519 note key: `SHA-256(name ‖ "\n" ‖ 0x01 ‖ key)[..4]`.
pub fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519_ALG]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The verifier key string `name+hex(key ID)+base64(0x01 ‖ key)` (the sumdb/C2SP vkey form).
pub fn verifier_key(name: &str, key: &VerifyingKey) -> String {
    let mut k = vec![ED25519_ALG];
    k.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{}+{}",
        urna_crypto::hex::encode(&key_id(name, key)),
        B64.encode(k)
    )
}

/// Parses a note verifier key `name+hex(key id)+base64(0x01 ‖ key)` (what `urna board init`
/// prints), checking the key ID.
pub fn parse_vkey(vkey: &str) -> Option<(String, VerifyingKey)> {
    // Key names cannot contain '+'; the base64 key can.
    let mut parts = vkey.splitn(3, '+');
    let name = parts.next()?;
    let id = parts.next()?;
    let b64 = parts.next()?;
    let raw = B64.decode(b64).ok()?;
    let (&alg, key) = raw.split_first()?;
    let key = VerifyingKey::from_wire(&<[u8; 32]>::try_from(key).ok()?).ok()?;
    if alg != 0x01 || urna_crypto::hex::encode(&key_id(name, &key)) != id {
        return None;
    }
    Some((name.to_string(), key))
}

/// The key ID of a witness's Ed25519 cosigning key: `SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[..4]`.
pub fn cosigner_key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([COSIGNATURE_ALG]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The message a `cosignature/v1` signs: `"cosignature/v1\ntime <t>\n" ‖ checkpoint body`.
fn cosigned_message(body: &str, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{body}")
}

/// A witness's cosignature line on a checkpoint body: `— <name> base64(key ID ‖ u64 time ‖ sig)`.
pub fn cosign(body: &str, name: &str, key: &SigningKey, time: u64) -> String {
    let sig = key.sign(cosigned_message(body, time).as_bytes());
    let mut blob = cosigner_key_id(name, &key.verifying_key()).to_vec();
    blob.extend_from_slice(&time.to_be_bytes());
    blob.extend_from_slice(&sig.0);
    format!("{EM_DASH_SPACE}{name} {}\n", B64.encode(blob))
}

/// Splits a signed note into its body (with its final newline) and its signature lines.
pub fn split_note(note: &str) -> Result<(String, Vec<&str>), NoteError> {
    let (body, sigs) = note
        .split_once("\n\n")
        .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    if !sigs.ends_with('\n') {
        return Err(NoteError::Malformed(
            "signature block does not end with a newline",
        ));
    }
    Ok((format!("{body}\n"), sigs.lines().collect()))
}

/// The witnesses (indices into `witnesses`) whose valid cosignature the note carries, with the
/// time each one signed at. Lines by unknown keys (another name, or a named witness's name with
/// another key ID) are ignored; a line by a named witness's key that does not verify rejects the
/// whole note (`BadCosignature`), even when the others meet the quorum (specs/board.md §6).
pub fn cosigners(
    note: &str,
    witnesses: &[(String, VerifyingKey)],
) -> Result<Vec<(usize, u64)>, NoteError> {
    let (body, lines) = split_note(note)?;
    let mut out = Vec::new();
    for (i, (name, key)) in witnesses.iter().enumerate() {
        let mut valid = None;
        for l in &lines {
            match cosignature_line(&body, l, name, key) {
                LineBy::Other => {}
                LineBy::Valid(t) => {
                    valid.get_or_insert(t);
                }
                LineBy::Invalid => return Err(NoteError::BadCosignature(name.clone())),
            }
        }
        if let Some(t) = valid {
            out.push((i, t));
        }
    }
    Ok(out)
}

/// What one signature line is with respect to one witness's cosigning key.
enum LineBy {
    /// Not by this key: another name, or the same name with another key ID.
    Other,
    /// A valid `cosignature/v1` by this key, signed at this time.
    Valid(u64),
    /// By this key's name and key ID (or unreadable under its name), and it does not verify.
    Invalid,
}

fn cosignature_line(body: &str, line: &str, name: &str, key: &VerifyingKey) -> LineBy {
    let Some((n, b64)) = line
        .strip_prefix(EM_DASH_SPACE)
        .and_then(|r| r.rsplit_once(' '))
    else {
        return LineBy::Other;
    };
    if n != name {
        return LineBy::Other;
    }
    let Some(blob) = B64.decode(b64).ok().filter(|b| b.len() >= 4) else {
        return LineBy::Invalid;
    };
    if blob[..4] != cosigner_key_id(name, key) {
        return LineBy::Other;
    }
    let (Ok(time), Ok(sig)) = (
        <[u8; 8]>::try_from(blob.get(4..12).unwrap_or_default()),
        <[u8; 64]>::try_from(blob.get(12..).unwrap_or_default()),
    ) else {
        return LineBy::Invalid;
    };
    let time = u64::from_be_bytes(time);
    match key.verify(cosigned_message(body, time).as_bytes(), &Signature(sig)) {
        Ok(()) => LineBy::Valid(time),
        Err(_) => LineBy::Invalid,
    }
}

/// The time of a signature line if it is a valid `cosignature/v1` by witness `name` with `key`
/// on the checkpoint `body`.
pub fn verify_cosignature(body: &str, line: &str, name: &str, key: &VerifyingKey) -> Option<u64> {
    match cosignature_line(body, line, name, key) {
        LineBy::Valid(t) => Some(t),
        LineBy::Other | LineBy::Invalid => None,
    }
}

/// Adds signature lines to a signed note (skipping lines it already carries).
pub fn add_signature_lines(note: &str, lines: &str) -> String {
    let mut out = note.to_string();
    for l in lines.lines().filter(|l| !l.is_empty()) {
        if !note.lines().any(|x| x == l) {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// A tree head for one origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The tlog-checkpoint body (the signed text).
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// The signed note: body, blank line, one signature line by `key` named after the origin.
    pub fn sign(&self, key: &SigningKey) -> String {
        let body = self.body();
        let sig = key.sign(body.as_bytes());
        let mut blob = key_id(&self.origin, &key.verifying_key()).to_vec();
        blob.extend_from_slice(&sig.0);
        format!(
            "{body}\n{EM_DASH_SPACE}{} {}\n",
            self.origin,
            B64.encode(blob)
        )
    }

    /// Parses a signed checkpoint and verifies the signature by `key` named `origin`. Lines by
    /// other keys (witness cosignatures) are ignored here; every line by this key must verify.
    pub fn open(note: &str, origin: &str, key: &VerifyingKey) -> Result<Checkpoint, NoteError> {
        let (body, lines) = split_note(note)?;
        let cp = Checkpoint::parse_body(&body)?;
        if cp.origin != origin {
            return Err(NoteError::WrongOrigin {
                expected: origin.into(),
                got: cp.origin,
            });
        }
        let id = key_id(origin, key);
        // Every line by the board's key (its name and key ID) must verify, not only the first:
        // a failing signature from a known key rejects the note (C2SP signed-note).
        let mut signed = false;
        for line in lines {
            let rest = line
                .strip_prefix(EM_DASH_SPACE)
                .ok_or(NoteError::Malformed("signature line without an em dash"))?;
            let (name, b64) = rest
                .rsplit_once(' ')
                .ok_or(NoteError::Malformed("signature line without a signature"))?;
            let blob = B64
                .decode(b64)
                .map_err(|_| NoteError::Malformed("signature is not base64"))?;
            if blob.len() < 4 {
                return Err(NoteError::Malformed("signature shorter than a key ID"));
            }
            if name != origin || blob[..4] != id {
                continue;
            }
            let s = <[u8; 64]>::try_from(&blob[4..])
                .map_err(|_| NoteError::BadSignature(origin.into()))?;
            key.verify(body.as_bytes(), &Signature(s))
                .map_err(|_| NoteError::BadSignature(origin.into()))?;
            signed = true;
        }
        if signed {
            Ok(cp)
        } else {
            Err(NoteError::NoSignature(origin.into()))
        }
    }

    /// Opens a checkpoint under the board's key and the witness policy: at least `quorum` of
    /// `witnesses` must have cosigned it. Returns the checkpoint and the cosigners' indices.
    pub fn open_witnessed(
        note: &str,
        origin: &str,
        key: &VerifyingKey,
        witnesses: &[(String, VerifyingKey)],
        quorum: usize,
    ) -> Result<(Checkpoint, Vec<usize>), NoteError> {
        let cp = Checkpoint::open(note, origin, key)?;
        let got: Vec<usize> = cosigners(note, witnesses)?
            .into_iter()
            .map(|(i, _)| i)
            .collect();
        if got.len() < quorum {
            return Err(NoteError::NoQuorum {
                got: got.len(),
                need: quorum,
            });
        }
        Ok((cp, got))
    }

    /// Parses a checkpoint body (`origin\nsize\nbase64(root)\n`).
    pub fn parse_body(body: &str) -> Result<Checkpoint, NoteError> {
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(NoteError::Malformed("empty origin"))?;
        let size_s = lines.next().ok_or(NoteError::Malformed("no tree size"))?;
        // Decimal without leading zeros (except "0"), as tlog-checkpoint requires.
        if size_s.is_empty()
            || (size_s.len() > 1 && size_s.starts_with('0'))
            || !size_s.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(NoteError::Malformed("tree size is not a canonical decimal"));
        }
        let size = size_s
            .parse()
            .map_err(|_| NoteError::Malformed("tree size out of range"))?;
        let root_s = lines.next().ok_or(NoteError::Malformed("no root hash"))?;
        let root: Hash = B64
            .decode(root_s)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or(NoteError::Malformed("root hash is not 32 bytes of base64"))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

/// A receipt: a C2SP tlog-proof that an entry is at `index` under a signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub index: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

impl Receipt {
    pub fn to_text(&self) -> String {
        let mut s = format!("{PROOF_HEADER}\nindex {}\n", self.index);
        for h in &self.proof {
            s.push_str(&B64.encode(h));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }

    pub fn parse(text: &str) -> Result<Receipt, NoteError> {
        let rest = text
            .strip_prefix(PROOF_HEADER)
            .and_then(|r| r.strip_prefix('\n'))
            .ok_or(NoteError::Malformed("not a c2sp.org/tlog-proof@v1"))?;
        let (head, checkpoint) = rest
            .split_once("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the checkpoint"))?;
        let mut lines = head.lines();
        let mut line = lines.next().ok_or(NoteError::Malformed("no index"))?;
        if line.starts_with("extra ") {
            line = lines.next().ok_or(NoteError::Malformed("no index"))?;
        }
        let index = line
            .strip_prefix("index ")
            .and_then(|n| n.parse().ok())
            .ok_or(NoteError::Malformed("bad index line"))?;
        let proof = lines
            .map(|l| {
                B64.decode(l)
                    .ok()
                    .and_then(|v| v.try_into().ok())
                    .ok_or(NoteError::Malformed("proof hash is not 32 bytes of base64"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Receipt {
            index,
            proof,
            checkpoint: checkpoint.to_string(),
        })
    }

    /// Verifies offline that `entry` is in the log `origin` signed by `key`; returns the
    /// checkpoint it is included under.
    pub fn verify(
        &self,
        entry: &[u8],
        origin: &str,
        key: &VerifyingKey,
    ) -> Result<Checkpoint, NoteError> {
        let cp = Checkpoint::open(&self.checkpoint, origin, key)?;
        verify_inclusion(
            &crate::merkle::leaf_hash(entry),
            self.index,
            cp.size,
            &self.proof,
            &cp.root,
        )?;
        Ok(cp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, Tree};

    #[test]
    fn verifier_keys_parse_even_with_plus_in_base64() {
        for seed in 0u8..40 {
            let k = SigningKey::from_seed(&[seed; 32]).verifying_key();
            let v = verifier_key("vote.example.org/x", &k);
            assert_eq!(
                parse_vkey(&v),
                Some(("vote.example.org/x".to_string(), k)),
                "{v}"
            );
        }
        assert_eq!(parse_vkey("a+00000000+AQ=="), None);
    }

    #[test]
    fn checkpoint_signs_opens_and_rejects() {
        let key = SigningKey::from_seed(&[1; 32]);
        let cp = Checkpoint {
            origin: "vote.example.org/2026/council".into(),
            size: 12,
            root: [7; 32],
        };
        let note = cp.sign(&key);
        assert!(note.starts_with("vote.example.org/2026/council\n12\nBwcH"));
        assert!(note.contains("\n\n\u{2014} vote.example.org/2026/council "));
        assert_eq!(
            Checkpoint::open(&note, &cp.origin, &key.verifying_key()),
            Ok(cp.clone())
        );
        let other = SigningKey::from_seed(&[2; 32]);
        assert!(matches!(
            Checkpoint::open(&note, &cp.origin, &other.verifying_key()),
            Err(NoteError::NoSignature(_))
        ));
        assert!(matches!(
            Checkpoint::open(&note, "other.example", &key.verifying_key()),
            Err(NoteError::WrongOrigin { .. })
        ));
        let forged = note.replacen("\n12\n", "\n13\n", 1);
        assert!(matches!(
            Checkpoint::open(&forged, &cp.origin, &key.verifying_key()),
            Err(NoteError::BadSignature(_))
        ));
        let padded = note.replacen("\n12\n", "\n012\n", 1);
        assert!(matches!(
            Checkpoint::open(&padded, &cp.origin, &key.verifying_key()),
            Err(NoteError::Malformed(_))
        ));
    }

    /// A key with its name in cosignature lines.
    type Named<K> = (String, K);

    /// Three witnesses named `<prefix>0.example`… with keys from seeds `seed`, `seed + 1`, …,
    /// and the policy naming them.
    fn three_witnesses(
        prefix: &str,
        seed: u8,
    ) -> (Vec<Named<SigningKey>>, Vec<Named<VerifyingKey>>) {
        let ws: Vec<Named<SigningKey>> = (0..3u8)
            .map(|i| {
                (
                    format!("{prefix}{i}.example"),
                    SigningKey::from_seed(&[seed + i; 32]),
                )
            })
            .collect();
        let policy = ws
            .iter()
            .map(|(n, k)| (n.clone(), k.verifying_key()))
            .collect();
        (ws, policy)
    }

    #[test]
    fn cosignatures_verify_and_count_towards_a_quorum() {
        let board = SigningKey::from_seed(&[1; 32]);
        let cp = Checkpoint {
            origin: "vote.example.org/x".into(),
            size: 5,
            root: [9; 32],
        };
        let note = cp.sign(&board);
        let (ws, policy) = three_witnesses("witness-", 10);
        let (body, _) = split_note(&note).unwrap();
        let mut cosigned = note.clone();
        for (n, k) in &ws[..2] {
            cosigned = add_signature_lines(&cosigned, &cosign(&body, n, k, 1_700_000_000));
        }
        // Adding the same line twice changes nothing.
        assert_eq!(
            add_signature_lines(&cosigned, &cosign(&body, &ws[0].0, &ws[0].1, 1_700_000_000)),
            cosigned
        );
        assert_eq!(
            cosigners(&cosigned, &policy).unwrap(),
            vec![(0, 1_700_000_000), (1, 1_700_000_000)]
        );
        let (opened, who) =
            Checkpoint::open_witnessed(&cosigned, &cp.origin, &board.verifying_key(), &policy, 2)
                .unwrap();
        assert_eq!((opened, who), (cp.clone(), vec![0, 1]));
        assert_eq!(
            Checkpoint::open_witnessed(&cosigned, &cp.origin, &board.verifying_key(), &policy, 3),
            Err(NoteError::NoQuorum { got: 2, need: 3 })
        );
        // A named witness's cosignature over another checkpoint fails on this one: the note is
        // rejected. One by an unknown key does not count.
        let other = Checkpoint {
            size: 6,
            ..cp.clone()
        }
        .body();
        let stray = add_signature_lines(&note, &cosign(&other, &ws[2].0, &ws[2].1, 1));
        assert_eq!(
            cosigners(&stray, &policy),
            Err(NoteError::BadCosignature(ws[2].0.clone()))
        );
        let stranger = SigningKey::from_seed(&[99; 32]);
        let unknown = add_signature_lines(&note, &cosign(&body, &ws[2].0, &stranger, 1));
        assert!(cosigners(&unknown, &policy).unwrap().is_empty());
        // The board's own signature line is not a cosignature.
        assert!(
            cosigners(&note, &[(cp.origin.clone(), board.verifying_key())])
                .unwrap()
                .is_empty()
        );
    }

    /// Flips one bit of the signature in the `nth` line (0-based) of a note's signature block.
    fn flip_line(note: &str, nth: usize) -> String {
        let (body, lines) = split_note(note).unwrap();
        let mut out = format!("{body}\n");
        for (i, l) in lines.iter().enumerate() {
            if i == nth {
                let (head, b64) = l.rsplit_once(' ').unwrap();
                let mut blob = B64.decode(b64).unwrap();
                let last = blob.len() - 1;
                blob[last] ^= 1;
                out.push_str(&format!("{head} {}\n", B64.encode(blob)));
            } else {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    #[test]
    fn a_failing_line_by_a_named_key_rejects_the_note_even_with_the_quorum_met() {
        let board = SigningKey::from_seed(&[1; 32]);
        let cp = Checkpoint {
            origin: "vote.example.org/x".into(),
            size: 5,
            root: [9; 32],
        };
        let note = cp.sign(&board);
        let (body, _) = split_note(&note).unwrap();
        let (ws, policy) = three_witnesses("w", 20);
        let mut all = note.clone();
        for (n, k) in &ws {
            all = add_signature_lines(&all, &cosign(&body, n, k, 7));
        }
        assert_eq!(cosigners(&all, &policy).unwrap().len(), 3);
        // Line 0 is the board's; line 2 is witness 1's. Two valid cosignatures remain (quorum
        // 2), yet the note is rejected.
        let forged = flip_line(&all, 2);
        assert_eq!(
            cosigners(&forged, &policy),
            Err(NoteError::BadCosignature("w1.example".into()))
        );
        assert_eq!(
            Checkpoint::open_witnessed(&forged, &cp.origin, &board.verifying_key(), &policy, 2),
            Err(NoteError::BadCosignature("w1.example".into()))
        );
        // A second, failing line by a witness that also signed validly: rejected as well.
        let twice = add_signature_lines(&all, &cosign(&body, &ws[0].0, &ws[0].1, 8));
        let bad_twin = flip_line(&twice, 4);
        assert!(matches!(
            cosigners(&bad_twin, &policy),
            Err(NoteError::BadCosignature(_))
        ));
        // A witness's line truncated to its key ID: it claims the key, and fails.
        let id_only = format!(
            "{all}\u{2014} w2.example {}\n",
            B64.encode(cosigner_key_id("w2.example", &ws[2].1.verifying_key()))
        );
        assert!(matches!(
            cosigners(&id_only, &policy),
            Err(NoteError::BadCosignature(_))
        ));
        // Failing lines by keys the policy does not name are ignored: another name, or a named
        // witness's name with another key ID.
        let stranger = SigningKey::from_seed(&[99; 32]);
        let other_name = flip_line(
            &add_signature_lines(&all, &cosign(&body, "nobody.example", &stranger, 1)),
            4,
        );
        assert_eq!(cosigners(&other_name, &policy).unwrap().len(), 3);
        let other_key = flip_line(
            &add_signature_lines(&all, &cosign(&body, &ws[1].0, &stranger, 1)),
            4,
        );
        assert_eq!(cosigners(&other_key, &policy).unwrap().len(), 3);
        // The board's own key: a second board line that fails rejects the checkpoint too.
        let twice_signed = format!("{note}{}", note.lines().last().unwrap());
        let twice_signed = flip_line(&format!("{twice_signed}\n"), 1);
        assert_eq!(
            Checkpoint::open(&twice_signed, &cp.origin, &board.verifying_key()),
            Err(NoteError::BadSignature(cp.origin.clone()))
        );
    }

    #[test]
    fn receipts_round_trip_and_verify_offline() {
        let key = SigningKey::from_seed(&[3; 32]);
        let origin = "vote.example.org/x";
        let entries: Vec<Vec<u8>> = (0..11u8).map(|i| vec![i; 5]).collect();
        let mut t = Tree::new();
        for e in &entries {
            t.push(leaf_hash(e));
        }
        let cp = Checkpoint {
            origin: origin.into(),
            size: 11,
            root: t.root(11).unwrap(),
        };
        let note = cp.sign(&key);
        for (i, e) in entries.iter().enumerate() {
            let r = Receipt {
                index: i as u64,
                proof: t.inclusion_proof(i as u64, 11).unwrap(),
                checkpoint: note.clone(),
            };
            let parsed = Receipt::parse(&r.to_text()).unwrap();
            assert_eq!(parsed, r);
            assert_eq!(
                parsed.verify(e, origin, &key.verifying_key()),
                Ok(cp.clone())
            );
            assert!(parsed
                .verify(b"another entry", origin, &key.verifying_key())
                .is_err());
        }
        assert_eq!(
            verifier_key(origin, &key.verifying_key())
                .split('+')
                .count(),
            3
        );
    }
}
