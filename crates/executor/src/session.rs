//! One connection's state and the statement dispatcher: parse, then route
//! each statement to queries, DML, DDL, SHOW, SET or transaction control,
//! with MySQL's transaction rules (autocommit, implicit commit on DDL,
//! statement atomicity inside a transaction).

use crate::api::{ColumnInfo, Output, PreparedInfo, ResultSet, StatusFlags};
use crate::exec::{Exec, StmtState};
use crate::plan_cache::{self, Lookup, PlanCache};
use crate::sysvars::{self, Scope};
use crate::Engine;
use sqlparser::ast;
use std::collections::HashMap;
use std::sync::Arc;
use tiembed_sql::bind::{self, BindContext};
use tiembed_sql::parse::{self, SetItem, SetScope, SetValue, Statement};
use tiembed_sql::plan::{Column, QueryPlan};
use tiembed_sql::Func;
use tiembed_storage::Transaction;
use tiembed_types::{Error, Result, Value};

/// Session facts expressions may read.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub connection_id: u32,
    pub user: String,
    pub db: Option<String>,
    /// SESSION values that were SET (others read the GLOBAL value).
    pub vars: HashMap<String, String>,
    pub user_vars: HashMap<String, Value>,
    pub last_insert_id: u64,
    pub div_precision_increment: u32,
    /// Affected rows of the previous statement (ROW_COUNT()).
    pub row_count: i64,
    /// Rows the previous SELECT returned (FOUND_ROWS()).
    pub found_rows: u64,
    /// CLIENT_FOUND_ROWS: UPDATE reports matched, not changed, rows.
    pub client_found_rows: bool,
    /// (protocol version, cipher) when the connection runs over TLS,
    /// for `SHOW STATUS LIKE 'Ssl_%'`.
    pub tls: Option<(String, String)>,
    /// The previous statement ran a cached plan (`@@last_plan_from_cache`).
    pub last_plan_from_cache: bool,
}

impl SessionInfo {
    pub fn session_value(&self, var: &sysvars::Var) -> Option<String> {
        match var.name {
            "last_insert_id" => Some(self.last_insert_id.to_string()),
            "last_plan_from_cache" => Some(u8::from(self.last_plan_from_cache).to_string()),
            _ => self.vars.get(var.name).cloned(),
        }
    }

    fn autocommit(&self, engine: &Engine) -> bool {
        let var = sysvars::lookup("autocommit").expect("autocommit exists");
        self.session_value(var)
            .unwrap_or_else(|| engine.global_value(var))
            == "ON"
    }
}

struct Prepared {
    statement: Statement,
    param_count: usize,
    /// A plain SELECT that may run on the connection's task (see [`runs_inline`]).
    inline: bool,
}

/// One connection's state.
pub struct Session {
    engine: Arc<Engine>,
    pub(crate) info: SessionInfo,
    txn: Option<Transaction>,
    /// BEGIN / START TRANSACTION is open.
    in_begin: bool,
    /// (level, code, message) of the last statement.
    warnings: Vec<(&'static str, u16, String)>,
    prepared: HashMap<u32, Prepared>,
    next_stmt_id: u32,
    plan_cache: PlanCache,
    /// The running statement's plan came from `plan_cache`.
    plan_from_cache: bool,
}

impl Session {
    pub(crate) fn new(engine: Arc<Engine>, connection_id: u32, user: &str) -> Session {
        Session {
            engine,
            info: SessionInfo {
                connection_id,
                user: user.to_string(),
                db: None,
                vars: HashMap::new(),
                user_vars: HashMap::new(),
                last_insert_id: 0,
                div_precision_increment: 4,
                row_count: 0,
                found_rows: 0,
                client_found_rows: false,
                tls: None,
                last_plan_from_cache: false,
            },
            txn: None,
            in_begin: false,
            warnings: Vec::new(),
            prepared: HashMap::new(),
            next_stmt_id: 1,
            plan_cache: PlanCache::default(),
            plan_from_cache: false,
        }
    }

