//! The sled backend: one tree per table (`t<id>`) and a `meta` tree.
//!
//! A commit is one multi-tree sled transaction (atomic across trees)
//! followed by a durable flush. sled 0.34's own flush ends in
//! `sync_file_range`, which survives `kill -9` but not a power loss (it
//! neither flushes the drive cache nor the file's metadata) and it never
//! syncs its blob files or directories; [`FileSync`] adds real fsyncs.
//! Concurrent committers share one flush: the first one to need a flush
//! becomes the leader and flushes everything applied so far; the others
//! wait until a flush covers their commit (group commit).

use crate::counters::Counters;
use crate::{
    bounds_empty, meta_keys, Check, KvIter, Space, Storage, StorageError, Write, FORMAT_VERSION,
};
use parking_lot::{Condvar, Mutex, RwLock};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs::File;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Tunables of the sled backend.
#[derive(Debug, Clone)]
pub struct SledOptions {
    /// sled's page cache size.
    pub cache_capacity_bytes: u64,
    /// sled's background flush interval: a backstop only, commits flush
    /// themselves.
    pub flush_every_ms: Option<u64>,
    /// fsync sled's files after each flush (power-loss durability). Only
    /// tests and benchmarks turn this off.
    pub fsync: bool,
}

impl Default for SledOptions {
    fn default() -> Self {
        SledOptions {
            cache_capacity_bytes: 256 << 20,
            flush_every_ms: Some(500),
            fsync: true,
        }
    }
}

pub struct SledStorage {
    db: sled::Db,
    dir: PathBuf,
    meta: sled::Tree,
    trees: RwLock<HashMap<u64, sled::Tree>>,
    group: GroupCommit,
    files: Option<FileSync>,
    counters: Counters,
}

impl SledStorage {
    /// Opens (creating if needed) the store in `dir` with default options.
    pub fn open(dir: &Path) -> Result<SledStorage, StorageError> {
        Self::open_with(dir, SledOptions::default())
    }

    /// Opens the store, failing with [`StorageError::Locked`] if another
    /// process has it open and [`StorageError::UnsupportedFormat`] if it was
    /// written by a newer or unknown format.
    pub fn open_with(dir: &Path, options: SledOptions) -> Result<SledStorage, StorageError> {
        let io = |source| StorageError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let db = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::LowSpace)
            .cache_capacity(options.cache_capacity_bytes)
            .flush_every_ms(options.flush_every_ms)
            .open()
            .map_err(|e| match e {
                // sled reports a held lock as an opaque I/O error.
                sled::Error::Io(ref io) if io.to_string().contains("could not acquire lock") => {
                    StorageError::Locked {
                        path: dir.to_path_buf(),
                    }
                }
                other => StorageError::Sled(other),
            })?;
        let meta = db.open_tree("meta")?;
        let files = if options.fsync {
            Some(FileSync::new(dir)?)
        } else {
            None
        };
        let storage = SledStorage {
            db,
            dir: dir.to_path_buf(),
            meta,
            trees: RwLock::new(HashMap::new()),
            group: GroupCommit::default(),
            files,
            counters: Counters::default(),
        };
        storage.check_format()?;
        Ok(storage)
    }

    /// How many durable flushes ran (group commit makes this smaller than
    /// the number of commits under concurrency).
    pub fn flush_count(&self) -> u64 {
        self.group.state.lock().flushes
    }

    fn check_format(&self) -> Result<(), StorageError> {
        match self.meta.get(meta_keys::FORMAT_VERSION)? {
            Some(v) => {
                let found = <[u8; 4]>::try_from(v.as_ref()).map(u32::from_be_bytes);
                match found {
                    Ok(FORMAT_VERSION) => Ok(()),
                    Ok(other) => Err(self.unsupported(other.to_string())),
                    Err(_) => Err(self.unsupported(format!("unreadable ({} bytes)", v.len()))),
                }
            }
            None => {
                let fresh = self.meta.is_empty()
                    && self.db.is_empty()
                    && self
                        .db
                        .tree_names()
                        .iter()
                        .all(|n| n.as_ref() == b"meta" || n.as_ref() == b"__sled__default");
                if !fresh {
                    return Err(StorageError::NotAStore {
                        path: self.dir.clone(),
                    });
                }
                self.meta
                    .insert(meta_keys::FORMAT_VERSION, &FORMAT_VERSION.to_be_bytes())?;
                self.durable_flush()
            }
        }
    }

    fn unsupported(&self, found: String) -> StorageError {
        StorageError::UnsupportedFormat {
            path: self.dir.clone(),
            found,
            supported: FORMAT_VERSION,
        }
    }

    fn tree(&self, space: Space) -> Result<sled::Tree, StorageError> {
        let id = match space {
            Space::Meta => return Ok(self.meta.clone()),
            Space::Table(id) => id,
        };
        if let Some(t) = self.trees.read().get(&id) {
            return Ok(t.clone());
        }
        let mut trees = self.trees.write();
        if let Some(t) = trees.get(&id) {
            return Ok(t.clone());
        }
        let t = self.db.open_tree(tree_name(id))?;
        trees.insert(id, t.clone());
        Ok(t)
    }

    /// Waits until everything applied so far is durable, flushing as the
    /// leader when no flush is running.
    fn durable_flush(&self) -> Result<(), StorageError> {
        let g = &self.group;
        let mut s = g.state.lock();
        s.applied += 1;
        let seq = s.applied;
        loop {
            if s.durable >= seq {
                return Ok(());
            }
            if s.flushing {
                g.done.wait(&mut s);
                continue;
            }
            s.flushing = true;
            let target = s.applied;
            drop(s);
            let result = self.flush_and_sync();
            s = g.state.lock();
            s.flushing = false;
            if result.is_ok() {
                s.durable = s.durable.max(target);
                s.flushes += 1;
            }
            g.done.notify_all();
            // On failure the waiters retry as leaders; this commit reports it.
            result?;
        }
    }

    fn flush_and_sync(&self) -> Result<(), StorageError> {
        self.db.flush()?;
        if let Some(files) = &self.files {
            files.sync()?;
        }
        Ok(())
    }
}

