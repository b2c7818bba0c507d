//! Durable storage for tiembed.
//!
//! Layers, bottom up:
//! - [`Storage`]: a small key-value trait over keyspaces ([`Space`]: one per
//!   table, plus `Meta` for the catalog, persisted global variables and
//!   counters) with atomic, durable multi-keyspace commits and durable id
//!   counters. Two backends: [`SledStorage`] (the product) and
//!   [`MemoryStorage`] (tests, `data_dir = None`).
//! - [`codec`]: memcomparable key encoding (with per-collation string
//!   weights, also usable by the executor for comparisons) and the compact
//!   row encoding.
//! - [`Transaction`]: a session's buffered writes over a backend, with
//!   read-your-writes, statement savepoints and one atomic, durable commit.
//! - [`table`]: rows and their indexes in terms of a [`TableDef`]:
//!   insert/update/delete with TiDB's duplicate-key errors, point, prefix and
//!   range lookups, AUTO_INCREMENT.
//! - [`load_catalog`] / [`catalog_write`] and [`load_global_sysvars`] /
//!   [`sysvar_write`]: the metadata the engine persists in `Meta`, written
//!   through the same commits as data so DDL is atomic.
//!
//! Typical use by the executor:
//! ```
//! use std::sync::Arc;
//! use tiembed_storage::{table, MemoryStorage, Storage, Transaction};
//! use tiembed_types::{TableDef, Value};
//! # fn def() -> TableDef { serde_json::from_str(r#"{"id":1,"db":"test","name":"t",
//! #   "columns":[{"name":"id","data_type":{"Int":{"width":"Int","unsigned":false}},"nullable":false,
//! #     "default":null,"auto_increment":false,"comment":null,"collation":"Utf8mb4Bin","generated":null,
//! #     "on_update_now":false}],
//! #   "indexes":[{"id":1,"name":"PRIMARY","kind":"Primary","columns":["id"],"comment":null}],
//! #   "foreign_keys":[],"comment":null,"collation":"Utf8mb4Bin","tiflash_replica":0,"next_index_id":2}"#).unwrap() }
//! let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
//! let t: TableDef = def(); // from the catalog
//! let mut txn = Transaction::new(storage.clone());
//! let sp = txn.savepoint(); // before each statement
//! if let Err(e) = table::insert_row(&mut txn, &t, &[Value::Int(1)]) {
//!     txn.rollback_to(sp); // the statement's writes vanish, earlier ones stay
//!     return Err(e.into());
//! }
//! let err = table::insert_row(&mut txn, &t, &[Value::Int(1)]).unwrap_err();
//! assert_eq!(err.to_string(), "Duplicate entry '1' for key 't.PRIMARY'");
//! txn.commit()?; // one atomic, durable commit (blocking: use spawn_blocking)
//! # Ok::<(), tiembed_types::Error>(())
//! ```
//!
//! At a glance (all blocking; run on `spawn_blocking` from async code):
//! - open: [`open_sled`]`(dir)` / [`SledStorage::open`] / [`MemoryStorage::new`];
//!   then [`load_catalog`] and [`load_global_sysvars`]; on shutdown
//!   [`Storage::flush`].
//! - per session: [`Transaction::new`], `get`/`scan`/`put`/`delete`/
//!   `put_if_absent`/`apply`, [`Transaction::savepoint`] +
//!   [`Transaction::rollback_to`] per statement, `commit()` / `rollback()`.
//! - rows: [`table::insert_row`], [`table::find_conflicts`] (REPLACE, ON
//!   DUPLICATE KEY UPDATE), [`table::update_row`], [`table::delete_row`],
//!   [`table::get_by_primary_key`], [`table::get_row`], [`table::scan_rows`],
//!   [`table::index_lookup`], [`table::index_range`]; DDL helpers
//!   [`table::add_index_entry`], [`table::drop_index_entries`],
//!   [`table::rewrite_row`], [`Storage::drop_space`]; AUTO_INCREMENT
//!   [`table::allocate_auto_increment`], [`table::rebase_auto_increment`].
//! - metadata writes: [`catalog_write`], [`sysvar_write`] (apply them to the
//!   statement's transaction so DDL and its catalog change commit together).
//! - values: [`codec::encode_row`] / [`codec::decode_row`] (rows decode to
//!   the values they were written with: pad after ADD COLUMN), string
//!   comparison by collation in [`codec::collation`].
//! - errors: [`StorageError`]; `tiembed_types::Error::from` maps duplicates
//!   to `DuplicateEntry` (1062), write conflicts and exhausted counters to
//!   `Other` (1105) with TiDB's wording, the rest to `Internal`.
//!
//! Isolation: reads see the latest committed data overlaid with the
//! session's own buffered writes (read committed). Commits are atomic and
//! durable; they re-check PRIMARY/UNIQUE keys against sessions that
//! committed first (`Duplicate entry`), and rows this transaction updated or
//! deleted must be unchanged since it first touched them (`Write conflict`,
//! like TiDB's optimistic transactions). Plain writes to untouched keys are
//! last-writer-wins. The storage crate knows the catalog types but never
//! sees SQL text.

