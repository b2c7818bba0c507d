//! Values on their way to the client. TiDB keeps a DECIMAL quotient's extra
//! digits through further arithmetic and rounds (half up) only when the
//! value is shown, at the expression's static scale. [`finalize_for_output`]
//! is that last step; operators call it on every cell of a result set, with
//! the column type `tiembed_sql::types::expr_type` computed.

use super::arith::MAX_DECIMAL_SCALE;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use tiembed_sql::{BinaryOp, CastTarget, Expr, Func, UnaryOp};
use tiembed_types::{DataType, Value};

/// Rounds half away from zero to `scale` digits and pads to exactly that
/// many (`0.25` at scale 4 is `0.2500`, as MySQL prints DECIMAL).
pub fn round_to_scale(d: Decimal, scale: u32) -> Decimal {
    let scale = scale.min(MAX_DECIMAL_SCALE);
    let mut r = if d.scale() > scale {
        d.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero)
    } else {
        d
    };
    r.rescale(scale);
    r
}

/// Makes a computed value look as the client must see it in a column of
/// static type `ty`:
/// * DECIMAL values (and integers in a DECIMAL column) are rounded/padded
///   to the column's scale: `SELECT 1.0/61 + 1.0/61` shows `0.03279`.
/// * integers and decimals in a DOUBLE column become doubles, anything in a
///   character column becomes its text (so the binary protocol can encode
///   every cell by the column type).
///
/// Nothing else changes; NULL stays NULL. Call it once, at the very end
/// (final projection, values written to the wire), never on intermediate
/// results (sorting, grouping, joins and subqueries see full precision, as
/// in TiDB). Values stored into DECIMAL columns are rounded by the
/// column's scale instead (same rule: half away from zero).
pub fn finalize_for_output(value: Value, ty: &DataType) -> Value {
    match (ty, value) {
        (_, Value::Null) => Value::Null,
        (DataType::Decimal { scale, .. }, Value::Decimal(d)) => {
            Value::Decimal(round_to_scale(d, u32::from(*scale)))
        }
        (DataType::Decimal { scale, .. }, Value::Int(i)) => {
            Value::Decimal(round_to_scale(Decimal::from(i), u32::from(*scale)))
        }
        (DataType::Decimal { scale, .. }, Value::UInt(u)) => {
            Value::Decimal(round_to_scale(Decimal::from(u), u32::from(*scale)))
        }
        (DataType::Double, Value::Int(i)) => Value::Double(i as f64),
        (DataType::Double, Value::UInt(u)) => Value::Double(u as f64),
        (DataType::Double, Value::Decimal(d)) => Value::Double(d.to_f64().unwrap_or(0.0)),
        (DataType::Double, Value::Float(f)) => Value::Double(f64::from(f)),
        (DataType::DateTime { .. } | DataType::Timestamp { .. }, Value::Date(d)) => d
            .and_hms_opt(0, 0, 0)
            .map(Value::DateTime)
            .unwrap_or(Value::Date(d)),
        (
            t,
            v @ (Value::Int(_)
            | Value::UInt(_)
            | Value::Float(_)
            | Value::Double(_)
            | Value::Decimal(_)
            | Value::Date(_)
            | Value::DateTime(_)),
        ) if t.is_string() => match v.to_text() {
            Some(s) => Value::Str(s),
            None => v,
        },
        (_, v) => v,
    }
}

/// The scale TiDB would show for a DECIMAL produced by `expr`, when `expr`
/// involves a `/` (whose value carries extra digits); `None` when the
/// value's own scale is already what is shown.
pub(crate) fn display_frac(expr: &Expr, row: &[Value], incr: u32) -> Option<u32> {
    if !contains_divide(expr) {
        return None;
    }
    result_frac(expr, row, incr)
}

