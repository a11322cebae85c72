"""A re-plan of one service from the last plan's optimal basis (the resident optimiser's warm
state, kept in solve.ServiceMemo).

Between two plans of the same network a booking, a cancellation or a capacity change alters a
few groups and places of one service. The last solve's network (model.WarmNetwork) takes them as
arcs (and leaf nodes) only, so its basis stays feasible and the simplex goes on from it:
- a group that is smaller, or gone, gets a REMOVAL arc (group -> T) for the cases it lost;
- a group that is larger gets an INJECTION arc (T -> group) for the cases it gained, and a group
  that is new a node of its own, hung under T by its unassigned arc, with an injection arc;
- a place with more capacity gets a parallel place arc, one with less a PHANTOM arc (T -> place)
  that takes up the capacity it lost.
Removal, injection and phantom arcs cost -FORCE, more than any case's whole cost, so every
optimum carries them at capacity (checked after the solve: otherwise None and a cold solve):
the flow on the other arcs is then exactly a flow of the changed problem, and the flow's cost
without them (WarmNetwork.objective) is its cost. The pricing rounds run on the NEW groups over
ALL eligible pairs as in a cold solve, so the result is proven the same way; among equally cheap
plans it may take another than a cold solve would.

Anything the network cannot take (a week or facility without a node, a priority class without a
chain, more cases than its arcs' capacity, another cost scale or policy: another family in the
memo) returns None, and the service is solved from scratch."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solver.groups import Groups
from solver.instance import Instance
from solver.model import Network, Prices, Reach, WarmNetwork

KEEP_ARCS = 1_500_000  # larger networks are not kept (~135 bytes an arc with all it holds) ...
KEPT_ARCS = 2_000_000  # ... nor more than this in all (solve.ServiceMemo drops the oldest)


@dataclass
class WarmState:
    """A service's network after its last solve, and what it holds: the groups (node
    warm.group_node[g] for group g), the candidate pairs (in those groups' numbers), the
    capacity (facilities x weeks) of the service and each node's supply."""

    warm: WarmNetwork
    groups: Groups
    pairs: tuple
    capacity: np.ndarray
    supply: np.ndarray  # by node
    current_nodes: np.ndarray  # nodes that have their current place's arc
    force: int

    def detach(self) -> WarmState:
        """Without the instance and the dense price arrays (facilities x services x weeks,
        megabytes each: not worth keeping nor pickling back from a pool worker); the re-plan
        binds the next instance and the arrays are made again when needed."""
        self.warm.instance = None
        self.warm._dense = {}
        self.warm.simplex.trim()
        return self


def keep(warm: WarmNetwork, groups: Groups, prices: Prices, pairs: tuple,
         current: tuple, capacity: np.ndarray) -> WarmState | None:
    """The state to keep after a solve (None for a network too large to keep)."""
    if warm.num_arcs > KEEP_ARCS:
        return None
    supply = np.zeros(warm.num_nodes, dtype=np.int64)
    supply[warm.group_node] = groups.size
    return WarmState(warm, groups, pairs, capacity.copy(), supply,
                     warm.group_node[current[0]].copy(), force_of(prices))


def force_of(prices: Prices) -> int:
    """More than any group's cost of leaving a case unassigned (its unassigned penalty with the
    reassign cost, the dearest option a case ever needs): twice the dearest, plus one."""
    return 2 * int(np.max(prices.unassigned, initial=0)) + 1


def _keys(groups: Groups) -> list[tuple]:
    return list(zip(groups.lat.tolist(), groups.lon.tolist(), groups.priority.tolist(),
                    groups.release.tolist(), groups.last.tolist(),
                    groups.max_travel_km.tolist(), groups.current_facility.tolist(),
                    groups.current_week.tolist(), strict=True))


def carry_over(state: WarmState, instance: Instance, groups: Groups, prices: Prices,
               reach: Reach, direct: bool, current: tuple) -> tuple | None:
    """Bring the kept network to the new problem (see the module's docstring): returns the
    candidate pairs in the new groups' numbers, or None when the network cannot take it."""
    warm = state.warm
    s = warm.service
    if direct == warm.chains or int(groups.size.sum()) >= warm.big // 2:
        return None  # candidates of another kind; more cases than its arcs can carry
    if not np.array_equal(reach.facilities[s], warm.facilities):
        return None  # a facility offers the service that did not (or no longer does)
    capacity = instance.facilities.capacity[:, s, :]
    old_capacity = state.capacity
    rise = capacity - old_capacity
    weeks_with = np.nonzero(rise != 0)
    if np.any(warm.place_id[weeks_with] < 0):
        return None  # a week or facility without a node
    chained = groups.uses_chain & ~direct
    if chained.any() and np.any(warm.priority_index[groups.priority[chained]] < 0):
        return None  # a priority class without a chain

    old_index = {k: i for i, k in enumerate(_keys(state.groups))}
    new_keys = _keys(groups)
    match = np.array([old_index.get(k, -1) for k in new_keys], dtype=np.int64)
    new_groups = np.flatnonzero(match < 0)
    node = np.empty(len(groups), dtype=np.int64)
    node[match >= 0] = state.warm.group_node[match[match >= 0]]
    node[new_groups] = [warm.add_group_node(int(prices.unassigned[g])) for g in new_groups]

    force = state.force
    supply = np.zeros(warm.num_nodes, dtype=np.int64)
    supply[node] = groups.size
    before = np.zeros(warm.num_nodes, dtype=np.int64)
    before[:state.supply.size] = state.supply  # the nodes just added had none
    change = supply - before  # per node: cases gained (> 0) or lost (< 0)
    lost, gained = np.flatnonzero(change < 0), np.flatnonzero(change > 0)
    sim = warm.simplex
    forced = [
        sim.append(lost, np.zeros(lost.size, dtype=np.int64), -change[lost],
                   np.full(lost.size, -force)),
        sim.append(np.zeros(gained.size, dtype=np.int64), gained, change[gained],
                   np.full(gained.size, -force)),
    ]
    f, t = weeks_with
    up, down = rise[f, t] > 0, rise[f, t] < 0
    place = warm.place0 + warm.place_id[f, t]
    sim.append(place[up], np.zeros(int(up.sum()), dtype=np.int64), rise[f, t][up],
               np.zeros(int(up.sum()), dtype=np.int64))
    forced.append(sim.append(np.zeros(int(down.sum()), dtype=np.int64), place[down],
                             -rise[f, t][down], np.full(int(down.sum()), -force)))
    for idx in forced:
        warm.forced.append(idx)
        warm.forced_cost += int(np.dot(sim._cap[idx], sim._cost[idx]))

    warm.instance, warm.groups, warm.prices = instance, groups, prices
    warm.group_node = node
    warm.node_group[:] = -1
    warm.node_group[node] = np.arange(len(groups))
    # Current places that had no arc yet (a group that is new, or whose place opened).
    cg, ccost = current
    missing = ~np.isin(node[cg], state.current_nodes)
    if missing.any():
        warm.add_current(cg[missing], ccost[missing])
    state.supply = supply
    state.capacity = capacity.copy()
    state.current_nodes = np.union1d(state.current_nodes, node[current[0]])
    state.groups = groups

    g, pf, cost, week = state.pairs
    new_of_old = np.full(len(old_index), -1, dtype=np.int64)
    new_of_old[match[match >= 0]] = np.flatnonzero(match >= 0)
    ng = new_of_old[g]
    keep = ng >= 0
    return ng[keep], pf[keep], cost[keep], week[keep]


def forced_at_capacity(warm: WarmNetwork) -> bool:
    """Every removal, injection and phantom arc carries its whole capacity (so the rest of the
    flow is a flow of the changed problem)."""
    sim = warm.simplex
    return all(np.array_equal(sim._flow[idx], sim._cap[idx]) for idx in warm.forced)


def ghosts_carry_nothing(network: Network, flow: np.ndarray) -> bool:
    """Arcs of nodes without a group (groups that are gone) carry no flow."""
    return not (np.any(flow[network.entry[network.entry_group < 0]] > 0)
                or np.any(flow[network.direct[network.direct_group < 0]] > 0))
