//! How a result column looks on the wire: SQL type -> MySQL column type,
//! charset, display length, flags and decimals.
//!
//! Drivers decode by these fields: PyMySQL returns `str` for BLOB-family
//! types only when the charset is not binary (63), which is why VECTOR
//! goes out as a LONG_BLOB with utf8mb4 (as TiDB does) and BLOB/BINARY
//! columns with charset 63. libmysqlclient formats a DOUBLE fetched as a
//! string with `decimals` digits unless it is 31, so computed doubles carry 31.
//!
//! The engine's declared type is checked against the actual values before
//! anything is written: a column whose values do not fit its declared wire
//! type (a `NULL`-typed expression that produced strings, an integer column
//! holding a value outside its width) is described by a type inferred from
//! the values instead, so a row can never contradict its column definition.

use opensrv_mysql::{ColumnFlags, ColumnType};
use tiembed_executor::ColumnInfo;
use tiembed_types::{DataType, IntWidth, TextKind, Value};

/// utf8mb4_bin, TiDB's default collation.
pub const CHARSET_UTF8MB4_BIN: u16 = 46;
/// The `binary` pseudo charset: the client treats the value as bytes.
pub const CHARSET_BINARY: u16 = 63;
/// "Not a fixed number of decimals" (NOT_FIXED_DEC).
pub const DECIMALS_NOT_FIXED: u8 = 31;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireType {
    pub ty: ColumnType,
    pub charset: u16,
    pub length: u32,
    pub flags: u16,
    pub decimals: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireColumn {
    pub schema: String,
    pub table: String,
    pub org_table: String,
    pub name: String,
    pub org_name: String,
    pub wire: WireType,
}

const BINARY: u16 = ColumnFlags::BINARY_FLAG.bits();
const BLOB: u16 = ColumnFlags::BLOB_FLAG.bits();
const NUM: u16 = ColumnFlags::NUM_FLAG.bits();
const UNSIGNED: u16 = ColumnFlags::UNSIGNED_FLAG.bits();

impl WireType {
    /// Defaults for a bare MySQL type (used for inferred columns and
    /// prepared-statement parameter placeholders).
    pub fn of_kind(ty: ColumnType) -> WireType {
        use ColumnType as T;
        let (charset, length, flags, decimals) = match ty {
            T::MYSQL_TYPE_TINY => (CHARSET_BINARY, 4, BINARY | NUM, 0),
            T::MYSQL_TYPE_SHORT => (CHARSET_BINARY, 6, BINARY | NUM, 0),
            T::MYSQL_TYPE_INT24 => (CHARSET_BINARY, 9, BINARY | NUM, 0),
            T::MYSQL_TYPE_LONG => (CHARSET_BINARY, 11, BINARY | NUM, 0),
            T::MYSQL_TYPE_LONGLONG => (CHARSET_BINARY, 20, BINARY | NUM, 0),
            T::MYSQL_TYPE_FLOAT => (CHARSET_BINARY, 12, BINARY | NUM, DECIMALS_NOT_FIXED),
            T::MYSQL_TYPE_DOUBLE => (CHARSET_BINARY, 22, BINARY | NUM, DECIMALS_NOT_FIXED),
            T::MYSQL_TYPE_NEWDECIMAL => (CHARSET_BINARY, 67, BINARY | NUM, DECIMALS_NOT_FIXED),
            T::MYSQL_TYPE_DATE => (CHARSET_BINARY, 10, BINARY, 0),
            T::MYSQL_TYPE_DATETIME | T::MYSQL_TYPE_TIMESTAMP => (CHARSET_BINARY, 26, BINARY, 6),
            T::MYSQL_TYPE_NULL => (CHARSET_BINARY, 0, BINARY, 0),
            T::MYSQL_TYPE_JSON => (CHARSET_UTF8MB4_BIN, u32::MAX, BLOB, 0),
            T::MYSQL_TYPE_LONG_BLOB => (CHARSET_UTF8MB4_BIN, u32::MAX, BLOB, 0),
            T::MYSQL_TYPE_BLOB => (CHARSET_BINARY, 65_535, BLOB | BINARY, 0),
            _ => (CHARSET_UTF8MB4_BIN, 1024, 0, DECIMALS_NOT_FIXED),
        };
        WireType {
            ty,
            charset,
            length,
            flags,
            decimals,
        }
    }

    fn is_integer(&self) -> bool {
        use ColumnType as T;
        matches!(
            self.ty,
            T::MYSQL_TYPE_TINY
                | T::MYSQL_TYPE_SHORT
                | T::MYSQL_TYPE_INT24
                | T::MYSQL_TYPE_LONG
                | T::MYSQL_TYPE_LONGLONG
                | T::MYSQL_TYPE_YEAR
        )
    }

    fn unsigned(&self) -> bool {
        self.flags & UNSIGNED != 0
    }
}

/// The wire description of a declared SQL type.
pub fn wire_type(dt: &DataType, decimals: u8) -> WireType {
    use ColumnType as T;
    let int = |ty: ColumnType, length: u32, unsigned: bool| WireType {
        ty,
        charset: CHARSET_BINARY,
        length,
        flags: BINARY | NUM | if unsigned { UNSIGNED } else { 0 },
        decimals: 0,
    };
    let text = |ty: ColumnType, chars: u64, flags: u16| WireType {
        ty,
        charset: CHARSET_UTF8MB4_BIN,
        // utf8mb4: up to four bytes per character.
        length: (chars * 4).min(u32::MAX as u64) as u32,
        flags,
        decimals: 0,
    };
    let bytes = |ty: ColumnType, len: u64, flags: u16| WireType {
        ty,
        charset: CHARSET_BINARY,
        length: len.min(u32::MAX as u64) as u32,
        flags: flags | BINARY,
        decimals: 0,
    };
    match dt {
        DataType::Int { width, unsigned } => {
            let (ty, signed_len, unsigned_len) = match width {
                IntWidth::Tiny => (T::MYSQL_TYPE_TINY, 4, 3),
                IntWidth::Small => (T::MYSQL_TYPE_SHORT, 6, 5),
                IntWidth::Medium => (T::MYSQL_TYPE_INT24, 9, 8),
                IntWidth::Int => (T::MYSQL_TYPE_LONG, 11, 10),
                IntWidth::Big => (T::MYSQL_TYPE_LONGLONG, 20, 20),
            };
            int(
                ty,
                if *unsigned { unsigned_len } else { signed_len },
                *unsigned,
            )
        }
        DataType::Bool => int(T::MYSQL_TYPE_TINY, 1, false),
        DataType::Float => WireType {
            decimals,
            ..WireType::of_kind(T::MYSQL_TYPE_FLOAT)
        },
        DataType::Double => WireType {
            decimals,
            ..WireType::of_kind(T::MYSQL_TYPE_DOUBLE)
        },
        DataType::Decimal { precision, scale } => WireType {
            ty: T::MYSQL_TYPE_NEWDECIMAL,
            charset: CHARSET_BINARY,
            // digits + sign + decimal point
            length: u32::from(*precision) + 1 + u32::from(*scale > 0),
            flags: BINARY | NUM,
            decimals: *scale,
        },
        DataType::Char(n) => text(T::MYSQL_TYPE_STRING, u64::from(*n), 0),
        DataType::VarChar(n) => text(T::MYSQL_TYPE_VAR_STRING, u64::from(*n), 0),
        // MySQL sends every TEXT size as MYSQL_TYPE_BLOB; the length tells them apart.
        DataType::Text(k) => text(T::MYSQL_TYPE_BLOB, text_kind_len(*k), BLOB),
        DataType::Binary(n) => bytes(T::MYSQL_TYPE_STRING, u64::from(*n), 0),
        DataType::VarBinary(n) => bytes(T::MYSQL_TYPE_VAR_STRING, u64::from(*n), 0),
        DataType::Blob(k) => bytes(T::MYSQL_TYPE_BLOB, text_kind_len(*k), BLOB),
        DataType::Date => WireType::of_kind(T::MYSQL_TYPE_DATE),
        DataType::DateTime { fsp } => datetime(T::MYSQL_TYPE_DATETIME, *fsp),
        DataType::Timestamp { fsp } => datetime(T::MYSQL_TYPE_TIMESTAMP, *fsp),
        DataType::Json => WireType::of_kind(T::MYSQL_TYPE_JSON),
        // TiDB "pretends to be a non-binary string": LONG_BLOB, utf8mb4, no BINARY flag.
        DataType::Vector(_) => WireType::of_kind(T::MYSQL_TYPE_LONG_BLOB),
        DataType::Null => WireType::of_kind(T::MYSQL_TYPE_NULL),
    }
}

fn text_kind_len(k: TextKind) -> u64 {
    k.max_len() as u64
}

fn datetime(ty: ColumnType, fsp: u8) -> WireType {
    WireType {
        ty,
        charset: CHARSET_BINARY,
        length: 19 + if fsp > 0 { 1 + u32::from(fsp) } else { 0 },
        flags: BINARY,
        decimals: fsp,
    }
}

impl WireColumn {
    pub fn from_info(info: &ColumnInfo) -> WireColumn {
        let mut wire = wire_type(&info.data_type, info.decimals);
        wire.flags |= column_flags(info);
        WireColumn {
            schema: info.db.clone(),
            table: info.table.clone(),
            org_table: info.org_table.clone(),
            name: info.name.clone(),
            org_name: info.org_name.clone(),
            wire,
        }
    }

    /// A column with only a name (parameter placeholders, server-made results).
    pub fn synthetic(name: &str, wire: WireType) -> WireColumn {
        WireColumn {
            schema: String::new(),
            table: String::new(),
            org_table: String::new(),
            name: name.to_string(),
            org_name: String::new(),
            wire,
        }
    }
}

fn column_flags(info: &ColumnInfo) -> u16 {
    let mut f = 0;
    if !info.nullable {
        f |= ColumnFlags::NOT_NULL_FLAG.bits();
    }
    if info.primary_key {
        f |= ColumnFlags::PRI_KEY_FLAG.bits();
    }
    if info.auto_increment {
        f |= ColumnFlags::AUTO_INCREMENT_FLAG.bits();
    }
    f
}

/// Whether `v` can be sent in a column described by `w` without changing
/// its meaning.
pub fn fits(w: &WireType, v: &Value) -> bool {
    use ColumnType as T;
    if v.is_null() {
        return true;
    }
    if w.is_integer() {
        let (lo, hi) = int_range(w);
        return match v {
            Value::Int(i) => (lo..=hi).contains(&i128::from(*i)),
            Value::UInt(u) => (lo..=hi).contains(&i128::from(*u)),
            _ => false,
        };
    }
    match w.ty {
        T::MYSQL_TYPE_FLOAT => matches!(v, Value::Float(_)),
        T::MYSQL_TYPE_DOUBLE => matches!(
            v,
            Value::Float(_) | Value::Double(_) | Value::Int(_) | Value::UInt(_)
        ),
        T::MYSQL_TYPE_NEWDECIMAL | T::MYSQL_TYPE_DECIMAL => {
            matches!(v, Value::Decimal(_) | Value::Int(_) | Value::UInt(_))
        }
        T::MYSQL_TYPE_DATE => matches!(v, Value::Date(_)),
        T::MYSQL_TYPE_DATETIME | T::MYSQL_TYPE_TIMESTAMP => {
            matches!(v, Value::DateTime(_) | Value::Date(_))
        }
        T::MYSQL_TYPE_NULL => false,
        // Every other type travels as a string.
        _ => true,
    }
}

fn int_range(w: &WireType) -> (i128, i128) {
    use ColumnType as T;
    let width = match w.ty {
        T::MYSQL_TYPE_TINY => IntWidth::Tiny,
        T::MYSQL_TYPE_SHORT | T::MYSQL_TYPE_YEAR => IntWidth::Small,
        T::MYSQL_TYPE_INT24 => IntWidth::Medium,
        T::MYSQL_TYPE_LONG => IntWidth::Int,
        _ => IntWidth::Big,
    };
    // INT24 travels in four bytes, so its wire range is that of INT.
    let width = if width == IntWidth::Medium {
        IntWidth::Int
    } else {
        width
    };
    width.range(w.unsigned())
}

/// The wire columns for a result: each declared type, unless the values
/// contradict it (see the module docs).
pub fn plan(columns: &[ColumnInfo], rows: &[Vec<Value>]) -> Vec<WireColumn> {
    columns
        .iter()
        .enumerate()
        .map(|(i, info)| {
            let mut col = WireColumn::from_info(info);
            let values = || rows.iter().filter_map(move |r| r.get(i));
            if !values().all(|v| fits(&col.wire, v)) {
                let keep = col.wire.flags
                    & (ColumnFlags::NOT_NULL_FLAG.bits() | ColumnFlags::PRI_KEY_FLAG.bits());
                col.wire = infer(values());
                col.wire.flags |= keep;
            }
            col
        })
        .collect()
}

/// A wire type that every value in `values` fits.
fn infer<'a>(values: impl Iterator<Item = &'a Value> + Clone) -> WireType {
    use ColumnType as T;
    let Some(first) = values.clone().find(|v| !v.is_null()) else {
        return WireType::of_kind(T::MYSQL_TYPE_NULL);
    };
    let candidate = match first {
        Value::Int(_) | Value::UInt(_) => {
            let big_unsigned = values
                .clone()
                .any(|v| matches!(v, Value::UInt(u) if *u > i64::MAX as u64));
            let mut w = WireType::of_kind(T::MYSQL_TYPE_LONGLONG);
            if big_unsigned {
                w.flags |= UNSIGNED;
            }
            w
        }
        Value::Float(_) | Value::Double(_) => WireType::of_kind(T::MYSQL_TYPE_DOUBLE),
        Value::Decimal(_) => WireType::of_kind(T::MYSQL_TYPE_NEWDECIMAL),
        Value::Date(_) => WireType::of_kind(T::MYSQL_TYPE_DATE),
        Value::DateTime(_) => WireType::of_kind(T::MYSQL_TYPE_DATETIME),
        Value::Json(_) => WireType::of_kind(T::MYSQL_TYPE_JSON),
        Value::Vector(_) => WireType::of_kind(T::MYSQL_TYPE_LONG_BLOB),
        Value::Bytes(_) => WireType::of_kind(T::MYSQL_TYPE_BLOB),
        Value::Str(_) | Value::Null => WireType::of_kind(T::MYSQL_TYPE_VAR_STRING),
    };
    if values.clone().all(|v| fits(&candidate, v)) {
        return candidate;
    }
    if values.clone().any(|v| matches!(v, Value::Bytes(_))) {
        WireType::of_kind(T::MYSQL_TYPE_BLOB)
    } else {
        WireType::of_kind(T::MYSQL_TYPE_VAR_STRING)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnType as T;

    fn info(name: &str, dt: DataType) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            org_name: name.into(),
            table: "t".into(),
            org_table: "t".into(),
            db: "test".into(),
            data_type: dt,
            nullable: true,
            primary_key: false,
            auto_increment: false,
            decimals: 0,
        }
    }

    #[test]
    fn vector_is_a_non_binary_long_blob() {
        let w = wire_type(&DataType::Vector(Some(3)), 0);
        assert_eq!(w.ty, T::MYSQL_TYPE_LONG_BLOB);
        assert_ne!(w.charset, CHARSET_BINARY);
        assert_eq!(w.flags & BINARY, 0);
    }

    #[test]
    fn text_and_blob_differ_by_charset() {
        let t = wire_type(&DataType::Text(TextKind::Normal), 0);
        let b = wire_type(&DataType::Blob(TextKind::Normal), 0);
        assert_eq!(t.ty, T::MYSQL_TYPE_BLOB);
        assert_eq!(b.ty, T::MYSQL_TYPE_BLOB);
        assert_eq!(t.charset, CHARSET_UTF8MB4_BIN);
        assert_eq!(b.charset, CHARSET_BINARY);
        assert_ne!(b.flags & BINARY, 0);
    }

    #[test]
    fn numeric_types() {
        let u = wire_type(
            &DataType::Int {
                width: IntWidth::Int,
                unsigned: true,
            },
            0,
        );
        assert_eq!(u.ty, T::MYSQL_TYPE_LONG);
        assert_ne!(u.flags & UNSIGNED, 0);
        assert_eq!(u.length, 10);
        let d = wire_type(
            &DataType::Decimal {
                precision: 10,
                scale: 2,
            },
            2,
        );
        assert_eq!(
            (d.ty, d.decimals, d.length),
            (T::MYSQL_TYPE_NEWDECIMAL, 2, 12)
        );
        let f = wire_type(&DataType::Double, DECIMALS_NOT_FIXED);
        assert_eq!((f.ty, f.decimals), (T::MYSQL_TYPE_DOUBLE, 31));
        assert_eq!(wire_type(&DataType::Json, 0).ty, T::MYSQL_TYPE_JSON);
        assert_eq!(
            wire_type(
                &DataType::Int {
                    width: IntWidth::Big,
                    unsigned: false
                },
                0
            )
            .ty,
            T::MYSQL_TYPE_LONGLONG
        );
    }

    #[test]
    fn flags_from_column_info() {
        let mut i = info(
            "id",
            DataType::Int {
                width: IntWidth::Int,
                unsigned: false,
            },
        );
        i.nullable = false;
        i.primary_key = true;
        i.auto_increment = true;
        let c = WireColumn::from_info(&i);
        let want = ColumnFlags::NOT_NULL_FLAG
            | ColumnFlags::PRI_KEY_FLAG
            | ColumnFlags::AUTO_INCREMENT_FLAG;
        assert_eq!(c.wire.flags & want.bits(), want.bits());
        assert_eq!((c.schema.as_str(), c.org_table.as_str()), ("test", "t"));
    }

    #[test]
    fn null_typed_columns_take_the_type_of_their_values() {
        let cols = vec![
            info("a", DataType::Null),
            info("b", DataType::Null),
            info("c", DataType::Null),
        ];
        let rows = vec![
            vec![Value::Int(1), Value::Str("x".into()), Value::Null],
            vec![Value::Null, Value::Int(2), Value::Null],
        ];
        let w = plan(&cols, &rows);
        assert_eq!(w[0].wire.ty, T::MYSQL_TYPE_LONGLONG);
        assert_eq!(w[1].wire.ty, T::MYSQL_TYPE_VAR_STRING);
        assert_eq!(w[2].wire.ty, T::MYSQL_TYPE_NULL);
    }

    #[test]
    fn out_of_range_values_widen_the_column() {
        let cols = vec![info(
            "a",
            DataType::Int {
                width: IntWidth::Tiny,
                unsigned: false,
            },
        )];
        let w = plan(&cols, &[vec![Value::Int(1)]]);
        assert_eq!(w[0].wire.ty, T::MYSQL_TYPE_TINY);
        let w = plan(&cols, &[vec![Value::Int(1000)]]);
        assert_eq!(w[0].wire.ty, T::MYSQL_TYPE_LONGLONG);
        let w = plan(&cols, &[vec![Value::UInt(u64::MAX)]]);
        assert_eq!(w[0].wire.ty, T::MYSQL_TYPE_LONGLONG);
        assert_ne!(w[0].wire.flags & UNSIGNED, 0);
        let w = plan(&cols, &[vec![Value::Str("abc".into())]]);
        assert_eq!(w[0].wire.ty, T::MYSQL_TYPE_VAR_STRING);
    }
}
