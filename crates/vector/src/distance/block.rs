//! The engine behind every exact distance: one float32 accumulation per row
//! in TiDB's sequential order, vectorised *across rows* rather than across
//! dimensions.
//!
//! TiDB sums `a[0]·b[0] + a[1]·b[1] + …` left to right in float32 (Go on
//! amd64 neither reassociates nor fuses the multiply-add). Splitting one sum
//! over SIMD lanes would change its last bits, and then a distance printed by
//! tiembed would differ from TiDB's in the last digits and a top-k could pick
//! different rows at a tie. So a SIMD lane here holds one *row*: eight rows
//! are loaded, transposed four dimensions at a time, and every lane runs the
//! scalar recurrence for its own row. Each lane does exactly the scalar
//! operations in the scalar order, so the result is bit-identical to the
//! scalar loop (and to TiDB) while the work runs eight rows wide.

/// One metric's float32 recurrence. `x` is an element of the row (TiDB's
/// first operand), `q` the matching element of the query (the second).
pub(crate) trait Kernel: Sync {
    /// `acc` starts at zero; the metric uses one or two accumulators.
    fn step(acc: &mut [f32; 2], x: f32, q: f32);

    /// The same step on eight rows at once; lane `i` must compute exactly
    /// what `step` computes for row `i`.
    ///
    /// # Safety
    /// The CPU must support AVX.
    #[cfg(target_arch = "x86_64")]
    unsafe fn step8(
        acc: &mut [std::arch::x86_64::__m256; 2],
        x: std::arch::x86_64::__m256,
        q: std::arch::x86_64::__m256,
    );

    /// The float64 result from the final accumulators; NaN means SQL NULL.
    fn finish(&self, acc: [f32; 2]) -> f64;
}

/// The scalar recurrence over one pair (lengths already checked equal).
pub(crate) fn pair<K: Kernel>(k: &K, a: &[f32], b: &[f32]) -> f64 {
    let mut acc = [0f32; 2];
    for (&x, &q) in a.iter().zip(b) {
        K::step(&mut acc, x, q);
    }
    k.finish(acc)
}