    /// Runs the statements in `sql`. With `multi` false, text holding more
    /// than one statement is an error. Execution stops at the first error,
    /// which is the last element. Needs a multi-threaded tokio runtime.
    pub async fn execute(&mut self, sql: &str, multi: bool) -> Vec<Result<Output>> {
        if runs_inline(sql) {
            return self.execute_sync(sql, multi);
        }
        tokio::task::block_in_place(|| self.execute_sync(sql, multi))
    }

    fn execute_sync(&mut self, sql: &str, multi: bool) -> Vec<Result<Output>> {
        self.info.last_plan_from_cache = std::mem::take(&mut self.plan_from_cache);
        if let Some(out) = self.execute_cached(sql) {
            return vec![out];
        }
        let stmts = match parse::parse(sql) {
            Ok(s) => s,
            Err(e) => return vec![Err(e)],
        };
        if stmts.is_empty() {
            return vec![Err(Error::EmptyQuery)];
        }
        if stmts.len() > 1 && !multi {
            return vec![Err(Error::MultiStatementDisabled)];
        }
        let mut out = Vec::new();
        for stmt in &stmts {
            let r = self.run(stmt, &[]);
            let failed = r.is_err();
            out.push(r);
            if failed {
                break;
            }
        }
        out
    }

    /// Runs `sql` through the statement cache when it is a SELECT whose
    /// template is (or turns out to be) cacheable; `None`: parse it as usual.
    fn execute_cached(&mut self, sql: &str) -> Option<Result<Output>> {
        let text = tiembed_sql::literals::parameterize(sql)?;
        let db = self.info.db.clone();
        let key = text.cache_key(db.as_deref());
        let catalog = self.engine.catalog();
        let plan = match self.plan_cache.get(&catalog, &key) {
            Lookup::Hit(template) => {
                self.plan_from_cache = true;
                plan_cache::with_literals(&template, &text.values)
            }
            Lookup::Uncacheable => return None,
            Lookup::Miss => {
                let ctx = BindContext {
                    catalog: &catalog,
                    current_db: db.as_deref(),
                };
                let bind_text = |sql: &str| match parse::parse(sql).ok()?.as_slice() {
                    [Statement::Sql { stmt, .. }] => match stmt.as_ref() {
                        ast::Statement::Query(q) => bind::bind_query(&ctx, q).ok(),
                        _ => None,
                    },
                    _ => None,
                };
                // Errors are left to the ordinary path, which reports them.
                let own = bind_text(sql)?;
                let template = bind_text(&text.template)
                    .filter(|t| t.param_count == text.values.len())
                    .filter(|t| plan_cache::with_literals(t, &text.values) == own);
                self.plan_cache.insert(key, template.map(Arc::new));
                own
            }
        };
        Some(self.track_warnings(false, |s| s.run_query_plan(plan, &[])))
    }

    pub async fn prepare(&mut self, sql: &str) -> Result<PreparedInfo> {
        tokio::task::block_in_place(|| self.prepare_sync(sql))
    }

