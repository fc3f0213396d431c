//! What the registrar runs: the voters CSV checked line by line, one credential per voter, a
//! private registry of who got which credential (never the secret keys), the public roll posted
//! to the board in signed batches ([`roll`]), and a printable letter per voter ([`letters`]).

pub mod letters;
pub mod roll;

pub use roll::*;
