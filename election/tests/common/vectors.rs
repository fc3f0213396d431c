//! The deterministic generator of `specs/vectors/election/`: a complete small election record
//! and a rejection corpus with one case per `Rejection` variant. Shared by
//! `examples/gen-vectors.rs` (writes the files) and `tests/vectors.rs` (checks them).
#![allow(dead_code)]

use serde_json::{json, Value};
use urna_crypto::codec::Encode;
use urna_crypto::hex;
use urna_crypto::sign::SigningKey;
use urna_election::entry::{Entry, EntryKind};
use urna_election::payload::{DecryptionShare, ElectionResult, Payload, VoterRoll};
use urna_election::state::Election;

use super::kit::{apply_all, record, Config, Kit, Record};

pub const RECORD_SEED: u64 = 2026;

fn hexes(entries: &[Entry]) -> Vec<String> {
    entries.iter().map(|e| hex::encode(e.bytes())).collect()
}

fn index_of(entries: &[Entry], kind: EntryKind) -> usize {
    entries.iter().position(|e| e.kind() == kind).unwrap_or(0)
}

pub fn record_json(r: &Record) -> Value {
    let e = Election::replay(&r.entries).unwrap_or_else(|(i, k, rej)| panic!("{i} {k}: {rej}"));
    let ctx = e.context().unwrap();
    let ballots: Vec<Value> = e
        .ballots()
        .iter()
        .map(|b| {
            json!({
                "index": b.index,
                "credential": hex::encode(b.credential.as_bytes()),
                "tracking_code": b.tracking_code.full(),
                "status": b.status,
            })
        })
        .collect();
    json!({
        "description": "A complete election record (specs/election.md §8): 3 trustees (t = 2), 12 voters in two roll batches, 3 revotes, 1 Benaloh-challenged ballot, trustee 3 absent at decryption, the result. `entries` are the ledger entries in order (hex); replaying them must admit every one and end in `final`.",
        "seed": format!("urna-election tests/common/kit.rs Kit::new({RECORD_SEED}) and record()"),
        "manifest_toml": r.kit.toml,
        "entries": hexes(&r.entries),
        "final": {
            "phase": e.phase(),
            "manifest_hash": hex::encode(&e.manifest_hash()),
            "joint_key": hex::encode(ctx.joint_key.point().as_bytes()),
            "verification_keys": ctx.verification_keys.iter().map(|p| hex::encode(p.as_bytes())).collect::<Vec<_>>(),
            "context_hash": hex::encode(&ctx.hash),
            "qualified_trustees": e.qualified_trustees(),
            "counts": e.counts(),
            "ballots": ballots,
            "encrypted_tally": e.encrypted_tally().unwrap_or(&[]).iter().map(|c| hex::encode(&c.to_bytes())).collect::<Vec<_>>(),
            "result": e.result().map(|r| r.counts.clone()),
        },
    })
}

/// Small extra records for rules the main record cannot reach.
fn failed_ceremony() -> (Kit, Vec<Entry>) {
    let mut kit = Kit::new(
        RECORD_SEED + 1,
        Config {
            trustees: 3,
            threshold: 3,
            voters: vec![(1, 0)],
            ..Config::default()
        },
    );
    let mut e = Election::new();
    let mut entries = vec![kit.setup()];
    entries.extend((1..=3).map(|i| kit.commitment(i)).collect::<Vec<_>>());
    entries.push(kit.shares(1, Some(2)));
    entries.extend((2..=3).map(|i| kit.shares(i, None)).collect::<Vec<_>>());
    apply_all(&mut e, &entries);
    let c = kit.complaint(2, 1, &e);
    entries.push(c);
    (kit, entries)
}

fn no_revote() -> (Kit, Vec<Entry>) {
    let mut kit = Kit::new(
        RECORD_SEED + 2,
        Config {
            revote: "forbidden",
            voters: vec![(1, 0)],
            ..Config::default()
        },
    );
    let mut e = Election::new();
    let mut entries = vec![kit.setup()];
    entries.extend(kit.ceremony());
    entries.push(kit.roll(0, 0..1));
    entries.push(kit.open());
    apply_all(&mut e, &entries);
    let ctx = e.context().unwrap().clone();
    let c = kit.random_choices(0);
    entries.push(kit.ballot(0, &c, &ctx));
    (kit, entries)
}

