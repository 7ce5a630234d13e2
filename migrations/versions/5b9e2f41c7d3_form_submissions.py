"""form submissions: one-time keys of create forms, so a repeat does nothing (issue 11)

Revision ID: 5b9e2f41c7d3
Revises: a10f5d7ed285
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.timeutil


# revision identifiers, used by Alembic.
revision = '5b9e2f41c7d3'
down_revision = 'a10f5d7ed285'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('result_url', sa.String(length=500), nullable=False),
    sa.Column('created_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_form_submissions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_submissions')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_form_submissions_user_id_key'))
    )


def downgrade():
    op.drop_table('form_submissions')
