//! The `AsyncMysqlShim` opensrv drives: it dispatches COM_QUERY,
//! COM_STMT_PREPARE / EXECUTE / CLOSE and COM_INIT_DB to the session and
//! writes the replies itself (`reply.rs`). opensrv's writers are handed
//! back unused; its output goes to a sink (see `guard.rs` and `wire.rs`
//! for why).

use crate::columns::{WireColumn, WireType};
use crate::conn::Conn;
use crate::errors::{self, proto};
use crate::reply;
use crate::wire;
use async_trait::async_trait;
use opensrv_mysql::{
    AsyncMysqlShim, Column, ColumnFlags, ColumnType, InitWriter, ParamParser, QueryResultWriter,
    StatementMetaWriter,
};
use std::io;
use std::sync::Arc;
use tiembed_executor::Output;
use tiembed_types::Error;
use tokio::io::Sink;
use tracing::Instrument;

pub struct Shim {
    conn: Arc<Conn>,
    salt: [u8; 20],
    /// Parameter placeholders for opensrv's statement table: opensrv needs
    /// `&'a Column`s that outlive the reply call, so they live here.
    placeholders: Vec<Column>,
}

impl Shim {
    pub fn new(conn: Arc<Conn>, salt: [u8; 20]) -> Shim {
        Shim {
            conn,
            salt,
            placeholders: Vec::new(),
        }
    }
}

/// Statement text safe to put in a debug log: pytidb pastes API keys into
/// `SET @@GLOBAL.TIDB_EXP_EMBED_*_API_KEY = '...'` statements.
fn loggable(sql: &str) -> String {
    if sql.to_ascii_uppercase().contains("API_KEY") {
        return "<statement with an API key>".into();
    }
    let mut s: String = sql.chars().take(200).collect();
    if s.len() < sql.len() {
        s.push_str("...");
    }
    s
}

#[async_trait]
impl AsyncMysqlShim<Sink> for Shim {
    type Error = io::Error;

    fn version(&self) -> String {
        self.conn.shared.config.version.clone()
    }

    fn connect_id(&self) -> u32 {
        self.conn.id
    }

    fn salt(&self) -> [u8; 20] {
        self.salt
    }

    /// "" tells opensrv not to start an auth switch on the synthetic login.
    async fn auth_plugin_for_username(&self, _user: &[u8]) -> &str {
        ""
    }

    /// The client was authenticated by `handshake::login` before opensrv
    /// started; what opensrv authenticates here is the synthetic response
    /// the guard feeds it, never bytes from the network.
    async fn authenticate(&self, _plugin: &str, _user: &[u8], _salt: &[u8], _auth: &[u8]) -> bool {
        true
    }

