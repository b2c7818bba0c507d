//! The index's memory: vectors, links, keys and flags, indexed by node id.
//!
//! * **Vectors** sit in one arena of 32-byte blocks, a row per node (the
//!   dimension padded to a multiple of 16 values), so the distance kernels
//!   read aligned, contiguous rows with no pointer chasing.
//! * **Level-0 links** (where nearly all search time goes) are one flat
//!   array of fixed slots: `[count, n_1 .. n_M0]` per node.
//! * **Upper levels** (about 1 node in M has any) are a per-node boxed slice
//!   of `level` slots of `[count, n_1 .. n_M]`, set once at insertion.
//!
//! Everything is stored in atomics so that inserts and searches can share
//! the graph through `&Graph` without `unsafe`: a node's row, key and lists
//! are written before any link to it is published (release stores of link
//! entries, acquire loads), and rows are never written again. Atomic loads
//! and stores of this kind compile to plain moves on x86. The distance
//! kernels read rows through raw pointers, which is sound because a
//! published row has no writer left.
//!
//! Capacity grows only under the index's write lock (`&mut Graph`), which
//! waits for every search and insert to leave; `reserve` avoids it.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering::*};
use std::sync::OnceLock;

use parking_lot::Mutex;
use tiembed_types::VectorMetric;

use crate::index::Storage;
use crate::kernels::{self, Dist2Fn, DistFn};

/// 32 bytes, 32-byte aligned: the unit of the vector arena.
#[repr(C, align(32))]
#[derive(Default)]
pub(crate) struct Block(pub(crate) [AtomicU32; 8]);

/// Node flags.
pub(crate) const LIVE: u8 = 0;
/// Inserted in the graph but not yet (or no longer) the row of its key.
pub(crate) const DEAD: u8 = 1;

/// `entry` when the graph is empty.
pub(crate) const NO_ENTRY: u64 = u64::MAX;

/// Highest level a node can get (probability M^-16: never in practice).
pub(crate) const MAX_LEVEL: usize = 16;

pub(crate) struct Graph {
    pub(crate) storage: Storage,
    /// Values per row: the dimension rounded up to a multiple of 16.
    pub(crate) padded: usize,
    pub(crate) blocks_per_row: usize,
    pub(crate) m: usize,
    pub(crate) m0: usize,
    dist_fn: DistFn,
    dist2_fn: Option<Dist2Fn>,
    dist4_fn: Option<kernels::Dist4Fn>,
    pub(crate) vectors: Vec<Block>,
    /// `1 + m0` per node.
    pub(crate) links0: Vec<AtomicU32>,
    /// `level * (1 + m)` per node, empty for level-0 nodes.
    pub(crate) upper: Vec<OnceLock<Box<[AtomicU32]>>>,
    pub(crate) keys: Vec<AtomicU64>,
    pub(crate) flags: Vec<AtomicU8>,
    /// Guards rewrites of a node's lists (one lock per node, like hnswlib;
    /// an insert holds at most one at a time, so no lock order is needed).
    pub(crate) locks: Vec<Mutex<()>>,
    /// Allocated node ids: `0..count`.
    pub(crate) count: AtomicU32,
    /// `(level << 32) | node` of the entry point, or [`NO_ENTRY`].
    pub(crate) entry: AtomicU64,
}

