//! The Terelius–Wikström proof of a shuffle: prover, verifier, canonical encoding.
//!
//! Symbols and equation numbers are those of `specs/notes-shuffle.md` (included in the module
//! documentation); rows are numbered from 0 here and from 1 there, so `d[i]` is `D_{i+1}`.

use std::sync::LazyLock;

use curve25519_dalek::ristretto::{RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity, VartimeMultiscalarMul};
use merlin::Transcript;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};
use rayon::prelude::*;
use zeroize::Zeroizing;

use super::generators::{ShuffleGenerators, MAX_ROWS};
use super::permutation::{chunk_seeds, Rows, ShuffleWitness, MAX_WIDTH, RNG_CHUNK};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::elgamal::PublicKey;
use crate::errors::{DecodeError, ParamError, VerifyError};
use crate::group::{g, mul_g, Point};
use crate::secret::SecretScalar;
use crate::transcript::{expand_challenges, proof_transcript, TranscriptProtocol};

const DOMAIN: &[u8] = b"shuffle-v1";

/// Domain-separation prefixes of the expansions of the challenge vectors `u` and `x`.
const U_DST: &[u8] = b"urna-v1 shuffle u";
const X_DST: &[u8] = b"urna-v1 shuffle x";

/// Rows per multiscalar multiplication: large enough for Pippenger to pay off, small enough that
/// memory stays bounded (a few MB per thread) whatever the list length.
const MSM_CHUNK: usize = 2048;

/// Rows per unit of parallel work: `max` for long lists, less for short ones so that every core
/// has some (but never under `min`, below which per-chunk overheads dominate).
fn work_chunk(n: usize, min: usize, max: usize) -> usize {
    n.div_ceil(4 * rayon::current_num_threads()).clamp(min, max)
}

/// `1/2 mod ℓ`: points computed as halves compress in batches (see `double_and_compress_batch`).
static HALF: LazyLock<Scalar> = LazyLock::new(|| Scalar::from(2u64).invert());

/// What a shuffle proof proves: `outputs` is a re-encryption under `pk` of a permutation of
/// `inputs` (rows move as units).
#[derive(Clone, Copy, Debug)]
pub struct ShuffleStatement<'a> {
    pub pk: &'a PublicKey,
    pub inputs: Rows<'a>,
    pub outputs: Rows<'a>,
}

impl ShuffleStatement<'_> {
    /// `(N, w)` when inputs and outputs agree in shape.
    fn shape(&self) -> Option<(usize, usize)> {
        let (n, w) = (self.inputs.len(), self.inputs.width());
        (self.outputs.len() == n && self.outputs.width() == w).then_some((n, w))
    }
}

/// A non-interactive proof that a list of ciphertext rows is a re-encrypted permutation of
/// another. Size: `6 + 32·(3N + 8 + 3w)` bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShuffleProof {
    /// `C_1 … C_N`: commitments to the permutation.
    c: Vec<Point>,
    /// `D_1 … D_N`: the commitment chain.
    d: Vec<Point>,
    a1: Point,
    a2: Point,
    a3: Point,
    /// `(A4α_k, A4β_k)` for each component `k`.
    a4: Vec<(Point, Point)>,
    /// The commitment of the (batched) proof of the chain.
    b: Point,
    s1: Scalar,
    s2: Scalar,
    s3: Scalar,
    s4: Vec<Scalar>,
    s_hat: Scalar,
    s_prime: Vec<Scalar>,
}

/// `v_j = from_wide(SHA-512(dst ‖ seed ‖ u64(j)))`, `j = 1 … N`: a challenge vector from 32
/// transcript bytes.
fn expand(dst: &[u8], seed: &[u8; 32], n: usize) -> Vec<Scalar> {
    expand_challenges(dst, seed, n)
}

fn append_rows(t: &mut Transcript, label: &'static [u8], rows: Rows<'_>) {
    let mut buf = Vec::with_capacity(64 * rows.width());
    for row in rows.iter() {
        buf.clear();
        for ct in row {
            buf.extend_from_slice(ct.alpha.as_bytes());
            buf.extend_from_slice(ct.beta.as_bytes());
        }
        t.append_message(label, &buf);
    }
}

/// The transcript up to and including the statement (`specs/crypto.md` §12.4).
fn statement_transcript(
    gens: &ShuffleGenerators,
    st: &ShuffleStatement<'_>,
    mixer: &[u8],
    ctx: &[u8],
) -> Transcript {
    let mut t = proof_transcript(DOMAIN, ctx);
    t.append_message(b"mixer", mixer);
    t.append_message(b"seed", gens.seed());
    t.append_point(b"K", st.pk.point());
    t.append_u64(b"w", st.inputs.width() as u64);
    t.append_u64(b"N", st.inputs.len() as u64);
    append_rows(&mut t, b"e", st.inputs);
    append_rows(&mut t, b"e'", st.outputs);
    t
}

/// Appends the permutation commitments and draws the challenge vector `u`.
fn challenge_u(t: &mut Transcript, c: &[Point]) -> Vec<Scalar> {
    for p in c {
        t.append_point(b"C", p);
    }
    let mut seed = [0u8; 32];
    t.challenge_bytes(b"u", &mut seed);
    expand(U_DST, &seed, c.len())
}

