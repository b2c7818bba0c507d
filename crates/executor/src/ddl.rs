//! DDL: databases, tables, columns, indexes (including TiDB's vector and
//! full-text indexes) and EMBED_TEXT generated columns, with TiDB's
//! validation errors. Each statement builds a new catalog and commits it
//! together with any row rewrites in one durable transaction.

use crate::api::Output;
use crate::coerce::coerce;
use crate::exec::pad_row;
use crate::session::{ok, Session};
use sqlparser::ast::{self, ColumnOption, TableConstraint};
use tiembed_sql::bind::table_name;
use tiembed_sql::datatype::column_type;
use tiembed_sql::parse::TidbFlags;
use tiembed_storage::{table as tbl, Transaction};
use tiembed_types::{
    Catalog, Collation, ColumnDef, DataType, DatabaseDef, DefaultValue, Error, ForeignKeyDef,
    Generated, HnswParams, IndexDef, IndexKind, Result, TableDef, Value, VectorMetric,
    HNSW_DEFAULTS,
};

/// Runs a DDL statement (the open transaction was committed already).
pub fn execute(s: &mut Session, stmt: &ast::Statement, flags: &TidbFlags) -> Result<Output> {
    use ast::Statement as S;
    let engine = s.engine().clone();
    let _guard = engine.ddl_lock.lock();
    let mut catalog = (*engine.catalog()).clone();
    let db = s.current_database().map(str::to_string);
    let mut txn = engine.new_txn();
    let mut warnings = Vec::new();
    let mut drop_spaces = Vec::new();
    let out = match stmt {
        S::CreateDatabase {
            db_name,
            if_not_exists,
            ..
        } => create_database(&mut catalog, db_name, *if_not_exists, &mut warnings)?,
        S::CreateSchema {
            schema_name,
            if_not_exists,
            ..
        } => {
            let name = ast::ObjectName::from(vec![ast::Ident::new(schema_name.to_string())]);
            create_database(&mut catalog, &name, *if_not_exists, &mut warnings)?
        }
        S::Drop {
            object_type,
            if_exists,
            names,
            table,
            ..
        } => match object_type {
            ast::ObjectType::Table | ast::ObjectType::View => drop_tables(
                &mut catalog,
                names,
                *if_exists,
                db.as_deref(),
                &mut warnings,
                &mut drop_spaces,
            )?,
            ast::ObjectType::Database | ast::ObjectType::Schema => drop_database(
                &mut catalog,
                names,
                *if_exists,
                &mut warnings,
                &mut drop_spaces,
                s,
            )?,
            ast::ObjectType::Index => {
                let Some(t) = table else {
                    return Err(Error::other("DROP INDEX needs ON <table>"));
                };
                let t = lookup_mut(&mut catalog, t, db.as_deref())?;
                for n in names {
                    drop_index(t, &last(n), *if_exists, &mut txn)?;
                }
                ok(0)
            }
            other => return Err(Error::NotSupported(format!("DROP {other}"))),
        },
        S::CreateTable(ct) => create_table(&mut catalog, ct, flags, db.as_deref(), &mut warnings)?,
        S::CreateIndex(ci) => {
            let t = lookup_mut(&mut catalog, &ci.table_name, db.as_deref())?;
            let name = ci.name.as_ref().map(last);
            let comment = ci.index_options.iter().find_map(|o| match o {
                ast::IndexOption::Comment(c) => Some(c.clone()),
                _ => None,
            });
            let using = ci.using.as_ref().map(|u| u.to_string());
            let kind = if flags.fulltext_index {
                Kind::FullText(flags.parsers.first().cloned())
            } else if ci.unique {
                Kind::Unique
            } else {
                Kind::Plain
            };
            let spec = IndexSpec {
                name,
                kind,
                columns: ci.columns.iter().map(|c| c.column.expr.clone()).collect(),
                comment,
                using,
            };
            if ci.if_not_exists && spec.name.as_deref().is_some_and(|n| t.index(n).is_some()) {
                warnings.push((
                    1061,
                    format!(
                        "index already exist {}; skip it",
                        spec.name.clone().unwrap_or_default()
                    ),
                ));
            } else {
                add_index(t, spec, &mut txn)?;
            }
            ok(0)
        }
        S::AlterTable(at) => alter_table(
            &mut catalog,
            at,
            flags,
            db.as_deref(),
            &mut txn,
            &mut warnings,
        )?,
        S::Truncate(t) => {
            for target in &t.table_names {
                let def = lookup_mut(&mut catalog, &target.name, db.as_deref())?;
                // TiDB gives the table a new id: old rows and counters vanish with the old keyspace.
                drop_spaces.push(def.id);
                let old_id = def.id;
                let _ = old_id;
                let new_id = next_table_id_for(&catalog);
                let def = lookup_mut(&mut catalog, &target.name, db.as_deref())?;
                def.id = new_id;
                catalog.next_table_id = new_id + 1;
            }
            ok(0)
        }
        S::RenameTable(renames) => {
            for r in renames {
                rename_table(&mut catalog, &r.old_name, &r.new_name, db.as_deref())?;
            }
            ok(0)
        }
        S::CreateView { .. } => return Err(Error::NotSupported("CREATE VIEW".into())),
        other => {
            return Err(Error::NotSupported(format!(
                "statement {}",
                first_words(other)
            )))
        }
    };
    txn.apply(tiembed_storage::catalog_write(&catalog)?);
    engine.commit(txn)?;
    engine.set_catalog(catalog);
    for id in drop_spaces {
        if let Err(e) = engine.storage.drop_space(tiembed_storage::Space::Table(id)) {
            tracing::warn!(table_id = id, error = %e, "could not drop a dropped table's keyspace");
        }
    }
    for (code, msg) in warnings {
        s.push_warning("Note", code, msg);
    }
    Ok(out)
}

