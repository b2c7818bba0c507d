//! Routes `provider/model` to a provider and puts batching, caching and
//! single flight in front of it.
//!
//! Each distinct embedder (a local model directory, or a remote provider +
//! model + options, built with the current keys) is one [`Lane`]. Setting
//! any `tidb_exp_embed_*` variable bumps the configuration version, drops
//! the remote lanes and empties the cache, as TiDB's config version does.
//! Local models are loaded once and kept.

use crate::batcher::{Counters, Lane};
use crate::cache::Lru;
use crate::model_id::{ModelId, ProviderKind};
use crate::options::{self, Options};
use crate::providers::{huggingface, mock, openai, RemoteSettings, RetryPolicy};
use crate::routing::{self, Resolved};
use crate::{EmbedError, Embedder};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

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
    /// OpenAI-compatible base used while `tidb_exp_embed_openai_api_base`
    /// is empty; requests go to `<base>/embeddings`.
    pub openai_base_url: String,
    /// Per-model routing overrides, keyed by the full `provider/model` string.
    pub routes: Vec<(String, Route)>,
    pub request_timeout: Duration,
    /// A statement waits this long for all its embeddings, retries of
    /// its batches included; a batch's retries also stop after it.
    pub statement_deadline: Duration,
    /// Attempts per batch (the first included) before giving up.
    pub max_attempts: u32,
    /// First retry backoff; doubles per attempt, jittered, capped at 8 s.
    pub retry_backoff: Duration,
    /// Texts per remote request at most.
    pub batch_size: usize,
    /// Requests one remote model may have in flight at once.
    pub remote_concurrency: usize,
    pub cache_entries: usize,
    /// Threads the local model may use.
    pub local_threads: usize,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            models_dir: PathBuf::from("models"),
            hf_cache_dir: None,
            huggingface_base_url: huggingface::DEFAULT_BASE_URL.into(),
            openai_base_url: openai::DEFAULT_BASE_URL.into(),
            routes: Vec::new(),
            request_timeout: Duration::from_secs(30),
            statement_deadline: Duration::from_secs(60),
            max_attempts: 6,
            retry_backoff: Duration::from_millis(250),
            batch_size: 32,
            remote_concurrency: 4,
            cache_entries: 10_000,
            local_threads: 2,
        }
    }
}

impl RegistryConfig {
    fn remote_settings(&self) -> RemoteSettings {
        RemoteSettings {
            batch_size: self.batch_size.max(1),
            concurrency: self.remote_concurrency.max(1),
            retry: RetryPolicy {
                request_timeout: self.request_timeout,
                deadline: self.statement_deadline,
                max_attempts: self.max_attempts.max(1),
                base_backoff: self.retry_backoff,
                max_backoff: Duration::from_secs(8).max(self.retry_backoff),
            },
        }
    }
}

/// What the registry has done since it started (for tests and benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Batches handed to embedders.
    pub batches: u64,
    /// Texts in those batches.
    pub texts_sent: u64,
    pub cache_hits: u64,
    /// Texts that joined an identical text already queued or in flight.
    pub joined_in_flight: u64,
    /// Texts waiting for their embedder right now.
    pub queued: u64,
}

/// The process-wide embedding service.
pub struct Registry {
    config: RegistryConfig,
    client: Result<reqwest::Client, String>,
    cache: Arc<Mutex<Lru>>,
    counters: Arc<Counters>,
    state: Mutex<State>,
    /// Local lanes by model directory; a cell so a model loads once even
    /// when many statements ask for it at the same time.
    local: Mutex<HashMap<PathBuf, Arc<OnceCell<Arc<Lane>>>>>,
}

#[derive(Default)]
struct State {
    version: u64,
    variables: HashMap<String, String>,
    /// Remote and mock lanes, built with the current variables.
    lanes: HashMap<Arc<str>, Arc<Lane>>,
    /// Route decisions per model, so lookups for weights are not repeated
    /// per statement; cleared with the version.
    resolved: HashMap<ModelId, Resolved>,
}

