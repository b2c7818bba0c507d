//! Test harness: a raw MySQL protocol client built from hand-made
//! packets, a scripted fake backend, and helpers to start a server on a
//! free loopback port.
#![allow(dead_code)]

use async_trait::async_trait;
use sha1::{Digest, Sha1};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tiembed_executor::{ColumnInfo, Output, PreparedInfo, ResultSet, StatusFlags};
use tiembed_server::{Backend, ServerConfig, SqlSession, User};
use tiembed_types::{DataType, Error, IntWidth, Result, TextKind, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

// ---- capability and command constants -------------------------------

pub const LONG_PASSWORD: u32 = 0x1;
pub const FOUND_ROWS: u32 = 0x2;
pub const CONNECT_WITH_DB: u32 = 0x8;
pub const PROTOCOL_41: u32 = 0x200;
pub const SSL: u32 = 0x800;
pub const TRANSACTIONS: u32 = 0x2000;
pub const SECURE_CONNECTION: u32 = 0x8000;
pub const MULTI_STATEMENTS: u32 = 0x1_0000;
pub const MULTI_RESULTS: u32 = 0x2_0000;
pub const PLUGIN_AUTH: u32 = 0x8_0000;
pub const LENENC_AUTH: u32 = 0x20_0000;
pub const DEPRECATE_EOF: u32 = 0x100_0000;

/// What PyMySQL sends (plus FOUND_ROWS, as SQLAlchemy does).
pub const PYMYSQL_CAPS: u32 = LONG_PASSWORD
    | FOUND_ROWS
    | PROTOCOL_41
    | TRANSACTIONS
    | SECURE_CONNECTION
    | MULTI_RESULTS
    | PLUGIN_AUTH
    | LENENC_AUTH;

pub const COM_QUIT: u8 = 0x01;
pub const COM_INIT_DB: u8 = 0x02;
pub const COM_QUERY: u8 = 0x03;
pub const COM_FIELD_LIST: u8 = 0x04;
pub const COM_STATISTICS: u8 = 0x09;
pub const COM_PING: u8 = 0x0E;
pub const COM_STMT_PREPARE: u8 = 0x16;
pub const COM_STMT_EXECUTE: u8 = 0x17;
pub const COM_STMT_SEND_LONG_DATA: u8 = 0x18;
pub const COM_STMT_CLOSE: u8 = 0x19;
pub const COM_STMT_RESET: u8 = 0x1A;
pub const COM_SET_OPTION: u8 = 0x1B;
pub const COM_RESET_CONNECTION: u8 = 0x1F;

pub const STATUS_IN_TRANS: u16 = 0x1;
pub const STATUS_AUTOCOMMIT: u16 = 0x2;
pub const STATUS_MORE_RESULTS: u16 = 0x8;

const IO_TIMEOUT: Duration = Duration::from_secs(10);

// ---- packet helpers ----------------------------------------------------

pub fn frame(seq: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut seq = seq;
    let mut rest = payload;
    loop {
        let n = rest.len().min(0xFF_FFFF);
        let l = (n as u32).to_le_bytes();
        out.extend_from_slice(&[l[0], l[1], l[2], seq]);
        out.extend_from_slice(&rest[..n]);
        seq = seq.wrapping_add(1);
        rest = &rest[n..];
        if n < 0xFF_FFFF {
            return out;
        }
    }
}

pub fn command(cmd: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![cmd];
    p.extend_from_slice(body);
    frame(0, &p)
}

pub fn lenenc_int(out: &mut Vec<u8>, v: u64) {
    if v < 251 {
        out.push(v as u8);
    } else if v < 1 << 16 {
        out.push(0xFC);
        out.extend_from_slice(&(v as u16).to_le_bytes());
    } else if v < 1 << 24 {
        out.push(0xFD);
        out.extend_from_slice(&(v as u32).to_le_bytes()[..3]);
    } else {
        out.push(0xFE);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

pub fn lenenc_str(out: &mut Vec<u8>, s: &[u8]) {
    lenenc_int(out, s.len() as u64);
    out.extend_from_slice(s);
}

pub struct Reader<'a> {
    pub b: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Reader { b }
    }
    pub fn u8(&mut self) -> u8 {
        let v = self.b[0];
        self.b = &self.b[1..];
        v
    }
    pub fn u16(&mut self) -> u16 {
        let v = u16::from_le_bytes([self.b[0], self.b[1]]);
        self.b = &self.b[2..];
        v
    }
    pub fn u32(&mut self) -> u32 {
        let v = u32::from_le_bytes(self.b[..4].try_into().unwrap());
        self.b = &self.b[4..];
        v
    }
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (h, t) = self.b.split_at(n);
        self.b = t;
        h
    }
    pub fn lenenc_int(&mut self) -> Option<u64> {
        match self.u8() {
            0xFB => None,
            0xFC => Some(self.u16() as u64),
            0xFD => {
                let b = self.take(3);
                Some(b[0] as u64 | (b[1] as u64) << 8 | (b[2] as u64) << 16)
            }
            0xFE => Some(u64::from_le_bytes(self.take(8).try_into().unwrap())),
            b => Some(b as u64),
        }
    }
    pub fn lenenc_str(&mut self) -> Option<&'a [u8]> {
        let n = self.lenenc_int()?;
        Some(self.take(n as usize))
    }
    pub fn nul_str(&mut self) -> &'a [u8] {
        let at = self.b.iter().position(|&c| c == 0).unwrap();
        let s = &self.b[..at];
        self.b = &self.b[at + 1..];
        s
    }
}

