//! `urna`: one command for every role. Thin by design; the libraries hold the logic.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use urna_board::board::Board;
use urna_client::BoardClient;
use urna_crypto::hex;
use urna_crypto::sign::{SigningKey, VerifyingKey};
use urna_ledger::note::verifier_key;
use urna_serve::limits::Limits;

mod authority;
mod bench;
mod bench_ingest;
mod demo;
mod guide;
mod lang;
mod loopback;
mod node;
mod outcome;
mod report;
mod secrets;
mod trustee;
mod voter;

/// The exit statuses, as `--help` states them.
const EXIT_STATUS: &str = "Exit status: 0 done (verified); 1 no: the command ran and the answer \
is no or it could not be done (already done, the wrong phase, refused by the board, a failed check \
or verification, a party's answers that do not check out, a wrong passphrase); 2 error: bad usage or \
an input file that is not what it should be, or I/O (a file, the board unreachable); 3 (`urna \
receipt check` only) voting has closed and no checkpoint the witness quorum cosigned includes the \
ballot.\n\nPassphrases of sealed key files are asked on the terminal, or taken from URNA_PASSPHRASE.";

#[derive(Parser)]
#[command(
    name = "urna",
    version,
    about = "End-to-end verifiable elections: one command for every role",
    after_help = EXIT_STATUS
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The language of what voters read (`urna vote`, `urna tally`): en or zh-CN; default
    /// from LC_ALL, LC_MESSAGES or LANG.
    #[arg(long, global = true, value_enum)]
    lang: Option<lang::Lang>,
}

/// `--board`'s help, the same for every command.
const BOARD_HELP: &str =
    "The board's address, e.g. http://board.example:8080 (not the booth's …/booth/ page)";

#[derive(Subcommand)]
enum Command {
    /// Run a whole election on this machine, through a real board on 127.0.0.1, and verify it.
    Demo {
        /// Voters to register (some weighted, two ballot styles).
        #[arg(long, default_value_t = 200)]
        voters: usize,
        /// Witnesses cosigning the board's checkpoints (quorum: a majority); 0 for none.
        #[arg(long, default_value_t = 3)]
        witnesses: usize,
        /// Keep keys, credentials and the board's log here (an empty or new directory) instead
        /// of a temporary one.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Print one JSON object instead of the step-by-step report.
        #[arg(long)]
        json: bool,
    },
    /// The bulletin board.
    Board {
        #[command(subcommand)]
        command: BoardCommand,
    },
    /// A witness: an independent cosigner of boards' checkpoints (C2SP tlog-witness).
    Witness {
        #[command(subcommand)]
        command: WitnessCommand,
    },
    /// A validating node: a full copy of a board's log, every entry checked through the rules
    /// before it cosigns, the board's read API served from its copy.
    Node {
        #[command(subcommand)]
        command: node::NodeCommand,
    },
    /// The election authority: manifest, opening and closing the polls.
    Authority {
        #[command(subcommand)]
        command: AuthorityCommand,
    },
    /// The registrar: voter credentials, their letters, and the public roll.
    Registrar {
        #[command(subcommand)]
        command: RegistrarCommand,
    },
    /// A trustee: key material, the key ceremony, mixing ranked ballots, decryption shares.
    Trustee {
        #[command(subcommand)]
        command: TrusteeCommand,
    },
    /// A mixer that is not a trustee: its key, and mixing the ranked contests' ballots.
    Mixer {
        #[command(subcommand)]
        command: MixerCommand,
    },
    /// Combine the trustees' decryption shares, post the result and print it (with turnout,
    /// percentages and winners); after the result is posted, print it again.
    Tally {
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// A plain key file to sign the Result with (default: a fresh key; the rules check the
        /// result itself, not who posts it).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Print the result as one JSON object.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print the result as CSV: one row per option (contest, option, count, percent, winner).
        #[arg(long)]
        csv: bool,
    },
    /// Cast a ballot (or challenge one to audit the encryption).
    Vote {
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// The voter's credential file, from the registrar (its letter holds the same text).
        #[arg(long)]
        credential: PathBuf,
        /// Choices, e.g. `mayor=alice;council=dan,eve;budget=park:3,bikes:5;measure-a=yes`
        /// (or a JSON object); a ranked contest in order of preference, e.g.
        /// `board=eve>dan>write-in:Zoë Ng`. Asked contest by contest on a terminal if absent.
        #[arg(long)]
        choices: Option<String>,
        /// Challenge instead of casting: reveal the encryption's nonces, check them and publish
        /// the audited ballot (it can never be cast).
        #[arg(long)]
        challenge: bool,
        /// Where to save the receipt.
        #[arg(long, default_value = "ballot.receipt")]
        receipt: PathBuf,
        /// Print the outcome (tracking code, entry, receipt file) as one JSON object; messages
        /// go to stderr.
        #[arg(long)]
        json: bool,
        /// Download and replay the whole log before casting, as an observer does (by default
        /// only the election's entries and this credential's, each proven included in the
        /// board's signed checkpoint, are fetched: specs/board.md §5.2).
        #[arg(long)]
        full: bool,
    },
    /// Election records for observers.
    Record {
        #[command(subcommand)]
        command: RecordCommand,
    },
    /// Ballot receipts.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Measure the figures: encryption, verification, board ingest, tally, record size, and
    /// the verifiable shuffle (prove and verify, ciphertexts per second and per CPU-second).
    Bench {
        #[command(subcommand)]
        command: Option<BenchCommand>,
        /// A short run (under a minute).
        #[arg(long)]
        quick: bool,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Seal a plain key file (a hex Ed25519 seed, as `urna board init` and `urna witness init`
    /// wrote before they sealed) with a passphrase, replacing it atomically.
    SealKey {
        /// The key file holding a plain hex seed (from an older `board init` or `witness init`),
        /// sealed in place.
        #[arg(long)]
        key: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArg,
    },
    /// Re-verify a whole election, from an exported record file or from its board.
    ///
    /// From a board whose manifest names witnesses, the witnesses are asked for their latest
    /// cosigned checkpoint and the log is verified up to the newest checkpoint their quorum
    /// cosigned; a board whose cosigned checkpoint lags theirs fails as withholding. The first
    /// lines say how many entries were verified and whether the Result is among them.
    #[command(
        after_help = "Exit status: 0 verified; 1 not verified; 2 the verification could not run (usage, I/O, an unreachable board)."
    )]
    Verify {
        /// An exported record (`urna record export`); or use --board.
        record: Option<PathBuf>,
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url,
              conflicts_with = "record", required_unless_present = "record")]
        board: Option<String>,
        /// A checkpoint kept earlier (repeatable): the log must extend it.
        #[arg(long)]
        checkpoint: Vec<PathBuf>,
        /// The board's public key (hex), if obtained out of band; otherwise the key the board
        /// states, which must be the one its manifest names.
        #[arg(long)]
        board_key: Option<String>,
        /// A voter's receipt (repeatable): also confirm its ballot was counted (or superseded).
        #[arg(long)]
        voter_receipt: Vec<PathBuf>,
        /// Fail unless the verified (cosigned) log contains the Result: the election is over
        /// and its outcome is what was verified.
        #[arg(long = "final")]
        final_: bool,
        /// Print the verification report as one JSON object.
        #[arg(long)]
        json: bool,
        /// Where the ballots' `α` prefixes are spilled for the copied-ballot check, made at
        /// the end so that memory does not grow with the ballots (the same verdict; ~240 bytes
        /// of disk a ballot of ten selections, in files without a name: nothing is left).
        /// Default: the record's directory, or the temporary directory with --board.
        #[arg(long, value_name = "DIR")]
        spill_dir: Option<PathBuf>,
        /// MiB of prefixes held before a sorted run is written to the spill.
        #[arg(long, value_name = "MIB", default_value_t = urna_verifier::Spill::BUDGET >> 20)]
        spill_budget: usize,
        /// MiB of pages cached of the tables kept in the spill directory beside the prefixes:
        /// the ballot records (85 bytes of disk a ballot), the roll and the record's entry
        /// offsets (8 bytes an entry).
        #[arg(long, value_name = "MIB", default_value_t = urna_verifier::Spill::CACHE >> 20)]
        spill_cache: usize,
        /// Hold the `α` prefixes, the ballot records and the roll in memory and check each
        /// ballot as it comes, as the board does (~300 bytes a ballot of ten selections),
        /// instead of keeping them on disk.
        #[arg(long, conflicts_with = "spill_dir")]
        in_memory: bool,
    },
}

