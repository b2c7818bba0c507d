//! A sqllogictest database over the MySQL wire (mysql_async, text protocol).
//!
//! Values print as their text; NULL as `NULL`; the empty string as
//! `(empty)`. Errors print as `ERROR <code> (<state>): <message>`, so a
//! `statement error 1062` or `query error .*Duplicate entry` line can match
//! the code or the text.

use mysql_async::prelude::Queryable;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};

pub struct MysqlDb {
    pub conn: mysql_async::Conn,
}

#[derive(Debug)]
pub struct SltError(pub String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

fn describe(e: mysql_async::Error) -> SltError {
    match e {
        mysql_async::Error::Server(s) => {
            SltError(format!("ERROR {} ({}): {}", s.code, s.state, s.message))
        }
        other => SltError(other.to_string()),
    }
}

fn render(v: &mysql_async::Value) -> String {
    match v {
        mysql_async::Value::NULL => "NULL".into(),
        mysql_async::Value::Bytes(b) if b.is_empty() => "(empty)".into(),
        mysql_async::Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.as_sql(true).trim_matches('\'').to_string(),
    }
}

#[async_trait::async_trait]
impl AsyncDB for MysqlDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<Self::ColumnType>, Self::Error> {
        let mut result = self.conn.query_iter(sql).await.map_err(describe)?;
        let columns = result.columns().map(|c| c.len()).unwrap_or(0);
        if columns == 0 {
            let affected = result.affected_rows();
            result.drop_result().await.map_err(describe)?;
            return Ok(DBOutput::StatementComplete(affected));
        }
        let rows: Vec<mysql_async::Row> = result.collect().await.map_err(describe)?;
        let rows = rows
            .into_iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.as_ref(i).map(render).unwrap_or_else(|| "NULL".into()))
                    .collect()
            })
            .collect();
        Ok(DBOutput::Rows {
            types: vec![DefaultColumnType::Any; columns],
            rows,
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "tiembed"
    }
}
