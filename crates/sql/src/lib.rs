//! SQL front end: parse (sqlparser, MySQL dialect, plus TiDB's own
//! statements) -> bind against the catalog -> logical plan.
//!
//! [`literals`] splits a SELECT's text into a template and its literals for
//! the executor's statement cache.

pub mod bind;
pub mod datatype;
pub mod expr;
pub mod literals;
pub mod parse;
pub mod plan;
pub mod types;

pub use expr::{BinaryOp, CastTarget, CmpOp, Expr, Func, SubqueryKind, UnaryOp, VarScope};
