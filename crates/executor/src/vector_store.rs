//! Committed vector columns kept in memory, one contiguous matrix per
//! `(table, column)`, so `ORDER BY VEC_*_DISTANCE(col, q) LIMIT k` reads
//! `rows × dim` floats front to back instead of decoding every row.
//!
//! A column is loaded from storage the first time a query ranks by it and
//! then follows every commit: [`VectorStores::apply_commit`] re-reads the
//! committed value of each row key a transaction wrote. Re-reading (rather
//! than replaying the transaction's own writes) makes the order in which
//! concurrent commits reach the store irrelevant: whichever applies last
//! sees the latest committed value. A load holds the column's write lock,
//! so commits that land while it scans are re-read after it.
//!
//! Only committed data lives here; a query overlays its own transaction's
//! uncommitted rows (see `crate::topk`). An entry remembers the
//! [`TableDef`] it decodes rows with; after DDL changes the table's columns,
//! the next query loads a fresh entry (adding an index keeps it).

use crate::exec::pad_row;
use parking_lot::{
    MappedRwLockReadGuard, Mutex, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tiembed_storage::{table as tbl, Space, Storage, Transaction};
use tiembed_types::{DataType, Result, TableDef, Value};
use tiembed_vector::Tiles;

/// Row key of a table (opaque, memcomparable).
pub type RowKey = Vec<u8>;

/// The vectors of one column of one table, as committed.
#[derive(Debug, Default)]
pub struct VectorColumn {
    /// Slot -> vector.
    tiles: Tiles,
    /// Slot -> row key.
    keys: Vec<RowKey>,
    /// Row key -> slot.
    slots: HashMap<RowKey, usize>,
    /// Rows whose value is NULL (their distance is NULL: they rank first).
    nulls: BTreeSet<RowKey>,
}

impl VectorColumn {
    fn new(dim: usize) -> VectorColumn {
        VectorColumn {
            tiles: Tiles::new(dim),
            ..VectorColumn::default()
        }
    }

    pub fn dim(&self) -> usize {
        self.tiles.dim()
    }

    /// The vectors, by slot.
    pub fn tiles(&self) -> &Tiles {
        &self.tiles
    }

    pub fn key(&self, slot: usize) -> &RowKey {
        &self.keys[slot]
    }

    pub fn null_keys(&self) -> &BTreeSet<RowKey> {
        &self.nulls
    }

    /// Rows with a vector plus rows with NULL.
    pub fn len(&self) -> usize {
        self.keys.len() + self.nulls.len()
    }

    /// Records the row's current value (`None`: the row does not exist).
    fn set(&mut self, key: &[u8], value: Option<&Value>) {
        self.remove(key);
        match value {
            Some(Value::Vector(v)) if v.len() == self.dim() => {
                self.slots.insert(key.to_vec(), self.keys.len());
                self.keys.push(key.to_vec());
                self.tiles.push(v);
            }
            Some(_) => {
                self.nulls.insert(key.to_vec());
            }
            None => {}
        }
    }

    /// Forgets the row; the last slot moves into its place.
    fn remove(&mut self, key: &[u8]) {
        self.nulls.remove(key);
        let Some(slot) = self.slots.remove(key) else {
            return;
        };
        let last = self.keys.len() - 1;
        if slot != last {
            let moved = self.keys[last].clone();
            self.slots.insert(moved.clone(), slot);
            self.keys[slot] = moved;
        }
        self.keys.pop();
        self.tiles.swap_remove(slot);
    }
}

struct Entry {
    table: Arc<TableDef>,
    column: usize,
    /// `None` until loaded, and again after an apply failed.
    data: RwLock<Option<VectorColumn>>,
}

/// Every loaded vector column of the engine.
#[derive(Default)]
pub struct VectorStores {
    entries: Mutex<HashMap<(u64, usize), Arc<Entry>>>,
}

/// A loaded column, read-locked: commits wait while a query scans it.
pub struct ColumnRead {
    entry: Arc<Entry>,
}

impl ColumnRead {
    /// `None` if a failed refresh unloaded the column meanwhile.
    pub fn get(&self) -> Option<MappedRwLockReadGuard<'_, VectorColumn>> {
        RwLockReadGuard::try_map(self.entry.data.read(), Option::as_ref).ok()
    }
}

impl VectorStores {
    /// The committed vectors of `table.columns[column]`, loading them on
    /// first use. `None` when the column is not a fixed-dimension VECTOR.
    pub fn column(
        &self,
        storage: &Arc<dyn Storage>,
        table: &Arc<TableDef>,
        column: usize,
    ) -> Result<Option<ColumnRead>> {
        let Some(DataType::Vector(Some(dim))) = table.columns.get(column).map(|c| &c.data_type)
        else {
            return Ok(None);
        };
        let entry = {
            let mut entries = self.entries.lock();
            let current = entries
                .get(&(table.id, column))
                .filter(|e| e.table.columns == table.columns)
                .cloned();
            current.unwrap_or_else(|| {
                let e = Arc::new(Entry {
                    table: table.clone(),
                    column,
                    data: RwLock::new(None),
                });
                entries.insert((table.id, column), e.clone());
                e
            })
        };
        {
            let guard = entry.data.upgradable_read();
            if guard.is_none() {
                let mut w = RwLockUpgradableReadGuard::upgrade(guard);
                *w = Some(load(storage, &entry.table, column, *dim as usize)?);
            }
        }
        Ok(Some(ColumnRead { entry }))
    }

