//! Large synthetic but fully valid election records, for benchmarks and for reproducing the
//! verification figures (`urna bench record --ballots N`). Every entry is made the way its
//! party would make it — the key ceremony by `urna-trustee`'s steps, ballots by
//! `encrypt_ballot` — and admitted by the state machine, so the record verifies.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use urna_crypto::codec::Encode;
use urna_crypto::sign::SigningKey;
use urna_election::ballot::{encrypt_ballot, Choices};
use urna_election::entry::Entry;
use urna_election::manifest::Manifest;
use urna_election::payload::{Payload, RollEntry, VoterRoll};
use urna_election::state::Election;
use urna_trustee::{ceremony_in_memory, TrusteeKey};

use crate::manifest::ManifestBuilder;
use urna_ledger::merkle::{leaf_hash, Tree};
use urna_ledger::note::Checkpoint;

pub const ORIGIN: &str = "bench.urna.example/plurality-10";

/// A finished election of `ballots` 10-selection plurality ballots (one per voter).
pub struct Synthetic {
    pub board: SigningKey,
    pub manifest: Manifest,
    pub entries: Vec<Entry>,
    /// Index of the first ballot entry and the number of ballots.
    pub ballots_at: usize,
    pub ballots: usize,
    pub expected: Vec<u64>,
    /// The trustees' keys (with their shares of the joint key), for decryption benchmarks.
    pub trustees: Vec<TrusteeKey>,
    /// The voters' credentials, in roll order.
    pub voters: Vec<SigningKey>,
}

/// The synthetic election's manifest: one plurality contest of ten candidates, and `trustees`.
pub fn manifest(
    authority: &SigningKey,
    registrar: &SigningKey,
    board: &SigningKey,
    trustees: &[TrusteeKey],
    threshold: u16,
) -> ManifestBuilder {
    let mut b = ManifestBuilder::new(
        ORIGIN,
        "Synthetic plurality-10 election",
        authority.verifying_key(),
        registrar.verifying_key(),
        board.verifying_key(),
    )
    .threshold(threshold)
    .contests(CONTESTS);
    for (i, k) in trustees.iter().enumerate() {
        b = b.trustee(
            &format!("Trustee {}", i + 1),
            k.verifying_key(),
            k.ceremony_key(),
        );
    }
    b
}

/// One seat, ten candidates `c0`…`c9`.
const CONTESTS: &str = r#"
[[contests]]
id = "seat"
title = "One seat, ten candidates"
kind = "plurality"
exactly = true
options = [
  { id = "c0", name = "Candidate 0" }, { id = "c1", name = "Candidate 1" },
  { id = "c2", name = "Candidate 2" }, { id = "c3", name = "Candidate 3" },
  { id = "c4", name = "Candidate 4" }, { id = "c5", name = "Candidate 5" },
  { id = "c6", name = "Candidate 6" }, { id = "c7", name = "Candidate 7" },
  { id = "c8", name = "Candidate 8" }, { id = "c9", name = "Candidate 9" },
]

[[ballot_styles]]
id = "all"
contests = ["seat"]
"#;

fn sign(id: &str, key: &SigningKey, p: &Payload) -> Result<Entry, String> {
    Entry::sign(id, p.kind(), &p.to_bytes(), key).map_err(|e| e.to_string())
}

/// Where generated entries go, in log order, a batch at a time.
pub type Sink<'a> = &'a mut dyn FnMut(Vec<Entry>) -> Result<(), String>;

/// Admits `x` and hands it to the sink; `made` counts the entries so far.
fn admit(
    e: &mut Election,
    made: &mut usize,
    sink: &mut dyn FnMut(Vec<Entry>) -> Result<(), String>,
    x: Vec<Entry>,
) -> Result<(), String> {
    admit_with(e, made, sink, x, false)
}

