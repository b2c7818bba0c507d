"""PyMySQL over the wire: connection, CRUD with parameters, transactions,
error codes, lastrowid/rowcount, types. PyMySQL interpolates parameters on the
client and sends COM_QUERY text (`'it\\'s'`), and turns autocommit off on
every connection (`SET AUTOCOMMIT = 0`)."""

import datetime
import decimal
import json

import pymysql
import pytest
from pymysql.constants import CLIENT

from conftest import EXPECT_VERSION, PASSWORD, USER, connect


def fetch(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def expect_error(conn, sql, code, args=None):
    with pytest.raises(pymysql.MySQLError) as info:
        with conn.cursor() as cur:
            cur.execute(sql, args)
    assert info.value.args[0] == code, info.value.args
    return info.value


# ---- connection --------------------------------------------------------------


def test_select_1(conn):
    assert fetch(conn, "SELECT 1") == ((1,),)
    assert fetch(conn, "SELECT 1 + 1, 'a', NULL") == ((2, "a", None),)


def test_server_version_looks_like_tidb(conn):
    assert conn.get_server_info() == EXPECT_VERSION
    assert "MariaDB" not in conn.get_server_info()
    assert fetch(conn, "SELECT VERSION()") == ((EXPECT_VERSION,),)


def test_connect_without_database_then_select_db(dbname):
    c = connect()
    try:
        assert fetch(c, "SELECT DATABASE()") == ((None,),)
        c.select_db(dbname)  # COM_INIT_DB
        assert fetch(c, "SELECT DATABASE()") == ((dbname,),)
        c.ping(reconnect=False)  # COM_PING
        with c.cursor() as cur:
            cur.execute("USE test")
        assert fetch(c, "SELECT DATABASE()") == (("test",),)
    finally:
        c.close()


# ---- CRUD ------------------------------------------------------------------------


@pytest.fixture
def people(conn):
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE people (id INT AUTO_INCREMENT PRIMARY KEY, "
            "name VARCHAR(100) NOT NULL, score INT)"
        )
    return conn


def test_insert_with_params_lastrowid_rowcount(people):
    conn = people
    with conn.cursor() as cur:
        assert cur.execute("INSERT INTO people (name, score) VALUES (%s, %s)", ("it's", 10)) == 1
        assert cur.rowcount == 1
        assert cur.lastrowid == 1
        cur.execute("SELECT LAST_INSERT_ID()")
        assert cur.fetchone() == (1,)

        cur.execute("INSERT INTO people (name, score) VALUES (%s, %s)", ("héllo wörld 中文 😀", 20))
        assert cur.lastrowid == 2

        # executemany is rewritten into one multi-row INSERT: MySQL reports the
        # first generated id.
        assert cur.executemany(
            "INSERT INTO people (name, score) VALUES (%s, %s)", [("a", 30), ("b", None)]
        ) == 2
        assert cur.lastrowid == 3
    conn.commit()

    assert fetch(conn, "SELECT id, name, score FROM people ORDER BY id") == (
        (1, "it's", 10),
        (2, "héllo wörld 中文 😀", 20),
        (3, "a", 30),
        (4, "b", None),
    )
    assert fetch(conn, "SELECT id FROM people WHERE name = %s", ("it's",)) == ((1,),)
    assert fetch(conn, "SELECT id FROM people WHERE name = %s", ("héllo wörld 中文 😀",)) == ((2,),)


def test_update_and_delete_rowcount(people):
    conn = people
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO people (name, score) VALUES (%s, %s)",
            [("a", 10), ("b", 20), ("c", 30), ("d", None)],
        )
        assert cur.execute("UPDATE people SET score = score + 1 WHERE score >= %s", (20,)) == 2
        assert cur.execute("UPDATE people SET name = 'zz' WHERE id = 999") == 0
        assert cur.execute("DELETE FROM people WHERE score IS NULL") == 1
        assert cur.execute("DELETE FROM people WHERE id = 999") == 0
    conn.commit()
    assert fetch(conn, "SELECT name, score FROM people ORDER BY id") == (
        ("a", 10),
        ("b", 21),
        ("c", 31),
    )
    assert fetch(conn, "SELECT COUNT(*) FROM people") == ((3,),)


