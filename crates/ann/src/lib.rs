//! HNSW approximate-nearest-neighbour index engine behind `VECTOR INDEX`.
//!
//! [`AnnIndex`] wraps one usearch index (C++, via cxx) and makes it safe to
//! use from the executor:
//!
//! * **Inputs are checked before usearch sees them.** usearch reads
//!   `dimensions` floats from whatever pointer it is given and keeps NaN in
//!   its graph; a wrong length, NaN/inf, a zero vector under Cosine or the
//!   key `u64::MAX` (usearch's tombstone marker) is an [`AnnError`].
//! * **Metrics match TiDB.** Cosine vectors are stored normalised and
//!   searched by inner product, so distances are `1 - cos` =
//!   `VEC_COSINE_DISTANCE`; L2 is usearch's squared L2, square-rooted on the
//!   way out = `VEC_L2_DISTANCE`. Index distances only need to order rows:
//!   the executor re-ranks with its exact kernels.
//! * **Zero vectors under Cosine are refused** ([`AnnError::ZeroVector`]),
//!   for insertion and as queries: TiDB's cosine distance of a zero vector is
//!   NULL, so such rows can never be among the nearest; the executor keeps
//!   them (and NULLs) out of the index.
//! * **Concurrency.** Everything takes `&self`. usearch's per-thread contexts
//!   are rationed by a semaphore (it fails rather than waits when they run
//!   out), capacity grows under a write lock (usearch's `reserve` must not run
//!   beside adds or searches), and the per-call `ef_search` is applied under
//!   the same lock because usearch keeps it index-wide (see
//!   [`AnnIndex::search`]).
//! * **Persistence.** [`AnnIndex::save`] writes atomically with a trailer
//!   holding the caller's meta bytes and an XXH64 over the whole file;
//!   [`AnnIndex::load`] verifies it before usearch parses anything
//!   (module `file` documents the layout). [`AnnIndex::view`] memory-maps a
//!   saved file as a read-only index.
//!
//! Vectors are stored as f32 by default; [`Storage::BF16`] halves the
//! memory read per distance and about doubles search QPS, at a small recall
//! cost (the executor re-ranks with exact kernels anyway).
//!
//! Replacing a key is remove + add; a removed node stays in the graph as a
//! tombstone that still routes searches until its slot is reused.

mod bulk;
mod checksum;
mod error;
mod file;
mod gate;
mod index;
pub mod synth;

pub use error::{AnnError, Result};
pub use index::{AnnIndex, Storage, MAX_DIM, MAX_EF_SEARCH, RESERVED_KEY};
pub use tiembed_types::{HnswParams, VectorMetric, HNSW_DEFAULTS};

/// The usearch version compiled in (for logs and EXPLAIN-style output).
pub fn engine_version() -> &'static str {
    usearch::version()
}

/// Which SIMD kernels usearch found on this CPU (e.g. "skylake", "serial").
pub fn hardware_acceleration() -> String {
    usearch::hardware_acceleration_available()
}
