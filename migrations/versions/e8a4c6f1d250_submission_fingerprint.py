"""submission fingerprint: a one-time key stands for what the form said, not only for the form (issue 11)

Revision ID: e8a4c6f1d250
Revises: 7d41c2e9b8a6
Create Date: 2026-12-03 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8a4c6f1d250'
down_revision = '7d41c2e9b8a6'
branch_labels = None
depends_on = None


def upgrade():
    # Keys recorded before have no fingerprint: they match any repeat, as they did.
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sa.String(length=64), nullable=False, server_default=''))
        batch_op.drop_constraint('uq_form_submissions_user_id_key', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_form_submissions_user_id_key_fingerprint'), ['user_id', 'key', 'fingerprint'])


def downgrade():
    op.execute(
        "DELETE FROM form_submissions WHERE id NOT IN (SELECT min(id) FROM form_submissions GROUP BY user_id, key)"
    )
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_form_submissions_user_id_key_fingerprint', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_form_submissions_user_id_key'), ['user_id', 'key'])
        batch_op.drop_column('fingerprint')