/// Where an unattended server takes its key's passphrase from.
#[derive(clap::Args)]
struct PassphraseArg {
    /// Read the key's passphrase from this file (readable only by its owner; one final newline
    /// is dropped), or from an inherited descriptor as /dev/fd/N: for servers started without a
    /// terminal. Otherwise it is taken from URNA_PASSPHRASE, or asked on the terminal.
    #[arg(long, value_name = "PATH")]
    passphrase_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum BoardCommand {
    /// Create the board's signing key, sealed with a passphrase; prints the public key for the
    /// manifest's `board` key.
    Init {
        /// Where to write the sealed key (readable only by its owner).
        #[arg(long, default_value = "board.key")]
        key: PathBuf,
        /// The election id (the log's origin): stored beside the key (`<key>.origin`) for
        /// `board serve`, and used to print the checkpoint verifier key.
        #[arg(long)]
        origin: Option<String>,
        /// Print the keys as one JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        passphrase: PassphraseArg,
        /// Also create the election's log in this PostgreSQL database (specs/storage.md), once,
        /// for `board serve --store`. An existing key at --key is used as it is.
        #[arg(long, value_name = "postgres://…", requires = "origin")]
        store: Option<String>,
        #[command(flatten)]
        standby: StandbyArg,
    },
    /// Serve the election's ledger over HTTP.
    Serve {
        /// The board's sealed signing key, from `urna board init`.
        #[arg(long, default_value = "board.key")]
        key: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArg,
        /// The election id: the log's origin and the checkpoints' key name. Default: the one
        /// `board init --origin` stored beside the key; if both are given they must agree.
        #[arg(long)]
        origin: Option<String>,
        /// Data directory holding the log and the latest checkpoint.
        #[arg(long, default_value = "board-data", conflicts_with = "store")]
        data: PathBuf,
        /// Keep the log in this PostgreSQL database instead of --data: the log of record with
        /// synchronous replication (specs/storage.md), shared by every board process of the
        /// election; one sequences, the others serve reads and forward submissions to it. A
        /// libpq URL, which may list every server: postgresql://urna@db1,db2,db3/election.
        #[arg(long, value_name = "postgres://…")]
        store: Option<String>,
        #[command(flatten)]
        standby: StandbyArg,
        /// With --store: the address the other board processes reach this one at, recorded
        /// with the lease while it sequences (default: http://<--listen>).
        #[arg(long, value_name = "URL", requires = "store")]
        advertise: Option<String>,
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Start although the checkpoint file is missing and the log is not empty, taking the
        /// log's intact entries as acknowledged history. Without it the board refuses: only an
        /// operator who knows why the checkpoint is gone should say so (specs/board.md §4).
        #[arg(long)]
        accept_log_without_checkpoint: bool,
        /// Entries between two snapshots of the rules' state, from which a restart (with
        /// --store: any board process opening the log) replays only the entries after it;
        /// 0 writes none. With --store the followers write them, the sequencer only once the
        /// stored one is twice this far behind (specs/board.md §4.1, specs/storage.md §3a).
        #[arg(long, value_name = "N", default_value_t = urna_board::board::SNAPSHOT_EVERY)]
        snapshot_every: u64,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

/// Whether a PostgreSQL log may run without a synchronous standby.
#[derive(clap::Args)]
struct StandbyArg {
    /// With --store: run without a synchronous standby. Acknowledged entries are then on one
    /// PostgreSQL server's disk only, and lost with it. Without this flag a server that cannot
    /// make every COMMIT wait for a standby is refused.
    #[arg(long)]
    no_standby: bool,
}

impl StandbyArg {
    fn durability(&self) -> urna_pgstore::Durability {
        if self.no_standby {
            urna_pgstore::Durability::SingleMachine
        } else {
            urna_pgstore::Durability::Replicated
        }
    }
}

/// The board's limits (specs/board.md §5); the defaults are `Limits::default()`'s.
#[derive(clap::Args)]
struct LimitArgs {
    /// Reads per second each client address may sustain.
    #[arg(long, alias = "rate-per-client", default_value_t = Limits::default().read_rate, value_parser = positive)]
    read_rate: f64,
    /// Reads a client address may make in a burst above its rate.
    #[arg(long, alias = "burst-per-client", default_value_t = Limits::default().read_burst, value_parser = positive)]
    read_burst: f64,
    /// Submissions per second each credential (an entry's author key) may sustain, whatever
    /// address they come from.
    #[arg(long, default_value_t = Limits::default().submit_rate, value_parser = positive)]
    submit_rate: f64,
    /// Submissions a credential may make in a burst above its rate.
    #[arg(long, default_value_t = Limits::default().submit_burst, value_parser = positive)]
    submit_burst: f64,
    /// Submissions per second from one address that are not entries, or carry a forged
    /// signature once their credential's budget is spent.
    #[arg(long, default_value_t = Limits::default().unattributed_rate, value_parser = positive)]
    unattributed_rate: f64,
    /// Such submissions an address may make in a burst.
    #[arg(long, default_value_t = Limits::default().unattributed_burst, value_parser = positive)]
    unattributed_burst: f64,
    /// Reads served at once across all clients; more are answered 503. Submissions are bounded
    /// by the writer's queue instead, so reads never starve them.
    #[arg(long, alias = "max-in-flight", default_value_t = Limits::default().max_reads_in_flight)]
    max_reads_in_flight: usize,
    /// Seconds a request (including its body) may take before it is answered 408.
    #[arg(long, default_value_t = Limits::default().timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    timeout_secs: u64,
    /// Seconds a connection may take to send a request's whole header (an idle kept-alive
    /// connection too) before it is closed.
    #[arg(long, default_value_t = Limits::default().header_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_secs: u64,
    /// Seconds a request body may take to arrive before it is answered 408 and the connection
    /// closed.
    #[arg(long, default_value_t = Limits::default().body_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout_secs: u64,
    /// Connections open at once from one address (trusted proxies are exempt); more are
    /// answered 429 and closed.
    #[arg(long, default_value_t = Limits::default().max_connections_per_address as u64, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections_per_address: u64,
    /// A reverse proxy in front of the board (an IP address or CIDR range; repeatable): only
    /// for requests from these peers is the client address taken from `Forwarded` or
    /// `X-Forwarded-For`.
    #[arg(long = "trusted-proxy", value_name = "IP or CIDR")]
    trusted_proxies: Vec<urna_serve::limits::IpNet>,
}

fn positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("{s:?} is not a positive number")),
    }
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        use std::time::Duration;
        Limits {
            read_rate: self.read_rate,
            read_burst: self.read_burst,
            submit_rate: self.submit_rate,
            submit_burst: self.submit_burst,
            unattributed_rate: self.unattributed_rate,
            unattributed_burst: self.unattributed_burst,
            max_reads_in_flight: self.max_reads_in_flight,
            timeout: Duration::from_secs(self.timeout_secs),
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            body_timeout: Duration::from_secs(self.body_timeout_secs),
            max_connections_per_address: usize::try_from(self.max_connections_per_address)
                .unwrap_or(usize::MAX),
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }
}

