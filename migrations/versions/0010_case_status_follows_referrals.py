"""A case's status follows its referrals (issue 14): the statuses become registered, waiting,
referred, accepted, in_service, completed, closed ("assigned", which nothing ever set, goes),
each change is a case_event row, and the status of every existing case is derived from its
referrals (the rule of rehab_net/referrals/states.case_status_for, written out here: a
migration never imports the app's rules, which may change later).

Revision ID: 9d4c3b2a1e57
Revises: 5b7e2c1a9f30
Create Date: 2026-12-02 19:35:00
"""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '9d4c3b2a1e57'
down_revision = '5b7e2c1a9f30'
branch_labels = None
depends_on = None

OLD = ('registered', 'waiting', 'assigned', 'in_service', 'completed', 'closed')
NEW = ('registered', 'waiting', 'referred', 'accepted', 'in_service', 'completed', 'closed')
# referral state -> case status, first match wins (open referrals outrank finished ones)
ORDER = (('in_progress', 'in_service'), ('accepted', 'accepted'), ('received', 'referred'),
         ('sent', 'referred'), ('completed', 'completed'), ('closed', 'closed'))
FOLLOW = {'referred': 'refer', 'accepted': 'accept', 'in_service': 'start',
          'completed': 'complete', 'closed': 'conclude', 'waiting': 'requeue'}


def _check(statuses) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def _replace_check(statuses) -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_case_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_case_status'), _check(statuses))


def derived(states: set[str]) -> str | None:
    sent = states - {'draft'}
    if not sent:
        return None
    for state, status in ORDER:
        if state in sent:
            return status
    return 'waiting'


def upgrade() -> None:
    op.create_table(
        'case_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=80), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('from_status', sa.String(length=16), nullable=True),
        sa.Column('to_status', sa.String(length=16), nullable=False),
        sa.Column('cause', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_event_case_id_case')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_case_event_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_event')))
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_event_case_id'), ['case_id'], unique=False)
    # both vocabularies allowed while the rows move from one to the other
    _replace_check(tuple(dict.fromkeys(OLD + NEW)))
    bind = op.get_bind()
    states: dict[int, set[str]] = {}
    for case_id, state in bind.execute(sa.text("SELECT case_id, state FROM referral")):
        states.setdefault(case_id, set()).add(state)
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if bind.dialect.name == 'sqlite' else now
    changes, events = [], []
    for case_id, status in bind.execute(sa.text('SELECT id, status FROM "case"')).all():
        target = derived(states.get(case_id, set()))
        if target is None and status == 'assigned':
            target = 'waiting'  # assigned by nobody: it waits
        if target is None or target == status:
            continue
        changes.append({'id': case_id, 'status': target})
        events.append({'case_id': case_id, 'at': stamp, 'actor': 'system:migration',
                       'action': FOLLOW[target], 'from_status': status, 'to_status': target,
                       'cause': 'derived from its referrals (migration 0010)'})
    if changes:
        bind.execute(sa.text('UPDATE "case" SET status = :status, version = version + 1 '
                             'WHERE id = :id'), changes)
        bind.execute(sa.text(
            "INSERT INTO case_event (case_id, at, actor, action, from_status, to_status, cause) "
            "VALUES (:case_id, :at, :actor, :action, :from_status, :to_status, :cause)"), events)
    _replace_check(NEW)


def downgrade() -> None:
    # The old vocabulary has no referred or accepted: such cases were "assigned" to a place in
    # the making; the derived statuses otherwise stay.
    _replace_check(tuple(dict.fromkeys(OLD + NEW)))
    op.execute(sa.text("UPDATE \"case\" SET status = 'assigned' "
                       "WHERE status IN ('referred', 'accepted')"))
    _replace_check(OLD)
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_event_case_id'))
    op.drop_table('case_event')
