"""Scenarios: named what-if change sets; a plan may be a scenario's run and keeps its KPIs.

Written by hand after autogenerate: the plan columns go through batch mode (SQLite rebuilds the
table; plan rows keep their values), names from the naming convention.

Revision ID: 5c3f0a6d2b71
Revises: 27a9c937ceea
Create Date: 2026-11-23 14:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '5c3f0a6d2b71'
down_revision = '27a9c937ceea'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scenario',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('copied_from_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['copied_from_id'], ['scenario.id'], name=op.f('fk_scenario_copied_from_id_scenario')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario')),
    sa.UniqueConstraint('name', name=op.f('uq_scenario_name'))
    )
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scenario_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('kpis', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_plan_scenario_id'), ['scenario_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_plan_scenario_id_scenario'), 'scenario', ['scenario_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_plan_scenario_id_scenario'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_plan_scenario_id'))
        batch_op.drop_column('kpis')
        batch_op.drop_column('scenario_id')
    op.drop_table('scenario')
