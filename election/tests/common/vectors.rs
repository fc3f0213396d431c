//! The deterministic generator of `specs/vectors/election/`: a complete small election record
//! and a rejection corpus with one case per `Rejection` variant. Shared by
//! `examples/gen-vectors.rs` (writes the files) and `tests/vectors.rs` (checks them).
#![allow(dead_code)]

use serde_json::{json, Value};
use urna_crypto::codec::Encode;
use urna_crypto::hex;
use urna_crypto::sign::{SigningKey, VerifyingKey};
use urna_election::ballot::ContestProof;
use urna_election::entry::{Entry, EntryKind};
use urna_election::payload::{
    DecryptionShare, DkgCommitment, DkgComplaint, ElectionResult, Payload, RollEntry, VoterRoll,
};
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
        "description": "A complete election record (specs/election.md §9.1): 3 trustees (t = 2), 12 voters in two roll batches, 3 revotes, 1 Benaloh-challenged ballot, trustee 3 absent at decryption, the result. `entries` are the ledger entries in order (hex); replaying them must admit every one and end in `final`.",
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
            revote: urna_election::manifest::RevotePolicy::Forbidden,
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

/// A ceremony in which trustee 2 deals trustee 3 a bad share and is disqualified on trustee
/// 3's complaint; trustees 1 and 3 (t = 2) carry on.
fn disqualified_dealer() -> (Kit, Vec<Entry>) {
    let mut kit = Kit::new(
        RECORD_SEED + 3,
        Config {
            voters: vec![(1, 0)],
            ..Config::default()
        },
    );
    let mut e = Election::new();
    let mut entries = vec![kit.setup()];
    entries.extend((1..=3).map(|i| kit.commitment(i)).collect::<Vec<_>>());
    entries.push(kit.shares(1, None));
    entries.push(kit.shares(2, Some(3)));
    entries.push(kit.shares(3, None));
    apply_all(&mut e, &entries);
    let c = kit.complaint(3, 2, &e);
    entries.push(c);
    (kit, entries)
}

/// A canonical Ed25519 key, not of small order, with a small-order component: crypto's
/// decoding accepts it; the election registers only keys of prime order.
fn mixed_order(key: &VerifyingKey) -> VerifyingKey {
    use curve25519_dalek::{constants::EIGHT_TORSION, edwards::CompressedEdwardsY};
    let a = CompressedEdwardsY(*key.as_bytes())
        .decompress()
        .unwrap_or_default();
    VerifyingKey::from_wire((a + EIGHT_TORSION[1]).compress().as_bytes()).unwrap_or(*key)
}

