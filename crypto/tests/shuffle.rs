//! The verifiable shuffle: honest mixes verify; a cheating mixer, a proof moved to another
//! statement, and every malformed encoding are refused with a typed error, never a panic.
//! (Cheating provers that need the prover's internals — committing to a matrix that is not a
//! permutation — are unit tests in `src/shuffle/proof.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use urna_crypto::codec::{Decode, Encode};
use urna_crypto::elgamal::{Ciphertext, PublicKey, SecretKey};
use urna_crypto::errors::{DecodeError, ParamError, VerifyError};
use urna_crypto::group::mul_g;
use urna_crypto::shuffle::{
    reencrypt_permute, shuffle, Permutation, Rows, ShuffleGenerators, ShuffleProof,
    ShuffleStatement, ShuffleWitness,
};
use urna_crypto::RistrettoPoint;

const CTX: &[u8] = b"election 7 | contest 2 | mix";
const MIXER: &[u8] = b"trustee 1";
const SEED: &[u8] = b"election 7 shuffle generators";

struct Mix {
    rng: ChaCha20Rng,
    sk: SecretKey,
    pk: PublicKey,
    gens: ShuffleGenerators,
    width: usize,
    inputs: Vec<Ciphertext>,
    outputs: Vec<Ciphertext>,
    witness: ShuffleWitness,
    proof: ShuffleProof,
}

impl Mix {
    fn new(rows: usize, width: usize, seed: u64) -> Mix {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let sk = SecretKey::random(&mut rng);
        let pk = sk.public_key().unwrap();
        let inputs: Vec<Ciphertext> = (0..rows * width)
            .map(|m| Ciphertext::encrypt_random(&pk, m as u64, &mut rng).0)
            .collect();
        let gens = ShuffleGenerators::derive(SEED, rows).unwrap();
        let (outputs, witness) =
            shuffle(&pk, Rows::new(&inputs, width).unwrap(), &mut rng).unwrap();
        let st = ShuffleStatement {
            pk: &pk,
            inputs: Rows::new(&inputs, width).unwrap(),
            outputs: Rows::new(&outputs, width).unwrap(),
        };
        let proof =
            ShuffleProof::prove_vartime(&gens, &st, &witness, MIXER, CTX, &mut rng).unwrap();
        Mix {
            rng,
            sk,
            pk,
            gens,
            width,
            inputs,
            outputs,
            witness,
            proof,
        }
    }

    fn statement<'a>(&'a self, outputs: &'a [Ciphertext]) -> ShuffleStatement<'a> {
        ShuffleStatement {
            pk: &self.pk,
            inputs: Rows::new(&self.inputs, self.width).unwrap(),
            outputs: Rows::new(outputs, self.width).unwrap(),
        }
    }

    /// Verifies `proof` for this mix's inputs and the given outputs.
    fn verify(&mut self, proof: &ShuffleProof, outputs: &[Ciphertext]) -> Result<(), VerifyError> {
        let st = ShuffleStatement {
            pk: &self.pk,
            inputs: Rows::new(&self.inputs, self.width).unwrap(),
            outputs: Rows::new(outputs, self.width).unwrap(),
        };
        proof.verify(&self.gens, &st, MIXER, CTX, &mut self.rng)
    }

    /// What an honest prover makes of `outputs` with the given witness.
    fn prove(&mut self, outputs: &[Ciphertext], witness: &ShuffleWitness) -> ShuffleProof {
        let st = ShuffleStatement {
            pk: &self.pk,
            inputs: Rows::new(&self.inputs, self.width).unwrap(),
            outputs: Rows::new(outputs, self.width).unwrap(),
        };
        ShuffleProof::prove_vartime(&self.gens, &st, witness, MIXER, CTX, &mut self.rng).unwrap()
    }
}

const INVALID: Result<(), VerifyError> = Err(VerifyError::ProofInvalid("shuffle"));

