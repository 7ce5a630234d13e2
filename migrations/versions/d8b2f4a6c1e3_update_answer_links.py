"""update answer links: each client's three emailed answer links per update, kept as hashes; a 1-5 score on answers (issue 13)

Revision ID: d8b2f4a6c1e3
Revises: c5a7e9b1d3f2
Create Date: 2026-12-04 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.timeutil


# revision identifiers, used by Alembic.
revision = 'd8b2f4a6c1e3'
down_revision = 'c5a7e9b1d3f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('update_answer_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.Enum('accurate', 'not_accurate', 'concern', name='ackchoice', native_enum=False, length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', portal.timeutil.UTCDateTime(), nullable=True),
    sa.Column('created_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['update_id'], ['updates.id'], name=op.f('fk_update_answer_links_update_id_updates'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_update_answer_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_update_answer_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_update_answer_links_token_hash'))
    )
    with op.batch_alter_table('update_answer_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_update_answer_links_update_id'), ['update_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_update_answer_links_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('update_acknowledgements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_update_acknowledgements_score_range'), 'score BETWEEN 1 AND 5')


def downgrade():
    with op.batch_alter_table('update_acknowledgements', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_update_acknowledgements_score_range'), type_='check')
        batch_op.drop_column('score')

    with op.batch_alter_table('update_answer_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_update_answer_links_user_id'))
        batch_op.drop_index(batch_op.f('ix_update_answer_links_update_id'))
    op.drop_table('update_answer_links')
