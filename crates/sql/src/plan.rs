//! Logical plans produced by the binder and run by the executor.

use crate::expr::Expr;
use std::sync::Arc;
use tiembed_types::{Collation, DataType, Generated, TableDef};

/// One column of a plan node's output rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Label the client sees and unqualified references match.
    pub name: String,
    /// Table alias that qualified references (`t.col`) match.
    pub qualifier: Option<String>,
    /// Base table column this slot comes from, for metadata.
    pub org_name: String,
    pub org_table: String,
    pub db: String,
    pub data_type: DataType,
    pub nullable: bool,
    pub collation: Collation,
    /// Carried through derived tables so `VEC_EMBED_*` can find the model
    /// of the EMBED_TEXT column it ranks by.
    pub generated: Option<Generated>,
    pub primary_key: bool,
    pub auto_increment: bool,
    /// Right-hand USING/NATURAL join columns: reachable only qualified.
    pub hidden: bool,
}

impl Column {
    /// A computed column (no base table).
    pub fn computed(name: impl Into<String>, data_type: DataType) -> Column {
        Column {
            name: name.into(),
            qualifier: None,
            org_name: String::new(),
            org_table: String::new(),
            db: String::new(),
            data_type,
            nullable: true,
            collation: Collation::default(),
            generated: None,
            primary_key: false,
            auto_increment: false,
            hidden: false,
        }
    }
}

/// How a table scan finds its rows. The scan's filter is always applied
/// on top, so an access path only has to return a superset.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    Full,
    /// One or more primary-key tuples (`pk = c`, `pk IN (..)`).
    PrimaryKey(Vec<Vec<Expr>>),
    /// Equality on a prefix of a secondary index's columns.
    Index {
        index: String,
        values: Vec<Expr>,
    },
    /// A range of the primary key's first column (an integer): rows in key
    /// order between the bounds. The filter above still applies in full.
    PrimaryKeyRange {
        low: Option<RangeBound>,
        high: Option<RangeBound>,
    },
    /// A range of a secondary index's first column (an integer), in index
    /// order. The filter above still applies in full.
    IndexRange {
        index: String,
        low: Option<RangeBound>,
        high: Option<RangeBound>,
    },
}

impl Access {
    /// Reads a run of rows (all of them, or a key or index range), leaving
    /// the filter above to do the selecting: paths that rank or index rows
    /// themselves may replace it.
    pub fn is_scan(&self) -> bool {
        matches!(
            self,
            Access::Full | Access::PrimaryKeyRange { .. } | Access::IndexRange { .. }
        )
    }

    /// Reads rows in primary-key order.
    pub fn in_key_order(&self) -> bool {
        matches!(self, Access::Full | Access::PrimaryKeyRange { .. })
    }
}

