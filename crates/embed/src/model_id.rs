//! `provider/model` strings as EMBED_TEXT takes them.

use crate::EmbedError;

/// A parsed model string: provider lower-cased and trimmed, model trimmed
/// and case-sensitive (it may contain more `/`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelId {
    pub provider: String,
    pub model: String,
}

impl ModelId {
    /// Splits on the first `/` as TiDB does.
    pub fn parse(s: &str) -> Result<ModelId, EmbedError> {
        match s.split_once('/') {
            Some((p, m)) => Ok(ModelId { provider: p.trim().to_lowercase(), model: m.trim().to_string() }),
            None => Err(EmbedError::BadModelName(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_first_slash() {
        let id = ModelId::parse(" HuggingFace /BAAI/bge-m3").unwrap();
        assert_eq!(id.provider, "huggingface");
        assert_eq!(id.model, "BAAI/bge-m3");
        assert!(ModelId::parse("gemini-embedding-001").is_err());
    }
}
