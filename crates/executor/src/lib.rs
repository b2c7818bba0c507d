//! The shared executor: runs SQL text for a session against storage and the
//! embedding registry.
//!
//! [`Engine`] is the process-wide state (storage, catalog, global variables,
//! embedding registry); a [`Session`] is one connection's state (current
//! database, session variables, open transaction, prepared statements,
//! warnings). The server crate drives a session per connection and turns
//! [`Output`]s and errors into packets; everything SQL-level, including the
//! probes drivers send on connect, is answered here.
//!
//! Statements run synchronously inside `block_in_place` (storage reads are
//! in-memory and cheap; commits and embedding calls block on a worker
//! thread), so the server must use tokio's multi-threaded runtime.
//!
//! Modules: `session` dispatches statements, reusing bound SELECT plans
//! through `plan_cache`; `exec` runs plans (`lookup_join` fetches a join's
//! matches through a key); `dml`/`ddl`/`show` implement statement
//! families; [`eval`] evaluates expressions; `coerce` converts values for
//! storage; `embedding` connects EMBED_TEXT to the registry; `sysvars`
//! defines system variables; `topk` runs `ORDER BY ... LIMIT n`, vector
//! searches through the in-memory vector columns of `vector_store`.

mod ann_store;
mod api;
mod coerce;
mod ddl;
mod dml;
mod embedding;
mod engine;
pub mod eval;
mod exec;
mod lookup_join;
mod plan_cache;
mod session;
mod show;
mod sysvars;
mod topk;
mod vector_store;

pub use api::{ColumnInfo, Output, PreparedInfo, ResultSet, StatusFlags};
pub use engine::{Engine, EngineConfig};
pub use session::Session;

/// SHOW WARNINGS code for an error recorded without one (the MySQL code
/// mapping lives in the server; 1105 is TiDB's catch-all).
pub(crate) fn error_code_hint(_msg: &str) -> u16 {
    1105
}
