//! HNSW search: greedy descent through the upper levels, then a beam of
//! width `ef` on the level below (the algorithm of hnswlib's
//! `searchBaseLayerST`), with per-thread scratch so a search allocates
//! nothing but its result.

use std::cell::Cell;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::graph::Graph;

/// A distance with a total order (inputs are finite, so no NaN arises; the
/// order is `f32::total_cmp` all the same).
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) struct Dist(pub(crate) f32);

impl Eq for Dist {}
impl PartialOrd for Dist {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Dist {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Per-thread search state, reused across searches (and indexes).
#[derive(Default)]
pub(crate) struct Scratch {
    /// `visited[id] == epoch` marks a node seen by the current search; a
    /// new search bumps the epoch instead of clearing (hnswlib's trick).
    visited: Vec<u16>,
    epoch: u16,
    /// Candidates to expand, nearest first.
    candidates: BinaryHeap<Reverse<(Dist, u32)>>,
    /// Best results so far, farthest on top (bounded by `ef`).
    pub(crate) top: BinaryHeap<(Dist, u32)>,
    /// Unvisited neighbours of the node being expanded.
    fresh: Vec<u32>,
    dists: Vec<f32>,
    /// The query (or inserted vector), padded.
    pub(crate) query: Vec<f32>,
    /// Decoded rows, for node-to-node distances during insertion.
    pub(crate) row: Vec<f32>,
    pub(crate) row2: Vec<f32>,
    pub(crate) pairs: Vec<(Dist, u32)>,
    /// The same, for pruning a neighbour's list inside an insert.
    pub(crate) pairs2: Vec<(Dist, u32)>,
    pub(crate) chosen2: Vec<(Dist, u32)>,
}

thread_local! {
    static SCRATCH: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
}

/// Runs `f` with this thread's scratch. Taken out of the thread-local, so a
/// nested call (a filter that searches another index) gets a fresh one
/// instead of a borrow panic; lost, not corrupted, if `f` panics.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut s = SCRATCH.take().unwrap_or_default();
    let r = f(&mut s);
    SCRATCH.set(Some(s));
    r
}

impl Scratch {
    fn start(&mut self, nodes: usize) {
        if self.visited.len() < nodes {
            self.visited.resize(nodes, 0);
        }
        // u16 stamps (as hnswlib): half the cache footprint of u32, for a
        // clear every 65535 searches.
        if self.epoch == u16::MAX {
            self.visited.fill(0);
            self.epoch = 0;
        }
        self.epoch += 1;
        self.candidates.clear();
        self.top.clear();
    }

    #[inline(always)]
    fn visit(&mut self, id: u32) -> bool {
        match self.visited.get_mut(id as usize) {
            Some(v) if *v != self.epoch => {
                *v = self.epoch;
                true
            }
            _ => false,
        }
    }
}

/// Greedy walk at one upper level: move to the nearest neighbour until none
/// is nearer.
pub(crate) fn greedy(g: &Graph, q: &[f32], mut cur: u32, mut d: f32, level: usize) -> (u32, f32) {
    loop {
        let before = cur;
        g.for_each_neighbour(before, level, |n| {
            let dn = g.dist(q, n);
            if dn < d {
                d = dn;
                cur = n;
            }
        });
        if cur == before {
            return (cur, d);
        }
    }
}

/// Beam search at `level` from `entry`, leaving up to `ef` nodes in
/// `s.top`. `accept` (None during construction) decides which nodes may be
/// results; rejected nodes are still expanded, so they keep routing.
pub(crate) fn search_layer(
    g: &Graph,
    s: &mut Scratch,
    entry: u32,
    entry_dist: f32,
    ef: usize,
    level: usize,
    accept: Option<&mut dyn FnMut(u32) -> bool>,
) {
    let mut accept = accept;
    // Capacity, not count: nodes inserted during this search have ids up
    // to the capacity, which cannot change while the caller holds the lock.
    s.start(g.capacity());
    s.visit(entry);
    let mut bound = f32::INFINITY;
    if accept.as_mut().is_none_or(|f| f(entry)) {
        s.top.push((Dist(entry_dist), entry));
        bound = entry_dist;
    }
    s.candidates.push(Reverse((Dist(entry_dist), entry)));
    let mut fresh = std::mem::take(&mut s.fresh);
    let mut dists = std::mem::take(&mut s.dists);
    while let Some(Reverse((Dist(d), c))) = s.candidates.pop() {
        if d > bound && s.top.len() >= ef {
            break;
        }
        // The next candidate to expand is most likely the current best one:
        // start fetching its list now, a whole expansion ahead.
        if let Some(Reverse((_, next))) = s.candidates.peek() {
            g.prefetch_links(*next);
        }
        // First pass: which neighbours are new. Reading the list and the
        // visited stamps is cheap; the rows are what misses the cache.
        fresh.clear();
        g.for_each_neighbour(c, level, |n| {
            if s.visit(n) {
                fresh.push(n);
            }
        });
        // Ask for the first line of every new row at once: the misses then
        // overlap, and the hardware prefetcher streams the rest of each row
        // once its kernel starts. (Prefetching whole rows measured slower:
        // it fills the miss buffers and stalls.)
        for &n in &fresh {
            g.prefetch_row_start(n);
        }
        dists.clear();
        // Four rows at a time where the CPU has a quad kernel (then pairs,
        // then one): independent streams overlap their cache misses.
        for p in fresh.chunks_exact(4) {
            match g.dist4(&s.query, p) {
                Some(d) => dists.extend(d),
                None => break,
            }
        }
        let done = dists.len();
        let mut pairs = fresh[done..].chunks_exact(2);
        for p in &mut pairs {
            let (x, y) = g.dist2(&s.query, p[0], p[1]);
            dists.extend([x, y]);
        }
        if let [last] = pairs.remainder() {
            dists.push(g.dist(&s.query, *last));
        }
        for (&n, &dn) in fresh.iter().zip(&dists) {
            if s.top.len() < ef || dn < bound {
                s.candidates.push(Reverse((Dist(dn), n)));
                if accept.as_mut().is_none_or(|f| f(n)) {
                    s.top.push((Dist(dn), n));
                    if s.top.len() > ef {
                        s.top.pop();
                    }
                }
                if let Some(&(Dist(b), _)) = s.top.peek() {
                    bound = b;
                }
            }
        }
    }
    s.fresh = fresh;
    s.dists = dists;
}

/// k-NN for the padded query in `s.query`: `(node, distance)` nearest first.
pub(crate) fn knn(
    g: &Graph,
    s: &mut Scratch,
    k: usize,
    ef: usize,
    accept: &mut dyn FnMut(u32) -> bool,
) -> Vec<(u32, f32)> {
    let Some((entry, top_level)) = g.entry() else {
        return Vec::new();
    };
    let mut cur = entry;
    let mut d = g.dist(&s.query, cur);
    for level in (1..=top_level).rev() {
        (cur, d) = greedy(g, &s.query, cur, d, level);
    }
    search_layer(g, s, cur, d, ef.max(k), 0, Some(accept));
    let mut out: Vec<(u32, f32)> = s.top.drain().map(|(Dist(d), n)| (n, d)).collect();
    out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    out.truncate(k);
    out
}
