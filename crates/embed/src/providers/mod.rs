//! Embedding providers: `huggingface` (the Inference API or any TEI
//! server), `openai` (any OpenAI-compatible `/v1/embeddings`), `mock`
//! (deterministic, for tests) and `local` (an in-process model).
//! Each turns one batch of texts into one vector per text; batching across
//! calls, caching and dimension checks happen in the registry above them.

pub(crate) mod http;
pub mod huggingface;
pub mod local;
pub mod mock;
pub mod openai;

pub use http::RetryPolicy;

/// Settings every remote provider shares.
#[derive(Debug, Clone)]
pub struct RemoteSettings {
    /// Texts per HTTP request at most.
    pub batch_size: usize,
    /// Requests one model may have in flight at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
}

impl Default for RemoteSettings {
    fn default() -> Self {
        RemoteSettings {
            batch_size: 32,
            concurrency: 4,
            retry: RetryPolicy::default(),
        }
    }
}

/// Percent-encodes a model name for a URL path, keeping its `/`.
pub(crate) fn encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Checks a decoded batch: one non-empty vector per text, all of one
/// dimension.
pub(crate) fn check_shape(
    provider: &'static str,
    vectors: &[Vec<f32>],
    expected: usize,
) -> Result<(), crate::EmbedError> {
    if vectors.len() != expected {
        return Err(crate::EmbedError::CountMismatch {
            got: vectors.len(),
            expected,
        });
    }
    let dim = vectors.first().map_or(0, Vec::len);
    for v in vectors {
        if v.is_empty() {
            return Err(crate::EmbedError::Api {
                provider,
                message: "response holds an empty embedding".into(),
            });
        }
        if v.len() != dim {
            return Err(crate::EmbedError::Api {
                provider,
                message: format!(
                    "response holds embeddings of different dimensions ({dim} and {})",
                    v.len()
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn encode_path_keeps_slashes() {
        assert_eq!(super::encode_path("BAAI/bge-m3"), "BAAI/bge-m3");
        assert_eq!(super::encode_path("a b?#"), "a%20b%3F%23");
    }
}
