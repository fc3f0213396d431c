//! What a verification found: one [`Finding`] per check made, each naming its [`Check`] by a
//! stable code (specs/verifier.md §5), where it applies (an entry, a field) and what was found,
//! and the [`Report`] that gathers them with what was verified.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use urna_election::manifest::Manifest;
use urna_election::payload::ElectionResult;
use urna_election::rejection::Rejection;
use urna_election::state::{Counts, Phase};

/// One check an observer makes, in the order the report lists them. Each has a stable code —
/// what tests, scripts and other verifiers match on — and a title for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The record file is an urna record (§1): magic, bounded lengths, the count, nothing after.
    RecordFormat,
    /// From a board: no witness cosigned a checkpoint that the board's log contradicts (§4).
    WitnessesAgree,
    /// From a board: the board shows the newest checkpoint the witnesses cosigned (§4).
    WitnessFreshness,
    /// The checkpoint is a signed note by the board key (§3.1).
    CheckpointSignature,
    /// The entries hash to the checkpoint's root at its size (§3.2).
    TreeRoot,
    /// The manifest names the board key that signs the checkpoint (§2).
    BoardKey,
    /// A checkpoint the observer kept is a prefix of this log (§3.3).
    EarlierCheckpoint,
    /// The checkpoint meets the manifest's cosignature policy (§3.4).
    WitnessQuorum,
    /// Every entry is an entry envelope (§3.5).
    EntryFormat,
    /// Every entry is admissible under the election rules (§3.5); a failure names the rule.
    EntryRules,
    /// Challenged ballots open to the choices they claim (their openings are admitted).
    ChallengedBallots,
    /// A voter's receipt: its ballot is in this log, and what became of it.
    VoterReceipt,
    /// Each ranked contest: every mix and partial decryption admitted with its proof, and the
    /// published count equal to the count of the decrypted ballots (§3.6).
    RankedCount,
    /// The published result equals the combination of the decryption shares (§3.6).
    Result,
    /// `--final`: the verified log contains the Result (§3.7).
    Final,
}

impl Check {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Check::RecordFormat => "record-format",
            Check::WitnessesAgree => "witnesses-agree",
            Check::WitnessFreshness => "witness-freshness",
            Check::CheckpointSignature => "checkpoint-signature",
            Check::TreeRoot => "tree-root",
            Check::BoardKey => "board-key",
            Check::EarlierCheckpoint => "earlier-checkpoint",
            Check::WitnessQuorum => "witness-quorum",
            Check::EntryFormat => "entry-format",
            Check::EntryRules => "entry-rules",
            Check::ChallengedBallots => "challenged-ballots",
            Check::VoterReceipt => "voter-receipt",
            Check::RankedCount => "ranked-count",
            Check::Result => "result",
            Check::Final => "final",
        }
    }

    /// What the check establishes, as the human report says it.
    pub fn title(self) -> &'static str {
        match self {
            Check::RecordFormat => "the record file is an urna record",
            Check::WitnessesAgree => "the board's log agrees with what the witnesses cosigned",
            Check::WitnessFreshness => {
                "the board shows the newest checkpoint the witnesses cosigned"
            }
            Check::CheckpointSignature => "checkpoint signed by the board",
            Check::TreeRoot => "Merkle tree of the entries matches the checkpoint",
            Check::BoardKey => "the manifest names the board key that signs the log",
            Check::EarlierCheckpoint => "consistent with an earlier checkpoint",
            Check::WitnessQuorum => "checkpoint cosigned by the witness quorum",
            Check::EntryFormat => "every entry is an entry",
            Check::EntryRules => "every entry admissible under the election rules",
            Check::ChallengedBallots => "challenged ballots open to the choices they claim",
            Check::VoterReceipt => "voter receipt",
            Check::RankedCount => "ranked contest mixed, decrypted and counted with proofs",
            Check::Result => "result",
            Check::Final => "the verified log contains the Result (--final)",
        }
    }
}

/// One check's outcome: where it applies, and what was found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub code: Check,
    pub ok: bool,
    pub title: &'static str,
    /// The entry it is about (its index in the log), if one.
    pub entry: Option<u64>,
    /// The part it is about: an entry's kind, a witness's name, a receipt or kept checkpoint's
    /// position on the command line.
    pub field: Option<String>,
    /// For [`Check::EntryRules`]: the code of the rule the entry breaks (specs/election.md §7).
    pub rule: Option<&'static str>,
    pub detail: String,
}

