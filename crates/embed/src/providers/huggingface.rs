//! The HuggingFace Inference API (provider `hf-inference`, task
//! feature-extraction), which a self-hosted text-embeddings-inference
//! server also answers: `POST <base>/models/<model>/pipeline/feature-extraction`
//! with `{"inputs": [...]}` and a Bearer key, answered by `[[f32; dim]; n]`.
//! A base URL ending in `/embed` is a text-embeddings-inference server's
//! native route (same body and answer, one model per server) and is used
//! as it is. Options are not forwarded, as in TiDB.

use super::http::{self, Attempt};
use super::RemoteSettings;
use crate::{EmbedError, Embedder};
use async_trait::async_trait;

const PROVIDER: &str = "HuggingFace";
const KEY_VARIABLE: &str = "TIDB_EXP_EMBED_HUGGINGFACE_API_KEY";
/// The retired serverless host; it now answers 404/410 for everything.
const LEGACY_HOST: &str = "api-inference.huggingface.co";
pub const DEFAULT_BASE_URL: &str = "https://router.huggingface.co/hf-inference";

pub struct HuggingFace {
    client: reqwest::Client,
    url: String,
    model: String,
    api_key: String,
    settings: RemoteSettings,
}

impl HuggingFace {
    /// A client for `model` behind `base_url`. An empty key is TiDB's
    /// missing-key error, before any request.
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        model: &str,
        api_key: &str,
        settings: RemoteSettings,
    ) -> Result<HuggingFace, EmbedError> {
        if api_key.is_empty() {
            return Err(EmbedError::MissingKey {
                provider: PROVIDER,
                variable: KEY_VARIABLE,
            });
        }
        let base = base_url.trim().trim_end_matches('/');
        if base.contains(LEGACY_HOST) {
            return Err(EmbedError::Api {
                provider: PROVIDER,
                message: format!(
                    "the API base {base} is retired, configure {DEFAULT_BASE_URL} instead"
                ),
            });
        }
        let url = if base.ends_with("/embed") {
            base.to_string()
        } else {
            format!(
                "{base}/models/{}/pipeline/feature-extraction",
                super::encode_path(model)
            )
        };
        Ok(HuggingFace {
            client,
            url,
            model: model.to_string(),
            api_key: api_key.to_string(),
            settings,
        })
    }

    /// The endpoint requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn attempt(&self, texts: &[String]) -> Attempt<Vec<Vec<f32>>> {
        let sent = self
            .client
            .post(&self.url)
            .bearer_auth(&self.api_key)
            .json(&serde_json::json!({ "inputs": texts }))
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => return http::send_error(PROVIDER, e, self.settings.retry.request_timeout),
        };
        let status = resp.status().as_u16();
        let retry_after = http::retry_after(resp.headers());
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return http::send_error(PROVIDER, e, self.settings.retry.request_timeout),
        };
        match status {
            200..=299 => Attempt::Done(parse_vectors(&body, texts.len())),
            401 => Attempt::Done(Err(EmbedError::Unauthorized {
                provider: PROVIDER,
                variable: KEY_VARIABLE,
            })),
            404 => Attempt::Done(Err(EmbedError::ModelNotFound(self.model.clone()))),
            _ => {
                let err = match http::error_message(&body) {
                    Some(message) => EmbedError::Api {
                        provider: PROVIDER,
                        message,
                    },
                    None => EmbedError::Status {
                        provider: PROVIDER,
                        status,
                    },
                };
                if crate::error::retryable_status(status) {
                    Attempt::Retry {
                        err,
                        after: retry_after.or_else(|| http::estimated_time(&body)),
                    }
                } else {
                    Attempt::Done(Err(err))
                }
            }
        }
    }
}

/// `[[f32]]` with one row per input. A flat `[f32]` is accepted for a
/// single input (some servers answer so); deeper (token-level) output is
/// an unmarshal error, as in TiDB.
fn parse_vectors(body: &[u8], expected: usize) -> Result<Vec<Vec<f32>>, EmbedError> {
    let vectors = match serde_json::from_slice::<Vec<Vec<f32>>>(body) {
        Ok(v) => v,
        Err(e) => match serde_json::from_slice::<Vec<f32>>(body) {
            Ok(flat) if expected == 1 && !flat.is_empty() => vec![flat],
            _ => return Err(EmbedError::Unmarshal(e.to_string())),
        },
    };
    super::check_shape(PROVIDER, &vectors, expected)?;
    Ok(vectors)
}

#[async_trait]
impl Embedder for HuggingFace {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.max_batch()) {
            out.extend(
                http::with_retries(PROVIDER, &self.settings.retry, || self.attempt(chunk)).await?,
            );
        }
        Ok(out)
    }

    fn max_batch(&self) -> usize {
        self.settings.batch_size.max(1)
    }

    fn max_concurrency(&self) -> usize {
        self.settings.concurrency.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_and_missing_key() {
        let c = crate::providers::http::client().unwrap();
        let hf = HuggingFace::new(
            c.clone(),
            "https://h/hf-inference/",
            "BAAI/bge-m3",
            "k",
            RemoteSettings::default(),
        )
        .unwrap();
        assert_eq!(
            hf.url(),
            "https://h/hf-inference/models/BAAI/bge-m3/pipeline/feature-extraction"
        );
        let tei = HuggingFace::new(
            c.clone(),
            "http://tei:8080/embed",
            "BAAI/bge-m3",
            "k",
            RemoteSettings::default(),
        )
        .unwrap();
        assert_eq!(tei.url(), "http://tei:8080/embed");
        let err = HuggingFace::new(
            c.clone(),
            DEFAULT_BASE_URL,
            "m/x",
            "",
            RemoteSettings::default(),
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "HuggingFace API key is not configured, to configure the API key: SET @@GLOBAL.TIDB_EXP_EMBED_HUGGINGFACE_API_KEY='<API_KEY>'"
        );
        assert!(HuggingFace::new(
            c,
            "https://api-inference.huggingface.co",
            "m/x",
            "k",
            RemoteSettings::default()
        )
        .is_err());
    }

    #[test]
    fn shapes() {
        assert_eq!(
            parse_vectors(b"[[1,2],[3,4.5]]", 2).unwrap(),
            vec![vec![1.0, 2.0], vec![3.0, 4.5]]
        );
        assert_eq!(parse_vectors(b"[1,2]", 1).unwrap(), vec![vec![1.0, 2.0]]);
        assert_eq!(
            parse_vectors(b"[[1,2]]", 2).unwrap_err().to_string(),
            "response data length 1 does not match input texts length 2"
        );
        let deep = parse_vectors(b"[[[1,2]]]", 1).unwrap_err().to_string();
        assert!(
            deep.starts_with("unexpected unmarshal response error: "),
            "{deep}"
        );
        assert!(parse_vectors(b"not json", 1)
            .unwrap_err()
            .to_string()
            .starts_with("unexpected unmarshal response error: "));
        assert!(parse_vectors(b"[[1,2],[3]]", 2).is_err());
        assert!(parse_vectors(b"[[]]", 1).is_err());
    }
}
