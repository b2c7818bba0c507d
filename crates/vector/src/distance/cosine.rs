//! `VEC_COSINE_DISTANCE(a, b)` = 1 − (Σaᵢbᵢ) / √(Σaᵢ² · Σbᵢ²).
//!
//! The three sums are float32 (as TiDB), the rest float64. Each sum is its
//! own sequential recurrence, so computing Σaᵢ² apart from the dot product
//! (once per row, when it enters [`crate::Tiles`]) gives TiDB's bits. The
//! product of the two float32 norms is exact in float64, so two identical
//! vectors give a similarity of exactly 1 and a distance of exactly 0
//! (pytidb tests `== 0`). A zero vector makes the similarity NaN, which is
//! SQL NULL; any other value is clamped to [−1, 1], so the distance lies in
//! [0, 2].

use super::block::Kernel;
use crate::tiles::squared_norm;

pub(crate) struct Cosine {
    /// Σqᵢ² of the second operand, summed once in TiDB's order.
    query_norm: f32,
}

impl Cosine {
    pub(crate) fn new(query: &[f32]) -> Self {
        Cosine {
            query_norm: squared_norm(query),
        }
    }
}

impl Kernel for Cosine {
    const USES_ROW_NORM: bool = true;

    /// The dot product; the row's Σx² comes precomputed.
    #[inline(always)]
    fn step(acc: f32, x: f32, q: f32) -> f32 {
        acc + x * q
    }

    fn finish(&self, dot: f32, row_squared_norm: f32) -> f64 {
        let similarity = dot as f64 / (row_squared_norm as f64 * self.query_norm as f64).sqrt();
        if similarity.is_nan() {
            return f64::NAN;
        }
        1.0 - similarity.clamp(-1.0, 1.0)
    }
}
