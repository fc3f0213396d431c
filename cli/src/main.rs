//! `urna`: one command for every role. Thin by design; the libraries hold the logic.

use std::process::ExitCode;

const USAGE: &str = "usage: urna <command>\n\ncommands:\n  demo    run a whole election on this machine (not yet available)\n";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => {
            println!(
                "urna demo: not yet — the election layers (issues 3–8) are still being built."
            );
            println!(
                "The cryptographic core is in place: run `cargo test --workspace` to check it."
            );
            ExitCode::SUCCESS
        }
        Some("--help") | Some("-h") | Some("help") | None => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("urna: unknown command `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
