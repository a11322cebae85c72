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

Costs are integers (the flow engine, solver/simplex.py, works in int64): every money amount is
multiplied by a scale and rounded; solve.py bounds the rounding error and recomputes the objective
in floats.

Candidate arcs: which (group, facility) pairs are in the network is decided outside (solve.py
prices the others with the capacity duals and adds back any that could lower the cost); the
network of a service is built once (WarmNetwork) and the candidates' arcs are appended to it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solver.costs import unassigned_penalty, wait_cost
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
        self.facilities = self._of(instance.facilities.capacity)

    @classmethod
    def of_capacity(cls, capacity: np.ndarray) -> Reach:
        """Where a (facility, service, week) capacity array other than the instance's would
        deliver each service (a sweep's: every facility a candidate can open)."""
        reach = cls.__new__(cls)
        reach.facilities = cls._of(capacity)
        return reach

    @staticmethod
    def _of(capacity: np.ndarray) -> list[np.ndarray]:
        return [np.flatnonzero(capacity[:, s, :].any(axis=1)) for s in range(capacity.shape[1])]


@dataclass
class Network:
    """What each arc of a solved network means, for reading the flow back (split_into_cases,
    binding_places): the arcs as (4, n) int64 rows tail, head, capacity, cost, and for each kind
    of arc the indices of its arcs and the group / chain / place / week they stand for."""

    arcs: np.ndarray
    unassigned: np.ndarray  # group -> T
    entry: np.ndarray  # group -> chain
    entry_group: np.ndarray
    entry_chain: np.ndarray  # chain index (into chain_* arrays)
    direct: np.ndarray  # group -> place
    direct_group: np.ndarray
    direct_place: np.ndarray  # place index
    exits: np.ndarray  # chain node -> place
    exit_chain: np.ndarray
    exit_week: np.ndarray
    place_arcs: np.ndarray  # place -> T
    # Chains: (facility, priority); places: (facility, service, week).
    chain_facility: np.ndarray
    chain_priority: np.ndarray
    place_facility: np.ndarray
    place_service: np.ndarray
    place_week: np.ndarray
    num_nodes: int


def next_open_week(capacity: np.ndarray) -> np.ndarray:
    """(facility, service, week) -> the first week from it with capacity, or the horizon."""
    horizon = capacity.shape[2]
    week = np.where(capacity > 0, np.arange(horizon), horizon)
    return np.minimum.accumulate(week[:, :, ::-1], axis=2)[:, :, ::-1]


