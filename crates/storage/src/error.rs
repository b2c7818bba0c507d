//! The storage crate's error type and its mapping to the SQL-facing error.

use crate::Space;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StorageError {
    /// A row or unique index entry collides with an existing one; worded
    /// as TiDB words it (`value` like `1` or `1-abc`, `key` like `t.PRIMARY`).
    #[error("Duplicate entry '{value}' for key '{key}'")]
    DuplicateEntry { value: String, key: String },

    /// A raw `must_be_absent` write found its key present at commit time
    /// and no [`crate::Transaction`] had described the key.
    #[error("key already exists in {space:?}")]
    KeyExists { space: Space, key: Vec<u8> },

    /// A row this transaction updated or deleted was changed by another
    /// session that committed first. Worded like TiDB's error 9007.
    #[error("Write conflict, key={{tableID={}}} [try again later]", match space { Space::Table(id) => id.to_string(), Space::Meta => "meta".into() })]
    WriteConflict { space: Space, key: Vec<u8> },

    #[error("storage engine error: {0}")]
    Sled(#[from] sled::Error),

    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// Another process (or another open handle) holds the data directory.
    #[error("data directory {path} is in use by another tiembed process (sled holds an exclusive lock on its files)")]
    Locked { path: PathBuf },

    #[error("data directory {path} has storage format version {found}, but this build only reads version {supported}; use the tiembed release that wrote it, or export and re-import the data")]
    UnsupportedFormat {
        path: PathBuf,
        found: String,
        supported: u32,
    },

    #[error("data directory {path} is not a tiembed store: it holds data but no format version")]
    NotAStore { path: PathBuf },

    #[error("corrupt {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },

    /// The caller passed a row whose length does not match the table.
    #[error("row has {got} values but table `{table}` has {expected} columns")]
    RowShape {
        table: String,
        got: usize,
        expected: usize,
    },

    #[error("table `{0}` has no primary key")]
    NoPrimaryKey(String),

    #[error(
        "index `{index}` does not belong to table `{table}` or names unknown column `{column}`"
    )]
    BadIndex {
        table: String,
        index: String,
        column: String,
    },

    /// An AUTO_INCREMENT or row id counter ran past u64::MAX.
    #[error("Failed to read auto-increment value from storage engine")]
    CounterExhausted,

    /// A Transaction-level misuse (e.g. `put_if_absent` on a key it already wrote).
    #[error("{0}")]
    Misuse(String),
}

impl From<StorageError> for tiembed_types::Error {
    fn from(e: StorageError) -> Self {
        use tiembed_types::Error;
        match e {
            StorageError::DuplicateEntry { value, key } => Error::DuplicateEntry { value, key },
            StorageError::KeyExists { key, .. } => Error::DuplicateEntry {
                value: String::from_utf8_lossy(&key).into_owned(),
                key: "PRIMARY".into(),
            },
            StorageError::CounterExhausted | StorageError::WriteConflict { .. } => {
                Error::Other(e.to_string())
            }
            other => Error::Internal(other.to_string()),
        }
    }
}