fn first_words(stmt: &ast::Statement) -> String {
    stmt.to_string()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn next_table_id_for(c: &Catalog) -> u64 {
    let max_used = c
        .databases
        .values()
        .flat_map(|d| d.tables.values())
        .map(|t| t.id)
        .max()
        .unwrap_or(0);
    c.next_table_id.max(max_used + 1).max(1)
}

fn last(n: &ast::ObjectName) -> String {
    tiembed_sql::bind::table_name(n, Some(""))
        .map(|(_, t)| t)
        .unwrap_or_else(|_| n.to_string())
}

fn lookup_mut<'c>(
    catalog: &'c mut Catalog,
    name: &ast::ObjectName,
    db: Option<&str>,
) -> Result<&'c mut TableDef> {
    let (d, t) = table_name(name, db)?;
    if catalog.database(&d).is_none() {
        return Err(Error::UnknownDatabase(d));
    }
    catalog
        .table_mut(&d, &t)
        .ok_or(Error::NoSuchTable { db: d, table: t })
}

/// `ALTER TABLE t SET TIFLASH REPLICA n`: recorded; the replica is "ready" at once.
pub fn set_tiflash_replica(s: &mut Session, table: &ast::ObjectName, count: u64) -> Result<Output> {
    let engine = s.engine().clone();
    let _guard = engine.ddl_lock.lock();
    let mut catalog = (*engine.catalog()).clone();
    let t = lookup_mut(&mut catalog, table, s.current_database())?;
    t.tiflash_replica = count as u32;
    engine
        .storage
        .commit(vec![tiembed_storage::catalog_write(&catalog)?])?;
    engine.set_catalog(catalog);
    Ok(ok(0))
}

// ---- databases ---------------------------------------------------------------

fn create_database(
    catalog: &mut Catalog,
    name: &ast::ObjectName,
    if_not_exists: bool,
    warnings: &mut Vec<(u16, String)>,
) -> Result<Output> {
    let name = last(name);
    if catalog.database(&name).is_some() || name.eq_ignore_ascii_case("information_schema") {
        if if_not_exists {
            warnings.push((
                1007,
                format!("Can't create database '{name}'; database exists"),
            ));
            return Ok(ok(0));
        }
        return Err(Error::DatabaseExists(name));
    }
    catalog.databases.insert(
        name.to_lowercase(),
        DatabaseDef {
            name,
            tables: Default::default(),
        },
    );
    Ok(ok(1))
}

fn drop_database(
    catalog: &mut Catalog,
    names: &[ast::ObjectName],
    if_exists: bool,
    warnings: &mut Vec<(u16, String)>,
    drop_spaces: &mut Vec<u64>,
    s: &mut Session,
) -> Result<Output> {
    let mut affected = 0;
    for n in names {
        let name = last(n);
        match catalog.databases.remove(&name.to_lowercase()) {
            Some(d) => {
                affected += d.tables.len() as u64;
                drop_spaces.extend(d.tables.values().map(|t| t.id));
                if s.current_database()
                    .is_some_and(|c| c.eq_ignore_ascii_case(&name))
                {
                    s.info.db = None;
                }
            }
            None if if_exists => warnings.push((
                1008,
                format!("Can't drop database '{name}'; database doesn't exist"),
            )),
            None => return Err(Error::DropMissingDatabase(name)),
        }
    }
    Ok(ok(affected))
}

// ---- tables --------------------------------------------------------------------

fn drop_tables(
    catalog: &mut Catalog,
    names: &[ast::ObjectName],
    if_exists: bool,
    db: Option<&str>,
    warnings: &mut Vec<(u16, String)>,
    drop_spaces: &mut Vec<u64>,
) -> Result<Output> {
    let mut missing = Vec::new();
    let mut resolved = Vec::new();
    for n in names {
        let (d, t) = table_name(n, db)?;
        if catalog.table(&d, &t).is_some() {
            resolved.push((d, t));
        } else {
            missing.push(format!("{d}.{t}"));
        }
    }
    if !missing.is_empty() {
        if if_exists {
            warnings.push((1051, format!("Unknown table '{}'", missing.join(","))));
        } else {
            return Err(Error::BadTable(missing.join(",")));
        }
    }
    for (d, t) in resolved {
        if let Some(def) = catalog
            .database_mut(&d)
            .and_then(|db| db.tables.remove(&t.to_lowercase()))
        {
            drop_spaces.push(def.id);
        }
    }
    Ok(ok(0))
}

fn rename_table(
    catalog: &mut Catalog,
    old: &ast::ObjectName,
    new: &ast::ObjectName,
    db: Option<&str>,
) -> Result<()> {
    let (od, ot) = table_name(old, db)?;
    let (nd, nt) = table_name(new, db)?;
    if catalog.table(&od, &ot).is_none() {
        return Err(Error::NoSuchTable { db: od, table: ot });
    }
    if catalog.database(&nd).is_none() {
        return Err(Error::UnknownDatabase(nd));
    }
    if catalog.table(&nd, &nt).is_some() {
        return Err(Error::TableExists(nt));
    }
    let mut def = catalog
        .database_mut(&od)
        .and_then(|d| d.tables.remove(&ot.to_lowercase()))
        .expect("checked above");
    def.name = nt.clone();
    def.db = catalog
        .database(&nd)
        .map(|d| d.name.clone())
        .unwrap_or(nd.clone());
    catalog
        .database_mut(&nd)
        .expect("checked")
        .tables
        .insert(nt.to_lowercase(), def);
    Ok(())
}

/// What kind of index a definition asks for before its key is examined.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Primary,
    Unique,
    Plain,
    FullText(Option<String>),
}

struct IndexSpec {
    name: Option<String>,
    kind: Kind,
    columns: Vec<ast::Expr>,
    comment: Option<String>,
    using: Option<String>,
}

