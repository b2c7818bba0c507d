//! Issue 4 "Tests": the HuggingFace and OpenAI-compatible providers driven
//! through SQL over the wire (mysql_async), against the HTTP stub of their
//! APIs. Every failing statement is checked for TiDB's error code and text
//! and for leaving no row behind, also inside an explicit transaction.

use mysql_async::prelude::*;
use mysql_async::{Conn, ServerError};
use std::time::{Duration, Instant};
use tiembed_embed::stub::{Api, Script, Stub, StubConfig};
use tiembed_embed::Route;
use tiembed_executor::EngineConfig;
use tiembed_tests::TestServer;

const MINILM: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// The models on TiDB's HuggingFace page with their real dimensions
/// (tidb-sql-surface.md §1.6).
const HF_MODELS: [(&str, usize); 5] = [
    ("sentence-transformers/all-MiniLM-L6-v2", 384),
    ("sentence-transformers/all-mpnet-base-v2", 768),
    ("intfloat/multilingual-e5-large", 1024),
    ("BAAI/bge-m3", 1024),
    ("Qwen/Qwen3-Embedding-0.6B", 1024),
];
const OPENAI_MODEL: &str = "text-embedding-3-small";
const HF_KEY: &str = "hf_sql_test";
const OPENAI_KEY: &str = "sk-sql-test";
/// Texts per HTTP request (TiDB sends at most 16).
const BATCH: usize = 16;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);
const DEADLINE: Duration = Duration::from_secs(3);

const HF_MISSING: &str = "HuggingFace API key is not configured, to configure the API key: SET @@GLOBAL.TIDB_EXP_EMBED_HUGGINGFACE_API_KEY='<API_KEY>'";
const HF_UNAUTHORIZED: &str = "HuggingFace returns status unauthorized, check your API key. To reconfigure a new API key: SET @@GLOBAL.TIDB_EXP_EMBED_HUGGINGFACE_API_KEY='<API_KEY>'";
const OPENAI_UNAUTHORIZED: &str = "OpenAI returns status unauthorized, check your API key. To reconfigure a new API key: SET @@GLOBAL.TIDB_EXP_EMBED_OPENAI_API_KEY='<API_KEY>'";

/// A stub serving the five HF models and one OpenAI model, a server whose
/// HF base URL is the stub, and a connection to it.
struct Env {
    stub: Stub,
    server: TestServer,
    c: Conn,
}

/// The test engine, routed to the stub. The HF models are routed remote
/// explicitly: the repo's `models/` may hold MiniLM's weights, which the
/// server would otherwise run in-process. The OpenAI base is a dead port,
/// so only `TIDB_EXP_EMBED_OPENAI_API_BASE` can make OpenAI calls work.
fn engine_config(stub: &Stub) -> EngineConfig {
    let mut cfg = tiembed_tests::test_engine_config();
    cfg.embed.routes = HF_MODELS
        .iter()
        .map(|(m, _)| (format!("huggingface/{m}"), Route::Remote))
        .collect();
    cfg.embed.huggingface_base_url = stub.base_url();
    cfg.embed.openai_base_url = "http://127.0.0.1:9/v1".into();
    cfg.embed.batch_size = BATCH;
    cfg.embed.request_timeout = REQUEST_TIMEOUT;
    cfg.embed.statement_deadline = DEADLINE;
    // Fast retries; server hints (Retry-After, estimated_time) still rule.
    cfg.embed.retry_backoff = Duration::from_millis(10);
    cfg
}

/// An [`Env`] with table `docs` (MiniLM, VECTOR(384)); the HF key is set
/// when `with_key`.
async fn env(with_key: bool) -> Env {
    env_with(with_key, |c| c).await
}

