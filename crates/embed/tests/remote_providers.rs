//! The huggingface and openai providers against the stub server: success,
//! every error text, retries, timeouts and the statement deadline.

mod remote_common;

use remote_common::*;
use std::time::{Duration, Instant};
use tiembed_embed::stub::{Api, Script, Stub, StubConfig};
use tiembed_embed::{EmbedError, Registry};

const HF_MISSING: &str = "HuggingFace API key is not configured, to configure the API key: SET @@GLOBAL.TIDB_EXP_EMBED_HUGGINGFACE_API_KEY='<API_KEY>'";
const HF_UNAUTHORIZED: &str = "HuggingFace returns status unauthorized, check your API key. To reconfigure a new API key: SET @@GLOBAL.TIDB_EXP_EMBED_HUGGINGFACE_API_KEY='<API_KEY>'";

#[tokio::test]
async fn hf_success_sends_one_request_with_the_key() {
    let s = setup(StubConfig::new(), |_| {}).await;
    let t = texts(&["Java coffee", "Java island", "Android apps"]);
    let v = s.registry.embed(HF, None, &t).await.unwrap();
    assert_eq!(v.len(), 3);
    for (text, vector) in t.iter().zip(&v) {
        assert_eq!(vector, &Stub::vector(text, 384));
    }
    let reqs = s.stub.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].api, Api::HuggingFace);
    assert_eq!(
        reqs[0].path,
        "/models/sentence-transformers/all-MiniLM-L6-v2/pipeline/feature-extraction"
    );
    assert_eq!(reqs[0].authorization.as_deref(), Some("Bearer hf_test"));
    assert_eq!(
        reqs[0].body,
        serde_json::json!({"inputs": ["Java coffee", "Java island", "Android apps"]})
    );
}

#[tokio::test]
async fn a_tei_embed_route_is_used_as_is() {
    let s = setup(StubConfig::new().model("", 5), |_| {}).await;
    let r = Registry::new(tiembed_embed::RegistryConfig {
        huggingface_base_url: format!("{}/embed/", s.stub.base_url()),
        ..config(&s.stub, &s.models)
    });
    r.set_variable(HF_KEY_VAR, "k");
    let v = r
        .embed("huggingface/BAAI/bge-m3", None, &texts(&["a", "b"]))
        .await
        .unwrap();
    assert_eq!(v[1], Stub::vector("b", 5));
    assert_eq!(s.stub.requests()[0].path, "/embed");
}

#[tokio::test]
async fn hf_options_are_not_forwarded() {
    let s = setup(StubConfig::new(), |_| {}).await;
    let opts = tiembed_embed::options::parse(Some(r#"{"normalize": false}"#)).unwrap();
    s.registry
        .embed(HF, opts.as_ref(), &texts(&["a"]))
        .await
        .unwrap();
    assert_eq!(
        s.stub.requests()[0].body,
        serde_json::json!({"inputs": ["a"]})
    );
}

#[tokio::test]
async fn hf_missing_key_makes_no_request() {
    let stub = Stub::start(StubConfig::new()).await.unwrap();
    let models = tempfile::tempdir().unwrap();
    let registry = Registry::new(config(&stub, &models));
    let err = registry.embed(HF, None, &texts(&["a"])).await.unwrap_err();
    assert_eq!(err.to_string(), HF_MISSING);
    // Setting and clearing the key again gives the same error.
    registry.set_variable(HF_KEY_VAR, "x");
    registry.set_variable(HF_KEY_VAR, "");
    assert_eq!(
        registry
            .embed(HF, None, &texts(&["a"]))
            .await
            .unwrap_err()
            .to_string(),
        HF_MISSING
    );
    assert_eq!(stub.request_count(), 0);
}

#[tokio::test]
async fn hf_401_is_tidbs_text_and_not_retried() {
    let s = setup(StubConfig::new().api_key("hf_right"), |_| {}).await;
    let err = s
        .registry
        .embed(HF, None, &texts(&["a"]))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), HF_UNAUTHORIZED);
    assert_eq!(s.stub.request_count(), 1);
    // The right key works, and the key change reached the provider.
    s.registry
        .set_variable("TIDB_EXP_EMBED_HUGGINGFACE_API_KEY", "hf_right");
    assert!(s.registry.embed(HF, None, &texts(&["a"])).await.is_ok());
}

