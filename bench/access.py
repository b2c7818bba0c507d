#!/usr/bin/env python3
"""Access-path benchmark: reads that a primary key or an index should serve,
over the wire against one or more servers, same client, same run.

    python bench/access.py --target tiembed=127.0.0.1:4000 --target mariadb=127.0.0.1:3307

(bench/run.sh starts both servers and runs this after bench/load.py.) For
each target it creates `tiembed_access` (dropped first) with users(id PK,
name indexed) and orders(id PK, user_id indexed) of --rows rows each, then
runs every query kind for --duration seconds on one connection and prints
queries per second per target and the ratio first/other:

  join_pk         orders o JOIN users u ON u.id = o.user_id WHERE o.id = ?
  join_index      users u JOIN orders o ON o.user_id = u.id WHERE u.id = ?
  pk_range        WHERE id > ? AND id <= ? + 10
  pk_order_limit  WHERE id > ? ORDER BY id LIMIT 10
  pk_desc_limit   ORDER BY id DESC LIMIT 5
  count_all       SELECT COUNT(*) FROM orders

Every answer is checked against the first target's. Only the given
(loopback) addresses are contacted.
"""

import argparse
import time

import pymysql

DB = "tiembed_access"

QUERIES = {
    "join_pk": "SELECT o.id, u.name FROM orders o JOIN users u ON u.id = o.user_id WHERE o.id = {i}",
    "join_index": "SELECT u.id, o.id, o.amount FROM users u JOIN orders o ON o.user_id = u.id "
                  "WHERE u.id = {i} ORDER BY o.id",
    "pk_range": "SELECT id, amount FROM orders WHERE id > {i} AND id <= {i} + 10",
    "pk_order_limit": "SELECT id, amount FROM orders WHERE id > {i} ORDER BY id LIMIT 10",
    "pk_desc_limit": "SELECT id FROM orders ORDER BY id DESC LIMIT 5",
    "count_all": "SELECT COUNT(*) FROM orders",
}


def connect(host, port, args, database=None):
    return pymysql.connect(host=host, port=port, user=args.user, password=args.password,
                           database=database, autocommit=True)


def load(cur, rows):
    cur.execute(f"DROP DATABASE IF EXISTS {DB}")
    cur.execute(f"CREATE DATABASE {DB}")
    cur.execute(f"USE {DB}")
    cur.execute("CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(30), KEY (name))")
    cur.execute("CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, amount INT, KEY (user_id))")
    for s in range(0, rows, 1000):
        ids = range(s, min(s + 1000, rows))
        cur.execute("INSERT INTO users VALUES " + ",".join(f"({i}, 'user{i}')" for i in ids))
        cur.execute("INSERT INTO orders VALUES " +
                    ",".join(f"({i}, {i * 7 % rows}, {i % 100})" for i in ids))


def run(cur, sql, rows, duration):
    """Queries per second over `duration`, and the answers of the first 50."""
    answers, n, start = [], 0, time.perf_counter()
    while time.perf_counter() - start < duration:
        cur.execute(sql.format(i=(n * 37) % (rows - 20)))
        result = cur.fetchall()
        if n < 50:
            answers.append(result)
        n += 1
    return n / (time.perf_counter() - start), answers


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", action="append", required=True, help="name=host:port")
    ap.add_argument("--rows", type=int, default=20_000, help="rows per table (default 20000)")
    ap.add_argument("--duration", type=float, default=2.0, help="seconds per query kind (default 2)")
    ap.add_argument("--user", default="root")
    ap.add_argument("--password", default="")
    args = ap.parse_args()
    targets = []
    for t in args.target:
        name, addr = t.split("=", 1)
        host, port = addr.rsplit(":", 1)
        targets.append((name, host, int(port)))

    results = {}
    for name, host, port in targets:
        cur = connect(host, port, args).cursor()
        load(cur, args.rows)
        for kind, sql in QUERIES.items():
            results[(name, kind)] = run(cur, sql, args.rows, args.duration)
    first = targets[0][0]
    header = f"{'kind':16}" + "".join(f"{name + ' q/s':>16}" for name, _, _ in targets)
    if len(targets) > 1:
        header += "".join(f"{first + '/' + name:>22}" for name, _, _ in targets[1:])
    print(f"# {args.rows} rows per table, {args.duration:g} s per kind, one connection")
    print(header)
    for kind in QUERIES:
        line = f"{kind:16}" + "".join(f"{results[(n, kind)][0]:16.0f}" for n, _, _ in targets)
        for name, _, _ in targets[1:]:
            mine, theirs = results[(first, kind)][1], results[(name, kind)][1]
            for n, (a, b) in enumerate(zip(mine, theirs)):
                if a != b:
                    raise SystemExit(f"{kind} #{n}: {first} answered {a!r}, {name} {b!r}")
            line += f"{results[(first, kind)][0] / results[(name, kind)][0]:21.2f}x"
        print(line)


if __name__ == "__main__":
    main()
