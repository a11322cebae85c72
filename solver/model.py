"""The assignment model as a min cost flow, built only over candidate arcs.

Network (see docs/optimisation-model.md for the picture):
  group g (supply = its number of cases)
    -> T                     leave unassigned: w x unassigned_cost (+ reassign)      cap size(g)
    -> chain(f, s, p, t0)    enter facility f's weekly chain at t0, its first week with
                             capacity from the release: travel + tier + wait to t0
                             (+ reassign)                                            cap size(g)
    -> place(f, s, t)        a group whose deadline falls inside the horizon, or its current place:
                             wait + travel + tier (+ reassign unless current)         cap size(g)
  chain(f, s, p, t) -> chain(f, s, p, t')    wait to t', the chain's next week with capacity:
                                             w(p) x wait_cost_per_week x (t' - t)
  chain(f, s, p, t) -> place(f, s, t)        start in week t
  place(f, s, t) -> T                        cap = capacity of f for s in week t
A chain per facility, service and priority class, with a node per week with capacity, replaces
one arc per case and week.

Costs are integers (OR-Tools needs them): every money amount is multiplied by a scale and rounded;
solve.py bounds the rounding error and recomputes the objective in floats.

Candidate arcs: which (group, facility) pairs are in the network is decided outside (solve.py
prices the others with the capacity duals and adds back any that could lower the cost)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from solver.costs import facility_cost, road_km_between, unassigned_penalty, wait_cost
from solver.groups import Groups, has_current
from solver.instance import PRIORITIES, Instance
from solver.limits import cost_multiplier, fits, largest_case_cost, network_nodes

INFINITE = np.iinfo(np.int64).max // 4
TAIL, HEAD, UPPER, COST = range(4)  # rows of Network.arcs: tail, head, capacity (upper bound), cost


class SolverFailure(RuntimeError):
    """OR-Tools did not return an optimal flow for a network that always has one."""


def choose_scale(instance: Instance, num_groups: int) -> int:
    """The largest power of ten up to 10^6 by which every cost can be multiplied and stay exact
    integers within OR-Tools' range. The larger the scale, the smaller the rounding error.
    io.py refuses instances for which not even scale 1 fits (limits.py); one built some other way
    is a SolverFailure here rather than an overflow later."""
    max_cost = largest_case_cost(instance.policy, instance.horizon_weeks)
    cases = len(instance.cases)
    multiplier = cost_multiplier(cases, network_nodes(cases, instance.facilities.capacity,
                                                      groups=num_groups))
    for exponent in range(6, -1, -1):
        scale = 10**exponent
        if fits(max_cost, scale, multiplier):
            return scale
    raise SolverFailure(f"costs too large for int64 arithmetic: a case can cost up to "
                        f"{max_cost:.6g} and the network multiplies costs by up to {multiplier}")


@dataclass
class Prices:
    """The money amounts of the policy, scaled to integers once, so that every part of the model
    (arcs, pricing, bounds) uses exactly the same numbers."""

    scale: int
    wait: np.ndarray  # per priority class: w(p) x wait_cost_per_week
    unassigned: np.ndarray  # per group: w x unassigned_cost + reassign (if it has a place)
    reassign: np.ndarray  # per group: reassign_cost if it has a current place, else 0

    @classmethod
    def of(cls, instance: Instance, groups: Groups) -> Prices:
        p = instance.policy
        scale = choose_scale(instance, len(groups))
        weights = np.asarray(p.priority_weights)
        reassign = np.where(has_current(groups), p.reassign_cost, 0.0)
        return cls(
            scale=scale,
            wait=scaled(wait_cost(p, weights), scale),
            unassigned=scaled(unassigned_penalty(p, weights[groups.priority]) + reassign, scale),
            reassign=reassign,
        )

    def part(self, lo: int, hi: int) -> Prices:
        return Prices(self.scale, self.wait, self.unassigned[lo:hi], self.reassign[lo:hi])

    def money(self, amount) -> np.ndarray:
        return scaled(amount, self.scale)

    def rounding_slack(self, instance: Instance) -> float:
        """The most by which one case's scaled cost can differ from scale x its true cost: one
        rounding of its entry (or unassigned) cost, plus the rounding of a week's wait times the
        longest wait."""
        p = instance.policy
        exact_wait = wait_cost(p, np.asarray(p.priority_weights)) * self.scale
        wait_error = float(np.max(np.abs(self.wait - exact_wait)))
        return 0.5 + (instance.horizon_weeks - 1) * wait_error


def scaled(amount, scale: int) -> np.ndarray:
    return np.rint(np.asarray(amount, dtype=np.float64) * scale).astype(np.int64)


class Reach:
    """Where each service can be delivered: the facilities with capacity for it in some week, and
    their capacities, keyed by service index."""

    def __init__(self, instance: Instance):
        capacity = instance.facilities.capacity
        self.facilities = [np.flatnonzero(capacity[:, s, :].any(axis=1))
                           for s in range(capacity.shape[1])]


def entry_costs(instance: Instance, groups: Groups, prices: Prices, g: np.ndarray,
                facilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups g (all of one service) x facilities: the scaled cost of travel + tier (+ reassign)
    and whether the road distance is within each group's limit. Distances are computed once per
    distinct place: groups of one place are adjacent."""
    p = instance.policy
    f = instance.facilities
    points, where = np.unique(np.stack([groups.lat[g], groups.lon[g]], axis=1), axis=0,
                              return_inverse=True)
    road = road_km_between(p, points[:, 0:1], points[:, 1:2],
                           f.lat[facilities][None, :], f.lon[facilities][None, :])
    road = road[where.ravel()]
    cost = prices.money(facility_cost(p, road, f.tier[facilities][None, :])
                        + prices.reassign[g][:, None])
    return cost, road <= groups.max_travel_km[g][:, None]


