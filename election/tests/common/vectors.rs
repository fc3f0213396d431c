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
use super::ranked::{self, RankedRecord};

pub const RECORD_SEED: u64 = 2026;
/// The seed of `specs/vectors/election/ranked.json`.
pub const RANKED_SEED: u64 = 2027;
/// Voters in the ranked record.
pub const RANKED_VOTERS: usize = 12;

fn hexes(entries: &[Entry]) -> Vec<String> {
    entries.iter().map(|e| hex::encode(e.bytes())).collect()
}

fn index_of(entries: &[Entry], kind: EntryKind) -> usize {
    entries.iter().position(|e| e.kind() == kind).unwrap_or(0)
}

pub fn record_json(r: &Record) -> Value {
    let e = Election::replay(&r.entries).unwrap_or_else(|(i, k, rej)| panic!("{i} {k}: {rej}"));
    json!({
        "description": "A complete election record (specs/election.md §9.1): 3 trustees (t = 2), 12 voters in two roll batches, 3 revotes, 1 Benaloh-challenged ballot, trustee 3 absent at decryption, the result. `entries` are the ledger entries in order (hex); replaying them must admit every one and end in `final`.",
        "seed": format!("urna-election tests/common/kit.rs Kit::new({RECORD_SEED}) and record()"),
        "manifest_toml": r.kit.toml,
        "entries": hexes(&r.entries),
        "final": final_state(&e),
    })
}

/// What §9.1 says replaying a record ends in.
pub fn final_state(e: &Election) -> Value {
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
    })
}

