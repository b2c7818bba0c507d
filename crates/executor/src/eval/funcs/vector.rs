//! Vector functions and EMBED_TEXT. Arguments that are strings are parsed
//! as vector text (TiDB's implicit cast); NULL in gives NULL out; a NaN
//! distance (cosine against a zero vector) is NULL. A vector column against
//! a vector literal is computed without copying either.

use crate::eval::convert::{to_text, to_vector};
use crate::eval::{eval_ref, EvalContext};
use std::borrow::Cow;
use tiembed_sql::{Expr, Func};
use tiembed_types::{vector_to_text, Error, Result, Value};
use tiembed_vector::Metric;

fn vec_arg<'a>(
    e: &'a Expr,
    row: &'a [Value],
    ctx: &dyn EvalContext,
) -> Result<Option<Cow<'a, [f32]>>> {
    match eval_ref(e, row, ctx)? {
        Cow::Borrowed(v) => to_vector(v),
        Cow::Owned(v) => Ok(to_vector(&v)?.map(|x| Cow::Owned(x.into_owned()))),
    }
}

/// The metric of a `VEC_*_DISTANCE` function.
pub fn metric(func: Func) -> Option<Metric> {
    Some(match func {
        Func::VecL1Distance => Metric::L1,
        Func::VecL2Distance => Metric::L2,
        Func::VecCosineDistance => Metric::Cosine,
        Func::VecNegativeInnerProduct => Metric::NegativeInnerProduct,
        _ => return None,
    })
}

fn double_or_null(d: Option<f64>) -> Value {
    d.map(Value::Double).unwrap_or(Value::Null)
}

pub(super) fn call(
    func: Func,
    args: &[Expr],
    row: &[Value],
    ctx: &dyn EvalContext,
) -> Result<Value> {
    if let Some(m) = metric(func) {
        let a = vec_arg(&args[0], row, ctx)?;
        let b = vec_arg(&args[1], row, ctx)?;
        return Ok(match (a, b) {
            (Some(a), Some(b)) => double_or_null(m.distance(&a, &b)?),
            _ => Value::Null,
        });
    }
    Ok(match func {
        Func::VecDims => match vec_arg(&args[0], row, ctx)? {
            Some(v) => Value::Int(v.len() as i64),
            None => Value::Null,
        },
        Func::VecL2Norm => match vec_arg(&args[0], row, ctx)? {
            Some(v) => double_or_null(tiembed_vector::l2_norm(&v)),
            None => Value::Null,
        },
        Func::VecFromText => {
            let v = eval_ref(&args[0], row, ctx)?;
            match v.as_ref() {
                Value::Null => Value::Null,
                Value::Vector(_) => v.into_owned(),
                other => match to_text(other) {
                    Some(t) => Value::vector(tiembed_vector::parse_vector(&t)?),
                    None => Value::Null,
                },
            }
        }
        Func::VecAsText => match vec_arg(&args[0], row, ctx)? {
            Some(v) => Value::Str(vector_to_text(&v)),
            None => Value::Null,
        },
        Func::EmbedText => embed_text(args, row, ctx)?,
        _ => {
            return Err(Error::internal(format!(
                "{} is not a vector function",
                func.name()
            )))
        }
    })
}

/// `EMBED_TEXT(model, text[, options])`: NULL model or text gives NULL
/// without calling the provider; options must be a JSON object (or NULL /
/// `''` for none). Keys ending in `@search` are reserved for the
/// `VEC_EMBED_*` rewrite and never reach the provider.
fn embed_text(args: &[Expr], row: &[Value], ctx: &dyn EvalContext) -> Result<Value> {
    let model = eval_ref(&args[0], row, ctx)?;
    let text = eval_ref(&args[1], row, ctx)?;
    let (Some(model), Some(text)) = (to_text(&model), to_text(&text)) else {
        return Ok(Value::Null);
    };
    let options = match args.get(2) {
        Some(e) => normalize_options(&*eval_ref(e, row, ctx)?)?,
        None => None,
    };
    ctx.embed(&model, &text, options.as_deref())
}

/// The options text to hand to the provider, `None` for none.
pub(crate) fn normalize_options(v: &Value) -> Result<Option<String>> {
    let bad = || Error::other("EMBED_TEXT expects options in JSON format");
    let parsed = match v {
        Value::Null => return Ok(None),
        Value::Json(j) => j.as_ref().clone(),
        other => {
            let t = to_text(other).unwrap_or_default();
            if t.trim().is_empty() {
                return Ok(None);
            }
            serde_json::from_str::<serde_json::Value>(&t).map_err(|_| bad())?
        }
    };
    let serde_json::Value::Object(mut m) = parsed else {
        return Err(bad());
    };
    m.retain(|k, _| !k.ends_with("@search"));
    if m.is_empty() {
        return Ok(None);
    }
    Ok(Some(serde_json::Value::Object(m).to_string()))
}
