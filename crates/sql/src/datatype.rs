//! sqlparser data types -> tiembed column types and cast targets.

use crate::expr::CastTarget;
use sqlparser::ast::{self, CharacterLength, ExactNumberInfo};
use tiembed_types::{DataType, Error, IntWidth, Result, TextKind, MAX_VECTOR_DIMS};

fn char_len(l: &Option<CharacterLength>, default: u32) -> u32 {
    match l {
        Some(CharacterLength::IntegerLength { length, .. }) => *length as u32,
        _ => default,
    }
}

fn decimal(info: &ExactNumberInfo) -> Result<DataType> {
    let (p, s) = match info {
        ExactNumberInfo::None => (10, 0),
        ExactNumberInfo::Precision(p) => (*p, 0),
        ExactNumberInfo::PrecisionAndScale(p, s) => (*p, (*s).max(0) as u64),
    };
    if p > 65 {
        return Err(Error::other(format!(
            "Too-big precision {p} specified. Maximum is 65."
        )));
    }
    if s > 30 || s > p {
        return Err(Error::other(format!(
            "Too big scale {s} specified. Maximum is 30."
        )));
    }
    Ok(DataType::Decimal {
        precision: p as u8,
        scale: s as u8,
    })
}

fn int(width: IntWidth, unsigned: bool) -> DataType {
    DataType::Int { width, unsigned }
}

/// The column type a DDL type name declares.
pub fn column_type(t: &ast::DataType) -> Result<DataType> {
    use ast::DataType as A;
    Ok(match t {
        A::TinyInt(Some(1)) => DataType::Bool,
        A::TinyInt(_) | A::Int2(_) if matches!(t, A::TinyInt(_)) => int(IntWidth::Tiny, false),
        A::TinyIntUnsigned(_) | A::UTinyInt => int(IntWidth::Tiny, true),
        A::SmallInt(_) | A::Int2(_) => int(IntWidth::Small, false),
        A::SmallIntUnsigned(_) | A::USmallInt | A::Int2Unsigned(_) => int(IntWidth::Small, true),
        A::MediumInt(_) => int(IntWidth::Medium, false),
        A::MediumIntUnsigned(_) => int(IntWidth::Medium, true),
        A::Int(_) | A::Integer(_) | A::Int4(_) => int(IntWidth::Int, false),
        A::IntUnsigned(_) | A::IntegerUnsigned(_) | A::Int4Unsigned(_) => int(IntWidth::Int, true),
        A::BigInt(_) | A::Int8(_) | A::Int64 => int(IntWidth::Big, false),
        A::BigIntUnsigned(_) | A::UBigInt | A::Int8Unsigned(_) => int(IntWidth::Big, true),
        A::Bool | A::Boolean => DataType::Bool,
        A::Float(ExactNumberInfo::Precision(p)) if *p > 24 => DataType::Double,
        A::Float(_) | A::FloatUnsigned(_) | A::Real | A::Float4 => DataType::Float,
        A::Double(_)
        | A::DoubleUnsigned(_)
        | A::DoublePrecision
        | A::DoublePrecisionUnsigned
        | A::Float8
        | A::Float64 => DataType::Double,
        A::Decimal(i) | A::Numeric(i) | A::Dec(i) | A::DecimalUnsigned(i) | A::DecUnsigned(i) => {
            decimal(i)?
        }
        A::Char(l) | A::Character(l) => DataType::Char(char_len(l, 1)),
        A::Varchar(l) | A::CharacterVarying(l) | A::CharVarying(l) | A::Nvarchar(l) => {
            DataType::VarChar(char_len(l, 255))
        }
        A::Text => DataType::Text(TextKind::Normal),
        A::TinyText => DataType::Text(TextKind::Tiny),
        A::MediumText => DataType::Text(TextKind::Medium),
        A::LongText => DataType::Text(TextKind::Long),
        A::Binary(l) => DataType::Binary(l.unwrap_or(1) as u32),
        A::Varbinary(l) => DataType::VarBinary(match l {
            Some(ast::BinaryLength::IntegerLength { length }) => *length as u32,
            _ => 255,
        }),
        A::Blob(_) => DataType::Blob(TextKind::Normal),
        A::TinyBlob => DataType::Blob(TextKind::Tiny),
        A::MediumBlob => DataType::Blob(TextKind::Medium),
        A::LongBlob => DataType::Blob(TextKind::Long),
        A::Date => DataType::Date,
        A::Datetime(fsp) => DataType::DateTime {
            fsp: fsp.unwrap_or(0).min(6) as u8,
        },
        A::Timestamp(fsp, _) => DataType::Timestamp {
            fsp: fsp.unwrap_or(0).min(6) as u8,
        },
        A::JSON => DataType::Json,
        A::Custom(name, args) => return custom_type(name, args),
        other => return Err(Error::NotSupported(format!("column type {other}"))),
    })
}

