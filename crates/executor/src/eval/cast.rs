//! `CAST(x AS t)` / `CONVERT(x, t)` for every [`CastTarget`].
//!
//! Strings become numbers by their numeric prefix (`'12.7abc'` as SIGNED is
//! 12), numbers round half away from zero into integers and DECIMAL(p,s)
//! (clamped to the type's range), dates parse MySQL's date texts (NULL and
//! warning 1292 when they do not), JSON parses text (3140 when invalid),
//! vectors parse TiDB's vector text and check the declared dimension.
//! Vectors and numbers never convert into each other (TiDB refuses).

use super::convert::{
    date_number, f64_to_i64_round, round_fsp, str_to_int_prefix, to_datetime, to_decimal, to_f64,
    to_json, to_num, to_text, to_time, to_vector, Num,
};
use super::output::round_to_scale;
use super::EvalContext;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use tiembed_sql::CastTarget;
use tiembed_types::{Error, Result, Value};

fn target_name(to: &CastTarget) -> &'static str {
    match to {
        CastTarget::Char(_) => "char",
        CastTarget::Binary(_) => "binary",
        CastTarget::Signed => "bigint",
        CastTarget::Unsigned => "bigint unsigned",
        CastTarget::Decimal { .. } => "decimal",
        CastTarget::Double => "double",
        CastTarget::Float => "float",
        CastTarget::Date => "date",
        CastTarget::DateTime { .. } => "datetime",
        CastTarget::Time => "time",
        CastTarget::Json => "json",
        CastTarget::Vector(_) => "vector",
    }
}

/// Converts `v` as `CAST(v AS to)` does.
pub fn cast_value(v: &Value, to: &CastTarget, ctx: &dyn EvalContext) -> Result<Value> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    if matches!(v, Value::Vector(_))
        && !matches!(
            to,
            CastTarget::Char(_) | CastTarget::Binary(_) | CastTarget::Vector(_)
        )
    {
        return Err(Error::other(format!(
            "cannot cast from vector to {}",
            target_name(to)
        )));
    }
    Ok(match to {
        CastTarget::Char(n) => {
            let text = to_text(v).unwrap_or_default();
            match n {
                Some(n) if text.chars().count() > *n as usize => {
                    Value::Str(text.chars().take(*n as usize).collect())
                }
                _ => Value::Str(text.into_owned()),
            }
        }
        CastTarget::Binary(n) => {
            let mut bytes = super::convert::to_bytes(v).unwrap_or_default().into_owned();
            if let Some(n) = n {
                // BINARY(n) pads with 0x00 and truncates to exactly n bytes.
                bytes.resize(*n as usize, 0);
            }
            Value::Bytes(bytes)
        }
        CastTarget::Signed => Value::Int(to_signed(v)?),
        CastTarget::Unsigned => Value::UInt(to_unsigned(v)?),
        CastTarget::Decimal { precision, scale } => match to_decimal(v)? {
            Some(d) => Value::Decimal(fit_decimal(d, *precision, *scale)),
            None => Value::Null,
        },
        CastTarget::Double => to_f64(v)?.map(Value::Double).unwrap_or(Value::Null),
        CastTarget::Float => to_f64(v)?
            .map(|f| Value::Float(f as f32))
            .unwrap_or(Value::Null),
        CastTarget::Date => match to_datetime(v) {
            Some((dt, _)) => Value::Date(dt.date()),
            None => bad_datetime(v, "datetime", ctx),
        },
        CastTarget::DateTime { fsp } => match to_datetime(v) {
            Some((dt, _)) => Value::DateTime(round_fsp(dt, *fsp)),
            None => bad_datetime(v, "datetime", ctx),
        },
        CastTarget::Time => match to_time(v) {
            Some(t) => Value::Str(t.format("%H:%M:%S").to_string()),
            None => bad_datetime(v, "time", ctx),
        },
        CastTarget::Json => match v {
            Value::Str(s) => Value::json(parse_json(s)?),
            Value::Bytes(b) => Value::json(parse_json(&String::from_utf8_lossy(b))?),
            Value::Json(_) => v.clone(),
            other => to_json(other).map(Value::json).unwrap_or(Value::Null),
        },
        CastTarget::Vector(dim) => match to_vector(v)? {
            Some(x) => {
                tiembed_vector::check_fits(&x, dim.map(|d| d as usize))?;
                match v {
                    Value::Vector(_) => v.clone(),
                    _ => Value::vector(x.into_owned()),
                }
            }
            None => Value::Null,
        },
    })
}

fn bad_datetime(v: &Value, kind: &str, ctx: &dyn EvalContext) -> Value {
    let text = v.to_text().unwrap_or_default();
    ctx.warn(1292, format!("Incorrect {kind} value: '{text}'"));
    Value::Null
}

