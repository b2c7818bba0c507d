//! Wire-level behaviour with a real Rust driver (mysql_async): transactions
//! across connections, prepared statements, multi-statements, metadata.

use mysql_async::prelude::*;
use mysql_async::{Conn, Value};
use tiembed_tests::TestServer;

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

fn code(e: mysql_async::Error) -> u16 {
    match e {
        mysql_async::Error::Server(s) => s.code,
        other => panic!("expected a server error, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_sessions_never_see_an_uncommitted_transaction() {
    let server = TestServer::start().await;
    let mut a = server.connect("test").await;
    let mut b = server.connect("test").await;
    exec(&mut a, "CREATE TABLE t (id INT PRIMARY KEY, v INT)").await;
    exec(&mut a, "BEGIN").await;
    exec(&mut a, "INSERT INTO t VALUES (1, 10), (2, 20)").await;
    assert_eq!(
        count(&mut a, "SELECT COUNT(*) FROM t").await,
        2,
        "a transaction sees its own writes"
    );
    assert_eq!(
        count(&mut b, "SELECT COUNT(*) FROM t").await,
        0,
        "others do not"
    );
    exec(&mut a, "COMMIT").await;
    assert_eq!(count(&mut b, "SELECT COUNT(*) FROM t").await, 2);

    exec(&mut a, "START TRANSACTION").await;
    exec(&mut a, "UPDATE t SET v = 99").await;
    exec(&mut a, "ROLLBACK").await;
    assert_eq!(
        count(&mut b, "SELECT SUM(v) FROM t").await,
        30,
        "rollback discards"
    );

    // autocommit = 0 (pytidb sends it on every connection)
    exec(&mut a, "SET AUTOCOMMIT = 0").await;
    exec(&mut a, "DELETE FROM t WHERE id = 1").await;
    assert_eq!(count(&mut b, "SELECT COUNT(*) FROM t").await, 2);
    exec(&mut a, "COMMIT").await;
    assert_eq!(count(&mut b, "SELECT COUNT(*) FROM t").await, 1);

    // a dropped connection discards its open transaction
    exec(&mut a, "INSERT INTO t VALUES (7, 70)").await;
    drop(a);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        count(&mut b, "SELECT COUNT(*) FROM t WHERE id = 7").await,
        0
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_statement_inside_a_transaction_leaves_the_earlier_ones() {
    let server = TestServer::start().await;
    let mut a = server.connect("test").await;
    exec(&mut a, "CREATE TABLE t (id INT PRIMARY KEY)").await;
    exec(&mut a, "BEGIN").await;
    exec(&mut a, "INSERT INTO t VALUES (1)").await;
    let err = a
        .query_drop("INSERT INTO t VALUES (2), (1)")
        .await
        .unwrap_err();
    assert_eq!(code(err), 1062);
    exec(&mut a, "COMMIT").await;
    let ids: Vec<i64> = a.query("SELECT id FROM t ORDER BY id").await.unwrap();
    assert_eq!(
        ids,
        vec![1],
        "the failed statement wrote nothing, the earlier one stays"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_with_typed_parameters() {
    let server = TestServer::start().await;
    let mut c = server.connect("test").await;
    exec(
        &mut c,
        "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), score DOUBLE, v VECTOR(2))",
    )
    .await;
    let ins = c
        .prep("INSERT INTO t (id, name, score, v) VALUES (?, ?, ?, ?)")
        .await
        .unwrap();
    c.exec_drop(&ins, (1, "it's", 1.5f64, "[1,2]"))
        .await
        .unwrap();
    c.exec_drop(&ins, (2, Value::NULL, 2.5f64, "[3,4]"))
        .await
        .unwrap();
    let sel = c
        .prep("SELECT name, score, VEC_L2_DISTANCE(v, ?) FROM t WHERE id = ?")
        .await
        .unwrap();
    let row: (Option<String>, f64, f64) = c.exec_first(&sel, ("[1,2]", 1)).await.unwrap().unwrap();
    assert_eq!(row, (Some("it's".to_string()), 1.5, 0.0));
    let row: (Option<String>, f64, f64) = c.exec_first(&sel, ("[0,0]", 2)).await.unwrap().unwrap();
    assert_eq!(row, (None, 2.5, 5.0));
    let err = c
        .exec_drop(&ins, (1, "dup", 0.0f64, "[0,0]"))
        .await
        .unwrap_err();
    assert_eq!(code(err), 1062);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_insert_id_and_affected_rows_in_ok_packets() {
    let server = TestServer::start().await;
    let mut c = server.connect("test").await;
    exec(
        &mut c,
        "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)",
    )
    .await;
    c.query_drop("INSERT INTO t (v) VALUES (1), (2), (3)")
        .await
        .unwrap();
    assert_eq!(c.last_insert_id(), Some(1));
    assert_eq!(c.affected_rows(), 3);
    c.query_drop("UPDATE t SET v = 1").await.unwrap();
    assert_eq!(
        c.affected_rows(),
        2,
        "changed rows without CLIENT_FOUND_ROWS"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_database_in_the_handshake_is_1049() {
    let server = TestServer::start().await;
    let err = Conn::from_url(server.url("nope")).await.unwrap_err();
    assert_eq!(code(err), 1049);
    server.stop().await;
}
