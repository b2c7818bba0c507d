//! SHOW statements, DESCRIBE, EXPLAIN and the INFORMATION_SCHEMA tables,
//! all generated from the catalog in the shapes MySQL/TiDB clients parse.

use crate::api::{Output, ResultSet};
use crate::exec::{Exec, Row};
use crate::session::{result_set, Session};
use crate::sysvars;
use sqlparser::ast;
use tiembed_sql::bind::{self, BindContext};
use tiembed_sql::parse::{Show, ShowFilter, ShowKind};
use tiembed_sql::plan::{Access, Column, Plan, SystemTable};
use tiembed_sql::{CmpOp, Expr};
use tiembed_types::{
    Catalog, Collation, DataType, DefaultValue, Error, Generated, IndexKind, IntWidth, Result,
    TableDef, TextKind, Value,
};

fn text_cols(names: &[&str]) -> Vec<Column> {
    names
        .iter()
        .map(|n| Column::computed(*n, DataType::VarChar(64)))
        .collect()
}

fn s(v: impl Into<String>) -> Value {
    Value::Str(v.into())
}

fn opt(v: Option<String>) -> Value {
    v.map(Value::Str).unwrap_or(Value::Null)
}

/// Applies SHOW's LIKE (first column) or WHERE filter.
fn filtered(
    sess: &mut Session,
    columns: Vec<Column>,
    rows: Vec<Row>,
    filter: Option<&ShowFilter>,
) -> Result<Output> {
    let rows = match filter {
        None => rows,
        Some(ShowFilter::Like(pattern)) => {
            let like = Expr::Like {
                expr: Box::new(Expr::Column(0)),
                pattern: Box::new(Expr::Literal(s(pattern.clone()))),
                escape: '\\',
                negated: false,
                collation: Collation::Utf8mb4GeneralCi,
            };
            keep(sess, rows, &like, &[])?
        }
        Some(ShowFilter::Where(w)) => {
            let catalog = sess.engine().catalog();
            let db = sess.current_database().map(str::to_string);
            let ctx = BindContext {
                catalog: &catalog,
                current_db: db.as_deref(),
            };
            let (pred, subqueries) = bind::bind_expr_in(&ctx, w, &columns)?;
            keep(sess, rows, &pred, &subqueries)?
        }
    };
    Ok(Output::Rows(result_set(&columns, rows)))
}

fn keep(
    sess: &mut Session,
    rows: Vec<Row>,
    pred: &Expr,
    subqueries: &[tiembed_sql::plan::SubqueryPlan],
) -> Result<Vec<Row>> {
    sess.in_txn(&[], subqueries, |st| {
        let exec = Exec::new(st);
        let mut out = Vec::new();
        for r in rows {
            if exec.predicate(pred, &r)? {
                out.push(r);
            }
        }
        Ok(out)
    })
}

fn current_db(sess: &Session, from: Option<&ast::ObjectName>) -> Result<String> {
    match from {
        Some(n) => Ok(n.to_string().trim_matches('`').to_string()),
        None => sess
            .current_database()
            .map(str::to_string)
            .ok_or(Error::NoDatabaseSelected),
    }
}

fn find_table(
    catalog: &Catalog,
    sess: &Session,
    name: &ast::ObjectName,
    from_db: Option<&str>,
) -> Result<TableDef> {
    let db = from_db
        .map(str::to_string)
        .or_else(|| sess.current_database().map(str::to_string));
    let (d, t) = bind::table_name(name, db.as_deref())?;
    catalog
        .table(&d, &t)
        .cloned()
        .ok_or(Error::NoSuchTable { db: d, table: t })
}

