"""Notifications of a referral's appointments to the facility that sent it (issue 14): booked,
moved and cancelled. The CHECK constraint on notification.kind is replaced (on SQLite the
table is recreated).

Revision ID: 5b7e2c1a9f30
Revises: 0c6a2f9e4d18
Create Date: 2026-12-02 19:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '5b7e2c1a9f30'
down_revision = '0c6a2f9e4d18'
branch_labels = None
depends_on = None

OLD_KINDS = ('referral_received', 'referral_answered', 'referral_overdue', 'referral_escalated',
             'referral_expired', 'referral_completed')
NEW_KINDS = OLD_KINDS + ('appointment_booked', 'appointment_moved', 'appointment_cancelled')


def _check(kinds) -> str:
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def _replace_check(kinds) -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notification_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_notification_kind'), _check(kinds))


def upgrade() -> None:
    _replace_check(NEW_KINDS)


def downgrade() -> None:
    # The old constraint does not know appointment notifications: they are dropped (the
    # appointments themselves, and their history, stay).
    op.execute(sa.text("DELETE FROM notification WHERE kind IN "
                       "('appointment_booked', 'appointment_moved', 'appointment_cancelled')"))
    _replace_check(OLD_KINDS)
