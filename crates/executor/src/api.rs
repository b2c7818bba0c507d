//! Result shapes the server turns into packets.

use tiembed_types::{DataType, Value};

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
    Ok {
        affected_rows: u64,
        last_insert_id: u64,
        info: String,
    },
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
