//! Real client libraries against the server (with the scripted fake
//! backend): a Rust driver (mysql_async, which negotiates
//! CLIENT_DEPRECATE_EOF and uses binary-protocol prepared statements) and,
//! when installed, the mariadb CLI (libmariadb, classic EOF packets).

mod common;

use common::*;
use mysql_async::prelude::*;
use tiembed_server::ServerConfig;

fn opts(port: u16, user: &str, password: &str) -> mysql_async::Opts {
    mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some(user))
        .pass(Some(password))
        .prefer_socket(false)
        // Known up front, so the driver sends no settings probe the fake
        // backend would not understand.
        .max_allowed_packet(Some(64 << 20))
        .wait_timeout(Some(28800))
        .into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_async_text_and_binary_protocol() {
    let config = ServerConfig {
        users: users(&[("app", "pw")]),
        ..Default::default()
    };
    let (fake, server) = fake_server_with(config).await;
    let mut conn = mysql_async::Conn::new(opts(server.port, "app", "pw"))
        .await
        .unwrap();

    let v: Option<i64> = conn.query_first("SELECT 42").await.unwrap();
    assert_eq!(v, Some(42));
    let row: mysql_async::Row = conn.query_first("SELECT TYPES").await.unwrap().unwrap();
    assert_eq!(row.get::<String, _>(0).unwrap(), "[0.1,0.2,0.3]");
    assert_eq!(row.get::<f64, _>(5).unwrap(), 0.25);
    assert_eq!(row.get::<u32, _>(6).unwrap(), 4_000_000_000);

    conn.query_drop("INSERT").await.unwrap();
    assert_eq!((conn.affected_rows(), conn.last_insert_id()), (3, Some(42)));

    let err = conn.query_drop("SELECT ERR").await.unwrap_err();
    match err {
        mysql_async::Error::Server(e) => assert_eq!((e.code, e.state.as_str()), (1146, "42S02")),
        other => panic!("{other:?}"),
    }

    // Binary protocol: typed parameters in, binary rows out.
    let row: (i64, f64, String, Option<i64>) = conn
        .exec_first("SELECT ?, ?, ?, ?", (-7i64, 2.5f64, "héllo", None::<i64>))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row, (-7, 2.5, "héllo".to_string(), None));
    conn.exec_drop("INSERT INTO t VALUES (?)", ("x",))
        .await
        .unwrap();
    assert_eq!(conn.last_insert_id(), Some(7));
    assert!(conn.exec_drop("SELECT BAD ?", (1,)).await.is_err());

    conn.ping().await.unwrap();
    conn.disconnect().await.unwrap();
    assert!(fake.journal().executes.len() >= 2);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_async_wrong_password_is_1045() {
    let config = ServerConfig {
        users: users(&[("app", "pw")]),
        ..Default::default()
    };
    let (_fake, server) = fake_server_with(config).await;
    match mysql_async::Conn::new(opts(server.port, "app", "nope")).await {
        Err(mysql_async::Error::Server(e)) => {
            assert_eq!(e.code, 1045);
            assert_eq!(
                e.message,
                "Access denied for user 'app'@'127.0.0.1' (using password: YES)"
            );
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("logged in with a wrong password"),
    }
    server.stop().await.unwrap();
}

/// The mariadb command-line client in batch mode (skipped when not installed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_cli_batch_mode() {
    let Some(cli) = ["mariadb", "mysql"].into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        eprintln!("no mariadb/mysql client installed; skipped");
        return;
    };
    let (_fake, server) = fake_server().await;
    let port = server.port.to_string();
    let out = tokio::process::Command::new(cli)
        .args([
            "--protocol=tcp",
            "-h",
            "127.0.0.1",
            "-P",
            &port,
            "-u",
            "root",
            "--batch",
            "-e",
            "SELECT 3; SELECT TYPES; INSERT",
        ])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{cli} failed: {}{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "3");
    assert_eq!(lines[1], "3");
    assert!(lines[2].starts_with("vec\tjs\tdec\ttxt"), "{stdout}");
    assert!(
        lines[3].starts_with("[0.1,0.2,0.3]\t{\"a\": 1}\t12.50\théllo"),
        "{stdout}"
    );

    let out = tokio::process::Command::new(cli)
        .args([
            "--protocol=tcp",
            "-h",
            "127.0.0.1",
            "-P",
            &port,
            "-u",
            "root",
            "--batch",
            "-e",
            "SELECT ERR",
        ])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ERROR 1146 (42S02)") && stderr.contains("Table 'test.nope' doesn't exist"),
        "{stderr}"
    );

    // The admin client: COM_PING and COM_STATISTICS.
    for admin in ["mariadb-admin", "mysqladmin"] {
        let Ok(out) = tokio::process::Command::new(admin)
            .args([
                "--protocol=tcp",
                "-h",
                "127.0.0.1",
                "-P",
                &port,
                "-u",
                "root",
                "ping",
                "status",
            ])
            .output()
            .await
        else {
            continue;
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{admin}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("is alive") && stdout.contains("Uptime: "),
            "{stdout}"
        );
        break;
    }
    server.stop().await.unwrap();
}