pub fn native_scramble(password: &str, salt: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return vec![];
    }
    let s1: [u8; 20] = Sha1::digest(password.as_bytes()).into();
    let s2: [u8; 20] = Sha1::digest(s1).into();
    let mut h = Sha1::new();
    h.update(salt);
    h.update(s2);
    let m: [u8; 20] = h.finalize().into();
    s1.iter().zip(m.iter()).map(|(a, b)| a ^ b).collect()
}

pub fn sha2_scramble(password: &str, salt: &[u8]) -> Vec<u8> {
    use sha2::Sha256;
    if password.is_empty() {
        return vec![];
    }
    let s1: [u8; 32] = Sha256::digest(password.as_bytes()).into();
    let s2: [u8; 32] = Sha256::digest(s1).into();
    let mut h = Sha256::new();
    h.update(s2);
    h.update(salt);
    let m: [u8; 32] = h.finalize().into();
    s1.iter().zip(m.iter()).map(|(a, b)| a ^ b).collect()
}

/// The first auth response for `plugin` (unknown plugins: garbage).
pub fn scramble_for(plugin: &str, password: &str, salt: &[u8]) -> Vec<u8> {
    match plugin {
        "caching_sha2_password" => sha2_scramble(password, salt),
        "mysql_native_password" => native_scramble(password, salt),
        _ => b"not a scramble".to_vec(),
    }
}

/// What a client sends after fetching the server's public key.
pub fn rsa_encrypt_password(pem: &str, password: &str, salt: &[u8]) -> Vec<u8> {
    use rsa::pkcs8::DecodePublicKey;
    let key = rsa::RsaPublicKey::from_public_key_pem(pem).expect("a PEM public key");
    let mut plain: Vec<u8> = password.bytes().chain([0]).collect();
    for (i, b) in plain.iter_mut().enumerate() {
        *b ^= salt[i % salt.len()];
    }
    key.encrypt(
        &mut rand_core_06::OsRng,
        rsa::Oaep::new::<sha1::Sha1>(),
        &plain,
    )
    .unwrap()
}

