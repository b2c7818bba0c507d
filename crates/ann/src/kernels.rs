//! Distance kernels and prefetch.
//!
//! Every kernel computes the distance between a query (f32, `n` values) and
//! one stored row (`n` values in the index's storage type), where `n` is the
//! padded dimension: a multiple of 16, the padding zero in both, so no kernel
//! has a tail loop. Cosine kernels return `1 - dot` (rows and queries are unit
//! vectors), L2 kernels the squared distance.
//!
//! The CPU is probed once ([`kernels`]); the index keeps the chosen function
//! pointer, so the hot loop pays one indirect call and no feature test.
//!
//! This module and `graph::Graph::dist` hold the crate's only `unsafe`: SIMD
//! loads through raw pointers and prefetch hints.

use std::sync::OnceLock;

use tiembed_types::VectorMetric;

use crate::index::Storage;

/// `unsafe` contract: `q` points to `n` readable f32, `row` to `n` readable
/// values of the kernel's storage type, 4-byte aligned (rows are 32-byte
/// aligned), nobody writes either while the kernel runs, and `n % 16 == 0`.
pub(crate) type DistFn = unsafe fn(q: *const f32, row: *const u8, n: usize) -> f32;

/// Two rows at once (same contract for both): two independent memory
/// streams keep more cache misses in flight than one, which is what a
/// search waits on.
pub(crate) type Dist2Fn =
    unsafe fn(q: *const f32, a: *const u8, b: *const u8, n: usize) -> (f32, f32);

pub(crate) type Dist4Fn = unsafe fn(q: *const f32, r: [*const u8; 4], n: usize) -> [f32; 4];

/// The kernels for each (storage, metric), chosen for this CPU.
#[derive(Clone, Copy)]
pub(crate) struct Kernels {
    table: [[DistFn; 2]; 3],
    /// Pair kernels where there are any (f32 with AVX-512).
    pairs: [Option<Dist2Fn>; 2],
    pub(crate) quads: [Option<Dist4Fn>; 2],
    pub(crate) name: &'static str,
}

impl Kernels {
    pub(crate) fn get(&self, storage: Storage, metric: VectorMetric) -> DistFn {
        let m = match metric {
            VectorMetric::Cosine => 0,
            VectorMetric::L2 => 1,
        };
        self.table[storage.code() as usize][m]
    }

    pub(crate) fn get2(&self, storage: Storage, metric: VectorMetric) -> Option<Dist2Fn> {
        match (storage, metric) {
            (Storage::F32, VectorMetric::Cosine) => self.pairs[0],
            (Storage::F32, VectorMetric::L2) => self.pairs[1],
            _ => None,
        }
    }
}

/// Probes the CPU on first use. `TIEMBED_ANN_SIMD=avx2` or `=portable`
/// caps the choice (to test or compare the fallbacks).
pub(crate) fn kernels() -> &'static Kernels {
    static K: OnceLock<Kernels> = OnceLock::new();
    K.get_or_init(|| {
        let cap = std::env::var("TIEMBED_ANN_SIMD").unwrap_or_default();
        let allowed = |level: &str| match cap.as_str() {
            "portable" => false,
            "avx2" => level == "avx2",
            _ => true,
        };
        #[cfg(target_arch = "x86_64")]
        if allowed("avx512") && is_x86_feature_detected!("avx512f") {
            return Kernels {
                table: [
                    [x86::ip_f32_512, x86::l2_f32_512],
                    [x86::ip_bf16_512, x86::l2_bf16_512],
                    [x86::ip_f16_512, x86::l2_f16_512],
                ],
                pairs: [Some(x86::ip2_f32_512), Some(x86::l2_2_f32_512)],
                quads: [Some(x86::ip4_f32_512), Some(x86::l2_4_f32_512)],
                name: "avx512f",
            };
        }
        #[cfg(target_arch = "x86_64")]
        if allowed("avx2") && is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            let f16 = is_x86_feature_detected!("f16c");
            return Kernels {
                table: [
                    [x86::ip_f32, x86::l2_f32],
                    [x86::ip_bf16, x86::l2_bf16],
                    if f16 {
                        [x86::ip_f16, x86::l2_f16]
                    } else {
                        [portable::ip_f16, portable::l2_f16]
                    },
                ],
                pairs: [None, None],
                quads: [None, None],
                name: if f16 { "avx2+fma+f16c" } else { "avx2+fma" },
            };
        }
        Kernels {
            table: [
                [portable::ip_f32, portable::l2_f32],
                [portable::ip_bf16, portable::l2_bf16],
                [portable::ip_f16, portable::l2_f16],
            ],
            pairs: [None, None],
            quads: [None, None],
            name: "portable",
        }
    })
}

