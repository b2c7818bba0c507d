//! The HNSW graphs behind `VECTOR INDEX`: one [`AnnIndex`] per declared
//! vector index, kept equal to the committed rows, persisted next to the
//! sled data and used by `crate::topk` for `ORDER BY <distance> LIMIT k`.
//!
//! # Keeping the graph equal to the committed rows
//!
//! A commit that writes rows of a table with vector indexes also writes,
//! in the same storage transaction, a *dirty marker* per (index, row key)
//! into the meta keyspace, then holds each index's `writer` lock from
//! before the storage commit until the graph has applied the rows (re-read
//! from storage, as `crate::vector_store` does). Everything else that
//! changes a graph takes the same lock: the background build, a load, a
//! save. So a commit reaches the graph when it commits and never before,
//! a failed or rolled-back transaction leaves nothing (its markers vanish
//! with it), and a save sees no commit half-applied.
//!
//! A save writes the graph and its row-key table atomically to
//! `<data_dir>/ann/<table id>-<index id>.hnsw`, then deletes the markers:
//! every marker left on disk names a row that may differ from the file.
//! Loading replays them (re-reading those rows), so after a crash the
//! graph equals the committed rows without a rebuild. A missing or
//! damaged file (checksummed by the engine) is rebuilt from the rows in
//! the background, with log lines; so is a new index on a table with rows.
//!
//! While an index is not ready (building, or its file not loaded yet)
//! queries rank exactly; `INFORMATION_SCHEMA.TIFLASH_INDEXES` shows the
//! build's progress.
//!
//! # Rows the graph cannot hold
//!
//! Graph keys are `u64` labels handed out per row key. A NULL vector, and
//! a zero vector under cosine (whose `VEC_COSINE_DISTANCE` is NULL), has a
//! NULL distance: such rows are kept in a set and rank first, as in the
//! exact scan.

mod labels;

use crate::exec::pad_row;
use labels::{decode_meta, encode_meta, Labels};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tiembed_ann::{AnnError, AnnIndex};
use tiembed_storage::codec::{decode_row, prefix_end};
use tiembed_storage::{table as tbl, Space, Storage, Transaction};
use tiembed_types::{
    Catalog, DataType, Error, HnswParams, IndexDef, IndexKind, Result, TableDef, Value,
    VectorMetric,
};

/// Row key of a table (opaque, memcomparable).
pub type RowKey = Vec<u8>;

/// `(table id, index id)`.
pub type IndexId = (u64, u32);

/// Meta keyspace prefix of dirty markers: `ann-dirty/` + table id (BE) +
/// index id (BE) + row key.
const MARKER_PREFIX: &[u8] = b"ann-dirty/";

/// Rows a build reads and inserts per step, holding the writer lock.
const BUILD_BATCH: usize = 2048;

/// A graph is saved once this many of its rows changed since the last
/// save and they are at least an eighth of it: recovery replays at most
/// that many rows.
const SAVE_AFTER_CHANGES: u64 = 4096;

/// Where an index is in its life.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Declared; its file is not loaded yet.
    Unloaded,
    /// Being built from the rows in key order: rows up to `cursor`
    /// (inclusive) are in, the rest are not.
    Building {
        cursor: Option<RowKey>,
    },
    Ready,
}

struct State {
    phase: Phase,
    graph: Arc<AnnIndex>,
    labels: Labels,
    /// Rows whose distance is NULL (NULL vector, zero vector under cosine).
    nulls: BTreeSet<RowKey>,
    /// Rows changed since the file was written.
    dirty: u64,
    /// Rows the running build found when it started (for its progress).
    build_total: Option<u64>,
}

/// One vector index's graph.
pub struct AnnEntry {
    id: IndexId,
    pub name: String,
    pub metric: VectorMetric,
    params: HnswParams,
    dim: usize,
    /// The table it indexes (updated by DDL that keeps the column) and the
    /// column's position in its rows.
    shape: RwLock<(Arc<TableDef>, usize)>,
    /// Held by whatever changes the graph: commit, build step, load, save.
    writer: Mutex<()>,
    state: RwLock<State>,
    dropped: AtomicBool,
    saving: AtomicBool,
}

/// What a query ranks with: a ready graph and the rows it cannot hold.
pub struct ReadyIndex {
    pub entry: Arc<AnnEntry>,
    pub graph: Arc<AnnIndex>,
    pub ef_search: usize,
    /// Rows in the graph plus those with a NULL distance.
    pub rows: usize,
}

