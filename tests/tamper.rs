//! The tamper catalogue: tampered records generated from a valid one, each with the failure
//! `urna verify` must report. Cases marked "board re-signs" model a malicious board that signs
//! a checkpoint over the altered log; the others model a record altered after the fact.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use urna_sim::kit;
mod support;

use urna_crypto::elgamal::Ciphertext;
use urna_crypto::group::Point;
use urna_crypto::hex;
use urna_crypto::secret::SecretScalar;
use urna_crypto::sign::SigningKey;
use urna_election::entry::{Entry, EntryKind};
use urna_election::payload::{DkgShares, Payload};
use urna_election::state::Election;
use urna_ledger::merkle::{leaf_hash, Tree};
use urna_ledger::note::Checkpoint;

struct Base {
    r: kit::Record,
    /// Another election with the same id and manifest shape but its own keys.
    other: kit::Record,
}

fn voter_of(r: &kit::Record, e: &Entry) -> usize {
    r.kit
        .voters
        .iter()
        .position(|v| v.key.verifying_key() == *e.author())
        .unwrap()
}

impl Base {
    fn entries(&self) -> Vec<Entry> {
        self.r.entries.clone()
    }
    fn at(&self, kind: EntryKind, nth: usize) -> usize {
        self.r
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind() == kind)
            .nth(nth)
            .map(|(i, _)| i)
            .unwrap()
    }
    fn voter_of(&self, e: &Entry) -> usize {
        voter_of(&self.r, e)
    }
    fn payload(&self, i: usize) -> Payload {
        let e = &self.r.entries[i];
        Payload::decode(e.kind(), e.payload()).unwrap()
    }
    fn sign(&self, key: &SigningKey, p: &Payload) -> Entry {
        self.r.kit.sign(key, p)
    }
    fn voter_key(&self, v: usize) -> &SigningKey {
        &self.r.kit.voters[v].key
    }
    fn trustee_key(&self, i: u16) -> &SigningKey {
        &self.r.kit.trustees[usize::from(i - 1)].signing
    }
    fn joint_key(&self) -> urna_crypto::elgamal::PublicKey {
        let open = self.at(EntryKind::OpenVoting, 0);
        let mut e = Election::new();
        kit::apply_all(&mut e, &self.r.entries[..open]);
        e.context().unwrap().joint_key.clone()
    }
    /// A ballot entry's payload with contest `c`, option `o`'s ciphertext replaced, re-signed.
    fn with_ciphertext(&self, i: usize, c: usize, o: usize, ct: Ciphertext) -> Entry {
        let Payload::Ballot(mut b) = self.payload(i) else {
            panic!("not a ballot")
        };
        b.contests[c].selections[o] = ct;
        self.sign(
            self.voter_key(self.voter_of(&self.r.entries[i])),
            &Payload::Ballot(b),
        )
    }
    /// Two voters of the same style.
    fn same_style_pair(&self) -> (usize, usize) {
        let v = &self.r.kit.voters;
        (0..v.len())
            .flat_map(|a| (a + 1..v.len()).map(move |b| (a, b)))
            .find(|(a, b)| v[*a].style == v[*b].style)
            .unwrap()
    }
    fn ballot_of_voter(&self, voter: usize) -> usize {
        (0..self.r.entries.len())
            .find(|i| {
                self.r.entries[*i].kind() == EntryKind::Ballot
                    && self.voter_of(&self.r.entries[*i]) == voter
            })
            .unwrap()
    }
}

enum Sign {
    /// A malicious board signs a checkpoint over the altered log.
    Board,
    /// The original checkpoint is kept (the record was altered afterwards).
    Original,
    /// A checkpoint signed by some other key.
    Stranger,
}

struct Case {
    name: &'static str,
    entries: Vec<Entry>,
    sign: Sign,
    /// An earlier checkpoint the observer kept.
    earlier: Option<String>,
    /// Raw record bytes to use instead (for damaged files).
    raw: Option<fn(Vec<u8>) -> Vec<u8>>,
    /// The finding that must be the failure: its code, then `/` and the rule's code for an
    /// entry the rules refuse, then `@` and the entry's index where it matters (empty: the
    /// record verifies).
    expect: &'static str,
}