#[test]
fn honest_mixes_verify_at_every_size_and_width() {
    for (rows, width) in [(1, 1), (2, 1), (3, 3), (17, 2), (200, 1), (64, 4)] {
        let mut m = Mix::new(rows, width, rows as u64 * 10 + width as u64);
        let (proof, outs) = (m.proof.clone(), m.outputs.clone());
        assert_eq!(m.verify(&proof, &outs), Ok(()), "{rows}×{width}");
        let bytes = proof.to_bytes();
        assert_eq!(bytes.len() as u64, ShuffleProof::encoded_len(rows, width));
        let decoded = ShuffleProof::from_bytes(&bytes).unwrap();
        assert_eq!(decoded, proof);
        assert_eq!(m.verify(&decoded, &outs), Ok(()));
        // The outputs decrypt to the permuted plaintexts.
        for (i, &src) in m.witness.permutation().as_slice().iter().enumerate() {
            for k in 0..width {
                assert_eq!(
                    m.sk.decrypt_to_point(&outs[i * width + k]),
                    m.sk.decrypt_to_point(&m.inputs[src as usize * width + k])
                );
            }
        }
    }
}

#[test]
fn the_empty_list_is_refused_and_one_row_is_a_proof_of_reencryption() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let pk = SecretKey::random(&mut rng).public_key().unwrap();
    let gens = ShuffleGenerators::derive(SEED, 4).unwrap();
    let empty = ShuffleStatement {
        pk: &pk,
        inputs: Rows::new(&[], 1).unwrap(),
        outputs: Rows::new(&[], 1).unwrap(),
    };
    let witness = ShuffleWitness::new(Permutation::new(vec![]).unwrap(), vec![]).unwrap();
    assert!(matches!(
        ShuffleProof::prove_vartime(&gens, &empty, &witness, MIXER, CTX, &mut rng),
        Err(ParamError::Unsupported(_))
    ));
    // No proof of an empty shuffle decodes, so none verifies.
    assert!(matches!(
        ShuffleProof::from_bytes(&[0, 0, 0, 0, 0, 1]),
        Err(DecodeError::LengthOutOfRange { len: 0, .. })
    ));
    let mut one = Mix::new(1, 2, 2);
    let other = Ciphertext::encrypt_random(&one.pk, 0, &mut one.rng).0;
    let (proof, mut outs) = (one.proof.clone(), one.outputs.clone());
    outs[1] = other;
    assert_eq!(one.verify(&proof, &outs), INVALID);
}

#[test]
fn replacing_one_ciphertext_is_caught() {
    let mut m = Mix::new(8, 2, 3);
    let proof = m.proof.clone();
    // Another vote in place of one output component.
    let mut outs = m.outputs.clone();
    outs[5] = Ciphertext::encrypt_random(&m.pk, 1, &mut m.rng).0;
    assert_eq!(m.verify(&proof, &outs), INVALID);
    // The same vote, but not a re-encryption the prover knows (re-encrypted twice).
    let mut outs = m.outputs.clone();
    let extra = m.rng.next_u64();
    let r = urna_crypto::Scalar::from(extra);
    outs[5] = Ciphertext::from_points(
        outs[5].alpha.point() + mul_g(&r),
        outs[5].beta.point() + m.pk.mul(&r),
    );
    assert_eq!(m.verify(&proof, &outs), INVALID);
    // Even a prover that runs honestly on the altered list is caught.
    let witness = m.witness.clone();
    let p = m.prove(&outs, &witness);
    assert_eq!(m.verify(&p, &outs), INVALID);
}

