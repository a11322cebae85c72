"""The RQ job of a plan: an app-edge module, since it builds the app (the job does not run
under the `rehab-net` command's app). planning/queue.py enqueues it by its path, JOB_FUNCTION.

`rehab-net worker` runs RQ's SimpleWorker: the jobs run one after another in the worker's own
process, which keeps one app (its connection pool) and one resident optimiser child
(planning/optimiser_child.py) for all of them, as the database-queue worker does. Run under
RQ's forking Worker instead, each job builds its app in its work horse and solves in a child of
its own (slower, and as correct)."""
from __future__ import annotations

import os

from flask import Flask

from rehab_net import create_app
from rehab_net.planning.optimiser_child import ResidentOptimiser
from rehab_net.planning.worker import run_queued_plan

_APPS: dict[int, Flask] = {}  # by process id: a forked work horse never uses its parent's
_OPTIMISER: ResidentOptimiser | None = None


def start_optimiser() -> None:
    """Start this process's resident optimiser now (`rehab-net worker`, before its first job)."""
    global _OPTIMISER
    if _OPTIMISER is None or not _OPTIMISER.owned_here():
        _OPTIMISER = ResidentOptimiser()
    _OPTIMISER.start()


def run_plan_job(plan_id: int) -> str:
    """The RQ job: takes the plan id only; the app is built from the environment, once per
    process."""
    app = _APPS.get(os.getpid())
    if app is None:
        app = _APPS[os.getpid()] = create_app()
    optimiser = _OPTIMISER if _OPTIMISER is not None and _OPTIMISER.owned_here() else None
    return run_queued_plan(app, plan_id, optimiser=optimiser)
