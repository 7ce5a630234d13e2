"""daily digest: each person's digest hour, a project's client reminders, a version's review due date (issue 13)

Revision ID: e4c6a8b0d2f1
Revises: d8b2f4a6c1e3
Create Date: 2026-12-04 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4c6a8b0d2f1'
down_revision = 'd8b2f4a6c1e3'
branch_labels = None
depends_on = None


def upgrade():
    # Everyone starts with the digest at 08:00 in their own zone, and every project with the digest only.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_hour', sa.Integer(), nullable=False, server_default='8'))
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'client_reminders',
                sa.Enum('digest', 'firm', name='clientreminders', native_enum=False, length=20),
                nullable=False,
                server_default='digest',
            )
        )
    with op.batch_alter_table('deliverable_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_due', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('deliverable_versions', schema=None) as batch_op:
        batch_op.drop_column('review_due')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('client_reminders')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('digest_hour')
