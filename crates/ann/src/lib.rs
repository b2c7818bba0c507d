//! HNSW approximate-nearest-neighbour index engine behind `VECTOR INDEX`.
//!
//! PLACEHOLDER-DOCS

mod bulk;
mod checksum;
mod error;
mod file;
mod graph;
mod index;
mod insert;
mod kernels;
mod search;
pub mod synth;

pub use error::{AnnError, Result};
pub use index::{AnnIndex, Storage, MAX_DIM, MAX_EF_SEARCH};
pub use tiembed_types::{HnswParams, VectorMetric, HNSW_DEFAULTS};

/// The engine's name and version (for logs and EXPLAIN-style output).
pub fn engine_version() -> &'static str {
    concat!("tiembed-ann ", env!("CARGO_PKG_VERSION"))
}

/// Which distance kernels this CPU runs ("avx2+fma+f16c", "portable", ...).
pub fn hardware_acceleration() -> String {
    kernels::kernels().name.to_string()
}
