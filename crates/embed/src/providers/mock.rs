//! Deterministic embedders for tests, reached as provider `mock`:
//!
//! - `mock/json` (TiDB's own mock): the text is a JSON array of numbers and
//!   is returned as the vector, each element plus the option `plus`.
//! - `mock/hash-<dim>`: bag-of-words hashing. Lower-cased words (runs of
//!   letters and digits) are hashed (FNV-1a) into `<dim>` buckets and the
//!   counts L2-normalised, so texts sharing words are closer in cosine
//!   distance. No network, no weights, the same vector on every machine.

use crate::options::Options;
use crate::{EmbedError, Embedder};
use async_trait::async_trait;

/// TiDB's limit on vector dimensions.
const MAX_DIM: usize = 16383;

pub enum Mock {
    Json { plus: f64 },
    Hash { dim: usize },
}

impl Mock {
    /// `model` is the part after `mock/`.
    pub fn new(model: &str, options: Option<&Options>) -> Result<Mock, EmbedError> {
        if model == "json" {
            let plus = match options.and_then(|o| o.get("plus")) {
                None | Some(serde_json::Value::Null) => 0.0,
                Some(v) => v.as_f64().ok_or_else(|| {
                    EmbedError::Provider(format!("mock: option plus must be a number, got {v}"))
                })?,
            };
            return Ok(Mock::Json { plus });
        }
        if let Some(dim) = model
            .strip_prefix("hash-")
            .and_then(|d| d.parse::<usize>().ok())
        {
            if (1..=MAX_DIM).contains(&dim) {
                return Ok(Mock::Hash { dim });
            }
        }
        Err(EmbedError::Provider(format!(
            "mock model '{model}' does not exist, use mock/json or mock/hash-<dimensions> (1..{MAX_DIM})"
        )))
    }

    fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        match self {
            Mock::Json { plus } => {
                let v: Vec<f64> = serde_json::from_str(text).map_err(|e| {
                    EmbedError::Provider(format!("mock: text is not a JSON array of numbers: {e}"))
                })?;
                Ok(v.into_iter().map(|x| (x + plus) as f32).collect())
            }
            Mock::Hash { dim } => Ok(hash_embed(text, *dim)),
        }
    }
}

/// The `mock/hash-<dim>` vector of `text`; the test stub server answers
/// with the same function.
pub fn hash_embed(text: &str, dim: usize) -> Vec<f32> {
    let dim = dim.max(1);
    let mut v = vec![0f32; dim];
    let mut any = false;
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        any = true;
        v[bucket(&word.to_lowercase(), dim)] += 1.0;
    }
    if !any {
        // No words (empty or punctuation only): still a unit vector, so
        // cosine distance stays defined.
        v[bucket(text, dim)] = 1.0;
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn bucket(word: &str, dim: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in word.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % dim as u64) as usize
}

#[async_trait]
impl Embedder for Mock {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        texts.iter().map(|t| self.embed_one(t)).collect()
    }

    fn max_batch(&self) -> usize {
        1024
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[tokio::test]
    async fn json_with_plus() {
        let mut o = Options::new();
        o.insert("plus".into(), serde_json::json!(0.5));
        let m = Mock::new("json", Some(&o)).unwrap();
        assert_eq!(
            m.embed(&["[1, 2.5]".into()]).await.unwrap(),
            vec![vec![1.5, 3.0]]
        );
        assert!(m.embed(&["abc".into()]).await.is_err());
        assert!(Mock::new("json", None).is_ok());
    }

    #[test]
    fn unknown_models() {
        for m in ["hash", "hash-0", "hash-x", "hash-99999", "other"] {
            assert!(Mock::new(m, None).is_err(), "{m}");
        }
    }

    #[test]
    fn hash_is_deterministic_normalised_and_word_based() {
        let a = hash_embed("Java coffee beans", 64);
        assert_eq!(a, hash_embed("java, COFFEE  beans!", 64));
        assert!((cos(&a, &a) - 1.0).abs() < 1e-6);
        let near = hash_embed("dark roast java beans", 64);
        let far = hash_embed("android syntax apps", 64);
        assert!(cos(&a, &near) > cos(&a, &far));
        let empty = hash_embed("", 8);
        assert!((cos(&empty, &empty) - 1.0).abs() < 1e-6);
        // Fixed values guard against an accidental change of the function,
        // which would silently change expected rows in SQL tests
        // (FNV-1a: hello, world -> bucket 3 of 4; java -> 5, coffee -> 1 of 8).
        assert_eq!(hash_embed("hello world", 4), vec![0.0, 0.0, 0.0, 1.0]);
        let s = 0.5f32.sqrt();
        assert_eq!(
            hash_embed("Java coffee", 8),
            vec![0.0, s, 0.0, 0.0, 0.0, s, 0.0, 0.0]
        );
    }
}
