//! Saving and loading an index.
//!
//! File layout (integers little-endian; arrays in node-id order):
//!
//! ```text
//! header, 88 bytes
//!    0  magic "TIEANN\0\x02"     8
//!    8  format version u32       (2)
//!   12  metric u32               (0 cosine, 1 L2)
//!   16  dim u32
//!   20  M u32
//!   24  ef_construction u32
//!   28  storage u32              (0 f32, 1 bf16, 2 f16)
//!   32  nodes u64                (n: live nodes and tombstones)
//!   40  live u64
//!   48  entry u64                ((level << 32) | node, or all ones)
//!   56  upper_words u64          (u32 words of upper-level slots)
//!   64  meta_len u64
//!   72  row_bytes u32            (bytes per vector row, padded)
//!   76  reserved u32             (0)
//!   80  XXH64 of bytes 0..80
//! vectors    n * row_bytes       the arena as stored (unit rows for cosine)
//! links0     n * (1 + 2M) u32    [count, neighbours...] per node
//! levels     n u8                upper levels of each node
//! upper      upper_words u32     level * (1 + M) per node, in node order
//! keys       n u64
//! flags      n u8                0 live, 1 tombstone
//! meta       meta_len bytes      the caller's bytes (e.g. a commit sequence)
//! XXH64 of every byte before it
//! ```
//!
//! The header has its own checksum so that a damaged header is reported as
//! damage (not as a mismatch) before the body is read, and the length it
//! implies is checked against the file's before anything is allocated. The
//! body is hashed while it is read (one pass, big reads, no per-node
//! allocation), and then every link, level and key is range-checked, so a
//! file that passes is a well-formed graph; one that does not is
//! [`AnnError::Corrupt`], never a panic.
//!
//! `save` is atomic: it writes a temporary file beside the target, fsyncs
//! it, renames it over the target and fsyncs the directory. A crash leaves
//! either the old file or the new one (plus possibly a stray temporary,
//! overwritten by the next save).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering::*};

use tiembed_types::{HnswParams, VectorMetric};

use crate::checksum::Xxh64;
use crate::error::{AnnError, Result};
use crate::graph::{Graph, DEAD, LIVE, MAX_LEVEL, NO_ENTRY};
use crate::index::{validate, AnnIndex, Storage};

const MAGIC: &[u8; 8] = b"TIEANN\0\x02";
const FORMAT_VERSION: u32 = 2;
const HEADER_LEN: usize = 88;
/// Bytes per read or write call.
const CHUNK: usize = 8 << 20;

struct Header {
    metric: u32,
    dim: u32,
    m: u32,
    ef_construction: u32,
    storage: u32,
    nodes: u64,
    live: u64,
    entry: u64,
    upper_words: u64,
    meta_len: u64,
    row_bytes: u32,
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(MAGIC);
        let mut put = |at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
        put(8, &FORMAT_VERSION.to_le_bytes());
        put(12, &self.metric.to_le_bytes());
        put(16, &self.dim.to_le_bytes());
        put(20, &self.m.to_le_bytes());
        put(24, &self.ef_construction.to_le_bytes());
        put(28, &self.storage.to_le_bytes());
        put(32, &self.nodes.to_le_bytes());
        put(40, &self.live.to_le_bytes());
        put(48, &self.entry.to_le_bytes());
        put(56, &self.upper_words.to_le_bytes());
        put(64, &self.meta_len.to_le_bytes());
        put(72, &self.row_bytes.to_le_bytes());
        let sum = xxh64(&b[..80]);
        b[80..88].copy_from_slice(&sum.to_le_bytes());
        b
    }

    fn decode(b: &[u8; HEADER_LEN]) -> std::result::Result<Self, String> {
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if &b[0..8] != MAGIC {
            return Err("not a tiembed ANN index file (bad magic)".into());
        }
        if xxh64(&b[..80]) != u64_at(80) {
            return Err("header checksum mismatch".into());
        }
        if u32_at(8) != FORMAT_VERSION {
            return Err(format!("unsupported format version {}", u32_at(8)));
        }
        Ok(Header {
            metric: u32_at(12),
            dim: u32_at(16),
            m: u32_at(20),
            ef_construction: u32_at(24),
            storage: u32_at(28),
            nodes: u64_at(32),
            live: u64_at(40),
            entry: u64_at(48),
            upper_words: u64_at(56),
            meta_len: u64_at(64),
            row_bytes: u32_at(72),
        })
    }

    /// Total file length this header implies (None on overflow).
    fn file_len(&self) -> Option<u64> {
        let n = self.nodes;
        let links = n.checked_mul(4 * (1 + 2 * self.m as u64))?;
        [
            n.checked_mul(self.row_bytes as u64)?,
            links,
            n,
            self.upper_words.checked_mul(4)?,
            n.checked_mul(8)?,
            n,
            self.meta_len,
            8,
        ]
        .iter()
        .try_fold(HEADER_LEN as u64, |acc, &x| acc.checked_add(x))
    }
}

