"""Which (group, facility) pairs belong in the network, decided with the capacity duals.

With a dual price v >= 0 on every place (facility, service, week), the cheapest way for group g to
start, counting the price of the place it takes, is
    u(g) = min( unassigned(g),  current place,  min over eligible f of
                entry_cost(g, f) + min over weeks t of [wait x (t - release) + v(f, s, t)] ).
For ANY v >= 0, sum_g size(g) u(g) - sum capacity x v is a lower bound of the optimum (Lagrangian
relaxation of the capacity limits). With v the optimal duals of the network over candidate pairs,
it equals that network's optimum unless some pair outside it is cheaper than every pair inside:
exactly the pairs to add. So one scan over ALL eligible pairs both proves optimality and says what
is missing; nothing about the eligible set is ever assumed."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solver.costs import haversine_km
from solver.groups import Groups, has_current
from solver.instance import Instance
from solver.model import INFINITE, Prices, Reach, entry_costs, start_offsets

PAIRS_PER_CHUNK = 2_000_000  # group x facility values held at once


@dataclass
class Offsets:
    """Per service: the facilities that can deliver it, and per start class (priority, release,
    last week) of its groups the cheapest wait + place price at each of those facilities."""

    facilities: list[np.ndarray]  # by service
    column: np.ndarray  # (services, facilities) column of a facility in its service's matrix
    group_class: np.ndarray  # per group: row in its service's matrix
    matrix: list[np.ndarray]  # by service: (classes, facilities of the service) int64
    prices: Prices


def service_ranges(groups: Groups, num_services: int) -> np.ndarray:
    """Groups are sorted by service: the groups of service s are range(bounds[s], bounds[s+1])."""
    return np.searchsorted(groups.service, np.arange(num_services + 1))


def offsets(instance: Instance, groups: Groups, prices: Prices, reach: Reach,
            place_value: np.ndarray) -> Offsets:
    num_services = len(instance.services)
    capacity = instance.facilities.capacity
    bounds = service_ranges(groups, num_services)
    column = np.full((num_services, len(instance.facilities)), -1, dtype=np.int64)
    group_class = np.zeros(len(groups), dtype=np.int64)
    matrices = []
    for s in range(num_services):
        facilities = reach.facilities[s]
        column[s, facilities] = np.arange(facilities.size)
        g = np.arange(bounds[s], bounds[s + 1])
        keys = np.stack([groups.priority[g], groups.release[g], groups.last[g]], axis=1)
        classes, which = np.unique(keys, axis=0, return_inverse=True)
        group_class[g] = which.ravel()
        rows = [start_offsets(capacity[facilities, s, :], place_value[facilities, s, :],
                              int(prices.wait[p]), int(r), int(last))
                for p, r, last in classes]
        matrices.append(np.stack(rows) if rows else np.zeros((0, facilities.size), np.int64))
    return Offsets(reach.facilities, column, group_class, matrices, prices)


def pair_values(groups: Groups, offs: Offsets, g: np.ndarray, f: np.ndarray,
                cost: np.ndarray) -> np.ndarray:
    """entry cost + wait + place price of candidate pairs (INFINITE if no week is possible)."""
    s = groups.service[g]
    value = np.full(g.size, INFINITE, dtype=np.int64)
    for service in np.unique(s):
        on = s == service
        m = offs.matrix[service][offs.group_class[g[on]], offs.column[service, f[on]]]
        value[on] = np.minimum(cost[on] + m, INFINITE)
    return value


def current_values(instance: Instance, groups: Groups, prices: Prices,
                   place_value: np.ndarray, current: tuple) -> np.ndarray:
    """Per group: the value of keeping its current place (INFINITE when it has none or when that
    place is not eligible). `current` = (group, cost without reassign) of eligible current
    places."""
    value = np.full(len(groups), INFINITE, dtype=np.int64)
    g, cost = current
    f, w = groups.current_facility[g], groups.current_week[g]
    value[g] = (cost + prices.wait[groups.priority[g]] * (w - groups.release[g])
                + place_value[f, groups.service[g], w])
    return value


@dataclass
class Scan:
    best: np.ndarray  # u(g) over ALL eligible pairs (and unassigned, current place)
    any_eligible: np.ndarray  # per group: some facility and week is eligible
    new_group: np.ndarray  # pairs cheaper than `limit`, at most `per_group` per group
    new_facility: np.ndarray
    new_cost: np.ndarray  # their entry cost (travel + tier + reassign), scaled


def scan(instance: Instance, groups: Groups, offs: Offsets, outside: np.ndarray,
         limit: np.ndarray, per_group: int) -> Scan:
    """Every eligible (group, facility) pair, in chunks of groups of one service. `outside` is
    each group's value of the options that are not pairs: unassigned, or its current place."""
    bounds = service_ranges(groups, len(instance.services))
    best = outside.copy()
    any_eligible = np.zeros(len(groups), dtype=bool)
    found_g, found_f, found_c = [], [], []
    for s in range(len(instance.services)):
        facilities = offs.facilities[s]
        if facilities.size == 0 or bounds[s] == bounds[s + 1]:
            continue
        step = max(1, PAIRS_PER_CHUNK // facilities.size)
        for lo in range(bounds[s], bounds[s + 1], step):
            g = np.arange(lo, min(lo + step, bounds[s + 1]))
            cost, within = entry_costs(instance, groups, offs.prices, g, facilities)
            value = cost + offs.matrix[s][offs.group_class[g]]
            value[~within | (value >= INFINITE)] = INFINITE
            row_min = value.min(axis=1)
            any_eligible[g] |= row_min < INFINITE
            best[g] = np.minimum(best[g], row_min)
            below = value < limit[g][:, None]
            if not below.any():
                continue
            if per_group < facilities.size:
                # Keep only the `per_group` cheapest of each group.
                keep = np.argpartition(value, per_group - 1, axis=1)[:, :per_group]
                mask = np.zeros_like(below)
                np.put_along_axis(mask, keep, True, axis=1)
                below &= mask
            rows, cols = np.nonzero(below)
            found_g.append(g[rows])
            found_f.append(facilities[cols])
            found_c.append(cost[rows, cols])
    empty = np.zeros(0, dtype=np.int64)
    return Scan(best, any_eligible,
                np.concatenate(found_g) if found_g else empty,
                np.concatenate(found_f) if found_f else empty,
                np.concatenate(found_c) if found_c else empty)


def eligible_current(instance: Instance, groups: Groups,
                     prices: Prices) -> tuple[np.ndarray, np.ndarray]:
    """Groups whose current place is eligible, and the scaled cost of staying (no reassign)."""
    p, f = instance.policy, instance.facilities
    g = np.flatnonzero(has_current(groups))
    cf, cw = groups.current_facility[g], groups.current_week[g]
    road = p.road_factor * haversine_km(groups.lat[g], groups.lon[g], f.lat[cf], f.lon[cf])
    ok = ((f.capacity[cf, groups.service[g], cw] > 0) & (cw >= groups.release[g])
          & (cw <= groups.last[g]) & (road <= groups.max_travel_km[g]))
    g, cf, road = g[ok], cf[ok], road[ok]
    cost = prices.money(p.travel_cost_per_km * road + np.asarray(p.tier_cost)[f.tier[cf]])
    return g, cost
