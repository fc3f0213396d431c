//! Secret files: sealed key files (written atomically, readable only by their owner), plain
//! secret files (credentials, letters), and the key-derivation cost policy. Where a
//! passphrase comes from is the caller's business (the CLI asks the terminal, a console its
//! page); it is used here and never kept.
//!
//! `URNA_KDF_COST=test` makes new key files cheap to open (for test suites); such files are
//! refused unless it is set.

use std::io::Write;
use std::path::Path;

use urna_crypto::hex;
use urna_crypto::keyfile::{Cost, SealError};
use urna_crypto::sign::SigningKey;

use crate::error::{OfficeError, Result};

/// The environment variable that makes new key files cheap (`test`), for test suites only.
pub const KDF_COST_ENV: &str = "URNA_KDF_COST";

fn test_cost_allowed() -> Result<bool> {
    match std::env::var(KDF_COST_ENV) {
        Ok(v) if v == "test" => Ok(true),
        Ok(v) => Err(OfficeError::Usage(format!("{KDF_COST_ENV}={v:?}: the only value it takes is \"test\" (for test suites); unset it for real keys"))),
        Err(_) => Ok(false),
    }
}

/// The Argon2id cost of new key files: the default, or [`Cost::TEST`] under
/// `URNA_KDF_COST=test`.
pub fn cost() -> Result<Cost> {
    Ok(if test_cost_allowed()? {
        Cost::TEST
    } else {
        Cost::default()
    })
}

/// What to say loudly when `path` was just sealed with the test cost (`None` otherwise).
pub fn test_cost_warning(path: &Path, cost: Cost) -> Option<String> {
    cost.is_below_minimum().then(|| {
        format!(
            "WARNING: {KDF_COST_ENV}=test: {} is sealed with the test suites' key-derivation cost (m={} KiB, t={}), which does not protect a stolen key file; urna refuses to open it unless {KDF_COST_ENV}=test is set. Never use it in a real election.",
            path.display(),
            cost.memory_kib,
            cost.passes
        )
    })
}

/// Refuses a sealed file whose stated cost is below the minimum, unless `URNA_KDF_COST=test`
/// says this is a test suite.
pub fn check_cost(path: &Path, sealed: &str) -> Result<()> {
    let cost = urna_crypto::keyfile::stated_cost(sealed).map_err(|e| seal_error(path, e))?;
    if cost.is_below_minimum() && !test_cost_allowed()? {
        return Err(OfficeError::No(format!(
            "{} is sealed with a test-only key-derivation cost (m={} KiB, t={}, below the minimum of m={} KiB, t={}): it was made under {KDF_COST_ENV}=test and is refused for real use. Make a new key without {KDF_COST_ENV} (or set {KDF_COST_ENV}=test if this is a test suite).",
            path.display(),
            cost.memory_kib,
            cost.passes,
            Cost::MINIMUM.memory_kib,
            Cost::MINIMUM.passes
        )));
    }
    Ok(())
}

/// Writes a secret file readable only by its owner, replacing any earlier version atomically
/// (write, fsync, rename), so a crash leaves either the old or the new contents.
pub fn write_secret(path: &Path, contents: &str, must_be_new: bool) -> Result<()> {
    if must_be_new && path.exists() {
        return Err(OfficeError::No(format!(
            "{} exists already; refusing to overwrite a key",
            path.display()
        )));
    }
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(&tmp)
        .map_err(OfficeError::io(format!("creating {}", tmp.display())))?;
    let what = || OfficeError::io(format!("writing {}", tmp.display()));
    f.write_all(contents.as_bytes()).map_err(what())?;
    f.sync_all().map_err(what())?;
    std::fs::rename(&tmp, path).map_err(OfficeError::io(format!("writing {}", path.display())))
}

/// A public file (a manifest, a receipt, a kept checkpoint, a voters CSV, a registry): nothing
/// in it needs wiping.
pub fn read_public(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(OfficeError::io(format!("reading {}", path.display())))
}

