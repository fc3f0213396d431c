//! Threshold primitives: Shamir sharing with Feldman commitments (the building blocks of a
//! Pedersen-style distributed key generation), Lagrange interpolation, and threshold decryption
//! with proofs.
//!
//! Dealer `i` picks a random polynomial `fᵢ(x) = a_{i,0} + a_{i,1}x + … + a_{i,t−1}x^{t−1}`,
//! publishes `C_{i,k} = a_{i,k}·G` with a Schnorr proof of knowledge of each `a_{i,k}`, and sends
//! participant `j` (indices start at 1) the share `s_{i,j} = fᵢ(j)`. The share verifies iff
//! `s_{i,j}·G = Σ_k j^k·C_{i,k}`. Over the qualified dealers `Q`, participant `j`'s key share is
//! `s_j = Σ_{i∈Q} s_{i,j}`, the joint key is `K = Σ_{i∈Q} C_{i,0}` and anyone computes `j`'s
//! verification key `VK_j = Σ_{i∈Q} Σ_k j^k·C_{i,k} = s_j·G`.
//!
//! To decrypt `(α, β)`, participant `j` publishes `D_j = s_j·α` with a Chaum–Pedersen proof that
//! `log_G VK_j = log_α D_j`. Any `t` valid shares combine: `k·α = Σ_{j∈S} λ_j·D_j` with the
//! Lagrange coefficients at zero `λ_j = Π_{m∈S, m≠j} m / (m − j)`, and `m·G = β − k·α`.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, VartimeMultiscalarMul};
use rand_core::{CryptoRng, RngCore};
use rayon::prelude::*;

use crate::batch::{verify_all_vartime, BatchVerifier};
use crate::errors::{ParamError, VerifyError};
use crate::group::{mul_g, Point};
use crate::secret::SecretScalar;
use crate::sigma::{ChaumPedersenProof, DleqBatchProof, DleqStatement, SchnorrProof};

/// A secret polynomial of degree `t − 1`; its coefficients are wiped on drop.
pub struct Polynomial {
    coefficients: Vec<SecretScalar>,
}

impl std::fmt::Debug for Polynomial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Polynomial(degree {}, <redacted>)",
            self.coefficients.len().saturating_sub(1)
        )
    }
}

impl Polynomial {
    /// A uniformly random polynomial with `t` coefficients (`t ≥ 1`).
    pub fn random<R: RngCore + CryptoRng>(t: usize, rng: &mut R) -> Result<Self, ParamError> {
        if t == 0 {
            return Err(ParamError::BadThreshold { t, n: 0 });
        }
        Ok(Polynomial {
            coefficients: (0..t).map(|_| SecretScalar::random(rng)).collect(),
        })
    }

    /// A polynomial from coefficients kept by its dealer (e.g. restored from an encrypted key
    /// file so that a resumed ceremony posts nothing conflicting).
    pub fn from_coefficients(coefficients: Vec<SecretScalar>) -> Result<Self, ParamError> {
        if coefficients.is_empty() {
            return Err(ParamError::BadThreshold { t: 0, n: 0 });
        }
        Ok(Polynomial { coefficients })
    }

    /// The secret coefficients `a_0 … a_{t−1}`, for sealing into the dealer's key file.
    pub fn coefficients(&self) -> &[SecretScalar] {
        &self.coefficients
    }

    pub fn threshold(&self) -> usize {
        self.coefficients.len()
    }

    /// `f(index)` for a participant index `≥ 1` (Horner's rule).
    pub fn evaluate(&self, index: u16) -> Result<SecretScalar, ParamError> {
        if index == 0 {
            return Err(ParamError::BadIndex(0));
        }
        let x = Scalar::from(index);
        let mut acc = Scalar::ZERO;
        for a in self.coefficients.iter().rev() {
            acc = acc * x + a.expose();
        }
        Ok(SecretScalar::new(acc))
    }

    /// The Feldman commitments `C_k = a_k·G`.
    pub fn commitments(&self) -> Vec<Point> {
        self.coefficients
            .iter()
            .map(|a| Point::from_point(mul_g(a.expose())))
            .collect()
    }

    /// A Schnorr proof of knowledge of each coefficient, bound to the dealer and the coefficient
    /// index ([`coefficient_ctx`]).
    pub fn prove_coefficients<R: RngCore + CryptoRng>(
        &self,
        commitments: &[Point],
        dealer: u16,
        ctx: &[u8],
        rng: &mut R,
    ) -> Vec<SchnorrProof> {
        self.coefficients
            .iter()
            .zip(commitments)
            .enumerate()
            .map(|(k, (a, c))| {
                SchnorrProof::prove(a, c, &coefficient_ctx(ctx, dealer, k as u16), rng)
            })
            .collect()
    }
}

