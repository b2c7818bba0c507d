//! The mysql_async driver of the per-client benchmark (`bench/clients`):
//! connects to any MySQL server, runs the 1,000 statements of
//! `script.json` (from `bench/clients/gen_script.py`) in order, fetches every
//! result and prints one JSON line like the Python drivers (elapsed seconds
//! with connect, a checksum of every row normalised as `common.py`
//! describes, the last two statements' rows, time per statement kind).
//!
//! ```sh
//! cargo build --release -p tiembed-tests --example clients_bench
//! clients_bench --port P --script script.json [--mode text|exec] [--db D] [--trace F]
//! ```
//!
//! `text` sends the literal SQL with `query_iter` (COM_QUERY); `exec` sends
//! the `?` templates with `exec_iter` (prepared statements, kept in the
//! connection's statement cache), except DDL and BEGIN/COMMIT/ROLLBACK, which
//! go as text. `prefer_socket=false`: mysql_async would otherwise switch a
//! loopback TCP connection to MariaDB's Unix socket.

use mysql_async::prelude::Queryable;
use mysql_async::{Params, Row, Value};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;

fn is_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && b[i] == b'-' {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == start {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let s2 = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s2 {
            return false;
        }
    }
    i == b.len()
}

fn norm(v: &Value) -> String {
    match v {
        Value::NULL => "NULL".to_string(),
        Value::Bytes(b) => {
            let s = String::from_utf8_lossy(b);
            if is_number(&s) {
                format!("{:.6}", s.parse::<f64>().unwrap_or(f64::NAN))
            } else {
                s.into_owned()
            }
        }
        Value::Int(x) => format!("{:.6}", *x as f64),
        Value::UInt(x) => format!("{:.6}", *x as f64),
        Value::Float(x) => format!("{:.6}", f64::from(*x)),
        Value::Double(x) => format!("{x:.6}"),
        Value::Date(y, mo, d, h, mi, s, us) => {
            let mut out = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
            if *us != 0 {
                out.push_str(&format!(".{us:06}"));
            }
            out
        }
        Value::Time(neg, d, h, m, s, us) => {
            format!(
                "{}{}:{m:02}:{s:02}.{us:06}",
                if *neg { "-" } else { "" },
                d * 24 + u32::from(*h)
            )
        }
    }
}

