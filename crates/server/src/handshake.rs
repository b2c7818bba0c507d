//! The connection phase, done by tiembed itself: greeting, the TLS upgrade
//! after an SSLRequest, handshake response, `mysql_native_password` or
//! `caching_sha2_password` (with an auth switch for clients that start
//! with another plugin than the account's), the handshake's database, and
//! the final OK or ERR.
//!
//! opensrv 0.7.0 cannot be configured to do this right: its greeting
//! advertises no MULTI_STATEMENTS / MULTI_RESULTS / TRANSACTIONS, has
//! status 0 and charset utf8_general_ci; a failed login gets ERROR 1698
//! with its own wording instead of 1045; it keeps the client's capability
//! flags to itself; and it allows one auth round trip only, which rules
//! out `caching_sha2_password` full authentication and leaves TLS to its
//! own rustls version. So tiembed logs the client in, and opensrv is then
//! started on the authenticated stream with a *synthetic* handshake
//! response ([`opensrv_prelude`]) that the guard feeds it; its greeting
//! and OK go to a sink.

use crate::auth::{self, sha2_status, AuthPlugin, SCRAMBLE_LEN};
use crate::backend::SqlSession;
use crate::conn::{Io, Shared};
use crate::cursor::Cursor;
use crate::errors::{self, proto, WireError};
use crate::packet::{append_framed, read_packet};
use crate::reply::status_bits;
use crate::tls::TlsInfo;
use crate::wire::{self, status, OkInfo};
use opensrv_mysql::CapabilityFlags as Cap;
use std::io;
use tiembed_types::Error;
use tokio::io::AsyncWriteExt;
use tokio_rustls::TlsAcceptor;

/// utf8mb4_bin, TiDB's default collation, announced in the greeting.
const GREETING_COLLATION: u8 = 46;

/// What the server offers. CLIENT_SSL only when TLS is configured:
/// mysql-connector and libmysqlclient start TLS whenever it is offered.
/// Never offered: COMPRESS, LOCAL_FILES, SESSION_TRACK, QUERY_ATTRIBUTES
/// (with it, every COM_QUERY would carry a parameter prefix) and
/// PS_MULTI_RESULTS (no stored procedures).
pub fn server_capabilities(tls: bool) -> Cap {
    let ssl = if tls { Cap::CLIENT_SSL } else { Cap::empty() };
    ssl | Cap::CLIENT_LONG_PASSWORD
        | Cap::CLIENT_FOUND_ROWS
        | Cap::CLIENT_LONG_FLAG
        | Cap::CLIENT_CONNECT_WITH_DB
        | Cap::CLIENT_PROTOCOL_41
        | Cap::CLIENT_TRANSACTIONS
        | Cap::CLIENT_SECURE_CONNECTION
        | Cap::CLIENT_MULTI_STATEMENTS
        | Cap::CLIENT_MULTI_RESULTS
        | Cap::CLIENT_PLUGIN_AUTH
        | Cap::CLIENT_CONNECT_ATTRS
        | Cap::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
        | Cap::CLIENT_DEPRECATE_EOF
}

/// A logged-in client.
pub struct Login {
    /// The connection, over TLS when the client asked for it.
    pub io: Box<dyn Io>,
    pub user: String,
    /// Capabilities both sides have.
    pub caps: Cap,
    pub collation: u8,
    pub max_packet: u32,
    pub session: Box<dyn SqlSession>,
    pub tls: Option<TlsInfo>,
}

/// The parsed HandshakeResponse41.
#[derive(Debug, PartialEq, Eq)]
pub struct HandshakeResponse {
    pub caps: Cap,
    pub max_packet: u32,
    pub collation: u8,
    pub user: Vec<u8>,
    pub auth: Vec<u8>,
    pub db: Option<Vec<u8>>,
    pub plugin: Option<Vec<u8>>,
    /// The short SSLRequest (ends after the filler): TLS starts next.
    pub is_ssl_request: bool,
}

pub fn greeting_payload(
    version: &str,
    conn_id: u32,
    salt: &[u8; SCRAMBLE_LEN],
    caps: Cap,
    plugin: AuthPlugin,
) -> Vec<u8> {
    let caps = caps.bits().to_le_bytes();
    let mut p = Vec::with_capacity(96);
    p.push(10); // protocol version
    p.extend_from_slice(version.as_bytes());
    p.push(0);
    p.extend_from_slice(&conn_id.to_le_bytes());
    p.extend_from_slice(&salt[..8]);
    p.push(0);
    p.extend_from_slice(&caps[..2]);
    p.push(GREETING_COLLATION);
    p.extend_from_slice(&status::AUTOCOMMIT.to_le_bytes());
    p.extend_from_slice(&caps[2..]);
    p.push((SCRAMBLE_LEN + 1) as u8);
    p.extend_from_slice(&[0; 10]);
    p.extend_from_slice(&salt[8..]);
    p.push(0);
    p.extend_from_slice(plugin.name().as_bytes());
    p.push(0);
    p
}

