//! Running plans: one statement's shared state ([`StmtState`]) and the
//! operators over materialised rows. Also the [`EvalContext`] expressions
//! see (parameters, variables, subqueries, embeddings).

use crate::eval::{self, compare_for_sort, eval, eval_predicate, group_key, EvalContext, GroupKey};
use crate::session::SessionInfo;
use crate::Engine;
use chrono::NaiveDateTime;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::rc::Rc;
use std::sync::Arc;
use tiembed_sql::bind::{conjoin, conjuncts, visit};
use tiembed_sql::plan::{
    Access, AggCall, AggFunc, JoinKind, Plan, RangeBound, SortKey, SubqueryPlan, WindowCall,
    WindowFunc,
};
use tiembed_sql::{CmpOp, Expr, Func, SubqueryKind, VarScope};
use tiembed_storage::{table as tbl, Transaction};
use tiembed_types::{Catalog, Collation, DataType, Error, Result, TableDef, Value};

pub type Row = Vec<Value>;

/// Everything a statement's expressions and operators share.
pub struct StmtState<'a> {
    pub engine: &'a Arc<Engine>,
    pub catalog: Arc<Catalog>,
    pub info: &'a SessionInfo,
    pub txn: RefCell<Transaction>,
    pub params: &'a [Value],
    pub subqueries: &'a [SubqueryPlan],
    pub now: NaiveDateTime,
    pub warnings: RefCell<Vec<(u16, String)>>,
    /// When the statement's embeddings must be ready (all its calls share it).
    pub embed_deadline: std::time::Instant,
    /// Results of uncorrelated subqueries, computed once.
    subquery_cache: RefCell<HashMap<usize, Rc<Vec<Row>>>>,
    /// `IN (subquery)` sets of uncorrelated subqueries.
    in_sets: RefCell<HashMap<usize, Rc<(HashSet<GroupKey>, bool)>>>,
}

impl<'a> StmtState<'a> {
    pub fn new(
        engine: &'a Arc<Engine>,
        catalog: Arc<Catalog>,
        info: &'a SessionInfo,
        txn: Transaction,
        params: &'a [Value],
        subqueries: &'a [SubqueryPlan],
    ) -> StmtState<'a> {
        StmtState {
            engine,
            catalog,
            info,
            txn: RefCell::new(txn),
            params,
            subqueries,
            now: chrono::Utc::now().naive_utc(),
            warnings: RefCell::new(Vec::new()),
            embed_deadline: std::time::Instant::now() + engine.registry.config().statement_deadline,
            subquery_cache: RefCell::new(HashMap::new()),
            in_sets: RefCell::new(HashMap::new()),
        }
    }

    pub fn into_txn(self) -> (Transaction, Vec<(u16, String)>) {
        (self.txn.into_inner(), self.warnings.into_inner())
    }
}

/// An evaluation scope: the statement plus the rows of enclosing queries.
pub struct Exec<'s, 'r> {
    pub st: &'s StmtState<'s>,
    pub outer: Vec<&'r [Value]>,
}

impl<'s, 'r> Exec<'s, 'r> {
    pub fn new(st: &'s StmtState<'s>) -> Exec<'s, 'r> {
        Exec {
            st,
            outer: Vec::new(),
        }
    }

    pub fn eval(&self, e: &Expr, row: &[Value]) -> Result<Value> {
        eval(e, row, self)
    }

    pub fn predicate(&self, e: &Expr, row: &[Value]) -> Result<bool> {
        eval_predicate(e, row, self)
    }

    /// Runs a plan to completion.
    pub fn run(&self, plan: &Plan) -> Result<Vec<Row>> {
        self.run_limited(plan, None)
    }

