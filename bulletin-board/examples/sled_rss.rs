//! Resident memory of sled as the board's index uses it: `N` random 40-byte keys inserted in
//! batches of `B`, with the index's configuration and a flush policy given as arguments.
//! `cargo run --release -p urna-board --example sled_rss -- N B FLUSH_MS|none CACHE_MIB`

fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let n: u64 = a.get(1).map_or(Ok(1_000_000), |s| s.parse())?;
    let b: u64 = a.get(2).map_or(Ok(1000), |s| s.parse())?;
    let flush = a.get(3).and_then(|s| s.parse::<u64>().ok());
    let cache: u64 = a.get(4).map_or(Ok(32), |s| s.parse())?;
    let dir = tempfile::tempdir()?;
    let db = sled::Config::new()
        .path(dir.path())
        .cache_capacity(cache << 20)
        .flush_every_ms(flush)
        .open()?;
    let t = db.open_tree("voter")?;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let start = std::time::Instant::now();
    let mut i = 0;
    while i < n {
        let mut batch = sled::Batch::default();
        for _ in 0..b.min(n - i) {
            let mut k = [0u8; 40];
            for c in k.chunks_mut(8) {
                c.copy_from_slice(&next().to_le_bytes());
            }
            batch.insert(&k[..], &[]);
            i += 1;
        }
        t.apply_batch(batch)?;
        if i % (n / 10).max(1) < b {
            println!(
                "{i:>9} keys  RSS {:>7.1} MB  {:.1} s",
                rss_mb(),
                start.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
