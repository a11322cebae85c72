"""The instance and solution files: every rule of the contract with its exact message, all problems
at once, defaults, round trips, atomic and deterministic writing."""
from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from solver import io
from solver.instance import (
    CAPACITY,
    DEFAULT_POLICY,
    FORMAT_SOLUTION,
    NO_DEADLINE,
    NO_ELIGIBLE_FACILITY,
    NO_FACILITY,
    Instance,
    Policy,
    Solution,
)
from solver.io import InstanceError, parse_instance
from tests.solver.builders import (
    assert_instances_equal,
    case,
    document,
    facility,
    random_document,
    random_instance,
)


def valid() -> dict:
    """Two facilities, three cases, 2 weeks: every feature used once."""
    return document(
        [facility("F1", tier="centre", autism_training=[1, 2], hearing_assessment=3),
         facility("F2", lat=49.5, lon=120.5, physical_training=0)],
        [case("C1", "autism_training", "child", release_week=1, deadline_week=5,
              max_travel_km=300.0, current={"facility": "F1", "week": 1}),
         case("C2", "speech_training", "severe"),
         case("C3", "hearing_assessment", "poor", lat=48.5, lon=121.25, deadline_week=None,
              max_travel_km=None, current=None)],
        horizon=2)


def problems_of(doc) -> list[str]:
    with pytest.raises(InstanceError) as caught:
        parse_instance(doc)
    return caught.value.problems


# --- reading valid documents ---------------------------------------------------------------------

def test_columns_and_defaults():
    inst = parse_instance(valid())
    assert inst.services == ["autism_training", "hearing_assessment", "physical_training",
                             "speech_training"]  # a service only a case asks for is kept
    assert inst.policy == Policy.from_mapping(DEFAULT_POLICY)
    f, c = inst.facilities, inst.cases
    assert f.capacity.shape == (2, 4, 2) and f.capacity.dtype == np.int32
    assert f.capacity[0].tolist() == [[1, 2], [3, 3], [0, 0], [0, 0]]
    assert f.capacity[1].tolist() == [[0, 0]] * 4
    assert f.tier.tolist() == [0, 1] and f.tier.dtype == np.int8
    assert c.ids == ["C1", "C2", "C3"]
    assert c.service.tolist() == [0, 3, 1] and c.service.dtype == np.int32
    assert c.priority.tolist() == [0, 1, 2] and c.priority.dtype == np.int8
    assert c.release.tolist() == [1, 0, 0] and c.release.dtype == np.int32
    assert c.deadline.tolist() == [5, NO_DEADLINE, NO_DEADLINE] and c.deadline.dtype == np.int32
    assert c.max_travel_km.tolist() == [300.0, math.inf, math.inf]
    assert c.current_facility.tolist() == [0, NO_FACILITY, NO_FACILITY]
    assert c.current_week[0] == 1
    assert c.lat.tolist() == [49.0, 49.0, 48.5] and c.lon.dtype == np.float64


def test_policy_keys_default_one_by_one():
    doc = valid()
    doc["policy"] = {"priority_weights": {"child": 10}, "tier_cost": {"clinic": 5},
                     "road_factor": 1.0}
    policy = parse_instance(doc).policy
    assert policy.priority_weights == (10.0, 4.0, 2.0, 1.0)
    assert policy.tier_cost == (50.0, 0.0, 5.0)
    assert policy.road_factor == 1.0
    assert policy.unassigned_cost == DEFAULT_POLICY["unassigned_cost"]


def test_integral_floats_count_as_integers():
    doc = valid()
    doc["horizon_weeks"] = 2.0
    doc["cases"][0]["release_week"] = 1.0
    doc["cases"][0]["deadline_week"] = 5.0
    doc["cases"][0]["current"]["week"] = 1.0
    doc["facilities"][0]["capacity"]["autism_training"] = [1.0, 2]
    assert_instances_equal(parse_instance(doc), parse_instance(valid()))


def test_optional_case_keys_may_be_absent_or_null():
    doc = valid()
    for c in doc["cases"]:
        for key in ("release_week", "deadline_week", "max_travel_km", "current"):
            c.pop(key, None)
    inst = parse_instance(doc)
    assert inst.cases.release.tolist() == [0, 0, 0]
    assert inst.cases.deadline.tolist() == [NO_DEADLINE] * 3


