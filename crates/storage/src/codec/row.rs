//! Compact, self-describing row encoding.
//!
//! Layout: a format byte, the value count (varint), then per value a tag and
//! its payload. Self-describing so that a row written before
//! `ALTER TABLE ... ADD COLUMN` still decodes (to fewer values; the caller
//! pads with the new columns' defaults) and so that decoding never needs the
//! schema.
//!
//! Payloads: integers as (zigzag) LEB128 varints; FLOAT/DOUBLE as
//! little-endian IEEE bits; DECIMAL as scale byte + zigzag varint mantissa
//! (exact); strings, bytes and JSON text as varint length + bytes; DATE as
//! days from the common era; DATETIME as seconds since the epoch + nanos;
//! VECTOR as u32 LE length + little-endian f32 elements, so the ANN index
//! can read them without parsing text.

use crate::StorageError;
use chrono::{DateTime, Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::sync::Arc;
use tiembed_types::Value;

const ROW_FORMAT: u8 = 1;

const T_NULL: u8 = 0;
const T_INT: u8 = 1;
const T_UINT: u8 = 2;
const T_FLOAT: u8 = 3;
const T_DOUBLE: u8 = 4;
const T_DECIMAL: u8 = 5;
const T_STR: u8 = 6;
const T_BYTES: u8 = 7;
const T_DATE: u8 = 8;
const T_DATETIME: u8 = 9;
const T_JSON: u8 = 10;
const T_VECTOR: u8 = 11;

/// Encodes a row's values.
pub fn encode_row(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + values.len() * 9);
    out.push(ROW_FORMAT);
    put_varint(&mut out, values.len() as u128);
    for v in values {
        encode_one(v, &mut out);
    }
    out
}