// ---- parsed replies ----------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub struct Greeting {
    pub version: String,
    pub conn_id: u32,
    pub salt: Vec<u8>,
    pub caps: u32,
    pub charset: u8,
    pub status: u16,
    pub plugin: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ok {
    pub affected: u64,
    pub last_insert_id: u64,
    pub status: u16,
    pub warnings: u16,
    pub info: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Err {
    pub code: u16,
    pub state: String,
    pub msg: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColDef {
    pub schema: String,
    pub table: String,
    pub org_table: String,
    pub name: String,
    pub org_name: String,
    pub charset: u16,
    pub length: u32,
    pub ty: u8,
    pub flags: u16,
    pub decimals: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub cols: Vec<ColDef>,
    /// Text rows: raw values (binary rows are kept undecoded in `raw`).
    pub rows: Vec<Vec<Option<Vec<u8>>>>,
    pub raw: Vec<Vec<u8>>,
    pub end_status: u16,
    pub end_warnings: u16,
}

impl Rows {
    pub fn text(&self) -> Vec<Vec<Option<String>>> {
        self.rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| v.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()))
                    .collect()
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Ok(Ok),
    Err(Err),
    Rows(Rows),
}

impl Reply {
    pub fn ok(self) -> Ok {
        match self {
            Reply::Ok(o) => o,
            other => panic!("expected OK, got {other:?}"),
        }
    }
    pub fn err(self) -> Err {
        match self {
            Reply::Err(e) => e,
            other => panic!("expected ERR, got {other:?}"),
        }
    }
    pub fn rows(self) -> Rows {
        match self {
            Reply::Rows(r) => r,
            other => panic!("expected rows, got {other:?}"),
        }
    }
}

pub fn parse_ok(p: &[u8]) -> Ok {
    let mut r = Reader::new(p);
    let h = r.u8();
    assert!(h == 0x00 || h == 0xFE, "not an OK packet: {p:?}");
    let affected = r.lenenc_int().unwrap();
    let last_insert_id = r.lenenc_int().unwrap();
    let status = r.u16();
    let warnings = r.u16();
    // The info is a length-encoded string (as MySQL sends it), when present.
    let info = if r.b.is_empty() {
        String::new()
    } else {
        String::from_utf8_lossy(r.lenenc_str().unwrap()).into_owned()
    };
    assert!(r.b.is_empty(), "trailing bytes in an OK packet: {p:?}");
    Ok {
        affected,
        last_insert_id,
        status,
        warnings,
        info,
    }
}

pub fn parse_err(p: &[u8]) -> Err {
    let mut r = Reader::new(p);
    assert_eq!(r.u8(), 0xFF);
    let code = r.u16();
    assert_eq!(r.u8(), b'#');
    let state = String::from_utf8_lossy(r.take(5)).into_owned();
    Err {
        code,
        state,
        msg: String::from_utf8_lossy(r.b).into_owned(),
    }
}

pub fn parse_coldef(p: &[u8]) -> ColDef {
    let mut r = Reader::new(p);
    let s = |r: &mut Reader| String::from_utf8_lossy(r.lenenc_str().unwrap()).into_owned();
    assert_eq!(s(&mut r), "def");
    let schema = s(&mut r);
    let table = s(&mut r);
    let org_table = s(&mut r);
    let name = s(&mut r);
    let org_name = s(&mut r);
    assert_eq!(r.lenenc_int(), Some(0x0C));
    let charset = r.u16();
    let length = r.u32();
    let ty = r.u8();
    let flags = r.u16();
    let decimals = r.u8();
    ColDef {
        schema,
        table,
        org_table,
        name,
        org_name,
        charset,
        length,
        ty,
        flags,
        decimals,
    }
}

// ---- the raw client ----------------------------------------------------

/// The client's transport: TCP, or TLS after [`Client::start_tls`].
pub trait ClientIo: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> ClientIo for T {}

pub struct Client {
    pub stream: Box<dyn ClientIo>,
    pub greeting: Greeting,
    pub caps: u32,
    buf: Vec<u8>,
    /// Sequence id of the handshake response: 1, or 2 after an SSLRequest.
    response_seq: u8,
    pub tls: bool,
    /// What the authentication exchange went through: "switch:<plugin>",
    /// "fast", "full", "public-key".
    pub auth_trace: Vec<String>,
}

pub struct Login<'a> {
    pub user: &'a str,
    pub password: &'a str,
    pub db: Option<&'a str>,
    pub caps: u32,
    pub plugin: &'a str,
    /// Full caching_sha2 authentication over plain TCP: fetch the public
    /// key and send the password RSA-encrypted (false: send it in clear,
    /// which a server must refuse).
    pub rsa: bool,
}

impl Default for Login<'_> {
    fn default() -> Self {
        Login {
            user: "root",
            password: "",
            db: None,
            caps: PYMYSQL_CAPS,
            plugin: "mysql_native_password",
            rsa: true,
        }
    }
}

