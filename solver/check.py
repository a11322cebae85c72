"""An independent check of a solution document against its instance and the contract
(../shared/SOLVER_FORMAT.md): every case exactly once, every assignment eligible, no capacity
exceeded, the objective equal to the recomputed cost, the unassigned reasons true. It shares only
costs.py with the optimiser, so a bug in the model cannot hide itself here."""
from __future__ import annotations

import math
from itertools import repeat
from operator import itemgetter

import numpy as np

from solver import costs
from solver.instance import (
    CAPACITY,
    FORMAT_SOLUTION,
    NO_ELIGIBLE_FACILITY,
    NO_FACILITY,
    REASONS,
    Instance,
)

STATUSES = ("optimal", "feasible", "error")
OBJECTIVE_RTOL = 1e-6  # the contract's "to 1e-6 relative"
OPTIMAL_GAP = 1e-4  # "optimal": objective proven within 0.01% of the true minimum
ROAD_KM_TOL = 1e-3  # the file keeps 3 decimals


def eligible_anywhere(instance: Instance) -> np.ndarray:
    """For each case, whether any (facility, week) is eligible for it at all, whatever other cases
    take: the line between the reasons no_eligible_facility and capacity.

    Done in bulk: a case without a travel limit only needs a facility offering its service in some
    week of its window. A limited case needs, for some week t of its window, the nearest facility
    offering its service in week t to be close enough; nearest distances are computed once per
    distinct location and distinct set of offering facilities (cases share villages, and weeks
    mostly share facility sets)."""
    c, f = instance.cases, instance.facilities
    horizon = instance.horizon_weeks
    n = len(c)
    result = np.zeros(n, dtype=bool)
    if n == 0 or len(f) == 0:
        return result
    lo = c.release.astype(np.int64)
    hi = np.minimum(c.deadline.astype(np.int64), horizon - 1)
    open_window = lo <= hi
    offered = f.capacity > 0  # (F, S, H)

    # No travel limit: count offering weeks with a prefix sum over the horizon.
    free = open_window & np.isinf(c.max_travel_km)
    weeks_offered = np.concatenate(
        [np.zeros((offered.shape[1], 1), dtype=np.int64),
         np.cumsum(offered.any(axis=0), axis=1, dtype=np.int64)], axis=1)  # (S, H + 1)
    idx = np.flatnonzero(free)
    s = c.service[idx]
    result[idx] = weeks_offered[s, hi[idx] + 1] - weeks_offered[s, lo[idx]] > 0

    idx = np.flatnonzero(open_window & ~np.isinf(c.max_travel_km))
    if idx.size:
        result[idx] = _nearest_in_window(instance, idx, offered, lo[idx], hi[idx]) \
            <= c.max_travel_km[idx]
    return result


