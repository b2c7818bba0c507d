//! `VEC_L1_DISTANCE(a, b)` = Σ|aᵢ−bᵢ|, summed in float32.

use super::block::Kernel;

pub(crate) struct L1;

impl Kernel for L1 {
    #[inline(always)]
    fn step(acc: &mut [f32; 2], x: f32, q: f32) {
        // TiDB negates when `diff < 0`; clearing the sign bit instead only
        // differs for -0.0, and adding -0.0 or +0.0 gives the same sum.
        acc[0] += (x - q).abs();
    }

    #[cfg(target_arch = "x86_64")]
    #[inline]
    #[target_feature(enable = "avx")]
    unsafe fn step8(
        acc: &mut [std::arch::x86_64::__m256; 2],
        x: std::arch::x86_64::__m256,
        q: std::arch::x86_64::__m256,
    ) {
        use std::arch::x86_64::*;
        let d = _mm256_andnot_ps(_mm256_set1_ps(-0.0), _mm256_sub_ps(x, q));
        acc[0] = _mm256_add_ps(acc[0], d);
    }

    fn finish(&self, acc: [f32; 2]) -> f64 {
        acc[0] as f64
    }
}
