#!/usr/bin/env python3
"""The mariadb CLI in batch mode: one process reading script.sql from stdin
(`mariadb --batch -N db < script.sql`). Elapsed is the process's wall time
(start, connect, 1,000 statements, exit); its tab-separated output is hashed
with the same normalisation as the other drivers."""
import os
import shutil
import subprocess
import time

from common import Recorder, load, parse_args


def main():
    ap = parse_args("mariadb-cli")
    args = ap.parse_args()
    script = load(args.script)
    sql_path = os.path.join(os.path.dirname(os.path.abspath(args.script)), "script.sql")
    client = shutil.which("mariadb") or shutil.which("mysql")
    cmd = [client, "--no-defaults", "--protocol=TCP", "-h", args.host, "-P", str(args.port),
           "-u", args.user, "--batch", "--skip-column-names", "--default-character-set=utf8mb4"]
    if args.password:
        cmd.append(f"-p{args.password}")
    cmd.append(args.db)
    rec = Recorder("mariadb-cli")
    with open(sql_path, "rb") as f:
        p = subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - rec.t0
    if p.returncode != 0:
        raise SystemExit(f"mariadb CLI failed ({p.returncode}): {p.stderr.decode(errors='replace')[-2000:]}")
    lines = p.stdout.decode("utf-8").splitlines()
    # Each output line is one row; fields are TAB-separated (no TAB, newline
    # or backslash occurs in the data, so batch-mode escaping does not apply).
    rec.result([line.split("\t") for line in lines])
    rec.last = [[l + "\n"] for l in rec.last[-1][-2:]]
    rec.stmt(0, "whole_script", dt)
    rec.finish(len(script["statements"]), elapsed=dt)


if __name__ == "__main__":
    main()
