//! Test support for tiembed: start a real server on a free loopback port
//! (in-memory or on a data directory) and talk to it with a real driver.
//!
//! Used by the sqllogictest suite (`tests/slt/*.slt`, run by
//! `tests/tests/slt.rs`) and the wire-level integration tests.

pub mod slt;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tiembed_executor::{Engine, EngineConfig};
use tiembed_server::ServerConfig;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A tiembed server running inside the test process.
pub struct TestServer {
    pub addr: SocketAddr,
    pub engine: Arc<Engine>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// The repository's `models/` directory (where `scripts/fetch-models.sh` puts weights).
pub fn repo_models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("models")
}

/// Whether the real all-MiniLM-L6-v2 weights are present.
pub fn minilm_available() -> bool {
    repo_models_dir()
        .join("sentence-transformers/all-MiniLM-L6-v2/model.safetensors")
        .exists()
}

/// Default engine settings for tests: in memory, models from the repo.
pub fn test_engine_config() -> EngineConfig {
    let mut cfg = EngineConfig::default();
    cfg.embed.models_dir = repo_models_dir();
    cfg
}

impl TestServer {
    /// An in-memory server with the repo's models directory.
    pub async fn start() -> TestServer {
        Self::start_with(test_engine_config()).await
    }

    pub async fn start_with(config: EngineConfig) -> TestServer {
        let engine = Engine::open(config).await.expect("engine opens");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let e = engine.clone();
        let task = tokio::spawn(async move {
            let _ = tiembed_server::run(listener, e, ServerConfig::default(), async {
                let _ = stopped.await;
            })
            .await;
        });
        TestServer {
            addr,
            engine,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `mysql://root@127.0.0.1:<port>/<db>`.
    pub fn url(&self, db: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{}", self.addr.port(), db)
    }

    /// A mysql_async connection to `db`.
    pub async fn connect(&self, db: &str) -> mysql_async::Conn {
        mysql_async::Conn::from_url(self.url(db))
            .await
            .expect("connect")
    }

    /// Stops accepting, waits for the server task to finish.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}