impl Finding {
    pub fn pass(check: Check, detail: impl Into<String>) -> Finding {
        Finding {
            code: check,
            ok: true,
            title: check.title(),
            entry: None,
            field: None,
            rule: None,
            detail: detail.into(),
        }
    }

    pub fn fail(check: Check, detail: impl Into<String>) -> Finding {
        Finding {
            ok: false,
            ..Finding::pass(check, detail)
        }
    }

    /// A pass or a failure, as `res` says.
    pub fn of(check: Check, res: Result<String, String>) -> Finding {
        match res {
            Ok(d) => Finding::pass(check, d),
            Err(d) => Finding::fail(check, d),
        }
    }

    /// An entry the rules refuse.
    pub fn refused(index: u64, kind: &str, rejection: &Rejection) -> Finding {
        Finding {
            entry: Some(index),
            field: Some(kind.to_string()),
            rule: Some(rejection.code()),
            ..Finding::fail(
                Check::EntryRules,
                format!("entry {index} ({kind}): {} — {rejection}", rejection.code()),
            )
        }
    }

    pub fn at_entry(mut self, index: u64) -> Finding {
        self.entry = Some(index);
        self
    }

    pub fn in_field(mut self, field: impl Into<String>) -> Finding {
        self.field = Some(field.into());
        self
    }
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

/// Where the board key the log was checked with came from (specs/verifier.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeySource {
    /// Given by the observer (`--board-key`).
    Pinned,
    /// Taken from the record's own manifest.
    Manifest,
    /// As the board states it (then checked against its manifest).
    Board,
}

impl KeySource {
    pub fn describe(self) -> &'static str {
        match self {
            KeySource::Pinned => "pinned with --board-key",
            KeySource::Manifest => "taken from the record's own manifest (pin it with --board-key)",
            KeySource::Board => "as the board states it, checked against its manifest",
        }
    }
}

/// Everything a verification established (the JSON of `urna verify --json`, specs/verifier.md
/// §5).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub verified: bool,
    pub election_id: String,
    pub title: Option<String>,
    /// The board key the checkpoint was opened with (hex), and where it came from.
    pub board_key: Option<String>,
    pub key_source: Option<KeySource>,
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
    /// Each ranked contest's published count, once decrypted (its rounds or pairwise matrix).
    pub ranked: Vec<urna_tally::ranked::RankedResult>,
    /// Every check made, in order.
    pub findings: Vec<Finding>,
    /// The failure reported: the first failing finding.
    pub failure: Option<Finding>,
    /// Things the verification could not establish, though nothing failed.
    pub warnings: Vec<String>,
    /// The manifest of the log replayed (for rendering the result; not part of the JSON).
    #[serde(skip)]
    pub manifest: Option<Arc<Manifest>>,
}

impl Report {
    pub fn new(election_id: &str) -> Report {
        Report {
            verified: false,
            election_id: election_id.to_string(),
            title: None,
            board_key: None,
            key_source: None,
            size: 0,
            root: None,
            includes_result: false,
            latest_size: None,
            witnesses: None,
            phase: None,
            entries_by_kind: BTreeMap::new(),
            counts: None,
            challenged: Vec::new(),
            result: None,
            ranked: Vec::new(),
            findings: Vec::new(),
            failure: None,
            warnings: Vec::new(),
            manifest: None,
        }
    }

    /// Adds a finding; returns whether it passed.
    pub fn add(&mut self, f: Finding) -> bool {
        let ok = f.ok;
        self.findings.push(f);
        ok
    }

    /// The verdict: verified exactly when every finding passed; the failure reported is the
    /// first that did not (the report lists the checks that name a cause before those that
    /// fail because of it).
    pub(crate) fn conclude(mut self) -> Report {
        self.failure = self.findings.iter().find(|f| !f.ok).cloned();
        self.verified = self.failure.is_none() && !self.findings.is_empty();
        self
    }

    /// The findings of one check.
    pub fn of(&self, check: Check) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.code == check)
    }
}
