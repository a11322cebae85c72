"""Entry point of the optimisation: column generation over a min cost flow.

1. Group interchangeable cases (groups.py).
2. Start from each group's few cheapest facilities (travel + tier + earliest possible wait).
3. Solve the min cost flow over those pairs (model.WarmNetwork, a network simplex that keeps its
   basis, simplex.py), read the largest capacity duals from the residual graph (a Dijkstra on
   the reduced costs of its potentials), scan ALL eligible pairs with them (pricing.py): the scan
   gives a lower bound of the full problem and every pair that could still lower the cost. Add
   those to the same network, re-optimise from its last basis and repeat until the bound is
   within STOP_GAP of the flow's cost: that is the proof.
4. The shadow prices: the smallest duals of the full problem (full_smallest_duals).
5. Split each group's flow back into its cases and weeks (this file)."""
from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import time
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from solver import replan
from solver.check import eligible_anywhere
from solver.costs import case_costs, road_km
from solver.groups import Groups, group_cases
from solver.instance import (
    ASSIGNED,
    CAPACITY,
    NO_ELIGIBLE_FACILITY,
    NO_FACILITY,
    Instance,
    Solution,
)
from solver.model import (
    INFINITE,
    Network,
    Prices,
    Reach,
    SolverFailure,
    WarmNetwork,
)
from solver.pricing import (
    EntryCosts,
    Offsets,
    current_values,
    eligible_current,
    offsets,
    pair_values,
    scan,
    service_ranges,
    start_classes,
)
from solver.simplex import NotOptimal, warm_up

FIRST_PER_GROUP = 4  # candidate facilities per group before any pricing
ADDED_PER_GROUP = 8  # at most this many pairs added per group and round
OPTIMALITY_GAP = 1e-4  # the contract's 0.01%
# The pricing rounds of a service stop once its certified gap is within this fraction of its
# cost: half the contract's, leaving the other half for the rounding of scaled costs.
STOP_GAP = OPTIMALITY_GAP / 2
PARALLEL_FROM_CASES = 5_000  # below this, forking costs more than it saves


def solve(instance: Instance, time_limit: float | None = None,
          workers: int | None = None, memo: ServiceMemo | None = None) -> Solution:
    """Solve an instance to proven optimality (status optimal), or return the best plan found
    when `time_limit` seconds stop the pricing rounds (status feasible, with a proven lower bound),
    or status error with a message. Never raises for a valid instance. `workers` processes solve
    services in parallel on large instances (default: the machine's cores, at most 4). With a
    `memo` kept between solves (the app's resident optimiser), a service whose problem is
    exactly the one of an earlier solve takes that solve's proven result instead of solving it
    again, and a service whose problem changed goes on from the network of its last solve
    (replan.py): a re-plan after one booking re-optimises only the booking's service."""
    started = time.perf_counter()
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    try:
        return _solve(instance, time_limit, started, workers, memo)
    except (SolverFailure, NotOptimal, MemoryError) as exc:
        return error_solution(instance, f"{type(exc).__name__}: {exc}", started)


@dataclass
class Part:
    """The result for the groups of one service (services share no capacity, so each is a
    problem of its own): its lower bound, scaled, and whether it is proven optimal."""

    bound: int
    converged: bool
    any_eligible: np.ndarray
    shadow_prices: list
    rounds: int = 0
    arcs: int = 0
    pairs: int = 0
    pivots: int = 0
    state: object = None  # replan.WarmState to keep for the next re-plan (with a memo)