/// Runs a SHOW statement.
pub fn show(sess: &mut Session, show: &Show) -> Result<Output> {
    let catalog = sess.engine().catalog();
    let filter = show.filter.as_ref();
    match show.kind {
        ShowKind::Databases => {
            let mut names: Vec<String> =
                catalog.databases.values().map(|d| d.name.clone()).collect();
            names.push("INFORMATION_SCHEMA".into());
            names.sort_by_key(|n| n.to_lowercase());
            filtered(
                sess,
                text_cols(&["Database"]),
                names.into_iter().map(|n| vec![s(n)]).collect(),
                filter,
            )
        }
        ShowKind::Tables => {
            let db = current_db(sess, show.from.as_ref())?;
            let d = catalog
                .database(&db)
                .ok_or_else(|| Error::UnknownDatabase(db.clone()))?;
            let col = format!("Tables_in_{}", d.name);
            let mut cols = vec![col.as_str()];
            if show.full {
                cols.push("Table_type");
            }
            let rows = d
                .tables
                .values()
                .map(|t| {
                    let mut r = vec![s(t.name.clone())];
                    if show.full {
                        r.push(s("BASE TABLE"));
                    }
                    r
                })
                .collect();
            filtered(sess, text_cols(&cols), rows, filter)
        }
        ShowKind::Columns => {
            let t = find_table(
                &catalog,
                sess,
                show.from.as_ref().ok_or(Error::NoDatabaseSelected)?,
                show.from_db.as_deref(),
            )?;
            let (cols, rows) = describe_rows(&t, show.full);
            filtered(sess, cols, rows, filter)
        }
        ShowKind::Index => {
            let t = find_table(
                &catalog,
                sess,
                show.from.as_ref().ok_or(Error::NoDatabaseSelected)?,
                show.from_db.as_deref(),
            )?;
            let cols = text_cols(&[
                "Table",
                "Non_unique",
                "Key_name",
                "Seq_in_index",
                "Column_name",
                "Collation",
                "Cardinality",
                "Sub_part",
                "Packed",
                "Null",
                "Index_type",
                "Comment",
                "Index_comment",
                "Visible",
                "Expression",
                "Clustered",
            ]);
            let mut rows = Vec::new();
            for idx in &t.indexes {
                for (i, c) in idx.columns.iter().enumerate() {
                    let nullable = t.column(c).is_some_and(|c| c.nullable);
                    let (itype, expr) = match &idx.kind {
                        IndexKind::Vector { metric, .. } => {
                            ("HNSW", Some(format!("{}(`{c}`)", metric.function_name())))
                        }
                        IndexKind::FullText { .. } => ("FULLTEXT", None),
                        _ => ("BTREE", None),
                    };
                    rows.push(vec![
                        s(t.name.clone()),
                        Value::Int((!idx.is_unique()) as i64),
                        s(idx.name.clone()),
                        Value::Int(i as i64 + 1),
                        s(c.clone()),
                        s("A"),
                        Value::Int(0),
                        Value::Null,
                        Value::Null,
                        s(if nullable { "YES" } else { "" }),
                        s(itype),
                        s(""),
                        s(idx.comment.clone().unwrap_or_default()),
                        s("YES"),
                        opt(expr),
                        s(if idx.kind == IndexKind::Primary {
                            "YES"
                        } else {
                            "NO"
                        }),
                    ]);
                }
            }
            filtered(sess, cols, rows, filter)
        }
        ShowKind::CreateTable => {
            let t = find_table(
                &catalog,
                sess,
                show.from.as_ref().ok_or(Error::NoDatabaseSelected)?,
                None,
            )?;
            let rows = vec![vec![s(t.name.clone()), s(create_table_sql(&t))]];
            filtered(sess, text_cols(&["Table", "Create Table"]), rows, None)
        }
        ShowKind::CreateDatabase => {
            let name = show
                .from
                .as_ref()
                .map(|n| n.to_string().trim_matches('`').to_string())
                .unwrap_or_default();
            let d = catalog
                .database(&name)
                .ok_or_else(|| Error::UnknownDatabase(name.clone()))?;
            let sql = format!("CREATE DATABASE `{}` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin */", d.name);
            filtered(
                sess,
                text_cols(&["Database", "Create Database"]),
                vec![vec![s(d.name.clone()), s(sql)]],
                None,
            )
        }
        ShowKind::Variables => {
            let engine = sess.engine().clone();
            let mut rows = Vec::new();
            for v in sysvars::VARS {
                let stored = if show.global || v.scope == sysvars::Scope::GlobalOnly {
                    if v.scope == sysvars::Scope::SessionOnly {
                        continue;
                    }
                    engine.global_value(v)
                } else {
                    sess.info
                        .session_value(v)
                        .unwrap_or_else(|| engine.global_value(v))
                };
                rows.push(vec![s(v.name), s(sysvars::show(v, &stored))]);
            }
            rows.sort_by(|a, b| a[0].to_text().cmp(&b[0].to_text()));
            filtered(sess, text_cols(&["Variable_name", "Value"]), rows, filter)
        }
        ShowKind::Status => {
            let conns = sess.engine().connections.lock().len();
            let (ssl_version, ssl_cipher) = sess.info.tls.clone().unwrap_or_default();
            let rows = vec![
                vec![s("Threads_connected"), s(conns.to_string())],
                vec![s("Uptime"), s("1")],
                vec![s("Ssl_cipher"), s(ssl_cipher)],
                vec![s("Ssl_version"), s(ssl_version)],
            ];
            filtered(sess, text_cols(&["Variable_name", "Value"]), rows, filter)
        }
        ShowKind::Warnings | ShowKind::Errors => {
            let rows = sess
                .warnings()
                .iter()
                .filter(|(level, _, _)| show.kind == ShowKind::Warnings || *level == "Error")
                .map(|(level, code, msg)| {
                    let code = if *code == 0 {
                        crate::error_code_hint(msg)
                    } else {
                        *code
                    };
                    vec![s(*level), Value::Int(code as i64), s(msg.clone())]
                })
                .collect();
            let mut cols = text_cols(&["Level", "Code", "Message"]);
            cols[1].data_type = DataType::Int {
                width: IntWidth::Big,
                unsigned: true,
            };
            filtered(sess, cols, rows, None)
        }
        ShowKind::Collation => {
            let rows = COLLATIONS
                .iter()
                .map(|(name, cs, id, def)| {
                    vec![
                        s(*name),
                        s(*cs),
                        Value::Int(*id),
                        s(if *def { "Yes" } else { "" }),
                        s("Yes"),
                        Value::Int(1),
                        s("PAD SPACE"),
                    ]
                })
                .collect();
            filtered(
                sess,
                text_cols(&[
                    "Collation",
                    "Charset",
                    "Id",
                    "Default",
                    "Compiled",
                    "Sortlen",
                    "Pad_attribute",
                ]),
                rows,
                filter,
            )
        }
        ShowKind::CharacterSet => {
            let rows = CHARSETS
                .iter()
                .map(|(cs, desc, coll, len)| vec![s(*cs), s(*desc), s(*coll), Value::Int(*len)])
                .collect();
            filtered(
                sess,
                text_cols(&["Charset", "Description", "Default collation", "Maxlen"]),
                rows,
                filter,
            )
        }
        ShowKind::Engines => {
            let rows = vec![vec![
                s("InnoDB"),
                s("DEFAULT"),
                s("Supports transactions, row-level locking, and foreign keys"),
                s("YES"),
                s("YES"),
                s("YES"),
            ]];
            filtered(
                sess,
                text_cols(&[
                    "Engine",
                    "Support",
                    "Comment",
                    "Transactions",
                    "XA",
                    "Savepoints",
                ]),
                rows,
                filter,
            )
        }
        ShowKind::ProcessList => {
            let conns: Vec<_> = sess.engine().connections.lock().values().cloned().collect();
            let rows = conns
                .into_iter()
                .map(|c| {
                    vec![
                        Value::UInt(c.id as u64),
                        s(c.user),
                        s("127.0.0.1"),
                        opt(c.db),
                        s("Query"),
                        Value::Int(0),
                        s(""),
                        Value::Null,
                    ]
                })
                .collect();
            filtered(
                sess,
                text_cols(&[
                    "Id", "User", "Host", "db", "Command", "Time", "State", "Info",
                ]),
                rows,
                filter,
            )
        }
        ShowKind::Grants => {
            let user = sess.info.user.clone();
            let rows = vec![vec![s(format!(
                "GRANT ALL PRIVILEGES ON *.* TO '{user}'@'%' WITH GRANT OPTION"
            ))]];
            filtered(
                sess,
                text_cols(&[&format!("Grants for {user}@%")]),
                rows,
                None,
            )
        }
        ShowKind::TableStatus => {
            let db = current_db(sess, show.from.as_ref())?;
            let d = catalog
                .database(&db)
                .ok_or_else(|| Error::UnknownDatabase(db.clone()))?;
            let rows = d
                .tables
                .values()
                .map(|t| {
                    vec![
                        s(t.name.clone()),
                        s("InnoDB"),
                        Value::Int(10),
                        s("Compact"),
                        Value::Int(0),
                        s(t.collation.name()),
                        s(t.comment.clone().unwrap_or_default()),
                    ]
                })
                .collect();
            filtered(
                sess,
                text_cols(&[
                    "Name",
                    "Engine",
                    "Version",
                    "Row_format",
                    "Rows",
                    "Collation",
                    "Comment",
                ]),
                rows,
                filter,
            )
        }
        ShowKind::Plugins | ShowKind::Privileges => {
            filtered(sess, text_cols(&["Name", "Status"]), Vec::new(), None)
        }
    }
}

