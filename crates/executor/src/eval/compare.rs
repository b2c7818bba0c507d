//! Value comparison with MySQL/TiDB rules, shared by expression evaluation
//! and by the operators: `ORDER BY` ([`compare_for_sort`]), `GROUP BY` /
//! `DISTINCT` / hash joins ([`GroupKey`], [`values_equal_for_grouping`]),
//! `MIN`/`MAX` ([`compare_values`]).
//!
//! Which comparison applies depends on both operands: integers exactly
//! (signed against unsigned too), integers and decimals as decimals, any
//! double (or a string against a number) as doubles, strings by collation,
//! dates as dates (a string against a date is parsed), vectors element-wise
//! (a string against a vector is parsed), JSON by MySQL's JSON ordering (the
//! SQL side becomes a JSON scalar).

use super::convert::{kind_name, to_datetime, to_json, to_num, to_vector, Num};
use chrono::NaiveDateTime;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::cmp::Ordering;
use tiembed_sql::CmpOp;
use tiembed_types::{Collation, Error, Result, Value};

/// Compares two values; `Ok(None)` when either is NULL (the comparison is
/// unknown). Errors only for operands that cannot be compared at all
/// (a vector against a number, an unparsable vector text).
pub fn compare_values(a: &Value, b: &Value, collation: Collation) -> Result<Option<Ordering>> {
    use Value::*;
    let ord = match (a, b) {
        (Null, _) | (_, Null) => return Ok(None),
        (Int(x), Int(y)) => x.cmp(y),
        (UInt(x), UInt(y)) => x.cmp(y),
        (Int(x), UInt(y)) => cmp_int_uint(*x, *y),
        (UInt(x), Int(y)) => cmp_int_uint(*y, *x).reverse(),
        (Double(x), Double(y)) => return Ok(x.partial_cmp(y)),
        (Decimal(x), Decimal(y)) => x.cmp(y),
        (Str(x), Str(y)) => compare_str(x, y, collation),
        (Bytes(x), Bytes(y)) => x.as_slice().cmp(y.as_slice()),
        (Str(x), Bytes(y)) => x.as_bytes().cmp(y.as_slice()),
        (Bytes(x), Str(y)) => x.as_slice().cmp(y.as_bytes()),
        (Vector(x), Vector(y)) => tiembed_vector::arith::compare(x, y),
        (Vector(x), Str(_) | Bytes(_)) => compare_vector_with(x, b)?,
        (Str(_) | Bytes(_), Vector(y)) => compare_vector_with(y, a)?.reverse(),
        (Vector(_), other) | (other, Vector(_)) => {
            return Err(Error::other(format!(
                "cannot compare vector with {}",
                kind_name(other)
            )))
        }
        (Json(x), Json(y)) => json_cmp(x, y),
        (Json(x), other) => match to_json(other) {
            Some(o) => json_cmp(x, &o),
            None => return Ok(None),
        },
        (other, Json(y)) => match to_json(other) {
            Some(o) => json_cmp(&o, y).reverse(),
            None => return Ok(None),
        },
        (Date(_) | DateTime(_), Date(_) | DateTime(_) | Str(_) | Bytes(_))
        | (Str(_) | Bytes(_), Date(_) | DateTime(_)) => match (to_datetime(a), to_datetime(b)) {
            (Some((x, _)), Some((y, _))) => x.cmp(&y),
            // A string that is no date: MySQL warns and compares the texts.
            _ => compare_str(
                &a.to_text().unwrap_or_default(),
                &b.to_text().unwrap_or_default(),
                collation,
            ),
        },
        _ => match (to_num(a)?, to_num(b)?) {
            (Some(x), Some(y)) => return Ok(compare_nums(x, y)),
            _ => return Ok(None),
        },
    };
    Ok(Some(ord))
}

fn compare_vector_with(v: &[f32], text: &Value) -> Result<Ordering> {
    let other = to_vector(text)?.unwrap_or(Cow::Borrowed(&[]));
    Ok(tiembed_vector::arith::compare(v, &other))
}

fn cmp_int_uint(i: i64, u: u64) -> Ordering {
    if i < 0 {
        Ordering::Less
    } else {
        (i as u64).cmp(&u)
    }
}

