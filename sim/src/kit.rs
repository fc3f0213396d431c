//! A deterministic in-memory election for tests, vectors and benches: every role's keys drawn
//! from one seeded generator, and helpers that build each kind of entry the way an honest (or,
//! where asked, a cheating) participant would. It drives the state machine only through
//! entries, exactly as the board and the verifier do.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use urna_crypto::codec::Encode;
use urna_crypto::elgamal::message_point;
use urna_crypto::group::{mul_g, Point};
use urna_crypto::secret::SecretScalar;
use urna_crypto::share_enc;
use urna_crypto::sign::{SigningKey, VerifyingKey};
use urna_crypto::threshold::{self, Polynomial};
use urna_crypto::{dlog, Scalar};
use urna_election::ballot::{encrypt_ballot, Ballot, BallotSecrets, Choices};
use urna_election::context::{dkg_ctx, ElectionContext};
use urna_election::entry::Entry;
use urna_election::manifest::{Manifest, RevotePolicy};
use urna_election::payload::{
    ChallengedBallot, DecryptionShare, DkgCommitment, DkgComplaint, DkgConfirm, DkgShares,
    ElectionResult, Payload, RollEntry, VoterRoll,
};
use urna_election::state::Election;

use crate::manifest::ManifestBuilder;
pub use crate::manifest::EXAMPLE;

pub struct TrusteeKit {
    pub signing: SigningKey,
    pub ceremony: SecretScalar,
    pub ceremony_key: Point,
    pub poly: Polynomial,
    pub commitments: Vec<Point>,
}

pub struct VoterKit {
    pub key: SigningKey,
    pub weight: u32,
    pub style: u16,
}

pub struct Config {
    pub trustees: u16,
    pub threshold: u16,
    pub revote: RevotePolicy,
    /// (weight, style index) per voter.
    pub voters: Vec<(u32, u16)>,
    /// TOML for `[[contests]]` and `[[ballot_styles]]`; the example manifest's if `None`.
    pub contests: Option<String>,
    /// Witnesses named by the manifest (name, key), reached at `https://<name>`.
    pub witnesses: Vec<(String, VerifyingKey)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            trustees: 3,
            threshold: 2,
            revote: RevotePolicy::LatestCounts,
            voters: (0..12)
                .map(|i| (1 + (i % 3 == 0) as u32, (i % 4 == 3) as u16))
                .collect(),
            contests: None,
            witnesses: Vec::new(),
        }
    }
}

pub struct Kit {
    pub manifest: Manifest,
    pub toml: String,
    pub authority: SigningKey,
    pub registrar: SigningKey,
    pub board: SigningKey,
    pub trustees: Vec<TrusteeKit>,
    pub voters: Vec<VoterKit>,
    pub rng: ChaCha20Rng,
}

/// The example manifest's contests and styles (or the config's) under freshly generated keys.
fn manifest(
    cfg: &Config,
    authority: &SigningKey,
    registrar: &SigningKey,
    board: &SigningKey,
    trustees: &[TrusteeKit],
) -> ManifestBuilder {
    let mut b = ManifestBuilder::new(
        "vote.example.org/2026/council",
        "Example City Council Election 2026",
        authority.verifying_key(),
        registrar.verifying_key(),
        board.verifying_key(),
    )
    .revote(cfg.revote)
    .threshold(cfg.threshold)
    .title_in("zh-CN", "2026 年示例市议会选举");
    for (i, tr) in trustees.iter().enumerate() {
        b = b.trustee(
            &format!("Trustee {}", i + 1),
            tr.signing.verifying_key(),
            tr.ceremony_key,
        );
    }
    for (name, key) in &cfg.witnesses {
        b = b.witness(name, *key, &format!("https://{name}"));
    }
    if let Some(c) = &cfg.contests {
        b = b.contests(c);
    }
    b
}

