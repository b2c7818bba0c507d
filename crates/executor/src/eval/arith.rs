//! Arithmetic operators with MySQL's typing: BIGINT (signed or unsigned,
//! overflow is error 1690), exact DECIMAL, DOUBLE for approximate or string
//! operands, and element-wise vector arithmetic.
//!
//! `/` on exact operands yields a DECIMAL carrying more digits than it
//! displays: TiDB computes the quotient to whole 9-digit words beyond
//! `scale(dividend) + div_precision_increment` and rounds only when the value
//! is shown (see `output.rs`), which is why `1.0/61 + 1.0/61` shows
//! `0.03279` on TiDB where MySQL shows `0.03278`.

use super::convert::{to_num, to_vector, Num};
use super::EvalContext;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use tiembed_sql::BinaryOp;
use tiembed_types::{Error, Result, Value};

/// The largest scale a DECIMAL value can carry here (rust_decimal's limit;
/// MySQL's is 30).
pub const MAX_DECIMAL_SCALE: u32 = 28;

pub(crate) fn op_symbol(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Plus => "+",
        BinaryOp::Minus => "-",
        BinaryOp::Multiply => "*",
        BinaryOp::Divide => "/",
        BinaryOp::IntDivide => "DIV",
        BinaryOp::Modulo => "%",
        BinaryOp::And => "and",
        BinaryOp::Or => "or",
        BinaryOp::Xor => "xor",
        BinaryOp::BitAnd => "&",
        BinaryOp::BitOr => "|",
        BinaryOp::BitXor => "^",
        BinaryOp::ShiftLeft => "<<",
        BinaryOp::ShiftRight => ">>",
    }
}

/// How an operand appears in a 1690 message: literals as SQL writes them.
/// (Column names are not known after binding; their values stand in.)
pub(crate) fn sql_text(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Str(s) => format!("'{}'", s.replace('\'', "''")),
        other => other.to_text().unwrap_or_default(),
    }
}

fn out_of_range(kind: &str, op: BinaryOp, l: &Value, r: &Value) -> Error {
    Error::ArithmeticOutOfRange {
        kind: kind.into(),
        expr: format!("({} {} {})", sql_text(l), op_symbol(op), sql_text(r)),
    }
}

fn division_by_zero(ctx: &dyn EvalContext) -> Value {
    ctx.warn(1365, "Division by 0".into());
    Value::Null
}

/// Evaluates an arithmetic operator (`+ - * / DIV %`) on two values.
pub(crate) fn arith(op: BinaryOp, l: &Value, r: &Value, ctx: &dyn EvalContext) -> Result<Value> {
    if l.is_null() || r.is_null() {
        return Ok(Value::Null);
    }
    if matches!(l, Value::Vector(_)) || matches!(r, Value::Vector(_)) {
        return vector_arith(op, l, r);
    }
    let (Some(a), Some(b)) = (to_num(l)?, to_num(r)?) else {
        return Ok(Value::Null);
    };
    match op {
        BinaryOp::Plus | BinaryOp::Minus | BinaryOp::Multiply => add_sub_mul(op, a, b, l, r),
        BinaryOp::Divide => divide(a, b, l, r, ctx),
        BinaryOp::IntDivide => int_divide(a, b, l, r, ctx),
        BinaryOp::Modulo => modulo(a, b, l, r, ctx),
        _ => Err(Error::internal(format!("{op:?} is not arithmetic"))),
    }
}

fn vector_arith(op: BinaryOp, l: &Value, r: &Value) -> Result<Value> {
    let (Some(a), Some(b)) = (to_vector(l)?, to_vector(r)?) else {
        return Ok(Value::Null);
    };
    let out = match op {
        BinaryOp::Plus => tiembed_vector::arith::add(&a, &b)?,
        BinaryOp::Minus => tiembed_vector::arith::sub(&a, &b)?,
        BinaryOp::Multiply => tiembed_vector::arith::mul(&a, &b)?,
        _ => {
            return Err(Error::other(format!(
                "vector does not support operator {}",
                op_symbol(op)
            )))
        }
    };
    Ok(Value::vector(out))
}

fn is_float(n: &Num) -> bool {
    matches!(n, Num::Float(_))
}

fn is_dec(n: &Num) -> bool {
    matches!(n, Num::Dec(_))
}

fn is_unsigned(n: &Num) -> bool {
    matches!(n, Num::UInt(_))
}

fn int128(n: Num) -> i128 {
    match n {
        Num::Int(i) => i128::from(i),
        Num::UInt(u) => i128::from(u),
        // callers only pass integers
        Num::Dec(d) => d.to_i128().unwrap_or(0),
        Num::Float(f) => f as i128,
    }
}

