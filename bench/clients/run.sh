#!/usr/bin/env bash
# The issue-5 benchmark: per client, the time for one fixed, deterministic
# 1,000-statement application script (bench/clients/gen_script.py: DDL,
# single-row INSERTs, point and range SELECTs, UPDATEs, DELETEs, joins and
# aggregates, BEGIN/COMMIT transactions) against tiembed and against MariaDB
# (Debian's mariadb-server) on loopback ports, same run; prints the best of
# N rounds for both and the ratio tiembed/MariaDB. Not a test: CI does not
# run it.
#
#   bench/clients/run.sh [compare.py options, e.g. --rounds 3 --client pymysql --trace-dir DIR]
#   bench/clients/kinds.py DIR [--by-template SCRIPT_JSON]   # per-kind latencies from the traces
#
# Clients: the mariadb CLI in batch mode (one process reading the script from
# stdin), PyMySQL, mysql-connector-python (pure Python; text and
# prepared=True), mysqlclient, SQLAlchemy Core text() over PyMySQL, Node
# mysql2 (query and execute) and, when built, the Rust mysql_async driver
# (tests/examples/clients_bench.rs: text and exec):
#   cargo build --release -p tiembed-tests --example clients_bench
#
# Env: TIEMBED_BIN (default: cargo build --release of the tiembed binary),
# CARGO_TARGET_DIR (default ~/.cache/tiembed-target), BENCH_DIR (scratch data,
# default ~/.cache/tiembed-bench-clients; not bench/run.sh's, so both can run),
# MARIADB_PORT (default: a free port), CLIENTS_BENCH_BIN (the Rust driver;
# default: examples/clients_bench under CARGO_TARGET_DIR or ./target).
# Both servers keep their data under BENCH_DIR and commit durably (tiembed
# flushes before OK; InnoDB flushes its log at commit).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/tiembed-bench-clients}"
# shellcheck source=bench/pair-lib.sh
. "$ROOT/bench/pair-lib.sh"

pair_start

# The script, written afresh (deterministic: same bytes every run).
"$TIEMBED_VENV/bin/python" bench/clients/gen_script.py "$BENCH_DIR/script"

echo "# $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$TIEMBED_VENV/bin/python" bench/clients/compare.py \
    --target "tiembed=127.0.0.1:$TIEMBED_PORT" \
    --target "mariadb=127.0.0.1:$MARIADB_PORT" \
    --script-dir "$BENCH_DIR/script" "$@"
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg)"
