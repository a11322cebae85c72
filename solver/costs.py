"""The contract's cost of an assignment: the ONE definition of its formula. The model (arcs,
prices), the pricing, the greedy baseline, the number limits, the writer (which recomputes the
objective from the assignments) and the tests all use these functions; the solver's parts only
scale (x Prices.scale) or cache what they return.

The cost of assigning a case of weight w to (f, t) splits in the parts the model keeps apart:
    facility_cost(road, tier(f))  travel + tier: fixed once the facility is chosen
  + wait_cost(w, t - release)     per week of waiting (w x wait_cost_per_week each)
  + reassign_cost                 if the case holds another place
and leaving it unassigned costs unassigned_penalty(w) (+ reassign_cost if it holds a place)."""
from __future__ import annotations

import numpy as np

from solver.instance import NO_FACILITY, Instance, Policy

EARTH_RADIUS_KM = 6371.0088
HALF_EARTH_KM = np.pi * EARTH_RADIUS_KM  # the longest great-circle distance


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasting arrays)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def road_km_between(policy: Policy, lat1, lon1, lat2, lon2) -> np.ndarray:
    """road_factor x haversine distance between points (broadcasting arrays, e.g. a column of
    case places against a row of facilities)."""
    return policy.road_factor * haversine_km(lat1, lon1, lat2, lon2)


def road_km(instance: Instance, case_idx, facility_idx) -> np.ndarray:
    """road_factor x haversine distance between cases and facilities (paired arrays)."""
    c, f = instance.cases, instance.facilities
    return road_km_between(instance.policy, c.lat[case_idx], c.lon[case_idx],
                           f.lat[facility_idx], f.lon[facility_idx])


def facility_cost(policy: Policy, road, tier) -> np.ndarray:
    """travel_cost_per_km x road_km + tier_cost[tier]: the part of an assignment's cost that
    depends on the facility only (road and tier broadcast against each other)."""
    return policy.travel_cost_per_km * road + np.asarray(policy.tier_cost)[tier]


def wait_cost(policy: Policy, weight, weeks=1) -> np.ndarray:
    """w x wait_cost_per_week x weeks waited (by default the cost of one week)."""
    return weight * policy.wait_cost_per_week * weeks


def unassigned_penalty(policy: Policy, weight) -> np.ndarray:
    """w x unassigned_cost (without the reassign_cost of giving up a current place)."""
    return weight * policy.unassigned_cost


def weights(instance: Instance) -> np.ndarray:
    """w(c) for every case."""
    return np.asarray(instance.policy.priority_weights, dtype=np.float64)[instance.cases.priority]


def case_costs(instance: Instance, facility: np.ndarray, week: np.ndarray) -> np.ndarray:
    """The contract's cost of each case under an assignment (facility NO_FACILITY = unassigned).
    Does not check eligibility; see eligible()."""
    p, c = instance.policy, instance.cases
    w = weights(instance)
    has_current = c.current_facility != NO_FACILITY
    moved = has_current & ((facility != c.current_facility) | (week != c.current_week))
    cost = np.where(moved, p.reassign_cost, 0.0)
    placed = facility != NO_FACILITY
    cost[~placed] += unassigned_penalty(p, w[~placed])
    idx = np.flatnonzero(placed)
    if idx.size:
        f = facility[idx]
        cost[idx] += (facility_cost(p, road_km(instance, idx, f), instance.facilities.tier[f])
                      + wait_cost(p, w[idx], week[idx] - c.release[idx]))
    return cost


def total_cost(instance: Instance, facility: np.ndarray, week: np.ndarray) -> float:
    return float(np.sum(case_costs(instance, facility, week), dtype=np.float64))


def eligible(instance: Instance, case_idx, facility_idx, week) -> np.ndarray:
    """Whether each (case, facility, week) triple is eligible under the contract."""
    c, f = instance.cases, instance.facilities
    case_idx = np.asarray(case_idx)
    facility_idx = np.asarray(facility_idx)
    week = np.asarray(week)
    in_horizon = (week >= 0) & (week < instance.horizon_weeks)
    safe_week = np.where(in_horizon, week, 0)
    cap = f.capacity[facility_idx, c.service[case_idx], safe_week]
    return (in_horizon & (cap > 0) & (week >= c.release[case_idx]) & (week <= c.deadline[case_idx])
            & (road_km(instance, case_idx, facility_idx) <= c.max_travel_km[case_idx]))
