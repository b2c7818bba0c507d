#!/usr/bin/env bash
# Runs every test of tiembed and prints one summary line at the end:
#
#   scripts/test-all.sh [--skip-cargo] [--skip-clients] [--no-setup]
#
#  1. scripts/setup.sh: Debian packages + the Python venv (fast when present),
#     scripts/fetch-models.sh: the local MiniLM model (fast when present).
#  2. cargo build of the `tiembed` binary, then `cargo test --workspace`
#     (unit tests, .slt files, wire-level integration tests).
#  3. A tiembed server on a free loopback port with a temporary data dir, and
#     next to it a second one configured for TLS with a test CA and the
#     caching_sha2_password accounts of tests/python/tls_fixture.py (its
#     port and CA exported as TIEMBED_TLS_PORT / TIEMBED_TLS_CA). Against
#     them the Python client suites (tests/python, pytest), the mariadb CLI
#     suite (tests/cli/run.sh) and the Node mysql2 suite (tests/node,
#     node --test); then SIGTERM, which must end both servers cleanly. Then
#     a crash test: commits over the wire, kill -9 with a transaction open,
#     restart on the same data dir, committed rows only.
#  4. `docker compose config` of docker/compose.yaml when a compose client is
#     installed (no engine needed).
#
# The last line is "N passed, M failed, K skipped" summed over all suites;
# the exit status is non-zero when anything failed or nothing ran.
#
# Env: CARGO_TARGET_DIR (default ~/.cache/tiembed-target, outside the clone),
# TIEMBED_VENV (default ~/.cache/tiembed-venv), TIEMBED_MODELS_DIR (default
# ./models), TIEMBED_SKIP_MODEL_TESTS=1 to skip the tests needing the real
# model (set automatically, with a warning, when it cannot be fetched outside
# CI), CARGO_PROFILE_FLAGS (e.g. "--release"; default: debug profile),
# TIEMBED_BIN=/path/to/tiembed to test that binary instead of building one.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
# shellcheck source=scripts/server-lib.sh
. "$ROOT/scripts/server-lib.sh"

