"""Alembic migrations on both databases: up, down to nothing, up again, and the migrated schema
matches the models exactly (no drift between models.py and migrations/)."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from rehab_net import migrate
from rehab_net.db import Base, make_engine
from tests import pg


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    else:
        url = pg.create_database(request.getfixturevalue("pg_admin_url"), "rehab_migrations")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def tables(engine):
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_up_down_up(empty_engine):
    migrate.upgrade(empty_engine)
    assert tables(empty_engine) == set(Base.metadata.tables)
    head = migrate.current(empty_engine)
    assert head is not None
    migrate.downgrade(empty_engine, "base")
    assert tables(empty_engine) == set()
    assert migrate.current(empty_engine) is None
    migrate.upgrade(empty_engine)
    assert migrate.current(empty_engine) == head


def test_migrated_schema_matches_models(empty_engine):
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_constraint_names_are_the_same_on_both_dialects(empty_engine):
    migrate.upgrade(empty_engine)
    checks = {c["name"] for c in inspect(empty_engine).get_check_constraints("facility")}
    assert {"ck_facility_tier", "ck_facility_ownership", "ck_facility_status"} <= checks
    uniques = {c["name"] for c in inspect(empty_engine).get_unique_constraints("capacity")}
    assert "uq_capacity_facility_id" in uniques
