#!/usr/bin/env bash
# The issue-2 benchmark: point selects and single-row inserts over the wire
# against tiembed and against MariaDB (Debian's mariadb-server) on loopback
# ports, same client (bench/load.py), same run; prints QPS for both and the
# ratio tiembed/MariaDB. Not a test: CI does not run it.
#
#   bench/run.sh [load.py options, e.g. --workers 4 --duration 10 --rounds 3]
#
# Env: TIEMBED_BIN (default: cargo build --release of the tiembed binary),
# CARGO_TARGET_DIR (default ~/.cache/tiembed-target), BENCH_DIR (scratch data,
# default ~/.cache/tiembed-bench), MARIADB_PORT (default: a free port).
# Both servers keep their data on the same disk under BENCH_DIR and commit
# durably (tiembed flushes before OK; InnoDB flushes its log at commit).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/server-lib.sh
. "$ROOT/scripts/server-lib.sh"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tiembed-target}"
export TIEMBED_VENV="${TIEMBED_VENV:-$HOME/.cache/tiembed-venv}"
export BENCH_DIR="${BENCH_DIR:-$HOME/.cache/tiembed-bench}"
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

"$TIEMBED_VENV/bin/python" bench/load.py \
    --target "tiembed=127.0.0.1:$TIEMBED_PORT" \
    --target "mariadb=127.0.0.1:$MARIADB_PORT" "$@"
