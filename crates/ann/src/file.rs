//! Saving and loading an index.
//!
//! File layout (all integers little-endian):
//!
//! ```text
//! [usearch blob: blob_len bytes]   exactly what usearch's `save` writes
//! [meta: meta_len bytes]           the caller's bytes (e.g. a commit sequence)
//! [trailer: 56 bytes]
//!    0  magic "TIEANNv1"      8
//!    8  format version u32    (1)
//!   12  metric u32            (0 cosine, 1 L2)
//!   16  dim u32
//!   20  M u32
//!   24  ef_construction u32
//!   28  storage u32           (0 f32, 1 bf16, 2 f16)
//!   32  blob_len u64
//!   40  meta_len u64
//!   48  XXH64 of every byte before this field
//! ```
//!
//! The usearch blob comes first so usearch can read (or memory-map) the file
//! itself, from offset 0, without a copy; it ignores the bytes after its own.
//! usearch does not validate what it reads, so `load` checks the trailer and
//! the checksum over the whole file before usearch opens it: a truncated,
//! bit-flipped or foreign file is an error, never a crash.
//!
//! `save` is atomic: usearch writes a temporary file beside the target, the
//! trailer is appended, the file is fsynced and renamed over the target, and
//! the directory is fsynced. A crash leaves either the old file or the new one
//! (plus possibly a stray temporary, overwritten by the next save).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tiembed_types::{HnswParams, VectorMetric};
use usearch::Index;

use crate::checksum::Xxh64;
use crate::error::{engine, AnnError, Result};
use crate::index::{options, validate, AnnIndex, Storage};

const MAGIC: &[u8; 8] = b"TIEANNv1";
const FORMAT_VERSION: u32 = 1;
const TRAILER_LEN: u64 = 56;

struct Trailer {
    metric: u32,
    dim: u32,
    m: u32,
    ef_construction: u32,
    storage: u32,
    blob_len: u64,
    meta_len: u64,
}

impl Trailer {
    /// Everything but the checksum.
    fn encode(&self) -> [u8; 48] {
        let mut b = [0u8; 48];
        b[0..8].copy_from_slice(MAGIC);
        b[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&self.metric.to_le_bytes());
        b[16..20].copy_from_slice(&self.dim.to_le_bytes());
        b[20..24].copy_from_slice(&self.m.to_le_bytes());
        b[24..28].copy_from_slice(&self.ef_construction.to_le_bytes());
        b[28..32].copy_from_slice(&self.storage.to_le_bytes());
        b[32..40].copy_from_slice(&self.blob_len.to_le_bytes());
        b[40..48].copy_from_slice(&self.meta_len.to_le_bytes());
        b
    }

    fn decode(b: &[u8; 56]) -> std::result::Result<(Self, u64), String> {
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if &b[0..8] != MAGIC {
            return Err("not a tiembed ANN index file (bad magic)".into());
        }
        if u32_at(8) != FORMAT_VERSION {
            return Err(format!("unsupported format version {}", u32_at(8)));
        }
        let trailer = Trailer {
            metric: u32_at(12),
            dim: u32_at(16),
            m: u32_at(20),
            ef_construction: u32_at(24),
            storage: u32_at(28),
            blob_len: u64_at(32),
            meta_len: u64_at(40),
        };
        Ok((trailer, u64_at(48)))
    }
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

/// usearch takes paths as UTF-8 strings.
fn utf8(path: &Path) -> Result<&str> {
    path.to_str().ok_or_else(|| AnnError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "path is not UTF-8"),
    })
}

/// Feeds the first `len` bytes of `file` to `hasher`.
fn hash_prefix(file: &mut File, len: u64, hasher: &mut Xxh64) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; 4 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        file.read_exact(&mut buf[..n])?;
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(())
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

