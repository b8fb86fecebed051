"""Search reindexes a document when its link state changes: a batch split at its cover
sheets is found through its parts, not itself

The batch's own text holds every part's text and the sheets' garbled OCR, so it showed up
beside each of its parts. ``index.search_index.document_tokens`` gives a split batch no tokens;
this makes the change to ``link_state = 'split'`` reach the index.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BEFORE = ("text", "original_name", "client_id", "record_no", "department", "doc_type")
AFTER = (*BEFORE, "link_state")


def _triggers(watched: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS search_doc_upd")
        op.execute(f"CREATE TRIGGER search_doc_upd AFTER UPDATE OF {', '.join(watched)} "
                   "ON document BEGIN INSERT OR IGNORE INTO search_dirty (document_id) "
                   "VALUES (new.id); END")
    else:
        op.execute("DROP TRIGGER IF EXISTS search_doc_upd ON document")
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
        op.execute(f"CREATE TRIGGER search_doc_upd AFTER UPDATE ON document FOR EACH ROW "
                   f"WHEN ({changed}) EXECUTE FUNCTION search_mark_dirty()")


def upgrade() -> None:
    _triggers(AFTER)
    op.execute("INSERT INTO search_dirty (document_id) SELECT id FROM document "
               "WHERE link_state = 'split' AND id NOT IN (SELECT document_id FROM search_dirty)")


def downgrade() -> None:
    _triggers(BEFORE)