#[test]
fn dropping_or_duplicating_one_ciphertext_is_caught() {
    let mut m = Mix::new(3, 1, 4);
    let proof = m.proof.clone();
    // Dropped: the lists no longer match in length.
    let dropped: Vec<Ciphertext> = m.outputs[..2].into();
    assert_eq!(
        m.verify(&proof, &dropped),
        Err(VerifyError::ShapeMismatch("shuffle statement"))
    );
    // Duplicated in place of another: output rows 0 and 1 both re-encrypt input row 0.
    let identity = Permutation::new(vec![0, 1, 2]).unwrap();
    let (outs, wit) = reencrypt_permute(
        &m.pk,
        Rows::new(&m.inputs, 1).unwrap(),
        identity,
        &mut m.rng,
    )
    .unwrap();
    let rho = wit.randomness()[1].expose();
    let mut dup = outs.clone();
    dup[1] = Ciphertext::from_points(
        m.inputs[0].alpha.point() + mul_g(rho),
        m.inputs[0].beta.point() + m.pk.mul(rho),
    );
    assert_eq!(m.verify(&proof, &dup), INVALID);
    // No permutation makes an honest proof of it.
    for perm in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let w = ShuffleWitness::new(
            Permutation::new(perm.to_vec()).unwrap(),
            wit.randomness().to_vec(),
        )
        .unwrap();
        let p = m.prove(&dup, &w);
        assert_eq!(m.verify(&p, &dup), INVALID, "{perm:?}");
    }
    // An exact copy of another output row is caught too.
    let mut copy = m.outputs.clone();
    copy[2] = copy[0];
    assert_eq!(m.verify(&proof, &copy), INVALID);
}

#[test]
fn a_proof_for_another_permutation_fails() {
    let mut m = Mix::new(6, 1, 5);
    let mut other = m.witness.permutation().as_slice().to_vec();
    other.swap(0, 1);
    let w = ShuffleWitness::new(
        Permutation::new(other).unwrap(),
        m.witness.randomness().to_vec(),
    )
    .unwrap();
    let outs = m.outputs.clone();
    let p = m.prove(&outs, &w);
    assert_eq!(m.verify(&p, &outs), INVALID);
    // Nor does the honest proof verify once two output rows trade places.
    let mut swapped = outs.clone();
    swapped.swap(0, 1);
    let proof = m.proof.clone();
    assert_eq!(m.verify(&proof, &swapped), INVALID);
}

#[test]
fn a_proof_under_other_generators_fails() {
    let m = Mix::new(5, 2, 6);
    let (proof, outs) = (m.proof.clone(), m.outputs.clone());
    let other = ShuffleGenerators::derive(b"another seed", 5).unwrap();
    let st = m.statement(&outs);
    assert_eq!(
        proof.verify(&other, &st, MIXER, CTX, &mut ChaCha20Rng::seed_from_u64(0)),
        INVALID
    );
    // A proof made with the other generators fails under the right ones.
    let p = ShuffleProof::prove_vartime(
        &other,
        &st,
        &m.witness,
        MIXER,
        CTX,
        &mut ChaCha20Rng::seed_from_u64(1),
    )
    .unwrap();
    assert_eq!(
        p.verify(&m.gens, &st, MIXER, CTX, &mut ChaCha20Rng::seed_from_u64(2)),
        INVALID
    );
    // A key too small for the list is a shape error, not a verdict.
    let small = ShuffleGenerators::derive(SEED, 4).unwrap();
    assert_eq!(
        proof.verify(&small, &st, MIXER, CTX, &mut ChaCha20Rng::seed_from_u64(0)),
        Err(VerifyError::ShapeMismatch("shuffle generators"))
    );
    assert!(matches!(
        ShuffleProof::prove_vartime(
            &small,
            &st,
            &m.witness,
            MIXER,
            CTX,
            &mut ChaCha20Rng::seed_from_u64(1)
        ),
        Err(ParamError::OutOfRange { value: 5, max: 4 })
    ));
}

