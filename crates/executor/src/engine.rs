//! Process-wide state: storage, the catalog, global variables, the
//! embedding registry, and the list of live connections.

use crate::ann_store::AnnStores;
use crate::session::{Session, SessionInfo};
use crate::sysvars::{self, Scope};
use crate::vector_store::VectorStores;
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use tiembed_embed::{Registry, RegistryConfig};
use tiembed_sql::VarScope;
use tiembed_storage::{MemoryStorage, Storage, Transaction};
use tiembed_types::{Catalog, Error, Result, Value};

/// How the engine is set up.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `None`: in-memory storage (tests).
    pub data_dir: Option<PathBuf>,
    pub embed: RegistryConfig,
    /// Reported by VERSION() and the handshake.
    pub version: String,
    /// Reported by @@port.
    pub port: u16,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            data_dir: None,
            embed: RegistryConfig::default(),
            version: "8.0.11-TiDB-v8.5.3-serverless".into(),
            port: 4000,
        }
    }
}

/// What SHOW PROCESSLIST shows of a connection.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    pub id: u32,
    pub user: String,
    pub db: Option<String>,
}

/// Process-wide state shared by all sessions.
pub struct Engine {
    pub(crate) config: EngineConfig,
    pub(crate) storage: Arc<dyn Storage>,
    /// Copy-on-write: statements take a snapshot; DDL swaps in a new one.
    catalog: RwLock<Arc<Catalog>>,
    /// Serialises DDL so catalog changes never interleave.
    pub(crate) ddl_lock: Mutex<()>,
    /// GLOBAL values that differ from the defaults (persisted).
    globals: RwLock<BTreeMap<String, String>>,
    pub(crate) registry: Arc<Registry>,
    pub(crate) connections: Mutex<HashMap<u32, ConnectionInfo>>,
    /// In-memory vector columns that vector searches rank by.
    pub(crate) vector_stores: VectorStores,
    /// The HNSW graphs of vector indexes.
    pub(crate) ann: Arc<AnnStores>,
}

