//! Continuous batching with single flight, in front of one embedder.
//!
//! A [`Lane`] owns a queue of texts waiting for its embedder and a table
//! of every text queued or in flight with the callers waiting for it.
//! While fewer than `max_concurrency` batches are out, queued texts leave
//! at once (a lone query waits for no timer); while the embedder is busy,
//! new texts gather and leave as the next batch when one returns. A text
//! already queued or in flight is never sent twice: later callers join its
//! waiters (single flight). A batch's failure reaches every waiter of it.
//! Batches are filled round-robin over the calls waiting, so a one-text
//! query queued behind a 10,000-row INSERT leaves with the next batch
//! instead of after the whole INSERT.
//!
//! The cache check, the in-flight table and the cache insert happen under
//! the lane's lock, so a text is either cached, in flight, or sent: two
//! concurrent callers can never both send it.

use crate::cache::{CacheKey, Lru};
use crate::{EmbedError, Embedder};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::oneshot;

/// TiDB's limit on vector dimensions.
const MAX_DIM: usize = 16383;

type Shared = Result<Arc<Vec<f32>>, EmbedError>;

/// Counters the registry reports; shared by all lanes.
#[derive(Default)]
pub(crate) struct Counters {
    pub batches: AtomicU64,
    pub texts_sent: AtomicU64,
    pub cache_hits: AtomicU64,
    pub joined: AtomicU64,
    /// Texts waiting in queues right now.
    pub queued: AtomicU64,
}

pub(crate) struct Lane {
    /// Names the embedder in cache keys (route, model, options).
    key: Arc<str>,
    /// The configuration version the embedder was built with.
    version: u64,
    embedder: Arc<dyn Embedder>,
    cache: Arc<Mutex<Lru>>,
    counters: Arc<Counters>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Texts not yet sent, one queue per call (with the call's deadline),
    /// in arrival order.
    queue: VecDeque<(VecDeque<String>, Instant)>,
    waiters: HashMap<String, Vec<oneshot::Sender<Shared>>>,
    in_flight: usize,
}

impl State {
    /// Up to `max` queued texts, taking one per call in turn; the turn
    /// carries over to the next batch.
    /// The batch's retries may go on until the latest deadline of the
    /// calls it serves (each call stops waiting at its own).
    fn next_batch(&mut self, max: usize) -> (Vec<String>, Option<Instant>) {
        let mut batch = Vec::new();
        let mut deadline: Option<Instant> = None;
        while batch.len() < max {
            let Some((mut call, call_deadline)) = self.queue.pop_front() else {
                break;
            };
            if let Some(text) = call.pop_front() {
                batch.push(text);
                deadline = Some(deadline.map_or(call_deadline, |d| d.max(call_deadline)));
            }
            if !call.is_empty() {
                self.queue.push_back((call, call_deadline));
            }
        }
        (batch, deadline)
    }
}

enum Slot {
    Ready(Arc<Vec<f32>>),
    Wait(oneshot::Receiver<Shared>),
}

impl Lane {
    pub fn new(
        key: Arc<str>,
        version: u64,
        embedder: Arc<dyn Embedder>,
        cache: Arc<Mutex<Lru>>,
        counters: Arc<Counters>,
    ) -> Arc<Lane> {
        Arc::new(Lane {
            key,
            version,
            embedder,
            cache,
            counters,
            state: Mutex::new(State::default()),
        })
    }

    fn cache_key(&self, text: &str) -> CacheKey {
        CacheKey {
            lane: self.key.clone(),
            version: self.version,
            text: text.to_string(),
        }
    }

    /// One vector per text of `texts`, which the caller has deduplicated.
    /// Remote retries for these texts stop at `deadline`.
    pub async fn embed(
        self: &Arc<Self>,
        texts: &[String],
        deadline: Instant,
    ) -> Result<Vec<Arc<Vec<f32>>>, EmbedError> {
        let mut slots = Vec::with_capacity(texts.len());
        {
            let mut st = self.state.lock();
            let mut mine = VecDeque::new();
            for text in texts {
                if let Some(waiters) = st.waiters.get_mut(text) {
                    let (tx, rx) = oneshot::channel();
                    waiters.push(tx);
                    self.counters.joined.fetch_add(1, Ordering::Relaxed);
                    slots.push(Slot::Wait(rx));
                    continue;
                }
                if let Some(v) = self.cache.lock().get(&self.cache_key(text)) {
                    self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
                    slots.push(Slot::Ready(v));
                    continue;
                }
                let (tx, rx) = oneshot::channel();
                st.waiters.insert(text.clone(), vec![tx]);
                mine.push_back(text.clone());
                slots.push(Slot::Wait(rx));
            }
            if !mine.is_empty() {
                self.counters
                    .queued
                    .fetch_add(mine.len() as u64, Ordering::Relaxed);
                st.queue.push_back((mine, deadline));
            }
            self.pump(&mut st);
        }
        let mut out = Vec::with_capacity(slots.len());
        for slot in slots {
            out.push(match slot {
                Slot::Ready(v) => v,
                Slot::Wait(rx) => rx
                    .await
                    .map_err(|_| EmbedError::Provider("embedding batch was abandoned".into()))??,
            });
        }
        Ok(out)
    }

