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
from numba import njit

from solver.costs import facility_cost, road_km_between
from solver.groups import Groups, has_current
from solver.instance import Instance
from solver.model import INFINITE, Prices, Reach

PAIRS_PER_CHUNK = 2_000_000  # group x facility values held at once
# Location x facility entry costs kept between rounds (9 bytes each: the cost and the travel
# limit it needs); a service beyond it computes its locations' rows chunk by chunk in each round.
CACHED_PAIRS = 40_000_000


class EntryCosts:
    """The scaled entry cost (travel + tier + reassign) of every (group, facility of its service)
    pair, and whether the road is within the group's travel limit. Neither depends on the prices,
    so both are computed once per solve and every pricing round is integer adds and a minimum.

    They depend on the group only through its place, whether it holds a current place (the
    reassign cost) and its travel limit, and a service has far fewer places than groups (the
    province: 11,000 places for 126,000 groups): so they are kept per LOCATION = (place, holds a
    current place) x facility, with per pair the index of the least travel limit it is within
    (`need`); group g reaches facility f when travel[g] >= need[location(g), f]. A service beyond
    CACHED_PAIRS location pairs computes its rows chunk by chunk in every round instead."""

    def __init__(self, instance: Instance, groups: Groups, prices: Prices, reach: Reach):
        self.instance, self.groups, self.prices = instance, groups, prices
        self.facilities = reach.facilities
        self.bounds = service_ranges(groups, len(instance.services))
        self.location = np.zeros(len(groups), dtype=np.int64)  # per group, within its service
        self.travel = np.zeros(len(groups), dtype=np.int64)  # per group, into its limits
        self.points: dict[int, np.ndarray] = {}  # by service: (locations, 3) lat, lon, reassign
        self.limits: dict[int, np.ndarray] = {}  # by service: its groups' distinct travel limits
        self.cached: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # by service: cost, need
        budget = CACHED_PAIRS
        for s in range(len(instance.services)):
            lo, hi = int(self.bounds[s]), int(self.bounds[s + 1])
            if lo == hi:
                continue
            keys = np.stack([groups.lat[lo:hi], groups.lon[lo:hi], prices.reassign[lo:hi]],
                            axis=1)
            self.points[s], where = np.unique(keys, axis=0, return_inverse=True)
            self.location[lo:hi] = where.ravel()
            self.limits[s] = np.unique(groups.max_travel_km[lo:hi])
            self.travel[lo:hi] = np.searchsorted(self.limits[s], groups.max_travel_km[lo:hi])
            size = self.points[s].shape[0] * self.facilities[s].size
            if size == 0 or size > budget:
                continue
            budget -= size
            self.cached[s] = self.rows(s, 0, self.points[s].shape[0])

    def rows(self, s: int, first: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Locations first..end-1 of service s x its facilities: the scaled entry cost and the
        index into the service's travel limits of the least one the road is within (the number
        of limits when none is)."""
        p, f = self.instance.policy, self.instance.facilities
        facilities = self.facilities[s]
        points = self.points[s][first:end]
        road = road_km_between(p, points[:, 0:1], points[:, 1:2],
                               f.lat[facilities][None, :], f.lon[facilities][None, :])
        cost = self.prices.money(facility_cost(p, road, f.tier[facilities][None, :])
                                 + points[:, 2:3])
        limits = self.limits[s]
        need = np.searchsorted(limits, road.ravel()).reshape(road.shape)
        return cost, need.astype(np.int8 if limits.size < 127 else np.int64)

    def chunk(self, s: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For groups lo..hi-1 (all of service s): (cost, need) rows and each group's row in
        them."""
        loc = self.location[lo:hi]
        matrices = self.cached.get(s)
        if matrices is not None:
            return matrices[0], matrices[1], loc
        # Groups of one place are adjacent (groups.py sorts by service then place), so a chunk's
        # locations are a short run.
        first, end = int(loc.min()), int(loc.max()) + 1
        cost, need = self.rows(s, first, end)
        return cost, need, loc - first

    def of(self, s: int, lo: int, hi: int) -> np.ndarray:
        """Groups lo..hi-1 (all of service s) x the facilities of s: the entry cost, INFINITE
        beyond the group's travel limit (for checking the cache against entry_costs)."""
        cost, need, loc = self.chunk(s, lo, hi)
        within = need[loc] <= self.travel[lo:hi][:, None]
        return np.where(within, cost[loc], INFINITE)


@dataclass
class Offsets:
    """Per service: the facilities that can deliver it, and per start class (priority, release,
    last week) of its groups the cheapest wait + place price at each of those facilities."""

    facilities: list[np.ndarray]  # by service
    column: np.ndarray  # (services, facilities) column of a facility in its service's matrix
    group_class: np.ndarray  # per group: row in its service's matrix
    matrix: list[np.ndarray]  # by service: (classes, facilities of the service) int64
    prices: Prices
    week: list[np.ndarray]  # like matrix: the (earliest) start week of that cheapest value
    place_value: np.ndarray  # the prices they were computed with, (facility, service, week)


