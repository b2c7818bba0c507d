//! Measures durable commit rates of the sled backend (not a test):
//! single-thread commits with and without the extra fsync, and concurrent
//! committers sharing flushes. Usage:
//! `cargo run --release -p tiembed-storage --example commit_latency [DIR] [N]`
//! (DIR should be on the disk you care about; default: a temp dir).

use std::sync::Arc;
use std::time::Instant;
use tiembed_storage::{SledOptions, SledStorage, Space, Storage, Write};

fn run(dir: &std::path::Path, fsync: bool, threads: usize, n: usize) -> (f64, u64) {
    let s = Arc::new(
        SledStorage::open_with(
            dir,
            SledOptions {
                fsync,
                ..SledOptions::default()
            },
        )
        .expect("open"),
    );
    let value = vec![7u8; 200];
    let flushes_before = s.flush_count();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (s, value) = (s.clone(), value.clone());
            scope.spawn(move || {
                for i in 0..n / threads {
                    let key = format!("{fsync}-{threads}-{t}-{i}");
                    s.commit(vec![Write::put(
                        Space::Table(1),
                        key.into_bytes(),
                        value.clone(),
                    )])
                    .expect("commit");
                }
            });
        }
    });
    let rate = n as f64 / start.elapsed().as_secs_f64();
    (rate, s.flush_count() - flushes_before)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let tmp;
    let dir = match args.next() {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            tmp =
                std::env::temp_dir().join(format!("tiembed-commit-latency-{}", std::process::id()));
            tmp
        }
    };
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    for (fsync, threads) in [(false, 1), (true, 1), (true, 8)] {
        let sub = dir.join(format!("fsync{fsync}-t{threads}"));
        let (rate, flushes) = run(&sub, fsync, threads, n);
        println!(
            "fsync={fsync:<5} threads={threads}: {rate:>8.0} commits/s ({n} commits, {flushes} flushes, {:.3} ms/commit)",
            1000.0 / rate
        );
        let _ = std::fs::remove_dir_all(&sub);
    }
}