/// [`admit`]; with `own_ballots`, the entries are ballots this generator has just encrypted,
/// proven and signed itself, so their signatures and proofs are taken as valid
/// (`Election::apply_batch_verified`: every other rule still applies). Verifying them again
/// was about a third of the CPU of `urna bench record`; `urna verify` checks the record.
fn admit_with(
    e: &mut Election,
    made: &mut usize,
    sink: &mut dyn FnMut(Vec<Entry>) -> Result<(), String>,
    x: Vec<Entry>,
    own_ballots: bool,
) -> Result<(), String> {
    let verdicts = if own_ballots {
        e.apply_batch_verified(&x)
    } else {
        e.apply_batch(&x)
    };
    for (i, r) in verdicts.into_iter().enumerate() {
        r.map_err(|r| {
            format!(
                "synthetic entry {} ({}) rejected: {r}",
                *made + i,
                x[i].kind()
            )
        })?;
    }
    *made += x.len();
    sink(x)
}

/// Generates the election; `progress(done)` is called as ballots are made and admitted.
pub fn plurality10(
    ballots: usize,
    seed: u64,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Synthetic, String> {
    let mut entries = Vec::new();
    let mut s = plurality10_into(ballots, seed, progress, &mut |x| {
        entries.extend(x);
        Ok(())
    })?;
    s.entries = entries;
    s.voters = (0..ballots).map(|n| voter(seed, n)).collect();
    Ok(s)
}

/// Voter `n`'s credential in the synthetic election made from `seed`: derived from the two, so
/// that a generator of any size holds no voter's key longer than it takes to sign its ballot.
pub fn voter(seed: u64, n: usize) -> SigningKey {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s[8..16].copy_from_slice(&(n as u64).to_le_bytes());
    s[16..].copy_from_slice(b"urna-synth-voter");
    SigningKey::generate(&mut ChaCha20Rng::from_seed(s))
}

/// The board key of the synthetic election made from `seed` (the third key its generator
/// draws, as in [`plurality10_into`]): what a board needs to accept that election's set-up,
/// whose manifest names it (`urna bench ingest` replays a record into a fresh board).
pub fn board_key(seed: u64) -> SigningKey {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let _authority = SigningKey::generate(&mut rng);
    let _registrar = SigningKey::generate(&mut rng);
    SigningKey::generate(&mut rng)
}

/// The registrar key of the synthetic election made from `seed` (the second key its generator
/// draws): what `urna bench light --record` signs one more roll batch with.
pub fn registrar_key(seed: u64) -> SigningKey {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let _authority = SigningKey::generate(&mut rng);
    SigningKey::generate(&mut rng)
}

/// [`plurality10`], handing the entries to `sink` as they are made instead of keeping them
/// (the returned election's `entries` and `voters` are empty): a record of any size is written
/// in bounded memory — the voters' keys derived when needed ([`voter`]), the rules' state the
/// compact one a replica holds ([`Election::reading_back`]; no ballot is revoted, so none is
/// read back) — the ballots encrypted and admitted on all cores, 4,096 at a time.
pub fn plurality10_into(
    ballots: usize,
    seed: u64,
    progress: &(dyn Fn(usize) + Sync),
    sink: Sink<'_>,
) -> Result<Synthetic, String> {
    let (trustees, threshold) = (3u16, 2u16);
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let authority = SigningKey::generate(&mut rng);
    let registrar = SigningKey::generate(&mut rng);
    let board = SigningKey::generate(&mut rng);
    let mut keys: Vec<TrusteeKey> = (0..trustees)
        .map(|_| TrusteeKey::generate(&mut rng))
        .collect();
    let manifest = manifest(&authority, &registrar, &board, &keys, threshold)
        .build()
        .map_err(|e| e.to_string())?;
    let id = manifest.election_id.clone();
    let mut e = Election::reading_back();
    let mut made = 0usize;
    admit(
        &mut e,
        &mut made,
        sink,
        vec![sign(
            &id,
            &authority,
            &Payload::Setup(Box::new(manifest.clone())),
        )?],
    )?;
    let mut ceremony = Vec::new();
    ceremony_in_memory(&mut keys, &mut e, &mut rng, |x| ceremony.push(x))
        .map_err(|e| e.to_string())?;
    made += ceremony.len();
    sink(ceremony)?;
    // The roll, 1,000 credentials an entry, made and admitted 16 entries at a time.
    for first in (0..ballots).step_by(16_000) {
        let batches: Vec<(u32, Vec<RollEntry>)> = (first..ballots.min(first + 16_000))
            .step_by(1000)
            .map(|b| {
                let voters = (b..ballots.min(b + 1000))
                    .into_par_iter()
                    .map(|n| RollEntry {
                        credential: voter(seed, n).verifying_key(),
                        weight: 1,
                        style: 0,
                    })
                    .collect();
                ((b / 1000) as u32, voters)
            })
            .collect();
        let roll = batches
            .into_iter()
            .map(|(batch, voters)| {
                sign(
                    &id,
                    &registrar,
                    &Payload::VoterRoll(VoterRoll { batch, voters }),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        admit(&mut e, &mut made, sink, roll)?;
    }
    admit(
        &mut e,
        &mut made,
        sink,
        vec![sign(&id, &authority, &Payload::OpenVoting)?],
    )?;
    let ctx = e
        .context()
        .cloned()
        .ok_or("no election context after the ceremony")?;
    let ballots_at = made;
    let mut count = made;
    let mut expected = vec![0u64; 10];
    for first in (0..ballots).step_by(4096) {
        let made: Vec<(usize, Entry)> = (first..ballots.min(first + 4096))
            .into_par_iter()
            .map(|n| {
                let k = &voter(seed, n);
                let mut rng = ChaCha20Rng::seed_from_u64(
                    seed ^ (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                );
                let pick = (rng.next_u32_mod(10)) as usize;
                let mut choices = Choices::default();
                let mut v = vec![0u16; 10];
                v[pick] = 1;
                choices.0.insert("seat".into(), v);
                let (b, _) = encrypt_ballot(
                    &manifest,
                    "all",
                    &choices,
                    &k.verifying_key(),
                    &ctx,
                    &mut rng,
                )
                .map_err(|e| e.to_string())?;
                Ok((pick, sign(&id, k, &Payload::Ballot(Box::new(b)))?))
            })
            .collect::<Result<_, String>>()?;
        for (pick, _) in &made {
            expected[*pick] += 1;
        }
        admit_with(
            &mut e,
            &mut count,
            sink,
            made.into_iter().map(|(_, x)| x).collect(),
            true,
        )?;
        progress(count - ballots_at);
    }
    admit(
        &mut e,
        &mut count,
        sink,
        vec![sign(&id, &authority, &Payload::CloseVoting)?],
    )?;
    for k in keys.iter_mut().take(usize::from(threshold)) {
        let x = k
            .decryption_share(&e, &mut rng)
            .map_err(|e| e.to_string())?;
        admit(&mut e, &mut count, sink, vec![x])?;
    }
    let result = urna_tally::result::compute(&e).map_err(|e| e.to_string())?;
    admit(
        &mut e,
        &mut count,
        sink,
        vec![sign(&id, &authority, &Payload::Result(result))?],
    )?;
    Ok(Synthetic {
        board,
        manifest,
        entries: Vec::new(),
        ballots_at,
        ballots,
        expected,
        trustees: keys,
        voters: Vec::new(),
    })
}

impl Synthetic {
    /// The board's checkpoint over all the entries.
    pub fn checkpoint(&self) -> String {
        let mut t = Tree::new();
        for e in &self.entries {
            t.push(leaf_hash(e.bytes()));
        }
        let size = t.size();
        let root = t
            .root(size)
            .unwrap_or_else(|_| urna_ledger::merkle::empty_root());
        Checkpoint {
            origin: ORIGIN.to_string(),
            size,
            root,
        }
        .sign(&self.board)
    }
}

trait ModU32 {
    fn next_u32_mod(&mut self, m: u32) -> u32;
}

impl ModU32 for ChaCha20Rng {
    fn next_u32_mod(&mut self, m: u32) -> u32 {
        use rand_chacha::rand_core::RngCore;
        // Rejection sampling keeps the choice uniform.
        let zone = u32::MAX - u32::MAX % m;
        loop {
            let x = self.next_u32();
            if x < zone {
                return x % m;
            }
        }
    }
}
