"""One child through the whole loop, as the city works it (issue 14): registered by the station,
referred up to the centre, accepted, booked, attended, completed, referred back down to the
village clinic and closed. At every step the case's status, the next plan's instance (is the case
planned, with which `current`, how much capacity is left) and the quarter's figures agree with
what happened; on SQLite and PostgreSQL (the `app` fixture's two parameters).

Booking runs on the real clock here (the `w` world): the appointments are today and next week."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from unittest import mock

from sqlalchemy import select

from rehab_net.booking import generation
from rehab_net.network import operations as network
from rehab_net.people.identifiers import make_resident_id
from rehab_net.people.models import Case, CaseEvent
from rehab_net.planning import adapters
from rehab_net.reports import quarterly
from solver.instance import DEFAULT_POLICY
from tests.booking_world import api, local_today, next_monday
from tests.factories import create_user, token_for

HORIZON = 4


def _quarter_of(day: date) -> tuple[str, date]:
    """The quarter a day is in, and the first day after it (to build it "as if ended")."""
    q = (day.month - 1) // 3 + 1
    end = date(day.year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return f"{day.year}-Q{q}", end


def test_one_child_through_the_whole_loop(app, anonymous, session, w):
    clinic = network.create_facility(session, dict(
        code="CL00001", name_zh="测试社区卫生室", name_en="Ceshi clinic", tier="clinic",
        region_code="150702001001", lat=49.21, lon=119.7, ownership="public",
        designated=False, status="open"))
    network.create_service(session, dict(
        category="autism", kind="follow_up", name_zh="孤独症随访", name_en="Autism follow-up",
        tiers=["station", "clinic"], home_ok=True, duration_minutes=30))
    network.set_capacity(session, clinic, dict(
        service_code="autism_follow_up", effective_from=date(2026, 1, 1), weekly_intake=2,
        concurrent_places=6))
    doctor = create_user(session, "doctor", grants=[("clinic", clinic)])
    session.commit()
    w["tokens"]["doctor"] = token_for(session, doctor)

    def call(who, method, url, body=None, status=200):
        got = api(anonymous, w, who, method, url, body)
        assert got.status_code == status, (url, got.get_json())
        return got.get_json()

    def case_status() -> str:
        session.expire_all()
        return session.scalar(select(Case.status).where(Case.code == "KLOOP"))

    start = next_monday()

    def instance():
        session.expire_all()
        with app.app_context():  # the app's zone and today
            built = adapters.build_instance(session, start_date=start, horizon_weeks=HORIZON,
                                            policy=DEFAULT_POLICY)
        cases = {c["id"]: c for c in built.data["cases"]}
        centre = next(f for f in built.data["facilities"] if f["id"] == "CT01")
        cap = centre["capacity"]["autism_training"]
        return cases.get("KLOOP"), (cap if isinstance(cap, list) else [cap] * HORIZON)

    quarter, after_quarter = _quarter_of(local_today())

    def served() -> dict:
        session.expire_all()
        with mock.patch.object(quarterly, "SMALL", 1), app.app_context():  # exact figures
            data = quarterly.build(session, quarter, today=after_quarter)  # for one child
        return {k: v for k, v in data["totals"].items() if k in ("served", "attended")}

    # the centre's schedule: DR1 Monday to Friday 09:00-12:00 from today on
    call("coord", "POST", "/api/v1/schedule-rules", {
        "practitioner_code": "DR1", "facility_code": "CT01", "service_code": "autism_training",
        "weekdays": [1, 2, 3, 4, 5], "start_time": "09:00", "end_time": "12:00",
        "slot_minutes": 60, "places": 1}, status=201)
    _kept, capacity_before = instance()

    # 1. the station registers the child and opens a case
    call("staff", "POST", "/api/v1/persons", {
        "code": "PLOOP", "name": "王小明", "resident_id": make_resident_id(
            "150702", date(2022, 6, 1), 57), "home_region_code": "150702001001",
        "guardian_name": "王伟", "guardian_phone": "13912345678"}, status=201)
    call("staff", "POST", "/api/v1/cases", {
        "code": "KLOOP", "person_code": "PLOOP", "category": "autism", "grade": 2,
        "service_code": "autism_training"}, status=201)
    assert case_status() == "registered"
    planned, _ = instance()
    assert planned is not None and planned["current"] is None and planned["priority"] == "child"

    # 2. referred up to the centre
    up = call("staff", "POST", "/api/v1/referrals", {
        "case_code": "KLOOP", "receiver_code": "CT01", "direction": "up",
        "reason": "autism assessment and training", "send": True}, status=201)["code"]
    assert case_status() == "referred"
    assert instance()[0]["current"] is None  # still waiting for a place

    # 3. received and accepted
    call("coord", "POST", f"/api/v1/referrals/{up}/receive", {})
    call("coord", "POST", f"/api/v1/referrals/{up}/accept", {})
    assert case_status() == "accepted"

    # 4. booked: a course starting in a coming week is a placement the plan keeps
    def free_slots(week: int) -> list[dict]:
        monday = start + timedelta(weeks=week)
        return [s for s in call("coord", "GET", f"/api/v1/slots?facility=CT01&from="
                                f"{monday.isoformat()}&to={(monday + timedelta(days=4))}")
                if s["free_places"]]

    week = next(t for t in range(1, HORIZON) if free_slots(t))  # a holiday week has none
    first = call("coord", "POST", "/api/v1/appointments",
                 {"referral_code": up, "slot_id": free_slots(week)[0]["id"]}, status=201)
    assert case_status() == "accepted"
    planned, capacity = instance()
    assert planned["current"] == {"facility": "CT01", "week": week}
    assert capacity == capacity_before  # its place is its own: counted once, by the plan

    # 5. attended: a session today (a one-off slot); the course goes on in that week
    now = datetime.now(UTC)
    today_slot = generation.create_slot(
        session, practitioner_id=w["therapist"].id, facility_id=w["centre"].id,
        service_id=w["autism_training"].id, starts_at=now + timedelta(minutes=2),
        ends_at=now + timedelta(minutes=40), places=1, now=now)
    session.commit()
    visit = call("coord", "POST", "/api/v1/appointments",
                 {"referral_code": up, "slot_id": today_slot.id}, status=201)
    call("coord", "POST", f"/api/v1/appointments/{visit['code']}/fulfil", {})
    assert case_status() == "in_service"
    assert call("coord", "GET", f"/api/v1/referrals/{up}")["state"] == "in_progress"
    planned, capacity = instance()
    assert planned is None  # in rehabilitation: not planned again
    assert capacity[week] == capacity_before[week] - 1  # its booked session holds a place
    assert served() == {"served": 1, "attended": 1}

    # 6. completed at the centre
    call("coord", "POST", f"/api/v1/referrals/{up}/complete",
         {"outcome": "assessed and trained; continue at home"})
    assert case_status() == "completed"
    assert call("coord", "GET", f"/api/v1/appointments/{first['code']}")["status"] == "booked"

    # 7. referred back down to the village clinic, which takes it on
    down = call("coord", "POST", "/api/v1/referrals", {
        "case_code": "KLOOP", "receiver_code": "CL00001", "direction": "down",
        "service_code": "autism_follow_up", "reason": "follow-up at home",
        "answers_code": up, "home_programme": "daily play-based exercises",
        "send": True}, status=201)["code"]
    assert case_status() == "referred"
    call("doctor", "POST", f"/api/v1/referrals/{down}/receive", {})
    call("doctor", "POST", f"/api/v1/referrals/{down}/accept", {})
    assert call("coord", "GET", f"/api/v1/referrals/{up}")["state"] == "closed"  # loop closed
    assert case_status() == "accepted"
    # the closed loop takes the centre's remaining session with it; the attended one stays
    gone = call("coord", "GET", f"/api/v1/appointments/{first['code']}")
    assert (gone["status"], gone["cancel_reason"]) == ("cancelled", "referral_closed")
    assert call("coord", "GET", f"/api/v1/appointments/{visit['code']}")["status"] == "fulfilled"
    assert instance()[1] == capacity_before  # the place it held is free for the next plan
    call("doctor", "POST", f"/api/v1/referrals/{down}/start", {})
    assert case_status() == "in_service"
    call("doctor", "POST", f"/api/v1/referrals/{down}/complete", {"outcome": "goals met"})
    call("coord", "POST", f"/api/v1/referrals/{down}/acknowledge", {})

    # 8. closed: nobody plans it again, the quarter counted it served once
    assert case_status() == "closed"
    assert instance()[0] is None
    assert served() == {"served": 1, "attended": 1}
    events = session.scalars(select(CaseEvent).join(Case).where(Case.code == "KLOOP")
                             .order_by(CaseEvent.id)).all()
    assert [e.to_status for e in events] == [
        "referred", "accepted", "in_service", "completed", "referred", "accepted",
        "in_service", "completed", "closed"]
    assert events[0].cause == f"referral {up} sent" and events[0].actor == "staff"
