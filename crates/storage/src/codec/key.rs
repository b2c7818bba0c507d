//! Memcomparable key encoding: byte-wise order of encoded keys equals the
//! SQL order of the values, so sled's sorted trees serve ORDER BY and range
//! lookups on primary and index keys.
//!
//! Every value encoding is prefix-free (self-delimiting), so a composite key
//! is the concatenation of its parts and "starts with the encoding of
//! (a, b)" means "a and b are equal". NULL sorts first, as in MySQL.
//!
//! Values of the same SQL family share one encoding so that a lookup built
//! from a differently-typed literal still matches: `Int` and `UInt`,
//! `Float` and `Double`, `Date` and `DateTime` (a date is its midnight),
//! `Str` and `Bytes` (a string is its collation weight). Keys are never
//! decoded; rows carry the values.

use super::collation;
use chrono::{NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use tiembed_types::{Collation, Value};

const NULL: u8 = 0x00;
const INT_NEG: u8 = 0x10;
const INT_NON_NEG: u8 = 0x11;
const FLOAT: u8 = 0x20;
const DEC_NEG: u8 = 0x30;
const DEC_ZERO: u8 = 0x31;
const DEC_POS: u8 = 0x32;
const BYTES: u8 = 0x40;
const TIME: u8 = 0x60;
const JSON: u8 = 0x70;
const VECTOR: u8 = 0x80;

/// Appends the key encoding of one value. `collation` only matters for
/// `Value::Str` (pass the column's collation; anything for other types).
pub fn encode_value(v: &Value, collation: Collation, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(NULL),
        Value::Int(i) if *i < 0 => {
            out.push(INT_NEG);
            // Two's complement keeps order among negatives.
            out.extend_from_slice(&(*i as u64).to_be_bytes());
        }
        Value::Int(i) => {
            out.push(INT_NON_NEG);
            out.extend_from_slice(&(*i as u64).to_be_bytes());
        }
        Value::UInt(u) => {
            out.push(INT_NON_NEG);
            out.extend_from_slice(&u.to_be_bytes());
        }
        Value::Float(f) => encode_f64(*f as f64, out),
        Value::Double(d) => encode_f64(*d, out),
        Value::Decimal(d) => encode_decimal(d, out),
        Value::Str(s) => {
            out.push(BYTES);
            escape_bytes(collation::weight(s, collation).as_bytes(), out);
        }
        Value::Bytes(b) => {
            out.push(BYTES);
            escape_bytes(b, out);
        }
        Value::Date(d) => encode_datetime(&d.and_time(NaiveTime::MIN), out),
        Value::DateTime(dt) => encode_datetime(dt, out),
        Value::Json(j) => {
            out.push(JSON);
            escape_bytes(j.to_string().as_bytes(), out);
        }
        Value::Vector(v) => {
            out.push(VECTOR);
            // Element-wise order, shorter first on a common prefix.
            for x in v.iter() {
                out.push(1);
                out.extend_from_slice(&ordered_f32(*x).to_be_bytes());
            }
            out.push(0);
        }
    }
}

/// The key of several values (a composite primary or index key).
pub fn encode_key<'a>(parts: impl IntoIterator<Item = (&'a Value, Collation)>) -> Vec<u8> {
    let mut out = Vec::new();
    for (v, c) in parts {
        encode_value(v, c, &mut out);
    }
    out
}

/// The smallest key greater than every key starting with `prefix`, or
/// `None` when no such key exists (the prefix is all 0xFF).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

fn encode_f64(f: f64, out: &mut Vec<u8>) {
    out.push(FLOAT);
    // -0.0 == 0.0 in SQL, so they must share a key.
    let f = if f == 0.0 { 0.0 } else { f };
    let bits = f.to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    out.extend_from_slice(&ordered.to_be_bytes());
}

fn ordered_f32(f: f32) -> u32 {
    let f = if f == 0.0 { 0.0 } else { f };
    let bits = f.to_bits();
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | (1 << 31)
    }
}

