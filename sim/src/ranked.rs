//! Ranked contests in the test kit: a manifest with a ranked contest beside a plurality one,
//! ranked ballots, and the mixers', trustees' and counter's entries as the `mixnet` library
//! builds them — plus the cheating mixers the soundness tests need (election's rule tests,
//! the verifier's findings).

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_crypto::elgamal::Ciphertext;
use urna_crypto::embed::embed;
use urna_crypto::secret::SecretScalar;
use urna_crypto::shuffle::{
    self, Permutation, Rows, ShuffleGenerators, ShuffleProof, ShuffleStatement,
};
use urna_crypto::sigma::PlaintextKnowledgeProof;
use urna_crypto::sign::SigningKey;
use urna_election::ballot::{
    encrypt_ballot_ranked, Ballot, Choices, ContestBallot, ContestProof, OptionProofs, Preference,
    Rankings,
};
use urna_election::context::{ElectionContext, SLOT_RANKED};
use urna_election::entry::{Entry, EntryKind};
use urna_election::mixnet;
use urna_election::payload::{MixProof, MixRows, Payload};
use urna_election::ranking::{self, Invalid};
use urna_election::state::Election;

use crate::kit::{apply_all, Config, Kit};

/// Index of the ranked contest in [`contests`].
pub const RANKED: u16 = 1;

/// A plurality contest, an STV contest for 2 seats with one write-in slot, and an IRV
/// contest; style 0 has all three, style 1 the IRV contest alone, style 2 the plurality
/// contest alone.
pub fn contests() -> String {
    r#"[[contests]]
id = "mayor"
title = "Mayor"
kind = "plurality"
options = [
  { id = "alice", name = "Alice Martin" },
  { id = "bob", name = "Bob Chen" },
]

[[contests]]
id = "board"
title = "School board (two seats)"
kind = "ranked"
method = "stv"
seats = 2
ranks = 4
write_ins = 1
write_in_len = 24
options = [
  { id = "dan", name = "Dan" },
  { id = "eve", name = "Eve" },
  { id = "fay", name = "Fay" },
  { id = "gus", name = "Gus" },
]

[[contests]]
id = "chair"
title = "Chair"
kind = "ranked"
method = "irv"
options = [
  { id = "hal", name = "Hal" },
  { id = "ivy", name = "Ivy" },
  { id = "jon", name = "Jon" },
]

[[ballot_styles]]
id = "full"
contests = ["mayor", "board", "chair"]

[[ballot_styles]]
id = "chair-only"
contests = ["chair"]

[[ballot_styles]]
id = "mayor-only"
contests = ["mayor"]
"#
    .to_string()
}

/// A kit for an election with ranked contests: 3 trustees (t = 2, the default mixers) and
/// `voters` voters of weight 1, every fourth of style 1.
pub fn kit(seed: u64, voters: usize) -> Kit {
    Kit::new(
        seed,
        Config {
            voters: (0..voters).map(|i| (1, u16::from(i % 4 == 3))).collect(),
            contests: Some(contests()),
            ..Config::default()
        },
    )
}

pub fn option(id: &str) -> Preference {
    Preference::Option(id.into())
}

pub fn write_in(text: &str) -> Preference {
    Preference::WriteIn(text.into())
}

pub fn rankings(pairs: &[(&str, Vec<Preference>)]) -> Rankings {
    Rankings(
        pairs
            .iter()
            .map(|(c, p)| (c.to_string(), p.clone()))
            .collect(),
    )
}

pub fn encrypt(
    kit: &mut Kit,
    voter: usize,
    choices: &Choices,
    ranked: &Rankings,
    ctx: &ElectionContext,
) -> Ballot {
    let v = &kit.voters[voter];
    let style = kit.manifest.ballot_styles[usize::from(v.style)].id.clone();
    let cred = v.key.verifying_key();
    encrypt_ballot_ranked(
        &kit.manifest,
        &style,
        choices,
        ranked,
        &cred,
        ctx,
        &mut kit.rng,
    )
    .unwrap()
    .0
}

