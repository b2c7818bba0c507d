//! COM_STMT_EXECUTE: validation and parameter decoding.
//!
//! opensrv 0.7.0's parameter parser indexes and `unwrap()`s its way through
//! the payload and panics on a short packet, on an unknown type code, or on
//! a first execution that does not send types. tiembed therefore decodes
//! the whole packet here, before opensrv sees it: a packet for an unknown
//! statement gets ERROR 1243, a malformed one ERROR 1210, and opensrv's
//! parser is never run (the shim takes the values decoded here).

use crate::conn::StmtMeta;
use crate::cursor::Cursor;
use crate::errors::{to_wire, WireError};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;
use tiembed_types::{Error, Value};

/// MySQL's field type codes as they appear in a parameter type list (the
/// full table, so the ranges below read as MySQL documents them).
#[allow(dead_code)]
mod ty {
    pub const DECIMAL: u8 = 0x00;
    pub const TINY: u8 = 0x01;
    pub const SHORT: u8 = 0x02;
    pub const LONG: u8 = 0x03;
    pub const FLOAT: u8 = 0x04;
    pub const DOUBLE: u8 = 0x05;
    pub const NULL: u8 = 0x06;
    pub const TIMESTAMP: u8 = 0x07;
    pub const LONGLONG: u8 = 0x08;
    pub const INT24: u8 = 0x09;
    pub const DATE: u8 = 0x0A;
    pub const TIME: u8 = 0x0B;
    pub const DATETIME: u8 = 0x0C;
    pub const YEAR: u8 = 0x0D;
    pub const VARCHAR: u8 = 0x0F;
    pub const BIT: u8 = 0x10;
    pub const JSON: u8 = 0xF5;
    pub const NEWDECIMAL: u8 = 0xF6;
    pub const ENUM: u8 = 0xF7;
    pub const SET: u8 = 0xF8;
    pub const TINY_BLOB: u8 = 0xF9;
    pub const MEDIUM_BLOB: u8 = 0xFA;
    pub const LONG_BLOB: u8 = 0xFB;
    pub const BLOB: u8 = 0xFC;
    pub const VAR_STRING: u8 = 0xFD;
    pub const STRING: u8 = 0xFE;
    pub const GEOMETRY: u8 = 0xFF;
}

fn is_known_type(t: u8) -> bool {
    matches!(t, ty::DECIMAL..=ty::YEAR | ty::VARCHAR | ty::BIT | ty::JSON..=ty::GEOMETRY)
}

/// Types whose values are bytes by contract (the rest of the string types
/// are character data).
fn is_binary_type(t: u8) -> bool {
    matches!(t, ty::TINY_BLOB..=ty::BLOB | ty::GEOMETRY | ty::BIT)
}

fn malformed() -> WireError {
    to_wire(&Error::WrongArguments("mysqld_stmt_execute".into()))
}

