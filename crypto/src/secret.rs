//! Secret scalars: zeroized on drop, never printed.

use std::fmt;

use curve25519_dalek::scalar::Scalar;
use rand_core::{CryptoRng, RngCore};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret scalar (a key, a nonce, a share). Its `Debug` is redacted and it is wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretScalar(Scalar);

impl SecretScalar {
    pub fn new(s: Scalar) -> Self {
        SecretScalar(s)
    }

    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        SecretScalar(Scalar::random(rng))
    }

    /// The secret value. Named so that every use is visible in review.
    pub fn expose(&self) -> &Scalar {
        &self.0
    }
}

impl fmt::Debug for SecretScalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretScalar(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_is_redacted() {
        let s = super::SecretScalar::new(curve25519_dalek::scalar::Scalar::from(42u64));
        assert_eq!(format!("{s:?}"), "SecretScalar(<redacted>)");
    }
}
