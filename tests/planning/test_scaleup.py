"""The scale-up ranking agrees with solving each candidate separately on the whole instance."""
from __future__ import annotations

import random

import pytest

from rehab_net.planning import changes, scaleup

SERVICES = ("autism_training", "hearing_training")


def instance(seed: int = 7) -> dict:
    rng = random.Random(seed)
    facilities = [{"id": f"F{i}", "tier": "centre" if i < 2 else "station",
                   "lat": 48 + rng.random() * 3, "lon": 116 + rng.random() * 6,
                   "capacity": {s: rng.randint(0, 2) for s in SERVICES}} for i in range(6)]
    cases = [{"id": f"C{i:03d}", "service": rng.choice(SERVICES),
              "priority": rng.choice(("child", "severe", "poor", "standard")),
              "lat": 48 + rng.random() * 3, "lon": 116 + rng.random() * 6}
             for i in range(60)]
    return {"format": "rehab-net.instance/1", "name": "t", "horizon_weeks": 4,
            "policy": {"priority_weights": {"child": 8, "severe": 4, "poor": 2, "standard": 1},
                       "wait_cost_per_week": 100.0, "travel_cost_per_km": 1.0,
                       "road_factor": 1.3, "unassigned_cost": 10000.0,
                       "tier_cost": {"centre": 50.0, "station": 0.0, "clinic": 0.0},
                       "reassign_cost": 500.0},
            "facilities": facilities, "cases": cases}


def test_ranking_agrees_with_solving_each_candidate_on_the_whole_instance():
    full = instance()
    service = "autism_training"
    sub = scaleup.sub_instance(full, service)
    candidates = (scaleup.candidates_add_places(sub, service, 2)
                  + scaleup.candidates_open_station(service, 2, [
                      {"code": "T1", "lat": 49.0, "lon": 118.0},
                      {"code": "T2", "lat": 50.5, "lon": 121.5}]))
    result = scaleup.rank(full, service, candidates, workers=2)
    assert_gains_agree_with_whole_solves(full, result)
    gains = [r["objective_gain"] for r in result["ranking"]]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0
    assert all(r["status"] == "optimal" for r in result["ranking"])


def assert_gains_agree_with_whole_solves(full: dict, result: dict) -> None:
    whole_base = scaleup._solve(full)["objective"]
    for row in result["ranking"]:
        changed, _ = changes.apply(full, row["changes"], {})
        whole = scaleup._solve(changed)["objective"]
        assert abs((whole_base - whole) - row["objective_gain"]) < 1e-3 * max(1, whole_base)


def test_the_warm_sweep_and_solving_each_candidate_alone_rank_alike(monkeypatch):
    """Rises of capacity go through the optimiser's warm sweep; the same candidates solved
    one by one from scratch give the same gains and order."""
    full = instance(seed=11)
    service = "hearing_training"
    sub = scaleup.sub_instance(full, service)
    candidates = (scaleup.candidates_add_places(sub, service, 1)
                  + scaleup.candidates_open_station(service, 3, [
                      {"code": "T1", "lat": 49.5, "lon": 119.0}]))
    warm = scaleup.rank(full, service, candidates, workers=1)
    monkeypatch.setattr(scaleup, "_warm_sweep", lambda *args: None)
    alone = scaleup.rank(full, service, candidates, workers=1)
    assert ([(r["candidate"], r["objective_gain"]) for r in warm["ranking"]]
            == [(r["candidate"], r["objective_gain"]) for r in alone["ranking"]])
    assert warm["baseline"]["objective"] == pytest.approx(alone["baseline"]["objective"])


def test_a_candidate_that_lowers_a_capacity_is_solved_on_its_own(monkeypatch):
    """The warm sweep only raises capacities; a ranking with a cut in it is solved candidate
    by candidate, and is right."""
    full = instance()
    service = "autism_training"
    sub = scaleup.sub_instance(full, service)
    offering = next(f["id"] for f in sub["facilities"] if f["capacity"][service])
    cut = {"label": "cut", "changes": [{"kind": "capacity", "facility": offering,
                                        "service": service, "delta": -1}]}
    alone = []
    each_alone = scaleup._each_alone
    monkeypatch.setattr(scaleup, "_each_alone", lambda *a: alone.append(1) or each_alone(*a))
    result = scaleup.rank(full, service, [cut, *scaleup.candidates_add_places(sub, service, 1)],
                          workers=1)
    assert alone == [1]
    assert_gains_agree_with_whole_solves(full, result)
    assert any(r["candidate"] == "cut" and r["objective_gain"] <= 0 for r in result["ranking"])
