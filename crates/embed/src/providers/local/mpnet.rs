//! MPNet (all-mpnet-base-v2), written with candle-nn ops because
//! candle-transformers has none. Follows HF `MPNetModel`: RoBERTa-style
//! positions from the padding index, post-LayerNorm encoder layers, and a
//! T5-style relative position bias (32 buckets, max distance 128) shared by
//! all layers and added to every attention score.

use super::Encoder;
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{
    embedding, layer_norm, linear, Activation, Embedding, LayerNorm, Linear, VarBuilder,
};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
struct Config {
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    hidden_act: Activation,
    max_position_embeddings: usize,
    layer_norm_eps: f64,
    pad_token_id: u32,
    #[serde(default = "default_buckets")]
    relative_attention_num_buckets: usize,
}

fn default_buckets() -> usize {
    32
}

/// HF hard-codes the distance beyond which relative positions share a bucket.
const MAX_DISTANCE: i64 = 128;

struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    act: Activation,
    output: Linear,
    out_norm: LayerNorm,
    heads: usize,
    head_dim: usize,
}

impl Layer {
    fn load(vb: VarBuilder, cfg: &Config) -> candle_core::Result<Layer> {
        let h = cfg.hidden_size;
        let attn = vb.pp("attention");
        Ok(Layer {
            q: linear(h, h, attn.pp("attn.q"))?,
            k: linear(h, h, attn.pp("attn.k"))?,
            v: linear(h, h, attn.pp("attn.v"))?,
            o: linear(h, h, attn.pp("attn.o"))?,
            attn_norm: layer_norm(h, cfg.layer_norm_eps, attn.pp("LayerNorm"))?,
            intermediate: linear(h, cfg.intermediate_size, vb.pp("intermediate.dense"))?,
            act: cfg.hidden_act,
            output: linear(cfg.intermediate_size, h, vb.pp("output.dense"))?,
            out_norm: layer_norm(h, cfg.layer_norm_eps, vb.pp("output.LayerNorm"))?,
            heads: cfg.num_attention_heads,
            head_dim: h / cfg.num_attention_heads,
        })
    }

