//! Which embedder serves a model: the configuration's per-model override,
//! else in-process when local weights exist (HuggingFace models only: the
//! local model stands in for the HF endpoint), else the remote provider.
//!
//! The in-process model lives in `providers::local`; the two functions at
//! the bottom are the only places that know it.

use crate::model_id::{ModelId, ProviderKind};
use crate::registry::{RegistryConfig, Route};
use crate::{EmbedError, Embedder};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// In-process, from this model directory.
    Local(PathBuf),
    Remote,
}

/// The route configured for `id`; routes name models as SQL does, so they
/// are compared after the same parsing.
pub(crate) fn configured_route(id: &ModelId, config: &RegistryConfig) -> Route {
    config
        .routes
        .iter()
        .find(|(name, _)| ModelId::parse(name).is_ok_and(|r| &r == id))
        .map_or(Route::Auto, |(_, route)| *route)
}

pub(crate) fn resolve(id: &ModelId, config: &RegistryConfig) -> Result<Resolved, EmbedError> {
    let route = configured_route(id, config);
    let is_hf = id.provider_info()?.kind == ProviderKind::HuggingFace;
    let local = || {
        if is_hf {
            find_local(&id.model, config)
        } else {
            None
        }
    };
    match route {
        Route::Remote => Ok(Resolved::Remote),
        Route::Auto => Ok(local().map_or(Resolved::Remote, Resolved::Local)),
        Route::Local => local()
            .map(Resolved::Local)
            .ok_or_else(|| EmbedError::NoLocalWeights(id.to_string())),
    }
}

/// The model directory of `model` (`org/name`) under the configured
/// models directory or HF hub cache.
fn find_local(model: &str, config: &RegistryConfig) -> Option<PathBuf> {
    crate::providers::local::find_model_dir(
        model,
        &config.models_dir,
        config.hf_cache_dir.as_deref(),
    )
}

/// Loads the in-process model at `dir` (blocking: reads the weights).
pub(crate) fn load_local(dir: &Path, threads: usize) -> Result<Arc<dyn Embedder>, EmbedError> {
    Ok(Arc::new(crate::providers::local::LocalModel::load(
        dir, threads,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_match_parsed_names() {
        let config = RegistryConfig {
            routes: vec![
                ("HuggingFace/org/m".into(), Route::Remote),
                ("openai/x".into(), Route::Local),
            ],
            models_dir: PathBuf::from("/nonexistent/models"),
            ..RegistryConfig::default()
        };
        let hf = ModelId::parse("huggingface/org/m").unwrap();
        assert_eq!(configured_route(&hf, &config), Route::Remote);
        assert_eq!(resolve(&hf, &config).unwrap(), Resolved::Remote);
        let other = ModelId::parse("huggingface/org/other").unwrap();
        assert_eq!(configured_route(&other, &config), Route::Auto);
        assert_eq!(resolve(&other, &config).unwrap(), Resolved::Remote);
        let oa = ModelId::parse("openai/x").unwrap();
        assert_eq!(
            resolve(&oa, &config).unwrap_err().to_string(),
            "no local weights found for model 'openai/x'"
        );
    }
}
