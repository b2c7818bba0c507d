//! BERT on the CPU without padding: the tokens of every text in a batch
//! are packed into one `(tokens, hidden)` matrix, so the dense layers (all
//! but the attention) run as single products over real tokens only, and
//! attention runs per text on its own tokens, which makes the attention
//! mask unnecessary. Results equal the padded computation's up to float
//! rounding: in BERT a padded key gets probability exactly 0.
//!
//! Also cheaper than candle's `BertModel` per layer: query, key and value
//! in one product; bias and residual folded into the products; GELU,
//! softmax and LayerNorm as vectorised kernels ([`kernels`]) instead of
//! separate tensor ops that each allocate and make a pass over memory.
//!
//! Covers the BERT configurations sentence-transformers models use:
//! absolute positions and exact (erf) GELU; others go to candle's model.

mod kernels;
mod matmul;

use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;
use matmul::{Linear, View};
use rayon::prelude::*;

/// Element-wise passes over fewer values than this stay on one thread:
/// below it, waking the pool costs more than it saves.
const PARALLEL_MIN_VALUES: usize = 1 << 16;

pub(crate) struct PackedBert {
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embed_norm: Norm,
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
    max_positions: usize,
    type_vocab: usize,
    vocab: usize,
}

struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    eps: f32,
}

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    attn_norm: Norm,
    intermediate: Linear,
    output: Linear,
    out_norm: Norm,
}

/// The parts of BERT's `config.json` the packed encoder reads.
#[derive(serde::Deserialize)]
struct Config {
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    type_vocab_size: usize,
    #[serde(default = "default_eps")]
    layer_norm_eps: f64,
    #[serde(default = "default_act")]
    hidden_act: String,
    #[serde(default = "default_position_type")]
    position_embedding_type: String,
}

fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_act() -> String {
    "gelu".into()
}
fn default_position_type() -> String {
    "absolute".into()
}

impl PackedBert {
    /// `Ok(None)` when the configuration needs something this encoder does
    /// not do (another activation, relative positions): the caller then
    /// uses candle's `BertModel`.
    pub fn load(vb: &VarBuilder, config_json: &str) -> Result<Option<PackedBert>, String> {
        let c: Config =
            serde_json::from_str(config_json).map_err(|e| format!("config.json (bert): {e}"))?;
        if c.hidden_act != "gelu" || c.position_embedding_type != "absolute" {
            return Ok(None);
        }
        if c.num_attention_heads == 0 || !c.hidden_size.is_multiple_of(c.num_attention_heads) {
            return Err("config.json: hidden_size is not a multiple of num_attention_heads".into());
        }
        // Checkpoints from BertFor* classes keep the encoder under `bert.`.
        let vb = if vb.contains_tensor("embeddings.word_embeddings.weight") {
            vb.clone()
        } else {
            vb.pp("bert")
        };
        Self::load_weights(&vb, &c).map_err(|e| format!("bert weights: {e}"))
    }

    fn load_weights(vb: &VarBuilder, c: &Config) -> candle_core::Result<Option<PackedBert>> {
        let h = c.hidden_size;
        let table = |name: &str, rows: usize| -> candle_core::Result<Vec<f32>> {
            vb.get((rows, h), name)?.flatten_all()?.to_vec1()
        };
        let norm = |vb: VarBuilder| -> candle_core::Result<Norm> {
            Ok(Norm {
                gamma: vb.get(h, "weight")?.to_vec1()?,
                beta: vb.get(h, "bias")?.to_vec1()?,
                eps: c.layer_norm_eps as f32,
            })
        };
        let linear = |vb: VarBuilder| -> candle_core::Result<Linear> {
            let w = vb.get_unchecked("weight")?;
            let (outputs, _) = w.dims2()?;
            Linear::from_torch(&w, &vb.get(outputs, "bias")?)
        };
        let mut layers = Vec::with_capacity(c.num_hidden_layers);
        for i in 0..c.num_hidden_layers {
            let l = vb.pp(format!("encoder.layer.{i}"));
            let sa = l.pp("attention.self");
            let qkv = Linear::concat_outputs(&[
                linear(sa.pp("query"))?,
                linear(sa.pp("key"))?,
                linear(sa.pp("value"))?,
            ]);
            layers.push(Layer {
                qkv,
                attn_out: linear(l.pp("attention.output.dense"))?,
                attn_norm: norm(l.pp("attention.output.LayerNorm"))?,
                intermediate: linear(l.pp("intermediate.dense"))?,
                output: linear(l.pp("output.dense"))?,
                out_norm: norm(l.pp("output.LayerNorm"))?,
            });
        }
        Ok(Some(PackedBert {
            word: table("embeddings.word_embeddings.weight", c.vocab_size)?,
            position: table(
                "embeddings.position_embeddings.weight",
                c.max_position_embeddings,
            )?,
            token_type: table("embeddings.token_type_embeddings.weight", c.type_vocab_size)?,
            embed_norm: norm(vb.pp("embeddings.LayerNorm"))?,
            layers,
            hidden: h,
            heads: c.num_attention_heads,
            max_positions: c.max_position_embeddings,
            type_vocab: c.type_vocab_size,
            vocab: c.vocab_size,
        }))
    }