fn check_double(v: f64, op: BinaryOp, l: &Value, r: &Value) -> Result<Value> {
    if v.is_finite() {
        Ok(Value::Double(v))
    } else {
        Err(out_of_range("DOUBLE", op, l, r))
    }
}

fn int_result(
    v: Option<i128>,
    unsigned: bool,
    op: BinaryOp,
    l: &Value,
    r: &Value,
) -> Result<Value> {
    if unsigned {
        match v.and_then(|x| u64::try_from(x).ok()) {
            Some(u) => Ok(Value::UInt(u)),
            None => Err(out_of_range("BIGINT UNSIGNED", op, l, r)),
        }
    } else {
        match v.and_then(|x| i64::try_from(x).ok()) {
            Some(i) => Ok(Value::Int(i)),
            None => Err(out_of_range("BIGINT", op, l, r)),
        }
    }
}

fn add_sub_mul(op: BinaryOp, a: Num, b: Num, l: &Value, r: &Value) -> Result<Value> {
    if is_float(&a) || is_float(&b) {
        let (x, y) = (a.to_f64(), b.to_f64());
        let v = match op {
            BinaryOp::Plus => x + y,
            BinaryOp::Minus => x - y,
            _ => x * y,
        };
        return check_double(v, op, l, r);
    }
    if is_dec(&a) || is_dec(&b) {
        let (x, y) = (
            a.to_decimal().unwrap_or_default(),
            b.to_decimal().unwrap_or_default(),
        );
        let v = match op {
            BinaryOp::Plus => x.checked_add(y),
            BinaryOp::Minus => x.checked_sub(y),
            _ => x.checked_mul(y),
        };
        return v
            .map(Value::Decimal)
            .ok_or_else(|| out_of_range("DECIMAL", op, l, r));
    }
    let unsigned = is_unsigned(&a) || is_unsigned(&b);
    let (x, y) = (int128(a), int128(b));
    let v = match op {
        BinaryOp::Plus => x.checked_add(y),
        BinaryOp::Minus => x.checked_sub(y),
        _ => x.checked_mul(y),
    };
    int_result(v, unsigned, op, l, r)
}

/// Rounds `n` up to whole 9-digit words, as MySQL's decimal library does.
fn word_aligned(n: u32) -> u32 {
    n.div_ceil(9) * 9
}

/// The number of fractional digits an exact quotient carries internally,
/// as TiDB's `doDivMod` computes them: both operands' scales rounded up to
/// whole words, plus what is left of the increment after that rounding,
/// rounded up to whole words again (`1.0/61` keeps 9 digits, `1/3` 9,
/// `0.333333333/3` 18).
pub(crate) fn quotient_internal_scale(s1: u32, s2: u32, incr: u32) -> u32 {
    let (w1, w2) = (word_aligned(s1), word_aligned(s2));
    let incr = incr.saturating_sub((w1 - s1) + (w2 - s2));
    word_aligned(w1 + w2 + incr).min(MAX_DECIMAL_SCALE)
}

/// Exact division: the digits TiDB computes, truncated (not rounded) at the
/// internal scale. Display rounds later to `scale(x) + incr`.
pub(crate) fn decimal_divide(x: Decimal, y: Decimal, incr: u32) -> Option<Decimal> {
    let scale = quotient_internal_scale(x.scale(), y.scale(), incr);
    let q = x.checked_div(y)?;
    Some(if q.scale() > scale {
        q.round_dp_with_strategy(scale, RoundingStrategy::ToZero)
    } else {
        q
    })
}

fn divide(a: Num, b: Num, l: &Value, r: &Value, ctx: &dyn EvalContext) -> Result<Value> {
    if is_float(&a) || is_float(&b) {
        let (x, y) = (a.to_f64(), b.to_f64());
        if y == 0.0 {
            return Ok(division_by_zero(ctx));
        }
        return check_double(x / y, BinaryOp::Divide, l, r);
    }
    let (x, y) = (
        a.to_decimal().unwrap_or_default(),
        b.to_decimal().unwrap_or_default(),
    );
    if y.is_zero() {
        return Ok(division_by_zero(ctx));
    }
    decimal_divide(x, y, ctx.div_precision_increment())
        .map(Value::Decimal)
        .ok_or_else(|| out_of_range("DECIMAL", BinaryOp::Divide, l, r))
}

