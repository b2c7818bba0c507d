//! `VEC_L2_NORM(v)` = √Σvᵢ². Unlike the distances, TiDB (following
//! pgvector) accumulates this one in float64; each square of a float32 is
//! exact in float64, so only the additions round.

/// `None` stands for SQL NULL (a NaN result); finite vectors never give one.
pub fn l2_norm(v: &[f32]) -> Option<f64> {
    let mut norm = 0f64;
    for &x in v {
        norm += x as f64 * x as f64;
    }
    let norm = norm.sqrt();
    (!norm.is_nan()).then_some(norm)
}
