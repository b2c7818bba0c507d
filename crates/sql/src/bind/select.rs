//! SELECT binding: FROM -> WHERE -> GROUP BY/aggregates -> window ->
//! projection -> HAVING -> DISTINCT -> ORDER BY -> LIMIT.

use super::expr::{expr_label, find_column, Scope};
use super::rewrite::{
    choose_access, conjoin, conjuncts, over_aggregate, over_window, through_projection,
};
use super::systables;
use super::{object_parts, BindContext, Binder, Cte};
use crate::expr::Expr;
use crate::plan::{Access, AggCall, Column, JoinKind, Plan, QueryPlan, SortKey, WindowCall};
use sqlparser::ast::{self, SelectItem, SetExpr, TableFactor};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use tiembed_types::{Error, Result, Value};

/// Binds a whole query statement.
pub fn bind_query(ctx: &BindContext, q: &ast::Query) -> Result<QueryPlan> {
    let mut b = Binder::new(ctx);
    let plan = b.bind_query_plan(q)?;
    Ok(QueryPlan {
        plan,
        subqueries: b.subqueries,
        param_count: b.param_count,
    })
}

/// A bound select-list item.
struct Item {
    expr: Expr,
    column: Column,
}

fn limit_value(e: &ast::Expr) -> Result<u64> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n
                .parse::<u64>()
                .map_err(|_| Error::WrongArguments("LIMIT".into())),
            _ => Err(Error::WrongArguments("LIMIT".into())),
        },
        _ => Err(Error::NotSupported("non-constant LIMIT".into())),
    }
}

fn limits(q: &ast::Query) -> Result<(Option<u64>, u64)> {
    match &q.limit_clause {
        None => Ok((None, 0)),
        Some(ast::LimitClause::LimitOffset { limit, offset, .. }) => Ok((
            limit.as_ref().map(limit_value).transpose()?,
            offset
                .as_ref()
                .map(|o| limit_value(&o.value))
                .transpose()?
                .unwrap_or(0),
        )),
        Some(ast::LimitClause::OffsetCommaLimit { offset, limit }) => {
            Ok((Some(limit_value(limit)?), limit_value(offset)?))
        }
    }
}

fn order_exprs(q: &ast::Query) -> Vec<ast::OrderByExpr> {
    match &q.order_by {
        Some(ast::OrderBy {
            kind: ast::OrderByKind::Expressions(v),
            ..
        }) => v.clone(),
        _ => Vec::new(),
    }
}

fn relabel(columns: &[Column], alias: &str, names: &[String]) -> Vec<Column> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut c = c.clone();
            if let Some(n) = names.get(i) {
                c.name = n.clone();
            }
            c.qualifier = Some(alias.to_string());
            c.hidden = false;
            c
        })
        .collect()
}

fn wrap_limit(plan: Plan, limit: Option<u64>, offset: u64) -> Plan {
    if limit.is_none() && offset == 0 {
        plan
    } else {
        Plan::Limit {
            input: Box::new(plan),
            limit,
            offset,
        }
    }
}

impl<'a> Binder<'a> {
    pub(crate) fn bind_query_plan(&mut self, q: &ast::Query) -> Result<Plan> {
        let pushed = if let Some(with) = &q.with {
            if with.recursive {
                return Err(Error::NotSupported(
                    "recursive common table expressions".into(),
                ));
            }
            self.ctes.push(HashMap::new());
            for cte in &with.cte_tables {
                let plan = match self.bind_query_plan(&cte.query) {
                    Ok(p) => p,
                    Err(e) => {
                        self.ctes.pop();
                        return Err(e);
                    }
                };
                let name = cte.alias.name.value.clone();
                let names: Vec<String> = cte
                    .alias
                    .columns
                    .iter()
                    .map(|c| c.name.value.clone())
                    .collect();
                let columns = relabel(plan.columns(), &name, &names);
                let plan = Plan::Rename {
                    input: Box::new(plan),
                    columns,
                };
                self.ctes
                    .last_mut()
                    .expect("pushed")
                    .insert(name.to_lowercase(), Cte { plan });
            }
            true
        } else {
            false
        };
        let result = self.bind_query_body(q);
        if pushed {
            self.ctes.pop();
        }
        result
    }

