#!/usr/bin/env python3
"""Load driver: point selects and single-row inserts over the MySQL wire
protocol against one or more servers, same client, same run.

    python bench/load.py --target tiembed=127.0.0.1:4000 --target mariadb=127.0.0.1:3307

(bench/run.sh starts both servers and runs this.) For each target it creates database `tiembed_bench` (dropped first), a table
of --rows rows, then runs each workload for --duration seconds with --workers
client processes (one connection each, autocommit on):

  point_select  SELECT id, k, v FROM kv WHERE id = <random existing id>
  insert        INSERT INTO ins (id, k, v) VALUES (<unique id>, <int>, <text>)
                (each statement is its own durable transaction)

and prints queries per second, latency percentiles and, when the first
target is compared with others, the ratio first/other. Every loop is bounded
by time and by --max-ops; only the given (loopback) addresses are contacted.
"""

import argparse
import multiprocessing as mp
import os
import random
import statistics
import sys
import time

DB = "tiembed_bench"


def connect(driver, host, port, user, password, database=None):
    if driver == "mysqlclient":
        import MySQLdb

        kw = dict(host=host, port=port, user=user, password=password, charset="utf8mb4", autocommit=True)
        if database:
            kw["database"] = database
        return MySQLdb.connect(**kw)
    import pymysql

    return pymysql.connect(
        host=host, port=port, user=user, password=password, database=database,
        charset="utf8mb4", autocommit=True,
    )


def prepare(args, target):
    name, host, port = target
    c = connect(args.driver, host, port, args.user, args.password)
    cur = c.cursor()
    cur.execute(f"DROP DATABASE IF EXISTS {DB}")
    cur.execute(f"CREATE DATABASE {DB}")
    cur.execute(f"USE {DB}")
    cur.execute("CREATE TABLE kv (id BIGINT PRIMARY KEY, k INT NOT NULL, v VARCHAR(100) NOT NULL)")
    cur.execute("CREATE TABLE ins (id BIGINT PRIMARY KEY, k INT NOT NULL, v VARCHAR(100) NOT NULL)")
    batch = 500
    for start in range(1, args.rows + 1, batch):
        ids = range(start, min(start + batch, args.rows + 1))
        values = ",".join(f"({i}, {i * 7 % 1000}, 'value-{i:08d}-abcdefghijklmnopqrstuvwxyz')" for i in ids)
        cur.execute(f"INSERT INTO kv (id, k, v) VALUES {values}")
    cur.execute("SELECT COUNT(*) FROM kv")
    (n,) = cur.fetchone()
    if n != args.rows:
        raise SystemExit(f"{name}: loaded {n} rows, expected {args.rows}")
    c.close()


def worker(args, target, workload, wid, round_no, start_at, out):
    name, host, port = target
    rng = random.Random(wid * 7919 + 1)
    lat = []
    errors = 0
    try:
        c = connect(args.driver, host, port, args.user, args.password, DB)
        cur = c.cursor()
        # Warm the connection (and any per-connection set-up) before timing.
        cur.execute("SELECT 1")
        cur.fetchall()
        while time.time() < start_at:
            time.sleep(0.001)
        deadline = start_at + args.duration
        n = 0
        # Unique across workers and runs (max-ops < 10^7 per worker).
        next_id = round_no * 1_000_000_000 + (wid + 1) * 10_000_000
        perf = time.perf_counter
        while n < args.max_ops:
            t0 = perf()
            if workload == "point_select":
                key = rng.randint(1, args.rows)
                cur.execute(f"SELECT id, k, v FROM kv WHERE id = {key}")
                row = cur.fetchall()
                if len(row) != 1 or row[0][0] != key:
                    errors += 1
            else:
                next_id += 1
                cur.execute(
                    f"INSERT INTO ins (id, k, v) VALUES ({next_id}, {n % 1000}, 'inserted-{next_id}')"
                )
            t1 = perf()
            lat.append(t1 - t0)
            n += 1
            if (n & 63) == 0 and time.time() >= deadline:
                break
        elapsed = time.time() - start_at
        c.close()
    except Exception as e:  # reported, counted as a failed worker
        out.put((wid, lat, errors, f"{type(e).__name__}: {e}", 0.0))
        return
    out.put((wid, lat, errors, None, elapsed))


