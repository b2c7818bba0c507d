//! Shared vocabulary of tiembed: the values a row holds, the SQL types a
//! column declares, the catalog's table/column/index definitions, and the
//! SQL-facing error every layer reports.
//!
//! Every other crate depends on this one and on nothing above it, so it
//! stays free of parsing, storage and wire concerns. The mapping from
//! [`Error`] to a MySQL error code and SQLSTATE lives in the server crate.

mod datatype;
mod error;
mod schema;
mod value;

pub use datatype::{Collation, DataType, IntWidth, TextKind};
pub use error::{Error, Result};
pub use schema::{
    Catalog, ColumnDef, DatabaseDef, DefaultValue, ForeignKeyDef, Generated, HnswParams, IndexDef,
    IndexKind, TableDef, VectorMetric, HNSW_DEFAULTS,
};
pub use value::{format_float, json_to_text, vector_to_text, Value};

/// Largest dimension a VECTOR may have (TiDB's limit).
pub const MAX_VECTOR_DIMS: usize = 16383;