impl Kit {
    pub fn new(seed: u64, cfg: Config) -> Kit {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let authority = SigningKey::generate(&mut rng);
        let registrar = SigningKey::generate(&mut rng);
        let board = SigningKey::generate(&mut rng);
        let trustees: Vec<TrusteeKit> = (0..cfg.trustees)
            .map(|_| {
                let signing = SigningKey::generate(&mut rng);
                let ceremony = SecretScalar::random(&mut rng);
                let ceremony_key = Point::from_point(mul_g(ceremony.expose()));
                let poly = Polynomial::random(usize::from(cfg.threshold.max(1)), &mut rng).unwrap();
                let commitments = poly.commitments();
                TrusteeKit {
                    signing,
                    ceremony,
                    ceremony_key,
                    poly,
                    commitments,
                }
            })
            .collect();
        let voters = cfg
            .voters
            .iter()
            .map(|&(weight, style)| VoterKit {
                key: SigningKey::generate(&mut rng),
                weight,
                style,
            })
            .collect();
        let built = manifest(&cfg, &authority, &registrar, &board, &trustees);
        let toml = built.to_toml().unwrap();
        let manifest = built.build().unwrap();
        Kit {
            manifest,
            toml,
            authority,
            registrar,
            board,
            trustees,
            voters,
            rng,
        }
    }

    pub fn id(&self) -> &str {
        &self.manifest.election_id
    }

    pub fn sign(&self, key: &SigningKey, payload: &Payload) -> Entry {
        Entry::sign(self.id(), payload.kind(), &payload.to_bytes(), key).unwrap()
    }

    pub fn setup(&self) -> Entry {
        self.sign(
            &self.authority,
            &Payload::Setup(Box::new(self.manifest.clone())),
        )
    }

    pub fn dkg_ctx(&self) -> Vec<u8> {
        dkg_ctx(&self.manifest.hash())
    }

    /// Trustee `i`'s (1-based) commitments with proofs.
    pub fn commitment(&mut self, i: u16) -> Entry {
        let ctx = self.dkg_ctx();
        let t = &self.trustees[usize::from(i - 1)];
        let proofs = t
            .poly
            .prove_coefficients(&t.commitments, i, &ctx, &mut self.rng);
        let p = Payload::DkgCommitment(DkgCommitment {
            dealer: i,
            commitments: t.commitments.clone(),
            proofs,
        });
        self.sign(&self.trustees[usize::from(i - 1)].signing, &p)
    }

    /// Trustee `i`'s encrypted shares; the share to `cheat_on` (if any) is off by one.
    pub fn shares(&mut self, i: u16, cheat_on: Option<u16>) -> Entry {
        let ctx = self.dkg_ctx();
        let n = self.trustees.len() as u16;
        let mut shares = Vec::new();
        for j in (1..=n).filter(|j| *j != i) {
            let mut s = *self.trustees[usize::from(i - 1)]
                .poly
                .evaluate(j)
                .unwrap()
                .expose();
            if cheat_on == Some(j) {
                s += Scalar::ONE;
            }
            let key = self.trustees[usize::from(j - 1)].ceremony_key;
            let enc =
                share_enc::encrypt_share(&SecretScalar::new(s), &key, i, j, &ctx, &mut self.rng)
                    .unwrap();
            shares.push((j, enc));
        }
        self.sign(
            &self.trustees[usize::from(i - 1)].signing,
            &Payload::DkgShares(DkgShares { dealer: i, shares }),
        )
    }

    /// Trustee `j` complains about dealer `dealer`'s share, revealing what it decrypted.
    pub fn complaint(&mut self, j: u16, dealer: u16, e: &Election) -> Entry {
        let mut rng = self.rng.clone();
        let entry = self.complaint_with(j, dealer, e, &mut rng);
        self.rng = rng;
        entry
    }

    /// As [`Kit::complaint`], drawing the proof's randomness from `rng`.
    pub fn complaint_with<R: rand::RngCore + rand::CryptoRng>(
        &self,
        j: u16,
        dealer: u16,
        e: &Election,
        rng: &mut R,
    ) -> Entry {
        let ctx = self.dkg_ctx();
        let enc = e.dkg_share(dealer, j).unwrap().clone();
        let t = &self.trustees[usize::from(j - 1)];
        let reveal = share_enc::reveal(&enc, &t.ceremony, &t.ceremony_key, dealer, j, &ctx, rng);
        let p = Payload::DkgComplaint(Box::new(DkgComplaint {
            complainer: j,
            dealer,
            reveal,
        }));
        self.sign(&self.trustees[usize::from(j - 1)].signing, &p)
    }

    pub fn confirm(&self, i: u16) -> Entry {
        self.sign(
            &self.trustees[usize::from(i - 1)].signing,
            &Payload::DkgConfirm(DkgConfirm { trustee: i }),
        )
    }