    /// Hidden states of the texts `(ids, type_ids)`, packed: text `i`'s
    /// tokens are rows `offsets[i]..offsets[i + 1]` of the result,
    /// `(total tokens, hidden)` row-major.
    /// `threads`: how many of the pool's threads the products and passes of
    /// this call may split over (1 when the caller runs calls in parallel).
    pub fn forward_packed(
        &self,
        texts: &[(&[u32], &[u32])],
        threads: usize,
    ) -> candle_core::Result<Vec<f32>> {
        let h = self.hidden;
        let lengths: Vec<usize> = texts.iter().map(|(ids, _)| ids.len()).collect();
        let tokens: usize = lengths.iter().sum();
        let mut x = self.embed(texts, tokens, threads)?;
        let widest = self
            .layers
            .iter()
            .map(|l| l.qkv.outputs().max(l.intermediate.outputs()))
            .max()
            .unwrap_or(h);
        // Scratch reused by every layer: `wide` for query/key/value and the
        // intermediate activations, `context` for attention's output,
        // `next` for the layer's new hidden states before they replace `x`.
        let mut wide = vec![0f32; tokens * widest];
        let mut context = vec![0f32; tokens * h];
        let mut next = vec![0f32; tokens * h];
        for layer in &self.layers {
            let qkv = &mut wide[..tokens * layer.qkv.outputs()];
            layer.qkv.forward(&x, tokens, None, qkv, threads);
            self.attention(qkv, &lengths, &mut context, threads);
            layer
                .attn_out
                .forward(&context, tokens, Some(&x), &mut next, threads);
            std::mem::swap(&mut x, &mut next);
            norm_rows(&mut x, &layer.attn_norm, threads);

            let inter = &mut wide[..tokens * layer.intermediate.outputs()];
            layer.intermediate.forward(&x, tokens, None, inter, threads);
            gelu(inter, threads);
            layer
                .output
                .forward(inter, tokens, Some(&x), &mut next, threads);
            std::mem::swap(&mut x, &mut next);
            norm_rows(&mut x, &layer.out_norm, threads);
        }
        Ok(x)
    }

    /// Word + position + token-type embeddings, then LayerNorm.
    fn embed(
        &self,
        texts: &[(&[u32], &[u32])],
        tokens: usize,
        threads: usize,
    ) -> candle_core::Result<Vec<f32>> {
        let h = self.hidden;
        let mut x = Vec::with_capacity(tokens * h);
        for (ids, type_ids) in texts {
            if ids.len() > self.max_positions {
                candle_core::bail!(
                    "{} tokens, more than the model's {} positions",
                    ids.len(),
                    self.max_positions
                );
            }
            for (pos, (&id, &tt)) in ids.iter().zip(type_ids.iter()).enumerate() {
                let (id, tt) = (id as usize, tt as usize);
                if id >= self.vocab || tt >= self.type_vocab {
                    candle_core::bail!("token id {id} (type {tt}) outside the embedding tables");
                }
                let word = &self.word[id * h..(id + 1) * h];
                let position = &self.position[pos * h..(pos + 1) * h];
                let token_type = &self.token_type[tt * h..(tt + 1) * h];
                x.extend(
                    word.iter()
                        .zip(position)
                        .zip(token_type)
                        .map(|((w, p), t)| w + p + t),
                );
            }
        }
        norm_rows(&mut x, &self.embed_norm, threads);
        Ok(x)
    }

