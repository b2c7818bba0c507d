#!/usr/bin/env python3
"""The fixed 1,000-statement application script of the per-client benchmark.

    python bench/clients/gen_script.py OUTDIR

writes, deterministically (same bytes on every run and machine):

  OUTDIR/script.sql   the statements as literal SQL, one per line (what the
                      mariadb CLI reads from stdin and the text-protocol
                      drivers send);
  OUTDIR/script.json  {"statements": [{"kind", "sql", "tmpl", "params"}...],
                       "expect": {"users": N, "orders": M}, "sha256": ...}
                      where tmpl has `?` placeholders and params the values,
                      for the prepared-statement drivers.

The mix is a small web application's: two tables (users, orders) created
fresh, single-row INSERTs (autocommit and inside BEGIN/COMMIT), point SELECTs
by primary key (some missing), range SELECTs with ORDER BY ... LIMIT,
UPDATEs and DELETEs by key, an "order placement" transaction, a few joins and
aggregates and one rolled-back UPDATE. Every ORDER BY is total (ties broken
by id) so both servers return the same rows in the same order; the last two
statements are SELECT COUNT(*) of each table, whose values are in "expect".
"""

import hashlib
import json
import os
import random
import sys

N = 1000
SEED = 20240605

FIRST = ["Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances",
         "José", "Zoë", "Søren", "O'Brien", "Chloé", "Mårten", "Björn", "Ieva"]
STATUSES = ["new", "paid", "shipped", "cancelled"]

DDL = [
    "DROP TABLE IF EXISTS orders",
    "DROP TABLE IF EXISTS users",
    "CREATE TABLE users (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(64) NOT NULL, "
    "email VARCHAR(128) NOT NULL, score DOUBLE NOT NULL, created DATETIME NOT NULL, "
    "KEY idx_created (created))",
    "CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, user_id INT NOT NULL, "
    "amount DOUBLE NOT NULL, status VARCHAR(16) NOT NULL, created DATETIME NOT NULL, "
    "KEY idx_user (user_id))",
]


def lit(v):
    """A parameter as a SQL literal (standard '' quoting; no backslashes used)."""
    if isinstance(v, str):
        assert "\\" not in v
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def render(tmpl, params):
    parts = tmpl.split("?")
    assert len(parts) == len(params) + 1, tmpl
    out = [parts[0]]
    for p, rest in zip(params, parts[1:]):
        out.append(lit(p))
        out.append(rest)
    return "".join(out)


def ts(minutes):
    """2024-03-01 00:00:00 plus `minutes` minutes, as DATETIME text."""
    d, rem = divmod(minutes, 24 * 60)
    h, m = divmod(rem, 60)
    # March has 31 days; keep within it.
    assert d < 31
    return f"2024-03-{d + 1:02d} {h:02d}:{m:02d}:00"