pub fn ballot(
    kit: &mut Kit,
    voter: usize,
    choices: &Choices,
    ranked: &Rankings,
    ctx: &ElectionContext,
) -> Entry {
    let b = encrypt(kit, voter, choices, ranked, ctx);
    kit.ballot_entry(voter, b)
}

/// Replaces `contest`'s row in voter `voter`'s ballot by the encryption of `bytes` (any bytes
/// of the row's plaintext length: what a voter's own software could send), with a valid proof
/// of knowledge. For ballots that break the rule of §5.5.
pub fn raw_row(
    kit: &mut Kit,
    voter: usize,
    ballot: &mut Ballot,
    contest: u16,
    bytes: &[u8],
    ctx: &ElectionContext,
) {
    let v = &kit.voters[voter];
    let slot = kit.manifest.ballot_styles[usize::from(v.style)]
        .contests
        .iter()
        .position(|&c| c == contest)
        .unwrap();
    let cred = v.key.verifying_key();
    let (selections, nonces): (Vec<Ciphertext>, Vec<SecretScalar>) = ranking::payloads(bytes)
        .iter()
        .map(|p| {
            let r = SecretScalar::random(&mut kit.rng);
            (
                Ciphertext::encrypt_point(&ctx.joint_key, &embed(p).unwrap(), &r),
                r,
            )
        })
        .unzip();
    let proof = PlaintextKnowledgeProof::prove(
        &ctx.joint_key,
        &selections,
        &nonces,
        &ctx.ballot_proof_ctx(&cred, contest, SLOT_RANKED),
        &mut kit.rng,
    )
    .unwrap();
    ballot.contests[slot] = ContestBallot {
        selections,
        option_proofs: OptionProofs::Knowledge(proof),
        contest_proof: ContestProof::None,
    };
}

/// Mixer `i`'s (1-based; the default mixers are the trustees) honest mix of `contest`.
pub fn mix(kit: &mut Kit, e: &Election, contest: u16, i: u16) -> Vec<Entry> {
    let key = kit.trustees[usize::from(i - 1)].signing.clone();
    mixnet::mix_vartime(e, contest, &key, &mut kit.rng).unwrap()
}

/// Trustee `i`'s partial decryptions of `contest`'s mixed list.
pub fn decrypt(kit: &mut Kit, e: &Election, contest: u16, i: u16) -> Vec<Entry> {
    let share = kit.key_share(i, e.qualified_trustees());
    let key = kit.trustees[usize::from(i - 1)].signing.clone();
    mixnet::decrypt(e, contest, i, &share, &key, &mut kit.rng).unwrap()
}

/// The count of `contest`, posted by the authority (anyone may).
pub fn count(kit: &Kit, e: &Election, contest: u16) -> Vec<Entry> {
    mixnet::count(e, contest, &kit.authority).unwrap()
}

/// The ranked contests' manifest indices.
pub fn ranked_contests(kit: &Kit) -> Vec<u16> {
    kit.manifest.ranked_contests().map(|(i, _, _)| i).collect()
}

/// Mixes, decrypts (trustees 2 and 1) and counts every ranked contest, applying each entry.
pub fn tally_ranked(kit: &mut Kit, e: &mut Election, out: &mut Vec<Entry>) {
    for c in ranked_contests(kit) {
        for i in 1..=kit.manifest.mixers.len() as u16 {
            if e.mix_status().iter().any(|s| s.contest == c && s.rows == 0) {
                break;
            }
            let x = mix(kit, e, c, i);
            apply_all(e, &x);
            out.extend(x);
        }
    }
    for c in ranked_contests(kit) {
        if e.ranked_result(c).is_none() {
            for i in [2u16, 1] {
                let x = decrypt(kit, e, c, i);
                apply_all(e, &x);
                out.extend(x);
            }
        }
        let x = count(kit, e, c);
        apply_all(e, &x);
        out.extend(x);
    }
}