skip_cargo=0 skip_clients=0 no_setup=0
for a in "$@"; do
    case "$a" in
        --skip-cargo) skip_cargo=1 ;;
        --skip-clients) skip_clients=1 ;;
        --no-setup) no_setup=1 ;;
        -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "test-all: unknown argument: $a" >&2; exit 2 ;;
    esac
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tiembed-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export TIEMBED_VENV="${TIEMBED_VENV:-$HOME/.cache/tiembed-venv}"
export TIEMBED_MODELS_DIR="${TIEMBED_MODELS_DIR:-$ROOT/models}"
read -r -a PROFILE_FLAGS <<< "${CARGO_PROFILE_FLAGS:-}"
PROFILE_DIR=debug
for f in "${PROFILE_FLAGS[@]}"; do [ "$f" = "--release" ] && PROFILE_DIR=release; done
PY="$TIEMBED_VENV/bin/python"
CI="${CI:-}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tiembed-test.XXXXXX")"
TLS_PID=""
cleanup() {
    tiembed_stop >/dev/null 2>&1 || true
    if [ -n "$TLS_PID" ]; then TIEMBED_PID="$TLS_PID" tiembed_stop >/dev/null 2>&1 || true; fi
    if [ "${KEEP_TEST_DIR:-0}" = 1 ]; then echo "test-all: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

banner() { printf '\n==== %s ====\n' "$*"; }

# ---- result bookkeeping ----------------------------------------------------
TOTAL_P=0 TOTAL_F=0 TOTAL_S=0
SUMMARY=()
record() { # name passed failed skipped [note]
    TOTAL_P=$(( TOTAL_P + $2 )); TOTAL_F=$(( TOTAL_F + $3 )); TOTAL_S=$(( TOTAL_S + $4 ))
    SUMMARY+=("$(printf '%-22s %5d passed %5d failed %5d skipped  %s' "$1" "$2" "$3" "$4" "${5:-}")")
}

# ---- 1. set-up ---------------------------------------------------------------
if [ "$no_setup" = 0 ]; then
    banner "set-up"
    if ! "$ROOT/scripts/setup.sh"; then
        echo "test-all: scripts/setup.sh failed" >&2
        record setup 0 1 0 "scripts/setup.sh failed"
    fi
fi

model_dir="$TIEMBED_MODELS_DIR/sentence-transformers/all-MiniLM-L6-v2"
if [ "${TIEMBED_SKIP_MODEL_TESTS:-0}" != 1 ]; then
    if [ ! -s "$model_dir/model.safetensors" ] && [ "$no_setup" = 0 ]; then
        "$ROOT/scripts/fetch-models.sh" --models-dir "$TIEMBED_MODELS_DIR" || true
    fi
    if [ -s "$model_dir/model.safetensors" ]; then
        export TIEMBED_REQUIRE_MODELS="${TIEMBED_REQUIRE_MODELS:-1}"
    elif [ -n "$CI" ]; then
        echo "test-all: the MiniLM model is missing from $model_dir (scripts/fetch-models.sh failed?)" >&2
        record models 0 1 0 "MiniLM model missing"
    else
        echo "test-all: WARNING: no MiniLM model in $model_dir; tests needing it are skipped" >&2
        export TIEMBED_SKIP_MODEL_TESTS=1
    fi
fi

# ---- 2. Rust -----------------------------------------------------------------
build_ok=1
if [ -n "${TIEMBED_BIN:-}" ]; then
    BIN="$TIEMBED_BIN"
else
    BIN="$CARGO_TARGET_DIR/$PROFILE_DIR/tiembed"
    banner "cargo build -p tiembed-server --bin tiembed ${PROFILE_FLAGS[*]}"
    if ! cargo build "${PROFILE_FLAGS[@]}" -p tiembed-server --bin tiembed; then
        build_ok=0
        record "build tiembed" 0 1 0 "cargo build failed"
    fi
fi

if [ "$skip_cargo" = 0 ]; then
    banner "cargo test --workspace"
    cargo_log="$WORK/cargo-test.log"
    timeout --signal=TERM 45m cargo test "${PROFILE_FLAGS[@]}" --workspace --no-fail-fast 2>&1 | tee "$cargo_log"
    cargo_rc=${PIPESTATUS[0]}
    read -r cp cf cs < <(awk '
        /^test result: / {
            for (i = 1; i <= NF; i++) {
                if ($(i+1) ~ /^passed/) p += $i
                if ($(i+1) ~ /^failed/) f += $i
                if ($(i+1) ~ /^ignored/) s += $i
            }
        }
        END { printf "%d %d %d\n", p, f, s }' "$cargo_log")
    note=""
    if [ "$cargo_rc" != 0 ] && [ "$cf" = 0 ]; then
        # A compile error or a crashed test binary reports no failed test.
        cf=1; note="cargo test exited $cargo_rc"
    fi
    record "cargo test" "$cp" "$cf" "$cs" "$note"
fi

# ---- 3. clients over the wire ----------------------------------------------

# Commits through the wire, kill -9 with a transaction open, restart on the
# same data directory, then every committed change and nothing else.
durability_test() {
    local dwork="$WORK/durability" wpid i
    mkdir -p "$dwork"
    tiembed_start "$BIN" "$dwork" --models-dir "$TIEMBED_MODELS_DIR" || return 1
    "$PY" "$ROOT/tests/python/durability_check.py" write --port "$TIEMBED_PORT" \
        --ready "$dwork/ready" >"$dwork/writer.log" 2>&1 &
    wpid=$!
    for i in $(seq 1 600); do
        [ -e "$dwork/ready" ] && break
        kill -0 "$wpid" 2>/dev/null || break
        sleep 0.2
    done
    if [ ! -e "$dwork/ready" ]; then
        echo "FAILED: the writer did not reach its uncommitted transaction (after ${i} polls):"
        kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
        tail -n 30 "$dwork/writer.log"
        tiembed_stop
        return 1
    fi
    tiembed_kill9
    kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
    mv "$dwork/server.log" "$dwork/server-before-crash.log"
    tiembed_start "$BIN" "$dwork" --models-dir "$TIEMBED_MODELS_DIR" || return 1
    local rc=0
    "$PY" "$ROOT/tests/python/durability_check.py" verify --port "$TIEMBED_PORT" || rc=1
    tiembed_stop
    return "$rc"
}
if [ "$skip_clients" = 0 ]; then
    if [ "$build_ok" = 0 ] || [ ! -x "$BIN" ]; then
        record "client suites" 0 1 0 "no tiembed binary to test"
    else
        banner "TLS-configured tiembed server (tests/python/tls_fixture.py)"
        # Started first: tiembed_start sets TIEMBED_PORT, which the main
        # server's start then overwrites.
        if [ -x "$PY" ] && "$PY" "$ROOT/tests/python/tls_fixture.py" "$WORK/tls" \
            && tiembed_start "$BIN" "$WORK/tls-server" --config "$WORK/tls/tiembed.toml" \
                --models-dir "$TIEMBED_MODELS_DIR"; then
            TLS_PID="$TIEMBED_PID"
            export TIEMBED_TLS_PORT="$TIEMBED_PORT" TIEMBED_TLS_CA="$WORK/tls/ca.pem"
            echo "TLS tiembed pid $TLS_PID on 127.0.0.1:$TIEMBED_TLS_PORT (CA: $TIEMBED_TLS_CA)"
        else
            record "TLS server" 0 1 0 "the TLS-configured server did not start"
        fi

        banner "tiembed server for the client suites"
        if tiembed_start "$BIN" "$WORK" --models-dir "$TIEMBED_MODELS_DIR"; then
            echo "tiembed pid $TIEMBED_PID on 127.0.0.1:$TIEMBED_PORT (log: $WORK/server.log)"
            export TIEMBED_HOST=127.0.0.1 TIEMBED_PORT
            if [ -z "${TIEMBED_FIXTURES_DIR:-}" ] && [ -d "$ROOT/../shared/fixtures" ]; then
                export TIEMBED_FIXTURES_DIR="$ROOT/../shared/fixtures"
            fi

            banner "Python client suites (pytest tests/python)"
            if [ -x "$PY" ]; then
                junit="$WORK/pytest.xml"
                # TIEMBED_BIN: test_vector_index.py starts servers of its own
                # from it (kill -9 and damaged index files, then restart).
                TIEMBED_BIN="$BIN" timeout --signal=TERM 20m "$PY" -m pytest "$ROOT/tests/python" -p no:cacheprovider \
                    -q -rfEs --junitxml="$junit"
                py_rc=$?
                read -r pp pf ps < <("$PY" - "$junit" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 0, 0); sys.exit()
# Per test case: one that failed and also errored in teardown counts once.
p = f = s = 0
for case in root.iter("testcase"):
    tags = {child.tag for child in case}
    if tags & {"failure", "error"}:
        f += 1
    elif "skipped" in tags:
        s += 1
    else:
        p += 1
print(p, f, s)
PY
)
                note=""
                if [ "$py_rc" = 5 ]; then
                    pf=$(( pf + 1 )); note="pytest collected no tests"
                elif [ "$py_rc" != 0 ] && [ "$pf" = 0 ]; then
                    pf=1; note="pytest exited $py_rc"
                fi
                record "python clients" "$pp" "$pf" "$ps" "$note"
            else
                record "python clients" 0 1 0 "no venv at $TIEMBED_VENV (run scripts/setup.sh)"
            fi

            banner "mariadb CLI suite (tests/cli/run.sh)"
            cli_log="$WORK/cli.log"
            timeout --signal=TERM 10m bash "$ROOT/tests/cli/run.sh" 2>&1 | tee "$cli_log"
            cli_rc=${PIPESTATUS[0]}
            line="$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$cli_log" | tail -n 1)"
            read -r qp qf qs < <(echo "$line" | sed -E 's/^[A-Za-z]+: //' |
                awk -F'[ ,]+' '{ printf "%d %d %d\n", $1, $3, ($5 == "" ? 0 : $5) }')
            note=""
            if [ "$cli_rc" != 0 ] && [ "${qf:-0}" = 0 ]; then qf=1; note="tests/cli/run.sh exited $cli_rc"; fi
            record "mariadb CLI" "${qp:-0}" "${qf:-0}" "${qs:-0}" "$note"

            banner "Node mysql2 suite (node --test tests/node)"
            if command -v node >/dev/null 2>&1 && [ -d "$ROOT/tests/node/node_modules/mysql2" ]; then
                node_log="$WORK/node.log"
                (cd "$ROOT/tests/node" && timeout --signal=TERM 10m node --test --test-reporter=tap mysql2.test.js) 2>&1 | tee "$node_log"
                node_rc=${PIPESTATUS[0]}
                # The TAP reporter ends with "# pass N", "# fail N", "# cancelled N", "# skipped N".
                read -r np nf ns < <(awk '
                    /^# pass / { p = $3 } /^# fail / { f = $3 }
                    /^# cancelled / { c = $3 } /^# skipped / { s = $3 }
                    END { printf "%d %d %d\n", p, f + c, s }' "$node_log")
                note=""
                if [ "$node_rc" != 0 ] && [ "$nf" = 0 ]; then nf=1; note="node --test exited $node_rc"; fi
                if [ "$np" = 0 ] && [ "$nf" = 0 ]; then nf=1; note="node --test ran no tests"; fi
                record "node mysql2" "$np" "$nf" "$ns" "$note"
            else
                record "node mysql2" 0 1 0 "node or tests/node/node_modules missing (run scripts/setup.sh)"
            fi

            banner "server lifecycle"
            sp=0 sf=0
            # The docker image's health check, against this server.
            if TIEMBED_HEALTH_PORT="$TIEMBED_PORT" python3 "$ROOT/docker/healthcheck.py"; then
                sp=$(( sp + 1 )); echo "ok: docker/healthcheck.py sees a healthy server"
            else
                sf=$(( sf + 1 )); echo "FAILED: docker/healthcheck.py reports the server unhealthy"
            fi
            tiembed_stop
            if [ "$TIEMBED_EXIT" = 0 ]; then
                sp=$(( sp + 1 )); echo "ok: SIGTERM ended the server with status 0"
            else
                sf=$(( sf + 1 )); echo "FAILED: server exit status after SIGTERM: $TIEMBED_EXIT"
            fi
            if grep -q "panicked at" "$WORK/server.log"; then
                sf=$(( sf + 1 )); echo "FAILED: the server log shows a panic:"
                grep -n -A5 "panicked at" "$WORK/server.log" | head -n 30
            else
                sp=$(( sp + 1 )); echo "ok: no panic in the server log"
            fi
            if [ -n "$TLS_PID" ]; then
                TIEMBED_PID="$TLS_PID"
                TLS_PID=""
                tiembed_stop
                if [ "$TIEMBED_EXIT" = 0 ]; then
                    sp=$(( sp + 1 )); echo "ok: SIGTERM ended the TLS server with status 0"
                else
                    sf=$(( sf + 1 )); echo "FAILED: TLS server exit status after SIGTERM: $TIEMBED_EXIT"
                fi
                if grep -q "panicked at" "$WORK/tls-server/server.log"; then
                    sf=$(( sf + 1 )); echo "FAILED: the TLS server log shows a panic:"
                    grep -n -A5 "panicked at" "$WORK/tls-server/server.log" | head -n 30
                else
                    sp=$(( sp + 1 )); echo "ok: no panic in the TLS server log"
                fi
            fi
            record "server lifecycle" "$sp" "$sf" 0
            [ "$sf" = 0 ] || tail -n 60 "$WORK/server.log"
        else
            record "client suites" 0 1 0 "tiembed did not start"
        fi

        banner "crash durability (kill -9, restart, committed rows only)"
        if durability_test; then
            record "crash durability" 1 0 0
        else
            record "crash durability" 0 1 0 "see the log above"
        fi
    fi
fi

# ---- 4. docker compose file ---------------------------------------------------
compose=()
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
fi
if [ "${#compose[@]}" -gt 0 ]; then
    banner "${compose[*]} -f docker/compose.yaml config"
    if "${compose[@]}" -f "$ROOT/docker/compose.yaml" config -q; then
        record "compose config" 1 0 0
    else
        record "compose config" 0 1 0 "docker/compose.yaml does not validate"
    fi
else
    record "compose config" 0 0 1 "no compose client installed"
fi

# ---- summary -------------------------------------------------------------------
banner "summary"
for l in "${SUMMARY[@]}"; do echo "$l"; done
echo
echo "$TOTAL_P passed, $TOTAL_F failed, $TOTAL_S skipped"
[ "$TOTAL_F" = 0 ] && [ "$TOTAL_P" -gt 0 ]
