//! Control flow: CASE, IF, IFNULL, NULLIF, COALESCE, GREATEST, LEAST,
//! ISNULL. Branches not taken are never evaluated.

use crate::eval::compare::{apply_cmp, compare_str, compare_values};
use crate::eval::convert::to_text;
use crate::eval::{bool_value, eval_predicate, eval_ref, eval_truth, EvalContext};
use std::borrow::Cow;
use std::cmp::Ordering;
use tiembed_sql::{CmpOp, Expr, Func};
use tiembed_types::{Collation, Error, Result, Value};

/// The THEN expression a CASE picks, `None` for its ELSE.
pub(crate) fn case_branch<'a>(
    operand: Option<&Expr>,
    whens: &'a [(Expr, Expr)],
    collation: Collation,
    row: &[Value],
    ctx: &dyn EvalContext,
) -> Result<Option<&'a Expr>> {
    match operand {
        Some(op) => {
            let v = eval_ref(op, row, ctx)?;
            if v.is_null() {
                return Ok(None);
            }
            for (w, then) in whens {
                if case_equal(&v, &*eval_ref(w, row, ctx)?, collation)? {
                    return Ok(Some(then));
                }
            }
        }
        None => {
            for (cond, then) in whens {
                if eval_predicate(cond, row, ctx)? {
                    return Ok(Some(then));
                }
            }
        }
    }
    Ok(None)
}

/// `CASE x WHEN y`: `x = y`, except that a JSON null matches the string
/// `'null'`, as MySQL's string comparison of JSON text makes it.
/// SQLAlchemy's JSON index expression (`CASE JSON_EXTRACT(..) WHEN 'null'
/// THEN NULL ELSE .. END`) depends on it.
fn case_equal(v: &Value, w: &Value, collation: Collation) -> Result<bool> {
    if let (Value::Json(j), Value::Str(s)) = (v, w) {
        if j.is_null() && s == "null" {
            return Ok(true);
        }
    }
    Ok(apply_cmp(CmpOp::Eq, v, w, collation)? == Some(true))
}

pub(super) fn call(
    func: Func,
    args: &[Expr],
    row: &[Value],
    ctx: &dyn EvalContext,
) -> Result<Value> {
    Ok(match func {
        Func::If => {
            let branch = if eval_truth(&args[0], row, ctx)? == Some(true) {
                &args[1]
            } else {
                &args[2]
            };
            eval_ref(branch, row, ctx)?.into_owned()
        }
        Func::IfNull => {
            let v = eval_ref(&args[0], row, ctx)?;
            if v.is_null() {
                eval_ref(&args[1], row, ctx)?.into_owned()
            } else {
                v.into_owned()
            }
        }
        Func::NullIf => {
            let a = eval_ref(&args[0], row, ctx)?;
            let b = eval_ref(&args[1], row, ctx)?;
            if apply_cmp(CmpOp::Eq, &a, &b, Collation::Utf8mb4Bin)? == Some(true) {
                Value::Null
            } else {
                a.into_owned()
            }
        }
        Func::Coalesce => {
            for a in args {
                let v = eval_ref(a, row, ctx)?;
                if !v.is_null() {
                    return Ok(v.into_owned());
                }
            }
            Value::Null
        }
        Func::IsNullFn => bool_value(Some(eval_ref(&args[0], row, ctx)?.is_null())),
        Func::Greatest | Func::Least => {
            let vals = args
                .iter()
                .map(|a| eval_ref(a, row, ctx))
                .collect::<Result<Vec<_>>>()?;
            extreme(&vals, func == Func::Greatest)?
        }
        _ => {
            return Err(Error::internal(format!(
                "{} is not a control function",
                func.name()
            )))
        }
    })
}

/// GREATEST/LEAST: NULL if any argument is NULL; vectors compare as
/// vectors (strings parsed), a mix of strings and numbers as strings
/// (MySQL 8), everything else by the usual comparison.
fn extreme(vals: &[Cow<'_, Value>], greatest: bool) -> Result<Value> {
    if vals.iter().any(|v| v.is_null()) {
        return Ok(Value::Null);
    }
    let is_str = |v: &Value| matches!(v, Value::Str(_) | Value::Bytes(_));
    let has_vector = vals.iter().any(|v| matches!(v.as_ref(), Value::Vector(_)));
    let as_strings = !has_vector
        && vals.iter().any(|v| is_str(v))
        && !vals.iter().all(|v| is_str(v))
        && !vals
            .iter()
            .any(|v| matches!(v.as_ref(), Value::Date(_) | Value::DateTime(_)));
    let mut best = 0;
    for i in 1..vals.len() {
        let ord = if as_strings {
            let (a, b) = (
                to_text(&vals[i]).unwrap_or_default(),
                to_text(&vals[best]).unwrap_or_default(),
            );
            compare_str(&a, &b, Collation::Utf8mb4Bin)
        } else {
            compare_values(&vals[i], &vals[best], Collation::Utf8mb4Bin)?.unwrap_or(Ordering::Equal)
        };
        if (greatest && ord == Ordering::Greater) || (!greatest && ord == Ordering::Less) {
            best = i;
        }
    }
    let chosen = vals[best].as_ref();
    Ok(if as_strings {
        Value::Str(to_text(chosen).unwrap_or_default().into_owned())
    } else if has_vector {
        match chosen {
            Value::Vector(_) => chosen.clone(),
            other => Value::vector(
                crate::eval::convert::to_vector(other)?
                    .unwrap_or_default()
                    .into_owned(),
            ),
        }
    } else {
        chosen.clone()
    })
}
