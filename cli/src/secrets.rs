//! Secret files: passphrases, sealed key files (written atomically, readable only by their
//! owner), and plain secret files for keys that are not passphrase-protected.
//!
//! A passphrase comes from `--passphrase-file` when a command has it and it is given (the
//! documented way for unattended servers: a file readable only by the service's user, or
//! `/dev/fd/N` for a descriptor the service manager passes), else from `URNA_PASSPHRASE`, else
//! from the terminal; never from nowhere. `URNA_KDF_COST=test` makes new key files cheap to
//! open (for test suites); such files are refused unless it is set.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use urna_crypto::hex;
use urna_crypto::keyfile::Cost;
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

/// The environment variable that makes new key files cheap (`test`), for test suites only.
pub const KDF_COST_ENV: &str = "URNA_KDF_COST";

fn test_cost_allowed() -> Result<bool> {
    match std::env::var(KDF_COST_ENV) {
        Ok(v) if v == "test" => Ok(true),
        Ok(v) => bail!("{KDF_COST_ENV}={v:?}: the only value it takes is \"test\" (for test suites); unset it for real keys"),
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

/// Says loudly, on stderr, that `path` was just sealed with the test cost.
pub fn warn_if_test_cost(path: &Path, cost: Cost) {
    if cost.is_below_minimum() {
        eprintln!(
            "urna: WARNING: {KDF_COST_ENV}=test: {} is sealed with the test suites' key-derivation cost (m={} KiB, t={}), which does not protect a stolen key file; urna refuses to open it unless {KDF_COST_ENV}=test is set. Never use it in a real election.",
            path.display(),
            cost.memory_kib,
            cost.passes
        );
    }
}

/// Refuses a sealed file whose stated cost is below the minimum, unless `URNA_KDF_COST=test`
/// says this is a test suite.
pub fn check_cost(path: &Path, sealed: &str) -> Result<()> {
    let cost = urna_crypto::keyfile::stated_cost(sealed)
        .with_context(|| format!("opening {}", path.display()))?;
    if cost.is_below_minimum() && !test_cost_allowed()? {
        bail!(
            "{} is sealed with a test-only key-derivation cost (m={} KiB, t={}, below the minimum of m={} KiB, t={}): it was made under {KDF_COST_ENV}=test and is refused for real use. Make a new key without {KDF_COST_ENV} (or set {KDF_COST_ENV}=test if this is a test suite).",
            path.display(),
            cost.memory_kib,
            cost.passes,
            Cost::MINIMUM.memory_kib,
            Cost::MINIMUM.passes
        );
    }
    Ok(())
}

/// Writes a secret file readable only by its owner, replacing any earlier version atomically
/// (write, fsync, rename), so a crash leaves either the old or the new contents.
pub fn write_secret(path: &Path, contents: &str, must_be_new: bool) -> Result<()> {
    if must_be_new && path.exists() {
        bail!(
            "{} exists already; refusing to overwrite a key",
            path.display()
        );
    }
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// A public file (a manifest, a receipt, a kept checkpoint, a voters CSV, a registry): nothing
/// in it needs wiping.
pub fn read_public(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// A file holding a secret (a credential, a key file): its text is wiped when dropped, and so
/// is the buffer it was read into.
pub fn read_secret(path: &Path) -> Result<zeroize::Zeroizing<String>> {
    let bytes = zeroize::Zeroizing::new(
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
    );
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| crate::guide::bad_input(format!("{} is not UTF-8 text", path.display())))?;
    Ok(zeroize::Zeroizing::new(text.to_string()))
}

/// A plain (unsealed) Ed25519 key file: the 32-byte seed in hex.
pub fn read_plain_key(path: &Path) -> Result<SigningKey> {
    let text = read_secret(path)?;
    let seed = zeroize::Zeroizing::new(
        hex::decode_array::<32>(text.trim())
            .map_err(|e| anyhow::anyhow!("{}: not a 32-byte hex key: {e}", path.display()))?,
    );
    Ok(SigningKey::from_seed(&seed))
}

/// Creates a passphrase-sealed Ed25519 signing key (authority, registrar, board, witness).
pub fn init_sealed_key(path: &Path, passphrase: &[u8]) -> Result<SigningKey> {
    let k = SigningKey::generate(&mut rand::rngs::OsRng);
    seal_key(path, &k, passphrase, true)?;
    Ok(k)
}

/// Seals `k` into `path` (which must be new when `must_be_new`).
pub fn seal_key(path: &Path, k: &SigningKey, passphrase: &[u8], must_be_new: bool) -> Result<()> {
    let cost = cost()?;
    let sealed = urna_crypto::keyfile::seal(k.seed(), passphrase, cost, &mut rand::rngs::OsRng)?;
    write_secret(path, &sealed, must_be_new)?;
    warn_if_test_cost(path, cost);
    Ok(())
}

/// Whether a key file holds a plain (unsealed) hex seed.
pub fn is_plain_key(text: &str) -> bool {
    let t = text.trim();
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn open_sealed_key(path: &Path, passphrase: &[u8]) -> Result<SigningKey> {
    let text = read_secret(path)?;
    if is_plain_key(&text) {
        bail!(
            "{} holds an unsealed key (a plain hex seed); seal it first: urna seal-key --key {}",
            path.display(),
            path.display()
        );
    }
    check_cost(path, &text)?;
    let seed = urna_crypto::keyfile::open(&text, passphrase).map_err(|e| seal_error(path, e))?;
    let seed: [u8; 32] = seed
        .as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("{}: not a sealed signing key", path.display()))?;
    let k = SigningKey::from_seed(&seed);
    let mut seed = seed;
    zeroize::Zeroize::zeroize(&mut seed);
    Ok(k)
}

/// A sealed key opened with the passphrase from the environment or the terminal.
pub fn open_sealed_key_asking(path: &Path) -> Result<SigningKey> {
    open_sealed_key_from(path, None)
}

/// A sealed key opened with the passphrase from `file` if given, else from the environment or
/// the terminal.
pub fn open_sealed_key_from(path: &Path, file: Option<&Path>) -> Result<SigningKey> {
    let pass = passphrase_from(&path.display().to_string(), false, file)?;
    open_sealed_key(path, pass.as_bytes())
}

/// A sealed file that did not open, said once: a wrong passphrase is a plain "no" (exit 1); a
/// file that is not a sealed key is a usage error.
pub fn seal_error(path: &Path, e: urna_crypto::keyfile::SealError) -> anyhow::Error {
    use urna_crypto::keyfile::SealError;
    match e {
        SealError::WrongPassphrase => anyhow::anyhow!(
            "wrong passphrase for {} (or the file was altered)",
            path.display()
        ),
        SealError::Malformed(why) => crate::guide::bad_input(format!(
            "{} is not an urna sealed key file ({why})",
            path.display()
        )),
        e => anyhow::anyhow!("opening {}: {e}", path.display()),
    }
}
