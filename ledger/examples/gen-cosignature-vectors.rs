//! Writes `specs/vectors/cosignatures.json` from the deterministic generator in
//! `tests/common/cosignatures.rs`.
//!
//! `cargo run -p urna-ledger --example gen-cosignature-vectors` — then review and commit the diff.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "../tests/common/cosignatures.rs"]
mod cosignatures;

fn main() -> std::io::Result<()> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors/cosignatures.json");
    std::fs::write(&path, cosignatures::render(&cosignatures::corpus()))?;
    println!("wrote {}", path.display());
    Ok(())
}
