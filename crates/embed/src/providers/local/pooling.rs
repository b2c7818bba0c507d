//! sentence-transformers' Pooling and Normalize modules over right-padded
//! hidden states. Several modes concatenate in the order given.

use candle_core::{Result, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolingMode {
    /// The first token (`[CLS]` / `<s>`).
    Cls,
    /// Element-wise maximum over the real tokens.
    Max,
    /// Average of the real tokens.
    Mean,
    /// Sum of the real tokens divided by the square root of their count.
    MeanSqrtLen,
    /// Average weighted by position (1, 2, ...).
    WeightedMean,
    /// The last real token (decoder models such as Qwen3-Embedding).
    LastToken,
}

/// Pools `hidden` `(batch, seq, dim)`, whose row `i` has `lengths[i]` real
/// tokens followed by padding, into one vector per row.
pub(crate) fn pool(
    hidden: &Tensor,
    lengths: &[usize],
    modes: &[PoolingMode],
) -> Result<Vec<Vec<f32>>> {
    let (_, _, dim) = hidden.dims3()?;
    let rows = hidden.to_vec3::<f32>()?;
    Ok(rows
        .iter()
        .zip(lengths)
        .map(|(row, &len)| {
            let real = &row[..len.min(row.len())];
            let mut out = Vec::with_capacity(dim * modes.len());
            for mode in modes {
                pool_one(real, row, dim, *mode, &mut out);
            }
            out
        })
        .collect())
}

fn pool_one(
    real: &[Vec<f32>],
    row: &[Vec<f32>],
    dim: usize,
    mode: PoolingMode,
    out: &mut Vec<f32>,
) {
    match mode {
        // sentence-transformers takes the first unmasked position; with
        // right padding that is position 0 (and 0 for an all-padding row).
        PoolingMode::Cls => out.extend_from_slice(row.first().map_or(&[][..], |v| &v[..])),
        PoolingMode::Max => {
            if real.is_empty() {
                out.extend(std::iter::repeat_n(f32::NEG_INFINITY, dim));
            } else {
                let mut m = real[0].clone();
                for t in &real[1..] {
                    for (a, b) in m.iter_mut().zip(t) {
                        *a = a.max(*b);
                    }
                }
                out.extend(m);
            }
        }
        PoolingMode::Mean | PoolingMode::MeanSqrtLen => {
            let sum = sum_tokens(real, dim, |_| 1.0);
            let count = (real.len() as f32).max(1e-9);
            let denom = if mode == PoolingMode::Mean {
                count
            } else {
                count.sqrt()
            };
            out.extend(sum.into_iter().map(|s| s / denom));
        }
        PoolingMode::WeightedMean => {
            let sum = sum_tokens(real, dim, |j| (j + 1) as f32);
            let weights: f32 = (1..=real.len()).map(|w| w as f32).sum::<f32>().max(1e-9);
            out.extend(sum.into_iter().map(|s| s / weights));
        }
        // An all-padding row yields zeros, as sentence-transformers' masked gather does.
        PoolingMode::LastToken => match real.last() {
            Some(v) => out.extend_from_slice(v),
            None => out.extend(std::iter::repeat_n(0.0, dim)),
        },
    }
}

fn sum_tokens(real: &[Vec<f32>], dim: usize, weight: impl Fn(usize) -> f32) -> Vec<f32> {
    let mut sum = vec![0f32; dim];
    for (j, t) in real.iter().enumerate() {
        let w = weight(j);
        for (s, x) in sum.iter_mut().zip(t) {
            *s += w * x;
        }
    }
    sum
}

/// `x / max(||x||, 1e-12)`, as torch's `F.normalize` computes it.
pub(crate) fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn hidden() -> Tensor {
        // Row 0: 3 real tokens; row 1: 1 real token then 2 padding tokens
        // holding garbage that must not leak into any mode.
        let data: Vec<f32> = vec![
            1.0, 2.0, //
            3.0, -4.0, //
            5.0, 6.0, //
            7.0, 8.0, //
            100.0, 100.0, //
            -100.0, 100.0,
        ];
        Tensor::from_vec(data, (2, 3, 2), &Device::Cpu).unwrap()
    }

    #[test]
    fn modes_ignore_padding() {
        let h = hidden();
        let lens = [3, 1];
        let p = |m| pool(&h, &lens, &[m]).unwrap();
        assert_eq!(p(PoolingMode::Cls), vec![vec![1.0, 2.0], vec![7.0, 8.0]]);
        assert_eq!(
            p(PoolingMode::Mean),
            vec![vec![3.0, 4.0 / 3.0], vec![7.0, 8.0]]
        );
        assert_eq!(p(PoolingMode::Max), vec![vec![5.0, 6.0], vec![7.0, 8.0]]);
        assert_eq!(
            p(PoolingMode::LastToken),
            vec![vec![5.0, 6.0], vec![7.0, 8.0]]
        );
        let sqrt3 = 3f32.sqrt();
        assert_eq!(
            p(PoolingMode::MeanSqrtLen),
            vec![vec![9.0 / sqrt3, 4.0 / sqrt3], vec![7.0, 8.0]]
        );
        // weights 1,2,3 over 6
        assert_eq!(
            p(PoolingMode::WeightedMean)[0],
            vec![(1.0 + 6.0 + 15.0) / 6.0, (2.0 - 8.0 + 18.0) / 6.0]
        );
        let both = pool(&h, &lens, &[PoolingMode::Cls, PoolingMode::Mean]).unwrap();
        assert_eq!(both[1], vec![7.0, 8.0, 7.0, 8.0]);
    }

    #[test]
    fn normalizes_to_unit_length_and_keeps_zero() {
        let mut v = vec![3.0, 4.0];
        l2_normalize(&mut v);
        assert_eq!(v, vec![0.6, 0.8]);
        let mut z = vec![0.0, 0.0];
        l2_normalize(&mut z);
        assert_eq!(z, vec![0.0, 0.0]);
    }
}