impl Engine {
    /// Opens storage, loads the catalog and persisted globals.
    pub async fn open(config: EngineConfig) -> Result<Arc<Engine>> {
        let storage: Arc<dyn Storage> = match &config.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::other(format!("cannot create data dir {}: {e}", dir.display()))
                })?;
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || tiembed_storage::open_sled(&dir))
                    .await
                    .map_err(Error::internal)??
            }
            None => Arc::new(MemoryStorage::new()),
        };
        let catalog = tiembed_storage::load_catalog(storage.as_ref())?;
        let globals = tiembed_storage::load_global_sysvars(storage.as_ref())?;
        let registry = Registry::new(config.embed.clone());
        for (k, v) in &globals {
            if k.starts_with("tidb_exp_embed_") {
                registry.set_variable(k, v);
            }
        }
        tracing::info!(
            tables = catalog
                .databases
                .values()
                .map(|d| d.tables.len())
                .sum::<usize>(),
            "engine opened"
        );
        let ann = Arc::new(AnnStores::new(storage.clone(), config.data_dir.as_deref()));
        ann.open_all(&catalog);
        Ok(Arc::new(Engine {
            config,
            storage,
            catalog: RwLock::new(Arc::new(catalog)),
            ddl_lock: Mutex::new(()),
            globals: RwLock::new(globals),
            registry,
            connections: Mutex::new(HashMap::new()),
            vector_stores: VectorStores::default(),
            ann,
        }))
    }

    pub fn version(&self) -> &str {
        &self.config.version
    }

    pub fn database_exists(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case("information_schema") || self.catalog().database(name).is_some()
    }

    pub fn new_session(self: &Arc<Self>, connection_id: u32, user: &str) -> Session {
        self.connections.lock().insert(
            connection_id,
            ConnectionInfo {
                id: connection_id,
                user: user.to_string(),
                db: None,
            },
        );
        Session::new(self.clone(), connection_id, user)
    }

    /// Flushes storage; called on graceful shutdown.
    pub async fn shutdown(&self) -> Result<()> {
        let storage = self.storage.clone();
        let ann = self.ann.clone();
        tokio::task::spawn_blocking(move || {
            ann.save_all();
            storage.flush()
        })
        .await
        .map_err(Error::internal)??;
        Ok(())
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().clone()
    }

    pub(crate) fn set_catalog(&self, c: Catalog) {
        let c = Arc::new(c);
        *self.catalog.write() = c.clone();
        self.ann.catalog_changed(&c);
        // Columns of dropped or altered tables are no longer reachable.
        self.vector_stores.retain(|t| {
            c.databases.values().any(|d| {
                d.tables
                    .values()
                    .any(|live| live.id == t.id && live.columns == t.columns)
            })
        });
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    pub(crate) fn new_txn(&self) -> Transaction {
        Transaction::new(self.storage.clone())
    }

    pub(crate) fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// Commits a transaction (blocking) and brings the in-memory vector
    /// columns up to date before the client hears of it.
    pub(crate) fn commit(&self, mut txn: Transaction) -> Result<()> {
        let _gate = self.ann.commit_gate();
        let touched = self.vector_stores.touched_rows(&txn);
        let indexed = self.ann.prepare_commit(&mut txn);
        // Vector indexes take the commit before anything else changes them.
        let locks: Vec<_> = indexed.iter().map(|(e, _)| e.lock_writer()).collect();
        txn.commit()?;
        self.ann.apply_commit(&indexed);
        drop(locks);
        self.ann.after_commit(indexed);
        self.vector_stores
            .apply_commit(self.storage.as_ref(), touched);
        Ok(())
    }

    /// Current GLOBAL value of a variable as stored (defaults applied).
    pub(crate) fn global_value(&self, var: &sysvars::Var) -> String {
        if let Some(v) = self.globals.read().get(var.name) {
            return v.clone();
        }
        match var.name {
            "version" => self.config.version.clone(),
            "port" => self.config.port.to_string(),
            "tidb_version" => crate::session::tidb_version_text(&self.config.version),
            "datadir" => self
                .config
                .data_dir
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            _ => var.default.to_string(),
        }
    }

    /// SET GLOBAL: validated, persisted durably, applied.
    pub(crate) fn set_global(
        &self,
        var: &'static sysvars::Var,
        value: Option<String>,
    ) -> Result<()> {
        let write = tiembed_storage::sysvar_write(var.name, value.as_deref());
        self.storage.commit(vec![write])?;
        {
            let mut g = self.globals.write();
            match &value {
                Some(v) => g.insert(var.name.to_string(), v.clone()),
                None => g.remove(var.name),
            };
        }
        if var.name.starts_with("tidb_exp_embed_") {
            self.registry
                .set_variable(var.name, value.as_deref().unwrap_or(""));
        }
        Ok(())
    }

    /// `@@x`, `@@session.x`, `@@global.x` for a session.
    pub(crate) fn read_sysvar(
        &self,
        info: &SessionInfo,
        name: &str,
        scope: VarScope,
    ) -> Result<Value> {
        let var =
            sysvars::lookup(name).ok_or_else(|| Error::UnknownSystemVariable(name.to_string()))?;
        let stored = match (scope, var.scope) {
            (VarScope::Global, Scope::SessionOnly) => {
                return Err(Error::other(format!(
                    "Variable '{}' is a SESSION variable",
                    var.name
                )))
            }
            (VarScope::Session, Scope::GlobalOnly) => {
                return Err(Error::other(format!(
                    "Variable '{}' is a GLOBAL variable",
                    var.name
                )))
            }
            (VarScope::Global, _) | (_, Scope::GlobalOnly) => self.global_value(var),
            _ => info
                .session_value(var)
                .unwrap_or_else(|| self.global_value(var)),
        };
        Ok(sysvars::read(var, &stored))
    }
}
