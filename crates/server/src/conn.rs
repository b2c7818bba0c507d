//! Per-connection state shared by the guard in front of opensrv and the
//! shim behind it, and the server-wide state they both see.
//!
//! Only one of them runs at a time (opensrv awaits the shim, and asks the
//! guard for the next command only after the previous one is answered), so
//! the locks here are never contended; they exist to share, not to wait.

use crate::auth::{RsaKeys, Sha2Cache};
use crate::backend::{Backend, SqlSession};
use crate::config::ServerConfig;
use crate::packet::Framer;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;
use tiembed_types::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;

/// A client transport: TCP, or TLS over TCP after the SSLRequest.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

/// Server-wide state.
pub struct Shared {
    pub backend: Arc<dyn Backend>,
    pub config: ServerConfig,
    /// Built from `config.tls` at start-up; `None`: TLS is not offered.
    pub tls: Option<TlsAcceptor>,
    pub sha2_cache: Sha2Cache,
    /// Made on the first full `caching_sha2_password` authentication over
    /// plain TCP that asks for the public key.
    pub rsa_keys: tokio::sync::OnceCell<Arc<RsaKeys>>,
    next_conn_id: AtomicU32,
    pub started: Instant,
    /// Statements received (COM_QUERY and COM_STMT_EXECUTE), for COM_STATISTICS.
    pub questions: AtomicU64,
    pub open_connections: AtomicU64,
}

impl Shared {
    pub fn new(
        backend: Arc<dyn Backend>,
        config: ServerConfig,
        tls: Option<TlsAcceptor>,
    ) -> Shared {
        Shared {
            backend,
            config,
            tls,
            sha2_cache: Sha2Cache::default(),
            rsa_keys: tokio::sync::OnceCell::new(),
            next_conn_id: AtomicU32::new(1),
            started: Instant::now(),
            questions: AtomicU64::new(0),
            open_connections: AtomicU64::new(0),
        }
    }

    /// Connection ids start at 1 and never repeat within a server's life
    /// (0 is skipped on wrap-around: clients treat it as "no id").
    pub fn next_conn_id(&self) -> u32 {
        loop {
            let id = self.next_conn_id.fetch_add(1, Ordering::Relaxed);
            if id != 0 {
                return id;
            }
        }
    }

    /// The RSA key pair, generated (off the async threads) on first use.
    pub async fn rsa_keys(&self) -> Result<Arc<RsaKeys>, String> {
        self.rsa_keys
            .get_or_try_init(|| async {
                tokio::task::spawn_blocking(RsaKeys::generate)
                    .await
                    .map_err(|e| e.to_string())?
                    .map(Arc::new)
            })
            .await
            .cloned()
    }
}

/// What the server knows about one prepared statement at the protocol level.
#[derive(Debug, Default)]
pub struct StmtMeta {
    pub params: u16,
    /// Parameter types from the last execution that sent them: a client may
    /// omit them on later executions ("new params bound" = 0).
    pub types: Option<Vec<(u8, bool)>>,
    /// COM_STMT_SEND_LONG_DATA chunks by parameter index, until the next execution.
    pub long_data: HashMap<u16, Vec<u8>>,
}

/// Mutable per-connection protocol state.
#[derive(Debug)]
pub struct ConnState {
    /// Capability flags both sides agreed on.
    pub caps: u32,
    /// CLIENT_MULTI_STATEMENTS, or COM_SET_OPTION since.
    pub multi_statements: bool,
    pub stmts: HashMap<u32, StmtMeta>,
    /// Parameters of the COM_STMT_EXECUTE being handed to opensrv, decoded
    /// and validated by the guard.
    pub pending_exec: Option<Vec<Value>>,
}

pub struct Conn {
    pub id: u32,
    pub user: String,
    pub shared: Arc<Shared>,
    pub out: Out,
    pub session: tokio::sync::Mutex<Box<dyn SqlSession>>,
    pub state: Mutex<ConnState>,
}

impl Drop for Conn {
    /// However the connection ends (client gone, QUIT, error, or its task
    /// aborted at the shutdown timeout), the session rolls back what is open.
    fn drop(&mut self) {
        self.session.get_mut().close();
    }
}

impl Conn {
    pub fn caps(&self) -> u32 {
        self.state.lock().caps
    }

    pub fn deprecate_eof(&self) -> bool {
        self.caps() & opensrv_mysql::CapabilityFlags::CLIENT_DEPRECATE_EOF.bits() != 0
    }
}

/// The connection's output: replies are framed into a buffer and written
/// out by `flush`. Shared (cheaply cloned) between guard and shim.
#[derive(Clone)]
pub struct Out(Arc<Mutex<OutBuf>>);

pub struct OutBuf {
    io: Box<dyn AsyncWrite + Unpin + Send>,
    buf: Vec<u8>,
    written: usize,
    /// Sequence id of the next packet.
    pub seq: u8,
}

/// Flushing starts once this much is buffered while rows are being written.
pub const FLUSH_THRESHOLD: usize = 256 * 1024;

impl Out {
    pub fn new(io: Box<dyn AsyncWrite + Unpin + Send>) -> Out {
        Out(Arc::new(Mutex::new(OutBuf {
            io,
            buf: Vec::with_capacity(16 * 1024),
            written: 0,
            seq: 0,
        })))
    }

    pub fn lock(&self) -> parking_lot::MutexGuard<'_, OutBuf> {
        self.0.lock()
    }

    /// Writes everything buffered to the client. The lock is taken per poll,
    /// never held across an await.
    pub async fn flush(&self) -> io::Result<()> {
        poll_fn(|cx| self.0.lock().poll_flush(cx)).await
    }

    pub async fn shutdown(&self) -> io::Result<()> {
        self.flush().await?;
        poll_fn(|cx| Pin::new(&mut self.0.lock().io).poll_shutdown(cx)).await
    }
}

impl OutBuf {
    /// Appends one packet whose payload `f` writes.
    pub fn packet(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        let mut framer = Framer::begin(&mut self.buf);
        f(framer.payload());
        framer.finish(&mut self.seq);
    }

    pub fn buffered(&self) -> usize {
        self.buf.len() - self.written
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.buf[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.buf.clear();
        self.written = 0;
        // Do not keep a large result's buffer around for the connection's life.
        if self.buf.capacity() > 4 * FLUSH_THRESHOLD {
            self.buf.shrink_to(16 * 1024);
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }
}
