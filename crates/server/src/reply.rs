//! Writing whole replies: OK, ERR, result sets (text and binary) and
//! statement outputs, with the status flags and warning count the session
//! reports.

use crate::columns::{self, WireColumn};
use crate::conn::{Conn, OutBuf, FLUSH_THRESHOLD};
use crate::errors::{self, WireError};
use crate::wire::{self, status, OkInfo};
use std::io;
use tiembed_executor::{Output, ResultSet, StatusFlags};
use tiembed_types::{Result, Value};

pub fn status_bits(s: StatusFlags) -> u16 {
    let mut bits = 0;
    if s.autocommit {
        bits |= status::AUTOCOMMIT;
    }
    if s.in_transaction {
        bits |= status::IN_TRANS;
    }
    bits
}

pub fn err(out: &mut OutBuf, e: &WireError) {
    out.packet(|p| wire::err_payload(p, e.code, e.sqlstate, &e.message));
}

pub fn ok(out: &mut OutBuf, ok: &OkInfo) {
    out.packet(|p| wire::ok_payload(p, ok, false));
}

/// The packet that ends a column list or a result set: EOF, or an OK with
/// the 0xFE header when the client asked for CLIENT_DEPRECATE_EOF.
pub fn end_of_rows(out: &mut OutBuf, deprecate_eof: bool, warnings: u16, status: u16) {
    if deprecate_eof {
        let ok = OkInfo {
            status,
            warnings,
            ..Default::default()
        };
        out.packet(|p| wire::ok_payload(p, &ok, true));
    } else {
        out.packet(|p| wire::eof_payload(p, warnings, status));
    }
}

/// The EOF after column definitions (absent with CLIENT_DEPRECATE_EOF).
pub fn end_of_columns(out: &mut OutBuf, deprecate_eof: bool, status: u16) {
    if !deprecate_eof {
        out.packet(|p| wire::eof_payload(p, 0, status));
    }
}

pub fn column_defs(out: &mut OutBuf, cols: &[WireColumn]) {
    for c in cols {
        out.packet(|p| wire::column_def_payload(p, c, None));
    }
}

/// Sends an error reply and flushes it.
pub async fn send_err(conn: &Conn, e: &WireError) -> io::Result<()> {
    err(&mut conn.out.lock(), e);
    conn.out.flush().await
}

/// Sends the outputs of one COM_QUERY (several with multi-statements) or
/// one COM_STMT_EXECUTE, then flushes.
pub async fn send_outputs(
    conn: &Conn,
    outputs: Vec<Result<Output>>,
    binary: bool,
    status: StatusFlags,
    warnings: u16,
) -> io::Result<()> {
    if outputs.is_empty() {
        return send_err(conn, &errors::proto::query_empty()).await;
    }
    let deprecate_eof = conn.deprecate_eof();
    let base = status_bits(status);
    let last = outputs.len() - 1;
    for (i, output) in outputs.into_iter().enumerate() {
        let more = i < last;
        // Only the last statement's warnings are known (SHOW WARNINGS semantics).
        let (st, warn) = if more {
            (base | status::MORE_RESULTS_EXISTS, 0)
        } else {
            (base, warnings)
        };
        match output {
            Ok(Output::Ok {
                affected_rows,
                last_insert_id,
                info,
            }) => {
                ok(
                    &mut conn.out.lock(),
                    &OkInfo {
                        affected_rows,
                        last_insert_id,
                        status: st,
                        warnings: warn,
                        info,
                    },
                );
            }
            Ok(Output::Rows(rs)) if rs.columns.is_empty() => {
                // A result without columns cannot be described on the wire.
                ok(
                    &mut conn.out.lock(),
                    &OkInfo {
                        status: st,
                        warnings: warn,
                        ..Default::default()
                    },
                );
            }
            Ok(Output::Rows(rs)) => {
                send_result_set(conn, &rs, binary, deprecate_eof, st, warn).await?
            }
            Err(e) => {
                err(&mut conn.out.lock(), &errors::to_wire(&e));
                break;
            }
        }
    }
    conn.out.flush().await
}

async fn send_result_set(
    conn: &Conn,
    rs: &ResultSet,
    binary: bool,
    deprecate_eof: bool,
    status: u16,
    warnings: u16,
) -> io::Result<()> {
    let cols = columns::plan(&rs.columns, &rs.rows);
    {
        let mut out = conn.out.lock();
        out.packet(|p| wire::put_lenenc_int(p, cols.len() as u64));
        column_defs(&mut out, &cols);
        end_of_columns(&mut out, deprecate_eof, status);
    }
    let mut rows = rs.rows.iter();
    loop {
        let mut more_rows = false;
        {
            let mut out = conn.out.lock();
            for row in rows.by_ref() {
                write_row(&mut out, &cols, row, binary);
                if out.buffered() >= FLUSH_THRESHOLD {
                    more_rows = true;
                    break;
                }
            }
        }
        if !more_rows {
            break;
        }
        conn.out.flush().await?;
    }
    end_of_rows(&mut conn.out.lock(), deprecate_eof, warnings, status);
    Ok(())
}

fn write_row(out: &mut OutBuf, cols: &[WireColumn], row: &[Value], binary: bool) {
    if binary {
        out.packet(|p| wire::binary_row_payload(p, cols, row));
    } else {
        out.packet(|p| wire::text_row_payload(p, cols.len(), row));
    }
}