fn case(name: &'static str, entries: Vec<Entry>, expect: &'static str) -> Case {
    Case {
        name,
        entries,
        sign: Sign::Board,
        earlier: None,
        raw: None,
        expect,
    }
}

fn checkpoint(k: &kit::Kit, entries: &[Vec<u8>], key: &SigningKey) -> String {
    let mut t = Tree::new();
    for e in entries {
        t.push(leaf_hash(e));
    }
    Checkpoint {
        origin: k.id().to_string(),
        size: t.size(),
        root: t.root(t.size()).unwrap(),
    }
    .sign(key)
}

fn catalogue(b: &Base) -> Vec<Case> {
    let mut rng = rand::rngs::OsRng;
    let pk = b.joint_key();
    let first_ballot = b.at(EntryKind::Ballot, 0);
    let close = b.at(EntryKind::CloseVoting, 0);
    let open = b.at(EntryKind::OpenVoting, 0);
    let result = b.at(EntryKind::Result, 0);
    let share = b.at(EntryKind::DecryptionShare, 0);
    let mut out = Vec::new();
    let mut edit = |name, expect, f: &mut dyn FnMut(&mut Vec<Entry>)| {
        let mut e = b.entries();
        f(&mut e);
        out.push(case(name, e, expect));
    };
    let flip = |e: &Entry, at: usize| {
        let mut bytes = e.bytes().to_vec();
        let i = bytes.len() - at;
        bytes[i] ^= 1;
        bytes
    };

    edit("untouched", "", &mut |_| {});
    edit(
        "a ciphertext bit flipped and re-signed by its voter: no longer a canonical point",
        "entry-rules/malformed@13",
        &mut |e| {
            let flipped = Entry::decode(flip(&e[first_ballot], 500)).unwrap();
            let v = b.voter_of(&e[first_ballot]);
            e[first_ballot] = Entry::sign(
                b.r.kit.id(),
                flipped.kind(),
                flipped.payload(),
                b.voter_key(v),
            )
            .unwrap();
        },
    );
    edit(
        "ciphertext altered and re-signed by the voter",
        "entry-rules/invalid-ballot",
        &mut |e| {
            let Payload::Ballot(bal) = b.payload(first_ballot) else {
                panic!()
            };
            let mut ct = bal.contests[0].selections[0];
            ct.alpha = Point::from_point(ct.alpha.point() + urna_crypto::group::g());
            e[first_ballot] = b.with_ciphertext(first_ballot, 0, 0, ct);
        },
    );
    edit(
        "a proof from another election",
        "entry-rules/invalid-ballot",
        &mut |e| {
            let v = b.voter_of(&e[first_ballot]);
            let theirs = b
                .other
                .entries
                .iter()
                .find(|x| x.kind() == EntryKind::Ballot && voter_of(&b.other, x) == v)
                .unwrap();
            let p = Payload::decode(theirs.kind(), theirs.payload()).unwrap();
            e[first_ballot] = b.sign(b.voter_key(b.voter_of(&e[first_ballot])), &p);
        },
    );
    let (va, vb) = b.same_style_pair();
    let (ia, ib) = (b.ballot_of_voter(va), b.ballot_of_voter(vb));
    edit(
        "a ballot copied to another credential",
        "entry-rules/copied-ballot",
        &mut |e| {
            e[ib] = b.sign(b.voter_key(vb), &b.payload(ia));
        },
    );
    edit(
        "a selection encrypting 2 with the original proof",
        "entry-rules/invalid-ballot",
        &mut |e| {
            e[ia] = b.with_ciphertext(
                ia,
                0,
                0,
                Ciphertext::encrypt(&pk, 2, &SecretScalar::random(&mut rng)),
            );
        },
    );
    edit(
        "an over-limit contest (two selections set, proofs kept)",
        "entry-rules/invalid-ballot",
        &mut |e| {
            let Payload::Ballot(x) = b.payload(ib) else {
                panic!()
            };
            let Payload::Ballot(y) = b.payload(ia) else {
                panic!()
            };
            let mut mixed = (*y).clone();
            for (o, ct) in x.contests[0].selections.iter().enumerate() {
                if mixed.contests[0].selections[o] != *ct {
                    mixed.contests[0].selections[o] = *ct;
                    break;
                }
            }
            e[ia] = b.sign(b.voter_key(va), &Payload::Ballot(Box::new(mixed)));
        },
    );
    edit(
        "a score above the maximum",
        "entry-rules/invalid-ballot",
        &mut |e| {
            let Payload::Ballot(bal) = b.payload(ia) else {
                panic!()
            };
            let last = bal.contests.len() - 2;
            e[ia] = b.with_ciphertext(
                ia,
                last,
                0,
                Ciphertext::encrypt(&pk, 6, &SecretScalar::random(&mut rng)),
            );
        },
    );
    edit(
        "a ballot from a credential not on the roll",
        "entry-rules/not-eligible",
        &mut |e| {
            e[ia] = b.sign(&SigningKey::from_seed(&[42; 32]), &b.payload(ia));
        },
    );
    edit(
        "a ballot after CloseVoting",
        "entry-rules/wrong-phase",
        &mut |e| {
            let x = e.remove(ia);
            e.insert(close, x);
        },
    );
    edit(
        "a result before CloseVoting",
        "entry-rules/wrong-phase",
        &mut |e| {
            let x = e.remove(result);
            e.insert(close, x);
        },
    );
    edit(
        "Setup moved after the first ballot",
        "entry-rules/wrong-phase",
        &mut |e| {
            let x = e.remove(0);
            e.insert(first_ballot, x);
        },
    );
    edit(
        "a counted ballot removed (the board re-signs)",
        "entry-rules/invalid-decryption-share",
        &mut |e| {
            e.remove(ia);
        },
    );
    edit("the same entry twice", "entry-rules/duplicate", &mut |e| {
        let x = e[ia].clone();
        e.insert(ia + 1, x);
    });
    edit(
        "a dealer's shares missing a recipient",
        "entry-rules/share-recipients",
        &mut |e| {
            let i = b.at(EntryKind::DkgShares, 0);
            let Payload::DkgShares(s) = b.payload(i) else {
                panic!()
            };
            let p = Payload::DkgShares(DkgShares {
                dealer: s.dealer,
                shares: s.shares[1..].to_vec(),
            });
            e[i] = b.sign(b.trustee_key(s.dealer), &p);
        },
    );
    edit(
        "a false complaint against an honest dealer",
        "entry-rules/false-complaint",
        &mut |e| {
            let confirm = b.at(EntryKind::DkgConfirm, 0);
            let mut el = Election::new();
            kit::apply_all(&mut el, &e[..confirm]);
            let c = b.r.kit.complaint_with(2, 1, &el, &mut rand::rngs::OsRng);
            e.insert(confirm, c);
        },
    );
    edit(
        "a bad decryption share",
        "entry-rules/invalid-decryption-share",
        &mut |e| {
            let Payload::DecryptionShare(mut s) = b.payload(share) else {
                panic!()
            };
            s.shares.swap(0, 1);
            let t = s.trustee;
            e[share] = b.sign(b.trustee_key(t), &Payload::DecryptionShare(s));
        },
    );
    edit(
        "a decryption share signed by a key that is not the trustee's",
        "entry-rules/unauthorised-author",
        &mut |e| {
            e[share] = b.sign(&SigningKey::from_seed(&[5; 32]), &b.payload(share));
        },
    );
    edit(
        "a result that differs from the combination",
        "entry-rules/inconsistent-result",
        &mut |e| {
            let Payload::Result(mut r) = b.payload(result) else {
                panic!()
            };
            r.counts[0][0] += 1;
            e[result] = b.sign(&b.r.kit.authority, &Payload::Result(r));
        },
    );
    edit(
        "a superseded ballot counted as well (result)",
        "entry-rules/inconsistent-result",
        &mut |e| {
            let Payload::Result(mut r) = b.payload(result) else {
                panic!()
            };
            let last = r.counts.len() - 1;
            r.counts[last][0] += 1;
            r.counts[0][1] += 1;
            e[result] = b.sign(&b.r.kit.authority, &Payload::Result(r));
        },
    );
    edit(
        "a weight changed in the roll, not re-signed by the registrar",
        "entry-rules/bad-signature",
        &mut |e| {
            let i = b.at(EntryKind::VoterRoll, 0);
            let Payload::VoterRoll(mut roll) = b.payload(i) else {
                panic!()
            };
            roll.voters[0].weight += 5;
            let p = Payload::VoterRoll(roll);
            let good = b.sign(&b.r.kit.registrar, &p);
            let mut bytes = e[i].bytes().to_vec();
            let sig_at = bytes.len() - 64;
            bytes.truncate(sig_at);
            let body = &good.bytes()[..good.bytes().len() - 64];
            bytes = [body, &e[i].bytes()[sig_at..]].concat();
            e[i] = Entry::decode(bytes).unwrap();
        },
    );
    edit(
        "a roll batch signed by someone other than the registrar",
        "entry-rules/unauthorised-author",
        &mut |e| {
            let i = b.at(EntryKind::VoterRoll, 1);
            e[i] = b.sign(&b.r.kit.authority, &b.payload(i));
        },
    );
    edit(
        "a roll batch after the polls opened",
        "entry-rules/wrong-phase",
        &mut |e| {
            let i = b.at(EntryKind::VoterRoll, 1);
            let x = e.remove(i);
            e.insert(open, x);
        },
    );
    edit(
        "an entry of another election",
        "entry-rules/wrong-election",
        &mut |e| {
            let x = &e[ia];
            e[ia] =
                Entry::sign("other.example/2026", x.kind(), x.payload(), b.voter_key(va)).unwrap();
        },
    );
    edit(
        "Setup signed by a key other than the authority's",
        "entry-rules/unauthorised-author",
        &mut |e| {
            e[0] = b.sign(&SigningKey::from_seed(&[8; 32]), &b.payload(0));
        },
    );
    edit("a truncated entry", "entry-format", &mut |e| {
        let _ = e;
    });
    edit(
        "a ballot signature bit flipped",
        "entry-rules/bad-signature",
        &mut |e| {
            assert_eq!(ia, b.ballot_of_voter(va));
            e[ia] = Entry::decode(flip(&e[ia], 3)).unwrap();
        },
    );
    let challenged = b.r.challenged_at;
    edit(
        "a challenged ballot that does not open to its claimed choices",
        "entry-rules/invalid-opening",
        &mut |e| {
            let Payload::ChallengedBallot(mut c) = b.payload(challenged) else {
                panic!()
            };
            c.openings[0][0].0 ^= 1;
            c.openings[0][1].0 ^= 1;
            e[challenged] = b.sign(
                b.voter_key(b.voter_of(&e[challenged])),
                &Payload::ChallengedBallot(c),
            );
        },
    );
    edit(
        "a challenged ballot cast afterwards",
        "entry-rules/copied-ballot",
        &mut |e| {
            let Payload::ChallengedBallot(c) = b.payload(challenged) else {
                panic!()
            };
            let v = b.voter_of(&e[challenged]);
            let x = b.sign(b.voter_key(v), &Payload::Ballot(Box::new(c.ballot.clone())));
            e.insert(challenged + 1, x);
        },
    );
    edit(
        "a ballot of the wrong style for its credential",
        "entry-rules/style-mismatch",
        &mut |e| {
            let v = &b.r.kit.voters;
            let other = (0..v.len()).find(|i| v[*i].style != v[va].style).unwrap();
            e[ia] = b.sign(b.voter_key(other), &b.payload(ia));
        },
    );
    // Record-level tampering.
    let mut removed = b.entries();
    removed.remove(ia);
    out.push(Case {
        sign: Sign::Original,
        ..case("a ballot removed (checkpoint kept)", removed, "tree-root")
    });
    let mut swapped = b.entries();
    swapped.swap(ia, ib);
    out.push(Case {
        sign: Sign::Original,
        ..case(
            "two ballots reordered (checkpoint kept)",
            swapped,
            "tree-root",
        )
    });
    out.push(Case {
        sign: Sign::Stranger,
        ..case(
            "a checkpoint signed by another key",
            b.entries(),
            "checkpoint-signature",
        )
    });
    // A fork: the observer kept a checkpoint of a log that differs from this one at that size.
    let mut forked: Vec<Vec<u8>> = b.entries()[..=ia]
        .iter()
        .map(|e| e.bytes().to_vec())
        .collect();
    forked[ia] = b.sign(b.voter_key(va), &b.payload(ib)).bytes().to_vec();
    out.push(Case {
        earlier: Some(checkpoint(&b.r.kit, &forked, &b.r.kit.board)),
        ..case(
            "a checkpoint inconsistent with an earlier one (fork)",
            b.entries(),
            "earlier-checkpoint",
        )
    });
    out.push(Case {
        raw: Some(|mut v| {
            v.truncate(v.len() - 10);
            v
        }),
        ..case("a truncated record file", b.entries(), "record-format")
    });
    out.push(Case {
        raw: Some(|mut v| {
            v.extend_from_slice(b"junk");
            v
        }),
        ..case("bytes after the last entry", b.entries(), "record-format")
    });
    out
}