/// Why a commit's sled transaction aborted.
enum Failed {
    Exists(Space, Vec<u8>),
    Changed(Space, Vec<u8>),
}

fn tree_name(id: u64) -> String {
    format!("t{id}")
}

#[derive(Default)]
struct GroupCommit {
    state: Mutex<GroupState>,
    done: Condvar,
}

#[derive(Default)]
struct GroupState {
    /// Sequence of the last commit applied to sled (assigned after applying).
    applied: u64,
    /// Every commit with a sequence <= durable is on disk.
    durable: u64,
    flushing: bool,
    flushes: u64,
}

/// fsyncs sled's files after its flush: the log file `db` every time, blob
/// files once after they appear, and a directory whenever its entries changed.
struct FileSync {
    dir: PathBuf,
    db_file: File,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    top: Listing,
    blobs: Listing,
}

/// A directory's entries as last listed, with its modification time then
/// and when the listing was taken.
#[derive(Default)]
struct Listing {
    names: HashSet<OsString>,
    stamp: Option<(SystemTime, SystemTime)>,
}

impl Listing {
    /// Whether the directory may hold other entries than listed. Listing
    /// costs an open and several getdents per commit; a stat is enough
    /// when the mtime is unchanged and was already a second old when the
    /// listing was taken: any change since would have set a later mtime
    /// (the coarse clock behind mtimes can only hide changes made within
    /// one tick of the recorded mtime).
    fn may_differ(&self, dir: &Path) -> bool {
        let Some((mtime, listed_at)) = self.stamp else {
            return true;
        };
        let settled = listed_at
            .duration_since(mtime)
            .is_ok_and(|age| age >= std::time::Duration::from_secs(1));
        !settled || std::fs::metadata(dir).and_then(|m| m.modified()).ok() != Some(mtime)
    }

    /// Lists `dir` again (store the result once it has been acted on).
    fn take(dir: &Path) -> Result<Listing, StorageError> {
        let listed_at = SystemTime::now();
        // The mtime before the listing: a change during it shows as newer.
        let mtime = std::fs::metadata(dir).and_then(|m| m.modified()).ok();
        Ok(Listing {
            names: list(dir)?,
            stamp: mtime.map(|m| (m, listed_at)),
        })
    }
}

impl FileSync {
    fn new(dir: &Path) -> Result<FileSync, StorageError> {
        let path = dir.join("db");
        // A second descriptor on the same inode: fsync flushes the inode,
        // whichever descriptor wrote. (sled's lock is a flock on its own
        // descriptor, which this one does not disturb.)
        let db_file = File::open(&path).map_err(|source| StorageError::Io { path, source })?;
        let fs = FileSync {
            dir: dir.to_path_buf(),
            db_file,
            seen: Mutex::new(Seen::default()),
        };
        fs.sync()?;
        // A freshly created data directory must itself survive.
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        Ok(fs)
    }

