//! Deterministic synthetic embeddings and an exact search, for tests and
//! benchmarks of the index (no model or data set needs to be downloaded).
//!
//! Uniform random points are the wrong test data for HNSW: in 384 dimensions
//! every point is about equally far from every other, and every graph index
//! collapses (recall@10 around 0.15). Real sentence embeddings sit near a
//! low-dimensional, clustered manifold. [`clustered`] imitates that: each
//! vector is a cluster centre, plus a point of a cluster-specific random
//! 24-dimensional subspace, plus a little isotropic noise, normalised.

/// SplitMix64: tiny, fast, and enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f32 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }
}

fn normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Latent dimension of each cluster's subspace.
const LATENT: usize = 24;

/// Generator of clustered unit vectors; see the module docs.
pub struct Clustered {
    dim: usize,
    centres: Vec<f32>,
    bases: Vec<f32>,
}

impl Clustered {
    /// `clusters` centres and subspaces drawn from `seed`.
    pub fn new(dim: usize, clusters: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut centres = vec![0f32; clusters * dim];
        for c in centres.chunks_mut(dim) {
            c.iter_mut().for_each(|x| *x = rng.normal());
            normalise(c);
        }
        // Columns of norm ~1, so a standard-normal latent gives a norm ~sqrt(LATENT).
        let scale = 1.0 / (dim as f32).sqrt();
        let bases = (0..clusters * dim * LATENT)
            .map(|_| rng.normal() * scale)
            .collect();
        Clustered {
            dim,
            centres,
            bases,
        }
    }

    /// Writes `out.len() / dim` vectors, drawn from `seed`, into `out`.
    pub fn fill(&self, seed: u64, out: &mut [f32]) {
        let dim = self.dim;
        let clusters = self.centres.len() / dim;
        let mut rng = Rng::new(seed);
        let mut z = [0f32; LATENT];
        for v in out.chunks_mut(dim) {
            let c = (rng.next_u64() % clusters as u64) as usize;
            z.iter_mut()
                .for_each(|x| *x = rng.normal() * 0.6 / (LATENT as f32).sqrt());
            let centre = &self.centres[c * dim..(c + 1) * dim];
            let basis = &self.bases[c * dim * LATENT..(c + 1) * dim * LATENT];
            let noise = 0.25 / (dim as f32).sqrt();
            for (i, x) in v.iter_mut().enumerate() {
                let row = &basis[i * LATENT..(i + 1) * LATENT];
                let latent: f32 = row.iter().zip(&z).map(|(a, b)| a * b).sum();
                *x = centre[i] + latent + noise * rng.normal();
            }
            normalise(v);
        }
    }

    /// `n` vectors drawn from `seed`, flat.
    pub fn generate(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut out = vec![0f32; n * self.dim];
        self.fill(seed, &mut out);
        out
    }
}

/// `n` clustered unit vectors of `dim` (200 clusters), flat.
pub fn clustered(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    Clustered::new(dim, 200, seed).generate(n, seed ^ 0x5EED)
}

/// Dot product with 8 independent accumulators, so the loop vectorises.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Exact top-`k` by inner product (= cosine for unit vectors) among the rows
/// of `data` accepted by `keep`: row indices, nearest first.
pub fn exact_top_k(
    data: &[f32],
    dim: usize,
    q: &[f32],
    k: usize,
    keep: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let mut scored: Vec<(f32, usize)> = data
        .chunks_exact(dim)
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(i, row)| (dot(row, q), i))
        .collect();
    let k = k.min(scored.len());
    if k == 0 {
        return Vec::new();
    }
    scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
    scored.truncate(k);
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().map(|(_, i)| i).collect()
}

/// Fraction of `truth` found in `got`.
pub fn recall(got: &[u64], truth: &[usize]) -> f64 {
    if truth.is_empty() {
        return 1.0;
    }
    let hits = truth.iter().filter(|&&t| got.contains(&(t as u64))).count();
    hits as f64 / truth.len() as f64
}
