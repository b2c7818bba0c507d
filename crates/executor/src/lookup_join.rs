//! Lookup joins: `a JOIN b ON b.key = <expression over a>` where `key` is
//! b's primary key or the first column of one of its indexes. Each row of
//! the (small) left side fetches its matches through the key instead of
//! b being read whole for a hash join: `SELECT … FROM orders o JOIN users u
//! ON u.id = o.user_id WHERE o.id = 7` reads two rows, not the users table.
//!
//! The choice is made at run time, once the left side's rows are known:
//! past [`MAX_LEFT_ROWS`] of them, or when a key value cannot be looked up
//! exactly (a string compared numerically with an integer key, say), the
//! ordinary hash join runs. Output equals the hash join's, order included:
//! left rows in order, each one's matches in key order.

use crate::exec::{key_value, pad_row, Exec, KeyValue, Row};
use tiembed_sql::bind::conjuncts;
use tiembed_sql::plan::{Access, JoinKind, Plan};
use tiembed_sql::{CmpOp, Expr};
use tiembed_storage::table as tbl;
use tiembed_types::{IndexDef, IndexKind, Result, TableDef, Value};

/// Above this many left rows one pass over the right table is cheaper.
const MAX_LEFT_ROWS: usize = 1024;

/// The right side when it is a table read whole (maybe filtered): the
/// table, its filter, and how its key is reached.
struct LookupSide<'p> {
    table: &'p TableDef,
    filter: Option<&'p Expr>,
    key: KeyPath,
    /// The left-side expression the key must equal.
    left_key: &'p Expr,
}

enum KeyPath {
    PrimaryKey,
    Index(IndexDef),
}

impl Exec<'_, '_> {
    /// The join's rows through key lookups, or `None` when the plan shape
    /// or the left rows call for the hash join.
    pub(crate) fn lookup_join(
        &self,
        left: &[Row],
        right: &Plan,
        kind: JoinKind,
        on: Option<&Expr>,
        nleft: usize,
        nright: usize,
    ) -> Result<Option<Vec<Row>>> {
        if left.len() > MAX_LEFT_ROWS || !matches!(kind, JoinKind::Inner | JoinKind::Left) {
            return Ok(None);
        }
        let Some(on) = on else { return Ok(None) };
        let Some(side) = lookup_side(right, on, nleft) else {
            return Ok(None);
        };
        let column = match &side.key {
            KeyPath::PrimaryKey => side.table.primary_key().map(|pk| &pk.columns[0]),
            KeyPath::Index(idx) => idx.columns.first(),
        }
        .and_then(|name| side.table.column(name));
        let Some(column) = column else {
            return Ok(None);
        };
        // Every key first: one that needs a scan sends the whole join to
        // the hash join before any row is fetched.
        let mut keys = Vec::with_capacity(left.len());
        for l in left {
            keys.push(
                match key_value(&self.eval(side.left_key, l)?, &column.data_type) {
                    KeyValue::Exact(v) => Some(v),
                    KeyValue::NoMatch => None,
                    KeyValue::NeedScan => return Ok(None),
                },
            );
        }
        let mut out = Vec::new();
        for (l, key) in left.iter().zip(keys) {
            let mut matched = false;
            for r in self.fetch(&side, key)? {
                let mut row = l.clone();
                row.extend(r);
                if self.predicate(on, &row)? {
                    matched = true;
                    out.push(row);
                }
            }
            if !matched && kind == JoinKind::Left {
                let mut row = l.clone();
                row.extend(std::iter::repeat_n(Value::Null, nright));
                out.push(row);
            }
        }
        Ok(Some(out))
    }

    /// The right rows whose key equals `key` and that pass the right
    /// side's filter, in key order.
    fn fetch(&self, side: &LookupSide, key: Option<Value>) -> Result<Vec<Row>> {
        let Some(key) = key else {
            return Ok(Vec::new());
        };
        let txn = self.st.txn.borrow();
        let rows: Vec<Row> = match &side.key {
            KeyPath::PrimaryKey => tbl::get_by_primary_key(&txn, side.table, &[key])?
                .map(|(_, r)| pad_row(side.table, r))
                .into_iter()
                .collect(),
            KeyPath::Index(idx) => tbl::index_lookup(&txn, side.table, idx, &[key], false)?
                .map(|item| item.map(|(_, r)| pad_row(side.table, r)))
                .collect::<std::result::Result<_, _>>()?,
        };
        drop(txn);
        let mut kept = Vec::with_capacity(rows.len());
        for r in rows {
            if side.filter.map_or(Ok(true), |f| self.predicate(f, &r))? {
                kept.push(r);
            }
        }
        Ok(kept)
    }
}

/// `right` as a lookup side: a whole-table scan (under an optional filter
/// and renames) whose primary key (one column) or an index's first column
/// the ON condition equates with an expression over the left side only.
fn lookup_side<'p>(right: &'p Plan, on: &'p Expr, nleft: usize) -> Option<LookupSide<'p>> {
    let (scan, filter) = match right {
        Plan::Rename { input, .. } => return lookup_side(input, on, nleft),
        Plan::Filter { input, predicate } => (input.as_ref(), Some(predicate)),
        other => (other, None),
    };
    let Plan::Scan {
        table,
        access: Access::Full,
        with_key: false,
        ..
    } = scan
    else {
        return None;
    };
    let only_left = |e: &Expr| {
        let mut ok = true;
        tiembed_sql::bind::visit(e, &mut |x| match x {
            Expr::Column(i) if *i >= nleft => ok = false,
            Expr::OuterColumn { .. } | Expr::Subquery { .. } => ok = false,
            _ => {}
        });
        ok
    };
    let slot_name = |i: usize| table.columns.get(i.checked_sub(nleft)?).map(|c| &c.name);
    // (right column, left expression) for each `right.col = left expr`.
    let equalities = conjuncts(on).into_iter().filter_map(|c| match c {
        Expr::Compare {
            op: CmpOp::Eq,
            left: a,
            right: b,
            ..
        } => match (a.as_ref(), b.as_ref()) {
            (Expr::Column(i), e) | (e, Expr::Column(i)) if only_left(e) => {
                Some((slot_name(*i)?, e))
            }
            _ => None,
        },
        _ => None,
    });
    let mut best: Option<LookupSide> = None;
    for (name, left_key) in equalities {
        let key = match table.primary_key() {
            Some(pk) if pk.columns.len() == 1 && pk.columns[0].eq_ignore_ascii_case(name) => {
                KeyPath::PrimaryKey
            }
            _ => match table.indexes.iter().find(|idx| {
                matches!(idx.kind, IndexKind::Plain | IndexKind::Unique)
                    && idx
                        .columns
                        .first()
                        .is_some_and(|c| c.eq_ignore_ascii_case(name))
            }) {
                Some(idx) => KeyPath::Index(idx.clone()),
                None => continue,
            },
        };
        let is_pk = matches!(key, KeyPath::PrimaryKey);
        if best.is_none() || is_pk {
            best = Some(LookupSide {
                table,
                filter,
                key,
                left_key,
            });
        }
        if is_pk {
            break;
        }
    }
    best
}
