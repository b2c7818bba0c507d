//! Tokenization as sentence-transformers does it: the model's
//! `tokenizer.json` with its truncation replaced by `max_seq_length`
//! (longest-first, from the right) and its padding switched off — padding
//! happens per sub-batch in [`pad_right`], to the longest row only.

use std::path::Path;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

pub(crate) struct TextTokenizer {
    tokenizer: Tokenizer,
    max_len: usize,
    lower_case: bool,
    pad_id: u32,
}

/// One tokenized text, special tokens included, unpadded.
pub(crate) struct Encoded {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
}

/// A sub-batch padded on the right to its longest row, row-major.
pub(crate) struct Padded {
    pub rows: usize,
    pub seq_len: usize,
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    pub mask: Vec<u32>,
    /// Real (unpadded) length of each row.
    pub lengths: Vec<usize>,
}

impl TextTokenizer {
    /// `pad_id` from config.json wins over the tokenizer's: RoBERTa-style
    /// models derive positions from it.
    pub fn load(
        dir: &Path,
        max_len: usize,
        lower_case: bool,
        pad_id: Option<u32>,
    ) -> Result<TextTokenizer, String> {
        let path = dir.join("tokenizer.json");
        let mut tokenizer =
            Tokenizer::from_file(&path).map_err(|e| format!("tokenizer.json: {e}"))?;
        let pad_id = pad_id
            .or_else(|| tokenizer.get_padding().map(|p| p.pad_id))
            .or_else(|| {
                ["[PAD]", "<pad>", "<|endoftext|>"]
                    .iter()
                    .find_map(|t| tokenizer.token_to_id(t))
            })
            .unwrap_or(0);
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| format!("tokenizer.json: truncation at {max_len}: {e}"))?;
        Ok(TextTokenizer {
            tokenizer,
            max_len,
            lower_case,
            pad_id,
        })
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }

    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    pub fn encode(&self, texts: &[String]) -> Result<Vec<Encoded>, String> {
        let inputs: Vec<String> = if self.lower_case {
            texts.iter().map(|t| t.to_lowercase()).collect()
        } else {
            texts.to_vec()
        };
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| format!("tokenizer: {e}"))?;
        Ok(encodings
            .into_iter()
            .map(|e| Encoded {
                ids: e.get_ids().to_vec(),
                type_ids: e.get_type_ids().to_vec(),
            })
            .collect())
    }
}

/// Pads rows on the right to the longest one. Right padding keeps every
/// real token at its unpadded position, so absolute and rotary position
/// encodings, and a causal mask, see exactly what they would see unbatched.
pub(crate) fn pad_right(rows: &[&Encoded], pad_id: u32) -> Padded {
    // An empty encoding (a tokenizer without special tokens given "") still
    // gets one padding column, so shapes stay valid; pooling divides safely.
    let seq_len = rows.iter().map(|r| r.ids.len()).max().unwrap_or(0).max(1);
    let n = rows.len() * seq_len;
    let mut ids = Vec::with_capacity(n);
    let mut type_ids = Vec::with_capacity(n);
    let mut mask = Vec::with_capacity(n);
    let mut lengths = Vec::with_capacity(rows.len());
    for r in rows {
        let len = r.ids.len();
        lengths.push(len);
        ids.extend_from_slice(&r.ids);
        ids.extend(std::iter::repeat_n(pad_id, seq_len - len));
        type_ids.extend_from_slice(&r.type_ids);
        type_ids.extend(std::iter::repeat_n(0, seq_len - len));
        mask.extend(std::iter::repeat_n(1u32, len));
        mask.extend(std::iter::repeat_n(0u32, seq_len - len));
    }
    Padded {
        rows: rows.len(),
        seq_len,
        ids,
        type_ids,
        mask,
        lengths,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_on_the_right_to_the_longest_row() {
        let a = Encoded {
            ids: vec![5, 6, 7],
            type_ids: vec![0, 0, 0],
        };
        let b = Encoded {
            ids: vec![8],
            type_ids: vec![0],
        };
        let p = pad_right(&[&a, &b], 1);
        assert_eq!((p.rows, p.seq_len), (2, 3));
        assert_eq!(p.ids, vec![5, 6, 7, 8, 1, 1]);
        assert_eq!(p.mask, vec![1, 1, 1, 1, 0, 0]);
        assert_eq!(p.lengths, vec![3, 1]);
    }
}
