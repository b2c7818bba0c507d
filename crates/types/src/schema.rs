//! Catalog definitions: databases, tables, columns, indexes. Persisted by
//! the storage crate (serde), read by the binder and executor.

use crate::{Collation, DataType};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// All databases and their tables. Names are stored as declared; lookups
/// are case-insensitive (`lower_case_table_names = 2`, as TiDB reports).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Catalog {
    /// Keyed by lower-cased database name.
    pub databases: BTreeMap<String, DatabaseDef>,
    /// Next table id to hand out; ids are never reused, so a dropped table's
    /// leftover data can never be mistaken for a new table's.
    pub next_table_id: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseDef {
    pub name: String,
    /// Keyed by lower-cased table name.
    pub tables: BTreeMap<String, TableDef>,
}

impl Catalog {
    pub fn database(&self, name: &str) -> Option<&DatabaseDef> {
        self.databases.get(&name.to_lowercase())
    }

    pub fn database_mut(&mut self, name: &str) -> Option<&mut DatabaseDef> {
        self.databases.get_mut(&name.to_lowercase())
    }

    pub fn table(&self, db: &str, table: &str) -> Option<&TableDef> {
        self.database(db)?.tables.get(&table.to_lowercase())
    }

    pub fn table_mut(&mut self, db: &str, table: &str) -> Option<&mut TableDef> {
        self.database_mut(db)?.tables.get_mut(&table.to_lowercase())
    }

    pub fn table_by_id(&self, id: u64) -> Option<&TableDef> {
        self.databases
            .values()
            .flat_map(|d| d.tables.values())
            .find(|t| t.id == id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDef {
    pub id: u64,
    pub db: String,
    pub name: String,
    pub columns: Vec<ColumnDef>,
    /// Includes the primary key (kind [`IndexKind::Primary`]) if there is one.
    /// Without a primary key rows are keyed by a hidden row id.
    pub indexes: Vec<IndexDef>,
    pub foreign_keys: Vec<ForeignKeyDef>,
    pub comment: Option<String>,
    pub collation: Collation,
    /// `ALTER TABLE .. SET TIFLASH REPLICA n`; recorded for INFORMATION_SCHEMA.
    pub tiflash_replica: u32,
    /// Next index id; ids are never reused within a table.
    pub next_index_id: u32,
}

impl TableDef {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }

    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    pub fn primary_key(&self) -> Option<&IndexDef> {
        self.indexes.iter().find(|i| i.kind == IndexKind::Primary)
    }

    pub fn index(&self, name: &str) -> Option<&IndexDef> {
        self.indexes
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(name))
    }

    /// The AUTO_INCREMENT column, if any (MySQL allows at most one).
    pub fn auto_increment_column(&self) -> Option<usize> {
        self.columns.iter().position(|c| c.auto_increment)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDef {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
    pub default: Option<DefaultValue>,
    pub auto_increment: bool,
    pub comment: Option<String>,
    /// Only meaningful for character columns.
    pub collation: Collation,
    pub generated: Option<Generated>,
    /// `ON UPDATE CURRENT_TIMESTAMP`.
    pub on_update_now: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DefaultValue {
    /// A constant, kept as its SQL text (`'abc'`, `0`, `NULL`) so that
    /// SHOW CREATE TABLE prints it as declared and the binder re-evaluates
    /// it with the column's type.
    Literal(String),
    /// `CURRENT_TIMESTAMP` / `NOW()`, optionally with fsp.
    CurrentTimestamp,
}

/// How a generated column gets its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Generated {
    /// `GENERATED ALWAYS AS (EMBED_TEXT('<model>', <source>[, '<options>'])) STORED`.
    Embed {
        /// The model string as written, e.g. `huggingface/sentence-transformers/all-MiniLM-L6-v2`.
        model: String,
        /// Name of the source text column.
        source: String,
        /// The JSON options string as written (None when absent or `''`).
        options: Option<String>,
    },
    /// Any other generation expression, kept as SQL text.
    Expr { sql: String, stored: bool },
}

/// Distance metric of a vector index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VectorMetric {
    Cosine,
    L2,
}

impl VectorMetric {
    /// The distance function the index is declared with.
    pub fn function_name(self) -> &'static str {
        match self {
            VectorMetric::Cosine => "VEC_COSINE_DISTANCE",
            VectorMetric::L2 => "VEC_L2_DISTANCE",
        }
    }

    /// How EXPLAIN names it (`annIndex:COSINE(...)`).
    pub fn explain_name(self) -> &'static str {
        match self {
            VectorMetric::Cosine => "COSINE",
            VectorMetric::L2 => "L2",
        }
    }
}

/// HNSW build and search parameters of one vector index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HnswParams {
    pub m: u32,
    pub ef_construction: u32,
    pub ef_search: u32,
}

pub const HNSW_DEFAULTS: HnswParams = HnswParams {
    m: 16,
    ef_construction: 128,
    ef_search: 64,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum IndexKind {
    Primary,
    Unique,
    Plain,
    /// `VECTOR INDEX ((VEC_<metric>_DISTANCE(col)))`; `columns` holds the one
    /// vector column.
    Vector {
        metric: VectorMetric,
        params: HnswParams,
    },
    /// `FULLTEXT INDEX (col) [WITH PARSER p]`.
    FullText {
        parser: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexDef {
    pub id: u32,
    pub name: String,
    pub kind: IndexKind,
    /// Column names in key order.
    pub columns: Vec<String>,
    pub comment: Option<String>,
}

impl IndexDef {
    pub fn is_unique(&self) -> bool {
        matches!(self.kind, IndexKind::Primary | IndexKind::Unique)
    }
}

/// FOREIGN KEY: accepted and shown, not enforced (as TiDB before v8.5 by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForeignKeyDef {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_db: Option<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: Option<String>,
    pub on_update: Option<String>,
}
