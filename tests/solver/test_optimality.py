"""solve() against an independent exact optimum (CP-SAT, one Boolean per eligible (case, facility,
week)), hand-solved instances with exact objectives, determinism, and shadow prices checked by
their definition: how much the optimal objective falls with one more place."""
from __future__ import annotations

import math

import pytest

from solver import costs
from solver.check import check_solution
from solver.cli import main
from solver.greedy import greedy
from solver.instance import ASSIGNED, CAPACITY, NO_ELIGIBLE_FACILITY, NO_FACILITY, Instance
from solver.io import read_solution, solution_to_dict, write_instance
from solver.solve import solve
from tests.solver.builders import case, facility, instance, random_instance, with_capacity
from tests.solver.oracle import binding_places, close, cpsat_optimum

R = 6371.0088


def assert_optimal(inst: Instance, expected: float | None = None):
    solution = solve(inst)
    assert solution.status == "optimal", solution.message
    assert check_solution(inst, solution_to_dict(solution, inst)) == []
    assert solution.objective == pytest.approx(
        costs.total_cost(inst, solution.facility, solution.week), rel=1e-9)
    if expected is not None:
        assert close(solution.objective, expected), (solution.objective, expected)
    return solution


@pytest.mark.parametrize("seed", range(40))
def test_random_instances_reach_the_exact_optimum(seed):
    inst = random_instance(seed)
    assert_optimal(inst, cpsat_optimum(inst))


def test_cpsat_oracle_is_never_beaten_by_greedy():
    """The oracle itself: no plan (here: the baseline's) is cheaper than its optimum."""
    for seed in range(10):
        inst = random_instance(seed)
        assert greedy(inst).objective >= cpsat_optimum(inst) - 0.01


# --- hand-solved ---------------------------------------------------------------------------------

def road_km_along_meridian(dlat: float) -> float:
    return 1.3 * R * math.radians(dlat)


def placed(solution) -> list:
    return [(int(f), int(t)) if f != NO_FACILITY else None
            for f, t in zip(solution.facility, solution.week, strict=True)]


def test_two_cases_one_place_the_child_wins():
    inst = instance([facility("F1", s=1)], [case("A", priority="standard"),
                                            case("B", priority="child")])
    solution = assert_optimal(inst, 10000.0)  # the standard case stays out (weight 1)
    assert placed(solution) == [None, (0, 0)]
    assert solution.reason.tolist() == [CAPACITY, ASSIGNED]


@pytest.mark.parametrize(("dlat", "where"), [(1.0, (1, 0)), (1.5, (0, 2))])
def test_wait_against_travel(dlat, where):
    """A near place in week 2 (2 x 100 of waiting) or a far place now (1 per road km)."""
    inst = instance([facility("NEAR", s=[0, 0, 1]), facility("FAR", lat=49.0 + dlat, s=1)],
                    [case("A")], horizon=3)
    solution = assert_optimal(inst, min(road_km_along_meridian(dlat), 200.0))
    assert placed(solution) == [where]


def test_unassigned_reasons():
    inst = instance([facility("F1", s=1, t=0)],
                    [case("nobody_offers", service="x"), case("zero_capacity", service="t"),
                     case("too_far", lat=50.0, max_travel_km=10.0),
                     case("deadline_before_release", priority="child", release_week=1,
                          deadline_week=0),
                     case("first", priority="severe"), case("second", priority="severe"),
                     case("third", priority="severe")], horizon=2)
    # Four cases nobody can take, two severe ones placed (one waits a week), one severe one out.
    expected = 3 * 10000 + 8 * 10000 + 4 * 100 + 4 * 10000
    solution = assert_optimal(inst, expected)
    assert solution.reason[:4].tolist() == [NO_ELIGIBLE_FACILITY] * 4
    assert sorted(solution.reason[4:].tolist()) == [ASSIGNED, ASSIGNED, CAPACITY]


def test_deadline_before_release_is_never_eligible():
    inst = instance([facility("F1", s=5)], [case("A", priority="child", release_week=3,
                                                 deadline_week=1)], horizon=6)
    solution = assert_optimal(inst, 80000.0)
    assert solution.reason.tolist() == [NO_ELIGIBLE_FACILITY]


def test_deadline_inside_the_horizon():
    """The child must start by week 1: it takes week 1 and the adult waits to week 2."""
    inst = instance([facility("F1", s=[0, 1, 1])],
                    [case("adult", priority="standard"),
                     case("child", priority="child", deadline_week=1)], horizon=3)
    solution = assert_optimal(inst, 8 * 100 + 2 * 100)
    assert placed(solution) == [(0, 2), (0, 1)]


def test_zero_capacity_is_no_place():
    inst = instance([facility("F1", s=0), facility("F2", s=[0, 0])], [case("A")], horizon=2)
    solution = assert_optimal(inst, 10000.0)
    assert solution.reason.tolist() == [NO_ELIGIBLE_FACILITY]


def test_waiting_through_weeks_without_capacity():
    """The chain has nodes only for weeks 2 and 4: the severe case (weight 4, released in week 1)
    takes week 2 for 400, the adult released in week 0 waits to week 4 (400) with the one
    released in week 3 (100)."""
    inst = instance([facility("F1", s=[0, 0, 1, 0, 2])],
                    [case("A"), case("B", priority="severe", release_week=1),
                     case("C", release_week=3)], horizon=5)
    solution = assert_optimal(inst, 400 + 400 + 100)
    assert placed(solution) == [(0, 4), (0, 2), (0, 4)]


