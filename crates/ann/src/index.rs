//! `AnnIndex`: the public, thread-safe face of the HNSW graph.

use std::collections::HashMap;
use std::sync::atomic::Ordering::*;

use parking_lot::{Mutex, RwLock, RwLockReadGuard};
use tiembed_types::{HnswParams, VectorMetric};

use crate::error::{AnnError, Result};
use crate::graph::{Graph, DEAD, LIVE};
use crate::insert::insert;
use crate::search::{knn, with_scratch};

/// Largest dimension accepted (TiDB's VECTOR limit).
pub const MAX_DIM: usize = 16383;

/// Per-call `ef_search` is clamped to this, so an absurd session value does
/// not turn into a giant beam.
pub const MAX_EF_SEARCH: usize = 1 << 15;

/// How vectors are stored (converted on the way in; queries stay f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Storage {
    /// Exact; 4 bytes per component.
    #[default]
    F32,
    /// 2 bytes per component (the top half of an f32): half the memory
    /// traffic per distance, at a small recall cost because near-ties are
    /// decided in bf16 (the executor re-ranks with exact kernels anyway).
    BF16,
    /// 2 bytes per component, IEEE half: more mantissa than bf16 (recall
    /// close to f32 for unit vectors), less range.
    F16,
}

impl Storage {
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

    pub(crate) fn bytes_per_value(self) -> usize {
        match self {
            Storage::F32 => 4,
            Storage::BF16 | Storage::F16 => 2,
        }
    }
}

/// An HNSW index over f32 vectors of one dimension, keyed by `u64` (the
/// executor uses the row handle; every `u64` is a valid key).
///
/// All methods take `&self` and may be called from any number of threads.
/// Locks, outermost first:
/// * `writers`: shared by add/remove, exclusive while `save` serialises, so
///   a snapshot never sees a half-linked node (searches go on meanwhile);
/// * `graph`: shared by everything, exclusive only to grow the capacity;
/// * `keys`: the key -> node map, held briefly to publish or retire a node;
/// * per-node locks inside the graph, while rewriting one neighbour list.
pub struct AnnIndex {
    pub(crate) metric: VectorMetric,
    pub(crate) dim: usize,
    pub(crate) params: HnswParams,
    pub(crate) storage: Storage,
    pub(crate) graph: RwLock<Graph>,
    pub(crate) writers: RwLock<()>,
    /// Live key -> node. A node whose key maps elsewhere is a tombstone.
    pub(crate) keys: Mutex<HashMap<u64, u32>>,
    pub(crate) read_only: bool,
}

impl std::fmt::Debug for AnnIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnnIndex")
            .field("metric", &self.metric)
            .field("dim", &self.dim)
            .field("params", &self.params)
            .field("storage", &self.storage)
            .field("len", &self.len())
            .field("read_only", &self.read_only)
            .finish()
    }
}