fn param(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::String(s) => Value::Bytes(s.clone().into_bytes()),
        serde_json::Value::Number(n) if n.is_i64() => Value::Int(n.as_i64().unwrap_or(0)),
        serde_json::Value::Number(n) => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::Null => Value::NULL,
        other => panic!("unexpected parameter {other}"),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut host = "127.0.0.1".to_string();
    let mut port = String::new();
    let mut db = "tiembed_clients".to_string();
    let mut user = "root".to_string();
    let mut script_path = String::new();
    let mut mode = "text".to_string();
    let mut trace_path: Option<String> = None;
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let val = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--host" => host = val,
            "--port" => port = val,
            "--db" => db = val,
            "--user" => user = val,
            "--script" => script_path = val,
            "--mode" => mode = val,
            "--trace" => trace_path = Some(val),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(
        !port.is_empty() && !script_path.is_empty(),
        "--port and --script are required"
    );
    assert!(mode == "text" || mode == "exec", "--mode text|exec");
    let script: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&script_path).expect("read script"))
            .expect("parse script");
    let stmts = script["statements"].as_array().expect("statements");
    struct Stmt {
        kind: String,
        sql: String,
        tmpl: String,
        params: Vec<Value>,
    }
    let stmts: Vec<Stmt> = stmts
        .iter()
        .map(|s| Stmt {
            kind: s["kind"].as_str().expect("kind").to_string(),
            sql: s["sql"].as_str().expect("sql").to_string(),
            tmpl: s["tmpl"].as_str().expect("tmpl").to_string(),
            params: s["params"]
                .as_array()
                .expect("params")
                .iter()
                .map(param)
                .collect(),
        })
        .collect();
    let text_kinds = ["ddl", "begin", "commit", "rollback"];

    let mut hasher = Sha256::new();
    let mut nrows = 0usize;
    let mut kinds: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    let mut trace: Vec<(usize, String, f64)> = Vec::with_capacity(stmts.len());
    let mut last: Vec<Vec<String>> = Vec::new();

    let t0 = Instant::now();
    let url = format!("mysql://{user}@{host}:{port}/{db}?prefer_socket=false");
    let mut conn = mysql_async::Conn::from_url(url).await.expect("connect");
    let connect = t0.elapsed().as_secs_f64();
    for (i, s) in stmts.iter().enumerate() {
        let t = Instant::now();
        let rows: Vec<Row> = if mode == "exec" && !text_kinds.contains(&s.kind.as_str()) {
            let params = if s.params.is_empty() {
                Params::Empty
            } else {
                Params::Positional(s.params.clone())
            };
            let r = conn.exec_iter(s.tmpl.as_str(), params).await;
            r.unwrap_or_else(|e| panic!("statement {i}: {e}"))
                .collect_and_drop()
                .await
                .unwrap_or_else(|e| panic!("statement {i}: {e}"))
        } else {
            let r = conn.query_iter(s.sql.as_str()).await;
            r.unwrap_or_else(|e| panic!("statement {i}: {e}"))
                .collect_and_drop()
                .await
                .unwrap_or_else(|e| panic!("statement {i}: {e}"))
        };
        let dt = t.elapsed().as_secs_f64();
        let k = kinds.entry(s.kind.clone()).or_insert((0, 0.0));
        k.0 += 1;
        k.1 += dt;
        trace.push((i, s.kind.clone(), dt));
        let lines: Vec<String> = rows
            .into_iter()
            .map(|r| {
                let vals: Vec<String> = r.unwrap().iter().map(norm).collect();
                vals.join("\t") + "\n"
            })
            .collect();
        for l in &lines {
            hasher.update(l.as_bytes());
        }
        nrows += lines.len();
        if i + 2 >= stmts.len() {
            last.push(lines);
        }
    }
    conn.disconnect().await.expect("disconnect");
    let elapsed = t0.elapsed().as_secs_f64();
    if let Some(p) = trace_path {
        std::fs::write(p, serde_json::to_string(&trace).expect("json")).expect("write trace");
    }
    let kinds_json: serde_json::Map<String, serde_json::Value> = kinds
        .into_iter()
        .map(|(k, (n, s))| (k, json!([n, s])))
        .collect();
    let tail: Vec<String> = last
        .iter()
        .flatten()
        .map(|l| l.trim_end_matches('\n').to_string())
        .collect();
    println!(
        "{}",
        json!({
            "client": if mode == "exec" { "mysql_async-exec" } else { "mysql_async-text" },
            "elapsed": elapsed,
            "connect": connect,
            "statements": stmts.len(),
            "rows": nrows,
            "checksum": hasher.hex(),
            "tail": tail,
            "kinds": kinds_json,
        })
    );
}

/// SHA-256 (FIPS 180-4), so that the checksum matches the other drivers'
/// without a new dependency.
struct Sha256 {
    h: [u32; 8],
    buf: Vec<u8>,
    len: u64,
}

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

impl Sha256 {
    fn new() -> Self {
        Sha256 {
            h: [
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                0x5be0cd19,
            ],
            buf: Vec::with_capacity(64),
            len: 0,
        }
    }

    fn update(&mut self, data: &[u8]) {
        self.len += data.len() as u64;
        for &b in data {
            self.buf.push(b);
            if self.buf.len() == 64 {
                let block: [u8; 64] = self.buf[..].try_into().expect("64 bytes");
                self.block(&block);
                self.buf.clear();
            }
        }
    }

    fn block(&mut self, block: &[u8; 64]) {
        let mut w = [0u32; 64];
        for (i, c) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = self.h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = h
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            h = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in self.h.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *x = x.wrapping_add(y);
        }
    }

    fn hex(mut self) -> String {
        let bits = self.len * 8;
        let mut pad = vec![0x80u8];
        while (self.buf.len() + pad.len()) % 64 != 56 {
            pad.push(0);
        }
        pad.extend_from_slice(&bits.to_be_bytes());
        let len = self.len;
        self.update(&pad);
        self.len = len;
        self.h.iter().map(|x| format!("{x:08x}")).collect()
    }
}