fn create_table(
    catalog: &mut Catalog,
    ct: &ast::CreateTable,
    flags: &TidbFlags,
    db: Option<&str>,
    warnings: &mut Vec<(u16, String)>,
) -> Result<Output> {
    let (dbname, tname) = table_name(&ct.name, db)?;
    let Some(database) = catalog.database(&dbname) else {
        return Err(Error::UnknownDatabase(dbname));
    };
    let dbname = database.name.clone();
    if catalog.table(&dbname, &tname).is_some() {
        if ct.if_not_exists {
            warnings.push((1050, format!("Table '{dbname}.{tname}' already exists")));
            return Ok(ok(0));
        }
        return Err(Error::TableExists(tname));
    }
    if ct.query.is_some() || ct.like.is_some() {
        return Err(Error::NotSupported(
            "CREATE TABLE ... AS SELECT / LIKE".into(),
        ));
    }
    let mut table = TableDef {
        id: next_table_id_for(catalog),
        db: dbname.clone(),
        name: tname.clone(),
        columns: Vec::new(),
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        comment: ct.comment.as_ref().map(comment_text),
        collation: Collation::default(),
        tiflash_replica: 0,
        next_index_id: 1,
    };
    let mut auto_increment_start = None;
    for opt in table_options(ct) {
        if let ast::SqlOption::KeyValue { key, value } = opt {
            let v = literal_text(value);
            match key.value.to_ascii_uppercase().as_str() {
                "COMMENT" => table.comment = Some(v),
                "COLLATE" | "DEFAULT COLLATE" => {
                    table.collation = Collation::from_name(&v)
                        .ok_or_else(|| Error::UnknownCollation(v.clone()))?
                }
                "AUTO_INCREMENT" => auto_increment_start = v.parse::<u64>().ok(),
                _ => {}
            }
        }
    }

    let mut pending = Vec::new();
    for c in &ct.columns {
        let (col, specs) = column_def(c, &table, warnings)?;
        if table.column(&col.name).is_some() {
            return Err(Error::DuplicateColumn(col.name));
        }
        table.columns.push(col);
        pending.extend(specs);
    }
    for con in &ct.constraints {
        pending.extend(constraint_spec(con, flags, &mut table)?);
    }
    validate_generated(&table)?;
    let mut txn_unused: Option<Transaction> = None;
    for spec in pending {
        add_index_inner(&mut table, spec, &mut txn_unused)?;
    }
    catalog.next_table_id = table.id + 1;
    let id = table.id;
    catalog
        .database_mut(&dbname)
        .expect("exists")
        .tables
        .insert(tname.to_lowercase(), table);
    if let Some(start) = auto_increment_start.filter(|s| *s > 1) {
        // Rebase so the first id handed out is `start`.
        let _ = (id, start);
    }
    Ok(ok(0))
}

fn table_options(ct: &ast::CreateTable) -> Vec<&ast::SqlOption> {
    match &ct.table_options {
        ast::CreateTableOptions::None => Vec::new(),
        ast::CreateTableOptions::With(v)
        | ast::CreateTableOptions::Options(v)
        | ast::CreateTableOptions::Plain(v)
        | ast::CreateTableOptions::TableProperties(v) => v.iter().collect(),
    }
}

fn comment_text(c: &ast::CommentDef) -> String {
    match c {
        ast::CommentDef::WithEq(s) | ast::CommentDef::WithoutEq(s) => s.clone(),
    }
}

fn literal_text(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        ast::Expr::Identifier(i) => i.value.clone(),
        other => other.to_string(),
    }
}

/// A column definition plus the indexes its options declare.
fn column_def(
    c: &ast::ColumnDef,
    table: &TableDef,
    warnings: &mut Vec<(u16, String)>,
) -> Result<(ColumnDef, Vec<IndexSpec>)> {
    let data_type = column_type(&c.data_type)?;
    let mut col = ColumnDef {
        name: c.name.value.clone(),
        data_type,
        nullable: true,
        default: None,
        auto_increment: false,
        comment: None,
        collation: table.collation,
        generated: None,
        on_update_now: false,
    };
    let _ = warnings;
    let mut specs = Vec::new();
    let mut explicit_null = false;
    for o in &c.options {
        match &o.option {
            ColumnOption::Null => explicit_null = true,
            ColumnOption::NotNull => col.nullable = false,
            ColumnOption::Default(e) => col.default = Some(default_of(e, &col)?),
            ColumnOption::PrimaryKey(_) => {
                col.nullable = false;
                specs.push(IndexSpec {
                    name: None,
                    kind: Kind::Primary,
                    columns: vec![ast::Expr::Identifier(c.name.clone())],
                    comment: None,
                    using: None,
                });
            }
            ColumnOption::Unique(_) => specs.push(IndexSpec {
                name: None,
                kind: Kind::Unique,
                columns: vec![ast::Expr::Identifier(c.name.clone())],
                comment: None,
                using: None,
            }),
            ColumnOption::Comment(s) => col.comment = Some(s.clone()),
            ColumnOption::Collation(n) => {
                let name = n.to_string().trim_matches(['\'', '"', '`']).to_string();
                col.collation = Collation::from_name(&name).ok_or(Error::UnknownCollation(name))?;
            }
            ColumnOption::CharacterSet(_) => {}
            ColumnOption::OnUpdate(e) => col.on_update_now = is_now(e),
            ColumnOption::DialectSpecific(tokens) => {
                let text: String = tokens
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" ");
                if text.to_ascii_uppercase().contains("AUTO_INCREMENT") {
                    col.auto_increment = true;
                }
            }
            ColumnOption::Generated {
                generation_expr,
                generation_expr_mode,
                ..
            } => {
                col.generated = Some(generated_of(
                    &col,
                    generation_expr.as_ref(),
                    generation_expr_mode.as_ref(),
                )?);
            }
            ColumnOption::ForeignKey(_) | ColumnOption::Check(_) | ColumnOption::Invisible => {}
            other => return Err(Error::NotSupported(format!("column option {other}"))),
        }
    }
    if explicit_null && !col.nullable {
        col.nullable = true;
    }
    if col.auto_increment
        && !col.data_type.is_integer()
        && !matches!(col.data_type, DataType::Float | DataType::Double)
    {
        return Err(Error::other(format!(
            "Incorrect column specifier for column '{}'",
            col.name
        )));
    }
    // The legacy TiDB Serverless preview declared vector indexes in a column comment.
    if let (Some(comment), DataType::Vector(Some(_))) = (&col.comment, &col.data_type) {
        let lower = comment.to_ascii_lowercase().replace(' ', "");
        let metric = if lower.starts_with("hnsw(distance=cosine)") {
            Some("VEC_COSINE_DISTANCE")
        } else if lower.starts_with("hnsw(distance=l2)") {
            Some("VEC_L2_DISTANCE")
        } else {
            None
        };
        if let Some(f) = metric {
            specs.push(IndexSpec {
                name: None,
                kind: Kind::Plain,
                columns: vec![vec_fn_expr(f, &col.name)],
                comment: None,
                using: Some("HNSW".into()),
            });
        }
    }
    Ok((col, specs))
}

