//! Evaluation tests through [`eval`] on literal expressions, with a small
//! context that records warnings and embedding calls.

use super::*;
use rust_decimal::Decimal;
use std::cell::RefCell;
use std::str::FromStr;
use tiembed_sql::Func;
use tiembed_types::Collation;

#[derive(Default)]
pub(crate) struct TestCtx {
    pub warnings: RefCell<Vec<(u16, String)>>,
    pub embeds: RefCell<Vec<(String, String, Option<String>)>>,
}

impl EvalContext for TestCtx {
    fn param(&self, index: usize) -> Result<Value> {
        Ok(Value::Int(index as i64 + 100))
    }
    fn user_var(&self, name: &str) -> Value {
        Value::Str(format!("var:{name}"))
    }
    fn sys_var(&self, name: &str, _scope: VarScope) -> Result<Value> {
        Err(Error::UnknownSystemVariable(name.into()))
    }
    fn now(&self) -> NaiveDateTime {
        NaiveDateTime::parse_from_str("2024-03-01 14:05:09.123456", "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }
    fn outer_row(&self, _depth: usize) -> Result<&[Value]> {
        Err(Error::internal("no outer row"))
    }
    fn subquery(&self, _id: usize, _kind: &SubqueryKind, _row: &[Value]) -> Result<Value> {
        Ok(Value::Int(7))
    }
    fn embed(&self, model: &str, text: &str, options: Option<&str>) -> Result<Value> {
        self.embeds
            .borrow_mut()
            .push((model.into(), text.into(), options.map(String::from)));
        Ok(Value::vector(vec![text.len() as f32, 1.0]))
    }
    fn info(&self, func: Func) -> Result<Value> {
        Ok(match func {
            Func::Version => Value::Str("8.0.11-TiDB-v8.5.3-serverless".into()),
            Func::ConnectionId => Value::UInt(42),
            _ => Value::Null,
        })
    }
    fn warn(&self, code: u16, message: String) {
        self.warnings.borrow_mut().push((code, message));
    }
}

// ---- expression builders ----------------------------------------------------

pub(crate) fn lit(v: Value) -> Expr {
    Expr::Literal(v)
}
pub(crate) fn int(i: i64) -> Expr {
    lit(Value::Int(i))
}
pub(crate) fn uint(u: u64) -> Expr {
    lit(Value::UInt(u))
}
pub(crate) fn dbl(f: f64) -> Expr {
    lit(Value::Double(f))
}
pub(crate) fn dec(s: &str) -> Expr {
    lit(Value::Decimal(Decimal::from_str(s).unwrap()))
}
pub(crate) fn s(x: &str) -> Expr {
    lit(Value::Str(x.into()))
}
pub(crate) fn null() -> Expr {
    lit(Value::Null)
}
pub(crate) fn vecx(x: &[f32]) -> Expr {
    lit(Value::vector(x.to_vec()))
}
fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(l),
        right: Box::new(r),
    }
}
fn cmp(op: CmpOp, l: Expr, r: Expr) -> Expr {
    Expr::Compare {
        op,
        left: Box::new(l),
        right: Box::new(r),
        collation: Collation::Utf8mb4Bin,
    }
}
fn call(func: Func, args: Vec<Expr>) -> Expr {
    Expr::Call { func, args }
}
fn not(e: Expr) -> Expr {
    Expr::Unary {
        op: UnaryOp::Not,
        expr: Box::new(e),
    }
}

fn ev(e: &Expr) -> Value {
    eval(e, &[], &TestCtx::default()).unwrap_or_else(|err| panic!("{e:?}: {err}"))
}
/// Result as the text protocol would send it ("NULL" for NULL).
fn t(e: &Expr) -> String {
    ev(e).to_text().unwrap_or_else(|| "NULL".into())
}
fn err(e: &Expr) -> String {
    match eval(e, &[], &TestCtx::default()) {
        Ok(v) => panic!("{e:?} gave {v:?}, expected an error"),
        Err(x) => x.to_string(),
    }
}
fn f(func: Func, args: Vec<Expr>) -> String {
    t(&call(func, args))
}

// ---- logic -------------------------------------------------------------------

#[test]
fn three_valued_logic() {
    use BinaryOp::*;
    assert_eq!(t(&bin(And, int(1), null())), "NULL");
    assert_eq!(t(&bin(And, int(0), null())), "0");
    assert_eq!(t(&bin(And, null(), int(0))), "0");
    assert_eq!(t(&bin(Or, int(1), null())), "1");
    assert_eq!(t(&bin(Or, null(), int(0))), "NULL");
    assert_eq!(t(&bin(Or, int(0), int(0))), "0");
    assert_eq!(t(&bin(Xor, int(1), int(1))), "0");
    assert_eq!(t(&bin(Xor, int(1), int(0))), "1");
    assert_eq!(t(&bin(Xor, int(1), null())), "NULL");
    assert_eq!(t(&not(null())), "NULL");
    assert_eq!(t(&not(int(5))), "0");
    // MySQL truthiness of strings: numeric prefix
    assert_eq!(t(&bin(And, s("1abc"), int(1))), "1");
    assert_eq!(t(&bin(And, s("abc"), int(1))), "0");
    assert_eq!(t(&not(s("0.0"))), "1");
    assert_eq!(t(&bin(Or, dbl(0.5), int(0))), "1");
    // AND short-circuits: the right side would fail
    assert_eq!(
        t(&bin(And, int(0), cmp(CmpOp::Eq, vecx(&[1.0]), int(1)))),
        "0"
    );
}

#[test]
fn is_null_and_is_true() {
    let isb = |e, value, negated| Expr::IsBool {
        expr: Box::new(e),
        value,
        negated,
    };
    assert_eq!(
        t(&Expr::IsNull {
            expr: Box::new(null()),
            negated: false
        }),
        "1"
    );
    assert_eq!(
        t(&Expr::IsNull {
            expr: Box::new(int(0)),
            negated: true
        }),
        "1"
    );
    assert_eq!(t(&isb(null(), true, false)), "0");
    assert_eq!(t(&isb(null(), true, true)), "1");
    assert_eq!(t(&isb(int(0), false, false)), "1");
    assert_eq!(t(&isb(s("abc"), true, false)), "0");
}

