//! `urna`: one command for every role. Thin by design; the libraries hold the logic.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use urna_board::board::Board;
use urna_board::note::verifier_key;
use urna_crypto::hex;
use urna_crypto::sign::SigningKey;

mod secrets;
mod trustee;

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
    /// Run a whole election on this machine.
    Demo,
    /// The bulletin board.
    Board {
        #[command(subcommand)]
        command: BoardCommand,
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
enum BoardCommand {
    /// Create the board's signing key; prints the public key for the manifest's `board` key.
    Init {
        /// Where to write the secret key (hex seed, readable only by its owner).
        #[arg(long, default_value = "board.key")]
        key: PathBuf,
        /// The election id (the log's origin), to print the checkpoint verifier key.
        #[arg(long)]
        origin: Option<String>,
    },
    /// Serve the election's ledger over HTTP.
    Serve {
        #[arg(long, default_value = "board.key")]
        key: PathBuf,
        /// The election id: the log's origin and the checkpoints' key name.
        #[arg(long)]
        origin: String,
        /// Data directory holding the log and the latest checkpoint.
        #[arg(long, default_value = "board-data")]
        data: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

#[derive(clap::Args)]
struct LimitArgs {
    /// Requests per second each client address may sustain.
    #[arg(long, default_value_t = 1000.0)]
    rate_per_client: f64,
    /// Requests a client may make in a burst above its rate.
    #[arg(long, default_value_t = 2000.0)]
    burst_per_client: f64,
    /// Requests served at once across all clients; more are answered 503.
    #[arg(long, default_value_t = 4096)]
    max_in_flight: usize,
    /// Seconds a request (including its body) may take before it is answered 408.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
}

impl LimitArgs {
    fn limits(&self) -> urna_board::server::Limits {
        urna_board::server::Limits {
            rate_per_client: self.rate_per_client,
            burst_per_client: self.burst_per_client,
            max_in_flight: self.max_in_flight,
            timeout: std::time::Duration::from_secs(self.timeout_secs),
        }
    }
}

async fn serve(
    key: SigningKey,
    origin: String,
    data: PathBuf,
    listen: SocketAddr,
    limits: urna_board::server::Limits,
) -> Result<()> {
    let board = Board::open(&data, &origin, key)
        .with_context(|| format!("opening the board in {}", data.display()))?;
    if board.recovered_tail {
        eprintln!("urna board: cut a torn, never-acknowledged tail from the log");
    }
    eprintln!(
        "urna board: {origin}: {} entries, listening on {listen}",
        board.size()
    );
    let (state, fatal) = urna_board::server::start(board);
    let router = urna_board::server::app_with(state, limits);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<std::io::Error>();
    // Stop serving as soon as storage fails; report the failure after the shutdown.
    tokio::spawn(async move {
        if let Ok(e) = fatal.await {
            let _ = stop_tx.send(e);
        }
    });
    let failed = std::sync::Arc::new(std::sync::Mutex::new(None));
    let record = std::sync::Arc::clone(&failed);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            Ok(e) = stop_rx => {
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

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo => {
            println!("urna demo: not yet — the trustee, voter and verifier layers (issues 5–8) are still being built.");
            println!("The cryptographic core, the election rules and the board core are in place: run `cargo test --workspace`.");
            Ok(())
        }
        Command::Board {
            command: BoardCommand::Init { key, origin },
        } => {
            let k = SigningKey::generate(&mut rand::rngs::OsRng);
            secrets::write_secret(&key, &format!("{}\n", hex::encode(k.seed())), true)?;
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
        Command::Board {
            command:
                BoardCommand::Serve {
                    key,
                    origin,
                    data,
                    listen,
                    limits,
                },
        } => {
            let key = secrets::read_plain_key(&key)?;
            if origin.is_empty() {
                bail!("--origin must be the election id");
            }
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(serve(key, origin, data, listen, limits.limits()))
        }
        Command::Trustee {
            command: TrusteeCommand::Init { key },
        } => {
            let pass = secrets::passphrase(&key.display().to_string(), true)?;
            let k = trustee::init(&key, pass.as_bytes())?;
            println!("trustee key sealed in {}", key.display());
            println!(
                "for the manifest's [[trustees]] entry:\n{}",
                trustee::describe(&k)
            );
            Ok(())
        }
        Command::Trustee {
            command:
                TrusteeCommand::Ceremony {
                    board,
                    key,
                    timeout,
                },
        } => {
            let pass = secrets::passphrase(&key.display().to_string(), false)?;
            let mut k = trustee::open(&key, pass.as_bytes())?;
            let client = urna_board::client::BoardClient::new(&board);
            let joint = trustee::ceremony(
                &client,
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
            Ok(())
        }
        Command::Trustee {
            command: TrusteeCommand::Decrypt { board, key },
        } => {
            let pass = secrets::passphrase(&key.display().to_string(), false)?;
            let mut k = trustee::open(&key, pass.as_bytes())?;
            let client = urna_board::client::BoardClient::new(&board);
            if trustee::decrypt(&client, &mut k)? {
                println!("decryption share posted");
            } else {
                println!("this trustee's decryption share is already on the ledger");
            }
            Ok(())
        }
        Command::Tally { board, key } => {
            let signer = key.as_deref().map(secrets::read_plain_key).transpose()?;
            let client = urna_board::client::BoardClient::new(&board);
            let (e, r) = trustee::tally(&client, signer)?;
            print!("{}", trustee::table(&e, &r));
            Ok(())
        }
    }
}
