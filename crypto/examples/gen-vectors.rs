//! Writes `specs/vectors/` from the deterministic generator in `tests/common/vectors.rs`.
//!
//! `cargo run -p urna-crypto --example gen-vectors` — then review and commit the diff.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "../tests/common/vectors.rs"]
mod vectors;

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors");
    for (name, value) in vectors::all() {
        let path = root.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, vectors::render(&value))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
