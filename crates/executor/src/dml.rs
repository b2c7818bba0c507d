//! INSERT / REPLACE / ON DUPLICATE KEY UPDATE / UPDATE / DELETE.
//!
//! Every statement computes its rows first, then embeds the source texts
//! of all EMBED_TEXT columns in one batch, then writes. Any failure
//! (conversion, constraint, embedding) fails the whole statement; the
//! session undoes its partial writes.

use crate::api::Output;
use crate::coerce::coerce;
use crate::exec::{pad_row, Exec, Row, StmtState};
use tiembed_sql::bind::number_literal_value;
use tiembed_sql::plan::{DeletePlan, InsertPlan, InsertSource, UpdatePlan};
use tiembed_storage::{table as tbl, StorageError};
use tiembed_types::{ColumnDef, DataType, DefaultValue, Error, Generated, Result, TableDef, Value};

/// A column's constant default (NULL when it has none); CURRENT_TIMESTAMP
/// needs the statement time and is handled by [`default_value`].
pub fn literal_default(c: &ColumnDef) -> Option<Value> {
    match &c.default {
        Some(DefaultValue::Literal(text)) => Some(parse_literal(text)),
        _ => None,
    }
}

/// Reads back a default stored as SQL literal text.
fn parse_literal(text: &str) -> Value {
    let t = text.trim();
    if t.eq_ignore_ascii_case("NULL") {
        return Value::Null;
    }
    if t.len() >= 2 && (t.starts_with('\'') && t.ends_with('\'')) {
        return Value::Str(t[1..t.len() - 1].replace("''", "'"));
    }
    number_literal_value(t).unwrap_or_else(|_| Value::Str(t.to_string()))
}

/// The value an omitted column gets, or 1364 when it has none.
fn default_value(st: &StmtState, c: &ColumnDef, row: usize) -> Result<Value> {
    match &c.default {
        Some(DefaultValue::CurrentTimestamp) => Ok(Value::DateTime(st.now)),
        Some(DefaultValue::Literal(text)) => coerce(parse_literal(text), c, row),
        None if c.nullable || c.auto_increment || c.generated.is_some() => Ok(Value::Null),
        None => Err(Error::NoDefault(c.name.clone())),
    }
}

/// Fills EMBED_TEXT columns of `rows` (only those marked in `dirty`) with one
/// batched embedding call per column.
fn fill_embeddings(
    st: &StmtState,
    table: &TableDef,
    rows: &mut [Row],
    dirty: &[bool],
) -> Result<()> {
    for (ci, col) in table.columns.iter().enumerate() {
        let Some(Generated::Embed {
            model,
            source,
            options,
        }) = &col.generated
        else {
            continue;
        };
        let src = table
            .column_index(source)
            .ok_or_else(|| Error::internal("embed source column vanished"))?;
        let mut texts = Vec::new();
        let mut targets = Vec::new();
        for (ri, row) in rows.iter_mut().enumerate() {
            if !dirty[ri] {
                continue;
            }
            match row[src].to_text() {
                Some(t) => {
                    texts.push(t);
                    targets.push(ri);
                }
                None => row[ci] = Value::Null,
            }
        }
        let options = options.as_deref().filter(|o| !o.trim().is_empty());
        let vectors = crate::embedding::embed_texts(st, model, options, &texts)?;
        for (ri, v) in targets.into_iter().zip(vectors) {
            if let DataType::Vector(Some(d)) = col.data_type {
                tiembed_vector::codec::check_fits(&v, Some(d as usize)).map_err(Error::from)?;
            }
            rows[ri][ci] = Value::vector(v);
        }
    }
    Ok(())
}

fn has_embed_columns(table: &TableDef) -> bool {
    table
        .columns
        .iter()
        .any(|c| matches!(c.generated, Some(Generated::Embed { .. })))
}

fn check_not_null(table: &TableDef, row: &[Value]) -> Result<()> {
    for (c, v) in table.columns.iter().zip(row) {
        if v.is_null() && !c.nullable {
            return Err(Error::NotNull(c.name.clone()));
        }
    }
    Ok(())
}

fn storage_err(e: StorageError) -> Error {
    e.into()
}

