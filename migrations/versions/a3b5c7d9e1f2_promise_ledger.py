"""promise ledger: every dated commitment of a project and how it ended (issue 13, part 4)

Revision ID: a3b5c7d9e1f2
Revises: f2a4c6e8b0d1
Create Date: 2026-12-04 02:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.timeutil


# revision identifiers, used by Alembic.
revision = 'a3b5c7d9e1f2'
down_revision = 'f2a4c6e8b0d1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('promises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('deliverable', 'goal', 'weekly_update', 'asset_request', 'recovery_step', name='promisekind', native_enum=False, length=20), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.Enum('agency', 'client', name='promiseside', native_enum=False, length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('ended', sa.Enum('kept', 'renegotiated', 'broken', name='promiseend', native_enum=False, length=20), nullable=True),
    sa.Column('ended_at', portal.timeutil.UTCDateTime(), nullable=True),
    sa.Column('proposed_due', sa.Date(), nullable=True),
    sa.Column('proposed_at', portal.timeutil.UTCDateTime(), nullable=True),
    sa.Column('agreed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agreed_by_id'], ['users.id'], name=op.f('fk_promises_agreed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_promises_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promises'))
    )
    with op.batch_alter_table('promises', schema=None) as batch_op:
        batch_op.create_index('ix_promises_project_due', ['project_id', 'due_date'], unique=False)
        batch_op.create_index('ix_promises_source', ['kind', 'source_id'], unique=False)


def downgrade():
    with op.batch_alter_table('promises', schema=None) as batch_op:
        batch_op.drop_index('ix_promises_source')
        batch_op.drop_index('ix_promises_project_due')
    op.drop_table('promises')
