//! Qwen3 (Qwen3-Embedding-0.6B) as an encoder: the decoder stack of HF
//! `Qwen3Model` run once over a whole padded batch, no KV cache.
//!
//! candle-transformers' `qwen3::Model` keeps a KV cache that only `&mut`
//! can clear and has no padding mask, so it is written out here: RMSNorm,
//! grouped-query attention with per-head q/k RMSNorm, rotary positions
//! (rotate-half), SwiGLU MLP. Rows are padded on the right; the causal mask
//! then already keeps real tokens from seeing padding, and each real token
//! sits at its unpadded position, so a padded row computes exactly what it
//! would alone. (sentence-transformers pads decoder models on the left; with
//! rotary positions only offsets matter, so the last token's state is the
//! same either way.)

use super::Encoder;
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{
    embedding, linear_b, rms_norm, Activation, Embedding, Linear, RmsNorm, VarBuilder,
};

struct Config {
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: usize,
    head_dim: usize,
    rms_norm_eps: f64,
    rope_theta: f64,
    attention_bias: bool,
    hidden_act: Activation,
}

impl Config {
    fn parse(json: &str) -> Result<Config, String> {
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|e| format!("config.json (qwen3): {e}"))?;
        let usize_of = |k: &str| -> Result<usize, String> {
            v.get(k)
                .and_then(|x| x.as_u64())
                .map(|x| x as usize)
                .ok_or_else(|| format!("config.json (qwen3): missing {k}"))
        };
        let hidden_size = usize_of("hidden_size")?;
        let num_attention_heads = usize_of("num_attention_heads")?;
        // transformers 5 moves rope settings into `rope_parameters`.
        let rope = v.get("rope_parameters").filter(|r| r.is_object());
        let rope_type = rope
            .and_then(|r| r.get("rope_type"))
            .or_else(|| {
                v.get("rope_scaling")
                    .and_then(|r| r.get("rope_type").or_else(|| r.get("type")))
            })
            .and_then(|t| t.as_str())
            .unwrap_or("default");
        if rope_type != "default" {
            return Err(format!("qwen3 rope_type {rope_type:?} is not supported"));
        }
        let rope_theta = v
            .get("rope_theta")
            .or_else(|| rope.and_then(|r| r.get("rope_theta")))
            .and_then(|x| x.as_f64())
            .unwrap_or(10_000.0);
        let hidden_act = match v.get("hidden_act") {
            Some(a) => serde_json::from_value(a.clone())
                .map_err(|e| format!("config.json (qwen3): hidden_act: {e}"))?,
            None => Activation::Silu,
        };
        Ok(Config {
            vocab_size: usize_of("vocab_size")?,
            hidden_size,
            intermediate_size: usize_of("intermediate_size")?,
            num_hidden_layers: usize_of("num_hidden_layers")?,
            num_attention_heads,
            num_key_value_heads: v
                .get("num_key_value_heads")
                .and_then(|x| x.as_u64())
                .map_or(num_attention_heads, |x| x as usize),
            head_dim: v
                .get("head_dim")
                .and_then(|x| x.as_u64())
                .map_or(hidden_size / num_attention_heads, |x| x as usize),
            rms_norm_eps: v
                .get("rms_norm_eps")
                .and_then(|x| x.as_f64())
                .unwrap_or(1e-6),
            rope_theta,
            attention_bias: v
                .get("attention_bias")
                .and_then(|x| x.as_bool())
                .unwrap_or(false),
            hidden_act,
        })
    }
}

struct Layer {
    input_norm: RmsNorm,
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    q_norm: RmsNorm,
    k_norm: RmsNorm,
    post_norm: RmsNorm,
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
    act: Activation,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
}

impl Layer {
    fn load(vb: VarBuilder, cfg: &Config) -> candle_core::Result<Layer> {
        let (h, hd) = (cfg.hidden_size, cfg.head_dim);
        let attn = vb.pp("self_attn");
        let mlp = vb.pp("mlp");
        let bias = cfg.attention_bias;
        Ok(Layer {
            input_norm: rms_norm(h, cfg.rms_norm_eps, vb.pp("input_layernorm"))?,
            q_proj: linear_b(h, cfg.num_attention_heads * hd, bias, attn.pp("q_proj"))?,
            k_proj: linear_b(h, cfg.num_key_value_heads * hd, bias, attn.pp("k_proj"))?,
            v_proj: linear_b(h, cfg.num_key_value_heads * hd, bias, attn.pp("v_proj"))?,
            o_proj: linear_b(cfg.num_attention_heads * hd, h, bias, attn.pp("o_proj"))?,
            q_norm: rms_norm(hd, cfg.rms_norm_eps, attn.pp("q_norm"))?,
            k_norm: rms_norm(hd, cfg.rms_norm_eps, attn.pp("k_norm"))?,
            post_norm: rms_norm(h, cfg.rms_norm_eps, vb.pp("post_attention_layernorm"))?,
            gate_proj: linear_b(h, cfg.intermediate_size, false, mlp.pp("gate_proj"))?,
            up_proj: linear_b(h, cfg.intermediate_size, false, mlp.pp("up_proj"))?,
            down_proj: linear_b(cfg.intermediate_size, h, false, mlp.pp("down_proj"))?,
            act: cfg.hidden_act,
            heads: cfg.num_attention_heads,
            kv_heads: cfg.num_key_value_heads,
            head_dim: hd,
        })
    }