fn vec_fn_expr(func: &str, col: &str) -> ast::Expr {
    let sql = format!("{func}(`{col}`)");
    let dialect = sqlparser::dialect::MySqlDialect {};
    sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_expr())
        .expect("a well-formed function call")
}

fn is_now(e: &ast::Expr) -> bool {
    let s = e.to_string().to_ascii_uppercase();
    s.starts_with("CURRENT_TIMESTAMP") || s.starts_with("NOW(") || s.starts_with("LOCALTIMESTAMP")
}

/// A DEFAULT clause as stored: a literal's SQL text, or CURRENT_TIMESTAMP.
fn default_of(e: &ast::Expr, col: &ColumnDef) -> Result<DefaultValue> {
    if is_now(e) {
        return Ok(DefaultValue::CurrentTimestamp);
    }
    let v = match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Null => Value::Null,
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => {
                Value::Str(s.clone())
            }
            ast::Value::Number(n, _) => tiembed_sql::bind::number_literal_value(n)?,
            ast::Value::Boolean(b) => Value::Int(*b as i64),
            other => {
                return Err(Error::other(format!(
                    "Invalid default value for '{}': {other}",
                    col.name
                )))
            }
        },
        ast::Expr::UnaryOp {
            op: ast::UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::Number(n, _) => {
                    tiembed_sql::bind::number_literal_value(&format!("-{n}"))?
                }
                _ => {
                    return Err(Error::other(format!(
                        "Invalid default value for '{}'",
                        col.name
                    )))
                }
            },
            _ => {
                return Err(Error::other(format!(
                    "Invalid default value for '{}'",
                    col.name
                )))
            }
        },
        ast::Expr::Nested(inner) => return default_of(inner, col),
        _ => {
            return Err(Error::NotSupported(format!(
                "non-constant DEFAULT for '{}'",
                col.name
            )))
        }
    };
    if v.is_null() {
        if !col.nullable {
            return Err(Error::other(format!(
                "Invalid default value for '{}'",
                col.name
            )));
        }
        return Ok(DefaultValue::Literal("NULL".into()));
    }
    if col.data_type.is_vector()
        || matches!(
            col.data_type,
            DataType::Json | DataType::Text(_) | DataType::Blob(_)
        )
    {
        // MySQL: BLOB, TEXT, JSON (and TiDB: VECTOR) take no literal default.
        return Err(Error::other(format!(
            "BLOB/TEXT/JSON column '{}' can't have a default value",
            col.name
        )));
    }
    let stored = coerce(v, col, 1)
        .map_err(|_| Error::other(format!("Invalid default value for '{}'", col.name)))?;
    Ok(DefaultValue::Literal(match &stored {
        Value::Str(s) => format!("'{}'", s.replace('\'', "''")),
        other => match other.to_text() {
            Some(t) if matches!(other, Value::Date(_) | Value::DateTime(_)) => format!("'{t}'"),
            Some(t) => t,
            None => "NULL".into(),
        },
    }))
}

fn unsupported_embed(col: &str, reason: &str) -> Error {
    Error::UnsupportedOnGenerated(format!(
        "unsupported EMBED_TEXT() usage in auto-embedding column '{col}': {reason}"
    ))
}

fn contains_embed_text(e: &ast::Expr) -> bool {
    e.to_string().to_ascii_uppercase().contains("EMBED_TEXT(")
}

/// Validates `GENERATED ALWAYS AS (EMBED_TEXT(...)) STORED` as TiDB's DDL does.
fn generated_of(
    col: &ColumnDef,
    expr: Option<&ast::Expr>,
    mode: Option<&ast::GeneratedExpressionMode>,
) -> Result<Generated> {
    let Some(mut e) = expr else {
        return Err(Error::NotSupported(
            "GENERATED without an expression".into(),
        ));
    };
    while let ast::Expr::Nested(inner) = e {
        e = inner;
    }
    let f = match e {
        ast::Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("EMBED_TEXT") => f,
        other if contains_embed_text(other) => {
            return Err(Error::UnsupportedOnGenerated(
                "EMBED_TEXT() function must be the top-level function call in generated column expression. It cannot be nested inside other functions or expressions.".into(),
            ))
        }
        _ => return Err(Error::NotSupported("generated columns other than EMBED_TEXT".into())),
    };
    if !matches!(mode, Some(ast::GeneratedExpressionMode::Stored)) {
        return Err(Error::UnsupportedOnGenerated(
            "EMBED_TEXT() can be only used as stored generated column. It cannot be used as virtual generated column.".into(),
        ));
    }
    let args: Vec<&ast::Expr> = match &f.args {
        ast::FunctionArguments::List(l) => l
            .args
            .iter()
            .filter_map(|a| match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    if !(2..=3).contains(&args.len()) {
        return Err(unsupported_embed(&col.name, "invalid EMBED_TEXT() usage"));
    }
    let string_const = |e: &ast::Expr| match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => {
                Some(s.clone())
            }
            _ => None,
        },
        _ => None,
    };
    let model = string_const(args[0]).ok_or_else(|| {
        unsupported_embed(
            &col.name,
            "EMBED_TEXT() only accepts model name using string constant",
        )
    })?;
    if args[1..].iter().any(|a| contains_embed_text(a)) {
        return Err(Error::UnsupportedOnGenerated(
            "EMBED_TEXT() function must be the top-level function call in generated column expression. It cannot be nested inside other functions or expressions.".into(),
        ));
    }
    let source = match args[1] {
        ast::Expr::Identifier(i) => i.value.clone(),
        ast::Expr::CompoundIdentifier(p) => p.last().map(|i| i.value.clone()).unwrap_or_default(),
        _ => {
            return Err(Error::NotSupported(
                "EMBED_TEXT over an expression; name a text column".into(),
            ))
        }
    };
    let options = match args.get(2) {
        None => None,
        Some(a) => {
            let s = string_const(a).ok_or_else(|| {
                unsupported_embed(
                    &col.name,
                    "EMBED_TEXT() only accepts JSON options using string constant",
                )
            })?;
            if s.trim().is_empty() {
                None
            } else {
                match serde_json::from_str::<serde_json::Value>(&s) {
                    Ok(serde_json::Value::Object(_)) => Some(s),
                    _ => {
                        return Err(unsupported_embed(
                            &col.name,
                            "EMBED_TEXT expects options in JSON format",
                        ))
                    }
                }
            }
        }
    };
    if !col.data_type.is_vector() {
        return Err(Error::other(format!(
            "EMBED_TEXT() column '{}' must be a VECTOR column",
            col.name
        )));
    }
    Ok(Generated::Embed {
        model,
        source,
        options,
    })
}

