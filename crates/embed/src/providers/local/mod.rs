//! The in-process embedding model: a sentence-transformers model directory
//! run on candle.
//!
//! A directory holds `config.json`, `model.safetensors` (memory-mapped),
//! `tokenizer.json`, `modules.json`, `sentence_bert_config.json` and
//! `1_Pooling/config.json`; see [`st_config`] for how they are read. The
//! architecture comes from `config.json` (`model_type` / `architectures`):
//! BERT ([`bert`]), MPNet ([`mpnet`], written here since candle has none),
//! XLM-RoBERTa ([`xlm_roberta`]) and Qwen3 ([`qwen3`]). BERT models of the
//! usual configuration (all-MiniLM-L6-v2) run on [`packed_bert`], a CPU
//! encoder over unpadded tokens, the rest on candle's tensors.
//!
//! Inputs are handled as sentence-transformers handles them: truncation at
//! `max_seq_length` (not the tokenizer.json's own truncation, which for
//! all-MiniLM-L6-v2 says 128), padding per batch to the longest text, the
//! pooling module's mode(s), then L2 normalisation when `modules.json` lists
//! a Normalize module. A batch is sorted by token count and cut into
//! sub-batches of similar length so short texts do not pay for a long
//! one's padding; vectors come back in input order.

mod bert;
mod locate;
mod mpnet;
mod packed_bert;
mod pooling;
mod qwen3;
mod st_config;
mod tokenize;
mod xlm_roberta;

pub use locate::find_model_dir;
pub use pooling::PoolingMode;

use crate::{EmbedError, Embedder};
use async_trait::async_trait;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The model families the local provider can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    Bert,
    MPNet,
    XlmRoberta,
    Qwen3,
}

impl Architecture {
    /// Picks the architecture from `config.json`'s `model_type`, falling back
    /// to its `architectures` list.
    fn detect(config: &serde_json::Value) -> Option<Architecture> {
        let from_name = |s: &str| -> Option<Architecture> {
            let s = s.to_ascii_lowercase();
            if s.starts_with("xlm-roberta")
                || s.starts_with("xlm_roberta")
                || s.starts_with("xlmroberta")
            {
                Some(Architecture::XlmRoberta)
            } else if s.starts_with("mpnet") {
                Some(Architecture::MPNet)
            } else if s.starts_with("qwen3")
                && !s.starts_with("qwen3_moe")
                && !s.starts_with("qwen3moe")
            {
                Some(Architecture::Qwen3)
            } else if s == "bert" || s.starts_with("bertmodel") || s.starts_with("bertfor") {
                Some(Architecture::Bert)
            } else {
                None
            }
        };
        if let Some(a) = config
            .get("model_type")
            .and_then(|v| v.as_str())
            .and_then(from_name)
        {
            return Some(a);
        }
        config
            .get("architectures")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .find_map(from_name)
    }

    /// The longest input the position encoding of this family can take,
    /// given its config; `None` when nothing in the config limits it.
    fn position_capacity(self, config: &serde_json::Value) -> Option<usize> {
        let mpe = config
            .get("max_position_embeddings")
            .and_then(|v| v.as_u64())
            .map(|v| v as usize);
        let pad = config
            .get("pad_token_id")
            .and_then(|v| v.as_u64())
            .unwrap_or(1) as usize;
        match self {
            Architecture::Bert => mpe,
            // RoBERTa-style positions start after the padding index.
            Architecture::MPNet | Architecture::XlmRoberta => {
                mpe.map(|m| m.saturating_sub(pad + 1))
            }
            Architecture::Qwen3 => mpe,
        }
    }

    /// Inputs are cut at this many tokens whatever the model directory says:
    /// TiDB documents Qwen3-Embedding-0.6B with a 512-token input.
    fn policy_cap(self) -> Option<usize> {
        match self {
            Architecture::Qwen3 => Some(512),
            _ => None,
        }
    }
}

/// Runs the transformer: token ids, token type ids and the attention mask,
/// all `(batch, seq)` u32 and padded on the right, to hidden states
/// `(batch, seq, hidden)`.
trait Encoder: Send + Sync {
    fn forward(
        &self,
        input_ids: &Tensor,
        type_ids: &Tensor,
        mask: &Tensor,
    ) -> candle_core::Result<Tensor>;
}

