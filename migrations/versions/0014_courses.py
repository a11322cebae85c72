"""Courses of therapy (issue 16, part 1): the course table (a series of sessions of one referral
booked from a weekly pattern; states active, completed, cancelled) and course_session (which
appointment is which session of which course), and the notification kinds course_booked and
course_sessions_affected.

``appointment`` is not touched: a course's sessions are named in a table of their own, so its
SQLite overlap triggers (0005) stay. The notification table is rebuilt on SQLite to widen its
CHECK constraint; it has no triggers.

Revision ID: 8c4e2a7d5f19
Revises: 6a2d9c4e1b83
Create Date: 2026-12-03 14:45:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '8c4e2a7d5f19'
down_revision = '6a2d9c4e1b83'
branch_labels = None
depends_on = None

OLD_KINDS = ('referral_received', 'referral_answered', 'referral_overdue', 'referral_escalated',
             'referral_expired', 'referral_completed', 'appointment_booked', 'appointment_moved',
             'appointment_cancelled', 'referral_bookings_cancelled')
NEW_KINDS = OLD_KINDS + ('course_booked', 'course_sessions_affected')
REASONS = ('family_request', 'facility_request', 'practitioner_unavailable', 'rescheduled',
           'hold_expired', 'offer_expired', 'offer_declined', 'referral_closed', 'other')


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _replace_kinds(kinds) -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notification_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_notification_kind'), _in('kind', kinds))


def upgrade() -> None:
    op.create_table(
        'course',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('facility_id', sa.Integer(), nullable=False),
        sa.Column('sender_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('practitioner_id', sa.Integer(), nullable=True),
        sa.Column('weekdays', sa.Integer(), nullable=False),
        sa.Column('part', sa.String(length=16), nullable=True),
        sa.Column('start_time', sa.Time(), nullable=True),
        sa.Column('sessions_per_week', sa.Integer(), nullable=False),
        sa.Column('weeks', sa.Integer(), nullable=False),
        sa.Column('sessions', sa.Integer(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('group_only', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('cancel_reason', sa.String(length=32), nullable=True),
        sa.Column('cancel_note', sa.Text(), nullable=True),
        sa.Column('created_by_user_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint("(status = 'cancelled') = (cancel_reason IS NOT NULL)",
                           name=op.f('ck_course_cancelled_with_reason')),
        sa.CheckConstraint(f"cancel_reason IS NULL OR {_in('cancel_reason', REASONS)}",
                           name=op.f('ck_course_cancel_reason')),
        sa.CheckConstraint("part IS NULL OR part IN ('morning', 'afternoon', 'evening')",
                           name=op.f('ck_course_part')),
        sa.CheckConstraint("status IN ('active', 'completed', 'cancelled')",
                           name=op.f('ck_course_status')),
        sa.CheckConstraint('sessions BETWEEN 1 AND 400', name=op.f('ck_course_sessions')),
        sa.CheckConstraint('sessions_per_week BETWEEN 1 AND 7',
                           name=op.f('ck_course_sessions_per_week')),
        sa.CheckConstraint('weekdays BETWEEN 1 AND 127', name=op.f('ck_course_weekdays')),
        sa.CheckConstraint('weeks BETWEEN 1 AND 104', name=op.f('ck_course_weeks')),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_course_case_id_case')),
        sa.ForeignKeyConstraint(['created_by_user_id'], ['user_account.id'],
                                name=op.f('fk_course_created_by_user_id_user_account')),
        sa.ForeignKeyConstraint(['facility_id'], ['facility.id'],
                                name=op.f('fk_course_facility_id_facility')),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'],
                                name=op.f('fk_course_person_id_person')),
        sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'],
                                name=op.f('fk_course_practitioner_id_practitioner')),
        sa.ForeignKeyConstraint(['referral_id'], ['referral.id'],
                                name=op.f('fk_course_referral_id_referral')),
        sa.ForeignKeyConstraint(['sender_id'], ['facility.id'],
                                name=op.f('fk_course_sender_id_facility')),
        sa.ForeignKeyConstraint(['service_id'], ['service.id'],
                                name=op.f('fk_course_service_id_service')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_course')))
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.create_index('ix_course_facility_status', ['facility_id', 'status'])
        batch_op.create_index('ix_course_referral', ['referral_id'])
        batch_op.create_index('ix_course_sender_status', ['sender_id', 'status'])
    op.create_table(
        'course_session',
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.CheckConstraint('number >= 1', name=op.f('ck_course_session_number')),
        sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'],
                                name=op.f('fk_course_session_appointment_id_appointment')),
        sa.ForeignKeyConstraint(['course_id'], ['course.id'],
                                name=op.f('fk_course_session_course_id_course')),
        sa.PrimaryKeyConstraint('appointment_id', name=op.f('pk_course_session')))
    with op.batch_alter_table('course_session', schema=None) as batch_op:
        batch_op.create_index('ix_course_session_course_number', ['course_id', 'number'])
    _replace_kinds(NEW_KINDS)


def downgrade() -> None:
    # The sessions stay as plain appointments; the new notifications go (the old CHECK knows
    # neither kind).
    op.execute(sa.text("DELETE FROM notification WHERE kind IN "
                       "('course_booked', 'course_sessions_affected')"))
    _replace_kinds(OLD_KINDS)
    with op.batch_alter_table('course_session', schema=None) as batch_op:
        batch_op.drop_index('ix_course_session_course_number')
    op.drop_table('course_session')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_index('ix_course_sender_status')
        batch_op.drop_index('ix_course_referral')
        batch_op.drop_index('ix_course_facility_status')
    op.drop_table('course')
