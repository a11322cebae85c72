"""Running plans outside the web request.

A plan runs in three steps, each with its own short transaction, so no lock is held while the
optimiser thinks: build the instance from the live database (and record its size and
fingerprint), solve it in a child process (optimiser_child.py: a crash there ends only the
child; the worker's loop keeps one resident child between plans), store the results and commit
once.

`work()` is the loop of `rehab-net worker` without Redis; `run_queued_plan()` is what the RQ job
(rehab_net/rq_entry.py) runs."""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from rehab_net.db import get_session, transactional
from rehab_net.messages import Message, message
from rehab_net.planning import adapters
from rehab_net.planning import operations as ops
from rehab_net.planning.changes import ChangeError
from rehab_net.planning.changes import apply as apply_changes
from rehab_net.planning.optimiser_child import (
    ChildOutcome,
    ResidentOptimiser,
    Target,
    describe_exception,
    run_in_child,
    solve_in_child,
)

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0
REAP_SECONDS = 60.0


# --- one plan -----------------------------------------------------------------------------------
@dataclass
class _Progress:
    """The worker's side of a running plan: heartbeats and the cancel flag, read every tick."""

    app: Flask
    plan_id: int
    last_beat: float = field(default_factory=time.monotonic)

    def should_stop(self) -> bool:
        with self.app.app_context(), transactional() as session:
            if time.monotonic() - self.last_beat >= HEARTBEAT_SECONDS:
                ops.heartbeat(session, self.plan_id)
                self.last_beat = time.monotonic()
            return ops.cancel_requested(session, self.plan_id)


def hard_limit(time_limit: float) -> float:
    """When the worker stops waiting: the solver's own limit plus room for reading the instance
    and writing the answer (a 100,000-case instance takes seconds to parse)."""
    return time_limit * 1.5 + 120


def run_claimed_plan(app: Flask, plan_id: int, *, target: Target = solve_in_child,
                     optimiser: ResidentOptimiser | None = None) -> str:
    """Build, solve and store a plan this worker has claimed (status running). Returns the final
    status. Never raises for the plan's own failures: they are written to the plan. The solve
    runs in `optimiser` (a worker's resident child) or else in a child of its own."""
    try:
        prepared = _build(app, plan_id)
        if prepared is None:
            return "error"
        built, time_limit, build_seconds = prepared
        spec = _scaleup_spec(app, plan_id)
        if spec is not None:
            return _run_scaleup(app, plan_id, built, spec)
        run = optimiser.run if optimiser is not None else run_in_child
        outcome = run(built.data, time_limit, target=target,
                      should_stop=_Progress(app, plan_id).should_stop,
                      hard_limit=hard_limit(time_limit))
        return _finish(app, plan_id, built, outcome, {"build_seconds": round(build_seconds, 3)})
    except Exception:  # a bug of ours: the plan says so, and the worker goes on
        log.exception("plan %s: unexpected error in the worker", plan_id)
        _give_up(app, plan_id, message("plan.worker_error"))
        return "error"
    except BaseException:  # Ctrl-C, SIGTERM: the child is gone already (run_in_child)
        _give_up(app, plan_id, message("plan.worker_stopped"))
        raise


def _scaleup_spec(app: Flask, plan_id: int) -> dict | None:
    with app.app_context():
        return ops.reload(get_session(), plan_id).parameters.get("scaleup")


def _run_scaleup(app: Flask, plan_id: int, built: adapters.BuiltInstance, spec: dict) -> str:
    """A scale-up sweep: many exact solves of one service, in a process pool of this worker
    (not in the daemonic optimiser child, which may not have children); a native crash breaks
    only the pool, and the plan says so."""
    from concurrent.futures.process import BrokenProcessPool

    from rehab_net.planning import scaleup

    started = time.perf_counter()
    with app.app_context():
        session = get_session()
        if spec["kind"] == "open_station":
            candidates = scaleup.candidates_open_station(spec["service"], spec["places"],
                                                         adapters.township_points(session))
        else:
            sub = scaleup.sub_instance(built.data, spec["service"])
            candidates = scaleup.candidates_add_places(sub, spec["service"], spec["places"])

    def progress(done: int, total: int) -> None:
        with app.app_context(), transactional() as s:
            ops.heartbeat(s, plan_id)
            ops.record_progress(s, plan_id, done, total)

    from solver.io import InstanceError

    try:
        result = scaleup.rank(built.data, spec["service"], candidates, progress=progress)
    except (BrokenProcessPool, MemoryError) as exc:
        _give_up(app, plan_id, message("plan.sweep_failed", error=type(exc).__name__))
        return "error"
    except InstanceError as exc:  # e.g. weights too large for the optimiser: say which
        _give_up(app, plan_id, describe_exception(exc))
        return "error"
    with app.app_context():
        with transactional() as session:
            ops.finish_scaleup(session, plan_id, result, time.perf_counter() - started)
        return ops.reload(session, plan_id).status


