//! Static result types of expressions (column metadata for clients, and the
//! scale at which the executor rounds DECIMAL results for display).
//!
//! The rules follow MySQL/TiDB: integer arithmetic is BIGINT (unsigned when
//! an operand is), DECIMAL sums keep the larger scale and products add
//! scales, `/` on exact operands is DECIMAL with scale
//! `scale(dividend) + div_precision_increment`, anything approximate (or a
//! string in numeric context) is DOUBLE, comparisons are BIGINT 0/1.

use crate::expr::{BinaryOp, CastTarget, Expr, Func, SubqueryKind, UnaryOp};
use tiembed_types::{DataType, IntWidth, TextKind, Value};

/// MySQL's `div_precision_increment` default.
pub const DEFAULT_DIV_PRECISION_INCREMENT: u32 = 4;
const MAX_PRECISION: u32 = 65;
/// MySQL allows 30; the executor's decimals carry at most 28.
const MAX_SCALE: u32 = 28;
/// Character results longer than this are reported as LONGTEXT.
const MAX_VARCHAR: u32 = 16383;

fn big(unsigned: bool) -> DataType {
    DataType::Int {
        width: IntWidth::Big,
        unsigned,
    }
}

fn long_text() -> DataType {
    DataType::Text(TextKind::Long)
}

fn varchar(len: u64) -> DataType {
    if len > u64::from(MAX_VARCHAR) {
        long_text()
    } else {
        DataType::VarChar(len as u32)
    }
}

/// Static type of a bound expression whose column slots have `input` types,
/// with the default `div_precision_increment`. Parameters, variables,
/// subqueries and outer columns are `DataType::Null` (unknown until run
/// time); see [`expr_type_with`] to supply them.
pub fn expr_type(expr: &Expr, input: &[DataType]) -> DataType {
    expr_type_with(expr, input, DEFAULT_DIV_PRECISION_INCREMENT, &|_| None)
}

/// [`expr_type`] with the session's `div_precision_increment` and a hook
/// asked for the leaves only the caller knows (scalar subqueries, outer
/// columns, parameters, variables); `None` from it means unknown.
pub fn expr_type_with(
    expr: &Expr,
    input: &[DataType],
    div_incr: u32,
    leaf: &dyn Fn(&Expr) -> Option<DataType>,
) -> DataType {
    Infer {
        input,
        incr: div_incr,
        leaf,
    }
    .ty(expr)
    .ty
}

/// Result type of a function call, given its argument types. Functions
/// whose type depends on a literal argument (ROUND's decimals, NOW's fsp)
/// are refined by [`expr_type`].
pub fn func_return_type(func: Func, args: &[DataType]) -> DataType {
    let typed: Vec<Typed> = args.iter().map(|t| Typed::of(t.clone())).collect();
    call_type(func, &typed).ty
}

/// A type plus, for numbers, how many integer digits it may have (a
/// literal `60` has 2, a BIGINT column 19), which decides DECIMAL precision.
#[derive(Debug, Clone)]
struct Typed {
    ty: DataType,
    int_digits: u32,
}

impl Typed {
    fn of(ty: DataType) -> Typed {
        let int_digits = match &ty {
            DataType::Int { width, unsigned } => match width {
                IntWidth::Tiny => 3,
                IntWidth::Small => 5,
                IntWidth::Medium => 8,
                IntWidth::Int => 10,
                IntWidth::Big => {
                    if *unsigned {
                        20
                    } else {
                        19
                    }
                }
            },
            DataType::Bool => 1,
            DataType::Decimal { precision, scale } => u32::from(precision.saturating_sub(*scale)),
            DataType::Date => 8,
            DataType::DateTime { .. } | DataType::Timestamp { .. } => 14,
            _ => 17,
        };
        Typed { ty, int_digits }
    }

    fn with_digits(ty: DataType, int_digits: u32) -> Typed {
        Typed { ty, int_digits }
    }
}

/// How a type behaves in arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Class {
    /// Integer (dates count: they become YYYYMMDD numbers).
    Int {
        unsigned: bool,
    },
    Decimal {
        scale: u32,
    },
    Approx,
    Vector,
    /// NULL or unknown: takes the other operand's class.
    Unknown,
}

