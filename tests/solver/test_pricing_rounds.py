"""The pricing rounds: a solve that starts from one candidate facility per group and adds one per
group and round must still end at the exact optimum of ALL eligible options (or within the
contract's 1e-4 when it stops on the certified gap), with the shadow prices of the full problem;
and the entry costs kept between rounds equal the ones computed afresh."""
from __future__ import annotations

import numpy as np
import pytest

import solver.pricing as pricing
import solver.solve as solve_module
from solver.check import check_solution
from solver.costs import facility_cost, road_km_between
from solver.groups import group_cases
from solver.io import solution_to_dict
from solver.model import INFINITE, Prices, Reach
from solver.solve import OPTIMALITY_GAP, solve
from tests.solver.builders import random_instance, with_capacity
from tests.solver.oracle import binding_places, close, cpsat_optimum

SEEDS = [0, 2, 4, 7, 9, 13, 21, 33]


@pytest.fixture(params=["chains", "direct arcs"])
def few_candidates(monkeypatch, request):
    """One candidate facility per group to start with and one more per group and round: the
    network starts far from the full problem, so the rounds and their certificate do the work.
    Once with weekly chains for every service, once with candidates as single direct arcs (what
    services with abundant places get)."""
    monkeypatch.setattr(solve_module, "FIRST_PER_GROUP", 1)
    monkeypatch.setattr(solve_module, "ADDED_PER_GROUP", 1)
    monkeypatch.setattr(solve_module, "ABUNDANT_PLACES_PER_CASE",
                        0.0 if request.param == "direct arcs" else float("inf"))


@pytest.fixture
def exact_stop(monkeypatch):
    monkeypatch.setattr(solve_module, "STOP_GAP", 0.0)


def certified(inst, solution) -> None:
    assert solution.status == "optimal", solution.message
    assert check_solution(inst, solution_to_dict(solution, inst)) == []
    assert solution.bound <= solution.objective
    assert solution.objective - solution.bound <= OPTIMALITY_GAP * abs(solution.objective) + 1e-6


@pytest.mark.parametrize("seed", range(16))
def test_the_gap_stop_is_certified_within_the_contract(few_candidates, seed):
    inst = random_instance(seed)
    solution = solve(inst)
    certified(inst, solution)
    exact = cpsat_optimum(inst)
    assert solution.bound <= exact + 0.01
    assert solution.objective <= exact + OPTIMALITY_GAP * abs(exact) + 0.01


@pytest.mark.parametrize("seed", SEEDS)
def test_rounds_to_the_end_reach_the_exact_optimum(few_candidates, exact_stop, seed):
    inst = random_instance(seed)
    solution = solve(inst)
    certified(inst, solution)
    assert close(solution.objective, cpsat_optimum(inst))


@pytest.mark.parametrize("seed", SEEDS)
def test_shadow_prices_are_those_of_the_full_problem(few_candidates, exact_stop, seed):
    """Each listed value is the fall of the optimum with one more place, and a full place not
    listed would not lower it, although the final network holds only some of the pairs."""
    inst = random_instance(seed)
    solution = solve(inst)
    listed = {(f, s, t): v for f, s, t, v in solution.shadow_prices}
    for f, s, t in sorted(binding_places(inst, solution)):
        more = solve(with_capacity(inst, f, s, t, 1))
        assert close(listed.get((f, s, t), 0.0), solution.objective - more.objective), (f, s, t)


def defined_entry_costs(inst, groups, prices, g, facilities):
    """The entry cost of groups g x facilities straight from the cost definition (costs.py), one
    group at a time: INFINITE beyond the group's travel limit."""
    p, f = inst.policy, inst.facilities
    road = road_km_between(p, groups.lat[g][:, None], groups.lon[g][:, None],
                           f.lat[facilities][None, :], f.lon[facilities][None, :])
    cost = prices.money(facility_cost(p, road, f.tier[facilities][None, :])
                        + prices.reassign[g][:, None])
    return np.where(road <= groups.max_travel_km[g][:, None], cost, INFINITE)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("cached_pairs", [pricing.CACHED_PAIRS, 0])
@pytest.mark.parametrize("villages", [0, 3])
def test_entry_costs_per_location_equal_the_definition(monkeypatch, seed, cached_pairs,
                                                       villages):
    """Kept per (place, holds a place) location with the travel limit each pair needs, cached
    or computed chunk by chunk, the entry costs are those of every group computed on its own:
    with each case at its own place, and with the cases of three villages (groups with other
    priorities, travel limits and current places sharing a location)."""
    monkeypatch.setattr(pricing, "CACHED_PAIRS", cached_pairs)
    monkeypatch.setattr(pricing, "PAIRS_PER_CHUNK", 7)  # chunks of a few groups, cut anywhere
    inst = random_instance(seed, villages)
    groups = group_cases(inst)
    prices = Prices.of(inst, groups)
    reach = Reach(inst)
    entries = pricing.EntryCosts(inst, groups, prices, reach)
    bounds = pricing.service_ranges(groups, len(inst.services))
    checked = 0
    for s in range(len(inst.services)):
        lo, hi = int(bounds[s]), int(bounds[s + 1])
        if lo == hi or reach.facilities[s].size == 0:
            continue
        assert (s in entries.cached) == (cached_pairs > 0)
        expected = defined_entry_costs(inst, groups, prices, np.arange(lo, hi),
                                       reach.facilities[s])
        assert np.array_equal(entries.of(s, lo, hi), expected)
        if villages:  # (place, holds a place): at most two locations a village
            assert entries.points[s].shape[0] <= 2 * villages
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_cases_of_a_few_villages_get_the_exact_optimum(few_candidates, seed):
    """Many groups at one place share their entry costs: the plan is still the optimum of ALL
    eligible options (an independent CP-SAT model), certified."""
    inst = random_instance(seed, villages=3)
    solution = solve(inst)
    certified(inst, solution)
    assert close(solution.objective, cpsat_optimum(inst))


@pytest.mark.parametrize("seed", SEEDS)
def test_uncached_entry_costs_give_the_same_plan(monkeypatch, seed):
    inst = random_instance(seed)
    cached = solution_to_dict(solve(inst, workers=1), inst)
    monkeypatch.setattr(pricing, "CACHED_PAIRS", 0)
    again = solution_to_dict(solve(inst, workers=1), inst)
    cached.pop("stats"), again.pop("stats")
    assert again == cached


def test_a_negative_cycle_is_found_without_a_round_per_node():
    """A long path out of the root and a negative cycle at its end: the parent pointers show the
    cycle long before the num_nodes rounds of relaxation that would prove it otherwise."""
    from solver.potentials import NegativeCycle, distances_from, parents_have_cycle

    n = 2_000
    src = np.r_[np.arange(n - 1), n - 1]
    dst = np.r_[np.arange(1, n), n - 2]
    weight = np.r_[np.ones(n - 1, dtype=np.int64), -5]
    with pytest.raises(NegativeCycle):
        distances_from(0, n, src, dst, weight)
    assert not parents_have_cycle(np.r_[-1, np.arange(n - 1)], 0)
    looped = np.r_[-1, np.arange(n - 1)]
    looped[n - 2] = n - 1  # n-2 <- n-1 <- n-2
    assert parents_have_cycle(looped, 0)