pub fn reject_json(r: &mut Record) -> Value {
    let entries = r.entries.clone();
    let open_at = index_of(&entries, EntryKind::OpenVoting);
    let first_ballot = index_of(&entries, EntryKind::Ballot);
    let close_at = index_of(&entries, EntryKind::CloseVoting);
    let roll_at = index_of(&entries, EntryKind::VoterRoll);
    let first_shares = index_of(&entries, EntryKind::DkgShares);
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
    let t1 = kit.trustees[0].signing.clone();

    // ---- every entry ----
    let mut big = entries[0].bytes().to_vec();
    big.resize(65_536, 0);
    case("an entry of 65,536 bytes", "main", 0, big, "oversized");
    let junk = Entry::sign(kit.id(), EntryKind::DkgConfirm, &[1, 2, 3], &t1).unwrap();
    case(
        "a confirmation payload of 3 bytes",
        "main",
        1,
        junk.into_bytes(),
        "malformed",
    );
    let mut identity_author = entries[open_at].bytes().to_vec();
    let at = 4 + 1 + 1 + kit.id().len() + 1;
    let mut identity = [0u8; 32];
    identity[0] = 1; // y = 1: the neutral element, of order 1
    identity_author[at..at + 32].copy_from_slice(&identity);
    case(
        "OpenVoting whose author is the identity point (small order: not an Ed25519 key)",
        "main",
        open_at,
        identity_author,
        "malformed",
    );
    let elsewhere = Entry::sign(
        "vote.example.org/other",
        EntryKind::DkgCommitment,
        entries[1].payload(),
        &t1,
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

    // ---- Setup ----
    let mut m = kit.manifest.clone();
    m.threshold = 4;
    let invalid = kit.sign(&kit.authority, &Payload::Setup(Box::new(m.clone())));
    case(
        "a manifest with threshold 4 of 3 trustees",
        "main",
        0,
        invalid.into_bytes(),
        "invalid-manifest",
    );
    let invalid_by_registrar = kit.sign(&kit.registrar, &Payload::Setup(Box::new(m)));
    case(
        "a manifest with threshold 4 of 3 trustees, signed by the registrar (the author is checked first)",
        "main",
        0,
        invalid_by_registrar.into_bytes(),
        "unauthorised-author",
    );
    let mut mixed = kit.manifest.clone();
    mixed.board_key = mixed_order(&mixed.board_key);
    let mixed = kit.sign(&kit.authority, &Payload::Setup(Box::new(mixed)));
    case(
        "a manifest whose board key has a small-order component",
        "main",
        0,
        mixed.into_bytes(),
        "invalid-manifest",
    );

    // ---- key ceremony ----
    let Payload::DkgCommitment(dc) = payload_of(&entries[1]) else {
        unreachable!()
    };
    let stranger = kit.sign(
        &t1,
        &Payload::DkgCommitment(DkgCommitment {
            dealer: 4,
            ..dc.clone()
        }),
    );
    case(
        "commitments naming dealer 4 of 3 trustees, signed by trustee 1",
        "main",
        1,
        stranger.into_bytes(),
        "unknown-trustee",
    );
    let junk = Entry::sign(kit.id(), EntryKind::DkgCommitment, &[0; 9], &kit.registrar).unwrap();
    case(
        "a commitment payload that does not decode, signed by the registrar (no trustee)",
        "main",
        1,
        junk.into_bytes(),
        "unauthorised-author",
    );
    let again = kit.commitment(1);
    case(
        "trustee 1 commits a second time (fresh proofs)",
        "main",
        first_shares,
        again.into_bytes(),
        "already-posted",
    );
    let mut short = dc.clone();
    short.commitments.pop();
    short.proofs.pop();
    case(
        "trustee 1's commitments without the last coefficient (t − 1 of them)",
        "main",
        1,
        kit.sign(&t1, &Payload::DkgCommitment(short)).into_bytes(),
        "commitment-count",
    );
    let mut swapped = dc.clone();
    swapped.proofs.swap(0, 1);
    case(
        "trustee 1's commitments with two coefficient proofs swapped",
        "main",
        1,
        kit.sign(&t1, &Payload::DkgCommitment(swapped)).into_bytes(),
        "invalid-coefficient-proof",
    );
    case(
        "trustee 1's shares before any commitment",
        "main",
        1,
        entries[first_shares].bytes().to_vec(),
        "shares-before-commitments",
    );
    let Payload::DkgShares(mut reversed) = payload_of(&entries[first_shares]) else {
        unreachable!()
    };
    reversed.shares.reverse();
    case(
        "trustee 1's shares to trustees 3 and 2, in that order",
        "main",
        first_shares,
        kit.sign(&t1, &Payload::DkgShares(reversed)).into_bytes(),
        "share-recipients",
    );
    let e = replay(shares_done);
    let complaint = kit.complaint(1, 2, &e);
    let Payload::DkgComplaint(c12) = payload_of(&complaint) else {
        unreachable!()
    };
    let against = |dealer: u16| {
        Payload::DkgComplaint(Box::new(DkgComplaint {
            dealer,
            ..(*c12).clone()
        }))
    };
    case(
        "trustee 1 complains against itself",
        "main",
        shares_done,
        kit.sign(&t1, &against(1)).into_bytes(),
        "self-complaint",
    );
    case(
        "trustee 1 complains about trustee 2's share after confirming",
        "main",
        shares_done + 1,
        complaint.bytes().to_vec(),
        "complaint-after-confirm",
    );
    case(
        "trustee 1 complains about trustee 2, which has committed but not dealt",
        "main",
        first_shares + 1,
        complaint.bytes().to_vec(),
        "no-share-posted",
    );
    let mut broken = (*c12).clone();
    broken.reveal.dh = broken.reveal.proof.a;
    case(
        "trustee 1's complaint whose proof of decryption does not verify",
        "main",
        shares_done,
        kit.sign(&t1, &Payload::DkgComplaint(Box::new(broken)))
            .into_bytes(),
        "invalid-reveal",
    );
    case(
        "trustee 1 complains about trustee 2's valid share",
        "main",
        shares_done,
        complaint.into_bytes(),
        "false-complaint",
    );
    let (dk, dq) = disqualified_dealer();
    let mut dk = dk;
    let de = Election::replay(&dq).unwrap_or_else(|(i, k, rej)| panic!("{i} {k}: {rej}"));
    let late = dk.complaint(1, 2, &de);
    case(
        "trustee 1 complains about trustee 2, already disqualified",
        "disqualified-dealer",
        dq.len(),
        late.into_bytes(),
        "dealer-disqualified",
    );
    case(
        "disqualified trustee 2 confirms",
        "disqualified-dealer",
        dq.len(),
        dk.confirm(2).into_bytes(),
        "trustee-disqualified",
    );
    case(
        "trustee 1 confirms before trustee 3 has dealt",
        "main",
        first_shares + 2,
        entries[shares_done].bytes().to_vec(),
        "confirm-before-shares",
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

    // ---- voter roll and opening ----
    let voter = |v: usize, weight: u32, style: u16| RollEntry {
        credential: kit.voters[v].key.verifying_key(),
        weight,
        style,
    };
    let roll = |batch: u32, voters: Vec<RollEntry>| {
        kit.sign(
            &kit.registrar,
            &Payload::VoterRoll(VoterRoll { batch, voters }),
        )
        .into_bytes()
    };
    case(
        "a roll batch numbered 5",
        "main",
        roll_at,
        roll(5, vec![voter(0, 1, 0)]),
        "roll-batch-number",
    );
    case(
        "an empty roll batch",
        "main",
        roll_at,
        roll(0, vec![]),
        "roll-empty-batch",
    );
    case(
        "a credential of weight 0",
        "main",
        roll_at,
        roll(0, vec![voter(0, 0, 0)]),
        "roll-zero-weight",
    );
    case(
        "a credential of ballot style 2 (of 2 styles)",
        "main",
        roll_at,
        roll(0, vec![voter(0, 1, 2)]),
        "roll-unknown-style",
    );
    case(
        "a second batch listing voter 0 again",
        "main",
        roll_at + 1,
        roll(1, vec![voter(0, 1, 0)]),
        "roll-repeated-credential",
    );
    let mut torsion = voter(0, 1, 0);
    torsion.credential = mixed_order(&torsion.credential);
    case(
        "a credential with a small-order component",
        "main",
        roll_at,
        roll(0, vec![torsion]),
        "roll-mixed-order-credential",
    );
    case(
        "voting opened before any voter is on the roll",
        "main",
        roll_at,
        entries[open_at].bytes().to_vec(),
        "empty-roll",
    );

    // ---- ballots ----
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
    let not_on_roll = kit.sign(&outsider, &Payload::Ballot(Box::new(b.clone())));
    case(
        "a ballot from a credential not on the roll",
        "main",
        open_at + 1,
        not_on_roll.into_bytes(),
        "not-eligible",
    );
    let mut b_swapped = b;
    b_swapped.contests[0].selections.swap(0, 1);
    case(
        "a ballot from a credential not on the roll, whose proofs do not verify either",
        "main",
        open_at + 1,
        kit.sign(&outsider, &Payload::Ballot(Box::new(b_swapped)))
            .into_bytes(),
        "not-eligible",
    );
    let junk = Entry::sign(kit.id(), EntryKind::Ballot, &[0; 40], &outsider).unwrap();
    case(
        "a ballot payload that does not decode, from a credential not on the roll",
        "main",
        open_at + 1,
        junk.into_bytes(),
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
    let mut fewer = b0.clone();
    fewer.contests.pop();
    case(
        "voter 0's ballot without its last contest",
        "main",
        open_at + 1,
        kit.ballot_entry(0, fewer).into_bytes(),
        "ballot-shape",
    );
    let mut unproven = b0.clone();
    unproven.contests[0].contest_proof = ContestProof::None;
    case(
        "voter 0's ballot with no contest-total proof where the contest needs one (kind 0 for 1)",
        "main",
        open_at + 1,
        kit.ballot_entry(0, unproven).into_bytes(),
        "wrong-proof-kind",
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
    case(
        "voter 8 casting voter 4's challenged ballot (copied, and its proofs bind voter 4)",
        "main",
        r.challenged_at + 1,
        kit.ballot_entry(8, cb.ballot.clone()).into_bytes(),
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
    let Payload::Ballot(first) = payload_of(&nr[nr.len() - 1]) else {
        unreachable!()
    };
    let mut first = *first;
    first.contests[0].selections.swap(0, 1);
    case(
        "the first ballot again, reordered, where revoting is forbidden (copied, proofs failing)",
        "no-revote",
        nr.len(),
        nk.ballot_entry(0, first).into_bytes(),
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

    // ---- tally ----
    let e = replay(close_at + 1);
    let share = kit.decryption_share(3, &e);
    let Payload::DecryptionShare(DecryptionShare { trustee, shares }) = payload_of(&share) else {
        unreachable!()
    };
    let t3 = kit.trustees[2].signing.clone();
    let share_entry = |shares: Vec<_>| {
        kit.sign(
            &t3,
            &Payload::DecryptionShare(DecryptionShare { trustee, shares }),
        )
        .into_bytes()
    };
    let mut replaced = shares.clone();
    replaced[0].0 = replaced[1].0;
    case(
        "trustee 3's decryption share with one point replaced",
        "main",
        close_at + 1,
        share_entry(replaced),
        "invalid-decryption-share",
    );
    let mut fewer = shares.clone();
    fewer.pop();
    case(
        "trustee 3's decryption share missing its last point",
        "main",
        close_at + 1,
        share_entry(fewer),
        "share-count",
    );
    let e = replay(close_at + 2);
    let twice = kit.decryption_share(2, &e);
    case(
        "trustee 2 posts a second decryption share",
        "main",
        close_at + 2,
        twice.into_bytes(),
        "already-posted",
    );
    let n = entries.len();
    case(
        "the result after one decryption share (t = 2)",
        "main",
        close_at + 2,
        entries[n - 1].bytes().to_vec(),
        "too-few-shares",
    );
    let Payload::Result(res) = payload_of(&entries[n - 1]) else {
        unreachable!()
    };
    let result = |counts: Vec<Vec<u64>>| {
        kit.sign(&kit.authority, &Payload::Result(ElectionResult { counts }))
            .into_bytes()
    };
    let mut short = res.counts.clone();
    short.pop();
    case(
        "a result without its last contest",
        "main",
        n - 1,
        result(short),
        "result-shape",
    );
    let e = replay(n - 1);
    let mut above = res.counts.clone();
    above[0][0] = e.count_bounds()[0] + 1;
    case(
        "a result counting more votes for the first option than the roll's weight allows",
        "main",
        n - 1,
        result(above),
        "count-out-of-range",
    );
    let mut counts = res.counts.clone();
    counts[0][0] ^= 1;
    case(
        "a result with the first option's count off by one",
        "main",
        n - 1,
        result(counts),
        "inconsistent-result",
    );

    json!({
        "description": "Rejection corpus of the election rules (specs/election.md §6, §9.2): replay the first `prefix` entries of `record` (\"main\" is specs/vectors/election/record.json; the others are below), then the case's entry must be refused with exactly `error` (Rejection::code), leaving the state unchanged. Where several rules fail at once, `error` is the one §6 says wins.",
        "records": {
            "disqualified-dealer": hexes(&dq),
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