#[derive(Subcommand)]
enum WitnessCommand {
    /// Create the witness's Ed25519 cosigning key, sealed with a passphrase; prints the
    /// manifest's [[witnesses]] entry.
    Init {
        /// Where to write the secret key (readable only by its owner).
        #[arg(long, default_value = "witness.key")]
        key: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArg,
        /// The witness's name (its cosignature key name), e.g. witness.party-a.example.
        #[arg(long)]
        name: String,
        /// The URL the board will reach it at, for the printed manifest entry.
        #[arg(long, default_value = "http://127.0.0.1:8090")]
        url: String,
        /// Print the manifest entry's fields as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Serve add-checkpoint for the given logs, keeping durable state in --data.
    Serve {
        /// The witness's sealed cosigning key, from `urna witness init`.
        #[arg(long, default_value = "witness.key")]
        key: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArg,
        /// The witness's name, as in the manifest's [[witnesses]] entry.
        #[arg(long)]
        name: String,
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
        /// Data directory holding the latest checkpoint cosigned for each log.
        #[arg(long, default_value = "witness-data")]
        data: PathBuf,
        /// A log to witness: its checkpoint verifier key (`urna board init --origin` prints
        /// it), optionally written ORIGIN=VKEY. Repeatable.
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
    },
}

#[derive(Subcommand)]
enum AuthorityCommand {
    /// Create the authority's signing key, sealed with a passphrase; prints the public key.
    Init {
        /// Where to write the sealed key.
        #[arg(long, default_value = "authority.key")]
        key: PathBuf,
        /// Print the public key as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Validate the TOML manifest and post it as the election's first entry.
    Setup {
        /// The election's manifest (TOML; see specs/examples/manifest.toml).
        #[arg(long)]
        manifest: PathBuf,
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// The authority's sealed key file, from `urna authority init`.
        #[arg(long, default_value = "authority.key")]
        key: PathBuf,
        /// Print what was set up as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Open the polls.
    Open {
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// The authority's sealed key file.
        #[arg(long, default_value = "authority.key")]
        key: PathBuf,
        /// Print the entry posted as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Close the polls (fixes the encrypted tally).
    Close {
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// The authority's sealed key file.
        #[arg(long, default_value = "authority.key")]
        key: PathBuf,
        /// Print the entry posted as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Open and close the polls at the manifest's `opens` and `closes` times (RFC 3339, by
    /// this machine's clock): waits, posts OpenVoting, waits, posts CloseVoting. Resumable:
    /// it reads the phase from the board first, so re-running it after a stop carries on.
    Schedule {
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// The authority's sealed key file.
        #[arg(long, default_value = "authority.key")]
        key: PathBuf,
    },
    /// Serve the authority's console: a local web page to build the manifest with forms
    /// (checked as the rules check it, previewed per language), post the setup, follow the
    /// key ceremony, open and close the polls, follow turnout and the tally, and export the
    /// result. Prints the address to open, with its access token.
    Console {
        /// The authority's sealed key file (asked for its passphrase in the page, per act).
        #[arg(long, default_value = "authority.key")]
        key: PathBuf,
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        #[command(flatten)]
        serve: ConsoleArgs,
    },
    /// Phase, counts, and who is still missing.
    Status {
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// Print the status as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Where a console listens.
#[derive(clap::Args)]
struct ConsoleArgs {
    /// The address to listen on (port 0: any free port). Loopback unless --allow-public: a
    /// console holds a key.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// Allow a non-loopback --listen address, to reach the console from other machines: only
    /// over TLS (--tls-cert and --tls-key).
    #[arg(long)]
    allow_public: bool,
    /// Serve over TLS with this certificate chain (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The TLS certificate's private key (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

#[derive(Subcommand)]
enum RegistrarCommand {
    /// Create the registrar's signing key, sealed with a passphrase; prints the public key.
    Init {
        /// Where to write the sealed key.
        #[arg(long, default_value = "registrar.key")]
        key: PathBuf,
        /// Print the public key as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Issue one credential per new voter of the CSV (`voter_id[,weight][,style]`) into
    /// `--out`, and post the public roll. The CSV is checked first: every bad line is named
    /// and nothing is issued.
    Credentials {
        /// The voters: a CSV with a header `voter_id,weight,style` (weight and style optional).
        #[arg(long)]
        voters: PathBuf,
        /// Directory for the credential files (`<voter id>.credential`, readable only by their
        /// owner) and the private registry `registry.csv`.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// The registrar's sealed key file, from `urna registrar init`.
        #[arg(long, default_value = "registrar.key")]
        key: PathBuf,
        /// Also write a printable letter for each voter issued a credential now, into this
        /// directory (see `urna registrar letters`).
        #[arg(long, value_name = "DIR")]
        letters: Option<PathBuf>,
        /// The board's public address for the letters (default: --board).
        #[arg(long, value_name = "URL", value_parser = guide::board_url)]
        public_url: Option<String>,
        /// Print the counts as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Serve the registrar's console: a local web page to upload the voters CSV (checked
    /// line by line), issue the credentials and post the roll, print or download the letters,
    /// and see the roll as posted. Prints the address to open, with its access token.
    Console {
        /// The registrar's sealed key file (asked for its passphrase in the page, per act).
        #[arg(long, default_value = "registrar.key")]
        key: PathBuf,
        /// Directory for the credential files and the private registry (as `credentials
        /// --out`).
        #[arg(long, value_name = "DIR", default_value = "credentials")]
        credentials: PathBuf,
        /// Directory for the letters (as `letters --out`).
        #[arg(long, value_name = "DIR", default_value = "letters")]
        letters: PathBuf,
        /// The board's public address printed in the letters (default: --board).
        #[arg(long, value_name = "URL", value_parser = guide::board_url)]
        public_url: Option<String>,
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        #[command(flatten)]
        serve: ConsoleArgs,
    },
    /// Write one printable letter per voter (HTML, English and Simplified Chinese, print
    /// stylesheet): the election's title, how to vote, the credential as text and as a QR code.
    Letters {
        /// The directory `urna registrar credentials --out` wrote the credentials into.
        #[arg(long, value_name = "DIR")]
        credentials: PathBuf,
        /// Directory for the letters (`<voter id>.html`, readable only by their owner: each
        /// holds a secret credential).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// The board's public address printed in the letters (default: --board).
        #[arg(long, value_name = "URL", value_parser = guide::board_url)]
        public_url: Option<String>,
        /// Print the letters written as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum TrusteeCommand {
    /// Create a trustee's signing and key-ceremony keys, sealed with a passphrase
    /// (URNA_PASSPHRASE or asked); prints the public keys for the manifest.
    Init {
        /// Where to write the sealed key.
        #[arg(long, default_value = "trustee.key")]
        key: PathBuf,
        /// Print the public keys as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Serve the trustee's console: a local web page showing the public keys for the
    /// manifest, the key ceremony step by step (what each step posts, a complaint when a
    /// share is bad), then the mix and the decryption after the close. The passphrase is asked
    /// in the page for each act and never stored. Prints the address to open, with its token.
    Console {
        /// The trustee's sealed key file (updated as the ceremony goes).
        #[arg(long, default_value = "trustee.key")]
        key: PathBuf,
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        #[command(flatten)]
        serve: ConsoleArgs,
    },
    /// Take part in the key ceremony; resumable: re-run after a crash to continue.
    Ceremony {
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// The trustee's sealed key file (updated as the ceremony goes).
        #[arg(long, default_value = "trustee.key")]
        key: PathBuf,
        /// Seconds to wait for the other trustees before giving up (re-run to continue).
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
        /// Print the joint key as one JSON object; progress goes to stderr.
        #[arg(long)]
        json: bool,
    },
    /// After the polls close: post this trustee's decryption share of the tally, then (for
    /// ranked contests, once every mixer has mixed) its partial decryptions of each mixed
    /// list. Resumable: re-run after a stop to continue from what is on the ledger.
    Decrypt {
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// The trustee's sealed key file.
        #[arg(long, default_value = "trustee.key")]
        key: PathBuf,
        /// Seconds to wait for the mixers of ranked contests before giving up (re-run to
        /// continue).
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
        /// Print the outcome as one JSON object; progress goes to stderr.
        #[arg(long)]
        json: bool,
    },
    /// After the polls close: shuffle the ranked contests' ballots (re-encrypt and permute
    /// them, with a proof), in this trustee's turn as a mixer (the manifest's [[mixers]], by
    /// default the trustees in order). Waits for the mixers before it; resumable.
    Mix {
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// The trustee's sealed key file (its signing key is its mixer key).
        #[arg(long, default_value = "trustee.key")]
        key: PathBuf,
        /// Mix only this ranked contest (its id); default: every ranked contest.
        #[arg(long, value_name = "ID")]
        contest: Option<String>,
        /// Seconds to wait for the mixers before this one before giving up (re-run to continue).
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
        /// Print the mixes posted as one JSON object; progress goes to stderr.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum MixerCommand {
    /// Create a mixer's Ed25519 signing key, sealed with a passphrase; prints the manifest's
    /// [[mixers]] entry.
    Init {
        /// Where to write the sealed key.
        #[arg(long, default_value = "mixer.key")]
        key: PathBuf,
        /// The mixer's name, for the printed manifest entry.
        #[arg(long)]
        name: String,
        /// Print the manifest entry's fields as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// After the polls close: shuffle the ranked contests' ballots in this mixer's turn, with
    /// a proof. Waits for the mixers before it; resumable (a mix cut short is made again).
    Mix {
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// The mixer's sealed key file, from `urna mixer init`.
        #[arg(long, default_value = "mixer.key")]
        key: PathBuf,
        /// Mix only this ranked contest (its id); default: every ranked contest.
        #[arg(long, value_name = "ID")]
        contest: Option<String>,
        /// Seconds to wait for the mixers before this one before giving up (re-run to continue).
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
        /// Print the mixes posted as one JSON object; progress goes to stderr.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Write a large synthetic but fully valid record of plurality-10 ballots.
    Record {
        /// Ballots in the record.
        #[arg(long, default_value_t = 100_000)]
        ballots: usize,
        /// The record file to write.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Measure a board's restart at a large size: write a synthetic election of plurality-10
    /// ballots into a board data directory, write a snapshot of its rules' state --tail
    /// entries before the log's end, and restart the board from it (and, with --from-zero,
    /// from no snapshot).
    Restart {
        /// Ballots in the board's log (generated: a few milliseconds of CPU each).
        #[arg(long, default_value_t = 100_000, conflicts_with = "record")]
        ballots: usize,
        /// Take the log's entries from this record, written by `urna bench record`, instead of
        /// generating them.
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
        /// Entries after the snapshot, which the restart replays (at worst the board's
        /// --snapshot-every).
        #[arg(long, default_value_t = urna_board::board::SNAPSHOT_EVERY)]
        tail: u64,
        /// Also time a restart from zero (a replay of the whole log, no snapshot).
        #[arg(long)]
        from_zero: bool,
        /// Write nothing: reopen --dir as it is (a directory an earlier `urna bench restart`
        /// wrote, or a copy of one) and time that opening, phase by phase.
        #[arg(long, conflicts_with_all = ["record", "from_zero"])]
        existing: bool,
        /// The data directory to create (it must not exist), or with --existing to reopen.
        #[arg(long)]
        dir: PathBuf,
        /// Print the figures as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// A voter's start to verified receipt (the light session) on a board of `--ballots`
    /// ballots, whose log is written directly (see `specs/board.md` §5.2 and the README).
    Light {
        /// Ballots on the board before the measured voters cast.
        #[arg(long, default_value_t = 100_000)]
        ballots: usize,
        /// Also time voters in the browser booth against that board: headless Chromium driven
        /// by `<WEB>/test/e2e/booth.mjs` (the repository's `web/` directory, with its
        /// `node_modules`), from loading the booth to the verified receipt; then the public
        /// pages without the log: each of their ballots looked up from a fresh election page,
        /// and the ballot list's newest page (time and bytes received). With the environment
        /// variable `URNA_BENCH_FULL=1`, also the old path once: the whole log downloaded and
        /// replayed in the browser to the full ballot list.
        #[arg(long, value_name = "WEB")]
        booth: Option<PathBuf>,
        /// Take the election of this record (`urna bench record`) up to the poll's close,
        /// instead of writing `--ballots` ballots: a million in minutes (`--ballots` is then
        /// the record's).
        #[arg(long)]
        record: Option<PathBuf>,
        /// With `--record`: the board directory to write (a new one), kept afterwards.
        #[arg(long, requires = "record")]
        dir: Option<PathBuf>,
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Sustained durable ingest: a fresh board on loopback takes a record's set-up, then its
    /// ballots (already signed, so the clients do no cryptography) from concurrent clients;
    /// prints the rate, p50/p99 latency, RSS and CPU per ballot every `--every` ballots.
    Ingest {
        /// The record whose ballots to post (`urna bench record`).
        #[arg(long)]
        record: PathBuf,
        /// Concurrent loopback clients.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Ballots per reported interval.
        #[arg(long, default_value_t = 50_000)]
        every: usize,
        /// Post at most this many of the record's ballots.
        #[arg(long)]
        ballots: Option<usize>,
        /// First measure `urna bench`'s all-core verification rate over this many of the
        /// record's first ballots (0: not), to state the ingest rate against it.
        #[arg(long, default_value_t = 8192)]
        verify_sample: usize,
        /// Entries between two snapshots of the board's state, as `board serve
        /// --snapshot-every` (0: none), to measure what they cost the ingest.
        #[arg(long, value_name = "N", default_value_t = urna_board::board::SNAPSHOT_EVERY)]
        snapshot_every: u64,
        /// One JSON object (the summary and every interval) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Serve a board directory `urna bench restart` or `urna bench light --record --dir` wrote
    /// (the synthetic election's origin and board key) on a loopback port, read-only use
    /// intended: for `urna verify --board` and the booth's pages at scale. Prints the board's
    /// URL on a line, then serves until stopped (Ctrl-C).
    #[command(hide = true)]
    Serve {
        /// The board data directory.
        #[arg(long)]
        dir: PathBuf,
    },
    /// The board `bench ingest` measures, in a process of its own (started by it).
    #[command(hide = true)]
    IngestBoard {
        /// The fresh data directory of the board.
        #[arg(long)]
        dir: PathBuf,
        /// The record whose set-up the board admits before it serves.
        #[arg(long)]
        record: PathBuf,
        /// Entries between two snapshots of its state (0: none).
        #[arg(long, default_value_t = urna_board::board::SNAPSHOT_EVERY)]
        snapshot_every: u64,
    },
}

#[derive(Subcommand)]
enum RecordCommand {
    /// Download the whole log (checked against the signed checkpoint) into one record file.
    Export {
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = guide::board_url)]
        board: String,
        /// The record file to write.
        #[arg(short, long)]
        out: PathBuf,
        /// Print what was written as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Check a receipt: offline (proof and signature), or against the board's log.
    ///
    /// With --board, when the manifest names witnesses, the witnesses are asked what they
    /// cosigned, and what became of the ballot (counted, superseded, challenged) is decided only
    /// on the newest checkpoint their quorum cosigned. A ballot they have not yet confirmed is
    /// normal while voting is open (run the check again later); after the close it is a failure.
    #[command(
        after_help = "Exit status: 0 the ballot's standing was confirmed, or it is recorded and awaits the witnesses while voting is open; 1 the check failed (the receipt, the board's log or the board's cosigned view does not check out: a fork, a dropped ballot, withholding); 2 the check could not run (usage, I/O, an unreachable board); 3 voting has closed and no checkpoint the witness quorum cosigned includes the ballot."
    )]
    Check {
        /// The receipt file `urna vote` saved (or the booth downloaded).
        receipt: PathBuf,
        /// The board to check against (default: offline, the receipt's own proof only).
        #[arg(long, value_name = "URL", value_parser = guide::board_url)]
        board: Option<String>,
        /// Print the ballot's standing as one JSON object.
        #[arg(long)]
        json: bool,
        /// Download and replay the board's whole log instead of reading the ballot's
        /// credential's entries with their inclusion proofs (`GET /voter/<credential>`).
        #[arg(long, requires = "board")]
        full: bool,
    },
}

/// A client of the board at `url` that tells the person at the terminal (on stderr) when it
/// waits for a busy or unreachable board, and why.
fn client(url: &str) -> BoardClient {
    BoardClient::new(url).with_notice(|m| eprintln!("urna: {m}"))
}

fn parse_board_key(k: &str) -> Result<urna_crypto::sign::VerifyingKey> {
    hex::decode_array::<32>(k)
        .ok()
        .and_then(|k| urna_crypto::sign::VerifyingKey::from_wire(&k).ok())
        .context("--board-key is not a 32-byte hex Ed25519 key")
}

/// A progress bar on stderr, drawn only on a terminal.
pub fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}}, {{eta}} left)"
    )) {
        bar.set_style(style);
    }
    bar
}

/// What an observer takes from a board before reading its log: its latest checkpoint, a reader
/// of the log under it, and what the witnesses the manifest names say of it (a log
/// contradicting them is a finding, not an error).
pub(crate) fn observe(
    client: &BoardClient,
    origin: &str,
    stated: VerifyingKey,
    key: &VerifyingKey,
) -> Result<urna_verifier::FromBoard> {
    let o = client.observe_witnessed(origin, key)?;
    let witnessed = match o.witnessed {
        None => None,
        Some(Err(urna_client::ClientError::Misbehaved(why))) => Some(Err(why)),
        Some(Err(e)) => return Err(e.into()),
        Some(Ok(v)) => Some(Ok(v)),
    };
    Ok(urna_verifier::FromBoard {
        origin: origin.to_string(),
        stated_key: stated,
        latest_note: o.note,
        first: o.first,
        read: entry_reader(client.clone(), o.checkpoint.size),
        witnessed,
    })
}

/// Reads a board's log of `size` entries a chunk at a time, from its tiles.
fn entry_reader(client: BoardClient, size: u64) -> urna_verifier::ReadEntries {
    Box::new(move |start, end| {
        client
            .read_entries(start, end, size)
            .map_err(|e| e.to_string())
    })
}

#[allow(clippy::too_many_arguments)]
fn verify_cmd(
    record: Option<&std::path::Path>,
    board: Option<&str>,
    checkpoints: &[PathBuf],
    board_key: Option<&str>,
    receipts: &[PathBuf],
    final_: bool,
    json: bool,
    spill: Option<urna_verifier::Spill>,
) -> Result<bool> {
    let opts = urna_verifier::Options {
        key: board_key.map(parse_board_key).transpose()?,
        earlier: checkpoints
            .iter()
            .map(|p| secrets::read_public(p))
            .collect::<Result<_>>()?,
        receipts: receipts
            .iter()
            .map(|p| {
                urna_ledger::receipt::BallotReceipt::parse(&secrets::read_public(p)?)
                    .map_err(|e| guide::bad_input(format!("{}: {e}", p.display())))
            })
            .collect::<Result<_>>()?,
        require_result: final_,
        spill,
    };
    let bar = progress_bar(0, "entries replayed");
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let report = match (record, board) {
        (Some(path), _) => {
            let f =
                std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
            urna_verifier::verify_record(&mut std::io::BufReader::new(f), &opts, &progress)
                .with_context(|| format!("reading {}", path.display()))?
        }
        (None, Some(url)) => {
            let client = client(url);
            let (origin, stated) = client.stated_key()?;
            let key = opts.key.unwrap_or(stated);
            let fetched = observe(&client, &origin, stated, &key)?;
            urna_verifier::verify_board(fetched, &opts, &progress)?
        }
        (None, None) => bail!("give a record file or --board"),
    };
    bar.finish_and_clear();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report::summary(&report));
        print!("{}", report::body(&report));
    }
    Ok(report.verified)
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("{}", outcome::describe(&e));
            std::process::ExitCode::from(outcome::code(&e))
        }
    }
}

/// Prints a JSON value, pretty.
fn print_json(v: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Runs a command; `Ok` carries the exit code of a command that ran to its answer.
fn run(cli: Cli) -> Result<u8> {
    let l = lang::Lang::pick(cli.lang);
    match cli.command {
        Command::Demo {
            voters,
            witnesses,
            data,
            json,
        } => {
            if !demo::run(&demo::Options {
                voters,
                witnesses,
                data,
                json,
            })? {
                return Err(outcome::CheckFailed("the demo election did not verify".into()).into());
            }
            Ok(0)
        }
        Command::Board { command } => board_cmd(command).map(|()| 0),
        Command::SealKey { key, passphrase } => {
            let plain = secrets::read_plain_key(&key)?;
            let pass = secrets::passphrase_from(
                &key.display().to_string(),
                true,
                passphrase.passphrase_file.as_deref(),
            )?;
            secrets::seal_key(&key, &plain, pass.as_bytes(), false)?;
            println!(
                "{} is sealed (public key {})",
                key.display(),
                hex::encode(plain.verifying_key().as_bytes())
            );
            Ok(0)
        }
        Command::Bench {
            command: Some(BenchCommand::Record { ballots, out }),
            ..
        } => bench::record(ballots, &out, &|m| println!("{m}")).map(|()| 0),
        Command::Bench {
            command:
                Some(BenchCommand::Restart {
                    existing: true,
                    dir,
                    json,
                    ..
                }),
            ..
        } => bench::reopen(&dir, json).map(|()| 0),
        Command::Bench {
            command:
                Some(BenchCommand::Restart {
                    ballots,
                    record,
                    tail,
                    from_zero,
                    dir,
                    json,
                    ..
                }),
            ..
        } => bench::restart(
            bench::RestartOptions {
                ballots,
                record: record.as_deref(),
                tail,
                from_zero,
            },
            &dir,
            json,
        )
        .map(|()| 0),
        Command::Bench {
            command:
                Some(BenchCommand::Light {
                    ballots,
                    booth,
                    record,
                    dir,
                    json,
                }),
            ..
        } => {
            let say = |m: &str| eprintln!("{m}");
            let l = match record {
                Some(r) => bench::light_record(&r, dir.as_deref(), booth.as_deref(), &say)?,
                None => bench::light(ballots, booth.as_deref(), &say)?,
            };
            let booth_median = (!l.booth_ms.is_empty()).then(|| bench::median(l.booth_ms.clone()));
            let v = serde_json::json!({
                "ballots": l.ballots,
                "entries": l.entries,
                "log_bytes": l.log_bytes,
                "build_s": (l.build_s * 10.0).round() / 10.0,
                "board_open_s": (l.open_s * 10.0).round() / 10.0,
                "vote_to_receipt_ms": (l.vote_to_receipt_ms * 10.0).round() / 10.0,
                "view_ms": (l.view_ms * 10.0).round() / 10.0,
                "prepare_ms": (l.prepare_ms * 10.0).round() / 10.0,
                "cast_ms": (l.cast_ms * 10.0).round() / 10.0,
                "voter_view_bytes": l.view_bytes,
                "booth_vote_to_receipt_ms": l.booth_ms,
                "booth_vote_to_receipt_median_ms": booth_median,
                "booth_steps_ms": l.booth_steps,
                "booth_public": l.booth_public,
            });
            if json {
                println!("{v}");
            } else {
                println!(
                    "{} ballots ({} entries, {} bytes of log): a voter's start to verified receipt {:.1} ms (median of 16: view {:.1} ms, ballot {:.1} ms, cast {:.1} ms; the voter's view is {} bytes); the board opened in {:.1} s",
                    l.ballots, l.entries, l.log_bytes, l.vote_to_receipt_ms, l.view_ms, l.prepare_ms, l.cast_ms, l.view_bytes, l.open_s
                );
                if let Some(m) = booth_median {
                    println!(
                        "the booth (headless Chromium), from loading it to the verified receipt: median {m:.0} ms of {} voters ({:?} ms)",
                        l.booth_ms.len(),
                        l.booth_ms
                    );
                    println!(
                        "the public pages without the log: a ballot looked up from a fresh election page {} ms, {} bytes; the ballot list's newest page {} ms, {} bytes",
                        l.booth_public["lookup_ms"], l.booth_public["lookup_bytes"], l.booth_public["ballots_page_ms"], l.booth_public["ballots_page_bytes"]
                    );
                }
            }
            Ok(0)
        }
        Command::Bench {
            command:
                Some(BenchCommand::Ingest {
                    record,
                    clients,
                    every,
                    ballots,
                    verify_sample,
                    snapshot_every,
                    json: own_json,
                }),
            json,
            ..
        } => bench_ingest::ingest(bench_ingest::Options {
            record: &record,
            clients: clients.max(1),
            every: every.max(1),
            limit: ballots,
            verify_sample,
            snapshot_every,
            json: json || own_json,
        })
        .map(|()| 0),
        Command::Bench {
            command: Some(BenchCommand::Serve { dir }),
            ..
        } => {
            urna_verifier::malloc::exec_tuned();
            bench::serve_dir(&dir).map(|()| 0)
        }
        Command::Bench {
            command:
                Some(BenchCommand::IngestBoard {
                    dir,
                    record,
                    snapshot_every,
                }),
            ..
        } => {
            // The board as `board serve` runs it, allocator tuning included.
            urna_verifier::malloc::exec_tuned();
            bench_ingest::board_process(&dir, &record, snapshot_every).map(|()| 0)
        }
        Command::Bench {
            command: None,
            quick,
            json,
        } => bench::run(quick, json).map(|()| 0),
        Command::Authority { command } => authority_cmd(command),
        Command::Witness { command } => witness_cmd(command).map(|()| 0),
        Command::Node { command } => node::run(command).map(|()| 0),
        Command::Registrar { command } => registrar_cmd(command).map(|()| 0),
        Command::Trustee { command } => trustee_cmd(command),
        Command::Mixer { command } => mixer_cmd(command),
        Command::Tally {
            board,
            key,
            json,
            csv,
        } => {
            let signer = key.as_deref().map(secrets::read_plain_key).transpose()?;
            let (e, r, posted) = trustee::tally(&client(&board), signer)?;
            let m = e.manifest().context("the board holds no election")?;
            let mut summary = urna_tally::summary::Summary::new(m, &r, &e);
            summary.name_in(m, l.tag(), |c, o| l.option_name(c, o));
            if json {
                let mut v = summary.to_json();
                v["posted"] = serde_json::json!(posted);
                print_json(&v)?;
            } else if csv {
                print!("{}", summary.to_csv());
            } else {
                if !posted {
                    println!("the result is on the ledger already; as it stands:\n");
                }
                print!("{}", summary.to_text());
            }
            Ok(0)
        }
        Command::Vote {
            board,
            credential,
            choices,
            challenge,
            receipt,
            json,
            full,
        } => {
            let cred =
                urna_voter::credential::Credential::parse(&secrets::read_secret(&credential)?)
                    .map_err(|e| guide::bad_input(format!("{}: {e}", credential.display())))?;
            let opts = voter::VoteOptions {
                choices: choices.as_deref(),
                challenge,
                receipt_out: Some(&receipt),
                lang: l,
                full,
            };
            let mut say = |m: &str| {
                if json {
                    eprintln!("{m}")
                } else {
                    println!("{m}")
                }
            };
            let outcome = voter::vote(&client(&board), &cred, &opts, &mut say)?;
            match outcome {
                voter::Outcome::Cast(r) => {
                    if json {
                        print_json(&serde_json::json!({
                            "cast": true,
                            "tracking_code": r.tracking_code().full(),
                            "entry": r.receipt.index,
                            "receipt": receipt,
                        }))?;
                    } else {
                        println!(
                            "{} {}",
                            l.say("receipt saved to", "回执已保存到"),
                            receipt.display()
                        );
                    }
                }
                voter::Outcome::Challenged(code) => {
                    if json {
                        print_json(&serde_json::json!({
                            "cast": false,
                            "challenged": true,
                            "tracking_code": code.full(),
                        }))?;
                    }
                }
            }
            Ok(0)
        }
        Command::Receipt {
            command:
                ReceiptCommand::Check {
                    receipt,
                    board,
                    json,
                    full,
                },
        } => {
            let (text, standing, status) = voter::check_receipt(&receipt, board.as_deref(), full)?;
            if json {
                let r =
                    urna_voter::receipt::BallotReceipt::parse(&secrets::read_public(&receipt)?)?;
                print_json(&serde_json::json!({
                    "tracking_code": r.tracking_code().full(),
                    "entry": r.receipt.index,
                    "checked_against_board": board.is_some(),
                    "standing": standing,
                    "confirmed_by_witnesses": status == 0 && standing.is_some(),
                    "report": text.lines().collect::<Vec<_>>(),
                }))?;
            } else {
                println!("{text}");
            }
            Ok(status)
        }
        Command::Record {
            command: RecordCommand::Export { board, out, json },
        } => {
            let client = client(&board);
            let (origin, key) = client.stated_key()?;
            let o = observe(&client, &origin, key, &key)?;
            let latest = urna_ledger::note::Checkpoint::open(&o.latest_note, &origin, &key)?;
            let t = urna_verifier::target(&o.latest_note, latest.size, &o.witnessed);
            if let Some(p) = &t.problem {
                return Err(outcome::CheckFailed(format!("{}: {}", p.title, p.detail)).into());
            }
            if let Some(Ok(v)) = &o.witnessed {
                if !v
                    .covered
                    .as_ref()
                    .is_some_and(|c| c.checkpoint.size == t.size)
                {
                    return Err(outcome::CheckFailed(format!(
                        "no checkpoint carries the cosignatures of {} of the witnesses yet; export later",
                        v.quorum
                    ))
                    .into());
                }
            }
            let tmp = out.with_extension("tmp");
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(&tmp)
                    .with_context(|| format!("creating {}", tmp.display()))?,
            );
            // Streamed: each chunk checked onto a tree against the checkpoint as it is written.
            let cp = urna_ledger::note::Checkpoint::open(&t.note, &origin, &key)?;
            let read = o.read;
            // Its right edge only: the root at t.size is all that is compared.
            let mut tree = urna_ledger::merkle::Tree::frontier([]);
            urna_verifier::record::write_header(&mut f, &t.note, t.size)?;
            let mut at = 0;
            while at < t.size {
                let end = (at + urna_verifier::CHUNK).min(t.size);
                let chunk = read(at, end).map_err(anyhow::Error::msg)?;
                if chunk.len() as u64 != end - at {
                    bail!("the board served {} entries for {at}..{end}", chunk.len());
                }
                for e in &chunk {
                    tree.push(urna_ledger::merkle::leaf_hash(e));
                    urna_verifier::record::write_entry(&mut f, e)?;
                }
                at = end;
            }
            if tree.root(t.size).ok() != Some(cp.root) {
                return Err(outcome::CheckFailed(
                    "the entries the board served do not hash to its checkpoint".into(),
                )
                .into());
            }
            f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&tmp, &out)?;
            let bytes = std::fs::metadata(&out)?.len();
            if json {
                print_json(&serde_json::json!({
                    "entries": t.size,
                    "bytes": bytes,
                    "checkpoint_size": t.size,
                    "out": out,
                }))?;
            } else {
                println!(
                    "{} entries ({bytes} bytes) under the checkpoint of size {} written to {}",
                    t.size,
                    t.size,
                    out.display()
                );
            }
            Ok(0)
        }
        Command::Verify {
            record,
            board,
            checkpoint,
            board_key,
            voter_receipt,
            final_,
            json,
            spill_dir,
            spill_budget,
            spill_cache,
            in_memory,
        } => {
            // Under glibc, exec again with its allocator tuned to hold the memory bound
            // (urna_verifier::malloc): the same process, so its exit status and signals are its own.
            urna_verifier::malloc::exec_tuned();
            // Beside the record by default: it is on a disk large enough for the record, where
            // the temporary directory may be memory (tmpfs).
            let beside = record.as_deref().map(|r| match r.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            });
            let spill = (!in_memory).then(|| urna_verifier::Spill {
                dir: spill_dir.or(beside).unwrap_or_else(std::env::temp_dir),
                budget: spill_budget.saturating_mul(1 << 20),
                cache: spill_cache.saturating_mul(1 << 20),
            });
            let verified = verify_cmd(
                record.as_deref(),
                board.as_deref(),
                &checkpoint,
                board_key.as_deref(),
                &voter_receipt,
                final_,
                json,
                spill,
            )?;
            Ok(if verified { 0 } else { outcome::NO })
        }
    }
}

fn registrar_cmd(command: RegistrarCommand) -> Result<()> {
    match command {
        RegistrarCommand::Console {
            key,
            credentials,
            letters,
            public_url,
            board,
            serve,
        } => {
            let public_url = public_url.unwrap_or_else(|| board.clone());
            let role = urna_console::Role::Registrar {
                key,
                credentials,
                letters,
                public_url,
            };
            return console_cmd(role, board, serve).map(|_| ());
        }
        RegistrarCommand::Init { key, json } => {
            let pass = secrets::passphrase(&key.display().to_string(), true)?;
            let k = secrets::init_sealed_key(&key, pass.as_bytes())?;
            let public = hex::encode(k.verifying_key().as_bytes());
            if json {
                print_json(&serde_json::json!({ "registrar": public }))?;
            } else {
                println!("registrar public key (manifest [keys] registrar): {public}");
            }
        }
        RegistrarCommand::Credentials {
            voters,
            out,
            board,
            key,
            letters,
            public_url,
            json,
        } => {
            let client = client(&board);
            let k = secrets::open_sealed_key_asking(&key)?;
            let issued = voter::credentials(&client, &voters, &out, &k)?;
            let written = match &letters {
                Some(dir) => voter::letters(
                    &client,
                    &out,
                    dir,
                    public_url.as_deref().unwrap_or(&board),
                    Some(&issued.ids),
                )?,
                None => 0,
            };
            if json {
                print_json(&serde_json::json!({
                    "issued": issued.ids.len(),
                    "roll_batches_posted": issued.posted,
                    "out": out,
                    "letters": written,
                }))?;
            } else {
                println!(
                    "{} credential(s) issued into {}; {} roll batch(es) posted",
                    issued.ids.len(),
                    out.display(),
                    issued.posted
                );
                if let Some(dir) = &letters {
                    println!("{written} letter(s) written into {}", dir.display());
                }
            }
        }
        RegistrarCommand::Letters {
            credentials,
            out,
            board,
            public_url,
            json,
        } => {
            let client = client(&board);
            let n = voter::letters(
                &client,
                &credentials,
                &out,
                public_url.as_deref().unwrap_or(&board),
                None,
            )?;
            if json {
                print_json(&serde_json::json!({ "letters": n, "out": out }))?;
            } else {
                println!(
                    "{n} letter(s) written into {} (each holds a secret credential: print, then delete)",
                    out.display()
                );
            }
        }
    }
    Ok(())
}

/// Creates a cosigner's sealed Ed25519 key (a witness's, or a validating node's with
/// `role = Some("node")`) and prints its `[[witnesses]]` entry for the manifest.
pub(crate) fn init_cosigner(
    key: &std::path::Path,
    passphrase: &PassphraseArg,
    name: &str,
    url: &str,
    json: bool,
    role: Option<&str>,
) -> Result<()> {
    let pass = secrets::passphrase_from(
        &key.display().to_string(),
        true,
        passphrase.passphrase_file.as_deref(),
    )?;
    let k = secrets::init_sealed_key(key, pass.as_bytes())?;
    let public = hex::encode(k.verifying_key().as_bytes());
    if json {
        let mut entry = serde_json::json!({ "name": name, "key": public, "url": url });
        if let Some(role) = role {
            entry["role"] = role.into();
        }
        print_json(&entry)?;
    } else {
        let role = role
            .map(|r| format!("\nrole = \"{r}\""))
            .unwrap_or_default();
        println!(
            "for the manifest:\n[[witnesses]]\nname = \"{name}\"\nkey = \"{public}\"\nurl = \"{url}\"{role}"
        );
    }
    Ok(())
}

fn witness_cmd(command: WitnessCommand) -> Result<()> {
    match command {
        WitnessCommand::Init {
            key,
            passphrase,
            name,
            url,
            json,
        } => init_cosigner(&key, &passphrase, &name, &url, json, None),
        WitnessCommand::Serve {
            key,
            passphrase,
            name,
            listen,
            data,
            logs,
        } => {
            let key = secrets::open_sealed_key_from(&key, passphrase.passphrase_file.as_deref())?;
            let mut known = std::collections::BTreeMap::new();
            for l in &logs {
                let vkey = l.split_once('=').map_or(l.as_str(), |(_, v)| v);
                let (origin, k) = urna_ledger::note::parse_vkey(vkey)
                    .with_context(|| format!("--log {l}: not a verifier key name+id+key"))?;
                if let Some((o, _)) = l.split_once('=') {
                    if o != origin {
                        bail!("--log {l}: the verifier key is for {origin}, not {o}");
                    }
                }
                known.insert(origin, k);
            }
            let w = std::sync::Arc::new(urna_witness::Witness::open(&data, &name, key, known)?);
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(async move {
                    let listener = tokio::net::TcpListener::bind(listen).await?;
                    eprintln!("urna witness {name}: listening on {listen}");
                    // The board's header timeout and per-address connection limit.
                    urna_serve::listen::serve(
                        listener,
                        urna_witness::router(w),
                        &Limits::default(),
                        async {
                            let _ = tokio::signal::ctrl_c().await;
                        },
                    )
                    .await?;
                    Ok(())
                })
        }
    }
}

/// Serves a console until interrupted, printing the address to open (with its access token)
/// on stdout.
fn console_cmd(role: urna_console::Role, board: String, args: ConsoleArgs) -> Result<u8> {
    let usage = |e: String| anyhow::Error::new(outcome::Usage(e));
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            Some(urna_console::tls::acceptor(cert, key).map_err(|e| usage(e.to_string()))?)
        }
        _ => None,
    };
    urna_console::check_listen(&args.listen, args.allow_public, tls.is_some())
        .map_err(|e| usage(e.to_string()))?;
    let name = role.name();
    let token = urna_console::new_token();
    let app = urna_console::app(urna_console::Console {
        role,
        board,
        token: token.clone(),
        tls: tls.is_some(),
        public: !args.listen.ip().is_loopback(),
    });
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(args.listen).await?;
            let at = listener.local_addr()?;
            let host = if at.is_ipv6() {
                format!("[{}]", at.ip())
            } else {
                at.ip().to_string()
            };
            let scheme = if tls.is_some() { "https" } else { "http" };
            println!("{scheme}://{host}:{}/?token={token}", at.port());
            eprintln!(
                "urna {name} console: open the address above in a browser{} (it holds the access token: keep it to yourself); Ctrl-C stops the console",
                if at.ip().is_loopback() { " on this machine" } else { ", with this machine's name in place of the address" }
            );
            use std::io::Write as _;
            std::io::stdout().flush()?;
            let stop = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            match tls {
                Some(acceptor) => {
                    let listener = urna_console::tls::TlsListener {
                        tcp: listener,
                        acceptor,
                    };
                    urna_console::serve(listener, app, stop).await?;
                }
                None => urna_console::serve(listener, app, stop).await?,
            }
            Ok(0)
        })
}