    /// Runs a plan; `want` is a hint that only the first `want` rows will be
    /// used (lets a scan under LIMIT stop early).
    fn run_limited(&self, plan: &Plan, want: Option<usize>) -> Result<Vec<Row>> {
        match plan {
            Plan::Dual => Ok(vec![Vec::new()]),
            Plan::Values { rows, .. } => rows
                .iter()
                .map(|r| r.iter().map(|e| self.eval(e, &[])).collect())
                .collect(),
            Plan::Scan {
                table,
                access,
                with_key,
                ..
            } => self.scan(table, access, *with_key, None, want),
            Plan::System { table, .. } => crate::show::system_rows(self, *table),
            Plan::Filter { input, predicate } => {
                if let Plan::Scan {
                    table,
                    access,
                    with_key,
                    ..
                } = input.as_ref()
                {
                    return self.scan(table, access, *with_key, Some(predicate), want);
                }
                let rows = self.run(input)?;
                let mut out = Vec::new();
                for r in rows {
                    if self.predicate(predicate, &r)? {
                        out.push(r);
                        if want.is_some_and(|w| out.len() >= w) {
                            break;
                        }
                    }
                }
                Ok(out)
            }
            Plan::Project { input, exprs, .. } => {
                let rows = self.run_limited(input, want)?;
                rows.iter()
                    .map(|r| exprs.iter().map(|e| self.eval(e, r)).collect())
                    .collect()
            }
            Plan::Rename { input, .. } => self.run_limited(input, want),
            Plan::Aggregate {
                input,
                group_by,
                aggs,
                ..
            } => {
                if let Some(count) = self.count_all_rows(input, group_by, aggs)? {
                    return Ok(vec![vec![Value::Int(count)]]);
                }
                let rows = self.run(input)?;
                self.aggregate(&rows, group_by, aggs)
            }
            Plan::Window { input, calls, .. } => {
                let rows = self.run(input)?;
                self.window(rows, calls)
            }
            Plan::Sort { input, keys } => {
                let rows = self.run(input)?;
                self.sort(rows, keys)
            }
            Plan::Limit {
                input,
                limit,
                offset,
            } => {
                let offset = *offset as usize;
                let keep = limit.map(|l| l as usize);
                let need = keep.map(|k| k.saturating_add(offset));
                let rows = match (input.as_ref(), need) {
                    (Plan::Sort { input: inner, keys }, Some(n)) => self.top_n(inner, keys, n)?,
                    (other, _) => self.run_limited(other, need)?,
                };
                Ok(rows
                    .into_iter()
                    .skip(offset)
                    .take(keep.unwrap_or(usize::MAX))
                    .collect())
            }
            Plan::Distinct { input, width } => {
                let rows = self.run(input)?;
                let mut seen = HashSet::new();
                Ok(rows
                    .into_iter()
                    .filter(|r| {
                        seen.insert(
                            r[..*width]
                                .iter()
                                .map(|v| group_key(v, Collation::default()))
                                .collect::<Vec<_>>(),
                        )
                    })
                    .collect())
            }
            Plan::Join {
                left,
                right,
                kind,
                on,
                columns,
            } => {
                let l = self.run(left)?;
                let nleft = left.columns().len();
                let nright = right.columns().len();
                if let Some(rows) =
                    self.lookup_join(&l, right, *kind, on.as_ref(), nleft, nright)?
                {
                    return Ok(rows);
                }
                let r = self.run(right)?;
                self.join(
                    l,
                    r,
                    *kind,
                    on.as_ref(),
                    left.columns().len(),
                    right.columns().len(),
                    columns.len(),
                )
            }
            Plan::Union { inputs, all, .. } => {
                let mut out = Vec::new();
                for p in inputs {
                    out.extend(self.run(p)?);
                }
                if !*all {
                    let mut seen = HashSet::new();
                    out.retain(|r| {
                        seen.insert(
                            r.iter()
                                .map(|v| group_key(v, Collation::default()))
                                .collect::<Vec<_>>(),
                        )
                    });
                }
                Ok(out)
            }
        }
    }

    // ---- scans -------------------------------------------------------------

