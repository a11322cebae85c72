"""When a family on the waitlist can come, and why a booking passed over the waitlist (issue 14):
waitlist_entry.available_weekdays and available_parts (bit masks of the local weekdays and parts
of the day; 0 = any, which every existing entry gets) with CHECK constraints (on SQLite the table
is recreated: it has no triggers), and appointment.jump_reason (a plain added column: appointment
is never recreated here, so its SQLite overlap triggers stay).

Revision ID: 3f8a6d1c2b94
Revises: 3e8f1d6b7a24
Create Date: 2026-12-03 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '3f8a6d1c2b94'
down_revision = '3e8f1d6b7a24'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('available_weekdays', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('available_parts', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_waitlist_entry_available_weekdays'),
                                         'available_weekdays BETWEEN 0 AND 127')
        batch_op.create_check_constraint(batch_op.f('ck_waitlist_entry_available_parts'),
                                         'available_parts BETWEEN 0 AND 7')
    op.add_column('appointment', sa.Column('jump_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    # The reasons stay in the audit log (each jump's audit row carries its reason).
    op.drop_column('appointment', 'jump_reason')
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_waitlist_entry_available_parts'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_waitlist_entry_available_weekdays'),
                                 type_='check')
        batch_op.drop_column('available_parts')
        batch_op.drop_column('available_weekdays')
