//! Rows and index entries of one table, in terms of its [`TableDef`].
//!
//! Key layout inside the table's keyspace ([`space`]):
//! - `r` + memcomparable primary key -> encoded row ([`crate::codec::row`]).
//!   A table without a PRIMARY KEY uses `r` + a hidden row id (u64 BE) from
//!   the table's durable row id counter.
//! - `i` + index id (u32 BE) + memcomparable index columns -> row key, for
//!   UNIQUE and plain indexes. The row key is appended to the entry's key
//!   for plain indexes and for UNIQUE entries holding a NULL (MySQL allows
//!   any number of those); a UNIQUE entry without NULLs is exactly the
//!   columns, so two rows with equal values collide on one key. Vector and
//!   fulltext indexes have no entries here.
//!
//! Strings are keyed by their collation weight, so `'A'` and `'a'` collide
//! in a `_ci` unique key, and lookups under `_ci` find both spellings.
//!
//! Rows passed in must have exactly one value per column of `table`. Rows
//! read back hold the values they were written with, which may be fewer
//! after `ALTER TABLE ADD COLUMN`: pad them with the new columns' defaults
//! before handing them back (to [`update_row`], [`delete_row`], ...).
//! DDL that changes existing rows (DROP/MODIFY COLUMN) rewrites them with
//! [`rewrite_row`]; ADD INDEX backfills with [`add_index_entry`]; DROP INDEX
//! calls [`drop_index_entries`]. TRUNCATE is best done as TiDB does it: a new
//! table id (fresh keyspace and counters) and [`Storage::drop_space`] of the old.

use crate::codec::{encode_row, encode_value, prefix_end, row::decode_row};
use crate::{meta_keys, Duplicate, Space, Storage, StorageError, Transaction};
use std::ops::Bound;
use tiembed_types::{Collation, IndexDef, IndexKind, TableDef, Value};

/// A row's key inside its table's keyspace (opaque to callers).
pub type RowKey = Vec<u8>;

/// Rows with their keys, in key (or index) order.
pub type RowIter<'a> =
    Box<dyn Iterator<Item = Result<(RowKey, Vec<Value>), StorageError>> + Send + 'a>;

const ROW_PREFIX: u8 = b'r';
const INDEX_PREFIX: u8 = b'i';

/// An existing row that collides with a candidate row (REPLACE, INSERT ...
/// ON DUPLICATE KEY UPDATE).
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// `PRIMARY` or the unique index's name.
    pub index: String,
    pub key: RowKey,
    /// The existing row's stored values.
    pub row: Vec<Value>,
}

/// The keyspace of a table's rows and index entries.
pub fn space(table: &TableDef) -> Space {
    Space::Table(table.id)
}

/// Inserts a row after checking the PRIMARY and UNIQUE keys against
/// committed and buffered data; returns its key. The commit re-checks them
/// against sessions that commit first. Error: `Duplicate entry '<v>' for key
/// '<table>.<index>'`. Tables without a primary key get a hidden row id.
pub fn insert_row(
    txn: &mut Transaction,
    table: &TableDef,
    row: &[Value],
) -> Result<RowKey, StorageError> {
    check_shape(table, row)?;
    let sp = space(table);
    let (key, pk_dup) = match table.primary_key() {
        Some(pk) => {
            let key = row_key(table, pk, row)?;
            let dup = duplicate(table, pk, row)?;
            if txn.get(sp, &key)?.is_some() {
                return Err(dup.into_error());
            }
            (key, Some(dup))
        }
        None => (hidden_row_key(txn.storage().as_ref(), table.id)?, None),
    };
    let entries = index_entries(table, row, &key)?;
    for e in entries.iter().filter(|e| e.unique) {
        if txn.get(sp, &e.key)?.is_some() {
            return Err(duplicate(table, e.index, row)?.into_error());
        }
    }
    match pk_dup {
        Some(dup) => txn.put_if_absent(sp, key.clone(), encode_row(row), dup)?,
        None => txn.put(sp, key.clone(), encode_row(row)),
    }
    for e in entries {
        write_entry(txn, table, sp, e, &key, row)?;
    }
    Ok(key)
}

