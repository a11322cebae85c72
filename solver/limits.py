"""How large the numbers of an instance may be: the model turns every money amount into an int64
cost (amount x scale, rounded) for OR-Tools' min cost flow, and a number that does not survive that
is refused when the instance is read (io.py), never discovered as an overflow during the solve.

Two rules, both checked by io.py and relied on by model.py:
- every number that enters the objective (weights, costs, the road factor) is at most MAX_AMOUNT;
- the largest cost one case can have, times the size of the network, fits COST_HEADROOM at scale 1
  (the smallest scale model.choose_scale can pick): then no arc cost, dual or sum overflows."""
from __future__ import annotations

import numpy as np

from solver.costs import HALF_EARTH_KM, unassigned_penalty, wait_cost
from solver.instance import PRIORITIES, TIERS, Policy

# A double holds every integer up to 2^53 exactly and no longer every integer above it: an amount
# above 2^53 cannot be turned into an exact integer cost at any scale, and adding a few units to it
# in float64 would be lost. So no weight, cost or factor of an instance may exceed it (this also
# refuses 1e308 and the like, whose products are inf).
MAX_AMOUNT = float(2**53)

# OR-Tools' min cost flow keeps costs in int64 and multiplies every arc cost by (nodes + 1) in its
# cost scaling; totals over all cases are int64 sums too. Staying below 2^62 keeps a factor of two
# of headroom below int64's 2^63 for the sums of such values (e.g. a cost plus model.INFINITE).
COST_HEADROOM = 2**62



def case_cost_terms(policy: Policy, horizon_weeks: int) -> list[tuple[str, float]]:
    """The largest value of each part of one case's cost, with the JSON path of the input that
    drives it (the larger factor of a product): unassigned, wait, travel, tier, reassign."""
    heaviest = max(policy.priority_weights)
    weight_path = f"policy.priority_weights.{PRIORITIES[policy.priority_weights.index(heaviest)]}"

    def driver(path: str, value: float) -> str:
        return weight_path if heaviest > value else path

    top_tier = max(policy.tier_cost)
    return [
        (driver("policy.unassigned_cost", policy.unassigned_cost),
         unassigned_penalty(policy, heaviest)),
        (driver("policy.wait_cost_per_week", policy.wait_cost_per_week),
         wait_cost(policy, heaviest, horizon_weeks)),
        ("policy.road_factor" if policy.road_factor > policy.travel_cost_per_km
         else "policy.travel_cost_per_km",
         policy.travel_cost_per_km * policy.road_factor * HALF_EARTH_KM),
        (f"policy.tier_cost.{TIERS[policy.tier_cost.index(top_tier)]}", top_tier),
        ("policy.reassign_cost", policy.reassign_cost),
    ]


def largest_case_cost(policy: Policy, horizon_weeks: int) -> float:
    """An upper bound of the cost of one case, assigned anywhere or unassigned (a wait is at most
    the horizon, a road at most half the Earth's circumference times the road factor)."""
    unassigned, wait, travel, tier, reassign = (v for _, v in case_cost_terms(policy,
                                                                               horizon_weeks))
    return max(unassigned, wait + travel + tier) + reassign


def network_nodes(cases: int, capacity: np.ndarray, groups: int | None = None) -> int:
    """The most nodes model.build_network can create: the sink, one per group (at most one per
    case), a place per (facility, service, week) with capacity, and a chain node per priority
    class and week for each (facility, service) with capacity in some week (more than it creates:
    a chain has nodes only for the weeks with capacity; the looser count keeps the scale, and so
    the integer costs, what they were)."""
    places = int(np.count_nonzero(capacity))  # capacity[facility, service, week]
    offered = int(np.count_nonzero(capacity.any(axis=2)))
    horizon = capacity.shape[2]
    return 1 + (cases if groups is None else groups) + places + len(PRIORITIES) * horizon * offered


def cost_multiplier(cases: int, nodes: int) -> int:
    """What a scaled cost is multiplied by at most inside OR-Tools or in a total over cases."""
    return max(nodes + 1, cases, 1)


def fits(max_cost: float, scale: int, multiplier: int) -> bool:
    return max(max_cost, 1.0) * scale * multiplier < COST_HEADROOM
