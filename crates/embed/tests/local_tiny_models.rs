//! Every architecture of the local provider against PyTorch: tiny
//! random-weight models built by `scripts/make-tiny-models.py` with
//! `transformers` + `sentence-transformers`, committed with the vectors
//! sentence-transformers computed for them (`tests/fixtures/tiny/*/`).
//! Each vector must match to 1e-4 per component.

use std::path::{Path, PathBuf};
use tiembed_embed::providers::local::{Architecture, LocalModel};
use tiembed_embed::{EmbedError, Embedder};

fn tiny(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tiny")
        .join(name)
}

struct Reference {
    dims: usize,
    texts: Vec<String>,
    n_tokens: Vec<usize>,
    vectors: Vec<Vec<f32>>,
}

fn reference(dir: &Path) -> Reference {
    let text = std::fs::read_to_string(dir.join("reference.json")).expect("reference.json");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let items = json["items"].as_array().unwrap();
    Reference {
        dims: json["dims"].as_u64().unwrap() as usize,
        texts: items
            .iter()
            .map(|i| i["text"].as_str().unwrap().to_string())
            .collect(),
        n_tokens: items
            .iter()
            .map(|i| i["n_tokens"].as_u64().unwrap() as usize)
            .collect(),
        vectors: items
            .iter()
            .map(|i| {
                i["embedding"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap() as f32)
                    .collect()
            })
            .collect(),
    }
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max)
}

fn check(name: &str, arch: Architecture, max_seq: usize) {
    let dir = tiny(name);
    let r = reference(&dir);
    let model = LocalModel::load(&dir, 2).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(model.architecture(), arch);
    assert_eq!(model.dims(), r.dims);
    assert_eq!(model.max_seq_length(), max_seq);
    assert_eq!(
        model.count_tokens(&r.texts).unwrap(),
        r.n_tokens,
        "{name}: token counts"
    );

    let batch = model.embed_batch(&r.texts).unwrap();
    for (i, (got, want)) in batch.iter().zip(&r.vectors).enumerate() {
        let d = max_abs_diff(got, want);
        assert!(
            d <= 1e-4,
            "{name}: text {i} {:?} differs by {d}",
            r.texts[i]
        );
    }
    // One at a time (no padding at all) gives the same vectors.
    for (i, text) in r.texts.iter().enumerate() {
        let single = model.embed_batch(std::slice::from_ref(text)).unwrap();
        let d = max_abs_diff(&single[0], &batch[i]);
        assert!(
            d <= 1e-5,
            "{name}: text {i} alone differs from batched by {d}"
        );
    }
}

#[test]
fn bert_max_and_mean_pooling_without_normalize() {
    check("bert", Architecture::Bert, 24);
}

#[test]
fn mpnet_relative_position_bias() {
    check("mpnet", Architecture::MPNet, 48);
}

#[test]
fn xlm_roberta_cls_pooling_and_padding_positions() {
    check("xlm_roberta", Architecture::XlmRoberta, 64);
}

#[test]
fn qwen3_last_token_pooling_cut_at_512_tokens() {
    check("qwen3", Architecture::Qwen3, 512);
}

#[test]
fn thread_count_changes_nothing_but_speed() {
    let dir = tiny("mpnet");
    let r = reference(&dir);
    let one = LocalModel::load(&dir, 1).unwrap();
    let two = LocalModel::load(&dir, 2).unwrap();
    assert_eq!((one.threads(), two.threads()), (1, 2));
    let a = one.embed_batch(&r.texts).unwrap();
    let b = two.embed_batch(&r.texts).unwrap();
    for (x, y) in a.iter().zip(&b) {
        assert!(max_abs_diff(x, y) <= 1e-6);
    }
}

#[tokio::test]
async fn embedder_trait_runs_off_the_async_threads() {
    let dir = tiny("qwen3");
    let r = reference(&dir);
    let model = LocalModel::load(&dir, 1).unwrap();
    let embedder: std::sync::Arc<dyn Embedder> = std::sync::Arc::new(model.clone());
    let got = embedder.embed(&r.texts).await.unwrap();
    assert_eq!(got.len(), r.texts.len());
    for (g, w) in got.iter().zip(&r.vectors) {
        assert!(max_abs_diff(g, w) <= 1e-4);
    }
    assert!(embedder.embed(&[]).await.unwrap().is_empty());
    // Concurrent callers share the model.
    let texts_a = r.texts[..3].to_vec();
    let texts_b = r.texts[3..6].to_vec();
    let (a, b) = tokio::join!(embedder.embed(&texts_a), embedder.embed(&texts_b));
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 6);
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies a tiny model into a scratch directory for a broken variant.
fn scratch_copy(name: &str) -> Scratch {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = Scratch(
        std::env::temp_dir().join(format!("tiembed-tiny-{}-{name}-{n}", std::process::id())),
    );
    let _ = std::fs::remove_dir_all(tmp.path());
    std::fs::create_dir_all(tmp.path()).unwrap();
    let src = tiny(name);
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        let to = tmp.path().join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
            for f in std::fs::read_dir(entry.path()).unwrap() {
                let f = f.unwrap();
                std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
            }
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
    tmp
}

fn load_error(dir: &Path) -> String {
    match LocalModel::load(dir, 1) {
        Err(EmbedError::Provider(msg)) => msg,
        Err(other) => panic!("unexpected error kind: {other:?}"),
        Ok(_) => panic!("loading {} should fail", dir.display()),
    }
}

#[test]
fn broken_model_directories_fail_with_a_reason() {
    let missing = load_error(Path::new("/nonexistent/model"));
    assert!(missing.contains("modules.json"), "{missing}");

    let t = scratch_copy("bert");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path().join("config.json")).unwrap())
            .unwrap();
    config["model_type"] = "t5".into();
    config["architectures"] = serde_json::json!(["T5EncoderModel"]);
    std::fs::write(t.path().join("config.json"), config.to_string()).unwrap();
    let msg = load_error(t.path());
    assert!(
        msg.contains("unsupported architecture") && msg.contains("t5"),
        "{msg}"
    );

    let t = scratch_copy("bert");
    let modules = r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
        {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
        {"idx":2,"name":"2","path":"2_Dense","type":"sentence_transformers.models.Dense"}]"#;
    std::fs::write(t.path().join("modules.json"), modules).unwrap();
    let msg = load_error(t.path());
    assert!(
        msg.contains("Dense") && msg.contains("not supported"),
        "{msg}"
    );

    let t = scratch_copy("mpnet");
    std::fs::remove_file(t.path().join("model.safetensors")).unwrap();
    let msg = load_error(t.path());
    assert!(msg.contains("model.safetensors"), "{msg}");

    let t = scratch_copy("qwen3");
    std::fs::write(t.path().join("tokenizer.json"), "{not json").unwrap();
    let msg = load_error(t.path());
    assert!(msg.contains("tokenizer.json"), "{msg}");
}