/// Existing rows that `row` would collide with, by PRIMARY KEY first, then
/// UNIQUE indexes in definition order (MySQL's order), each row once.
pub fn find_conflicts(
    txn: &Transaction,
    table: &TableDef,
    row: &[Value],
) -> Result<Vec<Conflict>, StorageError> {
    check_shape(table, row)?;
    let sp = space(table);
    let mut out: Vec<Conflict> = Vec::new();
    let mut key_for_entries = Vec::new();
    if let Some(pk) = table.primary_key() {
        let key = row_key(table, pk, row)?;
        if let Some(bytes) = txn.get(sp, &key)? {
            out.push(Conflict {
                index: "PRIMARY".into(),
                key: key.clone(),
                row: decode_row(&bytes)?,
            });
        }
        key_for_entries = key;
    }
    for e in index_entries(table, row, &key_for_entries)?
        .into_iter()
        .filter(|e| e.unique)
    {
        let Some(existing) = txn.get(sp, &e.key)? else {
            continue;
        };
        if out.iter().any(|c| c.key == existing) {
            continue;
        }
        if let Some(bytes) = txn.get(sp, &existing)? {
            out.push(Conflict {
                index: e.index.name.clone(),
                key: existing,
                row: decode_row(&bytes)?,
            });
        }
    }
    Ok(out)
}

/// Deletes a row and its index entries. `row` is the row's current value
/// (padded to the table's columns). The commit fails with a write conflict
/// if another session changes or deletes the row first.
pub fn delete_row(
    txn: &mut Transaction,
    table: &TableDef,
    key: &[u8],
    row: &[Value],
) -> Result<(), StorageError> {
    check_shape(table, row)?;
    let sp = space(table);
    txn.expect_unchanged(sp, key)?;
    for e in index_entries(table, row, key)? {
        txn.delete(sp, e.key);
    }
    txn.delete(sp, key.to_vec());
    Ok(())
}

/// Replaces row `old_row` stored under `key` with `new_row`, maintaining
/// the indexes; returns the row's (possibly new) key: changing the primary
/// key moves the row. Checks PRIMARY/UNIQUE keys the update changes. The
/// commit fails with a write conflict if another session changes or deletes
/// the row first.
pub fn update_row(
    txn: &mut Transaction,
    table: &TableDef,
    key: &[u8],
    old_row: &[Value],
    new_row: &[Value],
) -> Result<RowKey, StorageError> {
    check_shape(table, old_row)?;
    check_shape(table, new_row)?;
    let sp = space(table);
    let (new_key, pk_dup) = match table.primary_key() {
        Some(pk) => (
            row_key(table, pk, new_row)?,
            Some(duplicate(table, pk, new_row)?),
        ),
        None => (key.to_vec(), None),
    };
    let moved = new_key != key;
    if moved && txn.get(sp, &new_key)?.is_some() {
        if let Some(dup) = &pk_dup {
            return Err(dup.clone().into_error());
        }
    }
    let old_entries = index_entries(table, old_row, key)?;
    let new_entries = index_entries(table, new_row, &new_key)?;
    for (o, n) in old_entries.iter().zip(&new_entries) {
        if n.unique && n.key != o.key && txn.get(sp, &n.key)?.is_some() {
            return Err(duplicate(table, n.index, new_row)?.into_error());
        }
    }
    txn.expect_unchanged(sp, key)?;
    let bytes = encode_row(new_row);
    match (moved, pk_dup) {
        (true, Some(dup)) => {
            txn.delete(sp, key.to_vec());
            txn.put_if_absent(sp, new_key.clone(), bytes, dup)?;
        }
        _ => txn.put(sp, new_key.clone(), bytes),
    }
    for (o, n) in old_entries.into_iter().zip(new_entries) {
        if o.key != n.key {
            txn.delete(sp, o.key);
            write_entry(txn, table, sp, n, &new_key, new_row)?;
        } else if moved {
            txn.put(sp, n.key, new_key.clone());
        }
    }
    Ok(new_key)
}

/// Overwrites a row's stored values without touching indexes: for DDL that
/// reshapes rows (DROP/MODIFY COLUMN) and leaves indexed values unchanged.
pub fn rewrite_row(
    txn: &mut Transaction,
    table: &TableDef,
    key: &[u8],
    row: &[Value],
) -> Result<(), StorageError> {
    check_shape(table, row)?;
    txn.expect_unchanged(space(table), key)?;
    txn.put(space(table), key.to_vec(), encode_row(row));
    Ok(())
}

/// The stored values of the row under `key`, if it exists.
pub fn get_row(
    txn: &Transaction,
    table: &TableDef,
    key: &[u8],
) -> Result<Option<Vec<Value>>, StorageError> {
    txn.get(space(table), key)?
        .map(|b| decode_row(&b))
        .transpose()
}

