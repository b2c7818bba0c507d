//! `ORDER BY ... LIMIT n`: the top-n operator.
//!
//! When the sorted input is a row-at-a-time pipeline over one table scan
//! (filters and projections, derived tables included: a [`Pipeline`]),
//! rows stream from the scan into a buffer that is cut back to the best
//! `n` whenever it doubles. No full sort, memory proportional to `n`.
//!
//! When the only key is an ascending `VEC_*_DISTANCE` between a
//! fixed-dimension vector column and a constant (the shape every vector
//! search takes, `VEC_EMBED_*` included once its query text is embedded),
//! the ranking reads the column's in-memory matrix
//! ([`crate::vector_store`]) with the SIMD scan kernel, and only the rows
//! of the nearest candidates are fetched and sent through the pipeline.
//! The pipeline's filters are applied nearest first: if too few candidates
//! pass, the next round fetches four times as many, and once that would
//! touch half the table, the streaming scan takes over. Rows the statement's
//! transaction wrote but has not committed are ranked from the transaction
//! itself, so a transaction sees its own writes.
//!
//! When the column has a `VECTOR INDEX` with the key's metric (see
//! [`crate::ann_store`]), its HNSW graph proposes the candidates instead
//! of the matrix scan: approximate, as on TiDB, but re-ranked by exact
//! distance, and with a WHERE filter the search widens until enough rows
//! pass, or falls back to the exact path. EXPLAIN marks such scans with
//! `annIndex:...` and warns, as TiDB does, when the index cannot serve.
//!
//! The exact paths order as the generic sort does: NULL distances first,
//! then ascending distance, ties in row-key (scan) order.

use crate::eval::{to_vector, vector_metric, EvalContext};
use crate::exec::{Exec, Row, SortRow};
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;
use tiembed_sql::bind::{is_constant, transform};
use tiembed_sql::plan::{Access, Plan, SortKey};
use tiembed_sql::{Expr, Func};
use tiembed_storage::table as tbl;
use tiembed_types::{DataType, Error, IndexDef, IndexKind, Result, TableDef, Value, VectorMetric};
use tiembed_vector::{top_k_scan, Metric};

/// First round's candidates beyond what the LIMIT needs: room for a
/// filter that rejects some rows, at the cost of a few extra row reads.
const MIN_CANDIDATES: usize = 64;

/// One operator of a [`Pipeline`], applied bottom-up.
enum Stage<'p> {
    Filter(&'p Expr),
    Project(&'p [Expr]),
}

/// A table scan under filters and projections: every output row comes from
/// exactly one base row, independently of the others.
struct Pipeline<'p> {
    table: &'p Arc<TableDef>,
    access: &'p Access,
    stages: Vec<Stage<'p>>,
}

