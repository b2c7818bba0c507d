//! The one place where a tiembed error becomes a MySQL error code and
//! SQLSTATE. Every variant has its own arm, so a new variant fails to
//! compile here until someone decides its code. The ERR packet is written
//! by tiembed itself (`wire::err_payload`): opensrv's `ErrorKind::from(u16)`
//! panics on codes it does not know, and TiDB codes such as 8200 are not in
//! its table.

use tiembed_types::Error;

/// A MySQL error as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub code: u16,
    pub sqlstate: &'static str,
    pub message: String,
}

impl WireError {
    pub fn new(code: u16, sqlstate: &'static str, message: impl Into<String>) -> WireError {
        WireError {
            code,
            sqlstate,
            message: message.into(),
        }
    }
}

/// Server-side errors that have no `tiembed_types::Error` variant because
/// only the protocol layer can run into them.
pub mod proto {
    use super::WireError;

    pub fn unknown_command() -> WireError {
        WireError::new(1047, "08S01", "Unknown command")
    }

    pub fn query_empty() -> WireError {
        WireError::new(1065, "42000", "Query was empty")
    }

    pub fn too_many_connections() -> WireError {
        WireError::new(1040, "08004", "Too many connections")
    }

    pub fn packet_too_large() -> WireError {
        WireError::new(
            1153,
            "08S01",
            "Got a packet bigger than 'max_allowed_packet' bytes",
        )
    }

    pub fn packets_out_of_order() -> WireError {
        WireError::new(1156, "08S01", "Got packets out of order")
    }

    /// A login over plain TCP while `require_secure_transport` is on.
    pub fn insecure_transport() -> WireError {
        WireError::new(
            3159,
            "HY000",
            "Connections using insecure transport are prohibited while --require_secure_transport=ON.",
        )
    }

    pub fn handshake_error() -> WireError {
        WireError::new(1043, "08S01", "Bad handshake")
    }

    pub fn old_client() -> WireError {
        WireError::new(
            1251,
            "08004",
            "Client does not support authentication protocol requested by server; consider upgrading MySQL client",
        )
    }

    pub fn no_open_cursor(stmt: u32) -> WireError {
        WireError::new(
            1421,
            "HY000",
            format!("The statement ({stmt}) has no open cursor."),
        )
    }

    pub fn too_many_placeholders() -> WireError {
        WireError::new(
            1390,
            "HY000",
            "Prepared statement contains too many placeholders",
        )
    }

    pub fn server_shutdown() -> WireError {
        WireError::new(1053, "08S01", "Server shutdown in progress")
    }
}

/// MySQL code and SQLSTATE of `e`.
pub fn code_and_state(e: &Error) -> (u16, &'static str) {
    match e {
        Error::Parse { .. } => (1064, "42000"),
        Error::UnknownDatabase(_) => (1049, "42000"),
        Error::NoDatabaseSelected => (1046, "3D000"),
        Error::DatabaseExists(_) => (1007, "HY000"),
        Error::DropMissingDatabase(_) => (1008, "HY000"),
        Error::NoSuchTable { .. } => (1146, "42S02"),
        Error::TableExists(_) => (1050, "42S01"),
        Error::BadTable(_) => (1051, "42S02"),
        Error::UnknownColumn { .. } => (1054, "42S22"),
        Error::AmbiguousColumn { .. } => (1052, "23000"),
        Error::DuplicateColumn(_) => (1060, "42S21"),
        Error::DuplicateKeyName(_) => (1061, "42000"),
        Error::CantDropFieldOrKey(_) => (1091, "42000"),
        Error::MultiplePrimaryKey => (1068, "42000"),
        Error::WrongArgCount(_) => (1582, "42000"),
        Error::UnknownFunction(_) => (1305, "42000"),
        Error::OperandColumns(_) => (1241, "21000"),
        Error::InvalidGroupFuncUse => (1111, "HY000"),
        Error::ValueCountMismatch(_) => (1136, "21S01"),
        Error::SubqueryMoreThanOneRow => (1242, "21000"),
        Error::UnknownTableIn(..) => (1109, "42S02"),
        Error::NonUniqueTable(_) => (1066, "42000"),
        Error::DuplicateEntry { .. } => (1062, "23000"),
        Error::NotNull(_) => (1048, "23000"),
        Error::NoDefault(_) => (1364, "HY000"),
        Error::DataTooLong { .. } => (1406, "22001"),
        Error::OutOfRange { .. } => (1264, "22003"),
        Error::IncorrectValue { .. } => (1366, "HY000"),
        Error::TruncatedWrongValue { .. } => (1292, "22007"),
        Error::ArithmeticOutOfRange { .. } => (1690, "22003"),
        Error::InvalidJson(_) => (3140, "22032"),
        Error::InvalidJsonPath(_) => (3143, "42000"),
        Error::GeneratedValueNotAllowed { .. } => (3105, "HY000"),
        Error::UnsupportedOnGenerated(_) => (3106, "HY000"),
        Error::InvalidUtf8(_) => (1300, "HY000"),
        Error::UnknownSystemVariable(_) => (1193, "HY000"),
        Error::GlobalOnlyVariable(_) => (1229, "HY000"),
        Error::SessionOnlyVariable(_) => (1228, "HY000"),
        Error::ReadOnlyVariable(_) => (1238, "HY000"),
        Error::WrongValueForVariable { .. } => (1231, "42000"),
        Error::UnknownCharset(_) => (1115, "42000"),
        Error::UnknownCollation(_) => (1273, "HY000"),
        Error::AccessDenied { .. } => (1045, "28000"),
        Error::UnknownStatement(..) => (1243, "HY000"),
        Error::WrongArguments(_) => (1210, "HY000"),
        Error::Interrupted => (1317, "70100"),
        Error::EmptyQuery => (1065, "42000"),
        Error::MultiStatementDisabled => (8130, "HY000"),
        Error::NotSupported(_) => (1235, "42000"),
        Error::UnsupportedDdl(_) => (8200, "HY000"),
        Error::Other(_) => (1105, "HY000"),
        Error::Internal(_) => (1105, "HY000"),
    }
}

