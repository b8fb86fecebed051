"""Indexes on document.department, doc_type and doc_date: search filters on them

Without them a filter with a common word had to read every matching text chunk to find the
few documents of one department (373 ms at 100k documents), and search cannot tell cheaply
whether a filter names few documents.

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

COLUMNS = ('department', 'doc_type', 'doc_date')


def upgrade() -> None:
    for column in COLUMNS:
        op.create_index(f'ix_document_{column}', 'document', [column], unique=False)


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f'ix_document_{column}', table_name='document')