/// A decimal as sign, decimal exponent and digits: `0.d1d2..dn * 10^e` with
/// `d1 != 0` and no trailing zeros, so equal values of different scales
/// (1.5 and 1.50) share a key. Negative values invert every byte after the
/// tag, which reverses their order.
fn encode_decimal(d: &Decimal, out: &mut Vec<u8>) {
    if d.is_zero() {
        out.push(DEC_ZERO);
        return;
    }
    let n = d.normalize();
    let negative = n.is_sign_negative();
    let digits = n.mantissa().unsigned_abs().to_string();
    // At most 29 digits and scale <= 28: e fits in -28..=29.
    let exp = digits.len() as i32 - n.scale() as i32;
    let start = out.len();
    out.push(if negative { DEC_NEG } else { DEC_POS });
    out.push((exp + 64) as u8);
    // Integers keep trailing zeros in the mantissa (150 has scale 0), so
    // strip them here: the exponent already carries the magnitude.
    for b in digits.trim_end_matches('0').bytes() {
        out.push(b - b'0' + 1);
    }
    out.push(0);
    if negative {
        for b in &mut out[start + 1..] {
            *b = !*b;
        }
    }
}

fn encode_datetime(dt: &NaiveDateTime, out: &mut Vec<u8>) {
    out.push(TIME);
    let utc = dt.and_utc();
    let secs = utc.timestamp() as u64 ^ (1 << 63);
    out.extend_from_slice(&secs.to_be_bytes());
    out.extend_from_slice(&utc.timestamp_subsec_nanos().to_be_bytes());
}