def _nearest_in_window(instance: Instance, idx, offered, lo, hi) -> np.ndarray:
    """Road km from each case in idx to the nearest facility offering its service in a week of
    [lo, hi] (inf when none)."""
    c = instance.cases
    n_services, horizon = offered.shape[1], offered.shape[2]
    # Distinct sets of offering facilities over (service, week); set -1 = nobody.
    set_of = np.full((n_services, horizon), -1, dtype=np.int64)
    members: list[np.ndarray] = []
    seen: dict[bytes, int] = {}
    for s in np.unique(c.service[idx]).tolist():
        for t in range(horizon):
            column = offered[:, s, t]
            if column.any():
                set_of[s, t] = seen.setdefault(column.tobytes(), len(members))
                if set_of[s, t] == len(members):
                    members.append(np.flatnonzero(column))
    if not members:
        return np.full(len(idx), np.inf)

    # Distinct locations (a complex number sorts like the pair), distances from one
    # representative case of each.
    points = c.lat[idx] + 1j * c.lon[idx]
    _, first, location = np.unique(points, return_index=True, return_inverse=True)
    location = location.reshape(-1)
    representative = idx[first]
    nearest = np.full((len(representative), len(members) + 1), np.inf)  # last column: nobody
    n_fac = offered.shape[0]
    step = max(1, 2_000_000 // n_fac)
    everyone = np.arange(n_fac)
    for start in range(0, len(representative), step):
        rows = representative[start:start + step]
        km = costs.road_km(instance, rows[:, None], everyone[None, :])
        for k, cols in enumerate(members):
            nearest[start:start + step, k] = km[:, cols].min(axis=1)

    # Per distinct (location, service, window), the best week; then back to the cases.
    dims = (len(representative), n_services, horizon, horizon)
    combos, back = np.unique(np.ravel_multi_index((location, c.service[idx], lo, hi), dims),
                             return_inverse=True)
    back = back.reshape(-1)
    c_location, c_service, c_lo, c_hi = np.unravel_index(combos, dims)
    best = np.full(len(combos), np.inf)
    for t in range(horizon):
        inside = (c_lo <= t) & (t <= c_hi)
        column = set_of[c_service, t]
        column = np.where(column < 0, len(members), column)
        best = np.where(inside, np.minimum(best, nearest[c_location, column]), best)
    return best[back]


def check_solution(instance: Instance, solution: dict) -> list[str]:
    """Every way `solution` (a parsed solution document) breaks the contract for `instance`, as
    readable lines; an empty list means it is a valid plan with a correct objective."""
    problems: list[str] = []
    if not isinstance(solution, dict):
        return ["solution: must be a JSON object"]
    if solution.get("format") != FORMAT_SOLUTION:
        problems.append(f'format: must be "{FORMAT_SOLUTION}"')
    if solution.get("instance") != instance.name:
        problems.append(f"instance: {solution.get('instance')!r} is not this instance's name "
                        f"{instance.name!r}")
    status = solution.get("status")
    if status not in STATUSES:
        problems.append(f"status: must be one of {', '.join(STATUSES)}")

    cases, facilities = instance.cases, instance.facilities
    n = len(cases)
    case_index = {cid: i for i, cid in enumerate(cases.ids)}
    facility_index = {fid: j for j, fid in enumerate(facilities.ids)}
    a_case, a_facility, a_week, a_road = _read_assignments(
        _list(solution, "assignments", problems), case_index, facility_index, problems)
    u_case, u_reason = _read_unassigned(_list(solution, "unassigned", problems), case_index,
                                        problems)

    count = (np.bincount(a_case[a_case >= 0], minlength=n)
             + np.bincount(u_case[u_case >= 0], minlength=n))
    problems += _appearances(cases.ids, count, a_case, u_case)
    facility = np.full(n, NO_FACILITY, dtype=np.int64)
    week = np.full(n, -1, dtype=np.int64)
    road = np.full(n, np.nan)
    usable = a_facility != NO_FACILITY
    rows = a_case[usable]
    facility[rows], week[rows], road[rows] = a_facility[usable], a_week[usable], a_road[usable]
    reason = np.zeros(n, dtype=np.int8)  # 0: none given
    reason[u_case[u_case >= 0]] = u_reason[u_case >= 0]
    duplicated = count > 1
    facility[duplicated], reason[duplicated] = NO_FACILITY, 0

    assigned = np.flatnonzero(facility != NO_FACILITY)
    problems += _check_assignments(instance, assigned, facility, week, road)
    problems += _check_reasons(instance, reason)
    used = _usage(instance, assigned, facility, week)
    problems += _check_capacity(instance, used)
    complete = bool((count == 1).all())
    problems += _check_objective(instance, solution, status, facility, week, complete)
    problems += _check_shadow_prices(instance, solution, status, used, facility_index)
    return problems


def _list(solution: dict, key: str, problems: list[str]) -> list:
    value = solution.get(key)
    if not isinstance(value, list):
        problems.append(f"{key}: must be a list")
        return []
    return value


def _columns(rows: list, keys: tuple[str, ...]) -> list[list] | None:
    """The rows' values per key in one C-level pass each, or None unless every row is an object
    with all the keys (the rows are then read one by one)."""
    if not rows or not set(map(type, rows)) <= {dict}:
        return None
    try:
        return [list(map(itemgetter(key), rows)) for key in keys]
    except KeyError:
        return None


def _indices(values: list, index: dict) -> np.ndarray:
    """index[value] for each value, -1 where unknown (or not even hashable)."""
    try:
        return np.fromiter(map(index.get, values, repeat(-1)), dtype=np.int64, count=len(values))
    except TypeError:
        return np.array([index.get(v, -1) if isinstance(v, str) else -1 for v in values],
                        dtype=np.int64)


def _read_assignments(rows: list, case_index: dict, facility_index: dict, problems: list[str]):
    """Per row: case index (-1 unknown), facility index (NO_FACILITY when the row is unusable),
    week and road_km (NaN unless a number). A 1,000,000-row list is read in bulk; rows the bulk
    read cannot vouch for are read one by one, which words their problems."""
    m = len(rows)
    case = np.full(m, -1, dtype=np.int64)
    facility = np.full(m, NO_FACILITY, dtype=np.int64)
    week = np.full(m, -1, dtype=np.int64)
    road = np.full(m, np.nan)
    suspects = range(m)
    columns = _columns(rows, ("case", "facility", "week", "road_km"))
    if columns is not None:
        case[:] = _indices(columns[0], case_index)
        facility[:] = _indices(columns[1], facility_index)
        weeks_ok = set(map(type, columns[2])) <= {int}
        if weeks_ok:
            try:
                week[:] = np.array(columns[2], dtype=np.int64)
            except OverflowError:
                weeks_ok = False
        if set(map(type, columns[3])) <= {int, float}:
            road[:] = np.array(columns[3], dtype=np.float64)
        ok = (case >= 0) & (facility >= 0) & weeks_ok
        facility[~ok] = NO_FACILITY
        suspects = np.flatnonzero(~ok).tolist()
    for k in suspects:
        row, path = rows[k], f"assignments[{k}]"
        case[k] = _case(row, path, case_index, problems)
        if case[k] < 0:
            continue
        j, t, km = facility_index.get(row.get("facility"), -1), row.get("week"), row.get("road_km")
        if j < 0:
            problems.append(f"{path}.facility: unknown facility {row.get('facility')!r}")
        elif not _is_int(t):
            problems.append(f"{path}.week: must be an integer")
        else:
            facility[k], week[k] = j, int(t)
            road[k] = km if _is_number(km) else np.nan
    return case, facility, week, road


_REASON_CODES = {name: code for code, name in REASONS.items()}


def _read_unassigned(rows: list, case_index: dict, problems: list[str]):
    """Per row: case index (-1 unknown) and reason code (0 when not a contract reason)."""
    m = len(rows)
    case = np.full(m, -1, dtype=np.int64)
    reason = np.zeros(m, dtype=np.int8)
    suspects = range(m)
    columns = _columns(rows, ("case", "reason"))
    if columns is not None:
        case[:] = _indices(columns[0], case_index)
        reason[:] = _indices(columns[1], _REASON_CODES).clip(0)
        suspects = np.flatnonzero((case < 0) | (reason == 0)).tolist()
    for k in suspects:
        row, path = rows[k], f"unassigned[{k}]"
        case[k] = _case(row, path, case_index, problems)
        if case[k] >= 0:
            value = row.get("reason")
            reason[k] = _REASON_CODES.get(value, 0) if isinstance(value, str) else 0
            if not reason[k]:
                problems.append(f"{path}.reason: must be one of {', '.join(REASONS.values())}")
    return case, reason


def _case(row, path: str, case_index: dict, problems: list[str]) -> int:
    if not isinstance(row, dict):
        problems.append(f"{path}: must be an object")
        return -1
    value = row.get("case")
    i = case_index.get(value, -1) if isinstance(value, str) else -1
    if i < 0:
        problems.append(f"{path}.case: unknown case {value!r}")
    return i


def _appearances(ids: list[str], count: np.ndarray, a_case: np.ndarray,
                 u_case: np.ndarray) -> list[str]:
    """A line for each case that is not listed exactly once, naming where it is."""
    wrong = np.flatnonzero(count != 1)
    if not wrong.size:
        return []
    # Every appearance of a case listed more than once, grouped by case in document order.
    rows = np.concatenate([a_case, u_case])
    where = np.flatnonzero(np.isin(rows, wrong[count[wrong] > 1]))
    where = where[np.argsort(rows[where], kind="stable")]
    places: dict[int, list[str]] = {}
    for k in where.tolist():
        path = f"assignments[{k}]" if k < a_case.size else f"unassigned[{k - a_case.size}]"
        places.setdefault(int(rows[k]), []).append(path)
    return [f"case {ids[i]!r}: must appear exactly once "
            f"({', '.join(places[i]) if i in places else 'neither assigned nor unassigned'})"
            for i in wrong.tolist()]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value) -> bool:
    return _is_number(value) and float(value).is_integer()


