"""outbox retry window: when each email's retries started, and its last try (issue 11)

Revision ID: c3e1b7a90f42
Revises: 5b9e2f41c7d3
Create Date: 2026-11-30 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.timeutil


# revision identifiers, used by Alembic.
revision = 'c3e1b7a90f42'
down_revision = '5b9e2f41c7d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queued_at', portal.timeutil.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('attempted_at', portal.timeutil.UTCDateTime(), nullable=True))
    # Emails already in the outbox keep the window they had: it starts when they were queued.
    op.execute("UPDATE outbox_emails SET queued_at = created_at")
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.alter_column('queued_at', existing_type=portal.timeutil.UTCDateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_column('attempted_at')
        batch_op.drop_column('queued_at')
