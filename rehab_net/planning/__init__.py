"""Plans: one optimiser run over the live database. The instance is built from the network and the
waiting cases (adapters.py), solved outside the web request by a worker (worker.py), and the
proposals stored so they can be browsed and, later, turned into referrals and bookings."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from rehab_net.openapi import RehabApi


def init_app(app: Flask, api: RehabApi) -> None:
    """The plans' API and pages, the scenario pages, the policy page, the permissions of their
    endpoints, the commands `rehab-net plan|plans|export-instance|solve` (planning/cli.py;
    `rehab-net worker` is rehab_net/cli.py's) and the jobs that re-queue lost plans and delete
    old ones (jobs.py)."""
    from rehab_net import access, scheduler
    from rehab_net.planning import cli, jobs, pages, plan_pages, policy_pages, views

    access.declare(app, views.PERMISSIONS)
    access.declare(app, plan_pages.PERMISSIONS)
    access.declare(app, pages.PERMISSIONS)
    access.declare(app, policy_pages.PERMISSIONS)
    api.register_blueprint(views.blp)
    app.register_blueprint(plan_pages.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(policy_pages.bp)
    app.register_blueprint(pages.proposal_bp)
    for command in cli.COMMANDS:
        app.cli.add_command(command)
    for job in jobs.JOBS:
        scheduler.register(job)
