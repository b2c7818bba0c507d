//! HNSW insertion (the algorithm of hnswlib's `addPoint`): descend greedily
//! to the new node's level, then on each level below run an
//! `ef_construction` beam, pick neighbours with the paper's heuristic and
//! link both ways, pruning a neighbour's list with the same heuristic when
//! it is full.
//!
//! Concurrency: the node's row, key and all of its lists are written before
//! any neighbour links back to it, so a node is complete once reachable; a
//! list is rewritten under its node's lock, and an insert holds one lock at
//! a time (no ordering, no deadlock). Readers may see a list half
//! rewritten: every entry is still a valid, published node.

use std::sync::atomic::{AtomicU32, Ordering::*};

use crate::graph::{Graph, MAX_LEVEL, NO_ENTRY};
use crate::index::Storage;
use crate::search::{greedy, search_layer, Dist, Scratch};

/// The node's level: floor(-ln(u) / ln(M)), with `u` derived from the node
/// id (so a rebuild in the same order gives the same graph).
pub(crate) fn random_level(id: u32, m: usize) -> usize {
    let mut z = (id as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let u = ((z >> 11) + 1) as f64 / (1u64 << 53) as f64;
    let level = (-u.ln() / (m as f64).ln()) as usize;
    level.min(MAX_LEVEL)
}

/// Links node `id`, whose padded vector is in `s.query` and whose row is
/// already written, into the graph.
pub(crate) fn insert(g: &Graph, s: &mut Scratch, id: u32, ef_construction: usize) {
    let level = random_level(id, g.m);
    if level > 0 {
        let slots = (0..level * (1 + g.m)).map(|_| AtomicU32::new(0)).collect();
        // Fresh id: nobody else sets it.
        let _ = g.upper[id as usize].set(slots);
    }
    let mine = ((level as u64) << 32) | id as u64;
    let mut e = g.entry.load(Acquire);
    if e == NO_ENTRY {
        match g.entry.compare_exchange(NO_ENTRY, mine, AcqRel, Acquire) {
            Ok(_) => return,
            Err(now) => e = now,
        }
    }
    let (entry, top) = (e as u32, (e >> 32) as usize);
    let mut cur = entry;
    let mut d = g.dist(&s.query, cur);
    for l in (level + 1..=top).rev() {
        (cur, d) = greedy(g, &s.query, cur, d, l);
    }
    // Choose the neighbours on every level first, write all of the node's
    // lists, and only then link back: nobody can reach the node before its
    // lists are complete. (Linking back level by level, as hnswlib does,
    // lets a concurrent insert reach the node through an upper level while
    // its lower lists are still empty, find nothing but the node there and
    // end up with a single incoming link; hnswlib prevents that by locking
    // every list a construction search reads, which costs a lock per hop.)
    let mut chosen_per_level: Vec<(usize, Vec<(Dist, u32)>)> = Vec::new();
    for l in (0..=level.min(top)).rev() {
        search_layer(g, s, cur, d, ef_construction, l, None);
        let mut found = std::mem::take(&mut s.pairs);
        found.clear();
        found.extend(s.top.drain().filter(|&(_, n)| n != id));
        found.sort_unstable();
        if let Some(&(Dist(dn), n)) = found.first() {
            (cur, d) = (n, dn);
        }
        let mut chosen = Vec::with_capacity(g.m);
        select(g, s, &found, g.m, &mut chosen);
        s.pairs = found;
        chosen_per_level.push((l, chosen));
    }
    {
        let _lock = g.locks[id as usize].lock();
        for (l, chosen) in &chosen_per_level {
            write_list(g.slot(id, *l), chosen.iter().map(|p| p.1));
        }
    }
    for (l, chosen) in &chosen_per_level {
        for &(Dist(dn), n) in chosen {
            link(g, s, n, id, dn, *l);
        }
    }
    // A higher node becomes the entry point (unless a concurrent insert
    // already put an even higher one there).
    let mut e = g.entry.load(Acquire);
    while level > (e >> 32) as usize {
        match g.entry.compare_exchange_weak(e, mine, AcqRel, Acquire) {
            Ok(_) => break,
            Err(now) => e = now,
        }
    }
}

fn write_list(slot: &[AtomicU32], ids: impl Iterator<Item = u32>) {
    let (count, list) = slot.split_first().expect("a level slot");
    let mut n = 0;
    for (a, id) in list.iter().zip(ids) {
        a.store(id, Release);
        n += 1;
    }
    count.store(n as u32, Release);
}

/// The neighbour-selection heuristic (hnswlib's `getNeighborsByHeuristic2`):
/// walk candidates nearest first and keep one only if it is nearer to the
/// base than to every one kept so far, which spreads links over directions
/// instead of piling them into one cluster. `cands` is sorted ascending.
fn select(g: &Graph, s: &mut Scratch, cands: &[(Dist, u32)], m: usize, out: &mut Vec<(Dist, u32)>) {
    out.clear();
    if cands.len() <= m {
        out.extend_from_slice(cands);
        return;
    }
    for &(Dist(d), c) in cands {
        if out.len() >= m {
            break;
        }
        let good = if g.storage == Storage::F32 {
            out.iter()
                .all(|&(_, k)| g.dist_nodes(c, k).is_some_and(|dk| dk >= d))
        } else {
            g.read_row(c, &mut s.row);
            out.iter().all(|&(_, k)| g.dist(&s.row, k) >= d)
        };
        if good {
            out.push((Dist(d), c));
        }
    }
}

/// Adds `new` to `n`'s list at `level`, pruning with the heuristic if full.
fn link(g: &Graph, s: &mut Scratch, n: u32, new: u32, d: f32, level: usize) {
    let cap = if level == 0 { g.m0 } else { g.m };
    let _lock = g.locks[n as usize].lock();
    let slot = g.slot(n, level);
    let Some((count, list)) = slot.split_first() else {
        return;
    };
    let len = (count.load(Acquire) as usize).min(list.len());
    if list[..len].iter().any(|a| a.load(Relaxed) == new) {
        return;
    }
    if len < cap {
        list[len].store(new, Release);
        count.store(len as u32 + 1, Release);
        return;
    }
    let mut cands = std::mem::take(&mut s.pairs2);
    let mut keep = std::mem::take(&mut s.chosen2);
    cands.clear();
    g.read_row(n, &mut s.row2);
    cands.push((Dist(d), new));
    for a in &list[..len] {
        let x = a.load(Relaxed);
        cands.push((Dist(g.dist(&s.row2, x)), x));
    }
    cands.sort_unstable();
    select(g, s, &cands, cap, &mut keep);
    write_list(slot, keep.iter().map(|p| p.1));
    s.pairs2 = cands;
    s.chosen2 = keep;
}
