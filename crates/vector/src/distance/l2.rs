//! `VEC_L2_DISTANCE(a, b)` = √Σ(aᵢ−bᵢ)²: TiDB sums the squares in float32
//! and takes the root in float64.

use super::block::Kernel;

pub(crate) struct L2;

impl Kernel for L2 {
    #[inline(always)]
    fn step(acc: f32, x: f32, q: f32) -> f32 {
        let d = x - q;
        acc + d * d
    }

    fn finish(&self, acc: f32, _: f32) -> f64 {
        (acc as f64).sqrt()
    }
}
