//! Column layouts of the INFORMATION_SCHEMA tables tiembed serves (the
//! executor produces their rows from the catalog).

use crate::plan::{Column, SystemTable};
use tiembed_types::{DataType, IntWidth, TextKind};

/// Finds an information_schema table by name (case-insensitive).
pub fn lookup(name: &str) -> Option<SystemTable> {
    use SystemTable as S;
    Some(match name.to_ascii_uppercase().as_str() {
        "SCHEMATA" => S::Schemata,
        "TABLES" => S::Tables,
        "COLUMNS" => S::Columns,
        "STATISTICS" => S::Statistics,
        "KEY_COLUMN_USAGE" => S::KeyColumnUsage,
        "TIFLASH_REPLICA" => S::TiflashReplica,
        "TIFLASH_INDEXES" => S::TiflashIndexes,
        "ENGINES" => S::Engines,
        "CHARACTER_SETS" => S::CharacterSets,
        "COLLATIONS" => S::Collations,
        "PROCESSLIST" => S::Processlist,
        "SESSION_VARIABLES" => S::SessionVariables,
        "GLOBAL_VARIABLES" => S::GlobalVariables,
        "TABLE_CONSTRAINTS" => S::TableConstraints,
        "REFERENTIAL_CONSTRAINTS" => S::ReferentialConstraints,
        "VIEWS" => S::Views,
        "ROUTINES" => S::Routines,
        "PARTITIONS" => S::Partitions,
        _ => return None,
    })
}

