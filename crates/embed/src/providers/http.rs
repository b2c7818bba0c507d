//! What the HTTP providers share: the client, the retry loop with jittered
//! exponential backoff inside a deadline, and reading error bodies.

use crate::EmbedError;
use rand::Rng;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How one batch's requests are timed and retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Limit for one HTTP request (sending it and reading the answer).
    pub request_timeout: Duration,
    /// Limit for all attempts of one batch together.
    pub deadline: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// First backoff; doubled per attempt, jittered, capped at `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            request_timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(60),
            max_attempts: 6,
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// The result of one attempt.
pub(crate) enum Attempt<T> {
    Done(Result<T, EmbedError>),
    /// Worth another try; `after` is the server's own hint (Retry-After,
    /// `estimated_time`), used instead of the backoff when present.
    Retry {
        err: EmbedError,
        after: Option<Duration>,
    },
}

tokio::task_local! {
    /// When the statements a batch serves stop waiting for it (set by the
    /// batcher around the provider call); without it, `policy.deadline`
    /// from the first attempt.
    pub(crate) static BATCH_DEADLINE: Instant;
}

/// Runs `attempt` until it is done, attempts run out, or the next try
/// could not finish before the deadline. Each attempt is given the time it
/// may take (the request timeout, clipped to what is left of the deadline)
/// and is cut off after it with a [`EmbedError::Timeout`].
pub(crate) async fn with_retries<T, F, Fut>(
    provider: &'static str,
    policy: &RetryPolicy,
    mut attempt: F,
) -> Result<T, EmbedError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let deadline = BATCH_DEADLINE
        .try_with(|d| *d)
        .unwrap_or_else(|_| Instant::now() + policy.deadline);
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        let limit = policy.request_timeout.min(left);
        let outcome = match tokio::time::timeout(limit, attempt()).await {
            Ok(outcome) => outcome,
            Err(_) => Attempt::Retry {
                err: EmbedError::Timeout {
                    provider,
                    after: limit,
                },
                after: None,
            },
        };
        let (err, hint) = match outcome {
            Attempt::Done(result) => return result,
            Attempt::Retry { err, after } => (err, after),
        };
        let wait = hint.unwrap_or_else(|| backoff(policy, attempts));
        let left = deadline.saturating_duration_since(Instant::now());
        if policy.max_attempts <= 1 {
            return Err(err);
        }
        if attempts >= policy.max_attempts {
            tracing::debug!(provider, attempts, error = %err, "embedding request gave up: attempts exhausted");
            return Err(EmbedError::RetriesExhausted {
                last: Box::new(err),
                attempts,
            });
        }
        if wait >= left {
            tracing::debug!(provider, attempts, error = %err, "embedding request gave up: deadline");
            return Err(EmbedError::DeadlineExceeded {
                last: Box::new(err),
                attempts,
                deadline: policy.deadline,
            });
        }
        tracing::debug!(provider, attempts, wait_ms = wait.as_millis() as u64, error = %err, "retrying embedding request");
        tokio::time::sleep(wait).await;
    }
}

/// Full-jitter-ish exponential backoff: a random point in the upper half
/// of `base * 2^(n-1)`, so concurrent clients spread out but never retry
/// at once.
fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exp = policy
        .base_backoff
        .saturating_mul(1u32 << (attempt - 1).min(16));
    let cap = exp.min(policy.max_backoff);
    let factor: f64 = rand::rng().random_range(0.5..=1.0);
    cap.mul_f64(factor)
}

/// `Retry-After` in seconds (fractions accepted, for tests); HTTP dates are
/// ignored and leave the backoff in charge.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let secs: f64 = v.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

/// The message of an error body: `{"error": "..."}` (HF, TEI), `{"error":
/// ["..", ".."]}`, `{"error": {"message": ".."}}` (OpenAI), `{"message": ..}`
/// (TEI's OpenAI route) or `{"detail": ..}` (some gateways).
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = |v: &serde_json::Value| -> Option<String> {
        match v {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Array(items) => {
                let parts: Vec<&str> = items.iter().filter_map(|x| x.as_str()).collect();
                (!parts.is_empty()).then(|| parts.join("; "))
            }
            serde_json::Value::Object(m) => m
                .get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string),
            _ => None,
        }
    };
    let obj = v.as_object()?;
    ["error", "message", "detail"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(text))
}