/// `VECTOR`, `VECTOR(D)` (sqlparser has no VECTOR type).
fn custom_type(name: &ast::ObjectName, args: &[String]) -> Result<DataType> {
    let n = name.to_string();
    if n.eq_ignore_ascii_case("vector") {
        return match args {
            [] => Ok(DataType::Vector(None)),
            [d] => {
                let dims: i64 = d
                    .trim()
                    .parse()
                    .map_err(|_| Error::other(format!("Invalid vector dimension '{d}'")))?;
                if dims < 0 {
                    return Err(Error::other(
                        "dimensions for type vector must be at least 0",
                    ));
                }
                if dims as usize > MAX_VECTOR_DIMS {
                    return Err(Error::other(format!(
                        "vector cannot have more than {MAX_VECTOR_DIMS} dimensions"
                    )));
                }
                Ok(DataType::Vector(Some(dims as u32)))
            }
            _ => Err(Error::other("Invalid vector type")),
        };
    }
    if n.eq_ignore_ascii_case("year") {
        return Ok(int(IntWidth::Small, true));
    }
    Err(Error::NotSupported(format!("column type {n}")))
}

/// The target of `CAST(x AS t)` / `CONVERT(x, t)`.
pub fn cast_target(t: &ast::DataType) -> Result<CastTarget> {
    use ast::DataType as A;
    Ok(match t {
        A::Char(l) | A::Character(l) | A::Varchar(l) | A::Nvarchar(l) => {
            CastTarget::Char(match l {
                Some(CharacterLength::IntegerLength { length, .. }) => Some(*length as u32),
                _ => None,
            })
        }
        A::Text | A::String(_) => CastTarget::Char(None),
        A::Binary(l) => CastTarget::Binary(l.map(|l| l as u32)),
        A::Signed | A::SignedInteger | A::Int(_) | A::Integer(_) | A::BigInt(_) => {
            CastTarget::Signed
        }
        A::Unsigned | A::UnsignedInteger | A::IntUnsigned(_) | A::BigIntUnsigned(_) => {
            CastTarget::Unsigned
        }
        A::Decimal(i) | A::Numeric(i) | A::Dec(i) => match decimal(i)? {
            DataType::Decimal { precision, scale } => CastTarget::Decimal { precision, scale },
            _ => unreachable!("decimal() returns Decimal"),
        },
        A::Double(_) | A::DoublePrecision | A::Real | A::Float8 => CastTarget::Double,
        A::Float(_) | A::Float4 => CastTarget::Float,
        A::Date => CastTarget::Date,
        A::Datetime(fsp) | A::Timestamp(fsp, _) => CastTarget::DateTime {
            fsp: fsp.unwrap_or(0).min(6) as u8,
        },
        A::Time(..) => CastTarget::Time,
        A::JSON => CastTarget::Json,
        A::Custom(name, args) => match custom_type(name, args)? {
            DataType::Vector(d) => CastTarget::Vector(d),
            _ => return Err(Error::NotSupported(format!("CAST to {t}"))),
        },
        other => return Err(Error::NotSupported(format!("CAST to {other}"))),
    })
}

/// The static type a cast produces.
pub fn cast_type(t: &CastTarget) -> DataType {
    match t {
        CastTarget::Char(Some(n)) => DataType::VarChar(*n),
        CastTarget::Char(None) => DataType::Text(TextKind::Long),
        CastTarget::Binary(Some(n)) => DataType::VarBinary(*n),
        CastTarget::Binary(None) => DataType::Blob(TextKind::Long),
        CastTarget::Signed => DataType::Int {
            width: IntWidth::Big,
            unsigned: false,
        },
        CastTarget::Unsigned => DataType::Int {
            width: IntWidth::Big,
            unsigned: true,
        },
        CastTarget::Decimal { precision, scale } => DataType::Decimal {
            precision: *precision,
            scale: *scale,
        },
        CastTarget::Double => DataType::Double,
        CastTarget::Float => DataType::Float,
        CastTarget::Date => DataType::Date,
        CastTarget::DateTime { fsp } => DataType::DateTime { fsp: *fsp },
        CastTarget::Time => DataType::VarChar(10),
        CastTarget::Json => DataType::Json,
        CastTarget::Vector(d) => DataType::Vector(*d),
    }
}
