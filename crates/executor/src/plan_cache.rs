//! The text-protocol statement cache: bound SELECT plans per template.
//!
//! A connection that sends `SELECT … WHERE id = 17`, then `… = 42`, pays
//! for parsing and binding once: `tiembed_sql::literals` turns the text into
//! a template with `?` for each literal, the template is bound like a
//! prepared statement, and each statement runs that plan with its literals
//! written back in as constants (TiDB calls this the non-prepared plan
//! cache).
//!
//! A template is trusted only if it binds to exactly the plan the
//! statement's own text binds to, once its literals are put back. The
//! binder never looks at a literal's value (it folds nothing), so a plan
//! that matches for one set of literals of the same kinds matches for all;
//! anything where a literal shapes the plan (`ORDER BY 1` naming a
//! column, `SELECT 5` naming its column `5`, `-5` folded into one constant)
//! fails that comparison and the template is remembered as not cacheable.
//!
//! Plans are bound against one catalog: any DDL (any session's) replaces
//! the catalog, and the cache starts over.

use std::collections::HashMap;
use std::sync::Arc;
use tiembed_sql::plan::QueryPlan;
use tiembed_sql::Expr;

use tiembed_types::{Catalog, Value};

/// Templates kept per connection; past this the cache starts over.
const CAPACITY: usize = 256;

#[derive(Default)]
pub(crate) struct PlanCache {
    /// The catalog every entry was bound against.
    catalog: Option<Arc<Catalog>>,
    /// By `Parameterized::cache_key`; `None`: the template is not cacheable.
    entries: HashMap<String, Option<Arc<QueryPlan>>>,
}

pub(crate) enum Lookup {
    Hit(Arc<QueryPlan>),
    /// Known not to be cacheable: take the ordinary path.
    Uncacheable,
    Miss,
}

impl PlanCache {
    pub(crate) fn get(&mut self, catalog: &Arc<Catalog>, key: &str) -> Lookup {
        if !self
            .catalog
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, catalog))
        {
            self.entries.clear();
            self.catalog = Some(catalog.clone());
            return Lookup::Miss;
        }
        match self.entries.get(key) {
            Some(Some(plan)) => Lookup::Hit(plan.clone()),
            Some(None) => Lookup::Uncacheable,
            None => Lookup::Miss,
        }
    }

    pub(crate) fn insert(&mut self, key: String, plan: Option<Arc<QueryPlan>>) {
        if self.entries.len() >= CAPACITY {
            self.entries.clear();
        }
        self.entries.insert(key, plan);
    }
}

/// `template` with its parameters replaced by `values` as constants: the
/// plan the statement's own text binds to.
pub(crate) fn with_literals(template: &QueryPlan, values: &[Value]) -> QueryPlan {
    let mut plan = template.clone();
    let mut substitute = |e: &mut Expr| {
        *e = tiembed_sql::bind::transform(e, &mut |x| match x {
            Expr::Param(i) => values.get(*i).cloned().map(Expr::Literal),
            _ => None,
        })
    };
    plan.plan.walk_exprs_mut(&mut substitute);
    for sub in &mut plan.subqueries {
        sub.plan.walk_exprs_mut(&mut substitute);
    }
    plan.param_count = 0;
    plan
}
