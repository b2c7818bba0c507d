//! Dense layers and the small attention products on the `gemm` crate
//! (the kernel candle itself calls), called directly so that bias and
//! residual are folded into the product and no tensor is allocated.

use candle_core::Tensor;
use gemm::Parallelism;

/// `y = x W^T + b` of a PyTorch `nn.Linear`, with `W` stored transposed,
/// `(in, out)` row-major: gemm then reads the weight along contiguous rows
/// when it packs it, and the output rows are contiguous too.
pub(crate) struct Linear {
    w_in_out: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl Linear {
    /// From a PyTorch `(out, in)` weight and its `(out,)` bias.
    pub fn from_torch(weight: &Tensor, bias: &Tensor) -> candle_core::Result<Linear> {
        let (outputs, inputs) = weight.dims2()?;
        Ok(Linear {
            w_in_out: weight.t()?.contiguous()?.flatten_all()?.to_vec1()?,
            bias: bias.to_vec1()?,
            inputs,
            outputs,
        })
    }

    /// Stacks layers that read the same input (query, key, value) into one
    /// with their outputs side by side: one larger product instead of three.
    pub fn concat_outputs(parts: &[Linear]) -> Linear {
        let inputs = parts[0].inputs;
        assert!(parts.iter().all(|p| p.inputs == inputs));
        let outputs: usize = parts.iter().map(|p| p.outputs).sum();
        let mut w_in_out = Vec::with_capacity(inputs * outputs);
        for row in 0..inputs {
            for p in parts {
                w_in_out.extend_from_slice(&p.w_in_out[row * p.outputs..(row + 1) * p.outputs]);
            }
        }
        Linear {
            w_in_out,
            bias: parts.iter().flat_map(|p| p.bias.iter().copied()).collect(),
            inputs,
            outputs,
        }
    }

    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// `out = x W^T + b (+ residual)` for `rows` rows of `x`. Bias and
    /// residual are written first and the product accumulated onto them,
    /// which saves a pass over the output each.
    /// The product splits over `threads` of the current rayon pool.
    pub fn forward(
        &self,
        x: &[f32],
        rows: usize,
        residual: Option<&[f32]>,
        out: &mut [f32],
        threads: usize,
    ) {
        let (k, n) = (self.inputs, self.outputs);
        assert!(x.len() >= rows * k && out.len() >= rows * n);
        let out = &mut out[..rows * n];
        match residual {
            Some(res) => {
                for (o, r) in out.chunks_exact_mut(n).zip(res.chunks_exact(n)) {
                    for ((o, r), b) in o.iter_mut().zip(r).zip(&self.bias) {
                        *o = r + b;
                    }
                }
            }
            None => out
                .chunks_exact_mut(n)
                .for_each(|o| o.copy_from_slice(&self.bias)),
        }
        // SAFETY: every operand is a row-major buffer whose length was
        // checked against the shape and strides given.
        unsafe {
            gemm::gemm(
                rows,
                n,
                k,
                out.as_mut_ptr(),
                1,
                n as isize,
                true,
                x.as_ptr(),
                1,
                k as isize,
                self.w_in_out.as_ptr(),
                1,
                n as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                parallelism(threads),
            )
        }
    }
}

/// gemm splits a product over `threads` of the rayon pool it runs in (the
/// model's) above its own size threshold; with one thread, rayon is skipped.
fn parallelism(threads: usize) -> Parallelism {
    match threads {
        1 => Parallelism::None,
        n => Parallelism::Rayon(n),
    }
}

/// A strided view of a row-major matrix: `rows x cols`, element `(i, j)`
/// at `ptr[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct View {
    pub ptr: *const f32,
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl View {
    /// The transpose, without moving anything.
    pub fn t(self) -> View {
        View {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

/// `dst = scale * a b`, `dst` row-major with rows `dst_row_stride` apart,
/// on the calling thread (attention runs one task per sequence already).
///
/// # Safety
/// `a` and `b` must point to valid matrices of their shapes and strides,
/// and `dst` must hold `a.rows` rows of `b.cols` at `dst_row_stride`.
pub(crate) unsafe fn product_into(
    a: View,
    b: View,
    scale: f32,
    dst: *mut f32,
    dst_row_stride: usize,
) {
    debug_assert_eq!(a.cols, b.rows);
    // SAFETY: the caller's promise above.
    unsafe {
        gemm::gemm(
            a.rows,
            b.cols,
            a.cols,
            dst,
            1,
            dst_row_stride as isize,
            false,
            a.ptr,
            a.col_stride as isize,
            a.row_stride as isize,
            b.ptr,
            b.col_stride as isize,
            b.row_stride as isize,
            0.0,
            scale,
            false,
            false,
            false,
            Parallelism::None,
        )
    }
}