/// Decodes the body of a COM_STMT_EXECUTE (the payload after the command
/// byte) against the statements the connection has prepared. On success
/// the statement's remembered types are updated and its long data consumed.
pub fn parse_execute(
    body: &[u8],
    stmts: &mut HashMap<u32, StmtMeta>,
) -> Result<(u32, Vec<Value>), WireError> {
    let mut c = Cursor::new(body);
    let id = c.u32().ok_or_else(malformed)?;
    let Some(meta) = stmts.get_mut(&id) else {
        return Err(to_wire(&Error::UnknownStatement(
            id.to_string(),
            "mysqld_stmt_execute".into(),
        )));
    };
    // flags (cursor type) and iteration count: read so that a packet too
    // short to hold them is refused; tiembed never opens cursors, and a
    // client asking for one reads the rows as an ordinary result set.
    c.u8().ok_or_else(malformed)?;
    c.u32().ok_or_else(malformed)?;
    let n = usize::from(meta.params);
    if n == 0 {
        meta.long_data.clear();
        return Ok((id, Vec::new()));
    }
    let null_bitmap = c.take(n.div_ceil(8)).ok_or_else(malformed)?;
    let new_bound = c.u8().ok_or_else(malformed)?;
    let types = if new_bound == 1 {
        let mut types = Vec::with_capacity(n);
        for _ in 0..n {
            let t = c.u8().ok_or_else(malformed)?;
            let flags = c.u8().ok_or_else(malformed)?;
            if !is_known_type(t) {
                return Err(malformed());
            }
            types.push((t, flags & 0x80 != 0));
        }
        types
    } else {
        // Types must have been sent by an earlier execution.
        meta.types.clone().ok_or_else(malformed)?
    };
    let mut values = Vec::with_capacity(n);
    for (i, &(t, unsigned)) in types.iter().enumerate() {
        let is_null = null_bitmap[i / 8] & (1 << (i % 8)) != 0;
        let v = if is_null || t == ty::NULL {
            Value::Null
        } else if let Some(data) = meta.long_data.get(&(i as u16)) {
            // A parameter sent with COM_STMT_SEND_LONG_DATA is absent from
            // the execute packet.
            bytes_value(t, data)
        } else {
            decode_value(&mut c, t, unsigned).ok_or_else(malformed)?
        };
        values.push(v);
    }
    meta.types = Some(types);
    meta.long_data.clear();
    Ok((id, values))
}

fn bytes_value(t: u8, data: &[u8]) -> Value {
    if is_binary_type(t) {
        return Value::Bytes(data.to_vec());
    }
    match std::str::from_utf8(data) {
        Ok(s) if matches!(t, ty::DECIMAL | ty::NEWDECIMAL) => match Decimal::from_str(s.trim()) {
            Ok(d) => Value::Decimal(d),
            Err(_) => Value::Str(s.to_string()),
        },
        Ok(s) => Value::Str(s.to_string()),
        Err(_) => Value::Bytes(data.to_vec()),
    }
}

fn int_value(v: u64, unsigned: bool) -> Value {
    if unsigned && v > i64::MAX as u64 {
        Value::UInt(v)
    } else {
        Value::Int(v as i64)
    }
}

fn decode_value(c: &mut Cursor<'_>, t: u8, unsigned: bool) -> Option<Value> {
    Some(match t {
        ty::TINY => {
            let b = c.u8()?;
            Value::Int(if unsigned {
                i64::from(b)
            } else {
                i64::from(b as i8)
            })
        }
        ty::SHORT | ty::YEAR => {
            let v = c.u16()?;
            Value::Int(if unsigned {
                i64::from(v)
            } else {
                i64::from(v as i16)
            })
        }
        ty::LONG | ty::INT24 => {
            let v = c.u32()?;
            Value::Int(if unsigned {
                i64::from(v)
            } else {
                i64::from(v as i32)
            })
        }
        ty::LONGLONG => {
            let v = c.u64()?;
            if unsigned {
                int_value(v, true)
            } else {
                Value::Int(v as i64)
            }
        }
        ty::FLOAT => Value::Float(f32::from_le_bytes(c.take(4)?.try_into().ok()?)),
        ty::DOUBLE => Value::Double(f64::from_le_bytes(c.take(8)?.try_into().ok()?)),
        ty::DATE | ty::DATETIME | ty::TIMESTAMP => decode_datetime(c, t == ty::DATE)?,
        ty::TIME => decode_time(c)?,
        _ => bytes_value(t, c.lenenc_bytes()?),
    })
}

