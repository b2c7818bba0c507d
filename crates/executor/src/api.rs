//! Public surface used by the server. (Skeleton: bodies land with the engine.)

use std::path::PathBuf;
use std::sync::Arc;
use tiembed_types::{DataType, Result, Value};

/// How the engine is set up.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `None`: in-memory storage (tests).
    pub data_dir: Option<PathBuf>,
    pub embed: tiembed_embed::RegistryConfig,
    /// Reported by VERSION() and the handshake.
    pub version: String,
}

/// Process-wide state shared by all sessions.
pub struct Engine {
    _config: EngineConfig,
}

impl Engine {
    /// Opens storage, loads the catalog and persisted globals.
    pub async fn open(config: EngineConfig) -> Result<Arc<Engine>> {
        Ok(Arc::new(Engine { _config: config }))
    }

    pub fn version(&self) -> &str {
        &self._config.version
    }

    pub fn database_exists(&self, _name: &str) -> bool {
        todo!()
    }

    pub fn new_session(self: &Arc<Self>, connection_id: u32, user: &str) -> Session {
        let _ = (connection_id, user);
        todo!()
    }

    /// Flushes storage; called on graceful shutdown.
    pub async fn shutdown(&self) -> Result<()> {
        todo!()
    }
}

/// Metadata of one result column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    /// Label the client sees (alias or expression text).
    pub name: String,
    pub org_name: String,
    pub table: String,
    pub org_table: String,
    pub db: String,
    /// Drives the wire type: VECTOR is sent as a long text column.
    pub data_type: DataType,
    pub nullable: bool,
    pub primary_key: bool,
    pub auto_increment: bool,
    /// Fractional digits shown (DECIMAL scale, fsp); 31 = not fixed.
    pub decimals: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResultSet {
    pub columns: Vec<ColumnInfo>,
    pub rows: Vec<Vec<Value>>,
}

/// What one statement produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Rows(ResultSet),
    Ok { affected_rows: u64, last_insert_id: u64, info: String },
}

/// Server status bits the OK/EOF packets carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusFlags {
    pub autocommit: bool,
    pub in_transaction: bool,
}

/// What COM_STMT_PREPARE answers.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedInfo {
    pub id: u32,
    pub param_count: usize,
    pub columns: Vec<ColumnInfo>,
}

/// One connection's state.
pub struct Session {
    _engine: Arc<Engine>,
}

impl Session {
    /// Runs the statements in `sql`. With `multi` false, text holding more
    /// than one statement is an error. Execution stops at the first error,
    /// which is the last element.
    pub async fn execute(&mut self, sql: &str, multi: bool) -> Vec<Result<Output>> {
        let _ = (sql, multi);
        todo!()
    }

    pub async fn prepare(&mut self, sql: &str) -> Result<PreparedInfo> {
        let _ = sql;
        todo!()
    }

    pub async fn execute_prepared(&mut self, id: u32, params: Vec<Value>) -> Result<Output> {
        let _ = (id, params);
        todo!()
    }

    pub fn close_prepared(&mut self, id: u32) {
        let _ = id;
        todo!()
    }

    /// COM_INIT_DB / handshake database.
    pub fn use_database(&mut self, db: &str) -> Result<()> {
        let _ = db;
        todo!()
    }

    /// COM_FIELD_LIST: the table's columns (errors as DESCRIBE's).
    pub fn field_list(&self, table: &str) -> Result<Vec<ColumnInfo>> {
        let _ = table;
        todo!()
    }

    /// Whether the client asked for CLIENT_FOUND_ROWS (matched, not changed, rows).
    pub fn set_found_rows(&mut self, on: bool) {
        let _ = on;
        todo!()
    }

    pub fn status(&self) -> StatusFlags {
        todo!()
    }

    /// Warnings left by the last statement (the OK/EOF warning count).
    pub fn warning_count(&self) -> u16 {
        todo!()
    }

    /// Rolls back an open transaction; called when the connection drops.
    pub fn close(&mut self) {}
}