def test_empty_lists_are_allowed():
    inst = parse_instance(document([], [], horizon=3))
    assert len(inst.cases) == 0 and inst.facilities.capacity.shape == (0, 0, 3)


def test_parse_does_not_change_its_input():
    doc = valid()
    before = copy.deepcopy(doc)
    parse_instance(doc)
    assert doc == before


# --- every rule, with its exact message ----------------------------------------------------------

def mutate(change):
    doc = valid()
    change(doc)
    return doc


RULES = [
    (lambda d: d.update(format="rehab-net.instance/2"), 'format: must be "rehab-net.instance/1"'),
    (lambda d: d.pop("format"), "format: required"),
    (lambda d: d.update(name=""), "name: must be a non-empty string"),
    (lambda d: d.update(name=7), "name: must be a non-empty string"),
    (lambda d: d.update(horizon_weeks=0), "horizon_weeks: must be an integer between 1 and 520"),
    (lambda d: d.update(horizon_weeks=521), "horizon_weeks: must be an integer between 1 and 520"),
    (lambda d: d.update(horizon_weeks=2.5), "horizon_weeks: must be an integer between 1 and 520"),
    (lambda d: d.update(horizon_weeks=True), "horizon_weeks: must be an integer between 1 and 520"),
    (lambda d: d.update(horizon_weeks="2"), "horizon_weeks: must be an integer between 1 and 520"),
    (lambda d: d.update(colour="red"), "colour: unknown key"),
    (lambda d: d.update({"odd key": 1}), '["odd key"]: unknown key'),
    (lambda d: d.pop("cases"), "cases: required"),
    (lambda d: d.update(cases={}), "cases: must be a list"),
    (lambda d: d.update(facilities=None), "facilities: must be a list"),
    # policy
    (lambda d: d.update(policy=None), "policy: must be an object"),
    (lambda d: d.update(policy={"bonus": 1}), "policy.bonus: unknown key"),
    (lambda d: d.update(policy={"priority_weights": {"vip": 3}}),
     "policy.priority_weights.vip: unknown key"),
    (lambda d: d.update(policy={"priority_weights": {"child": -1}}),
     "policy.priority_weights.child: must be a number >= 0"),
    (lambda d: d.update(policy={"priority_weights": [8, 4, 2, 1]}),
     "policy.priority_weights: must be an object"),
    (lambda d: d.update(policy={"tier_cost": {"hospital": 1}}),
     "policy.tier_cost.hospital: unknown key"),
    (lambda d: d.update(policy={"tier_cost": {"centre": "high"}}),
     "policy.tier_cost.centre: must be a number >= 0"),
    (lambda d: d.update(policy={"road_factor": 0}), "policy.road_factor: must be a number > 0"),
    (lambda d: d.update(policy={"wait_cost_per_week": -1}),
     "policy.wait_cost_per_week: must be a number >= 0"),
    (lambda d: d.update(policy={"travel_cost_per_km": True}),
     "policy.travel_cost_per_km: must be a number >= 0"),
    (lambda d: d.update(policy={"unassigned_cost": math.nan}),
     "policy.unassigned_cost: must be a finite number"),
    (lambda d: d.update(policy={"reassign_cost": None}),
     "policy.reassign_cost: must be a number >= 0"),
    # facilities
    (lambda d: d["facilities"].__setitem__(1, "F2"), "facilities[1]: must be an object"),
    (lambda d: d["facilities"][1].update(id=""), "facilities[1].id: must be a non-empty string"),
    (lambda d: d["facilities"][1].update(id="F1"),
     'facilities[1].id: duplicate id "F1" (first at facilities[0])'),
    (lambda d: d["facilities"][1].update(tier="hospital"),
     "facilities[1].tier: must be one of centre, station, clinic"),
    (lambda d: d["facilities"][1].update(lat=90.5),
     "facilities[1].lat: must be between -90 and 90"),
    (lambda d: d["facilities"][1].update(lon=-181),
     "facilities[1].lon: must be between -180 and 180"),
    (lambda d: d["facilities"][1].update(lat=True), "facilities[1].lat: must be a number"),
    (lambda d: d["facilities"][1].update(lon=math.inf),
     "facilities[1].lon: must be a finite number"),
    (lambda d: d["facilities"][1].pop("lat"), "facilities[1].lat: required"),
    (lambda d: d["facilities"][1].update(beds=3), "facilities[1].beds: unknown key"),
    (lambda d: d["facilities"][1].pop("capacity"), "facilities[1].capacity: required"),
    (lambda d: d["facilities"][1].update(capacity=[1, 2]),
     "facilities[1].capacity: must be an object"),
    (lambda d: d["facilities"][0]["capacity"].update(autism_training=[1]),
     "facilities[0].capacity.autism_training: expected 2 weekly values, got 1"),
    (lambda d: d["facilities"][0]["capacity"].update(autism_training=[1, -2]),
     "facilities[0].capacity.autism_training[1]: must be an integer >= 0"),
    (lambda d: d["facilities"][0]["capacity"].update(autism_training=[1, 0.5]),
     "facilities[0].capacity.autism_training[1]: must be an integer >= 0"),
    (lambda d: d["facilities"][0]["capacity"].update(hearing_assessment=-1),
     "facilities[0].capacity.hearing_assessment: must be an integer >= 0 or a list of weekly "
     "integers >= 0"),
    (lambda d: d["facilities"][0]["capacity"].update(hearing_assessment=1.5),
     "facilities[0].capacity.hearing_assessment: must be an integer >= 0 or a list of weekly "
     "integers >= 0"),
    (lambda d: d["facilities"][0]["capacity"].update(hearing_assessment=True),
     "facilities[0].capacity.hearing_assessment: must be an integer >= 0 or a list of weekly "
     "integers >= 0"),
    (lambda d: d["facilities"][0]["capacity"].update(hearing_assessment=2**31),
     "facilities[0].capacity.hearing_assessment: must be at most 2147483647"),
    (lambda d: d["facilities"][0]["capacity"].update({"": 1}),
     'facilities[0].capacity[""]: service names must be non-empty strings'),
    # cases
    (lambda d: d["cases"].__setitem__(1, ["C2"]), "cases[1]: must be an object"),
    (lambda d: d["cases"][1].update(id=""), "cases[1].id: must be a non-empty string"),
    (lambda d: d["cases"][1].update(id=2), "cases[1].id: must be a non-empty string"),
    (lambda d: d["cases"][2].update(id="C1"), 'cases[2].id: duplicate id "C1" (first at cases[0])'),
    (lambda d: d["cases"][1].pop("id"), "cases[1].id: required"),
    (lambda d: d["cases"][1].update(service=""), "cases[1].service: must be a non-empty string"),
    (lambda d: d["cases"][1].update(service=["a"]), "cases[1].service: must be a non-empty string"),
    (lambda d: d["cases"][1].update(priority="vip"),
     "cases[1].priority: must be one of child, severe, poor, standard"),
    (lambda d: d["cases"][1].update(priority=["child"]),
     "cases[1].priority: must be one of child, severe, poor, standard"),
    (lambda d: d["cases"][1].pop("priority"), "cases[1].priority: required"),
    (lambda d: d["cases"][1].update(lat=-90.01), "cases[1].lat: must be between -90 and 90"),
    (lambda d: d["cases"][1].update(lon=180.5), "cases[1].lon: must be between -180 and 180"),
    (lambda d: d["cases"][1].update(lat="49"), "cases[1].lat: must be a number"),
    (lambda d: d["cases"][1].update(lat=False), "cases[1].lat: must be a number"),
    (lambda d: d["cases"][1].update(lat=None), "cases[1].lat: must be a number"),
    (lambda d: d["cases"][1].update(lat=math.nan), "cases[1].lat: must be a finite number"),
    (lambda d: d["cases"][1].update(lon=-math.inf), "cases[1].lon: must be a finite number"),
    (lambda d: d["cases"][1].pop("lon"), "cases[1].lon: required"),
    (lambda d: d["cases"][1].update(release_week=-1),
     "cases[1].release_week: must be an integer >= 0"),
    (lambda d: d["cases"][1].update(release_week=1.5),
     "cases[1].release_week: must be an integer >= 0"),
    (lambda d: d["cases"][1].update(release_week=True),
     "cases[1].release_week: must be an integer >= 0"),
    (lambda d: d["cases"][1].update(release_week=None),
     "cases[1].release_week: must be an integer >= 0"),
    (lambda d: d["cases"][1].update(release_week=2**31),
     "cases[1].release_week: must be at most 2147483647"),
    (lambda d: d["cases"][1].update(deadline_week=-3),
     "cases[1].deadline_week: must be an integer >= 0 or null"),
    (lambda d: d["cases"][1].update(deadline_week="soon"),
     "cases[1].deadline_week: must be an integer >= 0 or null"),
    (lambda d: d["cases"][1].update(max_travel_km=-5),
     "cases[1].max_travel_km: must be a number >= 0 or null"),
    (lambda d: d["cases"][1].update(max_travel_km="far"),
     "cases[1].max_travel_km: must be a number >= 0 or null"),
    (lambda d: d["cases"][1].update(max_travel_km=math.inf),
     "cases[1].max_travel_km: must be a finite number"),
    (lambda d: d["cases"][1].update(current="F1"),
     'cases[1].current: must be null or an object {"facility": id, "week": week}'),
    (lambda d: d["cases"][1].update(current={"facility": "F9", "week": 0}),
     'cases[1].current.facility: unknown facility "F9"'),
    (lambda d: d["cases"][1].update(current={"week": 0}), "cases[1].current.facility: required"),
    (lambda d: d["cases"][1].update(current={"facility": "F1", "week": 2}),
     "cases[1].current.week: must be an integer between 0 and 1"),
    (lambda d: d["cases"][1].update(current={"facility": "F1", "week": -1}),
     "cases[1].current.week: must be an integer between 0 and 1"),
    (lambda d: d["cases"][1].update(current={"facility": "F1"}), "cases[1].current.week: required"),
    (lambda d: d["cases"][1].update(current={"facility": "F1", "week": 0, "since": "2026"}),
     "cases[1].current.since: unknown key"),
    (lambda d: d["cases"][1].update(colour="red"), "cases[1].colour: unknown key"),
]