fn authority_cmd(command: AuthorityCommand) -> Result<u8> {
    match command {
        AuthorityCommand::Console { key, board, serve } => {
            return console_cmd(urna_console::Role::Authority { key }, board, serve);
        }
        AuthorityCommand::Init { key, json } => {
            let pass = secrets::passphrase(&key.display().to_string(), true)?;
            let k = secrets::init_sealed_key(&key, pass.as_bytes())?;
            let public = hex::encode(k.verifying_key().as_bytes());
            if json {
                print_json(&serde_json::json!({ "authority": public }))?;
            } else {
                println!("authority public key (manifest [keys] authority): {public}");
            }
        }
        AuthorityCommand::Setup {
            manifest,
            board,
            key,
            json,
        } => {
            let k = secrets::open_sealed_key_asking(&key)?;
            let (m, i) = authority::setup(&client(&board), &manifest, &k)?;
            if json {
                print_json(&serde_json::json!({
                    "election_id": m.election_id,
                    "title": m.title,
                    "manifest_hash": hex::encode(&m.hash()),
                    "entry": i,
                    "trustees": m.trustees.len(),
                    "threshold": m.threshold,
                    "contests": m.contests.len(),
                }))?;
            } else {
                println!(
                    "election {} set up (entry {i}): {} trustees (threshold {}), {} contests; the trustees run `urna trustee ceremony` next",
                    m.election_id,
                    m.trustees.len(),
                    m.threshold,
                    m.contests.len()
                );
            }
        }
        AuthorityCommand::Open { board, key, json } => {
            let k = secrets::open_sealed_key_asking(&key)?;
            let i = authority::open(&client(&board), &k)?;
            if json {
                print_json(&serde_json::json!({ "opened": true, "entry": i }))?;
            } else {
                println!("polls open (entry {i})");
            }
        }
        AuthorityCommand::Close { board, key, json } => {
            let k = secrets::open_sealed_key_asking(&key)?;
            let i = authority::close(&client(&board), &k)?;
            if json {
                print_json(&serde_json::json!({ "closed": true, "entry": i }))?;
            } else {
                println!("polls closed (entry {i}); the encrypted tally is fixed; the trustees run `urna trustee decrypt` next");
            }
        }
        AuthorityCommand::Schedule { board, key } => {
            let k = secrets::open_sealed_key_asking(&key)?;
            authority::schedule(&client(&board), &k, &mut |m| println!("{m}"))?;
        }
        AuthorityCommand::Status { board, json } => {
            let s = authority::status(&client(&board))?;
            if json {
                print_json(&serde_json::to_value(&s)?)?;
            } else {
                print!("{}", authority::status_text(&s));
            }
        }
    }
    Ok(0)
}

