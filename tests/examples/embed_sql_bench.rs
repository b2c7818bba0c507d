//! Issue 4's benchmark: auto-embedding through SQL against the raw local
//! model, on the same texts in the same run.
//!
//! Ingest: 10,000 rows go through multi-row INSERTs into a table whose
//! `VECTOR(384)` column is `EMBED_TEXT("huggingface/sentence-transformers/
//! all-MiniLM-L6-v2", content)`, over the wire from a mysql_async client,
//! with the model running in-process (the repo's `models/`). The baseline is
//! the same model called directly (`LocalModel::embed_batch`, no SQL,
//! batcher or cache), the faster of all texts in one call and 64 per call.
//! Rounds alternate baseline and SQL so both see the same load on a shared
//! machine; each SQL run uses a fresh server, so no text is in its cache.
//!
//! Query: `SELECT id FROM t ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding,
//! '<question>') LIMIT 10` over those rows, split into embedding time (the
//! same question through a second registry that has never seen it) and
//! ranking time (the same query with the vector as a literal and
//! `VEC_COSINE_DISTANCE`). Every question is distinct, so caches hide nothing.
//!
//! Texts are the Debian package descriptions bench/embed/corpus.py extracts;
//! when there are fewer distinct ones than rows, they repeat with a
//! " (variant N)" suffix, so every row is still a distinct text.
//!
//! `cargo run --release -p tiembed-tests --example embed_sql_bench
//!  [-- --rows 10000 --rounds 3 --batches 100,1000 --questions 30]`

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use std::path::Path;
use std::time::{Duration, Instant};
use tiembed_embed::providers::local::{self, LocalModel};
use tiembed_embed::{Registry, RegistryConfig};
use tiembed_tests::TestServer;

const MODEL: &str = "huggingface/sentence-transformers/all-MiniLM-L6-v2";
const MODEL_DIR: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// The server's default (`RegistryConfig::local_threads`); the baseline
/// gets the same.
const THREADS: usize = 2;
const K: usize = 10;
/// Texts per call of the chunked baseline: the local model's `max_batch`,
/// i.e. what the server's batcher hands it.
const RAW_CHUNK: usize = 64;

struct Args {
    rows: usize,
    rounds: usize,
    batches: Vec<usize>,
    questions: usize,
}

fn args() -> Args {
    let mut a = Args {
        rows: 10_000,
        rounds: 3,
        batches: vec![100, 1000],
        questions: 30,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or("");
        let num = |v: &str| v.parse::<usize>().expect("a number");
        match pair[0].as_str() {
            "--rows" => a.rows = num(value),
            "--rounds" => a.rounds = num(value),
            "--batches" => a.batches = value.split(',').map(num).collect(),
            "--questions" => a.questions = num(value),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// `rows` distinct texts from corpus.py (all distinct descriptions there
/// are), cycled with a suffix when there are fewer.
fn corpus(rows: usize) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/embed/corpus.py");
    let out = std::env::temp_dir().join(format!("embed_sql_bench_{}.txt", std::process::id()));
    let status = std::process::Command::new("python3")
        .arg(&script)
        .arg(&out)
        .args(["--count", "0"])
        .status()
        .expect("python3 runs corpus.py");
    assert!(status.success(), "corpus.py failed");
    let text = std::fs::read_to_string(&out).expect("corpus written");
    let _ = std::fs::remove_file(&out);
    let base: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(!base.is_empty(), "no texts in /var/lib/dpkg/status");
    if base.len() < rows {
        println!(
            "note: only {} distinct package descriptions here; cycling them with a \
             \" (variant N)\" suffix to make {rows} distinct texts",
            base.len()
        );
    }
    (0..rows)
        .map(|i| match i / base.len() {
            0 => base[i].clone(),
            n => format!("{} (variant {n})", base[i % base.len()]),
        })
        .collect()
}

/// 30 short questions, none of them a row's text.
const QUESTIONS: [&str; 30] = [
    "how do I compress a directory into an archive",
    "library for parsing XML documents",
    "tool to monitor disk usage",
    "python package for HTTP requests",
    "secure shell client for remote login",
    "command line text editor",
    "manage TLS certificates",
    "fonts for displaying Unicode text",
    "debugger for C programs",
    "synchronise files between machines",
    "regular expression library",
    "send mail from scripts",
    "image format conversion utilities",
    "database client for SQL servers",
    "network packet capture",
    "version control system",
    "compile Rust code",
    "kernel module utilities",
    "time zone information",
    "spell checking dictionary",
    "graphical desktop toolkit",
    "password hashing functions",
    "schedule jobs to run periodically",
    "read and write JSON",
    "audio playback library",
    "terminal multiplexer",
    "build system for C++ projects",
    "DNS lookup utilities",
    "manual pages viewer",
    "locale and language support files",
];

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

fn vector_text(v: &[f32]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(","))
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

fn range(v: &[f64]) -> (f64, f64) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

async fn exec(c: &mut Conn, sql: &str) {
    c.query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", &sql[..sql.len().min(120)]));
}

/// A fresh server with table `t` and the model loaded (by a warm-up row
/// in another table, so `t` holds exactly the timed rows).
async fn fresh_server() -> (TestServer, Conn) {
    let server = TestServer::start().await;
    let mut c = server.connect("test").await;
    let column = format!(
        "content TEXT, embedding VECTOR(384) GENERATED ALWAYS AS (EMBED_TEXT(\"{MODEL}\", content)) STORED"
    );
    exec(
        &mut c,
        &format!("CREATE TABLE t (id INT PRIMARY KEY, {column})"),
    )
    .await;
    exec(
        &mut c,
        &format!("CREATE TABLE warm (id INT PRIMARY KEY, {column})"),
    )
    .await;
    exec(
        &mut c,
        "INSERT INTO warm (id, content) VALUES (1, 'load the model before the clock starts')",
    )
    .await;
    (server, c)
}

/// Inserts `texts` into `t`, `batch` rows per statement; the elapsed time.
async fn ingest(c: &mut Conn, texts: &[String], batch: usize) -> Duration {
    let start = Instant::now();
    for (b, chunk) in texts.chunks(batch).enumerate() {
        let values: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, t)| format!("({}, {})", b * batch + i, sql_str(t)))
            .collect();
        exec(
            c,
            &format!("INSERT INTO t (id, content) VALUES {}", values.join(",")),
        )
        .await;
    }
    start.elapsed()
}