impl<'p> Pipeline<'p> {
    fn of(plan: &'p Plan) -> Option<Pipeline<'p>> {
        let (input, stage) = match plan {
            Plan::Scan {
                table,
                access,
                with_key: false,
                ..
            } => {
                return Some(Pipeline {
                    table,
                    access,
                    stages: Vec::new(),
                })
            }
            Plan::Rename { input, .. } => return Pipeline::of(input),
            Plan::Filter { input, predicate } => (input, Stage::Filter(predicate)),
            Plan::Project { input, exprs, .. } => (input, Stage::Project(exprs)),
            _ => return None,
        };
        let mut p = Pipeline::of(input)?;
        p.stages.push(stage);
        Some(p)
    }

    /// `e`, an expression over the pipeline's output, rewritten over the
    /// base table's columns.
    fn over_base(&self, e: &Expr) -> Expr {
        let mut e = e.clone();
        for stage in self.stages.iter().rev() {
            if let Stage::Project(exprs) = stage {
                e = transform(&e, &mut |x| match x {
                    Expr::Column(i) => exprs.get(*i).cloned(),
                    _ => None,
                });
            }
        }
        e
    }
}

/// `Some(descending)` when `keys` sort by the whole primary key, all in one
/// direction, and the pipeline scans the table: rows then come out of the
/// scan in sort order. Integer columns only, whose key order is numeric
/// order (a string key's byte order need not be its collation's).
fn primary_key_order(p: &Pipeline, keys: &[SortKey]) -> Option<bool> {
    let pk = p.table.primary_key()?;
    let descending = keys.first()?.desc;
    let sorted_by_key = p.access.in_key_order()
        && keys.len() == pk.columns.len()
        && keys.iter().zip(&pk.columns).all(|(k, name)| {
            p.table.column_index(name).is_some_and(|slot| {
                k.desc == descending
                    && p.over_base(&k.expr) == Expr::Column(slot)
                    && matches!(p.table.columns[slot].data_type, DataType::Int { .. })
            })
        });
    sorted_by_key.then_some(descending)
}

/// An ascending `VEC_*_DISTANCE(column, constant)` sort key over the base
/// table, the constant evaluated.
struct DistanceKey {
    metric: Metric,
    column: usize,
    query: Vec<f32>,
    /// The key over base rows, to rank the transaction's own rows.
    expr: Expr,
}

/// A row in the running for the top n: `row` is present for rows of the
/// transaction's own writes, fetched later for committed ones.
#[derive(Clone)]
struct Candidate {
    distance: Option<f64>,
    key: Vec<u8>,
    row: Option<Row>,
}

impl Exec<'_, '_> {
    /// The first `n` rows of `input` sorted by `keys`.
    pub(crate) fn top_n(&self, input: &Plan, keys: &[SortKey], n: usize) -> Result<Vec<Row>> {
        let Some(pipeline) = Pipeline::of(input) else {
            let mut items = Vec::new();
            for (seq, row) in self.run(input)?.into_iter().enumerate() {
                items.push(self.sort_row(keys, seq, row)?);
            }
            return Ok(self.best(items, keys, n));
        };
        if n == 0 {
            return Ok(Vec::new());
        }
        let index = match ann_choice(&pipeline, keys) {
            Some(Ok(index)) => Some(index),
            Some(Err(why)) => {
                self.warn(1105, why);
                None
            }
            None => None,
        };
        if let Some(key) = self.distance_key(&pipeline, keys)? {
            if let Some(index) = index {
                if let Some(rows) = self.indexed_nearest(&pipeline, &key, index, n)? {
                    return Ok(rows);
                }
            }
            if let Some(rows) = self.nearest(&pipeline, &key, n)? {
                return Ok(rows);
            }
        }
        if let Some(descending) = primary_key_order(&pipeline, keys) {
            return self.first_in_key_order(&pipeline, descending, n);
        }
        self.streaming_top_n(&pipeline, keys, n)
    }

    /// The first `n` rows through the pipeline, reading the table in key
    /// order: `ORDER BY pk LIMIT n` stops after n rows.
    fn first_in_key_order(&self, p: &Pipeline, descending: bool, n: usize) -> Result<Vec<Row>> {
        let mut out = Vec::with_capacity(n.min(1024));
        self.scan_each_ordered(p.table, p.access, descending, &mut |_, row| {
            if let Some(row) = self.through(&p.stages, row)? {
                out.push(row);
            }
            Ok(out.len() < n)
        })?;
        Ok(out)
    }

    /// Runs one base row through the pipeline: `None` if a filter drops it.
    fn through(&self, stages: &[Stage], mut row: Row) -> Result<Option<Row>> {
        for stage in stages {
            match stage {
                Stage::Filter(p) => {
                    if !self.predicate(p, &row)? {
                        return Ok(None);
                    }
                }
                Stage::Project(exprs) => {
                    row = exprs
                        .iter()
                        .map(|e| self.eval(e, &row))
                        .collect::<Result<_>>()?;
                }
            }
        }
        Ok(Some(row))
    }

    fn streaming_top_n(&self, p: &Pipeline, keys: &[SortKey], n: usize) -> Result<Vec<Row>> {
        let mut items: Vec<SortRow> = Vec::new();
        let mut seq = 0;
        let cut_at = n.saturating_mul(2).max(MIN_CANDIDATES);
        self.scan_each(p.table, p.access, &mut |_, row| {
            if let Some(out) = self.through(&p.stages, row)? {
                items.push(self.sort_row(keys, seq, out)?);
                seq += 1;
                if items.len() >= cut_at {
                    self.keep_best(&mut items, keys, n);
                }
            }
            Ok(true)
        })?;
        Ok(self.best(items, keys, n))
    }