    /// `bias`: `(batch, heads, seq, seq)`, relative position bias plus the
    /// padding mask.
    fn forward(&self, x: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
        let (b, l, _) = x.dims3()?;
        let split = |t: Tensor| {
            t.reshape((b, l, self.heads, self.head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(self.q.forward(x)?)?;
        let k = split(self.k.forward(x)?)?;
        let v = split(self.v.forward(x)?)?;
        let scores = (q.matmul(&k.t()?)? / (self.head_dim as f64).sqrt())?;
        let scores = scores.broadcast_add(bias)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let ctx = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .reshape((b, l, self.heads * self.head_dim))?;
        let attn = self.attn_norm.forward(&(self.o.forward(&ctx)? + x)?)?;
        let inter = self.act.forward(&self.intermediate.forward(&attn)?)?;
        self.out_norm
            .forward(&(self.output.forward(&inter)? + attn)?)
    }
}

pub(crate) struct MPNet {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    embed_norm: LayerNorm,
    layers: Vec<Layer>,
    relative_attention_bias: Embedding,
    buckets: usize,
    pad_id: u32,
}

impl MPNet {
    pub fn load(vb: VarBuilder, config_json: &str) -> Result<MPNet, String> {
        let cfg: Config =
            serde_json::from_str(config_json).map_err(|e| format!("config.json (mpnet): {e}"))?;
        let vb = if vb.contains_tensor("mpnet.embeddings.word_embeddings.weight") {
            vb.pp("mpnet")
        } else {
            vb
        };
        Self::load_cfg(vb, &cfg).map_err(|e| format!("mpnet weights: {e}"))
    }

    fn load_cfg(vb: VarBuilder, cfg: &Config) -> candle_core::Result<MPNet> {
        let emb = vb.pp("embeddings");
        let enc = vb.pp("encoder");
        Ok(MPNet {
            word_embeddings: embedding(cfg.vocab_size, cfg.hidden_size, emb.pp("word_embeddings"))?,
            position_embeddings: embedding(
                cfg.max_position_embeddings,
                cfg.hidden_size,
                emb.pp("position_embeddings"),
            )?,
            embed_norm: layer_norm(cfg.hidden_size, cfg.layer_norm_eps, emb.pp("LayerNorm"))?,
            layers: (0..cfg.num_hidden_layers)
                .map(|i| Layer::load(enc.pp(format!("layer.{i}")), cfg))
                .collect::<candle_core::Result<_>>()?,
            relative_attention_bias: embedding(
                cfg.relative_attention_num_buckets,
                cfg.num_attention_heads,
                enc.pp("relative_attention_bias"),
            )?,
            buckets: cfg.relative_attention_num_buckets,
            pad_id: cfg.pad_token_id,
        })
    }

    /// `(1, heads, seq, seq)` bias from the relative position buckets.
    fn position_bias(&self, seq: usize, dev: &Device) -> candle_core::Result<Tensor> {
        let mut idx = Vec::with_capacity(seq * seq);
        for q in 0..seq as i64 {
            for k in 0..seq as i64 {
                idx.push(relative_position_bucket(k - q, self.buckets as i64, MAX_DISTANCE) as u32);
            }
        }
        let idx = Tensor::from_vec(idx, (seq, seq), dev)?;
        // (seq, seq, heads) -> (1, heads, seq, seq)
        self.relative_attention_bias
            .forward(&idx)?
            .permute((2, 0, 1))?
            .unsqueeze(0)
    }
}

impl Encoder for MPNet {
    fn forward(
        &self,
        input_ids: &Tensor,
        _type_ids: &Tensor,
        mask: &Tensor,
    ) -> candle_core::Result<Tensor> {
        let (_, seq) = input_ids.dims2()?;
        let dev = input_ids.device();
        // positions = cumsum(ids != pad) * (ids != pad) + pad, as in RoBERTa.
        let not_pad = input_ids.ne(self.pad_id)?.to_dtype(DType::F32)?;
        let positions =
            ((not_pad.cumsum(1)? * &not_pad)? + self.pad_id as f64)?.to_dtype(DType::U32)?;
        let x = (self.word_embeddings.forward(input_ids)?
            + self.position_embeddings.forward(&positions)?)?;
        let mut x = self.embed_norm.forward(&x)?;

        // Padding keys get the most negative f32, as HF's extended mask does.
        let mask = mask.to_dtype(DType::F32)?;
        let additive = ((1.0 - mask)? * f32::MIN as f64)?
            .unsqueeze(1)?
            .unsqueeze(1)?;
        let bias = self.position_bias(seq, dev)?.broadcast_add(&additive)?;
        for layer in &self.layers {
            x = layer.forward(&x, &bias)?;
        }
        Ok(x)
    }
}

/// HF `MPNetEncoder.relative_position_bucket`, with the float steps done in
/// f32 as torch does them, so that bucket edges land on the same side.
pub(crate) fn relative_position_bucket(
    relative_position: i64,
    num_buckets: i64,
    max_distance: i64,
) -> i64 {
    let mut ret = 0;
    let mut n = -relative_position;
    let num_buckets = num_buckets / 2;
    if n < 0 {
        ret += num_buckets;
    }
    n = n.abs();
    let max_exact = num_buckets / 2;
    if n < max_exact {
        return ret + n;
    }
    let scale = ((max_distance as f64) / (max_exact as f64)).ln() as f32;
    let val = (n as f32 / max_exact as f32).ln() / scale * (num_buckets - max_exact) as f32;
    let val_if_large = (max_exact + val as i64).min(num_buckets - 1);
    ret + val_if_large
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_match_hf_for_small_and_large_distances() {
        // Values from HF's relative_position_bucket (num_buckets 32, max 128):
        // |n| < 8 maps to itself, larger distances log-spaced up to 15, keys
        // before the query (n > 0) in the low half, after it in the high half.
        assert_eq!(relative_position_bucket(0, 32, 128), 0);
        assert_eq!(relative_position_bucket(-1, 32, 128), 1);
        assert_eq!(relative_position_bucket(1, 32, 128), 17);
        assert_eq!(relative_position_bucket(-7, 32, 128), 7);
        assert_eq!(relative_position_bucket(-8, 32, 128), 8);
        assert_eq!(relative_position_bucket(-1000, 32, 128), 15);
        assert_eq!(relative_position_bucket(1000, 32, 128), 31);
    }

    /// Every relative position in -600..=600 against the table PyTorch
    /// computed (written by scripts/make-tiny-models.py): bucket edges depend
    /// on f32 rounding of a logarithm.
    #[test]
    fn buckets_match_pytorch_table() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/tiny/mpnet_buckets.json"
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let from = json["from"].as_i64().unwrap();
        let buckets = json["buckets"].as_array().unwrap();
        assert_eq!(buckets.len(), 1201);
        for (i, b) in buckets.iter().enumerate() {
            let rel = from + i as i64;
            assert_eq!(
                relative_position_bucket(rel, 32, 128),
                b.as_i64().unwrap(),
                "relative position {rel}"
            );
        }
    }
}
