#!/usr/bin/env python3
"""Runs the per-client drivers against two servers and prints the table.

    compare.py --target tiembed=127.0.0.1:P --target mariadb=127.0.0.1:Q \
               --script-dir DIR [--rounds 3] [--client NAME ...] [--trace-dir D]

(bench/clients/run.sh starts both servers, writes the script and runs
this.) For each client, each round runs the driver once per target, the
order of the targets swapped every other round; a run is a fresh driver
process that connects, runs the 1,000 statements (which drop and create the
tables) and prints its JSON. Every run must report the 1,000 statements, the
final COUNT(*)s the script predicts and the same checksum of all result rows
as every other run (all clients, both servers): otherwise the benchmark
stops. The table has the best (minimum) elapsed time per client and target
and the ratio first/second target, then, for the clients where the first
target is slower, the time per statement kind in the best runs.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def rust_bin():
    cands = [os.environ.get("CLIENTS_BENCH_BIN", "")]
    for t in (os.environ.get("CARGO_TARGET_DIR", ""), os.path.join(ROOT, "target"),
              os.path.expanduser("~/.cache/tiembed-target")):
        if t:
            cands.append(os.path.join(t, "release", "examples", "clients_bench"))
    for c in cands:
        if c and os.access(c, os.X_OK):
            return c
    return None


def clients(py, node):
    c = {
        "mariadb-cli": [py, os.path.join(HERE, "cli_mariadb.py")],
        "pymysql": [py, os.path.join(HERE, "py_pymysql.py")],
        "connector": [py, os.path.join(HERE, "py_connector.py")],
        "connector-prepared": [py, os.path.join(HERE, "py_connector.py"), "--prepared"],
        "mysqlclient": [py, os.path.join(HERE, "py_mysqlclient.py")],
        "sqlalchemy": [py, os.path.join(HERE, "py_sqlalchemy.py")],
    }
    if node:
        c["mysql2-query"] = [node, os.path.join(HERE, "node_mysql2.js"), "--mode", "query"]
        c["mysql2-execute"] = [node, os.path.join(HERE, "node_mysql2.js"), "--mode", "execute"]
    rb = rust_bin()
    if rb:
        c["mysql_async-text"] = [rb, "--mode", "text"]
        c["mysql_async-exec"] = [rb, "--mode", "exec"]
    return c


def parse_target(s):
    name, _, addr = s.partition("=")
    host, _, port = addr.rpartition(":")
    if not name or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=HOST:PORT, got {s!r}")
    if not (host.startswith("127.") or host == "localhost"):
        raise argparse.ArgumentTypeError(f"{host}: the benchmark only targets loopback addresses")
    return name, host, int(port)


def prepare_db(py, target, db):
    name, host, port = target
    code = (
        "import pymysql,sys\n"
        f"c=pymysql.connect(host={host!r},port={port},user='root',password='',autocommit=True)\n"
        "cur=c.cursor()\n"
        f"cur.execute('DROP DATABASE IF EXISTS {db}')\n"
        f"cur.execute('CREATE DATABASE {db}')\n"
    )
    subprocess.run([py, "-c", code], check=True)


def run_one(cmd, target, args, trace=None):
    name, host, port = target
    full = cmd + ["--host", host, "--port", str(port), "--db", args.db,
                  "--script", os.path.join(args.script_dir, "script.json")]
    if trace:
        full += ["--trace", trace]
    p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE,
                       timeout=args.timeout)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} against {name} failed ({p.returncode}):\n"
                         + p.stderr.decode(errors="replace")[-3000:])
    lines = [l for l in p.stdout.decode().splitlines() if l.startswith("{")]
    if not lines:
        raise SystemExit(f"no JSON from {cmd} against {name}: {p.stdout[-2000:]!r} {p.stderr[-2000:]!r}")
    return json.loads(lines[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", action="append", type=parse_target, required=True)
    ap.add_argument("--script-dir", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--client", action="append", help="only these clients (default: all available)")
    ap.add_argument("--db", default="tiembed_clients")
    ap.add_argument("--trace-dir", help="keep per-statement latencies of every run here")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    if len(args.target) != 2:
        raise SystemExit("exactly two targets")
    py = sys.executable
    node = shutil.which("node") if os.path.isdir(os.path.join(ROOT, "tests/node/node_modules/mysql2")) else None
    avail = clients(py, node)
    names = args.client or list(avail)
    for n in names:
        if n not in avail:
            raise SystemExit(f"client {n} not available (have: {', '.join(avail)})")
    if "mysql2-query" not in avail:
        print("# mysql2: not available (node or tests/node/node_modules missing)", flush=True)
    if "mysql_async-text" not in avail:
        print("# mysql_async: not available (cargo build --release -p tiembed-tests "
              "--example clients_bench, or set CLIENTS_BENCH_BIN)", flush=True)
    else:
        print(f"# mysql_async: {rust_bin()}", flush=True)
    with open(os.path.join(args.script_dir, "script.json"), encoding="utf-8") as f:
        script = json.load(f)
    expect_tail = [f"{float(script['expect']['users']):.6f}", f"{float(script['expect']['orders']):.6f}"]
    for t in args.target:
        prepare_db(py, t, args.db)
    if args.trace_dir:
        os.makedirs(args.trace_dir, exist_ok=True)

    ref = None  # (checksum, rows, who)
    best = {}   # (client, target) -> result with min elapsed
    tnames = [t[0] for t in args.target]
    for cname in names:
        cmd = avail[cname]
        for rnd in range(args.rounds):
            order = args.target if rnd % 2 == 0 else list(reversed(args.target))
            for t in order:
                trace = None
                if args.trace_dir:
                    trace = os.path.join(args.trace_dir, f"{cname}.{t[0]}.{rnd + 1}.json")
                r = run_one(cmd, t, args, trace)
                who = f"{cname} on {t[0]} (round {rnd + 1})"
                if r["statements"] != len(script["statements"]):
                    raise SystemExit(f"{who}: ran {r['statements']} statements")
                if r["tail"] != expect_tail:
                    raise SystemExit(f"{who}: final COUNT(*)s {r['tail']}, expected {expect_tail}")
                if ref is None:
                    ref = (r["checksum"], r["rows"], who)
                elif (r["checksum"], r["rows"]) != ref[:2]:
                    raise SystemExit(f"{who}: checksum {r['checksum'][:16]} over {r['rows']} rows differs "
                                     f"from {ref[2]}'s {ref[0][:16]} over {ref[1]} rows")
                conn = f"connect {r['connect'] * 1e3:6.1f} ms" if r.get("connect") is not None else ""
                print(f"round {rnd + 1} {cname:<19} {t[0]:>8} {r['elapsed']:8.3f} s  {conn}", flush=True)
                k = (cname, t[0])
                if k not in best or r["elapsed"] < best[k]["elapsed"]:
                    best[k] = r

    a, b = tnames
    print()
    print(f"all runs: 1000 statements, {ref[1]} result rows, checksum {ref[0][:16]}, "
          f"final users={script['expect']['users']} orders={script['expect']['orders']}")
    print(f"best of {args.rounds} round(s), seconds for the 1,000-statement script:")
    print(f"{'client':<20}{a + ' s':>12}{b + ' s':>12}{'ratio ' + a + '/' + b:>24}")
    slower = []
    for cname in names:
        ra, rb = best[(cname, a)], best[(cname, b)]
        ratio = ra["elapsed"] / rb["elapsed"]
        print(f"{cname:<20}{ra['elapsed']:>12.3f}{rb['elapsed']:>12.3f}{ratio:>23.2f}x")
        if ratio > 1.0:
            slower.append(cname)
    for cname in slower:
        ra, rb = best[(cname, a)], best[(cname, b)]
        if len(ra["kinds"]) <= 1:
            continue
        print()
        print(f"{cname}: time per statement kind in the best runs "
              f"(connect {a} {ra['connect'] * 1e3:.1f} ms, {b} {rb['connect'] * 1e3:.1f} ms)")
        print(f"{'kind':<14}{'n':>5}{a + ' ms':>12}{b + ' ms':>12}{a + ' us/st':>14}{b + ' us/st':>14}{'ratio':>8}")
        kinds = sorted(ra["kinds"], key=lambda k: -ra["kinds"][k][1])
        for k in kinds:
            n, ta = ra["kinds"][k]
            tb = rb["kinds"].get(k, [n, float("nan")])[1]
            print(f"{k:<14}{n:>5}{ta * 1e3:>12.1f}{tb * 1e3:>12.1f}{ta / n * 1e6:>14.0f}{tb / n * 1e6:>14.0f}"
                  f"{ta / tb if tb else float('nan'):>7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
