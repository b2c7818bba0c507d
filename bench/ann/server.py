#!/usr/bin/env python3
"""End-to-end VECTOR INDEX benchmark of the tiembed server, over the wire.

    ~/.cache/tiembed-venv/bin/python bench/ann/server.py \\
        [--bin target/release/tiembed] [--rows 100000] [--queries 200] \\
        [--work ~/.cache/tiembed-bench-ann/server] [--keep]

Where bench/ann/run.sh measures the HNSW engine through its Rust API, this
measures what a client sees: it starts the server binary (a copy, so a
rebuild during the run cannot swap it) on a free loopback port with a fresh
data directory, then

  1. creates `t (id INT PRIMARY KEY, v VECTOR(384))` and loads --rows
     clustered unit vectors with multi-row INSERTs (rows/s);
  2. ALTER TABLE ... ADD VECTOR INDEX and polls TIFLASH_INDEXES every 2 s
     until ROWS_STABLE_NOT_INDEXED = 0 (build seconds);
  3. ranks --queries held-out vectors exactly (`ORDER BY VEC_COSINE_DISTANCE
     (v, q) + 0 LIMIT 10`, which cannot use the index: the reference and
     the exact QPS), then through the index (`... LIMIT 10`, EXPLAIN shows
     annIndex:COSINE) at tiembed_hnsw_ef_search 16/32/64/128/256: recall@10
     against the exact answers and single-client sequential QPS; plus one
     row with 2 concurrent clients at the default ef (client processes);
     server CPU per query (from /proc) beside each QPS, which a busy
     machine disturbs less; then 2000 sampled rows looked up by their own
     vector at ef 256 (a row not returned first has no links to it);
  4. reads the server's VmRSS after the load, the build and the restart;
  5. SIGTERMs it, restarts it on the same data directory and times process
     start -> first ANN answer, and the load from its "vector index loaded"
     log line.

The vectors are bench/ann's: a numpy port of crates/ann/src/synth.rs
(`Clustered::new(384, 200, 2024)`, 10 000-row chunks seeded 1000 + chunk,
queries seeded 7), so they equal ann_bench's base.f32 / queries.f32 up to
float rounding and the figures compare with run.sh's. Values go over the
wire with 7 significant digits, as '[0.01234567,...]'.

Needs PyMySQL and numpy (both in ~/.cache/tiembed-venv, which
scripts/setup.sh makes). The server is killed when this script exits or
fails. Not a test: CI does not run it.
"""

import argparse
import atexit
import ctypes
import glob
import multiprocessing as mp
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pymysql

DIM = 384
K = 10
EFS = [16, 32, 64, 128, 256]
DEFAULT_EF = 64  # HNSW_DEFAULTS.ef_search: what tiembed_hnsw_ef_search = 0 means
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DB = "annbench"
SELF_SAMPLE = 2000  # rows looked up by their own vector (reachability check)
SELF_EF = 256
# The ann_store module logs its file saves at debug level; the rest at info.
LOG_FILTER = "info,tiembed_executor::ann_store=debug"


# ---------------------------------------------------------------------------
# Data: numpy port of crates/ann/src/synth.rs (same seeds, same draw order)

LATENT = 24
GAMMA = np.uint64(0x9E3779B97F4A7C15)


def splitmix(seed, count):
    """The first `count` outputs of synth.rs's SplitMix64 from `seed`. Its
    state after k calls is seed + k * GAMMA, so the whole stream is one
    vectorised expression (uint64 arithmetic wraps, as in Rust)."""
    k = np.arange(1, count + 1, dtype=np.uint64)
    z = np.uint64(seed) + k * GAMMA
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def normals(u):
    """Rng::normal (Box-Muller in f64, then f32) on consecutive pairs of
    draws along the last axis."""
    x = (u >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    u1 = np.maximum(x[..., 0::2], np.finfo(np.float64).tiny)
    u2 = x[..., 1::2]
    return (np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)).astype(np.float32)


def normalise(v):
    n = np.sqrt((v * v).sum(axis=-1, keepdims=True, dtype=np.float32))
    return (v / np.where(n > 0, n, 1)).astype(np.float32)


