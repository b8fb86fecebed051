"""page.failure: why a page could not be read, so a document with unreadable pages is
stored "partly read" with each page's reason instead of failing whole (issue 11)

Revision ID: 0008_page_failure
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_page_failure'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('page') as batch:
        batch.add_column(sa.Column('failure', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('page') as batch:
        batch.drop_column('failure')