    /// Multi-head self-attention of each text over its own tokens: from
    /// `qkv` rows `[q | k | v]` to context rows in `context`.
    fn attention(&self, qkv: &[f32], lengths: &[usize], context: &mut [f32], threads: usize) {
        let h = self.hidden;
        let head_dim = h / self.heads;
        let scale = 1.0 / (head_dim as f32).sqrt();
        // Split both buffers by text so each task owns its rows.
        let mut jobs = Vec::with_capacity(lengths.len());
        let (mut qkv_rest, mut ctx_rest) = (qkv, &mut context[..]);
        for &len in lengths {
            let (q, qr) = qkv_rest.split_at(len * 3 * h);
            let (c, cr) = std::mem::take(&mut ctx_rest).split_at_mut(len * h);
            jobs.push((len, q, c));
            qkv_rest = qr;
            ctx_rest = cr;
        }
        let one_text = |(len, qkv, ctx): (usize, &[f32], &mut [f32])| {
            let mut scores = vec![0f32; len * len];
            for head in 0..self.heads {
                let at = |col: usize| View {
                    // SAFETY (of the pointer): in bounds, `qkv` has `len`
                    // rows of 3h and `col + head_dim <= 3h`.
                    ptr: qkv[col..].as_ptr(),
                    rows: len,
                    cols: head_dim,
                    row_stride: 3 * h,
                    col_stride: 1,
                };
                let q = at(head * head_dim);
                let k = at(h + head * head_dim);
                let v = at(2 * h + head * head_dim);
                let probs = View {
                    ptr: scores.as_ptr(),
                    rows: len,
                    cols: len,
                    row_stride: len,
                    col_stride: 1,
                };
                // SAFETY: views and destinations lie inside `qkv`, `scores`
                // and `ctx`, whose sizes follow from `len`, `h`, `head_dim`.
                unsafe {
                    matmul::product_into(q, k.t(), scale, scores.as_mut_ptr(), len);
                    kernels::softmax(&mut scores, len);
                    matmul::product_into(probs, v, 1.0, ctx[head * head_dim..].as_mut_ptr(), h);
                }
            }
        };
        if jobs.len() > 1 && threads > 1 {
            jobs.into_par_iter().for_each(one_text);
        } else {
            jobs.into_iter().for_each(one_text);
        }
    }
}

/// LayerNorm of every row, split over `threads` when large.
fn norm_rows(x: &mut [f32], norm: &Norm, threads: usize) {
    let width = norm.gamma.len();
    if x.len() >= PARALLEL_MIN_VALUES && threads > 1 {
        let rows_per_task = (x.len() / width).div_ceil(threads);
        x.par_chunks_mut(rows_per_task * width)
            .for_each(|c| kernels::layer_norm(c, &norm.gamma, &norm.beta, norm.eps));
    } else {
        kernels::layer_norm(x, &norm.gamma, &norm.beta, norm.eps);
    }
}

/// GELU in place, split over `threads` when large.
fn gelu(x: &mut [f32], threads: usize) {
    if x.len() >= PARALLEL_MIN_VALUES && threads > 1 {
        let per_task = x.len().div_ceil(threads);
        x.par_chunks_mut(per_task).for_each(kernels::gelu_erf);
    } else {
        kernels::gelu_erf(x);
    }
}