class Clustered:
    """synth::Clustered: each vector is a cluster centre, plus a point of a
    cluster-specific 24-d subspace, plus a little noise, normalised (what
    sentence embeddings look like; uniform random points would make every
    graph index look bad)."""

    def __init__(self, dim, clusters, seed):
        self.dim, self.clusters = dim, clusters
        n = normals(splitmix(seed, 2 * clusters * dim * (1 + LATENT)))
        self.centres = normalise(n[: clusters * dim].reshape(clusters, dim))
        scale = np.float32(1) / np.sqrt(np.float32(dim))
        self.bases = (n[clusters * dim:] * scale).reshape(clusters, dim, LATENT)

    def fill(self, seed, count):
        """Clustered::fill(seed) of `count` vectors: per vector one draw
        picks the cluster, 2 x LATENT make the latent point, 2 x dim the
        noise."""
        per = 1 + 2 * LATENT + 2 * self.dim
        u = splitmix(seed, count * per).reshape(count, per)
        cluster = (u[:, 0] % np.uint64(self.clusters)).astype(np.intp)
        z = normals(u[:, 1: 1 + 2 * LATENT]) * np.float32(0.6) / np.sqrt(np.float32(LATENT))
        noise = np.float32(0.25) / np.sqrt(np.float32(self.dim))
        out = self.centres[cluster] + noise * normals(u[:, 1 + 2 * LATENT:])
        for c in np.unique(cluster):  # one matmul per cluster, not per row
            rows = np.nonzero(cluster == c)[0]
            out[rows] += z[rows] @ self.bases[c].T
        return normalise(out)


def base_chunks(gen, n, chunk=10_000):
    """(first row, vectors) in ann_bench's chunks: chunk i seeded 1000 + i."""
    for i, start in enumerate(range(0, n, chunk)):
        yield start, gen.fill(1000 + i, min(chunk, n - start))


def literal(v):
    return "[" + ",".join(map("{:.7g}".format, v.tolist())) + "]"


class TopK:
    """Running exact top-K by inner product over chunks of the base: the
    client's own answer, to check the server's exact scan against."""

    def __init__(self, queries):
        self.q = queries
        self.score = np.full((len(queries), K), -np.inf, dtype=np.float32)
        self.ids = np.zeros((len(queries), K), dtype=np.int64)

    def add(self, first_id, vectors):
        s = self.q @ vectors.T  # queries x rows
        score = np.concatenate([self.score, s], axis=1)
        ids = np.concatenate([self.ids, np.broadcast_to(first_id + np.arange(len(vectors)), s.shape)], axis=1)
        top = np.argsort(-score, axis=1)[:, :K]
        self.score = np.take_along_axis(score, top, axis=1)
        self.ids = np.take_along_axis(ids, top, axis=1)


# ---------------------------------------------------------------------------
# The server process

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    """Runs in the child before exec: Linux sends it SIGKILL if this script
    dies, even by SIGKILL, so no server outlives a crashed benchmark."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Server:
    def __init__(self, binary, data_dir, log_path):
        self.binary, self.data_dir, self.log_path = binary, data_dir, log_path
        self.proc = None
        self.port = None

    def start(self):
        """Spawns the server; returns the perf_counter time of the spawn."""
        self.port = free_port()
        self.log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        log = open(self.log_path, "ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIEMBED_")}
        env["RUST_LOG"] = LOG_FILTER
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [self.binary, "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.data_dir],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            cwd=os.path.dirname(self.data_dir), preexec_fn=die_with_parent)
        log.close()
        return t0

    def connect(self, timeout=120.0, database=DB):
        """A connection, retried until the server answers (or exits)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; log:\n{self.log_tail()}")
            try:
                return pymysql.connect(host="127.0.0.1", port=self.port, user="root", password="",
                                       database=database, autocommit=True, connect_timeout=5,
                                       read_timeout=1800, write_timeout=600)
            except (pymysql.err.OperationalError, pymysql.err.InterfaceError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not answer within {timeout:.0f} s; log:\n{self.log_tail()}")
                time.sleep(0.02)

    def rss(self, field="VmRSS"):
        """Bytes of /proc/<pid>/status `field` (VmRSS now, VmHWM peak)."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def cpu(self):
        """CPU-seconds (user + system) the server has used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout=300.0):
        """SIGTERM (the server saves unsaved index changes), wait; SIGKILL
        after `timeout`. Returns (seconds to exit, exit code)."""
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            print(f"WARNING: server did not exit within {timeout:.0f} s of SIGTERM; killed", flush=True)
        self.proc = None
        return time.perf_counter() - t0, rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def log_since_start(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.log_offset)
            return f.read().decode(errors="replace")

    def log_tail(self, lines=30):
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])


