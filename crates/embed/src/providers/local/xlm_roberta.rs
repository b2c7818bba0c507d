//! XLM-RoBERTa (multilingual-e5-large, bge-m3) on candle-transformers'
//! `xlm_roberta`, whose embeddings derive positions from the padding index
//! as HF's `create_position_ids_from_input_ids` does.

use super::Encoder;
use candle_core::Tensor;
use candle_nn::VarBuilder;
use candle_transformers::models::xlm_roberta::{Config, XLMRobertaModel};

pub(crate) struct XlmRoberta {
    model: XLMRobertaModel,
}

impl XlmRoberta {
    pub fn load(vb: VarBuilder, config_json: &str) -> Result<XlmRoberta, String> {
        let mut config: serde_json::Value = serde_json::from_str(config_json)
            .map_err(|e| format!("config.json (xlm-roberta): {e}"))?;
        // candle's Config wants these, HF configs sometimes leave them out.
        if let Some(obj) = config.as_object_mut() {
            obj.entry("position_embedding_type")
                .or_insert_with(|| "absolute".into());
            obj.entry("attention_probs_dropout_prob")
                .or_insert_with(|| 0.1.into());
            obj.entry("hidden_dropout_prob")
                .or_insert_with(|| 0.1.into());
            obj.entry("type_vocab_size").or_insert_with(|| 1.into());
            obj.entry("pad_token_id").or_insert_with(|| 1.into());
        }
        let kind = config
            .get("position_embedding_type")
            .and_then(|v| v.as_str())
            .unwrap_or("absolute");
        if kind != "absolute" {
            return Err(format!(
                "xlm-roberta position_embedding_type {kind:?} is not supported"
            ));
        }
        let config: Config = serde_json::from_value(config)
            .map_err(|e| format!("config.json (xlm-roberta): {e}"))?;
        let vb = if vb.contains_tensor("roberta.embeddings.word_embeddings.weight") {
            vb.pp("roberta")
        } else {
            vb
        };
        let model =
            XLMRobertaModel::new(&config, vb).map_err(|e| format!("xlm-roberta weights: {e}"))?;
        Ok(XlmRoberta { model })
    }
}

impl Encoder for XlmRoberta {
    fn forward(
        &self,
        input_ids: &Tensor,
        type_ids: &Tensor,
        mask: &Tensor,
    ) -> candle_core::Result<Tensor> {
        self.model
            .forward(input_ids, mask, type_ids, None, None, None)
    }
}