    fn distance_key(&self, p: &Pipeline, keys: &[SortKey]) -> Result<Option<DistanceKey>> {
        let [key] = keys else { return Ok(None) };
        if key.desc || !p.access.is_scan() {
            return Ok(None);
        }
        let expr = p.over_base(&key.expr);
        let Expr::Call { func, args } = &expr else {
            return Ok(None);
        };
        let Some(metric) = vector_metric(*func) else {
            return Ok(None);
        };
        let (column, query) = match (&args[0], &args[1]) {
            (Expr::Column(c), q) | (q, Expr::Column(c)) if is_constant(q) => (*c, q),
            _ => return Ok(None),
        };
        // A NULL or malformed query leaves the generic path to give NULLs
        // or the error exactly where the scalar function would.
        let Ok(Some(query)) = self
            .eval(query, &[])
            .and_then(|v| to_vector(&v).map(|q| q.map(|q| q.into_owned())))
        else {
            return Ok(None);
        };
        Ok(Some(DistanceKey {
            metric,
            column,
            query,
            expr,
        }))
    }

    /// The top `n` through the column's in-memory vectors, or `None` when
    /// that path does not apply (then the caller streams).
    fn nearest(&self, p: &Pipeline, key: &DistanceKey, n: usize) -> Result<Option<Vec<Row>>> {
        let engine = self.st.engine;
        let Some(column) = engine
            .vector_stores
            .column(engine.storage(), p.table, key.column)?
        else {
            return Ok(None);
        };
        let (hidden, own_candidates) = self.own_rows(p, key)?;
        let mut fetch = n.saturating_add(hidden.len()).max(MIN_CANDIDATES);
        loop {
            let (mut candidates, complete_below, total) = {
                let Some(col) = column.get() else {
                    return Ok(None);
                };
                if col.dim() != key.query.len() {
                    return Ok(None); // the generic path raises TiDB's error
                }
                let ranked = top_k_scan(key.metric, &key.query, col.tiles(), fetch, 0)?;
                // Rows nearer than the last ranked one are all there; ties
                // with it may have been cut (the kernel breaks ties by slot).
                let complete_below = (ranked.len() == fetch).then(|| ranked[fetch - 1].0);
                let mut c: Vec<Candidate> = col
                    .null_keys()
                    .iter()
                    .map(|k| (None, k))
                    .chain(ranked.iter().map(|(d, slot)| (*d, col.key(*slot))))
                    .filter(|(_, k)| !hidden.contains(*k))
                    .map(|(distance, k)| Candidate {
                        distance,
                        key: k.clone(),
                        row: None,
                    })
                    .collect();
                c.extend(own_candidates.iter().cloned());
                (c, complete_below, col.len())
            };
            candidates.sort_by(|a, b| {
                compare_distance(a.distance, b.distance).then_with(|| a.key.cmp(&b.key))
            });
            let mut out = Vec::with_capacity(n);
            for c in candidates {
                if let Some(bound) = complete_below {
                    if compare_distance(c.distance, bound) != Ordering::Less {
                        break;
                    }
                }
                let row = match c.row {
                    Some(row) => row,
                    None => match tbl::get_row(&self.st.txn.borrow(), p.table, &c.key)? {
                        Some(row) => crate::exec::pad_row(p.table, row),
                        None => continue, // deleted by a commit since the ranking
                    },
                };
                if let Some(row) = self.through(&p.stages, row)? {
                    out.push(row);
                    if out.len() == n {
                        return Ok(Some(out));
                    }
                }
            }
            if complete_below.is_none() {
                return Ok(Some(out)); // every row was ranked
            }
            fetch = fetch.saturating_mul(4);
            if fetch > total / 2 {
                return Ok(None); // a selective filter: scanning is cheaper
            }
        }
    }

