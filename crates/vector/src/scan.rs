//! The exact-scan path of `VectorTopK`: every row of a [`Tiles`] column
//! against one query, through the batch kernels into a bounded heap.
//!
//! The column is read once, front to back, in chunks small enough for the
//! distances to stay in L1; rows that cannot enter the heap cost one
//! comparison. Large matrices are split into contiguous row ranges, one per
//! thread, and the per-thread winners merged in range order, so ties still
//! go to the lower row number and the answer does not depend on the thread
//! count.

use crate::distance::{same_dimensions, Metric};
use crate::tiles::TILE_ROWS;
use crate::topk::{Direction, TopK};
use crate::{Tiles, VectorError};

/// Rows whose distances are computed per batch (whole tiles).
const CHUNK_ROWS: usize = 16 * TILE_ROWS;
/// Below this many float32 (16 MiB) one thread is faster than spawning.
const PARALLEL_MIN_ELEMENTS: usize = 4 << 20;

/// The `limit` rows nearest to `query` after skipping `offset`, best first,
/// as `(distance, row index)`; NULL distances (cosine against a zero
/// vector) sort first, as in MySQL. Uses all cores on large inputs.
pub fn top_k_scan(
    metric: Metric,
    query: &[f32],
    rows: &Tiles,
    limit: usize,
    offset: usize,
) -> Result<Vec<(Option<f64>, usize)>, VectorError> {
    let threads = if rows.len() * rows.dim() >= PARALLEL_MIN_ELEMENTS {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        1
    };
    top_k_scan_threads(metric, query, rows, limit, offset, threads)
}

