"""TLS (verified against the test CA) and caching_sha2_password, with PyMySQL
and mysql-connector-python (issue 5).

Needs a server started with the config tests/python/tls_fixture.py writes
(scripts/test-all.sh starts one next to the main server), TIEMBED_TLS_PORT
naming its port and TIEMBED_TLS_CA its CA. A separate server, because PyMySQL
1.2 and mysql-connector both start TLS whenever the greeting offers it: the
other suites keep testing plain TCP. The
accounts are the fixture's; each full-authentication test has an account of
its own so that on a freshly started server its first login really is a full
authentication (the second one is then a fast one). The exact packets of
both paths are asserted by crates/server/tests/tls_auth.rs.
"""

import uuid

import pytest

import conftest
from conftest import HOST, READ_TIMEOUT, TLS_CA, TLS_PORT
from tls_fixture import ACCOUNTS, SHA2_PASSWORD, make_ca, pem_cert

pytestmark = pytest.mark.skipif(
    TLS_CA is None or TLS_PORT is None,
    reason="TIEMBED_TLS_CA/TIEMBED_TLS_PORT not set: no server started with tests/python/tls_fixture.py's config",
)


def connect(**kwargs):
    """PyMySQL to the TLS-configured server (TLS only when asked or offered)."""
    return conftest.connect(port=TLS_PORT, **kwargs)


@pytest.fixture
def tls_db():
    """A fresh database on the TLS-configured server."""
    name = f"py_tls_{uuid.uuid4().hex[:8]}"
    admin = connect(autocommit=True, ssl_disabled=True)
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    yield name
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    admin.close()


def ssl_status(cur):
    cur.execute("SHOW STATUS LIKE 'Ssl_%'")
    return dict(cur.fetchall())


def pymysql_tls(**kwargs):
    """PyMySQL over TLS, verifying the certificate chain and the host name."""
    return connect(ssl_ca=TLS_CA, ssl_verify_cert=True, ssl_verify_identity=True, **kwargs)


def access_denied(user, using_password=True):
    return f"Access denied for user '{user}'@'127.0.0.1' (using password: {'YES' if using_password else 'NO'})"


# ---- PyMySQL -------------------------------------------------------------------


def test_pymysql_tls_with_verified_certificate(tls_db):
    c = pymysql_tls(database=tls_db)
    try:
        version, cipher = c._sock.version(), c._sock.cipher()[0]
        with c.cursor() as cur:
            assert ssl_status(cur) == {"Ssl_cipher": cipher, "Ssl_version": version}
            assert version in ("TLSv1.2", "TLSv1.3")
            cur.execute("CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(20))")
            cur.execute("INSERT INTO t VALUES (%s, %s)", (1, "over tls"))
            c.commit()
            cur.execute("SELECT s FROM t WHERE id = 1")
            assert cur.fetchall() == (("over tls",),)
    finally:
        c.close()


def test_pymysql_uses_tls_when_offered_unless_disabled():
    # PyMySQL 1.2 starts TLS whenever the greeting offers CLIENT_SSL
    # (without verifying the certificate unless asked to).
    c = connect()
    try:
        with c.cursor() as cur:
            assert ssl_status(cur)["Ssl_version"] in ("TLSv1.2", "TLSv1.3")
    finally:
        c.close()
    c = connect(ssl_disabled=True)
    try:
        with c.cursor() as cur:
            assert ssl_status(cur) == {"Ssl_cipher": "", "Ssl_version": ""}
    finally:
        c.close()


def test_pymysql_refuses_a_server_its_ca_did_not_sign(tmp_path):
    import pymysql

    other_ca, _ = make_ca("some other CA")
    path = tmp_path / "other-ca.pem"
    path.write_bytes(pem_cert(other_ca))
    with pytest.raises(pymysql.err.OperationalError) as info:
        connect(ssl_ca=str(path), ssl_verify_cert=True)
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
    # The server is unharmed.
    connect(ssl_disabled=True).close()


def test_pymysql_native_password_over_tls():
    c = pymysql_tls(user="native_user", password=ACCOUNTS["native_user"][0])
    c.close()


def test_pymysql_caching_sha2_full_auth_over_tls_then_fast_auth():
    # First login since start: full authentication, password in clear over TLS.
    c = pymysql_tls(user="sha2_pymysql_tls", password=SHA2_PASSWORD)
    with c.cursor() as cur:
        cur.execute("SELECT CURRENT_USER()")
        assert cur.fetchone() == ("sha2_pymysql_tls@%",)
    c.close()
    # Cached now: fast authentication, which needs no TLS.
    connect(user="sha2_pymysql_tls", password=SHA2_PASSWORD, ssl_disabled=True).close()
    pymysql_tls(user="sha2_pymysql_tls", password=SHA2_PASSWORD).close()


def test_pymysql_caching_sha2_full_auth_with_rsa_over_plain_tcp():
    # PyMySQL requests the server's public key and sends the password
    # RSA-encrypted (with the `cryptography` package).
    c = connect(user="sha2_pymysql_rsa", password=SHA2_PASSWORD, ssl_disabled=True)
    with c.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
    c.close()
    connect(user="sha2_pymysql_rsa", password=SHA2_PASSWORD, ssl_disabled=True).close()


