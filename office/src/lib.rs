//! What an election's officials do with their files and the board, as library calls: sealed
//! key files ([`keys`]), what each phase allows ([`phase`]), the authority's verbs
//! ([`authority`]) and manifest drafts ([`draft`]), the registrar's credentials, letters and
//! roll ([`registrar`]), the trustee's ceremony steps and decryption ([`trustee`]).
//!
//! The `urna` CLI and the consoles are both thin layers over this crate: whatever a console
//! does, a command does too.

pub mod authority;
pub mod draft;
pub mod error;
pub mod keys;
pub mod phase;
pub mod registrar;
pub mod trustee;

pub use error::{OfficeError, Result};
