//! Reads what sentence-transformers keeps beside the transformer:
//! `modules.json` (the pipeline), `sentence_bert_config.json`
//! (`max_seq_length`, `do_lower_case`) and the pooling module's
//! `config.json` (legacy `pooling_mode_*` booleans or the newer
//! `pooling_mode` string/list).

use super::PoolingMode;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub(crate) struct SentenceTransformerConfig {
    /// Directory of the Transformer module (the model dir itself unless
    /// `modules.json` gives it a path such as `0_Transformer`).
    pub transformer_dir: PathBuf,
    /// `max_seq_length` from `sentence_bert_config.json`, if set.
    pub st_max_seq_length: Option<usize>,
    /// `model_max_length` from `tokenizer_config.json`, if sensible.
    pub tokenizer_max_length: Option<usize>,
    pub do_lower_case: bool,
    /// Pooling modes, in the order sentence-transformers concatenates them.
    pub pooling: Vec<PoolingMode>,
    /// The pooling module's declared input dimension, if given.
    pub pooling_dimension: Option<usize>,
    pub normalize: bool,
}

#[derive(Deserialize)]
struct Module {
    #[serde(default)]
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize, Default)]
struct SbertConfig {
    max_seq_length: Option<usize>,
    #[serde(default)]
    do_lower_case: bool,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))
}

/// Joins a module path from modules.json, refusing anything that leaves the
/// model directory.
fn module_dir(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    let rel = Path::new(rel);
    if rel
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(format!(
            "modules.json: module path {} is not inside the model directory",
            rel.display()
        ));
    }
    Ok(dir.join(rel))
}

impl SentenceTransformerConfig {
    pub fn read(dir: &Path) -> Result<SentenceTransformerConfig, String> {
        let modules_path = dir.join("modules.json");
        if !modules_path.is_file() {
            return Err("not a sentence-transformers model directory (no modules.json)".into());
        }
        let modules: Vec<Module> = read_json(&modules_path)?;
        let mut transformer_dir = None;
        let mut pooling_dir = None;
        let mut normalize = false;
        for (i, m) in modules.iter().enumerate() {
            // "sentence_transformers.models.Pooling", "sentence_transformers.base.modules.Normalize", ...
            let short = m.kind.rsplit('.').next().unwrap_or(&m.kind);
            match short {
                "Transformer" if i == 0 => transformer_dir = Some(module_dir(dir, &m.path)?),
                "Pooling" if transformer_dir.is_some() && pooling_dir.is_none() && !normalize => {
                    pooling_dir = Some(module_dir(dir, &m.path)?)
                }
                // Normalize has no parameters; its folder may be missing.
                "Normalize" if pooling_dir.is_some() => normalize = true,
                _ => {
                    return Err(format!(
                        "modules.json: module {} ({}) is not supported here; supported: Transformer, Pooling, Normalize",
                        i, m.kind
                    ))
                }
            }
        }
        let transformer_dir = transformer_dir.ok_or("modules.json: no Transformer module")?;
        let pooling_dir = pooling_dir.ok_or("modules.json: no Pooling module")?;

        let sbert_path = transformer_dir.join("sentence_bert_config.json");
        let sbert: SbertConfig = if sbert_path.is_file() {
            read_json(&sbert_path)?
        } else {
            SbertConfig::default()
        };
        let tokenizer_max_length = {
            let p = transformer_dir.join("tokenizer_config.json");
            if p.is_file() {
                let v: serde_json::Value = read_json(&p)?;
                // transformers writes a huge sentinel (1e30) for "no limit".
                v.get("model_max_length")
                    .and_then(|v| v.as_u64())
                    .filter(|&n| n <= 1 << 20)
                    .map(|n| n as usize)
            } else {
                None
            }
        };
        let pooling_config: serde_json::Value = read_json(&pooling_dir.join("config.json"))?;
        let pooling = pooling_modes(&pooling_config)?;
        let pooling_dimension = pooling_config
            .get("word_embedding_dimension")
            .or_else(|| pooling_config.get("embedding_dimension"))
            .and_then(|v| v.as_u64())
            .map(|v| v as usize);
        if pooling_config
            .get("include_prompt")
            .and_then(|v| v.as_bool())
            == Some(false)
        {
            // Prompts are never prepended here, so there is nothing to exclude.
            tracing::debug!("pooling include_prompt=false has no effect without prompts");
        }
        Ok(SentenceTransformerConfig {
            transformer_dir,
            st_max_seq_length: sbert.max_seq_length,
            tokenizer_max_length,
            do_lower_case: sbert.do_lower_case,
            pooling,
            pooling_dimension,
            normalize,
        })
    }