impl Client {
    /// Connects and reads the greeting (no login yet).
    pub async fn open(port: u16) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut c = Client {
            stream: Box::new(stream),
            greeting: dummy_greeting(),
            caps: 0,
            buf: Vec::new(),
            response_seq: 1,
            tls: false,
            auth_trace: Vec::new(),
        };
        let (_, p) = c.read_packet().await;
        c.greeting = parse_greeting(&p);
        c
    }

    /// Connects and logs in; panics unless the server answers OK.
    pub async fn connect(port: u16) -> Client {
        Self::connect_with(port, Login::default()).await
    }

    pub async fn connect_with(port: u16, login: Login<'_>) -> Client {
        let mut c = Client::open(port).await;
        let reply = c.login(&login).await;
        assert!(matches!(reply, Reply::Ok(_)), "login failed: {reply:?}");
        c
    }

    /// Sends an SSLRequest with `caps` and runs the TLS handshake, which
    /// fails if the server's certificate does not verify for 127.0.0.1.
    pub async fn start_tls(
        &mut self,
        connector: &tokio_rustls::TlsConnector,
        caps: u32,
    ) -> std::io::Result<()> {
        let mut p = (caps | SSL).to_le_bytes().to_vec();
        p.extend_from_slice(&16_777_215u32.to_le_bytes());
        p.push(45);
        p.extend_from_slice(&[0; 23]);
        self.send(&frame(1, &p)).await;
        let tcp = std::mem::replace(&mut self.stream, Box::new(tokio::io::duplex(1).0));
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let tls = tokio::time::timeout(IO_TIMEOUT, connector.connect(name, tcp))
            .await
            .expect("TLS handshake timed out")?;
        self.stream = Box::new(tls);
        self.response_seq = 2;
        self.tls = true;
        Ok(())
    }

    /// Sends the handshake response and plays whatever authentication
    /// exchange the server starts; returns the server's verdict.
    pub async fn login(&mut self, login: &Login<'_>) -> Reply {
        let mut caps = login.caps;
        if login.db.is_some() {
            caps |= CONNECT_WITH_DB;
        }
        if self.tls {
            caps |= SSL;
        }
        self.caps = caps & self.greeting.caps;
        let salt = self.greeting.salt.clone();
        let auth = scramble_for(login.plugin, login.password, &salt);
        let mut p = caps.to_le_bytes().to_vec();
        p.extend_from_slice(&16_777_215u32.to_le_bytes());
        p.push(45);
        p.extend_from_slice(&[0; 23]);
        p.extend_from_slice(login.user.as_bytes());
        p.push(0);
        if caps & LENENC_AUTH != 0 {
            lenenc_str(&mut p, &auth);
        } else {
            p.push(auth.len() as u8);
            p.extend_from_slice(&auth);
        }
        if let Some(db) = login.db {
            p.extend_from_slice(db.as_bytes());
            p.push(0);
        }
        if caps & PLUGIN_AUTH != 0 {
            p.extend_from_slice(login.plugin.as_bytes());
            p.push(0);
        }
        self.send(&frame(self.response_seq, &p)).await;
        let mut salt = salt;
        loop {
            let (seq, reply) = self.read_packet().await;
            let next = seq.wrapping_add(1);
            match reply.first() {
                Some(0xFE) if reply.len() > 1 => {
                    // Auth switch: [0xFE, plugin NUL, salt NUL].
                    let mut r = Reader::new(&reply[1..]);
                    let plugin = String::from_utf8_lossy(r.nul_str()).into_owned();
                    salt = r.take(20).to_vec();
                    self.auth_trace.push(format!("switch:{plugin}"));
                    let auth = scramble_for(&plugin, login.password, &salt);
                    self.send(&frame(next, &auth)).await;
                }
                Some(0x01) if reply == [0x01, 0x03] => self.auth_trace.push("fast".into()),
                Some(0x01) if reply == [0x01, 0x04] => {
                    self.auth_trace.push("full".into());
                    let mut clear = login.password.as_bytes().to_vec();
                    clear.push(0);
                    if self.tls || !login.rsa {
                        self.send(&frame(next, &clear)).await;
                    } else {
                        self.send(&frame(next, &[0x02])).await;
                    }
                }
                Some(0x01) => {
                    self.auth_trace.push("public-key".into());
                    let pem = std::str::from_utf8(&reply[1..]).unwrap();
                    let sent = rsa_encrypt_password(pem, login.password, &salt);
                    self.send(&frame(next, &sent)).await;
                }
                _ => return self.classify_single(&reply),
            }
        }
    }

    fn classify_single(&self, p: &[u8]) -> Reply {
        match p.first() {
            Some(0x00) => Reply::Ok(parse_ok(p)),
            Some(0xFF) => Reply::Err(parse_err(p)),
            _ => panic!("unexpected packet {p:?}"),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        tokio::time::timeout(IO_TIMEOUT, self.stream.write_all(bytes))
            .await
            .expect("write timed out")
            .unwrap();
    }

    pub async fn read_packet(&mut self) -> (u8, Vec<u8>) {
        self.try_read_packet().await.expect("connection closed")
    }

    /// `None` when the server closed the connection.
    pub async fn try_read_packet(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut payload = Vec::new();
        loop {
            while self.buf.len() < 4 {
                if !self.fill().await {
                    assert!(
                        self.buf.is_empty() && payload.is_empty(),
                        "closed mid-packet"
                    );
                    return None;
                }
            }
            let len = u32::from_le_bytes([self.buf[0], self.buf[1], self.buf[2], 0]) as usize;
            let seq = self.buf[3];
            while self.buf.len() < 4 + len {
                assert!(self.fill().await, "closed mid-packet");
            }
            payload.extend_from_slice(&self.buf[4..4 + len]);
            self.buf.drain(..4 + len);
            if len < 0xFF_FFFF {
                return Some((seq, payload));
            }
        }
    }

    async fn fill(&mut self) -> bool {
        let mut tmp = [0u8; 65536];
        let n = tokio::time::timeout(IO_TIMEOUT, self.stream.read(&mut tmp))
            .await
            .expect("read timed out")
            .unwrap_or(0);
        self.buf.extend_from_slice(&tmp[..n]);
        n > 0
    }

    /// Whether the server has closed the connection (EOF within the timeout).
    pub async fn is_closed(&mut self) -> bool {
        self.try_read_packet().await.is_none()
    }

    fn deprecate_eof(&self) -> bool {
        self.caps & DEPRECATE_EOF != 0
    }

    /// Reads one complete reply to a command (OK, ERR or a result set).
    pub async fn read_reply(&mut self, binary: bool) -> Reply {
        let (_, first) = self.read_packet().await;
        match first[0] {
            0x00 => return Reply::Ok(parse_ok(&first)),
            0xFF => return Reply::Err(parse_err(&first)),
            _ => {}
        }
        let n = Reader::new(&first).lenenc_int().unwrap() as usize;
        let mut cols = Vec::with_capacity(n);
        for _ in 0..n {
            let (_, p) = self.read_packet().await;
            cols.push(parse_coldef(&p));
        }
        if !self.deprecate_eof() {
            let (_, eof) = self.read_packet().await;
            assert_eq!(eof[0], 0xFE, "EOF after column definitions");
            assert_eq!(eof.len(), 5);
        }
        let mut rows = Vec::new();
        let mut raw = Vec::new();
        loop {
            let (_, p) = self.read_packet().await;
            // Binary rows start with 0x00, so 0xFE can only end them; a
            // text row starting with 0xFE is at least 9 bytes (and, with
            // DEPRECATE_EOF, at least 16 MiB).
            let is_end = p[0] == 0xFE
                && (binary
                    || if self.deprecate_eof() {
                        p.len() < 0xFF_FFFF
                    } else {
                        p.len() < 9
                    });
            if is_end {
                let (status, warnings) = if self.deprecate_eof() {
                    let ok = parse_ok(&p);
                    (ok.status, ok.warnings)
                } else {
                    let mut r = Reader::new(&p[1..]);
                    let w = r.u16();
                    (r.u16(), w)
                };
                return Reply::Rows(Rows {
                    cols,
                    rows,
                    raw,
                    end_status: status,
                    end_warnings: warnings,
                });
            }
            if p[0] == 0xFF {
                return Reply::Err(parse_err(&p));
            }
            if binary {
                raw.push(p);
            } else {
                let mut r = Reader::new(&p);
                let row = (0..n).map(|_| r.lenenc_str().map(|b| b.to_vec())).collect();
                assert!(r.b.is_empty(), "trailing bytes in a text row");
                rows.push(row);
            }
        }
    }

    pub async fn query(&mut self, sql: &str) -> Reply {
        self.query_bytes(sql.as_bytes()).await
    }

    pub async fn query_bytes(&mut self, sql: &[u8]) -> Reply {
        self.send(&command(COM_QUERY, sql)).await;
        self.read_reply(false).await
    }

    /// COM_STMT_PREPARE; returns (id, param count, column count) after
    /// reading all definitions.
    pub async fn prepare(&mut self, sql: &str) -> std::result::Result<(u32, u16, u16), Err> {
        self.send(&command(COM_STMT_PREPARE, sql.as_bytes())).await;
        let (_, p) = self.read_packet().await;
        if p[0] == 0xFF {
            return Err(parse_err(&p));
        }
        let mut r = Reader::new(&p);
        assert_eq!(r.u8(), 0);
        let id = r.u32();
        let cols = r.u16();
        let params = r.u16();
        for group in [params, cols] {
            if group > 0 {
                for _ in 0..group {
                    let (_, d) = self.read_packet().await;
                    parse_coldef(&d);
                }
                if !self.deprecate_eof() {
                    let (_, eof) = self.read_packet().await;
                    assert_eq!(eof[0], 0xFE);
                }
            }
        }
        Ok((id, params, cols))
    }

    pub async fn execute(&mut self, id: u32, params: &[Param]) -> Reply {
        self.send(&command(COM_STMT_EXECUTE, &execute_body(id, params, true)))
            .await;
        self.read_reply(true).await
    }
}

