use super::*;
use proptest::prelude::*;
use tiembed_types::format_float;

fn d(m: Metric, a: &[f32], b: &[f32]) -> Option<f64> {
    m.distance(a, b).unwrap()
}

#[test]
fn reference_examples() {
    assert_eq!(d(Metric::L2, &[0.0, 3.0], &[4.0, 0.0]), Some(5.0));
    assert_eq!(d(Metric::Cosine, &[1.0, 1.0], &[-1.0, -1.0]), Some(2.0));
    assert_eq!(
        d(Metric::NegativeInnerProduct, &[1.0, 2.0], &[3.0, 4.0]),
        Some(-11.0)
    );
    assert_eq!(d(Metric::L1, &[0.0, 0.0], &[3.0, 4.0]), Some(7.0));
    assert_eq!(l2_norm(&[3.0, 4.0]), Some(5.0));
    let v = d(Metric::L2, &[2.0, 2.0, 2.0], &[3.0, 3.0, 3.0]).unwrap();
    assert_eq!(format_float(v, false), "1.7320508075688772");
}

#[test]
fn nan_is_null_and_infinities_pass_through() {
    assert_eq!(d(Metric::Cosine, &[1.0, 2.0], &[0.0, 0.0]), None);
    assert_eq!(d(Metric::Cosine, &[3e38], &[3e38]), None);
    assert_eq!(d(Metric::L2, &[3e38], &[-3e38]), Some(f64::INFINITY));
    assert_eq!(
        d(Metric::NegativeInnerProduct, &[3e38], &[3e38]),
        Some(f64::NEG_INFINITY)
    );
    assert_eq!(
        d(Metric::NegativeInnerProduct, &[3e38, -3e38], &[3e38, 3e38]),
        None
    );
}

#[test]
fn empty_vectors() {
    assert_eq!(d(Metric::L1, &[], &[]), Some(0.0));
    assert_eq!(d(Metric::L2, &[], &[]), Some(0.0));
    assert_eq!(d(Metric::Cosine, &[], &[]), None);
    let ip = d(Metric::NegativeInnerProduct, &[], &[]).unwrap();
    assert!(ip == 0.0 && ip.is_sign_negative(), "TiDB computes 0 * -1");
    assert_eq!(l2_norm(&[]), Some(0.0));
    let mut m = Tiles::new(0);
    for _ in 0..3 {
        m.push(&[]);
    }
    let mut out = [Some(1.0); 3];
    Metric::Cosine.distances(&[], &m, &mut out).unwrap();
    assert_eq!(out, [None; 3]);
    Metric::L2.distances(&[], &m, &mut out).unwrap();
    assert_eq!(out, [Some(0.0); 3]);
}

#[test]
fn different_dimensions_error() {
    for m in Metric::ALL {
        let e = m.distance(&[1.0], &[1.0, 2.0, 3.0]).unwrap_err();
        assert_eq!(e.to_string(), "vectors have different dimensions: 1 and 3");
    }
    let rows = Tiles::from_rows(3, &[0.0; 6]).unwrap();
    let mut out = [None; 2];
    let e = Metric::L2.distances(&[1.0], &rows, &mut out).unwrap_err();
    assert_eq!(e.to_string(), "vectors have different dimensions: 3 and 1");
}

#[test]
fn identical_vectors_have_cosine_distance_exactly_zero() {
    let mut x = 0x2545F4914F6CDD1Du64;
    for dim in [1, 3, 8, 17, 384, 1536] {
        let v: Vec<f32> = (0..dim)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        assert_eq!(d(Metric::Cosine, &v, &v), Some(0.0), "dim {dim}");
        let rows: Vec<f32> = v.iter().cycle().take(dim * 20).copied().collect();
        let mut out = vec![None; 20];
        Metric::Cosine
            .distances(&v, &Tiles::from_rows(dim, &rows).unwrap(), &mut out)
            .unwrap();
        assert!(out.iter().all(|o| *o == Some(0.0)), "dim {dim}: {out:?}");
    }
}

#[test]
fn metric_names() {
    assert_eq!(
        Metric::from_function_name("vec_cosine_distance"),
        Some(Metric::Cosine)
    );
    assert_eq!(
        Metric::from_function_name("VEC_NEGATIVE_INNER_PRODUCT"),
        Some(Metric::NegativeInnerProduct)
    );
    assert_eq!(Metric::from_function_name("VEC_L2_NORM"), None);
    assert_eq!(Metric::from(tiembed_types::VectorMetric::L2), Metric::L2);
    assert_eq!(Metric::L1.index_metric(), None);
}

/// TiDB's Go loops, transcribed literally (pkg/types/vector_functions.go).
#[allow(clippy::neg_multiply)]
fn tidb(m: Metric, va: &[f32], vb: &[f32]) -> f64 {
    match m {
        Metric::L1 => {
            let mut distance = 0f32;
            for i in 0..va.len() {
                let mut diff = va[i] - vb[i];
                if diff < 0.0 {
                    diff = -diff;
                }
                distance += diff;
            }
            distance as f64
        }
        Metric::L2 => {
            let mut distance = 0f32;
            for i in 0..va.len() {
                let diff = va[i] - vb[i];
                distance += diff * diff;
            }
            (distance as f64).sqrt()
        }
        Metric::NegativeInnerProduct => {
            let mut distance = 0f32;
            for i in 0..va.len() {
                distance += va[i] * vb[i];
            }
            distance as f64 * -1.0
        }
        Metric::Cosine => {
            let (mut distance, mut norma, mut normb) = (0f32, 0f32, 0f32);
            for i in 0..va.len() {
                distance += va[i] * vb[i];
                norma += va[i] * va[i];
                normb += vb[i] * vb[i];
            }
            let similarity = distance as f64 / (norma as f64 * normb as f64).sqrt();
            if similarity.is_nan() {
                return f64::NAN;
            }
            1.0 - similarity.clamp(-1.0, 1.0)
        }
    }
}