/// `estimated_time` (seconds) of HF's 503 "model is loading" body.
pub(crate) fn estimated_time(body: &[u8]) -> Option<Duration> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let secs = v.get("estimated_time")?.as_f64()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

/// Maps a failed send to a retryable or final error.
pub(crate) fn send_error<T>(
    provider: &'static str,
    e: reqwest::Error,
    timeout: Duration,
) -> Attempt<T> {
    if e.is_timeout() {
        Attempt::Retry {
            err: EmbedError::Timeout {
                provider,
                after: timeout,
            },
            after: None,
        }
    } else if e.is_connect() || e.is_request() || e.is_body() {
        Attempt::Retry {
            err: EmbedError::Transport {
                provider,
                message: error_chain(&e),
            },
            after: None,
        }
    } else {
        Attempt::Done(Err(EmbedError::Transport {
            provider,
            message: error_chain(&e),
        }))
    }
}

/// `e` and its sources on one line: reqwest's own text alone says little
/// ("error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Builds the process's HTTP client. rustls is compiled without a default
/// crypto provider, so install ring's first (a no-op when one is set).
pub(crate) fn client() -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("tiembed/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| error_chain(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast() -> RetryPolicy {
        RetryPolicy {
            request_timeout: Duration::from_millis(200),
            deadline: Duration::from_secs(2),
            max_attempts: 4,
            base_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
        }
    }

    #[tokio::test]
    async fn retries_until_success() {
        let n = AtomicU32::new(0);
        let r = with_retries("P", &fast(), || async {
            if n.fetch_add(1, Ordering::SeqCst) < 2 {
                Attempt::Retry {
                    err: EmbedError::Status {
                        provider: "P",
                        status: 503,
                    },
                    after: None,
                }
            } else {
                Attempt::Done(Ok(7))
            }
        })
        .await;
        assert_eq!(r, Ok(7));
        assert_eq!(n.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn stops_after_max_attempts() {
        let n = AtomicU32::new(0);
        let r: Result<(), _> = with_retries("P", &fast(), || async {
            n.fetch_add(1, Ordering::SeqCst);
            Attempt::Retry {
                err: EmbedError::Status {
                    provider: "P",
                    status: 429,
                },
                after: None,
            }
        })
        .await;
        assert_eq!(n.load(Ordering::SeqCst), 4);
        match r {
            Err(EmbedError::RetriesExhausted { last, attempts: 4 }) => {
                assert_eq!(
                    *last,
                    EmbedError::Status {
                        provider: "P",
                        status: 429
                    }
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_hint_beyond_the_deadline_gives_up_at_once() {
        let n = AtomicU32::new(0);
        let r: Result<(), _> = with_retries("P", &fast(), || async {
            n.fetch_add(1, Ordering::SeqCst);
            Attempt::Retry {
                err: EmbedError::Status {
                    provider: "P",
                    status: 503,
                },
                after: Some(Duration::from_secs(30)),
            }
        })
        .await;
        assert!(matches!(
            r,
            Err(EmbedError::DeadlineExceeded { attempts: 1, .. })
        ));
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_slow_attempt_times_out() {
        let r: Result<(), _> = with_retries("P", &fast(), || async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Attempt::Done(Ok(()))
        })
        .await;
        assert!(matches!(r.unwrap_err().root(), EmbedError::Timeout { .. }));
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            error_message(br#"{"error":"Model X is loading","estimated_time":2.5}"#).as_deref(),
            Some("Model X is loading")
        );
        assert_eq!(
            error_message(br#"{"error":["a","b"]}"#).as_deref(),
            Some("a; b")
        );
        assert_eq!(
            error_message(br#"{"error":{"message":"bad key","type":"x"}}"#).as_deref(),
            Some("bad key")
        );
        assert_eq!(
            error_message(br#"{"message":"m","code":1}"#).as_deref(),
            Some("m")
        );
        assert_eq!(error_message(b"<html>"), None);
        assert_eq!(
            estimated_time(br#"{"error":"x","estimated_time":2.5}"#),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(estimated_time(br#"{"error":"x"}"#), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            ..fast()
        };
        for _ in 0..20 {
            let b1 = backoff(&p, 1);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
            let b3 = backoff(&p, 3);
            assert!(b3 >= Duration::from_millis(200) && b3 <= Duration::from_millis(400));
            assert!(backoff(&p, 30) <= Duration::from_millis(1000));
        }
    }
}
