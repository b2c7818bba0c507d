# shellcheck shell=bash
# Functions to run a throwaway tiembed server on a free loopback port.
# Sourced by scripts/test-all.sh and bench/run.sh.
# shellcheck disable=SC2034  # TIEMBED_* are read by the sourcing script
#
#   tiembed_start BIN WORKDIR [extra server flags...]
#       starts BIN on 127.0.0.1:<free port> with WORKDIR/data as its data
#       directory and WORKDIR/server.log as its log; sets TIEMBED_PID and
#       TIEMBED_PORT; returns non-zero (log tail printed) if it does not
#       greet a client within TIEMBED_START_TIMEOUT seconds (default 120).
#   tiembed_kill9
#       SIGKILL, as a crash would.
#   tiembed_stop
#       SIGTERM, then waits up to 40 s (SIGKILL after that); sets
#       TIEMBED_EXIT to the server's exit status.

free_port() {
    python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# Succeeds once HOST:PORT sends a MySQL protocol-10 greeting.
mysql_greets() {
    python3 - "$1" "$2" <<'PY'
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2) as s:
        s.settimeout(5)
        head = b""
        while len(head) < 5:
            chunk = s.recv(5 - len(head))
            if not chunk:
                break
            head += chunk
        sys.exit(0 if len(head) == 5 and head[4] == 10 else 1)
except OSError:
    sys.exit(1)
PY
}

tiembed_start() {
    local bin="$1" work="$2"
    shift 2
    mkdir -p "$work/data"
    TIEMBED_PORT="$(free_port)"
    "$bin" --listen "127.0.0.1:$TIEMBED_PORT" --data-dir "$work/data" "$@" \
        >"$work/server.log" 2>&1 &
    TIEMBED_PID=$!
    local deadline=$(( SECONDS + ${TIEMBED_START_TIMEOUT:-120} ))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! kill -0 "$TIEMBED_PID" 2>/dev/null; then
            echo "tiembed exited during start-up; log tail:" >&2
            tail -n 40 "$work/server.log" >&2
            TIEMBED_PID=""
            return 1
        fi
        if mysql_greets 127.0.0.1 "$TIEMBED_PORT"; then
            return 0
        fi
        sleep 0.3
    done
    echo "tiembed did not greet on 127.0.0.1:$TIEMBED_PORT within ${TIEMBED_START_TIMEOUT:-120}s; log tail:" >&2
    tail -n 40 "$work/server.log" >&2
    tiembed_stop
    return 1
}

# kill -9, as a crash would.
tiembed_kill9() {
    [ -n "${TIEMBED_PID:-}" ] || return 0
    kill -KILL "$TIEMBED_PID" 2>/dev/null || true
    wait "$TIEMBED_PID" 2>/dev/null || true
    TIEMBED_PID=""
}

tiembed_stop() {
    TIEMBED_EXIT=""
    [ -n "${TIEMBED_PID:-}" ] || return 0
    kill -TERM "$TIEMBED_PID" 2>/dev/null || true
    local _
    for _ in $(seq 1 400); do
        kill -0 "$TIEMBED_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$TIEMBED_PID" 2>/dev/null; then
        echo "tiembed did not stop within 40 s of SIGTERM; killing it" >&2
        kill -KILL "$TIEMBED_PID" 2>/dev/null || true
    fi
    local rc=0
    wait "$TIEMBED_PID" 2>/dev/null || rc=$?
    TIEMBED_EXIT="$rc"
    TIEMBED_PID=""
}