impl ReadyIndex {
    /// The first `limit` rows (in key order) with a NULL distance, leaving
    /// out `hidden`; they rank before every row of the graph.
    pub fn nulls(&self, hidden: &HashSet<RowKey>, limit: usize) -> Vec<RowKey> {
        let state = self.entry.state.read();
        state
            .nulls
            .iter()
            .filter(|k| !hidden.contains(*k))
            .take(limit)
            .cloned()
            .collect()
    }

    /// The row keys of graph labels (labels of rows deleted since are skipped).
    pub fn keys_of(&self, labels: impl Iterator<Item = u64>) -> Vec<RowKey> {
        let state = self.entry.state.read();
        labels
            .filter_map(|l| state.labels.key(l).map(<[u8]>::to_vec))
            .collect()
    }
}

/// Every vector index of the engine.
pub struct AnnStores {
    storage: Arc<dyn Storage>,
    /// `None`: nothing is persisted (in-memory storage).
    dir: Option<PathBuf>,
    entries: Mutex<HashMap<IndexId, Arc<AnnEntry>>>,
    /// Held (shared) by every commit from before it looks for indexes to
    /// mark until it has applied them; a new index waits (exclusive) for
    /// the commits that started before it existed, so its build sees them.
    commit_gate: RwLock<()>,
}

/// The rows a commit writes to one index's table: lock the entry's
/// `writer` from before the storage commit until [`AnnStores::apply_commit`].
pub type Touched = Vec<(Arc<AnnEntry>, Vec<RowKey>)>;

impl AnnStores {
    pub fn new(storage: Arc<dyn Storage>, data_dir: Option<&Path>) -> AnnStores {
        AnnStores {
            storage,
            dir: data_dir.map(|d| d.join("ann")),
            entries: Mutex::new(HashMap::new()),
            commit_gate: RwLock::new(()),
        }
    }

