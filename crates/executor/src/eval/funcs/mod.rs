//! The built-in function library, one module per family. Most functions
//! are strict (any NULL argument gives NULL); the control-flow, JSON
//! constructors, `CONCAT_WS` and `EMBED_TEXT` handle NULL themselves.

pub(crate) mod control;
mod datetime;
mod fulltext;
mod info;
mod json;
mod math;
mod string;
pub(crate) mod vector;

use super::{eval_display, EvalContext};
use std::borrow::Cow;
use tiembed_sql::{Expr, Func};
use tiembed_types::{Error, Result, Value};

/// Evaluates `func(args...)` for one row.
pub(crate) fn call(
    func: Func,
    args: &[Expr],
    row: &[Value],
    ctx: &dyn EvalContext,
) -> Result<Value> {
    let (min, max) = func.arity();
    if args.len() < min || args.len() > max {
        return Err(Error::WrongArgCount(func.name().to_ascii_lowercase()));
    }
    use Func::*;
    match func {
        If | IfNull | NullIf | Coalesce | Greatest | Least | IsNullFn => {
            control::call(func, args, row, ctx)
        }
        VecDims
        | VecL1Distance
        | VecL2Distance
        | VecCosineDistance
        | VecNegativeInnerProduct
        | VecL2Norm
        | VecFromText
        | VecAsText
        | EmbedText => vector::call(func, args, row, ctx),
        VecEmbedCosineDistance
        | VecEmbedL2Distance
        | VecEmbedL1Distance
        | VecEmbedNegativeInnerProduct => {
            // The binder rewrites these to VEC_*_DISTANCE(col, EMBED_TEXT(..)).
            Err(Error::internal(format!(
                "{} reached the evaluator without being rewritten",
                func.name()
            )))
        }
        FtsMatchWord => {
            let vals = eval_args(args, row, ctx)?;
            let (Some(query), Some(_)) = (vals[0].to_text(), vals.get(1)) else {
                return Ok(Value::Null);
            };
            // Several columns are searched as one text.
            let text: Vec<String> = vals[1..].iter().filter_map(|v| v.to_text()).collect();
            if text.is_empty() {
                return Ok(Value::Null);
            }
            Ok(Value::Double(fulltext::match_word(&query, &text.join(" "))))
        }
        Version | TidbVersion | Database | User | CurrentUser | ConnectionId | LastInsertId
        | RowCount | FoundRows | Uuid | Sleep | Rand => info::call(func, args, row, ctx),
        JsonExtract | JsonUnquote | JsonContains | JsonObject | JsonArray | JsonLength
        | JsonKeys | JsonValid | JsonType | JsonQuote | JsonSet | JsonRemove | JsonContainsPath => {
            let vals = eval_args(args, row, ctx)?;
            json::call(func, &vals)
        }
        _ => {
            // Math sees a quotient's full digits (TiDB's ROUND(1/3, 6) is
            // 0.333333); string and date functions see what would print.
            let vals = if is_math(func) {
                eval_raw_args(args, row, ctx)?
            } else {
                eval_args(args, row, ctx)?
            };
            if func != ConcatWs && vals.iter().any(|v| v.is_null()) {
                return Ok(Value::Null);
            }
            match func {
                _ if is_math(func) => math::call(func, &vals, ctx),
                Now | CurDate | CurTime | UtcTimestamp | UnixTimestamp | FromUnixtime | Date
                | Year | Month | Day | Hour | Minute | Second | DayOfWeek | DateFormat
                | DateAdd | DateSub | DateDiff | TimestampDiff => datetime::call(func, &vals, ctx),
                _ => string::call(func, &vals, ctx),
            }
        }
    }
}

/// Arguments as they would print (DECIMAL quotients rounded for display).
fn eval_args<'a>(
    args: &'a [Expr],
    row: &'a [Value],
    ctx: &dyn EvalContext,
) -> Result<Vec<Cow<'a, Value>>> {
    args.iter().map(|a| eval_display(a, row, ctx)).collect()
}

fn is_math(func: Func) -> bool {
    use Func::*;
    matches!(
        func,
        Abs | Ceil
            | Floor
            | Round
            | Truncate
            | Mod
            | Pow
            | Sqrt
            | Exp
            | Ln
            | Log
            | Log2
            | Log10
            | Sign
            | Pi
    )
}

fn eval_raw_args<'a>(
    args: &'a [Expr],
    row: &'a [Value],
    ctx: &dyn EvalContext,
) -> Result<Vec<Cow<'a, Value>>> {
    args.iter().map(|a| super::eval_ref(a, row, ctx)).collect()
}