fn class(ty: &DataType) -> Class {
    match ty {
        DataType::Int { unsigned, .. } => Class::Int {
            unsigned: *unsigned,
        },
        DataType::Bool | DataType::Date => Class::Int { unsigned: false },
        DataType::DateTime { fsp: 0 } | DataType::Timestamp { fsp: 0 } => {
            Class::Int { unsigned: false }
        }
        DataType::DateTime { fsp } | DataType::Timestamp { fsp } => Class::Decimal {
            scale: u32::from(*fsp),
        },
        DataType::Decimal { scale, .. } => Class::Decimal {
            scale: u32::from(*scale),
        },
        DataType::Vector(_) => Class::Vector,
        DataType::Null => Class::Unknown,
        _ => Class::Approx,
    }
}

fn decimal(int_digits: u32, scale: u32) -> Typed {
    let scale = scale.min(MAX_SCALE);
    let precision = (int_digits + scale).clamp(1, MAX_PRECISION);
    Typed::with_digits(
        DataType::Decimal {
            precision: precision as u8,
            scale: scale as u8,
        },
        precision - scale,
    )
}

/// Display length in characters of a value of type `ty` as text.
fn display_len(ty: &DataType) -> u64 {
    match ty {
        DataType::Int { width, unsigned } => match width {
            IntWidth::Tiny => 4,
            IntWidth::Small => 6,
            IntWidth::Medium => 9,
            IntWidth::Int => 11,
            IntWidth::Big => 20 + u64::from(*unsigned),
        },
        DataType::Bool => 1,
        DataType::Float => 12,
        DataType::Double => 22,
        DataType::Decimal { precision, .. } => u64::from(*precision) + 2,
        DataType::Char(n) | DataType::VarChar(n) | DataType::Binary(n) | DataType::VarBinary(n) => {
            u64::from(*n)
        }
        DataType::Text(k) | DataType::Blob(k) => k.max_len() as u64,
        DataType::Date => 10,
        DataType::DateTime { fsp } | DataType::Timestamp { fsp } => {
            19 + if *fsp > 0 { u64::from(*fsp) + 1 } else { 0 }
        }
        DataType::Json | DataType::Vector(_) => TextKind::Long.max_len() as u64,
        DataType::Null => 0,
    }
}

fn string_of_len(len: u64) -> DataType {
    varchar(len)
}

/// The type several alternatives (CASE branches, IF, COALESCE, GREATEST)
/// share.
fn merge(a: &Typed, b: &Typed) -> Typed {
    use DataType as T;
    match (&a.ty, &b.ty) {
        (T::Null, _) => b.clone(),
        (_, T::Null) => a.clone(),
        (x, y) if x == y => Typed::with_digits(x.clone(), a.int_digits.max(b.int_digits)),
        (T::Vector(_), T::Vector(_)) => Typed::of(T::Vector(None)),
        (T::Vector(_), y) | (y, T::Vector(_)) if y.is_string() => Typed::of(T::Vector(None)),
        (T::Json, _) | (_, T::Json) | (T::Vector(_), _) | (_, T::Vector(_)) => {
            Typed::of(long_text())
        }
        (
            T::Date | T::DateTime { .. } | T::Timestamp { .. },
            T::Date | T::DateTime { .. } | T::Timestamp { .. },
        ) => {
            let fsp = |t: &T| match t {
                T::DateTime { fsp } | T::Timestamp { fsp } => *fsp,
                _ => 0,
            };
            Typed::of(T::DateTime {
                fsp: fsp(&a.ty).max(fsp(&b.ty)),
            })
        }
        (x, y) if x.is_numeric() && y.is_numeric() => match (class(x), class(y)) {
            (Class::Int { unsigned: u1 }, Class::Int { unsigned: u2 }) => {
                Typed::with_digits(big(u1 && u2), a.int_digits.max(b.int_digits))
            }
            (Class::Approx, _) | (_, Class::Approx) => {
                Typed::of(if *x == T::Float && *y == T::Float {
                    T::Float
                } else {
                    T::Double
                })
            }
            (cx, cy) => decimal(
                a.int_digits.max(b.int_digits),
                scale_of(cx).max(scale_of(cy)),
            ),
        },
        (x, y) if x.is_binary() || y.is_binary() => {
            let len = display_len(x).max(display_len(y));
            Typed::of(if len > u64::from(MAX_VARCHAR) {
                T::Blob(TextKind::Long)
            } else {
                T::VarBinary(len as u32)
            })
        }
        (x, y) => Typed::of(string_of_len(display_len(x).max(display_len(y)))),
    }
}