    async fn on_prepare<'a>(
        &'a mut self,
        query: &'a str,
        info: StatementMetaWriter<'a, Sink>,
    ) -> io::Result<()> {
        tracing::trace!(sql = %loggable(query), "prepare");
        let prepared = self.conn.session.lock().await.prepare(query).await;
        let p = match prepared {
            Ok(p) => p,
            Err(e) => return reply::send_err(&self.conn, &errors::to_wire(&e)).await,
        };
        let Ok(nparams) = u16::try_from(p.param_count) else {
            self.conn.session.lock().await.close_prepared(p.id);
            return reply::send_err(&self.conn, &proto::too_many_placeholders()).await;
        };
        let Ok(ncols) = u16::try_from(p.columns.len()) else {
            self.conn.session.lock().await.close_prepared(p.id);
            return reply::send_err(
                &self.conn,
                &errors::to_wire(&Error::other("Too many columns")),
            )
            .await;
        };
        let warnings = self.conn.session.lock().await.warning_count();
        self.conn.state.lock().stmts.insert(
            p.id,
            crate::conn::StmtMeta {
                params: nparams,
                ..Default::default()
            },
        );

        // Register the id and parameter count in opensrv's statement table
        // (it refuses to dispatch an EXECUTE it does not know); what it
        // writes goes to the sink.
        if self.placeholders.len() < usize::from(nparams) {
            self.placeholders.resize(
                usize::from(nparams),
                Column {
                    table: String::new(),
                    column: "?".into(),
                    coltype: ColumnType::MYSQL_TYPE_VAR_STRING,
                    colflags: ColumnFlags::empty(),
                },
            );
        }
        let this: &'a Shim = self;
        info.reply(p.id, &this.placeholders[..usize::from(nparams)], &[])
            .await?;

        let deprecate_eof = this.conn.deprecate_eof();
        {
            let mut out = this.conn.out.lock();
            out.packet(|b| wire::prepare_ok_payload(b, p.id, ncols, nparams, warnings));
            if nparams > 0 {
                let placeholder = WireColumn::synthetic(
                    "?",
                    WireType::of_kind(ColumnType::MYSQL_TYPE_VAR_STRING),
                );
                for _ in 0..nparams {
                    out.packet(|b| wire::column_def_payload(b, &placeholder, None));
                }
                reply::end_of_columns(&mut out, deprecate_eof, 0);
            }
            if ncols > 0 {
                // No rows yet, so the declared types stand (the execute
                // reply re-checks them against the values).
                let cols: Vec<WireColumn> = p.columns.iter().map(WireColumn::from_info).collect();
                reply::column_defs(&mut out, &cols);
                reply::end_of_columns(&mut out, deprecate_eof, 0);
            }
        }
        this.conn.out.flush().await
    }

    async fn on_execute<'a>(
        &'a mut self,
        id: u32,
        _params: ParamParser<'a>,
        results: QueryResultWriter<'a, Sink>,
    ) -> io::Result<()> {
        // opensrv's ParamParser is never iterated: it panics on bad input.
        // The guard decoded and validated this packet's parameters.
        drop(results);
        let Some(values) = self.conn.state.lock().pending_exec.take() else {
            return reply::send_err(
                &self.conn,
                &errors::to_wire(&Error::WrongArguments("mysqld_stmt_execute".into())),
            )
            .await;
        };
        let span = tracing::debug_span!("execute", stmt = id);
        async {
            let mut session = self.conn.session.lock().await;
            let output = session.execute_prepared(id, values).await;
            let (status, warnings) = (session.status(), session.warning_count());
            drop(session);
            reply::send_outputs(&self.conn, vec![output], true, status, warnings).await
        }
        .instrument(span)
        .await
    }

    async fn on_close<'a>(&'a mut self, stmt: u32)
    where
        Sink: 'async_trait,
    {
        self.conn.session.lock().await.close_prepared(stmt);
    }

    async fn on_query<'a>(
        &'a mut self,
        query: &'a str,
        results: QueryResultWriter<'a, Sink>,
    ) -> io::Result<()> {
        drop(results);
        let multi = self.conn.state.lock().multi_statements;
        let span = tracing::debug_span!("query", len = query.len());
        async {
            tracing::trace!(sql = %loggable(query), "query");
            let mut session = self.conn.session.lock().await;
            let outputs: Vec<tiembed_types::Result<Output>> = session.execute(query, multi).await;
            let (status, warnings) = (session.status(), session.warning_count());
            drop(session);
            if let Some(Err(e)) = outputs.last() {
                tracing::debug!(error = %e, "statement failed");
            }
            reply::send_outputs(&self.conn, outputs, false, status, warnings).await
        }
        .instrument(span)
        .await
    }

    async fn on_init<'a>(
        &'a mut self,
        db: &'a str,
        _writer: InitWriter<'a, Sink>,
    ) -> io::Result<()> {
        let result = self.conn.session.lock().await.use_database(db);
        match result {
            Ok(()) => {
                let status = reply::status_bits(self.conn.session.lock().await.status());
                reply::ok(
                    &mut self.conn.out.lock(),
                    &wire::OkInfo {
                        status,
                        ..Default::default()
                    },
                );
                self.conn.out.flush().await
            }
            Err(e) => reply::send_err(&self.conn, &errors::to_wire(&e)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::loggable;

    #[test]
    fn api_keys_never_reach_the_log() {
        let sql = "SET @@GLOBAL.`TIDB_EXP_EMBED_HUGGINGFACE_API_KEY` = 'hf_secret';";
        assert!(!loggable(sql).contains("hf_secret"));
        assert_eq!(loggable("SELECT 1"), "SELECT 1");
    }
}