/// Padded token count one sub-batch may hold. Attention memory grows with
/// rows x length^2, so long texts go in small groups and short ones in big
/// ones; 8192 keeps a 512-token group of XLM-R large under ~300 MB.
const TOKEN_BUDGET: usize = 8192;
/// Rows per sub-batch at most, whatever their length.
const MAX_ROWS: usize = 64;

/// An in-process sentence-transformers model. Cheap to clone (shared).
#[derive(Clone)]
pub struct LocalModel {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    arch: Architecture,
    encoder: Box<dyn Encoder>,
    tokenizer: tokenize::TextTokenizer,
    pooling: Vec<PoolingMode>,
    normalize: bool,
    dims: usize,
    threads: usize,
    /// The forward pass runs inside this pool, so candle's and gemm's rayon
    /// work uses exactly `threads` threads and never the global pool.
    pool: rayon::ThreadPool,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("dir", &self.inner.dir)
            .field("arch", &self.inner.arch)
            .field("dims", &self.inner.dims)
            .field("max_seq_length", &self.inner.tokenizer.max_len())
            .field("threads", &self.inner.threads)
            .finish()
    }
}

/// Makes candle's own threading match `threads` (0: one per core) for the
/// whole process. candle splits every matmul by `RAYON_NUM_THREADS` and
/// runs large element-wise ops on a spinning pool sized by
/// `CANDLE_NUM_THREADS`, both read from the environment, not from the pool
/// a [`LocalModel`] runs in; measured on a busy 2-core machine, a 1-thread
/// model whose matmuls still split in two ran at 65% of the speed of a truly
/// single-threaded one. Call this at the top of `main`, before any other
/// thread exists (changing the environment while another thread reads it is
/// unsound). Variables the user has set are left alone.
pub fn init_process_threads(threads: usize) {
    if threads == 0 {
        return;
    }
    for var in ["RAYON_NUM_THREADS", "CANDLE_NUM_THREADS"] {
        if std::env::var_os(var).is_none() {
            std::env::set_var(var, threads.to_string());
        }
    }
}

/// Wraps a failure while loading `dir` in the provider error.
fn load_err(dir: &Path, what: impl std::fmt::Display) -> EmbedError {
    EmbedError::Provider(format!("cannot load local model {}: {what}", dir.display()))
}

impl LocalModel {
    /// Loads a sentence-transformers model directory. `threads` is the
    /// number of threads one forward pass may use (0: one per core).
    pub fn load(dir: &Path, threads: usize) -> Result<LocalModel, EmbedError> {
        let st = st_config::SentenceTransformerConfig::read(dir).map_err(|e| load_err(dir, e))?;
        let model_dir = st.transformer_dir.clone();
        let config_text = std::fs::read_to_string(model_dir.join("config.json"))
            .map_err(|e| load_err(dir, format!("config.json: {e}")))?;
        let config: serde_json::Value = serde_json::from_str(&config_text)
            .map_err(|e| load_err(dir, format!("config.json: {e}")))?;
        let arch = Architecture::detect(&config).ok_or_else(|| {
            let kind = config.get("model_type").and_then(|v| v.as_str()).unwrap_or("(none)");
            load_err(dir, format!("unsupported architecture (model_type {kind}); supported: bert, mpnet, xlm-roberta, qwen3"))
        })?;

        let max_len = st
            .max_seq_length(&config)
            .into_iter()
            .chain(arch.position_capacity(&config))
            .chain(arch.policy_cap())
            .min()
            .ok_or_else(|| load_err(dir, "no max_seq_length and no max_position_embeddings"))?;
        let pad_id = config
            .get("pad_token_id")
            .and_then(|v| v.as_u64())
            .map(|v| v as u32);
        let tokenizer =
            tokenize::TextTokenizer::load(&model_dir, max_len, st.do_lower_case, pad_id)
                .map_err(|e| load_err(dir, e))?;

        let vb = weights(&model_dir).map_err(|e| load_err(dir, e))?;
        fn boxed<E: Encoder + 'static>(e: E) -> Box<dyn Encoder> {
            Box::new(e)
        }
        let encoder = match arch {
            Architecture::Bert => bert::Bert::load(vb, &config_text).map(boxed),
            Architecture::MPNet => mpnet::MPNet::load(vb, &config_text).map(boxed),
            Architecture::XlmRoberta => xlm_roberta::XlmRoberta::load(vb, &config_text).map(boxed),
            Architecture::Qwen3 => qwen3::Qwen3::load(vb, &config_text, max_len).map(boxed),
        }
        .map_err(|e| load_err(dir, e))?;