/// Parses JSON text; invalid text is error 3140.
pub fn parse_json(text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| Error::InvalidJson(json_error_text(&e)))
}

fn json_error_text(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    // serde's "... at line 1 column 5" -> MySQL-like "... at position 4."
    match msg.rsplit_once(" at line ") {
        Some((head, pos)) => {
            let col = pos
                .rsplit_once(" column ")
                .and_then(|(_, c)| c.parse::<usize>().ok())
                .unwrap_or(1);
            format!("{head} at position {}.", col.saturating_sub(1))
        }
        None => msg,
    }
}

fn to_signed(v: &Value) -> Result<i64> {
    Ok(match v {
        Value::Str(s) => clamp_i64(str_to_int_prefix(s)),
        Value::Bytes(b) => clamp_i64(str_to_int_prefix(&String::from_utf8_lossy(b))),
        Value::UInt(u) => *u as i64,
        Value::Date(d) => date_number(d),
        Value::DateTime(dt) => {
            date_number(&dt.date()) * 1_000_000
                + i64::from(dt.format("%H%M%S").to_string().parse::<u32>().unwrap_or(0))
        }
        other => match to_num(other)? {
            Some(Num::Int(i)) => i,
            Some(Num::UInt(u)) => u as i64,
            Some(Num::Dec(d)) => d
                .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
                .to_i64()
                .unwrap_or(if d.is_sign_negative() {
                    i64::MIN
                } else {
                    i64::MAX
                }),
            Some(Num::Float(f)) => f64_to_i64_round(f),
            None => 0,
        },
    })
}