/// Appends the commitment chain and draws the challenge vector `x` that batches its proofs.
fn challenge_x(t: &mut Transcript, d: &[Point]) -> Vec<Scalar> {
    for p in d {
        t.append_point(b"D", p);
    }
    let mut seed = [0u8; 32];
    t.challenge_bytes(b"x", &mut seed);
    expand(X_DST, &seed, d.len())
}

/// Appends the proof commitments and draws the challenge `c`.
fn challenge_c(
    t: &mut Transcript,
    a1: &Point,
    a2: &Point,
    a3: &Point,
    a4: &[(Point, Point)],
    b: &Point,
) -> Scalar {
    t.append_point(b"A1", a1);
    t.append_point(b"A2", a2);
    t.append_point(b"A3", a3);
    for (alpha, beta) in a4 {
        let mut buf = [0u8; 64];
        buf[..32].copy_from_slice(alpha.as_bytes());
        buf[32..].copy_from_slice(beta.as_bytes());
        t.append_message(b"A4", &buf);
    }
    t.append_point(b"B", b);
    t.challenge_scalar(b"c")
}

/// `xᵢ·F + yᵢ·F_0` for `i < n` with constant-time fixed-base tables, compressing each chunk with
/// one shared inversion: the halves are computed and `double_and_compress_batch` encodes their
/// doubles.
fn two_base_points<X>(gens: &ShuffleGenerators, n: usize, xy: X) -> Vec<Point>
where
    X: Fn(usize) -> (Scalar, Scalar) + Sync,
{
    let (ft, f0t): (&RistrettoBasepointTable, &RistrettoBasepointTable) =
        (gens.blinding_table(), gens.chain_table());
    let half = *HALF;
    // Written in place: collecting per-chunk vectors would briefly hold every point twice.
    let mut out = vec![Point::identity(); n];
    let chunk = work_chunk(n, 64, 1024);
    out.par_chunks_mut(chunk)
        .enumerate()
        .for_each(|(ci, slots)| {
            let lo = ci * chunk;
            let halves: Vec<RistrettoPoint> = (lo..lo + slots.len())
                .map(|i| {
                    let (x, y) = xy(i);
                    &(x * half) * ft + &(y * half) * f0t
                })
                .collect();
            let enc = RistrettoPoint::double_and_compress_batch(&halves);
            for ((slot, h), e) in slots.iter_mut().zip(halves).zip(enc) {
                *slot = Point::from_parts(h + h, e);
            }
        });
    out
}

/// Sums of `Σᵢ ωᵢ·Pᵢ` for several point columns sharing the scalars `ω`, chunked and on all
/// cores. Variable time: see the side-channel note of the module.
fn shared_scalar_msms_vartime<P>(omega: &[Scalar], columns: usize, point: P) -> Vec<RistrettoPoint>
where
    P: Fn(usize, usize) -> RistrettoPoint + Sync,
{
    let n = omega.len();
    let chunk = work_chunk(n, 256, MSM_CHUNK);
    (0..n.div_ceil(chunk))
        .into_par_iter()
        .map(|ci| {
            let lo = ci * chunk;
            let hi = (lo + chunk).min(n);
            (0..columns)
                .map(|col| {
                    RistrettoPoint::vartime_multiscalar_mul(
                        &omega[lo..hi],
                        (lo..hi).map(|i| point(col, i)),
                    )
                })
                .collect::<Vec<_>>()
        })
        .reduce(
            || vec![RistrettoPoint::identity(); columns],
            |a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect(),
        )
}

fn random_scalars<R: RngCore + CryptoRng>(rng: &mut R, k: usize) -> Zeroizing<Vec<Scalar>> {
    Zeroizing::new((0..k).map(|_| Scalar::random(rng)).collect())
}

impl ShuffleProof {
    /// Proves that `st.outputs` is the shuffle of `st.inputs` that `witness` describes, for
    /// `mixer` (the mixer's identity, e.g. its public key) under the caller's context bytes
    /// `ctx` (the election context, and whatever else the caller binds).
    ///
    /// The witness is not re-checked (that would cost as much as the shuffle): a witness that
    /// does not match produces a proof that fails verification.
    ///
    /// `vartime`: fixed-base multiplications are constant time, but the permutation is applied
    /// by indexed memory access and the commitments `A3`, `A4` use variable-time multiscalar
    /// multiplication with nonces that, with the public responses, reveal the permutation. Run
    /// a mixer on a machine that shares no CPU with untrusted code.
    pub fn prove_vartime<R: RngCore + CryptoRng>(
        gens: &ShuffleGenerators,
        st: &ShuffleStatement<'_>,
        witness: &ShuffleWitness,
        mixer: &[u8],
        ctx: &[u8],
        rng: &mut R,
    ) -> Result<Self, ParamError> {
        let (n, w) = st
            .shape()
            .ok_or(ParamError::ShapeMismatch("shuffle inputs and outputs"))?;
        if n == 0 {
            return Err(ParamError::Unsupported(
                "a shuffle takes at least one row (skip the mix of an empty list)",
            ));
        }
        if n > gens.capacity() {
            return Err(ParamError::OutOfRange {
                value: n as u64,
                max: gens.capacity() as u64,
            });
        }
        let pi = witness.permutation().as_slice();
        let rho = witness.randomness();
        if pi.len() != n || rho.len() != n * w {
            return Err(ParamError::ShapeMismatch("shuffle witness and statement"));
        }
        let inv = witness.permutation().inverse();
        let (inv, msg) = (inv.as_slice(), gens.message());
        Ok(Self::prove_matrix(
            gens,
            st,
            |j| msg[inv[j] as usize],
            |u, i| u[pi[i] as usize],
            |_, p| p,
            rho,
            mixer,
            ctx,
            rng,
        ))
    }

