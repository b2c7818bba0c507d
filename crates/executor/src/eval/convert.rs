//! Implicit conversions between value kinds, as MySQL applies them when an
//! operator or function needs a number, a string, a boolean, a date or a
//! vector. Explicit `CAST` builds on these (see `cast.rs`).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::str::FromStr;
use tiembed_types::{Error, Result, Value};

/// A value in numeric context, before the operation picks its arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i64),
    UInt(u64),
    Dec(Decimal),
    Float(f64),
}

impl Num {
    pub fn to_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::UInt(u) => u as f64,
            Num::Dec(d) => d.to_f64().unwrap_or(0.0),
            Num::Float(f) => f,
        }
    }

    /// Exact decimal form of an integer or decimal (doubles go through
    /// their shortest text, as MySQL converts them).
    pub fn to_decimal(self) -> Option<Decimal> {
        match self {
            Num::Int(i) => Some(Decimal::from(i)),
            Num::UInt(u) => Some(Decimal::from(u)),
            Num::Dec(d) => Some(d),
            Num::Float(f) => f64_to_decimal(f),
        }
    }

    pub fn into_value(self) -> Value {
        match self {
            Num::Int(i) => Value::Int(i),
            Num::UInt(u) => Value::UInt(u),
            Num::Dec(d) => Value::Decimal(d),
            Num::Float(f) => Value::Double(f),
        }
    }
}

/// Short lower-case name of a value's kind, for error texts.
pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Int(_) => "bigint",
        Value::UInt(_) => "bigint unsigned",
        Value::Float(_) => "float",
        Value::Double(_) => "double",
        Value::Decimal(_) => "decimal",
        Value::Str(_) => "varchar",
        Value::Bytes(_) => "varbinary",
        Value::Date(_) => "date",
        Value::DateTime(_) => "datetime",
        Value::Json(_) => "json",
        Value::Vector(_) => "vector",
    }
}

fn vector_to_number_error() -> Error {
    Error::other("cannot cast from vector to number")
}

/// The value in numeric context; `None` for NULL. Strings convert by their
/// longest numeric prefix (`'1abc'` is 1, `'abc'` is 0), dates as
/// `YYYYMMDD[hhmmss]` numbers, JSON scalars by value. Vectors cannot.
pub fn to_num(v: &Value) -> Result<Option<Num>> {
    Ok(Some(match v {
        Value::Null => return Ok(None),
        Value::Int(i) => Num::Int(*i),
        Value::UInt(u) => Num::UInt(*u),
        Value::Float(f) => Num::Float(*f as f64),
        Value::Double(d) => Num::Float(*d),
        Value::Decimal(d) => Num::Dec(*d),
        Value::Str(s) => Num::Float(str_to_f64(s)),
        Value::Bytes(b) => Num::Float(str_to_f64(&String::from_utf8_lossy(b))),
        Value::Date(d) => Num::Int(date_number(d)),
        Value::DateTime(dt) => datetime_number(dt),
        Value::Json(j) => Num::Float(json_to_f64(j)),
        Value::Vector(_) => return Err(vector_to_number_error()),
    }))
}

/// The value as a double (`None` for NULL).
pub fn to_f64(v: &Value) -> Result<Option<f64>> {
    Ok(to_num(v)?.map(Num::to_f64))
}

/// The value as an exact decimal where it has one (`None` for NULL).
/// Strings parse their numeric prefix exactly (`'1.10abc'` is 1.10).
pub fn to_decimal(v: &Value) -> Result<Option<Decimal>> {
    match v {
        Value::Str(s) => Ok(Some(str_to_decimal(s))),
        Value::Bytes(b) => Ok(Some(str_to_decimal(&String::from_utf8_lossy(b)))),
        other => Ok(to_num(other)?.map(|n| n.to_decimal().unwrap_or(Decimal::ZERO))),
    }
}