#[test]
fn predicates_treat_null_as_false() {
    let ctx = TestCtx::default();
    let row = [Value::Int(5), Value::Null, Value::Str("abc".into())];
    let c = |e: Expr| eval_predicate(&e, &row, &ctx).unwrap();
    assert!(c(cmp(CmpOp::Eq, Expr::Column(0), int(5))));
    assert!(!c(cmp(CmpOp::Eq, Expr::Column(1), int(5))));
    assert!(!c(not(cmp(CmpOp::Eq, Expr::Column(1), int(5)))));
    assert!(c(cmp(CmpOp::NullSafeEq, Expr::Column(1), null())));
    assert!(c(cmp(CmpOp::Gt, Expr::Column(2), s("abb"))));
    assert!(eval_predicate(&Expr::Column(9), &row, &ctx).is_err());
}

// ---- comparison ------------------------------------------------------------

#[test]
fn comparisons() {
    use CmpOp::*;
    assert_eq!(t(&cmp(Eq, int(1), dec("1.0"))), "1");
    assert_eq!(t(&cmp(Lt, int(-1), uint(u64::MAX))), "1");
    assert_eq!(t(&cmp(Eq, s("10"), int(10))), "1");
    assert_eq!(t(&cmp(Eq, s("abc"), int(0))), "1");
    assert_eq!(t(&cmp(Lt, s("10"), s("9"))), "1");
    assert_eq!(t(&cmp(Eq, int(1), null())), "NULL");
    assert_eq!(t(&cmp(NullSafeEq, null(), null())), "1");
    assert_eq!(t(&cmp(NullSafeEq, int(1), null())), "0");
    assert_eq!(t(&cmp(NotEq, dbl(0.1), dec("0.1"))), "0");
    assert_eq!(
        t(&cmp(
            GtEq,
            lit(Value::Date(
                chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap()
            )),
            s("2024-01-01 23:59:59")
        )),
        "1"
    );
    let ci = Expr::Compare {
        op: Eq,
        left: Box::new(s("Hello ")),
        right: Box::new(s("hELLO")),
        collation: Collation::Utf8mb4GeneralCi,
    };
    assert_eq!(t(&ci), "1");
    assert_eq!(t(&cmp(Eq, s("Hello"), s("hello"))), "0");
    assert_eq!(t(&cmp(Eq, s("a "), s("a"))), "1"); // utf8mb4_bin is PAD SPACE
}

#[test]
fn vector_comparisons() {
    use CmpOp::*;
    assert_eq!(
        t(&cmp(
            Lt,
            vecx(&[1.0, 2.0, 3.0]),
            vecx(&[1.0, 2.0, 3.0, 0.0])
        )),
        "1"
    );
    assert_eq!(t(&cmp(Lt, vecx(&[]), vecx(&[1.0]))), "1");
    assert_eq!(t(&cmp(Eq, vecx(&[1.0, 2.0]), s("[1, 2]"))), "1");
    // two strings compare as strings unless cast
    assert_eq!(t(&cmp(Lt, s("[12.0]"), s("[4.0]"))), "1");
    let vf = |x: &str| call(Func::VecFromText, vec![s(x)]);
    assert_eq!(t(&cmp(Lt, vf("[12.0]"), vf("[4.0]"))), "0");
    assert_eq!(
        err(&cmp(Eq, vecx(&[1.0]), s("[1,"))),
        "Invalid vector text: [1,"
    );
    assert_eq!(
        t(&call(
            Func::Greatest,
            vec![vecx(&[1.0, 2.0]), s("[1, 3]"), vecx(&[0.5])]
        )),
        "[1,3]"
    );
    assert_eq!(
        t(&call(
            Func::Least,
            vec![vecx(&[1.0, 2.0]), s("[1, 3]"), vecx(&[1.0])]
        )),
        "[1]"
    );
    let between = Expr::Between {
        expr: Box::new(vecx(&[2.0])),
        low: Box::new(s("[1]")),
        high: Box::new(s("[3]")),
        negated: false,
        collation: Collation::Utf8mb4Bin,
    };
    assert_eq!(t(&between), "1");
}

#[test]
fn in_lists_and_between() {
    let inl = |e: Expr, list: Vec<Expr>, negated| Expr::InList {
        expr: Box::new(e),
        list,
        negated,
        collation: Collation::Utf8mb4Bin,
    };
    assert_eq!(t(&inl(int(1), vec![int(2), null()], false)), "NULL");
    assert_eq!(t(&inl(int(1), vec![int(2), null()], true)), "NULL");
    assert_eq!(t(&inl(int(2), vec![int(2), null()], false)), "1");
    assert_eq!(t(&inl(int(3), vec![int(1), int(2)], true)), "1");
    assert_eq!(t(&inl(null(), vec![int(1)], false)), "NULL");
    assert_eq!(t(&inl(s("b"), vec![s("a"), s("b")], false)), "1");
    assert_eq!(t(&inl(dec("2.0"), vec![int(1), int(2)], false)), "1");
    let btw = |e, lo, hi, negated| Expr::Between {
        expr: Box::new(e),
        low: Box::new(lo),
        high: Box::new(hi),
        negated,
        collation: Collation::Utf8mb4Bin,
    };
    assert_eq!(t(&btw(int(5), int(1), int(10), false)), "1");
    assert_eq!(t(&btw(int(5), int(6), int(10), false)), "0");
    assert_eq!(t(&btw(int(5), null(), int(3), false)), "0");
    assert_eq!(t(&btw(int(5), null(), int(10), false)), "NULL");
    assert_eq!(t(&btw(int(5), int(1), int(10), true)), "0");
    assert_eq!(t(&btw(s("b"), s("a"), s("c"), false)), "1");
}

#[test]
fn like_operator() {
    let like = |e, p, escape, negated, collation| Expr::Like {
        expr: Box::new(e),
        pattern: Box::new(p),
        escape,
        negated,
        collation,
    };
    assert_eq!(
        t(&like(
            s("50%off"),
            s("50\\%%"),
            '\\',
            false,
            Collation::Utf8mb4Bin
        )),
        "1"
    );
    assert_eq!(
        t(&like(s("ABC"), s("a%"), '\\', false, Collation::Utf8mb4Bin)),
        "0"
    );
    assert_eq!(
        t(&like(
            s("ABC"),
            s("a%"),
            '\\',
            false,
            Collation::Utf8mb4GeneralCi
        )),
        "1"
    );
    assert_eq!(
        t(&like(s("ABC"), s("a%"), '\\', true, Collation::Utf8mb4Bin)),
        "1"
    );
    assert_eq!(
        t(&like(null(), s("a%"), '\\', false, Collation::Utf8mb4Bin)),
        "NULL"
    );
    assert_eq!(
        t(&like(
            s("a_c"),
            s("a#_c"),
            '#',
            false,
            Collation::Utf8mb4Bin
        )),
        "1"
    );
}

