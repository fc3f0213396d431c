//! `urna`: one command for every role. Thin by design; the libraries hold the logic.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use urna_board::board::Board;
use urna_board::note::verifier_key;
use urna_crypto::hex;
use urna_crypto::sign::SigningKey;

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

fn read_key(path: &PathBuf) -> Result<SigningKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let seed = hex::decode_array::<32>(text.trim())
        .map_err(|e| anyhow::anyhow!("{}: not a 32-byte hex key: {e}", path.display()))?;
    Ok(SigningKey::from_seed(&seed))
}

fn write_secret(path: &PathBuf, contents: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
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
            write_secret(&key, &format!("{}\n", hex::encode(k.seed())))?;
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
            let key = read_key(&key)?;
            if origin.is_empty() {
                bail!("--origin must be the election id");
            }
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(serve(key, origin, data, listen, limits.limits()))
        }
    }
}
