//! `AnnIndex`: the thread-safe wrapper around one usearch index.

use std::any::Any;
use std::borrow::Cow;
use std::cell::RefCell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tiembed_types::{HnswParams, VectorMetric};
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use crate::error::{engine, AnnError, Result};
use crate::gate::Gate;

/// Largest dimension accepted (TiDB's VECTOR limit).
pub const MAX_DIM: usize = 16383;

/// Per-call `ef_search` is clamped to this: usearch reserves `ef` candidate
/// slots up front, so an absurd session value must not turn into a giant
/// allocation.
pub const MAX_EF_SEARCH: usize = 1 << 15;

/// usearch marks deleted slots with the all-ones key, so it cannot be a key.
pub const RESERVED_KEY: u64 = u64::MAX;

/// Key-level mutexes, striped: `add` of an existing key is remove + insert,
/// and two writers of one key must not interleave those halves.
const KEY_STRIPES: usize = 64;

/// How usearch stores vectors (it converts on the way in; queries stay f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Storage {
    /// Exact; 4 bytes per component.
    #[default]
    F32,
    /// 2 bytes per component: half the memory traffic per distance, which is
    /// what HNSW search is bound by, so about twice the QPS at 384-d; recall
    /// tops out a little below 1 (about 0.994 at ef 64-128 in the
    /// benchmark) because near-ties are decided in bf16.
    BF16,
    /// 2 bytes per component, more mantissa than bf16 (recall ~= f32) but a
    /// slower conversion kernel than bf16.
    F16,
}

impl Storage {
    pub(crate) fn scalar(self) -> ScalarKind {
        match self {
            Storage::F32 => ScalarKind::F32,
            Storage::BF16 => ScalarKind::BF16,
            Storage::F16 => ScalarKind::F16,
        }
    }

    pub(crate) fn code(self) -> u32 {
        match self {
            Storage::F32 => 0,
            Storage::BF16 => 1,
            Storage::F16 => 2,
        }
    }

    pub(crate) fn from_code(code: u32) -> Option<Self> {
        [Storage::F32, Storage::BF16, Storage::F16]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

/// An HNSW index over f32 vectors of one dimension, keyed by `u64` (the
/// executor uses the row handle).
///
/// All methods take `&self` and may be called from any number of threads.
/// Locking, from outermost:
/// * a key stripe (add/remove of one key),
/// * `writers`: shared by add/remove, exclusive while `save` serialises, so a
///   snapshot never sees a half-linked node while searches go on,
/// * `inner`: shared by everything, exclusive only to grow the capacity and
///   to change usearch's index-wide search expansion (see [`AnnIndex::search`]),
/// * `gate`: one of usearch's preallocated per-thread contexts.
pub struct AnnIndex {
    pub(crate) metric: VectorMetric,
    pub(crate) dim: usize,
    pub(crate) params: HnswParams,
    pub(crate) storage: Storage,
    pub(crate) inner: RwLock<Index>,
    pub(crate) writers: RwLock<()>,
    key_locks: Box<[Mutex<()>]>,
    /// Adds between claiming capacity and finishing, so concurrent adds never
    /// overrun what was reserved (usearch would fail the add, not wait).
    in_flight: AtomicUsize,
    gate: Gate,
    contexts: usize,
    pub(crate) read_only: bool,
}

impl std::fmt::Debug for AnnIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnnIndex")
            .field("metric", &self.metric)
            .field("dim", &self.dim)
            .field("params", &self.params)
            .field("len", &self.len())
            .field("read_only", &self.read_only)
            .finish()
    }
}

/// usearch metric for ours. Cosine is stored as unit vectors under inner
/// product: `1 - a.b` of unit vectors is exactly `1 - cos`, and the IP kernel
/// does one multiply-add per element where usearch's cosine kernel does three
/// (it recomputes both norms on every distance call).
fn usearch_metric(metric: VectorMetric) -> MetricKind {
    match metric {
        VectorMetric::Cosine => MetricKind::IP,
        VectorMetric::L2 => MetricKind::L2sq,
    }
}