    fn sync(&self) -> Result<(), StorageError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StorageError::Io { path, source }
        };
        // fdatasync also persists the file size, which is what sled's
        // sync_file_range leaves out when the log grows.
        self.db_file.sync_data().map_err(io(&self.dir.join("db")))?;

        let mut seen = self.seen.lock();
        let blob_dir = self.dir.join("blobs");
        if seen.blobs.may_differ(&blob_dir) {
            let blobs = Listing::take(&blob_dir)?;
            let mut new_blob = false;
            for name in &blobs.names {
                if !seen.blobs.names.contains(name) {
                    let p = blob_dir.join(name);
                    match File::open(&p) {
                        Ok(f) => f.sync_all().map_err(io(&p))?,
                        // Garbage-collected between listing and opening.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(io(&p)(e)),
                    }
                    new_blob = true;
                }
            }
            if new_blob || blobs.names.len() != seen.blobs.names.len() {
                sync_dir(&blob_dir)?;
            }
            seen.blobs = blobs;
        }

        if seen.top.may_differ(&self.dir) {
            let top = Listing::take(&self.dir)?;
            if top.names != seen.top.names {
                sync_dir(&self.dir)?;
            }
            seen.top = top;
        }
        Ok(())
    }
}

fn list(dir: &Path) -> Result<HashSet<OsString>, StorageError> {
    let io = |source| StorageError::Io {
        path: dir.to_path_buf(),
        source,
    };
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.map(|e| e.file_name()).map_err(io)).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashSet::new()),
        Err(e) => Err(io(e)),
    }
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| StorageError::Io {
            path: dir.to_path_buf(),
            source,
        })
}

impl Storage for SledStorage {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.tree(space)?.get(key)?.map(|v| v.to_vec()))
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
        let iter = self.tree(space)?.range((start, end));
        let map = |r: sled::Result<(sled::IVec, sled::IVec)>| {
            r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                .map_err(StorageError::from)
        };
        Ok(if reverse {
            Box::new(iter.rev().map(map))
        } else {
            Box::new(iter.map(map))
        })
    }

    fn commit_checked(&self, writes: Vec<Write>, checks: Vec<Check>) -> Result<(), StorageError> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut spaces: Vec<Space> = writes
            .iter()
            .map(|w| w.space)
            .chain(checks.iter().map(|c| c.space))
            .collect();
        spaces.sort_unstable();
        spaces.dedup();
        let trees = spaces
            .iter()
            .map(|s| self.tree(*s))
            .collect::<Result<Vec<_>, _>>()?;
        // Positions resolved once, outside the closure sled may re-run.
        let slot = |s: Space| spaces.binary_search(&s).unwrap_or(0);
        let write_slots: Vec<usize> = writes.iter().map(|w| slot(w.space)).collect();
        let check_slots: Vec<usize> = checks.iter().map(|c| slot(c.space)).collect();
        let result = trees.as_slice().transaction(|views| {
            for (c, &slot) in checks.iter().zip(&check_slots) {
                if views[slot].get(&c.key)?.as_deref() != c.expected.as_deref() {
                    return Err(ConflictableTransactionError::Abort(Failed::Changed(
                        c.space,
                        c.key.clone(),
                    )));
                }
            }
            for (w, &slot) in writes.iter().zip(&write_slots) {
                let t = &views[slot];
                if w.must_be_absent && t.get(&w.key)?.is_some() {
                    return Err(ConflictableTransactionError::Abort(Failed::Exists(
                        w.space,
                        w.key.clone(),
                    )));
                }
                match &w.value {
                    Some(v) => t.insert(w.key.as_slice(), v.as_slice())?,
                    None => t.remove(w.key.as_slice())?,
                };
            }
            Ok(())
        });
        match result {
            Ok(()) => {}
            Err(TransactionError::Abort(Failed::Exists(space, key))) => {
                return Err(StorageError::KeyExists { space, key })
            }
            Err(TransactionError::Abort(Failed::Changed(space, key))) => {
                return Err(StorageError::WriteConflict { space, key })
            }
            Err(TransactionError::Storage(e)) => return Err(e.into()),
        }
        self.durable_flush()
    }

    fn allocate_ids(&self, counter: &[u8], n: u64) -> Result<u64, StorageError> {
        self.counters.allocate(self, counter, n)
    }

    fn rebase_ids(&self, counter: &[u8], used: u64) -> Result<(), StorageError> {
        self.counters.rebase(self, counter, used)
    }

    fn drop_space(&self, space: Space) -> Result<(), StorageError> {
        let Space::Table(id) = space else {
            return Err(StorageError::Misuse(
                "the meta space cannot be dropped".into(),
            ));
        };
        self.trees.write().remove(&id);
        self.db.drop_tree(tree_name(id))?;
        self.durable_flush()
    }

    fn flush(&self) -> Result<(), StorageError> {
        self.counters.persist_exact(self)?;
        self.durable_flush()
    }
}

impl Drop for SledStorage {
    fn drop(&mut self) {
        // A clean close keeps AUTO_INCREMENT contiguous across restarts.
        if let Err(e) = Storage::flush(self) {
            tracing::warn!(error = %e, "flushing storage on close failed");
        }
    }
}
