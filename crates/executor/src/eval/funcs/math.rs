//! Math functions. Integers stay integers and DECIMALs stay exact where
//! MySQL keeps them so; DECIMAL rounds half away from zero, DOUBLE rounds
//! half to even (MySQL's `rint`, TiDB's `RoundFloat`).

use crate::eval::arith::{self, sql_text};
use crate::eval::convert::{to_f64, to_i64, to_num, Num};
use crate::eval::EvalContext;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use std::borrow::Cow;
use tiembed_sql::{BinaryOp, Func};
use tiembed_types::{Error, Result, Value};

type Args<'a, 'b> = &'b [Cow<'a, Value>];

fn out_of_range(kind: &str, func: &str, a: Args<'_, '_>) -> Error {
    let args: Vec<String> = a.iter().map(|v| sql_text(v)).collect();
    Error::ArithmeticOutOfRange {
        kind: kind.into(),
        expr: format!("{func}({})", args.join(", ")),
    }
}

fn double(v: &Value) -> Result<f64> {
    Ok(to_f64(v)?.unwrap_or(0.0))
}

fn num(v: &Value) -> Result<Num> {
    Ok(to_num(v)?.unwrap_or(Num::Int(0)))
}

fn checked_double(f: f64, kind_func: &str, a: Args<'_, '_>) -> Result<Value> {
    if f.is_nan() {
        Ok(Value::Null)
    } else if f.is_infinite() {
        Err(out_of_range("DOUBLE", kind_func, a))
    } else {
        Ok(Value::Double(f))
    }
}

pub(super) fn call(func: Func, a: Args<'_, '_>, ctx: &dyn EvalContext) -> Result<Value> {
    Ok(match func {
        Func::Abs => match num(&a[0])? {
            Num::Int(i) => Value::Int(
                i.checked_abs()
                    .ok_or_else(|| out_of_range("BIGINT", "abs", a))?,
            ),
            Num::UInt(u) => Value::UInt(u),
            Num::Dec(d) => Value::Decimal(d.abs()),
            Num::Float(f) => match a[0].as_ref() {
                Value::Float(x) => Value::Float(x.abs()),
                _ => Value::Double(f.abs()),
            },
        },
        Func::Ceil | Func::Floor => {
            let up = func == Func::Ceil;
            match num(&a[0])? {
                n @ (Num::Int(_) | Num::UInt(_)) => n.into_value(),
                Num::Dec(d) => {
                    let r = if up { d.ceil() } else { d.floor() };
                    match r.to_i64() {
                        Some(i) => Value::Int(i),
                        None => Value::Decimal(r.trunc()),
                    }
                }
                Num::Float(f) => Value::Double(if up { f.ceil() } else { f.floor() }),
            }
        }
        Func::Round | Func::Truncate => {
            let d = match a.get(1) {
                Some(v) => to_i64(v)?.unwrap_or(0).clamp(-60, 60),
                None => 0,
            };
            round(num(&a[0])?, d, func == Func::Truncate).ok_or_else(|| {
                out_of_range(
                    "BIGINT",
                    if func == Func::Round {
                        "round"
                    } else {
                        "truncate"
                    },
                    a,
                )
            })?
        }
        Func::Mod => arith::arith(BinaryOp::Modulo, &a[0], &a[1], ctx)?,
        Func::Pow => checked_double(double(&a[0])?.powf(double(&a[1])?), "pow", a)?,
        Func::Sqrt => {
            let x = double(&a[0])?;
            if x < 0.0 {
                Value::Null
            } else {
                Value::Double(x.sqrt())
            }
        }
        Func::Exp => checked_double(double(&a[0])?.exp(), "exp", a)?,
        Func::Ln | Func::Log2 | Func::Log10 | Func::Log => {
            let (base, x) = if func == Func::Log && a.len() == 2 {
                (Some(double(&a[0])?), double(&a[1])?)
            } else {
                (None, double(&a[0])?)
            };
            if x <= 0.0 || base.is_some_and(|b| b <= 0.0 || b == 1.0) {
                ctx.warn(3020, "Invalid argument for logarithm".into());
                return Ok(Value::Null);
            }
            Value::Double(match (func, base) {
                (Func::Log2, _) => x.log2(),
                (Func::Log10, _) => x.log10(),
                (_, Some(b)) => x.ln() / b.ln(),
                _ => x.ln(),
            })
        }
        Func::Sign => Value::Int(match num(&a[0])? {
            Num::Int(i) => i.signum(),
            Num::UInt(u) => i64::from(u > 0),
            Num::Dec(d) => {
                if d.is_zero() {
                    0
                } else if d.is_sign_negative() {
                    -1
                } else {
                    1
                }
            }
            Num::Float(f) => {
                if f == 0.0 {
                    0
                } else if f < 0.0 {
                    -1
                } else {
                    1
                }
            }
        }),
        Func::Pi => Value::Double(std::f64::consts::PI),
        _ => {
            return Err(Error::internal(format!(
                "{} is not a math function",
                func.name()
            )))
        }
    })
}

