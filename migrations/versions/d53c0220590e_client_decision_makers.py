"""client decision makers: a client's own users marked as its decision makers (issue 17)

Revision ID: d53c0220590e
Revises: e8a4c6f1d250
Create Date: 2026-12-04 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.timeutil


# revision identifiers, used by Alembic.
revision = 'd53c0220590e'
down_revision = 'e8a4c6f1d250'
branch_labels = None
depends_on = None


def upgrade():
    # The free-text clients.decision_makers stays: it names the people without an account.
    op.create_table('client_decision_makers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_client_decision_makers_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_client_decision_makers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_decision_makers')),
    sa.UniqueConstraint('client_id', 'user_id', name=op.f('uq_client_decision_makers_client_id_user_id'))
    )
    with op.batch_alter_table('client_decision_makers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_decision_makers_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('client_decision_makers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_decision_makers_user_id'))
    op.drop_table('client_decision_makers')