/// The stored vector of row `id`.
async fn stored(c: &mut Conn, id: usize) -> Vec<f32> {
    let text: String = c
        .query_first(format!(
            "SELECT VEC_AS_TEXT(embedding) FROM t WHERE id = {id}"
        ))
        .await
        .unwrap()
        .unwrap();
    tiembed_vector::codec::parse_vector(&text).unwrap()
}

fn main() {
    // Before any other thread exists: candle's own pools get THREADS too.
    local::init_process_threads(THREADS);
    let a = args();
    let models = tiembed_tests::repo_models_dir();
    let dir = models.join(MODEL_DIR);
    assert!(
        tiembed_tests::minilm_available(),
        "no MiniLM weights in {}: run scripts/fetch-models.sh",
        models.display()
    );
    let texts = corpus(a.rows);
    let words: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
    println!(
        "{} texts, {:.1} words each on average; model {MODEL}, {THREADS} threads; load average {}",
        texts.len(),
        words as f64 / texts.len() as f64,
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let model = LocalModel::load(&dir, THREADS).expect("model loads");
    model.embed_batch(&["warm up".to_string()]).unwrap();
    let mut raw_rates = Vec::new();
    let (mut raw_all, mut raw_chunked) = (Vec::new(), Vec::new());
    let mut sql_rates: Vec<Vec<f64>> = vec![Vec::new(); a.batches.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); a.batches.len()];
    let mut last: Option<(TestServer, Conn)> = None;
    let mut raw_vectors = Vec::new();
    for round in 1..=a.rounds {
        // Two ways to call the model; the faster one of the round is the
        // baseline: all texts in one call (one global length sort), and
        // calls of RAW_CHUNK texts (the batch the server's batcher forms).
        let start = Instant::now();
        raw_vectors = model.embed_batch(&texts).expect("raw embedding");
        let all = texts.len() as f64 / start.elapsed().as_secs_f64();
        let start = Instant::now();
        for chunk in texts.chunks(RAW_CHUNK) {
            model.embed_batch(chunk).expect("raw embedding");
        }
        let chunked = texts.len() as f64 / start.elapsed().as_secs_f64();
        let raw = all.max(chunked);
        raw_rates.push(raw);
        raw_all.push(all);
        raw_chunked.push(chunked);
        print!("round {round}: raw {all:.0} (one call) / {chunked:.0} (x{RAW_CHUNK}) sentences/s");
        for (bi, &batch) in a.batches.iter().enumerate() {
            if let Some((server, c)) = last.take() {
                drop(c);
                rt.block_on(server.stop());
            }
            let (server, mut c, took) = rt.block_on(async {
                let (server, mut c) = fresh_server().await;
                let took = ingest(&mut c, &texts, batch).await;
                (server, c, took)
            });
            let rows: i64 = rt
                .block_on(c.query_first("SELECT COUNT(*) FROM t"))
                .unwrap()
                .unwrap();
            assert_eq!(rows as usize, texts.len());
            let rate = texts.len() as f64 / took.as_secs_f64();
            sql_rates[bi].push(rate);
            ratios[bi].push(rate / raw);
            print!("; SQL x{batch} {rate:.0} rows/s ({:.3}x)", rate / raw);
            last = Some((server, c));
        }
        println!();
    }
    let (server, mut c) = last.expect("at least one SQL run");

    // The server stores what the model computes.
    let mut worst = 1.0f32;
    for id in [0, texts.len() / 2, texts.len() - 1] {
        let v = rt.block_on(stored(&mut c, id));
        worst = worst.min(cosine(&v, &raw_vectors[id]));
    }

    // Query latency, per question: the full statement (the server has never
    // embedded this question), the embedding alone through a registry that
    // has never seen it, and the ranking alone with that vector as a literal.
    let registry = Registry::new(RegistryConfig {
        models_dir: models.clone(),
        ..RegistryConfig::default()
    });
    let one = |q: &str| vec![q.to_string()];
    rt.block_on(registry.embed(MODEL, None, &one("load the model")))
        .unwrap();
    let (mut full, mut embed, mut rank) = (Vec::new(), Vec::new(), Vec::new());
    let mut same_top = 0;
    let questions: Vec<String> = (0..a.questions)
        .map(|i| match i / QUESTIONS.len() {
            0 => QUESTIONS[i].to_string(),
            n => format!("{} ({n})", QUESTIONS[i % QUESTIONS.len()]),
        })
        .collect();
    for q in &questions {
        let start = Instant::now();
        let ids_full: Vec<i64> = rt
            .block_on(c.query(format!(
                "SELECT id FROM t ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding, {}) LIMIT {K}",
                sql_str(q)
            )))
            .unwrap();
        full.push(start.elapsed().as_secs_f64() * 1e3);

        let start = Instant::now();
        let v = rt.block_on(registry.embed(MODEL, None, &one(q))).unwrap();
        embed.push(start.elapsed().as_secs_f64() * 1e3);

        let start = Instant::now();
        let ids_rank: Vec<i64> = rt
            .block_on(c.query(format!(
                "SELECT id FROM t ORDER BY VEC_COSINE_DISTANCE(embedding, '{}') LIMIT {K}",
                vector_text(&v[0])
            )))
            .unwrap();
        rank.push(start.elapsed().as_secs_f64() * 1e3);
        same_top += usize::from(ids_full == ids_rank);
    }
    drop(c);
    rt.block_on(server.stop());

    let n = texts.len();
    println!();
    println!(
        "ingest of {n} rows, median (range) over {} rounds",
        a.rounds
    );
    println!("  {:<36} {:>12} {:>22}", "", "rows/s", "vs raw model");
    for (name, rates) in [
        ("raw model, all texts in one call", &raw_all),
        ("raw model, 64 texts per call", &raw_chunked),
    ] {
        let (lo, hi) = range(rates);
        println!(
            "  {name:<36} {:>12.0} {:>22}   ({lo:.0}-{hi:.0})",
            median(rates),
            ""
        );
    }
    let (lo, hi) = range(&raw_rates);
    println!(
        "  {:<36} {:>12.0} {:>22}   ({lo:.0}-{hi:.0})",
        "raw model, faster of the two",
        median(&raw_rates),
        "1"
    );
    for (bi, batch) in a.batches.iter().enumerate() {
        let (rlo, rhi) = range(&ratios[bi]);
        let (lo, hi) = range(&sql_rates[bi]);
        println!(
            "  {:<36} {:>12.0} {:>22}   ({lo:.0}-{hi:.0})",
            format!("SQL INSERT, {batch} rows/statement"),
            median(&sql_rates[bi]),
            format!("{:.3}x ({rlo:.3}-{rhi:.3})", median(&ratios[bi])),
        );
    }
    println!("  stored vs raw vectors: cosine >= {worst:.6}");
    println!();
    println!(
        "top-{K} query over {n} rows, median over {} distinct questions (ms)",
        questions.len()
    );
    let (mf, me, mr) = (median(&full), median(&embed), median(&rank));
    println!("  VEC_EMBED_COSINE_DISTANCE query (whole)   {mf:>8.2}");
    println!("  embedding alone (registry, uncached)      {me:>8.2}");
    println!("  ranking alone (VEC_COSINE_DISTANCE)       {mr:>8.2}");
    println!(
        "  whole - (embedding + ranking)             {:>8.2}",
        mf - me - mr
    );
    println!(
        "  same top-{K} ids both ways: {same_top} of {}",
        questions.len()
    );
}