/// A mix whose outputs are made by `tamper` from an honest shuffle's before the proof is made:
/// the proof is of a relation the outputs do not satisfy, as a cheating mixer's would be.
/// Returns `MixRows` entries and the closing `MixProof`, signed by mixer `i`.
pub fn cheating_mix(
    kit: &mut Kit,
    e: &Election,
    contest: u16,
    i: u16,
    tamper: impl FnOnce(&mut Vec<Ciphertext>, usize),
) -> Vec<Entry> {
    let honest = mix(kit, e, contest, i);
    let (rows, proof) = split(&honest);
    let w = rows[0].width as usize;
    let mut outputs: Vec<Ciphertext> = rows
        .iter()
        .flat_map(|r| r.rows.iter().flat_map(|x| x.ciphertexts.clone()))
        .collect();
    tamper(&mut outputs, w);
    let mut rows = rows;
    let mut at = 0;
    for chunk in rows.iter_mut() {
        for row in chunk.rows.iter_mut() {
            row.ciphertexts = outputs[at..at + w].to_vec();
            at += w;
        }
    }
    resign(kit, i, rows, proof)
}

/// The payloads of a mix's entries.
pub fn split(entries: &[Entry]) -> (Vec<MixRows>, MixProof) {
    let mut rows = Vec::new();
    let mut proof = None;
    for x in entries {
        match Payload::decode(x.kind(), x.payload()).unwrap() {
            Payload::MixRows(r) => rows.push(r),
            Payload::MixProof(p) => proof = Some(*p),
            _ => {}
        }
    }
    (rows, proof.unwrap())
}

pub fn resign(kit: &Kit, i: u16, rows: Vec<MixRows>, proof: MixProof) -> Vec<Entry> {
    let key = &kit.trustees[usize::from(i - 1)].signing;
    let mut out: Vec<Entry> = rows
        .into_iter()
        .map(|r| kit.sign(key, &Payload::MixRows(r)))
        .collect();
    out.push(kit.sign(key, &Payload::MixProof(Box::new(proof))));
    out
}

/// A mix with a valid proof for other choices than the mixer's turn: the shuffle of `list`
/// under `permutation`, proven with generators from `seed`, for the mixer `signer` and context
/// `ctx`, as entries by mixer `i`.
#[allow(clippy::too_many_arguments)]
pub fn mix_with(
    kit: &mut Kit,
    e: &Election,
    contest: u16,
    i: u16,
    list: &[Ciphertext],
    permutation: Option<Permutation>,
    seed: &[u8],
    signer: &[u8],
    ctx: &[u8],
) -> Vec<Entry> {
    let ectx = e.context().unwrap();
    let pk = &ectx.joint_key;
    let w = kit.manifest.contests[usize::from(contest)]
        .ranked()
        .unwrap()
        .width();
    let inputs = Rows::new(list, w).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let (outputs, witness) = match permutation {
        Some(p) => shuffle::reencrypt_permute(pk, inputs, p, &mut rng).unwrap(),
        None => shuffle::shuffle(pk, inputs, &mut rng).unwrap(),
    };
    let gens = ShuffleGenerators::derive(seed, inputs.len()).unwrap();
    let st = ShuffleStatement {
        pk,
        inputs,
        outputs: Rows::new(&outputs, w).unwrap(),
    };
    let proof = ShuffleProof::prove_vartime(&gens, &st, &witness, signer, ctx, &mut rng).unwrap();
    let (c, d) = proof.commitments();
    let rows = MixRows {
        contest,
        first: 0,
        width: w as u16,
        rows: (0..inputs.len())
            .map(|r| urna_election::payload::MixRow {
                ciphertexts: outputs[r * w..(r + 1) * w].to_vec(),
                c: c[r],
                d: d[r],
                s: proof.responses()[r],
            })
            .collect(),
    };
    let mut closing = Vec::new();
    proof.encode_closing(&mut closing);
    let mut payload = Vec::new();
    urna_crypto::codec::Writer::put_u16(&mut payload, contest);
    urna_crypto::codec::Writer::put_u16(&mut payload, w as u16);
    payload.extend_from_slice(&closing);
    let Payload::MixProof(p) = Payload::decode(EntryKind::MixProof, &payload).unwrap() else {
        unreachable!()
    };
    resign(kit, i, vec![rows], *p)
}