// ---- arithmetic ------------------------------------------------------------

#[test]
fn integer_arithmetic_and_overflow() {
    use BinaryOp::*;
    assert_eq!(t(&bin(Plus, int(2), int(3))), "5");
    assert_eq!(
        err(&bin(Plus, int(i64::MAX), int(1))),
        "BIGINT value is out of range in '(9223372036854775807 + 1)'"
    );
    assert_eq!(
        err(&bin(Multiply, int(i64::MAX), int(2))),
        "BIGINT value is out of range in '(9223372036854775807 * 2)'"
    );
    assert_eq!(
        err(&bin(Minus, uint(1), int(2))),
        "BIGINT UNSIGNED value is out of range in '(1 - 2)'"
    );
    assert_eq!(t(&bin(Plus, int(-1), uint(5))), "4");
    assert_eq!(ev(&bin(Plus, int(-1), uint(5))), Value::UInt(4));
    assert_eq!(
        t(&bin(Plus, uint(u64::MAX), int(0))),
        "18446744073709551615"
    );
    assert_eq!(
        t(&bin(Minus, int(i64::MIN), int(0))),
        "-9223372036854775808"
    );
    let ctx = TestCtx::default();
    assert!(matches!(
        eval(&bin(Minus, int(i64::MIN), int(1)), &[], &ctx).unwrap_err(),
        Error::ArithmeticOutOfRange { .. }
    ));
    assert_eq!(
        err(&Expr::Unary {
            op: UnaryOp::Neg,
            expr: Box::new(int(i64::MIN))
        }),
        "BIGINT value is out of range in '-(-9223372036854775808)'"
    );
    assert_eq!(
        t(&Expr::Unary {
            op: UnaryOp::Neg,
            expr: Box::new(uint(5))
        }),
        "-5"
    );
    assert_eq!(
        t(&Expr::Unary {
            op: UnaryOp::Neg,
            expr: Box::new(s("2.5"))
        }),
        "-2.5"
    );
}

#[test]
fn decimal_arithmetic() {
    use BinaryOp::*;
    assert_eq!(t(&bin(Plus, dec("1.10"), dec("2.205"))), "3.305");
    assert_eq!(t(&bin(Plus, dec("1.10"), int(1))), "2.10");
    assert_eq!(t(&bin(Multiply, dec("1.10"), dec("2.5"))), "2.750");
    assert_eq!(t(&bin(Minus, dec("0.1"), dec("0.3"))), "-0.2");
    assert_eq!(t(&bin(Plus, dbl(0.1), dbl(0.2))), "0.30000000000000004");
    assert_eq!(t(&bin(Plus, dec("0.1"), dbl(0.2))), "0.30000000000000004");
    assert_eq!(t(&bin(Plus, s("1.5"), int(1))), "2.5");
    assert_eq!(t(&bin(Plus, s("abc"), int(1))), "1");
    assert_eq!(t(&bin(Plus, null(), int(1))), "NULL");
    assert_eq!(t(&bin(Modulo, int(-7), int(3))), "-1");
    assert_eq!(t(&bin(Modulo, int(7), int(-3))), "1");
    assert_eq!(t(&bin(Modulo, dec("7.5"), int(2))), "1.5");
    assert_eq!(t(&bin(Modulo, dbl(7.5), int(2))), "1.5");
    assert_eq!(t(&bin(IntDivide, int(7), int(2))), "3");
    assert_eq!(t(&bin(IntDivide, int(-7), int(2))), "-3");
    assert_eq!(t(&bin(IntDivide, dec("5.5"), dec("2"))), "2");
    assert_eq!(t(&bin(IntDivide, dbl(5.5), int(2))), "2");
    assert_eq!(
        err(&bin(IntDivide, int(i64::MIN), int(-1))),
        "BIGINT value is out of range in '(-9223372036854775808 DIV -1)'"
    );
}

#[test]
fn division_returns_decimal_with_tidb_digits() {
    use BinaryOp::*;
    let ctx = TestCtx::default();
    let v = eval(&bin(Divide, int(1), int(3)), &[], &ctx).unwrap();
    // full internal digits: one 9-digit word
    assert_eq!(v.to_text().unwrap(), "0.333333333");
    assert_eq!(t(&bin(Divide, dec("1.0"), int(61))), "0.016393442");
    assert_eq!(
        t(&bin(Divide, bin(Divide, int(1), int(3)), int(7))),
        "0.047619047571428571"
    );
    assert_eq!(
        t(&bin(Divide, dec("1.000000"), int(3))),
        "0.333333333333333333"
    );
    assert_eq!(t(&bin(Divide, int(10), dec("0.5"))), "20");
    let ty = tiembed_types::DataType::Decimal {
        precision: 14,
        scale: 4,
    };
    assert_eq!(finalize_for_output(v, &ty).to_text().unwrap(), "0.3333");
    // the RRF score of the hybrid-search recipe: TiDB prints 0.03279
    let rrf = |r1: i64, r2: i64| {
        let term = |r| {
            call(
                Func::Coalesce,
                vec![bin(Divide, dec("1.0"), bin(Plus, int(60), int(r))), int(0)],
            )
        };
        bin(Plus, term(r1), term(r2))
    };
    let ty = tiembed_sql::types::expr_type(&rrf(1, 1), &[]);
    assert_eq!(
        ty,
        tiembed_types::DataType::Decimal {
            precision: 7,
            scale: 5
        }
    );
    let out = |e: &Expr| {
        finalize_for_output(eval(e, &[], &ctx).unwrap(), &ty)
            .to_text()
            .unwrap()
    };
    assert_eq!(out(&rrf(1, 1)), "0.03279");
    assert_eq!(out(&rrf(3, 2)), "0.03200");
    assert_eq!(out(&rrf(2, 3)), "0.03200");
    // 1.0 / 4 prints padded to scale 5
    let e = bin(Divide, dec("1.0"), int(4));
    assert_eq!(
        finalize_for_output(ev(&e), &tiembed_sql::types::expr_type(&e, &[]))
            .to_text()
            .unwrap(),
        "0.25000"
    );
    // a string built from a quotient shows the display digits, as TiDB
    assert_eq!(f(Func::Concat, vec![bin(Divide, int(1), int(3))]), "0.3333");
    assert_eq!(
        t(&Expr::Cast {
            expr: Box::new(bin(Divide, int(2), int(3))),
            to: CastTarget::Char(None)
        }),
        "0.6667"
    );
    assert_eq!(
        t(&Expr::Cast {
            expr: Box::new(bin(Divide, int(1), int(3))),
            to: CastTarget::Decimal {
                precision: 10,
                scale: 6
            }
        }),
        "0.333333"
    );
    // math sees the full quotient
    assert_eq!(
        f(Func::Round, vec![bin(Divide, int(1), int(3)), int(6)]),
        "0.333333"
    );
    // doubles divide as doubles
    assert_eq!(t(&bin(Divide, dbl(1.0), int(4))), "0.25");
    assert_eq!(t(&bin(Divide, s("1"), int(4))), "0.25");
}

