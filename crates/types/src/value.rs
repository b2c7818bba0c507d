//! A single SQL value and its canonical text form (what the text protocol
//! sends and `CAST(x AS CHAR)` returns).

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use rust_decimal::Decimal;
use std::fmt::Write as _;
use std::sync::Arc;

/// One cell of a row. Comparison and arithmetic rules live in the executor;
/// this type only carries the data.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    UInt(u64),
    /// A FLOAT column's value: kept as f32 so it prints as MySQL prints it.
    Float(f32),
    Double(f64),
    Decimal(Decimal),
    /// Character data (any non-binary string type).
    Str(String),
    /// Binary data (BINARY, VARBINARY, BLOB family).
    Bytes(Vec<u8>),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    /// A JSON document. Object keys are kept sorted (serde_json's default
    /// map), which is how TiDB normalises stored JSON.
    Json(Arc<serde_json::Value>),
    /// A float32 vector; shared because rows are cloned far more often than
    /// vectors are modified.
    Vector(Arc<[f32]>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn vector(v: Vec<f32>) -> Value {
        Value::Vector(v.into())
    }

    pub fn json(v: serde_json::Value) -> Value {
        Value::Json(Arc::new(v))
    }

    /// The value's canonical text; `None` for NULL.
    pub fn to_text(&self) -> Option<String> {
        Some(match self {
            Value::Null => return None,
            Value::Int(i) => i.to_string(),
            Value::UInt(u) => u.to_string(),
            Value::Float(f) => format_float(*f as f64, true),
            Value::Double(d) => format_float(*d, false),
            Value::Decimal(d) => d.to_string(),
            Value::Str(s) => s.clone(),
            Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
            Value::DateTime(dt) => format_datetime(dt),
            Value::Json(j) => json_to_text(j),
            Value::Vector(v) => vector_to_text(v),
        })
    }

    /// The value's text as bytes (binary strings stay as they are).
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Value::Bytes(b) => Some(b.clone()),
            other => other.to_text().map(String::into_bytes),
        }
    }
}

/// TiDB's float display: plain shortest round-trip decimal, switching to an
/// exponent (without `+`) only beyond 1e15 or below 1e-15.
pub fn format_float(v: f64, single: bool) -> String {
    if v.is_nan() || v.is_infinite() {
        // TiDB cannot store these; an expression that yields one prints as
        // MySQL does for out-of-range doubles.
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let abs = v.abs();
    let exp_form = abs >= 1e15 || (abs != 0.0 && abs < 1e-15);
    if !exp_form {
        return if single {
            format!("{}", v as f32)
        } else {
            format!("{v}")
        };
    }
    let s = if single {
        format!("{:e}", v as f32)
    } else {
        format!("{v:e}")
    };
    // Rust prints `1e15` / `1.5e-16`; Go (TiDB) prints the same after it
    // strips the `+`, so nothing further is needed.
    s
}

fn format_datetime(dt: &NaiveDateTime) -> String {
    let micros = dt.nanosecond() / 1000;
    let mut s = dt.format("%Y-%m-%d %H:%M:%S").to_string();
    if micros != 0 {
        let _ = write!(s, ".{micros:06}");
    }
    s
}

/// `[1,2.5]`: elements joined by `,` without spaces, each the shortest
/// float32 that round-trips, never in exponent form (TiDB's `'f', -1, 32`).
pub fn vector_to_text(v: &[f32]) -> String {
    let mut s = String::with_capacity(v.len() * 10 + 2);
    s.push('[');
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{x}");
    }
    s.push(']');
    s
}

/// MySQL's JSON text: `{"a": 1, "b": [1, 2]}` with a space after `:` and `,`.
pub fn json_to_text(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value as J;
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                if f.fract() == 0.0 && f.abs() < 1e15 {
                    let _ = write!(out, "{f:.1}");
                } else {
                    out.push_str(&format_float(f, false));
                }
            } else {
                let _ = write!(out, "{n}");
            }
        }
        J::String(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
        J::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_json(x, out);
            }
            out.push(']');
        }
        J::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push_str(": ");
                write_json(x, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_text_matches_tidb() {
        assert_eq!(vector_to_text(&[1.0, 2.5]), "[1,2.5]");
        assert_eq!(vector_to_text(&[0.3, 0.5, -0.1]), "[0.3,0.5,-0.1]");
        assert_eq!(vector_to_text(&[]), "[]");
        assert_eq!(vector_to_text(&[1e20]), "[100000000000000000000]");
    }

    #[test]
    fn doubles_print_like_tidb() {
        assert_eq!(
            format_float(1.7320508075688772, false),
            "1.7320508075688772"
        );
        assert_eq!(format_float(0.1 + 0.2, false), "0.30000000000000004");
        assert_eq!(format_float(1e15, false), "1e15");
        assert_eq!(format_float(5.0, false), "5");
        assert_eq!(format_float(-11.0, false), "-11");
        assert_eq!(format_float(0.1f32 as f64, true), "0.1");
    }

    #[test]
    fn json_text_has_mysql_spacing() {
        let v: serde_json::Value = serde_json::from_str(r#"{"b":[1,2.5,"x"],"a":null}"#).unwrap();
        assert_eq!(json_to_text(&v), r#"{"a": null, "b": [1, 2.5, "x"]}"#);
    }
}