def run_workload(args, target, workload, round_no):
    out = mp.Queue()
    start_at = time.time() + 1.0
    procs = [
        mp.Process(target=worker, args=(args, target, workload, w, round_no, start_at, out))
        for w in range(args.workers)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=args.duration + 120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    failures = [r[3] for r in results if r[3]]
    if failures:
        raise SystemExit(f"{target[0]} {workload}: worker failed: {failures[0]}")
    lats = [x for r in results for x in r[1]]
    errors = sum(r[2] for r in results)
    if errors:
        raise SystemExit(f"{target[0]} {workload}: {errors} wrong results")
    # All workers start together and stop at the deadline (or the op cap):
    # throughput is every statement over the longest worker's time.
    elapsed = max(max(r[4] for r in results), 1e-9)
    qps = len(lats) / elapsed
    lats.sort()

    def pct(p):
        return lats[min(len(lats) - 1, int(p / 100 * len(lats)))] * 1e3 if lats else float("nan")

    return {
        "ops": len(lats),
        "qps": qps,
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "mean_ms": statistics.fmean(lats) * 1e3 if lats else float("nan"),
    }


def parse_target(s):
    name, _, addr = s.partition("=")
    host, _, port = addr.rpartition(":")
    if not name or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=HOST:PORT, got {s!r}")
    if not (host.startswith("127.") or host in ("localhost", "::1", "[::1]")):
        raise argparse.ArgumentTypeError(f"{host}: the benchmark only targets loopback addresses")
    return name, host.strip("[]"), int(port)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", action="append", type=parse_target, required=True,
                    help="NAME=HOST:PORT; the first one is compared with the others")
    ap.add_argument("--workload", action="append", choices=["point_select", "insert"],
                    help="default: both")
    ap.add_argument("--workers", type=int, default=4, help="client processes (default 4)")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per workload (default 10)")
    ap.add_argument("--rows", type=int, default=10_000, help="rows preloaded for point selects")
    ap.add_argument("--max-ops", type=int, default=2_000_000, help="per worker cap (default 2e6)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds, alternating the targets inside each; the median QPS is reported (default 3)")
    ap.add_argument("--driver", choices=["mysqlclient", "pymysql"], default="mysqlclient",
                    help="client library (default mysqlclient: C, so the client costs little CPU)")
    ap.add_argument("--user", default=os.environ.get("TIEMBED_USER", "root"))
    ap.add_argument("--password", default=os.environ.get("TIEMBED_PASSWORD", ""))
    args = ap.parse_args()
    workloads = args.workload or ["point_select", "insert"]

    print(f"# {args.workers} client processes ({args.driver}), {args.duration:g} s per workload, "
          f"{args.rows} rows, {os.cpu_count()} cores", flush=True)
    if args.workers > 99 or args.max_ops >= 10_000_000:
        raise SystemExit("at most 99 workers and 10^7 ops per worker")
    for t in args.target:
        prepare(args, t)
    # Targets alternate inside each round so that drift in the machine's load
    # (other processes, CPU frequency) hits all of them alike.
    runs = {}
    for rnd in range(args.rounds):
        for w in workloads:
            for ti, t in enumerate(args.target):
                r = run_workload(args, t, w, rnd * len(args.target) + ti)
                runs.setdefault((t[0], w), []).append(r["qps"])
                print(f"round {rnd + 1} {t[0]:>10} {w:<13} {r['qps']:>10.0f} QPS  {r['ops']:>8} ops  "
                      f"p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms", flush=True)
    results = {key: {"qps": statistics.median(v)} for key, v in runs.items()}

    names = [t[0] for t in args.target]
    print()
    print(f"median of {args.rounds} round(s):")
    header = f"{'workload':<13}" + "".join(f"{n + ' QPS':>16}" for n in names)
    if len(names) > 1:
        header += "".join(f"{names[0] + '/' + n:>22}" for n in names[1:])
    print(header)
    for w in workloads:
        line = f"{w:<13}" + "".join(f"{results[(n, w)]['qps']:>16.0f}" for n in names)
        base = results[(names[0], w)]["qps"]
        for n in names[1:]:
            line += f"{base / results[(n, w)]['qps']:>21.2f}x"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