/// A signing key that is nobody's in the election.
pub fn stranger() -> SigningKey {
    SigningKey::from_seed(&[42; 32])
}

/// A complete election with ranked contests: `voters` voters, each voting (random choices and
/// rankings, some write-ins, two rows that break the rule of §5.5), one revote, one challenged
/// ballot, then close, the homomorphic tally's shares and result, and every ranked contest
/// mixed by the 3 trustees, decrypted by trustees 2 and 1 and counted.
pub struct RankedRecord {
    pub kit: Kit,
    pub entries: Vec<Entry>,
    /// Each voter's last rankings, for checking the count.
    pub rankings: Vec<Rankings>,
    /// `(voter, contest, reason)` for the rows cast invalid on purpose (their rankings above
    /// are not what they encrypt).
    pub invalid: Vec<(usize, u16, Invalid)>,
    pub close_at: usize,
}

pub fn record(seed: u64, voters: usize) -> RankedRecord {
    let mut kit = kit(seed, voters);
    let mut e = Election::new();
    let mut entries = Vec::new();
    let push = |e: &mut Election, entries: &mut Vec<Entry>, x: Vec<Entry>| {
        apply_all(e, &x);
        entries.extend(x);
    };
    push(&mut e, &mut entries, vec![kit.setup()]);
    let c = kit.ceremony();
    push(&mut e, &mut entries, c);
    push(
        &mut e,
        &mut entries,
        vec![kit.roll(0, 0..voters), kit.open()],
    );
    let ctx = e.context().unwrap().clone();
    let names = ["Zoë Ng", "Ana Lima", "Zoë Ng"];
    let mut last = Vec::with_capacity(voters);
    let mut invalid = Vec::new();
    for v in 0..voters {
        let style = kit.voters[v].style;
        let choices = kit.random_choices(style);
        let mut ranked = Rankings::random(&kit.manifest, style, &mut kit.rng);
        if v % 5 == 1 && style == 0 {
            let board = ranked.0.entry("board".into()).or_default();
            board.truncate(3);
            board.insert((v % 2).min(board.len()), write_in(names[v % 3]));
        }
        let mut b = encrypt(&mut kit, v, &choices, &ranked, &ctx);
        // Voter 4 leaves a gap in its board ranking; voter 6 ranks a fourth chair candidate.
        if v == 4 && style == 0 {
            let mut bytes = vec![0u8; 28];
            bytes[..3].copy_from_slice(&[1, 0, 2]);
            raw_row(&mut kit, v, &mut b, RANKED, &bytes, &ctx);
            invalid.push((v, RANKED, Invalid::Gap));
        }
        if v == 6 && style == 0 {
            raw_row(&mut kit, v, &mut b, 2, &[4, 0, 0], &ctx);
            invalid.push((v, 2, Invalid::OutOfRange));
        }
        let x = kit.ballot_entry(v, b);
        push(&mut e, &mut entries, vec![x]);
        last.push(ranked);
    }
    // Voter 0 changes its mind; voter 2 audits a ballot first (never counted).
    let style = kit.voters[0].style;
    let again = Rankings::random(&kit.manifest, style, &mut kit.rng);
    let choices = kit.random_choices(style);
    let x = ballot(&mut kit, 0, &choices, &again, &ctx);
    push(&mut e, &mut entries, vec![x]);
    last[0] = again;
    let choices = kit.random_choices(kit.voters[2].style);
    let (x, _) = kit.challenged(2, &choices, &ctx);
    push(&mut e, &mut entries, vec![x]);
    let close_at = entries.len();
    push(&mut e, &mut entries, vec![kit.close()]);
    for i in [2u16, 1] {
        let x = kit.decryption_share(i, &e);
        push(&mut e, &mut entries, vec![x]);
    }
    let x = kit.result(&e);
    push(&mut e, &mut entries, vec![x]);
    tally_ranked(&mut kit, &mut e, &mut entries);
    RankedRecord {
        kit,
        entries,
        rankings: last,
        invalid,
        close_at,
    }
}
