//! [`Tiles`]: a column of vectors laid out for the exact scan.
//!
//! Rows are grouped in tiles of [`TILE_ROWS`]; inside a tile the floats are
//! stored dimension-major (`tile[d * TILE_ROWS + r]` is element `d` of the
//! tile's row `r`). The scan then reads one straight stream, front to back,
//! and every load fills a SIMD register with the same dimension of
//! consecutive rows: one lane per row, no transposes, and each lane runs
//! TiDB's sequential float32 sum for its own row (see `distance/block.rs`).
//! Row-major storage needed a transpose per four dimensions and sixteen
//! interleaved streams that defeat the hardware prefetchers.
//!
//! Each row's Σx² (summed in index order, as TiDB sums it) is kept beside
//! the tiles, so a cosine scan only computes the dot product.

/// Rows per tile: 32 float32 lanes = one AVX-512 pair or four AVX registers
/// per dimension, enough independent add chains to hide their latency.
pub const TILE_ROWS: usize = 32;

/// Vectors of one dimension in tiles, plus their squared norms.
#[derive(Debug, Clone, Default)]
pub struct Tiles {
    dim: usize,
    rows: usize,
    /// Whole tiles back to back; lanes past `rows` in the last one are 0.
    data: Vec<f32>,
    /// Σx² per row, float32 in index order.
    squared_norms: Vec<f32>,
}

impl Tiles {
    pub fn new(dim: usize) -> Tiles {
        Tiles {
            dim,
            ..Tiles::default()
        }
    }

    /// Row-major `data` (`dim` floats per row); `None` if it does not
    /// divide into rows. A 0-dimensional matrix needs its row count, so it
    /// gets none here (use [`Tiles::push`]).
    pub fn from_rows(dim: usize, data: &[f32]) -> Option<Tiles> {
        if dim == 0 || !data.len().is_multiple_of(dim) {
            return None;
        }
        let mut tiles = Tiles::new(dim);
        tiles.reserve(data.len() / dim);
        for row in data.chunks_exact(dim) {
            tiles.push(row);
        }
        Some(tiles)
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub fn reserve(&mut self, rows: usize) {
        let tiles = (self.rows + rows).div_ceil(TILE_ROWS);
        self.data
            .reserve((tiles * self.tile_len()).saturating_sub(self.data.len()));
        self.squared_norms.reserve(rows);
    }

    /// Appends a row.
    ///
    /// # Panics
    /// If `row.len() != self.dim()`.
    pub fn push(&mut self, row: &[f32]) {
        assert_eq!(row.len(), self.dim, "row of the wrong dimension");
        if self.rows.is_multiple_of(TILE_ROWS) {
            self.data.resize(self.data.len() + self.tile_len(), 0.0);
        }
        self.rows += 1;
        self.squared_norms.push(0.0);
        self.write(self.rows - 1, row);
    }

    /// A copy of row `i`.
    pub fn row(&self, i: usize) -> Vec<f32> {
        assert!(i < self.rows, "row {i} of {}", self.rows);
        let (tile, lane) = self.place(i);
        tile.iter().skip(lane).step_by(TILE_ROWS).copied().collect()
    }

    /// Removes row `i`; the last row takes its place.
    pub fn swap_remove(&mut self, i: usize) {
        let last = self.rows - 1;
        if i != last {
            let moved = self.row(last);
            self.write(i, &moved);
        }
        self.write(last, &vec![0.0; self.dim]);
        self.rows -= 1;
        self.squared_norms.pop();
        self.data
            .truncate(self.rows.div_ceil(TILE_ROWS) * self.tile_len());
    }

    pub fn clear(&mut self) {
        self.rows = 0;
        self.data.clear();
        self.squared_norms.clear();
    }

    /// Floats per tile.
    pub(crate) fn tile_len(&self) -> usize {
        self.dim * TILE_ROWS
    }

    /// Tiles `first..` (each `tile_len()` floats).
    pub(crate) fn tiles_from(&self, first: usize) -> &[f32] {
        &self.data[(first * self.tile_len()).min(self.data.len())..]
    }

    /// Σx² of every row.
    pub(crate) fn squared_norms(&self) -> &[f32] {
        &self.squared_norms
    }

    fn place(&self, i: usize) -> (&[f32], usize) {
        let t = i / TILE_ROWS * self.tile_len();
        (&self.data[t..t + self.tile_len()], i % TILE_ROWS)
    }

    fn write(&mut self, i: usize, row: &[f32]) {
        let (t, lane, len) = (
            i / TILE_ROWS * self.tile_len(),
            i % TILE_ROWS,
            self.tile_len(),
        );
        let tile = &mut self.data[t..t + len];
        for (slot, &x) in tile.iter_mut().skip(lane).step_by(TILE_ROWS).zip(row) {
            *slot = x;
        }
        self.squared_norms[i] = squared_norm(row);
    }
}

/// Σx² in float32, in index order: TiDB's cosine norm.
pub(crate) fn squared_norm(row: &[f32]) -> f32 {
    row.iter().fold(0f32, |acc, &x| acc + x * x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_tiles() {
        let dim = 3;
        let data: Vec<f32> = (0..(TILE_ROWS * 2 + 5) * dim).map(|x| x as f32).collect();
        let mut t = Tiles::from_rows(dim, &data).unwrap();
        assert_eq!(t.len(), TILE_ROWS * 2 + 5);
        for (i, row) in data.chunks_exact(dim).enumerate() {
            assert_eq!(t.row(i), row);
            assert_eq!(t.squared_norms()[i], squared_norm(row));
        }
        // Remove down to one tile: the last row fills each hole.
        while t.len() > 1 {
            let last = t.row(t.len() - 1);
            t.swap_remove(0);
            if !t.is_empty() {
                assert_eq!(t.row(0), last);
            }
            assert_eq!(t.data.len(), t.len().div_ceil(TILE_ROWS) * t.tile_len());
        }
        t.swap_remove(0);
        assert!(t.is_empty() && t.data.is_empty());
        assert!(Tiles::from_rows(2, &[1.0, 2.0, 3.0]).is_none());
    }

    #[test]
    fn zero_dimensional_rows_still_count() {
        let mut t = Tiles::new(0);
        t.push(&[]);
        t.push(&[]);
        assert_eq!(t.len(), 2);
        assert_eq!(t.row(1), Vec::<f32>::new());
    }
}