def _solve(instance: Instance, time_limit: float | None, started: float,
           workers: int, memo: ServiceMemo | None = None) -> Solution:
    groups = group_cases(instance)
    prices = Prices.of(instance, groups)
    reach = Reach(instance)
    cases = len(instance.cases)
    facility = np.full(cases, NO_FACILITY, dtype=np.int32)
    week = np.full(cases, -1, dtype=np.int32)
    deadline = None if time_limit is None else started + time_limit

    bounds = service_ranges(groups, len(instance.services))
    ranges = [(int(bounds[s]), int(bounds[s + 1])) for s in range(len(instance.services))
              if bounds[s] < bounds[s + 1]]
    problem = (instance, groups, prices, reach, deadline, memo is not None)
    known: dict[int, Part] = {}
    keys: dict[int, bytes] = {}
    families: dict[int, bytes] = {}
    replanned = 0
    if memo is not None:
        facilities = memo.facilities_key(instance, prices)
        for i, (lo, hi) in enumerate(ranges):
            keys[i] = memo.key(facilities, instance, groups, lo, hi)
            families[i] = facilities + int(groups.service[lo]).to_bytes(4, "little")
            found = memo.get(keys[i])
            if found is not None:
                part, f, w = found
                cases = groups.part(lo, hi).case_order
                facility[cases], week[cases] = f, w
                # Nothing was built or pivoted for it in this solve.
                known[i] = replace(part, rounds=0, arcs=0, pairs=0, pivots=0)
                continue
            # The service changed since its last solve: go on from that solve's basis.
            state = memo.take_state(families[i])
            if state is not None:
                part = replan_range(problem, lo, hi, state, facility, week)
                if part is not None:
                    known[i] = part
                    replanned += 1
    todo = [i for i in range(len(ranges)) if i not in known]
    if (workers > 1 and len(instance.cases) >= PARALLEL_FROM_CASES and len(todo) > 1
            # A daemonic process (the app's plan worker runs solves in one) may not have children.
            and not multiprocessing.current_process().daemon):
        solved = solve_parts_in_processes(problem, [ranges[i] for i in todo], workers,
                                          facility, week)
    else:
        solved = [solve_range(problem, *ranges[i], facility, week) for i in todo]
    for i, part in zip(todo, solved, strict=True):
        known[i] = part
    if memo is not None:
        for i, part in known.items():
            if part.state is not None:
                memo.keep_state(families[i], part.state)
                known[i] = part = replace(part, state=None)
            if part.converged and keys[i] not in memo:
                cases = groups.part(*ranges[i]).case_order
                memo.put(keys[i], part, facility[cases].copy(), week[cases].copy())
    parts = [known[i] for i in range(len(ranges))]
    any_eligible = (np.concatenate([p.any_eligible for p in parts]) if parts
                    else np.zeros(0, dtype=bool))
    return finish(instance, groups, prices, facility, week, any_eligible,
                  bound_scaled=sum(p.bound for p in parts),
                  converged=all(p.converged for p in parts),
                  shadow=[x for p in parts for x in p.shadow_prices], started=started,
                  stats={"groups": len(groups), "arcs": sum(p.arcs for p in parts),
                         "candidate_pairs": sum(p.pairs for p in parts),
                         "flow_solves": sum(p.rounds for p in parts),
                         "pivots": sum(p.pivots for p in parts), "scale": prices.scale,
                         **({"services_reused": len(ranges) - len(todo) - replanned,
                             "services_replanned": replanned} if memo else {})})


