//! Every failure this crate reports, worded exactly as TiDB words it. All of
//! them reach the client as ERROR 1105 (TiDB's catch-all), so the conversion
//! into the shared error is just the text.

use thiserror::Error;

use crate::codec::go_float_v;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum VectorError {
    /// The original text, verbatim (not trimmed).
    #[error("Invalid vector text: {0}")]
    InvalidText(String),
    #[error("NaN not allowed in vector")]
    NaN,
    #[error("infinite value not allowed in vector")]
    Infinite,
    /// The parsed float64, printed as Go's `%v` prints it (`1e+39`).
    #[error("value {} out of range for float32", go_float_v(*.0))]
    OutOfRange(f64),
    #[error("vector cannot have more than {0} dimensions")]
    TooManyDimensions(usize),
    /// A vector that does not match a declared `VECTOR(D)`.
    #[error("vector has {got} dimensions, does not fit VECTOR({declared})")]
    DoesNotFit { got: usize, declared: usize },
    /// Two operands of a distance or arithmetic function disagree.
    #[error("vectors have different dimensions: {0} and {1}")]
    DifferentDimensions(usize, usize),
    /// Element-wise `+ - *` produced an infinity.
    #[error("value out of range: overflow")]
    ArithmeticOverflow,
    /// Element-wise `+ - *` produced a NaN.
    #[error("value out of range: NaN")]
    ArithmeticNaN,
}

impl From<VectorError> for tiembed_types::Error {
    fn from(e: VectorError) -> Self {
        tiembed_types::Error::Other(e.to_string())
    }
}
