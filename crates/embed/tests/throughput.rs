//! Batching, deduplication, caching and single flight, observed as the
//! requests the stub server receives.

mod remote_common;

use remote_common::*;
use std::sync::Arc;
use std::time::Duration;
use tiembed_embed::stub::{Script, Stub, StubConfig};
use tiembed_embed::Registry;

async fn embed_one(r: Arc<Registry>, text: String) -> Vec<f32> {
    r.embed(HF, None, &[text]).await.unwrap().remove(0)
}

/// Lets the other tasks run until `cond` holds; panics if it never does.
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
async fn concurrent_calls_share_batches() {
    // One request in flight at a time: the 50 calls made while it is
    // answered must leave as two batches (32 + 18), not 50 requests.
    let s = setup(StubConfig::new(), |c| c.remote_concurrency = 1).await;
    s.stub.hold();
    let first = tokio::spawn(embed_one(s.registry.clone(), "first".into()));
    wait_until("first request", || s.stub.in_flight() == 1).await;
    let calls: Vec<_> = (0..50)
        .map(|i| tokio::spawn(embed_one(s.registry.clone(), format!("text {i}"))))
        .collect();
    wait_until("50 texts queued", || s.registry.stats().queued == 50).await;
    s.stub.release();
    for (i, c) in calls.into_iter().enumerate() {
        assert_eq!(c.await.unwrap(), Stub::vector(&format!("text {i}"), 384));
    }
    first.await.unwrap();
    assert_eq!(s.stub.batch_sizes(), vec![1, 32, 18]);
    assert_eq!(s.registry.stats().batches, 3);
}

#[tokio::test]
async fn a_large_statement_is_split_and_sent_in_parallel() {
    let s = setup(StubConfig::new(), |c| {
        c.batch_size = 32;
        c.remote_concurrency = 3;
    })
    .await;
    s.stub.hold();
    let t: Vec<String> = (0..100).map(|i| format!("row {i}")).collect();
    let call = {
        let r = s.registry.clone();
        let t = t.clone();
        tokio::spawn(async move { r.embed(HF, None, &t).await })
    };
    // Three requests out at once, the fourth batch waiting for a slot.
    wait_until("three requests", || s.stub.in_flight() == 3).await;
    wait_until("the rest queued", || s.registry.stats().queued == 4).await;
    assert_eq!(s.stub.request_count(), 3);
    s.stub.release();
    let v = call.await.unwrap().unwrap();
    assert_eq!(v.len(), 100);
    assert_eq!(v[99], Stub::vector("row 99", 384));
    let mut sizes = s.stub.batch_sizes();
    sizes.sort_unstable();
    assert_eq!(sizes, vec![4, 32, 32, 32]);
}

#[tokio::test]
async fn duplicates_in_a_call_are_embedded_once() {
    let s = setup(StubConfig::new(), |_| {}).await;
    let v = s
        .registry
        .embed(HF, None, &texts(&["a", "b", "a", "a", "b"]))
        .await
        .unwrap();
    assert_eq!(s.stub.batch_sizes(), vec![2]);
    assert_eq!(v.len(), 5);
    assert_eq!(v[0], v[2]);
    assert_eq!(v[3], Stub::vector("a", 384));
    assert_eq!(v[4], Stub::vector("b", 384));
}

#[tokio::test]
async fn cache_hits_make_no_request() {
    let s = setup(StubConfig::new(), |_| {}).await;
    let a = s
        .registry
        .embed(HF, None, &texts(&["x", "y"]))
        .await
        .unwrap();
    let b = s
        .registry
        .embed(HF, None, &texts(&["y", "x"]))
        .await
        .unwrap();
    assert_eq!(s.stub.request_count(), 1);
    assert_eq!(a[0], b[1]);
    assert_eq!(s.registry.stats().cache_hits, 2);
    // A new text alone is sent; the cached one is not.
    s.registry
        .embed(HF, None, &texts(&["x", "z"]))
        .await
        .unwrap();
    assert_eq!(s.stub.batch_sizes(), vec![2, 1]);
    assert_eq!(s.stub.requests()[1].texts, vec!["z".to_string()]);
}

#[tokio::test]
async fn a_variable_change_invalidates_the_cache() {
    let s = setup(StubConfig::new(), |_| {}).await;
    s.registry.embed(HF, None, &texts(&["x"])).await.unwrap();
    let v0 = s.registry.config_version();
    s.registry.set_variable(HF_KEY_VAR, "hf_other");
    assert!(s.registry.config_version() > v0);
    s.registry.embed(HF, None, &texts(&["x"])).await.unwrap();
    assert_eq!(s.stub.request_count(), 2);
    assert_eq!(
        s.stub.requests()[1].authorization.as_deref(),
        Some("Bearer hf_other")
    );
    // Setting the same value again changes nothing.
    let v1 = s.registry.config_version();
    s.registry.set_variable(HF_KEY_VAR, "hf_other");
    assert_eq!(s.registry.config_version(), v1);
    s.registry.embed(HF, None, &texts(&["x"])).await.unwrap();
    assert_eq!(s.stub.request_count(), 2);
}