/// The row key of a primary key value (one value per PRIMARY KEY column).
pub fn primary_key_of(table: &TableDef, pk_values: &[Value]) -> Result<RowKey, StorageError> {
    let pk = table
        .primary_key()
        .ok_or_else(|| StorageError::NoPrimaryKey(table.name.clone()))?;
    if pk_values.len() != pk.columns.len() {
        return Err(StorageError::Misuse(format!(
            "primary key of `{}` has {} columns, got {} values",
            table.name,
            pk.columns.len(),
            pk_values.len()
        )));
    }
    let cols = resolve(table, pk)?;
    let mut key = vec![ROW_PREFIX];
    for (v, (_, c)) in pk_values.iter().zip(&cols) {
        encode_value(v, *c, &mut key);
    }
    Ok(key)
}

/// Point lookup by the full primary key.
pub fn get_by_primary_key(
    txn: &Transaction,
    table: &TableDef,
    pk_values: &[Value],
) -> Result<Option<(RowKey, Vec<Value>)>, StorageError> {
    let key = primary_key_of(table, pk_values)?;
    Ok(get_row(txn, table, &key)?.map(|row| (key, row)))
}

/// The rows this transaction wrote to the table and has not committed, in
/// key order: `Some(row)` for an insert or update, `None` for a deletion.
pub fn buffered_rows(
    txn: &Transaction,
    table: &TableDef,
) -> Result<Vec<(RowKey, Option<Vec<Value>>)>, StorageError> {
    txn.buffered(space(table))
        .filter(|(k, _)| is_row_key(k))
        .map(|(k, v)| Ok((k.to_vec(), v.map(decode_row).transpose()?)))
        .collect()
}

/// Whether a key of a table's keyspace is a row (not an index entry).
pub fn is_row_key(key: &[u8]) -> bool {
    key.first() == Some(&ROW_PREFIX)
}

/// Every row of the table in primary key (or hidden row id) order, or the
/// reverse.
pub fn scan_rows<'a>(
    txn: &'a Transaction,
    table: &TableDef,
    reverse: bool,
) -> Result<RowIter<'a>, StorageError> {
    decode_rows(txn.scan_prefix(space(table), &[ROW_PREFIX], reverse)?)
}

/// How many rows the table has, as this transaction sees it (rows are
/// counted, not decoded).
pub fn count_rows(txn: &Transaction, table: &TableDef) -> Result<u64, StorageError> {
    let mut n = 0;
    for kv in txn.scan_prefix(space(table), &[ROW_PREFIX], false)? {
        kv?;
        n += 1;
    }
    Ok(n)
}

/// The table's committed rows as stored (key, encoded row), in key order,
/// after the key `after` (from the first row when `None`). Reads storage
/// directly, for background work that is not part of a statement.
pub fn scan_stored_rows<'a>(
    storage: &'a dyn Storage,
    table: &TableDef,
    after: Option<&[u8]>,
) -> Result<crate::KvIter<'a>, StorageError> {
    let start = match after {
        Some(k) => Bound::Excluded(k.to_vec()),
        None => Bound::Included(vec![ROW_PREFIX]),
    };
    let end = Bound::Excluded(prefix_end(&[ROW_PREFIX]).expect("prefix below 0xFF"));
    storage.scan(space(table), start, end, false)
}

/// Rows whose first `values.len()` columns of `index` equal `values`, in
/// index order (or reverse). Works for the PRIMARY KEY too. A NULL in
/// `values` matches NULLs (IS NULL semantics; SQL `= NULL` should not get
/// here). Under a `_ci` collation, equal means equal weight.
pub fn index_lookup<'a>(
    txn: &'a Transaction,
    table: &TableDef,
    index: &IndexDef,
    values: &[Value],
    reverse: bool,
) -> Result<RowIter<'a>, StorageError> {
    let cols = resolve(table, index)?;
    if values.len() > cols.len() {
        return Err(StorageError::Misuse(format!(
            "index `{}` has {} columns, lookup gave {} values",
            index.name,
            cols.len(),
            values.len()
        )));
    }
    let mut prefix = index_base(index)?;
    for (v, (_, c)) in values.iter().zip(&cols) {
        encode_value(v, *c, &mut prefix);
    }
    let sp = space(table);
    if index.kind == IndexKind::Primary {
        decode_rows(txn.scan_prefix(sp, &prefix, reverse)?)
    } else {
        follow_entries(txn, sp, txn.scan_prefix(sp, &prefix, reverse)?)
    }
}