    /// The prover for the committed matrix `M` (output row `i` is `Σ_j M_ij·e_j`, re-encrypted):
    /// `column(j) = Σ_i M_ij·F_{i+1}` is the message part of `C_j` and `row(u, i) = (M·u)_i`;
    /// `chain(i, P_i)` is the `F_0` coefficient committed in `D_i` (`P_i` for an honest chain).
    /// Only a permutation matrix and an honest chain give a proof that verifies; tests use the
    /// others to play cheating mixers. Shapes are the caller's to check.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn prove_matrix<R: RngCore + CryptoRng>(
        gens: &ShuffleGenerators,
        st: &ShuffleStatement<'_>,
        column: impl Fn(usize) -> RistrettoPoint + Sync,
        row: impl Fn(&[Scalar], usize) -> Scalar + Sync,
        chain: impl Fn(usize, Scalar) -> Scalar + Sync,
        rho: &[SecretScalar],
        mixer: &[u8],
        ctx: &[u8],
        rng: &mut R,
    ) -> Self {
        let (n, w) = (st.inputs.len(), st.inputs.width());
        let (ft, f0t) = (gens.blinding_table(), gens.chain_table());
        let msg = gens.message();

        // Per-row nonces: r (permutation commitments), R (chain), ω'.
        let mut r = Zeroizing::new(vec![Scalar::ZERO; n]);
        let mut big_r = Zeroizing::new(vec![Scalar::ZERO; n]);
        let mut omega_p = Zeroizing::new(vec![Scalar::ZERO; n]);
        let seeds = chunk_seeds(rng, n);
        r.par_chunks_mut(RNG_CHUNK)
            .zip(big_r.par_chunks_mut(RNG_CHUNK))
            .zip(omega_p.par_chunks_mut(RNG_CHUNK))
            .zip(seeds.par_iter())
            .for_each(|(((r, big_r), om), seed)| {
                let mut chunk_rng = ChaCha20Rng::from_seed(*seed);
                for v in [r, big_r, om] {
                    v.iter_mut()
                        .for_each(|x| *x = Scalar::random(&mut chunk_rng));
                }
            });

        // C_j = r_j·F + F_{π⁻¹(j)}.
        let c: Vec<Point> = (0..n)
            .into_par_iter()
            .map(|j| Point::from_point(&r[j] * ft + column(j)))
            .collect();

        let mut t = statement_transcript(gens, st, mixer, ctx);
        let u = challenge_u(&mut t, &c);
        // u'_i: for a permutation, u_{π(i)}.
        let u_perm = |i: usize| row(&u, i);

        // P_i = u'_1 ⋯ u'_i: the chain opens to the product of the permuted challenges.
        let mut prods = Zeroizing::new(Vec::with_capacity(n));
        let mut acc = Scalar::ONE;
        for i in 0..n {
            acc *= u_perm(i);
            prods.push(acc);
        }
        // D_i = R_i·F + P_i·F_0, i.e. D_i = r̂_i·F + u'_i·D_{i−1} with r̂_i = R_i − u'_i·R_{i−1}.
        let d = two_base_points(gens, n, |i| (big_r[i], chain(i, prods[i])));
        let x = challenge_x(&mut t, &d);

        // ω_1, ω_2, ω_3, then β (below), then ω_{4,k}.
        let omega = random_scalars(rng, 4 + w);
        // B = ω̂·F + Σ_i x_i·ω'_i·D_{i−1} = β·F + (Σ_i x_i·ω'_i·P_{i−1})·F_0 with
        // ω̂ = β − Σ_i x_i·ω'_i·R_{i−1}: two fixed-base multiplications in all.
        let prev = |v: &[Scalar], i: usize, first: Scalar| if i == 0 { first } else { v[i - 1] };
        let xw_p: Scalar = (0..n)
            .into_par_iter()
            .map(|i| x[i] * omega_p[i] * prev(&prods, i, Scalar::ONE))
            .sum();
        let xw_r: Scalar = (0..n)
            .into_par_iter()
            .map(|i| x[i] * omega_p[i] * prev(&big_r, i, Scalar::ZERO))
            .sum();
        let b = Point::from_point(&omega[3] * ft + &xw_p * f0t);
        let a1 = Point::from_point(&omega[0] * ft);
        let a2 = Point::from_point(&omega[1] * ft);
        let outs = st.outputs.flat();
        let sums = shared_scalar_msms_vartime(&omega_p, 1 + 2 * w, |col, i| match col {
            0 => msg[i],
            col => {
                let ct = &outs[i * w + (col - 1) / 2];
                if col % 2 == 1 {
                    *ct.alpha.point()
                } else {
                    *ct.beta.point()
                }
            }
        });
        let a3 = Point::from_point(&omega[2] * ft + sums[0]);
        let a4: Vec<(Point, Point)> = (0..w)
            .map(|k| {
                let o4 = &omega[4 + k];
                (
                    Point::from_point(sums[1 + 2 * k] - mul_g(o4)),
                    Point::from_point(sums[2 + 2 * k] - st.pk.mul(o4)),
                )
            })
            .collect();

        let ch = challenge_c(&mut t, &a1, &a2, &a3, &a4, &b);

        let r_sum: Scalar = r.par_iter().sum();
        let ru_sum: Scalar = r.par_iter().zip(&u).map(|(r, u)| r * u).sum();
        let s4 = (0..w)
            .map(|k| {
                let rho_k: Scalar = (0..n)
                    .into_par_iter()
                    .map(|i| u_perm(i) * rho[i * w + k].expose())
                    .sum();
                omega[4 + k] + ch * rho_k
            })
            .collect();
        // ρ̂ = Σ_i x_i·r̂_i with r̂_i = R_i − u'_i·R_{i−1}.
        let rho_hat: Scalar = (0..n)
            .into_par_iter()
            .map(|i| x[i] * (big_r[i] - u_perm(i) * prev(&big_r, i, Scalar::ZERO)))
            .sum();
        let s_hat = omega[3] - xw_r + ch * rho_hat;
        let s_prime: Vec<Scalar> = (0..n)
            .into_par_iter()
            .map(|i| omega_p[i] + ch * u_perm(i))
            .collect();
        ShuffleProof {
            c,
            d,
            a1,
            a2,
            a3,
            a4,
            b,
            s1: omega[0] + ch * r_sum,
            s2: omega[1] + ch * big_r[n - 1],
            s3: omega[2] + ch * ru_sum,
            s4,
            s_hat,
            s_prime,
        }
    }

    /// `N`, the number of rows the proof is for.
    pub fn rows(&self) -> usize {
        self.c.len()
    }

    /// `w`, the number of ciphertexts in a row.
    pub fn width(&self) -> usize {
        self.a4.len()
    }

    /// `C_1 … C_N` and `D_1 … D_N`: the per-row commitments, for a caller that posts a long
    /// proof in pieces (with [`ShuffleProof::responses`] and
    /// [`ShuffleProof::encode_closing`], the pieces of the §12.7 encoding).
    pub fn commitments(&self) -> (&[Point], &[Point]) {
        (&self.c, &self.d)
    }

    /// `s'_1 … s'_N`: the per-row responses.
    pub fn responses(&self) -> &[Scalar] {
        &self.s_prime
    }

    /// The fields of the encoding between `D_N` and `s'_1`:
    /// `A1 ‖ A2 ‖ A3 ‖ (A4α_k ‖ A4β_k)[w] ‖ B ‖ s1 ‖ s2 ‖ s3 ‖ s4[w] ‖ ŝ`.
    pub fn encode_closing(&self, out: &mut Vec<u8>) {
        for p in [&self.a1, &self.a2, &self.a3] {
            p.encode(out);
        }
        for (alpha, beta) in &self.a4 {
            alpha.encode(out);
            beta.encode(out);
        }
        self.b.encode(out);
        for s in [&self.s1, &self.s2, &self.s3] {
            s.encode(out);
        }
        for s in &self.s4 {
            s.encode(out);
        }
        self.s_hat.encode(out);
    }

    /// The length of the canonical encoding of a proof for `n` rows of width `w`.
    pub fn encoded_len(n: usize, w: usize) -> u64 {
        6 + 32 * (3 * n as u64 + 8 + 3 * w as u64)
    }

    fn check_shape(
        &self,
        gens: &ShuffleGenerators,
        st: &ShuffleStatement<'_>,
    ) -> Result<(usize, usize), VerifyError> {
        let (n, w) = st
            .shape()
            .ok_or(VerifyError::ShapeMismatch("shuffle statement"))?;
        if n == 0 || n != self.rows() || w != self.width() {
            return Err(VerifyError::ShapeMismatch("shuffle proof"));
        }
        if n > gens.capacity() {
            return Err(VerifyError::ShapeMismatch("shuffle generators"));
        }
        for (rows, label) in [(st.inputs, "e"), (st.outputs, "e'")] {
            if rows
                .flat()
                .par_iter()
                .any(|ct| ct.alpha.is_identity() || ct.beta.is_identity())
            {
                return Err(VerifyError::IdentityCommitment(label));
            }
        }
        Ok((n, w))
    }

    /// The verifier's challenges, recomputed from the transcript. Exposed so that a second
    /// implementation can compare its intermediate values (`specs/vectors/shuffle.json`).
    pub fn challenges(
        &self,
        gens: &ShuffleGenerators,
        st: &ShuffleStatement<'_>,
        mixer: &[u8],
        ctx: &[u8],
    ) -> Result<ShuffleChallenges, VerifyError> {
        self.check_shape(gens, st)?;
        Ok(self.challenges_of_checked(gens, st, mixer, ctx))
    }

    fn challenges_of_checked(
        &self,
        gens: &ShuffleGenerators,
        st: &ShuffleStatement<'_>,
        mixer: &[u8],
        ctx: &[u8],
    ) -> ShuffleChallenges {
        let mut t = statement_transcript(gens, st, mixer, ctx);
        let u = challenge_u(&mut t, &self.c);
        let x = challenge_x(&mut t, &self.d);
        let c = challenge_c(&mut t, &self.a1, &self.a2, &self.a3, &self.a4, &self.b);
        ShuffleChallenges { u, x, c }
    }

    /// Verifies the proof for `mixer` under the caller's context bytes `ctx`.
    ///
    /// All the equations of `specs/crypto.md` §12.6 are checked at once: each is multiplied by
    /// an independent 128-bit weight drawn from `rng` (the verifier's randomness, never the
    /// transcript's, so a prover cannot search for weights that hide a false equation) and the
    /// weighted sum is one multiscalar multiplication, chunked over all cores.
    pub fn verify<R: RngCore + CryptoRng>(
        &self,
        gens: &ShuffleGenerators,
        st: &ShuffleStatement<'_>,
        mixer: &[u8],
        ctx: &[u8],
        rng: &mut R,
    ) -> Result<(), VerifyError> {
        let (n, w) = self.check_shape(gens, st)?;
        let ShuffleChallenges { u, x, c: ch } = self.challenges_of_checked(gens, st, mixer, ctx);
        let big_u: Scalar = u.par_iter().product();

        let mut weight = || {
            let mut b = [0u8; 32];
            rng.fill_bytes(&mut b[..16]);
            Scalar::from_bytes_mod_order(b)
        };
        let (l1, l2, l3, l5) = (weight(), weight(), weight(), weight());
        let mu: Vec<Scalar> = (0..w).map(|_| weight()).collect();
        let nu: Vec<Scalar> = (0..w).map(|_| weight()).collect();
        let c_mu: Vec<Scalar> = mu.iter().map(|m| ch * m).collect();
        let c_nu: Vec<Scalar> = nu.iter().map(|v| ch * v).collect();
        let (c_l1, c_l3, c_l5) = (ch * l1, ch * l3, ch * l5);
        let (ins, outs, msg) = (st.inputs.flat(), st.outputs.flat(), gens.message());

        // Every row's terms of equations (1)–(5), weighted; chunk by chunk on all cores.
        let chunk = work_chunk(n, 256, MSM_CHUNK);
        let sum = (0..n.div_ceil(chunk))
            .into_par_iter()
            .map(|ci| {
                let lo = ci * chunk;
                let hi = (lo + chunk).min(n);
                let terms = (hi - lo) * (3 + 4 * w);
                let mut scalars = Vec::with_capacity(terms);
                let mut points: Vec<&RistrettoPoint> = Vec::with_capacity(terms);
                for i in lo..hi {
                    let sp = self.s_prime[i];
                    // (1), (3): F_i
                    scalars.push(c_l1 + l3 * sp);
                    points.push(&msg[i]);
                    // (1), (3): C_i
                    scalars.push(-(c_l1 + c_l3 * u[i]));
                    points.push(self.c[i].point());
                    // (2), (5): D_i, which row i+1's link also opens
                    scalars.push(if i + 1 < n {
                        l5 * x[i + 1] * self.s_prime[i + 1] - c_l5 * x[i]
                    } else {
                        -(c_l5 * x[i] + ch * l2)
                    });
                    points.push(self.d[i].point());
                    // (4): inputs and outputs, component by component
                    for k in 0..w {
                        let (e, e2) = (&ins[i * w + k], &outs[i * w + k]);
                        scalars.push(-(c_mu[k] * u[i]));
                        points.push(e.alpha.point());
                        scalars.push(-(c_nu[k] * u[i]));
                        points.push(e.beta.point());
                        scalars.push(mu[k] * sp);
                        points.push(e2.alpha.point());
                        scalars.push(nu[k] * sp);
                        points.push(e2.beta.point());
                    }
                }
                RistrettoPoint::vartime_multiscalar_mul(scalars, points)
            })
            .reduce(RistrettoPoint::identity, |p, q| p + q);

        // The terms that are not per row.
        let mut scalars = vec![
            l1 * self.s1 + l2 * self.s2 + l3 * self.s3 + l5 * self.s_hat,
            l5 * x[0] * self.s_prime[0] + l2 * ch * big_u,
            -l1,
            -l2,
            -l3,
            -l5,
            -mu.iter().zip(&self.s4).map(|(m, s)| m * s).sum::<Scalar>(),
            -nu.iter().zip(&self.s4).map(|(v, s)| v * s).sum::<Scalar>(),
        ];
        let mut points = vec![
            *gens.blinding(),
            *gens.chain_base(),
            *self.a1.point(),
            *self.a2.point(),
            *self.a3.point(),
            *self.b.point(),
            *g(),
            *st.pk.point().point(),
        ];
        for (k, (alpha, beta)) in self.a4.iter().enumerate() {
            scalars.push(-mu[k]);
            points.push(*alpha.point());
            scalars.push(-nu[k]);
            points.push(*beta.point());
        }
        let total = sum + RistrettoPoint::vartime_multiscalar_mul(scalars, points);
        if total.is_identity() {
            Ok(())
        } else {
            Err(VerifyError::ProofInvalid("shuffle"))
        }
    }
}