/// Whether the report's `failure` is the finding `expect` names (`code[/rule][@entry]`).
fn fails_as(failure: &serde_json::Value, expect: &str) -> bool {
    let (head, entry) = match expect.split_once('@') {
        Some((h, e)) => (h, Some(e.parse::<u64>().unwrap())),
        None => (expect, None),
    };
    let (code, rule) = match head.split_once('/') {
        Some((c, r)) => (c, Some(r)),
        None => (head, None),
    };
    failure["code"] == code
        && rule.map_or(true, |r| failure["rule"] == r)
        && entry.map_or(true, |e| failure["entry"] == e)
}

#[test]
fn verify_rejects_each_tampering_for_the_right_reason() {
    let b = Base {
        r: kit::record(71),
        other: kit::record(72),
    };
    let dir = tempfile::tempdir().unwrap();
    let key = hex::encode(b.r.kit.board.verifying_key().as_bytes());
    let cases = catalogue(&b);
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (n, c) in cases.iter().enumerate() {
        let mut entries: Vec<Vec<u8>> = c.entries.iter().map(|e| e.bytes().to_vec()).collect();
        if c.name == "a truncated entry" {
            let last = entries.len() - 1;
            entries[last].truncate(40);
        }
        let note = match c.sign {
            Sign::Board => checkpoint(&b.r.kit, &entries, &b.r.kit.board),
            Sign::Original => checkpoint(
                &b.r.kit,
                &b.entries()
                    .iter()
                    .map(|e| e.bytes().to_vec())
                    .collect::<Vec<_>>(),
                &b.r.kit.board,
            ),
            Sign::Stranger => checkpoint(&b.r.kit, &entries, &SigningKey::from_seed(&[3; 32])),
        };
        let mut bytes = Vec::new();
        urna_verifier::record::write(&mut bytes, &note, &entries).unwrap();
        if let Some(f) = c.raw {
            bytes = f(bytes);
        }
        let path = dir.path().join(format!("case-{n}.urna"));
        std::fs::write(&path, bytes).unwrap();
        let mut args = vec![
            "verify",
            path.to_str().unwrap(),
            "--board-key",
            &key,
            "--json",
        ];
        let early = dir.path().join(format!("case-{n}.cp"));
        if let Some(cp) = &c.earlier {
            std::fs::write(&early, cp).unwrap();
            args.extend(["--checkpoint", early.to_str().unwrap()]);
        }
        let out = support::urna(&args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        if c.expect.is_empty() {
            if !out.status.success() {
                failures.push(format!("{}: should verify, got {stdout}{stderr}", c.name));
            }
            continue;
        }
        let failure = serde_json::from_str::<serde_json::Value>(&stdout)
            .map(|v| v["failure"].clone())
            .unwrap_or_default();
        if out.status.code() != Some(1) || !fails_as(&failure, c.expect) {
            failures.push(format!(
                "{}: expected `{}`, got status {:?}: {failure}{stderr}",
                c.name,
                c.expect,
                out.status.code()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// A short election whose manifest names three witnesses (the default quorum: 2 of 3), up to
/// a few ballots, with its witnesses' keys.
fn witnessed_record() -> (kit::Kit, Vec<Vec<u8>>, Vec<(String, SigningKey)>) {
    let witnesses: Vec<(String, SigningKey)> = (1..=3u8)
        .map(|i| {
            (
                format!("w{i}.witness.example"),
                SigningKey::from_seed(&[40 + i; 32]),
            )
        })
        .collect();
    let mut k = kit::Kit::new(
        73,
        kit::Config {
            witnesses: witnesses
                .iter()
                .map(|(name, k)| (name.clone(), k.verifying_key()))
                .collect(),
            ..kit::Config::default()
        },
    );
    assert_eq!(k.manifest.witness_quorum, 2);
    let mut entries = vec![k.setup()];
    entries.extend(k.ceremony());
    entries.push(k.roll(0, 0..12));
    entries.push(k.open());
    let mut e = Election::new();
    kit::apply_all(&mut e, &entries);
    let ctx = e.context().unwrap().clone();
    for v in 0..3 {
        let c = k.random_choices(k.voters[v].style);
        entries.push(k.ballot(v, &c, &ctx));
    }
    let bytes = entries.iter().map(|e| e.bytes().to_vec()).collect();
    (k, bytes, witnesses)
}

/// §2 of the cosignature policy: a record carrying a failing signature line by a witness the
/// manifest names is rejected, even when the other witnesses meet the quorum (as a verifier
/// following C2SP signed-note does); failing lines by keys the manifest does not name are
/// ignored.
#[test]
fn verify_applies_the_cosignature_policy_to_every_line() {
    let (k, entries, witnesses) = witnessed_record();
    let note = checkpoint(&k, &entries, &k.board);
    let (body, _) = urna_ledger::note::split_note(&note).unwrap();
    let line = |i: usize| {
        urna_ledger::note::cosign(&body, &witnesses[i].0, &witnesses[i].1, 1_800_000_000)
    };
    // One bit flipped in the signature: the 41st base64 digit (inside the Ed25519 signature,
    // after the key ID and time) replaced by the digit whose value differs in its lowest bit.
    let flipped = |l: String| {
        const DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let (head, b64) = l.trim_end().rsplit_once(' ').unwrap();
        let mut b = b64.as_bytes().to_vec();
        let v = DIGITS.iter().position(|d| *d == b[40]).unwrap();
        b[40] = DIGITS[v ^ 1];
        format!("{head} {}\n", String::from_utf8(b).unwrap())
    };
    let stranger = urna_ledger::note::cosign(
        &body,
        "observer.example",
        &SigningKey::from_seed(&[77; 32]),
        1_800_000_000,
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "all three witnesses cosign",
            format!("{note}{}{}{}", line(0), line(1), line(2)),
            "",
        ),
        (
            "one bit flipped in witness 2's cosignature, quorum met by 1 and 3",
            format!("{note}{}{}{}", line(0), flipped(line(1)), line(2)),
            "witness-quorum@w2.witness.example",
        ),
        (
            "witness 1 cosigns twice, the second line forged",
            format!("{note}{}{}{}", line(0), line(2), flipped(line(0))),
            "witness-quorum@w1.witness.example",
        ),
        (
            "a failing line by a key the manifest does not name",
            format!("{note}{}{}{}", line(0), line(1), flipped(stranger)),
            "",
        ),
        (
            "one cosignature, two needed",
            format!("{note}{}", line(2)),
            "witness-quorum",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let key = hex::encode(k.board.verifying_key().as_bytes());
    let mut failures = Vec::new();
    for (n, (name, note, expect)) in cases.iter().enumerate() {
        let mut bytes = Vec::new();
        urna_verifier::record::write(&mut bytes, note, &entries).unwrap();
        let path = dir.path().join(format!("witnessed-{n}.urna"));
        std::fs::write(&path, bytes).unwrap();
        let out = support::urna(&[
            "verify",
            path.to_str().unwrap(),
            "--board-key",
            &key,
            "--json",
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
        let failure = &report["failure"];
        let reason = failure.to_string();
        // `code@field`: the policy's failure, naming the witness whose line fails.
        let good = match expect.split_once('@') {
            _ if expect.is_empty() => out.status.success(),
            Some((code, field)) => {
                out.status.code() == Some(1) && failure["code"] == code && failure["field"] == field
            }
            None => out.status.code() == Some(1) && failure["code"] == *expect,
        };
        if !good {
            failures.push(format!(
                "{name}: expected `{expect}`, got status {:?}: {reason}{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