/// §9.1's `final.ranked`: each ranked contest's mix, decryption and count.
pub fn ranked_state(e: &Election) -> Value {
    let contests: Vec<Value> = e
        .mix_status()
        .iter()
        .map(|s| {
            let d = e.ranked_result(s.contest);
            let ballots: Vec<Value> = d
                .map(|d| {
                    d.rows
                        .iter()
                        .map(|r| match r {
                            Ok(ranking) => json!(ranking),
                            Err(reason) => json!({"invalid": reason}),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let list: Vec<String> = e
                .mix_list(s.contest)
                .unwrap_or_default()
                .iter()
                .map(|c| hex::encode(&c.to_bytes()))
                .collect();
            json!({
                "contest": s.contest,
                "rows": s.rows,
                "width": s.width,
                "mixes": s.mixes,
                "final_list": list,
                "decrypted_by": s.decrypted_by,
                "ballots": ballots,
                "count": d.map(|d| hex::encode(&d.bytes)),
                "elected": d.map(|d| d.count.elected.clone()),
            })
        })
        .collect();
    json!(contests)
}

pub fn ranked_json(r: &RankedRecord) -> Value {
    let e = Election::replay(&r.entries).unwrap_or_else(|(i, k, rej)| panic!("{i} {k}: {rej}"));
    let mut last = final_state(&e);
    last["ranked"] = ranked_state(&e);
    json!({
        "description": "A complete election with ranked contests (specs/election.md §9.1): a plurality contest, an STV contest (2 seats, one write-in slot) and an IRV contest; 3 trustees (t = 2) who are also the 3 mixers; 12 voters (a quarter with the IRV contest alone), one revote, one Benaloh-challenged ballot; the homomorphic result; each ranked contest mixed by the 3 mixers, decrypted by trustees 2 and 1, and counted. Replaying `entries` must admit every one and end in `final`.",
        "seed": format!("urna-election tests/common/ranked.rs record({RANKED_SEED}, {RANKED_VOTERS})"),
        "manifest_toml": r.kit.toml,
        "entries": hexes(&r.entries),
        "final": last,
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

pub fn reject_json(r: &mut Record, rr: &mut RankedRecord) -> Value {
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
    let mut unsorted = kit.manifest.clone();
    unsorted.contests[0].titles.0.insert(
        0,
        urna_election::manifest::Translation {
            lang: "zh-TW".into(),
            text: "市長".into(),
        },
    );
    let unsorted = kit.sign(&kit.authority, &Payload::Setup(Box::new(unsorted)));
    case(
        "a manifest whose first contest has its title's translations out of tag order (zh-TW before zh-CN)",
        "main",
        0,
        unsorted.into_bytes(),
        "invalid-manifest",
    );
    let mut badtag = kit.manifest.clone();
    badtag.titles.0[0].lang = "zh_CN".into();
    let badtag = kit.sign(&kit.authority, &Payload::Setup(Box::new(badtag)));
    case(
        "a manifest whose title is translated under \"zh_CN\", not a BCP 47 tag",
        "main",
        0,
        badtag.into_bytes(),
        "invalid-manifest",
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

    let (only, ranked_cases) = ranked_cases(rr);
    cases.extend(ranked_cases);
    json!({
        "description": "Rejection corpus of the election rules (specs/election.md §6, §9.2): replay the first `prefix` entries of `record` (\"main\" is specs/vectors/election/record.json, \"ranked\" is specs/vectors/election/ranked.json; the others are below), then the case's entry must be refused with exactly `error` (Rejection::code), leaving the state unchanged. Where several rules fail at once, `error` is the one §6 says wins.",
        "records": {
            "disqualified-dealer": hexes(&dq),
            "failed-ceremony": hexes(&failed),
            "no-revote": hexes(&nr),
            "ranked-only": hexes(&only),
        },
        "cases": cases,
    })
}

/// The example manifest in its canonical form, the texts a reader of each language is shown
/// (§2.4), and language tags that are and are not accepted.
pub fn manifest_json() -> Value {
    use urna_election::manifest::{canonical_case, check_tag, Manifest, TagProblem};
    let toml = super::kit::EXAMPLE;
    let m = Manifest::from_toml(toml).unwrap_or_else(|e| panic!("{e}"));
    let picks: Vec<Value> = [
        "en",
        "zh-CN",
        "zh",
        "ZH-hans-cn",
        "zh-Hant-TW",
        "fr",
        "x-none",
    ]
    .iter()
    .map(|&lang| {
        json!({
            "lang": lang,
            "title": m.title_in(lang),
            "contests": m.contests.iter().map(|c| json!({
                "title": c.title_in(lang),
                "options": c.options.iter().map(|o| o.name_in(lang)).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "ballot_styles": m.ballot_styles.iter().map(|s| s.title_in(lang)).collect::<Vec<_>>(),
        })
    })
    .collect();
    let well_formed = [
        "en",
        "zh-CN",
        "zh-Hans",
        "zh-Hans-CN",
        "es-419",
        "sr-Latn-RS",
        "de-CH-1901",
        "zh-yue-HK",
        "en-a-bbb-x-ccc",
        "x-private",
    ];
    let malformed = [
        "",
        "e",
        "en-",
        "en--GB",
        "1en",
        "toolongtag",
        "en_GB",
        "de-1901-1901",
        "en-a-b",
        "en-x",
        "i-klingon",
        "中文",
    ];
    let case = ["zh-cn", "ZH-HANS", "en-gb", "sr-latn-rs", "EN"];
    assert!(well_formed.iter().all(|t| check_tag(t).is_ok()));
    assert!(malformed
        .iter()
        .all(|t| check_tag(t) == Err(TagProblem::Malformed)));
    assert!(case.iter().all(|t| check_tag(t) == Err(TagProblem::Case)));
    json!({
        "description": "The example manifest (specs/examples/manifest.toml) with titles in other languages (specs/election.md §2.4): `canonical` is its canonical form (§2.3, hex) and `manifest_hash` its hash; `witnesses` names its witnesses and validating nodes with each one's role; `picks` gives, for each reader's language tag, the election title, every contest's title and option names, and every ballot style's name that the rule of §2.4 picks; `tags` lists language tags that are accepted, malformed, or well formed but to be written in another case.",
        "manifest_toml": toml,
        "canonical": hex::encode(&m.to_canonical_bytes().unwrap_or_default()),
        "manifest_hash": hex::encode(&m.hash()),
        "witnesses": m.witnesses.iter().map(|w| json!({"name": w.name, "url": w.url, "role": w.role})).collect::<Vec<_>>(),
        "picks": picks,
        "tags": {
            "accepted": well_formed,
            "malformed": malformed,
            "case": case.iter().map(|t| json!([t, canonical_case(t)])).collect::<Vec<_>>(),
        },
    })
}

/// An election whose only contests are ranked, closed with no ballot: nothing to decrypt
/// homomorphically.
fn ranked_only() -> (Kit, Vec<Entry>) {
    let contests = ranked::contests();
    let only = contests[contests.find("[[contests]]\nid = \"board\"").unwrap_or(0)..]
        .replace(
            r#"contests = ["mayor", "board", "chair"]"#,
            r#"contests = ["board", "chair"]"#,
        )
        .replace(
            "\n[[ballot_styles]]\nid = \"mayor-only\"\ncontests = [\"mayor\"]\n",
            "",
        );
    let mut kit = Kit::new(
        RANKED_SEED + 1,
        Config {
            voters: vec![(1, 0)],
            contests: Some(only),
            ..Config::default()
        },
    );
    let mut entries = vec![kit.setup()];
    entries.extend(kit.ceremony());
    entries.push(kit.roll(0, 0..1));
    entries.push(kit.open());
    entries.push(kit.close());
    let mut e = Election::new();
    apply_all(&mut e, &entries);
    (kit, entries)
}

/// The corpus cases of ranked contests (§6.3, §6.6, §6.7), on `specs/vectors/election/ranked.json`.
fn ranked_cases(rr: &mut RankedRecord) -> (Vec<Entry>, Vec<Value>) {
    use urna_election::payload::{MixDecryption, MixRows, RankedCountBytes};
    let entries = rr.entries.clone();
    let board = ranked::RANKED;
    let payload_of = |e: &Entry| Payload::decode(e.kind(), e.payload()).unwrap();
    let contest_of = |e: &Entry| match payload_of(e) {
        Payload::MixRows(p) => Some(p.contest),
        Payload::MixProof(p) => Some(p.contest),
        Payload::MixDecryption(p) => Some(p.contest),
        Payload::RankedCount(p) => Some(p.contest),
        _ => None,
    };
    let at = |kind: EntryKind, nth: usize| {
        entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind() == kind && contest_of(e) == Some(board))
            .nth(nth)
            .map_or(0, |(i, _)| i)
    };
    let (m1_rows, m1_proof, m2_rows, m3_proof) = (
        at(EntryKind::MixRows, 0),
        at(EntryKind::MixProof, 0),
        at(EntryKind::MixRows, 1),
        at(EntryKind::MixProof, 2),
    );
    let (dec_first, count_at) = (
        at(EntryKind::MixDecryption, 0),
        at(EntryKind::RankedCount, 0),
    );
    let roll_at = index_of(&entries, EntryKind::VoterRoll);
    let kit = &mut rr.kit;
    let replay = |n: usize| {
        Election::replay(&entries[..n]).unwrap_or_else(|(i, k, rej)| panic!("{i} {k}: {rej}"))
    };
    let mut cases = Vec::new();
    let mut case = |name: &str, prefix: usize, entry: Vec<u8>, error: &str| {
        cases.push(json!({"name": name, "record": "ranked", "prefix": prefix, "entry": hex::encode(&entry), "error": error}));
    };
    let m1 = kit.trustees[0].signing.clone();

    let heavy = RollEntry {
        credential: kit.voters[0].key.verifying_key(),
        weight: 2,
        style: 0,
    };
    let roll = kit.sign(
        &kit.registrar,
        &Payload::VoterRoll(VoterRoll {
            batch: 0,
            voters: vec![heavy],
        }),
    );
    case(
        "a voter of weight 2 whose ballot style has a ranked contest",
        roll_at,
        roll.into_bytes(),
        "roll-ranked-weight",
    );
    let Payload::MixRows(rows) = payload_of(&entries[m1_rows]) else {
        unreachable!()
    };
    let rows_as =
        |kit: &Kit, key: &SigningKey, r: MixRows| kit.sign(key, &Payload::MixRows(r)).into_bytes();
    let by_registrar = rows_as(kit, &kit.registrar.clone(), rows.clone());
    case(
        "mixer 1's first rows signed by the registrar (no mixer)",
        m1_rows,
        by_registrar,
        "unauthorised-author",
    );
    case(
        "mixer 1's first rows naming the plurality contest",
        m1_rows,
        rows_as(
            kit,
            &m1,
            MixRows {
                contest: 0,
                ..rows.clone()
            },
        ),
        "mix-contest",
    );
    case(
        "mixer 2's first rows before mixer 1 has mixed",
        m1_rows,
        entries[m2_rows].bytes().to_vec(),
        "mix-out-of-turn",
    );
    let mut doubled = rows.clone();
    doubled.width = 2;
    for row in doubled.rows.iter_mut() {
        row.ciphertexts = vec![row.ciphertexts[0]; 2];
    }
    case(
        "mixer 1's rows with two ciphertexts each; the contest's rows have one",
        m1_rows,
        rows_as(kit, &m1, doubled.clone()),
        "mix-shape",
    );
    let m2 = kit.trustees[1].signing.clone();
    case(
        "mixer 2's rows of the wrong width before mixer 1 has mixed (the turn is checked first)",
        m1_rows,
        rows_as(kit, &m2, doubled),
        "mix-out-of-turn",
    );
    let mut skipping = rows.clone();
    skipping.first = 1;
    skipping.rows.remove(0);
    case(
        "mixer 1's rows from row 1, before any row",
        m1_rows,
        rows_as(kit, &m1, skipping),
        "mix-rows",
    );
    case(
        "mixer 1's proof before its rows",
        m1_rows,
        entries[m1_proof].bytes().to_vec(),
        "mix-incomplete",
    );
    let Payload::MixProof(proof) = payload_of(&entries[m1_proof]) else {
        unreachable!()
    };
    let mut wrong = (*proof).clone();
    wrong.s1 += urna_crypto::Scalar::ONE;
    case(
        "mixer 1's proof with its response s1 increased by one",
        m1_proof,
        kit.sign(&m1, &Payload::MixProof(Box::new(wrong)))
            .into_bytes(),
        "invalid-shuffle",
    );
    case(
        "trustee 2's decryption before the last mix",
        m3_proof,
        entries[dec_first].bytes().to_vec(),
        "decryption-before-mix",
    );
    let e = replay(dec_first);
    let third = ranked::decrypt(kit, &e, board, 3);
    case(
        "trustee 3's decryption after trustees 2 and 1 decrypted (t = 2)",
        count_at,
        third[0].bytes().to_vec(),
        "decryption-complete",
    );
    let Payload::MixDecryption(d) = payload_of(&entries[dec_first]) else {
        unreachable!()
    };
    let t2 = kit.trustees[1].signing.clone();
    let share_as = |kit: &Kit, d: MixDecryption| {
        kit.sign(&t2, &Payload::MixDecryption(Box::new(d)))
            .into_bytes()
    };
    let mut later = (*d).clone();
    later.first = 1;
    later.shares.remove(0);
    case(
        "trustee 2's decryption from ciphertext 1, before any",
        dec_first,
        share_as(kit, later),
        "mix-share-order",
    );
    let mut replaced = (*d).clone();
    replaced.shares[0] = replaced.shares[1];
    case(
        "trustee 2's decryption with its first share replaced by its second",
        dec_first,
        share_as(kit, replaced),
        "invalid-mix-decryption",
    );
    case(
        "the count before the list is decrypted",
        dec_first,
        entries[count_at].bytes().to_vec(),
        "count-before-decryption",
    );
    let Payload::RankedCount(c) = payload_of(&entries[count_at]) else {
        unreachable!()
    };
    let count_as = |kit: &Kit, c: RankedCountBytes| {
        kit.sign(&kit.authority, &Payload::RankedCount(c))
            .into_bytes()
    };
    case(
        "the count from its second byte",
        count_at,
        count_as(
            kit,
            RankedCountBytes {
                offset: 1,
                bytes: c.bytes[1..].to_vec(),
                ..c.clone()
            },
        ),
        "count-out-of-order",
    );
    let mut flipped = c.clone();
    let last = flipped.bytes.len() - 1;
    flipped.bytes[last] ^= 1;
    case(
        "the count with its last byte changed",
        count_at,
        count_as(kit, flipped),
        "inconsistent-count",
    );
    let (only_kit, only) = ranked_only();
    let e = Election::replay(&only).unwrap_or_else(|(i, k, rej)| panic!("{i} {k}: {rej}"));
    let mut only_kit = only_kit;
    let share = only_kit.decryption_share(1, &e);
    cases.push(json!({
        "name": "a decryption share in an election whose contests are all ranked",
        "record": "ranked-only",
        "prefix": only.len(),
        "entry": hex::encode(share.bytes()),
        "error": "no-tally",
    }));
    (only, cases)
}

pub fn all() -> Vec<(&'static str, Value)> {
    let mut r = record(RECORD_SEED);
    let mut rr = ranked::record(RANKED_SEED, RANKED_VOTERS);
    let rec = record_json(&r);
    let ranked = ranked_json(&rr);
    let rej = reject_json(&mut r, &mut rr);
    vec![
        ("election/record.json", rec),
        ("election/manifest.json", manifest_json()),
        ("election/ranked.json", ranked),
        ("reject/election.json", rej),
    ]
}

pub fn render(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}
