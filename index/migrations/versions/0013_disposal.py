"""disposal: records' contract end, disposal proposals and their 销毁清册 lines

Revision ID: 0013_disposal
Revises: 0012_tiers
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0013_disposal'
down_revision = '0012_tiers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy on SQLite would lose paperrecord's coverage triggers.
    op.add_column('paperrecord', sa.Column('contract_end', sa.Date(), nullable=True))
    op.create_table(
        'disposal',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('proposer', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('proposed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('approver', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('decision_reason', sa.Text(), nullable=False),
        sa.Column('run_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column('run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.create_index('ix_disposal_state', 'disposal', ['state'])
    op.create_table(
        'disposal_item',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('disposal_id', sa.Integer(), sa.ForeignKey('disposal.id'), nullable=False),
        sa.Column('record_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('object_name', sqlmodel.sql.sqltypes.AutoString(length=128),
                  nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('original_name', sqlmodel.sql.sqltypes.AutoString(length=1024),
                  nullable=False),
        sa.Column('year', sa.Integer(), nullable=True),
        sa.Column('ingested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('retain_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('destroyed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.create_index('ix_disposal_item_disposal_id', 'disposal_item', ['disposal_id'])
    op.create_index('ix_disposal_item_record_no', 'disposal_item', ['record_no'])
    op.create_index('ix_disposal_item_document_id', 'disposal_item', ['document_id'])


def downgrade() -> None:
    op.drop_table('disposal_item')
    op.drop_table('disposal')
    with op.batch_alter_table('paperrecord') as t:
        t.drop_column('contract_end')
