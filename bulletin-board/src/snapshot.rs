//! The board's snapshot file (`specs/board.md` §4.1.2): the rules' state after the log's first
//! `n` entries and those entries' leaf hashes, bound by the board's own signature to `n`, the
//! tree's root at `n` and a hash of the body, so that a restart decodes it and replays only the
//! entries after `n`. Written off the writer's path, atomically (temporary file, fsync, rename,
//! fsync of the directory); a file that fails any check is discarded with its reason and the
//! log is replayed from zero.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use sha2::{Digest, Sha256};
use thiserror::Error;
use urna_crypto::sign::{Signature, SigningKey, VerifyingKey};
use urna_election::state::{Election, SnapshotError};
use urna_ledger::merkle::{Hash, Tree};

/// The file in the data directory, and its temporary name while it is written.
pub const SNAPSHOT: &str = "snapshot";
const SNAPSHOT_TMP: &str = "snapshot.tmp";

const MAGIC: &[u8; 22] = b"urna-v1 board-snapshot";
/// Magic, `u64 n`, root, body hash, signature.
const HEADER: usize = 22 + 8 + 32 + 32 + 64;

/// Why a snapshot file was not used. The board then replays the log from zero and says so.
#[derive(Debug, Error)]
pub enum Discarded {
    #[error("cannot read it: {0}")]
    Io(#[from] io::Error),
    #[error("not a board snapshot (wrong magic or shorter than its header)")]
    Magic,
    #[error("not signed by this board's key for this election")]
    Signature,
    #[error("its body does not hash to the hash it was signed with (damaged or cut short)")]
    BodyHash,
    #[error("its body does not hold the leaf hashes of the {0} entries it claims")]
    Leaves(u64),
    #[error("its leaf hashes do not give the root it was signed with")]
    Root,
    #[error("it covers {size} entries, more than the {bound} {what}")]
    TooLong {
        size: u64,
        bound: u64,
        what: &'static str,
    },
    #[error("the log's first {0} entries are not the ones it was taken from")]
    Log(u64),
    #[error("its rules' state does not decode: {0}")]
    State(#[from] SnapshotError),
    #[error("the tree of its leaves and the log does not have the signed checkpoint's root")]
    Checkpoint,
    #[error("its rules' state is of {state} entries, not the {size} it covers")]
    StateSize { state: u64, size: u64 },
}

impl Discarded {
    /// A stable code for the reason, for logs and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Discarded::Io(_) => "io",
            Discarded::Magic => "magic",
            Discarded::Signature => "signature",
            Discarded::BodyHash => "body-hash",
            Discarded::Leaves(_) => "leaves",
            Discarded::Root => "root",
            Discarded::TooLong { .. } => "too-long",
            Discarded::Log(_) => "log",
            Discarded::State(e) => e.code(),
            Discarded::Checkpoint => "checkpoint",
            Discarded::StateSize { .. } => "state-size",
        }
    }
}

/// `"urna-v1 board-snapshot" ‖ u16 len ‖ origin ‖ u64 n ‖ root ‖ body hash`: what the board
/// signs.
fn signed_message(origin: &str, n: u64, root: &Hash, body: &Hash) -> Vec<u8> {
    let mut m = Vec::with_capacity(22 + 2 + origin.len() + 8 + 64);
    m.extend_from_slice(MAGIC);
    m.extend_from_slice(&(origin.len().min(u16::MAX as usize) as u16).to_be_bytes());
    m.extend_from_slice(origin.as_bytes());
    m.extend_from_slice(&n.to_be_bytes());
    m.extend_from_slice(root);
    m.extend_from_slice(body);
    m
}

/// What a restart takes from a valid file.
pub struct Loaded {
    pub size: u64,
    pub root: Hash,
    /// The leaf hashes, to match the log's frames against, and their tree.
    pub leaves: Vec<Hash>,
    pub tree: Tree,
    /// The encoded state, from byte `state_at` of `state`: decoded only once the log has been
    /// matched against the leaves. (A stored snapshot keeps its header before the state
    /// rather than copy hundreds of megabytes to drop 158 bytes.)
    state: Vec<u8>,
    state_at: usize,
}