/// Numeric comparison: exact for integers and decimals, double otherwise.
pub fn compare_nums(x: Num, y: Num) -> Option<Ordering> {
    match (x, y) {
        (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
        (Num::UInt(a), Num::UInt(b)) => Some(a.cmp(&b)),
        (Num::Int(a), Num::UInt(b)) => Some(cmp_int_uint(a, b)),
        (Num::UInt(a), Num::Int(b)) => Some(cmp_int_uint(b, a).reverse()),
        (Num::Float(_), _) | (_, Num::Float(_)) => x.to_f64().partial_cmp(&y.to_f64()),
        _ => match (x.to_decimal(), y.to_decimal()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => x.to_f64().partial_cmp(&y.to_f64()),
        },
    }
}

/// Applies a comparison operator with SQL's three-valued result.
pub fn apply_cmp(op: CmpOp, a: &Value, b: &Value, collation: Collation) -> Result<Option<bool>> {
    if op == CmpOp::NullSafeEq {
        return Ok(Some(match (a.is_null(), b.is_null()) {
            (true, true) => true,
            (true, false) | (false, true) => false,
            (false, false) => compare_values(a, b, collation)? == Some(Ordering::Equal),
        }));
    }
    let Some(ord) = compare_values(a, b, collation)? else {
        return Ok(None);
    };
    Ok(Some(match op {
        CmpOp::Eq | CmpOp::NullSafeEq => ord == Ordering::Equal,
        CmpOp::NotEq => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::LtEq => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::GtEq => ord != Ordering::Less,
    }))
}

/// A total order for `ORDER BY`, `MIN`/`MAX` and sort-based operators:
/// NULL sorts first (MySQL); values that cannot be compared fall back to an
/// order by kind so sorting never fails. Reverse it for `DESC`.
pub fn compare_for_sort(a: &Value, b: &Value, collation: Collation) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        (false, false) => {}
    }
    match compare_values(a, b, collation) {
        Ok(Some(o)) => o,
        _ => kind_rank(a).cmp(&kind_rank(b)).then_with(|| {
            let (x, y) = (
                a.to_text().unwrap_or_default(),
                b.to_text().unwrap_or_default(),
            );
            x.cmp(&y)
        }),
    }
}

fn kind_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Double(_) | Value::Decimal(_) => {
            1
        }
        Value::Date(_) | Value::DateTime(_) => 2,
        Value::Str(_) | Value::Bytes(_) => 3,
        Value::Json(_) => 4,
        Value::Vector(_) => 5,
    }
}

// ---- strings ---------------------------------------------------------------

/// String comparison under a collation. `utf8mb4_bin` compares bytes and,
/// like TiDB's new collations, ignores trailing spaces (PAD SPACE);
/// `binary` compares raw bytes; the `_ci` collations fold case and Latin
/// accents, and all but `utf8mb4_0900_ai_ci` (NO PAD) ignore trailing spaces.
pub fn compare_str(a: &str, b: &str, collation: Collation) -> Ordering {
    match collation {
        Collation::Binary => a.as_bytes().cmp(b.as_bytes()),
        Collation::Utf8mb4Bin => trim_pad(a).as_bytes().cmp(trim_pad(b).as_bytes()),
        Collation::Utf8mb4GeneralCi | Collation::Utf8mb4UnicodeCi => {
            ci_cmp(trim_pad(a), trim_pad(b))
        }
        Collation::Utf8mb40900AiCi => ci_cmp(a, b),
    }
}

fn trim_pad(s: &str) -> &str {
    s.trim_end_matches(' ')
}

fn ci_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        let x = a.bytes().map(|c| c.to_ascii_uppercase());
        let y = b.bytes().map(|c| c.to_ascii_uppercase());
        return x.cmp(y);
    }
    a.chars().map(fold_char).cmp(b.chars().map(fold_char))
}

/// The weight of a character under the case- and accent-insensitive
/// collations: upper case, Latin-1 accents removed.
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    match c {
        'À'..='Å' | 'à'..='å' | 'Ā'..='ą' => 'A',
        'Ç' | 'ç' | 'Ć'..='č' => 'C',
        'Ď'..='đ' => 'D',
        'È'..='Ë' | 'è'..='ë' | 'Ē'..='ě' => 'E',
        'Ĝ'..='ģ' => 'G',
        'Ì'..='Ï' | 'ì'..='ï' | 'Ĩ'..='ı' => 'I',
        'Ñ' | 'ñ' | 'Ń'..='ň' => 'N',
        'Ò'..='Ö' | 'Ø' | 'ò'..='ö' | 'ø' | 'Ō'..='ő' => 'O',
        'Ś'..='š' => 'S',
        'Ù'..='Ü' | 'ù'..='ü' | 'Ũ'..='ų' => 'U',
        'Ý' | 'ý' | 'ÿ' | 'Ŷ'..='Ÿ' => 'Y',
        'Ź'..='ž' => 'Z',
        _ => {
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        }
    }
}

