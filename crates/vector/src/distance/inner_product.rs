//! `VEC_NEGATIVE_INNER_PRODUCT(a, b)` = −Σaᵢbᵢ: summed in float32, negated
//! in float64 as TiDB does (`d * -1`, so an all-zero product is `-0`).

use super::block::Kernel;

pub(crate) struct NegativeInnerProduct;

impl Kernel for NegativeInnerProduct {
    #[inline(always)]
    fn step(acc: &mut [f32; 2], x: f32, q: f32) {
        acc[0] += x * q;
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
        acc[0] = _mm256_add_ps(acc[0], _mm256_mul_ps(x, q));
    }

    fn finish(&self, acc: [f32; 2]) -> f64 {
        // Negation is exactly TiDB's `d * -1`, signed zero included.
        -(acc[0] as f64)
    }
}
