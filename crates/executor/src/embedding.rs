//! Where SQL meets the embedding registry: batched calls from the
//! synchronous executor, result validation, and folding the constant
//! `EMBED_TEXT(model, 'query text')` of a `VEC_EMBED_*` rewrite into a
//! vector literal once per statement.

use crate::exec::{Exec, StmtState};
use tiembed_sql::bind::{is_constant, transform, visit};
use tiembed_sql::plan::Plan;
use tiembed_sql::{Expr, Func};
use tiembed_types::{Error, Result, Value};

/// Embeds `texts` with one registry call (the registry batches, dedups and
/// caches). Runs inside `block_in_place`, so blocking on the future is fine.
pub fn embed_texts(
    st: &StmtState,
    model: &str,
    options: Option<&str>,
    texts: &[String],
) -> Result<Vec<Vec<f32>>> {
    if texts.is_empty() {
        return Ok(Vec::new());
    }
    let handle = tokio::runtime::Handle::try_current()
        .map_err(|_| Error::internal("embedding needs a tokio runtime"))?;
    let registry = st.engine.registry.clone();
    let vectors = handle
        .block_on(registry.embed_sql(model, options, texts, st.embed_deadline))
        .map_err(|e| Error::other(e.to_string()))?;
    if vectors.len() != texts.len() {
        return Err(Error::other(format!(
            "embedding provider returned {} embeddings for {} texts",
            vectors.len(),
            texts.len()
        )));
    }
    for v in &vectors {
        tiembed_vector::codec::check_dimensions(v.len()).map_err(Error::from)?;
        tiembed_vector::codec::check_finite(v).map_err(Error::from)?;
    }
    Ok(vectors)
}

/// Replaces every `EMBED_TEXT` call with constant arguments in the plan by
/// the vector it yields, embedding all of them in one batch per model.
pub fn fold_constant_embeddings(st: &StmtState, plan: &mut Plan) -> Result<()> {
    let mut calls: Vec<(String, Option<String>, String)> = Vec::new();
    let exec = Exec::new(st);
    let mut error = None;
    plan.walk_exprs_mut(&mut |e| {
        collect(e, &exec, &mut calls, &mut error);
    });
    if let Some(e) = error {
        return Err(e);
    }
    if calls.is_empty() {
        return Ok(());
    }
    // One registry call per (model, options).
    let mut results: Vec<((String, Option<String>, String), Value)> = Vec::new();
    let mut groups: Vec<((String, Option<String>), Vec<String>)> = Vec::new();
    for (m, o, t) in &calls {
        match groups.iter_mut().find(|(k, _)| k.0 == *m && k.1 == *o) {
            Some((_, texts)) => texts.push(t.clone()),
            None => groups.push(((m.clone(), o.clone()), vec![t.clone()])),
        }
    }
    for ((model, options), texts) in groups {
        let vectors = embed_texts(st, &model, options.as_deref(), &texts)?;
        for (t, v) in texts.into_iter().zip(vectors) {
            results.push(((model.clone(), options.clone(), t), Value::vector(v)));
        }
    }
    plan.walk_exprs_mut(&mut |e| replace(e, &exec, &results));
    Ok(())
}

/// The constant (model, options, text) of an EMBED_TEXT call, if it has one.
fn constant_call(e: &Expr, exec: &Exec) -> Result<Option<(String, Option<String>, String)>> {
    let Expr::Call {
        func: Func::EmbedText,
        args,
    } = e
    else {
        return Ok(None);
    };
    if !args.iter().all(is_constant) {
        return Ok(None);
    }
    let vals = args
        .iter()
        .map(|a| exec.eval(a, &[]))
        .collect::<Result<Vec<_>>>()?;
    let (Some(model), Some(text)) = (vals[0].to_text(), vals[1].to_text()) else {
        return Ok(None); // NULL model or text: EMBED_TEXT yields NULL at run time.
    };
    let options = vals
        .get(2)
        .and_then(|v| v.to_text())
        .filter(|s| !s.trim().is_empty());
    Ok(Some((model, options, text)))
}

fn collect(
    e: &mut Expr,
    exec: &Exec,
    out: &mut Vec<(String, Option<String>, String)>,
    error: &mut Option<Error>,
) {
    visit(e, &mut |x| {
        if error.is_some() {
            return;
        }
        match constant_call(x, exec) {
            Ok(Some(c)) => {
                if !out.contains(&c) {
                    out.push(c)
                }
            }
            Ok(None) => {}
            Err(err) => *error = Some(err),
        }
    });
}

fn replace(e: &mut Expr, exec: &Exec, results: &[((String, Option<String>, String), Value)]) {
    *e = transform(e, &mut |x| {
        let key = constant_call(x, exec).ok().flatten()?;
        results
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| Expr::Literal(v.clone()))
    });
}