impl AnnIndex {
    /// Writes the index to `path` atomically, with `meta` stored beside it
    /// (returned by `load`). Searches go on meanwhile; adds and removes wait
    /// until usearch has written its part.
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
        {
            let _writers = self.writers.write();
            self.inner.read().save(utf8(tmp)?).map_err(engine)?;
        }
        // Hash by reading the file back: usearch writes it itself, and
        // asking it for an in-memory copy instead would double peak memory.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(tmp)
            .map_err(io(tmp))?;
        let blob_len = file.metadata().map_err(io(tmp))?.len();
        let mut hasher = Xxh64::new();
        hash_prefix(&mut file, blob_len, &mut hasher).map_err(io(tmp))?;
        let trailer = Trailer {
            metric: metric_code(self.metric),
            dim: self.dim as u32,
            m: self.params.m,
            ef_construction: self.params.ef_construction,
            storage: self.storage.code(),
            blob_len,
            meta_len: meta.len() as u64,
        }
        .encode();
        hasher.update(meta);
        hasher.update(&trailer);
        file.seek(SeekFrom::End(0)).map_err(io(tmp))?;
        file.write_all(meta).map_err(io(tmp))?;
        file.write_all(&trailer).map_err(io(tmp))?;
        file.write_all(&hasher.digest().to_le_bytes())
            .map_err(io(tmp))?;
        file.sync_all().map_err(io(tmp))
    }

    /// Loads an index saved by [`AnnIndex::save`] into memory and returns it
    /// with the saved `meta`. Fails with [`AnnError::Corrupt`] for a damaged
    /// file and [`AnnError::Mismatch`] when it was built for another metric,
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

    /// Like [`AnnIndex::load`] but memory-maps the file instead of reading
    /// it: opening costs one checksum pass, pages come in on demand, and the
    /// page cache is shared. The result is read-only (usearch cannot modify a
    /// view), so this suits a snapshot that is searched, not updated.
    /// The file must not be changed while the view is open (`save` replaces
    /// it with a new inode, which is safe).
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
        view: bool,
    ) -> Result<(Self, Vec<u8>)> {
        validate(dim, params)?;
        let (meta, storage) = verify(path, metric, dim, params)?;
        let path_str = utf8(path)?;

        // The checksum proves the blob is what usearch wrote; this proves it
        // was written by a usearch that reads it the same way.
        let head = Index::metadata(path_str).map_err(|e| corrupt(path, e.to_string()))?;
        let expected = options(metric, dim, params, storage);
        if head.dimensions != dim as u64
            || head.metric != expected.metric
            || head.quantization != expected.quantization
            || head.multi
        {
            return Err(corrupt(path, "usearch header disagrees with the trailer"));
        }
        let ours = usearch::version().split('.').next().unwrap_or("");
        if head.version_major.to_string() != ours {
            return Err(mismatch(
                path,
                format!(
                    "written by usearch {}.x, this build has {}",
                    head.version_major,
                    usearch::version()
                ),
            ));
        }

        let index = Index::new(&expected).map_err(engine)?;
        let opened = if view {
            index.view(path_str)
        } else {
            index.load(path_str)
        };
        opened.map_err(|e| corrupt(path, e.to_string()))?;
        // The saved config carries the build-time expansions; searches
        // without an explicit ef use the caller's default.
        index.change_expansion_search(params.ef_search as usize);
        index.change_expansion_add(params.ef_construction as usize);
        let ann = AnnIndex::wrap(metric, dim, params, storage, index, view)?;
        tracing::debug!(path = %path.display(), len = ann.len(), view, "loaded HNSW index");
        Ok((ann, meta))
    }
}

/// Checks the trailer and checksum; returns the caller's meta bytes and the
/// vector storage the file was built with.
fn verify(
    path: &Path,
    metric: VectorMetric,
    dim: usize,
    params: HnswParams,
) -> Result<(Vec<u8>, Storage)> {
    let mut file = File::open(path).map_err(io(path))?;
    let len = file.metadata().map_err(io(path))?.len();
    if len < TRAILER_LEN {
        return Err(corrupt(path, format!("{len} bytes is too short")));
    }
    let mut raw = [0u8; TRAILER_LEN as usize];
    file.seek(SeekFrom::Start(len - TRAILER_LEN))
        .map_err(io(path))?;
    file.read_exact(&mut raw).map_err(io(path))?;
    let (trailer, stored_sum) = Trailer::decode(&raw).map_err(|r| corrupt(path, r))?;
    let expected_len = trailer
        .blob_len
        .checked_add(trailer.meta_len)
        .and_then(|n| n.checked_add(TRAILER_LEN));
    if expected_len != Some(len) {
        return Err(corrupt(
            path,
            format!(
                "length {len} does not match the trailer (blob {} + meta {})",
                trailer.blob_len, trailer.meta_len
            ),
        ));
    }

    let mut hasher = Xxh64::new();
    hash_prefix(&mut file, len - 8, &mut hasher).map_err(io(path))?;
    if hasher.digest() != stored_sum {
        return Err(corrupt(path, "checksum mismatch"));
    }

    if trailer.metric != metric_code(metric) || trailer.dim as usize != dim {
        return Err(mismatch(
            path,
            format!(
                "file has metric code {} and dimension {}, wanted {:?} and {dim}",
                trailer.metric, trailer.dim, metric
            ),
        ));
    }
    if trailer.m != params.m || trailer.ef_construction != params.ef_construction {
        return Err(mismatch(
            path,
            format!(
                "file has M={} ef_construction={}, wanted M={} ef_construction={}",
                trailer.m, trailer.ef_construction, params.m, params.ef_construction
            ),
        ));
    }

    let storage = Storage::from_code(trailer.storage)
        .ok_or_else(|| corrupt(path, format!("unknown storage code {}", trailer.storage)))?;

    let mut meta = vec![0u8; trailer.meta_len as usize];
    file.seek(SeekFrom::Start(trailer.blob_len))
        .map_err(io(path))?;
    file.read_exact(&mut meta).map_err(io(path))?;
    Ok((meta, storage))
}
