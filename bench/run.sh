#!/usr/bin/env bash
# The issue-2 benchmark: point selects and single-row inserts over the wire
# against tiembed and against MariaDB (Debian's mariadb-server) on loopback
# ports, same client (bench/load.py), same run; prints QPS for both and the
# ratio tiembed/MariaDB. Then bench/access.py: reads a primary key or index
# should serve (joins, key ranges, ORDER BY pk LIMIT, COUNT(*)) on both.
# Not a test: CI does not run it.
#
#   bench/run.sh [load.py options, e.g. --workers 4 --duration 10 --rounds 3]
#   BENCH_ACCESS=0 bench/run.sh ...   # skip access.py
#
# Env: TIEMBED_BIN (default: cargo build --release of the tiembed binary),
# CARGO_TARGET_DIR (default ~/.cache/tiembed-target), BENCH_DIR (scratch data,
# default ~/.cache/tiembed-bench), MARIADB_PORT (default: a free port).
# Both servers keep their data on the same disk under BENCH_DIR and commit
# durably (tiembed flushes before OK; InnoDB flushes its log at commit).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/tiembed-bench}"
# shellcheck source=bench/pair-lib.sh
. "$ROOT/bench/pair-lib.sh"

pair_start

"$TIEMBED_VENV/bin/python" bench/load.py \
    --target "tiembed=127.0.0.1:$TIEMBED_PORT" \
    --target "mariadb=127.0.0.1:$MARIADB_PORT" "$@"

if [ "${BENCH_ACCESS:-1}" != 0 ]; then
    "$TIEMBED_VENV/bin/python" bench/access.py \
        --target "tiembed=127.0.0.1:$TIEMBED_PORT" \
        --target "mariadb=127.0.0.1:$MARIADB_PORT"
fi
