"""The RQ job of a plan: an app-edge module, since it may build the app. planning/queue.py
enqueues it by its path, JOB_FUNCTION.

`rehab-net worker` runs RQ's SimpleWorker: the jobs run one after another in the worker's own
process, with the command's app and one resident optimiser child (planning/optimiser_child.py)
for all of them, as the database-queue worker does (`serve_jobs_here`). Under RQ's forking
Worker (`rq worker`), each job builds an app in its work horse and solves in a child of its own
(slower, and as correct)."""
from __future__ import annotations

from flask import Flask

from rehab_net import create_app
from rehab_net.planning.optimiser_child import ResidentOptimiser
from rehab_net.planning.worker import run_queued_plan, warm_the_optimiser

_APP: Flask | None = None
_OPTIMISER: ResidentOptimiser | None = None


def serve_jobs_here(app: Flask, warm: bool = False) -> None:
    """`rehab-net worker`, before its first job: the jobs of this process use ``app`` and one
    resident optimiser, started now (the solver loaded before a plan arrives); with ``warm``
    (a worker that waits for plans) it solves the live network once first
    (worker.warm_the_optimiser)."""
    global _APP, _OPTIMISER
    _APP, _OPTIMISER = app, ResidentOptimiser()
    _OPTIMISER.start()
    if warm:
        warm_the_optimiser(app, _OPTIMISER)


def run_plan_job(plan_id: int) -> str:
    """The RQ job: takes the plan id only."""
    if _OPTIMISER is not None and _OPTIMISER.owned_here():
        return run_queued_plan(_APP, plan_id, optimiser=_OPTIMISER)
    app = create_app()  # a work horse: an engine of its own, never its parent's connections
    try:
        return run_queued_plan(app, plan_id)
    finally:
        app.extensions["rehab_engine"].dispose()
