//! One-time rewrites of a bound expression before it runs over many rows.

use tiembed_sql::{Expr, Func};
use tiembed_types::Value;

/// Parses string literals that vector functions would otherwise parse on
/// every row (`VEC_COSINE_DISTANCE(col, '[0.1, ...]')`), turning them into
/// vector literals. A text that does not parse is left as it is, so the
/// error still surfaces when (and only if) the call is evaluated.
pub fn preparse_vector_literals(expr: &mut Expr) {
    match expr {
        Expr::Call { func, args } => {
            let vector_args = matches!(
                func,
                Func::VecDims
                    | Func::VecL1Distance
                    | Func::VecL2Distance
                    | Func::VecCosineDistance
                    | Func::VecNegativeInnerProduct
                    | Func::VecL2Norm
                    | Func::VecAsText
            );
            for a in args.iter_mut() {
                if vector_args {
                    if let Expr::Literal(Value::Str(s)) = a {
                        if let Ok(v) = tiembed_vector::parse_vector(s) {
                            *a = Expr::Literal(Value::vector(v));
                            continue;
                        }
                    }
                }
                preparse_vector_literals(a);
            }
        }
        Expr::Unary { expr, .. }
        | Expr::IsNull { expr, .. }
        | Expr::IsBool { expr, .. }
        | Expr::Cast { expr, .. } => preparse_vector_literals(expr),
        Expr::Binary { left, right, .. } | Expr::Compare { left, right, .. } => {
            preparse_vector_literals(left);
            preparse_vector_literals(right);
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            preparse_vector_literals(expr);
            preparse_vector_literals(low);
            preparse_vector_literals(high);
        }
        Expr::InList { expr, list, .. } => {
            preparse_vector_literals(expr);
            list.iter_mut().for_each(preparse_vector_literals);
        }
        Expr::Like { expr, pattern, .. } => {
            preparse_vector_literals(expr);
            preparse_vector_literals(pattern);
        }
        Expr::Case {
            operand,
            whens,
            else_,
            ..
        } => {
            if let Some(o) = operand {
                preparse_vector_literals(o);
            }
            for (w, t) in whens.iter_mut() {
                preparse_vector_literals(w);
                preparse_vector_literals(t);
            }
            if let Some(e) = else_ {
                preparse_vector_literals(e);
            }
        }
        Expr::Literal(_)
        | Expr::Column(_)
        | Expr::OuterColumn { .. }
        | Expr::Param(_)
        | Expr::UserVar(_)
        | Expr::SysVar { .. }
        | Expr::Subquery { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_texts_are_parsed_once() {
        let s = |x: &str| Expr::Literal(Value::Str(x.into()));
        let mut e = Expr::Unary {
            op: tiembed_sql::UnaryOp::Neg,
            expr: Box::new(Expr::Call {
                func: Func::VecCosineDistance,
                args: vec![Expr::Column(0), s("[1, 2]")],
            }),
        };
        preparse_vector_literals(&mut e);
        let Expr::Unary { expr, .. } = &e else {
            unreachable!()
        };
        assert_eq!(
            **expr,
            Expr::Call {
                func: Func::VecCosineDistance,
                args: vec![
                    Expr::Column(0),
                    Expr::Literal(Value::vector(vec![1.0, 2.0]))
                ]
            }
        );
        // bad text stays, to fail at evaluation as TiDB does
        let mut bad = Expr::Call {
            func: Func::VecDims,
            args: vec![s("[1,")],
        };
        preparse_vector_literals(&mut bad);
        assert_eq!(
            bad,
            Expr::Call {
                func: Func::VecDims,
                args: vec![s("[1,")]
            }
        );
        // other functions' strings are untouched
        let mut other = Expr::Call {
            func: Func::Concat,
            args: vec![s("[1]")],
        };
        preparse_vector_literals(&mut other);
        assert_eq!(
            other,
            Expr::Call {
                func: Func::Concat,
                args: vec![s("[1]")]
            }
        );
    }
}