    fn scan(
        &self,
        table: &TableDef,
        access: &Access,
        with_key: bool,
        filter: Option<&Expr>,
        want: Option<usize>,
    ) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        self.scan_each(table, access, &mut |key, mut row| {
            if let Some(f) = filter {
                if !self.predicate(f, &row)? {
                    return Ok(true);
                }
            }
            if with_key {
                row.push(Value::Bytes(key));
            }
            out.push(row);
            Ok(!want.is_some_and(|w| out.len() >= w))
        })?;
        Ok(out)
    }

    /// `SELECT COUNT(*) FROM t` with no WHERE: the table's row keys are
    /// counted without decoding a row. `None` for any other aggregate.
    fn count_all_rows(
        &self,
        input: &Plan,
        group_by: &[Expr],
        aggs: &[AggCall],
    ) -> Result<Option<i64>> {
        let count_star = matches!(
            aggs,
            [AggCall {
                func: AggFunc::Count,
                arg: None,
                ..
            }]
        );
        match input {
            Plan::Scan {
                table,
                access: Access::Full,
                ..
            } if count_star && group_by.is_empty() => {
                let txn = self.st.txn.borrow();
                Ok(Some(tbl::count_rows(&txn, table)? as i64))
            }
            _ => Ok(None),
        }
    }

    /// Feeds the rows an access path finds (padded to the table's columns,
    /// with their storage keys) to `f` until it returns `false`.
    pub(crate) fn scan_each(
        &self,
        table: &TableDef,
        access: &Access,
        f: &mut dyn FnMut(Vec<u8>, Row) -> Result<bool>,
    ) -> Result<()> {
        self.scan_each_ordered(table, access, false, f)
    }

    /// [`Self::scan_each`]; paths in key order ([`Access::in_key_order`])
    /// run descending when `reverse`.
    pub(crate) fn scan_each_ordered(
        &self,
        table: &TableDef,
        access: &Access,
        reverse: bool,
        f: &mut dyn FnMut(Vec<u8>, Row) -> Result<bool>,
    ) -> Result<()> {
        let txn = self.st.txn.borrow();
        let feed = |rows: tbl::RowIter, f: &mut dyn FnMut(Vec<u8>, Row) -> Result<bool>| {
            for item in rows {
                let (k, r) = item?;
                if !f(k, pad_row(table, r))? {
                    break;
                }
            }
            Ok(())
        };
        match self.resolve_access(table, access)? {
            Resolved::Full => feed(tbl::scan_rows(&txn, table, reverse)?, f),
            Resolved::Range(low, high) => {
                let pk = table
                    .primary_key()
                    .ok_or_else(|| Error::internal("primary key range without a key"))?;
                feed(
                    tbl::index_range(&txn, table, pk, low.as_ref(), high.as_ref(), reverse)?,
                    f,
                )
            }
            Resolved::Keys(keys) => {
                let mut seen = HashSet::new();
                for pk in keys {
                    if let Some((k, r)) = tbl::get_by_primary_key(&txn, table, &pk)? {
                        if seen.insert(k.clone()) && !f(k, pad_row(table, r))? {
                            break;
                        }
                    }
                }
                Ok(())
            }
            Resolved::Index(idx, values) => {
                feed(tbl::index_lookup(&txn, table, &idx, &values, false)?, f)
            }
            Resolved::IndexRange(idx, low, high) => feed(
                tbl::index_range(&txn, table, &idx, low.as_ref(), high.as_ref(), false)?,
                f,
            ),
            Resolved::Nothing => Ok(()),
        }
    }

    /// Turns an access path's constant expressions into key values of the
    /// right column types. A constant that cannot equal any stored value
    /// of the column (e.g. `int_pk = 1.5`) drops that key; one whose
    /// comparison MySQL would make numerically on a string column falls
    /// back to a full scan.
    fn resolve_access(&self, table: &TableDef, access: &Access) -> Result<Resolved> {
        match access {
            Access::Full => Ok(Resolved::Full),
            Access::PrimaryKey(tuples) => {
                let pk = table
                    .primary_key()
                    .ok_or_else(|| Error::internal("primary key access without a key"))?;
                let mut keys = Vec::new();
                for tuple in tuples {
                    let mut vals = Vec::new();
                    let mut possible = true;
                    for (e, col) in tuple.iter().zip(&pk.columns) {
                        let v = self.eval(e, &[])?;
                        let def = table
                            .column(col)
                            .ok_or_else(|| Error::internal("pk column"))?;
                        match key_value(&v, &def.data_type) {
                            KeyValue::Exact(v) => vals.push(v),
                            KeyValue::NoMatch => possible = false,
                            KeyValue::NeedScan => return Ok(Resolved::Full),
                        }
                    }
                    if possible {
                        keys.push(vals);
                    }
                }
                Ok(Resolved::Keys(keys))
            }
            Access::PrimaryKeyRange { low, high } => {
                let column = table
                    .primary_key()
                    .and_then(|pk| table.column(&pk.columns[0]))
                    .ok_or_else(|| Error::internal("primary key range without a key"))?;
                Ok(match self.key_bounds(&column.data_type, low, high)? {
                    Some((low, high)) => Resolved::Range(low, high),
                    None => Resolved::Full,
                })
            }
            Access::IndexRange { index, low, high } => {
                let idx = table
                    .index(index)
                    .cloned()
                    .ok_or_else(|| Error::internal("index vanished"))?;
                let column = table
                    .column(&idx.columns[0])
                    .ok_or_else(|| Error::internal("index column"))?;
                Ok(match self.key_bounds(&column.data_type, low, high)? {
                    Some((low, high)) => Resolved::IndexRange(idx, low, high),
                    None => Resolved::Full,
                })
            }
            Access::Index { index, values } => {
                let idx = table
                    .index(index)
                    .cloned()
                    .ok_or_else(|| Error::internal("index vanished"))?;
                let mut vals = Vec::new();
                for (e, col) in values.iter().zip(&idx.columns) {
                    let v = self.eval(e, &[])?;
                    let def = table
                        .column(col)
                        .ok_or_else(|| Error::internal("index column"))?;
                    match key_value(&v, &def.data_type) {
                        KeyValue::Exact(v) => vals.push(v),
                        KeyValue::NoMatch => return Ok(Resolved::Nothing),
                        KeyValue::NeedScan => return Ok(Resolved::Full),
                    }
                }
                Ok(Resolved::Index(idx, vals))
            }
        }
    }

    /// A key range's bounds as key values of a column of type `t`; `None`
    /// when a bound cannot be one exactly (between two keys, out of the
    /// type's range, a string): the filter then decides over every row.
    fn key_bounds(
        &self,
        t: &DataType,
        low: &Option<RangeBound>,
        high: &Option<RangeBound>,
    ) -> Result<Option<(Bound<Value>, Bound<Value>)>> {
        let bound = |b: &Option<RangeBound>| -> Result<Option<Bound<Value>>> {
            let Some(b) = b else {
                return Ok(Some(Bound::Unbounded));
            };
            Ok(match key_value(&self.eval(&b.value, &[])?, t) {
                KeyValue::Exact(v) if b.inclusive => Some(Bound::Included(v)),
                KeyValue::Exact(v) => Some(Bound::Excluded(v)),
                _ => None,
            })
        };
        Ok(bound(low)?.zip(bound(high)?))
    }

    // ---- sort / top-k ------------------------------------------------------

    fn compare_rows(&self, a: &SortRow, b: &SortRow, keys: &[SortKey]) -> Ordering {
        for (i, k) in keys.iter().enumerate() {
            let o = compare_for_sort(&a.keys[i], &b.keys[i], k.collation);
            let o = if k.desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.seq.cmp(&b.seq)
    }

    /// Sorts rows by `keys` (NULL first ascending; ties keep input order).
    pub(crate) fn sort(&self, rows: Vec<Row>, keys: &[SortKey]) -> Result<Vec<Row>> {
        let mut items = Vec::with_capacity(rows.len());
        for (seq, row) in rows.into_iter().enumerate() {
            items.push(self.sort_row(keys, seq, row)?);
        }
        Ok(self.best(items, keys, usize::MAX))
    }

    pub(crate) fn sort_row(&self, keys: &[SortKey], seq: usize, row: Row) -> Result<SortRow> {
        let k = keys
            .iter()
            .map(|k| self.eval(&k.expr, &row))
            .collect::<Result<Vec<_>>>()?;
        Ok(SortRow { keys: k, seq, row })
    }

    /// The first `n` items in sort order, sorted: a selection, then a sort
    /// of the selected only.
    pub(crate) fn best(&self, mut items: Vec<SortRow>, keys: &[SortKey], n: usize) -> Vec<Row> {
        self.keep_best(&mut items, keys, n);
        items.sort_by(|a, b| self.compare_rows(a, b, keys));
        items.into_iter().map(|i| i.row).collect()
    }

    /// Drops all but the first `n` items in sort order (left unsorted).
    pub(crate) fn keep_best(&self, items: &mut Vec<SortRow>, keys: &[SortKey], n: usize) {
        if n < items.len() {
            if n == 0 {
                items.clear();
                return;
            }
            items.select_nth_unstable_by(n - 1, |a, b| self.compare_rows(a, b, keys));
            items.truncate(n);
        }
    }

    // ---- aggregation -------------------------------------------------------

    fn aggregate(&self, rows: &[Row], group_by: &[Expr], aggs: &[AggCall]) -> Result<Vec<Row>> {
        let mut groups: HashMap<Vec<GroupKey>, usize> = HashMap::new();
        let mut states: Vec<(Row, Vec<AggState>)> = Vec::new();
        for row in rows {
            let keys = group_by
                .iter()
                .map(|g| self.eval(g, row))
                .collect::<Result<Vec<_>>>()?;
            let gk: Vec<GroupKey> = keys
                .iter()
                .map(|v| group_key(v, Collation::Utf8mb4GeneralCi))
                .collect();
            let idx = match groups.get(&gk) {
                Some(i) => *i,
                None => {
                    states.push((keys, aggs.iter().map(AggState::new).collect()));
                    groups.insert(gk, states.len() - 1);
                    states.len() - 1
                }
            };
            for (state, call) in states[idx].1.iter_mut().zip(aggs) {
                let v = match &call.arg {
                    Some(a) => Some(self.eval(a, row)?),
                    None => None,
                };
                state.update(call, v, self)?;
            }
        }
        if states.is_empty() && group_by.is_empty() {
            states.push((Vec::new(), aggs.iter().map(AggState::new).collect()));
        }
        states
            .into_iter()
            .map(|(mut keys, st)| {
                for (s, call) in st.into_iter().zip(aggs) {
                    keys.push(s.finish(call, self)?);
                }
                Ok(keys)
            })
            .collect()
    }

    // ---- window functions --------------------------------------------------

    fn window(&self, rows: Vec<Row>, calls: &[WindowCall]) -> Result<Vec<Row>> {
        let n = rows.len();
        let mut results: Vec<Vec<Value>> = vec![Vec::with_capacity(calls.len()); n];
        for call in calls {
            // Partition, then order within each partition.
            let mut parts: HashMap<Vec<GroupKey>, Vec<usize>> = HashMap::new();
            let mut order: Vec<Vec<GroupKey>> = Vec::new();
            for (i, r) in rows.iter().enumerate() {
                let pk = call
                    .partition_by
                    .iter()
                    .map(|e| self.eval(e, r).map(|v| group_key(&v, Collation::default())))
                    .collect::<Result<Vec<_>>>()?;
                if !parts.contains_key(&pk) {
                    order.push(pk.clone());
                }
                parts.entry(pk).or_default().push(i);
            }
            let mut values: Vec<Option<Value>> = vec![None; n];
            for pk in order {
                let idxs = &parts[&pk];
                let mut keyed = Vec::with_capacity(idxs.len());
                for &i in idxs {
                    let k = call
                        .order_by
                        .iter()
                        .map(|o| self.eval(&o.expr, &rows[i]))
                        .collect::<Result<Vec<_>>>()?;
                    keyed.push(SortRow {
                        keys: k,
                        seq: i,
                        row: Vec::new(),
                    });
                }
                keyed.sort_by(|a, b| self.compare_rows(a, b, &call.order_by));
                self.window_partition(call, &rows, &keyed, &mut values)?;
            }
            for (i, v) in values.into_iter().enumerate() {
                results[i].push(v.unwrap_or(Value::Null));
            }
        }
        Ok(rows
            .into_iter()
            .zip(results)
            .map(|(mut r, extra)| {
                r.extend(extra);
                r
            })
            .collect())
    }

    fn window_partition(
        &self,
        call: &WindowCall,
        rows: &[Row],
        sorted: &[SortRow],
        out: &mut [Option<Value>],
    ) -> Result<()> {
        let peers = |a: &SortRow, b: &SortRow| {
            call.order_by.iter().enumerate().all(|(i, k)| {
                compare_for_sort(&a.keys[i], &b.keys[i], k.collation) == Ordering::Equal
            })
        };
        let arg = |pos: usize| -> Result<Value> {
            match call.args.first() {
                Some(a) => self.eval(a, &rows[sorted[pos].seq]),
                None => Ok(Value::Null),
            }
        };
        let mut rank = 0i64;
        let mut dense = 0i64;
        let mut i = 0;
        while i < sorted.len() {
            // Rows i..j are peers (equal ORDER BY keys).
            let mut j = i + 1;
            while j < sorted.len() && peers(&sorted[i], &sorted[j]) {
                j += 1;
            }
            dense += 1;
            rank = i as i64 + 1;
            for pos in i..j {
                let v = match &call.func {
                    WindowFunc::RowNumber => Value::Int(pos as i64 + 1),
                    WindowFunc::Rank => Value::Int(rank),
                    WindowFunc::DenseRank => Value::Int(dense),
                    WindowFunc::Lag | WindowFunc::Lead => {
                        let off = match call.args.get(1) {
                            Some(e) => {
                                eval::convert::to_i64(&self.eval(e, &rows[sorted[pos].seq])?)?
                                    .unwrap_or(1)
                            }
                            None => 1,
                        };
                        let target = if matches!(call.func, WindowFunc::Lag) {
                            pos as i64 - off
                        } else {
                            pos as i64 + off
                        };
                        if target >= 0 && (target as usize) < sorted.len() {
                            arg(target as usize)?
                        } else {
                            match call.args.get(2) {
                                Some(d) => self.eval(d, &rows[sorted[pos].seq])?,
                                None => Value::Null,
                            }
                        }
                    }
                    WindowFunc::FirstValue => arg(0)?,
                    WindowFunc::LastValue => {
                        // Default frame: up to the last peer of the current row.
                        if call.order_by.is_empty() {
                            arg(sorted.len() - 1)?
                        } else {
                            arg(j - 1)?
                        }
                    }
                    WindowFunc::Aggregate(func) => {
                        // Without ORDER BY the frame is the whole partition;
                        // with it, everything up to the current row's peers.
                        let end = if call.order_by.is_empty() {
                            sorted.len()
                        } else {
                            j
                        };
                        let agg = AggCall {
                            func: *func,
                            arg: call.args.first().cloned(),
                            distinct: false,
                            separator: ",".into(),
                            data_type: call.data_type.clone(),
                        };
                        let mut st = AggState::new(&agg);
                        for s in &sorted[..end] {
                            let v = match &agg.arg {
                                Some(a) => Some(self.eval(a, &rows[s.seq])?),
                                None => None,
                            };
                            st.update(&agg, v, self)?;
                        }
                        st.finish(&agg, self)?
                    }
                };
                out[sorted[pos].seq] = Some(v);
            }
            i = j;
        }
        let _ = rank;
        Ok(())
    }

    // ---- joins -------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn join(
        &self,
        left: Vec<Row>,
        right: Vec<Row>,
        kind: JoinKind,
        on: Option<&Expr>,
        nleft: usize,
        nright: usize,
        _width: usize,
    ) -> Result<Vec<Row>> {
        let (mut equi, mut residual) = match on {
            Some(on) if kind != JoinKind::Cross => split_equi(on, nleft),
            _ => (Vec::new(), on.cloned()),
        };
        let mut out = Vec::new();
        let combine = |l: &Row, r: Option<&Row>| -> Row {
            let mut row = l.clone();
            match r {
                Some(r) => row.extend(r.iter().cloned()),
                None => row.extend(std::iter::repeat_n(Value::Null, nright)),
            }
            row
        };
        // Each equality's values on both sides, evaluated once.
        let mut left_keys = Vec::with_capacity(left.len());
        for l in &left {
            let keys: Result<Vec<Value>> = equi.iter().map(|(le, _, _)| self.eval(le, l)).collect();
            left_keys.push(keys?);
        }
        let mut right_keys = Vec::with_capacity(right.len());
        let mut padded = vec![Value::Null; nleft];
        for r in &right {
            padded.truncate(nleft);
            padded.extend(r.iter().cloned());
            let keys: Result<Vec<Value>> = equi
                .iter()
                .map(|(_, re, _)| self.eval(re, &padded))
                .collect();
            right_keys.push(keys?);
        }
        // An equality between different kinds of values (`'1' = 1`)
        // compares by MySQL's conversions, which hashing cannot follow: it
        // is checked per pair with the residual condition instead.
        for p in (0..equi.len()).rev() {
            let mut kinds = left_keys
                .iter()
                .chain(&right_keys)
                .filter_map(|k| key_kind(&k[p]));
            let first = kinds.next();
            if kinds.any(|k| Some(k) != first) {
                let (le, re, collation) = equi.remove(p);
                let cond = Expr::Compare {
                    op: CmpOp::Eq,
                    left: Box::new(le),
                    right: Box::new(re),
                    collation,
                };
                residual = conjoin(residual.into_iter().chain([cond]));
                for k in left_keys.iter_mut().chain(&mut right_keys) {
                    k.remove(p);
                }
            }
        }
        if !equi.is_empty() {
            // Hash join on the equality keys; NULL keys never match.
            let hash_key = |values: &[Value]| -> Option<Vec<GroupKey>> {
                values
                    .iter()
                    .zip(&equi)
                    .map(|(v, (_, _, coll))| (!v.is_null()).then(|| join_key(v, *coll)))
                    .collect()
            };
            let mut table: HashMap<Vec<GroupKey>, Vec<usize>> = HashMap::new();
            for (i, keys) in right_keys.iter().enumerate() {
                if let Some(key) = hash_key(keys) {
                    table.entry(key).or_default().push(i);
                }
            }
            for (l, keys) in left.iter().zip(&left_keys) {
                let mut matched = false;
                if let Some(idxs) = hash_key(keys).and_then(|k| table.get(&k)) {
                    for &i in idxs {
                        let row = combine(l, Some(&right[i]));
                        if match &residual {
                            Some(p) => self.predicate(p, &row)?,
                            None => true,
                        } {
                            matched = true;
                            out.push(row);
                        }
                    }
                }
                if !matched && kind == JoinKind::Left {
                    out.push(combine(l, None));
                }
            }
            return Ok(out);
        }
        for l in &left {
            let mut matched = false;
            for r in &right {
                let row = combine(l, Some(r));
                if match &residual {
                    Some(p) => self.predicate(p, &row)?,
                    None => true,
                } {
                    matched = true;
                    out.push(row);
                }
            }
            if !matched && kind == JoinKind::Left {
                out.push(combine(l, None));
            }
        }
        Ok(out)
    }

    /// Rows of subquery `id` for the current row.
    fn subquery_rows(&self, id: usize, row: &[Value]) -> Result<Rc<Vec<Row>>> {
        let sq = self
            .st
            .subqueries
            .get(id)
            .ok_or_else(|| Error::internal("unknown subquery"))?;
        if !sq.correlated {
            if let Some(r) = self.st.subquery_cache.borrow().get(&id) {
                return Ok(r.clone());
            }
            let rows = Rc::new(Exec::new(self.st).run(&sq.plan)?);
            self.st.subquery_cache.borrow_mut().insert(id, rows.clone());
            return Ok(rows);
        }
        let mut outer = self.outer.clone();
        outer.push(row);
        let child = Exec { st: self.st, outer };
        Ok(Rc::new(child.run(&sq.plan)?))
    }
}