/// MySQL truthiness: NULL is unknown, numbers are true when non-zero,
/// strings by their numeric prefix.
pub fn truth(v: &Value) -> Result<Option<bool>> {
    Ok(Some(match v {
        Value::Null => return Ok(None),
        Value::Int(i) => *i != 0,
        Value::UInt(u) => *u != 0,
        Value::Float(f) => *f != 0.0,
        Value::Double(d) => *d != 0.0,
        Value::Decimal(d) => !d.is_zero(),
        Value::Str(s) => str_to_f64(s) != 0.0,
        Value::Bytes(b) => str_to_f64(&String::from_utf8_lossy(b)) != 0.0,
        Value::Date(_) | Value::DateTime(_) => true,
        Value::Json(j) => json_truth(j),
        Value::Vector(_) => return Err(Error::other("cannot cast from vector to boolean")),
    }))
}

fn json_truth(j: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match j {
        J::Bool(b) => *b,
        J::Number(_) | J::String(_) => json_to_f64(j) != 0.0,
        // MySQL evaluates a non-scalar or null JSON value as 0 in a condition.
        J::Null | J::Array(_) | J::Object(_) => false,
    }
}

/// A JSON value in numeric context (MySQL: booleans are 1/0, strings by
/// prefix, everything else 0).
pub fn json_to_f64(j: &serde_json::Value) -> f64 {
    use serde_json::Value as J;
    match j {
        J::Number(n) => n.as_f64().unwrap_or(0.0),
        J::Bool(b) => f64::from(u8::from(*b)),
        J::String(s) => str_to_f64(s),
        J::Null | J::Array(_) | J::Object(_) => 0.0,
    }
}

/// Length in bytes of the longest prefix of `s` (after leading whitespace)
/// that reads as a number: `[+-]digits[.digits][e[+-]digits]`. Returns
/// (start, end) of that prefix; start == end when there is none.
fn numeric_prefix(s: &str, allow_fraction: bool) -> (usize, usize) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let start = i;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if allow_fraction && i < b.len() && b[i] == b'.' {
        let frac_start = i + 1;
        let mut j = frac_start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if digits > 0 || j > frac_start {
            digits += j - frac_start;
            i = j;
        }
    }
    if digits == 0 {
        return (start, start);
    }
    if allow_fraction && i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    (start, i)
}

/// A string in numeric context: its longest numeric prefix as a double,
/// 0 when there is none (MySQL's `'1abc' + 0 = 1`, `'abc' + 0 = 0`).
pub fn str_to_f64(s: &str) -> f64 {
    let (a, b) = numeric_prefix(s, true);
    if a == b {
        return 0.0;
    }
    let text = &s[a..b];
    // A bare trailing dot (`'1.'`) is accepted by MySQL but not by Rust.
    let text = text.strip_suffix('.').unwrap_or(text);
    text.parse::<f64>().unwrap_or(0.0)
}

/// A string's numeric prefix as an exact decimal (0 when none).
pub fn str_to_decimal(s: &str) -> Decimal {
    let (a, b) = numeric_prefix(s, true);
    if a == b {
        return Decimal::ZERO;
    }
    let text = &s[a..b];
    let text = text.strip_prefix('+').unwrap_or(text);
    let text = text.strip_suffix('.').unwrap_or(text);
    if text.contains(['e', 'E']) {
        return Decimal::from_scientific(text)
            .ok()
            .or_else(|| text.parse::<f64>().ok().and_then(f64_to_decimal))
            .unwrap_or(Decimal::ZERO);
    }
    Decimal::from_str(text)
        .ok()
        .or_else(|| text.parse::<f64>().ok().and_then(f64_to_decimal))
        .unwrap_or(Decimal::ZERO)
}