    /// The whole honest ceremony: commitments, shares, confirmations.
    pub fn ceremony(&mut self) -> Vec<Entry> {
        let n = self.trustees.len() as u16;
        let mut out: Vec<Entry> = (1..=n).map(|i| self.commitment(i)).collect();
        out.extend((1..=n).map(|i| self.shares(i, None)).collect::<Vec<_>>());
        out.extend((1..=n).map(|i| self.confirm(i)));
        out
    }

    pub fn roll(&self, batch: u32, voters: std::ops::Range<usize>) -> Entry {
        let voters = self.voters[voters]
            .iter()
            .map(|v| RollEntry {
                credential: v.key.verifying_key(),
                weight: v.weight,
                style: v.style,
            })
            .collect();
        self.sign(
            &self.registrar,
            &Payload::VoterRoll(VoterRoll { batch, voters }),
        )
    }

    pub fn open(&self) -> Entry {
        self.sign(&self.authority, &Payload::OpenVoting)
    }

    pub fn close(&self) -> Entry {
        self.sign(&self.authority, &Payload::CloseVoting)
    }

    /// Random valid choices for a style.
    pub fn random_choices(&mut self, style: u16) -> Choices {
        Choices::random(&self.manifest, style, &mut self.rng)
    }

    pub fn encrypt(
        &mut self,
        voter: usize,
        choices: &Choices,
        ctx: &ElectionContext,
    ) -> (Ballot, BallotSecrets) {
        let v = &self.voters[voter];
        let style = self.manifest.ballot_styles[usize::from(v.style)].id.clone();
        let cred = v.key.verifying_key();
        encrypt_ballot(&self.manifest, &style, choices, &cred, ctx, &mut self.rng).unwrap()
    }

    pub fn ballot_entry(&self, voter: usize, ballot: Ballot) -> Entry {
        self.sign(&self.voters[voter].key, &Payload::Ballot(Box::new(ballot)))
    }

    pub fn ballot(&mut self, voter: usize, choices: &Choices, ctx: &ElectionContext) -> Entry {
        let (b, _) = self.encrypt(voter, choices, ctx);
        self.ballot_entry(voter, b)
    }

    /// A Benaloh-challenged ballot, opened honestly, and the ballot itself (which must never
    /// be cast afterwards).
    pub fn challenged(
        &mut self,
        voter: usize,
        choices: &Choices,
        ctx: &ElectionContext,
    ) -> (Entry, Ballot) {
        let (b, secrets) = self.encrypt(voter, choices, ctx);
        let openings = secrets
            .openings
            .iter()
            .map(|c| c.iter().map(|(v, r)| (*v, *r.expose())).collect())
            .collect();
        let p = Payload::ChallengedBallot(Box::new(ChallengedBallot {
            ballot: b.clone(),
            openings,
        }));
        (self.sign(&self.voters[voter].key, &p), b)
    }

    /// Trustee `i`'s key share over the qualified dealers.
    pub fn key_share(&self, i: u16, qualified: &[u16]) -> SecretScalar {
        SecretScalar::new(
            qualified
                .iter()
                .map(|d| {
                    *self.trustees[usize::from(*d - 1)]
                        .poly
                        .evaluate(i)
                        .unwrap()
                        .expose()
                })
                .sum(),
        )
    }

    /// Trustee `i`'s decryption share of the election's encrypted tally.
    pub fn decryption_share(&mut self, i: u16, e: &Election) -> Entry {
        let ctx = e.context().unwrap().clone();
        let share = self.key_share(i, e.qualified_trustees());
        let vk = ctx.verification_keys[usize::from(i - 1)];
        let tally = e.encrypted_tally().unwrap().to_vec();
        let labels = self.manifest.option_positions();
        let shares = tally
            .iter()
            .zip(labels)
            .map(|(ct, (c, o))| {
                threshold::partial_decrypt(
                    &share,
                    &vk,
                    &ct.alpha,
                    &ctx.decryption_ctx(i, c, o),
                    &mut self.rng,
                )
            })
            .collect();
        self.sign(
            &self.trustees[usize::from(i - 1)].signing,
            &Payload::DecryptionShare(DecryptionShare { trustee: i, shares }),
        )
    }

