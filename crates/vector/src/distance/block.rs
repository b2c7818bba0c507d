//! The engine behind every exact distance: one float32 accumulation per row
//! in TiDB's sequential order, vectorised *across rows* rather than across
//! dimensions.
//!
//! TiDB sums `a[0]·b[0] + a[1]·b[1] + …` left to right in float32 (Go on
//! amd64 neither reassociates nor fuses the multiply-add). Splitting one sum
//! over SIMD lanes would change its last bits, and then a distance printed by
//! tiembed would differ from TiDB's in the last digits and a top-k could pick
//! different rows at a tie. So a SIMD lane here holds one *row*: [`Tiles`]
//! stores each dimension of 32 consecutive rows side by side, and the tile
//! loop below runs the scalar recurrence on all 32 at once. Each lane does
//! exactly the scalar operations in the scalar order, so the result is
//! bit-identical to the scalar loop (and to TiDB), and the compiler
//! vectorises the lane loop on its own (Rust never contracts `a + x * q`
//! into a fused multiply-add, so no lane can round differently). The same
//! code is compiled for AVX-512, AVX2 and the baseline and picked at run
//! time.

use crate::tiles::{squared_norm, Tiles, TILE_ROWS};

/// One metric's float32 recurrence. `x` is an element of the row (TiDB's
/// first operand), `q` the matching element of the query (the second).
pub(crate) trait Kernel: Sync {
    /// Whether `finish` reads the row's Σx² (cosine).
    const USES_ROW_NORM: bool = false;

    /// The next partial sum; the sum starts at zero.
    fn step(acc: f32, x: f32, q: f32) -> f32;

    /// The float64 result from the final sum and the row's Σx² (0 unless
    /// `USES_ROW_NORM`); NaN means SQL NULL.
    fn finish(&self, acc: f32, row_squared_norm: f32) -> f64;
}

/// The scalar recurrence over one pair (lengths already checked equal).
pub(crate) fn pair<K: Kernel>(k: &K, a: &[f32], b: &[f32]) -> f64 {
    let acc = a
        .iter()
        .zip(b)
        .fold(0f32, |acc, (&x, &q)| K::step(acc, x, q));
    let norm = if K::USES_ROW_NORM {
        squared_norm(a)
    } else {
        0.0
    };
    k.finish(acc, norm)
}

/// Distances from `query` to rows `first_tile * TILE_ROWS ..` of `tiles`,
/// one per slot of `out` (which must not reach past the last row).
pub(crate) fn tiles<K: Kernel>(
    k: &K,
    query: &[f32],
    tiles: &Tiles,
    first_tile: usize,
    out: &mut [f64],
) {
    debug_assert_eq!(query.len(), tiles.dim());
    let first_row = first_tile * TILE_ROWS;
    debug_assert!(first_row + out.len() <= tiles.len());
    let data = tiles.tiles_from(first_tile);
    let norms = &tiles.squared_norms()[first_row..first_row + out.len()];
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F.
            return unsafe { run_avx512(k, query, data, norms, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2.
            return unsafe { run_avx2(k, query, data, norms, out) };
        }
    }
    run(k, query, data, norms, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_avx512<K: Kernel>(
    k: &K,
    query: &[f32],
    data: &[f32],
    norms: &[f32],
    out: &mut [f64],
) {
    run(k, query, data, norms, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2<K: Kernel>(k: &K, query: &[f32], data: &[f32], norms: &[f32], out: &mut [f64]) {
    run(k, query, data, norms, out)
}

#[inline(always)]
fn run<K: Kernel>(k: &K, query: &[f32], data: &[f32], norms: &[f32], out: &mut [f64]) {
    let tile_len = query.len() * TILE_ROWS;
    for (t, (out, norms)) in out
        .chunks_mut(TILE_ROWS)
        .zip(norms.chunks(TILE_ROWS))
        .enumerate()
    {
        let acc = if tile_len == 0 {
            [0f32; TILE_ROWS]
        } else {
            tile_sums::<K>(query, &data[t * tile_len..(t + 1) * tile_len])
        };
        for ((o, &acc), &norm) in out.iter_mut().zip(&acc).zip(norms) {
            *o = k.finish(acc, norm);
        }
    }
}

/// The 32 lanes' sums over one tile.
#[inline(always)]
fn tile_sums<K: Kernel>(query: &[f32], tile: &[f32]) -> [f32; TILE_ROWS] {
    let mut acc = [0f32; TILE_ROWS];
    for (x, &q) in tile.chunks_exact(TILE_ROWS).zip(query) {
        for (a, &x) in acc.iter_mut().zip(x) {
            *a = K::step(*a, x, q);
        }
    }
    acc
}
