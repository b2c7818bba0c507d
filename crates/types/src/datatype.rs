//! Column types as declared in DDL, and how TiDB prints them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Storage width of an integer column; decides its range and display width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IntWidth {
    Tiny,
    Small,
    Medium,
    Int,
    Big,
}

impl IntWidth {
    /// Inclusive range of the signed or unsigned variant.
    pub fn range(self, unsigned: bool) -> (i128, i128) {
        let bits = match self {
            IntWidth::Tiny => 8,
            IntWidth::Small => 16,
            IntWidth::Medium => 24,
            IntWidth::Int => 32,
            IntWidth::Big => 64,
        };
        if unsigned {
            (0, (1i128 << bits) - 1)
        } else {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        }
    }

    fn name(self) -> &'static str {
        match self {
            IntWidth::Tiny => "tinyint",
            IntWidth::Small => "smallint",
            IntWidth::Medium => "mediumint",
            IntWidth::Int => "int",
            IntWidth::Big => "bigint",
        }
    }

    /// MySQL 5.7-style default display width that TiDB still prints.
    fn display_width(self, unsigned: bool) -> u32 {
        let w = match self {
            IntWidth::Tiny => 4,
            IntWidth::Small => 6,
            IntWidth::Medium => 9,
            IntWidth::Int => 11,
            IntWidth::Big => 20,
        };
        if unsigned && self != IntWidth::Big {
            w - 1
        } else {
            w
        }
    }
}

/// TEXT / BLOB family member; decides the maximum length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TextKind {
    Tiny,
    Normal,
    Medium,
    Long,
}

impl TextKind {
    pub fn max_len(self) -> usize {
        match self {
            TextKind::Tiny => 255,
            TextKind::Normal => 65_535,
            TextKind::Medium => 16_777_215,
            TextKind::Long => 4_294_967_295,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            TextKind::Tiny => "tiny",
            TextKind::Normal => "",
            TextKind::Medium => "medium",
            TextKind::Long => "long",
        }
    }
}

/// String comparison rule of a column. TiDB's default is `utf8mb4_bin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Collation {
    #[default]
    Utf8mb4Bin,
    /// `utf8mb4_general_ci` (and the other `_ci` collations, which tiembed
    /// compares the same way: case-insensitive, trailing spaces ignored).
    Utf8mb4GeneralCi,
    Utf8mb4UnicodeCi,
    Utf8mb40900AiCi,
    Binary,
}

impl Collation {
    pub fn from_name(name: &str) -> Option<Collation> {
        Some(match name.to_ascii_lowercase().as_str() {
            "utf8mb4_bin" | "utf8_bin" => Collation::Utf8mb4Bin,
            "utf8mb4_general_ci" | "utf8_general_ci" => Collation::Utf8mb4GeneralCi,
            "utf8mb4_unicode_ci" | "utf8_unicode_ci" => Collation::Utf8mb4UnicodeCi,
            "utf8mb4_0900_ai_ci" => Collation::Utf8mb40900AiCi,
            "binary" => Collation::Binary,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Collation::Utf8mb4Bin => "utf8mb4_bin",
            Collation::Utf8mb4GeneralCi => "utf8mb4_general_ci",
            Collation::Utf8mb4UnicodeCi => "utf8mb4_unicode_ci",
            Collation::Utf8mb40900AiCi => "utf8mb4_0900_ai_ci",
            Collation::Binary => "binary",
        }
    }

    pub fn is_case_insensitive(self) -> bool {
        !matches!(self, Collation::Utf8mb4Bin | Collation::Binary)
    }
}

/// A column's declared SQL type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DataType {
    Int {
        width: IntWidth,
        unsigned: bool,
    },
    /// BOOLEAN / BOOL, stored and shown as `tinyint(1)`.
    Bool,
    Float,
    Double,
    Decimal {
        precision: u8,
        scale: u8,
    },
    Char(u32),
    VarChar(u32),
    Text(TextKind),
    Binary(u32),
    VarBinary(u32),
    Blob(TextKind),
    Date,
    DateTime {
        fsp: u8,
    },
    Timestamp {
        fsp: u8,
    },
    Json,
    /// `VECTOR` (`None`: any dimension) or `VECTOR(D)`.
    Vector(Option<u32>),
    /// Result of an expression whose type is only known at run time, e.g.
    /// `NULL` or a user variable. Never stored in the catalog.
    Null,
}

