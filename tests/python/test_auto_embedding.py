"""TiDB's Auto Embedding SQL through PyMySQL with the real all-MiniLM-L6-v2
running inside the server (no network). Skipped with
TIEMBED_SKIP_MODEL_TESTS=1."""

import json
import math
import os

import pytest

from conftest import connect

pytestmark = pytest.mark.model

MODEL = "huggingface/sentence-transformers/all-MiniLM-L6-v2"

# Verbatim from TiDB's HuggingFace embeddings page (double-quoted strings,
# backticks), statement by statement as a client sends them.
EXAMPLE = [
    "SET @@GLOBAL.TIDB_EXP_EMBED_HUGGINGFACE_API_KEY = 'your-huggingface-api-key-here'",
    """CREATE TABLE sample (
  `id` INT, `content` TEXT,
  `embedding` VECTOR(384) GENERATED ALWAYS AS (EMBED_TEXT(
      "huggingface/sentence-transformers/all-MiniLM-L6-v2", `content`)) STORED)""",
    """INSERT INTO sample (`id`, `content`) VALUES
  (1, "Java: Object-oriented language for cross-platform development."),
  (2, "Java coffee: Bold Indonesian beans with low acidity."),
  (3, "Java island: Densely populated, home to Jakarta."),
  (4, "Java's syntax is used in Android apps."),
  (5, "Dark roast Java beans enhance espresso blends.")""",
]
QUERY = """SELECT `id`, `content` FROM sample
ORDER BY VEC_EMBED_COSINE_DISTANCE(embedding, "How to start learning Java programming?")
LIMIT 2;"""


def run(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def test_tidb_docs_example_ranks_rows_1_and_4(conn):
    for sql in EXAMPLE:
        run(conn, sql)
    conn.commit()
    rows = run(conn, QUERY)
    assert [r[0] for r in rows] == [1, 4], rows
    assert rows[1][1] == "Java's syntax is used in Android apps."

    # Every row got a 384-dimensional, unit-length embedding.
    dims = run(conn, "SELECT id, VEC_DIMS(embedding), VEC_L2_NORM(embedding) FROM sample ORDER BY id")
    assert [d[0] for d in dims] == [1, 2, 3, 4, 5]
    for _, n, norm in dims:
        assert n == 384
        assert abs(norm - 1.0) < 1e-3

    # The coffee sentences are the nearest ones for a coffee question.
    rows = run(
        conn,
        "SELECT id FROM sample ORDER BY "
        "VEC_EMBED_COSINE_DISTANCE(embedding, 'Which beans make a good espresso?') LIMIT 2",
    )
    assert [r[0] for r in rows] == [5, 2], rows


# Cosine distances from sentence-transformers' all-MiniLM-L6-v2 for the
# example's query against rows 1..5 (computed offline with the same weights).
EXPECTED_DISTANCES = {1: 0.5360, 4: 0.6121, 3: 0.6840, 2: 0.7779, 5: 0.8451}


def test_distances_match_the_reference_model(conn):
    for sql in EXAMPLE[1:]:
        run(conn, sql)
    conn.commit()
    rows = run(
        conn,
        "SELECT id, VEC_EMBED_COSINE_DISTANCE(embedding, %s) AS d FROM sample ORDER BY d",
        ("How to start learning Java programming?",),
    )
    assert [r[0] for r in rows] == [1, 4, 3, 2, 5], rows
    for rid, d in rows:
        assert abs(d - EXPECTED_DISTANCES[rid]) < 2e-3, (rid, d)


def test_distance_in_select_list_and_where(conn):
    for sql in EXAMPLE[1:]:
        run(conn, sql)
    conn.commit()
    rows = run(
        conn,
        "SELECT id, VEC_EMBED_COSINE_DISTANCE(embedding, %s) AS d FROM sample ORDER BY d LIMIT 5",
        ("Java's syntax is used in Android apps.",),
    )
    # Identical text: the same vector, so the distance is 0 (or within float noise).
    assert rows[0][0] == 4 and abs(rows[0][1]) < 1e-5
    ds = [r[1] for r in rows]
    assert ds == sorted(ds) and all(0 <= d <= 2 for d in ds[1:])
    near = run(
        conn,
        "SELECT id FROM sample WHERE VEC_EMBED_COSINE_DISTANCE(embedding, %s) < 0.01",
        ("Java's syntax is used in Android apps.",),
    )
    assert near == ((4,),)


def test_embedding_follows_updates_and_nulls(conn):
    run(conn, EXAMPLE[1])
    run(conn, "INSERT INTO sample (id, content) VALUES (1, 'Dogs are loyal companions.'), (2, NULL)")
    conn.commit()
    assert run(conn, "SELECT id FROM sample WHERE embedding IS NULL") == ((2,),)
    before = run(conn, "SELECT embedding FROM sample WHERE id = 1")[0][0]
    run(conn, "UPDATE sample SET content = 'Cats are independent animals.' WHERE id = 1")
    conn.commit()
    after = run(conn, "SELECT embedding FROM sample WHERE id = 1")[0][0]
    assert isinstance(after, str) and after.startswith("[") and after != before
    # Writing the generated column directly is refused (MySQL error 3105).
    with pytest.raises(Exception) as info:
        run(conn, "INSERT INTO sample (id, content, embedding) VALUES (3, 'x', %s)", (str([0.0] * 384),))
    assert info.value.args[0] == 3105


def _load_reference(fixtures_dir):
    if not fixtures_dir:
        return None
    path = os.path.join(fixtures_dir, "minilm_public.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _cos(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_vectors_match_sentence_transformers_reference(conn, fixtures_dir):
    """The server's embeddings equal sentence-transformers' for the shared
    reference texts (read back over the wire as VECTOR text)."""
    ref = _load_reference(fixtures_dir)
    if ref is None:
        pytest.skip("no minilm_public.json (set TIEMBED_FIXTURES_DIR)")
    items = [it for it in ref["items"] if it.get("text")][:20]
    run(
        conn,
        "CREATE TABLE ref (id INT PRIMARY KEY, content TEXT, embedding VECTOR(384) "
        f"GENERATED ALWAYS AS (EMBED_TEXT('{MODEL}', content)) STORED)",
    )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO ref (id, content) VALUES (%s, %s)",
            [(i, it["text"]) for i, it in enumerate(items)],
        )
    conn.commit()
    got = dict(run(conn, "SELECT id, embedding FROM ref"))
    worst = min(_cos(json.loads(got[i]), it["embedding"]) for i, it in enumerate(items))
    assert worst >= 0.999, worst


def test_model_persists_across_connections(dbname):
    """A fresh connection reads vectors written by another one."""
    c1 = connect(database=dbname, autocommit=True)
    c2 = connect(database=dbname, autocommit=True)
    try:
        run(c1, EXAMPLE[1])
        run(c1, EXAMPLE[2])
        rows = run(c2, QUERY)
        assert [r[0] for r in rows] == [1, 4]
    finally:
        c1.close()
        c2.close()
