//! Finding a model's directory on disk. The model name comes from SQL
//! (`EMBED_TEXT("huggingface/<org>/<name>", ...)`), so it is checked to be a
//! plain relative name before it touches a path.

use std::path::{Path, PathBuf};

/// Where the weights of `model_name` (`org/name` or `name`) are, if any:
/// `<models_dir>/<org>/<name>`, `<models_dir>/<name>`, or a HuggingFace hub
/// cache layout `models--<org>--<name>/snapshots/<rev>/` under `hf_cache`
/// (or its `hub/` subfolder) or under `models_dir`. A directory counts when
/// it holds `config.json`, `tokenizer.json` and weights (possibly in a
/// Transformer module subfolder named by `modules.json`).
pub fn find_model_dir(
    model_name: &str,
    models_dir: &Path,
    hf_cache: Option<&Path>,
) -> Option<PathBuf> {
    let parts = name_parts(model_name)?;
    let mut candidates = vec![parts
        .iter()
        .fold(models_dir.to_path_buf(), |p, c| p.join(c))];
    if parts.len() > 1 {
        candidates.push(models_dir.join(parts[parts.len() - 1]));
    }
    if let Some(found) = candidates.into_iter().find(|d| is_model_dir(d)) {
        return Some(found);
    }
    let repo = format!("models--{}", parts.join("--"));
    let mut caches: Vec<PathBuf> = Vec::new();
    if let Some(c) = hf_cache {
        caches.push(c.to_path_buf());
        caches.push(c.join("hub"));
    }
    caches.push(models_dir.to_path_buf());
    caches.iter().find_map(|c| hub_snapshot(&c.join(&repo)))
}

/// Splits `org/name` into path components, or `None` when the name could
/// escape the models directory or is not a plausible hub id.
fn name_parts(model_name: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = model_name.split('/').collect();
    let ok = |p: &&str| {
        !p.is_empty()
            && *p != "."
            && *p != ".."
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (parts.len() <= 2 && parts.iter().all(ok)).then_some(parts)
}

/// The snapshot `refs/main` points at, else the newest complete one.
fn hub_snapshot(repo: &Path) -> Option<PathBuf> {
    let snapshots = repo.join("snapshots");
    if let Ok(rev) = std::fs::read_to_string(repo.join("refs").join("main")) {
        let rev = rev.trim();
        if name_parts(rev).is_some_and(|p| p.len() == 1) {
            let d = snapshots.join(rev);
            if is_model_dir(&d) {
                return Some(d);
            }
        }
    }
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&snapshots)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|d| is_model_dir(d))
        .map(|d| {
            (
                std::fs::metadata(&d)
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH),
                d,
            )
        })
        .collect();
    found.sort();
    found.pop().map(|(_, d)| d)
}

/// Whether `dir` looks loadable: modules.json plus a transformer directory
/// with config, tokenizer and weights.
fn is_model_dir(dir: &Path) -> bool {
    if !dir.join("modules.json").is_file() {
        return false;
    }
    let transformer = transformer_subdir(dir).unwrap_or_else(|| dir.to_path_buf());
    transformer.join("config.json").is_file()
        && transformer.join("tokenizer.json").is_file()
        && [
            "model.safetensors",
            "model.safetensors.index.json",
            "pytorch_model.bin",
        ]
        .iter()
        .any(|w| transformer.join(w).is_file())
}

/// The first module's path from modules.json when it is a subfolder.
fn transformer_subdir(dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dir.join("modules.json")).ok()?;
    let modules: serde_json::Value = serde_json::from_str(&text).ok()?;
    let path = modules.get(0)?.get("path")?.as_str()?;
    if path.is_empty() {
        return None;
    }
    let p = Path::new(path);
    p.components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
        .then(|| dir.join(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_model(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        for f in [
            "modules.json",
            "config.json",
            "tokenizer.json",
            "model.safetensors",
        ] {
            std::fs::write(dir.join(f), b"[]").unwrap();
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tiembed-locate-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn finds_org_name_then_bare_name() {
        let root = scratch("plain");
        fake_model(&root.join("sentence-transformers/all-MiniLM-L6-v2"));
        fake_model(&root.join("bge-m3"));
        assert_eq!(
            find_model_dir("sentence-transformers/all-MiniLM-L6-v2", &root, None),
            Some(root.join("sentence-transformers/all-MiniLM-L6-v2"))
        );
        assert_eq!(
            find_model_dir("BAAI/bge-m3", &root, None),
            Some(root.join("bge-m3"))
        );
        assert_eq!(find_model_dir("BAAI/other", &root, None), None);
        // Incomplete directory: no weights.
        std::fs::create_dir_all(root.join("x/y")).unwrap();
        std::fs::write(root.join("x/y/config.json"), b"{}").unwrap();
        assert_eq!(find_model_dir("x/y", &root, None), None);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn finds_hub_cache_snapshots() {
        let root = scratch("hub");
        let cache = root.join("hf");
        let repo = cache.join("hub/models--intfloat--multilingual-e5-large");
        fake_model(&repo.join("snapshots/abc123"));
        fake_model(&repo.join("snapshots/def456"));
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), "abc123\n").unwrap();
        assert_eq!(
            find_model_dir(
                "intfloat/multilingual-e5-large",
                &root.join("models"),
                Some(&cache)
            ),
            Some(repo.join("snapshots/abc123"))
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn refuses_names_that_leave_the_models_dir() {
        let root = scratch("escape");
        fake_model(&root.join("inside"));
        let models = root.join("models");
        std::fs::create_dir_all(&models).unwrap();
        for bad in [
            "../inside",
            "a/../../inside",
            "/etc",
            "a//b",
            "a/b/c",
            "..",
            "a\\b",
            "",
        ] {
            assert_eq!(find_model_dir(bad, &models, None), None, "{bad}");
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