/// The wire form of `e`. Internal errors are logged with their detail and
/// reach the client with their message only.
pub fn to_wire(e: &Error) -> WireError {
    let (code, sqlstate) = code_and_state(e);
    if let Error::Internal(detail) = e {
        tracing::error!(%detail, "internal error");
    }
    WireError {
        code,
        sqlstate,
        message: e.to_string(),
    }
}

/// MySQL's 1300 message shows the offending bytes as upper-case hex,
/// starting at the first invalid sequence and cut after three bytes
/// (`Invalid utf8mb4 character string: 'ACED00'`).
pub fn invalid_utf8_error(bytes: &[u8]) -> WireError {
    let at = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) => e.valid_up_to(),
    };
    let hex: String = bytes[at..]
        .iter()
        .take(3)
        .map(|b| format!("{b:02X}"))
        .collect();
    to_wire(&Error::InvalidUtf8(hex))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_that_clients_depend_on() {
        let cases = [
            (
                Error::NoSuchTable {
                    db: "d".into(),
                    table: "t".into(),
                },
                1146,
                "42S02",
            ),
            (Error::UnknownDatabase("x".into()), 1049, "42000"),
            (Error::TableExists("t".into()), 1050, "42S01"),
            (Error::BadTable("d.t".into()), 1051, "42S02"),
            (Error::DatabaseExists("d".into()), 1007, "HY000"),
            (
                Error::GeneratedValueNotAllowed {
                    column: "v".into(),
                    table: "t".into(),
                },
                3105,
                "HY000",
            ),
            (
                Error::DuplicateEntry {
                    value: "1".into(),
                    key: "t.PRIMARY".into(),
                },
                1062,
                "23000",
            ),
            (Error::UnsupportedDdl("x".into()), 8200, "HY000"),
            (Error::Other("x".into()), 1105, "HY000"),
        ];
        for (e, code, state) in cases {
            assert_eq!(code_and_state(&e), (code, state), "{e:?}");
        }
    }

    #[test]
    fn access_denied_text() {
        let w = to_wire(&Error::AccessDenied {
            user: "root".into(),
            host: "127.0.0.1".into(),
            using_password: true,
        });
        assert_eq!(w.code, 1045);
        assert_eq!(
            w.message,
            "Access denied for user 'root'@'127.0.0.1' (using password: YES)"
        );
    }

    #[test]
    fn invalid_utf8_message() {
        let w = invalid_utf8_error(b"SELECT '\xff\xfeabc'");
        assert_eq!(w.code, 1300);
        assert_eq!(w.message, "Invalid utf8mb4 character string: 'FFFE61'");
    }
}