fn clamp_i64(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

fn to_unsigned(v: &Value) -> Result<u64> {
    Ok(match v {
        Value::UInt(u) => *u,
        Value::Str(s) => wrap_u64(str_to_int_prefix(s)),
        Value::Bytes(b) => wrap_u64(str_to_int_prefix(&String::from_utf8_lossy(b))),
        Value::Decimal(d) => {
            let r = d.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
            match r.to_i128() {
                Some(i) => wrap_u64(i),
                None => u64::MAX,
            }
        }
        Value::Double(_) | Value::Float(_) | Value::Json(_) => {
            let f = to_f64(v)?.unwrap_or(0.0).round();
            if f >= 1.8446744073709552e19 {
                u64::MAX
            } else if f >= 0.0 {
                f as u64
            } else {
                f64_to_i64_round(f) as u64
            }
        }
        other => to_signed(other)? as u64,
    })
}

/// Negative values wrap as two's complement (MySQL's `CAST(-1 AS UNSIGNED)`).
fn wrap_u64(v: i128) -> u64 {
    if v < 0 {
        clamp_i64(v) as u64
    } else {
        v.min(i128::from(u64::MAX)) as u64
    }
}

/// Rounds to `scale` and clamps into DECIMAL(precision, scale)'s range.
pub fn fit_decimal(d: Decimal, precision: u8, scale: u8) -> Decimal {
    let scale = u32::from(scale);
    let r = round_to_scale(d, scale);
    let int_digits = u32::from(precision).saturating_sub(scale);
    if int_digits + scale > 28 || int_digits >= 28 {
        return r;
    }
    // max = 10^int_digits - 10^-scale, e.g. 999.99 for DECIMAL(5,2)
    let max = Decimal::from_i128_with_scale(10i128.pow(int_digits + scale) - 1, scale);
    if r > max {
        max
    } else if r < -max {
        -max
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::TestCtx;
    use super::*;
    use std::str::FromStr;

    fn cast(v: Value, to: CastTarget) -> Result<Value> {
        cast_value(&v, &to, &TestCtx::default())
    }
    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }
    fn text(v: Result<Value>) -> String {
        v.unwrap().to_text().unwrap_or_else(|| "NULL".into())
    }

    #[test]
    fn to_integers() {
        assert_eq!(
            cast(s("12.7abc"), CastTarget::Signed).unwrap(),
            Value::Int(12)
        );
        assert_eq!(cast(s("abc"), CastTarget::Signed).unwrap(), Value::Int(0));
        assert_eq!(
            cast(s("-5"), CastTarget::Unsigned).unwrap(),
            Value::UInt(u64::MAX - 4)
        );
        assert_eq!(
            cast(Value::Int(-1), CastTarget::Unsigned).unwrap(),
            Value::UInt(u64::MAX)
        );
        assert_eq!(
            cast(
                Value::Decimal(Decimal::from_str("2.5").unwrap()),
                CastTarget::Signed
            )
            .unwrap(),
            Value::Int(3)
        );
        assert_eq!(
            cast(
                Value::Decimal(Decimal::from_str("-2.5").unwrap()),
                CastTarget::Signed
            )
            .unwrap(),
            Value::Int(-3)
        );
        assert_eq!(
            cast(Value::Double(2.5), CastTarget::Signed).unwrap(),
            Value::Int(3)
        );
        assert_eq!(
            cast(s("99999999999999999999"), CastTarget::Signed).unwrap(),
            Value::Int(i64::MAX)
        );
        assert_eq!(
            cast(Value::UInt(u64::MAX), CastTarget::Signed).unwrap(),
            Value::Int(-1)
        );
    }

    #[test]
    fn to_decimal_rounds_and_clamps() {
        let dec = |p, s| CastTarget::Decimal {
            precision: p,
            scale: s,
        };
        assert_eq!(text(cast(s("3.14159"), dec(5, 2))), "3.14");
        assert_eq!(text(cast(s("2.345"), dec(5, 2))), "2.35");
        assert_eq!(text(cast(Value::Int(7), dec(5, 2))), "7.00");
        assert_eq!(text(cast(Value::Int(123456), dec(5, 2))), "999.99");
        assert_eq!(text(cast(Value::Int(-123456), dec(5, 2))), "-999.99");
        assert_eq!(text(cast(Value::Double(0.1), dec(10, 3))), "0.100");
        assert_eq!(text(cast(s("1e2"), dec(10, 0))), "100");
    }

    #[test]
    fn to_char_and_binary() {
        assert_eq!(text(cast(s("hello"), CastTarget::Char(Some(3)))), "hel");
        assert_eq!(
            text(cast(Value::Double(1.5), CastTarget::Char(None))),
            "1.5"
        );
        assert_eq!(
            text(cast(Value::vector(vec![1.0, 2.5]), CastTarget::Char(None))),
            "[1,2.5]"
        );
        assert_eq!(
            cast(s("ab"), CastTarget::Binary(Some(4))).unwrap(),
            Value::Bytes(vec![b'a', b'b', 0, 0])
        );
    }

    #[test]
    fn to_dates() {
        assert_eq!(
            text(cast(s("2024-01-31 10:11:12"), CastTarget::Date)),
            "2024-01-31"
        );
        assert_eq!(
            text(cast(s("2024-01-31"), CastTarget::DateTime { fsp: 0 })),
            "2024-01-31 00:00:00"
        );
        assert_eq!(
            text(cast(
                s("2024-01-31 10:11:12.123456"),
                CastTarget::DateTime { fsp: 3 }
            )),
            "2024-01-31 10:11:12.123000"
        );
        assert_eq!(
            text(cast(
                s("2024-01-31 10:11:12.9999"),
                CastTarget::DateTime { fsp: 0 }
            )),
            "2024-01-31 10:11:13"
        );
        assert_eq!(text(cast(s("10:11:12"), CastTarget::Time)), "10:11:12");
        let ctx = TestCtx::default();
        assert_eq!(
            cast_value(&s("not a date"), &CastTarget::Date, &ctx).unwrap(),
            Value::Null
        );
        assert_eq!(
            ctx.warnings.borrow()[0],
            (1292, "Incorrect datetime value: 'not a date'".to_string())
        );
        assert_eq!(
            text(cast(Value::Int(20240131), CastTarget::Date)),
            "2024-01-31"
        );
    }

    #[test]
    fn to_json() {
        assert_eq!(
            text(cast(s(r#"{"b": 1, "a": [true, null]}"#), CastTarget::Json)),
            r#"{"a": [true, null], "b": 1}"#
        );
        assert_eq!(text(cast(Value::Int(5), CastTarget::Json)), "5");
        assert_eq!(text(cast(s("\"x\""), CastTarget::Json)), "\"x\"");
        let err = cast(s("{bad"), CastTarget::Json).unwrap_err();
        assert!(matches!(err, Error::InvalidJson(_)), "{err:?}");
        assert!(err.to_string().starts_with("Invalid JSON text: "), "{err}");
    }

    #[test]
    fn to_and_from_vectors() {
        assert_eq!(
            text(cast(s("[1, 2.5e0, -3]"), CastTarget::Vector(None))),
            "[1,2.5,-3]"
        );
        assert_eq!(
            text(cast(s("[1,2,3]"), CastTarget::Vector(Some(3)))),
            "[1,2,3]"
        );
        assert_eq!(
            cast(s("[0.3, 0.5]"), CastTarget::Vector(Some(3)))
                .unwrap_err()
                .to_string(),
            "vector has 2 dimensions, does not fit VECTOR(3)"
        );
        assert_eq!(
            cast(s("[5, ]"), CastTarget::Vector(None))
                .unwrap_err()
                .to_string(),
            "Invalid vector text: [5, ]"
        );
        assert!(cast(Value::Int(1), CastTarget::Vector(None)).is_err());
        assert!(cast(Value::vector(vec![1.0]), CastTarget::Signed).is_err());
        assert!(cast(Value::vector(vec![1.0]), CastTarget::Double).is_err());
        assert!(cast(Value::vector(vec![1.0]), CastTarget::Json).is_err());
    }
}
