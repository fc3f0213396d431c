//! The observer's verification of a whole election record: the Merkle tree against the
//! board-signed checkpoint, consistency with checkpoints kept earlier, then a replay of every
//! entry through the same state machine the board runs (every signature, proof and rule), and
//! the result against the combination of the decryption shares.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod record;

pub use urna_tally::summary as results;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use urna_crypto::sign::VerifyingKey;
use urna_election::entry::{Entry, TrackingCode};
use urna_election::payload::ElectionResult;
use urna_election::state::{BallotStatus, Counts, Phase};
use urna_ledger::note::Checkpoint;
use urna_ledger::receipt::BallotReceipt;
use urna_ledger::{LogStore, MemoryLog, Replica, ReplicaError};

/// One check and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// What the witnesses the manifest names vouch for (specs/verifier.md §4).
#[derive(Debug, Clone, Default, Serialize)]
pub struct WitnessReport {
    /// Witnesses the manifest names, and how many must cosign.
    pub named: usize,
    pub quorum: usize,
    /// The witnesses whose valid cosignature the verified checkpoint carries.
    pub cosigners: Vec<String>,
    /// What each witness answered when asked for its latest cosigned checkpoint (empty when
    /// verifying a record file: nobody was asked).
    pub answers: Vec<WitnessAnswer>,
    /// The size the witnesses' answers show their quorum covers, if at least `quorum` answered.
    pub witnesses_cover: Option<u64>,
    /// The size of the board's cosigned checkpoint (`/checkpoint/cosigned`), if it serves one.
    pub board_cosigned: Option<u64>,
}

/// One witness's answer.
#[derive(Debug, Clone, Serialize)]
pub struct WitnessAnswer {
    pub name: String,
    /// The size of its latest cosigned checkpoint of this log (null: none, or no answer).
    pub size: Option<u64>,
    /// Why there is no usable answer, if so.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub verified: bool,
    pub election_id: String,
    pub title: Option<String>,
    /// The number of entries verified: the size of the checkpoint the record is under.
    pub size: u64,
    /// That checkpoint's root (hex), if its signature verified.
    pub root: Option<String>,
    /// Whether the verified entries include the published Result.
    pub includes_result: bool,
    /// The size of the board's latest (possibly not yet cosigned) checkpoint, when verifying
    /// from a board; entries past `size` were not verified.
    pub latest_size: Option<u64>,
    /// Present when the manifest names witnesses.
    pub witnesses: Option<WitnessReport>,
    pub phase: Option<Phase>,
    pub entries_by_kind: BTreeMap<String, u64>,
    pub counts: Option<Counts>,
    pub challenged: Vec<String>,
    pub result: Option<ElectionResult>,
    pub checks: Vec<Check>,
    /// The first failure: entry index (if any), its kind, and the rule or proof that failed.
    pub failure: Option<String>,
    /// Things the verification could not establish, though nothing failed.
    pub warnings: Vec<String>,
}