/// The Schnorr context of dealer `dealer`'s coefficient `k`:
/// `ctx ‖ "/dkg-coefficient" ‖ u16(dealer) ‖ u16(k)`.
pub fn coefficient_ctx(ctx: &[u8], dealer: u16, k: u16) -> Vec<u8> {
    let mut c = Vec::with_capacity(ctx.len() + 20);
    c.extend_from_slice(ctx);
    c.extend_from_slice(b"/dkg-coefficient");
    c.extend_from_slice(&dealer.to_be_bytes());
    c.extend_from_slice(&k.to_be_bytes());
    c
}

/// Verifies every coefficient proof of one dealer in one batch.
pub fn verify_coefficient_proofs(
    commitments: &[Point],
    proofs: &[SchnorrProof],
    dealer: u16,
    ctx: &[u8],
) -> Result<(), VerifyError> {
    if commitments.len() != proofs.len() || commitments.is_empty() {
        return Err(VerifyError::ShapeMismatch("coefficient proofs"));
    }
    let items: Vec<usize> = (0..proofs.len()).collect();
    let mut seed = [0u8; 32];
    // Weights derived from the proofs themselves keep this a pure function.
    let mut t = merlin::Transcript::new(b"urna-v1 coefficient batch");
    for (c, p) in commitments.iter().zip(proofs) {
        t.append_message(b"C", c.as_bytes());
        t.append_message(b"A", p.a.as_bytes());
        t.append_message(b"s", p.s.as_bytes());
    }
    t.append_message(b"ctx", ctx);
    t.challenge_bytes(b"seed", &mut seed);
    verify_all_vartime(&items, seed, |&k, batch| {
        proofs[k].queue(
            &commitments[k],
            &coefficient_ctx(ctx, dealer, k as u16),
            batch,
        )
    })
    .map_err(|_| VerifyError::ProofInvalid("coefficient Schnorr"))
}

/// `Σ_k index^k·C_k`: the public image `f(index)·G` of a committed polynomial.
pub fn commitment_eval(commitments: &[Point], index: u16) -> RistrettoPoint {
    let x = Scalar::from(index);
    let mut pow = Scalar::ONE;
    let mut scalars = Vec::with_capacity(commitments.len());
    for _ in commitments {
        scalars.push(pow);
        pow *= x;
    }
    RistrettoPoint::vartime_multiscalar_mul(scalars, commitments.iter().map(|c| *c.point()))
}

/// Checks a received share against the dealer's commitments: `s·G = Σ_k j^k·C_k`.
pub fn verify_share(share: &Scalar, index: u16, commitments: &[Point]) -> Result<(), VerifyError> {
    if index == 0 || commitments.is_empty() {
        return Err(VerifyError::ShareMismatch);
    }
    if mul_g(share) == commitment_eval(commitments, index) {
        Ok(())
    } else {
        Err(VerifyError::ShareMismatch)
    }
}

/// `K = Σ_{i∈Q} C_{i,0}` over the qualified dealers' commitments. The caller rejects an
/// identity result (it cannot serve as a key).
pub fn joint_public_key(dealt: &[&[Point]]) -> Point {
    let sum = dealt
        .iter()
        .filter_map(|c| c.first())
        .fold(RistrettoPoint::identity(), |acc, c| acc + c.point());
    Point::from_point(sum)
}

/// `VK_j = Σ_{i∈Q} Σ_k j^k·C_{i,k}`, participant `j`'s verification key.
pub fn verification_key(dealt: &[&[Point]], j: u16) -> Point {
    let sum = dealt.iter().fold(RistrettoPoint::identity(), |acc, c| {
        acc + commitment_eval(c, j)
    });
    Point::from_point(sum)
}

/// The Lagrange coefficients at zero for the participant indices `indices` (distinct, ≥ 1).
pub fn lagrange_at_zero(indices: &[u64]) -> Result<Vec<Scalar>, ParamError> {
    for (a, &i) in indices.iter().enumerate() {
        if i == 0 {
            return Err(ParamError::BadIndex(0));
        }
        if indices[..a].contains(&i) {
            return Err(ParamError::DuplicateIndex(i));
        }
    }
    // λ_j = Π_{m≠j} m / (m − j); one inversion per coefficient, batched.
    let mut nums = Vec::with_capacity(indices.len());
    let mut dens = Vec::with_capacity(indices.len());
    for &j in indices {
        let mut num = Scalar::ONE;
        let mut den = Scalar::ONE;
        for &m in indices.iter().filter(|&&m| m != j) {
            num *= Scalar::from(m);
            den *= Scalar::from(m) - Scalar::from(j);
        }
        nums.push(num);
        dens.push(den);
    }
    Scalar::batch_invert(&mut dens);
    Ok(nums.iter().zip(&dens).map(|(n, d)| n * d).collect())
}

