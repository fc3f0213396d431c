//! Batch verification: many verification equations checked with one multiscalar multiplication.
//!
//! Each proof contributes equations of the form `Σ sᵢ·Pᵢ = 0`. The batch multiplies each by an
//! independent random 128-bit weight `z` and checks that the sum of all of them is the identity.
//! If any single equation fails, the sum is the identity with probability at most 2⁻¹²⁸ over
//! the weights. Coefficients of the fixed generators (`G`, `H`, and points such as the election
//! key that recur across proofs) are coalesced so each appears once in the multiplication.
//!
//! The weights are not part of any proof: they come from the verifier's randomness. A caller
//! that needs reproducible runs (a replay in a test) passes a fixed seed.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};
use rayon::prelude::*;
use std::sync::Arc;

use crate::errors::VerifyError;
use crate::group::{g, h, Point};

/// How many distinct recurring points are coalesced; further ones are treated as ordinary terms.
const MAX_FIXED: usize = 16;

/// Accumulates random-weighted verification equations.
pub struct BatchVerifier {
    rng: ChaCha20Rng,
    g: Scalar,
    h: Scalar,
    fixed: Vec<(Point, Scalar)>,
    scalars: Vec<Scalar>,
    points: Vec<RistrettoPoint>,
    /// Generator vectors shared by many proofs (the bulletproofs' `𝐆`, `𝐇`), each with the
    /// summed coefficients of its points, so a batch of `b` range proofs multiplies each
    /// generator once instead of `b` times.
    tables: Vec<(Table, Vec<Scalar>)>,
    equations: usize,
}

/// A vector of generators whose coefficients a batch sums across proofs (see
/// [`BatchVerifier::table`]); tables are told apart by identity (`Arc::ptr_eq`).
pub type Table = Arc<Vec<RistrettoPoint>>;

impl BatchVerifier {
    /// A batch whose weights are drawn from a generator seeded by `rng`.
    pub fn new<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Self::from_seed(seed)
    }

    /// A batch with reproducible weights. The seed must be unpredictable to whoever made the
    /// proofs, or the batch is not sound.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        BatchVerifier {
            rng: ChaCha20Rng::from_seed(seed),
            g: Scalar::ZERO,
            h: Scalar::ZERO,
            fixed: Vec::new(),
            scalars: Vec::new(),
            points: Vec::new(),
            tables: Vec::new(),
            equations: 0,
        }
    }

    /// Starts a new equation with a fresh random weight.
    pub fn equation(&mut self) -> Equation<'_> {
        let z = self.weight();
        Equation { z, batch: self }
    }

    /// A fresh random 128-bit weight for one equation, for callers that merge the terms of
    /// several equations sharing a point (see [`WeightedTerms`]).
    pub fn weight(&mut self) -> Scalar {
        let mut w = [0u8; 32];
        self.rng.fill_bytes(&mut w[..16]);
        self.equations += 1;
        Scalar::from_bytes_mod_order(w)
    }

    /// A generator for verifier randomness that a sub-verifier draws itself (bulletproofs picks
    /// its own combination weight), derived from this batch's secret stream.
    pub fn fork_rng(&mut self) -> ChaCha20Rng {
        let mut seed = [0u8; 32];
        self.rng.fill_bytes(&mut seed);
        ChaCha20Rng::from_seed(seed)
    }

    /// Terms already multiplied by their equations' weights.
    pub fn weighted(&mut self) -> WeightedTerms<'_> {
        WeightedTerms { batch: self }
    }

    fn add_fixed(&mut self, zs: Scalar, p: &Point) {
        if let Some(slot) = self.fixed.iter_mut().find(|(q, _)| q == p) {
            slot.1 += zs;
        } else if self.fixed.len() < MAX_FIXED {
            self.fixed.push((*p, zs));
        } else {
            self.scalars.push(zs);
            self.points.push(*p.point());
        }
    }

    /// The coefficients of `table`'s points in this batch, one per point, to which a proof adds
    /// its (already weighted) terms.
    pub fn table(&mut self, table: &Table) -> &mut [Scalar] {
        let at = match self.tables.iter().position(|(t, _)| Arc::ptr_eq(t, table)) {
            Some(i) => i,
            None => {
                self.tables
                    .push((Arc::clone(table), vec![Scalar::ZERO; table.len()]));
                self.tables.len() - 1
            }
        };
        &mut self.tables[at].1
    }

    pub fn len(&self) -> usize {
        self.equations
    }

    pub fn is_empty(&self) -> bool {
        self.equations == 0
    }

    /// Reserves room for `n` more ordinary terms.
    pub fn reserve(&mut self, n: usize) {
        self.scalars.reserve(n);
        self.points.reserve(n);
    }

    /// Once the first of `items` similar items is queued: room for the others' terms, as many
    /// as the first's, and for what [`BatchVerifier::verify_vartime`] appends, so that the
    /// terms of a whole batch (megabytes: a point takes 160 bytes) are neither copied as they
    /// grow nor once more at the end.
    fn reserve_like_first(&mut self, items: usize) {
        let tables: usize = self.tables.iter().map(|(t, _)| t.len()).sum();
        let n = self.scalars.len() * items.saturating_sub(1) + tables + 2 + MAX_FIXED;
        self.scalars.reserve(n);
        self.points.reserve(n);
    }

    /// Checks every queued equation at once (variable time: all inputs are public).
    pub fn verify_vartime(self) -> Result<(), VerifyError> {
        let BatchVerifier {
            g: gs,
            h: hs,
            fixed,
            mut scalars,
            mut points,
            tables,
            ..
        } = self;
        for (table, coefficients) in tables {
            scalars.extend(coefficients);
            points.extend(table.iter());
        }
        scalars.push(gs);
        points.push(*g());
        scalars.push(hs);
        points.push(*h());
        for (p, s) in fixed {
            scalars.push(s);
            points.push(*p.point());
        }
        let sum = RistrettoPoint::vartime_multiscalar_mul(scalars.iter(), points.iter());
        if sum.is_identity() {
            Ok(())
        } else {
            Err(VerifyError::BatchFailed)
        }
    }
}

