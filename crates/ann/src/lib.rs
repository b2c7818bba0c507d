//! HNSW approximate-nearest-neighbour index engine behind `VECTOR INDEX`.
//!
//!
//! [`AnnIndex`] is a pure-Rust HNSW graph (Malkov & Yashunin), laid out and
//! searched the way hnswlib does it, plus a few things hnswlib does not do.
//! Everything takes `&self`; adds and searches run concurrently.
//!
//! # Why not usearch
//!
//! The first engine wrapped usearch (C++). On 100k x 384 clustered unit
//! vectors (M=16, ef_construction=128) it reached only 0.47-0.49x hnswlib's
//! queries per CPU-second at equal recall: its search loop does not
//! prefetch, each vector sits behind an extra pointer, and its visited set
//! is a hash set. bf16 storage got 0.87-0.98x, at a recall cost. It also
//! needed wrappers for its limits: a semaphore for its per-thread contexts,
//! a write lock to change `ef` (index-wide state), a reserved key, C++
//! exceptions, and a checksum before letting it parse a file.
//!
//! This engine, measured the same way (100k x 384, same M and
//! ef_construction, AVX-512 CPU, shared two-core machine): at equal recall
//! (0.95 / 0.99 / 0.999 / 1.0 at ef_search 16 / 32 / 64 / 128), best of
//! three alternating rounds (`bench/ann/alternate.sh`) gives 1.22-1.35x
//! hnswlib's single-thread queries per CPU-second, 1.14-1.35x wall and
//! 1.0-1.4x with two query threads; single full runs (`bench/ann/run.sh`)
//! scatter between 0.9x and 1.4x with the machine's load. Build takes
//! 0.62-0.74x hnswlib's CPU time. At 1M vectors: 1.30-1.45x per
//! CPU-second at equal recall (0.958 at ef 64), build 359 vs 493 CPU-s,
//! load of the 1.7 GB file 2.7 s.

//! # Design
//!
//! * **Memory** (module `graph`): vectors in one 32-byte-aligned arena, a
//!   row per node id (dimension padded to 16 values, so kernels have no
//!   tail); level-0 links in one flat array of `[count, 2M ids]` slots;
//!   upper levels (about 1 node in M) in a per-node boxed slice. All of it
//!   is atomics written before a node is published, so concurrent inserts
//!   and searches share it through `&` without `unsafe`.
//! * **Metrics match TiDB.** Cosine vectors are normalised on insert and
//!   searched as `1 - dot` (= `VEC_COSINE_DISTANCE`); L2 is squared inside
//!   and square-rooted on output (= `VEC_L2_DISTANCE`). Index distances
//!   only order rows: the executor re-ranks with its exact kernels.
//! * **Kernels** (module `kernels`): AVX-512, AVX2+FMA(+F16C) or portable
//!   Rust, picked once at startup by CPU feature detection; f32, bf16 and
//!   f16 rows ([`Storage`]). The layer-0 beam computes four (or two) rows at
//!   a time, so their cache misses overlap, after prefetching the first
//!   line of every unvisited neighbour's row and the next candidate's link
//!   list. These two measured +20% over hnswlib-style one-ahead prefetch.
//! * **Search** (module `search`): greedy descent on the upper levels, a
//!   two-heap beam of width `ef` on level 0; visited set = u16 epoch stamps
//!   in per-thread scratch (no allocation per search, no hash set).
//! * **Insert** (module `insert`): hnswlib's `addPoint` with the paper's
//!   neighbour-selection heuristic for both new links and pruning; one lock
//!   per node, at most one held at a time, so `add_parallel` scales.
//! * **Keys**: external `u64` keys map to internal `u32` node ids. Remove
//!   makes a tombstone (skipped in results, still routing searches);
//!   re-adding a key inserts a new node and retires the old one at the same
//!   moment. `len()` counts live keys. Filtered search applies the caller's
//!   predicate to result candidates while still walking rejected nodes.
//! * **Input checks**: wrong length, NaN/inf, and a zero vector under
//!   Cosine ([`AnnError::ZeroVector`]: TiDB's cosine distance of a zero
//!   vector is NULL, so the executor keeps such rows out of the index).
//! * **Persistence** (module `file`): own format, header and whole-file
//!   XXH64, atomic temp + fsync + rename; load reads big slices straight
//!   into the arrays, verifies the checksum and range-checks every link, so
//!   a damaged file is an error, never a panic.
//!
//! `unsafe` is confined to the SIMD kernels and prefetch hints (module
//! `kernels`) and the calls into them (`graph::Graph::dist*`).

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
