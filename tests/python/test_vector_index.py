"""The HNSW vector index (`VECTOR INDEX ((VEC_COSINE_DISTANCE(col)))`) over
the wire: recall on real MiniLM embeddings, when EXPLAIN says the index is
used, filtered and aliased query shapes, maintenance under DML and
transactions, and recovery after kill -9 or damaged index files.

The reference answer is always computed without the index: a copy of the
table with no VECTOR INDEX, `ORDER BY <distance> + 0` (an expression the index
cannot serve), or a Python model of the table's rows.

Tests named `test_ann_*` check what only an index wired into queries does
(EXPLAIN's `annIndex:`, "ANN index not used" warnings, index files under
<data_dir>/ann/); run just those with `-k ann`, the rest with `-k "not ann"`.
The others must pass with or without an index, since an exact scan is always
a correct answer.

The recall corpus is built from the package descriptions in
/var/lib/dpkg/status (the tests skip when it holds too few). The restart
tests start their own server and need TIEMBED_BIN (the tiembed binary;
scripts/test-all.sh sets it); TIEMBED_MODELS_DIR is passed on when set.
"""

import os
import random
import re
import signal
import socket
import subprocess
import time
import uuid

import pymysql
import pytest

from conftest import connect

MODEL = "huggingface/sentence-transformers/all-MiniLM-L6-v2"
DPKG_STATUS = "/var/lib/dpkg/status"
MAX_CORPUS = 3000
N_QUERIES = 50
INDEX_BUILD_TIMEOUT = 120
DIST_EPS = 1e-6  # distances closer than this are ties: either order is right

WARN_DESC = (
    "ANN index not used: index can be used only when ordering by "
    "vec_cosine_distance() in ASC order"
)
WARN_METRIC = "ANN index not used: not ordering by COSINE distance"


# ---- small helpers --------------------------------------------------------------


def fetch(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def first_column(conn, sql, args=None):
    return [r[0] for r in fetch(conn, sql, args)]


def vec_text(v):
    return "[" + ",".join(repr(float(x)) for x in v) + "]"


def scan_infos(conn, sql, args=None):
    """Operator info of every table scan (full or key range) in EXPLAIN <sql>."""
    plan = fetch(conn, "EXPLAIN " + sql, args)
    infos = [r[4] for r in plan if "TableFullScan" in r[0] or "TableRangeScan" in r[0]]
    assert infos, f"no table scan in the plan of {sql!r}: {plan}"
    return infos, plan


def warning_messages(conn):
    return [r[2] for r in fetch(conn, "SHOW WARNINGS")]


def index_progress(conn, db, table):
    """{index name: (ROWS_STABLE_INDEXED, ROWS_STABLE_NOT_INDEXED, ERROR_MESSAGE)}."""
    rows = fetch(
        conn,
        "SELECT INDEX_NAME, ROWS_STABLE_INDEXED, ROWS_STABLE_NOT_INDEXED, ERROR_MESSAGE "
        "FROM INFORMATION_SCHEMA.TIFLASH_INDEXES WHERE TIDB_DATABASE = %s AND TIDB_TABLE = %s",
        (db, table),
    )
    return {name: (int(ok), int(pending), err) for name, ok, pending, err in rows}


def wait_index_built(conn, db, table, expected_rows, timeout=INDEX_BUILD_TIMEOUT):
    """Polls TIFLASH_INDEXES until every index of `table` has NOT_INDEXED = 0
    and INDEXED = expected_rows; returns the progress seen last."""
    deadline = time.monotonic() + timeout
    while True:
        progress = index_progress(conn, db, table)
        assert progress, f"TIFLASH_INDEXES lists no index of {db}.{table}"
        if all(p[0] == expected_rows and p[1] == 0 for p in progress.values()):
            return progress
        if time.monotonic() > deadline:
            pytest.fail(
                f"{db}.{table}: index not built within {timeout}s "
                f"(want INDEXED={expected_rows}, NOT_INDEXED=0; have {progress})"
            )
        time.sleep(0.2)


def assert_same_ranking(got, want, what):
    """got/want: [(id, distance)]. Same length, same distance at each rank,
    and the same id wherever that distance is not tied with a neighbour's."""
    assert len(got) == len(want), f"{what}: {len(got)} rows, want {len(want)}\n got {got}\nwant {want}"
    for rank, ((gid, gd), (wid, wd)) in enumerate(zip(got, want)):
        assert gd is not None and wd is not None and abs(gd - wd) <= DIST_EPS, (
            f"{what}: rank {rank} distance {gd} (id {gid}), want {wd} (id {wid})"
            f"\n got {got}\nwant {want}"
        )
        tied = any(
            0 <= j < len(want) and j != rank and abs(want[j][1] - wd) <= DIST_EPS
            for j in (rank - 1, rank + 1)
        )
        if not tied:
            assert gid == wid, f"{what}: rank {rank} id {gid}, want {wid}\n got {got}\nwant {want}"


# ---- exact answers computed here, for the small tables ------------------------------


def cosine_distance(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    na = sum(x * x for x in a) ** 0.5
    nb = sum(y * y for y in b) ** 0.5
    return 1.0 - dot / (na * nb)


def l2_distance(a, b):
    return sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5


def exact_top(rows, q, k, metric=cosine_distance):
    """rows: {id: vector}. The ids of the k nearest rows to q."""
    return [i for _, i in sorted((metric(v, q), i) for i, v in rows.items())[:k]]


def random_vectors(seed, n, dim, first_id=1):
    # Three decimals keep the text form exact; random directions keep the
    # distances to a query apart, so the expected order has no ties.
    rnd = random.Random(seed)
    return {
        first_id + i: [round(rnd.uniform(-1, 1), 3) for _ in range(dim)] for i in range(n)
    }


def insert_rows(conn, table, rows):
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} (id, v) VALUES (%s, %s)",
            [(i, vec_text(v)) for i, v in rows.items()],
        )