/// One equation `Σ sᵢ·Pᵢ = 0` being added to a batch; every term is multiplied by its weight.
pub struct Equation<'a> {
    batch: &'a mut BatchVerifier,
    z: Scalar,
}

impl Equation<'_> {
    /// A term `s·G`.
    pub fn g(&mut self, s: &Scalar) -> &mut Self {
        self.batch.g += self.z * s;
        self
    }

    /// A term `s·H`.
    pub fn h(&mut self, s: &Scalar) -> &mut Self {
        self.batch.h += self.z * s;
        self
    }

    /// A term `s·P` for a point expected to recur across the batch (a public key).
    pub fn fixed(&mut self, s: &Scalar, p: &Point) -> &mut Self {
        self.batch.add_fixed(self.z * s, p);
        self
    }

    /// A term `s·P`.
    pub fn point(&mut self, s: &Scalar, p: &RistrettoPoint) -> &mut Self {
        self.batch.scalars.push(self.z * s);
        self.batch.points.push(*p);
        self
    }
}

/// Terms whose scalars the caller has already multiplied by weights from
/// [`BatchVerifier::weight`]. A proof whose equations share a point (a ciphertext appearing in
/// every branch of a disjunction) adds that point once with the summed coefficient, which keeps
/// the multiscalar multiplication small.
pub struct WeightedTerms<'a> {
    batch: &'a mut BatchVerifier,
}

impl WeightedTerms<'_> {
    pub fn g(&mut self, zs: Scalar) -> &mut Self {
        self.batch.g += zs;
        self
    }

    pub fn h(&mut self, zs: Scalar) -> &mut Self {
        self.batch.h += zs;
        self
    }

    pub fn fixed(&mut self, zs: Scalar, p: &Point) -> &mut Self {
        self.batch.add_fixed(zs, p);
        self
    }

    pub fn point(&mut self, zs: Scalar, p: &RistrettoPoint) -> &mut Self {
        self.batch.scalars.push(zs);
        self.batch.points.push(*p);
        self
    }
}

/// The items of a batch that failed, each with the reason it failed on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFailure {
    pub failures: Vec<(usize, VerifyError)>,
}

/// Verifies every item, batching them across all cores; on failure, finds which items fail.
///
/// `queue` adds one item's equations to a batch (or returns an error for an item that is
/// invalid before any arithmetic, e.g. a shape mismatch). Items are split into one chunk per
/// worker; a failing chunk is bisected down to the failing items, so a batch with `f` bad
/// items costs `O(f · log n)` extra batches.
pub fn verify_all_vartime<T, F>(items: &[T], seed: [u8; 32], queue: F) -> Result<(), BatchFailure>
where
    T: Sync,
    F: Fn(&T, &mut BatchVerifier) -> Result<(), VerifyError> + Sync,
{
    let workers = rayon::current_num_threads().max(1);
    let chunk = items.len().div_ceil(workers).max(1);
    let mut failures: Vec<(usize, VerifyError)> = items
        .par_chunks(chunk)
        .enumerate()
        .flat_map_iter(|(ci, part)| {
            let mut out = Vec::new();
            bisect(part, ci * chunk, &seed, &queue, &mut out);
            out
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        failures.sort_by_key(|(i, _)| *i);
        Err(BatchFailure { failures })
    }
}

fn sub_seed(seed: &[u8; 32], offset: usize, len: usize) -> [u8; 32] {
    // Distinct sub-batches get distinct, unpredictable weights.
    let mut rng = ChaCha20Rng::from_seed(*seed);
    rng.set_stream(((offset as u64) << 32) ^ len as u64);
    let mut s = [0u8; 32];
    rng.fill_bytes(&mut s);
    s
}

fn bisect<T, F>(
    items: &[T],
    offset: usize,
    seed: &[u8; 32],
    queue: &F,
    out: &mut Vec<(usize, VerifyError)>,
) where
    F: Fn(&T, &mut BatchVerifier) -> Result<(), VerifyError>,
{
    if items.is_empty() {
        return;
    }
    let mut batch = BatchVerifier::from_seed(sub_seed(seed, offset, items.len()));
    let mut structural = false;
    for (i, item) in items.iter().enumerate() {
        if let Err(e) = queue(item, &mut batch) {
            if items.len() == 1 {
                out.push((offset + i, e));
                return;
            }
            structural = true;
            break;
        }
        if i == 0 {
            batch.reserve_like_first(items.len());
        }
    }
    if !structural {
        match batch.verify_vartime() {
            Ok(()) => return,
            Err(e) if items.len() == 1 => {
                out.push((offset, e));
                return;
            }
            Err(_) => {}
        }
    }
    let mid = items.len() / 2;
    bisect(&items[..mid], offset, seed, queue, out);
    bisect(&items[mid..], offset + mid, seed, queue, out);
}