fn encode_one(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(T_NULL),
        Value::Int(i) => {
            out.push(T_INT);
            put_varint(out, zigzag(*i as i128));
        }
        Value::UInt(u) => {
            out.push(T_UINT);
            put_varint(out, *u as u128);
        }
        Value::Float(f) => {
            out.push(T_FLOAT);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Double(d) => {
            out.push(T_DOUBLE);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Value::Decimal(d) => {
            out.push(T_DECIMAL);
            // scale <= 28 always fits a byte.
            out.push(d.scale() as u8);
            put_varint(out, zigzag(d.mantissa()));
        }
        Value::Str(s) => put_bytes(out, T_STR, s.as_bytes()),
        Value::Bytes(b) => put_bytes(out, T_BYTES, b),
        Value::Date(d) => {
            out.push(T_DATE);
            put_varint(out, zigzag(d.num_days_from_ce() as i128));
        }
        Value::DateTime(dt) => {
            out.push(T_DATETIME);
            let utc = dt.and_utc();
            put_varint(out, zigzag(utc.timestamp() as i128));
            put_varint(out, utc.timestamp_subsec_nanos() as u128);
        }
        Value::Json(j) => put_bytes(out, T_JSON, j.to_string().as_bytes()),
        Value::Vector(v) => {
            out.push(T_VECTOR);
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            out.reserve(v.len() * 4);
            for x in v.iter() {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
    }
}

/// Decodes the values a row was written with (possibly fewer than the
/// table has columns now).
pub fn decode_row(bytes: &[u8]) -> Result<Vec<Value>, StorageError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let format = r.byte()?;
    if format != ROW_FORMAT {
        return Err(corrupt(format!("unknown row format {format}")));
    }
    let n = r.varint()?;
    // A corrupt count must not make us allocate gigabytes up front.
    let mut values = Vec::with_capacity((n as usize).min(bytes.len()));
    for _ in 0..n {
        values.push(r.value()?);
    }
    if r.pos != bytes.len() {
        return Err(corrupt("trailing bytes after the last value".into()));
    }
    Ok(values)
}

fn corrupt(detail: String) -> StorageError {
    StorageError::Corrupt {
        what: "row",
        detail,
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StorageError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        let end = end.ok_or_else(|| corrupt(format!("truncated at byte {}", self.pos)))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, StorageError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], StorageError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn varint(&mut self) -> Result<u128, StorageError> {
        let mut v: u128 = 0;
        for shift in (0..128).step_by(7) {
            let b = self.byte()?;
            v |= ((b & 0x7F) as u128) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt("varint too long".into()))
    }

    fn signed(&mut self) -> Result<i128, StorageError> {
        Ok(unzigzag(self.varint()?))
    }

    fn len_prefixed(&mut self) -> Result<&'a [u8], StorageError> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| corrupt("length overflows".into()))?;
        self.take(n)
    }

    fn value(&mut self) -> Result<Value, StorageError> {
        let tag = self.byte()?;
        Ok(match tag {
            T_NULL => Value::Null,
            T_INT => Value::Int(
                i64::try_from(self.signed()?).map_err(|_| corrupt("int out of range".into()))?,
            ),
            T_UINT => Value::UInt(
                u64::try_from(self.varint()?).map_err(|_| corrupt("uint out of range".into()))?,
            ),
            T_FLOAT => Value::Float(f32::from_le_bytes(self.array()?)),
            T_DOUBLE => Value::Double(f64::from_le_bytes(self.array()?)),
            T_DECIMAL => {
                let scale = self.byte()? as u32;
                let mantissa = self.signed()?;
                Value::Decimal(
                    Decimal::try_from_i128_with_scale(mantissa, scale)
                        .map_err(|e| corrupt(format!("decimal: {e}")))?,
                )
            }
            T_STR => {
                let b = self.len_prefixed()?;
                Value::Str(
                    std::str::from_utf8(b)
                        .map_err(|e| corrupt(format!("string: {e}")))?
                        .to_owned(),
                )
            }
            T_BYTES => Value::Bytes(self.len_prefixed()?.to_vec()),
            T_DATE => {
                let days = i32::try_from(self.signed()?)
                    .map_err(|_| corrupt("date out of range".into()))?;
                Value::Date(
                    NaiveDate::from_num_days_from_ce_opt(days)
                        .ok_or_else(|| corrupt("date out of range".into()))?,
                )
            }
            T_DATETIME => {
                let secs = i64::try_from(self.signed()?)
                    .map_err(|_| corrupt("datetime out of range".into()))?;
                let nanos =
                    u32::try_from(self.varint()?).map_err(|_| corrupt("datetime nanos".into()))?;
                let dt = DateTime::from_timestamp(secs, nanos)
                    .ok_or_else(|| corrupt("datetime out of range".into()))?;
                Value::DateTime(dt.naive_utc())
            }
            T_JSON => {
                let text = self.len_prefixed()?;
                Value::json(
                    serde_json::from_slice(text).map_err(|e| corrupt(format!("json: {e}")))?,
                )
            }
            T_VECTOR => {
                let n = u32::from_le_bytes(self.array()?) as usize;
                let raw = self.take(
                    n.checked_mul(4)
                        .ok_or_else(|| corrupt("vector length".into()))?,
                )?;
                let v: Arc<[f32]> = raw
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                Value::Vector(v)
            }
            other => return Err(corrupt(format!("unknown value tag {other}"))),
        })
    }
}

fn put_bytes(out: &mut Vec<u8>, tag: u8, b: &[u8]) {
    out.push(tag);
    put_varint(out, b.len() as u128);
    out.extend_from_slice(b);
}

fn put_varint(out: &mut Vec<u8>, mut v: u128) {
    loop {
        let b = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn zigzag(v: i128) -> u128 {
    ((v << 1) ^ (v >> 127)) as u128
}

fn unzigzag(v: u128) -> i128 {
    ((v >> 1) as i128) ^ -((v & 1) as i128)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::Int),
            any::<u64>().prop_map(Value::UInt),
            any::<f32>()
                .prop_filter("NaN != NaN", |f| !f.is_nan())
                .prop_map(Value::Float),
            any::<f64>()
                .prop_filter("NaN != NaN", |f| !f.is_nan())
                .prop_map(Value::Double),
            (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Value::Decimal(Decimal::new(m, s))),
            ".{0,12}".prop_map(Value::Str),
            proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::Bytes),
            (-300_000i32..3_000_000).prop_map(|d| Value::Date(
                NaiveDate::from_num_days_from_ce_opt(d).unwrap_or_default()
            )),
            (-30_610_224_000i64..253_402_300_799, 0u32..1_000_000_000).prop_map(|(s, n)| {
                Value::DateTime(
                    DateTime::from_timestamp(s, n)
                        .map(|d| d.naive_utc())
                        .unwrap_or_default(),
                )
            }),
            (any::<i32>(), "[a-z]{0,4}").prop_map(|(i, s)| Value::json(
                serde_json::json!({"k": i, "s": s, "a": [1.5, null]})
            )),
            proptest::collection::vec(any::<f32>().prop_filter("no NaN", |f| !f.is_nan()), 0..20)
                .prop_map(Value::vector),
        ]
    }

    proptest! {
        #[test]
        fn rows_round_trip(row in proptest::collection::vec(value(), 0..10)) {
            let bytes = encode_row(&row);
            prop_assert_eq!(decode_row(&bytes).unwrap(), row);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = decode_row(&bytes);
        }
    }

    #[test]
    fn vectors_are_little_endian_f32() {
        let bytes = encode_row(&[Value::vector(vec![1.0, -2.5])]);
        assert_eq!(&bytes[..3], &[ROW_FORMAT, 1, T_VECTOR]);
        assert_eq!(&bytes[3..7], &2u32.to_le_bytes());
        assert_eq!(&bytes[7..11], &1.0f32.to_le_bytes());
        assert_eq!(&bytes[11..15], &(-2.5f32).to_le_bytes());
    }

    #[test]
    fn small_ints_are_compact() {
        assert_eq!(
            encode_row(&[Value::Int(1), Value::Null]).len(),
            1 + 1 + 2 + 1
        );
    }

    #[test]
    fn short_rows_decode_to_fewer_values() {
        let old = encode_row(&[Value::Int(1)]);
        assert_eq!(decode_row(&old).unwrap(), vec![Value::Int(1)]);
    }

    #[test]
    fn truncated_rows_are_errors() {
        let bytes = encode_row(&[Value::Str("hello".into())]);
        assert!(matches!(
            decode_row(&bytes[..bytes.len() - 1]),
            Err(StorageError::Corrupt { .. })
        ));
    }
}