def _check_assignments(instance: Instance, assigned, facility, week, road) -> list[str]:
    c = instance.cases
    f, t = facility[assigned], week[assigned]
    ok = costs.eligible(instance, assigned, f, t) if assigned.size else np.zeros(0, dtype=bool)
    problems = []
    for i, j, w in zip(assigned[~ok].tolist(), f[~ok].tolist(), t[~ok].tolist(), strict=True):
        problems.append(f"case {c.ids[i]!r}: ({instance.facilities.ids[j]!r}, week {w}) is not "
                        f"eligible: {_why_not(instance, i, j, w)}")
    km = costs.road_km(instance, assigned, f) if assigned.size else np.zeros(0)
    off = ~(np.abs(road[assigned] - km) <= ROAD_KM_TOL)  # NaN (missing road_km) counts as off
    for i, given, true in zip(assigned[off].tolist(), road[assigned][off].tolist(),
                              km[off].tolist(), strict=True):
        problems.append(f"case {c.ids[i]!r}: road_km {given} differs from {true:.3f} recomputed")
    return problems


def _why_not(instance: Instance, i: int, j: int, t: int) -> str:
    c, horizon = instance.cases, instance.horizon_weeks
    last = min(int(c.deadline[i]), horizon - 1)
    if not (c.release[i] <= t <= last):
        return f"week outside the case's window {c.release[i]}..{last}"
    if instance.facilities.capacity[j, c.service[i], t] <= 0:
        return f"no capacity for {instance.services[c.service[i]]!r} that week"
    km = float(costs.road_km(instance, np.array([i]), np.array([j]))[0])
    return f"road {km:.1f} km exceeds the limit of {c.max_travel_km[i]} km"