/// Rows whose first index column lies within the bounds, in index order (or
/// reverse). NULLs sort first, so an unbounded lower end includes them;
/// pass `Bound::Excluded(&Value::Null)` for SQL range semantics.
pub fn index_range<'a>(
    txn: &'a Transaction,
    table: &TableDef,
    index: &IndexDef,
    lower: Bound<&Value>,
    upper: Bound<&Value>,
    reverse: bool,
) -> Result<RowIter<'a>, StorageError> {
    let cols = resolve(table, index)?;
    let collation = cols.first().map_or(Collation::Binary, |c| c.1);
    let base = index_base(index)?;
    let with = |v: &Value| {
        let mut k = base.clone();
        encode_value(v, collation, &mut k);
        k
    };
    let after = |k: Vec<u8>| prefix_end(&k).map_or(Bound::Unbounded, Bound::Excluded);
    let start = match lower {
        Bound::Unbounded => Bound::Included(base.clone()),
        Bound::Included(v) => Bound::Included(with(v)),
        Bound::Excluded(v) => match after(with(v)) {
            Bound::Excluded(k) => Bound::Included(k),
            _ => return Ok(Box::new(std::iter::empty())),
        },
    };
    let end = match upper {
        Bound::Unbounded => after(base.clone()),
        Bound::Included(v) => after(with(v)),
        Bound::Excluded(v) => Bound::Excluded(with(v)),
    };
    let sp = space(table);
    let entries = txn.scan(sp, start, end, reverse)?;
    if index.kind == IndexKind::Primary {
        decode_rows(entries)
    } else {
        follow_entries(txn, sp, entries)
    }
}

/// Writes one row's entry of a newly added index (ADD INDEX backfill),
/// checking uniqueness like an insert. `row` must be padded.
pub fn add_index_entry(
    txn: &mut Transaction,
    table: &TableDef,
    index: &IndexDef,
    key: &[u8],
    row: &[Value],
) -> Result<(), StorageError> {
    check_shape(table, row)?;
    let sp = space(table);
    let Some(entry) = entry_for(table, index, row, key)? else {
        return Ok(());
    };
    if entry.unique && txn.get(sp, &entry.key)?.is_some() {
        return Err(duplicate(table, index, row)?.into_error());
    }
    write_entry(txn, table, sp, entry, key, row)
}

/// Deletes every entry of index `index_id` (DROP INDEX); returns how many.
pub fn drop_index_entries(
    txn: &mut Transaction,
    table: &TableDef,
    index_id: u32,
) -> Result<usize, StorageError> {
    let sp = space(table);
    let mut prefix = vec![INDEX_PREFIX];
    prefix.extend_from_slice(&index_id.to_be_bytes());
    let keys: Vec<Vec<u8>> = txn
        .scan_prefix(sp, &prefix, false)?
        .map(|kv| kv.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    let n = keys.len();
    for k in keys {
        txn.delete(sp, k);
    }
    Ok(n)
}

/// Hands out `n` consecutive AUTO_INCREMENT values for a table and returns
/// the first (1 on a fresh table). Never rolled back, durable, monotonic.
pub fn allocate_auto_increment(
    storage: &dyn Storage,
    table_id: u64,
    n: u64,
) -> Result<u64, StorageError> {
    storage.allocate_ids(&counter_key(meta_keys::AUTOINC_PREFIX, table_id), n)
}

/// An explicit value was inserted into the AUTO_INCREMENT column (or
/// `ALTER TABLE ... AUTO_INCREMENT = used + 1`): later allocations return
/// values above `used`. Negative explicit values need no rebase.
pub fn rebase_auto_increment(
    storage: &dyn Storage,
    table_id: u64,
    used: u64,
) -> Result<(), StorageError> {
    storage.rebase_ids(&counter_key(meta_keys::AUTOINC_PREFIX, table_id), used)
}

fn counter_key(prefix: &[u8], table_id: u64) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(&table_id.to_be_bytes());
    k
}

fn hidden_row_key(storage: &dyn Storage, table_id: u64) -> Result<RowKey, StorageError> {
    let id = storage.allocate_ids(&counter_key(meta_keys::ROWID_PREFIX, table_id), 1)?;
    let mut key = vec![ROW_PREFIX];
    key.extend_from_slice(&id.to_be_bytes());
    Ok(key)
}

fn check_shape(table: &TableDef, row: &[Value]) -> Result<(), StorageError> {
    if row.len() != table.columns.len() {
        return Err(StorageError::RowShape {
            table: table.name.clone(),
            got: row.len(),
            expected: table.columns.len(),
        });
    }
    Ok(())
}

/// Column positions and key collations of an index.
fn resolve(table: &TableDef, index: &IndexDef) -> Result<Vec<(usize, Collation)>, StorageError> {
    index
        .columns
        .iter()
        .map(|name| {
            let pos = table
                .column_index(name)
                .ok_or_else(|| StorageError::BadIndex {
                    table: table.name.clone(),
                    index: index.name.clone(),
                    column: name.clone(),
                })?;
            let col = &table.columns[pos];
            // Only character columns have a collation; everything else is
            // keyed by its bytes.
            let c = if col.data_type.is_string() {
                col.collation
            } else {
                Collation::Binary
            };
            Ok((pos, c))
        })
        .collect()
}

