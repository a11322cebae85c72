"""Quarterly statistics (统计季报)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from rehab_net.openapi import RehabApi


def init_app(app: Flask, api: RehabApi) -> None:
    """The reports' API and pages, the quarterly job, the permissions of their endpoints, and
    the plans they need kept (planning's retention hook)."""
    from rehab_net import access, scheduler
    from rehab_net.planning.retention import add_keeper
    from rehab_net.reports import jobs as report_jobs
    from rehab_net.reports import pages, quarterly, views

    access.declare(app, views.PERMISSIONS)
    access.declare(app, pages.PERMISSIONS)
    api.register_blueprint(views.blp)
    app.register_blueprint(pages.bp)
    scheduler.register(report_jobs.QUARTERLY)
    # Plan retention never deletes a plan a report cites or would read.
    add_keeper("quarterly reports", quarterly.plans_in_use)