/// A string's leading integer as CAST(.. AS SIGNED/UNSIGNED) reads it
/// (`'12.7abc'` is 12), widened so the caller can clamp or wrap.
pub fn str_to_int_prefix(s: &str) -> i128 {
    let (a, b) = numeric_prefix(s, false);
    if a == b {
        return 0;
    }
    let text = &s[a..b];
    let (neg, digits) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let mut acc: i128 = 0;
    for c in digits.bytes() {
        acc = acc.saturating_mul(10).saturating_add(i128::from(c - b'0'));
        if acc > i128::from(u64::MAX) + 1 {
            acc = i128::from(u64::MAX) + 1;
        }
    }
    if neg {
        -acc
    } else {
        acc
    }
}

/// Double to decimal through the shortest round-trip text, so 0.1e0 becomes
/// exactly 0.1 (as MySQL converts). `None` beyond DECIMAL's range here.
pub fn f64_to_decimal(f: f64) -> Option<Decimal> {
    if !f.is_finite() {
        return None;
    }
    let text = format!("{f}");
    Decimal::from_str(&text)
        .ok()
        .or_else(|| Decimal::from_f64(f))
}

/// `20240131` for 2024-01-31.
pub fn date_number(d: &NaiveDate) -> i64 {
    use chrono::Datelike;
    i64::from(d.year()) * 10000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// `20240131235959[.ffffff]`.
fn datetime_number(dt: &NaiveDateTime) -> Num {
    let whole = date_number(&dt.date()) * 1_000_000
        + i64::from(dt.hour()) * 10000
        + i64::from(dt.minute()) * 100
        + i64::from(dt.second());
    let micros = dt.nanosecond() / 1000;
    if micros == 0 {
        Num::Int(whole)
    } else {
        Num::Dec(Decimal::from_i128_with_scale(
            i128::from(whole) * 1_000_000 + i128::from(micros),
            6,
        ))
    }
}

/// The value's text (`None` for NULL). Borrows strings; numbers, dates,
/// JSON and vectors print in their canonical form.
pub fn to_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::Null => None,
        Value::Str(s) => Some(Cow::Borrowed(s.as_str())),
        Value::Bytes(b) => Some(String::from_utf8_lossy(b)),
        other => other.to_text().map(Cow::Owned),
    }
}

/// The value's bytes (`None` for NULL); borrows strings and binaries.
pub fn to_bytes(v: &Value) -> Option<Cow<'_, [u8]>> {
    match v {
        Value::Null => None,
        Value::Str(s) => Some(Cow::Borrowed(s.as_bytes())),
        Value::Bytes(b) => Some(Cow::Borrowed(b.as_slice())),
        other => other.to_text().map(|s| Cow::Owned(s.into_bytes())),
    }
}

/// Integer in integer context (LEFT's length, SUBSTRING's position, ...):
/// doubles and decimals round half away from zero, strings by prefix.
pub fn to_i64(v: &Value) -> Result<Option<i64>> {
    Ok(match to_num(v)? {
        None => None,
        Some(Num::Int(i)) => Some(i),
        Some(Num::UInt(u)) => Some(i64::try_from(u).unwrap_or(i64::MAX)),
        Some(Num::Dec(d)) => Some(
            d.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                .to_i64()
                .unwrap_or(if d.is_sign_negative() {
                    i64::MIN
                } else {
                    i64::MAX
                }),
        ),
        Some(Num::Float(f)) => Some(f64_to_i64_round(f)),
    })
}

/// Rounds half away from zero and saturates (TiDB's ConvertFloatToInt).
pub fn f64_to_i64_round(f: f64) -> i64 {
    let r = f.round();
    if r.is_nan() {
        0
    } else if r >= 9.223_372_036_854_776e18 {
        i64::MAX
    } else if r <= -9.223_372_036_854_776e18 {
        i64::MIN
    } else {
        r as i64
    }
}

// ---- dates -----------------------------------------------------------------