/// Distances from `query` to the first `out.len()` rows of `rows`
/// (row-major, `query.len()` elements per row). `rows` may extend past those
/// rows: the kernel prefetches from there, so a caller working through a
/// large matrix in pieces passes everything from the piece's start.
pub(crate) fn rows<K: Kernel>(k: &K, query: &[f32], rows: &[f32], out: &mut [f64]) {
    let dim = query.len();
    let n = out.len();
    debug_assert!(rows.len() >= dim * n);
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if dim >= 4 && std::arch::is_x86_feature_detected!("avx") {
        let block_len = avx::ROWS * dim;
        done = n / avx::ROWS * avx::ROWS;
        for (i, out) in out[..done].chunks_exact_mut(avx::ROWS).enumerate() {
            let block = &rows[i * block_len..(i + 1) * block_len];
            let next = rows.get((i + 1) * block_len..(i + 2) * block_len);
            // SAFETY: AVX was detected; `block` holds ROWS rows of `dim`,
            // `next` (when there) as many.
            unsafe { avx::rows16(k, query, block, next, out) };
        }
    }
    for (i, o) in out.iter_mut().enumerate().skip(done) {
        *o = pair(k, &rows[i * dim..(i + 1) * dim], query);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use super::Kernel;
    use std::arch::x86_64::*;

    /// Rows per call: two independent groups of eight, so that the two
    /// dependent add chains (one per group) overlap.
    pub(super) const ROWS: usize = 16;

    /// Lanes = rows: `[r0[d..d+4] | r4[d..d+4]]`.
    #[inline(always)]
    unsafe fn load_pair(lo: *const f32, hi: *const f32) -> __m256 {
        unsafe {
            _mm256_insertf128_ps(
                _mm256_castps128_ps256(_mm_loadu_ps(lo)),
                _mm_loadu_ps(hi),
                1,
            )
        }
    }

    /// Four registers holding rows (k, k+4) × 4 dims become four registers
    /// holding one dim × rows 0..8 in row order.
    #[inline(always)]
    unsafe fn transpose4(a: [__m256; 4]) -> [__m256; 4] {
        unsafe {
            let t0 = _mm256_unpacklo_ps(a[0], a[1]);
            let t1 = _mm256_unpackhi_ps(a[0], a[1]);
            let t2 = _mm256_unpacklo_ps(a[2], a[3]);
            let t3 = _mm256_unpackhi_ps(a[2], a[3]);
            [
                _mm256_shuffle_ps::<0x44>(t0, t2),
                _mm256_shuffle_ps::<0xEE>(t0, t2),
                _mm256_shuffle_ps::<0x44>(t1, t3),
                _mm256_shuffle_ps::<0xEE>(t1, t3),
            ]
        }
    }

    /// Dims `d..d+4` of eight rows (`row(i) = base + i * dim`), transposed
    /// to one register per dim with the rows in lane order.
    #[inline(always)]
    unsafe fn load8x4(base: *const f32, dim: usize) -> [__m256; 4] {
        unsafe {
            let r = |i: usize| base.add(i * dim);
            transpose4([
                load_pair(r(0), r(4)),
                load_pair(r(1), r(5)),
                load_pair(r(2), r(6)),
                load_pair(r(3), r(7)),
            ])
        }
    }

    /// # Safety
    /// AVX must be available; `block.len() == ROWS * query.len()`,
    /// `next`, when given, as long; `out.len() == ROWS`; `query.len() >= 4`.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn rows16<K: Kernel>(
        k: &K,
        query: &[f32],
        block: &[f32],
        next: Option<&[f32]>,
        out: &mut [f64],
    ) {
        let dim = query.len();
        debug_assert!(block.len() == ROWS * dim && out.len() == ROWS && dim >= 4);
        debug_assert!(next.is_none_or(|n| n.len() == block.len()));
        let mut acc = [[_mm256_setzero_ps(); 2]; 2];
        let base = block.as_ptr();
        let q = query.as_ptr();
        let mut d = 0;
        while d + 4 <= dim {
            // Sixteen interleaved row streams defeat the hardware
            // prefetchers (the scan ran at a third of the bandwidth without
            // this). Ask for the next block's lines in the order they will
            // be read, one block ahead, into L2: L1 is too small to hold two
            // blocks.
            if let (Some(next), 0) = (next, d % 16) {
                for r in 0..ROWS {
                    // SAFETY: r * dim + d < next.len().
                    _mm_prefetch::<_MM_HINT_T1>(unsafe { next.as_ptr().add(r * dim + d) }.cast());
                }
            }
            for (g, acc) in acc.iter_mut().enumerate() {
                // SAFETY: rows g*8..g*8+8 of the block, dims d..d+4 <= dim.
                let x = unsafe { load8x4(base.add(g * 8 * dim + d), dim) };
                for (j, x) in x.into_iter().enumerate() {
                    // SAFETY: d + j < dim.
                    unsafe { K::step8(acc, x, _mm256_broadcast_ss(&*q.add(d + j))) };
                }
            }
            d += 4;
        }
        for (g, acc) in acc.iter().enumerate() {
            let mut lanes = [[0f32; 8]; 2];
            for (l, a) in lanes.iter_mut().zip(acc) {
                // SAFETY: an 8-float array is a valid unaligned store target.
                unsafe { _mm256_storeu_ps(l.as_mut_ptr(), *a) };
            }
            for r in 0..8 {
                let mut a = [lanes[0][r], lanes[1][r]];
                let row = &block[(g * 8 + r) * dim..(g * 8 + r + 1) * dim];
                // The last dim % 4 elements, continuing the same recurrence.
                for (&x, &qv) in row[d..].iter().zip(&query[d..]) {
                    K::step(&mut a, x, qv);
                }
                out[g * 8 + r] = k.finish(a);
            }
        }
    }
}