/// Recombines the secret `f(0)` from `t` shares `(index, f(index))`.
pub fn reconstruct(shares: &[(u64, Scalar)]) -> Result<Scalar, ParamError> {
    let idx: Vec<u64> = shares.iter().map(|(i, _)| *i).collect();
    let l = lagrange_at_zero(&idx)?;
    Ok(shares.iter().zip(&l).map(|((_, s), l)| s * l).sum())
}

/// `D = s·α` with a Chaum–Pedersen proof that `log_G VK = log_α D`.
pub fn partial_decrypt<R: RngCore + CryptoRng>(
    share: &SecretScalar,
    verification_key: &Point,
    alpha: &Point,
    ctx: &[u8],
    rng: &mut R,
) -> (Point, ChaumPedersenProof) {
    let d = Point::from_point(share.expose() * alpha.point());
    let st = DleqStatement {
        u: alpha,
        x: verification_key,
        y: &d,
    };
    let proof = ChaumPedersenProof::prove(share, st, ctx, rng);
    (d, proof)
}

/// Partial decryptions `D_k = s·α_k` of a whole list, on all cores, with one batched
/// Chaum–Pedersen proof (`DleqBatchProof`) that `log_G VK = log_{α_k} D_k` for every `k`.
pub fn partial_decrypt_list<R: RngCore + CryptoRng>(
    share: &SecretScalar,
    verification_key: &Point,
    alphas: &[Point],
    ctx: &[u8],
    rng: &mut R,
) -> Result<(Vec<Point>, DleqBatchProof), ParamError> {
    let ds: Vec<Point> = alphas
        .par_iter()
        .map(|a| Point::from_point(share.expose() * a.point()))
        .collect();
    let proof = DleqBatchProof::prove(share, verification_key, alphas, &ds, ctx, rng)?;
    Ok((ds, proof))
}

/// Queues the check of a partial decryption into `batch`.
pub fn queue_partial(
    verification_key: &Point,
    alpha: &Point,
    d: &Point,
    proof: &ChaumPedersenProof,
    ctx: &[u8],
    batch: &mut BatchVerifier,
) -> Result<(), VerifyError> {
    let st = DleqStatement {
        u: alpha,
        x: verification_key,
        y: d,
    };
    proof.queue(st, ctx, batch)
}

/// `k·α = Σ λ_j·D_j` from shares `(index, D_j)` of at least the threshold.
pub fn combine_shares(shares: &[(u64, Point)]) -> Result<RistrettoPoint, ParamError> {
    let idx: Vec<u64> = shares.iter().map(|(i, _)| *i).collect();
    let l = lagrange_at_zero(&idx)?;
    Ok(RistrettoPoint::vartime_multiscalar_mul(
        l,
        shares.iter().map(|(_, d)| *d.point()),
    ))
}