class ServiceMemo:
    """The proven results of the last services solved (at most `size`), by a digest of
    everything their problem is made of: the service's groups (places, priorities, weeks, travel
    limits, current places, sizes), every facility's place, tier and capacity for the service,
    the policy, the horizon and the cost scale. Services share nothing else, so a service with
    the same digest has the same optimum; its cases (in group order) take the same places."""

    def __init__(self, size: int = 256, states: int = 64):
        self.size, self.states = size, states
        self._parts: OrderedDict[bytes, tuple[Part, np.ndarray, np.ndarray]] = OrderedDict()
        # By service (the facilities' digest and the service's index): the network of its last
        # solve, for a re-plan to go on from (replan.py).
        self._states: OrderedDict[bytes, object] = OrderedDict()
        self.hits = self.misses = 0

    @staticmethod
    def _digest(*arrays) -> hashlib.blake2b:
        h = hashlib.blake2b(digest_size=20)
        for a in arrays:
            a = np.ascontiguousarray(a)
            h.update(str((a.dtype.str, a.shape)).encode())
            h.update(a.tobytes())
        return h

    def facilities_key(self, instance: Instance, prices: Prices) -> bytes:
        f = instance.facilities
        h = self._digest(f.lat, f.lon, f.tier)
        h.update(repr((instance.policy, instance.horizon_weeks, prices.scale, FIRST_PER_GROUP,
                       ADDED_PER_GROUP, STOP_GAP)).encode())
        return h.digest()

    def key(self, facilities: bytes, instance: Instance, groups: Groups, lo: int,
            hi: int) -> bytes:
        s = int(groups.service[lo])
        h = self._digest(groups.service[lo:hi], groups.priority[lo:hi], groups.release[lo:hi],
                         groups.last[lo:hi], groups.lat[lo:hi], groups.lon[lo:hi],
                         groups.max_travel_km[lo:hi], groups.current_facility[lo:hi],
                         groups.current_week[lo:hi], groups.size[lo:hi],
                         instance.facilities.capacity[:, s, :])
        h.update(facilities)
        return h.digest()

    def __contains__(self, key: bytes) -> bool:
        return key in self._parts

    def take_state(self, family: bytes):
        """The kept network of a service's last solve (replan.WarmState), taken out: a re-plan
        changes it, and keeps it again only when it succeeds."""
        return self._states.pop(family, None)

    def keep_state(self, family: bytes, state) -> None:
        """Keep a service's network, the oldest ones going beyond `states` networks or
        replan.KEPT_ARCS arcs in all (a province's networks would take GBs)."""
        self._states[family] = state
        self._states.move_to_end(family)
        while len(self._states) > 1 and (
                len(self._states) > self.states
                or sum(s.warm.num_arcs for s in self._states.values()) > replan.KEPT_ARCS):
            self._states.popitem(last=False)

    def get(self, key: bytes):
        found = self._parts.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._parts.move_to_end(key)
        return found

    def put(self, key: bytes, part: Part, facility: np.ndarray, week: np.ndarray) -> None:
        self._parts[key] = (part, facility, week)
        self._parts.move_to_end(key)
        while len(self._parts) > self.size:
            self._parts.popitem(last=False)


def solve_range(problem: tuple, lo: int, hi: int, facility: np.ndarray,
                week: np.ndarray) -> Part:
    instance, groups, prices, reach, deadline, keep = problem
    return solve_part(instance, groups.part(lo, hi), prices.part(lo, hi), reach, deadline,
                      facility, week, keep=keep)


def replan_range(problem: tuple, lo: int, hi: int, state, facility: np.ndarray,
                 week: np.ndarray) -> Part | None:
    """Service lo..hi from the kept network of its last solve (replan.py), or None when that
    network cannot take the changes (then it is solved from scratch)."""
    instance, groups, prices, reach, deadline, _ = problem
    groups, prices = groups.part(lo, hi), prices.part(lo, hi)
    service = ServiceProblem.of(instance, groups, prices, reach)
    pairs = replan.carry_over(state, instance, groups, prices, reach, service.direct,
                              service.current)
    if pairs is None:
        return None
    first = service.first_scan()
    warm = state.warm
    pivots = warm.simplex.pivots
    try:
        result = optimise(service, warm, pairs, deadline)
    except NotOptimal:  # a basis the changes broke: solve from scratch
        return None
    network = warm.network()
    flow = warm.simplex.flow
    if not (result.proven and replan.forced_at_capacity(warm)
            and replan.ghosts_carry_nothing(network, flow)):
        return None
    split_into_cases(groups, network, flow, facility, week)
    state.pairs = result.pairs
    return Part(result.bound, result.proven, first.any_eligible,
                binding_places(network, warm.full_places(), result.smallest, prices.scale),
                rounds=result.rounds, arcs=warm.num_arcs, pairs=int(result.pairs[0].size),
                pivots=warm.simplex.pivots - pivots, state=state.detach())