    /// The result as anyone computes it from the admitted shares.
    pub fn result_counts(&self, e: &Election) -> ElectionResult {
        let points = e.combine().unwrap();
        let flat: Vec<u64> = points
            .iter()
            .map(|p| dlog::solve_vartime(p, 1 << 32).unwrap())
            .collect();
        ElectionResult::from_tally(&self.manifest, &flat).unwrap()
    }

    pub fn result(&self, e: &Election) -> Entry {
        self.sign(&self.authority, &Payload::Result(self.result_counts(e)))
    }
}

/// Applies entries, panicking with the entry's position and rejection if one is refused.
pub fn apply_all(e: &mut Election, entries: &[Entry]) {
    for (i, entry) in entries.iter().enumerate() {
        if let Err(r) = e.apply(entry) {
            panic!("entry {i} ({}) rejected: {r}", entry.kind());
        }
    }
}

/// The tally computed in the clear: for each credential's last counted choices, weight × value.
pub fn clear_tally(m: &Manifest, ballots: &[(u32, u16, Choices)]) -> Vec<Vec<u64>> {
    let mut counts: Vec<Vec<u64>> = m
        .contests
        .iter()
        .map(|c| vec![0; c.options.len()])
        .collect();
    for (weight, _style, choices) in ballots {
        for (ci, c) in m.contests.iter().enumerate() {
            if let Some(values) = choices.0.get(&c.id) {
                for (o, v) in values.iter().enumerate() {
                    counts[ci][o] += u64::from(*weight) * u64::from(*v);
                }
            }
        }
    }
    counts
}

pub fn point_of(m: u64) -> Point {
    Point::from_point(message_point(m))
}

/// A complete small election record: 3 trustees (t = 2), 12 voters in two roll batches, every
/// voter casting a ballot, three revoting, one Benaloh challenge, trustee 3 absent at
/// decryption, and the result. Returns the entries and the tally computed in the clear.
pub struct Record {
    pub kit: Kit,
    pub entries: Vec<Entry>,
    pub expected: Vec<Vec<u64>>,
    /// Index of the challenged ballot's entry.
    pub challenged_at: usize,
}

pub fn record(seed: u64) -> Record {
    let mut kit = Kit::new(seed, Config::default());
    let mut e = Election::new();
    let mut entries = Vec::new();
    let push = |e: &mut Election, entries: &mut Vec<Entry>, x: Entry| {
        if let Err(r) = e.apply(&x) {
            panic!(
                "record entry {} ({}) rejected: {r}",
                entries.len(),
                x.kind()
            );
        }
        entries.push(x);
    };
    push(&mut e, &mut entries, kit.setup());
    for x in kit.ceremony() {
        push(&mut e, &mut entries, x);
    }
    push(&mut e, &mut entries, kit.roll(0, 0..8));
    push(&mut e, &mut entries, kit.roll(1, 8..12));
    push(&mut e, &mut entries, kit.open());
    let ctx = e.context().unwrap().clone();
    let mut last: Vec<Option<Choices>> = Vec::with_capacity(kit.voters.len());
    for v in 0..kit.voters.len() {
        let c = kit.random_choices(kit.voters[v].style);
        let x = kit.ballot(v, &c, &ctx);
        push(&mut e, &mut entries, x);
        last.push(Some(c));
    }
    let challenge_choices = kit.random_choices(kit.voters[4].style);
    let (x, _) = kit.challenged(4, &challenge_choices, &ctx);
    let challenged_at = entries.len();
    push(&mut e, &mut entries, x);
    for v in [1usize, 5, 1] {
        let c = kit.random_choices(kit.voters[v].style);
        let x = kit.ballot(v, &c, &ctx);
        push(&mut e, &mut entries, x);
        last[v] = Some(c);
    }
    push(&mut e, &mut entries, kit.close());
    for i in [2u16, 1] {
        let x = kit.decryption_share(i, &e);
        push(&mut e, &mut entries, x);
    }
    let x = kit.result(&e);
    push(&mut e, &mut entries, x);
    let ballots: Vec<(u32, u16, Choices)> = kit
        .voters
        .iter()
        .zip(&last)
        .filter_map(|(v, c)| c.clone().map(|c| (v.weight, v.style, c)))
        .collect();
    let expected = clear_tally(&kit.manifest, &ballots);
    Record {
        kit,
        entries,
        expected,
        challenged_at,
    }
}
