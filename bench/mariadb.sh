#!/usr/bin/env bash
# A scratch MariaDB (Debian's mariadb-server) on a loopback port, for the
# benchmark's baseline. Never touches a system instance: its own datadir,
# socket and pid file under $BENCH_DIR (default ~/.cache/tiembed-bench).
#
#   bench/mariadb.sh start [PORT]   initialise (once) and start on 127.0.0.1:PORT (3307)
#   bench/mariadb.sh stop
#   bench/mariadb.sh status
#
# root has an empty password over TCP, like tiembed's default, so the load
# driver connects to both the same way.
set -euo pipefail

cmd="${1:-}"
PORT="${2:-${MARIADB_PORT:-3307}}"
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/tiembed-bench}"
DATA="$BENCH_DIR/mariadb-data"
RUN="$BENCH_DIR/mariadb-run"
SOCK="$RUN/mariadb.sock"
PIDF="$RUN/mariadb.pid"

find_bin() {
    local b
    for b in "$@"; do
        if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return; fi
        if [ -x "/usr/sbin/$b" ]; then echo "/usr/sbin/$b"; return; fi
        if [ -x "/usr/bin/$b" ]; then echo "/usr/bin/$b"; return; fi
    done
    echo "mariadb.sh: none of $* found (apt-get install mariadb-server, or scripts/setup.sh --bench)" >&2
    exit 1
}

running() { [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; }

start() {
    local mariadbd install_db client
    mariadbd="$(find_bin mariadbd mysqld)"
    install_db="$(find_bin mariadb-install-db mysql_install_db)"
    client="$(find_bin mariadb mysql)"
    mkdir -p "$RUN"
    if running; then
        echo "mariadb already running (pid $(cat "$PIDF"))"
        return
    fi
    local user_flag=()
    [ "$(id -u)" = 0 ] && user_flag=(--user=root)
    if [ ! -d "$DATA/mysql" ]; then
        echo "initialising $DATA"
        rm -rf "$DATA"; mkdir -p "$DATA"
        "$install_db" --no-defaults "${user_flag[@]}" --datadir="$DATA" \
            --auth-root-authentication-method=normal --skip-test-db >"$BENCH_DIR/install-db.log" 2>&1 \
            || { cat "$BENCH_DIR/install-db.log" >&2; exit 1; }
    fi
    # Durability settings are MariaDB's defaults (binlog off as in Debian's
    # default config; InnoDB flushes its log at each commit), like tiembed's
    # flush-before-OK.
    "$mariadbd" --no-defaults "${user_flag[@]}" --datadir="$DATA" --socket="$SOCK" \
        --pid-file="$PIDF" --port="$PORT" --bind-address=127.0.0.1 --skip-name-resolve \
        --max-connections=500 --character-set-server=utf8mb4 \
        --collation-server=utf8mb4_bin --log-error="$BENCH_DIR/mariadb.err" >>"$BENCH_DIR/mariadb.out" 2>&1 &
    local _
    for _ in $(seq 1 120); do
        if "$client" --no-defaults -S "$SOCK" -u root -e "SELECT 1" >/dev/null 2>&1; then break; fi
        sleep 0.5
    done
    "$client" --no-defaults -S "$SOCK" -u root -e "
        CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
        GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
        CREATE DATABASE IF NOT EXISTS test;" \
        || { echo "mariadb did not come up; see $BENCH_DIR/mariadb.err" >&2; tail -20 "$BENCH_DIR/mariadb.err" >&2; exit 1; }
    echo "mariadb $("$client" --no-defaults -S "$SOCK" -u root -N -e 'SELECT VERSION()') on 127.0.0.1:$PORT (pid $(cat "$PIDF"))"
}

stop() {
    if running; then
        local pid
        pid="$(cat "$PIDF")"
        kill -TERM "$pid"
        local _
        for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        echo "mariadb stopped"
    else
        echo "mariadb not running"
    fi
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    status) if running; then echo "running (pid $(cat "$PIDF"))"; else echo "stopped"; exit 1; fi ;;
    *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