/// The Fiat–Shamir challenges of a shuffle proof: `u_1 … u_N` (after the permutation
/// commitments), `x_1 … x_N` (after the chain) and `c`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShuffleChallenges {
    pub u: Vec<Scalar>,
    pub x: Vec<Scalar>,
    pub c: Scalar,
}

/// `u32 N ‖ u16 w ‖ C[N] ‖ D[N] ‖ A1 ‖ A2 ‖ A3 ‖ (A4α_k ‖ A4β_k)[w] ‖ B ‖ s1 ‖ s2 ‖ s3 ‖
/// s4[w] ‖ ŝ ‖ s'[N]` (`specs/crypto.md` §12.7).
impl Encode for ShuffleProof {
    fn encode(&self, out: &mut Vec<u8>) {
        // `rows()` ≤ u32::MAX and `width()` ≤ u16::MAX for every proof that exists: decoding and
        // proving both enforce it.
        out.reserve(Self::encoded_len(self.rows(), self.width()) as usize);
        out.put_u32(self.rows() as u32);
        out.put_u16(self.width() as u16);
        for p in self.c.iter().chain(&self.d) {
            p.encode(out);
        }
        self.encode_closing(out);
        for s in &self.s_prime {
            s.encode(out);
        }
    }
}

/// Decodes `n` points on all cores; on failure reports the first bad one in order.
fn decode_points(
    r: &mut Reader<'_>,
    n: usize,
    field: &'static str,
) -> Result<Vec<Point>, DecodeError> {
    let bytes = r.take(32 * n)?;
    let one = |b: &[u8]| -> Result<Point, DecodeError> {
        let arr: [u8; 32] = b
            .try_into()
            .map_err(|_| DecodeError::Invalid("point chunk"))?;
        Point::from_wire(&arr, field)
    };
    let all: Result<Vec<Point>, DecodeError> = bytes.par_chunks_exact(32).map(one).collect();
    all.or_else(|_| {
        // Which error is reported must not depend on thread scheduling.
        bytes
            .chunks_exact(32)
            .map(one)
            .find_map(Result::err)
            .map_or(Err(DecodeError::Invalid("point decoding")), Err)
    })
}

