//! Row-level expression evaluation with MySQL/TiDB value semantics:
//! comparison and coercion, integer/DECIMAL/DOUBLE arithmetic, casts, and
//! the built-in function library.
//!
//! Entry points: [`eval`] (one value), [`eval_predicate`] (WHERE/HAVING/ON:
//! NULL is false). Operators reuse [`compare`] for ORDER BY / GROUP BY /
//! DISTINCT / joins, and call [`finalize_for_output`] on every value they
//! hand to the client, with the column's static type from
//! `tiembed_sql::types::expr_type`: DECIMAL quotients carry extra digits
//! until then, exactly as TiDB's do.

mod arith;
pub mod cast;
pub mod compare;
pub mod convert;
pub(crate) mod funcs;
mod json_path;
mod like;
pub mod output;
mod prepare;
#[cfg(test)]
mod tests;

pub use compare::{
    compare_for_sort, compare_values, group_key, values_equal_for_grouping, GroupKey,
};
pub use convert::to_vector;
pub use funcs::vector::metric as vector_metric;
pub use output::finalize_for_output;
pub use prepare::preparse_vector_literals;

use chrono::NaiveDateTime;
use std::borrow::Cow;
use tiembed_sql::{BinaryOp, CastTarget, CmpOp, Expr, SubqueryKind, UnaryOp, VarScope};
use tiembed_types::{Error, Result, Value};

/// What an expression may ask of the statement and session running it.
pub trait EvalContext {
    /// Value of `?` number `index` (0-based).
    fn param(&self, index: usize) -> Result<Value>;
    fn user_var(&self, name: &str) -> Value;
    fn sys_var(&self, name: &str, scope: VarScope) -> Result<Value>;
    /// The statement's start time; NOW() is constant within a statement.
    fn now(&self) -> NaiveDateTime;
    /// A row of an enclosing query (correlated subqueries); depth 1 = nearest.
    fn outer_row(&self, depth: usize) -> Result<&[Value]>;
    /// Runs subquery `id` for the current row. For `Scalar` the value, for
    /// `Exists`/`In` a boolean (0/1) or NULL as MySQL defines `IN`.
    fn subquery(&self, id: usize, kind: &SubqueryKind, row: &[Value]) -> Result<Value>;
    /// EMBED_TEXT for one text (the executor batches where it can).
    fn embed(&self, model: &str, text: &str, options: Option<&str>) -> Result<Value>;
    /// Session facts for VERSION(), DATABASE(), USER(), CONNECTION_ID(), ...
    fn info(&self, func: tiembed_sql::Func) -> Result<Value>;
    /// `div_precision_increment`.
    fn div_precision_increment(&self) -> u32 {
        4
    }
    /// Records a warning for SHOW WARNINGS (code, message).
    fn warn(&self, code: u16, message: String);
}

/// Evaluates `expr` against `row`.
pub fn eval(expr: &Expr, row: &[Value], ctx: &dyn EvalContext) -> Result<Value> {
    eval_ref(expr, row, ctx).map(Cow::into_owned)
}

/// Evaluates a condition (WHERE, HAVING, ON, CASE WHEN): true only when the
/// value is true; NULL and false both reject the row. Column-against-literal
/// comparisons run without copying either side.
pub fn eval_predicate(expr: &Expr, row: &[Value], ctx: &dyn EvalContext) -> Result<bool> {
    Ok(eval_truth(expr, row, ctx)? == Some(true))
}

/// The condition's three-valued truth.
pub fn eval_truth(expr: &Expr, row: &[Value], ctx: &dyn EvalContext) -> Result<Option<bool>> {
    match expr {
        Expr::Compare {
            op,
            left,
            right,
            collation,
        } => {
            let l = eval_ref(left, row, ctx)?;
            let r = eval_ref(right, row, ctx)?;
            compare::apply_cmp(*op, &l, &r, *collation)
        }
        Expr::Binary {
            op: BinaryOp::And,
            left,
            right,
        } => and_truth(left, right, row, ctx),
        Expr::Binary {
            op: BinaryOp::Or,
            left,
            right,
        } => or_truth(left, right, row, ctx),
        _ => convert::truth(&*eval_ref(expr, row, ctx)?),
    }
}

/// `AND`: a false left side decides without evaluating the right one.
fn and_truth(
    left: &Expr,
    right: &Expr,
    row: &[Value],
    ctx: &dyn EvalContext,
) -> Result<Option<bool>> {
    let l = eval_truth(left, row, ctx)?;
    if l == Some(false) {
        return Ok(Some(false));
    }
    Ok(and3(l, eval_truth(right, row, ctx)?))
}

