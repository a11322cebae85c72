"""A plan's message as a code with parameters beside its English text (issue 13: errors carry
codes), so the plan's page shows it in the reader's language instead of re-matching the English.
Messages written before carry no parameters we could recover safely; those without any get
their code here, the others stay English-only (shown as they are).

Revision ID: 4f7b2e9a6c15
Revises: 9c1e5a7b3d20
Create Date: 2026-12-03 18:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '4f7b2e9a6c15'
down_revision = '9c1e5a7b3d20'
branch_labels = None
depends_on = None

# The texts without parameters the worker and cancelling wrote, by their start.
LEGACY = {
    "plan.cancelled_queued": "Cancelled before it started%",
    "plan.cancelled_running": "Cancelled while the optimiser was running%",
    "plan.worker_error": "An unexpected error in the worker%",
    "plan.worker_stopped": "The worker was stopped while this plan was running%",
    "plan.optimiser_error": "The optimiser reported an error.",
}


def upgrade() -> None:
    with op.batch_alter_table('plan') as batch:
        batch.add_column(sa.Column('message_code', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('message_params', sa.JSON(), nullable=True))
    plan = sa.table('plan', sa.column('message', sa.Text), sa.column('message_code', sa.String))
    for code, pattern in LEGACY.items():
        op.execute(plan.update().where(plan.c.message.like(pattern), plan.c.message_code.is_(None))
                   .values(message_code=code))


def downgrade() -> None:
    with op.batch_alter_table('plan') as batch:
        batch.drop_column('message_params')
        batch.drop_column('message_code')
