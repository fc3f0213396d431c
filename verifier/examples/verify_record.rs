//! `urna verify <record>` without the rest of the `urna` binary, for measuring the verifier
//! on its own (`cargo run --release -p urna-verifier --example verify_record -- r.rec`):
//! prints the verdict, the entries and the time, and on stderr the process's resident memory
//! (`VmRSS`, and its peak `VmHWM`, from `/proc/self/status` where there is one) every 100,000
//! entries replayed — the curve that separates what grows per ballot from the fixed part. Run
//! it under `/usr/bin/time -v` for CPU and peak RSS.

use std::cell::Cell;
use std::io::BufReader;
use std::time::Instant;

/// `VmRSS` and `VmHWM` in KiB, where the system tells them.
fn rss() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = s.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // As `urna verify` does: run again with glibc's allocator tuned (urna_verifier::malloc).
    urna_verifier::malloc::exec_tuned();
    let path = std::env::args().nth(1).ok_or("give a record file")?;
    let t = Instant::now();
    let mut f = BufReader::new(std::fs::File::open(&path)?);
    let next = Cell::new(100_000u64);
    let progress = |done: u64, _: u64| {
        if done >= next.get() {
            next.set(next.get() + 100_000);
            if let Some((now, peak)) = rss() {
                eprintln!(
                    "{done} entries, {:.0} s: RSS {now} KiB, peak {peak} KiB",
                    t.elapsed().as_secs_f64()
                );
            }
        }
    };
    let report =
        urna_verifier::verify_record(&mut f, &urna_verifier::Options::default(), &progress)?;
    println!(
        "{}: {} entries in {:.1} s",
        if report.verified {
            "VERIFIED"
        } else {
            "NOT VERIFIED"
        },
        report.size,
        t.elapsed().as_secs_f64()
    );
    if let Some((now, peak)) = rss() {
        eprintln!("end: RSS {now} KiB, peak {peak} KiB");
    }
    Ok(())
}