/// A typed parameter for COM_STMT_EXECUTE.
#[derive(Debug, Clone)]
pub enum Param {
    Null,
    Tiny(i8),
    LongLong(i64),
    ULongLong(u64),
    Double(f64),
    Str(String),
    Blob(Vec<u8>),
    Date(u16, u8, u8),
}

pub fn execute_body(id: u32, params: &[Param], send_types: bool) -> Vec<u8> {
    let mut b = id.to_le_bytes().to_vec();
    b.push(0);
    b.extend_from_slice(&1u32.to_le_bytes());
    if params.is_empty() {
        return b;
    }
    let mut bitmap = vec![0u8; params.len().div_ceil(8)];
    for (i, p) in params.iter().enumerate() {
        if matches!(p, Param::Null) {
            bitmap[i / 8] |= 1 << (i % 8);
        }
    }
    b.extend_from_slice(&bitmap);
    b.push(send_types as u8);
    if send_types {
        for p in params {
            let (t, f) = match p {
                Param::Null => (0x06, 0),
                Param::Tiny(_) => (0x01, 0),
                Param::LongLong(_) => (0x08, 0),
                Param::ULongLong(_) => (0x08, 0x80),
                Param::Double(_) => (0x05, 0),
                Param::Str(_) => (0xFD, 0),
                Param::Blob(_) => (0xFC, 0),
                Param::Date(..) => (0x0A, 0),
            };
            b.extend_from_slice(&[t, f]);
        }
    }
    for p in params {
        match p {
            Param::Null => {}
            Param::Tiny(v) => b.push(*v as u8),
            Param::LongLong(v) => b.extend_from_slice(&v.to_le_bytes()),
            Param::ULongLong(v) => b.extend_from_slice(&v.to_le_bytes()),
            Param::Double(v) => b.extend_from_slice(&v.to_le_bytes()),
            Param::Str(s) => lenenc_str(&mut b, s.as_bytes()),
            Param::Blob(v) => lenenc_str(&mut b, v),
            Param::Date(y, m, d) => {
                b.push(4);
                b.extend_from_slice(&y.to_le_bytes());
                b.push(*m);
                b.push(*d);
            }
        }
    }
    b
}