impl Loaded {
    pub fn election(&self) -> Result<Election, Discarded> {
        let e = Election::from_snapshot(self.state.get(self.state_at..).unwrap_or_default())?;
        if e.size() != self.size {
            return Err(Discarded::StateSize {
                state: e.size(),
                size: self.size,
            });
        }
        Ok(e)
    }
}

/// The state to write, captured by the writer at a size it signed.
pub struct Capture {
    pub size: u64,
    pub root: Hash,
    pub leaves: Vec<Hash>,
    pub election: Election,
}

impl Capture {
    /// Encodes, signs and writes the snapshot into `dir`, replacing any older one atomically:
    /// a crash at any point leaves the old file or the new one (and maybe a temporary file,
    /// which nothing reads).
    pub fn write(self, dir: &Path, origin: &str, key: &SigningKey) -> io::Result<()> {
        let (header, leaves, state) = self.seal(origin, key);
        let tmp = dir.join(SNAPSHOT_TMP);
        {
            let mut f = io::BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
            f.write_all(&header)?;
            for l in &leaves {
                f.write_all(l)?;
            }
            f.write_all(&state)?;
            f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        fs::rename(&tmp, dir.join(SNAPSHOT))?;
        File::open(dir)?.sync_all()
    }

    /// The snapshot as a shared store keeps it (`specs/storage.md` §3a): the file's header
    /// and state without its leaf hashes, which the store holds beside the entries. Signed
    /// exactly as the file (the body hash is over the leaves and the state), so that it is
    /// checked against the log's own leaves ([`check_stored`]).
    pub fn stored(self, origin: &str, key: &SigningKey) -> Vec<u8> {
        let (mut header, _, state) = self.seal(origin, key);
        header.extend_from_slice(&state);
        header
    }

    /// Encodes the state and signs it: the header (magic, size, root, body hash, signature),
    /// the leaves and the state.
    fn seal(self, origin: &str, key: &SigningKey) -> (Vec<u8>, Vec<Hash>, Vec<u8>) {
        let state = self.election.snapshot();
        drop(self.election);
        let body = body_hash(&self.leaves, &state);
        let sig = key.sign(&signed_message(origin, self.size, &self.root, &body));
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&self.size.to_be_bytes());
        header.extend_from_slice(&self.root);
        header.extend_from_slice(&body);
        header.extend_from_slice(&sig.0);
        (header, self.leaves, state)
    }
}

/// `SHA-256(leaf 0 ‖ … ‖ leaf n−1 ‖ state)`.
fn body_hash(leaves: &[Hash], state: &[u8]) -> Hash {
    let mut h = Sha256::new();
    for l in leaves {
        h.update(l);
    }
    h.update(state);
    h.finalize().into()
}

/// A header whose signature verified: the size, root and body hash it binds.
struct Header {
    size: u64,
    root: Hash,
    body: Hash,
}

/// Checks the magic and the board's signature over the header of `bytes`.
fn header(bytes: &[u8], origin: &str, key: &VerifyingKey) -> Result<Header, Discarded> {
    if bytes.len() < HEADER || &bytes[..22] != MAGIC {
        return Err(Discarded::Magic);
    }
    let mut n = [0u8; 8];
    n.copy_from_slice(&bytes[22..30]);
    let size = u64::from_be_bytes(n);
    let mut root = [0u8; 32];
    root.copy_from_slice(&bytes[30..62]);
    let mut body = [0u8; 32];
    body.copy_from_slice(&bytes[62..94]);
    let mut sig = [0u8; 64];
    sig.copy_from_slice(&bytes[94..HEADER]);
    key.verify(&signed_message(origin, size, &root, &body), &Signature(sig))
        .map_err(|_| Discarded::Signature)?;
    Ok(Header { size, root, body })
}

