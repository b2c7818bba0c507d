//! Expression rewrites used while planning a SELECT: mapping expressions
//! onto the output of an aggregate or projection, finding constants, and
//! choosing an access path from a WHERE clause.

use super::expr::{AGG_BASE, WIN_BASE};
use crate::expr::{CmpOp, Expr, SubqueryKind};
use crate::plan::{Access, AggCall, AggFunc, RangeBound};
use tiembed_types::{IndexKind, TableDef};

/// Rebuilds `e`, replacing every node for which `f` returns `Some`
/// (without descending into the replacement).
pub fn transform(e: &Expr, f: &mut dyn FnMut(&Expr) -> Option<Expr>) -> Expr {
    if let Some(r) = f(e) {
        return r;
    }
    match e {
        Expr::Literal(_)
        | Expr::Column(_)
        | Expr::OuterColumn { .. }
        | Expr::Param(_)
        | Expr::UserVar(_)
        | Expr::SysVar { .. } => e.clone(),
        Expr::Unary { op, expr } => Expr::Unary {
            op: *op,
            expr: Box::new(transform(expr, f)),
        },
        Expr::Binary { op, left, right } => Expr::Binary {
            op: *op,
            left: Box::new(transform(left, f)),
            right: Box::new(transform(right, f)),
        },
        Expr::Compare {
            op,
            left,
            right,
            collation,
        } => Expr::Compare {
            op: *op,
            left: Box::new(transform(left, f)),
            right: Box::new(transform(right, f)),
            collation: *collation,
        },
        Expr::IsNull { expr, negated } => Expr::IsNull {
            expr: Box::new(transform(expr, f)),
            negated: *negated,
        },
        Expr::IsBool {
            expr,
            value,
            negated,
        } => Expr::IsBool {
            expr: Box::new(transform(expr, f)),
            value: *value,
            negated: *negated,
        },
        Expr::Between {
            expr,
            low,
            high,
            negated,
            collation,
        } => Expr::Between {
            expr: Box::new(transform(expr, f)),
            low: Box::new(transform(low, f)),
            high: Box::new(transform(high, f)),
            negated: *negated,
            collation: *collation,
        },
        Expr::InList {
            expr,
            list,
            negated,
            collation,
        } => Expr::InList {
            expr: Box::new(transform(expr, f)),
            list: list.iter().map(|x| transform(x, f)).collect(),
            negated: *negated,
            collation: *collation,
        },
        Expr::Like {
            expr,
            pattern,
            escape,
            negated,
            collation,
        } => Expr::Like {
            expr: Box::new(transform(expr, f)),
            pattern: Box::new(transform(pattern, f)),
            escape: *escape,
            negated: *negated,
            collation: *collation,
        },
        Expr::Case {
            operand,
            whens,
            else_,
            collation,
        } => Expr::Case {
            operand: operand.as_ref().map(|o| Box::new(transform(o, f))),
            whens: whens
                .iter()
                .map(|(a, b)| (transform(a, f), transform(b, f)))
                .collect(),
            else_: else_.as_ref().map(|x| Box::new(transform(x, f))),
            collation: *collation,
        },
        Expr::Cast { expr, to } => Expr::Cast {
            expr: Box::new(transform(expr, f)),
            to: to.clone(),
        },
        Expr::Call { func, args } => Expr::Call {
            func: *func,
            args: args.iter().map(|x| transform(x, f)).collect(),
        },
        Expr::Subquery { id, kind } => Expr::Subquery {
            id: *id,
            kind: match kind {
                SubqueryKind::In {
                    expr,
                    negated,
                    collation,
                } => SubqueryKind::In {
                    expr: Box::new(transform(expr, f)),
                    negated: *negated,
                    collation: *collation,
                },
                other => other.clone(),
            },
        },
    }
}

/// Visits every node of `e`.
pub fn visit(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    transform(e, &mut |x| {
        f(x);
        None
    });
}

/// Whether `e` depends on no row and may be evaluated once.
pub fn is_constant(e: &Expr) -> bool {
    let mut constant = true;
    visit(e, &mut |x| match x {
        Expr::Column(_) | Expr::OuterColumn { .. } | Expr::Subquery { .. } => constant = false,
        Expr::Call { func, .. } if func.is_volatile() && *func != crate::Func::EmbedText => {
            constant = false
        }
        _ => {}
    });
    constant
}

