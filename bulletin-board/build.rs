//! Builds the browser booth (`web/`: npm dependencies from the registry, then an esbuild
//! bundle) so the board can serve it. If that is impossible here (no npm, no network), the
//! board serves a page that says so instead, and the build goes on: the booth is a convenience
//! beside `urna vote`, never a reason for the ledger not to build. `URNA_SKIP_BOOTH=1` skips it.

use std::path::{Path, PathBuf};
use std::process::Command;

const FILES: [&str; 3] = ["index.html", "booth.js", "booth.css"];

fn run(web: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("npm")
        .args(args)
        .current_dir(web)
        .output()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "npm {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ))
    }
}

fn build(web: &Path) -> Result<(), String> {
    if std::env::var_os("URNA_SKIP_BOOTH").is_some() {
        return Err("URNA_SKIP_BOOTH is set".into());
    }
    if !web.join("node_modules").exists() {
        run(web, &["ci", "--no-audit", "--no-fund", "--loglevel=error"])?;
    }
    run(web, &["run", "build", "--silent"])
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let web = manifest.join("../web");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("booth");
    for p in ["src", "package.json", "package-lock.json"] {
        println!("cargo:rerun-if-changed={}", web.join(p).display());
    }
    println!("cargo:rerun-if-env-changed=URNA_SKIP_BOOTH");
    let _ = std::fs::create_dir_all(&out);
    let built = build(&web).and_then(|()| {
        for f in FILES {
            std::fs::copy(web.join("dist").join(f), out.join(f))
                .map_err(|e| format!("{f}: {e}"))?;
        }
        Ok(())
    });
    if let Err(why) = built {
        println!("cargo:warning=the browser booth was not built ({why}); the board will serve a page saying so");
        let page = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>urna booth unavailable</title></head>\
             <body><h1>The voting booth is not available on this board</h1><p>It could not be built when this \
             board was compiled: {}. Voters can vote with the <code>urna vote</code> command; observers can verify \
             with <code>urna verify --board URL</code>.</p></body></html>",
            why.replace('<', "&lt;")
        );
        let _ = std::fs::write(out.join("index.html"), page);
        let _ = std::fs::write(out.join("booth.js"), "");
        let _ = std::fs::write(out.join("booth.css"), "");
    }
}