impl DataType {
    pub fn is_string(&self) -> bool {
        matches!(
            self,
            DataType::Char(_) | DataType::VarChar(_) | DataType::Text(_)
        )
    }

    pub fn is_binary(&self) -> bool {
        matches!(
            self,
            DataType::Binary(_) | DataType::VarBinary(_) | DataType::Blob(_)
        )
    }

    pub fn is_integer(&self) -> bool {
        matches!(self, DataType::Int { .. } | DataType::Bool)
    }

    pub fn is_numeric(&self) -> bool {
        self.is_integer()
            || matches!(
                self,
                DataType::Float | DataType::Double | DataType::Decimal { .. }
            )
    }

    pub fn is_vector(&self) -> bool {
        matches!(self, DataType::Vector(_))
    }

    /// Maximum length in characters (strings) or bytes (binary), if bounded.
    pub fn max_len(&self) -> Option<usize> {
        match self {
            DataType::Char(n)
            | DataType::VarChar(n)
            | DataType::Binary(n)
            | DataType::VarBinary(n) => Some(*n as usize),
            DataType::Text(k) | DataType::Blob(k) => Some(k.max_len()),
            _ => None,
        }
    }
}

/// TiDB's `SHOW CREATE TABLE` / `COLUMN_TYPE` spelling, e.g. `int(11)`,
/// `varchar(255)`, `decimal(10,2)`, `vector(384)`.
impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::Int { width, unsigned } => {
                write!(f, "{}({})", width.name(), width.display_width(*unsigned))?;
                if *unsigned {
                    write!(f, " unsigned")?;
                }
                Ok(())
            }
            DataType::Bool => write!(f, "tinyint(1)"),
            DataType::Float => write!(f, "float"),
            DataType::Double => write!(f, "double"),
            DataType::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            DataType::Char(n) => write!(f, "char({n})"),
            DataType::VarChar(n) => write!(f, "varchar({n})"),
            DataType::Text(k) => write!(f, "{}text", k.prefix()),
            DataType::Binary(n) => write!(f, "binary({n})"),
            DataType::VarBinary(n) => write!(f, "varbinary({n})"),
            DataType::Blob(k) => write!(f, "{}blob", k.prefix()),
            DataType::Date => write!(f, "date"),
            DataType::DateTime { fsp: 0 } => write!(f, "datetime"),
            DataType::DateTime { fsp } => write!(f, "datetime({fsp})"),
            DataType::Timestamp { fsp: 0 } => write!(f, "timestamp"),
            DataType::Timestamp { fsp } => write!(f, "timestamp({fsp})"),
            DataType::Json => write!(f, "json"),
            DataType::Vector(None) => write!(f, "vector"),
            DataType::Vector(Some(d)) => write!(f, "vector({d})"),
            DataType::Null => write!(f, "null"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidb_spelling() {
        assert_eq!(
            DataType::Int {
                width: IntWidth::Int,
                unsigned: false
            }
            .to_string(),
            "int(11)"
        );
        assert_eq!(
            DataType::Int {
                width: IntWidth::Big,
                unsigned: true
            }
            .to_string(),
            "bigint(20) unsigned"
        );
        assert_eq!(
            DataType::Int {
                width: IntWidth::Int,
                unsigned: true
            }
            .to_string(),
            "int(10) unsigned"
        );
        assert_eq!(DataType::Vector(Some(384)).to_string(), "vector(384)");
        assert_eq!(DataType::Text(TextKind::Long).to_string(), "longtext");
        assert_eq!(
            DataType::Decimal {
                precision: 10,
                scale: 2
            }
            .to_string(),
            "decimal(10,2)"
        );
    }

    #[test]
    fn int_ranges() {
        assert_eq!(IntWidth::Tiny.range(false), (-128, 127));
        assert_eq!(IntWidth::Big.range(true), (0, u64::MAX as i128));
    }
}