fn dummy_greeting() -> Greeting {
    Greeting {
        version: String::new(),
        conn_id: 0,
        salt: vec![],
        caps: 0,
        charset: 0,
        status: 0,
        plugin: String::new(),
    }
}

pub fn parse_greeting(p: &[u8]) -> Greeting {
    let mut r = Reader::new(p);
    assert_eq!(r.u8(), 10, "protocol version");
    let version = String::from_utf8_lossy(r.nul_str()).into_owned();
    let conn_id = r.u32();
    let mut salt = r.take(8).to_vec();
    assert_eq!(r.u8(), 0);
    let lo = r.u16() as u32;
    let charset = r.u8();
    let status = r.u16();
    let hi = r.u16() as u32;
    let auth_len = r.u8() as usize;
    r.take(10);
    let part2 = r.take(auth_len.saturating_sub(8).max(13));
    salt.extend_from_slice(&part2[..part2.len() - 1]);
    let plugin = String::from_utf8_lossy(r.nul_str()).into_owned();
    Greeting {
        version,
        conn_id,
        salt,
        caps: lo | hi << 16,
        charset,
        status,
        plugin,
    }
}

// ---- the fake backend ----------------------------------------------------

/// What the fake saw, for assertions.
#[derive(Debug, Default)]
pub struct Journal {
    pub sessions: Vec<(u32, String)>,
    pub found_rows: Vec<bool>,
    pub queries: Vec<String>,
    pub executes: Vec<(u32, Vec<Value>)>,
    pub closed_statements: Vec<u32>,
    pub sessions_closed: usize,
    pub shutdowns: usize,
    /// (version, cipher) of every session that runs over TLS.
    pub tls: Vec<(String, String)>,
}

#[derive(Default)]
pub struct Fake {
    pub journal: Arc<Mutex<Journal>>,
    next_session: AtomicUsize,
}

impl Fake {
    pub fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap()
    }
}

#[async_trait]
impl Backend for Fake {
    fn new_session(&self, connection_id: u32, user: &str) -> Box<dyn SqlSession> {
        self.next_session.fetch_add(1, Ordering::Relaxed);
        self.journal()
            .sessions
            .push((connection_id, user.to_string()));
        Box::new(FakeSession {
            journal: self.journal.clone(),
            db: None,
            in_txn: false,
            autocommit: true,
            warnings: 0,
            stmts: HashMap::new(),
            next_stmt: 1,
        })
    }

    async fn shutdown(&self) -> Result<()> {
        self.journal().shutdowns += 1;
        Ok(())
    }
}

pub struct FakeSession {
    journal: Arc<Mutex<Journal>>,
    db: Option<String>,
    in_txn: bool,
    autocommit: bool,
    warnings: u16,
    stmts: HashMap<u32, (String, usize)>,
    next_stmt: u32,
}

pub fn col(name: &str, dt: DataType) -> ColumnInfo {
    let decimals = match dt {
        DataType::Double | DataType::Float => 31,
        _ => 0,
    };
    ColumnInfo {
        name: name.into(),
        org_name: name.into(),
        table: String::new(),
        org_table: String::new(),
        db: String::new(),
        data_type: dt,
        nullable: true,
        primary_key: false,
        auto_increment: false,
        decimals,
    }
}

fn rows(columns: Vec<ColumnInfo>, rows: Vec<Vec<Value>>) -> Output {
    Output::Rows(ResultSet { columns, rows })
}

fn big() -> DataType {
    DataType::Int {
        width: IntWidth::Big,
        unsigned: false,
    }
}