/// One end of [`Access::PrimaryKeyRange`].
#[derive(Debug, Clone, PartialEq)]
pub struct RangeBound {
    pub value: Expr,
    pub inclusive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Cross,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    /// Value of a non-grouped column (MySQL without ONLY_FULL_GROUP_BY).
    AnyValue,
    GroupConcat,
    BitAnd,
    BitOr,
    StdDev,
    Variance,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AggCall {
    pub func: AggFunc,
    /// `None` for COUNT(*).
    pub arg: Option<Expr>,
    pub distinct: bool,
    /// GROUP_CONCAT separator.
    pub separator: String,
    pub data_type: DataType,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WindowFunc {
    RowNumber,
    Rank,
    DenseRank,
    Aggregate(AggFunc),
    Lag,
    Lead,
    FirstValue,
    LastValue,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WindowCall {
    pub func: WindowFunc,
    pub args: Vec<Expr>,
    pub partition_by: Vec<Expr>,
    pub order_by: Vec<SortKey>,
    pub data_type: DataType,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub desc: bool,
    pub collation: Collation,
}

/// The information_schema tables tiembed serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemTable {
    Schemata,
    Tables,
    Columns,
    Statistics,
    KeyColumnUsage,
    TiflashReplica,
    TiflashIndexes,
    Engines,
    CharacterSets,
    Collations,
    Processlist,
    SessionVariables,
    GlobalVariables,
    TableConstraints,
    ReferentialConstraints,
    Views,
    Routines,
    Partitions,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// One row with no columns (`SELECT 1`).
    Dual,
    Values {
        rows: Vec<Vec<Expr>>,
        columns: Vec<Column>,
    },
    Scan {
        table: Arc<TableDef>,
        access: Access,
        columns: Vec<Column>,
        /// Appends the row's storage key as a last, unnamed column (UPDATE/DELETE).
        with_key: bool,
    },
    System {
        table: SystemTable,
        columns: Vec<Column>,
    },
    Filter {
        input: Box<Plan>,
        predicate: Expr,
    },
    Project {
        input: Box<Plan>,
        exprs: Vec<Expr>,
        columns: Vec<Column>,
    },
    /// Output: group keys, then aggregate results.
    Aggregate {
        input: Box<Plan>,
        group_by: Vec<Expr>,
        aggs: Vec<AggCall>,
        columns: Vec<Column>,
    },
    /// Output: the input row followed by one value per call.
    Window {
        input: Box<Plan>,
        calls: Vec<WindowCall>,
        columns: Vec<Column>,
    },
    Sort {
        input: Box<Plan>,
        keys: Vec<SortKey>,
    },
    Limit {
        input: Box<Plan>,
        limit: Option<u64>,
        offset: u64,
    },
    /// Keeps the first row of each distinct prefix of `width` columns.
    Distinct {
        input: Box<Plan>,
        width: usize,
    },
    Join {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        on: Option<Expr>,
        columns: Vec<Column>,
    },
    Union {
        inputs: Vec<Plan>,
        all: bool,
        columns: Vec<Column>,
    },
    /// Relabels the input's columns (derived tables, CTEs); no work at run time.
    Rename {
        input: Box<Plan>,
        columns: Vec<Column>,
    },
}

impl Plan {
    pub fn columns(&self) -> &[Column] {
        match self {
            Plan::Dual => &[],
            Plan::Values { columns, .. }
            | Plan::Scan { columns, .. }
            | Plan::System { columns, .. }
            | Plan::Project { columns, .. }
            | Plan::Aggregate { columns, .. }
            | Plan::Window { columns, .. }
            | Plan::Join { columns, .. }
            | Plan::Union { columns, .. }
            | Plan::Rename { columns, .. } => columns,
            Plan::Filter { input, .. }
            | Plan::Sort { input, .. }
            | Plan::Limit { input, .. }
            | Plan::Distinct { input, .. } => input.columns(),
        }
    }

    /// Mutable access to every expression of this node (not its inputs).
    pub fn node_exprs_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        match self {
            Plan::Values { rows, .. } => rows.iter_mut().flatten().for_each(f),
            Plan::Scan { access, .. } => match access {
                Access::Full => {}
                Access::PrimaryKey(keys) => keys.iter_mut().flatten().for_each(f),
                Access::Index { values, .. } => values.iter_mut().for_each(f),
                Access::PrimaryKeyRange { low, high } | Access::IndexRange { low, high, .. } => {
                    low.iter_mut().chain(high).for_each(|b| f(&mut b.value))
                }
            },
            Plan::Filter { predicate, .. } => f(predicate),
            Plan::Project { exprs, .. } => exprs.iter_mut().for_each(f),
            Plan::Aggregate { group_by, aggs, .. } => {
                group_by.iter_mut().for_each(&mut *f);
                aggs.iter_mut().filter_map(|a| a.arg.as_mut()).for_each(f);
            }
            Plan::Window { calls, .. } => {
                for c in calls {
                    c.args.iter_mut().for_each(&mut *f);
                    c.partition_by.iter_mut().for_each(&mut *f);
                    c.order_by.iter_mut().for_each(|k| f(&mut k.expr));
                }
            }
            Plan::Sort { keys, .. } => keys.iter_mut().for_each(|k| f(&mut k.expr)),
            Plan::Join { on: Some(on), .. } => f(on),
            _ => {}
        }
    }

    /// The node's direct inputs.
    pub fn inputs(&self) -> Vec<&Plan> {
        match self {
            Plan::Filter { input, .. }
            | Plan::Project { input, .. }
            | Plan::Aggregate { input, .. }
            | Plan::Window { input, .. }
            | Plan::Sort { input, .. }
            | Plan::Limit { input, .. }
            | Plan::Distinct { input, .. }
            | Plan::Rename { input, .. } => vec![input.as_ref()],
            Plan::Join { left, right, .. } => vec![left.as_ref(), right.as_ref()],
            Plan::Union { inputs, .. } => inputs.iter().collect(),
            Plan::Dual | Plan::Values { .. } | Plan::Scan { .. } | Plan::System { .. } => vec![],
        }
    }

    /// The node's direct inputs, mutable.
    pub fn inputs_mut(&mut self) -> Vec<&mut Plan> {
        match self {
            Plan::Filter { input, .. }
            | Plan::Project { input, .. }
            | Plan::Aggregate { input, .. }
            | Plan::Window { input, .. }
            | Plan::Sort { input, .. }
            | Plan::Limit { input, .. }
            | Plan::Distinct { input, .. }
            | Plan::Rename { input, .. } => vec![input.as_mut()],
            Plan::Join { left, right, .. } => vec![left.as_mut(), right.as_mut()],
            Plan::Union { inputs, .. } => inputs.iter_mut().collect(),
            Plan::Dual | Plan::Values { .. } | Plan::Scan { .. } | Plan::System { .. } => vec![],
        }
    }

    /// Applies `f` to every expression in the whole tree.
    pub fn walk_exprs_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        self.node_exprs_mut(f);
        for input in self.inputs_mut() {
            input.walk_exprs_mut(f);
        }
    }
}

/// A subquery used inside expressions of a statement.
#[derive(Debug, Clone, PartialEq)]
pub struct SubqueryPlan {
    pub plan: Plan,
    /// References a row of an enclosing query; otherwise evaluated once.
    pub correlated: bool,
}

/// A bound SELECT (or the query part of another statement).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPlan {
    pub plan: Plan,
    pub subqueries: Vec<SubqueryPlan>,
    pub param_count: usize,
}

/// Where INSERT's rows come from.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertSource {
    /// One entry per target column; `None` = DEFAULT.
    Values(Vec<Vec<Option<Expr>>>),
    Query(Plan),
}

#[derive(Debug, Clone, PartialEq)]
pub struct InsertPlan {
    pub table: Arc<TableDef>,
    /// Target column indexes, in the order of the values.
    pub columns: Vec<usize>,
    pub source: InsertSource,
    /// ON DUPLICATE KEY UPDATE: (column, expr over [old row.., new row..]).
    pub on_duplicate: Vec<(usize, Expr)>,
    pub ignore: bool,
    pub replace: bool,
    pub subqueries: Vec<SubqueryPlan>,
    pub param_count: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpdatePlan {
    pub table: Arc<TableDef>,
    /// Rows to change: full table rows plus their key as the last column.
    pub input: Plan,
    /// (column, expr over the table row; `None` = DEFAULT).
    pub assignments: Vec<(usize, Option<Expr>)>,
    pub subqueries: Vec<SubqueryPlan>,
    pub param_count: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeletePlan {
    pub table: Arc<TableDef>,
    pub input: Plan,
    pub subqueries: Vec<SubqueryPlan>,
    pub param_count: usize,
}
