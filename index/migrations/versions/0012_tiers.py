"""tiers: users' departments and clearance, documents' and records' 密级

Revision ID: 0012_tiers
Revises: 0011_records
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0012_tiers'
down_revision = '0011_records'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): a copied table on SQLite would lose the coverage
    # and search triggers on document.
    op.add_column('app_user', sa.Column('departments', sa.Text(), nullable=False,
                                        server_default=''))
    op.add_column('app_user', sa.Column('clearance',
                                        sqlmodel.sql.sqltypes.AutoString(length=32)))
    # doc_type_source comes with 0011_records (one column for both rules).
    op.add_column('document', sa.Column('sensitivity',
                                        sqlmodel.sql.sqltypes.AutoString(length=32)))
    op.create_index('ix_document_sensitivity', 'document', ['sensitivity'])
    op.add_column('paperrecord', sa.Column('sensitivity',
                                           sqlmodel.sql.sqltypes.AutoString(length=32)))


def downgrade() -> None:
    with op.batch_alter_table('paperrecord') as t:
        t.drop_column('sensitivity')
    with op.batch_alter_table('document') as t:
        t.drop_index('ix_document_sensitivity')
        t.drop_column('sensitivity')
    with op.batch_alter_table('app_user') as t:
        t.drop_column('clearance')
        t.drop_column('departments')
