//! Keeping the verifier's memory where its data is (issue 18: `urna verify` in ≤ 512 MB
//! whatever the size), against glibc's allocator's defaults.
//!
//! The verifier frees, every batch, buffers of megabytes that other threads allocated (the
//! decoded entries, the batch verifier's scratch). glibc's `malloc` serves a request of
//! 128 KiB or more by `mmap` and returns it on `free` — but the first time such a block is
//! freed it raises that threshold to the block's size (up to 32 MiB), and from then on serves
//! those buffers from its arenas, one per thread, where they stay resident and fragment around
//! the rules' state growing in between: at 20,000 ballots the peak RSS was 144 MB with the
//! default and 105 MB with the threshold fixed; at a million it was most of the excess over
//! 512 MB. Fixing it (and capping the arenas at two) needs `mallopt`, which is `unsafe` here,
//! or the environment variables glibc reads when the process starts: so the command that
//! verifies runs itself again with them set ([`exec_tuned`]), unless they are set already.
//! `urna board serve` does the same: at a million ballots of sustained ingest the board held
//! 1,343 MB untuned and 950 MB tuned (README, "Scale (issue 18)").

/// What the verifier runs under: the `mmap` threshold fixed at glibc's own initial 128 KiB
/// (setting it turns off the dynamic raise), and at most two arenas.
pub const TUNING: [(&str, &str); 2] = [
    ("MALLOC_MMAP_THRESHOLD_", "131072"),
    ("MALLOC_ARENA_MAX", "2"),
];

/// Replaces this process by the same program with the same arguments and [`TUNING`] in its
/// environment (`execve`: the same process id, so signals, exit status and a `kill -9` reach
/// the verifier itself, and nothing is left running behind). Returns only where that does not
/// apply — not a glibc system, or the threshold already set (by the person running it, or
/// because this is the tuned run) — or where the program cannot be started again; the caller
/// then goes on untuned.
pub fn exec_tuned() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        use std::process::Command;
        if std::env::var_os(TUNING[0].0).is_some() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut cmd = Command::new(exe);
        cmd.args(std::env::args_os().skip(1));
        for (k, v) in TUNING {
            if std::env::var_os(k).is_none() {
                cmd.env(k, v);
            }
        }
        // `exec` returns only its error; untuned is still correct, only larger.
        let _ = cmd.exec();
    }
}