    fn bind_query_body(&mut self, q: &ast::Query) -> Result<Plan> {
        let (limit, offset) = limits(q)?;
        let order = order_exprs(q);
        match q.body.as_ref() {
            SetExpr::Select(s) => self.bind_select(s, &order, limit, offset),
            SetExpr::Query(inner) => {
                let plan = self.bind_query_plan(inner)?;
                self.order_and_limit_output(plan, &order, limit, offset)
            }
            SetExpr::SetOperation { .. } => {
                let plan = self.bind_set_expr(q.body.as_ref())?;
                self.order_and_limit_output(plan, &order, limit, offset)
            }
            SetExpr::Values(v) => {
                let plan = self.bind_values(v)?;
                self.order_and_limit_output(plan, &order, limit, offset)
            }
            other => Err(Error::NotSupported(format!("query {other}"))),
        }
    }

    fn bind_set_expr(&mut self, body: &SetExpr) -> Result<Plan> {
        match body {
            SetExpr::Select(s) => self.bind_select(s, &[], None, 0),
            SetExpr::Query(q) => self.bind_query_plan(q),
            SetExpr::Values(v) => self.bind_values(v),
            SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                if *op != ast::SetOperator::Union {
                    return Err(Error::NotSupported(format!("{op}")));
                }
                let all = matches!(set_quantifier, ast::SetQuantifier::All);
                let l = self.bind_set_expr(left)?;
                let r = self.bind_set_expr(right)?;
                if l.columns().len() != r.columns().len() {
                    return Err(Error::other(
                        "The used SELECT statements have a different number of columns",
                    ));
                }
                let mut columns: Vec<Column> = l
                    .columns()
                    .iter()
                    .map(|c| Column {
                        qualifier: None,
                        ..c.clone()
                    })
                    .collect();
                for (c, rc) in columns.iter_mut().zip(r.columns()) {
                    c.nullable |= rc.nullable;
                    if c.data_type != rc.data_type {
                        c.data_type = union_type(&c.data_type, &rc.data_type);
                        c.generated = None;
                    }
                }
                // Flatten chains of the same kind so a 3-way UNION is one node.
                let mut inputs = Vec::new();
                for side in [l, r] {
                    match side {
                        Plan::Union {
                            inputs: inner,
                            all: a,
                            ..
                        } if a == all => inputs.extend(inner),
                        p => inputs.push(p),
                    }
                }
                Ok(Plan::Union {
                    inputs,
                    all,
                    columns,
                })
            }
            other => Err(Error::NotSupported(format!("query {other}"))),
        }
    }

    fn bind_values(&mut self, v: &ast::Values) -> Result<Plan> {
        let scope_cols: Vec<Column> = Vec::new();
        let scope = Scope::plain(&scope_cols);
        let mut rows = Vec::new();
        for row in &v.rows {
            rows.push(
                row.iter()
                    .map(|e| self.bind_expr(e, &scope))
                    .collect::<Result<Vec<_>>>()?,
            );
        }
        let width = rows.first().map(|r| r.len()).unwrap_or(0);
        let columns = (0..width)
            .map(|i| {
                let t = self.expr_type(&rows[0][i], &scope);
                Column::computed(format!("column_{i}"), t)
            })
            .collect();
        Ok(Plan::Values { rows, columns })
    }

    /// ORDER BY / LIMIT over a finished query's output columns (UNION, parenthesised queries).
    fn order_and_limit_output(
        &mut self,
        plan: Plan,
        order: &[ast::OrderByExpr],
        limit: Option<u64>,
        offset: u64,
    ) -> Result<Plan> {
        let mut plan = plan;
        if !order.is_empty() {
            let cols = plan
                .columns()
                .iter()
                .map(|c| Column {
                    qualifier: None,
                    ..c.clone()
                })
                .collect::<Vec<_>>();
            let scope = Scope::plain(&cols).with_context("order clause");
            let mut keys = Vec::new();
            for o in order {
                let expr = match &o.expr {
                    ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                        let k = limit_value(&o.expr)? as usize;
                        if k == 0 || k > cols.len() {
                            return Err(Error::UnknownColumn {
                                column: k.to_string(),
                                context: "order clause".into(),
                            });
                        }
                        Expr::Column(k - 1)
                    }
                    e => self.bind_expr(e, &scope)?,
                };
                let collation = self.collation_of(&expr, &scope);
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
        Ok(wrap_limit(plan, limit, offset))
    }

    // ---- FROM ------------------------------------------------------------

    fn bind_from(&mut self, from: &[ast::TableWithJoins]) -> Result<Plan> {
        let mut plan: Option<Plan> = None;
        for twj in from {
            let p = self.bind_table_with_joins(twj)?;
            plan = Some(match plan {
                None => p,
                Some(left) => self.join(left, p, JoinKind::Cross, None)?,
            });
        }
        Ok(plan.unwrap_or(Plan::Dual))
    }

    fn bind_table_with_joins(&mut self, twj: &ast::TableWithJoins) -> Result<Plan> {
        let mut plan = self.bind_table_factor(&twj.relation)?;
        for j in &twj.joins {
            let right = self.bind_table_factor(&j.relation)?;
            use ast::JoinOperator as J;
            let (kind, constraint, swap) = match &j.join_operator {
                J::Join(c) | J::Inner(c) | J::StraightJoin(c) => (JoinKind::Inner, c, false),
                J::Left(c) | J::LeftOuter(c) => (JoinKind::Left, c, false),
                J::Right(c) | J::RightOuter(c) => (JoinKind::Left, c, true),
                J::CrossJoin(c) => (JoinKind::Cross, c, false),
                other => return Err(Error::NotSupported(format!("join {other:?}"))),
            };
            plan = self.bind_join(plan, right, kind, constraint, swap)?;
        }
        Ok(plan)
    }

    fn bind_join(
        &mut self,
        left: Plan,
        right: Plan,
        kind: JoinKind,
        constraint: &ast::JoinConstraint,
        swap: bool,
    ) -> Result<Plan> {
        // Columns as the query sees them: left then right.
        let mut columns: Vec<Column> = left.columns().to_vec();
        columns.extend(right.columns().iter().cloned());
        let nleft = left.columns().len();
        let using: Vec<String> = match constraint {
            ast::JoinConstraint::Using(names) => names
                .iter()
                .map(|n| object_parts(n).pop().unwrap_or_default())
                .collect(),
            ast::JoinConstraint::Natural => left
                .columns()
                .iter()
                .filter(|c| {
                    !c.hidden
                        && right
                            .columns()
                            .iter()
                            .any(|r| !r.hidden && r.name.eq_ignore_ascii_case(&c.name))
                })
                .map(|c| c.name.clone())
                .collect(),
            _ => Vec::new(),
        };
        let on =
            match constraint {
                ast::JoinConstraint::On(e) => {
                    let scope = Scope::plain(&columns).with_context("on clause");
                    Some(self.bind_expr(e, &scope)?)
                }
                ast::JoinConstraint::Using(_) | ast::JoinConstraint::Natural => {
                    let mut cond: Option<Expr> = None;
                    for name in &using {
                        let l = find_column(&columns[..nleft], &[], name, "from clause")?
                            .ok_or_else(|| Error::UnknownColumn {
                                column: name.clone(),
                                context: "from clause".into(),
                            })?;
                        let r = find_column(&columns[nleft..], &[], name, "from clause")?
                            .ok_or_else(|| Error::UnknownColumn {
                                column: name.clone(),
                                context: "from clause".into(),
                            })?;
                        // The coalesced column is the left one; the right is reachable only qualified.
                        let hide = if swap { l } else { nleft + r };
                        columns[hide].hidden = true;
                        let eq = Expr::Compare {
                            op: crate::CmpOp::Eq,
                            left: Box::new(Expr::Column(l)),
                            right: Box::new(Expr::Column(nleft + r)),
                            collation: columns[l].collation,
                        };
                        cond = conjoin(cond.into_iter().chain([eq]));
                    }
                    cond
                }
                ast::JoinConstraint::None => None,
            };
        if !swap {
            if kind == JoinKind::Left {
                for c in &mut columns[nleft..] {
                    c.nullable = true;
                }
            }
            return Ok(Plan::Join {
                left: Box::new(left),
                right: Box::new(right),
                kind,
                on,
                columns,
            });
        }
        // RIGHT JOIN: run as LEFT JOIN with sides swapped, then restore the order.
        let nright = right.columns().len();
        let remap = |e: &Expr| {
            super::rewrite::transform(e, &mut |x| match x {
                Expr::Column(i) if *i < nleft => Some(Expr::Column(nright + i)),
                Expr::Column(i) => Some(Expr::Column(i - nleft)),
                _ => None,
            })
        };
        let on = on.as_ref().map(remap);
        for c in &mut columns[..nleft] {
            c.nullable = true;
        }
        let mut swapped_cols: Vec<Column> = columns[nleft..].to_vec();
        swapped_cols.extend(columns[..nleft].iter().cloned());
        let join = Plan::Join {
            left: Box::new(right),
            right: Box::new(left),
            kind,
            on,
            columns: swapped_cols,
        };
        let exprs = (0..nleft)
            .map(|i| Expr::Column(nright + i))
            .chain((0..nright).map(Expr::Column))
            .collect();
        Ok(Plan::Project {
            input: Box::new(join),
            exprs,
            columns,
        })
    }

    fn join(&mut self, left: Plan, right: Plan, kind: JoinKind, on: Option<Expr>) -> Result<Plan> {
        let mut columns = left.columns().to_vec();
        columns.extend(right.columns().iter().cloned());
        Ok(Plan::Join {
            left: Box::new(left),
            right: Box::new(right),
            kind,
            on,
            columns,
        })
    }

    fn bind_table_factor(&mut self, t: &TableFactor) -> Result<Plan> {
        match t {
            TableFactor::Table { name, alias, .. } => {
                if let Some(word) = reserved_table_name(name) {
                    return Err(Error::Parse {
                        line: 1,
                        column: 0,
                        near: word,
                    });
                }
                let parts = object_parts(name);
                let alias_name = alias.as_ref().map(|a| a.name.value.clone());
                if parts.len() == 1 {
                    if let Some(cte) = self.find_cte(&parts[0]).cloned() {
                        let q = alias_name.unwrap_or_else(|| parts[0].clone());
                        let columns = relabel(cte.plan.columns(), &q, &[]);
                        return Ok(Plan::Rename {
                            input: Box::new(cte.plan),
                            columns,
                        });
                    }
                }
                let (db, table) = super::table_name(name, self.ctx.current_db)?;
                if db.eq_ignore_ascii_case("information_schema") {
                    let Some(sys) = systables::lookup(&table) else {
                        return Err(Error::NoSuchTable {
                            db: "information_schema".into(),
                            table,
                        });
                    };
                    let q = alias_name.unwrap_or(table);
                    let columns = relabel(&systables::columns(sys), &q, &[]);
                    return Ok(Plan::System {
                        table: sys,
                        columns,
                    });
                }
                if table.eq_ignore_ascii_case("dual") && parts.len() == 1 {
                    return Ok(Plan::Dual);
                }
                let def = self
                    .ctx
                    .catalog
                    .table(&db, &table)
                    .ok_or_else(|| {
                        if self.ctx.catalog.database(&db).is_none() {
                            Error::UnknownDatabase(db.clone())
                        } else {
                            Error::NoSuchTable {
                                db: db.clone(),
                                table: table.clone(),
                            }
                        }
                    })
                    .map_err(|e| match e {
                        Error::UnknownDatabase(_) => Error::NoSuchTable {
                            db: db.clone(),
                            table: table.clone(),
                        },
                        e => e,
                    })?;
                let q = alias_name.unwrap_or_else(|| def.name.clone());
                Ok(scan_plan(Arc::new(def.clone()), &q, false))
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                let Some(alias) = alias else {
                    return Err(Error::other("Every derived table must have its own alias"));
                };
                // A derived table cannot see the enclosing FROM; hide outer scopes.
                let outer = std::mem::take(&mut self.outer);
                let plan = self.bind_query_plan(subquery);
                self.outer = outer;
                let plan = plan?;
                let names: Vec<String> =
                    alias.columns.iter().map(|c| c.name.value.clone()).collect();
                let columns = relabel(plan.columns(), &alias.name.value, &names);
                Ok(Plan::Rename {
                    input: Box::new(plan),
                    columns,
                })
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let plan = self.bind_table_with_joins(table_with_joins)?;
                match alias {
                    Some(a) => {
                        let columns = relabel(plan.columns(), &a.name.value, &[]);
                        Ok(Plan::Rename {
                            input: Box::new(plan),
                            columns,
                        })
                    }
                    None => Ok(plan),
                }
            }
            other => Err(Error::NotSupported(format!("table factor {other}"))),
        }
    }

    // ---- SELECT ----------------------------------------------------------

    fn bind_select(
        &mut self,
        s: &ast::Select,
        order: &[ast::OrderByExpr],
        limit: Option<u64>,
        offset: u64,
    ) -> Result<Plan> {
        let mut plan = self.bind_from(&s.from)?;
        let input_cols: Vec<Column> = plan.columns().to_vec();

        if let Some(w) = &s.selection {
            let scope = Scope::plain(&input_cols).with_context("where clause");
            let predicate = self.bind_expr(w, &scope)?;
            plan = push_filter(plan, predicate);
        }

        let aggs = RefCell::new(Vec::<AggCall>::new());
        let wins = RefCell::new(Vec::<WindowCall>::new());
        let scope = Scope {
            aggregates: Some(&aggs),
            windows: Some(&wins),
            ..Scope::plain(&input_cols)
        };

        // Select list.
        let mut items: Vec<Item> = Vec::new();
        for item in &s.projection {
            match item {
                SelectItem::Wildcard(_) => {
                    if input_cols.is_empty() {
                        return Err(Error::other("No tables used"));
                    }
                    for (i, c) in input_cols.iter().enumerate().filter(|(_, c)| !c.hidden) {
                        items.push(Item {
                            expr: Expr::Column(i),
                            column: Column {
                                qualifier: None,
                                ..c.clone()
                            },
                        });
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    let q = match kind {
                        ast::SelectItemQualifiedWildcardKind::ObjectName(n) => {
                            object_parts(n).pop().unwrap_or_default()
                        }
                        ast::SelectItemQualifiedWildcardKind::Expr(e) => e.to_string(),
                    };
                    let before = items.len();
                    for (i, c) in input_cols.iter().enumerate() {
                        if c.qualifier
                            .as_deref()
                            .is_some_and(|x| x.eq_ignore_ascii_case(&q))
                        {
                            items.push(Item {
                                expr: Expr::Column(i),
                                column: Column {
                                    qualifier: None,
                                    hidden: false,
                                    ..c.clone()
                                },
                            });
                        }
                    }
                    if items.len() == before {
                        return Err(
                            Error::UnknownTableIn(q, "field list".into()).into_unknown_table()
                        );
                    }
                }
                SelectItem::UnnamedExpr(e) => {
                    let expr = self.bind_expr(e, &scope)?;
                    let column = self.item_column(&expr, expr_label(e), &scope);
                    items.push(Item { expr, column });
                }
                SelectItem::ExprWithAlias { expr: e, alias } => {
                    let expr = self.bind_expr(e, &scope)?;
                    let column = self.item_column(&expr, alias.value.clone(), &scope);
                    items.push(Item { expr, column });
                }
                SelectItem::ExprWithAliases { .. } => {
                    return Err(Error::NotSupported("multiple aliases".into()))
                }
            }
        }
        let aliases: Vec<(String, Expr)> = items
            .iter()
            .map(|i| (i.column.name.clone(), i.expr.clone()))
            .collect();

        // GROUP BY: columns first, then select aliases, then positions.
        let mut group_by = Vec::new();
        if let ast::GroupByExpr::Expressions(exprs, _) = &s.group_by {
            let gscope = Scope::plain(&input_cols).with_context("group statement");
            for g in exprs {
                let bound = match g {
                    ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                        let k = limit_value(g)? as usize;
                        items
                            .get(k.wrapping_sub(1))
                            .map(|i| i.expr.clone())
                            .ok_or_else(|| Error::UnknownColumn {
                                column: k.to_string(),
                                context: "group statement".into(),
                            })?
                    }
                    ast::Expr::Identifier(id) => match self.bind_expr(g, &gscope) {
                        Ok(e) => e,
                        Err(err @ Error::UnknownColumn { .. }) => aliases
                            .iter()
                            .find(|(a, _)| a.eq_ignore_ascii_case(&id.value))
                            .map(|(_, e)| e.clone())
                            .ok_or(err)?,
                        Err(e) => return Err(e),
                    },
                    other => self.bind_expr(other, &gscope)?,
                };
                group_by.push(bound);
            }
        } else {
            return Err(Error::NotSupported("GROUP BY ALL".into()));
        }

        // HAVING and ORDER BY see select aliases first.
        let alias_scope = Scope {
            aliases: aliases.clone(),
            ..scope.clone_shallow()
        };
        let having = match &s.having {
            Some(h) => Some(self.bind_expr(
                h,
                &alias_scope.clone_shallow().with_context("having clause"),
            )?),
            None => None,
        };
        let mut order_keys = Vec::new();
        for o in order {
            let expr = match &o.expr {
                ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                    let k = limit_value(&o.expr)? as usize;
                    items
                        .get(k.wrapping_sub(1))
                        .map(|i| i.expr.clone())
                        .ok_or_else(|| Error::UnknownColumn {
                            column: k.to_string(),
                            context: "order clause".into(),
                        })?
                }
                e => {
                    self.bind_expr(e, &alias_scope.clone_shallow().with_context("order clause"))?
                }
            };
            let collation = self.collation_of(&expr, &scope);
            order_keys.push(SortKey {
                expr,
                desc: matches!(o.options.sort, Some(ast::OrderBySort::Desc)),
                collation,
            });
        }

        // Aggregation.
        let mut aggs = aggs.into_inner();
        let mut wins = wins.into_inner();
        let mut select_exprs: Vec<Expr> = items.iter().map(|i| i.expr.clone()).collect();
        let mut having = having;
        if !aggs.is_empty() || !group_by.is_empty() {
            let n_collected = aggs.len();
            let _ = n_collected;
            for e in select_exprs.iter_mut() {
                *e = over_aggregate(e, &group_by, &mut aggs);
            }
            if let Some(h) = having.as_mut() {
                *h = over_aggregate(h, &group_by, &mut aggs);
            }
            for k in order_keys.iter_mut() {
                k.expr = over_aggregate(&k.expr, &group_by, &mut aggs);
            }
            for w in wins.iter_mut() {
                w.args = w
                    .args
                    .iter()
                    .map(|a| over_aggregate(a, &group_by, &mut aggs))
                    .collect();
                w.partition_by = w
                    .partition_by
                    .iter()
                    .map(|a| over_aggregate(a, &group_by, &mut aggs))
                    .collect();
                for k in w.order_by.iter_mut() {
                    k.expr = over_aggregate(&k.expr, &group_by, &mut aggs);
                }
            }
            // ANY_VALUE placeholders take their argument's type.
            for a in aggs.iter_mut() {
                if a.func == crate::plan::AggFunc::AnyValue
                    && a.data_type == tiembed_types::DataType::Null
                {
                    if let Some(Expr::Column(i)) = &a.arg {
                        a.data_type = input_cols
                            .get(*i)
                            .map(|c| c.data_type.clone())
                            .unwrap_or(tiembed_types::DataType::Null);
                    }
                }
            }
            let mut columns: Vec<Column> = group_by
                .iter()
                .enumerate()
                .map(|(i, g)| match g {
                    Expr::Column(c) => input_cols.get(*c).cloned().unwrap_or_else(|| {
                        Column::computed(format!("group_{i}"), tiembed_types::DataType::Null)
                    }),
                    other => Column::computed(
                        format!("group_{i}"),
                        self.expr_type(other, &Scope::plain(&input_cols)),
                    ),
                })
                .collect();
            for (i, a) in aggs.iter().enumerate() {
                let mut c = Column::computed(format!("agg_{i}"), a.data_type.clone());
                if let (
                    crate::plan::AggFunc::AnyValue
                    | crate::plan::AggFunc::Min
                    | crate::plan::AggFunc::Max,
                    Some(Expr::Column(ci)),
                ) = (a.func, &a.arg)
                {
                    if let Some(src) = input_cols.get(*ci) {
                        c = Column {
                            name: c.name,
                            ..src.clone()
                        };
                    }
                }
                columns.push(c);
            }
            plan = Plan::Aggregate {
                input: Box::new(plan),
                group_by: group_by.clone(),
                aggs,
                columns,
            };
        } else if having.is_some() {
            // HAVING without aggregation filters the projected rows (MySQL extension).
        }

        // Window functions.
        if !wins.is_empty() {
            let width = plan.columns().len();
            let mut columns = plan.columns().to_vec();
            for (i, w) in wins.iter().enumerate() {
                columns.push(Column::computed(format!("window_{i}"), w.data_type.clone()));
            }
            for e in select_exprs.iter_mut() {
                *e = over_window(e, width);
            }
            if let Some(h) = having.as_mut() {
                *h = over_window(h, width);
            }
            for k in order_keys.iter_mut() {
                k.expr = over_window(&k.expr, width);
            }
            plan = Plan::Window {
                input: Box::new(plan),
                calls: wins,
                columns,
            };
        }

        // Projection, with hidden columns for HAVING / ORDER BY.
        let visible = select_exprs.len();
        let mut projected = select_exprs;
        let having = having.map(|h| through_projection(&h, &mut projected));
        for k in order_keys.iter_mut() {
            k.expr = through_projection(&k.expr, &mut projected);
        }
        let mut columns: Vec<Column> = items.into_iter().map(|i| i.column).collect();
        let pre_cols = plan.columns().to_vec();
        // Computed items' types are known only now that aggregates and
        // window functions have slots of their own.
        for (c, e) in columns.iter_mut().zip(&projected[..visible]) {
            if c.org_name.is_empty() {
                c.data_type = match e {
                    Expr::Column(i) => pre_cols
                        .get(*i)
                        .map(|p| p.data_type.clone())
                        .unwrap_or(tiembed_types::DataType::Null),
                    other => self.expr_type(other, &Scope::plain(&pre_cols)),
                };
            }
        }
        for e in &projected[visible..] {
            let mut c = match e {
                Expr::Column(i) => pre_cols
                    .get(*i)
                    .cloned()
                    .unwrap_or_else(|| Column::computed("", tiembed_types::DataType::Null)),
                other => Column::computed("", self.expr_type(other, &Scope::plain(&pre_cols))),
            };
            c.hidden = true;
            columns.push(c);
        }
        plan = Plan::Project {
            input: Box::new(plan),
            exprs: projected,
            columns: columns.clone(),
        };
        if let Some(h) = having {
            plan = Plan::Filter {
                input: Box::new(plan),
                predicate: h,
            };
        }
        if matches!(s.distinct, Some(ast::Distinct::Distinct)) {
            plan = Plan::Distinct {
                input: Box::new(plan),
                width: visible,
            };
        }
        if !order_keys.is_empty() {
            plan = Plan::Sort {
                input: Box::new(plan),
                keys: order_keys,
            };
        }
        plan = wrap_limit(plan, limit, offset);
        if columns.len() > visible {
            let exprs = (0..visible).map(Expr::Column).collect();
            columns.truncate(visible);
            plan = Plan::Project {
                input: Box::new(plan),
                exprs,
                columns,
            };
        }
        Ok(plan)
    }

    /// Output metadata of a select item: a column reference keeps its base
    /// column's metadata (and EMBED_TEXT provenance) under the new label.
    fn item_column(&self, expr: &Expr, label: String, scope: &Scope) -> Column {
        match expr {
            Expr::Column(i) if *i < scope.columns.len() => Column {
                name: label,
                qualifier: None,
                hidden: false,
                ..scope.columns[*i].clone()
            },
            other => {
                let mut c = Column::computed(label, self.expr_type(other, scope));
                // Clients size columns by nullability (the mariadb CLI pads
                // nullable ones to fit `NULL`): constants are NOT NULL.
                c.nullable = !matches!(other, Expr::Literal(v) if !v.is_null());
                c
            }
        }
    }
}

