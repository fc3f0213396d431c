//! The exported election record: one file holding the board's signed checkpoint and every
//! entry it covers, readable as a stream (specs/verifier.md §1).
//!
//! ```text
//! "urna-record-v1\n"
//! u32 length ‖ signed checkpoint note (UTF-8)
//! u64 entry count (must equal the checkpoint's size)
//! then per entry: u32 length ‖ entry bytes
//! ```
//! Integers are big-endian; an entry is at most 65,535 bytes; nothing may follow the last entry.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use thiserror::Error;
use urna_election::state::PagedTable;

pub const MAGIC: &[u8] = b"urna-record-v1\n";
const MAX_NOTE: u32 = 1 << 16;
const MAX_ENTRY: u32 = 65_535;

#[derive(Debug, Error)]
pub enum RecordError {
    #[error("cannot read the record: {0}")]
    Io(#[from] io::Error),
    #[error("not an urna record: {0}")]
    Malformed(String),
}

pub struct Record {
    pub checkpoint: String,
    pub entries: Vec<Vec<u8>>,
}

pub fn write<W: Write>(w: &mut W, checkpoint: &str, entries: &[Vec<u8>]) -> io::Result<()> {
    write_header(w, checkpoint, entries.len() as u64)?;
    for e in entries {
        write_entry(w, e)?;
    }
    w.flush()
}

/// The start of a record written as a stream: then exactly `count` [`write_entry`]s.
pub fn write_header<W: Write>(w: &mut W, checkpoint: &str, count: u64) -> io::Result<()> {
    w.write_all(MAGIC)?;
    w.write_all(&(checkpoint.len() as u32).to_be_bytes())?;
    w.write_all(checkpoint.as_bytes())?;
    w.write_all(&count.to_be_bytes())
}

pub fn write_entry<W: Write>(w: &mut W, entry: &[u8]) -> io::Result<()> {
    w.write_all(&(entry.len() as u32).to_be_bytes())?;
    w.write_all(entry)
}

fn read_exact<R: Read>(r: &mut R, n: usize, what: &str) -> Result<Vec<u8>, RecordError> {
    let mut buf = vec![0u8; n];
    r.read_exact(&mut buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => RecordError::Malformed(format!("truncated in {what}")),
        _ => RecordError::Io(e),
    })?;
    Ok(buf)
}

