//! SQL front end: parse (sqlparser, MySQL dialect, plus TiDB's own
//! statements) -> bind against the catalog -> logical plan.

pub mod expr;
pub mod types;

pub use expr::{BinaryOp, CastTarget, CmpOp, Expr, Func, SubqueryKind, UnaryOp, VarScope};
