"""coverage: record_state cache, coverage_dirty queue kept by triggers, qa_check

Independent of 0002 (both follow 0001; upgrade runs "heads"). The coverage report over a
million paper records must answer in about a second: it reads ``record_state`` (one code per
record, copied department and year) instead of aggregating every document each time.
Triggers on ``document`` and ``paperrecord`` mark the records whose code may have changed.

Revision ID: 0003
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'record_state',
        sa.Column('record_no', sa.String(64), primary_key=True),
        sa.Column('department', sa.String(128), nullable=True),
        sa.Column('year', sa.Integer(), nullable=True),
        sa.Column('code', sa.Integer(), nullable=False, server_default='0'),
    )
    op.create_index('ix_record_state_group', 'record_state', ['department', 'year', 'code'])
    op.create_index('ix_record_state_code', 'record_state', ['code', 'record_no'])
    op.create_table('coverage_dirty', sa.Column('record_no', sa.String(64), primary_key=True))
    op.create_table(
        'qa_check',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('document_id', sa.Integer(), sa.ForeignKey('document.id'), nullable=False,
                  unique=True),
        sa.Column('sample_id', sa.String(32), nullable=False),
        sa.Column('sampled_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('result', sa.String(16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False, server_default=''),
        sa.Column('reviewer', sa.String(128), nullable=True),
        sa.Column('marked_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_qa_check_sample_id', 'qa_check', ['sample_id'])
    op.create_index('ix_qa_check_result', 'qa_check', ['result'])
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgres_triggers()
    # record_state is filled by 0011_records: today's code reads document_mention, which
    # does not exist yet at this step.


def _sqlite_triggers() -> None:
    mark = "INSERT OR IGNORE INTO coverage_dirty (record_no) SELECT {0}.record_no WHERE {0}.record_no IS NOT NULL;"
    op.execute("CREATE TRIGGER coverage_doc_ins AFTER INSERT ON document BEGIN "
               + mark.format("new") + " END")
    op.execute("CREATE TRIGGER coverage_doc_del AFTER DELETE ON document BEGIN "
               + mark.format("old") + " END")
    op.execute("CREATE TRIGGER coverage_doc_upd AFTER UPDATE OF record_no, verify_state ON document "
               "WHEN new.record_no IS NOT old.record_no OR new.verify_state IS NOT old.verify_state "
               "BEGIN " + mark.format("old") + " " + mark.format("new") + " END")
    op.execute("CREATE TRIGGER coverage_rec_ins AFTER INSERT ON paperrecord BEGIN "
               + mark.format("new") + " END")
    op.execute("CREATE TRIGGER coverage_rec_del AFTER DELETE ON paperrecord BEGIN "
               + mark.format("old") + " END")
    op.execute("CREATE TRIGGER coverage_rec_upd AFTER UPDATE OF department, year ON paperrecord "
               "WHEN new.department IS NOT old.department OR new.year IS NOT old.year "
               "BEGIN " + mark.format("new") + " END")


def _postgres_triggers() -> None:
    # Nested IFs: plpgsql does not promise to short-circuit, and OLD is unset on INSERT.
    op.execute("""
        CREATE FUNCTION coverage_mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') THEN
            IF OLD.record_no IS NOT NULL THEN
              INSERT INTO coverage_dirty (record_no) VALUES (OLD.record_no) ON CONFLICT DO NOTHING;
            END IF;
          END IF;
          IF TG_OP IN ('UPDATE', 'INSERT') THEN
            IF NEW.record_no IS NOT NULL THEN
              INSERT INTO coverage_dirty (record_no) VALUES (NEW.record_no) ON CONFLICT DO NOTHING;
            END IF;
          END IF;
          RETURN NULL;
        END $$""")
    for table, cols in (("document", ("record_no", "verify_state")),
                        ("paperrecord", ("department", "year"))):
        op.execute(f"CREATE TRIGGER coverage_{table}_insdel AFTER INSERT OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION coverage_mark_dirty()")
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in cols)
        op.execute(f"CREATE TRIGGER coverage_{table}_upd AFTER UPDATE ON {table} FOR EACH ROW "
                   f"WHEN ({changed}) EXECUTE FUNCTION coverage_mark_dirty()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for t in ("coverage_doc_ins", "coverage_doc_del", "coverage_doc_upd",
                  "coverage_rec_ins", "coverage_rec_del", "coverage_rec_upd"):
            op.execute(f"DROP TRIGGER IF EXISTS {t}")
    else:
        for table in ("document", "paperrecord"):
            op.execute(f"DROP TRIGGER IF EXISTS coverage_{table}_insdel ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS coverage_{table}_upd ON {table}")
        op.execute("DROP FUNCTION IF EXISTS coverage_mark_dirty()")
    op.drop_table('qa_check')
    op.drop_table('coverage_dirty')
    op.drop_table('record_state')