/// 0x00 becomes 0x00 0xFF and the string ends with 0x00 0x01, so a string
/// sorts before its extensions and the encoding is prefix-free.
fn escape_bytes(b: &[u8], out: &mut Vec<u8>) {
    out.reserve(b.len() + 2);
    for &x in b {
        out.push(x);
        if x == 0 {
            out.push(0xFF);
        }
    }
    out.push(0);
    out.push(1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use std::cmp::Ordering;
    use std::str::FromStr;

    fn key(v: &Value) -> Vec<u8> {
        key_c(v, Collation::Utf8mb4Bin)
    }

    fn key_c(v: &Value, c: Collation) -> Vec<u8> {
        let mut out = Vec::new();
        encode_value(v, c, &mut out);
        out
    }

    #[test]
    fn null_sorts_first() {
        for v in [
            Value::Int(i64::MIN),
            Value::Double(f64::NEG_INFINITY),
            Value::Str(String::new()),
        ] {
            assert!(key(&Value::Null) < key(&v));
        }
    }

    #[test]
    fn families_share_encodings() {
        assert_eq!(key(&Value::Int(7)), key(&Value::UInt(7)));
        assert_eq!(key(&Value::Float(1.5)), key(&Value::Double(1.5)));
        assert_eq!(key(&Value::Double(-0.0)), key(&Value::Double(0.0)));
        let d = Decimal::from_str("1.50").unwrap();
        assert_eq!(
            key(&Value::Decimal(d)),
            key(&Value::Decimal(Decimal::from_str("1.5").unwrap()))
        );
        let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(
            key(&Value::Date(date)),
            key(&Value::DateTime(date.and_time(NaiveTime::MIN)))
        );
        assert_eq!(
            key(&Value::Str("ab".into())),
            key(&Value::Bytes(b"ab".to_vec()))
        );
    }

    #[test]
    fn ci_strings_collide() {
        let ci = Collation::Utf8mb4GeneralCi;
        assert_eq!(
            key_c(&Value::Str("Alice".into()), ci),
            key_c(&Value::Str("aLICE".into()), ci)
        );
        assert_ne!(
            key(&Value::Str("Alice".into())),
            key(&Value::Str("aLICE".into()))
        );
    }

    #[test]
    fn composite_prefix_means_equality() {
        let a = encode_key([
            (&Value::Str("a".into()), Collation::Utf8mb4Bin),
            (&Value::Int(1), Collation::Binary),
        ]);
        let ab = encode_key([(&Value::Str("a\0b".into()), Collation::Utf8mb4Bin)]);
        let prefix = encode_key([(&Value::Str("a".into()), Collation::Utf8mb4Bin)]);
        assert!(a.starts_with(&prefix));
        assert!(!ab.starts_with(&prefix));
    }

    #[test]
    fn prefix_end_skips_all_extensions() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
    }

    fn decimal() -> impl Strategy<Value = Decimal> {
        (any::<i64>(), 0u32..=12).prop_map(|(m, s)| Decimal::new(m, s))
    }

    fn datetime() -> impl Strategy<Value = NaiveDateTime> {
        // Years 1000..9999 as MySQL allows, microsecond precision.
        (-30_610_224_000i64..253_402_300_799, 0u32..1_000_000).prop_map(|(s, us)| {
            chrono::DateTime::from_timestamp(s, us * 1000)
                .map(|d| d.naive_utc())
                .unwrap_or_default()
        })
    }

    fn cmp_f64(a: f64, b: f64) -> Ordering {
        a.partial_cmp(&b).unwrap_or(Ordering::Equal)
    }

    proptest! {
        #[test]
        fn int_order(a in any::<i64>(), b in any::<i64>()) {
            prop_assert_eq!(a.cmp(&b), key(&Value::Int(a)).cmp(&key(&Value::Int(b))));
        }

        #[test]
        fn int_uint_order(a in any::<i64>(), b in any::<u64>()) {
            let expected = (a as i128).cmp(&(b as i128));
            prop_assert_eq!(expected, key(&Value::Int(a)).cmp(&key(&Value::UInt(b))));
        }

        #[test]
        fn double_order(a in any::<f64>().prop_filter("no NaN", |f| !f.is_nan()),
                        b in any::<f64>().prop_filter("no NaN", |f| !f.is_nan())) {
            prop_assert_eq!(cmp_f64(a, b), key(&Value::Double(a)).cmp(&key(&Value::Double(b))));
        }

        #[test]
        fn decimal_order(a in decimal(), b in decimal()) {
            prop_assert_eq!(a.cmp(&b), key(&Value::Decimal(a)).cmp(&key(&Value::Decimal(b))));
        }

        #[test]
        fn string_order_bin(a in "[a-c\\x00 ]{0,6}", b in "[a-c\\x00 ]{0,6}") {
            let c = Collation::Utf8mb4Bin;
            let expected = collation::compare(&a, &b, c);
            prop_assert_eq!(expected, key(&Value::Str(a)).cmp(&key(&Value::Str(b))));
        }

        #[test]
        fn string_order_ci(a in "[a-cA-Cé_ ]{0,6}", b in "[a-cA-Cé_ ]{0,6}") {
            let c = Collation::Utf8mb4GeneralCi;
            let expected = collation::compare(&a, &b, c);
            prop_assert_eq!(expected, key_c(&Value::Str(a), c).cmp(&key_c(&Value::Str(b), c)));
        }

        #[test]
        fn bytes_order(a in proptest::collection::vec(any::<u8>(), 0..8),
                       b in proptest::collection::vec(any::<u8>(), 0..8)) {
            prop_assert_eq!(a.cmp(&b), key(&Value::Bytes(a)).cmp(&key(&Value::Bytes(b))));
        }

        #[test]
        fn datetime_order(a in datetime(), b in datetime()) {
            prop_assert_eq!(a.cmp(&b), key(&Value::DateTime(a)).cmp(&key(&Value::DateTime(b))));
        }

        #[test]
        fn composite_order(a in (any::<i32>(), "[ab]{0,3}"), b in (any::<i32>(), "[ab]{0,3}")) {
            let k = |(i, s): &(i32, String)| {
                encode_key([(&Value::Int(*i as i64), Collation::Binary), (&Value::Str(s.clone()), Collation::Utf8mb4Bin)])
            };
            prop_assert_eq!(a.cmp(&b), k(&a).cmp(&k(&b)));
        }

        #[test]
        fn vector_order(a in proptest::collection::vec(-2.0f32..2.0, 0..4),
                        b in proptest::collection::vec(-2.0f32..2.0, 0..4)) {
            let expected = a.iter().zip(&b)
                .map(|(x, y)| x.partial_cmp(y).unwrap_or(Ordering::Equal))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(a.len().cmp(&b.len()));
            prop_assert_eq!(expected, key(&Value::vector(a)).cmp(&key(&Value::vector(b))));
        }
    }
}
