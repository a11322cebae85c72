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


def test_0010_derives_each_cases_status_from_its_referrals(empty_engine, app):
    """A database from before (cases left "registered" whatever happened, a few "assigned" by
    hand): the migration gives each case the status its referrals say, with an event row, and
    keeps those without referrals; down and up again round-trips."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from rehab_net.referrals.models import Referral
    from tests.factories import create_case, create_person, tiny_network

    migrate.upgrade(empty_engine, "5b7e2c1a9f30")  # 0009: before the statuses follow
    paths = {  # case code: (status left in the old database, its referrals' states)
        "K_NONE": ("registered", []), "K_ASSIGNED": ("assigned", []),
        "K_DRAFT": ("registered", ["draft"]), "K_SENT": ("registered", ["sent"]),
        "K_ACC": ("assigned", ["accepted"]), "K_SRV": ("in_service", ["in_progress"]),
        "K_DONE": ("registered", ["completed"]), "K_LOOP": ("registered", ["closed"]),
        "K_DOWN": ("registered", ["closed", "received"]),
        "K_DECL": ("registered", ["declined", "expired"]),
    }
    with Session(empty_engine) as session:
        net = tiny_network(session)
        for i, (code, (status, states)) in enumerate(paths.items()):
            case = create_case(session, create_person(session, code=f"P{i}"), code=code)
            case.status = status
            for j, state in enumerate(states):
                session.add(Referral(code=f"R{i:03d}{j}", case=case, sender=net["station"],
                                     receiver=net["centre"], service=net["autism_training"],
                                     direction="up", urgency="routine", reason="x",
                                     state=state))
        session.commit()
    migrate.upgrade(empty_engine)
    with Session(empty_engine) as session:
        got = dict(session.execute(text('SELECT code, status FROM "case"')).all())
        moved = session.execute(text("SELECT count(*) FROM case_event")).scalar()
    assert got == {"K_NONE": "registered", "K_ASSIGNED": "waiting", "K_DRAFT": "registered",
                   "K_SENT": "referred", "K_ACC": "accepted", "K_SRV": "in_service",
                   "K_DONE": "completed", "K_LOOP": "closed", "K_DOWN": "referred",
                   "K_DECL": "waiting"}
    assert moved == 7  # one event per case whose status changed
    migrate.downgrade(empty_engine, "5b7e2c1a9f30")
    with Session(empty_engine) as session:
        back = dict(session.execute(text('SELECT code, status FROM "case"')).all())
    assert back["K_SENT"] == "assigned" and back["K_SRV"] == "in_service"
    migrate.upgrade(empty_engine)
    with Session(empty_engine) as session:
        assert dict(session.execute(text('SELECT code, status FROM "case"')).all()) == got


def _appointment_guards(engine) -> dict:
    """What keeps appointments from clashing: on SQLite the overlap triggers and the partial
    unique index as written in the schema; on PostgreSQL the exclusion constraint and index."""
    from sqlalchemy import text

    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'appointment' "
                "AND type IN ('trigger', 'index') AND sql IS NOT NULL")).all()
        else:
            rows = conn.execute(text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'appointment'::regclass AND contype = 'x' UNION ALL "
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'appointment'"
            )).all()
    return {name: " ".join(sql.split()) for name, sql in rows}


def test_0011_keeps_the_booking_invariants_and_takes_the_new_reason(empty_engine):
    """Replacing the cancel-reason CHECK recreates the table on SQLite: the overlap triggers and
    the partial unique index of 0005 must come out as they went in, and the new reason and
    notification kind are accepted; down again restores the old constraints."""
    migrate.upgrade(empty_engine, "9d4c3b2a1e57")  # 0010
    before = _appointment_guards(empty_engine)
    assert "ex_appointment_person_overlap" in " ".join(before)
    migrate.upgrade(empty_engine)
    assert _appointment_guards(empty_engine) == before
    checks = {c["name"]: c["sqltext"] for c in
              inspect(empty_engine).get_check_constraints("appointment")}
    assert "referral_closed" in checks["ck_appointment_cancel_reason"]
    kinds = {c["name"]: c["sqltext"] for c in
             inspect(empty_engine).get_check_constraints("notification")}
    assert "referral_bookings_cancelled" in kinds["ck_notification_kind"]
    migrate.downgrade(empty_engine, "9d4c3b2a1e57")
    assert _appointment_guards(empty_engine) == before
    checks = {c["name"]: c["sqltext"] for c in
              inspect(empty_engine).get_check_constraints("appointment")}
    assert "referral_closed" not in checks["ck_appointment_cancel_reason"]


def test_0013_certificates_one_in_force_per_person_and_downgrade_drops_them(empty_engine):
    """The certificate tables come with the partial unique index (one certificate in force per
    person) on both databases, and go again on the way down."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    migrate.upgrade(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO region (id, code, level, kind, name_zh, name_en, lat, lon, "
                          "version) VALUES (1, '150702001001', 'village', 'village', '村', "
                          "'Village', 49.2, 119.7, 1)"))
        conn.execute(text("INSERT INTO person (id, code, name, resident_id, resident_id_index, "
                          "birth_date, sex, home_region_id, poverty_status, created_at, version) "
                          "VALUES (1, 'P1', 'x', 'v1:x', 'i', '1980-01-01', 'F', 1, 'none', "
                          "'2026-01-01', 1)"))
    insert = text("INSERT INTO certificate (code, person_id, category_digit, grade, reissue, "
                  "issued_on, valid_until, state, created_at, updated_at, version) VALUES "
                  "(:code, 1, 4, 2, 0, '2020-01-01', '2029-12-31', :state, '2026-01-01', "
                  "'2026-01-01', 1)")
    with empty_engine.begin() as conn:
        conn.execute(insert, {"code": "C1", "state": "expired"})
        conn.execute(insert, {"code": "C2", "state": "valid"})
    with pytest.raises(IntegrityError), empty_engine.begin() as conn:
        conn.execute(insert, {"code": "C3", "state": "frozen"})
    migrate.downgrade(empty_engine, "3f8a6d1c2b94")
    assert not {"certificate", "certificate_event"} & tables(empty_engine)


