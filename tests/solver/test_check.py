"""The independent checker catches every kind of broken plan, and its eligibility test agrees with
costs.eligible case by case."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from solver import costs
from solver.check import check_solution, eligible_anywhere
from solver.greedy import greedy
from solver.io import solution_to_dict
from tests.solver.builders import case, facility, instance, random_instance


@pytest.fixture
def setting():
    """A and B take F1's weeks 0 and 1, D takes F2's week 1; C has nothing within reach and E
    finds F2 full (F3 is out of its reach and stays empty)."""
    inst = instance([facility("F1", s=[1, 1]), facility("F2", lat=49.3, s=[0, 1]),
                     facility("F3", lon=125.0, s=1)],
                    [case("A", priority="child"), case("B"),
                     case("C", lat=52.0, max_travel_km=50.0), case("D", lat=49.3),
                     case("E", lat=49.3, max_travel_km=50.0)],
                    horizon=2)
    doc = solution_to_dict(greedy(inst), inst)
    assert [(a["case"], a["facility"], a["week"]) for a in doc["assignments"]] == [
        ("A", "F1", 0), ("B", "F1", 1), ("D", "F2", 1)]
    assert doc["unassigned"] == [{"case": "C", "reason": "no_eligible_facility"},
                                 {"case": "E", "reason": "capacity"}]
    assert check_solution(inst, doc) == []
    return inst, doc


def assignment(doc, cid):
    return next(a for a in doc["assignments"] if a["case"] == cid)


def test_a_capacity_violation(setting):
    inst, doc = setting
    assignment(doc, "B").update(week=0)
    doc["objective"] -= 100.0  # keep the objective right: only the capacity is wrong
    assert check_solution(inst, doc) == ["facility 'F1' service 's' week 0: 2 assigned, capacity 1"]


def test_a_missing_case(setting):
    inst, doc = setting
    doc["unassigned"] = [u for u in doc["unassigned"] if u["case"] != "C"]
    doc["objective"] -= 10000.0
    assert check_solution(inst, doc) == [
        "case 'C': must appear exactly once (neither assigned nor unassigned)"]


def test_a_case_twice(setting):
    inst, doc = setting
    doc["unassigned"].append({"case": "A", "reason": "capacity"})
    problems = check_solution(inst, doc)
    assert "case 'A': must appear exactly once (assignments[0], unassigned[2])" in problems


def test_an_unknown_case(setting):
    inst, doc = setting
    doc["unassigned"].append({"case": "Z", "reason": "capacity"})
    assert check_solution(inst, doc) == ["unassigned[2].case: unknown case 'Z'"]


def test_a_wrong_objective(setting):
    inst, doc = setting
    doc["objective"] *= 1.00001
    [problem] = check_solution(inst, doc)
    assert problem.startswith("objective: ") and "differs from the recomputed cost" in problem
    doc["objective"] /= 1.00001  # within 1e-6 relative is fine
    assert check_solution(inst, doc) == []


def test_an_ineligible_assignment(setting):
    inst, doc = setting
    doc["unassigned"] = [u for u in doc["unassigned"] if u["case"] != "C"]
    doc["assignments"].append({"case": "C", "facility": "F3", "week": 1, "road_km": 631.727})
    doc["objective"] = costs.total_cost(inst, np.array([0, 0, 2, 1, -1]),
                                        np.array([0, 1, 1, 1, -1]))
    assert check_solution(inst, doc) == [
        "case 'C': ('F3', week 1) is not eligible: road 631.7 km exceeds the limit of 50.0 km"]


def test_an_assignment_outside_the_window_or_capacity(setting):
    inst, doc = setting
    assignment(doc, "B").update(facility="F2", week=0, road_km=43.372)
    problems = check_solution(inst, doc)
    assert problems[0] == "case 'B': ('F2', week 0) is not eligible: no capacity for 's' that week"
    assignment(doc, "B").update(facility="F1", week=5, road_km=0.0)
    problems = check_solution(inst, doc)
    assert problems[0] == ("case 'B': ('F1', week 5) is not eligible: week outside the case's "
                           "window 0..1")


def test_a_wrong_road_km(setting):
    inst, doc = setting
    assignment(doc, "A")["road_km"] = 1.0
    assert check_solution(inst, doc) == ["case 'A': road_km 1.0 differs from 0.000 recomputed"]


def test_wrong_reasons(setting):
    inst, doc = setting
    for row in doc["unassigned"]:
        row["reason"] = {"capacity": "no_eligible_facility",
                         "no_eligible_facility": "capacity"}[row["reason"]]
    assert sorted(check_solution(inst, doc)) == [
        "case 'C': reason must be no_eligible_facility (no facility and week is eligible)",
        "case 'E': reason must be capacity (an eligible facility and week exist)"]
    doc["unassigned"][0]["reason"] = "busy"
    assert "unassigned[0].reason: must be one of no_eligible_facility, capacity" in \
        check_solution(inst, doc)


def test_header_bound_and_status(setting):
    inst, doc = setting
    bad = copy.deepcopy(doc)
    bad.update(format="x", instance="other", status="done")
    assert check_solution(inst, bad)[:3] == [
        'format: must be "rehab-net.solution/1"',
        "instance: 'other' is not this instance's name 'test'",
        "status: must be one of optimal, feasible, error"]
    bad = copy.deepcopy(doc)
    bad["bound"] = bad["objective"] + 1
    assert check_solution(inst, bad)[0].startswith("bound: ")
    bad.update(status="optimal", bound=bad["objective"] * 0.99)
    assert check_solution(inst, bad)[0].startswith("status: optimal, but")


def test_shadow_prices(setting):
    inst, doc = setting
    doc["status"] = "optimal"
    doc["bound"] = doc["objective"]
    doc["shadow_prices"] = [{"facility": "F1", "service": "s", "week": 0, "value": 5.0},
                            {"facility": "F3", "service": "s", "week": 1, "value": 9.0},
                            {"facility": "F9", "service": "s", "week": 0, "value": 1.0}]
    assert check_solution(inst, doc) == [
        "shadow_prices[1]: not sorted by value, highest first",
        "shadow_prices[1]: a positive price on a capacity that does not bind (0 of 1 places used)",
        "shadow_prices[2]: unknown facility, service or week"]


def test_eligible_anywhere_agrees_with_costs_eligible():
    for seed in range(60):
        inst = random_instance(seed)
        n, n_fac, horizon = len(inst.cases), len(inst.facilities), inst.horizon_weeks
        i, f, t = np.meshgrid(np.arange(n), np.arange(n_fac), np.arange(horizon), indexing="ij")
        brute = costs.eligible(inst, i.ravel(), f.ravel(), t.ravel()).reshape(n, -1).any(axis=1)
        np.testing.assert_array_equal(eligible_anywhere(inst), brute, err_msg=f"seed {seed}")
