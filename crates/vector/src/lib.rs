//! tiembed-vector: TiDB's VECTOR type semantics for tiembed.
//!
//! * [`codec`]: vector text in and out. [`parse_vector`] reads
//!   `'[1, 2.5e0, -3]'` exactly as TiDB does (same accepted texts, same
//!   errors in the same order: `Invalid vector text: …`, `value 1e+39 out of
//!   range for float32`, `vector cannot have more than 16383 dimensions`);
//!   [`vector_to_text`] prints `[1,2.5,-3]`; [`check_fits`] gives
//!   `vector has 2 dimensions, does not fit VECTOR(3)`; [`check_finite`]
//!   vets vectors from embedding providers.
//! * [`distance`]: `VEC_L1_DISTANCE`, `VEC_L2_DISTANCE`,
//!   `VEC_COSINE_DISTANCE`, `VEC_NEGATIVE_INNER_PRODUCT` as [`Metric`]
//!   ([`Metric::distance`] for one pair, [`Metric::distances`] for
//!   [`Tiles`] of rows) and [`l2_norm`] for `VEC_L2_NORM`. Results are
//!   bit-identical to TiDB's (float32 sums in index order); `None` is SQL
//!   NULL (a NaN result, e.g. cosine against a zero vector).
//! * [`arith`]: element-wise `+ - *` and the ordering TiDB uses to compare
//!   vectors.
//! * [`topk`]: [`TopK`], the bounded heap behind `ORDER BY d LIMIT k OFFSET
//!   o`, with MySQL's NULL ordering and ties kept in insertion order.
//! * [`tiles`]: [`Tiles`], a column of vectors stored for the scan (32 rows
//!   side by side per dimension, squared norms precomputed).
//! * [`scan`]: [`top_k_scan`], the exact scan of a column against one query
//!   (`VectorTopK` when no vector index applies), SIMD across rows and split
//!   over threads when large; [`TopKScanner`] does the same for rows that
//!   arrive one at a time (with NULL vectors), batching them internally.
//!
//! Every error is a [`VectorError`] whose text is TiDB's; it converts into
//! `tiembed_types::Error::Other` (ERROR 1105), which is how TiDB reports
//! all of them.

pub mod arith;
pub mod codec;
pub mod distance;
mod error;
pub mod measure;
pub mod scan;
pub mod tiles;
pub mod topk;

pub use codec::{check_dimensions, check_finite, check_fits, parse_vector, vector_to_text};
pub use distance::{l2_norm, Metric};
pub use error::VectorError;
pub use scan::{top_k_scan, top_k_scan_threads, TopKScanner};
pub use tiles::Tiles;
pub use topk::{Direction, TopK};