@dataclass
class Network:
    """One min cost flow network over the current candidate arcs, and what each arc means."""

    arcs: np.ndarray  # (4, n) int64: tail, head, capacity, cost
    supplies: np.ndarray  # per node
    # Arc ranges by kind, and for each the group / facility / week it stands for.
    unassigned: slice
    entry: slice  # group -> chain
    entry_group: np.ndarray
    entry_chain: np.ndarray  # chain index (into chain_* arrays)
    direct: slice  # group -> place
    direct_group: np.ndarray
    direct_place: np.ndarray  # place index
    exits: slice  # chain node -> place
    exit_chain: np.ndarray
    exit_week: np.ndarray
    place_arcs: slice  # place -> T
    # Chains: (facility, service, priority, first week); places: (facility, service, week).
    chain_facility: np.ndarray
    chain_priority: np.ndarray
    chain_first: np.ndarray
    place_facility: np.ndarray
    place_service: np.ndarray
    place_week: np.ndarray
    num_nodes: int
    # Per node, an id that names what it stands for (the sink, a group, a place, a chain and
    # week) the same way in every network of the same groups: how a flow is carried over to a
    # network with more arcs.
    node_key: np.ndarray

    def solve(self) -> np.ndarray:
        """The flow on every arc, optimal for this network."""
        mcf = min_cost_flow.SimpleMinCostFlow()
        tail, head, capacity, cost = self.arcs
        mcf.add_arcs_with_capacity_and_unit_cost(tail, head, capacity, cost)
        mcf.set_nodes_supplies(np.arange(self.num_nodes), self.supplies)
        status = mcf.solve()
        if status != mcf.OPTIMAL:
            raise SolverFailure(f"min cost flow status {status}")
        return np.asarray(mcf.flows(np.arange(self.arcs.shape[1])), dtype=np.int64)


def next_open_week(capacity: np.ndarray) -> np.ndarray:
    """(facility, service, week) -> the first week from it with capacity, or the horizon."""
    horizon = capacity.shape[2]
    week = np.where(capacity > 0, np.arange(horizon), horizon)
    return np.minimum.accumulate(week[:, :, ::-1], axis=2)[:, :, ::-1]