fn decode_scalars(r: &mut Reader<'_>, n: usize) -> Result<Vec<Scalar>, DecodeError> {
    let bytes = r.take(32 * n)?;
    bytes
        .chunks_exact(32)
        .map(|b| {
            let mut mini = Reader::new(b);
            Scalar::decode(&mut mini)
        })
        .collect()
}

impl Decode for ShuffleProof {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.u32()? as usize;
        let w = r.u16()? as usize;
        if n == 0 {
            return Err(DecodeError::LengthOutOfRange {
                len: 0,
                max: MAX_ROWS,
            });
        }
        if w == 0 {
            return Err(DecodeError::LengthOutOfRange {
                len: 0,
                max: MAX_WIDTH,
            });
        }
        // Check the whole length before allocating or decompressing anything.
        let needed = Self::encoded_len(n, w) - 6;
        if (r.remaining() as u64) < needed {
            return Err(DecodeError::Truncated {
                needed: usize::try_from(needed).unwrap_or(usize::MAX),
                remaining: r.remaining(),
            });
        }
        let c = decode_points(r, n, "C")?;
        let d = decode_points(r, n, "D")?;
        let a1 = Point::from_wire(&r.array()?, "A1")?;
        let a2 = Point::from_wire(&r.array()?, "A2")?;
        let a3 = Point::from_wire(&r.array()?, "A3")?;
        let a4_flat = decode_points(r, 2 * w, "A4")?;
        let a4 = a4_flat.chunks_exact(2).map(|p| (p[0], p[1])).collect();
        let b = Point::from_wire(&r.array()?, "B")?;
        let s1 = Scalar::decode(r)?;
        let s2 = Scalar::decode(r)?;
        let s3 = Scalar::decode(r)?;
        let s4 = decode_scalars(r, w)?;
        let s_hat = Scalar::decode(r)?;
        let s_prime = decode_scalars(r, n)?;
        Ok(ShuffleProof {
            c,
            d,
            a1,
            a2,
            a3,
            a4,
            b,
            s1,
            s2,
            s3,
            s4,
            s_hat,
            s_prime,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::{Ciphertext, SecretKey};
    use rand::SeedableRng;

    struct Mix {
        pk: PublicKey,
        gens: ShuffleGenerators,
        inputs: Vec<Ciphertext>,
        w: usize,
    }

    fn mix(n: usize, w: usize, seed: u64) -> (Mix, ChaCha20Rng) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let pk = SecretKey::random(&mut rng).public_key().unwrap();
        let inputs = (0..n * w)
            .map(|m| Ciphertext::encrypt_random(&pk, m as u64, &mut rng).0)
            .collect();
        let gens = ShuffleGenerators::derive(b"unit", n).unwrap();
        (
            Mix {
                pk,
                gens,
                inputs,
                w,
            },
            rng,
        )
    }

    /// The equations of `specs/crypto.md` §12.5 checked one by one, naively: the names of those
    /// that fail.
    fn failing_equations(
        p: &ShuffleProof,
        gens: &ShuffleGenerators,
        st: &ShuffleStatement<'_>,
    ) -> Vec<&'static str> {
        let ShuffleChallenges { u, x, c } = p.challenges(gens, st, b"m", b"c").unwrap();
        let (n, w) = (p.rows(), p.width());
        let (f, f0, msg) = (gens.blinding(), gens.chain_base(), gens.message());
        let sum = |it: &mut dyn Iterator<Item = RistrettoPoint>| it.sum::<RistrettoPoint>();
        let mut bad = Vec::new();
        let c_sum = sum(&mut p.c.iter().map(|x| *x.point()));
        let f_sum = sum(&mut msg[..n].iter().copied());
        if p.s1 * f != p.a1.point() + c * (c_sum - f_sum) {
            bad.push("1");
        }
        let big_u: Scalar = u.iter().product();
        if p.s2 * f != p.a2.point() + c * (p.d[n - 1].point() - big_u * f0) {
            bad.push("2");
        }
        let lhs3 = p.s3 * f + sum(&mut (0..n).map(|i| p.s_prime[i] * msg[i]));
        let rhs3 = p.a3.point() + c * sum(&mut (0..n).map(|j| u[j] * p.c[j].point()));
        if lhs3 != rhs3 {
            bad.push("3");
        }
        let (ins, outs) = (st.inputs.flat(), st.outputs.flat());
        for k in 0..w {
            let la = sum(&mut (0..n).map(|i| p.s_prime[i] * outs[i * w + k].alpha.point()))
                - p.s4[k] * g();
            let ra = p.a4[k].0.point()
                + c * sum(&mut (0..n).map(|j| u[j] * ins[j * w + k].alpha.point()));
            let lb = sum(&mut (0..n).map(|i| p.s_prime[i] * outs[i * w + k].beta.point()))
                - p.s4[k] * st.pk.point().point();
            let rb = p.a4[k].1.point()
                + c * sum(&mut (0..n).map(|j| u[j] * ins[j * w + k].beta.point()));
            if la != ra || lb != rb {
                bad.push("4");
            }
        }
        let prev = |i: usize| if i == 0 { *f0 } else { *p.d[i - 1].point() };
        let lhs5 = p.s_hat * f + sum(&mut (0..n).map(|i| x[i] * p.s_prime[i] * prev(i)));
        let rhs5 = p.b.point() + c * sum(&mut (0..n).map(|i| x[i] * p.d[i].point()));
        if lhs5 != rhs5 {
            bad.push("5");
        }
        bad
    }

