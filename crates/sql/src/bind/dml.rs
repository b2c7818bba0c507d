//! INSERT / REPLACE / UPDATE / DELETE binding.

use super::expr::Scope;
use super::select::{push_filter, scan_plan};
use super::{object_parts, table_name, BindContext, Binder};
use crate::expr::Expr;
use crate::plan::{Column, DeletePlan, InsertPlan, InsertSource, Plan, SortKey, UpdatePlan};
use sqlparser::ast::{self, SetExpr};
use std::sync::Arc;
use tiembed_types::{Error, Result, TableDef};

fn lookup_table(ctx: &BindContext, name: &ast::ObjectName) -> Result<Arc<TableDef>> {
    let (db, table) = table_name(name, ctx.current_db)?;
    ctx.catalog
        .table(&db, &table)
        .cloned()
        .map(Arc::new)
        .ok_or(Error::NoSuchTable { db, table })
}

fn column_slot(table: &TableDef, name: &ast::ObjectName, context: &str) -> Result<usize> {
    let col = object_parts(name).pop().unwrap_or_default();
    table
        .column_index(&col)
        .ok_or_else(|| Error::UnknownColumn {
            column: col,
            context: context.into(),
        })
}

fn generated_error(table: &TableDef, col: usize) -> Error {
    Error::GeneratedValueNotAllowed {
        column: table.columns[col].name.clone(),
        table: table.name.clone(),
    }
}

fn is_default(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("DEFAULT"))
}

fn table_columns(table: &TableDef) -> Vec<Column> {
    scan_plan(Arc::new(table.clone()), &table.name, false)
        .columns()
        .to_vec()
}

/// Binds INSERT / REPLACE.
pub fn bind_insert(ctx: &BindContext, ins: &ast::Insert) -> Result<InsertPlan> {
    let ast::TableObject::TableName(name) = &ins.table else {
        return Err(Error::NotSupported("INSERT into a table function".into()));
    };
    let table = lookup_table(ctx, name)?;
    let mut b = Binder::new(ctx);

    let columns: Vec<usize> = if ins.columns.is_empty() && ins.assignments.is_empty() {
        (0..table.columns.len()).collect()
    } else if !ins.assignments.is_empty() {
        ins.assignments
            .iter()
            .map(|a| match &a.target {
                ast::AssignmentTarget::ColumnName(n) => column_slot(&table, n, "field list"),
                _ => Err(Error::NotSupported("tuple assignment".into())),
            })
            .collect::<Result<_>>()?
    } else {
        ins.columns
            .iter()
            .map(|c| column_slot(&table, c, "field list"))
            .collect::<Result<_>>()?
    };
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].contains(c) {
            return Err(Error::other(format!(
                "Column '{}' specified twice",
                table.columns[*c].name
            )));
        }
    }

    let empty: Vec<Column> = Vec::new();
    let scope = Scope::plain(&empty);
    let source = if !ins.assignments.is_empty() {
        // INSERT ... SET a = 1, b = 2
        let mut row = Vec::new();
        for (a, &col) in ins.assignments.iter().zip(&columns) {
            row.push(bind_value_for(&mut b, &table, col, &a.value, &scope, 1)?);
        }
        InsertSource::Values(vec![row])
    } else {
        let Some(src) = &ins.source else {
            return Err(Error::NotSupported("INSERT without values".into()));
        };
        match (src.body.as_ref(), &src.order_by, &src.limit_clause) {
            (SetExpr::Values(values), None, None) => {
                let mut rows = Vec::new();
                for (r, row) in values.rows.iter().enumerate() {
                    // `INSERT INTO t VALUES ()` fills every column with its default.
                    if row.is_empty() && ins.columns.is_empty() {
                        rows.push(vec![None; columns.len()]);
                        continue;
                    }
                    if row.len() != columns.len() {
                        return Err(Error::ValueCountMismatch(r + 1));
                    }
                    let mut out = Vec::new();
                    for (e, &col) in row.iter().zip(&columns) {
                        out.push(bind_value_for(&mut b, &table, col, e, &scope, r + 1)?);
                    }
                    rows.push(out);
                }
                InsertSource::Values(rows)
            }
            _ => {
                for &col in &columns {
                    if table.columns[col].generated.is_some() {
                        return Err(generated_error(&table, col));
                    }
                }
                let plan = b.bind_query_plan(src)?;
                if plan.columns().len() != columns.len() {
                    return Err(Error::ValueCountMismatch(1));
                }
                InsertSource::Query(plan)
            }
        }
    };

    let mut on_duplicate = Vec::new();
    if let Some(ast::OnInsert::DuplicateKeyUpdate(assignments)) = &ins.on {
        let mut cols = table_columns(&table);
        let n = cols.len();
        // New-row values are reachable through VALUES(col) only.
        cols.extend(table_columns(&table).into_iter().map(|c| Column {
            hidden: true,
            qualifier: None,
            ..c
        }));
        let dscope = Scope {
            values_base: Some(n),
            ..Scope::plain(&cols)
        };
        for a in assignments {
            let ast::AssignmentTarget::ColumnName(target) = &a.target else {
                return Err(Error::NotSupported("tuple assignment".into()));
            };
            let col = column_slot(&table, target, "field list")?;
            if table.columns[col].generated.is_some() {
                return Err(generated_error(&table, col));
            }
            on_duplicate.push((col, b.bind_expr(&a.value, &dscope)?));
        }
    } else if ins.on.is_some() {
        return Err(Error::NotSupported("ON CONFLICT".into()));
    }

    Ok(InsertPlan {
        table,
        columns,
        source,
        on_duplicate,
        ignore: ins.ignore,
        replace: ins.replace_into,
        subqueries: b.subqueries,
        param_count: b.param_count,
    })
}

