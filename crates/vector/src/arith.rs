//! Element-wise `+`, `-`, `*` and the comparison TiDB defines on vectors
//! (`pkg/types/vector_functions.go`).

use std::cmp::Ordering;

use crate::distance::same_dimensions;
use crate::VectorError;

/// `a + b`.
pub fn add(a: &[f32], b: &[f32]) -> Result<Vec<f32>, VectorError> {
    elementwise(a, b, |x, y| x + y)
}

/// `a - b`.
pub fn sub(a: &[f32], b: &[f32]) -> Result<Vec<f32>, VectorError> {
    elementwise(a, b, |x, y| x - y)
}

/// `a * b`, element by element.
pub fn mul(a: &[f32], b: &[f32]) -> Result<Vec<f32>, VectorError> {
    elementwise(a, b, |x, y| x * y)
}

fn elementwise(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> Result<Vec<f32>, VectorError> {
    same_dimensions(a, b)?;
    let out: Vec<f32> = a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect();
    // TiDB computes everything first, then reports the first bad element.
    for v in &out {
        if v.is_infinite() {
            return Err(VectorError::ArithmeticOverflow);
        }
        if v.is_nan() {
            return Err(VectorError::ArithmeticNaN);
        }
    }
    Ok(out)
}

/// Element by element numerically, then the shorter vector first:
/// `[1,2,3] < [1,2,3,0]`, `[] < [1]`, `[2] > [1,9]`.
pub fn compare(a: &[f32], b: &[f32]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        if x < y {
            return Ordering::Less;
        }
        if x > y {
            return Ordering::Greater;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        assert_eq!(
            sub(&[2.0, 3.0, 4.0], &[1.0, 2.0, 3.0]).unwrap(),
            vec![1.0, 1.0, 1.0]
        );
        assert_eq!(add(&[1.0, 2.0], &[0.5, -2.0]).unwrap(), vec![1.5, 0.0]);
        assert_eq!(mul(&[1.0, 2.0], &[3.0, 4.0]).unwrap(), vec![3.0, 8.0]);
        assert_eq!(add(&[], &[]).unwrap(), Vec::<f32>::new());
        assert_eq!(
            add(&[1.0], &[1.0, 2.0, 3.0]).unwrap_err().to_string(),
            "vectors have different dimensions: 1 and 3"
        );
        assert_eq!(
            add(&[3e38], &[3e38]).unwrap_err().to_string(),
            "value out of range: overflow"
        );
        assert_eq!(
            mul(&[1e30, 1.0], &[1e30, 1.0]).unwrap_err().to_string(),
            "value out of range: overflow"
        );
    }

    #[test]
    fn ordering() {
        assert_eq!(
            compare(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 0.0]),
            Ordering::Less
        );
        assert_eq!(compare(&[], &[1.0]), Ordering::Less);
        assert_eq!(compare(&[2.0], &[1.0, 9.0]), Ordering::Greater);
        assert_eq!(compare(&[12.0], &[4.0]), Ordering::Greater);
        assert_eq!(compare(&[-0.0], &[0.0]), Ordering::Equal);
        assert_eq!(compare(&[1.1, 2.2, 3.3], &[-1.1, 4.2]), Ordering::Greater);
    }
}