    #[test]
    fn honest_proofs_verify_and_round_trip() {
        for (n, w) in [(1, 1), (2, 1), (3, 2), (5, 3), (40, 1)] {
            let (m, mut rng) = mix(n, w, n as u64);
            let inputs = Rows::new(&m.inputs, w).unwrap();
            let (outs, wit) = crate::shuffle::shuffle(&m.pk, inputs, &mut rng).unwrap();
            let st = ShuffleStatement {
                pk: &m.pk,
                inputs,
                outputs: Rows::new(&outs, w).unwrap(),
            };
            let p = ShuffleProof::prove_vartime(&m.gens, &st, &wit, b"m", b"c", &mut rng).unwrap();
            assert_eq!(p.verify(&m.gens, &st, b"m", b"c", &mut rng), Ok(()));
            assert!(failing_equations(&p, &m.gens, &st).is_empty());
            let bytes = p.to_bytes();
            assert_eq!(bytes.len() as u64, ShuffleProof::encoded_len(n, w));
            assert_eq!(ShuffleProof::from_bytes(&bytes).as_ref(), Ok(&p));
        }
    }

    /// A cheating mixer commits to the matrix `M` it really applied and runs the prover with it;
    /// returns the proof and the statement's output rows.
    fn cheat(
        m: &Mix,
        matrix: &[Vec<Scalar>],
        chain: impl Fn(usize, Scalar) -> Scalar + Sync,
        rng: &mut ChaCha20Rng,
    ) -> (ShuffleProof, Vec<Ciphertext>) {
        let n = matrix.len();
        let inputs = Rows::new(&m.inputs, m.w).unwrap();
        let rho: Vec<SecretScalar> = (0..n * m.w)
            .map(|_| SecretScalar::random(&mut *rng))
            .collect();
        let outs: Vec<Ciphertext> = (0..n * m.w)
            .map(|ik| {
                let (i, k) = (ik / m.w, ik % m.w);
                let r = rho[ik].expose();
                let (a, b): (RistrettoPoint, RistrettoPoint) = (0..n)
                    .map(|j| {
                        let e = &m.inputs[j * m.w + k];
                        (
                            matrix[i][j] * e.alpha.point(),
                            matrix[i][j] * e.beta.point(),
                        )
                    })
                    .fold(Default::default(), |(x, y), (a, b)| (x + a, y + b));
                Ciphertext::from_points(a + mul_g(r), b + m.pk.mul(r))
            })
            .collect();
        let st = ShuffleStatement {
            pk: &m.pk,
            inputs,
            outputs: Rows::new(&outs, m.w).unwrap(),
        };
        let msg = m.gens.message();
        let p = ShuffleProof::prove_matrix(
            &m.gens,
            &st,
            |j| (0..n).map(|i| matrix[i][j] * msg[i]).sum(),
            |u, i| (0..n).map(|j| matrix[i][j] * u[j]).sum(),
            chain,
            &rho,
            b"m",
            b"c",
            rng,
        );
        (p, outs)
    }

