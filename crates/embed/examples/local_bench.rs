//! Throughput of the local model: sentences per second over ~500 short
//! sentences, at batch 32 and batch 1, with 1 and 2 threads.
//!
//!     scripts/fetch-models.sh
//!     cargo run --release -p tiembed-embed --example local_bench -- \
//!         [MODEL_DIR] [--rounds N] [--threads 1,2] [--batches 32,1]
//!
//! MODEL_DIR defaults to models/sentence-transformers/all-MiniLM-L6-v2.
//! Prints the median of N rounds (default 3) per setting; compare settings
//! within one run, since other load on the machine moves every figure.

use std::path::PathBuf;
use std::time::Instant;
use tiembed_embed::providers::local::LocalModel;

/// ~500 distinct short sentences (8-16 words) built from a few templates.
fn sentences() -> Vec<String> {
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

/// The plain way, for a ratio within one run: candle's BertModel over the
/// chunk as the tokenizer pads it (to the longest), mean pooling, L2 norm.
/// Assumes a BERT model directory (all-MiniLM-L6-v2).
struct Baseline {
    model: candle_transformers::models::bert::BertModel,
    tokenizer: tokenizers::Tokenizer,
}

impl Baseline {
    fn load(dir: &std::path::Path) -> Baseline {
        use candle_transformers::models::bert::{BertModel, Config};
        let config: Config =
            serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap())
                .unwrap();
        let vb = unsafe {
            candle_nn::VarBuilder::from_mmaped_safetensors(
                &[dir.join("model.safetensors")],
                candle_core::DType::F32,
                &candle_core::Device::Cpu,
            )
        }
        .unwrap();
        let mut tokenizer = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
        tokenizer.with_padding(Some(tokenizers::PaddingParams::default()));
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: 256,
                ..Default::default()
            }))
            .unwrap();
        Baseline {
            model: BertModel::load(vb, &config).unwrap(),
            tokenizer,
        }
    }

    fn embed(&self, texts: &[String]) -> Vec<Vec<f32>> {
        use candle_core::{Device, Tensor};
        let enc = self.tokenizer.encode_batch(texts.to_vec(), true).unwrap();
        let (b, l) = (enc.len(), enc[0].len());
        let flat = |f: &dyn Fn(&tokenizers::Encoding) -> &[u32]| -> Tensor {
            let v: Vec<u32> = enc.iter().flat_map(|e| f(e).to_vec()).collect();
            Tensor::from_vec(v, (b, l), &Device::Cpu).unwrap()
        };
        let ids = flat(&|e| e.get_ids());
        let types = flat(&|e| e.get_type_ids());
        let mask = flat(&|e| e.get_attention_mask());
        let h = self.model.forward(&ids, &types, Some(&mask)).unwrap();
        let m = mask
            .to_dtype(candle_core::DType::F32)
            .unwrap()
            .unsqueeze(2)
            .unwrap();
        let sum = h.broadcast_mul(&m).unwrap().sum(1).unwrap();
        let pooled = sum.broadcast_div(&m.sum(1).unwrap()).unwrap();
        let norm = pooled
            .sqr()
            .unwrap()
            .sum_keepdim(1)
            .unwrap()
            .sqrt()
            .unwrap();
        pooled.broadcast_div(&norm).unwrap().to_vec2().unwrap()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut dir = PathBuf::from("models/sentence-transformers/all-MiniLM-L6-v2");
    let mut rounds = 3usize;
    let mut thread_counts = vec![1usize, 2];
    let mut batches = vec![32usize, 1];
    let list = |s: Option<String>| -> Vec<usize> {
        s.expect("a comma-separated list")
            .split(',')
            .map(|n| n.trim().parse().expect("a number"))
            .collect()
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => {
                rounds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--rounds N")
            }
            "--threads" => thread_counts = list(args.next()),
            "--batches" => batches = list(args.next()),
            _ => dir = PathBuf::from(a),
        }
    }
    // With a single thread count, candle's own threading follows it, as in
    // the server (see init_process_threads); with several, only the model's
    // pool changes between runs.
    if let [threads] = thread_counts[..] {
        tiembed_embed::providers::local::init_process_threads(threads);
    }
    let texts = sentences();
    let tokens: usize = {
        let m = LocalModel::load(&dir, 1).unwrap_or_else(|e| panic!("{e}"));
        m.count_tokens(&texts).unwrap().iter().sum()
    };
    println!(
        "model {}: {} sentences, {:.1} tokens each on average, median of {rounds} rounds",
        dir.display(),
        texts.len(),
        tokens as f64 / texts.len() as f64
    );
    println!(
        "RAYON_NUM_THREADS={} CANDLE_NUM_THREADS={}",
        std::env::var("RAYON_NUM_THREADS").unwrap_or_default(),
        std::env::var("CANDLE_NUM_THREADS").unwrap_or_default()
    );
    println!("{:>8} {:>6} {:>12}", "threads", "batch", "sentences/s");
    let baseline = if dir.join("config.json").is_file()
        && std::fs::read_to_string(dir.join("config.json"))
            .unwrap_or_default()
            .contains("\"bert\"")
    {
        Some(Baseline::load(&dir))
    } else {
        None
    };
    for &threads in &thread_counts {
        let model = LocalModel::load(&dir, threads).unwrap_or_else(|e| panic!("{e}"));
        // Warm-up: page in the weights, size the allocator.
        model.embed_batch(&texts[..64]).unwrap();
        for &batch in &batches {
            let runs: Vec<f64> = (0..rounds)
                .map(|_| {
                    let start = Instant::now();
                    for chunk in texts.chunks(batch) {
                        let v = model.embed_batch(chunk).unwrap();
                        assert_eq!(v.len(), chunk.len());
                    }
                    texts.len() as f64 / start.elapsed().as_secs_f64()
                })
                .collect();
            let ours = median(runs);
            match &baseline {
                Some(base) => {
                    // Same thread pool as the model, so only the code differs.
                    let base_runs: Vec<f64> = (0..rounds)
                        .map(|_| {
                            let start = Instant::now();
                            for chunk in texts.chunks(batch) {
                                model.run_in_pool(|| {
                                    assert_eq!(base.embed(chunk).len(), chunk.len())
                                });
                            }
                            texts.len() as f64 / start.elapsed().as_secs_f64()
                        })
                        .collect();
                    let base = median(base_runs);
                    println!("{threads:>8} {batch:>6} {ours:>12.1}   plain candle {base:>7.1}  ratio {:.2}", ours / base);
                }
                None => println!("{threads:>8} {batch:>6} {ours:>12.1}"),
            }
        }
    }
}