/// Maps an expression bound over a query's input onto the output of its
/// Aggregate node: group keys and aggregate placeholders become slots, any
/// other column reference becomes an ANY_VALUE aggregate.
pub(crate) fn over_aggregate(e: &Expr, group_by: &[Expr], aggs: &mut Vec<AggCall>) -> Expr {
    let ngroups = group_by.len();
    transform(e, &mut |x| {
        if let Some(j) = group_by.iter().position(|g| g == x) {
            return Some(Expr::Column(j));
        }
        match x {
            Expr::Column(i) if *i >= AGG_BASE && *i < WIN_BASE => {
                Some(Expr::Column(ngroups + (i - AGG_BASE)))
            }
            Expr::Column(i) if *i >= WIN_BASE => Some(x.clone()),
            Expr::Column(_) => {
                let call = AggCall {
                    func: AggFunc::AnyValue,
                    arg: Some(x.clone()),
                    distinct: false,
                    separator: String::new(),
                    data_type: tiembed_types::DataType::Null,
                };
                let idx = aggs.iter().position(|a| *a == call).unwrap_or_else(|| {
                    aggs.push(call);
                    aggs.len() - 1
                });
                Some(Expr::Column(ngroups + idx))
            }
            _ => None,
        }
    })
}

/// Replaces window placeholders by their slots after a Window node whose
/// input has `width` columns.
pub(crate) fn over_window(e: &Expr, width: usize) -> Expr {
    transform(e, &mut |x| match x {
        Expr::Column(i) if *i >= WIN_BASE => Some(Expr::Column(width + (i - WIN_BASE))),
        _ => None,
    })
}

/// Maps `e` (over a projection's input) onto the projection's output:
/// subtrees equal to a projected expression become that slot; column
/// references and subqueries not projected are appended to `projected` as
/// hidden columns.
pub(crate) fn through_projection(e: &Expr, projected: &mut Vec<Expr>) -> Expr {
    transform(e, &mut |x| {
        if let Some(k) = projected.iter().position(|p| p == x) {
            return Some(Expr::Column(k));
        }
        match x {
            Expr::Column(_) | Expr::Subquery { .. } => {
                projected.push(x.clone());
                Some(Expr::Column(projected.len() - 1))
            }
            _ => None,
        }
    })
}

/// `a AND b AND …` of `conds`; `None` when there are none.
pub fn conjoin(conds: impl IntoIterator<Item = Expr>) -> Option<Expr> {
    conds.into_iter().reduce(|a, b| Expr::Binary {
        op: crate::BinaryOp::And,
        left: Box::new(a),
        right: Box::new(b),
    })
}

/// The conjuncts of an AND tree.
pub fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Binary {
            op: crate::BinaryOp::And,
            left,
            right,
        } => {
            let mut v = conjuncts(left);
            v.extend(conjuncts(right));
            v
        }
        other => vec![other],
    }
}

/// `col = const` (either side) on slot `col`: the constant.
fn equality_on(e: &Expr, col: usize) -> Option<&Expr> {
    if let Expr::Compare {
        op: CmpOp::Eq | CmpOp::NullSafeEq,
        left,
        right,
        ..
    } = e
    {
        match (left.as_ref(), right.as_ref()) {
            (Expr::Column(c), k) | (k, Expr::Column(c)) if *c == col && is_constant(k) => {
                return Some(k)
            }
            _ => {}
        }
    }
    None
}

/// `pk > c`, `pk <= c`, `pk BETWEEN a AND b`… on the first column of an
/// integer primary key, else of an integer-led index.
fn key_range(table: &TableDef, parts: &[&Expr]) -> Option<Access> {
    if let Some((low, high)) = table
        .primary_key()
        .and_then(|pk| range_on(table, pk.columns.first()?, parts))
    {
        return Some(Access::PrimaryKeyRange { low, high });
    }
    table
        .indexes
        .iter()
        .filter(|idx| matches!(idx.kind, IndexKind::Plain | IndexKind::Unique))
        .find_map(|idx| {
            let (low, high) = range_on(table, idx.columns.first()?, parts)?;
            Some(Access::IndexRange {
                index: idx.name.clone(),
                low,
                high,
            })
        })
}