fn int_divide(a: Num, b: Num, l: &Value, r: &Value, ctx: &dyn EvalContext) -> Result<Value> {
    let op = BinaryOp::IntDivide;
    let unsigned = is_unsigned(&a) || is_unsigned(&b);
    if !is_float(&a) && !is_float(&b) && !is_dec(&a) && !is_dec(&b) {
        let (x, y) = (int128(a), int128(b));
        if y == 0 {
            return Ok(division_by_zero(ctx));
        }
        return int_result(x.checked_div(y), unsigned, op, l, r);
    }
    // Non-integer operands divide as DECIMAL, then truncate to BIGINT.
    let (x, y) = match (a.to_decimal(), b.to_decimal()) {
        (Some(x), Some(y)) => (x, y),
        _ => {
            let (x, y) = (a.to_f64(), b.to_f64());
            if y == 0.0 {
                return Ok(division_by_zero(ctx));
            }
            let q = (x / y).trunc();
            return int_result(
                if q.is_finite() && q.abs() < 1e38 {
                    Some(q as i128)
                } else {
                    None
                },
                unsigned,
                op,
                l,
                r,
            );
        }
    };
    if y.is_zero() {
        return Ok(division_by_zero(ctx));
    }
    let q = x
        .checked_div(y)
        .map(|q| q.trunc())
        .and_then(|q| q.to_i128());
    int_result(q, unsigned, op, l, r)
}

fn modulo(a: Num, b: Num, l: &Value, r: &Value, ctx: &dyn EvalContext) -> Result<Value> {
    let op = BinaryOp::Modulo;
    if is_float(&a) || is_float(&b) {
        let (x, y) = (a.to_f64(), b.to_f64());
        if y == 0.0 {
            return Ok(division_by_zero(ctx));
        }
        return check_double(x % y, op, l, r);
    }
    if is_dec(&a) || is_dec(&b) {
        let (x, y) = (
            a.to_decimal().unwrap_or_default(),
            b.to_decimal().unwrap_or_default(),
        );
        if y.is_zero() {
            return Ok(division_by_zero(ctx));
        }
        return x
            .checked_rem(y)
            .map(Value::Decimal)
            .ok_or_else(|| out_of_range("DECIMAL", op, l, r));
    }
    let (x, y) = (int128(a), int128(b));
    if y == 0 {
        return Ok(division_by_zero(ctx));
    }
    // The result takes the dividend's sign and signedness (MySQL).
    int_result(x.checked_rem(y), is_unsigned(&a), op, l, r)
}

/// Unary minus.
pub(crate) fn negate(v: &Value) -> Result<Value> {
    let range = |kind: &str| Error::ArithmeticOutOfRange {
        kind: kind.into(),
        expr: format!("-({})", sql_text(v)),
    };
    Ok(match v {
        Value::Null => Value::Null,
        Value::Int(i) => Value::Int(i.checked_neg().ok_or_else(|| range("BIGINT"))?),
        Value::UInt(u) => {
            let n = -i128::from(*u);
            Value::Int(i64::try_from(n).map_err(|_| range("BIGINT"))?)
        }
        Value::Float(f) => Value::Float(-*f),
        Value::Double(d) => Value::Double(-*d),
        Value::Decimal(d) => Value::Decimal(-*d),
        Value::Vector(_) => return Err(Error::other("cannot cast from vector to number")),
        other => match to_num(other)? {
            Some(Num::Int(i)) => Value::Int(i.checked_neg().ok_or_else(|| range("BIGINT"))?),
            Some(Num::Dec(d)) => Value::Decimal(-d),
            Some(n) => Value::Double(-n.to_f64()),
            None => Value::Null,
        },
    })
}

/// A value as the 64-bit pattern bit operators work on.
fn to_bits(v: &Value) -> Result<Option<u64>> {
    Ok(match to_num(v)? {
        None => None,
        Some(Num::Int(i)) => Some(i as u64),
        Some(Num::UInt(u)) => Some(u),
        Some(n @ (Num::Dec(_) | Num::Float(_))) => {
            let f = n.to_f64().round();
            Some(if f < 0.0 {
                super::convert::f64_to_i64_round(f) as u64
            } else if f >= 1.8446744073709552e19 {
                u64::MAX
            } else {
                f as u64
            })
        }
    })
}

/// `& | ^ << >>`: BIGINT UNSIGNED results, as MySQL.
pub(crate) fn bit_op(op: BinaryOp, l: &Value, r: &Value) -> Result<Value> {
    let (Some(x), Some(y)) = (to_bits(l)?, to_bits(r)?) else {
        return Ok(Value::Null);
    };
    Ok(Value::UInt(match op {
        BinaryOp::BitAnd => x & y,
        BinaryOp::BitOr => x | y,
        BinaryOp::BitXor => x ^ y,
        BinaryOp::ShiftLeft => {
            if y >= 64 {
                0
            } else {
                x << y
            }
        }
        BinaryOp::ShiftRight => {
            if y >= 64 {
                0
            } else {
                x >> y
            }
        }
        _ => return Err(Error::internal(format!("{op:?} is not a bit operator"))),
    }))
}

/// `~x`.
pub(crate) fn bit_not(v: &Value) -> Result<Value> {
    Ok(match to_bits(v)? {
        Some(x) => Value::UInt(!x),
        None => Value::Null,
    })
}