/// [`env`] with the stub's configuration changed by `tweak`.
async fn env_with(with_key: bool, tweak: impl FnOnce(StubConfig) -> StubConfig) -> Env {
    let mut stub_config = StubConfig::new().only_listed_models();
    for (m, d) in HF_MODELS {
        stub_config = stub_config.model(m, d);
    }
    let stub = Stub::start(tweak(stub_config.model(OPENAI_MODEL, 1536)))
        .await
        .unwrap();
    let server = TestServer::start_with(engine_config(&stub)).await;
    for (m, _) in HF_MODELS {
        let route = server
            .engine
            .registry()
            .route_of(&format!("huggingface/{m}"));
        assert_eq!(route, Ok(None), "{m} must be served by the stub");
    }
    let mut c = server.connect("test").await;
    if with_key {
        exec(
            &mut c,
            &format!("SET @@GLOBAL.TIDB_EXP_EMBED_HUGGINGFACE_API_KEY = '{HF_KEY}'"),
        )
        .await;
    }
    exec(&mut c, &docs_ddl("docs", MINILM, 384)).await;
    Env { stub, server, c }
}

fn docs_ddl(table: &str, model: &str, dim: usize) -> String {
    format!(
        "CREATE TABLE {table} (id INT PRIMARY KEY, content TEXT, embedding VECTOR({dim}) \
         GENERATED ALWAYS AS (EMBED_TEXT(\"huggingface/{model}\", content)) STORED)"
    )
}

/// `INSERT INTO <table> (id, content) VALUES (<id>, '<text>'), ...`.
fn insert_sql(table: &str, rows: &[(i64, String)]) -> String {
    let values: Vec<String> = rows.iter().map(|(i, t)| format!("({i}, '{t}')")).collect();
    format!(
        "INSERT INTO {table} (id, content) VALUES {}",
        values.join(", ")
    )
}

fn rows(first_id: i64, texts: &[&str]) -> Vec<(i64, String)> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| (first_id + i as i64, t.to_string()))
        .collect()
}