pub(crate) struct SortRow {
    keys: Vec<Value>,
    seq: usize,
    row: Row,
}

enum Resolved {
    Full,
    /// Bounds on the primary key's first column.
    Range(Bound<Value>, Bound<Value>),
    /// Bounds on the index's first column.
    IndexRange(tiembed_types::IndexDef, Bound<Value>, Bound<Value>),
    Keys(Vec<Vec<Value>>),
    Index(tiembed_types::IndexDef, Vec<Value>),
    Nothing,
}

pub(crate) enum KeyValue {
    Exact(Value),
    NoMatch,
    NeedScan,
}

/// The stored form a lookup constant must take to find equal rows of a
/// column of type `t`, when the key encoding can decide equality.
pub(crate) fn key_value(v: &Value, t: &DataType) -> KeyValue {
    use rust_decimal::prelude::ToPrimitive;
    match (t, v) {
        (_, Value::Null) => KeyValue::NoMatch,
        (DataType::Int { .. } | DataType::Bool, v) => {
            let unsigned = matches!(t, DataType::Int { unsigned: true, .. });
            let n: Option<i128> = match v {
                Value::Int(i) => Some(*i as i128),
                Value::UInt(u) => Some(*u as i128),
                Value::Decimal(d) if d.fract().is_zero() => d.to_i128(),
                Value::Decimal(_) => return KeyValue::NoMatch,
                Value::Str(s) => match s.trim().parse::<i128>() {
                    Ok(n) => Some(n),
                    Err(_) => return KeyValue::NeedScan,
                },
                _ => return KeyValue::NeedScan,
            };
            match n {
                Some(n) if unsigned && n >= 0 => KeyValue::Exact(Value::UInt(n as u64)),
                Some(n) if !unsigned && n >= i64::MIN as i128 && n <= i64::MAX as i128 => {
                    KeyValue::Exact(Value::Int(n as i64))
                }
                _ => KeyValue::NoMatch,
            }
        }
        (t, Value::Str(s)) if t.is_string() => KeyValue::Exact(Value::Str(s.clone())),
        _ => KeyValue::NeedScan,
    }
}

