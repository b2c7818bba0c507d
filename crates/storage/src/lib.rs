//! Durable storage for tiembed.
//!
//! Layers, bottom up:
//! - [`Storage`]: a small key-value trait over named keyspaces (one per
//!   table, plus `meta` for the catalog and persisted global variables) with
//!   atomic, durable multi-keyspace commits. Two backends: [`SledStorage`]
//!   (the product) and [`MemoryStorage`] (tests).
//! - [`codec`]: memcomparable key encoding and the compact row encoding.
//! - [`Transaction`]: a session's buffered writes over a backend, with
//!   read-your-writes, statement savepoints and an atomic commit.
//! - [`table`]: rows and their indexes in terms of a [`TableDef`]:
//!   insert/update/delete with duplicate-key checks, point and range lookups.
//!
//! The storage crate knows the catalog types but never sees SQL text.

pub mod codec;
mod error;
mod memory;
mod sled_backend;
pub mod table;
mod txn;

pub use error::StorageError;
pub use memory::MemoryStorage;
pub use sled_backend::SledStorage;
pub use txn::{Savepoint, Transaction};

use std::ops::Bound;
use std::sync::Arc;
use tiembed_types::{Catalog, TableDef};

/// Identifies a keyspace: a table's rows and index entries, or the metadata space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Space {
    Meta,
    Table(u64),
}

/// One buffered write.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub space: Space,
    pub key: Vec<u8>,
    /// `None` deletes the key.
    pub value: Option<Vec<u8>>,
    /// The commit fails with a duplicate-key error if the key exists at
    /// commit time (INSERT of a primary/unique key racing another session).
    pub must_be_absent: bool,
}

pub type KvPair = (Vec<u8>, Vec<u8>);
pub type KvIter<'a> = Box<dyn Iterator<Item = Result<KvPair, StorageError>> + Send + 'a>;

/// The backend contract. Reads see committed data only; a [`Transaction`]
/// overlays its own writes.
pub trait Storage: Send + Sync + 'static {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// Keys within the bounds, ascending (or descending when `reverse`).
    fn scan(&self, space: Space, start: Bound<Vec<u8>>, end: Bound<Vec<u8>>, reverse: bool)
        -> Result<KvIter<'_>, StorageError>;

    /// Applies all writes atomically, then returns once they are durable
    /// (survive `kill -9`; sled files are fsynced). Concurrent commits may
    /// share one flush. Blocking: call from a blocking thread.
    fn commit(&self, writes: Vec<Write>) -> Result<(), StorageError>;

    /// Removes a dropped table's keyspace. Table ids are never reused, so
    /// leftovers after a crash are unreachable, never wrong.
    fn drop_space(&self, space: Space) -> Result<(), StorageError>;

    /// Flushes everything (shutdown).
    fn flush(&self) -> Result<(), StorageError>;
}

/// Meta keys used by the engine.
pub mod meta_keys {
    pub const FORMAT_VERSION: &[u8] = b"format_version";
    pub const CATALOG: &[u8] = b"catalog";
    /// Prefix of persisted GLOBAL system variables: `sysvar/<lowercase name>`.
    pub const SYSVAR_PREFIX: &[u8] = b"sysvar/";
    /// Prefix of AUTO_INCREMENT counters: `autoinc/<table id BE>`.
    pub const AUTOINC_PREFIX: &[u8] = b"autoinc/";
}

/// The on-disk format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Opens a backend and checks its format version (initialising an empty one).
pub fn open_sled(dir: &std::path::Path) -> Result<Arc<dyn Storage>, StorageError> {
    Ok(Arc::new(SledStorage::open(dir)?))
}

/// Loads the catalog from `meta` (an empty one, with database `test`, on a fresh store).
pub fn load_catalog(storage: &dyn Storage) -> Result<Catalog, StorageError> {
    todo!("storage helper: read meta_keys::CATALOG, create `test` on first start")
}

/// The write that persists `catalog` (commit it together with the data
/// writes of the same DDL statement).
pub fn catalog_write(catalog: &Catalog) -> Write {
    todo!("storage helper")
}

#[allow(unused)]
fn _assert_object_safe(_: &dyn Storage, _: &TableDef) {}