#[tokio::test]
async fn the_cache_is_bounded() {
    let s = setup(StubConfig::new(), |c| c.cache_entries = 2).await;
    for t in ["a", "b", "c", "a"] {
        s.registry.embed(HF, None, &texts(&[t])).await.unwrap();
    }
    // "a" was evicted by "c" and had to be fetched again.
    assert_eq!(s.stub.request_count(), 4);
    s.registry.embed(HF, None, &texts(&["a"])).await.unwrap();
    assert_eq!(s.stub.request_count(), 4);
}

#[tokio::test]
async fn identical_in_flight_texts_share_one_request() {
    let s = setup(StubConfig::new(), |_| {}).await;
    s.stub.hold();
    let calls: Vec<_> = (0..10)
        .map(|_| tokio::spawn(embed_one(s.registry.clone(), "same".into())))
        .collect();
    wait_until("nine calls joined", || {
        s.registry.stats().joined_in_flight == 9
    })
    .await;
    s.stub.release();
    for c in calls {
        assert_eq!(c.await.unwrap(), Stub::vector("same", 384));
    }
    assert_eq!(s.stub.batch_sizes(), vec![1]);
    assert_eq!(s.registry.stats().joined_in_flight, 9);
}

#[tokio::test]
async fn a_failed_batch_fails_every_waiter_with_the_same_error() {
    let s = setup(StubConfig::new(), |c| c.remote_concurrency = 1).await;
    s.stub.push(Script::Status(200, "[[1.0]]".into())); // the first batch: fine for one text
    s.stub
        .push(Script::Status(400, r#"{"error":"bad batch"}"#.into()));
    s.stub.hold();
    let first = tokio::spawn(embed_one(s.registry.clone(), "first".into()));
    wait_until("first request", || s.stub.in_flight() == 1).await;
    let r = s.registry.clone();
    let calls: Vec<_> = (0..5)
        .map(|i| {
            let r = r.clone();
            tokio::spawn(
                async move { r.embed(HF, None, &[format!("t{i}"), "shared".into()]).await },
            )
        })
        .collect();
    wait_until("six texts queued", || {
        s.registry.stats().queued == 6 && s.registry.stats().joined_in_flight == 4
    })
    .await;
    s.stub.release();
    for c in calls {
        assert_eq!(
            c.await.unwrap().unwrap_err().to_string(),
            "HuggingFace: bad batch"
        );
    }
    assert_eq!(first.await.unwrap(), vec![1.0]);
    assert_eq!(s.stub.batch_sizes(), vec![1, 6]);
    // Nothing of the failed batch was cached: the texts are sent again.
    s.registry
        .embed(HF, None, &texts(&["shared"]))
        .await
        .unwrap();
    assert_eq!(s.stub.request_count(), 3);
}

#[tokio::test]
async fn options_are_part_of_the_cache_key_for_openai() {
    let s = setup(StubConfig::new(), |_| {}).await;
    let o8 = tiembed_embed::options::parse(Some(r#"{"dimensions": 8}"#)).unwrap();
    let o16 = tiembed_embed::options::parse(Some(r#"{"dimensions": 16}"#)).unwrap();
    let a = s
        .registry
        .embed("openai/m", o8.as_ref(), &texts(&["t"]))
        .await
        .unwrap();
    let b = s
        .registry
        .embed("openai/m", o16.as_ref(), &texts(&["t"]))
        .await
        .unwrap();
    assert_eq!((a[0].len(), b[0].len()), (8, 16));
    assert_eq!(s.stub.request_count(), 2);
    // The same options spelled differently share entries.
    let o8b = tiembed_embed::options::parse(Some(r#"{ "dimensions" : 8 }"#)).unwrap();
    s.registry
        .embed("openai/m", o8b.as_ref(), &texts(&["t"]))
        .await
        .unwrap();
    assert_eq!(s.stub.request_count(), 2);
}

#[tokio::test]
async fn search_keys_never_reach_a_provider() {
    let s = setup(StubConfig::new(), |_| {}).await;
    let raw = tiembed_embed::options::parse(Some(r#"{"dimensions": 8, "dimensions@search": 4}"#))
        .unwrap()
        .unwrap();
    // A direct call: the @search key is dropped.
    let v = s
        .registry
        .embed("openai/m", Some(&raw), &texts(&["t"]))
        .await
        .unwrap();
    assert_eq!(v[0].len(), 8);
    assert_eq!(s.stub.requests()[0].body["dimensions"], 8);
    assert!(s.stub.requests()[0].body.get("dimensions@search").is_none());
    // The VEC_EMBED_* rewrite: the override applies.
    let search = tiembed_embed::options::search_options(&raw);
    let v = s
        .registry
        .embed("openai/m", Some(&search), &texts(&["q"]))
        .await
        .unwrap();
    assert_eq!(v[0].len(), 4);
}