    /// The truncation length sentence-transformers uses: `max_seq_length`
    /// when set, else the smaller of the model's positions and the
    /// tokenizer's `model_max_length`.
    pub fn max_seq_length(&self, config: &serde_json::Value) -> Option<usize> {
        if let Some(n) = self.st_max_seq_length {
            return Some(n);
        }
        let mpe = config
            .get("max_position_embeddings")
            .and_then(|v| v.as_u64())
            .map(|v| v as usize);
        [mpe, self.tokenizer_max_length].into_iter().flatten().min()
    }
}

/// Pooling modes from a pooling config, in sentence-transformers' order.
fn pooling_modes(config: &serde_json::Value) -> Result<Vec<PoolingMode>, String> {
    let parse = |s: &str| -> Result<PoolingMode, String> {
        Ok(match s {
            "cls" => PoolingMode::Cls,
            "max" => PoolingMode::Max,
            "mean" => PoolingMode::Mean,
            "mean_sqrt_len_tokens" => PoolingMode::MeanSqrtLen,
            "weightedmean" => PoolingMode::WeightedMean,
            "lasttoken" => PoolingMode::LastToken,
            other => {
                return Err(format!(
                    "1_Pooling/config.json: unknown pooling mode {other:?}"
                ))
            }
        })
    };
    match config.get("pooling_mode") {
        Some(serde_json::Value::String(s)) => return Ok(vec![parse(s)?]),
        Some(serde_json::Value::Array(a)) => {
            let modes = a
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| "pooling_mode must hold strings".to_string())
                        .and_then(parse)
                })
                .collect::<Result<Vec<_>, _>>()?;
            if !modes.is_empty() {
                return Ok(modes);
            }
        }
        _ => {}
    }
    // Legacy booleans, in the concatenation order of sentence-transformers.
    let legacy = [
        ("pooling_mode_cls_token", PoolingMode::Cls),
        ("pooling_mode_max_tokens", PoolingMode::Max),
        ("pooling_mode_mean_tokens", PoolingMode::Mean),
        (
            "pooling_mode_mean_sqrt_len_tokens",
            PoolingMode::MeanSqrtLen,
        ),
        (
            "pooling_mode_weightedmean_tokens",
            PoolingMode::WeightedMean,
        ),
        ("pooling_mode_lasttoken", PoolingMode::LastToken),
    ];
    let modes: Vec<PoolingMode> = legacy
        .iter()
        .filter(|(k, _)| config.get(*k).and_then(|v| v.as_bool()).unwrap_or(false))
        .map(|(_, m)| *m)
        .collect();
    // sentence-transformers falls back to mean when nothing is selected.
    Ok(if modes.is_empty() {
        vec![PoolingMode::Mean]
    } else {
        modes
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn legacy_and_new_pooling_configs() {
        assert_eq!(
            pooling_modes(&j(
                r#"{"pooling_mode_cls_token":false,"pooling_mode_mean_tokens":true}"#
            ))
            .unwrap(),
            vec![PoolingMode::Mean]
        );
        assert_eq!(
            pooling_modes(&j(
                r#"{"pooling_mode_lasttoken":true,"pooling_mode_cls_token":true}"#
            ))
            .unwrap(),
            vec![PoolingMode::Cls, PoolingMode::LastToken]
        );
        assert_eq!(
            pooling_modes(&j(r#"{"pooling_mode":"lasttoken"}"#)).unwrap(),
            vec![PoolingMode::LastToken]
        );
        assert_eq!(
            pooling_modes(&j(r#"{"pooling_mode":["cls","mean"]}"#)).unwrap(),
            vec![PoolingMode::Cls, PoolingMode::Mean]
        );
        assert_eq!(pooling_modes(&j(r#"{}"#)).unwrap(), vec![PoolingMode::Mean]);
        assert!(pooling_modes(&j(r#"{"pooling_mode":"median"}"#)).is_err());
    }

    #[test]
    fn refuses_module_paths_outside_the_directory() {
        assert!(module_dir(Path::new("/m"), "../etc").is_err());
        assert!(module_dir(Path::new("/m"), "/etc").is_err());
        assert_eq!(
            module_dir(Path::new("/m"), "1_Pooling").unwrap(),
            PathBuf::from("/m/1_Pooling")
        );
        assert_eq!(
            module_dir(Path::new("/m"), "").unwrap(),
            PathBuf::from("/m")
        );
    }
}
