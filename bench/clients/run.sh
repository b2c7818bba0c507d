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
# shellcheck source=scripts/server-lib.sh
. "$ROOT/scripts/server-lib.sh"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tiembed-target}"
export TIEMBED_VENV="${TIEMBED_VENV:-$HOME/.cache/tiembed-venv}"
export BENCH_DIR="${BENCH_DIR:-$HOME/.cache/tiembed-bench-clients}"
mkdir -p "$BENCH_DIR"

scripts/setup.sh --bench

if [ -n "${TIEMBED_BIN:-}" ]; then
    BIN="$TIEMBED_BIN"
else
    cargo build --release -p tiembed-server --bin tiembed
    BIN="$CARGO_TARGET_DIR/release/tiembed"
fi

started_mariadb=0
cleanup() {
    tiembed_stop >/dev/null 2>&1 || true
    if [ "$started_mariadb" = 1 ]; then bench/mariadb.sh stop || true; fi
}
trap cleanup EXIT

# The script, written afresh (deterministic: same bytes every run).
"$TIEMBED_VENV/bin/python" bench/clients/gen_script.py "$BENCH_DIR/script"

# tiembed on a fresh data dir next to MariaDB's.
rm -rf "$BENCH_DIR/tiembed"
mkdir -p "$BENCH_DIR/tiembed"
models_dir="${TIEMBED_MODELS_DIR:-$ROOT/models}"
TIEMBED_LOG="${TIEMBED_LOG:-warn}" tiembed_start "$BIN" "$BENCH_DIR/tiembed" --models-dir "$models_dir"
echo "tiembed $("$BIN" --version 2>/dev/null || true) on 127.0.0.1:$TIEMBED_PORT"

# A scratch MariaDB restarted on a free port for this run.
bench/mariadb.sh stop >/dev/null 2>&1 || true
MARIADB_PORT="${MARIADB_PORT:-$(free_port)}"
bench/mariadb.sh start "$MARIADB_PORT"
started_mariadb=1

echo "# $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$TIEMBED_VENV/bin/python" bench/clients/compare.py \
    --target "tiembed=127.0.0.1:$TIEMBED_PORT" \
    --target "mariadb=127.0.0.1:$MARIADB_PORT" \
    --script-dir "$BENCH_DIR/script" "$@"
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg)"