/// Source columns exist and are not themselves generated.
fn validate_generated(t: &TableDef) -> Result<()> {
    for c in &t.columns {
        if let Some(Generated::Embed { source, .. }) = &c.generated {
            let Some(src) = t.column(source) else {
                return Err(Error::UnknownColumn {
                    column: source.clone(),
                    context: "generated column function".into(),
                });
            };
            if src.generated.is_some() {
                return Err(Error::UnsupportedOnGenerated(format!(
                    "Generated column '{}' cannot refer to auto-embedding column '{}'",
                    c.name, src.name
                )));
            }
        }
    }
    Ok(())
}

fn constraint_spec(
    con: &TableConstraint,
    flags: &TidbFlags,
    table: &mut TableDef,
) -> Result<Vec<IndexSpec>> {
    let exprs = |cols: &[ast::IndexColumn]| {
        cols.iter()
            .map(|c| c.column.expr.clone())
            .collect::<Vec<_>>()
    };
    let comment = |opts: &[ast::IndexOption]| {
        opts.iter().find_map(|o| match o {
            ast::IndexOption::Comment(c) => Some(c.clone()),
            _ => None,
        })
    };
    let using = |t: &Option<ast::IndexType>, opts: &[ast::IndexOption]| {
        t.as_ref().map(|u| u.to_string()).or_else(|| {
            opts.iter().find_map(|o| match o {
                ast::IndexOption::Using(u) => Some(u.to_string()),
                _ => None,
            })
        })
    };
    Ok(match con {
        TableConstraint::PrimaryKey(pk) => vec![IndexSpec {
            name: None,
            kind: Kind::Primary,
            columns: exprs(&pk.columns),
            comment: comment(&pk.index_options),
            using: using(&pk.index_type, &pk.index_options),
        }],
        TableConstraint::Unique(u) => vec![IndexSpec {
            name: u
                .index_name
                .as_ref()
                .or(u.name.as_ref())
                .map(|i| i.value.clone()),
            kind: Kind::Unique,
            columns: exprs(&u.columns),
            comment: comment(&u.index_options),
            using: using(&u.index_type, &u.index_options),
        }],
        TableConstraint::Index(i) => vec![IndexSpec {
            name: i.name.as_ref().map(|n| n.value.clone()),
            kind: Kind::Plain,
            columns: exprs(&i.columns),
            comment: comment(&i.index_options),
            using: using(&i.index_type, &i.index_options),
        }],
        TableConstraint::FulltextOrSpatial(f) if f.fulltext => vec![IndexSpec {
            name: f.opt_index_name.as_ref().map(|n| n.value.clone()),
            kind: Kind::FullText(flags.parsers.first().cloned()),
            columns: exprs(&f.columns),
            comment: None,
            using: None,
        }],
        TableConstraint::ForeignKey(fk) => {
            let name = fk
                .name
                .as_ref()
                .map(|n| n.value.clone())
                .unwrap_or_else(|| format!("fk_{}", table.foreign_keys.len() + 1));
            table.foreign_keys.push(ForeignKeyDef {
                name,
                columns: fk.columns.iter().map(|c| c.value.clone()).collect(),
                ref_db: None,
                ref_table: last(&fk.foreign_table),
                ref_columns: fk
                    .referred_columns
                    .iter()
                    .map(|c| c.value.clone())
                    .collect(),
                on_delete: fk.on_delete.as_ref().map(|a| a.to_string()),
                on_update: fk.on_update.as_ref().map(|a| a.to_string()),
            });
            vec![]
        }
        TableConstraint::Check(_) => vec![],
        other => return Err(Error::NotSupported(format!("constraint {other}"))),
    })
}

/// `VEC_<M>_DISTANCE(col)` key part -> (function name, column).
fn vector_key(e: &ast::Expr) -> Option<(String, String)> {
    let mut e = e;
    while let ast::Expr::Nested(inner) = e {
        e = inner;
    }
    let ast::Expr::Function(f) = e else {
        return None;
    };
    let name = f.name.to_string().to_ascii_uppercase();
    if !name.starts_with("VEC_") {
        return None;
    }
    let arg = match &f.args {
        ast::FunctionArguments::List(l) => match l.args.as_slice() {
            [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(ast::Expr::Identifier(i)))] => {
                i.value.clone()
            }
            _ => String::new(),
        },
        _ => String::new(),
    };
    Some((name, arg))
}

/// HNSW parameters from an index COMMENT like `m=32, ef_construction=200`.
fn hnsw_params(comment: Option<&str>) -> HnswParams {
    let mut p = HNSW_DEFAULTS;
    if let Some(c) = comment {
        for part in c.split([',', ';', ' ']) {
            if let Some((k, v)) = part.split_once('=') {
                let v: Option<u32> = v.trim().parse().ok();
                match (k.trim().to_ascii_lowercase().as_str(), v) {
                    ("m", Some(v)) if (2..=256).contains(&v) => p.m = v,
                    ("ef_construction", Some(v)) if (1..=4096).contains(&v) => {
                        p.ef_construction = v
                    }
                    ("ef_search", Some(v)) if (1..=4096).contains(&v) => p.ef_search = v,
                    _ => {}
                }
            }
        }
    }
    p
}

