#!/usr/bin/env python3
"""Differential check: random SELECTs over the same random tables on tiembed
and on MariaDB, answers compared. A tool for finding planner and evaluation
bugs (access paths, joins, key order, type coercions), not a test: CI does
not run it, and MariaDB is not TiDB.

    python bench/differential.py --tiembed 127.0.0.1:4000 --mariadb 127.0.0.1:3307 [--seed 1 --queries 800]

(bench/mariadb.sh start PORT starts a scratch MariaDB.) Each run creates
database `tiembed_diff` on both (dropped first): tables with integer primary
keys, secondary and unique indexes, a composite key, NULLs and duplicates;
then queries mixing comparisons, BETWEEN, IN and IS NULL with integer,
decimal, string and NULL constants, joins (inner, left, comma) through keys
and non-keys, ORDER BY the key with LIMIT, and aggregates. Prints each
mismatch (up to --show) and the count; exits 1 on a mismatch.

Known, accepted difference: MariaDB answers `int_col = 1.5` through an index
with the rows of a rounded value; MySQL 8 and TiDB (and tiembed) return no
rows. Such queries are skipped.
"""

import argparse
import decimal
import random
import re
import sys

import pymysql

DB = "tiembed_diff"
DDL = [
    "CREATE TABLE a (id INT PRIMARY KEY, k INT, s VARCHAR(10), KEY (k))",
    "CREATE TABLE b (id BIGINT PRIMARY KEY, a_id INT, n INT, UNIQUE KEY (n), KEY (a_id))",
    "CREATE TABLE c (x INT, y INT, z INT, PRIMARY KEY (x, y))",
]


def connect(addr):
    host, port = addr.rsplit(":", 1)
    cur = pymysql.connect(host=host, port=int(port), user="root", autocommit=True).cursor()
    cur.execute(f"DROP DATABASE IF EXISTS {DB}")
    cur.execute(f"CREATE DATABASE {DB}")
    cur.execute(f"USE {DB}")
    return cur


def load(curs, rnd):
    rows_a = [(i, rnd.choice([None] + list(range(-5, 20))), rnd.choice([None, "a", "B", "c", "1", "2"]))
              for i in range(-10, 60)]
    ns = rnd.sample(range(-50, 200), 80)
    rows_b = [(i * 3 - 20, rnd.choice([None] + list(range(-10, 60))), ns[i] if rnd.random() < 0.9 else None)
              for i in range(80)]
    rows_c = {(rnd.randint(-3, 5), rnd.randint(-3, 5)): rnd.randint(0, 9) for _ in range(40)}
    for cur in curs:
        for d in DDL:
            cur.execute(d)
        cur.executemany("INSERT INTO a VALUES (%s,%s,%s)", rows_a)
        cur.executemany("INSERT INTO b VALUES (%s,%s,%s)", rows_b)
        cur.executemany("INSERT INTO c VALUES (%s,%s,%s)", [(x, y, z) for (x, y), z in rows_c.items()])


def query(rnd):
    def val():
        return rnd.choice([str(rnd.randint(-15, 70)), f"{rnd.randint(-15, 70)}.5",
                           f"'{rnd.randint(-5, 20)}'", "NULL", f"-{rnd.randint(0, 9)}"])

    def cond(cols):
        parts = []
        for _ in range(rnd.randint(1, 3)):
            c = rnd.choice(cols)
            op = rnd.choice([">", ">=", "<", "<=", "=", "<>"])
            parts.append(rnd.choice([f"{c} {op} {val()}", f"{c} BETWEEN {val()} AND {val()}",
                                     f"{c} IS NULL", f"{c} IN ({val()}, {val()})"]))
        return f" {rnd.choice(['AND', 'AND', 'OR'])} ".join(parts)

    kind = rnd.randint(0, 5)
    if kind == 0:
        return f"SELECT id, k, s FROM a WHERE {cond(['id', 'k', 's'])} ORDER BY id"
    if kind == 1:
        return (f"SELECT id, a_id, n FROM b WHERE {cond(['id', 'a_id', 'n'])} "
                f"ORDER BY id {rnd.choice(['', 'DESC'])} LIMIT {rnd.randint(0, 10)}")
    if kind == 2:
        join = rnd.choice(["JOIN", "LEFT JOIN"])
        on = rnd.choice(["b.a_id = a.id", "b.id = a.k", "b.n = a.k", "a.id = b.a_id AND b.n > 0", "b.a_id = a.s"])
        return (f"SELECT a.id, b.id FROM a {join} b ON {on} "
                f"WHERE {cond(['a.id', 'a.k', 'b.n', 'b.id'])} ORDER BY a.id, b.id")
    if kind == 3:
        return (f"SELECT x, y, z FROM c WHERE {cond(['x', 'y', 'z'])} ORDER BY x {rnd.choice(['', 'DESC'])}, "
                f"y {rnd.choice(['', 'DESC'])} LIMIT {rnd.randint(1, 8)}")
    if kind == 4:
        return f"SELECT COUNT(*), SUM(k) FROM a WHERE {cond(['id', 'k'])}"
    return f"SELECT a.id, b.id FROM a, b WHERE b.a_id = a.id AND {cond(['a.id', 'b.n', 'a.k'])} ORDER BY a.id, b.id"


def answer(cur, sql):
    try:
        cur.execute(sql)
        return [tuple(float(v) if isinstance(v, decimal.Decimal) else v for v in r) for r in cur.fetchall()]
    except pymysql.MySQLError as e:
        return ("error", e.args[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiembed", required=True, help="host:port")
    ap.add_argument("--mariadb", required=True, help="host:port")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries", type=int, default=800)
    ap.add_argument("--show", type=int, default=8, help="mismatches to print")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    curs = [connect(args.tiembed), connect(args.mariadb)]
    load(curs, rnd)
    mismatches = 0
    for _ in range(args.queries):
        sql = query(rnd)
        if re.search(r"= -?\d+\.5\b", sql):
            continue  # MariaDB's rounding index lookup (see above)
        mine, theirs = (answer(cur, sql) for cur in curs)
        both_failed = isinstance(mine, tuple) and isinstance(theirs, tuple)
        if mine != theirs and not both_failed:
            mismatches += 1
            if mismatches <= args.show:
                print(f"MISMATCH {sql}\n  tiembed: {mine!r:.300}\n  mariadb: {theirs!r:.300}")
    print(f"seed {args.seed}: {args.queries} queries, {mismatches} mismatches")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
