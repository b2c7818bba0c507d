//! The accept loop and the life of one connection.

use crate::backend::{Backend, EngineBackend};
use crate::config::ServerConfig;
use crate::conn::{Conn, ConnState, Io, Out, Shared};
use crate::guard::{Frontend, GuardReader};
use crate::handshake;
use crate::shim::Shim;
use opensrv_mysql::{AsyncMysqlIntermediary, CapabilityFlags, IntermediaryOptions};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tiembed_executor::Engine;
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("engine: {0}")]
    Engine(#[from] tiembed_types::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
}

/// Serves MySQL clients on `listener` with `engine` until `shutdown`
/// resolves; then stops accepting, lets running statements finish (at most
/// `config.shutdown_timeout`), closes every connection and shuts the engine
/// down.
pub async fn run(
    listener: TcpListener,
    engine: Arc<Engine>,
    config: ServerConfig,
    shutdown: impl Future,
) -> Result<(), ServerError> {
    run_with_backend(listener, Arc::new(EngineBackend(engine)), config, shutdown).await
}

/// [`run`] over any [`Backend`] (protocol tests use fakes).
pub async fn run_with_backend(
    listener: TcpListener,
    backend: Arc<dyn Backend>,
    config: ServerConfig,
    shutdown: impl Future,
) -> Result<(), ServerError> {
    let tls = config.tls.as_ref().map(crate::tls::acceptor).transpose()?;
    let limit = Arc::new(Semaphore::new(config.max_connections));
    let shutdown_timeout = config.shutdown_timeout;
    let shared = Arc::new(Shared::new(backend.clone(), config, tls));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);

    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    match limit.clone().try_acquire_owned() {
                        Ok(permit) => {
                            let id = shared.next_conn_id();
                            let span = tracing::info_span!("conn", id, %peer);
                            let (shared, stop) = (shared.clone(), stop_rx.clone());
                            connections.spawn(
                                async move {
                                    serve(stream, peer, id, shared, stop).await;
                                    drop(permit);
                                }
                                .instrument(span),
                            );
                        }
                        Err(_) => {
                            tracing::warn!(%peer, "too many connections");
                            connections.spawn(async move {
                                let mut io: Box<dyn Io> = Box::new(stream);
                                let _ = tokio::time::timeout(Duration::from_secs(5), handshake::refuse_too_many(&mut io)).await;
                            });
                        }
                    }
                }
                Err(e) => {
                    // EMFILE and friends: wait a little instead of spinning.
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(done) = connections.join_next(), if !connections.is_empty() => log_task_end(done),
        }
    }

    drop(listener);
    tracing::info!(
        open = connections.len(),
        "shutting down: closing connections"
    );
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(shutdown_timeout, async {
        while let Some(done) = connections.join_next().await {
            log_task_end(done);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = connections.len(),
            "statements still running after the shutdown timeout; cutting them off"
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
    backend.shutdown().await?;
    tracing::info!("shut down");
    Ok(())
}

fn log_task_end(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        if e.is_panic() {
            tracing::error!(error = %e, "connection task panicked");
        }
    }
}

/// One connection: tiembed's handshake, then opensrv's command loop behind
/// the guard.
async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    id: u32,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) {
    shared.open_connections.fetch_add(1, Ordering::Relaxed);
    serve_inner(stream, peer, id, &shared, stop).await;
    shared.open_connections.fetch_sub(1, Ordering::Relaxed);
}

async fn serve_inner(
    stream: TcpStream,
    peer: SocketAddr,
    id: u32,
    shared: &Arc<Shared>,
    stop: watch::Receiver<bool>,
) {
    let salt = crate::auth::new_salt();
    let io: Box<dyn Io> = Box::new(stream);
    let host = peer.ip().to_string();
    // The timeout covers the TLS handshake too: a client that sends
    // garbage or nothing instead of a ClientHello is cut off here.
    let login = match tokio::time::timeout(
        shared.config.handshake_timeout,
        handshake::login(io, shared, id, &salt, &host),
    )
    .await
    {
        Ok(Ok(Some(login))) => login,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!("handshake timed out");
            return;
        }
    };
    tracing::debug!(user = %login.user, tls = login.tls.is_some(), "logged in");

    let prelude =
        handshake::opensrv_prelude(&login.user, login.caps, login.collation, login.max_packet);
    let (rd, wr) = tokio::io::split(login.io);
    let conn = Arc::new(Conn {
        id,
        user: login.user,
        shared: shared.clone(),
        out: Out::new(Box::new(wr)),
        session: tokio::sync::Mutex::new(login.session),
        state: parking_lot::Mutex::new(ConnState {
            caps: login.caps.bits(),
            multi_statements: login
                .caps
                .contains(CapabilityFlags::CLIENT_MULTI_STATEMENTS),
            stmts: HashMap::new(),
            pending_exec: None,
        }),
    });
    let reader = GuardReader::new(
        prelude,
        Frontend::new(BufReader::with_capacity(16 * 1024, rd), conn.clone(), stop),
    );
    let options = IntermediaryOptions {
        // `USE db` is SQL like any other; the engine parses it properly.
        process_use_statement_on_query: true,
        reject_connection_on_dbname_absence: false,
    };
    let result = AsyncMysqlIntermediary::run_with_options(
        Shim::new(conn.clone(), salt),
        reader,
        tokio::io::sink(),
        &options,
    )
    .await;
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended with an error");
    }
    // The session is closed when `conn` is dropped (see `Conn`'s Drop),
    // which also covers a connection cut off at the shutdown timeout.
    let _ = conn.out.shutdown().await;
    tracing::debug!("closed");
}