fn scale_of(c: Class) -> u32 {
    match c {
        Class::Decimal { scale } => scale,
        _ => 0,
    }
}

fn merge_all<'a>(items: impl IntoIterator<Item = &'a Typed>) -> Typed {
    let mut out = Typed::of(DataType::Null);
    for t in items {
        out = merge(&out, t);
    }
    out
}

struct Infer<'a> {
    input: &'a [DataType],
    incr: u32,
    leaf: &'a dyn Fn(&Expr) -> Option<DataType>,
}

impl Infer<'_> {
    fn leaf(&self, e: &Expr) -> Typed {
        Typed::of((self.leaf)(e).unwrap_or(DataType::Null))
    }

    fn ty(&self, expr: &Expr) -> Typed {
        match expr {
            Expr::Literal(v) => literal_type(v),
            Expr::Column(i) => Typed::of(self.input.get(*i).cloned().unwrap_or(DataType::Null)),
            Expr::OuterColumn { .. } | Expr::Param(_) | Expr::UserVar(_) | Expr::SysVar { .. } => {
                self.leaf(expr)
            }
            Expr::Subquery {
                kind: SubqueryKind::Scalar,
                ..
            } => self.leaf(expr),
            Expr::Subquery { .. } => Typed::with_digits(big(false), 1),
            Expr::Unary { op, expr } => match op {
                UnaryOp::Not => Typed::with_digits(big(false), 1),
                UnaryOp::BitNot => Typed::of(big(true)),
                UnaryOp::Neg => {
                    let t = self.ty(expr);
                    match class(&t.ty) {
                        Class::Int { .. } => Typed::with_digits(big(false), t.int_digits),
                        Class::Decimal { scale } => decimal(t.int_digits, scale),
                        Class::Approx if t.ty == DataType::Float => t,
                        Class::Approx => Typed::of(DataType::Double),
                        Class::Vector | Class::Unknown => t,
                    }
                }
            },
            Expr::Binary { op, left, right } => self.binary(*op, left, right),
            Expr::Compare { .. }
            | Expr::IsNull { .. }
            | Expr::IsBool { .. }
            | Expr::Between { .. }
            | Expr::InList { .. }
            | Expr::Like { .. } => Typed::with_digits(big(false), 1),
            Expr::Case { whens, else_, .. } => {
                let mut branches: Vec<Typed> = whens.iter().map(|(_, t)| self.ty(t)).collect();
                if let Some(e) = else_ {
                    branches.push(self.ty(e));
                }
                merge_all(&branches)
            }
            Expr::Cast { expr, to } => self.cast(expr, to),
            Expr::Call { func, args } => self.call(*func, args),
        }
    }

    fn binary(&self, op: BinaryOp, left: &Expr, right: &Expr) -> Typed {
        use BinaryOp::*;
        match op {
            And | Or | Xor => return Typed::with_digits(big(false), 1),
            BitAnd | BitOr | BitXor | ShiftLeft | ShiftRight => return Typed::of(big(true)),
            _ => {}
        }
        let (l, r) = (self.ty(left), self.ty(right));
        let (cl, cr) = (class(&l.ty), class(&r.ty));
        if cl == Class::Vector || cr == Class::Vector {
            return match (&l.ty, &r.ty) {
                (DataType::Vector(Some(a)), DataType::Vector(Some(b))) if a == b => {
                    Typed::of(DataType::Vector(Some(*a)))
                }
                _ => Typed::of(DataType::Vector(None)),
            };
        }
        // An unknown operand takes the known one's class.
        let (cl, cr) = match (cl, cr) {
            (Class::Unknown, Class::Unknown) => (Class::Approx, Class::Approx),
            (Class::Unknown, c) => (c, c),
            (c, Class::Unknown) => (c, c),
            pair => pair,
        };
        let approx = cl == Class::Approx || cr == Class::Approx;
        let exact_decimal =
            matches!(cl, Class::Decimal { .. }) || matches!(cr, Class::Decimal { .. });
        let unsigned_any = matches!(cl, Class::Int { unsigned: true })
            || matches!(cr, Class::Int { unsigned: true });
        let (sl, sr) = (scale_of(cl), scale_of(cr));
        match op {
            IntDivide => Typed::of(big(unsigned_any)),
            _ if approx => Typed::of(DataType::Double),
            Plus | Minus => {
                let digits = l.int_digits.max(r.int_digits) + 1;
                if exact_decimal {
                    decimal(digits, sl.max(sr))
                } else {
                    Typed::with_digits(big(unsigned_any), digits.min(20))
                }
            }
            Multiply => {
                let digits = l.int_digits + r.int_digits;
                if exact_decimal {
                    decimal(digits, sl + sr)
                } else {
                    Typed::with_digits(big(unsigned_any), digits.min(20))
                }
            }
            Divide => {
                // MySQL: precision = precision(dividend) + scale(divisor) + incr
                let scale = (sl + self.incr).min(MAX_SCALE);
                let precision = (l.int_digits + sl + sr + self.incr).min(MAX_PRECISION);
                decimal(precision.saturating_sub(scale).max(1), scale)
            }
            Modulo => {
                if exact_decimal {
                    decimal(l.int_digits.max(r.int_digits), sl.max(sr))
                } else {
                    Typed::with_digits(
                        big(matches!(cl, Class::Int { unsigned: true })),
                        l.int_digits.max(r.int_digits),
                    )
                }
            }
            _ => Typed::of(DataType::Double),
        }
    }

    fn cast(&self, expr: &Expr, to: &CastTarget) -> Typed {
        match to {
            CastTarget::Char(n) => {
                let len = n
                    .map(u64::from)
                    .unwrap_or_else(|| display_len(&self.ty(expr).ty));
                Typed::of(string_of_len(len))
            }
            CastTarget::Binary(n) => {
                let len = n
                    .map(u64::from)
                    .unwrap_or_else(|| display_len(&self.ty(expr).ty));
                Typed::of(if len > u64::from(MAX_VARCHAR) {
                    DataType::Blob(TextKind::Long)
                } else {
                    DataType::VarBinary(len as u32)
                })
            }
            CastTarget::Signed => Typed::of(big(false)),
            CastTarget::Unsigned => Typed::of(big(true)),
            CastTarget::Decimal { precision, scale } => Typed::of(DataType::Decimal {
                precision: *precision,
                scale: *scale,
            }),
            CastTarget::Double => Typed::of(DataType::Double),
            CastTarget::Float => Typed::of(DataType::Float),
            CastTarget::Date => Typed::of(DataType::Date),
            CastTarget::DateTime { fsp } => Typed::of(DataType::DateTime { fsp: *fsp }),
            CastTarget::Time => Typed::of(DataType::VarChar(10)),
            CastTarget::Json => Typed::of(DataType::Json),
            CastTarget::Vector(d) => Typed::of(DataType::Vector(*d)),
        }
    }

    fn call(&self, func: Func, args: &[Expr]) -> Typed {
        let lit_int = |i: usize| match args.get(i) {
            Some(Expr::Literal(Value::Int(n))) => Some(*n),
            Some(Expr::Literal(Value::UInt(n))) => i64::try_from(*n).ok(),
            _ => None,
        };
        let lit_str = |i: usize| match args.get(i) {
            Some(Expr::Literal(Value::Str(s))) => Some(s.to_ascii_uppercase()),
            _ => None,
        };
        let typed: Vec<Typed> = args.iter().map(|a| self.ty(a)).collect();
        match func {
            Func::Round | Func::Truncate => {
                let t = &typed[0];
                match class(&t.ty) {
                    Class::Decimal { scale } => {
                        let d = lit_int(1).unwrap_or(if args.len() > 1 {
                            i64::from(scale as u8)
                        } else {
                            0
                        });
                        let new_scale = d.clamp(0, i64::from(scale)) as u32;
                        decimal(t.int_digits + 1, new_scale)
                    }
                    _ => call_type(func, &typed),
                }
            }
            Func::Now | Func::UtcTimestamp => Typed::of(DataType::DateTime {
                fsp: lit_int(0).unwrap_or(0).clamp(0, 6) as u8,
            }),
            Func::CurTime => {
                let fsp = lit_int(0).unwrap_or(0).clamp(0, 6) as u32;
                Typed::of(DataType::VarChar(8 + if fsp > 0 { fsp + 1 } else { 0 }))
            }
            Func::DateAdd | Func::DateSub => {
                let unit = lit_str(2).unwrap_or_default();
                let time_unit = !matches!(
                    unit.as_str(),
                    "DAY" | "WEEK" | "MONTH" | "QUARTER" | "YEAR" | "YEAR_MONTH"
                );
                match &typed[0].ty {
                    DataType::Date if !time_unit => Typed::of(DataType::Date),
                    DataType::DateTime { fsp } | DataType::Timestamp { fsp } => {
                        Typed::of(DataType::DateTime {
                            fsp: if unit.contains("MICROSECOND") {
                                6
                            } else {
                                *fsp
                            },
                        })
                    }
                    // strings hold dates or datetimes: known only per row
                    _ => Typed::of(DataType::VarChar(29)),
                }
            }
            _ => call_type(func, &typed),
        }
    }
}

