//! `urna node`: a validating node (specs/board.md §7), thin over `urna-node`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::{secrets, LimitArgs, PassphraseArg, BOARD_HELP};

#[derive(Subcommand)]
pub(crate) enum NodeCommand {
    /// Create the node's Ed25519 cosigning key, sealed with a passphrase; prints the manifest's
    /// [[witnesses]] entry with role = "node".
    Init {
        /// Where to write the secret key (readable only by its owner).
        #[arg(long, default_value = "node.key")]
        key: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArg,
        /// The node's name (its cosignature key name), e.g. node.party-a.example.
        #[arg(long)]
        name: String,
        /// The URL voters, observers and the board reach it at, for the printed manifest entry.
        #[arg(long, default_value = "http://127.0.0.1:8095")]
        url: String,
        /// Print the manifest entry's fields as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Follow a board: keep a full copy of its log in --data, replay every entry through the
    /// rules, cosign only checkpoints whose every entry it validated, and serve the board's read
    /// API (submissions are forwarded to the board).
    Serve {
        /// The node's sealed cosigning key, from `urna node init`.
        #[arg(long, default_value = "node.key")]
        key: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArg,
        /// The node's name, as in the manifest's [[witnesses]] entry.
        #[arg(long)]
        name: String,
        #[arg(long, value_name = "URL", help = BOARD_HELP, value_parser = crate::guide::board_url)]
        board: String,
        /// The board's checkpoint verifier key (`urna board init --origin` prints it): the log
        /// to follow and the key its checkpoints must be signed with.
        #[arg(long = "log")]
        log: String,
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8095")]
        listen: SocketAddr,
        /// Data directory: the copy of the log (in the board's format), the validated
        /// checkpoint, the index, what it cosigned and what it refused.
        #[arg(long, default_value = "node-data")]
        data: PathBuf,
        /// Milliseconds between two looks at the board's latest checkpoint.
        #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u64).range(10..))]
        poll_ms: u64,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

pub(crate) fn run(command: NodeCommand) -> Result<()> {
    match command {
        NodeCommand::Init {
            key,
            passphrase,
            name,
            url,
            json,
        } => crate::init_cosigner(&key, &passphrase, &name, &url, json, Some("node")),
        NodeCommand::Serve {
            key,
            passphrase,
            name,
            board,
            log,
            listen,
            data,
            poll_ms,
            limits,
        } => {
            let key = secrets::open_sealed_key_from(&key, passphrase.passphrase_file.as_deref())?;
            let (origin, board_key) = urna_ledger::note::parse_vkey(&log)
                .with_context(|| format!("--log {log}: not a verifier key name+id+key"))?;
            let node = urna_node::Node::open(urna_node::Config {
                dir: data.clone(),
                origin: origin.clone(),
                board_key,
                board_url: board,
                name: name.clone(),
                key,
            })
            .with_context(|| format!("opening the node's copy in {}", data.display()))?;
            let node = Arc::new(node);
            eprintln!(
                "urna node {name}: {origin}: {} entries validated, listening on {listen}",
                node.validated_size()
            );
            node.follow(Duration::from_millis(poll_ms));
            let limits = limits.limits();
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(async move {
                    let listener = tokio::net::TcpListener::bind(listen).await?;
                    urna_serve::listen::serve(
                        listener,
                        urna_node::http::app(node, limits.clone()),
                        &limits,
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