def service_ranges(groups: Groups, num_services: int) -> np.ndarray:
    """Groups are sorted by service: the groups of service s are range(bounds[s], bounds[s+1])."""
    return np.searchsorted(groups.service, np.arange(num_services + 1))


@dataclass
class StartClasses:
    """What the offsets need that does not change between rounds: per service, the distinct
    start classes (priority, release, last week) of its groups, and each group's class."""

    column: np.ndarray  # (services, facilities) column of a facility in its service's matrix
    group_class: np.ndarray  # per group: row in its service's matrix
    classes: dict[int, np.ndarray]  # by service with groups: (classes, 3) priority, release, last


def start_classes(instance: Instance, groups: Groups, reach: Reach) -> StartClasses:
    num_services = len(instance.services)
    bounds = service_ranges(groups, num_services)
    column = np.full((num_services, len(instance.facilities)), -1, dtype=np.int64)
    group_class = np.zeros(len(groups), dtype=np.int64)
    classes = {}
    for s in range(num_services):
        column[s, reach.facilities[s]] = np.arange(reach.facilities[s].size)
        if bounds[s] == bounds[s + 1]:
            continue
        g = np.arange(bounds[s], bounds[s + 1])
        keys = np.stack([groups.priority[g], groups.release[g], groups.last[g]], axis=1)
        classes[s], which = np.unique(keys.astype(np.int64), axis=0, return_inverse=True)
        group_class[g] = which.ravel()
    return StartClasses(column, group_class, classes)


OFFSET_VALUES = 4_000_000  # class x facility x week values held at once