@pytest.mark.parametrize(("change", "message"), RULES, ids=[m for _, m in RULES])
def test_each_rule_has_its_message(change, message):
    assert problems_of(mutate(change)) == [message]


ODD_VALUES = [None, True, 0, -1, 1.5, 2.0, 10**30, math.nan, math.inf, "", "x", [], [1], {},
              {"a": 1}]


@pytest.mark.parametrize("where", ["cases", "facilities"])
def test_odd_values_anywhere_are_reported_on_their_field(where):
    """Whatever value a field holds, parsing either succeeds or reports on that field alone."""
    fields = ("id", "tier", "lat", "lon", "capacity") if where == "facilities" else (
        "id", "service", "priority", "lat", "lon", "release_week", "deadline_week",
        "max_travel_km", "current")
    for field in fields:
        for value in ODD_VALUES:
            doc = valid()
            doc[where][1][field] = value
            try:
                parse_instance(doc)
            except InstanceError as exc:
                assert all(p.startswith(f"{where}[1].{field}") for p in exc.problems), (
                    field, value, exc.problems)


def test_a_document_that_is_not_an_object():
    assert problems_of([1, 2]) == ["instance: must be a JSON object"]


def test_brief_examples_in_a_large_document():
    """The examples of the brief, in a document large enough for the bulk checks."""
    doc = document([facility(f"F{j}", autism_training=[1] * 12) for j in range(4)],
                   [case(f"C{i:06d}", "autism_training") for i in range(1, 2001)], horizon=12)
    doc["cases"][17]["lat"] = 91.0
    doc["facilities"][3]["capacity"]["autism_training"] = [1] * 11
    doc["cases"][4]["id"] = "C000002"
    doc["cases"][2]["current"] = {"facility": "F9", "week": 0}
    doc["policy"] = {"priority_weights": {"vip": 1}}
    doc["format"] = "rehab-net.instance/0"
    doc["cases"][1500]["release_week"] = 0.5
    doc["cases"][1999]["max_travel_km"] = -1
    assert problems_of(doc) == [
        'format: must be "rehab-net.instance/1"',
        "policy.priority_weights.vip: unknown key",
        "facilities[3].capacity.autism_training: expected 12 weekly values, got 11",
        'cases[2].current.facility: unknown facility "F9"',
        'cases[4].id: duplicate id "C000002" (first at cases[1])',
        "cases[17].lat: must be between -90 and 90",
        "cases[1500].release_week: must be an integer >= 0",
        "cases[1999].max_travel_km: must be a number >= 0 or null",
    ]