impl FakeSession {
    /// A tiny scripted "SQL" language; see the match arms.
    async fn run_one(&mut self, stmt: &str) -> Result<Output> {
        let s = stmt.trim();
        let upper = s.to_ascii_uppercase();
        if let Some(n) = upper
            .strip_prefix("SELECT ")
            .and_then(|r| r.trim().parse::<i64>().ok())
        {
            return Ok(rows(
                vec![col(&n.to_string(), big())],
                vec![vec![Value::Int(n)]],
            ));
        }
        if let Some(ms) = upper.strip_prefix("SLEEP ") {
            let ms: u64 = ms.trim().parse().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            return Ok(rows(
                vec![col("slept", big())],
                vec![vec![Value::Int(ms as i64)]],
            ));
        }
        if let Some(n) = upper.strip_prefix("SELECT ROWS ") {
            let n: i64 = n.trim().parse().unwrap_or(0);
            let data = (0..n)
                .map(|i| {
                    vec![
                        Value::Int(i),
                        Value::Str(format!("row number {i} {}", "x".repeat(100))),
                    ]
                })
                .collect();
            return Ok(rows(
                vec![col("i", big()), col("s", DataType::VarChar(255))],
                data,
            ));
        }
        if upper.starts_with("SELECT LENGTH ") {
            return Ok(rows(
                vec![col("len", big())],
                vec![vec![Value::Int(s.len() as i64)]],
            ));
        }
        match upper.as_str() {
            "SELECT TYPES" => Ok(rows(
                vec![
                    col("vec", DataType::Vector(Some(3))),
                    col("js", DataType::Json),
                    col(
                        "dec",
                        DataType::Decimal {
                            precision: 10,
                            scale: 2,
                        },
                    ),
                    col("txt", DataType::Text(TextKind::Normal)),
                    col("blb", DataType::Blob(TextKind::Normal)),
                    col("dist", DataType::Double),
                    col(
                        "u",
                        DataType::Int {
                            width: IntWidth::Int,
                            unsigned: true,
                        },
                    ),
                    col("dt", DataType::DateTime { fsp: 0 }),
                    col("nul", DataType::Null),
                ],
                vec![vec![
                    Value::vector(vec![0.1, 0.2, 0.3]),
                    Value::json(serde_json::json!({"a": 1})),
                    Value::Decimal("12.50".parse().unwrap()),
                    Value::Str("héllo".into()),
                    Value::Bytes(vec![0, 159, 146, 150]),
                    Value::Double(0.25),
                    Value::UInt(4_000_000_000),
                    Value::DateTime(
                        chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
                            .unwrap()
                            .and_hms_opt(13, 5, 9)
                            .unwrap(),
                    ),
                    Value::Null,
                ]],
            )),
            "SELECT MIXED" => Ok(rows(
                vec![col("m", DataType::Null)],
                vec![
                    vec![Value::Str("a".into())],
                    vec![Value::Null],
                    vec![Value::Str("b".into())],
                ],
            )),
            "SELECT ERR" => Err(Error::NoSuchTable {
                db: "test".into(),
                table: "nope".into(),
            }),
            "SELECT DDL" => Err(Error::UnsupportedDdl("Unsupported modify column".into())),
            "INSERT" => Ok(Output::Ok {
                affected_rows: 3,
                last_insert_id: 42,
                info: "Records: 3  Duplicates: 0  Warnings: 0".into(),
            }),
            "WARN" => {
                self.warnings = 2;
                Ok(Output::Ok {
                    affected_rows: 0,
                    last_insert_id: 0,
                    info: String::new(),
                })
            }
            "BEGIN" => {
                self.in_txn = true;
                Ok(Output::Ok {
                    affected_rows: 0,
                    last_insert_id: 0,
                    info: String::new(),
                })
            }
            "COMMIT" | "ROLLBACK" => {
                self.in_txn = false;
                Ok(Output::Ok {
                    affected_rows: 0,
                    last_insert_id: 0,
                    info: String::new(),
                })
            }
            "SET AUTOCOMMIT = 0" => {
                self.autocommit = false;
                Ok(Output::Ok {
                    affected_rows: 0,
                    last_insert_id: 0,
                    info: String::new(),
                })
            }
            "SELECT DATABASE()" => Ok(rows(
                vec![col("DATABASE()", DataType::VarChar(64))],
                vec![vec![self.db.clone().map_or(Value::Null, Value::Str)]],
            )),
            "SELECT @@MAX_ALLOWED_PACKET" => Ok(rows(
                vec![col("@@max_allowed_packet", big())],
                vec![vec![Value::Int(1234)]],
            )),
            _ => Err(Error::Parse {
                line: 1,
                column: 0,
                near: s.to_string(),
            }),
        }
    }
}

