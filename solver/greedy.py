"""First come, first served: the baseline the optimiser is measured against, and what a waiting
list does without it. Cases in order of release week, then of registration (file order); each takes
its cheapest eligible (facility, week) under the contract's cost that still has a place, or stays
unassigned.

Capacities are per (facility, service, week), so services never compete: each service is run on
its own, which gives the same plan as one pass over all cases and keeps the per-case work to the
facilities that offer that service."""
from __future__ import annotations

import time

import numpy as np

from solver import costs
from solver.instance import (
    ASSIGNED,
    CAPACITY,
    NO_ELIGIBLE_FACILITY,
    NO_FACILITY,
    Instance,
    Solution,
)


def greedy(instance: Instance) -> Solution:
    start = time.perf_counter()
    c = instance.cases
    n = len(c)
    facility = np.full(n, NO_FACILITY, dtype=np.int32)
    week = np.full(n, -1, dtype=np.int32)
    reason = np.full(n, NO_ELIGIBLE_FACILITY, dtype=np.int8)
    order = np.lexsort((np.arange(n), c.release))  # release week, then file order
    for s in range(len(instance.services)):
        cases = order[c.service[order] == s]
        if cases.size:
            _serve(instance, s, cases, facility, week, reason)
    placed = facility != NO_FACILITY
    road = np.full(n, np.nan)
    if placed.any():
        road[placed] = costs.road_km(instance, np.flatnonzero(placed), facility[placed])
    objective = costs.total_cost(instance, facility, week)
    return Solution(instance=instance.name, status="feasible", objective=objective, bound=None,
                    facility=facility, week=week, road_km=road, reason=reason,
                    stats={"method": "greedy (first come, first served)", "cases": n,
                           "assigned": int(placed.sum()),
                           "seconds": round(time.perf_counter() - start, 3)})


# Cached facility lists are dropped beyond this many entries in all (about 240 MB).
CACHE_ENTRIES = 20_000_000


def _serve(instance: Instance, s: int, cases: np.ndarray, facility, week, reason) -> None:
    """Give each case of service s, in the given order, its cheapest place still free."""
    c, p = instance.cases, instance.policy
    horizon = instance.horizon_weeks
    offering = np.flatnonzero((instance.facilities.capacity[:, s, :] > 0).any(axis=1))
    if not offering.size:
        return  # nobody offers it: every case keeps NO_ELIGIBLE_FACILITY
    offered = instance.facilities.capacity[offering, s, :] > 0  # eligibility ignores usage
    left = instance.facilities.capacity[offering, s, :].astype(np.int64)
    tiers = instance.facilities.tier[offering]
    weights = costs.weights(instance)
    position = np.full(len(instance.facilities), -1)  # facility index -> row in `offering`
    position[offering] = np.arange(offering.size)
    # Cases of a village share their distances: cache, per place and travel limit, the facilities
    # within reach and their travel + tier cost.
    reach: dict[tuple[float, float, float], tuple[np.ndarray, np.ndarray]] = {}
    cached = 0
    waits: dict[tuple[float, int], np.ndarray] = {}

    last = np.minimum(c.deadline[cases], horizon - 1).tolist()
    for i, first, final, lat, lon, limit in zip(
            cases.tolist(), c.release[cases].tolist(), last, c.lat[cases].tolist(),
            c.lon[cases].tolist(), c.max_travel_km[cases].tolist(), strict=True):
        if first > final:
            continue  # empty window (a deadline before the release, or a release past H)
        key = (lat, lon, limit)
        if key not in reach:
            road = costs.road_km(instance, i, offering)
            near = np.flatnonzero(road <= limit)
            entry = (near, costs.facility_cost(p, road[near], tiers[near]))
            if cached < CACHE_ENTRIES:
                reach[key] = entry
                cached += near.size + 1
        else:
            entry = reach[key]
        near, base = entry
        if not near.size:
            continue
        free = left[near, first:final + 1] > 0
        if not free.any():
            if offered[near, first:final + 1].any():
                reason[i] = CAPACITY
            continue
        # Cost of each (facility, week): travel + tier, + waiting, + reassignment unless it is
        # the place the case already holds (the tests check this against costs.case_costs).
        wait_key = (float(weights[i]), final - first + 1)
        if wait_key not in waits:
            waits[wait_key] = costs.wait_cost(p, wait_key[0], np.arange(wait_key[1]))
        cost = base[:, None] + waits[wait_key][None, :]
        current = c.current_facility[i]
        if current != NO_FACILITY:
            cost += p.reassign_cost
            row = np.flatnonzero(near == position[current]) if position[current] >= 0 else []
            t = c.current_week[i] - first
            if len(row) and 0 <= t <= final - first:
                cost[row[0], t] -= p.reassign_cost
        cost[~free] = np.inf
        k, t = divmod(int(np.argmin(cost)), cost.shape[1])  # ties: lowest facility, then week
        left[near[k], first + t] -= 1
        facility[i], week[i], reason[i] = offering[near[k]], first + t, ASSIGNED
