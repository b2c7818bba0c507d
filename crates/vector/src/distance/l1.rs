//! `VEC_L1_DISTANCE(a, b)` = Σ|aᵢ−bᵢ|, summed in float32.

use super::block::Kernel;

pub(crate) struct L1;

impl Kernel for L1 {
    #[inline(always)]
    fn step(acc: f32, x: f32, q: f32) -> f32 {
        // TiDB negates when `diff < 0`; clearing the sign bit instead only
        // differs for -0.0, and adding -0.0 or +0.0 gives the same sum.
        acc + (x - q).abs()
    }

    fn finish(&self, acc: f32, _: f32) -> f64 {
        acc as f64
    }
}
