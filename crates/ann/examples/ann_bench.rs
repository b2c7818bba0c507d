//! Benchmark of tiembed-ann on clustered 384-d unit vectors; run by
//! `bench/ann/run.sh`, which runs hnswlib and faiss on the same files.
//!
//! ```text
//! cargo run --release -p tiembed-ann --example ann_bench -- \
//!     --dir DIR --n 100000 [--dim 384] [--queries 1000] [--threads 2]
//!     [--storage f32|bf16|f16]
//! cargo run --release -p tiembed-ann --example ann_bench -- --dir DIR --n 100000 --load-only
//! cargo run --release -p tiembed-ann --example ann_bench -- --dir DIR --n 100000 --search-only
//! ```
//!
//! `--search-only` loads the index a previous run saved and only runs the
//! query sweep (for tuning the search path without rebuilding).
//!
//! ```text
//! ```
//!
//! DIR/base.f32 (n x dim), DIR/queries.f32 and DIR/truth.u32 (top-10 row
//! ids per query, by exact inner product) are raw little-endian and are
//! generated on the first run; later runs and the Python side reuse them.
//! Results go to stdout and to DIR/tiembed.json for compare.py.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tiembed_ann::synth::{self, Clustered};
use tiembed_ann::{AnnIndex, HnswParams, Storage, VectorMetric};

const EFS: [usize; 4] = [16, 32, 64, 128];
const K: usize = 10;

struct Args {
    dir: PathBuf,
    n: usize,
    dim: usize,
    queries: usize,
    threads: usize,
    m: u32,
    efc: u32,
    load_only: bool,
    search_only: bool,
    storage: Storage,
}