def log_field(text, message, field):
    """`field=` of the last log line containing `message`, or None."""
    value = None
    for line in text.splitlines():
        if message in line:
            m = re.search(rf"\b{field}=([0-9.]+)", line)
            if m:
                value = float(m.group(1))
                value = int(value) if value.is_integer() else value
    return value


# ---------------------------------------------------------------------------
# Workload steps

def create_table(srv):
    c = srv.connect(database=None)
    cur = c.cursor()
    cur.execute(f"CREATE DATABASE {DB}")
    cur.execute(f"USE {DB}")
    cur.execute(f"CREATE TABLE t (id INT PRIMARY KEY, v VECTOR({DIM}))")
    return c


def insert_rows(conn, gen, n, batch, truth, sample_every):
    """Multi-row INSERTs of the n base vectors (ids 1..n), one transaction
    each; also feeds `truth` each chunk. The client makes a statement, then
    sends it: generating and formatting costs about as much CPU as the
    server spends, and overlapping them on a small machine would slow the
    server down. Returns (wall seconds, seconds inside execute(), [(id,
    literal)] of every sample_every-th row)."""
    cur = conn.cursor()
    in_server, done, sample = 0.0, 0, []
    t0 = next_report = time.perf_counter()
    for first, vecs in base_chunks(gen, n):
        truth.add(first, vecs)
        for s in range(0, len(vecs), batch):
            rows = [(first + s + i + 1, literal(v)) for i, v in enumerate(vecs[s: s + batch])]
            sample += [r for r in rows if r[0] % sample_every == 0]
            values = ",".join(f"({i},'{lit}')" for i, lit in rows)
            t = time.perf_counter()
            cur.execute("INSERT INTO t (id, v) VALUES " + values)
            in_server += time.perf_counter() - t
            done += len(rows)
        if time.perf_counter() > next_report + 30:
            next_report = time.perf_counter()
            print(f"  {done} rows, {done / in_server:.0f} rows/s inside INSERT", flush=True)
    wall = time.perf_counter() - t0
    cur.execute("SELECT COUNT(*) FROM t")
    (count,) = cur.fetchone()
    if count != n:
        raise RuntimeError(f"table has {count} rows after loading {n}")
    return wall, in_server, sample


def index_progress(cur):
    cur.execute("SELECT ROWS_STABLE_INDEXED, ROWS_STABLE_NOT_INDEXED FROM INFORMATION_SCHEMA.TIFLASH_INDEXES "
                f"WHERE TIDB_DATABASE = '{DB}' AND TIDB_TABLE = 't' AND INDEX_NAME = 'idx'")
    row = cur.fetchone()
    if row is None:
        raise RuntimeError("no row for idx in INFORMATION_SCHEMA.TIFLASH_INDEXES")
    return int(row[0]), int(row[1])


def ann_sql(q):
    return f"SELECT id FROM t ORDER BY VEC_COSINE_DISTANCE(v, '{q}') LIMIT {K}"


def exact_sql(q):
    return f"SELECT id FROM t ORDER BY VEC_COSINE_DISTANCE(v, '{q}') + 0 LIMIT {K}"


def ann_used(cur, q):
    """Runs the ANN query; False if the server ranked exactly instead
    (it warns while the index is still being built)."""
    cur.execute(ann_sql(q))
    cur.fetchall()
    cur.execute("SHOW WARNINGS")
    return not any("ANN index not used" in str(w[2]) for w in cur.fetchall())


