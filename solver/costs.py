"""The contract's cost of an assignment, in bulk. Used by the model (to build arcs), by the writer
(to recompute the objective from the assignments) and by the tests: one definition only."""
from __future__ import annotations

import numpy as np

from solver.instance import NO_FACILITY, Instance

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasting arrays)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def road_km(instance: Instance, case_idx, facility_idx) -> np.ndarray:
    """road_factor x haversine distance between cases and facilities (paired arrays)."""
    c, f = instance.cases, instance.facilities
    return instance.policy.road_factor * haversine_km(
        c.lat[case_idx], c.lon[case_idx], f.lat[facility_idx], f.lon[facility_idx])


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
    cost[~placed] += w[~placed] * p.unassigned_cost
    idx = np.flatnonzero(placed)
    if idx.size:
        f = facility[idx]
        tier_cost = np.asarray(p.tier_cost)[instance.facilities.tier[f]]
        cost[idx] += (w[idx] * p.wait_cost_per_week * (week[idx] - c.release[idx])
                      + p.travel_cost_per_km * road_km(instance, idx, f) + tier_cost)
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