def test_0015_catalogue_checks_its_rules_and_downgrade_drops_it(empty_engine):
    """The catalogue tables come with their CHECK constraints (part, rule, amount, ages) and one
    item code per version on both databases, and go again on the way down to 0013."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    migrate.upgrade(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO catalogue_version (id, code, effective_from, created_at) "
                          "VALUES (1, '2026', '2026-01-01', '2026-01-01')"))
    insert = text("INSERT INTO catalogue_item (version_id, code, part, category, kind, name_zh, "
                  "name_en, min_age, max_age, categories, rule, amount) VALUES (1, :code, "
                  ":part, 'hearing', 'training', '听', 'AVT', 0, :max_age, 'hearing', :rule, "
                  ":amount)")
    good = {"code": "C-HEAR-AVT", "part": "0-6", "max_age": 6, "rule": "months_per_year",
            "amount": 10}
    with empty_engine.begin() as conn:
        conn.execute(insert, good)
    for bad in ({"code": "C-HEAR-AVT"}, {"code": "X1", "part": "0-7"},
                {"code": "X2", "rule": "fortnightly"}, {"code": "X3", "amount": 0},
                {"code": "X4", "max_age": -1}):
        with pytest.raises(IntegrityError), empty_engine.begin() as conn:
            conn.execute(insert, good | bad)
    migrate.downgrade(empty_engine, "8c4e2a7d5f19")
    assert not {"catalogue_version", "catalogue_item", "catalogue_service"} & tables(empty_engine)
    migrate.upgrade(empty_engine)
    assert "catalogue_item" in tables(empty_engine)


def test_0016_gives_old_plan_messages_without_parameters_their_code(empty_engine):
    """Messages written before codes: those without parameters get their code (the page then
    translates them), the others stay English-only; down and up again round-trips."""
    from sqlalchemy import text

    migrate.upgrade(empty_engine, "9c1e5a7b3d20")  # 0015
    written = {1: "Cancelled before it started.", 2: "The optimiser reported an error.",
               3: "The optimiser did not finish within 60 s and was stopped.", 4: None}
    with empty_engine.begin() as conn:
        for plan_id, message in written.items():
            conn.execute(text(
                "INSERT INTO plan (id, status, created_at, cancel_requested, start_date, "
                "horizon_weeks, parameters, message) VALUES (:id, 'error', '2026-12-01 08:00:00', "
                ":no, '2026-11-30', 4, '{}', :message)"),
                {"id": plan_id, "message": message, "no": False})
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        got = dict(conn.execute(text("SELECT id, message_code FROM plan")).all())
        kept = dict(conn.execute(text("SELECT id, message FROM plan")).all())
    assert got == {1: "plan.cancelled_queued", 2: "plan.optimiser_error", 3: None, 4: None}
    assert kept == written
    migrate.downgrade(empty_engine, "9c1e5a7b3d20")
    assert "message_code" not in {c["name"] for c in inspect(empty_engine).get_columns("plan")}
    migrate.upgrade(empty_engine)