/// `NAME:kind` where kind is `s` varchar, `t` long text, `i` bigint, `u`
/// unsigned bigint, `d` datetime, `f` double.
fn spec(table: SystemTable) -> &'static [&'static str] {
    use SystemTable as S;
    match table {
        S::Schemata => &[
            "CATALOG_NAME:s",
            "SCHEMA_NAME:s",
            "DEFAULT_CHARACTER_SET_NAME:s",
            "DEFAULT_COLLATION_NAME:s",
            "SQL_PATH:s",
            "TIDB_PLACEMENT_POLICY_NAME:s",
        ],
        S::Tables => &[
            "TABLE_CATALOG:s",
            "TABLE_SCHEMA:s",
            "TABLE_NAME:s",
            "TABLE_TYPE:s",
            "ENGINE:s",
            "VERSION:i",
            "ROW_FORMAT:s",
            "TABLE_ROWS:u",
            "AVG_ROW_LENGTH:u",
            "DATA_LENGTH:u",
            "MAX_DATA_LENGTH:u",
            "INDEX_LENGTH:u",
            "DATA_FREE:u",
            "AUTO_INCREMENT:u",
            "CREATE_TIME:d",
            "UPDATE_TIME:d",
            "CHECK_TIME:d",
            "TABLE_COLLATION:s",
            "CHECKSUM:u",
            "CREATE_OPTIONS:s",
            "TABLE_COMMENT:s",
            "TIDB_TABLE_ID:i",
        ],
        S::Columns => &[
            "TABLE_CATALOG:s",
            "TABLE_SCHEMA:s",
            "TABLE_NAME:s",
            "COLUMN_NAME:s",
            "ORDINAL_POSITION:u",
            "COLUMN_DEFAULT:t",
            "IS_NULLABLE:s",
            "DATA_TYPE:s",
            "CHARACTER_MAXIMUM_LENGTH:u",
            "CHARACTER_OCTET_LENGTH:u",
            "NUMERIC_PRECISION:u",
            "NUMERIC_SCALE:u",
            "DATETIME_PRECISION:u",
            "CHARACTER_SET_NAME:s",
            "COLLATION_NAME:s",
            "COLUMN_TYPE:t",
            "COLUMN_KEY:s",
            "EXTRA:s",
            "PRIVILEGES:s",
            "COLUMN_COMMENT:s",
            "GENERATION_EXPRESSION:t",
        ],
        S::Statistics => &[
            "TABLE_CATALOG:s",
            "TABLE_SCHEMA:s",
            "TABLE_NAME:s",
            "NON_UNIQUE:i",
            "INDEX_SCHEMA:s",
            "INDEX_NAME:s",
            "SEQ_IN_INDEX:u",
            "COLUMN_NAME:s",
            "COLLATION:s",
            "CARDINALITY:i",
            "SUB_PART:i",
            "PACKED:s",
            "NULLABLE:s",
            "INDEX_TYPE:s",
            "COMMENT:s",
            "INDEX_COMMENT:s",
            "IS_VISIBLE:s",
            "EXPRESSION:t",
        ],
        S::KeyColumnUsage => &[
            "CONSTRAINT_CATALOG:s",
            "CONSTRAINT_SCHEMA:s",
            "CONSTRAINT_NAME:s",
            "TABLE_CATALOG:s",
            "TABLE_SCHEMA:s",
            "TABLE_NAME:s",
            "COLUMN_NAME:s",
            "ORDINAL_POSITION:u",
            "POSITION_IN_UNIQUE_CONSTRAINT:u",
            "REFERENCED_TABLE_SCHEMA:s",
            "REFERENCED_TABLE_NAME:s",
            "REFERENCED_COLUMN_NAME:s",
        ],
        S::TiflashReplica => &[
            "TABLE_SCHEMA:s",
            "TABLE_NAME:s",
            "TABLE_ID:i",
            "REPLICA_COUNT:u",
            "LOCATION_LABELS:s",
            "AVAILABLE:i",
            "PROGRESS:f",
        ],
        S::TiflashIndexes => &[
            "TIDB_DATABASE:s",
            "TIDB_TABLE:s",
            "TABLE_ID:i",
            "COLUMN_NAME:s",
            "INDEX_NAME:s",
            "COLUMN_ID:i",
            "INDEX_ID:i",
            "INDEX_KIND:s",
            "ROWS_STABLE_INDEXED:u",
            "ROWS_STABLE_NOT_INDEXED:u",
            "ROWS_DELTA_INDEXED:u",
            "ROWS_DELTA_NOT_INDEXED:u",
            "ERROR_MESSAGE:s",
            "TIFLASH_INSTANCE:s",
        ],
        S::Engines => &[
            "ENGINE:s",
            "SUPPORT:s",
            "COMMENT:s",
            "TRANSACTIONS:s",
            "XA:s",
            "SAVEPOINTS:s",
        ],
        S::CharacterSets => &[
            "CHARACTER_SET_NAME:s",
            "DEFAULT_COLLATE_NAME:s",
            "DESCRIPTION:s",
            "MAXLEN:i",
        ],
        S::Collations => &[
            "COLLATION_NAME:s",
            "CHARACTER_SET_NAME:s",
            "ID:i",
            "IS_DEFAULT:s",
            "IS_COMPILED:s",
            "SORTLEN:i",
        ],
        S::Processlist => &[
            "ID:u",
            "USER:s",
            "HOST:s",
            "DB:s",
            "COMMAND:s",
            "TIME:i",
            "STATE:s",
            "INFO:t",
        ],
        S::SessionVariables | S::GlobalVariables => &["VARIABLE_NAME:s", "VARIABLE_VALUE:t"],
        S::TableConstraints => &[
            "CONSTRAINT_CATALOG:s",
            "CONSTRAINT_SCHEMA:s",
            "CONSTRAINT_NAME:s",
            "TABLE_SCHEMA:s",
            "TABLE_NAME:s",
            "CONSTRAINT_TYPE:s",
        ],
        S::ReferentialConstraints => &[
            "CONSTRAINT_CATALOG:s",
            "CONSTRAINT_SCHEMA:s",
            "CONSTRAINT_NAME:s",
            "UNIQUE_CONSTRAINT_CATALOG:s",
            "UNIQUE_CONSTRAINT_SCHEMA:s",
            "UNIQUE_CONSTRAINT_NAME:s",
            "MATCH_OPTION:s",
            "UPDATE_RULE:s",
            "DELETE_RULE:s",
            "TABLE_NAME:s",
            "REFERENCED_TABLE_NAME:s",
        ],
        S::Views => &[
            "TABLE_CATALOG:s",
            "TABLE_SCHEMA:s",
            "TABLE_NAME:s",
            "VIEW_DEFINITION:t",
            "CHECK_OPTION:s",
            "IS_UPDATABLE:s",
            "DEFINER:s",
            "SECURITY_TYPE:s",
            "CHARACTER_SET_CLIENT:s",
            "COLLATION_CONNECTION:s",
        ],
        S::Routines => &[
            "SPECIFIC_NAME:s",
            "ROUTINE_CATALOG:s",
            "ROUTINE_SCHEMA:s",
            "ROUTINE_NAME:s",
            "ROUTINE_TYPE:s",
        ],
        S::Partitions => &[
            "TABLE_CATALOG:s",
            "TABLE_SCHEMA:s",
            "TABLE_NAME:s",
            "PARTITION_NAME:s",
        ],
    }
}

/// The table's columns (unqualified).
pub fn columns(table: SystemTable) -> Vec<Column> {
    spec(table)
        .iter()
        .map(|s| {
            let (name, kind) = s.split_once(':').expect("spec has a kind");
            let t = match kind {
                "s" => DataType::VarChar(64),
                "t" => DataType::Text(TextKind::Long),
                "i" => DataType::Int {
                    width: IntWidth::Big,
                    unsigned: false,
                },
                "u" => DataType::Int {
                    width: IntWidth::Big,
                    unsigned: true,
                },
                "d" => DataType::DateTime { fsp: 0 },
                _ => DataType::Double,
            };
            let mut c = Column::computed(name, t);
            c.db = "information_schema".into();
            c
        })
        .collect()
}
