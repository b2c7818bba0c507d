//! Bulk insertion on several threads (building an index over an existing
//! table, or rebuilding one whose saved file was stale).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::{AnnError, Result};
use crate::index::AnnIndex;

/// Rows a worker claims at a time: large enough that the shared cursor is
/// not contended, small enough that threads finish together.
const CHUNK: usize = 256;

impl AnnIndex {
    /// Adds `keys[i]` -> `vectors[i * dim .. (i + 1) * dim]` for every `i` on
    /// `threads` threads (0 = one per core), calling `progress(rows_done)`
    /// now and then from the worker threads and once at the end. Feed a large
    /// table in batches of, say, 100k rows to bound the flat buffer.
    ///
    /// Stops at the first error and returns it; rows added before that stay
    /// in the index.
    pub fn add_parallel(
        &self,
        keys: &[u64],
        vectors: &[f32],
        threads: usize,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<()> {
        if vectors.len() != keys.len() * self.dim() {
            return Err(AnnError::Dimension {
                expected: keys.len() * self.dim(),
                got: vectors.len(),
            });
        }
        self.reserve(self.len() + keys.len())?;
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
        .clamp(1, keys.len().div_ceil(CHUNK).max(1));

        let cursor = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let failed: Mutex<Option<AnnError>> = Mutex::new(None);
        let report_every = (keys.len() / 100).max(CHUNK);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let start = cursor.fetch_add(CHUNK, Ordering::Relaxed);
                    if start >= keys.len() {
                        return;
                    }
                    let end = (start + CHUNK).min(keys.len());
                    for i in start..end {
                        let v = &vectors[i * self.dim()..(i + 1) * self.dim()];
                        if let Err(e) = self.add(keys[i], v) {
                            failed
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .get_or_insert(e);
                            // Make every worker stop at its next claim.
                            cursor.store(keys.len(), Ordering::Relaxed);
                            return;
                        }
                    }
                    let before = done.fetch_add(end - start, Ordering::Relaxed);
                    if (before + end - start) / report_every != before / report_every {
                        progress(before + end - start);
                    }
                });
            }
        });
        match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => {
                progress(keys.len());
                Ok(())
            }
        }
    }
}