/// Hints the CPU to fetch `bytes` starting at `p` into L1. A prefetch never
/// faults, whatever the address; it only costs an instruction per line.
#[inline(always)]
pub(crate) fn prefetch(p: *const u8, bytes: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let mut off = 0;
        while off < bytes {
            // SAFETY: prefetch is a hint; it does not access memory
            // architecturally and cannot fault.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(off) as *const i8) };
            off += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, bytes);
}

// ---- storage conversions (used by inserts and the portable kernels) ----

/// f32 -> bf16, round to nearest even (inputs are finite).
pub(crate) fn to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    (b.wrapping_add(0x7FFF + ((b >> 16) & 1)) >> 16) as u16
}

pub(crate) fn from_bf16(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

/// f32 -> IEEE half, round to nearest even; beyond 65504 becomes infinity.
pub(crate) fn to_f16(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xFF) as i32;
    let man = b & 0x7F_FFFF;
    if exp == 0xFF {
        return sign | 0x7C00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1F {
        return sign | 0x7C00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        // Subnormal half: shift the mantissa (with its implicit 1) down.
        let m = man | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = m >> shift;
        let rem = m & ((1 << shift) - 1);
        let mid = 1 << (shift - 1);
        let round = (rem > mid || (rem == mid && half & 1 == 1)) as u32;
        return sign | (half + round) as u16;
    }
    let half = ((e as u32) << 10) | (man >> 13);
    let rem = man & 0x1FFF;
    let round = (rem > 0x1000 || (rem == 0x1000 && half & 1 == 1)) as u32;
    // A carry out of the mantissa correctly bumps the exponent (to inf at most).
    sign | (half + round) as u16
}

pub(crate) fn from_f16(h: u16) -> f32 {
    let sign = ((h & 0x8000) as u32) << 16;
    let exp = ((h >> 10) & 0x1F) as u32;
    let man = (h & 0x3FF) as u32;
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: value = man * 2^-24.
            let v = man as f32 * (1.0 / 16_777_216.0);
            return if sign != 0 { -v } else { v };
        }
        (0x1F, 0) => sign | 0x7F80_0000,
        (0x1F, _) => sign | 0x7FC0_0000,
        _ => sign | ((exp + 127 - 15) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

mod portable {
    //! Plain Rust with 8 independent accumulators, which the compiler
    //! vectorises with whatever the target baseline has (SSE2 on x86_64).

    use super::{from_bf16, from_f16};

    /// # Safety
    /// See [`super::DistFn`].
    unsafe fn rows<'a, T>(q: *const f32, row: *const u8, n: usize) -> (&'a [f32], &'a [T]) {
        // SAFETY: the DistFn contract: both point to `n` readable, aligned
        // values that nobody writes while this runs.
        unsafe {
            (
                std::slice::from_raw_parts(q, n),
                std::slice::from_raw_parts(row as *const T, n),
            )
        }
    }

    #[inline(always)]
    fn fold<T: Copy>(q: &[f32], r: &[T], f: impl Fn(f32, T) -> f32) -> f32 {
        let mut acc = [0f32; 8];
        for (a, b) in q.chunks_exact(8).zip(r.chunks_exact(8)) {
            for i in 0..8 {
                acc[i] += f(a[i], b[i]);
            }
        }
        acc.iter().sum()
    }

    pub(super) unsafe fn ip_f32(q: *const f32, row: *const u8, n: usize) -> f32 {
        let (q, r) = unsafe { rows::<f32>(q, row, n) };
        1.0 - fold(q, r, |a, b| a * b)
    }

    pub(super) unsafe fn l2_f32(q: *const f32, row: *const u8, n: usize) -> f32 {
        let (q, r) = unsafe { rows::<f32>(q, row, n) };
        fold(q, r, |a, b| (a - b) * (a - b))
    }

    pub(super) unsafe fn ip_bf16(q: *const f32, row: *const u8, n: usize) -> f32 {
        let (q, r) = unsafe { rows::<u16>(q, row, n) };
        1.0 - fold(q, r, |a, b| a * from_bf16(b))
    }

    pub(super) unsafe fn l2_bf16(q: *const f32, row: *const u8, n: usize) -> f32 {
        let (q, r) = unsafe { rows::<u16>(q, row, n) };
        fold(q, r, |a, b| (a - from_bf16(b)) * (a - from_bf16(b)))
    }

    pub(super) unsafe fn ip_f16(q: *const f32, row: *const u8, n: usize) -> f32 {
        let (q, r) = unsafe { rows::<u16>(q, row, n) };
        1.0 - fold(q, r, |a, b| a * from_f16(b))
    }

    pub(super) unsafe fn l2_f16(q: *const f32, row: *const u8, n: usize) -> f32 {
        let (q, r) = unsafe { rows::<u16>(q, row, n) };
        fold(q, r, |a, b| (a - from_f16(b)) * (a - from_f16(b)))
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! AVX2 + FMA: 16 values per step on two accumulators (two FMA chains
    //! hide the FMA latency; the loads are the real limit).

    use std::arch::x86_64::*;

    #[target_feature(enable = "avx")]
    #[inline]
    fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps::<1>(s, s));
        _mm_cvtss_f32(s)
    }

    /// A kernel over `$load`, which reads 8 stored values at index `i` as f32.
    macro_rules! kernel {
        ($name:ident, $feat:literal, $load:ident, ip) => {
            #[target_feature(enable = $feat)]
            pub(super) unsafe fn $name(q: *const f32, row: *const u8, n: usize) -> f32 {
                let (mut a0, mut a1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
                let mut i = 0;
                while i < n {
                    // SAFETY: i + 16 <= n (n % 16 == 0); the DistFn contract.
                    unsafe {
                        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q.add(i)), $load(row, i), a0);
                        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q.add(i + 8)), $load(row, i + 8), a1);
                    }
                    i += 16;
                }
                1.0 - hsum(_mm256_add_ps(a0, a1))
            }
        };
        ($name:ident, $feat:literal, $load:ident, l2) => {
            #[target_feature(enable = $feat)]
            pub(super) unsafe fn $name(q: *const f32, row: *const u8, n: usize) -> f32 {
                let (mut a0, mut a1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
                let mut i = 0;
                while i < n {
                    // SAFETY: as above.
                    unsafe {
                        let d0 = _mm256_sub_ps(_mm256_loadu_ps(q.add(i)), $load(row, i));
                        let d1 = _mm256_sub_ps(_mm256_loadu_ps(q.add(i + 8)), $load(row, i + 8));
                        a0 = _mm256_fmadd_ps(d0, d0, a0);
                        a1 = _mm256_fmadd_ps(d1, d1, a1);
                    }
                    i += 16;
                }
                hsum(_mm256_add_ps(a0, a1))
            }
        };
    }

    #[target_feature(enable = "avx")]
    #[inline]
    unsafe fn load_f32(row: *const u8, i: usize) -> __m256 {
        // SAFETY: the caller passes an in-bounds index (kernel contract).
        unsafe { _mm256_loadu_ps((row as *const f32).add(i)) }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn load_bf16(row: *const u8, i: usize) -> __m256 {
        // bf16 is the top half of an f32: widen to 32 bits, shift up.
        // SAFETY: as load_f32; AVX2 is enabled in every caller.
        unsafe {
            let h = _mm_loadu_si128((row as *const u16).add(i) as *const __m128i);
            _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(h)))
        }
    }

    #[target_feature(enable = "avx,f16c")]
    #[inline]
    unsafe fn load_f16(row: *const u8, i: usize) -> __m256 {
        // SAFETY: as load_f32; F16C is enabled in every caller.
        unsafe {
            let h = _mm_loadu_si128((row as *const u16).add(i) as *const __m128i);
            _mm256_cvtph_ps(h)
        }
    }

    /// 16 values per step, 512-bit: `n % 16 == 0` means no tail at all.
    macro_rules! kernel512 {
        ($name:ident, $load:ident, $step:ident, $finish:expr) => {
            #[target_feature(enable = "avx512f")]
            pub(super) unsafe fn $name(q: *const f32, row: *const u8, n: usize) -> f32 {
                let (mut a0, mut a1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
                let mut i = 0;
                while i + 32 <= n {
                    // SAFETY: i + 32 <= n; the DistFn contract.
                    unsafe {
                        a0 = $step(_mm512_loadu_ps(q.add(i)), $load(row, i), a0);
                        a1 = $step(_mm512_loadu_ps(q.add(i + 16)), $load(row, i + 16), a1);
                    }
                    i += 32;
                }
                if i < n {
                    // SAFETY: i + 16 == n.
                    unsafe { a0 = $step(_mm512_loadu_ps(q.add(i)), $load(row, i), a0) };
                }
                let finish: fn(f32) -> f32 = $finish;
                finish(_mm512_reduce_add_ps(_mm512_add_ps(a0, a1)))
            }
        };
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn ip_step(a: __m512, b: __m512, acc: __m512) -> __m512 {
        _mm512_fmadd_ps(a, b, acc)
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn l2_step(a: __m512, b: __m512, acc: __m512) -> __m512 {
        let d = _mm512_sub_ps(a, b);
        _mm512_fmadd_ps(d, d, acc)
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn load_f32_512(row: *const u8, i: usize) -> __m512 {
        // SAFETY: the caller passes an in-bounds index (kernel contract).
        unsafe { _mm512_loadu_ps((row as *const f32).add(i)) }
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn load_bf16_512(row: *const u8, i: usize) -> __m512 {
        // SAFETY: as load_f32_512.
        unsafe {
            let h = _mm256_loadu_si256((row as *const u16).add(i) as *const __m256i);
            _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(h)))
        }
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn load_f16_512(row: *const u8, i: usize) -> __m512 {
        // SAFETY: as load_f32_512.
        unsafe {
            let h = _mm256_loadu_si256((row as *const u16).add(i) as *const __m256i);
            _mm512_cvtph_ps(h)
        }
    }

    macro_rules! pair512 {
        ($name:ident, $step:ident, $finish:expr) => {
            #[target_feature(enable = "avx512f")]
            pub(super) unsafe fn $name(
                q: *const f32,
                a: *const u8,
                b: *const u8,
                n: usize,
            ) -> (f32, f32) {
                let (mut x, mut y) = (_mm512_setzero_ps(), _mm512_setzero_ps());
                let mut i = 0;
                while i < n {
                    // SAFETY: i + 16 <= n; the Dist2Fn contract.
                    unsafe {
                        let qv = _mm512_loadu_ps(q.add(i));
                        x = $step(qv, load_f32_512(a, i), x);
                        y = $step(qv, load_f32_512(b, i), y);
                    }
                    i += 16;
                }
                let finish: fn(f32) -> f32 = $finish;
                (
                    finish(_mm512_reduce_add_ps(x)),
                    finish(_mm512_reduce_add_ps(y)),
                )
            }
        };
    }

    macro_rules! quad512 {
        ($name:ident, $step:ident, $finish:expr) => {
            #[target_feature(enable = "avx512f")]
            pub(super) unsafe fn $name(q: *const f32, r: [*const u8; 4], n: usize) -> [f32; 4] {
                let mut acc = [_mm512_setzero_ps(); 4];
                let mut i = 0;
                while i < n {
                    // SAFETY: i + 16 <= n; the Dist4Fn contract.
                    unsafe {
                        let qv = _mm512_loadu_ps(q.add(i));
                        for j in 0..4 {
                            acc[j] = $step(qv, load_f32_512(r[j], i), acc[j]);
                        }
                    }
                    i += 16;
                }
                let finish: fn(f32) -> f32 = $finish;
                acc.map(|a| finish(_mm512_reduce_add_ps(a)))
            }
        };
    }

    quad512!(ip4_f32_512, ip_step, |s| 1.0 - s);
    quad512!(l2_4_f32_512, l2_step, |s| s);

    pair512!(ip2_f32_512, ip_step, |s| 1.0 - s);
    pair512!(l2_2_f32_512, l2_step, |s| s);

    kernel512!(ip_f32_512, load_f32_512, ip_step, |s| 1.0 - s);
    kernel512!(l2_f32_512, load_f32_512, l2_step, |s| s);
    kernel512!(ip_bf16_512, load_bf16_512, ip_step, |s| 1.0 - s);
    kernel512!(l2_bf16_512, load_bf16_512, l2_step, |s| s);
    kernel512!(ip_f16_512, load_f16_512, ip_step, |s| 1.0 - s);
    kernel512!(l2_f16_512, load_f16_512, l2_step, |s| s);

    kernel!(ip_f32, "avx2,fma", load_f32, ip);
    kernel!(l2_f32, "avx2,fma", load_f32, l2);
    kernel!(ip_bf16, "avx2,fma", load_bf16, ip);
    kernel!(l2_bf16, "avx2,fma", load_bf16, l2);
    kernel!(ip_f16, "avx2,fma,f16c", load_f16, ip);
    kernel!(l2_f16, "avx2,fma,f16c", load_f16, l2);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(storage: Storage, tol: f32) {
        let n = 48;
        let q: Vec<f32> = (0..n).map(|i| ((i * 7 % 13) as f32 - 6.0) / 10.0).collect();
        let r: Vec<f32> = (0..n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 8.0).collect();
        let enc: Vec<u8> = match storage {
            Storage::F32 => r.iter().flat_map(|x| x.to_ne_bytes()).collect(),
            Storage::BF16 => r.iter().flat_map(|&x| to_bf16(x).to_ne_bytes()).collect(),
            Storage::F16 => r.iter().flat_map(|&x| to_f16(x).to_ne_bytes()).collect(),
        };
        // Copy into u32s so the row is 4-byte aligned.
        let words: Vec<u32> = enc
            .chunks(4)
            .map(|c| u32::from_ne_bytes(c.try_into().unwrap()))
            .collect();
        let dot: f32 = q.iter().zip(&r).map(|(a, b)| a * b).sum();
        let l2: f32 = q.iter().zip(&r).map(|(a, b)| (a - b) * (a - b)).sum();
        for (metric, want) in [(VectorMetric::Cosine, 1.0 - dot), (VectorMetric::L2, l2)] {
            let f = kernels().get(storage, metric);
            // SAFETY: both buffers hold n values; n % 16 == 0.
            let got = unsafe { f(q.as_ptr(), words.as_ptr() as *const u8, n) };
            assert!(
                (got - want).abs() < tol,
                "{storage:?} {metric:?}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn kernels_agree_with_scalar_maths() {
        check(Storage::F32, 1e-4);
        check(Storage::BF16, 0.05);
        check(Storage::F16, 0.01);
    }

    #[test]
    fn half_conversions_round_trip() {
        for x in [0.0f32, 1.0, -2.5, 0.1, 65504.0, 6.1e-5, 3e-7, -1e-8] {
            let h = from_f16(to_f16(x));
            assert!((h - x).abs() <= x.abs() * 1e-3 + 6e-8, "{x} -> {h}");
            let b = from_bf16(to_bf16(x));
            assert!((b - x).abs() <= x.abs() * 1e-2, "{x} -> {b}");
        }
        assert_eq!(from_f16(to_f16(1e6)), f32::INFINITY);
    }
}
