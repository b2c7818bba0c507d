//! `provider/model` strings as EMBED_TEXT takes them, and the providers
//! TiDB knows by name.

use crate::EmbedError;
use std::fmt;

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
            Some((p, m)) => Ok(ModelId {
                provider: p.trim().to_lowercase(),
                model: m.trim().to_string(),
            }),
            None => Err(EmbedError::BadModelName(s.to_string())),
        }
    }

    /// The provider's entry in [`PROVIDERS`], or TiDB's unknown-provider error.
    pub fn provider_info(&self) -> Result<&'static ProviderInfo, EmbedError> {
        provider_info(&self.provider).ok_or_else(|| EmbedError::UnknownProvider {
            provider: self.provider.clone(),
            available: available_providers(),
        })
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

/// What tiembed does with a provider name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    HuggingFace,
    OpenAi,
    Mock,
    /// Known to TiDB, not implemented here.
    Unsupported,
}

/// One provider name TiDB accepts.
#[derive(Debug)]
pub struct ProviderInfo {
    /// As written in SQL (`huggingface`).
    pub name: &'static str,
    /// As TiDB's error texts name it (`HuggingFace`).
    pub display: &'static str,
    /// The GLOBAL variable holding its key, upper-cased as the error texts
    /// print it; `None` when no key is needed.
    pub key_variable: Option<&'static str>,
    pub kind: ProviderKind,
}

/// Every provider name EMBED_TEXT accepts, in the order the
/// unknown-provider error lists them (TiDB's order is Go map order, i.e.
/// random, so no client can depend on it).
pub const PROVIDERS: &[ProviderInfo] = &[
    ProviderInfo {
        name: "cohere",
        display: "Cohere",
        key_variable: Some("TIDB_EXP_EMBED_COHERE_API_KEY"),
        kind: ProviderKind::Unsupported,
    },
    ProviderInfo {
        name: "gemini",
        display: "Gemini",
        key_variable: Some("TIDB_EXP_EMBED_GEMINI_API_KEY"),
        kind: ProviderKind::Unsupported,
    },
    ProviderInfo {
        name: "huggingface",
        display: "HuggingFace",
        key_variable: Some("TIDB_EXP_EMBED_HUGGINGFACE_API_KEY"),
        kind: ProviderKind::HuggingFace,
    },
    ProviderInfo {
        name: "jina_ai",
        display: "JinaAI",
        key_variable: Some("TIDB_EXP_EMBED_JINA_AI_API_KEY"),
        kind: ProviderKind::Unsupported,
    },
    ProviderInfo {
        name: "mock",
        display: "Mock",
        key_variable: None,
        kind: ProviderKind::Mock,
    },
    ProviderInfo {
        name: "nvidia_nim",
        display: "NVIDIA NIM",
        key_variable: Some("TIDB_EXP_EMBED_NVIDIA_NIM_API_KEY"),
        kind: ProviderKind::Unsupported,
    },
    ProviderInfo {
        name: "openai",
        display: "OpenAI",
        key_variable: Some("TIDB_EXP_EMBED_OPENAI_API_KEY"),
        kind: ProviderKind::OpenAi,
    },
    ProviderInfo {
        name: "tidbcloud_free",
        display: "TiDB Cloud Inference",
        key_variable: None,
        kind: ProviderKind::Unsupported,
    },
];

/// The `tidb_exp_embed_*` GLOBAL variables, lower-case as stored.
pub const VARIABLES: &[&str] = &[
    "tidb_exp_embed_openai_api_key",
    "tidb_exp_embed_openai_api_base",
    "tidb_exp_embed_cohere_api_key",
    "tidb_exp_embed_jina_ai_api_key",
    "tidb_exp_embed_gemini_api_key",
    "tidb_exp_embed_huggingface_api_key",
    "tidb_exp_embed_nvidia_nim_api_key",
];

pub fn provider_info(name: &str) -> Option<&'static ProviderInfo> {
    PROVIDERS.iter().find(|p| p.name == name)
}

/// `cohere, gemini, ...` as the unknown-provider error lists them.
pub fn available_providers() -> String {
    PROVIDERS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_first_slash() {
        let id = ModelId::parse(" HuggingFace /BAAI/bge-m3").unwrap();
        assert_eq!(id.provider, "huggingface");
        assert_eq!(id.model, "BAAI/bge-m3");
        assert_eq!(id.to_string(), "huggingface/BAAI/bge-m3");
        assert_eq!(
            ModelId::parse("gemini-embedding-001")
                .unwrap_err()
                .to_string(),
            "model name must be in format 'provider/model', got: gemini-embedding-001"
        );
    }

    #[test]
    fn unknown_provider_lists_the_known_ones() {
        let err = ModelId::parse("nvidia/nv-embed-v1")
            .unwrap()
            .provider_info()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown embedding provider 'nvidia', available providers: cohere, gemini, huggingface, jina_ai, mock, nvidia_nim, openai, tidbcloud_free"
        );
    }

    #[test]
    fn every_key_variable_is_a_variable() {
        for p in PROVIDERS {
            if let Some(v) = p.key_variable {
                assert!(VARIABLES.contains(&v.to_lowercase().as_str()), "{v}");
            }
        }
    }
}
