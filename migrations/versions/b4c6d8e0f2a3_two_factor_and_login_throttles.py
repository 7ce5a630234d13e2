"""two-factor sign-in (TOTP secret, recovery codes), per-account login throttles, agency settings (issue 14)

Revision ID: b4c6d8e0f2a3
Revises: a3b5c7d9e1f2
Create Date: 2026-12-04 02:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

import portal.timeutil

# revision identifiers, used by Alembic.
revision = 'b4c6d8e0f2a3'
down_revision = 'a3b5c7d9e1f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('totp_confirmed_at', portal.timeutil.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))

    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', portal.timeutil.UTCDateTime(), nullable=True),
    sa.Column('created_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)

    op.create_table('login_throttles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', portal.timeutil.UTCDateTime(), nullable=True),
    sa.Column('locked_until', portal.timeutil.UTCDateTime(), nullable=True),
    sa.Column('notified_at', portal.timeutil.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_throttles')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_login_throttles_key_hash'))
    )

    op.create_table('agency_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_two_factor_required', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_settings'))
    )


def downgrade():
    op.drop_table('agency_settings')
    op.drop_table('login_throttles')
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))
    op.drop_table('recovery_codes')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_confirmed_at')
        batch_op.drop_column('totp_secret')
