"""access: users, API tokens and sign-in sessions

Follows both 0002 (search) and 0003 (coverage), joining the two heads again.

Revision ID: 0004
Revises: 0002, 0003
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004'
down_revision = ('0002', '0003')
branch_labels = None
depends_on = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime
S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        'app_user',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('username', S(length=64), nullable=False, unique=True),
        sa.Column('display_name', S(length=128), nullable=False, server_default=''),
        sa.Column('roles', S(length=128), nullable=False, server_default=''),
        sa.Column('password_hash', sa.Text(), nullable=True),
        sa.Column('must_change_password', sa.Boolean(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('locked_until', UTC(), nullable=True),
        sa.Column('created_at', UTC(), nullable=False),
        sa.Column('created_by', S(length=64), nullable=False, server_default=''),
        sa.Column('password_changed_at', UTC(), nullable=True),
        sa.Column('last_login_at', UTC(), nullable=True),
    )
    op.create_table(
        'api_token',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('app_user.id'), nullable=False,
                  index=True),
        sa.Column('name', S(length=128), nullable=False),
        sa.Column('token_hash', S(length=64), nullable=False, unique=True),
        sa.Column('prefix', S(length=16), nullable=False),
        sa.Column('created_at', UTC(), nullable=False),
        sa.Column('last_used_at', UTC(), nullable=True),
        sa.Column('revoked_at', UTC(), nullable=True),
    )
    op.create_table(
        'login_session',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('token_hash', S(length=64), nullable=False, unique=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('app_user.id'), nullable=False,
                  index=True),
        sa.Column('created_at', UTC(), nullable=False),
        sa.Column('last_seen_at', UTC(), nullable=False),
        sa.Column('expires_at', UTC(), nullable=False),
        sa.Column('origin', S(length=128), nullable=False, server_default=''),
        sa.Column('revoked_at', UTC(), nullable=True),
    )
    # The audit trail is searched by target when an auditor asks who read a client's files.
    op.create_index('ix_auditentry_target', 'auditentry', ['target'])


def downgrade() -> None:
    op.drop_index('ix_auditentry_target', 'auditentry')
    op.drop_table('login_session')
    op.drop_table('api_token')
    op.drop_table('app_user')