mod catalog;
pub mod codec;
mod counters;
mod error;
mod memory;
mod sled_backend;
pub mod table;
mod txn;

pub use catalog::{catalog_write, load_catalog, load_global_sysvars, sysvar_write};
pub use error::StorageError;
pub use memory::MemoryStorage;
pub use sled_backend::{SledOptions, SledStorage};
pub use txn::{Duplicate, Savepoint, Transaction};

use std::ops::Bound;
use std::sync::Arc;

#[allow(unused_imports)] // for the doc links above
use tiembed_types::TableDef;

/// Identifies a keyspace: a table's rows and index entries, or the metadata space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Space {
    Meta,
    Table(u64),
}

/// One write of a commit.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub space: Space,
    pub key: Vec<u8>,
    /// `None` deletes the key.
    pub value: Option<Vec<u8>>,
    /// The commit fails with [`StorageError::KeyExists`] if the key exists
    /// at commit time (INSERT of a primary/unique key racing another session).
    pub must_be_absent: bool,
}

impl Write {
    pub fn put(space: Space, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Write {
        Write {
            space,
            key: key.into(),
            value: Some(value.into()),
            must_be_absent: false,
        }
    }

    pub fn delete(space: Space, key: impl Into<Vec<u8>>) -> Write {
        Write {
            space,
            key: key.into(),
            value: None,
            must_be_absent: false,
        }
    }
}

/// A commit precondition: `key` must still hold `expected` (`None`: be
/// absent) when the commit applies. Guards rows a transaction updated or
/// deleted against another session changing them first (lost update).
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub space: Space,
    pub key: Vec<u8>,
    pub expected: Option<Vec<u8>>,
}

pub type KvPair = (Vec<u8>, Vec<u8>);
pub type KvIter<'a> = Box<dyn Iterator<Item = Result<KvPair, StorageError>> + Send + 'a>;

/// The backend contract. Reads see committed data only; a [`Transaction`]
/// overlays its own writes. All methods block (sled does I/O): call them
/// from a blocking thread (`tokio::task::spawn_blocking`).
pub trait Storage: Send + Sync + 'static {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// Keys within the bounds, ascending (or descending when `reverse`).
    /// The iterator is not a snapshot: commits made while it runs may or
    /// may not be seen.
    fn scan(
        &self,
        space: Space,
        start: Bound<Vec<u8>>,
        end: Bound<Vec<u8>>,
        reverse: bool,
    ) -> Result<KvIter<'_>, StorageError>;

    /// Applies all writes atomically, then returns once they are durable
    /// (survive `kill -9` and, for sled, a power loss: its files are
    /// fsynced). Concurrent commits share one flush. If a `must_be_absent`
    /// key exists, nothing is applied and the error is
    /// [`StorageError::KeyExists`].
    fn commit(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        self.commit_checked(writes, Vec::new())
    }

    /// [`Storage::commit`] that first verifies `checks`; a failed check
    /// applies nothing and returns [`StorageError::WriteConflict`].
    fn commit_checked(&self, writes: Vec<Write>, checks: Vec<Check>) -> Result<(), StorageError>;

    /// Hands out `n` consecutive ids from the durable counter stored under
    /// the meta key `counter` and returns the first. Ids start at 1, only
    /// grow, are never handed out twice (even across crashes) and are not
    /// returned by rollbacks. After a crash, up to one reservation block of
    /// ids may be skipped (as TiDB's AUTO_ID_CACHE does); a clean shutdown
    /// ([`Storage::flush`]) keeps them contiguous.
    fn allocate_ids(&self, counter: &[u8], n: u64) -> Result<u64, StorageError>;

    /// Records that ids up to `used` are taken (an explicit value inserted
    /// into an AUTO_INCREMENT column): later allocations return larger ids.
    fn rebase_ids(&self, counter: &[u8], used: u64) -> Result<(), StorageError>;

    /// Removes a dropped table's keyspace. Table ids are never reused, so
    /// leftovers after a crash are unreachable, never wrong.
    fn drop_space(&self, space: Space) -> Result<(), StorageError>;

    /// Persists the counters exactly and flushes everything (shutdown).
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
    /// Prefix of hidden row id counters: `rowid/<table id BE>`.
    pub const ROWID_PREFIX: &[u8] = b"rowid/";
}

/// The on-disk format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Opens (creating if needed) a sled store in `dir` and checks its format version.
pub fn open_sled(dir: &std::path::Path) -> Result<Arc<dyn Storage>, StorageError> {
    Ok(Arc::new(SledStorage::open(dir)?))
}

/// Whether a key range is empty; BTreeMap::range panics on such bounds.
pub(crate) fn bounds_empty(start: &Bound<Vec<u8>>, end: &Bound<Vec<u8>>) -> bool {
    use Bound::*;
    match (start, end) {
        (Included(s), Included(e)) => s > e,
        (Included(s), Excluded(e)) | (Excluded(s), Included(e)) | (Excluded(s), Excluded(e)) => {
            s >= e
        }
        _ => false,
    }
}
