"""Re-plans from the kept network of the last solve (solver/replan.py): after any sequence of the
changes that happen between two plans (bookings, cancellations, more or fewer places, new and
finished cases) each re-plan is a valid plan, proven optimal, as cheap as a solve from scratch,
with the same shadow prices; and the warm path is really taken."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from solver.check import check_solution
from solver.io import parse_instance, solution_to_dict
from solver.solve import ServiceMemo, solve
from tests.solver.builders import random_document
from tests.solver.oracle import close

SEEDS = list(range(24))
STEPS = 6


def weeks_of(facility: dict, service: str, horizon: int) -> list[int]:
    value = facility["capacity"].get(service, 0)
    return list(value) if isinstance(value, list) else [value] * horizon


def one_change(doc: dict, rng: np.random.Generator) -> dict:
    """The document after one random change of the kinds that happen between two plans."""
    doc = copy.deepcopy(doc)
    horizon = doc["horizon_weeks"]
    cases, facilities = doc["cases"], doc["facilities"]
    kind = rng.choice(["book", "cancel", "more", "fewer", "new case", "case done"])
    if kind == "book":
        free = [c for c in cases if not c.get("current")]
        if free:
            case = free[int(rng.integers(len(free)))]
            offering = [(f, w) for f in facilities
                        for w, n in enumerate(weeks_of(f, case["service"], horizon)) if n > 0]
            if offering:
                f, w = offering[int(rng.integers(len(offering)))]
                case["current"] = {"facility": f["id"], "week": w}
    elif kind == "cancel":
        held = [c for c in cases if c.get("current")]
        if held:
            held[int(rng.integers(len(held)))]["current"] = None
    elif kind in ("more", "fewer"):
        f = facilities[int(rng.integers(len(facilities)))]
        if f["capacity"]:
            service = sorted(f["capacity"])[int(rng.integers(len(f["capacity"])))]
            delta = int(rng.integers(1, 3)) * (1 if kind == "more" else -1)
            f["capacity"][service] = [max(0, n + delta)
                                      for n in weeks_of(f, service, horizon)]
    elif kind == "new case":
        like = cases[int(rng.integers(len(cases)))]
        new = {**copy.deepcopy(like), "id": f"N{len(cases):03d}-{int(rng.integers(10**6))}"}
        if rng.random() < 0.5:  # elsewhere in the village's surroundings
            new["lat"] = round(new["lat"] + 0.01, 4)
        cases.append(new)
    elif len(cases) > 2:
        cases.pop(int(rng.integers(len(cases))))
    return doc


def prices_of(document: dict) -> dict:
    return {(p["facility"], p["service"], p["week"]): p["value"]
            for p in document["shadow_prices"]}


def solved(doc: dict, memo: ServiceMemo | None = None):
    inst = parse_instance(copy.deepcopy(doc))
    solution = solve(inst, workers=1, memo=memo)
    document = solution_to_dict(solution, inst)
    assert check_solution(inst, document) == []
    return document


@pytest.mark.parametrize("villages", [0, 3])
def test_replans_after_random_changes_are_as_cheap_as_cold_solves(villages):
    warm_replans = 0
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        doc = random_document(seed, villages)
        memo = ServiceMemo()
        solved(doc, memo)
        for _ in range(STEPS):
            doc = one_change(doc, rng)
            replanned = solved(doc, memo)
            cold = solved(doc)
            assert replanned["status"] == cold["status"] == "optimal", seed
            assert close(replanned["objective"], cold["objective"]), (seed, doc)
            assert prices_of(replanned) == pytest.approx(prices_of(cold)), seed
            warm_replans += replanned["stats"]["services_replanned"]
    # Most changes touch a service whose network was kept: the warm path did the work.
    assert warm_replans >= len(SEEDS) * STEPS // 3
