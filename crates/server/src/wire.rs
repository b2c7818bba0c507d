//! Payload encoders for the server's replies: OK, ERR, EOF, column
//! definitions, text and binary rows, COM_STMT_PREPARE_OK.
//!
//! tiembed writes these itself instead of using opensrv's writers, which
//! fix every column's charset to utf8_general_ci, its length to 1024 and
//! its decimals to 0, always report zero warnings, and never put
//! AUTOCOMMIT / IN_TRANS into result-set terminators.

use crate::columns::{WireColumn, WireType};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use tiembed_types::Value;

/// `SERVER_STATUS_*` bits.
pub mod status {
    pub const IN_TRANS: u16 = 0x0001;
    pub const AUTOCOMMIT: u16 = 0x0002;
    pub const MORE_RESULTS_EXISTS: u16 = 0x0008;
}

pub fn put_lenenc_int(out: &mut Vec<u8>, v: u64) {
    if v < 251 {
        out.push(v as u8);
    } else if v < 1 << 16 {
        out.push(0xFC);
        out.extend_from_slice(&(v as u16).to_le_bytes());
    } else if v < 1 << 24 {
        out.push(0xFD);
        out.extend_from_slice(&(v as u32).to_le_bytes()[..3]);
    } else {
        out.push(0xFE);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

pub fn put_lenenc_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_lenenc_int(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// What an OK packet reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OkInfo {
    pub affected_rows: u64,
    pub last_insert_id: u64,
    pub status: u16,
    pub warnings: u16,
    pub info: String,
}

/// OK packet; `eof_header` gives the 0xFE-headed form that ends a result
/// set when CLIENT_DEPRECATE_EOF was negotiated.
pub fn ok_payload(out: &mut Vec<u8>, ok: &OkInfo, eof_header: bool) {
    out.push(if eof_header { 0xFE } else { 0x00 });
    put_lenenc_int(out, ok.affected_rows);
    put_lenenc_int(out, ok.last_insert_id);
    out.extend_from_slice(&ok.status.to_le_bytes());
    out.extend_from_slice(&ok.warnings.to_le_bytes());
    // The protocol documentation says string<EOF>, but MySQL's
    // net_send_ok writes a length-encoded string and clients (libmariadb,
    // mysql_common) read one: "Records: 3" sent raw is a malformed packet.
    if !ok.info.is_empty() {
        put_lenenc_bytes(out, ok.info.as_bytes());
    }
}

pub fn err_payload(out: &mut Vec<u8>, code: u16, sqlstate: &str, msg: &str) {
    out.push(0xFF);
    out.extend_from_slice(&code.to_le_bytes());
    out.push(b'#');
    let state = sqlstate.as_bytes();
    // SQLSTATE is exactly five characters on the wire.
    for i in 0..5 {
        out.push(state.get(i).copied().unwrap_or(b'0'));
    }
    out.extend_from_slice(msg.as_bytes());
}

pub fn eof_payload(out: &mut Vec<u8>, warnings: u16, status: u16) {
    out.push(0xFE);
    out.extend_from_slice(&warnings.to_le_bytes());
    out.extend_from_slice(&status.to_le_bytes());
}

/// Protocol::ColumnDefinition41. `field_list_default` adds the trailing
/// default-value field COM_FIELD_LIST replies carry (`None` = NULL).
pub fn column_def_payload(
    out: &mut Vec<u8>,
    c: &WireColumn,
    field_list_default: Option<Option<&[u8]>>,
) {
    put_lenenc_bytes(out, b"def");
    put_lenenc_bytes(out, c.schema.as_bytes());
    put_lenenc_bytes(out, c.table.as_bytes());
    put_lenenc_bytes(out, c.org_table.as_bytes());
    put_lenenc_bytes(out, c.name.as_bytes());
    put_lenenc_bytes(out, c.org_name.as_bytes());
    out.push(0x0C);
    out.extend_from_slice(&c.wire.charset.to_le_bytes());
    out.extend_from_slice(&c.wire.length.to_le_bytes());
    out.push(c.wire.ty as u8);
    out.extend_from_slice(&c.wire.flags.to_le_bytes());
    out.push(c.wire.decimals);
    out.extend_from_slice(&[0, 0]);
    if let Some(default) = field_list_default {
        match default {
            None => out.push(0xFB),
            Some(b) => put_lenenc_bytes(out, b),
        }
    }
}

/// A text-protocol row of `ncols` values: each as a length-encoded
/// string, NULL as 0xFB. A row shorter than the column list (which the
/// engine should never produce) is padded with NULLs rather than sent
/// malformed.
pub fn text_row_payload(out: &mut Vec<u8>, ncols: usize, row: &[Value]) {
    for i in 0..ncols {
        match row.get(i).unwrap_or(&Value::Null) {
            Value::Null => out.push(0xFB),
            Value::Str(s) => put_lenenc_bytes(out, s.as_bytes()),
            Value::Bytes(b) => put_lenenc_bytes(out, b),
            other => match other.to_text() {
                Some(t) => put_lenenc_bytes(out, t.as_bytes()),
                None => out.push(0xFB),
            },
        }
    }
}

/// A binary-protocol row. The caller has checked with
/// [`crate::columns::fits`] that every value suits its column's wire type,
/// so the numeric conversions below never lose information.
pub fn binary_row_payload(out: &mut Vec<u8>, cols: &[WireColumn], row: &[Value]) {
    out.push(0x00);
    let bitmap_at = out.len();
    let bitmap_len = (cols.len() + 7 + 2) / 8;
    out.resize(bitmap_at + bitmap_len, 0);
    for (i, c) in cols.iter().enumerate() {
        let v = row.get(i).unwrap_or(&Value::Null);
        if v.is_null() {
            let bit = i + 2;
            out[bitmap_at + bit / 8] |= 1 << (bit % 8);
            continue;
        }
        put_binary_value(out, &c.wire, v);
    }
}

fn put_binary_value(out: &mut Vec<u8>, w: &WireType, v: &Value) {
    use opensrv_mysql::ColumnType as T;
    match w.ty {
        T::MYSQL_TYPE_TINY => out.push(int_bits(v) as u8),
        T::MYSQL_TYPE_SHORT | T::MYSQL_TYPE_YEAR => {
            out.extend_from_slice(&(int_bits(v) as u16).to_le_bytes())
        }
        T::MYSQL_TYPE_INT24 | T::MYSQL_TYPE_LONG => {
            out.extend_from_slice(&(int_bits(v) as u32).to_le_bytes())
        }
        T::MYSQL_TYPE_LONGLONG => out.extend_from_slice(&int_bits(v).to_le_bytes()),
        T::MYSQL_TYPE_FLOAT => {
            let f = match v {
                Value::Float(f) => *f,
                Value::Double(d) => *d as f32,
                other => int_as_f64(other) as f32,
            };
            out.extend_from_slice(&f.to_le_bytes());
        }
        T::MYSQL_TYPE_DOUBLE => {
            let d = match v {
                Value::Float(f) => f64::from(*f),
                Value::Double(d) => *d,
                other => int_as_f64(other),
            };
            out.extend_from_slice(&d.to_le_bytes());
        }
        T::MYSQL_TYPE_DATE => match v {
            Value::Date(d) => put_binary_date(out, d),
            Value::DateTime(dt) => put_binary_date(out, &dt.date()),
            _ => out.push(0),
        },
        T::MYSQL_TYPE_DATETIME | T::MYSQL_TYPE_TIMESTAMP => match v {
            Value::DateTime(dt) => put_binary_datetime(out, dt),
            Value::Date(d) => put_binary_date(out, d),
            _ => out.push(0),
        },
        // Everything else is a length-encoded string on the wire.
        _ => match v {
            Value::Str(s) => put_lenenc_bytes(out, s.as_bytes()),
            Value::Bytes(b) => put_lenenc_bytes(out, b),
            other => put_lenenc_bytes(out, other.to_text().unwrap_or_default().as_bytes()),
        },
    }
}

/// The two's-complement bits of an integer value (unsigned values keep
/// their bit pattern, which is what the UNSIGNED flag tells the client).
fn int_bits(v: &Value) -> u64 {
    match v {
        Value::Int(i) => *i as u64,
        Value::UInt(u) => *u,
        _ => 0,
    }
}

fn int_as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::UInt(u) => *u as f64,
        _ => 0.0,
    }
}