/// Checks a snapshot as a shared store keeps it ([`Capture::stored`]): the magic and the
/// board's signature; that it covers at most `bound` entries (the stored checkpoint's size);
/// that the log's first `n` leaf hashes, which `leaves` reads from the store, give the signed
/// root (else it is not of this log); and the body hash over those leaves and the state. The
/// state is decoded later ([`Loaded::election`]).
pub fn check_stored(
    bytes: Vec<u8>,
    origin: &str,
    key: &VerifyingKey,
    bound: u64,
    leaves: impl FnOnce(u64) -> Result<Vec<Hash>, String>,
) -> Result<Loaded, Discarded> {
    let h = header(&bytes, origin, key)?;
    if h.size > bound {
        return Err(Discarded::TooLong {
            size: h.size,
            bound,
            what: "entries the stored checkpoint covers",
        });
    }
    let leaves = leaves(h.size).map_err(|e| Discarded::Io(io::Error::other(e)))?;
    if leaves.len() as u64 != h.size {
        return Err(Discarded::Leaves(h.size));
    }
    // The leaves' tree and the body's hash, one on each core (each about half a second at a
    // million entries); judged in the order of the checks, the root first.
    let (tree, hashed) = std::thread::scope(|s| {
        let hashing = s.spawn(|| body_hash(&leaves, bytes.get(HEADER..).unwrap_or_default()));
        let mut tree = Tree::new();
        for l in &leaves {
            tree.push(*l);
        }
        (tree, hashing.join())
    });
    if tree.root(h.size).ok() != Some(h.root) {
        return Err(Discarded::Log(h.size));
    }
    let hashed = hashed.map_err(|_| io::Error::other("hashing the snapshot's body failed"))?;
    if hashed != h.body {
        return Err(Discarded::BodyHash);
    }
    Ok(Loaded {
        size: h.size,
        root: h.root,
        leaves,
        tree,
        state: bytes,
        state_at: HEADER,
    })
}

/// Reads and checks the snapshot file of `dir`, if there is one: the board's signature for
/// this origin over its size, root and body hash; the body's hash; the leaves' root. `None`
/// when there is no file (a new board, or one that never wrote one).
pub fn load(dir: &Path, origin: &str, key: &VerifyingKey) -> Option<Result<Loaded, Discarded>> {
    let bytes = match fs::read(dir.join(SNAPSHOT)) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(e.into())),
    };
    Some(check(bytes, origin, key))
}

fn check(mut bytes: Vec<u8>, origin: &str, key: &VerifyingKey) -> Result<Loaded, Discarded> {
    let Header { size, root, body } = header(&bytes, origin, key)?;
    let leaf_bytes = usize::try_from(size)
        .ok()
        .and_then(|n| n.checked_mul(32))
        .filter(|&b| b <= bytes.len() - HEADER);
    // The body's hash and the leaves' tree, one on each core (a few hundred milliseconds
    // each at a million entries); the body hash is judged first, as if they ran in turn.
    let (hashed, built) = std::thread::scope(|s| {
        let hashing = s.spawn(|| -> Hash { Sha256::digest(&bytes[HEADER..]).into() });
        let built = leaf_bytes.map(|n| {
            let leaves: Vec<Hash> = bytes[HEADER..HEADER + n]
                .chunks_exact(32)
                .map(|c| {
                    let mut l = [0u8; 32];
                    l.copy_from_slice(c);
                    l
                })
                .collect();
            let mut tree = Tree::new();
            for l in &leaves {
                tree.push(*l);
            }
            (leaves, tree)
        });
        (hashing.join(), built)
    });
    let hashed = hashed.map_err(|_| io::Error::other("hashing the snapshot's body failed"))?;
    if hashed != body {
        return Err(Discarded::BodyHash);
    }
    let (Some(leaf_bytes), Some((leaves, tree))) = (leaf_bytes, built) else {
        return Err(Discarded::Leaves(size));
    };
    let state = bytes.split_off(HEADER + leaf_bytes);
    drop(bytes);
    if tree.root(size).ok() != Some(root) {
        return Err(Discarded::Root);
    }
    Ok(Loaded {
        size,
        root,
        leaves,
        tree,
        state,
        state_at: 0,
    })
}
