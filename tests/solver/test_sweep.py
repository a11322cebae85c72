"""The warm sweep (solver/sweep.py): every candidate's plan, found by raising capacities on the
baseline's network and re-optimising from its basis, is a valid plan of the candidate's own
problem and as cheap as solving that problem from scratch (and as an independent CP-SAT model);
the baseline is the plain optimum, and a candidate leaves nothing behind for the next one."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import solver.solve as solve_module
from solver.costs import eligible, total_cost
from solver.instance import NO_FACILITY
from solver.io import parse_instance
from solver.solve import solve
from solver.sweep import sweep
from tests.solver.builders import random_document
from tests.solver.oracle import close, cpsat_optimum

SEEDS = [0, 1, 2, 4, 7, 9, 13, 21, 33, 40]


def one_service(seed: int, villages: int) -> dict:
    """The random document's busiest service alone, plus a new station without places (what
    an "open a station here" candidate adds)."""
    doc = random_document(seed, villages)
    counts: dict[str, int] = {}
    for c in doc["cases"]:
        counts[c["service"]] = counts.get(c["service"], 0) + 1
    service = max(sorted(counts), key=counts.get)
    doc["cases"] = [c for c in doc["cases"] if c["service"] == service]
    # Facilities without the service stay (cases may hold a place there), without places.
    doc["facilities"] = [{**f, "capacity": {service: f["capacity"].get(service, 0)}}
                         for f in doc["facilities"]]
    doc["facilities"].append({"id": "NEW", "tier": "station", "lat": 49.3, "lon": 120.4,
                              "capacity": {service: 0}})
    return doc


def candidates_of(inst, rng) -> list[list[tuple[int, np.ndarray]]]:
    """One or two more places every week at each facility, the new station opened, and two
    facilities raised at once, some only in one week."""
    capacity = inst.facilities.capacity[:, 0, :]
    out = [[(f, capacity[f] + int(rng.integers(1, 3)))] for f in range(capacity.shape[0])]
    one_week = capacity[0].copy()
    one_week[-1] += 3
    out.append([(0, one_week), (capacity.shape[0] - 1, capacity[-1] + 1)])
    return out


def with_rows(inst, rows):
    changed = copy.deepcopy(inst)
    for f, row in rows:
        changed.facilities.capacity[f, 0, :] = row
    return changed


def assert_valid_plan(inst, plan) -> None:
    placed = np.flatnonzero(plan.facility != NO_FACILITY)
    assert eligible(inst, placed, plan.facility[placed], plan.week[placed]).all()
    used = np.zeros(inst.facilities.capacity.shape[0::2], dtype=np.int64)
    np.add.at(used, (plan.facility[placed], plan.week[placed]), 1)
    assert (used <= inst.facilities.capacity[:, 0, :]).all()
    assert close(plan.objective, total_cost(inst, plan.facility, plan.week))
    assert plan.proven


@pytest.fixture(params=["chains", "direct arcs"])
def network_kind(monkeypatch, request):
    """Once with weekly chains, once with candidates as single direct arcs (abundant places),
    and few first candidates, so that the candidates' own pricing rounds do the work."""
    monkeypatch.setattr(solve_module, "FIRST_PER_GROUP", 1)
    monkeypatch.setattr(solve_module, "ADDED_PER_GROUP", 1)
    monkeypatch.setattr(solve_module, "ABUNDANT_PLACES_PER_CASE",
                        0.0 if request.param == "direct arcs" else float("inf"))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("villages", [0, 3])
def test_each_candidate_is_the_optimum_of_its_own_problem(network_kind, seed, villages):
    inst = parse_instance(one_service(seed, villages))
    candidates = candidates_of(inst, np.random.default_rng(seed))
    baseline, plans = sweep(inst, candidates)
    assert_valid_plan(inst, baseline)
    assert close(baseline.objective, solve(inst, workers=1).objective)
    for rows, plan in zip(candidates, plans, strict=True):
        changed = with_rows(inst, rows)
        assert_valid_plan(changed, plan)
        assert close(plan.objective, solve(changed, workers=1).objective), rows
    # Nothing of a candidate stays behind: the instance's capacities are the baseline's again.
    assert (inst.facilities.capacity == parse_instance(
        one_service(seed, villages)).facilities.capacity).all()


@pytest.mark.parametrize("seed", SEEDS[:5])
def test_candidates_agree_with_an_independent_model(seed):
    inst = parse_instance(one_service(seed, villages=3))
    candidates = candidates_of(inst, np.random.default_rng(seed))
    _, plans = sweep(inst, candidates)
    for rows, plan in zip(candidates, plans, strict=True):
        assert close(plan.objective, cpsat_optimum(with_rows(inst, rows))), rows


def test_forked_workers_give_the_same_plans():
    inst = parse_instance(one_service(9, villages=3))
    candidates = candidates_of(inst, np.random.default_rng(9))
    one = sweep(inst, candidates, workers=1)
    two = sweep(inst, candidates, workers=2)
    for a, b in zip([one[0], *one[1]], [two[0], *two[1]], strict=True):
        assert a.objective == b.objective
        assert (a.facility == b.facility).all() and (a.week == b.week).all()


def test_a_candidate_that_lowers_a_capacity_is_refused():
    inst = parse_instance(one_service(2, villages=0))
    lower = inst.facilities.capacity[0, 0, :] - 1
    with pytest.raises(ValueError, match="only raise"):
        sweep(inst, [[(0, lower)]])
