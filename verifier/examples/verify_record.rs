//! `urna verify <record>` without the rest of the `urna` binary, for measuring the verifier
//! on its own (`cargo run --release -p urna-verifier --example verify_record -- r.rec`):
//! prints the verdict, the entries and the time; run it under `/usr/bin/time -v` for CPU and
//! peak RSS.

use std::io::BufReader;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("give a record file")?;
    let t = Instant::now();
    let mut f = BufReader::new(std::fs::File::open(&path)?);
    let report =
        urna_verifier::verify_record(&mut f, &urna_verifier::Options::default(), &|_, _| {})?;
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
    Ok(())
}