fn u32_of<R: Read>(r: &mut R, what: &str) -> Result<u32, RecordError> {
    let b = read_exact(r, 4, what)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// A record read as a stream: its header, then its entries a chunk at a time, so that a
/// record of any size is verified in bounded memory. Strict as [`read`] is: lengths bounded,
/// the count matching, no trailing bytes ([`Reader::finish`]).
pub struct Reader<R: Read> {
    r: R,
    pub checkpoint: String,
    /// The entry count the header states.
    pub count: u64,
    /// Entries read so far.
    pub read: u64,
    /// Where the reader is, in bytes from the record's start.
    pos: u64,
    /// Where each entry read so far starts (its length prefix): 8 bytes an entry, so that an
    /// earlier entry can be read again ([`Reader::reread`]).
    offsets: Offsets,
}

/// The entries' offsets: in memory, or in a table on disk ([`Reader::offsets_on_disk`]).
enum Offsets {
    Memory(Vec<u64>),
    Disk(PagedTable),
}

impl Offsets {
    fn push(&mut self, at: u64) -> io::Result<()> {
        match self {
            Offsets::Memory(v) => v.push(at),
            Offsets::Disk(t) => t.push(&at.to_le_bytes())?,
        }
        Ok(())
    }

    fn get(&mut self, i: u64) -> io::Result<Option<u64>> {
        match self {
            Offsets::Memory(v) => Ok(v.get(i as usize).copied()),
            Offsets::Disk(t) if i < t.len() => {
                let mut b = [0u8; 8];
                t.read(i, &mut b)?;
                Ok(Some(u64::from_le_bytes(b)))
            }
            Offsets::Disk(_) => Ok(None),
        }
    }
}

impl<R: Read> Reader<R> {
    /// Reads the header: the magic, the checkpoint and the entry count.
    pub fn open(mut r: R) -> Result<Reader<R>, RecordError> {
        if read_exact(&mut r, MAGIC.len(), "the header")? != MAGIC {
            return Err(RecordError::Malformed(
                "the file does not start with urna-record-v1".into(),
            ));
        }
        let n = u32_of(&mut r, "the checkpoint length")?;
        if n > MAX_NOTE {
            return Err(RecordError::Malformed(format!("checkpoint of {n} bytes")));
        }
        let checkpoint = String::from_utf8(read_exact(&mut r, n as usize, "the checkpoint")?)
            .map_err(|_| RecordError::Malformed("the checkpoint is not UTF-8".into()))?;
        let c = read_exact(&mut r, 8, "the entry count")?;
        let count = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        Ok(Reader {
            r,
            checkpoint,
            count,
            read: 0,
            pos: (MAGIC.len() + 4 + n as usize + 8) as u64,
            offsets: Offsets::Memory(Vec::new()),
        })
    }

    /// Keeps the entries' offsets from now on in a table in `dir` through a cache of `cache`
    /// bytes, rather than 8 bytes an entry in memory: before the first entry is read.
    pub fn offsets_on_disk(&mut self, dir: &Path, cache: usize) -> io::Result<()> {
        if self.read > 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the offsets go to disk before the first entry is read",
            ));
        }
        self.offsets = Offsets::Disk(PagedTable::new(dir, 8, cache)?);
        Ok(())
    }

    /// The next entries, at most `max` of them (none once all `count` are read).
    pub fn chunk(&mut self, max: u64) -> Result<Vec<Vec<u8>>, RecordError> {
        let n = max.min(self.count - self.read);
        let mut out = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let i = self.read;
            let at = self.pos;
            let len = u32_of(&mut self.r, &format!("entry {i}'s length"))?;
            if len > MAX_ENTRY {
                return Err(RecordError::Malformed(format!(
                    "entry {i} has {len} bytes, more than 65,535"
                )));
            }
            out.push(read_exact(
                &mut self.r,
                len as usize,
                &format!("entry {i}"),
            )?);
            self.offsets.push(at)?;
            self.pos = at + 4 + u64::from(len);
            self.read += 1;
        }
        Ok(out)
    }

    /// After the last entry: nothing may follow it.
    pub fn finish(mut self) -> Result<(), RecordError> {
        if self.read < self.count {
            return Err(RecordError::Malformed(format!(
                "{} of {} entries read",
                self.read, self.count
            )));
        }
        let mut rest = [0u8; 1];
        if self.r.read(&mut rest)? != 0 {
            return Err(RecordError::Malformed("bytes follow the last entry".into()));
        }
        Ok(())
    }
}

impl<R: Read + Seek> Reader<R> {
    /// Entry `i` again, one read before (a ballot a revote supersedes, for the rules): the
    /// reader seeks back to it and then to where it was.
    pub fn reread(&mut self, i: u64) -> Result<Vec<u8>, RecordError> {
        let at = self
            .offsets
            .get(i)?
            .ok_or_else(|| RecordError::Malformed(format!("entry {i} was not read yet")))?;
        self.r
            .seek(SeekFrom::Current(at as i64 - self.pos as i64))?;
        let len = u32_of(&mut self.r, &format!("entry {i}'s length"))?;
        let e = read_exact(&mut self.r, len as usize, &format!("entry {i}"));
        let back = self.pos as i64 - (at + 4 + u64::from(len)) as i64;
        self.r.seek(SeekFrom::Current(back))?;
        e
    }
}

/// Reads a whole record, strictly: lengths bounded, the count matching, no trailing bytes.
pub fn read<R: Read>(r: &mut R) -> Result<Record, RecordError> {
    let mut reader = Reader::open(r)?;
    let mut entries = Vec::with_capacity(reader.count.min(1 << 20) as usize);
    while reader.read < reader.count {
        entries.extend(reader.chunk(4096)?);
    }
    let checkpoint = std::mem::take(&mut reader.checkpoint);
    reader.finish()?;
    Ok(Record {
        checkpoint,
        entries,
    })
}
