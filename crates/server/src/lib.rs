//! tiembed's MySQL wire front end.
//!
//! [`run`] accepts connections on a listener and serves each with a
//! session of the executor's [`Engine`](tiembed_executor::Engine) until a
//! shutdown future resolves. The `tiembed` binary (`main.rs`) only reads
//! the [`config`], opens the engine and calls [`run`].
//!
//! A connection goes through three layers:
//!
//! 1. `handshake` — tiembed's own connection phase: greeting with a random
//!    salt, the upgrade to TLS after an SSLRequest (`tls`),
//!    `mysql_native_password` or `caching_sha2_password` against the
//!    configured users (`auth`; ERROR 1045), the handshake database (ERROR
//!    1049), capability negotiation.
//! 2. `guard` — an `AsyncRead` between the socket and opensrv-mysql 0.7.0
//!    that frames packets itself and hands opensrv one well-formed command
//!    at a time, answering everything opensrv would mishandle (pipelined
//!    packets, invalid UTF-8, malformed prepared-statement executions,
//!    COM_FIELD_LIST, COM_STMT_RESET, oversized packets, ...).
//! 3. `shim` — the `AsyncMysqlShim` opensrv dispatches to, which runs the
//!    statement in the session and writes the reply with tiembed's own
//!    encoders (`reply`, `wire`, `columns`), mapping errors to MySQL codes
//!    in exactly one place (`errors`).
//!
//! Protocol tests drive the same code over a [`Backend`] fake via
//! [`run_with_backend`].

mod auth;
pub mod backend;
mod columns;
pub mod config;
mod conn;
mod cursor;
pub mod errors;
mod guard;
mod handshake;
mod packet;
mod params;
mod reply;
mod server;
mod shim;
pub mod tls;
mod wire;

pub use auth::AuthPlugin;
pub use backend::{Backend, EngineBackend, SqlSession};
pub use config::{Config, ServerConfig, TlsSettings, User};
pub use server::{run, run_with_backend, ServerError};
