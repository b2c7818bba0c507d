//! Scalar expression binding: names -> slots, functions -> [`Func`].

use super::Binder;
use crate::datatype;
use crate::expr::{BinaryOp, CmpOp, Expr, Func, SubqueryKind, UnaryOp, VarScope};
use crate::plan::{AggCall, AggFunc, Column, SortKey, WindowCall, WindowFunc};
use rust_decimal::Decimal;
use sqlparser::ast::{self, FunctionArg, FunctionArgExpr, FunctionArguments};
use std::str::FromStr;
use tiembed_types::{Collation, DataType, Error, Generated, Result, TextKind, Value};

/// Slots at and above this are placeholders for aggregate results.
pub(crate) const AGG_BASE: usize = usize::MAX / 2;
/// Slots at and above this are placeholders for window function results.
pub(crate) const WIN_BASE: usize = usize::MAX / 4 * 3;

/// What a name may resolve to while binding one clause.
pub(crate) struct Scope<'c> {
    pub columns: &'c [Column],
    /// Select-list aliases (name, bound expression), tried first for
    /// unqualified names in ORDER BY and HAVING.
    pub aliases: Vec<(String, Expr)>,
    /// Collects aggregate calls (SELECT list, HAVING, ORDER BY of a query).
    pub aggregates: Option<&'c std::cell::RefCell<Vec<AggCall>>>,
    pub windows: Option<&'c std::cell::RefCell<Vec<WindowCall>>>,
    /// `VALUES(col)` in ON DUPLICATE KEY UPDATE: new-row slots start here.
    pub values_base: Option<usize>,
    /// Names the clause in "Unknown column 'x' in '<context>'".
    pub context: &'static str,
}

impl<'c> Scope<'c> {
    pub fn plain(columns: &'c [Column]) -> Scope<'c> {
        Scope {
            columns,
            aliases: Vec::new(),
            aggregates: None,
            windows: None,
            values_base: None,
            context: "field list",
        }
    }

    pub fn with_context(mut self, context: &'static str) -> Self {
        self.context = context;
        self
    }
}

fn ident_name(i: &ast::Ident) -> &str {
    &i.value
}

fn function_name(f: &ast::Function) -> String {
    f.name
        .0
        .last()
        .map(|p| match p {
            ast::ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default()
}

/// The label MySQL gives an unaliased select item.
pub(crate) fn expr_label(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Identifier(i) => i.value.clone(),
        ast::Expr::CompoundIdentifier(parts) => {
            parts.last().map(|i| i.value.clone()).unwrap_or_default()
        }
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
            ast::Value::Null => "NULL".into(),
            other => other.to_string(),
        },
        ast::Expr::Nested(inner) => format!("({})", expr_label(inner)),
        other => other.to_string(),
    }
}

pub(crate) fn is_aggregate_name(name: &str) -> Option<AggFunc> {
    Some(match name.to_ascii_uppercase().as_str() {
        "COUNT" => AggFunc::Count,
        "SUM" => AggFunc::Sum,
        "AVG" => AggFunc::Avg,
        "MIN" => AggFunc::Min,
        "MAX" => AggFunc::Max,
        "ANY_VALUE" => AggFunc::AnyValue,
        "GROUP_CONCAT" => AggFunc::GroupConcat,
        "BIT_AND" => AggFunc::BitAnd,
        "BIT_OR" => AggFunc::BitOr,
        "STD" | "STDDEV" | "STDDEV_POP" => AggFunc::StdDev,
        "VARIANCE" | "VAR_POP" => AggFunc::Variance,
        _ => return None,
    })
}

/// Numeric literal text -> Int/UInt/Decimal/Double as MySQL types literals.
pub fn number_literal(s: &str) -> Result<Value> {
    if s.contains(['e', 'E']) {
        return s
            .parse::<f64>()
            .map(Value::Double)
            .map_err(|_| Error::other(format!("invalid number {s}")));
    }
    if s.contains('.') {
        return Decimal::from_str(s)
            .map(Value::Decimal)
            .or_else(|_| s.parse::<f64>().map(Value::Double))
            .map_err(|_| Error::other(format!("invalid number {s}")));
    }
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Value::Int(i));
    }
    if let Ok(u) = s.parse::<u64>() {
        return Ok(Value::UInt(u));
    }
    Decimal::from_str(s)
        .map(Value::Decimal)
        .or_else(|_| s.parse::<f64>().map(Value::Double))
        .map_err(|_| Error::other(format!("invalid number {s}")))
}

/// Applies `key@search` overrides and drops every `@search` key: the
/// options a `VEC_EMBED_*` query embedding is made with.
pub(crate) fn search_options(options: &str) -> Option<String> {
    let mut map = match serde_json::from_str::<serde_json::Value>(options) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Some(options.to_string()),
    };
    let overrides: Vec<(String, serde_json::Value)> = map
        .iter()
        .filter_map(|(k, v)| {
            k.strip_suffix("@search")
                .map(|base| (base.to_string(), v.clone()))
        })
        .collect();
    map.retain(|k, _| !k.ends_with("@search"));
    for (k, v) in overrides {
        map.insert(k, v);
    }
    Some(serde_json::Value::Object(map).to_string())
}