/// Verifies a record: the signed checkpoint `note`, the entries it covers, and checkpoints kept
/// earlier by the observer (each must be a prefix of this log).
pub fn verify(
    origin: &str,
    board_key: &VerifyingKey,
    note: &str,
    entries: Vec<Vec<u8>>,
    earlier: &[String],
    receipts: &[BallotReceipt],
    progress: &dyn Fn(u64, u64),
) -> Report {
    let mut r = Report {
        verified: false,
        election_id: origin.to_string(),
        title: None,
        size: entries.len() as u64,
        root: None,
        includes_result: false,
        latest_size: None,
        witnesses: None,
        phase: None,
        entries_by_kind: BTreeMap::new(),
        counts: None,
        challenged: Vec::new(),
        result: None,
        checks: Vec::new(),
        failure: None,
        warnings: Vec::new(),
    };
    let check = |r: &mut Report, name: &str, res: Result<String, String>| -> bool {
        let ok = res.is_ok();
        let detail = res.unwrap_or_else(|e| e);
        if !ok && r.failure.is_none() {
            r.failure = Some(format!("{name}: {detail}"));
        }
        r.checks.push(Check {
            name: name.to_string(),
            ok,
            detail,
        });
        ok
    };
    let cp = match Checkpoint::open(note, origin, board_key) {
        Ok(cp) => cp,
        Err(e) => {
            check(&mut r, "checkpoint signed by the board", Err(e.to_string()));
            return r;
        }
    };
    check(
        &mut r,
        "checkpoint signed by the board",
        Ok(format!("size {}", cp.size)),
    );
    r.root = Some(urna_crypto::hex::encode(&cp.root));
    let held = entries.len() as u64;
    let mut replica = match Replica::load(Arc::new(MemoryLog::with_entries(entries))) {
        Ok(replica) => replica,
        Err(e) => {
            check(
                &mut r,
                "Merkle tree of the entries matches the checkpoint",
                Err(e.to_string()),
            );
            return r;
        }
    };
    let root_ok = cp.size == held && replica.check(&cp).is_ok();
    if !check(
        &mut r,
        "Merkle tree of the entries matches the checkpoint",
        if root_ok {
            Ok(format!("{held} entries"))
        } else {
            Err(format!(
                "the {held} entries do not hash to the signed root of size {} (an entry was removed, added, altered or reordered)",
                cp.size
            ))
        },
    ) {
        return r;
    }
    for (k, n) in earlier.iter().enumerate() {
        let res = match Checkpoint::open(n, origin, board_key) {
            Err(e) => Err(format!("earlier checkpoint {}: {e}", k + 1)),
            Ok(old) if old.size > cp.size => Err(format!(
                "earlier checkpoint {} has size {}, larger than the log's {}",
                k + 1,
                old.size,
                cp.size
            )),
            Ok(old) if replica.check(&old).is_err() => Err(format!(
                "earlier checkpoint {} (size {}) is not a prefix of this log: the board forked its log",
                k + 1,
                old.size
            )),
            Ok(old) => Ok(format!("size {} is a prefix", old.size)),
        };
        check(&mut r, "consistent with an earlier checkpoint", res);
    }
    let first = replica.entry(0).ok().flatten();
    if let Some(m) = first.as_deref().and_then(manifest_of) {
        if !m.witnesses.is_empty() {
            let (policy, quorum) = urna_ledger::witnessed::witness_policy(&m);
            let cosigners = urna_ledger::note::cosigners(note, &policy);
            r.witnesses = Some(WitnessReport {
                named: policy.len(),
                quorum,
                cosigners: cosigners
                    .iter()
                    .flatten()
                    .map(|(i, _)| policy[*i].0.clone())
                    .collect(),
                ..WitnessReport::default()
            });
            let res = match cosigners {
                Ok(c) if c.len() >= quorum => Ok(format!(
                    "{} of {} witnesses ({} needed): {}",
                    c.len(),
                    policy.len(),
                    quorum,
                    c.iter().map(|(i, _)| policy[*i].0.as_str()).collect::<Vec<_>>().join(", ")
                )),
                Ok(c) => Err(format!(
                    "only {} valid witness cosignatures, {quorum} needed: this checkpoint may be a view shown to some and not others",
                    c.len()
                )),
                Err(e) => Err(e.to_string()),
            };
            check(&mut r, "checkpoint cosigned by the witness quorum", res);
        }
    }
    if let Err(e) = replica.replay(held, progress) {
        let detail = match e {
            ReplicaError::Malformed { index, error } => {
                format!("entry {index}: malformed: {error}")
            }
            ReplicaError::Refused {
                index,
                kind,
                rejection,
            } => format!("entry {index} ({kind}): {} — {rejection}", rejection.code()),
            e => e.to_string(),
        };
        check(
            &mut r,
            "every entry admissible under the election rules",
            Err(detail),
        );
        return r;
    }
    r.entries_by_kind = kinds(replica.store().as_ref());
    check(
        &mut r,
        "every entry admissible under the election rules",
        Ok(
            "signatures, proofs, eligibility, phases, revoting, key ceremony, decryption shares"
                .into(),
        ),
    );
    let election = replica.election();
    r.title = election.manifest().map(|m| m.title.clone());
    r.phase = Some(election.phase());
    r.counts = Some(election.counts());
    r.challenged = election
        .ballots()
        .iter()
        .filter(|b| b.status == BallotStatus::Challenged)
        .map(|b| format!("entry {} {}", b.index, TrackingCode::full(&b.tracking_code)))
        .collect();
    if !r.challenged.is_empty() {
        let n = r.challenged.len();
        check(
            &mut r,
            "challenged ballots open to the choices they claim",
            Ok(format!("{n} audited")),
        );
    }
    for (k, receipt) in receipts.iter().enumerate() {
        let res = check_receipt(receipt, board_key, &replica);
        check(&mut r, &format!("voter receipt {}", k + 1), res);
    }
    match election.phase() {
        Phase::Finished => {
            let published = election.result().cloned();
            let recomputed = urna_tally::result::compute(election).map_err(|e| e.to_string());
            let res = match (&published, recomputed) {
                (Some(p), Ok(c)) if *p == c => {
                    Ok("equals the combination of the decryption shares".into())
                }
                (_, Err(e)) => Err(e),
                _ => Err("the published result differs from the combination".into()),
            };
            check(&mut r, "result", res);
            r.includes_result = published.is_some();
            r.result = published;
        }
        p => {
            check(
                &mut r,
                "result",
                // Observers check an election while it runs, too: everything so far verifies.
                Ok(format!(
                    "not tallied yet (phase {p:?}); the log so far verifies"
                )),
            );
        }
    }
    r.verified = r.checks.iter().all(|c| c.ok);
    r
}