/// DATE / DATETIME / TIMESTAMP: a length byte (0, 4, 7 or 11) and that
/// many bytes. Dates chrono cannot represent (zero dates, month 13) are
/// passed on as their text so the engine reports them as MySQL would.
fn decode_datetime(c: &mut Cursor<'_>, date_only: bool) -> Option<Value> {
    let len = c.u8()?;
    let b = c.take(usize::from(len))?;
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut us) =
        (0u16, 0u8, 0u8, 0u8, 0u8, 0u8, 0u32);
    match len {
        0 => {}
        4 | 7 | 11 => {
            y = u16::from_le_bytes([b[0], b[1]]);
            mo = b[2];
            d = b[3];
            if len >= 7 {
                h = b[4];
                mi = b[5];
                s = b[6];
            }
            if len == 11 {
                us = u32::from_le_bytes([b[7], b[8], b[9], b[10]]);
            }
        }
        _ => return None,
    }
    let date = NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d));
    if date_only {
        return Some(match date {
            Some(date) => Value::Date(date),
            None => Value::Str(format!("{y:04}-{mo:02}-{d:02}")),
        });
    }
    let time = NaiveTime::from_hms_micro_opt(u32::from(h), u32::from(mi), u32::from(s), us);
    Some(match (date, time) {
        (Some(date), Some(time)) => Value::DateTime(NaiveDateTime::new(date, time)),
        _ if us > 0 => Value::Str(format!(
            "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}"
        )),
        _ => Value::Str(format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")),
    })
}