    fn check(m: &Mix, p: &ShuffleProof, outs: &[Ciphertext]) -> Vec<&'static str> {
        let st = ShuffleStatement {
            pk: &m.pk,
            inputs: Rows::new(&m.inputs, m.w).unwrap(),
            outputs: Rows::new(outs, m.w).unwrap(),
        };
        let verdict = p.verify(&m.gens, &st, b"m", b"c", &mut ChaCha20Rng::seed_from_u64(0));
        let failing = failing_equations(p, &m.gens, &st);
        assert_eq!(verdict.is_ok(), failing.is_empty());
        failing
    }

    fn matrix(rows: &[&[i64]], denominator: u64) -> Vec<Vec<Scalar>> {
        let d = Scalar::from(denominator).invert();
        rows.iter()
            .map(|r| {
                r.iter()
                    .map(|&x| {
                        let v = Scalar::from(x.unsigned_abs());
                        if x < 0 {
                            -v * d
                        } else {
                            v * d
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// `M = (2/3)·J − I` has rows summing to 1 and `MᵀM = I`, so the commitment sums (1), the
    /// openings (3), the re-encryption relation (4) and the chain (5) all hold for outputs that
    /// are homomorphic blends of the inputs (decrypting to thirds of votes). Only the product
    /// argument (2), which holds for permutation matrices alone, catches it.
    #[test]
    fn only_the_product_argument_catches_an_orthogonal_blend() {
        let (m, mut rng) = mix(3, 2, 9);
        let blend = matrix(&[&[-1, 2, 2], &[2, -1, 2], &[2, 2, -1]], 3);
        let (p, outs) = cheat(&m, &blend, |_, p| p, &mut rng);
        assert_eq!(check(&m, &p, &outs), ["2"]);
    }

    /// The same mixer, lying in the chain's last link so that `D_N` commits to `Π u_j` and the
    /// product argument (2) passes: the batched proof of the chain (5) catches the lie.
    #[test]
    fn a_chain_that_lies_about_the_product_is_caught() {
        let (m, mut rng) = mix(3, 1, 11);
        let blend = matrix(&[&[-1, 2, 2], &[2, -1, 2], &[2, 2, -1]], 3);
        let inputs = Rows::new(&m.inputs, 1).unwrap();
        // The statement's u is fixed by the transcript before the chain; replay it to learn U.
        let (probe, outs) = cheat(&m, &blend, |_, p| p, &mut rng.clone());
        let st = ShuffleStatement {
            pk: &m.pk,
            inputs,
            outputs: Rows::new(&outs, 1).unwrap(),
        };
        let big_u: Scalar = probe
            .challenges(&m.gens, &st, b"m", b"c")
            .unwrap()
            .u
            .iter()
            .product();
        let (p, outs2) = cheat(&m, &blend, |i, p| if i == 2 { big_u } else { p }, &mut rng);
        assert_eq!(outs, outs2);
        assert_eq!(check(&m, &p, &outs), ["5"]);
    }

    /// A mixer that outputs input 0 twice and drops input 1 commits to the matrix that says so:
    /// its commitment sums still hold, but the product and the re-encryption relation fail.
    #[test]
    fn a_duplicating_matrix_is_caught() {
        let (m, mut rng) = mix(3, 1, 10);
        let dup = matrix(&[&[1, 0, 0], &[1, 0, 0], &[0, 0, 1]], 1);
        let (p, outs) = cheat(&m, &dup, |_, p| p, &mut rng);
        assert_eq!(check(&m, &p, &outs), ["2", "4"]);
        // The same machinery with the identity matrix verifies, so the failures are the
        // matrix's.
        let id = matrix(&[&[1, 0, 0], &[0, 1, 0], &[0, 0, 1]], 1);
        let (p, outs) = cheat(&m, &id, |_, p| p, &mut rng);
        assert!(check(&m, &p, &outs).is_empty());
    }
}