fn literal_type(v: &Value) -> Typed {
    match v {
        Value::Null => Typed::of(DataType::Null),
        Value::Int(i) => Typed::with_digits(big(false), digits(i.unsigned_abs())),
        Value::UInt(u) => Typed::with_digits(big(true), digits(*u)),
        Value::Float(_) => Typed::of(DataType::Float),
        Value::Double(_) => Typed::of(DataType::Double),
        Value::Decimal(d) => {
            let scale = d.scale();
            let all = digits_u128(d.mantissa().unsigned_abs());
            decimal(all.saturating_sub(scale).max(1), scale)
        }
        Value::Str(s) => Typed::of(string_of_len(s.chars().count() as u64)),
        Value::Bytes(b) => Typed::of(DataType::VarBinary(b.len().min(u32::MAX as usize) as u32)),
        Value::Date(_) => Typed::of(DataType::Date),
        Value::DateTime(dt) => Typed::of(DataType::DateTime {
            fsp: if dt.and_utc().timestamp_subsec_micros() == 0 {
                0
            } else {
                6
            },
        }),
        Value::Json(_) => Typed::of(DataType::Json),
        Value::Vector(_) => Typed::of(DataType::Vector(None)),
    }
}

fn digits(n: u64) -> u32 {
    digits_u128(u128::from(n))
}

