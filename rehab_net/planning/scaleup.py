"""Where one more place helps most: try each candidate change for one service and rank them by
how much they lower the objective (and how many more children they place), like AccessMod's
scaling-up analysis but on the live waitlist.

Services share no capacity, so a change for service S changes only S's part of the problem: each
candidate is solved exactly on the sub-instance of S (its cases and the facilities offering it),
which is what "solving each candidate separately" gives, at a fraction of the cost. Candidates
that only raise capacities (both kinds below) go through the optimiser's warm sweep
(solver/sweep.py: the baseline solved once, each candidate re-optimised from its basis, both
cores); any other change is solved on its own, in parallel processes.

Candidates:
- ``add_places``: N more intakes a week at a facility already offering S (or of a tier that may);
- ``open_station``: a new station at a township's centre offering S with N intakes a week.
Pure: works on the contract's dicts; the caller supplies townships' coordinates.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from rehab_net.planning import changes


def sub_instance(instance: dict, service: str) -> dict:
    """The part of the problem that one service makes up."""
    return {**instance, "name": f"{instance['name']}:{service}",
            "cases": [c for c in instance["cases"] if c["service"] == service],
            "facilities": [{**f, "capacity": {service: f["capacity"][service]}}
                           for f in instance["facilities"] if service in f["capacity"]]}


def _solve(instance: dict) -> dict:
    from solver.io import parse_instance, solution_to_dict
    from solver.solve import solve

    parsed = parse_instance(instance)
    return solution_to_dict(solve(parsed, workers=1), parsed)


def _figures(instance: dict, solution: dict) -> dict:
    placed = {a["case"] for a in solution["assignments"]}
    children = {c["id"] for c in instance["cases"] if c["priority"] == "child"}
    return {"status": solution["status"], "objective": solution["objective"],
            "placed": len(placed), "children_placed": len(placed & children),
            "children_within_4_weeks": sum(1 for a in solution["assignments"]
                                           if a["case"] in children and a["week"] < 4)}


def evaluate(args: tuple[dict, list[dict]]) -> dict:
    """Solve the sub-instance with one candidate's changes (runs in a pool process)."""
    base, edits = args
    changed, _ = changes.apply(base, edits, {})
    return _figures(changed, _solve(changed))


def candidates_add_places(sub: dict, service: str, places: int) -> list[dict]:
    return [{"label": f["id"], "changes": [{"kind": "capacity", "facility": f["id"],
                                           "service": service, "delta": places}]}
            for f in sub["facilities"]]


def candidates_open_station(service: str, places: int, townships: list[dict]) -> list[dict]:
    """``townships``: [{code, lat, lon}] of the townships to try."""
    return [{"label": t["code"], "changes": [{"kind": "open_facility", "code": f"NEW-{t['code']}",
                                             "tier": "station", "lat": t["lat"],
                                             "lon": t["lon"], "capacity": {service: places}}]}
            for t in townships]


def rank(instance: dict, service: str, candidates: list[dict], *, workers: int | None = None,
         progress=None) -> dict:
    """The baseline of ``service`` and every candidate, ranked by objective gain (then children
    placed). ``progress(done, total)`` is called as candidates finish."""
    sub = sub_instance(instance, service)
    workers = workers or min(len(candidates), os.cpu_count() or 1) or 1
    swept = _warm_sweep(sub, service, candidates, workers, progress)
    base, results = swept if swept is not None else _each_alone(sub, candidates, workers,
                                                               progress)
    ranked = []
    for candidate, figures in zip(candidates, results, strict=True):
        ranked.append({"candidate": candidate["label"], "changes": candidate["changes"],
                       **figures, "objective_gain": round(base["objective"]
                                                          - figures["objective"], 2),
                       "more_placed": figures["placed"] - base["placed"],
                       "more_children_placed": figures["children_placed"]
                       - base["children_placed"]})
    ranked.sort(key=lambda r: (-r["objective_gain"], -r["more_children_placed"],
                               r["candidate"]))
    return {"service": service, "baseline": base, "ranking": ranked}


def _each_alone(sub: dict, candidates: list[dict], workers: int, progress
                ) -> tuple[dict, list[dict]]:
    """The baseline and each candidate solved from scratch (any kind of change)."""
    base = _figures(sub, _solve(sub))
    jobs = [(sub, c["changes"]) for c in candidates]
    results: list[dict] = []
    if workers > 1 and not multiprocessing.current_process().daemon:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            for i, figures in enumerate(pool.map(evaluate, jobs, chunksize=1)):
                results.append(figures)
                if progress:
                    progress(i + 1, len(jobs))
    else:
        for i, job in enumerate(jobs):
            results.append(evaluate(job))
            if progress:
                progress(i + 1, len(jobs))
    return base, results


RISES = {"capacity", "open_facility"}  # the kinds of change the warm sweep can take


def _warm_sweep(sub: dict, service: str, candidates: list[dict], workers: int, progress
                ) -> tuple[dict, list[dict]] | None:
    """The baseline and every candidate by the optimiser's warm sweep, or None when some
    candidate does more than raise capacities of ``service`` (a decrease, another kind)."""
    import numpy as np

    from solver.io import parse_instance
    from solver.sweep import sweep

    if not candidates or any(change.get("kind") not in RISES
                             for c in candidates for change in c["changes"]):
        return None
    horizon = sub["horizon_weeks"]
    known = {f["id"] for f in sub["facilities"]}
    # Each candidate's facilities after its changes, by the same rules (and errors) as a
    # scenario's, applied to the facilities its changes name (the cases and the other
    # facilities play no part in them; copying them for each candidate did cost more).
    after = []
    for c in candidates:
        named = {ch.get("facility") for ch in c["changes"]} | {ch.get("code")
                                                               for ch in c["changes"]}
        skeleton = {**sub, "cases": [],
                    "facilities": [f for f in sub["facilities"] if f["id"] in named]}
        after.append(changes.apply(skeleton, c["changes"], {})[0]["facilities"])
    opened: dict[str, dict] = {}  # new facilities, without places in the baseline
    for facilities in after:
        for f in facilities:
            if f["id"] not in known and f["id"] not in opened:
                opened[f["id"]] = {**f, "capacity": {service: 0}}
    union = {**sub, "facilities": [*sub["facilities"], *opened.values()]}
    parsed = parse_instance(union)
    if parsed.services != [service]:
        return None
    index = {fid: j for j, fid in enumerate(parsed.facilities.ids)}
    capacity = parsed.facilities.capacity[:, 0, :]
    rows = []
    for facilities in after:
        mine = []
        for f in facilities:
            weeks = np.asarray(changes.weeks(f, service, horizon), dtype=capacity.dtype)
            j = index[f["id"]]
            if np.any(weeks < capacity[j]):
                return None
            if np.any(weeks > capacity[j]):
                mine.append((j, weeks))
        rows.append(mine)
    baseline, plans = sweep(parsed, rows, workers=workers, progress=progress)
    return _plan_figures(parsed, baseline), [_plan_figures(parsed, p) for p in plans]


def _plan_figures(parsed, plan) -> dict:
    """The figures of _figures, read from the sweep's arrays."""
    from solver.instance import NO_FACILITY, PRIORITIES

    placed = plan.facility != NO_FACILITY
    child = parsed.cases.priority == PRIORITIES.index("child")
    return {"status": "optimal" if plan.proven else "feasible",
            "objective": float(plan.objective), "placed": int(placed.sum()),
            "children_placed": int((placed & child).sum()),
            "children_within_4_weeks": int((placed & child & (plan.week < 4)).sum())}
