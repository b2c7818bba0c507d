"""mysql-connector-python (pure Python, text and prepared statements) and
mysqlclient (MySQLdb on libmariadb) over the wire: connect, SELECT, INSERT
with a parameter, commit/rollback, error codes."""

import pytest

from conftest import EXPECT_VERSION, HOST, PASSWORD, PORT, READ_TIMEOUT, USER


# ---- mysql-connector-python --------------------------------------------------


def _text(row):
    """mysql-connector's binary protocol returns bytes for string columns
    whose collation is binary (utf8mb4_bin, TiDB's default); compare text."""
    return tuple(v.decode() if isinstance(v, (bytes, bytearray)) else v for v in row)


@pytest.fixture
def myconn(dbname):
    import mysql.connector

    c = mysql.connector.connect(
        host=HOST,
        port=PORT,
        user=USER,
        password=PASSWORD,
        database=dbname,
        use_pure=True,
        connection_timeout=READ_TIMEOUT,
    )
    yield c
    c.close()


def test_connector_text_protocol(myconn):
    assert myconn.get_server_info() == EXPECT_VERSION
    cur = myconn.cursor()
    cur.execute("SELECT 1")
    assert cur.fetchall() == [(1,)]
    cur.execute("CREATE TABLE cli_t (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50))")
    cur.execute("INSERT INTO cli_t (name) VALUES (%s)", ("it's",))
    assert cur.lastrowid == 1 and cur.rowcount == 1
    myconn.commit()
    cur.execute("INSERT INTO cli_t (name) VALUES (%s)", ("rolled back",))
    myconn.rollback()
    cur.execute("SELECT id, name FROM cli_t ORDER BY id")
    assert cur.fetchall() == [(1, "it's")]
    cur.close()


def test_connector_prepared_statements(myconn):
    cur = myconn.cursor()
    cur.execute("CREATE TABLE cli_t (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50), score DOUBLE)")
    cur.close()
    pc = myconn.cursor(prepared=True)
    for name, score in [("a", 1.5), ("héllo 中文", None), ("it's", -2.0)]:
        pc.execute("INSERT INTO cli_t (name, score) VALUES (%s, %s)", (name, score))
    myconn.commit()
    pc.execute("SELECT id, name, score FROM cli_t WHERE id = %s", (2,))
    assert [_text(r) for r in pc.fetchall()] == [(2, "héllo 中文", None)]
    pc.execute("SELECT id, name, score FROM cli_t WHERE id = %s", (3,))
    assert [_text(r) for r in pc.fetchall()] == [(3, "it's", -2.0)]
    pc.execute("SELECT COUNT(*) FROM cli_t WHERE score > %s", (0,))
    assert pc.fetchall() == [(1,)]
    pc.close()


def test_connector_error_codes(myconn):
    import mysql.connector

    cur = myconn.cursor()
    with pytest.raises(mysql.connector.Error) as info:
        cur.execute("SELECT * FROM no_such_table")
    assert info.value.errno == 1146
    assert info.value.sqlstate == "42S02"
    with pytest.raises(mysql.connector.Error) as info:
        cur.execute("SELEC 1")
    assert info.value.errno == 1064
    assert info.value.sqlstate == "42000"
    cur.execute("SELECT 'still usable'")
    assert cur.fetchall() == [("still usable",)]
    cur.close()


# ---- mysqlclient (MySQLdb) -----------------------------------------------------


@pytest.fixture
def mdb(dbname):
    MySQLdb = pytest.importorskip("MySQLdb")
    c = MySQLdb.connect(
        host=HOST,
        port=PORT,
        user=USER,
        password=PASSWORD,
        database=dbname,
        charset="utf8mb4",
        read_timeout=READ_TIMEOUT,
    )
    yield c
    c.close()


def test_mysqlclient_basics(mdb):
    cur = mdb.cursor()
    cur.execute("SELECT 1, 'x'")
    assert cur.fetchall() == ((1, "x"),)
    cur.execute("CREATE TABLE cli_t (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50))")
    cur.execute("INSERT INTO cli_t (name) VALUES (%s)", ("it's ünïcode",))
    assert cur.lastrowid == 1
    cur.executemany("INSERT INTO cli_t (name) VALUES (%s)", [("b",), ("c",)])
    assert cur.rowcount == 2
    mdb.commit()
    cur.execute("SELECT name FROM cli_t ORDER BY id")
    assert cur.fetchall() == (("it's ünïcode",), ("b",), ("c",))
    cur.execute("UPDATE cli_t SET name = 'changed' WHERE name = %s", ("b",))
    assert cur.rowcount == 1
    mdb.rollback()
    cur.execute("SELECT COUNT(*) FROM cli_t WHERE name = 'changed'")
    assert cur.fetchall() == ((0,),)


def test_mysqlclient_error_codes(mdb):
    import MySQLdb

    cur = mdb.cursor()
    cur.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    cur.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(MySQLdb.IntegrityError) as info:
        cur.execute("INSERT INTO t VALUES (1)")
    assert info.value.args[0] == 1062
    with pytest.raises(MySQLdb.ProgrammingError) as info:
        cur.execute("SELECT * FROM nope")
    assert info.value.args[0] == 1146