/// One VALUES entry for column `col`: `None` for DEFAULT; an explicit value
/// for a generated column is 3105.
fn bind_value_for(
    b: &mut Binder,
    table: &TableDef,
    col: usize,
    e: &ast::Expr,
    scope: &Scope,
    _row: usize,
) -> Result<Option<Expr>> {
    if is_default(e) {
        return Ok(None);
    }
    if table.columns[col].generated.is_some() {
        return Err(generated_error(table, col));
    }
    b.bind_expr(e, scope).map(Some)
}

fn bind_order_limit(
    b: &mut Binder,
    plan: Plan,
    order_by: &[ast::OrderByExpr],
    limit: Option<&ast::Expr>,
    columns: &[Column],
) -> Result<Plan> {
    let mut plan = plan;
    if !order_by.is_empty() {
        let scope = Scope::plain(columns).with_context("order clause");
        let mut keys = Vec::new();
        for o in order_by {
            let expr = b.bind_expr(&o.expr, &scope)?;
            let collation = b.collation_of(&expr, &scope);
            keys.push(SortKey {
                expr,
                desc: matches!(o.options.sort, Some(ast::OrderBySort::Desc)),
                collation,
            });
        }
        plan = Plan::Sort {
            input: Box::new(plan),
            keys,
        };
    }
    if let Some(l) = limit {
        let n = match l {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::Number(n, _) => n
                    .parse::<u64>()
                    .map_err(|_| Error::WrongArguments("LIMIT".into()))?,
                _ => return Err(Error::WrongArguments("LIMIT".into())),
            },
            _ => return Err(Error::NotSupported("non-constant LIMIT".into())),
        };
        plan = Plan::Limit {
            input: Box::new(plan),
            limit: Some(n),
            offset: 0,
        };
    }
    Ok(plan)
}

/// Rows of `table` matching `selection`, with their keys (UPDATE/DELETE input).
fn target_rows(
    b: &mut Binder,
    table: &Arc<TableDef>,
    alias: &str,
    selection: Option<&ast::Expr>,
    order_by: &[ast::OrderByExpr],
    limit: Option<&ast::Expr>,
) -> Result<(Plan, Vec<Column>)> {
    let plan = scan_plan(table.clone(), alias, true);
    let columns = plan.columns().to_vec();
    let plan = match selection {
        Some(w) => {
            let scope = Scope::plain(&columns).with_context("where clause");
            let predicate = b.bind_expr(w, &scope)?;
            push_filter(plan, predicate)
        }
        None => plan,
    };
    let plan = bind_order_limit(b, plan, order_by, limit, &columns)?;
    Ok((plan, columns))
}

fn single_table(t: &ast::TableWithJoins) -> Result<(&ast::ObjectName, Option<String>)> {
    if !t.joins.is_empty() {
        return Err(Error::NotSupported("multi-table UPDATE/DELETE".into()));
    }
    match &t.relation {
        ast::TableFactor::Table { name, alias, .. } => {
            Ok((name, alias.as_ref().map(|a| a.name.value.clone())))
        }
        _ => Err(Error::NotSupported(
            "UPDATE/DELETE of a derived table".into(),
        )),
    }
}

/// Binds a single-table UPDATE.
pub fn bind_update(ctx: &BindContext, u: &ast::Update) -> Result<UpdatePlan> {
    if u.from.is_some() {
        return Err(Error::NotSupported("UPDATE ... FROM".into()));
    }
    let (name, alias) = single_table(&u.table)?;
    let table = lookup_table(ctx, name)?;
    let alias = alias.unwrap_or_else(|| table.name.clone());
    let mut b = Binder::new(ctx);
    let (input, columns) = target_rows(
        &mut b,
        &table,
        &alias,
        u.selection.as_ref(),
        &u.order_by,
        u.limit.as_ref(),
    )?;
    let scope = Scope::plain(&columns);
    let mut assignments = Vec::new();
    for a in &u.assignments {
        let ast::AssignmentTarget::ColumnName(target) = &a.target else {
            return Err(Error::NotSupported("tuple assignment".into()));
        };
        let parts = object_parts(target);
        let col = table
            .column_index(parts.last().map(String::as_str).unwrap_or(""))
            .ok_or_else(|| Error::UnknownColumn {
                column: parts.join("."),
                context: "field list".into(),
            })?;
        if table.columns[col].generated.is_some() {
            if is_default(&a.value) {
                continue;
            }
            return Err(generated_error(&table, col));
        }
        let value = if is_default(&a.value) {
            None
        } else {
            Some(b.bind_expr(&a.value, &scope)?)
        };
        assignments.push((col, value));
    }
    Ok(UpdatePlan {
        table,
        input,
        assignments,
        subqueries: b.subqueries,
        param_count: b.param_count,
    })
}

/// Binds a single-table DELETE.
pub fn bind_delete(ctx: &BindContext, d: &ast::Delete) -> Result<DeletePlan> {
    let from = match &d.from {
        ast::FromTable::WithFromKeyword(v) | ast::FromTable::WithoutKeyword(v) => v,
    };
    if from.len() != 1 || !d.tables.is_empty() || d.using.is_some() {
        return Err(Error::NotSupported("multi-table DELETE".into()));
    }
    let (name, alias) = single_table(&from[0])?;
    let table = lookup_table(ctx, name)?;
    let alias = alias.unwrap_or_else(|| table.name.clone());
    let mut b = Binder::new(ctx);
    let (input, _) = target_rows(
        &mut b,
        &table,
        &alias,
        d.selection.as_ref(),
        &d.order_by,
        d.limit.as_ref(),
    )?;
    Ok(DeletePlan {
        table,
        input,
        subqueries: b.subqueries,
        param_count: b.param_count,
    })
}
