"""A referral's end cancels its bookings (issue 14): appointments gain the cancel reason
referral_closed, notifications the kind referral_bookings_cancelled (to the facility that held
them).

On SQLite replacing a CHECK constraint recreates the table, which drops its triggers (the
person-overlap invariant of 0005) and would rebuild its partial unique index without its WHERE:
both are dropped before and made again after, written out here (a migration keeps its own copy).

Revision ID: 3e8f1d6b7a24
Revises: 9d4c3b2a1e57
Create Date: 2026-12-03 08:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '3e8f1d6b7a24'
down_revision = '9d4c3b2a1e57'
branch_labels = None
depends_on = None

OLD_REASONS = ('family_request', 'facility_request', 'practitioner_unavailable', 'rescheduled',
               'hold_expired', 'offer_expired', 'offer_declined', 'other')
NEW_REASONS = ('family_request', 'facility_request', 'practitioner_unavailable', 'rescheduled',
               'hold_expired', 'offer_expired', 'offer_declined', 'referral_closed', 'other')
OLD_KINDS = ('referral_received', 'referral_answered', 'referral_overdue', 'referral_escalated',
             'referral_expired', 'referral_completed', 'appointment_booked', 'appointment_moved',
             'appointment_cancelled')
NEW_KINDS = OLD_KINDS + ('referral_bookings_cancelled',)

ACTIVE = "('proposed', 'pending', 'booked', 'arrived', 'fulfilled')"
OVERLAP = "ex_appointment_person_overlap"


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _sqlite_triggers() -> list[str]:
    """0005's triggers refusing two active appointments of one person at the same time."""
    condition = "STATUS IN " + ACTIVE
    clash = ("EXISTS (SELECT 1 FROM appointment o WHERE o.person_id = NEW.person_id AND o.id <> "
             f"coalesce(NEW.id, -1) AND {condition.replace('STATUS', 'o.status')} "
             "AND o.starts_at < NEW.ends_at AND NEW.starts_at < o.ends_at)")
    when = f"{condition.replace('STATUS', 'NEW.status')} AND {clash}"
    body = f"BEGIN SELECT RAISE(ABORT, '{OVERLAP}'); END"
    return [f"CREATE TRIGGER {OVERLAP}_insert BEFORE INSERT ON appointment WHEN {when} {body}",
            f"CREATE TRIGGER {OVERLAP}_update BEFORE UPDATE OF status, starts_at, ends_at, "
            f"person_id ON appointment WHEN {when} {body}"]


def _replace_reasons(reasons) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for when in ("insert", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {OVERLAP}_{when}")
        op.drop_index('uq_appointment_active_place', table_name='appointment')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_appointment_cancel_reason'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_appointment_cancel_reason'),
                                         f"cancel_reason IS NULL OR {_in('cancel_reason', reasons)}")
    if sqlite:
        op.create_index('uq_appointment_active_place', 'appointment', ['slot_id', 'place'],
                        unique=True, sqlite_where=sa.text(f"status IN {ACTIVE}"))
        for statement in _sqlite_triggers():
            op.execute(statement)


def _replace_kinds(kinds) -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notification_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_notification_kind'), _in('kind', kinds))


def upgrade() -> None:
    _replace_reasons(NEW_REASONS)
    _replace_kinds(NEW_KINDS)


def downgrade() -> None:
    # The old constraints know neither: such appointments become cancelled by the facility (the
    # note keeps the referral), such notifications go.
    op.execute(sa.text("UPDATE appointment SET cancel_reason = 'facility_request' "
                       "WHERE cancel_reason = 'referral_closed'"))
    op.execute(sa.text("DELETE FROM notification WHERE kind = 'referral_bookings_cancelled'"))
    _replace_kinds(OLD_KINDS)
    _replace_reasons(OLD_REASONS)
