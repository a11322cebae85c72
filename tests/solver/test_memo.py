"""The resident optimiser's memo (solve.ServiceMemo): a service whose problem did not change takes
its last result (exactly a cold solve's plan), a re-plan after one booking or capacity change
solves only the service it touched (from its kept network, replan.py, or from scratch) and is as
cheap as a cold solve; anything else about a service's problem (the policy, a facility's place)
is never taken for the same."""
from __future__ import annotations

import copy

import pytest

from solver.check import check_solution
from solver.io import parse_instance, solution_to_dict
from solver.solve import ServiceMemo, solve
from tests.solver.builders import booked, several_services
from tests.solver.oracle import close

SEEDS = [0, 2, 4, 7, 9, 13, 21, 33]


def plan(doc: dict, memo: ServiceMemo | None = None) -> tuple[dict, dict]:
    inst = parse_instance(copy.deepcopy(doc))
    document = solution_to_dict(solve(inst, workers=1, memo=memo), inst)
    assert check_solution(inst, document) == []
    return document, document.pop("stats")


def as_cheap(replanned: dict, cold: dict) -> bool:
    return (replanned["status"] == cold["status"] == "optimal"
            and close(replanned["objective"], cold["objective"]))


@pytest.mark.parametrize("seed", SEEDS)
def test_a_replan_after_a_booking_solves_only_its_service_as_cheap_as_a_cold_solve(seed):
    doc = several_services(seed)
    memo = ServiceMemo()
    first, _ = plan(doc, memo)
    # A first solve with a memo is the plain solve (the app's plan is `rehab-net solve`'s).
    assert first == plan(doc)[0]
    again, stats = plan(doc, memo)
    assert again == first and stats["services_reused"] == 3
    changed, service = booked(doc)
    replanned, stats = plan(changed, memo)
    assert as_cheap(replanned, plan(changed)[0])
    assert stats["services_reused"] == 2  # all but the booking's service


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_a_capacity_change_is_a_new_problem_for_its_service_only(seed):
    doc = several_services(seed)
    memo = ServiceMemo()
    plan(doc, memo)
    changed = copy.deepcopy(doc)
    facility = next(f for f in changed["facilities"] if f["capacity"])
    service = sorted(facility["capacity"])[0]
    value = facility["capacity"][service]
    facility["capacity"][service] = ([v + 1 for v in value] if isinstance(value, list)
                                     else value + 1)
    replanned, stats = plan(changed, memo)
    assert as_cheap(replanned, plan(changed)[0])
    assert stats["services_reused"] == 2


def test_other_prices_or_another_place_of_a_facility_reuse_nothing():
    doc = several_services(5)
    memo = ServiceMemo()
    plan(doc, memo)
    pricier = copy.deepcopy(doc)
    pricier["policy"] = {**pricier.get("policy", {}), "wait_cost_per_week": 777.0}
    assert plan(pricier, memo)[1]["services_reused"] == 0
    moved = copy.deepcopy(doc)
    moved["facilities"][0]["lat"] += 0.01
    assert plan(moved, memo)[1]["services_reused"] == 0
    assert as_cheap(plan(moved, memo)[0], plan(moved)[0])


def test_the_memo_keeps_only_its_newest_results():
    memo = ServiceMemo(size=3)
    doc = several_services(7)
    plan(doc, memo)  # three services
    plan(booked(doc)[0], memo)  # one more result: the oldest goes
    assert len(memo._parts) == 3


def test_kept_networks_stay_within_their_arcs_budget(monkeypatch):
    """The networks kept for re-plans are dropped oldest first beyond the budget of arcs (a
    province's would take GBs); the newest is always kept."""
    from solver import replan

    doc = several_services(7)
    memo = ServiceMemo()
    plan(doc, memo)
    assert len(memo._states) >= 2
    monkeypatch.setattr(replan, "KEPT_ARCS", 1)
    plan(booked(doc)[0], memo)
    assert len(memo._states) == 1


def test_networks_solved_in_the_pool_are_kept_and_replanned_from(monkeypatch):
    """Services solved in forked pool workers send their networks back; the next re-plan goes
    on from them in the parent, as cheap as a cold solve."""
    import solver.solve as solve_module

    monkeypatch.setattr(solve_module, "PARALLEL_FROM_CASES", 0)
    doc = several_services(9)
    memo = ServiceMemo()
    inst = parse_instance(copy.deepcopy(doc))
    first = solution_to_dict(solve(inst, workers=2, memo=memo), inst)
    assert first["status"] == "optimal" and memo._states
    changed, _service = booked(doc)
    inst = parse_instance(copy.deepcopy(changed))
    replanned = solution_to_dict(solve(inst, workers=2, memo=memo), inst)
    assert check_solution(inst, replanned) == []
    assert replanned["stats"]["services_reused"] == 2
    assert as_cheap(replanned, plan(changed)[0])