# The problem a forked pool worker solves parts of: set before the pool forks, so the workers
# share it copy-on-write instead of receiving a pickled copy of a large instance.
_FORKED_PROBLEM: tuple | None = None


def _solve_range_in_worker(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, Part]:
    instance, groups = _FORKED_PROBLEM[0], _FORKED_PROBLEM[1]
    facility = np.full(len(instance.cases), NO_FACILITY, dtype=np.int32)
    week = np.full(len(instance.cases), -1, dtype=np.int32)
    part = solve_range(_FORKED_PROBLEM, lo, hi, facility, week)
    cases = groups.part(lo, hi).case_order
    return cases, facility[cases], week[cases], part


def solve_parts_in_processes(problem: tuple, ranges: list, workers: int, facility: np.ndarray,
                             week: np.ndarray) -> list[Part]:
    """Solve services in parallel, in forked processes. The results are identical to solving
    them one after another."""
    global _FORKED_PROBLEM
    _FORKED_PROBLEM = problem
    # Load the compiled flow engine once here, so that the forked workers inherit it instead of
    # each loading it from numba's cache (~0.3 s each).
    warm_up()
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            # Largest services first, so that the last one to finish is a small one.
            order = sorted(range(len(ranges)), key=lambda i: ranges[i][0] - ranges[i][1])
            futures = {i: pool.submit(_solve_range_in_worker, *ranges[i]) for i in order}
            parts = []
            for i in range(len(ranges)):
                cases, f, w, part = futures[i].result()
                facility[cases], week[cases] = f, w
                parts.append(part)
            return parts
    finally:
        _FORKED_PROBLEM = None


def solve_part(instance: Instance, groups: Groups, prices: Prices, reach: Reach,
               deadline: float | None, facility: np.ndarray, week: np.ndarray,
               keep: bool = False) -> Part:
    """Solve the groups of one service; write their cases' facility and week. With `keep`, the
    network is returned in the Part's state, for a re-plan to go on from (replan.py)."""
    problem = ServiceProblem.of(instance, groups, prices, reach)
    first = problem.first_scan()
    pairs = added(empty_pairs(), first, problem.direct)
    if cheapest_fits(instance, groups, prices, problem.offsets_at_zero, problem.outside_at_zero,
                     problem.current, pairs, facility, week):
        # Everyone at their cheapest choice fits within capacity: the bound with zero prices
        # is met, so this is optimal without any flow.
        return Part(int(np.dot(groups.size, first.best)), True, first.any_eligible, [],
                    pairs=int(pairs[0].size))

    # The network is built once; each round appends the new candidates and re-optimises from
    # the last basis (a few pivots), and its potentials make the duals a Dijkstra.
    warm = problem.network()
    warm.add(pairs)
    result = optimise(problem, warm, pairs, deadline)
    network = warm.network()
    flow = warm.simplex.flow
    split_into_cases(groups, network, flow, facility, week)
    state = None
    if keep and result.proven:
        state = replan.keep(warm, groups, prices, result.pairs, problem.current,
                            instance.facilities.capacity[:, warm.service, :])
    return Part(result.bound, result.proven, first.any_eligible,
                binding_places(network, warm.full_places(), result.smallest, prices.scale),
                rounds=result.rounds, arcs=warm.num_arcs, pairs=int(result.pairs[0].size),
                pivots=warm.simplex.pivots, state=state and state.detach())


