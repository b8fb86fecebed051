"""coverage_counts: counts per department, year and code kept beside record_state, the
catalogue check per 档号 (coverage_check), a partial index for read documents without a 档号

The coverage report at 1M records on PostgreSQL grouped every ``record_state`` row (~250 ms)
and anti-joined every document with the register (~650 ms) each time it was shown. Refresh
now keeps the counts and the check for the records it recomputes, so the triggers also mark
a record when what the check reads changes: a document's state, link state or page count,
a register row's expected page count.

Revision ID: 0015_coverage_counts
Revises: 0014_pg_search
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_coverage_counts'
down_revision = '0014_pg_search'
branch_labels = None
depends_on = None

# index.coverage.sql.CHECK_ALL as of this revision (copied: a migration must not change later).
CHECK_ALL = (
    "INSERT INTO coverage_check (record_no, images, pages_off)"
    " SELECT r.record_no, 0, 1 FROM paperrecord r WHERE r.expected_pages IS NOT NULL"
    " AND r.expected_pages <> (SELECT SUM(CASE WHEN d.link_state <> 'split'"
    " THEN COALESCE(d.page_count, 0) ELSE 0 END) FROM document d"
    " WHERE d.record_no = r.record_no)"
    " UNION ALL SELECT d.record_no, SUM(CASE WHEN d.state IN ('indexed', 'partly_read')"
    " AND d.link_state <> 'split' THEN 1 ELSE 0 END), 0 FROM document d"
    " LEFT JOIN paperrecord r ON r.record_no = d.record_no"
    " WHERE d.record_no IS NOT NULL AND r.record_no IS NULL GROUP BY d.record_no"
    " HAVING SUM(CASE WHEN d.state IN ('indexed', 'partly_read')"
    " AND d.link_state <> 'split' THEN 1 ELSE 0 END) > 0"
)
UNFILED = "record_no IS NULL AND state IN ('indexed', 'partly_read') AND link_state <> 'split'"

DOC_COLUMNS = ("record_no", "verify_state", "state", "link_state", "page_count")
RECORD_COLUMNS = ("department", "year", "expected_pages")
OLD_DOC_COLUMNS = ("record_no", "verify_state")
OLD_RECORD_COLUMNS = ("department", "year")


def upgrade() -> None:
    op.create_table(
        'coverage_count',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('department', sa.String(128), nullable=True),
        sa.Column('year', sa.Integer(), nullable=True),
        sa.Column('code', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
    )
    op.create_table(
        'coverage_check',
        sa.Column('record_no', sa.String(64), primary_key=True),
        sa.Column('images', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('pages_off', sa.Integer(), nullable=False, server_default='0'),
    )
    op.create_index('ix_document_unfiled', 'document', ['record_no'],
                    sqlite_where=sa.text(UNFILED), postgresql_where=sa.text(UNFILED))
    # From the rows as they are: records still marked are recomputed by the next refresh,
    # which changes these counts by what it changes.
    op.execute("INSERT INTO coverage_count (department, year, code, n) SELECT department,"
               " year, code, count(*) FROM record_state GROUP BY department, year, code")
    op.execute(CHECK_ALL)
    _triggers(DOC_COLUMNS, RECORD_COLUMNS)


def _triggers(doc_cols: tuple[str, ...], rec_cols: tuple[str, ...]) -> None:
    """The update triggers of 0003, marking records when one of these columns changes."""
    if op.get_bind().dialect.name == "sqlite":
        mark = ("INSERT OR IGNORE INTO coverage_dirty (record_no) SELECT {0}.record_no"
                " WHERE {0}.record_no IS NOT NULL;")
        for name, table, cols, rows in (
                ("coverage_doc_upd", "document", doc_cols, ("old", "new")),
                ("coverage_rec_upd", "paperrecord", rec_cols, ("new",))):
            changed = " OR ".join(f"new.{c} IS NOT old.{c}" for c in cols)
            marks = " ".join(mark.format(r) for r in rows)
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"CREATE TRIGGER {name} AFTER UPDATE OF {', '.join(cols)} ON {table}"
                       f" WHEN {changed} BEGIN {marks} END")
        return
    for table, cols in (("document", doc_cols), ("paperrecord", rec_cols)):
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in cols)
        op.execute(f"DROP TRIGGER IF EXISTS coverage_{table}_upd ON {table}")
        op.execute(f"CREATE TRIGGER coverage_{table}_upd AFTER UPDATE ON {table} FOR EACH ROW "
                   f"WHEN ({changed}) EXECUTE FUNCTION coverage_mark_dirty()")


def downgrade() -> None:
    _triggers(OLD_DOC_COLUMNS, OLD_RECORD_COLUMNS)
    op.drop_index('ix_document_unfiled', 'document')
    op.drop_table('coverage_check')
    op.drop_table('coverage_count')