fn digits_u128(mut n: u128) -> u32 {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// The return type of a call from its arguments' types.
fn call_type(func: Func, a: &[Typed]) -> Typed {
    use Func::*;
    let arg = |i: usize| {
        a.get(i)
            .cloned()
            .unwrap_or_else(|| Typed::of(DataType::Null))
    };
    let int = || Typed::with_digits(big(false), 19);
    let dbl = || Typed::of(DataType::Double);
    let text_of = |i: usize| display_len(&arg(i).ty);
    match func {
        If => merge(&arg(1), &arg(2)),
        IfNull | Coalesce | Greatest | Least => merge_all(a),
        NullIf => arg(0),
        IsNullFn => Typed::with_digits(big(false), 1),
        Concat => {
            let len: u64 = a.iter().map(|t| display_len(&t.ty)).sum();
            if a.iter().any(|t| t.ty.is_binary()) {
                Typed::of(if len > u64::from(MAX_VARCHAR) {
                    DataType::Blob(TextKind::Long)
                } else {
                    DataType::VarBinary(len as u32)
                })
            } else {
                Typed::of(string_of_len(len))
            }
        }
        ConcatWs => {
            let sep = text_of(0);
            let parts: u64 = a.iter().skip(1).map(|t| display_len(&t.ty)).sum();
            Typed::of(string_of_len(
                parts + sep * (a.len().saturating_sub(2) as u64),
            ))
        }
        Lower | Upper | Reverse | Trim | TrimLeading | TrimTrailing | LTrim | RTrim | Substring
        | SubstringIndex | Left | Right => Typed::of(string_of_len(text_of(0))),
        Replace | Repeat | LPad | RPad | Space => Typed::of(long_text()),
        Hex => Typed::of(string_of_len(text_of(0) * 2)),
        Unhex => Typed::of(DataType::VarBinary(
            (text_of(0) / 2 + 1).min(u64::from(MAX_VARCHAR)) as u32,
        )),
        Md5 => Typed::of(DataType::VarChar(32)),
        Sha1 => Typed::of(DataType::VarChar(40)),
        Sha2 => Typed::of(DataType::VarChar(128)),
        Format => Typed::of(string_of_len(text_of(0) + 40)),
        Length | CharLength | Locate | Instr | Ascii | FindInSet | Strcmp => int(),
        Abs => {
            let t = arg(0);
            match class(&t.ty) {
                Class::Int { unsigned } => Typed::with_digits(big(unsigned), t.int_digits),
                Class::Decimal { scale } => decimal(t.int_digits, scale),
                _ if t.ty == DataType::Float => t,
                _ => dbl(),
            }
        }
        Ceil | Floor => {
            let t = arg(0);
            match class(&t.ty) {
                Class::Int { unsigned } => Typed::with_digits(big(unsigned), t.int_digits),
                Class::Decimal { .. } => Typed::with_digits(big(false), t.int_digits + 1),
                _ => dbl(),
            }
        }
        Round | Truncate => {
            let t = arg(0);
            match class(&t.ty) {
                Class::Int { unsigned } => Typed::with_digits(big(unsigned), t.int_digits + 1),
                Class::Decimal { .. } => decimal(t.int_digits + 1, 0),
                _ => dbl(),
            }
        }
        Mod => {
            let (l, r) = (arg(0), arg(1));
            match (class(&l.ty), class(&r.ty)) {
                (Class::Approx, _) | (_, Class::Approx) => dbl(),
                (Class::Int { unsigned }, Class::Int { .. }) => {
                    Typed::with_digits(big(unsigned), l.int_digits)
                }
                (cl, cr) => decimal(
                    l.int_digits.max(r.int_digits),
                    scale_of(cl).max(scale_of(cr)),
                ),
            }
        }
        Pow | Sqrt | Exp | Ln | Log | Log2 | Log10 | Pi | Rand => dbl(),
        Sign => Typed::with_digits(big(false), 1),
        Now | UtcTimestamp => Typed::of(DataType::DateTime { fsp: 0 }),
        CurDate | Date => Typed::of(DataType::Date),
        CurTime => Typed::of(DataType::VarChar(8)),
        UnixTimestamp => match a.first().map(|t| &t.ty) {
            Some(DataType::DateTime { fsp } | DataType::Timestamp { fsp }) if *fsp > 0 => {
                decimal(11, u32::from(*fsp))
            }
            // a string argument with a fraction yields a DECIMAL value; the
            // BIGINT type leaves it untouched at output
            _ => int(),
        },
        FromUnixtime => {
            if a.len() == 2 {
                Typed::of(DataType::VarChar(64))
            } else {
                match class(&arg(0).ty) {
                    Class::Int { .. } => Typed::of(DataType::DateTime { fsp: 0 }),
                    Class::Decimal { scale } => Typed::of(DataType::DateTime {
                        fsp: scale.min(6) as u8,
                    }),
                    _ => Typed::of(DataType::DateTime { fsp: 6 }),
                }
            }
        }
        Year | Month | Day | Hour | Minute | Second | DayOfWeek | DateDiff | TimestampDiff => int(),
        DateFormat => Typed::of(DataType::VarChar(64)),
        DateAdd | DateSub => match arg(0).ty {
            DataType::DateTime { fsp } | DataType::Timestamp { fsp } => {
                Typed::of(DataType::DateTime { fsp })
            }
            _ => Typed::of(DataType::VarChar(29)),
        },
        JsonExtract | JsonObject | JsonArray | JsonKeys | JsonSet | JsonRemove => {
            Typed::of(DataType::Json)
        }
        JsonUnquote | JsonQuote => Typed::of(long_text()),
        JsonType => Typed::of(DataType::VarChar(16)),
        JsonContains | JsonLength | JsonValid | JsonContainsPath => int(),
        VecDims => int(),
        VecL1Distance | VecL2Distance | VecCosineDistance | VecNegativeInnerProduct | VecL2Norm => {
            dbl()
        }
        VecEmbedCosineDistance
        | VecEmbedL2Distance
        | VecEmbedL1Distance
        | VecEmbedNegativeInnerProduct => dbl(),
        VecFromText | EmbedText => Typed::of(DataType::Vector(None)),
        VecAsText => Typed::of(long_text()),
        FtsMatchWord => dbl(),
        Version | TidbVersion | Database | User | CurrentUser => Typed::of(DataType::VarChar(64)),
        ConnectionId | LastInsertId | RowCount | FoundRows => match func {
            RowCount => int(),
            _ => Typed::of(big(true)),
        },
        Uuid => Typed::of(DataType::VarChar(36)),
        Sleep => int(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;
    use tiembed_types::Collation;

    fn lit(v: Value) -> Expr {
        Expr::Literal(v)
    }
    fn int(i: i64) -> Expr {
        lit(Value::Int(i))
    }
    fn dec(s: &str) -> Expr {
        lit(Value::Decimal(Decimal::from_str(s).unwrap()))
    }
    fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
        Expr::Binary {
            op,
            left: Box::new(l),
            right: Box::new(r),
        }
    }
    fn call(func: Func, args: Vec<Expr>) -> Expr {
        Expr::Call { func, args }
    }
    fn ty(e: &Expr) -> DataType {
        expr_type(
            e,
            &[
                DataType::Int {
                    width: IntWidth::Int,
                    unsigned: false,
                },
                DataType::Decimal {
                    precision: 10,
                    scale: 2,
                },
                DataType::VarChar(20),
                DataType::Vector(Some(3)),
            ],
        )
    }
    const BIG: DataType = DataType::Int {
        width: IntWidth::Big,
        unsigned: false,
    };
    fn d(p: u8, s: u8) -> DataType {
        DataType::Decimal {
            precision: p,
            scale: s,
        }
    }

    #[test]
    fn arithmetic_types() {
        use BinaryOp::*;
        assert_eq!(ty(&bin(Plus, int(1), int(2))), BIG);
        assert_eq!(ty(&bin(Plus, Expr::Column(0), dec("1.5"))), d(12, 1));
        assert_eq!(ty(&bin(Plus, Expr::Column(1), dec("1.555"))), d(12, 3));
        assert_eq!(ty(&bin(Multiply, Expr::Column(1), dec("1.5"))), d(12, 3));
        assert_eq!(ty(&bin(Divide, int(1), int(3))), d(5, 4));
        assert_eq!(
            ty(&bin(
                Divide,
                dec("1.0"),
                bin(Plus, int(60), Expr::Column(0))
            )),
            d(6, 5)
        );
        assert_eq!(ty(&bin(Divide, Expr::Column(1), int(7))), d(14, 6));
        assert_eq!(
            ty(&bin(Divide, lit(Value::Double(1.0)), int(3))),
            DataType::Double
        );
        assert_eq!(ty(&bin(Plus, Expr::Column(2), int(1))), DataType::Double);
        assert_eq!(ty(&bin(IntDivide, dec("5.5"), int(2))), BIG);
        assert_eq!(
            ty(&bin(Minus, Expr::Column(3), Expr::Column(3))),
            DataType::Vector(Some(3))
        );
        assert_eq!(
            ty(&bin(
                Plus,
                Expr::Column(3),
                lit(Value::Str("[1,2,3]".into()))
            )),
            DataType::Vector(None)
        );
        assert_eq!(
            ty(&bin(BitAnd, int(1), int(2))),
            DataType::Int {
                width: IntWidth::Big,
                unsigned: true
            }
        );
        assert_eq!(
            ty(&bin(Plus, lit(Value::UInt(1)), int(2))),
            DataType::Int {
                width: IntWidth::Big,
                unsigned: true
            }
        );
    }

    #[test]
    fn hybrid_search_rrf_score_is_decimal_scale_5() {
        use BinaryOp::*;
        let term = |col| {
            call(
                Func::Coalesce,
                vec![
                    bin(Divide, dec("1.0"), bin(Plus, int(60), Expr::Column(col))),
                    int(0),
                ],
            )
        };
        let e = bin(Plus, term(0), term(0));
        assert_eq!(ty(&e), d(7, 5));
        let mut incr6 = expr_type_with(&bin(Divide, dec("1.0"), int(3)), &[], 6, &|_| None);
        assert_eq!(incr6, d(8, 7));
        incr6 = expr_type_with(&Expr::Param(0), &[], 4, &|_| Some(DataType::Double));
        assert_eq!(incr6, DataType::Double);
    }

    #[test]
    fn predicate_and_function_types() {
        let cmp = Expr::Compare {
            op: crate::CmpOp::Eq,
            left: Box::new(int(1)),
            right: Box::new(int(1)),
            collation: Collation::Utf8mb4Bin,
        };
        assert_eq!(ty(&cmp), BIG);
        assert_eq!(
            ty(&call(
                Func::VecCosineDistance,
                vec![Expr::Column(3), lit(Value::Str("[1,2,3]".into()))]
            )),
            DataType::Double
        );
        assert_eq!(ty(&call(Func::VecDims, vec![Expr::Column(3)])), BIG);
        assert_eq!(ty(&call(Func::EmbedText, vec![])), DataType::Vector(None));
        assert_eq!(ty(&call(Func::VecFromText, vec![])), DataType::Vector(None));
        assert_eq!(ty(&call(Func::JsonExtract, vec![])), DataType::Json);
        assert_eq!(
            ty(&call(Func::Concat, vec![Expr::Column(2), int(1)])),
            DataType::VarChar(40)
        );
        assert_eq!(
            ty(&call(Func::Round, vec![Expr::Column(1), int(1)])),
            d(10, 1)
        );
        assert_eq!(ty(&call(Func::Round, vec![Expr::Column(1)])), d(9, 0));
        assert_eq!(
            ty(&call(Func::Round, vec![lit(Value::Double(1.5))])),
            DataType::Double
        );
        assert_eq!(
            ty(&call(Func::Now, vec![int(3)])),
            DataType::DateTime { fsp: 3 }
        );
        assert_eq!(
            ty(&call(Func::IfNull, vec![Expr::Column(0), dec("0.5")])),
            d(11, 1)
        );
        assert_eq!(
            ty(&call(
                Func::If,
                vec![int(1), int(1), lit(Value::Str("x".into()))]
            )),
            DataType::VarChar(20)
        );
        assert_eq!(
            ty(&call(
                Func::Coalesce,
                vec![lit(Value::Null), Expr::Column(3)]
            )),
            DataType::Vector(Some(3))
        );
        let case = Expr::Case {
            operand: None,
            whens: vec![(int(1), int(1))],
            else_: Some(Box::new(lit(Value::Double(2.5)))),
            collation: Collation::Utf8mb4Bin,
        };
        assert_eq!(ty(&case), DataType::Double);
        assert_eq!(
            ty(&Expr::Cast {
                expr: Box::new(Expr::Column(0)),
                to: CastTarget::Char(None)
            }),
            DataType::VarChar(11)
        );
        assert_eq!(
            ty(&Expr::Cast {
                expr: Box::new(Expr::Column(0)),
                to: CastTarget::Vector(Some(4))
            }),
            DataType::Vector(Some(4))
        );
    }
}