def test_pymysql_caching_sha2_wrong_and_empty_passwords():
    import pymysql

    for kwargs in (dict(ssl_disabled=True), dict(ssl_ca=TLS_CA)):
        with pytest.raises(pymysql.err.OperationalError) as info:
            connect(user="sha2_user", password="wrong", **kwargs)
        assert info.value.args == (1045, access_denied("sha2_user"))
    with pytest.raises(pymysql.err.OperationalError) as info:
        connect(user="sha2_user", password="", ssl_disabled=True)
    assert info.value.args == (1045, access_denied("sha2_user", using_password=False))

    connect(user="sha2_empty", password="", ssl_disabled=True).close()
    pymysql_tls(user="sha2_empty", password="").close()
    with pytest.raises(pymysql.err.OperationalError) as info:
        connect(user="sha2_empty", password="x", ssl_disabled=True)
    assert info.value.args == (1045, access_denied("sha2_empty"))


# ---- mysql-connector-python (pure Python) -----------------------------------------


def connector(**kwargs):
    import mysql.connector

    params = dict(host=HOST, port=TLS_PORT, user="root", password="", use_pure=True, connection_timeout=READ_TIMEOUT)
    params.update(kwargs)
    return mysql.connector.connect(**params)


def connector_tls(**kwargs):
    return connector(ssl_ca=TLS_CA, ssl_verify_cert=True, ssl_verify_identity=True, **kwargs)


def test_connector_tls_with_verified_certificate_and_prepared_statements(tls_db):
    c = connector_tls(database=tls_db)
    try:
        cur = c.cursor()
        status = ssl_status(cur)
        assert status["Ssl_version"] in ("TLSv1.2", "TLSv1.3") and status["Ssl_cipher"]
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, score DOUBLE)")
        cur.close()
        pc = c.cursor(prepared=True)
        pc.execute("INSERT INTO t VALUES (%s, %s)", (1, 2.5))
        c.commit()
        pc.execute("SELECT score FROM t WHERE id = %s", (1,))
        assert pc.fetchall() == [(2.5,)]
        pc.close()
    finally:
        c.close()


def test_connector_uses_tls_whenever_offered():
    # mysql-connector starts TLS by default when the greeting offers it
    # (without verifying the certificate unless asked to).
    c = connector()
    try:
        cur = c.cursor()
        assert ssl_status(cur)["Ssl_version"] in ("TLSv1.2", "TLSv1.3")
    finally:
        c.close()
    c = connector(ssl_disabled=True)
    try:
        cur = c.cursor()
        assert ssl_status(cur) == {"Ssl_cipher": "", "Ssl_version": ""}
    finally:
        c.close()


def test_connector_refuses_a_server_its_ca_did_not_sign(tmp_path):
    import mysql.connector

    other_ca, _ = make_ca("some other CA")
    path = tmp_path / "other-ca.pem"
    path.write_bytes(pem_cert(other_ca))
    with pytest.raises(mysql.connector.Error):
        connector(ssl_ca=str(path), ssl_verify_cert=True)


def test_connector_caching_sha2_full_auth_over_tls_then_fast_auth():
    c = connector_tls(user="sha2_connector_tls", password=SHA2_PASSWORD)
    cur = c.cursor()
    cur.execute("SELECT CURRENT_USER()")
    assert cur.fetchall() == [("sha2_connector_tls@%",)]
    c.close()
    # Fast authentication, over plain TCP and with the client starting with
    # caching_sha2_password itself (no auth switch).
    connector(user="sha2_connector_tls", password=SHA2_PASSWORD, ssl_disabled=True).close()
    connector(
        user="sha2_connector_tls",
        password=SHA2_PASSWORD,
        ssl_disabled=True,
        auth_plugin="caching_sha2_password",
    ).close()


def test_connector_caching_sha2_full_auth_over_plain_tcp_is_refused():
    # mysql-connector (pure) sends the password in clear after "perform full
    # authentication"; over plain TCP a MySQL server refuses that, so do we.
    import mysql.connector

    with pytest.raises(mysql.connector.Error) as info:
        connector(user="sha2_connector_plain", password=SHA2_PASSWORD, ssl_disabled=True)
    assert (info.value.errno, info.value.sqlstate) == (1045, "28000")
    assert info.value.msg == access_denied("sha2_connector_plain")


def test_connector_caching_sha2_wrong_and_empty_passwords():
    import mysql.connector

    for kwargs in (dict(ssl_disabled=True), dict(ssl_ca=TLS_CA)):
        with pytest.raises(mysql.connector.Error) as info:
            connector(user="sha2_user", password="wrong", **kwargs)
        assert (info.value.errno, info.value.msg) == (1045, access_denied("sha2_user"))
    connector(user="sha2_empty", password="", ssl_disabled=True).close()
    connector_tls(user="sha2_empty", password="").close()
    with pytest.raises(mysql.connector.Error) as info:
        connector(user="sha2_empty", password="x", ssl_disabled=True)
    assert (info.value.errno, info.value.msg) == (1045, access_denied("sha2_empty"))
