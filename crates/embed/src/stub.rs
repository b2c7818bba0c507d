//! A stand-in for the HuggingFace feature-extraction API and an
//! OpenAI-compatible `/v1/embeddings`, for tests (feature `stub`).
//!
//! A tiny HTTP/1.1 server on `127.0.0.1:0` (keep-alive, `Content-Length`
//! bodies). Routes: `POST /models/<model>/pipeline/feature-extraction`
//! (HF), `POST /embed` (TEI, the model named ""), `POST /v1/embeddings`
//! and `/embeddings` (OpenAI). Vectors are [`hash_embed`](crate::providers::mock::hash_embed)
//! of the text at the model's dimension, the same as `mock/hash-<dim>`, so
//! texts sharing words are near each other. Failures are scripted: each
//! [`Script`] pushed answers one request, in order, before normal service
//! resumes. Every request is recorded, so tests can count calls and batch
//! sizes. [`Stub::hold`] keeps answers back until [`Stub::release`], so a
//! test can see requests pile up without depending on timing.
//!
//! ```no_run
//! # async fn f() -> std::io::Result<()> {
//! use tiembed_embed::stub::{Script, Stub, StubConfig};
//! let stub = Stub::start(StubConfig::new().model("sentence-transformers/all-MiniLM-L6-v2", 384)).await?;
//! stub.push(Script::Unauthorized);
//! // point huggingface_base_url at stub.base_url(), openai's at stub.openai_base_url()
//! assert_eq!(stub.request_count(), 0);
//! # Ok(()) }
//! ```

use crate::providers::mock::hash_embed;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the stub serves.
#[derive(Debug, Clone)]
pub struct StubConfig {
    /// Dimension per model name (as in the URL or the `model` field).
    pub models: HashMap<String, usize>,
    /// Dimension for models not listed; `None` makes them 404.
    pub default_dim: Option<usize>,
    /// When set, requests must carry `Authorization: Bearer <key>` or get 401.
    pub api_key: Option<String>,
    /// Delay before every answer, so concurrent calls can pile up.
    pub latency: Duration,
}

impl Default for StubConfig {
    fn default() -> Self {
        StubConfig {
            models: HashMap::new(),
            default_dim: Some(8),
            api_key: None,
            latency: Duration::ZERO,
        }
    }
}

impl StubConfig {
    pub fn new() -> StubConfig {
        StubConfig::default()
    }

    pub fn model(mut self, name: &str, dim: usize) -> StubConfig {
        self.models.insert(name.to_string(), dim);
        self
    }

    /// Only the listed models exist; others answer 404.
    pub fn only_listed_models(mut self) -> StubConfig {
        self.default_dim = None;
        self
    }

    pub fn default_dim(mut self, dim: usize) -> StubConfig {
        self.default_dim = Some(dim);
        self
    }

    pub fn api_key(mut self, key: &str) -> StubConfig {
        self.api_key = Some(key.to_string());
        self
    }

    pub fn latency(mut self, latency: Duration) -> StubConfig {
        self.latency = latency;
        self
    }
}

/// One scripted answer, used for the next request instead of normal service.
#[derive(Debug, Clone)]
pub enum Script {
    /// 401 with the API's "invalid credentials" body.
    Unauthorized,
    /// 404 as for an unknown model.
    NotFound,
    /// 429 with `Retry-After` (seconds, fractional for short waits).
    RateLimited { retry_after: Duration },
    /// 429 without `Retry-After`.
    RateLimitedNoHint,
    /// 503 "model is loading" with `estimated_time` (seconds).
    Loading { estimated_time: Duration },
    /// Answers normally after this delay (longer than the client's timeout
    /// makes a timeout).
    Slow(Duration),
    /// 200 with a body that is not a list of vectors.
    Malformed,
    /// 200 with one vector fewer than texts sent.
    WrongCount,
    /// Any status and raw body.
    Status(u16, String),
}

/// Which API a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    HuggingFace,
    OpenAi,
    Other,
}

/// A request as the stub saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub api: Api,
    pub path: String,
    pub model: String,
    pub texts: Vec<String>,
    pub authorization: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct Shared {
    scripts: VecDeque<Script>,
    requests: Vec<Request>,
}

