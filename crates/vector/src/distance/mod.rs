//! Distance functions with TiDB's exact results.
//!
//! Every result equals, bit for bit, what TiDB computes on amd64: float32
//! accumulation in index order for L1, L2, cosine and inner product, float64
//! for the L2 norm (see each metric's file). The batch form
//! ([`Metric::distances`], over [`Tiles`]) gets its speed from running one
//! row per SIMD lane instead of reordering the sums (see `block.rs`), so the
//! exact scan and the SQL functions always agree.
//!
//! NaN results (cosine against a zero vector, `inf - inf`) are SQL NULL and
//! come back as `None`; infinities are returned as they are.

mod block;
mod cosine;
mod inner_product;
mod l1;
mod l2;
mod l2_norm;

pub use l2_norm::l2_norm;

use crate::{Tiles, VectorError};

/// A distance function usable in `ORDER BY … LIMIT k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    L1,
    L2,
    Cosine,
    NegativeInnerProduct,
}

impl Metric {
    pub const ALL: [Metric; 4] = [
        Metric::L1,
        Metric::L2,
        Metric::Cosine,
        Metric::NegativeInnerProduct,
    ];

    /// The SQL function name, upper case.
    pub fn function_name(self) -> &'static str {
        match self {
            Metric::L1 => "VEC_L1_DISTANCE",
            Metric::L2 => "VEC_L2_DISTANCE",
            Metric::Cosine => "VEC_COSINE_DISTANCE",
            Metric::NegativeInnerProduct => "VEC_NEGATIVE_INNER_PRODUCT",
        }
    }

    /// The metric of a SQL function name, any case.
    pub fn from_function_name(name: &str) -> Option<Metric> {
        Metric::ALL
            .into_iter()
            .find(|m| m.function_name().eq_ignore_ascii_case(name))
    }

    /// The index metric, for the two metrics a vector index supports.
    pub fn index_metric(self) -> Option<tiembed_types::VectorMetric> {
        match self {
            Metric::Cosine => Some(tiembed_types::VectorMetric::Cosine),
            Metric::L2 => Some(tiembed_types::VectorMetric::L2),
            _ => None,
        }
    }

    /// `VEC_*_DISTANCE(a, b)` for two non-NULL vectors; `Ok(None)` is a
    /// NULL result.
    pub fn distance(self, a: &[f32], b: &[f32]) -> Result<Option<f64>, VectorError> {
        same_dimensions(a, b)?;
        let d = match self {
            Metric::L1 => block::pair(&l1::L1, a, b),
            Metric::L2 => block::pair(&l2::L2, a, b),
            Metric::Cosine => block::pair(&cosine::Cosine::new(b), a, b),
            Metric::NegativeInnerProduct => block::pair(&inner_product::NegativeInnerProduct, a, b),
        };
        Ok(null_if_nan(d))
    }

    /// `VEC_*_DISTANCE(row, query)` for every row of `rows`, into `out`
    /// (one slot per row, `rows.len()` of them; `None` is NULL). Identical
    /// to calling [`Metric::distance`] per row, several times faster.
    pub fn distances(
        self,
        query: &[f32],
        rows: &Tiles,
        out: &mut [Option<f64>],
    ) -> Result<(), VectorError> {
        if rows.dim() != query.len() {
            return Err(VectorError::DifferentDimensions(rows.dim(), query.len()));
        }
        let mut raw = vec![0f64; rows.len()];
        self.distances_raw(query, rows, 0, &mut raw);
        for (o, d) in out.iter_mut().zip(raw) {
            *o = null_if_nan(d);
        }
        Ok(())
    }

    /// The scan's inner loop: distances to rows `first_tile * TILE_ROWS..`
    /// of `rows`, one per slot of `out`, NaN standing for NULL.
    pub(crate) fn distances_raw(
        self,
        query: &[f32],
        rows: &Tiles,
        first_tile: usize,
        out: &mut [f64],
    ) {
        match self {
            Metric::L1 => block::tiles(&l1::L1, query, rows, first_tile, out),
            Metric::L2 => block::tiles(&l2::L2, query, rows, first_tile, out),
            Metric::Cosine => {
                block::tiles(&cosine::Cosine::new(query), query, rows, first_tile, out)
            }
            Metric::NegativeInnerProduct => block::tiles(
                &inner_product::NegativeInnerProduct,
                query,
                rows,
                first_tile,
                out,
            ),
        }
    }
}

impl From<tiembed_types::VectorMetric> for Metric {
    fn from(m: tiembed_types::VectorMetric) -> Self {
        match m {
            tiembed_types::VectorMetric::Cosine => Metric::Cosine,
            tiembed_types::VectorMetric::L2 => Metric::L2,
        }
    }
}

/// `vectors have different dimensions: <a> and <b>`.
pub fn same_dimensions(a: &[f32], b: &[f32]) -> Result<(), VectorError> {
    if a.len() != b.len() {
        return Err(VectorError::DifferentDimensions(a.len(), b.len()));
    }
    Ok(())
}

fn null_if_nan(d: f64) -> Option<f64> {
    (!d.is_nan()).then_some(d)
}

#[cfg(test)]
mod tests;