    /// The rows the statement's transaction wrote to the table: their keys
    /// (they hide the committed versions) and the live ones as candidates.
    fn own_rows(
        &self,
        p: &Pipeline,
        key: &DistanceKey,
    ) -> Result<(HashSet<Vec<u8>>, Vec<Candidate>)> {
        let own = tbl::buffered_rows(&self.st.txn.borrow(), p.table)?;
        let mut candidates = Vec::new();
        for (k, row) in &own {
            if let Some(row) = row {
                let row = crate::exec::pad_row(p.table, row.clone());
                candidates.push(Candidate {
                    distance: distance_value(self.eval(&key.expr, &row)?)?,
                    key: k.clone(),
                    row: Some(row),
                });
            }
        }
        Ok((own.into_iter().map(|(k, _)| k).collect(), candidates))
    }

    /// The top `n` through the table's HNSW index: the graph proposes
    /// candidates, their rows are fetched, ranked by their exact distance
    /// and filtered. Too few pass the filter: ask the graph for four times
    /// as many, until that would be half the table (`None`: rank exactly).
    fn indexed_nearest(
        &self,
        p: &Pipeline,
        key: &DistanceKey,
        index: &IndexDef,
        n: usize,
    ) -> Result<Option<Vec<Row>>> {
        let session_ef = self
            .st
            .info
            .vars
            .get("tiembed_hnsw_ef_search")
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|ef| *ef > 0);
        let IndexKind::Vector { metric, .. } = index.kind else {
            return Ok(None);
        };
        let ready = match self
            .st
            .engine
            .ann
            .for_query(p.table, key.column, metric, session_ef)
        {
            Some(Ok(ready)) => ready,
            Some(Err(name)) => {
                self.warn(
                    1105,
                    format!("ANN index not used: vector index {name} is still being built, rows are ranked exactly"),
                );
                return Ok(None);
            }
            None => return Ok(None),
        };
        if ready.graph.dim() != key.query.len() {
            return Ok(None); // the generic path raises TiDB's error
        }
        let (hidden, own_candidates) = self.own_rows(p, key)?;
        let filtered = p.stages.iter().any(|s| matches!(s, Stage::Filter(_)));
        let mut fetch = n.saturating_add(hidden.len());
        loop {
            // A filter takes its answer from deeper in the ranking, where
            // a beam just `fetch` wide misses more: widen it.
            let ef = ready.ef_search.max(fetch) * if filtered { 2 } else { 1 };
            let found = ready
                .graph
                .search(&key.query, fetch, ef)
                .map_err(|e| Error::other(format!("vector index: {e}")))?;
            let nulls = ready.nulls(&hidden, fetch);
            // Every row was looked at: no point asking for more.
            let exhausted = found.len() < fetch && nulls.len() < fetch;
            let keys = ready.keys_of(found.iter().map(|(label, _)| *label));
            let mut candidates = own_candidates.clone();
            for k in nulls
                .iter()
                .chain(keys.iter().filter(|k| !hidden.contains(*k)))
            {
                // Gone: deleted by a commit since the search.
                if let Some(row) = tbl::get_row(&self.st.txn.borrow(), p.table, k)? {
                    let row = crate::exec::pad_row(p.table, row);
                    candidates.push(Candidate {
                        distance: distance_value(self.eval(&key.expr, &row)?)?,
                        key: k.clone(),
                        row: Some(row),
                    });
                }
            }
            candidates.sort_by(|a, b| {
                compare_distance(a.distance, b.distance).then_with(|| a.key.cmp(&b.key))
            });
            let mut out = Vec::with_capacity(n);
            for c in candidates {
                if let Some(row) = self.through(&p.stages, c.row.expect("fetched"))? {
                    out.push(row);
                    if out.len() == n {
                        return Ok(Some(out));
                    }
                }
            }
            if exhausted {
                return Ok(Some(out));
            }
            fetch = fetch.saturating_mul(4);
            if fetch > ready.rows / 2 {
                self.warn(
                    1105,
                    format!("ANN index not used: the filter keeps few rows, so {} ranked all rows exactly", ready.entry.name),
                );
                return Ok(None);
            }
        }
    }
}