@dataclass
class ServiceProblem:
    """One service's groups with what the pricing rounds keep for the whole solve: the eligible
    current places, the entry costs, the start classes and whether candidates are direct arcs."""

    instance: Instance
    groups: Groups
    prices: Prices
    reach: Reach
    current: tuple
    entries: EntryCosts
    classes: object
    direct: bool

    @classmethod
    def of(cls, instance: Instance, groups: Groups, prices: Prices,
           reach: Reach) -> ServiceProblem:
        return cls(instance, groups, prices, reach, eligible_current(instance, groups, prices),
                   EntryCosts(instance, groups, prices, reach),
                   start_classes(instance, groups, reach), abundant(instance, groups))

    def first_scan(self):
        """Each group's FIRST_PER_GROUP cheapest options with places free of charge (and which
        groups have any eligible option at all)."""
        instance, groups, prices = self.instance, self.groups, self.prices
        place_value = np.zeros(instance.facilities.capacity.shape, dtype=np.int64)
        self.offsets_at_zero = offsets(instance, groups, prices, self.reach, place_value,
                                       self.classes)
        self.outside_at_zero = np.minimum(prices.unassigned, current_values(
            instance, groups, prices, place_value, self.current))
        first = scan(instance, groups, self.entries, self.offsets_at_zero, self.outside_at_zero,
                     limit=np.full(len(groups), INFINITE), per_group=FIRST_PER_GROUP)
        first.any_eligible[self.current[0]] = True
        return first

    def network(self, structure: np.ndarray | None = None) -> WarmNetwork:
        return WarmNetwork(self.instance, self.groups, self.prices, self.reach, self.current,
                           chains=not self.direct, structure=structure)

    def price(self, pairs: tuple, place_value: np.ndarray):
        return price_outside(self.instance, self.groups, self.prices, self.reach, self.entries,
                             self.classes, self.current, pairs, place_value)


@dataclass
class Optimum:
    bound: int  # scaled
    proven: bool  # within the stopping gap, and the shadow prices are those of ALL pairs
    smallest: np.ndarray  # the shadow prices (dense, scaled)
    pairs: tuple
    rounds: int


def optimise(problem: ServiceProblem, warm: WarmNetwork, pairs: tuple,
             deadline: float | None, shadow_prices: bool = True) -> Optimum:
    """The pricing rounds on a warm network holding `pairs`: re-optimise, bound with the largest
    duals over ALL eligible pairs, add the pairs that could lower the cost, until the bound is
    within STOP_GAP of the flow's cost; then the smallest duals of the full problem, which also
    make the flow exactly optimal. Without `shadow_prices` (a sweep needs only the exact cost)
    the rounds go on until no pair outside prices below its group: the network's optimal duals
    are then feasible for the full problem, so its flow is the exact optimum."""
    groups = problem.groups
    stop_gap = STOP_GAP if shadow_prices else 0.0
    rounds = 0
    while True:
        rounds += 1
        warm.solve()
        primal = warm.objective()
        # Any prices v >= 0 give a lower bound; the network's largest optimal duals give a far
        # tighter one than its smallest (they price its full places highest, so fewer pairs
        # outside it look cheaper), and the pairs they find missing are the ones to add.
        place_value = warm.place_values(largest=True)
        priced = problem.price(pairs, place_value)
        bound = (int(np.dot(groups.size, priced.best))
                 - warm.capacity_value(place_value))
        converged = primal - bound <= stop_gap * abs(primal)
        if converged or priced.new_group.size == 0:
            break
        if deadline is not None and time.perf_counter() > deadline:
            break
        pairs = add_pairs(warm, pairs, priced, problem.direct)

    if not shadow_prices:
        return Optimum(bound, converged or priced.new_group.size == 0, None, pairs, rounds)
    smallest, pairs, solves, complete = full_smallest_duals(problem, pairs, warm, deadline)
    return Optimum(bound, converged and complete, smallest, pairs, rounds + solves)


# A service with at least this many places per case over the horizon: its places are rarely
# full, so a candidate is a (group, facility, week) with one direct arc rather than a (group,
# facility) pair entering the facility's weekly chain, whose nodes cost more than they save.
ABUNDANT_PLACES_PER_CASE = 4.0


def price_outside(instance: Instance, groups: Groups, prices: Prices, reach: Reach,
                  entries: EntryCosts, classes, current: tuple, pairs: tuple,
                  place_value: np.ndarray):
    """One pricing scan at the place values ``place_value``: each group's best option outside the
    network (limited by what its pairs in the network and staying put already offer), and the
    pairs worth adding. The bound of a round and the check of the shadow prices both use it."""
    offs = offsets(instance, groups, prices, reach, place_value, classes)
    outside = np.minimum(prices.unassigned,
                         current_values(instance, groups, prices, place_value, current))
    limit = outside.copy()
    np.minimum.at(limit, pairs[0], pair_values(groups, offs, *pairs))
    return scan(instance, groups, entries, offs, outside, limit, per_group=ADDED_PER_GROUP)


