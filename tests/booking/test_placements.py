"""Plans see what is booked and who is in rehabilitation (issue 14, items 2 and 3): a booked
course that has not begun enters the instance as `current` and the optimiser keeps it; a case in
rehabilitation is not planned again and its appointments take places from their weeks; where
schedule rules exist, their slots' places are the weekly capacity, elsewhere the capacity row."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from rehab_net.booking import operations as booking
from rehab_net.planning import adapters
from solver.instance import DEFAULT_POLICY
from solver.io import parse_instance, solution_to_dict
from solver.solve import solve
from tests.booking_world import ZONE, make_slot, next_monday
from tests.factories import app_context_of, create_appointment, create_schedule

HORIZON = 6


@pytest.fixture
def start():
    return next_monday()


def at(day, hour: int) -> datetime:
    return datetime.combine(day, time(hour), ZONE).astimezone(UTC)


def build(session, start):
    with app_context_of(session):
        return adapters.build_instance(session, start_date=start, horizon_weeks=HORIZON,
                                       policy=DEFAULT_POLICY)


def capacity(built, facility: str, service: str = "autism_training") -> list[int]:
    f = next(f for f in built.data["facilities"] if f["id"] == facility)
    value = f["capacity"][service]
    return value if isinstance(value, list) else [value] * HORIZON


def cases(built) -> dict:
    return {c["id"]: c for c in built.data["cases"]}


def rule_slots(session, start, week: int):
    """The slots the schedule rule made in plan week ``week``, earliest first."""
    from sqlalchemy import select

    from rehab_net.booking.models import Slot

    return list(session.scalars(select(Slot).where(
        Slot.rule_id.is_not(None), Slot.starts_at >= at(start + timedelta(weeks=week), 0),
        Slot.starts_at < at(start + timedelta(weeks=week + 1), 0)).order_by(Slot.starts_at)))


@pytest.fixture
def schedule(session, w):
    """DR1 at CT01, autism training, Monday to Friday 09:00-12:00, one place an hour."""
    from tests.booking_world import local_today

    create_schedule(session, today=local_today(), now=datetime.now(UTC))
    session.commit()


def solved(built) -> dict:
    instance = parse_instance(built.data)
    return solution_to_dict(solve(instance, time_limit=30, workers=1), instance)


def test_a_booked_course_is_kept_where_it_is_and_takes_its_place(session, w, schedule, start):
    first = w["referrals"][0]
    before = build(session, start)
    assert cases(before)[first.case.code]["current"] is None
    # a week with places (on the real clock a week may be a holiday week)
    week = next(t for t in range(HORIZON) if len(rule_slots(session, start, t)) > 4)
    # the schedule's places are the capacity (15 a week, fewer with a holiday), not the
    # capacity row's 4
    assert capacity(before, "CT01")[week] == len(rule_slots(session, start, week))
    create_appointment(session, first, rule_slots(session, start, week)[0], now=datetime.now(UTC))
    session.commit()
    after = build(session, start)
    assert cases(after)[first.case.code]["current"] == {"facility": "CT01", "week": week}
    # the booked course is not subtracted a second time: its case takes the place when kept
    assert capacity(after, "CT01") == capacity(before, "CT01")
    # kept: moving it to the station nearer home, or earlier, gains less than moving costs
    after.data["policy"] = {**DEFAULT_POLICY, "reassign_cost": 100_000.0}
    solution = solved(after)
    kept = next(a for a in solution["assignments"] if a["case"] == first.case.code)
    assert (kept["facility"], kept["week"]) == ("CT01", week)
    rows = adapters.solution_rows(after, solution, plan_id=1)
    load = next(r for r in rows.loads if r["facility_id"] == w["centre"].id
                and r["service_id"] == w["autism_training"].id)
    assert load["assigned"][week] >= 1


def test_with_the_default_policy_a_booked_course_moves_only_for_a_real_gain(session, w,
                                                                           schedule, start):
    """Moving from the centre to the station in the same week saves its tier cost (50), less
    than the reassign cost (500): the case stays."""
    first = w["referrals"][0]
    week = next(t for t in range(HORIZON) if len(rule_slots(session, start, t)) > 4)
    create_appointment(session, first, rule_slots(session, start, week)[0], now=datetime.now(UTC))
    session.commit()
    solution = solved(build(session, start))
    kept = next(a for a in solution["assignments"] if a["case"] == first.case.code)
    assert kept["facility"] == "CT01" or kept["week"] < week


def test_a_case_in_rehabilitation_is_not_planned_again_and_holds_its_places(session, w,
                                                                             schedule, start):
    first = w["referrals"][0]
    before = capacity(build(session, start), "CT01")
    past = make_slot(session, w, datetime.now(UTC) - timedelta(hours=3),
                     practitioner=w["therapist"])
    session.commit()
    visit = create_appointment(session, first, past, now=datetime.now(UTC) - timedelta(days=1))
    with app_context_of(session):
        booking.fulfil(session, visit, principal=None, now=datetime.now(UTC))
    # its next session, in week 2
    create_appointment(session, first, rule_slots(session, start, 2)[0], now=datetime.now(UTC))
    session.commit()
    assert first.state == "in_progress"
    built = build(session, start)
    assert first.case.code not in cases(built)
    assert capacity(built, "CT01") == [n - (week == 2) for week, n in enumerate(before)]
    assert set(cases(built)) >= {r.case.code for r in w["referrals"][1:]}


def test_the_capacity_row_stands_where_there_are_no_schedule_rules(session, w, start):
    built = build(session, start)
    # the station has autism places in its capacity row (5 a week) and no schedule rule
    assert capacity(built, "ST150702001") == [5] * HORIZON


def test_a_course_booked_beyond_the_horizon_keeps_its_case_out_of_the_plan(session, w, start):
    first = w["referrals"][0]
    far = make_slot(session, w, at(start + timedelta(weeks=HORIZON + 1), 10))
    session.commit()
    create_appointment(session, first, far, now=datetime.now(UTC))
    session.commit()
    assert first.case.code not in cases(build(session, start))


def test_the_capacity_views_show_the_row_and_the_schedules_side_by_side(client, session, w,
                                                                       schedule, start):
    week = next(t for t in range(HORIZON) if len(rule_slots(session, start, t)) > 4)
    monday = start + timedelta(weeks=week)
    got = client.get(f"/api/v1/facilities/CT01/capacities?on={monday.isoformat()}").json
    autism = next(c for c in got if c["service_code"] == "autism_training")
    assert autism["weekly_intake"] == 4
    assert autism["scheduled_weekly_places"] == len(rule_slots(session, start, week))
    assert autism["agrees_with_schedules"] is False
    station = client.get("/api/v1/facilities/ST150702001/capacities?on="
                         f"{monday.isoformat()}").json
    assert {c["scheduled_weekly_places"] for c in station} == {None}
    assert {c["agrees_with_schedules"] for c in station} == {None}
    history = client.get("/api/v1/facilities/CT01/capacities").json  # today's week
    assert all("scheduled_weekly_places" in c for c in history)
    page = client.get("/facilities/CT01").get_data(as_text=True)
    assert "plans use the schedules" in page or "计划按排班" in page
