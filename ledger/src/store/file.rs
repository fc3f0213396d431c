//! The framed file log: the entries in order in one append-only file, and the signed
//! statements (the latest checkpoint, the cosigned checkpoint) in files beside it, each
//! replaced atomically. The log file — not any index — is the source of truth; everything
//! else is derived from it at start.
//!
//! Frame: `u32 length (big-endian) ‖ entry ‖ first 8 bytes of the entry's leaf hash`. A frame
//! that is cut short or whose check bytes do not match ends the readable log; whether that is
//! a torn, never-acknowledged tail or damage to acknowledged history is decided by the caller
//! against every signed statement the directory keeps ([`Recovery`]).
//!
//! Opening scans the frames once, keeping only each one's offset (8 bytes an entry); entries
//! are read back from the file when asked for, with positioned reads that never wait for the
//! writer.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, RwLock};

use super::{check_range, LogStore, Statement, StoreError};
use crate::merkle::leaf_hash;

/// The files of a data directory.
pub const LOG: &str = "log";
pub const CHECKPOINT: &str = "checkpoint";
pub const COSIGNED: &str = "cosigned";

/// What opening found in the log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    /// Intact frames, from the start of the file.
    pub intact: u64,
    /// Byte offset where the intact frames end, and how many bytes follow it (a bad frame).
    pub valid_len: u64,
    pub trailing_garbage: u64,
}

pub struct FileLog {
    dir: PathBuf,
    /// The writer's handle and the byte length of the intact log.
    writer: Mutex<(File, u64)>,
    reader: File,
    /// Byte offset of every entry's frame, and the end of the last one.
    offsets: RwLock<Vec<u64>>,
}

fn frame_check(entry: &[u8]) -> [u8; 8] {
    let h = leaf_hash(entry);
    let mut c = [0u8; 8];
    c.copy_from_slice(&h[..8]);
    c
}

