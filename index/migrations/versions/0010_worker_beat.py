"""worker_beat: each OCR worker's last heartbeat, for readiness checks

Revision ID: 0010_worker_beat
Revises: 0008
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010_worker_beat'
down_revision = '0008'
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
