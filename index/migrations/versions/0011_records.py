"""records: mentioned parties and unconfirmed 档号 (document_mention), the coverage code
"scanned, awaiting review", and document metadata filled from the registers

Coverage codes are cached in ``record_state`` and kept by triggers (0003); a record's code
now also depends on the documents that name its 档号 while waiting for review, so mentions
and those documents' link and verify states mark records too.

Revision ID: 0011_records
Revises: 0010_worker_beat
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

from papervault.index.coverage.sql import FILL_ALL

revision = '0011_records'
down_revision = '0010_worker_beat'
branch_labels = None
depends_on = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'document_mention',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('document_id', sa.Integer(), sa.ForeignKey('document.id'), nullable=False),
        sa.Column('kind', _STR(length=8), nullable=False),
        sa.Column('value', _STR(length=64), nullable=False),
        sa.Column('source', _STR(length=32), nullable=False, server_default=''),
        sa.UniqueConstraint('document_id', 'kind', 'value'),
    )
    op.create_index('ix_document_mention_document_id', 'document_mention', ['document_id'])
    op.create_index('ix_document_mention_value', 'document_mention', ['value'])
    with op.batch_alter_table('document') as batch:
        batch.add_column(sa.Column('doc_type_source', _STR(length=16), nullable=True))
        batch.add_column(sa.Column('doc_date_source', _STR(length=16), nullable=True))
    _fill_metadata()
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgres_triggers()
    # The code's definition changed (awaiting review): recompute every record once.
    op.execute("DELETE FROM coverage_dirty")
    op.execute("DELETE FROM record_state")
    op.execute(FILL_ALL)


_DOCS = sa.text(
    "SELECT d.id, d.text, d.department, d.doc_type, d.doc_date, r.title, r.department AS rdep,"
    " r.year, c.department AS cdep FROM document d"
    " LEFT JOIN paperrecord r ON r.record_no = d.record_no"
    " LEFT JOIN client c ON c.client_id = d.client_id"
    " WHERE d.id > :after ORDER BY d.id LIMIT 500")
_SET = sa.text(
    "UPDATE document SET department = :department, doc_type = :doc_type, doc_type_source ="
    " :doc_type_source, doc_date = :doc_date, doc_date_source = :doc_date_source WHERE id = :id")


def _fill_metadata() -> None:
    """Documents linked before this revision get their 部门, 文件类型 and 文件日期 (B2), by
    the same rules as new ones (the default date patterns: settings are not read here)."""
    from datetime import date

    from papervault.index.registers.metadata import Facts, Metadata, derive

    conn = op.get_bind()
    after = 0
    while rows := conn.execute(_DOCS, {"after": after}).all():
        for r in rows:
            # A type already set came from outside the registers: keep it as if by hand.
            doc_date = r.doc_date if r.doc_date is None or isinstance(r.doc_date, date) \
                else date.fromisoformat(str(r.doc_date)[:10])
            cur = Metadata(r.department, r.doc_type, "manual" if r.doc_type else None,
                           doc_date, "text" if doc_date else None)
            new = derive(cur, Facts(r.text or "", r.title, r.rdep, r.year, r.cdep))
            if new != cur:
                conn.execute(_SET, {"id": r.id, "department": new.department,
                                    "doc_type": new.doc_type,
                                    "doc_type_source": new.doc_type_source,
                                    "doc_date": new.doc_date,
                                    "doc_date_source": new.doc_date_source})
        after = rows[-1].id


_MARK_MENTIONED = ("INSERT OR IGNORE INTO coverage_dirty (record_no) SELECT value FROM "
                   "document_mention WHERE document_id = new.id AND kind = 'record';")


def _sqlite_triggers() -> None:
    for when, row in (("INSERT", "new"), ("DELETE", "old")):
        op.execute(f"CREATE TRIGGER coverage_mention_{when.lower()} AFTER {when} ON "
                   f"document_mention WHEN {row}.kind = 'record' BEGIN INSERT OR IGNORE INTO "
                   f"coverage_dirty (record_no) VALUES ({row}.value); END")
    op.execute("CREATE TRIGGER coverage_doc_mentions AFTER UPDATE OF link_state, verify_state "
               "ON document WHEN new.link_state IS NOT old.link_state "
               "OR new.verify_state IS NOT old.verify_state BEGIN " + _MARK_MENTIONED + " END")


def _postgres_triggers() -> None:
    op.execute("""
        CREATE FUNCTION coverage_mark_mention() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            IF OLD.kind = 'record' THEN
              INSERT INTO coverage_dirty (record_no) VALUES (OLD.value) ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
          END IF;
          IF NEW.kind = 'record' THEN
            INSERT INTO coverage_dirty (record_no) VALUES (NEW.value) ON CONFLICT DO NOTHING;
          END IF;
          RETURN NULL;
        END $$""")
    op.execute("""
        CREATE FUNCTION coverage_mark_doc_mentions() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO coverage_dirty (record_no)
            SELECT value FROM document_mention WHERE document_id = NEW.id AND kind = 'record'
            ON CONFLICT DO NOTHING;
          RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER coverage_mention AFTER INSERT OR DELETE ON document_mention "
               "FOR EACH ROW EXECUTE FUNCTION coverage_mark_mention()")
    op.execute("CREATE TRIGGER coverage_doc_mentions AFTER UPDATE ON document FOR EACH ROW "
               "WHEN (OLD.link_state IS DISTINCT FROM NEW.link_state "
               "OR OLD.verify_state IS DISTINCT FROM NEW.verify_state) "
               "EXECUTE FUNCTION coverage_mark_doc_mentions()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for t in ("coverage_mention_insert", "coverage_mention_delete", "coverage_doc_mentions"):
            op.execute(f"DROP TRIGGER IF EXISTS {t}")
    else:
        op.execute("DROP TRIGGER IF EXISTS coverage_doc_mentions ON document")
        op.execute("DROP TRIGGER IF EXISTS coverage_mention ON document_mention")
        op.execute("DROP FUNCTION IF EXISTS coverage_mark_doc_mentions()")
        op.execute("DROP FUNCTION IF EXISTS coverage_mark_mention()")
    with op.batch_alter_table('document') as batch:
        batch.drop_column('doc_date_source')
        batch.drop_column('doc_type_source')
    op.drop_table('document_mention')