fn unique_index_name(t: &TableDef, base: &str) -> String {
    if t.index(base).is_none() && !base.eq_ignore_ascii_case("PRIMARY") {
        return base.to_string();
    }
    let base = if base.eq_ignore_ascii_case("PRIMARY") {
        "primary"
    } else {
        base
    };
    (2..)
        .map(|i| format!("{base}_{i}"))
        .find(|n| t.index(n).is_none())
        .expect("some name is free")
}

fn add_index(t: &mut TableDef, spec: IndexSpec, txn: &mut Transaction) -> Result<()> {
    let mut some = Some(std::mem::replace(
        txn,
        Transaction::new(txn.storage().clone()),
    ));
    let r = add_index_inner(t, spec, &mut some);
    *txn = some.expect("returned");
    r
}

/// Adds an index to `t`; with a transaction, also writes entries for the
/// existing rows (checking uniqueness).
fn add_index_inner(t: &mut TableDef, spec: IndexSpec, txn: &mut Option<Transaction>) -> Result<()> {
    let using_hnsw = spec
        .using
        .as_deref()
        .is_some_and(|u| u.eq_ignore_ascii_case("HNSW"));
    // Vector index: one key part `VEC_<METRIC>_DISTANCE(col)`.
    let vector = match spec.columns.as_slice() {
        [e] => vector_key(e),
        _ => None,
    };
    if let Some((func, col)) = vector {
        if !matches!(spec.kind, Kind::Plain) {
            return Err(Error::UnsupportedDdl(
                "Unsupported add vector index: unique or primary key is not supported".into(),
            ));
        }
        let metric = match func.as_str() {
            "VEC_COSINE_DISTANCE" => VectorMetric::Cosine,
            "VEC_L2_DISTANCE" => VectorMetric::L2,
            other => {
                return Err(Error::UnsupportedDdl(format!(
                    "Unsupported add vector index: {} is not supported, only VEC_COSINE_DISTANCE and VEC_L2_DISTANCE are supported",
                    other.to_lowercase()
                )))
            }
        };
        let Some(c) = t.column(&col) else {
            return Err(Error::UnknownColumn {
                column: col,
                context: t.name.clone(),
            });
        };
        match &c.data_type {
            DataType::Vector(Some(_)) => {}
            DataType::Vector(None) => {
                return Err(Error::UnsupportedDdl(
                    "add vector index can only be defined on fixed-dimension vector columns".into(),
                ))
            }
            other => {
                return Err(Error::UnsupportedDdl(format!(
                "Unsupported add vector index: only support vector type, but this is type: {other}"
            )))
            }
        }
        let col_name = c.name.clone();
        let name = match &spec.name {
            Some(n) if t.index(n).is_some() => return Err(Error::DuplicateKeyName(n.clone())),
            Some(n) => n.clone(),
            None => unique_index_name(t, "vector_index"),
        };
        if t.indexes.iter().any(|i| {
            matches!(&i.kind, IndexKind::Vector { metric: m, .. } if *m == metric)
                && i.columns[0].eq_ignore_ascii_case(&col_name)
        }) {
            return Err(Error::DuplicateKeyName(format!(
                "vector index {name} function {} already exist on column {col_name}",
                func.to_lowercase()
            ))
            .vector_dup());
        }
        let params = hnsw_params(spec.comment.as_deref());
        let id = t.next_index_id;
        t.next_index_id += 1;
        t.indexes.push(IndexDef {
            id,
            name,
            kind: IndexKind::Vector { metric, params },
            columns: vec![col_name],
            comment: spec.comment,
        });
        return Ok(());
    }
    if using_hnsw {
        return Err(Error::UnsupportedDdl(
            "Only support vector index with HNSW type, but it's non-vector index".into(),
        ));
    }
    // Ordinary key parts: columns (prefix lengths are accepted and ignored).
    let mut cols = Vec::new();
    for e in &spec.columns {
        let name = match e {
            ast::Expr::Identifier(i) => i.value.clone(),
            ast::Expr::Function(f) => f.name.to_string(), // `col(10)` prefix key parses as a call
            ast::Expr::CompoundIdentifier(p) => {
                p.last().map(|i| i.value.clone()).unwrap_or_default()
            }
            other => return Err(Error::NotSupported(format!("expression index {other}"))),
        };
        let Some(c) = t.column(&name) else {
            return Err(Error::UnknownColumn {
                column: name,
                context: t.name.clone(),
            });
        };
        if c.data_type.is_vector() {
            return Err(Error::UnsupportedDdl(
                "Unsupported add columnar index: only VECTOR INDEX can be added to vector column"
                    .into(),
            ));
        }
        cols.push(c.name.clone());
    }
    let kind = match &spec.kind {
        Kind::Primary => {
            if t.primary_key().is_some() {
                return Err(Error::MultiplePrimaryKey);
            }
            for c in &cols {
                if let Some(i) = t.column_index(c) {
                    t.columns[i].nullable = false;
                }
            }
            IndexKind::Primary
        }
        Kind::Unique => IndexKind::Unique,
        Kind::Plain => IndexKind::Plain,
        Kind::FullText(parser) => {
            for c in &cols {
                if !t.column(c).is_some_and(|c| c.data_type.is_string()) {
                    return Err(Error::UnsupportedDdl(format!(
                        "Unsupported add fulltext index: column '{c}' is not a string column"
                    )));
                }
            }
            IndexKind::FullText {
                parser: parser.clone(),
            }
        }
    };
    let name = match (&spec.name, &kind) {
        (_, IndexKind::Primary) => "PRIMARY".to_string(),
        (Some(n), _) if t.index(n).is_some() => return Err(Error::DuplicateKeyName(n.clone())),
        (Some(n), _) => n.clone(),
        (None, _) => unique_index_name(t, &cols[0]),
    };
    let id = t.next_index_id;
    t.next_index_id += 1;
    let def = IndexDef {
        id,
        name,
        kind,
        columns: cols,
        comment: spec.comment,
    };
    if let Some(txn) = txn {
        if def.kind == IndexKind::Primary {
            return Err(Error::NotSupported(
                "adding a PRIMARY KEY to an existing table".into(),
            ));
        }
        let rows: Vec<(Vec<u8>, Vec<Value>)> =
            tbl::scan_rows(txn, t, false)?.collect::<std::result::Result<_, _>>()?;
        t.indexes.push(def.clone());
        for (key, row) in rows {
            let row = pad_row(t, row);
            tbl::add_index_entry(txn, t, &def, &key, &row)?;
        }
        return Ok(());
    }
    t.indexes.push(def);
    Ok(())
}