def build_network(instance: Instance, groups: Groups, prices: Prices, entry: tuple,
                  direct: tuple) -> Network:
    """The network for candidate arcs `entry` = (group, facility, scaled cost) of groups using
    chains, and `direct` = (group, facility, week, scaled cost) of the others and current places."""
    horizon = instance.horizon_weeks
    num_services = len(instance.services)
    capacity = instance.facilities.capacity
    num_groups = len(groups)
    e_group, e_facility, e_cost = entry
    d_group, d_facility, d_week, d_cost = direct

    # A chain has a node only for the weeks with capacity (a week without capacity could only be
    # waited through): an entry goes to the first open week from its release, its cost plus the
    # wait to it, and a wait arc spans the weeks up to the next open one. Entries with no open
    # week left have no eligible start and are dropped.
    e_service = groups.service[e_group].astype(np.int64)
    e_priority = groups.priority[e_group].astype(np.int64)
    e_release = groups.release[e_group].astype(np.int64)
    e_week = next_open_week(capacity)[e_facility, e_service, e_release]
    keep = e_week < horizon
    if not keep.all():
        e_group, e_facility, e_cost, e_service, e_priority, e_release, e_week = (
            x[keep] for x in (e_group, e_facility, e_cost, e_service, e_priority, e_release,
                              e_week))
    e_cost = e_cost + prices.wait[e_priority] * (e_week - e_release)

    # Chains: one per (facility, service, priority) that some entry arc reaches, from the earliest
    # week entered to the horizon's end.
    chain_key = (e_facility * num_services + e_service) * len(PRIORITIES) + e_priority
    chain_keys, e_chain = np.unique(chain_key, return_inverse=True)
    e_chain = e_chain.ravel()
    chain_first = np.full(chain_keys.size, horizon, dtype=np.int64)
    np.minimum.at(chain_first, e_chain, e_week)
    chain_priority = chain_keys % len(PRIORITIES)
    chain_fs = chain_keys // len(PRIORITIES)
    chain_facility, chain_service = chain_fs // num_services, chain_fs % num_services

    # Chain nodes: one per chain and open week from its first week, in chain then week order.
    weeks = np.arange(horizon)
    open_ = ((capacity[chain_facility, chain_service, :] > 0)
             & (weeks[None, :] >= chain_first[:, None]))
    node_chain, node_week = np.nonzero(open_)
    node_chain, node_week = node_chain.astype(np.int64), node_week.astype(np.int64)
    # The node of an entry: its chain's first node + the open weeks of the chain before it.
    node_of = np.cumsum(open_.ravel()).reshape(open_.shape) - 1  # node of (chain, open week)
    has_exit = np.ones(node_chain.size, dtype=bool)  # every node is an open week

    # Places: every (facility, service, week) reached by a chain exit or a direct arc.
    exit_place_key = ((chain_facility[node_chain] * num_services + chain_service[node_chain])
                      * horizon + node_week)[has_exit]
    d_place_key = ((d_facility * num_services + groups.service[d_group]) * horizon + d_week)
    place_keys, place_index = np.unique(np.concatenate([exit_place_key, d_place_key]),
                                        return_inverse=True)
    place_index = place_index.ravel()
    place_week = place_keys % horizon
    place_fs = place_keys // horizon
    place_facility, place_service = place_fs // num_services, place_fs % num_services

    # Node numbers: T, groups, places, chain nodes.
    sink = 0
    group_node0, place_node0 = 1, 1 + num_groups
    chain_base = place_node0 + place_keys.size
    num_nodes = chain_base + node_chain.size
    big = int(groups.size.sum()) or 1

    chain_node = chain_base + np.arange(node_chain.size)
    last_of_chain = np.ones(node_chain.size, dtype=bool)
    last_of_chain[:-1] = node_chain[1:] != node_chain[:-1]
    waited = np.zeros(node_chain.size, dtype=np.int64)  # weeks to the chain's next node
    waited[:-1] = node_week[1:] - node_week[:-1]
    parts = [
        # unassigned
        (group_node0 + np.arange(num_groups), np.full(num_groups, sink), groups.size,
         prices.unassigned),
        # entry: group -> its chain at its release week
        (group_node0 + e_group, chain_base + node_of[e_chain, e_week],
         groups.size[e_group], e_cost),
        # direct: group -> place
        (group_node0 + d_group, place_node0 + place_index[exit_place_key.size:],
         groups.size[d_group], d_cost),
        # exits: chain node -> place
        (chain_node[has_exit], place_node0 + place_index[:exit_place_key.size],
         np.full(int(has_exit.sum()), big), np.zeros(int(has_exit.sum()), dtype=np.int64)),
        # waits: chain node -> the next week's
        (chain_node[~last_of_chain], chain_node[~last_of_chain] + 1,
         np.full(int((~last_of_chain).sum()), big),
         prices.wait[chain_priority[node_chain[~last_of_chain]]] * waited[~last_of_chain]),
        # places -> T
        (place_node0 + np.arange(place_keys.size), np.full(place_keys.size, sink),
         capacity[place_facility, place_service, place_week].astype(np.int64),
         np.zeros(place_keys.size, dtype=np.int64)),
    ]
    arcs = np.concatenate([np.stack([np.asarray(x, dtype=np.int64) for x in part])
                           for part in parts], axis=1)
    bounds = np.cumsum([0] + [len(part[0]) for part in parts])
    kinds = [slice(bounds[i], bounds[i + 1]) for i in range(len(parts))]

    all_places = capacity.size  # (facility, service, week) keys are below this
    node_key = np.concatenate([np.arange(place_node0), place_node0 + place_keys,
                               place_node0 + all_places + chain_keys[node_chain] * horizon
                               + node_week]).astype(np.int64)

    supplies = np.zeros(num_nodes, dtype=np.int64)
    supplies[group_node0:place_node0] = groups.size
    supplies[sink] = -int(groups.size.sum())
    return Network(
        arcs=arcs, supplies=supplies,
        unassigned=kinds[0], entry=kinds[1], entry_group=e_group, entry_chain=e_chain,
        direct=kinds[2], direct_group=d_group, direct_place=place_index[exit_place_key.size:],
        exits=kinds[3], exit_chain=node_chain[has_exit], exit_week=node_week[has_exit],
        place_arcs=kinds[5],
        chain_facility=chain_facility, chain_priority=chain_priority, chain_first=chain_first,
        place_facility=place_facility, place_service=place_service, place_week=place_week,
        num_nodes=num_nodes, node_key=node_key,
    )