    fn forward(
        &self,
        x: &Tensor,
        mask: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
    ) -> candle_core::Result<Tensor> {
        let (b, l, _) = x.dims3()?;
        let h = self.input_norm.forward(x)?;
        // (b, l, heads*hd) -> per-head RMSNorm -> (b, heads, l, hd)
        let heads = |t: Tensor, n: usize, norm: &RmsNorm| -> candle_core::Result<Tensor> {
            norm.forward(&t.reshape((b, l, n, self.head_dim))?)?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = heads(self.q_proj.forward(&h)?, self.heads, &self.q_norm)?;
        let k = heads(self.k_proj.forward(&h)?, self.kv_heads, &self.k_norm)?;
        let v = self
            .v_proj
            .forward(&h)?
            .reshape((b, l, self.kv_heads, self.head_dim))?
            .transpose(1, 2)?;
        let q = candle_nn::rotary_emb::rope(&q, cos, sin)?;
        let k = candle_nn::rotary_emb::rope(&k, cos, sin)?;
        let groups = self.heads / self.kv_heads;
        let k = repeat_kv(k, groups)?;
        let v = repeat_kv(v.contiguous()?, groups)?;
        let scores = (q.matmul(&k.t()?)? / (self.head_dim as f64).sqrt())?.broadcast_add(mask)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let ctx = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .reshape((b, l, self.heads * self.head_dim))?;
        let x = (x + self.o_proj.forward(&ctx)?)?;
        let h = self.post_norm.forward(&x)?;
        let mlp = (self.act.forward(&self.gate_proj.forward(&h)?)? * self.up_proj.forward(&h)?)?;
        x + self.down_proj.forward(&mlp)?
    }
}

/// `(b, kv, l, d)` -> `(b, kv*n, l, d)`, each kv head repeated `n` times in
/// place, as HF's `repeat_kv`.
fn repeat_kv(x: Tensor, n: usize) -> candle_core::Result<Tensor> {
    if n == 1 {
        return Ok(x);
    }
    let (b, kv, l, d) = x.dims4()?;
    x.unsqueeze(2)?
        .expand((b, kv, n, l, d))?
        .reshape((b, kv * n, l, d))
}

pub(crate) struct Qwen3 {
    embed_tokens: Embedding,
    layers: Vec<Layer>,
    norm: RmsNorm,
    /// Rotary tables for positions 0..max_len, `(max_len, head_dim/2)`.
    cos: Tensor,
    sin: Tensor,
}

impl Qwen3 {
    pub fn load(vb: VarBuilder, config_json: &str, max_len: usize) -> Result<Qwen3, String> {
        let cfg = Config::parse(config_json)?;
        // Saved as Qwen3Model the keys are bare; from a causal-LM checkpoint
        // they sit under `model.`.
        let vb = if vb.contains_tensor("model.embed_tokens.weight") {
            vb.pp("model")
        } else {
            vb
        };
        Self::load_cfg(vb, &cfg, max_len.max(1)).map_err(|e| format!("qwen3 weights: {e}"))
    }

    fn load_cfg(vb: VarBuilder, cfg: &Config, max_len: usize) -> candle_core::Result<Qwen3> {
        let (cos, sin) = rope_tables(cfg.head_dim, cfg.rope_theta, max_len, vb.device())?;
        Ok(Qwen3 {
            embed_tokens: embedding(cfg.vocab_size, cfg.hidden_size, vb.pp("embed_tokens"))?,
            layers: (0..cfg.num_hidden_layers)
                .map(|i| Layer::load(vb.pp(format!("layers.{i}")), cfg))
                .collect::<candle_core::Result<_>>()?,
            norm: rms_norm(cfg.hidden_size, cfg.rms_norm_eps, vb.pp("norm"))?,
            cos,
            sin,
        })
    }
}

/// cos/sin of `position * inv_freq`, in f32 like HF's default rotary
/// embedding (`inv_freq = 1 / theta^(2i/d)`).
fn rope_tables(
    head_dim: usize,
    theta: f64,
    max_len: usize,
    dev: &Device,
) -> candle_core::Result<(Tensor, Tensor)> {
    let inv_freq: Vec<f32> = (0..head_dim)
        .step_by(2)
        .map(|i| (1.0 / theta.powf(i as f64 / head_dim as f64)) as f32)
        .collect();
    let half = inv_freq.len();
    let inv_freq = Tensor::from_vec(inv_freq, (1, half), dev)?;
    let t = Tensor::arange(0u32, max_len as u32, dev)?
        .to_dtype(DType::F32)?
        .reshape((max_len, 1))?;
    let freqs = t.broadcast_mul(&inv_freq)?;
    Ok((freqs.cos()?, freqs.sin()?))
}

impl Encoder for Qwen3 {
    fn forward(
        &self,
        input_ids: &Tensor,
        _type_ids: &Tensor,
        mask: &Tensor,
    ) -> candle_core::Result<Tensor> {
        let (b, l) = input_ids.dims2()?;
        let dev = input_ids.device();
        if l > self.cos.dim(0)? {
            candle_core::bail!(
                "sequence of {l} tokens exceeds the {} the model was loaded for",
                self.cos.dim(0)?
            );
        }
        let cos = self.cos.narrow(0, 0, l)?;
        let sin = self.sin.narrow(0, 0, l)?;
        // Causal plus key padding: query i sees key j when j <= i and j is
        // real. f32::MIN rather than -inf keeps an all-masked row finite.
        let keys = mask.to_vec2::<u32>()?;
        let mut additive = Vec::with_capacity(b * l * l);
        for row in &keys {
            for i in 0..l {
                additive.extend((0..l).map(|j| {
                    if j <= i && row[j] != 0 {
                        0f32
                    } else {
                        f32::MIN
                    }
                }));
            }
        }
        let additive = Tensor::from_vec(additive, (b, 1, l, l), dev)?;
        let mut x = self.embed_tokens.forward(input_ids)?;
        for layer in &self.layers {
            x = layer.forward(&x, &additive, &cos, &sin)?;
        }
        self.norm.forward(&x)
    }
}
