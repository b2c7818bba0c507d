//! Measurement helpers shared by the benchmarks (the kernel's in this
//! crate, the SQL-level one in `tiembed-tests`): the machine's memory read
//! bandwidth, per-thread CPU time, seeded unit vectors. Not used by the
//! server itself.

use std::hint::black_box;
use std::time::Instant;

pub fn median_best(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0])
}

/// Seconds this thread has spent on a CPU (`CLOCK_THREAD_CPUTIME_ID`):
/// time slices handed to other processes on a busy machine do not count.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
pub fn thread_cpu_seconds() -> Option<f64> {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: a valid clock id and a valid out-pointer (libc is linked by std).
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then_some(ts.sec as f64 + ts.nsec as f64 * 1e-9)
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
pub fn thread_cpu_seconds() -> Option<f64> {
    None
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "?".into(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

pub struct Bandwidth {
    /// Bytes per wall-clock second.
    pub wall: f64,
    /// Bytes per on-CPU second, single-threaded runs only.
    pub cpu: Option<f64>,
}

/// Best of `passes` passes summing `buf` (split over `threads`).
pub fn read_bandwidth(buf: &[f32], threads: usize, passes: usize) -> Bandwidth {
    let bytes = std::mem::size_of_val(buf) as f64;
    let (mut wall, mut cpu) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..passes.max(1) {
        let (c0, t) = (thread_cpu_seconds(), Instant::now());
        let total: f32 = if threads == 1 {
            sum(buf)
        } else {
            std::thread::scope(|s| {
                let hs: Vec<_> = buf
                    .chunks(buf.len().div_ceil(threads))
                    .map(|part| s.spawn(move || sum(part)))
                    .collect();
                hs.into_iter().map(|h| h.join().expect("sum thread")).sum()
            })
        };
        black_box(total);
        wall = wall.min(t.elapsed().as_secs_f64());
        if let (Some(c1), Some(c0)) = (thread_cpu_seconds(), c0) {
            cpu = cpu.min(c1 - c0);
        }
    }
    Bandwidth {
        wall: bytes / wall,
        cpu: (threads == 1 && cpu.is_finite()).then(|| bytes / cpu),
    }
}

/// 32 independent lanes: the compiler keeps them in four AVX registers.
fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0f32; 32];
    let chunks = xs.chunks_exact(32);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Uniform directions are not needed for timing; unit length is, so that
/// the data looks like sentence embeddings.
pub fn random_unit_rows(rows: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v: Vec<f32> = (0..rows * dim)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect();
    for row in v.chunks_exact_mut(dim) {
        let norm = row.iter().map(|a| a * a).sum::<f32>().sqrt();
        row.iter_mut().for_each(|a| *a /= norm);
    }
    v
}
