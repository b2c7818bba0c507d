//! A counting semaphore in front of usearch's per-thread search contexts.
//!
//! usearch preallocates N "thread contexts" (`reserve_capacity_and_threads`)
//! and every add or search borrows one. When more callers arrive than there
//! are contexts it does not wait: the call fails with "Reserve capacity ahead
//! of searches!". A tokio blocking pool easily has more threads than cores, so
//! callers queue here instead.

use parking_lot::{Condvar, Mutex};

pub(crate) struct Gate {
    free: Mutex<usize>,
    wake: Condvar,
}

pub(crate) struct Permit<'a>(&'a Gate);

impl Gate {
    pub(crate) fn new(permits: usize) -> Self {
        Gate {
            free: Mutex::new(permits),
            wake: Condvar::new(),
        }
    }

    pub(crate) fn acquire(&self) -> Permit<'_> {
        let mut free = self.free.lock();
        while *free == 0 {
            self.wake.wait(&mut free);
        }
        *free -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.0.free.lock() += 1;
        self.0.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::Gate;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn never_more_holders_than_permits() {
        let gate = Gate::new(2);
        let inside = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..200 {
                        let _p = gate.acquire();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::hint::spin_loop();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 2);
    }
}