def test_no_week_with_capacity_left_after_the_release():
    """F1 has capacity only before the releases: the cases wait to week 2 at F2 and F3, farther."""
    inst = instance([facility("F1", s=[2, 0, 0]), facility("F2", lat=49.1, s=[0, 0, 1]),
                     facility("F3", lat=49.2, s=[0, 0, 1])],
                    [case("A", release_week=1), case("B", release_week=1)], horizon=3)
    road = 1.3 * R * math.radians(0.1)
    solution = assert_optimal(inst, 2 * 100 + road + 2 * road)
    assert sorted(placed(solution)) == [(1, 2), (2, 2)]


@pytest.mark.parametrize(("reassign", "where"), [(500.0, (0, 1)), (50.0, (1, 0))])
def test_reassignment_cost_keeps_a_current_place(reassign, where):
    """Staying at F1 in week 1 costs 100 of waiting; moving to F2 now costs the reassignment."""
    inst = instance([facility("F1", s=[0, 1]), facility("F2", s=[1, 0])],
                    [case("A", current={"facility": "F1", "week": 1})], horizon=2,
                    policy={"reassign_cost": reassign})
    solution = assert_optimal(inst, min(100.0, reassign))
    assert placed(solution) == [where]


def test_a_current_place_that_is_not_eligible_any_more():
    """The held place's facility no longer offers the service: moving costs the reassignment."""
    inst = instance([facility("F1", t=1), facility("F2", s=1)],
                    [case("A", current={"facility": "F1", "week": 0})])
    assert_optimal(inst, 500.0)


def test_tier_cost_and_travel():
    inst = instance([facility("CT", tier="centre", s=1), facility("ST", lat=49.1, s=1)],
                    [case("A")])
    solution = assert_optimal(inst, road_km_along_meridian(0.1))
    assert placed(solution) == [(1, 0)]


# --- determinism and the command line ---------------------------------------------------------

def without_stats(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "stats"}


def test_solving_twice_gives_the_same_plan():
    for seed in (3, 11, 27):
        inst = random_instance(seed)
        first = solution_to_dict(solve(inst), inst)
        again = solution_to_dict(solve(inst), inst)
        assert without_stats(first) == without_stats(again)


def test_the_command_line_solves_to_optimality(tmp_path):
    inst = random_instance(5)
    write_instance(inst, tmp_path / "i.json")
    assert main([str(tmp_path / "i.json"), "-o", str(tmp_path / "s.json")]) == 0
    document = read_solution(tmp_path / "s.json")
    assert document["status"] == "optimal"
    assert close(document["objective"], cpsat_optimum(inst))
    assert check_solution(inst, document) == []


# --- shadow prices -------------------------------------------------------------------------------

def test_one_more_place_for_an_unassigned_child():
    """F1 week 0 has one place and two children want it; F2 is beyond their 100 km. One more place
    at F1 week 0 places the second child: the objective falls by its unassigned cost."""
    inst = instance([facility("F1", s=1), facility("F2", lat=51.0, s=1)],
                    [case("A", priority="child", max_travel_km=100.0),
                     case("B", priority="child", max_travel_km=100.0)])
    solution = assert_optimal(inst, 8 * 10000.0)
    assert sorted(solution.reason.tolist()) == [ASSIGNED, CAPACITY]
    more = assert_optimal(with_capacity(inst, 0, 0, 0, 1), 0.0)
    assert [(f, s, t) for f, s, t, _ in solution.shadow_prices] == [(0, 0, 0)]
    assert close(solution.shadow_prices[0][3], solution.objective - more.objective)
    assert close(solution.shadow_prices[0][3], 80000.0)


def test_one_more_place_moves_a_case_from_a_far_place():
    """Without the limit, B goes to F2 (2 degrees north) instead: one more place at F1 saves
    exactly that road."""
    far = road_km_along_meridian(2.0)
    inst = instance([facility("F1", s=1), facility("F2", lat=51.0, s=1)],
                    [case("A", priority="child"), case("B", priority="child")])
    solution = assert_optimal(inst, far)
    assert [(f, s, t) for f, s, t, _ in solution.shadow_prices] == [(0, 0, 0)]
    assert close(solution.shadow_prices[0][3], far)


@pytest.mark.parametrize("seed", [0, 2, 4, 7, 9, 13, 21, 33])
def test_every_shadow_price_is_the_fall_from_one_more_place(seed):
    inst = random_instance(seed)
    solution = assert_optimal(inst)
    listed = {(f, s, t): v for f, s, t, v in solution.shadow_prices}
    assert all(v > 0 for v in listed.values())
    assert set(listed) <= binding_places(inst, solution)
    for (f, s, t), value in listed.items():
        more = solve(with_capacity(inst, f, s, t, 1))
        assert close(value, solution.objective - more.objective), ((f, s, t), value)


@pytest.mark.parametrize("seed", [0, 2, 4, 7, 9, 13, 21, 33])
def test_an_unlisted_full_place_would_not_lower_the_objective(seed):
    """Only places whose extra intake helps are listed: for a full place that is not listed, one
    more place must leave the optimum where it is."""
    inst = random_instance(seed)
    solution = assert_optimal(inst)
    listed = {(f, s, t) for f, s, t, _ in solution.shadow_prices}
    for f, s, t in sorted(binding_places(inst, solution) - listed):
        more = solve(with_capacity(inst, f, s, t, 1))
        assert close(more.objective, solution.objective), (f, s, t)