def _give_up(app: Flask, plan_id: int, why: Message) -> None:
    with app.app_context(), transactional() as session:
        ops.fail(session, plan_id, why)


def _build(app: Flask, plan_id: int):
    with app.app_context():
        session = get_session()
        plan = ops.reload(session, plan_id)
        started = time.perf_counter()
        try:
            built = adapters.build_instance(session, start_date=plan.start_date,
                                            horizon_weeks=plan.horizon_weeks,
                                            policy=plan.parameters["policy"])
            adapters.describe_for_kpis(session, built)
            if plan.parameters.get("changes") is not None:  # a scenario: the what-if edits
                built.data, built.case_attrs = apply_changes(
                    built.data, plan.parameters["changes"], built.case_attrs)
                built.scenario = True
                for f in built.data["facilities"]:
                    built.facility_districts.setdefault(f["id"], None)
        except ChangeError as exc:
            session.rollback()
            with transactional(session):
                ops.fail(session, plan_id, message("plan.scenario_misfit", error=str(exc)))
            return None
        except Exception as exc:
            log.exception("plan %s: building the instance failed", plan_id)
            session.rollback()
            with transactional(session):
                ops.fail(session, plan_id, message("plan.build_failed",
                                                   error=type(exc).__name__))
            return None
        with transactional(session):  # the reads above and the instance's stats: one transaction
            ops.record_instance(session, plan_id, built)
        return built, float(plan.parameters["time_limit"]), time.perf_counter() - started


def _finish(app: Flask, plan_id: int, built: adapters.BuiltInstance, outcome: ChildOutcome,
            stats: dict) -> str:
    stats["run_seconds"] = round(outcome.seconds, 3)
    with app.app_context():
        with transactional() as session:
            if outcome.kind == "cancelled":
                ops.mark_cancelled(session, plan_id)
            elif outcome.kind != "ok":
                ops.fail(session, plan_id, outcome.message, stats=stats)
            elif outcome.solution.get("status") not in ("optimal", "feasible"):
                said = outcome.solution.get("message")
                ops.fail(session, plan_id, message("plan.optimiser_said", detail=said) if said
                         else message("plan.optimiser_error"), stats=stats)
            else:
                _store(session, plan_id, built, outcome.solution, stats)
        return ops.reload(session, plan_id).status


def _store(session, plan_id: int, built: adapters.BuiltInstance, solution: dict,
           stats: dict) -> None:
    started = time.perf_counter()
    try:
        stored = ops.store_results(session, plan_id, built, solution,
                                   {**stats, "solver": solution.get("stats") or {}})
    except (adapters.SolutionMismatch, KeyError, TypeError, ValueError) as exc:
        session.rollback()
        ops.fail(session, plan_id, message("plan.answer_misfit", error=str(exc)), stats=stats)
        return
    if stored:
        log.info("plan %s: stored %d proposals in %.2f s", plan_id, len(built.cases),
                 time.perf_counter() - started)


# --- the loops ----------------------------------------------------------------------------------
def claim_next(app: Flask) -> int | None:
    with app.app_context(), transactional() as session:
        return ops.claim_next(session)


def fail_stale_plans(app: Flask) -> int:
    with app.app_context(), transactional() as session:
        return ops.fail_stale_plans(session)


def work(app: Flask, *, once: bool = False, burst: bool = False, poll_seconds: float = 2.0,
         target: Target = solve_in_child,
         parent_pid: int | None = None, report: Callable[[str], None] = log.info) -> int:
    """The database-queue worker: claim the oldest queued plan, run it, repeat. `once` stops
    after one plan (or none), `burst` when the queue is empty; otherwise it polls for ever (or
    until parent_pid, the process that started it, is gone). Returns how many plans it ran.
    One resident optimiser child serves all its plans (started now, so the first plan does not
    wait for it to load)."""
    optimiser = ResidentOptimiser()
    optimiser.start()
    try:
        return _work(app, optimiser, once=once, burst=burst, poll_seconds=poll_seconds,
                     target=target, parent_pid=parent_pid, report=report)
    finally:
        optimiser.close()


