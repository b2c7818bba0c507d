#!/usr/bin/env bash
# Installs what the test suites need, idempotently and quickly when nothing
# is missing:
#   - Debian packages: the mariadb CLI (CLI tests), tmux (interactive CLI
#     test), libmariadb-dev + pkg-config + a C compiler (mysqlclient builds
#     from source), docker-compose when a docker client without the compose
#     plugin is present (to validate docker/compose.yaml; no engine needed).
#   - A Python venv outside the clone with the pinned client libraries
#     (tests/python/requirements.txt + constraints.txt).
#   - Node.js and npm (Debian packages) and the Node client suite's
#     dependencies: `npm ci` in tests/node (package-lock.json), into
#     tests/node/node_modules (gitignored).
#
#   scripts/setup.sh [--bench]     --bench also installs mariadb-server
#
# Env: TIEMBED_VENV (default ~/.cache/tiembed-venv), PYTHON (default python3).
# apt-get runs only as root and only when something is missing; otherwise
# the missing packages are named and the script goes on (the suites that
# need them then fail or skip with a clear message).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TIEMBED_VENV:-$HOME/.cache/tiembed-venv}"
PYTHON="${PYTHON:-python3}"
want_bench=0
for a in "$@"; do
    case "$a" in
        --bench) want_bench=1 ;;
        *) echo "setup: unknown argument: $a" >&2; exit 2 ;;
    esac
done

log() { echo "setup: $*" >&2; }

# ---- Debian packages -------------------------------------------------------
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
command -v mariadb >/dev/null 2>&1 || command -v mysql >/dev/null 2>&1 || missing+=(mariadb-client)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
if command -v dpkg-query >/dev/null 2>&1; then
    have_pkg libmariadb-dev || have_pkg default-libmysqlclient-dev || missing+=(libmariadb-dev)
fi
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
if command -v docker >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1 \
    && ! command -v docker-compose >/dev/null 2>&1; then
    missing+=(docker-compose)
fi
if [ "$want_bench" = 1 ] && ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
    missing+=(mariadb-server)
fi

if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # policy-rc.d on build machines keeps mariadb-server from starting a
        # system instance; the benchmark starts its own on a scratch datadir.
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        log "missing Debian packages (install them as root): ${missing[*]}"
    fi
fi

# ---- Python venv -----------------------------------------------------------
req="$ROOT/tests/python/requirements.txt"
con="$ROOT/tests/python/constraints.txt"
stamp="$VENV/.tiembed-requirements.sha256"
want_sum="$(cat "$req" "$con" | sha256sum | cut -d' ' -f1)"

if [ ! -x "$VENV/bin/python" ]; then
    log "creating venv $VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want_sum" ]; then
    log "installing Python client libraries into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$req" -c "$con"
    echo "$want_sum" > "$stamp"
else
    log "venv $VENV is up to date"
fi

# ---- Node client suite -------------------------------------------------------
node_dir="$ROOT/tests/node"
node_stamp="$node_dir/node_modules/.tiembed-lock.sha256"
if command -v npm >/dev/null 2>&1; then
    want_node="$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1)"
    if [ "$(cat "$node_stamp" 2>/dev/null || true)" != "$want_node" ]; then
        log "installing the Node client suite's packages (npm ci in tests/node)"
        (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
        echo "$want_node" > "$node_stamp"
    else
        log "tests/node/node_modules is up to date"
    fi
else
    log "npm is missing: the Node client suite cannot run"
fi