def test_all_problems_at_once_in_document_order():
    doc = valid()
    doc["name"] = ""
    doc["cases"][2]["lat"] = 100
    doc["cases"][0]["priority"] = "vip"
    doc["cases"][0]["lon"] = 200
    doc["facilities"][1]["tier"] = "x"
    doc["cases"][1] = 5
    assert problems_of(doc) == [
        "name: must be a non-empty string",
        "facilities[1].tier: must be one of centre, station, clinic",
        "cases[0].priority: must be one of child, severe, poor, standard",
        "cases[0].lon: must be between -180 and 180",
        "cases[1]: must be an object",
        "cases[2].lat: must be between -90 and 90",
    ]


def test_a_bad_horizon_still_checks_the_rest():
    doc = valid()
    doc["horizon_weeks"] = 0
    doc["cases"][0]["current"]["week"] = -1
    doc["cases"][1]["priority"] = "x"
    assert problems_of(doc) == [
        "horizon_weeks: must be an integer between 1 and 520",
        "cases[0].current.week: must be an integer >= 0",
        "cases[1].priority: must be one of child, severe, poor, standard",
    ]


def test_many_bad_cases_are_all_reported():
    doc = document([facility("F1", s=1)], [case(f"C{i}", lat=95) for i in range(500)])
    problems = problems_of(doc)
    assert len(problems) == 500
    assert problems[-1] == "cases[499].lat: must be between -90 and 90"


