//! Bound scalar expressions: names resolved to row slots, functions to
//! [`Func`], collations decided. The executor evaluates these per row.

use tiembed_types::{Collation, DataType, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Value),
    /// A slot of the current input row.
    Column(usize),
    /// A slot of an enclosing query's row (correlated subquery); `depth` 1
    /// is the immediately enclosing query.
    OuterColumn {
        depth: usize,
        index: usize,
    },
    /// `?` of a prepared statement, 0-based.
    Param(usize),
    /// `@name`.
    UserVar(String),
    /// `@@[scope.]name`.
    SysVar {
        name: String,
        scope: VarScope,
    },
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Compare {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
        collation: Collation,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `x IS [NOT] TRUE/FALSE`.
    IsBool {
        expr: Box<Expr>,
        value: bool,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
        collation: Collation,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
        collation: Collation,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        /// Escape character; `\` when not given.
        escape: char,
        negated: bool,
        collation: Collation,
    },
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`.
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        else_: Option<Box<Expr>>,
        collation: Collation,
    },
    Cast {
        expr: Box<Expr>,
        to: CastTarget,
    },
    Call {
        func: Func,
        args: Vec<Expr>,
    },
    /// A subquery evaluated by the executor; `id` indexes the statement's
    /// subquery plans.
    Subquery {
        id: usize,
        kind: SubqueryKind,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum SubqueryKind {
    /// Must yield at most one row of one column (1242 otherwise).
    Scalar,
    Exists {
        negated: bool,
    },
    /// `expr [NOT] IN (subquery)`.
    In {
        expr: Box<Expr>,
        negated: bool,
        collation: Collation,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarScope {
    /// `@@x`: session value if the variable has one, else global.
    Default,
    Session,
    Global,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
    BitNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Plus,
    Minus,
    Multiply,
    /// `/`: DECIMAL for exact operands (scale + div_precision_increment), DOUBLE otherwise.
    Divide,
    /// `DIV`.
    IntDivide,
    Modulo,
    And,
    Or,
    Xor,
    BitAnd,
    BitOr,
    BitXor,
    ShiftLeft,
    ShiftRight,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `<=>`.
    NullSafeEq,
}

impl CmpOp {
    /// The operator with its operands swapped: `a < b` is `b > a`.
    pub fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::LtEq => CmpOp::GtEq,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::GtEq => CmpOp::LtEq,
            other => other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CastTarget {
    /// `CHAR[(n)]`, also CONVERT(x, CHAR) and CONVERT(x USING utf8mb4).
    Char(Option<u32>),
    Binary(Option<u32>),
    Signed,
    Unsigned,
    Decimal {
        precision: u8,
        scale: u8,
    },
    Double,
    Float,
    Date,
    DateTime {
        fsp: u8,
    },
    Time,
    Json,
    /// `VECTOR` / `VECTOR(D)`.
    Vector(Option<u32>),
}

macro_rules! funcs {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, $min:literal, $max:expr;)*) => {
        /// Built-in scalar functions.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Func { $($(#[$doc])* $variant),* }

        impl Func {
            /// Looks a function up by its SQL name (case-insensitive).
            pub fn from_name(name: &str) -> Option<Func> {
                let upper = name.to_ascii_uppercase();
                match upper.as_str() {
                    $($name => Some(Func::$variant),)*
                    _ => Func::alias(&upper),
                }
            }

            /// The canonical (upper-case) SQL name.
            pub fn name(self) -> &'static str {
                match self { $(Func::$variant => $name),* }
            }

            /// Accepted argument counts, inclusive (`usize::MAX`: variadic).
            pub fn arity(self) -> (usize, usize) {
                match self { $(Func::$variant => ($min, $max)),* }
            }
        }
    };
}

const N: usize = usize::MAX;

funcs! {
    // control flow
    If => "IF", 3, 3;
    IfNull => "IFNULL", 2, 2;
    NullIf => "NULLIF", 2, 2;
    Coalesce => "COALESCE", 1, N;
    Greatest => "GREATEST", 2, N;
    Least => "LEAST", 2, N;
    IsNullFn => "ISNULL", 1, 1;
    // strings
    Concat => "CONCAT", 1, N;
    ConcatWs => "CONCAT_WS", 2, N;
    Lower => "LOWER", 1, 1;
    Upper => "UPPER", 1, 1;
    Length => "LENGTH", 1, 1;
    CharLength => "CHAR_LENGTH", 1, 1;
    Substring => "SUBSTRING", 2, 3;
    SubstringIndex => "SUBSTRING_INDEX", 3, 3;
    Left => "LEFT", 2, 2;
    Right => "RIGHT", 2, 2;
    /// TRIM(x), TRIM([BOTH] r FROM x): args (x[, remove]).
    Trim => "TRIM", 1, 2;
    TrimLeading => "TRIM_LEADING", 1, 2;
    TrimTrailing => "TRIM_TRAILING", 1, 2;
    LTrim => "LTRIM", 1, 1;
    RTrim => "RTRIM", 1, 1;
    Replace => "REPLACE", 3, 3;
    Locate => "LOCATE", 2, 3;
    Instr => "INSTR", 2, 2;
    LPad => "LPAD", 3, 3;
    RPad => "RPAD", 3, 3;
    Repeat => "REPEAT", 2, 2;
    Reverse => "REVERSE", 1, 1;
    Space => "SPACE", 1, 1;
    Ascii => "ASCII", 1, 1;
    Hex => "HEX", 1, 1;
    Unhex => "UNHEX", 1, 1;
    Md5 => "MD5", 1, 1;
    Sha1 => "SHA1", 1, 1;
    Sha2 => "SHA2", 2, 2;
    FindInSet => "FIND_IN_SET", 2, 2;
    Strcmp => "STRCMP", 2, 2;
    Format => "FORMAT", 2, 3;
    // math
    Abs => "ABS", 1, 1;
    Ceil => "CEIL", 1, 1;
    Floor => "FLOOR", 1, 1;
    Round => "ROUND", 1, 2;
    Truncate => "TRUNCATE", 2, 2;
    Mod => "MOD", 2, 2;
    Pow => "POW", 2, 2;
    Sqrt => "SQRT", 1, 1;
    Exp => "EXP", 1, 1;
    Ln => "LN", 1, 1;
    Log => "LOG", 1, 2;
    Log2 => "LOG2", 1, 1;
    Log10 => "LOG10", 1, 1;
    Sign => "SIGN", 1, 1;
    Pi => "PI", 0, 0;
    Rand => "RAND", 0, 1;
    // date and time
    Now => "NOW", 0, 1;
    CurDate => "CURDATE", 0, 0;
    CurTime => "CURTIME", 0, 1;
    UtcTimestamp => "UTC_TIMESTAMP", 0, 1;
    UnixTimestamp => "UNIX_TIMESTAMP", 0, 1;
    FromUnixtime => "FROM_UNIXTIME", 1, 2;
    Date => "DATE", 1, 1;
    Year => "YEAR", 1, 1;
    Month => "MONTH", 1, 1;
    Day => "DAY", 1, 1;
    Hour => "HOUR", 1, 1;
    Minute => "MINUTE", 1, 1;
    Second => "SECOND", 1, 1;
    DayOfWeek => "DAYOFWEEK", 1, 1;
    DateFormat => "DATE_FORMAT", 2, 2;
    /// DATE_ADD(d, INTERVAL n unit): args (d, n, unit as string literal).
    DateAdd => "DATE_ADD", 3, 3;
    DateSub => "DATE_SUB", 3, 3;
    DateDiff => "DATEDIFF", 2, 2;
    /// TIMESTAMPDIFF(unit, a, b): args (unit as string literal, a, b).
    TimestampDiff => "TIMESTAMPDIFF", 3, 3;
    // JSON
    JsonExtract => "JSON_EXTRACT", 2, N;
    JsonUnquote => "JSON_UNQUOTE", 1, 1;
    JsonContains => "JSON_CONTAINS", 2, 3;
    JsonObject => "JSON_OBJECT", 0, N;
    JsonArray => "JSON_ARRAY", 0, N;
    JsonLength => "JSON_LENGTH", 1, 2;
    JsonKeys => "JSON_KEYS", 1, 2;
    JsonValid => "JSON_VALID", 1, 1;
    JsonType => "JSON_TYPE", 1, 1;
    JsonQuote => "JSON_QUOTE", 1, 1;
    JsonSet => "JSON_SET", 3, N;
    JsonRemove => "JSON_REMOVE", 2, N;
    JsonContainsPath => "JSON_CONTAINS_PATH", 3, N;
    // vectors
    VecDims => "VEC_DIMS", 1, 1;
    VecL1Distance => "VEC_L1_DISTANCE", 2, 2;
    VecL2Distance => "VEC_L2_DISTANCE", 2, 2;
    VecCosineDistance => "VEC_COSINE_DISTANCE", 2, 2;
    VecNegativeInnerProduct => "VEC_NEGATIVE_INNER_PRODUCT", 2, 2;
    VecL2Norm => "VEC_L2_NORM", 1, 1;
    VecFromText => "VEC_FROM_TEXT", 1, 1;
    VecAsText => "VEC_AS_TEXT", 1, 1;
    // auto embedding (VEC_EMBED_* are rewritten by the binder, never evaluated)
    EmbedText => "EMBED_TEXT", 2, 3;
    VecEmbedCosineDistance => "VEC_EMBED_COSINE_DISTANCE", 2, 2;
    VecEmbedL2Distance => "VEC_EMBED_L2_DISTANCE", 2, 2;
    VecEmbedL1Distance => "VEC_EMBED_L1_DISTANCE", 2, 2;
    VecEmbedNegativeInnerProduct => "VEC_EMBED_NEGATIVE_INNER_PRODUCT", 2, 2;
    // full-text stand-in
    FtsMatchWord => "FTS_MATCH_WORD", 2, N;
    // information
    Version => "VERSION", 0, 0;
    TidbVersion => "TIDB_VERSION", 0, 0;
    Database => "DATABASE", 0, 0;
    User => "USER", 0, 0;
    CurrentUser => "CURRENT_USER", 0, 0;
    ConnectionId => "CONNECTION_ID", 0, 0;
    LastInsertId => "LAST_INSERT_ID", 0, 1;
    RowCount => "ROW_COUNT", 0, 0;
    FoundRows => "FOUND_ROWS", 0, 0;
    Uuid => "UUID", 0, 0;
    Sleep => "SLEEP", 1, 1;
}

impl Func {
    fn alias(upper: &str) -> Option<Func> {
        Some(match upper {
            "SUBSTR" | "MID" => Func::Substring,
            "CHARACTER_LENGTH" => Func::CharLength,
            "LCASE" => Func::Lower,
            "UCASE" => Func::Upper,
            "OCTET_LENGTH" => Func::Length,
            "CEILING" => Func::Ceil,
            "POWER" => Func::Pow,
            "CURRENT_TIMESTAMP" | "LOCALTIME" | "LOCALTIMESTAMP" | "SYSDATE" => Func::Now,
            "CURRENT_DATE" => Func::CurDate,
            "CURRENT_TIME" => Func::CurTime,
            "DAYOFMONTH" => Func::Day,
            "ADDDATE" => Func::DateAdd,
            "SUBDATE" => Func::DateSub,
            "SCHEMA" => Func::Database,
            "SESSION_USER" | "SYSTEM_USER" => Func::User,
            "SHA" => Func::Sha1,
            "POSITION" => Func::Locate,
            _ => return None,
        })
    }

    /// Whether the function's value may differ between calls with the same
    /// arguments (never constant-folded).
    pub fn is_volatile(self) -> bool {
        matches!(
            self,
            Func::Rand | Func::Uuid | Func::Sleep | Func::EmbedText
        )
    }

    /// The plain distance a `VEC_EMBED_*` function is rewritten to.
    pub fn embed_distance_target(self) -> Option<Func> {
        Some(match self {
            Func::VecEmbedCosineDistance => Func::VecCosineDistance,
            Func::VecEmbedL2Distance => Func::VecL2Distance,
            Func::VecEmbedL1Distance => Func::VecL1Distance,
            Func::VecEmbedNegativeInnerProduct => Func::VecNegativeInnerProduct,
            _ => return None,
        })
    }
}

/// Result type of a function call, given its argument types. Drives the
/// column metadata sent to clients (e.g. distances are DOUBLE).
pub fn func_return_type(func: Func, args: &[DataType]) -> DataType {
    crate::types::func_return_type(func, args)
}