pub fn reject_json(r: &mut Record) -> Value {
    let entries = r.entries.clone();
    let open_at = index_of(&entries, EntryKind::OpenVoting);
    let first_ballot = index_of(&entries, EntryKind::Ballot);
    let close_at = index_of(&entries, EntryKind::CloseVoting);
    let roll_at = index_of(&entries, EntryKind::VoterRoll);
    let shares_done = index_of(&entries, EntryKind::DkgConfirm);
    let kit = &mut r.kit;
    let replay = |n: usize| {
        Election::replay(&entries[..n]).unwrap_or_else(|(i, k, rej)| panic!("{i} {k}: {rej}"))
    };
    let mut cases = Vec::new();
    let mut case = |name: &str, record: &str, prefix: usize, entry: Vec<u8>, error: &str| {
        cases.push(json!({"name": name, "record": record, "prefix": prefix, "entry": hex::encode(&entry), "error": error}));
    };
    let payload_of = |e: &Entry| Payload::decode(e.kind(), e.payload()).unwrap();

    let mut big = entries[0].bytes().to_vec();
    big.resize(65_536, 0);
    case("an entry of 65,536 bytes", "main", 0, big, "oversized");
    let junk = Entry::sign(
        kit.id(),
        EntryKind::DkgConfirm,
        &[1, 2, 3],
        &kit.trustees[0].signing,
    )
    .unwrap();
    case(
        "a confirmation payload of 3 bytes",
        "main",
        1,
        junk.into_bytes(),
        "malformed",
    );
    let elsewhere = Entry::sign(
        "vote.example.org/other",
        EntryKind::DkgCommitment,
        entries[1].payload(),
        &kit.trustees[0].signing,
    )
    .unwrap();
    case(
        "trustee 1's commitments signed for another election",
        "main",
        1,
        elsewhere.into_bytes(),
        "wrong-election",
    );
    case(
        "a ballot before voting opens",
        "main",
        open_at,
        entries[first_ballot].bytes().to_vec(),
        "wrong-phase",
    );
    let by_registrar = kit.sign(&kit.registrar, &Payload::OpenVoting);
    case(
        "voting opened by the registrar",
        "main",
        open_at,
        by_registrar.into_bytes(),
        "unauthorised-author",
    );
    let mut flipped = entries[open_at].bytes().to_vec();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    case(
        "OpenVoting with one signature bit flipped",
        "main",
        open_at,
        flipped,
        "bad-signature",
    );
    case(
        "trustee 1's commitments again, byte for byte",
        "main",
        2,
        entries[1].bytes().to_vec(),
        "duplicate",
    );
    let mut m = kit.manifest.clone();
    m.threshold = 4;
    let invalid = kit.sign(&kit.authority, &Payload::Setup(Box::new(m)));
    case(
        "a manifest with threshold 4 of 3 trustees",
        "main",
        0,
        invalid.into_bytes(),
        "invalid-manifest",
    );
    let again = kit.commitment(1);
    case(
        "trustee 1 commits a second time (fresh proofs)",
        "main",
        4,
        again.into_bytes(),
        "key-ceremony",
    );
    let e = replay(shares_done);
    let complaint = kit.complaint(1, 2, &e);
    case(
        "trustee 1 complains about trustee 2's valid share",
        "main",
        shares_done,
        complaint.into_bytes(),
        "false-complaint",
    );
    let (fk, failed) = failed_ceremony();
    let confirm = fk.confirm(2);
    case(
        "a confirmation after the ceremony failed (t = 3, one dealer disqualified)",
        "failed-ceremony",
        failed.len(),
        confirm.into_bytes(),
        "ceremony-failed",
    );
    let bad_roll = kit.sign(
        &kit.registrar,
        &Payload::VoterRoll(VoterRoll {
            batch: 5,
            voters: vec![],
        }),
    );
    case(
        "a roll batch numbered 5 (and empty)",
        "main",
        roll_at,
        bad_roll.into_bytes(),
        "invalid-roll",
    );
    let e = replay(open_at + 1);
    let ctx = e.context().unwrap().clone();
    let outsider = SigningKey::from_seed(&[7; 32]);
    let style0 = kit.manifest.ballot_styles[0].id.clone();
    let choices = kit.random_choices(0);
    let (b, _) = urna_election::ballot::encrypt_ballot(
        &kit.manifest,
        &style0,
        &choices,
        &outsider.verifying_key(),
        &ctx,
        &mut kit.rng,
    )
    .unwrap();
    let not_on_roll = kit.sign(&outsider, &Payload::Ballot(Box::new(b)));
    case(
        "a ballot from a credential not on the roll",
        "main",
        open_at + 1,
        not_on_roll.into_bytes(),
        "not-eligible",
    );
    let (b0, _) = kit.encrypt(0, &choices, &ctx);
    case(
        "voter 3 (style non-resident) casts a resident ballot",
        "main",
        open_at + 1,
        kit.ballot_entry(3, b0.clone()).into_bytes(),
        "style-mismatch",
    );
    case(
        "voter 0's ballot re-signed by voter 1 (proofs bind voter 0's credential)",
        "main",
        open_at + 1,
        kit.ballot_entry(1, b0).into_bytes(),
        "invalid-ballot",
    );
    let Payload::ChallengedBallot(cb) = payload_of(&entries[r.challenged_at]) else {
        unreachable!()
    };
    case(
        "casting the ballot that was challenged",
        "main",
        r.challenged_at + 1,
        kit.ballot_entry(4, cb.ballot.clone()).into_bytes(),
        "copied-ballot",
    );
    let (nk, nr) = no_revote();
    let e2 = Election::replay(&nr).unwrap_or_else(|(i, k, rej)| panic!("{i} {k}: {rej}"));
    let mut nk = nk;
    let c2 = nk.random_choices(0);
    let second = nk.ballot(0, &c2, e2.context().unwrap());
    case(
        "a second ballot where revoting is forbidden",
        "no-revote",
        nr.len(),
        second.into_bytes(),
        "revote-forbidden",
    );
    let mut lying = (*cb).clone();
    lying.openings[0][0].0 ^= 1;
    let lying = kit.sign(
        &kit.voters[4].key,
        &Payload::ChallengedBallot(Box::new(lying)),
    );
    case(
        "a challenged ballot claiming another value than it encrypts",
        "main",
        r.challenged_at,
        lying.into_bytes(),
        "invalid-opening",
    );
    let e = replay(close_at + 1);
    let share = kit.decryption_share(3, &e);
    let Payload::DecryptionShare(DecryptionShare {
        trustee,
        mut shares,
    }) = payload_of(&share)
    else {
        unreachable!()
    };
    shares[0].0 = shares[1].0;
    let bad_share = kit.sign(
        &kit.trustees[2].signing,
        &Payload::DecryptionShare(DecryptionShare { trustee, shares }),
    );
    case(
        "trustee 3's decryption share with one point replaced",
        "main",
        close_at + 1,
        bad_share.into_bytes(),
        "invalid-decryption-share",
    );
    let n = entries.len();
    let Payload::Result(res) = payload_of(&entries[n - 1]) else {
        unreachable!()
    };
    let mut counts = res.counts.clone();
    counts[0][0] += 1;
    let wrong = kit.sign(&kit.authority, &Payload::Result(ElectionResult { counts }));
    case(
        "a result with one more vote for the first option",
        "main",
        n - 1,
        wrong.into_bytes(),
        "inconsistent-result",
    );

    json!({
        "description": "Rejection corpus of the election rules (specs/election.md §7): replay the first `prefix` entries of `record` (\"main\" is specs/vectors/election/record.json; the others are below), then the case's entry must be refused with exactly `error` (Rejection::code), leaving the state unchanged.",
        "records": {
            "failed-ceremony": hexes(&failed),
            "no-revote": hexes(&nr),
        },
        "cases": cases,
    })
}

pub fn all() -> Vec<(&'static str, Value)> {
    let mut r = record(RECORD_SEED);
    let rec = record_json(&r);
    let rej = reject_json(&mut r);
    vec![("election/record.json", rec), ("reject/election.json", rej)]
}

pub fn render(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}
