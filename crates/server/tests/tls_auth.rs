//! TLS and `caching_sha2_password` over raw sockets (issue 5): the
//! SSLRequest upgrade with certificate verification against a test CA,
//! clients that send garbage instead of a ClientHello, fast and full
//! authentication (cleartext over TLS, RSA over plain TCP), empty and
//! wrong passwords, `require_secure_transport`.

mod common;

use common::*;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tiembed_server::{AuthPlugin, ServerConfig, TlsSettings, User};
use tokio::io::AsyncWriteExt;

/// A CA and a server certificate for 127.0.0.1/localhost signed by it,
/// written into `dir`; returns the connector that trusts only that CA.
fn test_ca(dir: &Path) -> (TlsSettings, tokio_rustls::TlsConnector) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "tiembed test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let (cert, key) = (dir.join("server-cert.pem"), dir.join("server-key.pem"));
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (
        TlsSettings::Files { cert, key },
        tokio_rustls::TlsConnector::from(Arc::new(client)),
    )
}

fn sha2_user(name: &str, password: &str) -> User {
    User {
        plugin: Some(AuthPlugin::CachingSha2Password),
        ..User::new(name, password)
    }
}

/// root (the default plugin, no password), app/pw (native), sha/pw and
/// sha_empty (caching_sha2).
fn accounts() -> Vec<User> {
    vec![
        User::new("root", ""),
        User {
            plugin: Some(AuthPlugin::NativePassword),
            ..User::new("app", "pw")
        },
        sha2_user("sha", "pw"),
        sha2_user("sha_empty", ""),
    ]
}

struct TlsServer {
    _dir: tempfile::TempDir,
    connector: tokio_rustls::TlsConnector,
    fake: Arc<Fake>,
    server: TestServer,
}

async fn tls_server(tweak: impl FnOnce(&mut ServerConfig)) -> TlsServer {
    let dir = tempfile::tempdir().unwrap();
    let (settings, connector) = test_ca(dir.path());
    let mut config = ServerConfig {
        users: accounts(),
        tls: Some(settings),
        ..Default::default()
    };
    tweak(&mut config);
    let (fake, server) = fake_server_with(config).await;
    TlsServer {
        _dir: dir,
        connector,
        fake,
        server,
    }
}

async fn tls_client(s: &TlsServer) -> Client {
    let mut c = Client::open(s.server.port).await;
    assert_ne!(c.greeting.caps & SSL, 0, "CLIENT_SSL must be offered");
    c.start_tls(&s.connector, PYMYSQL_CAPS).await.unwrap();
    c
}

