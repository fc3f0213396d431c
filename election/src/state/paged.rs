//! A table of fixed-size rows in a file without a name, read and written through a bounded
//! cache of pages: what a verifier keeps per ballot and per voter, so that its memory does not
//! grow with the election (issue 18; `specs/verifier.md` §1).
//!
//! The rows are reached by number. A page is read from the file when a row of it is first
//! wanted (`pread`), kept while it is among the most recently used that fit the budget, and
//! written back (`pwrite`) when it leaves the cache if it changed. What the operating system
//! keeps of the file in its own page cache is not the process's memory: it is given back under
//! pressure. The file has no name ([`tempfile::tempfile_in`]): a crash leaves nothing in the
//! directory, and dropping the table frees the disk.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The bytes of a page, about: small, because most reads are random (a revote's superseded
/// ballot, a voter's row) and read one row.
const PAGE_BYTES: usize = 16 << 10;

/// Pages the cache holds at least, however small its budget: the page being appended to and
/// one other.
const MIN_PAGES: usize = 2;

struct Page {
    data: Box<[u8]>,
    dirty: bool,
    /// When it was last used, by [`PagedTable::clock`]: the least recently used leaves first.
    used: u64,
}

/// A file of rows of `row` bytes, numbered from 0, with a cache of at most `budget` bytes of
/// pages (see the module's documentation).
pub struct PagedTable {
    file: File,
    dir: PathBuf,
    row: usize,
    per_page: usize,
    pages: HashMap<u64, Page>,
    max_pages: usize,
    clock: u64,
    len: u64,
    /// Page reads that missed the cache (instrumentation: tests check that a small budget
    /// evicts).
    misses: u64,
}

impl PagedTable {
    /// An empty table of rows of `row` bytes (at least one) in a new file without a name in
    /// `dir`, holding at most about `budget` bytes of pages in memory. Fails if the file
    /// cannot be made (the directory missing or not writable).
    pub fn new(dir: &Path, row: usize, budget: usize) -> io::Result<PagedTable> {
        let row = row.max(1);
        let file = tempfile::tempfile_in(dir).map_err(|e| named(dir, e))?;
        let per_page = (PAGE_BYTES / row).max(1);
        Ok(PagedTable {
            file,
            dir: dir.to_path_buf(),
            row,
            per_page,
            pages: HashMap::new(),
            max_pages: (budget / (per_page * row)).max(MIN_PAGES),
            clock: 0,
            len: 0,
            misses: 0,
        })
    }

    /// Rows in the table.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes a row takes.
    pub fn row(&self) -> usize {
        self.row
    }

    /// Page reads that missed the cache so far.
    pub fn misses(&self) -> u64 {
        self.misses
    }

    /// Appends `n` rows of zeros without writing them: a page never written reads as zeros
    /// (an open-addressing table's empty slots, made at once).
    pub fn extend_zeroed(&mut self, n: u64) {
        self.len = self.len.saturating_add(n);
    }

    /// A new empty table of the same rows, in the same directory, with the same cache.
    pub fn empty_like(&self) -> io::Result<PagedTable> {
        PagedTable::new(&self.dir, self.row, self.max_pages * self.page_bytes())
    }

    /// Writes back and drops cached pages until at most [`MIN_PAGES`] remain: a table read
    /// once more in order, beside a new one that is to have the cache.
    pub fn shrink_cache(&mut self) -> io::Result<()> {
        while self.pages.len() > MIN_PAGES {
            self.evict()?;
        }
        Ok(())
    }

    /// Appends a row (`row` must be a row's size).
    pub fn push(&mut self, row: &[u8]) -> io::Result<()> {
        let i = self.len;
        self.len += 1;
        let r = self.put(i, row);
        if r.is_err() {
            self.len -= 1;
        }
        r
    }

    /// Row `i` into `out` (a row's size).
    pub fn read(&mut self, i: u64, out: &mut [u8]) -> io::Result<()> {
        let at = self.at(i, out.len())?;
        let page = self.page(i / self.per_page as u64)?;
        out.copy_from_slice(&page.data[at..at + out.len()]);
        Ok(())
    }

    /// Writes row `i`, which exists.
    pub fn write(&mut self, i: u64, row: &[u8]) -> io::Result<()> {
        if i >= self.len {
            return Err(self.out_of_range(i));
        }
        self.put(i, row)
    }

    fn put(&mut self, i: u64, row: &[u8]) -> io::Result<()> {
        let at = self.at(i, row.len())?;
        let page = self.page(i / self.per_page as u64)?;
        page.data[at..at + row.len()].copy_from_slice(row);
        page.dirty = true;
        Ok(())
    }

    /// Where row `i` starts in its page, if it exists and `n` is a row's size.
    fn at(&self, i: u64, n: usize) -> io::Result<usize> {
        if i >= self.len {
            return Err(self.out_of_range(i));
        }
        if n != self.row {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a row of {} bytes is {n}", self.row),
            ));
        }
        Ok((i % self.per_page as u64) as usize * self.row)
    }

    fn out_of_range(&self, i: u64) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("row {i} of a table of {} rows", self.len),
        )
    }

    fn page_bytes(&self) -> usize {
        self.per_page * self.row
    }

    /// Page `p`, from the cache or read into it (a page never written reads as zeros), the
    /// least recently used page written back and dropped first if the cache is full.
    fn page(&mut self, p: u64) -> io::Result<&mut Page> {
        self.clock += 1;
        let now = self.clock;
        if !self.pages.contains_key(&p) {
            self.misses += 1;
            if self.pages.len() >= self.max_pages {
                self.evict()?;
            }
            let mut data = vec![0u8; self.page_bytes()].into_boxed_slice();
            let off = p * self.page_bytes() as u64;
            let mut got = 0;
            while got < data.len() {
                match self.file.read_at(&mut data[got..], off + got as u64) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(named(&self.dir, e)),
                }
            }
            self.pages.insert(
                p,
                Page {
                    data,
                    dirty: false,
                    used: now,
                },
            );
        }
        let page = self
            .pages
            .get_mut(&p)
            .ok_or_else(|| io::Error::other("a page just cached is missing"))?;
        page.used = now;
        Ok(page)
    }

    /// Writes back (if changed) and drops the least recently used page.
    fn evict(&mut self) -> io::Result<()> {
        let Some(p) = self
            .pages
            .iter()
            .min_by_key(|(_, page)| page.used)
            .map(|(p, _)| *p)
        else {
            return Ok(());
        };
        let off = p * self.page_bytes() as u64;
        if let Some(page) = self.pages.get(&p) {
            if page.dirty {
                self.file
                    .write_all_at(&page.data, off)
                    .map_err(|e| named(&self.dir, e))?;
            }
        }
        self.pages.remove(&p);
        Ok(())
    }
}