/// The result as a table, one block per contest, options by name (aligned by display width),
/// with shares and the winners by each contest's rule ([`results`]).
pub fn result_table(m: &urna_election::manifest::Manifest, r: &ElectionResult) -> String {
    let text = results::Summary::of_counts(m, r).to_text();
    // The title and election id head the report already.
    text.splitn(3, '\n')
        .nth(2)
        .unwrap_or_default()
        .trim_start()
        .to_string()
}

/// The manifest of a `Setup` entry's bytes.
pub fn manifest_of(entry: &[u8]) -> Option<urna_election::manifest::Manifest> {
    let e = Entry::decode(entry.to_vec()).ok()?;
    match urna_election::payload::Payload::decode(e.kind(), e.payload()).ok()? {
        urna_election::payload::Payload::Setup(m) => Some(*m),
        _ => None,
    }
}

/// A voter's receipt against the verified log: signed by this board, its checkpoint a prefix
/// of this log, its ballot at its index, and what became of it.
fn check_receipt(
    receipt: &BallotReceipt,
    board_key: &VerifyingKey,
    replica: &Replica<MemoryLog>,
) -> Result<String, String> {
    if receipt.board_key != *board_key {
        return Err("the receipt is from another board key".into());
    }
    let cp = receipt.verify_offline().map_err(|e| e.to_string())?;
    if replica.check(&cp).is_err() {
        return Err(format!(
            "the receipt's checkpoint (size {}) is not a prefix of this log: the board forked or rewrote its log",
            cp.size
        ));
    }
    let i = receipt.receipt.index;
    let code = receipt.tracking_code().full();
    let at = replica.entry(i).ok().flatten();
    match receipt.standing(at.as_deref(), replica.election()) {
        Ok(BallotStatus::Counted) => Ok(format!("ballot {code} (entry {i}) is counted")),
        Ok(BallotStatus::Superseded { by }) => Ok(format!(
            "ballot {code} (entry {i}) was superseded by the same credential's ballot at entry {by}"
        )),
        Ok(BallotStatus::Challenged) => Ok(format!(
            "ballot {code} (entry {i}) was challenged, never counted"
        )),
        Err(_) => Err(format!("entry {i} of the log is not the receipt's ballot")),
    }
}

