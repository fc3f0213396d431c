//! Secret files: passphrases, sealed key files (written atomically, readable only by their
//! owner), and plain secret files for keys that are not passphrase-protected.
//!
//! A passphrase comes from `--passphrase-file` when a command has it and it is given (the
//! documented way for unattended servers: a file readable only by the service's user, or
//! `/dev/fd/N` for a descriptor the service manager passes), else from `URNA_PASSPHRASE`, else
//! from the terminal; never from nowhere. `URNA_KDF_COST=test` makes new key files cheap to
//! open (for test suites); such files are refused unless it is set. The files themselves are
//! `urna-office`'s (`keys`), which the consoles use too.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{bail, Context, Result};
use urna_crypto::sign::SigningKey;

/// The environment variable a non-interactive run takes the passphrase from.
pub const PASSPHRASE_ENV: &str = "URNA_PASSPHRASE";

/// The passphrase: from `URNA_PASSPHRASE`, else asked on the terminal (twice when `confirm`).
pub fn passphrase(what: &str, confirm: bool) -> Result<zeroize::Zeroizing<String>> {
    passphrase_from(what, confirm, None)
}

/// The passphrase: from `file` if given (see [`read_passphrase_file`]), else as
/// [`passphrase`].
pub fn passphrase_from(
    what: &str,
    confirm: bool,
    file: Option<&Path>,
) -> Result<zeroize::Zeroizing<String>> {
    if let Some(f) = file {
        return read_passphrase_file(f);
    }
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        return Ok(zeroize::Zeroizing::new(p));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no passphrase for {what}: give --passphrase-file where the command has it, set {PASSPHRASE_ENV}, or run on a terminal");
    }
    let p = zeroize::Zeroizing::new(rpassword::prompt_password(format!(
        "passphrase for {what}: "
    ))?);
    if confirm {
        let again = zeroize::Zeroizing::new(rpassword::prompt_password("again: ")?);
        if *again != *p {
            bail!("the passphrases differ");
        }
    }
    if p.is_empty() {
        bail!("the passphrase is empty");
    }
    Ok(p)
}

/// Reads a passphrase file: its contents without one final newline. A regular file must be
/// readable by its owner only (like an ssh key): a passphrase others can read protects nothing.
/// A pipe or descriptor (`/dev/fd/N`, `/dev/stdin`) is read as it is.
pub fn read_passphrase_file(path: &Path) -> Result<zeroize::Zeroizing<String>> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    #[cfg(unix)]
    if meta.is_file() {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            bail!(
                "{} is readable by others (mode {:o}): a passphrase file must be readable only by its owner (chmod 600)",
                path.display(),
                mode & 0o777
            );
        }
    }
    if meta.is_dir() {
        bail!("{} is a directory, not a passphrase file", path.display());
    }
    let bytes = zeroize::Zeroizing::new(
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
    );
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", path.display()))?;
    let text = text
        .strip_suffix('\n')
        .map_or(text, |t| t.strip_suffix('\r').unwrap_or(t));
    if text.is_empty() {
        bail!("{} holds an empty passphrase", path.display());
    }
    Ok(zeroize::Zeroizing::new(text.to_string()))
}

pub use urna_office::keys::{open_sealed_key, read_plain_key, read_secret, write_secret};

/// A public file (a manifest, a receipt, a kept checkpoint, a voters CSV, a registry).
pub fn read_public(path: &Path) -> Result<String> {
    Ok(urna_office::keys::read_public(path)?)
}

/// Creates a passphrase-sealed Ed25519 signing key (authority, registrar, board, witness).
pub fn init_sealed_key(path: &Path, passphrase: &[u8]) -> Result<SigningKey> {
    let (k, warning) = urna_office::keys::init_sealed_key(path, passphrase)?;
    if let Some(w) = warning {
        eprintln!("urna: {w}");
    }
    Ok(k)
}

/// Seals `k` into `path` (which must be new when `must_be_new`).
pub fn seal_key(path: &Path, k: &SigningKey, passphrase: &[u8], must_be_new: bool) -> Result<()> {
    if let Some(w) = urna_office::keys::seal_key(path, k, passphrase, must_be_new)? {
        eprintln!("urna: {w}");
    }
    Ok(())
}

/// A sealed key opened with the passphrase from the environment or the terminal.
pub fn open_sealed_key_asking(path: &Path) -> Result<SigningKey> {
    open_sealed_key_from(path, None)
}

/// A sealed key opened with the passphrase from `file` if given, else from the environment or
/// the terminal.
pub fn open_sealed_key_from(path: &Path, file: Option<&Path>) -> Result<SigningKey> {
    let pass = passphrase_from(&path.display().to_string(), false, file)?;
    Ok(open_sealed_key(path, pass.as_bytes())?)
}
