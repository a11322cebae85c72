"""The instance built from the live database, on SQLite and PostgreSQL: who waits, their priority,
deadline and release week on the plan's week 0, the weekly capacities (dated changes inside the
horizon), which facilities take part, and a fingerprint that depends on the data only."""
from datetime import date, timedelta

import pytest

from rehab_net.network import operations as network
from rehab_net.people.rules import seventh_birthday
from rehab_net.planning import adapters
from rehab_net.planning.adapters import deadline_week, release_week
from solver.instance import DEFAULT_POLICY
from solver.io import parse_instance
from tests.factories import app_context_of, create_case, create_person, tiny_network

START = date(2026, 11, 23)  # a Monday, a week after the suite's "today"


@pytest.fixture
def net(session):
    r = tiny_network(session)
    session.commit()
    return r


def build(session, start=START, horizon=12):
    with app_context_of(session):  # the app's zone
        return adapters.build_instance(session, start_date=start, horizon_weeks=horizon,
                                       policy=DEFAULT_POLICY)


def cases_by_id(built):
    return {c["id"]: c for c in built.data["cases"]}


def test_priority_deadline_and_release_on_week_0(session, net):
    severe = create_case(session, code="K_SEVERE", grade=1)
    poor = create_case(session, code="K_POOR", person=create_person(
        session, poverty_status="dibao"))
    standard = create_case(session, code="K_STANDARD")
    # 7th birthday 2027-01-15, a Friday in week 7 (Monday 2027-01-11): week 7 is the last chance
    child = create_case(session, code="K_CHILD", person=create_person(
        session, birth_date=date(2020, 1, 15)))
    # 7th birthday 2027-01-11 is week 7's Monday itself: no longer a child that day, so week 6
    monday_birthday = create_case(session, code="K_MONDAY", person=create_person(
        session, birth_date=date(2020, 1, 11)))
    # a child "today" (2026-11-16) who turns 7 before week 0: on the plan's dates an adult
    turned_seven = create_case(session, code="K_TURNED", person=create_person(
        session, birth_date=date(2019, 11, 20)))
    session.commit()
    cases = cases_by_id(build(session))
    assert {code: cases[code]["priority"] for code in cases} == {
        severe.code: "severe", poor.code: "poor", standard.code: "standard",
        child.code: "child", monday_birthday.code: "child", turned_seven.code: "standard"}
    assert cases["K_CHILD"]["deadline_week"] == 7
    assert cases["K_MONDAY"]["deadline_week"] == 6
    assert all(cases[c]["deadline_week"] is None for c in ("K_SEVERE", "K_POOR", "K_TURNED"))
    assert all(c["release_week"] == 0 and c["current"] is None and c["max_travel_km"] is None
               for c in cases.values())
    # the case is where the person lives: the home village's coordinates
    village = network.get_region(session, "150702001001")
    assert (cases["K_CHILD"]["lat"], cases["K_CHILD"]["lon"]) == (village.lat, village.lon)


@pytest.mark.parametrize("birth, start, expected", [
    (date(2020, 1, 15), START, 7),
    (date(2020, 1, 11), START, 6),          # birthday on a Monday: that week is too late
    (date(2019, 11, 24), START, 0),         # turns 7 on week 0's Tuesday: week 0 only
    (date(2020, 2, 29), date(2027, 2, 22), 0),  # 29 February: 7th birthday is 1 March 2027
])
def test_deadline_week_is_the_last_monday_before_the_7th_birthday(birth, start, expected):
    assert deadline_week(birth, start) == expected
    birthday = seventh_birthday(birth)
    assert start + timedelta(weeks=expected) < birthday <= start + timedelta(weeks=expected + 1)


@pytest.mark.parametrize("registered, expected", [
    (date(2026, 1, 5), 0), (date(2026, 11, 23), 0), (date(2026, 11, 29), 0),
    (date(2026, 11, 30), 1), (date(2026, 12, 9), 2),
])
def test_release_week_counts_from_week_0(registered, expected):
    assert release_week(registered, START) == expected


