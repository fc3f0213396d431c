#![doc = include_str!("../README.md")]

pub mod batch;
pub mod codec;
pub mod dlog;
pub mod elgamal;
pub mod embed;
pub mod errors;
pub mod group;
pub mod hex;
pub mod keyfile;
pub mod range;
pub mod secret;
pub mod share_enc;
pub mod shuffle;
pub mod sigma;
pub mod sign;
pub mod threshold;
pub mod transcript;

pub use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
pub use curve25519_dalek::scalar::Scalar;
pub use merlin::Transcript;
