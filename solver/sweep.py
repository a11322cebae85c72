"""A sweep of candidate capacity rises on one warm network (the scale-up analysis's engine).

A candidate ("6 more places a week at this facility", "a new station here") changes only the
capacities of one service. Instead of solving each candidate's problem from scratch, the
baseline is solved once on a network whose structure already holds every week any candidate
can open (model.WarmNetwork with `structure`); each candidate then raises its capacities as
parallel place arcs at flow 0 (the baseline's optimal basis stays feasible), re-optimises from
that basis with the same pricing rounds as a cold solve (solve.optimise over ALL eligible pairs,
until no pair outside the network prices below its group: the exact optimum), reads its plan
and goes back to the baseline's snapshot. A candidate then costs a few hundred pivots instead of
tens of thousands.

Pure: arrays in, arrays out; the caller (rehab_net/planning/scaleup.py) makes the instance (one
service, every facility a candidate touches included, a new one with zero capacity) and reads
the figures it wants from each plan."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from solver.costs import case_costs
from solver.groups import group_cases
from solver.instance import NO_FACILITY, Instance
from solver.model import Prices, Reach
from solver.pricing import eligible_current
from solver.simplex import warm_up
from solver.solve import (
    OPTIMALITY_GAP,
    ServiceProblem,
    added,
    empty_pairs,
    optimise,
    split_into_cases,
)

# A candidate: the new capacity rows it gives, [(facility index, capacity per week)].
Candidate = list[tuple[int, np.ndarray]]


@dataclass
class Plan:
    """One problem's optimal plan: cost (money), per case the facility (NO_FACILITY when
    unassigned) and start week (-1), and whether the bound proves it within the contract's gap."""

    objective: float
    facility: np.ndarray
    week: np.ndarray
    proven: bool