fn trustee_cmd(command: TrusteeCommand) -> Result<u8> {
    match command {
        TrusteeCommand::Console { key, board, serve } => {
            return console_cmd(urna_console::Role::Trustee { key }, board, serve);
        }
        TrusteeCommand::Init { key, json } => {
            let pass = secrets::passphrase(&key.display().to_string(), true)?;
            let k = trustee::init(&key, pass.as_bytes())?;
            if json {
                print_json(&serde_json::json!({
                    "signing_key": hex::encode(k.verifying_key().as_bytes()),
                    "ceremony_key": hex::encode(k.ceremony_key().as_bytes()),
                }))?;
            } else {
                println!("trustee key sealed in {}", key.display());
                println!(
                    "for the manifest's [[trustees]] entry:\n{}",
                    trustee::describe(&k)
                );
            }
        }
        TrusteeCommand::Ceremony {
            board,
            key,
            timeout,
            json,
        } => {
            let pass = secrets::passphrase(&key.display().to_string(), false)?;
            let mut k = trustee::open(&key, pass.as_bytes())?;
            let joint = trustee::ceremony(
                &client(&board),
                &key,
                &mut k,
                pass.as_bytes(),
                std::time::Duration::from_secs(timeout),
                &mut |m| eprintln!("urna trustee: {m}"),
            )?;
            let joint = hex::encode(joint.as_bytes());
            if json {
                print_json(&serde_json::json!({ "joint_key": joint }))?;
            } else {
                println!("key ceremony complete; joint election key {joint}");
            }
        }
        TrusteeCommand::Decrypt {
            board,
            key,
            timeout,
            json,
        } => {
            let pass = secrets::passphrase(&key.display().to_string(), false)?;
            let mut k = trustee::open(&key, pass.as_bytes())?;
            let done = trustee::decrypt(
                &client(&board),
                &mut k,
                std::time::Duration::from_secs(timeout),
                &mut |m| eprintln!("urna trustee: {m}"),
            )?;
            if json {
                print_json(&serde_json::json!({
                    "posted": done.posted(),
                    "tally_share": done.tally_share,
                    "ranked_entries": done.ranked_entries,
                }))?;
            } else if done.posted() {
                println!(
                    "decryption done: {}{}",
                    if done.tally_share {
                        "the share of the tally posted"
                    } else {
                        "the share of the tally was on the ledger already"
                    },
                    if done.ranked_entries > 0 {
                        format!(
                            "; {} entries of partial decryptions of ranked contests posted",
                            done.ranked_entries
                        )
                    } else {
                        String::new()
                    }
                );
            } else {
                println!(
                    "this trustee's decryption shares are already on the ledger; nothing to do"
                );
            }
            if !done.posted() {
                return Ok(outcome::NO);
            }
        }
        TrusteeCommand::Mix {
            board,
            key,
            contest,
            timeout,
            json,
        } => {
            let pass = secrets::passphrase(&key.display().to_string(), false)?;
            let k = trustee::open(&key, pass.as_bytes())?;
            return mix_cmd(&board, k.signing_key(), contest.as_deref(), timeout, json);
        }
    }
    Ok(0)
}

