//! One measured mix — key derivation, shuffle, proof, encoding, decoding, verification — for
//! `urna bench` and `examples/shuffle-bench.rs`. Runs on the current rayon pool; install a pool
//! with `k` threads to measure `k` cores.

use std::time::{Duration, Instant};

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, RngCore, SeedableRng};
use rayon::prelude::*;
use thiserror::Error;

use super::{shuffle, Rows, ShuffleGenerators, ShuffleProof, ShuffleStatement};
use crate::codec::{Decode, Encode};
use crate::elgamal::{Ciphertext, SecretKey};
use crate::errors::{DecodeError, ParamError, VerifyError};
use crate::secret::SecretScalar;

/// Wall-clock time of a phase, and the CPU time of the whole process during it where the
/// platform reports it (Linux): on a shared machine CPU time is the steadier per-core figure.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub wall: Duration,
    pub cpu: Option<Duration>,
}

impl Timing {
    fn of<T>(f: impl FnOnce() -> T) -> (T, Timing) {
        let cpu0 = process_cpu_time();
        let t0 = Instant::now();
        let out = f();
        let wall = t0.elapsed();
        let cpu = match (cpu0, process_cpu_time()) {
            (Some(a), Some(b)) => b.checked_sub(a),
            _ => None,
        };
        (out, Timing { wall, cpu })
    }

    /// Rows per second of wall-clock time.
    pub fn rate(&self, rows: usize) -> f64 {
        rows as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Rows per second per CPU-second (per core), when CPU time is known.
    pub fn rate_per_cpu(&self, rows: usize) -> Option<f64> {
        self.cpu.map(|c| rows as f64 / c.as_secs_f64().max(1e-9))
    }
}

/// The figures of one mix of `rows` rows of `width` ciphertexts on `threads` threads.
#[derive(Debug, Clone)]
pub struct ShuffleFigures {
    pub rows: usize,
    pub width: usize,
    pub threads: usize,
    pub generators: Timing,
    pub shuffle: Timing,
    pub prove: Timing,
    pub encode: Timing,
    pub decode: Timing,
    pub verify: Timing,
    pub proof_bytes: usize,
    /// The process's peak resident set size at the end, where the platform reports it.
    pub peak_rss_bytes: Option<u64>,
}

#[derive(Debug, Error)]
pub enum BenchError {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

/// Encrypts `rows × width` random small values, then mixes and checks them once, timing each
/// phase. The proof is dropped before it is decoded again, as a verifier would start from bytes.
pub fn measure<R: RngCore + CryptoRng>(
    rows: usize,
    width: usize,
    rng: &mut R,
) -> Result<ShuffleFigures, BenchError> {
    let pk = SecretKey::random(rng).public_key()?;
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    let cts: Vec<Ciphertext> = (0..rows * width)
        .into_par_iter()
        .map_init(
            || ChaCha20Rng::from_seed(seed),
            |r, i| {
                r.set_stream(i as u64);
                let nonce = SecretScalar::random(r);
                Ciphertext::encrypt(&pk, (i % 8) as u64, &nonce)
            },
        )
        .collect();
    let inputs = Rows::new(&cts, width)?;
    let (gens, generators) = Timing::of(|| ShuffleGenerators::derive(b"urna bench", rows));
    let gens = gens?;
    let (mixed, shuffle_t) = Timing::of(|| shuffle(&pk, inputs, rng));
    let (outs, witness) = mixed?;
    let st = ShuffleStatement {
        pk: &pk,
        inputs,
        outputs: Rows::new(&outs, width)?,
    };
    let (proof, prove) =
        Timing::of(|| ShuffleProof::prove_vartime(&gens, &st, &witness, b"mixer", b"bench", rng));
    drop(witness);
    let proof = proof?;
    let (bytes, encode) = Timing::of(|| proof.to_bytes());
    drop(proof);
    let (proof, decode) = Timing::of(|| ShuffleProof::from_bytes(&bytes));
    let proof_bytes = bytes.len();
    drop(bytes);
    let proof = proof?;
    let (ok, verify) = Timing::of(|| proof.verify(&gens, &st, b"mixer", b"bench", rng));
    ok?;
    Ok(ShuffleFigures {
        rows,
        width,
        threads: rayon::current_num_threads(),
        generators,
        shuffle: shuffle_t,
        prove,
        encode,
        decode,
        verify,
        proof_bytes,
        peak_rss_bytes: peak_rss_bytes(),
    })
}

/// User + system CPU time of this process (all threads), from `/proc/self/stat` on Linux.
pub fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // USER_HZ is 100 on every Linux platform Rust supports.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Peak resident set size (`VmHWM` of `/proc/self/status`) on Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
