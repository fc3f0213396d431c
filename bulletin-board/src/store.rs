//! The durable log: the entries in order in one append-only file, and the latest signed
//! checkpoint in another, replaced atomically. This file — not any index — is the source of
//! truth; everything else is derived from it at start.
//!
//! Frame: `u32 length (big-endian) ‖ entry ‖ first 8 bytes of the entry's leaf hash`. A frame
//! that is cut short or whose check bytes do not match ends the readable log; whether that is
//! a torn, never-acknowledged tail or damage to acknowledged history is decided by the caller
//! against every signed statement the directory keeps (the checkpoint, the cosigned
//! checkpoint).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::merkle::leaf_hash;

/// The files of a data directory.
pub const LOG: &str = "log";
pub const CHECKPOINT: &str = "checkpoint";
pub const COSIGNED: &str = "cosigned";

/// What was read back from disk.
pub struct Recovered {
    pub entries: Vec<Vec<u8>>,
    /// Byte offset where readable frames end, and whether bytes follow it (a bad frame).
    pub valid_len: u64,
    pub trailing_garbage: u64,
    pub checkpoint: Option<String>,
    /// The latest checkpoint the witness quorum cosigned, with its cosignatures.
    pub cosigned: Option<String>,
}

pub struct Store {
    dir: PathBuf,
    log: File,
    len: u64,
}

fn frame_check(entry: &[u8]) -> [u8; 8] {
    let h = leaf_hash(entry);
    let mut c = [0u8; 8];
    c.copy_from_slice(&h[..8]);
    c
}

impl Store {
    /// Opens (creating if needed) the store in `dir` and reads every intact frame.
    pub fn open(dir: &Path) -> io::Result<(Store, Recovered)> {
        fs::create_dir_all(dir)?;
        let path = dir.join(LOG);
        let mut log = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)?;
        let mut bytes = Vec::new();
        log.read_to_end(&mut bytes)?;
        let mut entries = Vec::new();
        let mut at = 0usize;
        while bytes.len() - at >= 4 {
            let mut l = [0u8; 4];
            l.copy_from_slice(&bytes[at..at + 4]);
            let n = u32::from_be_bytes(l) as usize;
            let end = at + 4 + n + 8;
            if end > bytes.len() {
                break;
            }
            let entry = &bytes[at + 4..at + 4 + n];
            if bytes[at + 4 + n..end] != frame_check(entry) {
                break;
            }
            entries.push(entry.to_vec());
            at = end;
        }
        let checkpoint = match fs::read_to_string(dir.join(CHECKPOINT)) {
            Ok(s) => Some(s),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let cosigned = match fs::read_to_string(dir.join(COSIGNED)) {
            Ok(s) => Some(s),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let rec = Recovered {
            cosigned,
            entries,
            valid_len: at as u64,
            trailing_garbage: (bytes.len() - at) as u64,
            checkpoint,
        };
        log.seek(SeekFrom::Start(at as u64))?;
        Ok((
            Store {
                dir: dir.to_path_buf(),
                log,
                len: at as u64,
            },
            rec,
        ))
    }

    /// Cuts the file at the end of the readable frames (a torn tail), durably.
    pub fn truncate_tail(&mut self) -> io::Result<()> {
        self.log.set_len(self.len)?;
        self.log.sync_all()?;
        self.log.seek(SeekFrom::Start(self.len))?;
        Ok(())
    }

    /// Appends entries and makes them durable (`fdatasync`) before returning.
    pub fn append(&mut self, entries: &[&[u8]]) -> io::Result<()> {
        let mut buf = Vec::with_capacity(entries.iter().map(|e| e.len() + 12).sum());
        for e in entries {
            buf.extend_from_slice(&(e.len() as u32).to_be_bytes());
            buf.extend_from_slice(e);
            buf.extend_from_slice(&frame_check(e));
        }
        self.log.write_all(&buf)?;
        self.log.sync_data()?;
        self.len += buf.len() as u64;
        Ok(())
    }

    /// Replaces the checkpoint atomically: write a temporary file, fsync it, rename it over the
    /// old one, fsync the directory.
    pub fn write_checkpoint(&self, note: &str) -> io::Result<()> {
        self.replace(CHECKPOINT, note)
    }

    /// Replaces the cosigned checkpoint atomically, like the checkpoint.
    pub fn write_cosigned(&self, note: &str) -> io::Result<()> {
        self.replace(COSIGNED, note)
    }

    fn replace(&self, name: &str, contents: &str) -> io::Result<()> {
        let tmp = self.dir.join(format!("{name}.tmp"));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(contents.as_bytes())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, self.dir.join(name))?;
        File::open(&self.dir)?.sync_all()
    }
}
