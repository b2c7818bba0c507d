#!/usr/bin/env python3
"""SQLAlchemy Core text() over PyMySQL: each statement as text() with named
bind parameters (:p0, :p1 ... from the script's `?` templates; PyMySQL
interpolates them client-side). The engine is in AUTOCOMMIT mode so that the
script's own BEGIN/COMMIT are what reaches the server, as with the others."""
import time

import sqlalchemy as sa

from common import Recorder, load, parse_args


def named(tmpl, params):
    parts = tmpl.split("?")
    out = [parts[0]]
    for i, rest in enumerate(parts[1:]):
        out.append(f":p{i}")
        out.append(rest)
    return "".join(out), {f"p{i}": v for i, v in enumerate(params)}


def main():
    args = parse_args("sqlalchemy").parse_args()
    stmts = load(args.script)["statements"]
    # Compiled once, as an application would hold its statements.
    texts = {}
    prepared = []
    for s in stmts:
        sql, params = named(s["tmpl"], s["params"])
        if sql not in texts:
            texts[sql] = sa.text(sql)
        prepared.append((s["kind"], texts[sql], params))
    rec = Recorder("sqlalchemy")
    engine = sa.create_engine(
        f"mysql+pymysql://{args.user}:{args.password}@{args.host}:{args.port}/{args.db}?charset=utf8mb4",
        isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    conn = engine.connect()
    rec.connected()
    perf = time.perf_counter
    for i, (kind, t_sql, params) in enumerate(prepared):
        t = perf()
        res = conn.execute(t_sql, params)
        rows = res.fetchall() if res.returns_rows else None
        rec.stmt(i, kind, perf() - t)
        if rows is not None:
            rec.result(rows)
    conn.close()
    engine.dispose()
    rec.finish(len(stmts), args.trace)


if __name__ == "__main__":
    main()