def test_case_and_deadline_quirks_the_contract_allows():
    """A service nobody offers, a deadline before the release, a release past the horizon."""
    doc = valid()
    doc["cases"][0].update(deadline_week=0, release_week=1)
    doc["cases"][1].update(service="nobody_offers_this", release_week=99)
    inst = parse_instance(doc)
    assert inst.cases.deadline[0] == 0 and inst.cases.release[1] == 99


# --- files ---------------------------------------------------------------------------------------

@pytest.fixture(params=["orjson", "json"])
def parser(request, monkeypatch):
    """Both JSON back ends must behave the same (orjson is optional)."""
    if request.param == "json":
        monkeypatch.setattr(io, "orjson", None)
    elif io.orjson is None:
        pytest.skip("orjson is not installed")
    return request.param


def test_a_file_that_is_not_json_gives_line_and_column(tmp_path, parser):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "format": "x",\n  "name" "y"\n}')
    with pytest.raises(InstanceError) as caught:
        io.read_instance(path)
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}:3:10: not valid JSON")


def test_a_file_that_is_not_utf8(tmp_path, parser):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{\n"name": "caf\xe9"}')
    with pytest.raises(InstanceError) as caught:
        io.read_instance(path)
    assert caught.value.problems == [f"{path}:2:13: not UTF-8 text"]


def test_a_missing_file_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        io.read_instance(tmp_path / "nope.json")


def test_instance_round_trip(tmp_path, parser):
    for seed in range(12):
        inst = random_instance(seed)
        assert_instances_equal(parse_instance(io.instance_to_dict(inst)), inst)
        io.write_instance(inst, tmp_path / "i.json")
        assert_instances_equal(io.read_instance(tmp_path / "i.json"), inst)
        assert json.loads((tmp_path / "i.json").read_text()) == io.instance_to_dict(inst)


def test_round_trip_keeps_a_service_nobody_offers_or_asks_for(tmp_path):
    doc = valid()
    doc["facilities"][1]["capacity"]["unused"] = 0
    inst = parse_instance(doc)
    assert "unused" in inst.services
    assert_instances_equal(parse_instance(io.instance_to_dict(inst)), inst)


def test_written_instance_has_one_case_per_line(tmp_path):
    inst = random_instance(3)
    io.write_instance(inst, tmp_path / "i.json")
    lines = (tmp_path / "i.json").read_text().splitlines()
    assert sum(line.startswith('{"id":"C') for line in lines) == len(inst.cases)


def test_odd_ids_survive_the_one_per_line_layout(tmp_path, parser):
    doc = random_document(4)
    doc["cases"][0]["id"] = 'odd "},{" id'
    doc["cases"][1]["id"] = "行\n2"
    inst = parse_instance(doc)
    io.write_instance(inst, tmp_path / "i.json")
    assert_instances_equal(io.read_instance(tmp_path / "i.json"), inst)


# --- solutions -----------------------------------------------------------------------------------