/// How many entries of each kind the store holds.
fn kinds(store: &MemoryLog) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut at = 0;
    while at < store.len() {
        let end = (at + 4096).min(store.len());
        for e in store.read(at, end).unwrap_or_default() {
            if let Ok(e) = Entry::decode(e) {
                *out.entry(e.kind().to_string()).or_default() += 1;
            }
        }
        at = end;
    }
    out
}

impl Report {
    /// Records a check made outside [`verify`] that comes before the log's own (what the
    /// witnesses say of it): listed first, and if it fails it is *the* failure reported, since
    /// it names the cause of whatever else fails.
    pub fn check_first(&mut self, name: &str, res: Result<String, String>) {
        let ok = res.is_ok();
        let detail = res.unwrap_or_else(|e| e);
        if !ok {
            self.failure = Some(format!("{name}: {detail}"));
            self.verified = false;
        }
        self.checks.insert(
            0,
            Check {
                name: name.to_string(),
                ok,
                detail,
            },
        );
    }

    /// Records a passing check made outside [`verify`].
    pub fn pass(&mut self, name: &str, detail: String) {
        self.checks.push(Check {
            name: name.to_string(),
            ok: true,
            detail,
        });
    }

    /// The first lines of the human report: the verdict, exactly what was verified (how many
    /// entries, under whose cosignatures, whether the Result is among them), and the failure.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}: the log's first {} entries",
            if self.verified {
                "VERIFIED"
            } else {
                "NOT VERIFIED"
            },
            self.size
        );
        if let Some(w) = &self.witnesses {
            if w.cosigners.is_empty() {
                s.push_str(", under a checkpoint no witness of the manifest cosigned");
            } else {
                s.push_str(&format!(
                    ", under a checkpoint cosigned by {} ({} of {} needed)",
                    w.cosigners.join(", "),
                    w.quorum,
                    w.named
                ));
            }
        }
        s.push('\n');
        let phase = self
            .phase
            .map_or("unknown".to_string(), |p| format!("{p:?}").to_lowercase());
        s.push_str(&if self.includes_result {
            "the Result is included: the election is finished\n".to_string()
        } else {
            format!("the Result is not included (phase {phase})\n")
        });
        if let Some(latest) = self.latest_size.filter(|l| *l > self.size) {
            s.push_str(&format!(
                "the board's latest checkpoint has {latest} entries: the last {} are not yet cosigned and were not verified\n",
                latest - self.size
            ));
        }
        if let Some(f) = &self.failure {
            s.push_str(&format!("failure: {f}\n"));
        }
        for w in &self.warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
        s
    }

    /// Records a failed check found outside [`verify`] (e.g. about where the key came from).
    pub fn fail(&mut self, name: &str, detail: String) {
        if self.failure.is_none() {
            self.failure = Some(format!("{name}: {detail}"));
        }
        self.checks.push(Check {
            name: name.to_string(),
            ok: false,
            detail,
        });
        self.verified = false;
    }

    /// The human report.
    pub fn to_text(&self, manifest: Option<&urna_election::manifest::Manifest>) -> String {
        let mut s = format!(
            "election {}{}\n{} entries:",
            self.election_id,
            self.title
                .as_ref()
                .map(|t| format!(" — {t}"))
                .unwrap_or_default(),
            self.size
        );
        for (k, n) in &self.entries_by_kind {
            s.push_str(&format!(" {k} {n};"));
        }
        s.push('\n');
        if let Some(c) = &self.counts {
            s.push_str(&format!(
                "ballots: {} cast, {} counted, {} superseded, {} challenged; {} voters on the roll\n",
                c.ballots, c.counted, c.superseded, c.challenged, c.voters
            ));
        }
        for c in &self.challenged {
            s.push_str(&format!("  challenged: {c}\n"));
        }
        if let (Some(r), Some(m)) = (&self.result, manifest) {
            s.push_str(&result_table(m, r));
        }
        for c in &self.checks {
            s.push_str(&format!(
                "{} {} — {}\n",
                if c.ok { "✓" } else { "✗" },
                c.name,
                c.detail
            ));
        }
        s.push_str(if self.verified {
            "VERIFIED\n"
        } else {
            "NOT VERIFIED\n"
        });
        s
    }
}
