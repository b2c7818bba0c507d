"""Fixtures shared by the client suites.

Every test gets its own database (created here, dropped afterwards) so the
suites are independent of each other and of what else the server holds.
Connection settings come from the environment so the same suites run against
a server started by scripts/test-all.sh, the docker compose service, or any
other host:port:

    TIEMBED_HOST (127.0.0.1), TIEMBED_PORT (4000), TIEMBED_USER (root),
    TIEMBED_PASSWORD (empty), TIEMBED_EXPECT_VERSION
    (8.0.11-TiDB-v8.5.3-serverless), TIEMBED_SKIP_MODEL_TESTS=1 to skip the
    tests that need the real all-MiniLM-L6-v2 model, TIEMBED_FIXTURES_DIR
    (reference embeddings, optional), TIEMBED_TLS_CA and TIEMBED_TLS_PORT
    (a second server on TIEMBED_HOST, started with the config
    tests/python/tls_fixture.py writes, and its CA; without them the TLS and
    caching_sha2_password tests are skipped).
"""

import os
import re
import uuid

import pymysql
import pytest

HOST = os.environ.get("TIEMBED_HOST", "127.0.0.1")
PORT = int(os.environ.get("TIEMBED_PORT", "4000"))
USER = os.environ.get("TIEMBED_USER", "root")
PASSWORD = os.environ.get("TIEMBED_PASSWORD", "")
EXPECT_VERSION = os.environ.get("TIEMBED_EXPECT_VERSION", "8.0.11-TiDB-v8.5.3-serverless")
SKIP_MODEL_TESTS = os.environ.get("TIEMBED_SKIP_MODEL_TESTS", "0") in ("1", "true", "yes")
TLS_CA = os.environ.get("TIEMBED_TLS_CA") or None
TLS_PORT = int(os.environ.get("TIEMBED_TLS_PORT") or "0") or None
# A statement that hangs must fail the test, not the whole CI run.
READ_TIMEOUT = int(os.environ.get("TIEMBED_READ_TIMEOUT", "120"))


def pytest_collection_modifyitems(config, items):
    if not SKIP_MODEL_TESTS:
        return
    skip = pytest.mark.skip(reason="TIEMBED_SKIP_MODEL_TESTS=1: no real model in the server")
    for item in items:
        if "model" in item.keywords:
            item.add_marker(skip)


def connect(**kwargs):
    """A PyMySQL connection to the server under test (autocommit off, as PyMySQL's default)."""
    params = dict(
        host=HOST,
        port=PORT,
        user=USER,
        password=PASSWORD,
        charset="utf8mb4",
        connect_timeout=10,
        read_timeout=READ_TIMEOUT,
        write_timeout=READ_TIMEOUT,
    )
    params.update(kwargs)
    return pymysql.connect(**params)


def sqlalchemy_url(database=None, driver="pymysql"):
    from urllib.parse import quote_plus

    auth = USER + (":" + quote_plus(PASSWORD) if PASSWORD else ":")
    db = "/" + database if database else "/"
    return f"mysql+{driver}://{auth}@{HOST}:{PORT}{db}?charset=utf8mb4"


def _unique_name(request, prefix):
    base = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:30]
    return f"{prefix}_{base}_{uuid.uuid4().hex[:8]}"


def _drop_database(name):
    admin = connect(autocommit=True)
    try:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        admin.close()


@pytest.fixture
def dbname(request):
    """A freshly created, empty database; dropped after the test."""
    name = _unique_name(request, "py")
    admin = connect(autocommit=True)
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
    finally:
        admin.close()
    yield name
    _drop_database(name)


@pytest.fixture
def new_dbname(request):
    """A database name that does not exist yet (the test creates it); dropped afterwards."""
    name = _unique_name(request, "pyn")
    yield name
    _drop_database(name)


@pytest.fixture
def conn(dbname):
    """PyMySQL connection with `dbname` as the default database."""
    c = connect(database=dbname)
    yield c
    c.close()


@pytest.fixture
def engine(dbname):
    """SQLAlchemy 2.x engine on PyMySQL for `dbname`."""
    from sqlalchemy import create_engine

    eng = create_engine(
        sqlalchemy_url(dbname),
        connect_args={"read_timeout": READ_TIMEOUT, "write_timeout": READ_TIMEOUT},
    )
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def fixtures_dir():
    """Directory of shared reference fixtures (minilm_public.json), or None."""
    d = os.environ.get("TIEMBED_FIXTURES_DIR")
    if d:
        return d
    here = os.path.dirname(os.path.abspath(__file__))
    guess = os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "fixtures"))
    return guess if os.path.isdir(guess) else None
