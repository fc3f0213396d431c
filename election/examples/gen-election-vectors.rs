//! Writes `specs/vectors/election/record.json` and `specs/vectors/reject/election.json` from the
//! deterministic generator in `tests/common/`.
//!
//! `cargo run -p urna-election --example gen-election-vectors` — then review and commit the diff.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "../tests/common/mod.rs"]
mod common;

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors");
    for (name, value) in common::vectors::all() {
        let path = root.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, common::vectors::render(&value))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