/// The kind of value a join key holds, as far as hashing can compare
/// values: numbers with numbers, strings with strings. `None` for NULL.
fn key_kind(v: &Value) -> Option<u8> {
    Some(match v {
        Value::Null => return None,
        Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Double(_) | Value::Decimal(_) => {
            0
        }
        Value::Str(_) => 1,
        Value::Bytes(_) => 2,
        Value::Date(_) => 3,
        Value::DateTime(_) => 4,
        Value::Json(_) => 5,
        Value::Vector(_) => 6,
    })
}

fn join_key(v: &Value, collation: Collation) -> GroupKey {
    group_key(v, collation)
}

/// Splits an ON condition into hashable `left = right` pairs and the rest.
fn split_equi(on: &Expr, nleft: usize) -> (Vec<(Expr, Expr, Collation)>, Option<Expr>) {
    fn side(e: &Expr, nleft: usize) -> Option<bool> {
        // Some(true): only left columns; Some(false): only right; None: mixed/none.
        let mut l = false;
        let mut r = false;
        let mut other = false;
        visit(e, &mut |x| match x {
            Expr::Column(i) if *i < nleft => l = true,
            Expr::Column(_) => r = true,
            Expr::OuterColumn { .. } | Expr::Subquery { .. } => other = true,
            _ => {}
        });
        match (l, r, other) {
            (true, false, false) => Some(true),
            (false, true, false) => Some(false),
            _ => None,
        }
    }
    let mut equi = Vec::new();
    let mut rest: Option<Expr> = None;
    for c in conjuncts(on) {
        if let Expr::Compare {
            op: CmpOp::Eq,
            left,
            right,
            collation,
        } = c
        {
            match (side(left, nleft), side(right, nleft)) {
                (Some(true), Some(false)) => {
                    equi.push(((**left).clone(), (**right).clone(), *collation));
                    continue;
                }
                (Some(false), Some(true)) => {
                    equi.push(((**right).clone(), (**left).clone(), *collation));
                    continue;
                }
                _ => {}
            }
        }
        rest = conjoin(rest.into_iter().chain([c.clone()]));
    }
    (equi, rest)
}

