//! `urna`: one command for every role. Thin by design; the libraries hold the logic.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use urna_board::board::Board;
use urna_board::client::BoardClient;
use urna_board::limits::Limits;
use urna_board::note::verifier_key;
use urna_crypto::hex;
use urna_crypto::sign::SigningKey;

mod authority;
mod bench;
mod demo;
mod loopback;
mod secrets;
mod trustee;
mod voter;

#[derive(Parser)]
#[command(
    name = "urna",
    version,
    about = "End-to-end verifiable elections: one command for every role"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a whole election on this machine, through a real board on 127.0.0.1, and verify it.
    Demo {
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
    /// The election authority: manifest, opening and closing the polls.
    Authority {
        #[command(subcommand)]
        command: AuthorityCommand,
    },
    /// The registrar: voter credentials and the public roll.
    Registrar {
        #[command(subcommand)]
        command: RegistrarCommand,
    },
    /// A trustee: key material, the key ceremony, decryption shares.
    Trustee {
        #[command(subcommand)]
        command: TrusteeCommand,
    },
    /// Combine the decryption shares on the ledger, post the result and print it.
    Tally {
        #[arg(long)]
        board: String,
        /// A plain key file to sign the Result with (default: a fresh key; the rules check the
        /// result itself, not who posts it).
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Cast a ballot (or challenge one to audit the encryption).
    Vote {
        #[arg(long)]
        board: String,
        #[arg(long)]
        credential: PathBuf,
        /// Choices, e.g. `mayor=alice;council=dan,eve;budget=park:3,bikes:5;measure-a=yes`
        /// (or a JSON object); asked interactively on a terminal if absent.
        #[arg(long)]
        choices: Option<String>,
        /// Challenge instead of casting: reveal the encryption's nonces, check them and publish
        /// the audited ballot (it can never be cast).
        #[arg(long)]
        challenge: bool,
        /// Where to save the receipt.
        #[arg(long, default_value = "ballot.receipt")]
        receipt: PathBuf,
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
    /// Measure the figures: encryption, verification, board ingest, tally, record size.
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
        #[arg(long)]
        key: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArg,
    },
    /// Re-verify a whole election, from an exported record file or from its board.
    Verify {
        /// An exported record (`urna record export`); or use --board.
        record: Option<PathBuf>,
        #[arg(long, conflicts_with = "record", required_unless_present = "record")]
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
        #[arg(long)]
        json: bool,
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
        /// The election id (the log's origin), to print the checkpoint verifier key.
        #[arg(long)]
        origin: Option<String>,
        #[command(flatten)]
        passphrase: PassphraseArg,
    },
    /// Serve the election's ledger over HTTP.
    Serve {
        /// The board's sealed signing key.
        #[arg(long, default_value = "board.key")]
        key: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArg,
        /// The election id: the log's origin and the checkpoints' key name.
        #[arg(long)]
        origin: String,
        /// Data directory holding the log and the latest checkpoint.
        #[arg(long, default_value = "board-data")]
        data: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Start although the checkpoint file is missing and the log is not empty, taking the
        /// log's intact entries as acknowledged history. Without it the board refuses: only an
        /// operator who knows why the checkpoint is gone should say so (specs/board.md §4).
        #[arg(long)]
        accept_log_without_checkpoint: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
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
    trusted_proxies: Vec<urna_board::limits::IpNet>,
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
    },
    /// Serve add-checkpoint for the given logs, keeping durable state in --data.
    Serve {
        /// The witness's sealed cosigning key.
        #[arg(long, default_value = "witness.key")]
        key: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArg,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
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
        #[arg(long, default_value = "authority.key")]
        key: PathBuf,
    },
    /// Validate the TOML manifest and post it as the election's first entry.
    Setup {
        #[arg(long)]
        manifest: PathBuf,
        #[arg(long)]
        board: String,
        #[arg(long, default_value = "authority.key")]
        key: PathBuf,
    },
    /// Open the polls.
    Open {
        #[arg(long)]
        board: String,
        #[arg(long, default_value = "authority.key")]
        key: PathBuf,
    },
    /// Close the polls (fixes the encrypted tally).
    Close {
        #[arg(long)]
        board: String,
        #[arg(long, default_value = "authority.key")]
        key: PathBuf,
    },
    /// Phase, counts, and who is still missing.
    Status {
        #[arg(long)]
        board: String,
    },
}

#[derive(Subcommand)]
enum RegistrarCommand {
    /// Create the registrar's signing key, sealed with a passphrase; prints the public key.
    Init {
        #[arg(long, default_value = "registrar.key")]
        key: PathBuf,
    },
    /// Issue one credential per new voter of the CSV (`voter_id[,weight][,style]`) into
    /// `--out`, and post the public roll.
    Credentials {
        #[arg(long)]
        voters: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        board: String,
        #[arg(long, default_value = "registrar.key")]
        key: PathBuf,
    },
}

#[derive(Subcommand)]
enum TrusteeCommand {
    /// Create a trustee's signing and key-ceremony keys, sealed with a passphrase
    /// (URNA_PASSPHRASE or asked); prints the public keys for the manifest.
    Init {
        #[arg(long, default_value = "trustee.key")]
        key: PathBuf,
    },
    /// Take part in the key ceremony; resumable: re-run after a crash to continue.
    Ceremony {
        #[arg(long)]
        board: String,
        #[arg(long, default_value = "trustee.key")]
        key: PathBuf,
        /// Seconds to wait for the other trustees before giving up (re-run to continue).
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
    },
    /// After the polls close: post this trustee's decryption share of the tally.
    Decrypt {
        #[arg(long)]
        board: String,
        #[arg(long, default_value = "trustee.key")]
        key: PathBuf,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Write a large synthetic but fully valid record of plurality-10 ballots.
    Record {
        #[arg(long, default_value_t = 100_000)]
        ballots: usize,
        #[arg(short, long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum RecordCommand {
    /// Download the whole log (checked against the signed checkpoint) into one record file.
    Export {
        #[arg(long)]
        board: String,
        #[arg(short, long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Check a receipt: offline (proof and signature), or against the board's current log.
    Check {
        receipt: PathBuf,
        #[arg(long)]
        board: Option<String>,
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

fn manifest_of(entries: &[Vec<u8>]) -> Option<urna_election::manifest::Manifest> {
    urna_verifier::manifest_of(entries.first()?)
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

/// The log as observers take it: up to the latest checkpoint the witness quorum cosigned when
/// the manifest names witnesses (the policy is then checked by the verifier), else the latest.
fn fetch_for_observer(
    client: &BoardClient,
    origin: &str,
    key: &urna_crypto::sign::VerifyingKey,
) -> Result<urna_board::client::LogCopy> {
    let latest = client.fetch_log(origin, key)?;
    let witnessed = manifest_of(&latest.entries).is_some_and(|m| !m.witnesses.is_empty());
    if !witnessed {
        return Ok(latest);
    }
    match client.cosigned_note()? {
        Some(note) => {
            let cp = urna_board::note::Checkpoint::open(&note, origin, key)?;
            Ok(client.fetch_log_under(cp, note)?)
        }
        // Nothing cosigned yet: the latest checkpoint, which will fail the witness check.
        None => Ok(latest),
    }
}

fn verify_cmd(
    record: Option<&std::path::Path>,
    board: Option<&str>,
    checkpoints: &[PathBuf],
    board_key: Option<&str>,
    receipts: &[PathBuf],
    json: bool,
) -> Result<bool> {
    let pinned = board_key.map(parse_board_key).transpose()?;
    let (origin, key, note, entries, key_source) = match (record, board) {
        (Some(path), _) => {
            let f =
                std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
            let rec = urna_verifier::record::read(&mut std::io::BufReader::new(f))?;
            let origin = rec
                .checkpoint
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            let (key, source) = match pinned {
                Some(k) => (k, "pinned with --board-key"),
                None => (
                    manifest_of(&rec.entries).map(|m| m.board_key).context(
                        "the record has no manifest to take the board key from; pass --board-key",
                    )?,
                    "taken from the record's own manifest (pin it with --board-key)",
                ),
            };
            (origin, key, rec.checkpoint, rec.entries, source)
        }
        (None, Some(url)) => {
            let client = client(url);
            let (origin, stated) = client.stated_key()?;
            let (key, source) = match pinned {
                Some(k) => (k, "pinned with --board-key"),
                None => (
                    stated,
                    "as the board states it, checked against its manifest",
                ),
            };
            let copy = fetch_for_observer(&client, &origin, &key)?;
            (origin, key, copy.note, copy.entries, source)
        }
        (None, None) => bail!("give a record file or --board"),
    };
    let earlier = checkpoints
        .iter()
        .map(|p| secrets::read(p))
        .collect::<Result<Vec<_>>>()?;
    let receipts = receipts
        .iter()
        .map(|p| {
            urna_voter::receipt::BallotReceipt::parse(&secrets::read(p)?)
                .with_context(|| format!("reading {}", p.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let bar = progress_bar(entries.len() as u64, "entries replayed");
    let manifest = manifest_of(&entries);
    let mut report = urna_verifier::verify(
        &origin,
        &key,
        &note,
        entries,
        &earlier,
        &receipts,
        &|done, _| bar.set_position(done as u64),
    );
    bar.finish_and_clear();
    if manifest.as_ref().is_some_and(|m| m.board_key != key) {
        report.fail(
            "the manifest names the board key that signs the log",
            "the manifest names a different board key from the one the checkpoint is signed with"
                .into(),
        );
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("board key {} ({key_source})", hex::encode(key.as_bytes()));
        print!("{}", report.to_text(manifest.as_ref()));
    }
    Ok(report.verified)
}

fn main() -> Result<()> {
    let cli = Cli::parse();
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
                bail!("the demo election did not verify");
            }
            Ok(())
        }
        Command::Board { command } => board_cmd(command),
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
            Ok(())
        }
        Command::Bench {
            command: Some(BenchCommand::Record { ballots, out }),
            ..
        } => bench::record(ballots, &out, &|m| println!("{m}")),
        Command::Bench {
            command: None,
            quick,
            json,
        } => bench::run(quick, json),
        Command::Authority { command } => authority_cmd(command),
        Command::Witness { command } => witness_cmd(command),
        Command::Registrar { command } => match command {
            RegistrarCommand::Init { key } => {
                let pass = secrets::passphrase(&key.display().to_string(), true)?;
                let k = secrets::init_sealed_key(&key, pass.as_bytes())?;
                println!(
                    "registrar public key (manifest [keys] registrar): {}",
                    hex::encode(k.verifying_key().as_bytes())
                );
                Ok(())
            }
            RegistrarCommand::Credentials {
                voters,
                out,
                board,
                key,
            } => {
                let k = secrets::open_sealed_key_asking(&key)?;
                let (issued, posted) = voter::credentials(&client(&board), &voters, &out, &k)?;
                println!(
                    "{issued} credential(s) issued into {}; {posted} roll batch(es) posted",
                    out.display()
                );
                Ok(())
            }
        },
        Command::Trustee { command } => trustee_cmd(command),
        Command::Tally { board, key } => {
            let signer = key.as_deref().map(secrets::read_plain_key).transpose()?;
            let (e, r) = trustee::tally(&client(&board), signer)?;
            print!("{}", trustee::table(&e, &r));
            Ok(())
        }
        Command::Vote {
            board,
            credential,
            choices,
            challenge,
            receipt,
        } => {
            let cred = urna_voter::credential::Credential::parse(&secrets::read(&credential)?)?;
            let opts = voter::VoteOptions {
                choices: choices.as_deref(),
                challenge,
                receipt_out: Some(&receipt),
            };
            if voter::vote(&client(&board), &cred, &opts, &mut |m| println!("{m}"))?.is_some() {
                println!("receipt saved to {}", receipt.display());
            }
            Ok(())
        }
        Command::Receipt {
            command: ReceiptCommand::Check { receipt, board },
        } => {
            println!("{}", voter::check_receipt(&receipt, board.as_deref())?);
            Ok(())
        }
        Command::Record {
            command: RecordCommand::Export { board, out },
        } => {
            let client = client(&board);
            let (origin, key) = client.stated_key()?;
            let copy = fetch_for_observer(&client, &origin, &key)?;
            let tmp = out.with_extension("tmp");
            let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            urna_verifier::record::write(&mut f, &copy.note, &copy.entries)?;
            f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&tmp, &out)?;
            let bytes = std::fs::metadata(&out)?.len();
            println!(
                "{} entries ({bytes} bytes) under the checkpoint of size {} written to {}",
                copy.entries.len(),
                copy.checkpoint.size,
                out.display()
            );
            Ok(())
        }
        Command::Verify {
            record,
            board,
            checkpoint,
            board_key,
            voter_receipt,
            json,
        } => {
            if !verify_cmd(
                record.as_deref(),
                board.as_deref(),
                &checkpoint,
                board_key.as_deref(),
                &voter_receipt,
                json,
            )? {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

fn witness_cmd(command: WitnessCommand) -> Result<()> {
    match command {
        WitnessCommand::Init {
            key,
            passphrase,
            name,
            url,
        } => {
            let pass = secrets::passphrase_from(
                &key.display().to_string(),
                true,
                passphrase.passphrase_file.as_deref(),
            )?;
            let k = secrets::init_sealed_key(&key, pass.as_bytes())?;
            println!(
                "for the manifest:\n[[witnesses]]\nname = \"{name}\"\nkey = \"{}\"\nurl = \"{url}\"",
                hex::encode(k.verifying_key().as_bytes())
            );
            Ok(())
        }
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
                let (origin, k) = urna_board::witness::parse_vkey(vkey)
                    .with_context(|| format!("--log {l}: not a verifier key name+id+key"))?;
                if let Some((o, _)) = l.split_once('=') {
                    if o != origin {
                        bail!("--log {l}: the verifier key is for {origin}, not {o}");
                    }
                }
                known.insert(origin, k);
            }
            let w = std::sync::Arc::new(urna_board::witness::Witness::open(
                &data, &name, key, known,
            )?);
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(async move {
                    let listener = tokio::net::TcpListener::bind(listen).await?;
                    eprintln!("urna witness {name}: listening on {listen}");
                    // The board's header timeout and per-address connection limit.
                    urna_board::listen::serve(
                        listener,
                        urna_board::witness::router(w),
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

fn authority_cmd(command: AuthorityCommand) -> Result<()> {
    match command {
        AuthorityCommand::Init { key } => {
            let pass = secrets::passphrase(&key.display().to_string(), true)?;
            let k = secrets::init_sealed_key(&key, pass.as_bytes())?;
            println!(
                "authority public key (manifest [keys] authority): {}",
                hex::encode(k.verifying_key().as_bytes())
            );
        }
        AuthorityCommand::Setup {
            manifest,
            board,
            key,
        } => {
            let k = secrets::open_sealed_key_asking(&key)?;
            let m = authority::setup(&client(&board), &manifest, &k)?;
            println!(
                "election {} set up: {} trustees (threshold {}), {} contests",
                m.election_id,
                m.trustees.len(),
                m.threshold,
                m.contests.len()
            );
        }
        AuthorityCommand::Open { board, key } => {
            let k = secrets::open_sealed_key_asking(&key)?;
            let i = authority::open(&client(&board), &k)?;
            println!("polls open (entry {i})");
        }
        AuthorityCommand::Close { board, key } => {
            let k = secrets::open_sealed_key_asking(&key)?;
            let i = authority::close(&client(&board), &k)?;
            println!("polls closed (entry {i}); the encrypted tally is fixed");
        }
        AuthorityCommand::Status { board } => {
            print!("{}", authority::status(&client(&board))?)
        }
    }
    Ok(())
}

fn trustee_cmd(command: TrusteeCommand) -> Result<()> {
    match command {
        TrusteeCommand::Init { key } => {
            let pass = secrets::passphrase(&key.display().to_string(), true)?;
            let k = trustee::init(&key, pass.as_bytes())?;
            println!("trustee key sealed in {}", key.display());
            println!(
                "for the manifest's [[trustees]] entry:\n{}",
                trustee::describe(&k)
            );
        }
        TrusteeCommand::Ceremony {
            board,
            key,
            timeout,
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
            println!(
                "key ceremony complete; joint election key {}",
                hex::encode(joint.as_bytes())
            );
        }
        TrusteeCommand::Decrypt { board, key } => {
            let pass = secrets::passphrase(&key.display().to_string(), false)?;
            let mut k = trustee::open(&key, pass.as_bytes())?;
            if trustee::decrypt(&client(&board), &mut k)? {
                println!("decryption share posted");
            } else {
                println!("this trustee's decryption share is already on the ledger");
            }
        }
    }
    Ok(())
}

fn board_cmd(command: BoardCommand) -> Result<()> {
    match command {
        BoardCommand::Init {
            key,
            origin,
            passphrase,
        } => {
            let pass = secrets::passphrase_from(
                &key.display().to_string(),
                true,
                passphrase.passphrase_file.as_deref(),
            )?;
            let k = secrets::init_sealed_key(&key, pass.as_bytes())?;
            println!(
                "board public key (manifest [keys] board): {}",
                hex::encode(k.verifying_key().as_bytes())
            );
            if let Some(o) = origin {
                println!(
                    "checkpoint verifier key: {}",
                    verifier_key(&o, &k.verifying_key())
                );
            }
            Ok(())
        }
        BoardCommand::Serve {
            key,
            passphrase,
            origin,
            data,
            listen,
            accept_log_without_checkpoint,
            limits,
        } => {
            let key = secrets::open_sealed_key_from(&key, passphrase.passphrase_file.as_deref())?;
            if origin.is_empty() {
                bail!("--origin must be the election id");
            }
            let opts = urna_board::board::OpenOptions {
                accept_log_without_checkpoint,
            };
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(serve(key, origin, data, opts, listen, limits.limits()))
        }
    }
}

async fn serve(
    key: SigningKey,
    origin: String,
    data: PathBuf,
    opts: urna_board::board::OpenOptions,
    listen: SocketAddr,
    limits: Limits,
) -> Result<()> {
    let board = Board::open_with(&data, &origin, key, opts)
        .with_context(|| format!("opening the board in {}", data.display()))?;
    if board.recovered_tail {
        eprintln!("urna board: cut a torn, never-acknowledged tail from the log");
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
    urna_board::listen::serve(listener, router, &limits, async move {
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