/// Parses a HandshakeResponse41; `None` if it is malformed. An SSL request
/// (the short form, ending after the filler) parses with an empty user.
pub fn parse_response(payload: &[u8]) -> Option<HandshakeResponse> {
    let mut c = Cursor::new(payload);
    let caps = Cap::from_bits_truncate(c.u32()?);
    let max_packet = c.u32()?;
    let collation = c.u8()?;
    c.take(23)?;
    if caps.contains(Cap::CLIENT_SSL) && c.remaining() == 0 {
        return Some(HandshakeResponse {
            caps,
            max_packet,
            collation,
            user: vec![],
            auth: vec![],
            db: None,
            plugin: None,
            is_ssl_request: true,
        });
    }
    let user = c.nul_terminated()?.to_vec();
    let auth = if caps.contains(Cap::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
        c.lenenc_bytes()?.to_vec()
    } else if caps.contains(Cap::CLIENT_SECURE_CONNECTION) {
        let n = c.u8()?;
        c.take(usize::from(n))?.to_vec()
    } else {
        c.nul_or_rest().to_vec()
    };
    let db = if caps.contains(Cap::CLIENT_CONNECT_WITH_DB) && c.remaining() > 0 {
        Some(c.nul_or_rest().to_vec())
    } else {
        None
    };
    let plugin = if caps.contains(Cap::CLIENT_PLUGIN_AUTH) && c.remaining() > 0 {
        Some(c.nul_or_rest().to_vec())
    } else {
        None
    };
    // Connection attributes follow; nothing in them needs an answer.
    Some(HandshakeResponse {
        caps,
        max_packet,
        collation,
        user,
        auth,
        db,
        plugin,
        is_ssl_request: false,
    })
}

async fn send(io: &mut Box<dyn Io>, seq: &mut u8, payload: &[u8]) -> io::Result<()> {
    let mut framed = Vec::with_capacity(payload.len() + 4);
    append_framed(&mut framed, seq, payload);
    io.write_all(&framed).await?;
    io.flush().await
}

async fn send_error(io: &mut Box<dyn Io>, seq: &mut u8, e: &WireError) -> io::Result<()> {
    let mut p = Vec::new();
    wire::err_payload(&mut p, e.code, e.sqlstate, &e.message);
    send(io, seq, &p).await
}

/// Sends ERROR 1040 instead of a greeting, for a connection over the limit.
pub async fn refuse_too_many(io: &mut Box<dyn Io>) -> io::Result<()> {
    let mut seq = 0;
    send_error(io, &mut seq, &proto::too_many_connections()).await?;
    io.shutdown().await
}

