"""The optimiser's input and output, held column-wise: index i of every case array is the i-th
case of the instance file, index j of every facility array the j-th facility. Columns (numpy arrays)
rather than one object per case keep a 1,000,000-case instance in a few hundred MB and let costs be
computed in bulk. The file contract is ../shared/SOLVER_FORMAT.md (version 1); io.py reads and
writes it."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FORMAT_INSTANCE = "rehab-net.instance/1"
FORMAT_SOLUTION = "rehab-net.solution/1"

PRIORITIES = ("child", "severe", "poor", "standard")  # index = Cases.priority
TIERS = ("centre", "station", "clinic")  # index = Facilities.tier
NO_DEADLINE = np.iinfo(np.int32).max  # Cases.deadline when the case has none
NO_FACILITY = -1  # Cases.current_facility / Solution.facility when there is none

# Solution.reason codes, and their names in the solution file.
ASSIGNED, NO_ELIGIBLE_FACILITY, CAPACITY = 0, 1, 2
REASONS = {NO_ELIGIBLE_FACILITY: "no_eligible_facility", CAPACITY: "capacity"}

# The contract's example values, used for any policy key an instance leaves out.
DEFAULT_POLICY = {
    "priority_weights": {"child": 8.0, "severe": 4.0, "poor": 2.0, "standard": 1.0},
    "wait_cost_per_week": 100.0,
    "travel_cost_per_km": 1.0,
    "road_factor": 1.3,
    "unassigned_cost": 10000.0,
    "tier_cost": {"centre": 50.0, "station": 0.0, "clinic": 0.0},
    "reassign_cost": 500.0,
}


@dataclass(frozen=True)
class Policy:
    priority_weights: tuple[float, ...]  # by PRIORITIES index
    wait_cost_per_week: float
    travel_cost_per_km: float
    road_factor: float
    unassigned_cost: float
    tier_cost: tuple[float, ...]  # by TIERS index
    reassign_cost: float

    @classmethod
    def from_mapping(cls, values: dict) -> Policy:
        """A policy from the file's (already validated) `policy` object; missing keys default."""
        merged = {**DEFAULT_POLICY, **values}
        weights = {**DEFAULT_POLICY["priority_weights"], **merged["priority_weights"]}
        tiers = {**DEFAULT_POLICY["tier_cost"], **merged["tier_cost"]}
        return cls(
            priority_weights=tuple(float(weights[p]) for p in PRIORITIES),
            wait_cost_per_week=float(merged["wait_cost_per_week"]),
            travel_cost_per_km=float(merged["travel_cost_per_km"]),
            road_factor=float(merged["road_factor"]),
            unassigned_cost=float(merged["unassigned_cost"]),
            tier_cost=tuple(float(tiers[t]) for t in TIERS),
            reassign_cost=float(merged["reassign_cost"]),
        )

    def to_mapping(self) -> dict:
        return {
            "priority_weights": dict(zip(PRIORITIES, self.priority_weights, strict=True)),
            "wait_cost_per_week": self.wait_cost_per_week,
            "travel_cost_per_km": self.travel_cost_per_km,
            "road_factor": self.road_factor,
            "unassigned_cost": self.unassigned_cost,
            "tier_cost": dict(zip(TIERS, self.tier_cost, strict=True)),
            "reassign_cost": self.reassign_cost,
        }


@dataclass
class Facilities:
    ids: list[str]
    tier: np.ndarray  # int8, index into TIERS
    lat: np.ndarray  # float64 degrees
    lon: np.ndarray
    # capacity[j, s, t]: new intakes facility j can start for service s in week t (int32, >= 0).
    capacity: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Cases:
    ids: list[str]
    service: np.ndarray  # int32, index into Instance.services
    priority: np.ndarray  # int8, index into PRIORITIES
    lat: np.ndarray  # float64 degrees
    lon: np.ndarray
    release: np.ndarray  # int32 week, >= 0
    deadline: np.ndarray  # int32 week (inclusive), NO_DEADLINE when none
    max_travel_km: np.ndarray  # float64, inf when none
    current_facility: np.ndarray  # int32 facility index, NO_FACILITY when none
    current_week: np.ndarray  # int32, meaningful only where current_facility >= 0

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Instance:
    name: str
    horizon_weeks: int
    policy: Policy
    services: list[str]  # sorted service names; index = Cases.service = capacity axis 1
    facilities: Facilities
    cases: Cases


@dataclass
class Solution:
    """One optimiser result, column-wise over the instance's cases."""

    instance: str
    status: str  # optimal | feasible | error
    objective: float | None
    bound: float | None
    facility: np.ndarray  # int32 per case: facility index, NO_FACILITY when unassigned
    week: np.ndarray  # int32 per case, -1 when unassigned
    road_km: np.ndarray  # float64 per case, nan when unassigned
    reason: np.ndarray  # int8 per case: ASSIGNED, NO_ELIGIBLE_FACILITY or CAPACITY
    # (facility index, service index, week, value): one more intake place there lowers the optimal
    # objective by `value` (> 0); only binding capacities are listed.
    shadow_prices: list[tuple[int, int, int, float]] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    message: str | None = None  # why, when status is error
