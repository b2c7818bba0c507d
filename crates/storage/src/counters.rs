//! Durable id counters (AUTO_INCREMENT, hidden row ids) shared by all
//! sessions of one backend.
//!
//! Ids are handed out from memory; the meta key stores a durable upper
//! bound ("every id below this may be in use"). When the reserved block
//! runs out, a new bound `next + BLOCK` is committed before any id of the
//! block is handed out, so a crash can skip ids but never repeat one. A
//! clean shutdown stores the exact next id, so a restart continues without
//! a gap, as MySQL 8 does.

use crate::{Space, Storage, StorageError, Write};
use parking_lot::Mutex;
use std::collections::HashMap;

/// Ids reserved per durable counter write: one extra fsync per BLOCK
/// allocations, at most BLOCK ids skipped after a crash.
const BLOCK: u128 = 1000;

#[derive(Default)]
pub(crate) struct Counters {
    state: Mutex<HashMap<Vec<u8>, Counter>>,
}

struct Counter {
    /// Next id to hand out.
    next: u128,
    /// Durable bound: ids >= limit have never been handed out.
    limit: u128,
}

impl Counters {
    pub fn allocate(&self, storage: &dyn Storage, key: &[u8], n: u64) -> Result<u64, StorageError> {
        if n == 0 {
            return Err(StorageError::Misuse("allocate_ids needs n >= 1".into()));
        }
        let mut state = self.state.lock();
        let c = load(&mut state, storage, key)?;
        let first = c.next;
        let end = first + n as u128; // exclusive
        if end - 1 > u64::MAX as u128 {
            return Err(StorageError::CounterExhausted);
        }
        if end > c.limit {
            let limit = end + BLOCK;
            persist(storage, key, limit)?;
            c.limit = limit;
        }
        c.next = end;
        Ok(first as u64)
    }

    pub fn rebase(&self, storage: &dyn Storage, key: &[u8], used: u64) -> Result<(), StorageError> {
        let mut state = self.state.lock();
        let c = load(&mut state, storage, key)?;
        let next = used as u128 + 1;
        if next <= c.next {
            return Ok(());
        }
        if next > c.limit {
            let limit = next + BLOCK;
            persist(storage, key, limit)?;
            c.limit = limit;
        }
        c.next = next;
        Ok(())
    }

    /// Stores every counter's exact next id and gives up the reservations
    /// (shutdown), so a restart continues without a gap.
    pub fn persist_exact(&self, storage: &dyn Storage) -> Result<(), StorageError> {
        let mut state = self.state.lock();
        let writes: Vec<Write> = state
            .iter()
            .filter(|(_, c)| c.limit != c.next)
            .map(|(k, c)| Write::put(Space::Meta, k.clone(), c.next.to_be_bytes().to_vec()))
            .collect();
        if writes.is_empty() {
            return Ok(());
        }
        storage.commit(writes)?;
        for c in state.values_mut() {
            c.limit = c.next;
        }
        Ok(())
    }
}

fn load<'a>(
    state: &'a mut HashMap<Vec<u8>, Counter>,
    storage: &dyn Storage,
    key: &[u8],
) -> Result<&'a mut Counter, StorageError> {
    if !state.contains_key(key) {
        let stored = match storage.get(Space::Meta, key)? {
            None => 1,
            Some(b) => {
                let arr: [u8; 16] = b.as_slice().try_into().map_err(|_| StorageError::Corrupt {
                    what: "id counter",
                    detail: format!("{} bytes under {}", b.len(), String::from_utf8_lossy(key)),
                })?;
                u128::from_be_bytes(arr).max(1)
            }
        };
        state.insert(
            key.to_vec(),
            Counter {
                next: stored,
                limit: stored,
            },
        );
    }
    // Just inserted or present.
    state
        .get_mut(key)
        .ok_or_else(|| StorageError::Misuse("counter vanished".into()))
}

fn persist(storage: &dyn Storage, key: &[u8], limit: u128) -> Result<(), StorageError> {
    storage.commit(vec![Write::put(
        Space::Meta,
        key.to_vec(),
        limit.to_be_bytes().to_vec(),
    )])
}