fn call(func: Func, args: Vec<Expr>) -> Expr {
    Expr::Call { func, args }
}

impl<'a> Binder<'a> {
    /// Binds `e` in `scope`.
    pub fn bind_expr(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        use ast::Expr as A;
        Ok(match e {
            A::Identifier(id) => self.bind_identifier(std::slice::from_ref(id), scope)?,
            A::CompoundIdentifier(parts) => self.bind_identifier(parts, scope)?,
            A::Value(v) => self.bind_value(&v.value)?,
            A::Nested(inner) => self.bind_expr(inner, scope)?,
            A::IsNull(x) => Expr::IsNull {
                expr: Box::new(self.bind_expr(x, scope)?),
                negated: false,
            },
            A::IsNotNull(x) => Expr::IsNull {
                expr: Box::new(self.bind_expr(x, scope)?),
                negated: true,
            },
            A::IsTrue(x) => Expr::IsBool {
                expr: Box::new(self.bind_expr(x, scope)?),
                value: true,
                negated: false,
            },
            A::IsNotTrue(x) => Expr::IsBool {
                expr: Box::new(self.bind_expr(x, scope)?),
                value: true,
                negated: true,
            },
            A::IsFalse(x) => Expr::IsBool {
                expr: Box::new(self.bind_expr(x, scope)?),
                value: false,
                negated: false,
            },
            A::IsNotFalse(x) => Expr::IsBool {
                expr: Box::new(self.bind_expr(x, scope)?),
                value: false,
                negated: true,
            },
            A::IsUnknown(x) => Expr::IsNull {
                expr: Box::new(self.bind_expr(x, scope)?),
                negated: false,
            },
            A::IsNotUnknown(x) => Expr::IsNull {
                expr: Box::new(self.bind_expr(x, scope)?),
                negated: true,
            },
            A::IsDistinctFrom(a, b) | A::IsNotDistinctFrom(a, b) => {
                let (l, r) = (self.bind_expr(a, scope)?, self.bind_expr(b, scope)?);
                let collation = self.collation2(&l, &r, scope);
                let eq = Expr::Compare {
                    op: CmpOp::NullSafeEq,
                    left: Box::new(l),
                    right: Box::new(r),
                    collation,
                };
                if matches!(e, A::IsDistinctFrom(..)) {
                    Expr::Unary {
                        op: UnaryOp::Not,
                        expr: Box::new(eq),
                    }
                } else {
                    eq
                }
            }
            A::InList {
                expr,
                list,
                negated,
            } => {
                let x = self.bind_expr(expr, scope)?;
                let list = list
                    .iter()
                    .map(|i| self.bind_expr(i, scope))
                    .collect::<Result<Vec<_>>>()?;
                let collation = self.collation_of(&x, scope);
                Expr::InList {
                    expr: Box::new(x),
                    list,
                    negated: *negated,
                    collation,
                }
            }
            A::InSubquery {
                expr,
                subquery,
                negated,
            } => {
                let x = self.bind_expr(expr, scope)?;
                let collation = self.collation_of(&x, scope);
                let id = self.bind_subquery(subquery, scope, Some(1))?;
                Expr::Subquery {
                    id,
                    kind: SubqueryKind::In {
                        expr: Box::new(x),
                        negated: *negated,
                        collation,
                    },
                }
            }
            A::Exists { subquery, negated } => {
                let id = self.bind_subquery(subquery, scope, None)?;
                Expr::Subquery {
                    id,
                    kind: SubqueryKind::Exists { negated: *negated },
                }
            }
            A::Subquery(q) => {
                let id = self.bind_subquery(q, scope, Some(1))?;
                Expr::Subquery {
                    id,
                    kind: SubqueryKind::Scalar,
                }
            }
            A::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let x = self.bind_expr(expr, scope)?;
                let collation = self.collation_of(&x, scope);
                Expr::Between {
                    expr: Box::new(x),
                    low: Box::new(self.bind_expr(low, scope)?),
                    high: Box::new(self.bind_expr(high, scope)?),
                    negated: *negated,
                    collation,
                }
            }
            A::BinaryOp { left, op, right } => self.bind_binary(left, op, right, scope)?,
            A::Like {
                negated,
                expr,
                pattern,
                escape_char,
                ..
            }
            | A::ILike {
                negated,
                expr,
                pattern,
                escape_char,
                ..
            } => {
                let x = self.bind_expr(expr, scope)?;
                let p = self.bind_expr(pattern, scope)?;
                let escape = match escape_char.as_deref() {
                    None => '\\',
                    Some(ast::Expr::Value(v)) => match &v.value {
                        ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => {
                            s.chars().next().unwrap_or('\\')
                        }
                        _ => return Err(Error::WrongArguments("ESCAPE".into())),
                    },
                    Some(_) => return Err(Error::WrongArguments("ESCAPE".into())),
                };
                let mut collation = self.collation2(&x, &p, scope);
                if matches!(e, A::ILike { .. }) {
                    collation = Collation::Utf8mb4GeneralCi;
                }
                Expr::Like {
                    expr: Box::new(x),
                    pattern: Box::new(p),
                    escape,
                    negated: *negated,
                    collation,
                }
            }
            A::RLike { .. } | A::SimilarTo { .. } => {
                return Err(Error::NotSupported("REGEXP".into()))
            }
            A::UnaryOp { op, expr } => self.bind_unary(op, expr, scope)?,
            A::Cast {
                expr, data_type, ..
            } => {
                let to = datatype::cast_target(data_type)?;
                Expr::Cast {
                    expr: Box::new(self.bind_expr(expr, scope)?),
                    to,
                }
            }
            A::Convert {
                expr,
                data_type,
                charset,
                ..
            } => {
                let x = self.bind_expr(expr, scope)?;
                match (data_type, charset) {
                    (Some(t), _) => Expr::Cast {
                        expr: Box::new(x),
                        to: datatype::cast_target(t)?,
                    },
                    // CONVERT(x USING cs): text stays text.
                    (None, _) => Expr::Cast {
                        expr: Box::new(x),
                        to: crate::CastTarget::Char(None),
                    },
                }
            }
            A::Collate { expr, collation } => {
                // The collation only matters to comparisons; carry it via the
                // column metadata is not possible for expressions, so a
                // COLLATE on a comparison operand is honoured in collation_of.
                let _ = collation;
                self.bind_expr(expr, scope)?
            }
            A::Ceil { expr, .. } => call(Func::Ceil, vec![self.bind_expr(expr, scope)?]),
            A::Floor { expr, .. } => call(Func::Floor, vec![self.bind_expr(expr, scope)?]),
            A::Position { expr, r#in } => call(
                Func::Locate,
                vec![self.bind_expr(expr, scope)?, self.bind_expr(r#in, scope)?],
            ),
            A::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![self.bind_expr(expr, scope)?];
                args.push(match substring_from {
                    Some(f) => self.bind_expr(f, scope)?,
                    None => Expr::Literal(Value::Int(1)),
                });
                if let Some(f) = substring_for {
                    args.push(self.bind_expr(f, scope)?);
                }
                call(Func::Substring, args)
            }
            A::Trim {
                trim_where,
                trim_what,
                expr,
                ..
            } => {
                let mut args = vec![self.bind_expr(expr, scope)?];
                if let Some(w) = trim_what {
                    args.push(self.bind_expr(w, scope)?);
                }
                let func = match trim_where {
                    Some(ast::TrimWhereField::Leading) => Func::TrimLeading,
                    Some(ast::TrimWhereField::Trailing) => Func::TrimTrailing,
                    _ => Func::Trim,
                };
                call(func, args)
            }
            A::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let operand = operand
                    .as_ref()
                    .map(|o| self.bind_expr(o, scope))
                    .transpose()?;
                let collation = operand
                    .as_ref()
                    .map(|o| self.collation_of(o, scope))
                    .unwrap_or_default();
                let whens = conditions
                    .iter()
                    .map(|w| {
                        Ok((
                            self.bind_expr(&w.condition, scope)?,
                            self.bind_expr(&w.result, scope)?,
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let else_ = else_result
                    .as_ref()
                    .map(|x| self.bind_expr(x, scope))
                    .transpose()?;
                Expr::Case {
                    operand: operand.map(Box::new),
                    whens,
                    else_: else_.map(Box::new),
                    collation,
                }
            }
            A::Function(f) => self.bind_function(f, scope)?,
            A::Tuple(items) if items.len() == 1 => self.bind_expr(&items[0], scope)?,
            A::Tuple(_) => return Err(Error::OperandColumns(1)),
            A::Interval(_) => {
                return Err(Error::NotSupported(
                    "INTERVAL outside DATE_ADD/DATE_SUB".into(),
                ))
            }
            A::TypedString(ts) => {
                // DATE '2024-01-01', TIMESTAMP '...'
                let to = datatype::cast_target(&ts.data_type)?;
                Expr::Cast {
                    expr: Box::new(self.bind_value(&ts.value.value)?),
                    to,
                }
            }
            A::Extract { field, expr, .. } => {
                let func = match field {
                    ast::DateTimeField::Year => Func::Year,
                    ast::DateTimeField::Month => Func::Month,
                    ast::DateTimeField::Day => Func::Day,
                    ast::DateTimeField::Hour => Func::Hour,
                    ast::DateTimeField::Minute => Func::Minute,
                    ast::DateTimeField::Second => Func::Second,
                    other => return Err(Error::NotSupported(format!("EXTRACT({other})"))),
                };
                call(func, vec![self.bind_expr(expr, scope)?])
            }
            A::MatchAgainst { .. } => return Err(Error::NotSupported("MATCH ... AGAINST".into())),
            A::Prefixed { value, .. } => self.bind_expr(value, scope)?,
            other => return Err(Error::NotSupported(format!("expression {other}"))),
        })
    }

    pub(crate) fn bind_value(&mut self, v: &ast::Value) -> Result<Expr> {
        use ast::Value as V;
        Ok(Expr::Literal(match v {
            V::Number(s, _) => number_literal(s)?,
            V::SingleQuotedString(s)
            | V::DoubleQuotedString(s)
            | V::EscapedStringLiteral(s)
            | V::NationalStringLiteral(s) => Value::Str(s.clone()),
            V::HexStringLiteral(h) => {
                let h = if h.len() % 2 == 1 {
                    format!("0{h}")
                } else {
                    h.clone()
                };
                let bytes = (0..h.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&h[i..i + 2], 16))
                    .collect::<std::result::Result<Vec<u8>, _>>()
                    .map_err(|_| Error::other(format!("invalid hex literal {h}")))?;
                Value::Bytes(bytes)
            }
            V::Boolean(b) => Value::Int(*b as i64),
            V::Null => Value::Null,
            V::Placeholder(p) if p.starts_with('?') => {
                // The parser numbered them `?1`, `?2`, ... in text order.
                let i = match p[1..].parse::<usize>() {
                    Ok(n) if n > 0 => n - 1,
                    _ => self.param_count,
                };
                self.param_count = self.param_count.max(i + 1);
                return Ok(Expr::Param(i));
            }
            other => return Err(Error::NotSupported(format!("literal {other}"))),
        }))
    }

    fn bind_unary(
        &mut self,
        op: &ast::UnaryOperator,
        expr: &ast::Expr,
        scope: &Scope,
    ) -> Result<Expr> {
        use ast::UnaryOperator as U;
        let x = self.bind_expr(expr, scope)?;
        Ok(match op {
            U::Plus => x,
            U::Minus => match x {
                Expr::Literal(Value::Int(i)) if i != i64::MIN => Expr::Literal(Value::Int(-i)),
                Expr::Literal(Value::UInt(u)) if u == (i64::MAX as u64) + 1 => {
                    Expr::Literal(Value::Int(i64::MIN))
                }
                Expr::Literal(Value::Decimal(d)) => Expr::Literal(Value::Decimal(-d)),
                Expr::Literal(Value::Double(d)) => Expr::Literal(Value::Double(-d)),
                x => Expr::Unary {
                    op: UnaryOp::Neg,
                    expr: Box::new(x),
                },
            },
            U::Not | U::BangNot => Expr::Unary {
                op: UnaryOp::Not,
                expr: Box::new(x),
            },
            U::BitwiseNot => Expr::Unary {
                op: UnaryOp::BitNot,
                expr: Box::new(x),
            },
            other => return Err(Error::NotSupported(format!("operator {other}"))),
        })
    }

    fn bind_binary(
        &mut self,
        left: &ast::Expr,
        op: &ast::BinaryOperator,
        right: &ast::Expr,
        scope: &Scope,
    ) -> Result<Expr> {
        use ast::BinaryOperator as B;
        let l = self.bind_expr(left, scope)?;
        let r = self.bind_expr(right, scope)?;
        let cmp = |op| -> Expr {
            Expr::Compare {
                op,
                left: Box::new(l.clone()),
                right: Box::new(r.clone()),
                collation: Collation::Utf8mb4Bin,
            }
        };
        let arith = |op| Expr::Binary {
            op,
            left: Box::new(l.clone()),
            right: Box::new(r.clone()),
        };
        let mut out = match op {
            B::Plus => arith(BinaryOp::Plus),
            B::Minus => arith(BinaryOp::Minus),
            B::Multiply => arith(BinaryOp::Multiply),
            B::Divide => arith(BinaryOp::Divide),
            B::MyIntegerDivide | B::DuckIntegerDivide => arith(BinaryOp::IntDivide),
            B::Modulo => arith(BinaryOp::Modulo),
            B::And => arith(BinaryOp::And),
            B::Or | B::StringConcat => arith(BinaryOp::Or),
            B::Xor => arith(BinaryOp::Xor),
            B::BitwiseAnd => arith(BinaryOp::BitAnd),
            B::BitwiseOr => arith(BinaryOp::BitOr),
            B::BitwiseXor | B::PGBitwiseXor => arith(BinaryOp::BitXor),
            B::PGBitwiseShiftLeft => arith(BinaryOp::ShiftLeft),
            B::PGBitwiseShiftRight => arith(BinaryOp::ShiftRight),
            B::Eq => cmp(CmpOp::Eq),
            B::NotEq => cmp(CmpOp::NotEq),
            B::Lt => cmp(CmpOp::Lt),
            B::LtEq => cmp(CmpOp::LtEq),
            B::Gt => cmp(CmpOp::Gt),
            B::GtEq => cmp(CmpOp::GtEq),
            B::Spaceship => cmp(CmpOp::NullSafeEq),
            B::Arrow => Expr::Call {
                func: Func::JsonExtract,
                args: vec![l.clone(), r.clone()],
            },
            B::LongArrow => Expr::Call {
                func: Func::JsonUnquote,
                args: vec![Expr::Call {
                    func: Func::JsonExtract,
                    args: vec![l.clone(), r.clone()],
                }],
            },
            other => return Err(Error::NotSupported(format!("operator {other}"))),
        };
        if let Expr::Compare {
            collation,
            left,
            right,
            ..
        } = &mut out
        {
            *collation = self.collation2(left, right, scope);
        }
        Ok(out)
    }

    /// The collation a comparison involving `e` uses: a column's own
    /// (explicit beats coercible literals), else utf8mb4_bin.
    pub(crate) fn collation_of(&self, e: &Expr, scope: &Scope) -> Collation {
        match e {
            Expr::Column(i) => scope
                .columns
                .get(*i)
                .map(|c| c.collation)
                .unwrap_or_default(),
            Expr::OuterColumn { depth, index } => self
                .outer
                .len()
                .checked_sub(*depth)
                .and_then(|d| self.outer.get(d))
                .and_then(|cols| cols.get(*index))
                .map(|c| c.collation)
                .unwrap_or_default(),
            Expr::Call {
                func: Func::Lower | Func::Upper | Func::Trim | Func::Substring | Func::Concat,
                args,
            } => args
                .first()
                .map(|a| self.collation_of(a, scope))
                .unwrap_or_default(),
            _ => Collation::default(),
        }
    }

    fn collation2(&self, a: &Expr, b: &Expr, scope: &Scope) -> Collation {
        let ca = self.collation_of(a, scope);
        if ca != Collation::default() {
            ca
        } else {
            self.collation_of(b, scope)
        }
    }

    fn bind_identifier(&mut self, parts: &[ast::Ident], scope: &Scope) -> Result<Expr> {
        let first = ident_name(&parts[0]);
        // Variables: `@x`, `@@x`, `@@global.x`.
        if first.starts_with('@') && parts[0].quote_style.is_none() {
            return self.bind_variable(parts);
        }
        let name = ident_name(parts.last().expect("non-empty"));
        let qualifier: Vec<&str> = parts[..parts.len() - 1].iter().map(ident_name).collect();
        if qualifier.is_empty() {
            if let Some((_, e)) = scope
                .aliases
                .iter()
                .find(|(a, _)| a.eq_ignore_ascii_case(name))
            {
                return Ok(e.clone());
            }
        }
        if let Some(i) = find_column(scope.columns, &qualifier, name, scope.context)? {
            return Ok(Expr::Column(i));
        }
        for depth in 1..=self.outer.len() {
            let cols = &self.outer[self.outer.len() - depth];
            if let Some(index) = find_column(cols, &qualifier, name, scope.context)? {
                let n = self.correlated_depths.len();
                for flag in self.correlated_depths[n.saturating_sub(depth)..].iter_mut() {
                    *flag = true;
                }
                return Ok(Expr::OuterColumn { depth, index });
            }
        }
        let shown = parts
            .iter()
            .map(|p| p.value.as_str())
            .collect::<Vec<_>>()
            .join(".");
        Err(Error::UnknownColumn {
            column: shown,
            context: scope.context.into(),
        })
    }

    fn bind_variable(&mut self, parts: &[ast::Ident]) -> Result<Expr> {
        let first = &parts[0].value;
        if let Some(rest) = first.strip_prefix("@@") {
            let (scope, name) = match (rest.to_ascii_lowercase().as_str(), parts.get(1)) {
                ("global", Some(n)) => (VarScope::Global, n.value.clone()),
                ("session" | "local", Some(n)) => (VarScope::Session, n.value.clone()),
                (_, None) => (VarScope::Default, rest.to_string()),
                (_, Some(_)) => (
                    VarScope::Default,
                    parts
                        .iter()
                        .map(|p| p.value.trim_start_matches('@'))
                        .collect::<Vec<_>>()
                        .join("."),
                ),
            };
            return Ok(Expr::SysVar {
                name: name.to_lowercase(),
                scope,
            });
        }
        let name = parts
            .iter()
            .map(|p| p.value.as_str())
            .collect::<Vec<_>>()
            .join(".");
        Ok(Expr::UserVar(name.trim_start_matches('@').to_lowercase()))
    }

    fn function_args<'f>(&self, f: &'f ast::Function) -> Result<(Vec<&'f FunctionArgExpr>, bool)> {
        match &f.args {
            FunctionArguments::None => Ok((vec![], false)),
            FunctionArguments::List(list) => {
                let distinct = matches!(
                    list.duplicate_treatment,
                    Some(ast::DuplicateTreatment::Distinct)
                );
                let args = list
                    .args
                    .iter()
                    .map(|a| match a {
                        FunctionArg::Unnamed(x) => Ok(x),
                        FunctionArg::Named { arg, .. } | FunctionArg::ExprNamed { arg, .. } => {
                            Ok(arg)
                        }
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok((args, distinct))
            }
            FunctionArguments::Subquery(_) => {
                Err(Error::NotSupported("subquery as function argument".into()))
            }
        }
    }

    fn bind_args(&mut self, args: &[&FunctionArgExpr], scope: &Scope) -> Result<Vec<Expr>> {
        args.iter()
            .map(|a| match a {
                FunctionArgExpr::Expr(e) => self.bind_expr(e, scope),
                _ => Err(Error::NotSupported("* as a function argument".into())),
            })
            .collect()
    }

    fn bind_function(&mut self, f: &ast::Function, scope: &Scope) -> Result<Expr> {
        let name = function_name(f);
        let upper = name.to_ascii_uppercase();
        let (args, distinct) = self.function_args(f)?;

        if let Some(over) = &f.over {
            return self.bind_window(&upper, &args, distinct, over, scope);
        }
        if let Some(agg) = is_aggregate_name(&upper) {
            return self.bind_aggregate(agg, &args, distinct, f, scope);
        }
        if upper == "VALUES" {
            if let (Some(base), [FunctionArgExpr::Expr(e)]) = (scope.values_base, args.as_slice()) {
                return match self.bind_expr(e, scope)? {
                    Expr::Column(i) if i < base => Ok(Expr::Column(base + i)),
                    _ => Err(Error::WrongArguments("VALUES".into())),
                };
            }
            return Ok(Expr::Literal(Value::Null));
        }
        if matches!(
            upper.as_str(),
            "DATE_ADD" | "DATE_SUB" | "ADDDATE" | "SUBDATE"
        ) && args.len() == 2
        {
            return self.bind_date_arith(&upper, &args, scope);
        }
        if upper == "TIMESTAMPDIFF" && args.len() == 3 {
            let unit = match args[0] {
                FunctionArgExpr::Expr(ast::Expr::Identifier(i)) => i.value.to_uppercase(),
                FunctionArgExpr::Expr(other) => other.to_string().to_uppercase(),
                _ => String::new(),
            };
            let rest = self.bind_args(&args[1..], scope)?;
            let mut all = vec![Expr::Literal(Value::Str(unit))];
            all.extend(rest);
            return Ok(call(Func::TimestampDiff, all));
        }
        let Some(func) = Func::from_name(&name) else {
            let db = self.ctx.current_db.unwrap_or("test");
            return Err(Error::UnknownFunction(format!("{db}.{name}")));
        };
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            return Err(Error::WrongArgCount(name.to_lowercase()));
        }
        if let Some(target) = func.embed_distance_target() {
            return self.bind_vec_embed(func, target, &args, scope);
        }
        let bound = self.bind_args(&args, scope)?;
        Ok(Expr::Call { func, args: bound })
    }

    /// `DATE_ADD(d, INTERVAL n unit)` -> DateAdd(d, n, 'UNIT').
    fn bind_date_arith(
        &mut self,
        upper: &str,
        args: &[&FunctionArgExpr],
        scope: &Scope,
    ) -> Result<Expr> {
        let func = if upper.contains("ADD") {
            Func::DateAdd
        } else {
            Func::DateSub
        };
        let date = self.bind_args(&args[..1], scope)?.remove(0);
        let (amount, unit) = match args[1] {
            FunctionArgExpr::Expr(ast::Expr::Interval(iv)) => {
                let unit = iv
                    .leading_field
                    .as_ref()
                    .map(|f| f.to_string().to_uppercase())
                    .unwrap_or_else(|| "DAY".into());
                (self.bind_expr(&iv.value, scope)?, unit)
            }
            FunctionArgExpr::Expr(e) => (self.bind_expr(e, scope)?, "DAY".into()),
            _ => return Err(Error::WrongArguments(upper.into())),
        };
        Ok(call(
            func,
            vec![date, amount, Expr::Literal(Value::Str(unit))],
        ))
    }

    /// `VEC_EMBED_<M>(col, q)` -> `VEC_<M>(col, EMBED_TEXT(<col's model>, q [, search options]))`.
    fn bind_vec_embed(
        &mut self,
        func: Func,
        target: Func,
        args: &[&FunctionArgExpr],
        scope: &Scope,
    ) -> Result<Expr> {
        let bound = self.bind_args(args, scope)?;
        let col = &bound[0];
        let column = match col {
            Expr::Column(i) => scope.columns.get(*i),
            Expr::OuterColumn { depth, index } => self
                .outer
                .len()
                .checked_sub(*depth)
                .and_then(|d| self.outer.get(d))
                .and_then(|c| c.get(*index)),
            _ => None,
        };
        let Some(Generated::Embed { model, options, .. }) =
            column.and_then(|c| c.generated.clone())
        else {
            let got = match (args[0], column) {
                (_, Some(c)) => c.name.clone(),
                (FunctionArgExpr::Expr(e), None) => e.to_string(),
                _ => "expression".into(),
            };
            return Err(Error::other(format!(
                "{}() first argument must be a vector embedding column generated by EMBED_TEXT(), got {got}",
                func.name()
            )));
        };
        let mut embed_args = vec![Expr::Literal(Value::Str(model)), bound[1].clone()];
        if let Some(opts) = options
            .as_deref()
            .filter(|o| !o.trim().is_empty())
            .and_then(search_options)
        {
            embed_args.push(Expr::Literal(Value::Str(opts)));
        }
        Ok(Expr::Call {
            func: target,
            args: vec![
                col.clone(),
                Expr::Call {
                    func: Func::EmbedText,
                    args: embed_args,
                },
            ],
        })
    }

    fn bind_aggregate(
        &mut self,
        func: AggFunc,
        args: &[&FunctionArgExpr],
        distinct: bool,
        f: &ast::Function,
        scope: &Scope,
    ) -> Result<Expr> {
        let Some(collector) = scope.aggregates else {
            return Err(Error::InvalidGroupFuncUse);
        };
        let arg = match args {
            [] if func == AggFunc::Count => None,
            [FunctionArgExpr::Wildcard] if func == AggFunc::Count => None,
            [FunctionArgExpr::Expr(e)] => Some(self.bind_expr(
                e,
                &Scope {
                    aggregates: None,
                    windows: None,
                    ..scope.clone_shallow()
                },
            )?),
            [FunctionArgExpr::Expr(first), rest @ ..] if func == AggFunc::GroupConcat => {
                // GROUP_CONCAT(a, b, ...) concatenates its arguments.
                let mut all = vec![self.bind_expr(first, scope)?];
                for r in rest {
                    if let FunctionArgExpr::Expr(e) = r {
                        all.push(self.bind_expr(e, scope)?);
                    }
                }
                Some(Expr::Call {
                    func: Func::Concat,
                    args: all,
                })
            }
            _ => return Err(Error::WrongArgCount(function_name(f).to_lowercase())),
        };
        let separator = match &f.args {
            FunctionArguments::List(l) => {
                l.clauses
                    .iter()
                    .find_map(|c| match c {
                        ast::FunctionArgumentClause::Separator(v) => match &v.value {
                            ast::Value::SingleQuotedString(s)
                            | ast::Value::DoubleQuotedString(s) => Some(s.clone()),
                            _ => None,
                        },
                        _ => None,
                    })
                    .unwrap_or_else(|| ",".into())
            }
            _ => ",".into(),
        };
        let arg_type = arg
            .as_ref()
            .map(|a| self.expr_type(a, scope))
            .unwrap_or(DataType::Null);
        let data_type = agg_type(func, &arg_type);
        let call = AggCall {
            func,
            arg,
            distinct,
            separator,
            data_type,
        };
        let mut aggs = collector.borrow_mut();
        let idx = match aggs.iter().position(|a| *a == call) {
            Some(i) => i,
            None => {
                aggs.push(call);
                aggs.len() - 1
            }
        };
        Ok(Expr::Column(AGG_BASE + idx))
    }

    fn bind_window(
        &mut self,
        upper: &str,
        args: &[&FunctionArgExpr],
        distinct: bool,
        over: &ast::WindowType,
        scope: &Scope,
    ) -> Result<Expr> {
        let Some(collector) = scope.windows else {
            return Err(Error::NotSupported("window function here".into()));
        };
        if distinct {
            return Err(Error::NotSupported("DISTINCT in window functions".into()));
        }
        let ast::WindowType::WindowSpec(spec) = over else {
            return Err(Error::NotSupported("named windows".into()));
        };
        let func = match upper {
            "ROW_NUMBER" => WindowFunc::RowNumber,
            "RANK" => WindowFunc::Rank,
            "DENSE_RANK" => WindowFunc::DenseRank,
            "LAG" => WindowFunc::Lag,
            "LEAD" => WindowFunc::Lead,
            "FIRST_VALUE" => WindowFunc::FirstValue,
            "LAST_VALUE" => WindowFunc::LastValue,
            other => match is_aggregate_name(other) {
                Some(a) => WindowFunc::Aggregate(a),
                None => return Err(Error::UnknownFunction(other.to_lowercase())),
            },
        };
        let inner = Scope {
            windows: None,
            ..scope.clone_shallow()
        };
        let args = args
            .iter()
            .filter_map(|a| match a {
                FunctionArgExpr::Expr(e) => Some(self.bind_expr(e, &inner)),
                _ => None,
            })
            .collect::<Result<Vec<_>>>()?;
        let partition_by = spec
            .partition_by
            .iter()
            .map(|e| self.bind_expr(e, &inner))
            .collect::<Result<Vec<_>>>()?;
        let mut order_by = Vec::new();
        for o in &spec.order_by {
            let expr = self.bind_expr(&o.expr, &inner)?;
            let collation = self.collation_of(&expr, &inner);
            order_by.push(SortKey {
                expr,
                desc: matches!(o.options.sort, Some(ast::OrderBySort::Desc)),
                collation,
            });
        }
        let data_type = match &func {
            WindowFunc::RowNumber | WindowFunc::Rank | WindowFunc::DenseRank => DataType::Int {
                width: tiembed_types::IntWidth::Big,
                unsigned: false,
            },
            WindowFunc::Aggregate(a) => agg_type(
                *a,
                &args
                    .first()
                    .map(|x| self.expr_type(x, &inner))
                    .unwrap_or(DataType::Null),
            ),
            _ => args
                .first()
                .map(|x| self.expr_type(x, &inner))
                .unwrap_or(DataType::Null),
        };
        let mut wins = collector.borrow_mut();
        wins.push(WindowCall {
            func,
            args,
            partition_by,
            order_by,
            data_type,
        });
        Ok(Expr::Column(WIN_BASE + wins.len() - 1))
    }

    /// Binds a subquery with `scope` as its enclosing row; returns its id.
    pub(crate) fn bind_subquery(
        &mut self,
        q: &ast::Query,
        scope: &Scope,
        columns: Option<usize>,
    ) -> Result<usize> {
        self.outer.push(scope.columns.to_vec());
        self.correlated_depths.push(false);
        let plan = self.bind_query_plan(q);
        let correlated = self.correlated_depths.pop().unwrap_or(false);
        self.outer.pop();
        let plan = plan?;
        if let Some(n) = columns {
            if plan.columns().len() != n {
                return Err(Error::OperandColumns(n));
            }
        }
        self.subqueries
            .push(crate::plan::SubqueryPlan { plan, correlated });
        Ok(self.subqueries.len() - 1)
    }

    /// Static type of a bound expression in `scope`.
    pub(crate) fn expr_type(&self, e: &Expr, scope: &Scope) -> DataType {
        let types: Vec<DataType> = scope.columns.iter().map(|c| c.data_type.clone()).collect();
        match e {
            Expr::Column(i) if *i < types.len() => types[*i].clone(),
            Expr::Subquery {
                id,
                kind: crate::SubqueryKind::Scalar,
            } => self
                .subqueries
                .get(*id)
                .and_then(|s| s.plan.columns().first().map(|c| c.data_type.clone()))
                .unwrap_or(DataType::Null),
            _ => crate::types::expr_type(e, &types),
        }
    }
}

impl<'c> Scope<'c> {
    /// A copy sharing the same column slice and collectors.
    pub(crate) fn clone_shallow(&self) -> Scope<'c> {
        Scope {
            columns: self.columns,
            aliases: self.aliases.clone(),
            aggregates: self.aggregates,
            windows: self.windows,
            values_base: self.values_base,
            context: self.context,
        }
    }
}

/// Result type of an aggregate over an argument type (MySQL rules).
pub(crate) fn agg_type(func: AggFunc, arg: &DataType) -> DataType {
    use tiembed_types::IntWidth;
    match func {
        AggFunc::Count | AggFunc::BitAnd | AggFunc::BitOr => DataType::Int {
            width: IntWidth::Big,
            unsigned: func != AggFunc::Count,
        },
        AggFunc::Sum => match arg {
            DataType::Int { .. } | DataType::Bool => DataType::Decimal {
                precision: 65,
                scale: 0,
            },
            DataType::Decimal { scale, .. } => DataType::Decimal {
                precision: 65,
                scale: *scale,
            },
            _ => DataType::Double,
        },
        AggFunc::Avg => match arg {
            DataType::Int { .. } | DataType::Bool => DataType::Decimal {
                precision: 65,
                scale: 4,
            },
            DataType::Decimal { scale, .. } => DataType::Decimal {
                precision: 65,
                scale: (*scale + 4).min(30),
            },
            _ => DataType::Double,
        },
        AggFunc::StdDev | AggFunc::Variance => DataType::Double,
        AggFunc::GroupConcat => DataType::Text(TextKind::Normal),
        AggFunc::Min | AggFunc::Max | AggFunc::AnyValue => arg.clone(),
    }
}

/// Finds `name` (optionally qualified) among `columns`; ambiguity is 1052.
pub(crate) fn find_column(
    columns: &[Column],
    qualifier: &[&str],
    name: &str,
    context: &str,
) -> Result<Option<usize>> {
    let mut found: Option<usize> = None;
    for (i, c) in columns.iter().enumerate() {
        if !c.name.eq_ignore_ascii_case(name) {
            continue;
        }
        let ok = match qualifier {
            [] => !c.hidden,
            [t] => c
                .qualifier
                .as_deref()
                .is_some_and(|q| q.eq_ignore_ascii_case(t)),
            [d, t] => {
                c.qualifier
                    .as_deref()
                    .is_some_and(|q| q.eq_ignore_ascii_case(t))
                    && c.db.eq_ignore_ascii_case(d)
            }
            _ => false,
        };
        if !ok {
            continue;
        }
        if found.is_some() {
            return Err(Error::AmbiguousColumn {
                column: name.to_string(),
                context: context.to_string(),
            });
        }
        found = Some(i);
    }
    Ok(found)
}
