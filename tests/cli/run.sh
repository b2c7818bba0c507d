#!/usr/bin/env bash
# The mariadb command-line client (Debian's mariadb-client, libmariadb)
# against a running server: batch mode (-e, a script on stdin, --force,
# table output), error codes as the CLI prints them, the Auto Embedding
# example, and an interactive session driven through tmux (start-up probes,
# auto-rehash's COM_FIELD_LIST, `\s` status, a query after it).
#
#   TIEMBED_HOST=127.0.0.1 TIEMBED_PORT=4000 tests/cli/run.sh
#
# Env: TIEMBED_HOST, TIEMBED_PORT, TIEMBED_USER (root), TIEMBED_PASSWORD
# (empty), TIEMBED_EXPECT_VERSION (8.0.11-TiDB-v8.5.3-serverless),
# TIEMBED_SKIP_MODEL_TESTS=1 (skip the test needing the real model),
# TIEMBED_TLS_PORT + TIEMBED_TLS_CA (a server started with the config of
# tests/python/tls_fixture.py; the TLS test is skipped without them).
# Prints "ok"/"FAILED" per test and "cli: N passed, M failed, K skipped" last;
# exits non-zero when a test failed.
set -uo pipefail

HOST="${TIEMBED_HOST:-127.0.0.1}"
PORT="${TIEMBED_PORT:-4000}"
DBUSER="${TIEMBED_USER:-root}"
PASSWORD="${TIEMBED_PASSWORD:-}"
VERSION="${TIEMBED_EXPECT_VERSION:-8.0.11-TiDB-v8.5.3-serverless}"
SKIP_MODEL="${TIEMBED_SKIP_MODEL_TESTS:-0}"

CLI="$(command -v mariadb || command -v mysql || true)"
if [ -z "$CLI" ]; then
    echo "FAILED: no mariadb/mysql client installed (apt-get install mariadb-client)"
    echo "cli: 0 passed, 1 failed"
    exit 1
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tiembed-cli.XXXXXX")"
DB="cli_$$_${RANDOM}"
TMUX_SESSION="tiembed-cli-$$"
cleanup() {
    tmux kill-session -t "$TMUX_SESSION" 2>/dev/null || true
    m -e "DROP DATABASE IF EXISTS \`$DB\`; DROP DATABASE IF EXISTS \`${DB}_i\`" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# The client with this server's address; --no-defaults keeps a developer's
# ~/.my.cnf out of the test, and a hung statement fails after 120 s instead
# of stalling the suite.
m() {
    local auth=()
    [ -n "$PASSWORD" ] && auth=("--password=$PASSWORD")
    timeout 120 "$CLI" --no-defaults --protocol=TCP --default-character-set=utf8mb4 \
        -h "$HOST" -P "$PORT" -u "$DBUSER" "${auth[@]}" "$@"
}

PASSED=0 FAILED=0 SKIPPED=0
CUR_FAIL=0
fail() { echo "    $*"; CUR_FAIL=1; }
# check DESCRIPTION EXPECTED ACTUAL
check() {
    if [ "$2" != "$3" ]; then
        fail "$1: mismatch"
        diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/      /' | head -n 40
    fi
}
# contains DESCRIPTION NEEDLE HAYSTACK (fixed string)
contains() {
    if ! grep -qF -- "$2" <<<"$3"; then
        fail "$1: expected to find: $2"
        printf '%s\n' "$3" | head -n 30 | sed 's/^/      | /'
    fi
}
run_test() {
    local name="$1"
    CUR_FAIL=0
    "$name"
    if [ "$CUR_FAIL" = 0 ]; then
        PASSED=$((PASSED + 1)); echo "ok      $name"
    else
        FAILED=$((FAILED + 1)); echo "FAILED  $name"
    fi
}
skip_test() { SKIPPED=$((SKIPPED + 1)); echo "skipped $1 ($2)"; }

# ---- batch mode ------------------------------------------------------------------

test_select_batch() {
    check "SELECT 1 (-N -B)" "1" "$(m -N -B -e "SELECT 1" 2>&1)"
    check "columns with headers (-B)" "$(printf 'a\tb\n1\tx')" "$(m -B -e "SELECT 1 AS a, 'x' AS b" 2>&1)"
    check "two statements in one -e" "$(printf '1\n2')" "$(m -N -B -e "SELECT 1; SELECT 2" 2>&1)"
}

test_version() {
    check "VERSION()" "$VERSION" "$(m -N -B -e "SELECT VERSION()" 2>&1)"
    local comment
    comment="$(m -N -B -e "select @@version_comment limit 1" 2>&1)"
    [ -n "$comment" ] || fail "@@version_comment is empty"
    case "$comment" in ERROR*) fail "@@version_comment: $comment" ;; esac
}

