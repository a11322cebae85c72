"""The exact oracle the solver is checked against: CP-SAT over every eligible (case, facility,
week), built on costs.py alone; the contract's tolerance; the places a plan fills."""
from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from solver import costs
from solver.instance import NO_FACILITY, Instance

SCALE = 1000  # CP-SAT needs integer costs


def close(value: float, expected: float) -> bool:
    """The brief's tolerance: 1e-6 relative plus 0.01 absolute."""
    return abs(value - expected) <= 1e-6 * abs(expected) + 0.01


def cpsat_optimum(inst: Instance) -> float:
    """The least total cost, found without any of the solver's code but costs.py: every eligible
    triple a Boolean, one unassigned Boolean per case, capacities as sums; the plan CP-SAT proves
    optimal (for costs rounded to 1/1000) recomputed in floats."""
    c = inst.cases
    n, n_fac, horizon = len(c), len(inst.facilities), inst.horizon_weeks
    i, f, t = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n_fac), np.arange(horizon),
                                              indexing="ij"))
    ok = costs.eligible(inst, i, f, t)
    i, f, t = i[ok], f[ok], t[ok]
    # cost[k] of triple k: case_costs with only that case placed there.
    cost = np.empty(i.size)
    for k in range(i.size):
        fac, wk = np.full(n, NO_FACILITY), np.full(n, -1)
        fac[i[k]], wk[i[k]] = f[k], t[k]
        cost[k] = costs.case_costs(inst, fac, wk)[i[k]]
    stay_out = costs.case_costs(inst, np.full(n, NO_FACILITY), np.full(n, -1))

    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{k}") for k in range(i.size)]
    out = [model.new_bool_var(f"u{j}") for j in range(n)]
    for j in range(n):
        model.add(sum(x[k] for k in np.flatnonzero(i == j)) + out[j] == 1)
    place = {}
    for k in range(i.size):
        place.setdefault((f[k], c.service[i[k]], t[k]), []).append(x[k])
    for (fk, sk, tk), xs in place.items():
        model.add(sum(xs) <= int(inst.facilities.capacity[fk, sk, tk]))
    model.minimize(sum(int(round(SCALE * cost[k])) * x[k] for k in range(i.size))
                   + sum(int(round(SCALE * stay_out[j])) * out[j] for j in range(n)))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 4
    solver.parameters.max_time_in_seconds = 60
    assert solver.solve(model) == cp_model.OPTIMAL
    fac, wk = np.full(n, NO_FACILITY), np.full(n, -1)
    for k in range(i.size):
        if solver.value(x[k]):
            fac[i[k]], wk[i[k]] = f[k], t[k]
    exact = costs.total_cost(inst, fac, wk)
    assert abs(exact - solver.objective_value / SCALE) <= 1e-3 * max(1.0, abs(exact))
    return exact


def binding_places(inst: Instance, solution) -> set[tuple[int, int, int]]:
    used = np.zeros(inst.facilities.capacity.shape, dtype=np.int64)
    placed_ = solution.facility != NO_FACILITY
    np.add.at(used, (solution.facility[placed_], inst.cases.service[placed_],
                     solution.week[placed_]), 1)
    full = (used == inst.facilities.capacity) & (inst.facilities.capacity > 0)
    return {tuple(int(v) for v in p) for p in np.argwhere(full)}