    /// Sends queued texts while the embedder has capacity.
    fn pump(self: &Arc<Self>, st: &mut State) {
        let max_batch = self.embedder.max_batch().max(1);
        while st.in_flight < self.embedder.max_concurrency().max(1) && !st.queue.is_empty() {
            let (batch, deadline) = st.next_batch(max_batch);
            self.counters
                .queued
                .fetch_sub(batch.len() as u64, Ordering::Relaxed);
            st.in_flight += 1;
            let lane = self.clone();
            let deadline = deadline.unwrap_or_else(Instant::now);
            tokio::spawn(async move { lane.run(batch, deadline).await });
        }
    }

    async fn run(self: Arc<Self>, batch: Vec<String>, deadline: Instant) {
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        self.counters
            .texts_sent
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        // A panicking embedder must not strand the waiters: run it as its
        // own task and turn a panic into an error.
        let embedder = self.embedder.clone();
        let sent = batch.clone();
        let call = async move { embedder.embed(&sent).await };
        let call = crate::providers::http::BATCH_DEADLINE.scope(deadline.into(), call);
        let result = match tokio::spawn(call).await {
            Ok(r) => r,
            Err(e) => Err(EmbedError::Provider(format!("embedding failed: {e}"))),
        };
        let result = result.and_then(|vectors| {
            if vectors.len() != batch.len() {
                return Err(EmbedError::CountMismatch {
                    got: vectors.len(),
                    expected: batch.len(),
                });
            }
            vectors.iter().try_for_each(|v| validate(v))?;
            Ok(vectors)
        });
        if let Err(e) = &result {
            tracing::debug!(lane = %self.key, texts = batch.len(), error = %e, "embedding batch failed");
        }
        let mut st = self.state.lock();
        match result {
            Ok(vectors) => {
                let mut cache = self.cache.lock();
                for (text, v) in batch.into_iter().zip(vectors) {
                    let v = Arc::new(v);
                    cache.insert(self.cache_key(&text), v.clone());
                    for tx in st.waiters.remove(&text).unwrap_or_default() {
                        let _ = tx.send(Ok(v.clone()));
                    }
                }
            }
            Err(e) => {
                for text in &batch {
                    for tx in st.waiters.remove(text).unwrap_or_default() {
                        let _ = tx.send(Err(e.clone()));
                    }
                }
                if fails_every_batch(&e) {
                    // Queued texts would get the same answer: fail them
                    // now instead of sending requests that can only fail
                    // (a 10,000-row INSERT with a bad key would otherwise
                    // go on making hundreds of calls after its statement
                    // has failed).
                    let queued = std::mem::take(&mut st.queue);
                    let mut dropped = 0u64;
                    for text in queued.into_iter().flat_map(|(call, _)| call) {
                        dropped += 1;
                        for tx in st.waiters.remove(&text).unwrap_or_default() {
                            let _ = tx.send(Err(e.clone()));
                        }
                    }
                    self.counters.queued.fetch_sub(dropped, Ordering::Relaxed);
                }
            }
        }
        st.in_flight -= 1;
        self.pump(&mut st);
    }
}

/// Failures that hold for the lane as a whole (its key, its model), not
/// for one batch's texts. A lane is rebuilt when a variable changes, so a
/// corrected key gets a fresh one.
fn fails_every_batch(e: &EmbedError) -> bool {
    matches!(
        e.root(),
        EmbedError::Unauthorized { .. } | EmbedError::ModelNotFound(_)
    )
}

/// TiDB's checks on a vector returned by a provider.
fn validate(v: &[f32]) -> Result<(), EmbedError> {
    if v.len() > MAX_DIM {
        return Err(EmbedError::InvalidVector(format!(
            "vector cannot have more than {MAX_DIM} dimensions"
        )));
    }
    if v.iter().any(|x| x.is_nan()) {
        return Err(EmbedError::InvalidVector(
            "NaN not allowed in vector".into(),
        ));
    }
    if v.iter().any(|x| x.is_infinite()) {
        return Err(EmbedError::InvalidVector(
            "infinite value not allowed in vector".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;
    use tokio::sync::Semaphore;

    /// Records every batch; each batch waits for a permit of `gate`, so
    /// tests decide when batches finish instead of relying on timing.
    /// Texts starting with `fail` fail their whole batch.
    struct Probe {
        batches: Mutex<Vec<Vec<String>>>,
        gate: Semaphore,
        max_batch: usize,
        concurrency: usize,
        running: AtomicUsize,
        peak: AtomicUsize,
    }

    impl Probe {
        /// `open`: batches finish at once; else each needs a permit.
        fn new(open: bool, max_batch: usize, concurrency: usize) -> Arc<Probe> {
            let permits = if open { Semaphore::MAX_PERMITS } else { 0 };
            Arc::new(Probe {
                batches: Mutex::new(Vec::new()),
                gate: Semaphore::new(permits),
                max_batch,
                concurrency,
                running: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
            })
        }

        fn sizes(&self) -> Vec<usize> {
            self.batches.lock().iter().map(Vec::len).collect()
        }

        fn open(&self) {
            self.gate
                .add_permits(Semaphore::MAX_PERMITS - self.gate.available_permits());
        }
    }

    #[async_trait]
    impl Embedder for Probe {
        async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            self.batches.lock().push(texts.to_vec());
            if let Ok(permit) = self.gate.acquire().await {
                permit.forget();
            }
            self.running.fetch_sub(1, Ordering::SeqCst);
            if texts.iter().any(|t| t.starts_with("fail")) {
                return Err(EmbedError::Provider("probe failure".into()));
            }
            if texts.iter().any(|t| t == "nan") {
                return Ok(texts.iter().map(|_| vec![f32::NAN]).collect());
            }
            Ok(texts.iter().map(|t| vec![t.len() as f32]).collect())
        }
        fn max_batch(&self) -> usize {
            self.max_batch
        }
        fn max_concurrency(&self) -> usize {
            self.concurrency
        }
    }

    fn lane(p: &Arc<Probe>) -> Arc<Lane> {
        Lane::new(
            "probe".into(),
            0,
            p.clone(),
            Arc::new(Mutex::new(Lru::new(100))),
            Arc::new(Counters::default()),
        )
    }

    fn texts(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    fn spawn_embed(
        l: &Arc<Lane>,
        texts: Vec<String>,
    ) -> tokio::task::JoinHandle<Result<Vec<Arc<Vec<f32>>>, EmbedError>> {
        let l = l.clone();
        tokio::spawn(async move { l.embed(&texts, far()).await })
    }

    /// Lets spawned tasks run until `cond` holds; panics if it never does.
    async fn wait_until(what: &str, cond: impl Fn() -> bool) {
        for _ in 0..5000 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("never happened: {what}");
    }

    #[tokio::test]
    async fn a_lone_call_is_split_by_max_batch() {
        let p = Probe::new(true, 4, 1);
        let out = lane(&p).embed(&texts("t", 10), far()).await.unwrap();
        assert_eq!(out.len(), 10);
        assert_eq!(*out[9], vec![2.0]);
        assert_eq!(p.sizes(), vec![4, 4, 2]);
    }

    #[tokio::test]
    async fn a_lone_call_is_sent_without_waiting_for_a_timer() {
        let p = Probe::new(false, 32, 1);
        let l = lane(&p);
        let call = spawn_embed(&l, vec!["x".into()]);
        // Only yields, no clock: a batching window would keep it queued.
        for _ in 0..50 {
            if !p.sizes().is_empty() {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(p.sizes(), vec![1]);
        p.open();
        assert!(call.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn busy_embedder_gathers_the_next_batch() {
        let p = Probe::new(false, 100, 1);
        let l = lane(&p);
        let first = spawn_embed(&l, vec!["a".into()]);
        wait_until("first batch sent", || p.sizes().len() == 1).await;
        let calls: Vec<_> = (0..20)
            .map(|i| spawn_embed(&l, vec![format!("q{i}")]))
            .collect();
        wait_until("20 texts queued", || {
            l.counters.queued.load(Ordering::SeqCst) == 20
        })
        .await;
        assert_eq!(p.sizes(), vec![1]);
        p.open();
        for c in calls {
            assert!(c.await.unwrap().is_ok());
        }
        assert!(first.await.unwrap().is_ok());
        assert_eq!(p.sizes(), vec![1, 20]);
        assert_eq!(p.peak.load(Ordering::SeqCst), 1);
        assert_eq!(l.counters.queued.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn concurrency_is_bounded() {
        let p = Probe::new(false, 2, 3);
        let l = lane(&p);
        let call = spawn_embed(&l, texts("t", 20));
        wait_until("three batches out", || p.sizes().len() == 3).await;
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        assert_eq!(p.sizes().len(), 3);
        assert_eq!(l.counters.queued.load(Ordering::SeqCst), 14);
        p.open();
        assert_eq!(call.await.unwrap().unwrap().len(), 20);
        assert_eq!(p.sizes(), vec![2; 10]);
        assert_eq!(p.peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_small_call_overtakes_a_large_one() {
        let p = Probe::new(false, 4, 1);
        let l = lane(&p);
        let big = spawn_embed(&l, texts("row", 40));
        wait_until("first batch sent", || p.sizes().len() == 1).await;
        let query = spawn_embed(&l, vec!["query".into()]);
        wait_until("query queued", || {
            l.counters.queued.load(Ordering::SeqCst) == 37
        })
        .await;
        p.open();
        query.await.unwrap().unwrap();
        big.await.unwrap().unwrap();
        // Sent with the batch right after the one in flight, not after
        // the other nine of the large call.
        assert!(
            p.batches.lock()[1].contains(&"query".to_string()),
            "{:?}",
            p.batches.lock()
        );
    }

    #[test]
    fn batches_take_one_text_per_call_in_turn() {
        let t0 = Instant::now();
        let (a, b, c) = (t0, t0 + Duration::from_secs(3), t0 + Duration::from_secs(1));
        let mut st = State::default();
        for (texts, deadline) in [
            (&["a1", "a2", "a3"][..], a),
            (&["b1"], b),
            (&["c1", "c2"], c),
        ] {
            let call = texts.iter().map(|s| s.to_string()).collect();
            st.queue.push_back((call, deadline));
        }
        // A batch may retry until the latest deadline among its calls.
        let (batch, deadline) = st.next_batch(4);
        assert_eq!(
            (batch, deadline),
            (strings(&["a1", "b1", "c1", "a2"]), Some(b))
        );
        let (batch, deadline) = st.next_batch(4);
        assert_eq!((batch, deadline), (strings(&["c2", "a3"]), Some(c)));
        assert!(st.queue.is_empty());
    }

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn single_flight_and_cache() {
        let p = Probe::new(false, 100, 4);
        let l = lane(&p);
        let a = spawn_embed(&l, vec!["same".into()]);
        wait_until("first batch sent", || p.sizes().len() == 1).await;
        let b = spawn_embed(&l, vec!["same".into(), "other".into()]);
        wait_until("second call joined", || {
            l.counters.joined.load(Ordering::SeqCst) == 1
        })
        .await;
        p.open();
        assert_eq!(*a.await.unwrap().unwrap()[0], vec![4.0]);
        let b = b.await.unwrap().unwrap();
        assert_eq!((*b[0]).clone(), vec![4.0]);
        assert_eq!((*b[1]).clone(), vec![5.0]);
        // "same" was sent once, "other" once.
        assert_eq!(
            p.batches.lock().concat(),
            vec!["same".to_string(), "other".to_string()]
        );
        l.embed(&["same".into(), "other".into()], far())
            .await
            .unwrap();
        assert_eq!(p.sizes().iter().sum::<usize>(), 2);
        assert_eq!(l.counters.cache_hits.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_batch_fails_every_waiter_and_is_not_cached() {
        let p = Probe::new(false, 100, 1);
        let l = lane(&p);
        let a = spawn_embed(&l, vec!["fail-1".into()]);
        wait_until("first batch sent", || p.sizes().len() == 1).await;
        let b = spawn_embed(&l, vec!["fail-1".into()]);
        wait_until("second call joined", || {
            l.counters.joined.load(Ordering::SeqCst) == 1
        })
        .await;
        p.open();
        let e1 = a.await.unwrap().unwrap_err();
        let e2 = b.await.unwrap().unwrap_err();
        assert_eq!(e1, EmbedError::Provider("probe failure".into()));
        assert_eq!(e1, e2);
        assert_eq!(p.sizes().len(), 1);
        assert!(l.embed(&["fail-1".into()], far()).await.is_err());
        assert_eq!(p.sizes().len(), 2);
        // The lane keeps working after failures.
        assert!(l.embed(&["fine".into()], far()).await.is_ok());
    }

    #[tokio::test]
    async fn invalid_vectors_are_refused() {
        let p = Probe::new(true, 10, 1);
        let err = lane(&p).embed(&["nan".into()], far()).await.unwrap_err();
        assert_eq!(err.to_string(), "NaN not allowed in vector");
        assert_eq!(
            validate(&[f32::INFINITY]).unwrap_err().to_string(),
            "infinite value not allowed in vector"
        );
        assert_eq!(
            validate(&vec![0.0; 16384]).unwrap_err().to_string(),
            "vector cannot have more than 16383 dimensions"
        );
    }

    fn far() -> Instant {
        Instant::now() + std::time::Duration::from_secs(60)
    }
}