def test_affected_rows_changed_vs_found(dbname):
    """Without CLIENT_FOUND_ROWS MySQL reports changed rows; with it, matched
    rows (SQLAlchemy sets the flag and checks the count)."""
    plain = connect(database=dbname, autocommit=True)
    found = connect(database=dbname, autocommit=True, client_flag=CLIENT.FOUND_ROWS)
    try:
        with plain.cursor() as cur:
            cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
            cur.execute("INSERT INTO t VALUES (1, 5), (2, 5), (3, 6)")
            assert cur.execute("UPDATE t SET v = 5 WHERE id IN (1, 2)") == 0
            assert cur.execute("UPDATE t SET v = 5 WHERE id IN (1, 2, 3)") == 1
        with found.cursor() as cur:
            assert cur.execute("UPDATE t SET v = 5 WHERE id IN (1, 2)") == 2
            assert cur.execute("UPDATE t SET v = 7 WHERE id = 3") == 1
    finally:
        plain.close()
        found.close()


def test_escaping_round_trip(conn):
    tricky = [
        "It's a \"quoted\" text with backslash \\ and unicode é 中文.",
        "line one\nline two\ttab\r\n",
        "percent % and underscore _ and ? and %s",
        "'; DROP TABLE t; --",
        "",
        "\x00nul inside",
    ]
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, s TEXT)")
        for i, s in enumerate(tricky):
            cur.execute("INSERT INTO t (id, s) VALUES (%s, %s)", (i, s))
    conn.commit()
    rows = fetch(conn, "SELECT id, s FROM t ORDER BY id")
    assert [r[1] for r in rows] == tricky
    for i, s in enumerate(tricky):
        assert fetch(conn, "SELECT id FROM t WHERE s = %s", (s,)) == ((i,),)


def test_types_round_trip(conn):
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE ty (id BIGINT PRIMARY KEY, d DECIMAL(10,2), f DOUBLE, "
            "b BOOLEAN, dt DATETIME, day DATE, j JSON, u INT UNSIGNED, s VARCHAR(20))"
        )
        cur.execute(
            "INSERT INTO ty VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                2**62,
                decimal.Decimal("12.34"),
                1.5,
                True,
                datetime.datetime(2024, 1, 2, 3, 4, 5),
                datetime.date(2024, 2, 29),
                json.dumps({"lang": "en", "n": 1}),
                4294967295,
                None,
            ),
        )
    conn.commit()
    row = fetch(conn, "SELECT id, d, f, b, dt, day, j, u, s FROM ty")[0]
    assert row[0] == 2**62
    assert row[1] == decimal.Decimal("12.34") and isinstance(row[1], decimal.Decimal)
    assert row[2] == 1.5
    assert row[3] == 1
    assert row[4] == datetime.datetime(2024, 1, 2, 3, 4, 5)
    assert row[5] == datetime.date(2024, 2, 29)
    assert json.loads(row[6]) == {"lang": "en", "n": 1}
    assert row[7] == 4294967295
    assert row[8] is None


def test_many_rows_and_a_large_value(conn):
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE big (id INT PRIMARY KEY, v INT, s LONGTEXT)")
        cur.executemany("INSERT INTO big (id, v) VALUES (%s, %s)", [(i, i * 2) for i in range(1, 1001)])
        large = "x" * (1 << 20) + "é"
        cur.execute("INSERT INTO big (id, v, s) VALUES (%s, %s, %s)", (5000, 0, large))
    conn.commit()
    rows = fetch(conn, "SELECT id, v FROM big WHERE id <= 1000 ORDER BY id")
    assert len(rows) == 1000
    assert rows[0] == (1, 2) and rows[-1] == (1000, 2000)
    assert fetch(conn, "SELECT SUM(v), COUNT(*) FROM big WHERE id <= 1000")[0] == (
        decimal.Decimal(1001000),
        1000,
    )
    assert fetch(conn, "SELECT s FROM big WHERE id = 5000")[0][0] == large


# ---- transactions ------------------------------------------------------------------


def test_commit_and_rollback_with_autocommit_off(dbname):
    c1 = connect(database=dbname)  # autocommit off, as PyMySQL defaults
    c2 = connect(database=dbname, autocommit=True)
    try:
        with c1.cursor() as cur:
            cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
            cur.execute("INSERT INTO t VALUES (1, 'a')")
            # Own writes are visible inside the transaction ...
            cur.execute("SELECT COUNT(*) FROM t")
            assert cur.fetchone() == (1,)
        # ... but not to another session before COMMIT.
        assert fetch(c2, "SELECT COUNT(*) FROM t") == ((0,),)
        c1.commit()
        assert fetch(c2, "SELECT id, v FROM t") == ((1, "a"),)

        with c1.cursor() as cur:
            cur.execute("INSERT INTO t VALUES (2, 'b')")
            cur.execute("UPDATE t SET v = 'changed' WHERE id = 1")
            cur.execute("SELECT COUNT(*) FROM t")
            assert cur.fetchone() == (2,)
        c1.rollback()
        assert fetch(c1, "SELECT id, v FROM t") == ((1, "a"),)
        assert fetch(c2, "SELECT id, v FROM t") == ((1, "a"),)
    finally:
        c1.close()
        c2.close()