/// [`top_k_scan`] on exactly `threads` threads (at least one).
pub fn top_k_scan_threads(
    metric: Metric,
    query: &[f32],
    rows: &Tiles,
    limit: usize,
    offset: usize,
    threads: usize,
) -> Result<Vec<(Option<f64>, usize)>, VectorError> {
    if rows.dim() != query.len() {
        return Err(VectorError::DifferentDimensions(rows.dim(), query.len()));
    }
    let keep = if limit == 0 {
        0
    } else {
        limit.saturating_add(offset)
    };
    let tiles = rows.len().div_ceil(TILE_ROWS);
    let threads = threads.clamp(1, rows.len().div_ceil(CHUNK_ROWS).max(1));
    if threads == 1 {
        let mut top = TopK::new(limit, offset);
        scan_range(metric, query, rows, 0..tiles, &mut top);
        return Ok(top.into_sorted());
    }
    let per_thread = tiles.div_ceil(threads);
    let range = |t: usize| (t * per_thread).min(tiles)..((t + 1) * per_thread).min(tiles);
    let scan = |t: usize| {
        let mut top = TopK::new(keep, 0);
        scan_range(metric, query, rows, range(t), &mut top);
        top.into_sorted()
    };
    // The calling thread takes the first range: one thread fewer to start.
    let partial: Vec<Vec<(Option<f64>, usize)>> = std::thread::scope(|s| {
        let others: Vec<_> = (1..threads).map(|t| s.spawn(move || scan(t))).collect();
        let mut partial = vec![scan(0)];
        for h in others {
            partial.push(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        }
        partial
    });
    // Range order, each range best first: among equal distances the lower
    // row is offered first and so wins, as in the single-threaded scan.
    let mut top = TopK::new(limit, offset);
    for (d, row) in partial.into_iter().flatten() {
        top.push(d, row);
    }
    Ok(top.into_sorted())
}

/// Offers the rows of `tiles` (a range of tile numbers) to `top` in order;
/// dimensions were checked by the caller.
fn scan_range(
    metric: Metric,
    query: &[f32],
    rows: &Tiles,
    tiles: std::ops::Range<usize>,
    top: &mut TopK<usize>,
) {
    let end_row = (tiles.end * TILE_ROWS).min(rows.len());
    let mut buf = vec![0f64; CHUNK_ROWS];
    let mut start = tiles.start * TILE_ROWS;
    while start < end_row {
        let end = (start + CHUNK_ROWS).min(end_row);
        let out = &mut buf[..end - start];
        metric.distances_raw(query, rows, start / TILE_ROWS, out);
        let mut threshold = top.asc_threshold();
        for (i, &d) in out.iter().enumerate() {
            // `d >= threshold` is false for NaN (NULL), which always competes.
            if d >= threshold {
                continue;
            }
            top.push(Some(d), start + i);
            threshold = top.asc_threshold();
        }
        start = end;
    }
}

/// The same scan for rows that arrive one at a time (decoded from storage,
/// filtered by WHERE): vectors are copied into a small buffer and ranked in
/// batches through the SIMD kernels, so the executor gets the batch speed
/// without building the whole matrix. Results equal pushing
/// [`Metric::distance`] of every row into a [`TopK`].
pub struct TopKScanner<T> {
    metric: Metric,
    query: Vec<f32>,
    /// Pending rows; a NULL row is zeros.
    rows: Tiles,
    /// Per pending row: whether it is NULL, and its payload.
    pending: Vec<(bool, T)>,
    distances: Vec<f64>,
    top: TopK<T>,
}

impl<T> TopKScanner<T> {
    /// `ORDER BY metric(column, query) <direction> LIMIT limit OFFSET offset`.
    pub fn new(
        metric: Metric,
        query: Vec<f32>,
        limit: usize,
        offset: usize,
        direction: Direction,
    ) -> TopKScanner<T> {
        TopKScanner {
            metric,
            rows: Tiles::new(query.len()),
            query,
            pending: Vec::with_capacity(CHUNK_ROWS),
            distances: vec![0.0; CHUNK_ROWS],
            top: TopK::with_direction(limit, offset, direction),
        }
    }

    /// Offers one row; `None` is a NULL vector (a NULL distance). A vector
    /// of another dimension fails as TiDB fails the distance function,
    /// naming the row's dimension first.
    pub fn push(&mut self, vector: Option<&[f32]>, payload: T) -> Result<(), VectorError> {
        match vector {
            Some(v) => {
                same_dimensions(v, &self.query)?;
                self.rows.push(v);
            }
            None => self.rows.push(&vec![0.0; self.query.len()]),
        }
        self.pending.push((vector.is_none(), payload));
        if self.pending.len() == CHUNK_ROWS {
            self.flush();
        }
        Ok(())
    }

    fn flush(&mut self) {
        let out = &mut self.distances[..self.pending.len()];
        self.metric.distances_raw(&self.query, &self.rows, 0, out);
        for ((null, payload), &d) in self.pending.drain(..).zip(out.iter()) {
            self.top.push(if null { None } else { Some(d) }, payload);
        }
        self.rows.clear();
    }

    /// The winners, best first, after the offset.
    pub fn finish(mut self) -> Vec<(Option<f64>, T)> {
        self.flush();
        self.top.into_sorted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(rows: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut x = seed | 1;
        (0..rows * dim)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Few distinct values, so that ties happen.
                ((x >> 60) as f32) - 8.0
            })
            .collect()
    }

    fn brute(
        metric: Metric,
        q: &[f32],
        m: &Tiles,
        limit: usize,
        offset: usize,
    ) -> Vec<(Option<f64>, usize)> {
        let mut all: Vec<(Option<f64>, usize)> = (0..m.len())
            .map(|i| (metric.distance(&m.row(i), q).unwrap(), i))
            .collect();
        // Stable: equal distances stay in row order; NULL first.
        all.sort_by(|a, b| match (a.0, b.0) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap(),
        });
        all.into_iter().skip(offset).take(limit).collect()
    }

    #[test]
    fn scan_equals_brute_force_on_any_thread_count() {
        for (rows, dim) in [(0, 3), (1, 3), (37, 5), (1500, 12), (2100, 33), (1100, 1)] {
            let m = Tiles::from_rows(dim, &data(rows, dim, rows as u64 * 31 + dim as u64)).unwrap();
            let q = data(1, dim, 99);
            for metric in Metric::ALL {
                for (limit, offset) in [(10, 0), (5, 7), (0, 3), (rows + 5, 0)] {
                    let want = brute(metric, &q, &m, limit, offset);
                    for threads in [1, 2, 3] {
                        let got =
                            top_k_scan_threads(metric, &q, &m, limit, offset, threads).unwrap();
                        assert_eq!(got, want, "{metric:?} rows {rows} dim {dim} limit {limit} offset {offset} threads {threads}");
                    }
                }
            }
        }
    }

    #[test]
    fn zero_vectors_rank_first_under_cosine() {
        let mut d = data(40, 4, 7);
        d[20 * 4..21 * 4].fill(0.0);
        let m = Tiles::from_rows(4, &d).unwrap();
        let got = top_k_scan(Metric::Cosine, &[1.0, 2.0, 3.0, 4.0], &m, 3, 0).unwrap();
        assert_eq!(got[0], (None, 20));
    }

    #[test]
    fn streaming_scanner_equals_pairwise_topk() {
        for (rows, dim) in [(0, 3), (5, 0), (40, 7), (1300, 16)] {
            let d = data(rows, dim, 5 + rows as u64);
            let q = data(1, dim, 11);
            for metric in Metric::ALL {
                for direction in [Direction::Asc, Direction::Desc] {
                    let mut scanner = TopKScanner::new(metric, q.clone(), 7, 3, direction);
                    let mut want = TopK::with_direction(7, 3, direction);
                    for i in 0..rows {
                        // Every 9th row is NULL.
                        let v = (i % 9 != 4).then(|| &d[i * dim..(i + 1) * dim]);
                        scanner.push(v, i).unwrap();
                        let dist = v.and_then(|v| metric.distance(v, &q).unwrap());
                        want.push(dist, i);
                    }
                    let (got, want) = (scanner.finish(), want.into_sorted());
                    assert_eq!(got, want, "{metric:?} {direction:?} rows {rows} dim {dim}");
                }
            }
        }
        let mut s = TopKScanner::new(Metric::L2, vec![1.0, 2.0], 1, 0, Direction::Asc);
        let e = s.push(Some(&[1.0, 2.0, 3.0]), 0).unwrap_err();
        assert_eq!(e.to_string(), "vectors have different dimensions: 3 and 2");
    }

    #[test]
    fn dimension_mismatch_is_an_error() {
        let m = Tiles::from_rows(3, &[0.0; 6]).unwrap();
        let e = top_k_scan(Metric::L2, &[1.0, 2.0], &m, 1, 0).unwrap_err();
        assert_eq!(e.to_string(), "vectors have different dimensions: 3 and 2");
    }
}