const COLLATIONS: &[(&str, &str, i64, bool)] = &[
    ("utf8mb4_bin", "utf8mb4", 46, true),
    ("utf8mb4_general_ci", "utf8mb4", 45, false),
    ("utf8mb4_unicode_ci", "utf8mb4", 224, false),
    ("utf8mb4_0900_ai_ci", "utf8mb4", 255, false),
    ("utf8mb4_0900_bin", "utf8mb4", 309, false),
    ("utf8_bin", "utf8", 83, true),
    ("utf8_general_ci", "utf8", 33, false),
    ("utf8_unicode_ci", "utf8", 192, false),
    ("ascii_bin", "ascii", 65, true),
    ("latin1_bin", "latin1", 47, true),
    ("binary", "binary", 63, true),
];

const CHARSETS: &[(&str, &str, &str, i64)] = &[
    ("ascii", "US ASCII", "ascii_bin", 1),
    ("binary", "binary", "binary", 1),
    ("latin1", "Latin1", "latin1_bin", 1),
    ("utf8", "UTF-8 Unicode", "utf8_bin", 3),
    ("utf8mb4", "UTF-8 Unicode", "utf8mb4_bin", 4),
];

fn key_flag(t: &TableDef, col: &str) -> &'static str {
    for idx in &t.indexes {
        if idx
            .columns
            .first()
            .is_some_and(|c| c.eq_ignore_ascii_case(col))
        {
            return match idx.kind {
                IndexKind::Primary => "PRI",
                IndexKind::Unique if idx.columns.len() == 1 => "UNI",
                IndexKind::Vector { .. } | IndexKind::FullText { .. } => continue,
                _ => "MUL",
            };
        }
    }
    ""
}