pub(crate) fn options(
    metric: VectorMetric,
    dim: usize,
    params: HnswParams,
    storage: Storage,
) -> IndexOptions {
    IndexOptions {
        dimensions: dim,
        metric: usearch_metric(metric),
        // Always explicit: usearch's Rust `IndexOptions::default()` is bf16.
        quantization: storage.scalar(),
        connectivity: params.m as usize,
        expansion_add: params.ef_construction as usize,
        expansion_search: params.ef_search as usize,
        multi: false,
    }
}

pub(crate) fn validate(dim: usize, params: HnswParams) -> Result<()> {
    if dim == 0 || dim > MAX_DIM {
        return Err(AnnError::InvalidParams(format!(
            "dimension {dim} is outside 1..={MAX_DIM}"
        )));
    }
    // usearch stores neighbour counts in u32 and needs at least two links
    // per node to build a connected graph.
    if !(2..=1024).contains(&params.m) {
        return Err(AnnError::InvalidParams(format!(
            "M = {} is outside 2..=1024",
            params.m
        )));
    }
    if params.ef_construction == 0 || params.ef_construction as usize > MAX_EF_SEARCH {
        return Err(AnnError::InvalidParams(format!(
            "ef_construction = {} is outside 1..={MAX_EF_SEARCH}",
            params.ef_construction
        )));
    }
    Ok(())
}

/// How many usearch thread contexts to keep: one per core is all the
/// parallelism there is; callers beyond that wait at the gate.
fn default_contexts() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 256)
}

impl AnnIndex {
    /// An empty index. `params.ef_search` is the default for searches that
    /// pass `ef_search = 0`.
    pub fn new(metric: VectorMetric, dim: usize, params: HnswParams) -> Result<Self> {
        Self::with_storage(metric, dim, params, Storage::F32)
    }

    /// Like [`AnnIndex::new`] with vectors stored as `storage`.
    pub fn with_storage(
        metric: VectorMetric,
        dim: usize,
        params: HnswParams,
        storage: Storage,
    ) -> Result<Self> {
        validate(dim, params)?;
        let index = Index::new(&options(metric, dim, params, storage)).map_err(engine)?;
        Self::wrap(metric, dim, params, storage, index, false)
    }

    pub(crate) fn wrap(
        metric: VectorMetric,
        dim: usize,
        params: HnswParams,
        storage: Storage,
        index: Index,
        read_only: bool,
    ) -> Result<Self> {
        let contexts = default_contexts();
        // Contexts are allocated by `reserve`; an index fresh from `new` has
        // none and would fail its first search.
        index
            .reserve_capacity_and_threads(index.size().max(64), contexts)
            .map_err(engine)?;
        Ok(AnnIndex {
            metric,
            dim,
            params,
            storage,
            inner: RwLock::new(index),
            writers: RwLock::new(()),
            key_locks: (0..KEY_STRIPES).map(|_| Mutex::new(())).collect(),
            in_flight: AtomicUsize::new(0),
            gate: Gate::new(contexts),
            contexts,
            read_only,
        })
    }

