//! OpenAI-compatible `POST <base>/embeddings` (OpenAI itself, TEI, vLLM,
//! Ollama): `{"model", "input": [...]}` plus EMBED_TEXT's options
//! (`dimensions`, ...) passed through, answered by `{"data": [{"embedding",
//! "index"}]}`, put back in input order by `index`.

use super::http::{self, Attempt};
use super::RemoteSettings;
use crate::options::Options;
use crate::{EmbedError, Embedder};
use async_trait::async_trait;
use serde::Deserialize;

const PROVIDER: &str = "OpenAI";
const KEY_VARIABLE: &str = "TIDB_EXP_EMBED_OPENAI_API_KEY";
/// What `tidb_exp_embed_openai_api_base` reads as when empty.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

pub struct OpenAi {
    client: reqwest::Client,
    url: String,
    model: String,
    api_key: String,
    options: Options,
    settings: RemoteSettings,
}

/// Normalises an API base as TiDB does on SET: trimmed, without a trailing
/// `/` or `/embeddings`; empty means [`DEFAULT_BASE_URL`].
pub fn normalize_base(base: &str) -> String {
    let b = base.trim().trim_end_matches('/');
    let b = b
        .strip_suffix("/embeddings")
        .unwrap_or(b)
        .trim_end_matches('/');
    if b.is_empty() {
        DEFAULT_BASE_URL.to_string()
    } else {
        b.to_string()
    }
}

impl OpenAi {
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        model: &str,
        api_key: &str,
        options: Options,
        settings: RemoteSettings,
    ) -> Result<OpenAi, EmbedError> {
        if api_key.is_empty() {
            return Err(EmbedError::MissingKey {
                provider: PROVIDER,
                variable: KEY_VARIABLE,
            });
        }
        Ok(OpenAi {
            client,
            url: format!("{}/embeddings", normalize_base(base_url)),
            model: model.to_string(),
            api_key: api_key.to_string(),
            options,
            settings,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn body(&self, texts: &[String]) -> serde_json::Value {
        let mut body = self.options.clone();
        body.insert("model".into(), self.model.clone().into());
        body.insert("input".into(), texts.into());
        serde_json::Value::Object(body)
    }

    async fn attempt(&self, texts: &[String]) -> Attempt<Vec<Vec<f32>>> {
        let sent = self
            .client
            .post(&self.url)
            .bearer_auth(&self.api_key)
            .json(&self.body(texts))
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
            200..=299 => Attempt::Done(parse_response(&body, texts.len())),
            401 => Attempt::Done(Err(EmbedError::Unauthorized {
                provider: PROVIDER,
                variable: KEY_VARIABLE,
            })),
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
                        after: retry_after,
                    }
                } else {
                    Attempt::Done(Err(err))
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    embedding: Vec<f32>,
    index: Option<usize>,
}

fn parse_response(body: &[u8], expected: usize) -> Result<Vec<Vec<f32>>, EmbedError> {
    let resp: Response = match serde_json::from_slice(body) {
        Ok(r) => r,
        // Some gateways answer 200 with an error object.
        Err(e) => {
            return Err(match http::error_message(body) {
                Some(message) => EmbedError::Api {
                    provider: PROVIDER,
                    message,
                },
                None => EmbedError::Unmarshal(e.to_string()),
            })
        }
    };
    let mut items = resp.data;
    if items.len() != expected {
        return Err(EmbedError::CountMismatch {
            got: items.len(),
            expected,
        });
    }
    if items.iter().all(|i| i.index.is_some()) {
        items.sort_by_key(|i| i.index);
        if items
            .iter()
            .enumerate()
            .any(|(pos, i)| i.index != Some(pos))
        {
            return Err(EmbedError::Unmarshal(
                "embedding indexes are not 0..n".into(),
            ));
        }
    }
    let vectors: Vec<Vec<f32>> = items.into_iter().map(|i| i.embedding).collect();
    super::check_shape(PROVIDER, &vectors, expected)?;
    Ok(vectors)
}

#[async_trait]
impl Embedder for OpenAi {
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
    fn bases() {
        assert_eq!(normalize_base(""), DEFAULT_BASE_URL);
        assert_eq!(
            normalize_base(" https://x.openai.azure.com/v1/embeddings/ "),
            "https://x.openai.azure.com/v1"
        );
        assert_eq!(
            normalize_base("http://127.0.0.1:9/v1/"),
            "http://127.0.0.1:9/v1"
        );
    }

    #[test]
    fn body_passes_options_through() {
        let mut o = Options::new();
        o.insert("dimensions".into(), 256.into());
        o.insert("model".into(), "ignored".into());
        let c = OpenAi::new(
            crate::providers::http::client().unwrap(),
            "",
            "text-embedding-3-small",
            "k",
            o,
            RemoteSettings::default(),
        )
        .unwrap();
        assert_eq!(c.url(), "https://api.openai.com/v1/embeddings");
        assert_eq!(
            c.body(&["a".into()]),
            serde_json::json!({"model": "text-embedding-3-small", "input": ["a"], "dimensions": 256})
        );
        let err = OpenAi::new(
            crate::providers::http::client().unwrap(),
            "",
            "m",
            "",
            Options::new(),
            RemoteSettings::default(),
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "OpenAI API key is not configured, to configure the API key: SET @@GLOBAL.TIDB_EXP_EMBED_OPENAI_API_KEY='<API_KEY>'"
        );
    }

    #[test]
    fn responses_sorted_by_index() {
        let body = br#"{"object":"list","data":[{"embedding":[2,2],"index":1},{"embedding":[1,1],"index":0}]}"#;
        assert_eq!(
            parse_response(body, 2).unwrap(),
            vec![vec![1.0, 1.0], vec![2.0, 2.0]]
        );
        assert_eq!(
            parse_response(body, 3).unwrap_err().to_string(),
            "response data length 2 does not match input texts length 3"
        );
        let dup = br#"{"data":[{"embedding":[2],"index":0},{"embedding":[1],"index":0}]}"#;
        assert!(parse_response(dup, 2).is_err());
        assert_eq!(
            parse_response(br#"{"error":{"message":"nope"}}"#, 1)
                .unwrap_err()
                .to_string(),
            "OpenAI: nope"
        );
        assert!(parse_response(b"{}", 1)
            .unwrap_err()
            .to_string()
            .starts_with("unexpected unmarshal response error"));
    }
}