fn default_text(c: &tiembed_types::ColumnDef) -> Option<String> {
    match &c.default {
        Some(DefaultValue::CurrentTimestamp) => Some("CURRENT_TIMESTAMP".into()),
        Some(DefaultValue::Literal(l)) if l == "NULL" => None,
        Some(DefaultValue::Literal(l)) => Some(l.trim_matches('\'').replace("''", "'")),
        None => None,
    }
}

fn extra(c: &tiembed_types::ColumnDef) -> String {
    let mut parts = Vec::new();
    if c.auto_increment {
        parts.push("auto_increment".to_string());
    }
    if c.generated.is_some() {
        parts.push("STORED GENERATED".into());
    }
    if matches!(c.default, Some(DefaultValue::CurrentTimestamp)) {
        parts.push("DEFAULT_GENERATED".into());
    }
    if c.on_update_now {
        parts.push("on update CURRENT_TIMESTAMP".into());
    }
    parts.join(" ")
}

/// DESCRIBE / SHOW [FULL] COLUMNS.
fn describe_rows(t: &TableDef, full: bool) -> (Vec<Column>, Vec<Row>) {
    let names: &[&str] = if full {
        &[
            "Field",
            "Type",
            "Collation",
            "Null",
            "Key",
            "Default",
            "Extra",
            "Privileges",
            "Comment",
        ]
    } else {
        &["Field", "Type", "Null", "Key", "Default", "Extra"]
    };
    let rows = t
        .columns
        .iter()
        .map(|c| {
            let mut r = vec![s(c.name.clone()), s(c.data_type.to_string())];
            if full {
                r.push(if c.data_type.is_string() {
                    s(c.collation.name())
                } else {
                    Value::Null
                });
            }
            r.push(s(if c.nullable { "YES" } else { "NO" }));
            r.push(s(key_flag(t, &c.name)));
            r.push(opt(default_text(c)));
            r.push(s(extra(c)));
            if full {
                r.push(s("select,insert,update,references"));
                r.push(s(c.comment.clone().unwrap_or_default()));
            }
            r
        })
        .collect();
    (text_cols(names), rows)
}

/// DESCRIBE t / EXPLAIN t.
pub fn describe(sess: &mut Session, name: &ast::ObjectName) -> Result<Output> {
    let catalog = sess.engine().catalog();
    let t = find_table(&catalog, sess, name, None)?;
    let (cols, rows) = describe_rows(&t, false);
    Ok(Output::Rows(result_set(&cols, rows)))
}

fn quote_str(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "''"))
}

/// The generation expression as SHOW CREATE TABLE and COLUMNS show it.
fn generation_sql(g: &Generated) -> String {
    match g {
        Generated::Embed {
            model,
            source,
            options,
        } => match options {
            Some(o) => format!(
                "embed_text({}, `{source}`, {})",
                quote_str(model),
                quote_str(o)
            ),
            None => format!("embed_text({}, `{source}`)", quote_str(model)),
        },
        Generated::Expr { sql, .. } => sql.clone(),
    }
}

/// SHOW CREATE TABLE in TiDB's format.
pub fn create_table_sql(t: &TableDef) -> String {
    let mut lines = Vec::new();
    for c in &t.columns {
        let mut l = format!("  `{}` {}", c.name, c.data_type);
        if c.data_type.is_string() && c.collation != t.collation {
            l.push_str(&format!(" COLLATE {}", c.collation.name()));
        }
        if let Some(g) = &c.generated {
            l.push_str(&format!(
                " GENERATED ALWAYS AS ({}) STORED",
                generation_sql(g)
            ));
        }
        if !c.nullable {
            l.push_str(" NOT NULL");
        }
        match &c.default {
            Some(DefaultValue::CurrentTimestamp) => l.push_str(" DEFAULT CURRENT_TIMESTAMP"),
            Some(DefaultValue::Literal(v)) => l.push_str(&format!(
                " DEFAULT {}",
                if v.starts_with('\'') || v == "NULL" {
                    v.clone()
                } else {
                    format!("'{v}'")
                }
            )),
            None if c.nullable && c.generated.is_none() => l.push_str(" DEFAULT NULL"),
            None => {}
        }
        if c.auto_increment {
            l.push_str(" AUTO_INCREMENT");
        }
        if c.on_update_now {
            l.push_str(" ON UPDATE CURRENT_TIMESTAMP");
        }
        if let Some(cm) = &c.comment {
            l.push_str(&format!(" COMMENT {}", quote_str(cm)));
        }
        lines.push(l);
    }
    let cols = |v: &[String]| {
        v.iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(",")
    };
    for idx in &t.indexes {
        let mut l = match &idx.kind {
            IndexKind::Primary => format!(
                "  PRIMARY KEY ({}) /*T![clustered_index] CLUSTERED */",
                cols(&idx.columns)
            ),
            IndexKind::Unique => format!("  UNIQUE KEY `{}` ({})", idx.name, cols(&idx.columns)),
            IndexKind::Plain => format!("  KEY `{}` ({})", idx.name, cols(&idx.columns)),
            IndexKind::Vector { metric, .. } => {
                format!(
                    "  VECTOR INDEX `{}`(({}(`{}`)))",
                    idx.name,
                    metric.function_name(),
                    idx.columns[0]
                )
            }
            IndexKind::FullText { parser } => {
                let mut l = format!("  FULLTEXT INDEX `{}`({})", idx.name, cols(&idx.columns));
                if let Some(p) = parser {
                    l.push_str(&format!(" WITH PARSER {p}"));
                }
                l
            }
        };
        if let Some(cm) = &idx.comment {
            l.push_str(&format!(" COMMENT {}", quote_str(cm)));
        }
        lines.push(l);
    }
    for fk in &t.foreign_keys {
        lines.push(format!(
            "  CONSTRAINT `{}` FOREIGN KEY ({}) REFERENCES `{}` ({}){}{}",
            fk.name,
            cols(&fk.columns),
            fk.ref_table,
            cols(&fk.ref_columns),
            fk.on_delete
                .as_ref()
                .map(|a| format!(" ON DELETE {a}"))
                .unwrap_or_default(),
            fk.on_update
                .as_ref()
                .map(|a| format!(" ON UPDATE {a}"))
                .unwrap_or_default(),
        ));
    }
    let mut sql = format!(
        "CREATE TABLE `{}` (\n{}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={}",
        t.name,
        lines.join(",\n"),
        t.collation.name()
    );
    if let Some(c) = &t.comment {
        sql.push_str(&format!(" COMMENT={}", quote_str(c)));
    }
    sql
}

