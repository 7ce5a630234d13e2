"""review pins on images and PDF pages, previews, pin checks (issue 15)

Revision ID: c5a7e9b1d3f2
Revises: a2d8e6c4f137
Create Date: 2026-12-04 01:28:35.756398

"""
from alembic import op
import sqlalchemy as sa

import portal.timeutil


# revision identifiers, used by Alembic.
revision = 'c5a7e9b1d3f2'
down_revision = 'a2d8e6c4f137'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('file_previews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'ready', 'failed', name='previewstatus', native_enum=False, length=20), nullable=False),
    sa.Column('problem', sa.Enum('encrypted', 'broken', 'empty', name='previewproblem', native_enum=False, length=20), nullable=True),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', portal.timeutil.UTCDateTime(), nullable=True),
    sa.Column('created_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['deliverable_files.id'], name=op.f('fk_file_previews_file_id_deliverable_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_file_previews')),
    sa.UniqueConstraint('file_id', name=op.f('uq_file_previews_file_id'))
    )
    with op.batch_alter_table('file_previews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_previews_status'), ['status'], unique=False)

    op.create_table('review_pins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deliverable_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('x', sa.Float(), nullable=True),
    sa.Column('y', sa.Float(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('open', 'resolved', 'wont_do', name='pinstatus', native_enum=False, length=20), nullable=False),
    sa.Column('settled_note', sa.Text(), nullable=False),
    sa.Column('settled_by_id', sa.Integer(), nullable=True),
    sa.Column('settled_at', portal.timeutil.UTCDateTime(), nullable=True),
    sa.Column('created_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.CheckConstraint('(x IS NULL AND y IS NULL) OR (x >= 0 AND x <= 1 AND y >= 0 AND y <= 1)', name=op.f('ck_review_pins_pin_spot_in_file')),
    sa.CheckConstraint('page >= 1', name=op.f('ck_review_pins_pin_page_from_one')),
    sa.UniqueConstraint('deliverable_id', 'number', name=op.f('uq_review_pins_deliverable_id_number')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_review_pins_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deliverable_id'], ['deliverables.id'], name=op.f('fk_review_pins_deliverable_id_deliverables')),
    sa.ForeignKeyConstraint(['file_id'], ['deliverable_files.id'], name=op.f('fk_review_pins_file_id_deliverable_files')),
    sa.ForeignKeyConstraint(['settled_by_id'], ['users.id'], name=op.f('fk_review_pins_settled_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['deliverable_versions.id'], name=op.f('fk_review_pins_version_id_deliverable_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_pins'))
    )
    with op.batch_alter_table('review_pins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_pins_deliverable_id'), ['deliverable_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_pins_file_id'), ['file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_pins_version_id'), ['version_id'], unique=False)

    op.create_table('decision_pins',
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('pin_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['deliverable_decisions.id'], name=op.f('fk_decision_pins_decision_id_deliverable_decisions')),
    sa.ForeignKeyConstraint(['pin_id'], ['review_pins.id'], name=op.f('fk_decision_pins_pin_id_review_pins'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('decision_id', 'pin_id', name=op.f('pk_decision_pins'))
    )
    with op.batch_alter_table('decision_pins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_pins_pin_id'), ['pin_id'], unique=False)

    op.create_table('pin_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pin_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('addressed', sa.Boolean(), nullable=False),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['checked_by_id'], ['users.id'], name=op.f('fk_pin_checks_checked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pin_id'], ['review_pins.id'], name=op.f('fk_pin_checks_pin_id_review_pins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['deliverable_versions.id'], name=op.f('fk_pin_checks_version_id_deliverable_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pin_checks')),
    sa.UniqueConstraint('pin_id', 'version_id', name=op.f('uq_pin_checks_pin_id_version_id'))
    )
    with op.batch_alter_table('pin_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pin_checks_pin_id'), ['pin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pin_checks_version_id'), ['version_id'], unique=False)

    op.create_table('pin_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pin_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', portal.timeutil.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_pin_replies_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pin_id'], ['review_pins.id'], name=op.f('fk_pin_replies_pin_id_review_pins'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pin_replies'))
    )
    with op.batch_alter_table('pin_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pin_replies_pin_id'), ['pin_id'], unique=False)

    op.create_table('preview_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('preview_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['preview_id'], ['file_previews.id'], name=op.f('fk_preview_pages_preview_id_file_previews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preview_pages')),
    sa.UniqueConstraint('preview_id', 'number', name=op.f('uq_preview_pages_preview_id_number')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_preview_pages_storage_key'))
    )
    with op.batch_alter_table('preview_pages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preview_pages_preview_id'), ['preview_id'], unique=False)



def downgrade():
    with op.batch_alter_table('preview_pages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preview_pages_preview_id'))

    op.drop_table('preview_pages')
    with op.batch_alter_table('pin_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pin_replies_pin_id'))

    op.drop_table('pin_replies')
    with op.batch_alter_table('pin_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pin_checks_version_id'))
        batch_op.drop_index(batch_op.f('ix_pin_checks_pin_id'))

    op.drop_table('pin_checks')
    with op.batch_alter_table('decision_pins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_pins_pin_id'))

    op.drop_table('decision_pins')
    with op.batch_alter_table('review_pins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_pins_version_id'))
        batch_op.drop_index(batch_op.f('ix_review_pins_file_id'))
        batch_op.drop_index(batch_op.f('ix_review_pins_deliverable_id'))

    op.drop_table('review_pins')
    with op.batch_alter_table('file_previews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_previews_status'))

    op.drop_table('file_previews')