def _check_reasons(instance: Instance, reason: np.ndarray) -> list[str]:
    """`reason` per case: a REASONS code where the file gives one, else 0."""
    idx = np.flatnonzero(reason)
    if not idx.size:
        return []
    possible = eligible_anywhere(instance)[idx]
    given = reason[idx]
    wrong = np.where(possible, given != CAPACITY, given != NO_ELIGIBLE_FACILITY)
    return [f"case {instance.cases.ids[i]!r}: reason must be capacity (an eligible facility and "
            "week exist)" if can else
            f"case {instance.cases.ids[i]!r}: reason must be no_eligible_facility (no facility "
            "and week is eligible)"
            for i, can in zip(idx[wrong].tolist(), possible[wrong].tolist(), strict=True)]


def _usage(instance: Instance, assigned, facility, week) -> np.ndarray:
    """Cases assigned per (facility, service, week), like Facilities.capacity."""
    used = np.zeros(instance.facilities.capacity.shape, dtype=np.int64)
    rows = assigned[(week[assigned] >= 0) & (week[assigned] < instance.horizon_weeks)]
    np.add.at(used, (facility[rows], instance.cases.service[rows], week[rows]), 1)
    return used


def _check_capacity(instance: Instance, used: np.ndarray) -> list[str]:
    cap = instance.facilities.capacity
    problems = []
    for j, s, t in zip(*np.nonzero(used > cap), strict=True):
        problems.append(f"facility {instance.facilities.ids[j]!r} service "
                        f"{instance.services[s]!r} week {t}: {used[j, s, t]} assigned, capacity "
                        f"{cap[j, s, t]}")
    return problems


def _check_objective(instance: Instance, solution: dict, status, facility, week,
                     complete: bool) -> list[str]:
    objective, bound = solution.get("objective"), solution.get("bound")
    problems = []
    if objective is None:
        if status != "error":
            problems.append("objective: required unless status is error")
        return problems
    if not _is_number(objective) or not math.isfinite(objective):
        return ["objective: must be a finite number"]
    if complete:
        true = costs.total_cost(instance, facility, week)
        if abs(objective - true) > OBJECTIVE_RTOL * max(1.0, abs(true)):
            problems.append(f"objective: {objective!r} differs from the recomputed cost {true!r}")
    if bound is not None:
        if not _is_number(bound) or not math.isfinite(bound):
            problems.append("bound: must be a finite number or null")
        elif bound > objective + OBJECTIVE_RTOL * max(1.0, abs(objective)):
            problems.append(f"bound: {bound!r} is above the objective {objective!r}")
        elif status == "optimal" and objective - bound > OPTIMAL_GAP * max(1.0, abs(objective)):
            problems.append(f"status: optimal, but the objective {objective!r} is more than "
                            f"0.01% above the bound {bound!r}")
    return problems


def _check_shadow_prices(instance: Instance, solution: dict, status, used: np.ndarray,
                         facility_index: dict) -> list[str]:
    """Well-formed, sorted by value (highest first), and - being positive duals - only on
    capacities the plan uses to the full (complementary slackness)."""
    rows = solution.get("shadow_prices", [])
    if not isinstance(rows, list):
        return ["shadow_prices: must be a list"]
    problems = []
    service_index = {s: k for k, s in enumerate(instance.services)}
    cap = instance.facilities.capacity
    seen, previous = set(), math.inf
    for k, row in enumerate(rows):
        path = f"shadow_prices[{k}]"
        if not isinstance(row, dict):
            problems.append(f"{path}: must be an object")
            continue
        j = facility_index.get(row.get("facility"))
        s = service_index.get(row.get("service"))
        t, value = row.get("week"), row.get("value")
        if j is None or s is None or not _is_int(t) or not 0 <= t < instance.horizon_weeks:
            problems.append(f"{path}: unknown facility, service or week")
            continue
        if not _is_number(value) or not math.isfinite(value) or value < 0:
            problems.append(f"{path}.value: must be a number >= 0")
            continue
        if value > previous:
            problems.append(f"{path}: not sorted by value, highest first")
        previous = value
        if (j, s, int(t)) in seen:
            problems.append(f"{path}: listed twice")
        seen.add((j, s, int(t)))
        if status == "optimal" and value > 0 and used[j, s, int(t)] < cap[j, s, int(t)]:
            problems.append(f"{path}: a positive price on a capacity that does not bind "
                            f"({used[j, s, int(t)]} of {cap[j, s, int(t)]} places used)")
    return problems