/// Runs an INSERT / REPLACE.
pub fn insert(st: &StmtState, plan: &InsertPlan) -> Result<Output> {
    let table = plan.table.as_ref();
    let exec = Exec::new(st);

    // 1. Source rows, in target-column order.
    let source: Vec<Vec<Option<Value>>> = match &plan.source {
        InsertSource::Values(rows) => rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|e| e.as_ref().map(|e| exec.eval(e, &[])).transpose())
                    .collect()
            })
            .collect::<Result<_>>()?,
        InsertSource::Query(p) => {
            let mut folded = p.clone();
            crate::embedding::fold_constant_embeddings(st, &mut folded)?;
            exec.run(&folded)?
                .into_iter()
                .map(|r| r.into_iter().map(Some).collect())
                .collect()
        }
    };

    // 2. Full rows with defaults and conversions.
    let ai = table.auto_increment_column();
    let mut rows: Vec<Row> = Vec::with_capacity(source.len());
    for (ri, src) in source.into_iter().enumerate() {
        let mut row = vec![Value::Null; table.columns.len()];
        let mut given = vec![false; table.columns.len()];
        for (v, &ci) in src.into_iter().zip(&plan.columns) {
            if let Some(v) = v {
                row[ci] = coerce(v, &table.columns[ci], ri + 1)?;
                given[ci] = true;
            }
        }
        for (ci, c) in table.columns.iter().enumerate() {
            if !given[ci] {
                row[ci] = default_value(st, c, ri + 1)?;
            }
        }
        rows.push(row);
    }

    // 3. AUTO_INCREMENT: NULL or 0 draws the next id; larger explicit ids rebase.
    let mut first_id: Option<u64> = None;
    if let Some(ai) = ai {
        let need = rows.iter().filter(|r| is_unset_id(&r[ai])).count() as u64;
        let mut next = if need > 0 {
            tbl::allocate_auto_increment(st.engine.storage.as_ref(), table.id, need)
                .map_err(storage_err)?
        } else {
            0
        };
        let mut max_explicit = 0u64;
        for row in rows.iter_mut() {
            if is_unset_id(&row[ai]) {
                row[ai] = coerce(Value::UInt(next), &table.columns[ai], 1)?;
                first_id.get_or_insert(next);
                next += 1;
            } else if let Some(n) = crate::eval::convert::to_i64(&row[ai])? {
                max_explicit = max_explicit.max(n.max(0) as u64);
            }
        }
        if max_explicit > 0 {
            tbl::rebase_auto_increment(st.engine.storage.as_ref(), table.id, max_explicit)
                .map_err(storage_err)?;
        }
    }

    // 4. Embeddings for every row, in one batch per EMBED_TEXT column.
    if has_embed_columns(table) {
        let dirty = vec![true; rows.len()];
        fill_embeddings(st, table, &mut rows, &dirty)?;
    }

    // 5. Write.
    let mut affected = 0u64;
    let mut txn = st.txn.borrow_mut();
    for row in rows {
        check_not_null(table, &row)?;
        if !plan.replace && plan.on_duplicate.is_empty() {
            match tbl::insert_row(&mut txn, table, &row) {
                Ok(_) => affected += 1,
                Err(e) => {
                    let e: Error = e.into();
                    if plan.ignore && matches!(e, Error::DuplicateEntry { .. }) {
                        st.warnings.borrow_mut().push((1062, e.to_string()));
                        continue;
                    }
                    return Err(e);
                }
            }
            continue;
        }
        let conflicts = tbl::find_conflicts(&txn, table, &row).map_err(storage_err)?;
        if conflicts.is_empty() {
            tbl::insert_row(&mut txn, table, &row).map_err(storage_err)?;
            affected += 1;
        } else if plan.replace {
            for c in &conflicts {
                let old = pad_row(table, c.row.clone());
                tbl::delete_row(&mut txn, table, &c.key, &old).map_err(storage_err)?;
                affected += 1;
            }
            tbl::insert_row(&mut txn, table, &row).map_err(storage_err)?;
            affected += 1;
        } else {
            // ON DUPLICATE KEY UPDATE on the first conflicting row.
            let c = &conflicts[0];
            let old = pad_row(table, c.row.clone());
            let mut scope_row = old.clone();
            scope_row.extend(row.iter().cloned());
            let mut new = old.clone();
            drop(txn);
            for (ci, e) in &plan.on_duplicate {
                let mut cur = new.clone();
                cur.extend(row.iter().cloned());
                let v = exec.eval(e, &cur)?;
                new[*ci] = coerce(v, &table.columns[*ci], 1)?;
            }
            let _ = scope_row;
            refresh_generated(st, table, &old, &mut new)?;
            txn = st.txn.borrow_mut();
            if new != old {
                check_not_null(table, &new)?;
                tbl::update_row(&mut txn, table, &c.key, &old, &new).map_err(storage_err)?;
                affected += 2;
            } else if st.info.client_found_rows {
                affected += 1;
            }
        }
    }
    drop(txn);
    Ok(Output::Ok {
        affected_rows: affected,
        last_insert_id: first_id.unwrap_or(0),
        info: String::new(),
    })
}