/// The first lower and upper bounds the conjuncts put on integer column
/// `name`. (Integers are stored in numeric order; other types' key order
/// need not be their collation's.)
fn range_on(
    table: &TableDef,
    name: &str,
    parts: &[&Expr],
) -> Option<(Option<RangeBound>, Option<RangeBound>)> {
    let col = table.column_index(name)?;
    if !matches!(
        table.columns[col].data_type,
        tiembed_types::DataType::Int { .. }
    ) {
        return None;
    }
    let (mut low, mut high) = (None, None);
    let bound = |value: &Expr, inclusive| {
        Some(RangeBound {
            value: value.clone(),
            inclusive,
        })
    };
    for p in parts {
        match p {
            Expr::Compare {
                op, left, right, ..
            } => {
                // Normalise to `pk <op> constant`.
                let op = match (left.as_ref(), right.as_ref()) {
                    (Expr::Column(c), k) if *c == col && is_constant(k) => Some((*op, k)),
                    (k, Expr::Column(c)) if *c == col && is_constant(k) => Some((op.flipped(), k)),
                    _ => None,
                };
                match op {
                    Some((CmpOp::Gt, k)) if low.is_none() => low = bound(k, false),
                    Some((CmpOp::GtEq, k)) if low.is_none() => low = bound(k, true),
                    Some((CmpOp::Lt, k)) if high.is_none() => high = bound(k, false),
                    Some((CmpOp::LtEq, k)) if high.is_none() => high = bound(k, true),
                    _ => {}
                }
            }
            Expr::Between {
                expr,
                low: a,
                high: b,
                negated: false,
                ..
            } if matches!(expr.as_ref(), Expr::Column(c) if *c == col)
                && is_constant(a)
                && is_constant(b)
                && low.is_none()
                && high.is_none() =>
            {
                (low, high) = (bound(a, true), bound(b, true));
            }
            _ => {}
        }
    }
    (low.is_some() || high.is_some()).then_some((low, high))
}

/// Picks primary-key or index lookups that the filter `predicate` allows
/// on `table` (whose columns occupy slots 0..n of the scan).
pub(crate) fn choose_access(table: &TableDef, predicate: &Expr) -> Access {
    let parts = conjuncts(predicate);
    let slot = |name: &str| table.column_index(name);
    let eq_for = |col: usize| parts.iter().find_map(|p| equality_on(p, col)).cloned();

    if let Some(pk) = table.primary_key() {
        let slots: Option<Vec<usize>> = pk.columns.iter().map(|c| slot(c)).collect();
        if let Some(slots) = slots {
            let values: Option<Vec<Expr>> = slots.iter().map(|&s| eq_for(s)).collect();
            if let Some(values) = values {
                return Access::PrimaryKey(vec![values]);
            }
            if let [s] = slots.as_slice() {
                for p in &parts {
                    if let Expr::InList {
                        expr,
                        list,
                        negated: false,
                        ..
                    } = p
                    {
                        if matches!(expr.as_ref(), Expr::Column(c) if c == s)
                            && list.iter().all(is_constant)
                        {
                            return Access::PrimaryKey(
                                list.iter().map(|v| vec![v.clone()]).collect(),
                            );
                        }
                    }
                }
            }
        }
    }
    let mut best: Option<(String, Vec<Expr>, bool)> = None;
    for idx in &table.indexes {
        if !matches!(idx.kind, IndexKind::Plain | IndexKind::Unique) {
            continue;
        }
        let mut values = Vec::new();
        for c in &idx.columns {
            match slot(c).and_then(eq_for) {
                Some(v) => values.push(v),
                None => break,
            }
        }
        let full_unique = idx.kind == IndexKind::Unique && values.len() == idx.columns.len();
        let better = match &best {
            None => !values.is_empty(),
            Some((_, bv, bu)) => {
                (full_unique && !bu) || (full_unique == *bu && values.len() > bv.len())
            }
        };
        if better {
            best = Some((idx.name.clone(), values, full_unique));
        }
    }
    // Without statistics an index equality is the better bet than a key
    // range (`id > 0` may well be every row).
    match best {
        Some((index, values, _)) => Access::Index { index, values },
        None => key_range(table, &parts).unwrap_or(Access::Full),
    }
}
