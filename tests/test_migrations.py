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


def test_0003_encrypts_existing_identifiers_and_downgrade_restores_them(empty_engine, app):
    """A database from before encryption (plain resident IDs, certificates) is encrypted in place
    with the configured keys; going back down decrypts it."""
    from datetime import date

    from sqlalchemy import text

    from rehab_net.people.identifiers import make_certificate, make_resident_id
    from rehab_net.protection import blind_index

    number = make_resident_id("150702", date(2021, 3, 9), 42)
    cert = make_certificate(number, "autism", 2)
    migrate.upgrade(empty_engine, "ccca0a12e3fc")  # 0002: before encryption
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO region (id, code, level, kind, name_zh, name_en, lat, lon, "
                          "version) VALUES (1, '150702001001', 'village', 'village', '村', "
                          "'Village', 49.2, 119.7, 1)"))
        conn.execute(text("INSERT INTO service (id, code, category, kind, name_zh, name_en, "
                          "at_centre, at_station, at_clinic, home_ok, duration_minutes, version) "
                          "VALUES (1, 'autism_training', 'autism', 'training', '训练', 'Training', "
                          "true, false, false, false, 60, 1)"))
        conn.execute(text("INSERT INTO person (id, code, name, resident_id, birth_date, sex, "
                          "home_region_id, poverty_status, created_at, version) VALUES (1, 'P1', "
                          "'测试', :rid, '2021-03-09', 'F', 1, 'none', '2026-01-01', 1)"),
                     {"rid": number})
        conn.execute(text('INSERT INTO "case" (id, code, person_id, category, grade, service_id, '
                          "registered_on, status, certificate_number, created_at, updated_at, "
                          "version) VALUES (1, 'K1', 1, 'autism', 2, 1, '2026-01-01', 'waiting', "
                          ":cert, '2026-01-01', '2026-01-01', 1)"), {"cert": cert})
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        stored, index = conn.execute(
            text("SELECT resident_id, resident_id_index FROM person")).one()
        stored_cert = conn.execute(text('SELECT certificate_number FROM "case"')).scalar()
    assert stored.startswith("v1:") and number not in stored and index == blind_index(number)
    assert stored_cert.startswith("v1:") and number not in stored_cert
    migrate.downgrade(empty_engine, "ccca0a12e3fc")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT resident_id FROM person")).scalar() == number
        assert conn.execute(text('SELECT certificate_number FROM "case"')).scalar() == cert