/// Right-padded `(texts, seq)` ids and mask in, `(texts, seq, hidden)`
/// hidden states out (zeros at padding), the [`super::Encoder`] contract.
pub(crate) fn forward_padded(
    model: &PackedBert,
    input_ids: &Tensor,
    type_ids: &Tensor,
    mask: &Tensor,
) -> candle_core::Result<Tensor> {
    let (rows, seq) = input_ids.dims2()?;
    let ids = input_ids.to_vec2::<u32>()?;
    let types = type_ids.to_vec2::<u32>()?;
    let mask = mask.to_vec2::<u32>()?;
    let lengths: Vec<usize> = mask
        .iter()
        .map(|m| m.iter().filter(|&&v| v != 0).count())
        .collect();
    let texts: Vec<(&[u32], &[u32])> = ids
        .iter()
        .zip(&types)
        .zip(&lengths)
        .map(|((i, t), &len)| (&i[..len], &t[..len]))
        .collect();
    let packed = forward_split(model, &texts)?;
    let h = model.hidden;
    let mut padded = vec![0f32; rows * seq * h];
    let mut src = packed.as_slice();
    for (r, &len) in lengths.iter().enumerate() {
        let (text, rest) = src.split_at(len * h);
        padded[r * seq * h..][..len * h].copy_from_slice(text);
        src = rest;
    }
    Tensor::from_vec(padded, (rows, seq, h), &Device::Cpu)
}

/// Runs the texts on the pool's threads. With enough tokens, the texts
/// are cut into one part per thread (balanced by tokens) and each part runs
/// single-threaded: no barrier per product, so a thread that the OS
/// delays (a busy machine) holds up only its own part, whereas gemm's own
/// split waits for the slowest thread at every product. Fewer tokens
/// (a single query) split inside the products instead.
fn forward_split(model: &PackedBert, texts: &[(&[u32], &[u32])]) -> candle_core::Result<Vec<f32>> {
    let threads = rayon::current_num_threads();
    let parts = split_by_tokens(texts, threads, MIN_TOKENS_PER_PART);
    if parts.len() <= 1 {
        return model.forward_packed(texts, threads);
    }
    let outputs = parts
        .into_par_iter()
        .map(|part| model.forward_packed(part, 1))
        .collect::<candle_core::Result<Vec<_>>>()?;
    Ok(outputs.concat())
}

/// Tokens a part must have for splitting by text to beat splitting inside
/// the products: below this, the products get too thin to run well.
const MIN_TOKENS_PER_PART: usize = 64;

/// Cuts `texts` into at most `parts` consecutive runs of about equal token
/// counts, each with at least `min_tokens` tokens (so maybe just one).
fn split_by_tokens<'a, 'b>(
    texts: &'a [(&'b [u32], &'b [u32])],
    parts: usize,
    min_tokens: usize,
) -> Vec<&'a [(&'b [u32], &'b [u32])]> {
    let total: usize = texts.iter().map(|(ids, _)| ids.len()).sum();
    let parts = parts.min(total / min_tokens.max(1)).min(texts.len()).max(1);
    let mut out = Vec::with_capacity(parts);
    let (mut start, mut seen) = (0, 0);
    for (i, (ids, _)) in texts.iter().enumerate() {
        seen += ids.len();
        // Close a part once it reaches its share of the tokens so far.
        if out.len() + 1 < parts && seen * parts >= total * (out.len() + 1) {
            out.push(&texts[start..=i]);
            start = i + 1;
        }
    }
    if start < texts.len() {
        out.push(&texts[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_by_tokens_balances_and_keeps_order() {
        let ids: Vec<Vec<u32>> = [10, 10, 10, 10, 40, 40]
            .iter()
            .map(|&n| vec![0; n])
            .collect();
        let texts: Vec<(&[u32], &[u32])> = ids.iter().map(|v| (&v[..], &v[..])).collect();
        let lens = |parts: Vec<&[(&[u32], &[u32])]>| -> Vec<usize> {
            parts
                .iter()
                .map(|p| p.iter().map(|(i, _)| i.len()).sum())
                .collect()
        };
        assert_eq!(lens(split_by_tokens(&texts, 2, 10)), vec![80, 40]);
        assert_eq!(lens(split_by_tokens(&texts, 2, 100)), vec![120]);
        // Greedy: each part closes at its share, so 2+2+1+1 texts here.
        assert_eq!(lens(split_by_tokens(&texts, 8, 1)), vec![20, 20, 40, 40]);
        assert!(split_by_tokens(&texts[..0], 2, 1).is_empty());
    }
}