/// Parses MySQL date/datetime text: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS[.f]`,
/// `T` as separator, any punctuation as delimiter, one-digit fields,
/// two-digit years (70-99 -> 19xx), and the all-digit forms `YYYYMMDD`,
/// `YYMMDD`, `YYYYMMDDhhmmss`, `YYMMDDhhmmss`. Returns the moment and
/// whether the text held only a date.
pub fn parse_datetime(text: &str) -> Option<(NaiveDateTime, bool)> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|c| c.is_ascii_digit()) || is_digits_with_fraction(s) {
        return parse_compact(s);
    }
    let b = s.as_bytes();
    let mut fields: Vec<u32> = Vec::with_capacity(7);
    let mut field_lens: Vec<usize> = Vec::with_capacity(7);
    let mut frac: Option<(u32, usize)> = None;
    let mut i = 0;
    let mut date_only = true;
    while i < b.len() {
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == st {
            return None;
        }
        let digits = &s[st..i];
        if fields.len() == 6 {
            // fractional seconds
            let n = digits.len().min(9);
            frac = Some((digits[..n].parse().ok()?, n));
        } else {
            fields.push(digits.parse().ok()?);
            field_lens.push(digits.len());
        }
        if i >= b.len() {
            break;
        }
        let sep = b[i];
        i += 1;
        match fields.len() {
            3 => {
                if !(sep == b' ' || sep == b'T' || sep == b't') {
                    return None;
                }
                date_only = false;
                while i < b.len() && b[i] == b' ' {
                    i += 1;
                }
            }
            6 => {
                if sep != b'.' || frac.is_some() {
                    return None;
                }
            }
            1 | 2 | 4 | 5 => {
                if !sep.is_ascii_punctuation() {
                    return None;
                }
            }
            _ => return None,
        }
    }
    if fields.len() < 3 {
        return None;
    }
    let mut year = fields[0];
    if field_lens[0] <= 2 {
        year += if year < 70 { 2000 } else { 1900 };
    }
    let date = NaiveDate::from_ymd_opt(year as i32, fields[1], fields[2])?;
    if fields.len() == 3 {
        return Some((date.and_hms_opt(0, 0, 0)?, date_only));
    }
    let h = fields[3];
    let m = fields.get(4).copied().unwrap_or(0);
    let sec = fields.get(5).copied().unwrap_or(0);
    let nanos = frac.map(|(v, n)| v * 10u32.pow(9 - n as u32)).unwrap_or(0);
    let time = NaiveTime::from_hms_nano_opt(h, m, sec, nanos)?;
    Some((date.and_time(time), false))
}

