//! Text embedding for EMBED_TEXT and VEC_EMBED_*.
//!
//! An [`Embedder`] turns texts into vectors. Providers live in
//! [`providers`]: `local` (an in-process sentence-transformers model on
//! candle), `huggingface` (the Inference API or a TEI server), `openai`
//! (any OpenAI-compatible `/v1/embeddings`), and `mock` (deterministic,
//! for SQL tests). The [`Registry`] routes a `provider/model` string to a
//! provider, and in front of every provider sits the same machinery:
//! continuous batching, deduplication, an LRU cache keyed by
//! (model, options, text, config version), single flight for identical
//! in-flight texts, and TiDB's error texts.
//!
//! [`options`] handles EMBED_TEXT's JSON options and their `@search` keys.
//! With the `stub` feature, [`stub`] is an HTTP server that answers like the
//! HuggingFace and OpenAI embedding APIs, for tests.

mod batcher;
mod cache;
mod error;
pub mod model_id;
pub mod options;
pub mod providers;
mod registry;
mod routing;
#[cfg(any(test, feature = "stub"))]
pub mod stub;

pub use error::EmbedError;
pub use model_id::ModelId;
pub use options::Options;
pub use registry::{Registry, RegistryConfig, Route, Stats};

use async_trait::async_trait;

/// Something that embeds a batch of texts. Implementations return exactly
/// one vector per input, in order; dimension checks happen above them.
#[async_trait]
pub trait Embedder: Send + Sync + 'static {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;

    /// Largest batch one call should carry.
    fn max_batch(&self) -> usize {
        32
    }

    /// Batches that may run at once; more wait and grow meanwhile.
    fn max_concurrency(&self) -> usize {
        1
    }
}
