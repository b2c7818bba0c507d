//! Model strings to providers: local vs remote routing, the mock provider,
//! TiDB's other provider names, and the errors for bad model strings and
//! options.

mod remote_common;

use remote_common::*;
use tiembed_embed::stub::{Stub, StubConfig};
use tiembed_embed::{EmbedError, Registry, RegistryConfig, Route};

#[tokio::test]
async fn without_local_weights_hf_models_go_remote() {
    let s = setup(StubConfig::new(), |_| {}).await;
    assert_eq!(s.registry.route_of(HF).unwrap(), None);
    s.registry.embed(HF, None, &texts(&["a"])).await.unwrap();
    assert_eq!(s.stub.request_count(), 1);
}

#[tokio::test]
async fn a_local_route_without_weights_is_an_error_and_makes_no_request() {
    let s = setup(StubConfig::new(), |c| {
        c.routes = vec![(HF.to_string(), Route::Local)]
    })
    .await;
    let err = s
        .registry
        .embed(HF, None, &texts(&["a"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("no local weights found for model '{HF}'")
    );
    assert_eq!(s.stub.request_count(), 0);
}

/// The other helper's tiny random-weight models: `<fixtures>/tiny/mpnet`
/// is what `huggingface/tiny/mpnet` finds.
fn fixtures() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

const TINY: &str = "huggingface/tiny/mpnet";

#[tokio::test]
async fn with_local_weights_hf_models_run_in_process_without_a_key() {
    let stub = Stub::start(StubConfig::new()).await.unwrap();
    let models = tempfile::tempdir().unwrap();
    let registry = Registry::new(RegistryConfig {
        models_dir: fixtures(),
        ..config(&stub, &models)
    });
    // No key set at all.
    let dir = registry.route_of(TINY).unwrap().expect("local route");
    assert!(dir.ends_with("tiny/mpnet"), "{dir:?}");
    let t = texts(&[
        "hello world",
        "a longer sentence about databases",
        "hello world",
    ]);
    // Concurrent first calls: the model is loaded once and shared.
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let r = registry.clone();
            let t = t.clone();
            tokio::spawn(async move { r.embed(TINY, None, &t).await })
        })
        .collect();
    let mut results = Vec::new();
    for c in calls {
        results.push(c.await.unwrap().unwrap());
    }
    assert!(results.iter().all(|r| r == &results[0]));
    assert_eq!(results[0][0], results[0][2]);
    let direct = tiembed_embed::providers::local::LocalModel::load(&dir, 1).unwrap();
    let expected = tiembed_embed::Embedder::embed(&direct, &t[..2])
        .await
        .unwrap();
    for (got, want) in results[0].iter().zip(&expected) {
        let cos: f32 = got.iter().zip(want).map(|(a, b)| a * b).sum::<f32>()
            / (got.iter().map(|a| a * a).sum::<f32>().sqrt()
                * want.iter().map(|b| b * b).sum::<f32>().sqrt());
        assert!(cos > 0.9999, "{cos}");
    }
    assert_eq!(stub.request_count(), 0);
    // Two distinct texts embedded, whatever the number of callers.
    assert_eq!(registry.stats().texts_sent, 2);
}

#[tokio::test]
async fn a_remote_route_is_remote_even_with_weights() {
    let s = setup(StubConfig::new(), |c| {
        c.models_dir = fixtures();
        c.routes = vec![(TINY.to_string(), Route::Remote)];
    })
    .await;
    assert_eq!(s.registry.route_of(TINY).unwrap(), None);
    s.registry.embed(TINY, None, &texts(&["a"])).await.unwrap();
    assert_eq!(s.stub.request_count(), 1);
    assert_eq!(
        s.stub.requests()[0].path,
        "/models/tiny/mpnet/pipeline/feature-extraction"
    );
}

#[tokio::test]
async fn only_hf_models_are_looked_up_locally() {
    let s = setup(StubConfig::new(), |c| c.models_dir = fixtures()).await;
    assert!(s.registry.route_of(TINY).unwrap().is_some());
    assert_eq!(s.registry.route_of("openai/tiny/mpnet").unwrap(), None);
    assert_eq!(s.registry.route_of("mock/hash-8").unwrap(), None);
}

fn offline() -> std::sync::Arc<Registry> {
    Registry::new(RegistryConfig {
        models_dir: "/nonexistent/models".into(),
        huggingface_base_url: "http://127.0.0.1:9".into(),
        ..RegistryConfig::default()
    })
}