/// What the server tasks and the [`Stub`] handle share.
struct Inner {
    config: StubConfig,
    shared: Mutex<Shared>,
    /// True while answers are held back.
    held: tokio::sync::watch::Sender<bool>,
    /// Requests received and not yet answered.
    in_flight: AtomicUsize,
}

impl Inner {
    fn new(config: StubConfig) -> Arc<Inner> {
        Arc::new(Inner {
            config,
            shared: Mutex::new(Shared::default()),
            held: tokio::sync::watch::Sender::new(false),
            in_flight: AtomicUsize::new(0),
        })
    }
}

enum Guard {
    Task(tokio::task::JoinHandle<()>),
    Thread(Option<tokio::sync::oneshot::Sender<()>>),
}

/// A running stub server; stops when dropped.
pub struct Stub {
    addr: SocketAddr,
    inner: Arc<Inner>,
    guard: Guard,
}

impl Drop for Stub {
    fn drop(&mut self) {
        match &mut self.guard {
            Guard::Task(t) => t.abort(),
            Guard::Thread(tx) => {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
            }
        }
    }
}

impl Stub {
    /// Starts the stub on the current tokio runtime.
    pub async fn start(config: StubConfig) -> std::io::Result<Stub> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let inner = Inner::new(config);
        let task = tokio::spawn(serve(listener, inner.clone()));
        Ok(Stub {
            addr,
            inner,
            guard: Guard::Task(task),
        })
    }

    /// Starts the stub on its own thread and runtime, for tests that are
    /// not async or whose runtime blocks.
    pub fn start_in_thread(config: StubConfig) -> std::io::Result<Stub> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let inner = Inner::new(config);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread_inner = inner.clone();
        std::thread::Builder::new()
            .name("embed-stub".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(std_listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = serve(listener, thread_inner) => {}
                        _ = rx => {}
                    }
                })
            })?;
        Ok(Stub {
            addr,
            inner,
            guard: Guard::Thread(Some(tx)),
        })
    }

    /// `http://127.0.0.1:<port>`: the HuggingFace base URL (requests go to
    /// `<base>/models/<model>/pipeline/feature-extraction`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `<base_url>/v1`: the OpenAI-compatible base URL.
    pub fn openai_base_url(&self) -> String {
        format!("{}/v1", self.base_url())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a scripted answer for the next unscripted request.
    pub fn push(&self, script: Script) {
        self.inner.shared.lock().scripts.push_back(script);
    }

    /// Holds every answer back (requests are still received and recorded)
    /// until [`Stub::release`].
    pub fn hold(&self) {
        self.inner.held.send_replace(true);
    }

    /// Sends the held answers and stops holding.
    pub fn release(&self) {
        self.inner.held.send_replace(false);
    }

    /// Requests received and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::SeqCst)
    }

    /// Requests received so far (scripted ones included).
    pub fn request_count(&self) -> usize {
        self.inner.shared.lock().requests.len()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.inner.shared.lock().requests.clone()
    }

    /// Texts per request, in arrival order.
    pub fn batch_sizes(&self) -> Vec<usize> {
        self.inner
            .shared
            .lock()
            .requests
            .iter()
            .map(|r| r.texts.len())
            .collect()
    }

    /// Texts received over all requests.
    pub fn texts_received(&self) -> usize {
        self.inner
            .shared
            .lock()
            .requests
            .iter()
            .map(|r| r.texts.len())
            .sum()
    }

    /// Forgets recorded requests and pending scripts.
    pub fn reset(&self) {
        let mut s = self.inner.shared.lock();
        s.requests.clear();
        s.scripts.clear();
    }

    /// The vector the stub answers for `text` at `dim` dimensions.
    pub fn vector(text: &str, dim: usize) -> Vec<f32> {
        hash_embed(text, dim)
    }
}

async fn serve(listener: TcpListener, inner: Arc<Inner>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(connection(stream, inner.clone()));
    }
}

/// A parsed HTTP request.
struct Http {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Http {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }
}