/// TIME: a length byte (0, 8 or 12), sign, days, h, m, s, microseconds.
/// tiembed has no TIME value, so it becomes MySQL's text form.
fn decode_time(c: &mut Cursor<'_>) -> Option<Value> {
    let len = c.u8()?;
    let b = c.take(usize::from(len))?;
    let text = match len {
        0 => "00:00:00".to_string(),
        8 | 12 => {
            let neg = b[0] != 0;
            let days = u32::from_le_bytes([b[1], b[2], b[3], b[4]]);
            let hours = u64::from(days) * 24 + u64::from(b[5]);
            let mut t = format!(
                "{}{:02}:{:02}:{:02}",
                if neg { "-" } else { "" },
                hours,
                b[6],
                b[7]
            );
            if len == 12 {
                let us = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
                t.push_str(&format!(".{us:06}"));
            }
            t
        }
        _ => return None,
    };
    Some(Value::Str(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmts(id: u32, params: u16) -> HashMap<u32, StmtMeta> {
        let mut m = HashMap::new();
        m.insert(
            id,
            StmtMeta {
                params,
                ..Default::default()
            },
        );
        m
    }

    fn header(id: u32) -> Vec<u8> {
        let mut b = id.to_le_bytes().to_vec();
        b.push(0); // flags
        b.extend_from_slice(&1u32.to_le_bytes()); // iterations
        b
    }

    #[test]
    fn decodes_typed_parameters() {
        let mut m = stmts(7, 5);
        let mut b = header(7);
        b.push(0b0000_0100); // third parameter NULL
        b.push(1); // new params bound
        for (t, f) in [
            (ty::DOUBLE, 0),
            (ty::VAR_STRING, 0),
            (ty::NULL, 0),
            (ty::TINY, 0x80),
            (ty::DATETIME, 0),
        ] {
            b.extend_from_slice(&[t, f]);
        }
        b.extend_from_slice(&1.0f64.to_le_bytes());
        b.extend_from_slice(&[5, b'h', b'e', b'l', b'l', b'o']);
        b.push(200);
        b.extend_from_slice(&[7, 0xE8, 0x07, 2, 29, 13, 5, 9]);
        let (id, v) = parse_execute(&b, &mut m).unwrap();
        assert_eq!(id, 7);
        let dt = NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_opt(13, 5, 9)
            .unwrap();
        assert_eq!(
            v,
            vec![
                Value::Double(1.0),
                Value::Str("hello".into()),
                Value::Null,
                Value::Int(200),
                Value::DateTime(dt)
            ]
        );
        // Types are remembered for executions that do not resend them.
        let mut b2 = header(7);
        b2.push(0b0001_1110);
        b2.push(0);
        b2.extend_from_slice(&2.5f64.to_le_bytes());
        let (_, v) = parse_execute(&b2, &mut m).unwrap();
        assert_eq!(
            v,
            vec![
                Value::Double(2.5),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ]
        );
    }

    #[test]
    fn signed_and_unsigned_integers() {
        let mut m = stmts(1, 3);
        let mut b = header(1);
        b.push(0);
        b.push(1);
        b.extend_from_slice(&[ty::TINY, 0, ty::LONGLONG, 0x80, ty::LONG, 0]);
        b.push(0xFF);
        b.extend_from_slice(&u64::MAX.to_le_bytes());
        b.extend_from_slice(&(-5i32).to_le_bytes());
        let (_, v) = parse_execute(&b, &mut m).unwrap();
        assert_eq!(
            v,
            vec![Value::Int(-1), Value::UInt(u64::MAX), Value::Int(-5)]
        );
    }

    #[test]
    fn unknown_statement_is_1243() {
        let mut m = stmts(1, 0);
        let e = parse_execute(&header(9), &mut m).unwrap_err();
        assert_eq!(e.code, 1243);
        assert_eq!(
            e.message,
            "Unknown prepared statement handler (9) given to mysqld_stmt_execute"
        );
    }

    #[test]
    fn malformed_packets_are_1210_never_panics() {
        let mut full = header(1);
        full.push(0);
        full.push(1);
        full.extend_from_slice(&[ty::VAR_STRING, 0, ty::LONGLONG, 0]);
        full.extend_from_slice(&[3, b'a', b'b', b'c']);
        full.extend_from_slice(&5i64.to_le_bytes());
        let mut m = stmts(1, 2);
        assert!(parse_execute(&full, &mut m).is_ok());
        // Every truncation of a valid packet is refused cleanly.
        for cut in 0..full.len() {
            let mut m = stmts(1, 2);
            let r = parse_execute(&full[..cut], &mut m);
            let e = r.expect_err(&format!("cut at {cut}"));
            assert_eq!(e.code, 1210, "cut at {cut}");
        }
        // Unknown type code.
        let mut b = header(1);
        b.extend_from_slice(&[0, 1, 0x42, 0, 0x42, 0]);
        assert_eq!(parse_execute(&b, &mut stmts(1, 2)).unwrap_err().code, 1210);
        // First execution without types.
        let mut b = header(1);
        b.extend_from_slice(&[0, 0]);
        assert_eq!(parse_execute(&b, &mut stmts(1, 2)).unwrap_err().code, 1210);
        // Garbage.
        for len in 0..64 {
            let garbage: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let _ = parse_execute(
                &garbage,
                &mut stmts(u32::from_le_bytes([11, 48, 85, 122]), 3),
            );
        }
    }

    #[test]
    fn long_data_replaces_the_inline_value() {
        let mut m = stmts(1, 2);
        m.get_mut(&1)
            .unwrap()
            .long_data
            .insert(0, b"long text".to_vec());
        let mut b = header(1);
        b.push(0);
        b.push(1);
        b.extend_from_slice(&[ty::BLOB, 0, ty::STRING, 0]);
        b.extend_from_slice(&[1, b'x']);
        let (_, v) = parse_execute(&b, &mut m).unwrap();
        assert_eq!(
            v,
            vec![Value::Bytes(b"long text".to_vec()), Value::Str("x".into())]
        );
        assert!(m[&1].long_data.is_empty());
    }

    #[test]
    fn time_and_zero_dates_become_text() {
        let mut m = stmts(1, 2);
        let mut b = header(1);
        b.push(0);
        b.push(1);
        b.extend_from_slice(&[ty::TIME, 0, ty::DATE, 0]);
        b.extend_from_slice(&[8, 1, 1, 0, 0, 0, 2, 3, 4]);
        b.push(0);
        let (_, v) = parse_execute(&b, &mut m).unwrap();
        assert_eq!(
            v,
            vec![
                Value::Str("-26:03:04".into()),
                Value::Str("0000-00-00".into())
            ]
        );
    }
}