/// A [`PagedTable`] the rules' state reads through `&self` (a lookup) as well as writes:
/// behind a lock, and shared by a copy of the state (an election on disk is a verifier's, which
/// never copies it). The first I/O error is kept rather than returned, so that a rule sees a
/// missing row; the election then has no verdict ([`super::Election::disk_failure`]).
#[derive(Clone)]
pub(super) struct Shared(Arc<Mutex<Inner>>);

struct Inner {
    table: PagedTable,
    failed: Option<io::Error>,
}

impl Shared {
    pub(super) fn new(table: PagedTable) -> Shared {
        Shared(Arc::new(Mutex::new(Inner {
            table,
            failed: None,
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn len(&self) -> u64 {
        self.lock().table.len()
    }

    /// Row `i` into `out`; `false` (the error kept) if it could not be read.
    pub(super) fn read(&self, i: u64, out: &mut [u8]) -> bool {
        let mut g = self.lock();
        let r = g.table.read(i, out);
        g.keep(r)
    }

    /// Writes row `i`; `false` (the error kept) if it could not be written.
    pub(super) fn write(&self, i: u64, row: &[u8]) -> bool {
        let mut g = self.lock();
        let r = g.table.write(i, row);
        g.keep(r)
    }

    /// Appends a row; `false` (the error kept) if it could not be.
    pub(super) fn push(&self, row: &[u8]) -> bool {
        let mut g = self.lock();
        let r = g.table.push(row);
        g.keep(r)
    }

    /// Appends `n` rows of zeros ([`PagedTable::extend_zeroed`]).
    pub(super) fn extend_zeroed(&self, n: u64) {
        self.lock().table.extend_zeroed(n);
    }

    /// A new empty table like this one ([`PagedTable::empty_like`]); `None` (the error kept
    /// here) if its file could not be made.
    pub(super) fn empty_like(&self) -> Option<Shared> {
        let mut g = self.lock();
        match g.table.empty_like() {
            Ok(t) => Some(Shared::new(t)),
            Err(e) => {
                g.keep(Err(e));
                None
            }
        }
    }

    /// Shrinks the cache ([`PagedTable::shrink_cache`]); `false` (the error kept) if a page
    /// could not be written back.
    pub(super) fn shrink_cache(&self) -> bool {
        let mut g = self.lock();
        let r = g.table.shrink_cache();
        g.keep(r)
    }

    /// Keeps `e` as the table's failure (if it had none): no verdict stands then.
    pub(super) fn fail(&self, e: io::Error) {
        self.lock().keep(Err(e));
    }

    /// The first I/O error, if any (a copy: its kind and message).
    pub(super) fn failure(&self) -> Option<io::Error> {
        self.lock()
            .failed
            .as_ref()
            .map(|e| io::Error::new(e.kind(), e.to_string()))
    }
}

impl Inner {
    fn keep(&mut self, r: io::Result<()>) -> bool {
        match r {
            Ok(()) => true,
            Err(e) => {
                self.failed.get_or_insert(e);
                false
            }
        }
    }
}

/// An error of the table's disk, saying where.
fn named(dir: &Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("keeping the verifier's tables in {}: {e}", dir.display()),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn row(i: u64, n: usize) -> Vec<u8> {
        (0..n).map(|k| (i as usize * 31 + k) as u8).collect()
    }

    #[test]
    fn reads_back_what_it_wrote_through_a_cache_of_two_pages() {
        let dir = tempfile::tempdir().unwrap();
        // 85-byte rows do not divide a page: rows never straddle one.
        let mut t = PagedTable::new(dir.path(), 85, 0).unwrap();
        let n = 5000u64;
        for i in 0..n {
            t.push(&row(i, 85)).unwrap();
        }
        // Rewrite every seventh, in a scattered order.
        for i in (0..n).rev().filter(|i| i % 7 == 0) {
            t.write(i, &row(i + 1, 85)).unwrap();
        }
        let mut out = vec![0u8; 85];
        for k in 0..n {
            let i = (k * 2654435761) % n;
            t.read(i, &mut out).unwrap();
            let want = if i % 7 == 0 {
                row(i + 1, 85)
            } else {
                row(i, 85)
            };
            assert_eq!(out, want, "row {i}");
        }
        assert!(t.misses() > n / 2, "a cache of two pages evicts");
        assert!(t.read(n, &mut out).is_err());
        assert!(t.write(n, &out).is_err());
        assert!(t.read(0, &mut [0u8; 3]).is_err());
        // No name in the directory, ever.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_directory_it_cannot_write_to_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let e = PagedTable::new(&gone, 8, 0).err().unwrap();
        assert!(e.to_string().contains("gone"), "{e}");
    }
}
