"""tiers: users' departments and clearance, documents' and records' 密级, type source

Revision ID: 0012_tiers
Revises: 0010_worker_beat
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0012_tiers'
down_revision = '0010_worker_beat'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): a copied table on SQLite would lose the coverage
    # and search triggers on document.
    op.add_column('app_user', sa.Column('departments', sa.Text(), nullable=False,
                                        server_default=''))
    op.add_column('app_user', sa.Column('clearance',
                                        sqlmodel.sql.sqltypes.AutoString(length=32)))
    op.add_column('document', sa.Column('doc_type_source',
                                        sqlmodel.sql.sqltypes.AutoString(length=16)))
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
        t.drop_column('doc_type_source')
    with op.batch_alter_table('app_user') as t:
        t.drop_column('clearance')
        t.drop_column('departments')
