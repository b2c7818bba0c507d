//! `VEC_COSINE_DISTANCE(a, b)` = 1 − (Σaᵢbᵢ) / √(Σaᵢ² · Σbᵢ²).
//!
//! The three sums are float32 (as TiDB), the rest float64. The product of
//! the two float32 norms is exact in float64, so two identical vectors give
//! a similarity of exactly 1 and a distance of exactly 0 (pytidb tests
//! `== 0`). A zero vector makes the similarity NaN, which is SQL NULL; any
//! other value is clamped to [−1, 1], so the distance lies in [0, 2].

use super::block::Kernel;

pub(crate) struct Cosine {
    /// Σqᵢ² of the second operand, summed once in TiDB's order.
    query_norm: f32,
}

impl Cosine {
    pub(crate) fn new(query: &[f32]) -> Self {
        let mut norm = 0f32;
        for &q in query {
            norm += q * q;
        }
        Cosine { query_norm: norm }
    }
}

impl Kernel for Cosine {
    /// `acc[0]` = Σxq, `acc[1]` = Σx².
    #[inline(always)]
    fn step(acc: &mut [f32; 2], x: f32, q: f32) {
        acc[0] += x * q;
        acc[1] += x * x;
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
        acc[1] = _mm256_add_ps(acc[1], _mm256_mul_ps(x, x));
    }

    fn finish(&self, acc: [f32; 2]) -> f64 {
        let similarity = acc[0] as f64 / (acc[1] as f64 * self.query_norm as f64).sqrt();
        if similarity.is_nan() {
            return f64::NAN;
        }
        1.0 - similarity.clamp(-1.0, 1.0)
    }
}