async fn exec(c: &mut Conn, sql: &str) {
    c.query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(c: &mut Conn, sql: &str) -> i64 {
    c.query_first::<i64, _>(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("a row")
}

/// The server error `sql` fails with.
async fn fails(c: &mut Conn, sql: &str) -> ServerError {
    match c.query_drop(sql).await {
        Ok(()) => panic!("{sql}: succeeded, expected an error"),
        Err(mysql_async::Error::Server(e)) => e,
        Err(e) => panic!("{sql}: expected a server error, got {e}"),
    }
}

/// ERROR 1105 (HY000) with exactly `message`, as TiDB reports provider errors.
fn assert_1105(e: &ServerError, message: &str) {
    assert_eq!((e.code, e.state.as_str()), (1105, "HY000"), "{e:?}");
    assert_eq!(e.message, message);
}

/// ERROR 1105 (HY000) whose message starts with `prefix`.
fn assert_1105_prefix(e: &ServerError, prefix: &str) {
    assert_eq!((e.code, e.state.as_str()), (1105, "HY000"), "{e:?}");
    assert!(e.message.starts_with(prefix), "{}", e.message);
}

/// The stored vector of row `id` in `table`.
async fn vector_of(c: &mut Conn, table: &str, id: i64) -> Vec<f32> {
    let text: String = c
        .query_first(format!(
            "SELECT VEC_AS_TEXT(embedding) FROM {table} WHERE id = {id}"
        ))
        .await
        .unwrap()
        .expect("row with a vector");
    tiembed_vector::codec::parse_vector(&text).unwrap()
}

/// The statement fails with `expected` (exact text) and writes nothing.
async fn fails_writing_nothing(e: &mut Env, sql: &str, expected: &str) {
    let before = count(&mut e.c, "SELECT COUNT(*) FROM docs").await;
    let err = fails(&mut e.c, sql).await;
    assert_1105(&err, expected);
    assert_eq!(count(&mut e.c, "SELECT COUNT(*) FROM docs").await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hf_insert_stores_exactly_the_vectors_the_api_returned() {
    let mut e = env(true).await;
    let texts = ["Java coffee beans", "Java island volcano", "Android apps"];
    exec(&mut e.c, &insert_sql("docs", &rows(1, &texts))).await;
    exec(&mut e.c, "INSERT INTO docs (id, content) VALUES (4, NULL)").await;
    for (i, t) in texts.iter().enumerate() {
        let stored = vector_of(&mut e.c, "docs", i as i64 + 1).await;
        assert_eq!(stored, Stub::vector(t, 384), "row {}", i + 1);
    }
    assert_eq!(
        count(
            &mut e.c,
            "SELECT COUNT(*) FROM docs WHERE embedding IS NULL"
        )
        .await,
        1,
        "NULL text gives a NULL vector"
    );
    // One request for the three texts (the NULL sends nothing), shaped as
    // the HF router expects.
    let reqs = e.stub.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].api, Api::HuggingFace);
    assert_eq!(
        reqs[0].path,
        format!("/models/{MINILM}/pipeline/feature-extraction")
    );
    assert_eq!(
        reqs[0].authorization.as_deref(),
        Some(format!("Bearer {HF_KEY}").as_str())
    );
    assert_eq!(reqs[0].body, serde_json::json!({ "inputs": texts }));
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hf_multi_row_insert_is_batched_and_deduplicated() {
    let mut e = env(true).await;
    const DISTINCT: usize = 50;
    // 50 distinct texts, then 10 repeats of the first ones.
    let mut all: Vec<(i64, String)> = (0..DISTINCT)
        .map(|i| (i as i64 + 1, format!("package description number {i}")))
        .collect();
    all.extend((0..10).map(|i| (100 + i as i64, format!("package description number {i}"))));
    exec(&mut e.c, &insert_sql("docs", &all)).await;
    assert_eq!(count(&mut e.c, "SELECT COUNT(*) FROM docs").await, 60);
    let sizes = e.stub.batch_sizes();
    assert_eq!(
        sizes.len(),
        DISTINCT.div_ceil(BATCH),
        "one request per {BATCH} distinct texts: {sizes:?}"
    );
    assert!(sizes.iter().all(|&n| n <= BATCH), "{sizes:?}");
    assert_eq!(e.stub.texts_received(), DISTINCT, "repeats are sent once");
    // A repeated text's row holds the same vector as its first occurrence.
    assert_eq!(
        vector_of(&mut e.c, "docs", 100).await,
        Stub::vector("package description number 0", 384)
    );
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hf_missing_key_is_tidbs_error_and_calls_nothing() {
    let mut e = env(false).await;
    fails_writing_nothing(
        &mut e,
        "INSERT INTO docs (id, content) VALUES (1, 'a')",
        HF_MISSING,
    )
    .await;
    // The query side needs the key too.
    let err = fails(
        &mut e.c,
        "SELECT id FROM docs ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding, 'a') LIMIT 1",
    )
    .await;
    assert_1105(&err, HF_MISSING);
    assert_eq!(e.stub.request_count(), 0);
    // Setting the key makes the same statement work.
    exec(
        &mut e.c,
        &format!("SET @@GLOBAL.`TIDB_EXP_EMBED_HUGGINGFACE_API_KEY` = '{HF_KEY}'"),
    )
    .await;
    exec(&mut e.c, "INSERT INTO docs (id, content) VALUES (1, 'a')").await;
    assert_eq!(e.stub.request_count(), 1);
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hf_401_and_404_are_tidbs_texts_and_write_nothing() {
    let mut e = env(true).await;
    exec(
        &mut e.c,
        "INSERT INTO docs (id, content) VALUES (1, 'kept')",
    )
    .await;
    e.stub.push(Script::Unauthorized);
    fails_writing_nothing(
        &mut e,
        "INSERT INTO docs (id, content) VALUES (2, 'b'), (3, 'c')",
        HF_UNAUTHORIZED,
    )
    .await;
    e.stub.push(Script::NotFound);
    fails_writing_nothing(
        &mut e,
        "INSERT INTO docs (id, content) VALUES (2, 'b'), (3, 'c')",
        &format!("HuggingFace model '{MINILM}' does not exist or is not available"),
    )
    .await;
    // Neither is retried: one request each after the first insert.
    assert_eq!(e.stub.request_count(), 3);
    // An UPDATE that needs a new embedding fails the same way and keeps
    // the old row as it was.
    e.stub.push(Script::Unauthorized);
    let err = fails(&mut e.c, "UPDATE docs SET content = 'changed' WHERE id = 1").await;
    assert_1105(&err, HF_UNAUTHORIZED);
    assert_eq!(
        count(&mut e.c, "SELECT COUNT(*) FROM docs WHERE content = 'kept'").await,
        1
    );
    assert_eq!(
        vector_of(&mut e.c, "docs", 1).await,
        Stub::vector("kept", 384)
    );
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hf_429_is_retried_after_retry_after() {
    let mut e = env(true).await;
    let wait = Duration::from_millis(300);
    e.stub.push(Script::RateLimited { retry_after: wait });
    let start = Instant::now();
    exec(
        &mut e.c,
        "INSERT INTO docs (id, content) VALUES (1, 'rate limited once')",
    )
    .await;
    assert!(start.elapsed() >= wait, "Retry-After was not honoured");
    assert_eq!(e.stub.request_count(), 2);
    assert_eq!(
        vector_of(&mut e.c, "docs", 1).await,
        Stub::vector("rate limited once", 384)
    );
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hf_503_loading_is_retried_after_estimated_time() {
    let mut e = env(true).await;
    let wait = Duration::from_millis(400);
    e.stub.push(Script::Loading {
        estimated_time: wait,
    });
    let start = Instant::now();
    exec(
        &mut e.c,
        "INSERT INTO docs (id, content) VALUES (1, 'cold model')",
    )
    .await;
    assert!(start.elapsed() >= wait, "estimated_time was not honoured");
    assert_eq!(e.stub.request_count(), 2);
    assert_eq!(
        vector_of(&mut e.c, "docs", 1).await,
        Stub::vector("cold model", 384)
    );
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hf_timeouts_fail_the_statement_at_the_deadline() {
    let mut e = env(true).await;
    // More slow answers than attempts fit in the deadline.
    for _ in 0..10 {
        e.stub.push(Script::Slow(Duration::from_secs(60)));
    }
    let start = Instant::now();
    let err = fails(
        &mut e.c,
        "INSERT INTO docs (id, content) VALUES (1, 'slow')",
    )
    .await;
    let took = start.elapsed();
    assert_1105_prefix(&err, "HuggingFace: request timed out after ");
    assert!(
        err.message.ends_with(&format!(
            "embedding deadline of {}s exceeded)",
            DEADLINE.as_secs()
        )),
        "{}",
        err.message
    );
    // Each attempt was cut at the request timeout, and the whole statement
    // at the deadline (with slack for a loaded machine), not after 60 s.
    assert!(e.stub.request_count() >= 2, "{}", e.stub.request_count());
    assert!(took >= REQUEST_TIMEOUT, "{took:?}");
    assert!(took < DEADLINE + Duration::from_secs(5), "{took:?}");
    assert_eq!(count(&mut e.c, "SELECT COUNT(*) FROM docs").await, 0);
    // The connection is usable and the stub answers again.
    e.stub.reset();
    exec(
        &mut e.c,
        "INSERT INTO docs (id, content) VALUES (1, 'slow')",
    )
    .await;
    assert_eq!(count(&mut e.c, "SELECT COUNT(*) FROM docs").await, 1);
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hf_bad_answers_write_nothing() {
    let mut e = env(true).await;
    e.stub.push(Script::Malformed);
    let err = fails(
        &mut e.c,
        "INSERT INTO docs (id, content) VALUES (1, 'a'), (2, 'b')",
    )
    .await;
    assert_1105_prefix(&err, "unexpected unmarshal response error: ");
    // Token-level (3-D) output is refused the same way.
    e.stub
        .push(Script::Status(200, "[[[0.1,0.2],[0.3,0.4]]]".into()));
    let err = fails(&mut e.c, "INSERT INTO docs (id, content) VALUES (1, 'c')").await;
    assert_1105_prefix(&err, "unexpected unmarshal response error: ");
    e.stub.push(Script::WrongCount);
    fails_writing_nothing(
        &mut e,
        "INSERT INTO docs (id, content) VALUES (1, 'a'), (2, 'b')",
        "response data length 1 does not match input texts length 2",
    )
    .await;
    // Another error status with the API's `{"error": ...}` body is wrapped.
    e.stub.push(Script::Status(
        400,
        r#"{"error":"Input validation error: `inputs` must have less than 512 tokens. Given: 534","error_type":"Validation"}"#.into(),
    ));
    fails_writing_nothing(
        &mut e,
        "INSERT INTO docs (id, content) VALUES (1, 'a')",
        "HuggingFace: Input validation error: `inputs` must have less than 512 tokens. Given: 534",
    )
    .await;
    assert_eq!(count(&mut e.c, "SELECT COUNT(*) FROM docs").await, 0);
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hf_wrong_dimension_does_not_fit_the_column() {
    let mut e = env(true).await;
    // mpnet answers 768 dimensions; the column holds 384.
    exec(
        &mut e.c,
        &docs_ddl("narrow", "sentence-transformers/all-mpnet-base-v2", 384),
    )
    .await;
    let err = fails(
        &mut e.c,
        "INSERT INTO narrow (id, content) VALUES (1, 'a'), (2, 'b')",
    )
    .await;
    assert_1105(&err, "vector has 768 dimensions, does not fit VECTOR(384)");
    assert_eq!(count(&mut e.c, "SELECT COUNT(*) FROM narrow").await, 0);
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_statements_inside_a_transaction_leave_the_earlier_ones() {
    let mut e = env(true).await;
    exec(
        &mut e.c,
        &docs_ddl("narrow", "sentence-transformers/all-mpnet-base-v2", 384),
    )
    .await;
    exec(&mut e.c, "BEGIN").await;
    exec(
        &mut e.c,
        "INSERT INTO docs (id, content) VALUES (1, 'first')",
    )
    .await;
    e.stub.push(Script::Unauthorized);
    let err = fails(
        &mut e.c,
        "INSERT INTO docs (id, content) VALUES (2, 'x'), (3, 'y')",
    )
    .await;
    assert_1105(&err, HF_UNAUTHORIZED);
    e.stub.push(Script::WrongCount);
    let err = fails(
        &mut e.c,
        "INSERT INTO docs (id, content) VALUES (4, 'x'), (5, 'y')",
    )
    .await;
    assert_1105(
        &err,
        "response data length 1 does not match input texts length 2",
    );
    let err = fails(&mut e.c, "INSERT INTO narrow (id, content) VALUES (1, 'z')").await;
    assert_1105(&err, "vector has 768 dimensions, does not fit VECTOR(384)");
    exec(
        &mut e.c,
        "INSERT INTO docs (id, content) VALUES (6, 'last')",
    )
    .await;
    assert_eq!(
        count(&mut e.c, "SELECT COUNT(*) FROM docs").await,
        2,
        "the transaction sees its good statements only"
    );
    exec(&mut e.c, "COMMIT").await;
    let mut other = e.server.connect("test").await;
    let ids: Vec<i64> = other
        .query("SELECT id FROM docs ORDER BY id")
        .await
        .unwrap();
    assert_eq!(ids, vec![1, 6]);
    assert_eq!(count(&mut other, "SELECT COUNT(*) FROM narrow").await, 0);
    assert_eq!(
        vector_of(&mut other, "docs", 6).await,
        Stub::vector("last", 384)
    );
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_in_a_later_batch_writes_no_row_of_the_statement() {
    let mut e = env(true).await;
    let all: Vec<(i64, String)> = (0..40)
        .map(|i| (i as i64 + 1, format!("batched text {i}")))
        .collect();
    // The first request to arrive is answered; the second gets 401.
    e.stub.push(Script::Slow(Duration::ZERO));
    e.stub.push(Script::Unauthorized);
    let err = fails(&mut e.c, &insert_sql("docs", &all)).await;
    assert_1105(&err, HF_UNAUTHORIZED);
    assert!(e.stub.request_count() >= 2);
    assert_eq!(count(&mut e.c, "SELECT COUNT(*) FROM docs").await, 0);
    // Run again: everything is written.
    exec(&mut e.c, &insert_sql("docs", &all)).await;
    assert_eq!(count(&mut e.c, "SELECT COUNT(*) FROM docs").await, 40);
    assert_eq!(
        vector_of(&mut e.c, "docs", 40).await,
        Stub::vector("batched text 39", 384)
    );
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_stops_the_remaining_batches_of_the_statement() {
    // The stub accepts only another key: every request is a 401.
    let mut e = env_with(true, |c| c.api_key("hf_the_right_key")).await;
    let all: Vec<(i64, String)> = (0..100)
        .map(|i| (i as i64 + 1, format!("doomed text {i}")))
        .collect();
    let err = fails(&mut e.c, &insert_sql("docs", &all)).await;
    assert_1105(&err, HF_UNAUTHORIZED);
    // Give stragglers time to show up, then count: only the batches sent
    // before the first 401 came back (at most the lane's concurrency, 4),
    // not one per 16 texts (7).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = e.stub.request_count();
    assert!(
        (1..=4).contains(&sent),
        "{sent} requests: {:?}",
        e.stub.batch_sizes()
    );
    assert_eq!(count(&mut e.c, "SELECT COUNT(*) FROM docs").await, 0);
    // With the right key the same statement goes through.
    exec(
        &mut e.c,
        "SET @@GLOBAL.TIDB_EXP_EMBED_HUGGINGFACE_API_KEY = 'hf_the_right_key'",
    )
    .await;
    exec(&mut e.c, &insert_sql("docs", &all)).await;
    assert_eq!(count(&mut e.c, "SELECT COUNT(*) FROM docs").await, 100);
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vec_embed_top_k_embeds_the_query_text_once() {
    let mut e = env(true).await;
    let texts = [
        "red apple pie",
        "blue ocean waves",
        "green forest trail",
        "apple orchard harvest",
    ];
    exec(&mut e.c, &insert_sql("docs", &rows(1, &texts))).await;
    e.stub.reset();
    let sql =
        "SELECT id FROM docs ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding, 'ocean waves') LIMIT 2";
    let ids: Vec<i64> = e.c.query(sql).await.unwrap();
    assert_eq!(
        ids[0], 2,
        "the text sharing both words ranks first: {ids:?}"
    );
    assert_eq!(ids.len(), 2);
    let reqs = e.stub.requests();
    assert_eq!(reqs.len(), 1, "one embedding call for the query: {reqs:?}");
    assert_eq!(reqs[0].texts, vec!["ocean waves".to_string()]);
    // A query text already embedded (here by the INSERT) comes from the
    // cache, as in TiDB: no call at all.
    e.stub.reset();
    let ids: Vec<i64> = e
        .c
        .query("SELECT id FROM docs ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding, 'red apple pie') LIMIT 1")
        .await
        .unwrap();
    assert_eq!(ids, vec![1]);
    assert_eq!(e.stub.request_count(), 0);
    // The distance in the select list as well still embeds it once.
    e.stub.reset();
    let rows: Vec<(i64, f64)> =
        e.c.query(
            "SELECT id, VEC_EMBED_COSINE_DISTANCE(embedding, 'apple harvest') AS d FROM docs \
             ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding, 'apple harvest') LIMIT 3",
        )
        .await
        .unwrap();
    assert_eq!(rows[0].0, 4, "{rows:?}");
    assert!(rows.windows(2).all(|w| w[0].1 <= w[1].1), "{rows:?}");
    assert_eq!(e.stub.request_count(), 1);
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_compatible_through_the_api_base_variable() {
    let mut e = env(false).await;
    exec(
        &mut e.c,
        &format!(
            "CREATE TABLE oa (id INT PRIMARY KEY, content TEXT, embedding VECTOR(256) \
             GENERATED ALWAYS AS (EMBED_TEXT('openai/{OPENAI_MODEL}', content, '{{\"dimensions\": 256}}')) STORED)"
        ),
    )
    .await;
    exec(
        &mut e.c,
        &format!("SET @@GLOBAL.TIDB_EXP_EMBED_OPENAI_API_KEY = '{OPENAI_KEY}'"),
    )
    .await;
    exec(
        &mut e.c,
        &format!(
            "SET @@GLOBAL.TIDB_EXP_EMBED_OPENAI_API_BASE = '{}/embeddings/'",
            e.stub.openai_base_url()
        ),
    )
    .await;
    let base: String =
        e.c.query_first("SELECT @@GLOBAL.TIDB_EXP_EMBED_OPENAI_API_BASE")
            .await
            .unwrap()
            .unwrap();
    assert_eq!(base, e.stub.openai_base_url(), "normalised on SET");

    exec(
        &mut e.c,
        "INSERT INTO oa (id, content) VALUES (1, 'alpha beta'), (2, 'gamma')",
    )
    .await;
    // The stub lists embeddings in reverse; rows still get their own.
    assert_eq!(
        vector_of(&mut e.c, "oa", 1).await,
        Stub::vector("alpha beta", 256)
    );
    assert_eq!(
        vector_of(&mut e.c, "oa", 2).await,
        Stub::vector("gamma", 256)
    );
    let reqs = e.stub.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].api, reqs[0].path.as_str()),
        (Api::OpenAi, "/v1/embeddings")
    );
    assert_eq!(
        reqs[0].authorization.as_deref(),
        Some(format!("Bearer {OPENAI_KEY}").as_str())
    );
    assert_eq!(
        reqs[0].body,
        serde_json::json!({"model": OPENAI_MODEL, "input": ["alpha beta", "gamma"], "dimensions": 256})
    );

    e.stub.push(Script::Unauthorized);
    let err = fails(&mut e.c, "INSERT INTO oa (id, content) VALUES (3, 'delta')").await;
    assert_1105(&err, OPENAI_UNAUTHORIZED);
    e.stub.push(Script::Malformed);
    let err = fails(&mut e.c, "INSERT INTO oa (id, content) VALUES (3, 'delta')").await;
    assert_1105_prefix(&err, "unexpected unmarshal response error: ");
    assert_eq!(count(&mut e.c, "SELECT COUNT(*) FROM oa").await, 2);
    e.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_five_huggingface_models_at_their_real_dimensions() {
    let mut e = env(true).await;
    for (i, (model, dim)) in HF_MODELS.iter().enumerate() {
        let table = format!("m{i}");
        exec(&mut e.c, &docs_ddl(&table, model, *dim)).await;
        let (_, ddl): (String, String) =
            e.c.query_first(format!("SHOW CREATE TABLE {table}"))
                .await
                .unwrap()
                .unwrap();
        let column = format!(
            "`embedding` vector({dim}) GENERATED ALWAYS AS (embed_text('huggingface/{model}', `content`)) STORED"
        );
        assert!(ddl.contains(&column), "{ddl}");

        e.stub.reset();
        let text = format!("a text for {model}");
        exec(&mut e.c, &insert_sql(&table, &[(1, text.clone())])).await;
        assert_eq!(
            vector_of(&mut e.c, &table, 1).await,
            Stub::vector(&text, *dim)
        );
        let dims: i64 = count(
            &mut e.c,
            &format!("SELECT VEC_DIMS(embedding) FROM {table}"),
        )
        .await;
        assert_eq!(dims, *dim as i64);
        let reqs = e.stub.requests();
        assert_eq!(reqs.len(), 1, "{model}");
        assert_eq!(
            reqs[0].path,
            format!("/models/{model}/pipeline/feature-extraction")
        );
    }
    e.server.stop().await;
}