    pub fn metric(&self) -> VectorMetric {
        self.metric
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn params(&self) -> HnswParams {
        self.params
    }

    pub fn storage(&self) -> Storage {
        self.storage
    }

    /// True for an index opened with [`AnnIndex::view`]: searchable, but
    /// add/remove/reserve fail with [`AnnError::ReadOnly`].
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Makes room for `capacity` vectors in total, so a bulk load does not
    /// pay for repeated growth. `add` grows the index on its own as well.
    pub fn reserve(&self, capacity: usize) -> Result<()> {
        self.writable()?;
        let index = self.inner.write();
        if capacity > index.capacity() {
            index
                .reserve_capacity_and_threads(capacity, self.contexts)
                .map_err(engine)?;
        }
        Ok(())
    }

    /// Inserts `v` under `key`, replacing the vector already stored under it.
    /// If the insertion itself fails (out of memory), a replaced key is left
    /// absent: the caller treats the index as stale and rebuilds it.
    pub fn add(&self, key: u64, v: &[f32]) -> Result<()> {
        self.writable()?;
        if key == RESERVED_KEY {
            return Err(AnnError::InvalidParams(format!("key {key} is reserved")));
        }
        let v = self.prepare(v)?;
        let _key = self.key_lock(key).lock();
        let _writers = self.writers.read();
        loop {
            let index = self.inner.read();
            // usearch refuses duplicate keys rather than overwriting them.
            if index.contains(key) {
                index.remove(key).map_err(engine)?;
            }
            // A removed node's slot is reused by the next add, so live size
            // plus the adds in progress bounds the slots needed.
            let claimed = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
            if index.size() + claimed <= index.capacity() {
                let result = {
                    let _ctx = self.gate.acquire();
                    index.add(key, &v).map_err(engine)
                };
                self.in_flight.fetch_sub(1, Ordering::AcqRel);
                return result;
            }
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            drop(index);
            self.grow()?;
        }
    }

    /// Doubles the capacity (at least 1024 slots). usearch's reserve must not
    /// run beside any add or search, hence the write lock; it only grows the
    /// slot tables; node memory is allocated per add.
    fn grow(&self) -> Result<()> {
        let index = self.inner.write();
        // Under the write lock no add is in flight: only the size counts.
        let needed = index.size() + 1;
        if needed > index.capacity() {
            let target = needed.max(index.capacity() * 2).max(1024);
            tracing::debug!(from = index.capacity(), to = target, "growing HNSW index");
            index
                .reserve_capacity_and_threads(target, self.contexts)
                .map_err(engine)?;
        }
        Ok(())
    }

    /// Removes `key`; false when it was not there. The node stays in the graph
    /// as a tombstone that still routes searches, and the next add reuses it.
    pub fn remove(&self, key: u64) -> Result<bool> {
        self.writable()?;
        let _key = self.key_lock(key).lock();
        let _writers = self.writers.read();
        let removed = self.inner.read().remove(key).map_err(engine)?;
        Ok(removed > 0)
    }

    pub fn contains(&self, key: u64) -> bool {
        key != RESERVED_KEY && self.inner.read().contains(key)
    }

    /// Live vectors (removed ones not counted).
    pub fn len(&self) -> usize {
        self.inner.read().size()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held by usearch (graph, vectors, lookup tables).
    pub fn memory_usage(&self) -> usize {
        self.inner.read().memory_usage()
    }

    /// The `k` nearest keys with their distances, nearest first. Distances
    /// are `1 - cos` for Cosine (`VEC_COSINE_DISTANCE`, up to rounding) and
    /// the Euclidean distance for L2 (`VEC_L2_DISTANCE`). `ef_search = 0`
    /// takes the index's default; usearch searches at least `k` candidates.
    pub fn search(&self, q: &[f32], k: usize, ef_search: usize) -> Result<Vec<(u64, f32)>> {
        let q = self.prepare(q)?;
        let Some((index, k)) = self.search_guard(k, ef_search) else {
            return Ok(Vec::new());
        };
        let matches = {
            let _ctx = self.gate.acquire();
            index.search(&q, k).map_err(engine)?
        };
        Ok(self.results(&matches.keys, &matches.distances))
    }

    /// Like [`AnnIndex::search`] but only keys for which `keep` returns true
    /// are returned. `keep` runs inside the graph walk, on this thread; it
    /// must not call back into this index. Nodes failing it still route the
    /// walk, so a very selective filter makes the search approach a full
    /// scan (the planner should scan instead when it knows so). A panic in
    /// `keep` is carried across the C++ frames and resumed here.
    pub fn filtered_search(
        &self,
        q: &[f32],
        k: usize,
        ef_search: usize,
        keep: impl Fn(u64) -> bool,
    ) -> Result<Vec<(u64, f32)>> {
        let q = self.prepare(q)?;
        let Some((index, k)) = self.search_guard(k, ef_search) else {
            return Ok(Vec::new());
        };
        // Unwinding through usearch's C++ frames would abort the process.
        let panicked: RefCell<Option<Box<dyn Any + Send>>> = RefCell::new(None);
        let predicate = |key: u64| {
            if panicked.borrow().is_some() {
                return false;
            }
            match catch_unwind(AssertUnwindSafe(|| keep(key))) {
                Ok(keep) => keep,
                Err(payload) => {
                    *panicked.borrow_mut() = Some(payload);
                    false
                }
            }
        };
        let matches = {
            let _ctx = self.gate.acquire();
            index.filtered_search(&q, k, predicate)
        };
        drop(index);
        if let Some(payload) = panicked.into_inner() {
            resume_unwind(payload);
        }
        let matches = matches.map_err(engine)?;
        Ok(self.results(&matches.keys, &matches.distances))
    }

    /// A read guard on an index whose search expansion is `ef`, and `k`
    /// capped at the live size (usearch allocates `k` result slots up
    /// front). `None` when there is nothing to return.
    ///
    /// usearch keeps `expansion_search` in the index config, read by every
    /// search without synchronisation, so changing it takes the write lock
    /// and downgrades. Searches at the same ef (the common case: the index
    /// default or one session setting) all share the read lock.
    fn search_guard(&self, k: usize, ef: usize) -> Option<(RwLockReadGuard<'_, Index>, usize)> {
        let ef = match ef {
            0 => self.params.ef_search as usize,
            ef => ef,
        }
        .clamp(1, MAX_EF_SEARCH);
        let mut index = self.inner.read();
        if index.expansion_search() != ef {
            drop(index);
            let writer = self.inner.write();
            writer.change_expansion_search(ef);
            index = RwLockWriteGuard::downgrade(writer);
        }
        let k = k.min(index.size());
        (k > 0).then_some((index, k))
    }

    fn results(&self, keys: &[u64], distances: &[f32]) -> Vec<(u64, f32)> {
        keys.iter()
            .zip(distances)
            .map(|(&key, &d)| {
                let d = match self.metric {
                    VectorMetric::Cosine => d,
                    VectorMetric::L2 => d.max(0.0).sqrt(),
                };
                (key, d)
            })
            .collect()
    }

    /// Checks a vector before usearch sees it (usearch would read past a
    /// short slice's end) and puts it in stored form: unit length for Cosine.
    pub(crate) fn prepare<'a>(&self, v: &'a [f32]) -> Result<Cow<'a, [f32]>> {
        if v.len() != self.dim {
            return Err(AnnError::Dimension {
                expected: self.dim,
                got: v.len(),
            });
        }
        if !v.iter().all(|x| x.is_finite()) {
            return Err(AnnError::NonFinite);
        }
        match self.metric {
            VectorMetric::L2 => Ok(Cow::Borrowed(v)),
            VectorMetric::Cosine => {
                // f64 so that large components cannot overflow the sum.
                let norm = v
                    .iter()
                    .map(|&x| (x as f64) * (x as f64))
                    .sum::<f64>()
                    .sqrt();
                if norm == 0.0 {
                    return Err(AnnError::ZeroVector);
                }
                let scale = 1.0 / norm;
                Ok(Cow::Owned(
                    v.iter().map(|&x| ((x as f64) * scale) as f32).collect(),
                ))
            }
        }
    }

    fn writable(&self) -> Result<()> {
        if self.read_only {
            Err(AnnError::ReadOnly)
        } else {
            Ok(())
        }
    }

    fn key_lock(&self, key: u64) -> &Mutex<()> {
        // Row handles are often sequential; a multiplicative hash spreads them.
        let h = key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58;
        &self.key_locks[h as usize % KEY_STRIPES]
    }

    /// How many usearch thread contexts this index keeps (= concurrent
    /// operations inside usearch).
    pub fn contexts(&self) -> usize {
        self.contexts
    }
}
