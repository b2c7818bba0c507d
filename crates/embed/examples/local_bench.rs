//! Throughput and query latency of the local model.
//!
//!     scripts/fetch-models.sh
//!     cargo run --release -p tiembed-embed --example local_bench -- \
//!         [MODEL_DIR] [--texts FILE] [--rounds N] [--threads 1,2]
//!         [--batches 1,8,16,32,64,128] [--query TEXT] [--query-repeats N]
//!         [--json] [--dump OUT.f32] [--serve]
//!
//! MODEL_DIR defaults to models/sentence-transformers/all-MiniLM-L6-v2.
//! `--texts` reads one text per line (bench/embed/run.sh passes the same
//! file to sentence-transformers); without it, ~500 template sentences.
//! Batch `b` hands the texts to `embed_batch` `b` at a time in file order,
//! as the server's batcher does. The query latency is one short text
//! embedded alone, as `VEC_EMBED_COSINE_DISTANCE(col, 'q')` does.
//! `--json` prints one object per measurement (for bench/embed/report.py);
//! otherwise the median of N rounds per setting. `--dump` writes every
//! text's vector (batch 32) as little-endian f32, for the correctness check.
//! `--serve` loads one model per `--threads` count, then answers lines on
//! stdin, `sps THREADS BATCH [COUNT]` and `query THREADS`, with one JSON
//! line each: bench/embed/compare.py interleaves these with PyTorch's own
//! measurements, so both sides see the same load on a shared machine.
//! Compare figures within one run: other load on the machine moves them all.

use std::path::PathBuf;
use std::time::Instant;
use tiembed_embed::providers::local::LocalModel;

/// ~500 distinct short sentences (8-16 words) built from a few templates.
fn template_sentences() -> Vec<String> {
    let subjects = [
        "The database",
        "A vector index",
        "My laptop",
        "The server",
        "This query",
        "Our team",
        "The model",
        "A client",
    ];
    let verbs = [
        "stores", "returns", "embeds", "ranks", "caches", "rejects", "sorts", "updates",
    ];
    let objects = [
        "rows from the orders table",
        "the nearest neighbours of a question",
        "every sentence in the document",
        "coffee beans from Indonesia",
        "a long list of product reviews",
        "results in less than a second",
        "the weather report for tomorrow",
        "text written in several languages",
    ];
    let tails = [
        "today.",
        "without any network access.",
        "after the last commit.",
        "on a small machine.",
        "for the second time.",
        "as expected.",
        "in the morning.",
        "quickly.",
    ];
    let mut out = Vec::new();
    'outer: for (i, s) in subjects.iter().enumerate() {
        for (j, v) in verbs.iter().enumerate() {
            for (k, o) in objects.iter().enumerate() {
                out.push(format!("{s} {v} {o} {}", tails[(i + j + k) % tails.len()]));
                if out.len() == 500 {
                    break 'outer;
                }
            }
        }
    }
    out
}

struct Options {
    dir: PathBuf,
    texts: Option<PathBuf>,
    rounds: usize,
    threads: Vec<usize>,
    batches: Vec<usize>,
    query: String,
    query_repeats: usize,
    json: bool,
    dump: Option<PathBuf>,
    serve: bool,
}

impl Options {
    fn parse() -> Options {
        let mut o = Options {
            dir: PathBuf::from("models/sentence-transformers/all-MiniLM-L6-v2"),
            texts: None,
            rounds: 3,
            threads: vec![1, 2],
            batches: vec![32, 1],
            query: "How do I install a package without network access?".into(),
            query_repeats: 50,
            json: false,
            dump: None,
            serve: false,
        };
        let list = |s: Option<String>| -> Vec<usize> {
            s.expect("a comma-separated list")
                .split(',')
                .map(|n| n.trim().parse().expect("a number"))
                .collect()
        };
        let number = |s: Option<String>, what: &str| -> usize {
            s.and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{what} N"))
        };
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--texts" => o.texts = args.next().map(PathBuf::from),
                "--rounds" => o.rounds = number(args.next(), "--rounds"),
                "--threads" => o.threads = list(args.next()),
                "--batches" => o.batches = list(args.next()),
                "--query" => o.query = args.next().expect("--query TEXT"),
                "--query-repeats" => o.query_repeats = number(args.next(), "--query-repeats"),
                "--json" => o.json = true,
                "--dump" => o.dump = args.next().map(PathBuf::from),
                "--serve" => o.serve = true,
                _ => o.dir = PathBuf::from(a),
            }
        }
        o
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Sentences per second embedding `texts` `batch` at a time.
fn throughput(model: &LocalModel, texts: &[String], batch: usize) -> f64 {
    let start = Instant::now();
    for chunk in texts.chunks(batch) {
        let v = model.embed_batch(chunk).unwrap();
        assert_eq!(v.len(), chunk.len());
    }
    texts.len() as f64 / start.elapsed().as_secs_f64()
}

