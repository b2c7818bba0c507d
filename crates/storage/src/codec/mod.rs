//! Byte encodings: memcomparable keys ([`key`]), the row format ([`row`])
//! and string sort weights per collation ([`collation`]).

pub mod collation;
pub mod key;
pub mod row;

pub use key::{encode_key, encode_value, prefix_end};
pub use row::{decode_row, encode_row};