fn xxh64(b: &[u8]) -> u64 {
    let mut h = Xxh64::new();
    h.update(b);
    h.digest()
}

fn metric_code(metric: VectorMetric) -> u32 {
    match metric {
        VectorMetric::Cosine => 0,
        VectorMetric::L2 => 1,
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AnnError + '_ {
    move |source| AnnError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path, reason: impl Into<String>) -> AnnError {
    AnnError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn mismatch(path: &Path, reason: impl Into<String>) -> AnnError {
    AnnError::Mismatch {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// A buffered writer that hashes what it writes.
struct Out {
    w: BufWriter<File>,
    h: Xxh64,
    buf: Vec<u8>,
}

impl Out {
    fn put(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.h.update(b);
        self.w.write_all(b)
    }

    /// Writes `items` converted by `f` into the staging buffer, flushing it
    /// in large pieces.
    fn put_all<T>(
        &mut self,
        items: impl Iterator<Item = T>,
        mut f: impl FnMut(T, &mut Vec<u8>),
    ) -> std::io::Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        for x in items {
            f(x, &mut buf);
            if buf.len() >= CHUNK {
                self.put(&buf)?;
                buf.clear();
            }
        }
        self.put(&buf)?;
        self.buf = buf;
        Ok(())
    }
}

impl AnnIndex {
    /// Writes the index to `path` atomically, with `meta` stored beside it
    /// (returned by `load`). Searches go on meanwhile; adds and removes wait.
    pub fn save(&self, path: &Path, meta: &[u8]) -> Result<()> {
        let tmp = tmp_path(path);
        let result = self.save_to(&tmp, meta).and_then(|()| {
            std::fs::rename(&tmp, path).map_err(io(path))?;
            sync_dir(path).map_err(io(path))
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    fn save_to(&self, tmp: &Path, meta: &[u8]) -> Result<()> {
        let _writers = self.writers.write();
        let g = self.graph.read();
        let live = self.keys.lock().len();
        let n = g.len();
        let levels: Vec<u8> = (0..n as u32).map(|id| g.level(id) as u8).collect();
        let upper_words: usize = levels.iter().map(|&l| l as usize * (1 + g.m)).sum();
        let header = Header {
            metric: metric_code(self.metric),
            dim: self.dim as u32,
            m: self.params.m,
            ef_construction: self.params.ef_construction,
            storage: self.storage.code(),
            nodes: n as u64,
            live: live as u64,
            entry: g.entry.load(Acquire),
            upper_words: upper_words as u64,
            meta_len: meta.len() as u64,
            row_bytes: g.row_bytes() as u32,
        };
        let file = File::create(tmp).map_err(io(tmp))?;
        let mut out = Out {
            w: BufWriter::with_capacity(CHUNK, file),
            h: Xxh64::new(),
            buf: Vec::with_capacity(CHUNK + 4096),
        };
        let words = |s: &[AtomicU32], b: &mut Vec<u8>| {
            for w in s {
                b.extend_from_slice(&w.load(Relaxed).to_le_bytes());
            }
        };
        (|| {
            out.put(&header.encode())?;
            out.put_all(g.vectors[..n * g.blocks_per_row].iter(), |blk, b| {
                words(&blk.0, b)
            })?;
            out.put_all(g.links0[..n * (1 + g.m0)].chunks(4096), words)?;
            out.put(&levels)?;
            out.put_all(g.upper[..n].iter().filter_map(|u| u.get()), |u, b| {
                words(u, b)
            })?;
            out.put_all(g.keys[..n].iter(), |k, b| {
                b.extend_from_slice(&k.load(Relaxed).to_le_bytes())
            })?;
            out.put_all(g.flags[..n].iter(), |f, b| b.push(f.load(Acquire)))?;
            out.put(meta)?;
            let sum = out.h.digest();
            out.w.write_all(&sum.to_le_bytes())?;
            out.w.into_inner().map_err(|e| e.into_error())?.sync_all()
        })()
        .map_err(io(tmp))
    }

    /// Loads an index saved by [`AnnIndex::save`] and returns it with the
    /// saved `meta`. Fails with [`AnnError::Corrupt`] for a damaged file and
    /// [`AnnError::Mismatch`] when it was built for another metric,
    /// dimension, M or ef_construction (the caller rebuilds then).
    /// `params.ef_search` is taken from the caller, not the file; the
    /// [`Storage`] is the file's.
    pub fn load(
        path: &Path,
        metric: VectorMetric,
        dim: usize,
        params: HnswParams,
    ) -> Result<(Self, Vec<u8>)> {
        Self::open(path, metric, dim, params, false)
    }

    /// Like [`AnnIndex::load`] but read-only: searchable, while add, remove
    /// and reserve fail with [`AnnError::ReadOnly`]. (The usearch engine
    /// memory-mapped the file here; loading is now fast enough, 2.7 s for
    /// the 1.7 GB file of 1M x 384, that a copy keeps the code simple and
    /// safe.)
    pub fn view(
        path: &Path,
        metric: VectorMetric,
        dim: usize,
        params: HnswParams,
    ) -> Result<(Self, Vec<u8>)> {
        Self::open(path, metric, dim, params, true)
    }

    fn open(
        path: &Path,
        metric: VectorMetric,
        dim: usize,
        params: HnswParams,
        read_only: bool,
    ) -> Result<(Self, Vec<u8>)> {
        validate(dim, params)?;
        let mut file = File::open(path).map_err(io(path))?;
        let len = file.metadata().map_err(io(path))?.len();
        if len < (HEADER_LEN + 8) as u64 {
            return Err(corrupt(path, format!("{len} bytes is too short")));
        }
        let mut raw = [0u8; HEADER_LEN];
        file.read_exact(&mut raw).map_err(io(path))?;
        let h = Header::decode(&raw).map_err(|r| corrupt(path, r))?;
        if h.file_len() != Some(len) {
            return Err(corrupt(
                path,
                format!("length {len} does not match the header"),
            ));
        }
        let storage = Storage::from_code(h.storage)
            .ok_or_else(|| corrupt(path, format!("unknown storage code {}", h.storage)))?;
        if h.metric != metric_code(metric) || h.dim as usize != dim {
            return Err(mismatch(
                path,
                format!(
                    "file has metric code {} and dimension {}, wanted {:?} and {dim}",
                    h.metric, h.dim, metric
                ),
            ));
        }
        if h.m != params.m || h.ef_construction != params.ef_construction {
            return Err(mismatch(
                path,
                format!(
                    "file has M={} ef_construction={}, wanted M={} ef_construction={}",
                    h.m, h.ef_construction, params.m, params.ef_construction
                ),
            ));
        }
        let mut g = Graph::new(metric, storage, dim, params.m as usize);
        if h.row_bytes as usize != g.row_bytes() || h.nodes >= u32::MAX as u64 {
            return Err(corrupt(path, "row size or node count out of range"));
        }
        let n = h.nodes as usize;
        // The length check above bounds every allocation by the file size.
        g.grow(n);
        let mut r = In {
            file,
            h: Xxh64::new(),
            buf: vec![0u8; CHUNK],
        };
        r.h.update(&raw);
        let m0 = g.m0;
        let bpr = g.blocks_per_row;
        (|| -> std::io::Result<Vec<u8>> {
            r.words(
                n * bpr * 8,
                g.vectors[..n * bpr].iter_mut().flat_map(|b| b.0.iter_mut()),
            )?;
            r.words(n * (1 + m0), g.links0[..n * (1 + m0)].iter_mut())?;
            let mut levels = vec![0u8; n];
            r.bytes(&mut levels)?;
            let mut upper: Vec<AtomicU32> = Vec::new();
            upper.resize_with(h.upper_words as usize, || AtomicU32::new(0));
            r.words(upper.len(), upper.iter_mut())?;
            r.chunks(n * 8, |i, b| {
                for (j, c) in b.chunks_exact(8).enumerate() {
                    *g.keys[i / 8 + j].get_mut() = u64::from_le_bytes(c.try_into().expect("8"));
                }
            })?;
            r.chunks(n, |i, b| {
                for (j, &f) in b.iter().enumerate() {
                    *g.flags[i + j].get_mut() = f;
                }
            })?;
            let mut meta = vec![0u8; h.meta_len as usize];
            r.bytes(&mut meta)?;
            let mut sum = [0u8; 8];
            r.file.read_exact(&mut sum)?;
            if u64::from_le_bytes(sum) != r.h.digest() {
                return Err(std::io::Error::other(Damaged("checksum mismatch".into())));
            }
            // Hand the upper slots to their nodes.
            let s = 1 + g.m;
            let mut words = upper.into_iter();
            for (id, &l) in levels.iter().enumerate() {
                if l as usize > MAX_LEVEL {
                    return Err(std::io::Error::other(Damaged("level out of range".into())));
                }
                if l > 0 {
                    let slots: Box<[AtomicU32]> = words.by_ref().take(l as usize * s).collect();
                    if slots.len() != l as usize * s {
                        return Err(std::io::Error::other(Damaged("upper links short".into())));
                    }
                    let _ = g.upper[id].set(slots);
                }
            }
            if words.next().is_some() {
                return Err(std::io::Error::other(Damaged(
                    "upper links too long".into(),
                )));
            }
            Ok(meta)
        })()
        .map_err(|e| match e.downcast::<Damaged>() {
            Ok(d) => corrupt(path, d.0),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                corrupt(path, "file ended early")
            }
            Err(e) => AnnError::Io {
                path: path.to_path_buf(),
                source: e,
            },
        })
        .and_then(|meta| {
            let keys = check_graph(&mut g, &h).map_err(|r| corrupt(path, r))?;
            Ok((keys, meta))
        })
        .map(|(keys, meta)| {
            let ann = AnnIndex::from_parts(metric, dim, params, storage, g, keys, read_only);
            tracing::debug!(path = %path.display(), nodes = n, read_only, "loaded HNSW index");
            (ann, meta)
        })
    }
}

#[derive(Debug)]
struct Damaged(String);

impl std::fmt::Display for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Damaged {}

/// A reader that hashes what it reads.
struct In {
    file: File,
    h: Xxh64,
    buf: Vec<u8>,
}

impl In {
    fn bytes(&mut self, out: &mut [u8]) -> std::io::Result<()> {
        self.file.read_exact(out)?;
        self.h.update(out);
        Ok(())
    }

    /// Reads `len` bytes in large pieces, calling `f(offset, piece)`.
    fn chunks(&mut self, len: usize, mut f: impl FnMut(usize, &[u8])) -> std::io::Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        let mut done = 0;
        while done < len {
            let k = (len - done).min(buf.len());
            self.bytes(&mut buf[..k])?;
            f(done, &buf[..k]);
            done += k;
        }
        self.buf = buf;
        Ok(())
    }

    /// Fills `words` with little-endian u32s.
    fn words<'a>(
        &mut self,
        count: usize,
        mut words: impl Iterator<Item = &'a mut AtomicU32>,
    ) -> std::io::Result<()> {
        self.chunks(count * 4, |_, b| {
            // The piece first: `zip` pulls from its first iterator before
            // noticing the second has ended, and would drop a word.
            for (c, w) in b.chunks_exact(4).zip(words.by_ref()) {
                *w.get_mut() = u32::from_le_bytes(c.try_into().expect("4 bytes"));
            }
        })
    }
}

/// Range-checks a loaded graph; returns the live key map.
fn check_graph(g: &mut Graph, h: &Header) -> std::result::Result<HashMap<u64, u32>, String> {
    let n = h.nodes as usize;
    *g.count.get_mut() = n as u32;
    for id in 0..n as u32 {
        for level in 0..=g.level(id) {
            let cap = if level == 0 { g.m0 } else { g.m };
            let slot = g.slot(id, level);
            let count = slot[0].load(Relaxed) as usize;
            if count > cap
                || slot[1..=count]
                    .iter()
                    .any(|a| a.load(Relaxed) as usize >= n)
            {
                return Err(format!("node {id} has a bad link list at level {level}"));
            }
        }
    }
    if h.entry == NO_ENTRY {
        if n != 0 {
            return Err("no entry point".into());
        }
    } else {
        let (node, level) = (h.entry as u32, (h.entry >> 32) as usize);
        if node as usize >= n || g.level(node) != level {
            return Err("bad entry point".into());
        }
    }
    *g.entry.get_mut() = h.entry;
    let mut keys = HashMap::with_capacity(h.live as usize);
    for id in 0..n as u32 {
        match g.flags[id as usize].load(Relaxed) {
            LIVE => {
                if keys.insert(g.key(id), id).is_some() {
                    return Err(format!("key {} is live twice", g.key(id)));
                }
            }
            DEAD => {}
            f => return Err(format!("node {id} has flag {f}")),
        }
    }
    if keys.len() as u64 != h.live {
        return Err("live count does not match".into());
    }
    Ok(keys)
}
