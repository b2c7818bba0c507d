//! In-memory backend: sorted maps under one lock. Same semantics as sled
//! (atomic commits, `must_be_absent`, counters), nothing survives the process.

use crate::counters::Counters;
use crate::{
    bounds_empty, meta_keys, Check, KvIter, KvPair, Space, Storage, StorageError, Write,
    FORMAT_VERSION,
};
use parking_lot::RwLock;
use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

type Spaces = BTreeMap<Space, BTreeMap<Vec<u8>, Vec<u8>>>;

pub struct MemoryStorage {
    data: Arc<RwLock<Spaces>>,
    counters: Counters,
}

impl Default for MemoryStorage {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStorage {
    pub fn new() -> MemoryStorage {
        let mut spaces = Spaces::new();
        spaces.entry(Space::Meta).or_default().insert(
            meta_keys::FORMAT_VERSION.to_vec(),
            FORMAT_VERSION.to_be_bytes().to_vec(),
        );
        MemoryStorage {
            data: Arc::new(RwLock::new(spaces)),
            counters: Counters::default(),
        }
    }
}

impl Storage for MemoryStorage {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .data
            .read()
            .get(&space)
            .and_then(|m| m.get(key))
            .cloned())
    }

    fn scan(
        &self,
        space: Space,
        start: Bound<Vec<u8>>,
        end: Bound<Vec<u8>>,
        reverse: bool,
    ) -> Result<KvIter<'_>, StorageError> {
        if bounds_empty(&start, &end) {
            return Ok(Box::new(std::iter::empty()));
        }
        Ok(Box::new(ChunkedScan {
            data: &self.data,
            space,
            start,
            end,
            reverse,
            buf: VecDeque::new(),
            done: false,
        }))
    }

    fn commit_checked(&self, writes: Vec<Write>, checks: Vec<Check>) -> Result<(), StorageError> {
        let mut data = self.data.write();
        // Check every precondition before touching anything: all or nothing.
        for c in &checks {
            if data.get(&c.space).and_then(|m| m.get(&c.key)) != c.expected.as_ref() {
                return Err(StorageError::WriteConflict {
                    space: c.space,
                    key: c.key.clone(),
                });
            }
        }
        for w in writes.iter().filter(|w| w.must_be_absent) {
            if data.get(&w.space).is_some_and(|m| m.contains_key(&w.key)) {
                return Err(StorageError::KeyExists {
                    space: w.space,
                    key: w.key.clone(),
                });
            }
        }
        for w in writes {
            let map = data.entry(w.space).or_default();
            match w.value {
                Some(v) => {
                    map.insert(w.key, v);
                }
                None => {
                    map.remove(&w.key);
                }
            }
        }
        Ok(())
    }

    fn allocate_ids(&self, counter: &[u8], n: u64) -> Result<u64, StorageError> {
        self.counters.allocate(self, counter, n)
    }

    fn rebase_ids(&self, counter: &[u8], used: u64) -> Result<(), StorageError> {
        self.counters.rebase(self, counter, used)
    }

    fn drop_space(&self, space: Space) -> Result<(), StorageError> {
        if space == Space::Meta {
            return Err(StorageError::Misuse(
                "the meta space cannot be dropped".into(),
            ));
        }
        self.data.write().remove(&space);
        Ok(())
    }

    fn flush(&self) -> Result<(), StorageError> {
        self.counters.persist_exact(self)
    }
}

/// Scans in chunks, taking the lock once per chunk, so a long scan neither
/// copies the whole range up front nor blocks committers while it runs.
struct ChunkedScan<'a> {
    data: &'a RwLock<Spaces>,
    space: Space,
    /// Remaining range: shrinks from the front (ascending) or back (reverse).
    start: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    reverse: bool,
    buf: VecDeque<KvPair>,
    done: bool,
}

const CHUNK: usize = 256;

impl ChunkedScan<'_> {
    fn refill(&mut self) {
        if bounds_empty(&self.start, &self.end) {
            self.done = true;
            return;
        }
        let data = self.data.read();
        let Some(map) = data.get(&self.space) else {
            self.done = true;
            return;
        };
        let range = map.range::<Vec<u8>, _>((self.start.clone(), self.end.clone()));
        let chunk: Vec<KvPair> = if self.reverse {
            range
                .rev()
                .take(CHUNK)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        } else {
            range
                .take(CHUNK)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        if chunk.len() < CHUNK {
            self.done = true;
        }
        if let Some((last, _)) = chunk.last() {
            if self.reverse {
                self.end = Bound::Excluded(last.clone());
            } else {
                self.start = Bound::Excluded(last.clone());
            }
        }
        self.buf.extend(chunk);
    }
}

impl Iterator for ChunkedScan<'_> {
    type Item = Result<KvPair, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() && !self.done {
            self.refill();
        }
        self.buf.pop_front().map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(it: KvIter<'_>) -> Vec<Vec<u8>> {
        it.map(|r| r.unwrap().0).collect()
    }

    #[test]
    fn chunked_scan_sees_every_key_in_order() {
        let s = MemoryStorage::new();
        let t = Space::Table(1);
        let writes: Vec<Write> = (0u32..1000)
            .map(|i| Write::put(t, i.to_be_bytes().to_vec(), vec![]))
            .collect();
        s.commit(writes).unwrap();
        let fwd = keys(
            s.scan(t, Bound::Unbounded, Bound::Unbounded, false)
                .unwrap(),
        );
        assert_eq!(fwd.len(), 1000);
        assert!(fwd.windows(2).all(|w| w[0] < w[1]));
        let rev = keys(
            s.scan(
                t,
                Bound::Included(10u32.to_be_bytes().to_vec()),
                Bound::Excluded(600u32.to_be_bytes().to_vec()),
                true,
            )
            .unwrap(),
        );
        assert_eq!(rev.len(), 590);
        assert_eq!(rev[0], 599u32.to_be_bytes().to_vec());
        assert_eq!(rev[589], 10u32.to_be_bytes().to_vec());
    }

    #[test]
    fn must_be_absent_fails_the_whole_commit() {
        let s = MemoryStorage::new();
        let t = Space::Table(1);
        s.commit(vec![Write::put(t, b"a".to_vec(), b"1".to_vec())])
            .unwrap();
        let mut dup = Write::put(t, b"a".to_vec(), b"2".to_vec());
        dup.must_be_absent = true;
        let err = s
            .commit(vec![Write::put(t, b"b".to_vec(), b"x".to_vec()), dup])
            .unwrap_err();
        assert!(matches!(err, StorageError::KeyExists { .. }));
        assert_eq!(s.get(t, b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(s.get(t, b"b").unwrap(), None);
    }
}
