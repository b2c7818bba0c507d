"""Crash durability over the wire, driven by scripts/test-all.sh (not a pytest
module: it needs to kill and restart the server between its two phases).

    durability_check.py write  --port P --ready FILE
        commits rows (autocommit, an explicit transaction, a multi-row
        insert, an update and a delete), sets a GLOBAL variable, then opens a
        transaction with uncommitted writes, writes FILE and waits to be
        killed together with the server (kill -9).
    durability_check.py verify --port P
        after the restart: every committed change is there, nothing of the
        uncommitted transaction is; exit status 0 when so.
"""

import argparse
import os
import sys
import time

import pymysql

DB = "durability"
SQL_MODE = "STRICT_TRANS_TABLES"


def connect(args, **kw):
    return pymysql.connect(
        host=args.host, port=args.port, user=args.user, password=args.password,
        charset="utf8mb4", connect_timeout=10, read_timeout=60, **kw,
    )


def write(args):
    c = connect(args, autocommit=True)
    cur = c.cursor()
    cur.execute(f"DROP DATABASE IF EXISTS {DB}")
    cur.execute(f"CREATE DATABASE {DB}")
    cur.execute(f"USE {DB}")
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(50))")
    for i in range(1, 101):  # 100 single-row autocommit transactions
        cur.execute("INSERT INTO t VALUES (%s, %s)", (i, f"auto-{i}"))
    cur.execute("START TRANSACTION")
    cur.execute("INSERT INTO t VALUES (101, 'txn-a'), (102, 'txn-b')")
    cur.execute("UPDATE t SET v = 'updated' WHERE id = 1")
    cur.execute("DELETE FROM t WHERE id = 2")
    cur.execute("COMMIT")
    cur.execute(f"SET GLOBAL sql_mode = '{SQL_MODE}'")

    pending = connect(args, database=DB)  # autocommit off
    pc = pending.cursor()
    pc.execute("INSERT INTO t VALUES (999, 'uncommitted')")
    pc.execute("UPDATE t SET v = 'uncommitted' WHERE id = 3")
    pc.execute("DELETE FROM t WHERE id = 4")
    with open(args.ready, "w") as f:
        f.write("ready\n")
    time.sleep(120)  # killed by the harness
    return 1


def verify(args):
    c = connect(args, database=DB, autocommit=True)
    cur = c.cursor()
    cur.execute("SELECT id, v FROM t ORDER BY id")
    got = dict(cur.fetchall())
    want = {i: f"auto-{i}" for i in range(1, 101)}
    want[1] = "updated"
    del want[2]
    want[101] = "txn-a"
    want[102] = "txn-b"
    problems = []
    for k in sorted(set(want) | set(got)):
        if got.get(k) != want.get(k):
            problems.append(f"id {k}: have {got.get(k)!r}, want {want.get(k)!r}")
    cur.execute("SELECT @@GLOBAL.sql_mode")
    (mode,) = cur.fetchone()
    if mode != SQL_MODE:
        problems.append(f"@@GLOBAL.sql_mode after restart: {mode!r}, want {SQL_MODE!r}")
    for p in problems[:20]:
        print("durability:", p)
    print(f"durability: {len(got)} rows after kill -9 and restart, {len(problems)} problem(s)")
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=["write", "verify"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", default=os.environ.get("TIEMBED_USER", "root"))
    ap.add_argument("--password", default=os.environ.get("TIEMBED_PASSWORD", ""))
    ap.add_argument("--ready", help="file written once the uncommitted transaction is open")
    args = ap.parse_args()
    return write(args) if args.phase == "write" else verify(args)


if __name__ == "__main__":
    sys.exit(main())
