//! The local provider against reference vectors computed by
//! sentence-transformers with the real weights (`../shared/fixtures/`):
//! all-MiniLM-L6-v2 (fetched by `scripts/fetch-models.sh`) and
//! all-mpnet-base-v2 (`scripts/fetch-models.sh --mpnet`, optional).
//!
//! A missing model skips its test with a loud message, unless
//! `TIEMBED_REQUIRE_MODELS=1` (MiniLM) / `TIEMBED_REQUIRE_MPNET=1` (MPNet)
//! is set, as CI does after fetching: then a missing model fails.

use std::path::{Path, PathBuf};
use tiembed_embed::providers::local::{find_model_dir, Architecture, LocalModel};

struct Item {
    text: String,
    n_tokens: Option<usize>,
    embedding: Vec<f32>,
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `shared/` sits beside the repository checkout.
fn fixture(name: &str) -> Vec<Item> {
    let path = manifest_dir().join("../../../shared/fixtures").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("fixture is JSON");
    json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|it| Item {
            text: it["text"].as_str().expect("text").to_string(),
            n_tokens: it
                .get("n_tokens")
                .and_then(|n| n.as_u64())
                .map(|n| n as usize),
            embedding: it["embedding"]
                .as_array()
                .expect("embedding")
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect(),
        })
        .collect()
}

fn models_dir() -> PathBuf {
    std::env::var_os("TIEMBED_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../models"))
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// The model's directory, or `None` after a loud skip message.
fn model_or_skip(name: &str, require_var: &str, fetch_hint: &str) -> Option<PathBuf> {
    let dir = models_dir();
    match find_model_dir(name, &dir, None) {
        Some(d) => Some(d),
        None if env_flag(require_var) => {
            panic!(
                "{require_var}=1 but {name} is not in {}; run {fetch_hint}",
                dir.display()
            )
        }
        None => {
            eprintln!(
                "\n*** SKIPPED: {name} not found in {} — run `{fetch_hint}` to test it \
                 (set {require_var}=1 to make this a failure) ***\n",
                dir.display()
            );
            None
        }
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

fn check_against_fixture(
    dir: &Path,
    fixture_name: &str,
    dims: usize,
    max_seq: usize,
    arch: Architecture,
) {
    let model = LocalModel::load(dir, 2).expect("model loads");
    assert_eq!(model.dims(), dims);
    assert_eq!(model.max_seq_length(), max_seq);
    assert_eq!(model.architecture(), arch);

    let items = fixture(fixture_name);
    let texts: Vec<String> = items.iter().map(|i| i.text.clone()).collect();

    // Truncation follows sentence_bert_config.json, not tokenizer.json.
    let counts = model.count_tokens(&texts).unwrap();
    for (item, n) in items.iter().zip(&counts) {
        if let Some(full) = item.n_tokens {
            assert_eq!(*n, full.min(max_seq), "token count of {:?}", item.text);
        }
    }

    // One call: sorted into length groups inside, results back in order.
    let got = model.embed_batch(&texts).unwrap();
    assert_eq!(got.len(), items.len());
    let mut worst = (1.0f64, String::new());
    for (item, v) in items.iter().zip(&got) {
        assert_eq!(v.len(), dims);
        let c = cosine(v, &item.embedding);
        if c < worst.0 {
            worst = (c, item.text.chars().take(40).collect());
        }
        assert!(c >= 0.9999, "cosine {c:.6} < 0.9999 for {:?}", item.text);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "not normalised: {norm}");
    }
    eprintln!(
        "{fixture_name}: {} texts, lowest cosine {:.7} ({:?})",
        items.len(),
        worst.0,
        worst.1
    );

    // Alone or batched with texts of other lengths: the same vector.
    for i in [0, 10, items.len() - 1] {
        let single = model.embed_batch(&texts[i..=i]).unwrap();
        let diff = single[0]
            .iter()
            .zip(&got[i])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(diff < 1e-5, "text {i}: batched and single differ by {diff}");
    }
}

#[test]
fn minilm_matches_sentence_transformers() {
    let Some(dir) = model_or_skip(
        "sentence-transformers/all-MiniLM-L6-v2",
        "TIEMBED_REQUIRE_MODELS",
        "scripts/fetch-models.sh",
    ) else {
        return;
    };
    check_against_fixture(&dir, "minilm_public.json", 384, 256, Architecture::Bert);
}

#[test]
fn mpnet_matches_sentence_transformers() {
    let Some(dir) = model_or_skip(
        "sentence-transformers/all-mpnet-base-v2",
        "TIEMBED_REQUIRE_MPNET",
        "scripts/fetch-models.sh --mpnet",
    ) else {
        return;
    };
    check_against_fixture(&dir, "mpnet_public.json", 768, 384, Architecture::MPNet);
}

/// The example of TiDB's HuggingFace page: the programming question is
/// nearest to the two programming rows.
#[tokio::test]
async fn minilm_ranks_the_tidb_example() {
    use tiembed_embed::Embedder;
    let Some(dir) = model_or_skip(
        "sentence-transformers/all-MiniLM-L6-v2",
        "TIEMBED_REQUIRE_MODELS",
        "scripts/fetch-models.sh",
    ) else {
        return;
    };
    let model = LocalModel::load(&dir, 1).unwrap();
    let docs: Vec<String> = [
        "Java: Object-oriented language for cross-platform development.",
        "Java coffee: Bold Indonesian beans with low acidity.",
        "Java island: Densely populated, home to Jakarta.",
        "Java's syntax is used in Android apps.",
        "Dark roast Java beans enhance espresso blends.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let vectors = model.embed(&docs).await.unwrap();
    let query = model
        .embed(&["How to start learning Java programming?".to_string()])
        .await
        .unwrap();
    let mut ranked: Vec<(f64, usize)> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| (cosine(v, &query[0]), i + 1))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let top: Vec<usize> = ranked.iter().take(2).map(|r| r.1).collect();
    assert_eq!(top, vec![1, 4], "ranking {ranked:?}");
}