def small_solution(inst: Instance, **changes) -> Solution:
    n = len(inst.cases)
    facility = np.full(n, NO_FACILITY, dtype=np.int32)
    week = np.full(n, -1, dtype=np.int32)
    reason = np.full(n, CAPACITY, dtype=np.int8)
    facility[0], week[0], reason[0] = 0, 1, 0
    reason[1] = NO_ELIGIBLE_FACILITY
    road = np.full(n, np.nan)
    road[0] = 12.34567
    values = dict(instance=inst.name, status="optimal", objective=1234.5, bound=1234.0,
                  facility=facility, week=week, road_km=road, reason=reason,
                  shadow_prices=[(0, 0, 1, 5.0), (1, 2, 0, 7.5), (0, 0, 0, 5.0)],
                  stats={"cases": n, "arcs": np.int64(17), "wall_seconds": 0.5})
    values.update(changes)
    return Solution(**values)


def test_solution_document():
    inst = parse_instance(valid())
    doc = io.solution_to_dict(small_solution(inst), inst)
    assert list(doc) == ["format", "instance", "status", "objective", "bound", "assignments",
                         "unassigned", "shadow_prices", "stats"]
    assert doc["format"] == FORMAT_SOLUTION and doc["instance"] == "test"
    assert doc["assignments"] == [{"case": "C1", "facility": "F1", "week": 1, "road_km": 12.346}]
    assert doc["unassigned"] == [{"case": "C2", "reason": "no_eligible_facility"},
                                 {"case": "C3", "reason": "capacity"}]
    assert doc["shadow_prices"] == [  # by value, highest first, then facility, service, week
        {"facility": "F2", "service": "physical_training", "week": 0, "value": 7.5},
        {"facility": "F1", "service": "autism_training", "week": 0, "value": 5.0},
        {"facility": "F1", "service": "autism_training", "week": 1, "value": 5.0}]
    assert doc["stats"] == {"cases": 3, "arcs": 17, "wall_seconds": 0.5}


def test_solution_file_is_deterministic_and_readable(tmp_path, parser):
    inst = parse_instance(valid())
    io.write_solution(small_solution(inst), inst, tmp_path / "a.json")
    io.write_solution(small_solution(inst), inst, tmp_path / "b.json")
    text = (tmp_path / "a.json").read_bytes()
    assert text == (tmp_path / "b.json").read_bytes()
    assert io.read_solution(tmp_path / "a.json") == io.solution_to_dict(small_solution(inst), inst)
    assert text.rstrip().splitlines()[-1].startswith(b'"stats":')


def test_solution_without_objective_or_rows(tmp_path):
    inst = parse_instance(document([], [], horizon=1))
    empty = np.zeros(0)
    solution = Solution(instance="test", status="error", objective=None, bound=math.nan,
                        facility=empty.astype(np.int32), week=empty.astype(np.int32),
                        road_km=empty, reason=empty.astype(np.int8), stats={"x": math.nan})
    io.write_solution(solution, inst, tmp_path / "s.json")
    doc = io.read_solution(tmp_path / "s.json")
    assert doc["objective"] is None and doc["bound"] is None
    assert doc["assignments"] == [] and doc["unassigned"] == [] and doc["stats"] == {"x": None}


def test_finish_stats_sees_the_stats_last(tmp_path):
    inst = parse_instance(valid())
    io.write_solution(small_solution(inst), inst, tmp_path / "s.json",
                      finish_stats=lambda stats: {"write_seconds": 0.25, **stats})
    assert io.read_solution(tmp_path / "s.json")["stats"]["write_seconds"] == 0.25


def test_writing_is_atomic(tmp_path):
    """A failure while writing leaves the previous file whole and no temporary file behind."""
    inst = parse_instance(valid())
    target = tmp_path / "s.json"
    target.write_text("previous")

    def explode(stats):
        raise RuntimeError("crash half way")

    with pytest.raises(RuntimeError):
        io.write_solution(small_solution(inst), inst, target, finish_stats=explode)
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


def test_unassigned_without_a_reason_is_refused():
    inst = parse_instance(valid())
    reason = np.zeros(3, dtype=np.int8)
    with pytest.raises(ValueError):
        io.solution_to_dict(small_solution(inst, reason=reason), inst)


def test_read_solution_checks_the_format(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"format": "rehab-net.instance/1"}')
    with pytest.raises(ValueError, match="format"):
        io.read_solution(path)
    path.write_text("not json")
    with pytest.raises(ValueError):
        io.read_solution(path)
