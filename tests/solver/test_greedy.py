"""The first-come-first-served baseline on hand-computed cases, and its plans are valid."""
from __future__ import annotations

import math

import numpy as np
import pytest

from solver import costs
from solver.check import check_solution
from solver.greedy import greedy
from solver.instance import ASSIGNED, CAPACITY, NO_ELIGIBLE_FACILITY, NO_FACILITY
from solver.io import solution_to_dict
from tests.solver.builders import case, facility, instance, random_instance

R = 6371.0088


def road_km_along_meridian(dlat: float) -> float:
    return 1.3 * R * math.radians(dlat)


def placed(solution) -> list:
    return [(int(f), int(t)) if f != NO_FACILITY else None
            for f, t in zip(solution.facility, solution.week, strict=True)]


def test_first_come_first_served_in_file_order():
    """The standard case registered first takes the only place; the child waits in vain."""
    inst = instance([facility("F1", s=1)], [case("A", priority="standard"),
                                            case("B", priority="child")])
    solution = greedy(inst)
    assert placed(solution) == [(0, 0), None]
    assert solution.reason.tolist() == [ASSIGNED, CAPACITY]
    assert solution.objective == 8 * 10000.0
    assert solution.status == "feasible" and solution.bound is None


def test_release_week_comes_before_file_order():
    """B (released week 0) is served before A (released week 1) and takes A's only place."""
    inst = instance([facility("F1", s=[0, 1])], [case("A", release_week=1), case("B")], horizon=2)
    solution = greedy(inst)
    assert placed(solution) == [None, (0, 1)]
    assert solution.objective == 10000.0 + 100.0  # A unassigned, B waited one week


def test_cheapest_place_wait_against_travel():
    """A near place in week 2 (waiting 2 x 100) against a far one now (travel only)."""
    for dlat, expected in ((1.0, (1, 0)), (1.5, (0, 2))):
        far = road_km_along_meridian(dlat)
        inst = instance([facility("NEAR", s=[0, 0, 1]), facility("FAR", lat=49.0 + dlat, s=1)],
                        [case("A")], horizon=3)
        solution = greedy(inst)
        assert placed(solution) == [expected]
        assert solution.objective == pytest.approx(min(far, 200.0), rel=1e-12)


def test_tier_cost_counts():
    """A centre next door (tier cost 50) against a station ~14 km away (travel 1/km)."""
    inst = instance([facility("CT", tier="centre", s=1), facility("ST", lat=49.1, s=1)],
                    [case("A")])
    assert placed(greedy(inst)) == [(1, 0)]
    assert greedy(inst).objective == pytest.approx(road_km_along_meridian(0.1))


def test_reasons():
    inst = instance([facility("F1", s=1, t=0)],
                    [case("nobody_offers", service="x"), case("zero_capacity", service="t"),
                     case("too_far", lat=50.0, max_travel_km=10.0),
                     case("deadline_before_release", release_week=1, deadline_week=0),
                     case("first"), case("second")], horizon=2)
    solution = greedy(inst)
    assert solution.reason.tolist() == [NO_ELIGIBLE_FACILITY] * 4 + [ASSIGNED, ASSIGNED]
    assert placed(solution)[4:] == [(0, 0), (0, 1)]
    inst = instance([facility("F1", s=1)], [case("first"), case("second")])
    assert greedy(inst).reason.tolist() == [ASSIGNED, CAPACITY]


def test_current_place_is_kept_unless_moving_saves_more_than_reassigning():
    """Staying at F1 in week 1 costs 100 of waiting; moving to F2 now costs the reassignment."""
    for reassign, expected in ((500.0, (0, 1)), (50.0, (1, 0))):
        inst = instance([facility("F1", s=[0, 1]), facility("F2", s=[1, 0])],
                        [case("A", current={"facility": "F1", "week": 1})], horizon=2,
                        policy={"reassign_cost": reassign})
        solution = greedy(inst)
        assert placed(solution) == [expected]
        assert solution.objective == min(100.0, reassign)


def test_greedy_costs_agree_with_the_contract_cost():
    """Each case's choice was the cheapest still free by costs.case_costs: replaying the order
    with the contract's cost function gives the same choices."""
    for seed in range(30):
        inst = random_instance(seed)
        solution = greedy(inst)
        c, cap = inst.cases, inst.facilities.capacity.copy()
        n, horizon = len(c), inst.horizon_weeks
        for i in np.lexsort((np.arange(n), c.release)).tolist():
            best, best_cost = None, math.inf
            for f in range(len(inst.facilities)):
                for t in range(horizon):
                    if cap[f, c.service[i], t] > 0 and costs.eligible(inst, [i], [f], [t])[0]:
                        fac = np.full(n, NO_FACILITY)
                        wk = np.full(n, -1)
                        fac[i], wk[i] = f, t
                        cost = costs.case_costs(inst, fac, wk)[i]
                        if cost < best_cost - 1e-9:
                            best, best_cost = (f, t), cost
            assert placed(solution)[i] == best, (seed, i)
            if best is not None:
                cap[best[0], c.service[i], best[1]] -= 1


def test_greedy_plans_pass_the_checker():
    for seed in range(40):
        inst = random_instance(seed)
        solution = greedy(inst)
        assert check_solution(inst, solution_to_dict(solution, inst)) == [], seed
        assert solution.objective == costs.total_cost(inst, solution.facility, solution.week)
        road = solution.road_km[solution.facility != NO_FACILITY]
        assert np.isfinite(road).all()
