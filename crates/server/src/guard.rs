//! The guard: an `AsyncRead` that opensrv reads its commands from, and
//! that decides which client packets opensrv may see at all.
//!
//! It exists because of opensrv-mysql 0.7.0's defects (without copying any
//! of its code):
//!
//! * **Pipelined packets.** opensrv's packet reader keeps a borrowed slice
//!   into a buffer it then replaces when one read returned the end of one
//!   packet and the start of the next: a use-after-free. The guard frames
//!   packets itself and hands opensrv exactly one logical packet (a
//!   command, including all 16 MiB continuation chunks) per request; a
//!   read never returns a byte of the following packet. Whatever the
//!   client pipelined stays in the guard's own buffer until opensrv asks
//!   for the next command.
//! * **Invalid UTF-8.** opensrv drops the connection on a COM_QUERY,
//!   COM_STMT_PREPARE or COM_INIT_DB that is not UTF-8. The guard answers
//!   those with ERROR 1300 itself and keeps the connection.
//! * **Malformed COM_STMT_EXECUTE.** opensrv panics on a short or
//!   ill-typed execute packet and closes the connection on an unknown
//!   statement id. The guard decodes the packet fully first (`params.rs`):
//!   ERROR 1210 or 1243 for bad ones, and for good ones opensrv only
//!   dispatches to the shim, which takes the values decoded here.
//! * **Commands opensrv answers wrongly.** COM_FIELD_LIST (always an empty
//!   list), COM_STMT_RESET, COM_SET_OPTION, COM_RESET_CONNECTION,
//!   COM_STATISTICS, COM_STMT_FETCH and unknown commands (all a bare OK),
//!   COM_PING (status 0), COM_STMT_SEND_LONG_DATA / COM_STMT_CLOSE for
//!   unknown statements (connection closed / stray OK) are answered here.
//! * **No packet size limit.** Packets above `max_allowed_packet` get
//!   ERROR 1153 and the connection is closed, as MySQL does.
//!
//! opensrv receives COM_QUERY, COM_STMT_PREPARE, COM_STMT_EXECUTE,
//! COM_STMT_CLOSE, COM_INIT_DB and COM_QUIT, always well-formed. Every
//! reply the client sees is written by tiembed (`reply.rs`); opensrv's own
//! output goes to a sink.
//!
//! Shutdown: the guard is only asked for a command once the previous one
//! is answered, so when the server shuts down it ends the stream (EOF to
//! opensrv) at the next command boundary: running statements finish,
//! idle connections close.

use crate::conn::{Conn, ConnState};
use crate::errors::{self, proto, WireError};
use crate::packet::{read_packet, Packet, ReadError};
use crate::reply;
use crate::wire::{self, OkInfo};
use crate::{columns::WireColumn, cursor::Cursor};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use tiembed_types::Error;
use tokio::io::{AsyncRead, BufReader, ReadBuf, ReadHalf};
use tokio::sync::watch;

/// Command bytes.
mod com {
    pub const QUIT: u8 = 0x01;
    pub const INIT_DB: u8 = 0x02;
    pub const QUERY: u8 = 0x03;
    pub const FIELD_LIST: u8 = 0x04;
    pub const STATISTICS: u8 = 0x09;
    pub const PING: u8 = 0x0E;
    pub const STMT_PREPARE: u8 = 0x16;
    pub const STMT_EXECUTE: u8 = 0x17;
    pub const STMT_SEND_LONG_DATA: u8 = 0x18;
    pub const STMT_CLOSE: u8 = 0x19;
    pub const STMT_RESET: u8 = 0x1A;
    pub const SET_OPTION: u8 = 0x1B;
    pub const STMT_FETCH: u8 = 0x1C;
    pub const RESET_CONNECTION: u8 = 0x1F;
}

type NextFuture =
    Pin<Box<dyn Future<Output = (Box<Frontend>, io::Result<Option<Vec<u8>>>)> + Send>>;

