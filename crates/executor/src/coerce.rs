//! Storing a value into a column: strict-mode conversion to the column's
//! type, with MySQL's errors (out of range, data too long, incorrect value)
//! instead of silent truncation.

use crate::eval::convert::{self, Num};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use tiembed_types::{ColumnDef, DataType, Error, Result, Value};

/// Converts `v` for storage in `col`; `row` is 1-based for error texts.
pub fn coerce(v: Value, col: &ColumnDef, row: usize) -> Result<Value> {
    if v.is_null() {
        return Ok(v);
    }
    let name = || col.name.clone();
    let incorrect = |kind: &str, v: &Value| Error::IncorrectValue {
        kind: kind.into(),
        value: v.to_text().unwrap_or_default(),
        column: col.name.clone(),
        row,
    };
    Ok(match &col.data_type {
        DataType::Int { width, unsigned } => {
            let n = integer_of(&v).ok_or_else(|| incorrect("integer", &v))?;
            let (lo, hi) = width.range(*unsigned);
            if n < lo || n > hi {
                return Err(Error::OutOfRange {
                    column: name(),
                    row,
                });
            }
            if *unsigned {
                Value::UInt(n as u64)
            } else {
                Value::Int(n as i64)
            }
        }
        DataType::Bool => {
            let n = integer_of(&v).ok_or_else(|| incorrect("integer", &v))?;
            if !(-128..=127).contains(&n) {
                return Err(Error::OutOfRange {
                    column: name(),
                    row,
                });
            }
            Value::Int(n as i64)
        }
        DataType::Float | DataType::Double => {
            let f = match &v {
                Value::Str(s) => s
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| incorrect("double", &v))?,
                Value::Vector(_) => return Err(incorrect("double", &v)),
                other => convert::to_f64(other)?.unwrap_or(0.0),
            };
            if !f.is_finite() {
                return Err(Error::OutOfRange {
                    column: name(),
                    row,
                });
            }
            if col.data_type == DataType::Float {
                if f.abs() > f32::MAX as f64 {
                    return Err(Error::OutOfRange {
                        column: name(),
                        row,
                    });
                }
                Value::Float(f as f32)
            } else {
                Value::Double(f)
            }
        }
        DataType::Decimal { precision, scale } => {
            let d = match &v {
                Value::Str(s) => Decimal::from_str_exact(s.trim())
                    .or_else(|_| Decimal::from_scientific(s.trim()))
                    .map_err(|_| incorrect("decimal", &v))?,
                Value::Vector(_) => return Err(incorrect("decimal", &v)),
                other => convert::to_decimal(other)?.unwrap_or(Decimal::ZERO),
            };
            let mut d =
                d.round_dp_with_strategy(*scale as u32, RoundingStrategy::MidpointAwayFromZero);
            d.rescale(*scale as u32);
            let int_digits = (*precision as i64 - *scale as i64).max(0) as u32;
            let limit = Decimal::from(10u64.pow(int_digits.min(18)))
                * Decimal::from(10u64.pow(int_digits.saturating_sub(18).min(10)));
            if d.trunc().abs() >= limit {
                return Err(Error::OutOfRange {
                    column: name(),
                    row,
                });
            }
            Value::Decimal(d)
        }
        t @ (DataType::Char(_) | DataType::VarChar(_) | DataType::Text(_)) => {
            let s = match &v {
                Value::Str(s) => s.clone(),
                Value::Bytes(b) => String::from_utf8(b.clone())
                    .map_err(|_| incorrect("string", &Value::Str(hex(b))))?,
                other => other.to_text().unwrap_or_default(),
            };
            let max = t.max_len().unwrap_or(usize::MAX);
            let len = if matches!(t, DataType::Text(_)) {
                s.len()
            } else {
                s.chars().count()
            };
            if len > max {
                return Err(Error::DataTooLong {
                    column: name(),
                    row,
                });
            }
            Value::Str(s)
        }
        t @ (DataType::Binary(_) | DataType::VarBinary(_) | DataType::Blob(_)) => {
            let b = v.to_bytes().unwrap_or_default();
            if b.len() > t.max_len().unwrap_or(usize::MAX) {
                return Err(Error::DataTooLong {
                    column: name(),
                    row,
                });
            }
            match t {
                DataType::Binary(n) if b.len() < *n as usize => {
                    let mut b = b;
                    b.resize(*n as usize, 0);
                    Value::Bytes(b)
                }
                _ => Value::Bytes(b),
            }
        }
        DataType::Date => match &v {
            Value::Date(_) => v,
            Value::DateTime(dt) => Value::Date(dt.date()),
            other => match convert::to_datetime(other) {
                Some((dt, _)) => Value::Date(dt.date()),
                None => return Err(datetime_error("date", other, col, row)),
            },
        },
        DataType::DateTime { fsp } | DataType::Timestamp { fsp } => {
            match convert::to_datetime(&v) {
                Some((dt, _)) => Value::DateTime(convert::round_fsp(dt, *fsp)),
                None => return Err(datetime_error("datetime", &v, col, row)),
            }
        }
        DataType::Json => match &v {
            Value::Json(_) => v,
            Value::Str(s) => Value::json(crate::eval::cast::parse_json(s)?),
            other => Value::json(convert::to_json(other).ok_or_else(|| incorrect("json", other))?),
        },
        DataType::Vector(dims) => {
            let vec: Vec<f32> = match &v {
                Value::Vector(x) => x.to_vec(),
                Value::Str(s) => tiembed_vector::codec::parse_vector(s).map_err(Error::from)?,
                Value::Bytes(b) => tiembed_vector::codec::parse_vector(&String::from_utf8_lossy(b))
                    .map_err(Error::from)?,
                other => {
                    return Err(Error::other(format!(
                        "cannot convert datum from {} to type vector",
                        convert::kind_name(other)
                    )))
                }
            };
            if let Some(d) = dims {
                tiembed_vector::codec::check_fits(&vec, Some(*d as usize)).map_err(Error::from)?;
            }
            Value::vector(vec)
        }
        DataType::Null => v,
    })
}

fn datetime_error(kind: &str, v: &Value, col: &ColumnDef, row: usize) -> Error {
    Error::IncorrectValue {
        kind: kind.into(),
        value: v.to_text().unwrap_or_default(),
        column: col.name.clone(),
        row,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// The integer a value stores as (rounding half away from zero, as MySQL
/// does for DECIMAL and DOUBLE); `None` when it is not numeric text.
fn integer_of(v: &Value) -> Option<i128> {
    match v {
        Value::Str(s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i128>() {
                return Some(i);
            }
            let d = Decimal::from_str_exact(t)
                .ok()
                .or_else(|| t.parse::<f64>().ok().and_then(Decimal::from_f64_retain))?;
            d.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
                .to_i128()
        }
        Value::Vector(_) | Value::Json(_) => None,
        other => match convert::to_num(other).ok()?? {
            Num::Int(i) => Some(i as i128),
            Num::UInt(u) => Some(u as i128),
            Num::Dec(d) => d
                .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
                .to_i128(),
            Num::Float(f) => {
                if !f.is_finite() || f.abs() > 1e38 {
                    Some(if f > 0.0 { i128::MAX } else { i128::MIN })
                } else {
                    Some(f.round() as i128)
                }
            }
        },
    }
}