def abundant(instance: Instance, groups: Groups) -> bool:
    services = np.unique(groups.service)
    places = int(instance.facilities.capacity[:, services, :].sum(dtype=np.int64))
    return places >= ABUNDANT_PLACES_PER_CASE * int(groups.size.sum())


def empty_pairs() -> tuple:
    empty = np.zeros(0, dtype=np.int64)
    return empty, empty, empty, empty


def added(pairs: tuple, priced, direct: bool) -> tuple:
    """The candidates with those a scan found: (group, facility, entry cost, week), week -1 for a
    pair over all its weeks (a chain entry, or a direct arc per week for a deadline group), or
    the week of the scan's value when candidates are single direct arcs."""
    week = priced.new_week if direct else np.full(priced.new_group.size, -1, dtype=np.int64)
    return tuple(np.concatenate([a, b]) for a, b in zip(
        pairs, (priced.new_group, priced.new_facility, priced.new_cost, week), strict=True))


def add_pairs(warm: WarmNetwork, pairs: tuple, priced, direct: bool) -> tuple:
    """The candidates with those the scan found, whose arcs join the warm network."""
    new = added(empty_pairs(), priced, direct)
    warm.add(new)
    return tuple(np.concatenate([a, b]) for a, b in zip(pairs, new, strict=True))


def full_smallest_duals(problem: ServiceProblem, pairs: tuple, warm: WarmNetwork,
                        deadline: float | None) -> tuple:
    """The shadow prices: the smallest optimal duals of the FULL problem, i.e. minus the shortest
    distance from T to each place in the residual graph over ALL eligible pairs, not only the
    network's (whose own smallest duals can be lower: a pair outside it may be what one more
    place would be used for). The network's smallest duals price every eligible pair; pairs
    below their group's value (negative reduced cost) join the network and it is re-optimised
    from its basis (no pivot at all unless they close a negative cycle: the flow was within the
    stopping gap but not optimal), until none is left. Returns the duals (dense, scaled), the
    pairs, the number of re-optimisations that pivoted and whether it finished before the
    deadline."""
    solves = 0
    while True:
        place_value = warm.place_values()
        priced = problem.price(pairs, place_value)
        if priced.new_group.size == 0:
            return place_value, pairs, solves, True
        if deadline is not None and time.perf_counter() > deadline:
            return place_value, pairs, solves, False
        pairs = add_pairs(warm, pairs, priced, problem.direct)
        if warm.solve():
            solves += 1


def cheapest_fits(instance: Instance, groups: Groups, prices: Prices, offs: Offsets,
                  outside: np.ndarray, current: tuple, pairs: tuple, facility: np.ndarray,
                  week: np.ndarray) -> bool:
    """Give every group its cheapest choice (with places free of charge); if no capacity is
    exceeded, write it and say so."""
    g, f, cost, _ = pairs
    value = pair_values(groups, offs, *pairs)
    order = np.lexsort((f, value, g))
    g, f, value = g[order], f[order], value[order]
    firsts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if g.size else np.zeros(0, np.int64)
    g, f, value = g[firsts], f[firsts], value[firsts]

    n = len(groups)
    chosen_f = np.full(n, NO_FACILITY, dtype=np.int64)
    chosen_t = np.full(n, -1, dtype=np.int64)
    by_pair = value < outside[g]
    chosen_f[g[by_pair]] = f[by_pair]
    chosen_t[g[by_pair]] = earliest_week(instance, groups, g[by_pair], f[by_pair])
    cg, _ = current
    keeps = cg[(chosen_f[cg] == NO_FACILITY) & (outside[cg] < prices.unassigned[cg])]
    chosen_f[keeps] = groups.current_facility[keeps]
    chosen_t[keeps] = groups.current_week[keeps]

    placed = np.flatnonzero(chosen_f != NO_FACILITY)
    capacity = instance.facilities.capacity
    used = np.zeros(capacity.shape[0::2], dtype=np.int64)
    np.add.at(used, (chosen_f[placed], chosen_t[placed]), groups.size[placed])
    if np.any(used > capacity[:, groups.service[0], :]):
        return False
    whole = np.repeat(np.arange(n), groups.size)
    facility[groups.case_order] = chosen_f[whole]
    week[groups.case_order] = chosen_t[whole]
    return True


