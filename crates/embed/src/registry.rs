//! Routes `provider/model` to a provider and puts batching, caching and
//! single flight in front of it.

use crate::EmbedError;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where a model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// In-process if local weights are found, else its remote provider.
    Auto,
    Local,
    Remote,
}

#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// Where sentence-transformers model directories are looked up
    /// (`<models_dir>/<org>/<name>` or `<models_dir>/<name>`).
    pub models_dir: PathBuf,
    /// A HuggingFace hub cache (`models--org--name/snapshots/*`), if any.
    pub hf_cache_dir: Option<PathBuf>,
    /// `https://router.huggingface.co/hf-inference` by default; requests go
    /// to `<base>/models/<model>/pipeline/feature-extraction`.
    pub huggingface_base_url: String,
    /// Per-model routing overrides, keyed by the full `provider/model` string.
    pub routes: Vec<(String, Route)>,
    pub request_timeout: Duration,
    /// Retries of one statement's embedding stop at this deadline.
    pub statement_deadline: Duration,
    pub cache_entries: usize,
    /// Threads the local model may use.
    pub local_threads: usize,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            models_dir: PathBuf::from("models"),
            hf_cache_dir: None,
            huggingface_base_url: "https://router.huggingface.co/hf-inference".into(),
            routes: Vec::new(),
            request_timeout: Duration::from_secs(30),
            statement_deadline: Duration::from_secs(60),
            cache_entries: 10_000,
            local_threads: 2,
        }
    }
}

/// The process-wide embedding service.
pub struct Registry {
    _config: RegistryConfig,
}

impl Registry {
    pub fn new(config: RegistryConfig) -> Arc<Registry> {
        Arc::new(Registry { _config: config })
    }

    /// Sets a `tidb_exp_embed_*` global variable (lower-case name); changes
    /// invalidate the cache, as TiDB's config version does.
    pub fn set_variable(&self, _name: &str, _value: &str) {
        todo!("embed helper")
    }

    /// Embeds `texts` with `model` (EMBED_TEXT's first argument, unparsed)
    /// and `options` (EMBED_TEXT's third argument with `@search` keys
    /// already resolved by the caller). One vector per text, in order.
    pub async fn embed(
        &self,
        _model: &str,
        _options: Option<&serde_json::Map<String, serde_json::Value>>,
        _texts: &[String],
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        todo!("embed helper")
    }
}