#[test]
fn a_proof_moved_to_another_context_mixer_key_or_list_fails() {
    let m = Mix::new(5, 1, 7);
    let (proof, outs) = (m.proof.clone(), m.outputs.clone());
    let mut rng = ChaCha20Rng::seed_from_u64(0);
    let st = m.statement(&outs);
    assert_eq!(proof.verify(&m.gens, &st, MIXER, CTX, &mut rng), Ok(()));
    for ctx in [
        &b"election 8 | contest 2 | mix"[..],
        b"",
        b"election 7 | contest 3 | mix",
    ] {
        assert_eq!(proof.verify(&m.gens, &st, MIXER, ctx, &mut rng), INVALID);
    }
    for mixer in [&b"trustee 2"[..], b""] {
        assert_eq!(proof.verify(&m.gens, &st, mixer, CTX, &mut rng), INVALID);
    }
    let other_pk = SecretKey::random(&mut rng).public_key().unwrap();
    let st_k = ShuffleStatement {
        pk: &other_pk,
        ..st
    };
    assert_eq!(proof.verify(&m.gens, &st_k, MIXER, CTX, &mut rng), INVALID);
    // Other inputs: the same ballots in another order, or another election's list.
    let mut reordered = m.inputs.clone();
    reordered.swap(1, 3);
    let st_in = ShuffleStatement {
        inputs: Rows::new(&reordered, 1).unwrap(),
        ..st
    };
    assert_eq!(proof.verify(&m.gens, &st_in, MIXER, CTX, &mut rng), INVALID);
    let other = Mix::new(5, 1, 8);
    let st_other = ShuffleStatement {
        inputs: Rows::new(&other.inputs, 1).unwrap(),
        ..st
    };
    assert_eq!(
        proof.verify(&m.gens, &st_other, MIXER, CTX, &mut rng),
        INVALID
    );
    // Inputs and outputs exchanged.
    let st_rev = ShuffleStatement {
        inputs: st.outputs,
        outputs: st.inputs,
        ..st
    };
    assert_eq!(
        proof.verify(&m.gens, &st_rev, MIXER, CTX, &mut rng),
        INVALID
    );
    // Another mixer's proof of the next mix does not stand for this one.
    let (outs2, wit2) = shuffle(&m.pk, Rows::new(&outs, 1).unwrap(), &mut rng).unwrap();
    let st2 = ShuffleStatement {
        pk: &m.pk,
        inputs: Rows::new(&outs, 1).unwrap(),
        outputs: Rows::new(&outs2, 1).unwrap(),
    };
    let p2 =
        ShuffleProof::prove_vartime(&m.gens, &st2, &wit2, b"trustee 2", CTX, &mut rng).unwrap();
    assert_eq!(
        p2.verify(&m.gens, &st2, b"trustee 2", CTX, &mut rng),
        Ok(())
    );
    let st_both = ShuffleStatement {
        outputs: Rows::new(&outs2, 1).unwrap(),
        ..st
    };
    assert_eq!(
        proof.verify(&m.gens, &st_both, MIXER, CTX, &mut rng),
        INVALID
    );
    assert_eq!(
        p2.verify(&m.gens, &st_both, b"trustee 2", CTX, &mut rng),
        INVALID
    );
}

#[test]
fn shapes_and_degenerate_statements_are_typed_errors() {
    let mut m = Mix::new(4, 2, 9);
    let (proof, outs) = (m.proof.clone(), m.outputs.clone());
    let mut rng = ChaCha20Rng::seed_from_u64(0);
    // The same ciphertexts read as 8 rows of width 1.
    let narrow = ShuffleStatement {
        pk: &m.pk,
        inputs: Rows::new(&m.inputs, 1).unwrap(),
        outputs: Rows::new(&outs, 1).unwrap(),
    };
    let gens8 = ShuffleGenerators::derive(SEED, 8).unwrap();
    assert_eq!(
        proof.verify(&gens8, &narrow, MIXER, CTX, &mut rng),
        Err(VerifyError::ShapeMismatch("shuffle proof"))
    );
    // Inputs and outputs of different widths.
    let mixed = ShuffleStatement {
        outputs: Rows::new(&outs, 1).unwrap(),
        ..m.statement(&outs)
    };
    assert_eq!(
        proof.verify(&m.gens, &mixed, MIXER, CTX, &mut rng),
        Err(VerifyError::ShapeMismatch("shuffle statement"))
    );
    // An identity component in a list (only arithmetic can make one; decoding refuses it).
    let mut degenerate = outs.clone();
    degenerate[3] = Ciphertext::from_points(RistrettoPoint::default(), *outs[3].beta.point());
    assert_eq!(
        m.verify(&proof, &degenerate),
        Err(VerifyError::IdentityCommitment("e'"))
    );
    // A witness of the wrong shape is refused before any work.
    let short = ShuffleWitness::new(
        m.witness.permutation().clone(),
        m.witness.randomness()[..4].to_vec(),
    )
    .unwrap();
    let st = m.statement(&outs);
    assert!(matches!(
        ShuffleProof::prove_vartime(&m.gens, &st, &short, MIXER, CTX, &mut rng),
        Err(ParamError::ShapeMismatch(_))
    ));
    assert!(ShuffleWitness::new(m.witness.permutation().clone(), vec![]).is_ok());
    assert_eq!(
        Rows::new(&outs, 3).err(),
        Some(ParamError::ShapeMismatch(
            "rows: length is not a multiple of the width"
        ))
    );
}