def build_index(srv, conn, first_query, timeout):
    """ALTER, then TIFLASH_INDEXES every 2 s (each poll counts the table's
    rows, a full scan, so faster polling would slow the build) until
    NOT_INDEXED = 0; then until a query really uses the index and the
    saved file is there. Returns a dict of seconds since the ALTER."""
    cur = conn.cursor()
    cpu0 = srv.cpu()
    t0 = time.perf_counter()
    cur.execute("ALTER TABLE t ADD VECTOR INDEX idx ((VEC_COSINE_DISTANCE(v)))")
    r = {"alter_s": time.perf_counter() - t0, "polls": []}
    deadline = t0 + timeout
    next_report = t0 + 30
    while True:
        time.sleep(2)
        t = time.perf_counter()
        indexed, not_indexed = index_progress(cur)
        r["polls"].append(time.perf_counter() - t)
        if not_indexed == 0:
            r["not_indexed_0_s"] = time.perf_counter() - t0
            break
        if t > next_report:
            next_report += 30
            print(f"  {t - t0:.0f} s: {indexed} indexed, {not_indexed} not yet", flush=True)
        if t > deadline:
            raise RuntimeError(f"index build not done after {timeout} s ({not_indexed} rows not indexed)")
    # NOT_INDEXED reaches 0 when the last batch's rows get their labels,
    # before that batch is in the graph: queries may still rank exactly.
    while not ann_used(cur, first_query):
        if time.perf_counter() > deadline:
            raise RuntimeError("TIFLASH_INDEXES says indexed, but queries still do not use the index")
        time.sleep(0.1)
    r["usable_s"] = time.perf_counter() - t0
    while not index_files(srv.data_dir):
        if time.perf_counter() > deadline:
            raise RuntimeError("the index file was not saved after the build")
        time.sleep(0.1)
    r["saved_s"] = time.perf_counter() - t0
    r["cpu_s"] = srv.cpu() - cpu0  # the build, its save and the polls
    return r


def index_files(data_dir):
    return [p for p in glob.glob(os.path.join(data_dir, "ann", "*.hnsw")) if os.path.isfile(p)]


def check_explain(conn, q):
    """The two query forms do what the benchmark assumes."""
    cur = conn.cursor()
    cur.execute("EXPLAIN " + ann_sql(q))
    ann = " ".join(str(r) for r in cur.fetchall())
    cur.execute("EXPLAIN " + exact_sql(q))
    exact = " ".join(str(r) for r in cur.fetchall())
    if "annIndex:COSINE" not in ann or "annIndex" in exact:
        raise RuntimeError(f"unexpected EXPLAIN:\n ANN form: {ann}\n +0 form: {exact}")


def run_queries(cur, sqls):
    """Each query once, in order: (ids per query, seconds per query)."""
    ids, lat = [], []
    for sql in sqls:
        t = time.perf_counter()
        cur.execute(sql)
        ids.append([r[0] - 1 for r in cur.fetchall()])  # ids are rows + 1
        lat.append(time.perf_counter() - t)
    return ids, lat


def timed_passes(cur, sqls, min_seconds):
    """Whole passes over the queries until min_seconds passed (200 fast
    queries alone are too short to time): (QPS, all latencies)."""
    lat, t0 = [], time.perf_counter()
    while True:
        lat += run_queries(cur, sqls)[1]
        if time.perf_counter() - t0 >= min_seconds:
            return len(lat) / (time.perf_counter() - t0), lat


def self_lookup(cur, sample):
    """Ids of sampled rows that the index does not return first when
    queried with their own vector at a wide beam: rows no search reaches
    (no links point to them), which no ef_search can bring back."""
    cur.execute(f"SET SESSION tiembed_hnsw_ef_search = {SELF_EF}")
    lost = []
    for i, lit in sample:
        cur.execute(f"SELECT id FROM t ORDER BY VEC_COSINE_DISTANCE(v, '{lit}') LIMIT 1")
        if cur.fetchone()[0] != i:
            lost.append(i)
    cur.execute("SET SESSION tiembed_hnsw_ef_search = 0")
    return lost


def recall(found, truth):
    return sum(len(set(f) & set(t)) for f, t in zip(found, truth)) / (K * len(truth))