/// Runs the connection phase. `Ok(None)`: the client was refused (the
/// error has been sent) or went away; the connection should be closed.
pub async fn login(
    mut io: Box<dyn Io>,
    shared: &Shared,
    conn_id: u32,
    salt: &[u8; SCRAMBLE_LEN],
    peer_host: &str,
) -> io::Result<Option<Login>> {
    let config = &shared.config;
    let offered = server_capabilities(shared.tls.is_some());
    let mut seq = 0u8;
    send(
        &mut io,
        &mut seq,
        &greeting_payload(
            &config.version,
            conn_id,
            salt,
            offered,
            config.default_auth_plugin,
        ),
    )
    .await?;

    let Some(mut resp) = read_response(&mut io, &mut seq).await? else {
        return Ok(None);
    };
    let mut tls = None;
    // CLIENT_SSL in the first response means TLS starts next, as in MySQL.
    if resp.caps.contains(Cap::CLIENT_SSL) {
        let Some(acceptor) = &shared.tls else {
            // Not offered, so a client asking for it is about to send a
            // TLS ClientHello that no MySQL packet parser can answer.
            tracing::debug!("client requested TLS, which is not configured");
            return Ok(None);
        };
        let Some((stream, info)) = upgrade(io, acceptor).await else {
            return Ok(None);
        };
        io = stream;
        tls = Some(info);
        // The real handshake response follows the SSLRequest, encrypted.
        match read_response(&mut io, &mut seq).await? {
            Some(r) if !r.is_ssl_request => resp = r,
            Some(_) => {
                send_error(&mut io, &mut seq, &proto::handshake_error()).await?;
                return Ok(None);
            }
            None => return Ok(None),
        }
    }
    if !resp.caps.contains(Cap::CLIENT_PROTOCOL_41) {
        send_error(&mut io, &mut seq, &proto::old_client()).await?;
        return Ok(None);
    }
    if config.require_secure_transport && tls.is_none() {
        send_error(&mut io, &mut seq, &proto::insecure_transport()).await?;
        return Ok(None);
    }

    let user = String::from_utf8_lossy(&resp.user).into_owned();
    let mut exchange = Exchange {
        io: &mut io,
        seq: &mut seq,
        salt,
        secure: tls.is_some(),
    };
    let verdict = authenticate(&mut exchange, shared, &user, &resp).await?;
    match verdict {
        Verdict::Allowed => {}
        Verdict::Gone => return Ok(None),
        Verdict::Denied { using_password } => {
            let e = Error::AccessDenied {
                user: user.clone(),
                host: peer_host.to_string(),
                using_password,
            };
            tracing::info!(%user, "access denied");
            send_error(&mut io, &mut seq, &errors::to_wire(&e)).await?;
            return Ok(None);
        }
    }

    let caps = resp.caps & offered;
    let mut session = shared.backend.new_session(conn_id, &user);
    if caps.contains(Cap::CLIENT_FOUND_ROWS) {
        session.set_found_rows(true);
    }
    if let Some(info) = &tls {
        session.set_tls(&info.version, &info.cipher);
    }
    // mysql-connector sends CONNECT_WITH_DB with an empty name: no database.
    if let Some(db) = resp.db.as_deref().filter(|d| !d.is_empty()) {
        let selected = match std::str::from_utf8(db) {
            Ok(name) => session.use_database(name).map_err(|e| errors::to_wire(&e)),
            Err(_) => Err(errors::invalid_utf8_error(db)),
        };
        if let Err(e) = selected {
            session.close();
            send_error(&mut io, &mut seq, &e).await?;
            return Ok(None);
        }
    }
    let ok = OkInfo {
        status: status_bits(session.status()),
        ..Default::default()
    };
    let mut p = Vec::new();
    wire::ok_payload(&mut p, &ok, false);
    send(&mut io, &mut seq, &p).await?;
    Ok(Some(Login {
        io,
        user,
        caps,
        collation: resp.collation,
        max_packet: resp.max_packet,
        session,
        tls,
    }))
}

/// The TLS handshake after an SSLRequest. `None` when it fails — garbage
/// instead of a ClientHello, or a client that does not trust the
/// certificate — and there is nothing left to answer. A client that stops
/// halfway is cut off by the handshake timeout around `login`.
async fn upgrade(io: Box<dyn Io>, acceptor: &TlsAcceptor) -> Option<(Box<dyn Io>, TlsInfo)> {
    match acceptor.accept(io).await {
        Ok(stream) => {
            let info = TlsInfo::of(stream.get_ref().1);
            Some((Box::new(stream), info))
        }
        Err(e) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            None
        }
    }
}

/// The handshake response is small; a client claiming more is not one.
const MAX_HANDSHAKE: usize = 64 * 1024;

/// Reads the client's next connection-phase packet; `None` if it went away.
async fn read_auth_packet(io: &mut Box<dyn Io>, seq: &mut u8) -> io::Result<Option<Vec<u8>>> {
    let Some(pkt) = read_packet(io, MAX_HANDSHAKE, Some(*seq))
        .await
        .map_err(into_io)?
    else {
        return Ok(None);
    };
    *seq = pkt.seq.wrapping_add(1);
    Ok(Some(pkt.payload))
}

/// Reads and parses a handshake response (or SSLRequest); a malformed one
/// gets ERROR 1043 and `None`.
async fn read_response(
    io: &mut Box<dyn Io>,
    seq: &mut u8,
) -> io::Result<Option<HandshakeResponse>> {
    let Some(payload) = read_auth_packet(io, seq).await? else {
        return Ok(None);
    };
    match parse_response(&payload) {
        Some(r) => Ok(Some(r)),
        None => {
            send_error(io, seq, &proto::handshake_error()).await?;
            Ok(None)
        }
    }
}