test_script_on_stdin() {
    local out
    out="$(m -N -B 2>&1 <<SQL
-- a comment line
CREATE DATABASE \`$DB\`;
USE \`$DB\`;
/* a block comment */
CREATE TABLE items (
  id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  qty INT DEFAULT 0
);
INSERT INTO items (name, qty) VALUES ('it''s', 1), ("double \"quoted\"", 2), ('back\\\\slash', 3);
INSERT INTO items (name) VALUES ('héllo 中文 😀');
SELECT name FROM items WHERE id = 3;
UPDATE items SET qty = qty * 10 WHERE id >= 2;
DELETE FROM items WHERE id = 3;
SELECT id, name, qty FROM items ORDER BY id;
SELECT COUNT(*), SUM(qty) FROM items;
SELECT LAST_INSERT_ID();
SQL
)"
    local want
    # Batch mode escapes a backslash in values as \\.
    want="$(printf '%s\n' \
        'back\\slash' \
        "$(printf '1\tit'"'"'s\t1')" \
        "$(printf '2\tdouble "quoted"\t20')" \
        "$(printf '4\théllo 中文 😀\t0')" \
        "$(printf '3\t21')" \
        "4")"
    check "script output" "$want" "$out"
}

test_table_output() {
    local out
    out="$(m -t -e "SELECT 1 AS one, 'abc' AS txt" 2>&1)"
    check "-t table output" "$(printf '%s\n' \
        '+-----+-----+' \
        '| one | txt |' \
        '+-----+-----+' \
        '|   1 | abc |' \
        '+-----+-----+')" "$out"
}

test_errors() {
    local out rc
    out="$(m -e "SELECT * FROM \`$DB\`.nosuch" 2>&1)"; rc=$?
    [ "$rc" = 1 ] || fail "unknown table: exit status $rc, want 1"
    contains "unknown table" "ERROR 1146 (42S02)" "$out"
    contains "unknown table text" "Table '$DB.nosuch' doesn't exist" "$out"

    out="$(m -e "SELEC 1" 2>&1)"
    contains "syntax error" "ERROR 1064 (42000)" "$out"

    out="$(m -e "INSERT INTO \`$DB\`.items (id, name) VALUES (1, 'dup')" 2>&1)"
    contains "duplicate key" "ERROR 1062 (23000)" "$out"

    out="$(m no_such_database_cli -e "SELECT 1" 2>&1)"
    contains "unknown database" "ERROR 1049 (42000)" "$out"
    contains "unknown database text" "Unknown database 'no_such_database_cli'" "$out"

    out="$(timeout 60 "$CLI" --no-defaults --protocol=TCP -h "$HOST" -P "$PORT" -u "$DBUSER" \
        "--password=${PASSWORD}wrong" -e "SELECT 1" 2>&1)"
    contains "wrong password" "ERROR 1045 (28000)" "$out"
}

test_force_continues_after_errors() {
    local out
    out="$(m --force -N -B "$DB" 2>"$WORK/force.err" <<'SQL'
CREATE TABLE f (id INT PRIMARY KEY);
INSERT INTO f VALUES (1);
INSERT INTO f VALUES (1);
SELECT * FROM no_such_table;
INSERT INTO f VALUES (2);
SELECT COUNT(*) FROM f;
SQL
)"
    check "statements after the errors ran" "2" "$out"
    local err
    err="$(cat "$WORK/force.err")"
    contains "duplicate reported" "ERROR 1062 (23000) at line 3" "$err"
    contains "missing table reported" "ERROR 1146 (42S02) at line 4" "$err"
    check "rows after --force" "$(printf '1\n2')" "$(m -N -B "$DB" -e "SELECT id FROM f ORDER BY id" 2>&1)"
}

test_auto_embedding_example() {
    local out
    out="$(m -N -B "$DB" 2>&1 <<'SQL'
SET @@GLOBAL.TIDB_EXP_EMBED_HUGGINGFACE_API_KEY = 'your-huggingface-api-key-here';
CREATE TABLE sample (
  `id` INT, `content` TEXT,
  `embedding` VECTOR(384) GENERATED ALWAYS AS (EMBED_TEXT(
      "huggingface/sentence-transformers/all-MiniLM-L6-v2", `content`)) STORED);
INSERT INTO sample (`id`, `content`) VALUES
  (1, "Java: Object-oriented language for cross-platform development."),
  (2, "Java coffee: Bold Indonesian beans with low acidity."),
  (3, "Java island: Densely populated, home to Jakarta."),
  (4, "Java's syntax is used in Android apps."),
  (5, "Dark roast Java beans enhance espresso blends.");
SELECT `id`, `content` FROM sample
ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding, "How to start learning Java programming?")
LIMIT 2;   -- rows 1 and 4
SQL
)"
    check "Auto Embedding example" "$(printf '%s\n' \
        "$(printf '1\tJava: Object-oriented language for cross-platform development.')" \
        "$(printf "4\tJava's syntax is used in Android apps.")")" "$out"
}

# ---- interactive (tmux) ---------------------------------------------------------

screen() { tmux capture-pane -p -J -S - -t "$TMUX_SESSION" 2>/dev/null; }
# type_line TEXT: types TEXT and Enter. tmux reads an argument ending in ';'
# as its own command separator, so a trailing ';' is escaped.
type_line() {
    local t="$1"
    case "$t" in *";") t="${t%;}\\;" ;; esac
    tmux send-keys -t "$TMUX_SESSION" -l "$t"
    tmux send-keys -t "$TMUX_SESSION" Enter
}
# The expected version as an extended regex (it contains dots, maybe '+').
VERSION_RE="$(printf '%s' "$VERSION" | sed 's/[][\\.*^$+?(){}|/]/\\&/g')"
# wait_for REGEX [SECONDS]: until the pane (with history) matches.
wait_for() {
    local deadline=$(( SECONDS + ${2:-20} ))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if screen | grep -qE -- "$1"; then return 0; fi
        sleep 0.2
    done
    return 1
}

test_interactive_session() {
    if ! command -v tmux >/dev/null 2>&1; then
        fail "tmux is not installed"
        return
    fi
    local idb="${DB}_i"
    # A table in the default database makes the client's auto-rehash send
    # COM_FIELD_LIST at start-up.
    m -e "CREATE DATABASE \`$idb\`; CREATE TABLE \`$idb\`.people (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO \`$idb\`.people VALUES (1, 'ann')" \
        || { fail "setup of $idb failed"; return; }
    local pw_flag=""
    [ -n "$PASSWORD" ] && pw_flag="--password=$PASSWORD"
    tmux new-session -d -s "$TMUX_SESSION" -x 160 -y 50 \
        "MYSQL_HISTFILE=/dev/null TERM=xterm '$CLI' --no-defaults --protocol=TCP --default-character-set=utf8mb4 -h '$HOST' -P '$PORT' -u '$DBUSER' $pw_flag '$idb'; echo CLIENT-EXITED-\$?; sleep 30"
    if ! wait_for "\[$idb\]> *\$" 30; then
        fail "no prompt within 30 s; screen:"
        screen | tail -n 25 | sed 's/^/      | /'
        return
    fi
    local s
    s="$(screen)"
    contains "welcome banner" "Welcome to the MariaDB monitor" "$s"
    contains "server version in the banner" "Server version: $VERSION" "$s"
    if grep -qE "ERROR|Didn't find any fields" <<<"$s"; then
        fail "start-up printed an error:"; printf '%s\n' "$s" | sed 's/^/      | /'
    fi

    type_line "select name, 1 + 1 as two from people;"
    wait_for "1 row in set" 15 || fail "no result for the first query"
    # Column widths are test_table_output's business; here only the values.
    screen | grep -qE '^\| ann +\| +2 \|$' || fail "no result row '| ann | 2 |' on the screen"

    type_line '\s'
    wait_for "Server version:[[:space:]]+$VERSION_RE" 15 || fail "\\s shows no 'Server version: $VERSION'"
    wait_for "Current database:[[:space:]]+$idb" 5 || fail "\\s shows no 'Current database: $idb'"

    type_line "select id * 7 as seven from people;"
    wait_for "\|[[:space:]]+7 \|" 15 || fail "no result for the query after \\s"
    s="$(screen)"
    if grep -qE "gone away|Lost connection|Trying to reconnect|ERROR" <<<"$s"; then
        fail "the session broke:"; printf '%s\n' "$s" | tail -n 30 | sed 's/^/      | /'
    fi

    type_line '\q'
    wait_for "CLIENT-EXITED-0" 10 || fail "the client did not exit cleanly on \\q"
    if [ "$CUR_FAIL" != 0 ]; then
        echo "      screen:"; screen | tail -n 40 | sed 's/^/      | /'
    fi
}

# ---- TLS -------------------------------------------------------------------------------

# --ssl-verify-server-cert against the test CA; `\s` prints the cipher,
# SHOW STATUS the session's TLS; a caching_sha2_password account logs in
# over TLS; without the CA the certificate is refused.
test_tls() {
    local tls=(--ssl-ca="$TIEMBED_TLS_CA" --ssl-verify-server-cert -h "$HOST" -P "$TIEMBED_TLS_PORT")
    local out
    out="$(timeout 60 "$CLI" --no-defaults --protocol=TCP "${tls[@]}" -u root \
        -e "SHOW STATUS LIKE 'Ssl_version'; \\s" 2>&1)"
    contains "SHOW STATUS" "Ssl_version	TLSv1.3" "$out"
    contains "\\s" "Cipher in use is TLS_" "$out"
    out="$(timeout 60 "$CLI" --no-defaults --protocol=TCP "${tls[@]}" -u sha2_user \
        --password=sha2-secret -N -e "SELECT CURRENT_USER()" 2>&1)"
    check "caching_sha2_password over TLS" "sha2_user@%" "$out"
    out="$(timeout 60 "$CLI" --no-defaults --protocol=TCP --ssl --ssl-verify-server-cert \
        -h "$HOST" -P "$TIEMBED_TLS_PORT" -u root -e "SELECT 1" 2>&1)"
    contains "untrusted certificate refused" "ERROR 2026" "$out"
}

# ---- run ------------------------------------------------------------------------------

echo "mariadb CLI suite: $("$CLI" --version) against $HOST:$PORT"
run_test test_select_batch
run_test test_version
run_test test_script_on_stdin
run_test test_table_output
run_test test_errors
run_test test_force_continues_after_errors
if [ "$SKIP_MODEL" = 1 ]; then
    skip_test test_auto_embedding_example "TIEMBED_SKIP_MODEL_TESTS=1"
else
    run_test test_auto_embedding_example
fi
run_test test_interactive_session
if [ -n "${TIEMBED_TLS_PORT:-}" ] && [ -n "${TIEMBED_TLS_CA:-}" ]; then
    run_test test_tls
else
    skip_test test_tls "TIEMBED_TLS_PORT/TIEMBED_TLS_CA not set"
fi

echo "cli: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]