def test_release_week_of_a_case_registered_inside_the_horizon(session, net):
    create_case(session, code="K_EARLY", registered_on=date(2026, 9, 1))
    create_case(session, code="K_LATE", registered_on=date(2026, 10, 14))
    session.commit()
    cases = cases_by_id(build(session, start=date(2026, 9, 28)))  # an export of a past week 0
    assert (cases["K_EARLY"]["release_week"], cases["K_LATE"]["release_week"]) == (0, 2)


def test_only_waiting_cases_take_part(session, net):
    """Cases without a place yet (registered, waiting, referred, accepted); not those in
    service, completed or closed. (The statuses are set directly here: in the app they follow
    the referrals.)"""
    for status, code in (("registered", "K_REG"), ("waiting", "K_WAIT"), ("referred", "K_REF"),
                         ("accepted", "K_ACC"), ("in_service", "K_SRV"),
                         ("completed", "K_DONE"), ("closed", "K_CLOSED")):
        create_case(session, code=code).status = status
    session.commit()
    assert sorted(cases_by_id(build(session))) == ["K_ACC", "K_REF", "K_REG", "K_WAIT"]


def test_a_dated_capacity_change_inside_the_horizon_gives_weekly_values(session, net):
    centre = net["centre"]
    # from a Wednesday: in force from the next Monday, week 3 (2026-12-14)
    network.set_capacity(session, centre, dict(service_code="autism_training",
                         effective_from=date(2026, 12, 9), weekly_intake=6,
                         concurrent_places=30))
    # after the horizon: changes nothing
    network.set_capacity(session, centre, dict(service_code="autism_training",
                         effective_from=date(2027, 6, 1), weekly_intake=9, concurrent_places=30))
    session.commit()
    built = build(session, horizon=5)
    facilities = {f["id"]: f for f in built.data["facilities"]}
    assert facilities["CT01"]["capacity"] == {"autism_training": [4, 4, 4, 6, 6]}
    assert facilities["ST150702001"]["capacity"] == {"physical_follow_up": 10}  # constant: int
    # from exactly a Monday: in force that week
    network.set_capacity(session, centre, dict(service_code="autism_training",
                         effective_from=date(2026, 11, 30), weekly_intake=5,
                         concurrent_places=30))
    session.commit()
    assert {f["id"]: f for f in build(session, horizon=5).data["facilities"]}["CT01"][
        "capacity"] == {"autism_training": [4, 5, 5, 6, 6]}


def test_a_service_that_opens_inside_the_horizon_has_zeros_before(session, net):
    station = net["station"]
    network.create_service(session, dict(category="physical", kind="training", name_zh="肢体训练",
                                         name_en="Physical training", tiers=["station"],
                                         duration_minutes=45))
    network.set_capacity(session, station, dict(service_code="physical_training",
                         effective_from=date(2026, 12, 7), weekly_intake=3, concurrent_places=9))
    session.commit()
    capacity = {f["id"]: f for f in build(session, horizon=4).data["facilities"]}[
        "ST150702001"]["capacity"]
    assert capacity == {"physical_follow_up": 10, "physical_training": [0, 0, 3, 3]}


def test_closed_and_planned_facilities_and_those_without_capacity_are_left_out(session, net):
    network.update_facility(session, net["station"], {"status": "closed"})
    network.create_facility(session, dict(
        code="ST_NEW", name_zh="新站", name_en="New Station", tier="station",
        region_code="150702001", lat=49.3, lon=119.8, ownership="public", status="open"))
    planned = network.create_facility(session, dict(
        code="ST_PLANNED", name_zh="规划站", name_en="Planned Station", tier="station",
        region_code="150702001", lat=49.3, lon=119.8, ownership="public", status="planned"))
    network.set_capacity(session, planned, dict(service_code="physical_follow_up",
                         effective_from=date(2026, 1, 1), weekly_intake=5, concurrent_places=5))
    session.commit()
    built = build(session)
    assert [f["id"] for f in built.data["facilities"]] == ["CT01"]
    assert set(built.facility_ids) == {"CT01"}