#[test]
fn division_by_zero_is_null_with_warning() {
    use BinaryOp::*;
    for op in [Divide, IntDivide, Modulo] {
        for zero in [int(0), dec("0.00"), dbl(0.0)] {
            let ctx = TestCtx::default();
            assert_eq!(
                eval(&bin(op, int(1), zero.clone()), &[], &ctx).unwrap(),
                Value::Null
            );
            assert_eq!(
                ctx.warnings.borrow().as_slice(),
                &[(1365, "Division by 0".to_string())]
            );
        }
    }
    assert_eq!(f(Func::Mod, vec![int(5), int(0)]), "NULL");
}

#[test]
fn vector_arithmetic() {
    use BinaryOp::*;
    let vf = |x: &str| call(Func::VecFromText, vec![s(x)]);
    assert_eq!(t(&bin(Minus, vf("[2,3,4]"), vf("[1,2,3]"))), "[1,1,1]");
    assert_eq!(
        t(&bin(Plus, vecx(&[1.0, 2.0]), s("[0.5, 0.5]"))),
        "[1.5,2.5]"
    );
    assert_eq!(
        t(&bin(Multiply, vecx(&[1.0, 2.0]), vecx(&[3.0, 4.0]))),
        "[3,8]"
    );
    assert_eq!(
        err(&bin(Plus, vecx(&[1.0]), vecx(&[1.0, 2.0, 3.0]))),
        "vectors have different dimensions: 1 and 3"
    );
    assert!(eval(&bin(Plus, vecx(&[1.0]), int(1)), &[], &TestCtx::default()).is_err());
    assert_eq!(t(&bin(Plus, vecx(&[1.0]), null())), "NULL");
}

#[test]
fn bit_operators() {
    use BinaryOp::*;
    assert_eq!(t(&bin(BitAnd, int(12), int(10))), "8");
    assert_eq!(t(&bin(BitOr, int(12), int(10))), "14");
    assert_eq!(t(&bin(BitXor, int(12), int(10))), "6");
    assert_eq!(t(&bin(ShiftLeft, int(1), int(4))), "16");
    assert_eq!(t(&bin(ShiftRight, int(16), int(70))), "0");
    assert_eq!(
        t(&Expr::Unary {
            op: UnaryOp::BitNot,
            expr: Box::new(int(0))
        }),
        "18446744073709551615"
    );
    assert_eq!(t(&bin(BitOr, int(-1), int(0))), "18446744073709551615");
}

// ---- CAST ----------------------------------------------------------------------

#[test]
fn casts_through_eval() {
    let cast = |e, to| Expr::Cast {
        expr: Box::new(e),
        to,
    };
    assert_eq!(t(&cast(s("12abc"), CastTarget::Signed)), "12");
    assert_eq!(
        t(&cast(
            dec("3.14159"),
            CastTarget::Decimal {
                precision: 10,
                scale: 3
            }
        )),
        "3.142"
    );
    assert_eq!(t(&cast(s("[1, 2]"), CastTarget::Vector(Some(2)))), "[1,2]");
    assert_eq!(t(&cast(null(), CastTarget::Signed)), "NULL");
    assert_eq!(
        err(&cast(s("[1]"), CastTarget::Vector(Some(2)))),
        "vector has 1 dimensions, does not fit VECTOR(2)"
    );
    assert_eq!(
        t(&cast(s("2024-02-03 04:05:06"), CastTarget::Date)),
        "2024-02-03"
    );
}

// ---- control -----------------------------------------------------------------

#[test]
fn control_flow() {
    assert_eq!(f(Func::If, vec![int(1), s("a"), s("b")]), "a");
    assert_eq!(f(Func::If, vec![null(), s("a"), s("b")]), "b");
    assert_eq!(f(Func::If, vec![s("0.0"), s("a"), s("b")]), "b");
    assert_eq!(f(Func::IfNull, vec![null(), int(2)]), "2");
    assert_eq!(f(Func::IfNull, vec![int(1), int(2)]), "1");
    assert_eq!(f(Func::NullIf, vec![int(1), int(1)]), "NULL");
    assert_eq!(f(Func::NullIf, vec![int(1), int(2)]), "1");
    assert_eq!(f(Func::Coalesce, vec![null(), null(), int(3), int(4)]), "3");
    assert_eq!(f(Func::Coalesce, vec![null()]), "NULL");
    assert_eq!(f(Func::Greatest, vec![int(1), dec("2.5"), int(2)]), "2.5");
    assert_eq!(f(Func::Least, vec![int(1), null()]), "NULL");
    assert_eq!(f(Func::Greatest, vec![s("apple"), s("banana")]), "banana");
    assert_eq!(f(Func::Greatest, vec![int(10), s("9")]), "9"); // mixed: compared as strings
    assert_eq!(f(Func::IsNullFn, vec![null()]), "1");
    // lazy: the branch not taken is never evaluated
    assert_eq!(
        f(
            Func::If,
            vec![int(1), int(1), bin(BinaryOp::Plus, int(i64::MAX), int(1))]
        ),
        "1"
    );
    assert_eq!(
        f(
            Func::Coalesce,
            vec![int(1), bin(BinaryOp::Plus, int(i64::MAX), int(1))]
        ),
        "1"
    );
}

