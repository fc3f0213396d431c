//! The HTTP edge the board and the witness share: an accept loop with header timeouts and
//! per-address connection limits ([`listen`]), and fair limits on what each client may ask
//! ([`limits`]: reads per address, submissions per credential, trusted proxies).

pub mod limits;
pub mod listen;

pub use limits::{IpNet, Limiter, Limits, Refused};