def test_the_instance_is_valid_under_the_contract(session, net):
    create_case(session, person=create_person(session, birth_date=date(2020, 1, 15)))
    create_case(session, service_code="physical_follow_up", category="physical")
    session.commit()
    instance = parse_instance(build(session).data)
    assert len(instance.cases) == 2 and len(instance.facilities) == 2


def test_same_data_same_instance_and_fingerprint_whatever_the_insertion_order(app, session, net):
    for code in ("K3", "K1", "K2"):
        create_case(session, code=code)
    session.commit()
    first = build(session)
    assert [c["id"] for c in first.data["cases"]] == ["K1", "K2", "K3"]
    assert first.data["name"] == "rehab-net-2026-11-23-12w"
    assert build(session).fingerprint == first.fingerprint
    assert len(first.fingerprint) == 64 and int(first.fingerprint, 16) >= 0
    # anything the optimiser would see differently changes it
    assert build(session, horizon=11).fingerprint != first.fingerprint
    with app.app_context():
        assert adapters.build_instance(session, start_date=START, horizon_weeks=12, policy={
            **DEFAULT_POLICY, "road_factor": 1.4}).fingerprint != first.fingerprint
    network.set_capacity(session, net["centre"], dict(
        service_code="autism_training", effective_from=date(2026, 12, 1), weekly_intake=5,
        concurrent_places=20))
    session.commit()
    assert build(session).fingerprint != first.fingerprint


def test_solution_rows_map_codes_back_and_refuse_a_partial_answer(session, net):
    a, b = create_case(session, code="KA"), create_case(session, code="KB")
    session.commit()
    built = build(session, horizon=2)
    solution = {"status": "optimal", "assignments": [
        {"case": "KA", "facility": "CT01", "week": 1, "road_km": 6.6}],
        "unassigned": [{"case": "KB", "reason": "capacity"}],
        "shadow_prices": [{"facility": "CT01", "service": "autism_training", "week": 1,
                           "value": 12.5}]}
    rows = adapters.solution_rows(built, solution, plan_id=7)
    placed, waiting = rows.assignments
    assert (placed["case_id"], placed["facility_id"], placed["week"], placed["start_date"]) == \
        (a.id, net["centre"].id, 1, date(2026, 11, 30))
    assert (waiting["case_id"], waiting["facility_id"], waiting["reason"]) == (b.id, None,
                                                                               "capacity")
    assert placed["district_id"] == network.get_region(session, "150702").id
    load = next(r for r in rows.loads if r["facility_id"] == net["centre"].id)
    assert (load["capacity"], load["assigned"], load["utilisation"]) == ([4, 4], [0, 1], 1 / 8)
    assert rows.shadow_prices == [{"plan_id": 7, "facility_id": net["centre"].id,
                                   "service_id": net["autism_training"].id, "week": 1,
                                   "value": 12.5}]
    with pytest.raises(adapters.SolutionMismatch, match="1 of 2 cases"):
        adapters.solution_rows(built, {**solution, "unassigned": []}, plan_id=7)
    with pytest.raises(adapters.SolutionMismatch, match="NOPE"):
        adapters.solution_rows(built, {**solution, "unassigned": [
            {"case": "NOPE", "reason": "capacity"}]}, plan_id=7)


def test_instance_file_is_one_item_per_line_and_round_trips(session, net):
    import json

    create_case(session)
    session.commit()
    built = build(session)
    text = adapters.instance_json(built.data)
    assert json.loads(text) == built.data
    assert adapters.fingerprint(json.loads(text)) == built.fingerprint
    assert len(text.splitlines()) == 2 + 4 + 2 * 2 + len(built.data["facilities"]) + 1