/// `OR`: a true left side decides without evaluating the right one.
fn or_truth(
    left: &Expr,
    right: &Expr,
    row: &[Value],
    ctx: &dyn EvalContext,
) -> Result<Option<bool>> {
    let l = eval_truth(left, row, ctx)?;
    if l == Some(true) {
        return Ok(Some(true));
    }
    Ok(or3(l, eval_truth(right, row, ctx)?))
}

fn and3(l: Option<bool>, r: Option<bool>) -> Option<bool> {
    match (l, r) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn or3(l: Option<bool>, r: Option<bool>) -> Option<bool> {
    match (l, r) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// SQL boolean: 1, 0 or NULL.
pub(crate) fn bool_value(b: Option<bool>) -> Value {
    match b {
        None => Value::Null,
        Some(b) => Value::Int(i64::from(b)),
    }
}

/// Evaluates without copying literals and columns.
pub(crate) fn eval_ref<'a>(
    expr: &'a Expr,
    row: &'a [Value],
    ctx: &dyn EvalContext,
) -> Result<Cow<'a, Value>> {
    Ok(match expr {
        Expr::Literal(v) => Cow::Borrowed(v),
        Expr::Column(i) => Cow::Borrowed(row.get(*i).ok_or_else(|| {
            Error::internal(format!("column slot {i} beyond row of {}", row.len()))
        })?),
        Expr::OuterColumn { depth, index } => {
            let outer = ctx.outer_row(*depth)?;
            Cow::Owned(
                outer
                    .get(*index)
                    .cloned()
                    .ok_or_else(|| Error::internal(format!("outer column slot {index}")))?,
            )
        }
        Expr::Param(i) => Cow::Owned(ctx.param(*i)?),
        Expr::UserVar(name) => Cow::Owned(ctx.user_var(name)),
        Expr::SysVar { name, scope } => Cow::Owned(ctx.sys_var(name, *scope)?),
        Expr::Unary { op, expr } => {
            let v = eval_ref(expr, row, ctx)?;
            Cow::Owned(match op {
                UnaryOp::Neg => arith::negate(&v)?,
                UnaryOp::Not => bool_value(convert::truth(&v)?.map(|b| !b)),
                UnaryOp::BitNot => arith::bit_not(&v)?,
            })
        }
        Expr::Binary { op, left, right } => Cow::Owned(eval_binary(*op, left, right, row, ctx)?),
        Expr::Compare { .. } => Cow::Owned(bool_value(eval_truth(expr, row, ctx)?)),
        Expr::IsNull { expr, negated } => {
            let v = eval_ref(expr, row, ctx)?;
            Cow::Owned(bool_value(Some(v.is_null() != *negated)))
        }
        Expr::IsBool {
            expr,
            value,
            negated,
        } => {
            let t = convert::truth(&*eval_ref(expr, row, ctx)?)?;
            Cow::Owned(bool_value(Some((t == Some(*value)) != *negated)))
        }
        Expr::Between {
            expr,
            low,
            high,
            negated,
            collation,
        } => {
            let mut v = eval_ref(expr, row, ctx)?;
            let mut lo = eval_ref(low, row, ctx)?;
            let mut hi = eval_ref(high, row, ctx)?;
            // MySQL picks one comparison type for all three operands:
            // strings mixed with numbers compare as numbers, also where a
            // pair on its own would compare as strings (`'2' BETWEEN -5 AND '3'`).
            let is = |f: fn(&Value) -> bool| [&v, &lo, &hi].iter().any(|x| f(x));
            if is(|x| matches!(x, Value::Str(_))) && is(is_number) {
                for x in [&mut v, &mut lo, &mut hi] {
                    if let Value::Str(s) = &**x {
                        *x = Cow::Owned(Value::Double(convert::str_to_f64(s)));
                    }
                }
            }
            let ge = compare::apply_cmp(CmpOp::GtEq, &v, &lo, *collation)?;
            let le = compare::apply_cmp(CmpOp::LtEq, &v, &hi, *collation)?;
            let r = and3(ge, le);
            Cow::Owned(bool_value(if *negated { r.map(|b| !b) } else { r }))
        }
        Expr::InList {
            expr,
            list,
            negated,
            collation,
        } => {
            let r = eval_in_list(expr, list, *collation, row, ctx)?;
            Cow::Owned(bool_value(if *negated { r.map(|b| !b) } else { r }))
        }
        Expr::Like {
            expr,
            pattern,
            escape,
            negated,
            collation,
        } => {
            let v = eval_display(expr, row, ctx)?;
            let p = eval_display(pattern, row, ctx)?;
            let r = like::like(&v, &p, *escape, *collation)?;
            Cow::Owned(bool_value(if *negated { r.map(|b| !b) } else { r }))
        }
        Expr::Case {
            operand,
            whens,
            else_,
            collation,
        } => {
            let chosen =
                funcs::control::case_branch(operand.as_deref(), whens, *collation, row, ctx)?;
            match chosen.or(else_.as_deref()) {
                Some(e) => eval_ref(e, row, ctx)?,
                None => Cow::Owned(Value::Null),
            }
        }
        Expr::Cast { expr, to } => {
            // Text sees a quotient as it prints; numbers see all its digits.
            let v = match to {
                CastTarget::Char(_) | CastTarget::Binary(_) | CastTarget::Json => {
                    eval_display(expr, row, ctx)?
                }
                _ => eval_ref(expr, row, ctx)?,
            };
            Cow::Owned(cast::cast_value(&v, to, ctx)?)
        }
        Expr::Call { func, args } => Cow::Owned(funcs::call(*func, args, row, ctx)?),
        Expr::Subquery { id, kind } => Cow::Owned(ctx.subquery(*id, kind, row)?),
    })
}

