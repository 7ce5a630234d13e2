"""goal stored progress: each agreed goal's status on its project's day, for the dashboards (issue 12)

Revision ID: 7d41c2e9b8a6
Revises: c3e1b7a90f42
Create Date: 2026-12-03 09:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d41c2e9b8a6'
down_revision = 'c3e1b7a90f42'
branch_labels = None
depends_on = None


def upgrade():
    # Empty at first: every goal reads as not fresh, so the dashboards compute it until the
    # scheduler's refresh stores it (or `flask portal refresh-goal-progress`).
    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress_status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('progress_behind', sa.Numeric(precision=16, scale=6), nullable=True))
        batch_op.add_column(sa.Column('progress_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('progress_measured_on', sa.Date(), nullable=True))
        batch_op.create_index('ix_goals_progress', ['project_id', 'progress_status'], unique=False)


def downgrade():
    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.drop_index('ix_goals_progress')
        batch_op.drop_column('progress_measured_on')
        batch_op.drop_column('progress_on')
        batch_op.drop_column('progress_behind')
        batch_op.drop_column('progress_status')