def test_explicit_transaction_and_dropped_connection(dbname):
    c = connect(database=dbname, autocommit=True)
    try:
        with c.cursor() as cur:
            cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
            cur.execute("START TRANSACTION")
            cur.execute("INSERT INTO t VALUES (1)")
            cur.execute("ROLLBACK")
            cur.execute("BEGIN")
            cur.execute("INSERT INTO t VALUES (2)")
            cur.execute("COMMIT")
        assert fetch(c, "SELECT id FROM t") == ((2,),)

        # A connection that goes away mid-transaction leaves nothing behind.
        gone = connect(database=dbname)
        with gone.cursor() as cur:
            cur.execute("INSERT INTO t VALUES (3)")
        gone.close()
        assert fetch(c, "SELECT id FROM t ORDER BY id") == ((2,),)
    finally:
        c.close()


# ---- errors -------------------------------------------------------------------------


def test_error_1146_unknown_table(conn, dbname):
    e = expect_error(conn, "SELECT * FROM nosuch", 1146)
    assert isinstance(e, pymysql.err.ProgrammingError)
    assert f"Table '{dbname}.nosuch' doesn't exist" in e.args[1]
    # The connection stays usable after an error.
    assert fetch(conn, "SELECT 1") == ((1,),)


def test_error_1062_duplicate_key(conn):
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, email VARCHAR(50) UNIQUE)")
        cur.execute("INSERT INTO t VALUES (1, 'a@x')")
    e = expect_error(conn, "INSERT INTO t VALUES (1, 'b@x')", 1062)
    assert isinstance(e, pymysql.err.IntegrityError)
    assert "Duplicate entry '1'" in e.args[1]
    e = expect_error(conn, "INSERT INTO t VALUES (2, 'a@x')", 1062)
    assert "Duplicate entry 'a@x'" in e.args[1]
    conn.commit()
    assert fetch(conn, "SELECT id, email FROM t") == ((1, "a@x"),)


def test_error_1049_unknown_database(conn):
    with pytest.raises(pymysql.MySQLError) as info:
        connect(database="no_such_database_tiembed")
    assert info.value.args[0] == 1049
    assert "Unknown database 'no_such_database_tiembed'" in info.value.args[1]
    expect_error(conn, "USE no_such_database_tiembed", 1049)
    with pytest.raises(pymysql.MySQLError) as info:
        conn.select_db("no_such_database_tiembed")  # COM_INIT_DB
    assert info.value.args[0] == 1049


def test_error_1045_wrong_password():
    wrong = PASSWORD + "-wrong"
    with pytest.raises(pymysql.MySQLError) as info:
        connect(password=wrong)
    assert info.value.args[0] == 1045
    assert f"Access denied for user '{USER}'" in info.value.args[1]
    with pytest.raises(pymysql.MySQLError) as info:
        connect(user="no_such_user_tiembed", password="x")
    assert info.value.args[0] == 1045


def test_error_1064_syntax(conn):
    e = expect_error(conn, "SELEC 1", 1064)
    assert isinstance(e, pymysql.err.ProgrammingError)
    assert "syntax" in e.args[1].lower()
    expect_error(conn, "SELECT * FROM WHERE", 1064)
    assert fetch(conn, "SELECT 2") == ((2,),)


def test_other_error_codes(conn, dbname):
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(10) NOT NULL)")
    expect_error(conn, "CREATE TABLE t (id INT)", 1050)
    expect_error(conn, "SELECT nope FROM t", 1054)
    expect_error(conn, "INSERT INTO t (id, name) VALUES (1, NULL)", 1048)
    expect_error(conn, "DROP TABLE no_such_table", 1051)
    expect_error(conn, f"CREATE DATABASE `{dbname}`", 1007)
    no_db = connect()
    try:
        expect_error(no_db, "CREATE TABLE t (id INT)", 1046)
    finally:
        no_db.close()