fn row_key(table: &TableDef, pk: &IndexDef, row: &[Value]) -> Result<RowKey, StorageError> {
    let mut key = vec![ROW_PREFIX];
    for (pos, c) in resolve(table, pk)? {
        encode_value(&row[pos], c, &mut key);
    }
    Ok(key)
}

fn index_base(index: &IndexDef) -> Result<Vec<u8>, StorageError> {
    match index.kind {
        IndexKind::Primary => Ok(vec![ROW_PREFIX]),
        IndexKind::Unique | IndexKind::Plain => {
            let mut b = vec![INDEX_PREFIX];
            b.extend_from_slice(&index.id.to_be_bytes());
            Ok(b)
        }
        IndexKind::Vector { .. } | IndexKind::FullText { .. } => {
            Err(StorageError::Misuse(format!(
                "index `{}` has no key entries (vector/fulltext)",
                index.name
            )))
        }
    }
}

struct Entry<'t> {
    index: &'t IndexDef,
    key: Vec<u8>,
    /// UNIQUE without NULLs: the key is exactly the columns and must not exist.
    unique: bool,
}

/// The row's entries of every UNIQUE and plain index, in definition order.
fn index_entries<'t>(
    table: &'t TableDef,
    row: &[Value],
    row_key: &[u8],
) -> Result<Vec<Entry<'t>>, StorageError> {
    let mut out = Vec::new();
    for index in &table.indexes {
        if let Some(e) = entry_for(table, index, row, row_key)? {
            out.push(e);
        }
    }
    Ok(out)
}

fn entry_for<'t>(
    table: &TableDef,
    index: &'t IndexDef,
    row: &[Value],
    row_key: &[u8],
) -> Result<Option<Entry<'t>>, StorageError> {
    if !matches!(index.kind, IndexKind::Unique | IndexKind::Plain) {
        return Ok(None);
    }
    let cols = resolve(table, index)?;
    let mut key = index_base(index)?;
    let mut has_null = false;
    for (pos, c) in cols {
        has_null |= row[pos].is_null();
        encode_value(&row[pos], c, &mut key);
    }
    let unique = index.kind == IndexKind::Unique && !has_null;
    if !unique {
        key.extend_from_slice(row_key);
    }
    Ok(Some(Entry { index, key, unique }))
}

fn write_entry(
    txn: &mut Transaction,
    table: &TableDef,
    sp: Space,
    e: Entry<'_>,
    row_key: &[u8],
    row: &[Value],
) -> Result<(), StorageError> {
    if e.unique {
        let dup = duplicate(table, e.index, row)?;
        txn.put_if_absent(sp, e.key, row_key.to_vec(), dup)
    } else {
        txn.put(sp, e.key, row_key.to_vec());
        Ok(())
    }
}

/// TiDB's `Duplicate entry '1-abc' for key 't.idx'` parts for `row`.
fn duplicate(table: &TableDef, index: &IndexDef, row: &[Value]) -> Result<Duplicate, StorageError> {
    let parts: Vec<String> = resolve(table, index)?
        .into_iter()
        .map(|(pos, _)| row[pos].to_text().unwrap_or_else(|| "NULL".into()))
        .collect();
    let name = if index.kind == IndexKind::Primary {
        "PRIMARY"
    } else {
        index.name.as_str()
    };
    Ok(Duplicate {
        value: parts.join("-"),
        key: format!("{}.{}", table.name, name),
    })
}

fn decode_rows(kvs: crate::KvIter<'_>) -> Result<RowIter<'_>, StorageError> {
    Ok(Box::new(kvs.map(|kv| {
        let (k, v) = kv?;
        Ok((k, decode_row(&v)?))
    })))
}

/// Maps index entries to the rows they point at. An entry whose row is gone
/// (deleted by a session that committed between the two reads) is skipped.
fn follow_entries<'a>(
    txn: &'a Transaction,
    sp: Space,
    entries: crate::KvIter<'a>,
) -> Result<RowIter<'a>, StorageError> {
    Ok(Box::new(entries.filter_map(move |kv| {
        let row_key = match kv {
            Ok((_, v)) => v,
            Err(e) => return Some(Err(e)),
        };
        match txn.get(sp, &row_key) {
            Ok(Some(bytes)) => Some(decode_row(&bytes).map(|row| (row_key, row))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    })))
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
