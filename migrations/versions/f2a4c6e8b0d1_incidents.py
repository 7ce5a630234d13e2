"""incidents: what went wrong on a project, its recovery plan of dated steps, the client's acceptances and trust answers (issue 13)

Revision ID: f2a4c6e8b0d1
Revises: e4c6a8b0d2f1
Create Date: 2026-12-04 02:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.timeutil


# revision identifiers, used by Alembic.
revision = 'f2a4c6e8b0d1'
down_revision = 'e4c6a8b0d2f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('detected_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.Column('affected', sa.String(length=500), nullable=False),
    sa.Column('impact', sa.Text(), nullable=False),
    sa.Column('cause', sa.Text(), nullable=False),
    sa.Column('visibility', sa.Enum('shared', 'internal', name='visibility', native_enum=False, length=20), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='incidentstatus', native_enum=False, length=20), nullable=False),
    sa.Column('closed_at', portal.timeutil.UTCDateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closing_note', sa.Text(), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('updated_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.Column('created_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.CheckConstraint('lock_version >= 1', name=op.f('ck_incidents_lock_version_positive')),
    sa.CheckConstraint('plan_version >= 1', name=op.f('ck_incidents_plan_version_positive')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_incidents_closed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_incidents_opened_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_incidents_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_incidents_project_status', ['project_id', 'status'], unique=False)

    op.create_table('incident_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('owner_is_client', sa.Boolean(), nullable=False),
    sa.Column('done_at', portal.timeutil.UTCDateTime(), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.Column('created_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.CheckConstraint('owner_is_client OR owner_id IS NOT NULL', name=op.f('ck_incident_steps_owner_named')),
    sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_incident_steps_done_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_steps_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_incident_steps_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_steps'))
    )
    with op.batch_alter_table('incident_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_steps_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_plan_acceptances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_plan_acceptances_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_incident_plan_acceptances_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_plan_acceptances')),
    sa.UniqueConstraint('incident_id', 'plan_version', name=op.f('uq_incident_plan_acceptances_incident_id_plan_version'))
    )
    with op.batch_alter_table('incident_plan_acceptances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_plan_acceptances_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_trust_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('restored', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.CheckConstraint("restored OR note <> ''", name=op.f('ck_incident_trust_answers_note_required')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_trust_answers_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_incident_trust_answers_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_trust_answers')),
    sa.UniqueConstraint('incident_id', name=op.f('uq_incident_trust_answers_incident_id'))
    )
    with op.batch_alter_table('incident_trust_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_trust_answers_incident_id'), ['incident_id'], unique=False)


def downgrade():
    with op.batch_alter_table('incident_trust_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_trust_answers_incident_id'))
    op.drop_table('incident_trust_answers')
    with op.batch_alter_table('incident_plan_acceptances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_plan_acceptances_incident_id'))
    op.drop_table('incident_plan_acceptances')
    with op.batch_alter_table('incident_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_steps_incident_id'))
    op.drop_table('incident_steps')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_project_status')
        batch_op.drop_index(batch_op.f('ix_incidents_project_id'))
    op.drop_table('incidents')