def earliest_week(instance: Instance, groups: Groups, g: np.ndarray, f: np.ndarray) -> np.ndarray:
    """The first week from each group's release with capacity at facility f (it exists: the pair
    is eligible)."""
    horizon = instance.horizon_weeks
    weeks = np.arange(horizon)
    open_ = ((instance.facilities.capacity[f, groups.service[g], :] > 0)
             & (weeks[None, :] >= groups.release[g][:, None])
             & (weeks[None, :] <= groups.last[g][:, None]))
    return np.argmax(open_, axis=1)


def split_into_cases(groups: Groups, network: Network, flow: np.ndarray, facility: np.ndarray,
                     week: np.ndarray) -> None:
    """Write each case's facility and start week (left NO_FACILITY / -1 when unassigned).

    A group's flow reaches a facility either directly (facility and week known) or through the
    facility's chain, whose flow only says how many of the priority class start in each week.
    Within a chain any matching of entries to starts no earlier than the entry costs the same (the
    total wait is the sum of start weeks minus the sum of release weeks), so entries are matched to
    starts first-in first-out, which flow conservation makes always possible."""
    pieces_g, pieces_f, pieces_t, pieces_n = [], [], [], []

    direct_flow = flow[network.direct]
    used = direct_flow > 0
    place = network.direct_place[used]
    pieces_g.append(network.direct_group[used])
    pieces_f.append(network.place_facility[place])
    pieces_t.append(network.place_week[place])
    pieces_n.append(direct_flow[used])

    entry_flow = flow[network.entry]
    used = entry_flow > 0
    e_group, e_chain = network.entry_group[used], network.entry_chain[used]
    e_units = entry_flow[used]
    e_order = np.lexsort((e_group, groups.release[e_group], e_chain))
    e_group, e_chain, e_units = e_group[e_order], e_chain[e_order], e_units[e_order]

    exit_flow = flow[network.exits]
    used = exit_flow > 0
    x_chain, x_week, x_units = network.exit_chain[used], network.exit_week[used], exit_flow[used]
    x_order = np.lexsort((x_week, x_chain))
    x_chain, x_week, x_units = x_chain[x_order], x_week[x_order], x_units[x_order]

    # Entries and starts laid end to end over all chains in the same chain order cover the same
    # units; cutting at both sets of boundaries gives pieces that are one entry and one start.
    e_end, x_end = np.cumsum(e_units), np.cumsum(x_units)
    cuts = np.union1d(e_end, x_end)
    piece_start = np.concatenate([[0], cuts[:-1]])[:cuts.size]  # none without chains
    e_at = np.searchsorted(e_end, piece_start, side="right")
    x_at = np.searchsorted(x_end, piece_start, side="right")
    pieces_g.append(e_group[e_at])
    pieces_f.append(network.chain_facility[x_chain[x_at]])
    pieces_t.append(x_week[x_at])
    pieces_n.append(cuts - piece_start)

    g = np.concatenate(pieces_g).astype(np.int64)
    f = np.concatenate(pieces_f).astype(np.int64)
    t = np.concatenate(pieces_t).astype(np.int64)
    n = np.concatenate(pieces_n).astype(np.int64)
    order = np.lexsort((t, f, g))
    g, f, t, n = g[order], f[order], t[order], n[order]
    # One slot per unit; the k-th case of a group (in file order) takes the group's k-th slot.
    slot_f, slot_t = np.repeat(f, n), np.repeat(t, n)
    slot_group = np.repeat(g, n)
    assigned = np.bincount(slot_group, minlength=len(groups))
    slot_first = np.cumsum(assigned) - assigned

    case_group = np.repeat(np.arange(len(groups)), groups.size)
    rank = np.arange(groups.case_order.size) - np.repeat(groups.start, groups.size)
    placed = rank < assigned[case_group]
    slot = slot_first[case_group[placed]] + rank[placed]
    facility[groups.case_order[placed]] = slot_f[slot]
    week[groups.case_order[placed]] = slot_t[slot]


