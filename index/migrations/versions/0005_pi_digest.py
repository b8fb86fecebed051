"""pi_digest: keyed hashes of masked national ID and bank card numbers

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pi_digest',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('document_id', sa.Integer(), sa.ForeignKey('document.id'), nullable=False,
                  index=True),
        sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
                  index=True),
    )


def downgrade() -> None:
    op.drop_table('pi_digest')