fn mixer_cmd(command: MixerCommand) -> Result<u8> {
    match command {
        MixerCommand::Init { key, name, json } => {
            let pass = secrets::passphrase(&key.display().to_string(), true)?;
            let k = secrets::init_sealed_key(&key, pass.as_bytes())?;
            let public = hex::encode(k.verifying_key().as_bytes());
            if json {
                print_json(&serde_json::json!({ "name": name, "key": public }))?;
            } else {
                println!("for the manifest (mixers in chain order):\n[[mixers]]\nname = \"{name}\"\nkey = \"{public}\"");
            }
            Ok(0)
        }
        MixerCommand::Mix {
            board,
            key,
            contest,
            timeout,
            json,
        } => {
            let k = secrets::open_sealed_key_asking(&key)?;
            mix_cmd(&board, &k, contest.as_deref(), timeout, json)
        }
    }
}

/// `trustee mix` and `mixer mix`: the same mixer's loop, with a trustee's or a mixer's key.
fn mix_cmd(
    board: &str,
    key: &SigningKey,
    contest: Option<&str>,
    timeout: u64,
    json: bool,
) -> Result<u8> {
    let done = trustee::mix(
        &client(board),
        key,
        contest,
        std::time::Duration::from_secs(timeout),
        &mut |m| eprintln!("urna mix: {m}"),
    )?;
    if json {
        print_json(&serde_json::json!({
            "posted": !done.mixes.is_empty(),
            "mixes": done.mixes.iter().map(|(c, n)| serde_json::json!({"contest": c, "entries": n})).collect::<Vec<_>>(),
        }))?;
    } else if done.mixes.is_empty() {
        println!("this mixer's mixes are on the ledger already; nothing to do");
    } else {
        for (c, n) in &done.mixes {
            println!("contest {c}: mix posted ({n} entries)");
        }
    }
    Ok(if done.mixes.is_empty() {
        outcome::NO
    } else {
        0
    })
}

