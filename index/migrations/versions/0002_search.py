"""full-text search: chunk index and a dirty queue kept by triggers

The search index is derived from ``document`` by index.search (CJK unigram tokens computed
in Python, identical on both databases). Triggers put every inserted, changed or deleted
document on ``search_dirty``, so no writer needs to know the index exists; index.search
catches up before each search.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Columns whose change alters what a document is found by.
WATCHED = ("text", "original_name", "client_id", "record_no", "department", "doc_type")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_up()
    else:
        _postgres_up()
    op.execute("INSERT INTO search_dirty (document_id) SELECT id FROM document")


def _sqlite_up() -> None:
    op.execute("CREATE TABLE search_dirty (document_id INTEGER PRIMARY KEY)")
    # rowid = document_id << 12 | chunk_no; unicode61 splits our space-separated tokens as is.
    op.execute("CREATE VIRTUAL TABLE search_chunk USING fts5("
               "body, tokenize = 'unicode61 remove_diacritics 0')")
    mark = "INSERT OR IGNORE INTO search_dirty (document_id) VALUES ({}.id)"
    op.execute("CREATE TRIGGER search_doc_ins AFTER INSERT ON document BEGIN "
               + mark.format("new") + "; END")
    op.execute("CREATE TRIGGER search_doc_del AFTER DELETE ON document BEGIN "
               + mark.format("old") + "; END")
    op.execute(f"CREATE TRIGGER search_doc_upd AFTER UPDATE OF {', '.join(WATCHED)} "
               "ON document BEGIN " + mark.format("new") + "; END")


def _postgres_up() -> None:
    op.execute("CREATE TABLE search_dirty (document_id INTEGER PRIMARY KEY)")
    # tsv is written by Python as a tsvector literal: no parser in between, so the lexemes
    # and positions are exactly those SQLite's FTS5 sees.
    op.execute("CREATE TABLE search_chunk (rid BIGINT PRIMARY KEY, document_id INTEGER NOT NULL, "
               "tsv TSVECTOR NOT NULL)")
    op.execute("CREATE INDEX ix_search_chunk_tsv ON search_chunk USING GIN (tsv)")
    op.execute("CREATE INDEX ix_search_chunk_document ON search_chunk (document_id)")
    op.execute("""
        CREATE FUNCTION search_mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO search_dirty (document_id)
          VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)
          ON CONFLICT DO NOTHING;
          RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER search_doc_insdel AFTER INSERT OR DELETE ON document "
               "FOR EACH ROW EXECUTE FUNCTION search_mark_dirty()")
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
    op.execute(f"CREATE TRIGGER search_doc_upd AFTER UPDATE ON document FOR EACH ROW "
               f"WHEN ({changed}) EXECUTE FUNCTION search_mark_dirty()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for t in ("search_doc_ins", "search_doc_del", "search_doc_upd"):
            op.execute(f"DROP TRIGGER IF EXISTS {t}")
    else:
        op.execute("DROP TRIGGER IF EXISTS search_doc_insdel ON document")
        op.execute("DROP TRIGGER IF EXISTS search_doc_upd ON document")
        op.execute("DROP FUNCTION IF EXISTS search_mark_dirty()")
    op.execute("DROP TABLE IF EXISTS search_chunk")
    op.execute("DROP TABLE IF EXISTS search_dirty")