fn is_digits_with_fraction(s: &str) -> bool {
    match s.split_once('.') {
        Some((a, b)) => {
            (a.len() == 14 || a.len() == 12)
                && a.bytes().all(|c| c.is_ascii_digit())
                && !b.is_empty()
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

fn parse_compact(s: &str) -> Option<(NaiveDateTime, bool)> {
    let (whole, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let num = |r: std::ops::Range<usize>| whole.get(r).and_then(|x| x.parse::<u32>().ok());
    let two_digit_year = |y: u32| if y < 70 { 2000 + y } else { 1900 + y };
    let (y, rest) = match whole.len() {
        8 | 14 => (num(0..4)?, 4),
        6 | 12 => (two_digit_year(num(0..2)?), 2),
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(y as i32, num(rest..rest + 2)?, num(rest + 2..rest + 4)?)?;
    if whole.len() <= 8 {
        return Some((date.and_hms_opt(0, 0, 0)?, true));
    }
    let t = rest + 4;
    let nanos = match frac {
        Some(f) => {
            let n = f.len().min(9);
            f[..n].parse::<u32>().ok()? * 10u32.pow(9 - n as u32)
        }
        None => 0,
    };
    let time = NaiveTime::from_hms_nano_opt(
        num(t..t + 2)?,
        num(t + 2..t + 4)?,
        num(t + 4..t + 6)?,
        nanos,
    )?;
    Some((date.and_time(time), false))
}

/// A value as a moment in time, for date functions and date comparisons.
/// Numbers read as `YYYYMMDD[hhmmss]`. `None` for NULL or unparsable input.
pub fn to_datetime(v: &Value) -> Option<(NaiveDateTime, bool)> {
    match v {
        Value::Date(d) => d.and_hms_opt(0, 0, 0).map(|dt| (dt, true)),
        Value::DateTime(dt) => Some((*dt, false)),
        Value::Str(s) => parse_datetime(s),
        Value::Bytes(b) => parse_datetime(&String::from_utf8_lossy(b)),
        Value::Int(i) if *i > 0 => parse_datetime(&i.to_string()),
        Value::UInt(u) => parse_datetime(&u.to_string()),
        Value::Decimal(d) if d.is_sign_positive() => parse_datetime(&d.to_string()),
        Value::Double(f) if *f > 0.0 => parse_datetime(&format!("{f}")),
        Value::Json(j) => match j.as_ref() {
            serde_json::Value::String(s) => parse_datetime(s),
            _ => None,
        },
        _ => None,
    }
}

/// Time of day from `HH:MM:SS[.f]` text (HOUR('10:30:00')), or from a datetime.
pub fn to_time(v: &Value) -> Option<NaiveTime> {
    if let Some(text) = match v {
        Value::Str(s) => Some(s.as_str()),
        _ => None,
    } {
        let t = text.trim();
        // `10:11:12` is a time here, not the date 2010-11-12.
        if t.contains(':') {
            if let Some(time) = parse_time_text(t) {
                return Some(time);
            }
        }
        return parse_datetime(t).map(|(dt, _)| dt.time());
    }
    to_datetime(v).map(|(dt, _)| dt.time())
}

fn parse_time_text(t: &str) -> Option<NaiveTime> {
    let (main, frac) = match t.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (t, None),
    };
    let mut parts = main.split(':');
    let h: u32 = parts.next()?.trim().parse().ok()?;
    let m: u32 = parts.next().map(|x| x.parse().ok()).unwrap_or(Some(0))?;
    let s: u32 = parts.next().map(|x| x.parse().ok()).unwrap_or(Some(0))?;
    if parts.next().is_some() {
        return None;
    }
    let nanos = match frac {
        Some(f) if !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()) => {
            let n = f.len().min(9);
            f[..n].parse::<u32>().ok()? * 10u32.pow(9 - n as u32)
        }
        Some(_) => return None,
        None => 0,
    };
    NaiveTime::from_hms_nano_opt(h, m, s, nanos)
}

/// Truncates (MySQL rounds; TiDB too) the fractional seconds to `fsp` digits.
pub fn round_fsp(dt: NaiveDateTime, fsp: u8) -> NaiveDateTime {
    let fsp = u32::from(fsp.min(6));
    let unit = 10u32.pow(9 - fsp);
    let nanos = dt.nanosecond();
    let rounded = (nanos + unit / 2) / unit * unit;
    if rounded >= 1_000_000_000 {
        let base = dt.with_nanosecond(0).unwrap_or(dt);
        base + chrono::Duration::seconds(1)
    } else {
        dt.with_nanosecond(rounded).unwrap_or(dt)
    }
}

// ---- vectors ---------------------------------------------------------------

/// The value as a vector: vectors borrow, strings parse with TiDB's errors.
/// Any other kind cannot become a vector (TiDB refuses such casts).
pub fn to_vector(v: &Value) -> Result<Option<Cow<'_, [f32]>>> {
    match v {
        Value::Null => Ok(None),
        Value::Vector(x) => Ok(Some(Cow::Borrowed(&x[..]))),
        Value::Str(s) => Ok(Some(Cow::Owned(tiembed_vector::parse_vector(s)?))),
        Value::Bytes(b) => Ok(Some(Cow::Owned(tiembed_vector::parse_vector(
            &String::from_utf8_lossy(b),
        )?))),
        other => Err(Error::other(format!(
            "cannot cast from {} to vector",
            kind_name(other)
        ))),
    }
}

// ---- JSON ------------------------------------------------------------------

/// A SQL value as a JSON value (JSON_OBJECT / JSON_ARRAY arguments, and
/// the non-JSON side of a JSON comparison). Strings stay strings: MySQL
/// never parses them implicitly here.
pub fn to_json(v: &Value) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match v {
        Value::Null => return None,
        Value::Int(i) => J::from(*i),
        Value::UInt(u) => J::from(*u),
        Value::Float(f) => float_json(*f as f64),
        Value::Double(d) => float_json(*d),
        Value::Decimal(d) => decimal_json(d),
        Value::Str(s) => J::String(s.clone()),
        Value::Bytes(b) => J::String(String::from_utf8_lossy(b).into_owned()),
        Value::Date(_) => J::String(v.to_text()?),
        Value::DateTime(dt) => J::String(dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string()),
        Value::Json(j) => j.as_ref().clone(),
        Value::Vector(_) => J::String(v.to_text()?),
    })
}