impl Registry {
    pub fn new(config: RegistryConfig) -> Arc<Registry> {
        let client = crate::providers::http::client();
        if let Err(e) = &client {
            tracing::warn!(error = %e, "HTTP client unavailable; remote embedding providers will fail");
        }
        Arc::new(Registry {
            cache: Arc::new(Mutex::new(Lru::new(config.cache_entries))),
            counters: Arc::new(Counters::default()),
            state: Mutex::new(State::default()),
            local: Mutex::new(HashMap::new()),
            client,
            config,
        })
    }

    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// Sets a `tidb_exp_embed_*` global variable (name case-insensitive);
    /// any change invalidates the cache and the remote clients, as TiDB's
    /// config version does. Other names are ignored.
    pub fn set_variable(&self, name: &str, value: &str) {
        let name = name.to_ascii_lowercase();
        if !crate::model_id::VARIABLES.contains(&name.as_str()) {
            tracing::debug!(name, "not an embedding variable");
            return;
        }
        let mut st = self.state.lock();
        if st.variables.get(&name).map(String::as_str).unwrap_or("") == value {
            return;
        }
        st.variables.insert(name, value.to_string());
        st.version += 1;
        st.lanes.clear();
        st.resolved.clear();
        self.cache.lock().clear();
    }

    /// The configuration version; bumped by every variable change.
    pub fn config_version(&self) -> u64 {
        self.state.lock().version
    }

    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            batches: c.batches.load(Ordering::Relaxed),
            texts_sent: c.texts_sent.load(Ordering::Relaxed),
            cache_hits: c.cache_hits.load(Ordering::Relaxed),
            joined_in_flight: c.joined.load(Ordering::Relaxed),
            queued: c.queued.load(Ordering::Relaxed),
        }
    }

    /// Embeds `texts` with `model` (EMBED_TEXT's first argument, unparsed)
    /// and `options` (EMBED_TEXT's third argument with `@search` keys
    /// already resolved by the caller; any left are dropped). One vector
    /// per text, in order. Duplicates are embedded once. No texts: nothing
    /// is checked or called.
    pub async fn embed(
        &self,
        model: &str,
        options: Option<&Options>,
        texts: &[String],
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let deadline = Instant::now() + self.config.statement_deadline;
        self.embed_until(model, options, texts, deadline).await
    }

    /// [`Registry::embed`] that fails with
    /// [`EmbedError::StatementDeadline`] once `deadline` passes: a
    /// statement's calls share the deadline set when it started.
    pub async fn embed_until(
        &self,
        model: &str,
        options: Option<&Options>,
        texts: &[String],
        deadline: Instant,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let id = ModelId::parse(model)?;
        let options = options.map(options::strip_search_keys);
        let lane = self.lane(&id, options.as_ref()).await?;
        let mut unique: Vec<String> = Vec::new();
        let mut position: HashMap<&str, usize> = HashMap::new();
        let index: Vec<usize> = texts
            .iter()
            .map(|t| {
                *position.entry(t.as_str()).or_insert_with(|| {
                    unique.push(t.clone());
                    unique.len() - 1
                })
            })
            .collect();
        // The batches give up at the deadline with their own error (a 429,
        // a timeout); the grace lets that error, not this one, reach the
        // client. This one is for texts still queued behind other calls.
        let backstop = deadline + Duration::from_millis(200);
        let vectors = tokio::time::timeout_at(backstop.into(), lane.embed(&unique, deadline))
            .await
            .map_err(|_| EmbedError::StatementDeadline(self.config.statement_deadline))??;
        Ok(index
            .into_iter()
            .map(|i| vectors[i].as_ref().clone())
            .collect())
    }

    /// [`Registry::embed_until`] with EMBED_TEXT's options as SQL gives them:
    /// NULL or `''` for none, else a JSON object.
    pub async fn embed_sql(
        &self,
        model: &str,
        options: Option<&str>,
        texts: &[String],
        deadline: Instant,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let options = options::parse(options)?;
        self.embed_until(model, options.as_ref(), texts, deadline)
            .await
    }

    /// Where `model` would run now: `Some(dir)` for in-process weights,
    /// `None` for its remote provider. Errors as [`Registry::embed`] would.
    pub fn route_of(&self, model: &str) -> Result<Option<PathBuf>, EmbedError> {
        let id = ModelId::parse(model)?;
        id.provider_info()?;
        Ok(match self.resolve(&id)? {
            Resolved::Local(dir) => Some(dir),
            Resolved::Remote => None,
        })
    }

    fn resolve(&self, id: &ModelId) -> Result<Resolved, EmbedError> {
        if let Some(r) = self.state.lock().resolved.get(id) {
            return Ok(r.clone());
        }
        let r = routing::resolve(id, &self.config)?;
        self.state.lock().resolved.insert(id.clone(), r.clone());
        Ok(r)
    }

    async fn lane(&self, id: &ModelId, options: Option<&Options>) -> Result<Arc<Lane>, EmbedError> {
        let info = id.provider_info()?;
        if let Resolved::Local(dir) = self.resolve(id)? {
            return self.local_lane(dir).await;
        }
        let (version, variables) = {
            let st = self.state.lock();
            (st.version, st.variables.clone())
        };
        let var = |name: &str| variables.get(name).cloned().unwrap_or_default();
        let key_of = |info: &crate::model_id::ProviderInfo| {
            info.key_variable
                .map(|v| var(&v.to_ascii_lowercase()))
                .unwrap_or_default()
        };
        // The HF provider ignores options (as TiDB's does), so all option
        // spellings share one lane and one set of cache entries.
        let lane_key: Arc<str> = match info.kind {
            ProviderKind::HuggingFace => format!("{id}").into(),
            _ => format!("{id}\u{0}{}", options::canonical(options)).into(),
        };
        if let Some(lane) = self.state.lock().lanes.get(&lane_key) {
            return Ok(lane.clone());
        }
        let embedder: Arc<dyn Embedder> = match info.kind {
            ProviderKind::Mock => Arc::new(mock::Mock::new(&id.model, options)?),
            ProviderKind::HuggingFace => Arc::new(huggingface::HuggingFace::new(
                self.http()?,
                &self.config.huggingface_base_url,
                &id.model,
                &key_of(info),
                self.config.remote_settings(),
            )?),
            ProviderKind::OpenAi => {
                let base = var("tidb_exp_embed_openai_api_base");
                let base = if base.trim().is_empty() {
                    self.config.openai_base_url.clone()
                } else {
                    base
                };
                Arc::new(openai::OpenAi::new(
                    self.http()?,
                    &base,
                    &id.model,
                    &key_of(info),
                    options.cloned().unwrap_or_default(),
                    self.config.remote_settings(),
                )?)
            }
            ProviderKind::Unsupported => {
                if let Some(variable) = info.key_variable {
                    if key_of(info).is_empty() {
                        return Err(EmbedError::MissingKey {
                            provider: info.display,
                            variable,
                        });
                    }
                }
                return Err(EmbedError::NotSupported(info.name.to_string()));
            }
        };
        let mut st = self.state.lock();
        if st.version != version {
            // A variable changed while building: this embedder carries old
            // keys; use it for this call only.
            return Ok(Lane::new(
                lane_key,
                version,
                embedder,
                self.cache.clone(),
                self.counters.clone(),
            ));
        }
        let lane = st.lanes.entry(lane_key.clone()).or_insert_with(|| {
            Lane::new(
                lane_key,
                version,
                embedder,
                self.cache.clone(),
                self.counters.clone(),
            )
        });
        Ok(lane.clone())
    }

    async fn local_lane(&self, dir: PathBuf) -> Result<Arc<Lane>, EmbedError> {
        let cell = self.local.lock().entry(dir.clone()).or_default().clone();
        let threads = self.config.local_threads;
        cell.get_or_try_init(|| async {
            let key: Arc<str> = format!("local:{}", dir.display()).into();
            let load_dir = dir.clone();
            let embedder =
                tokio::task::spawn_blocking(move || routing::load_local(&load_dir, threads))
                    .await
                    .map_err(|e| {
                        EmbedError::Provider(format!(
                            "loading local model {} failed: {e}",
                            dir.display()
                        ))
                    })??;
            tracing::info!(dir = %dir.display(), "local embedding model loaded");
            // Local vectors do not depend on the variables: version 0
            // keys them (the cache is still emptied on every change).
            Ok(Lane::new(
                key,
                0,
                embedder,
                self.cache.clone(),
                self.counters.clone(),
            ))
        })
        .await
        .cloned()
    }

    fn http(&self) -> Result<reqwest::Client, EmbedError> {
        self.client
            .clone()
            .map_err(|message| EmbedError::Transport {
                provider: "embedding provider",
                message,
            })
    }
}