def generate():
    rng = random.Random(SEED)
    stmts = []

    def add(kind, tmpl, params=()):
        params = list(params)
        stmts.append({"kind": kind, "sql": render(tmpl, params), "tmpl": tmpl, "params": params})

    for s in DDL:
        add("ddl", s)

    users = []          # live user ids
    next_user = 1
    orders = []         # live order ids
    next_order = 1
    clock = [0]         # minutes since 2024-03-01

    def now():
        clock[0] += rng.randint(1, 5)
        return ts(clock[0])

    def new_user_params():
        nonlocal next_user
        first = rng.choice(FIRST)
        name = f"{first} #{next_user}"
        email = f"user{next_user}@example.com"
        score = rng.randint(0, 10000) / 100
        uid = next_user
        next_user += 1
        users.append(uid)
        return [name, email, score, now()], uid

    ins_user = "INSERT INTO users (name, email, score, created) VALUES (?, ?, ?, ?)"
    ins_order = "INSERT INTO orders (user_id, amount, status, created) VALUES (?, ?, ?, ?)"

    # Seed: 30 users autocommit, then 2 transactions of 10.
    for _ in range(30):
        p, _uid = new_user_params()
        add("insert", ins_user, p)
    for _ in range(2):
        add("begin", "BEGIN")
        for _ in range(10):
            p, _uid = new_user_params()
            add("insert", ins_user, p)
        add("commit", "COMMIT")

    finals = 4  # two summaries + two counts
    rolled_back = False
    while True:
        room = N - finals - len(stmts)
        if room <= 0:
            break
        r = rng.random()
        if r < 0.36 or room < 4:
            # Point select by primary key (ids up to next_user: some deleted or missing).
            uid = rng.randint(1, next_user + 2)
            add("point_select", "SELECT id, name, email, score, created FROM users WHERE id = ?", [uid])
        elif r < 0.44:
            p, _uid = new_user_params()
            add("insert", ins_user, p)
        elif r < 0.56:
            # Place an order: BEGIN; INSERT order; UPDATE the user's score; COMMIT.
            uid = rng.choice(users)
            add("begin", "BEGIN")
            amount = rng.randint(100, 50000) / 100
            add("insert", ins_order, [uid, amount, "new", now()])
            orders.append(next_order)
            next_order += 1
            add("update", "UPDATE users SET score = score + ? WHERE id = ?", [round(amount / 100, 2), uid])
            add("commit", "COMMIT")
        elif r < 0.60:
            # Read an order with its user (point select joined).
            if orders:
                oid = rng.choice(orders)
                add("point_join",
                    "SELECT o.id, o.amount, o.status, u.name FROM orders o JOIN users u ON u.id = o.user_id "
                    "WHERE o.id = ?", [oid])
        elif r < 0.70:
            uid = rng.choice(users)
            if rng.random() < 0.5:
                add("update", "UPDATE users SET score = ? WHERE id = ?", [rng.randint(0, 10000) / 100, uid])
            else:
                add("update", "UPDATE users SET name = ?, email = ? WHERE id = ?",
                    [f"{rng.choice(FIRST)} renamed #{uid}", f"renamed{uid}@example.org", uid])
        elif r < 0.75:
            if orders:
                oid = rng.choice(orders)
                add("update", "UPDATE orders SET status = ? WHERE id = ?", [rng.choice(STATUSES[1:]), oid])
        elif r < 0.79:
            if len(users) > 20 and rng.random() < 0.6:
                uid = users.pop(rng.randrange(len(users)))
                add("delete", "DELETE FROM users WHERE id = ?", [uid])
            elif orders:
                oid = orders.pop(rng.randrange(len(orders)))
                add("delete", "DELETE FROM orders WHERE id = ?", [oid])
        elif r < 0.91:
            k = rng.randrange(4)
            if k == 0:
                add("range_select",
                    "SELECT id, name, score FROM users WHERE score >= ? ORDER BY score DESC, id LIMIT 10",
                    [rng.randint(0, 9000) / 100])
            elif k == 1:
                lo = rng.randint(0, max(1, clock[0] - 60))
                add("range_select",
                    "SELECT id, name, created FROM users WHERE created BETWEEN ? AND ? ORDER BY created, id LIMIT 20",
                    [ts(lo), ts(lo + 240)])
            elif k == 2:
                add("range_select",
                    "SELECT id, amount, status, created FROM orders WHERE user_id = ? "
                    "ORDER BY created DESC, id DESC LIMIT 5", [rng.choice(users)])
            else:
                lo = rng.randint(1, max(1, next_user - 20))
                add("range_select",
                    "SELECT id, name, email FROM users WHERE id > ? ORDER BY id LIMIT 10", [lo])
        elif r < 0.97:
            k = rng.randrange(4)
            if k == 0:
                add("join_agg",
                    "SELECT status, COUNT(*), ROUND(SUM(amount), 2), ROUND(AVG(amount), 2) FROM orders "
                    "GROUP BY status ORDER BY status")
            elif k == 1:
                add("join_agg",
                    "SELECT u.id, u.name, COUNT(o.id), ROUND(SUM(o.amount), 2) FROM users u "
                    "JOIN orders o ON o.user_id = u.id GROUP BY u.id, u.name "
                    "ORDER BY COUNT(o.id) DESC, u.id LIMIT 10")
            elif k == 2:
                add("join_agg",
                    "SELECT u.id, u.name, COUNT(o.id) FROM users u LEFT JOIN orders o ON o.user_id = u.id "
                    "WHERE u.id BETWEEN ? AND ? GROUP BY u.id, u.name ORDER BY u.id",
                    [lo := rng.randint(1, max(1, next_user - 10)), lo + 9])
            else:
                add("join_agg",
                    "SELECT COUNT(*), ROUND(AVG(score), 4), MIN(created), MAX(created) FROM users "
                    "WHERE score > ?", [rng.randint(0, 5000) / 100])
        else:
            if not rolled_back and room > 10:
                # A transaction the application abandons.
                add("begin", "BEGIN")
                add("update", "UPDATE users SET score = 0 WHERE id = ?", [rng.choice(users)])
                add("rollback", "ROLLBACK")
                rolled_back = True
            else:
                # A batch of three inserts in one transaction.
                if room < 6:
                    continue
                add("begin", "BEGIN")
                for _ in range(3):
                    p, _uid = new_user_params()
                    add("insert", ins_user, p)
                add("commit", "COMMIT")

    add("final", "SELECT id, name, email, score, created FROM users ORDER BY id DESC LIMIT 5")
    add("final", "SELECT COUNT(*), ROUND(SUM(amount), 2) FROM orders")
    add("final", "SELECT COUNT(*) FROM users")
    add("final", "SELECT COUNT(*) FROM orders")
    assert len(stmts) == N, len(stmts)
    for s in stmts:
        assert "\n" not in s["sql"] and "\\" not in s["sql"] and "%" not in s["sql"]
    return stmts, {"users": len(users), "orders": len(orders)}


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    stmts, expect = generate()
    sql = "".join(s["sql"] + ";\n" for s in stmts).encode()
    digest = hashlib.sha256(sql).hexdigest()
    with open(os.path.join(out, "script.sql"), "wb") as f:
        f.write(sql)
    with open(os.path.join(out, "script.json"), "w", encoding="utf-8") as f:
        json.dump({"statements": stmts, "expect": expect, "sha256": digest}, f, ensure_ascii=False)
    kinds = {}
    for s in stmts:
        kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
    print(f"script: {len(stmts)} statements, sha256 {digest[:16]}; "
          + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
          + f"; expect users={expect['users']} orders={expect['orders']}")


if __name__ == "__main__":
    main()