/// The authentication exchange's side of the connection.
struct Exchange<'a> {
    io: &'a mut Box<dyn Io>,
    seq: &'a mut u8,
    salt: &'a [u8; SCRAMBLE_LEN],
    /// Over TLS: a full authentication may send the password in clear.
    secure: bool,
}

impl Exchange<'_> {
    async fn send(&mut self, payload: &[u8]) -> io::Result<()> {
        send(self.io, self.seq, payload).await
    }

    async fn read(&mut self) -> io::Result<Option<Vec<u8>>> {
        read_auth_packet(self.io, self.seq).await
    }

    /// AuthMoreData: 0x01 and `data`.
    async fn more_data(&mut self, data: &[u8]) -> io::Result<()> {
        let mut p = Vec::with_capacity(data.len() + 1);
        p.push(0x01);
        p.extend_from_slice(data);
        self.send(&p).await
    }
}

enum Verdict {
    Allowed,
    Denied {
        using_password: bool,
    },
    /// The client closed the connection mid-exchange.
    Gone,
}

/// Checks the client's credentials with the account's plugin, switching
/// the client to that plugin first when it answered the greeting with
/// another one (as MySQL does; the salt stays the same).
async fn authenticate(
    ex: &mut Exchange<'_>,
    shared: &Shared,
    user: &str,
    resp: &HandshakeResponse,
) -> io::Result<Verdict> {
    let config = &shared.config;
    let account = config.users.iter().find(|u| u.name == user);
    let plugin = account
        .and_then(|a| a.plugin)
        .unwrap_or(config.default_auth_plugin);
    let mut auth_data = resp.auth.clone();
    // A client without CLIENT_PLUGIN_AUTH cannot be switched; it answered
    // with a native scramble, which tiembed can check for any account
    // because it knows the password.
    let client_plugin = match resp.plugin.as_deref() {
        Some(p) if !p.is_empty() && resp.caps.contains(Cap::CLIENT_PLUGIN_AUTH) => Some(p),
        _ => None,
    };
    let plugin = match client_plugin {
        Some(p) if p != plugin.name().as_bytes() => {
            let mut switch = vec![0xFE];
            switch.extend_from_slice(plugin.name().as_bytes());
            switch.push(0);
            switch.extend_from_slice(ex.salt);
            switch.push(0);
            ex.send(&switch).await?;
            let Some(answer) = ex.read().await? else {
                return Ok(Verdict::Gone);
            };
            auth_data = answer;
            plugin
        }
        Some(_) => plugin,
        None => AuthPlugin::NativePassword,
    };
    // Some clients answer for an empty password with a lone NUL.
    if auth_data == [0] {
        auth_data.clear();
    }
    let using_password = !auth_data.is_empty();
    let denied = Ok(Verdict::Denied { using_password });
    match plugin {
        AuthPlugin::NativePassword => match account {
            Some(a) if auth::verify_native(&a.password, ex.salt, &auth_data) => {
                Ok(Verdict::Allowed)
            }
            _ => denied,
        },
        // Unknown accounts go through the same exchange as known ones, so
        // that the packets do not tell which accounts exist.
        AuthPlugin::CachingSha2Password => caching_sha2(ex, shared, account, &auth_data).await,
    }
}

/// `caching_sha2_password` after the scramble arrived: empty passwords
/// need nothing more; fast authentication (0x03) when the account is in
/// the cache and the scramble matches; otherwise full authentication
/// (0x04): the password in clear over TLS, or RSA-encrypted over plain
/// TCP after the client fetched the public key (0x02).
async fn caching_sha2(
    ex: &mut Exchange<'_>,
    shared: &Shared,
    account: Option<&crate::config::User>,
    scramble: &[u8],
) -> io::Result<Verdict> {
    let password = account.map(|a| a.password.as_str());
    if scramble.is_empty() || password == Some("") {
        return Ok(if scramble.is_empty() && password == Some("") {
            Verdict::Allowed
        } else {
            Verdict::Denied {
                using_password: !scramble.is_empty(),
            }
        });
    }
    let denied = Ok(Verdict::Denied {
        using_password: true,
    });
    if let Some(cached) = account.and_then(|a| shared.sha2_cache.get(&a.name)) {
        if auth::verify_sha2_fast(&cached, ex.salt, scramble) {
            ex.more_data(&[sha2_status::FAST_AUTH_SUCCESS]).await?;
            return Ok(Verdict::Allowed);
        }
    }
    ex.more_data(&[sha2_status::PERFORM_FULL_AUTH]).await?;
    let Some(mut answer) = ex.read().await? else {
        return Ok(Verdict::Gone);
    };
    let sent = if ex.secure {
        answer
    } else {
        let keys = match shared.rsa_keys().await {
            Ok(k) => k,
            Err(e) => {
                tracing::error!(error = %e, "cannot generate the RSA key pair");
                return denied;
            }
        };
        if answer == [sha2_status::REQUEST_PUBLIC_KEY] {
            ex.more_data(keys.public_pem.as_bytes()).await?;
            answer = match ex.read().await? {
                Some(a) => a,
                None => return Ok(Verdict::Gone),
            };
        }
        // Anything else over plain TCP must be RSA-encrypted; a cleartext
        // password here does not decrypt and is refused, as MySQL does.
        match keys.decrypt_password(ex.salt, &answer) {
            Some(p) => p,
            None => return denied,
        }
    };
    match account {
        Some(a) if auth::verify_cleartext(&a.password, &sent) => {
            shared.sha2_cache.remember(&a.name, &a.password);
            Ok(Verdict::Allowed)
        }
        _ => denied,
    }
}