fn is_unset_id(v: &Value) -> bool {
    matches!(v, Value::Null | Value::Int(0) | Value::UInt(0))
}

/// After an update: ON UPDATE CURRENT_TIMESTAMP columns and EMBED_TEXT
/// columns whose source text changed get new values.
fn refresh_generated(st: &StmtState, table: &TableDef, old: &[Value], new: &mut Row) -> Result<()> {
    let mut rows = vec![new.clone()];
    let dirty = embed_dirty(table, old, new);
    if dirty {
        fill_embeddings(st, table, &mut rows, &[true])?;
        *new = rows.pop().expect("one row");
    }
    if new.as_slice() != old {
        for (ci, c) in table.columns.iter().enumerate() {
            if c.on_update_now && new[ci] == old[ci] {
                new[ci] = Value::DateTime(st.now);
            }
        }
    }
    Ok(())
}

/// Whether any EMBED_TEXT column's source text changed.
fn embed_dirty(table: &TableDef, old: &[Value], new: &[Value]) -> bool {
    table.columns.iter().any(|c| match &c.generated {
        Some(Generated::Embed { source, .. }) => {
            table.column_index(source).is_some_and(|s| old[s] != new[s])
        }
        _ => false,
    })
}

/// Runs a single-table UPDATE.
pub fn update(st: &StmtState, plan: &UpdatePlan) -> Result<Output> {
    let table = plan.table.as_ref();
    let n = table.columns.len();
    let exec = Exec::new(st);
    let mut input = plan.input.clone();
    crate::embedding::fold_constant_embeddings(st, &mut input)?;
    let matched_rows = exec.run(&input)?;

    let mut changes: Vec<(Vec<u8>, Row, Row)> = Vec::new();
    for (ri, r) in matched_rows.into_iter().enumerate() {
        let key = match r.get(n) {
            Some(Value::Bytes(k)) => k.clone(),
            _ => return Err(Error::internal("update input lacks row keys")),
        };
        let old: Row = r[..n].to_vec();
        let mut new = old.clone();
        // Assignments see the values assigned before them (MySQL order).
        for (ci, e) in &plan.assignments {
            let v = match e {
                Some(e) => exec.eval(e, &new)?,
                None => default_value(st, &table.columns[*ci], ri + 1)?,
            };
            new[*ci] = coerce(v, &table.columns[*ci], ri + 1)?;
        }
        changes.push((key, old, new));
    }
    // Embeddings of changed source texts, batched across rows.
    if has_embed_columns(table) {
        let dirty: Vec<bool> = changes
            .iter()
            .map(|(_, o, n)| embed_dirty(table, o, n))
            .collect();
        let mut news: Vec<Row> = changes.iter().map(|(_, _, n)| n.clone()).collect();
        fill_embeddings(st, table, &mut news, &dirty)?;
        for (c, n) in changes.iter_mut().zip(news) {
            c.2 = n;
        }
    }
    let mut changed = 0u64;
    let matched = changes.len() as u64;
    let mut txn = st.txn.borrow_mut();
    for (key, old, mut new) in changes {
        if new != old {
            for (ci, c) in table.columns.iter().enumerate() {
                if c.on_update_now
                    && new[ci] == old[ci]
                    && !plan.assignments.iter().any(|(a, _)| *a == ci)
                {
                    new[ci] = Value::DateTime(st.now);
                }
            }
            check_not_null(table, &new)?;
            tbl::update_row(&mut txn, table, &key, &old, &new).map_err(storage_err)?;
            changed += 1;
        }
    }
    let affected = if st.info.client_found_rows {
        matched
    } else {
        changed
    };
    Ok(Output::Ok {
        affected_rows: affected,
        last_insert_id: 0,
        info: format!("Rows matched: {matched}  Changed: {changed}  Warnings: 0"),
    })
}

/// Runs a single-table DELETE.
pub fn delete(st: &StmtState, plan: &DeletePlan) -> Result<Output> {
    let table = plan.table.as_ref();
    let n = table.columns.len();
    let exec = Exec::new(st);
    let mut input = plan.input.clone();
    crate::embedding::fold_constant_embeddings(st, &mut input)?;
    let rows = exec.run(&input)?;
    let mut txn = st.txn.borrow_mut();
    let mut affected = 0;
    for r in rows {
        let Some(Value::Bytes(key)) = r.get(n) else {
            return Err(Error::internal("delete input lacks row keys"));
        };
        tbl::delete_row(&mut txn, table, key, &r[..n]).map_err(storage_err)?;
        affected += 1;
    }
    Ok(Output::Ok {
        affected_rows: affected,
        last_insert_id: 0,
        info: String::new(),
    })
}