    fn prepare_sync(&mut self, sql: &str) -> Result<PreparedInfo> {
        let mut stmts = parse::parse(sql)?;
        if stmts.len() != 1 {
            return Err(Error::other("Can not prepare multiple statements"));
        }
        let statement = stmts.remove(0);
        let param_count = parse::count_params(sql);
        let columns = match &statement {
            Statement::Sql { stmt, .. } => match stmt.as_ref() {
                ast::Statement::Query(q) => {
                    let catalog = self.engine.catalog();
                    let ctx = BindContext {
                        catalog: &catalog,
                        current_db: self.info.db.as_deref(),
                    };
                    bind::bind_query(&ctx, q)
                        .map(|p| column_infos(p.plan.columns()))
                        .unwrap_or_default()
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let id = self.next_stmt_id;
        self.next_stmt_id = self.next_stmt_id.wrapping_add(1).max(1);
        self.prepared.insert(
            id,
            Prepared {
                statement,
                param_count,
                inline: runs_inline(sql),
            },
        );
        Ok(PreparedInfo {
            id,
            param_count,
            columns,
        })
    }

    pub async fn execute_prepared(&mut self, id: u32, params: Vec<Value>) -> Result<Output> {
        self.info.last_plan_from_cache = std::mem::take(&mut self.plan_from_cache);
        let (stmt, inline) = match self.prepared.get(&id) {
            Some(p) => {
                if params.len() != p.param_count {
                    return Err(Error::WrongArguments("mysqld_stmt_execute".into()));
                }
                (p.statement.clone(), p.inline)
            }
            None => {
                return Err(Error::UnknownStatement(
                    id.to_string(),
                    "mysqld_stmt_execute".into(),
                ))
            }
        };
        if inline {
            return self.run(&stmt, &params);
        }
        tokio::task::block_in_place(|| self.run(&stmt, &params))
    }

    /// Parameter count of a prepared statement (for validating EXECUTE packets).
    pub fn prepared_param_count(&self, id: u32) -> Option<usize> {
        self.prepared.get(&id).map(|p| p.param_count)
    }

    pub fn close_prepared(&mut self, id: u32) {
        self.prepared.remove(&id);
    }

    /// COM_INIT_DB / handshake database.
    pub fn use_database(&mut self, db: &str) -> Result<()> {
        if !self.engine.database_exists(db) {
            return Err(Error::UnknownDatabase(db.to_string()));
        }
        let name = self
            .engine
            .catalog()
            .database(db)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| db.to_string());
        self.info.db = Some(name.clone());
        if let Some(c) = self
            .engine
            .connections
            .lock()
            .get_mut(&self.info.connection_id)
        {
            c.db = Some(name);
        }
        Ok(())
    }

    pub fn current_database(&self) -> Option<&str> {
        self.info.db.as_deref()
    }

    /// COM_FIELD_LIST: the table's columns (errors as DESCRIBE's).
    pub fn field_list(&self, table: &str) -> Result<Vec<ColumnInfo>> {
        let db = self.info.db.as_deref().ok_or(Error::NoDatabaseSelected)?;
        let catalog = self.engine.catalog();
        let t = catalog.table(db, table).ok_or_else(|| Error::NoSuchTable {
            db: db.to_string(),
            table: table.to_string(),
        })?;
        let plan = scan_columns(t);
        Ok(column_infos(&plan))
    }

    /// Whether the client asked for CLIENT_FOUND_ROWS (matched, not changed, rows).
    pub fn set_found_rows(&mut self, on: bool) {
        self.info.client_found_rows = on;
    }

    /// The wire layer upgraded this connection to TLS.
    pub fn set_tls(&mut self, version: &str, cipher: &str) {
        self.info.tls = Some((version.to_string(), cipher.to_string()));
    }

    pub fn status(&self) -> StatusFlags {
        let autocommit = self.info.autocommit(&self.engine);
        StatusFlags {
            autocommit,
            in_transaction: self.in_begin || (!autocommit && self.txn.is_some()),
        }
    }

    /// Warnings left by the last statement (the OK/EOF warning count).
    pub fn warning_count(&self) -> u16 {
        self.warnings.len().min(u16::MAX as usize) as u16
    }

    pub fn connection_id(&self) -> u32 {
        self.info.connection_id
    }

    /// Rolls back an open transaction; called when the connection drops.
    pub fn close(&mut self) {
        self.txn = None;
        self.in_begin = false;
        self.engine
            .connections
            .lock()
            .remove(&self.info.connection_id);
    }

    // ---- dispatch ------------------------------------------------------------

    fn run(&mut self, stmt: &Statement, params: &[Value]) -> Result<Output> {
        let keep_warnings = matches!(stmt, Statement::Show(s) if matches!(s.kind, parse::ShowKind::Warnings | parse::ShowKind::Errors));
        self.track_warnings(keep_warnings, |s| s.dispatch(stmt, params))
    }

    /// Runs one statement: its warnings replace the last statement's
    /// (unless `keep_warnings`: SHOW WARNINGS), and its error becomes one.
    fn track_warnings(
        &mut self,
        keep_warnings: bool,
        f: impl FnOnce(&mut Self) -> Result<Output>,
    ) -> Result<Output> {
        if !keep_warnings {
            self.warnings.clear();
        }
        let result = f(self);
        if let Err(e) = &result {
            if !keep_warnings {
                self.warnings.push(("Error", 0, e.to_string()));
            }
        }
        result
    }

    fn dispatch(&mut self, stmt: &Statement, params: &[Value]) -> Result<Output> {
        match stmt {
            Statement::Show(s) => crate::show::show(self, s),
            Statement::Set(items) => self.set(items),
            Statement::SetTiflashReplica { table, count } => {
                self.implicit_commit()?;
                crate::ddl::set_tiflash_replica(self, table, *count)
            }
            Statement::NoOp(_) => Ok(ok(0)),
            Statement::Sql { stmt, flags } => self.dispatch_sql(stmt, flags, params),
        }
    }

    fn dispatch_sql(
        &mut self,
        stmt: &ast::Statement,
        flags: &parse::TidbFlags,
        params: &[Value],
    ) -> Result<Output> {
        use ast::Statement as S;
        match stmt {
            S::Query(q) => self.query(q, params),
            S::Insert(ins) => {
                let catalog = self.engine.catalog();
                let ctx = BindContext {
                    catalog: &catalog,
                    current_db: self.info.db.as_deref(),
                };
                let plan = bind::bind_insert(&ctx, ins)?;
                let out = self.in_txn(params, &plan.subqueries.clone(), |st| {
                    crate::dml::insert(st, &plan)
                })?;
                if let Output::Ok {
                    last_insert_id,
                    affected_rows,
                    ..
                } = &out
                {
                    if *last_insert_id > 0 {
                        self.info.last_insert_id = *last_insert_id;
                    }
                    self.info.row_count = *affected_rows as i64;
                }
                Ok(out)
            }
            S::Update(u) => {
                let catalog = self.engine.catalog();
                let ctx = BindContext {
                    catalog: &catalog,
                    current_db: self.info.db.as_deref(),
                };
                let plan = bind::bind_update(&ctx, u)?;
                self.in_txn(params, &plan.subqueries.clone(), |st| {
                    crate::dml::update(st, &plan)
                })
            }
            S::Delete(d) => {
                let catalog = self.engine.catalog();
                let ctx = BindContext {
                    catalog: &catalog,
                    current_db: self.info.db.as_deref(),
                };
                let plan = bind::bind_delete(&ctx, d)?;
                self.in_txn(params, &plan.subqueries.clone(), |st| {
                    crate::dml::delete(st, &plan)
                })
            }
            S::StartTransaction { .. } => {
                self.commit()?;
                self.in_begin = true;
                self.txn = Some(self.engine.new_txn());
                Ok(ok(0))
            }
            S::Commit { .. } => {
                self.commit()?;
                Ok(ok(0))
            }
            S::Rollback { .. } => {
                self.rollback();
                Ok(ok(0))
            }
            S::Use(u) => {
                let name = match u {
                    ast::Use::Object(n) | ast::Use::Database(n) | ast::Use::Schema(n) => {
                        tiembed_sql::bind::table_name(n, Some("")).map(|(_, t)| t)?
                    }
                    other => return Err(Error::NotSupported(format!("{other}"))),
                };
                self.use_database(&name)?;
                Ok(ok(0))
            }
            S::ExplainTable { table_name, .. } => crate::show::describe(self, table_name),
            S::Explain { statement, .. } => crate::show::explain(self, statement),
            S::Kill { .. } | S::LockTables { .. } | S::UnlockTables => Ok(ok(0)),
            S::Prepare { .. } | S::Execute { .. } | S::Deallocate { .. } => Err(
                Error::NotSupported("SQL-level PREPARE/EXECUTE; use the binary protocol".into()),
            ),
            _ => {
                // Everything else is DDL: it commits the open transaction first.
                self.implicit_commit()?;
                crate::ddl::execute(self, stmt, flags)
            }
        }
    }

    /// Runs `f` inside the session's transaction with statement atomicity:
    /// on error the statement's writes are undone; with autocommit the
    /// transaction commits (durably) before the OK.
    pub(crate) fn in_txn<T>(
        &mut self,
        params: &[Value],
        subqueries: &[tiembed_sql::plan::SubqueryPlan],
        f: impl FnOnce(&StmtState) -> Result<T>,
    ) -> Result<T> {
        let txn = self.txn.take().unwrap_or_else(|| self.engine.new_txn());
        let savepoint = txn.savepoint();
        let catalog = self.engine.catalog();
        let info = self.info.clone();
        let st = StmtState::new(&self.engine, catalog, &info, txn, params, subqueries);
        let result = f(&st);
        let (mut txn, warnings) = st.into_txn();
        self.warnings
            .extend(warnings.into_iter().map(|(c, m)| ("Warning", c, m)));
        if result.is_err() {
            txn.rollback_to(savepoint);
        }
        if self.in_begin || !self.info.autocommit(&self.engine) {
            self.txn = Some(txn);
        } else if result.is_ok() && !txn.is_empty() {
            self.engine.commit(txn)?;
        }
        result
    }

    pub(crate) fn commit(&mut self) -> Result<()> {
        self.in_begin = false;
        if let Some(txn) = self.txn.take() {
            if !txn.is_empty() {
                self.engine.commit(txn)?;
            }
        }
        Ok(())
    }

    fn rollback(&mut self) {
        self.in_begin = false;
        self.txn = None;
    }

    /// DDL and some SET statements end the open transaction first.
    pub(crate) fn implicit_commit(&mut self) -> Result<()> {
        self.commit()
    }

    pub(crate) fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub(crate) fn warnings(&self) -> &[(&'static str, u16, String)] {
        &self.warnings
    }

    pub(crate) fn push_warning(&mut self, level: &'static str, code: u16, msg: String) {
        self.warnings.push((level, code, msg));
    }

    // ---- queries -----------------------------------------------------------

    fn query(&mut self, q: &ast::Query, params: &[Value]) -> Result<Output> {
        let catalog = self.engine.catalog();
        let ctx = BindContext {
            catalog: &catalog,
            current_db: self.info.db.as_deref(),
        };
        let plan = bind::bind_query(&ctx, q)?;
        self.run_query_plan(plan, params)
    }

    /// Runs a bound query and shapes its result for the client.
    fn run_query_plan(&mut self, plan: QueryPlan, params: &[Value]) -> Result<Output> {
        let QueryPlan {
            plan: mut p,
            subqueries,
            ..
        } = plan;
        let columns = p.columns().to_vec();
        let rows = self.in_txn(params, &subqueries, |st| {
            crate::embedding::fold_constant_embeddings(st, &mut p)?;
            p.walk_exprs_mut(&mut crate::eval::preparse_vector_literals);
            Exec::new(st).run(&p)
        })?;
        let rs = result_set(&columns, rows);
        self.info.found_rows = rs.rows.len() as u64;
        self.info.row_count = -1;
        Ok(Output::Rows(rs))
    }

    /// Evaluates a constant expression (SET values).
    fn eval_standalone(&mut self, e: &ast::Expr) -> Result<Value> {
        let catalog = self.engine.catalog();
        let ctx = BindContext {
            catalog: &catalog,
            current_db: self.info.db.as_deref(),
        };
        let (expr, subqueries) = bind::bind_expr_in(&ctx, e, &[])?;
        self.in_txn(&[], &subqueries, |st| Exec::new(st).eval(&expr, &[]))
    }

    // ---- SET ---------------------------------------------------------------

    fn set(&mut self, items: &[SetItem]) -> Result<Output> {
        for item in items {
            match item {
                SetItem::User { name, value } => {
                    let v = self.eval_standalone(value)?;
                    self.info.user_vars.insert(name.to_lowercase(), v);
                }
                SetItem::Names { charset, collation } => {
                    let cs = charset.to_ascii_lowercase();
                    if !matches!(
                        cs.as_str(),
                        "utf8mb4" | "utf8" | "utf8mb3" | "latin1" | "binary" | "ascii" | "default"
                    ) {
                        return Err(Error::UnknownCharset(charset.clone()));
                    }
                    let cs = if cs == "default" {
                        "utf8mb4".to_string()
                    } else {
                        cs
                    };
                    let coll = match collation {
                        Some(c) => {
                            if tiembed_types::Collation::from_name(c).is_none()
                                && !c.to_ascii_lowercase().starts_with(&cs)
                            {
                                return Err(Error::UnknownCollation(c.clone()));
                            }
                            c.to_ascii_lowercase()
                        }
                        None => default_collation(&cs).to_string(),
                    };
                    for v in [
                        "character_set_client",
                        "character_set_connection",
                        "character_set_results",
                    ] {
                        self.info.vars.insert(v.into(), cs.clone());
                    }
                    self.info.vars.insert("collation_connection".into(), coll);
                }
                SetItem::Transaction { scope, isolation } => {
                    if let Some(level) = isolation {
                        let var = sysvars::lookup("transaction_isolation").expect("exists");
                        let v = sysvars::normalize(var, &Value::Str(level.clone()))?;
                        if *scope == SetScope::Global {
                            self.engine.set_global(var, Some(v))?;
                        } else {
                            self.info.vars.insert(var.name.into(), v);
                        }
                    }
                }
                SetItem::System { name, scope, value } => self.set_system(name, *scope, value)?,
            }
        }
        Ok(ok(0))
    }

    fn set_system(&mut self, name: &str, scope: SetScope, value: &SetValue) -> Result<()> {
        let var =
            sysvars::lookup(name).ok_or_else(|| Error::UnknownSystemVariable(name.to_string()))?;
        if var.read_only {
            return Err(Error::ReadOnlyVariable(var.name.into()));
        }
        match (scope, var.scope) {
            (SetScope::Global, Scope::SessionOnly) => {
                return Err(Error::SessionOnlyVariable(var.name.into()))
            }
            (SetScope::Session | SetScope::Default, Scope::GlobalOnly) => {
                return Err(Error::GlobalOnlyVariable(var.name.into()))
            }
            _ => {}
        }
        let normalized = match value {
            SetValue::Default => None,
            SetValue::Expr(e) => Some(sysvars::normalize(var, &self.eval_standalone(e)?)?),
        };
        if scope == SetScope::Global {
            return self.engine.set_global(var, normalized);
        }
        match var.name {
            "autocommit" => {
                let on = normalized.as_deref().unwrap_or(var.default) == "ON";
                // Switching autocommit on commits the open transaction.
                if on && !self.in_begin {
                    self.commit()?;
                }
            }
            "div_precision_increment" => {
                let n = normalized
                    .as_deref()
                    .unwrap_or(var.default)
                    .parse::<u32>()
                    .unwrap_or(4)
                    .min(30);
                self.info.div_precision_increment = n;
            }
            "last_insert_id" | "insert_id" => {
                self.info.last_insert_id =
                    normalized.as_deref().unwrap_or("0").parse().unwrap_or(0);
            }
            _ => {}
        }
        match normalized {
            Some(v) => self.info.vars.insert(var.name.into(), v),
            None => self.info.vars.remove(var.name),
        };
        Ok(())
    }
}

fn default_collation(charset: &str) -> &'static str {
    match charset {
        "utf8" | "utf8mb3" => "utf8_bin",
        "latin1" => "latin1_bin",
        "binary" => "binary",
        "ascii" => "ascii_bin",
        _ => "utf8mb4_bin",
    }
}

pub(crate) fn ok(affected: u64) -> Output {
    Output::Ok {
        affected_rows: affected,
        last_insert_id: 0,
        info: String::new(),
    }
}

/// `SELECT TIDB_VERSION()`'s multi-line text.
pub(crate) fn tidb_version_text(version: &str) -> String {
    let release = version
        .split("-TiDB-")
        .nth(1)
        .unwrap_or("v8.5.3")
        .trim_end_matches("-serverless");
    format!(
        "Release Version: {release}\nEdition: Community\nGit Commit Hash: None\nGit Branch: None\nUTC Build Time: None\nGoVersion: None\nRace Enabled: false\nCheck Table Before Drop: false\nStore: tiembed ({} {})",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION")
    )
}

/// VERSION(), DATABASE(), USER(), ... for expressions.
pub(crate) fn info_value(st: &StmtState, func: Func) -> Result<Value> {
    let info = st.info;
    Ok(match func {
        Func::Version => Value::Str(st.engine.version().to_string()),
        Func::TidbVersion => Value::Str(tidb_version_text(st.engine.version())),
        Func::Database => info.db.clone().map(Value::Str).unwrap_or(Value::Null),
        Func::User => Value::Str(format!("{}@127.0.0.1", info.user)),
        Func::CurrentUser => Value::Str(format!("{}@%", info.user)),
        Func::ConnectionId => Value::UInt(info.connection_id as u64),
        Func::LastInsertId => Value::UInt(info.last_insert_id),
        Func::RowCount => Value::Int(info.row_count),
        Func::FoundRows => Value::UInt(info.found_rows),
        other => {
            return Err(Error::internal(format!(
                "{} is not an information function",
                other.name()
            )))
        }
    })
}

/// Column metadata for the client.
pub(crate) fn column_infos(columns: &[Column]) -> Vec<ColumnInfo> {
    columns
        .iter()
        .map(|c| ColumnInfo {
            name: c.name.clone(),
            org_name: c.org_name.clone(),
            table: c.qualifier.clone().unwrap_or_default(),
            org_table: c.org_table.clone(),
            db: c.db.clone(),
            data_type: c.data_type.clone(),
            nullable: c.nullable,
            primary_key: c.primary_key,
            auto_increment: c.auto_increment,
            decimals: match &c.data_type {
                tiembed_types::DataType::Decimal { scale, .. } => *scale,
                tiembed_types::DataType::DateTime { fsp }
                | tiembed_types::DataType::Timestamp { fsp } => *fsp,
                tiembed_types::DataType::Int { .. } | tiembed_types::DataType::Bool => 0,
                _ => 31,
            },
        })
        .collect()
}

/// Shapes executed rows for the client: output rounding per column type.
pub(crate) fn result_set(columns: &[Column], rows: Vec<Vec<Value>>) -> ResultSet {
    let rows = rows
        .into_iter()
        .map(|r| {
            r.into_iter()
                .zip(columns)
                .map(|(v, c)| crate::eval::finalize_for_output(v, &c.data_type))
                .collect()
        })
        .collect();
    ResultSet {
        columns: column_infos(columns),
        rows,
    }
}

fn scan_columns(t: &tiembed_types::TableDef) -> Vec<Column> {
    bind::scan_plan(Arc::new(t.clone()), &t.name, false)
        .columns()
        .to_vec()
}

/// Whether a statement can run on the async worker itself instead of inside
/// `block_in_place`: a single plain SELECT reads in-memory data and never
/// commits, and handing the worker to another thread costs about as much
/// as a point select. Anything that may block for long stays out:
/// embedding calls (`EMBED_TEXT`, `VEC_EMBED_*`), a vector column's first
/// load (`VEC_*`), `SLEEP`, and multi-statement text.
fn runs_inline(sql: &str) -> bool {
    let text = sql.trim_start();
    let starts_with_select = text
        .get(..7)
        .is_some_and(|w| w.eq_ignore_ascii_case("select ") || w.eq_ignore_ascii_case("select\n"));
    if !starts_with_select || text.trim_end().trim_end_matches(';').contains(';') {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    !["embed", "vec_", "sleep"].iter().any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::runs_inline;

    #[test]
    fn only_plain_selects_run_inline() {
        assert!(runs_inline("SELECT id, k, v FROM kv WHERE id = 42"));
        assert!(runs_inline("  select 1;"));
        assert!(!runs_inline("SELECT 1; SELECT 2"));
        assert!(!runs_inline("INSERT INTO t VALUES (1)"));
        assert!(!runs_inline("SELECT EMBED_TEXT('m', 'x')"));
        assert!(!runs_inline(
            "SELECT id FROM t ORDER BY VEC_COSINE_DISTANCE(v, '[1]') LIMIT 3"
        ));
        assert!(!runs_inline("SELECT SLEEP(1)"));
        assert!(!runs_inline("SELECTED"));
    }
}
