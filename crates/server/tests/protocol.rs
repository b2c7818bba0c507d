//! The wire protocol over raw sockets, against a scripted fake backend:
//! hand-built packets in, every reply byte checked. The guards against
//! opensrv-mysql 0.7.0's defects are proven here (see `guard_*` tests).

mod common;

use common::*;
use std::time::Duration;
use tiembed_server::ServerConfig;
use tiembed_types::Value;

// ---- connection phase ---------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greeting_looks_like_tidb() {
    let (_fake, server) = fake_server().await;
    let c = Client::open(server.port).await;
    let g = &c.greeting;
    assert_eq!(g.version, "8.0.11-TiDB-v8.5.3-serverless");
    assert_eq!(g.plugin, "mysql_native_password");
    assert_eq!(g.charset, 46);
    assert_eq!(g.status, STATUS_AUTOCOMMIT);
    for cap in [
        PROTOCOL_41,
        MULTI_STATEMENTS,
        MULTI_RESULTS,
        TRANSACTIONS,
        FOUND_ROWS,
        DEPRECATE_EOF,
        PLUGIN_AUTH,
    ] {
        assert_ne!(g.caps & cap, 0, "capability {cap:#x} not advertised");
    }
    // Not offered: TLS (not configured) and query attributes (not implemented).
    assert_eq!(g.caps & SSL, 0);
    assert_eq!(g.caps & 0x0800_0000, 0);
    assert_eq!(g.salt.len(), 20);
    assert!(g
        .salt
        .iter()
        .all(|&b| (0x21..0x7F).contains(&b) && b != b'$'));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_two_connections_get_different_salts_and_ids() {
    let (_fake, server) = fake_server().await;
    let a = Client::open(server.port).await;
    let b = Client::open(server.port).await;
    assert_ne!(
        a.greeting.salt, b.greeting.salt,
        "the scramble must be random per connection"
    );
    assert_ne!(a.greeting.conn_id, b.greeting.conn_id);
    assert!(a.greeting.conn_id > 0 && b.greeting.conn_id > 0);
    drop((a, b));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_checked_with_mysql_native_password() {
    let config = ServerConfig {
        users: users(&[("root", ""), ("app", "s3cret")]),
        ..Default::default()
    };
    let (fake, server) = fake_server_with(config).await;

    let mut c = Client::open(server.port).await;
    let e = c
        .login(&Login {
            user: "app",
            password: "wrong",
            ..Default::default()
        })
        .await
        .err();
    assert_eq!((e.code, e.state.as_str()), (1045, "28000"));
    assert_eq!(
        e.msg,
        "Access denied for user 'app'@'127.0.0.1' (using password: YES)"
    );
    assert!(c.is_closed().await);

    let mut c = Client::open(server.port).await;
    let e = c
        .login(&Login {
            user: "app",
            password: "",
            ..Default::default()
        })
        .await
        .err();
    assert_eq!(
        e.msg,
        "Access denied for user 'app'@'127.0.0.1' (using password: NO)"
    );

    let mut c = Client::open(server.port).await;
    let e = c
        .login(&Login {
            user: "nobody",
            password: "x",
            ..Default::default()
        })
        .await
        .err();
    assert_eq!(e.code, 1045);

    // root has an empty password, as TiDB's default.
    let mut c = Client::connect(server.port).await;
    assert_eq!(
        c.query("SELECT 1").await.rows().text(),
        vec![vec![Some("1".to_string())]]
    );
    let mut c = Client::connect_with(
        server.port,
        Login {
            user: "app",
            password: "s3cret",
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(c.query("SELECT 1").await, Reply::Rows(_)));
    // Refused logins never got a session.
    assert_eq!(fake.journal().sessions.len(), 2);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_starting_with_another_plugin_are_switched_to_native_password() {
    let config = ServerConfig {
        users: users(&[("app", "pw")]),
        ..Default::default()
    };
    let (_fake, server) = fake_server_with(config).await;
    let mut c = Client::open(server.port).await;
    // The initial auth data is for a plugin the server did not offer.
    let r = c
        .login(&Login {
            user: "app",
            password: "pw",
            plugin: "caching_sha2_password",
            ..Default::default()
        })
        .await;
    assert!(matches!(r, Reply::Ok(_)), "{r:?}");
    assert!(matches!(c.query("SELECT 1").await, Reply::Rows(_)));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_database() {
    let (fake, server) = fake_server().await;
    let mut c = Client::open(server.port).await;
    let e = c
        .login(&Login {
            db: Some("nope"),
            ..Default::default()
        })
        .await
        .err();
    assert_eq!(
        (e.code, e.state.as_str(), e.msg.as_str()),
        (1049, "42000", "Unknown database 'nope'")
    );
    assert!(
        c.is_closed().await,
        "the connection must be closed after ERROR 1049"
    );

    let mut c = Client::connect_with(
        server.port,
        Login {
            db: Some("test"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        c.query("SELECT DATABASE()").await.rows().text(),
        vec![vec![Some("test".to_string())]]
    );
    // mysql-connector sends CONNECT_WITH_DB with an empty name.
    let mut c = Client::connect_with(
        server.port,
        Login {
            db: Some(""),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        c.query("SELECT DATABASE()").await.rows().text(),
        vec![vec![None]]
    );
    assert_eq!(
        fake.journal().sessions_closed,
        1,
        "the refused connection's session was closed"
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn found_rows_capability_reaches_the_session() {
    let (fake, server) = fake_server().await;
    let _a = Client::connect_with(
        server.port,
        Login {
            caps: PYMYSQL_CAPS,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(fake.journal().found_rows, vec![true]);
    let _b = Client::connect_with(
        server.port,
        Login {
            caps: PYMYSQL_CAPS & !FOUND_ROWS,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(fake.journal().found_rows, vec![true]);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_handshakes_are_refused() {
    let (fake, server) = fake_server().await;
    // Garbage instead of a handshake response.
    let mut c = Client::open(server.port).await;
    c.send(&frame(1, b"\x00\x02\x00\x00garbage")).await;
    let (_, p) = c.read_packet().await;
    assert_eq!(parse_err(&p).code, 1043);
    assert!(c.is_closed().await);
    // A TLS request when TLS is not offered: closed, nothing else sent.
    let mut c = Client::open(server.port).await;
    let mut p = (PYMYSQL_CAPS | SSL).to_le_bytes().to_vec();
    p.extend_from_slice(&[0, 0, 0, 1, 45]);
    p.extend_from_slice(&[0; 23]);
    c.send(&frame(1, &p)).await;
    assert!(c.is_closed().await);
    assert!(fake.journal().sessions.is_empty());
    server.stop().await.unwrap();
}

// ---- guards against opensrv 0.7.0's defects --------------------------------

/// opensrv's reader reads freed memory when one read returns the end of one
/// packet and the start of the next. Here a COM_STMT_CLOSE (which has no
/// reply) and two queries arrive in a single write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_pipelined_stmt_close_and_queries_in_one_write() {
    let (fake, server) = fake_server().await;
    let mut c = Client::connect(server.port).await;
    let (id, params, _) = c.prepare("SELECT ?").await.unwrap();
    assert_eq!(params, 1);

    let mut batch = command(COM_STMT_CLOSE, &id.to_le_bytes());
    batch.extend(command(COM_QUERY, b"SELECT 1"));
    batch.extend(command(COM_QUERY, b"SELECT 2"));
    batch.extend(command(COM_PING, b""));
    batch.extend(command(COM_QUERY, b"SELECT 3"));
    c.send(&batch).await;
    assert_eq!(
        c.read_reply(false).await.rows().text(),
        vec![vec![Some("1".to_string())]]
    );
    assert_eq!(
        c.read_reply(false).await.rows().text(),
        vec![vec![Some("2".to_string())]]
    );
    c.read_reply(false).await.ok();
    assert_eq!(
        c.read_reply(false).await.rows().text(),
        vec![vec![Some("3".to_string())]]
    );
    assert_eq!(fake.journal().closed_statements, vec![id]);

    // The closed statement is gone.
    let e = c.execute(id, &[Param::Tiny(1)]).await.err();
    assert_eq!(e.code, 1243);
    server.stop().await.unwrap();
}

/// The other way round: commands dribbling in a byte at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_packets_split_across_many_reads() {
    let (_fake, server) = fake_server().await;
    let mut c = Client::connect(server.port).await;
    let mut bytes = command(COM_QUERY, b"SELECT 7");
    bytes.extend(command(COM_QUERY, b"SELECT 8"));
    for b in bytes {
        c.send(&[b]).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(
        c.read_reply(false).await.rows().text(),
        vec![vec![Some("7".to_string())]]
    );
    assert_eq!(
        c.read_reply(false).await.rows().text(),
        vec![vec![Some("8".to_string())]]
    );
    server.stop().await.unwrap();
}

/// opensrv drops the connection on a COM_QUERY that is not UTF-8.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_non_utf8_query_gets_1300_and_the_connection_survives() {
    let (fake, server) = fake_server().await;
    let mut c = Client::connect(server.port).await;
    let e = c.query_bytes(b"SELECT '\xff\xfe'").await.err();
    assert_eq!((e.code, e.state.as_str()), (1300, "HY000"));
    assert_eq!(e.msg, "Invalid utf8mb4 character string: 'FFFE27'");
    assert_eq!(
        c.query("SELECT 5").await.rows().text(),
        vec![vec![Some("5".to_string())]]
    );

    // Also when pipelined with a valid query, and for PREPARE and INIT_DB.
    let mut batch = command(COM_QUERY, b"\xc3\x28");
    batch.extend(command(COM_QUERY, b"SELECT 6"));
    batch.extend(command(COM_STMT_PREPARE, b"SELECT \xff"));
    batch.extend(command(COM_INIT_DB, b"\xff"));
    batch.extend(command(COM_QUERY, b"SELECT 7"));
    c.send(&batch).await;
    assert_eq!(c.read_reply(false).await.err().code, 1300);
    assert_eq!(
        c.read_reply(false).await.rows().text(),
        vec![vec![Some("6".to_string())]]
    );
    assert_eq!(c.read_reply(false).await.err().code, 1300);
    assert_eq!(c.read_reply(false).await.err().code, 1300);
    assert_eq!(
        c.read_reply(false).await.rows().text(),
        vec![vec![Some("7".to_string())]]
    );
    // The engine never saw the invalid text.
    assert_eq!(
        fake.journal().queries,
        vec!["SELECT 5", "SELECT 6", "SELECT 7"]
    );
    server.stop().await.unwrap();
}

/// opensrv panics on malformed COM_STMT_EXECUTE packets and drops the
/// connection on unknown statement ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_malformed_execute_gets_1210_and_the_connection_survives() {
    let (fake, server) = fake_server().await;
    let mut c = Client::connect(server.port).await;
    let (id, params, _) = c.prepare("SELECT ?, ?").await.unwrap();
    assert_eq!(params, 2);

    let valid = execute_body(id, &[Param::LongLong(1), Param::Str("x".into())], true);
    let mut bad: Vec<Vec<u8>> = (0..valid.len()).map(|cut| valid[..cut].to_vec()).collect();
    // Unknown parameter type code.
    let mut unknown_type = valid.clone();
    unknown_type[11] = 0x42;
    bad.push(unknown_type);
    // First execution without types.
    let mut no_types = execute_body(id, &[], true);
    no_types.extend_from_slice(&[0, 0]);
    bad.push(no_types);
    // A string whose length runs past the end of the packet.
    let mut overlong = execute_body(id, &[Param::LongLong(1), Param::Str("x".into())], true);
    let at = overlong.len() - 2;
    overlong[at] = 200;
    bad.push(overlong);

    for body in &bad {
        c.send(&command(COM_STMT_EXECUTE, body)).await;
        let e = c.read_reply(true).await.err();
        assert_eq!(
            (e.code, e.msg.as_str()),
            (1210, "Incorrect arguments to mysqld_stmt_execute"),
            "body {body:?}"
        );
        assert_eq!(
            c.query("SELECT 1").await.rows().text(),
            vec![vec![Some("1".to_string())]]
        );
    }
    // Unknown statement id: 1243, not a dropped connection.
    let e = c.execute(id + 100, &[]).await.err();
    assert_eq!((e.code, e.state.as_str()), (1243, "HY000"));
    assert_eq!(
        e.msg,
        format!(
            "Unknown prepared statement handler ({}) given to mysqld_stmt_execute",
            id + 100
        )
    );
    // Garbage right after the command byte.
    c.send(&command(COM_STMT_EXECUTE, &[0xde, 0xad])).await;
    assert_eq!(c.read_reply(true).await.err().code, 1210);
    // None of that reached the engine; the valid packet still works.
    assert!(fake.journal().executes.is_empty());
    c.send(&command(COM_STMT_EXECUTE, &valid)).await;
    let rows = c.read_reply(true).await.rows();
    assert_eq!(rows.raw.len(), 1);
    assert_eq!(
        fake.journal().executes,
        vec![(id, vec![Value::Int(1), Value::Str("x".into())])]
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_oversized_packet_is_1153_and_closes() {
    let config = ServerConfig {
        max_allowed_packet: 1024,
        ..Default::default()
    };
    let (fake, server) = fake_server_with(config).await;
    let mut c = Client::connect(server.port).await;
    let big = format!("SELECT LENGTH {}", "x".repeat(2000));
    c.send(&command(COM_QUERY, big.as_bytes())).await;
    let e = c.read_reply(false).await.err();
    assert_eq!(e.code, 1153);
    assert!(c.is_closed().await);
    assert!(fake.journal().queries.is_empty());
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_select_at_at_reaches_the_engine() {
    // opensrv answers exactly `SELECT @@max_allowed_packet` itself.
    let (_fake, server) = fake_server().await;
    let mut c = Client::connect(server.port).await;
    let r = c.query("SELECT @@max_allowed_packet").await.rows();
    assert_eq!(r.text(), vec![vec![Some("1234".to_string())]]);
    server.stop().await.unwrap();
}

// ---- commands ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_packet_queries_arrive_whole() {
    let (_fake, server) = fake_server().await;
    let mut c = Client::connect(server.port).await;
    // Payload (command byte + text) of exactly 16 MiB - 1: a full chunk
    // followed by an empty one; and one spanning two chunks.
    for payload_len in [0xFF_FFFF, 0xFF_FFFF + 1000] {
        let sql = format!(
            "SELECT LENGTH {}",
            "x".repeat(payload_len - 1 - "SELECT LENGTH ".len())
        );
        let r = c.query(&sql).await.rows();
        assert_eq!(r.text(), vec![vec![Some((payload_len - 1).to_string())]]);
    }
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_result_sets_are_streamed_completely() {
    let (_fake, server) = fake_server().await;
    let mut c = Client::connect(server.port).await;
    let r = c.query("SELECT ROWS 5000").await.rows();
    assert_eq!(r.rows.len(), 5000);
    assert_eq!(r.text()[4999][0].as_deref(), Some("4999"));
    assert!(r.text()[4999][1]
        .as_deref()
        .unwrap()
        .starts_with("row number 4999 "));
    assert_eq!(c.query("SELECT 1").await.rows().rows.len(), 1);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ok_packets_carry_counts_status_and_warnings() {
    let (_fake, server) = fake_server().await;
    let mut c = Client::connect(server.port).await;
    let ok = c.query("INSERT").await.ok();
    assert_eq!((ok.affected, ok.last_insert_id), (3, 42));
    assert_eq!(ok.info, "Records: 3  Duplicates: 0  Warnings: 0");
    assert_eq!(ok.status, STATUS_AUTOCOMMIT);
    let ok = c.query("BEGIN").await.ok();
    assert_eq!(ok.status, STATUS_AUTOCOMMIT | STATUS_IN_TRANS);
    let rows = c.query("SELECT 1").await.rows();
    assert_eq!(
        rows.end_status,
        STATUS_AUTOCOMMIT | STATUS_IN_TRANS,
        "result-set terminators carry the status too"
    );
    assert_eq!(c.query("COMMIT").await.ok().status, STATUS_AUTOCOMMIT);
    assert_eq!(c.query("SET AUTOCOMMIT = 0").await.ok().status, 0);
    assert_eq!(c.query("WARN").await.ok().warnings, 2);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_mysql_codes_and_sqlstates() {
    let (_fake, server) = fake_server().await;
    let mut c = Client::connect(server.port).await;
    let e = c.query("SELECT ERR").await.err();
    assert_eq!(
        (e.code, e.state.as_str(), e.msg.as_str()),
        (1146, "42S02", "Table 'test.nope' doesn't exist")
    );
    // A TiDB-only code opensrv's ErrorKind table does not know.
    let e = c.query("SELECT DDL").await.err();
    assert_eq!((e.code, e.state.as_str()), (8200, "HY000"));
    let e = c.query("").await.err();
    assert_eq!((e.code, e.msg.as_str()), (1065, "Query was empty"));
    let e = c.query("gibberish").await.err();
    assert_eq!(e.code, 1064);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_definitions_tell_drivers_how_to_decode() {
    let (_fake, server) = fake_server().await;
    let mut c = Client::connect(server.port).await;
    let r = c.query("SELECT TYPES").await.rows();
    let ty: Vec<(u8, u16)> = r.cols.iter().map(|c| (c.ty, c.charset)).collect();
    assert_eq!(
        ty,
        vec![
            (251, 46), // VECTOR: LONG_BLOB, non-binary so PyMySQL returns str
            (245, 46), // JSON
            (246, 63), // DECIMAL -> NEWDECIMAL
            (252, 46), // TEXT: BLOB type, text charset
            (252, 63), // BLOB: binary
            (5, 63),   // DOUBLE
            (3, 63),   // INT UNSIGNED
            (12, 63),  // DATETIME
            (6, 63),   // NULL
        ]
    );
    assert_eq!(
        r.cols[0].flags & 128,
        0,
        "VECTOR must not carry the BINARY flag"
    );
    assert_ne!(r.cols[4].flags & 128, 0, "BLOB carries the BINARY flag");
    assert_eq!(r.cols[2].decimals, 2);
    assert_eq!(r.cols[5].decimals, 31);
    assert_ne!(r.cols[6].flags & 32, 0, "UNSIGNED flag");
    let row = &r.rows[0];
    let text = |i: usize| {
        row[i]
            .as_ref()
            .map(|b| String::from_utf8(b.clone()).unwrap())
    };
    assert_eq!(text(0).as_deref(), Some("[0.1,0.2,0.3]"));
    assert_eq!(text(1).as_deref(), Some("{\"a\": 1}"));
    assert_eq!(text(2).as_deref(), Some("12.50"));
    assert_eq!(text(3).as_deref(), Some("héllo"));
    assert_eq!(row[4].as_deref(), Some(&[0u8, 159, 146, 150][..]));
    assert_eq!(text(5).as_deref(), Some("0.25"));
    assert_eq!(text(6).as_deref(), Some("4000000000"));
    assert_eq!(text(7).as_deref(), Some("2024-02-29 13:05:09"));
    assert_eq!(row[8], None);

    // A NULL-typed expression column that produced strings is described as a string.
    let r = c.query("SELECT MIXED").await.rows();
    assert_eq!((r.cols[0].ty, r.cols[0].charset), (253, 46));
    assert_eq!(
        r.text(),
        vec![vec![Some("a".into())], vec![None], vec![Some("b".into())]]
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_statements_send_one_result_per_statement() {
    let (_fake, server) = fake_server().await;
    for deprecate_eof in [false, true] {
        let caps = PYMYSQL_CAPS | MULTI_STATEMENTS | if deprecate_eof { DEPRECATE_EOF } else { 0 };
        let mut c = Client::connect_with(
            server.port,
            Login {
                caps,
                ..Default::default()
            },
        )
        .await;
        c.send(&command(COM_QUERY, b"SELECT 1; INSERT; SELECT 2"))
            .await;
        let r1 = c.read_reply(false).await.rows();
        assert_ne!(r1.end_status & STATUS_MORE_RESULTS, 0);
        let ok = c.read_reply(false).await.ok();
        assert_ne!(ok.status & STATUS_MORE_RESULTS, 0);
        let r2 = c.read_reply(false).await.rows();
        assert_eq!(r2.end_status & STATUS_MORE_RESULTS, 0);
        assert_eq!(r2.text(), vec![vec![Some("2".to_string())]]);

        // Execution stops at the first error, which ends the reply.
        c.send(&command(COM_QUERY, b"SELECT 1; SELECT ERR; SELECT 2"))
            .await;
        assert_ne!(
            c.read_reply(false).await.rows().end_status & STATUS_MORE_RESULTS,
            0
        );
        assert_eq!(c.read_reply(false).await.err().code, 1146);
        assert_eq!(
            c.query("SELECT 9").await.rows().text(),
            vec![vec![Some("9".to_string())]]
        );
    }
    // Without CLIENT_MULTI_STATEMENTS, several statements are a syntax error.
    let mut c = Client::connect(server.port).await;
    assert_eq!(c.query("SELECT 1; SELECT 2").await.err().code, 1064);
    // ... until COM_SET_OPTION turns them on.
    c.send(&command(COM_SET_OPTION, &0u16.to_le_bytes())).await;
    let (_, eof) = c.read_packet().await;
    assert_eq!(eof[0], 0xFE);
    c.send(&command(COM_QUERY, b"SELECT 1; SELECT 2")).await;
    c.read_reply(false).await.rows();
    c.read_reply(false).await.rows();
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deprecate_eof_is_honoured() {
    let (_fake, server) = fake_server().await;
    let mut c = Client::connect_with(
        server.port,
        Login {
            caps: PYMYSQL_CAPS | DEPRECATE_EOF,
            ..Default::default()
        },
    )
    .await;
    c.send(&command(COM_QUERY, b"SELECT 4")).await;
    let (_, count) = c.read_packet().await;
    assert_eq!(count, vec![1]);
    let (_, def) = c.read_packet().await;
    assert_eq!(parse_coldef(&def).name, "4");
    let (_, row) = c.read_packet().await; // no EOF between definitions and rows
    assert_eq!(row, vec![1, b'4']);
    let (_, end) = c.read_packet().await;
    assert_eq!(end[0], 0xFE);
    assert_eq!(parse_ok(&end).status, STATUS_AUTOCOMMIT);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_with_typed_parameters_and_binary_rows() {
    let (fake, server) = fake_server().await;
    let mut c = Client::connect(server.port).await;
    let (id, params, cols) = c.prepare("SELECT ?, ?, ?, ?, ?, ?").await.unwrap();
    assert_eq!((params, cols), (6, 6));
    let r = c
        .execute(
            id,
            &[
                Param::LongLong(-5),
                Param::Double(1.5),
                Param::Str("héllo".into()),
                Param::Null,
                Param::Date(2024, 2, 29),
                Param::ULongLong(u64::MAX),
            ],
        )
        .await
        .rows();
    let types: Vec<u8> = r.cols.iter().map(|c| c.ty).collect();
    assert_eq!(types, vec![8, 5, 253, 6, 10, 8]);
    assert_ne!(r.cols[5].flags & 32, 0, "u64::MAX needs an UNSIGNED column");
    // Header, then a (6 + 2 + 7) / 8 = 1-byte NULL bitmap (bit 3 + 2).
    let mut want = vec![0x00, 0b0010_0000];
    want.extend_from_slice(&(-5i64).to_le_bytes());
    want.extend_from_slice(&1.5f64.to_le_bytes());
    want.extend_from_slice(&[6, b'h', 0xC3, 0xA9, b'l', b'l', b'o']);
    want.extend_from_slice(&[4, 0xE8, 0x07, 2, 29]);
    want.extend_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(r.raw, vec![want]);
    let date = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    assert_eq!(
        fake.journal().executes[0].1,
        vec![
            Value::Int(-5),
            Value::Double(1.5),
            Value::Str("héllo".into()),
            Value::Null,
            Value::Date(date),
            Value::UInt(u64::MAX)
        ]
    );

    // Later executions may omit the types (mysql2 and libmysqlclient do).
    let body = execute_body(
        id,
        &[
            Param::LongLong(1),
            Param::Double(2.0),
            Param::Str("a".into()),
            Param::Null,
            Param::Date(2000, 1, 1),
            Param::ULongLong(3),
        ],
        false,
    );
    c.send(&command(COM_STMT_EXECUTE, &body)).await;
    c.read_reply(true).await.rows();
    assert_eq!(fake.journal().executes[1].1[2], Value::Str("a".into()));

    // DML through a prepared statement: an OK packet with counts.
    let (ins, params, cols) = c.prepare("INSERT INTO t VALUES (?)").await.unwrap();
    assert_eq!((params, cols), (1, 0));
    let ok = c.execute(ins, &[Param::Str("x".into())]).await.ok();
    assert_eq!((ok.affected, ok.last_insert_id), (1, 7));

    let e = c.prepare("SELECT BAD").await.unwrap_err();
    assert_eq!(e.code, 1064);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_data_and_stmt_reset() {
    let (fake, server) = fake_server().await;
    let mut c = Client::connect(server.port).await;
    let (id, _, _) = c.prepare("SELECT ?").await.unwrap();
    for chunk in [&b"ab"[..], b"cd"] {
        let mut body = id.to_le_bytes().to_vec();
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(chunk);
        c.send(&command(COM_STMT_SEND_LONG_DATA, &body)).await; // no reply
    }
    // The execute packet carries no value for a long-data parameter.
    let mut body = id.to_le_bytes().to_vec();
    body.extend_from_slice(&[0, 1, 0, 0, 0, 0, 1, 0xFE, 0]);
    c.send(&command(COM_STMT_EXECUTE, &body)).await;
    c.read_reply(true).await.rows();
    assert_eq!(
        fake.journal().executes[0].1,
        vec![Value::Str("abcd".into())]
    );

    c.send(&command(COM_STMT_RESET, &id.to_le_bytes())).await;
    assert_eq!(c.read_reply(false).await.ok().status, STATUS_AUTOCOMMIT);
    c.send(&command(COM_STMT_RESET, &999u32.to_le_bytes()))
        .await;
    let e = c.read_reply(false).await.err();
    assert_eq!(
        e.msg,
        "Unknown prepared statement handler (999) given to mysqld_stmt_reset"
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_list_answers_with_column_definitions() {
    let (_fake, server) = fake_server().await;
    let mut c = Client::connect_with(
        server.port,
        Login {
            db: Some("test"),
            ..Default::default()
        },
    )
    .await;
    c.send(&command(COM_FIELD_LIST, b"t\0")).await;
    let mut defs = Vec::new();
    loop {
        let (_, p) = c.read_packet().await;
        if p[0] == 0xFE && p.len() == 5 {
            break;
        }
        // Each definition ends with the default-value field (NULL here).
        assert_eq!(*p.last().unwrap(), 0xFB);
        defs.push(parse_coldef(&p[..p.len() - 1]));
    }
    let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["id", "name"]);
    assert_eq!(defs[0].table, "t");
    assert_ne!(defs[0].flags & 2, 0, "PRI_KEY flag");
    c.send(&command(COM_FIELD_LIST, b"missing\0")).await;
    assert_eq!(c.read_reply(false).await.err().code, 1146);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_init_db_statistics_reset_and_quit() {
    let (fake, server) = fake_server().await;
    let mut c = Client::connect(server.port).await;
    c.send(&command(COM_PING, b"")).await;
    assert_eq!(c.read_reply(false).await.ok().status, STATUS_AUTOCOMMIT);

    c.send(&command(COM_INIT_DB, b"other")).await;
    c.read_reply(false).await.ok();
    assert_eq!(
        c.query("SELECT DATABASE()").await.rows().text(),
        vec![vec![Some("other".to_string())]]
    );
    c.send(&command(COM_INIT_DB, b"nope")).await;
    assert_eq!(c.read_reply(false).await.err().code, 1049);

    c.send(&command(COM_STATISTICS, b"")).await;
    let (_, stats) = c.read_packet().await;
    let stats = String::from_utf8(stats).unwrap();
    assert!(
        stats.starts_with("Uptime: ") && stats.contains("Questions: "),
        "{stats}"
    );

    let (id, _, _) = c.prepare("SELECT ?").await.unwrap();
    c.send(&command(COM_RESET_CONNECTION, b"")).await;
    c.read_reply(false).await.ok();
    assert_eq!(fake.journal().sessions.len(), 2, "a fresh session");
    assert_eq!(c.execute(id, &[Param::Tiny(1)]).await.err().code, 1243);

    // Unknown commands get an error, not opensrv's bare OK.
    c.send(&command(0x11, b"")).await; // COM_CHANGE_USER
    assert_eq!(c.read_reply(false).await.err().code, 1047);

    c.send(&command(COM_QUIT, b"")).await;
    assert!(c.is_closed().await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(fake.journal().sessions_closed, 2);
    server.stop().await.unwrap();
}

// ---- server life cycle -------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_connections_is_1040() {
    let config = ServerConfig {
        max_connections: 1,
        ..Default::default()
    };
    let (_fake, server) = fake_server_with(config).await;
    let mut first = Client::connect(server.port).await;
    let mut second = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let mut buf = vec![0u8; 256];
    let n = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read(&mut second, &mut buf),
    )
    .await
    .unwrap()
    .unwrap();
    let e = parse_err(&buf[4..n]);
    assert_eq!((e.code, e.msg.as_str()), (1040, "Too many connections"));
    assert!(matches!(first.query("SELECT 1").await, Reply::Rows(_)));
    // The slot frees up when the first client leaves.
    first.send(&command(COM_QUIT, b"")).await;
    assert!(first.is_closed().await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = Client::connect(server.port).await;
    assert!(matches!(third.query("SELECT 1").await, Reply::Rows(_)));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_lets_running_statements_finish() {
    let (fake, server) = fake_server().await;
    let port = server.port;
    let mut busy = Client::connect(port).await;
    let mut idle = Client::connect(port).await;
    busy.send(&command(COM_QUERY, b"SLEEP 600")).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let stopping = tokio::spawn(server.stop());

    // The running statement completes and its result arrives...
    assert_eq!(
        busy.read_reply(false).await.rows().text(),
        vec![vec![Some("600".to_string())]]
    );
    // ...then both connections are closed and nothing new is accepted.
    assert!(busy.is_closed().await);
    assert!(idle.is_closed().await);
    stopping.await.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err());
    let j = fake.journal();
    assert_eq!(
        j.shutdowns, 1,
        "engine shut down once, after the connections"
    );
    assert_eq!(j.sessions_closed, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_timeout_cuts_off_statements_that_run_too_long() {
    let config = ServerConfig {
        shutdown_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let (fake, server) = fake_server_with(config).await;
    let mut busy = Client::connect(server.port).await;
    busy.send(&command(COM_QUERY, b"SLEEP 60000")).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    server.stop().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(busy.is_closed().await);
    let j = fake.journal();
    assert_eq!(j.shutdowns, 1);
    assert_eq!(
        j.sessions_closed, 1,
        "the cut-off session was still closed (rolled back)"
    );
}