// ---- EXPLAIN ----------------------------------------------------------------------

/// EXPLAIN <statement>: the plan as TiDB-style rows.
pub fn explain(sess: &mut Session, stmt: &ast::Statement) -> Result<Output> {
    let catalog = sess.engine().catalog();
    let db = sess.current_database().map(str::to_string);
    let ctx = BindContext {
        catalog: &catalog,
        current_db: db.as_deref(),
    };
    let plan = match stmt {
        ast::Statement::Query(q) => bind::bind_query(&ctx, q)?.plan,
        ast::Statement::Update(u) => bind::bind_update(&ctx, u)?.input,
        ast::Statement::Delete(d) => bind::bind_delete(&ctx, d)?.input,
        other => {
            return Err(Error::NotSupported(format!(
                "EXPLAIN {}",
                other.to_string().split_whitespace().next().unwrap_or("")
            )))
        }
    };
    let (mut ann_notes, mut ann_warnings) = (Vec::new(), Vec::new());
    crate::topk::explain_ann(&plan, &mut ann_notes, &mut ann_warnings);
    for w in ann_warnings {
        sess.push_warning("Warning", 1105, w);
    }
    let mut rows = Vec::new();
    let mut counter = 0;
    explain_node(&plan, 0, &mut rows, &mut counter, &ann_notes);
    let cols = text_cols(&["id", "estRows", "task", "access object", "operator info"]);
    Ok(Output::Rows(ResultSet {
        columns: crate::session::column_infos(&cols),
        rows,
    }))
}