/// Median milliseconds to embed `query` alone.
fn query_latency(model: &LocalModel, query: &str, repeats: usize) -> f64 {
    let q = [query.to_string()];
    median(
        (0..repeats.max(1))
            .map(|_| {
                let start = Instant::now();
                model.embed_batch(&q).unwrap();
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect(),
    )
}

fn main() {
    let o = Options::parse();
    // With a single thread count, candle's own threading follows it, as in
    // the server (see init_process_threads).
    if let [threads] = o.threads[..] {
        tiembed_embed::providers::local::init_process_threads(threads);
    }
    let texts: Vec<String> = match &o.texts {
        Some(path) => std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .lines()
            .map(str::to_string)
            .collect(),
        None => template_sentences(),
    };
    if o.serve {
        return serve(&o, &texts);
    }
    if !o.json {
        let m = LocalModel::load(&o.dir, 1).unwrap_or_else(|e| panic!("{e}"));
        let tokens: usize = m.count_tokens(&texts).unwrap().iter().sum();
        println!(
            "model {}: {} texts, {:.1} tokens each on average, median of {} rounds",
            o.dir.display(),
            texts.len(),
            tokens as f64 / texts.len() as f64,
            o.rounds
        );
        println!(
            "{:>8} {:>6} {:>12} {:>10}",
            "threads", "batch", "sentences/s", "query ms"
        );
    }
    for &threads in &o.threads {
        let model = LocalModel::load(&o.dir, threads).unwrap_or_else(|e| panic!("{e}"));
        // Warm-up: page in the weights, size the allocator.
        model.embed_batch(&texts[..64.min(texts.len())]).unwrap();
        let query_ms = query_latency(&model, &o.query, o.query_repeats);
        for &batch in &o.batches {
            let runs: Vec<f64> = (0..o.rounds)
                .map(|_| throughput(&model, &texts, batch))
                .collect();
            if o.json {
                for sps in runs {
                    println!(
                        r#"{{"impl": "tiembed", "threads": {threads}, "batch": {batch}, "sps": {sps:.3}}}"#
                    );
                }
            } else {
                println!(
                    "{threads:>8} {batch:>6} {:>12.1} {query_ms:>10.2}",
                    median(runs)
                );
            }
        }
        if o.json {
            println!(r#"{{"impl": "tiembed", "threads": {threads}, "query_ms": {query_ms:.4}}}"#);
        }
        if let Some(path) = &o.dump {
            let mut bytes = Vec::new();
            for chunk in texts.chunks(32) {
                for v in model.embed_batch(chunk).unwrap() {
                    bytes.extend(v.iter().flat_map(|x| x.to_le_bytes()));
                }
            }
            std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}

/// Answers measurement requests from stdin until it closes (see the
/// module comment), after dumping the vectors if asked.
fn serve(o: &Options, texts: &[String]) {
    use std::io::BufRead;
    let models: Vec<(usize, LocalModel)> = o
        .threads
        .iter()
        .map(|&t| {
            let m = LocalModel::load(&o.dir, t).unwrap_or_else(|e| panic!("{e}"));
            m.embed_batch(&texts[..64.min(texts.len())]).unwrap();
            (t, m)
        })
        .collect();
    if let (Some(path), Some((_, model))) = (&o.dump, models.last()) {
        let mut bytes = Vec::new();
        for chunk in texts.chunks(32) {
            for v in model.embed_batch(chunk).unwrap() {
                bytes.extend(v.iter().flat_map(|x| x.to_le_bytes()));
            }
        }
        std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    println!(r#"{{"ready": true}}"#);
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let words: Vec<usize> = line
            .split_whitespace()
            .skip(1)
            .map(|w| w.parse().expect("a number"))
            .collect();
        let model = |t: usize| {
            &models
                .iter()
                .find(|(n, _)| *n == t)
                .unwrap_or_else(|| panic!("no model with {t} threads"))
                .1
        };
        match (line.split_whitespace().next(), &words[..]) {
            (Some("sps"), &[t, b, ref count @ ..]) => {
                let n = count
                    .first()
                    .copied()
                    .unwrap_or(texts.len())
                    .min(texts.len());
                let sps = throughput(model(t), &texts[..n], b);
                println!(r#"{{"impl": "tiembed", "threads": {t}, "batch": {b}, "sps": {sps:.3}}}"#);
            }
            (Some("query"), &[t]) => {
                let ms = query_latency(model(t), &o.query, o.query_repeats);
                println!(r#"{{"impl": "tiembed", "threads": {t}, "query_ms": {ms:.4}}}"#);
            }
            _ => panic!("unknown request {line:?}"),
        }
    }
}
