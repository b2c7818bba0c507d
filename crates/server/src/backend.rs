//! What the wire front end needs from the SQL side, as object-safe traits.
//!
//! The product implements them with the executor's `Engine`/`Session`
//! ([`EngineBackend`]); protocol tests implement them with small fakes so
//! that every packet the server writes can be checked against known
//! outputs, independent of the SQL engine.

use async_trait::async_trait;
use std::sync::Arc;
use tiembed_executor::{ColumnInfo, Engine, Output, PreparedInfo, Session, StatusFlags};
use tiembed_types::{Result, Value};

/// Process-wide SQL state: hands out sessions.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    fn new_session(&self, connection_id: u32, user: &str) -> Box<dyn SqlSession>;
    /// Flushes storage; called once, after the last connection closed.
    async fn shutdown(&self) -> Result<()>;
}

/// One connection's SQL state (mirrors `tiembed_executor::Session`).
#[async_trait]
pub trait SqlSession: Send {
    /// Runs the statements in `sql`; execution stops at the first error,
    /// which is then the last element.
    async fn execute(&mut self, sql: &str, multi: bool) -> Vec<Result<Output>>;
    async fn prepare(&mut self, sql: &str) -> Result<PreparedInfo>;
    async fn execute_prepared(&mut self, id: u32, params: Vec<Value>) -> Result<Output>;
    fn close_prepared(&mut self, id: u32);
    fn use_database(&mut self, db: &str) -> Result<()>;
    fn field_list(&self, table: &str) -> Result<Vec<ColumnInfo>>;
    fn set_found_rows(&mut self, on: bool);
    /// The connection runs over TLS: `SHOW STATUS` reports these as
    /// `Ssl_version` and `Ssl_cipher`.
    fn set_tls(&mut self, version: &str, cipher: &str) {
        let _ = (version, cipher);
    }
    fn status(&self) -> StatusFlags;
    fn warning_count(&self) -> u16;
    /// Rolls back an open transaction; called when the connection ends.
    fn close(&mut self);
}

/// The product backend: the executor's engine.
pub struct EngineBackend(pub Arc<Engine>);

#[async_trait]
impl Backend for EngineBackend {
    fn new_session(&self, connection_id: u32, user: &str) -> Box<dyn SqlSession> {
        Box::new(self.0.new_session(connection_id, user))
    }

    async fn shutdown(&self) -> Result<()> {
        self.0.shutdown().await
    }
}

#[async_trait]
impl SqlSession for Session {
    async fn execute(&mut self, sql: &str, multi: bool) -> Vec<Result<Output>> {
        Session::execute(self, sql, multi).await
    }
    async fn prepare(&mut self, sql: &str) -> Result<PreparedInfo> {
        Session::prepare(self, sql).await
    }
    async fn execute_prepared(&mut self, id: u32, params: Vec<Value>) -> Result<Output> {
        Session::execute_prepared(self, id, params).await
    }
    fn close_prepared(&mut self, id: u32) {
        Session::close_prepared(self, id)
    }
    fn use_database(&mut self, db: &str) -> Result<()> {
        Session::use_database(self, db)
    }
    fn field_list(&self, table: &str) -> Result<Vec<ColumnInfo>> {
        Session::field_list(self, table)
    }
    fn set_found_rows(&mut self, on: bool) {
        Session::set_found_rows(self, on)
    }
    fn set_tls(&mut self, version: &str, cipher: &str) {
        Session::set_tls(self, version, cipher)
    }
    fn status(&self) -> StatusFlags {
        Session::status(self)
    }
    fn warning_count(&self) -> u16 {
        Session::warning_count(self)
    }
    fn close(&mut self) {
        Session::close(self)
    }
}
