//! Secret files: passphrases, sealed key files (written atomically, readable only by their
//! owner), and plain secret files for keys that are not passphrase-protected.

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
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        return Ok(zeroize::Zeroizing::new(p));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no passphrase for {what}: set {PASSPHRASE_ENV} or run on a terminal");
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

/// The Argon2id cost of new key files; `URNA_KDF_COST=test` lowers it for test suites only.
pub fn cost() -> Cost {
    if std::env::var("URNA_KDF_COST").as_deref() == Ok("test") {
        Cost {
            memory_kib: 256,
            passes: 1,
            lanes: 1,
        }
    } else {
        Cost::default()
    }
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

pub fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// A plain (unsealed) Ed25519 key file: the 32-byte seed in hex.
pub fn read_plain_key(path: &Path) -> Result<SigningKey> {
    let text = zeroize::Zeroizing::new(read(path)?);
    let seed = zeroize::Zeroizing::new(
        hex::decode_array::<32>(text.trim())
            .map_err(|e| anyhow::anyhow!("{}: not a 32-byte hex key: {e}", path.display()))?,
    );
    Ok(SigningKey::from_seed(&seed))
}

/// Creates a passphrase-sealed Ed25519 signing key (authority, registrar).
pub fn init_sealed_key(path: &Path, passphrase: &[u8]) -> Result<SigningKey> {
    let mut rng = rand::rngs::OsRng;
    let k = SigningKey::generate(&mut rng);
    let sealed = urna_crypto::keyfile::seal(k.seed(), passphrase, cost(), &mut rng)?;
    write_secret(path, &sealed, true)?;
    Ok(k)
}

pub fn open_sealed_key(path: &Path, passphrase: &[u8]) -> Result<SigningKey> {
    let seed =
        urna_crypto::keyfile::open(&read(path)?, passphrase).map_err(|e| seal_error(path, e))?;
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
    let pass = passphrase(&path.display().to_string(), false)?;
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