#[tokio::test]
async fn hf_scripted_401() {
    let s = setup(StubConfig::new(), |_| {}).await;
    s.stub.push(Script::Unauthorized);
    assert_eq!(
        s.registry
            .embed(HF, None, &texts(&["a"]))
            .await
            .unwrap_err()
            .to_string(),
        HF_UNAUTHORIZED
    );
}

#[tokio::test]
async fn hf_404_names_the_model() {
    let s = setup(StubConfig::new().only_listed_models(), |_| {}).await;
    let err = s
        .registry
        .embed("huggingface/nope/missing-model", None, &texts(&["a"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "HuggingFace model 'nope/missing-model' does not exist or is not available"
    );
    assert_eq!(s.stub.request_count(), 1);
    s.stub.push(Script::NotFound);
    let err = s
        .registry
        .embed(HF, None, &texts(&["b"]))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        EmbedError::ModelNotFound("sentence-transformers/all-MiniLM-L6-v2".into())
    );
}

#[tokio::test]
async fn hf_429_then_success_honours_retry_after() {
    let s = setup(StubConfig::new(), |_| {}).await;
    s.stub.push(Script::RateLimited {
        retry_after: Duration::from_millis(300),
    });
    let start = Instant::now();
    let v = s
        .registry
        .embed(HF, None, &texts(&["a", "b"]))
        .await
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(v[1], Stub::vector("b", 384));
    assert_eq!(s.stub.batch_sizes(), vec![2, 2]);
}

#[tokio::test]
async fn hf_429_without_hint_backs_off_and_succeeds() {
    let s = setup(StubConfig::new(), |_| {}).await;
    s.stub.push(Script::RateLimitedNoHint);
    s.stub.push(Script::RateLimitedNoHint);
    assert!(s.registry.embed(HF, None, &texts(&["a"])).await.is_ok());
    assert_eq!(s.stub.request_count(), 3);
}

#[tokio::test]
async fn hf_503_estimated_time_then_success() {
    let s = setup(StubConfig::new(), |_| {}).await;
    s.stub.push(Script::Loading {
        estimated_time: Duration::from_millis(400),
    });
    let start = Instant::now();
    assert!(s.registry.embed(HF, None, &texts(&["a"])).await.is_ok());
    assert!(
        start.elapsed() >= Duration::from_millis(400),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(s.stub.request_count(), 2);
}

#[tokio::test]
async fn hf_wait_beyond_the_deadline_fails_at_once() {
    let s = setup(StubConfig::new(), |c| {
        c.statement_deadline = Duration::from_secs(1)
    })
    .await;
    s.stub.push(Script::Loading {
        estimated_time: Duration::from_secs(20),
    });
    let err = s
        .registry
        .embed(HF, None, &texts(&["a"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "HuggingFace: Model sentence-transformers/all-MiniLM-L6-v2 is currently loading (gave up after 1 attempt: embedding deadline of 1s exceeded)"
    );
    assert_eq!(s.stub.request_count(), 1);
}

#[tokio::test]
async fn hf_5xx_retried_until_attempts_run_out() {
    let s = setup(StubConfig::new(), |c| c.max_attempts = 3).await;
    for _ in 0..5 {
        s.stub.push(Script::Status(502, "bad gateway".into()));
    }
    let err = s
        .registry
        .embed(HF, None, &texts(&["a"]))
        .await
        .unwrap_err();
    match &err {
        EmbedError::RetriesExhausted { last, attempts: 3 } => {
            assert_eq!(last.to_string(), "HuggingFace: status code 502")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.stub.request_count(), 3);
}

#[tokio::test]
async fn hf_timeout_then_success_within_the_deadline() {
    let s = setup(StubConfig::new(), |c| {
        c.request_timeout = Duration::from_secs(1);
        c.statement_deadline = Duration::from_secs(20);
    })
    .await;
    s.stub.push(Script::Slow(Duration::from_secs(30)));
    assert!(s.registry.embed(HF, None, &texts(&["a"])).await.is_ok());
    assert_eq!(s.stub.request_count(), 2);
}

#[tokio::test]
async fn hf_timeout_past_the_deadline_is_an_error() {
    let s = setup(StubConfig::new(), |c| {
        c.request_timeout = Duration::from_millis(200);
        c.statement_deadline = Duration::from_millis(700);
    })
    .await;
    for _ in 0..10 {
        s.stub.push(Script::Slow(Duration::from_secs(30)));
    }
    let err = s
        .registry
        .embed(HF, None, &texts(&["a"]))
        .await
        .unwrap_err();
    assert!(matches!(err.root(), EmbedError::Timeout { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("HuggingFace: request timed out after "),
        "{err}"
    );
    assert!(s.stub.request_count() >= 2);
}

#[tokio::test]
async fn hf_malformed_body_is_an_unmarshal_error() {
    let s = setup(StubConfig::new(), |_| {}).await;
    s.stub.push(Script::Malformed);
    let err = s
        .registry
        .embed(HF, None, &texts(&["a"]))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("unexpected unmarshal response error: "),
        "{err}"
    );
    assert_eq!(s.stub.request_count(), 1);
    // Token-level (3-D) output is refused the same way.
    s.stub
        .push(Script::Status(200, "[[[0.1,0.2],[0.3,0.4]]]".into()));
    let err = s
        .registry
        .embed(HF, None, &texts(&["b"]))
        .await
        .unwrap_err();
    assert!(matches!(err, EmbedError::Unmarshal(_)), "{err:?}");
}

#[tokio::test]
async fn hf_wrong_count() {
    let s = setup(StubConfig::new(), |_| {}).await;
    s.stub.push(Script::WrongCount);
    let err = s
        .registry
        .embed(HF, None, &texts(&["a", "b"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "response data length 1 does not match input texts length 2"
    );
}

#[tokio::test]
async fn hf_other_errors_are_wrapped() {
    let s = setup(StubConfig::new(), |_| {}).await;
    s.stub.push(Script::Status(
        400,
        r#"{"error":"Input validation error: `inputs` cannot be empty","error_type":"Validation"}"#
            .into(),
    ));
    let err = s.registry.embed(HF, None, &texts(&[""])).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "HuggingFace: Input validation error: `inputs` cannot be empty"
    );
    s.stub
        .push(Script::Status(418, "<html>teapot</html>".into()));
    let err = s
        .registry
        .embed(HF, None, &texts(&["x"]))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "HuggingFace: status code 418");
    s.stub.push(Script::Status(200, "[[1.0, 2.0], []]".into()));
    assert!(s
        .registry
        .embed(HF, None, &texts(&["p", "q"]))
        .await
        .is_err());
    assert_eq!(s.stub.request_count(), 3);
}

#[tokio::test]
async fn unreachable_server_is_a_transport_error() {
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let registry = Registry::new(tiembed_embed::RegistryConfig {
        huggingface_base_url: format!("http://127.0.0.1:{port}"),
        models_dir: "/nonexistent".into(),
        max_attempts: 2,
        retry_backoff: Duration::from_millis(5),
        ..Default::default()
    });
    registry.set_variable(HF_KEY_VAR, "k");
    let err = registry.embed(HF, None, &texts(&["a"])).await.unwrap_err();
    match err {
        EmbedError::RetriesExhausted { last, attempts: 2 } => {
            assert!(
                last.to_string()
                    .starts_with("failed to request HuggingFace: "),
                "{last}"
            )
        }
        other => panic!("{other:?}"),
    }
}

// ---- OpenAI-compatible -------------------------------------------------

#[tokio::test]
async fn openai_success_orders_by_index_and_passes_options() {
    let s = setup(StubConfig::new(), |_| {}).await;
    let opts = tiembed_embed::options::parse(Some(r#"{"dimensions": 16, "user": "u1"}"#)).unwrap();
    let t = texts(&["first text", "second text", "third"]);
    let v = s
        .registry
        .embed("openai/text-embedding-3-small", opts.as_ref(), &t)
        .await
        .unwrap();
    for (text, vector) in t.iter().zip(&v) {
        assert_eq!(vector, &Stub::vector(text, 16));
    }
    let reqs = s.stub.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].api, Api::OpenAi);
    assert_eq!(reqs[0].path, "/v1/embeddings");
    assert_eq!(reqs[0].authorization.as_deref(), Some("Bearer sk_test"));
    assert_eq!(
        reqs[0].body,
        serde_json::json!({"model": "text-embedding-3-small", "input": ["first text", "second text", "third"], "dimensions": 16, "user": "u1"})
    );
}

#[tokio::test]
async fn openai_base_variable_wins_over_the_config() {
    let s = setup(StubConfig::new(), |c| {
        c.openai_base_url = "http://127.0.0.1:9/v1".into()
    })
    .await;
    s.registry.set_variable(
        "tidb_exp_embed_openai_api_base",
        &format!("{}/embeddings/", s.stub.openai_base_url()),
    );
    assert!(s
        .registry
        .embed("openai/m", None, &texts(&["a"]))
        .await
        .is_ok());
    assert_eq!(s.stub.requests()[0].path, "/v1/embeddings");
}

#[tokio::test]
async fn openai_errors() {
    let s = setup(StubConfig::new().only_listed_models(), |_| {}).await;
    let err = s
        .registry
        .embed("openai/unknown", None, &texts(&["a"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "OpenAI: The model `unknown` does not exist"
    );
    s.stub.push(Script::Unauthorized);
    let err = s
        .registry
        .embed(
            "openai/sentence-transformers/all-MiniLM-L6-v2",
            None,
            &texts(&["a"]),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "OpenAI returns status unauthorized, check your API key. To reconfigure a new API key: SET @@GLOBAL.TIDB_EXP_EMBED_OPENAI_API_KEY='<API_KEY>'"
    );
    s.stub.push(Script::WrongCount);
    let err = s
        .registry
        .embed(
            "openai/sentence-transformers/all-MiniLM-L6-v2",
            None,
            &texts(&["a", "b"]),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "response data length 1 does not match input texts length 2"
    );
    s.stub.push(Script::Malformed);
    let err = s
        .registry
        .embed(
            "openai/sentence-transformers/all-MiniLM-L6-v2",
            None,
            &texts(&["c"]),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, EmbedError::Unmarshal(_)), "{err:?}");
    s.stub.push(Script::RateLimited {
        retry_after: Duration::from_millis(50),
    });
    assert!(s
        .registry
        .embed(
            "openai/sentence-transformers/all-MiniLM-L6-v2",
            None,
            &texts(&["d"])
        )
        .await
        .is_ok());
    s.registry.set_variable(OPENAI_KEY_VAR, "");
    let n = s.stub.request_count();
    let err = s
        .registry
        .embed("openai/x", None, &texts(&["a"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "OpenAI API key is not configured, to configure the API key: SET @@GLOBAL.TIDB_EXP_EMBED_OPENAI_API_KEY='<API_KEY>'"
    );
    assert_eq!(s.stub.request_count(), n);
}

#[tokio::test]
async fn the_deadline_covers_the_whole_statement_not_each_batch() {
    // Four one-text batches, one at a time, each answering in 0.8 s: every
    // batch is well within 1.5 s, the statement is not. The batch running
    // when the deadline passes is cut off and says why.
    let s = setup(StubConfig::new(), |c| {
        c.batch_size = 1;
        c.remote_concurrency = 1;
        c.statement_deadline = Duration::from_millis(1500);
    })
    .await;
    for _ in 0..4 {
        s.stub.push(Script::Slow(Duration::from_millis(800)));
    }
    let started = Instant::now();
    let err = s
        .registry
        .embed(HF, None, &texts(&["a", "b", "c", "d"]))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(err, EmbedError::DeadlineExceeded { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("embedding deadline of 1.500s exceeded)"),
        "{err}"
    );
    assert!(took < Duration::from_millis(2200), "{took:?}");
}
