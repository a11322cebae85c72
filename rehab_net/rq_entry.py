"""The RQ job of a plan: an app-edge module, since it builds the app (the job runs in RQ's work
horse, not under `rehab-net`). planning/queue.py enqueues it by its path, JOB_FUNCTION."""
from __future__ import annotations

from rehab_net import create_app
from rehab_net.planning.worker import run_queued_plan


def run_plan_job(plan_id: int) -> str:
    """The RQ job: takes the plan id only, builds its own app from the environment (RQ's work
    horse is a fork of the worker; a fresh engine avoids sharing its connections)."""
    app = create_app()
    try:
        return run_queued_plan(app, plan_id)
    finally:
        app.extensions["rehab_engine"].dispose()