/// The mathematically exact value, approximated in float64.
fn reference(m: Metric, a: &[f32], b: &[f32]) -> f64 {
    let pairs = a.iter().zip(b).map(|(&x, &y)| (x as f64, y as f64));
    match m {
        Metric::L1 => pairs.map(|(x, y)| (x - y).abs()).sum(),
        Metric::L2 => pairs.map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt(),
        Metric::NegativeInnerProduct => -pairs.map(|(x, y)| x * y).sum::<f64>(),
        Metric::Cosine => {
            let (dot, na, nb) = pairs.fold((0.0, 0.0, 0.0), |(d, na, nb), (x, y)| {
                (d + x * y, na + x * x, nb + y * y)
            });
            1.0 - (dot / (na * nb).sqrt()).clamp(-1.0, 1.0)
        }
    }
}

/// How far a float32 sequential sum of `n` terms may drift from the exact
/// value: (n + 2) units of float32 rounding per unit of `scale`.
fn tolerance(m: Metric, a: &[f32], b: &[f32]) -> f64 {
    let n = a.len() as f64 + 2.0;
    let u = f32::EPSILON as f64;
    let pairs = || a.iter().zip(b).map(|(&x, &y)| (x as f64, y as f64));
    match m {
        Metric::L1 => n * u * pairs().map(|(x, y)| (x - y).abs()).sum::<f64>(),
        // √ halves the relative error of the sum.
        Metric::L2 => n * u * reference(m, a, b),
        Metric::NegativeInnerProduct => n * u * pairs().map(|(x, y)| (x * y).abs()).sum::<f64>(),
        // Each of the three sums is within n·u of its magnitude, and
        // Σ|xy| ≤ |a||b|, so the similarity is within ~3·n·u.
        Metric::Cosine => 4.0 * n * u,
    }
}

fn vectors(max_dim: usize) -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
    (0..=max_dim).prop_flat_map(|dim| {
        let elem = prop_oneof![
            -100f32..100f32,
            -1e-3f32..1e-3f32,
            (-8i32..8).prop_map(|i| i as f32)
        ];
        (
            prop::collection::vec(elem.clone(), dim),
            prop::collection::vec(elem, dim),
        )
    })
}

fn matrix(max_dim: usize, max_rows: usize) -> impl Strategy<Value = (Vec<f32>, usize, Vec<f32>)> {
    (0..=max_dim, 0..=max_rows).prop_flat_map(|(dim, rows)| {
        let elem = prop_oneof![-10f32..10f32, (-4i32..4).prop_map(|i| i as f32)];
        (
            prop::collection::vec(elem.clone(), dim),
            Just(rows),
            prop::collection::vec(elem, dim * rows),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn kernels_are_tidbs_loops_bit_for_bit((a, b) in vectors(80)) {
        for m in Metric::ALL {
            let got = m.distance(&a, &b).unwrap();
            let want = tidb(m, &a, &b);
            match got {
                None => prop_assert!(want.is_nan(), "{m:?}"),
                Some(g) => prop_assert_eq!(g.to_bits(), want.to_bits(), "{:?}", m),
            }
        }
    }

    #[test]
    fn kernels_are_close_to_the_f64_reference((a, b) in vectors(600)) {
        for m in Metric::ALL {
            let want = reference(m, &a, &b);
            match m.distance(&a, &b).unwrap() {
                // Only a zero vector makes cosine NaN.
                None => prop_assert!(m == Metric::Cosine && (a.iter().all(|x| *x == 0.0) || b.iter().all(|x| *x == 0.0))),
                Some(got) => {
                    let tol = tolerance(m, &a, &b) + 1e-300;
                    prop_assert!((got - want).abs() <= tol, "{:?}: got {} want {} tol {}", m, got, want, tol);
                }
            }
        }
        let norm = a.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
        let got = l2_norm(&a).unwrap();
        prop_assert!((got - norm).abs() <= norm * 1e-12, "l2_norm {} vs {}", got, norm);
    }

    #[test]
    fn batch_equals_pairwise_bit_for_bit((query, rows, data) in matrix(40, 70)) {
        let dim = query.len();
        let mut m = Tiles::new(dim);
        for i in 0..rows {
            m.push(&data[i * dim..(i + 1) * dim]);
        }
        for metric in Metric::ALL {
            let mut out = vec![Some(f64::MAX); rows];
            metric.distances(&query, &m, &mut out).unwrap();
            for (i, got) in out.iter().enumerate() {
                let want = metric.distance(&m.row(i), &query).unwrap();
                prop_assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{:?} row {} dim {}", metric, i, dim);
            }
        }
    }
}