#[test]
fn case_expressions() {
    let case = |operand: Option<Expr>, whens: Vec<(Expr, Expr)>, else_: Option<Expr>| Expr::Case {
        operand: operand.map(Box::new),
        whens,
        else_: else_.map(Box::new),
        collation: Collation::Utf8mb4Bin,
    };
    assert_eq!(
        t(&case(
            Some(int(2)),
            vec![(int(1), s("one")), (int(2), s("two"))],
            Some(s("other"))
        )),
        "two"
    );
    assert_eq!(
        t(&case(
            Some(int(3)),
            vec![(int(1), s("one"))],
            Some(s("other"))
        )),
        "other"
    );
    assert_eq!(
        t(&case(Some(int(3)), vec![(int(1), s("one"))], None)),
        "NULL"
    );
    assert_eq!(
        t(&case(
            Some(null()),
            vec![(null(), s("null"))],
            Some(s("else"))
        )),
        "else"
    );
    assert_eq!(
        t(&case(
            None,
            vec![(cmp(CmpOp::Gt, int(1), int(2)), s("a")), (int(1), s("b"))],
            None
        )),
        "b"
    );
    assert_eq!(t(&case(None, vec![(null(), s("a"))], Some(s("c")))), "c");
}

#[test]
fn sqlalchemy_json_index_expression() {
    // CASE JSON_EXTRACT(meta, '$."f"') WHEN 'null' THEN NULL
    //   ELSE JSON_EXTRACT(meta, '$."f"') + 0.0000000000000000000000 END >= 0.5e0
    let expr = |meta: &str| {
        let extract = call(Func::JsonExtract, vec![s(meta), s("$.\"f\"")]);
        let case = Expr::Case {
            operand: Some(Box::new(extract.clone())),
            whens: vec![(s("null"), null())],
            else_: Some(Box::new(bin(
                BinaryOp::Plus,
                extract,
                dec("0.0000000000000000000000"),
            ))),
            collation: Collation::Utf8mb4Bin,
        };
        cmp(CmpOp::GtEq, case, dbl(0.5))
    };
    assert_eq!(t(&expr(r#"{"f": 0.7}"#)), "1");
    assert_eq!(t(&expr(r#"{"f": 0.2}"#)), "0");
    assert_eq!(t(&expr(r#"{"f": null}"#)), "NULL");
    assert_eq!(t(&expr(r#"{"g": 1}"#)), "NULL");
    assert_eq!(t(&expr(r#"{"f": "0.9"}"#)), "1");
}

// ---- strings -------------------------------------------------------------------

#[test]
fn string_functions() {
    use Func::*;
    assert_eq!(f(Concat, vec![s("a"), int(1), dec("2.50")]), "a12.50");
    assert_eq!(f(Concat, vec![s("a"), null()]), "NULL");
    assert_eq!(f(ConcatWs, vec![s(","), s("a"), null(), s("b")]), "a,b");
    assert_eq!(f(ConcatWs, vec![null(), s("a")]), "NULL");
    assert_eq!(f(Lower, vec![s("ÀBC")]), "àbc");
    assert_eq!(f(Upper, vec![s("straße")]), "STRASSE");
    assert_eq!(f(Length, vec![s("héllo")]), "6");
    assert_eq!(f(CharLength, vec![s("héllo")]), "5");
    assert_eq!(f(Substring, vec![s("Quadratically"), int(5)]), "ratically");
    assert_eq!(
        f(Substring, vec![s("Quadratically"), int(5), int(6)]),
        "ratica"
    );
    assert_eq!(f(Substring, vec![s("Sakila"), int(-3)]), "ila");
    assert_eq!(f(Substring, vec![s("Sakila"), int(-5), int(3)]), "aki");
    assert_eq!(f(Substring, vec![s("Sakila"), int(0)]), "");
    assert_eq!(f(Substring, vec![s("héllo"), int(2), int(2)]), "él");
    assert_eq!(
        f(SubstringIndex, vec![s("www.mysql.com"), s("."), int(-2)]),
        "mysql.com"
    );
    assert_eq!(f(Left, vec![s("foobarbar"), int(5)]), "fooba");
    assert_eq!(f(Right, vec![s("foobarbar"), int(4)]), "rbar");
    assert_eq!(f(Left, vec![s("foo"), int(-1)]), "");
    assert_eq!(f(Trim, vec![s("  bar   ")]), "bar");
    assert_eq!(f(Trim, vec![s("xxxbarxxx"), s("x")]), "bar");
    assert_eq!(f(TrimLeading, vec![s("xxxbarxxx"), s("x")]), "barxxx");
    assert_eq!(f(TrimTrailing, vec![s("xxxbarxxx"), s("xyz")]), "xxxbarxxx");
    assert_eq!(f(LTrim, vec![s("  bar ")]), "bar ");
    assert_eq!(f(RTrim, vec![s("  bar ")]), "  bar");
    assert_eq!(
        f(Replace, vec![s("www.mysql.com"), s("w"), s("Ww")]),
        "WwWwWw.mysql.com"
    );
    assert_eq!(f(Locate, vec![s("bar"), s("foobarbar"), int(5)]), "7");
    assert_eq!(f(Instr, vec![s("foobarbar"), s("bar")]), "4");
    assert_eq!(f(LPad, vec![s("hi"), int(4), s("??")]), "??hi");
    assert_eq!(f(RPad, vec![s("hi"), int(5), s("?")]), "hi???");
    assert_eq!(f(LPad, vec![s("hi"), int(-1), s("?")]), "NULL");
    assert_eq!(f(Repeat, vec![s("ab"), int(3)]), "ababab");
    assert_eq!(f(Repeat, vec![s("ab"), int(-1)]), "");
    assert_eq!(f(Reverse, vec![s("abcé")]), "écba");
    assert_eq!(f(Space, vec![int(3)]), "   ");
    assert_eq!(f(Ascii, vec![s("2")]), "50");
    assert_eq!(f(Ascii, vec![s("")]), "0");
    assert_eq!(f(Hex, vec![s("abc")]), "616263");
    assert_eq!(f(Hex, vec![int(255)]), "FF");
    assert_eq!(f(Hex, vec![int(-1)]), "FFFFFFFFFFFFFFFF");
    assert_eq!(
        ev(&call(Unhex, vec![s("616263")])),
        Value::Bytes(b"abc".to_vec())
    );
    assert_eq!(
        f(Md5, vec![s("testing")]),
        "ae2b1fca515949e5d54fb22b8ed95575"
    );
    assert_eq!(
        f(Sha1, vec![s("abc")]),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        f(Sha2, vec![s("abc"), int(256)]),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(f(Sha2, vec![s("abc"), int(7)]), "NULL");
    assert_eq!(f(FindInSet, vec![s("b"), s("a,b,c,d")]), "2");
    assert_eq!(f(FindInSet, vec![s("z"), s("a,b")]), "0");
    assert_eq!(f(Strcmp, vec![s("text"), s("text2")]), "-1");
    assert_eq!(f(Strcmp, vec![s("b"), s("a")]), "1");
    assert_eq!(f(Format, vec![dbl(12332.123456), int(4)]), "12,332.1235");
    assert_eq!(f(Format, vec![dec("12332.2"), int(0)]), "12,332");
    assert_eq!(f(Upper, vec![null()]), "NULL");
    assert_eq!(
        err(&call(Upper, vec![])),
        "Incorrect parameter count in the call to native function 'upper'"
    );
}

// ---- math ------------------------------------------------------------------------

#[test]
fn math_functions() {
    use Func::*;
    assert_eq!(f(Abs, vec![int(-5)]), "5");
    assert_eq!(f(Abs, vec![dec("-1.50")]), "1.50");
    assert_eq!(
        err(&call(Abs, vec![int(i64::MIN)])),
        "BIGINT value is out of range in 'abs(-9223372036854775808)'"
    );
    assert_eq!(f(Ceil, vec![dec("1.2")]), "2");
    assert_eq!(f(Ceil, vec![dec("-1.2")]), "-1");
    assert_eq!(f(Floor, vec![dbl(-1.5)]), "-2");
    assert_eq!(f(Floor, vec![s("2.7")]), "2");
    assert_eq!(f(Round, vec![dec("2.5")]), "3");
    assert_eq!(f(Round, vec![dbl(2.5)]), "2");
    assert_eq!(f(Round, vec![dec("-1.235"), int(2)]), "-1.24");
    assert_eq!(f(Round, vec![int(1234), int(-2)]), "1200");
    assert_eq!(f(Truncate, vec![dec("1.999"), int(1)]), "1.9");
    assert_eq!(f(Truncate, vec![int(122), int(-1)]), "120");
    assert_eq!(f(Mod, vec![int(10), int(3)]), "1");
    assert_eq!(f(Pow, vec![int(2), int(10)]), "1024");
    assert_eq!(f(Pow, vec![int(2), int(-1)]), "0.5");
    assert!(err(&call(Pow, vec![int(10), int(400)]))
        .starts_with("DOUBLE value is out of range in 'pow(10, 400)'"));
    assert_eq!(f(Sqrt, vec![int(16)]), "4");
    assert_eq!(f(Sqrt, vec![int(-16)]), "NULL");
    assert_eq!(f(Exp, vec![int(0)]), "1");
    assert_eq!(f(Ln, vec![int(1)]), "0");
    assert_eq!(f(Ln, vec![int(0)]), "NULL");
    assert_eq!(f(Log, vec![int(2), int(8)]), "3");
    assert_eq!(f(Log, vec![int(1), int(8)]), "NULL");
    assert_eq!(f(Log2, vec![int(8)]), "3");
    assert_eq!(f(Log10, vec![int(100)]), "2");
    assert_eq!(f(Sign, vec![dec("-0.5")]), "-1");
    assert_eq!(f(Sign, vec![int(0)]), "0");
    assert_eq!(f(Pi, vec![]), "3.141592653589793");
    let r: f64 = f(Rand, vec![]).parse().unwrap();
    assert!((0.0..1.0).contains(&r));
    assert_eq!(f(Rand, vec![int(1)]), "0.40540353712197724");
}

// ---- dates -----------------------------------------------------------------------

#[test]
fn date_functions() {
    use Func::*;
    assert_eq!(f(Now, vec![]), "2024-03-01 14:05:09");
    assert_eq!(f(Now, vec![int(3)]), "2024-03-01 14:05:09.123000");
    assert_eq!(f(CurDate, vec![]), "2024-03-01");
    assert_eq!(f(CurTime, vec![]), "14:05:09");
    assert_eq!(f(UtcTimestamp, vec![]), "2024-03-01 14:05:09");
    assert_eq!(f(UnixTimestamp, vec![s("1970-01-02 00:00:00")]), "86400");
    assert_eq!(
        f(UnixTimestamp, vec![s("2024-03-01 14:05:09.5")]),
        "1709301909.500000"
    );
    assert_eq!(f(UnixTimestamp, vec![]), "1709301909");
    assert_eq!(f(FromUnixtime, vec![int(86400)]), "1970-01-02 00:00:00");
    assert_eq!(f(FromUnixtime, vec![int(86400), s("%Y %D")]), "1970 2nd");
    assert_eq!(f(FromUnixtime, vec![int(-1)]), "NULL");
    assert_eq!(f(Date, vec![s("2024-03-01 14:05:09")]), "2024-03-01");
    assert_eq!(f(Date, vec![s("garbage")]), "NULL");
    assert_eq!(f(Year, vec![s("2024-03-01")]), "2024");
    assert_eq!(f(Month, vec![s("2024-03-01")]), "3");
    assert_eq!(f(Day, vec![s("2024-03-01")]), "1");
    assert_eq!(f(Hour, vec![s("2024-03-01 14:05:09")]), "14");
    assert_eq!(f(Minute, vec![s("14:05:09")]), "5");
    assert_eq!(f(Second, vec![s("2024-03-01 14:05:09")]), "9");
    assert_eq!(f(DayOfWeek, vec![s("2024-03-03")]), "1"); // Sunday
    assert_eq!(
        f(
            DateFormat,
            vec![s("2024-03-01 14:05:09"), s("%d/%m/%Y %H:%i")]
        ),
        "01/03/2024 14:05"
    );
    assert_eq!(
        f(DateAdd, vec![s("2024-01-31"), int(1), s("MONTH")]),
        "2024-02-29"
    );
    assert_eq!(
        f(DateAdd, vec![s("2024-01-31"), int(1), s("HOUR")]),
        "2024-01-31 01:00:00"
    );
    assert_eq!(
        f(DateSub, vec![s("2024-03-01 00:00:00"), int(1), s("SECOND")]),
        "2024-02-29 23:59:59"
    );
    assert_eq!(
        f(DateAdd, vec![s("2024-03-01"), s("1 2"), s("DAY_HOUR")]),
        "2024-03-02 02:00:00"
    );
    assert_eq!(
        f(DateDiff, vec![s("2024-03-01 23:59:59"), s("2024-02-01")]),
        "29"
    );
    assert_eq!(
        f(
            TimestampDiff,
            vec![s("MONTH"), s("2024-01-31"), s("2024-03-30")]
        ),
        "1"
    );
    assert_eq!(
        f(
            TimestampDiff,
            vec![s("SECOND"), s("2024-01-01"), s("2024-01-01 00:01:00")]
        ),
        "60"
    );
}

// ---- JSON ----------------------------------------------------------------------

#[test]
fn json_functions() {
    use Func::*;
    let doc = r#"{"a": 1, "b": [10, 20, {"c": "x"}], "lang": "en", "n": null}"#;
    assert_eq!(f(JsonExtract, vec![s(doc), s("$.a")]), "1");
    assert_eq!(f(JsonExtract, vec![s(doc), s("$.b[2].c")]), "\"x\"");
    assert_eq!(
        f(JsonExtract, vec![s(doc), s("$.b[*]")]),
        r#"[10, 20, {"c": "x"}]"#
    );
    assert_eq!(
        f(JsonExtract, vec![s(doc), s("$.a"), s("$.lang")]),
        r#"[1, "en"]"#
    );
    assert_eq!(f(JsonExtract, vec![s(doc), s("$.missing")]), "NULL");
    assert_eq!(f(JsonExtract, vec![s(doc), s("$.n")]), "null");
    assert_eq!(f(JsonExtract, vec![s(doc), s("$**.c")]), r#"["x"]"#);
    assert_eq!(f(JsonExtract, vec![null(), s("$.a")]), "NULL");
    assert_eq!(
        err(&call(JsonExtract, vec![s(doc), s("$.")])),
        "Invalid JSON path expression. The error is around character position 2."
    );
    assert!(err(&call(JsonExtract, vec![s("{bad"), s("$")])).starts_with("Invalid JSON text: "));
    // ->> is JSON_UNQUOTE(JSON_EXTRACT(..))
    let unq = call(
        JsonUnquote,
        vec![call(JsonExtract, vec![s(doc), s("$.lang")])],
    );
    assert_eq!(t(&unq), "en");
    assert_eq!(f(JsonUnquote, vec![s("\"a\\tb\"")]), "a\tb");
    assert_eq!(f(JsonUnquote, vec![s("abc")]), "abc");
    // JSON string = SQL string compares unquoted
    assert_eq!(
        t(&cmp(
            CmpOp::Eq,
            call(JsonExtract, vec![s(doc), s("$.lang")]),
            s("en")
        )),
        "1"
    );
    assert_eq!(
        t(&cmp(
            CmpOp::Eq,
            call(JsonExtract, vec![s(doc), s("$.a")]),
            int(1)
        )),
        "1"
    );
    assert_eq!(
        t(&bin(
            BinaryOp::Plus,
            call(JsonExtract, vec![s(doc), s("$.b[1]")]),
            dec("0.0")
        )),
        "20"
    );
    assert_eq!(f(JsonContains, vec![s(doc), s("1"), s("$.a")]), "1");
    assert_eq!(f(JsonContains, vec![s(doc), s(r#"{"lang": "en"}"#)]), "1");
    assert_eq!(f(JsonContains, vec![s(doc), s("[20]"), s("$.b")]), "1");
    assert_eq!(f(JsonContains, vec![s(doc), s("30"), s("$.b")]), "0");
    assert_eq!(f(JsonContains, vec![s(doc), s("1"), s("$.zz")]), "NULL");
    assert_eq!(
        f(
            JsonObject,
            vec![s("b"), int(1), s("a"), s("x"), s("c"), null()]
        ),
        r#"{"a": "x", "b": 1, "c": null}"#
    );
    assert_eq!(
        err(&call(JsonObject, vec![s("a")])),
        "Incorrect parameter count in the call to native function 'json_object'"
    );
    assert_eq!(f(JsonObject, vec![]), "{}");
    assert_eq!(
        f(
            JsonArray,
            vec![
                int(1),
                s("a"),
                null(),
                dbl(2.5),
                call(JsonObject, vec![s("k"), int(1)])
            ]
        ),
        r#"[1, "a", null, 2.5, {"k": 1}]"#
    );
    assert_eq!(f(JsonLength, vec![s(doc)]), "4");
    assert_eq!(f(JsonLength, vec![s(doc), s("$.b")]), "3");
    assert_eq!(f(JsonLength, vec![s("7")]), "1");
    assert_eq!(f(JsonKeys, vec![s(doc)]), r#"["a", "b", "lang", "n"]"#);
    assert_eq!(f(JsonKeys, vec![s("[1]")]), "NULL");
    assert_eq!(f(JsonValid, vec![s("{\"a\": 1}")]), "1");
    assert_eq!(f(JsonValid, vec![s("{a: 1}")]), "0");
    assert_eq!(f(JsonValid, vec![null()]), "NULL");
    assert_eq!(f(JsonType, vec![s(doc)]), "OBJECT");
    assert_eq!(f(JsonType, vec![s("[1]")]), "ARRAY");
    assert_eq!(f(JsonType, vec![s("1.5")]), "DOUBLE");
    assert_eq!(f(JsonType, vec![s("-3")]), "INTEGER");
    assert_eq!(
        f(JsonType, vec![call(JsonExtract, vec![s(doc), s("$.n")])]),
        "NULL"
    );
    assert_eq!(f(JsonQuote, vec![s("a\"b")]), r#""a\"b""#);
    assert_eq!(
        f(
            JsonSet,
            vec![s(r#"{"a": 1}"#), s("$.a"), int(2), s("$.b"), s("x")]
        ),
        r#"{"a": 2, "b": "x"}"#
    );
    assert_eq!(
        err(&call(JsonSet, vec![s("{}"), s("$.*"), int(2)])),
        "In this situation, path expressions may not contain the * and ** tokens."
    );
    assert_eq!(
        f(JsonRemove, vec![s(r#"{"a": 1, "b": [1, 2]}"#), s("$.b[0]")]),
        r#"{"a": 1, "b": [2]}"#
    );
    assert_eq!(
        f(
            JsonContainsPath,
            vec![s(doc), s("one"), s("$.a"), s("$.zz")]
        ),
        "1"
    );
    assert_eq!(
        f(
            JsonContainsPath,
            vec![s(doc), s("all"), s("$.a"), s("$.zz")]
        ),
        "0"
    );
    assert!(
        err(&call(JsonContainsPath, vec![s(doc), s("some"), s("$.a")])).contains("'one' or 'all'")
    );
    assert!(err(&call(JsonExtract, vec![int(5), s("$")]))
        .contains("Invalid data type for JSON data in argument 1 to function json_extract"));
}

// ---- vectors ---------------------------------------------------------------------

#[test]
fn vector_functions() {
    use Func::*;
    assert_eq!(f(VecDims, vec![s("[]")]), "0");
    assert_eq!(f(VecDims, vec![vecx(&[1.0, 2.0, 3.0])]), "3");
    assert_eq!(f(VecL2Distance, vec![s("[0, 3]"), s("[4, 0]")]), "5");
    assert_eq!(f(VecCosineDistance, vec![s("[1, 1]"), s("[-1, -1]")]), "2");
    assert_eq!(f(VecCosineDistance, vec![s("[1, 2]"), s("[1, 2]")]), "0");
    assert_eq!(f(VecCosineDistance, vec![s("[1, 2]"), s("[0, 0]")]), "NULL");
    assert_eq!(
        f(VecNegativeInnerProduct, vec![s("[1, 2]"), s("[3, 4]")]),
        "-11"
    );
    assert_eq!(f(VecL1Distance, vec![s("[0, 0]"), s("[3, 4]")]), "7");
    assert_eq!(f(VecL2Norm, vec![s("[3, 4]")]), "5");
    assert_eq!(
        f(VecL2Distance, vec![vecx(&[2.0, 2.0, 2.0]), s("[3,3,3]")]),
        "1.7320508075688772"
    );
    assert_eq!(f(VecL2Distance, vec![null(), s("[3,3,3]")]), "NULL");
    assert_eq!(
        err(&call(VecL2Distance, vec![s("[1]"), s("[1,2,3]")])),
        "vectors have different dimensions: 1 and 3"
    );
    assert_eq!(
        err(&call(VecDims, vec![s("null")])),
        "Invalid vector text: null"
    );
    assert_eq!(f(VecFromText, vec![s("[1.000, 2.5]")]), "[1,2.5]");
    assert_eq!(f(VecAsText, vec![s("[1.000, 2.5]")]), "[1,2.5]");
    assert_eq!(f(VecFromText, vec![null()]), "NULL");
    assert!(eval(&call(VecDims, vec![int(1)]), &[], &TestCtx::default()).is_err());
    // a column against a vector literal: borrowed, no copy
    let row = [Value::vector(vec![0.0, 3.0])];
    let e = call(VecL2Distance, vec![Expr::Column(0), vecx(&[4.0, 0.0])]);
    assert_eq!(
        eval(&e, &row, &TestCtx::default()).unwrap(),
        Value::Double(5.0)
    );
}

#[test]
fn embed_text() {
    use Func::EmbedText;
    let ctx = TestCtx::default();
    let run = |args: Vec<Expr>| eval(&call(EmbedText, args), &[], &ctx);
    assert_eq!(run(vec![null(), s("hi")]).unwrap(), Value::Null);
    assert_eq!(run(vec![s("m/x"), null()]).unwrap(), Value::Null);
    assert!(ctx.embeds.borrow().is_empty());
    assert_eq!(
        run(vec![s("m/x"), s("hi")]).unwrap(),
        Value::vector(vec![2.0, 1.0])
    );
    assert_eq!(
        run(vec![s("m/x"), s("hey"), s("")]).unwrap(),
        Value::vector(vec![3.0, 1.0])
    );
    run(vec![s("m/x"), s("a"), s(r#"{"dim": 3, "plus@search": 1}"#)]).unwrap();
    run(vec![s("m/x"), s(""), null()]).unwrap();
    assert_eq!(
        ctx.embeds.borrow().as_slice(),
        &[
            ("m/x".to_string(), "hi".to_string(), None),
            ("m/x".to_string(), "hey".to_string(), None),
            (
                "m/x".to_string(),
                "a".to_string(),
                Some(r#"{"dim":3}"#.to_string())
            ),
            ("m/x".to_string(), "".to_string(), None),
        ]
    );
    for bad in ["[1]", "nope", "3", "\"x\""] {
        assert_eq!(
            run(vec![s("m/x"), s("a"), s(bad)]).unwrap_err().to_string(),
            "EMBED_TEXT expects options in JSON format"
        );
    }
}

// ---- info, delegation --------------------------------------------------------------

#[test]
fn delegated_values() {
    use Func::*;
    assert_eq!(f(Version, vec![]), "8.0.11-TiDB-v8.5.3-serverless");
    assert_eq!(f(ConnectionId, vec![]), "42");
    assert_eq!(f(LastInsertId, vec![int(17)]), "17");
    assert_eq!(f(FtsMatchWord, vec![s("q"), s("c")]), "0");
    assert_eq!(f(FtsMatchWord, vec![s("Index"), s("an index")]), "1");
    assert_eq!(t(&Expr::Param(1)), "101");
    assert_eq!(t(&Expr::UserVar("x".into())), "var:x");
    assert_eq!(
        t(&Expr::Subquery {
            id: 0,
            kind: SubqueryKind::Scalar
        }),
        "7"
    );
    assert!(eval(
        &Expr::SysVar {
            name: "nope".into(),
            scope: VarScope::Default
        },
        &[],
        &TestCtx::default()
    )
    .is_err());
    assert!(eval(
        &Expr::OuterColumn { depth: 1, index: 0 },
        &[],
        &TestCtx::default()
    )
    .is_err());
    assert_eq!(f(Uuid, vec![]).len(), 36);
}