fn eval_binary(
    op: BinaryOp,
    left: &Expr,
    right: &Expr,
    row: &[Value],
    ctx: &dyn EvalContext,
) -> Result<Value> {
    match op {
        BinaryOp::And => Ok(bool_value(and_truth(left, right, row, ctx)?)),
        BinaryOp::Or => Ok(bool_value(or_truth(left, right, row, ctx)?)),
        BinaryOp::Xor => {
            let l = convert::truth(&*eval_ref(left, row, ctx)?)?;
            let r = convert::truth(&*eval_ref(right, row, ctx)?)?;
            Ok(bool_value(match (l, r) {
                (Some(a), Some(b)) => Some(a != b),
                _ => None,
            }))
        }
        BinaryOp::BitAnd
        | BinaryOp::BitOr
        | BinaryOp::BitXor
        | BinaryOp::ShiftLeft
        | BinaryOp::ShiftRight => arith::bit_op(
            op,
            &*eval_ref(left, row, ctx)?,
            &*eval_ref(right, row, ctx)?,
        ),
        _ => arith::arith(
            op,
            &*eval_ref(left, row, ctx)?,
            &*eval_ref(right, row, ctx)?,
            ctx,
        ),
    }
}

/// `x IN (a, b, ...)`: true on the first match; NULL when nothing matched
/// but something compared as NULL (`1 IN (2, NULL)` is NULL).
fn eval_in_list(
    expr: &Expr,
    list: &[Expr],
    collation: tiembed_types::Collation,
    row: &[Value],
    ctx: &dyn EvalContext,
) -> Result<Option<bool>> {
    let v = eval_ref(expr, row, ctx)?;
    if v.is_null() {
        return Ok(None);
    }
    let mut saw_null = false;
    for item in list {
        let x = eval_ref(item, row, ctx)?;
        match compare::apply_cmp(CmpOp::Eq, &v, &x, collation)? {
            Some(true) => return Ok(Some(true)),
            Some(false) => {}
            None => saw_null = true,
        }
    }
    Ok(if saw_null { None } else { Some(false) })
}

/// Evaluates a value that is about to become text (CAST to CHAR, string
/// function arguments, LIKE): a DECIMAL quotient is first rounded to the
/// digits TiDB would show, so `CONCAT(1/3)` is `0.3333`.
pub(crate) fn eval_display<'a>(
    expr: &'a Expr,
    row: &'a [Value],
    ctx: &dyn EvalContext,
) -> Result<Cow<'a, Value>> {
    let v = eval_ref(expr, row, ctx)?;
    if let Value::Decimal(d) = v.as_ref() {
        if let Some(frac) = output::display_frac(expr, row, ctx.div_precision_increment()) {
            return Ok(Cow::Owned(Value::Decimal(output::round_to_scale(*d, frac))));
        }
    }
    Ok(v)
}

fn is_number(v: &Value) -> bool {
    matches!(
        v,
        Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Double(_) | Value::Decimal(_)
    )
}