        let hidden = config
            .get("hidden_size")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| load_err(dir, "config.json has no hidden_size"))?
            as usize;
        let dims = hidden * st.pooling.len();
        if let Some(d) = st.pooling_dimension {
            if d != hidden {
                return Err(load_err(
                    dir,
                    format!("pooling expects dimension {d}, the model's hidden size is {hidden}"),
                ));
            }
        }

        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("tiembed-embed-{i}"))
            .build()
            .map_err(|e| load_err(dir, format!("thread pool: {e}")))?;

        let candle_threads = candle_core::utils::get_num_threads();
        if candle_threads != threads {
            tracing::warn!(
                threads,
                candle_threads,
                "candle splits matmuls over a different thread count than the model's pool; \
                 set RAYON_NUM_THREADS/CANDLE_NUM_THREADS (see init_process_threads)"
            );
        }
        tracing::info!(dir = %dir.display(), ?arch, dims, max_len, threads, "local embedding model loaded");
        Ok(LocalModel {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                arch,
                encoder,
                tokenizer,
                pooling: st.pooling,
                normalize: st.normalize,
                dims,
                threads,
                pool,
            }),
        })
    }

    /// Length of the vectors this model returns.
    pub fn dims(&self) -> usize {
        self.inner.dims
    }

    pub fn architecture(&self) -> Architecture {
        self.inner.arch
    }

    /// Tokens (special tokens included) an input is cut to.
    pub fn max_seq_length(&self) -> usize {
        self.inner.tokenizer.max_len()
    }

    /// Threads one forward pass uses.
    pub fn threads(&self) -> usize {
        self.inner.threads
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Tokens each text becomes after truncation, special tokens included.
    pub fn count_tokens(&self, texts: &[String]) -> Result<Vec<usize>, EmbedError> {
        let encodings = self
            .inner
            .tokenizer
            .encode(texts)
            .map_err(|e| self.inner.run_err(e))?;
        Ok(encodings.iter().map(|e| e.ids.len()).collect())
    }

    /// Runs `f` inside this model's thread pool (for benchmarks that compare
    /// other code under the same threading).
    pub fn run_in_pool<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.inner.pool.install(f)
    }

    /// Embeds `texts` on the calling thread (blocking): one vector per
    /// text, in order.
    pub fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.inner.embed_batch(texts)
    }
}

#[async_trait]
impl Embedder for LocalModel {
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let inner = self.inner.clone();
        let texts = texts.to_vec();
        tokio::task::spawn_blocking(move || inner.embed_batch(&texts))
            .await
            .map_err(|e| EmbedError::Provider(format!("local embedding task failed: {e}")))?
    }

    fn max_batch(&self) -> usize {
        MAX_ROWS
    }
}

impl Inner {
    fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        self.pool.install(|| {
            let encodings = self.tokenizer.encode(texts).map_err(|e| self.run_err(e))?;
            let lengths: Vec<usize> = encodings.iter().map(|e| e.ids.len()).collect();
            let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
            for group in sub_batches(&lengths, TOKEN_BUDGET, MAX_ROWS) {
                let rows: Vec<&tokenize::Encoded> = group.iter().map(|&i| &encodings[i]).collect();
                let vectors = self.forward_group(&rows).map_err(|e| self.run_err(e))?;
                for (i, v) in group.into_iter().zip(vectors) {
                    out[i] = v;
                }
            }
            Ok(out)
        })
    }

    /// One padded forward pass over texts of similar length.
    fn forward_group(&self, rows: &[&tokenize::Encoded]) -> candle_core::Result<Vec<Vec<f32>>> {
        let batch = tokenize::pad_right(rows, self.tokenizer.pad_id());
        let dev = Device::Cpu;
        let shape = (batch.rows, batch.seq_len);
        let ids = Tensor::from_vec(batch.ids, shape, &dev)?;
        let type_ids = Tensor::from_vec(batch.type_ids, shape, &dev)?;
        let mask = Tensor::from_vec(batch.mask, shape, &dev)?;
        let hidden = self.encoder.forward(&ids, &type_ids, &mask)?;
        let hidden = hidden.to_dtype(DType::F32)?;
        let mut vectors = pooling::pool(&hidden, &batch.lengths, &self.pooling)?;
        if self.normalize {
            vectors.iter_mut().for_each(|v| pooling::l2_normalize(v));
        }
        Ok(vectors)
    }

    fn run_err(&self, e: impl std::fmt::Display) -> EmbedError {
        EmbedError::Provider(format!("local model {}: {e}", self.dir.display()))
    }
}

