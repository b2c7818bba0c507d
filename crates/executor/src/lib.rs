//! The shared executor: runs SQL text for a session against storage and the
//! embedding registry.
//!
//! [`Engine`] is the process-wide state (storage, catalog, global variables,
//! embedding registry); a [`Session`] is one connection's state (current
//! database, session variables, open transaction, prepared statements,
//! warnings). The server crate drives a session per connection and turns
//! [`Output`]s and errors into packets; everything SQL-level, including the
//! probes drivers send on connect, is answered here.

mod api;
pub mod eval;

pub use api::{ColumnInfo, Engine, EngineConfig, Output, PreparedInfo, ResultSet, Session, StatusFlags};