fn contains_divide(expr: &Expr) -> bool {
    match expr {
        Expr::Binary {
            op: BinaryOp::Divide,
            ..
        } => true,
        Expr::Binary { left, right, .. } => contains_divide(left) || contains_divide(right),
        Expr::Unary { expr, .. } => contains_divide(expr),
        Expr::Case { whens, else_, .. } => {
            whens.iter().any(|(_, t)| contains_divide(t))
                || else_.as_deref().is_some_and(contains_divide)
        }
        Expr::Call {
            func:
                Func::If | Func::IfNull | Func::Coalesce | Func::NullIf | Func::Greatest | Func::Least,
            args,
        } => args.iter().any(contains_divide),
        _ => false,
    }
}

fn value_frac(v: &Value) -> Option<u32> {
    match v {
        Value::Null | Value::Int(_) | Value::UInt(_) => Some(0),
        Value::Decimal(d) => Some(d.scale()),
        _ => None,
    }
}

/// TiDB's `resultFrac` of a DECIMAL expression.
fn result_frac(expr: &Expr, row: &[Value], incr: u32) -> Option<u32> {
    let cap = |f: u32| f.min(MAX_DECIMAL_SCALE);
    match expr {
        Expr::Literal(v) => value_frac(v),
        Expr::Column(i) => row.get(*i).and_then(value_frac),
        Expr::Binary { op, left, right } => {
            let l = result_frac(left, row, incr);
            match op {
                BinaryOp::Divide => Some(cap(l? + incr)),
                BinaryOp::Plus | BinaryOp::Minus | BinaryOp::Modulo => {
                    Some(l?.max(result_frac(right, row, incr)?))
                }
                BinaryOp::Multiply => Some(cap(l? + result_frac(right, row, incr)?)),
                _ => None,
            }
        }
        Expr::Unary {
            op: UnaryOp::Neg,
            expr,
        } => result_frac(expr, row, incr),
        Expr::Case { whens, else_, .. } => {
            let mut m = 0;
            for (_, t) in whens {
                m = m.max(result_frac(t, row, incr)?);
            }
            if let Some(e) = else_ {
                m = m.max(result_frac(e, row, incr)?);
            }
            Some(m)
        }
        Expr::Call { func, args } => {
            let relevant = match func {
                Func::If => args.get(1..)?,
                Func::NullIf => args.get(..1)?,
                Func::IfNull | Func::Coalesce | Func::Greatest | Func::Least => &args[..],
                _ => return None,
            };
            let mut m = 0;
            for a in relevant {
                m = m.max(result_frac(a, row, incr)?);
            }
            Some(m)
        }
        Expr::Cast {
            to: CastTarget::Decimal { scale, .. },
            ..
        } => Some(u32::from(*scale)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn decimals_round_and_pad_to_the_column_scale() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        let ty = DataType::Decimal {
            precision: 10,
            scale: 5,
        };
        assert_eq!(
            finalize_for_output(Value::Decimal(d("0.032786884")), &ty)
                .to_text()
                .unwrap(),
            "0.03279"
        );
        assert_eq!(
            finalize_for_output(Value::Decimal(d("0.25")), &ty)
                .to_text()
                .unwrap(),
            "0.25000"
        );
        assert_eq!(
            finalize_for_output(Value::Int(0), &ty).to_text().unwrap(),
            "0.00000"
        );
        assert_eq!(
            finalize_for_output(Value::Decimal(d("-0.000005")), &ty)
                .to_text()
                .unwrap(),
            "-0.00001"
        );
        assert_eq!(finalize_for_output(Value::Null, &ty), Value::Null);
    }

    #[test]
    fn other_coercions() {
        assert_eq!(
            finalize_for_output(Value::Int(2), &DataType::Double),
            Value::Double(2.0)
        );
        assert_eq!(
            finalize_for_output(Value::Int(2), &DataType::VarChar(10)),
            Value::Str("2".into())
        );
        assert_eq!(
            finalize_for_output(
                Value::Double(2.5),
                &DataType::Int {
                    width: tiembed_types::IntWidth::Big,
                    unsigned: false
                }
            ),
            Value::Double(2.5)
        );
        assert_eq!(
            finalize_for_output(Value::Str("x".into()), &DataType::Null),
            Value::Str("x".into())
        );
    }
}
