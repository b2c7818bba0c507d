//! Binding: sqlparser ASTs -> plans over the catalog. Names are resolved to
//! row slots, functions to [`Func`], aggregates and window functions are
//! pulled out into their own plan nodes, and `VEC_EMBED_*` calls are
//! rewritten to plain distances against `EMBED_TEXT` of the query text
//! with the model and options of the ranked column.

mod dml;
mod expr;
mod rewrite;
mod select;
pub mod systables;

pub use dml::{bind_delete, bind_insert, bind_update};
pub use expr::number_literal as number_literal_value;
pub use rewrite::{conjoin, conjuncts, is_constant, transform, visit};
pub use select::{bind_query, scan_plan};

use crate::plan::{Column, SubqueryPlan};
use std::collections::HashMap;
use tiembed_types::{Catalog, Error, Result};

/// What binding needs to know about the session.
pub struct BindContext<'a> {
    pub catalog: &'a Catalog,
    pub current_db: Option<&'a str>,
}

/// A named CTE visible to the statement.
#[derive(Clone)]
struct Cte {
    plan: crate::plan::Plan,
}

/// State of one statement's binding.
pub(crate) struct Binder<'a> {
    pub ctx: &'a BindContext<'a>,
    /// Every subquery of the statement, referenced by id from expressions.
    pub subqueries: Vec<SubqueryPlan>,
    /// Highest `?` seen.
    pub param_count: usize,
    /// Scopes of enclosing queries, innermost last (correlated references).
    pub outer: Vec<Vec<Column>>,
    /// Set when a reference resolved into `outer` while binding a subquery.
    pub correlated_depths: Vec<bool>,
    ctes: Vec<HashMap<String, Cte>>,
}

impl<'a> Binder<'a> {
    pub fn new(ctx: &'a BindContext<'a>) -> Binder<'a> {
        Binder {
            ctx,
            subqueries: Vec::new(),
            param_count: 0,
            outer: Vec::new(),
            correlated_depths: Vec::new(),
            ctes: Vec::new(),
        }
    }

    fn find_cte(&self, name: &str) -> Option<&Cte> {
        let key = name.to_lowercase();
        self.ctes.iter().rev().find_map(|m| m.get(&key))
    }
}

/// Splits an object name into (db, name) with the session's database as default.
pub(crate) fn object_parts(name: &sqlparser::ast::ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            sqlparser::ast::ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Resolves a table name to (db, table).
pub fn table_name(
    name: &sqlparser::ast::ObjectName,
    current_db: Option<&str>,
) -> Result<(String, String)> {
    let parts = object_parts(name);
    match parts.as_slice() {
        [t] => Ok((
            current_db.ok_or(Error::NoDatabaseSelected)?.to_string(),
            t.clone(),
        )),
        [d, t] => Ok((d.clone(), t.clone())),
        _ => Err(Error::other(format!("Incorrect table name '{name}'"))),
    }
}

/// Binds a standalone expression over known columns (SET values, SHOW ...
/// WHERE), with the subqueries it uses.
pub fn bind_expr_in(
    ctx: &BindContext,
    expr: &sqlparser::ast::Expr,
    columns: &[Column],
) -> Result<(crate::Expr, Vec<SubqueryPlan>)> {
    let mut b = Binder::new(ctx);
    let scope = expr::Scope::plain(columns);
    let e = b.bind_expr(expr, &scope)?;
    Ok((e, b.subqueries))
}