/// Rows stored before ALTER TABLE ADD COLUMN lack the new columns: fill
/// them with the column default.
pub fn pad_row(table: &TableDef, mut row: Row) -> Row {
    while row.len() < table.columns.len() {
        let c = &table.columns[row.len()];
        row.push(crate::dml::literal_default(c).unwrap_or(Value::Null));
    }
    row.truncate(table.columns.len());
    row
}

/// `a <op> b` with SQL semantics (via the evaluator, so types and
/// overflow rules are exactly those of the expression language).
fn binary(op: tiembed_sql::BinaryOp, a: Value, b: Value, ctx: &Exec) -> Result<Value> {
    let e = Expr::Binary {
        op,
        left: Box::new(Expr::Literal(a)),
        right: Box::new(Expr::Literal(b)),
    };
    ctx.eval(&e, &[])
}

/// Running state of one aggregate.
struct AggState {
    count: i64,
    acc: Option<Value>,
    /// Sum of squares for STDDEV/VARIANCE, as f64.
    sq: f64,
    sum_f: f64,
    seen: Option<HashSet<GroupKey>>,
    parts: Vec<String>,
}

impl AggState {
    fn new(call: &AggCall) -> AggState {
        AggState {
            count: 0,
            acc: None,
            sq: 0.0,
            sum_f: 0.0,
            seen: call.distinct.then(HashSet::new),
            parts: Vec::new(),
        }
    }

