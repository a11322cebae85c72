"""The stored quarterly reports (统计季报), one per quarter.

Revision ID: 8e1d4b7c9a02
Revises: 5c3f0a6d2b71
Create Date: 2026-11-23 14:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '8e1d4b7c9a02'
down_revision = '5c3f0a6d2b71'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quarterly_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('generated_by', sa.String(length=80), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarterly_report')),
    sa.UniqueConstraint('quarter', name=op.f('uq_quarterly_report_quarter'))
    )


def downgrade() -> None:
    op.drop_table('quarterly_report')
