"""worker_beat: each OCR worker's last heartbeat, for readiness checks

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'worker_beat',
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=128), primary_key=True),
        sa.Column('seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False,
                  index=True),
    )


def downgrade() -> None:
    op.drop_table('worker_beat')