#[async_trait]
impl SqlSession for FakeSession {
    async fn execute(&mut self, sql: &str, multi: bool) -> Vec<Result<Output>> {
        self.journal.lock().unwrap().queries.push(sql.to_string());
        self.warnings = 0;
        let stmts: Vec<&str> = sql.split(';').filter(|s| !s.trim().is_empty()).collect();
        if stmts.len() > 1 && !multi {
            return vec![Err(Error::Parse {
                line: 1,
                column: 0,
                near: sql.to_string(),
            })];
        }
        let mut out = Vec::new();
        for s in stmts {
            let r = self.run_one(s).await;
            let stop = r.is_err();
            out.push(r);
            if stop {
                break;
            }
        }
        out
    }

    async fn prepare(&mut self, sql: &str) -> Result<PreparedInfo> {
        if sql.to_ascii_uppercase().contains("BAD") {
            return Err(Error::Parse {
                line: 1,
                column: 0,
                near: sql.into(),
            });
        }
        let params = sql.matches('?').count();
        let id = self.next_stmt;
        self.next_stmt += 1;
        self.stmts.insert(id, (sql.to_string(), params));
        let columns = if sql.to_ascii_uppercase().starts_with("SELECT") {
            (0..params)
                .map(|i| col(&format!("p{i}"), DataType::Null))
                .collect()
        } else {
            vec![]
        };
        Ok(PreparedInfo {
            id,
            param_count: params,
            columns,
        })
    }

    async fn execute_prepared(&mut self, id: u32, params: Vec<Value>) -> Result<Output> {
        self.journal
            .lock()
            .unwrap()
            .executes
            .push((id, params.clone()));
        let Some((sql, n)) = self.stmts.get(&id) else {
            return Err(Error::UnknownStatement(id.to_string(), "EXECUTE".into()));
        };
        assert_eq!(
            *n,
            params.len(),
            "the server must pass one value per placeholder"
        );
        if sql.to_ascii_uppercase().starts_with("SELECT") {
            let columns = (0..params.len())
                .map(|i| col(&format!("p{i}"), DataType::Null))
                .collect();
            Ok(rows(columns, vec![params]))
        } else {
            Ok(Output::Ok {
                affected_rows: 1,
                last_insert_id: 7,
                info: String::new(),
            })
        }
    }

    fn close_prepared(&mut self, id: u32) {
        self.stmts.remove(&id);
        self.journal.lock().unwrap().closed_statements.push(id);
    }

    fn use_database(&mut self, db: &str) -> Result<()> {
        if db == "test" || db == "other" {
            self.db = Some(db.into());
            Ok(())
        } else {
            Err(Error::UnknownDatabase(db.into()))
        }
    }

    fn field_list(&self, table: &str) -> Result<Vec<ColumnInfo>> {
        if table != "t" {
            return Err(Error::NoSuchTable {
                db: self.db.clone().unwrap_or_default(),
                table: table.into(),
            });
        }
        let mut id = col(
            "id",
            DataType::Int {
                width: IntWidth::Int,
                unsigned: false,
            },
        );
        id.primary_key = true;
        id.nullable = false;
        id.table = "t".into();
        let mut name = col("name", DataType::VarChar(50));
        name.table = "t".into();
        Ok(vec![id, name])
    }

    fn set_found_rows(&mut self, on: bool) {
        self.journal.lock().unwrap().found_rows.push(on);
    }

    fn set_tls(&mut self, version: &str, cipher: &str) {
        self.journal
            .lock()
            .unwrap()
            .tls
            .push((version.to_string(), cipher.to_string()));
    }

    fn status(&self) -> StatusFlags {
        StatusFlags {
            autocommit: self.autocommit,
            in_transaction: self.in_txn,
        }
    }

    fn warning_count(&self) -> u16 {
        self.warnings
    }

    fn close(&mut self) {
        self.journal.lock().unwrap().sessions_closed += 1;
    }
}

// ---- starting servers ---------------------------------------------------

pub struct TestServer {
    pub port: u16,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::result::Result<(), tiembed_server::ServerError>>>,
}

impl TestServer {
    pub async fn start(backend: Arc<dyn Backend>, config: ServerConfig) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(tiembed_server::run_with_backend(
            listener,
            backend,
            config,
            async move {
                let _ = rx.await;
            },
        ));
        TestServer {
            port,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// Signals shutdown and waits for `run` to return.
    pub async fn stop(mut self) -> std::result::Result<(), tiembed_server::ServerError> {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(30), self.task.take().unwrap())
            .await
            .expect("shutdown hung")
            .unwrap()
    }
}

pub async fn fake_server() -> (Arc<Fake>, TestServer) {
    fake_server_with(ServerConfig::default()).await
}

pub async fn fake_server_with(config: ServerConfig) -> (Arc<Fake>, TestServer) {
    let fake = Arc::new(Fake::default());
    let server = TestServer::start(fake.clone(), config).await;
    (fake, server)
}

pub fn users(list: &[(&str, &str)]) -> Vec<User> {
    list.iter().map(|(n, p)| User::new(*n, *p)).collect()
}