def sweep(instance: Instance, candidates: list[Candidate], workers: int = 1,
          progress=None) -> tuple[Plan, list[Plan]]:
    """The baseline's plan and each candidate's. `instance` holds ONE service. A candidate may
    only raise capacities (ValueError otherwise). With `workers` > 1 the candidates are shared
    out to forked processes after the baseline is solved (each inherits its warm network).
    `progress(done, total)` is called as candidates finish."""
    services = np.unique(instance.cases.service)
    if services.size > 1:
        raise ValueError("a sweep works on one service's instance")
    s = int(services[0]) if services.size else 0
    capacity = instance.facilities.capacity
    for rows in candidates:
        for f, row in rows:
            if np.any(np.asarray(row) < capacity[f, s, :]):
                raise ValueError("a candidate may only raise capacities")
    if services.size == 0:  # no case: nothing to place, whatever the capacities
        empty = Plan(0.0, np.zeros(0, np.int32), np.zeros(0, np.int32), True)
        return empty, [empty for _ in candidates]
    warm_up()
    state = _Baseline(instance, s, candidates)
    baseline = state.plan()
    total = len(candidates)
    if workers <= 1 or total < 2 or multiprocessing.current_process().daemon:
        plans = []
        for rows in candidates:
            plans.append(state.evaluate(rows))
            if progress:
                progress(len(plans), total)
        return baseline, plans
    global _FORKED
    _FORKED = state
    try:
        context = multiprocessing.get_context("fork")
        # Several chunks a worker, so that progress is reported as they finish.
        size = max(1, -(-total // (4 * workers)))
        chunks = [list(range(k, min(k + size, total))) for k in range(0, total, size)]
        plans: list[Plan] = []
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for results in pool.map(_evaluate_chunk, chunks):
                plans.extend(results)
                if progress:
                    progress(len(plans), total)
    finally:
        _FORKED = None
    return baseline, plans


_FORKED = None  # the baseline a forked worker goes on from (set before the pool forks)


def _evaluate_chunk(chunk: list[int]) -> list[Plan]:
    return [_FORKED.evaluate(_FORKED.candidates[k]) for k in chunk]


class _Baseline:
    """The service's problem solved once, on a network with every candidate's weeks."""

    def __init__(self, instance: Instance, service: int, candidates: list[Candidate]):
        self.instance, self.service, self.candidates = instance, service, candidates
        capacity = instance.facilities.capacity
        structure = capacity.copy()
        for rows in candidates:
            for f, row in rows:
                structure[f, service, :] = np.maximum(structure[f, service, :], row)
        self.groups = groups = group_cases(instance)
        self.prices = Prices.of(instance, groups)
        # Reach (and so the entry costs and start classes, computed once) over every facility a
        # candidate can open; one without capacity prices as closed until a candidate opens it.
        reach = Reach.of_capacity(structure)
        self.problem = ServiceProblem.of(instance, groups, self.prices, reach)
        first = self.problem.first_scan()
        self.warm = self.problem.network(structure)
        self.pairs = added(empty_pairs(), first, self.problem.direct)
        self.warm.add(self.pairs)
        self.optimum = optimise(self.problem, self.warm, self.pairs, None, shadow_prices=False)
        self.pairs = self.optimum.pairs
        self.saved = self.warm.snapshot()
        self.current = self.problem.current

    def plan(self) -> Plan:
        """The network's present optimum as a plan of every case."""
        instance, groups = self.instance, self.groups
        facility = np.full(len(instance.cases), NO_FACILITY, dtype=np.int32)
        week = np.full(len(instance.cases), -1, dtype=np.int32)
        if len(groups):
            split_into_cases(groups, self.warm.network(), self.warm.simplex.flow, facility,
                             week)
        costs = case_costs(instance, facility, week)
        objective = float(np.sum(costs))
        # The bound in money as in solve.finish: less the rounding of scaled costs, plus the
        # cases that can never start (left out of the flow at their penalty).
        bound = ((self.optimum.bound - self.prices.rounding_slack(instance)
                  * int(groups.size.sum())) / self.prices.scale
                 + float(np.sum(costs[groups.of_case < 0])))
        gap = objective - min(bound, objective)
        proven = self.optimum.proven and (gap <= OPTIMALITY_GAP * abs(objective) or gap <= 1e-6)
        return Plan(objective, facility, week, proven)

    def evaluate(self, rows: Candidate) -> Plan:
        """Raise the candidate's capacities, re-optimise from the baseline's basis, read the
        plan, and go back to the baseline."""
        instance, problem, warm, s = self.instance, self.problem, self.warm, self.service
        capacity = instance.facilities.capacity
        before = [(f, capacity[f, s, :].copy()) for f, _ in rows]
        try:
            for f, row in rows:
                warm.raise_capacity(f, row)
                opened = (capacity[f, s, :] == 0) & (np.asarray(row) > 0)
                capacity[f, s, :] = row
                if opened.any():
                    self._open_weeks(f, opened)
            self.optimum = optimise(problem, warm, self.pairs, None, shadow_prices=False)
            return self.plan()
        finally:
            for f, row in before:
                capacity[f, s, :] = row
            warm.restore(self.saved)
            problem.current = self.current
            self.optimum = None

    def _open_weeks(self, f: int, opened: np.ndarray) -> None:
        """Weeks of facility f that had no capacity now have some: the network's pairs that
        reach f by one direct arc per week (groups with a deadline inside the horizon) get the
        new weeks' arcs, and current places there become eligible. Chains reach every week of
        the structure already."""
        groups, warm, problem = self.groups, self.warm, self.problem
        g, pf, cost, own_week = self.pairs
        mine = (pf == f) & (own_week < 0) & ~groups.uses_chain[g]
        weeks = np.flatnonzero(opened)
        if mine.any() and weeks.size:
            mg, mcost = np.repeat(g[mine], weeks.size), np.repeat(cost[mine], weeks.size)
            mweek = np.tile(weeks, int(mine.sum()))
            inside = (mweek >= groups.release[mg]) & (mweek <= groups.last[mg])
            warm.add((mg[inside], np.full(int(inside.sum()), f), mcost[inside],
                      mweek[inside]))
        current = eligible_current(self.instance, groups, self.prices)
        new = ~np.isin(current[0], self.current[0])
        if new.any():
            warm.add_current(current[0][new], current[1][new])
        problem.current = current
