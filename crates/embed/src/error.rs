//! Embedding failures, worded as TiDB words them (they reach the client as
//! ERROR 1105).

use thiserror::Error;

#[derive(Debug, Clone, Error, PartialEq)]
pub enum EmbedError {
    #[error("model name must be in format 'provider/model', got: {0}")]
    BadModelName(String),
    #[error("unknown embedding provider '{provider}', available providers: {available}")]
    UnknownProvider { provider: String, available: String },
    #[error("{0}")]
    Provider(String),
}