/// Whether a `Sort` of `keys` over `p` can use a vector index: `None` if no
/// vector index is involved, `Err` with TiDB's warning when one could
/// have been but the query's shape rules it out.
fn ann_choice<'p>(
    p: &Pipeline<'p>,
    keys: &[SortKey],
) -> Option<std::result::Result<&'p IndexDef, String>> {
    let [key] = keys else { return None };
    let Expr::Call { func, args } = p.over_base(&key.expr) else {
        return None;
    };
    vector_metric(func)?;
    let column = match (&args[0], &args[1]) {
        (Expr::Column(c), q) | (q, Expr::Column(c)) if is_constant(q) => *c,
        _ => return None,
    };
    let name = &p.table.columns.get(column)?.name;
    let on_column: Vec<(&IndexDef, VectorMetric)> = p
        .table
        .indexes
        .iter()
        .filter_map(|i| match i.kind {
            IndexKind::Vector { metric, .. } if i.columns[0].eq_ignore_ascii_case(name) => {
                Some((i, metric))
            }
            _ => None,
        })
        .collect();
    let (_, first) = on_column.first()?;
    let Some((index, metric)) = on_column
        .iter()
        .find(|(_, m)| m.function_name() == func.name())
    else {
        return Some(Err(format!(
            "ANN index not used: not ordering by {} distance",
            first.explain_name()
        )));
    };
    if key.desc {
        return Some(Err(format!(
            "ANN index not used: index can be used only when ordering by {}() in ASC order",
            metric.function_name().to_ascii_lowercase()
        )));
    }
    if !p.access.is_scan() {
        return None;
    }
    Some(Ok(index))
}

/// For EXPLAIN: the `annIndex:...` note of each table scan a vector index
/// serves (by table id), and the warnings of those it cannot.
pub(crate) fn explain_ann(plan: &Plan, notes: &mut Vec<(u64, String)>, warnings: &mut Vec<String>) {
    if let Plan::Limit {
        input,
        limit: Some(limit),
        offset,
    } = plan
    {
        if let Plan::Sort { input: inner, keys } = input.as_ref() {
            if let Some(p) = Pipeline::of(inner) {
                match ann_choice(&p, keys) {
                    Some(Ok(index)) => {
                        if let IndexKind::Vector { metric, .. } = index.kind {
                            let query = match p.over_base(&keys[0].expr) {
                                Expr::Call { args, .. } => args
                                    .iter()
                                    .find(|a| !matches!(a, Expr::Column(_)))
                                    .map(describe_query)
                                    .unwrap_or_default(),
                                _ => String::new(),
                            };
                            notes.push((
                                p.table.id,
                                format!(
                                    "annIndex:{}({}.{}.{}..{query}, limit:{})",
                                    metric.explain_name(),
                                    p.table.db,
                                    p.table.name,
                                    index.columns[0],
                                    limit + offset
                                ),
                            ));
                        }
                    }
                    Some(Err(why)) => warnings.push(why),
                    None => {}
                }
            }
        }
    }
    for child in plan.inputs() {
        explain_ann(child, notes, warnings);
    }
}

/// The query vector as EXPLAIN shows it: the literal, or the text a
/// `VEC_EMBED_*` embeds.
fn describe_query(e: &Expr) -> String {
    const MAX: usize = 64;
    let text = match e {
        Expr::Literal(Value::Str(s)) => s.clone(),
        Expr::Literal(v @ Value::Vector(_)) => v.to_text().unwrap_or_default(),
        Expr::Call {
            func: Func::EmbedText,
            args,
        } => match args.get(1) {
            Some(Expr::Literal(Value::Str(s))) => format!("EMBED_TEXT('{s}')"),
            _ => "EMBED_TEXT(...)".into(),
        },
        _ => "?".into(),
    };
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// NULL first, then ascending.
fn compare_distance(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

fn distance_value(v: Value) -> Result<Option<f64>> {
    match v {
        Value::Null => Ok(None),
        Value::Double(d) => Ok(Some(d)),
        other => Err(Error::internal(format!(
            "vector distance evaluated to {other:?}"
        ))),
    }
}
