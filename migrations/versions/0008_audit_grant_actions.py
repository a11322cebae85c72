"""Audit actions for the grant rules (issue 11): "grant", "revoke" and "duplicate_id" (a refused
registration of a resident ID number that is on file already).

The CHECK constraint on audit_event.action is replaced. On SQLite that recreates the table, which
drops its append-only triggers, so they are dropped first and created again after.

Revision ID: 0c6a2f9e4d18
Revises: 8e1d4b7c9a02
Create Date: 2026-12-02 15:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rehab_net.auth.audit import APPEND_ONLY_SQL, DROP_APPEND_ONLY_SQL

revision = '0c6a2f9e4d18'
down_revision = '8e1d4b7c9a02'
branch_labels = None
depends_on = None

OLD_ACTIONS = ('read', 'list', 'reveal', 'create', 'update', 'delete', 'import', 'export',
               'login', 'login_failed', 'logout', 'token_create', 'token_revoke')
NEW_ACTIONS = OLD_ACTIONS + ('grant', 'revoke', 'duplicate_id')


def _check(actions) -> str:
    return "action IN (" + ", ".join(f"'{a}'" for a in actions) + ")"


def _replace_check(actions) -> None:
    dialect = op.get_bind().dialect.name
    for statement in DROP_APPEND_ONLY_SQL[dialect]:
        op.execute(statement)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_audit_event_action'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_audit_event_action'), _check(actions))
    for statement in APPEND_ONLY_SQL[dialect]:
        op.execute(statement)


def upgrade() -> None:
    _replace_check(NEW_ACTIONS)


def downgrade() -> None:
    # The old constraint does not know the new actions: their events are kept, relabelled as
    # the "update" they are closest to (the detail still says which role or ID attempt).
    dialect = op.get_bind().dialect.name
    for statement in DROP_APPEND_ONLY_SQL[dialect]:
        op.execute(statement)
    op.execute(sa.text("UPDATE audit_event SET action = 'update' "
                       "WHERE action IN ('grant', 'revoke', 'duplicate_id')"))
    for statement in APPEND_ONLY_SQL[dialect]:
        op.execute(statement)
    _replace_check(OLD_ACTIONS)