fn board_cmd(command: BoardCommand) -> Result<()> {
    match command {
        BoardCommand::Init {
            key,
            origin,
            json,
            passphrase,
            store,
            standby,
        } => {
            let k = if store.is_some() && key.exists() {
                secrets::open_sealed_key_from(&key, passphrase.passphrase_file.as_deref())?
            } else {
                let pass = secrets::passphrase_from(
                    &key.display().to_string(),
                    true,
                    passphrase.passphrase_file.as_deref(),
                )?;
                secrets::init_sealed_key(&key, pass.as_bytes())?
            };
            if let (Some(url), Some(o)) = (&store, &origin) {
                let identity = urna_pgstore::Identity {
                    origin: o.clone(),
                    board_key: *k.verifying_key().as_bytes(),
                };
                let opts = urna_pgstore::Options {
                    durability: standby.durability(),
                    create: true,
                    ..urna_pgstore::Options::default()
                };
                let s = urna_pgstore::PgStore::open(url, identity, opts)
                    .map_err(|e| anyhow::anyhow!("{e} [{}]", e.code()))?;
                eprintln!(
                    "urna board: the log of {o} is in the database ({} entries); {}",
                    s.len(),
                    s.guarantee().map(|g| g.to_string()).unwrap_or_default()
                );
            }
            let public = hex::encode(k.verifying_key().as_bytes());
            let vkey = origin.as_ref().map(|o| verifier_key(o, &k.verifying_key()));
            if let Some(o) = &origin {
                secrets::write_secret(&origin_file(&key), &format!("{o}\n"), false)?;
            }
            if json {
                print_json(&serde_json::json!({
                    "board": public,
                    "origin": origin,
                    "verifier_key": vkey,
                }))?;
            } else {
                println!("board public key (manifest [keys] board): {public}");
                if let Some(v) = vkey {
                    println!("checkpoint verifier key: {v}");
                }
            }
            Ok(())
        }
        BoardCommand::Serve {
            key,
            passphrase,
            origin,
            data,
            store,
            standby,
            advertise,
            listen,
            accept_log_without_checkpoint,
            snapshot_every,
            limits,
        } => {
            // Before anything is read (a passphrase from the terminal): the board's threads free
            // buffers other threads allocated, as the verifier's do (urna_verifier::malloc).
            urna_verifier::malloc::exec_tuned();
            let origin = serve_origin(&key, origin)?;
            let key = secrets::open_sealed_key_from(&key, passphrase.passphrase_file.as_deref())?;
            let opts = urna_board::board::OpenOptions {
                accept_log_without_checkpoint,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            match store {
                Some(url) => {
                    let cfg = urna_board::server::replicated::Config {
                        url,
                        origin,
                        key,
                        durability: standby.durability(),
                        advertise: advertise.unwrap_or_else(|| format!("http://{listen}")),
                        snapshot_every,
                    };
                    runtime.block_on(serve_replicated(cfg, listen, limits.limits()))
                }
                None => runtime.block_on(serve(
                    key,
                    origin,
                    data,
                    opts,
                    snapshot_every,
                    listen,
                    limits.limits(),
                )),
            }
        }
    }
}

/// Where `board init --origin` keeps the origin: beside the key, `<key>.origin`.
fn origin_file(key: &std::path::Path) -> PathBuf {
    let mut name = key.file_name().unwrap_or_default().to_os_string();
    name.push(".origin");
    key.with_file_name(name)
}

/// The origin `board serve` uses: the one stored at `board init`, which `--origin` may repeat
/// but not contradict; or `--origin` alone for a key made without one.
fn serve_origin(key: &std::path::Path, given: Option<String>) -> Result<String> {
    let path = origin_file(key);
    let stored = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    match (stored, given) {
        (Some(s), Some(g)) if s != g => outcome::usage!(
            "--origin {g} is not the origin {s} that `urna board init` stored in {} for this key",
            path.display()
        ),
        (Some(s), _) => Ok(s),
        (None, Some(g)) if !g.is_empty() => Ok(g),
        _ => outcome::usage!(
            "no origin: pass --origin (the election id), or make the key with `urna board init --origin`"
        ),
    }
}

/// `board serve --store`: one board process of those sharing the PostgreSQL log. It keeps
/// serving through storage failures (reopening the log, as sequencer or follower), so only a
/// database or server unfit at start stops it.
async fn serve_replicated(
    cfg: urna_board::server::replicated::Config,
    listen: SocketAddr,
    limits: Limits,
) -> Result<()> {
    let origin = cfg.origin.clone();
    let (state, role) =
        tokio::task::spawn_blocking(move || urna_board::server::replicated::start(cfg))
            .await?
            .map_err(|e| anyhow::anyhow!("opening the board's log in the database: {e}"))?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("urna board: {origin}: {role:?} on the shared log, listening on {listen}");
    let router = urna_board::server::app_with(state, limits.clone());
    urna_serve::listen::serve(listener, router, &limits, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

async fn serve(
    key: SigningKey,
    origin: String,
    data: PathBuf,
    opts: urna_board::board::OpenOptions,
    snapshot_every: u64,
    listen: SocketAddr,
    limits: Limits,
) -> Result<()> {
    let mut board = Board::open_with(&data, &origin, key, opts)
        .with_context(|| format!("opening the board in {}", data.display()))?;
    board.set_snapshot_every(snapshot_every);
    if board.recovered_tail {
        eprintln!("urna board: cut a torn, never-acknowledged tail from the log");
    }
    match &board.snapshot {
        urna_board::board::SnapshotUse::None => {}
        urna_board::board::SnapshotUse::Restored { size } => {
            eprintln!("urna board: restored the rules' state at {size} entries from the snapshot; replayed the rest of the log");
        }
        urna_board::board::SnapshotUse::Discarded(why) => eprintln!(
            "urna board: discarded the snapshot ({}: {why}); replayed the log from its first entry",
            why.code()
        ),
    }
    eprintln!(
        "urna board: {origin}: {} entries, listening on {listen}",
        board.size()
    );
    let (state, fatal) = urna_board::server::start(board);
    let router = urna_board::server::app_with(state, limits.clone());
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let failed = std::sync::Arc::new(std::sync::Mutex::new(None));
    let record = std::sync::Arc::clone(&failed);
    // Stop serving as soon as storage fails; report the failure after the shutdown.
    urna_serve::listen::serve(listener, router, &limits, async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            Ok(e) = fatal => {
                if let Ok(mut slot) = record.lock() {
                    *slot = Some(e);
                }
            }
        }
    })
    .await?;
    if let Some(e) = failed.lock().ok().and_then(|mut s| s.take()) {
        bail!("storage failed, stopped before acknowledging anything more; restart to recover from the log: {e}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every command says what it does and every argument what it means, in `--help`.
    #[test]
    fn every_command_and_argument_has_help() {
        fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in c.get_arguments() {
                let id = a.get_id().as_str();
                if a.is_hide_set() || id == "help" || id == "version" {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("`{path}`: argument {id}"));
                }
            }
            for s in c.get_subcommands() {
                let sub = format!("{path} {}", s.get_name());
                if s.get_about().is_none() && s.get_long_about().is_none() {
                    missing.push(format!("`{sub}`: no description"));
                }
                walk(s, &sub, missing);
            }
        }
        let cli = super::Cli::command();
        cli.clone().debug_assert();
        let mut missing = Vec::new();
        walk(&cli, "urna", &mut missing);
        assert!(
            missing.is_empty(),
            "without help text:\n{}",
            missing.join("\n")
        );
    }
}
