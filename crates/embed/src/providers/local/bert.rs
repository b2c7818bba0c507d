//! BERT (all-MiniLM-L6-v2, BGE, E5-en, ...): the packed CPU encoder
//! ([`super::packed_bert`]) when the configuration allows, else
//! candle-transformers' `bert`.

use super::packed_bert::{self, PackedBert};
use super::Encoder;
use candle_core::Tensor;
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};

pub(crate) enum Bert {
    Packed(PackedBert),
    Candle(BertModel),
}

impl Bert {
    pub fn load(vb: VarBuilder, config_json: &str) -> Result<Bert, String> {
        if let Some(packed) = PackedBert::load(&vb, config_json)? {
            return Ok(Bert::Packed(packed));
        }
        let config: Config =
            serde_json::from_str(config_json).map_err(|e| format!("config.json (bert): {e}"))?;
        // BertModel::load also finds weights under a `bert.` prefix.
        let model = BertModel::load(vb, &config).map_err(|e| format!("bert weights: {e}"))?;
        Ok(Bert::Candle(model))
    }
}

impl Encoder for Bert {
    fn forward(
        &self,
        input_ids: &Tensor,
        type_ids: &Tensor,
        mask: &Tensor,
    ) -> candle_core::Result<Tensor> {
        match self {
            Bert::Packed(model) => packed_bert::forward_padded(model, input_ids, type_ids, mask),
            // Positions are 0..seq for every row, which is right because
            // rows are padded on the right.
            Bert::Candle(model) => model.forward(input_ids, type_ids, Some(mask)),
        }
    }
}