/// Makes a full `t`-of-`n` sharing in memory: each dealer's polynomial, commitments and shares.
/// For tests and benchmarks; a real ceremony runs over the ledger.
pub fn deal_in_memory<R: RngCore + CryptoRng>(
    t: usize,
    n: u16,
    rng: &mut R,
) -> Result<(Point, Vec<(SecretScalar, Point)>), ParamError> {
    if t == 0 || usize::from(n) < t {
        return Err(ParamError::BadThreshold { t, n: n.into() });
    }
    let polys: Vec<Polynomial> = (0..n)
        .map(|_| Polynomial::random(t, rng))
        .collect::<Result<_, _>>()?;
    let commitments: Vec<Vec<Point>> = polys.iter().map(Polynomial::commitments).collect();
    let dealt: Vec<&[Point]> = commitments.iter().map(Vec::as_slice).collect();
    let joint = joint_public_key(&dealt);
    let mut keys = Vec::with_capacity(n.into());
    for j in 1..=n {
        let mut s = Scalar::ZERO;
        for p in &polys {
            s += p.evaluate(j)?.expose();
        }
        keys.push((SecretScalar::new(s), verification_key(&dealt, j)));
    }
    Ok((joint, keys))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elgamal::{Ciphertext, PublicKey};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn shares_verify_and_tampered_shares_do_not() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let p = Polynomial::random(3, &mut rng).unwrap();
        let c = p.commitments();
        for j in 1..=5 {
            let s = p.evaluate(j).unwrap();
            assert_eq!(verify_share(s.expose(), j, &c), Ok(()));
            let bad = s.expose() + Scalar::ONE;
            assert_eq!(verify_share(&bad, j, &c), Err(VerifyError::ShareMismatch));
            assert_eq!(
                verify_share(s.expose(), j % 5 + 1, &c),
                Err(VerifyError::ShareMismatch)
            );
        }
        assert_eq!(p.evaluate(0).err(), Some(ParamError::BadIndex(0)));
    }

    #[test]
    fn coefficient_proofs_bind_dealer_and_context() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let p = Polynomial::random(3, &mut rng).unwrap();
        let c = p.commitments();
        let proofs = p.prove_coefficients(&c, 4, b"ctx", &mut rng);
        assert_eq!(verify_coefficient_proofs(&c, &proofs, 4, b"ctx"), Ok(()));
        assert!(verify_coefficient_proofs(&c, &proofs, 5, b"ctx").is_err());
        assert!(verify_coefficient_proofs(&c, &proofs, 4, b"other").is_err());
        let mut swapped = proofs.clone();
        swapped.swap(0, 1);
        assert!(verify_coefficient_proofs(&c, &swapped, 4, b"ctx").is_err());
        assert!(verify_coefficient_proofs(&c, &proofs[..2], 4, b"ctx").is_err());
    }

    #[test]
    fn lagrange_rejects_bad_index_sets() {
        assert_eq!(lagrange_at_zero(&[1, 0]), Err(ParamError::BadIndex(0)));
        assert_eq!(
            lagrange_at_zero(&[2, 3, 2]),
            Err(ParamError::DuplicateIndex(2))
        );
    }

    #[test]
    fn threshold_decryption_with_any_three_of_five() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (joint, keys) = deal_in_memory(3, 5, &mut rng).unwrap();
        let pk = PublicKey::new(joint).unwrap();
        let (ct, _) = Ciphertext::encrypt_random(&pk, 42, &mut rng);
        let parts: Vec<(u64, Point, ChaumPedersenProof)> = keys
            .iter()
            .enumerate()
            .map(|(i, (s, vk))| {
                let (d, p) = partial_decrypt(s, vk, &ct.alpha, b"ctx", &mut rng);
                (i as u64 + 1, d, p)
            })
            .collect();
        for (i, d, p) in &parts {
            let vk = &keys[(*i - 1) as usize].1;
            let mut b = BatchVerifier::from_seed([1; 32]);
            queue_partial(vk, &ct.alpha, d, p, b"ctx", &mut b).unwrap();
            assert_eq!(b.verify_vartime(), Ok(()));
        }
        for subset in [[0usize, 1, 2], [0, 2, 4], [1, 3, 4], [2, 3, 4]] {
            let chosen: Vec<(u64, Point)> =
                subset.iter().map(|&k| (parts[k].0, parts[k].1)).collect();
            let ka = combine_shares(&chosen).unwrap();
            assert_eq!(ct.beta.point() - ka, mul_g(&Scalar::from(42u64)));
        }
    }

    #[test]
    fn partial_decryption_with_a_wrong_share_fails() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let (joint, keys) = deal_in_memory(2, 3, &mut rng).unwrap();
        let pk = PublicKey::new(joint).unwrap();
        let (ct, _) = Ciphertext::encrypt_random(&pk, 1, &mut rng);
        let wrong = SecretScalar::new(keys[0].0.expose() + Scalar::ONE);
        let (d, p) = partial_decrypt(&wrong, &keys[0].1, &ct.alpha, b"ctx", &mut rng);
        let mut b = BatchVerifier::from_seed([2; 32]);
        queue_partial(&keys[0].1, &ct.alpha, &d, &p, b"ctx", &mut b).unwrap();
        assert_eq!(b.verify_vartime(), Err(VerifyError::BatchFailed));
        // A correct share under another trustee's key fails too.
        let (d, p) = partial_decrypt(&keys[0].0, &keys[0].1, &ct.alpha, b"ctx", &mut rng);
        let mut b = BatchVerifier::from_seed([3; 32]);
        queue_partial(&keys[1].1, &ct.alpha, &d, &p, b"ctx", &mut b).unwrap();
        assert_eq!(b.verify_vartime(), Err(VerifyError::BatchFailed));
    }
}
