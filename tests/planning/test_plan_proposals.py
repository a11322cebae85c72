"""A plan's proposals to work (issue 14, item 5): per proposed case its referral (made by apply)
and the earliest free slots at the proposed facility, for the service, in the proposed week (or
the earliest after it, saying so); the coordinator accepts and books in two requests; a booking
made after the plan marks it stale. On the real clock, as booking is."""
from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from rehab_net.booking import generation, schedules
from rehab_net.booking.models import Appointment
from rehab_net.planning import operations as plans
from rehab_net.planning.models import PlanAssignment
from rehab_net.referrals.models import Referral
from tests.factories import create_plan, create_user, log_in, token_for
from tests.planning_helpers import solve_here, waiting_list

ZONE = ZoneInfo("Asia/Shanghai")


def local_today():
    return datetime.now(ZONE).date()


def at(day, hh: int) -> datetime:
    return datetime.combine(day, time(hh), tzinfo=ZONE).astimezone(UTC)


@pytest.fixture
def world(app, session, client):
    """6 autism cases waiting, 4 intakes a week at CT01; a two-week plan (4 in week 0, 2 in week
    1) applied with send: true; free slots at CT01 on week 0's Monday 09:00 and 10:00 and week
    2's Monday 09:00, and decoys: the station in week 0, another service at CT01 in week 0."""
    app.config["TODAY"] = local_today().isoformat()
    net = waiting_list(session, n=6)
    dr = schedules.create_practitioner(session, dict(
        code="DR1", name="李医生", profession="physician",
        facility_codes=["CT01", "ST150702001"]), principal=None, today=local_today())
    plan = create_plan(session, today=local_today(), horizon_weeks=2)
    session.commit()
    solve_here(session, plan.id)
    monday = plan.start_date
    now = datetime.now(UTC)

    def slot(facility, service, day, hh):
        return generation.create_slot(
            session, practitioner_id=dr.id, facility_id=facility.id, service_id=service.id,
            starts_at=at(day, hh), ends_at=at(day, hh) + timedelta(hours=1), places=1, now=now)

    slots = {"w0_9": slot(net["centre"], net["autism_training"], monday, 9),
             "w0_10": slot(net["centre"], net["autism_training"], monday, 10),
             "w2_9": slot(net["centre"], net["autism_training"], monday + timedelta(weeks=2), 9),
             "station": slot(net["station"], net["autism_training"], monday, 8),
             "other_service": slot(net["centre"], net["physical_follow_up"], monday, 11)}
    coord = create_user(session, "coord", grants=[("coordinator", net["centre"])])
    staff = create_user(session, "staff", grants=[("clinic", net["station"])])
    session.commit()
    got = client.post(f"/api/v1/plans/{plan.id}/apply", json={"send": True})
    assert got.status_code == 200 and len(got.json["created"]) == 6, got.json
    session.expire_all()  # the cases as the apply left them (referred)
    rows = session.scalars(select(PlanAssignment).where(PlanAssignment.plan_id == plan.id)
                           .order_by(PlanAssignment.week, PlanAssignment.id)).all()
    c = app.test_client()
    log_in(c, coord)
    return {"net": net, "plan": plan, "slots": slots, "coord": c,
            "coord_token": token_for(session, coord), "staff": staff,
            "staff_token": token_for(session, staff),
            "week0": [r.case.code for r in rows if r.week == 0],
            "week1": [r.case.code for r in rows if r.week == 1]}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def api(app, token, url):
    return app.test_client().get(url, headers={"Authorization": f"Bearer {token}"})


def test_the_earliest_slots_are_at_the_proposed_facility_service_and_week(app, world):
    plan, slots = world["plan"], world["slots"]
    first = world["week0"][0]
    got = api(app, world["coord_token"], f"/api/v1/plans/{plan.id}/assignments/{first}/slots")
    assert got.status_code == 200, got.json
    body = got.json
    assert (body["facility_code"], body["service_code"], body["week"]) == (
        "CT01", "autism_training", 0)
    assert body["start_date"] == plan.start_date.isoformat()
    assert body["referral"]["state"] == "sent" and body["in_week"] is True
    assert [s["slot_id"] for s in body["earliest_slots"]] == [slots["w0_9"].id,
                                                             slots["w0_10"].id]
    assert body["staleness"] == {"stale": False, "bookings_since": 0,
                                 "since": body["staleness"]["since"]}
    # week 1 has no slot: the earliest after it, and it says so
    later = world["week1"][0]
    body = api(app, world["coord_token"],
               f"/api/v1/plans/{plan.id}/assignments/{later}/slots").json
    assert body["in_week"] is False
    assert [s["slot_id"] for s in body["earliest_slots"]] == [slots["w2_9"].id]
    # the sending station's staff is not the proposed facility, nor a planner: 404
    assert api(app, world["staff_token"],
               f"/api/v1/plans/{plan.id}/assignments/{first}/slots").status_code == 404
    assert api(app, world["coord_token"],
               f"/api/v1/plans/{plan.id}/assignments/NOPE/slots").status_code == 404


