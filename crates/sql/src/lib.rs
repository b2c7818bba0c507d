//! SQL front end: parse (sqlparser, MySQL dialect, plus TiDB's own
//! statements) -> bind against the catalog -> logical plan.

pub mod bind;
pub mod datatype;
pub mod expr;
pub mod parse;
pub mod plan;
pub mod types;

pub use expr::{BinaryOp, CastTarget, CmpOp, Expr, Func, SubqueryKind, UnaryOp, VarScope};