    /// The row keys `txn` writes to tables that have a loaded column; pass
    /// them to [`Self::apply_commit`] once the transaction has committed.
    pub fn touched_rows(&self, txn: &Transaction) -> Vec<(u64, Vec<RowKey>)> {
        let entries = self.entries.lock();
        if entries.is_empty() {
            return Vec::new();
        }
        let tables: BTreeSet<u64> = entries.keys().map(|(t, _)| *t).collect();
        drop(entries);
        txn.written_spaces()
            .filter_map(|s| match s {
                Space::Table(id) if tables.contains(&id) => Some(id),
                _ => None,
            })
            .map(|id| {
                let keys = txn
                    .buffered(Space::Table(id))
                    .filter(|(k, _)| tbl::is_row_key(k))
                    .map(|(k, _)| k.to_vec())
                    .collect();
                (id, keys)
            })
            .collect()
    }

    /// Brings loaded columns up to date with a commit: each touched row is
    /// re-read from storage. A failure unloads the column (the next query
    /// loads it again) instead of failing a commit that already happened.
    pub fn apply_commit(&self, storage: &dyn Storage, touched: Vec<(u64, Vec<RowKey>)>) {
        for (table_id, keys) in touched {
            let entries: Vec<Arc<Entry>> = self
                .entries
                .lock()
                .iter()
                .filter(|((t, _), _)| *t == table_id)
                .map(|(_, e)| e.clone())
                .collect();
            for entry in entries {
                let mut data = entry.data.write();
                let Some(column) = data.as_mut() else {
                    continue;
                };
                if let Err(e) = refresh(storage, &entry, column, &keys) {
                    tracing::warn!(table = %entry.table.name, error = %e,
                        "vector column unloaded after a failed refresh");
                    *data = None;
                }
            }
        }
    }

    /// Drops the columns of tables that no longer exist or changed shape.
    pub fn retain(&self, live: impl Fn(&TableDef) -> bool) {
        self.entries.lock().retain(|_, e| live(&e.table));
    }
}

fn load(
    storage: &Arc<dyn Storage>,
    table: &TableDef,
    column: usize,
    dim: usize,
) -> Result<VectorColumn> {
    let started = std::time::Instant::now();
    let txn = Transaction::new(storage.clone());
    let mut out = VectorColumn::new(dim);
    for item in tbl::scan_rows(&txn, table, false)? {
        let (key, row) = item?;
        let row = pad_row(table, row);
        out.set(&key, Some(&row[column]));
    }
    tracing::debug!(table = %table.name, rows = out.len(),
        ms = started.elapsed().as_millis() as u64, "vector column loaded");
    Ok(out)
}

fn refresh(
    storage: &dyn Storage,
    entry: &Entry,
    column: &mut VectorColumn,
    keys: &[RowKey],
) -> Result<()> {
    let space = tbl::space(&entry.table);
    for key in keys {
        let value = match storage.get(space, key)? {
            Some(bytes) => {
                let row = pad_row(&entry.table, tiembed_storage::codec::decode_row(&bytes)?);
                Some(row[entry.column].clone())
            }
            None => None,
        };
        column.set(key, value.as_ref());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: &[f32]) -> Value {
        Value::vector(x.to_vec())
    }

    #[test]
    fn set_and_remove_keep_slots_dense() {
        let mut c = VectorColumn::new(2);
        c.set(b"a", Some(&v(&[1.0, 2.0])));
        c.set(b"b", Some(&v(&[3.0, 4.0])));
        c.set(b"c", Some(&Value::Null));
        c.set(b"d", Some(&v(&[5.0, 6.0])));
        assert_eq!(c.len(), 4);
        c.set(b"a", None);
        assert_eq!(c.keys.len(), 2);
        assert_eq!(c.tiles.len(), 2);
        for (slot, key) in c.keys.iter().enumerate() {
            assert_eq!(c.slots[key], slot);
        }
        assert_eq!(c.tiles.row(c.slots[&b"d".to_vec()]), &[5.0, 6.0]);
        // a NULL becomes a vector and back
        c.set(b"c", Some(&v(&[7.0, 8.0])));
        assert!(c.nulls.is_empty());
        c.set(b"b", Some(&Value::Null));
        assert_eq!(c.nulls.len(), 1);
        assert_eq!(c.keys.len(), 2);
        assert_eq!(c.tiles.row(c.slots[&b"c".to_vec()]), &[7.0, 8.0]);
    }
}
