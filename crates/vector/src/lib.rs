//! tiembed-vector (work in progress)
mod codec;
mod error;
pub use codec::*;
pub use error::VectorError;
