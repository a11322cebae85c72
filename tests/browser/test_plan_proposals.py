"""A plan's proposals worked in a real browser: a coordinator of the proposed centre accepts the
referral a plan's apply made and books one of the earliest free slots of the proposed week, in
two key presses on /plans/<id>/proposals; the page passes axe before, between and after, and
the plan's page then says it is stale."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from rehab_net.booking import generation, schedules
from rehab_net.booking.models import Appointment
from rehab_net.planning import operations as plans
from rehab_net.planning.models import PlanAssignment
from rehab_net.referrals.operations.from_plan import referrals_from_plan
from tests.browser.helpers import assert_focus_visible, assert_no_axe_violations, tab_to
from tests.factories import create_plan, create_user
from tests.planning_helpers import solve_here, waiting_list

ZONE = ZoneInfo("Asia/Shanghai")


def test_accept_and_book_a_proposal_in_two_key_presses(app, page, log_in_as, session):
    today = datetime.now(ZONE).date()
    app.config["TODAY"] = today.isoformat()  # booking runs on the real clock
    net = waiting_list(session, n=3)
    dr = schedules.create_practitioner(session, dict(
        code="DR1", name="李医生", profession="physician", facility_codes=["CT01"]),
        principal=None, today=today)
    plan = create_plan(session, today=today, horizon_weeks=1)
    session.commit()
    solve_here(session, plan.id)
    now = datetime.now(UTC)
    starts = datetime.combine(plan.start_date, time(9), tzinfo=ZONE).astimezone(UTC)
    slot = generation.create_slot(session, practitioner_id=dr.id, facility_id=net["centre"].id,
                                  service_id=net["autism_training"].id, starts_at=starts,
                                  ends_at=starts + timedelta(hours=1), places=1, now=now)
    placed = session.scalars(plans.list_assignments(plan, placed=True)).unique().all()
    with app.app_context():
        made = referrals_from_plan(session, placed, principal=None, now=now, today=today,
                                   send=True)
    assert len(made["created"]) == 3, made
    coord = create_user(session, "coord", grants=[("coordinator", net["centre"])])
    planner = create_user(session, "planner", grants=[("planner", None)])
    first = session.scalar(select(PlanAssignment).where(PlanAssignment.plan_id == plan.id)
                           .order_by(PlanAssignment.id)).case.code
    plan_id = plan.id
    session.commit()
    log_in_as(coord)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.goto(f"/plans/{plan_id}/proposals").status == 200
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert_no_axe_violations(page, "the proposals")
    # click 1: accept (keyboard only)
    tab_to(page, f"#accept-{first}", max_tabs=80)
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"#case-{first}")
    assert page.locator(".flash-success").count() == 1
    assert_no_axe_violations(page, "the proposals after accepting")
    # click 2: book the earliest slot of the proposed week
    button = f"#case-{first} ~ form button[name=slot_id][value='{slot.id}']"
    assert page.locator(button).count() == 1
    tab_to(page, button, max_tabs=80)
    assert_focus_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".flash-success").count() == 1
    assert_no_axe_violations(page, "the proposals after booking")
    booked = session.scalar(select(Appointment).where(Appointment.slot_id == slot.id))
    assert booked is not None and booked.status == "booked"
    assert booked.referral.case.code == first
    code = booked.code
    assert page.locator(f"a[href='/appointments/{code}']").count() == 1
    # the plan now says it is stale, to a planner
    log_in_as(planner)
    assert page.goto(f"/plans/{plan_id}").status == 200
    assert page.locator("#stale").count() == 1
    assert_no_axe_violations(page, "the stale plan")