/// `ann_notes`: the `annIndex:...` note of each table scan a vector index serves.
fn explain_node(
    p: &Plan,
    depth: usize,
    rows: &mut Vec<Row>,
    n: &mut usize,
    ann_notes: &[(u64, String)],
) {
    *n += 1;
    let prefix = if depth == 0 {
        String::new()
    } else {
        format!("{}└─", "  ".repeat(depth - 1))
    };
    let (name, task, object, info) = match p {
        Plan::Dual => ("TableDual", "root", String::new(), "rows:1".to_string()),
        Plan::Values { rows, .. } => (
            "TableDual",
            "root",
            String::new(),
            format!("rows:{}", rows.len()),
        ),
        Plan::Scan { table, access, .. } => match access {
            Access::Full | Access::PrimaryKeyRange { .. } => {
                let mut info = "keep order:false".to_string();
                if let Some((_, note)) = ann_notes.iter().find(|(id, _)| *id == table.id) {
                    info = format!("{info}, {note}");
                }
                let name = match access {
                    Access::Full => "TableFullScan",
                    _ => "TableRangeScan",
                };
                (name, "cop[tikv]", format!("table:{}", table.name), info)
            }
            Access::PrimaryKey(k) if k.len() == 1 => (
                "Point_Get",
                "root",
                format!("table:{}", table.name),
                "handle".into(),
            ),
            Access::PrimaryKey(_) => (
                "Batch_Point_Get",
                "root",
                format!("table:{}", table.name),
                "handle".into(),
            ),
            Access::Index { index, .. } | Access::IndexRange { index, .. } => (
                "IndexLookUp",
                "root",
                format!("table:{}, index:{index}", table.name),
                String::new(),
            ),
        },
        Plan::System { table, .. } => (
            "MemTableScan",
            "root",
            format!("table:{table:?}").to_uppercase(),
            String::new(),
        ),
        Plan::Filter { .. } => ("Selection", "root", String::new(), String::new()),
        Plan::Project { .. } => ("Projection", "root", String::new(), String::new()),
        Plan::Aggregate { .. } => ("HashAgg", "root", String::new(), String::new()),
        Plan::Window { .. } => ("Window", "root", String::new(), String::new()),
        Plan::Sort { .. } => ("Sort", "root", String::new(), String::new()),
        Plan::Limit {
            input,
            limit,
            offset,
        } => {
            let name = if matches!(input.as_ref(), Plan::Sort { .. }) {
                "TopN"
            } else {
                "Limit"
            };
            (
                name,
                "root",
                String::new(),
                format!(
                    "offset:{offset}, count:{}",
                    limit.map(|l| l.to_string()).unwrap_or_default()
                ),
            )
        }
        Plan::Distinct { .. } => ("HashAgg", "root", String::new(), "distinct".into()),
        Plan::Join { kind, on, .. } => (
            "HashJoin",
            "root",
            String::new(),
            format!(
                "{:?} join{}",
                kind,
                if on.is_some() { ", with condition" } else { "" }
            )
            .to_lowercase(),
        ),
        Plan::Union { .. } => ("Union", "root", String::new(), String::new()),
        Plan::Rename { input, .. } => return explain_node(input, depth, rows, n, ann_notes),
    };
    rows.push(vec![
        s(format!("{prefix}{name}_{n}")),
        s("0.00"),
        s(task),
        s(object),
        s(info),
    ]);
    let inputs: Vec<&Plan> = match p {
        Plan::Filter { input, .. }
        | Plan::Project { input, .. }
        | Plan::Aggregate { input, .. }
        | Plan::Window { input, .. }
        | Plan::Limit { input, .. }
        | Plan::Distinct { input, .. } => vec![input.as_ref()],
        Plan::Sort { input, .. } => vec![input.as_ref()],
        Plan::Join { left, right, .. } => vec![left.as_ref(), right.as_ref()],
        Plan::Union { inputs, .. } => inputs.iter().collect(),
        _ => vec![],
    };
    // TopN absorbs its Sort, as TiDB prints it.
    for i in inputs {
        match (p, i) {
            (Plan::Limit { .. }, Plan::Sort { input, .. }) => {
                explain_node(input, depth + 1, rows, n, ann_notes)
            }
            _ => explain_node(i, depth + 1, rows, n, ann_notes),
        }
    }
}

// ---- INFORMATION_SCHEMA ----------------------------------------------------------------

fn tables_of(catalog: &Catalog) -> impl Iterator<Item = &TableDef> {
    catalog.databases.values().flat_map(|d| d.tables.values())
}

fn numeric_precision(t: &DataType) -> (Value, Value) {
    match t {
        DataType::Int { width, .. } => (
            Value::UInt(match width {
                IntWidth::Tiny => 3,
                IntWidth::Small => 5,
                IntWidth::Medium => 7,
                IntWidth::Int => 10,
                IntWidth::Big => 19,
            }),
            Value::UInt(0),
        ),
        DataType::Bool => (Value::UInt(3), Value::UInt(0)),
        DataType::Decimal { precision, scale } => {
            (Value::UInt(*precision as u64), Value::UInt(*scale as u64))
        }
        DataType::Float => (Value::UInt(12), Value::Null),
        DataType::Double => (Value::UInt(22), Value::Null),
        _ => (Value::Null, Value::Null),
    }
}

fn data_type_name(t: &DataType) -> String {
    let full = t.to_string();
    full.split(['(', ' ']).next().unwrap_or("").to_string()
}