impl Graph {
    pub(crate) fn new(metric: VectorMetric, storage: Storage, dim: usize, m: usize) -> Self {
        let padded = dim.div_ceil(16) * 16;
        let bytes = padded * storage.bytes_per_value();
        Graph {
            storage,
            padded,
            blocks_per_row: bytes.div_ceil(32),
            m,
            m0: 2 * m,
            dist_fn: kernels::kernels().get(storage, metric),
            dist2_fn: kernels::kernels().get2(storage, metric),
            dist4_fn: match (storage, metric) {
                (Storage::F32, VectorMetric::Cosine) => kernels::kernels().quads[0],
                (Storage::F32, VectorMetric::L2) => kernels::kernels().quads[1],
                _ => None,
            },
            vectors: Vec::new(),
            links0: Vec::new(),
            upper: Vec::new(),
            keys: Vec::new(),
            flags: Vec::new(),
            locks: Vec::new(),
            count: AtomicU32::new(0),
            entry: AtomicU64::new(NO_ENTRY),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.flags.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.count.load(Acquire) as usize
    }

    pub(crate) fn row_bytes(&self) -> usize {
        self.blocks_per_row * 32
    }

    /// Grows every per-node array to `cap` nodes (never shrinks).
    pub(crate) fn grow(&mut self, cap: usize) {
        if cap <= self.capacity() {
            return;
        }
        let extra = cap - self.capacity();
        self.vectors.reserve_exact(extra * self.blocks_per_row);
        self.vectors
            .resize_with(cap * self.blocks_per_row, Block::default);
        self.links0.reserve_exact(extra * (1 + self.m0));
        self.links0
            .resize_with(cap * (1 + self.m0), || AtomicU32::new(0));
        self.upper.resize_with(cap, OnceLock::new);
        self.keys.resize_with(cap, || AtomicU64::new(0));
        self.flags.resize_with(cap, || AtomicU8::new(DEAD));
        self.locks.resize_with(cap, || Mutex::new(()));
    }

    /// Takes the next node id, or `None` when the capacity is used up.
    pub(crate) fn alloc(&self) -> Option<u32> {
        let mut id = self.count.load(Relaxed);
        loop {
            if id as usize >= self.capacity() || id == u32::MAX {
                return None;
            }
            match self
                .count
                .compare_exchange_weak(id, id + 1, AcqRel, Relaxed)
            {
                Ok(_) => return Some(id),
                Err(now) => id = now,
            }
        }
    }

    /// Stores `v` (padded, normalised for cosine) as node `id`'s row.
    pub(crate) fn write_row(&self, id: u32, v: &[f32]) {
        debug_assert_eq!(v.len(), self.padded);
        let row = self.row_blocks(id);
        let words = row.iter().flat_map(|b| b.0.iter());
        match self.storage {
            Storage::F32 => {
                for (w, x) in words.zip(v) {
                    w.store(x.to_bits(), Relaxed);
                }
            }
            Storage::BF16 | Storage::F16 => {
                let enc = if self.storage == Storage::BF16 {
                    kernels::to_bf16
                } else {
                    kernels::to_f16
                };
                for (w, pair) in words.zip(v.chunks_exact(2)) {
                    let (a, b) = (enc(pair[0]).to_ne_bytes(), enc(pair[1]).to_ne_bytes());
                    // Native byte order, so the kernels read element 2i at
                    // the lower address whatever the endianness.
                    w.store(u32::from_ne_bytes([a[0], a[1], b[0], b[1]]), Relaxed);
                }
            }
        }
    }

    /// Node `id`'s row decoded to f32 into `out` (len `padded`).
    pub(crate) fn read_row(&self, id: u32, out: &mut Vec<f32>) {
        out.clear();
        let words = self.row_blocks(id).iter().flat_map(|b| b.0.iter());
        match self.storage {
            Storage::F32 => out.extend(
                words
                    .take(self.padded)
                    .map(|w| f32::from_bits(w.load(Relaxed))),
            ),
            Storage::BF16 | Storage::F16 => {
                let dec = if self.storage == Storage::BF16 {
                    kernels::from_bf16
                } else {
                    kernels::from_f16
                };
                for w in words.take(self.padded / 2) {
                    let b = w.load(Relaxed).to_ne_bytes();
                    out.push(dec(u16::from_ne_bytes([b[0], b[1]])));
                    out.push(dec(u16::from_ne_bytes([b[2], b[3]])));
                }
            }
        }
    }

    #[inline(always)]
    pub(crate) fn row_blocks(&self, id: u32) -> &[Block] {
        let b = id as usize * self.blocks_per_row;
        &self.vectors[b..b + self.blocks_per_row]
    }

    #[inline(always)]
    pub(crate) fn row_ptr(&self, id: u32) -> *const u8 {
        self.row_blocks(id).as_ptr() as *const u8
    }

    /// Distance from the padded query `q` to node `id` (cosine: `1 - dot`;
    /// L2: squared).
    #[inline(always)]
    pub(crate) fn dist(&self, q: &[f32], id: u32) -> f32 {
        assert!(q.len() >= self.padded);
        let row = self.row_ptr(id);
        // SAFETY: `q` holds `padded` f32 (checked above); `row` is the
        // bounds-checked row of `id`: `blocks_per_row * 32` bytes, 32-byte
        // aligned, which hold `padded` values of the storage type. Rows are
        // written once, before their node is published (release) to any
        // reader, so no write overlaps this read.
        unsafe { (self.dist_fn)(q.as_ptr(), row, self.padded) }
    }

    /// Prefetches the first cache line of node `id`'s row.
    /// Distance between two stored nodes, when rows are f32 (`None`
    /// otherwise: the caller decodes one row and uses [`Graph::dist`]).
    #[inline(always)]
    pub(crate) fn dist_nodes(&self, a: u32, b: u32) -> Option<f32> {
        if self.storage != Storage::F32 {
            return None;
        }
        let (ra, rb) = (self.row_ptr(a), self.row_ptr(b));
        // SAFETY: an f32 row holds `padded` f32, 32-byte aligned, so it
        // serves as the query side; otherwise as in `dist`.
        Some(unsafe { (self.dist_fn)(ra as *const f32, rb, self.padded) })
    }

    pub(crate) fn dist4(&self, q: &[f32], ids: &[u32]) -> Option<[f32; 4]> {
        let f = self.dist4_fn?;
        assert!(q.len() >= self.padded);
        let r = [
            self.row_ptr(ids[0]),
            self.row_ptr(ids[1]),
            self.row_ptr(ids[2]),
            self.row_ptr(ids[3]),
        ];
        // SAFETY: as in `dist`, for each row.
        Some(unsafe { f(q.as_ptr(), r, self.padded) })
    }

    /// Distances from `q` to nodes `a` and `b`.
    #[inline(always)]
    pub(crate) fn dist2(&self, q: &[f32], a: u32, b: u32) -> (f32, f32) {
        match self.dist2_fn {
            Some(f) => {
                assert!(q.len() >= self.padded);
                let (ra, rb) = (self.row_ptr(a), self.row_ptr(b));
                // SAFETY: as in `dist`, for both rows.
                unsafe { f(q.as_ptr(), ra, rb, self.padded) }
            }
            None => (self.dist(q, a), self.dist(q, b)),
        }
    }

    #[inline(always)]
    pub(crate) fn prefetch_row_start(&self, id: u32) {
        if let Some(b) = self.vectors.get(id as usize * self.blocks_per_row) {
            kernels::prefetch(b as *const Block as *const u8, 64);
        }
    }

    #[inline(always)]
    pub(crate) fn prefetch_links(&self, id: u32) {
        if let Some(a) = self.links0.get(id as usize * (1 + self.m0)) {
            kernels::prefetch(a as *const AtomicU32 as *const u8, 4 * (1 + self.m0));
        }
    }

    /// The slot `[count, n_1 ..]` of node `id` at `level`; empty if the node
    /// has no such level.
    #[inline(always)]
    pub(crate) fn slot(&self, id: u32, level: usize) -> &[AtomicU32] {
        if level == 0 {
            let s = 1 + self.m0;
            let b = id as usize * s;
            &self.links0[b..b + s]
        } else {
            let s = 1 + self.m;
            match self.upper[id as usize].get() {
                Some(u) if u.len() >= level * s => &u[(level - 1) * s..level * s],
                _ => &[],
            }
        }
    }

    /// Calls `f` for each neighbour of `id` at `level`.
    #[inline(always)]
    pub(crate) fn for_each_neighbour(&self, id: u32, level: usize, mut f: impl FnMut(u32)) {
        let slot = self.slot(id, level);
        if let Some((count, list)) = slot.split_first() {
            let n = (count.load(Acquire) as usize).min(list.len());
            for a in &list[..n] {
                f(a.load(Acquire));
            }
        }
    }

    /// Number of levels above 0 of node `id`.
    pub(crate) fn level(&self, id: u32) -> usize {
        self.upper[id as usize]
            .get()
            .map_or(0, |u| u.len() / (1 + self.m))
    }

    pub(crate) fn is_live(&self, id: u32) -> bool {
        self.flags[id as usize].load(Acquire) == LIVE
    }

    pub(crate) fn key(&self, id: u32) -> u64 {
        self.keys[id as usize].load(Relaxed)
    }

    pub(crate) fn entry(&self) -> Option<(u32, usize)> {
        let e = self.entry.load(Acquire);
        (e != NO_ENTRY).then_some((e as u32, (e >> 32) as usize))
    }

    pub(crate) fn memory_usage(&self) -> usize {
        let upper: usize = self.upper[..self.len()]
            .iter()
            .filter_map(|u| u.get())
            .map(|u| u.len() * 4)
            .sum();
        self.vectors.capacity() * 32
            + self.links0.capacity() * 4
            + self.upper.capacity() * std::mem::size_of::<OnceLock<Box<[AtomicU32]>>>()
            + upper
            + self.keys.capacity() * 8
            + self.flags.capacity()
            + self.locks.capacity() * std::mem::size_of::<Mutex<()>>()
    }
}
