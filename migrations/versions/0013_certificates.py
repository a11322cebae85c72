"""Disability certificates with their life cycle (issue 16, part 3): the certificate table (one
in force per person: a partial unique index; states valid, frozen, cancelled, expired) and the
certificate_event table. The number is not stored (it is the holder's resident ID + category +
grade + reissue suffix; docs/certificates.md).

Revision ID: 6a2d9c4e1b83
Revises: 3f8a6d1c2b94
Create Date: 2026-12-03 14:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '6a2d9c4e1b83'
down_revision = '3f8a6d1c2b94'
branch_labels = None
depends_on = None

LIVE = "state IN ('valid', 'frozen')"


def upgrade() -> None:
    op.create_table(
        'certificate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('category_digit', sa.Integer(), nullable=False),
        sa.Column('grade', sa.Integer(), nullable=False),
        sa.Column('reissue', sa.Integer(), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('moved_out_on', sa.Date(), nullable=True),
        sa.Column('transferred_on', sa.Date(), nullable=True),
        sa.Column('freeze_on', sa.Date(), nullable=True),
        sa.Column('frozen_on', sa.Date(), nullable=True),
        sa.Column('lapse_on', sa.Date(), nullable=True),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('end_reason', sa.Text(), nullable=True),
        sa.Column('replaces_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint("state IN ('valid', 'frozen', 'cancelled', 'expired')",
                           name=op.f('ck_certificate_state')),
        sa.CheckConstraint('category_digit BETWEEN 1 AND 7',
                           name=op.f('ck_certificate_category_digit')),
        sa.CheckConstraint('grade BETWEEN 1 AND 4', name=op.f('ck_certificate_grade')),
        sa.CheckConstraint('reissue BETWEEN 0 AND 99', name=op.f('ck_certificate_reissue')),
        sa.CheckConstraint('valid_until > issued_on', name=op.f('ck_certificate_validity')),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'],
                                name=op.f('fk_certificate_person_id_person')),
        sa.ForeignKeyConstraint(['replaces_id'], ['certificate.id'],
                                name=op.f('fk_certificate_replaces_id_certificate')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
        sa.UniqueConstraint('code', name=op.f('uq_certificate_code')),
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_person_id'), ['person_id'])
        batch_op.create_index(batch_op.f('ix_certificate_freeze_on'), ['freeze_on'])
        batch_op.create_index(batch_op.f('ix_certificate_lapse_on'), ['lapse_on'])
        batch_op.create_index('ix_certificate_state_valid_until', ['state', 'valid_until'])
        batch_op.create_index('uq_certificate_live_person', ['person_id'], unique=True,
                              sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    op.create_table(
        'certificate_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('certificate_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('on', sa.Date(), nullable=False),
        sa.Column('actor', sa.String(length=80), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('from_state', sa.String(length=16), nullable=True),
        sa.Column('to_state', sa.String(length=16), nullable=False),
        sa.Column('cause', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'],
                                name=op.f('fk_certificate_event_certificate_id_certificate')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_certificate_event_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_event')),
    )
    with op.batch_alter_table('certificate_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_event_certificate_id'),
                              ['certificate_id'])


def downgrade() -> None:
    # The audit log keeps its entries about certificates (append-only).
    with op.batch_alter_table('certificate_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_event_certificate_id'))
    op.drop_table('certificate_event')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index('uq_certificate_live_person', sqlite_where=sa.text(LIVE),
                            postgresql_where=sa.text(LIVE))
        batch_op.drop_index('ix_certificate_state_valid_until')
        batch_op.drop_index(batch_op.f('ix_certificate_lapse_on'))
        batch_op.drop_index(batch_op.f('ix_certificate_freeze_on'))
        batch_op.drop_index(batch_op.f('ix_certificate_person_id'))
    op.drop_table('certificate')
