"""Shared by the Python drivers of the per-client benchmark.

A driver connects, runs the 1,000 statements of script.json in order, fetches
every result, and prints one JSON line:

  {"client", "elapsed" (s, connect included), "connect" (s), "statements",
   "rows" (result rows fetched), "checksum" (sha256 of every result row,
   normalised), "tail" (the last two statements' rows: the COUNT(*)s),
   "kinds" {kind: [count, seconds]}}

Normalisation (the same in node_mysql2.js and the Rust example, so that text
and binary protocols, and both servers, give one checksum): NULL -> "NULL";
numbers, and strings that look like numbers -> "%.6f"; DATETIME ->
"YYYY-MM-DD HH:MM:SS"; bytes -> UTF-8 text; fields joined by TAB, rows end in
LF.
"""

import argparse
import datetime
import decimal
import hashlib
import json
import re
import sys
import time

TEXT_KINDS = {"ddl", "begin", "commit", "rollback"}
NUM = re.compile(r"^-?\d+(\.\d*)?([eE][+-]?\d+)?$")


def norm(v):
    if v is None:
        return "NULL"
    if isinstance(v, (bytes, bytearray)):
        v = v.decode("utf-8")
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, (int, float, decimal.Decimal)):
        return f"{float(v):.6f}"
    if isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S") + (f".{v.microsecond:06d}" if v.microsecond else "")
    if isinstance(v, datetime.date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, datetime.timedelta):
        return str(v)
    s = str(v)
    if NUM.match(s):
        return f"{float(s):.6f}"
    return s


def row_line(row):
    return "\t".join(norm(v) for v in row) + "\n"


def parse_args(client):
    ap = argparse.ArgumentParser(description=f"{client} driver of bench/clients")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", default="root")
    ap.add_argument("--password", default="")
    ap.add_argument("--db", default="tiembed_clients")
    ap.add_argument("--script", required=True, help="script.json from gen_script.py")
    ap.add_argument("--trace", help="write per-statement latencies (JSON) here")
    return ap


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Recorder:
    """Times statements, hashes rows, keeps the last results."""

    def __init__(self, client):
        self.client = client
        self.h = hashlib.sha256()
        self.rows = 0
        self.kinds = {}
        self.trace = []
        self.last = []  # row lines of the most recent statements
        self.t0 = time.perf_counter()
        self.connect = None

    def connected(self):
        self.connect = time.perf_counter() - self.t0

    def result(self, rows):
        lines = [row_line(r) for r in rows]
        for line in lines:
            self.h.update(line.encode("utf-8"))
        self.rows += len(lines)
        self.last.append(lines)
        if len(self.last) > 2:
            self.last.pop(0)

    def stmt(self, i, kind, dt):
        k = self.kinds.setdefault(kind, [0, 0.0])
        k[0] += 1
        k[1] += dt
        self.trace.append((i, kind, dt))

    def finish(self, n, trace_path=None, elapsed=None):
        if elapsed is None:
            elapsed = time.perf_counter() - self.t0
        if trace_path:
            with open(trace_path, "w") as f:
                json.dump(self.trace, f)
        out = {
            "client": self.client,
            "elapsed": elapsed,
            "connect": self.connect,
            "statements": n,
            "rows": self.rows,
            "checksum": self.h.hexdigest(),
            "tail": [l.rstrip("\n") for ls in self.last for l in ls],
            "kinds": self.kinds,
        }
        print(json.dumps(out))
        sys.stdout.flush()


def run_dbapi(client, connect, cursor_kw=None, use_tmpl=False, cursor_per_template=False):
    """The common loop for DB-API drivers. connect(args) -> connection;
    with use_tmpl, statements are sent as (tmpl, params) instead of literal SQL."""
    args = parse_args(client).parse_args()
    script = load(args.script)
    stmts = script["statements"]
    rec = Recorder(client)
    conn = connect(args)
    cur = conn.cursor(**(cursor_kw or {}))
    # DDL and BEGIN/COMMIT/ROLLBACK go through a plain (text-protocol) cursor
    # even in prepared mode, as an application's conn.commit() would.
    text_cur = conn.cursor() if use_tmpl else cur
    # With cursor_per_template, each distinct statement gets its own cursor
    # (and the same str object every time), as an application holding one
    # prepared statement per query would: mysql-connector's prepared cursor
    # re-prepares whenever it is given another operation (an identity
    # check), closing the old statement first.
    per_template = {} if cursor_per_template else None
    tmpls = {s["tmpl"]: s["tmpl"] for s in stmts}
    rec.connected()
    perf = time.perf_counter
    for i, s in enumerate(stmts):
        t = perf()
        c = cur
        if not use_tmpl or s["kind"] in TEXT_KINDS:
            c = text_cur
            c.execute(s["sql"])
        elif per_template is not None:
            c = per_template.get(s["tmpl"])
            if c is None:
                c = per_template[s["tmpl"]] = conn.cursor(**(cursor_kw or {}))
            c.execute(tmpls[s["tmpl"]], tuple(s["params"]))
        elif s["params"]:
            c.execute(s["tmpl"], tuple(s["params"]))
        else:
            c.execute(s["tmpl"])
        rows = c.fetchall() if c.description is not None else None
        rec.stmt(i, s["kind"], perf() - t)
        if rows is not None:
            rec.result(rows)
        elif s["kind"] == "final":
            raise SystemExit(f"{client}: statement {i} returned no result set")
    for c in (per_template or {}).values():
        c.close()
    cur.close()
    if text_cur is not cur:
        text_cur.close()
    conn.close()
    rec.finish(len(stmts), args.trace)