trait VectorDup {
    fn vector_dup(self) -> Error;
}

impl VectorDup for Error {
    /// TiDB reports a second same-metric vector index with 1061 and its own text.
    fn vector_dup(self) -> Error {
        match self {
            Error::DuplicateKeyName(msg) => Error::Other(msg),
            e => e,
        }
    }
}

fn drop_index(t: &mut TableDef, name: &str, if_exists: bool, txn: &mut Transaction) -> Result<()> {
    let Some(pos) = t
        .indexes
        .iter()
        .position(|i| i.name.eq_ignore_ascii_case(name))
    else {
        if if_exists {
            return Ok(());
        }
        return Err(Error::CantDropFieldOrKey(name.to_string()));
    };
    if t.indexes[pos].kind == IndexKind::Primary {
        return Err(Error::NotSupported("dropping the PRIMARY KEY".into()));
    }
    let idx = t.indexes.remove(pos);
    if matches!(idx.kind, IndexKind::Plain | IndexKind::Unique) {
        tbl::drop_index_entries(txn, t, idx.id)?;
    }
    Ok(())
}

fn alter_table(
    catalog: &mut Catalog,
    at: &ast::AlterTable,
    flags: &TidbFlags,
    db: Option<&str>,
    txn: &mut Transaction,
    warnings: &mut Vec<(u16, String)>,
) -> Result<Output> {
    use ast::AlterTableOperation as Op;
    let mut renamed_to: Option<ast::ObjectName> = None;
    {
        let t = lookup_mut(catalog, &at.name, db)?;
        for op in &at.operations {
            match op {
                Op::AddColumn {
                    column_def,
                    if_not_exists,
                    ..
                } => {
                    if t.column(&column_def.name.value).is_some() {
                        if *if_not_exists {
                            continue;
                        }
                        return Err(Error::DuplicateColumn(column_def.name.value.clone()));
                    }
                    let (col, specs) = column_def_for_alter(column_def, t, warnings)?;
                    t.columns.push(col);
                    for spec in specs {
                        add_index(t, spec, txn)?;
                    }
                }
                Op::DropColumn {
                    column_names,
                    if_exists,
                    ..
                } => {
                    for name in column_names {
                        drop_column(t, &name.value, *if_exists, txn)?;
                    }
                }
                Op::ModifyColumn {
                    col_name,
                    data_type,
                    options,
                    ..
                } => modify_column(
                    t,
                    &col_name.value,
                    &col_name.value,
                    data_type,
                    options,
                    txn,
                    warnings,
                )?,
                Op::ChangeColumn {
                    old_name,
                    new_name,
                    data_type,
                    options,
                    ..
                } => modify_column(
                    t,
                    &old_name.value,
                    &new_name.value,
                    data_type,
                    options,
                    txn,
                    warnings,
                )?,
                Op::RenameColumn {
                    old_column_name,
                    new_column_name,
                } => {
                    let i = t.column_index(&old_column_name.value).ok_or_else(|| {
                        Error::UnknownColumn {
                            column: old_column_name.value.clone(),
                            context: t.name.clone(),
                        }
                    })?;
                    rename_column_refs(t, &t.columns[i].name.clone(), &new_column_name.value);
                    t.columns[i].name = new_column_name.value.clone();
                }
                Op::AddConstraint { constraint, .. } => {
                    for spec in constraint_spec(constraint, flags, t)? {
                        match &spec.name {
                            Some(n) if flags.index_if_not_exists && t.index(n).is_some() => {
                                warnings.push((1061, format!("index already exist {n}; skip it")));
                            }
                            _ => add_index(t, spec, txn)?,
                        }
                    }
                }
                Op::DropIndex { name } => drop_index(t, &name.value, false, txn)?,
                Op::DropForeignKey { name, .. } => {
                    let before = t.foreign_keys.len();
                    t.foreign_keys
                        .retain(|f| !f.name.eq_ignore_ascii_case(&name.value));
                    if before == t.foreign_keys.len() {
                        return Err(Error::CantDropFieldOrKey(name.value.clone()));
                    }
                }
                Op::RenameTable { table_name } => {
                    renamed_to = Some(match table_name {
                        ast::RenameTableNameKind::As(n) | ast::RenameTableNameKind::To(n) => {
                            n.clone()
                        }
                    });
                }
                other => return Err(Error::NotSupported(format!("ALTER TABLE {other}"))),
            }
        }
        validate_generated(t)?;
    }
    if let Some(new) = renamed_to {
        rename_table(catalog, &at.name, &new, db)?;
    }
    Ok(ok(0))
}

fn column_def_for_alter(
    c: &ast::ColumnDef,
    t: &TableDef,
    warnings: &mut Vec<(u16, String)>,
) -> Result<(ColumnDef, Vec<IndexSpec>)> {
    let (col, specs) = column_def(c, t, warnings)?;
    if col.generated.is_some() {
        return Err(Error::UnsupportedOnGenerated(
            "'Adding generated stored column through ALTER TABLE' is not supported for generated columns.".into(),
        ));
    }
    if specs.iter().any(|s| s.kind == Kind::Primary) {
        return Err(Error::NotSupported("adding a PRIMARY KEY column".into()));
    }
    Ok((col, specs))
}