def test_accept_then_book_from_the_proposal_in_two_requests(app, session, client, world):
    plan, slots, c = world["plan"], world["slots"], world["coord"]
    case_code = world["week0"][0]
    page = c.get(f"/plans/{plan.id}/proposals")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('<section class="proposal"') == 6  # every case referred to CT01
    section = html[html.index(f'id="case-{case_code}"'):]
    section = section[:section.index("</section>")]
    assert f'id="accept-{case_code}"' in section
    assert "测" in section and "*" in section  # the name masked
    assert f'value="{slots["w0_9"].id}"' not in section  # not bookable before acceptance
    version = re.search(r'name="version" value="(\d+)"', section).group(1)
    # 1: accept (the sent referral is received and accepted)
    got = c.post(f"/plans/{plan.id}/proposals/{case_code}/accept",
                 data={"csrf_token": _csrf(html), "version": version})
    assert got.status_code == 303 and got.headers["Location"].endswith(f"#case-{case_code}")
    referral = session.scalar(select(Referral).where(Referral.case.has(code=case_code)))
    session.refresh(referral)
    assert referral.state == "accepted"
    html = c.get(f"/plans/{plan.id}/proposals").get_data(as_text=True)
    section = html[html.index(f'id="case-{case_code}"'):]
    section = section[:section.index("</section>")]
    assert f'name="slot_id" value="{slots["w0_9"].id}"' in section
    assert f'value="{slots["station"].id}"' not in section
    assert f'value="{slots["other_service"].id}"' not in section
    # 2: book the earliest slot
    key = re.search(r'name="idempotency_key" value="([^"]+)"', section).group(1)
    got = c.post(f"/plans/{plan.id}/proposals/{case_code}/book",
                 data={"csrf_token": _csrf(html), "slot_id": str(slots["w0_9"].id),
                       "idempotency_key": key})
    assert got.status_code == 303, got.get_data(as_text=True)
    appointment = session.scalar(select(Appointment).where(
        Appointment.referral_id == referral.id))
    assert (appointment.slot_id, appointment.status) == (slots["w0_9"].id, "booked")
    html = c.get(f"/plans/{plan.id}/proposals").get_data(as_text=True)
    assert appointment.code in html
    # the next case of week 0 is offered what is left
    other = world["week0"][1]
    body = api(app, world["coord_token"],
               f"/api/v1/plans/{plan.id}/assignments/{other}/slots").json
    assert [s["slot_id"] for s in body["earliest_slots"]] == [slots["w0_10"].id]
    # the booking was made after the plan read the network: stale, here and in the API
    body = client.get(f"/api/v1/plans/{plan.id}").json
    assert body["staleness"]["stale"] is True and body["staleness"]["bookings_since"] == 1
    assert body["kind"] == "plan"
    html = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert 'id="stale"' in html and "已过时" in html
    assert plans.staleness(session, plan)["bookings_since"] == 1


def test_forms_need_the_receiving_side_and_a_slot(app, session, world):
    plan, slots = world["plan"], world["slots"]
    case_code = world["week0"][0]
    c = app.test_client()
    log_in(c, world["staff"])  # the sender: sees the referral, may not accept it
    html = world["coord"].get(f"/plans/{plan.id}/proposals").get_data(as_text=True)
    token = _csrf(c.get("/booking").get_data(as_text=True))
    got = c.post(f"/plans/{plan.id}/proposals/{case_code}/accept",
                 data={"csrf_token": token, "version": "1"})
    assert got.status_code in (403, 404)
    # booking before accepting: refused in place, nothing booked
    got = world["coord"].post(f"/plans/{plan.id}/proposals/{case_code}/book",
                              data={"csrf_token": _csrf(html),
                                    "slot_id": str(slots["w0_9"].id)})
    assert got.status_code == 409 and 'role="alert"' in got.get_data(as_text=True)
    got = world["coord"].post(f"/plans/{plan.id}/proposals/{case_code}/book",
                              data={"csrf_token": _csrf(html), "slot_id": ""})
    assert got.status_code == 422
    assert session.scalar(select(Appointment.id)) is None
    # without the CSRF token: refused
    got = world["coord"].post(f"/plans/{plan.id}/proposals/{case_code}/accept",
                              data={"version": "1"})
    assert got.status_code == 400


def test_only_a_plain_plan_has_proposals(app, session, world):
    plan = world["plan"]
    case_code = world["week0"][0]
    plan.parameters = {**plan.parameters, "changes": []}  # as a scenario's run records them
    session.commit()
    assert plan.kind == "scenario"
    assert world["coord"].get(f"/plans/{plan.id}/proposals").status_code == 404
    got = api(app, world["coord_token"], f"/api/v1/plans/{plan.id}/assignments/{case_code}/slots")
    assert got.status_code == 404 and got.json["code"] == "plan.no_proposals"
    assert plans.latest_plain_plan(session) is None


def test_the_nav_link_opens_the_newest_plain_plans_proposals(app, session, client, world):
    got = world["coord"].get("/proposals")
    assert got.status_code == 302
    assert got.headers["Location"].endswith(f"/plans/{world['plan'].id}/proposals")
    assert 'href="/proposals"' in world["coord"].get("/booking").get_data(as_text=True)


def test_without_a_plan_the_proposals_page_says_so(client):
    got = client.get("/proposals")
    assert got.status_code == 200 and "尚无已完成的现有网络方案" in got.get_data(as_text=True)


def test_a_proposal_without_a_referral_there_is_only_counted(app, session, world):
    from rehab_net.referrals.operations.workflow import transition

    plan, case_code = world["plan"], world["week0"][0]
    referral = session.scalar(select(Referral).where(Referral.case.has(code=case_code)))
    with app.app_context():
        transition(session, referral, "cancel", principal=None,
                   now=datetime.now(UTC), reason="family moved")
    session.commit()
    html = world["coord"].get(f"/plans/{plan.id}/proposals").get_data(as_text=True)
    assert html.count('<section class="proposal"') == 5
    assert f'id="case-{case_code}"' not in html and "另有 1 个个案" in html
    got = api(app, world["coord_token"], f"/api/v1/plans/{plan.id}/assignments/{case_code}/slots")
    assert got.status_code == 200 and got.json["referral"] is None
