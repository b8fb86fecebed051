"""Pages remember how they were turned and straightened; documents keep their thumbnails

``page.turn`` (clockwise degrees) and ``page.skew`` (degrees straightened) record what the
worker did to read a page upright (issue 14). ``document.thumbs_*`` name the encrypted
multi-page TIFF of page thumbnails the worker renders once, so a page view no longer
decrypts the whole file (security review M10).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0008_page_failure'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('page') as b:
        b.add_column(sa.Column('turn', sa.Integer(), nullable=False, server_default='0'))
        b.add_column(sa.Column('skew', sa.Float(), nullable=False, server_default='0'))
    with op.batch_alter_table('document') as b:
        b.add_column(sa.Column('thumbs_object_name',
                               sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
        b.add_column(sa.Column('thumbs_wrapped_key', sa.LargeBinary(), nullable=True))
        b.add_column(sa.Column('thumbs_key_id', sqlmodel.sql.sqltypes.AutoString(length=64),
                               nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('document') as b:
        b.drop_column('thumbs_key_id')
        b.drop_column('thumbs_wrapped_key')
        b.drop_column('thumbs_object_name')
    with op.batch_alter_table('page') as b:
        b.drop_column('skew')
        b.drop_column('turn')
