use std::path::PathBuf;

/// Everything that can go wrong in the index engine. Bad input (wrong
/// length, NaN, a zero vector under cosine) is refused before it reaches
/// the graph.
#[derive(Debug, thiserror::Error)]
pub enum AnnError {
    #[error("vector has {got} dimensions, the index has {expected}")]
    Dimension { expected: usize, got: usize },

    #[error("vector contains NaN or infinity")]
    NonFinite,

    /// Cosine distance is undefined for a zero vector (TiDB returns NULL);
    /// the executor keeps such rows out of the index and scans them instead.
    #[error("zero vector has no cosine distance")]
    ZeroVector,

    #[error("invalid index parameter: {0}")]
    InvalidParams(String),

    /// The index was opened read-only (memory-mapped view).
    #[error("index is a read-only view")]
    ReadOnly,

    /// An internal limit was reached (more than 2^32 - 1 nodes).
    #[error("ANN index: {0}")]
    Engine(String),

    #[error("index file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file is not a complete index written by `save`: truncated,
    /// bit-flipped, foreign, or from an incompatible format version.
    #[error("index file {path} is damaged: {reason}")]
    Corrupt { path: PathBuf, reason: String },

    /// The file is intact but was built for another metric, dimension or
    /// graph parameters than the caller asked for; rebuild it.
    #[error("index file {path} does not match: {reason}")]
    Mismatch { path: PathBuf, reason: String },
}

pub type Result<T, E = AnnError> = std::result::Result<T, E>;
