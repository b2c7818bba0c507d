"""pytidb's documented Auto Embedding flow against tiembed (server-side
embedding with the in-process all-MiniLM-L6-v2). The SQL pytidb sends is in
shared/reference/clients-on-the-wire.md section 4. `dimensions=384` is
required: pytidb 0.0.14 does not know this model's dimension."""

import pytest

from conftest import HOST, PASSWORD, PORT, USER

pytestmark = pytest.mark.model

MODEL = "huggingface/sentence-transformers/all-MiniLM-L6-v2"
DOCS = {
    1: "Java: Object-oriented language for cross-platform development.",
    2: "Java coffee: Bold Indonesian beans with low acidity.",
    3: "Java island: Densely populated, home to Jakarta.",
    4: "Java's syntax is used in Android apps.",
    5: "Dark roast Java beans enhance espresso blends.",
}
# sentence-transformers' cosine distances of these rows to the query below.
EXPECTED = [(1, 0.5360), (4, 0.6121), (3, 0.6840)]
QUERY = "How to start learning Java programming?"


def _document_model(table_name):
    """A TableModel class per test: SQLModel registers classes globally, so
    each test uses its own table name."""
    from pytidb.datatype import TEXT
    from pytidb.embeddings import EmbeddingFunction
    from pytidb.schema import Field, TableModel

    text_embed = EmbeddingFunction(model_name=MODEL, dimensions=384)

    class Document(TableModel):
        __tablename__ = table_name
        id: int = Field(primary_key=True)
        content: str = Field(sa_type=TEXT)
        embedding: list[float] = text_embed.VectorField(source_field="content")

    return Document


@pytest.fixture
def client(new_dbname):
    from pytidb import TiDBClient

    db = TiDBClient.connect(
        host=HOST,
        port=PORT,
        username=USER,
        password=PASSWORD,
        database=new_dbname,
        ensure_db=True,
    )
    yield db
    db.disconnect()


def test_documented_flow(client, new_dbname):
    # ensure_db created the database through the SCHEMATA probe + CREATE DATABASE.
    assert new_dbname in client.list_databases()
    assert client.current_database() == new_dbname

    client.configure_embedding_provider(provider="huggingface", api_key="hf_dummy_key")
    Document = _document_model("sample_documents")
    table = client.create_table(schema=Document, if_exists="overwrite")
    assert client.has_table("sample_documents")
    assert table.has_vector_index("embedding")

    inserted = table.bulk_insert([Document(id=i, content=c) for i, c in DOCS.items()])
    assert [d.id for d in inserted] == [1, 2, 3, 4, 5]
    # The server computed the embeddings; pytidb read them back (refresh).
    assert all(len(d.embedding) == 384 for d in inserted)
    assert table.rows() == 5

    results = table.search(QUERY).limit(3).to_list()
    assert [r["id"] for r in results] == [rid for rid, _ in EXPECTED], results
    for r, (rid, dist) in zip(results, EXPECTED):
        assert r["content"] == DOCS[rid]
        assert abs(r["_distance"] - dist) < 2e-3, r
        assert abs(r["_score"] - (1 - r["_distance"])) < 1e-9
        assert len(r["embedding"]) == 384


def test_table_api_round_trip(client):
    Document = _document_model("api_documents")
    table = client.create_table(schema=Document, if_exists="overwrite")
    table.bulk_insert([Document(id=i, content=c) for i, c in DOCS.items()])

    assert table.get(4).content == DOCS[4]
    got = table.query(filters={"id": {"$gte": 4}}, order_by={"id": "desc"}, limit=2).to_list()
    assert [r["id"] for r in got] == [5, 4]

    # Changing the text recomputes the embedding.
    before = list(table.get(2).embedding)
    table.update(values={"content": DOCS[1]}, filters={"id": 2})
    after = list(table.get(2).embedding)
    assert after != before
    assert max(abs(a - b) for a, b in zip(after, table.get(1).embedding)) < 1e-5

    table.delete(filters={"id": {"$in": [5]}})
    assert table.rows() == 4

    # Post-filter search with a filter and a distance threshold. Reference
    # distances to the query: row 2 (now the Java-language text) 0.940,
    # row 3 0.862, row 4 1.037; row 5 (0.271) is deleted and filtered out.
    hits = (
        table.search("Which beans make a good espresso?")
        .filter({"id": {"$in": [2, 3, 4, 5]}})
        .distance_threshold(0.9)
        .limit(2)
        .to_list()
    )
    assert [h["id"] for h in hits] == [3], hits
    assert abs(hits[0]["_distance"] - 0.8619) < 2e-3

    table.truncate()
    assert table.rows() == 0


def test_client_execute_and_query(client):
    Document = _document_model("raw_documents")
    client.create_table(schema=Document, if_exists="overwrite")
    r = client.execute(
        "INSERT INTO raw_documents (id, content) VALUES (:id, :c)", {"id": 10, "c": "it's raw"}
    )
    assert r.success and r.rowcount == 1
    rows = client.query("SELECT id, content FROM raw_documents WHERE id = :id", {"id": 10}).to_list()
    assert rows == [{"id": 10, "content": "it's raw"}]
    bad = client.execute("SELECT * FROM no_such_table")
    assert not bad.success and "1146" in bad.message
