"""A small hand-built population for the coverage tests (tests/test_coverage.py and the browser
test), two districts, every figure computed by hand in the tests. TODAY is 2026-11-16.

Hailar 150702:   A1 child (born 2022), autism, registered 2026-02-01, attended 2026-03-10
                 A2 child (born 2023), autism, registered 2026-04-01, never attended
                 A3 adult grade 1 (severe), physical, registered 2025-06-01, attended 2025-07-01
                 A4 adult dibao, autism, registered 2024-01-01, closed 2024-12-01
                 A5 adult, autism, registered 2025-03-01, closed 2025-09-01
                 A6 adult jiandang (poor), autism and physical, registered 2026-01-10,
                    attended autism 2026-05-06
New Barag 150727: B1 child (born 2020-06-01), autism, registered 2026-01-05, attended on the
                    10th of each month February-October 2026 (15:00), booked 2026-12-10
                  B2 adult, autism, registered 2026-09-01, attended 2026-10-12
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rehab_net.booking import generation, schedules
from rehab_net.booking import operations as booking
from rehab_net.network import operations as network
from rehab_net.people.models import CaseEvent
from tests.factories import (
    app_context_of,
    create_appointment,
    create_case,
    create_person,
    create_referral,
    two_district_network,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOME = {"150702": "150702001001", "150727": "150727001001"}
SENDER = {"150702": "ST150702001", "150727": "ST150727001"}


def _referral(session, case, district: str, on: date):
    sent = datetime.combine(on, time(9), SHANGHAI)
    return create_referral(session, "accepted", now=sent, today=on, case_code=case.code,
                           sender_code=SENDER[district], receiver_code="CT01",
                           service_code="autism_training")


def visit(session, r, referral, day: date, *, attend: bool = True, hour: int = 10):
    """A slot of DR1 at CT01 on ``day`` at ``hour``, booked the day before, then attended (or left
    booked, for a day still to come)."""
    starts = datetime.combine(day, time(hour), SHANGHAI)
    slot = generation.create_slot(session, practitioner_id=r["dr"].id,
                                  facility_id=r["centre"].id, service_id=referral.service_id,
                                  starts_at=starts, ends_at=starts + timedelta(hours=1),
                                  places=1, now=starts - timedelta(days=2))
    appointment = create_appointment(session, referral, slot, now=starts - timedelta(days=1))
    if attend:
        booking.fulfil(session, appointment, principal=None, now=starts + timedelta(minutes=5))
    return appointment


def close(session, case, on: date) -> None:
    """The case closed on ``on`` (its status and the event that says when)."""
    session.add(CaseEvent(case_id=case.id, at=datetime.combine(on, time(4), UTC), actor="test",
                          action="close", from_status=case.status, to_status="closed"))
    case.status = "closed"


def build(session) -> dict:
    with app_context_of(session):  # the operations read the app's configuration
        return _build(session)


def _build(session) -> dict:
    r = two_district_network(session)
    network.set_capacity(session, r["centre"], dict(  # open since 2024: the 2025 visits
        service_code="autism_training", effective_from=date(2024, 1, 1), weekly_intake=4,
        concurrent_places=20))
    r["dr"] = schedules.create_practitioner(session, dict(
        code="DR1", name="李医生", profession="physician", facility_codes=["CT01"]),
        principal=None, today=date(2024, 1, 1))

    def person(code, district, birth=date(1980, 5, 17), poverty="none"):
        return create_person(session, code=code, birth_date=birth, poverty_status=poverty,
                             home_region_code=HOME[district])

    def case(p, code, registered, category="autism", grade=3):
        service = "autism_training" if category == "autism" else "physical_follow_up"
        return create_case(session, p, code=code, category=category, grade=grade,
                           service_code=service, registered_on=registered)

    a1 = case(person("A1", "150702", date(2022, 3, 1)), "KA1", date(2026, 2, 1))
    visit(session, r, _referral(session, a1, "150702", date(2026, 2, 2)), date(2026, 3, 10))
    case(person("A2", "150702", date(2023, 1, 1)), "KA2", date(2026, 4, 1))
    a3 = case(person("A3", "150702"), "KA3", date(2025, 6, 1), category="physical", grade=1)
    visit(session, r, _referral(session, a3, "150702", date(2025, 6, 2)), date(2025, 7, 1))
    close(session, case(person("A4", "150702", poverty="dibao"), "KA4", date(2024, 1, 1)),
          date(2024, 12, 1))
    close(session, case(person("A5", "150702"), "KA5", date(2025, 3, 1)), date(2025, 9, 1))
    a6 = person("A6", "150702", poverty="jiandang")
    a6_autism = case(a6, "KA6", date(2026, 1, 10))
    case(a6, "KA6P", date(2026, 1, 10), category="physical")
    visit(session, r, _referral(session, a6_autism, "150702", date(2026, 1, 11)),
          date(2026, 5, 6))
    b1 = case(person("B1", "150727", date(2020, 6, 1)), "KB1", date(2026, 1, 5))
    referral = _referral(session, b1, "150727", date(2026, 1, 6))
    for month in range(2, 11):
        visit(session, r, referral, date(2026, month, 10), hour=15)
    visit(session, r, referral, date(2026, 12, 10), attend=False, hour=15)
    b2 = case(person("B2", "150727"), "KB2", date(2026, 9, 1))
    visit(session, r, _referral(session, b2, "150727", date(2026, 9, 2)), date(2026, 10, 12))
    session.commit()
    return r
