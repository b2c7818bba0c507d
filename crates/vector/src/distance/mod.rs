//! Distance functions with TiDB's exact results.
//!
//! Every result equals, bit for bit, what TiDB computes on amd64: float32
//! accumulation in index order for L1, L2, cosine and inner product, float64
//! for the L2 norm (see each metric's file). The batch form
//! ([`Metric::distances`]) gets its speed from running eight rows per SIMD
//! register instead of reordering the sums (see `block.rs`), so the exact
//! scan and the SQL functions always agree.
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

use crate::VectorError;

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
    /// (one slot per row, `rows.rows()` of them; `None` is NULL). Identical
    /// to calling [`Metric::distance`] per row, several times faster.
    pub fn distances(
        self,
        query: &[f32],
        rows: Matrix<'_>,
        out: &mut [Option<f64>],
    ) -> Result<(), VectorError> {
        if rows.dim() != query.len() {
            return Err(VectorError::DifferentDimensions(rows.dim(), query.len()));
        }
        let mut raw = vec![0f64; rows.rows()];
        self.distances_raw(query, rows.data(), &mut raw);
        for (o, d) in out.iter_mut().zip(raw) {
            *o = null_if_nan(d);
        }
        Ok(())
    }

    /// The scan's inner loop: distances to the first `out.len()` rows of
    /// `data` (rows of `query.len()` floats), NaN standing for NULL. `data`
    /// may go on past those rows; the kernel reads ahead into it.
    pub(crate) fn distances_raw(self, query: &[f32], data: &[f32], out: &mut [f64]) {
        match self {
            Metric::L1 => block::rows(&l1::L1, query, data, out),
            Metric::L2 => block::rows(&l2::L2, query, data, out),
            Metric::Cosine => block::rows(&cosine::Cosine::new(query), query, data, out),
            Metric::NegativeInnerProduct => {
                block::rows(&inner_product::NegativeInnerProduct, query, data, out)
            }
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

/// A read-only row-major matrix: `rows` vectors of `dim` float32 each,
/// stored back to back (how the exact scan wants its input).
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a> {
    data: &'a [f32],
    dim: usize,
    rows: usize,
}

impl<'a> Matrix<'a> {
    /// `None` unless `data.len() == rows * dim`. The row count is explicit
    /// because a matrix of 0-dimensional vectors still has rows.
    pub fn new(data: &'a [f32], dim: usize, rows: usize) -> Option<Self> {
        (dim.checked_mul(rows) == Some(data.len())).then_some(Matrix { data, dim, rows })
    }

    pub fn data(&self) -> &'a [f32] {
        self.data
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn row(&self, i: usize) -> &'a [f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Rows `start..end` as a matrix of their own.
    pub fn slice(&self, start: usize, end: usize) -> Matrix<'a> {
        Matrix {
            data: &self.data[start * self.dim..end * self.dim],
            dim: self.dim,
            rows: end - start,
        }
    }
}

#[cfg(test)]
mod tests;