async fn connection(mut stream: TcpStream, inner: Arc<Inner>) {
    let mut buf = Vec::new();
    loop {
        let req = match read_request(&mut stream, &mut buf).await {
            Ok(Some(r)) => r,
            _ => return,
        };
        inner.in_flight.fetch_add(1, Ordering::SeqCst);
        let (reply, delay) = answer(&req, &inner.config, &inner.shared);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut held = inner.held.subscribe();
        let _ = held.wait_for(|h| !*h).await;
        inner.in_flight.fetch_sub(1, Ordering::SeqCst);
        if write_reply(&mut stream, reply).await.is_err() {
            return;
        }
    }
}

/// Reads one request; `Ok(None)` when the peer closed between requests.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<Http>> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        if buf.len() > 64 * 1024 {
            return Err(bad("header too large"));
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(bad("truncated request"))
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split_whitespace();
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    buf.drain(..head_end + 4);
    while buf.len() < len {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(bad("truncated body"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body: Vec<u8> = buf.drain(..len).collect();
    Ok(Some(Http {
        method,
        path,
        headers,
        body,
    }))
}

async fn write_reply(stream: &mut TcpStream, reply: Reply) -> std::io::Result<()> {
    let reason = match reply.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&reply.body);
    stream.write_all(out.as_bytes()).await?;
    stream.flush().await
}

/// Texts of an `inputs`/`input` field: a string or a list of strings.
fn texts_of(v: Option<&Value>) -> Option<(Vec<String>, bool)> {
    match v? {
        Value::String(s) => Some((vec![s.clone()], true)),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(|t| (t, false)),
        _ => None,
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The reply to `req` and how long to wait before sending it.
fn answer(req: &Http, config: &StubConfig, shared: &Mutex<Shared>) -> (Reply, Duration) {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let hf_model = req
        .path
        .strip_prefix("/models/")
        .and_then(|p| p.strip_suffix("/pipeline/feature-extraction"))
        .map(percent_decode);
    // TEI's native route: the HF body, one model per server.
    let hf_model = if req.path == "/embed" {
        Some(String::new())
    } else {
        hf_model
    };
    let api = match (&hf_model, req.path.as_str()) {
        (Some(_), _) if req.method == "POST" => Api::HuggingFace,
        (None, "/v1/embeddings" | "/embeddings") if req.method == "POST" => Api::OpenAi,
        _ => Api::Other,
    };
    let model = match api {
        Api::HuggingFace => hf_model.unwrap_or_default(),
        _ => body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    };
    let field = if api == Api::HuggingFace {
        "inputs"
    } else {
        "input"
    };
    let parsed = texts_of(body.get(field));
    let texts = parsed.as_ref().map(|(t, _)| t.clone()).unwrap_or_default();
    let script = {
        let mut s = shared.lock();
        s.requests.push(Request {
            api,
            path: req.path.clone(),
            model: model.clone(),
            texts: texts.clone(),
            authorization: req.header("authorization").map(str::to_string),
            body: body.clone(),
        });
        if api == Api::Other {
            None
        } else {
            s.scripts.pop_front()
        }
    };
    let error = |status: u16, message: &str| -> Reply {
        match api {
            Api::OpenAi => Reply::json(
                status,
                json!({"error": {"message": message, "type": "invalid_request_error", "code": null}}),
            ),
            _ => Reply::json(status, json!({"error": message})),
        }
    };
    let mut delay = config.latency;
    let mut shape = None;
    match script {
        None => {}
        Some(Script::Unauthorized) => {
            return (
                error(401, "Invalid credentials in Authorization header"),
                delay,
            )
        }
        Some(Script::NotFound) => {
            return (error(404, &format!("Model {model} does not exist")), delay)
        }
        Some(Script::RateLimited { retry_after }) => {
            let mut r = error(429, "Rate limit reached, please retry later");
            r.headers.push((
                "retry-after".into(),
                format!("{}", retry_after.as_secs_f64()),
            ));
            return (r, delay);
        }
        Some(Script::RateLimitedNoHint) => {
            return (error(429, "Rate limit reached, please retry later"), delay)
        }
        Some(Script::Loading { estimated_time }) => {
            let body = json!({"error": format!("Model {model} is currently loading"), "estimated_time": estimated_time.as_secs_f64()});
            return (Reply::json(503, body), delay);
        }
        Some(Script::Status(status, body)) => {
            return (
                Reply {
                    status,
                    headers: Vec::new(),
                    body,
                },
                delay,
            )
        }
        Some(Script::Slow(d)) => delay += d,
        Some(Script::Malformed) => {
            return (
                Reply {
                    status: 200,
                    headers: Vec::new(),
                    body: "{\"vectors\": [oops".into(),
                },
                delay,
            )
        }
        Some(Script::WrongCount) => shape = Some(()),
    }
    if api == Api::Other {
        return (Reply::json(404, json!({"error": "Not Found"})), delay);
    }
    if let Some(key) = &config.api_key {
        if req.header("authorization") != Some(format!("Bearer {key}").as_str()) {
            let message = match api {
                Api::OpenAi => "Incorrect API key provided",
                _ => "Invalid credentials in Authorization header",
            };
            return (error(401, message), delay);
        }
    }
    let Some(dim) = config.models.get(&model).copied().or(config.default_dim) else {
        let message = match api {
            Api::OpenAi => format!("The model `{model}` does not exist"),
            _ => "Not Found".to_string(),
        };
        return (error(404, &message), delay);
    };
    let Some((mut texts, single)) = parsed else {
        return (error(400, &format!("missing or invalid `{field}`")), delay);
    };
    if shape.is_some() {
        texts.pop();
    }
    let reply = match api {
        Api::HuggingFace => {
            let vectors: Vec<Vec<f32>> = texts.iter().map(|t| hash_embed(t, dim)).collect();
            if single && vectors.len() == 1 {
                Reply::json(200, json!(vectors[0]))
            } else {
                Reply::json(200, json!(vectors))
            }
        }
        _ => {
            let dim = body
                .get("dimensions")
                .and_then(Value::as_u64)
                .map_or(dim, |d| d as usize);
            // Reversed, so clients must order by `index`.
            let data: Vec<Value> = texts
                .iter()
                .enumerate()
                .rev()
                .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": hash_embed(t, dim)}))
                .collect();
            Reply::json(
                200,
                json!({"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": 0, "total_tokens": 0}}),
            )
        }
    };
    (reply, delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_paths() {
        assert_eq!(percent_decode("a%20b/c"), "a b/c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
    }

    #[tokio::test]
    async fn answers_hf_and_openai() {
        let stub = Stub::start(StubConfig::new().model("org/m", 4).only_listed_models())
            .await
            .unwrap();
        let c = crate::providers::http::client().unwrap();
        let hf = c
            .post(format!(
                "{}/models/org/m/pipeline/feature-extraction",
                stub.base_url()
            ))
            .json(&json!({"inputs": ["a b", "c"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(hf.status(), 200);
        let v: Vec<Vec<f32>> = hf.json().await.unwrap();
        assert_eq!(v, vec![hash_embed("a b", 4), hash_embed("c", 4)]);
        let oa = c
            .post(format!("{}/embeddings", stub.openai_base_url()))
            .json(&json!({"model": "org/m", "input": ["x", "y"], "dimensions": 3}))
            .send()
            .await
            .unwrap();
        let v: Value = oa.json().await.unwrap();
        assert_eq!(v["data"][0]["index"], 1);
        assert_eq!(v["data"][0]["embedding"].as_array().unwrap().len(), 3);
        let missing = c
            .post(format!(
                "{}/models/x/y/pipeline/feature-extraction",
                stub.base_url()
            ))
            .json(&json!({"inputs": ["a"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        assert_eq!(stub.request_count(), 3);
        assert_eq!(stub.batch_sizes(), vec![2, 2, 1]);
    }

    #[test]
    fn runs_in_its_own_thread() {
        let stub = Stub::start_in_thread(StubConfig::new()).unwrap();
        stub.push(Script::Status(500, "{}".into()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let status = rt.block_on(async {
            crate::providers::http::client()
                .unwrap()
                .post(format!(
                    "{}/models/a/pipeline/feature-extraction",
                    stub.base_url()
                ))
                .json(&json!({"inputs": ["a"]}))
                .send()
                .await
                .unwrap()
                .status()
        });
        assert_eq!(status, 500);
        assert_eq!(stub.request_count(), 1);
    }
}