enum State {
    Idle(Box<Frontend>),
    Busy(NextFuture),
    Closed,
}

/// The `AsyncRead` handed to opensrv.
pub struct GuardReader {
    /// Bytes of the one packet currently being handed out.
    pending: Vec<u8>,
    pos: usize,
    state: State,
}

impl GuardReader {
    /// `prelude` is what opensrv reads first (the synthetic handshake
    /// response); after it, commands come from `frontend`.
    pub fn new(prelude: Vec<u8>, frontend: Frontend) -> GuardReader {
        GuardReader {
            pending: prelude,
            pos: 0,
            state: State::Idle(Box::new(frontend)),
        }
    }
}

impl AsyncRead for GuardReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            if this.pos < this.pending.len() {
                let n = buf.remaining().min(this.pending.len() - this.pos);
                buf.put_slice(&this.pending[this.pos..this.pos + n]);
                this.pos += n;
                if this.pos == this.pending.len() {
                    this.pending.clear();
                    this.pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            match std::mem::replace(&mut this.state, State::Closed) {
                State::Idle(frontend) => this.state = State::Busy(Box::pin(frontend.next())),
                State::Busy(mut fut) => match fut.as_mut().poll(cx) {
                    Poll::Pending => {
                        this.state = State::Busy(fut);
                        return Poll::Pending;
                    }
                    Poll::Ready((frontend, result)) => match result {
                        Ok(Some(bytes)) => {
                            this.state = State::Idle(frontend);
                            this.pending = bytes;
                            this.pos = 0;
                        }
                        // End of stream: opensrv's loop ends cleanly.
                        Ok(None) => return Poll::Ready(Ok(())),
                        Err(e) => return Poll::Ready(Err(e)),
                    },
                },
                State::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}

/// The reading side of a connection, behind the guard.
pub struct Frontend {
    reader: BufReader<ReadHalf<Box<dyn crate::conn::Io>>>,
    conn: Arc<Conn>,
    shutdown: watch::Receiver<bool>,
}

enum Step {
    /// Hand these bytes (one framed packet) to opensrv.
    Forward(Vec<u8>),
    /// Answered (or deliberately unanswered) here; read the next packet.
    Handled,
}

impl Frontend {
    pub fn new(
        reader: BufReader<ReadHalf<Box<dyn crate::conn::Io>>>,
        conn: Arc<Conn>,
        shutdown: watch::Receiver<bool>,
    ) -> Frontend {
        Frontend {
            reader,
            conn,
            shutdown,
        }
    }

    async fn next(mut self: Box<Self>) -> (Box<Self>, io::Result<Option<Vec<u8>>>) {
        let r = self.next_command().await;
        (self, r)
    }

    /// The next packet opensrv should see; `None` ends the connection.
    async fn next_command(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if *self.shutdown.borrow() {
                return Ok(None);
            }
            let max = self.conn.shared.config.max_allowed_packet;
            let read = tokio::select! {
                r = read_packet(&mut self.reader, max, Some(0)) => r,
                _ = shutdown_signal(&mut self.shutdown) => return Ok(None),
            };
            let pkt = match read {
                Ok(Some(p)) => p,
                Ok(None) | Err(ReadError::Truncated) => return Ok(None),
                Err(ReadError::TooLarge { seq, .. }) => {
                    self.fatal(seq, proto::packet_too_large()).await;
                    return Ok(None);
                }
                Err(ReadError::OutOfOrder { got, .. }) => {
                    self.fatal(got, proto::packets_out_of_order()).await;
                    return Ok(None);
                }
                Err(ReadError::Io(e)) => return Err(e),
            };
            self.conn.out.lock().seq = pkt.seq.wrapping_add(1);
            match self.dispatch(pkt).await? {
                Step::Forward(bytes) => return Ok(Some(bytes)),
                Step::Handled => continue,
            }
        }
    }

    /// Replies with an error that ends the connection.
    async fn fatal(&self, seq: u8, e: WireError) {
        {
            let mut out = self.conn.out.lock();
            out.seq = seq.wrapping_add(1);
            reply::err(&mut out, &e);
        }
        let _ = self.conn.out.flush().await;
    }

    async fn reply_err(&self, e: &WireError) -> io::Result<Step> {
        reply::send_err(&self.conn, e).await?;
        Ok(Step::Handled)
    }

    async fn reply_ok(&self) -> io::Result<Step> {
        let status = reply::status_bits(self.conn.session.lock().await.status());
        reply::ok(
            &mut self.conn.out.lock(),
            &OkInfo {
                status,
                ..Default::default()
            },
        );
        self.conn.out.flush().await?;
        Ok(Step::Handled)
    }

    async fn dispatch(&mut self, mut pkt: Packet) -> io::Result<Step> {
        let Some(&cmd) = pkt.payload.first() else {
            return self.reply_err(&proto::unknown_command()).await;
        };
        let body = &pkt.payload[1..];
        match cmd {
            com::QUIT => Ok(Step::Forward(pkt.encode())),
            com::QUERY | com::STMT_PREPARE | com::INIT_DB => {
                if std::str::from_utf8(body).is_err() {
                    return self.reply_err(&errors::invalid_utf8_error(body)).await;
                }
                if cmd == com::QUERY {
                    self.conn.shared.questions.fetch_add(1, Ordering::Relaxed);
                    // opensrv answers `SELECT @@max_allowed_packet` itself with
                    // a hard-coded value and status 0; a leading space (which
                    // SQL ignores) makes every `SELECT @@...` reach the engine.
                    if body.starts_with(b"SELECT @@") || body.starts_with(b"select @@") {
                        pkt.payload.insert(1, b' ');
                    }
                }
                Ok(Step::Forward(pkt.encode()))
            }
            com::STMT_EXECUTE => {
                self.conn.shared.questions.fetch_add(1, Ordering::Relaxed);
                let decoded = {
                    let mut st = self.conn.state.lock();
                    let r = crate::params::parse_execute(body, &mut st.stmts);
                    if let Ok((_, values)) = &r {
                        st.pending_exec = Some(values.clone());
                    }
                    r.map(|_| ())
                };
                match decoded {
                    Ok(()) => Ok(Step::Forward(pkt.encode())),
                    Err(e) => self.reply_err(&e).await,
                }
            }
            com::STMT_SEND_LONG_DATA => {
                // Never answered, as in MySQL; data for unknown statements
                // or parameters is dropped.
                let mut c = Cursor::new(body);
                if let (Some(id), Some(param)) = (c.u32(), c.u16()) {
                    let mut st = self.conn.state.lock();
                    if let Some(meta) = st.stmts.get_mut(&id) {
                        if param < meta.params {
                            meta.long_data
                                .entry(param)
                                .or_default()
                                .extend_from_slice(c.rest());
                        }
                    }
                }
                Ok(Step::Handled)
            }
            com::STMT_CLOSE => {
                // No reply in any case; only known statements reach opensrv
                // (which removes them from its table and calls on_close).
                let known = Cursor::new(body)
                    .u32()
                    .is_some_and(|id| self.conn.state.lock().stmts.remove(&id).is_some());
                Ok(if known {
                    Step::Forward(pkt.encode())
                } else {
                    Step::Handled
                })
            }
            com::STMT_RESET => {
                let Some(id) = Cursor::new(body).u32() else {
                    return self
                        .reply_err(&errors::to_wire(&Error::WrongArguments(
                            "mysqld_stmt_reset".into(),
                        )))
                        .await;
                };
                let known = match self.conn.state.lock().stmts.get_mut(&id) {
                    Some(meta) => {
                        meta.long_data.clear();
                        true
                    }
                    None => false,
                };
                if known {
                    self.reply_ok().await
                } else {
                    self.reply_err(&errors::to_wire(&Error::UnknownStatement(
                        id.to_string(),
                        "mysqld_stmt_reset".into(),
                    )))
                    .await
                }
            }
            com::STMT_FETCH => {
                let id = Cursor::new(body).u32().unwrap_or(0);
                let known = self.conn.state.lock().stmts.contains_key(&id);
                if known {
                    self.reply_err(&proto::no_open_cursor(id)).await
                } else {
                    self.reply_err(&errors::to_wire(&Error::UnknownStatement(
                        id.to_string(),
                        "mysqld_stmt_fetch".into(),
                    )))
                    .await
                }
            }
            com::FIELD_LIST => self.field_list(body).await,
            com::PING => self.reply_ok().await,
            com::STATISTICS => {
                let text = self.statistics();
                self.conn
                    .out
                    .lock()
                    .packet(|p| p.extend_from_slice(text.as_bytes()));
                self.conn.out.flush().await?;
                Ok(Step::Handled)
            }
            com::SET_OPTION => {
                let on = match Cursor::new(body).u16() {
                    Some(0) => true,
                    Some(1) => false,
                    _ => return self.reply_err(&proto::unknown_command()).await,
                };
                self.conn.state.lock().multi_statements = on;
                let status = reply::status_bits(self.conn.session.lock().await.status());
                reply::end_of_rows(
                    &mut self.conn.out.lock(),
                    self.conn.deprecate_eof(),
                    0,
                    status,
                );
                self.conn.out.flush().await?;
                Ok(Step::Handled)
            }
            com::RESET_CONNECTION => {
                self.reset_connection().await;
                self.reply_ok().await
            }
            _ => self.reply_err(&proto::unknown_command()).await,
        }
    }

    /// COM_FIELD_LIST: the table's column definitions, each with the
    /// default-value field, then EOF; or the error DESCRIBE would give.
    async fn field_list(&self, body: &[u8]) -> io::Result<Step> {
        let table = Cursor::new(body).nul_or_rest();
        let Ok(table) = std::str::from_utf8(table) else {
            return self.reply_err(&errors::invalid_utf8_error(table)).await;
        };
        let (result, status) = {
            let session = self.conn.session.lock().await;
            (
                session.field_list(table),
                reply::status_bits(session.status()),
            )
        };
        match result {
            Ok(cols) => {
                {
                    let mut out = self.conn.out.lock();
                    for c in &cols {
                        let w = WireColumn::from_info(c);
                        out.packet(|p| wire::column_def_payload(p, &w, Some(None)));
                    }
                    reply::end_of_rows(&mut out, self.conn.deprecate_eof(), 0, status);
                }
                self.conn.out.flush().await?;
                Ok(Step::Handled)
            }
            Err(e) => self.reply_err(&errors::to_wire(&e)).await,
        }
    }

    /// COM_RESET_CONNECTION: a fresh session for the same user (open
    /// transaction rolled back, prepared statements and variables gone).
    async fn reset_connection(&self) {
        let found_rows =
            self.conn.caps() & opensrv_mysql::CapabilityFlags::CLIENT_FOUND_ROWS.bits() != 0;
        let mut session = self.conn.session.lock().await;
        session.close();
        *session = self
            .conn
            .shared
            .backend
            .new_session(self.conn.id, &self.conn.user);
        if found_rows {
            session.set_found_rows(true);
        }
        let mut st = self.conn.state.lock();
        let ConnState {
            stmts,
            pending_exec,
            ..
        } = &mut *st;
        stmts.clear();
        *pending_exec = None;
    }

    fn statistics(&self) -> String {
        let shared = &self.conn.shared;
        let uptime = shared.started.elapsed().as_secs().max(1);
        let questions = shared.questions.load(Ordering::Relaxed);
        format!(
            "Uptime: {uptime}  Threads: {}  Questions: {questions}  Slow queries: 0  Opens: 0  Flush tables: 0  Open tables: 0  Queries per second avg: {:.3}",
            shared.open_connections.load(Ordering::Relaxed),
            questions as f64 / uptime as f64
        )
    }
}

/// Resolves when shutdown is signalled or the server is gone.
async fn shutdown_signal(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}