fn float_json(f: f64) -> serde_json::Value {
    serde_json::Number::from_f64(f)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

/// JSON has no DECIMAL here: integral decimals become integers, others doubles.
fn decimal_json(d: &Decimal) -> serde_json::Value {
    if d.fract().is_zero() {
        if let Some(i) = d.to_i64() {
            return serde_json::Value::from(i);
        }
    }
    float_json(d.to_f64().unwrap_or(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_prefix_numbers() {
        assert_eq!(str_to_f64("1abc"), 1.0);
        assert_eq!(str_to_f64("abc"), 0.0);
        assert_eq!(str_to_f64("  -12.5e1x"), -125.0);
        assert_eq!(str_to_f64(".5"), 0.5);
        assert_eq!(str_to_f64("1."), 1.0);
        assert_eq!(str_to_f64("1e"), 1.0);
        assert_eq!(str_to_f64("-"), 0.0);
        assert_eq!(str_to_decimal("1.10abc").to_string(), "1.10");
        assert_eq!(str_to_int_prefix("12.7abc"), 12);
        assert_eq!(str_to_int_prefix("-3"), -3);
        assert_eq!(str_to_int_prefix("x"), 0);
    }

    #[test]
    fn truthiness() {
        assert_eq!(truth(&Value::Str("1abc".into())).unwrap(), Some(true));
        assert_eq!(truth(&Value::Str("abc".into())).unwrap(), Some(false));
        assert_eq!(truth(&Value::Str("0.0".into())).unwrap(), Some(false));
        assert_eq!(truth(&Value::Str("0.1".into())).unwrap(), Some(true));
        assert_eq!(truth(&Value::Null).unwrap(), None);
        assert_eq!(truth(&Value::Decimal(Decimal::ZERO)).unwrap(), Some(false));
    }

    #[test]
    fn datetime_texts() {
        let (dt, date_only) = parse_datetime("2024-01-31").unwrap();
        assert!(date_only);
        assert_eq!(dt.to_string(), "2024-01-31 00:00:00");
        let (dt, date_only) = parse_datetime("2024-1-5 7:08:09.5").unwrap();
        assert!(!date_only);
        assert_eq!(dt.to_string(), "2024-01-05 07:08:09.500");
        assert_eq!(
            parse_datetime("20240131").unwrap().0.to_string(),
            "2024-01-31 00:00:00"
        );
        assert_eq!(
            parse_datetime("20240131101112").unwrap().0.to_string(),
            "2024-01-31 10:11:12"
        );
        assert_eq!(
            parse_datetime("99-12-31").unwrap().0.to_string(),
            "1999-12-31 00:00:00"
        );
        assert_eq!(
            parse_datetime("2024-01-31T10:11:12").unwrap().0.to_string(),
            "2024-01-31 10:11:12"
        );
        assert!(parse_datetime("2024-02-30").is_none());
        assert!(parse_datetime("abc").is_none());
        assert!(parse_datetime("").is_none());
        assert_eq!(
            to_time(&Value::Str("10:30:05".into())).unwrap().to_string(),
            "10:30:05"
        );
    }
}