fn into_io(e: crate::packet::ReadError) -> io::Error {
    match e {
        crate::packet::ReadError::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

/// The handshake response opensrv is fed after the real login: the agreed
/// capabilities minus everything that would make opensrv do more than
/// accept it (no database, no plugin name, no TLS, an empty auth response;
/// the shim's `auth_plugin_for_username` returns "" so opensrv never starts
/// an auth switch), framed as packet 1.
pub fn opensrv_prelude(user: &str, caps: Cap, collation: u8, max_packet: u32) -> Vec<u8> {
    let caps = (caps
        - (Cap::CLIENT_SSL
            | Cap::CLIENT_CONNECT_WITH_DB
            | Cap::CLIENT_PLUGIN_AUTH
            | Cap::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
            | Cap::CLIENT_CONNECT_ATTRS))
        | Cap::CLIENT_PROTOCOL_41
        | Cap::CLIENT_SECURE_CONNECTION;
    let mut p = Vec::with_capacity(64);
    p.extend_from_slice(&caps.bits().to_le_bytes());
    p.extend_from_slice(&max_packet.to_le_bytes());
    p.push(collation);
    p.extend_from_slice(&[0; 23]);
    p.extend_from_slice(user.replace('\0', "").as_bytes());
    p.push(0);
    p.push(0); // auth response length
    let mut out = Vec::new();
    let mut seq = 1;
    append_framed(&mut out, &mut seq, &p);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_layout() {
        let salt = *b"abcdefghijklmnopqrst";
        let g = greeting_payload(
            "8.0.11-TiDB-v8.5.3-serverless",
            7,
            &salt,
            server_capabilities(false),
            AuthPlugin::NativePassword,
        );
        let mut c = Cursor::new(&g);
        assert_eq!(c.u8(), Some(10));
        assert_eq!(
            c.nul_terminated(),
            Some(&b"8.0.11-TiDB-v8.5.3-serverless"[..])
        );
        assert_eq!(c.u32(), Some(7));
        assert_eq!(c.take(8), Some(&b"abcdefgh"[..]));
        assert_eq!(c.u8(), Some(0));
        let lo = c.u16().unwrap();
        assert_eq!(c.u8(), Some(46));
        assert_eq!(c.u16(), Some(status::AUTOCOMMIT));
        let hi = c.u16().unwrap();
        let caps = Cap::from_bits_truncate(u32::from(lo) | u32::from(hi) << 16);
        assert!(caps.contains(
            Cap::CLIENT_MULTI_STATEMENTS | Cap::CLIENT_MULTI_RESULTS | Cap::CLIENT_TRANSACTIONS
        ));
        assert!(!caps.contains(Cap::CLIENT_SSL));
        assert!(!caps.contains(Cap::CLIENT_QUERY_ATTRIBUTES));
        assert_eq!(c.u8(), Some(21));
        c.take(10).unwrap();
        assert_eq!(c.nul_terminated(), Some(&b"ijklmnopqrst"[..]));
        assert_eq!(c.nul_terminated(), Some(&b"mysql_native_password"[..]));
        assert_eq!(c.remaining(), 0);
    }

    #[test]
    fn greeting_offers_tls_and_sha2_when_configured() {
        let salt = *b"abcdefghijklmnopqrst";
        let g = greeting_payload(
            "8.0.11",
            7,
            &salt,
            server_capabilities(true),
            AuthPlugin::CachingSha2Password,
        );
        let mut c = Cursor::new(&g);
        c.take(1 + 7 + 4 + 9).unwrap();
        let lo = c.u16().unwrap();
        assert_ne!(u32::from(lo) & Cap::CLIENT_SSL.bits(), 0);
        c.take(1 + 2 + 2 + 1 + 10).unwrap();
        assert_eq!(c.nul_terminated(), Some(&b"ijklmnopqrst"[..]));
        assert_eq!(c.nul_terminated(), Some(&b"caching_sha2_password"[..]));
    }

    #[test]
    fn ssl_request_is_recognised() {
        let mut p = (Cap::CLIENT_PROTOCOL_41 | Cap::CLIENT_SSL)
            .bits()
            .to_le_bytes()
            .to_vec();
        p.extend_from_slice(&[0, 0, 0, 1, 45]);
        p.extend_from_slice(&[0; 23]);
        assert!(parse_response(&p).unwrap().is_ssl_request);
    }

    fn response(
        caps: Cap,
        user: &[u8],
        auth: &[u8],
        db: Option<&[u8]>,
        plugin: Option<&[u8]>,
    ) -> Vec<u8> {
        let mut p = caps.bits().to_le_bytes().to_vec();
        p.extend_from_slice(&16_777_215u32.to_le_bytes());
        p.push(45);
        p.extend_from_slice(&[0; 23]);
        p.extend_from_slice(user);
        p.push(0);
        if caps.contains(Cap::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
            wire::put_lenenc_bytes(&mut p, auth);
        } else {
            p.push(auth.len() as u8);
            p.extend_from_slice(auth);
        }
        if let Some(db) = db {
            p.extend_from_slice(db);
            p.push(0);
        }
        if let Some(pl) = plugin {
            p.extend_from_slice(pl);
            p.push(0);
        }
        p
    }

    #[test]
    fn parses_pymysql_style_response() {
        let caps = Cap::CLIENT_PROTOCOL_41
            | Cap::CLIENT_SECURE_CONNECTION
            | Cap::CLIENT_PLUGIN_AUTH
            | Cap::CLIENT_CONNECT_WITH_DB
            | Cap::CLIENT_FOUND_ROWS;
        let p = response(
            caps,
            b"root",
            &[1; 20],
            Some(b"test"),
            Some(b"mysql_native_password"),
        );
        let r = parse_response(&p).unwrap();
        assert_eq!(r.user, b"root");
        assert_eq!(r.auth, vec![1; 20]);
        assert_eq!(r.db.as_deref(), Some(&b"test"[..]));
        assert_eq!(r.plugin.as_deref(), Some(&b"mysql_native_password"[..]));
        assert_eq!(r.collation, 45);
    }

    #[test]
    fn parses_lenenc_auth_and_no_db() {
        let caps = Cap::CLIENT_PROTOCOL_41
            | Cap::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
            | Cap::CLIENT_PLUGIN_AUTH;
        let p = response(caps, b"app", b"", None, Some(b"caching_sha2_password"));
        let r = parse_response(&p).unwrap();
        assert_eq!(
            (r.user.as_slice(), r.auth.as_slice(), r.db),
            (&b"app"[..], &b""[..], None)
        );
        assert_eq!(r.plugin.as_deref(), Some(&b"caching_sha2_password"[..]));
    }

    #[test]
    fn malformed_responses_are_none() {
        let caps = Cap::CLIENT_PROTOCOL_41 | Cap::CLIENT_SECURE_CONNECTION;
        let p = response(caps, b"root", &[1; 20], None, None);
        for cut in 0..p.len() {
            assert!(parse_response(&p[..cut]).is_none(), "cut {cut}");
        }
    }

    #[test]
    fn prelude_is_a_plain_response_opensrv_accepts() {
        let prelude = opensrv_prelude("root", server_capabilities(true), 45, 1 << 24);
        assert_eq!(prelude[3], 1, "sequence id 1");
        let r = parse_response(&prelude[4..]).unwrap();
        assert_eq!(r.user, b"root");
        assert!(r.auth.is_empty() && r.db.is_none() && r.plugin.is_none());
        assert!(r
            .caps
            .contains(Cap::CLIENT_DEPRECATE_EOF | Cap::CLIENT_PROTOCOL_41));
        assert!(!r
            .caps
            .intersects(Cap::CLIENT_SSL | Cap::CLIENT_CONNECT_WITH_DB | Cap::CLIENT_PLUGIN_AUTH));
    }
}
