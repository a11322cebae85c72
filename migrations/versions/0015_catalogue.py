"""The national basic rehabilitation service catalogue as data (issue 16, part 2): versions
(each in force from its day until the next one's), their items with the rules of each, and
which services deliver which item (by the item's code, stable across versions).
docs/catalogue.md.

Revision ID: 9c1e5a7b3d20
Revises: 8c4e2a7d5f19
Create Date: 2026-12-03 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '9c1e5a7b3d20'
down_revision = '8c4e2a7d5f19'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'catalogue_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('effective_from', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_version')),
        sa.UniqueConstraint('code', name=op.f('uq_catalogue_version_code')),
        sa.UniqueConstraint('effective_from', name=op.f('uq_catalogue_version_effective_from')),
    )
    op.create_table(
        'catalogue_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('part', sa.String(length=8), nullable=False),
        sa.Column('category', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('name_zh', sa.String(length=64), nullable=False),
        sa.Column('name_en', sa.String(length=128), nullable=False),
        sa.Column('min_age', sa.Integer(), nullable=False),
        sa.Column('max_age', sa.Integer(), nullable=True),
        sa.Column('categories', sa.String(length=128), nullable=False),
        sa.Column('rule', sa.String(length=24), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('cycle_months', sa.Integer(), nullable=True),
        sa.CheckConstraint("part IN ('0-6', '7+')", name=op.f('ck_catalogue_item_part')),
        sa.CheckConstraint("category IN ('vision', 'hearing', 'speech', 'physical', "
                           "'intellectual', 'mental', 'autism')",
                           name=op.f('ck_catalogue_item_category')),
        sa.CheckConstraint("kind IN ('training', 'device_fitting', 'surgery', 'medication', "
                           "'nursing', 'assessment')", name=op.f('ck_catalogue_item_kind')),
        sa.CheckConstraint("rule IN ('once', 'times_per_year', 'months_per_year', "
                           "'weekly_for_weeks')", name=op.f('ck_catalogue_item_rule')),
        sa.CheckConstraint('amount BETWEEN 1 AND 52', name=op.f('ck_catalogue_item_amount')),
        sa.CheckConstraint('min_age >= 0 AND (max_age IS NULL OR max_age >= min_age)',
                           name=op.f('ck_catalogue_item_ages')),
        sa.CheckConstraint('cycle_months IS NULL OR cycle_months BETWEEN 1 AND 240',
                           name=op.f('ck_catalogue_item_cycle_months')),
        sa.ForeignKeyConstraint(['version_id'], ['catalogue_version.id'],
                                name=op.f('fk_catalogue_item_version_id_catalogue_version')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_item')),
        sa.UniqueConstraint('version_id', 'code', name=op.f('uq_catalogue_item_version_id')),
    )
    with op.batch_alter_table('catalogue_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_item_version_id'), ['version_id'])
        batch_op.create_index(batch_op.f('ix_catalogue_item_code'), ['code'])
    op.create_table(
        'catalogue_service',
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('item_code', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['service_id'], ['service.id'],
                                name=op.f('fk_catalogue_service_service_id_service')),
        sa.PrimaryKeyConstraint('service_id', 'item_code', name=op.f('pk_catalogue_service')),
    )


def downgrade() -> None:
    op.drop_table('catalogue_service')
    with op.batch_alter_table('catalogue_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalogue_item_code'))
        batch_op.drop_index(batch_op.f('ix_catalogue_item_version_id'))
    op.drop_table('catalogue_item')
    op.drop_table('catalogue_version')