def offsets(instance: Instance, groups: Groups, prices: Prices, reach: Reach,
            place_value: np.ndarray, classes: StartClasses | None = None) -> Offsets:
    if classes is None:
        classes = start_classes(instance, groups, reach)
    capacity = instance.facilities.capacity
    horizon = instance.horizon_weeks
    weeks = np.arange(horizon)
    matrices = [np.zeros((0, f.size), np.int64) for f in reach.facilities]
    best_weeks = [np.zeros((0, f.size), np.int64) for f in reach.facilities]
    for s, keys in classes.classes.items():
        facilities = reach.facilities[s]
        value = np.where(capacity[facilities, s, :] > 0, place_value[facilities, s, :], INFINITE)
        wait = prices.wait[keys[:, 0]]
        release, last = keys[:, 1], keys[:, 2]
        # For every class at once: the cheapest wait + place value over the start weeks
        # release..last with capacity (INFINITE when none).
        later = np.where((weeks[None, :] >= release[:, None]) & (weeks[None, :] <= last[:, None]),
                         wait[:, None] * (weeks[None, :] - release[:, None]), INFINITE)
        matrix = np.empty((keys.shape[0], facilities.size), dtype=np.int64)
        best_week = np.empty((keys.shape[0], facilities.size), dtype=np.int64)
        step = max(1, OFFSET_VALUES // max(1, facilities.size * horizon))
        for lo in range(0, keys.shape[0], step):
            hi = min(lo + step, keys.shape[0])
            both = value[None, :, :] + later[lo:hi, None, :]
            best_week[lo:hi] = both.argmin(axis=2)
            matrix[lo:hi] = np.minimum(np.take_along_axis(both, best_week[lo:hi, :, None],
                                                          axis=2)[:, :, 0], INFINITE)
        matrices[s], best_weeks[s] = matrix, best_week
    return Offsets(reach.facilities, classes.column, classes.group_class, matrices, prices,
                   best_weeks, place_value)


def pair_values(groups: Groups, offs: Offsets, g: np.ndarray, f: np.ndarray,
                cost: np.ndarray, week: np.ndarray) -> np.ndarray:
    """entry cost + wait + place price of candidate pairs (INFINITE if no week is possible): over
    every start week of the pair, or at its own week where it has one (week >= 0)."""
    s = groups.service[g]
    value = np.full(g.size, INFINITE, dtype=np.int64)
    for service in np.unique(s):
        on = s == service
        m = offs.matrix[service][offs.group_class[g[on]], offs.column[service, f[on]]]
        value[on] = np.minimum(cost[on] + m, INFINITE)
    one = np.flatnonzero(week >= 0)
    gw, fw, tw = g[one], f[one], week[one]
    value[one] = (cost[one] + offs.prices.wait[groups.priority[gw]] * (tw - groups.release[gw])
                  + offs.place_value[fw, groups.service[gw], tw])
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
    new_week: np.ndarray  # the start week of their value (the earliest when several)


def scan(instance: Instance, groups: Groups, entries: EntryCosts, offs: Offsets,
         outside: np.ndarray, limit: np.ndarray, per_group: int) -> Scan:
    """Every eligible (group, facility) pair, in chunks of groups of one service. `outside` is
    each group's value of the options that are not pairs: unassigned, or its current place."""
    bounds = service_ranges(groups, len(instance.services))
    best = outside.copy()
    any_eligible = np.zeros(len(groups), dtype=bool)
    found_g, found_f, found_c, found_w = [], [], [], []
    for s in range(len(instance.services)):
        facilities = offs.facilities[s]
        if facilities.size == 0 or bounds[s] == bounds[s + 1]:
            continue
        step = max(1, PAIRS_PER_CHUNK // facilities.size)
        for lo in range(bounds[s], bounds[s + 1], step):
            hi = min(lo + step, bounds[s + 1])
            cost, need, loc = entries.chunk(s, lo, hi)
            row_min, rows, cols, costs = _scan_chunk(
                cost, need, loc, entries.travel[lo:hi], offs.matrix[s],
                offs.group_class[lo:hi], limit[lo:hi], per_group)
            any_eligible[lo:hi] |= row_min < INFINITE
            np.minimum(best[lo:hi], row_min, out=best[lo:hi])
            if rows.size == 0:
                continue
            g = lo + rows
            found_g.append(g)
            found_f.append(facilities[cols])
            found_c.append(costs)
            found_w.append(offs.week[s][offs.group_class[g], cols])
    empty = np.zeros(0, dtype=np.int64)
    return Scan(best, any_eligible,
                np.concatenate(found_g) if found_g else empty,
                np.concatenate(found_f) if found_f else empty,
                np.concatenate(found_c) if found_c else empty,
                np.concatenate(found_w) if found_w else empty)


@njit(cache=True)
def _scan_chunk(cost, need, loc, travel, matrix, group_class, limit, per_group):
    """One chunk of a service's groups x its facilities: each group's least value
    min(cost[location] + matrix[class], INFINITE) over the facilities within its travel limit,
    and the pairs whose value is below the group's limit, at most `per_group` of them (the
    cheapest; ties to the lower column), in row then column order, with their entry costs. One
    pass without the temporaries of a numpy version (values, masks, partitions)."""
    rows = loc.size
    cols = cost.shape[1]
    row_min = np.empty(rows, np.int64)
    out_r = np.empty(rows * min(per_group, cols), np.int64)
    out_c = np.empty(rows * min(per_group, cols), np.int64)
    out_cost = np.empty(rows * min(per_group, cols), np.int64)
    values = np.empty(cols, np.int64)
    below = np.empty(cols, np.int64)
    k = 0
    for r in range(rows):
        m = matrix[group_class[r]]
        entry = cost[loc[r]]
        needs = need[loc[r]]
        reach = travel[r]
        least = INFINITE
        count = 0
        cap = limit[r]
        for c in range(cols):
            v = INFINITE
            if needs[c] <= reach:
                v = entry[c] + m[c]
                if v > INFINITE:
                    v = INFINITE
            values[c] = v
            if v < least:
                least = v
            if v < cap:
                below[count] = v
                count += 1
        row_min[r] = least
        if count == 0:
            continue
        if count <= per_group:
            for c in range(cols):
                if values[c] < cap:
                    out_r[k] = r
                    out_c[k] = c
                    out_cost[k] = entry[c]
                    k += 1
            continue
        # The per_group-th least value: all below it are kept, then ties by column.
        kth = np.partition(below[:count], per_group - 1)[per_group - 1]
        strict = 0
        for c in range(cols):
            if values[c] < kth:
                strict += 1
        ties = per_group - strict
        for c in range(cols):
            v = values[c]
            if v < kth or (v == kth and ties > 0):
                if v == kth:
                    ties -= 1
                out_r[k] = r
                out_c[k] = c
                out_cost[k] = entry[c]
                k += 1
    return row_min, out_r[:k], out_c[:k], out_cost[:k]


def eligible_current(instance: Instance, groups: Groups,
                     prices: Prices) -> tuple[np.ndarray, np.ndarray]:
    """Groups whose current place is eligible, and the scaled cost of staying (no reassign)."""
    p, f = instance.policy, instance.facilities
    g = np.flatnonzero(has_current(groups))
    cf, cw = groups.current_facility[g], groups.current_week[g]
    road = road_km_between(p, groups.lat[g], groups.lon[g], f.lat[cf], f.lon[cf])
    ok = ((f.capacity[cf, groups.service[g], cw] > 0) & (cw >= groups.release[g])
          & (cw <= groups.last[g]) & (road <= groups.max_travel_km[g]))
    g, cf, road = g[ok], cf[ok], road[ok]
    cost = prices.money(facility_cost(p, road, f.tier[cf]))
    return g, cost