fn login<'a>(user: &'a str, password: &'a str, plugin: &'a str) -> Login<'a> {
    Login {
        user,
        password,
        plugin,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_login_and_commands_run_over_the_verified_tls_stream() {
    let s = tls_server(|_| {}).await;
    let mut c = tls_client(&s).await;
    let r = c.login(&login("app", "pw", "mysql_native_password")).await;
    assert!(matches!(r, Reply::Ok(_)), "{r:?}");
    assert!(matches!(c.query("SELECT 1").await, Reply::Rows(_)));
    let (id, _, _) = c.prepare("SELECT ?").await.unwrap();
    assert!(matches!(
        c.execute(id, &[Param::LongLong(7)]).await,
        Reply::Rows(_)
    ));
    let tls = s.fake.journal().tls.clone();
    assert_eq!(tls.len(), 1);
    assert_eq!(tls[0].0, "TLSv1.3");
    assert!(tls[0].1.starts_with("TLS_"), "{tls:?}");

    // Plain TCP still works when TLS is only offered.
    let mut plain = Client::open(s.server.port).await;
    let r = plain
        .login(&login("app", "pw", "mysql_native_password"))
        .await;
    assert!(matches!(r, Reply::Ok(_)), "{r:?}");
    assert_eq!(s.fake.journal().tls.len(), 1);
    s.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_not_offered_without_configuration() {
    let (_fake, server) = fake_server().await;
    let c = Client::open(server.port).await;
    assert_eq!(c.greeting.caps & SSL, 0);
    server.stop().await.unwrap();
}

/// Reads raw bytes (a TLS alert, if any) until the server closes; false
/// if it is still open after a few seconds.
async fn closed_by_server(c: &mut Client) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), c.stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// A client that sends garbage (or nothing) after its SSLRequest gets a
/// closed connection, never a task waiting forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_instead_of_a_client_hello_closes_the_connection() {
    let s = tls_server(|c| c.handshake_timeout = Duration::from_millis(500)).await;
    let mut ssl_request = (PYMYSQL_CAPS | SSL).to_le_bytes().to_vec();
    ssl_request.extend_from_slice(&[0, 0, 0, 1, 45]);
    ssl_request.extend_from_slice(&[0; 23]);

    let mut c = Client::open(s.server.port).await;
    c.send(&frame(1, &ssl_request)).await;
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(closed_by_server(&mut c).await);

    // A MySQL packet where the ClientHello should be.
    let mut c = Client::open(s.server.port).await;
    c.send(&frame(1, &ssl_request)).await;
    c.send(&command(COM_QUERY, b"SELECT 1")).await;
    assert!(closed_by_server(&mut c).await);

    // Nothing at all: the handshake timeout ends it.
    let mut c = Client::open(s.server.port).await;
    c.send(&frame(1, &ssl_request)).await;
    assert!(closed_by_server(&mut c).await);

    // Half a ClientHello, then silence.
    let mut c = Client::open(s.server.port).await;
    c.send(&frame(1, &ssl_request)).await;
    c.send(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).await;
    assert!(closed_by_server(&mut c).await);

    assert!(s.fake.journal().sessions.is_empty());
    // The server is still fine.
    let mut ok = tls_client(&s).await;
    let r = ok.login(&login("root", "", "mysql_native_password")).await;
    assert!(matches!(r, Reply::Ok(_)), "{r:?}");
    s.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_trust_the_certificate_cannot_connect() {
    let s = tls_server(|_| {}).await;
    let other = tempfile::tempdir().unwrap();
    let (_, untrusting) = test_ca(other.path());
    let mut c = Client::open(s.server.port).await;
    let e = c.start_tls(&untrusting, PYMYSQL_CAPS).await.unwrap_err();
    assert!(e.to_string().contains("certificate"), "{e}");
    // The server side just closes; the next client is served.
    let mut ok = tls_client(&s).await;
    let r = ok.login(&login("app", "pw", "mysql_native_password")).await;
    assert!(matches!(r, Reply::Ok(_)), "{r:?}");
    s.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caching_sha2_full_auth_over_tls_then_fast_auth() {
    let s = tls_server(|_| {}).await;
    // The greeting offers native; the account is caching_sha2: switch,
    // not cached yet: full authentication, password in clear over TLS.
    let mut c = tls_client(&s).await;
    let r = c.login(&login("sha", "pw", "mysql_native_password")).await;
    assert!(matches!(r, Reply::Ok(_)), "{r:?}");
    assert_eq!(c.auth_trace, ["switch:caching_sha2_password", "full"]);
    assert!(matches!(c.query("SELECT 1").await, Reply::Rows(_)));

    // A client that starts with caching_sha2 right away, now cached: fast.
    let mut c = tls_client(&s).await;
    let r = c.login(&login("sha", "pw", "caching_sha2_password")).await;
    assert!(matches!(r, Reply::Ok(_)), "{r:?}");
    assert_eq!(c.auth_trace, ["fast"]);
    // Fast auth works over plain TCP too.
    let mut c = Client::open(s.server.port).await;
    let r = c.login(&login("sha", "pw", "caching_sha2_password")).await;
    assert!(matches!(r, Reply::Ok(_)), "{r:?}");
    assert_eq!(c.auth_trace, ["fast"]);

    // A wrong password fails fast auth, then full auth: 1045.
    let mut c = tls_client(&s).await;
    let e = c
        .login(&login("sha", "wrong", "caching_sha2_password"))
        .await
        .err();
    assert_eq!(c.auth_trace, ["full"]);
    assert_eq!((e.code, e.state.as_str()), (1045, "28000"));
    assert_eq!(
        e.msg,
        "Access denied for user 'sha'@'127.0.0.1' (using password: YES)"
    );
    s.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caching_sha2_full_auth_over_plain_tcp_uses_the_rsa_public_key() {
    let (_fake, server) = fake_server_with(ServerConfig {
        users: accounts(),
        default_auth_plugin: AuthPlugin::CachingSha2Password,
        ..Default::default()
    })
    .await;
    let mut c = Client::open(server.port).await;
    assert_eq!(c.greeting.plugin, "caching_sha2_password");
    // Cleartext over plain TCP is refused, as MySQL does.
    let e = c
        .login(&Login {
            rsa: false,
            ..login("sha", "pw", "caching_sha2_password")
        })
        .await
        .err();
    assert_eq!(c.auth_trace, ["full"]);
    assert_eq!(e.code, 1045);

    let mut c = Client::open(server.port).await;
    let e = c
        .login(&login("sha", "wrong", "caching_sha2_password"))
        .await
        .err();
    assert_eq!(c.auth_trace, ["full", "public-key"]);
    assert_eq!(e.code, 1045);

    let mut c = Client::open(server.port).await;
    let r = c.login(&login("sha", "pw", "caching_sha2_password")).await;
    assert!(matches!(r, Reply::Ok(_)), "{r:?}");
    assert_eq!(c.auth_trace, ["full", "public-key"]);
    assert!(matches!(c.query("SELECT 1").await, Reply::Rows(_)));

    let mut c = Client::open(server.port).await;
    let r = c.login(&login("sha", "pw", "caching_sha2_password")).await;
    assert!(matches!(r, Reply::Ok(_)), "{r:?}");
    assert_eq!(c.auth_trace, ["fast"]);

    // Native accounts under a caching_sha2 default: switched to native.
    let mut c = Client::open(server.port).await;
    let r = c.login(&login("app", "pw", "caching_sha2_password")).await;
    assert!(matches!(r, Reply::Ok(_)), "{r:?}");
    assert_eq!(c.auth_trace, ["switch:mysql_native_password"]);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caching_sha2_empty_passwords() {
    let (_fake, server) = fake_server_with(ServerConfig {
        users: accounts(),
        default_auth_plugin: AuthPlugin::CachingSha2Password,
        ..Default::default()
    })
    .await;
    // No fast-auth or full-auth round: the OK follows at once.
    for user in ["sha_empty", "root"] {
        let mut c = Client::open(server.port).await;
        let r = c.login(&login(user, "", "caching_sha2_password")).await;
        assert!(matches!(r, Reply::Ok(_)), "{user}: {r:?}");
        assert!(c.auth_trace.is_empty(), "{user}: {:?}", c.auth_trace);
    }
    // Switched from the native plugin a client started with.
    let mut c = Client::open(server.port).await;
    let r = c
        .login(&login("sha_empty", "", "mysql_native_password"))
        .await;
    assert!(matches!(r, Reply::Ok(_)), "{r:?}");
    assert_eq!(c.auth_trace, ["switch:caching_sha2_password"]);
    // A password for an account that has none, and none for one that has.
    let mut c = Client::open(server.port).await;
    let e = c
        .login(&login("sha_empty", "x", "caching_sha2_password"))
        .await
        .err();
    assert_eq!(
        e.msg,
        "Access denied for user 'sha_empty'@'127.0.0.1' (using password: YES)"
    );
    let mut c = Client::open(server.port).await;
    let e = c
        .login(&login("sha", "", "caching_sha2_password"))
        .await
        .err();
    assert_eq!(
        e.msg,
        "Access denied for user 'sha'@'127.0.0.1' (using password: NO)"
    );
    // Unknown accounts go through the same exchange as known ones.
    let mut c = Client::open(server.port).await;
    let e = c
        .login(&login("nobody", "pw", "caching_sha2_password"))
        .await
        .err();
    assert_eq!(c.auth_trace, ["full", "public-key"]);
    assert_eq!(
        e.msg,
        "Access denied for user 'nobody'@'127.0.0.1' (using password: YES)"
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_secure_transport_refuses_plain_tcp() {
    let s = tls_server(|c| c.require_secure_transport = true).await;
    let mut c = Client::open(s.server.port).await;
    let e = c
        .login(&login("root", "", "mysql_native_password"))
        .await
        .err();
    assert_eq!(
        (e.code, e.state.as_str(), e.msg.as_str()),
        (
            3159,
            "HY000",
            "Connections using insecure transport are prohibited while --require_secure_transport=ON."
        )
    );
    let mut c = tls_client(&s).await;
    let r = c.login(&login("root", "", "mysql_native_password")).await;
    assert!(matches!(r, Reply::Ok(_)), "{r:?}");
    s.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ssl_request_inside_tls_is_a_bad_handshake() {
    let s = tls_server(|_| {}).await;
    let mut c = tls_client(&s).await;
    let mut p = (PYMYSQL_CAPS | SSL).to_le_bytes().to_vec();
    p.extend_from_slice(&[0, 0, 0, 1, 45]);
    p.extend_from_slice(&[0; 23]);
    c.send(&frame(2, &p)).await;
    let (_, reply) = c.read_packet().await;
    assert_eq!(parse_err(&reply).code, 1043);
    assert!(c.is_closed().await);
    let _ = c.stream.shutdown().await;
    s.server.stop().await.unwrap();
}