def concurrent_client(port, sqls, min_seconds, barrier, out):
    """One client process of concurrent_qps (processes, not threads: the
    client's own CPU per query is close to the server's, and threads would
    queue on the GIL)."""
    c = pymysql.connect(host="127.0.0.1", port=port, user="root", password="", database=DB,
                        autocommit=True, connect_timeout=5, read_timeout=600)
    cur = c.cursor()
    ids = run_queries(cur, sqls)[0]  # warm
    barrier.wait(timeout=600)
    lat, t0 = [], time.perf_counter()
    while time.perf_counter() - t0 < min_seconds:
        lat += run_queries(cur, sqls)[1]
    out.put((len(lat), time.perf_counter() - t0, ids, lat, sqls[0]))
    c.close()


def concurrent_qps(srv, sqls, clients, min_seconds):
    """`clients` processes, a connection each, the default ef, each walking
    the queries from a different offset, all timed from one barrier.
    Returns (total QPS, latencies, ids of the queries in order, server
    CPU-seconds during the timed part)."""
    ctx = mp.get_context("fork")
    barrier, out = ctx.Barrier(clients + 1), ctx.Queue()
    rotations = [sqls[i * len(sqls) // clients:] + sqls[: i * len(sqls) // clients] for i in range(clients)]
    procs = [ctx.Process(target=concurrent_client, args=(srv.port, r, min_seconds, barrier, out), daemon=True)
             for r in rotations]
    for p in procs:
        p.start()
    barrier.wait(timeout=600)
    cpu0 = srv.cpu()
    results = [out.get(timeout=600 + min_seconds) for _ in procs]
    cpu = srv.cpu() - cpu0
    for p in procs:
        p.join(timeout=30)
    first = next(r for r in results if r[4] == sqls[0])  # client 0: queries in the original order
    lat = [x for r in results for x in r[3]]
    return sum(r[0] for r in results) / max(r[1] for r in results), lat, first[2], cpu


def pct(lat, p):
    return 1000 * float(np.percentile(lat, p))


def mb(b):
    return b / 1e6


# ---------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "tiembed"))
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--work", default=os.path.expanduser("~/.cache/tiembed-bench-ann/server"))
    p.add_argument("--keep", action="store_true", help="keep the data directory (server.log stays in --work anyway)")
    p.add_argument("--batch", type=int, default=500, help="rows per INSERT")
    p.add_argument("--min-seconds", type=float, default=3.0, help="time each ANN row at least this long")
    p.add_argument("--build-timeout", type=float, default=7200)
    a = p.parse_args()

    work = os.path.abspath(a.work)
    data_dir = os.path.join(work, "data")
    log_path = os.path.join(work, "server.log")
    os.makedirs(work, exist_ok=True)
    shutil.rmtree(data_dir, ignore_errors=True)
    if os.path.exists(log_path):
        os.remove(log_path)
    binary = os.path.join(work, "tiembed")
    shutil.copy2(a.bin, binary)  # a rebuild mid-run must not change the binary under us

    srv = Server(binary, data_dir, log_path)
    atexit.register(srv.kill)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # runs atexit
    try:
        run(a, srv, work)
    finally:
        srv.kill()
        if not a.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def run(a, srv, work):
    n, raw = a.rows, a.rows * DIM * 4
    version = subprocess.run([srv.binary, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"== {version} (copy of {os.path.abspath(a.bin)}), work dir {work}", flush=True)
    gen = Clustered(DIM, 200, 2024)
    queries = gen.fill(7, a.queries)
    qlits = [literal(q) for q in queries]
    ann_sqls, exact_sqls = [ann_sql(q) for q in qlits], [exact_sql(q) for q in qlits]
    f = {}

    srv.start()
    conn = create_table(srv)
    f["rss_start"] = srv.rss()
    print(f"loading {n} rows ({a.batch} per INSERT) ...", flush=True)
    truth = TopK(queries)
    cpu0 = srv.cpu()
    f["insert_wall"], f["insert_server"], sample = insert_rows(conn, gen, n, a.batch, truth,
                                                               max(1, n // SELF_SAMPLE))
    f["insert_cpu"] = srv.cpu() - cpu0
    f["rss_insert"] = srv.rss()

    print("building the index ...", flush=True)
    f["build"] = build_index(srv, conn, qlits[0], a.build_timeout)
    log = srv.log_since_start()
    f["build_log_s"] = log_field(log, "vector index build finished", "secs")
    f["save_log_ms"] = log_field(log, "vector index saved", "ms")
    f["rss_build"], f["hwm_build"] = srv.rss(), srv.rss("VmHWM")
    check_explain(conn, qlits[0])

    print(f"exact scans of {a.queries} queries ...", flush=True)
    cur = conn.cursor()
    cpu0 = srv.cpu()
    exact, lat = run_queries(cur, exact_sqls)
    f["exact_cpu"] = (srv.cpu() - cpu0) / len(lat)
    f["exact_qps"], f["exact_lat"] = len(lat) / sum(lat), lat
    f["exact_vs_numpy"] = recall(exact, truth.ids.tolist())

    # (label, recall@10, QPS, latencies, server CPU-s per query)
    rows = []
    by_ef = {}
    for ef in EFS:
        cur.execute(f"SET SESSION tiembed_hnsw_ef_search = {ef}")
        found, _ = run_queries(cur, ann_sqls)
        cpu0 = srv.cpu()
        qps, lat = timed_passes(cur, ann_sqls, a.min_seconds)
        by_ef[ef] = found
        rows.append((f"{ef}", recall(found, exact), qps, lat, (srv.cpu() - cpu0) / len(lat)))
        print(f"  ef={ef:<4} recall@10={rows[-1][1]:.4f} QPS={qps:.0f}", flush=True)
    f["self_lost"], f["self_n"] = self_lookup(cur, sample), len(sample)
    conn.close()  # before forking the clients, which must not share its socket
    qps, lat, found, cpu = concurrent_qps(srv, ann_sqls, 2, a.min_seconds)
    rows.append((f"{DEFAULT_EF} (default), 2 clients", recall(found, exact), qps, lat, cpu / len(lat)))
    f["rss_queries"] = srv.rss()
    files = index_files(srv.data_dir)
    f["index_bytes"] = sum(os.path.getsize(p) for p in files)

    print("SIGTERM and restart ...", flush=True)
    f["stop_s"], f["stop_rc"] = srv.stop()
    f["index_bytes_after_stop"] = sum(os.path.getsize(p) for p in index_files(srv.data_dir))
    f.update(restart(srv, qlits[0]))
    # The same graph must give the same answers after the restart.
    c = srv.connect()
    after, _ = run_queries(c.cursor(), ann_sqls)
    f["restart_same"] = sum(x == y for x, y in zip(after, by_ef[DEFAULT_EF]))
    f["restart_recall"] = recall(after, exact)
    c.close()
    f["rss_restart_all"] = srv.rss()
    f["stop2_s"], f["stop2_rc"] = srv.stop()
    report(a, f, rows, raw, srv)


def restart(srv, q):
    """Process start -> connection -> first ANN answer (the query waits
    for the background load); VmRSS right after it; the log's load time."""
    t0 = srv.start()
    c = srv.connect()
    t_conn = time.perf_counter() - t0
    cur = c.cursor()
    cur.execute(ann_sql(q))
    cur.fetchall()
    t_first = time.perf_counter() - t0
    cur.execute("SHOW WARNINGS")
    warnings = [w[2] for w in cur.fetchall()]
    rss = srv.rss()
    c.close()
    log = srv.log_since_start()
    return {"restart_conn_s": t_conn, "restart_first_s": t_first, "restart_warnings": warnings,
            "rss_restart": rss,
            "load_ms": log_field(log, "vector index loaded", "ms"),
            "load_rows": log_field(log, "vector index loaded", "rows"),
            "load_replayed": log_field(log, "vector index loaded", "replayed"),
            "rebuilt": "rebuilding it from the rows" in log}


def report(a, f, rows, raw, srv):
    n = a.rows
    b = f["build"]
    print()
    print(f"== tiembed over the wire: n={n} x {DIM} (bench/ann clustered vectors), {a.queries} held-out "
          f"queries, top-{K}, 1 client unless said")
    print(f"insert        {n / f['insert_wall']:.0f} rows/s wall ({f['insert_wall']:.1f} s, {a.batch} rows per "
          f"INSERT, client-bound); {n / f['insert_server']:.0f} rows/s counting time inside INSERT only "
          f"({f['insert_server']:.1f} s); server CPU {f['insert_cpu']:.1f} s")
    polls = b["polls"]
    print(f"index build   NOT_INDEXED=0 {b['not_indexed_0_s']:.1f} s after the ALTER (polled every 2 s; "
          f"{len(polls)} polls of {1000 * np.mean(polls):.0f} ms mean, {1000 * max(polls):.0f} ms max); "
          f"log 'build finished' secs={f['build_log_s']}; queries use it after {b['usable_s']:.1f} s; "
          f"file saved after {b['saved_s']:.1f} s (save {f['save_log_ms']} ms); ALTER returned in "
          f"{1000 * b['alter_s']:.0f} ms; server CPU {b['cpu_s']:.1f} s")
    el = f["exact_lat"]
    print(f"exact check   the server's exact (+ 0) top-{K} vs numpy's on the same vectors: "
          f"{f['exact_vs_numpy']:.4f} (recall below is against the server's exact answers)")
    print()
    print(f"| ef_search | recall@{K} | QPS | p50 ms | p99 ms | server CPU ms/query | ANN QPS / exact QPS |")
    print("|---|---|---|---|---|---|---|")
    print(f"| exact (+ 0) | 1 | {f['exact_qps']:.2f} | {pct(el, 50):.1f} | {pct(el, 99):.1f} | "
          f"{1000 * f['exact_cpu']:.1f} | 1x |")
    for ef, r, qps, lat, cpu in rows:
        print(f"| {ef} | {r:.4f} | {qps:.0f} | {pct(lat, 50):.2f} | {pct(lat, 99):.2f} | {1000 * cpu:.2f} | "
              f"{qps / f['exact_qps']:.0f}x |")
    print()
    lost = f["self_lost"]
    print(f"self-lookup   {len(lost)} of {f['self_n']} sampled rows not returned first for their own vector at "
          f"ef {SELF_EF} (unreachable in the graph)" + (f": ids {lost[:20]}" if lost else ""))
    print(f"memory        VmRSS at start {mb(f['rss_start']):.0f} MB, after insert {mb(f['rss_insert']):.0f} MB, "
          f"after build {mb(f['rss_build']):.0f} MB "
          f"(peak VmHWM {mb(f['hwm_build']):.0f} MB), after the queries {mb(f['rss_queries']):.0f} MB, after "
          f"restart + first ANN query {mb(f['rss_restart']):.0f} MB, after restart + {a.queries} queries "
          f"{mb(f['rss_restart_all']):.0f} MB; raw vectors {mb(raw):.0f} MB (after build = "
          f"{f['rss_build'] / raw:.2f}x raw, after restart = {f['rss_restart'] / raw:.2f}x raw)")
    print(f"index file    {mb(f['index_bytes']):.0f} MB ({f['index_bytes'] / raw:.2f}x raw vectors; "
          f"{mb(f['index_bytes_after_stop']):.0f} MB after SIGTERM); data dir "
          f"{mb(dir_bytes(srv.data_dir)):.0f} MB in all")
    print(f"shutdown      SIGTERM -> exit in {f['stop_s']:.2f} s (exit code {f['stop_rc']}); after the restart "
          f"{f['stop2_s']:.2f} s (exit code {f['stop2_rc']})")
    used = "yes" if not f["restart_warnings"] else f"NO: {f['restart_warnings']}"
    print(f"restart       process start -> connected {f['restart_conn_s']:.2f} s -> first ANN answer "
          f"{f['restart_first_s']:.2f} s (index used: {used}); log 'vector index loaded' ms={f['load_ms']} "
          f"rows={f['load_rows']} replayed={f['load_replayed']}"
          + ("; REBUILT from the rows instead of loading" if f["rebuilt"] else ""))
    print(f"              after restart at ef {DEFAULT_EF}: recall@{K} {f['restart_recall']:.4f}, same ids as "
          f"before for {f['restart_same']}/{a.queries} queries")
    bad = [line for line in open(srv.log_path, errors="replace") if " WARN " in line or " ERROR " in line]
    print(f"server log    {len(bad)} WARN/ERROR lines" + "".join("\n  " + line.rstrip() for line in bad[:10]))


def dir_bytes(path):
    return sum(os.path.getsize(os.path.join(d, name)) for d, _, names in os.walk(path) for name in names)


if __name__ == "__main__":
    main()
