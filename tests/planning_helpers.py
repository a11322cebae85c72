"""Stand-ins for the optimiser, run in the worker's child process by tests that are about the
plumbing (storing, crashes, cancelling), not about the optimisation; a small waiting list; and
the set-up of the RQ tests (an app on a real Redis, a `rehab-net worker` process).
The solvers must be importable by name: the child is spawned and imports them afresh."""
from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from tests.factories import (
    app_context_of,
    create_case,
    create_person,
    secrets_env,
    tiny_network,
)

SAMPLE = Path(__file__).resolve().parents[1] / "sample_network" / "data"


def greedy_solver(instance: dict, time_limit: float) -> dict:
    """A contract solution that respects capacities and windows: each case, in file order, takes
    the earliest week at the first facility with a place left. Binding places get a price."""
    horizon = instance["horizon_weeks"]
    left = {(f["id"], s): (list(c) if isinstance(c, list) else [c] * horizon)
            for f in instance["facilities"] for s, c in f["capacity"].items()}
    offered = {s for (_f, s), places in left.items() if any(places)}
    where = {f["id"]: f for f in instance["facilities"]}
    factor = instance["policy"]["road_factor"]
    assignments, unassigned = [], []
    for case in instance["cases"]:
        last = min(horizon - 1, case["deadline_week"] if case["deadline_week"] is not None
                   else horizon - 1)
        weeks = range(case["release_week"], last + 1)
        offers = [(f, t) for (f, s), places in left.items() if s == case["service"]
                  for t in weeks if places[t] > 0]
        if not offers:
            eligible = case["service"] in offered and len(weeks) > 0
            unassigned.append({"case": case["id"],
                               "reason": "capacity" if eligible else "no_eligible_facility"})
            continue
        f, t = min(offers, key=lambda o: (o[1], o[0]))
        left[(f, case["service"])][t] -= 1
        km = factor * _haversine(case, where[f])
        assignments.append({"case": case["id"], "facility": f, "week": t, "road_km": round(km, 3)})
    prices = [{"facility": f, "service": s, "week": t, "value": 100.0 + t}
              for (f, s), places in sorted(left.items()) for t, n in enumerate(places) if n == 0]
    return {"format": "rehab-net.solution/1", "instance": instance["name"], "status": "optimal",
            "objective": float(len(assignments)), "bound": float(len(assignments)),
            "assignments": assignments, "unassigned": unassigned, "shadow_prices": prices,
            "stats": {"wall_seconds": 0.01, "cases": len(instance["cases"])}}


def _haversine(a: dict, b: dict) -> float:
    p1, p2 = math.radians(a["lat"]), math.radians(b["lat"])
    dp, dl = p2 - p1, math.radians(b["lon"] - a["lon"])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def crashing_solver(instance: dict, time_limit: float) -> dict:
    """Dies the way a native crash does: no exception, no answer, the process just ends."""
    os._exit(3)


def crash_on_three_weeks(instance: dict, time_limit: float) -> dict:
    if instance["horizon_weeks"] == 3:
        os.kill(os.getpid(), 11)  # SIGSEGV, as OR-Tools would die
    return greedy_solver(instance, time_limit)


def raising_solver(instance: dict, time_limit: float) -> dict:
    raise RuntimeError("the model could not be built")


def slow_solver(instance: dict, time_limit: float) -> dict:
    time.sleep(60)
    return greedy_solver(instance, time_limit)


def telling_solver(instance: dict, time_limit: float) -> dict:
    """greedy_solver, saying in its stats which process solved it and whether that process may
    have children (the real optimiser forks a pool of them)."""
    import multiprocessing

    solution = greedy_solver(instance, time_limit)
    solution["stats"].update(pid=os.getpid(), daemon=multiprocessing.current_process().daemon)
    return solution


def slow_solver_with_helper(instance: dict, time_limit: float) -> dict:
    """Forks a helper process (as the optimiser's pool does), writes both pids to the file the
    instance names, then sleeps: cancelling must end both."""
    import multiprocessing

    helper = multiprocessing.get_context("fork").Process(target=time.sleep, args=(60,))
    helper.start()
    Path(instance["pid_file"]).write_text(f"{os.getpid()} {helper.pid}")
    time.sleep(60)
    return greedy_solver(instance, time_limit)


def forgetful_solver(instance: dict, time_limit: float) -> dict:
    """Answers only the first case: breaks the contract's 'every case exactly once'."""
    solution = greedy_solver(instance, time_limit)
    solution["assignments"] = solution["assignments"][:1]
    solution["unassigned"] = []
    return solution


def waiting_list(session, n: int = 6) -> dict:
    """The tiny network with n waiting autism cases: 4 intake places a week at CT01, so a
    horizon of 1 week leaves n - 4 on the waitlist. One child born 2020-01-15 among them."""
    net = tiny_network(session)
    net["child"] = create_case(session, person=create_person(session,
                                                             birth_date=date(2020, 1, 15)))
    net["cases"] = [net["child"]] + [create_case(session) for _ in range(n - 1)]
    return net


def solve_here(session, plan_id: int) -> None:
    """What a worker does, minus the child process: claim, build, answer (greedy), store."""
    from rehab_net.planning import adapters
    from rehab_net.planning import operations as ops

    with app_context_of(session):  # as in the worker's app context
        assert ops.claim(session, plan_id)
        plan = ops.reload(session, plan_id)
        built = adapters.build_instance(session, start_date=plan.start_date,
                                        horizon_weeks=plan.horizon_weeks,
                                        policy=plan.parameters["policy"])
        ops.record_instance(session, plan_id, built)
        assert ops.store_results(session, plan_id, built, greedy_solver(built.data, 10), {})
        session.commit()


def sample_subset(directory: Path, persons: int) -> Path:
    """The sample region's whole network (Hulunbuir: 14 districts, 1,474 facilities) with its
    first `persons` persons and their cases: a realistic map that loads and solves in seconds."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("regions.csv", "facilities.csv", "services.csv", "capacities.csv"):
        (directory / name).write_bytes((SAMPLE / name).read_bytes())
    with open(SAMPLE / "persons.csv", encoding="utf-8", newline="") as src, \
            open(directory / "persons.csv", "w", encoding="utf-8", newline="") as out:
        lines = src.readlines()[:persons + 1]
        out.writelines(lines)
    kept = {row["code"] for row in csv.DictReader(lines)}
    with open(SAMPLE / "cases.csv", encoding="utf-8", newline="") as src, \
            open(directory / "cases.csv", "w", encoding="utf-8", newline="") as out:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(out, reader.fieldnames)
        writer.writeheader()
        writer.writerows(r for r in reader if r["person_code"] in kept)
    return directory


def on_redis(app, redis_url: str, session):
    """``app`` queueing plans on the (emptied) Redis at ``redis_url``, with the waiting list
    committed; the app fixture restores REDIS_URL after the test."""
    from redis import Redis

    Redis.from_url(redis_url).flushdb()
    app.config["REDIS_URL"] = redis_url
    waiting_list(session)
    session.commit()
    return app


def run_worker(app, redis_url: str, *args) -> subprocess.CompletedProcess:
    """`rehab-net worker *args` in its own process (as in production) on ``app``'s database."""
    env = {**os.environ, **secrets_env(), "REHAB_DATABASE_URL": app.config["DATABASE_URL"],
           "REHAB_REDIS_URL": redis_url, "REHAB_LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "rehab_net.cli", "worker", *args], env=env,
                          capture_output=True, text=True, timeout=300)