/// ROUND(x, d) / TRUNCATE(x, d); `None` when an integer result overflows.
fn round(x: Num, d: i64, truncate: bool) -> Option<Value> {
    let strategy = if truncate {
        RoundingStrategy::ToZero
    } else {
        RoundingStrategy::MidpointAwayFromZero
    };
    Some(match x {
        Num::Int(_) | Num::UInt(_) if d >= 0 => x.into_value(),
        Num::Int(_) | Num::UInt(_) => {
            let v = match x {
                Num::Int(i) => i128::from(i),
                Num::UInt(u) => i128::from(u),
                _ => 0,
            };
            let p = 10i128
                .checked_pow(d.unsigned_abs() as u32)
                .unwrap_or(i128::MAX);
            let q = v / p;
            let rem = v % p;
            let q = if !truncate && rem.abs() * 2 >= p {
                q + v.signum()
            } else {
                q
            };
            let r = q.checked_mul(p).unwrap_or(0);
            match x {
                Num::UInt(_) => Value::UInt(u64::try_from(r).ok()?),
                _ => Value::Int(i64::try_from(r).ok()?),
            }
        }
        Num::Dec(v) => {
            if d >= 0 {
                let r = v.round_dp_with_strategy(d.min(28) as u32, strategy);
                Value::Decimal(r)
            } else {
                let p = Decimal::from_i128_with_scale(
                    10i128.checked_pow(d.unsigned_abs().min(28) as u32)?,
                    0,
                );
                let r = (v / p).round_dp_with_strategy(0, strategy).checked_mul(p)?;
                Value::Decimal(r.trunc())
            }
        }
        Num::Float(f) => {
            let shift = 10f64.powi(d.unsigned_abs() as i32);
            let scaled = if d >= 0 { f * shift } else { f / shift };
            if !scaled.is_finite() {
                return Some(Value::Double(f));
            }
            let r = if truncate {
                scaled.trunc()
            } else {
                scaled.round_ties_even()
            };
            Value::Double(if d >= 0 { r / shift } else { r * shift })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Num {
        Num::Dec(Decimal::from_str(s).unwrap())
    }
    fn txt(v: Option<Value>) -> String {
        v.unwrap().to_text().unwrap()
    }

    #[test]
    fn rounding_rules() {
        assert_eq!(txt(round(dec("2.5"), 0, false)), "3");
        assert_eq!(txt(round(dec("-2.5"), 0, false)), "-3");
        assert_eq!(txt(round(dec("1.2345"), 2, false)), "1.23");
        assert_eq!(txt(round(dec("1.235"), 2, false)), "1.24");
        assert_eq!(txt(round(dec("1.2"), 4, false)), "1.2");
        assert_eq!(txt(round(dec("1234.5"), -2, false)), "1200");
        assert_eq!(txt(round(dec("1250"), -2, false)), "1300");
        assert_eq!(txt(round(Num::Float(2.5), 0, false)), "2");
        assert_eq!(txt(round(Num::Float(3.5), 0, false)), "4");
        assert_eq!(txt(round(Num::Float(1.2345), 2, false)), "1.23");
        assert_eq!(txt(round(Num::Int(1250), -2, false)), "1300");
        assert_eq!(txt(round(Num::Int(-1250), -2, false)), "-1300");
        assert_eq!(txt(round(Num::Int(1249), -2, false)), "1200");
        assert_eq!(txt(round(Num::Int(7), 2, false)), "7");
        assert!(round(Num::Int(i64::MAX), -1, false).is_none());
        assert_eq!(txt(round(dec("1.999"), 2, true)), "1.99");
        assert_eq!(txt(round(dec("-1.999"), 2, true)), "-1.99");
        assert_eq!(txt(round(Num::Float(1.999), 2, true)), "1.99");
        assert_eq!(txt(round(Num::Int(1999), -2, true)), "1900");
        assert_eq!(txt(round(dec("1999"), -2, true)), "1900");
    }
}