fn put_binary_date(out: &mut Vec<u8>, d: &NaiveDate) {
    out.push(4);
    out.extend_from_slice(&(d.year() as u16).to_le_bytes());
    out.push(d.month() as u8);
    out.push(d.day() as u8);
}

fn put_binary_datetime(out: &mut Vec<u8>, dt: &NaiveDateTime) {
    let micros = dt.nanosecond() / 1000;
    let has_time = dt.hour() != 0 || dt.minute() != 0 || dt.second() != 0;
    let len: u8 = if micros != 0 {
        11
    } else if has_time {
        7
    } else {
        4
    };
    out.push(len);
    out.extend_from_slice(&(dt.year() as u16).to_le_bytes());
    out.push(dt.month() as u8);
    out.push(dt.day() as u8);
    if len >= 7 {
        out.push(dt.hour() as u8);
        out.push(dt.minute() as u8);
        out.push(dt.second() as u8);
    }
    if len == 11 {
        out.extend_from_slice(&micros.to_le_bytes());
    }
}

/// COM_STMT_PREPARE_OK's first packet.
pub fn prepare_ok_payload(out: &mut Vec<u8>, id: u32, columns: u16, params: u16, warnings: u16) {
    out.push(0x00);
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&columns.to_le_bytes());
    out.extend_from_slice(&params.to_le_bytes());
    out.push(0x00);
    out.extend_from_slice(&warnings.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::WireColumn;
    use opensrv_mysql::ColumnType as T;

    #[test]
    fn lenenc_boundaries() {
        let cases: &[(u64, &[u8])] = &[
            (0, &[0]),
            (250, &[250]),
            (251, &[0xFC, 251, 0]),
            (65535, &[0xFC, 0xFF, 0xFF]),
            (65536, &[0xFD, 0, 0, 1]),
            (16_777_216, &[0xFE, 0, 0, 0, 1, 0, 0, 0, 0]),
        ];
        for (v, want) in cases {
            let mut out = Vec::new();
            put_lenenc_int(&mut out, *v);
            assert_eq!(&out[..], *want, "{v}");
        }
    }

    #[test]
    fn err_packet_layout() {
        let mut out = Vec::new();
        err_payload(&mut out, 1146, "42S02", "Table 'test.t' doesn't exist");
        assert_eq!(
            &out[..9],
            &[0xFF, 0x7A, 0x04, b'#', b'4', b'2', b'S', b'0', b'2']
        );
        assert_eq!(&out[9..], b"Table 'test.t' doesn't exist");
    }

    #[test]
    fn ok_packet_layout() {
        let mut out = Vec::new();
        let ok = OkInfo {
            affected_rows: 3,
            last_insert_id: 300,
            status: 2,
            warnings: 1,
            info: String::new(),
        };
        ok_payload(&mut out, &ok, false);
        assert_eq!(out, vec![0, 3, 0xFC, 0x2C, 0x01, 2, 0, 1, 0]);
        out.clear();
        ok_payload(
            &mut out,
            &OkInfo {
                info: "Rows matched: 1".into(),
                ..Default::default()
            },
            false,
        );
        assert_eq!(&out[7..], b"\x0fRows matched: 1");
    }

    #[test]
    fn binary_row_null_bitmap_and_values() {
        let cols = vec![
            WireColumn::synthetic("a", WireType::of_kind(T::MYSQL_TYPE_LONGLONG)),
            WireColumn::synthetic("b", WireType::of_kind(T::MYSQL_TYPE_VAR_STRING)),
            WireColumn::synthetic("c", WireType::of_kind(T::MYSQL_TYPE_DOUBLE)),
        ];
        let row = vec![Value::Int(-2), Value::Null, Value::Double(1.5)];
        let mut out = Vec::new();
        binary_row_payload(&mut out, &cols, &row);
        let mut want = vec![0x00, 0b0000_1000];
        want.extend_from_slice(&(-2i64).to_le_bytes());
        want.extend_from_slice(&1.5f64.to_le_bytes());
        assert_eq!(out, want);
    }

    #[test]
    fn binary_datetime_lengths() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let mut out = Vec::new();
        put_binary_datetime(&mut out, &d.and_hms_opt(0, 0, 0).unwrap());
        assert_eq!(out, vec![4, 0xE8, 0x07, 2, 29]);
        out.clear();
        put_binary_datetime(&mut out, &d.and_hms_opt(13, 5, 9).unwrap());
        assert_eq!(out, vec![7, 0xE8, 0x07, 2, 29, 13, 5, 9]);
        out.clear();
        put_binary_datetime(&mut out, &d.and_hms_micro_opt(13, 5, 9, 42).unwrap());
        assert_eq!(out, vec![11, 0xE8, 0x07, 2, 29, 13, 5, 9, 42, 0, 0, 0]);
    }

    #[test]
    fn text_row_encoding() {
        let mut out = Vec::new();
        text_row_payload(
            &mut out,
            4,
            &[Value::Int(42), Value::Null, Value::Str("hé".into())],
        );
        assert_eq!(out, vec![2, b'4', b'2', 0xFB, 3, b'h', 0xC3, 0xA9, 0xFB]);
    }
}