    /// Hold for the whole of a commit (see `commit_gate`).
    pub fn commit_gate(&self) -> parking_lot::RwLockReadGuard<'_, ()> {
        self.commit_gate.read()
    }

    /// At startup: an entry for each declared vector index, then loads
    /// (or rebuilds) them all on a background thread.
    pub fn open_all(self: &Arc<Self>, catalog: &Catalog) {
        self.sync(catalog, Phase::Unloaded);
        let me = self.clone();
        std::thread::Builder::new()
            .name("ann-load".into())
            .spawn(move || {
                let entries: Vec<_> = me.entries.lock().values().cloned().collect();
                for e in entries {
                    me.ensure_loaded(&e);
                }
            })
            .expect("spawn ann-load thread");
    }

    /// After DDL: new indexes are built from the table's rows in the
    /// background, dropped ones forgotten with their files and markers.
    pub fn catalog_changed(self: &Arc<Self>, catalog: &Catalog) {
        let created = self.sync(catalog, Phase::Building { cursor: None });
        if !created.is_empty() {
            // Commits that began before the index existed wrote no markers
            // and will not apply to it: let them land before the build reads.
            drop(self.commit_gate.write());
        }
        for e in created {
            self.spawn_build(e);
        }
    }

    /// Brings the entries in line with `catalog`; returns the new ones.
    fn sync(&self, catalog: &Catalog, new_phase: Phase) -> Vec<Arc<AnnEntry>> {
        let mut live = HashMap::new();
        for t in catalog.databases.values().flat_map(|d| d.tables.values()) {
            for idx in &t.indexes {
                if let Some(spec) = vector_index_spec(t, idx) {
                    live.insert((t.id, idx.id), (t, idx, spec));
                }
            }
        }
        let mut entries = self.entries.lock();
        let mut dropped = Vec::new();
        entries.retain(|id, e| {
            let keep = live.contains_key(id);
            if !keep {
                dropped.push(e.clone());
            }
            keep
        });
        let mut created = Vec::new();
        for (id, (t, idx, (column, metric, params, dim))) in live {
            if let Some(e) = entries.get(&id) {
                *e.shape.write() = (Arc::new(t.clone()), column);
                continue;
            }
            let Ok(graph) = AnnIndex::new(metric, dim, params) else {
                continue; // parameters the DDL validated; nothing to index otherwise
            };
            let e = Arc::new(AnnEntry {
                id,
                name: idx.name.clone(),
                metric,
                params,
                dim,
                shape: RwLock::new((Arc::new(t.clone()), column)),
                writer: Mutex::new(()),
                state: RwLock::new(State {
                    phase: new_phase.clone(),
                    graph: Arc::new(graph),
                    labels: Labels::default(),
                    nulls: BTreeSet::new(),
                    dirty: 0,
                    build_total: None,
                }),
                dropped: AtomicBool::new(false),
                saving: AtomicBool::new(false),
            });
            entries.insert(id, e.clone());
            created.push(e);
        }
        drop(entries);
        for e in dropped {
            let _w = e.writer.lock();
            e.dropped.store(true, Ordering::SeqCst);
            if let Some(path) = self.path(e.id) {
                let _ = std::fs::remove_file(path);
            }
            if let Err(err) = self.delete_markers(e.id) {
                tracing::warn!(error = %err, "could not delete a dropped index's markers");
            }
        }
        created
    }

    fn path(&self, (table, index): IndexId) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{table}-{index}.hnsw")))
    }

    /// The ready index for ranking `table.columns[column]` by `metric`, if
    /// the table declares one. `Err(name)`: it exists but is still being
    /// built (the caller ranks exactly).
    pub fn for_query(
        self: &Arc<Self>,
        table: &TableDef,
        column: usize,
        metric: VectorMetric,
        session_ef: Option<usize>,
    ) -> Option<std::result::Result<ReadyIndex, String>> {
        let idx = table.indexes.iter().find(|i| {
            vector_index_spec(table, i).is_some_and(|(c, m, ..)| c == column && m == metric)
        })?;
        let entry = self.entries.lock().get(&(table.id, idx.id)).cloned()?;
        self.ensure_loaded(&entry);
        let state = entry.state.read();
        if state.phase != Phase::Ready {
            return Some(Err(entry.name.clone()));
        }
        Some(Ok(ReadyIndex {
            graph: state.graph.clone(),
            ef_search: session_ef.unwrap_or(entry.params.ef_search as usize),
            rows: state.labels.len() + state.nulls.len(),
            entry: entry.clone(),
        }))
    }

    /// Rows of the index that are in its graph (or its NULL set), for
    /// TIFLASH_INDEXES; `None` if no such index.
    /// `(rows indexed, rows not yet)` for TIFLASH_INDEXES, without reading
    /// the table; `None` when unknown (not loaded yet: count the rows).
    pub fn progress(&self, id: IndexId) -> Option<(u64, u64)> {
        let e = self.entries.lock().get(&id).cloned()?;
        let s = e.state.read();
        let indexed = (s.labels.len() + s.nulls.len()) as u64;
        match (&s.phase, s.build_total) {
            (Phase::Ready, _) => Some((indexed, 0)),
            (Phase::Building { .. }, Some(total)) => Some((indexed, total.saturating_sub(indexed))),
            _ => None,
        }
    }

    /// Before committing `txn`: writes its dirty markers and returns the
    /// indexes it touches (sorted, the order to lock them in).
    pub fn prepare_commit(&self, txn: &mut Transaction) -> Touched {
        let written: Vec<u64> = txn
            .written_spaces()
            .filter_map(|s| match s {
                Space::Table(id) => Some(id),
                Space::Meta => None,
            })
            .collect();
        if written.is_empty() {
            return Vec::new();
        }
        let mut touched: Touched = Vec::new();
        {
            let entries = self.entries.lock();
            for table_id in written {
                let of_table = entries.values().filter(|e| e.id.0 == table_id);
                let mut keys = None;
                for e in of_table {
                    let keys = keys.get_or_insert_with(|| {
                        txn.buffered(Space::Table(table_id))
                            .filter(|(k, _)| tbl::is_row_key(k))
                            .map(|(k, _)| k.to_vec())
                            .collect::<Vec<_>>()
                    });
                    touched.push((e.clone(), keys.clone()));
                }
            }
        }
        touched.sort_by_key(|(e, _)| e.id);
        for (e, keys) in &touched {
            for k in keys {
                txn.put(Space::Meta, marker_key(e.id, k), Vec::new());
            }
        }
        touched
    }

    /// After the storage commit succeeded, with the writer locks held:
    /// the graphs take the rows.
    pub fn apply_commit(self: &Arc<Self>, touched: &Touched) {
        for (e, keys) in touched {
            if let Err(err) = self.apply_rows(e, keys) {
                // The markers stay, so a restart would replay them; this
                // process rebuilds now.
                tracing::warn!(index = %e.name, error = %err,
                    "vector index not updated by a commit; rebuilding it");
                self.reset_for_rebuild(e);
            }
        }
    }

    /// After the writer locks are released: saves graphs that have
    /// changed enough since their last save.
    pub fn after_commit(self: &Arc<Self>, touched: Touched) {
        for (e, _) in touched {
            let due = {
                let s = e.state.read();
                let size = (s.labels.len() + s.nulls.len()) as u64;
                s.phase == Phase::Ready && s.dirty >= SAVE_AFTER_CHANGES.max(size / 8)
            };
            if due {
                self.spawn_save(e);
            }
        }
    }

    /// Brings the graph in line with a commit's rows (writer lock held).
    fn apply_rows(&self, e: &AnnEntry, keys: &[RowKey]) -> Result<()> {
        let cursor = match &e.state.read().phase {
            Phase::Unloaded => return Ok(()), // the markers bring it in on load
            Phase::Building { cursor } => Some(cursor.clone()),
            Phase::Ready => None,
        };
        self.reread(e, keys, cursor.as_ref())
    }

    /// Re-reads the rows from storage into the graph; during a build
    /// (`cursor`), only those the build has passed.
    fn reread(&self, e: &AnnEntry, keys: &[RowKey], cursor: Option<&Option<RowKey>>) -> Result<()> {
        let (table, column) = e.shape.read().clone();
        let space = tbl::space(&table);
        for key in keys {
            if let Some(cursor) = cursor {
                if cursor.as_ref().is_none_or(|c| key > c) {
                    continue; // the build has yet to read it
                }
            }
            let value = match self.storage.get(space, key)? {
                Some(bytes) => Some(pad_row(&table, decode_row(&bytes)?).swap_remove(column)),
                None => None,
            };
            e.set_row(key, value.as_ref())?;
        }
        Ok(())
    }

    /// Loads the index's file and replays its markers, or starts a build
    /// if there is no usable file. Returns at once if already done.
    fn ensure_loaded(self: &Arc<Self>, e: &Arc<AnnEntry>) {
        if e.state.read().phase != Phase::Unloaded {
            return;
        }
        let _w = e.writer.lock();
        if e.state.read().phase != Phase::Unloaded || e.dropped.load(Ordering::SeqCst) {
            return;
        }
        let started = Instant::now();
        match self.load(e) {
            Ok(replayed) => {
                tracing::info!(index = %e.name, rows = e.state.read().labels.len(),
                    replayed, ms = started.elapsed().as_millis() as u64, "vector index loaded");
            }
            Err(why) => {
                tracing::warn!(index = %e.name, "vector index file {why}; rebuilding it from the rows");
                self.reset_for_rebuild(e);
            }
        }
    }

    /// Load + replay; `Err` says why a rebuild is needed.
    fn load(&self, e: &AnnEntry) -> std::result::Result<usize, String> {
        let path = self.path(e.id).ok_or("is not kept (in-memory storage)")?;
        if !path.exists() {
            return Err(format!("{} is missing", path.display()));
        }
        let (graph, meta) = AnnIndex::load(&path, e.metric, e.dim, e.params)
            .map_err(|err| format!("{} is unusable ({err})", path.display()))?;
        let (labels, nulls) =
            decode_meta(&meta).ok_or_else(|| format!("{} has a bad row table", path.display()))?;
        {
            let mut s = e.state.write();
            s.graph = Arc::new(graph);
            s.labels = labels;
            s.nulls = nulls;
        }
        // Still `Unloaded`: queries wait (or rank exactly) until the replay is done.
        let keys = self
            .markers(e.id)
            .map_err(|err| format!("markers unreadable ({err})"))?;
        self.reread(e, &keys, None)
            .map_err(|err| format!("replay failed ({err})"))?;
        let mut s = e.state.write();
        s.phase = Phase::Ready;
        s.dirty = keys.len() as u64;
        Ok(keys.len())
    }

    /// Empties the graph and builds it again from the rows (writer lock
    /// held by the caller; the build waits for it).
    fn reset_for_rebuild(self: &Arc<Self>, e: &Arc<AnnEntry>) {
        if let Ok(graph) = AnnIndex::new(e.metric, e.dim, e.params) {
            let mut s = e.state.write();
            s.graph = Arc::new(graph);
            s.labels = Labels::default();
            s.nulls.clear();
            s.phase = Phase::Building { cursor: None };
        }
        self.spawn_build(e.clone());
    }

    fn spawn_build(self: &Arc<Self>, e: Arc<AnnEntry>) {
        let me = self.clone();
        std::thread::Builder::new()
            .name("ann-build".into())
            .spawn(move || {
                if let Err(err) = me.build(&e) {
                    tracing::error!(index = %e.name, error = %err, "vector index build failed");
                }
            })
            .expect("spawn ann-build thread");
    }

    /// Reads the table in key order and inserts its rows, a batch per
    /// writer-lock hold so that commits interleave; saves at the end.
    fn build(&self, e: &AnnEntry) -> Result<()> {
        let started = Instant::now();
        let mut last_log = Instant::now();
        let mut done = 0u64;
        // Room for every row at once: growing batch by batch would copy
        // the whole vector arena each time.
        let rows = {
            let table = e.shape.read().0.clone();
            tbl::scan_stored_rows(self.storage.as_ref(), &table, None)?.count()
        };
        {
            let mut s = e.state.write();
            s.graph.reserve(rows).map_err(ann_error)?;
            s.build_total = Some(rows as u64);
        }
        tracing::info!(index = %e.name, rows, "vector index build started");
        loop {
            let _w = e.writer.lock();
            if e.dropped.load(Ordering::SeqCst) {
                return Ok(());
            }
            let Phase::Building { cursor } = e.state.read().phase.clone() else {
                return Ok(());
            };
            let (table, column) = e.shape.read().clone();
            let mut keys = Vec::new();
            let mut values = Vec::new();
            for item in tbl::scan_stored_rows(self.storage.as_ref(), &table, cursor.as_deref())?
                .take(BUILD_BATCH)
            {
                let (key, bytes) = item?;
                values.push(pad_row(&table, decode_row(&bytes)?).swap_remove(column));
                keys.push(key);
            }
            e.insert_batch(&keys, &values)?;
            done += keys.len() as u64;
            let finished = keys.len() < BUILD_BATCH;
            let mut s = e.state.write();
            s.phase = if finished {
                s.build_total = None;
                Phase::Ready
            } else {
                Phase::Building {
                    cursor: keys.last().cloned(),
                }
            };
            drop(s);
            if finished {
                tracing::info!(index = %e.name, rows = done,
                    secs = started.elapsed().as_secs_f64(), "vector index build finished");
                drop(_w);
                return self.save(e);
            }
            if last_log.elapsed() >= Duration::from_secs(5) {
                last_log = Instant::now();
                tracing::info!(index = %e.name, rows_done = done, "vector index build in progress");
            }
        }
    }

    fn spawn_save(self: &Arc<Self>, e: Arc<AnnEntry>) {
        if self.dir.is_none() || e.saving.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = self.clone();
        std::thread::Builder::new()
            .name("ann-save".into())
            .spawn(move || {
                if let Err(err) = me.save(&e) {
                    tracing::warn!(index = %e.name, error = %err, "vector index save failed");
                }
                e.saving.store(false, Ordering::SeqCst);
            })
            .expect("spawn ann-save thread");
    }

    /// Writes the graph and its row table, then forgets the markers the
    /// file now covers (all of them: the writer lock keeps commits out).
    fn save(&self, e: &AnnEntry) -> Result<()> {
        let Some(path) = self.path(e.id) else {
            return Ok(());
        };
        let _w = e.writer.lock();
        if e.dropped.load(Ordering::SeqCst) {
            return Ok(());
        }
        let started = Instant::now();
        let (graph, meta) = {
            let s = e.state.read();
            if s.phase != Phase::Ready {
                return Ok(());
            }
            (s.graph.clone(), encode_meta(&s.labels, &s.nulls))
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|err| Error::other(format!("{}: {err}", dir.display())))?;
        }
        graph.save(&path, &meta).map_err(ann_error)?;
        self.delete_markers(e.id)?;
        e.state.write().dirty = 0;
        tracing::debug!(index = %e.name, ms = started.elapsed().as_millis() as u64,
            "vector index saved");
        Ok(())
    }

    /// Saves every index with unsaved changes (graceful shutdown).
    pub fn save_all(&self) {
        let entries: Vec<_> = self.entries.lock().values().cloned().collect();
        for e in entries {
            if e.state.read().dirty > 0 {
                if let Err(err) = self.save(&e) {
                    tracing::warn!(index = %e.name, error = %err, "vector index save failed");
                }
            }
        }
    }

    fn markers(&self, id: IndexId) -> Result<Vec<RowKey>> {
        let prefix = marker_key(id, b"");
        let mut keys = Vec::new();
        for item in self.storage.scan(
            Space::Meta,
            Bound::Included(prefix.clone()),
            bound_after(&prefix),
            false,
        )? {
            let (k, _) = item?;
            keys.push(k[prefix.len()..].to_vec());
        }
        Ok(keys)
    }

    fn delete_markers(&self, id: IndexId) -> Result<()> {
        let prefix = marker_key(id, b"");
        let keys = self.markers(id)?;
        for chunk in keys.chunks(4096) {
            let mut txn = Transaction::new(self.storage.clone());
            for k in chunk {
                let mut key = prefix.clone();
                key.extend_from_slice(k);
                txn.delete(Space::Meta, key);
            }
            txn.commit()?;
        }
        Ok(())
    }
}

