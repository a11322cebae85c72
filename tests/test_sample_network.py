"""The sample region (sample_network/): generated deterministically, committed as generated, and
loadable through the real importer with the shape sample_network/README.md describes."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import func, select

from rehab_net.booking.models import (
    Appointment,
    PractitionerFacility,
    ScheduleRule,
    Slot,
    WaitlistEntry,
)
from rehab_net.booking.states import APPOINTMENT_STATUSES
from rehab_net.cli import main
from rehab_net.config import PROJECT_ROOT
from rehab_net.db import utcnow
from rehab_net.network.models import Capacity, Facility, Region, Service, capacities_on
from rehab_net.people import operations as people
from rehab_net.people.models import Case
from rehab_net.people.states import OPEN_CASE_STATUSES
from rehab_net.referrals.models import Referral
from rehab_net.referrals.states import REFERRAL_STATES, case_status_for
from sample_network import generate
from tests.conftest import TODAY
from tests.factories import create_user, token_for

DATA = Path(generate.__file__).parent / "data"
FILES = tuple(generate.COLUMNS)


def run(app, *args):
    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def test_generator_is_deterministic_and_the_committed_files_are_its_output(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert generate.main(["--out", str(first)]) == 0
    # A second run in another process with another hash seed: set or dict-of-hash ordering would
    # show up as a difference.
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    subprocess.run([sys.executable, "-m", "sample_network.generate", "--out", str(second)],
                   cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    for name in FILES:
        fresh = (first / name).read_bytes()
        assert fresh == (second / name).read_bytes(), f"{name} differs between two runs"
        assert fresh == (DATA / name).read_bytes(), (
            f"sample_network/data/{name} is not what the generator writes: edit the generator, "
            "then run `make sample`")


def _levels(session) -> dict[str, int]:
    return dict(session.execute(select(Region.level, func.count()).group_by(Region.level)).all())


def _sites_per_region(session, tier: str, level: str) -> tuple[list[int], list[int]]:
    """(region ids of the facilities of a tier, ids of the regions of a level), both sorted."""
    sites = session.scalars(select(Facility.region_id).where(Facility.tier == tier)).all()
    regions = session.scalars(select(Region.id).where(Region.level == level)).all()
    return sorted(sites), sorted(regions)


def _scarce_services(session) -> dict[str, tuple[int, int]]:
    """Services whose open cases exceed 12 weeks of the weekly intake in force on TODAY at open
    facilities: code -> (open cases, 12 x weekly intake)."""
    in_force = capacities_on(TODAY).subquery()
    intake = dict(session.execute(
        select(Service.code, func.sum(in_force.c.weekly_intake))
        .join(in_force, in_force.c.service_id == Service.id)
        .join(Facility, Facility.id == in_force.c.facility_id)
        .where(Facility.status == "open").group_by(Service.code)).all())
    demand = dict(session.execute(
        select(Service.code, func.count()).join(Case, Case.service_id == Service.id)
        .where(Case.status.in_(OPEN_CASE_STATUSES)).group_by(Service.code)).all())
    return {code: (n, 12 * intake.get(code, 0)) for code, n in demand.items()
            if n > 12 * intake.get(code, 0)}


# One test per dialect: loading is the expensive part, and the app fixture empties the database
# after every test.
@pytest.mark.slow
def test_the_sample_loads_through_the_importer_with_the_described_shape(app, session):
    result = run(app, "load-sample", "--dir", str(DATA))
    assert result.exit_code == 0, result.output

    levels = _levels(session)
    assert levels["city"] == 1 and levels["district"] == 14
    assert 100 <= levels["township"] <= 140
    assert 1100 <= levels["village"] <= 1500

    centre = session.scalar(select(Facility).where(Facility.name_zh == "呼伦贝尔市残疾人康复中心"))
    assert centre.tier == "centre" and centre.designated and centre.status == "open"
    assert centre.region.parent.code == "150702"  # a street of Hailar
    centres = session.scalar(select(func.count()).where(Facility.tier == "centre"))
    assert 9 <= centres - 1 <= 13  # the city centre and about ten others
    stations, townships = _sites_per_region(session, "station", "township")
    assert stations == townships  # exactly one station per township
    clinics, villages = _sites_per_region(session, "clinic", "village")
    assert clinics == villages  # exactly one clinic per village
    assert session.scalar(select(func.count()).select_from(Capacity)) > len(villages)

    counts = people.counts(session, TODAY)
    open_cases = sum(counts["open_by_priority"].values())
    assert 18_000 <= open_cases <= 22_000
    assert 2_500 <= counts["open_by_priority"]["child"] <= 5_000
    assert counts["open_by_priority"]["severe"] > counts["open_by_priority"]["poor"] > 0

    scarce = _scarce_services(session)
    assert "autism_training" in scarce, scarce  # the children's waitlist the sample is built for
    assert len(scarce) <= 4, scarce  # ... while most services roughly meet demand

    _the_activity_is_loaded(session)
    _the_certificates_are_loaded(session)
    _the_catalogue_is_loaded(app, session)
    _a_coordinator_of_ct001_books_at_once(app, session)


def _the_activity_is_loaded(session):
    """Practitioners, schedules, slots, referrals, appointments and waitlist entries, and every
    case where cases.csv says it ends, because its referrals put it there."""
    two_sites = session.execute(select(PractitionerFacility.practitioner_id).group_by(
        PractitionerFacility.practitioner_id).having(func.count() > 1)).all()
    assert two_sites, "some practitioners practise at two facilities"
    with_rules = set(session.scalars(select(Facility.code).join(
        ScheduleRule, ScheduleRule.facility_id == Facility.id)))
    open_centres = set(session.scalars(select(Facility.code).where(
        Facility.tier == "centre", Facility.status == "open")))
    assert "CT001" in with_rules and open_centres <= with_rules
    assert len({c for c in with_rules if c.startswith("ST")}) >= 2  # and a few stations
    assert session.scalar(select(func.count()).select_from(Slot).where(
        Slot.starts_at > utcnow(), Slot.status == "open")) > 1000

    states = dict(session.execute(select(Referral.state, func.count())
                                  .group_by(Referral.state)).all())
    assert set(states) == set(REFERRAL_STATES), states
    statuses = dict(session.execute(select(Appointment.status, func.count())
                                    .group_by(Appointment.status)).all())
    # every status but a hold (pending): a hold lapses ten minutes after it is made
    assert set(statuses) == set(APPOINTMENT_STATUSES) - {"pending"}, statuses
    entries = set(session.scalars(select(WaitlistEntry.status).distinct()))
    assert {"waiting", "offered"} <= entries, entries

    by_case = {}
    for case_id, state in session.execute(select(Referral.case_id, Referral.state)):
        by_case.setdefault(case_id, []).append(state)
    recorded = {r["code"]: r["status"] for r in _rows("cases.csv")}
    wrong = []
    for case_id, code, status in session.execute(select(Case.id, Case.code, Case.status)):
        follows = case_status_for(by_case.get(case_id, []))
        if status != recorded[code] or (follows is not None and follows != status):
            wrong.append((code, recorded[code], status, follows))
    assert not wrong, wrong[:10]
    moved = {s for s in recorded.values()} - {"registered", "waiting"}
    assert moved == {"referred", "accepted", "in_service", "completed", "closed"}


def _rows(name):
    import csv

    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _a_coordinator_of_ct001_books_at_once(app, session):
    """The inbox of CT001 holds accepted referrals without an appointment, and a free slot of
    their service: the demo coordinator books one over the API right after loading."""
    ct001 = session.scalar(select(Facility).where(Facility.code == "CT001"))
    booked = select(Appointment.referral_id)
    waiting = select(WaitlistEntry.referral_id)
    candidates = list(session.scalars(select(Referral).where(
        Referral.receiver_id == ct001.id, Referral.state == "accepted",
        Referral.id.not_in(booked), Referral.id.not_in(waiting)).order_by(Referral.id)))
    assert candidates, "CT001's inbox has accepted referrals to book"
    user = create_user(session, "sample-coordinator", grants=[("coordinator", ct001)])
    token = token_for(session, user)
    client = app.test_client()
    for referral in candidates:
        slot = session.scalar(select(Slot).where(
            Slot.facility_id == ct001.id, Slot.service_id == referral.service_id,
            Slot.status == "open", Slot.starts_at > utcnow(),
            Slot.id.not_in(select(Appointment.slot_id))).order_by(Slot.starts_at).limit(1))
        if slot is None:
            continue
        r = client.post("/api/v1/appointments", json={"referral_code": referral.code,
                                                       "slot_id": slot.id},
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["status"] == "booked"
        return
    raise AssertionError("no free slot for any accepted referral of CT001")


def _the_certificates_are_loaded(session):
    """A few certificates (sample_network/certificates.py), their states from their dates."""
    from rehab_net.certificates.models import Certificate

    states = dict(session.execute(select(Certificate.state, func.count())
                                  .group_by(Certificate.state)).all())
    assert sum(states.values()) == 60
    assert set(states) == {"valid", "frozen", "cancelled", "expired"}, states


def _the_catalogue_is_loaded(app, session):
    """Two versions of the service catalogue, every service mapped, and CT001's worklist has
    children's training that falls short (docs/catalogue.md)."""
    from rehab_net.auth.permissions import EVERYWHERE
    from rehab_net.catalogue import operations as catalogue
    from rehab_net.catalogue.models import CatalogueService

    assert [v.code for v in catalogue.versions(session)] == ["2026", "2021"]
    mapped = set(session.scalars(select(CatalogueService.service_id)))
    assert mapped == set(session.scalars(select(Service.id)))
    centre = session.scalar(select(Facility).where(Facility.code == "CT001"))
    with app.app_context():  # the app's zone
        rows = catalogue.worklist(session, centre.id, TODAY, scope=EVERYWHERE)
    assert rows and {d.dose.status for d in rows} <= {"due", "overdue", "missed"}
