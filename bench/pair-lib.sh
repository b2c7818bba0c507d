# shellcheck shell=bash
# tiembed and a scratch MariaDB side by side on loopback ports, the setup
# every tiembed-vs-MariaDB benchmark shares. Sourced by bench/run.sh and
# bench/clients/run.sh from the repository root with ROOT set:
#
#   BENCH_DIR=<scratch dir default> . bench/pair-lib.sh
#   pair_start     builds (unless TIEMBED_BIN) and starts both servers on
#                  fresh data, sets TIEMBED_PORT and MARIADB_PORT; both are
#                  stopped when the script exits.
#
# Env: TIEMBED_BIN, CARGO_TARGET_DIR (~/.cache/tiembed-target), TIEMBED_VENV
# (~/.cache/tiembed-venv), TIEMBED_MODELS_DIR (./models), MARIADB_PORT (free).

# shellcheck source=scripts/server-lib.sh
. "$ROOT/scripts/server-lib.sh"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tiembed-target}"
export TIEMBED_VENV="${TIEMBED_VENV:-$HOME/.cache/tiembed-venv}"
export BENCH_DIR
mkdir -p "$BENCH_DIR"

started_mariadb=0
pair_cleanup() {
    tiembed_stop >/dev/null 2>&1 || true
    if [ "$started_mariadb" = 1 ]; then bench/mariadb.sh stop || true; fi
}

pair_start() {
    scripts/setup.sh --bench
    if [ -n "${TIEMBED_BIN:-}" ]; then
        BIN="$TIEMBED_BIN"
    else
        cargo build --release -p tiembed-server --bin tiembed
        BIN="$CARGO_TARGET_DIR/release/tiembed"
    fi
    trap pair_cleanup EXIT

    # tiembed on a fresh data dir next to MariaDB's.
    rm -rf "$BENCH_DIR/tiembed"
    mkdir -p "$BENCH_DIR/tiembed"
    local models_dir="${TIEMBED_MODELS_DIR:-$ROOT/models}"
    TIEMBED_LOG="${TIEMBED_LOG:-warn}" tiembed_start "$BIN" "$BENCH_DIR/tiembed" --models-dir "$models_dir"
    echo "tiembed $("$BIN" --version 2>/dev/null || true) on 127.0.0.1:$TIEMBED_PORT"

    # A scratch MariaDB restarted on a free port for this run.
    bench/mariadb.sh stop >/dev/null 2>&1 || true
    MARIADB_PORT="${MARIADB_PORT:-$(free_port)}"
    bench/mariadb.sh start "$MARIADB_PORT"
    started_mariadb=1
}