    fn update(&mut self, call: &AggCall, v: Option<Value>, ctx: &Exec) -> Result<()> {
        let Some(v) = v else {
            // COUNT(*)
            self.count += 1;
            return Ok(());
        };
        if v.is_null() {
            return Ok(());
        }
        if let Some(seen) = &mut self.seen {
            if !seen.insert(group_key(&v, Collation::default())) {
                return Ok(());
            }
        }
        self.count += 1;
        match call.func {
            AggFunc::Count => {}
            AggFunc::Sum | AggFunc::Avg => {
                let addend = match &v {
                    Value::Int(_) | Value::UInt(_) | Value::Decimal(_) => v.clone(),
                    other => Value::Double(eval::convert::to_f64(other)?.unwrap_or(0.0)),
                };
                let addend = match addend {
                    Value::Int(i) => Value::Decimal(i.into()),
                    Value::UInt(u) => Value::Decimal(u.into()),
                    other => other,
                };
                self.acc = Some(match self.acc.take() {
                    None => addend,
                    Some(acc) => binary(tiembed_sql::BinaryOp::Plus, acc, addend, ctx)?,
                });
            }
            AggFunc::Min | AggFunc::Max => {
                let replace = match &self.acc {
                    None => true,
                    Some(cur) => {
                        let o = compare_for_sort(&v, cur, Collation::default());
                        if call.func == AggFunc::Min {
                            o == Ordering::Less
                        } else {
                            o == Ordering::Greater
                        }
                    }
                };
                if replace {
                    self.acc = Some(v);
                }
            }
            AggFunc::AnyValue => {
                if self.acc.is_none() {
                    self.acc = Some(v);
                }
            }
            AggFunc::GroupConcat => self.parts.push(v.to_text().unwrap_or_default()),
            AggFunc::BitAnd | AggFunc::BitOr => {
                let x = eval::convert::to_i64(&v)?.unwrap_or(0) as u64;
                let cur = match &self.acc {
                    Some(Value::UInt(u)) => *u,
                    _ if call.func == AggFunc::BitAnd => u64::MAX,
                    _ => 0,
                };
                self.acc = Some(Value::UInt(if call.func == AggFunc::BitAnd {
                    cur & x
                } else {
                    cur | x
                }));
            }
            AggFunc::StdDev | AggFunc::Variance => {
                let f = eval::convert::to_f64(&v)?.unwrap_or(0.0);
                self.sum_f += f;
                self.sq += f * f;
            }
        }
        Ok(())
    }

