//! Makes the synthetic election `urna bench record` writes, of N ballots, and drops its
//! entries as they come: for measuring the generator's own CPU and memory
//! (`/usr/bin/time -v cargo run --release -p urna-sim --example synth_record -- 20000`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .ok_or("give a number of ballots")?
        .parse()?;
    let t = std::time::Instant::now();
    let mut entries = 0usize;
    let mut bytes = 0usize;
    urna_sim::synth::plurality10_into(n, 1, &|_| {}, &mut |x| {
        entries += x.len();
        bytes += x.iter().map(|e| e.bytes().len()).sum::<usize>();
        Ok(())
    })?;
    println!(
        "{entries} entries, {bytes} bytes, {n} ballots in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
