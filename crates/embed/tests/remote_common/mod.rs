//! Shared set-up of the remote-provider tests: a registry pointed at a
//! stub server, with fast retries and a models directory without weights.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;
use tiembed_embed::stub::{Stub, StubConfig};
use tiembed_embed::{Registry, RegistryConfig};

pub const HF: &str = "huggingface/sentence-transformers/all-MiniLM-L6-v2";
pub const HF_KEY_VAR: &str = "tidb_exp_embed_huggingface_api_key";
pub const OPENAI_KEY_VAR: &str = "tidb_exp_embed_openai_api_key";

pub struct Setup {
    pub stub: Stub,
    pub registry: Arc<Registry>,
    /// Kept alive: the (empty) models directory.
    pub models: tempfile::TempDir,
}

pub fn config(stub: &Stub, models: &tempfile::TempDir) -> RegistryConfig {
    RegistryConfig {
        models_dir: models.path().to_path_buf(),
        huggingface_base_url: stub.base_url(),
        openai_base_url: stub.openai_base_url(),
        request_timeout: Duration::from_secs(5),
        statement_deadline: Duration::from_secs(10),
        retry_backoff: Duration::from_millis(10),
        ..RegistryConfig::default()
    }
}

/// A stub serving MiniLM at 384 dimensions (and 8 for any other model),
/// and a registry with HF and OpenAI keys set.
pub async fn setup(stub_config: StubConfig, tweak: impl FnOnce(&mut RegistryConfig)) -> Setup {
    let stub = Stub::start(stub_config.model("sentence-transformers/all-MiniLM-L6-v2", 384))
        .await
        .unwrap();
    let models = tempfile::tempdir().unwrap();
    let mut cfg = config(&stub, &models);
    tweak(&mut cfg);
    let registry = Registry::new(cfg);
    registry.set_variable(HF_KEY_VAR, "hf_test");
    registry.set_variable(OPENAI_KEY_VAR, "sk_test");
    Setup {
        stub,
        registry,
        models,
    }
}

pub fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}