pub(crate) fn validate(dim: usize, params: HnswParams) -> Result<()> {
    if dim == 0 || dim > MAX_DIM {
        return Err(AnnError::InvalidParams(format!(
            "dimension {dim} is outside 1..={MAX_DIM}"
        )));
    }
    // At least two links per node to build a connected graph; the cap keeps
    // a level-0 slot (2M + 1 u32) reasonable.
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
        let graph = Graph::new(metric, storage, dim, params.m as usize);
        Ok(Self::from_parts(
            metric,
            dim,
            params,
            storage,
            graph,
            HashMap::new(),
            false,
        ))
    }

    pub(crate) fn from_parts(
        metric: VectorMetric,
        dim: usize,
        params: HnswParams,
        storage: Storage,
        graph: Graph,
        keys: HashMap<u64, u32>,
        read_only: bool,
    ) -> Self {
        AnnIndex {
            metric,
            dim,
            params,
            storage,
            graph: RwLock::new(graph),
            writers: RwLock::new(()),
            keys: Mutex::new(keys),
            read_only,
        }
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

    /// Makes room for `capacity` live vectors in total, so a bulk load does
    /// not pay for repeated growth (each growth copies the arena under the
    /// exclusive lock). `add` grows the index on its own as well.
    pub fn reserve(&self, capacity: usize) -> Result<()> {
        self.writable()?;
        let live = self.len();
        let mut g = self.graph.write();
        // Tombstones keep their node ids, so count from the allocated nodes.
        let nodes = g.len() + capacity.saturating_sub(live);
        if nodes > u32::MAX as usize {
            return Err(full());
        }
        g.grow(nodes);
        Ok(())
    }

    /// Inserts `v` under `key`, replacing the vector already stored under it
    /// (the old node becomes a tombstone the moment the new one goes live,
    /// so concurrent searches see one or the other, never neither).
    pub fn add(&self, key: u64, v: &[f32]) -> Result<()> {
        self.writable()?;
        with_scratch(|s| {
            self.prepare_into(v, &mut s.query)?;
            let _writers = self.writers.read();
            let (g, id) = self.new_node()?;
            g.write_row(id, &s.query);
            g.keys[id as usize].store(key, Relaxed);
            insert(&g, s, id, self.params.ef_construction as usize);
            let mut keys = self.keys.lock();
            if let Some(old) = keys.insert(key, id) {
                g.flags[old as usize].store(DEAD, Release);
            }
            g.flags[id as usize].store(LIVE, Release);
            Ok(())
        })
    }

    /// A fresh node id and the read guard it is valid under, growing the
    /// capacity (doubling, at least 64 nodes) when it is used up.
    fn new_node(&self) -> Result<(RwLockReadGuard<'_, Graph>, u32)> {
        loop {
            let g = self.graph.read();
            if let Some(id) = g.alloc() {
                return Ok((g, id));
            }
            let cap = g.capacity();
            drop(g);
            let mut g = self.graph.write();
            if g.len() >= g.capacity() {
                if cap >= u32::MAX as usize {
                    return Err(full());
                }
                let target = (cap * 2).clamp(64, u32::MAX as usize);
                tracing::debug!(from = cap, to = target, "growing HNSW index");
                g.grow(target);
            }
        }
    }

    /// Removes `key`; false when it was not there. Its node stays in the
    /// graph as a tombstone that still routes searches.
    pub fn remove(&self, key: u64) -> Result<bool> {
        self.writable()?;
        let _writers = self.writers.read();
        let g = self.graph.read();
        let mut keys = self.keys.lock();
        Ok(match keys.remove(&key) {
            Some(id) => {
                g.flags[id as usize].store(DEAD, Release);
                true
            }
            None => false,
        })
    }

    pub fn contains(&self, key: u64) -> bool {
        self.keys.lock().contains_key(&key)
    }

    /// Live vectors (removed and replaced ones not counted).
    pub fn len(&self) -> usize {
        self.keys.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held by the index: vector arena, links, keys, flags, key map.
    pub fn memory_usage(&self) -> usize {
        let map = self.keys.lock().capacity() * (8 + 4 + 1);
        self.graph.read().memory_usage() + map
    }

    /// The `k` nearest keys with their distances, nearest first. Distances
    /// are `1 - cos` for Cosine (`VEC_COSINE_DISTANCE`, up to rounding) and
    /// the Euclidean distance for L2 (`VEC_L2_DISTANCE`). `ef_search = 0`
    /// takes the index's default; the beam is at least `k` wide.
    pub fn search(&self, q: &[f32], k: usize, ef_search: usize) -> Result<Vec<(u64, f32)>> {
        self.search_with(q, k, ef_search, None)
    }

    /// Like [`AnnIndex::search`] but only keys for which `keep` returns true
    /// are returned. `keep` runs inside the graph walk, on this thread,
    /// under the index's shared lock: it must not call back into this index
    /// (a queued capacity growth would deadlock it). Nodes
    /// failing it still route the walk, so a very selective filter makes the
    /// search approach a full scan (the planner should scan instead when it
    /// knows so). A panic in `keep` propagates; the index stays usable.
    pub fn filtered_search(
        &self,
        q: &[f32],
        k: usize,
        ef_search: usize,
        keep: impl Fn(u64) -> bool,
    ) -> Result<Vec<(u64, f32)>> {
        self.search_with(q, k, ef_search, Some(&keep))
    }

    fn search_with(
        &self,
        q: &[f32],
        k: usize,
        ef_search: usize,
        keep: Option<&dyn Fn(u64) -> bool>,
    ) -> Result<Vec<(u64, f32)>> {
        with_scratch(|s| {
            self.prepare_into(q, &mut s.query)?;
            let g = self.graph.read();
            let k = k.min(g.len());
            if k == 0 {
                return Ok(Vec::new());
            }
            let ef = match ef_search {
                0 => self.params.ef_search as usize,
                ef => ef,
            }
            .clamp(1, MAX_EF_SEARCH);
            let mut accept = |id: u32| g.is_live(id) && keep.is_none_or(|f| f(g.key(id)));
            let found = knn(&g, s, k, ef, &mut accept);
            Ok(found
                .into_iter()
                .map(|(id, d)| {
                    let d = match self.metric {
                        VectorMetric::Cosine => d,
                        VectorMetric::L2 => d.max(0.0).sqrt(),
                    };
                    (g.key(id), d)
                })
                .collect())
        })
    }

    /// Checks a vector and puts it in stored form in `out`: unit length for
    /// Cosine, zero-padded to the graph's row width.
    pub(crate) fn prepare_into(&self, v: &[f32], out: &mut Vec<f32>) -> Result<()> {
        if v.len() != self.dim {
            return Err(AnnError::Dimension {
                expected: self.dim,
                got: v.len(),
            });
        }
        if !v.iter().all(|x| x.is_finite()) {
            return Err(AnnError::NonFinite);
        }
        out.clear();
        match self.metric {
            VectorMetric::L2 => out.extend_from_slice(v),
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
                out.extend(v.iter().map(|&x| ((x as f64) * scale) as f32));
            }
        }
        out.resize(self.dim.div_ceil(16) * 16, 0.0);
        Ok(())
    }

    fn writable(&self) -> Result<()> {
        if self.read_only {
            Err(AnnError::ReadOnly)
        } else {
            Ok(())
        }
    }
}

fn full() -> AnnError {
    AnnError::Engine("index is full (2^32 - 1 nodes including tombstones)".into())
}
