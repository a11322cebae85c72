"""Where one more place helps most: try each candidate change for one service and rank them by
how much they lower the objective (and how many more children they place), like AccessMod's
scaling-up analysis but on the live waitlist.

Services share no capacity, so a change for service S changes only S's part of the problem: each
candidate is solved exactly on the sub-instance of S (its cases and the facilities offering it),
which is what "solving each candidate separately" gives, at a fraction of the cost. The candidates
are solved in parallel processes (both cores).

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
    base = _figures(sub, _solve(sub))
    jobs = [(sub, c["changes"]) for c in candidates]
    workers = workers or min(len(jobs), os.cpu_count() or 1) or 1
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