fn parse_args() -> Args {
    let mut a = Args {
        dir: PathBuf::from("target/ann-bench"),
        n: 100_000,
        dim: 384,
        queries: 1000,
        threads: 2,
        m: 16,
        efc: 128,
        load_only: false,
        search_only: false,
        storage: Storage::F32,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().expect("flag needs a value");
        match flag.as_str() {
            "--dir" => a.dir = PathBuf::from(val()),
            "--n" => a.n = val().parse().expect("--n"),
            "--dim" => a.dim = val().parse().expect("--dim"),
            "--queries" => a.queries = val().parse().expect("--queries"),
            "--threads" => a.threads = val().parse().expect("--threads"),
            "--m" => a.m = val().parse().expect("--m"),
            "--efc" => a.efc = val().parse().expect("--efc"),
            "--load-only" => a.load_only = true,
            "--search-only" => a.search_only = true,
            "--storage" => {
                a.storage = match val().as_str() {
                    "f32" => Storage::F32,
                    "bf16" => Storage::BF16,
                    "f16" => Storage::F16,
                    other => panic!("--storage f32|bf16|f16, not {other}"),
                }
            }
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn vm_rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// CPU time of the calling thread, from the scheduler's own accounting
/// (ns), so single-thread QPS is comparable across runs on a busy machine.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// User + system CPU seconds of the whole process (all threads).
fn process_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 12th and 13th of them, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |r| r.1);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

fn write_f32(path: &Path, v: &[f32]) {
    let mut bytes = Vec::with_capacity(v.len() * 4);
    v.iter()
        .for_each(|x| bytes.extend_from_slice(&x.to_le_bytes()));
    std::fs::write(path, bytes).expect("write data file");
}

fn read_f32(path: &Path, len: usize) -> Option<Vec<f32>> {
    let bytes = std::fs::read(path).ok()?;
    (bytes.len() == len * 4).then(|| {
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    })
}

/// Generates (or reuses) the data set; returns (base, queries, truth).
fn dataset(a: &Args) -> (Vec<f32>, Vec<f32>, Vec<u32>) {
    std::fs::create_dir_all(&a.dir).expect("create --dir");
    let (bp, qp, tp) = (
        a.dir.join("base.f32"),
        a.dir.join("queries.f32"),
        a.dir.join("truth.u32"),
    );
    if let (Some(b), Some(q), Ok(t)) = (
        read_f32(&bp, a.n * a.dim),
        read_f32(&qp, a.queries * a.dim),
        std::fs::read(&tp),
    ) {
        if t.len() == a.queries * K * 4 {
            let t = t
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            eprintln!("reusing data set in {}", a.dir.display());
            return (b, q, t);
        }
    }
    let t0 = Instant::now();
    let gen = Clustered::new(a.dim, 200, 2024);
    let mut base = vec![0f32; a.n * a.dim];
    // Chunks seeded by index: the same data whatever the thread count.
    let chunk = 10_000 * a.dim;
    std::thread::scope(|s| {
        let parts: Vec<_> = base.chunks_mut(chunk).enumerate().collect();
        let per = parts.len().div_ceil(a.threads.max(1));
        let mut parts = parts.into_iter();
        for _ in 0..a.threads.max(1) {
            let mine: Vec<_> = parts.by_ref().take(per).collect();
            let gen = &gen;
            s.spawn(move || {
                for (i, c) in mine {
                    gen.fill(1_000 + i as u64, c);
                }
            });
        }
    });
    let queries = gen.generate(a.queries, 7);
    eprintln!("generated {} vectors in {:.1?}", a.n, t0.elapsed());
    let t0 = Instant::now();
    let mut truth = vec![0u32; a.queries * K];
    std::thread::scope(|s| {
        let per = a.queries.div_ceil(a.threads.max(1));
        for (qs, ts) in queries.chunks(per * a.dim).zip(truth.chunks_mut(per * K)) {
            let base = &base;
            s.spawn(move || {
                for (q, t) in qs.chunks_exact(a.dim).zip(ts.chunks_exact_mut(K)) {
                    let top = synth::exact_top_k(base, a.dim, q, K, |_| true);
                    t.iter_mut().zip(top).for_each(|(t, i)| *t = i as u32);
                }
            });
        }
    });
    eprintln!(
        "exact top-{K} for {} queries in {:.1?}",
        a.queries,
        t0.elapsed()
    );
    write_f32(&bp, &base);
    write_f32(&qp, &queries);
    let mut tb = Vec::with_capacity(truth.len() * 4);
    truth
        .iter()
        .for_each(|x| tb.extend_from_slice(&x.to_le_bytes()));
    std::fs::write(&tp, tb).expect("write truth");
    (base, queries, truth)
}

struct Point {
    ef: usize,
    qps1: f64,
    qps1_cpu: f64,
    qps2: f64,
    recall: f64,
}

/// Runs `search(q) -> keys` over the queries, repeating until at least
/// ~1.5 s have passed, on `threads` threads; returns (wall-clock QPS,
/// recall@10, QPS per CPU-second of the searching thread when `threads` is 1).
fn measure(
    queries: &[f32],
    dim: usize,
    truth: &[u32],
    threads: usize,
    search: &(dyn Fn(&[f32]) -> Vec<u64> + Sync),
) -> (f64, f64, f64) {
    let nq = queries.len() / dim;
    // Recall from one pass.
    let mut hits = 0usize;
    for (i, q) in queries.chunks_exact(dim).enumerate() {
        let got = search(q);
        hits += truth[i * K..(i + 1) * K]
            .iter()
            .filter(|&&t| got.contains(&(t as u64)))
            .count();
    }
    let recall = hits as f64 / (nq * K) as f64;
    let t0 = Instant::now();
    let mut done = 0usize;
    if threads == 1 {
        let cpu0 = thread_cpu_ns();
        while t0.elapsed() < Duration::from_millis(1500) {
            for q in queries.chunks_exact(dim) {
                std::hint::black_box(search(q));
            }
            done += nq;
        }
        let cpu = (thread_cpu_ns() - cpu0) as f64 / 1e9;
        let wall = done as f64 / t0.elapsed().as_secs_f64();
        return (wall, recall, done as f64 / cpu);
    }
    while t0.elapsed() < Duration::from_millis(1500) {
        std::thread::scope(|s| {
            let per = nq.div_ceil(threads);
            for part in queries.chunks(per * dim) {
                s.spawn(move || {
                    for q in part.chunks_exact(dim) {
                        std::hint::black_box(search(q));
                    }
                });
            }
        });
        done += nq;
    }
    (done as f64 / t0.elapsed().as_secs_f64(), recall, 0.0)
}

fn sweep(
    name: &str,
    queries: &[f32],
    dim: usize,
    truth: &[u32],
    threads: usize,
    search: &(dyn Fn(&[f32], usize) -> Vec<u64> + Sync),
) -> Vec<Point> {
    let mut points = Vec::new();
    for ef in EFS {
        let f = |q: &[f32]| search(q, ef);
        let (qps1, recall, qps1_cpu) = measure(queries, dim, truth, 1, &f);
        let (qps2, _, _) = measure(queries, dim, truth, threads, &f);
        println!(
            "{name:<22} ef={ef:<4} recall@10={recall:.4}  QPS 1 thread={qps1:>8.0} (per CPU-s {qps1_cpu:>6.0})  QPS {threads} threads={qps2:>8.0}"
        );
        points.push(Point {
            ef,
            qps1,
            qps1_cpu,
            qps2,
            recall,
        });
    }
    points
}

fn json_points(points: &[Point]) -> String {
    let mut s = String::from("[");
    for (i, p) in points.iter().enumerate() {
        let _ = write!(
            s,
            "{}{{\"ef\":{},\"qps1\":{:.1},\"qps1_cpu\":{:.1},\"qps2\":{:.1},\"recall\":{:.5}}}",
            if i > 0 { "," } else { "" },
            p.ef,
            p.qps1,
            p.qps1_cpu,
            p.qps2,
            p.recall
        );
    }
    s + "]"
}

fn main() {
    let a = parse_args();
    let params = HnswParams {
        m: a.m,
        ef_construction: a.efc,
        ef_search: 64,
    };
    let index_path = a.dir.join(format!("tiembed-{}.ann", a.n));
    println!(
        "{} (kernels: {}, storage {:?}) n={} dim={} M={} ef_construction={} threads={}",
        tiembed_ann::engine_version(),
        tiembed_ann::hardware_acceleration(),
        a.storage,
        a.n,
        a.dim,
        a.m,
        a.efc,
        a.threads
    );

    if a.load_only {
        let queries = read_f32(&a.dir.join("queries.f32"), a.queries * a.dim).expect("queries");
        let rss0 = vm_rss_bytes();
        for view in [false, true] {
            let t0 = Instant::now();
            let cpu0 = process_cpu_s();
            let (index, meta) = if view {
                AnnIndex::view(&index_path, VectorMetric::Cosine, a.dim, params)
            } else {
                AnnIndex::load(&index_path, VectorMetric::Cosine, a.dim, params)
            }
            .expect("open index");
            let took = t0.elapsed();
            let took_cpu = process_cpu_s() - cpu0;
            let rss = vm_rss_bytes();
            let t1 = Instant::now();
            for q in queries.chunks_exact(a.dim) {
                std::hint::black_box(index.search(q, K, 64).unwrap());
            }
            let first = t1.elapsed();
            println!(
                "{} ({:?} storage): {:.2?} wall, {took_cpu:.2} CPU-s for {} vectors (meta {:?}); VmRSS +{:.0} MB after open, +{:.0} MB after {} queries at ef=64 ({:.0} QPS, cold)",
                if view { "view (read-only)" } else { "load" },
                index.storage(),
                took,
                index.len(),
                String::from_utf8_lossy(&meta),
                mb(rss.saturating_sub(rss0)),
                mb(vm_rss_bytes().saturating_sub(rss0)),
                a.queries,
                a.queries as f64 / first.as_secs_f64()
            );
            drop(index);
        }
        return;
    }

    let (base, queries, truth) = dataset(&a);
    if a.search_only {
        let (index, _) = AnnIndex::load(&index_path, VectorMetric::Cosine, a.dim, params)
            .expect("--search-only needs the index a previous run saved");
        sweep(
            "tiembed-ann",
            &queries,
            a.dim,
            &truth,
            a.threads,
            &|q, ef| {
                index
                    .search(q, K, ef)
                    .unwrap()
                    .into_iter()
                    .map(|r| r.0)
                    .collect()
            },
        );
        return;
    }
    let raw_bytes = base.len() * 4;
    let rss_before = vm_rss_bytes();

    let index = AnnIndex::with_storage(VectorMetric::Cosine, a.dim, params, a.storage).unwrap();
    let keys: Vec<u64> = (0..a.n as u64).collect();
    let t0 = Instant::now();
    let cpu0 = process_cpu_s();
    let step = (a.n / 10).max(1);
    let last = std::sync::atomic::AtomicUsize::new(0);
    index
        .add_parallel(&keys, &base, a.threads, &|done| {
            if done / step != last.swap(done, std::sync::atomic::Ordering::Relaxed) / step {
                eprint!("\rbuilding: {done}/{} ({:.0?})  ", a.n, t0.elapsed());
                let _ = std::io::stderr().flush();
            }
        })
        .unwrap();
    let build = t0.elapsed().as_secs_f64();
    let build_cpu = process_cpu_s() - cpu0;
    eprintln!();
    let rss_index = vm_rss_bytes().saturating_sub(rss_before);
    println!(
        "build: {build:.1} s wall, {build_cpu:.1} CPU-s ({:.0} vectors/s); memory_usage {:.0} MB, VmRSS +{:.0} MB, raw vectors {:.0} MB ({:.2}x)",
        a.n as f64 / build,
        mb(index.memory_usage()),
        mb(rss_index),
        mb(raw_bytes),
        rss_index as f64 / raw_bytes as f64
    );

    let points = sweep(
        "tiembed-ann",
        &queries,
        a.dim,
        &truth,
        a.threads,
        &|q, ef| {
            index
                .search(q, K, ef)
                .unwrap()
                .into_iter()
                .map(|r| r.0)
                .collect()
        },
    );

    let t0 = Instant::now();
    index.save(&index_path, b"bench").unwrap();
    let save = t0.elapsed().as_secs_f64();
    let file_len = std::fs::metadata(&index_path).map(|m| m.len()).unwrap_or(0);
    println!("save: {save:.2} s, file {:.0} MB", mb(file_len as usize));

    let mut json = format!(
        "{{\"lib\":\"tiembed-ann\",\"n\":{},\"dim\":{},\"build_s\":{build:.2},\"build_cpu_s\":{build_cpu:.2},\"save_s\":{save:.2},\"rss_mb\":{:.1},\"raw_mb\":{:.1},\"points\":{}",
        a.n,
        a.dim,
        mb(rss_index),
        mb(raw_bytes),
        json_points(&points)
    );
    json.push('}');
    std::fs::write(a.dir.join(format!("tiembed-{}.json", a.n)), json).unwrap();
}