class WarmNetwork:
    """The network of the groups of ONE service, kept for the whole solve: its nodes and the arcs
    that do not depend on the candidates (unassigned, places, chains, current places) are built
    once; each round only appends the new candidates' arcs, and the warm network simplex
    (solver/simplex.py) re-optimises from the last basis.

    Nodes: T (0), the groups, every place (facility, week) of the service with capacity, and when
    `chains`, a chain node per facility of the service, priority class of the groups that wait
    in chains, and week with capacity (a week without capacity could only be waited through: an
    entry goes to the first open week from its release, its cost plus the wait to it, and a wait
    arc spans the weeks to the chain's next open one). The first basis puts every group's whole
    supply on its unassigned arc, the places under T and each chain node under its place."""

    def __init__(self, instance: Instance, groups: Groups, prices: Prices, reach: Reach,
                 current: tuple, chains: bool, structure: np.ndarray | None = None):
        # Imported here: numba takes ~0.3 s to import, which the web app's processes that only
        # read plans should not pay.
        from solver.simplex import WarmSimplex

        capacity = instance.facilities.capacity
        # The nodes: places and chain weeks where `structure` (default: the capacity) is
        # positive. A sweep of candidate changes (sweep.py) builds them for every week a
        # candidate could open, so that a candidate only raises capacities.
        if structure is None:
            structure = capacity
        horizon = instance.horizon_weeks
        self.instance, self.groups, self.prices = instance, groups, prices
        self.service = s = int(groups.service[0]) if len(groups) else 0
        num_groups = len(groups)
        facilities = reach.facilities[s]
        self.facilities, self.chains = facilities, chains
        self.next_open = next_open_week(structure[:, s:s + 1, :])[:, 0, :]
        open_ = structure[facilities, s, :] > 0  # (facilities of s, weeks)
        pf, pt = np.nonzero(open_)
        self.place_facility = facilities[pf].astype(np.int64)
        self.place_week = pt.astype(np.int64)
        num_places = pf.size
        self.place_id = np.full((len(instance.facilities), horizon), -1, dtype=np.int64)
        self.place_id[self.place_facility, self.place_week] = np.arange(num_places)

        priorities = (np.unique(groups.priority[groups.uses_chain]).astype(np.int64) if chains
                      else np.zeros(0, dtype=np.int64))
        self.priority_index = np.full(len(PRIORITIES), -1, dtype=np.int64)
        self.priority_index[priorities] = np.arange(priorities.size)
        self.num_priorities = priorities.size
        self.column = np.full(len(instance.facilities), -1, dtype=np.int64)
        self.column[facilities] = np.arange(facilities.size)
        chain_col = np.repeat(np.arange(facilities.size), priorities.size)
        self.chain_facility = facilities[chain_col].astype(np.int64)
        self.chain_priority = np.tile(priorities, facilities.size)
        chain_open = open_[chain_col]  # (chains, weeks)
        node_chain, node_week = np.nonzero(chain_open)
        self.chain_node_of = np.cumsum(chain_open.ravel()).reshape(chain_open.shape) - 1

        self.place0 = 1 + num_groups
        self.chain0 = self.place0 + num_places
        num_nodes = self.chain0 + node_chain.size
        self.num_nodes = num_nodes
        # Larger than any flow: the capacity of every arc but the places' (a re-plan may add
        # cases up to a quarter of it, replan.py).
        supply = int(groups.size.sum())
        big = 4 * supply + 1024
        self.big = big
        self.group_node = 1 + np.arange(num_groups, dtype=np.int64)  # by group of self.groups
        self.node_group = np.full(num_nodes, -1, dtype=np.int64)  # its group, -1 when none
        self.node_group[self.group_node] = np.arange(num_groups)
        # Arcs with a forcing cost (a re-plan's supply and capacity changes): their flow, always
        # at capacity in an optimum, is not part of the problem's cost.
        self.forced: list[np.ndarray] = []
        self.forced_cost = 0

        chain_node = self.chain0 + np.arange(node_chain.size)
        node_place = self.place0 + self.place_id[self.chain_facility[node_chain], node_week]
        last_of_chain = np.ones(node_chain.size, dtype=bool)
        last_of_chain[:-1] = node_chain[1:] != node_chain[:-1]
        waited = np.zeros(node_chain.size, dtype=np.int64)
        waited[:-1] = node_week[1:] - node_week[:-1]
        waits = ~last_of_chain
        place_nodes = self.place0 + np.arange(num_places)
        parts = [
            (1 + np.arange(num_groups), np.zeros(num_groups), np.full(num_groups, big),
             prices.unassigned),
            (place_nodes, np.zeros(num_places),
             capacity[self.place_facility, s, self.place_week], np.zeros(num_places)),
            (chain_node, node_place, np.full(node_chain.size, big), np.zeros(node_chain.size)),
            (chain_node[waits], chain_node[waits] + 1, np.full(int(waits.sum()), big),
             prices.wait[self.chain_priority[node_chain[waits]]] * waited[waits]),
        ]
        # A place without capacity (only in a sweep's structure) hangs under T by an arc no
        # optimum uses (dearer than leaving any group unassigned): a tree arc must be able to
        # carry flow towards the root, which its own place arc of capacity 0 cannot.
        closed = np.flatnonzero(capacity[self.place_facility, s, self.place_week] == 0)
        parts.append((place_nodes[closed], np.zeros(closed.size), np.full(closed.size, big),
                      np.full(closed.size, int(np.max(prices.unassigned, initial=0)) + 1)))
        tail, head, cap, cost = (np.concatenate([np.asarray(p[i], dtype=np.int64)
                                                 for p in parts]) for i in range(4))
        counts = np.cumsum([0] + [len(p[0]) for p in parts])
        self.unassigned = np.arange(counts[0], counts[1])
        self.place_arcs = np.arange(counts[1], counts[2])
        self.exits = np.arange(counts[2], counts[3])
        barred = np.arange(counts[4], counts[5])
        self.exit_chain, self.exit_week = node_chain.astype(np.int64), node_week.astype(np.int64)

        parent = np.full(num_nodes, -1, dtype=np.int64)
        parent_arc = np.full(num_nodes, -1, dtype=np.int64)
        parent[1:self.chain0] = 0
        parent_arc[1:self.place0] = self.unassigned
        parent_arc[self.place0:self.chain0] = self.place_arcs
        parent_arc[self.place0 + closed] = barred
        parent[self.chain0:] = node_place
        parent_arc[self.chain0:] = self.exits
        flow = np.zeros(tail.size, dtype=np.int64)
        flow[self.unassigned] = groups.size
        self.simplex = WarmSimplex(num_nodes, 0, tail, head, cap, cost, flow, parent, parent_arc)
        self._dense: dict[bool, np.ndarray] = {}

        self._entry, self._entry_group, self._entry_chain = [], [], []
        self._direct, self._direct_group, self._direct_place = [], [], []
        self.add_current(*current)

    def add_current(self, g, cost) -> None:
        """The arcs of groups g to their current places (`cost`: of staying, without the wait,
        pricing.eligible_current)."""
        groups = self.groups
        week = groups.current_week[g].astype(np.int64)
        self._add_direct(g, groups.current_facility[g].astype(np.int64), week,
                         cost + self.prices.wait[groups.priority[g]] * (week - groups.release[g]))

    def _add_direct(self, g, f, week, cost) -> None:
        place = self.place_id[f, week]
        node = self.group_node[g]
        idx = self.simplex.append(node, self.place0 + place, np.full(len(g), self.big), cost)
        self._direct.append(idx)
        self._direct_group.append(node)
        self._direct_place.append(place)

    def add_group_node(self, unassigned_cost: int) -> int:
        """A node for a group the network did not have (a re-plan's, replan.py), hung under T
        by its unassigned arc, without supply yet."""
        node = self.simplex.add_leaf(self.big, unassigned_cost)
        self.node_group = np.append(self.node_group, -1)
        self.num_nodes += 1
        return node

    def add(self, pairs: tuple) -> None:
        """Append the arcs of new candidates (group, facility, entry cost, week): a chain entry
        for pairs of groups that can wait to the horizon's end, one direct arc per eligible week
        for pairs of the others, one direct arc for a candidate with its own week."""
        groups, prices, instance = self.groups, self.prices, self.instance
        g, f, cost, one_week = (np.asarray(x, dtype=np.int64) for x in pairs)
        chained = groups.uses_chain[g] & (one_week < 0)
        eg, ef, ecost = g[chained], f[chained], cost[chained]
        release = groups.release[eg].astype(np.int64)
        e_week = self.next_open[ef, release]
        keep = e_week < instance.horizon_weeks
        eg, ef, ecost, release, e_week = (x[keep] for x in (eg, ef, ecost, release, e_week))
        priority = groups.priority[eg].astype(np.int64)
        chain = self.column[ef] * self.num_priorities + self.priority_index[priority]
        node = self.chain0 + self.chain_node_of[chain, e_week]
        # Candidate arcs are as wide as any flow (the group's supply bounds them), so that a
        # re-plan may give a group more cases without touching them.
        idx = self.simplex.append(self.group_node[eg], node, np.full(eg.size, self.big),
                                  ecost + prices.wait[priority] * (e_week - release))
        self._entry.append(idx)
        self._entry_group.append(self.group_node[eg])
        self._entry_chain.append(chain)

        single = one_week >= 0
        sg, sf, sweek, scost = g[single], f[single], one_week[single], cost[single]
        every = ~chained & ~single
        g, f, cost = g[every], f[every], cost[every]
        span = (groups.last[g] - groups.release[g] + 1).astype(np.int64)
        pick = np.repeat(np.arange(g.size), span)
        first_of = np.repeat(np.cumsum(span) - span, span)
        week = groups.release[g][pick] + (np.arange(pick.size) - first_of)
        g, f, cost = g[pick], f[pick], cost[pick]
        open_ = instance.facilities.capacity[f, self.service, week] > 0
        g, f, week, cost = (np.concatenate([a[open_], b]) for a, b in
                            ((g, sg), (f, sf), (week, sweek), (cost, scost)))
        week = week.astype(np.int64)
        self._add_direct(g, f, week, cost + prices.wait[groups.priority[g]]
                         * (week - groups.release[g]))

    def solve(self) -> int:
        """Re-optimise from the last basis; the number of pivots."""
        return self.simplex.run()

    def objective(self) -> int:
        """The flow's cost, without the forcing costs of a re-plan's changes."""
        return self.simplex.objective() - self.forced_cost

    @property
    def num_arcs(self) -> int:
        return self.simplex.m

    def place_values(self, largest: bool = False) -> np.ndarray:
        """Optimal dual prices of the places (facility, service, week), scaled, dense; zero where
        the place is not full. The smallest: minus the shortest residual distance from T to the
        place, how much the network's cost falls when it gets one more intake. With `largest`,
        the shortest distance from the place to T: how much it rises with one place fewer."""
        from solver.simplex import UNREACHABLE

        dist = self.simplex.distances(to_root=largest)
        d = dist[self.place0:self.chain0]
        if not largest:
            d = -d
        value = np.where(np.abs(d) == UNREACHABLE, 0, np.maximum(0, d))
        # One dense array per kind, overwritten by the next call of the same kind (only this
        # service's places ever change): allocating it each round cost more than the Dijkstra.
        dense = self._dense.get(largest)
        if dense is None:
            dense = self._dense[largest] = np.zeros(self.instance.facilities.capacity.shape,
                                                    dtype=np.int64)
        dense[self.place_facility, self.service, self.place_week] = value
        return dense

    def capacity_value(self, place_value: np.ndarray) -> int:
        """sum of capacity x price over the service's places (the others are priced 0)."""
        capacity = self.instance.facilities.capacity[self.place_facility, self.service,
                                                     self.place_week]
        return int(np.dot(capacity, place_value[self.place_facility, self.service,
                                                self.place_week]))

    def full_places(self) -> np.ndarray:
        """Per place: whether it is full, i.e. every arc that takes its intakes to T is at
        capacity (its own, and the parallel ones of a rise; a re-plan's phantom arc fills the
        part of it that is gone), and it has places at all."""
        sim = self.simplex
        tail, head, cost = sim.tail, sim.head, sim.cost
        out = np.flatnonzero((head == 0) & (tail >= self.place0) & (tail < self.chain0)
                             & (cost == 0))
        room = np.zeros(self.chain0 - self.place0, dtype=np.int64)
        np.add.at(room, tail[out] - self.place0, sim.cap[out] - sim.flow[out])
        capacity = self.instance.facilities.capacity[self.place_facility, self.service,
                                                     self.place_week]
        return (room == 0) & (capacity > 0)

    def raise_capacity(self, facility: int, capacity: np.ndarray) -> None:
        """The places of `facility` get `capacity` (per week, at least the present one; the
        instance's capacity array is updated by the caller): each rise is a parallel place arc
        at flow 0, so the basis stays feasible and the next solve starts from it. Weeks must have
        their node (`structure`); current places and direct arcs of pairs in the network that
        the rise makes eligible are the caller's (sweep.py)."""
        s = self.service
        old = self.instance.facilities.capacity[facility, s, :]
        rise = np.asarray(capacity, dtype=np.int64) - old
        if np.any(rise < 0):
            raise ValueError("a capacity may only rise on a warm network")
        weeks = np.flatnonzero(rise > 0)
        place = self.place_id[facility, weeks]
        if np.any(place < 0):
            raise ValueError("a week without a node in the network's structure")
        self.simplex.append(self.place0 + place, np.zeros(weeks.size, dtype=np.int64),
                            rise[weeks], np.zeros(weeks.size, dtype=np.int64))

    def snapshot(self) -> tuple:
        """The state to come back to (restore): the basis and flow, and the arcs' count."""
        lists = (self._entry, self._entry_group, self._entry_chain, self._direct,
                 self._direct_group, self._direct_place)
        return self.simplex.snapshot(), [len(x) for x in lists]

    def restore(self, state: tuple) -> None:
        """Back to a snapshot: the arcs appended since are dropped."""
        basis, lengths = state
        self.simplex.restore(basis)
        for x, n in zip((self._entry, self._entry_group, self._entry_chain, self._direct,
                         self._direct_group, self._direct_place), lengths, strict=True):
            del x[n:]

    def network(self) -> Network:
        sim = self.simplex

        def joined(parts):
            return (np.concatenate(parts).astype(np.int64) if parts
                    else np.zeros(0, dtype=np.int64))

        return Network(
            arcs=np.stack([sim.tail, sim.head, sim.cap, sim.cost]),
            unassigned=self.unassigned, entry=joined(self._entry),
            entry_group=self.node_group[joined(self._entry_group)],
            entry_chain=joined(self._entry_chain),
            direct=joined(self._direct), direct_group=self.node_group[joined(self._direct_group)],
            direct_place=joined(self._direct_place), exits=self.exits,
            exit_chain=self.exit_chain, exit_week=self.exit_week, place_arcs=self.place_arcs,
            chain_facility=self.chain_facility, chain_priority=self.chain_priority,
            place_facility=self.place_facility,
            place_service=np.full(self.place_facility.size, self.service, dtype=np.int64),
            place_week=self.place_week, num_nodes=self.num_nodes,
        )
