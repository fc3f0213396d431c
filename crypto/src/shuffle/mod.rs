//! A verifiable shuffle of ElGamal ciphertext rows (Terelius–Wikström, as in Verificatum).
//!
//! A mixer re-encrypts and permutes a list of rows ([`shuffle`]), then proves that it did
//! ([`ShuffleProof::prove_vartime`]) without revealing the permutation; anyone checks the proof
//! ([`ShuffleProof::verify`]) against the two lists, the key, the commitment key's seed
//! ([`ShuffleGenerators`]), the mixer's identity and the caller's context bytes. Nothing here
//! knows about elections: the caller decides what the context, the seed and the mixer's identity
//! are (`specs/crypto.md` §12 says what they must bind).
//!
//! ```
//! # use rand::SeedableRng;
//! use urna_crypto::elgamal::{Ciphertext, SecretKey};
//! use urna_crypto::shuffle::{shuffle, Rows, ShuffleGenerators, ShuffleProof, ShuffleStatement};
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let pk = SecretKey::random(&mut rng).public_key()?;
//! let ballots: Vec<Ciphertext> =
//!     (0..6).map(|m| Ciphertext::encrypt_random(&pk, m, &mut rng).0).collect();
//! let inputs = Rows::new(&ballots, 2)?; // three rows of two ciphertexts
//! let gens = ShuffleGenerators::derive(b"election 42 mix", inputs.len())?;
//!
//! let (mixed, witness) = shuffle(&pk, inputs, &mut rng)?;
//! let st = ShuffleStatement { pk: &pk, inputs, outputs: Rows::new(&mixed, 2)? };
//! let proof = ShuffleProof::prove_vartime(&gens, &st, &witness, b"mixer 1", b"ctx", &mut rng)?;
//! proof.verify(&gens, &st, b"mixer 1", b"ctx", &mut rng)?;
//! assert!(proof.verify(&gens, &st, b"mixer 2", b"ctx", &mut rng).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Side channels
//!
//! Verification handles only public data. The prover's fixed-base multiplications are constant
//! time, but the permutation is applied by indexed memory access, and the commitments `A3` and
//! `A4` use variable-time multiscalar multiplication on nonces that, with the public responses,
//! determine the permutation (hence `prove_vartime`). As with Verificatum, a mixer must run on
//! a machine whose CPU it shares with no untrusted code.
//!
#![doc = include_str!("../../../specs/notes-shuffle.md")]

pub mod bench;
mod generators;
mod permutation;
mod proof;

pub use generators::{ShuffleGenerators, MAX_ROWS, MAX_SEED_LEN};
pub use permutation::{reencrypt_permute, shuffle, Permutation, Rows, ShuffleWitness, MAX_WIDTH};
pub use proof::{ShuffleChallenges, ShuffleProof, ShuffleStatement};