/// A file holding a secret (a credential, a key file): its text is wiped when dropped, and so
/// is the buffer it was read into.
pub fn read_secret(path: &Path) -> Result<zeroize::Zeroizing<String>> {
    let bytes = zeroize::Zeroizing::new(
        std::fs::read(path).map_err(OfficeError::io(format!("reading {}", path.display())))?,
    );
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| OfficeError::Usage(format!("{} is not UTF-8 text", path.display())))?;
    Ok(zeroize::Zeroizing::new(text.to_string()))
}

/// A plain (unsealed) Ed25519 key file: the 32-byte seed in hex.
pub fn read_plain_key(path: &Path) -> Result<SigningKey> {
    let text = read_secret(path)?;
    let seed =
        zeroize::Zeroizing::new(hex::decode_array::<32>(text.trim()).map_err(|e| {
            OfficeError::No(format!("{}: not a 32-byte hex key: {e}", path.display()))
        })?);
    Ok(SigningKey::from_seed(&seed))
}

/// Creates a passphrase-sealed Ed25519 signing key (authority, registrar, board, witness).
/// Returns the key and, for a test-cost file, the warning to give.
pub fn init_sealed_key(path: &Path, passphrase: &[u8]) -> Result<(SigningKey, Option<String>)> {
    let k = SigningKey::generate(&mut rand::rngs::OsRng);
    let warning = seal_key(path, &k, passphrase, true)?;
    Ok((k, warning))
}

/// Seals `k` into `path` (which must be new when `must_be_new`); returns the test-cost
/// warning, if any.
pub fn seal_key(
    path: &Path,
    k: &SigningKey,
    passphrase: &[u8],
    must_be_new: bool,
) -> Result<Option<String>> {
    let cost = cost()?;
    let sealed = urna_crypto::keyfile::seal(k.seed(), passphrase, cost, &mut rand::rngs::OsRng)
        .map_err(|e| seal_error(path, e))?;
    write_secret(path, &sealed, must_be_new)?;
    Ok(test_cost_warning(path, cost))
}

/// Whether a key file holds a plain (unsealed) hex seed.
pub fn is_plain_key(text: &str) -> bool {
    let t = text.trim();
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Opens a sealed signing key with `passphrase` (which the caller wipes).
pub fn open_sealed_key(path: &Path, passphrase: &[u8]) -> Result<SigningKey> {
    let text = read_secret(path)?;
    if is_plain_key(&text) {
        return Err(OfficeError::No(format!(
            "{} holds an unsealed key (a plain hex seed); seal it first: urna seal-key --key {}",
            path.display(),
            path.display()
        )));
    }
    check_cost(path, &text)?;
    let seed = urna_crypto::keyfile::open(&text, passphrase).map_err(|e| seal_error(path, e))?;
    let seed: zeroize::Zeroizing<[u8; 32]> =
        zeroize::Zeroizing::new(seed.as_slice().try_into().map_err(|_| {
            OfficeError::Usage(format!("{}: not a sealed signing key", path.display()))
        })?);
    Ok(SigningKey::from_seed(&seed))
}

/// A sealed file that did not open, said once: a wrong passphrase is a plain "no"; a file that
/// is not a sealed key is a usage error.
pub fn seal_error(path: &Path, e: SealError) -> OfficeError {
    match e {
        SealError::WrongPassphrase => OfficeError::WrongPassphrase(path.display().to_string()),
        SealError::Malformed(why) => OfficeError::Usage(format!(
            "{} is not an urna sealed key file ({why})",
            path.display()
        )),
        e => OfficeError::No(format!("opening {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_sealed_key_opens_with_its_passphrase_only() {
        std::env::set_var(KDF_COST_ENV, "test");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.key");
        let (k, warning) = init_sealed_key(&path, b"right").unwrap();
        assert!(warning.is_some());
        assert_eq!(
            open_sealed_key(&path, b"right").unwrap().verifying_key(),
            k.verifying_key()
        );
        assert!(matches!(
            open_sealed_key(&path, b"wrong"),
            Err(OfficeError::WrongPassphrase(_))
        ));
        assert!(init_sealed_key(&path, b"again").is_err(), "overwrote a key");
    }
}