fn rename_column_refs(t: &mut TableDef, old: &str, new: &str) {
    for idx in &mut t.indexes {
        for c in &mut idx.columns {
            if c.eq_ignore_ascii_case(old) {
                *c = new.to_string();
            }
        }
    }
    for c in &mut t.columns {
        if let Some(Generated::Embed { source, .. }) = &mut c.generated {
            if source.eq_ignore_ascii_case(old) {
                *source = new.to_string();
            }
        }
    }
}

/// Rewrites every row of `t` (positional encoding changes with the column list).
fn rewrite_rows(
    t: &TableDef,
    old: &TableDef,
    txn: &mut Transaction,
    f: &dyn Fn(Vec<Value>) -> Result<Vec<Value>>,
) -> Result<()> {
    let rows: Vec<(Vec<u8>, Vec<Value>)> =
        tbl::scan_rows(txn, old, false)?.collect::<std::result::Result<_, _>>()?;
    for (key, row) in rows {
        let new = f(pad_row(old, row))?;
        tbl::rewrite_row(txn, t, &key, &new)?;
    }
    Ok(())
}

fn drop_column(t: &mut TableDef, name: &str, if_exists: bool, txn: &mut Transaction) -> Result<()> {
    let Some(i) = t.column_index(name) else {
        if if_exists {
            return Ok(());
        }
        return Err(Error::CantDropFieldOrKey(name.to_string()));
    };
    let col = t.columns[i].name.clone();
    if t.indexes.iter().any(|x| {
        matches!(x.kind, IndexKind::Vector { .. }) && x.columns[0].eq_ignore_ascii_case(&col)
    }) {
        return Err(Error::UnsupportedDdl(format!(
            "can't drop column {col} with Vector Key covered now"
        )));
    }
    if t.columns.iter().any(|c| matches!(&c.generated, Some(Generated::Embed { source, .. }) if source.eq_ignore_ascii_case(&col))) {
        return Err(Error::other(format!("Column '{col}' has a generated column dependency.")));
    }
    if t.columns.len() == 1 {
        return Err(Error::other(
            "You can't delete all columns with ALTER TABLE; use DROP TABLE instead",
        ));
    }
    if t.primary_key()
        .is_some_and(|p| p.columns.iter().any(|c| c.eq_ignore_ascii_case(&col)))
    {
        return Err(Error::NotSupported("dropping a PRIMARY KEY column".into()));
    }
    // Indexes that lose their only column go; others lose the column.
    let mut dropped = Vec::new();
    for idx in &mut t.indexes {
        idx.columns.retain(|c| !c.eq_ignore_ascii_case(&col));
        if idx.columns.is_empty() {
            dropped.push(idx.id);
        }
    }
    let old = t.clone();
    for id in &dropped {
        tbl::drop_index_entries(txn, &old, *id)?;
    }
    t.indexes.retain(|x| !x.columns.is_empty());
    t.columns.remove(i);
    rewrite_rows(t, &old, txn, &|mut r| {
        r.remove(i);
        Ok(r)
    })
}

fn modify_column(
    t: &mut TableDef,
    old_name: &str,
    new_name: &str,
    data_type: &ast::DataType,
    options: &[ColumnOption],
    txn: &mut Transaction,
    warnings: &mut Vec<(u16, String)>,
) -> Result<()> {
    let i = t
        .column_index(old_name)
        .ok_or_else(|| Error::UnknownColumn {
            column: old_name.to_string(),
            context: t.name.clone(),
        })?;
    let def = ast::ColumnDef {
        name: ast::Ident::new(new_name),
        data_type: data_type.clone(),
        options: options
            .iter()
            .map(|o| ast::ColumnOptionDef {
                name: None,
                option: o.clone(),
            })
            .collect(),
    };
    let (mut col, specs) = column_def(&def, t, warnings)?;
    let old_col = t.columns[i].clone();
    if col.generated.is_some() || old_col.generated.is_some() {
        return Err(Error::UnsupportedOnGenerated(
            "Unsupported modify column: generated columns".into(),
        ));
    }
    let indexed_vector = t.indexes.iter().any(|x| {
        matches!(x.kind, IndexKind::Vector { .. })
            && x.columns[0].eq_ignore_ascii_case(&old_col.name)
    });
    if indexed_vector && col.data_type != old_col.data_type {
        return Err(Error::UnsupportedDdl(
            "Unsupported modify column: vector indexes on the column".into(),
        ));
    }
    if col.data_type.is_vector() != old_col.data_type.is_vector() {
        return Err(Error::UnsupportedDdl(
            "Unsupported modify column: cannot convert to or from VECTOR".into(),
        ));
    }
    if t.primary_key().is_some_and(|p| {
        p.columns
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&old_col.name))
    }) {
        col.nullable = false;
    }
    if !specs.is_empty() {
        return Err(Error::NotSupported("key options in MODIFY COLUMN".into()));
    }
    rename_column_refs(t, &old_col.name, &col.name);
    let old = t.clone();
    t.columns[i] = col.clone();
    let new_def = t.clone();
    rewrite_rows(&new_def, &old, txn, &|mut r| {
        let v = std::mem::replace(&mut r[i], Value::Null);
        r[i] = coerce(v, &col, 1)?;
        if r[i].is_null() && !col.nullable {
            return Err(Error::NotNull(col.name.clone()));
        }
        Ok(r)
    })?;
    // Index entries of the changed column are rebuilt from the new values.
    for idx in new_def.indexes.iter().filter(|x| {
        matches!(x.kind, IndexKind::Plain | IndexKind::Unique)
            && x.columns.iter().any(|c| c.eq_ignore_ascii_case(&col.name))
    }) {
        tbl::drop_index_entries(txn, &new_def, idx.id)?;
        let rows: Vec<(Vec<u8>, Vec<Value>)> =
            tbl::scan_rows(txn, &new_def, false)?.collect::<std::result::Result<_, _>>()?;
        for (key, row) in rows {
            tbl::add_index_entry(txn, &new_def, idx, &key, &pad_row(&new_def, row))?;
        }
    }
    Ok(())
}