def warm_the_optimiser(app: Flask, optimiser: ResidentOptimiser) -> bool:
    """Solve the live network's default plan (next Monday, the default horizon, the policy in
    force: what `POST /plans` without fields asks for) once in the resident child, storing
    nothing: the child keeps each service's result and network (solver.solve.ServiceMemo), so
    the first plan a user asks for is a re-plan (1.4 s instead of 2.3 s from claim to stored
    results on the sample). It gives way as soon as a plan is queued (a large network's solve
    must not keep a user waiting: the child is ended and the plan gets a new one). Whether it
    solved; a failure is only logged (the plan a user asks for reports its own)."""
    from rehab_net.clock import today

    try:
        with app.app_context():
            session = get_session()
            start, horizon_weeks, policy = ops.plan_request(session, {}, today=today())
            built = adapters.build_instance(session, start_date=start,
                                            horizon_weeks=horizon_weeks, policy=policy)
            session.rollback()
            time_limit = float(app.config["PLAN_TIME_LIMIT"])
    except Exception:  # the database may not be migrated yet, or be away
        log.warning("worker: could not build the live network's instance to warm the optimiser",
                    exc_info=True)
        return False
    if not built.data["cases"]:
        return False
    def a_plan_waits() -> bool:
        with app.app_context():
            return ops.any_queued(get_session())

    if a_plan_waits():  # a plan is there already: it warms the optimiser itself
        return False
    outcome = optimiser.run(built.data, time_limit, should_stop=a_plan_waits,
                            tick_seconds=float(app.config["WORKER_POLL_SECONDS"]))
    if outcome.kind == "cancelled":
        log.info("worker: a plan is waiting; warming the optimiser stopped")
    elif outcome.kind != "ok":
        log.warning("worker: warming the optimiser ended %s", outcome.kind)
    return outcome.kind == "ok"


def _work(app: Flask, optimiser: ResidentOptimiser, *, once: bool, burst: bool,
          poll_seconds: float, target: Target, parent_pid: int | None,
          report: Callable[[str], None]) -> int:
    if not (once or burst) and target is solve_in_child:
        # A worker that waits for plans solves the live network first, so that the first plan
        # asked for is a re-plan (a one-off worker has nothing to gain from it).
        started = time.monotonic()
        if warm_the_optimiser(app, optimiser):
            report(f"optimiser warmed with the live network in {time.monotonic() - started:.1f} s")
    ran, last_reap = 0, float("-inf")
    while True:
        try:
            if time.monotonic() - last_reap >= REAP_SECONDS:
                if stale := fail_stale_plans(app):
                    report(f"marked {stale} plan(s) of a lost worker as error")
                last_reap = time.monotonic()
            plan_id = claim_next(app)
        except SQLAlchemyError as exc:  # the database is away (restart, network): wait, retry
            if once or burst:
                raise
            log.warning("worker: database unavailable (%s); retrying", type(exc).__name__)
            time.sleep(max(poll_seconds, 5.0))
            continue
        if plan_id is None:
            if once or burst or (parent_pid is not None and os.getppid() != parent_pid):
                return ran
            time.sleep(poll_seconds)
            continue
        report(f"plan {plan_id}: running")
        started = time.monotonic()
        status = run_claimed_plan(app, plan_id, target=target, optimiser=optimiser)
        report(f"plan {plan_id}: {status} after {time.monotonic() - started:.1f} s")
        ran += 1
        if once:
            return ran


def run_queued_plan(app: Flask, plan_id: int, *, optimiser: ResidentOptimiser | None = None) -> str:
    """What the RQ job does (rehab_net/rq_entry.py builds the app): claim the plan and run it."""
    fail_stale_plans(app)
    with app.app_context(), transactional() as session:
        claimed = ops.claim(session, plan_id)
    if not claimed:  # cancelled while queued, or run already (e.g. --inline)
        return "skipped: the plan was no longer queued"
    return run_claimed_plan(app, plan_id, optimiser=optimiser)
