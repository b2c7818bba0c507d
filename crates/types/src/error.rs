//! The SQL-facing error every layer reports. Each variant is one failure a
//! client can see; its `Display` is the message text, worded as TiDB/MySQL
//! word it. The server maps variants to MySQL codes and SQLSTATEs.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, Error, PartialEq)]
pub enum Error {
    // ---- parse / bind -------------------------------------------------
    /// 1064. `near` is the statement text from the failing position on.
    #[error("You have an error in your SQL syntax; check the manual that corresponds to your TiDB version for the right syntax to use line {line} column {column} near \"{near}\" ")]
    Parse {
        line: u64,
        column: u64,
        near: String,
    },
    #[error("Unknown database '{0}'")]
    UnknownDatabase(String),
    #[error("No database selected")]
    NoDatabaseSelected,
    #[error("Can't create database '{0}'; database exists")]
    DatabaseExists(String),
    #[error("Can't drop database '{0}'; database doesn't exist")]
    DropMissingDatabase(String),
    #[error("Table '{db}.{table}' doesn't exist")]
    NoSuchTable { db: String, table: String },
    #[error("Table '{0}' already exists")]
    TableExists(String),
    /// 1051, DROP TABLE of missing tables: `'db.t1,db.t2'`.
    #[error("Unknown table '{0}'")]
    BadTable(String),
    /// 1054; `context` is `field list`, `where clause`, `order clause`, ...
    #[error("Unknown column '{column}' in '{context}'")]
    UnknownColumn { column: String, context: String },
    #[error("Column '{column}' in {context} is ambiguous")]
    AmbiguousColumn { column: String, context: String },
    #[error("Duplicate column name '{0}'")]
    DuplicateColumn(String),
    #[error("Duplicate key name '{0}'")]
    DuplicateKeyName(String),
    #[error("Can't DROP '{0}'; check that column/key exists")]
    CantDropFieldOrKey(String),
    #[error("Multiple primary key defined")]
    MultiplePrimaryKey,
    #[error("Incorrect parameter count in the call to native function '{0}'")]
    WrongArgCount(String),
    #[error("FUNCTION {0} does not exist")]
    UnknownFunction(String),
    #[error("Operand should contain {0} column(s)")]
    OperandColumns(usize),
    #[error("Invalid use of group function")]
    InvalidGroupFuncUse,
    #[error("Column count doesn't match value count at row {0}")]
    ValueCountMismatch(usize),
    #[error("Subquery returns more than 1 row")]
    SubqueryMoreThanOneRow,
    #[error("Unknown table '{0}' in {1}")]
    UnknownTableIn(String, String),
    #[error("Not unique table/alias: '{0}'")]
    NonUniqueTable(String),

    // ---- write constraints ---------------------------------------------
    /// 1062; `key` is `table.INDEX` as TiDB prints it (`t.PRIMARY`).
    #[error("Duplicate entry '{value}' for key '{key}'")]
    DuplicateEntry { value: String, key: String },
    #[error("Column '{0}' cannot be null")]
    NotNull(String),
    #[error("Field '{0}' doesn't have a default value")]
    NoDefault(String),
    #[error("Data too long for column '{column}' at row {row}")]
    DataTooLong { column: String, row: usize },
    #[error("Out of range value for column '{column}' at row {row}")]
    OutOfRange { column: String, row: usize },
    /// 1366, e.g. `Incorrect integer value: 'abc' for column 'id' at row 1`.
    #[error("Incorrect {kind} value: '{value}' for column '{column}' at row {row}")]
    IncorrectValue {
        kind: String,
        value: String,
        column: String,
        row: usize,
    },
    /// 1292, e.g. `Incorrect datetime value: 'x'`.
    #[error("Incorrect {kind} value: '{value}'")]
    TruncatedWrongValue { kind: String, value: String },
    /// 1690, arithmetic overflow: `BIGINT value is out of range in '(a + b)'`.
    #[error("{kind} value is out of range in '{expr}'")]
    ArithmeticOutOfRange { kind: String, expr: String },
    /// 3140.
    #[error("Invalid JSON text: {0}")]
    InvalidJson(String),
    /// 3143.
    #[error("Invalid JSON path expression. The error is around character position {0}.")]
    InvalidJsonPath(usize),
    /// 3105.
    #[error(
        "The value specified for generated column '{column}' in table '{table}' is not allowed."
    )]
    GeneratedValueNotAllowed { column: String, table: String },
    /// 3106, with TiDB's own wording in place of the MySQL template.
    #[error("{0}")]
    UnsupportedOnGenerated(String),
    /// 1300.
    #[error("Invalid utf8mb4 character string: '{0}'")]
    InvalidUtf8(String),

    // ---- variables -----------------------------------------------------
    #[error("Unknown system variable '{0}'")]
    UnknownSystemVariable(String),
    #[error("Variable '{0}' is a GLOBAL variable and should be set with SET GLOBAL")]
    GlobalOnlyVariable(String),
    #[error("Variable '{0}' is a SESSION variable and can't be used with SET GLOBAL")]
    SessionOnlyVariable(String),
    #[error("Variable '{0}' is a read only variable")]
    ReadOnlyVariable(String),
    #[error("Variable '{name}' can't be set to the value of '{value}'")]
    WrongValueForVariable { name: String, value: String },
    #[error("Unknown character set: '{0}'")]
    UnknownCharset(String),
    #[error("Unknown collation: '{0}'")]
    UnknownCollation(String),

    // ---- connection / statements ----------------------------------------
    #[error("Access denied for user '{user}'@'{host}' (using password: {})", if *.using_password { "YES" } else { "NO" })]
    AccessDenied {
        user: String,
        host: String,
        using_password: bool,
    },
    #[error("Unknown prepared statement handler ({0}) given to {1}")]
    UnknownStatement(String, String),
    #[error("Incorrect arguments to {0}")]
    WrongArguments(String),
    #[error("Query execution was interrupted")]
    Interrupted,
    /// 1065.
    #[error("Query was empty")]
    EmptyQuery,
    /// 8130: several statements in one COM_QUERY without CLIENT_MULTI_STATEMENTS.
    #[error("client has multi-statement capability disabled. Run SET GLOBAL tidb_multi_statement_mode='ON' after you understand the security risk")]
    MultiStatementDisabled,

    // ---- unsupported / TiDB-specific ------------------------------------
    /// 1235.
    #[error("This version of TiDB doesn't yet support '{0}'")]
    NotSupported(String),
    /// 8200, TiDB's `ErrUnsupportedDDLOperation` family; the text is TiDB's.
    #[error("{0}")]
    UnsupportedDdl(String),
    /// 1105: TiDB's catch-all (vector texts, embedding failures, ...).
    #[error("{0}")]
    Other(String),
    /// Something that should not happen; logged with detail, reported as 1105.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A 1105 error with the given text.
    pub fn other(msg: impl Into<String>) -> Error {
        Error::Other(msg.into())
    }

    pub fn internal(msg: impl std::fmt::Display) -> Error {
        Error::Internal(msg.to_string())
    }
}