/// Rows of an information_schema table, in its column order.
pub fn system_rows(exec: &Exec, table: SystemTable) -> Result<Vec<Row>> {
    let catalog = exec.st.catalog.clone();
    let mut rows = Vec::new();
    match table {
        SystemTable::Schemata => {
            rows.push(vec![
                s("def"),
                s("INFORMATION_SCHEMA"),
                s("utf8mb4"),
                s("utf8mb4_bin"),
                Value::Null,
                Value::Null,
            ]);
            for d in catalog.databases.values() {
                rows.push(vec![
                    s("def"),
                    s(d.name.clone()),
                    s("utf8mb4"),
                    s("utf8mb4_bin"),
                    Value::Null,
                    Value::Null,
                ]);
            }
        }
        SystemTable::Tables => {
            for t in tables_of(&catalog) {
                rows.push(vec![
                    s("def"),
                    s(t.db.clone()),
                    s(t.name.clone()),
                    s("BASE TABLE"),
                    s("InnoDB"),
                    Value::Int(10),
                    s("Compact"),
                    Value::UInt(0),
                    Value::UInt(0),
                    Value::UInt(0),
                    Value::UInt(0),
                    Value::UInt(0),
                    Value::UInt(0),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    s(t.collation.name()),
                    Value::Null,
                    s(""),
                    s(t.comment.clone().unwrap_or_default()),
                    Value::Int(t.id as i64),
                ]);
            }
        }
        SystemTable::Columns => {
            for t in tables_of(&catalog) {
                for (i, c) in t.columns.iter().enumerate() {
                    let (np, ns) = numeric_precision(&c.data_type);
                    let max_len = c
                        .data_type
                        .max_len()
                        .filter(|_| c.data_type.is_string() || c.data_type.is_binary());
                    rows.push(vec![
                        s("def"),
                        s(t.db.clone()),
                        s(t.name.clone()),
                        s(c.name.clone()),
                        Value::UInt(i as u64 + 1),
                        opt(default_text(c)),
                        s(if c.nullable { "YES" } else { "NO" }),
                        s(data_type_name(&c.data_type)),
                        max_len
                            .map(|l| Value::UInt(l as u64))
                            .unwrap_or(Value::Null),
                        max_len
                            .map(|l| {
                                Value::UInt(l as u64 * if c.data_type.is_string() { 4 } else { 1 })
                            })
                            .unwrap_or(Value::Null),
                        np,
                        ns,
                        match c.data_type {
                            DataType::DateTime { fsp } | DataType::Timestamp { fsp } => {
                                Value::UInt(fsp as u64)
                            }
                            _ => Value::Null,
                        },
                        if c.data_type.is_string() {
                            s("utf8mb4")
                        } else {
                            Value::Null
                        },
                        if c.data_type.is_string() {
                            s(c.collation.name())
                        } else {
                            Value::Null
                        },
                        s(c.data_type.to_string()),
                        s(key_flag(t, &c.name)),
                        s(extra(c)),
                        s("select,insert,update,references"),
                        s(c.comment.clone().unwrap_or_default()),
                        s(c.generated.as_ref().map(generation_sql).unwrap_or_default()),
                    ]);
                }
            }
        }
        SystemTable::Statistics => {
            for t in tables_of(&catalog) {
                for idx in &t.indexes {
                    for (i, c) in idx.columns.iter().enumerate() {
                        let (itype, expr) = match &idx.kind {
                            IndexKind::Vector { metric, .. } => {
                                ("HNSW", Some(format!("{}(`{c}`)", metric.function_name())))
                            }
                            IndexKind::FullText { .. } => ("FULLTEXT", None),
                            _ => ("BTREE", None),
                        };
                        rows.push(vec![
                            s("def"),
                            s(t.db.clone()),
                            s(t.name.clone()),
                            Value::Int((!idx.is_unique()) as i64),
                            s(t.db.clone()),
                            s(idx.name.clone()),
                            Value::UInt(i as u64 + 1),
                            s(c.clone()),
                            s("A"),
                            Value::Int(0),
                            Value::Null,
                            Value::Null,
                            s(if t.column(c).is_some_and(|c| c.nullable) {
                                "YES"
                            } else {
                                ""
                            }),
                            s(itype),
                            s(""),
                            s(idx.comment.clone().unwrap_or_default()),
                            s("YES"),
                            opt(expr),
                        ]);
                    }
                }
            }
        }
        SystemTable::KeyColumnUsage => {
            for t in tables_of(&catalog) {
                for idx in t.indexes.iter().filter(|i| i.is_unique()) {
                    for (i, c) in idx.columns.iter().enumerate() {
                        rows.push(vec![
                            s("def"),
                            s(t.db.clone()),
                            s(idx.name.clone()),
                            s("def"),
                            s(t.db.clone()),
                            s(t.name.clone()),
                            s(c.clone()),
                            Value::UInt(i as u64 + 1),
                            Value::Null,
                            Value::Null,
                            Value::Null,
                            Value::Null,
                        ]);
                    }
                }
                for fk in &t.foreign_keys {
                    for (i, c) in fk.columns.iter().enumerate() {
                        rows.push(vec![
                            s("def"),
                            s(t.db.clone()),
                            s(fk.name.clone()),
                            s("def"),
                            s(t.db.clone()),
                            s(t.name.clone()),
                            s(c.clone()),
                            Value::UInt(i as u64 + 1),
                            Value::UInt(i as u64 + 1),
                            s(fk.ref_db.clone().unwrap_or_else(|| t.db.clone())),
                            s(fk.ref_table.clone()),
                            opt(fk.ref_columns.get(i).cloned()),
                        ]);
                    }
                }
            }
        }
        SystemTable::TableConstraints => {
            for t in tables_of(&catalog) {
                for idx in t.indexes.iter().filter(|i| i.is_unique()) {
                    let kind = if idx.kind == IndexKind::Primary {
                        "PRIMARY KEY"
                    } else {
                        "UNIQUE"
                    };
                    rows.push(vec![
                        s("def"),
                        s(t.db.clone()),
                        s(idx.name.clone()),
                        s(t.db.clone()),
                        s(t.name.clone()),
                        s(kind),
                    ]);
                }
                for fk in &t.foreign_keys {
                    rows.push(vec![
                        s("def"),
                        s(t.db.clone()),
                        s(fk.name.clone()),
                        s(t.db.clone()),
                        s(t.name.clone()),
                        s("FOREIGN KEY"),
                    ]);
                }
            }
        }
        SystemTable::TiflashReplica => {
            for t in tables_of(&catalog).filter(|t| t.tiflash_replica > 0) {
                rows.push(vec![
                    s(t.db.clone()),
                    s(t.name.clone()),
                    Value::Int(t.id as i64),
                    Value::UInt(t.tiflash_replica as u64),
                    s(""),
                    Value::Int(1),
                    Value::Double(1.0),
                ]);
            }
        }
        SystemTable::TiflashIndexes => {
            for t in tables_of(&catalog) {
                for idx in &t.indexes {
                    let kind = match idx.kind {
                        IndexKind::Vector { .. } => "Vector",
                        IndexKind::FullText { .. } => "FullText",
                        _ => continue,
                    };
                    let col_id = t
                        .column_index(&idx.columns[0])
                        .map(|i| i as i64 + 1)
                        .unwrap_or(0);
                    // A vector index knows how far its graph has got (a
                    // build, or a load after restart, runs behind); counting
                    // a large table's rows would take seconds.
                    let progress = match idx.kind {
                        IndexKind::Vector { .. } => exec.st.engine.ann.progress((t.id, idx.id)),
                        _ => None,
                    };
                    let (indexed, pending) = match progress {
                        Some(p) => p,
                        None if kind == "Vector" => (0, count_rows(exec, t)?),
                        None => (count_rows(exec, t)?, 0),
                    };
                    rows.push(vec![
                        s(t.db.clone()),
                        s(t.name.clone()),
                        Value::Int(t.id as i64),
                        s(idx.columns[0].clone()),
                        s(idx.name.clone()),
                        Value::Int(col_id),
                        Value::Int(idx.id as i64),
                        s(kind),
                        Value::UInt(indexed),
                        Value::UInt(pending),
                        Value::UInt(0),
                        Value::UInt(0),
                        Value::Null,
                        s("tiembed"),
                    ]);
                }
            }
        }
        SystemTable::Engines => {
            rows.push(vec![
                s("InnoDB"),
                s("DEFAULT"),
                s("Supports transactions, row-level locking, and foreign keys"),
                s("YES"),
                s("YES"),
                s("YES"),
            ]);
        }
        SystemTable::CharacterSets => {
            for (cs, desc, coll, len) in CHARSETS {
                rows.push(vec![s(*cs), s(*coll), s(*desc), Value::Int(*len)]);
            }
        }
        SystemTable::Collations => {
            for (name, cs, id, def) in COLLATIONS {
                rows.push(vec![
                    s(*name),
                    s(*cs),
                    Value::Int(*id),
                    s(if *def { "Yes" } else { "" }),
                    s("Yes"),
                    Value::Int(1),
                ]);
            }
        }
        SystemTable::Processlist => {
            let conns: Vec<_> = exec
                .st
                .engine
                .connections
                .lock()
                .values()
                .cloned()
                .collect();
            for c in conns {
                rows.push(vec![
                    Value::UInt(c.id as u64),
                    s(c.user),
                    s("127.0.0.1"),
                    opt(c.db),
                    s("Query"),
                    Value::Int(0),
                    s(""),
                    Value::Null,
                ]);
            }
        }
        SystemTable::SessionVariables | SystemTable::GlobalVariables => {
            for v in sysvars::VARS {
                let stored = if table == SystemTable::GlobalVariables
                    || v.scope == sysvars::Scope::GlobalOnly
                {
                    if v.scope == sysvars::Scope::SessionOnly {
                        continue;
                    }
                    exec.st.engine.global_value(v)
                } else {
                    exec.st
                        .info
                        .session_value(v)
                        .unwrap_or_else(|| exec.st.engine.global_value(v))
                };
                rows.push(vec![s(v.name), s(sysvars::show(v, &stored))]);
            }
        }
        SystemTable::ReferentialConstraints => {
            for t in tables_of(&catalog) {
                for fk in &t.foreign_keys {
                    rows.push(vec![
                        s("def"),
                        s(t.db.clone()),
                        s(fk.name.clone()),
                        s("def"),
                        s(t.db.clone()),
                        s("PRIMARY"),
                        s("NONE"),
                        s(fk.on_update.clone().unwrap_or_else(|| "NO ACTION".into())),
                        s(fk.on_delete.clone().unwrap_or_else(|| "NO ACTION".into())),
                        s(t.name.clone()),
                        s(fk.ref_table.clone()),
                    ]);
                }
            }
        }
        SystemTable::Views | SystemTable::Routines | SystemTable::Partitions => {}
    }
    let _ = CmpOp::Eq;
    let _ = TextKind::Normal;
    Ok(rows)
}

fn count_rows(exec: &Exec, t: &TableDef) -> Result<u64> {
    let txn = exec.st.txn.borrow();
    Ok(tiembed_storage::table::count_rows(&txn, t)?)
}