trait IntoUnknownTable {
    fn into_unknown_table(self) -> Error;
}

impl IntoUnknownTable for Error {
    /// `SELECT x.* ...` with no table x: MySQL's 1051-style "Unknown table 'x'".
    fn into_unknown_table(self) -> Error {
        match self {
            Error::UnknownTableIn(t, _) => Error::BadTable(t),
            e => e,
        }
    }
}

/// A scan of `table` whose columns are qualified by `qualifier`.
pub fn scan_plan(table: Arc<tiembed_types::TableDef>, qualifier: &str, with_key: bool) -> Plan {
    let pk: Vec<String> = table
        .primary_key()
        .map(|p| p.columns.clone())
        .unwrap_or_default();
    let columns = table
        .columns
        .iter()
        .map(|c| Column {
            name: c.name.clone(),
            qualifier: Some(qualifier.to_string()),
            org_name: c.name.clone(),
            org_table: table.name.clone(),
            db: table.db.clone(),
            data_type: c.data_type.clone(),
            nullable: c.nullable,
            collation: c.collation,
            generated: c.generated.clone(),
            primary_key: pk.iter().any(|p| p.eq_ignore_ascii_case(&c.name)),
            auto_increment: c.auto_increment,
            hidden: false,
        })
        .collect();
    Plan::Scan {
        table,
        access: Access::Full,
        columns,
        with_key,
    }
}

