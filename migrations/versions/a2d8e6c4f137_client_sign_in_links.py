"""client sign-in links: an organisation may let its people sign in with an emailed link (issue 14)

Revision ID: a2d8e6c4f137
Revises: f1c7a3e5b920
Create Date: 2026-12-03 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a2d8e6c4f137'
down_revision = 'f1c7a3e5b920'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sign_in_links', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('sign_in_links')
