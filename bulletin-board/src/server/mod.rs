//! The board over HTTP (axum), one module per job:
//!
//! - [`writer`]: the one thread that owns the [`Board`]: it commits submissions in groups (one
//!   state-machine batch, one `fdatasync`, one checkpoint) and records the witnesses'
//!   cosignatures, and after every change publishes a new [`View`];
//! - [`pusher`]: submits each new checkpoint to the manifest's witnesses (C2SP tlog-witness);
//! - [`routes`]: the API. Reads are served from the published [`View`] and from the log file,
//!   the tree and the index as far as the view covers: no read waits for the writer, which
//!   holds no lock across I/O (it takes the tree's write lock only to add leaves already
//!   durable);
//! - [`limit`]: per-address read budgets and the bound on reads in flight;
//! - [`booth`]: the browser booth and the OpenAPI description, as static assets.
//!
//! The API:
//! - `POST /entries` (body: the entry's bytes) → `200` with the receipt (`text/plain`, a C2SP
//!   tlog-proof), or `4xx` with `{"code", "message", "rejection"}`.
//! - `GET /checkpoint` → the latest signed checkpoint (`text/plain`).
//! - `GET /receipt/{hash}` → the receipt of the entry with that leaf hash (64 hex digits or a
//!   tracking code).
//! - `GET /entries/{index}` → the entry's bytes.
//! - `GET /consistency/{old}/{new}` → `{"proof": [hex…]}` (RFC 9162).
//! - `GET /info` → origin, keys, size, phase and counts (JSON).
//! - `GET /voter/{credential}` → a voter's light view: the election's entries and the
//!   credential's, each with its inclusion proof to the latest checkpoint (JSON).
//! - `GET /manifest` → the manifest (JSON), once `Setup` is on the log.
//! - `GET /entries?start=S&end=E&limit=L` → a page of a JSON view of the entries (at most 1,000
//!   and 2 MiB of entries), with the next page's start.
//! - `GET /tile/<L>/<N>[.p/<W>]`, `GET /tile/entries/<N>[.p/<W>]` → C2SP tlog-tiles.
//! - `GET /openapi.json` → the OpenAPI description of all of the above.

use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::{mpsc, oneshot};
use urna_ledger::replica::SharedTree;
use urna_ledger::LogStore;

use crate::board::{Board, View};
use crate::index::Index;

mod booth;
mod limit;
mod pusher;
pub mod replicated;
mod routes;
pub mod test_hook;
mod writer;

pub use routes::{app, app_with, MAX_VIEW, MAX_VIEW_BYTES, OPENAPI};
pub use urna_serve::limits::Limits;
pub use writer::{MAX_GROUP, QUEUE};

/// What the handlers share: the board's current [`Live`] parts. A board on a shared store
/// ([`replicated`]) replaces them whole when it reopens its copy of the log (after a storage
/// failure or a failover); a handler takes them once and serves from that.
#[derive(Clone)]
pub struct AppState {
    live: Arc<ArcSwap<Live>>,
}

/// The published view, the log, tree and index it bounds, and the writer's queue.
pub struct Live {
    view: Arc<ArcSwap<View>>,
    log: Arc<dyn LogStore>,
    tree: SharedTree,
    index: Index,
    jobs: mpsc::Sender<writer::Job>,
    /// On a shared log: what checks the attestations of forwarded submissions
    /// (`specs/storage.md` §5a); `None` on a board that has no other processes.
    attested: Option<Arc<replicated::Attested>>,
}

impl AppState {
    fn new(live: Live) -> AppState {
        AppState {
            live: Arc::new(ArcSwap::from_pointee(live)),
        }
    }

    /// The parts to serve one request from.
    fn now(&self) -> Arc<Live> {
        self.live.load_full()
    }

    fn replace(&self, live: Live) {
        self.live.store(Arc::new(live));
    }

    /// The state a validating node serves the board's read API from: its own copy of the log
    /// (`log`, `tree`, `index`) bounded by the `view` it publishes. It has no writer: the node
    /// forwards submissions to the board before they reach the router.
    pub fn reader<L: LogStore + 'static>(
        view: Arc<ArcSwap<View>>,
        log: Arc<L>,
        tree: SharedTree,
        index: Index,
    ) -> AppState {
        let (jobs, _) = mpsc::channel(1);
        let log: Arc<dyn LogStore> = log;
        AppState::new(Live {
            view,
            log,
            tree,
            index,
            jobs,
            attested: None,
        })
    }
}

impl Live {
    /// The parts of `board`'s copy of the log, with `jobs` as its queue and `view` published.
    fn of(board: &Board, view: Arc<ArcSwap<View>>, jobs: mpsc::Sender<writer::Job>) -> Live {
        Live {
            view,
            log: board.log(),
            tree: board.shared_tree(),
            index: board.index().clone(),
            jobs,
            attested: None,
        }
    }
}

/// Starts the writer and the witness pusher and returns the state the router serves, and a
/// receiver that yields the error if storage fails. The writer then stops: state in memory
/// may be ahead of the disk, so nothing more is acknowledged (submissions get 503) and the
/// process must restart, which recovers from the log. Whether to exit is the caller's decision.
pub fn start(board: Board) -> (AppState, oneshot::Receiver<std::io::Error>) {
    let view = Arc::new(ArcSwap::from_pointee(board.view()));
    let (live, fatal) = writer::spawn_owned(board, view);
    (AppState::new(live), fatal)
}