    fn finish(self, call: &AggCall, ctx: &Exec) -> Result<Value> {
        Ok(match call.func {
            AggFunc::Count => Value::Int(self.count),
            AggFunc::Sum => self.acc.unwrap_or(Value::Null),
            AggFunc::Avg => match self.acc {
                None => Value::Null,
                Some(Value::Double(d)) => Value::Double(d / self.count as f64),
                Some(acc) => binary(
                    tiembed_sql::BinaryOp::Divide,
                    acc,
                    Value::Int(self.count),
                    ctx,
                )?,
            },
            AggFunc::Min | AggFunc::Max | AggFunc::AnyValue => self.acc.unwrap_or(Value::Null),
            AggFunc::GroupConcat => {
                if self.parts.is_empty() {
                    Value::Null
                } else {
                    Value::Str(self.parts.join(&call.separator))
                }
            }
            AggFunc::BitAnd => self.acc.unwrap_or(Value::UInt(u64::MAX)),
            AggFunc::BitOr => self.acc.unwrap_or(Value::UInt(0)),
            AggFunc::StdDev | AggFunc::Variance => {
                if self.count == 0 {
                    Value::Null
                } else {
                    let n = self.count as f64;
                    let mean = self.sum_f / n;
                    let var = (self.sq / n - mean * mean).max(0.0);
                    Value::Double(if call.func == AggFunc::StdDev {
                        var.sqrt()
                    } else {
                        var
                    })
                }
            }
        })
    }
}

impl EvalContext for Exec<'_, '_> {
    fn param(&self, index: usize) -> Result<Value> {
        self.st
            .params
            .get(index)
            .cloned()
            .ok_or_else(|| Error::WrongArguments("mysqld_stmt_execute".into()))
    }

    fn user_var(&self, name: &str) -> Value {
        self.st
            .info
            .user_vars
            .get(name)
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn sys_var(&self, name: &str, scope: VarScope) -> Result<Value> {
        self.st.engine.read_sysvar(self.st.info, name, scope)
    }

    fn now(&self) -> NaiveDateTime {
        self.st.now
    }

    fn outer_row(&self, depth: usize) -> Result<&[Value]> {
        self.outer
            .len()
            .checked_sub(depth)
            .and_then(|i| self.outer.get(i).copied())
            .ok_or_else(|| Error::internal("outer row out of range"))
    }

    fn subquery(&self, id: usize, kind: &SubqueryKind, row: &[Value]) -> Result<Value> {
        match kind {
            SubqueryKind::Scalar => {
                let rows = self.subquery_rows(id, row)?;
                match rows.len() {
                    0 => Ok(Value::Null),
                    1 => Ok(rows[0].first().cloned().unwrap_or(Value::Null)),
                    _ => Err(Error::SubqueryMoreThanOneRow),
                }
            }
            SubqueryKind::Exists { negated } => {
                let rows = self.subquery_rows(id, row)?;
                Ok(Value::Int((rows.is_empty() == *negated) as i64))
            }
            SubqueryKind::In {
                expr,
                negated,
                collation,
            } => {
                let x = self.eval(expr, row)?;
                let correlated = self.st.subqueries.get(id).is_some_and(|s| s.correlated);
                let (found, any_null, empty) = if correlated {
                    let rows = self.subquery_rows(id, row)?;
                    let mut found = false;
                    let mut any_null = false;
                    for r in rows.iter() {
                        let v = r.first().cloned().unwrap_or(Value::Null);
                        match eval::compare_values(&x, &v, *collation)? {
                            Some(Ordering::Equal) => found = true,
                            None => any_null = true,
                            _ => {}
                        }
                    }
                    (found, any_null, rows.is_empty())
                } else {
                    let set = self.in_set(id, *collation, row)?;
                    let found = !x.is_null() && set.0.contains(&group_key(&x, *collation));
                    (found, set.1, set.0.is_empty() && !set.1)
                };
                if empty {
                    return Ok(Value::Int(*negated as i64));
                }
                let v = if found {
                    Some(true)
                } else if x.is_null() || any_null {
                    None
                } else {
                    Some(false)
                };
                Ok(match v {
                    None => Value::Null,
                    Some(b) => Value::Int((b != *negated) as i64),
                })
            }
        }
    }

    fn embed(&self, model: &str, text: &str, options: Option<&str>) -> Result<Value> {
        let v = crate::embedding::embed_texts(self.st, model, options, &[text.to_string()])?;
        Ok(v.into_iter()
            .next()
            .map(Value::vector)
            .unwrap_or(Value::Null))
    }

    fn info(&self, func: Func) -> Result<Value> {
        crate::session::info_value(self.st, func)
    }

    fn div_precision_increment(&self) -> u32 {
        self.st.info.div_precision_increment
    }

    fn warn(&self, code: u16, message: String) {
        self.st.warnings.borrow_mut().push((code, message));
    }
}

impl Exec<'_, '_> {
    /// The hash set of an uncorrelated `IN (subquery)`; the flag says a NULL was present.
    fn in_set(
        &self,
        id: usize,
        collation: Collation,
        row: &[Value],
    ) -> Result<Rc<(HashSet<GroupKey>, bool)>> {
        if let Some(s) = self.st.in_sets.borrow().get(&id) {
            return Ok(s.clone());
        }
        let rows = self.subquery_rows(id, row)?;
        let mut set = HashSet::new();
        let mut null = false;
        for r in rows.iter() {
            match r.first() {
                Some(Value::Null) | None => null = true,
                Some(v) => {
                    set.insert(group_key(v, collation));
                }
            }
        }
        let s = Rc::new((set, null));
        self.st.in_sets.borrow_mut().insert(id, s.clone());
        Ok(s)
    }
}