#[tokio::test]
async fn model_string_errors() {
    let r = offline();
    assert_eq!(
        r.embed("gemini-embedding-001", None, &texts(&["a"]))
            .await
            .unwrap_err()
            .to_string(),
        "model name must be in format 'provider/model', got: gemini-embedding-001"
    );
    let err = r
        .embed("nvidia/nv-embed-v1", None, &texts(&["a"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown embedding provider 'nvidia', available providers: cohere, gemini, huggingface, jina_ai, mock, nvidia_nim, openai, tidbcloud_free"
    );
    assert_eq!(
        r.embed_sql("mock/json", Some("[1]"), &texts(&["[1]"]), soon())
            .await
            .unwrap_err()
            .to_string(),
        "EMBED_TEXT expects options in JSON format"
    );
    // No texts: nothing to check, nothing to call.
    assert_eq!(
        r.embed("nope", None, &[]).await.unwrap(),
        Vec::<Vec<f32>>::new()
    );
}

#[tokio::test]
async fn other_tidb_providers_ask_for_their_key_then_say_unsupported() {
    let r = offline();
    let cases = [
        (
            "cohere/embed-v4.0",
            "Cohere",
            "TIDB_EXP_EMBED_COHERE_API_KEY",
        ),
        (
            "jina_ai/jina-embeddings-v4",
            "JinaAI",
            "TIDB_EXP_EMBED_JINA_AI_API_KEY",
        ),
        (
            "gemini/gemini-embedding-001",
            "Gemini",
            "TIDB_EXP_EMBED_GEMINI_API_KEY",
        ),
        (
            "nvidia_nim/baai/bge-m3",
            "NVIDIA NIM",
            "TIDB_EXP_EMBED_NVIDIA_NIM_API_KEY",
        ),
    ];
    for (model, display, var) in cases {
        let err = r.embed(model, None, &texts(&["a"])).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{display} API key is not configured, to configure the API key: SET @@GLOBAL.{var}='<API_KEY>'")
        );
        r.set_variable(var, "some-key");
        let err = r.embed(model, None, &texts(&["a"])).await.unwrap_err();
        assert!(matches!(err, EmbedError::NotSupported(_)), "{err:?}");
        assert!(
            err.to_string().contains("is not supported by tiembed"),
            "{err}"
        );
    }
    let err = r
        .embed(
            "tidbcloud_free/amazon/titan-embed-text-v2",
            None,
            &texts(&["a"]),
        )
        .await
        .unwrap_err();
    assert_eq!(err, EmbedError::NotSupported("tidbcloud_free".into()));
}

#[tokio::test]
async fn mock_json_and_hash() {
    let r = offline();
    let v = r
        .embed_sql(
            "mock/json",
            Some(r#"{"plus": 0.1, "plus@search": 0.2}"#),
            &texts(&["[1, 2]"]),
            soon(),
        )
        .await
        .unwrap();
    assert_eq!(v, vec![vec![1.1f32, 2.1f32]]);
    let search = tiembed_embed::options::search_options(
        &tiembed_embed::options::parse(Some(r#"{"plus": 0.1, "plus@search": 0.2}"#))
            .unwrap()
            .unwrap(),
    );
    let v = r
        .embed("mock/json", Some(&search), &texts(&["[1, 2]"]))
        .await
        .unwrap();
    assert_eq!(v, vec![vec![1.2f32, 2.2f32]]);
    let v = r
        .embed(
            "MOCK/hash-16",
            None,
            &texts(&["Java coffee beans", "java BEANS, coffee!"]),
        )
        .await
        .unwrap();
    assert_eq!(v[0].len(), 16);
    assert_eq!(v[0], v[1]);
    assert_eq!(v[0], Stub::vector("Java coffee beans", 16));
    assert!(r
        .embed("mock/json", None, &texts(&["not json"]))
        .await
        .is_err());
    assert!(r.embed("mock/other", None, &texts(&["x"])).await.is_err());
    let refused = r
        .embed("mock/json", None, &texts(&["[1e39]"]))
        .await
        .unwrap_err();
    assert_eq!(refused.to_string(), "infinite value not allowed in vector");
}

#[tokio::test]
async fn mock_results_are_cached() {
    let r = offline();
    r.embed("mock/hash-8", None, &texts(&["a", "b"]))
        .await
        .unwrap();
    r.embed("mock/hash-8", None, &texts(&["b", "a", "c"]))
        .await
        .unwrap();
    let st = r.stats();
    assert_eq!(st.texts_sent, 3);
    assert_eq!(st.cache_hits, 2);
}

#[test]
fn the_stub_runs_outside_a_runtime_too() {
    let stub = Stub::start_in_thread(StubConfig::new().model("m/x", 3)).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let models = tempfile::tempdir().unwrap();
    let r = Registry::new(config(&stub, &models));
    r.set_variable(HF_KEY_VAR, "k");
    let v = rt
        .block_on(r.embed("huggingface/m/x", None, &texts(&["hello"])))
        .unwrap();
    assert_eq!(v, vec![Stub::vector("hello", 3)]);
}

/// A statement deadline no test here reaches.
fn soon() -> std::time::Instant {
    std::time::Instant::now() + std::time::Duration::from_secs(60)
}