/// The text a collation compares: folded for `_ci`, trailing spaces dropped
/// for PAD SPACE collations. Equal results mean equal strings.
pub fn collation_key(s: &str, collation: Collation) -> Cow<'_, str> {
    match collation {
        Collation::Binary => Cow::Borrowed(s),
        Collation::Utf8mb4Bin => Cow::Borrowed(trim_pad(s)),
        Collation::Utf8mb4GeneralCi | Collation::Utf8mb4UnicodeCi => {
            Cow::Owned(trim_pad(s).chars().map(fold_char).collect())
        }
        Collation::Utf8mb40900AiCi => Cow::Owned(s.chars().map(fold_char).collect()),
    }
}

// ---- JSON ------------------------------------------------------------------

/// MySQL's JSON ordering: by type precedence first (null < number < string
/// < object < array < boolean), then by value; arrays element-wise then by
/// length.
pub fn json_cmp(a: &serde_json::Value, b: &serde_json::Value) -> Ordering {
    use serde_json::Value as J;
    fn rank(v: &J) -> u8 {
        match v {
            J::Null => 0,
            J::Number(_) => 1,
            J::String(_) => 2,
            J::Object(_) => 3,
            J::Array(_) => 4,
            J::Bool(_) => 5,
        }
    }
    match (a, b) {
        (J::Null, J::Null) => Ordering::Equal,
        (J::Number(x), J::Number(y)) => {
            if let (Some(p), Some(q)) = (x.as_i64(), y.as_i64()) {
                p.cmp(&q)
            } else if let (Some(p), Some(q)) = (x.as_u64(), y.as_u64()) {
                p.cmp(&q)
            } else {
                let (p, q) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                p.partial_cmp(&q).unwrap_or(Ordering::Equal)
            }
        }
        (J::String(x), J::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (J::Bool(x), J::Bool(y)) => x.cmp(y),
        (J::Array(x), J::Array(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                let o = json_cmp(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (J::Object(x), J::Object(y)) => x.len().cmp(&y.len()).then_with(|| {
            for ((k1, v1), (k2, v2)) in x.iter().zip(y.iter()) {
                let o = k1.cmp(k2).then_with(|| json_cmp(v1, v2));
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        }),
        _ => rank(a).cmp(&rank(b)),
    }
}

// ---- grouping --------------------------------------------------------------

/// Hashable identity of a value for `GROUP BY`, `DISTINCT`, `COUNT(DISTINCT)`,
/// `UNION` and hash joins: two values have equal keys exactly when they
/// belong to the same group. NULLs form one group. Numbers of different
/// kinds that are equal (1, 1.0, 1e0) share a key; strings use the
/// collation's folding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupKey {
    Null,
    Int(i128),
    Dec(Decimal),
    Float(u64),
    Text(Vec<u8>),
    Time(NaiveDateTime),
    Json(String),
    Vector(Vec<u32>),
}

/// The grouping key of `v` under `collation` (for string values).
pub fn group_key(v: &Value, collation: Collation) -> GroupKey {
    match v {
        Value::Null => GroupKey::Null,
        Value::Int(i) => GroupKey::Int(i128::from(*i)),
        Value::UInt(u) => GroupKey::Int(i128::from(*u)),
        Value::Decimal(d) => decimal_key(*d),
        Value::Double(f) => float_key(*f),
        Value::Float(f) => float_key(f64::from(*f)),
        Value::Str(s) => GroupKey::Text(collation_key(s, collation).into_owned().into_bytes()),
        Value::Bytes(b) => GroupKey::Text(b.clone()),
        Value::Date(d) => GroupKey::Time(d.and_hms_opt(0, 0, 0).unwrap_or_default()),
        Value::DateTime(dt) => GroupKey::Time(*dt),
        Value::Json(j) => GroupKey::Json(tiembed_types::json_to_text(j)),
        Value::Vector(v) => GroupKey::Vector(
            v.iter()
                .map(|x| if *x == 0.0 { 0 } else { x.to_bits() })
                .collect(),
        ),
    }
}

fn decimal_key(d: Decimal) -> GroupKey {
    let n = d.normalize();
    if n.scale() == 0 {
        // An integral decimal of at most 28 digits always fits in i128.
        GroupKey::Int(n.mantissa())
    } else {
        GroupKey::Dec(n)
    }
}

fn float_key(f: f64) -> GroupKey {
    if f == 0.0 {
        return GroupKey::Int(0);
    }
    if f.fract() == 0.0 && f.abs() < 1e38 {
        return GroupKey::Int(f as i128);
    }
    match Decimal::from_f64(f) {
        Some(d) if d.to_string().parse::<f64>().ok() == Some(f) => decimal_key(d),
        _ => GroupKey::Float(f.to_bits()),
    }
}

/// Whether two values fall in the same group (NULL equals NULL). Agrees with
/// [`group_key`]; allocation-free for the common same-kind cases.
pub fn values_equal_for_grouping(a: &Value, b: &Value, collation: Collation) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => compare_str(x, y, collation) == Ordering::Equal,
        (Value::Decimal(x), Value::Decimal(y)) => x == y,
        (Value::Vector(x), Value::Vector(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| p == q)
        }
        _ => group_key(a, collation) == group_key(b, collation),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use std::sync::Arc;

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }
    fn dec(x: &str) -> Value {
        Value::Decimal(Decimal::from_str(x).unwrap())
    }
    fn cmp(a: &Value, b: &Value) -> Option<Ordering> {
        compare_values(a, b, Collation::Utf8mb4Bin).unwrap()
    }

    #[test]
    fn numbers_compare_exactly() {
        assert_eq!(
            cmp(&Value::Int(-1), &Value::UInt(u64::MAX)),
            Some(Ordering::Less)
        );
        assert_eq!(
            cmp(&Value::UInt(u64::MAX), &Value::Int(i64::MAX)),
            Some(Ordering::Greater)
        );
        // int vs decimal is exact: 9007199254740993 would be lost as a double.
        assert_eq!(
            cmp(&Value::Int(9007199254740993), &dec("9007199254740992.5")),
            Some(Ordering::Greater)
        );
        assert_eq!(cmp(&Value::Int(1), &dec("1.000")), Some(Ordering::Equal));
        assert_eq!(cmp(&dec("0.1"), &Value::Double(0.1)), Some(Ordering::Equal));
        assert_eq!(cmp(&Value::Null, &Value::Int(1)), None);
    }

    #[test]
    fn strings_against_numbers_compare_as_doubles() {
        assert_eq!(cmp(&s("10"), &Value::Int(9)), Some(Ordering::Greater));
        assert_eq!(cmp(&s("1abc"), &Value::Int(1)), Some(Ordering::Equal));
        assert_eq!(cmp(&s("abc"), &Value::Int(0)), Some(Ordering::Equal));
        // two strings compare as strings
        assert_eq!(cmp(&s("10"), &s("9")), Some(Ordering::Less));
    }

    #[test]
    fn collations() {
        let bin = Collation::Utf8mb4Bin;
        let ci = Collation::Utf8mb4GeneralCi;
        assert_eq!(compare_str("a", "A", bin), Ordering::Greater);
        assert_eq!(compare_str("a", "A", ci), Ordering::Equal);
        assert_eq!(compare_str("abc ", "abc", bin), Ordering::Equal);
        assert_eq!(
            compare_str("abc ", "abc", Collation::Binary),
            Ordering::Greater
        );
        assert_eq!(compare_str("abc  ", "ABC", ci), Ordering::Equal);
        assert_eq!(
            compare_str("abc ", "abc", Collation::Utf8mb40900AiCi),
            Ordering::Greater
        );
        assert_eq!(compare_str("Café", "cafe", ci), Ordering::Equal);
        assert_eq!(compare_str("b", "A", ci), Ordering::Greater);
        assert_eq!(compare_str("b", "A", bin), Ordering::Greater);
        assert_eq!(compare_str("a", "B", bin), Ordering::Greater);
        assert_eq!(compare_str("a", "B", ci), Ordering::Less);
    }

    #[test]
    fn dates_against_strings() {
        let d = Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 1, 31).unwrap());
        assert_eq!(cmp(&d, &s("2024-01-31")), Some(Ordering::Equal));
        assert_eq!(cmp(&d, &s("2024-01-31 00:00:01")), Some(Ordering::Less));
        assert_eq!(cmp(&s("2024-2-1"), &d), Some(Ordering::Greater));
    }

    #[test]
    fn vectors_elementwise_then_length() {
        let v = |x: &[f32]| Value::vector(x.to_vec());
        assert_eq!(
            cmp(&v(&[1.0, 2.0, 3.0]), &v(&[1.0, 2.0, 3.0, 0.0])),
            Some(Ordering::Less)
        );
        assert_eq!(cmp(&v(&[]), &v(&[1.0])), Some(Ordering::Less));
        assert_eq!(cmp(&v(&[2.0]), &v(&[1.0, 5.0])), Some(Ordering::Greater));
        assert_eq!(cmp(&v(&[1.0, 2.0]), &s("[1, 2]")), Some(Ordering::Equal));
        assert_eq!(cmp(&s("[12.0]"), &s("[4.0]")), Some(Ordering::Less));
        assert!(compare_values(&v(&[1.0]), &s("[1,"), Collation::Utf8mb4Bin).is_err());
        assert!(compare_values(&v(&[1.0]), &Value::Int(1), Collation::Utf8mb4Bin).is_err());
    }

    #[test]
    fn json_against_sql_values() {
        let j = |t: &str| Value::Json(Arc::new(serde_json::from_str(t).unwrap()));
        assert_eq!(cmp(&j("\"en\""), &s("en")), Some(Ordering::Equal));
        assert_eq!(cmp(&j("1"), &s("1")), Some(Ordering::Less)); // number < string
        assert_eq!(cmp(&j("1.5"), &Value::Int(1)), Some(Ordering::Greater));
        assert_eq!(cmp(&j("2"), &dec("2.0")), Some(Ordering::Equal));
        assert_eq!(cmp(&j("[1,2]"), &j("[1,2,0]")), Some(Ordering::Less));
        assert_eq!(cmp(&j("true"), &j("[1]")), Some(Ordering::Greater));
        assert_eq!(cmp(&j("null"), &j("null")), Some(Ordering::Equal));
    }

    #[test]
    fn sort_order_puts_null_first() {
        let mut vals = vec![Value::Int(3), Value::Null, dec("1.5"), Value::Double(-2.0)];
        vals.sort_by(|a, b| compare_for_sort(a, b, Collation::Utf8mb4Bin));
        assert_eq!(
            vals,
            vec![Value::Null, Value::Double(-2.0), dec("1.5"), Value::Int(3)]
        );
        // incomparable kinds still order deterministically
        assert_eq!(
            compare_for_sort(
                &Value::Int(1),
                &Value::vector(vec![1.0]),
                Collation::Utf8mb4Bin
            ),
            Ordering::Less
        );
    }

    #[test]
    fn grouping_keys() {
        let ci = Collation::Utf8mb4GeneralCi;
        assert_eq!(group_key(&Value::Int(1), ci), group_key(&dec("1.00"), ci));
        assert_eq!(
            group_key(&Value::Double(1.0), ci),
            group_key(&Value::UInt(1), ci)
        );
        assert_eq!(
            group_key(&Value::Double(0.5), ci),
            group_key(&dec("0.50"), ci)
        );
        assert_eq!(group_key(&s("Abc "), ci), group_key(&s("aBC"), ci));
        assert_ne!(
            group_key(&s("Abc"), Collation::Utf8mb4Bin),
            group_key(&s("abc"), Collation::Utf8mb4Bin)
        );
        assert_ne!(group_key(&Value::Null, ci), group_key(&Value::Int(0), ci));
        assert!(values_equal_for_grouping(&Value::Null, &Value::Null, ci));
        assert!(!values_equal_for_grouping(&Value::Null, &Value::Int(0), ci));
        assert!(values_equal_for_grouping(&s("X"), &s("x "), ci));
        assert!(values_equal_for_grouping(&Value::Int(2), &dec("2.0"), ci));
        assert!(!values_equal_for_grouping(&Value::Int(2), &dec("2.1"), ci));
    }

    #[test]
    fn null_safe_and_operators() {
        let b = Collation::Utf8mb4Bin;
        assert_eq!(
            apply_cmp(CmpOp::NullSafeEq, &Value::Null, &Value::Null, b).unwrap(),
            Some(true)
        );
        assert_eq!(
            apply_cmp(CmpOp::NullSafeEq, &Value::Null, &Value::Int(1), b).unwrap(),
            Some(false)
        );
        assert_eq!(
            apply_cmp(CmpOp::Eq, &Value::Null, &Value::Int(1), b).unwrap(),
            None
        );
        assert_eq!(
            apply_cmp(CmpOp::LtEq, &Value::Int(1), &Value::Int(1), b).unwrap(),
            Some(true)
        );
        assert_eq!(
            apply_cmp(CmpOp::NotEq, &Value::Int(1), &Value::Int(2), b).unwrap(),
            Some(true)
        );
    }
}
