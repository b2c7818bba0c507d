//! `VEC_NEGATIVE_INNER_PRODUCT(a, b)` = −Σaᵢbᵢ: summed in float32, negated
//! in float64 as TiDB does (`d * -1`, so an all-zero product is `-0`).

use super::block::Kernel;

pub(crate) struct NegativeInnerProduct;

impl Kernel for NegativeInnerProduct {
    #[inline(always)]
    fn step(acc: f32, x: f32, q: f32) -> f32 {
        acc + x * q
    }

    fn finish(&self, acc: f32, _: f32) -> f64 {
        // Negation is exactly TiDB's `d * -1`, signed zero included.
        -(acc as f64)
    }
}