impl AnnEntry {
    /// Held from before a commit reaches storage until the graph has it.
    pub fn lock_writer(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.writer.lock()
    }

    /// Records a row's current value (`None`: the row is gone).
    fn set_row(&self, key: &[u8], value: Option<&Value>) -> Result<()> {
        let mut s = self.state.write();
        s.dirty += 1;
        s.nulls.remove(key);
        match value.and_then(|v| self.indexable(v)) {
            Some(v) => {
                let label = s.labels.assign(key);
                s.graph.add(label, v).map_err(ann_error)?;
            }
            None => {
                if let Some(label) = s.labels.remove(key) {
                    s.graph.remove(label).map_err(ann_error)?;
                }
                if value.is_some() {
                    s.nulls.insert(key.to_vec());
                }
            }
        }
        Ok(())
    }

    /// The vector the graph holds for this value, `None` for a NULL distance.
    fn indexable<'v>(&self, v: &'v Value) -> Option<&'v [f32]> {
        match v {
            Value::Vector(v) if v.len() == self.dim => {
                let zero = v.iter().all(|x| *x == 0.0);
                (!(zero && self.metric == VectorMetric::Cosine)).then_some(&v[..])
            }
            _ => None,
        }
    }

    /// A build step: rows in key order, none of them in the graph yet.
    fn insert_batch(&self, keys: &[RowKey], values: &[Value]) -> Result<()> {
        let mut labels = Vec::with_capacity(keys.len());
        let mut flat = Vec::with_capacity(keys.len() * self.dim);
        let graph = {
            let mut s = self.state.write();
            for (key, value) in keys.iter().zip(values) {
                match self.indexable(value) {
                    Some(v) => {
                        labels.push(s.labels.assign(key));
                        flat.extend_from_slice(v);
                    }
                    None => {
                        s.nulls.insert(key.clone());
                    }
                }
            }
            s.graph.clone()
        };
        graph
            .add_parallel(&labels, &flat, 0, &|_| {})
            .map_err(ann_error)
    }
}

/// `(column position, metric, params, dimension)` of a vector index on a
/// fixed-dimension column.
fn vector_index_spec(
    t: &TableDef,
    idx: &IndexDef,
) -> Option<(usize, VectorMetric, HnswParams, usize)> {
    let IndexKind::Vector { metric, params } = idx.kind else {
        return None;
    };
    let column = t.column_index(idx.columns.first()?)?;
    match t.columns[column].data_type {
        DataType::Vector(Some(dim)) => Some((column, metric, params, dim as usize)),
        _ => None,
    }
}

fn marker_key((table, index): IndexId, row: &[u8]) -> Vec<u8> {
    let mut k = MARKER_PREFIX.to_vec();
    k.extend_from_slice(&table.to_be_bytes());
    k.extend_from_slice(&index.to_be_bytes());
    k.extend_from_slice(row);
    k
}

fn bound_after(prefix: &[u8]) -> Bound<Vec<u8>> {
    prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded)
}

fn ann_error(e: AnnError) -> Error {
    Error::other(format!("vector index: {e}"))
}