/// Which sides of a join (columns below / from `nleft`) `e` reads, or
/// `None` when it must stay where it is: subqueries and outer references
/// see the joined row, volatile functions must run once per joined row.
fn sides_used(e: &Expr, nleft: usize) -> Option<(bool, bool)> {
    let (mut left, mut right, mut pinned) = (false, false, false);
    super::rewrite::visit(e, &mut |x| match x {
        Expr::Column(i) if *i < nleft => left = true,
        Expr::Column(_) => right = true,
        Expr::Subquery { .. } | Expr::OuterColumn { .. } => pinned = true,
        Expr::Call { func, .. } if func.is_volatile() => pinned = true,
        _ => {}
    });
    (!pinned).then_some((left, right))
}

/// `e` over a join's right input instead of the joined row.
fn shift_columns(e: &Expr, nleft: usize) -> Expr {
    super::rewrite::transform(e, &mut |x| match x {
        Expr::Column(i) => Some(Expr::Column(i - nleft)),
        _ => None,
    })
}

/// Adds a filter, choosing a key lookup when it sits directly on a table
/// scan and moving the conditions on one side of a join below it.
pub(crate) fn push_filter(plan: Plan, predicate: Expr) -> Plan {
    match plan {
        Plan::Scan {
            table,
            access: Access::Full,
            columns,
            with_key,
        } => {
            let access = choose_access(&table, &predicate);
            Plan::Filter {
                input: Box::new(Plan::Scan {
                    table,
                    access,
                    columns,
                    with_key,
                }),
                predicate,
            }
        }
        Plan::Join {
            left,
            right,
            kind,
            on,
            columns,
        } => {
            // Conditions on one side filter that side before the join (and
            // may pick its key lookups); on both sides of an inner or comma
            // join they join its ON condition, for the hash join. Below a
            // LEFT JOIN's right side nothing moves: its NULL rows must stay.
            let nleft = left.columns().len();
            let (mut to_left, mut to_right, mut join_conds, mut rest) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for c in conjuncts(&predicate) {
                match sides_used(c, nleft) {
                    Some((true, false)) => to_left.push(c.clone()),
                    Some((false, true)) if kind != JoinKind::Left => {
                        to_right.push(shift_columns(c, nleft))
                    }
                    Some((true, true)) if kind != JoinKind::Left => join_conds.push(c.clone()),
                    _ => rest.push(c.clone()),
                }
            }
            let push = |plan: Box<Plan>, conds: Vec<Expr>| match conjoin(conds) {
                Some(p) => Box::new(push_filter(*plan, p)),
                None => plan,
            };
            let (left, right) = (push(left, to_left), push(right, to_right));
            let on = conjoin(on.into_iter().chain(join_conds));
            let kind = match kind {
                JoinKind::Cross if on.is_some() => JoinKind::Inner,
                kind => kind,
            };
            let join = Plan::Join {
                left,
                right,
                kind,
                on,
                columns,
            };
            match conjoin(rest) {
                Some(p) => Plan::Filter {
                    input: Box::new(join),
                    predicate: p,
                },
                None => join,
            }
        }
        Plan::Rename { input, columns } => Plan::Rename {
            input: Box::new(push_filter(*input, predicate)),
            columns,
        },
        other => Plan::Filter {
            input: Box::new(other),
            predicate,
        },
    }
}