def finish(instance: Instance, groups: Groups, prices: Prices, facility: np.ndarray,
           week: np.ndarray, any_eligible: np.ndarray, bound_scaled: int, converged: bool,
           shadow: list, started: float, stats: dict) -> Solution:
    cases = len(instance.cases)
    costs = case_costs(instance, facility, week)
    objective = float(np.sum(costs))
    if not math.isfinite(objective):
        # Not reachable for an instance io.py accepted (limits.py); for any other, no plan rather
        # than an "optimal" one without an objective.
        return error_solution(instance, f"the objective is not a finite number ({objective}): "
                              "the costs are too large", started)
    # The bound in money: the scaled bound can exceed the true one by the rounding of each grouped
    # case; cases that can never start are left out of the flow and cost exactly their penalty.
    outside = groups.of_case < 0
    bound = ((bound_scaled - prices.rounding_slack(instance) * int(groups.size.sum()))
             / prices.scale + float(np.sum(costs[outside])))
    bound = min(bound, objective)
    gap = objective - bound
    proven = converged and (gap <= OPTIMALITY_GAP * abs(objective) or gap <= 1e-6)

    placed = facility != NO_FACILITY
    road = np.full(cases, np.nan)
    idx = np.flatnonzero(placed)
    road[idx] = road_km(instance, idx, facility[idx])
    reason = np.full(cases, ASSIGNED, dtype=np.int8)
    case_eligible = np.zeros(cases, dtype=bool)
    inside = ~outside
    case_eligible[inside] = any_eligible[groups.of_case[inside]]
    reason[~placed] = np.where(case_eligible[~placed], CAPACITY, NO_ELIGIBLE_FACILITY)

    return Solution(
        instance=instance.name, status="optimal" if proven else "feasible",
        objective=objective, bound=bound, facility=facility, week=week, road_km=road,
        reason=reason, shadow_prices=shadow,
        stats={"wall_seconds": round(time.perf_counter() - started, 3), "cases": cases, **stats},
    )


def binding_places(network: Network, full: np.ndarray, place_value: np.ndarray,
                   scale: int) -> list[tuple[int, int, int, float]]:
    """Full places (WarmNetwork.full_places) whose one more intake would lower the optimal
    cost, with by how much."""
    f = network.place_facility[full]
    s = network.place_service[full]
    t = network.place_week[full]
    value = place_value[f, s, t]
    keep = value > 0
    return [(int(a), int(b), int(c), float(v) / scale)
            for a, b, c, v in zip(f[keep], s[keep], t[keep], value[keep], strict=True)]


def error_solution(instance: Instance, message: str, started: float | None = None) -> Solution:
    """What a failed solve returns: no plan, every case unassigned (the contract wants each case
    listed) with the reason it would have had."""
    cases = len(instance.cases)
    reason = np.where(eligible_anywhere(instance), CAPACITY, NO_ELIGIBLE_FACILITY)
    stats = {"cases": cases}
    if started is not None:
        stats = {"wall_seconds": round(time.perf_counter() - started, 3), **stats}
    return Solution(
        instance=instance.name, status="error", objective=None, bound=None,
        facility=np.full(cases, NO_FACILITY, dtype=np.int32),
        week=np.full(cases, -1, dtype=np.int32), road_km=np.full(cases, np.nan),
        reason=reason.astype(np.int8), stats=stats, message=message,
    )