/// Groups item indices into sub-batches: sorted by length, each group's
/// padded size (rows x its longest length) within `budget` tokens and at
/// most `max_rows` rows. A text longer than the budget goes alone.
fn sub_batches(lengths: &[usize], budget: usize, max_rows: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    // Stable: equal lengths keep their input order.
    order.sort_by_key(|&i| lengths[i]);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for i in order {
        let longest = lengths[i].max(1);
        if !current.is_empty()
            && (current.len() >= max_rows || (current.len() + 1) * longest > budget)
        {
            groups.push(std::mem::take(&mut current));
        }
        current.push(i);
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

/// Opens the weights of a transformer directory: `model.safetensors`
/// (memory-mapped), a sharded `model.safetensors.index.json`, or
/// `pytorch_model.bin`. Everything is computed in f32 (bf16/f16 weights are
/// converted as they are read).
fn weights(dir: &Path) -> Result<VarBuilder<'static>, String> {
    let single = dir.join("model.safetensors");
    let files: Vec<PathBuf> = if single.is_file() {
        vec![single]
    } else if dir.join("model.safetensors.index.json").is_file() {
        let index = std::fs::read_to_string(dir.join("model.safetensors.index.json"))
            .map_err(|e| format!("model.safetensors.index.json: {e}"))?;
        let index: serde_json::Value = serde_json::from_str(&index)
            .map_err(|e| format!("model.safetensors.index.json: {e}"))?;
        let mut files: Vec<PathBuf> = index
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or("model.safetensors.index.json has no weight_map")?
            .values()
            .filter_map(|v| v.as_str())
            .map(|f| dir.join(f))
            .collect();
        files.sort();
        files.dedup();
        files
    } else if dir.join("pytorch_model.bin").is_file() {
        return VarBuilder::from_pth(dir.join("pytorch_model.bin"), DType::F32, &Device::Cpu)
            .map_err(|e| format!("pytorch_model.bin: {e}"));
    } else {
        return Err("no model.safetensors or pytorch_model.bin".into());
    };
    // SAFETY: the files are mapped read-only; like every mmap user we rely on
    // nobody truncating a model file while the server runs.
    unsafe { VarBuilder::from_mmaped_safetensors(&files, DType::F32, &Device::Cpu) }
        .map_err(|e| format!("safetensors: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_batches_sort_and_respect_budget() {
        let lengths = [10, 300, 12, 11, 9, 300];
        let groups = sub_batches(&lengths, 600, 64);
        // 4 x 12 fits; adding a 300-token text would pad all five to 300.
        assert_eq!(groups, vec![vec![4, 0, 3, 2], vec![1, 5]]);
        let all: usize = groups.iter().map(Vec::len).sum();
        assert_eq!(all, lengths.len());
        for g in &groups {
            let longest = g.iter().map(|&i| lengths[i]).max().unwrap();
            assert!(g.len() == 1 || g.len() * longest <= 600);
        }
    }

    #[test]
    fn sub_batches_cap_rows_and_isolate_huge_texts() {
        let lengths = vec![5; 10];
        assert_eq!(
            sub_batches(&lengths, 1000, 4)
                .iter()
                .map(Vec::len)
                .collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        assert_eq!(sub_batches(&[5000, 3], 100, 64), vec![vec![1], vec![0]]);
        assert!(sub_batches(&[], 100, 4).is_empty());
    }

    #[test]
    fn detects_architectures() {
        let j = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(
            Architecture::detect(&j(r#"{"model_type":"bert"}"#)),
            Some(Architecture::Bert)
        );
        assert_eq!(
            Architecture::detect(&j(r#"{"model_type":"mpnet"}"#)),
            Some(Architecture::MPNet)
        );
        assert_eq!(
            Architecture::detect(&j(r#"{"model_type":"xlm-roberta"}"#)),
            Some(Architecture::XlmRoberta)
        );
        assert_eq!(
            Architecture::detect(&j(r#"{"model_type":"qwen3"}"#)),
            Some(Architecture::Qwen3)
        );
        assert_eq!(
            Architecture::detect(&j(r#"{"architectures":["XLMRobertaModel"]}"#)),
            Some(Architecture::XlmRoberta)
        );
        assert_eq!(
            Architecture::detect(&j(r#"{"model_type":"qwen3_moe"}"#)),
            None
        );
        assert_eq!(Architecture::detect(&j(r#"{"model_type":"t5"}"#)), None);
    }
}
