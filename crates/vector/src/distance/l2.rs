//! `VEC_L2_DISTANCE(a, b)` = √Σ(aᵢ−bᵢ)²: TiDB sums the squares in float32
//! and takes the root in float64.

use super::block::Kernel;

pub(crate) struct L2;

impl Kernel for L2 {
    #[inline(always)]
    fn step(acc: &mut [f32; 2], x: f32, q: f32) {
        let d = x - q;
        acc[0] += d * d;
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
        let d = _mm256_sub_ps(x, q);
        acc[0] = _mm256_add_ps(acc[0], _mm256_mul_ps(d, d));
    }

    fn finish(&self, acc: [f32; 2]) -> f64 {
        (acc[0] as f64).sqrt()
    }
}