fn decode_code(bytes: &[u8]) -> Result<ShuffleProof, &'static str> {
    ShuffleProof::from_bytes(bytes).map_err(|e| e.code())
}

#[test]
fn malformed_encodings_are_refused_by_cause() {
    let m = Mix::new(3, 2, 10);
    let good = m.proof.to_bytes();
    let (n, w) = (3usize, 2usize);
    // Offsets of the fields (`specs/crypto.md` §12.7).
    let c0 = 6;
    let d0 = c0 + 32 * n;
    let b0 = d0 + 32 * n + 96 + 64 * w;
    let s0 = b0 + 32;
    let s_prime0 = s0 + 96 + 32 * w + 32;
    assert_eq!(s_prime0 + 32 * n, good.len());

    for cut in [0, 3, 5, 6, 7, 37, good.len() / 2, good.len() - 1] {
        assert_eq!(decode_code(&good[..cut]).err(), Some("truncated"), "{cut}");
    }
    let mut long = good.clone();
    long.push(0);
    assert_eq!(decode_code(&long).err(), Some("trailing-bytes"));

    let mut zero_n = good.clone();
    zero_n[..4].copy_from_slice(&[0; 4]);
    assert_eq!(decode_code(&zero_n).err(), Some("length-out-of-range"));
    let mut zero_w = good.clone();
    zero_w[4..6].copy_from_slice(&[0; 2]);
    assert_eq!(decode_code(&zero_w).err(), Some("length-out-of-range"));
    // A huge count over a short input fails at once, allocating nothing.
    let mut huge = good.clone();
    huge[..4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(decode_code(&huge).err(), Some("truncated"));
    // Counts that disagree with the length.
    let mut more_rows = good.clone();
    more_rows[3] = 4;
    assert_eq!(decode_code(&more_rows).err(), Some("truncated"));
    // Fewer rows than the bytes hold: fields are read out of place, and the first that fails
    // to parse (here a point read as a scalar) is reported.
    let mut fewer_rows = good.clone();
    fewer_rows[3] = 2;
    assert_eq!(decode_code(&fewer_rows).err(), Some("non-canonical-scalar"));

    // ℓ, the group order, in place of a response: not canonical.
    let ell = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
    let mut bad_scalar = good.clone();
    bad_scalar[s_prime0 + 32..s_prime0 + 64]
        .copy_from_slice(&urna_crypto::hex::decode(ell).unwrap());
    assert_eq!(decode_code(&bad_scalar).err(), Some("non-canonical-scalar"));
    let mut bad_s1 = good.clone();
    bad_s1[s0..s0 + 32].fill(0xff);
    assert_eq!(decode_code(&bad_s1).err(), Some("non-canonical-scalar"));

    // The field element p: not a canonical point encoding.
    let mut p_bytes = [0xffu8; 32];
    p_bytes[0] = 0xed;
    p_bytes[31] = 0x7f;
    let mut bad_point = good.clone();
    bad_point[c0 + 32..c0 + 64].copy_from_slice(&p_bytes);
    assert_eq!(decode_code(&bad_point).err(), Some("invalid-point"));
    let mut identity = good.clone();
    identity[d0..d0 + 32].fill(0);
    assert_eq!(
        ShuffleProof::from_bytes(&identity).err(),
        Some(DecodeError::IdentityPoint("D"))
    );
    let mut identity_b = good.clone();
    identity_b[b0..b0 + 32].fill(0);
    assert_eq!(
        ShuffleProof::from_bytes(&identity_b).err(),
        Some(DecodeError::IdentityPoint("B"))
    );
    // With two bad points the first in order is reported, whatever the threads did.
    let mut two = bad_point.clone();
    two[c0..c0 + 32].fill(0);
    assert_eq!(
        ShuffleProof::from_bytes(&two).err(),
        Some(DecodeError::IdentityPoint("C"))
    );
}

/// Random damage to a valid proof never panics and never verifies: each damaged encoding either
/// fails to decode or decodes to a proof that fails.
#[test]
fn damaged_proofs_never_panic_and_never_verify() {
    let mut m = Mix::new(4, 1, 11);
    let good = m.proof.to_bytes();
    let outs = m.outputs.clone();
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let (mut decoded, mut refused) = (0, 0);
    for trial in 0..600 {
        let mut bad = good.clone();
        let flips = 1 + trial % 3;
        for _ in 0..flips {
            let i = (rng.next_u32() as usize) % bad.len();
            bad[i] ^= 1 << (rng.next_u32() % 8);
        }
        match ShuffleProof::from_bytes(&bad) {
            Ok(p) => {
                decoded += 1;
                assert!(m.verify(&p, &outs).is_err(), "trial {trial}");
            }
            Err(_) => refused += 1,
        }
    }
    // Random bytes of every length up to a small proof's, too.
    for len in 0..(ShuffleProof::encoded_len(1, 1) as usize + 2) {
        let mut junk = vec![0u8; len];
        rng.fill_bytes(&mut junk);
        if len >= 6 {
            junk[..6].copy_from_slice(&[0, 0, 0, 1, 0, 1]);
        }
        let _ = ShuffleProof::from_bytes(&junk);
    }
    assert!(decoded > 0 && refused > 0);
}

#[test]
fn a_chain_of_mixers_verifies_link_by_link() {
    let mut m = Mix::new(10, 3, 13);
    let mut rng = ChaCha20Rng::seed_from_u64(14);
    let mut list = m.outputs.clone();
    let (proof, outs) = (m.proof.clone(), m.outputs.clone());
    assert_eq!(m.verify(&proof, &outs), Ok(()));
    for mixer in [&b"trustee 2"[..], b"trustee 3"] {
        let inputs = Rows::new(&list, 3).unwrap();
        let (next, wit) = shuffle(&m.pk, inputs, &mut rng).unwrap();
        let st = ShuffleStatement {
            pk: &m.pk,
            inputs,
            outputs: Rows::new(&next, 3).unwrap(),
        };
        let p = ShuffleProof::prove_vartime(&m.gens, &st, &wit, mixer, CTX, &mut rng).unwrap();
        assert_eq!(p.verify(&m.gens, &st, mixer, CTX, &mut rng), Ok(()));
        list = next;
    }
    // The final list holds the original ballots, rows intact.
    let mut want: Vec<Vec<RistrettoPoint>> = m
        .inputs
        .chunks(3)
        .map(|r| r.iter().map(|c| m.sk.decrypt_to_point(c)).collect())
        .collect();
    let mut got: Vec<Vec<RistrettoPoint>> = list
        .chunks(3)
        .map(|r| r.iter().map(|c| m.sk.decrypt_to_point(c)).collect())
        .collect();
    let key = |r: &Vec<RistrettoPoint>| {
        r.iter()
            .map(|p| p.compress().to_bytes())
            .collect::<Vec<_>>()
    };
    want.sort_by_key(key);
    got.sort_by_key(key);
    assert_eq!(want, got);
}

#[test]
fn proving_is_reproducible_from_the_generator() {
    let a = Mix::new(20, 2, 15);
    let b = Mix::new(20, 2, 15);
    assert_eq!(a.outputs, b.outputs);
    assert_eq!(a.proof.to_bytes(), b.proof.to_bytes());
}