#[allow(dead_code)]
fn literal_int(v: i64) -> Expr {
    Expr::Literal(Value::Int(v))
}

/// The type of a UNION column whose branches disagree.
fn union_type(a: &tiembed_types::DataType, b: &tiembed_types::DataType) -> tiembed_types::DataType {
    use tiembed_types::DataType as T;
    match (a, b) {
        (T::Null, x) | (x, T::Null) => x.clone(),
        (x, y) if x.is_integer() && y.is_integer() => T::Int {
            width: tiembed_types::IntWidth::Big,
            unsigned: false,
        },
        (x, y) if x.is_numeric() && y.is_numeric() => T::Double,
        _ => T::Text(tiembed_types::TextKind::Long),
    }
}

/// An unquoted reserved word used as a table name (`SELECT * FROM WHERE`):
/// sqlparser accepts it, MySQL reports a syntax error.
fn reserved_table_name(name: &ast::ObjectName) -> Option<String> {
    const RESERVED: &[&str] = &[
        "WHERE", "SELECT", "FROM", "GROUP", "ORDER", "HAVING", "LIMIT", "UNION", "JOIN", "ON",
        "SET", "VALUES", "INTO", "AND", "OR", "NOT", "BY", "AS", "INNER", "LEFT", "RIGHT", "CROSS",
        "WINDOW", "WITH",
    ];
    match name.0.as_slice() {
        [ast::ObjectNamePart::Identifier(i)]
            if i.quote_style.is_none()
                && RESERVED.iter().any(|r| i.value.eq_ignore_ascii_case(r)) =>
        {
            Some(i.value.clone())
        }
        _ => None,
    }
}