/// Reads up to `buf.len()` bytes; fewer only at the end of the file.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut at = 0;
    while at < buf.len() {
        match r.read(&mut buf[at..]) {
            Ok(0) => break,
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(at)
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

#[cfg(windows)]
fn read_at(f: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(f, buf, offset)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

impl FileLog {
    /// Opens (creating if needed) the log in `dir` and finds its intact frames. Nothing is cut:
    /// a caller that decides the bytes after them are a torn tail calls
    /// [`FileLog::truncate_tail`].
    pub fn open(dir: &Path) -> io::Result<(FileLog, Recovery)> {
        let (log, rec, _) = FileLog::open_known(dir, &[])?;
        Ok((log, rec))
    }

    /// [`FileLog::open`] for a caller that already knows the leaf hashes of the first entries
    /// (a board restoring a snapshot, `specs/board.md` §4.1.2): a frame among them is checked
    /// by comparing its check bytes with the known hash rather than by hashing the entry, so
    /// the scan only reads. Returns also whether every known hash matched its frame; from the
    /// first that does not (or the first frame past them), frames are hashed as usual.
    pub fn open_known(dir: &Path, known: &[[u8; 32]]) -> io::Result<(FileLog, Recovery, bool)> {
        fs::create_dir_all(dir)?;
        let path = dir.join(LOG);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)?;
        let bytes = file.metadata()?.len();
        let mut offsets = Vec::new();
        let mut at = 0u64;
        let mut r = BufReader::with_capacity(1 << 20, file.try_clone()?);
        let mut entry = Vec::new();
        let mut matched = true;
        loop {
            let mut len = [0u8; 4];
            if read_full(&mut r, &mut len)? < 4 {
                break;
            }
            let n = u32::from_be_bytes(len) as usize;
            let frame_end = at + 4 + n as u64 + 8;
            if let Some(leaf) = known.get(offsets.len()).filter(|_| matched) {
                // Skipping the entry's bytes inside the buffer costs a copy, not a hash.
                let mut check = [0u8; 8];
                if frame_end > bytes {
                    break;
                }
                r.seek_relative(n as i64)?;
                if read_full(&mut r, &mut check)? < 8 {
                    break;
                }
                if check[..] == leaf[..8] {
                    offsets.push(at);
                    at = frame_end;
                    continue;
                }
                matched = false;
                r.seek_relative(-(n as i64) - 8)?;
            }
            entry.resize(n + 8, 0);
            if read_full(&mut r, &mut entry)? < n + 8 || entry[n..] != frame_check(&entry[..n]) {
                break;
            }
            offsets.push(at);
            at = frame_end;
        }
        let matched = matched && offsets.len() >= known.len();
        let rec = Recovery {
            intact: offsets.len() as u64,
            valid_len: at,
            trailing_garbage: bytes - at,
        };
        offsets.push(at);
        let reader = File::open(&path)?;
        Ok((
            FileLog {
                dir: dir.to_path_buf(),
                writer: Mutex::new((file, at)),
                reader,
                offsets: RwLock::new(offsets),
            },
            rec,
            matched,
        ))
    }

    /// Cuts the file at the end of the intact frames (a torn tail), durably.
    pub fn truncate_tail(&self) -> io::Result<()> {
        let w = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        w.0.set_len(w.1)?;
        w.0.sync_all()
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

    fn file_of(which: Statement) -> &'static str {
        match which {
            Statement::Checkpoint => CHECKPOINT,
            Statement::Cosigned => COSIGNED,
        }
    }
}

impl LogStore for FileLog {
    fn len(&self) -> u64 {
        self.offsets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len() as u64
            - 1
    }

    fn read(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        // The offsets are copied out: the lock is never held across I/O.
        let (from, bounds) = {
            let offsets = self.offsets.read().unwrap_or_else(PoisonError::into_inner);
            check_range(start, end, offsets.len() as u64 - 1)?;
            let bounds = offsets[start as usize..=end as usize].to_vec();
            (bounds[0], bounds)
        };
        let mut bytes = vec![0u8; (bounds[bounds.len() - 1] - from) as usize];
        read_at(&self.reader, &mut bytes, from)?;
        let mut out = Vec::with_capacity(bounds.len() - 1);
        for (i, w) in bounds.windows(2).enumerate() {
            let frame = &bytes[(w[0] - from) as usize..(w[1] - from) as usize];
            let damaged = |why| StoreError::Damaged {
                index: start + i as u64,
                why,
            };
            let (len, rest) = frame.split_at_checked(4).ok_or(damaged("short frame"))?;
            let n = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            if rest.len() != n + 8 {
                return Err(damaged("frame length changed"));
            }
            let (entry, check) = rest.split_at(n);
            if check != frame_check(entry) {
                return Err(damaged("check bytes do not match"));
            }
            out.push(entry.to_vec());
        }
        Ok(out)
    }

    fn append(&self, at: u64, entries: &[&[u8]]) -> Result<(), StoreError> {
        let mut guard = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let (file, valid) = &mut *guard;
        let len = self.len();
        if at != len {
            return Err(StoreError::Fenced { at, len });
        }
        let mut buf = Vec::with_capacity(entries.iter().map(|e| e.len() + 12).sum());
        let mut new = Vec::with_capacity(entries.len());
        for e in entries {
            new.push(*valid + buf.len() as u64);
            buf.extend_from_slice(&(e.len() as u32).to_be_bytes());
            buf.extend_from_slice(e);
            buf.extend_from_slice(&frame_check(e));
        }
        let end = *valid + buf.len() as u64;
        // Written at the end of the intact frames, whatever a failed earlier write left.
        file.seek(SeekFrom::Start(*valid))?;
        file.write_all(&buf)?;
        file.sync_data()?;
        *valid = end;
        let mut offsets = self.offsets.write().unwrap_or_else(PoisonError::into_inner);
        offsets.pop();
        offsets.extend(new);
        offsets.push(end);
        Ok(())
    }

    fn statement(&self, which: Statement) -> Result<Option<String>, StoreError> {
        match fs::read_to_string(self.dir.join(FileLog::file_of(which))) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn set_statement(&self, which: Statement, text: &str) -> Result<(), StoreError> {
        Ok(self.replace(FileLog::file_of(which), text)?)
    }
}
