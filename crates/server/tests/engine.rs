//! The same raw-socket checks against the real executor `Engine` (in
//! memory), through `tiembed_server::run` as the binary calls it.

mod common;

use common::*;
use std::sync::Arc;
use tiembed_executor::Engine;
use tiembed_server::ServerConfig;
use tokio::sync::oneshot;

struct EngineServer {
    port: u16,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), tiembed_server::ServerError>>,
}

impl EngineServer {
    async fn start() -> EngineServer {
        let config = tiembed_server::config::from_toml("[storage]\nin_memory = true\n").unwrap();
        let engine: Arc<Engine> = Engine::open(config.engine_config()).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(tiembed_server::run(
            listener,
            engine,
            ServerConfig::default(),
            async move {
                let _ = rx.await;
            },
        ));
        EngineServer { port, stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

fn one(r: Reply) -> Option<String> {
    let t = r.rows().text();
    assert_eq!(t.len(), 1, "{t:?}");
    t[0][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_salts_differ_with_the_real_engine() {
    let server = EngineServer::start().await;
    let a = Client::open(server.port).await;
    let b = Client::open(server.port).await;
    assert_ne!(a.greeting.salt, b.greeting.salt);
    assert_eq!(a.greeting.version, "8.0.11-TiDB-v8.5.3-serverless");
    drop((a, b));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_pipelined_close_and_query_real_engine() {
    let server = EngineServer::start().await;
    let mut c = Client::connect(server.port).await;
    let (id, params, _) = c.prepare("SELECT ? + 1").await.unwrap();
    assert_eq!(params, 1);
    let mut batch = command(COM_STMT_CLOSE, &id.to_le_bytes());
    batch.extend(command(COM_QUERY, b"SELECT 1"));
    batch.extend(command(COM_QUERY, b"SELECT 2"));
    c.send(&batch).await;
    assert_eq!(one(c.read_reply(false).await).as_deref(), Some("1"));
    assert_eq!(one(c.read_reply(false).await).as_deref(), Some("2"));
    assert_eq!(c.execute(id, &[Param::Tiny(1)]).await.err().code, 1243);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_non_utf8_then_valid_query_real_engine() {
    let server = EngineServer::start().await;
    let mut c = Client::connect(server.port).await;
    assert_eq!(c.query_bytes(b"SELECT '\xff'").await.err().code, 1300);
    assert_eq!(one(c.query("SELECT 1").await).as_deref(), Some("1"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_garbage_execute_then_valid_query_real_engine() {
    let server = EngineServer::start().await;
    let mut c = Client::connect(server.port).await;
    let (id, _, _) = c.prepare("SELECT ?").await.unwrap();
    c.send(&command(COM_STMT_EXECUTE, &id.to_le_bytes()[..3]))
        .await;
    assert_eq!(c.read_reply(true).await.err().code, 1210);
    c.send(&command(COM_STMT_EXECUTE, &execute_body(id, &[], true)))
        .await;
    assert_eq!(c.read_reply(true).await.err().code, 1210);
    assert_eq!(c.execute(id + 7, &[]).await.err().code, 1243);
    assert_eq!(one(c.query("SELECT 1").await).as_deref(), Some("1"));
    let r = c.execute(id, &[Param::LongLong(41)]).await.rows();
    assert_eq!(r.raw.len(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_round_trip_over_the_wire() {
    let server = EngineServer::start().await;
    let mut c = Client::open(server.port).await;
    let e = c
        .login(&Login {
            db: Some("no_such_db"),
            ..Default::default()
        })
        .await
        .err();
    assert_eq!(e.code, 1049);

    let mut c = Client::connect_with(
        server.port,
        Login {
            db: Some("test"),
            caps: PYMYSQL_CAPS | MULTI_STATEMENTS,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        one(c.query("SELECT VERSION()").await).as_deref(),
        Some("8.0.11-TiDB-v8.5.3-serverless")
    );
    assert_eq!(
        one(c.query("SELECT DATABASE()").await).as_deref(),
        Some("test")
    );
    c.query("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50), v VECTOR(3))")
        .await
        .ok();
    let ok = c
        .query("INSERT INTO t (name, v) VALUES ('a', '[1,2,3]'), ('b', '[4,5,6]')")
        .await
        .ok();
    assert_eq!((ok.affected, ok.last_insert_id), (2, 1));
    let r = c
        .query("SELECT id, name, v FROM t ORDER BY id")
        .await
        .rows();
    assert_eq!(
        r.text()[1],
        vec![Some("2".into()), Some("b".into()), Some("[4,5,6]".into())]
    );
    assert_eq!(
        (r.cols[2].ty, r.cols[2].charset),
        (251, 46),
        "VECTOR as non-binary LONG_BLOB"
    );
    // CLIENT_FOUND_ROWS (PyMySQL+SQLAlchemy): matched rows, even when unchanged.
    assert_eq!(
        c.query("UPDATE t SET name = 'a' WHERE id = 1")
            .await
            .ok()
            .affected,
        1
    );
    let e = c.query("DESCRIBE missing").await.err();
    assert_eq!(e.code, 1146);

    // Transactions show in the status flags.
    assert_eq!(
        c.query("BEGIN").await.ok().status & STATUS_IN_TRANS,
        STATUS_IN_TRANS
    );
    c.query("ROLLBACK").await.ok();

    // Multi-statements.
    c.send(&command(COM_QUERY, b"SELECT 1; SELECT 2")).await;
    assert_ne!(
        c.read_reply(false).await.rows().end_status & STATUS_MORE_RESULTS,
        0
    );
    assert_eq!(one(c.read_reply(false).await).as_deref(), Some("2"));

    // Prepared statements with typed parameters.
    let (ins, _, _) = c.prepare("INSERT INTO t (name) VALUES (?)").await.unwrap();
    assert_eq!(
        c.execute(ins, &[Param::Str("c".into())])
            .await
            .ok()
            .last_insert_id,
        3
    );
    let (sel, _, _) = c.prepare("SELECT name FROM t WHERE id = ?").await.unwrap();
    let r = c.execute(sel, &[Param::Double(3.0)]).await.rows();
    assert_eq!(r.raw, vec![vec![0, 0, 1, b'c']]);

    // COM_FIELD_LIST (mariadb CLI auto-rehash).
    c.send(&command(COM_FIELD_LIST, b"t\0")).await;
    let mut names = Vec::new();
    loop {
        let (_, p) = c.read_packet().await;
        if p[0] == 0xFE && p.len() == 5 {
            break;
        }
        names.push(parse_coldef(&p[..p.len() - 1]).name);
    }
    assert_eq!(names, vec!["id", "name", "v"]);

    // USE via COM_INIT_DB and as SQL.
    c.send(&command(COM_INIT_DB, b"nope")).await;
    assert_eq!(c.read_reply(false).await.err().code, 1049);
    c.query("USE test").await.ok();
    server.stop().await;
}
