"""Small instances for the solver tests, built as contract documents (so they go through the same
validation as files) with short helpers, and seeded random ones."""
from __future__ import annotations

import copy
import dataclasses

import numpy as np

from solver.instance import FORMAT_INSTANCE, Instance
from solver.io import parse_instance


def facility(fid: str, lat: float = 49.0, lon: float = 120.0, tier: str = "station",
             **capacity) -> dict:
    return {"id": fid, "tier": tier, "lat": lat, "lon": lon, "capacity": capacity}


def case(cid: str, service: str = "s", priority: str = "standard", lat: float = 49.0,
         lon: float = 120.0, **fields) -> dict:
    return {"id": cid, "service": service, "priority": priority, "lat": lat, "lon": lon, **fields}


def document(facilities: list[dict], cases: list[dict], horizon: int = 1,
             policy: dict | None = None, name: str = "test") -> dict:
    doc = {"format": FORMAT_INSTANCE, "name": name, "horizon_weeks": horizon,
           "facilities": facilities, "cases": cases}
    if policy is not None:
        doc["policy"] = policy
    return doc


def instance(facilities: list[dict], cases: list[dict], horizon: int = 1,
             policy: dict | None = None) -> Instance:
    return parse_instance(document(facilities, cases, horizon, policy))


def with_capacity(inst: Instance, j: int, s: int, t: int, delta: int) -> Instance:
    """A copy of the instance with one more (or fewer) place at (facility j, service s, week t)."""
    capacity = inst.facilities.capacity.copy()
    capacity[j, s, t] += delta
    return dataclasses.replace(inst, facilities=dataclasses.replace(inst.facilities,
                                                                    capacity=capacity))


def random_document(seed: int, villages: int = 0) -> dict:
    """2-8 facilities, 5-25 cases, 1-4 weeks, 1-3 services within ~100 km: mixed priorities,
    deadlines inside the horizon and before the release, travel limits, current places, zero
    capacities and weeks without capacity. With `villages`, every case lives in one of that many
    places (as in a real region, where a village has many cases), else each at its own."""
    rng = np.random.default_rng(seed)
    village_rng = np.random.default_rng(seed + 1_000)
    places = [(round(49 + village_rng.random() * 0.6, 4),
               round(120 + village_rng.random() * 0.9, 4)) for _ in range(villages)]
    horizon = int(rng.integers(1, 5))
    services = ["autism_training", "physical_training", "hearing_assessment"][:rng.integers(1, 4)]
    facilities = []
    for j in range(int(rng.integers(2, 9))):
        capacity = {}
        for s in services:
            roll = rng.random()
            if roll < 0.3:
                continue
            if roll < 0.65:
                capacity[s] = int(rng.integers(0, 4))
            else:
                capacity[s] = [int(v) for v in rng.choice([0, 0, 1, 2, 3], horizon)]
        facilities.append(facility(f"F{j}", lat=round(49 + rng.random() * 0.6, 4),
                                   lon=round(120 + rng.random() * 0.9, 4),
                                   tier=str(rng.choice(["centre", "station", "clinic"])),
                                   **capacity))
    cases = []
    for i in range(int(rng.integers(5, 26))):
        release = int(rng.integers(0, horizon + 1)) if rng.random() < 0.3 else 0
        fields = {"release_week": release}
        roll = rng.random()
        if roll < 0.2:  # inside the horizon, from the release on
            fields["deadline_week"] = int(rng.integers(release, horizon + 1))
        elif roll < 0.3:  # anywhere, before the release included
            fields["deadline_week"] = int(rng.integers(0, horizon + 2))
        if rng.random() < 0.5:
            fields["max_travel_km"] = float(rng.choice([15.0, 40.0, 80.0]))
        if rng.random() < 0.2:
            fields["current"] = {"facility": f"F{rng.integers(0, len(facilities))}",
                                 "week": int(rng.integers(0, horizon))}
        lat, lon = round(49 + rng.random() * 0.6, 4), round(120 + rng.random() * 0.9, 4)
        if places:
            lat, lon = places[int(village_rng.integers(0, len(places)))]
        cases.append(case(f"C{i:03d}", service=str(rng.choice(services)),
                          priority=str(rng.choice(["child", "severe", "poor", "standard"])),
                          lat=lat, lon=lon, **fields))
    policy = None
    if seed % 3 == 1:  # other prices now and then, zero reassignment cost included
        policy = {"wait_cost_per_week": float(rng.choice([0.0, 10.0, 250.0])),
                  "reassign_cost": float(rng.choice([0.0, 40.0, 2000.0])),
                  "unassigned_cost": float(rng.choice([300.0, 10000.0])),
                  "priority_weights": {"child": 20}}
    return document(facilities, cases, horizon, policy, name=f"random-{seed}")


def random_instance(seed: int, villages: int = 0) -> Instance:
    return parse_instance(copy.deepcopy(random_document(seed, villages)))


def assert_instances_equal(a: Instance, b: Instance) -> None:
    assert (a.name, a.horizon_weeks, a.policy, a.services) == (b.name, b.horizon_weeks,
                                                               b.policy, b.services)
    for part in ("facilities", "cases"):
        x, y = getattr(a, part), getattr(b, part)
        assert x.ids == y.ids
        for field in vars(x):
            if field != "ids":
                u, v = getattr(x, field), getattr(y, field)
                assert u.dtype == v.dtype, (part, field)
                np.testing.assert_array_equal(u, v, err_msg=f"{part}.{field}")


def several_services(seed: int) -> dict:
    """A random document with all three services and cases in a few villages."""
    for attempt in range(seed, seed + 200):
        doc = random_document(attempt, villages=4)
        if len({c["service"] for c in doc["cases"]}) == 3:
            return doc
    raise AssertionError("no document with three services")


def booked(doc: dict) -> tuple[dict, str]:
    """The document after a booking: the first case without a place holds one at a facility
    offering its service (in the first week with capacity)."""
    doc = copy.deepcopy(doc)
    horizon = doc["horizon_weeks"]
    for case in doc["cases"]:
        if case.get("current"):
            continue
        for f in doc["facilities"]:
            capacity = f["capacity"].get(case["service"], 0)
            weeks = capacity if isinstance(capacity, list) else [capacity] * horizon
            open_weeks = [w for w, c in enumerate(weeks) if c > 0]
            if open_weeks:
                case["current"] = {"facility": f["id"], "week": open_weeks[0]}
                return doc, case["service"]
    raise AssertionError("no case could be booked")
