//! Embedding failures, worded as TiDB words them (they reach the client as
//! ERROR 1105). Texts taken verbatim from TiDB are marked; the others
//! cover what tiembed adds (timeouts, deadlines, unsupported providers).

use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Clone, Error, PartialEq)]
pub enum EmbedError {
    /// TiDB verbatim.
    #[error("model name must be in format 'provider/model', got: {0}")]
    BadModelName(String),
    /// TiDB verbatim; `available` is a comma-separated list.
    #[error("unknown embedding provider '{provider}', available providers: {available}")]
    UnknownProvider { provider: String, available: String },
    /// TiDB verbatim (the newest builtin's wording).
    #[error("EMBED_TEXT expects options in JSON format")]
    BadOptions,
    /// TiDB verbatim; `provider` is the display name (`HuggingFace`),
    /// `variable` the upper-cased variable name.
    #[error("{provider} API key is not configured, to configure the API key: SET @@GLOBAL.{variable}='<API_KEY>'")]
    MissingKey {
        provider: &'static str,
        variable: &'static str,
    },
    /// TiDB verbatim (HTTP 401).
    #[error("{provider} returns status unauthorized, check your API key. To reconfigure a new API key: SET @@GLOBAL.{variable}='<API_KEY>'")]
    Unauthorized {
        provider: &'static str,
        variable: &'static str,
    },
    /// TiDB verbatim (HuggingFace, HTTP 404).
    #[error("HuggingFace model '{0}' does not exist or is not available")]
    ModelNotFound(String),
    /// TiDB verbatim: a non-success answer carrying an error message
    /// (`HuggingFace: <error>`, `OpenAI: <message>`).
    #[error("{provider}: {message}")]
    Api {
        provider: &'static str,
        message: String,
    },
    /// TiDB verbatim: a non-success answer without a readable message.
    #[error("{provider}: status code {status}")]
    Status { provider: &'static str, status: u16 },
    /// TiDB verbatim: a body that is not the expected JSON shape.
    #[error("unexpected unmarshal response error: {0}")]
    Unmarshal(String),
    /// TiDB verbatim.
    #[error("response data length {got} does not match input texts length {expected}")]
    CountMismatch { got: usize, expected: usize },
    /// One HTTP request took longer than the per-request timeout.
    #[error("{provider}: request timed out after {}", secs(*.after))]
    Timeout {
        provider: &'static str,
        after: Duration,
    },
    /// Retries ran out of statement time; `last` is the final attempt's error.
    #[error("{last} (gave up after {}: embedding deadline of {} exceeded)", plural(*.attempts, "attempt"), secs(*.deadline))]
    DeadlineExceeded {
        last: Box<EmbedError>,
        attempts: u32,
        deadline: Duration,
    },
    /// The statement's embeddings were not all ready by its deadline
    /// (retries of one or more batches, or a queue behind other statements).
    #[error("embedding did not finish within the statement deadline of {}", secs(*.0))]
    StatementDeadline(Duration),
    /// Every allowed attempt failed; `last` is the final attempt's error.
    #[error("{last} (gave up after {})", plural(*.attempts, "attempt"))]
    RetriesExhausted {
        last: Box<EmbedError>,
        attempts: u32,
    },
    /// The request never got an answer (connection refused, DNS, TLS, ...).
    #[error("failed to request {provider}: {message}")]
    Transport {
        provider: &'static str,
        message: String,
    },
    /// A TiDB provider name tiembed knows but does not implement.
    #[error("embedding provider '{0}' is not supported by tiembed; use huggingface/, openai/ or a local model")]
    NotSupported(String),
    /// A model the configuration says must run locally has no weights.
    #[error("no local weights found for model '{0}'")]
    NoLocalWeights(String),
    /// TiDB verbatim: NaN / infinity / too many dimensions in a returned vector.
    #[error("{0}")]
    InvalidVector(String),
    /// Any other provider failure (local model, mock), already worded.
    #[error("{0}")]
    Provider(String),
}

fn plural(n: u32, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}s", s as u64)
    } else {
        format!("{s:.3}s")
    }
}

impl EmbedError {
    /// The underlying failure of a retried request (the error itself
    /// otherwise).
    pub fn root(&self) -> &EmbedError {
        match self {
            EmbedError::DeadlineExceeded { last, .. }
            | EmbedError::RetriesExhausted { last, .. } => last.root(),
            other => other,
        }
    }
}

/// 429 and 5xx are worth retrying; other statuses will answer the same.
pub(crate) fn retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidb_texts() {
        let hf = ("HuggingFace", "TIDB_EXP_EMBED_HUGGINGFACE_API_KEY");
        assert_eq!(
            EmbedError::MissingKey { provider: hf.0, variable: hf.1 }.to_string(),
            "HuggingFace API key is not configured, to configure the API key: SET @@GLOBAL.TIDB_EXP_EMBED_HUGGINGFACE_API_KEY='<API_KEY>'"
        );
        assert_eq!(
            EmbedError::Unauthorized { provider: hf.0, variable: hf.1 }.to_string(),
            "HuggingFace returns status unauthorized, check your API key. To reconfigure a new API key: SET @@GLOBAL.TIDB_EXP_EMBED_HUGGINGFACE_API_KEY='<API_KEY>'"
        );
        assert_eq!(
            EmbedError::ModelNotFound("a/b".into()).to_string(),
            "HuggingFace model 'a/b' does not exist or is not available"
        );
        assert_eq!(
            EmbedError::Api {
                provider: "HuggingFace",
                message: "boom".into()
            }
            .to_string(),
            "HuggingFace: boom"
        );
        assert_eq!(
            EmbedError::Status {
                provider: "OpenAI",
                status: 500
            }
            .to_string(),
            "OpenAI: status code 500"
        );
        assert_eq!(
            EmbedError::CountMismatch {
                got: 1,
                expected: 2
            }
            .to_string(),
            "response data length 1 does not match input texts length 2"
        );
        assert_eq!(
            EmbedError::Unmarshal("x".into()).to_string(),
            "unexpected unmarshal response error: x"
        );
        assert_eq!(
            EmbedError::BadOptions.to_string(),
            "EMBED_TEXT expects options in JSON format"
        );
        assert_eq!(
            EmbedError::BadModelName("abc".into()).to_string(),
            "model name must be in format 'provider/model', got: abc"
        );
        assert_eq!(
            EmbedError::Timeout {
                provider: "HuggingFace",
                after: Duration::from_millis(1500)
            }
            .to_string(),
            "HuggingFace: request timed out after 1.500s"
        );
        let d = EmbedError::DeadlineExceeded {
            last: Box::new(EmbedError::Status {
                provider: "HuggingFace",
                status: 429,
            }),
            attempts: 1,
            deadline: Duration::from_secs(60),
        };
        assert_eq!(
            d.to_string(),
            "HuggingFace: status code 429 (gave up after 1 attempt: embedding deadline of 60s exceeded)"
        );
        let r = EmbedError::RetriesExhausted {
            last: Box::new(EmbedError::Status {
                provider: "HuggingFace",
                status: 503,
            }),
            attempts: 6,
        };
        assert_eq!(
            r.to_string(),
            "HuggingFace: status code 503 (gave up after 6 attempts)"
        );
    }

    #[test]
    fn retryable() {
        assert!(retryable_status(429));
        assert!(retryable_status(503));
        assert!(!retryable_status(400));
        assert!(!retryable_status(404));
    }
}