def ann_top(conn, table, q, k, fn="VEC_COSINE_DISTANCE"):
    """The query shape the index serves."""
    return first_column(conn, f"SELECT id FROM {table} ORDER BY {fn}(v, %s) LIMIT {k}", (vec_text(q),))


def scan_top(conn, table, q, k, fn="VEC_COSINE_DISTANCE"):
    """Same answer through an ORDER BY expression no index can serve."""
    return first_column(
        conn, f"SELECT id FROM {table} ORDER BY {fn}(v, %s) + 0, id LIMIT {k}", (vec_text(q),)
    )


def new_database():
    name = f"py_vi_{uuid.uuid4().hex[:10]}"
    admin = connect(autocommit=True)
    try:
        fetch(admin, f"CREATE DATABASE `{name}`")
    finally:
        admin.close()
    return name


def drop_database(name):
    admin = connect(autocommit=True)
    try:
        fetch(admin, f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        admin.close()


# ---- the Debian description corpus ------------------------------------------------


def debian_descriptions(path=DPKG_STATUS):
    """{package: [short description, long description lines...]} ('.' lines dropped)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        paragraphs = f.read().split("\n\n")
    packages = {}
    for para in paragraphs:
        name, desc, inside = None, [], False
        for line in para.split("\n"):
            if line.startswith("Package:"):
                name = line.split(":", 1)[1].strip()
            if line.startswith("Description:"):
                inside = True
                desc.append(line[len("Description:"):].strip())
            elif inside and line.startswith(" "):
                if line.strip() != ".":
                    desc.append(line.strip())
            else:
                inside = False
        if name and desc and desc[0]:
            packages.setdefault(name, desc)  # multi-arch duplicates: the first wins
    return packages


def sentences(lines):
    text = " ".join(lines)
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def build_corpus():
    """(corpus texts, query texts), deterministic for a given status file.
    Every ~15th package is held out: its short description becomes a query
    and none of its text enters the corpus. The corpus is every other
    package's short description plus the sentences of its long description
    (at least 20 characters, distinct)."""
    packages = debian_descriptions()
    names = sorted(packages)
    step = max(1, len(names) // N_QUERIES)
    held_out = set(names[step // 2 :: step][:N_QUERIES])
    queries = []
    for n in sorted(held_out):
        q = packages[n][0]
        if q not in queries:
            queries.append(q)
    corpus, seen = [], set(queries)
    for n in names:
        if n in held_out:
            continue
        for t in [packages[n][0]] + sentences(packages[n][1:]):
            if len(t) >= 20 and t not in seen:
                seen.add(t)
                corpus.append(t)
    if len(corpus) > MAX_CORPUS:  # evenly spread, not just the first packages
        corpus = [corpus[i * len(corpus) // MAX_CORPUS] for i in range(MAX_CORPUS)]
    return corpus, queries


class Corpus:
    def __init__(self, db, texts, queries, qvecs):
        self.db = db
        self.texts = texts  # row id = position + 1
        self.queries = queries
        self.qvecs = qvecs  # query text -> its embedding in VECTOR text form

    @property
    def n(self):
        return len(self.texts)


@pytest.fixture(scope="module")
def corpus():
    """`docs` (generated MiniLM embeddings, cosine VECTOR INDEX) and
    `docs_exact` (the same vectors, no index), built once for the module."""
    if not os.path.exists(DPKG_STATUS):
        pytest.skip(f"no {DPKG_STATUS} to build the corpus from")
    texts, queries = build_corpus()
    if len(texts) < 1000 or len(queries) < 20:
        pytest.skip(f"{DPKG_STATUS} gives only {len(texts)} texts / {len(queries)} queries")
    db = new_database()
    try:
        c = connect(database=db, autocommit=True)
        fetch(
            c,
            "CREATE TABLE docs (id INT PRIMARY KEY, content TEXT, "
            "embedding VECTOR(384) GENERATED ALWAYS AS "
            f'(EMBED_TEXT("{MODEL}", content)) STORED, '
            "VECTOR INDEX idx_emb ((VEC_COSINE_DISTANCE(embedding))))",
        )
        started = time.monotonic()
        rows = list(enumerate(texts, start=1))
        with c.cursor() as cur:
            for i in range(0, len(rows), 200):
                cur.executemany("INSERT INTO docs (id, content) VALUES (%s, %s)", rows[i : i + 200])
        print(f"\nembedded and inserted {len(rows)} texts in {time.monotonic() - started:.1f}s")
        fetch(c, "CREATE TABLE docs_exact (id INT PRIMARY KEY, embedding VECTOR(384))")
        fetch(c, "INSERT INTO docs_exact SELECT id, embedding FROM docs")
        assert first_column(c, "SELECT COUNT(*) FROM docs_exact") == [len(texts)]
        wait_index_built(c, db, "docs", len(texts))
        qvecs = {
            q: first_column(c, "SELECT EMBED_TEXT(%s, %s)", (MODEL, q))[0] for q in queries
        }
        c.close()
        yield Corpus(db, texts, queries, qvecs)
    finally:
        drop_database(db)


@pytest.fixture
def cconn(corpus):
    c = connect(database=corpus.db, autocommit=True)
    yield c
    c.close()


def exact_top10(conn, qvec):
    """[(id, distance)] of the true 10 nearest rows, from the table without index."""
    return fetch(
        conn,
        "SELECT id, VEC_COSINE_DISTANCE(embedding, %s) AS d FROM docs_exact ORDER BY d, id LIMIT 10",
        (qvec,),
    )


def recall_at_10(conn, got_ids, qvec):
    """Share of the true top 10 found; a returned row at the same distance as
    the 10th true one counts as found (ties may go either way)."""
    want = exact_top10(conn, qvec)
    want_ids = {i for i, _ in want}
    kth = want[-1][1]
    hits = 0
    for i in got_ids:
        if i in want_ids:
            hits += 1
        else:
            (d,) = first_column(
                conn,
                "SELECT VEC_COSINE_DISTANCE(embedding, %s) FROM docs_exact WHERE id = %s",
                (qvec, i),
            )
            hits += d <= kth + DIST_EPS
    return hits / len(want)


# ---- 1. recall on real embeddings --------------------------------------------------


@pytest.mark.model
def test_recall_at_10_on_minilm_embeddings(corpus, cconn):
    recalls = []
    for q in corpus.queries:
        got = first_column(
            cconn, "SELECT id FROM docs ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding, %s) LIMIT 10", (q,)
        )
        # Whatever the index returns must be 10 distinct, existing rows.
        assert len(got) == 10 and len(set(got)) == 10, (q, got)
        assert all(1 <= i <= corpus.n for i in got), (q, got)
        recalls.append(recall_at_10(cconn, got, corpus.qvecs[q]))
    mean = sum(recalls) / len(recalls)
    worst = min(recalls)
    print(f"\nrecall@10 over {len(recalls)} queries, {corpus.n} rows: "
          f"mean {mean:.4f}, worst {worst:.2f}")
    assert mean >= 0.95, f"mean recall@10 {mean:.4f} < 0.95 (per query: {recalls})"


@pytest.mark.model
def test_embed_distance_equals_distance_to_embedded_query(corpus, cconn):
    """The recall test compares VEC_EMBED_COSINE_DISTANCE on `docs` with
    VEC_COSINE_DISTANCE(embedding, EMBED_TEXT(...)) on `docs_exact`; that is
    only fair if both give the same distances."""
    q = corpus.queries[0]
    a = fetch(
        cconn,
        "SELECT id, VEC_EMBED_COSINE_DISTANCE(embedding, %s) AS d FROM docs WHERE id <= 20 ORDER BY id",
        (q,),
    )
    b = fetch(
        cconn,
        "SELECT id, VEC_COSINE_DISTANCE(embedding, %s) FROM docs_exact WHERE id <= 20 ORDER BY id",
        (corpus.qvecs[q],),
    )
    assert [r[0] for r in a] == [r[0] for r in b] == list(range(1, 21))
    for (i, da), (_, db) in zip(a, b):
        assert abs(da - db) <= DIST_EPS, (i, da, db)


# ---- 2. EXPLAIN and warnings -------------------------------------------------------


@pytest.mark.model
def test_ann_explain_shows_index_for_cosine_asc_limit(corpus, cconn):
    q = corpus.queries[1]
    for sql, args in [
        ("SELECT id FROM docs ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding, %s) LIMIT 10", (q,)),
        ("SELECT id FROM docs ORDER BY VEC_COSINE_DISTANCE(embedding, %s) LIMIT 10", (corpus.qvecs[q],)),
    ]:
        infos, plan = scan_infos(cconn, sql, args)
        assert any("annIndex:COSINE(" in i for i in infos), f"{sql}: no annIndex:COSINE( in {plan}"
        # Using the index is not worth a warning.
        msgs = warning_messages(cconn)
        assert not any("ANN index not used" in m for m in msgs), (sql, msgs)


@pytest.mark.model
def test_ann_explain_without_index_on_the_exact_table(corpus, cconn):
    sql = "SELECT id FROM docs_exact ORDER BY VEC_COSINE_DISTANCE(embedding, %s) LIMIT 10"
    infos, plan = scan_infos(cconn, sql, (corpus.qvecs[corpus.queries[1]],))
    assert not any("annIndex" in i for i in infos), plan
    # No vector index on the table: nothing to explain away either.
    msgs = warning_messages(cconn)
    assert not any("ANN index not used" in m for m in msgs), msgs


@pytest.mark.model
@pytest.mark.parametrize(
    "order_by, warning",
    [
        ("VEC_COSINE_DISTANCE(embedding, %s) DESC", WARN_DESC),
        ("VEC_L2_DISTANCE(embedding, %s)", WARN_METRIC),
    ],
    ids=["desc", "l2-on-cosine-index"],
)
def test_ann_explain_unusable_order_warns(corpus, cconn, order_by, warning):
    sql = f"SELECT id FROM docs ORDER BY {order_by} LIMIT 10"
    infos, plan = scan_infos(cconn, sql, (corpus.qvecs[corpus.queries[2]],))
    assert not any("annIndex" in i for i in infos), plan
    msgs = warning_messages(cconn)
    assert any(warning in m for m in msgs), f"SHOW WARNINGS after EXPLAIN {sql}: {msgs}"


@pytest.mark.model
@pytest.mark.parametrize(
    "order_limit",
    ["VEC_COSINE_DISTANCE(embedding, %s)", "VEC_COSINE_DISTANCE(embedding, %s) + 0 LIMIT 10"],
    ids=["no-limit", "distance-plus-0"],
)
def test_ann_explain_no_index_without_limit_or_for_an_expression(corpus, cconn, order_limit):
    """The exact references elsewhere in this file rely on `+ 0` bypassing the index."""
    sql = f"SELECT id FROM docs ORDER BY {order_limit}"
    infos, plan = scan_infos(cconn, sql, (corpus.qvecs[corpus.queries[2]],))
    assert not any("annIndex" in i for i in infos), plan


# ---- 3. filtered and aliased shapes give the exact answer ---------------------------

# %(q)s is the query vector; `%%` is `%` after PyMySQL's client-side formatting.
SHAPES = {
    "where-unselective": (
        "SELECT id, VEC_COSINE_DISTANCE(embedding, %(q)s) FROM {t} WHERE id %% 3 = 0 "
        "ORDER BY VEC_COSINE_DISTANCE(embedding, %(q)s) LIMIT 10"
    ),
    "where-selective": (
        "SELECT id, VEC_COSINE_DISTANCE(embedding, %(q)s) FROM {t} WHERE id < 40 "
        "ORDER BY VEC_COSINE_DISTANCE(embedding, %(q)s) LIMIT 10"
    ),
    "pytidb-derived-table": (
        "SELECT * FROM (SELECT id, VEC_COSINE_DISTANCE(embedding, %(q)s) AS _distance FROM {t}) t "
        "ORDER BY _distance LIMIT 10"
    ),
    "alias": "SELECT id, VEC_COSINE_DISTANCE(embedding, %(q)s) AS d FROM {t} ORDER BY d LIMIT 5",
}


@pytest.mark.model
@pytest.mark.parametrize("shape", list(SHAPES))
def test_query_shape_matches_exact_table(corpus, cconn, shape):
    """The index serves every shape, and filters, aliases and derived
    tables lose no row: with a beam wide enough for the graph search
    itself to be exact, the answer must equal the exact scan's. (Recall at
    the default beam is test_recall_at_10_on_minilm_embeddings's job.)"""
    sql = SHAPES[shape]
    infos, plan = scan_infos(cconn, sql.format(t="docs"), {"q": corpus.qvecs[corpus.queries[0]]})
    assert any("annIndex:COSINE(" in i for i in infos), plan
    fetch(cconn, "SET SESSION tiembed_hnsw_ef_search = 1000")
    for q in corpus.queries[:8]:
        args = {"q": corpus.qvecs[q]}
        got = fetch(cconn, sql.format(t="docs"), args)
        want = fetch(cconn, sql.format(t="docs_exact"), args)
        assert want, f"{shape}: the reference query returned nothing"
        if shape == "where-unselective":
            assert all(i % 3 == 0 for i, _ in got), got
        if shape == "where-selective":
            assert all(i < 40 for i, _ in got), got
        assert_same_ranking(got, want, f"{shape} for {q!r}")


# ---- ALTER TABLE ADD VECTOR INDEX on the loaded corpus ------------------------------


@pytest.mark.model
def test_alter_add_l2_index_on_loaded_table(corpus, cconn):
    """An L2 index added to 2-3k existing 384-d rows: L2 queries stay right
    while it builds and after; the build finishes."""
    fetch(cconn, "CREATE TABLE docs_l2 (id INT PRIMARY KEY, embedding VECTOR(384))")
    fetch(cconn, "INSERT INTO docs_l2 SELECT id, embedding FROM docs_exact")
    fetch(cconn, "ALTER TABLE docs_l2 ADD VECTOR INDEX idx_l2 ((VEC_L2_DISTANCE(embedding)))")

    def check(stage):
        recalls = []
        for q in corpus.queries[:10]:
            qv = corpus.qvecs[q]
            got = first_column(
                cconn, "SELECT id FROM docs_l2 ORDER BY VEC_L2_DISTANCE(embedding, %s) LIMIT 10", (qv,)
            )
            want = first_column(
                cconn,
                "SELECT id FROM docs_exact ORDER BY VEC_L2_DISTANCE(embedding, %s), id LIMIT 10",
                (qv,),
            )
            assert len(got) == 10 and len(set(got)) == 10, (stage, q, got)
            recalls.append(len(set(got) & set(want)) / 10)
        mean = sum(recalls) / len(recalls)
        assert mean >= 0.95, f"{stage}: L2 recall@10 {mean:.3f} (per query {recalls})"

    check("right after ALTER")
    wait_index_built(cconn, corpus.db, "docs_l2", corpus.n)
    check("after the build")


# ---- 4. maintenance and transactions on a small table -------------------------------

DIM = 3
SMALL = 40
COSINE_INDEX = "VECTOR INDEX idx ((VEC_COSINE_DISTANCE(v)))"


@pytest.fixture
def small(dbname):
    """Table t (VECTOR(3), cosine index) with 40 rows, an autocommit
    connection to it, and the Python copy of its rows."""
    c = connect(database=dbname, autocommit=True)
    fetch(c, f"CREATE TABLE t (id INT PRIMARY KEY, v VECTOR({DIM}), {COSINE_INDEX})")
    rows = random_vectors(1, SMALL, DIM)
    insert_rows(c, "t", rows)
    yield dbname, c, rows
    c.close()


QUERIES_3D = list(random_vectors(2, 12, DIM).values())


def assert_matches_model(conn, rows, what, k=5, metric=cosine_distance, fn="VEC_COSINE_DISTANCE"):
    """t's top k for each of QUERIES_3D, with and without the index, is the
    one computed here from `rows`."""
    for q in QUERIES_3D:
        want = exact_top(rows, q, k, metric)
        assert ann_top(conn, "t", q, k, fn) == want, f"{what}: query {q}"
        assert scan_top(conn, "t", q, k, fn) == want, f"{what} (exact scan): query {q}"


def test_dml_is_reflected_by_the_next_query(small):
    db, c, rows = small
    assert_matches_model(c, rows, "initial rows")
    wait_index_built(c, db, "t", len(rows))

    # A new row equal to the query is the nearest.
    q = [0.3, -0.7, 0.2]
    fetch(c, "INSERT INTO t VALUES (100, %s)", (vec_text(q),))
    rows[100] = q
    assert ann_top(c, "t", q, 3)[0] == 100
    assert_matches_model(c, rows, "after INSERT")

    # A moved row is the nearest to its new place and gone from its old one.
    old = rows[7]
    fetch(c, "UPDATE t SET v = %s WHERE id = 7", (vec_text([-0.9, 0.1, 0.4]),))
    rows[7] = [-0.9, 0.1, 0.4]
    assert ann_top(c, "t", [-0.9, 0.1, 0.4], 1) == [7]
    assert ann_top(c, "t", old, SMALL) == exact_top(rows, old, SMALL)  # the whole ranking
    assert_matches_model(c, rows, "after UPDATE")

    # Deleted rows never come back, including the one just inserted.
    fetch(c, "DELETE FROM t WHERE id IN (100, 3, 4)")
    for i in (100, 3, 4):
        del rows[i]
    assert 100 not in ann_top(c, "t", q, 3)
    assert_matches_model(c, rows, "after DELETE")

    # A multi-row UPDATE of the vector column, then a re-insert of a deleted key.
    fetch(c, "UPDATE t SET v = VEC_FROM_TEXT('[1,1,1]') WHERE id BETWEEN 20 AND 22")
    for i in (20, 21, 22):
        rows[i] = [1.0, 1.0, 1.0]
    fetch(c, "INSERT INTO t VALUES (3, '[0.5,0.5,-0.5]')")
    rows[3] = [0.5, 0.5, -0.5]
    # Rows 20-22 are identical, so compare ranks only for queries where they do not tie.
    got = ann_top(c, "t", [0.5, 0.5, -0.5], 1)
    assert got == [3], got
    top = ann_top(c, "t", [1, 1, 1], 3)
    assert sorted(top) == [20, 21, 22], top

    wait_index_built(c, db, "t", len(rows))


def test_transaction_sees_its_own_writes_others_do_not(small):
    db, a, rows = small
    b = connect(database=db, autocommit=True)
    try:
        q = [0.11, 0.22, -0.33]
        nearest_before = exact_top(rows, q, 3)
        victim = nearest_before[0]
        assert ann_top(a, "t", q, 3) == nearest_before

        # Uncommitted: an insert at the query, a delete of the old nearest row,
        # and an update moving another row.
        fetch(a, "BEGIN")
        fetch(a, "INSERT INTO t VALUES (500, %s)", (vec_text(q),))
        fetch(a, "DELETE FROM t WHERE id = %s", (victim,))
        moved_to = [-0.5, -0.5, 0.9]
        fetch(a, "UPDATE t SET v = %s WHERE id = 9", (vec_text(moved_to),))
        mine = dict(rows)
        mine[500] = q
        del mine[victim]
        mine[9] = moved_to

        assert ann_top(a, "t", q, 3) == exact_top(mine, q, 3)
        assert ann_top(a, "t", q, 3)[0] == 500
        assert ann_top(a, "t", moved_to, 1) == [9]
        assert_matches_model(a, mine, "inside the writer's transaction")
        # The other connection sees the committed rows only.
        assert ann_top(b, "t", q, 3) == nearest_before
        assert_matches_model(b, rows, "second connection during the transaction")

        fetch(a, "ROLLBACK")
        for conn, who in ((a, "writer"), (b, "second connection")):
            assert ann_top(conn, "t", q, 3) == nearest_before, who
            assert_matches_model(conn, rows, f"{who} after ROLLBACK")

        fetch(a, "BEGIN")
        fetch(a, "INSERT INTO t VALUES (500, %s)", (vec_text(q),))
        assert ann_top(b, "t", q, 1) != [500]
        fetch(a, "COMMIT")
        rows[500] = q
        for conn, who in ((a, "writer"), (b, "second connection")):
            assert ann_top(conn, "t", q, 1) == [500], who
            assert_matches_model(conn, rows, f"{who} after COMMIT")
        wait_index_built(b, db, "t", len(rows))
    finally:
        b.close()


def test_autocommit_off_session_sees_uncommitted_rows(small):
    """PyMySQL's default (autocommit off): writes before COMMIT are visible
    to the writer only."""
    db, observer, rows = small
    w = connect(database=db)  # autocommit off
    try:
        q = [-0.2, 0.9, 0.05]
        fetch(w, "INSERT INTO t VALUES (600, %s)", (vec_text(q),))
        assert ann_top(w, "t", q, 1) == [600]
        assert ann_top(observer, "t", q, 1) == exact_top(rows, q, 1)
        w.commit()
        assert ann_top(observer, "t", q, 1) == [600]
    finally:
        w.close()


def test_ef_search_session_variable(small):
    db, c, rows = small
    fetch(c, "SET SESSION tiembed_hnsw_ef_search = 200")
    assert first_column(c, "SELECT @@SESSION.tiembed_hnsw_ef_search") == [200]
    assert_matches_model(c, rows, "ef_search = 200", k=10)
    fetch(c, "SET SESSION tiembed_hnsw_ef_search = 0")  # back to the index default
    assert_matches_model(c, rows, "ef_search = 0", k=10)


def test_alter_add_l2_index_to_table_with_rows(small):
    db, c, rows = small
    fetch(c, "ALTER TABLE t ADD VECTOR INDEX idx2 ((VEC_L2_DISTANCE(v)))")
    # Right away, while it may still be building, then once it is built.
    assert_matches_model(c, rows, "L2 right after ALTER", metric=l2_distance, fn="VEC_L2_DISTANCE")
    progress = wait_index_built(c, db, "t", len(rows))
    assert set(progress) == {"idx", "idx2"}, progress
    assert_matches_model(c, rows, "L2 after the build", metric=l2_distance, fn="VEC_L2_DISTANCE")
    assert_matches_model(c, rows, "cosine after adding the L2 index")
    # The new index is maintained too.
    fetch(c, "INSERT INTO t VALUES (77, '[9,9,9]')")
    rows[77] = [9.0, 9.0, 9.0]
    assert ann_top(c, "t", [8, 8, 8], 1, "VEC_L2_DISTANCE") == [77]
    assert_matches_model(c, rows, "L2 after an insert", metric=l2_distance, fn="VEC_L2_DISTANCE")
    wait_index_built(c, db, "t", len(rows))


def test_ann_explain_l2_index_added_by_alter(small):
    db, c, rows = small
    sql = "SELECT id FROM t ORDER BY VEC_L2_DISTANCE(v, '[1,2,3]') LIMIT 3"
    infos, plan = scan_infos(c, sql)
    assert not any("annIndex" in i for i in infos), f"no L2 index yet: {plan}"
    fetch(c, "ALTER TABLE t ADD VECTOR INDEX idx2 ((VEC_L2_DISTANCE(v)))")
    wait_index_built(c, db, "t", len(rows))
    infos, plan = scan_infos(c, sql)
    assert any("annIndex:L2(" in i for i in infos), plan
    # The cosine index still serves cosine queries.
    cos_sql = "SELECT id FROM t ORDER BY VEC_COSINE_DISTANCE(v, '[1,2,3]') LIMIT 3"
    infos, plan = scan_infos(c, cos_sql)
    assert any("annIndex:COSINE(" in i for i in infos), plan
    # A dropped index serves nothing any more; the other one still does.
    fetch(c, "ALTER TABLE t DROP INDEX idx2")
    infos, plan = scan_infos(c, sql)
    assert not any("annIndex" in i for i in infos), f"after DROP INDEX idx2: {plan}"
    infos, plan = scan_infos(c, cos_sql)
    assert any("annIndex:COSINE(" in i for i in infos), plan


def test_other_writes_keep_the_index_right(small):
    """Writes that change a row's key or replace it, TRUNCATE, DROP INDEX,
    and a table dropped and created again under the same name."""
    db, c, rows = small
    wait_index_built(c, db, "t", len(rows))

    fetch(c, "UPDATE t SET id = 1000 WHERE id = 5")  # same vector, new key
    rows[1000] = rows.pop(5)
    assert ann_top(c, "t", rows[1000], 1) == [1000]
    fetch(c, "REPLACE INTO t VALUES (6, '[0.25,0.5,-1]')")
    rows[6] = [0.25, 0.5, -1.0]
    fetch(c, "INSERT INTO t VALUES (7, '[-1,0.5,0.25]') ON DUPLICATE KEY UPDATE v = VALUES(v)")
    rows[7] = [-1.0, 0.5, 0.25]
    assert ann_top(c, "t", [0.25, 0.5, -1], 1) == [6]
    assert ann_top(c, "t", [-1, 0.5, 0.25], 1) == [7]
    assert_matches_model(c, rows, "after key change, REPLACE, ON DUPLICATE KEY UPDATE", k=10)
    wait_index_built(c, db, "t", len(rows))

    fetch(c, "TRUNCATE TABLE t")
    assert ann_top(c, "t", [1, 0, 0], 5) == []
    rows = random_vectors(7, 25, DIM, first_id=300)
    insert_rows(c, "t", rows)
    assert_matches_model(c, rows, "after TRUNCATE and new rows", k=10)
    wait_index_built(c, db, "t", len(rows))

    fetch(c, "ALTER TABLE t DROP INDEX idx")
    assert index_progress(c, db, "t") == {}
    assert_matches_model(c, rows, "after DROP INDEX", k=10)

    fetch(c, "DROP TABLE t")
    fetch(c, f"CREATE TABLE t (id INT PRIMARY KEY, v VECTOR({DIM}), {COSINE_INDEX})")
    rows = random_vectors(8, 30, DIM, first_id=1)  # same keys as before, other vectors
    insert_rows(c, "t", rows)
    assert_matches_model(c, rows, "table dropped and created again", k=10)
    wait_index_built(c, db, "t", len(rows))


def test_table_without_primary_key(dbname):
    """Rows keyed by a hidden row id; the index must still map back to them."""
    c = connect(database=dbname, autocommit=True)
    try:
        fetch(c, f"CREATE TABLE t (name VARCHAR(20), v VECTOR({DIM}), {COSINE_INDEX})")
        rows = random_vectors(9, 30, DIM)
        with c.cursor() as cur:
            cur.executemany(
                "INSERT INTO t VALUES (%s, %s)", [(f"r{i}", vec_text(v)) for i, v in rows.items()]
            )
        fetch(c, "DELETE FROM t WHERE name IN ('r1', 'r2')")
        del rows[1], rows[2]
        fetch(c, "UPDATE t SET v = '[0.9,-0.9,0.1]' WHERE name = 'r3'")
        rows[3] = [0.9, -0.9, 0.1]
        for q in QUERIES_3D + [[0.9, -0.9, 0.1]]:
            got = first_column(
                c, "SELECT name FROM t ORDER BY VEC_COSINE_DISTANCE(v, %s) LIMIT 5", (vec_text(q),)
            )
            assert got == [f"r{i}" for i in exact_top(rows, q, 5)], q
        wait_index_built(c, dbname, "t", len(rows))
    finally:
        c.close()


def test_null_and_zero_vectors_rank_as_without_index(dbname):
    """Rows whose cosine distance is NULL (NULL vector, zero vector) come
    first under ASC, as in the table without index (MySQL NULL ordering)."""
    c = connect(database=dbname, autocommit=True)
    try:
        for table, index in (("ti", ", VECTOR INDEX ((VEC_COSINE_DISTANCE(v)))"), ("tx", "")):
            fetch(c, f"CREATE TABLE {table} (id INT PRIMARY KEY, v VECTOR(3){index})")
            fetch(
                c,
                f"INSERT INTO {table} VALUES "
                "(1, '[1,0,0]'), (2, NULL), (3, '[0,0,0]'), (4, '[0,1,0]'), (5, '[1,1,0]')",
            )
        sql = (
            "SELECT id, VEC_COSINE_DISTANCE(v, '[1,0.2,0]') FROM {t} "
            "ORDER BY VEC_COSINE_DISTANCE(v, '[1,0.2,0]'){plus} LIMIT 4"
        )

        def ranked(rows):
            # The two NULL distances tie: compare them as a set.
            return sorted(rows[:2]), rows[2:]

        want = fetch(c, sql.format(t="tx", plus=""))
        assert ranked(want)[0] == [(2, None), (3, None)], want
        assert [r[0] for r in want[2:]] == [1, 5], want
        assert ranked(fetch(c, sql.format(t="ti", plus=""))) == ranked(want)
        assert ranked(fetch(c, sql.format(t="ti", plus=" + 0"))) == ranked(want)
    finally:
        c.close()


# ---- 5. restarts: kill -9 and damaged index files -----------------------------------

SERVER_BIN = os.environ.get("TIEMBED_BIN")
MODELS_DIR = os.environ.get("TIEMBED_MODELS_DIR")
CRASH_DIM = 8
CRASH_ROWS = 150


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A tiembed process of our own on a free port (as scripts/server-lib.sh
    starts one), so a test can kill and restart it on the same data dir."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.proc = None
        self.port = None
        self.starts = 0

    @property
    def log_path(self):
        return os.path.join(self.workdir, f"server-{self.starts}.log")

    def start(self, timeout=120):
        self.starts += 1
        self.port = free_port()
        cmd = [SERVER_BIN, "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.data_dir]
        if MODELS_DIR:
            cmd += ["--models-dir", MODELS_DIR]
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"tiembed exited with {self.proc.returncode} during start-up:\n{self.log_tail()}"
                )
            try:
                self.connect().close()
                return
            except pymysql.err.OperationalError:
                time.sleep(0.2)
        self.kill9()
        pytest.fail(f"tiembed did not accept a connection within {timeout}s:\n{self.log_tail()}")

    def connect(self, **kw):
        params = dict(host="127.0.0.1", port=self.port, user="root", password="",
                      charset="utf8mb4", connect_timeout=5, read_timeout=120, autocommit=True)
        params.update(kw)
        return pymysql.connect(**params)

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def stop(self):
        """SIGTERM; a clean shutdown is part of what is tested."""
        if not self.proc:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.kill9()
            pytest.fail(f"tiembed did not stop within 40s of SIGTERM:\n{self.log_tail()}")
        self.proc = None
        assert rc == 0, f"exit status {rc} after SIGTERM:\n{self.log_tail()}"

    def log_tail(self, n=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def assert_no_panic(self):
        for i in range(1, self.starts + 1):
            with open(os.path.join(self.workdir, f"server-{i}.log"), errors="replace") as f:
                text = f.read()
            assert "panicked at" not in text, f"server-{i}.log shows a panic:\n{text[-4000:]}"


@pytest.fixture
def server(tmp_path):
    if not SERVER_BIN:
        pytest.skip("TIEMBED_BIN is not set: no tiembed binary to start and kill")
    s = Server(str(tmp_path))
    yield s
    s.kill9()
    s.assert_no_panic()


CRASH_QUERIES = list(random_vectors(3, 15, CRASH_DIM).values())


def assert_ann_exact(conn, rows, what, k=10):
    """Every query's ANN answer is the exact one; ef_search above the row
    count makes the search visit every row, so misses are bugs, not chance."""
    fetch(conn, "SET SESSION tiembed_hnsw_ef_search = 400")
    for q in CRASH_QUERIES:
        want = exact_top(rows, q, k)
        assert ann_top(conn, "t", q, k) == want, f"{what}: query {q}"
        assert scan_top(conn, "t", q, k) == want, f"{what} (exact scan): query {q}"


def create_crash_table(s):
    c = s.connect()
    fetch(c, "CREATE DATABASE vi")
    fetch(c, "USE vi")
    fetch(c, f"CREATE TABLE t (id INT PRIMARY KEY, v VECTOR({CRASH_DIM}), {COSINE_INDEX})")
    rows = random_vectors(4, CRASH_ROWS, CRASH_DIM)
    insert_rows(c, "t", rows)
    return c, rows


def check_after_restart(s, rows, what):
    c = s.connect(database="vi")
    try:
        assert first_column(c, "SELECT COUNT(*) FROM t") == [len(rows)], what
        assert_ann_exact(c, rows, f"{what}, before the index is surely built")
        progress = wait_index_built(c, "vi", "t", len(rows))
        assert all(not err for _, _, err in progress.values()), f"{what}: {progress}"
        assert_ann_exact(c, rows, f"{what}, index built")
        return c
    except BaseException:
        print(s.log_tail())
        raise


def test_index_after_kill9_holds_committed_rows_only(server):
    s = server
    s.start()
    c, rows = create_crash_table(s)
    assert_ann_exact(c, rows, "before the crash")
    wait_index_built(c, "vi", "t", len(rows))

    # More committed changes after the index was built ...
    more = random_vectors(5, 30, CRASH_DIM, first_id=1001)
    insert_rows(c, "t", more)
    rows.update(more)
    for i in range(10, 20):
        rows[i] = [x * -1 for x in rows[i]]
        fetch(c, "UPDATE t SET v = %s WHERE id = %s", (vec_text(rows[i]), i))
    fetch(c, "DELETE FROM t WHERE id BETWEEN 40 AND 59 OR id IN (1001, 1002)")
    for i in list(range(40, 60)) + [1001, 1002]:
        del rows[i]
    assert_ann_exact(c, rows, "after the changes, before the crash")
    # ... and an open transaction that must vanish with the crash.
    pending = s.connect(database="vi", autocommit=False)
    fetch(pending, "INSERT INTO t VALUES (9999, %s)", (vec_text(CRASH_QUERIES[0]),))
    fetch(pending, "DELETE FROM t WHERE id = 1")
    fetch(pending, "UPDATE t SET v = %s WHERE id = 2", (vec_text(CRASH_QUERIES[1]),))

    s.kill9()
    s.start()
    check_after_restart(s, rows, "after kill -9").close()


def ann_files(data_dir):
    root = os.path.join(data_dir, "ann")
    found = []
    for d, _, names in os.walk(root):
        found += [os.path.join(d, n) for n in names]
    return sorted(found)


def damage(path, how):
    if how == "delete":
        os.remove(path)
    elif how == "truncate":
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.truncate(size // 2)
    elif how == "corrupt":
        # Flip 16 bytes in the middle: the data changes, the size does not.
        size = os.path.getsize(path)
        at = max(0, size // 2 - 8)
        with open(path, "r+b") as f:
            f.seek(at)
            chunk = f.read(16)
            f.seek(at)
            f.write(bytes(b ^ 0xFF for b in chunk))
    else:
        raise ValueError(how)


@pytest.mark.parametrize("how", ["delete", "corrupt", "truncate"])
def test_ann_index_rebuilt_after_its_files_are_damaged(server, how):
    s = server
    s.start()
    c, rows = create_crash_table(s)
    assert_ann_exact(c, rows, "first query")
    wait_index_built(c, "vi", "t", len(rows))
    fetch(c, "DELETE FROM t WHERE id <= 5")
    for i in range(1, 6):
        del rows[i]
    c.close()
    s.stop()

    files = ann_files(s.data_dir)
    assert files, f"no index files under {os.path.join(s.data_dir, 'ann')} after a clean shutdown"
    for f in files:
        damage(f, how)

    s.start()
    c = check_after_restart(s, rows, f"after the index files were {how}d")
    # Rebuilt, and used again.
    q = vec_text(CRASH_QUERIES[0])
    infos, plan = scan_infos(c, f"SELECT id FROM t ORDER BY VEC_COSINE_DISTANCE(v, '{q}') LIMIT 5")
    assert any("annIndex:COSINE(" in i for i in infos), plan
    c.close()
    s.stop()
    assert ann_files(s.data_dir), "the rebuilt index was not written back to disk"

    # And once more from the rebuilt files.
    s.start()
    check_after_restart(s, rows, "restart from the rebuilt files").close()
    s.stop()
