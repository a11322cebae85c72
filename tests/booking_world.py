"""The booking tests' world, the fixture `w` (registered as a plugin in tests/conftest.py): a
centre and a station of tiny_network, a physician practising at both (多点执业), accepted
referrals of children to the centre, staff of each facility with their tokens; helpers to make
slots and book them, the body of a weekly schedule rule, the three invariants."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from rehab_net.booking import generation, schedules
from rehab_net.network import operations as network
from tests.factories import (
    create_case,
    create_person,
    create_referral,
    create_user,
    tiny_network,
    token_for,
)

ZONE = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def local_today() -> date:
    return datetime.now(ZONE).date()


def next_monday() -> date:
    """A Monday at least a week away, on the real clock (the API books on the real clock)."""
    d = local_today() + timedelta(days=7)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=ZONE).astimezone(UTC)


def accepted_referral(session, case, *, sender, receiver, service_code="autism_training"):
    return create_referral(session, "accepted", now=datetime.now(UTC), today=local_today(),
                           case_code=case.code, sender_code=sender.code,
                           receiver_code=receiver.code, service_code=service_code,
                           reason="assessment")


def new_child_referral(session, w, **person):
    n = next(_seq)
    p = create_person(session, birth_date=person.pop("birth_date", date(2022, 3, 1)), **person)
    c = create_case(session, p, code=f"KB{n:05d}")
    return accepted_referral(session, c, sender=w["station"], receiver=w["centre"])


def make_slot(session, w, start: datetime, minutes: int = 60, places: int = 1,
              practitioner=None, facility=None):
    return generation.create_slot(
        session, practitioner_id=(practitioner or w["dr"]).id,
        facility_id=(facility or w["centre"]).id, service_id=w["autism_training"].id,
        starts_at=start, ends_at=start + timedelta(minutes=minutes), places=places,
        now=datetime.now(UTC))


@pytest.fixture(name="w")
def booking_world(app, session):
    """The booking world, committed. app.config TODAY is the real local date here: slots and
    bookings run on the real clock."""
    app.config["TODAY"] = local_today().isoformat()
    r = tiny_network(session)
    network.set_capacity(session, r["station"], dict(
        service_code="autism_training", effective_from=date(2026, 1, 1), weekly_intake=5,
        concurrent_places=10))
    r["dr"] = schedules.create_practitioner(session, dict(
        code="DR1", name="李医生", profession="physician",
        facility_codes=["CT01", "ST150702001"]), principal=None, today=local_today())
    r["therapist"] = schedules.create_practitioner(session, dict(
        code="TH1", name="王治疗师", profession="therapist", facility_codes=["CT01"]),
        principal=None, today=local_today())
    r["referrals"] = [new_child_referral(session, r) for _ in range(3)]
    users = {"coord": create_user(session, "coord", grants=[("coordinator", r["centre"])]),
             "staff": create_user(session, "staff", grants=[("clinic", r["station"])]),
             "planner": create_user(session, "planner", grants=[("planner", r["district"])]),
             "auditor": create_user(session, "auditor", grants=[("auditor", None)])}
    session.commit()
    r["users"] = users
    r["tokens"] = {k: token_for(session, u) for k, u in users.items()}
    return r


def api(client, w, who, method, url, body=None, headers=None):
    return client.open(url, method=method, json=body, headers={
        "Authorization": f"Bearer {w['tokens'][who]}", **(headers or {})})


def invariants(session) -> dict[str, list]:
    """Every breach of the three invariants in the database now (should all be empty)."""
    active = "('proposed', 'pending', 'booked', 'arrived', 'fulfilled')"
    over = session.execute(text(
        "SELECT s.id FROM slot s JOIN appointment a ON a.slot_id = s.id "
        f"WHERE a.status IN {active} GROUP BY s.id, s.places HAVING count(*) > s.places")).all()
    practitioner = session.execute(text(
        "SELECT a.id, b.id FROM slot a JOIN slot b ON a.practitioner_id = b.practitioner_id "
        "AND a.id < b.id AND a.status = 'open' AND b.status = 'open' "
        "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at")).all()
    person = session.execute(text(
        "SELECT a.id, b.id FROM appointment a JOIN appointment b ON a.person_id = b.person_id "
        f"AND a.id < b.id AND a.status IN {active} AND b.status IN {active} "
        "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at")).all()
    return {"over_capacity": over, "practitioner_overlap": practitioner,
            "person_overlap": person}


def rule_body(**over):
    return {"practitioner_code": "DR1", "facility_code": "CT01",
            "service_code": "autism_training", "weekdays": [1, 2, 3, 4, 5],
            "start_time": "09:00", "end_time": "12:00", "slot_minutes": 60, "places": 1,
            **over}
